/* Outcome payloads: a record's outcome attributes, encrypted so that only a
 * holder of the analysis secret key can read them; the linker stores and
 * forwards them without being able to.
 *
 * Sealing every record with crypto_box_seal would cost two X25519 operations
 * per record. Instead a sealer draws one random data key, seals it once to the
 * analysis public key, and encrypts each payload with XChaCha20-Poly1305 under
 * that key, the agency's name bound in as associated data. Nonces are a random
 * 16-byte prefix per sealer and a 64-bit counter: never repeated under one key.
 *
 * What is the same for a whole batch (a file, a submission) travels once, in
 * the .xle header and SubmitBegin, as the batch's payload key; each record
 * carries only what is its own (the compact form):
 *
 *   payload key = sealed data key (80) || nonce prefix (16)
 *   payload     = 0x02 || counter (8, little-endian) || ciphertext || tag (16)
 *
 * An analyst receives each row whole, readable on its own whichever extract
 * it ends up in: the linker puts the batch's key back in (xl_payload_whole),
 *
 *   payload = 0x01 || sealed data key (80) || nonce (24) || ciphertext || tag (16)
 *
 * with nonce = prefix || counter. That whole form is also what agents wrote
 * into every record before the payload key travelled once: files and stores
 * of that time keep working. */
#ifndef XL_PAYLOAD_H
#define XL_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "xl/crypto.h"

#define XL_PAYLOAD_WHOLE            1 /* first byte of the whole form */
#define XL_PAYLOAD_COMPACT          2 /* first byte of the compact form */
#define XL_PAYLOAD_SEALED_KEY       (XL_KEY_BYTES + XL_SEAL_OVERHEAD)
#define XL_PAYLOAD_NONCE            24
#define XL_PAYLOAD_PREFIX           16
#define XL_PAYLOAD_KEY              (XL_PAYLOAD_SEALED_KEY + XL_PAYLOAD_PREFIX)
#define XL_PAYLOAD_OVERHEAD         (1 + XL_PAYLOAD_SEALED_KEY + XL_PAYLOAD_NONCE + 16)
#define XL_PAYLOAD_COMPACT_OVERHEAD (1 + XL_PAYLOAD_NONCE - XL_PAYLOAD_PREFIX + 16)

struct xl_payload_sealer;
struct xl_payload_opener;

/* A sealer for one batch (a file, a submission) of one agency. NULL on failure.
 * Destroy with xl_payload_sealer_destroy, which wipes the data key. */
struct xl_payload_sealer *xl_payload_sealer_new(const uint8_t analysis_pk[XL_KEY_BYTES],
                                                const char *agency);
void xl_payload_sealer_destroy(struct xl_payload_sealer **s);
/* The batch's payload key: its sealed data key and nonce prefix. */
void xl_payload_sealer_key(const struct xl_payload_sealer *s, uint8_t out[XL_PAYLOAD_KEY]);
/* Encrypts len bytes into out in the compact form, which holds
 * len + XL_PAYLOAD_COMPACT_OVERHEAD bytes. */
int xl_payload_seal(struct xl_payload_sealer *s, const void *plain, size_t len, uint8_t *out);

/* A compact payload of len bytes with its batch's key put back in: the whole
 * form, len + XL_PAYLOAD_KEY bytes, into out. XL_ERR_FORMAT when payload is
 * not in the compact form. Nothing is decrypted: the linker does this. */
int xl_payload_whole(const uint8_t key[XL_PAYLOAD_KEY], const uint8_t *payload, size_t len,
                     uint8_t *out);

/* An opener for the analyst; it remembers the last 32 data keys it unsealed,
 * so the rows of a batch cost one X25519 operation in all, in whatever order
 * the batches' rows come. NULL on failure. */
struct xl_payload_opener *xl_payload_opener_new(const uint8_t pk[XL_KEY_BYTES],
                                                const uint8_t sk[XL_KEY_BYTES]);
void xl_payload_opener_destroy(struct xl_payload_opener **o);
/* Decrypts a payload of agency in the whole form into out
 * (len - XL_PAYLOAD_OVERHEAD bytes);
 * XL_ERR_CRYPTO for a payload altered, of another agency, or not for this key. */
int xl_payload_open(struct xl_payload_opener *o, const char *agency, const uint8_t *payload,
                    size_t len, uint8_t *out) __attribute__((warn_unused_result));

#endif
