#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projects.h"
#include "xl/err.h"
#include "xl/ini.h"

/* Largest projects file read. */
#define S_FILE_MAX (1u << 20)

/* Keys a section must have, one bit each, so a missing one is named. */
enum { S_PURPOSE = 1, S_LEGAL = 2, S_ANALYSTS = 4, S_DATASETS = 8, S_EXPIRES = 16 };

struct s_parse {
    struct xl_ini ini; /* first: the shared INI state */
    struct linker_projects *ps;
    size_t cap;
    unsigned seen;          /* of the current project */
    char last[XL_NAME_MAX]; /* the key of the line before (a continued value) */
};

static int
s_valid_date(const char *v)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, n = 0;

    if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)v[i]))
            return 0;
    }
    if (y < 2000 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return 0;
    return !(m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
}

/* "agency/dataset" (dataset "*": all of the agency's) into ds; 1 or xl_ini_fail. */
static int
s_dataset(struct s_parse *p, const char *name, const char *v, size_t len,
          struct linker_project_dataset *ds)
{
    const char *slash = memchr(v, '/', len);
    size_t al = slash != NULL ? (size_t)(slash - v) : 0, dl = slash != NULL ? len - al - 1 : 0;

    if (slash == NULL || al == 0 || dl == 0 || al >= XL_NAME_MAX || dl >= XL_NAME_MAX)
        return xl_ini_fail(&p->ini, "%s: '%.*s' is not agency/dataset", name,
                           (int)(len > 80 ? 80 : len), v);
    memcpy(ds->agency, v, al);
    ds->agency[al] = '\0';
    memcpy(ds->dataset, slash + 1, dl);
    ds->dataset[dl] = '\0';
    if (!xl_name_valid(ds->agency) ||
        (strcmp(ds->dataset, "*") != 0 && !xl_name_valid(ds->dataset)))
        return xl_ini_fail(&p->ini, "%s: '%.*s' is not agency/dataset", name,
                           (int)(len > 80 ? 80 : len), v);
    return 1;
}

/* Calls fn for each space- or comma-separated word of v. */
static int
s_words(struct s_parse *p, struct linker_project *pr, const char *name, const char *v,
        int (*fn)(struct s_parse *, struct linker_project *, const char *, const char *, size_t))
{
    while (*v != '\0') {
        size_t n;
        while (*v == ' ' || *v == ',' || *v == '\t')
            v++;
        n = strcspn(v, " ,\t");
        if (n > 0 && !fn(p, pr, name, v, n))
            return 0;
        v += n;
    }
    return 1;
}

static int
s_analyst(struct s_parse *p, struct linker_project *pr, const char *name, const char *v, size_t n)
{
    uint8_t raw[XL_KEYID_BYTES];
    char id[XL_KEYID_HEX + 1];

    if (n != XL_KEYID_HEX)
        return xl_ini_fail(&p->ini,
                           "analysts: '%.*s' is not a key id (%d hex digits, as "
                           "'crosslink-keys keyring list' shows)",
                           (int)(n > 40 ? 40 : n), v, XL_KEYID_HEX);
    memcpy(id, v, n);
    id[n] = '\0';
    if (xl_unhex(id, raw, sizeof raw) != 0)
        return xl_ini_fail(&p->ini, "analysts: '%s' is not a key id (%d hex digits)", id,
                           XL_KEYID_HEX);
    if (pr->nanalysts == LINKER_PROJECT_MAX_ANALYSTS)
        return xl_ini_fail(&p->ini, "analysts: more than %d keys", LINKER_PROJECT_MAX_ANALYSTS);
    for (size_t i = 0; id[i]; i++)
        id[i] = (char)tolower((unsigned char)id[i]);
    memcpy(pr->analysts[pr->nanalysts++], id, sizeof id);
    return 1;
}

static int
s_add_dataset(struct s_parse *p, struct linker_project *pr, const char *name, const char *v,
              size_t n)
{
    if (pr->ndatasets == LINKER_PROJECT_MAX_DATASETS)
        return xl_ini_fail(&p->ini, "datasets: more than %d", LINKER_PROJECT_MAX_DATASETS);
    return s_dataset(p, name, v, n, &pr->datasets[pr->ndatasets++]);
}

/* Appends v to a text value (a value continued on the next line). */
static int
s_text(struct s_parse *p, char *dst, const char *name, const char *v)
{
    size_t have = strlen(dst);

    if (have + (have > 0) + strlen(v) >= LINKER_PROJECT_TEXT_MAX)
        return xl_ini_fail(&p->ini, "%s is longer than %d characters", name,
                           LINKER_PROJECT_TEXT_MAX - 1);
    if (have > 0)
        dst[have++] = ' ';
    memcpy(dst + have, v, strlen(v) + 1);
    return 1;
}

static int
s_number(struct s_parse *p, const char *name, const char *v, unsigned lo, unsigned hi,
         unsigned *out)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (!isdigit((unsigned char)v[0]) || errno != 0 || *end != '\0' || n < lo || n > hi)
        return xl_ini_fail(&p->ini, "%s must be a whole number from %u to %u", name, lo, hi);
    *out = (unsigned)n;
    return 1;
}

