#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "entries.h"
#include "report.h"
#include "show.h"
#include "xl/cli.h"
#include "xl/err.h"
#include "xl/html.h"

/* Rows listed in each table of single entries. Past that they are counted,
 * and the report says how `show` lists them all: a month of a busy coalition
 * stays readable, and a report of a long log stays in bounded memory. */
#define S_LIST_MAX 500
/* Longest text kept from one field of an entry (a reason, a purpose). */
#define S_TEXT 300
/* Longest agency, dataset, project or key id kept (names are at most 63). */
#define S_NAME 128
#define S_DASH "\xe2\x80\x93"

/* Chart geometry, in SVG user units (the viewBox scales to the page; 720
 * fits A4 between 15 mm margins), as in the analyst's report. */
#define S_W     720
#define S_FONT  12
#define S_LABEL 230 /* horizontal bars: the label column */
#define S_BAR   380 /* horizontal bars: the longest bar */

/* Okabe-Ito colours, told apart with the common colour-vision deficiencies;
 * agencies past the first seven share the last, grey, as "other agencies". */
static const char *const s_colours[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                        "#56b4e9", "#d55e00", "#f0c000", "#777777"};
#define S_NCOLOURS (sizeof s_colours / sizeof s_colours[0])

/* ---- what is collected ------------------------------------------------------------------ */

/* A table of single entries, as text cells. */
struct s_table {
    size_t ncols;
    char **cells; /* nrows * ncols; a NULL cell (out of memory) prints empty */
    size_t nrows, cap;
    uint64_t more; /* rows past S_LIST_MAX: counted, not kept */
};

/* One agency's dataset. */
struct s_ds {
    char agency[S_NAME], dataset[S_NAME];
    uint64_t subs, records, superseded, discarded, purged, purged_records;
    time_t first, last;
};

/* Records received from one agency on one day. */
struct s_day {
    long day;
    char agency[S_NAME];
    uint64_t records;
};

#define S_ANALYSTS 8

struct s_proj {
    char id[S_NAME], purpose[S_TEXT];
    char analysts[S_ANALYSTS][S_NAME];
    size_t nanalysts, more_analysts;
    uint64_t extracts, delivered, delivered_rows, refused;
};

/* The kinds of refusal, by event; the last takes any other "*.refused". */
enum { S_CONN, S_REQ, S_SUB, S_LINK, S_EXTRACT, S_OTHER_REFUSAL, S_NKINDS };
static const char *const s_kind_event[S_NKINDS] = {"connection.refused", "request.refused",
                                                   "submission.refused", "link.refused",
                                                   "extract.refused",    NULL};
static const char *const s_kind_words[S_NKINDS] = {"Connections refused", "Requests refused",
                                                   "Submissions refused", "Link runs refused",
                                                   "Extracts refused",    "Other refusals"};

/* Refusals of one kind for one reason, rule or code. */
struct s_reason {
    int kind;
    char label[S_TEXT];
    uint64_t entries, unlogged;
};

struct s_event {
    char event[S_NAME];
    uint64_t n;
};

struct s_report {
    int nomem;
    uint64_t entries;
    struct s_table subs, superseded, discarded, imports, purges, runs, extracts, refusals, keyrings,
        projects, pkeys, service, other;
    struct s_ds *ds;
    size_t nds, capds;
    struct s_day *days;
    size_t ndays, capdays;
    struct s_proj *proj;
    size_t nproj, capproj;
    struct s_reason *reasons;
    size_t nreasons, capreasons;
    struct s_event *events;
    size_t nevents, capevents;
    uint64_t kind_n[S_NKINDS], kind_unlogged[S_NKINDS];
    uint64_t commits, records, nsuperseded, ndiscarded, nimports, npurges, purged_records;
    uint64_t nruns, nextracts, ndelivered, delivered_unlisted, nrefusals, unlogged;
    uint64_t keyring_reloads, project_reloads, reloads_failed, starts, stops, unknown;
    uint64_t keys_added, keys_revoked, keys_removed;
};

/* Grows an array of *cap elements of size bytes to hold one more. */
static void *
s_grow(struct s_report *rp, void *p, size_t *cap, size_t n, size_t size)
{
    size_t ncap;
    void *np;

    if (n < *cap)
        return p;
    ncap = *cap ? 2 * *cap : 16;
    np = realloc(p, ncap * size);
    if (np == NULL) {
        rp->nomem = 1;
        return NULL;
    }
    *cap = ncap;
    return np;
}

/* s cut to S_TEXT bytes at a character boundary, with an ellipsis. */
static char *
s_dup(const char *s)
{
    size_t n = strlen(s);
    char *d;

    if (n < S_TEXT)
        return strdup(s);
    n = S_TEXT - 4;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    d = malloc(n + 4);
    if (d != NULL) {
        memcpy(d, s, n);
        memcpy(d + n, "\xe2\x80\xa6", 4);
    }
    return d;
}

static void
s_copy(char *dst, size_t size, const char *s)
{
    snprintf(dst, size, "%s", s != NULL ? s : "");
}

/* Adds a row of t->ncols cells (const char *, NULL for empty). Returns its
 * index, or -1 when it is past S_LIST_MAX (counted) or memory ran out. */
static long
s_row(struct s_report *rp, struct s_table *t, ...)
{
    va_list ap;
    char **row, **nc;

    if (t->nrows == S_LIST_MAX) {
        t->more++;
        return -1;
    }
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;

        nc = realloc(t->cells, cap * t->ncols * sizeof *nc);
        if (nc == NULL) {
            rp->nomem = 1;
            return -1;
        }
        t->cells = nc;
        t->cap = cap;
    }
    row = t->cells + t->nrows * t->ncols;
    va_start(ap, t);
    for (size_t j = 0; j < t->ncols; j++) {
        const char *s = va_arg(ap, const char *);

        row[j] = s_dup(s != NULL ? s : "");
        if (row[j] == NULL)
            rp->nomem = 1;
    }
    va_end(ap);
    return (long)t->nrows++;
}

static long
s_find(const struct s_table *t, size_t col, const char *value)
{
    for (size_t i = 0; i < t->nrows; i++) {
        const char *c = t->cells[i * t->ncols + col];

        if (c != NULL && strcmp(c, value) == 0)
            return (long)i;
    }
    return -1;
}

static void
s_set(struct s_report *rp, struct s_table *t, long row, size_t col, const char *s)
{
    char **cell = &t->cells[(size_t)row * t->ncols + col];

    free(*cell);
    *cell = s_dup(s);
    if (*cell == NULL)
        rp->nomem = 1;
}

static void
s_table_free(struct s_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
}

/* ---- fields of an entry as text --------------------------------------------------------- */

/* v with thousands separators. */
static const char *
s_n(uint64_t v, char buf[32])
{
    char tmp[32];
    size_t n, j = 0;

    n = (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = tmp[i];
    }
    buf[j] = '\0';
    return buf;
}

static uint64_t
s_u64(const struct audit_entry *e, const char *name)
{
    uint64_t v;

    return audit_detail_u64(e, name, &v) ? v : 0;
}

/* A count member with separators, or a dash when the entry lacks it. */
static const char *
s_cnt(const struct audit_entry *e, const char *name, char buf[32])
{
    uint64_t v;

    return audit_detail_u64(e, name, &v) ? s_n(v, buf) : S_DASH;
}

/* A string member, or a dash. */
static const char *
s_txt(const struct audit_entry *e, const char *name)
{
    const char *s = audit_detail_str(e, name);

    return s != NULL && *s != '\0' ? s : S_DASH;
}

/* "2026-11-22 10:00:00", or the time member as it is when it is not a time. */
static const char *
s_when(const struct audit_entry *e, char buf[32])
{
    snprintf(buf, 32, "%s", e->time_text);
    if (e->time >= 0) {
        buf[10] = ' ';
        buf[19] = '\0';
    }
    return buf;
}

static const char *
s_who(const struct audit_entry *e, char buf[S_NAME])
{
    audit_entry_who(e, buf, S_NAME);
    return buf;
}

/* The names in a list member, comma-separated, or a dash. */
static const char *
s_names(const struct audit_entry *e, const char *name, char *buf, size_t size)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e->details, name), *it;
    size_t len = 0;

    buf[0] = '\0';
    cJSON_ArrayForEach(it, a)
    {
        if (cJSON_IsString(it) && len + 3 < size)
            len +=
                (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "", it->valuestring);
    }
    if (len >= size)
        buf[size - 1] = '\0';
    return buf[0] != '\0' ? buf : S_DASH;
}

/* ---- collecting ------------------------------------------------------------------------- */

