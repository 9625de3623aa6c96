#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "show.h"
#include "xl/cli.h"
#include "xl/err.h"
#include "xl/log.h"

/* ---- summaries ------------------------------------------------------------------------ */

static void s_clean(char *s);

struct s_out {
    char *p;
    size_t cap, len;
};

static void __attribute__((format(printf, 2, 3))) s_add(struct s_out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->len + 1 >= o->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap - 1;
}

/* A string member, or "?" when the entry lacks it. */
static const char *
s_str(const struct audit_entry *e, const char *name)
{
    const char *s = audit_detail_str(e, name);

    return s != NULL ? s : "?";
}

/* A count member as text into buf, or "?". */
static const char *
s_num(const struct audit_entry *e, const char *name, char buf[24])
{
    uint64_t v;

    if (!audit_detail_u64(e, name, &v))
        return "?";
    snprintf(buf, 24, "%llu", (unsigned long long)v);
    return buf;
}

static const char *
s_plural(const struct audit_entry *e, const char *name, const char *one, const char *many)
{
    uint64_t v;

    return audit_detail_u64(e, name, &v) && v == 1 ? one : many;
}

/* The strings of a list member, comma-separated, or "none". */
static void
s_list(struct s_out *o, const struct audit_entry *e, const char *name)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e->details, name), *it;
    int n = 0;

    cJSON_ArrayForEach(it, a)
    {
        if (cJSON_IsString(it))
            s_add(o, "%s%s", n++ ? ", " : "", it->valuestring);
    }
    if (n == 0)
        s_add(o, "none");
}

static size_t
s_count(const struct audit_entry *e, const char *name)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e->details, name);

    return cJSON_IsArray(a) ? (size_t)cJSON_GetArraySize(a) : 0;
}

/* "agency/dataset", when the entry names them. */
static void
s_dataset(struct s_out *o, const struct audit_entry *e)
{
    const char *a = audit_detail_str(e, "agency"), *d = audit_detail_str(e, "dataset");

    if (a != NULL && d != NULL)
        s_add(o, "%s/%s", a, d);
    else if (a != NULL)
        s_add(o, "agency %s", a);
}

/* Every refusal alike: what was refused, by which rule or code, and why. */
static void
s_refusal(struct s_out *o, const struct audit_entry *e)
{
    static const char *const parts[][2] = {
        {"request", "request "}, {"project", "project "}, {"rule", "rule "}, {"stage", "at "},
        {"code", "code "},       {"mechanism", "via "},   {"peer", "from "},
    };
    char n[24];
    size_t start = o->len;
    uint64_t v;

    s_dataset(o, e);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *s = audit_detail_str(e, parts[i][0]);

        if (s != NULL && *s != '\0')
            s_add(o, "%s%s%s", o->len > start ? ", " : "", parts[i][1], s);
    }
    if (audit_detail_str(e, "reason") != NULL)
        s_add(o, "%s%s", o->len > start ? ": " : "", s_str(e, "reason"));
    /* The linker logs a few refusals a minute per peer and counts the rest. */
    if (audit_detail_u64(e, "repeats_not_logged", &v))
        s_add(o, " (and %s more like it not logged)", s_num(e, "repeats_not_logged", n));
    if (audit_detail_u64(e, "others_not_logged", &v))
        s_add(o, " (and %s other refusals not logged)", s_num(e, "others_not_logged", n));
}

/* Each member of details as it is, for an event this version does not know. */
static void
s_generic(struct s_out *o, const struct audit_entry *e)
{
    const cJSON *m;
    int n = 0;

    cJSON_ArrayForEach(m, e->details)
    {
        s_add(o, "%s%s=", n++ ? ", " : "", m->string != NULL ? m->string : "?");
        if (cJSON_IsString(m))
            s_add(o, "%s", m->valuestring);
        else if (cJSON_IsNumber(m) && m->valuedouble == (double)(long long)m->valuedouble)
            s_add(o, "%lld", (long long)m->valuedouble);
        else if (cJSON_IsNumber(m))
            s_add(o, "%g", m->valuedouble);
        else if (cJSON_IsBool(m))
            s_add(o, "%s", cJSON_IsTrue(m) ? "true" : "false");
        else if (cJSON_IsArray(m))
            s_add(o, "[%d items]", cJSON_GetArraySize(m));
        else if (cJSON_IsObject(m))
            s_add(o, "{%d members}", cJSON_GetArraySize(m));
        else
            s_add(o, "null");
    }
    if (n == 0)
        s_add(o, "no details");
}

