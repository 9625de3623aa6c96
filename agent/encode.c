#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "encode.h"
#include "xl/err.h"
#include "xl/mem.h"
#include "xl/payload.h"

/* Separates the parts of a match-key or blocking value. Normalised values never
 * contain control characters, so the joined value is unambiguous. */
#define S_SEP '\x1f'
/* Blocking-key tokens are hashed with 0x80 + index in place of a level byte, so
 * they can never equal a match-key token. */
#define S_BLOCK_TAG 0x80
#define S_MAX_SURNAME_PARTS 3
#define S_VALUE_MAX 1024

/* Keys live in one xl_secret_alloc block. */
struct s_keys {
    struct xl_mac match; /* HMAC(match subkey), spec fingerprint absorbed */
    struct xl_mac block; /* HMAC(block subkey), spec fingerprint absorbed */
    struct xl_mac local; /* HMAC(agency local key) */
    uint8_t bloom[crypto_shorthash_siphash24_KEYBYTES];
    uint8_t check[XL_CHECK_BYTES];
};

struct agent_encoder {
    const struct xl_spec *spec;
    struct s_keys *k;
    struct xl_payload_sealer *sealer;
    char agency[64];
    char dataset[64];
};

void
agent_person_wipe(struct agent_person *p)
{
    xl_wipe(p, sizeof *p);
}

/* Copies the name with its spaces removed. */
static int
s_compact(const char *norm, char *out, size_t outlen)
{
    /* An empty name is missing, never hashed as "". */
    if (agent_name_compact(norm, out, outlen) != AGENT_OK || out[0] == '\0')
        return XL_ERR_NOTFOUND;
    return 0;
}