static struct s_ds *
s_ds_of(struct s_report *rp, const char *agency, const char *dataset)
{
    struct s_ds *d;

    for (size_t i = 0; i < rp->nds; i++)
        if (strcmp(rp->ds[i].agency, agency) == 0 && strcmp(rp->ds[i].dataset, dataset) == 0)
            return &rp->ds[i];
    d = s_grow(rp, rp->ds, &rp->capds, rp->nds, sizeof *rp->ds);
    if (d == NULL)
        return NULL;
    rp->ds = d;
    d = &rp->ds[rp->nds++];
    memset(d, 0, sizeof *d);
    s_copy(d->agency, sizeof d->agency, agency);
    s_copy(d->dataset, sizeof d->dataset, dataset);
    d->first = d->last = -1;
    return d;
}

static void
s_day_add(struct s_report *rp, time_t t, const char *agency, uint64_t records)
{
    long day = (long)(t / 86400);
    struct s_day *d;

    if (t < 0)
        return;
    for (size_t i = rp->ndays; i-- > 0;) {
        if (rp->days[i].day == day && strcmp(rp->days[i].agency, agency) == 0) {
            rp->days[i].records += records;
            return;
        }
    }
    d = s_grow(rp, rp->days, &rp->capdays, rp->ndays, sizeof *rp->days);
    if (d == NULL)
        return;
    rp->days = d;
    d = &rp->days[rp->ndays++];
    d->day = day;
    s_copy(d->agency, sizeof d->agency, agency);
    d->records = records;
}

static struct s_proj *
s_proj_of(struct s_report *rp, const char *id)
{
    struct s_proj *p;

    for (size_t i = 0; i < rp->nproj; i++)
        if (strcmp(rp->proj[i].id, id) == 0)
            return &rp->proj[i];
    p = s_grow(rp, rp->proj, &rp->capproj, rp->nproj, sizeof *rp->proj);
    if (p == NULL)
        return NULL;
    rp->proj = p;
    p = &rp->proj[rp->nproj++];
    memset(p, 0, sizeof *p);
    s_copy(p->id, sizeof p->id, id);
    return p;
}

static void
s_proj_analyst(struct s_proj *p, const char *key)
{
    for (size_t i = 0; i < p->nanalysts; i++)
        if (strcmp(p->analysts[i], key) == 0)
            return;
    if (p->nanalysts == S_ANALYSTS) {
        p->more_analysts++;
        return;
    }
    s_copy(p->analysts[p->nanalysts++], S_NAME, key);
}

static void
s_count_event(struct s_report *rp, const char *event)
{
    struct s_event *ev;

    for (size_t i = 0; i < rp->nevents; i++) {
        if (strcmp(rp->events[i].event, event) == 0) {
            rp->events[i].n++;
            return;
        }
    }
    ev = s_grow(rp, rp->events, &rp->capevents, rp->nevents, sizeof *rp->events);
    if (ev == NULL)
        return;
    rp->events = ev;
    ev = &rp->events[rp->nevents++];
    s_copy(ev->event, sizeof ev->event, event);
    ev->n = 1;
}

static void
s_submission(struct s_report *rp, const struct audit_entry *e)
{
    const char *agency = s_txt(e, "agency"), *dataset = s_txt(e, "dataset");
    uint64_t records = s_u64(e, "records");
    struct s_ds *d = s_ds_of(rp, agency, dataset);
    char when[32], n[32], who[S_NAME];

    rp->commits++;
    rp->records += records;
    if (d != NULL) {
        d->subs++;
        d->records += records;
        if (e->time >= 0 && (d->first < 0 || e->time < d->first))
            d->first = e->time;
        if (e->time > d->last)
            d->last = e->time;
    }
    s_day_add(rp, e->time, agency, records);
    s_row(rp, &rp->subs, s_when(e, when), agency, dataset, s_n(records, n), s_who(e, who),
          s_txt(e, "source"), s_txt(e, "submission"), "no");
}

static void
s_superseded(struct s_report *rp, const struct audit_entry *e)
{
    struct s_ds *d = s_ds_of(rp, s_txt(e, "agency"), s_txt(e, "dataset"));
    long row = s_find(&rp->subs, 6, s_txt(e, "submission"));
    char when[32], text[S_NAME + 32];

    rp->nsuperseded++;
    if (d != NULL)
        d->superseded++;
    s_when(e, when);
    if (row >= 0) {
        snprintf(text, sizeof text, "yes, on %.10s", when);
        s_set(rp, &rp->subs, row, 7, text);
    }
    s_row(rp, &rp->superseded, when, s_txt(e, "agency"), s_txt(e, "dataset"),
          s_txt(e, "submission"), s_txt(e, "by"));
}

static void
s_discarded(struct s_report *rp, const struct audit_entry *e)
{
    struct s_ds *d = s_ds_of(rp, s_txt(e, "agency"), s_txt(e, "dataset"));
    char when[32], n[32], who[S_NAME];

    rp->ndiscarded++;
    if (d != NULL)
        d->discarded++;
    s_row(rp, &rp->discarded, s_when(e, when), s_txt(e, "agency"), s_txt(e, "dataset"),
          s_cnt(e, "records", n), s_who(e, who), s_txt(e, "submission"), s_txt(e, "reason"));
}

static void
s_import(struct s_report *rp, const struct audit_entry *e)
{
    char when[32], n[32];

    rp->nimports++;
    s_row(rp, &rp->imports, s_when(e, when), s_txt(e, "agency"), s_txt(e, "dataset"),
          s_cnt(e, "records", n), s_txt(e, "file"), s_txt(e, "user"), s_txt(e, "key_id"));
}

static void
s_purged(struct s_report *rp, const struct audit_entry *e)
{
    struct s_ds *d = s_ds_of(rp, s_txt(e, "agency"), s_txt(e, "dataset"));
    uint64_t records = s_u64(e, "records");
    char when[32], n[32];

    rp->npurges++;
    rp->purged_records += records;
    if (d != NULL) {
        d->purged++;
        d->purged_records += records;
    }
    s_row(rp, &rp->purges, s_when(e, when), s_txt(e, "agency"), s_txt(e, "dataset"),
          s_cnt(e, "records", n), s_txt(e, "submission"), s_txt(e, "reason"));
}

static void
s_link_run(struct s_report *rp, const struct audit_entry *e)
{
    char when[32], who[S_NAME], n[7][32];

    rp->nruns++;
    s_row(rp, &rp->runs, s_when(e, when), s_cnt(e, "run", n[0]), s_cnt(e, "records", n[1]),
          s_cnt(e, "datasets", n[2]), s_cnt(e, "links", n[3]), s_cnt(e, "clusters", n[4]),
          s_cnt(e, "possible_pairs", n[5]), s_cnt(e, "conflicts", n[6]), s_who(e, who));
}

static void
s_extract(struct s_report *rp, const struct audit_entry *e)
{
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(e->details, "datasets"), *it;
    struct s_proj *p = s_proj_of(rp, s_txt(e, "project"));
    char when[32], run[32], rows[32], list[S_TEXT], n[32];
    size_t len = 0;

    rp->nextracts++;
    if (p != NULL) {
        p->extracts++;
        if (audit_detail_str(e, "purpose") != NULL)
            s_copy(p->purpose, sizeof p->purpose, audit_detail_str(e, "purpose"));
        s_proj_analyst(p, e->actor);
    }
    /* Which agencies' data went out, and how much of each. */
    list[0] = '\0';
    cJSON_ArrayForEach(it, ds)
    {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "agency"),
                    *d = cJSON_GetObjectItemCaseSensitive(it, "dataset"),
                    *r = cJSON_GetObjectItemCaseSensitive(it, "rows");

        if (!cJSON_IsString(a) || !cJSON_IsString(d) || len + 3 >= sizeof list)
            continue;
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s/%s", len ? ", " : "",
                                a->valuestring, d->valuestring);
        if (cJSON_IsNumber(r) && r->valuedouble >= 0 && len < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, " (%s)",
                                    s_n((uint64_t)r->valuedouble, n));
    }
    s_row(rp, &rp->extracts, s_when(e, when), s_txt(e, "project"), e->actor, s_cnt(e, "run", run),
          s_cnt(e, "rows", rows), list[0] ? list : S_DASH, s_txt(e, "extract_id"),
          "not in this period");
}

static void
s_delivered(struct s_report *rp, const struct audit_entry *e)
{
    struct s_proj *p = s_proj_of(rp, s_txt(e, "project"));
    long row = s_find(&rp->extracts, 6, s_txt(e, "extract_id"));
    char when[32], text[64];

    rp->ndelivered++;
    if (p != NULL) {
        p->delivered++;
        p->delivered_rows += s_u64(e, "rows");
    }
    if (row >= 0) {
        snprintf(text, sizeof text, "yes, %s", s_when(e, when));
        s_set(rp, &rp->extracts, row, 7, text);
    } else {
        rp->delivered_unlisted++;
    }
}