/* The keys a keyring reload added, revoked and removed: who gained or lost
 * access, by key id, name, role and agency. */
static void
s_key_changes(struct s_out *o, const struct audit_entry *e)
{
    static const char *const lists[][2] = {
        {"keys_added", "added"}, {"keys_revoked", "revoked"}, {"keys_removed", "removed"}};
    size_t start = o->len;

    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(e->details, lists[i][0]), *it;
        int n = 0;

        cJSON_ArrayForEach(it, a)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "key_id"),
                        *name = cJSON_GetObjectItemCaseSensitive(it, "name"),
                        *role = cJSON_GetObjectItemCaseSensitive(it, "role"),
                        *agency = cJSON_GetObjectItemCaseSensitive(it, "agency");

            if (!cJSON_IsString(id))
                continue;
            if (n++ == 0)
                s_add(o, "%s%s ", o->len > start ? "; " : "", lists[i][1]);
            else
                s_add(o, ", ");
            s_add(o, "%s", id->valuestring);
            if (cJSON_IsString(name))
                s_add(o, " %s", name->valuestring);
            s_add(o, " (%s", cJSON_IsString(role) ? role->valuestring : "?");
            if (cJSON_IsString(agency))
                s_add(o, " of %s", agency->valuestring);
            s_add(o, ")");
        }
    }
}

void
audit_key_changes(const struct audit_entry *e, char *out, size_t outlen)
{
    struct s_out o = {.p = out, .cap = outlen};

    if (outlen == 0)
        return;
    out[0] = '\0';
    s_key_changes(&o, e);
    s_clean(out);
}

static int
s_is(const struct audit_entry *e, const char *event)
{
    return strcmp(e->event, event) == 0;
}

