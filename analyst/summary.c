#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "report.h"
#include "summary.h"
#include "text.h"
#include "xl/csv.h"
#include "xl/err.h"

#define S_MANIFEST_MAX (16u * 1024 * 1024)
#define S_TEXT_VALUES  10 /* text outcomes: most common values shown, the rest "other" */
#define S_PEOPLE       "people.csv"
#define S_DICTIONARY   "dictionary.csv"

enum s_type { S_TEXT, S_INT, S_DECIMAL, S_BOOL, S_DATE };
enum s_role {
    S_PSEUDONYM,
    S_COHORT,
    S_EVIDENCE,
    S_DATASETS,
    S_RECORDS,
    S_OUTCOME,
    S_INDEX,
    S_OTHER
};

static const char *const s_types[] = {"text", "int", "decimal", "bool", "date"};
static const char *const s_roles[] = {"pseudonym", "cohort",  "evidence",  "datasets",
                                      "records",   "outcome", "index_date"};
static const char *const s_bands[] = {"identifier", "keys", "probable", "single"};
#define S_NBANDS 4

/* One column of people.csv that the dictionary describes. */
struct s_col {
    char *name, *source;
    enum s_type type;
    enum s_role role;
    size_t csv;  /* field index in people.csv */
    int dataset; /* index of source in the manifest's datasets, or -1 */
    int used;    /* pseudonyms and unknown roles are not read */
    double *v;   /* per child, NAN when missing (dates as yyyymmdd) */
    char **t;    /* text columns: per child, NULL when missing */
};

struct s_data {
    struct s_col *cols;
    size_t ncols;
    size_t n, cap;        /* children */
    unsigned char *group; /* per child: 0 cohort (or all), 1 comparison */
    size_t ngroups;
    int cohort_col, evidence_col, datasets_col, index_col;
    int *records_col; /* per manifest dataset: column index or -1 */
};

/* What the children a subset leaves out of its set are, when there are none;
 * in order, so that the rest of a chain of subsets is the largest of its links'. */
enum s_rest {
    S_REST_DESIGN,  /* none by the extract's design: every reader knows it */
    S_REST_MISSING, /* children with no value: none says only that the data are complete */
    S_REST_ANY      /* a fact about them (none without the outcome, none outside a
                     * dataset): a zero that discloses, protected like a small count */
};

/* Cell part is a subset of cell whole. */
struct s_link {
    int part, whole;
    long whole_n;
    enum s_rest rest;
};

/* Builder state: the first error sticks, so a run of calls is checked once. */
struct s_build {
    struct analyst_summary *sum;
    struct s_data *d;
    long size[2]; /* children per group */
    int ncell[2]; /* sdc cell of each group's size */
    int *known;   /* [dataset * 2 + group]: cell of "known to the dataset", or -1 */
    int *dated;   /* [column]: cell of the cohort's children with a date, or -1 */
    long *ndated; /* [column]: how many */
    struct s_link *links;
    size_t nlinks, caplinks;
    int r;
    char *err;
    size_t errlen;
};

/* ---- small helpers ---------------------------------------------------- */

static char *s_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
s_fmt(const char *fmt, ...)
{
    va_list ap;
    char *p = NULL;

    va_start(ap, fmt);
    if (vasprintf(&p, fmt, ap) < 0)
        p = NULL;
    va_end(ap);
    return p;
}

static int
s_lookup(const char *v, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return (int)i;
    return -1;
}

/* "YYYY-MM-DD" as yyyymmdd, or -1. */
static long
s_date(const char *v)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (strlen(v) != 10 || v[4] != '-' || v[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9'))
            return -1;
    y = atoi(v);
    m = atoi(v + 5);
    d = atoi(v + 8);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return -1;
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return -1;
    return (long)y * 10000 + m * 100 + d;
}

/* Parses a non-empty value of type t into *out; 0 or -1. */
static int
s_value(enum s_type t, const char *v, double *out)
{
    char *end;
    long long i;
    long dt;

    errno = 0;
    switch (t) {
    case S_INT:
        if (v[0] != '-' && (v[0] < '0' || v[0] > '9'))
            return -1;
        i = strtoll(v, &end, 10);
        if (*end != '\0' || errno != 0 || llabs(i) > (1LL << 53))
            return -1;
        *out = (double)i;
        return 0;
    case S_DECIMAL:
        *out = strtod(v, &end);
        return (end != v && *end == '\0' && errno == 0 && isfinite(*out)) ? 0 : -1;
    case S_BOOL:
        if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
            return -1;
        *out = v[0] == '1';
        return 0;
    case S_DATE:
        dt = s_date(v);
        *out = (double)dt;
        return dt < 0 ? -1 : 0;
    default: return -1;
    }
}

/* ---- reading the extract ----------------------------------------------- */

static int
s_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;

    *out = NULL;
    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > S_MANIFEST_MAX) {
        fclose(f);
        return xl_err_set(err, errlen, XL_ERR_TOOBIG, "%s: not a manifest (over 16 MiB)", path);
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        fclose(f);
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    }
    *len = fread(buf, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        fclose(f);
        free(buf);
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: read failed", path);
    }
    fclose(f);
    buf[*len] = '\0';
    *out = buf;
    return 0;
}

static int
s_json_string(const cJSON *o, const char *key, char **out, int required, const char *path,
              char *err, size_t errlen)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

    *out = NULL;
    if (j == NULL || cJSON_IsNull(j)) {
        if (required)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: \"%s\" is missing", path, key);
        return 0;
    }
    if (!cJSON_IsString(j))
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: \"%s\" is not a string", path, key);
    *out = strdup(j->valuestring);
    return *out == NULL ? xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory") : 0;
}

/* A whole number in [lo, hi] at o.key, or def when absent. */
static int
s_json_long(const cJSON *o, const char *key, long def, long lo, long hi, long *out,
            const char *path, char *err, size_t errlen)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

    *out = def;
    if (j == NULL || cJSON_IsNull(j))
        return 0;
    if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) || j->valuedouble < lo ||
        j->valuedouble > hi)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: \"%s\" is not a whole number from %ld to %ld", path, key, lo, hi);
    *out = (long)j->valuedouble;
    return 0;
}

