#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include "ingest.h"
#include "link.h"
#include "server.h"
#include "xl/err.h"
#include "xl/log.h"
#include "xl/wire.h"

/* A draft option in libzmq 4.3's header, present in the library; without it a
 * CURVE handshake would succeed when no ZAP handler answers. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_ZAP_DOMAIN   "crosslink"
#define S_POLL_MS      200
/* Refusals of one key and kind are audited at most once per window, with a
 * count of those left out, so a revoked agent that keeps reconnecting cannot
 * flood the audit log. */
#define S_LIMIT_WINDOW     60
#define S_LIMIT_SLOTS      128
#define S_LIMIT_PER_SECOND 10
/* Messages handled before the loop looks at signals again. */
#define S_BATCH 64

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_hup;

/* A bump allocator for decoding requests: a chunk of a thousand records
 * unpacks into some fifteen thousand small allocations, which malloc and free
 * would spend more time on than the rest of the chunk's handling. Reset per
 * message; what does not fit goes to malloc. */
struct s_arena {
    uint8_t *base;
    size_t cap, used;
};

#define S_ARENA_KEEP (16u * 1024 * 1024) /* larger arenas are released after use */

struct s_limit_slot {
    char key[64];
    time_t last;
    uint64_t suppressed;
};

struct s_server {
    struct linker_ctx ctx;
    pthread_mutex_t kr_lock; /* guards kr: the ZAP thread reads it, SIGHUP replaces it */
    struct xl_keyring *kr;
    pthread_mutex_t limit_lock;
    struct s_limit_slot limit[S_LIMIT_SLOTS];
    time_t limit_second;
    unsigned limit_count;
    uint64_t limit_overflow;
    void *zctx;
    void *zap;
    void *router;
    pthread_t zap_thread;
    int zap_started;
    atomic_int zap_stop;
    atomic_int zap_alive;
    uint64_t requests, refused, dropped;
    struct s_arena arena;
    /* Link runs after commits: a child process (`crosslink-linker link`) started
     * once the service has been idle for a moment, so ingest never waits. */
    const char *conf_path;
    int link_pending;
    pid_t link_child;
    double last_request;
};

/* Seconds without requests before a link run starts after commits. */
#define S_LINK_IDLE 2.0

static double
s_monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
s_on_signal(int sig)
{
    if (sig == SIGHUP)
        s_hup = 1;
    else
        s_stop = 1;
}

void
linker_keyring_count(const struct xl_keyring *kr, struct linker_keyring_counts *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; kr != NULL && i < kr->count; i++) {
        c->entries++;
        if (kr->entries[i].active) {
            c->active++;
            if (kr->entries[i].role == XL_ROLE_AGENT)
                c->agents++;
        } else {
            c->revoked++;
        }
    }
}

const struct xl_keyring_entry *
linker_keyring_by_id(const struct xl_keyring *kr, const char *id)
{
    for (size_t i = 0; kr != NULL && id != NULL && i < kr->count; i++) {
        if (strcmp(kr->entries[i].key_id, id) == 0)
            return &kr->entries[i];
    }
    return NULL;
}

/* 1 when a refusal for key should be audited now; *suppressed receives how
 * many of its kind were left out since the last one audited, *others how many
 * refusals of any key were left out because more than S_LIMIT_PER_SECOND came
 * in one second (many keys, each new, would otherwise each get an entry). */
static int
s_limit(struct s_server *srv, const char *kind, const char *id, uint64_t *suppressed,
        uint64_t *others)
{
    char key[64];
    time_t now = time(NULL);
    struct s_limit_slot *slot = NULL, *oldest = &srv->limit[0];
    int log = 0;

    snprintf(key, sizeof key, "%s/%s", kind, id);
    *suppressed = 0;
    *others = 0;
    pthread_mutex_lock(&srv->limit_lock);
    for (size_t i = 0; i < S_LIMIT_SLOTS; i++) {
        if (strcmp(srv->limit[i].key, key) == 0) {
            slot = &srv->limit[i];
            break;
        }
        if (srv->limit[i].last < oldest->last)
            oldest = &srv->limit[i];
    }
    if (slot != NULL && now - slot->last < S_LIMIT_WINDOW) {
        slot->suppressed++;
    } else if (now == srv->limit_second && srv->limit_count >= S_LIMIT_PER_SECOND) {
        srv->limit_overflow++;
    } else {
        if (now != srv->limit_second) {
            srv->limit_second = now;
            srv->limit_count = 0;
        }
        srv->limit_count++;
        if (slot == NULL) {
            slot = oldest;
            snprintf(slot->key, sizeof slot->key, "%s", key);
            slot->suppressed = 0;
        }
        *suppressed = slot->suppressed;
        *others = srv->limit_overflow;
        slot->last = now;
        slot->suppressed = 0;
        srv->limit_overflow = 0;
        log = 1;
    }
    pthread_mutex_unlock(&srv->limit_lock);
    return log;
}