/* The reason refusals of a kind are grouped by: the project's rule, the
 * error code and request, or the linker's own words for a connection (a
 * handful of fixed texts). */
static void
s_reason_label(int kind, const struct audit_entry *e, char *out, size_t size)
{
    const char *rule = audit_detail_str(e, "rule"), *code = audit_detail_str(e, "code"),
               *request = audit_detail_str(e, "request"), *stage = audit_detail_str(e, "stage");

    if (rule != NULL)
        snprintf(out, size, "rule %s", rule);
    else if (kind == S_CONN)
        snprintf(out, size, "%s", s_txt(e, "reason"));
    else if (code != NULL && stage != NULL)
        snprintf(out, size, "%s at %s", code, stage);
    else if (code != NULL && request != NULL)
        snprintf(out, size, "%s (%s)", code, request);
    else
        snprintf(out, size, "%s", code != NULL ? code : "no code given");
}

static void
s_refusal(struct s_report *rp, const struct audit_entry *e)
{
    int kind = S_OTHER_REFUSAL;
    uint64_t unlogged = s_u64(e, "repeats_not_logged") + s_u64(e, "others_not_logged");
    char when[32], who[S_NAME], label[S_TEXT], what[2 * S_NAME];
    struct s_reason *g = NULL;

    for (int k = 0; k < S_OTHER_REFUSAL; k++)
        if (strcmp(e->event, s_kind_event[k]) == 0)
            kind = k;
    rp->nrefusals++;
    rp->unlogged += unlogged;
    rp->kind_n[kind]++;
    rp->kind_unlogged[kind] += unlogged;
    s_reason_label(kind, e, label, sizeof label);
    for (size_t i = 0; i < rp->nreasons && g == NULL; i++)
        if (rp->reasons[i].kind == kind && strcmp(rp->reasons[i].label, label) == 0)
            g = &rp->reasons[i];
    if (g == NULL) {
        g = s_grow(rp, rp->reasons, &rp->capreasons, rp->nreasons, sizeof *rp->reasons);
        if (g != NULL) {
            rp->reasons = g;
            g = &rp->reasons[rp->nreasons++];
            memset(g, 0, sizeof *g);
            g->kind = kind;
            s_copy(g->label, sizeof g->label, label);
        }
    }
    if (g != NULL) {
        g->entries++;
        g->unlogged += unlogged;
    }
    if (kind == S_EXTRACT && audit_detail_str(e, "project") != NULL) {
        struct s_proj *p = s_proj_of(rp, audit_detail_str(e, "project"));

        if (p != NULL)
            p->refused++;
    }
    /* What was asked for: a project, a dataset, a request, or where from. */
    if (audit_detail_str(e, "project") != NULL)
        snprintf(what, sizeof what, "project %s", audit_detail_str(e, "project"));
    else if (audit_detail_str(e, "agency") != NULL)
        snprintf(what, sizeof what, "%s/%s", s_txt(e, "agency"), s_txt(e, "dataset"));
    else if (audit_detail_str(e, "request") != NULL)
        snprintf(what, sizeof what, "%s", s_txt(e, "request"));
    else
        snprintf(what, sizeof what, "%s", s_txt(e, "peer"));
    s_row(rp, &rp->refusals, s_when(e, when), s_kind_words[kind], s_who(e, who), what, label,
          s_txt(e, "reason"));
}

static void
s_keyring(struct s_report *rp, const struct audit_entry *e)
{
    const char *result = s_txt(e, "result");
    char when[32], n[6][32], keys[S_TEXT];

    rp->keyring_reloads++;
    if (strcmp(result, "ok") != 0)
        rp->reloads_failed++;
    rp->keys_added += s_u64(e, "added");
    rp->keys_revoked += s_u64(e, "newly_revoked");
    rp->keys_removed += s_u64(e, "removed");
    audit_key_changes(e, keys, sizeof keys);
    s_row(rp, &rp->keyrings, s_when(e, when), result, s_cnt(e, "entries", n[0]),
          s_cnt(e, "active", n[1]), s_cnt(e, "revoked", n[2]), s_cnt(e, "added", n[3]),
          s_cnt(e, "removed", n[4]), s_cnt(e, "newly_revoked", n[5]), keys,
          audit_detail_str(e, "reason"));
}

static void
s_projects(struct s_report *rp, const struct audit_entry *e)
{
    const char *result = s_txt(e, "result");
    char when[32], n[32], a[S_TEXT], r[S_TEXT], c[S_TEXT];

    rp->project_reloads++;
    if (strcmp(result, "ok") != 0)
        rp->reloads_failed++;
    s_row(rp, &rp->projects, s_when(e, when), result, s_cnt(e, "projects", n),
          s_names(e, "added", a, sizeof a), s_names(e, "removed", r, sizeof r),
          s_names(e, "changed", c, sizeof c), audit_detail_str(e, "reason"));
}

static void
s_summary_row(struct s_report *rp, struct s_table *t, const struct audit_entry *e, const char *what)
{
    char when[32], who[S_NAME], summary[1024];

    audit_entry_summary(e, summary, sizeof summary);
    s_row(rp, t, s_when(e, when), what, s_who(e, who), summary);
}

/* The events with a section of their own, and what adds them to it. */
static const struct {
    const char *event;
    void (*add)(struct s_report *rp, const struct audit_entry *e);
} s_sections[] = {
    {"submission.commit", s_submission},
    {"submission.superseded", s_superseded},
    {"submission.discarded", s_discarded},
    {"submission.purged", s_purged},
    {"import", s_import},
    {"link.run", s_link_run},
    {"extract", s_extract},
    {"extract.delivered", s_delivered},
    {"keyring.reload", s_keyring},
    {"projects.reload", s_projects},
};

static int
s_collect(void *ctx, const struct audit_entry *e, char *err, size_t errlen)
{
    struct s_report *rp = ctx;
    const char *ev = e->event, *dot = strrchr(ev, '.');
    char seq[32], when[32], who[S_NAME], summary[1024];

    rp->entries++;
    s_count_event(rp, ev);
    for (size_t i = 0; i < sizeof s_sections / sizeof s_sections[0]; i++)
        if (strcmp(ev, s_sections[i].event) == 0) {
            s_sections[i].add(rp, e);
            goto done;
        }
    if (dot != NULL && strcmp(dot, ".refused") == 0)
        s_refusal(rp, e);
    else if (strcmp(ev, "pseudonym_key.created") == 0)
        s_row(rp, &rp->pkeys, s_when(e, when),
              "the linker created its own key for project pseudonyms");
    else if (strcmp(ev, "linker.start") == 0 || strcmp(ev, "linker.stop") == 0) {
        int start = strcmp(ev, "linker.start") == 0;

        rp->starts += start;
        rp->stops += !start;
        s_summary_row(rp, &rp->service, e, start ? "started" : "stopped");
    } else if (strcmp(ev, "submission.begin") != 0) {
        /* Not known to this version: listed as recorded, never dropped. */
        rp->unknown++;
        audit_entry_summary(e, summary, sizeof summary);
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)e->seq);
        s_row(rp, &rp->other, seq, s_when(e, when), ev, s_who(e, who), summary);
    }
done:
    if (rp->nomem)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    return 0;
}

/* ---- HTML ------------------------------------------------------------------------------- */

static const char s_style[] =
    "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;color:#111;background:#fff;"
    "max-width:64em;margin:1.5em auto;padding:0 1em;line-height:1.45}\n"
    "h1{font-size:1.6em;margin-bottom:.3em}h2{font-size:1.25em;margin-top:1.8em;"
    "border-bottom:1px solid #bbb}h3{font-size:1.05em;margin-top:1.2em}\n"
    "dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}"
    "dl.meta dt{font-weight:bold}dl.meta dd{margin:0;overflow-wrap:anywhere}\n"
    "table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.85em}\n"
    "caption{text-align:left;font-weight:bold;padding:.3em 0;caption-side:top}\n"
    "th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}\n"
    "td{overflow-wrap:break-word}th{background:#eef2f6}td.n{text-align:right;"
    "white-space:nowrap}td.h{font-family:'DejaVu Sans Mono',monospace;font-size:.9em;"
    "word-break:break-all}\n"
    "p.none{color:#333;font-style:italic}\n"
    ".checked{background:#eef6ee;border:1px solid #9c9;padding:.5em 1em}\n"
    "figure{margin:.6em 0}figure svg{width:100%;max-width:720px;height:auto;display:block}\n"
    "nav ul{columns:2}footer{margin-top:2em;font-size:.9em;border-top:1px solid #bbb}\n"
    "@page{size:A4;margin:15mm}\n"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}"
    "figure,tr,.checked{break-inside:avoid}h2,h3{break-after:avoid}"
    "figure svg{max-width:100%}th{background:#eee}nav{display:none}}\n";

