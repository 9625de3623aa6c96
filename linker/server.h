/* The network service: a ZeroMQ ROUTER bound as a CURVE server, a ZAP handler
 * (RFC 27) that admits only active keyring keys, and the request loop that
 * answers SubmitBegin, SubmitChunk and SubmitCommit (docs/protocol.md).
 *
 * Signals: SIGHUP reloads the keyring (a bad keyring is refused and the old one
 * kept); SIGTERM and SIGINT finish the current request and stop. */
#ifndef LINKER_SERVER_H
#define LINKER_SERVER_H

#include <stddef.h>

#include "xl/keyring.h"

/* Runs the service configured by conf_path until SIGTERM or SIGINT. Returns 0
 * after a clean stop, or an XL_ERR_* with a message when it cannot start (or,
 * rarely, must stop: the ZAP handler died, so nobody could be authenticated). */
int linker_serve(const char *conf_path, char *err, size_t errlen);

/* Counts of a keyring, for the audit log and status. */
struct linker_keyring_counts {
    size_t entries, active, revoked, agents;
};
void linker_keyring_count(const struct xl_keyring *kr, struct linker_keyring_counts *c);

/* The entry with key id exactly id (never matched by name), or NULL. */
const struct xl_keyring_entry *linker_keyring_by_id(const struct xl_keyring *kr, const char *id);

#endif