/* The first UTF-8 character of s. */
static int
s_initial(const char *s, char *out, size_t outlen)
{
    size_t n = 1;

    if (s[0] == '\0')
        return XL_ERR_NOTFOUND;
    while (s[n] != '\0' && ((unsigned char)s[n] & 0xC0) == 0x80)
        n++;
    if (n >= outlen)
        return XL_ERR_NOTFOUND;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int
s_copy(const char *v, char *out, size_t outlen)
{
    size_t n = strlen(v);

    if (n == 0 || n >= outlen)
        return XL_ERR_NOTFOUND;
    memcpy(out, v, n + 1);
    return 0;
}

/* The first name as match keys use it: compacted, nickname replaced. */
static int
s_first(const struct agent_person *p, int nicknames, char *out, size_t outlen)
{
    const char *canon;

    if (s_compact(p->first, out, outlen) != 0)
        return XL_ERR_NOTFOUND;
    if (nicknames) {
        canon = agent_nickname_canonical(out, strlen(out));
        if (canon != NULL)
            return s_copy(canon, out, outlen);
    }
    return 0;
}

int
agent_field_value(const struct agent_person *p, enum xl_field f, int nicknames, char *out,
                  size_t outlen)
{
    char tmp[AGENT_NAME_MAX];
    int r;

    if (outlen > 0)
        out[0] = '\0';
    switch (f) {
    case XL_F_NHS_NUMBER: return s_copy(p->nhs, out, outlen);
    case XL_F_UPN: return s_copy(p->upn, out, outlen);
    case XL_F_FIRST_NAME: return s_first(p, nicknames, out, outlen);
    case XL_F_FIRST_INITIAL:
        r = s_first(p, nicknames, tmp, sizeof tmp);
        return r != 0 ? r : s_initial(tmp, out, outlen);
    case XL_F_MIDDLE_NAME: return s_compact(p->middle, out, outlen);
    case XL_F_SURNAME: return s_compact(p->surname, out, outlen);
    case XL_F_SURNAME_PHONETIC:
        if (outlen < 5 || p->surname[0] == '\0')
            return XL_ERR_NOTFOUND;
        return agent_soundex(p->surname, out) == AGENT_OK ? 0 : XL_ERR_NOTFOUND;
    case XL_F_FIRST_PHONETIC:
        r = s_first(p, nicknames, tmp, sizeof tmp);
        if (r != 0 || outlen < 5)
            return XL_ERR_NOTFOUND;
        return agent_soundex(tmp, out) == AGENT_OK ? 0 : XL_ERR_NOTFOUND;
    case XL_F_DOB: return s_copy(p->dob, out, outlen);
    case XL_F_YOB:
        if (p->dob[0] == '\0' || outlen < 5)
            return XL_ERR_NOTFOUND;
        memcpy(out, p->dob, 4);
        out[4] = '\0';
        return 0;
    case XL_F_SEX: return s_copy(p->sex, out, outlen);
    case XL_F_POSTCODE: return s_copy(p->postcode, out, outlen);
    case XL_F_DISTRICT: return s_copy(p->district, out, outlen);
    case XL_F_SECTOR: return s_copy(p->sector, out, outlen);
    default: return XL_ERR_NOTFOUND;
    }
}

struct agent_encoder *
agent_encoder_new(const struct xl_spec *spec, const struct xl_keyfile *secret,
                  const struct xl_keyfile *local, const uint8_t analysis_pk[XL_KEY_BYTES],
                  const char *agency, const char *dataset, char *err, size_t errlen)
{
    struct agent_encoder *e = calloc(1, sizeof *e);
    uint8_t sub[XL_KEY_BYTES];

    if (e == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    e->spec = spec;
    snprintf(e->agency, sizeof e->agency, "%s", agency);
    snprintf(e->dataset, sizeof e->dataset, "%s", dataset);
    e->k = xl_secret_alloc(sizeof *e->k);
    e->sealer = xl_payload_sealer_new(analysis_pk, agency);
    if (e->k == NULL || e->sealer == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "cannot prepare keys (out of memory)");
        agent_encoder_destroy(&e);
        return NULL;
    }
    if (xl_kdf_derive(secret->secret, XL_SUBKEY_MATCH, sub) != 0 ||
        xl_mac_init(&e->k->match, sub, sizeof sub, spec->fingerprint, XL_HASH_BYTES) != 0 ||
        xl_kdf_derive(secret->secret, XL_SUBKEY_BLOCK, sub) != 0 ||
        xl_mac_init(&e->k->block, sub, sizeof sub, spec->fingerprint, XL_HASH_BYTES) != 0 ||
        xl_kdf_derive(secret->secret, XL_SUBKEY_BLOOM, sub) != 0 ||
        xl_mac_init(&e->k->local, local->secret, local->secretlen, NULL, 0) != 0 ||
        xl_secret_check(secret->secret, secret->epoch, e->k->check) != 0) {
        xl_wipe(sub, sizeof sub);
        xl_err_set(err, errlen, XL_ERR_CRYPTO, "key derivation failed");
        agent_encoder_destroy(&e);
        return NULL;
    }
    memcpy(e->k->bloom, sub, sizeof e->k->bloom);
    xl_wipe(sub, sizeof sub);
    return e;
}

void
agent_encoder_destroy(struct agent_encoder **ep)
{
    if (ep == NULL || *ep == NULL)
        return;
    xl_secret_free((*ep)->k);
    xl_payload_sealer_destroy(&(*ep)->sealer);
    free(*ep);
    *ep = NULL;
}

void
agent_encoder_secret_check(const struct agent_encoder *e, uint8_t out[XL_CHECK_BYTES])
{
    memcpy(out, e->k->check, XL_CHECK_BYTES);
}

/* Joins the values of parts (with substitutions for variants) into out.
 * Returns the length, or -1 when a part is missing. */
static int
s_join(const struct agent_person *p, const enum xl_field *parts, size_t nparts, int nicknames,
       char *out, size_t outlen)
{
    size_t n = 0;

    for (size_t i = 0; i < nparts; i++) {
        if (i > 0) {
            if (n + 1 >= outlen)
                return -1;
            out[n++] = S_SEP;
        }
        if (agent_field_value(p, parts[i], nicknames, out + n, outlen - n) != 0)
            return -1;
        n += strlen(out + n);
    }
    return (int)n;
}

static void
s_add_token(struct agent_encoded *o, size_t *nkeys, const struct agent_encoder *e, uint8_t level,
            uint8_t hashed_level, const char *value, size_t len)
{
    uint8_t mac[XL_HASH_BYTES];
    struct xl_iov parts[2] = {{&hashed_level, 1}, {value, len}};
    size_t i = *nkeys;

    if (i >= AGENT_MAX_KEYS)
        return;
    xl_mac_compute(&e->k->match, parts, 2, mac);
    /* The same value may arise twice (a variant equal to the original): one token. */
    for (size_t j = 0; j < i; j++) {
        if (o->keys[j].level == level && xl_equal(o->tokens[j], mac, XL_TOKEN_BYTES)) {
            xl_wipe(mac, sizeof mac);
            return;
        }
    }
    memcpy(o->tokens[i], mac, XL_TOKEN_BYTES);
    xl_wipe(mac, sizeof mac);
    crosslink__match_key__init(&o->keys[i]);
    o->keys[i].level = level;
    o->keys[i].token.data = o->tokens[i];
    o->keys[i].token.len = XL_TOKEN_BYTES;
    o->keyp[i] = &o->keys[i];
    *nkeys = i + 1;
}

/* The person as a variant sees it: names swapped, or day and month swapped.
 * Returns 0 when the variant does not apply (it would equal the original, or
 * the date cannot be transposed). */
static int
s_variant(const struct agent_person *p, enum xl_variant v, struct agent_person *q)
{
    *q = *p;
    if (v == XL_VARIANT_NAMES_SWAPPED) {
        if (p->first[0] == '\0' || p->surname[0] == '\0' || strcmp(p->first, p->surname) == 0)
            return 0;
        memcpy(q->first, p->surname, sizeof q->first);
        memcpy(q->surname, p->first, sizeof q->surname);
        return 1;
    }
    if (v == XL_VARIANT_DOB_TRANSPOSED) {
        /* YYYY-MM-DD: swap MM and DD when the day could be a month. */
        if (p->dob[0] == '\0' || memcmp(p->dob + 5, p->dob + 8, 2) == 0 ||
            (p->dob[8] > '1' || (p->dob[8] == '1' && p->dob[9] > '2')) ||
            (p->dob[8] == '0' && p->dob[9] == '0'))
            return 0;
        q->dob[5] = p->dob[8];
        q->dob[6] = p->dob[9];
        q->dob[8] = p->dob[5];
        q->dob[9] = p->dob[6];
        return 1;
    }
    return 0;
}

static int
s_has(const enum xl_field *parts, size_t n, enum xl_field f)
{
    for (size_t i = 0; i < n; i++) {
        if (parts[i] == f)
            return 1;
    }
    return 0;
}

static size_t
s_tokens(const struct agent_encoder *e, const struct agent_person *p, struct agent_encoded *o)
{
    const struct xl_spec *s = e->spec;
    struct agent_person q, r;
    char value[S_VALUE_MAX];
    size_t nkeys = 0;
    int n;

    for (size_t i = 0; i < s->nlevels; i++) {
        const struct xl_spec_level *l = &s->levels[i];
        const struct agent_person *src = p;
        if (l->variant != XL_VARIANT_NONE) {
            if (!s_variant(p, l->variant, &q))
                continue;
            src = &q;
        }
        n = s_join(src, l->parts, l->nparts, s->nicknames, value, sizeof value);
        if (n < 0)
            continue; /* a level whose inputs are missing is skipped, never hashed empty */
        s_add_token(o, &nkeys, e, l->number, l->compare, value, (size_t)n);
        /* A double-barrelled surname also matches on each of its parts. */
        if (s_has(l->parts, l->nparts, XL_F_SURNAME) && strchr(src->surname, ' ') != NULL) {
            struct agent_name_part parts[S_MAX_SURNAME_PARTS];
            size_t np = agent_name_parts(src->surname, parts, S_MAX_SURNAME_PARTS);
            for (size_t j = 0; j < np && j < S_MAX_SURNAME_PARTS; j++) {
                r = *src;
                memcpy(r.surname, parts[j].s, parts[j].len);
                r.surname[parts[j].len] = '\0';
                n = s_join(&r, l->parts, l->nparts, s->nicknames, value, sizeof value);
                if (n >= 0)
                    s_add_token(o, &nkeys, e, l->number, l->compare, value, (size_t)n);
            }
        }
    }
    agent_person_wipe(&q);
    agent_person_wipe(&r);
    xl_wipe(value, sizeof value);
    return nkeys;
}

static inline uint64_t
s_le64(const uint8_t *b)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static inline uint64_t
s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void
agent_encode_clk(const struct agent_encoder *e, const struct agent_person *p, uint8_t *clk)
{
    const struct xl_spec *s = e->spec;
    uint8_t full[XL_CLK_MAX_BITS / 8];
    char value[S_VALUE_MAX], salt[64];
    /* Hash input: field number, salt, separator, q-gram (q UTF-8 characters). */
    uint8_t in[1 + sizeof salt + 1 + 4 * 4];
    size_t saltlen = 0, nbytes = s->clk_bits / 8;

    memset(full, 0, nbytes);
    if (s->clk_salt >= 0 &&
        agent_field_value(p, (enum xl_field)s->clk_salt, 0, salt, sizeof salt) == 0)
        saltlen = strlen(salt);
    for (size_t f = 0; f < s->nclk_fields; f++) {
        const struct xl_spec_clk_field *cf = &s->clk_fields[f];
        /* Padded with q-1 '_' on each side, so first and last letters count. */
        size_t pad = s->clk_q - 1, start[S_VALUE_MAX + 8], nchars = 0, len;
        char *v = value + pad;
        if (agent_field_value(p, cf->field, 0, v, sizeof value - 2 * pad - 1) != 0)
            continue;
        len = strlen(v);
        memset(value, '_', pad);
        memset(v + len, '_', pad);
        len += 2 * pad;
        value[len] = '\0';
        /* Character boundaries, so q-grams of non-Latin names are whole characters. */
        for (size_t i = 0; i < len; i++) {
            if (((unsigned char)value[i] & 0xC0) != 0x80)
                start[nchars++] = i;
        }
        start[nchars] = len;
        in[0] = (uint8_t)cf->field;
        memcpy(in + 1, salt, saltlen);
        in[1 + saltlen] = (uint8_t)S_SEP;
        for (size_t g = 0; g + s->clk_q <= nchars; g++) {
            size_t glen = start[g + s->clk_q] - start[g], inlen = 2 + saltlen + glen;
            uint64_t x;
            uint8_t h8[8];
            if (glen > 16)
                continue;
            memcpy(in + 2 + saltlen, value + start[g], glen);
            crypto_shorthash_siphash24(h8, in, inlen, e->k->bloom);
            x = s_le64(h8); /* the same bits on any byte order */
            /* Random hashing: the keyed hash seeds a generator that draws k
             * independent positions (not the double-hashing scheme, whose
             * structure leaks through pattern-mining attacks). */
            for (unsigned j = 0; j < cf->k; j++) {
                uint64_t r = s_splitmix(&x);
                uint32_t bit = (uint32_t)(((unsigned __int128)r * s->clk_bits) >> 64);
                full[bit >> 3] |= (uint8_t)(1u << (bit & 7));
            }
        }
    }
    if (s->clk_xor_fold) {
        for (size_t i = 0; i < nbytes / 2; i++)
            clk[i] = full[i] ^ full[i + nbytes / 2];
    } else {
        memcpy(clk, full, nbytes);
    }
    xl_wipe(value, sizeof value);
    xl_wipe(in, sizeof in);
    xl_wipe(salt, sizeof salt);
}

static size_t
s_blocks(const struct agent_encoder *e, const struct agent_person *p, struct agent_encoded *o)
{
    const struct xl_spec *s = e->spec;
    char value[S_VALUE_MAX];
    uint8_t mac[XL_HASH_BYTES];
    size_t nb = 0;

    for (size_t i = 0; i < s->nblocks; i++) {
        uint8_t tag = (uint8_t)(S_BLOCK_TAG + i);
        int n = s_join(p, s->blocks[i].parts, s->blocks[i].nparts, s->nicknames, value,
                       sizeof value);
        struct xl_iov parts[2] = {{&tag, 1}, {value, 0}};
        if (n < 0)
            continue;
        parts[1].n = (size_t)n;
        xl_mac_compute(&e->k->block, parts, 2, mac);
        memcpy(o->blocks[nb], mac, AGENT_BLOCK_BYTES);
        o->blockp[nb].data = o->blocks[nb];
        o->blockp[nb].len = AGENT_BLOCK_BYTES;
        nb++;
    }
    xl_wipe(mac, sizeof mac);
    xl_wipe(value, sizeof value);
    return nb;
}

static int
s_payload(struct agent_encoder *e, const char *const *outcomes, size_t n, struct agent_encoded *o,
          size_t *outlen)
{
    uint8_t plain[AGENT_MAX_PAYLOAD];
    static const uint8_t zeros[64];
    Crosslink__Outcome oc = CROSSLINK__OUTCOME__INIT;
    size_t len, padded;
    int r;

    oc.n_values = n;
    oc.values = (char **)outcomes;
    len = crosslink__outcome__get_packed_size(&oc);
    /* Pad to a multiple of 64 bytes: a length-delimited field of 2+ bytes. */
    /* Always some padding: an empty pad field would not be encoded at all. */
    padded = (len + 2 + 63) / 64 * 64;
    if (padded == len + 2)
        padded += 64;
    if (padded + XL_PAYLOAD_OVERHEAD > AGENT_MAX_PAYLOAD)
        return XL_ERR_TOOBIG;
    if (padded >= len + 2) {
        oc.pad.data = (uint8_t *)zeros;
        oc.pad.len = padded - len - 2;
    }
    len = crosslink__outcome__pack(&oc, plain);
    r = xl_payload_seal(e->sealer, plain, len, o->payload);
    xl_wipe(plain, len);
    *outlen = len + XL_PAYLOAD_OVERHEAD;
    return r;
}

int
agent_encode(struct agent_encoder *e, const struct agent_person *p, const char *const *outcomes,
             size_t noutcomes, struct agent_encoded *o)
{
    struct xl_iov parts[5];
    uint8_t mac[XL_HASH_BYTES], sep = (uint8_t)S_SEP;
    size_t paylen = 0;
    int r;

    crosslink__record__init(&o->rec);
    parts[0] = (struct xl_iov){e->agency, strlen(e->agency)};
    parts[1] = (struct xl_iov){&sep, 1};
    parts[2] = (struct xl_iov){e->dataset, strlen(e->dataset)};
    parts[3] = (struct xl_iov){&sep, 1};
    parts[4] = (struct xl_iov){p->source_id, strlen(p->source_id)};
    xl_mac_compute(&e->k->local, parts, 5, mac);
    memcpy(o->local_ref, mac, AGENT_REF_BYTES);
    xl_wipe(mac, sizeof mac);
    o->rec.local_ref.data = o->local_ref;
    o->rec.local_ref.len = AGENT_REF_BYTES;

    o->rec.n_keys = s_tokens(e, p, o);
    o->rec.keys = o->keyp;

    agent_encode_clk(e, p, o->clk);
    o->rec.clk.data = o->clk;
    o->rec.clk.len = xl_spec_clk_bytes(e->spec);

    o->rec.n_blocks = s_blocks(e, p, o);
    o->rec.blocks = o->blockp;

    r = s_payload(e, outcomes, noutcomes, o, &paylen);
    if (r != 0)
        return r;
    o->rec.payload.data = o->payload;
    o->rec.payload.len = paylen;
    return 0;
}
