#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "encode.h"
#include "xl/splitmix.h"
#include "xl/err.h"
#include "xl/mem.h"
#include "xl/payload.h"

/* Separates the parts of a match-key or blocking value. Normalised values never
 * contain control characters, so the joined value is unambiguous. */
#define S_SEP '\x1f'
/* Blocking-key tokens are hashed with 0x80 + index in place of a level byte, so
 * they can never equal a match-key token. */
#define S_BLOCK_TAG         0x80
#define S_MAX_SURNAME_PARTS 3
#define S_VALUE_MAX         1024

struct s_values;

/* Keys live in one xl_secret_alloc block. */
struct s_keys {
    struct xl_mac match; /* HMAC(match subkey), spec id absorbed */
    uint8_t blockkey[crypto_shorthash_siphash24_KEYBYTES]; /* block subkey (first 16 bytes) */
    struct xl_mac local;                                   /* HMAC(agency local key) */
    uint8_t bloom[crypto_shorthash_siphash24_KEYBYTES];
    uint8_t check[XL_CHECK_BYTES];
};

struct agent_encoder {
    const struct xl_spec *spec;
    struct s_keys *k;
    struct xl_payload_sealer *sealer;
    struct s_values *values; /* scratch: match keys, CLK, swapped variant, blocking keys */
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

/* A first name as match keys use it: compacted, nickname replaced. */
static int
s_first(const char *first, int nicknames, char *out, size_t outlen, int *replaced)
{
    const char *canon;

    *replaced = 0;
    if (s_compact(first, out, outlen) != 0)
        return XL_ERR_NOTFOUND;
    if (nicknames) {
        canon = agent_nickname_canonical(out, strlen(out));
        if (canon != NULL) {
            *replaced = 1;
            return s_copy(canon, out, outlen);
        }
    }
    return 0;
}

/* What a person's values are used for. */
enum s_use {
    S_USE_MATCH, /* match keys and strong identifiers */
    S_USE_BLOCK, /* blocking keys */
    S_USE_CLK,   /* the CLK */
};

#define S_BIT(f) (1u << (f))

/* The fields each use may take from salvaged values (agent_person.salvage),
 * the one place this is decided. A match key claims that two records hold the
 * same valid value, and a strong identifier keeps records apart: neither takes
 * a salvaged value. The CLK is the fuzzy comparison salvage is for: it takes
 * every salvaged value. A blocking key only chooses which pairs the linker
 * compares, so a salvaged value there costs at most some comparisons; it takes
 * only the coarse codes a typo seldom changes ("Smith2" and "Smith" share a
 * Soundex code, "1987-13-05" and "1987-05-13" a year), never a salvaged value
 * whole: that would meet only the same mistake, and junk values would make
 * large blocks. The year of a salvaged date is there only when plausible
 * (validate.c). */
static const uint32_t s_salvage_use[] = {
    [S_USE_MATCH] = 0,
    [S_USE_BLOCK] = S_BIT(XL_F_FIRST_INITIAL) | S_BIT(XL_F_FIRST_PHONETIC) |
                    S_BIT(XL_F_SURNAME_PHONETIC) | S_BIT(XL_F_YOB),
    [S_USE_CLK] = ((1u << XL_F_COUNT) - 1) & ~(S_BIT(XL_F_NHS_NUMBER) | S_BIT(XL_F_UPN)),
};

static int
s_has_salvage(const struct agent_person *p)
{
    const struct agent_salvage *s = &p->salvage;

    return s->first[0] != '\0' || s->middle[0] != '\0' || s->surname[0] != '\0' ||
           s->dob[0] != '\0' || s->yob[0] != '\0' || s->postcode[0] != '\0' ||
           s->other_id[0] != '\0';
}

/* The values of every spec field for one person and one use, computed once per
 * record (names compacted, nickname applied to the first name when asked,
 * phonetic codes, year, ...), so levels, blocking keys and the CLK do not each
 * redo them. */
struct s_values {
    char v[XL_F_COUNT][AGENT_NAME_MAX];
    uint16_t len[XL_F_COUNT];
    uint32_t present; /* bit per xl_field */
    int nickname;     /* the first name was replaced by its canonical form */
};

static void
s_values_fill(const struct agent_person *p, int nicknames, enum s_use use, struct s_values *c)
{
    const struct agent_salvage *sv = &p->salvage;
    char(*v)[AGENT_NAME_MAX] = c->v;
    uint32_t salv = s_salvage_use[use], allow;

    c->present = 0;
    c->nickname = 0;
    for (int f = 0; f < XL_F_COUNT; f++)
        v[f][0] = '\0';
#define S_SET(f, call)                                                                             \
    do {                                                                                           \
        if ((call) == 0)                                                                           \
            c->present |= 1u << (f);                                                               \
        else                                                                                       \
            v[f][0] = '\0';                                                                        \
    } while (0)
/* A field's valid value; else its salvaged value when this use may take it. */
#define S_FROM(f, valid, salvaged)                                                                 \
    ((valid)[0] != '\0' ? (valid) : (salv & S_BIT(f)) ? (salvaged) : "")
/* The fields derived from a name (initial, phonetic code) come from the valid
 * name, else from the salvaged one; a use keeps each only when it may take it
 * from a salvaged name (a blocking key takes the codes but not the name). */
#define S_ALLOW(valid) ((valid)[0] != '\0' ? ~0u : salv)
    S_SET(XL_F_NHS_NUMBER, s_copy(p->nhs, v[XL_F_NHS_NUMBER], AGENT_NAME_MAX));
    S_SET(XL_F_UPN, s_copy(p->upn, v[XL_F_UPN], AGENT_NAME_MAX));
    allow = S_ALLOW(p->first);
    if (s_first(p->first[0] != '\0' ? p->first : sv->first, nicknames, v[XL_F_FIRST_NAME],
                AGENT_NAME_MAX, &c->nickname) == 0) {
        if (allow & S_BIT(XL_F_FIRST_INITIAL))
            S_SET(XL_F_FIRST_INITIAL,
                  s_initial(v[XL_F_FIRST_NAME], v[XL_F_FIRST_INITIAL], AGENT_NAME_MAX));
        if (allow & S_BIT(XL_F_FIRST_PHONETIC))
            S_SET(XL_F_FIRST_PHONETIC,
                  agent_soundex(v[XL_F_FIRST_NAME], v[XL_F_FIRST_PHONETIC]) == AGENT_OK ? 0 : -1);
        S_SET(XL_F_FIRST_NAME, (allow & S_BIT(XL_F_FIRST_NAME)) ? 0 : -1);
    } else {
        v[XL_F_FIRST_NAME][0] = '\0';
    }
    S_SET(XL_F_MIDDLE_NAME, s_compact(S_FROM(XL_F_MIDDLE_NAME, p->middle, sv->middle),
                                      v[XL_F_MIDDLE_NAME], AGENT_NAME_MAX));
    allow = S_ALLOW(p->surname);
    if (s_compact(p->surname[0] != '\0' ? p->surname : sv->surname, v[XL_F_SURNAME],
                  AGENT_NAME_MAX) == 0) {
        if (allow & S_BIT(XL_F_SURNAME_PHONETIC))
            S_SET(XL_F_SURNAME_PHONETIC,
                  agent_soundex(v[XL_F_SURNAME], v[XL_F_SURNAME_PHONETIC]) == AGENT_OK ? 0 : -1);
        S_SET(XL_F_SURNAME, (allow & S_BIT(XL_F_SURNAME)) ? 0 : -1);
    } else {
        v[XL_F_SURNAME][0] = '\0';
    }
    S_SET(XL_F_DOB, s_copy(S_FROM(XL_F_DOB, p->dob, sv->dob), v[XL_F_DOB], AGENT_NAME_MAX));
    if (p->dob[0] != '\0') {
        memcpy(v[XL_F_YOB], p->dob, 4);
        v[XL_F_YOB][4] = '\0';
        c->present |= 1u << XL_F_YOB;
    } else {
        S_SET(XL_F_YOB, s_copy(S_FROM(XL_F_YOB, "", sv->yob), v[XL_F_YOB], AGENT_NAME_MAX));
    }
    S_SET(XL_F_SEX, s_copy(p->sex, v[XL_F_SEX], AGENT_NAME_MAX));
    S_SET(XL_F_POSTCODE, s_copy(S_FROM(XL_F_POSTCODE, p->postcode, sv->postcode), v[XL_F_POSTCODE],
                                AGENT_NAME_MAX));
    S_SET(XL_F_DISTRICT, s_copy(p->district, v[XL_F_DISTRICT], AGENT_NAME_MAX));
    S_SET(XL_F_SECTOR, s_copy(p->sector, v[XL_F_SECTOR], AGENT_NAME_MAX));
    S_SET(XL_F_ADDRESS, s_copy(p->address, v[XL_F_ADDRESS], AGENT_NAME_MAX));
    S_SET(XL_F_LOCALITY, s_copy(p->locality, v[XL_F_LOCALITY], AGENT_NAME_MAX));
    S_SET(XL_F_OTHER_ID, s_copy(S_FROM(XL_F_OTHER_ID, p->other_id, sv->other_id), v[XL_F_OTHER_ID],
                                AGENT_NAME_MAX));
#undef S_ALLOW
#undef S_FROM
#undef S_SET
    for (int f = 0; f < XL_F_COUNT; f++)
        c->len[f] = (c->present & (1u << f)) ? (uint16_t)strlen(v[f]) : 0;
}

static void
s_values_wipe(struct s_values *c)
{
    xl_wipe(c, sizeof *c);
}

int
agent_field_value(const struct agent_person *p, enum xl_field f, int nicknames, char *out,
                  size_t outlen)
{
    struct s_values *c;
    int r = XL_ERR_NOTFOUND;

    if (outlen > 0)
        out[0] = '\0';
    if ((unsigned)f >= XL_F_COUNT)
        return XL_ERR_NOTFOUND;
    c = malloc(sizeof *c);
    if (c == NULL)
        return XL_ERR_NOMEM;
    s_values_fill(p, nicknames, S_USE_MATCH, c);
    if ((c->present & (1u << f)) && strlen(c->v[f]) < outlen) {
        strcpy(out, c->v[f]);
        r = 0;
    }
    s_values_wipe(c);
    free(c);
    return r;
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
    e->values = malloc(4 * sizeof *e->values);
    if (e->k == NULL || e->sealer == NULL || e->values == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "cannot prepare keys (out of memory)");
        agent_encoder_destroy(&e);
        return NULL;
    }
    if (xl_kdf_derive(secret->secret, XL_SUBKEY_MATCH, sub) != 0 ||
        xl_mac_init(&e->k->match, sub, sizeof sub, spec->fingerprint, XL_SPEC_ID_BYTES) != 0 ||
        xl_kdf_derive(secret->secret, XL_SUBKEY_BLOCK, sub) != 0 ||
        (memcpy(e->k->blockkey, sub, sizeof e->k->blockkey), 0) ||
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
    if ((*ep)->values != NULL)
        xl_freezero((*ep)->values, 4 * sizeof *(*ep)->values);
    free(*ep);
    *ep = NULL;
}

void
agent_encoder_secret_check(const struct agent_encoder *e, uint8_t out[XL_CHECK_BYTES])
{
    memcpy(out, e->k->check, XL_CHECK_BYTES);
}

void
agent_encoder_payload_key(const struct agent_encoder *e, uint8_t out[XL_PAYLOAD_KEY])
{
    xl_payload_sealer_key(e->sealer, out);
}

/* A value used in place of the cache's for one field (a variant's date, one
 * part of a surname), so a variant costs no copy of the cache. */
struct s_override {
    int field; /* -1 = none */
    const char *v;
    size_t len;
};

/* Joins the values of parts into out. Returns the length, or -1 when a part is
 * missing. */
static int
s_join(const struct s_values *c, const enum xl_field *parts, size_t nparts,
       const struct s_override *ov, size_t nov, char *out, size_t outlen)
{
    size_t n = 0;

    for (size_t i = 0; i < nparts; i++) {
        const char *v = c->v[parts[i]];
        size_t len = c->len[parts[i]];
        int present = (c->present & (1u << parts[i])) != 0;
        for (size_t j = 0; j < nov; j++) {
            if (ov[j].field == (int)parts[i]) {
                v = ov[j].v;
                len = ov[j].len;
                present = len > 0;
            }
        }
        if (!present || n + len + 1 >= outlen)
            return -1;
        if (i > 0)
            out[n++] = S_SEP;
        memcpy(out + n, v, len);
        n += len;
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
s_tokens(const struct agent_encoder *e, const struct s_values *base, const struct agent_person *p,
         struct agent_encoded *o)
{
    const struct xl_spec *s = e->spec;
    struct agent_person q;
    struct s_values *swapped = e->values + 2;
    int have_swapped = 0;
    char value[S_VALUE_MAX], code[5];
    size_t nkeys = 0;
    int n;

    for (size_t i = 0; i < s->nlevels; i++) {
        const struct xl_spec_level *l = &s->levels[i];
        const struct s_values *src = base;
        const char *surname = p->surname;
        struct s_override ov[3];
        size_t nov = 0;
        if (l->variant == XL_VARIANT_NAMES_SWAPPED) {
            if (!have_swapped) {
                if (!s_variant(p, l->variant, &q))
                    continue;
                s_values_fill(&q, s->nicknames, S_USE_MATCH, swapped);
                have_swapped = 1;
            }
            src = swapped;
            surname = p->first;
        } else if (l->variant == XL_VARIANT_DOB_TRANSPOSED) {
            /* Only the date changes (the year stays). */
            if (!s_variant(p, l->variant, &q))
                continue;
            ov[0] = (struct s_override){XL_F_DOB, q.dob, strlen(q.dob)};
            nov = 1;
        }
        n = s_join(src, l->parts, l->nparts, ov, nov, value, sizeof value);
        if (n < 0)
            continue; /* a level whose inputs are missing is skipped, never hashed empty */
        s_add_token(o, &nkeys, e, l->number, l->compare, value, (size_t)n);
        /* A double-barrelled surname also matches on each of its parts. */
        if (s_has(l->parts, l->nparts, XL_F_SURNAME) && strchr(surname, ' ') != NULL) {
            struct agent_name_part parts[S_MAX_SURNAME_PARTS];
            size_t np = agent_name_parts(surname, parts, S_MAX_SURNAME_PARTS);
            for (size_t j = 0; j < np && j < S_MAX_SURNAME_PARTS; j++) {
                char part[AGENT_NAME_MAX];
                if (parts[j].len == 0 || parts[j].len >= sizeof part)
                    continue;
                memcpy(part, parts[j].s, parts[j].len);
                part[parts[j].len] = '\0';
                ov[nov] = (struct s_override){XL_F_SURNAME, parts[j].s, parts[j].len};
                ov[nov + 1] =
                    (struct s_override){XL_F_SURNAME_PHONETIC, code,
                                        agent_soundex(part, code) == AGENT_OK ? strlen(code) : 0};
                n = s_join(src, l->parts, l->nparts, ov, nov + 2, value, sizeof value);
                if (n >= 0)
                    s_add_token(o, &nkeys, e, l->number, l->compare, value, (size_t)n);
                xl_wipe(part, sizeof part);
            }
        }
    }
    agent_person_wipe(&q);
    xl_wipe(value, sizeof value);
    return nkeys;
}

static inline uint64_t
s_le64(const uint8_t *b)
{
    uint64_t v;

    memcpy(&v, b, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The flip noise's draws 32 at a time, where the processor can: eight
 * generator outputs in one register (the generator's state only adds a
 * constant, so output i is mix(x + (i + 1) * step)), each cut into its four
 * 16-bit draws and compared with t at once; draw j of the 64 a word takes is
 * 16-bit element j, as bit j of the mask. The same bits as the loop in s_flip
 * (tests/vectors/encode.txt), where that loop was a tenth of the encoding. */
static int
s_have_avx512(void)
{
    static int have = -1;

    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq");
    }
    return have;
}

__attribute__((target("avx512f,avx512bw,avx512dq"))) static void
s_flip_avx512(uint64_t x, uint32_t t, uint64_t *full, size_t words)
{
    const uint64_t step = 0x9E3779B97F4A7C15ull;
    const __m512i m1 = _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull),
                  m2 = _mm512_set1_epi64((long long)0x94D049BB133111EBull),
                  by8 = _mm512_set1_epi64((long long)(8 * step)),
                  tt = _mm512_set1_epi16((short)(uint16_t)t);
    __m512i z0 = _mm512_add_epi64(_mm512_set1_epi64((long long)x),
                                  _mm512_mullo_epi64(_mm512_set_epi64(8, 7, 6, 5, 4, 3, 2, 1),
                                                     _mm512_set1_epi64((long long)step)));

    for (size_t w = 0; w < words; w++) {
        uint64_t mask = 0;
        for (unsigned h = 0; h < 2; h++) {
            __m512i z = z0;
            z0 = _mm512_add_epi64(z0, by8);
            z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), m1);
            z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), m2);
            z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
            mask |= (uint64_t)_mm512_cmplt_epu16_mask(z, tt) << (32 * h);
        }
        full[w] ^= mask;
    }
}
#endif

