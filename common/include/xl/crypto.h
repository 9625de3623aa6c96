/* Cryptographic primitives crosslink uses, with the sizes every module shares.
 *
 * libsodium for X25519, Ed25519, sealed boxes, KDF and random bytes; OpenSSL for
 * HMAC-SHA256 and SHA-256 (the match-key token is specified as HMAC-SHA256).
 * All functions return 0 or a negative XL_ERR_* code; output parameters are
 * cleared first, so on failure they hold no partial result. */
#ifndef XL_CRYPTO_H
#define XL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define XL_KEY_BYTES     32 /* X25519 public/secret, symmetric keys, linkage secret */
#define XL_SIGN_PK_BYTES 32 /* Ed25519 public key */
#define XL_SIGN_SK_BYTES 64 /* Ed25519 secret key (seed + public) */
#define XL_SIG_BYTES     64 /* Ed25519 signature */
#define XL_HASH_BYTES    32 /* SHA-256 */
#define XL_TOKEN_BYTES   16 /* match-key token: truncated HMAC-SHA256 */
#define XL_SEAL_OVERHEAD 48 /* crypto_box_seal: ephemeral pk + MAC */
#define XL_KEYID_BYTES   8  /* key id: first bytes of SHA-256(public key) */
#define XL_KEYID_HEX     (2 * XL_KEYID_BYTES)
#define XL_CHECK_BYTES   8  /* linkage-secret check value */
#define XL_REF_BYTES     16 /* local_ref: truncated HMAC of the agency local key */
#define XL_BLOCK_BYTES   8  /* a blocking key */
#define XL_SPEC_ID_BYTES 8  /* spec id in tokens: the first bytes of the spec fingerprint */

/* Subkeys of the coalition linkage secret (crypto_kdf ids, context "xlinkkdf").
 * The numbers are part of the protocol: changing one changes every token. */
enum xl_subkey {
    XL_SUBKEY_MATCH = 1, /* match-key token MAC key */
    XL_SUBKEY_BLOOM = 2, /* Bloom-filter q-gram hashing key */
    XL_SUBKEY_BLOCK = 3  /* blocking-key MAC key */
};

/* Initialises libsodium; call once before anything else. 0 or XL_ERR_INTERNAL. */
int xl_crypto_init(void);

void xl_random(void *buf, size_t n);

/* SHA-256 of data. */
void xl_sha256(const void *data, size_t len, uint8_t out[XL_HASH_BYTES]);

/* HMAC-SHA256 of the concatenation of parts (n parts, given as pointer/length
 * pairs), so callers need not copy identifiers into a temporary buffer. */
/* SHA-256 of the file at path, read without stdio buffering (the buffer is
 * wiped). 0, or XL_ERR_NOTFOUND / XL_ERR_IO naming the file. */
int xl_sha256_file(const char *path, uint8_t out[XL_HASH_BYTES], char *err, size_t errlen);

struct xl_iov {
    const void *p;
    size_t n;
};
int xl_hmac_sha256(const uint8_t *key, size_t keylen, const struct xl_iov *parts, size_t nparts,
                   uint8_t out[XL_HASH_BYTES]);

/* The match-key token: HMAC-SHA256(key, spec_id || level || value) truncated to
 * XL_TOKEN_BYTES. spec_id is the first XL_SPEC_ID_BYTES of the 32-byte
 * specification fingerprint spec_fp (short, so a typical value fits the one
 * SHA-256 block after the key), level one byte; value is the canonical
 * (normalised) value of the level. */
int xl_token(const uint8_t key[XL_KEY_BYTES], const uint8_t spec_fp[XL_HASH_BYTES], uint8_t level,
             const void *value, size_t len, uint8_t out[XL_TOKEN_BYTES]);

/* A MAC key prepared once and used for many messages: HMAC-SHA256 with the
 * inner and outer hash states computed at init, and optionally a constant
 * prefix (such as the specification fingerprint) absorbed too. Produces exactly
 * xl_hmac_sha256(key, prefix || parts) at a fraction of the cost for short
 * messages. Holds key material: keep it in xl_secret_alloc memory and clear it
 * with xl_mac_wipe. */