static void
s_none(FILE *f)
{
    fputs("<p class=\"none\">None in this period.</p>\n", f);
}

struct s_ctx {
    const struct s_report *rp;
    const struct audit_log_info *info;
    const char *log_path;
    time_t first, last; /* the period; -1 when the log holds no entry */
    int month;
    time_t now;
};

static void
s_iso(time_t t, char out[32])
{
    struct tm tm;

    if (t < 0 || gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(out, 32, S_DASH);
}

/* A table of single entries; align has 'n' for each column of numbers, 'h'
 * for each of ids in hex (broken anywhere to fit), '.' for text. hint
 * is the options of `show` (--event ...) that list what did not fit. */
static void
s_table_html(FILE *f, const struct s_ctx *x, const struct s_table *t, const char *caption,
             const char *const *cols, const char *align, const char *hint)
{
    if (t->nrows == 0) {
        s_none(f);
        return;
    }
    fputs("<table>\n<caption>", f);
    xl_html_esc(f, caption);
    fputs("</caption>\n<thead><tr>", f);
    for (size_t j = 0; j < t->ncols; j++) {
        fputs("<th scope=\"col\">", f);
        xl_html_esc(f, cols[j]);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < t->nrows; i++) {
        fputs("<tr>", f);
        for (size_t j = 0; j < t->ncols; j++) {
            fputs(align[j] == 'n'   ? "<td class=\"n\">"
                  : align[j] == 'h' ? "<td class=\"h\">"
                                    : "<td>",
                  f);
            xl_html_esc(f, t->cells[i * t->ncols + j]);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
    if (t->more > 0) {
        char n[32], a[32], b[32];

        s_iso(x->first, a);
        s_iso(x->last, b);
        fprintf(f, "<p>%s more not listed here: <code>crosslink-audit show ", s_n(t->more, n));
        xl_html_esc(f, x->log_path);
        /* the period's first and last second, as --since and --until take them */
        if (x->first >= 0)
            fprintf(f, " --since %.10sT%sZ --until %.10sT%sZ", a, a + 11, b, b + 11);
        fprintf(f, "%s%s</code> lists every one.</p>\n", *hint ? " " : "", hint);
    }
}

static void
s_svg_open(FILE *f, int id, int height, const char *title, const char *desc)
{
    fprintf(f,
            "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"c%d-t c%d-d\" "
            "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" font-size=\"%d\">\n"
            "<title id=\"c%d-t\">",
            S_W, height, S_W, height, id, id, S_FONT, id);
    xl_html_esc(f, title);
    fprintf(f, "</title>\n<desc id=\"c%d-d\">", id);
    xl_html_esc(f, desc);
    fputs(" The table below gives the same numbers.</desc>\n", f);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", S_W, height);
}

/* Horizontal bars, one per label, the count written beside each. */
static void
s_hbars(FILE *f, int id, const char *title, const char *desc, const char *const *labels,
        const uint64_t *values, size_t n)
{
    int rowh = 24, height = 20 + (int)n * rowh + 10;
    uint64_t max = 1;
    char buf[32];

    for (size_t i = 0; i < n; i++)
        if (values[i] > max)
            max = values[i];
    s_svg_open(f, id, height, title, desc);
    for (size_t i = 0; i < n; i++) {
        int y = 20 + (int)i * rowh, w = (int)((double)values[i] / (double)max * S_BAR);

        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", S_LABEL - 8, y + 12);
        xl_html_esc_short(f, labels[i], 32);
        fputs("</text>", f);
        if (w > 0)
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"%s\"/>", S_LABEL,
                    y, w, s_colours[0]);
        fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", S_LABEL + w + 6, y + 12,
                s_n(values[i], buf));
    }
    fprintf(f, "<line x1=\"%d\" y1=\"14\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", S_LABEL,
            S_LABEL, height - 6);
    fputs("</svg></figure>\n", f);
}

/* ---- the chart of records received ------------------------------------------------------ */

enum { S_BY_DAY, S_BY_WEEK, S_BY_MONTH, S_BY_YEAR };

static void
s_ymd(long day, int *y, int *m, int *d)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;

    gmtime_r(&t, &tm);
    *y = tm.tm_year + 1900;
    *m = tm.tm_mon + 1;
    *d = tm.tm_mday;
}

/* The bucket a day falls in: the day; the Monday of its week (1 January
 * 1970 was a Thursday); its month or its year as a number. */
static long
s_bucket(long day, int by)
{
    int y, m, d;

    if (by == S_BY_DAY)
        return day;
    if (by == S_BY_WEEK)
        return day - ((day % 7 + 7 + 3) % 7);
    s_ymd(day, &y, &m, &d);
    return by == S_BY_MONTH ? (long)y * 12 + m - 1 : y;
}

static long
s_bucket_step(int by)
{
    return by == S_BY_WEEK ? 7 : 1;
}

static void
s_bucket_label(long b, int by, char *out, size_t size)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, m, d;

    if (by == S_BY_MONTH) {
        snprintf(out, size, "%s %ld", months[b % 12], b / 12);
    } else if (by == S_BY_YEAR) {
        snprintf(out, size, "%ld", b);
    } else {
        s_ymd(b, &y, &m, &d);
        snprintf(out, size, "%s%d %s", by == S_BY_WEEK ? "w/c " : "", d, months[m - 1]);
    }
}

/* A step of 1, 2 or 5 times a power of ten that cuts max into at most 5. */
static uint64_t
s_nice_step(uint64_t max)
{
    uint64_t p = 1;

    for (;;) {
        if (p * 5 >= max)
            return p;
        if (p * 2 * 5 >= max)
            return p * 2;
        if (p * 5 * 5 >= max)
            return p * 5;
        p *= 10;
    }
}

struct s_chart {
    int by;
    long b0;
    size_t nb, nag;
    const char **agencies; /* by total records, most first */
    uint64_t *v;           /* nb * nag records */
};

static int
s_agency_index(const struct s_chart *c, const char *agency)
{
    for (size_t k = 0; k < c->nag; k++)
        if (strcmp(c->agencies[k], agency) == 0)
            return (int)k;
    return -1;
}

/* The period's buckets and each agency's records in each; 0 or XL_ERR_NOMEM. */
static int
s_chart_build(const struct s_report *rp, time_t first, time_t last, struct s_chart *c)
{
    long d0 = (long)(first / 86400), d1 = (long)(last / 86400), b1;
    uint64_t *tot;

    memset(c, 0, sizeof *c);
    /* The whole log's period runs from its first entry to its last; an entry
     * between them may carry an earlier time (a submission's own). */
    for (size_t i = 0; i < rp->ndays; i++) {
        if (rp->days[i].day < d0)
            d0 = rp->days[i].day;
        if (rp->days[i].day > d1)
            d1 = rp->days[i].day;
    }
    c->by = d1 - d0 < 62        ? S_BY_DAY
            : d1 - d0 < 7 * 60  ? S_BY_WEEK
            : d1 - d0 < 365 * 8 ? S_BY_MONTH
                                : S_BY_YEAR;
    c->b0 = s_bucket(d0, c->by);
    b1 = s_bucket(d1, c->by);
    c->nb = (size_t)((b1 - c->b0) / s_bucket_step(c->by)) + 1;
    c->agencies = calloc(rp->ndays + 1, sizeof *c->agencies);
    tot = calloc(rp->ndays + 1, sizeof *tot);
    if (c->agencies == NULL || tot == NULL) {
        free(tot);
        return XL_ERR_NOMEM;
    }
    for (size_t i = 0; i < rp->ndays; i++) {
        int k = s_agency_index(c, rp->days[i].agency);

        if (k < 0) {
            k = (int)c->nag++;
            c->agencies[k] = rp->days[i].agency;
        }
        tot[k] += rp->days[i].records;
    }
    /* most records first, so the colours go to the agencies that sent most */
    for (size_t i = 1; i < c->nag; i++) {
        for (size_t j = i; j > 0 && tot[j] > tot[j - 1]; j--) {
            const char *a = c->agencies[j];
            uint64_t t = tot[j];

            c->agencies[j] = c->agencies[j - 1];
            tot[j] = tot[j - 1];
            c->agencies[j - 1] = a;
            tot[j - 1] = t;
        }
    }
    free(tot);
    c->v = calloc(c->nb * (c->nag ? c->nag : 1), sizeof *c->v);
    if (c->v == NULL)
        return XL_ERR_NOMEM;
    for (size_t i = 0; i < rp->ndays; i++) {
        long b = s_bucket(rp->days[i].day, c->by);
        int k = s_agency_index(c, rp->days[i].agency);

        if (b < c->b0 || b > b1 || k < 0)
            continue;
        c->v[(size_t)((b - c->b0) / s_bucket_step(c->by)) * c->nag + (size_t)k] +=
            rp->days[i].records;
    }
    return 0;
}

