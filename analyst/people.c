#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "people.h"
#include "xl/buckets.h"
#include "xl/crypto.h"
#include "xl/csv.h"
#include "xl/err.h"

enum s_role { S_PSEUDONYM, S_COHORT, S_EVIDENCE, S_DATASETS, S_RECORDS, S_OUTCOME, S_INDEX };
static const char *const s_role_names[] = {"pseudonym", "cohort",  "evidence",  "datasets",
                                           "records",   "outcome", "index_date"};

struct s_col {
    const char *name;
    enum analyst_vtype vtype;
    enum s_role role;
    int ds, attr;
    size_t width; /* longest value written (text columns of the .dta) */
};

/* One value of a row in a bucket. */
struct s_val {
    const uint8_t *p;
    size_t n;
};

/* The people.csv columns of layout l into cols (caller frees). */
static struct s_col *
s_columns(const struct analyst_layout *l, size_t *ncols)
{
    size_t n = 4, k = 0;
    struct s_col *c;

    for (size_t d = 0; d < l->nds; d++)
        n += 1 + l->ds[d].nattr;
    c = calloc(n, sizeof *c);
    if (c == NULL)
        return NULL;
    c[k++] = (struct s_col){"pseudonym", ANALYST_V_TEXT, S_PSEUDONYM, -1, -1, 32};
    if (l->cohort >= 0)
        c[k++] = (struct s_col){"cohort", ANALYST_V_BOOL, S_COHORT, l->cohort, -1, 0};
    c[k++] = (struct s_col){"evidence", ANALYST_V_TEXT, S_EVIDENCE, -1, -1, 10};
    c[k++] = (struct s_col){"datasets", ANALYST_V_INT, S_DATASETS, -1, -1, 0};
    for (size_t d = 0; d < l->nds; d++) {
        c[k++] = (struct s_col){l->ds[d].records_col, ANALYST_V_INT, S_RECORDS, (int)d, -1, 0};
        for (size_t a = 0; a < l->ds[d].nattr; a++)
            c[k++] = (struct s_col){l->ds[d].attr[a].col,
                                    l->ds[d].attr[a].vtype,
                                    (int)a == l->ds[d].index_attr ? S_INDEX : S_OUTCOME,
                                    (int)d,
                                    (int)a,
                                    1};
    }
    *ncols = k;
    return c;
}

static uint32_t
s_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sorting a bucket's rows: by pseudonym, then dataset. */
static int
s_row_cmp(const void *a, const void *b, void *base)
{
    const uint8_t *x = (const uint8_t *)base + *(const size_t *)a + 4;
    const uint8_t *y = (const uint8_t *)base + *(const size_t *)b + 4;

    return memcmp(x, y, ANALYST_PSEUDONYM_BYTES + 1);
}

/* Is value a "better" than b for the person-level rule of type t? */
static int
s_better(enum analyst_vtype t, const struct s_val *a, const struct s_val *b)
{
    char x[64], y[64];
    size_t n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->p, b->p, n);

    if (c == 0)
        c = a->n < b->n ? -1 : a->n > b->n;
    switch (t) {
    case ANALYST_V_INT:
    case ANALYST_V_DECIMAL:
        snprintf(x, sizeof x, "%.*s", (int)a->n, (const char *)a->p);
        snprintf(y, sizeof y, "%.*s", (int)b->n, (const char *)b->p);
        return strtod(x, NULL) > strtod(y, NULL);
    case ANALYST_V_BOOL: return a->n == 1 && a->p[0] == '1' && !(b->n == 1 && b->p[0] == '1');
    case ANALYST_V_DATE: return c < 0; /* ISO dates: the earliest sorts first */
    default: return c < 0;
    }
}

/* The person-level value of one attribute from the values of a child's
 * records in its dataset (missing ones skipped). */
static const struct s_val *
s_pick(enum analyst_vtype t, const struct s_val *v, size_t n)
{
    const struct s_val *best = NULL;
    size_t bestcount = 0;

    for (size_t i = 0; i < n; i++) {
        if (v[i].n == 0)
            continue;
        if (t != ANALYST_V_TEXT) {
            if (best == NULL || s_better(t, &v[i], best))
                best = &v[i];
            continue;
        }
        {
            size_t count = 0;
            for (size_t j = 0; j < n; j++)
                count += v[j].n == v[i].n && memcmp(v[j].p, v[i].p, v[i].n) == 0;
            if (best == NULL || count > bestcount ||
                (count == bestcount && s_better(t, &v[i], best))) {
                best = &v[i];
                bestcount = count;
            }
        }
    }
    return best;
}

