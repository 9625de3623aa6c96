/* Unit tests for linker/auditquery.c: the event, agency and project filters of
 * an auditor's query, and pages of entries read back from a real log (the
 * bounds on entries and bytes, a page cut at an entry's end, next_seq, entries
 * past the log's end, a filter over a page) and a line changed in the file
 * under the log refused. The end-to-end test (tests/e2e/test_audit_fetch.sh)
 * asks over the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../linker/auditquery.h"
#include "testutil.h"
#include "xl/crypto.h"
#include "xl/err.h"

static int
s_group_setup(void **state)
{
    return xl_crypto_init() == 0 ? 0 : -1;
}

/* ---- filters -------------------------------------------------------------------------- */

static void
test_event_class(void **state)
{
    assert_true(linker_audit_event_matches(NULL, "extract"));
    assert_true(linker_audit_event_matches("", "extract"));
    assert_true(linker_audit_event_matches("extract", "extract"));
    assert_true(linker_audit_event_matches("extract", "extract.delivered"));
    assert_true(linker_audit_event_matches("extract.delivered", "extract.delivered"));
    assert_true(linker_audit_event_matches("submission", "submission.commit"));
    assert_false(linker_audit_event_matches("extract", "extracts"));
    assert_false(linker_audit_event_matches("extract.delivered", "extract"));
    assert_false(linker_audit_event_matches("extract.d", "extract.delivered"));
    assert_false(linker_audit_event_matches("submission.commit", "submission.commits"));
    assert_false(linker_audit_event_matches("link", "linker.start"));
    assert_false(linker_audit_event_matches("extract", NULL));
}

/* Keys of the test keyring: 00..01 of agency wmp, 00..02 of icb. */
static int
s_agency_of(void *ctx, const char *key_id, char agency[XL_NAME_MAX])
{
    int *calls = ctx;

    (*calls)++;
    if (strcmp(key_id, "0000000000000001") == 0)
        snprintf(agency, XL_NAME_MAX, "wmp");
    else if (strcmp(key_id, "0000000000000002") == 0)
        snprintf(agency, XL_NAME_MAX, "icb");
    else
        return -1;
    return 0;
}

static int
s_matches(const char *json, const char *event, const char *agency, const char *project)
{
    int calls = 0;
    struct linker_audit_filter f = {event, agency, project, s_agency_of, &calls};
    cJSON *o = cJSON_Parse(json);
    int m;

    assert_non_null(o);
    m = linker_audit_entry_matches(o, &f);
    cJSON_Delete(o);
    return m;
}

static void
test_entry_filters(void **state)
{
    static const char commit[] =
        "{\"seq\":5,\"actor\":\"0000000000000002\",\"role\":\"agent\",\"event\":"
        "\"submission.commit\",\"details\":{\"agency\":\"icb\",\"dataset\":\"health\"}}";
    static const char extract[] =
        "{\"seq\":9,\"actor\":\"0000000000000009\",\"role\":\"analyst\",\"event\":\"extract\","
        "\"details\":{\"project\":\"pd\",\"datasets\":[{\"agency\":\"csc\",\"dataset\":\"x\"},"
        "{\"agency\":\"lea\",\"dataset\":\"y\"}]}}";
    static const char refused[] =
        "{\"seq\":12,\"actor\":\"0000000000000001\",\"role\":\"agent\",\"event\":"
        "\"request.refused\",\"details\":{\"key_id\":\"0000000000000001\",\"request\":"
        "\"audit_query\"}}";
    static const char start[] = "{\"seq\":1,\"actor\":\"linker\",\"role\":\"linker\",\"event\":"
                                "\"linker.start\",\"details\":{\"pid\":42}}";

    /* no filter */
    assert_true(s_matches(start, NULL, NULL, NULL));
    assert_true(s_matches(start, "", "", ""));
    /* event */
    assert_true(s_matches(commit, "submission", NULL, NULL));
    assert_false(s_matches(commit, "extract", NULL, NULL));
    /* agency: in the details, in a dataset of the details, or the actor's */
    assert_true(s_matches(commit, NULL, "icb", NULL));
    assert_false(s_matches(commit, NULL, "wmp", NULL));
    assert_true(s_matches(extract, NULL, "lea", NULL));
    assert_true(s_matches(extract, NULL, "csc", NULL));
    assert_false(s_matches(extract, NULL, "icb", NULL));
    assert_true(s_matches(refused, NULL, "wmp", NULL));
    assert_false(s_matches(refused, NULL, "icb", NULL));
    assert_false(s_matches(start, NULL, "wmp", NULL));
    /* project */
    assert_true(s_matches(extract, NULL, NULL, "pd"));
    assert_false(s_matches(extract, NULL, NULL, "gp"));
    assert_false(s_matches(commit, NULL, NULL, "pd"));
    /* all together: each must pass */
    assert_true(s_matches(extract, "extract", "lea", "pd"));
    assert_false(s_matches(extract, "extract", "wmp", "pd"));
    assert_false(s_matches(extract, "submission", "lea", "pd"));
}

