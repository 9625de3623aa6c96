#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xl/err.h"
#include "xl/mem.h"
#include "xl/payload.h"

#define S_AAD_LABEL "crosslink payload v1"

struct xl_payload_sealer {
    uint8_t *key; /* xl_secret_alloc */
    uint8_t sealed[XL_PAYLOAD_SEALED_KEY];
    uint8_t prefix[XL_PAYLOAD_PREFIX];
    uint64_t counter;
    char agency[64];
};

/* Data keys an opener keeps: an extract interleaves the rows of every
 * dataset at random, so one remembered key would be unsealed again for
 * nearly every row. */
#define S_OPENER_KEYS 32

struct xl_payload_opener {
    uint8_t pk[XL_KEY_BYTES];
    uint8_t *sk;   /* xl_secret_alloc */
    uint8_t *keys; /* S_OPENER_KEYS data keys unsealed, xl_secret_alloc */
    uint8_t sealed[S_OPENER_KEYS][XL_PAYLOAD_SEALED_KEY];
    size_t nkeys, next; /* keys held; the one to replace next */
};

_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == XL_PAYLOAD_NONCE, "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == XL_KEY_BYTES, "key size");
_Static_assert(XL_PAYLOAD_OVERHEAD == XL_PAYLOAD_COMPACT_OVERHEAD + XL_PAYLOAD_KEY, "forms");

static size_t
s_aad(const char *agency, uint8_t *aad, size_t cap)
{
    size_t a = sizeof S_AAD_LABEL - 1, n = strlen(agency);

    if (a + 1 + n > cap)
        n = cap - a - 1;
    memcpy(aad, S_AAD_LABEL, a);
    aad[a] = 0;
    memcpy(aad + a + 1, agency, n);
    return a + 1 + n;
}

struct xl_payload_sealer *
xl_payload_sealer_new(const uint8_t analysis_pk[XL_KEY_BYTES], const char *agency)
{
    struct xl_payload_sealer *s = calloc(1, sizeof *s);

    if (s == NULL)
        return NULL;
    s->key = xl_secret_alloc(XL_KEY_BYTES);
    if (s->key == NULL || strlen(agency) >= sizeof s->agency) {
        xl_payload_sealer_destroy(&s);
        return NULL;
    }
    crypto_aead_xchacha20poly1305_ietf_keygen(s->key);
    if (xl_seal(analysis_pk, s->key, XL_KEY_BYTES, s->sealed) != 0) {
        xl_payload_sealer_destroy(&s);
        return NULL;
    }
    xl_random(s->prefix, sizeof s->prefix);
    strcpy(s->agency, agency);
    return s;
}

void
xl_payload_sealer_destroy(struct xl_payload_sealer **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    xl_secret_free((*sp)->key);
    xl_freezero(*sp, sizeof **sp);
    *sp = NULL;
}

void
xl_payload_sealer_key(const struct xl_payload_sealer *s, uint8_t out[XL_PAYLOAD_KEY])
{
    memcpy(out, s->sealed, XL_PAYLOAD_SEALED_KEY);
    memcpy(out + XL_PAYLOAD_SEALED_KEY, s->prefix, XL_PAYLOAD_PREFIX);
}

int
xl_payload_seal(struct xl_payload_sealer *s, const void *plain, size_t len, uint8_t *out)
{
    uint8_t aad[128], nonce[XL_PAYLOAD_NONCE], *counter = out + 1;
    size_t aadlen = s_aad(s->agency, aad, sizeof aad);
    unsigned long long clen = 0;
    uint64_t c = s->counter++;

    out[0] = XL_PAYLOAD_COMPACT;
    for (int i = 0; i < 8; i++)
        counter[i] = (uint8_t)(c >> (8 * i));
    memcpy(nonce, s->prefix, XL_PAYLOAD_PREFIX);
    memcpy(nonce + XL_PAYLOAD_PREFIX, counter, 8);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + 8, &clen, plain, len, aad, aadlen,
                                                   NULL, nonce, s->key) != 0)
        return XL_ERR_CRYPTO;
    return 0;
}

int
xl_payload_whole(const uint8_t key[XL_PAYLOAD_KEY], const uint8_t *payload, size_t len,
                 uint8_t *out)
{
    if (len < XL_PAYLOAD_COMPACT_OVERHEAD || payload[0] != XL_PAYLOAD_COMPACT)
        return XL_ERR_FORMAT;
    /* 0x01 || sealed key || prefix, then the counter and the rest as they
     * were: the counter is the nonce's last 8 bytes. */
    out[0] = XL_PAYLOAD_WHOLE;
    memcpy(out + 1, key, XL_PAYLOAD_KEY);
    memcpy(out + 1 + XL_PAYLOAD_KEY, payload + 1, len - 1);
    return 0;
}

struct xl_payload_opener *
xl_payload_opener_new(const uint8_t pk[XL_KEY_BYTES], const uint8_t sk[XL_KEY_BYTES])
{
    struct xl_payload_opener *o = calloc(1, sizeof *o);

    if (o == NULL)
        return NULL;
    o->sk = xl_secret_alloc(XL_KEY_BYTES);
    o->keys = xl_secret_alloc((size_t)S_OPENER_KEYS * XL_KEY_BYTES);
    if (o->sk == NULL || o->keys == NULL) {
        xl_payload_opener_destroy(&o);
        return NULL;
    }
    memcpy(o->pk, pk, XL_KEY_BYTES);
    memcpy(o->sk, sk, XL_KEY_BYTES);
    return o;
}

void
xl_payload_opener_destroy(struct xl_payload_opener **op)
{
    if (op == NULL || *op == NULL)
        return;
    xl_secret_free((*op)->sk);
    xl_secret_free((*op)->keys);
    xl_freezero(*op, sizeof **op);
    *op = NULL;
}

int
xl_payload_open(struct xl_payload_opener *o, const char *agency, const uint8_t *payload, size_t len,
                uint8_t *out)
{
    const uint8_t *sealed = payload + 1, *nonce = payload + 1 + XL_PAYLOAD_SEALED_KEY;
    uint8_t aad[128];
    size_t aadlen;
    unsigned long long plen = 0;
    size_t k;

    if (len < XL_PAYLOAD_OVERHEAD || payload[0] != XL_PAYLOAD_WHOLE)
        return XL_ERR_CRYPTO;
    for (k = 0; k < o->nkeys; k++) {
        if (memcmp(o->sealed[k], sealed, XL_PAYLOAD_SEALED_KEY) == 0)
            break;
    }
    if (k == o->nkeys) {
        k = o->nkeys < S_OPENER_KEYS ? o->nkeys++ : o->next++ % S_OPENER_KEYS;
        memset(o->sealed[k], 0, XL_PAYLOAD_SEALED_KEY);
        if (xl_seal_open(o->pk, o->sk, sealed, XL_PAYLOAD_SEALED_KEY, o->keys + k * XL_KEY_BYTES) !=
            0)
            return XL_ERR_CRYPTO; /* the slot stays empty (no sealed key matches zeros) */
        memcpy(o->sealed[k], sealed, XL_PAYLOAD_SEALED_KEY);
    }
    aadlen = s_aad(agency, aad, sizeof aad);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            out, &plen, NULL, nonce + XL_PAYLOAD_NONCE,
            len - 1 - XL_PAYLOAD_SEALED_KEY - XL_PAYLOAD_NONCE, aad, aadlen, nonce,
            o->keys + k * XL_KEY_BYTES) != 0)
        return XL_ERR_CRYPTO;
    return 0;
}