/* The flip noise: each bit of the filter flipped with probability spec->clk_flip,
 * drawn from a generator seeded by a keyed hash of the record's local_ref, so
 * the same record always encodes alike and two records of one name do not. */
static void
s_flip(const struct agent_encoder *e, const uint8_t local_ref[AGENT_REF_BYTES], uint64_t *full,
       size_t words)
{
    static const uint8_t tag[4] = {'f', 'l', 'i', 'p'};
    uint32_t t = (uint32_t)(e->spec->clk_flip * 65536.0 + 0.5);
    uint8_t in[sizeof tag + AGENT_REF_BYTES], h8[8];
    uint64_t x;

    if (t == 0)
        return;
    memcpy(in, tag, sizeof tag);
    memcpy(in + sizeof tag, local_ref, AGENT_REF_BYTES);
    crypto_shorthash_siphash24(h8, in, sizeof in, e->k->bloom);
    x = s_le64(h8);
#if defined(__x86_64__) && defined(__GNUC__)
    if (t <= 0xffff && s_have_avx512()) {
        s_flip_avx512(x, t, full, words);
        words = 0; /* the loop below has nothing left to do; the state is still wiped */
    }
#endif
    for (size_t w = 0; w < words; w++) {
        uint64_t mask = 0;
        /* Four 16-bit draws per generator output: bit b flips when its draw is
         * below t. Without a branch: a branch taken one time in fifty at random
         * cost a tenth of the encoding. */
        for (unsigned b = 0; b < 64; b += 4) {
            uint64_t r = xl_splitmix64(&x);
            mask |= (uint64_t)((r & 0xffffu) < t) << b |
                    (uint64_t)((r >> 16 & 0xffffu) < t) << (b + 1) |
                    (uint64_t)((r >> 32 & 0xffffu) < t) << (b + 2) |
                    (uint64_t)((r >> 48) < t) << (b + 3);
        }
        full[w] ^= mask;
    }
    xl_wipe(&x, sizeof x);
    xl_wipe(h8, sizeof h8);
}

