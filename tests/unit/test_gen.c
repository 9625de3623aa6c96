/* Tests of the synthetic coalition data generator (tests/lib/gen.c): the
 * files are deterministic, well-formed CSV, the identifiers are valid except
 * for the deliberately invalid values the summary counts, the truth file
 * accounts for every record, and agencies overlap and err as configured.
 * Also the generator's command (bench/gen_coalition.c): its default output is
 * what it always was, and its hard mode is deterministic, keeps the truth
 * exact and makes every kind of mess it claims to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <utf8proc.h>

#include "../../agent/normalise.h"
#include "gen.h"
#include "testutil.h"
#include "xl/crypto.h"
#include "xl/err.h"

/* Hard mode is a layer of the command, not of tests/lib/gen.c: the command is
 * compiled in here with its main renamed, so the tests run it as a user does
 * and can read hard mode's own counts. */
int gen_coalition_main(int argc, char **argv);
#define main gen_coalition_main
#include "../../bench/gen_coalition.c"
#undef main

static const char *const s_files[] = {"police.csv", "health.csv", "education.csv", "social.csv",
                                      "truth.csv"};

/* ---- a strict CSV reader: RFC 4180 quoting, one line-end style per file ---- */

struct s_tab {
    char *name;
    size_t nrows, ncols; /* rows after the header */
    char **cell;         /* (nrows + 1) * ncols, row 0 the header */
};

static void
s_tab_free(struct s_tab *t)
{
    if (t->cell != NULL)
        for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
            free(t->cell[i]);
    free(t->cell);
    free(t->name);
    memset(t, 0, sizeof *t);
}

/* Parses text. Fails (with a message) on a quote inside an unquoted field,
 * text after a closing quote, a line end other than eol, or a row whose field
 * count differs from the header's. */
static int
s_parse(const char *text, const char *eol, struct s_tab *t)
{
    size_t cap = 0, n = 0, fields = 0, line = 1, el = strlen(eol);
    const char *p = text;
    char *field = NULL;
    size_t flen = 0, fcap = 0;

    memset(t, 0, sizeof *t);
    while (*p != '\0') {
        int quoted = *p == '"';

        flen = 0;
        if (quoted) {
            p++;
            for (;;) {
                if (*p == '\0') {
                    print_error("line %zu: quote not closed\n", line);
                    goto fail;
                }
                if (*p == '"' && p[1] == '"') {
                    p++;
                } else if (*p == '"') {
                    p++;
                    break;
                }
                if (flen + 2 > fcap) {
                    fcap = fcap ? fcap * 2 : 64;
                    field = realloc(field, fcap);
                    assert_non_null(field);
                }
                field[flen++] = *p++;
            }
        } else {
            while (*p != '\0' && *p != ',' && *p != '\r' && *p != '\n') {
                if (*p == '"') {
                    print_error("line %zu: quote in an unquoted field\n", line);
                    goto fail;
                }
                if (flen + 2 > fcap) {
                    fcap = fcap ? fcap * 2 : 64;
                    field = realloc(field, fcap);
                    assert_non_null(field);
                }
                field[flen++] = *p++;
            }
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            t->cell = realloc(t->cell, cap * sizeof *t->cell);
            assert_non_null(t->cell);
        }
        t->cell[n] = malloc(flen + 1);
        assert_non_null(t->cell[n]);
        memcpy(t->cell[n], field != NULL ? field : "", flen);
        t->cell[n][flen] = '\0';
        n++;
        fields++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (strncmp(p, eol, el) != 0) {
            print_error("line %zu: expected the line end or a comma\n", line);
            goto fail;
        }
        p += el;
        if (t->ncols == 0)
            t->ncols = fields;
        if (fields != t->ncols) {
            print_error("line %zu: %zu fields, header has %zu\n", line, fields, t->ncols);
            goto fail;
        }
        fields = 0;
        line++;
    }
    if (fields != 0) {
        print_error("last line has no line end\n");
        goto fail;
    }
    free(field);
    t->nrows = t->ncols ? n / t->ncols - 1 : 0;
    return 0;
fail:
    free(field);
    for (size_t i = 0; i < n; i++)
        free(t->cell[i]);
    free(t->cell);
    memset(t, 0, sizeof *t);
    return -1;
}

static void
s_load(const char *dir, const char *file, struct s_tab *t)
{
    char *path = tu_path(dir, file);
    char *text;
    const char *eol = strcmp(file, "police.csv") == 0 || strcmp(file, "social.csv") == 0 ||
                              strcmp(file, "programme.csv") == 0
                          ? "\r\n"
                          : "\n";

    assert_non_null(path);
    text = tu_read_file(path);
    assert_non_null(text);
    if (s_parse(text, eol, t) != 0)
        fail_msg("%s is not well-formed CSV", file);
    t->name = strdup(file);
    free(text);
    free(path);
}

static int
s_col(const struct s_tab *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->cell[c], name) == 0)
            return (int)c;
    fail_msg("%s: no column %s", t->name, name);
    return -1;
}

static const char *
s_cell(const struct s_tab *t, size_t row, int col)
{
    return t->cell[(row + 1) * t->ncols + (size_t)col];
}

/* ---- generating ------------------------------------------------------------ */

static char *
s_generate(const struct xl_gen_opts *o, struct xl_gen_summary *sum)
{
    char err[XL_ERRBUF] = "";
    char *dir = tu_tmpdir();
    int rc;

    assert_non_null(dir);
    rc = xl_gen_coalition(o, dir, sum, err, sizeof err);
    if (rc != 0)
        fail_msg("xl_gen_coalition: %s", err);
    return dir;
}

static void
s_opts(struct xl_gen_opts *o, uint64_t seed, size_t people)
{
    xl_gen_opts_default(o);
    o->seed = seed;
    o->people = people;
}

static void
s_file_hash(const char *dir, const char *file, uint8_t out[XL_HASH_BYTES])
{
    char *path = tu_path(dir, file);
    char *text;

    assert_non_null(path);
    text = tu_read_file(path);
    assert_non_null(text);
    xl_sha256(text, strlen(text), out);
    free(text);
    free(path);
}

static size_t
s_total(const struct xl_gen_summary *s)
{
    size_t t = 0;

    for (int a = 0; a < XL_GEN_NAGENCY; a++)
        t += s->records[a];
    return t;
}

/* ---- tests ------------------------------------------------------------------- */