static void
s_audit(struct s_server *srv, const char *actor, const char *role, const char *event, cJSON *d)
{
    char err[XL_ERRBUF];

    if (linker_audit_append(srv->ctx.audit, 0, actor, role, event, d, NULL, err, sizeof err) != 0)
        xl_error("audit: %s", err);
}

/* ---- ZAP handler (RFC 27) ------------------------------------------------ */

#define S_ZAP_MAX_FRAMES 8

static int
s_frame_is(zmq_msg_t *m, const char *s)
{
    size_t n = strlen(s);

    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

static void
s_zap_reply(void *sock, zmq_msg_t *reqid, const char *status, const char *text, const char *user)
{
    /* A REP socket must answer every request, or it stops receiving. */
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    if (reqid != NULL)
        zmq_send(sock, zmq_msg_data(reqid), zmq_msg_size(reqid), ZMQ_SNDMORE);
    else
        zmq_send(sock, "", 0, ZMQ_SNDMORE);
    zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

static void
s_zap_refused(struct s_server *srv, const char *key_id, const char *role, const char *mechanism,
              const char *reason)
{
    uint64_t suppressed, others;
    cJSON *d;

    if (!s_limit(srv, "connection", key_id, &suppressed, &others))
        return;
    xl_warn("connection refused: key %s: %s", key_id, reason);
    d = cJSON_CreateObject();
    if (d != NULL) {
        cJSON_AddStringToObject(d, "key_id", key_id);
        cJSON_AddStringToObject(d, "mechanism", mechanism);
        cJSON_AddStringToObject(d, "reason", reason);
        if (suppressed > 0)
            cJSON_AddNumberToObject(d, "repeats_not_logged", (double)suppressed);
        if (others > 0)
            cJSON_AddNumberToObject(d, "others_not_logged", (double)others);
    }
    s_audit(srv, key_id, role, "connection.refused", d);
}

static void
s_zap_handle(struct s_server *srv)
{
    zmq_msg_t f[S_ZAP_MAX_FRAMES];
    size_t n = 0, total = 0;
    char key_id[XL_KEYID_HEX + 1] = "-", user[XL_KEYID_HEX + 1] = "";
    const char *reason = NULL, *mech = "unknown";
    struct xl_keyring_entry e;
    int more = 1, found = 0;

    memset(&e, 0, sizeof e);
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, srv->zap, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        total++;
        if (n < S_ZAP_MAX_FRAMES) {
            zmq_msg_init(&f[n]);
            zmq_msg_move(&f[n++], &m);
        }
        zmq_msg_close(&m);
    }
    if (total == 0)
        return;
    /* version, request id, domain, address, routing id, mechanism, credentials */
    if (n < 6 || !s_frame_is(&f[0], "1.0")) {
        reason = "malformed ZAP request";
    } else if (!s_frame_is(&f[2], S_ZAP_DOMAIN)) {
        reason = "wrong ZAP domain";
    } else if (!s_frame_is(&f[5], "CURVE")) {
        mech = s_frame_is(&f[5], "NULL") ? "NULL" : s_frame_is(&f[5], "PLAIN") ? "PLAIN" : "other";
        reason = "not a CURVE connection";
    } else if (total != 7 || zmq_msg_size(&f[6]) != XL_KEY_BYTES) {
        mech = "CURVE";
        reason = "malformed CURVE credentials";
    } else {
        const struct xl_keyring_entry *p;
        mech = "CURVE";
        xl_key_id(zmq_msg_data(&f[6]), XL_KEY_BYTES, key_id);
        pthread_mutex_lock(&srv->kr_lock);
        p = xl_keyring_find_pk(srv->kr, zmq_msg_data(&f[6]));
        if (p != NULL) {
            e = *p;
            found = 1;
        }
        pthread_mutex_unlock(&srv->kr_lock);
        if (!found)
            reason = "key not in the keyring";
        else if (!e.active)
            reason = "key revoked";
        else
            snprintf(user, sizeof user, "%s", e.key_id);
    }
    if (reason == NULL) {
        xl_debug("connection admitted: key %s (%s, %s)", user, xl_role_name(e.role), e.agency);
        s_zap_reply(srv->zap, n > 1 ? &f[1] : NULL, "200", "OK", user);
    } else {
        s_zap_reply(srv->zap, n > 1 ? &f[1] : NULL, "400", reason, "");
        s_zap_refused(srv, key_id, found ? xl_role_name(e.role) : "unknown", mech, reason);
    }
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

static void *
s_zap_main(void *arg)
{
    struct s_server *srv = arg;

    while (!atomic_load(&srv->zap_stop)) {
        zmq_pollitem_t it = {srv->zap, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&it, 1, S_POLL_MS);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            xl_error("ZAP handler: %s", zmq_strerror(errno));
            break;
        }
        if (rc > 0 && (it.revents & ZMQ_POLLIN))
            s_zap_handle(srv);
    }
    atomic_store(&srv->zap_alive, 0);
    return NULL;
}

/* ---- requests ------------------------------------------------------------ */

static void *
s_arena_alloc(void *arg, size_t n)
{
    struct s_arena *a = arg;
    size_t need = (n + 15) & ~(size_t)15;

#ifdef __SANITIZE_ADDRESS__
    /* Under AddressSanitizer every allocation stays visible to it. */
    return malloc(n);
#endif
    if (need >= n && a->base != NULL && need <= a->cap - a->used) {
        void *p = a->base + a->used;
        a->used += need;
        return p;
    }
    return malloc(n);
}

static void
s_arena_free(void *arg, void *p)
{
    struct s_arena *a = arg;
    uintptr_t u = (uintptr_t)p, b = (uintptr_t)a->base;

    if (p != NULL && (a->base == NULL || u < b || u >= b + a->cap))
        free(p);
}

/* Makes room for decoding a message of len bytes (its records take some three
 * times their wire size in memory). Failure leaves a smaller arena: the
 * allocator then falls back to malloc. */
static void
s_arena_reset(struct s_arena *a, size_t len)
{
    size_t want = 4 * len + 4096;

    a->used = 0;
    if (want > a->cap) {
        uint8_t *p = malloc(want);
        if (p != NULL) {
            free(a->base);
            a->base = p;
            a->cap = want;
        }
    }
}

static void
s_arena_trim(struct s_arena *a)
{
    if (a->cap > S_ARENA_KEEP) {
        free(a->base);
        a->base = NULL;
        a->cap = 0;
    }
    a->used = 0;
}

/* xl_wire_decode with the arena: the same limits, checks, codes and messages. */
static int
s_decode(struct s_server *srv, const uint8_t *buf, size_t len, xl_envelope **out, char *err,
         size_t errlen)
{
    ProtobufCAllocator alloc = {s_arena_alloc, s_arena_free, &srv->arena};
    size_t max = srv->ctx.cfg.max_message;
    xl_envelope *env;

    *out = NULL;
    if (len > max)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG,
                          "message of %zu bytes exceeds the limit of %zu", len, max);
    s_arena_reset(&srv->arena, len);
    env = crosslink__envelope__unpack(&alloc, len, buf);
    if (env == NULL)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "malformed message (%zu bytes)", len);
    if (env->version != XL_WIRE_VERSION) {
        unsigned v = env->version;
        crosslink__envelope__free_unpacked(env, &alloc);
        return xl_err_set(err, errlen, XL_ERR_VERSION,
                          "unsupported protocol version %u (this side speaks %d)", v,
                          XL_WIRE_VERSION);
    }
    if (env->body_case == CROSSLINK__ENVELOPE__BODY__NOT_SET) {
        crosslink__envelope__free_unpacked(env, &alloc);
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "message has no body");
    }
    *out = env;
    return 0;
}

