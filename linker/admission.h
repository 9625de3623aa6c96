/* Admission: who may connect to the linker, how many at once, and the trace
 * refusals leave.
 *
 * - The ZAP handler (RFC 27) admits only keys active in the keyring in force;
 *   SIGHUP replaces the keyring (linker_admission_reload).
 * - A connection table fed by the ROUTER's socket monitor bounds connections
 *   in total, those not yet authenticated (which alone may send handshake
 *   frames: a stated bound on what an unauthenticated peer can make the linker
 *   hold) and those of one key; it closes connections idle for longer than the
 *   idle timeout, and turns failed handshakes (another security mechanism than
 *   CURVE, a bad handshake) into log lines and audit entries.
 * - Every refusal, of a connection or of a request, is logged and audited
 *   through linker_refusal, at most a few times a minute for one kind and peer, so
 *   a peer that keeps trying cannot flood the fsync'd audit log.
 *
 * The handler and the monitor run in a thread of their own, so handshakes are
 * answered while the request loop is busy. Connections are closed with
 * shutdown(2) on the descriptor libzmq owns: libzmq then sees the peer gone
 * and cleans up as for any disconnect. */
#ifndef LINKER_ADMISSION_H
#define LINKER_ADMISSION_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "config.h"
#include "xl/keyring.h"

struct linker_admission;

/* Starts admission for router (a ROUTER socket of zctx, set up as a CURVE
 * server but not yet bound): loads the keyring, binds the ZAP handler, attaches
 * the monitor and starts the thread. audit must outlive the admission. *out is
 * set on success only. */
int linker_admission_start(void *zctx, void *router, const struct linker_config *cfg,
                           struct linker_audit *audit, struct linker_admission **out, char *err,
                           size_t errlen);
/* Stops the thread, closes its sockets and frees *adm (call before the router
 * and the context are closed). Accepts NULL. */
void linker_admission_stop(struct linker_admission **adm);
/* 0 once the admission thread has stopped on an error: the service must not
 * go on without authentication. */
int linker_admission_alive(struct linker_admission *adm);

/* Reloads the keyring from its file; a keyring that does not load is refused
 * and the one in force kept. Audited either way (keyring.reload). */
void linker_admission_reload(struct linker_admission *adm);
/* Counts of the keyring in force. */
void linker_admission_keyring(struct linker_admission *adm, struct xl_keyring_counts *c);

/* The keyring entry of key id as the keyring is now, into *e. 0, or
 * XL_ERR_DENIED with the reason in why (no such key, revoked). */
int linker_admission_key(struct linker_admission *adm, const char *key_id,
                         struct xl_keyring_entry *e, const char **why);

/* A message arrived on connection fd from key_id: the connection is known to
 * be authenticated and not idle. 0, or XL_ERR_DENIED when key_id already has
 * its limit of connections: this one is refused and closed a moment later. */
int linker_admission_seen(struct linker_admission *adm, int fd, const char *key_id);
/* A request of connection fd runs long (busy 1) or has been answered (busy 0):
 * a connection waiting for an answer is not idle. */
void linker_admission_busy(struct linker_admission *adm, int fd, int busy);

/* Connections refused and closed for idleness so far, for the stop entry. */
struct linker_admission_counts {
    uint64_t refused, closed_idle;
};
void linker_admission_counts(struct linker_admission *adm, struct linker_admission_counts *c);

/* Logs (warning) and audits a refusal as event, with details d (consumed; a
 * JSON object) and `reason` added to it, actor and role as the audit entry's:
 * at most three a minute for one (event, peer), and at most ten a second in
 * all; the entry that is written counts those left out (repeats_not_logged,
 * others_not_logged). peer identifies who is refused for that limit: a key
 * id, or a network address. */
void linker_refusal(struct linker_admission *adm, const char *event, const char *peer,
                    const char *actor, const char *role, const char *reason, cJSON *d);

#endif