static void
test_options_refused(void **state)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    char err[XL_ERRBUF];
    char *dir = tu_tmpdir(), *sub;

    assert_non_null(dir);
    xl_gen_opts_default(&o);
    assert_int_equal(o.ref_y, 2026);
    assert_int_equal(o.ref_m, 11);
    assert_int_equal(o.ref_d, 1);
    assert_true(o.error_rate > 0.09 && o.error_rate < 0.11);

    o.people = 0;
    err[0] = '\0';
    assert_int_equal(xl_gen_coalition(&o, dir, &sum, err, sizeof err), XL_ERR_INVALID);
    assert_true(err[0] != '\0');
    o.people = XL_GEN_MAX_PEOPLE + 1u;
    assert_int_equal(xl_gen_coalition(&o, dir, &sum, err, sizeof err), XL_ERR_INVALID);

    xl_gen_opts_default(&o);
    o.error_rate = 1.5;
    assert_int_equal(xl_gen_coalition(&o, dir, &sum, err, sizeof err), XL_ERR_INVALID);
    o.error_rate = 0.0 / 0.0;
    assert_int_equal(xl_gen_coalition(&o, dir, &sum, err, sizeof err), XL_ERR_INVALID);
    xl_gen_opts_default(&o);
    o.programme = 1.5;
    assert_int_equal(xl_gen_coalition(&o, dir, &sum, err, sizeof err), XL_ERR_INVALID);
    o.programme = 0.0 / 0.0;
    assert_int_equal(xl_gen_coalition(&o, dir, &sum, err, sizeof err), XL_ERR_INVALID);
    xl_gen_opts_default(&o);
    o.coverage[XL_GEN_SOCIAL] = -0.1;
    assert_int_equal(xl_gen_coalition(&o, dir, &sum, err, sizeof err), XL_ERR_INVALID);
    xl_gen_opts_default(&o);
    o.ref_m = 2;
    o.ref_d = 30;
    assert_int_equal(xl_gen_coalition(&o, dir, &sum, err, sizeof err), XL_ERR_INVALID);

    /* Nothing was written for refused options. */
    sub = tu_path(dir, "police.csv");
    assert_non_null(sub);
    assert_int_equal(tu_file_mode(sub), -1);
    free(sub);

    xl_gen_opts_default(&o);
    sub = tu_path(dir, "no/such/parent");
    assert_int_equal(xl_gen_coalition(&o, sub, &sum, err, sizeof err), XL_ERR_IO);
    assert_non_null(strstr(err, "no/such/parent"));
    free(sub);
    tu_rmtree(dir);
    free(dir);
}

static void
test_same_seed_identical(void **state)
{
    struct xl_gen_opts o;
    struct xl_gen_summary s1, s2, s3;
    char *d1, *d2, *d3;
    uint8_t h1[XL_HASH_BYTES], h2[XL_HASH_BYTES];
    int differ = 0;

    s_opts(&o, 42, 3000);
    d1 = s_generate(&o, &s1);
    d2 = s_generate(&o, &s2);
    for (size_t i = 0; i < sizeof s_files / sizeof s_files[0]; i++) {
        s_file_hash(d1, s_files[i], h1);
        s_file_hash(d2, s_files[i], h2);
        assert_memory_equal(h1, h2, XL_HASH_BYTES);
    }
    assert_memory_equal(&s1, &s2, sizeof s1);

    o.seed = 43;
    d3 = s_generate(&o, &s3);
    for (size_t i = 0; i < sizeof s_files / sizeof s_files[0]; i++) {
        s_file_hash(d1, s_files[i], h1);
        s_file_hash(d3, s_files[i], h2);
        /* Every file differs, not just one. */
        assert_memory_not_equal(h1, h2, XL_HASH_BYTES);
        differ++;
    }
    assert_int_equal(differ, 5);
    tu_rmtree(d1);
    tu_rmtree(d2);
    tu_rmtree(d3);
    free(d1);
    free(d2);
    free(d3);
}

/* Only seed, people and error rate set: the rest takes the defaults. */
static void
test_zeroed_options_use_defaults(void **state)
{
    struct xl_gen_opts z, d;
    struct xl_gen_summary s1, s2;
    uint8_t h1[XL_HASH_BYTES], h2[XL_HASH_BYTES];
    char *d1, *d2;

    memset(&z, 0, sizeof z);
    z.seed = 4;
    z.people = 800;
    z.error_rate = 0.1;
    s_opts(&d, 4, 800);
    d.invalid_rate = 0;
    d1 = s_generate(&z, &s1);
    d2 = s_generate(&d, &s2);
    for (int a = 0; a < XL_GEN_NAGENCY; a++)
        assert_true(s1.persons[a] > 0);
    for (size_t i = 0; i < sizeof s_files / sizeof s_files[0]; i++) {
        s_file_hash(d1, s_files[i], h1);
        s_file_hash(d2, s_files[i], h2);
        assert_memory_equal(h1, h2, XL_HASH_BYTES);
    }
    tu_rmtree(d1);
    tu_rmtree(d2);
    free(d1);
    free(d2);
}

static void
test_csv_well_formed(void **state)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    char *dir;
    size_t quoted = 0;

    s_opts(&o, 7, 4000);
    o.error_rate = 0.4; /* plenty of typos (commas) and nicknames in quotes */
    dir = s_generate(&o, &sum);
    for (int a = 0; a <= XL_GEN_NAGENCY; a++) {
        struct s_tab t;

        s_load(dir, s_files[a], &t);
        if (a < XL_GEN_NAGENCY) {
            assert_int_equal(t.nrows, sum.records[a]);
            assert_string_equal(t.cell[0], xl_gen_id_column(a));
        } else {
            assert_int_equal(t.nrows, s_total(&sum));
        }
        /* Fields that need quotes got them, and the parse gave back the
         * commas and quotes they hold. */
        for (size_t r = 0; r < t.nrows; r++)
            for (size_t c = 0; c < t.ncols; c++)
                if (strpbrk(s_cell(&t, r, (int)c), ",\"") != NULL)
                    quoted++;
        s_tab_free(&t);
    }
    assert_true(quoted > 0);
    tu_rmtree(dir);
    free(dir);
}

/* Identifiers are valid except exactly the deliberate invalid values. */
static void
test_identifiers_valid(void **state)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    char *dir;
    struct s_tab t;
    size_t bad_nhs = 0, bad_upn = 0, bad_pc = 0, bad_date = 0, nhs_seen = 0, upn_seen = 0;
    static const char *const dob_col[XL_GEN_NAGENCY] = {"Date of Birth", "DOB", "DOB",
                                                        "Date of Birth"};
    static const char *const dob_fmt[XL_GEN_NAGENCY] = {"dd/mm/yyyy", "yyyy-mm-dd", "yyyymmdd",
                                                        "d/m/yyyy"};
    static const char *const pc_col[XL_GEN_NAGENCY] = {"Postcode", "POSTCODE", "Postcode",
                                                       "Postcode"};

    s_opts(&o, 11, 6000);
    o.invalid_rate = 0.03;
    dir = s_generate(&o, &sum);
    for (int k = 0; k < XL_GEN_NINVALID; k++)
        assert_true(sum.invalid[k] > 0);

    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        int nhs_c, upn_c, pc_c, dob_c;

        s_load(dir, s_files[a], &t);
        nhs_c = a == XL_GEN_HEALTH   ? s_col(&t, "NHS_NUMBER")
                : a == XL_GEN_SOCIAL ? s_col(&t, "NHS Number")
                                     : -1;
        upn_c = a == XL_GEN_EDUCATION || a == XL_GEN_SOCIAL ? s_col(&t, "UPN") : -1;
        pc_c = s_col(&t, pc_col[a]);
        dob_c = s_col(&t, dob_col[a]);

        for (size_t r = 0; r < t.nrows; r++) {
            const char *v;
            struct agent_date dt;
            char canon[16];
            int rc;

            if (nhs_c >= 0 && (v = s_cell(&t, r, nhs_c))[0] != '\0') {
                char d[11];
                size_t n = 0;

                /* "999 123 4567" or "9991234567". */
                assert_true(strlen(v) == 10 || (strlen(v) == 12 && v[3] == ' ' && v[7] == ' '));
                for (const char *q = v; *q != '\0'; q++)
                    if (*q != ' ') {
                        assert_true(*q >= '0' && *q <= '9');
                        assert_true(n < 10);
                        d[n++] = *q;
                    }
                assert_int_equal(n, 10);
                /* Small populations stay inside the 999 test range. */
                assert_memory_equal(d, "999", 3);
                if (agent_nhs_check_digit(d) != d[9] - '0')
                    bad_nhs++;
                nhs_seen++;
            }
            if (upn_c >= 0 && (v = s_cell(&t, r, upn_c))[0] != '\0') {
                assert_int_equal(strlen(v), 13);
                assert_non_null(strchr("ABCDEFGHJKLMNPQRTUVWXYZ", v[0]));
                if (agent_upn_check_letter(v + 1) != v[0])
                    bad_upn++;
                upn_seen++;
            }
            v = s_cell(&t, r, pc_c);
            if (v[0] != '\0' && agent_norm_postcode(v, strlen(v), canon, NULL, NULL) != AGENT_OK)
                bad_pc++;
            v = s_cell(&t, r, dob_c);
            rc = agent_norm_date(v, strlen(v), dob_fmt[a], NULL, &dt);
            if (rc == AGENT_R_DATE_INVALID)
                bad_date++;
            else
                assert_int_equal(rc, AGENT_OK);
        }
        s_tab_free(&t);
    }
    assert_true(nhs_seen > 5000);
    assert_true(upn_seen > 5000);
    assert_int_equal(bad_nhs, sum.invalid[XL_GEN_I_NHS]);
    assert_int_equal(bad_upn, sum.invalid[XL_GEN_I_UPN]);
    assert_int_equal(bad_pc, sum.invalid[XL_GEN_I_POSTCODE]);
    assert_int_equal(bad_date, sum.invalid[XL_GEN_I_DATE]);
    tu_rmtree(dir);
    free(dir);
}

