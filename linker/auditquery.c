#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "admission.h"
#include "auditquery.h"
#include "requests.h"
#include "xl/auditlog.h"
#include "xl/err.h"
#include "xl/log.h"
#include "xl/wire.h"

/* Leaves between two looks at whether the service is stopping, in a proof. */
#define S_STOP_EVERY 0xffffu

enum s_state { S_FREE = 0, S_QUEUED, S_WORKING, S_DONE };

/* A checkpoint request, from the loop to the thread and back. */
struct s_job {
    enum s_state state;
    char key_id[XL_KEYID_HEX + 1];
    uint8_t rid[LINKER_RID_MAX];
    size_t rlen;
    uint64_t request_id;
    int fd;
    uint64_t old_size;
    /* the answer: an encoded envelope, or an error */
    uint8_t *reply;
    size_t replylen;
    int code;
    char msg[XL_ERRBUF];
};

/* The last proof made, for a request repeated (a client that timed out and
 * asked again) while the log has not grown. The thread's alone. */
struct s_last {
    int valid;
    uint64_t old_size, size;
    uint8_t root[XL_HASH_BYTES];
    struct xl_merkle_proof proof;
};

struct linker_auditq {
    struct linker_server *srv;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    struct s_job job[LINKER_AUDITQ_WAITING];
    struct s_last last;
};

/* ---- filters ----------------------------------------------------------------------- */

int
linker_audit_event_matches(const char *filter, const char *event)
{
    size_t n;

    if (filter == NULL || filter[0] == '\0')
        return 1;
    if (event == NULL)
        return 0;
    n = strlen(filter);
    return strncmp(event, filter, n) == 0 && (event[n] == '\0' || event[n] == '.');
}

static int
s_string_is(const cJSON *obj, const char *name, const char *want)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

static int
s_agency_matches(const cJSON *entry, const cJSON *details, const struct linker_audit_filter *f)
{
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(entry, "actor"), *ds;
    char agency[XL_NAME_MAX];

    if (s_string_is(details, "agency", f->agency))
        return 1;
    ds = cJSON_GetObjectItemCaseSensitive(details, "datasets");
    if (cJSON_IsArray(ds)) {
        const cJSON *d;
        cJSON_ArrayForEach(d, ds)
        {
            if (s_string_is(d, "agency", f->agency))
                return 1;
        }
    }
    return f->agency_of != NULL && cJSON_IsString(actor) &&
           f->agency_of(f->ctx, actor->valuestring, agency) == 0 && strcmp(agency, f->agency) == 0;
}

int
linker_audit_entry_matches(const cJSON *entry, const struct linker_audit_filter *f)
{
    const cJSON *event = cJSON_GetObjectItemCaseSensitive(entry, "event");
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(entry, "details");

    if (f->event != NULL && f->event[0] != '\0' &&
        !(cJSON_IsString(event) && linker_audit_event_matches(f->event, event->valuestring)))
        return 0;
    if (f->project != NULL && f->project[0] != '\0' && !s_string_is(details, "project", f->project))
        return 0;
    if (f->agency != NULL && f->agency[0] != '\0' && !s_agency_matches(entry, details, f))
        return 0;
    return 1;
}

static int
s_filtering(const struct linker_audit_filter *f)
{
    return f != NULL && ((f->event != NULL && f->event[0] != '\0') ||
                         (f->agency != NULL && f->agency[0] != '\0') ||
                         (f->project != NULL && f->project[0] != '\0'));
}

/* ---- pages of entries ----------------------------------------------------------------- */

void
linker_audit_page_free(struct linker_audit_page *p)
{
    free(p->buf);
    free(p->entries);
    memset(p, 0, sizeof *p);
}