/* A new section: a new project with the defaults. */
static struct linker_project *
s_begin(struct s_parse *p, const char *section)
{
    struct linker_projects *ps = p->ps;
    struct linker_project *pr;

    for (size_t i = 0; i < ps->n; i++) {
        if (strcmp(ps->p[i].id, section) == 0) {
            xl_ini_note(&p->ini, "project [%s] is defined twice", section);
            return NULL;
        }
    }
    if (ps->n == LINKER_PROJECTS_MAX) {
        xl_ini_note(&p->ini, "more than %d projects", LINKER_PROJECTS_MAX);
        return NULL;
    }
    if (ps->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        void *np = realloc(ps->p, cap * sizeof *ps->p);
        if (np == NULL) {
            xl_ini_note(&p->ini, "out of memory");
            return NULL;
        }
        ps->p = np;
        p->cap = cap;
    }
    pr = &ps->p[ps->n++];
    memset(pr, 0, sizeof *pr);
    snprintf(pr->id, sizeof pr->id, "%s", section);
    pr->min_evidence = LINKER_BAND_PROBABLE;
    pr->sdc_min_count = 10;
    pr->sdc_round_to = 5;
    p->seen = 0;
    p->last[0] = '\0';
    return pr;
}

static int s_finish(struct s_parse *p, struct linker_project *pr);

static int
s_handler(void *user, const char *section, const char *name, const char *v)
{
    struct s_parse *p = user;
    struct linker_projects *ps = p->ps;
    struct linker_project *pr = ps->n > 0 ? &ps->p[ps->n - 1] : NULL;
    int continued;

    if (!xl_name_valid(section))
        return xl_ini_fail(&p->ini,
                           "[%.64s]: a project id is letters, digits, '.', '_' and '-' (at most "
                           "%d)",
                           section, XL_NAME_MAX - 1);
    if (pr == NULL || strcmp(pr->id, section) != 0) {
        if (pr != NULL && !s_finish(p, pr))
            return 0;
        pr = s_begin(p, section);
        if (pr == NULL)
            return 0;
    }
    continued = strcmp(p->last, name) == 0;
    snprintf(p->last, sizeof p->last, "%s", name);
    if (strcmp(name, "purpose") == 0) {
        p->seen |= S_PURPOSE;
        return s_text(p, pr->purpose, name, v);
    }
    if (strcmp(name, "legal_basis") == 0) {
        p->seen |= S_LEGAL;
        return s_text(p, pr->legal_basis, name, v);
    }
    if (strcmp(name, "analysts") == 0) {
        p->seen |= S_ANALYSTS;
        return s_words(p, pr, name, v, s_analyst);
    }
    if (strcmp(name, "datasets") == 0) {
        p->seen |= S_DATASETS;
        return s_words(p, pr, name, v, s_add_dataset);
    }
    if (continued)
        return xl_ini_fail(&p->ini, "%s is given twice", name);
    if (strcmp(name, "cohort") == 0) {
        if (strchr(v, '*') != NULL)
            return xl_ini_fail(&p->ini, "cohort names one dataset, not agency/*");
        return s_dataset(p, name, v, strlen(v), &pr->cohort);
    }
    if (strcmp(name, "index_date") == 0) {
        if (!xl_name_valid(v))
            return xl_ini_fail(&p->ini, "index_date names an attribute of the cohort dataset");
        snprintf(pr->index_date, sizeof pr->index_date, "%s", v);
        return 1;
    }
    if (strcmp(name, "population") == 0) {
        if (strcmp(v, "all") != 0 && strcmp(v, "cohort") != 0)
            return xl_ini_fail(&p->ini, "population is all (the cohort and the other children) "
                                        "or cohort (the cohort's children only)");
        pr->cohort_only = strcmp(v, "cohort") == 0;
        return 1;
    }
    if (strcmp(name, "expires") == 0) {
        p->seen |= S_EXPIRES;
        if (!s_valid_date(v))
            return xl_ini_fail(&p->ini, "expires must be a date, YYYY-MM-DD");
        snprintf(pr->expires, sizeof pr->expires, "%s", v);
        return 1;
    }
    if (strcmp(name, "min_evidence") == 0) {
        for (int b = 0; b < LINKER_BAND_SINGLE; b++) {
            if (strcmp(v, linker_band_name((enum linker_band)b)) == 0) {
                pr->min_evidence = (enum linker_band)b;
                return 1;
            }
        }
        return xl_ini_fail(&p->ini, "min_evidence is identifier, keys or probable");
    }
    if (strcmp(name, "sdc_min_count") == 0)
        return s_number(p, name, v, 0, 1000, &pr->sdc_min_count);
    if (strcmp(name, "sdc_round_to") == 0)
        return s_number(p, name, v, 1, 100, &pr->sdc_round_to);
    return xl_ini_fail(&p->ini, "unknown key '%.40s' in project [%s]", name, section);
}

