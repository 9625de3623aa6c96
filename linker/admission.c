#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <zmq.h>

#include "admission.h"
#include "xl/clock.h"
#include "xl/err.h"
#include "xl/log.h"
#include "xl/monitor.h"

/* A draft option in libzmq 4.3's header, present in the library; without it a
 * CURVE handshake would succeed when no ZAP handler answers. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define S_ZAP_ENDPOINT     "inproc://zeromq.zap.01"
#define S_MONITOR_ENDPOINT "inproc://crosslink.monitor"
#define S_ZAP_DOMAIN       "crosslink"
#define S_POLL_MS          200
#define S_ZAP_MAX_FRAMES   8
/* Refusals of one kind and peer are audited at most S_LIMIT_BURST times a
 * window: a few mistakes are all on record, a flood is counted. */
#define S_LIMIT_WINDOW     60
#define S_LIMIT_BURST      3
#define S_LIMIT_SLOTS      128
#define S_LIMIT_PER_SECOND 10
/* Connections shut at accept, remembered until their disconnect. */
#define S_SHUT_RING 256
/* A connection over its key's limit is closed this long after its refusal. */
#define S_REFUSED_GRACE 1.0
/* A handshake failure waits this long for the disconnect that names its peer. */
#define S_FAILURE_WAIT 0.5