struct s_key {
    char agency[16], id[24];
    size_t person;
};

static int
s_key_cmp(const void *a, const void *b)
{
    const struct s_key *x = a, *y = b;
    int c = strcmp(x->agency, y->agency);

    return c != 0 ? c : strcmp(x->id, y->id);
}

/* Reads truth.csv into a sorted array; fails on a duplicate (agency, id). */
static struct s_key *
s_truth(const char *dir, size_t *n, size_t people)
{
    struct s_tab t;
    struct s_key *k;

    s_load(dir, "truth.csv", &t);
    assert_int_equal(t.ncols, 3);
    assert_string_equal(t.cell[0], "agency");
    assert_string_equal(t.cell[1], "local_id");
    assert_string_equal(t.cell[2], "person_id");
    k = calloc(t.nrows + 1, sizeof *k);
    assert_non_null(k);
    for (size_t r = 0; r < t.nrows; r++) {
        const char *pid = s_cell(&t, r, 2);
        char *end;

        snprintf(k[r].agency, sizeof k[r].agency, "%s", s_cell(&t, r, 0));
        snprintf(k[r].id, sizeof k[r].id, "%s", s_cell(&t, r, 1));
        assert_int_equal(pid[0], 'P');
        k[r].person = strtoul(pid + 1, &end, 10);
        assert_int_equal(*end, '\0');
        assert_true(k[r].person >= 1 && k[r].person <= people);
    }
    *n = t.nrows;
    s_tab_free(&t);
    qsort(k, *n, sizeof *k, s_key_cmp);
    for (size_t i = 1; i < *n; i++)
        assert_int_not_equal(s_key_cmp(&k[i - 1], &k[i]), 0);
    return k;
}

static void
test_truth_accounts_for_every_record(void **state)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    size_t nt, rows = 0, cross = 0, within = 0;
    struct s_key *truth;
    unsigned char(*cnt)[XL_GEN_NAGENCY];
    char *dir;

    s_opts(&o, 5, 8000);
    dir = s_generate(&o, &sum);
    truth = s_truth(dir, &nt, o.people);
    assert_int_equal(nt, s_total(&sum));
    cnt = calloc(o.people + 1, sizeof *cnt);
    assert_non_null(cnt);

    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        struct s_tab t;

        s_load(dir, s_files[a], &t);
        rows += t.nrows;
        for (size_t r = 0; r < t.nrows; r++) {
            struct s_key key, *hit;

            memset(&key, 0, sizeof key);
            snprintf(key.agency, sizeof key.agency, "%s", xl_gen_agency_name(a));
            snprintf(key.id, sizeof key.id, "%s", s_cell(&t, r, 0));
            hit = bsearch(&key, truth, nt, sizeof *truth, s_key_cmp);
            assert_non_null(hit);
            assert_true(cnt[hit->person][a] < 2); /* at most one duplicate */
            cnt[hit->person][a]++;
        }
        s_tab_free(&t);
    }
    assert_int_equal(rows, nt);

    /* The pair counts in the summary are those the truth implies. */
    for (size_t p = 1; p <= o.people; p++) {
        for (int a = 0; a < XL_GEN_NAGENCY; a++) {
            within += cnt[p][a] == 2;
            for (int b = a + 1; b < XL_GEN_NAGENCY; b++)
                cross += (size_t)cnt[p][a] * cnt[p][b];
        }
    }
    assert_int_equal(cross, sum.cross_pairs);
    assert_int_equal(within, sum.within_pairs);
    assert_true(within > 0);
    free(cnt);
    free(truth);
    tu_rmtree(dir);
    free(dir);
}

static void
test_overlap_proportions(void **state)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    size_t nt, n_pol = 0, n_soc = 0, n_pol_soc = 0, persons[XL_GEN_NAGENCY] = {0};
    struct s_key *truth;
    unsigned char *mask;
    char *dir;
    double p_soc_pol, p_soc_other;

    s_opts(&o, 99, 20000);
    dir = s_generate(&o, &sum);
    truth = s_truth(dir, &nt, o.people);
    mask = calloc(o.people + 1, 1);
    assert_non_null(mask);
    for (size_t i = 0; i < nt; i++)
        for (int a = 0; a < XL_GEN_NAGENCY; a++)
            if (strcmp(truth[i].agency, xl_gen_agency_name(a)) == 0)
                mask[truth[i].person] |= (unsigned char)(1u << a);
    for (size_t p = 1; p <= o.people; p++)
        for (int a = 0; a < XL_GEN_NAGENCY; a++)
            persons[a] += (mask[p] >> a) & 1;
    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        double share = (double)persons[a] / (double)o.people;

        assert_int_equal(persons[a], sum.persons[a]);
        if (share < o.coverage[a] - 0.02 || share > o.coverage[a] + 0.02)
            fail_msg("%s holds %.3f of children, configured %.3f", xl_gen_agency_name(a), share,
                     o.coverage[a]);
    }
    /* Children known to police are far more likely to be in social care. */
    for (size_t p = 1; p <= o.people; p++) {
        int pol = mask[p] & (1u << XL_GEN_POLICE), soc = mask[p] & (1u << XL_GEN_SOCIAL);

        n_pol += pol != 0;
        n_soc += soc != 0;
        n_pol_soc += pol && soc;
    }
    assert_int_equal(n_pol_soc, sum.police_social);
    p_soc_pol = (double)n_pol_soc / (double)n_pol;
    p_soc_other = (double)(n_soc - n_pol_soc) / (double)(o.people - n_pol);
    assert_true(p_soc_pol > 2.5 * p_soc_other);

    /* Other coverage settings are followed too. */
    free(mask);
    free(truth);
    tu_rmtree(dir);
    free(dir);
    s_opts(&o, 99, 10000);
    o.coverage[XL_GEN_POLICE] = 0.2;
    o.coverage[XL_GEN_HEALTH] = 0.5;
    dir = s_generate(&o, &sum);
    assert_true(sum.persons[XL_GEN_POLICE] > 1700 && sum.persons[XL_GEN_POLICE] < 2300);
    assert_true(sum.persons[XL_GEN_HEALTH] > 4700 && sum.persons[XL_GEN_HEALTH] < 5300);
    tu_rmtree(dir);
    free(dir);
}

