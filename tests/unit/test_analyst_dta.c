/* Unit tests for analyst/dta.c: the Stata .dta writer.
 *
 * Files are read back with ReadStat's own dta parser, which is independent of
 * the writer's checks, and, when the readstat command is installed, converted
 * to CSV by it as a second reader. Known answers for Stata daily dates: td(01jan1960)
 * = 0 and td(01jan2000) = 14610 (Stata [D] datetime). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <readstat.h>

#include "../../analyst/dta.h"
#include "testutil.h"
#include "xl/err.h"

#define R_VARS 8
#define R_ROWS 8
#define R_VLS  8

/* Everything ReadStat's parser reports about a file, values as text. */
struct rb {
    int version, nrows_meta, nvars_meta, rows_seen;
    char file_label[128];
    int nvars;
    char name[R_VARS][64];
    char label[R_VARS][128];
    char format[R_VARS][32];
    char val_labels[R_VARS][32];
    readstat_type_t type[R_VARS];
    size_t storage_width[R_VARS];
    char *cell[R_ROWS][R_VARS];  /* NULL = system missing */
    int32_t raw[R_ROWS][R_VARS]; /* int32 values as stored */
    int nvl;
    char vl_set[R_VLS][32];
    int32_t vl_key[R_VLS];
    char vl_label[R_VLS][32];
};

struct fx {
    char *dir;
    char *path;
};

