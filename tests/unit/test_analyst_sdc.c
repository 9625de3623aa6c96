/* Unit tests for analyst/sdc.c: the disclosure rules on hand-made tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../analyst/sdc.h"
#include "../../analyst/summary.h"
#include "xl/err.h"

static const struct analyst_sdc_rules s_default = {ANALYST_SDC_MIN_COUNT_DEFAULT,
                                                   ANALYST_SDC_ROUND_TO_DEFAULT};

static struct analyst_sdc *
s_new(void)
{
    struct analyst_sdc *s = analyst_sdc_new(&s_default);

    assert_non_null(s);
    return s;
}

static long
s_shown(const struct analyst_sdc *s, int i)
{
    long v = -1;

    assert_int_equal(analyst_sdc_shown(s, i, &v), 1);
    return v;
}

static void
s_suppressed(const struct analyst_sdc *s, int i, enum analyst_sdc_state want)
{
    long v = -1;

    assert_int_equal(analyst_sdc_state(s, i), want);
    assert_int_equal(analyst_sdc_shown(s, i, &v), 0);
    assert_int_equal(v, 0);
}

static void
test_round(void **state)
{
    (void)state;
    assert_int_equal(analyst_sdc_round(13, 5), 15);
    assert_int_equal(analyst_sdc_round(12, 5), 10);
    assert_int_equal(analyst_sdc_round(10, 5), 10);
    assert_int_equal(analyst_sdc_round(17, 5), 15);
    assert_int_equal(analyst_sdc_round(18, 5), 20);
    assert_int_equal(analyst_sdc_round(15, 10), 20); /* halves up */
    assert_int_equal(analyst_sdc_round(14, 10), 10);
    assert_int_equal(analyst_sdc_round(13, 1), 13);
}

/* Rule 1 and 2: 9 suppressed, 10 shown, 13 shown as 15, 7 suppressed. */
static void
test_threshold_and_rounding(void **state)
{
    struct analyst_sdc *s = s_new();
    int a = analyst_sdc_cell(s, 9, 1), b = analyst_sdc_cell(s, 10, 1);
    int c = analyst_sdc_cell(s, 13, 1), d = analyst_sdc_cell(s, 7, 1);
    int e = analyst_sdc_cell(s, 112, 1);
    char buf[80];

    (void)state;
    assert_int_equal(analyst_sdc_apply(s), 0);
    s_suppressed(s, a, ANALYST_SDC_THRESHOLD);
    assert_int_equal(s_shown(s, b), 10);
    assert_int_equal(s_shown(s, c), 15);
    s_suppressed(s, d, ANALYST_SDC_THRESHOLD);
    assert_int_equal(s_shown(s, e), 110);
    assert_string_equal(analyst_sdc_reason(s, analyst_sdc_state(s, a), buf, sizeof buf),
                        "suppressed: fewer than 10");
    assert_string_equal(analyst_sdc_reason(s, ANALYST_SDC_SECONDARY, buf, sizeof buf),
                        "suppressed: would reveal a suppressed cell");
    analyst_sdc_destroy(&s);
    assert_null(s);
}

/* A zero is below the threshold and suppressed; with the rules off it is shown. */
static void
test_zero_rule(void **state)
{
    struct analyst_sdc_rules off = {0, 1};
    struct analyst_sdc *s = s_new(), *o = analyst_sdc_new(&off);
    int z, zo, k;

    (void)state;
    assert_non_null(o);
    z = analyst_sdc_cell(s, 0, 1);
    zo = analyst_sdc_cell(o, 0, 1);
    k = analyst_sdc_cell(o, 13, 1);
    assert_int_equal(analyst_sdc_apply(s), 0);
    assert_int_equal(analyst_sdc_apply(o), 0);
    s_suppressed(s, z, ANALYST_SDC_THRESHOLD);
    assert_int_equal(s_shown(o, zo), 0);
    assert_int_equal(s_shown(o, k), 13);
    analyst_sdc_destroy(&s);
    analyst_sdc_destroy(&o);
}

