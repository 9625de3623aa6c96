#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "xl/err.h"

const char *const analyst_bands[4] = {"identifier", "keys", "probable", "single"};

int
analyst_band_index(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(analyst_bands[i], name) == 0)
            return i;
    }
    return -1;
}

/* A Stata-safe name of at most max characters from s: lower case, anything
 * but letters and digits becomes '_', runs of '_' collapse, a leading digit
 * gets a 'v' before it. */
static void
s_stata_name(const char *s, char *out, size_t max)
{
    size_t n = 0;

    for (; *s != '\0' && n < max; s++) {
        char c = (char)tolower((unsigned char)*s);
        if (!isalnum((unsigned char)c) || (unsigned char)c > 0x7f)
            c = '_';
        if (c == '_' && (n == 0 || out[n - 1] == '_'))
            continue;
        if (n == 0 && isdigit((unsigned char)c))
            out[n++] = 'v';
        if (n < max)
            out[n++] = c;
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    if (n == 0)
        out[n++] = 'v';
    out[n] = '\0';
}

/* "children_social_care" -> "csc", in place. */
static void
s_initials(char *s)
{
    size_t n = 0;

    for (size_t i = 0; s[i] != '\0'; i++) {
        if (i == 0 || s[i - 1] == '_')
            s[n++] = s[i];
    }
    s[n] = '\0';
}

/* col = prefix_name cut to 32; numbered while a column named before has it. */
static void
s_column(const struct analyst_layout *l, size_t upto_ds, size_t upto_attr, const char *prefix,
         const char *name, char col[ANALYST_COL_MAX])
{
    char base[ANALYST_COL_MAX], cand[ANALYST_COL_MAX];
    int taken = 1;

    snprintf(base, sizeof base, "%s_%s", prefix, name);
    snprintf(cand, sizeof cand, "%s", base);
    for (int k = 2; taken; k++) {
        taken = 0;
        for (size_t d = 0; d <= upto_ds && !taken && d < l->nds; d++) {
            size_t na = d == upto_ds ? upto_attr : l->ds[d].nattr;
            taken = strcmp(l->ds[d].records_col, cand) == 0;
            for (size_t a = 0; a < na && !taken; a++)
                taken = strcmp(l->ds[d].attr[a].col, cand) == 0;
        }
        if (taken)
            snprintf(cand, sizeof cand, "%.*s%d", ANALYST_COL_MAX - 1 - (k < 10 ? 1 : 2), base, k);
    }
    snprintf(col, ANALYST_COL_MAX, "%s", cand);
}

static int
s_vtype(const char *t, enum analyst_vtype *out)
{
    static const struct {
        const char *name;
        enum analyst_vtype v;
    } types[] = {{"int", ANALYST_V_INT},
                 {"decimal", ANALYST_V_DECIMAL},
                 {"bool", ANALYST_V_BOOL},
                 {"date", ANALYST_V_DATE},
                 {"text", ANALYST_V_TEXT}};

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(t, types[i].name) == 0) {
            *out = types[i].v;
            return 0;
        }
    }
    return -1;
}

/* A count of the manifest: a whole number from 0 to 2^53. 0, or -1. */
static int
s_count(const cJSON *v, uint64_t *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d)
        return -1;
    *out = (uint64_t)d;
    return 0;
}

