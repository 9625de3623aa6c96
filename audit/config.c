#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xl/err.h"
#include "xl/ini.h"

struct s_parse {
    struct xl_ini ini; /* first: the shared INI state */
    struct audit_config *c;
    unsigned seen;
};

static const struct {
    const char *name;
    size_t off;
} s_paths[] = {
    {"server_public", offsetof(struct audit_config, server_key_path)},
    {"sign_public", offsetof(struct audit_config, sign_key_path)},
    {"public", offsetof(struct audit_config, public_path)},
    {"secret", offsetof(struct audit_config, secret_path)},
    {"store", offsetof(struct audit_config, store_dir)},
};
#define S_NPATHS   (sizeof s_paths / sizeof s_paths[0])
#define S_ENDPOINT (1u << S_NPATHS)
#define S_TIMEOUT  (1u << (S_NPATHS + 1))

/* Marks key bit as seen; a key given twice is refused (the second would
 * silently win, and an auditor's key or store is not a thing to guess). */
static int
s_once(struct s_parse *p, unsigned bit, const char *name)
{
    if (p->seen & bit)
        return xl_ini_fail(&p->ini, "%s is given twice", name);
    p->seen |= bit;
    return 1;
}

static int
s_handler(void *user, const char *section, const char *name, const char *v)
{
    struct s_parse *p = user;
    struct audit_config *c = p->c;

    if (strcmp(section, "audit") != 0)
        return xl_ini_fail(&p->ini, "unknown section [%.40s] (only [audit] is read)", section);
    if (strcmp(name, "endpoint") == 0) {
        if (!s_once(p, S_ENDPOINT, name))
            return 0;
        return xl_ini_endpoint(&p->ini, c->endpoint, sizeof c->endpoint, v, 0);
    }
    if (strcmp(name, "timeout") == 0) {
        char *end;
        if (!s_once(p, S_TIMEOUT, name))
            return 0;
        errno = 0;
        c->timeout = strtod(v, &end);
        if (errno != 0 || end == v || *end != '\0' || !(c->timeout >= 1 && c->timeout <= 3600))
            return xl_ini_fail(&p->ini, "timeout is a number of seconds from 1 to 3600");
        return 1;
    }
    for (size_t i = 0; i < S_NPATHS; i++) {
        if (strcmp(name, s_paths[i].name) == 0) {
            if (!s_once(p, 1u << i, name))
                return 0;
            return xl_ini_path(&p->ini, (char *)c + s_paths[i].off, AUDIT_PATH_MAX, name, v);
        }
    }
    return xl_ini_fail(&p->ini, "unknown key '%.40s' in [audit]", name);
}

int
audit_config_load(const char *path, struct audit_config *c, char *err, size_t errlen)
{
    struct s_parse p = {.c = c};
    int r;

    memset(c, 0, sizeof *c);
    c->timeout = 30;
    if (strlen(path) >= sizeof c->path)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", path);
    snprintf(c->path, sizeof c->path, "%s", path);
    r = xl_ini_parse_file(path, "the audit configuration", s_handler, &p, err, errlen);
    if (r != 0)
        return r;
    if (!(p.seen & S_ENDPOINT))
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [audit] endpoint is required", path);
    for (size_t i = 0; i < S_NPATHS; i++) {
        if (!(p.seen & (1u << i)))
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [audit] %s is required", path,
                              s_paths[i].name);
    }
    return 0;
}