/* The checks that need the whole section. */
static int
s_finish(struct s_parse *p, struct linker_project *pr)
{
    static const struct {
        unsigned bit;
        const char *name;
    } req[] = {{S_PURPOSE, "purpose"},
               {S_LEGAL, "legal_basis"},
               {S_ANALYSTS, "analysts"},
               {S_DATASETS, "datasets"},
               {S_EXPIRES, "expires"}};

    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        if (!(p->seen & req[i].bit))
            return xl_ini_fail(&p->ini, "project [%s] needs %s", pr->id, req[i].name);
    }
    if (pr->nanalysts == 0 || pr->ndatasets == 0)
        return xl_ini_fail(&p->ini, "project [%s] names no %s", pr->id,
                           pr->nanalysts == 0 ? "analyst key" : "dataset");
    if (pr->cohort.agency[0] != '\0' &&
        !linker_project_has_dataset(pr, pr->cohort.agency, pr->cohort.dataset))
        return xl_ini_fail(&p->ini, "project [%s]: its cohort %s/%s is not one of its datasets",
                           pr->id, pr->cohort.agency, pr->cohort.dataset);
    if (pr->index_date[0] != '\0' && pr->cohort.agency[0] == '\0')
        return xl_ini_fail(&p->ini,
                           "project [%s]: index_date is a date of the cohort dataset, "
                           "and it names no cohort",
                           pr->id);
    if (pr->cohort_only && pr->cohort.agency[0] == '\0')
        return xl_ini_fail(&p->ini, "project [%s]: population = cohort needs a cohort", pr->id);
    return 1;
}

int
linker_projects_load(const char *path, struct linker_projects **out, char *err, size_t errlen)
{
    struct linker_projects *ps = calloc(1, sizeof *ps);
    char *text = NULL;
    size_t len = 0;
    FILE *f;
    int r = 0;

    if (ps == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    f = fopen(path, "re");
    if (f == NULL) {
        if (errno == ENOENT) {
            *out = ps; /* no projects file: nothing is approved */
            return 0;
        }
        free(ps);
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open the projects file: %s", path,
                          strerror(errno));
    }
    text = malloc(S_FILE_MAX + 1);
    if (text == NULL)
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    else {
        len = fread(text, 1, S_FILE_MAX + 1, f);
        if (ferror(f))
            r = xl_err_set(err, errlen, XL_ERR_IO, "%s: read failed", path);
        else if (len > S_FILE_MAX)
            r = xl_err_set(err, errlen, XL_ERR_TOOBIG, "%s: larger than %u bytes", path,
                           S_FILE_MAX);
        else if (memchr(text, '\0', len) != NULL)
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: not a text file", path);
    }
    fclose(f);
    if (r == 0)
        r = linker_projects_parse(text, len, path, ps, err, errlen);
    free(text);
    if (r != 0) {
        linker_projects_free(&ps);
        return r;
    }
    *out = ps;
    return 0;
}

int
linker_projects_parse(char *text, size_t len, const char *name, struct linker_projects *ps,
                      char *err, size_t errlen)
{
    struct s_parse p;
    int r;

    text[len] = '\0';
    ps->present = 1;
    xl_sha256(text, len, ps->hash);
    memset(&p, 0, sizeof p);
    p.ps = ps;
    r = xl_ini_parse_string(text, name, s_handler, &p, err, errlen);
    if (r == 0 && ps->n > 0 && !s_finish(&p, &ps->p[ps->n - 1]))
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: %s", name, p.ini.msg);
    return r;
}

