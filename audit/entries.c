#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "entries.h"
#include "xl/auditlog.h"
#include "xl/err.h"

/* ---- times ---------------------------------------------------------------------------- */

static int
s_digits(const char *s, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

static int
s_days_in(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

/* "YYYY-MM" at s, checked; the years a log can hold, with room either side. */
static int
s_year_month(const char *s, int *year, int *month)
{
    if (s_digits(s, 4, year) != 0 || s[4] != '-' || s_digits(s + 5, 2, month) != 0)
        return -1;
    return *year >= 1970 && *year <= 9999 && *month >= 1 && *month <= 12 ? 0 : -1;
}

static time_t
s_utc(int year, int month, int day, int hour, int min, int sec)
{
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    return timegm(&tm);
}

int
audit_parse_time(const char *s, int end_of_day, time_t *t)
{
    int year, month, day, hour = 0, min = 0, sec = 0;
    size_t n = strlen(s);

    *t = -1;
    if (n < 10 || s_year_month(s, &year, &month) != 0 || s[7] != '-' ||
        s_digits(s + 8, 2, &day) != 0 || day < 1 || day > s_days_in(year, month))
        return XL_ERR_INVALID;
    if (n == 10) {
        if (end_of_day) {
            hour = 23;
            min = 59;
            sec = 59;
        }
    } else {
        if (n != 19 && !(n == 20 && s[19] == 'Z'))
            return XL_ERR_INVALID;
        if ((s[10] != 'T' && s[10] != ' ') || s_digits(s + 11, 2, &hour) != 0 || s[13] != ':' ||
            s_digits(s + 14, 2, &min) != 0 || s[16] != ':' || s_digits(s + 17, 2, &sec) != 0)
            return XL_ERR_INVALID;
        /* No leap seconds: the linker writes none, and timegm would move them on. */
        if (hour > 23 || min > 59 || sec > 59)
            return XL_ERR_INVALID;
    }
    *t = s_utc(year, month, day, hour, min, sec);
    return 0;
}

int
audit_parse_month(const char *s, time_t *first, time_t *last)
{
    int year, month;

    *first = *last = -1;
    if (strlen(s) != 7 || s_year_month(s, &year, &month) != 0)
        return XL_ERR_INVALID;
    *first = s_utc(year, month, 1, 0, 0, 0);
    *last = s_utc(year, month, s_days_in(year, month), 23, 59, 59);
    return 0;
}

/* ---- events --------------------------------------------------------------------------- */

int
audit_event_in_class(const char *event, const char *cls)
{
    size_t n = strlen(cls);

    return n > 0 && strncmp(event, cls, n) == 0 && (event[n] == '\0' || event[n] == '.');
}

int
audit_event_class_valid(const char *cls)
{
    char prev = '.';

    if (*cls == '\0')
        return 0;
    for (const char *p = cls; *p != '\0'; p++) {
        if (*p == '.' && prev == '.')
            return 0;
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-' ||
              *p == '.'))
            return 0;
        prev = *p;
    }
    return prev != '.';
}

/* ---- entries -------------------------------------------------------------------------- */

static const char *
s_member(const cJSON *obj, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(m) && m->valuestring != NULL ? m->valuestring : "";
}

int
audit_entry_parse(const char *line, size_t len, struct audit_entry *e, cJSON **obj)
{
    const cJSON *m;
    cJSON *o;

    memset(e, 0, sizeof *e);
    e->time = -1;
    *obj = NULL;
    o = cJSON_ParseWithLength(line, len);
    if (o == NULL)
        return XL_ERR_FORMAT;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return XL_ERR_FORMAT;
    }
    e->line = line;
    e->len = len;
    m = cJSON_GetObjectItemCaseSensitive(o, "seq");
    if (cJSON_IsNumber(m) && m->valuedouble >= 0)
        e->seq = (uint64_t)m->valuedouble;
    e->time_text = s_member(o, "time");
    e->actor = s_member(o, "actor");
    e->role = s_member(o, "role");
    e->event = s_member(o, "event");
    /* The linker writes "...Z" only; a time that is not one stays in the
     * listing but falls outside every --since and --until. */
    if (strlen(e->time_text) != 20 || audit_parse_time(e->time_text, 0, &e->time) != 0)
        e->time = -1;
    m = cJSON_GetObjectItemCaseSensitive(o, "details");
    e->details = cJSON_IsObject(m) ? m : NULL;
    *obj = o;
    return 0;
}

