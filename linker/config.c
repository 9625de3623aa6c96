#include <errno.h>
#include <stddef.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "parallel.h"
#include "xl/cli.h"
#include "xl/err.h"
#include "xl/ini.h"

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

/* The optional numbers: each key's range and the field it sets. */
enum s_type { S_SIZE, S_U32, S_UNSIGNED, S_SECONDS };
struct s_number {
    const char *name;
    unsigned long long lo, hi;
    size_t off;
    enum s_type type;
};
#define S_AT(field) offsetof(struct linker_config, field)
static const struct s_number s_numbers[] = {
    {"max_message", LINKER_MAX_MESSAGE_MIN, LINKER_MAX_MESSAGE_MAX, S_AT(max_message), S_SIZE},
    {"max_chunk_records", 1, LINKER_MAX_CHUNK_MAX, S_AT(max_chunk_records), S_U32},
    {"credit", 1, LINKER_CREDIT_MAX, S_AT(credit), S_U32},
    {"max_connections", 1, LINKER_CONNECTIONS_MAX, S_AT(max_connections), S_UNSIGNED},
    {"max_unauthenticated", 1, LINKER_CONNECTIONS_MAX, S_AT(max_unauthenticated), S_UNSIGNED},
    {"max_connections_per_key", 1, LINKER_CONNECTIONS_MAX, S_AT(max_per_key), S_UNSIGNED},
    {"idle_timeout", 1, 86400, S_AT(idle_timeout), S_SECONDS},
    {"handshake_timeout", 1, 600, S_AT(handshake_timeout), S_SECONDS},
    {"link_threads", 0, LINKER_MAX_THREADS, S_AT(link_threads), S_UNSIGNED},
};

static void
s_set_number(struct linker_config *c, const struct s_number *k, unsigned long long n)
{
    char *field = (char *)c + k->off;

    switch (k->type) {
    case S_SIZE: *(size_t *)(void *)field = (size_t)n; break;
    case S_U32: *(uint32_t *)(void *)field = (uint32_t)n; break;
    case S_UNSIGNED: *(unsigned *)(void *)field = (unsigned)n; break;
    case S_SECONDS: *(double *)(void *)field = (double)n; break;
    }
}

struct s_parse {
    struct xl_ini ini; /* first: the shared INI state (xl/ini.h) */
    unsigned seen;
    struct linker_config *c;
};

static int
s_uint(struct s_parse *p, const char *name, const char *v, unsigned long long lo,
       unsigned long long hi, unsigned long long *out)
{
    unsigned long long n;
    char *end;

    errno = 0;
    if (v[0] < '0' || v[0] > '9')
        return xl_ini_fail(&p->ini, "%s must be a whole number from %llu to %llu", name, lo, hi);
    n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi)
        return xl_ini_fail(&p->ini, "%s must be a whole number from %llu to %llu", name, lo, hi);
    *out = n;
    return 1;
}