void
linker_projects_free(struct linker_projects **ps)
{
    if (ps == NULL || *ps == NULL)
        return;
    free((*ps)->p);
    free(*ps);
    *ps = NULL;
}

int
linker_project_has_dataset(const struct linker_project *p, const char *agency, const char *dataset)
{
    for (size_t i = 0; i < p->ndatasets; i++) {
        if (strcmp(p->datasets[i].agency, agency) == 0 &&
            (strcmp(p->datasets[i].dataset, "*") == 0 ||
             strcmp(p->datasets[i].dataset, dataset) == 0))
            return 1;
    }
    return 0;
}

int
linker_project_authorise(const struct linker_projects *ps, const char *id, const char *key_id,
                         const char *today, char *const *datasets, size_t ndatasets,
                         const struct linker_project **out, struct linker_project_refusal *why)
{
    const struct linker_project *p = NULL;
    size_t i;

    if (!ps->present || ps->n == 0) {
        why->rule = "no_projects";
        snprintf(why->msg, sizeof why->msg,
                 "the linker has no approved projects: an extract needs a project in its "
                 "projects file");
        return XL_ERR_NOTFOUND;
    }
    for (i = 0; i < ps->n; i++) {
        if (strcmp(ps->p[i].id, id) == 0)
            p = &ps->p[i];
    }
    if (p == NULL) {
        why->rule = "unknown_project";
        snprintf(why->msg, sizeof why->msg,
                 "there is no approved project '%.64s' (ids are case-sensitive; ask the "
                 "information-governance lead for the project's id)",
                 id);
        return XL_ERR_NOTFOUND;
    }
    for (i = 0; i < p->nanalysts; i++) {
        if (strcmp(p->analysts[i], key_id) == 0)
            break;
    }
    if (i == p->nanalysts) {
        why->rule = "key_not_listed";
        snprintf(why->msg, sizeof why->msg,
                 "key %s is not one of project %s's analysts: the project's approval must list "
                 "it",
                 key_id, p->id);
        return XL_ERR_DENIED;
    }
    if (strcmp(today, p->expires) > 0) {
        why->rule = "expired";
        snprintf(why->msg, sizeof why->msg,
                 "project %s expired on %s: no extract after its approval ends", p->id, p->expires);
        return XL_ERR_DENIED;
    }
    for (i = 0; i < ndatasets; i++) {
        const char *slash = strchr(datasets[i], '/');
        char agency[XL_NAME_MAX];
        if (slash == NULL || (size_t)(slash - datasets[i]) >= sizeof agency) {
            why->rule = "dataset_not_approved";
            snprintf(why->msg, sizeof why->msg, "'%.64s' is not agency/dataset", datasets[i]);
            return XL_ERR_DENIED;
        }
        memcpy(agency, datasets[i], (size_t)(slash - datasets[i]));
        agency[slash - datasets[i]] = '\0';
        if (!linker_project_has_dataset(p, agency, slash + 1)) {
            why->rule = "dataset_not_approved";
            snprintf(why->msg, sizeof why->msg, "project %s is not approved for dataset %.130s",
                     p->id, datasets[i]);
            return XL_ERR_DENIED;
        }
    }
    *out = p;
    return 0;
}

static const struct linker_project *
s_find(const struct linker_projects *ps, const char *id)
{
    for (size_t i = 0; ps != NULL && i < ps->n; i++) {
        if (strcmp(ps->p[i].id, id) == 0)
            return &ps->p[i];
    }
    return NULL;
}

cJSON *
linker_projects_diff(const struct linker_projects *old, const struct linker_projects *new)
{
    cJSON *d = cJSON_CreateObject();
    cJSON *added = cJSON_AddArrayToObject(d, "added"),
          *removed = cJSON_AddArrayToObject(d, "removed");
    cJSON *changed = cJSON_AddArrayToObject(d, "changed");

    if (d == NULL || added == NULL || removed == NULL || changed == NULL) {
        cJSON_Delete(d);
        return NULL;
    }
    for (size_t i = 0; new != NULL &&i < new->n; i++) {
        const struct linker_project *o = s_find(old, new->p[i].id);
        if (o == NULL)
            cJSON_AddItemToArray(added, cJSON_CreateString(new->p[i].id));
        else if (memcmp(o, &new->p[i], sizeof *o) != 0)
            cJSON_AddItemToArray(changed, cJSON_CreateString(new->p[i].id));
    }
    for (size_t i = 0; old != NULL && i < old->n; i++) {
        if (s_find(new, old->p[i].id) == NULL)
            cJSON_AddItemToArray(removed, cJSON_CreateString(old->p[i].id));
    }
    return d;
}