typedef int s_emit_fn(void *ctx, const char *const *vals, char *err, size_t errlen);

struct s_walk {
    const struct analyst_layout *l;
    struct s_col *cols;
    size_t ncols;
    const char **vals;
    char *scratch;
    size_t scratchcap;
    struct s_val *vbuf; /* values of one dataset's records */
    size_t vcap;
};

/* Copies n bytes into the scratch area at *used as a string. */
static const char *
s_keep(struct s_walk *w, size_t *used, const void *p, size_t n)
{
    char *s = w->scratch + *used;

    memcpy(s, p, n);
    s[n] = '\0';
    *used += n + 1;
    return s;
}

/* One child's rows (rows[0..n) offsets into buf) as one person-level row. */
static int
s_person(struct s_walk *w, const uint8_t *buf, const size_t *rows, size_t n, s_emit_fn *emit,
         void *ctx, char *err, size_t errlen)
{
    const struct analyst_layout *l = w->l;
    size_t need = 64 + 40 + 24 * (l->nds + 4), used = 0, k = 0, i = 0, ndatasets = 0;
    int weakest = 0;
    char hex[2 * ANALYST_PSEUDONYM_BYTES + 1];

    for (size_t r = 0; r < n; r++)
        need += s_be32(buf + rows[r]) + 32;
    if (need > w->scratchcap) {
        void *p = realloc(w->scratch, need);
        if (p == NULL)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        w->scratch = p;
        w->scratchcap = need;
    }
    if (n > w->vcap) {
        void *p = realloc(w->vbuf, n * sizeof *w->vbuf);
        if (p == NULL)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        w->vbuf = p;
        w->vcap = n;
    }
    xl_hex(buf + rows[0] + 4, ANALYST_PSEUDONYM_BYTES, hex);
    for (size_t r = 0; r < n; r++) {
        int band = buf[rows[r] + 4 + ANALYST_PSEUDONYM_BYTES + 1];
        weakest = band > weakest ? band : weakest;
    }
    for (k = 0; k < w->ncols; k++) {
        const struct s_col *c = &w->cols[k];
        char num[24];
        switch (c->role) {
        case S_PSEUDONYM: w->vals[k] = s_keep(w, &used, hex, strlen(hex)); break;
        case S_EVIDENCE: w->vals[k] = analyst_bands[weakest < 4 ? weakest : 3]; break;
        case S_COHORT:
        case S_DATASETS: w->vals[k] = ""; break; /* below, once the datasets are counted */
        case S_RECORDS: {
            /* rows are sorted by dataset: this dataset's rows are rows[i..j) */
            size_t j;
            while (i < n && buf[rows[i] + 4 + ANALYST_PSEUDONYM_BYTES] < c->ds)
                i++;
            for (j = i; j < n && buf[rows[j] + 4 + ANALYST_PSEUDONYM_BYTES] == c->ds; j++)
                ;
            snprintf(num, sizeof num, "%zu", j - i);
            w->vals[k] = s_keep(w, &used, num, strlen(num));
            ndatasets += j > i;
            /* each attribute column of the dataset follows its records column */
            for (size_t a = 0; a < l->ds[c->ds].nattr; a++) {
                const struct s_val *v;
                for (size_t r = i; r < j; r++) {
                    const uint8_t *p = buf + rows[r] + 4 + ANALYST_PSEUDONYM_BYTES + 2 + 2;
                    for (size_t b = 0; b < a; b++)
                        p += 2 + ((size_t)p[0] << 8 | p[1]);
                    w->vbuf[r - i] = (struct s_val){p + 2, (size_t)p[0] << 8 | p[1]};
                }
                v = s_pick(l->ds[c->ds].attr[a].vtype, w->vbuf, j - i);
                w->vals[k + 1 + a] = v != NULL ? s_keep(w, &used, v->p, v->n) : "";
            }
            k += l->ds[c->ds].nattr;
            i = j;
            break;
        }
        default: break;
        }
    }
    for (k = 0; k < w->ncols; k++) {
        char num[24];
        if (w->cols[k].role == S_DATASETS) {
            snprintf(num, sizeof num, "%zu", ndatasets);
            w->vals[k] = s_keep(w, &used, num, strlen(num));
        } else if (w->cols[k].role == S_COHORT) {
            const char *rec = NULL;
            for (size_t m = 0; m < w->ncols; m++) {
                if (w->cols[m].role == S_RECORDS && w->cols[m].ds == w->cols[k].ds)
                    rec = w->vals[m];
            }
            w->vals[k] = rec != NULL && strcmp(rec, "0") != 0 ? "1" : "0";
        }
    }
    return emit(ctx, w->vals, err, errlen);
}