static int
s_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    if (f == NULL || (f->dir = tu_tmpdir()) == NULL ||
        (f->path = tu_path(f->dir, "extract.dta")) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    struct fx *f = *state;

    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* Days since 1960-01-01 to YYYY-MM-DD (H. Hinnant's civil_from_days, the
 * inverse of what the writer uses, so the two check each other). */
static void
s_date_text(int32_t td, char *out, size_t len)
{
    long z = (long)td - 3653 + 719468; /* 1960-01-01 is 3653 days before 1970-01-01 */
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;

    snprintf(out, len, "%04ld-%02ld-%02ld", y + (m <= 2), m, d);
}

static int
s_on_meta(readstat_metadata_t *m, void *ctx)
{
    struct rb *rb = ctx;
    const char *l = readstat_get_file_label(m);

    rb->version = readstat_get_file_format_version(m);
    rb->nrows_meta = readstat_get_row_count(m);
    rb->nvars_meta = readstat_get_var_count(m);
    snprintf(rb->file_label, sizeof rb->file_label, "%s", l != NULL ? l : "");
    return READSTAT_HANDLER_OK;
}

static int
s_on_var(int index, readstat_variable_t *v, const char *val_labels, void *ctx)
{
    struct rb *rb = ctx;
    const char *l = readstat_variable_get_label(v), *fmt = readstat_variable_get_format(v);

    if (index < 0 || index >= R_VARS)
        return READSTAT_HANDLER_ABORT;
    rb->nvars = index + 1;
    snprintf(rb->name[index], sizeof rb->name[index], "%s", readstat_variable_get_name(v));
    snprintf(rb->label[index], sizeof rb->label[index], "%s", l != NULL ? l : "");
    snprintf(rb->format[index], sizeof rb->format[index], "%s", fmt != NULL ? fmt : "");
    snprintf(rb->val_labels[index], sizeof rb->val_labels[index], "%s",
             val_labels != NULL ? val_labels : "");
    rb->type[index] = readstat_variable_get_type(v);
    rb->storage_width[index] = readstat_variable_get_storage_width(v);
    return READSTAT_HANDLER_OK;
}

static int
s_on_value(int obs, readstat_variable_t *v, readstat_value_t value, void *ctx)
{
    struct rb *rb = ctx;
    int i = readstat_variable_get_index(v);
    char buf[64];
    const char *fmt = readstat_variable_get_format(v);

    if (obs < 0 || obs >= R_ROWS || i < 0 || i >= R_VARS)
        return READSTAT_HANDLER_ABORT;
    if (obs + 1 > rb->rows_seen)
        rb->rows_seen = obs + 1;
    if (readstat_value_type(value) == READSTAT_TYPE_STRING ||
        readstat_value_type(value) == READSTAT_TYPE_STRING_REF) {
        const char *s = readstat_string_value(value);
        rb->cell[obs][i] = strdup(s != NULL ? s : "");
        return READSTAT_HANDLER_OK;
    }
    if (readstat_value_is_system_missing(value))
        return READSTAT_HANDLER_OK;
    switch (readstat_value_type(value)) {
    case READSTAT_TYPE_INT8: snprintf(buf, sizeof buf, "%d", readstat_int8_value(value)); break;
    case READSTAT_TYPE_INT16: snprintf(buf, sizeof buf, "%d", readstat_int16_value(value)); break;
    case READSTAT_TYPE_INT32:
        rb->raw[obs][i] = readstat_int32_value(value);
        if (fmt != NULL && strcmp(fmt, "%td") == 0)
            s_date_text(readstat_int32_value(value), buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "%d", readstat_int32_value(value));
        break;
    case READSTAT_TYPE_FLOAT: snprintf(buf, sizeof buf, "%.9g", readstat_float_value(value)); break;
    case READSTAT_TYPE_DOUBLE:
        snprintf(buf, sizeof buf, "%.17g", readstat_double_value(value));
        break;
    default: return READSTAT_HANDLER_ABORT;
    }
    rb->cell[obs][i] = strdup(buf);
    return READSTAT_HANDLER_OK;
}

static int
s_on_value_label(const char *set, readstat_value_t value, const char *label, void *ctx)
{
    struct rb *rb = ctx;

    if (rb->nvl >= R_VLS)
        return READSTAT_HANDLER_ABORT;
    snprintf(rb->vl_set[rb->nvl], sizeof rb->vl_set[0], "%s", set);
    rb->vl_key[rb->nvl] = readstat_int32_value(value);
    snprintf(rb->vl_label[rb->nvl], sizeof rb->vl_label[0], "%s", label);
    rb->nvl++;
    return READSTAT_HANDLER_OK;
}

/* Parses path into rb: READSTAT_OK or ReadStat's error. */
static readstat_error_t
s_read_back(const char *path, struct rb *rb)
{
    readstat_parser_t *p = readstat_parser_init();
    readstat_error_t e;

    memset(rb, 0, sizeof *rb);
    if (p == NULL)
        return READSTAT_ERROR_MALLOC;
    readstat_set_metadata_handler(p, s_on_meta);
    readstat_set_variable_handler(p, s_on_var);
    readstat_set_value_handler(p, s_on_value);
    readstat_set_value_label_handler(p, s_on_value_label);
    e = readstat_parse_dta(p, path, rb);
    readstat_parser_free(p);
    return e;
}

static void
s_rb_free(struct rb *rb)
{
    for (int r = 0; r < R_ROWS; r++)
        for (int v = 0; v < R_VARS; v++)
            free(rb->cell[r][v]);
}

/* ---- the full round trip ------------------------------------------------ */

enum { V_ID, V_AGE, V_LAC, V_DOB, V_SCHOOL, V_NOTES, NV };
#define NROWS 4

/* 79 ASCII bytes, then a 2-byte character across the 80-byte limit. */
#define LONG_LABEL_79                                                                              \
    "School attended at the start of the academic year in which the child was seen.."
#define LONG_LABEL LONG_LABEL_79 "\xc3\xa9 and more text after the limit"

static char s_long_note[2600];
static char s_school_full[21];

static const char *
s_rows(int r, int v)
{
    static const char *rows[NROWS][NV] = {
        {"1", "12.5", "1", "2011-02-28", "Zo\xc3\xab's school", NULL},
        {"-2147483647", "", "0", "1960-01-01", "", ""},
        {"2147483620", "-0.001", "", "2000-02-29", "\xe6\x9d\xb1\xe4\xba\xac", "short note"},
        {"", "1e300", "1", "9999-12-31", NULL, ""},
    };

    if (r == 0 && v == V_NOTES)
        return s_long_note;
    if (r == 3 && v == V_SCHOOL)
        return s_school_full;
    return rows[r][v];
}

static const struct analyst_dta_var s_vars[NV] = {
    {"id", "Person id", ANALYST_V_INT, 0},
    {"age_years",
     "\xc3\x82ge (ann\xc3\xa9"
     "es)",
     ANALYST_V_DECIMAL, 0},
    {"looked_after", "Ever looked after", ANALYST_V_BOOL, 0},
    {"dob", "Date of birth", ANALYST_V_DATE, 0},
    {"school", LONG_LABEL, ANALYST_V_TEXT, 20},
    {"notes", NULL, ANALYST_V_TEXT, 3000},
};

static void
s_fill(void)
{
    for (size_t i = 0; i + 1 < sizeof s_long_note; i++)
        s_long_note[i] = (char)('a' + i % 26);
    s_long_note[sizeof s_long_note - 1] = '\0';
    memset(s_school_full, 'x', 20);
    s_school_full[20] = '\0';
}

static void
s_write_sample(const char *path)
{
    struct analyst_dta *d = NULL;
    char err[XL_ERRBUF] = "";

    s_fill();
    assert_int_equal(analyst_dta_open(path, s_vars, NV, NROWS, "Cohort extract \xe2\x80\x94 test",
                                      &d, err, sizeof err),
                     0);
    assert_non_null(d);
    for (int r = 0; r < NROWS; r++) {
        const char *row[NV];
        for (int v = 0; v < NV; v++)
            row[v] = s_rows(r, v) != NULL ? s_rows(r, v) : "";
        assert_int_equal(analyst_dta_row(d, row, err, sizeof err), 0);
    }
    assert_int_equal(analyst_dta_close(&d, err, sizeof err), 0);
    assert_null(d);
}

/* The <variable_types> section as the dta 118 format defines it: 65530 byte,
 * 65528 long, 65526 double, 32768 strL, 1-2045 str#. */
static void
s_check_type_codes(const char *path)
{
    static const uint16_t want[NV] = {65528, 65526, 65530, 65528, 20, 32768};
    FILE *fp = fopen(path, "rb");
    unsigned char buf[4096];
    size_t n;
    const unsigned char *p;

    assert_non_null(fp);
    n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    assert_non_null(memmem(buf, n, "<byteorder>LSF</byteorder>", 26));
    p = memmem(buf, n, "<variable_types>", 16);
    assert_non_null(p);
    p += 16;
    assert_true(p + 2 * NV <= buf + n);
    for (int v = 0; v < NV; v++)
        assert_int_equal(p[2 * v] | p[2 * v + 1] << 8, want[v]); /* LSF: little-endian */
    assert_memory_equal(p + 2 * NV, "</variable_types>", 17);
}

static void
test_roundtrip(void **state)
{
    struct fx *f = *state;
    struct rb rb;

    s_write_sample(f->path);
    assert_int_equal(tu_file_mode(f->path), 0600);
    assert_int_equal(s_read_back(f->path, &rb), READSTAT_OK);

    assert_int_equal(rb.version, 118);
    assert_int_equal(rb.nrows_meta, NROWS);
    assert_int_equal(rb.rows_seen, NROWS);
    assert_int_equal(rb.nvars_meta, NV);
    assert_int_equal(rb.nvars, NV);
    assert_string_equal(rb.file_label, "Cohort extract \xe2\x80\x94 test");

    for (int v = 0; v < NV; v++)
        assert_string_equal(rb.name[v], s_vars[v].name);
    assert_string_equal(rb.label[V_ID], "Person id");
    assert_string_equal(rb.label[V_AGE], "\xc3\x82ge (ann\xc3\xa9"
                                         "es)");
    assert_string_equal(rb.label[V_SCHOOL], LONG_LABEL_79);
    assert_string_equal(rb.label[V_NOTES], "");

    assert_int_equal(rb.type[V_ID], READSTAT_TYPE_INT32);
    assert_int_equal(rb.type[V_AGE], READSTAT_TYPE_DOUBLE);
    assert_int_equal(rb.type[V_LAC], READSTAT_TYPE_INT8);
    assert_int_equal(rb.type[V_DOB], READSTAT_TYPE_INT32);
    assert_int_equal(rb.type[V_SCHOOL], READSTAT_TYPE_STRING);
    /* ReadStat's reader counts a byte for a NUL in a str#, and reports a strL
     * as a string of width 0; the file's own type codes are checked below. */
    assert_int_equal(rb.storage_width[V_SCHOOL], 20 + 1);
    assert_int_equal(rb.type[V_NOTES], READSTAT_TYPE_STRING);
    assert_int_equal(rb.storage_width[V_NOTES], 0);
    s_check_type_codes(f->path);

    assert_string_equal(rb.format[V_DOB], "%td");
    assert_string_not_equal(rb.format[V_ID], "%td");
    assert_string_equal(rb.val_labels[V_LAC], "yesno");
    assert_string_equal(rb.val_labels[V_ID], "");
    assert_string_equal(rb.val_labels[V_DOB], "");

    assert_int_equal(rb.nvl, 2);
    for (int i = 0; i < rb.nvl; i++) {
        assert_string_equal(rb.vl_set[i], "yesno");
        assert_string_equal(rb.vl_label[i], rb.vl_key[i] == 0 ? "no" : "yes");
        assert_true(rb.vl_key[i] == 0 || rb.vl_key[i] == 1);
    }
    assert_int_not_equal(rb.vl_key[0], rb.vl_key[1]);

    /* Stata daily dates: known answers, then every value as text. */
    assert_int_equal(rb.raw[1][V_DOB], 0);
    assert_int_equal(rb.raw[0][V_DOB], 14610 + 365 * 11 + 3 + 31 + 27);
    for (int r = 0; r < NROWS; r++) {
        for (int v = 0; v < NV; v++) {
            const char *want = s_rows(r, v);
            const char *got = rb.cell[r][v];
            int text = v == V_SCHOOL || v == V_NOTES;

            if (want == NULL || want[0] == '\0') {
                if (text)
                    assert_string_equal(got, "");
                else
                    assert_null(got); /* system missing */
                continue;
            }
            assert_non_null(got);
            if (v == V_AGE)
                assert_true(strtod(got, NULL) == strtod(want, NULL));
            else
                assert_string_equal(got, want);
        }
    }
    s_rb_free(&rb);
}

/* The readstat command, an independent program, converts the file to CSV. */
static void
test_readstat_cli(void **state)
{
    struct fx *f = *state;
    char *csv = tu_path(f->dir, "out.csv"), *text;
    pid_t pid;
    int status = -1;

    if (access("/usr/bin/readstat", X_OK) != 0) {
        free(csv);
        skip();
    }
    s_write_sample(f->path);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execl("/usr/bin/readstat", "readstat", f->path, csv, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    text = tu_read_file(csv);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"id\",\"age_years\",\"looked_after\",\"dob\","
                                 "\"school\",\"notes\""));
    assert_non_null(strstr(text, "Zo\xc3\xab's school"));
    assert_non_null(strstr(text, "\xe6\x9d\xb1\xe4\xba\xac"));
    assert_non_null(strstr(text, s_long_note));
    assert_non_null(strstr(text, "2000-02-29"));
    assert_non_null(strstr(text, "2147483620"));
    free(text);
    free(csv);
}