/* The CLK from the values as written (no nickname replacement): each field's
 * q-grams set bits in the field's own segment; then the flip noise; then each
 * segment folded in half when asked. */
static void
s_clk(const struct agent_encoder *e, const struct s_values *c,
      const uint8_t local_ref[AGENT_REF_BYTES], uint8_t *clk)
{
    const struct xl_spec *s = e->spec;
    /* A q-gram's two draws set bits in two arrays, ORed at the end: setting
     * bit after bit in one array made each wait for the store before it when
     * they fell in one word (most do: a segment is a few words), a tenth of
     * the encoding. */
    uint64_t full[XL_CLK_MAX_BITS / 64], odd[XL_CLK_MAX_BITS / 64];
    char value[S_VALUE_MAX], salt[64];
    /* Hash input: field number, segment number, salt, separator, q-gram (q
     * UTF-8 characters): each segment draws its own positions, so a field
     * mixed into two segments cannot be told apart by the bits they share. */
    uint8_t in[2 + sizeof salt + 1 + 4 * 4];
    size_t saltlen = 0, words = s->clk_bits / 64, nbytes = xl_spec_clk_bytes(s);

    memset(full, 0, words * 8);
    memset(odd, 0, words * 8);
    for (size_t f = 0; f < s->nclk_fields; f++) {
        const struct xl_spec_clk_field *cf = &s->clk_fields[f];
        /* Padded with q-1 '_' on each side, so first and last letters count. */
        size_t pad = s->clk_q - 1, start[S_VALUE_MAX + 8], nchars = 0, len;
        char *v = value + pad;
        /* 32 - log2(bits) for a power of two, else 0 (multiply instead). */
        unsigned shift = 0, bits = cf->bits, off = cf->offset;
        int sf = cf->salt >= 0 ? cf->salt : s->clk_salt;
        if ((bits & (bits - 1)) == 0)
            shift = 32u - (unsigned)__builtin_ctz(bits);
        if (!(c->present & (1u << cf->field)))
            continue;
        /* The salt: the line's own field, else the [clk] one; none when missing. */
        saltlen = 0;
        if (sf >= 0 && (c->present & (1u << sf)) && c->len[sf] < sizeof salt) {
            saltlen = c->len[sf];
            memcpy(salt, c->v[sf], saltlen);
        }
        len = c->len[cf->field];
        if (len + 2 * pad >= sizeof value)
            continue;
        memcpy(v, c->v[cf->field], len);
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
        in[1] = (uint8_t)cf->segment;
        memcpy(in + 2, salt, saltlen);
        in[2 + saltlen] = (uint8_t)S_SEP;
        for (size_t g = 0; g + s->clk_q <= nchars; g++) {
            size_t glen = start[g + s->clk_q] - start[g], inlen = 3 + saltlen + glen;
            uint64_t x;
            uint8_t h8[8];
            if (glen > 16)
                continue;
            memcpy(in + 3 + saltlen, value + start[g], glen);
            crypto_shorthash_siphash24(h8, in, inlen, e->k->bloom);
            x = s_le64(h8); /* the same bits on any byte order */
            /* Random hashing: the keyed hash seeds a generator that draws k
             * independent positions (not the double-hashing scheme, whose
             * structure leaks through pattern-mining attacks). */
            for (unsigned j = 0; j < cf->k; j += 2) {
                /* Two positions per draw: 32 bits each are plenty for 4096.
                 * (h * bits) >> 32 is h >> (32 - log2 bits) when bits is a power
                 * of two: the same position without the multiplications. */
                uint64_t r = xl_splitmix64(&x);
                uint32_t b0, b1;
                if (shift != 0) {
                    b0 = (uint32_t)(r & 0xffffffffu) >> shift;
                    b1 = (uint32_t)(r >> 32) >> shift;
                } else {
                    b0 = (uint32_t)(((r & 0xffffffffu) * bits) >> 32);
                    b1 = (uint32_t)(((r >> 32) * bits) >> 32);
                }
                b0 += off;
                b1 += off;
                full[b0 >> 6] |= 1ull << (b0 & 63);
                if (j + 1 < cf->k)
                    odd[b1 >> 6] |= 1ull << (b1 & 63);
            }
        }
    }
    for (size_t w = 0; w < words; w++)
        full[w] |= odd[w];
    s_flip(e, local_ref, full, words);
    if (s->clk_xor_fold) {
        /* Each segment's halves XORed, in place, segments kept in order. */
        for (size_t f = 0; f < s->nclk_fields; f++) {
            size_t w0 = s->clk_fields[f].offset / 64, half = s->clk_fields[f].bits / 128;
            if (s->clk_fields[f].shared)
                continue; /* its segment was folded with the line before */
            for (size_t w = 0; w < half; w++)
                full[w0 / 2 + w] = full[w0 + w] ^ full[w0 + half + w];
        }
    }
    /* Bit b is bit b % 8 of byte b / 8: words are written little-endian. */
    for (size_t w = 0; w < nbytes / 8; w++) {
        for (int i = 0; i < 8; i++)
            clk[8 * w + (size_t)i] = (uint8_t)(full[w] >> (8 * i));
    }
    xl_wipe(full, sizeof full);
    xl_wipe(value, sizeof value);
    xl_wipe(in, sizeof in);
    xl_wipe(salt, sizeof salt);
}

