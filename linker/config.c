#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "xl/err.h"

/* Required keys, one bit each, so a missing one is named in the error. */
enum {
    S_ENDPOINT = 1u << 0,
    S_SERVER_KEY = 1u << 1,
    S_SIGN_KEY = 1u << 2,
    S_KEYRING = 1u << 3,
    S_SPEC = 1u << 4,
    S_EPOCH = 1u << 5,
    S_SECRET_CHECK = 1u << 6,
    S_DATABASE = 1u << 7,
    S_AUDIT_LOG = 1u << 8
};

static const struct {
    unsigned bit;
    const char *name;
} s_required[] = {
    {S_ENDPOINT, "endpoint"},
    {S_SERVER_KEY, "server_key"},
    {S_SIGN_KEY, "sign_key"},
    {S_KEYRING, "keyring"},
    {S_SPEC, "spec"},
    {S_EPOCH, "epoch"},
    {S_SECRET_CHECK, "secret_check"},
    {S_DATABASE, "database"},
    {S_AUDIT_LOG, "audit_log"},
};

struct s_parse {
    char dir[LINKER_PATH_MAX];
    char msg[XL_ERRBUF];
    int failed;
    unsigned seen;
    struct linker_config *c;
};

static int s_fail(struct s_parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
s_fail(struct s_parse *p, const char *fmt, ...)
{
    va_list ap;

    if (!p->failed) {
        va_start(ap, fmt);
        vsnprintf(p->msg, sizeof p->msg, fmt, ap);
        va_end(ap);
        p->failed = 1;
    }
    return 0;
}

/* A path relative to the directory of the configuration file. */
static int
s_path(struct s_parse *p, char *dst, const char *name, const char *v)
{
    int n;

    if (v[0] == '\0')
        return s_fail(p, "%s is empty", name);
    if (v[0] == '/')
        n = snprintf(dst, LINKER_PATH_MAX, "%s", v);
    else
        n = snprintf(dst, LINKER_PATH_MAX, "%s/%s", p->dir, v);
    if (n < 0 || n >= LINKER_PATH_MAX)
        return s_fail(p, "%s: path too long", name);
    return 1;
}

static int
s_uint(struct s_parse *p, const char *name, const char *v, unsigned long long lo,
       unsigned long long hi, unsigned long long *out)
{
    unsigned long long n;
    char *end;

    errno = 0;
    if (v[0] < '0' || v[0] > '9')
        return s_fail(p, "%s must be a whole number from %llu to %llu", name, lo, hi);
    n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi)
        return s_fail(p, "%s must be a whole number from %llu to %llu", name, lo, hi);
    *out = n;
    return 1;
}

/* An endpoint the ROUTER can bind: tcp:// or ipc://, nothing else (inproc would
 * be unreachable and other transports are not offered). */
static int
s_endpoint(struct s_parse *p, const char *v)
{
    struct linker_config *c = p->c;

    if (strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0)
        return s_fail(p, "endpoint must start with tcp:// or ipc://");
    if (v[6] == '\0')
        return s_fail(p, "endpoint has no address after the transport");
    if (strlen(v) >= sizeof c->endpoint)
        return s_fail(p, "endpoint is too long");
    snprintf(c->endpoint, sizeof c->endpoint, "%s", v);
    return 1;
}

static int
s_handler(void *user, const char *section, const char *name, const char *v)
{
    struct s_parse *p = user;
    struct linker_config *c = p->c;
    unsigned long long n;

    if (strcmp(section, "linker") != 0)
        return s_fail(p, "unknown section [%s] (only [linker] is read)", section);
    if (strcmp(name, "endpoint") == 0) {
        p->seen |= S_ENDPOINT;
        return s_endpoint(p, v);
    }
    if (strcmp(name, "server_key") == 0) {
        p->seen |= S_SERVER_KEY;
        return s_path(p, c->server_key_path, name, v);
    }
    if (strcmp(name, "sign_key") == 0) {
        p->seen |= S_SIGN_KEY;
        return s_path(p, c->sign_key_path, name, v);
    }
    if (strcmp(name, "keyring") == 0) {
        p->seen |= S_KEYRING;
        return s_path(p, c->keyring_path, name, v);
    }
    if (strcmp(name, "spec") == 0) {
        p->seen |= S_SPEC;
        return s_path(p, c->spec_path, name, v);
    }
    if (strcmp(name, "database") == 0) {
        p->seen |= S_DATABASE;
        return s_path(p, c->database_path, name, v);
    }
    if (strcmp(name, "audit_log") == 0) {
        p->seen |= S_AUDIT_LOG;
        return s_path(p, c->audit_path, name, v);
    }
    if (strcmp(name, "epoch") == 0) {
        p->seen |= S_EPOCH;
        if (!s_uint(p, name, v, 1, UINT32_MAX, &n))
            return 0;
        c->epoch = (uint32_t)n;
        return 1;
    }
    if (strcmp(name, "secret_check") == 0) {
        p->seen |= S_SECRET_CHECK;
        if (strlen(v) != 2 * XL_CHECK_BYTES || xl_unhex(v, c->secret_check, XL_CHECK_BYTES) != 0)
            return s_fail(p,
                          "secret_check must be %d hex digits (the check value "
                          "'crosslink-keys show' prints for the linkage secret)",
                          2 * XL_CHECK_BYTES);
        return 1;
    }
    if (strcmp(name, "max_message") == 0) {
        if (!s_uint(p, name, v, LINKER_MAX_MESSAGE_MIN, LINKER_MAX_MESSAGE_MAX, &n))
            return 0;
        c->max_message = (size_t)n;
        return 1;
    }
    if (strcmp(name, "max_chunk_records") == 0) {
        if (!s_uint(p, name, v, 1, LINKER_MAX_CHUNK_MAX, &n))
            return 0;
        c->max_chunk_records = (uint32_t)n;
        return 1;
    }
    if (strcmp(name, "credit") == 0) {
        if (!s_uint(p, name, v, 1, LINKER_CREDIT_MAX, &n))
            return 0;
        c->credit = (uint32_t)n;
        return 1;
    }
    return s_fail(p, "unknown key '%.40s' in [linker]", name);
}

int
linker_config_load(const char *path, struct linker_config *c, char *err, size_t errlen)
{
    struct s_parse p = {.c = c};
    char tmp[LINKER_PATH_MAX];
    FILE *f;
    int line;

    memset(c, 0, sizeof *c);
    c->max_message = LINKER_MAX_MESSAGE_DEFAULT;
    c->max_chunk_records = LINKER_MAX_CHUNK_DEFAULT;
    c->credit = LINKER_CREDIT_DEFAULT;
    if (strlen(path) >= sizeof tmp)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", path);
    snprintf(c->path, sizeof c->path, "%s", path);
    strcpy(tmp, path);
    snprintf(p.dir, sizeof p.dir, "%s", dirname(tmp));
    f = fopen(path, "re");
    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open the linker configuration: %s", path, strerror(errno));
    line = ini_parse_file(f, s_handler, &p);
    fclose(f);
    if (line < 0)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: out of memory", path);
    if (line > 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: %s", path, line,
                          p.failed ? p.msg : "malformed line (expected key = value or [section])");
    for (size_t i = 0; i < sizeof s_required / sizeof s_required[0]; i++) {
        if (!(p.seen & s_required[i].bit))
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [linker] %s is required", path,
                              s_required[i].name);
    }
    return 0;
}