static void
s_chart_free(struct s_chart *c)
{
    free(c->agencies);
    free(c->v);
}

static const char *
s_by_words(int by)
{
    static const char *const w[] = {"day", "week", "month", "year"};

    return w[by];
}

/* Stacked bars: the records each agency sent, per day (or week, month or
 * year for a longer period). */
static void
s_chart_records(FILE *f, int id, const struct s_chart *c)
{
    const int left = 70, right = 10, plot_w = S_W - left - right, plot_h = 200;
    size_t ncol = c->nag < S_NCOLOURS ? c->nag : S_NCOLOURS;
    int legend_rows = 1, x = left, top, height, slot, barw;
    size_t every = c->nb > 12 ? (c->nb + 11) / 12 : 1;
    uint64_t max = 1, step;
    char title[96], desc[256], buf[48];

    /* the legend first, to know how many lines it takes */
    for (size_t k = 0; k < ncol; k++) {
        const char *name =
            k + 1 == S_NCOLOURS && c->nag > S_NCOLOURS ? "other agencies" : c->agencies[k];
        int w = 30 + 7 * (int)(strlen(name) < 24 ? strlen(name) : 24);

        if (x + w > S_W - right && x > left) {
            legend_rows++;
            x = left;
        }
        x += w;
    }
    top = 16 + legend_rows * 18;
    height = top + plot_h + 40;
    for (size_t b = 0; b < c->nb; b++) {
        uint64_t sum = 0;

        for (size_t k = 0; k < c->nag; k++)
            sum += c->v[b * c->nag + k];
        if (sum > max)
            max = sum;
    }
    step = s_nice_step(max);
    max = (max + step - 1) / step * step;
    slot = plot_w / (int)c->nb;
    /* a few days' bars stay bars, not blocks */
    barw = slot * 7 / 10 > 48 ? 48 : slot * 7 / 10 > 1 ? slot * 7 / 10 : 1;
    snprintf(title, sizeof title, "Records received per %s, by agency", s_by_words(c->by));
    snprintf(desc, sizeof desc,
             "Stacked vertical bars, one per %s of the period: the records each agency's "
             "stored submissions held, one colour per agency as in the legend.",
             s_by_words(c->by));
    s_svg_open(f, id, height, title, desc);
    x = left;
    legend_rows = 0;
    for (size_t k = 0; k < ncol; k++) {
        const char *name =
            k + 1 == S_NCOLOURS && c->nag > S_NCOLOURS ? "other agencies" : c->agencies[k];
        int w = 30 + 7 * (int)(strlen(name) < 24 ? strlen(name) : 24);

        if (x + w > S_W - right && x > left) {
            legend_rows++;
            x = left;
        }
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>", x,
                6 + legend_rows * 18, s_colours[k]);
        fprintf(f, "<text x=\"%d\" y=\"%d\">", x + 16, 16 + legend_rows * 18);
        xl_html_esc_short(f, name, 24);
        fputs("</text>\n", f);
        x += w;
    }
    for (uint64_t v = 0; v <= max; v += step) {
        int y = top + plot_h - (int)((double)v / (double)max * plot_h);

        fprintf(f,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"10\">%s</text>\n",
                left, y, S_W - right, y, left - 6, y + 4, s_n(v, buf));
    }
    for (size_t b = 0; b < c->nb; b++) {
        int bx = left + (int)b * slot + (slot - barw) / 2;
        double y = top + plot_h;

        for (size_t k = 0; k < c->nag; k++) {
            uint64_t v = c->v[b * c->nag + k];
            double h = (double)v / (double)max * plot_h;
            size_t col = k < S_NCOLOURS ? k : S_NCOLOURS - 1;

            if (v == 0)
                continue;
            y -= h;
            fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"/>\n", bx,
                    y, barw, h < 1 ? 1 : h, s_colours[col]);
        }
        if (b % every == 0) {
            s_bucket_label(c->b0 + (long)b * s_bucket_step(c->by), c->by, buf, sizeof buf);
            fprintf(f,
                    "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\">%s</text>\n",
                    left + (int)b * slot + slot / 2, top + plot_h + 16, buf);
        }
    }
    fprintf(f,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s (UTC)</text>\n",
            left, top + plot_h, S_W - right, top + plot_h, left + plot_w / 2, height - 6,
            c->by == S_BY_DAY     ? "Day"
            : c->by == S_BY_WEEK  ? "Week beginning"
            : c->by == S_BY_MONTH ? "Month"
                                  : "Year");
    fputs("</svg></figure>\n", f);
}

/* The chart's numbers: one row per bucket with records, one column per agency. */
static void
s_chart_table(FILE *f, const struct s_chart *c)
{
    char buf[48];

    fprintf(f,
            "<table>\n<caption>Records received per %s, by agency (the numbers in the "
            "chart)</caption>\n<thead><tr><th scope=\"col\">",
            s_by_words(c->by));
    fputs(c->by == S_BY_WEEK ? "Week beginning" : c->by == S_BY_DAY ? "Day" : "Period", f);
    fputs("</th>", f);
    for (size_t k = 0; k < c->nag; k++) {
        fputs("<th scope=\"col\">", f);
        xl_html_esc(f, c->agencies[k]);
        fputs("</th>", f);
    }
    fputs("<th scope=\"col\">All agencies</th></tr></thead>\n<tbody>\n", f);
    for (size_t b = 0; b < c->nb; b++) {
        uint64_t sum = 0;

        for (size_t k = 0; k < c->nag; k++)
            sum += c->v[b * c->nag + k];
        if (sum == 0)
            continue;
        s_bucket_label(c->b0 + (long)b * s_bucket_step(c->by), c->by, buf, sizeof buf);
        fprintf(f, "<tr><th scope=\"row\">%s</th>", buf);
        for (size_t k = 0; k < c->nag; k++)
            fprintf(f, "<td class=\"n\">%s</td>", s_n(c->v[b * c->nag + k], buf));
        fprintf(f, "<td class=\"n\">%s</td></tr>\n", s_n(sum, buf));
    }
    fputs("</tbody>\n</table>\n", f);
}

/* ---- the sections ----------------------------------------------------------------------- */

static void
s_date_words(time_t t, char *out, size_t size)
{
    struct tm tm;

    if (t < 0 || gmtime_r(&t, &tm) == NULL || strftime(out, size, "%-d %B %Y", &tm) == 0)
        snprintf(out, size, "an unknown date");
}

/* A sentence with a count: "1 link run" or "3 link runs". */
static void
s_count(FILE *f, uint64_t n, const char *one, const char *many)
{
    char buf[32];

    fprintf(f, "%s %s", s_n(n, buf), n == 1 ? one : many);
}

static void
s_head(FILE *f, const struct s_ctx *x)
{
    char a[64], b[64], hex[2 * XL_HASH_BYTES + 1], n[32], now[32];
    struct tm tm;

    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Audit report of the crosslink linkage service</title>\n<style>\n",
          f);
    fputs(s_style, f);
    fputs("</style>\n</head>\n<body>\n<header>\n<h1>Audit report of the crosslink linkage "
          "service</h1>\n<dl class=\"meta\">\n<dt>Period</dt><dd>",
          f);
    s_date_words(x->first, a, sizeof a);
    s_date_words(x->last, b, sizeof b);
    if (x->month && gmtime_r(&x->first, &tm) != NULL && strftime(n, sizeof n, "%B %Y", &tm))
        fprintf(f, "%s (%s to %s)", n, a, b);
    else if (x->first >= 0)
        fprintf(f, "the whole log: %s to %s", a, b);
    else
        fputs("the whole log, which holds no entries", f);
    fputs("</dd>\n<dt>Audit log</dt><dd>", f);
    xl_html_esc(f, x->log_path);
    fprintf(f, "</dd>\n<dt>Entries in the period</dt><dd>%s", s_n(x->rp->entries, n));
    fprintf(f, " of the log&rsquo;s %s</dd>\n", s_n(x->info->entries, n));
    xl_hex(x->info->last_hash, XL_HASH_BYTES, hex);
    fprintf(f, "<dt>Last entry&rsquo;s hash</dt><dd><code>%s</code></dd>\n", hex);
    s_iso(x->now, now);
    fprintf(f, "<dt>Written</dt><dd>%s UTC by crosslink-audit report</dd>\n</dl>\n</header>\n",
            now);
    fputs("<nav>\n<ul>\n<li><a href=\"#glance\">At a glance</a></li>\n"
          "<li><a href=\"#data\">Data received from agencies</a></li>\n"
          "<li><a href=\"#runs\">Linkage runs</a></li>\n"
          "<li><a href=\"#extracts\">Extracts for approved projects</a></li>\n"
          "<li><a href=\"#refusals\">Refusals</a></li>\n"
          "<li><a href=\"#keys\">Keys and approved projects</a></li>\n"
          "<li><a href=\"#purges\">Data deleted under the retention policy</a></li>\n"
          "<li><a href=\"#service\">Service starts and stops</a></li>\n"
          "<li><a href=\"#other\">Other entries</a></li>\n"
          "<li><a href=\"#kinds\">All entries by kind</a></li>\n</ul>\n</nav>\n<main>\n",
          f);
    fprintf(f,
            "<section class=\"checked\">\n<p>Every one of the log&rsquo;s %s entries was read "
            "and checked before this report was written: each entry&rsquo;s hash matches what "
            "it records, and each is chained to the one before it, so no entry was changed, "
            "removed, added or put out of order without the check failing (a log that fails it "
            "gets no report). To know that the whole log is the one the linker signed, check "
            "the hash of its last entry, above, against the linker&rsquo;s signed checkpoints "
            "with <code>crosslink-audit verify</code>.</p>\n<p>The log holds no personal data: "
            "it records what happened, with counts, agency and dataset names, project ids and "
            "key ids. Times are UTC.</p>\n</section>\n",
            s_n(x->info->entries, n));
}