static const char *
s_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
analyst_layout_from_manifest(const cJSON *m, struct analyst_layout *l, char *err, size_t errlen)
{
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(m, "datasets"), *d, *bands;
    const char *cohort = s_str(m, "cohort"), *index = s_str(m, "index_date"), *project;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(m, "rows");
    const cJSON *pages = cJSON_GetObjectItemCaseSensitive(m, "pages");

    memset(l, 0, sizeof *l);
    l->cohort = -1;
    project = s_str(m, "project");
    if (project == NULL || !cJSON_IsArray(ds) || s_count(rows, &l->rows) != 0 ||
        s_count(pages, &l->pages) != 0 || cJSON_GetArraySize(ds) > ANALYST_MAX_DATASETS)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "manifest: project, datasets (at most %d), rows or pages missing",
                          ANALYST_MAX_DATASETS);
    snprintf(l->project, sizeof l->project, "%s", project);
    bands = cJSON_GetObjectItemCaseSensitive(m, "bands");
    for (int b = 0; b < 4; b++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(bands, analyst_bands[b]);
        if (s_count(v, &l->bands[b]) != 0)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "manifest: bands.%s missing",
                              analyst_bands[b]);
    }
    l->ds = calloc((size_t)cJSON_GetArraySize(ds) + 1, sizeof *l->ds);
    if (l->ds == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(d, ds)
    {
        struct analyst_dataset *x = &l->ds[l->nds];
        const char *agency = s_str(d, "agency"), *name = s_str(d, "dataset");
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(d, "attributes"), *a;
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "rows");
        int shared = 0;
        if (agency == NULL || name == NULL || !xl_name_valid(agency) || !xl_name_valid(name) ||
            s_count(n, &x->rows) != 0 || !cJSON_IsArray(attrs) ||
            cJSON_GetArraySize(attrs) > ANALYST_MAX_ATTRS) {
            analyst_layout_free(l);
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "manifest: dataset %zu is malformed",
                              l->nds + 1);
        }
        snprintf(x->agency, sizeof x->agency, "%s", agency);
        snprintf(x->dataset, sizeof x->dataset, "%s", name);
        x->index_attr = -1;
        cJSON_ArrayForEach(a, ds)
        {
            const char *other = s_str(a, "dataset"), *oa = s_str(a, "agency");
            if (other != NULL && oa != NULL && strcmp(other, name) == 0 && strcmp(oa, agency) != 0)
                shared = 1;
        }
        {
            char full[2 * XL_NAME_MAX + 1], clean[XL_NAME_MAX];
            size_t longest = 0;
            snprintf(full, sizeof full, "%s_%s", agency, name);
            s_stata_name(shared ? full : name, x->prefix, 20);
            cJSON_ArrayForEach(a, attrs)
            {
                const char *an = s_str(a, "name");
                s_stata_name(an != NULL ? an : "", clean, 31);
                longest = strlen(clean) > longest ? strlen(clean) : longest;
            }
            /* A long prefix would cut attribute names short: use its initials
             * ("children_social_care" -> "csc") instead. */
            if (strlen(x->prefix) + 1 + longest > ANALYST_COL_MAX - 1 && strchr(x->prefix, '_'))
                s_initials(x->prefix);
        }
        l->nds++;
        s_column(l, l->nds - 1, 0, x->prefix, "records", x->records_col);
        cJSON_ArrayForEach(a, attrs)
        {
            struct analyst_attr *t = &x->attr[x->nattr];
            const char *an = s_str(a, "name"), *at = s_str(a, "type");
            char clean[XL_NAME_MAX];
            if (an == NULL || at == NULL || strlen(an) >= sizeof t->name ||
                s_vtype(at, &t->vtype) != 0) {
                analyst_layout_free(l);
                return xl_err_set(err, errlen, XL_ERR_FORMAT,
                                  "manifest: an attribute of %s/%s is malformed", agency, name);
            }
            snprintf(t->name, sizeof t->name, "%s", an);
            snprintf(t->type, sizeof t->type, "%s", at);
            s_stata_name(an, clean, 31);
            s_column(l, l->nds - 1, x->nattr, x->prefix, clean, t->col);
            x->nattr++;
        }
        if (cohort != NULL && strchr(cohort, '/') != NULL &&
            strncmp(cohort, agency, strlen(agency)) == 0 && cohort[strlen(agency)] == '/' &&
            strcmp(cohort + strlen(agency) + 1, name) == 0) {
            x->is_cohort = 1;
            l->cohort = (int)(l->nds - 1);
            for (size_t i = 0; index != NULL && i < x->nattr; i++) {
                if (strcmp(x->attr[i].name, index) == 0 && x->attr[i].vtype == ANALYST_V_DATE)
                    x->index_attr = (int)i;
            }
        }
    }
    return 0;
}

void
analyst_layout_free(struct analyst_layout *l)
{
    free(l->ds);
    l->ds = NULL;
    l->nds = 0;
}

int
analyst_layout_find(const struct analyst_layout *l, const char *agency, const char *dataset)
{
    for (size_t i = 0; i < l->nds; i++) {
        if (strcmp(l->ds[i].agency, agency) == 0 && strcmp(l->ds[i].dataset, dataset) == 0)
            return (int)i;
    }
    return -1;
}