/* Rule 4: the rate from true counts, withheld when either count is suppressed. */
static void
test_rate(void **state)
{
    struct analyst_sdc *s = s_new();
    int num = analyst_sdc_cell(s, 13, 1), den = analyst_sdc_cell(s, 47, 1);
    int small = analyst_sdc_cell(s, 4, 1), smallden = analyst_sdc_cell(s, 8, 1);
    struct analyst_rate r;
    double lo, hi;

    (void)state;
    assert_int_equal(analyst_sdc_apply(s), 0);
    analyst_sdc_rate(s, num, den, &r);
    assert_int_equal(r.shown, 1);
    assert_true(r.p > 13.0 / 47 - 1e-12 && r.p < 13.0 / 47 + 1e-12); /* not 15/45 */
    analyst_wilson(13, 47, &lo, &hi);
    assert_true(r.lo == lo && r.hi == hi);
    assert_true(lo < r.p && r.p < hi);
    analyst_sdc_rate(s, small, den, &r);
    assert_int_equal(r.shown, 0);
    analyst_sdc_rate(s, num, smallden, &r);
    assert_int_equal(r.shown, 0);
    assert_true(r.p == 0 && r.lo == 0 && r.hi == 0);
    analyst_sdc_destroy(&s);
}

/* Wilson interval for 10 of 50 (published worked values: 0.1124 to 0.3304). */
static void
test_wilson(void **state)
{
    double lo, hi;

    (void)state;
    analyst_wilson(10, 50, &lo, &hi);
    assert_true(lo > 0.1123 && lo < 0.1125);
    assert_true(hi > 0.3303 && hi < 0.3305);
    analyst_wilson(0, 20, &lo, &hi);
    assert_true(lo == 0 && hi > 0.16 && hi < 0.17);
}

/* yes + no + unknown = total, all displayed: yes = 6 suppressed; then total -
 * no - unknown would give it back, so the next-smallest part (unknown, 12) goes
 * too; the largest part and the total stay. */