/* Calls emit for every child, bucket by bucket. */
static int
s_walk(struct s_walk *w, FILE *const *buckets, size_t nbuckets, s_emit_fn *emit, void *ctx,
       char *err, size_t errlen)
{
    int r = 0;

    for (size_t b = 0; b < nbuckets && r == 0; b++) {
        struct xl_bucket_rows br;
        const uint8_t *buf;
        size_t *rows, nrows;
        r = xl_bucket_read(buckets[b], &br, err, errlen);
        if (r != 0)
            break;
        buf = br.data;
        rows = br.off;
        nrows = br.n;
        if (nrows > 0)
            qsort_r(rows, nrows, sizeof *rows, s_row_cmp, (void *)buf);
        for (size_t i = 0; i < nrows && r == 0;) {
            size_t j = i + 1;
            while (j < nrows &&
                   memcmp(buf + rows[i] + 4, buf + rows[j] + 4, ANALYST_PSEUDONYM_BYTES) == 0)
                j++;
            r = s_person(w, buf, rows + i, j - i, emit, ctx, err, errlen);
            i = j;
        }
        xl_bucket_rows_free(&br);
    }
    return r;
}

/* ---- people.csv and the kept rows (pass 1), people.dta (pass 2) ------------- */

/* The .dta's header needs the number of children and the widest text before
 * its first row, so its rows are written from the person-level rows kept by
 * pass 1 (a 4-byte big-endian length, then of each column a 2-byte length and
 * its text), not by sorting and grouping the buckets again. */
#define S_KEPT_BUF (64u << 10)

struct s_csv_pass {
    struct s_walk *w;
    FILE *f;
    FILE *kept;
    char *line; /* a row of people.csv, then of the kept rows */
    size_t linecap;
    uint64_t people;
};

static int
s_emit_csv(void *ctx, const char *const *vals, char *err, size_t errlen)
{
    struct s_csv_pass *p = ctx;
    size_t need = 8, at = 0;

    for (size_t k = 0; k < p->w->ncols; k++) {
        size_t len = strlen(vals[k]);
        if (len > 0xffff)
            return xl_err_set(err, errlen, XL_ERR_TOOBIG, "people.csv: a value too long");
        need += 2 * len + 3;
    }
    if (need > p->linecap) {
        void *n = realloc(p->line, need);
        if (n == NULL)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        p->line = n;
        p->linecap = need;
    }
    for (size_t k = 0; k < p->w->ncols; k++) {
        size_t len = strlen(vals[k]);
        if (k > 0)
            p->line[at++] = ',';
        at = xl_csv_add(p->line, at, vals[k], len);
        if (len > p->w->cols[k].width)
            p->w->cols[k].width = len;
    }
    p->line[at++] = '\n';
    if (fwrite(p->line, 1, at, p->f) != at)
        return xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                          "people.csv: cannot write: %s", strerror(errno));
    at = 4;
    for (size_t k = 0; k < p->w->ncols; k++) {
        size_t len = strlen(vals[k]);
        p->line[at++] = (char)(len >> 8);
        p->line[at++] = (char)len;
        memcpy(p->line + at, vals[k], len);
        at += len;
    }
    p->line[0] = (char)((at - 4) >> 24);
    p->line[1] = (char)((at - 4) >> 16);
    p->line[2] = (char)((at - 4) >> 8);
    p->line[3] = (char)(at - 4);
    if (fwrite(p->line, 1, at, p->kept) != at)
        return xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                          "a temporary file: cannot write: %s", strerror(errno));
    p->people++;
    return 0;
}