/* Looks up each child's record in one agency: index by person number. */
static size_t *
s_rows_by_person(const struct s_tab *t, int agency, const struct s_key *truth, size_t nt,
                 size_t people)
{
    size_t *row = malloc((people + 1) * sizeof *row);

    assert_non_null(row);
    for (size_t p = 0; p <= people; p++)
        row[p] = SIZE_MAX;
    for (size_t r = 0; r < t->nrows; r++) {
        struct s_key key, *hit;

        memset(&key, 0, sizeof key);
        snprintf(key.agency, sizeof key.agency, "%s", xl_gen_agency_name(agency));
        snprintf(key.id, sizeof key.id, "%s", s_cell(t, r, 0));
        hit = bsearch(&key, truth, nt, sizeof *truth, s_key_cmp);
        assert_non_null(hit);
        row[hit->person] = r;
    }
    return row;
}

static void
s_norm_name(const char *in, char out[AGENT_NAME_MAX])
{
    int rc = agent_norm_name(in, strlen(in), out, AGENT_NAME_MAX);

    if (rc != AGENT_OK)
        fail_msg("a generated name was refused: %s", agent_reason_code(rc));
}

/* With no errors, every agency describes a child identically once values are
 * normalised: the truth file and the records agree. */
static void
test_clean_records_agree(void **state)
{
    static const char *const first_c[XL_GEN_NAGENCY] = {"Forename", "GIVEN_NAME", "Legal Forename",
                                                        "First Name"};
    static const char *const sur_c[XL_GEN_NAGENCY] = {"Surname", "FAMILY_NAME", "Legal Surname",
                                                      "Last Name"};
    static const char *const dob_c[XL_GEN_NAGENCY] = {"Date of Birth", "DOB", "DOB",
                                                      "Date of Birth"};
    static const char *const dob_f[XL_GEN_NAGENCY] = {"dd/mm/yyyy", "yyyy-mm-dd", "yyyymmdd",
                                                      "d/m/yyyy"};
    static const char *const sex_c[XL_GEN_NAGENCY] = {"Gender", "SEX", "Gender", "Sex"};
    static const char *const pc_c[XL_GEN_NAGENCY] = {"Postcode", "POSTCODE", "Postcode",
                                                     "Postcode"};
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    struct s_tab t[XL_GEN_NAGENCY];
    size_t *rows[XL_GEN_NAGENCY], nt, compared = 0, ages[9] = {0};
    struct s_key *truth;
    char *dir;
    struct agent_date_rules rules = {{2030, 3, 15}, 0, 0, 0, 0};

    s_opts(&o, 3, 5000);
    o.error_rate = 0;
    o.invalid_rate = 0;
    o.ref_y = 2030;
    o.ref_m = 3;
    o.ref_d = 15;
    dir = s_generate(&o, &sum);
    for (int k = 0; k < XL_GEN_NERROR; k++)
        if (k != XL_GEN_E_DIACRITICS)
            assert_int_equal(sum.errors[k], 0);
    /* Only the police system's ASCII folding changes names. */
    assert_int_equal(sum.with_error[XL_GEN_POLICE], sum.errors[XL_GEN_E_DIACRITICS]);
    assert_int_equal(sum.with_error[XL_GEN_HEALTH] + sum.with_error[XL_GEN_EDUCATION] +
                         sum.with_error[XL_GEN_SOCIAL],
                     0);
    truth = s_truth(dir, &nt, o.people);
    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        s_load(dir, s_files[a], &t[a]);
        rows[a] = s_rows_by_person(&t[a], a, truth, nt, o.people);
    }
    for (size_t p = 1; p <= o.people; p++) {
        char f0[AGENT_NAME_MAX] = "", s0[AGENT_NAME_MAX] = "", pc0[9] = "", sx0[2] = "";
        struct agent_date d0 = {0, 0, 0};
        int have = 0;

        for (int a = 0; a < XL_GEN_NAGENCY; a++) {
            char f[AGENT_NAME_MAX], s[AGENT_NAME_MAX], pc[9], sx[2];
            struct agent_date d;
            const char *v;
            size_t r = rows[a][p];

            if (r == SIZE_MAX)
                continue;
            s_norm_name(s_cell(&t[a], r, s_col(&t[a], first_c[a])), f);
            s_norm_name(s_cell(&t[a], r, s_col(&t[a], sur_c[a])), s);
            v = s_cell(&t[a], r, s_col(&t[a], dob_c[a]));
            assert_int_equal(agent_norm_date(v, strlen(v), dob_f[a], &rules, &d), AGENT_OK);
            v = s_cell(&t[a], r, s_col(&t[a], sex_c[a]));
            assert_int_equal(agent_norm_sex(v, strlen(v), sx), AGENT_OK);
            v = s_cell(&t[a], r, s_col(&t[a], pc_c[a]));
            assert_int_equal(agent_norm_postcode(v, strlen(v), pc, NULL, NULL), AGENT_OK);
            if (!have) {
                int age = agent_date_age(&d, &rules.ref);

                assert_true(age >= 10 && age <= 18);
                ages[age - 10]++;
                strcpy(f0, f);
                strcpy(s0, s);
                strcpy(pc0, pc);
                strcpy(sx0, sx);
                d0 = d;
                have = 1;
                continue;
            }
            assert_string_equal(f, f0);
            assert_string_equal(s, s0);
            assert_string_equal(pc, pc0);
            assert_string_equal(sx, sx0);
            assert_memory_equal(&d, &d0, sizeof d);
            compared++;
        }
    }
    assert_true(compared > 4500);
    /* Every age from 10 to 18 is well represented. */
    for (int i = 0; i < 9; i++)
        assert_true(ages[i] > 350);
    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        free(rows[a]);
        s_tab_free(&t[a]);
    }
    free(truth);
    tu_rmtree(dir);
    free(dir);
}

static void
test_errors_of_every_kind(void **state)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum, base;
    size_t werr = 0, total;
    char *dir;

    s_opts(&o, 21, 10000);
    o.error_rate = 0.3;
    o.invalid_rate = 0.01;
    dir = s_generate(&o, &sum);
    for (int k = 0; k < XL_GEN_NERROR; k++)
        if (sum.errors[k] == 0)
            fail_msg("no %s errors", xl_gen_error_name(k));
    for (int k = 0; k < XL_GEN_NINVALID; k++)
        if (sum.invalid[k] == 0)
            fail_msg("no %s values", xl_gen_invalid_name(k));
    total = s_total(&sum);
    for (int a = 0; a < XL_GEN_NAGENCY; a++)
        werr += sum.with_error[a];
    assert_true(werr > total * 28 / 100 && werr < total * 40 / 100);
    tu_rmtree(dir);
    free(dir);

    /* The default rate gives about one record in ten with an error. */
    s_opts(&o, 21, 10000);
    dir = s_generate(&o, &base);
    total = s_total(&base);
    werr = 0;
    for (int a = 0; a < XL_GEN_NAGENCY; a++)
        werr += base.with_error[a];
    assert_true(werr > total * 8 / 100 && werr < total * 14 / 100);
    assert_true(base.errors[XL_GEN_E_DUPLICATE] < sum.errors[XL_GEN_E_DUPLICATE]);
    tu_rmtree(dir);
    free(dir);
}