const char *
audit_detail_str(const struct audit_entry *e, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e->details, name);

    return cJSON_IsString(m) ? m->valuestring : NULL;
}

int
audit_detail_u64(const struct audit_entry *e, const char *name, uint64_t *v)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e->details, name);

    *v = 0;
    if (!cJSON_IsNumber(m) || !(m->valuedouble >= 0 && m->valuedouble <= 9007199254740992.0) ||
        m->valuedouble != (double)(uint64_t)m->valuedouble)
        return 0;
    *v = (uint64_t)m->valuedouble;
    return 1;
}

/* ---- the agencies of agent keys ------------------------------------------------------- */

struct s_key_agency {
    char *key_id;
    char *agency;
};

struct audit_keys {
    struct s_key_agency *v;
    size_t n, cap;
};

struct audit_keys *
audit_keys_new(void)
{
    return calloc(1, sizeof(struct audit_keys));
}

void
audit_keys_destroy(struct audit_keys **k)
{
    if (k == NULL || *k == NULL)
        return;
    for (size_t i = 0; i < (*k)->n; i++) {
        free((*k)->v[i].key_id);
        free((*k)->v[i].agency);
    }
    free((*k)->v);
    free(*k);
    *k = NULL;
}

int
audit_keys_has(const struct audit_keys *k, const char *key_id, const char *agency)
{
    if (k == NULL)
        return 0;
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->v[i].key_id, key_id) == 0 && strcmp(k->v[i].agency, agency) == 0)
            return 1;
    return 0;
}

static int
s_keys_add(struct audit_keys *k, const char *key, const char *agency)
{
    struct s_key_agency *nv;

    if (*key == '\0' || *agency == '\0' || audit_keys_has(k, key, agency))
        return 0;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 16;

        nv = realloc(k->v, cap * sizeof *nv);
        if (nv == NULL)
            return XL_ERR_NOMEM;
        k->v = nv;
        k->cap = cap;
    }
    k->v[k->n].key_id = strdup(key);
    k->v[k->n].agency = strdup(agency);
    if (k->v[k->n].key_id == NULL || k->v[k->n].agency == NULL) {
        free(k->v[k->n].key_id);
        free(k->v[k->n].agency);
        return XL_ERR_NOMEM;
    }
    k->n++;
    return 0;
}

int
audit_keys_learn(struct audit_keys *k, const struct audit_entry *e)
{
    static const char *const lists[] = {"keys_added", "keys_revoked", "keys_removed"};
    const char *key = audit_detail_str(e, "key_id"), *agency = audit_detail_str(e, "agency");
    int r = 0;

    if (strcmp(e->event, "keyring.reload") == 0) {
        for (size_t i = 0; i < sizeof lists / sizeof lists[0] && r == 0; i++) {
            const cJSON *it, *a = cJSON_GetObjectItemCaseSensitive(e->details, lists[i]);

            cJSON_ArrayForEach(it, a)
            {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "key_id"),
                            *role = cJSON_GetObjectItemCaseSensitive(it, "role"),
                            *ag = cJSON_GetObjectItemCaseSensitive(it, "agency");

                if (r == 0 && cJSON_IsString(id) && cJSON_IsString(ag) && cJSON_IsString(role) &&
                    strcmp(role->valuestring, "agent") == 0)
                    r = s_keys_add(k, id->valuestring, ag->valuestring);
            }
        }
        return r;
    }
    if (strcmp(e->event, "submission.begin") != 0 && strcmp(e->event, "submission.commit") != 0)
        return 0;
    if (strcmp(e->role, "agent") != 0 || key == NULL || agency == NULL ||
        strcmp(key, e->actor) != 0)
        return 0;
    return s_keys_add(k, key, agency);
}

/* ---- filters -------------------------------------------------------------------------- */

/* 1 when the entry's details list a dataset of agency (an extract's
 * "datasets"): an extract that drew on an agency's data is about it too, as
 * the linker's own agency filter for auditors has it. */