#define S_EVENTS                                                                                   \
    (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |          \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

struct s_limit_slot {
    char key[96];
    time_t window; /* when its window began */
    unsigned written;
    uint64_t suppressed;
};

struct s_conn {
    int fd;
    int seen;    /* a message came: authenticated */
    int closing; /* shut down by us; waiting for the disconnect */
    int refused; /* over its key's limit: every request refused, then closed */
    unsigned busy;
    double accepted, last;
    char key_id[XL_KEYID_HEX + 1];
    char peer[64]; /* "address:port", "local" (ipc), or "unknown" */
    char host[48]; /* the address alone: the refusal limit's peer */
};

struct linker_admission {
    const struct linker_config *cfg;
    struct linker_audit *audit;
    void *zap, *mon;
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_int alive;

    pthread_mutex_t lock; /* guards everything below */
    struct xl_keyring *kr;
    struct s_conn *conns;
    size_t nconns;
    uint64_t refused, closed_idle;
    /* the last handshake failure, until its disconnect names the peer */
    char failure[160];
    /* descriptors shut at accept: their disconnect ends no handshake of note */
    int shut[S_SHUT_RING];
    size_t shut_next;
    const char *failure_mech;
    double failure_at;
    void *router;
    int monitoring;

    pthread_mutex_t limit_lock;
    struct s_limit_slot limit[S_LIMIT_SLOTS];
    time_t limit_second;
    unsigned limit_count;
    uint64_t limit_overflow;
};

/* ---- refusals ------------------------------------------------------------ */

/* 1 when a refusal should be written now: the first S_LIMIT_BURST of one
 * event and peer in a window are, later ones are counted. *suppressed receives
 * how many of its kind were left out since the last one written, *others how
 * many of any kind were left out because more than S_LIMIT_PER_SECOND came in
 * one second (many peers, each new, would otherwise each get an entry). */
static int
s_limit(struct linker_admission *adm, const char *event, const char *peer, uint64_t *suppressed,
        uint64_t *others)
{
    char key[96];
    time_t now = time(NULL);
    struct s_limit_slot *slot = NULL, *oldest = &adm->limit[0];
    int write = 0;

    snprintf(key, sizeof key, "%s/%s", event, peer);
    *suppressed = 0;
    *others = 0;
    pthread_mutex_lock(&adm->limit_lock);
    for (size_t i = 0; i < S_LIMIT_SLOTS; i++) {
        if (strcmp(adm->limit[i].key, key) == 0) {
            slot = &adm->limit[i];
            break;
        }
        if (adm->limit[i].window < oldest->window)
            oldest = &adm->limit[i];
    }
    if (slot != NULL && now - slot->window >= S_LIMIT_WINDOW) {
        slot->window = now;
        slot->written = 0;
    }
    if (slot != NULL && slot->written >= S_LIMIT_BURST) {
        slot->suppressed++;
    } else if (now == adm->limit_second && adm->limit_count >= S_LIMIT_PER_SECOND) {
        adm->limit_overflow++;
    } else {
        if (now != adm->limit_second) {
            adm->limit_second = now;
            adm->limit_count = 0;
        }
        adm->limit_count++;
        if (slot == NULL) {
            slot = oldest;
            snprintf(slot->key, sizeof slot->key, "%s", key);
            slot->window = now;
            slot->written = 0;
            slot->suppressed = 0;
        }
        *suppressed = slot->suppressed;
        *others = adm->limit_overflow;
        slot->written++;
        slot->suppressed = 0;
        adm->limit_overflow = 0;
        write = 1;
    }
    pthread_mutex_unlock(&adm->limit_lock);
    return write;
}

void
linker_refusal(struct linker_admission *adm, const char *event, const char *peer, const char *actor,
               const char *role, const char *reason, cJSON *d)
{
    uint64_t suppressed, others;

    if (!s_limit(adm, event, peer, &suppressed, &others)) {
        cJSON_Delete(d);
        return;
    }
    xl_warn("%s: %s: %s", event, peer, reason);
    if (d == NULL)
        d = cJSON_CreateObject();
    if (d != NULL) {
        cJSON_AddStringToObject(d, "reason", reason);
        if (suppressed > 0)
            cJSON_AddNumberToObject(d, "repeats_not_logged", (double)suppressed);
        if (others > 0)
            cJSON_AddNumberToObject(d, "others_not_logged", (double)others);
    }
    linker_audit_note(adm->audit, actor, role, event, d);
}

/* A refused connection, by network address (no key is known). */
static void
s_connection_refused(struct linker_admission *adm, const char *peer, const char *host,
                     const char *mechanism, const char *reason)
{
    cJSON *d = cJSON_CreateObject();

    char limit[96];

    if (d != NULL) {
        cJSON_AddStringToObject(d, "key_id", "-");
        cJSON_AddStringToObject(d, "peer", peer);
        if (mechanism != NULL)
            cJSON_AddStringToObject(d, "mechanism", mechanism);
    }
    /* Limited per address and kind: a flood over the limits does not hide a
     * peer without CURVE from the same address. */
    snprintf(limit, sizeof limit, "%s (%s)", host, mechanism != NULL ? mechanism : "limits");
    linker_refusal(adm, "connection.refused", limit, "-", "unknown", reason, d);
}

/* ---- ZAP handler (RFC 27) ------------------------------------------------ */

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
s_zap_handle(struct linker_admission *adm)
{
    zmq_msg_t f[S_ZAP_MAX_FRAMES];
    size_t n = 0, total = 0;
    char key_id[XL_KEYID_HEX + 1] = "-", user[XL_KEYID_HEX + 1] = "";
    const char *reason = NULL;
    struct xl_keyring_entry e;
    int more = 1, found = 0;

    memset(&e, 0, sizeof e);
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, adm->zap, 0) < 0) {
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
    /* version, request id, domain, address, routing id, mechanism, credentials.
     * Only CURVE handshakes reach here: libzmq refuses another mechanism at the
     * greeting (the monitor reports it). */
    if (n < 6 || !s_frame_is(&f[0], "1.0") || !s_frame_is(&f[5], "CURVE")) {
        reason = "malformed ZAP request";
    } else if (!s_frame_is(&f[2], S_ZAP_DOMAIN)) {
        reason = "wrong ZAP domain";
    } else if (total != 7 || zmq_msg_size(&f[6]) != XL_KEY_BYTES) {
        reason = "malformed CURVE credentials";
    } else {
        const struct xl_keyring_entry *p;
        xl_key_id(zmq_msg_data(&f[6]), XL_KEY_BYTES, key_id);
        pthread_mutex_lock(&adm->lock);
        p = xl_keyring_find_pk(adm->kr, zmq_msg_data(&f[6]));
        if (p != NULL) {
            e = *p;
            found = 1;
        }
        pthread_mutex_unlock(&adm->lock);
        if (!found)
            reason = "key not in the keyring";
        else if (!e.active)
            reason = "key revoked";
        else
            snprintf(user, sizeof user, "%s", e.key_id);
    }
    if (reason == NULL) {
        xl_debug("connection admitted: key %s (%s, %s)", user, xl_role_name(e.role), e.agency);
        s_zap_reply(adm->zap, n > 1 ? &f[1] : NULL, "200", "OK", user);
    } else {
        cJSON *d = cJSON_CreateObject();
        s_zap_reply(adm->zap, n > 1 ? &f[1] : NULL, "400", reason, "");
        if (d != NULL) {
            cJSON_AddStringToObject(d, "key_id", key_id);
            cJSON_AddStringToObject(d, "mechanism", "CURVE");
        }
        linker_refusal(adm, "connection.refused", key_id, key_id,
                       found ? xl_role_name(e.role) : "unknown", reason, d);
    }
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* ---- connections ------------------------------------------------------------ */

static struct s_conn *
s_conn_find(struct linker_admission *adm, int fd)
{
    for (size_t i = 0; i < adm->nconns; i++) {
        if (adm->conns[i].fd == fd)
            return &adm->conns[i];
    }
    return NULL;
}

static void
s_conn_remove(struct linker_admission *adm, struct s_conn *c)
{
    *c = adm->conns[--adm->nconns];
}

static void
s_shut_note(struct linker_admission *adm, int fd)
{
    adm->shut[adm->shut_next++ % S_SHUT_RING] = fd;
}

/* 1 when fd was shut at accept (and forgets it). */
static int
s_shut_take(struct linker_admission *adm, int fd)
{
    for (size_t i = 0; i < S_SHUT_RING; i++) {
        if (adm->shut[i] == fd) {
            adm->shut[i] = -1;
            return 1;
        }
    }
    return 0;
}

/* Unauthenticated: no message yet, and young enough to be in the handshake. */
static size_t
s_unauthenticated(const struct linker_admission *adm, double now)
{
    size_t n = 0;

    for (size_t i = 0; i < adm->nconns; i++) {
        const struct s_conn *c = &adm->conns[i];
        if (!c->seen && !c->closing && now - c->accepted < adm->cfg->handshake_timeout)
            n++;
    }
    return n;
}

static void
s_peer_name(int fd, char *peer, size_t plen, char *host, size_t hlen)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "";
    unsigned port = 0;

    memset(&ss, 0, sizeof ss);
    /* A peer gone before the linker looked has no address any more. */
    snprintf(peer, plen, "unknown");
    snprintf(host, hlen, "unknown");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_UNIX) {
        snprintf(peer, plen, "local");
        snprintf(host, hlen, "local");
        return;
    }
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    } else {
        return;
    }
    snprintf(host, hlen, "%s", ip);
    snprintf(peer, plen, "%s:%u", ip, port);
}