static int
s_pread_all(int fd, char *buf, size_t len, uint64_t off)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Checks that line is entry seq as the log holds it in memory. */
static int
s_line_check(struct linker_audit *a, uint64_t seq, const char *line, size_t len, char *err,
             size_t errlen)
{
    uint8_t want[XL_HASH_BYTES], got[XL_HASH_BYTES];
    char msg[XL_ERRBUF];

    if (linker_audit_leaf(a, seq - 1, want, msg, sizeof msg) != 0)
        return xl_err_set(err, errlen, XL_ERR_INTERNAL, "%s: entry %llu: %s", linker_audit_path(a),
                          (unsigned long long)seq, msg);
    xl_merkle_leaf_hash(line, len, got);
    if (!xl_equal(want, got, XL_HASH_BYTES))
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "%s: entry %llu is not the entry the linker wrote there: the file was "
                          "changed while the service ran",
                          linker_audit_path(a), (unsigned long long)seq);
    return 0;
}

int
linker_audit_page_read(struct linker_audit *a, uint64_t from, uint64_t to, uint32_t max,
                       size_t max_bytes, const struct linker_audit_filter *f,
                       struct linker_audit_page *p, char *err, size_t errlen)
{
    uint64_t size = linker_audit_size(a), last, off = 0, end = 0, seq;
    size_t len, pos = 0;
    int fd = -1, r = 0, filtering = s_filtering(f);

    memset(p, 0, sizeof *p);
    p->size = size;
    if (from == 0)
        from = 1;
    if (to != 0 && to < from)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "to_seq %llu is before from_seq %llu",
                          (unsigned long long)to, (unsigned long long)from);
    if (max == 0 || max > LINKER_AUDITQ_ENTRIES)
        max = LINKER_AUDITQ_ENTRIES;
    last = to != 0 && to < size ? to : size;
    p->next_seq = from;
    if (from > last)
        return 0; /* nothing there (yet): an empty page */
    if (linker_audit_locate(a, from, &off) != 0 || linker_audit_locate(a, last + 1, &end) != 0 ||
        end < off)
        return xl_err_set(err, errlen, XL_ERR_INTERNAL,
                          "%s: entries %llu to %llu cannot be located", linker_audit_path(a),
                          (unsigned long long)from, (unsigned long long)last);
    /* Enough for max_bytes and for one whole entry, however long: the loop
     * keeps to max_bytes after the first. */
    len = max_bytes > XL_AUDIT_LINE_MAX + 1 ? max_bytes : XL_AUDIT_LINE_MAX + 1;
    if (len > end - off)
        len = (size_t)(end - off);
    p->buf = malloc(len ? len : 1);
    p->entries = calloc(max, sizeof *p->entries);
    if (p->buf == NULL || p->entries == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    errno = 0;
    fd = open(linker_audit_path(a), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || s_pread_all(fd, p->buf, len, off) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot read entries %llu to %llu: %s",
                       linker_audit_path(a), (unsigned long long)from, (unsigned long long)last,
                       errno ? strerror(errno) : "the file is shorter than the log");
        goto out;
    }
    for (seq = from; seq <= last; seq++) {
        char *line = p->buf + pos, *nl = memchr(line, '\n', len - pos);
        size_t n;
        int match = 1;
        if (nl == NULL || (seq > from && pos + (size_t)(nl - line) + 1 > max_bytes))
            break; /* cut by max_bytes: the next page starts there */
        n = (size_t)(nl - line);
        r = s_line_check(a, seq, line, n, err, errlen);
        if (r != 0)
            goto out;
        if (filtering) {
            cJSON *o = cJSON_ParseWithLength(line, n);
            match = o != NULL && linker_audit_entry_matches(o, f);
            cJSON_Delete(o);
        }
        if (match) {
            if (p->n == max)
                break;
            *nl = '\0';
            p->entries[p->n++] = line;
        }
        pos += n + 1;
    }
    if (seq == from && seq <= last) {
        r = xl_err_set(err, errlen, XL_ERR_INTERNAL, "%s: entry %llu has no end within %zu bytes",
                       linker_audit_path(a), (unsigned long long)from, len);
        goto out;
    }
    p->next_seq = seq;
