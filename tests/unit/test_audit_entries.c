/* Unit tests for audit/entries.c: dates and times as --since, --until and
 * --month take them, event classes, each filter and their combination, the
 * agencies of agent keys as the log shows them, and reading a real log file
 * (chained as the linker writes it) that verifies, is empty, is missing, or
 * was altered, where nothing may be handed on before the error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../audit/entries.h"
#include "testutil.h"
#include "xl/auditlog.h"
#include "xl/crypto.h"
#include "xl/err.h"

/* 2026-11-22T00:00:00Z: 20779 days after 1970-01-01. */
#define S_NOV22 ((time_t)20779 * 86400)

static int
s_group_setup(void **state)
{
    return xl_crypto_init() == 0 ? 0 : -1;
}

/* ---- times ---------------------------------------------------------------------------- */

static void
test_parse_dates(void **state)
{
    time_t t;

    assert_int_equal(audit_parse_time("2026-11-22", 0, &t), 0);
    assert_int_equal((long long)t, (long long)S_NOV22);
    /* --until takes the whole of its day */
    assert_int_equal(audit_parse_time("2026-11-22", 1, &t), 0);
    assert_int_equal((long long)t, (long long)S_NOV22 + 86399);
    assert_int_equal(audit_parse_time("1970-01-01", 0, &t), 0);
    assert_int_equal((long long)t, 0);
    assert_int_equal(audit_parse_time("2024-02-29", 0, &t), 0); /* leap year */
    assert_int_equal(audit_parse_time("2000-02-29", 0, &t), 0); /* divisible by 400 */
    assert_int_equal(audit_parse_time("2026-12-31", 0, &t), 0);

    static const char *const bad[] = {
        "",           "2026",        "2026-11",    "2026-11-2",   "2026-1-22",   "26-11-22",
        "2026/11/22", "2026-11-22x", "2026-13-01", "2026-00-10",  "2026-11-00",  "2026-11-31",
        "2025-02-29", "1900-02-29",  "1969-12-31", "2026-11-22T", " 2026-11-22", "２026-11-22",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 123;
        if (audit_parse_time(bad[i], 0, &t) != XL_ERR_INVALID)
            fail_msg("'%s' was taken as a date", bad[i]);
        assert_int_equal((long long)t, -1);
    }
}

static void
test_parse_times(void **state)
{
    time_t t;

    assert_int_equal(audit_parse_time("2026-11-22T10:00:00Z", 0, &t), 0);
    assert_int_equal((long long)t, (long long)S_NOV22 + 36000);
    /* a full time is that second, whatever end_of_day says */
    assert_int_equal(audit_parse_time("2026-11-22T10:00:00Z", 1, &t), 0);
    assert_int_equal((long long)t, (long long)S_NOV22 + 36000);
    assert_int_equal(audit_parse_time("2026-11-22T10:00:00", 0, &t), 0);
    assert_int_equal((long long)t, (long long)S_NOV22 + 36000);
    assert_int_equal(audit_parse_time("2026-11-22 23:59:59", 0, &t), 0);
    assert_int_equal((long long)t, (long long)S_NOV22 + 86399);

    static const char *const bad[] = {
        "2026-11-22T24:00:00Z",  "2026-11-22T10:60:00Z",   "2026-11-22T10:00:60Z",
        "2026-11-22T10:00Z",     "2026-11-22T10:00:00+01", "2026-11-22T10:00:00z",
        "2026-11-22T10:00:00ZZ", "2026-11-22X10:00:00Z",   "2026-11-22T1:00:00Z",
        "2026-11-22T10-00-00Z",  "2026-11-31T10:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (audit_parse_time(bad[i], 0, &t) != XL_ERR_INVALID)
            fail_msg("'%s' was taken as a time", bad[i]);
    }
}