static int
s_manifest(const char *dir, struct analyst_summary *sum, struct analyst_sdc_rules *rules, char *err,
           size_t errlen)
{
    char path[4096], *text = NULL;
    size_t len;
    cJSON *m = NULL;
    const cJSON *sdc, *ds, *it;
    long run;
    int r;

    snprintf(path, sizeof path, "%s/manifest.json", dir);
    r = s_read_file(path, &text, &len, err, errlen);
    if (r != 0)
        return r;
    m = cJSON_ParseWithLength(text, len);
    free(text);
    if (m == NULL || !cJSON_IsObject(m)) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: not a JSON object", path);
        goto out;
    }
    if ((r = s_json_string(m, "project", &sum->project, 1, path, err, errlen)) != 0 ||
        (r = s_json_string(m, "purpose", &sum->purpose, 0, path, err, errlen)) != 0 ||
        (r = s_json_string(m, "legal_basis", &sum->legal_basis, 0, path, err, errlen)) != 0 ||
        (r = s_json_string(m, "created", &sum->created, 0, path, err, errlen)) != 0 ||
        (r = s_json_string(m, "cohort", &sum->cohort, 0, path, err, errlen)) != 0 ||
        (r = s_json_string(m, "index_date", &sum->index_date, 0, path, err, errlen)) != 0 ||
        (r = s_json_long(m, "run", 0, 0, 1L << 30, &run, path, err, errlen)) != 0)
        goto out;
    sum->run = run;
    rules->min_count = ANALYST_SDC_MIN_COUNT_DEFAULT;
    rules->round_to = ANALYST_SDC_ROUND_TO_DEFAULT;
    sdc = cJSON_GetObjectItemCaseSensitive(m, "sdc");
    if (sdc != NULL && !cJSON_IsNull(sdc)) {
        if (!cJSON_IsObject(sdc)) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: \"sdc\" is not an object", path);
            goto out;
        }
        if ((r = s_json_long(sdc, "min_count", ANALYST_SDC_MIN_COUNT_DEFAULT, 0, 1000000,
                             &rules->min_count, path, err, errlen)) != 0 ||
            (r = s_json_long(sdc, "round_to", ANALYST_SDC_ROUND_TO_DEFAULT, 1, 1000000,
                             &rules->round_to, path, err, errlen)) != 0)
            goto out;
    }
    ds = cJSON_GetObjectItemCaseSensitive(m, "datasets");
    if (!cJSON_IsArray(ds)) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: \"datasets\" is missing", path);
        goto out;
    }
    sum->datasets = calloc((size_t)cJSON_GetArraySize(ds) + 1, sizeof *sum->datasets);
    if (sum->datasets == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    cJSON_ArrayForEach(it, ds)
    {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "agency");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "dataset");

        if (!cJSON_IsString(a) || !cJSON_IsString(d)) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: datasets[%zu] needs \"agency\" and \"dataset\"", path,
                           sum->ndatasets);
            goto out;
        }
        sum->datasets[sum->ndatasets] = s_fmt("%s/%s", a->valuestring, d->valuestring);
        if (sum->datasets[sum->ndatasets++] == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    r = 0;
out:
    cJSON_Delete(m);
    return r;
}

/* The header's field index of each name in want (n of them), or -1. */
static void
s_header(const struct xl_csv *c, size_t nf, const char *const *want, int *idx, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        idx[k] = -1;
        for (size_t i = 0; i < nf; i++)
            if (strcmp(xl_csv_field(c, i, NULL), want[k]) == 0)
                idx[k] = (int)i;
    }
}

static int
s_dictionary(const char *dir, const struct analyst_summary *sum, struct s_data *d, char *err,
             size_t errlen)
{
    static const char *const want[] = {"file", "column", "type", "role", "source"};
    char path[4096];
    struct xl_csv *c;
    size_t nf;
    int idx[5], r;

    snprintf(path, sizeof path, "%s/%s", dir, S_DICTIONARY);
    c = xl_csv_open(path, err, errlen);
    if (c == NULL)
        return XL_ERR_IO;
    r = xl_csv_next(c, &nf, err, errlen);
    if (r <= 0) {
        if (r == 0)
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: empty", path);
        goto out;
    }
    s_header(c, nf, want, idx, 5);
    for (int k = 0; k < 5; k++) {
        if (idx[k] < 0) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: header has no column '%s'", path,
                           want[k]);
            goto out;
        }
    }
    while ((r = xl_csv_next(c, &nf, err, errlen)) == 1) {
        unsigned long long row = (unsigned long long)xl_csv_record_no(c);
        const char *f[5];
        struct s_col *col, *grown;
        int t, role;

        for (int k = 0; k < 5; k++)
            f[k] = xl_csv_field(c, (size_t)idx[k], NULL);
        if (f[0] == NULL || f[1] == NULL || f[2] == NULL || f[3] == NULL || f[4] == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: row %llu: too few fields", path, row);
            goto out;
        }
        if (strcmp(f[0], S_PEOPLE) != 0)
            continue;
        t = s_lookup(f[2], s_types, sizeof s_types / sizeof s_types[0]);
        role = s_lookup(f[3], s_roles, sizeof s_roles / sizeof s_roles[0]);
        if (t < 0) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: row %llu: unknown type", path, row);
            goto out;
        }
        grown = realloc(d->cols, (d->ncols + 1) * sizeof *grown);
        if (grown == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
            goto out;
        }
        d->cols = grown;
        col = &d->cols[d->ncols++];
        memset(col, 0, sizeof *col);
        col->type = (enum s_type)t;
        /* A role this version does not know is read past, so a newer extract still sums. */
        col->role = role < 0 ? S_OTHER : (enum s_role)role;
        col->used = col->role != S_PSEUDONYM && col->role != S_OTHER;
        col->dataset = -1;
        col->name = strdup(f[1]);
        col->source = strdup(f[4]);
        if (col->name == NULL || col->source == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t k = 0; k < sum->ndatasets; k++)
            if (strcmp(col->source, sum->datasets[k]) == 0)
                col->dataset = (int)k;
        if ((col->role == S_COHORT && col->type != S_BOOL && col->type != S_INT) ||
            (col->role == S_RECORDS && col->type != S_INT) ||
            (col->role == S_DATASETS && col->type != S_INT) ||
            (col->role == S_INDEX && col->type != S_DATE)) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: row %llu: role %s with type %s", path,
                           row, f[3], f[2]);
            goto out;
        }
    }
out:
    xl_csv_destroy(&c);
    return r < 0 ? r : 0;
}

static int
s_grow(struct s_data *d)
{
    size_t cap = d->cap ? 2 * d->cap : 256;
    unsigned char *g = realloc(d->group, cap);

    if (g == NULL)
        return -1;
    d->group = g;
    for (size_t i = 0; i < d->ncols; i++) {
        struct s_col *c = &d->cols[i];

        if (!c->used)
            continue;
        if (c->type == S_TEXT) {
            char **t = realloc(c->t, cap * sizeof *t);

            if (t == NULL)
                return -1;
            c->t = t;
        } else {
            double *v = realloc(c->v, cap * sizeof *v);

            if (v == NULL)
                return -1;
            c->v = v;
        }
    }
    d->cap = cap;
    return 0;
}