/* ---- refusals ----------------------------------------------------------- */

static void
s_bad_name(const char *path, const char *name, const char *shown)
{
    struct analyst_dta_var v[2] = {{"ok", NULL, ANALYST_V_INT, 0}, {name, NULL, ANALYST_V_INT, 0}};
    struct analyst_dta *d = (struct analyst_dta *)&v; /* must be reset to NULL */
    char err[XL_ERRBUF] = "";

    assert_int_equal(analyst_dta_open(path, v, 2, 1, NULL, &d, err, sizeof err), XL_ERR_INVALID);
    assert_null(d);
    if (shown != NULL)
        assert_non_null(strstr(err, shown));
}

static void
test_invalid_names(void **state)
{
    struct fx *f = *state;
    char long_name[40];

    memset(long_name, 'a', 33);
    long_name[33] = '\0';
    s_bad_name(f->path, "1abc", "\"1abc\"");
    s_bad_name(f->path, "a-b", "\"a-b\"");
    s_bad_name(f->path, "has space", "\"has?space\"");
    s_bad_name(f->path, "", "variable 2");
    s_bad_name(f->path, NULL, "variable 2");
    s_bad_name(f->path, long_name, long_name);
    s_bad_name(f->path, "int", "\"int\"");
    s_bad_name(f->path, "_n", "\"_n\"");
    s_bad_name(f->path, "str5", "\"str5\"");
    s_bad_name(f->path, "strL", "\"strL\"");
    s_bad_name(f->path, "caf\xc3\xa9", "variable 2");
    s_bad_name(f->path, "ok", "ok: name used twice");

    /* The limits themselves are accepted. */
    {
        struct analyst_dta_var v[2] = {{"ok", NULL, ANALYST_V_INT, 0},
                                       {NULL, NULL, ANALYST_V_INT, 0}};
        struct analyst_dta *d = NULL;
        char err[XL_ERRBUF] = "";

        long_name[32] = '\0';
        v[1].name = long_name;
        assert_int_equal(analyst_dta_open(f->path, v, 2, 0, NULL, &d, err, sizeof err), 0);
        assert_int_equal(analyst_dta_close(&d, err, sizeof err), 0);
        v[1].name = "strange_2"; /* starts with "str" but is no storage type */
        assert_int_equal(analyst_dta_open(f->path, v, 2, 0, NULL, &d, err, sizeof err), 0);
        assert_int_equal(analyst_dta_close(&d, err, sizeof err), 0);
    }
}