static void
s_glance(FILE *f, const struct s_ctx *x)
{
    const struct s_report *rp = x->rp;
    size_t nag = 0;
    char n[32], n2[32];

    for (size_t i = 0; i < rp->nds; i++) {
        size_t j;

        if (rp->ds[i].subs == 0)
            continue;
        for (j = 0; j < i; j++)
            if (rp->ds[j].subs > 0 && strcmp(rp->ds[j].agency, rp->ds[i].agency) == 0)
                break;
        nag += j == i;
    }
    fputs("<section id=\"glance\">\n<h2>At a glance</h2>\n", f);
    if (rp->entries == 0) {
        s_none(f);
        fputs("</section>\n", f);
        return;
    }
    fputs("<ul>\n<li>", f);
    if (rp->commits == 0) {
        fputs("No data was received.", f);
    } else {
        s_count(f, nag, "agency", "agencies");
        fputs(" sent ", f);
        s_count(f, rp->commits, "submission", "submissions");
        fprintf(f, " holding %s records in all.", s_n(rp->records, n));
    }
    if (rp->nsuperseded > 0) {
        fputs(" ", f);
        s_count(f, rp->nsuperseded, "earlier submission was", "earlier submissions were");
        fputs(" replaced by a newer one.", f);
    }
    if (rp->ndiscarded > 0) {
        fputs(" ", f);
        s_count(f, rp->ndiscarded, "unfinished submission was", "unfinished submissions were");
        fputs(" discarded.", f);
    }
    fputs("</li>\n<li>", f);
    if (rp->nruns == 0)
        fputs("The linkage did not run.", f);
    else {
        fputs("The linkage ran ", f);
        s_count(f, rp->nruns, "time.", "times.");
    }
    fputs("</li>\n<li>", f);
    if (rp->nextracts == 0 && rp->ndelivered == 0) {
        fputs("No extract was prepared.", f);
    } else {
        s_count(f, rp->nextracts, "extract was", "extracts were");
        fputs(" prepared for approved projects, and ", f);
        s_count(f, rp->ndelivered, "was", "were");
        fputs(" delivered to analysts.", f);
    }
    fputs("</li>\n<li>", f);
    if (rp->nrefusals == 0) {
        fputs("Nothing was refused.", f);
    } else {
        s_count(f, rp->nrefusals, "refusal was", "refusals were");
        fputs(" recorded (connections, requests, submissions, link runs and extracts)", f);
        if (rp->unlogged > 0)
            fprintf(f, ", and %s more repeats of them were counted without an entry each",
                    s_n(rp->unlogged, n));
        fputs(".", f);
    }
    fputs("</li>\n<li>", f);
    if (rp->keyring_reloads + rp->project_reloads == 0) {
        fputs("The keyring and the approved projects were not reloaded.", f);
    } else {
        fputs("The keyring was reloaded ", f);
        s_count(f, rp->keyring_reloads, "time", "times");
        fputs(" (", f);
        s_count(f, rp->keys_added, "key", "keys");
        fprintf(f, " added, %s revoked, %s removed) and the approved projects ",
                s_n(rp->keys_revoked, n), s_n(rp->keys_removed, n2));
        s_count(f, rp->project_reloads, "time", "times");
        if (rp->reloads_failed > 0) {
            fputs("; ", f);
            s_count(f, rp->reloads_failed, "reload failed", "reloads failed");
            fputs(" and left what was in force unchanged", f);
        }
        fputs(".", f);
    }
    fputs("</li>\n<li>", f);
    if (rp->npurges == 0) {
        fputs("No data was deleted under the retention policy.", f);
    } else {
        s_count(f, rp->npurges, "submission", "submissions");
        fprintf(f, " (%s records) deleted under the retention policy.", s_n(rp->purged_records, n));
    }
    fputs("</li>\n<li>The linker service started ", f);
    s_count(f, rp->starts, "time", "times");
    fputs(" and stopped ", f);
    s_count(f, rp->stops, "time.", "times.");
    fputs("</li>\n", f);
    if (rp->unknown > 0) {
        fputs("<li>", f);
        s_count(f, rp->unknown, "entry", "entries");
        fputs(" of a kind this version of crosslink-audit does not know are listed as "
              "recorded under <a href=\"#other\">Other entries</a>.</li>\n",
              f);
    }
    fputs("</ul>\n</section>\n", f);
}

static int
s_ds_cmp(const void *a, const void *b)
{
    const struct s_ds *x = a, *y = b;
    int c = strcmp(x->agency, y->agency);

    return c != 0 ? c : strcmp(x->dataset, y->dataset);
}

static int
s_data(FILE *f, const struct s_ctx *x, int *chart)
{
    static const char *const sub_cols[] = {"Stored (UTC)", "Agency",        "Dataset",
                                           "Records",      "Sent by",       "How",
                                           "Submission",   "Replaced later"};
    static const char *const sup_cols[] = {"When (UTC)", "Agency", "Dataset", "Submission",
                                           "Replaced by"};
    static const char *const dis_cols[] = {"When (UTC)", "Agency",     "Dataset", "Records",
                                           "Sent by",    "Submission", "Why"};
    static const char *const imp_cols[] = {"When (UTC)", "Agency",   "Dataset",   "Records",
                                           "File",       "Operator", "Agency key"};
    const struct s_report *rp = x->rp;
    struct s_ds *ds = NULL;
    char a[32], b[32], c[32], d[32], e[32], g[32], h[32], k[32];
    int r;

    fputs("<section id=\"data\">\n<h2>Data received from agencies</h2>\n"
          "<p>Each agency sends its dataset as a submission; the linker stores it once it "
          "has all of it, and a newer submission of the same dataset replaces the "
          "earlier one.</p>\n",
          f);
    if (rp->commits > 0 && x->first >= 0) {
        struct s_chart ch;

        r = s_chart_build(rp, x->first, x->last, &ch);
        if (r != 0) {
            s_chart_free(&ch);
            return r;
        }
        s_chart_records(f, ++*chart, &ch);
        s_chart_table(f, &ch);
        s_chart_free(&ch);
    }
    fputs("<h3>By agency and dataset</h3>\n", f);
    if (rp->nds == 0) {
        s_none(f);
    } else {
        ds = malloc(rp->nds * sizeof *ds);
        if (ds == NULL)
            return XL_ERR_NOMEM;
        memcpy(ds, rp->ds, rp->nds * sizeof *ds);
        qsort(ds, rp->nds, sizeof *ds, s_ds_cmp);
        fputs("<table>\n<caption>Submissions stored, replaced, discarded and deleted, by "
              "agency and dataset</caption>\n<thead><tr><th scope=\"col\">Agency</th>"
              "<th scope=\"col\">Dataset</th><th scope=\"col\">Submissions stored</th>"
              "<th scope=\"col\">Records</th><th scope=\"col\">First (UTC)</th>"
              "<th scope=\"col\">Last (UTC)</th><th scope=\"col\">Replaced</th>"
              "<th scope=\"col\">Discarded</th><th scope=\"col\">Deleted (records)</th>"
              "</tr></thead>\n<tbody>\n",
              f);
        for (size_t i = 0; i < rp->nds; i++) {
            fputs("<tr><td>", f);
            xl_html_esc(f, ds[i].agency);
            fputs("</td><td>", f);
            xl_html_esc(f, ds[i].dataset);
            s_iso(ds[i].first, c);
            s_iso(ds[i].last, d);
            fprintf(f,
                    "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>%s</td><td>%s</td>"
                    "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s (%s)</td>"
                    "</tr>\n",
                    s_n(ds[i].subs, a), s_n(ds[i].records, b), c, d, s_n(ds[i].superseded, e),
                    s_n(ds[i].discarded, g), s_n(ds[i].purged, h), s_n(ds[i].purged_records, k));
        }
        fputs("</tbody>\n</table>\n", f);
        free(ds);
    }
    fputs("<h3>Each submission stored</h3>\n", f);
    s_table_html(f, x, &rp->subs, "Submissions stored, in the order received", sub_cols, "...n..h.",
                 "--event submission.commit");
    fputs("<h3>Submissions replaced by a newer one</h3>\n", f);
    s_table_html(f, x, &rp->superseded, "Submissions replaced", sup_cols, "...hh",
                 "--event submission.superseded");
    fputs("<h3>Submissions discarded before they were stored</h3>\n", f);
    s_table_html(f, x, &rp->discarded, "Submissions discarded", dis_cols, "...n.h.",
                 "--event submission.discarded");
    fputs("<h3>Files imported by the operator</h3>\n<p>An agency that cannot connect sends "
          "its encoded file by other means; the operator imports it, through the same "
          "checks.</p>\n",
          f);
    s_table_html(f, x, &rp->imports, "Files imported", imp_cols, "...n..h", "--event import");
    fputs("</section>\n", f);
    return 0;
}