static void
s_decode_free(struct s_server *srv, xl_envelope **env)
{
    ProtobufCAllocator alloc = {s_arena_alloc, s_arena_free, &srv->arena};

    if (*env != NULL)
        crosslink__envelope__free_unpacked(*env, &alloc);
    *env = NULL;
    s_arena_trim(&srv->arena);
}

static void
s_error_reply(struct linker_answer *res, int code, const char *msg)
{
    res->kind = LINKER_REPLY_ERROR;
    res->code = code;
    snprintf(res->msg, sizeof res->msg, "%s", msg);
}

/* The keyring entry of the message's sender, as the keyring is now. */
static int
s_sender(struct s_server *srv, const char *user_id, struct xl_keyring_entry *e,
         struct linker_answer *res)
{
    const struct xl_keyring_entry *p;
    const char *reason = NULL, *role = "unknown";
    uint64_t suppressed, others;
    cJSON *d;

    if (user_id == NULL || strlen(user_id) != XL_KEYID_HEX) {
        s_error_reply(res, XL_ERR_DENIED, "unauthenticated connection");
        reason = "no authenticated key";
        user_id = "-";
    } else {
        pthread_mutex_lock(&srv->kr_lock);
        p = linker_keyring_by_id(srv->kr, user_id);
        if (p != NULL)
            *e = *p;
        pthread_mutex_unlock(&srv->kr_lock);
        if (p == NULL)
            reason = "key no longer in the keyring";
        else if (!e->active)
            reason = "key revoked";
        role = p != NULL ? xl_role_name(e->role) : "unknown";
        if (reason != NULL)
            s_error_reply(res, XL_ERR_DENIED, reason);
    }
    if (reason == NULL)
        return 0;
    srv->refused++;
    if (s_limit(srv, "request", user_id, &suppressed, &others)) {
        xl_warn("request refused: key %s: %s", user_id, reason);
        d = cJSON_CreateObject();
        if (d != NULL) {
            cJSON_AddStringToObject(d, "key_id", user_id);
            cJSON_AddStringToObject(d, "reason", reason);
            if (suppressed > 0)
                cJSON_AddNumberToObject(d, "repeats_not_logged", (double)suppressed);
            if (others > 0)
                cJSON_AddNumberToObject(d, "others_not_logged", (double)others);
        }
        s_audit(srv, user_id, role, "request.refused", d);
    }
    return XL_ERR_DENIED;
}

