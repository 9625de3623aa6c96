/* The network service: a ZeroMQ ROUTER bound as a CURVE server, admission
 * (admission.h: ZAP, connection limits, refusal limits), the table of
 * requests (requests.h), link runs off the request loop (schedule.h),
 * extracts for analysts (extract.h) and auditors' requests for the audit log
 * (auditquery.h).
 * server.c holds the event loop, signals, start and stop.
 *
 * Signals: SIGHUP reloads the keyring and the approved projects (a bad file is
 * refused and the one in force kept); SIGTERM and SIGINT finish the current request and stop. */
#ifndef LINKER_SERVER_H
#define LINKER_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"
#include "xl/arena.h"

struct linker_admission;
struct linker_schedule;
struct linker_extracts;
struct linker_auditq;

/* The service's state, shared by the loop, the request table and the link-run
 * schedule; all used from the main thread (admission has a thread of its own
 * behind its functions). */
struct linker_server {
    struct linker_ctx ctx;
    const char *conf_path;
    void *zctx, *router;
    char bound[LINKER_ENDPOINT_MAX]; /* the endpoint bound, port chosen */
    struct linker_admission *adm;
    struct linker_schedule *sched;
    struct linker_extracts *extracts;
    struct linker_auditq *auditq;
    struct xl_arena *arena; /* decoding peers' messages */
    uint64_t requests, refused, dropped;
    double next_purge; /* xl_monotonic() of the next retention purge */
};

/* Runs the service configured by conf_path until SIGTERM or SIGINT. Returns 0
 * after a clean stop, or an XL_ERR_* with a message when it cannot start (or,
 * rarely, must stop: the admission thread died, so nobody could be
 * authenticated). */
int linker_serve(const char *conf_path, char *err, size_t errlen);

#endif