/* Outcomes follow the children's needs: those known to police have more
 * exclusions and lower attendance. */
static void
test_outcomes_correlate(void **state)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    struct s_tab police, edu;
    size_t nt, *prow, *erow, n[2] = {0, 0};
    double excl[2] = {0, 0}, att[2] = {0, 0};
    struct s_key *truth;
    char *dir;

    s_opts(&o, 8, 20000);
    dir = s_generate(&o, &sum);
    truth = s_truth(dir, &nt, o.people);
    s_load(dir, "police.csv", &police);
    s_load(dir, "education.csv", &edu);
    prow = s_rows_by_person(&police, XL_GEN_POLICE, truth, nt, o.people);
    erow = s_rows_by_person(&edu, XL_GEN_EDUCATION, truth, nt, o.people);
    for (size_t p = 1; p <= o.people; p++) {
        int k = prow[p] != SIZE_MAX;
        const char *a;

        if (erow[p] == SIZE_MAX)
            continue;
        a = s_cell(&edu, erow[p], s_col(&edu, "Attendance %"));
        /* One decimal place. */
        assert_non_null(strchr(a, '.'));
        assert_int_equal(strlen(strchr(a, '.')), 2);
        att[k] += strtod(a, NULL);
        excl[k] += strtod(s_cell(&edu, erow[p], s_col(&edu, "Exclusions")), NULL);
        n[k]++;
    }
    assert_true(n[0] > 1000 && n[1] > 100);
    assert_true(excl[1] / (double)n[1] > 3 * excl[0] / (double)n[0]);
    assert_true(att[1] / (double)n[1] < att[0] / (double)n[0] - 3);
    free(prow);
    free(erow);
    s_tab_free(&police);
    s_tab_free(&edu);
    free(truth);
    tu_rmtree(dir);
    free(dir);
}

static int
s_nfc(const char *s)
{
    utf8proc_uint8_t *n = utf8proc_NFC((const utf8proc_uint8_t *)s);
    int same = n != NULL && strcmp((const char *)n, s) == 0;

    free(n);
    return same;
}

static void
s_check_name(const char *s)
{
    char folded[256], norm[AGENT_NAME_MAX];
    int k = xl_gen_ascii_fold(s, folded, sizeof folded);

    if (k < 0 || strchr(folded, '?') != NULL)
        fail_msg("table name does not fold to ASCII");
    if (!s_nfc(s))
        fail_msg("table name is not valid UTF-8 in NFC");
    s_norm_name(s, norm);
}

static int
s_in_tables(const char *name)
{
    for (size_t o = 0; o < xl_gen_n_origins; o++) {
        const struct xl_gen_origin *g = &xl_gen_origins[o];
        const struct xl_gen_name *lists[4] = {g->male, g->female, g->surname, g->girl_surname};
        size_t ns[4] = {g->n_male, g->n_female, g->n_surname, g->n_girl_surname};

        for (int l = 0; l < 4; l++)
            for (size_t i = 0; i < ns[l]; i++)
                if (strcmp(lists[l][i].name, name) == 0 ||
                    (lists[l][i].female != NULL && strcmp(lists[l][i].female, name) == 0))
                    return 1;
    }
    return 0;
}

/* The programme's caseload: the agency files and their truth rows are those
 * the same options give without it; its cases are well-formed, in the truth,
 * numbered in order of support start, drawn mostly from children known to
 * police or social care, and seldom followed by a first offence or care entry. */
static void
test_programme(void **state)
{
    static const char *const cols[] = {
        "Case Ref", "First Name", "Last Name",       "DOB",           "Sex",
        "Postcode", "NHS Number", "Referral Source", "Support Start", "Sessions Attended"};
    static const char *const sources[] = {"Police", "School", "GP", "CAMHS", "Social Care"};
    struct xl_gen_opts o;
    struct xl_gen_summary s0, s1;
    uint8_t h0[XL_HASH_BYTES], h1[XL_HASH_BYTES];
    char *d0, *d1, *t0, *t1, *path;
    struct s_key *truth, key;
    struct s_tab t;
    size_t nt, rows = 0, len0, supported;
    int prev = 0;

    s_opts(&o, 21, 8000);
    d0 = s_generate(&o, &s0);
    o.programme = 0.04;
    d1 = s_generate(&o, &s1);
    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        s_file_hash(d0, s_files[a], h0);
        s_file_hash(d1, s_files[a], h1);
        assert_memory_equal(h0, h1, XL_HASH_BYTES);
        assert_int_equal(s0.records[a], s1.records[a]);
    }
    path = tu_path(d0, "programme.csv");
    assert_int_equal(tu_file_mode(path), -1);
    free(path);
    assert_int_equal(s0.records[XL_GEN_PROGRAMME], 0);

    /* truth.csv: the same rows, then one per case. */
    path = tu_path(d0, "truth.csv");
    t0 = tu_read_file(path);
    free(path);
    path = tu_path(d1, "truth.csv");
    t1 = tu_read_file(path);
    free(path);
    assert_non_null(t0);
    assert_non_null(t1);
    len0 = strlen(t0);
    assert_true(strlen(t1) > len0);
    assert_memory_equal(t0, t1, len0);
    for (const char *p = t1 + len0; *p != '\0'; p = strchr(p, '\n') + 1) {
        assert_memory_equal(p, "programme,", 10);
        assert_non_null(strchr(p, '\n'));
        rows++;
    }
    assert_int_equal(rows, s1.records[XL_GEN_PROGRAMME]);
    free(t0);
    free(t1);

    /* About the share asked for, chosen by need; referred after the event. */
    supported = s1.persons[XL_GEN_PROGRAMME];
    assert_true(supported > 8000 * 3 / 100 && supported < 8000 * 5 / 100);
    assert_true(s1.records[XL_GEN_PROGRAMME] > supported);
    assert_int_equal(s1.records[XL_GEN_PROGRAMME] - supported, s1.duplicates[XL_GEN_PROGRAMME]);
    assert_true(s1.programme_police * 3 > supported); /* 8% of all children */
    assert_true(s1.programme_social * 3 > supported); /* 15% of all children */
    assert_true(s1.programme_event_after * 5 < s1.programme_police);

    s_load(d1, "programme.csv", &t);
    assert_int_equal(t.ncols, sizeof cols / sizeof cols[0]);
    for (size_t c = 0; c < t.ncols; c++)
        assert_string_equal(t.cell[c], cols[c]);
    assert_int_equal(t.nrows, rows);
    truth = s_truth(d1, &nt, o.people);
    for (size_t r = 0; r < t.nrows; r++) {
        const char *src = s_cell(&t, r, 7), *n = s_cell(&t, r, 9), *sex = s_cell(&t, r, 4);
        int d, m, y, known = 0, ymd;
        char tail;

        memset(&key, 0, sizeof key);
        snprintf(key.agency, sizeof key.agency, "programme");
        snprintf(key.id, sizeof key.id, "%s", s_cell(&t, r, 0));
        assert_non_null(bsearch(&key, truth, nt, sizeof *truth, s_key_cmp));
        assert_memory_equal(key.id, "TS", 2);
        if (r > 0)
            assert_true(strcmp(s_cell(&t, r - 1, 0), key.id) < 0);
        /* Support started in the three years before 2026-11-01, in ref order. */
        assert_int_equal(sscanf(s_cell(&t, r, 8), "%2d/%2d/%4d%c", &d, &m, &y, &tail), 3);
        ymd = y * 10000 + m * 100 + d;
        assert_true(ymd >= 20231101 && ymd < 20261101);
        assert_true(ymd >= prev);
        prev = ymd;
        for (size_t k = 0; k < sizeof sources / sizeof sources[0]; k++)
            known |= strcmp(src, sources[k]) == 0;
        assert_true(known);
        assert_true(n[0] != '\0' && strspn(n, "0123456789") == strlen(n));
        assert_true(strcmp(sex, "M") == 0 || strcmp(sex, "F") == 0 || sex[0] == '\0');
    }
    s_tab_free(&t);
    free(truth);

    /* Without the programme again, the old caseload goes. */
    o.programme = 0;
    assert_int_equal(xl_gen_coalition(&o, d1, &s1, NULL, 0), 0);
    path = tu_path(d1, "programme.csv");
    assert_int_equal(tu_file_mode(path), -1);
    free(path);
    tu_rmtree(d0);
    tu_rmtree(d1);
    free(d0);
    free(d1);
}