static void
test_invalid_declarations(void **state)
{
    struct fx *f = *state;
    struct analyst_dta_var v[1] = {{"t", NULL, ANALYST_V_TEXT, 0}};
    struct analyst_dta *d = NULL;
    char err[XL_ERRBUF] = "";

    assert_int_equal(analyst_dta_open(f->path, v, 1, 1, NULL, &d, err, sizeof err), XL_ERR_INVALID);
    assert_non_null(strstr(err, "variable t"));
    v[0].width = 4;
    v[0].label = "bad \xff label";
    assert_int_equal(analyst_dta_open(f->path, v, 1, 1, NULL, &d, err, sizeof err), XL_ERR_INVALID);
    v[0].label = NULL;
    assert_int_equal(analyst_dta_open(f->path, v, 0, 1, NULL, &d, err, sizeof err), XL_ERR_INVALID);
    assert_int_equal(
        analyst_dta_open(f->path, v, 1, (uint64_t)INT32_MAX + 1, NULL, &d, err, sizeof err),
        XL_ERR_TOOBIG);
    assert_null(d);
}

struct bad_case {
    size_t var;
    const char *value;
    int code;
};

static void
test_bad_values(void **state)
{
    struct fx *f = *state;
    static const struct analyst_dta_var vars[5] = {
        {"count_n", NULL, ANALYST_V_INT, 0},   {"score_x", NULL, ANALYST_V_DECIMAL, 0},
        {"flag_b", NULL, ANALYST_V_BOOL, 0},   {"dob_d", NULL, ANALYST_V_DATE, 0},
        {"school_t", NULL, ANALYST_V_TEXT, 8},
    };
    static const struct bad_case cases[] = {
        {0, "4x2", XL_ERR_FORMAT},         {0, "+42", XL_ERR_FORMAT},
        {0, " 42", XL_ERR_FORMAT},         {0, "2147483621", XL_ERR_TOOBIG},
        {0, "-2147483648", XL_ERR_TOOBIG}, {0, "99999999999999999999", XL_ERR_TOOBIG},
        {1, "1.5kg", XL_ERR_FORMAT},       {1, "nan", XL_ERR_FORMAT},
        {1, " 1.5", XL_ERR_FORMAT},        {1, "inf", XL_ERR_FORMAT},
        {1, "-inf", XL_ERR_FORMAT},        {1, "1e999", XL_ERR_TOOBIG},
        {1, "1e308", XL_ERR_TOOBIG},       {2, "yes", XL_ERR_FORMAT},
        {2, "2", XL_ERR_FORMAT},           {2, "10", XL_ERR_FORMAT},
        {3, "2011-02-29", XL_ERR_FORMAT},  {3, "2011-13-01", XL_ERR_FORMAT},
        {3, "2011-1-01", XL_ERR_FORMAT},   {3, "01/02/2011", XL_ERR_FORMAT},
        {3, "0099-12-31", XL_ERR_FORMAT},  {4, "Llanelli9", XL_ERR_TOOBIG},
        {4, "ab\xff", XL_ERR_FORMAT},      {4, "\xc3(", XL_ERR_FORMAT},
    };
    static const char *good[5] = {"7", "0.25", "1", "1900-02-28", "Ysgol"};
    struct analyst_dta *d = NULL;
    char err[XL_ERRBUF];
    struct rb rb;

    assert_int_equal(analyst_dta_open(f->path, vars, 5, 1, NULL, &d, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *row[5];

        memcpy(row, good, sizeof row);
        row[cases[i].var] = cases[i].value;
        err[0] = '\0';
        assert_int_equal(analyst_dta_row(d, row, err, sizeof err), cases[i].code);
        /* The path (a random temporary name) leads; the rest names the
         * variable and not the value. */
        assert_int_equal(strncmp(err, f->path, strlen(f->path)), 0);
        assert_non_null(strstr(err + strlen(f->path), vars[cases[i].var].name));
        assert_null(strstr(err + strlen(f->path), cases[i].value));
    }
    /* None of those rows was written: the writer takes the one good row. */
    assert_int_equal(analyst_dta_row(d, good, err, sizeof err), 0);
    assert_int_equal(analyst_dta_row(d, good, err, sizeof err), XL_ERR_INVALID);
    assert_int_equal(analyst_dta_close(&d, err, sizeof err), 0);

    assert_int_equal(s_read_back(f->path, &rb), READSTAT_OK);
    assert_int_equal(rb.nrows_meta, 1);
    assert_int_equal(rb.rows_seen, 1);
    for (int v = 0; v < 5; v++) {
        assert_non_null(rb.cell[0][v]);
        if (v == 1)
            assert_true(strtod(rb.cell[0][v], NULL) == 0.25);
        else
            assert_string_equal(rb.cell[0][v], good[v]);
    }
    s_rb_free(&rb);
}

static void
test_row_count(void **state)
{
    struct fx *f = *state;
    static const struct analyst_dta_var vars[1] = {{"n", NULL, ANALYST_V_INT, 0}};
    const char *row[1] = {"1"};
    struct analyst_dta *d = NULL;
    char err[XL_ERRBUF] = "";

    assert_int_equal(analyst_dta_open(f->path, vars, 1, 3, NULL, &d, err, sizeof err), 0);
    assert_int_equal(analyst_dta_row(d, row, err, sizeof err), 0);
    assert_int_equal(analyst_dta_row(d, row, err, sizeof err), 0);
    assert_int_equal(analyst_dta_close(&d, err, sizeof err), XL_ERR_INVALID);
    assert_null(d);
    assert_non_null(strstr(err, "2 rows written, 3 declared"));

    /* NULL is accepted by both. */
    assert_int_equal(analyst_dta_close(&d, err, sizeof err), 0);
    assert_int_equal(analyst_dta_close(NULL, err, sizeof err), 0);
    analyst_dta_abort(&d);
    analyst_dta_abort(NULL);

    assert_int_equal(analyst_dta_open(f->path, vars, 1, 3, NULL, &d, err, sizeof err), 0);
    assert_int_equal(analyst_dta_row(d, row, err, sizeof err), 0);
    analyst_dta_abort(&d);
    assert_null(d);
}

/* An existing file is replaced and made private. */
static void
test_existing_file_mode(void **state)
{
    struct fx *f = *state;

    assert_int_equal(tu_write_file(f->path, "old contents"), 0);
    assert_int_equal(chmod(f->path, 0644), 0);
    s_write_sample(f->path);
    assert_int_equal(tu_file_mode(f->path), 0600);
}

/* A full disk (/dev/full fails every write with ENOSPC) is XL_ERR_NOSPACE
 * naming the path, and every later call fails too. */
static void
test_disk_full(void **state)
{
    static const struct analyst_dta_var vars[1] = {{"t", NULL, ANALYST_V_TEXT, 2000}};
    static char big[2001];
    const char *row[1] = {big};
    struct analyst_dta *d = NULL;
    char err[XL_ERRBUF] = "";
    int r = 0, i;

    if (access("/dev/full", W_OK) != 0)
        skip();
    memset(big, 'z', 2000);
    assert_int_equal(analyst_dta_open("/dev/full", vars, 1, 100, NULL, &d, err, sizeof err), 0);
    for (i = 0; i < 100 && r == 0; i++)
        r = analyst_dta_row(d, row, err, sizeof err);
    /* 200 kB is more than any stdio buffer: the error shows before close. */
    assert_int_equal(r, XL_ERR_NOSPACE);
    assert_true(i < 100);
    assert_non_null(strstr(err, "/dev/full"));
    err[0] = '\0';
    assert_int_equal(analyst_dta_row(d, row, err, sizeof err), XL_ERR_NOSPACE);
    assert_non_null(strstr(err, "/dev/full"));
    assert_int_equal(analyst_dta_close(&d, err, sizeof err), XL_ERR_NOSPACE);
    assert_null(d);

    /* A small file fails when it is flushed at close. */
    big[10] = '\0';
    assert_int_equal(analyst_dta_open("/dev/full", vars, 1, 1, NULL, &d, err, sizeof err), 0);
    assert_int_equal(analyst_dta_row(d, row, err, sizeof err), 0);
    assert_int_equal(analyst_dta_close(&d, err, sizeof err), XL_ERR_NOSPACE);
    assert_non_null(strstr(err, "/dev/full"));
}

static void
test_cannot_create(void **state)
{
    struct fx *f = *state;
    static const struct analyst_dta_var vars[1] = {{"n", NULL, ANALYST_V_INT, 0}};
    char *path = tu_path(f->dir, "no/such/dir.dta");
    struct analyst_dta *d = NULL;
    char err[XL_ERRBUF] = "";

    assert_int_equal(analyst_dta_open(path, vars, 1, 1, NULL, &d, err, sizeof err), XL_ERR_IO);
    assert_null(d);
    assert_non_null(strstr(err, path));
    free(path);
}

#define S_TEST(t) cmocka_unit_test_setup_teardown(t, s_setup, s_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_roundtrip),          S_TEST(test_readstat_cli),
        S_TEST(test_invalid_names),      S_TEST(test_invalid_declarations),
        S_TEST(test_bad_values),         S_TEST(test_row_count),
        S_TEST(test_existing_file_mode), S_TEST(test_disk_full),
        S_TEST(test_cannot_create),
    };

    return cmocka_run_group_tests_name("analyst_dta", tests, NULL, NULL);
}