/* An admin's link request: the run happens here and now (the service answers
 * other requests once it is done; agents resume after their timeout). */
static void
s_link_request(struct s_server *srv, const struct linker_actor *who,
               const Crosslink__LinkRequest *q, struct linker_answer *res)
{
    struct linker_link_summary sum;
    char err[XL_ERRBUF], *text = NULL;
    size_t textlen = 0;
    FILE *report = NULL;

    if (who->role != XL_ROLE_ADMIN) {
        s_error_reply(res, XL_ERR_DENIED, "only an admin key may start a link run");
        s_audit(srv, who->key_id, xl_role_name(who->role), "request.refused",
                cJSON_CreateString("link request from a key that is not an admin's"));
        return;
    }
    if (q->report)
        report = open_memstream(&text, &textlen);
    if (linker_link(&srv->ctx, who->key_id, "admin", report, &sum, err, sizeof err) != 0) {
        if (report != NULL)
            fclose(report);
        free(text);
        xl_error("link run failed: %s", err);
        s_error_reply(res, XL_ERR_INTERNAL, "the link run failed; see the linker's log");
        return;
    }
    if (report != NULL)
        fclose(report);
    xl_info("link run %lld (admin %s): %llu records, %llu clusters", (long long)sum.run,
            who->key_id, (unsigned long long)sum.records, (unsigned long long)sum.clusters);
    res->kind = LINKER_REPLY_LINK;
    res->link_run = (uint64_t)sum.run;
    res->link_records = sum.records;
    res->link_links = sum.links;
    res->link_clusters = sum.clusters;
    res->link_conflicts = sum.conflicts;
    res->link_text = text;
    srv->link_pending = 0;
}

/* Starts `crosslink-linker link` for the commits since the last run, when none
 * is running; reaps a finished one. */
static void
s_link_after_commits(struct s_server *srv, double now)
{
    int status;

    if (srv->link_child > 0 && waitpid(srv->link_child, &status, WNOHANG) == srv->link_child) {
        char err[XL_ERRBUF];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            xl_error("the link run after commits failed (see its message above)");
        srv->link_child = 0;
        /* The run read the database: now the log can be copied in and truncated. */
        if (linker_store_checkpoint(srv->ctx.store, err, sizeof err) != 0)
            xl_warn("%s", err);
    }
    if (!srv->link_pending || srv->link_child > 0 || now - srv->last_request < S_LINK_IDLE)
        return;
    {
        char err[XL_ERRBUF];
        /* Idle after commits: the moment to copy the WAL into the database. */
        if (linker_store_checkpoint(srv->ctx.store, err, sizeof err) != 0)
            xl_warn("%s", err);
    }
    {
        char *argv[] = {"crosslink-linker", "link", "-c", (char *)srv->conf_path, NULL};
        pid_t pid;
        if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0) {
            xl_error("cannot start a link run: %s", strerror(errno));
            return;
        }
        srv->link_child = pid;
        srv->link_pending = 0;
        xl_info("link run started after commits (process %ld)", (long)pid);
    }
}

static void
s_dispatch(struct s_server *srv, const struct xl_keyring_entry *e, const xl_envelope *env,
           struct linker_answer *res)
{
    struct linker_actor who;