static void
test_secondary(void **state)
{
    struct analyst_sdc *s = s_new();
    int yes = analyst_sdc_cell(s, 6, 1), no = analyst_sdc_cell(s, 40, 1);
    int unk = analyst_sdc_cell(s, 12, 1), tot = analyst_sdc_cell(s, 58, 1);
    int parts[] = {yes, no, unk};

    (void)state;
    assert_int_equal(analyst_sdc_relation(s, tot, parts, 3), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    s_suppressed(s, yes, ANALYST_SDC_THRESHOLD);
    s_suppressed(s, unk, ANALYST_SDC_SECONDARY);
    assert_int_equal(s_shown(s, no), 40);
    assert_int_equal(s_shown(s, tot), 60);
    analyst_sdc_destroy(&s);
}

/* Complement: yes shown, known shown, no hidden = known - yes = 3: yes goes. */
static void
test_complement(void **state)
{
    struct analyst_sdc *s = s_new();
    int yes = analyst_sdc_cell(s, 45, 1), no = analyst_sdc_cell(s, 3, 0);
    int known = analyst_sdc_cell(s, 48, 1);
    int parts[] = {yes, no};
    struct analyst_rate r;

    (void)state;
    assert_int_equal(analyst_sdc_relation(s, known, parts, 2), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    s_suppressed(s, yes, ANALYST_SDC_SECONDARY);
    assert_int_equal(analyst_sdc_state(s, no), ANALYST_SDC_HIDDEN);
    assert_int_equal(s_shown(s, known), 50);
    analyst_sdc_rate(s, yes, known, &r);
    assert_int_equal(r.shown, 0);
    analyst_sdc_destroy(&s);
}

/* The same with a large complement: nothing is suppressed. */
static void
test_complement_large(void **state)
{
    struct analyst_sdc *s = s_new();
    int yes = analyst_sdc_cell(s, 25, 1), no = analyst_sdc_cell(s, 23, 0);
    int known = analyst_sdc_cell(s, 48, 1);
    int parts[] = {yes, no};

    (void)state;
    assert_int_equal(analyst_sdc_relation(s, known, parts, 2), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    assert_int_equal(s_shown(s, yes), 25);
    assert_int_equal(s_shown(s, known), 50);
    analyst_sdc_destroy(&s);
}

/* A suppressed total whose parts are all shown: all = cohort + other with
 * other = 5 suppresses the cohort's size (55) as the smallest shown part; then
 * cohort = yes + no with both shown would give it back, so the smaller part
 * (yes, 20) goes as well. */
static void
test_total_suppressed(void **state)
{
    struct analyst_sdc *s = s_new();
    int all = analyst_sdc_cell(s, 60, 1), coh = analyst_sdc_cell(s, 55, 1);
    int other = analyst_sdc_cell(s, 5, 1);
    int yes = analyst_sdc_cell(s, 20, 1), no = analyst_sdc_cell(s, 35, 1);
    int p1[2], p2[2];

    (void)state;
    p1[0] = coh;
    p1[1] = other;
    p2[0] = yes;
    p2[1] = no;
    assert_int_equal(analyst_sdc_relation(s, all, p1, 2), 0);
    assert_int_equal(analyst_sdc_relation(s, coh, p2, 2), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    s_suppressed(s, other, ANALYST_SDC_THRESHOLD);
    s_suppressed(s, coh, ANALYST_SDC_SECONDARY);
    s_suppressed(s, yes, ANALYST_SDC_SECONDARY);
    assert_int_equal(s_shown(s, no), 35);
    assert_int_equal(s_shown(s, all), 60);
    analyst_sdc_destroy(&s);
}

/* Secondary suppression carried across tables: cohort + comparison = all, and
 * the cohort's yes + no = cohort. A suppressed cohort size makes the comparison
 * size go too; the cohort's parts then hold two unknowns and need nothing more. */
static void
test_across_tables(void **state)
{
    struct analyst_sdc *s = s_new();
    int coh = analyst_sdc_cell(s, 8, 1), cmp = analyst_sdc_cell(s, 90, 1);
    int all = analyst_sdc_cell(s, 98, 1);
    int yes = analyst_sdc_cell(s, 5, 1), no = analyst_sdc_cell(s, 3, 0);
    int p1[2], p2[2];

    (void)state;
    p1[0] = coh;
    p1[1] = cmp;
    p2[0] = yes;
    p2[1] = no;
    assert_int_equal(analyst_sdc_relation(s, all, p1, 2), 0);
    assert_int_equal(analyst_sdc_relation(s, coh, p2, 2), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    s_suppressed(s, coh, ANALYST_SDC_THRESHOLD);
    s_suppressed(s, cmp, ANALYST_SDC_SECONDARY);
    s_suppressed(s, yes, ANALYST_SDC_THRESHOLD);
    assert_int_equal(s_shown(s, all), 100);
    analyst_sdc_destroy(&s);
}

/* A hidden cell revealed by one relation is known in the next: a + h = 30
 * reveals h (18) when a is shown, and then h + x = t would reveal the
 * suppressed x, so the smallest shown cell of a relation that revealed it goes. */
static void
test_chain(void **state)
{
    struct analyst_sdc *s = s_new();
    int a = analyst_sdc_cell(s, 12, 1), h = analyst_sdc_cell(s, 18, 0);
    int t1 = analyst_sdc_cell(s, 30, 1), x = analyst_sdc_cell(s, 4, 1);
    int t2 = analyst_sdc_cell(s, 22, 1);
    int p1[2], p2[2];

    (void)state;
    p1[0] = a;
    p1[1] = h;
    p2[0] = h;
    p2[1] = x;
    assert_int_equal(analyst_sdc_relation(s, t1, p1, 2), 0);
    assert_int_equal(analyst_sdc_relation(s, t2, p2, 2), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    s_suppressed(s, x, ANALYST_SDC_THRESHOLD);
    /* t2 - h would give x: t2 is the only shown cell of that relation */
    s_suppressed(s, t2, ANALYST_SDC_SECONDARY);
    assert_int_equal(s_shown(s, a), 10);
    assert_int_equal(s_shown(s, t1), 30);
    analyst_sdc_destroy(&s);
}

/* A structural zero (fixed by the extract's design) is not suppressed and does
 * not make its neighbours go: group = 1 + 2 + 3 datasets with "3 datasets" a
 * structural zero and the others large leaves everything shown. An ordinary
 * zero in its place is suppressed and takes the smallest part with it. */
static void
test_structural_zero(void **state)
{
    struct analyst_sdc *s = s_new();
    int tot = analyst_sdc_cell(s, 300, 1), one = analyst_sdc_cell(s, 250, 1);
    int two = analyst_sdc_cell(s, 50, 1), three = analyst_sdc_zero(s, 1);
    int tot2 = analyst_sdc_cell(s, 300, 1), one2 = analyst_sdc_cell(s, 250, 1);
    int two2 = analyst_sdc_cell(s, 50, 1), three2 = analyst_sdc_cell(s, 0, 1);
    int p1[3], p2[3];
    struct analyst_rate r;
    char buf[80];
    long v = -1;

    (void)state;
    assert_int_equal(analyst_sdc_state(s, three), ANALYST_SDC_STRUCTURAL); /* before apply */
    p1[0] = one;
    p1[1] = two;
    p1[2] = three;
    p2[0] = one2;
    p2[1] = two2;
    p2[2] = three2;
    assert_int_equal(analyst_sdc_relation(s, tot, p1, 3), 0);
    assert_int_equal(analyst_sdc_relation(s, tot2, p2, 3), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    assert_int_equal(analyst_sdc_state(s, three), ANALYST_SDC_STRUCTURAL);
    assert_int_equal(analyst_sdc_shown(s, three, &v), 0);
    assert_int_equal(v, 0);
    assert_string_equal(analyst_sdc_reason(s, analyst_sdc_state(s, three), buf, sizeof buf),
                        "0 (none by design)");
    assert_int_equal(s_shown(s, two), 50);
    assert_int_equal(s_shown(s, one), 250);
    assert_int_equal(s_shown(s, tot), 300);
    s_suppressed(s, three2, ANALYST_SDC_THRESHOLD);
    s_suppressed(s, two2, ANALYST_SDC_SECONDARY);
    assert_int_equal(s_shown(s, one2), 250);
    /* no rate over a structural zero */
    analyst_sdc_rate(s, three, three, &r);
    assert_int_equal(r.shown, 0);
    analyst_sdc_destroy(&s);
}

/* A structural zero is never the cell suppressed to protect another: with
 * t = a + z + x, x = 4 and z structural, the shown a goes, not z. */
static void
test_structural_not_victim(void **state)
{
    struct analyst_sdc *s = s_new();
    int t = analyst_sdc_cell(s, 40, 1), a = analyst_sdc_cell(s, 36, 1);
    int z = analyst_sdc_zero(s, 1), x = analyst_sdc_cell(s, 4, 1);
    int parts[3];

    (void)state;
    parts[0] = a;
    parts[1] = z;
    parts[2] = x;
    assert_int_equal(analyst_sdc_relation(s, t, parts, 3), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    s_suppressed(s, x, ANALYST_SDC_THRESHOLD);
    s_suppressed(s, a, ANALYST_SDC_SECONDARY);
    assert_int_equal(analyst_sdc_state(s, z), ANALYST_SDC_STRUCTURAL);
    assert_int_equal(s_shown(s, t), 40);
    analyst_sdc_destroy(&s);
}

/* A part as large as its total: every child known to a dataset (57) has the
 * outcome, so yes = known with none without, a protected zero. The part goes
 * with the zero, not the total: a reader knows only yes <= known, and with
 * yes and none unknown, known = yes + none gives neither back. The known
 * count, added first, and the group stay shown; the rate is withheld. */
static void
test_zero_complement_part(void **state)
{
    struct analyst_sdc *s = s_new();
    int group = analyst_sdc_cell(s, 200, 1), known = analyst_sdc_cell(s, 57, 1);
    int rest = analyst_sdc_cell(s, 143, 0), yes = analyst_sdc_cell(s, 57, 1);
    int none = analyst_sdc_cell(s, 0, 0);
    int p1[2], p2[2];
    struct analyst_rate r;

    (void)state;
    p1[0] = known;
    p1[1] = rest;
    p2[0] = yes;
    p2[1] = none;
    assert_int_equal(analyst_sdc_relation(s, group, p1, 2), 0);
    assert_int_equal(analyst_sdc_relation(s, known, p2, 2), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    s_suppressed(s, yes, ANALYST_SDC_SECONDARY);
    assert_int_equal(s_shown(s, known), 55);
    assert_int_equal(s_shown(s, group), 200);
    analyst_sdc_rate(s, yes, known, &r);
    assert_int_equal(r.shown, 0);
    analyst_sdc_destroy(&s);
}

/* An open cell is revealed without harm: known = valued + none-without-a-value
 * with every child known having a value leaves both shown. */
static void
test_open_zero(void **state)
{
    struct analyst_sdc *s = s_new();
    int known = analyst_sdc_cell(s, 57, 1), valued = analyst_sdc_cell(s, 57, 1);
    int open = analyst_sdc_open(s, 0), p[2];

    (void)state;
    p[0] = valued;
    p[1] = open;
    assert_int_equal(analyst_sdc_relation(s, known, p, 2), 0);
    assert_int_equal(analyst_sdc_apply(s), 0);
    assert_int_equal(s_shown(s, known), 55);
    assert_int_equal(s_shown(s, valued), 55);
    assert_int_equal(analyst_sdc_state(s, open), ANALYST_SDC_HIDDEN);
    analyst_sdc_destroy(&s);
}

/* Two cells found to count the same children are tied (a relation with one
 * part): when one goes, so does the other. Here b is all of a, and a = b +
 * zero is protected; without the tie a would go and b stay printed. */
static void
test_tied_cells(void **state)
{
    struct analyst_sdc *s = s_new();
    int a = analyst_sdc_cell(s, 120, 1), b = analyst_sdc_cell(s, 120, 1);
    int z = analyst_sdc_cell(s, 0, 0), c = analyst_sdc_cell(s, 300, 1);
    int d = analyst_sdc_cell(s, 300, 1), tie[1], p[2];

    (void)state;
    tie[0] = b;
    p[0] = b;
    p[1] = z;
    assert_int_equal(analyst_sdc_relation(s, a, tie, 1), 0);
    assert_int_equal(analyst_sdc_relation(s, a, p, 2), 0);
    tie[0] = d;
    assert_int_equal(analyst_sdc_relation(s, c, tie, 1), 0); /* a tie alone suppresses nothing */
    assert_int_equal(analyst_sdc_apply(s), 0);
    s_suppressed(s, a, ANALYST_SDC_SECONDARY);
    s_suppressed(s, b, ANALYST_SDC_SECONDARY);
    assert_int_equal(s_shown(s, c), 300);
    assert_int_equal(s_shown(s, d), 300);
    analyst_sdc_destroy(&s);
}

/* ---- the summary's cells: tied only by definition ---------------------- */

/* An extract of 100 children, no cohort: 45 known to pol/yj (known below 45 is
 * raised to nyj), every one with offences above 0 and a first-offence date,
 * 15 of them reoffended; all known to nhs/gp. */
static void
s_extract(char *dir, int nyj)
{
    char path[512];
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "{\"project\": \"p\", \"run\": 1, \"sdc\": {\"min_count\": 10, "
               "\"round_to\": 5}, \"datasets\": [{\"agency\": \"pol\", \"dataset\": "
               "\"yj\"}, {\"agency\": \"nhs\", \"dataset\": \"gp\"}]}\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/dictionary.csv", dir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "file,column,type,role,source\n"
               "people.csv,records_yj,int,records,pol/yj\n"
               "people.csv,records_gp,int,records,nhs/gp\n"
               "people.csv,offences,int,outcome,pol/yj\n"
               "people.csv,reoffended,bool,outcome,pol/yj\n"
               "people.csv,first_offence,date,outcome,pol/yj\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/people.csv", dir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "records_yj,records_gp,offences,reoffended,first_offence\n");
    for (int i = 0; i < 100; i++) {
        if (i < nyj)
            fprintf(f, "1,1,%d,%d,2022-05-01\n", 1 + i % 3, i < 15);
        else
            fprintf(f, "0,1,,,\n");
    }
    fclose(f);
}

static void
s_rmdir(const char *dir)
{
    const char *files[] = {"manifest.json", "dictionary.csv", "people.csv"};
    char path[512];

    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
    remove(dir);
}

/* The entry of the row whose label starts with row in the table whose title
 * starts with title. */
static const struct analyst_entry *
s_entry(const struct analyst_summary *sum, const char *title, const char *row, size_t col)
{
    for (size_t t = 0; t < sum->ntables; t++) {
        const struct analyst_table *tb = &sum->tables[t];

        if (strncmp(tb->title, title, strlen(title)) != 0)
            continue;
        for (size_t r = 0; r < tb->nrows; r++)
            if (strncmp(tb->rows[r], row, strlen(row)) == 0)
                return &tb->e[r * tb->ncols + col];
    }
    fail_msg("no entry %s / %s", title, row);
    return NULL;
}

/* Every child known to pol/yj has an offence: the children with one and with
 * a first-offence date are suppressed, but the 45 known to the dataset, a
 * different definition, stay shown (and with them the reoffending rate).
 * Where the definition is the same, the cell is the same: the overlap
 * diagonal and the date outcome's denominator. */
static void
test_summary_equal_not_tied(void **state)
{
    char dir[] = "/tmp/xl-sdc-XXXXXX", err[256];
    struct analyst_summary *sum = NULL;
    const struct analyst_entry *known, *off, *re, *fo, *diag;
    struct analyst_rate r;

    (void)state;
    s_extract(dir, 45);
    assert_int_equal(analyst_summary_load(dir, &sum, err, sizeof err), 0);
    known = s_entry(sum, "Children known to each dataset", "pol/yj", 0);
    off = s_entry(sum, "Outcome rates", "offences", 0);
    re = s_entry(sum, "Outcome rates", "reoffended", 0);
    fo = s_entry(sum, "Outcome rates", "first_offence", 0);
    diag = s_entry(sum, "Children in both of two datasets", "pol/yj", 0);
    assert_int_equal(analyst_sdc_state(sum->sdc, known->count), ANALYST_SDC_SHOWN);
    assert_int_equal(s_shown(sum->sdc, known->count), 45);
    assert_int_not_equal(off->count, known->count);
    assert_int_not_equal(off->den, known->count); /* the children with a value */
    s_suppressed(sum->sdc, off->count, ANALYST_SDC_SECONDARY);
    s_suppressed(sum->sdc, fo->count, ANALYST_SDC_SECONDARY);
    assert_int_equal(fo->den, known->count); /* known to the dataset, by definition */
    assert_int_equal(diag->count, known->count);
    analyst_sdc_rate(sum->sdc, re->count, re->den, &r);
    assert_int_equal(r.shown, 1);
    analyst_summary_destroy(&sum);
    s_rmdir(dir);
}

/* A count suppressed under one definition is printed nowhere under it: 8
 * children known to pol/yj are suppressed in the datasets table, on the
 * overlap diagonal and as the first-offence denominator alike. */
static void
test_summary_same_definition(void **state)
{
    char dir[] = "/tmp/xl-sdc-XXXXXX", err[256];
    struct analyst_summary *sum = NULL;
    const struct analyst_entry *known, *fo, *diag;
    char buf[128];

    (void)state;
    s_extract(dir, 8);
    assert_int_equal(analyst_summary_load(dir, &sum, err, sizeof err), 0);
    known = s_entry(sum, "Children known to each dataset", "pol/yj", 0);
    fo = s_entry(sum, "Outcome rates", "first_offence", 0);
    diag = s_entry(sum, "Children in both of two datasets", "pol/yj", 0);
    s_suppressed(sum->sdc, known->count, ANALYST_SDC_THRESHOLD);
    assert_int_equal(fo->den, known->count);
    assert_int_equal(diag->count, known->count);
    assert_string_equal(analyst_entry_text(sum, diag, buf, sizeof buf),
                        "suppressed: fewer than 10");
    analyst_summary_destroy(&sum);
    s_rmdir(dir);
}

static void
test_bad_input(void **state)
{
    struct analyst_sdc_rules bad = {-1, 5}, bad2 = {10, 0};
    struct analyst_sdc *s = s_new();
    int a = analyst_sdc_cell(s, 3, 1), b = analyst_sdc_cell(s, 4, 1);
    int t = analyst_sdc_cell(s, 8, 1), parts[2];

    (void)state;
    assert_null(analyst_sdc_new(&bad));
    assert_null(analyst_sdc_new(&bad2));
    assert_int_equal(analyst_sdc_cell(s, -1, 1), XL_ERR_INVALID);
    parts[0] = a;
    parts[1] = b;
    assert_int_equal(analyst_sdc_relation(s, t, parts, 2), XL_ERR_INVALID); /* 3 + 4 != 8 */
    parts[1] = 99;
    assert_int_equal(analyst_sdc_relation(s, t, parts, 2), XL_ERR_INVALID);
    assert_int_equal(analyst_sdc_relation(s, t, parts, 0), XL_ERR_INVALID);
    analyst_sdc_destroy(&s);
    analyst_sdc_destroy(&s);
    analyst_sdc_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_threshold_and_rounding),
        cmocka_unit_test(test_zero_rule),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_wilson),
        cmocka_unit_test(test_secondary),
        cmocka_unit_test(test_complement),
        cmocka_unit_test(test_complement_large),
        cmocka_unit_test(test_total_suppressed),
        cmocka_unit_test(test_across_tables),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_structural_zero),
        cmocka_unit_test(test_structural_not_victim),
        cmocka_unit_test(test_zero_complement_part),
        cmocka_unit_test(test_open_zero),
        cmocka_unit_test(test_tied_cells),
        cmocka_unit_test(test_summary_equal_not_tied),
        cmocka_unit_test(test_summary_same_definition),
        cmocka_unit_test(test_bad_input),
    };

    return cmocka_run_group_tests_name("analyst_sdc", tests, NULL, NULL);
}