static void
s_summary(struct s_out *o, const struct audit_entry *e)
{
    /* one buffer per number printed by one call */
    char a[24], b[24], c[24], d[24], f[24], g[24], h[24], keys[512];
    const char *result = audit_detail_str(e, "result");
    int failed = result != NULL && strcmp(result, "failed") == 0;

    if (s_is(e, "submission.begin")) {
        s_dataset(o, e);
        s_add(o, ": %s records, submission %s begun", s_num(e, "records", a),
              s_str(e, "submission"));
        if (result != NULL)
            s_add(o, " (%s)", result);
    } else if (s_is(e, "submission.commit")) {
        s_dataset(o, e);
        s_add(o, ": %s records in %s %s stored, submission %s", s_num(e, "records", a),
              s_num(e, "chunks", b), s_plural(e, "chunks", "chunk", "chunks"),
              s_str(e, "submission"));
        if (s_count(e, "supersedes") > 0) {
            s_add(o, ", replacing ");
            s_list(o, e, "supersedes");
        }
        if (audit_detail_str(e, "source") != NULL && strcmp(s_str(e, "source"), "network") != 0)
            s_add(o, " (by %s)", s_str(e, "source"));
    } else if (s_is(e, "submission.superseded")) {
        s_dataset(o, e);
        s_add(o, ": submission %s replaced by %s", s_str(e, "submission"), s_str(e, "by"));
    } else if (s_is(e, "submission.discarded")) {
        s_dataset(o, e);
        s_add(o, ": submission %s discarded: %s", s_str(e, "submission"), s_str(e, "reason"));
    } else if (s_is(e, "submission.purged")) {
        s_dataset(o, e);
        s_add(o, ": submission %s, %s records purged: %s", s_str(e, "submission"),
              s_num(e, "records", a), s_str(e, "reason"));
    } else if (s_is(e, "import")) {
        s_dataset(o, e);
        s_add(o, ": %s records imported from file %s by %s (key %s)", s_num(e, "records", a),
              s_str(e, "file"), s_str(e, "user"), s_str(e, "key_id"));
    } else if (s_is(e, "link.run")) {
        s_add(o,
              "run %s: %s records from %s datasets, %s links, %s clusters, %s possible pairs, "
              "%s conflicts",
              s_num(e, "run", a), s_num(e, "records", b), s_num(e, "datasets", c),
              s_num(e, "links", d), s_num(e, "clusters", f), s_num(e, "possible_pairs", g),
              s_num(e, "conflicts", h));
    } else if (s_is(e, "extract")) {
        s_add(o, "project %s: run %s, %s rows from %zu %s, extract %s", s_str(e, "project"),
              s_num(e, "run", a), s_num(e, "rows", b), s_count(e, "datasets"),
              s_count(e, "datasets") == 1 ? "dataset" : "datasets", s_str(e, "extract_id"));
    } else if (s_is(e, "extract.delivered")) {
        s_add(o, "project %s: extract %s, %s rows delivered", s_str(e, "project"),
              s_str(e, "extract_id"), s_num(e, "rows", a));
    } else if (strstr(e->event, ".refused") != NULL &&
               strcmp(strstr(e->event, ".refused"), ".refused") == 0) {
        s_refusal(o, e);
    } else if (s_is(e, "keyring.reload") && failed) {
        s_add(o, "keyring reload failed: %s", s_str(e, "reason"));
    } else if (s_is(e, "keyring.reload")) {
        s_add(o,
              "keyring reloaded: %s keys (%s active, %s revoked); %s added, %s removed, "
              "%s newly revoked",
              s_num(e, "entries", a), s_num(e, "active", b), s_num(e, "revoked", c),
              s_num(e, "added", d), s_num(e, "removed", f), s_num(e, "newly_revoked", g));
        audit_key_changes(e, keys, sizeof keys);
        if (keys[0] != '\0') /* an older linker logged the counts only */
            s_add(o, ": %s", keys);
    } else if (s_is(e, "projects.reload") && failed) {
        s_add(o, "projects reload failed: %s", s_str(e, "reason"));
    } else if (s_is(e, "projects.reload")) {
        s_add(o, "projects reloaded: %s in force; added ", s_num(e, "projects", a));
        s_list(o, e, "added");
        s_add(o, "; removed ");
        s_list(o, e, "removed");
        s_add(o, "; changed ");
        s_list(o, e, "changed");
    } else if (s_is(e, "pseudonym_key.created")) {
        s_add(o, "the linker's pseudonym key created at %s", s_str(e, "path"));
    } else if (s_is(e, "linker.start")) {
        s_add(o, "started at %s, epoch %s, %s keys (%s active), %s projects, pid %s",
              s_str(e, "endpoint"), s_num(e, "epoch", a), s_num(e, "keyring_entries", b),
              s_num(e, "keyring_active", c), s_num(e, "projects", d), s_num(e, "pid", f));
    } else if (s_is(e, "linker.stop")) {
        s_add(o, "stopped");
        if (result != NULL && strcmp(result, "stopped") != 0)
            s_add(o, " (%s)", result);
        s_add(o, ": %s requests, %s refused, %s connections refused", s_num(e, "requests", a),
              s_num(e, "refused", b), s_num(e, "connections_refused", c));
    } else {
        s_generic(o, e);
    }
}

/* Log text on a terminal: a control byte could move the cursor or hide what
 * follows, so each becomes '?'. */
