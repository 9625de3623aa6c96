#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xl/err.h"
#include "xl/ini.h"

struct s_parse {
    struct xl_ini ini; /* first: the shared INI state */
    struct analyst_config *c;
    unsigned seen;
};

static const struct {
    const char *name;
    size_t off;
} s_paths[] = {
    {"server_public", offsetof(struct analyst_config, server_key_path)},
    {"sign_public", offsetof(struct analyst_config, sign_key_path)},
    {"analyst_key", offsetof(struct analyst_config, analyst_key_path)},
    {"analysis_key", offsetof(struct analyst_config, analysis_key_path)},
};
#define S_NPATHS (sizeof s_paths / sizeof s_paths[0])

static int
s_handler(void *user, const char *section, const char *name, const char *v)
{
    struct s_parse *p = user;
    struct analyst_config *c = p->c;

    if (strcmp(section, "analyst") != 0)
        return xl_ini_fail(&p->ini, "unknown section [%s] (only [analyst] is read)", section);
    if (strcmp(name, "endpoint") == 0) {
        p->seen |= 1u << S_NPATHS;
        return xl_ini_endpoint(&p->ini, c->endpoint, sizeof c->endpoint, v, 0);
    }
    if (strcmp(name, "timeout") == 0) {
        char *end;
        errno = 0;
        c->timeout = strtod(v, &end);
        if (errno != 0 || *end != '\0' || !(c->timeout >= 1 && c->timeout <= 3600))
            return xl_ini_fail(&p->ini, "timeout is a number of seconds from 1 to 3600");
        return 1;
    }
    for (size_t i = 0; i < S_NPATHS; i++) {
        if (strcmp(name, s_paths[i].name) == 0) {
            p->seen |= 1u << i;
            return xl_ini_path(&p->ini, (char *)c + s_paths[i].off, ANALYST_PATH_MAX, name, v);
        }
    }
    return xl_ini_fail(&p->ini, "unknown key '%.40s' in [analyst]", name);
}

int
analyst_config_load(const char *path, struct analyst_config *c, char *err, size_t errlen)
{
    struct s_parse p = {.c = c};
    int r;

    memset(c, 0, sizeof *c);
    c->timeout = 30;
    snprintf(c->path, sizeof c->path, "%s", path);
    r = xl_ini_parse_file(path, "the analyst configuration", s_handler, &p, err, errlen);
    if (r != 0)
        return r;
    if (!(p.seen & (1u << S_NPATHS)))
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [analyst] endpoint is required", path);
    for (size_t i = 0; i < S_NPATHS; i++) {
        if (!(p.seen & (1u << i)))
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [analyst] %s is required", path,
                              s_paths[i].name);
    }
    return 0;
}