/* A new connection: admitted to the table, or shut at once when a limit is
 * reached. Called with the lock held. */
static void
s_accepted(struct linker_admission *adm, int fd, double now)
{
    char peer[64], host[48], why[160];
    struct s_conn *c;
    size_t unauth;

    s_peer_name(fd, peer, sizeof peer, host, sizeof host);
    c = s_conn_find(adm, fd);
    if (c != NULL) {
        /* Its first message was handled before this event: already known. */
        snprintf(c->peer, sizeof c->peer, "%s", peer);
        snprintf(c->host, sizeof c->host, "%s", host);
        return;
    }
    unauth = s_unauthenticated(adm, now);
    why[0] = '\0';
    if (adm->nconns >= adm->cfg->max_connections)
        snprintf(why, sizeof why, "too many connections (limit %u)", adm->cfg->max_connections);
    else if (unauth >= adm->cfg->max_unauthenticated)
        snprintf(why, sizeof why, "too many connections in the handshake (limit %u)",
                 adm->cfg->max_unauthenticated);
    if (why[0] != '\0') {
        shutdown(fd, SHUT_RDWR);
        s_shut_note(adm, fd);
        adm->refused++;
        pthread_mutex_unlock(&adm->lock);
        s_connection_refused(adm, peer, host, NULL, why);
        pthread_mutex_lock(&adm->lock);
        return;
    }
    c = &adm->conns[adm->nconns++];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->accepted = c->last = now;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    snprintf(c->host, sizeof c->host, "%s", host);
}

