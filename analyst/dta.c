/* The Stata .dta writer (dta 118) over ReadStat; see dta.h for what each type
 * becomes. Values are parsed and checked for a whole row before ReadStat sees
 * any of them, so a bad value leaves nothing half written.
 *
 * strL: ReadStat writes the file's map, which gives the offset of every
 * section after the data, when the first row begins, and sizes the strL
 * section from the string references added by then. So every strL value must
 * be added before the first row: a file with a strL variable keeps its rows in
 * memory and writes them all at close. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <readstat.h>
#include <utf8proc.h>

#include "dta.h"
#include "xl/err.h"

#define S_DTA_VERSION 118
/* Stata keeps the values above these for its missing codes (., .a ... .z). */
#define S_LONG_MIN   (-2147483647LL)
#define S_LONG_MAX   2147483620LL
#define S_DOUBLE_MAX 0x1.fffffffffffffp+1022 /* 8.988e307 */
/* The years Stata's %td format shows. */
#define S_YEAR_MIN 100
#define S_YEAR_MAX 9999

struct s_var {
    char name[ANALYST_DTA_NAME_MAX + 1];
    enum analyst_vtype type;
    size_t width;
    int strl;
    readstat_variable_t *rv;
};

/* One parsed value. */
struct s_cell {
    int missing;
    int32_t i;                  /* int, bool, date */
    double x;                   /* decimal */
    const char *s;              /* text */
    readstat_string_ref_t *ref; /* strL, once added to the writer */
};

/* A row kept for a file with strL variables: its cells, then their text. */
struct s_row {
    struct s_row *next;
    struct s_cell cells[];
};

struct analyst_dta {
    char *path;
    FILE *fp;
    int regular; /* fsync only a regular file: a device may refuse it */
    readstat_writer_t *w;
    struct s_var *vars;
    struct s_cell *cells; /* the row being parsed */
    size_t nvars;
    int buffered;               /* a strL variable: rows are written at close */
    struct s_row *head, **tail; /* the kept rows, in order */
    uint64_t nrows;
    uint64_t written;
    int io_errno; /* errno of the first failed write, 0 if none */
    int failcode; /* set once a write failed: the file is unusable */
};

static const char *const s_reserved[] = {
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if",    "in",   "int", "long",
    "_n",   "_N", "_pi",  "_pred", "_rc",   "_skip",  "strL",  "using", "with", NULL};

static int
s_is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A valid Stata name in dta 118, restricted to ASCII as the interface says. */
static int
s_name_ok(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > ANALYST_DTA_NAME_MAX || !s_is_alpha(name[0]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!s_is_alpha(name[i]) && !s_is_digit(name[i]))
            return 0;
    for (size_t i = 0; s_reserved[i] != NULL; i++)
        if (strcmp(name, s_reserved[i]) == 0)
            return 0;
    /* str1 ... str2045 are storage types. */
    if (strncmp(name, "str", 3) == 0 && s_is_digit(name[3]))
        return 0;
    return 1;
}

/* A refused name, shown safely in a message: printable ASCII, at most 40 bytes. */
static const char *
s_show(const char *name, char *buf, size_t len)
{
    size_t o = 0;

    if (name == NULL)
        return "(null)";
    for (size_t i = 0; name[i] != '\0' && o + 1 < len && i < 40; i++)
        buf[o++] = (name[i] > 0x20 && name[i] < 0x7f) ? name[i] : '?';
    buf[o] = '\0';
    return buf;
}

static int
s_utf8_ok(const char *s, size_t n)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;

    while (n > 0) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)n, &c);
        if (k <= 0)
            return 0;
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

/* The first bytes of s, at most ANALYST_DTA_LABEL_MAX, cut where a character
 * starts so the label stays valid UTF-8. */