static void
test_parse_month(void **state)
{
    time_t a, b;

    assert_int_equal(audit_parse_month("2026-11", &a, &b), 0);
    assert_int_equal((long long)a, (long long)S_NOV22 - 21 * 86400);
    assert_int_equal((long long)b, (long long)S_NOV22 + 8 * 86400 + 86399);
    assert_int_equal(audit_parse_month("2026-02", &a, &b), 0);
    assert_int_equal((long long)(b - a + 1), 28 * 86400);
    assert_int_equal(audit_parse_month("2024-02", &a, &b), 0);
    assert_int_equal((long long)(b - a + 1), 29 * 86400);
    assert_int_equal(audit_parse_month("2026-12", &a, &b), 0);
    assert_int_equal((long long)(b - a + 1), 31 * 86400);

    static const char *const bad[] = {"",       "2026",       "2026-13", "2026-00",
                                      "2026-1", "2026-11-01", "2026/11", "1969-12"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (audit_parse_month(bad[i], &a, &b) != XL_ERR_INVALID)
            fail_msg("'%s' was taken as a month", bad[i]);
        assert_int_equal((long long)a, -1);
        assert_int_equal((long long)b, -1);
    }
}

/* ---- event classes -------------------------------------------------------------------- */

static void
test_event_classes(void **state)
{
    assert_true(audit_event_in_class("extract", "extract"));
    assert_true(audit_event_in_class("extract.delivered", "extract"));
    assert_true(audit_event_in_class("extract.refused", "extract"));
    assert_false(audit_event_in_class("extractx", "extract"));
    assert_false(audit_event_in_class("extract", "extract.delivered"));
    assert_true(audit_event_in_class("extract.delivered", "extract.delivered"));
    assert_false(audit_event_in_class("extract.delivered", "extract.del"));
    assert_false(audit_event_in_class("link.run", "extract"));
    assert_false(audit_event_in_class("submission.commit", "sub"));
    assert_true(audit_event_in_class("a.b.c", "a.b"));
    assert_false(audit_event_in_class("extract", ""));

    assert_true(audit_event_class_valid("extract"));
    assert_true(audit_event_class_valid("submission.commit"));
    assert_true(audit_event_class_valid("pseudonym_key.created"));
    static const char *const bad[] = {"",     ".",       "extract.",        ".extract",
                                      "a..b", "Extract", "extract refused", "extract*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (audit_event_class_valid(bad[i]))
            fail_msg("'%s' was taken as an event class", bad[i]);
    }
}

/* ---- entries and filters -------------------------------------------------------------- */

/* An entry from its members (details as JSON text); the caller frees *obj. */
static struct audit_entry
s_entry(const char *time, const char *actor, const char *role, const char *event,
        const char *details, cJSON **obj)
{
    struct audit_entry e;
    char line[1024];

    snprintf(line, sizeof line,
             "{\"seq\":7,\"time\":\"%s\",\"actor\":\"%s\",\"role\":\"%s\",\"event\":\"%s\","
             "\"details\":%s}",
             time, actor, role, event, details);
    assert_int_equal(audit_entry_parse(strdup(line), strlen(line), &e, obj), 0);
    return e;
}

static void
s_free(struct audit_entry *e, cJSON *obj)
{
    free((char *)e->line);
    cJSON_Delete(obj);
}

static void
test_entry_parse(void **state)
{
    struct audit_entry e;
    cJSON *obj;
    uint64_t v;

    e = s_entry("2026-11-22T10:00:00Z", "abc", "agent", "submission.commit",
                "{\"agency\":\"wmp\",\"records\":239,\"ratio\":0.5,\"neg\":-1,\"big\":1e300}",
                &obj);
    assert_int_equal(e.seq, 7);
    assert_string_equal(e.actor, "abc");
    assert_string_equal(e.role, "agent");
    assert_string_equal(e.event, "submission.commit");
    assert_int_equal((long long)e.time, (long long)S_NOV22 + 36000);
    assert_string_equal(audit_detail_str(&e, "agency"), "wmp");
    assert_null(audit_detail_str(&e, "records"));
    assert_null(audit_detail_str(&e, "missing"));
    assert_int_equal(audit_detail_u64(&e, "records", &v), 1);
    assert_int_equal(v, 239);
    assert_int_equal(audit_detail_u64(&e, "ratio", &v), 0);
    assert_int_equal(audit_detail_u64(&e, "neg", &v), 0);
    assert_int_equal(audit_detail_u64(&e, "big", &v), 0);
    assert_int_equal(audit_detail_u64(&e, "agency", &v), 0);
    s_free(&e, obj);

    /* missing members read as "", a bad time as -1, details not an object as none */
    e = s_entry("22/11/2026", "abc", "agent", "x", "[1,2]", &obj);
    assert_int_equal((long long)e.time, -1);
    assert_null(e.details);
    assert_null(audit_detail_str(&e, "agency"));
    s_free(&e, obj);
    /* a date alone is not an entry's time */
    e = s_entry("2026-11-22", "abc", "agent", "x", "{}", &obj);
    assert_int_equal((long long)e.time, -1);
    s_free(&e, obj);

    assert_int_equal(audit_entry_parse("{\"seq\":1}", 9, &e, &obj), 0);
    assert_string_equal(e.event, "");
    assert_string_equal(e.actor, "");
    cJSON_Delete(obj);
    assert_int_equal(audit_entry_parse("[1]", 3, &e, &obj), XL_ERR_FORMAT);
    assert_null(obj);
    assert_int_equal(audit_entry_parse("{\"seq\":", 7, &e, &obj), XL_ERR_FORMAT);
    assert_null(obj);
}