    memset(&who, 0, sizeof who);
    snprintf(who.key_id, sizeof who.key_id, "%s", e->key_id);
    who.role = e->role;
    snprintf(who.agency, sizeof who.agency, "%s", e->agency);
    who.audit_actor = who.key_id;
    who.audit_role = xl_role_name(e->role);
    who.source = "network";

    switch (env->body_case) {
    case CROSSLINK__ENVELOPE__BODY_SUBMIT_BEGIN:
        linker_begin(&srv->ctx, &who, env->submit_begin, res);
        break;
    case CROSSLINK__ENVELOPE__BODY_SUBMIT_CHUNK: {
        const Crosslink__SubmitChunk *c = env->submit_chunk;
        struct linker_records recs = {.records = c->records, .n = c->n_records};
        static Crosslink__Record *const none[1];
        if (recs.records == NULL)
            recs.records = none; /* no records: refused as such, not read as packed data */
        linker_chunk(&srv->ctx, &who, c->submission_id.data, c->submission_id.len, c->seq, &recs,
                     res);
        break;
    }
    case CROSSLINK__ENVELOPE__BODY_SUBMIT_COMMIT: {
        const Crosslink__SubmitCommit *c = env->submit_commit;
        linker_commit(&srv->ctx, &who, c->submission_id.data, c->submission_id.len, c->record_count,
                      c->content_hash.data, c->content_hash.len, res);
        if (res->kind == LINKER_REPLY_RECEIPT && res->what != NULL &&
            strcmp(res->what, "committed") == 0)
            srv->link_pending = 1;
        break;
    }
    case CROSSLINK__ENVELOPE__BODY_LINK_REQUEST:
        s_link_request(srv, &who, env->link_request, res);
        break;
    default: {
        char msg[128];
        snprintf(msg, sizeof msg, "the linker does not serve %s messages", xl_wire_body_name(env));
        s_error_reply(res, XL_ERR_FORMAT, msg);
        xl_warn("key %s sent a %s message: refused", e->key_id, xl_wire_body_name(env));
        break;
    }
    }
}

/* Packs the reply to res into *out (malloc'd). */
static int
s_encode_reply(uint64_t request_id, const struct linker_answer *res, uint8_t **out, size_t *outlen)
{
    Crosslink__Envelope env = CROSSLINK__ENVELOPE__INIT;
    Crosslink__SubmitAck ack = CROSSLINK__SUBMIT_ACK__INIT;
    Crosslink__Error e = CROSSLINK__ERROR__INIT;
    Crosslink__LinkReport lr = CROSSLINK__LINK_REPORT__INIT;
    Crosslink__Receipt *rc = NULL;
    uint8_t id[LINKER_SUBID_BYTES];
    char msg[XL_ERRBUF];
    int r;

    env.request_id = request_id;
    switch (res->kind) {
    case LINKER_REPLY_ACK:
        memcpy(id, res->id, sizeof id);
        ack.submission_id.data = id;
        ack.submission_id.len = sizeof id;
        ack.next_seq = res->next_seq;
        ack.credit = res->credit;
        ack.records_stored = res->records_stored;
        env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_ACK;
        env.submit_ack = &ack;
        break;
    case LINKER_REPLY_LINK:
        lr.run_id = res->link_run;
        lr.epoch = 0;
        lr.records = res->link_records;
        lr.links = res->link_links;
        lr.clusters = res->link_clusters;
        lr.conflicts = res->link_conflicts;
        lr.text = res->link_text;
        env.body_case = CROSSLINK__ENVELOPE__BODY_LINK_REPORT;
        env.link_report = &lr;
        break;
    case LINKER_REPLY_RECEIPT:
        rc = crosslink__receipt__unpack(NULL, res->receiptlen, res->receipt);
        if (rc != NULL) {
            env.body_case = CROSSLINK__ENVELOPE__BODY_RECEIPT;
            env.receipt = rc;
            break;
        }
        xl_error("a stored receipt does not parse");
        /* answer with an error rather than nothing */
        __attribute__((fallthrough));
    case LINKER_REPLY_ERROR:
    default:
        snprintf(msg, sizeof msg, "%s",
                 res->kind == LINKER_REPLY_ERROR ? res->msg : "internal error at the linker");
        e.code = res->kind == LINKER_REPLY_ERROR ? linker_error_code(res->code)
                                                 : CROSSLINK__ERROR__CODE__INTERNAL;
        e.message = msg;
        env.body_case = CROSSLINK__ENVELOPE__BODY_ERROR;
        env.error = &e;
        break;
    }
    r = xl_wire_encode(&env, out, outlen);
    if (rc != NULL)
        crosslink__receipt__free_unpacked(rc, NULL);
    return r;
}