static void
s_runs(FILE *f, const struct s_ctx *x)
{
    static const char *const cols[] = {"When (UTC)",     "Run",       "Records",
                                       "Datasets",       "Links",     "Clusters (people)",
                                       "Possible pairs", "Conflicts", "Started by"};

    fputs("<section id=\"runs\">\n<h2>Linkage runs</h2>\n<p>A run links the records of all "
          "stored submissions into clusters, one per person. Possible pairs are near-matches "
          "left unlinked; conflicts are records the agencies' identifiers disagree on. The "
          "run handles encrypted tokens only: no one sees names or identifiers.</p>\n",
          f);
    s_table_html(f, x, &x->rp->runs, "Linkage runs", cols, ".nnnnnnn.", "--event link.run");
    fputs("</section>\n", f);
}

static int
s_extracts(FILE *f, const struct s_ctx *x, int *chart)
{
    static const char *const cols[] = {"Prepared (UTC)", "Project",  "Analyst key",
                                       "Link run",       "Rows",     "Agency datasets (rows)",
                                       "Extract",        "Delivered"};
    const struct s_report *rp = x->rp;
    const char **labels;
    uint64_t *values;
    char n[4][32];

    fputs("<section id=\"extracts\">\n<h2>Extracts for approved projects</h2>\n<p>Data "
          "leaves the linker only as an extract for an approved project, to an analyst key "
          "the project lists, under the project&rsquo;s own pseudonyms.</p>\n",
          f);
    if (rp->nproj == 0) {
        s_none(f);
        fputs("</section>\n", f);
        return 0;
    }
    labels = calloc(rp->nproj, sizeof *labels);
    values = calloc(rp->nproj, sizeof *values);
    if (labels == NULL || values == NULL) {
        free(labels);
        free(values);
        return XL_ERR_NOMEM;
    }
    for (size_t i = 0; i < rp->nproj; i++) {
        labels[i] = rp->proj[i].id;
        values[i] = rp->proj[i].extracts;
    }
    s_hbars(f, ++*chart, "Extracts prepared, by project",
            "Horizontal bars: the number of extracts prepared for each project in the period.",
            labels, values, rp->nproj);
    free(labels);
    free(values);
    fputs("<table>\n<caption>Extracts by project and purpose, with the projects named in "
          "refused requests (the numbers in the chart)</caption>\n<thead><tr><th "
          "scope=\"col\">Project</th><th scope=\"col\">Purpose</th>"
          "<th scope=\"col\">Analyst keys</th><th scope=\"col\">Extracts prepared</th>"
          "<th scope=\"col\">Delivered</th><th scope=\"col\">Rows delivered</th>"
          "<th scope=\"col\">Refused</th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < rp->nproj; i++) {
        const struct s_proj *p = &rp->proj[i];

        fputs("<tr><td>", f);
        xl_html_esc(f, p->id);
        fputs("</td><td>", f);
        xl_html_esc(f, p->purpose[0] ? p->purpose : S_DASH);
        fputs("</td><td>", f);
        for (size_t k = 0; k < p->nanalysts; k++) {
            fputs(k ? ", " : "", f);
            xl_html_esc(f, p->analysts[k]);
        }
        if (p->more_analysts > 0)
            fprintf(f, " and %s more", s_n(p->more_analysts, n[0]));
        if (p->nanalysts == 0)
            fputs(S_DASH, f);
        fprintf(f,
                "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                "<td class=\"n\">%s</td></tr>\n",
                s_n(p->extracts, n[0]), s_n(p->delivered, n[1]), s_n(p->delivered_rows, n[2]),
                s_n(p->refused, n[3]));
    }
    fputs("</tbody>\n</table>\n<h3>Each extract</h3>\n", f);
    s_table_html(f, x, &rp->extracts, "Extracts prepared, in order", cols, "..hnn.h.",
                 "--event extract");
    if (rp->delivered_unlisted > 0) {
        fputs("<p>", f);
        s_count(f, rp->delivered_unlisted, "delivery", "deliveries");
        fputs(" in this period were of extracts prepared before it, or not listed above.</p>\n", f);
    }
    fputs("</section>\n", f);
    return 0;
}

static void
s_refusals(FILE *f, const struct s_ctx *x, int *chart)
{
    static const char *const cols[] = {"When (UTC)", "Kind",           "Key (role)",
                                       "Asked for",  "Rule or reason", "The linker's words"};
    const struct s_report *rp = x->rp;
    size_t nk = rp->kind_n[S_OTHER_REFUSAL] > 0 ? S_NKINDS : S_NKINDS - 1;
    char a[32], b[32];

    fputs("<section id=\"refusals\">\n<h2>Refusals</h2>\n<p>Everything the linker refuses "
          "is recorded: a connection from a key not in the keyring or revoked, a request a "
          "key&rsquo;s role does not allow, a submission that fails a check, an extract "
          "outside an approved project. A refusal that repeats is recorded a few times a "
          "minute and the rest counted.</p>\n",
          f);
    if (rp->nrefusals == 0) {
        s_none(f);
        fputs("</section>\n", f);
        return;
    }
    s_hbars(f, ++*chart, "Refusals by kind",
            "Horizontal bars: the number of refusals of each kind recorded in the period.",
            s_kind_words, rp->kind_n, nk);
    fputs("<table>\n<caption>Refusals by kind and reason (the numbers in the chart)</caption>\n"
          "<thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Rule or reason</th>"
          "<th scope=\"col\">Recorded</th><th scope=\"col\">Repeats counted, not recorded"
          "</th></tr></thead>\n<tbody>\n",
          f);
    for (int k = 0; k < S_NKINDS; k++) {
        for (size_t i = 0; i < rp->nreasons; i++) {
            if (rp->reasons[i].kind != k)
                continue;
            fprintf(f, "<tr><td>%s</td><td>", s_kind_words[k]);
            xl_html_esc(f, rp->reasons[i].label);
            fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
                    s_n(rp->reasons[i].entries, a), s_n(rp->reasons[i].unlogged, b));
        }
    }
    fputs("</tbody>\n</table>\n<h3>Each refusal</h3>\n", f);
    s_table_html(f, x, &rp->refusals, "Refusals, in order", cols, "......",
                 "--event connection.refused --event request.refused --event submission.refused "
                 "--event link.refused --event extract.refused");
    fputs("</section>\n", f);
}

static void
s_keys(FILE *f, const struct s_ctx *x)
{
    static const char *const kr_cols[] = {
        "When (UTC)",   "Result",        "Keys",
        "Active",       "Revoked",       "Added",
        "Removed",      "Newly revoked", "Keys added, revoked or removed",
        "Why it failed"};
    static const char *const pr_cols[] = {"When (UTC)", "Result",  "Projects in force", "Added",
                                          "Removed",    "Changed", "Why it failed"};
    static const char *const pk_cols[] = {"When (UTC)", "What"};

    fputs("<section id=\"keys\">\n<h2>Keys and approved projects</h2>\n<p>The keyring lists "
          "the keys the linker admits (agencies, analysts, administrators, auditors); the "
          "list of approved projects says who may have which data. The operator reloads each "
          "after a change; a file that does not load is refused whole and what was in force "
          "stays in force.</p>\n<h3>Keyring reloads</h3>\n",
          f);
    s_table_html(f, x, &x->rp->keyrings, "Keyring reloads", kr_cols, "..nnnnnn..",
                 "--event keyring");
    fputs("<h3>Approved projects reloads</h3>\n", f);
    s_table_html(f, x, &x->rp->projects, "Approved projects reloads", pr_cols, "..n....",
                 "--event projects");
    fputs("<h3>The linker&rsquo;s own keys</h3>\n", f);
    s_table_html(f, x, &x->rp->pkeys, "Keys the linker created", pk_cols, "..",
                 "--event pseudonym_key");
    fputs("</section>\n", f);
}