static int
s_handler(void *user, const char *section, const char *name, const char *v)
{
    struct s_parse *p = user;
    struct linker_config *c = p->c;
    unsigned long long n;

    if (strcmp(section, "linker") != 0)
        return xl_ini_fail(&p->ini, "unknown section [%s] (only [linker] is read)", section);
    if (strcmp(name, "endpoint") == 0) {
        p->seen |= S_ENDPOINT;
        return xl_ini_endpoint(&p->ini, c->endpoint, sizeof c->endpoint, v, 1);
    }
    if (strcmp(name, "server_key") == 0) {
        p->seen |= S_SERVER_KEY;
        return xl_ini_path(&p->ini, c->server_key_path, LINKER_PATH_MAX, name, v);
    }
    if (strcmp(name, "sign_key") == 0) {
        p->seen |= S_SIGN_KEY;
        return xl_ini_path(&p->ini, c->sign_key_path, LINKER_PATH_MAX, name, v);
    }
    if (strcmp(name, "keyring") == 0) {
        p->seen |= S_KEYRING;
        return xl_ini_path(&p->ini, c->keyring_path, LINKER_PATH_MAX, name, v);
    }
    if (strcmp(name, "projects") == 0)
        return xl_ini_path(&p->ini, c->projects_path, LINKER_PATH_MAX, name, v);
    if (strcmp(name, "pseudonym_key") == 0)
        return xl_ini_path(&p->ini, c->pseudonym_key_path, LINKER_PATH_MAX, name, v);
    if (strcmp(name, "spec") == 0) {
        p->seen |= S_SPEC;
        return xl_ini_path(&p->ini, c->spec_path, LINKER_PATH_MAX, name, v);
    }
    if (strcmp(name, "database") == 0) {
        p->seen |= S_DATABASE;
        return xl_ini_path(&p->ini, c->database_path, LINKER_PATH_MAX, name, v);
    }
    if (strcmp(name, "audit_log") == 0) {
        p->seen |= S_AUDIT_LOG;
        return xl_ini_path(&p->ini, c->audit_path, LINKER_PATH_MAX, name, v);
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
            return xl_ini_fail(&p->ini,
                               "secret_check must be %d hex digits (the check value "
                               "'crosslink-keys show' prints for the linkage secret)",
                               2 * XL_CHECK_BYTES);
        /* The example's zeros: a linker started with them refuses every
         * submission ("linkage secret differs"), so it is refused here. */
        if (strspn(v, "0") == strlen(v))
            return xl_ini_fail(&p->ini,
                               "secret_check is still the example's placeholder: set it to the "
                               "check value the key custodian published for this epoch "
                               "(crosslink-keys show linkage-eN.secret prints it at the "
                               "custodian's; so do init, rotate and bundle)");
        return 1;
    }
    if (strcmp(name, "retention") == 0) {
        if (strcmp(v, "off") == 0) {
            c->retention = 0;
            return 1;
        }
        c->retention = xl_duration_parse(v, 3650 * 86400.0);
        if (c->retention < 0)
            return xl_ini_fail(&p->ini, "retention must be a duration such as 90d, 12h or 30m "
                                        "(at most 3650d), or off");
        return 1;
    }
    for (size_t i = 0; i < sizeof s_numbers / sizeof s_numbers[0]; i++) {
        if (strcmp(name, s_numbers[i].name) == 0) {
            if (!s_uint(p, name, v, s_numbers[i].lo, s_numbers[i].hi, &n))
                return 0;
            s_set_number(c, &s_numbers[i], n);
            return 1;
        }
    }
    return xl_ini_fail(&p->ini, "unknown key '%.40s' in [linker]", name);
}

/* out = the directory of path, then name. */
static int
s_beside(const char *path, const char *name, char out[LINKER_PATH_MAX])
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash != NULL ? (int)(slash - path) : 1;
    int n = snprintf(out, LINKER_PATH_MAX, "%.*s/%s", dirlen, slash != NULL ? path : ".", name);

    return n < 0 || n >= LINKER_PATH_MAX ? -1 : 0;
}

size_t
linker_config_frame_max(const struct linker_config *c)
{
    return c->max_message + LINKER_FRAME_MARGIN;
}

int
linker_config_load(const char *path, struct linker_config *c, char *err, size_t errlen)
{
    struct s_parse p = {.c = c};
    int r;

    memset(c, 0, sizeof *c);
    c->max_message = LINKER_MAX_MESSAGE_DEFAULT;
    c->max_chunk_records = LINKER_MAX_CHUNK_DEFAULT;
    c->credit = LINKER_CREDIT_DEFAULT;
    c->max_connections = LINKER_CONNECTIONS_DEFAULT;
    c->max_unauthenticated = LINKER_UNAUTH_DEFAULT;
    c->max_per_key = LINKER_PER_KEY_DEFAULT;
    c->idle_timeout = LINKER_IDLE_DEFAULT;
    c->retention = LINKER_RETENTION_DEFAULT;
    c->handshake_timeout = LINKER_HANDSHAKE_DEFAULT;
    snprintf(c->path, sizeof c->path, "%s", path);
    r = xl_ini_parse_file(path, "the linker configuration", s_handler, &p, err, errlen);
    if (r != 0)
        return r;
    for (size_t i = 0; i < sizeof s_required / sizeof s_required[0]; i++) {
        if (!(p.seen & s_required[i].bit))
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [linker] %s is required", path,
                              s_required[i].name);
    }
    /* The approved projects live beside the keyring, and the pseudonym key
     * beside the database, unless the file says otherwise. */
    if (c->projects_path[0] == '\0' && s_beside(c->keyring_path, "projects", c->projects_path) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: keyring path too long", path);
    if (c->pseudonym_key_path[0] == '\0' &&
        s_beside(c->database_path, "pseudonym.key", c->pseudonym_key_path) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: database path too long", path);
    return 0;
}