/* The reason for a failed handshake, for the operator. */
static void
s_failure_text(uint16_t event, uint32_t value, char *out, size_t len, const char **mechanism)
{
    *mechanism = "CURVE";
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        switch (value) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            *mechanism = "not CURVE";
            snprintf(out, len,
                     "not a CURVE connection (the peer offered another security "
                     "mechanism)");
            return;
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            snprintf(out, len,
                     "CURVE handshake failed: the peer's boxes do not open (a client "
                     "using another server key?)");
            return;
        default:
            snprintf(out, len, "handshake failed: ZeroMQ protocol error 0x%08x", (unsigned)value);
            return;
        }
    }
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        snprintf(out, len, "handshake refused by authentication (status %u)", (unsigned)value);
        return;
    }
    *mechanism = NULL;
    snprintf(out, len, "handshake failed (not a ZeroMQ peer, timed out, or closed early)");
}

/* Writes the pending handshake failure; peer may be NULL (not known). */
static void
s_failure_flush(struct linker_admission *adm, const struct s_conn *c)
{
    char reason[sizeof adm->failure], peer[64] = "unknown", host[48] = "unknown";
    const char *mechanism;

    if (adm->failure[0] == '\0')
        return;
    mechanism = adm->failure_mech;
    memcpy(reason, adm->failure, sizeof reason);
    adm->failure[0] = '\0';
    if (c != NULL) {
        snprintf(peer, sizeof peer, "%s", c->peer);
        snprintf(host, sizeof host, "%s", c->host);
    }
    adm->refused++;
    pthread_mutex_unlock(&adm->lock);
    s_connection_refused(adm, peer, host, mechanism, reason);
    pthread_mutex_lock(&adm->lock);
}

static void
s_monitor_event(struct linker_admission *adm)
{
    uint16_t event;
    uint32_t value;
    double now = xl_monotonic();
    struct s_conn *c;

    if (!xl_monitor_next(adm->mon, &event, &value))
        return;
    pthread_mutex_lock(&adm->lock);
    switch (event) {
    case ZMQ_EVENT_ACCEPTED: s_accepted(adm, (int)value, now); break;
    case ZMQ_EVENT_DISCONNECTED:
        c = s_conn_find(adm, (int)value);
        if ((c != NULL && c->closing) || s_shut_take(adm, (int)value)) {
            /* Closed by the linker itself, its refusal already on record: the
             * handshake libzmq saw cut short is no news. */
            adm->failure[0] = '\0';
        } else if (adm->failure[0] != '\0') {
            s_failure_flush(adm, c);
            c = s_conn_find(adm, (int)value); /* the table may have changed meanwhile */
        }
        if (c != NULL)
            s_conn_remove(adm, c);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        /* 400 is the ZAP handler's own refusal, audited there. */
        if (value == 400)
            break;
        __attribute__((fallthrough));
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: {
        s_failure_flush(adm, NULL);
        s_failure_text(event, value, adm->failure, sizeof adm->failure, &adm->failure_mech);
        adm->failure_at = now;
        break;
    }
    default: break;
    }
    pthread_mutex_unlock(&adm->lock);
}

/* Closes connections idle for longer than the idle timeout, and writes a
 * handshake failure whose disconnect did not come. */
static void
s_sweep(struct linker_admission *adm)
{
    double now = xl_monotonic();

    pthread_mutex_lock(&adm->lock);
    if (adm->failure[0] != '\0' && now - adm->failure_at > S_FAILURE_WAIT)
        s_failure_flush(adm, NULL);
    for (size_t i = 0; i < adm->nconns; i++) {
        struct s_conn *c = &adm->conns[i];
        if (c->closing || c->busy > 0 ||
            now - c->last < (c->refused ? S_REFUSED_GRACE : adm->cfg->idle_timeout))
            continue;
        shutdown(c->fd, SHUT_RDWR);
        c->closing = 1;
        adm->closed_idle += !c->refused;
        if (!c->refused)
            xl_info("closed a connection idle for %.0f s (key %s, %s)", now - c->last,
                    c->seen ? c->key_id : "none yet", c->peer);
    }
    pthread_mutex_unlock(&adm->lock);
}

