/* Linkage-secret bundles: the coalition linkage secret of one epoch, sealed
 * (crypto_box_seal) to one agent's CURVE public key by the key custodian.
 *
 * The sealed plaintext repeats the epoch, agency and recipient key id of the
 * visible header and carries the secret; unbundling checks all of them and the
 * secret's check value, so a bundle edited, re-addressed or sealed with another
 * secret is refused. */
#ifndef XL_BUNDLE_H
#define XL_BUNDLE_H

#include <stddef.h>

#include "xl/keyfile.h"

/* Seals secret (an XL_KEY_LINKAGE_SECRET) to agent (an agent's curve public or
 * secret key file, role "agent") and writes the bundle to path (O_EXCL, 0600). */
int xl_bundle_write(const char *path, const struct xl_keyfile *secret,
                    const struct xl_keyfile *agent, char *err, size_t errlen);

/* Opens the bundle at path with the agent's secret key file and returns the
 * linkage secret as a new XL_KEY_LINKAGE_SECRET key file structure (*out; caller
 * frees with xl_keyfile_destroy). XL_ERR_CRYPTO for a tampered bundle or one
 * sealed to another key; XL_ERR_FORMAT for a malformed file. */
int xl_bundle_open(const char *path, const struct xl_keyfile *agent_secret, struct xl_keyfile **out,
                   char *err, size_t errlen);

#endif