/* Pass 2: the kept rows, in order, to the .dta. */
static int
s_kept_to_dta(struct s_walk *w, FILE *kept, uint64_t people, struct analyst_dta *dta, char *err,
              size_t errlen)
{
    uint8_t *row = NULL;
    size_t rowcap = 0;
    int r = 0;

    if (fflush(kept) != 0 || fseek(kept, 0, SEEK_SET) != 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "a temporary file: %s", strerror(errno));
    for (uint64_t i = 0; i < people && r == 0; i++) {
        uint8_t hdr[4];
        size_t len, at = 0, used = 0;
        if (fread(hdr, 1, 4, kept) != 4) {
            r = xl_err_set(err, errlen, XL_ERR_IO, "a temporary file could not be read back");
            break;
        }
        len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
        if (len > rowcap) {
            void *a = realloc(row, len);
            if (a == NULL) {
                r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
                break;
            }
            row = a;
            rowcap = len;
        }
        if (len + w->ncols > w->scratchcap) {
            void *b = realloc(w->scratch, len + w->ncols);
            if (b == NULL) {
                r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
                break;
            }
            w->scratch = b;
            w->scratchcap = len + w->ncols;
        }
        if (fread(row, 1, len, kept) != len) {
            r = xl_err_set(err, errlen, XL_ERR_IO, "a temporary file could not be read back");
            break;
        }
        for (size_t k = 0; k < w->ncols && r == 0; k++) {
            size_t n = len - at >= 2 ? (size_t)row[at] << 8 | row[at + 1] : 0;
            if (len - at < 2 || n > len - at - 2) {
                r = xl_err_set(err, errlen, XL_ERR_IO, "a temporary file was cut short");
                break;
            }
            w->vals[k] = s_keep(w, &used, row + at + 2, n);
            at += 2 + n;
        }
        if (r == 0)
            r = analyst_dta_row(dta, w->vals, err, errlen);
    }
    free(row);
    return r;
}

/* ---- dictionary.csv ------------------------------------------------------------ */

static const char *
s_type_name(enum analyst_vtype t)
{
    static const char *const names[] = {"int", "decimal", "bool", "date", "text"};

    return (unsigned)t < 5 ? names[t] : "text";
}

static const char *
s_values(enum analyst_vtype t)
{
    switch (t) {
    case ANALYST_V_INT: return "whole numbers; empty: no record or no value";
    case ANALYST_V_DECIMAL: return "numbers; empty: no record or no value";
    case ANALYST_V_BOOL: return "1 yes, 0 no; empty: no record or no value";
    case ANALYST_V_DATE: return "YYYY-MM-DD; empty: no record or no value";
    default: return "text; empty: no record or no value";
    }
}

static const char *
s_rule(enum analyst_vtype t)
{
    switch (t) {
    case ANALYST_V_INT:
    case ANALYST_V_DECIMAL: return "the largest";
    case ANALYST_V_BOOL: return "1 if any record says 1";
    case ANALYST_V_DATE: return "the earliest";
    default: return "the most frequent";
    }
}

/* The meaning of a column in plain words into out. */
static void
s_meaning(const struct analyst_layout *l, const struct s_col *c, int person_level, char *out,
          size_t len)
{
    const struct analyst_dataset *d = c->ds >= 0 ? &l->ds[c->ds] : NULL;

    switch (c->role) {
    case S_PSEUDONYM:
        snprintf(out, len,
                 "The child's pseudonym in project %s: the same in every extract of the project "
                 "while the child's records stay linked; unrelated to any other project's",
                 l->project);
        break;
    case S_COHORT:
        snprintf(out, len,
                 "1: the child has a record in the cohort dataset %s/%s; 0: the comparison group",
                 d->agency, d->dataset);
        break;
    case S_EVIDENCE:
        snprintf(out, len,
                 person_level
                     ? "The weakest link evidence among the child's records: identifier (NHS "
                       "number or UPN), keys (exact match keys), probable (a fuzzy match above "
                       "the linker's threshold), single (one record, linked to no other)"
                     : "How this record was linked to the child: identifier (NHS number or UPN), "
                       "keys (exact match keys), probable (a fuzzy match above the linker's "
                       "threshold), single (linked to no other record)");
        break;
    case S_DATASETS:
        snprintf(out, len, "How many of the extract's datasets hold a record of the child");
        break;
    case S_RECORDS:
        snprintf(out, len, "Records of the child in %s/%s (0: not known to it)", d->agency,
                 d->dataset);
        break;
    default:
        if (person_level)
            snprintf(out, len, "%s of %s/%s%s; from several records: %s", d->attr[c->attr].name,
                     d->agency, d->dataset, c->role == S_INDEX ? " (the project's index date)" : "",
                     s_rule(c->vtype));
        else
            snprintf(out, len, "%s of %s/%s, as the agency recorded it", d->attr[c->attr].name,
                     d->agency, d->dataset);
        break;
    }
}