/* Receives and answers one message. Returns 1 if one was handled, 0 if none was waiting. */
static int
s_handle_one(struct s_server *srv)
{
    zmq_msg_t part[2];
    size_t n = 0, total = 0;
    struct linker_answer res;
    struct xl_keyring_entry e;
    xl_envelope *env = NULL;
    uint64_t request_id = 0;
    uint8_t *out = NULL;
    size_t outlen = 0;
    char err[XL_ERRBUF];
    int more = 1, r;

    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, srv->router, total == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            if (total == 0)
                return 0;
            break;
        }
        more = zmq_msg_more(&m);
        total++;
        if (n < 2) {
            zmq_msg_init(&part[n]);
            zmq_msg_move(&part[n++], &m);
        }
        zmq_msg_close(&m);
    }
    if (total != 2) {
        /* Routing id and one envelope, nothing else: there is no well-formed
         * address to answer. */
        srv->dropped++;
        xl_warn("dropped a message of %zu frames (expected one envelope)",
                total > 0 ? total - 1 : 0);
        goto out;
    }
    srv->requests++;
    memset(&res, 0, sizeof res);
    /* Decoded first so that every answer, a refusal too, echoes its request id;
     * the decoder is bounded by max_message and trusts nothing. */
    r = s_decode(srv, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), &env, err, sizeof err);
    if (r == 0)
        request_id = env->request_id;
    if (s_sender(srv, zmq_msg_gets(&part[1], "User-Id"), &e, &res) != 0) {
        /* refused: res holds the error */
    } else if (r != 0) {
        s_error_reply(&res, r, err);
        srv->refused++;
        xl_warn("key %s: %s", e.key_id, err);
    } else {
        s_dispatch(srv, &e, env, &res);
        if (res.kind == LINKER_REPLY_ERROR)
            srv->refused++;
    }
    s_decode_free(srv, &env);
    if (s_encode_reply(request_id, &res, &out, &outlen) != 0) {
        xl_error("out of memory encoding a reply");
    } else if (zmq_send(srv->router, zmq_msg_data(&part[0]), zmq_msg_size(&part[0]),
                        ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
               zmq_send(srv->router, out, outlen, ZMQ_DONTWAIT) < 0) {
        /* The peer is gone or not reading: it resends after its timeout. */
        xl_debug("reply not sent: %s", zmq_strerror(errno));
    }
    free(out);
    linker_answer_clear(&res);
out:
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&part[i]);
    return 1;
}

/* ---- keyring reload --------------------------------------------------------- */

static void
s_reload(struct s_server *srv)
{
    struct linker_keyring_counts c;
    struct xl_keyring *nk = NULL, *old;
    size_t added = 0, removed = 0, revoked = 0;
    char err[XL_ERRBUF];
    cJSON *d;
    int r;

    r = xl_keyring_load(srv->ctx.cfg.keyring_path, &nk, err, sizeof err);
    d = cJSON_CreateObject();
    if (r != 0) {
        xl_error("keyring reload failed; keeping the keyring in force: %s", err);
        if (d != NULL) {
            cJSON_AddStringToObject(d, "result", "failed");
            cJSON_AddStringToObject(d, "reason", xl_strerror(r));
        }
        s_audit(srv, "linker", "linker", "keyring.reload", d);
        return;
    }
    pthread_mutex_lock(&srv->kr_lock);
    old = srv->kr;
    for (size_t i = 0; i < nk->count; i++) {
        const struct xl_keyring_entry *p = xl_keyring_find_pk(old, nk->entries[i].pk);
        if (p == NULL)
            added++;
        else if (p->active && !nk->entries[i].active)
            revoked++;
    }
    for (size_t i = 0; i < old->count; i++) {
        if (xl_keyring_find_pk(nk, old->entries[i].pk) == NULL)
            removed++;
    }
    srv->kr = nk;
    pthread_mutex_unlock(&srv->kr_lock);
    xl_keyring_destroy(&old);
    linker_keyring_count(nk, &c);
    xl_info("keyring reloaded: %zu keys (%zu active, %zu revoked); %zu added, %zu removed, "
            "%zu newly revoked",
            c.entries, c.active, c.revoked, added, removed, revoked);
    if (d != NULL) {
        cJSON_AddStringToObject(d, "result", "ok");
        cJSON_AddNumberToObject(d, "entries", (double)c.entries);
        cJSON_AddNumberToObject(d, "active", (double)c.active);
        cJSON_AddNumberToObject(d, "revoked", (double)c.revoked);
        cJSON_AddNumberToObject(d, "added", (double)added);
        cJSON_AddNumberToObject(d, "removed", (double)removed);
        cJSON_AddNumberToObject(d, "newly_revoked", (double)revoked);
    }
    s_audit(srv, "linker", "linker", "keyring.reload", d);
}