static void
test_time_filters(void **state)
{
    struct audit_filter f;
    struct audit_entry e;
    cJSON *obj;

    e = s_entry("2026-11-22T10:00:00Z", "linker", "linker", "linker.start", "{}", &obj);
    memset(&f, 0, sizeof f);
    assert_true(audit_entry_matches(&e, &f, NULL));
    assert_true(audit_entry_matches(&e, NULL, NULL));

    f.has_since = 1;
    assert_int_equal(audit_parse_time("2026-11-22", 0, &f.since), 0);
    assert_true(audit_entry_matches(&e, &f, NULL));
    assert_int_equal(audit_parse_time("2026-11-22T10:00:00Z", 0, &f.since), 0);
    assert_true(audit_entry_matches(&e, &f, NULL)); /* both ends included */
    assert_int_equal(audit_parse_time("2026-11-22T10:00:01Z", 0, &f.since), 0);
    assert_false(audit_entry_matches(&e, &f, NULL));
    assert_int_equal(audit_parse_time("2026-11-23", 0, &f.since), 0);
    assert_false(audit_entry_matches(&e, &f, NULL));

    memset(&f, 0, sizeof f);
    f.has_until = 1;
    assert_int_equal(audit_parse_time("2026-11-22", 1, &f.until), 0);
    assert_true(audit_entry_matches(&e, &f, NULL));
    assert_int_equal(audit_parse_time("2026-11-22T10:00:00Z", 1, &f.until), 0);
    assert_true(audit_entry_matches(&e, &f, NULL));
    assert_int_equal(audit_parse_time("2026-11-22T09:59:59Z", 1, &f.until), 0);
    assert_false(audit_entry_matches(&e, &f, NULL));
    assert_int_equal(audit_parse_time("2026-11-21", 1, &f.until), 0);
    assert_false(audit_entry_matches(&e, &f, NULL));
    s_free(&e, obj);

    /* an entry without a valid time is outside any range, and in the listing without one */
    e = s_entry("yesterday", "linker", "linker", "linker.start", "{}", &obj);
    assert_false(audit_entry_matches(&e, &f, NULL));
    memset(&f, 0, sizeof f);
    assert_true(audit_entry_matches(&e, &f, NULL));
    s_free(&e, obj);
}

static void
test_event_and_project_filters(void **state)
{
    struct audit_filter f;
    struct audit_entry ex, del, xx, run;
    cJSON *o1, *o2, *o3, *o4;

    ex = s_entry("2026-11-22T10:00:00Z", "k1", "analyst", "extract",
                 "{\"project\":\"pd\",\"rows\":10}", &o1);
    del = s_entry("2026-11-22T10:00:01Z", "k1", "analyst", "extract.delivered",
                  "{\"project\":\"gp\",\"rows\":10}", &o2);
    xx = s_entry("2026-11-22T10:00:02Z", "k1", "analyst", "extractx", "{\"project\":\"pd\"}", &o3);
    run = s_entry("2026-11-22T10:00:03Z", "linker", "operator", "link.run",
                  "{\"run\":1,\"projects\":[\"pd\"]}", &o4);

    memset(&f, 0, sizeof f);
    f.events[f.nevents++] = "extract";
    assert_true(audit_entry_matches(&ex, &f, NULL));
    assert_true(audit_entry_matches(&del, &f, NULL));
    assert_false(audit_entry_matches(&xx, &f, NULL));
    assert_false(audit_entry_matches(&run, &f, NULL));
    /* a second --event widens the choice */
    f.events[f.nevents++] = "link";
    assert_true(audit_entry_matches(&run, &f, NULL));
    assert_false(audit_entry_matches(&xx, &f, NULL));

    memset(&f, 0, sizeof f);
    f.project = "pd";
    assert_true(audit_entry_matches(&ex, &f, NULL));
    assert_false(audit_entry_matches(&del, &f, NULL));
    assert_true(audit_entry_matches(&xx, &f, NULL));
    assert_false(audit_entry_matches(&run, &f, NULL)); /* only details.project counts */
    f.project = "p";
    assert_false(audit_entry_matches(&ex, &f, NULL));

    /* conditions together: every one must hold */
    memset(&f, 0, sizeof f);
    f.project = "pd";
    f.events[f.nevents++] = "extract";
    assert_true(audit_entry_matches(&ex, &f, NULL));
    assert_false(audit_entry_matches(&xx, &f, NULL));
    assert_false(audit_entry_matches(&del, &f, NULL));
    f.has_since = 1;
    f.since = S_NOV22 + 36001;
    assert_false(audit_entry_matches(&ex, &f, NULL));

    s_free(&ex, o1);
    s_free(&del, o2);
    s_free(&xx, o3);
    s_free(&run, o4);
}

