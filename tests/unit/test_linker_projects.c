/* Unit tests for linker/projects.c: the example file loads; each refusal rule
 * (no projects, unknown project, key not listed, expired, dataset not
 * approved) refuses with its own rule name and a message naming it; a bad file
 * is refused naming the line; the reload's diff names what changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../linker/projects.h"
#include "testutil.h"
#include "xl/err.h"

#define KEY_A "0123456789abcdef"
#define KEY_B "fedcba9876543210"

static const char s_two[] = "[eval]\n"
                            "purpose = Evaluate\n  the programme\n"
                            "legal_basis = Art 6(1)(e)\n"
                            "analysts = " KEY_A "\n"
                            "datasets = csc/programme wmp/youth-justice icb/*\n"
                            "cohort = csc/programme\n"
                            "index_date = support_start\n"
                            "expires = 2027-03-31\n"
                            "min_evidence = keys\n"
                            "sdc_min_count = 20\n"
                            "[old]\n"
                            "purpose = Old\n"
                            "legal_basis = x\n"
                            "analysts = " KEY_A ", " KEY_B "\n"
                            "datasets = wmp/youth-justice\n"
                            "expires = 2025-12-31\n";

static int
s_load_text(const char *text, struct linker_projects **out, char *err, size_t errlen)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "projects");
    int r;

    assert_int_equal(tu_write_file(path, text), 0);
    r = linker_projects_load(path, out, err, errlen);
    tu_rmtree(dir);
    free(path);
    free(dir);
    return r;
}

static void
test_example_and_values(void **state)
{
    struct linker_projects *ps = NULL;
    char err[XL_ERRBUF] = "";

    if (linker_projects_load("deploy/examples/projects", &ps, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(ps->n, 1);
    assert_string_equal(ps->p[0].cohort.dataset, "programme");
    linker_projects_free(&ps);

    if (s_load_text(s_two, &ps, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(ps->n, 2);
    assert_string_equal(ps->p[0].purpose, "Evaluate the programme");
    assert_int_equal(ps->p[0].min_evidence, LINKER_BAND_KEYS);
    assert_int_equal(ps->p[0].sdc_min_count, 20);
    assert_int_equal(ps->p[0].sdc_round_to, 5);
    assert_int_equal(ps->p[1].nanalysts, 2);
    assert_int_equal(ps->p[1].min_evidence, LINKER_BAND_PROBABLE);
    assert_true(linker_project_has_dataset(&ps->p[0], "icb", "anything"));
    assert_true(linker_project_has_dataset(&ps->p[0], "wmp", "youth-justice"));
    assert_false(linker_project_has_dataset(&ps->p[0], "wmp", "custody"));
    assert_false(linker_project_has_dataset(&ps->p[0], "lea", "education"));
    linker_projects_free(&ps);
}

static void
test_refusals(void **state)
{
    struct linker_projects *ps = NULL, *none = NULL;
    const struct linker_project *p = NULL;
    struct linker_project_refusal why;
    char err[XL_ERRBUF] = "", *ok[] = {"wmp/youth-justice", "icb/ae"}, *bad[] = {"lea/education"};
    char *dir = tu_tmpdir(), *missing = tu_path(dir, "projects");

    assert_int_equal(linker_projects_load(missing, &none, err, sizeof err), 0);
    assert_int_equal(none->present, 0);
    assert_int_equal(linker_project_authorise(none, "eval", KEY_A, "2026-12-01", NULL, 0, &p, &why),
                     XL_ERR_NOTFOUND);
    assert_string_equal(why.rule, "no_projects");
    linker_projects_free(&none);
    tu_rmtree(dir);
    free(missing);
    free(dir);

    assert_int_equal(s_load_text(s_two, &ps, err, sizeof err), 0);
    assert_int_equal(linker_project_authorise(ps, "eval", KEY_A, "2026-12-01", ok, 2, &p, &why), 0);
    assert_string_equal(p->id, "eval");
    /* the last day is allowed, the next is not */
    assert_int_equal(linker_project_authorise(ps, "eval", KEY_A, "2027-03-31", NULL, 0, &p, &why),
                     0);
    assert_int_equal(linker_project_authorise(ps, "eval", KEY_A, "2027-04-01", NULL, 0, &p, &why),
                     XL_ERR_DENIED);
    assert_string_equal(why.rule, "expired");
    assert_non_null(strstr(why.msg, "2027-03-31"));
    assert_int_equal(linker_project_authorise(ps, "Eval", KEY_A, "2026-12-01", NULL, 0, &p, &why),
                     XL_ERR_NOTFOUND);
    assert_string_equal(why.rule, "unknown_project");
    assert_int_equal(linker_project_authorise(ps, "eval", KEY_B, "2026-12-01", NULL, 0, &p, &why),
                     XL_ERR_DENIED);
    assert_string_equal(why.rule, "key_not_listed");
    assert_non_null(strstr(why.msg, KEY_B));
    assert_int_equal(linker_project_authorise(ps, "old", KEY_B, "2025-12-31", NULL, 0, &p, &why),
                     0);
    assert_int_equal(linker_project_authorise(ps, "eval", KEY_A, "2026-12-01", bad, 1, &p, &why),
                     XL_ERR_DENIED);
    assert_string_equal(why.rule, "dataset_not_approved");
    assert_non_null(strstr(why.msg, "lea/education"));
    linker_projects_free(&ps);
}