/* ---- start and stop ----------------------------------------------------------- */

static int
s_zmq_fail(const char *what, char *err, size_t errlen)
{
    return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", what, zmq_strerror(errno));
}

static int
s_start_zap(struct s_server *srv, char *err, size_t errlen)
{
    sigset_t all, old;
    int linger = 0, r;

    srv->zap = zmq_socket(srv->zctx, ZMQ_REP);
    if (srv->zap == NULL)
        return s_zmq_fail("ZAP socket", err, errlen);
    zmq_setsockopt(srv->zap, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(srv->zap, S_ZAP_ENDPOINT) != 0)
        return s_zmq_fail("cannot bind the ZAP handler", err, errlen);
    atomic_store(&srv->zap_alive, 1);
    /* Signals go to the main thread, whose poll they interrupt. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&srv->zap_thread, NULL, s_zap_main, srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        atomic_store(&srv->zap_alive, 0);
        return xl_err_set(err, errlen, XL_ERR_INTERNAL, "cannot start the ZAP thread: %s",
                          strerror(r));
    }
    srv->zap_started = 1;
    return 0;
}

static int
s_start_router(struct s_server *srv, const uint8_t sk[XL_KEY_BYTES], char *err, size_t errlen)
{
    struct linker_config *cfg = &srv->ctx.cfg;
    /* Frames up to twice max_message reach the linker, which answers TOO_BIG
     * above max_message; libzmq drops a connection sending anything bigger, so
     * memory stays bounded by the receive high-water mark. */
    int64_t maxmsg = 2 * (int64_t)cfg->max_message;
    int one = 1, zero = 0, linger = 1000, hwm = (int)(2 * cfg->credit + 8);

    srv->router = zmq_socket(srv->zctx, ZMQ_ROUTER);
    if (srv->router == NULL)
        return s_zmq_fail("ROUTER socket", err, errlen);
    if (zmq_setsockopt(srv->router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(srv->router, ZMQ_CURVE_SECRETKEY, sk, XL_KEY_BYTES) != 0)
        return s_zmq_fail("CURVE server (is libzmq built with CURVE?)", err, errlen);
    if (zmq_setsockopt(srv->router, ZMQ_ZAP_DOMAIN, S_ZAP_DOMAIN, strlen(S_ZAP_DOMAIN)) != 0)
        return s_zmq_fail("ZAP domain", err, errlen);
    if (zmq_setsockopt(srv->router, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0)
        return s_zmq_fail("ZMQ_ZAP_ENFORCE_DOMAIN (libzmq 4.3 or later is needed, so that a "
                          "handshake with no ZAP handler is refused)",
                          err, errlen);
    if (zmq_setsockopt(srv->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(srv->router, ZMQ_ROUTER_MANDATORY, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(srv->router, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(srv->router, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0)
        return s_zmq_fail("socket options", err, errlen);
    if (zmq_bind(srv->router, cfg->endpoint) != 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "cannot bind %s: %s", cfg->endpoint,
                          zmq_strerror(errno));
    return 0;
}

static void
s_shutdown(struct s_server *srv)
{
    if (srv->router != NULL)
        zmq_close(srv->router);
    srv->router = NULL;
    if (srv->zap_started) {
        atomic_store(&srv->zap_stop, 1);
        pthread_join(srv->zap_thread, NULL);
        srv->zap_started = 0;
    }
    if (srv->zap != NULL)
        zmq_close(srv->zap);
    srv->zap = NULL;
    if (srv->zctx != NULL)
        zmq_ctx_term(srv->zctx);
    srv->zctx = NULL;
    xl_keyring_destroy(&srv->kr);
    linker_ctx_close(&srv->ctx);
    free(srv->arena.base);
    srv->arena.base = NULL;
    pthread_mutex_destroy(&srv->kr_lock);
    pthread_mutex_destroy(&srv->limit_lock);
}

static void
s_audit_start(struct s_server *srv)
{
    struct linker_keyring_counts c;
    char spec[2 * XL_HASH_BYTES + 1];
    cJSON *d = cJSON_CreateObject();

    linker_keyring_count(srv->kr, &c);
    xl_hex(srv->ctx.spec->fingerprint, XL_HASH_BYTES, spec);
    if (d != NULL) {
        cJSON_AddStringToObject(d, "endpoint", srv->ctx.cfg.endpoint);
        cJSON_AddNumberToObject(d, "epoch", srv->ctx.cfg.epoch);
        cJSON_AddStringToObject(d, "spec", spec);
        cJSON_AddNumberToObject(d, "keyring_entries", (double)c.entries);
        cJSON_AddNumberToObject(d, "keyring_active", (double)c.active);
        cJSON_AddNumberToObject(d, "max_message", (double)srv->ctx.cfg.max_message);
        cJSON_AddNumberToObject(d, "max_chunk_records", srv->ctx.cfg.max_chunk_records);
        cJSON_AddNumberToObject(d, "credit", srv->ctx.cfg.credit);
        cJSON_AddNumberToObject(d, "pid", (double)getpid());
    }
    s_audit(srv, "linker", "linker", "linker.start", d);
    xl_info("listening on %s (epoch %u, spec %.16s…, %zu active keys)", srv->ctx.cfg.endpoint,
            (unsigned)srv->ctx.cfg.epoch, spec, c.active);
}

int
linker_serve(const char *conf_path, char *err, size_t errlen)
{
    struct s_server *srv;
    struct xl_keyfile *server_key = NULL;
    struct sigaction sa;
    cJSON *d;
    int r;

    srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&srv->kr_lock, NULL);
    pthread_mutex_init(&srv->limit_lock, NULL);
    s_stop = 0;
    s_hup = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Messages of hundreds of kilobytes arrive one after another: keep such
     * blocks in the heap for reuse instead of mapping and unmapping each one. */
    (void)mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    (void)mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);

    srv->conf_path = conf_path;
    r = linker_ctx_open(&srv->ctx, conf_path, err, errlen);
    if (r == 0)
        r = xl_keyring_load(srv->ctx.cfg.keyring_path, &srv->kr, err, errlen);
    if (r == 0)
        r = xl_keyfile_load(srv->ctx.cfg.server_key_path, XL_KEY_CURVE_SECRET, &server_key, err,
                            errlen);
    if (r == 0) {
        srv->zctx = zmq_ctx_new();
        if (srv->zctx == NULL)
            r = s_zmq_fail("ZeroMQ context", err, errlen);
    }
    /* The ZAP handler is bound before the ROUTER, so no handshake can ever
     * happen without it. */
    if (r == 0)
        r = s_start_zap(srv, err, errlen);
    if (r == 0)
        r = s_start_router(srv, server_key->secret, err, errlen);
    xl_keyfile_destroy(&server_key); /* libzmq keeps its own copy */
    if (r != 0) {
        s_shutdown(srv);
        free(srv);
        return r;
    }
    s_audit_start(srv);

    while (!s_stop) {
        zmq_pollitem_t it = {srv->router, 0, ZMQ_POLLIN, 0};
        int rc;

        if (s_hup) {
            s_hup = 0;
            s_reload(srv);
        }
        if (!atomic_load(&srv->zap_alive)) {
            r = xl_err_set(err, errlen, XL_ERR_INTERNAL,
                           "the ZAP handler stopped: refusing to serve without authentication");
            break;
        }
        rc = zmq_poll(&it, 1, S_POLL_MS);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            r = s_zmq_fail("poll", err, errlen);
            break;
        }
        for (int i = 0; i < S_BATCH && !s_stop && !s_hup; i++) {
            if (!s_handle_one(srv))
                break;
            srv->last_request = s_monotonic();
        }
        s_link_after_commits(srv, s_monotonic());
    }
    if (srv->link_child > 0) {
        int status;
        (void)waitpid(srv->link_child, &status, 0); /* a run in progress finishes */
    }
    d = cJSON_CreateObject();
    if (d != NULL) {
        cJSON_AddStringToObject(d, "result", r == 0 ? "stopped" : "failed");
        cJSON_AddNumberToObject(d, "requests", (double)srv->requests);
        cJSON_AddNumberToObject(d, "refused", (double)srv->refused);
        cJSON_AddNumberToObject(d, "dropped", (double)srv->dropped);
    }
    s_audit(srv, "linker", "linker", "linker.stop", d);
    xl_info("stopping: %llu requests, %llu refused, %llu dropped",
            (unsigned long long)srv->requests, (unsigned long long)srv->refused,
            (unsigned long long)srv->dropped);
    s_shutdown(srv);
    free(srv);
    return r;
}