static void
s_clean(char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

void
audit_entry_summary(const struct audit_entry *e, char *out, size_t outlen)
{
    struct s_out o = {.p = out, .cap = outlen};

    if (outlen == 0)
        return;
    out[0] = '\0';
    s_summary(&o, e);
    s_clean(out);
}

void
audit_entry_who(const struct audit_entry *e, char *out, size_t outlen)
{
    if (strcmp(e->actor, e->role) == 0)
        snprintf(out, outlen, "%s", e->actor);
    else
        snprintf(out, outlen, "%s (%s)", e->actor, e->role);
    s_clean(out);
}

/* ---- the command ---------------------------------------------------------------------- */

struct s_show {
    int json;
};

static int
s_print(void *ctx, const struct audit_entry *e, char *err, size_t errlen)
{
    const struct s_show *s = ctx;
    char who[128], when[32], event[64], summary[1024];

    if (s->json) {
        fwrite(e->line, 1, e->len, stdout);
        putchar('\n');
    } else {
        /* "2026-11-22T10:00:00Z" reads as "2026-11-22 10:00:00" */
        snprintf(when, sizeof when, "%s", e->time_text);
        if (e->time >= 0) {
            when[10] = ' ';
            when[19] = '\0';
        }
        s_clean(when);
        audit_entry_who(e, who, sizeof who);
        audit_entry_summary(e, summary, sizeof summary);
        snprintf(event, sizeof event, "%s", e->event);
        s_clean(event);
        printf("%6llu  %s  %-22s  %-26s  %s\n", (unsigned long long)e->seq, when, event, who,
               summary);
    }
    if (ferror(stdout))
        return xl_err_set(err, errlen, XL_ERR_IO, "cannot write the listing: %s", strerror(errno));
    return 0;
}

/* Option c of the filter into f: 0, the usage error's exit status, or -1
 * when c is not a filter's option. */
static int
s_filter_opt(int c, const char *arg, struct audit_filter *f)
{
    switch (c) {
    case 's':
        if (audit_parse_time(arg, 0, &f->since) != 0)
            return xl_cli_usage_error("--since takes a date YYYY-MM-DD or a time "
                                      "YYYY-MM-DDTHH:MM:SSZ (UTC)");
        f->has_since = 1;
        return 0;
    case 'u':
        if (audit_parse_time(arg, 1, &f->until) != 0)
            return xl_cli_usage_error("--until takes a date YYYY-MM-DD or a time "
                                      "YYYY-MM-DDTHH:MM:SSZ (UTC)");
        f->has_until = 1;
        return 0;
    case 'a':
        if (*arg == '\0')
            return xl_cli_usage_error("--agency takes an agency's name");
        f->agency = arg;
        return 0;
    case 'p':
        if (*arg == '\0')
            return xl_cli_usage_error("--project takes a project's id");
        f->project = arg;
        return 0;
    case 'e':
        if (!audit_event_class_valid(arg))
            return xl_cli_usage_error("--event takes an event or class, such as extract or "
                                      "submission.commit");
        if (f->nevents == AUDIT_FILTER_EVENTS)
            return xl_cli_usage_error("too many --event options");
        f->events[f->nevents++] = arg;
        return 0;
    default: return -1;
    }
}

int
audit_cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},   {"until", required_argument, NULL, 'u'},
        {"agency", required_argument, NULL, 'a'},  {"event", required_argument, NULL, 'e'},
        {"project", required_argument, NULL, 'p'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    struct audit_filter f;
    struct audit_log_info info;
    struct s_show s = {0};
    char err[XL_ERRBUF];
    int c, r;

    memset(&f, 0, sizeof f);
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h')
            return xl_cli_help();
        if (c == 'j') {
            s.json = 1;
            continue;
        }
        r = s_filter_opt(c, optarg, &f);
        if (r < 0)
            return xl_cli_option_error(c, argv);
        if (r > 0)
            return r;
    }
    if (argc - optind != 1)
        return xl_cli_usage_error("expected one audit log");
    if (f.has_since && f.has_until && f.since > f.until)
        return xl_cli_usage_error("--since is after --until");
    r = audit_log_each(argv[optind], &f, s_print, &s, &info, err, sizeof err);
    if (r == 0 && fflush(stdout) != 0)
        r = xl_err_set(err, sizeof err, XL_ERR_IO, "cannot write the listing: %s", strerror(errno));
    if (r != 0)
        return xl_cli_fail("%s", err);
    if (info.matched == 0)
        xl_info("no entry matches (the log holds %llu, all verified)",
                (unsigned long long)info.entries);
    return 0;
}
