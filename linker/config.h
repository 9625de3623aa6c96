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

#define LINKER_MAX_MESSAGE_DEFAULT (16u * 1024 * 1024)
#define LINKER_MAX_MESSAGE_MIN     (64u * 1024)
#define LINKER_MAX_MESSAGE_MAX     (256u * 1024 * 1024)
#define LINKER_MAX_CHUNK_DEFAULT   10000u
#define LINKER_MAX_CHUNK_MAX       1000000u
#define LINKER_CREDIT_DEFAULT      8u
#define LINKER_CREDIT_MAX          256u

struct linker_config {
    char path[LINKER_PATH_MAX];
    char endpoint[LINKER_ENDPOINT_MAX];
    char server_key_path[LINKER_PATH_MAX];
    char sign_key_path[LINKER_PATH_MAX];
    char keyring_path[LINKER_PATH_MAX];
    char spec_path[LINKER_PATH_MAX];
    char database_path[LINKER_PATH_MAX];
    char audit_path[LINKER_PATH_MAX];
    uint32_t epoch;
    uint8_t secret_check[XL_CHECK_BYTES];
    size_t max_message;
    uint32_t max_chunk_records;
    uint32_t credit;
};

/* Loads path into *out. XL_ERR_NOTFOUND or XL_ERR_IO when the file cannot be
 * read, XL_ERR_FORMAT (with file and line) for a bad or missing value. */
int linker_config_load(const char *path, struct linker_config *out, char *err, size_t errlen);

#endif