static int
s_people(const char *dir, struct s_data *d, char *err, size_t errlen)
{
    char path[4096];
    struct xl_csv *c;
    size_t nf, nhead;
    int r;

    snprintf(path, sizeof path, "%s/%s", dir, S_PEOPLE);
    c = xl_csv_open(path, err, errlen);
    if (c == NULL)
        return XL_ERR_IO;
    r = xl_csv_next(c, &nhead, err, errlen);
    if (r <= 0) {
        if (r == 0)
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: empty", path);
        goto out;
    }
    for (size_t i = 0; i < d->ncols; i++) {
        const char *name = d->cols[i].name;
        int found = -1;

        if (!d->cols[i].used)
            continue;
        s_header(c, nhead, &name, &found, 1);
        if (found < 0) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: the dictionary's column '%s' is not in the header", path, name);
            goto out;
        }
        d->cols[i].csv = (size_t)found;
    }
    while ((r = xl_csv_next(c, &nf, err, errlen)) == 1) {
        unsigned long long row = (unsigned long long)xl_csv_record_no(c);
        size_t n = d->n;

        if (nf != nhead) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: row %llu: %zu fields, the header has %zu", path, row, nf, nhead);
            goto out;
        }
        if (n == d->cap && s_grow(d) != 0) {
            r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
            goto out;
        }
        /* The row counts from here, so whatever it holds is freed on any error. */
        for (size_t i = 0; i < d->ncols; i++) {
            if (!d->cols[i].used)
                continue;
            if (d->cols[i].type == S_TEXT)
                d->cols[i].t[n] = NULL;
            else
                d->cols[i].v[n] = NAN;
        }
        d->group[n] = 0;
        d->n = n + 1;
        for (size_t i = 0; i < d->ncols; i++) {
            struct s_col *col = &d->cols[i];
            const char *v = xl_csv_field(c, col->csv, NULL);

            if (!col->used || v[0] == '\0')
                continue;
            if (col->type == S_TEXT) {
                if (col->role == S_EVIDENCE && s_lookup(v, s_bands, S_NBANDS) < 0) {
                    r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                                   "%s: row %llu, column '%s': not an evidence band", path, row,
                                   col->name);
                    goto out;
                }
                if ((col->t[n] = strdup(v)) == NULL) {
                    r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
                    goto out;
                }
            } else if (s_value(col->type, v, &col->v[n]) != 0) {
                r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: row %llu, column '%s': not a %s",
                               path, row, col->name, s_types[col->type]);
                goto out;
            }
        }
        if (d->cohort_col >= 0) {
            double g = d->cols[d->cohort_col].v[n];

            if (g != 0 && g != 1) {
                r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: row %llu, column '%s': not 0 or 1",
                               path, row, d->cols[d->cohort_col].name);
                goto out;
            }
            d->group[n] = g == 1 ? 0 : 1;
        }
    }
out:
    xl_csv_destroy(&c);
    return r < 0 ? r : 0;
}

static void
s_data_free(struct s_data *d)
{
    for (size_t i = 0; i < d->ncols; i++) {
        struct s_col *c = &d->cols[i];

        if (c->t != NULL)
            for (size_t k = 0; k < d->n; k++)
                free(c->t[k]);
        free(c->t);
        free(c->v);
        free(c->name);
        free(c->source);
    }
    free(d->cols);
    free(d->group);
    free(d->records_col);
}

/* ---- building the tables ----------------------------------------------- */

static const char *
s_group_name(const struct s_data *d, size_t g)
{
    if (d->ngroups == 1)
        return "all children";
    return g == 0 ? "cohort" : "comparison";
}

static int
s_cell(struct s_build *b, long count, int displayed)
{
    int i;

    if (b->r != 0)
        return -1;
    i = analyst_sdc_cell(b->sum->sdc, count, displayed);
    if (i < 0) {
        b->r = xl_err_set(b->err, b->errlen, i, "summary: cannot add a cell: %s", xl_strerror(i));
        return -1;
    }
    return i;
}

static void
s_rel(struct s_build *b, int total, const int *parts, size_t n)
{
    int r;

    if (b->r != 0)
        return;
    r = analyst_sdc_relation(b->sum->sdc, total, parts, n);
    if (r != 0)
        b->r = xl_err_set(b->err, b->errlen, r, "summary: inconsistent table: %s", xl_strerror(r));
}

static int
s_zero(struct s_build *b, int displayed)
{
    int i;

    if (b->r != 0)
        return -1;
    i = analyst_sdc_zero(b->sum->sdc, displayed);
    if (i < 0)
        b->r = xl_err_set(b->err, b->errlen, i, "summary: cannot add a cell: %s", xl_strerror(i));
    return i;
}

static int
s_open(struct s_build *b, long count)
{
    int i;

    if (b->r != 0)
        return -1;
    i = analyst_sdc_open(b->sum->sdc, count);
    if (i < 0)
        b->r = xl_err_set(b->err, b->errlen, i, "summary: cannot add a cell: %s", xl_strerror(i));
    return i;
}

static int
s_is_zero(const struct s_build *b, int cell)
{
    return cell >= 0 && analyst_sdc_state(b->sum->sdc, cell) == ANALYST_SDC_STRUCTURAL;
}

static int
s_linked(const struct s_build *b, int part, int whole)
{
    for (size_t i = 0; i < b->nlinks; i++)
        if (b->links[i].part == part && b->links[i].whole == whole)
            return 1;
    return 0;
}

/* Records that cell part (part_n children) is a subset of cell whole
 * (whole_n): whole = part + the hidden rest, when relate is set (a part of a
 * table whose parts add up to whole is related by the table's relation
 * instead), and the same with every set whole is known to be a subset of. A
 * reader knows part <= whole <= each of those: a count suppressed between two
 * shown ones that differ by little is given away unless the rest between them
 * is protected too. The rest is a cell of its own: a zero known by design
 * (structural), a zero that says only that the data are complete (open), or
 * a hidden cell protected like any other. */
static void
s_nest(struct s_build *b, int whole, long whole_n, int part, long part_n, enum s_rest rest,
       int relate)
{
    size_t n;
    int parts[2];

    if (b->r != 0)
        return;
    /* None by design: the rest is the whole, nothing to tell. More than the
     * whole: a value without a record, an extract not as described; the two
     * counts are printed as they are, related to nothing. The same cell: one
     * set by definition. */
    if (s_is_zero(b, part) || part_n > whole_n || part == whole || s_linked(b, part, whole))
        return;
    if (b->nlinks == b->caplinks) {
        size_t cap = b->caplinks ? 2 * b->caplinks : 64;
        struct s_link *l = realloc(b->links, cap * sizeof *l);

        if (l == NULL) {
            b->r = xl_err_set(b->err, b->errlen, XL_ERR_NOMEM, "out of memory");
            return;
        }
        b->links = l;
        b->caplinks = cap;
    }
    b->links[b->nlinks].part = part;
    b->links[b->nlinks].whole = whole;
    b->links[b->nlinks].whole_n = whole_n;
    b->links[b->nlinks].rest = rest;
    b->nlinks++;
    if (relate) {
        parts[0] = part;
        if (part_n < whole_n || rest == S_REST_ANY)
            parts[1] = s_cell(b, whole_n - part_n, 0);
        else if (rest == S_REST_MISSING)
            parts[1] = s_open(b, 0);
        else
            parts[1] = s_zero(b, 0);
        s_rel(b, whole, parts, 2);
    }
    /* The sets around whole: links added from here on are part's own. */
    n = b->nlinks;
    for (size_t i = 0; i < n && b->r == 0; i++) {
        struct s_link up = b->links[i];

        if (up.part == whole)
            s_nest(b, up.whole, up.whole_n, part, part_n, up.rest > rest ? up.rest : rest, 1);
    }
}