out:
    if (fd >= 0)
        close(fd);
    if (r != 0)
        linker_audit_page_free(p);
    return r;
}

/* ---- the loop's side: entries ------------------------------------------------------------ */

/* The agency of a key in the keyring in force, revoked keys included. */
static int
s_agency_of(void *ctx, const char *key_id, char agency[XL_NAME_MAX])
{
    struct linker_server *srv = ctx;
    struct xl_keyring_entry e;
    const char *why;

    if (strlen(key_id) != XL_KEYID_HEX)
        return -1; /* "linker", "-" */
    memset(&e, 0, sizeof e);
    (void)linker_admission_key(srv->adm, key_id, &e, &why);
    if (e.key_id[0] == '\0')
        return -1; /* no longer in the keyring */
    snprintf(agency, XL_NAME_MAX, "%s", e.agency);
    return 0;
}

static void
s_send_env(struct linker_server *srv, const void *rid, size_t rlen, xl_envelope *env,
           struct linker_answer *res)
{
    uint8_t *out = NULL;
    size_t outlen = 0;

    if (xl_wire_encode(env, &out, &outlen) != 0) {
        linker_answer_fail(res, XL_ERR_NOMEM, "out of memory at the linker");
        return;
    }
    linker_send(srv, rid, rlen, out, outlen);
    free(out);
    res->kind = LINKER_REPLY_LATER; /* answered */
}

static void
s_entries(struct linker_auditq *q, const struct linker_actor *who, const void *rid, size_t rlen,
          uint64_t request_id, const Crosslink__AuditQuery *aq, struct linker_answer *res)
{
    struct linker_server *srv = q->srv;
    struct linker_audit_filter f = {aq->event, aq->agency, aq->project, s_agency_of, srv};
    struct linker_audit_page p;
    xl_envelope env = CROSSLINK__ENVELOPE__INIT;
    Crosslink__AuditEntries ae = CROSSLINK__AUDIT_ENTRIES__INIT;
    size_t max_bytes = LINKER_AUDITQ_BYTES;
    char err[XL_ERRBUF];
    int r;

    /* The reply stays within what the linker itself accepts as a message. */
    if (srv->ctx.cfg.max_message < max_bytes + LINKER_AUDITQ_OVERHEAD)
        max_bytes = srv->ctx.cfg.max_message > 2 * LINKER_AUDITQ_OVERHEAD
                        ? srv->ctx.cfg.max_message - LINKER_AUDITQ_OVERHEAD
                        : LINKER_AUDITQ_OVERHEAD;
    r = linker_audit_page_read(srv->ctx.audit, aq->from_seq, aq->to_seq, aq->max_entries, max_bytes,
                               &f, &p, err, sizeof err);
    if (r == XL_ERR_FORMAT) {
        linker_answer_fail(res, r, "%s", err);
        return;
    }
    if (r != 0) {
        xl_error("audit entries for key %s: %s", who->key_id, err);
        linker_answer_fail(res, XL_ERR_INTERNAL,
                           "the linker cannot read its audit log back; the operator's log says "
                           "why");
        return;
    }
    xl_debug("audit entries for key %s: %zu of %llu..%llu, log of %llu", who->key_id, p.n,
             (unsigned long long)(aq->from_seq ? aq->from_seq : 1),
             (unsigned long long)p.next_seq - 1, (unsigned long long)p.size);
    env.request_id = request_id;
    env.body_case = CROSSLINK__ENVELOPE__BODY_AUDIT_ENTRIES;
    env.audit_entries = &ae;
    ae.entries = p.entries;
    ae.n_entries = p.n;
    ae.next_seq = p.next_seq;
    ae.size = p.size;
    s_send_env(srv, rid, rlen, &env, res);
    linker_audit_page_free(&p);
}