struct xl_mac {
    uint64_t state[64]; /* opaque: two SHA-256 contexts */
};
int xl_mac_init(struct xl_mac *m, const uint8_t *key, size_t keylen, const void *prefix,
                size_t prefixlen);
void xl_mac_compute(const struct xl_mac *m, const struct xl_iov *parts, size_t nparts,
                    uint8_t out[XL_HASH_BYTES]);
void xl_mac_wipe(struct xl_mac *m);

/* Derives the subkey `id` of the linkage secret (crypto_kdf, BLAKE2b). */
int xl_kdf_derive(const uint8_t secret[XL_KEY_BYTES], enum xl_subkey id, uint8_t out[XL_KEY_BYTES]);

/* Check value of a linkage secret and epoch: HMAC-SHA256(secret, "crosslink
 * secret check" || epoch as 4 bytes big-endian) truncated to XL_CHECK_BYTES.
 * Published by the key custodian so an agency can confirm its bundle, and
 * reveals nothing about the secret. */
int xl_secret_check(const uint8_t secret[XL_KEY_BYTES], uint32_t epoch,
                    uint8_t out[XL_CHECK_BYTES]);

/* Key pairs. */
int xl_box_keypair(uint8_t pk[XL_KEY_BYTES], uint8_t sk[XL_KEY_BYTES]);
int xl_sign_keypair(uint8_t pk[XL_SIGN_PK_BYTES], uint8_t sk[XL_SIGN_SK_BYTES]);
/* The X25519 public key of a secret key (to check a key file is consistent). */
int xl_box_public(const uint8_t sk[XL_KEY_BYTES], uint8_t pk[XL_KEY_BYTES]);

/* Ed25519 detached signatures. verify returns 0 or XL_ERR_CRYPTO. */
int xl_sign(const uint8_t sk[XL_SIGN_SK_BYTES], const void *msg, size_t len,
            uint8_t sig[XL_SIG_BYTES]);
int xl_verify(const uint8_t pk[XL_SIGN_PK_BYTES], const void *msg, size_t len,
              const uint8_t sig[XL_SIG_BYTES]) __attribute__((warn_unused_result));

/* Sealed boxes (anonymous sender, to pk). out must hold len + XL_SEAL_OVERHEAD
 * bytes for seal and len - XL_SEAL_OVERHEAD for open. open returns XL_ERR_CRYPTO
 * for a tampered or wrongly addressed box. */
int xl_seal(const uint8_t pk[XL_KEY_BYTES], const void *msg, size_t len, uint8_t *out);
int xl_seal_open(const uint8_t pk[XL_KEY_BYTES], const uint8_t sk[XL_KEY_BYTES], const uint8_t *box,
                 size_t len, uint8_t *out) __attribute__((warn_unused_result));

/* Key id of a public key: hex of the first XL_KEYID_BYTES of its SHA-256;
 * out holds XL_KEYID_HEX + 1 bytes. */
void xl_key_id(const uint8_t *pk, size_t pklen, char out[XL_KEYID_HEX + 1]);

/* Constant-time equality of two byte strings of length n: 1 if equal. */
int xl_equal(const void *a, const void *b, size_t n);

/* Hex encoding (lower case). out holds 2*len+1. */
void xl_hex(const uint8_t *in, size_t len, char *out);
/* Hex decoding of exactly outlen bytes; XL_ERR_FORMAT otherwise. */
int xl_unhex(const char *in, uint8_t *out, size_t outlen);

/* Z85 (ZeroMQ RFC 32) text of binary keys. len must be a multiple of 4; out holds
 * len*5/4 + 1. decode expects exactly outlen*5/4 characters and returns
 * XL_ERR_FORMAT for a wrong length or a character outside the alphabet. */
int xl_z85_encode(const uint8_t *in, size_t len, char *out);
int xl_z85_decode(const char *in, uint8_t *out, size_t outlen);

#endif
