#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <zmq.h>

#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/mem.h"

/* crypto_kdf context: exactly crypto_kdf_CONTEXTBYTES (8) characters. */
static const char s_kdf_context[crypto_kdf_CONTEXTBYTES + 1] = "xlinkkdf";
static const char s_check_label[] = "crosslink secret check";

int
xl_crypto_init(void)
{
    return sodium_init() < 0 ? XL_ERR_INTERNAL : 0;
}

void
xl_random(void *buf, size_t n)
{
    randombytes_buf(buf, n);
}

void
xl_sha256(const void *data, size_t len, uint8_t out[XL_HASH_BYTES])
{
    SHA256(data, len, out);
}

int
xl_sha256_file(const char *path, uint8_t out[XL_HASH_BYTES], char *err, size_t errlen)
{
    crypto_hash_sha256_state st;
    unsigned char buf[65536];
    size_t n;
    FILE *f = fopen(path, "rbe");

    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open: %s", path, strerror(errno));
    setvbuf(f, NULL, _IONBF, 0);
    crypto_hash_sha256_init(&st);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&st, buf, n);
    xl_wipe(buf, sizeof buf); /* an extract's bytes */
    if (ferror(f)) {
        fclose(f);
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: read failed", path);
    }
    fclose(f);
    crypto_hash_sha256_final(&st, out);
    return 0;
}

int
xl_hmac_sha256(const uint8_t *key, size_t keylen, const struct xl_iov *parts, size_t nparts,
               uint8_t out[XL_HASH_BYTES])
{
    int r = XL_ERR_INTERNAL;
    unsigned int outlen = 0;
    HMAC_CTX *ctx;

    memset(out, 0, XL_HASH_BYTES);
    /* HMAC_CTX is deprecated in OpenSSL 3 but is several times faster than
     * EVP_MAC for the short messages tokens are made of; the hot path of the
     * agent is one HMAC per match-key level per record. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    ctx = HMAC_CTX_new();
    if (ctx == NULL)
        return XL_ERR_NOMEM;
    if (HMAC_Init_ex(ctx, key, (int)keylen, EVP_sha256(), NULL) != 1)
        goto out;
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n > 0 && HMAC_Update(ctx, parts[i].p, parts[i].n) != 1)
            goto out;
    }
    if (HMAC_Final(ctx, out, &outlen) != 1 || outlen != XL_HASH_BYTES)
        goto out;
    r = 0;
out:
    HMAC_CTX_free(ctx); /* clears the key schedule */
#pragma GCC diagnostic pop
    if (r != 0)
        xl_wipe(out, XL_HASH_BYTES);
    return r;
}