static void
test_name_tables(void **state)
{
    static const char *const expected[] = {
        "Muhammad", "Ayesha",      "Hussain",    "Patel",   "Begum",   "Kaur",
        "Singh",    "Łukasz",      "Wójcik",     "Ștefan",  "Jūratė",  "Oluwaseun",
        "Adeyemi",  "Abdi",        "Mensah",     "Nguyễn",  "José",    "Zoë",
        "Chloé",    "Smith-Jones", "Ahmed Khan", "O'Neill", "D'Souza", "Kowalska",
    };
    static const struct {
        const char *in, *out;
    } folds[] = {
        {"Łukasz Wójcik", "Lukasz Wojcik"},
        {"Nguyễn", "Nguyen"},
        {"Ștefan", "Stefan"},
        {"Đặng", "Dang"},
        {"Jūratė", "Jurate"},
        {"O\xE2\x80\x99Neill", "O'Neill"},
        {"Smith", "Smith"},
    };
    size_t males = 0, females = 0, surnames = 0;
    char out[64];

    for (size_t o = 0; o < xl_gen_n_origins; o++) {
        const struct xl_gen_origin *g = &xl_gen_origins[o];
        const struct xl_gen_name *lists[4] = {g->male, g->female, g->surname, g->girl_surname};
        size_t ns[4] = {g->n_male, g->n_female, g->n_surname, g->n_girl_surname};

        assert_true(g->weight > 0);
        assert_true(g->n_male > 0 && g->n_female > 0 && g->n_surname > 0);
        males += g->n_male;
        females += g->n_female;
        surnames += g->n_surname + g->n_girl_surname;
        for (int l = 0; l < 4; l++) {
            for (size_t i = 0; i < ns[l]; i++) {
                assert_true(lists[l][i].weight > 0);
                s_check_name(lists[l][i].name);
                if (lists[l][i].female != NULL)
                    s_check_name(lists[l][i].female);
            }
        }
    }
    assert_true(males >= 200 && females >= 200 && surnames >= 300);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        if (!s_in_tables(expected[i]))
            fail_msg("%s is not in the name tables", expected[i]);
    for (size_t i = 0; i < xl_gen_n_nicknames; i++) {
        s_check_name(xl_gen_nicknames[i].name);
        s_check_name(xl_gen_nicknames[i].alias);
    }
    for (size_t i = 0; i < xl_gen_n_spellings; i++) {
        s_check_name(xl_gen_spellings[i].name);
        s_check_name(xl_gen_spellings[i].alias);
    }
    for (size_t i = 0; i < sizeof folds / sizeof folds[0]; i++) {
        assert_true(xl_gen_ascii_fold(folds[i].in, out, sizeof out) >= 0);
        assert_string_equal(out, folds[i].out);
    }
    assert_int_equal(xl_gen_ascii_fold("Smith", out, sizeof out), 0);
    assert_int_equal(xl_gen_ascii_fold("Łukasz Wójcik", out, 5), -1);
    assert_int_equal(xl_gen_ascii_fold("\xC3(", out, sizeof out), -1);
}

/* ---- the command, and its hard mode ------------------------------------------- */

static const char *const s_agency_files[XL_GEN_NFILE] = {
    "police.csv", "health.csv", "education.csv", "social.csv", "programme.csv"};

/* Runs gen_coalition --seed SEED --people PEOPLE --quiet --out DIR [--hard]
 * [extra]; fails the test unless it exits 0. */
static void
s_command(const char *dir, const char *seed, const char *people, int hard, const char *extra,
          const char *extra_value)
{
    char *argv[16];
    int argc = 0;

    argv[argc++] = (char *)"gen_coalition";
    argv[argc++] = (char *)"--seed";
    argv[argc++] = (char *)seed;
    argv[argc++] = (char *)"--people";
    argv[argc++] = (char *)people;
    argv[argc++] = (char *)"--quiet";
    argv[argc++] = (char *)"--out";
    argv[argc++] = (char *)dir;
    if (hard)
        argv[argc++] = (char *)"--hard";
    if (extra != NULL) {
        argv[argc++] = (char *)extra;
        argv[argc++] = (char *)extra_value;
    }
    argv[argc] = NULL;
    assert_int_equal(gen_coalition_main(argc, argv), 0);
}

/* The default output of the command for seed 3 and 500 children, hashed
 * before hard mode was added: it must never change with it. */
static void
test_default_output_unchanged(void **state)
{
    static const char expected[] =
        "25ce5cb677862860d0646d556e81cea77d5a1e18f6924c0a7c3631c23db1c97c";
    char *dir = tu_tmpdir(), *all = NULL, hex[2 * XL_HASH_BYTES + 1];
    uint8_t h[XL_HASH_BYTES];
    size_t len = 0;

    assert_non_null(dir);
    s_command(dir, "3", "500", 0, NULL, NULL);
    for (size_t i = 0; i < sizeof s_files / sizeof s_files[0]; i++) {
        char *path = tu_path(dir, s_files[i]), *text;
        size_t l;

        assert_non_null(path);
        text = tu_read_file(path);
        assert_non_null(text);
        l = strlen(text);
        all = realloc(all, len + l + 1);
        assert_non_null(all);
        memcpy(all + len, text, l + 1);
        len += l;
        free(text);
        free(path);
    }
    xl_sha256(all, len, h);
    xl_hex(h, sizeof h, hex);
    assert_string_equal(hex, expected);
    free(all);
    tu_rmtree(dir);
    free(dir);
}