static void
test_agency_filter(void **state)
{
    struct audit_keys *keys = audit_keys_new();
    struct audit_filter f;
    struct audit_entry begin, commit, wrongrole, other, refused, conn, purge, imp, reload;
    cJSON *o[9];

    assert_non_null(keys);
    /* wmp's key k1 submits; k2 only asks for another agency's dataset and is refused */
    begin = s_entry("2026-11-22T10:00:00Z", "k1", "agent", "submission.begin",
                    "{\"agency\":\"wmp\",\"dataset\":\"yj\",\"key_id\":\"k1\"}", &o[0]);
    commit = s_entry("2026-11-22T10:00:01Z", "k1", "agent", "submission.commit",
                     "{\"agency\":\"wmp\",\"dataset\":\"yj\",\"key_id\":\"k1\"}", &o[1]);
    wrongrole = s_entry("2026-11-22T10:00:01Z", "k5", "admin", "submission.commit",
                        "{\"agency\":\"icb\",\"key_id\":\"k5\"}", &o[2]);
    other = s_entry("2026-11-22T10:00:02Z", "k3", "agent", "submission.commit",
                    "{\"agency\":\"lea\",\"key_id\":\"k1\"}", &o[3]);
    refused = s_entry("2026-11-22T10:00:03Z", "k2", "agent", "submission.refused",
                      "{\"agency\":\"icb\",\"key_id\":\"k2\",\"code\":\"DENIED\"}", &o[4]);
    conn = s_entry("2026-11-22T10:00:04Z", "k1", "agent", "connection.refused",
                   "{\"key_id\":\"k1\",\"reason\":\"revoked\"}", &o[5]);
    purge = s_entry("2026-11-22T10:00:05Z", "linker", "linker", "submission.purged",
                    "{\"agency\":\"wmp\",\"dataset\":\"yj\",\"records\":5}", &o[6]);
    imp = s_entry("2026-11-22T10:00:06Z", "linker", "operator", "submission.commit",
                  "{\"agency\":\"csc\",\"key_id\":\"k9\",\"source\":\"import\"}", &o[7]);

    /* the keyring binds agent keys to agencies: a reload names them */
    reload =
        s_entry("2026-11-22T10:00:07Z", "linker", "linker", "keyring.reload",
                "{\"result\":\"ok\",\"keys_added\":[{\"key_id\":\"k7\",\"name\":\"n7\","
                "\"role\":\"agent\",\"agency\":\"csc\"},{\"key_id\":\"k8\",\"name\":\"alice\","
                "\"role\":\"analyst\"},{\"key_id\":\"k10\",\"role\":\"admin\",\"agency\":\"icb\"}],"
                "\"keys_revoked\":[{\"key_id\":\"k6\",\"role\":\"agent\",\"agency\":\"lea\"}],"
                "\"keys_removed\":[{\"key_id\":\"k11\",\"role\":\"agent\"}]}",
                &o[8]);

    struct audit_entry *all[] = {&begin, &commit, &wrongrole, &other, &refused,
                                 &conn,  &purge,  &imp,       &reload};
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(audit_keys_learn(keys, all[i]), 0);
    assert_true(audit_keys_has(keys, "k1", "wmp"));
    assert_false(audit_keys_has(keys, "k1", "icb"));
    assert_false(audit_keys_has(keys, "k2", "icb")); /* a refusal teaches nothing */
    assert_false(audit_keys_has(keys, "k5", "icb")); /* nor another role */
    assert_false(audit_keys_has(keys, "k3", "lea")); /* nor details of another key */
    assert_false(audit_keys_has(keys, "k1", "lea"));
    assert_false(audit_keys_has(keys, "linker", "csc")); /* nor an import by the operator */
    assert_false(audit_keys_has(NULL, "k1", "wmp"));
    assert_true(audit_keys_has(keys, "k7", "csc"));   /* added */
    assert_true(audit_keys_has(keys, "k6", "lea"));   /* revoked */
    assert_false(audit_keys_has(keys, "k10", "icb")); /* not an agent's key */
    assert_false(audit_keys_has(keys, "k11", ""));    /* no agency named */

    memset(&f, 0, sizeof f);
    f.agency = "wmp";
    assert_true(audit_entry_matches(&begin, &f, keys));
    assert_true(audit_entry_matches(&commit, &f, keys));
    assert_true(audit_entry_matches(&conn, &f, keys));  /* by its key: no agency in details */
    assert_false(audit_entry_matches(&conn, &f, NULL)); /* not without what the log showed */
    assert_true(audit_entry_matches(&purge, &f, keys)); /* by details.agency */
    assert_false(audit_entry_matches(&refused, &f, keys));
    assert_false(audit_entry_matches(&other, &f, keys));
    assert_false(audit_entry_matches(&imp, &f, keys));
    f.agency = "icb";
    assert_true(audit_entry_matches(&refused, &f, keys)); /* the agency it asked for */
    assert_false(audit_entry_matches(&conn, &f, keys));
    f.agency = "wm";
    assert_false(audit_entry_matches(&commit, &f, keys));
    /* the reload itself is the linker's: it names keys, not an agency of its own */
    f.agency = "csc";
    assert_false(audit_entry_matches(&reload, &f, keys));
    /* an extract that drew on an agency's dataset is about that agency */
    {
        cJSON *ox;
        struct audit_entry ex =
            s_entry("2026-11-22T10:00:08Z", "k8", "analyst", "extract",
                    "{\"project\":\"gp\",\"datasets\":[{\"agency\":\"icb\",\"dataset\":\"health\","
                    "\"rows\":9},{\"agency\":\"wmp\",\"dataset\":\"yj\",\"rows\":3}]}",
                    &ox);
        f.agency = "wmp";
        assert_true(audit_entry_matches(&ex, &f, keys));
        f.agency = "icb";
        assert_true(audit_entry_matches(&ex, &f, keys));
        f.agency = "lea";
        assert_false(audit_entry_matches(&ex, &f, keys));
        s_free(&ex, ox);
    }

    for (size_t i = 0; i < 9; i++)
        s_free(all[i], o[i]);
    audit_keys_destroy(&keys);
    assert_null(keys);
    audit_keys_destroy(&keys);
    audit_keys_destroy(NULL);
}

