/* Outcome payloads: a record's outcome attributes, encrypted so that only a
 * holder of the analysis secret key can read them; the linker stores and
 * forwards them without being able to.
 *
 * Sealing every record with crypto_box_seal would cost two X25519 operations
 * per record. Instead a sealer draws one random data key, seals it once to the
 * analysis public key, and encrypts each payload with XChaCha20-Poly1305 under
 * that key, the agency's name bound in as associated data:
 *
 *   payload = 0x01 || sealed data key (80) || nonce (24) || ciphertext || tag (16)
 *
 * Each payload carries the sealed key, so a row stays readable on its own,
 * whichever extract it ends up in. Nonces are a random 16-byte prefix per
 * sealer and a 64-bit counter: never repeated under one key. */
#ifndef XL_PAYLOAD_H
#define XL_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "xl/crypto.h"

#define XL_PAYLOAD_VERSION    1
#define XL_PAYLOAD_SEALED_KEY (XL_KEY_BYTES + XL_SEAL_OVERHEAD)
#define XL_PAYLOAD_NONCE      24
#define XL_PAYLOAD_OVERHEAD   (1 + XL_PAYLOAD_SEALED_KEY + XL_PAYLOAD_NONCE + 16)

struct xl_payload_sealer;
struct xl_payload_opener;

/* A sealer for one batch (a file, a submission) of one agency. NULL on failure.
 * Destroy with xl_payload_sealer_destroy, which wipes the data key. */
struct xl_payload_sealer *xl_payload_sealer_new(const uint8_t analysis_pk[XL_KEY_BYTES],
                                                const char *agency);
void xl_payload_sealer_destroy(struct xl_payload_sealer **s);
/* Encrypts len bytes into out, which holds len + XL_PAYLOAD_OVERHEAD bytes. */
int xl_payload_seal(struct xl_payload_sealer *s, const void *plain, size_t len, uint8_t *out);

/* An opener for the analyst; it remembers the last 32 data keys it unsealed,
 * so the rows of a batch cost one X25519 operation in all, in whatever order
 * the batches' rows come. NULL on failure. */
struct xl_payload_opener *xl_payload_opener_new(const uint8_t pk[XL_KEY_BYTES],
                                                const uint8_t sk[XL_KEY_BYTES]);
void xl_payload_opener_destroy(struct xl_payload_opener **o);
/* Decrypts a payload of agency into out (len - XL_PAYLOAD_OVERHEAD bytes);
 * XL_ERR_CRYPTO for a payload altered, of another agency, or not for this key. */
int xl_payload_open(struct xl_payload_opener *o, const char *agency, const uint8_t *payload,
                    size_t len, uint8_t *out) __attribute__((warn_unused_result));

#endif