static int
s_names_dataset_of(const struct audit_entry *e, const char *agency)
{
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(e->details, "datasets"), *it;

    cJSON_ArrayForEach(it, ds)
    {
        const cJSON *ag = cJSON_GetObjectItemCaseSensitive(it, "agency");
        if (cJSON_IsString(ag) && strcmp(ag->valuestring, agency) == 0)
            return 1;
    }
    return 0;
}

int
audit_entry_matches(const struct audit_entry *e, const struct audit_filter *f,
                    const struct audit_keys *keys)
{
    const char *s;

    if (f == NULL)
        return 1;
    if (f->has_since && (e->time < 0 || e->time < f->since))
        return 0;
    if (f->has_until && (e->time < 0 || e->time > f->until))
        return 0;
    if (f->agency != NULL) {
        s = audit_detail_str(e, "agency");
        if (!(s != NULL && strcmp(s, f->agency) == 0) &&
            !audit_keys_has(keys, e->actor, f->agency) && !s_names_dataset_of(e, f->agency))
            return 0;
    }
    if (f->project != NULL) {
        s = audit_detail_str(e, "project");
        if (s == NULL || strcmp(s, f->project) != 0)
            return 0;
    }
    if (f->nevents > 0) {
        size_t i;

        for (i = 0; i < f->nevents; i++)
            if (audit_event_in_class(e->event, f->events[i]))
                break;
        if (i == f->nevents)
            return 0;
    }
    return 1;
}

/* ---- reading -------------------------------------------------------------------------- */

/* The first pass reads the whole log, learning keys and times; the second
 * reads the entries the first counted, and hands those that pass on to fn. */
struct s_pass {
    const struct audit_filter *f;
    struct audit_keys *keys;
    audit_entry_fn fn;
    void *ctx;
    struct audit_log_info *info;
    int second;
};

static int
s_pass(const char *path, struct s_pass *p, char *err, size_t errlen)
{
    struct xl_audit_reader rd;
    const char *line;
    size_t len;
    uint64_t limit = p->info->entries;
    int r;

    r = xl_audit_reader_open(&rd, path, err, errlen);
    if (r != 0)
        return r;
    for (;;) {
        struct audit_entry e;
        cJSON *obj;

        if (p->second && rd.n == limit)
            break;
        r = xl_audit_reader_next(&rd, &line, &len, NULL, err, errlen);
        if (r <= 0)
            break;
        r = audit_entry_parse(line, len, &e, &obj);
        if (r != 0) {
            /* The reader parsed this very line: only memory can fail here. */
            xl_err_set(err, errlen, r, "%s: entry %llu cannot be parsed again (out of memory?)",
                       path, (unsigned long long)rd.n);
            break;
        }
        if (!p->second) {
            r = audit_keys_learn(p->keys, &e);
            if (r != 0)
                xl_err_set(err, errlen, r, "out of memory");
            if (p->info->first < 0)
                p->info->first = e.time;
            p->info->last = e.time;
        } else if (audit_entry_matches(&e, p->f, p->keys)) {
            p->info->matched++;
            if (p->fn != NULL)
                r = p->fn(p->ctx, &e, err, errlen);
        }
        cJSON_Delete(obj);
        if (r != 0)
            break;
    }
    if (r == 0 && !p->second) {
        p->info->entries = rd.n;
        memcpy(p->info->last_hash, rd.last, XL_HASH_BYTES);
    } else if (r == 0 && rd.n != limit) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                       "%s: the log holds %llu entries now, %llu when first read: it was cut "
                       "short or replaced while being read",
                       path, (unsigned long long)rd.n, (unsigned long long)limit);
    }
    xl_audit_reader_close(&rd);
    return r;
}

int
audit_log_each(const char *path, const struct audit_filter *f, audit_entry_fn fn, void *ctx,
               struct audit_log_info *info, char *err, size_t errlen)
{
    struct audit_log_info mine;
    struct s_pass p = {.f = f, .fn = fn, .ctx = ctx, .info = info != NULL ? info : &mine};
    int r;

    memset(p.info, 0, sizeof *p.info);
    p.info->first = p.info->last = -1;
    p.keys = audit_keys_new();
    if (p.keys == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    r = s_pass(path, &p, err, errlen);
    if (r == 0) {
        p.second = 1;
        r = s_pass(path, &p, err, errlen);
    }
    audit_keys_destroy(&p.keys);
    return r;
}