/* ---- reading a log file --------------------------------------------------------------- */

/* Writes a chained log of the given entries (members without seq, prev and
 * hash: "\"time\":...,\"details\":{...}") to path. */
static void
s_write_log(const char *path, const char *const *members, size_t n)
{
    uint8_t prev[XL_HASH_BYTES] = {0}, hash[XL_HASH_BYTES];
    char canon[2048], hex[2 * XL_HASH_BYTES + 1];
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        char *line;
        size_t len;

        xl_hex(prev, XL_HASH_BYTES, hex);
        snprintf(canon, sizeof canon, "{\"seq\":%zu,%s,\"prev\":\"%s\"}", i + 1, members[i], hex);
        assert_int_equal(xl_audit_line(prev, canon, strlen(canon), &line, &len, hash), 0);
        assert_int_equal(fwrite(line, 1, len, f), len);
        free(line);
        memcpy(prev, hash, sizeof prev);
    }
    assert_int_equal(fclose(f), 0);
}

static const char *const s_members[] = {
    "\"time\":\"2026-11-21T09:00:00Z\",\"actor\":\"linker\",\"role\":\"linker\","
    "\"event\":\"linker.start\",\"details\":{\"epoch\":1}",
    /* k2 is refused before the log shows its agency: --agency still finds it */
    "\"time\":\"2026-11-21T09:30:00Z\",\"actor\":\"k2\",\"role\":\"agent\","
    "\"event\":\"request.refused\",\"details\":{\"key_id\":\"k2\",\"code\":\"DENIED\"}",
    "\"time\":\"2026-11-22T10:00:00Z\",\"actor\":\"k1\",\"role\":\"agent\","
    "\"event\":\"submission.commit\",\"details\":{\"agency\":\"wmp\",\"key_id\":\"k1\","
    "\"records\":10}",
    "\"time\":\"2026-11-22T11:00:00Z\",\"actor\":\"k2\",\"role\":\"agent\","
    "\"event\":\"submission.commit\",\"details\":{\"agency\":\"icb\",\"key_id\":\"k2\","
    "\"records\":20}",
    "\"time\":\"2026-11-23T08:00:00Z\",\"actor\":\"k9\",\"role\":\"analyst\","
    "\"event\":\"extract\",\"details\":{\"project\":\"pd\",\"rows\":30}",
    "\"time\":\"2026-11-23T08:00:05Z\",\"actor\":\"k9\",\"role\":\"analyst\","
    "\"event\":\"extract.delivered\",\"details\":{\"project\":\"pd\",\"rows\":30}",
    "\"time\":\"2026-11-24T12:00:00Z\",\"actor\":\"linker\",\"role\":\"linker\","
    "\"event\":\"audit.something_new\",\"details\":{\"n\":1}",
};
#define S_NMEMBERS (sizeof s_members / sizeof s_members[0])