static void
test_hard_deterministic(void **state)
{
    char *d1 = tu_tmpdir(), *d2 = tu_tmpdir(), *d3 = tu_tmpdir(), *d0 = tu_tmpdir();
    uint8_t h1[XL_HASH_BYTES], h2[XL_HASH_BYTES];

    assert_true(d1 != NULL && d2 != NULL && d3 != NULL && d0 != NULL);
    s_command(d1, "13", "3000", 1, "--programme", "0.05");
    s_command(d2, "13", "3000", 1, "--programme", "0.05");
    s_command(d3, "14", "3000", 1, "--programme", "0.05");
    s_command(d0, "13", "3000", 0, "--programme", "0.05");
    for (size_t i = 0; i < XL_GEN_NFILE + 1; i++) {
        const char *file = i < XL_GEN_NFILE ? s_agency_files[i] : "truth.csv";

        s_file_hash(d1, file, h1);
        s_file_hash(d2, file, h2);
        assert_memory_equal(h1, h2, XL_HASH_BYTES);
        /* Another seed changes every file, and so does hard mode. */
        s_file_hash(d3, file, h2);
        assert_memory_not_equal(h1, h2, XL_HASH_BYTES);
        s_file_hash(d0, file, h2);
        assert_memory_not_equal(h1, h2, XL_HASH_BYTES);
    }
    /* A population too small for every file to hold someone. */
    for (int i = 1; i <= 3; i++) {
        char n[16];
        size_t nt;
        struct s_key *t;

        snprintf(n, sizeof n, "%d", i);
        s_command(d0, "4", n, 1, NULL, NULL);
        t = s_truth(d0, &nt, 10);
        free(t);
    }
    tu_rmtree(d0);
    tu_rmtree(d1);
    tu_rmtree(d2);
    tu_rmtree(d3);
    free(d0);
    free(d1);
    free(d2);
    free(d3);
}

/* An identifier and the child it belongs to, for checking that a valid NHS
 * number or UPN names one child everywhere. */
struct s_ident {
    char v[16];
    size_t person;
};

static int
s_ident_cmp(const void *a, const void *b)
{
    return strcmp(((const struct s_ident *)a)->v, ((const struct s_ident *)b)->v);
}

static size_t
s_person_of(const struct s_key *truth, size_t nt, int agency, const char *id)
{
    struct s_key key, *hit;

    memset(&key, 0, sizeof key);
    snprintf(key.agency, sizeof key.agency, "%s", xl_gen_agency_name(agency));
    snprintf(key.id, sizeof key.id, "%s", id);
    hit = bsearch(&key, truth, nt, sizeof *truth, s_key_cmp);
    if (hit == NULL)
        fail_msg("%s %s is not in truth.csv", xl_gen_agency_name(agency), id);
    return hit->person;
}

/* Every row of every file is in the truth once, the rows of the default files
 * keep their child, added rows are duplicates of a child the file already
 * holds or new children (twins and siblings) with identifiers of their own. */
static void
test_hard_truth_exact(void **state)
{
    const size_t people = 4000;
    char *dh = tu_tmpdir(), *d0 = tu_tmpdir();
    struct s_key *th, *t0;
    size_t nh, n0, rows = 0, added_children = 0, dup0 = 0, duph = 0, triples = 0, nid = 0;
    unsigned char(*cnt)[XL_GEN_NFILE], (*cnt0)[XL_GEN_NFILE];
    struct s_ident *ids = NULL;

    assert_true(dh != NULL && d0 != NULL);
    s_command(dh, "17", "4000", 1, "--programme", "0.05");
    s_command(d0, "17", "4000", 0, "--programme", "0.05");
    th = s_truth(dh, &nh, people * 2);
    t0 = s_truth(d0, &n0, people);
    cnt = calloc(people * 2 + 1, sizeof *cnt);
    cnt0 = calloc(people + 1, sizeof *cnt0);
    assert_true(cnt != NULL && cnt0 != NULL);

    /* Nothing of the default files is lost or given to another child. */
    for (size_t i = 0; i < n0; i++) {
        struct s_key *hit = bsearch(&t0[i], th, nh, sizeof *th, s_key_cmp);

        assert_non_null(hit);
        assert_int_equal(hit->person, t0[i].person);
    }
    for (int a = 0; a < XL_GEN_NFILE; a++) {
        struct s_tab t, t_0;
        size_t in_truth = 0;
        int nhs_c = s_layouts[a].nhs, upn_c = s_layouts[a].upn;

        s_load(dh, s_agency_files[a], &t);
        s_load(d0, s_agency_files[a], &t_0);
        /* The columns the mappings read. */
        assert_int_equal(t.ncols, t_0.ncols);
        for (size_t c = 0; c < t.ncols; c++)
            assert_string_equal(t.cell[c], t_0.cell[c]);
        assert_true(t.nrows > t_0.nrows);
        for (size_t i = 0; i < nh; i++)
            in_truth += strcmp(th[i].agency, xl_gen_agency_name(a)) == 0;
        assert_int_equal(in_truth, t.nrows);
        rows += t.nrows;
        ids = realloc(ids, (nid + 2 * t.nrows) * sizeof *ids);
        assert_non_null(ids);
        for (size_t r = 0; r < t.nrows; r++) {
            const char *id = s_cell(&t, r, 0);
            size_t p = s_person_of(th, nh, a, id);
            char canon[16];
            const char *v;

            /* Still in id order, as an export sorted by id is. */
            if (r > 0)
                assert_true(strcmp(s_cell(&t, r - 1, 0), id) < 0);
            if (cnt[p][a] < 255)
                cnt[p][a]++;
            if (nhs_c >= 0 && (v = s_cell(&t, r, nhs_c))[0] != '\0' &&
                agent_norm_nhs(v, strlen(v), canon) == AGENT_OK) {
                snprintf(ids[nid].v, sizeof ids[nid].v, "N%.14s", canon);
                ids[nid++].person = p;
            }
            if (upn_c >= 0 && (v = s_cell(&t, r, upn_c))[0] != '\0' &&
                agent_norm_upn(v, strlen(v), canon) == AGENT_OK) {
                snprintf(ids[nid].v, sizeof ids[nid].v, "U%.14s", canon);
                ids[nid++].person = p;
            }
        }
        for (size_t r = 0; r < t_0.nrows; r++) {
            size_t p = s_person_of(t0, n0, a, s_cell(&t_0, r, 0));

            cnt0[p][a]++;
        }
        s_tab_free(&t);
        s_tab_free(&t_0);
    }
    assert_int_equal(rows, nh);

    /* More children held twice in one agency than without hard mode, some
     * three times; new children beyond the population. */
    for (size_t p = 1; p <= people * 2; p++) {
        int in = 0;

        for (int a = 0; a < XL_GEN_NFILE; a++) {
            duph += cnt[p][a] >= 2;
            triples += cnt[p][a] >= 3;
            in += cnt[p][a] > 0;
            if (p <= people)
                dup0 += cnt0[p][a] >= 2;
        }
        if (p > people && in > 0)
            added_children++;
    }
    assert_true(duph > dup0 * 2);
    assert_true(triples > 0);
    assert_true(added_children > people / 50);

    /* A valid NHS number or UPN belongs to one child, across every file. */
    qsort(ids, nid, sizeof *ids, s_ident_cmp);
    for (size_t i = 1; i < nid; i++)
        if (strcmp(ids[i].v, ids[i - 1].v) == 0 && ids[i].person != ids[i - 1].person)
            fail_msg("identifier %s held by P%zu and P%zu", ids[i].v, ids[i - 1].person,
                     ids[i].person);
    assert_true(nid > 4000);
    free(ids);
    free(cnt);
    free(cnt0);
    free(th);
    free(t0);
    tu_rmtree(dh);
    tu_rmtree(d0);
    free(dh);
    free(d0);
}