void
agent_encode_clk(const struct agent_encoder *e, const struct agent_person *p, uint8_t *clk)
{
    struct s_values *c = malloc(sizeof *c);
    uint8_t ref[AGENT_REF_BYTES];

    if (c == NULL) {
        memset(clk, 0, xl_spec_clk_bytes(e->spec));
        return;
    }
    s_values_fill(p, 0, S_USE_CLK, c);
    agent_local_ref(&e->k->local, e->agency, e->dataset, p->source_id, ref);
    s_clk(e, c, ref, clk);
    xl_freezero(c, sizeof *c);
}

static size_t
s_blocks(const struct agent_encoder *e, const struct s_values *c, struct agent_encoded *o)
{
    const struct xl_spec *s = e->spec;
    char value[S_VALUE_MAX];
    size_t nb = 0;

    for (size_t i = 0; i < s->nblocks; i++) {
        /* A blocking key only ever meets other blocking keys at the linker and
         * needs no more than a keyed 64-bit PRF: SipHash, several times
         * cheaper than HMAC-SHA256. The tag byte comes first in the value. */
        int n = s_join(c, s->blocks[i].parts, s->blocks[i].nparts, NULL, 0, value + 1,
                       sizeof value - 1);
        if (n < 0)
            continue;
        value[0] = (char)(S_BLOCK_TAG + i);
        crypto_shorthash_siphash24(o->blocks[nb], (const unsigned char *)value, (size_t)n + 1,
                                   e->k->blockkey);
        o->blockp[nb].data = o->blocks[nb];
        o->blockp[nb].len = AGENT_BLOCK_BYTES;
        nb++;
    }
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
    if (padded + XL_PAYLOAD_COMPACT_OVERHEAD > AGENT_MAX_PAYLOAD)
        return XL_ERR_TOOBIG;
    if (padded >= len + 2) {
        oc.pad.data = (uint8_t *)zeros;
        oc.pad.len = padded - len - 2;
    }
    len = crosslink__outcome__pack(&oc, plain);
    r = xl_payload_seal(e->sealer, plain, len, o->payload);
    xl_wipe(plain, len);
    *outlen = len + XL_PAYLOAD_COMPACT_OVERHEAD;
    return r;
}