static void
s_dict_row(FILE *f, const char *file, const char *col, const char *type, const char *role,
           const char *source, const char *meaning, const char *values)
{
    const char *v[] = {file, col, type, role, source, meaning, values};

    for (size_t i = 0; i < 7; i++) {
        if (i > 0)
            fputc(',', f);
        xl_csv_put(f, v[i]);
    }
    fputc('\n', f);
}

static void
s_dictionary(const struct analyst_layout *l, const struct s_col *cols, size_t ncols, FILE *f)
{
    char meaning[512], source[2 * XL_NAME_MAX];

    fprintf(f, "file,column,type,role,source,meaning,values\n");
    for (size_t k = 0; k < ncols; k++) {
        const struct s_col *c = &cols[k];
        const char *values = c->role == S_PSEUDONYM  ? "32 hexadecimal digits"
                             : c->role == S_EVIDENCE ? "identifier, keys, probable, single"
                             : c->role == S_COHORT   ? "1 yes, 0 no"
                             : c->role == S_DATASETS || c->role == S_RECORDS
                                 ? "whole numbers from 0"
                                 : s_values(c->vtype);
        source[0] = '\0';
        if (c->ds >= 0)
            snprintf(source, sizeof source, "%s/%s", l->ds[c->ds].agency, l->ds[c->ds].dataset);
        s_meaning(l, c, 1, meaning, sizeof meaning);
        s_dict_row(f, "people.csv", c->name, s_type_name(c->vtype), s_role_names[c->role],
                   c->role == S_EVIDENCE || c->role == S_DATASETS ? "" : source, meaning, values);
    }
    /* records.csv: one row per record */
    {
        struct s_col ev = {"evidence", ANALYST_V_TEXT, S_EVIDENCE, -1, -1, 0};
        s_dict_row(f, "records.csv", "pseudonym", "text", "pseudonym", "",
                   "The child's pseudonym in the project (as in people.csv)",
                   "32 hexadecimal digits");
        s_dict_row(f, "records.csv", "agency", "text", "source", "", "The agency of the record",
                   "agency names");
        s_dict_row(f, "records.csv", "dataset", "text", "source", "", "The dataset of the record",
                   "dataset names");
        s_meaning(l, &ev, 0, meaning, sizeof meaning);
        s_dict_row(f, "records.csv", "evidence", "text", "evidence", "", meaning,
                   "identifier, keys, probable, single");
        for (size_t d = 0; d < l->nds; d++) {
            for (size_t a = 0; a < l->ds[d].nattr; a++) {
                struct s_col c = {
                    l->ds[d].attr[a].col, l->ds[d].attr[a].vtype, S_OUTCOME, (int)d, (int)a, 0};
                snprintf(source, sizeof source, "%s/%s", l->ds[d].agency, l->ds[d].dataset);
                s_meaning(l, &c, 0, meaning, sizeof meaning);
                s_dict_row(f, "records.csv", c.name, s_type_name(c.vtype), "outcome", source,
                           meaning, s_values(c.vtype));
            }
        }
    }
}

void
analyst_records_header(const struct analyst_layout *l, FILE *f)
{
    fputs("pseudonym,agency,dataset,evidence", f);
    for (size_t d = 0; d < l->nds; d++) {
        for (size_t a = 0; a < l->ds[d].nattr; a++)
            fprintf(f, ",%s", l->ds[d].attr[a].col);
    }
    fputc('\n', f);
}