static void
s_purges(FILE *f, const struct s_ctx *x)
{
    static const char *const cols[] = {"When (UTC)", "Agency",     "Dataset",
                                       "Records",    "Submission", "Why"};

    fputs("<section id=\"purges\">\n<h2>Data deleted under the retention policy</h2>\n", f);
    s_table_html(f, x, &x->rp->purges, "Submissions deleted", cols, "...nh.",
                 "--event submission.purged");
    fputs("</section>\n", f);
}

static void
s_service(FILE *f, const struct s_ctx *x)
{
    static const char *const cols[] = {"When (UTC)", "Event", "By", "Details"};

    fputs("<section id=\"service\">\n<h2>Service starts and stops</h2>\n", f);
    s_table_html(f, x, &x->rp->service, "Starts and stops", cols, "....", "--event linker");
    fputs("</section>\n", f);
}

static void
s_other(FILE *f, const struct s_ctx *x)
{
    static const char *const cols[] = {"Entry", "When (UTC)", "Event", "By", "As recorded"};

    fputs("<section id=\"other\">\n<h2>Other entries</h2>\n<p>Entries of kinds this version "
          "of crosslink-audit does not know, with what they record.</p>\n",
          f);
    s_table_html(f, x, &x->rp->other, "Other entries", cols, "n....", "");
    fputs("</section>\n", f);
}

static const char *
s_event_words(const char *event)
{
    static const char *const words[][2] = {
        {"linker.start", "The linker service started"},
        {"linker.stop", "The linker service stopped"},
        {"connection.refused", "A connection was refused"},
        {"request.refused", "A request was refused"},
        {"submission.begin", "An agency began to send a dataset"},
        {"submission.commit", "A dataset was received in full and stored"},
        {"submission.superseded", "A stored dataset was replaced by a newer one"},
        {"submission.discarded", "An unfinished submission was discarded"},
        {"submission.refused", "A submission was refused"},
        {"submission.purged", "A stored submission was deleted under the retention policy"},
        {"import", "The operator imported an agency's file"},
        {"link.run", "A linkage run"},
        {"link.refused", "A request for a linkage run was refused"},
        {"extract", "An extract was prepared for an approved project"},
        {"extract.delivered", "An extract was delivered to its analyst"},
        {"extract.refused", "An extract was refused"},
        {"keyring.reload", "The keyring was reloaded"},
        {"projects.reload", "The approved projects were reloaded"},
        {"pseudonym_key.created", "The linker created its key for project pseudonyms"},
    };

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(words[i][0], event) == 0)
            return words[i][1];
    return "Not known to this version: listed under Other entries";
}

static int
s_event_cmp(const void *a, const void *b)
{
    return strcmp(((const struct s_event *)a)->event, ((const struct s_event *)b)->event);
}

static int
s_kinds(FILE *f, const struct s_ctx *x)
{
    const struct s_report *rp = x->rp;
    struct s_event *ev;
    char n[32];

    fputs("<section id=\"kinds\">\n<h2>All entries by kind</h2>\n", f);
    if (rp->nevents == 0) {
        s_none(f);
        fputs("</section>\n", f);
        return 0;
    }
    ev = malloc(rp->nevents * sizeof *ev);
    if (ev == NULL)
        return XL_ERR_NOMEM;
    memcpy(ev, rp->events, rp->nevents * sizeof *ev);
    qsort(ev, rp->nevents, sizeof *ev, s_event_cmp);
    fputs("<table>\n<caption>Entries in the period, by event</caption>\n<thead><tr>"
          "<th scope=\"col\">Event</th><th scope=\"col\">What it records</th>"
          "<th scope=\"col\">Entries</th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < rp->nevents; i++) {
        fputs("<tr><td><code>", f);
        xl_html_esc(f, ev[i].event);
        fputs("</code></td><td>", f);
        xl_html_esc(f, s_event_words(ev[i].event));
        fprintf(f, "</td><td class=\"n\">%s</td></tr>\n", s_n(ev[i].n, n));
    }
    fprintf(f,
            "<tr><th scope=\"row\" colspan=\"2\">All entries</th><td class=\"n\">%s</td>"
            "</tr>\n</tbody>\n</table>\n</section>\n",
            s_n(rp->entries, n));
    free(ev);
    return 0;
}

static int
s_write(FILE *f, const struct s_ctx *x)
{
    int chart = 0, r;

    s_head(f, x);
    s_glance(f, x);
    r = s_data(f, x, &chart);
    if (r != 0)
        return r;
    s_runs(f, x);
    r = s_extracts(f, x, &chart);
    if (r != 0)
        return r;
    s_refusals(f, x, &chart);
    s_keys(f, x);
    s_purges(f, x);
    s_service(f, x);
    s_other(f, x);
    r = s_kinds(f, x);
    if (r != 0)
        return r;
    fputs("</main>\n<footer>\n<p>Written by <code>crosslink-audit report</code> from the "
          "audit log named above. <code>crosslink-audit show</code> lists the same entries "
          "one per line.</p>\n</footer>\n</body>\n</html>\n",
          f);
    return 0;
}

/* ---- the report ------------------------------------------------------------------------- */

static void
s_report_free(struct s_report *rp)
{
    struct s_table *t[] = {&rp->subs,     &rp->superseded, &rp->discarded, &rp->imports,
                           &rp->purges,   &rp->runs,       &rp->extracts,  &rp->refusals,
                           &rp->keyrings, &rp->projects,   &rp->pkeys,     &rp->service,
                           &rp->other};

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        s_table_free(t[i]);
    free(rp->ds);
    free(rp->days);
    free(rp->proj);
    free(rp->reasons);
    free(rp->events);
}

int
audit_report_html(const char *log_path, const char *html_path, time_t first, time_t last,
                  time_t now, char *err, size_t errlen)
{
    struct s_report rp;
    struct audit_log_info info;
    struct audit_filter filter;
    struct s_ctx x;
    char *tmp = NULL;
    FILE *f = NULL;
    int fd, r;

    memset(&rp, 0, sizeof rp);
    rp.subs.ncols = 8;
    rp.superseded.ncols = 5;
    rp.discarded.ncols = 7;
    rp.imports.ncols = 7;
    rp.purges.ncols = 6;
    rp.runs.ncols = 9;
    rp.extracts.ncols = 8;
    rp.refusals.ncols = 6;
    rp.keyrings.ncols = 10;
    rp.projects.ncols = 7;
    rp.pkeys.ncols = 2;
    rp.service.ncols = 4;
    rp.other.ncols = 5;
    memset(&filter, 0, sizeof filter);
    if (first >= 0) {
        filter.has_since = filter.has_until = 1;
        filter.since = first;
        filter.until = last;
    }
    r = audit_log_each(log_path, &filter, s_collect, &rp, &info, err, errlen);
    if (r != 0)
        goto out;
    x = (struct s_ctx){.rp = &rp,
                       .info = &info,
                       .log_path = log_path,
                       .first = first >= 0 ? first : info.first,
                       .last = first >= 0 ? last : info.last,
                       .month = first >= 0,
                       .now = now};
    if (x.first < 0 || x.last < x.first)
        x.first = x.last = -1;

    /* Beside the report, so the rename is atomic; renamed only when complete. */
    if (asprintf(&tmp, "%s.XXXXXX", html_path) < 0) {
        tmp = NULL;
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create: %s", html_path, strerror(errno));
        goto out;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
        close(fd);
        (void)unlink(tmp);
        goto out;
    }
    r = s_write(f, &x);
    if (r != 0) {
        xl_err_set(err, errlen, r, "out of memory");
    } else if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
    }
    if (fclose(f) != 0 && r == 0)
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
    if (r == 0 && rename(tmp, html_path) != 0)
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot write: %s", html_path, strerror(errno));
    if (r != 0)
        (void)unlink(tmp);
out:
    free(tmp);
    s_report_free(&rp);
    return r;
}

int
audit_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"html", required_argument, NULL, 'o'},
                                         {"month", required_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *html = NULL;
    time_t first = -1, last = -1;
    char err[XL_ERRBUF];
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': return xl_cli_help();
        case 'o': html = optarg; break;
        case 'm':
            if (audit_parse_month(optarg, &first, &last) != 0)
                return xl_cli_usage_error("--month takes a month YYYY-MM");
            break;
        default: return xl_cli_option_error(c, argv);
        }
    }
    if (html == NULL)
        return xl_cli_usage_error("--html FILE is required");
    if (argc - optind != 1)
        return xl_cli_usage_error("expected one audit log");
    if (audit_report_html(argv[optind], html, first, last, time(NULL), err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    return 0;
}