/* What the agents' validation and a linker meet in one agency's file. */
struct s_mess {
    size_t digit_names, empty_first, empty_sur, bad_month, day31, date_invalid, date_future,
        date_partial, date_missing, pc_bad, pc_missing, nhs_bad, nhs_missing, same_family;
};

struct s_fam {
    char key[160], first[64];
    size_t person;
};

static int
s_fam_cmp(const void *a, const void *b)
{
    return strcmp(((const struct s_fam *)a)->key, ((const struct s_fam *)b)->key);
}

static void
s_mess_of(const char *dir, int a, struct s_mess *m)
{
    static const char *const fmt[XL_GEN_NFILE] = {"dd/mm/yyyy", "yyyy-mm-dd", "yyyymmdd",
                                                  "d/m/yyyy", "dd/mm/yyyy"};
    const struct s_layout *l = &s_layouts[a];
    struct agent_date_rules rules = {.ref = {2026, 11, 1}};
    struct s_key *truth;
    struct s_fam *fam;
    struct s_tab t;
    size_t nt;

    s_load(dir, s_agency_files[a], &t);
    truth = s_truth(dir, &nt, 1000000);
    fam = calloc(t.nrows + 1, sizeof *fam);
    assert_non_null(fam);
    for (size_t r = 0; r < t.nrows; r++) {
        const char *first = s_cell(&t, r, l->first), *sur = s_cell(&t, r, l->sur);
        const char *dob = s_cell(&t, r, l->dob), *pc = s_cell(&t, r, l->pc);
        struct agent_date dt;
        char canon[16];
        int y, mo, d, rc;

        m->digit_names +=
            strpbrk(first, "0123456789") != NULL || strpbrk(sur, "0123456789") != NULL;
        m->empty_first += first[0] == '\0';
        m->empty_sur += sur[0] == '\0';
        if (s_date_parse(l->datefmt, dob, &y, &mo, &d) == 0) {
            m->bad_month += mo > 12 || mo == 0;
            m->day31 += d == 31 && (mo == 4 || mo == 6 || mo == 9 || mo == 11);
        }
        rc = agent_norm_date(dob, strlen(dob), fmt[a], &rules, &dt);
        m->date_invalid += rc == AGENT_R_DATE_INVALID;
        m->date_future += rc == AGENT_R_DATE_FUTURE;
        m->date_partial += rc == AGENT_R_DATE_FORMAT && strlen(dob) >= 4 && strlen(dob) <= 7;
        m->date_missing += rc == AGENT_R_MISSING;
        rc = agent_norm_postcode(pc, strlen(pc), canon, NULL, NULL);
        m->pc_bad += rc == AGENT_R_POSTCODE;
        m->pc_missing += rc == AGENT_R_MISSING;
        if (l->nhs >= 0) {
            const char *v = s_cell(&t, r, l->nhs);

            rc = agent_norm_nhs(v, strlen(v), canon);
            m->nhs_bad += rc == AGENT_R_NHS_CHECK;
            m->nhs_missing += rc == AGENT_R_MISSING;
        }
        /* Surname, date of birth and postcode as written: who shares them. */
        snprintf(fam[r].key, sizeof fam[r].key, "%.60s|%.16s|%.16s", sur, dob, pc);
        snprintf(fam[r].first, sizeof fam[r].first, "%s", first);
        fam[r].person = s_person_of(truth, nt, a, s_cell(&t, r, 0));
    }
    /* Two children with the same surname, date of birth and postcode and
     * different forenames: twins, as a linker sees them. */
    qsort(fam, t.nrows, sizeof *fam, s_fam_cmp);
    for (size_t r = 1; r < t.nrows; r++)
        m->same_family += strcmp(fam[r].key, fam[r - 1].key) == 0 &&
                          fam[r].person != fam[r - 1].person &&
                          strcmp(fam[r].first, fam[r - 1].first) != 0;
    free(fam);
    free(truth);
    s_tab_free(&t);
}

/* Each kind of mess, on a modest population, in hard mode's counts and in
 * the files themselves, compared with the same seed without it. */
static void
test_hard_every_kind(void **state)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    struct s_hard_sum hs;
    struct s_mess mh, m0;
    char err[XL_ERRBUF] = "";
    char *dh, *d0;
    size_t in = 0, out = 0;

    s_opts(&o, 21, 5000);
    d0 = s_generate(&o, &sum);
    dh = s_generate(&o, &sum);
    if (s_hard(&o, dh, &hs, err, sizeof err) != 0)
        fail_msg("hard mode: %s", err);
    for (int k = 0; k < S_H_NKIND; k++)
        if (hs.kinds[k] == 0)
            fail_msg("no %s in hard mode", s_hkind_names[k]);
    assert_true(hs.twins > 0 && hs.twins_similar > 0 && hs.siblings > 0);
    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        assert_true(hs.dup_rows[a] > 0);
        assert_int_equal(hs.rows_in[a], sum.records[a]);
        assert_int_equal(hs.rows_out[a],
                         hs.rows_in[a] + hs.dup_rows[a] + hs.twin_rows[a] + hs.sib_rows[a]);
        in += hs.rows_in[a];
        out += hs.rows_out[a];
    }
    assert_int_equal(hs.truth_rows, out);
    assert_true(out > in);

    memset(&mh, 0, sizeof mh);
    memset(&m0, 0, sizeof m0);
    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        s_mess_of(dh, a, &mh);
        s_mess_of(d0, a, &m0);
    }
    /* The default data hold none of these... */
    assert_int_equal(m0.digit_names, 0);
    assert_int_equal(m0.empty_first + m0.empty_sur, 0);
    assert_int_equal(m0.bad_month + m0.date_future + m0.date_partial + m0.date_missing, 0);
    /* ...and hard mode all of them, and more of the rest. */
    assert_true(mh.digit_names > 0);
    assert_true(mh.empty_first > 0 && mh.empty_sur > 0);
    assert_true(mh.bad_month > 0 && mh.day31 > 0);
    assert_true(mh.date_invalid > m0.date_invalid);
    assert_true(mh.date_future > 0 && mh.date_partial > 0 && mh.date_missing > 0);
    assert_true(mh.pc_bad > m0.pc_bad && mh.pc_missing > m0.pc_missing);
    assert_true(mh.nhs_bad > m0.nhs_bad && mh.nhs_missing > m0.nhs_missing);
    assert_true(mh.same_family > m0.same_family);
    tu_rmtree(dh);
    tu_rmtree(d0);
    free(dh);
    free(d0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_refused),
        cmocka_unit_test(test_same_seed_identical),
        cmocka_unit_test(test_zeroed_options_use_defaults),
        cmocka_unit_test(test_csv_well_formed),
        cmocka_unit_test(test_identifiers_valid),
        cmocka_unit_test(test_truth_accounts_for_every_record),
        cmocka_unit_test(test_overlap_proportions),
        cmocka_unit_test(test_clean_records_agree),
        cmocka_unit_test(test_errors_of_every_kind),
        cmocka_unit_test(test_outcomes_correlate),
        cmocka_unit_test(test_programme),
        cmocka_unit_test(test_name_tables),
        cmocka_unit_test(test_default_output_unchanged),
        cmocka_unit_test(test_hard_deterministic),
        cmocka_unit_test(test_hard_truth_exact),
        cmocka_unit_test(test_hard_every_kind),
    };

    return cmocka_run_group_tests_name("gen", tests, NULL, NULL);
}