static FILE *
s_create(const char *dir, const char *name, char *path, size_t len, char *err, size_t errlen)
{
    FILE *f;

    snprintf(path, len, "%s/%s", dir, name);
    f = fopen(path, "wx");
    if (f == NULL)
        xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    return f;
}

static int
s_close(FILE *f, const char *path, char *err, size_t errlen)
{
    int bad = ferror(f) | fflush(f) | fsync(fileno(f));

    if (fclose(f) != 0 || bad)
        return xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                          "%s: cannot write: %s", path, strerror(errno));
    return 0;
}

int
analyst_people_write(const struct analyst_layout *l, FILE *const *buckets, size_t nbuckets,
                     const char *dir, uint64_t *people, char *err, size_t errlen)
{
    struct s_walk w = {.l = l};
    struct s_csv_pass pass = {.w = &w};
    struct analyst_dta_var *vars = NULL;
    struct analyst_dta *dta = NULL;
    char path[4096], label[512], title[128], *keptbuf = NULL;
    FILE *f = NULL;
    int r;

    w.cols = s_columns(l, &w.ncols);
    w.vals = w.cols != NULL ? calloc(w.ncols, sizeof *w.vals) : NULL;
    vars = w.vals != NULL ? calloc(w.ncols, sizeof *vars) : NULL;
    if (vars == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* people.csv, measuring the text columns for the .dta */
    f = s_create(dir, "people.csv", path, sizeof path, err, errlen);
    if (f == NULL) {
        r = XL_ERR_IO;
        goto out;
    }
    for (size_t k = 0; k < w.ncols; k++)
        fprintf(f, "%s%s", k > 0 ? "," : "", w.cols[k].name);
    fputc('\n', f);
    pass.f = f;
    pass.kept = xl_tmpstream(dir, err, errlen);
    keptbuf = pass.kept != NULL ? malloc(S_KEPT_BUF) : NULL;
    if (keptbuf == NULL) {
        r = pass.kept == NULL ? XL_ERR_IO : xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    setvbuf(pass.kept, keptbuf, _IOFBF, S_KEPT_BUF);
    r = s_walk(&w, buckets, nbuckets, s_emit_csv, &pass, err, errlen);
    f = NULL;
    if (r == 0)
        r = s_close(pass.f, path, err, errlen);
    else
        fclose(pass.f);
    if (r != 0)
        goto out;
    *people = pass.people;
    /* dictionary.csv */
    f = s_create(dir, "dictionary.csv", path, sizeof path, err, errlen);
    if (f == NULL) {
        r = XL_ERR_IO;
        goto out;
    }
    s_dictionary(l, w.cols, w.ncols, f);
    r = s_close(f, path, err, errlen);
    f = NULL;
    if (r != 0)
        goto out;
    /* people.dta: the same rows, with the dictionary's meanings as labels */
    {
        char **labels = calloc(w.ncols, sizeof *labels);
        if (labels == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t k = 0; k < w.ncols; k++) {
            s_meaning(l, &w.cols[k], 1, label, sizeof label);
            labels[k] = strdup(label);
            vars[k] = (struct analyst_dta_var){w.cols[k].name, labels[k] ? labels[k] : "",
                                               w.cols[k].vtype,
                                               w.cols[k].width > 0 ? w.cols[k].width : 1};
        }
        snprintf(path, sizeof path, "%s/people.dta", dir);
        snprintf(title, sizeof title, "crosslink extract of project %s", l->project);
        r = analyst_dta_open(path, vars, w.ncols, pass.people, title, &dta, err, errlen);
        if (r == 0)
            r = s_kept_to_dta(&w, pass.kept, pass.people, dta, err, errlen);
        if (r == 0)
            r = analyst_dta_close(&dta, err, errlen);
        else
            analyst_dta_abort(&dta);
        for (size_t k = 0; k < w.ncols; k++)
            free(labels[k]);
        free(labels);
    }
out:
    if (f != NULL)
        fclose(f);
    if (pass.kept != NULL)
        fclose(pass.kept);
    free(keptbuf);
    free(pass.line);
    free(vars);
    free(w.vals);
    free(w.cols);
    free(w.scratch);
    free(w.vbuf);
    return r;
}
