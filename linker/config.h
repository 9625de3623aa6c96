/* The linker's configuration file (linker.conf, INI).
 *
 *   [linker]
 *   endpoint = tcp://0.0.0.0:7800    ; or ipc:///run/crosslink/linker.sock
 *   server_key = linker.key          ; CURVE key pair (curve-secret, 0600)
 *   sign_key = linker-sign.key       ; Ed25519 signing key (sign-secret, 0600)
 *   keyring = keyring
 *   spec = linkage.spec
 *   epoch = 1
 *   secret_check = <16 hex digits>   ; 'crosslink-keys show linkage-e1.secret'
 *   database = linker.db
 *   audit_log = audit.jsonl
 *   max_message = 16777216           ; optional
 *   max_chunk_records = 10000        ; optional
 *   credit = 8                       ; optional
 *   max_connections = 256            ; optional: connections at once
 *   max_unauthenticated = 16         ; optional: of those, still in the handshake
 *   max_connections_per_key = 4      ; optional
 *   idle_timeout = 300               ; optional: seconds before an idle connection is closed
 *   handshake_timeout = 10           ; optional: seconds to finish the CURVE handshake
 *   projects = projects              ; optional: approved projects (default: beside the keyring)
 *   pseudonym_key = pseudonym.key    ; optional: the linker's own key for project pseudonyms,
 *                                    ; created at first start (default: beside the database)
 *
 * Relative paths are taken relative to the directory of the configuration
 * file. Every key but the optional ones is required, and an unknown key or
 * section is an error, so a typing mistake never leaves a default in force.
 * See deploy/examples/linker.conf and docs/linker.md. */
#ifndef LINKER_CONFIG_H
#define LINKER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "xl/crypto.h"

#define LINKER_PATH_MAX     1024
#define LINKER_ENDPOINT_MAX 256

#define LINKER_MAX_MESSAGE_DEFAULT (4u * 1024 * 1024)
#define LINKER_MAX_MESSAGE_MIN     (64u * 1024)
#define LINKER_MAX_MESSAGE_MAX     (256u * 1024 * 1024)
#define LINKER_MAX_CHUNK_DEFAULT   10000u
#define LINKER_MAX_CHUNK_MAX       1000000u
#define LINKER_CREDIT_DEFAULT      8u
#define LINKER_CREDIT_MAX          256u
#define LINKER_CONNECTIONS_DEFAULT 256u
#define LINKER_CONNECTIONS_MAX     65536u
#define LINKER_UNAUTH_DEFAULT      16u
#define LINKER_PER_KEY_DEFAULT     4u
#define LINKER_IDLE_DEFAULT        300u
#define LINKER_HANDSHAKE_DEFAULT   10u
/* What a frame may exceed max_message by and still be read, so that a message
 * a little too big gets a TOO_BIG answer rather than a dropped connection. */
#define LINKER_FRAME_MARGIN (64u * 1024)

struct linker_config {
    char path[LINKER_PATH_MAX];
    char endpoint[LINKER_ENDPOINT_MAX];
    char server_key_path[LINKER_PATH_MAX];
    char sign_key_path[LINKER_PATH_MAX];
    char keyring_path[LINKER_PATH_MAX];
    char spec_path[LINKER_PATH_MAX];
    char database_path[LINKER_PATH_MAX];
    char audit_path[LINKER_PATH_MAX];
    char projects_path[LINKER_PATH_MAX];
    char pseudonym_key_path[LINKER_PATH_MAX];
    uint32_t epoch;
    uint8_t secret_check[XL_CHECK_BYTES];
    size_t max_message;
    uint32_t max_chunk_records;
    uint32_t credit;
    unsigned max_connections, max_unauthenticated, max_per_key;
    double idle_timeout, handshake_timeout; /* seconds */
    /* Superseded and abandoned submissions are purged this long after they
     * were replaced or last stored a chunk (seconds; 0: never). */
    double retention;
    /* Threads a link run uses (0: every processor online). */
    unsigned link_threads;
};

/* retention when linker.conf says nothing: 90 days. */
#define LINKER_RETENTION_DEFAULT (90 * 86400.0)

/* The largest frame the linker reads from any peer, in the handshake too:
 * max_message and a margin for the envelope. */
size_t linker_config_frame_max(const struct linker_config *c);

/* Loads path into *out. XL_ERR_NOTFOUND or XL_ERR_IO when the file cannot be
 * read, XL_ERR_FORMAT (with file and line) for a bad or missing value. */
int linker_config_load(const char *path, struct linker_config *out, char *err, size_t errlen);

#endif