static void *
s_main(void *arg)
{
    struct linker_admission *adm = arg;
    double last_sweep = 0;

    while (!atomic_load(&adm->stop)) {
        zmq_pollitem_t it[2] = {{adm->mon, 0, ZMQ_POLLIN, 0}, {adm->zap, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll(it, 2, S_POLL_MS);
        double now;
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            xl_error("admission: %s", zmq_strerror(errno));
            break;
        }
        if (it[0].revents & ZMQ_POLLIN)
            s_monitor_event(adm);
        if (it[1].revents & ZMQ_POLLIN)
            s_zap_handle(adm);
        now = xl_monotonic();
        if (now - last_sweep >= 1.0) {
            s_sweep(adm);
            last_sweep = now;
        }
    }
    atomic_store(&adm->alive, 0);
    return NULL;
}

/* ---- the request loop's side ----------------------------------------------- */

int
linker_admission_seen(struct linker_admission *adm, int fd, const char *key_id)
{
    struct s_conn *c;
    size_t same = 0;
    int r = 0;

    pthread_mutex_lock(&adm->lock);
    c = s_conn_find(adm, fd);
    if (c != NULL && c->seen && strcmp(c->key_id, key_id) != 0) {
        /* The descriptor was reused by a connection whose events are still
         * queued: start its entry afresh. */
        s_conn_remove(adm, c);
        c = NULL;
    }
    if (c == NULL && adm->nconns < adm->cfg->max_connections) {
        c = &adm->conns[adm->nconns++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->accepted = xl_monotonic();
        s_peer_name(fd, c->peer, sizeof c->peer, c->host, sizeof c->host);
    }
    if (c != NULL) {
        c->last = xl_monotonic();
        if (!c->seen) {
            for (size_t i = 0; i < adm->nconns; i++) {
                if (adm->conns[i].seen && !adm->conns[i].closing &&
                    strcmp(adm->conns[i].key_id, key_id) == 0)
                    same++;
            }
            c->seen = 1;
            snprintf(c->key_id, sizeof c->key_id, "%s", key_id);
            if (same >= adm->cfg->max_per_key) {
                /* Closed by the sweep a moment later, once the refusal is on
                 * its way: shut now, the answer would never leave. */
                c->refused = 1;
                adm->refused++;
            }
        }
        if (c->refused)
            r = XL_ERR_DENIED;
    }
    pthread_mutex_unlock(&adm->lock);
    return r;
}

void
linker_admission_busy(struct linker_admission *adm, int fd, int busy)
{
    struct s_conn *c;

    pthread_mutex_lock(&adm->lock);
    c = s_conn_find(adm, fd);
    if (c != NULL) {
        if (busy)
            c->busy++;
        else if (c->busy > 0)
            c->busy--;
        c->last = xl_monotonic();
    }
    pthread_mutex_unlock(&adm->lock);
}

void
linker_admission_counts(struct linker_admission *adm, struct linker_admission_counts *out)
{
    pthread_mutex_lock(&adm->lock);
    out->refused = adm->refused;
    out->closed_idle = adm->closed_idle;
    pthread_mutex_unlock(&adm->lock);
}

int
linker_admission_key(struct linker_admission *adm, const char *key_id, struct xl_keyring_entry *e,
                     const char **why)
{
    const struct xl_keyring_entry *p;

    *why = NULL;
    pthread_mutex_lock(&adm->lock);
    p = xl_keyring_find_id(adm->kr, key_id);
    if (p != NULL)
        *e = *p;
    pthread_mutex_unlock(&adm->lock);
    if (p == NULL)
        *why = "key no longer in the keyring";
    else if (!e->active)
        *why = "key revoked";
    return *why == NULL ? 0 : XL_ERR_DENIED;
}

void
linker_admission_keyring(struct linker_admission *adm, struct xl_keyring_counts *c)
{
    pthread_mutex_lock(&adm->lock);
    xl_keyring_count(adm->kr, c);
    pthread_mutex_unlock(&adm->lock);
}

/* Adds {key_id, name, role, agency} for e to arr (NULL is ignored). */
static void
s_key_item(cJSON *arr, const struct xl_keyring_entry *e)
{
    cJSON *o = cJSON_CreateObject();

    if (arr == NULL || o == NULL) {
        cJSON_Delete(o);
        return;
    }
    cJSON_AddStringToObject(o, "key_id", e->key_id);
    cJSON_AddStringToObject(o, "name", e->name);
    cJSON_AddStringToObject(o, "role", xl_role_name(e->role));
    if (e->agency[0] != '\0')
        cJSON_AddStringToObject(o, "agency", e->agency);
    cJSON_AddItemToArray(arr, o);
}

void
linker_admission_reload(struct linker_admission *adm)
{
    struct xl_keyring_counts c;
    struct xl_keyring *nk = NULL, *old;
    size_t added = 0, removed = 0, revoked = 0;
    char err[XL_ERRBUF];
    cJSON *d = cJSON_CreateObject();
    int r;

    r = xl_keyring_load(adm->cfg->keyring_path, &nk, err, sizeof err);
    if (r != 0) {
        xl_error("keyring reload failed; keeping the keyring in force: %s", err);
        if (d != NULL) {
            cJSON_AddStringToObject(d, "result", "failed");
            cJSON_AddStringToObject(d, "reason", xl_strerror(r));
        }
    } else {
        /* Which keys changed, by key id, name, role and agency: what an IG
         * lead needs to see who gained or lost access. */
        cJSON *ka = cJSON_CreateArray(), *kr = cJSON_CreateArray(), *kv = cJSON_CreateArray();
        pthread_mutex_lock(&adm->lock);
        old = adm->kr;
        for (size_t i = 0; i < nk->count; i++) {
            const struct xl_keyring_entry *p = xl_keyring_find_pk(old, nk->entries[i].pk);
            if (p == NULL) {
                added++;
                s_key_item(ka, &nk->entries[i]);
            } else if (p->active && !nk->entries[i].active) {
                revoked++;
                s_key_item(kv, &nk->entries[i]);
            }
        }
        for (size_t i = 0; i < old->count; i++) {
            if (xl_keyring_find_pk(nk, old->entries[i].pk) == NULL) {
                removed++;
                s_key_item(kr, &old->entries[i]);
            }
        }
        adm->kr = nk;
        pthread_mutex_unlock(&adm->lock);
        xl_keyring_destroy(&old);
        xl_keyring_count(nk, &c);
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
            cJSON_AddItemToObject(d, "keys_added", ka);
            cJSON_AddItemToObject(d, "keys_removed", kr);
            cJSON_AddItemToObject(d, "keys_revoked", kv);
            ka = kr = kv = NULL;
        }
        cJSON_Delete(ka);
        cJSON_Delete(kr);
        cJSON_Delete(kv);
    }
    linker_audit_note(adm->audit, "linker", "linker", "keyring.reload", d);
}

/* ---- start and stop ---------------------------------------------------------- */

static int
s_zmq_fail(const char *what, char *err, size_t errlen)
{
    return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", what, zmq_strerror(errno));
}

/* The router's options that admission depends on: CURVE enforced through
 * ZAP, and the handshake's time and frame size bounded. */
static int
s_router_options(void *router, const struct linker_config *cfg, char *err, size_t errlen)
{
    int one = 1, hs = (int)(cfg->handshake_timeout * 1000);
    /* Also the largest frame of the handshake: the per-connection part of
     * the bound on unauthenticated memory (docs/linker.md). */
    int64_t maxmsg = (int64_t)linker_config_frame_max(cfg);
    /* A peer that stops answering heartbeats is dropped; one that answers but
     * sends nothing is closed by the idle sweep. */
    int hb = 30000, hbt = 90000;

    if (zmq_setsockopt(router, ZMQ_ZAP_DOMAIN, S_ZAP_DOMAIN, strlen(S_ZAP_DOMAIN)) != 0)
        return s_zmq_fail("ZAP domain", err, errlen);
    if (zmq_setsockopt(router, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0)
        return s_zmq_fail("ZMQ_ZAP_ENFORCE_DOMAIN (libzmq 4.3 or later is needed, so that a "
                          "handshake with no ZAP handler is refused)",
                          err, errlen);
    if (zmq_setsockopt(router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(router, ZMQ_HANDSHAKE_IVL, &hs, sizeof hs) != 0 ||
        zmq_setsockopt(router, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb) != 0 ||
        zmq_setsockopt(router, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof hbt) != 0)
        return s_zmq_fail("socket options", err, errlen);
    return 0;
}

int
linker_admission_start(void *zctx, void *router, const struct linker_config *cfg,
                       struct linker_audit *audit, struct linker_admission **out, char *err,
                       size_t errlen)
{
    struct linker_admission *adm;
    sigset_t all, old;
    int linger = 0, r;

    *out = NULL;
    adm = calloc(1, sizeof *adm);
    if (adm == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    adm->cfg = cfg;
    adm->audit = audit;
    adm->router = router;
    for (size_t i = 0; i < S_SHUT_RING; i++)
        adm->shut[i] = -1;
    pthread_mutex_init(&adm->lock, NULL);
    pthread_mutex_init(&adm->limit_lock, NULL);
    adm->conns = calloc(cfg->max_connections + 1, sizeof *adm->conns);
    if (adm->conns == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    r = xl_keyring_load(cfg->keyring_path, &adm->kr, err, errlen);
    if (r != 0)
        goto fail;
    r = s_router_options(router, cfg, err, errlen);
    if (r != 0)
        goto fail;
    adm->zap = zmq_socket(zctx, ZMQ_REP);
    adm->mon = zmq_socket(zctx, ZMQ_PAIR);
    if (adm->zap == NULL || adm->mon == NULL) {
        r = s_zmq_fail("admission sockets", err, errlen);
        goto fail;
    }
    zmq_setsockopt(adm->zap, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(adm->mon, ZMQ_LINGER, &linger, sizeof linger);
    /* The ZAP handler is bound before the router, so no handshake can ever
     * happen without it; the monitor is attached before the router binds, so
     * no connection goes uncounted. */
    if (zmq_bind(adm->zap, S_ZAP_ENDPOINT) != 0) {
        r = s_zmq_fail("cannot bind the ZAP handler", err, errlen);
        goto fail;
    }
    if (zmq_socket_monitor(router, S_MONITOR_ENDPOINT, S_EVENTS) != 0 ||
        zmq_connect(adm->mon, S_MONITOR_ENDPOINT) != 0) {
        r = s_zmq_fail("cannot monitor the linker's socket", err, errlen);
        goto fail;
    }
    adm->monitoring = 1;
    atomic_store(&adm->alive, 1);
    /* Signals go to the main thread, whose poll they interrupt. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&adm->thread, NULL, s_main, adm);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        atomic_store(&adm->alive, 0);
        r = xl_err_set(err, errlen, XL_ERR_INTERNAL, "cannot start the admission thread: %s",
                       strerror(r));
        goto fail;
    }
    adm->started = 1;
    *out = adm;
    return 0;
fail:
    linker_admission_stop(&adm);
    return r;
}

void
linker_admission_stop(struct linker_admission **admp)
{
    struct linker_admission *adm;

    if (admp == NULL || *admp == NULL)
        return;
    adm = *admp;
    if (adm->started) {
        atomic_store(&adm->stop, 1);
        pthread_join(adm->thread, NULL);
    }
    if (adm->monitoring)
        zmq_socket_monitor(adm->router, NULL, 0);
    if (adm->mon != NULL)
        zmq_close(adm->mon);
    if (adm->zap != NULL)
        zmq_close(adm->zap);
    xl_keyring_destroy(&adm->kr);
    free(adm->conns);
    pthread_mutex_destroy(&adm->lock);
    pthread_mutex_destroy(&adm->limit_lock);
    free(adm);
    *admp = NULL;
}

int
linker_admission_alive(struct linker_admission *adm)
{
    return atomic_load(&adm->alive);
}