void
agent_local_ref(const struct xl_mac *local, const char *agency, const char *dataset,
                const char *source_id, uint8_t out[AGENT_REF_BYTES])
{
    uint8_t mac[XL_HASH_BYTES], sep = (uint8_t)S_SEP;
    struct xl_iov parts[5] = {{agency, strlen(agency)},
                              {&sep, 1},
                              {dataset, strlen(dataset)},
                              {&sep, 1},
                              {source_id, strlen(source_id)}};

    xl_mac_compute(local, parts, 5, mac);
    memcpy(out, mac, AGENT_REF_BYTES);
    xl_wipe(mac, sizeof mac);
}

int
agent_encode(struct agent_encoder *e, const struct agent_person *p, const char *const *outcomes,
             size_t noutcomes, struct agent_encoded *o)
{
    struct s_values *match = e->values, *clk = e->values + 1, *block = e->values + 3;
    size_t paylen = 0;
    int r, salvaged;

    crosslink__record__init(&o->rec);
    agent_local_ref(&e->k->local, e->agency, e->dataset, p->source_id, o->local_ref);
    o->rec.local_ref.data = o->local_ref;
    o->rec.local_ref.len = AGENT_REF_BYTES;

    /* Field values once per use: with nicknames and valid values only for match
     * keys; as written, with salvaged values, for the CLK; with nicknames and
     * the salvaged values s_salvage_use allows for blocking keys. Each is the
     * match keys' own unless a nickname was replaced or a value salvaged. */
    salvaged = s_has_salvage(p);
    s_values_fill(p, e->spec->nicknames, S_USE_MATCH, match);
    if (match->nickname || salvaged)
        s_values_fill(p, 0, S_USE_CLK, clk);
    else
        clk = match;
    if (salvaged)
        s_values_fill(p, e->spec->nicknames, S_USE_BLOCK, block);
    else
        block = match;
    o->rec.n_keys = s_tokens(e, match, p, o);
    o->rec.keys = o->keyp;

    s_clk(e, clk, o->local_ref, o->clk);
    o->rec.clk.data = o->clk;
    o->rec.clk.len = xl_spec_clk_bytes(e->spec);

    o->rec.n_blocks = s_blocks(e, block, o);
    o->rec.blocks = o->blockp;

    r = s_payload(e, outcomes, noutcomes, o, &paylen);
    if (r != 0)
        return r;
    o->rec.payload.data = o->payload;
    o->rec.payload.len = paylen;
    return 0;
}