static void
test_entry_filters_without_keyring(void **state)
{
    struct linker_audit_filter f = {NULL, "wmp", NULL, NULL, NULL};
    cJSON *o = cJSON_Parse("{\"actor\":\"0000000000000001\",\"event\":\"x\",\"details\":{}}");

    assert_non_null(o);
    assert_false(linker_audit_entry_matches(o, &f));
    cJSON_Delete(o);
}

/* ---- pages of a real log ----------------------------------------------------------------- */

#define S_ENTRIES 30

struct s_fixture {
    char *dir, *path;
    struct linker_audit *a;
    char *text;                /* the log file */
    char *line[S_ENTRIES + 1]; /* line[seq], NUL-terminated copies */
};

/* Entry seq: a commit of wmp or icb, an extract of project pd, or a start. */
static void
s_append(struct linker_audit *a, int seq)
{
    cJSON *d = cJSON_CreateObject();
    const char *event = "linker.start";
    char err[XL_ERRBUF] = "";

    if (seq % 3 == 1) {
        event = "submission.commit";
        cJSON_AddStringToObject(d, "agency", seq % 2 ? "wmp" : "icb");
    } else if (seq % 3 == 2) {
        event = "extract";
        cJSON_AddStringToObject(d, "project", "pd");
    }
    cJSON_AddNumberToObject(d, "n", seq);
    if (linker_audit_append(a, 1795000000 + seq, "0123456789abcdef", "agent", event, d, NULL, err,
                            sizeof err) != 0)
        fail_msg("%s", err);
}

