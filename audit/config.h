/* The auditor's configuration file (audit.conf, INI), read by
 * `crosslink-audit fetch`: one [audit] section with
 *
 *   endpoint       where the linker listens (tcp://linker.coalition.example:7800)
 *   server_public  the linker's CURVE public key
 *   sign_public    the linker's public signing key: checkpoints are checked with it
 *   public, secret this auditor's CURVE key pair (role auditor)
 *   store          where the copy of the log and the checkpoints are kept
 *   timeout        optional: seconds to wait for each answer
 *
 * Relative paths are relative to the file's directory; every key but timeout
 * is required, and an unknown key or section is an error. See
 * deploy/examples/audit.conf and docs/audit.md. */
#ifndef AUDIT_CONFIG_H
#define AUDIT_CONFIG_H

#include <stddef.h>

#define AUDIT_PATH_MAX 1024

struct audit_config {
    char path[AUDIT_PATH_MAX];
    char endpoint[256];
    char server_key_path[AUDIT_PATH_MAX];
    char sign_key_path[AUDIT_PATH_MAX];
    char public_path[AUDIT_PATH_MAX];
    char secret_path[AUDIT_PATH_MAX];
    char store_dir[AUDIT_PATH_MAX];
    double timeout; /* seconds */
};

/* Loads path into *c (cleared first). XL_ERR_NOTFOUND / XL_ERR_IO when it
 * cannot be read; XL_ERR_FORMAT "PATH:LINE: ..." naming the key, or "PATH:
 * [audit] KEY is required". */
int audit_config_load(const char *path, struct audit_config *c, char *err, size_t errlen);

#endif