static void
s_within(struct s_build *b, int whole, long whole_n, int part, long part_n, enum s_rest rest)
{
    s_nest(b, whole, whole_n, part, part_n, rest, 1);
}

/* A new displayed cell of n children nested in cell whole, or whole itself
 * when that is a zero by design: whatever is nested in that none is none too. */
static int
s_inside(struct s_build *b, int whole, long n)
{
    return s_is_zero(b, whole) && n == 0 ? whole : s_cell(b, n, 1);
}

/* The cell of n children, a subset of the whole_n children of cell whole:
 * whole itself when the extract's design makes them the same children (the
 * cohort and those known to the cohort dataset), else a new one, even when it
 * comes out as large: counts defined differently are different cells, which
 * the relation with their rest protects. */
static int
s_subset(struct s_build *b, int whole, long whole_n, long n, enum s_rest rest)
{
    int part;

    if (b->r != 0)
        return -1;
    part = n == whole_n && rest == S_REST_DESIGN ? whole : s_inside(b, whole, n);
    s_within(b, whole, whole_n, part, n, rest);
    return part;
}

/* A new table, its entries empty; NULL (and b->r set) on failure. The pointer
 * is valid until the next s_table. */
static struct analyst_table *
s_table(struct s_build *b, char *title, const char *note, enum analyst_chart chart, size_t nrows,
        size_t ncols)
{
    struct analyst_summary *sum = b->sum;
    struct analyst_table *grown, *t;

    if (b->r != 0 || title == NULL) {
        free(title);
        if (b->r == 0)
            b->r = xl_err_set(b->err, b->errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    grown = realloc(sum->tables, (sum->ntables + 1) * sizeof *grown);
    if (grown == NULL) {
        free(title);
        b->r = xl_err_set(b->err, b->errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sum->tables = grown;
    t = &sum->tables[sum->ntables++];
    memset(t, 0, sizeof *t);
    t->title = title;
    t->note = strdup(note);
    t->chart = chart;
    t->nrows = nrows;
    t->ncols = ncols;
    t->rows = calloc(nrows + 1, sizeof *t->rows);
    t->cols = calloc(ncols + 1, sizeof *t->cols);
    t->e = calloc(nrows * ncols + 1, sizeof *t->e);
    if (t->note == NULL || t->rows == NULL || t->cols == NULL || t->e == NULL) {
        b->r = xl_err_set(b->err, b->errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < nrows * ncols; i++) {
        t->e[i].count = -1;
        t->e[i].den = -1;
    }
    return t;
}

static void
s_label(struct s_build *b, char **slot, char *text)
{
    *slot = text;
    if (text == NULL && b->r == 0)
        b->r = xl_err_set(b->err, b->errlen, XL_ERR_NOMEM, "out of memory");
}

static void
s_group_cols(struct s_build *b, struct analyst_table *t)
{
    for (size_t g = 0; g < b->d->ngroups; g++)
        s_label(b, &t->cols[g], strdup(s_group_name(b->d, g)));
}

static struct analyst_entry *
s_at(struct analyst_table *t, size_t row, size_t col)
{
    return &t->e[row * t->ncols + col];
}

static int
s_known_to(const struct s_data *d, int dataset, size_t child)
{
    int c = d->records_col[dataset];

    return c >= 0 && d->cols[c].v[child] > 0;
}

static void
s_sizes(struct s_build *b)
{
    const struct s_data *d = b->d;
    struct analyst_table *t;
    int all;

    for (size_t k = 0; k < d->n; k++)
        b->size[d->group[k]]++;
    for (size_t g = 0; g < d->ngroups; g++)
        b->ncell[g] = s_cell(b, b->size[g], 1);
    t = s_table(b, strdup("Children"), "Children in the extract, by group.", ANALYST_CHART_NONE, 1,
                d->ngroups == 2 ? 3 : 1);
    if (t == NULL)
        return;
    s_label(b, &t->rows[0], strdup("children"));
    s_group_cols(b, t);
    for (size_t g = 0; g < d->ngroups; g++)
        s_at(t, 0, g)->count = b->ncell[g];
    if (d->ngroups == 2) {
        /* a group of none: all children are the other group, one cell */
        all = b->size[1] == 0   ? b->ncell[0]
              : b->size[0] == 0 ? b->ncell[1]
                                : s_cell(b, b->size[0] + b->size[1], 1);
        s_label(b, &t->cols[2], strdup("all children"));
        s_at(t, 0, 2)->count = all;
        s_rel(b, all, b->ncell, 2);
    }
}

/* Datasets with a records column, in manifest order: their indices in *out. */
static size_t
s_recorded(const struct s_build *b, int *out)
{
    size_t n = 0;

    for (size_t k = 0; k < b->sum->ndatasets; k++)
        if (b->d->records_col[k] >= 0)
            out[n++] = (int)k;
    return n;
}

/* Whether dataset k is the cohort's (when there are two groups). */
static int
s_is_cohort_ds(const struct s_build *b, int k)
{
    return b->d->ngroups == 2 && b->sum->cohort != NULL &&
           strcmp(b->sum->datasets[k], b->sum->cohort) == 0;
}

/* Whether the cohort dataset is one of the extract's (when there are two groups). */
static int
s_cohort_listed(const struct s_build *b)
{
    for (size_t k = 0; k < b->sum->ndatasets; k++)
        if (s_is_cohort_ds(b, (int)k))
            return 1;
    return 0;
}

static void
s_overlap(struct s_build *b, int *ds, size_t nds)
{
    const struct s_data *d = b->d;
    struct analyst_table *t;
    size_t D = b->sum->ndatasets;

    /* Children known to each dataset. */
    t = s_table(b, strdup("Children known to each dataset"),
                "Children with at least one record in the dataset.", ANALYST_CHART_BARS, nds,
                d->ngroups);
    if (t == NULL)
        return;
    s_group_cols(b, t);
    for (size_t r = 0; r < nds; r++) {
        s_label(b, &t->rows[r], strdup(b->sum->datasets[ds[r]]));
        for (size_t g = 0; g < d->ngroups; g++) {
            long n = 0;
            int cell;

            for (size_t k = 0; k < d->n; k++)
                n += d->group[k] == g && s_known_to(d, ds[r], k);
            /* The cohort is defined as the children the cohort dataset holds, the
             * comparison as the others: the one is the whole group by design, the
             * other none. Whatever is nested in that none is none too (s_subset). */
            if (g == 1 && n == 0 && s_is_cohort_ds(b, ds[r]))
                cell = s_zero(b, 1);
            else
                cell = s_subset(b, b->ncell[g], b->size[g], n,
                                g == 0 && s_is_cohort_ds(b, ds[r]) ? S_REST_DESIGN : S_REST_ANY);
            b->known[ds[r] * 2 + (int)g] = cell;
            s_at(t, r, g)->count = cell;
        }
    }

    /* Children by how many datasets hold them. */
    if (D == 0)
        return;
    t = s_table(b, strdup("Children by number of datasets holding them"),
                "How many of the extract's datasets hold each child.", ANALYST_CHART_BARS, D,
                d->ngroups);
    if (t == NULL)
        return;
    s_group_cols(b, t);
    for (size_t r = 0; r < D; r++)
        s_label(b, &t->rows[r], s_fmt("%zu dataset%s", r + 1, r == 0 ? "" : "s"));
    for (size_t g = 0; g < d->ngroups && b->r == 0; g++) {
        long *n = calloc(D + 2, sizeof *n);
        int *parts = calloc(D + 1, sizeof *parts);

        if (n == NULL || parts == NULL) {
            free(n);
            free(parts);
            b->r = xl_err_set(b->err, b->errlen, XL_ERR_NOMEM, "out of memory");
            return;
        }
        for (size_t k = 0; k < d->n; k++) {
            double h = 0;

            if (d->group[k] != g)
                continue;
            if (d->datasets_col >= 0) {
                h = d->cols[d->datasets_col].v[k];
            } else {
                for (size_t x = 0; x < nds; x++)
                    h += s_known_to(d, ds[x], k);
            }
            /* slot D + 1 holds children with no count or one out of range */
            n[(!isnan(h) && h >= 1 && h <= (double)D) ? (size_t)h : D + 1]++;
        }
        for (size_t r = 0; r < D; r++) {
            /* a comparison child is not in the cohort dataset, so in all D by design none */
            if (g == 1 && r + 1 == D && n[D] == 0 && s_cohort_listed(b))
                parts[r] = s_zero(b, 1);
            else
                parts[r] = s_cell(b, n[r + 1], 1);
            s_at(t, r, g)->count = parts[r];
        }
        /* every child is in 1 to D datasets: an empty rest is no cell */
        if (n[D + 1] > 0)
            parts[D] = s_cell(b, n[D + 1], 0);
        s_rel(b, b->ncell[g], parts, D + (n[D + 1] > 0));
        free(n);
        free(parts);
    }

    /* Children in both of two datasets: one matrix per group. */
    for (size_t g = 0; g < d->ngroups && nds >= 2; g++) {
        t = s_table(b, s_fmt("Children in both of two datasets: %s", s_group_name(d, g)),
                    "Children with records in both of two datasets; a dataset alone (the "
                    "diagonal of the grid) holds all the children known to it.",
                    ANALYST_CHART_MATRIX, nds, nds);
        if (t == NULL)
            return;
        s_label(b, &t->group, strdup(s_group_name(d, g)));
        for (size_t i = 0; i < nds; i++) {
            s_label(b, &t->rows[i], strdup(b->sum->datasets[ds[i]]));
            s_label(b, &t->cols[i], strdup(b->sum->datasets[ds[i]]));
        }
        for (size_t i = 0; i < nds; i++) {
            s_at(t, i, i)->count = b->known[ds[i] * 2 + (int)g];
            for (size_t j = i + 1; j < nds; j++) {
                int ki = b->known[ds[i] * 2 + (int)g], kj = b->known[ds[j] * 2 + (int)g];
                long both = 0, ni = 0, nj = 0;
                int cell;

                for (size_t k = 0; k < d->n; k++) {
                    int a, c;

                    if (d->group[k] != g)
                        continue;
                    a = s_known_to(d, ds[i], k);
                    c = s_known_to(d, ds[j], k);
                    ni += a;
                    nj += c;
                    both += a && c;
                }
                /* A cohort child is in the cohort dataset, so with it "both" is, by
                 * design, the other dataset's cohort children: that dataset's cell.
                 * Any other "both" is a set of its own, however large. */
                if (g == 0 && s_is_cohort_ds(b, ds[i]) && both == nj)
                    cell = kj;
                else if (g == 0 && s_is_cohort_ds(b, ds[j]) && both == ni)
                    cell = ki;
                else
                    cell = s_inside(b, s_is_zero(b, ki) ? ki : kj, both);
                s_at(t, i, j)->count = cell;
                s_within(b, ki, ni, cell, both,
                         g == 0 && s_is_cohort_ds(b, ds[j]) ? S_REST_DESIGN : S_REST_ANY);
                s_within(b, kj, nj, cell, both,
                         g == 0 && s_is_cohort_ds(b, ds[i]) ? S_REST_DESIGN : S_REST_ANY);
            }
        }
    }
}

static void
s_evidence(struct s_build *b)
{
    const struct s_data *d = b->d;
    struct analyst_table *t;

    if (d->evidence_col < 0)
        return;
    t = s_table(b, strdup("Link evidence"),
                "Children by the weakest evidence among the links of their records: an identifier "
                "(NHS number or UPN), exact match keys, a probable (scored) match, or a single "
                "record with no link.",
                ANALYST_CHART_BARS, S_NBANDS, d->ngroups);
    if (t == NULL)
        return;
    s_group_cols(b, t);
    for (size_t r = 0; r < S_NBANDS; r++)
        s_label(b, &t->rows[r], strdup(s_bands[r]));
    for (size_t g = 0; g < d->ngroups && b->r == 0; g++) {
        long n[S_NBANDS + 1] = {0};
        int parts[S_NBANDS + 1];

        for (size_t k = 0; k < d->n; k++) {
            const char *v = d->cols[d->evidence_col].t[k];

            if (d->group[k] == g)
                n[v != NULL ? s_lookup(v, s_bands, S_NBANDS) : S_NBANDS]++;
        }
        for (size_t r = 0; r < S_NBANDS; r++) {
            parts[r] = s_cell(b, n[r], 1);
            s_at(t, r, g)->count = parts[r];
        }
        /* every child has a band: an empty rest is no cell */
        if (n[S_NBANDS] > 0)
            parts[S_NBANDS] = s_cell(b, n[S_NBANDS], 0);
        s_rel(b, b->ncell[g], parts, S_NBANDS + (n[S_NBANDS] > 0));
    }
}

/* The denominator cell of an outcome for group g (n children). by_known: it
 * is defined as the children known to the dataset (a date outcome), so it is
 * their cell, the same children wherever printed. Else it is the children with
 * a value, a set of its own even when every child known to the dataset has
 * one, nested in those known to the dataset: that none lacks a value says
 * only that the data are complete, so that zero is an open cell; the children
 * of the group without a value (not known to the dataset, or known without a
 * value) are protected. */
static int
s_den(struct s_build *b, const struct s_col *col, size_t g, long valued, int by_known)
{
    const struct s_data *d = b->d;
    int known = col->dataset >= 0 ? b->known[col->dataset * 2 + (int)g] : -1;
    long nknown = 0;
    int cell;

    if (known >= 0) {
        for (size_t k = 0; k < d->n; k++)
            nknown += d->group[k] == g && s_known_to(d, col->dataset, k);
        if ((by_known || s_is_zero(b, known)) && nknown == valued)
            return known; /* by definition, or none by design */
        if (valued <= nknown) {
            cell = s_cell(b, valued, 1);
            s_within(b, known, nknown, cell, valued, S_REST_MISSING); /* and the group */
            return cell;
        }
    }
    return s_subset(b, b->ncell[g], b->size[g], valued, S_REST_ANY);
}

static int
s_is_outcome(const struct s_col *c, enum s_type t)
{
    return c->used && c->role == S_OUTCOME && c->type == t;
}

static void
s_rates(struct s_build *b)
{
    const struct s_data *d = b->d;
    struct analyst_table *t;
    size_t nrows = 0, r = 0;

    for (size_t i = 0; i < d->ncols; i++)
        nrows += s_is_outcome(&d->cols[i], S_BOOL) || s_is_outcome(&d->cols[i], S_INT) ||
                 s_is_outcome(&d->cols[i], S_DATE);
    if (nrows == 0)
        return;
    t = s_table(b, strdup("Outcome rates"),
                "Children with the outcome among those with a value (yes/no and number outcomes) "
                "or among those known to the dataset (dates: the event happened), with 95% Wilson "
                "intervals.",
                ANALYST_CHART_RATES, nrows, d->ngroups);
    if (t == NULL)
        return;
    s_group_cols(b, t);
    for (size_t i = 0; i < d->ncols && b->r == 0; i++) {
        const struct s_col *c = &d->cols[i];

        if (!s_is_outcome(c, S_BOOL) && !s_is_outcome(c, S_INT) && !s_is_outcome(c, S_DATE))
            continue;
        s_label(b, &t->rows[r],
                s_fmt("%s (%s): %s", c->name, c->source,
                      c->type == S_BOOL  ? "yes"
                      : c->type == S_INT ? "above 0"
                                         : "has a date"));
        for (size_t g = 0; g < d->ngroups; g++) {
            long yes = 0, den = 0;
            int num, dcell;

            for (size_t k = 0; k < d->n; k++) {
                if (d->group[k] != g)
                    continue;
                if (c->type == S_DATE) {
                    int known = c->dataset >= 0 && d->records_col[c->dataset] >= 0
                                    ? s_known_to(d, c->dataset, k)
                                    : 1;
                    /* a date without a record would be an extract bug; count it as known */
                    den += known || !isnan(c->v[k]);
                    yes += !isnan(c->v[k]);
                } else if (!isnan(c->v[k])) {
                    den++;
                    yes += c->v[k] > 0;
                }
            }
            if (c->type == S_DATE && (c->dataset < 0 || d->records_col[c->dataset] < 0)) {
                dcell = b->ncell[g]; /* nothing says who the dataset knows: all of the group */
            } else {
                dcell = s_den(b, c, g, den, c->type == S_DATE);
            }
            /* a cell of its own even when every child has the outcome; none
             * without is protected (none known to the police without an
             * offence), and suppresses this count, not the denominator */
            num = s_subset(b, dcell, den, yes, S_REST_ANY);
            s_at(t, r, g)->count = num;
            s_at(t, r, g)->den = dcell;
            if (g == 0 && c->type == S_DATE) {
                b->dated[i] = num;
                b->ndated[i] = yes;
            }
        }
        r++;
    }
}

static void
s_means(struct s_build *b)
{
    const struct s_data *d = b->d;
    struct analyst_table *t;
    size_t nrows = 0, r = 0;

    for (size_t i = 0; i < d->ncols; i++)
        nrows += s_is_outcome(&d->cols[i], S_DECIMAL);
    if (nrows == 0)
        return;
    t = s_table(b, strdup("Averages"),
                "Children with a value and the mean of the values; the mean is shown only when "
                "the number of children is.",
                ANALYST_CHART_NONE, nrows, d->ngroups);
    if (t == NULL)
        return;
    s_group_cols(b, t);
    for (size_t i = 0; i < d->ncols && b->r == 0; i++) {
        const struct s_col *c = &d->cols[i];

        if (!s_is_outcome(c, S_DECIMAL))
            continue;
        s_label(b, &t->rows[r], s_fmt("%s (%s)", c->name, c->source));
        for (size_t g = 0; g < d->ngroups; g++) {
            long n = 0;
            double sum = 0;

            for (size_t k = 0; k < d->n; k++) {
                if (d->group[k] == g && !isnan(c->v[k])) {
                    n++;
                    sum += c->v[k];
                }
            }
            s_at(t, r, g)->count = s_den(b, c, g, n, 0);
            s_at(t, r, g)->has_mean = n > 0;
            s_at(t, r, g)->mean = n > 0 ? sum / (double)n : 0;
        }
        r++;
    }
}

struct s_value {
    const char *v;
    long n[2], total;
};

static int
s_by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
s_by_total(const void *a, const void *b)
{
    const struct s_value *x = a, *y = b;

    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return strcmp(x->v, y->v);
}

/* One table per text outcome: the most common values, each a row only when at
 * least min_count children of the extract have it (a row of its own would
 * otherwise say a rare value exists), the rest under "other values". */
static void
s_text_one(struct s_build *b, const struct s_col *c)
{
    const struct s_data *d = b->d;
    long min = analyst_sdc_rules(b->sum->sdc)->min_count;
    const char **vals = NULL;
    struct s_value *dv = NULL;
    struct analyst_table *t;
    size_t nv = 0, nd = 0, nrows = 0, other;
    long valued[2] = {0, 0}, rest[2] = {0, 0};

    vals = malloc((d->n + 1) * sizeof *vals);
    dv = malloc((d->n + 1) * sizeof *dv);
    if (vals == NULL || dv == NULL) {
        b->r = xl_err_set(b->err, b->errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < d->n; k++)
        if (c->t[k] != NULL)
            vals[nv++] = c->t[k];
    /* Group the values: sort the pointers, then count each run. */
    qsort(vals, nv, sizeof *vals, s_by_text);
    for (size_t i = 0; i < nv; i++) {
        if (nd == 0 || strcmp(dv[nd - 1].v, vals[i]) != 0) {
            memset(&dv[nd], 0, sizeof dv[nd]);
            dv[nd++].v = vals[i];
        }
    }
    for (size_t k = 0; k < d->n; k++) {
        const struct s_value key = {c->t[k], {0, 0}, 0};
        struct s_value *hit;

        if (c->t[k] == NULL)
            continue;
        hit = bsearch(&key.v, dv, nd, sizeof *dv, s_by_text);
        hit->n[d->group[k]]++;
        hit->total++;
        valued[d->group[k]]++;
    }
    if (nd == 0)
        goto out; /* no child has a value: nothing to tabulate */
    qsort(dv, nd, sizeof *dv, s_by_total);
    while (nrows < nd && nrows < S_TEXT_VALUES && dv[nrows].total >= (min > 0 ? min : 1))
        nrows++;
    other = nrows < nd;
    for (size_t i = nrows; i < nd; i++)
        for (size_t g = 0; g < 2; g++)
            rest[g] += dv[i].n[g];
    t = s_table(b, s_fmt("Values of %s (%s)", c->name, c->source),
                "Children with each value among those with a value.", ANALYST_CHART_NONE,
                nrows + other, d->ngroups);
    if (t == NULL)
        goto out;
    s_group_cols(b, t);
    for (size_t r = 0; r < nrows; r++)
        s_label(b, &t->rows[r], strdup(dv[r].v));
    if (other)
        s_label(b, &t->rows[nrows], strdup("other values"));
    for (size_t g = 0; g < d->ngroups && b->r == 0; g++) {
        int *parts = calloc(nrows + 1, sizeof *parts);
        int den = s_den(b, c, g, valued[g], 0);

        if (parts == NULL) {
            b->r = xl_err_set(b->err, b->errlen, XL_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t r = 0; r < nrows + other; r++) {
            long n = r < nrows ? dv[r].n[g] : rest[g];

            parts[r] = s_inside(b, den, n);
            s_nest(b, den, valued[g], parts[r], n, S_REST_ANY, 0);
            s_at(t, r, g)->count = parts[r];
            s_at(t, r, g)->den = den;
        }
        s_rel(b, den, parts, nrows + other);
        free(parts);
    }
out:
    free(vals);
    free(dv);
}

static void
s_before_after(struct s_build *b)
{
    const struct s_data *d = b->d;
    const struct s_col *idx;
    struct analyst_table *t;
    size_t nrows = 0, r = 0;

    if (d->index_col < 0)
        return;
    idx = &d->cols[d->index_col];
    for (size_t i = 0; i < d->ncols; i++)
        nrows += s_is_outcome(&d->cols[i], S_DATE) &&
                 (b->sum->cohort == NULL || strcmp(d->cols[i].source, b->sum->cohort) != 0);
    if (nrows == 0)
        return;
    t = s_table(b, s_fmt("Before and after the index date (%s)", idx->name),
                "Children of the cohort with an index date and a date for the event, by whether "
                "the event came before the index date or on or after it.",
                ANALYST_CHART_BARS, nrows, 3);
    if (t == NULL)
        return;
    s_label(b, &t->cols[0], strdup("before"));
    s_label(b, &t->cols[1], strdup("on or after"));
    s_label(b, &t->cols[2], strdup("with both dates"));
    for (size_t i = 0; i < d->ncols && b->r == 0; i++) {
        const struct s_col *c = &d->cols[i];
        long before = 0, after = 0;
        int parts[2], both;

        if (!s_is_outcome(c, S_DATE) ||
            (b->sum->cohort != NULL && strcmp(c->source, b->sum->cohort) == 0))
            continue;
        s_label(b, &t->rows[r], s_fmt("%s (%s)", c->name, c->source));
        for (size_t k = 0; k < d->n; k++) {
            if (d->group[k] != 0 || isnan(idx->v[k]) || isnan(c->v[k]))
                continue;
            before += c->v[k] < idx->v[k];
            after += c->v[k] >= idx->v[k];
        }
        /* Those with both dates are those with the event's date (the rates
         * table's count) less those with no index date: a set of its own,
         * nested in that one, and none without an index date says only that
         * the data are complete. */
        if (b->dated[i] >= 0)
            both = s_subset(b, b->dated[i], b->ndated[i], before + after, S_REST_MISSING);
        else
            both = s_cell(b, before + after, 1);
        s_within(b, b->ncell[0], b->size[0], both, before + after, S_REST_ANY);
        parts[0] = s_cell(b, before, 1);
        parts[1] = s_cell(b, after, 1);
        s_rel(b, both, parts, 2);
        s_nest(b, both, before + after, parts[0], before, S_REST_ANY, 0);
        s_nest(b, both, before + after, parts[1], after, S_REST_ANY, 0);
        s_at(t, r, 0)->count = parts[0];
        s_at(t, r, 0)->den = both;
        s_at(t, r, 1)->count = parts[1];
        s_at(t, r, 1)->den = both;
        s_at(t, r, 2)->count = both;
        r++;
    }
}

static int
s_find_roles(const struct analyst_summary *sum, struct s_data *d, char *err, size_t errlen)
{
    d->cohort_col = d->evidence_col = d->datasets_col = d->index_col = -1;
    d->records_col = malloc((sum->ndatasets + 1) * sizeof *d->records_col);
    if (d->records_col == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < sum->ndatasets; k++)
        d->records_col[k] = -1;
    for (size_t i = 0; i < d->ncols; i++) {
        const struct s_col *c = &d->cols[i];

        if (c->role == S_COHORT)
            d->cohort_col = (int)i;
        else if (c->role == S_EVIDENCE)
            d->evidence_col = (int)i;
        else if (c->role == S_DATASETS)
            d->datasets_col = (int)i;
        else if (c->role == S_RECORDS && c->dataset >= 0)
            d->records_col[c->dataset] = (int)i;
        else if (c->role == S_INDEX && sum->index_date != NULL)
            d->index_col = (int)i; /* the manifest names the attribute; the column is its */
    }
    /* An extract narrowed to datasets without the cohort's has no cohort
     * column: then there is one group and no before and after. */
    if (sum->cohort == NULL)
        d->cohort_col = -1; /* no cohort: one group, whatever the columns say */
    d->ngroups = d->cohort_col >= 0 ? 2 : 1;
    return 0;
}

int
analyst_summary_load(const char *dir, struct analyst_summary **out, char *err, size_t errlen)
{
    struct analyst_summary *sum = calloc(1, sizeof *sum);
    struct analyst_sdc_rules rules;
    struct s_data d;
    struct s_build b;
    int *ds = NULL, r;
    size_t nds;

    *out = NULL;
    memset(&d, 0, sizeof d);
    memset(&b, 0, sizeof b);
    if (sum == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    if ((r = s_manifest(dir, sum, &rules, err, errlen)) != 0 ||
        (r = s_dictionary(dir, sum, &d, err, errlen)) != 0 ||
        (r = s_find_roles(sum, &d, err, errlen)) != 0 || (r = s_people(dir, &d, err, errlen)) != 0)
        goto out;
    sum->sdc = analyst_sdc_new(&rules);
    b.known = malloc((2 * sum->ndatasets + 1) * sizeof *b.known);
    b.dated = malloc((d.ncols + 1) * sizeof *b.dated);
    b.ndated = calloc(d.ncols + 1, sizeof *b.ndated);
    ds = malloc((sum->ndatasets + 1) * sizeof *ds);
    if (sum->sdc == NULL || b.known == NULL || b.dated == NULL || b.ndated == NULL || ds == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < 2 * sum->ndatasets; k++)
        b.known[k] = -1;
    for (size_t k = 0; k < d.ncols; k++)
        b.dated[k] = -1;
    b.sum = sum;
    b.d = &d;
    b.err = err;
    b.errlen = errlen;
    nds = s_recorded(&b, ds);
    s_sizes(&b);
    s_overlap(&b, ds, nds);
    s_evidence(&b);
    s_rates(&b);
    s_means(&b);
    for (size_t i = 0; i < d.ncols && b.r == 0; i++)
        if (s_is_outcome(&d.cols[i], S_TEXT))
            s_text_one(&b, &d.cols[i]);
    s_before_after(&b);
    if ((r = b.r) != 0)
        goto out;
    r = analyst_sdc_apply(sum->sdc);
    if (r != 0) {
        xl_err_set(err, errlen, r, "summary: disclosure control failed: %s", xl_strerror(r));
        goto out;
    }
    *out = sum;
    sum = NULL;
out:
    free(ds);
    free(b.known);
    free(b.dated);
    free(b.ndated);
    free(b.links);
    s_data_free(&d);
    analyst_summary_destroy(&sum);
    return r;
}

void
analyst_summary_destroy(struct analyst_summary **s)
{
    struct analyst_summary *p;

    if (s == NULL || *s == NULL)
        return;
    p = *s;
    for (size_t i = 0; i < p->ntables; i++) {
        struct analyst_table *t = &p->tables[i];

        for (size_t k = 0; t->rows != NULL && k < t->nrows; k++)
            free(t->rows[k]);
        for (size_t k = 0; t->cols != NULL && k < t->ncols; k++)
            free(t->cols[k]);
        free(t->rows);
        free(t->cols);
        free(t->e);
        free(t->title);
        free(t->note);
        free(t->group);
    }
    free(p->tables);
    for (size_t k = 0; k < p->ndatasets; k++)
        free(p->datasets[k]);
    free(p->datasets);
    free(p->project);
    free(p->purpose);
    free(p->legal_basis);
    free(p->created);
    free(p->cohort);
    free(p->index_date);
    analyst_sdc_destroy(&p->sdc);
    free(p);
    *s = NULL;
}

/* ---- presenting an entry ----------------------------------------------- */

static void
s_pct(char *buf, size_t len, double p)
{
    snprintf(buf, len, "%.0f%%", p * 100);
}

const char *
analyst_entry_text(const struct analyst_summary *s, const struct analyst_entry *e, char *buf,
                   size_t len)
{
    enum analyst_sdc_state st = analyst_sdc_state(s->sdc, e->count);
    struct analyst_rate rate;
    char p[16], lo[16], hi[16];
    long n, den;

    if (e->count < 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    if (!analyst_sdc_shown(s->sdc, e->count, &n))
        return analyst_sdc_reason(s->sdc, st, buf, len);
    if (e->den >= 0) {
        if (!analyst_sdc_shown(s->sdc, e->den, &den)) {
            snprintf(buf, len, "%ld (rate withheld: the denominator is suppressed)", n);
            return buf;
        }
        analyst_sdc_rate(s->sdc, e->count, e->den, &rate);
        s_pct(p, sizeof p, rate.p);
        s_pct(lo, sizeof lo, rate.lo);
        s_pct(hi, sizeof hi, rate.hi);
        snprintf(buf, len, "%ld of %ld: %s (%s to %s)", n, den, p, lo, hi);
        return buf;
    }
    if (e->has_mean) {
        snprintf(buf, len,
                 fabs(e->mean) >= 10 ? "%ld with a value, mean %.1f"
                                     : "%ld with a value, mean %.2f",
                 n, e->mean);
        return buf;
    }
    snprintf(buf, len, "%ld", n);
    return buf;
}

void
analyst_sdc_words(const struct analyst_summary *s, void (*line)(void *arg, const char *text),
                  void *arg)
{
    const struct analyst_sdc_rules *r = analyst_sdc_rules(s->sdc);
    char buf[640];

    if (r->min_count > 0) {
        snprintf(buf, sizeof buf,
                 "Counts below %ld are suppressed (\"suppressed: fewer than %ld\"). A zero is "
                 "suppressed like any count below %ld, because \"none of the group\" can itself "
                 "disclose something about the children (that every child known to the police "
                 "has an offence, say).",
                 r->min_count, r->min_count, r->min_count);
        line(arg, buf);
        if (s->cohort != NULL) {
            snprintf(buf, sizeof buf,
                     "Zeros that follow from how the extract is made are not suppressed, "
                     "because every reader knows them already: the comparison group is the "
                     "children with no record in %s, so by design none of them is known to "
                     "it, has a value from it, or is in every dataset of the extract. These "
                     "are printed as \"0 (none by design)\" and never make another count "
                     "suppressed.",
                     s->cohort);
            line(arg, buf);
        }
    } else {
        line(arg, "No threshold: this project's settings show counts of any size, zeros "
                  "included.");
    }
    if (r->round_to > 1)
        snprintf(buf, sizeof buf,
                 "Every count shown is rounded to the nearest %ld (halves rounded up), so no "
                 "count printed here is an exact count.",
                 r->round_to);
    else
        snprintf(buf, sizeof buf, "Counts are not rounded: this project's settings turn it off.");
    line(arg, buf);
    line(arg, "A count is the same count in every table that counts the same children by "
              "definition (the children known to a dataset, in its table, on the overlap "
              "diagonal and as the denominator of a date outcome), shown or suppressed alike "
              "wherever it appears. Counts defined differently are separate counts even when "
              "they come out equal. When a count is all of its total and the children it "
              "leaves out would be a zero that discloses (every child known to the dataset has "
              "the outcome), the count and its rate are suppressed and the total stays shown: "
              "a reader knows only that the count is at most the total.");
    line(arg, "Where cells add up to a total that is shown (yes and no to the children with a "
              "value, those with a value to those known to the dataset, those known to a "
              "dataset to the group, values or bands to the group, before and on/after to "
              "those with both dates, cohort and comparison to all children, two datasets to "
              "one), and the others would give back a suppressed cell or a difference below "
              "the threshold, the next-smallest cell is suppressed too (\"suppressed: would "
              "reveal a suppressed cell\").");
    line(arg, "Rates and their 95% Wilson intervals are computed from the exact counts and shown, "
              "as whole percentages, only when both the number with the outcome and the "
              "denominator are shown.");
    line(arg, "A mean is shown only when the number of children with a value is shown.");
    snprintf(buf, sizeof buf,
             "A text value has a row of its own only when at least %ld children of the extract "
             "have it and it is among the %d most common; the others are counted together as "
             "\"other values\".",
             r->min_count > 0 ? r->min_count : 1, S_TEXT_VALUES);
    line(arg, buf);
}

int
analyst_summary(const char *dir, const char *html_path, FILE *out, char *err, size_t errlen)
{
    struct analyst_summary *s = NULL;
    int r = analyst_summary_load(dir, &s, err, errlen);

    if (r != 0)
        return r;
    r = analyst_text_write(s, out, err, errlen);
    if (r == 0 && html_path != NULL)
        r = analyst_report_html(s, html_path, err, errlen);
    analyst_summary_destroy(&s);
    return r;
}