struct s_seen {
    uint64_t seqs[16];
    size_t n;
    int stop_at; /* return an error at this seq */
};

static int
s_collect(void *ctx, const struct audit_entry *e, char *err, size_t errlen)
{
    struct s_seen *s = ctx;

    if (s->n < 16)
        s->seqs[s->n++] = e->seq;
    if ((int)e->seq == s->stop_at) {
        snprintf(err, errlen, "stopped");
        return XL_ERR_INTERNAL;
    }
    return 0;
}

/* The seqs handed on under f, as "1 2 3". */
static void
s_run(const char *path, const struct audit_filter *f, char *out, size_t outlen)
{
    struct s_seen s = {.n = 0};
    struct audit_log_info info;
    char err[XL_ERRBUF] = "", *p = out;

    assert_int_equal(audit_log_each(path, f, s_collect, &s, &info, err, sizeof err), 0);
    assert_int_equal(info.entries, S_NMEMBERS);
    assert_int_equal(info.matched, s.n);
    *p = '\0';
    for (size_t i = 0; i < s.n; i++)
        p += snprintf(p, outlen - (size_t)(p - out), "%s%llu", i ? " " : "",
                      (unsigned long long)s.seqs[i]);
}

static void
test_log_each(void **state)
{
    char *dir = tu_tmpdir(), *path, got[128], err[XL_ERRBUF];
    struct audit_filter f;
    struct audit_log_info info;
    struct s_seen s = {.stop_at = 4};
    time_t t;

    assert_non_null(dir);
    path = tu_path(dir, "audit.jsonl");
    s_write_log(path, s_members, S_NMEMBERS);

    s_run(path, NULL, got, sizeof got);
    assert_string_equal(got, "1 2 3 4 5 6 7"); /* the unknown event too */
    memset(&f, 0, sizeof f);
    f.agency = "icb";
    s_run(path, &f, got, sizeof got);
    assert_string_equal(got, "2 4");
    f.agency = "wmp";
    s_run(path, &f, got, sizeof got);
    assert_string_equal(got, "3");
    memset(&f, 0, sizeof f);
    f.events[f.nevents++] = "extract";
    s_run(path, &f, got, sizeof got);
    assert_string_equal(got, "5 6");
    memset(&f, 0, sizeof f);
    f.has_since = f.has_until = 1;
    assert_int_equal(audit_parse_time("2026-11-22", 0, &f.since), 0);
    assert_int_equal(audit_parse_time("2026-11-23", 1, &f.until), 0);
    s_run(path, &f, got, sizeof got);
    assert_string_equal(got, "3 4 5 6");
    f.project = "pd";
    s_run(path, &f, got, sizeof got);
    assert_string_equal(got, "5 6");
    f.project = "nothing";
    s_run(path, &f, got, sizeof got);
    assert_string_equal(got, "");

    assert_int_equal(audit_log_each(path, NULL, NULL, NULL, &info, err, sizeof err), 0);
    assert_int_equal(info.entries, S_NMEMBERS);
    assert_int_equal(audit_parse_time("2026-11-21T09:00:00Z", 0, &t), 0);
    assert_int_equal((long long)info.first, (long long)t);
    assert_int_equal(audit_parse_time("2026-11-24T12:00:00Z", 0, &t), 0);
    assert_int_equal((long long)info.last, (long long)t);

    /* the callback's error stops the reading and comes back */
    assert_int_equal(audit_log_each(path, NULL, s_collect, &s, NULL, err, sizeof err),
                     XL_ERR_INTERNAL);
    assert_string_equal(err, "stopped");
    assert_int_equal(s.n, 4);

    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void
test_log_altered(void **state)
{
    char *dir = tu_tmpdir(), *path, err[XL_ERRBUF];
    struct s_seen s = {.n = 0};
    struct audit_log_info info;
    char *text;

    assert_non_null(dir);
    path = tu_path(dir, "audit.jsonl");

    /* entry 5 edited: nothing is handed on, not even entries 1 to 4 */
    s_write_log(path, s_members, S_NMEMBERS);
    assert_int_equal(tu_file_replace(path, "\"rows\":30}", "\"rows\":3}"), 0);
    assert_int_equal(audit_log_each(path, NULL, s_collect, &s, &info, err, sizeof err),
                     XL_ERR_FORMAT);
    assert_non_null(strstr(err, "entry 5 "));
    assert_non_null(strstr(err, path));
    assert_int_equal(s.n, 0);

    /* entry 3 removed */
    s_write_log(path, s_members, S_NMEMBERS);
    text = tu_read_file(path);
    assert_non_null(text);
    {
        char *l3 = strstr(text, "{\"seq\":3,"), *l4 = strstr(text, "{\"seq\":4,");

        assert_non_null(l3);
        assert_non_null(l4);
        memmove(l3, l4, strlen(l4) + 1);
    }
    assert_int_equal(tu_write_file(path, text), 0);
    free(text);
    assert_int_equal(audit_log_each(path, NULL, s_collect, &s, &info, err, sizeof err),
                     XL_ERR_FORMAT);
    assert_non_null(strstr(err, "entry 3 "));
    assert_int_equal(s.n, 0);

    /* the last line cut short */
    s_write_log(path, s_members, S_NMEMBERS);
    text = tu_read_file(path);
    assert_non_null(text);
    text[strlen(text) - 10] = '\0';
    assert_int_equal(tu_write_file(path, text), 0);
    free(text);
    assert_int_equal(audit_log_each(path, NULL, s_collect, &s, &info, err, sizeof err),
                     XL_ERR_FORMAT);
    assert_non_null(strstr(err, "entry 7 "));
    assert_int_equal(s.n, 0);

    /* empty: nothing to hand on, and no error */
    assert_int_equal(tu_write_file(path, ""), 0);
    assert_int_equal(audit_log_each(path, NULL, s_collect, &s, &info, err, sizeof err), 0);
    assert_int_equal(info.entries, 0);
    assert_int_equal(info.matched, 0);
    assert_int_equal((long long)info.first, -1);
    assert_int_equal(s.n, 0);

    /* missing */
    free(path);
    path = tu_path(dir, "none.jsonl");
    assert_int_equal(audit_log_each(path, NULL, s_collect, &s, &info, err, sizeof err),
                     XL_ERR_NOTFOUND);
    assert_non_null(strstr(err, "none.jsonl"));

    free(path);
    tu_rmtree(dir);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_dates),
        cmocka_unit_test(test_parse_times),
        cmocka_unit_test(test_parse_month),
        cmocka_unit_test(test_event_classes),
        cmocka_unit_test(test_entry_parse),
        cmocka_unit_test(test_time_filters),
        cmocka_unit_test(test_event_and_project_filters),
        cmocka_unit_test(test_agency_filter),
        cmocka_unit_test(test_log_each),
        cmocka_unit_test(test_log_altered),
    };

    return cmocka_run_group_tests_name("audit_entries", tests, s_group_setup, NULL);
}