/* ---- the thread: checkpoints and proofs ------------------------------------------------ */

static int
s_stopping(struct linker_auditq *q)
{
    int stop;

    pthread_mutex_lock(&q->lock);
    stop = q->stop;
    pthread_mutex_unlock(&q->lock);
    return stop;
}

/* The log's leaves for the proof, giving up when the service stops. */
static int
s_leaf(void *ctx, uint64_t index, uint8_t out[XL_HASH_BYTES], char *err, size_t errlen)
{
    struct linker_auditq *q = ctx;

    if ((index & S_STOP_EVERY) == S_STOP_EVERY && s_stopping(q))
        return xl_err_set(err, errlen, XL_ERR_UNAVAILABLE, "the linker is stopping");
    return linker_audit_leaf(q->srv->ctx.audit, index, out, err, errlen);
}

static void s_job_fail(struct s_job *j, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_job_fail(struct s_job *j, int code, const char *fmt, ...)
{
    va_list ap;

    j->code = code;
    va_start(ap, fmt);
    vsnprintf(j->msg, sizeof j->msg, fmt, ap);
    va_end(ap);
}

/* When the latest checkpoint was signed: the log appends each one it signs to
 * <log>.checkpoints, so that file's last change. 0 when it cannot be told. */
static int64_t
s_signed_at(const struct linker_audit *a)
{
    char path[LINKER_PATH_MAX + sizeof XL_AUDIT_CHECKPOINTS_SUFFIX];
    struct stat st;

    if ((size_t)snprintf(path, sizeof path, "%s" XL_AUDIT_CHECKPOINTS_SUFFIX,
                         linker_audit_path(a)) >= sizeof path ||
        stat(path, &st) != 0)
        return 0;
    return (int64_t)st.st_mtime;
}

/* The checkpoint and proof of job j, into j's answer. */
static void
s_checkpoint(struct linker_auditq *q, struct s_job *j)
{
    struct linker_audit *a = q->srv->ctx.audit;
    xl_envelope env = CROSSLINK__ENVELOPE__INIT;
    Crosslink__AuditCheckpoint ac = CROSSLINK__AUDIT_CHECKPOINT__INIT;
    ProtobufCBinaryData hashes[XL_MERKLE_PROOF_MAX];
    struct xl_checkpoint cp;
    struct s_last *last = &q->last;
    char *note = NULL, err[XL_ERRBUF];
    size_t notelen = 0;
    int r;

    r = linker_audit_checkpoint(a, &note, &notelen, &cp, err, sizeof err);
    if (r != 0) {
        xl_error("audit checkpoint for key %s: %s", j->key_id, err);
        s_job_fail(j, r == XL_ERR_NOSPACE || r == XL_ERR_IO ? XL_ERR_UNAVAILABLE : XL_ERR_INTERNAL,
                   "the linker cannot sign a checkpoint of its audit log now; the operator's log "
                   "says why");
        return;
    }
    if (j->old_size > cp.size) {
        s_job_fail(j, XL_ERR_MISMATCH,
                   "old_size %llu is larger than the log's latest checkpoint of %llu entries: "
                   "the checkpoint it comes from is not of this log as it is now",
                   (unsigned long long)j->old_size, (unsigned long long)cp.size);
        free(note);
        return;
    }
    if (j->old_size > 0 &&
        !(last->valid && last->old_size == j->old_size && last->size == cp.size &&
          xl_equal(last->root, cp.root, XL_HASH_BYTES))) {
        last->valid = 0;
        r = xl_merkle_consistency_proof(j->old_size, cp.size, s_leaf, q, &last->proof, err,
                                        sizeof err);
        if (r != 0) {
            if (r != XL_ERR_UNAVAILABLE)
                xl_error("audit consistency proof %llu -> %llu for key %s: %s",
                         (unsigned long long)j->old_size, (unsigned long long)cp.size, j->key_id,
                         err);
            s_job_fail(j, r == XL_ERR_UNAVAILABLE ? r : XL_ERR_INTERNAL,
                       r == XL_ERR_UNAVAILABLE ? "the linker is stopping; ask again later"
                                               : "the linker cannot make the consistency proof; "
                                                 "the operator's log says why");
            free(note);
            return;
        }
        last->valid = 1;
        last->old_size = j->old_size;
        last->size = cp.size;
        memcpy(last->root, cp.root, XL_HASH_BYTES);
    }
    env.request_id = j->request_id;
    env.body_case = CROSSLINK__ENVELOPE__BODY_AUDIT_CHECKPOINT;
    env.audit_checkpoint = &ac;
    ac.size = cp.size;
    ac.root.data = cp.root;
    ac.root.len = XL_HASH_BYTES;
    ac.time = s_signed_at(a);
    ac.note.data = (uint8_t *)note;
    ac.note.len = notelen;
    ac.old_size = j->old_size;
    if (j->old_size > 0) {
        for (size_t i = 0; i < last->proof.n; i++) {
            hashes[i].data = last->proof.hash[i];
            hashes[i].len = XL_HASH_BYTES;
        }
        ac.consistency = hashes;
        ac.n_consistency = last->proof.n;
    }
    if (xl_wire_encode(&env, &j->reply, &j->replylen) != 0)
        s_job_fail(j, XL_ERR_NOMEM, "out of memory at the linker");
    free(note);
}

static void *
s_worker(void *arg)
{
    struct linker_auditq *q = arg;

    pthread_mutex_lock(&q->lock);
    while (!q->stop) {
        struct s_job *j = NULL;
        for (size_t i = 0; i < LINKER_AUDITQ_WAITING && j == NULL; i++) {
            if (q->job[i].state == S_QUEUED)
                j = &q->job[i];
        }
        if (j == NULL) {
            pthread_cond_wait(&q->wake, &q->lock);
            continue;
        }
        j->state = S_WORKING;
        pthread_mutex_unlock(&q->lock);
        s_checkpoint(q, j);
        pthread_mutex_lock(&q->lock);
        j->state = S_DONE;
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

/* ---- the loop's side: checkpoints ----------------------------------------------------------- */

struct linker_auditq *
linker_auditq_new(struct linker_server *srv, char *err, size_t errlen)
{
    struct linker_auditq *q = calloc(1, sizeof *q);

    if (q == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    q->srv = srv;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    if (pthread_create(&q->thread, NULL, s_worker, q) != 0) {
        xl_err_set(err, errlen, XL_ERR_INTERNAL, "cannot start the audit checkpoint thread");
        linker_auditq_destroy(&q);
        return NULL;
    }
    q->started = 1;
    return q;
}

/* Sends job j's answer (or, when it has none, an UNAVAILABLE saying why) and
 * frees the slot. */
static void
s_answer(struct linker_auditq *q, struct s_job *j, const char *why)
{
    struct linker_answer res;

    if (j->state == S_DONE && j->code == 0 && j->reply != NULL) {
        linker_send(q->srv, j->rid, j->rlen, j->reply, j->replylen);
    } else {
        memset(&res, 0, sizeof res);
        if (j->state == S_DONE)
            linker_answer_set(&res, j->code, "%s", j->msg);
        else
            linker_answer_set(&res, XL_ERR_UNAVAILABLE, "%s", why);
        linker_reply(q->srv, j->rid, j->rlen, j->request_id, &res);
        linker_answer_clear(&res);
    }
    linker_admission_busy(q->srv->adm, j->fd, 0);
    free(j->reply);
    memset(j, 0, sizeof *j);
}

void
linker_auditq_destroy(struct linker_auditq **qp)
{
    struct linker_auditq *q;

    if (qp == NULL || *qp == NULL)
        return;
    q = *qp;
    if (q->started) {
        pthread_mutex_lock(&q->lock);
        q->stop = 1;
        pthread_cond_signal(&q->wake);
        pthread_mutex_unlock(&q->lock);
        pthread_join(q->thread, NULL);
    }
    for (size_t i = 0; i < LINKER_AUDITQ_WAITING; i++) {
        if (q->job[i].state != S_FREE)
            s_answer(q, &q->job[i], "the linker is stopping; ask again later");
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->wake);
    free(q);
    *qp = NULL;
}

void
linker_auditq_tick(struct linker_auditq *q)
{
    pthread_mutex_lock(&q->lock);
    for (size_t i = 0; i < LINKER_AUDITQ_WAITING; i++) {
        if (q->job[i].state == S_DONE)
            s_answer(q, &q->job[i], NULL);
    }
    pthread_mutex_unlock(&q->lock);
}

static void
s_queue(struct linker_auditq *q, const struct linker_actor *who, const void *rid, size_t rlen,
        uint64_t request_id, int fd, uint64_t old_size, struct linker_answer *res)
{
    struct s_job *j = NULL;
    size_t mine = 0;

    pthread_mutex_lock(&q->lock);
    for (size_t i = 0; i < LINKER_AUDITQ_WAITING; i++) {
        if (q->job[i].state == S_FREE) {
            if (j == NULL)
                j = &q->job[i];
        } else if (strcmp(q->job[i].key_id, who->key_id) == 0) {
            mine++;
        }
    }
    if (mine >= LINKER_AUDITQ_PER_KEY) {
        pthread_mutex_unlock(&q->lock);
        linker_answer_fail(res, XL_ERR_UNAVAILABLE,
                           "key %s already waits for %zu checkpoints; wait for them", who->key_id,
                           mine);
        return;
    }
    if (j == NULL) {
        pthread_mutex_unlock(&q->lock);
        linker_answer_fail(res, XL_ERR_UNAVAILABLE,
                           "the linker is answering as many checkpoint requests as it can; try "
                           "again in a moment");
        return;
    }
    snprintf(j->key_id, sizeof j->key_id, "%s", who->key_id);
    memcpy(j->rid, rid, rlen);
    j->rlen = rlen;
    j->request_id = request_id;
    j->fd = fd;
    j->old_size = old_size;
    j->state = S_QUEUED;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    linker_admission_busy(q->srv->adm, fd, 1);
    res->kind = LINKER_REPLY_LATER;
}

static int
s_filter_ok(const char *name, const char *v, struct linker_answer *res)
{
    if (v == NULL || strlen(v) <= LINKER_AUDITQ_FILTER_MAX)
        return 1;
    linker_answer_fail(res, XL_ERR_FORMAT, "the %s filter is longer than %u bytes", name,
                       LINKER_AUDITQ_FILTER_MAX);
    return 0;
}

static int
s_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

void
linker_audit_query(struct linker_auditq *q, const struct linker_actor *who, const void *rid,
                   size_t rlen, uint64_t request_id, int fd, const Crosslink__AuditQuery *aq,
                   struct linker_answer *res)
{
    if (aq->checkpoint) {
        if (aq->from_seq != 0 || aq->to_seq != 0 || aq->max_entries != 0 || s_set(aq->event) ||
            s_set(aq->agency) || s_set(aq->project)) {
            linker_answer_fail(res, XL_ERR_FORMAT,
                               "a checkpoint request takes old_size only, no range or filter");
            return;
        }
        s_queue(q, who, rid, rlen, request_id, fd, aq->old_size, res);
        return;
    }
    if (aq->old_size != 0) {
        linker_answer_fail(res, XL_ERR_FORMAT, "old_size goes with a checkpoint request");
        return;
    }
    if (!s_filter_ok("event", aq->event, res) || !s_filter_ok("agency", aq->agency, res) ||
        !s_filter_ok("project", aq->project, res))
        return;
    s_entries(q, who, rid, rlen, request_id, aq, res);
}