static void
s_label_cut(const char *s, char out[ANALYST_DTA_LABEL_MAX + 1])
{
    size_t n = strlen(s);

    if (n > ANALYST_DTA_LABEL_MAX) {
        n = ANALYST_DTA_LABEL_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

static int
s_io_error(const struct analyst_dta *d, int e, const char *what, char *err, size_t errlen)
{
    int code = (e == ENOSPC || e == EDQUOT) ? XL_ERR_NOSPACE : XL_ERR_IO;

    return xl_err_set(err, errlen, code, "%s: %s: %s", d->path, what, strerror(e));
}

/* The error of a ReadStat call: the write error our callback saw, if any. */
static int
s_rs_error(const struct analyst_dta *d, readstat_error_t rs, char *err, size_t errlen)
{
    if (d->io_errno != 0)
        return s_io_error(d, d->io_errno, "write failed", err, errlen);
    if (rs == READSTAT_ERROR_MALLOC)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    return xl_err_set(err, errlen, XL_ERR_INTERNAL, "%s: writing the Stata file failed: %s",
                      d->path, readstat_error_message(rs));
}

static int
s_fail(struct analyst_dta *d, readstat_error_t rs, char *err, size_t errlen)
{
    d->failcode = s_rs_error(d, rs, err, errlen);
    return d->failcode;
}

/* ReadStat's output callback. It returns 0, not -1, on failure: ReadStat 1.1.8
 * keeps the result in a size_t, where -1 would read as everything written. */
static ssize_t
s_data_writer(const void *data, size_t len, void *ctx)
{
    struct analyst_dta *d = ctx;

    if (d->io_errno != 0)
        return 0;
    errno = 0;
    if (len > 0 && fwrite(data, 1, len, d->fp) != len) {
        d->io_errno = errno != 0 ? errno : EIO;
        return 0;
    }
    return (ssize_t)len;
}

static void
s_free(struct analyst_dta *d)
{
    if (d == NULL)
        return;
    if (d->w != NULL)
        readstat_writer_free(d->w); /* frees the string refs too */
    if (d->fp != NULL)
        fclose(d->fp);
    while (d->head != NULL) {
        struct s_row *next = d->head->next;
        free(d->head);
        d->head = next;
    }
    free(d->cells);
    free(d->vars);
    free(d->path);
    free(d);
}

static int
s_check_vars(const struct analyst_dta_var *vars, size_t nvars, char *err, size_t errlen)
{
    char shown[48];

    for (size_t i = 0; i < nvars; i++) {
        const struct analyst_dta_var *v = &vars[i];

        if (!s_name_ok(v->name))
            return xl_err_set(err, errlen, XL_ERR_INVALID,
                              "variable %zu: \"%s\" is not a Stata variable name (1-%d of "
                              "A-Z a-z 0-9 _, not starting with a digit, not a reserved word)",
                              i + 1, s_show(v->name, shown, sizeof shown), ANALYST_DTA_NAME_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcmp(vars[j].name, v->name) == 0)
                return xl_err_set(err, errlen, XL_ERR_INVALID, "variable %s: name used twice",
                                  v->name);
        if (v->type != ANALYST_V_INT && v->type != ANALYST_V_DECIMAL && v->type != ANALYST_V_BOOL &&
            v->type != ANALYST_V_DATE && v->type != ANALYST_V_TEXT)
            return xl_err_set(err, errlen, XL_ERR_INVALID, "variable %s: unknown type %d", v->name,
                              (int)v->type);
        if (v->type == ANALYST_V_TEXT && v->width == 0)
            return xl_err_set(err, errlen, XL_ERR_INVALID,
                              "variable %s: text width must be at least 1", v->name);
        if (v->label != NULL && !s_utf8_ok(v->label, strlen(v->label)))
            return xl_err_set(err, errlen, XL_ERR_INVALID, "variable %s: label is not UTF-8",
                              v->name);
    }
    return 0;
}

static int
s_open_file(struct analyst_dta *d, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(d->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd < 0)
        return s_io_error(d, errno, "cannot create", err, errlen);
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return s_io_error(d, e, "cannot stat", err, errlen);
    }
    d->regular = S_ISREG(st.st_mode);
    /* An existing file keeps its mode through O_TRUNC: person-level data is
     * for its owner only. */
    if (d->regular && (st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
        int e = errno;
        close(fd);
        return s_io_error(d, e, "cannot set mode 0600", err, errlen);
    }
    d->fp = fdopen(fd, "wb");
    if (d->fp == NULL) {
        int e = errno;
        close(fd);
        return s_io_error(d, e, "cannot open", err, errlen);
    }
    return 0;
}

static int
s_add_vars(struct analyst_dta *d, const struct analyst_dta_var *vars)
{
    readstat_label_set_t *yesno = NULL;
    char label[ANALYST_DTA_LABEL_MAX + 1];

    for (size_t i = 0; i < d->nvars; i++) {
        if (vars[i].type == ANALYST_V_BOOL) {
            yesno = readstat_add_label_set(d->w, READSTAT_TYPE_INT32, "yesno");
            if (yesno == NULL)
                return XL_ERR_NOMEM;
            readstat_label_int32_value(yesno, 0, "no");
            readstat_label_int32_value(yesno, 1, "yes");
            break;
        }
    }
    for (size_t i = 0; i < d->nvars; i++) {
        struct s_var *v = &d->vars[i];
        readstat_type_t type = READSTAT_TYPE_INT32;
        size_t width = 0;

        memcpy(v->name, vars[i].name, strlen(vars[i].name) + 1);
        v->type = vars[i].type;
        v->width = vars[i].width;
        switch (v->type) {
        case ANALYST_V_INT:
        case ANALYST_V_DATE: type = READSTAT_TYPE_INT32; break;
        case ANALYST_V_DECIMAL: type = READSTAT_TYPE_DOUBLE; break;
        case ANALYST_V_BOOL: type = READSTAT_TYPE_INT8; break;
        case ANALYST_V_TEXT:
            v->strl = v->width > ANALYST_DTA_STR_MAX;
            d->buffered |= v->strl;
            type = v->strl ? READSTAT_TYPE_STRING_REF : READSTAT_TYPE_STRING;
            width = v->strl ? 0 : v->width;
            break;
        }
        v->rv = readstat_add_variable(d->w, v->name, type, width);
        if (v->rv == NULL)
            return XL_ERR_NOMEM;
        if (vars[i].label != NULL) {
            s_label_cut(vars[i].label, label);
            readstat_variable_set_label(v->rv, label);
        }
        if (v->type == ANALYST_V_DATE)
            readstat_variable_set_format(v->rv, "%td");
        if (v->type == ANALYST_V_BOOL)
            readstat_variable_set_label_set(v->rv, yesno);
    }
    return 0;
}

int
analyst_dta_open(const char *path, const struct analyst_dta_var *vars, size_t nvars, uint64_t nrows,
                 const char *file_label, struct analyst_dta **out, char *err, size_t errlen)
{
    struct analyst_dta *d = NULL;
    char label[ANALYST_DTA_LABEL_MAX + 1];
    readstat_error_t rs;
    int r = XL_ERR_INTERNAL;

    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_INVALID, "Stata file: no path given");
    if (vars == NULL || nvars == 0 || nvars > ANALYST_DTA_VARS_MAX)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "%s: a Stata file holds 1 to %d variables, not %zu", path,
                          ANALYST_DTA_VARS_MAX, vars == NULL ? (size_t)0 : nvars);
    if (nrows > INT_MAX)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG,
                          "%s: %llu rows is more than the Stata writer takes (%d)", path,
                          (unsigned long long)nrows, INT_MAX);
    r = s_check_vars(vars, nvars, err, errlen);
    if (r != 0)
        return r;
    if (file_label != NULL && !s_utf8_ok(file_label, strlen(file_label)))
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: dataset label is not UTF-8", path);

    d = calloc(1, sizeof *d);
    if (d == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    d->nvars = nvars;
    d->nrows = nrows;
    d->tail = &d->head;
    d->path = strdup(path);
    d->vars = calloc(nvars, sizeof *d->vars);
    d->cells = calloc(nvars, sizeof *d->cells);
    d->w = readstat_writer_init();
    if (d->path == NULL || d->vars == NULL || d->cells == NULL || d->w == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    readstat_set_data_writer(d->w, s_data_writer);
    readstat_writer_set_file_format_version(d->w, S_DTA_VERSION);
    readstat_writer_set_file_timestamp(d->w, time(NULL));
    if (file_label != NULL) {
        s_label_cut(file_label, label);
        readstat_writer_set_file_label(d->w, label);
    }
    r = s_add_vars(d, vars);
    if (r != 0) {
        r = xl_err_set(err, errlen, r, "out of memory");
        goto out;
    }
    /* ReadStat writes nothing before the first row: the file is created last. */
    r = s_open_file(d, err, errlen);
    if (r != 0)
        goto out;
    rs = readstat_begin_writing_dta(d->w, d, (long)nrows);
    if (rs != READSTAT_OK) {
        r = s_rs_error(d, rs, err, errlen);
        goto out;
    }
    *out = d;
    d = NULL;
    r = 0;
out:
    s_free(d);
    return r;
}

/* ---- one row ------------------------------------------------------------ */

/* [-]digits, as "%lld" writes an integer. */
static int
s_parse_int(const char *s, int32_t *out)
{
    const char *p = s[0] == '-' ? s + 1 : s;
    long long v;

    if (!s_is_digit(p[0]))
        return XL_ERR_FORMAT;
    for (const char *q = p; *q != '\0'; q++)
        if (!s_is_digit(*q))
            return XL_ERR_FORMAT;
    errno = 0;
    v = strtoll(s, NULL, 10);
    if (errno == ERANGE || v < S_LONG_MIN || v > S_LONG_MAX)
        return XL_ERR_TOOBIG;
    *out = (int32_t)v;
    return 0;
}

static int
s_parse_decimal(const char *s, double *out)
{
    double v;
    char *end;

    /* strtod skips leading space; canonical text has none. */
    if (!(s_is_digit(s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.'))
        return XL_ERR_FORMAT;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0')
        return XL_ERR_FORMAT;
    if (errno == ERANGE && isinf(v))
        return XL_ERR_TOOBIG; /* overflow, as in 1e999 */
    if (!isfinite(v))
        return XL_ERR_FORMAT; /* "nan", "inf" written out */
    if (v > S_DOUBLE_MAX)
        return XL_ERR_TOOBIG;
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long
s_days_from_civil(long y, long m, long d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" to a Stata daily date, days since 1960-01-01. */
static int
s_parse_date(const char *s, int32_t *out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long y, m, d, dim;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return XL_ERR_FORMAT;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !s_is_digit(s[i]))
            return XL_ERR_FORMAT;
    y = (s[0] - '0') * 1000L + (s[1] - '0') * 100L + (s[2] - '0') * 10L + (s[3] - '0');
    m = (s[5] - '0') * 10L + (s[6] - '0');
    d = (s[8] - '0') * 10L + (s[9] - '0');
    if (y < S_YEAR_MIN || y > S_YEAR_MAX || m < 1 || m > 12)
        return XL_ERR_FORMAT;
    dim = mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
    if (d < 1 || d > dim)
        return XL_ERR_FORMAT;
    *out = (int32_t)(s_days_from_civil(y, m, d) - s_days_from_civil(1960, 1, 1));
    return 0;
}

static const char *
s_expected(enum analyst_vtype t)
{
    switch (t) {
    case ANALYST_V_INT: return "an integer";
    case ANALYST_V_DECIMAL: return "a finite number";
    case ANALYST_V_BOOL: return "1 or 0";
    case ANALYST_V_DATE: return "a date YYYY-MM-DD in years 0100-9999";
    case ANALYST_V_TEXT: return "UTF-8 text";
    }
    return "a value";
}

static const char *
s_limit(const struct s_var *v, char *buf, size_t len)
{
    switch (v->type) {
    case ANALYST_V_INT:
        snprintf(buf, len, "outside %lld..%lld (Stata long)", S_LONG_MIN, S_LONG_MAX);
        break;
    case ANALYST_V_DECIMAL: snprintf(buf, len, "larger than Stata's largest double"); break;
    default: snprintf(buf, len, "longer than the declared %zu bytes", v->width); break;
    }
    return buf;
}

/* Parses values into d->cells; the message names the row and variable only. */
static int
s_parse_row(struct analyst_dta *d, const char *const *values, char *err, size_t errlen)
{
    char why[96];

    for (size_t i = 0; i < d->nvars; i++) {
        const struct s_var *v = &d->vars[i];
        struct s_cell *c = &d->cells[i];
        const char *s = values[i] != NULL ? values[i] : "";
        int r = 0;

        c->missing = s[0] == '\0';
        c->s = s;
        c->ref = NULL;
        if (c->missing)
            continue;
        switch (v->type) {
        case ANALYST_V_INT: r = s_parse_int(s, &c->i); break;
        case ANALYST_V_DECIMAL: r = s_parse_decimal(s, &c->x); break;
        case ANALYST_V_BOOL:
            if ((s[0] == '0' || s[0] == '1') && s[1] == '\0')
                c->i = s[0] - '0';
            else
                r = XL_ERR_FORMAT;
            break;
        case ANALYST_V_DATE: r = s_parse_date(s, &c->i); break;
        case ANALYST_V_TEXT: {
            size_t n = strlen(s);
            if (n > v->width)
                r = XL_ERR_TOOBIG;
            else if (!s_utf8_ok(s, n))
                r = XL_ERR_FORMAT;
            break;
        }
        }
        if (r == XL_ERR_FORMAT)
            return xl_err_set(err, errlen, r, "%s: row %llu, variable %s: the value is not %s",
                              d->path, (unsigned long long)d->written + 1, v->name,
                              s_expected(v->type));
        if (r != 0)
            return xl_err_set(err, errlen, r, "%s: row %llu, variable %s: the value is %s", d->path,
                              (unsigned long long)d->written + 1, v->name,
                              s_limit(v, why, sizeof why));
    }
    return 0;
}

/* Writes one row of parsed cells; strL cells carry their reference. */
static readstat_error_t
s_emit(struct analyst_dta *d, const struct s_cell *cells)
{
    readstat_error_t rs = readstat_begin_row(d->w);

    for (size_t i = 0; rs == READSTAT_OK && i < d->nvars; i++) {
        const struct s_var *v = &d->vars[i];
        const struct s_cell *c = &cells[i];

        if (v->strl)
            rs = readstat_insert_string_ref(d->w, v->rv, c->ref);
        else if (c->missing)
            rs = readstat_insert_missing_value(d->w, v->rv);
        else if (v->type == ANALYST_V_INT || v->type == ANALYST_V_DATE)
            rs = readstat_insert_int32_value(d->w, v->rv, c->i);
        else if (v->type == ANALYST_V_DECIMAL)
            rs = readstat_insert_double_value(d->w, v->rv, c->x);
        else if (v->type == ANALYST_V_BOOL)
            rs = readstat_insert_int8_value(d->w, v->rv, (int8_t)c->i);
        else
            rs = readstat_insert_string_value(d->w, v->rv, c->s);
    }
    if (rs == READSTAT_OK)
        rs = readstat_end_row(d->w);
    return rs;
}

/* Copies the parsed row, text included, to the end of the kept rows. */
static int
s_keep(struct analyst_dta *d)
{
    size_t head = sizeof(struct s_row) + d->nvars * sizeof(struct s_cell), len = head;
    struct s_row *row;
    char *p;

    for (size_t i = 0; i < d->nvars; i++)
        if (d->vars[i].type == ANALYST_V_TEXT && !d->cells[i].missing)
            len += strlen(d->cells[i].s) + 1;
    row = malloc(len);
    if (row == NULL)
        return XL_ERR_NOMEM;
    row->next = NULL;
    memcpy(row->cells, d->cells, d->nvars * sizeof(struct s_cell));
    p = (char *)row + head;
    for (size_t i = 0; i < d->nvars; i++) {
        if (d->vars[i].type == ANALYST_V_TEXT && !d->cells[i].missing) {
            size_t n = strlen(d->cells[i].s) + 1;
            memcpy(p, d->cells[i].s, n);
            row->cells[i].s = p;
            p += n;
        }
    }
    *d->tail = row;
    d->tail = &row->next;
    return 0;
}

int
analyst_dta_row(struct analyst_dta *d, const char *const *values, char *err, size_t errlen)
{
    readstat_error_t rs;
    int r;

    if (d->failcode != 0)
        return xl_err_set(err, errlen, d->failcode, "%s: not written: an earlier write failed",
                          d->path);
    if (d->written >= d->nrows)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: all %llu rows are written already",
                          d->path, (unsigned long long)d->nrows);
    r = s_parse_row(d, values, err, errlen);
    if (r != 0)
        return r;
    if (d->buffered) {
        if (s_keep(d) != 0)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    } else {
        rs = s_emit(d, d->cells);
        if (rs != READSTAT_OK)
            return s_fail(d, rs, err, errlen);
    }
    d->written++;
    return 0;
}

/* ---- finishing ---------------------------------------------------------- */

/* Adds every strL value to the writer, in the order the rows use them (the
 * order the file keeps them in), then writes the kept rows. */
static readstat_error_t
s_emit_kept(struct analyst_dta *d)
{
    readstat_string_ref_t *empty = NULL;
    readstat_error_t rs = READSTAT_OK;

    for (struct s_row *row = d->head; row != NULL; row = row->next) {
        for (size_t i = 0; i < d->nvars; i++) {
            struct s_cell *c = &row->cells[i];

            if (!d->vars[i].strl)
                continue;
            /* ReadStat writes no strL without a reference: a missing one is
             * "", one reference shared by all. */
            if (c->missing && empty == NULL)
                empty = readstat_add_string_ref(d->w, "");
            c->ref = c->missing ? empty : readstat_add_string_ref(d->w, c->s);
            if (c->ref == NULL)
                return READSTAT_ERROR_MALLOC;
        }
    }
    while (rs == READSTAT_OK && d->head != NULL) {
        struct s_row *next = d->head->next;

        rs = s_emit(d, d->head->cells);
        free(d->head);
        d->head = next;
    }
    return rs;
}

static int
s_finish(struct analyst_dta *d, char *err, size_t errlen)
{
    FILE *fp = d->fp;
    readstat_error_t rs;

    if (d->failcode != 0)
        return xl_err_set(err, errlen, d->failcode, "%s: not finished: an earlier write failed",
                          d->path);
    if (d->written != d->nrows)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: %llu rows written, %llu declared",
                          d->path, (unsigned long long)d->written, (unsigned long long)d->nrows);
    if (d->buffered) {
        rs = s_emit_kept(d);
        if (rs != READSTAT_OK)
            return s_rs_error(d, rs, err, errlen);
    }
    rs = readstat_end_writing(d->w);
    if (rs != READSTAT_OK)
        return s_rs_error(d, rs, err, errlen);
    if (fflush(fp) != 0)
        return s_io_error(d, errno, "write failed", err, errlen);
    if (d->regular && fsync(fileno(fp)) != 0)
        return s_io_error(d, errno, "fsync failed", err, errlen);
    d->fp = NULL;
    if (fclose(fp) != 0)
        return s_io_error(d, errno, "close failed", err, errlen);
    return 0;
}

int
analyst_dta_close(struct analyst_dta **dp, char *err, size_t errlen)
{
    struct analyst_dta *d;
    int r;

    if (dp == NULL || *dp == NULL)
        return 0;
    d = *dp;
    *dp = NULL;
    r = s_finish(d, err, errlen);
    s_free(d);
    return r;
}

void
analyst_dta_abort(struct analyst_dta **dp)
{
    if (dp == NULL)
        return;
    s_free(*dp);
    *dp = NULL;
}