static void
test_bad_files(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = " KEY_A "\ndatasets = a/b\n",
         "needs expires"},
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = 0123\ndatasets = a/b\nexpires = "
         "2027-01-01\n",
         "not a key id"},
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = " KEY_A
         "\ndatasets = ab\nexpires = 2027-01-01\n",
         "not agency/dataset"},
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = " KEY_A
         "\ndatasets = a/b\nexpires = 2027-02-30\n",
         "expires must be a date"},
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = " KEY_A
         "\ndatasets = a/b\nexpires = 2027-01-01\ncohort = a/c\n",
         "is not one of its datasets"},
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = " KEY_A
         "\ndatasets = a/b\nexpires = 2027-01-01\nindex_date = d\n",
         "names no cohort"},
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = " KEY_A
         "\ndatasets = a/b\nexpires = 2027-01-01\nmin_evidence = fuzzy\n",
         "min_evidence is"},
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = " KEY_A
         "\ndatasets = a/b\nexpires = 2027-01-01\nsecret = 1\n",
         "unknown key 'secret'"},
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = " KEY_A
         "\ndatasets = a/b\nexpires = 2027-01-01\n[q]\nexpires = 2027-01-01\n[p]\npurpose = z\n",
         "[q] needs purpose"},
        {"[p]\npurpose = x\nlegal_basis = y\nanalysts = " KEY_A
         "\ndatasets = a/b\nexpires = 2027-01-01\n[q]\npurpose = x\nlegal_basis = y\nanalysts "
         "= " KEY_A "\ndatasets = a/b\nexpires = 2027-01-01\n[p]\npurpose = z\n",
         "[p] is defined twice"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct linker_projects *ps = NULL;
        char err[XL_ERRBUF] = "";
        assert_int_equal(s_load_text(cases[i].text, &ps, err, sizeof err), XL_ERR_FORMAT);
        assert_null(ps);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
}

static void
test_diff(void **state)
{
    struct linker_projects *a = NULL, *b = NULL;
    char err[XL_ERRBUF] = "", *text;
    cJSON *d;

    assert_int_equal(s_load_text(s_two, &a, err, sizeof err), 0);
    text = strdup(s_two);
    assert_non_null(text);
    /* change "old"'s expiry and drop nothing; then compare */
    memcpy(strstr(text, "2025-12-31"), "2025-12-30", 10);
    assert_int_equal(s_load_text(text, &b, err, sizeof err), 0);
    d = linker_projects_diff(a, b);
    assert_non_null(d);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "changed")), 1);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "changed"), 0)->valuestring,
                        "old");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "added")), 0);
    cJSON_Delete(d);
    d = linker_projects_diff(NULL, b);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "added")), 2);
    cJSON_Delete(d);
    d = linker_projects_diff(b, NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "removed")), 2);
    cJSON_Delete(d);
    free(text);
    linker_projects_free(&a);
    linker_projects_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_and_values),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
