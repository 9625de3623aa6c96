#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xl/client.h"
#include "xl/ini.h"

void
xl_ini_note(struct xl_ini *p, const char *fmt, ...)
{
    va_list ap;

    if (!p->failed) {
        va_start(ap, fmt);
        vsnprintf(p->msg, sizeof p->msg, fmt, ap);
        va_end(ap);
        p->failed = 1;
    }
}

int
xl_ini_copy(struct xl_ini *p, char *dst, size_t cap, const char *name, const char *v)
{
    if (strlen(v) >= cap)
        return xl_ini_fail(p, "%s is too long", name);
    memcpy(dst, v, strlen(v) + 1);
    return 1;
}

int
xl_ini_endpoint(struct xl_ini *p, char *dst, size_t cap, const char *v, int bind)
{
    char why[XL_ERRBUF];

    if (xl_endpoint_check(v, bind, why, sizeof why) != 0)
        return xl_ini_fail(p, "%s", why);
    return xl_ini_copy(p, dst, cap, "endpoint", v);
}

int
xl_ini_path(struct xl_ini *p, char *dst, size_t cap, const char *name, const char *v)
{
    int n;

    if (v[0] == '\0')
        return xl_ini_fail(p, "%s is empty", name);
    if (v[0] == '/' || p->dir[0] == '\0')
        n = snprintf(dst, cap, "%s", v);
    else
        n = snprintf(dst, cap, "%s/%s", p->dir, v);
    if (n < 0 || (size_t)n >= cap)
        return xl_ini_fail(p, "%s: path too long", name);
    return 1;
}

static int
s_result(int line, const char *name, const struct xl_ini *p, char *err, size_t errlen)
{
    if (line < 0)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: out of memory", name);
    if (line > 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: %s", name, line,
                          p->failed ? p->msg
                                    : "malformed line (expected key = value or [section])");
    return 0;
}

int
xl_ini_parse_file(const char *path, const char *what, ini_handler h, void *user, char *err,
                  size_t errlen)
{
    struct xl_ini *p = user;
    char tmp[XL_INI_PATH_MAX];
    FILE *f;
    int line;

    if (strlen(path) >= sizeof tmp)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", path);
    memcpy(tmp, path, strlen(path) + 1);
    snprintf(p->dir, sizeof p->dir, "%s", dirname(tmp));
    f = fopen(path, "re");
    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open %s: %s", path, what, strerror(errno));
    line = ini_parse_file(f, h, user);
    fclose(f);
    return s_result(line, path, p, err, errlen);
}

int
xl_ini_parse_string(const char *text, const char *name, ini_handler h, void *user, char *err,
                    size_t errlen)
{
    struct xl_ini *p = user;

    p->dir[0] = '\0';
    return s_result(ini_parse_string(text, h, user), name, p, err, errlen);
}