/* The two SHA-256 states of a prepared HMAC key. SHA256_CTX is deprecated in
 * OpenSSL 3, but it is the only interface that lets a hash state be copied
 * for the cost of a struct copy, which is what makes tokens cheap. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct s_mac_state {
    SHA256_CTX inner, outer;
};
_Static_assert(sizeof(struct s_mac_state) <= sizeof(struct xl_mac), "xl_mac too small");

int
xl_mac_init(struct xl_mac *m, const uint8_t *key, size_t keylen, const void *prefix,
            size_t prefixlen)
{
    struct s_mac_state *st = (struct s_mac_state *)m->state;
    uint8_t block[64], khash[XL_HASH_BYTES];

    memset(m, 0, sizeof *m);
    memset(block, 0, sizeof block);
    if (keylen > sizeof block) {
        SHA256(key, keylen, khash);
        memcpy(block, khash, sizeof khash);
    } else {
        memcpy(block, key, keylen);
    }
    for (size_t i = 0; i < sizeof block; i++)
        block[i] ^= 0x36;
    SHA256_Init(&st->inner);
    SHA256_Update(&st->inner, block, sizeof block);
    if (prefixlen > 0)
        SHA256_Update(&st->inner, prefix, prefixlen);
    for (size_t i = 0; i < sizeof block; i++)
        block[i] ^= 0x36 ^ 0x5c;
    SHA256_Init(&st->outer);
    SHA256_Update(&st->outer, block, sizeof block);
    xl_wipe(block, sizeof block);
    xl_wipe(khash, sizeof khash);
    return 0;
}

void
xl_mac_compute(const struct xl_mac *m, const struct xl_iov *parts, size_t nparts,
               uint8_t out[XL_HASH_BYTES])
{
    const struct s_mac_state *st = (const struct s_mac_state *)m->state;
    SHA256_CTX c = st->inner;
    uint8_t ih[XL_HASH_BYTES];

    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n > 0)
            SHA256_Update(&c, parts[i].p, parts[i].n);
    }
    SHA256_Final(ih, &c);
    c = st->outer;
    SHA256_Update(&c, ih, sizeof ih);
    SHA256_Final(out, &c);
    xl_wipe(&c, sizeof c);
}
#pragma GCC diagnostic pop

void
xl_mac_wipe(struct xl_mac *m)
{
    xl_wipe(m, sizeof *m);
}

int
xl_token(const uint8_t key[XL_KEY_BYTES], const uint8_t spec_fp[XL_HASH_BYTES], uint8_t level,
         const void *value, size_t len, uint8_t out[XL_TOKEN_BYTES])
{
    uint8_t mac[XL_HASH_BYTES];
    struct xl_iov parts[3] = {{spec_fp, XL_SPEC_ID_BYTES}, {&level, 1}, {value, len}};
    int r;

    memset(out, 0, XL_TOKEN_BYTES);
    r = xl_hmac_sha256(key, XL_KEY_BYTES, parts, 3, mac);
    if (r == 0)
        memcpy(out, mac, XL_TOKEN_BYTES);
    xl_wipe(mac, sizeof mac);
    return r;
}

int
xl_kdf_derive(const uint8_t secret[XL_KEY_BYTES], enum xl_subkey id, uint8_t out[XL_KEY_BYTES])
{
    if (crypto_kdf_derive_from_key(out, XL_KEY_BYTES, (uint64_t)id, s_kdf_context, secret) != 0) {
        xl_wipe(out, XL_KEY_BYTES);
        return XL_ERR_INTERNAL;
    }
    return 0;
}

int
xl_secret_check(const uint8_t secret[XL_KEY_BYTES], uint32_t epoch, uint8_t out[XL_CHECK_BYTES])
{
    uint8_t be[4] = {(uint8_t)(epoch >> 24), (uint8_t)(epoch >> 16), (uint8_t)(epoch >> 8),
                     (uint8_t)epoch};
    struct xl_iov parts[2] = {{s_check_label, sizeof s_check_label - 1}, {be, 4}};
    uint8_t mac[XL_HASH_BYTES];
    int r;

    memset(out, 0, XL_CHECK_BYTES);
    r = xl_hmac_sha256(secret, XL_KEY_BYTES, parts, 2, mac);
    if (r == 0)
        memcpy(out, mac, XL_CHECK_BYTES);
    xl_wipe(mac, sizeof mac);
    return r;
}

int
xl_box_keypair(uint8_t pk[XL_KEY_BYTES], uint8_t sk[XL_KEY_BYTES])
{
    return crypto_box_keypair(pk, sk) == 0 ? 0 : XL_ERR_INTERNAL;
}

int
xl_sign_keypair(uint8_t pk[XL_SIGN_PK_BYTES], uint8_t sk[XL_SIGN_SK_BYTES])
{
    return crypto_sign_keypair(pk, sk) == 0 ? 0 : XL_ERR_INTERNAL;
}

int
xl_box_public(const uint8_t sk[XL_KEY_BYTES], uint8_t pk[XL_KEY_BYTES])
{
    return crypto_scalarmult_base(pk, sk) == 0 ? 0 : XL_ERR_INTERNAL;
}

int
xl_sign(const uint8_t sk[XL_SIGN_SK_BYTES], const void *msg, size_t len, uint8_t sig[XL_SIG_BYTES])
{
    if (crypto_sign_detached(sig, NULL, msg, len, sk) != 0) {
        memset(sig, 0, XL_SIG_BYTES);
        return XL_ERR_INTERNAL;
    }
    return 0;
}

int
xl_verify(const uint8_t pk[XL_SIGN_PK_BYTES], const void *msg, size_t len,
          const uint8_t sig[XL_SIG_BYTES])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : XL_ERR_CRYPTO;
}

int
xl_seal(const uint8_t pk[XL_KEY_BYTES], const void *msg, size_t len, uint8_t *out)
{
    return crypto_box_seal(out, msg, len, pk) == 0 ? 0 : XL_ERR_CRYPTO;
}

int
xl_seal_open(const uint8_t pk[XL_KEY_BYTES], const uint8_t sk[XL_KEY_BYTES], const uint8_t *box,
             size_t len, uint8_t *out)
{
    if (len < XL_SEAL_OVERHEAD)
        return XL_ERR_CRYPTO;
    if (crypto_box_seal_open(out, box, len, pk, sk) != 0) {
        xl_wipe(out, len - XL_SEAL_OVERHEAD);
        return XL_ERR_CRYPTO;
    }
    return 0;
}

void
xl_key_id(const uint8_t *pk, size_t pklen, char out[XL_KEYID_HEX + 1])
{
    uint8_t h[XL_HASH_BYTES];

    xl_sha256(pk, pklen, h);
    xl_hex(h, XL_KEYID_BYTES, out);
}

int
xl_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void
xl_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int
s_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
xl_unhex(const char *in, uint8_t *out, size_t outlen)
{
    if (strlen(in) != 2 * outlen)
        return XL_ERR_FORMAT;
    for (size_t i = 0; i < outlen; i++) {
        int hi = s_hexval((unsigned char)in[2 * i]), lo = s_hexval((unsigned char)in[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            xl_wipe(out, outlen);
            return XL_ERR_FORMAT;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int
xl_z85_encode(const uint8_t *in, size_t len, char *out)
{
    if (len % 4 != 0)
        return XL_ERR_INVALID;
    return zmq_z85_encode(out, in, len) != NULL ? 0 : XL_ERR_INVALID;
}

int
xl_z85_decode(const char *in, uint8_t *out, size_t outlen)
{
    if (outlen % 4 != 0 || strlen(in) != outlen / 4 * 5)
        return XL_ERR_FORMAT;
    if (zmq_z85_decode(out, in) == NULL) {
        xl_wipe(out, outlen);
        return XL_ERR_FORMAT;
    }
    return 0;
}
