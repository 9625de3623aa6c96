/* The analyst's configuration file (analyst.conf, INI):
 *
 *   [analyst]
 *   endpoint = tcp://linker.coalition.example:7800
 *   server_public = keys/linker.pub      ; the linker's CURVE public key
 *   sign_public = keys/linker-sign.pub   ; the linker's signing key: manifests are checked with it
 *   analyst_key = keys/alice.key         ; this analyst's CURVE key pair (role analyst)
 *   analysis_key = keys/analysis.key     ; the analysis key pair that opens the payloads
 *   timeout = 30                         ; optional: seconds to wait for each answer
 *
 * Relative paths are relative to the file's directory; every key but timeout
 * is required and an unknown key is an error. See deploy/examples/analyst.conf. */
#ifndef ANALYST_CONFIG_H
#define ANALYST_CONFIG_H

#include <stddef.h>

#define ANALYST_PATH_MAX 1024

struct analyst_config {
    char path[ANALYST_PATH_MAX];
    char endpoint[256];
    char server_key_path[ANALYST_PATH_MAX];
    char sign_key_path[ANALYST_PATH_MAX];
    char analyst_key_path[ANALYST_PATH_MAX];
    char analysis_key_path[ANALYST_PATH_MAX];
    double timeout;
};

/* Loads path into *c. XL_ERR_NOTFOUND / XL_ERR_IO when it cannot be read,
 * XL_ERR_FORMAT naming the line or the missing key. */
int analyst_config_load(const char *path, struct analyst_config *c, char *err, size_t errlen);

#endif