static int
s_setup(void **state)
{
    struct s_fixture *f = calloc(1, sizeof *f);
    char err[XL_ERRBUF] = "", *p;

    if (f == NULL || (f->dir = tu_tmpdir()) == NULL ||
        (f->path = tu_path(f->dir, "audit.jsonl")) == NULL)
        return -1;
    /* No signing key: pages need none. */
    if (linker_audit_open(f->path, NULL, NULL, &f->a, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    for (int i = 1; i <= S_ENTRIES; i++)
        s_append(f->a, i);
    if ((f->text = tu_read_file(f->path)) == NULL)
        return -1;
    p = f->text;
    for (int i = 1; i <= S_ENTRIES; i++) {
        char *nl = strchr(p, '\n');
        if (nl == NULL || (f->line[i] = strndup(p, (size_t)(nl - p))) == NULL)
            return -1;
        p = nl + 1;
    }
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    struct s_fixture *f = *state;

    linker_audit_close(&f->a);
    for (int i = 1; i <= S_ENTRIES; i++)
        free(f->line[i]);
    free(f->text);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static void
s_read(struct s_fixture *f, uint64_t from, uint64_t to, uint32_t max, size_t max_bytes,
       const struct linker_audit_filter *flt, struct linker_audit_page *p)
{
    char err[XL_ERRBUF] = "";

    if (linker_audit_page_read(f->a, from, to, max, max_bytes, flt, p, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(p->size, S_ENTRIES);
}

/* p holds entries first, first + 1, ... of the log, n of them. */
static void
s_holds(const struct s_fixture *f, const struct linker_audit_page *p, int first, size_t n)
{
    assert_int_equal(p->n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(p->entries[i], f->line[first + (int)i]);
}

static void
test_page_whole_log(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit_page p;

    assert_int_equal(linker_audit_size(f->a), S_ENTRIES);
    s_read(f, 0, 0, 0, LINKER_AUDITQ_BYTES, NULL, &p);
    s_holds(f, &p, 1, S_ENTRIES);
    assert_int_equal(p.next_seq, S_ENTRIES + 1);
    linker_audit_page_free(&p);
}

static void
test_page_by_page(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit_page p;
    uint64_t from = 1;
    int pages = 0;

    while (from <= S_ENTRIES) {
        s_read(f, from, 0, 7, LINKER_AUDITQ_BYTES, NULL, &p);
        s_holds(f, &p, (int)from, from + 7 <= S_ENTRIES + 1 ? 7 : S_ENTRIES + 1 - from);
        assert_int_equal(p.next_seq, from + p.n);
        from = p.next_seq;
        linker_audit_page_free(&p);
        pages++;
    }
    assert_int_equal(pages, 5);
}

static void
test_page_bytes(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit_page p;
    size_t three = strlen(f->line[4]) + strlen(f->line[5]) + strlen(f->line[6]) + 3;

    /* Cut at the end of the last whole entry within the bytes. */
    s_read(f, 4, 0, 0, three + strlen(f->line[7]), NULL, &p);
    s_holds(f, &p, 4, 3);
    assert_int_equal(p.next_seq, 7);
    linker_audit_page_free(&p);
    s_read(f, 4, 0, 0, three, NULL, &p);
    s_holds(f, &p, 4, 3);
    linker_audit_page_free(&p);
    /* One whole entry, however few the bytes. */
    s_read(f, 4, 0, 0, 10, NULL, &p);
    s_holds(f, &p, 4, 1);
    assert_int_equal(p.next_seq, 5);
    linker_audit_page_free(&p);
}

static void
test_page_range(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit_page p;
    char err[XL_ERRBUF] = "";

    s_read(f, 5, 9, 0, LINKER_AUDITQ_BYTES, NULL, &p);
    s_holds(f, &p, 5, 5);
    assert_int_equal(p.next_seq, 10);
    linker_audit_page_free(&p);
    /* to past the end: to the end */
    s_read(f, 28, 1000, 0, LINKER_AUDITQ_BYTES, NULL, &p);
    s_holds(f, &p, 28, 3);
    assert_int_equal(p.next_seq, S_ENTRIES + 1);
    linker_audit_page_free(&p);
    /* from past the end: an empty page that stays there */
    s_read(f, S_ENTRIES + 1, 0, 0, LINKER_AUDITQ_BYTES, NULL, &p);
    s_holds(f, &p, 0, 0);
    assert_int_equal(p.next_seq, S_ENTRIES + 1);
    linker_audit_page_free(&p);
    s_read(f, 500, 0, 0, LINKER_AUDITQ_BYTES, NULL, &p);
    s_holds(f, &p, 0, 0);
    assert_int_equal(p.next_seq, 500);
    linker_audit_page_free(&p);
    /* to before from */
    assert_int_equal(
        linker_audit_page_read(f->a, 9, 5, 0, LINKER_AUDITQ_BYTES, NULL, &p, err, sizeof err),
        XL_ERR_FORMAT);
    assert_non_null(strstr(err, "to_seq 5 is before from_seq 9"));
    assert_null(p.entries);
}

static void
test_page_filtered(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit_filter extract = {"extract", NULL, NULL, NULL, NULL};
    struct linker_audit_filter wmp = {"submission", "wmp", NULL, NULL, NULL};
    struct linker_audit_page p;

    /* entries 2, 5, 8, ... are extracts */
    s_read(f, 0, 0, 0, LINKER_AUDITQ_BYTES, &extract, &p);
    assert_int_equal(p.n, S_ENTRIES / 3);
    for (size_t i = 0; i < p.n; i++)
        assert_string_equal(p.entries[i], f->line[2 + 3 * (int)i]);
    assert_int_equal(p.next_seq, S_ENTRIES + 1);
    linker_audit_page_free(&p);
    /* at most 2: the page ends before the third match */
    s_read(f, 1, 0, 2, LINKER_AUDITQ_BYTES, &extract, &p);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.entries[1], f->line[5]);
    assert_int_equal(p.next_seq, 8);
    linker_audit_page_free(&p);
    /* a page of bytes holding no match: empty, and not the last */
    s_read(f, 3, 0, 0, strlen(f->line[3]) + strlen(f->line[4]) + 2, &extract, &p);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.next_seq, 5);
    linker_audit_page_free(&p);
    /* commits of wmp: entries 1, 7, 13, 19, 25 */
    s_read(f, 0, 0, 0, LINKER_AUDITQ_BYTES, &wmp, &p);
    assert_int_equal(p.n, 5);
    assert_string_equal(p.entries[0], f->line[1]);
    assert_string_equal(p.entries[4], f->line[25]);
    linker_audit_page_free(&p);
}

/* A line changed in the file under the running log is not served. */
static void
test_page_changed_file(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit_page p;
    char err[XL_ERRBUF] = "", *was = strdup(f->line[3]), *now = strdup(f->line[3]), *n;

    assert_non_null(was);
    assert_non_null(now);
    n = strstr(now, "\"n\":3");
    assert_non_null(n);
    n[4] = '4';
    assert_int_equal(tu_file_replace(f->path, was, now), 0);
    /* entries before it are still served */
    s_read(f, 1, 2, 0, LINKER_AUDITQ_BYTES, NULL, &p);
    s_holds(f, &p, 1, 2);
    linker_audit_page_free(&p);
    assert_int_equal(
        linker_audit_page_read(f->a, 1, 0, 0, LINKER_AUDITQ_BYTES, NULL, &p, err, sizeof err),
        XL_ERR_CRYPTO);
    assert_non_null(strstr(err, "entry 3 is not the entry the linker wrote there"));
    assert_null(p.entries);
    free(was);
    free(now);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_class),
        cmocka_unit_test(test_entry_filters),
        cmocka_unit_test(test_entry_filters_without_keyring),
        cmocka_unit_test_setup_teardown(test_page_whole_log, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_page_by_page, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_page_bytes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_page_range, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_page_filtered, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_page_changed_file, s_setup, s_teardown),
    };

    return cmocka_run_group_tests_name("linker_auditquery", tests, s_group_setup, NULL);
}
