#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "admission.h"
#include "auditquery.h"
#include "extract.h"
#include "requests.h"
#include "schedule.h"
#include "server.h"
#include "purge.h"
#include "xl/clock.h"
#include "xl/err.h"
#include "xl/log.h"

#define S_POLL_MS 200
/* Messages handled before the loop looks at signals and link runs again. */
#define S_BATCH 64
/* Seconds between retention purges of the service. */
#define S_PURGE_EVERY 86400.0

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_hup;

static void
s_on_signal(int sig)
{
    if (sig == SIGHUP)
        s_hup = 1;
    else
        s_stop = 1;
}

static void
s_audit(struct linker_server *srv, const char *event, cJSON *d)
{
    linker_audit_note(srv->ctx.audit, "linker", "linker", event, d);
}

static int
s_zmq_fail(const char *what, char *err, size_t errlen)
{
    return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", what, zmq_strerror(errno));
}

/* The ROUTER, a CURVE server; admission adds its own options before it binds. */
static int
s_router(struct linker_server *srv, const uint8_t sk[XL_KEY_BYTES], char *err, size_t errlen)
{
    const struct linker_config *cfg = &srv->ctx.cfg;
    /* A peer may have `credit` chunks in flight, and a few more requests. */
    int one = 1, zero = 0, linger = 1000, hwm = (int)(cfg->credit + 4);

    srv->router = zmq_socket(srv->zctx, ZMQ_ROUTER);
    if (srv->router == NULL)
        return s_zmq_fail("ROUTER socket", err, errlen);
    if (zmq_setsockopt(srv->router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(srv->router, ZMQ_CURVE_SECRETKEY, sk, XL_KEY_BYTES) != 0)
        return s_zmq_fail("CURVE server (is libzmq built with CURVE?)", err, errlen);
    if (zmq_setsockopt(srv->router, ZMQ_ROUTER_MANDATORY, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(srv->router, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(srv->router, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0)
        return s_zmq_fail("socket options", err, errlen);
    return 0;
}

static int
s_bind(struct linker_server *srv, char *err, size_t errlen)
{
    size_t len = sizeof srv->bound;

    if (zmq_bind(srv->router, srv->ctx.cfg.endpoint) != 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "cannot bind %s: %s", srv->ctx.cfg.endpoint,
                          zmq_strerror(errno));
    /* The address in use, with the port the system chose for "tcp://host:*". */
    if (zmq_getsockopt(srv->router, ZMQ_LAST_ENDPOINT, srv->bound, &len) != 0)
        snprintf(srv->bound, sizeof srv->bound, "%s", srv->ctx.cfg.endpoint);
    return 0;
}

static void
s_shutdown(struct linker_server *srv)
{
    /* Link and extract requests still waiting are answered while the router
     * is open. */
    linker_schedule_destroy(&srv->sched);
    linker_extracts_destroy(&srv->extracts);
    linker_auditq_destroy(&srv->auditq);
    linker_admission_stop(&srv->adm);
    if (srv->router != NULL)
        zmq_close(srv->router);
    srv->router = NULL;
    if (srv->zctx != NULL)
        zmq_ctx_term(srv->zctx);
    srv->zctx = NULL;
    linker_ctx_close(&srv->ctx);
    xl_arena_destroy(&srv->arena);
}

static void
s_audit_start(struct linker_server *srv)
{
    const struct linker_config *cfg = &srv->ctx.cfg;
    struct xl_keyring_counts c;
    char spec[2 * XL_HASH_BYTES + 1];
    cJSON *d = cJSON_CreateObject();

    linker_admission_keyring(srv->adm, &c);
    xl_hex(srv->ctx.spec->fingerprint, XL_HASH_BYTES, spec);
    if (d != NULL) {
        cJSON_AddStringToObject(d, "endpoint", srv->bound);
        cJSON_AddNumberToObject(d, "epoch", cfg->epoch);
        cJSON_AddStringToObject(d, "spec", spec);
        cJSON_AddNumberToObject(d, "keyring_entries", (double)c.entries);
        cJSON_AddNumberToObject(d, "keyring_active", (double)c.active);
        cJSON_AddNumberToObject(d, "max_message", (double)cfg->max_message);
        cJSON_AddNumberToObject(d, "max_chunk_records", cfg->max_chunk_records);
        cJSON_AddNumberToObject(d, "credit", cfg->credit);
        cJSON_AddNumberToObject(d, "max_connections", cfg->max_connections);
        cJSON_AddNumberToObject(d, "max_unauthenticated", cfg->max_unauthenticated);
        cJSON_AddNumberToObject(d, "max_connections_per_key", cfg->max_per_key);
        cJSON_AddNumberToObject(d, "idle_timeout", cfg->idle_timeout);
        cJSON_AddNumberToObject(d, "pid", (double)getpid());
        /* What the start check verified against the signed checkpoints. */
        cJSON_AddNumberToObject(d, "audit_verified", (double)linker_audit_size(srv->ctx.audit));
        {
            uint8_t ph[XL_HASH_BYTES];
            char hex[2 * XL_HASH_BYTES + 1];
            size_t np = linker_extracts_projects(srv->extracts, ph);
            xl_hex(ph, XL_HASH_BYTES, hex);
            cJSON_AddNumberToObject(d, "projects", (double)np);
            cJSON_AddStringToObject(d, "projects_sha256", hex);
        }
    }
    s_audit(srv, "linker.start", d);
    xl_info("listening on %s (epoch %u, spec %.16s…, %zu active keys)", srv->bound,
            (unsigned)cfg->epoch, spec, c.active);
}

static int
s_start(struct linker_server *srv, const char *conf_path, char *err, size_t errlen)
{
    struct xl_keyfile *server_key = NULL;
    int r;

    srv->conf_path = conf_path;
    r = linker_ctx_open(&srv->ctx, conf_path, err, errlen);
    if (r != 0)
        return r;
    /* linker_ctx_open checked the whole log against its checkpoints. The
     * service signs one every 64 entries, after a minute, and at each receipt. */
    linker_audit_set_interval(srv->ctx.audit, 64, 60);
    srv->arena = xl_arena_new();
    if (srv->arena == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    r = xl_keyfile_load(srv->ctx.cfg.server_key_path, XL_KEY_CURVE_SECRET, &server_key, err,
                        errlen);
    if (r != 0)
        return r;
    srv->zctx = zmq_ctx_new();
    if (srv->zctx == NULL)
        r = s_zmq_fail("ZeroMQ context", err, errlen);
    if (r == 0)
        r = s_router(srv, server_key->secret, err, errlen);
    xl_keyfile_destroy(&server_key); /* libzmq keeps its own copy */
    /* Admission (ZAP handler, monitor) is in place before the router binds,
     * so no handshake happens without it and no connection goes uncounted. */
    if (r == 0)
        r = linker_admission_start(srv->zctx, srv->router, &srv->ctx.cfg, srv->ctx.audit, &srv->adm,
                                   err, errlen);
    if (r == 0) {
        srv->sched = linker_schedule_new(srv, err, errlen);
        if (srv->sched == NULL)
            r = XL_ERR_IO;
    }
    if (r == 0) {
        srv->extracts = linker_extracts_new(srv, err, errlen);
        if (srv->extracts == NULL)
            r = XL_ERR_IO;
    }
    if (r == 0) {
        srv->auditq = linker_auditq_new(srv, err, errlen);
        if (srv->auditq == NULL)
            r = XL_ERR_INTERNAL;
    }
    if (r == 0)
        r = s_bind(srv, err, errlen);
    return r;
}

static void
s_signals(void)
{
    struct sigaction sa;

    s_stop = 0;
    s_hup = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Retention: at start and then once a day, when no request came for a
 * moment and no link run reads the store. */
static void
s_purge_tick(struct linker_server *srv, double last_request)
{
    struct linker_purge_summary sum;
    char err[XL_ERRBUF];
    double now = xl_monotonic();

    if (now < srv->next_purge || now - last_request < LINKER_LINK_IDLE ||
        linker_schedule_running(srv->sched))
        return;
    srv->next_purge = now + S_PURGE_EVERY;
    if (linker_purge(&srv->ctx, (int64_t)time(NULL), "linker", "linker", 0, NULL, &sum, err,
                     sizeof err) != 0)
        xl_error("retention purge: %s (tried again in a day, or run crosslink-linker purge)", err);
    else if (sum.submissions > 0)
        xl_info("retention purge: %llu submission%s, %llu records",
                (unsigned long long)sum.submissions, sum.submissions == 1 ? "" : "s",
                (unsigned long long)sum.records);
}

/* Until a signal to stop: requests, keyring reloads and link runs. */
static int
s_loop(struct linker_server *srv, char *err, size_t errlen)
{
    double last_request = 0;

    while (!s_stop) {
        zmq_pollitem_t it = {srv->router, 0, ZMQ_POLLIN, 0};
        int rc;

        if (s_hup) {
            s_hup = 0;
            linker_admission_reload(srv->adm);
            linker_extracts_reload(srv->extracts);
        }
        if (!linker_admission_alive(srv->adm))
            return xl_err_set(err, errlen, XL_ERR_INTERNAL,
                              "the admission thread stopped: refusing to serve without "
                              "authentication");
        rc = zmq_poll(&it, 1, S_POLL_MS);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return s_zmq_fail("poll", err, errlen);
        }
        for (int i = 0; i < S_BATCH && !s_stop && !s_hup; i++) {
            if (!linker_request_next(srv))
                break;
            last_request = xl_monotonic();
        }
        linker_schedule_tick(srv->sched, last_request);
        s_purge_tick(srv, last_request);
        linker_audit_tick(srv->ctx.audit);
        linker_extracts_tick(srv->extracts);
        linker_auditq_tick(srv->auditq);
    }
    return 0;
}

int
linker_serve(const char *conf_path, char *err, size_t errlen)
{
    struct linker_server *srv;
    struct linker_admission_counts ac;
    cJSON *d;
    int r;

    srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    s_signals();
    /* Messages of hundreds of kilobytes arrive one after another: keep such
     * blocks in the heap for reuse instead of mapping and unmapping each one. */
    (void)mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    (void)mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);

    r = s_start(srv, conf_path, err, errlen);
    if (r != 0) {
        s_shutdown(srv);
        free(srv);
        return r;
    }
    s_audit_start(srv);
    r = s_loop(srv, err, errlen);
    linker_admission_counts(srv->adm, &ac);
    d = cJSON_CreateObject();
    if (d != NULL) {
        cJSON_AddStringToObject(d, "result", r == 0 ? "stopped" : "failed");
        cJSON_AddNumberToObject(d, "requests", (double)srv->requests);
        cJSON_AddNumberToObject(d, "refused", (double)srv->refused);
        cJSON_AddNumberToObject(d, "dropped", (double)srv->dropped);
        cJSON_AddNumberToObject(d, "connections_refused", (double)ac.refused);
        cJSON_AddNumberToObject(d, "connections_closed_idle", (double)ac.closed_idle);
    }
    s_audit(srv, "linker.stop", d);
    xl_info("stopping: %llu requests, %llu refused, %llu dropped",
            (unsigned long long)srv->requests, (unsigned long long)srv->refused,
            (unsigned long long)srv->dropped);
    s_shutdown(srv);
    free(srv);
    return r;
}
