/* Unit tests for agent/encode.c: the known-answer vectors of
 * tests/vectors/encode.txt (written by tests/vectors/gen_encode_vectors.py, an
 * independent implementation) for tokens, blocking keys, local_ref and the CLK,
 * then behaviour the vectors cannot show: missing inputs, variants meeting the
 * records they are meant to catch, sealed payloads, and packed records free of
 * plaintext identifiers.
 *
 * Persons are built directly as validation would leave them, not read from a
 * CSV; the specification is tests/vectors/spec_example.spec, with its [clk]
 * lines replaced where a test varies them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../agent/encode.h"
#include "testutil.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/mem.h"
#include "xl/payload.h"
#include "xl/spec.h"

#define SPEC_FILE "tests/vectors/spec_example.spec"
#define VEC_FILE  "encode.txt"

/* Shared by every test: the vectors, the keys and the spec of the vector file. */
struct s_env {
    struct tu_vec *v;
    size_t nv;
    char *spec_text;
    struct xl_spec *spec;
    struct xl_keyfile *secret, *local;
    uint8_t apk[XL_KEY_BYTES], ask[XL_KEY_BYTES];
    char agency[64], dataset[64];
    struct agent_encoder *enc;
};

static struct s_env s_env;

static const char *
s_get(const struct tu_vec *v, const char *name)
{
    const char *s = tu_vec_get(v, name);

    if (s == NULL)
        fail_msg("encode.txt:%d: no field '%s'", v->line, name);
    return s;
}

static int
s_is(const struct tu_vec *v, const char *kind)
{
    const char *k = tu_vec_get(v, "kind");
    return k != NULL && strcmp(k, kind) == 0;
}

/* The only record of a kind. */
static const struct tu_vec *
s_only(const char *kind)
{
    const struct tu_vec *found = NULL;

    for (size_t i = 0; i < s_env.nv; i++) {
        if (s_is(&s_env.v[i], kind)) {
            assert_null(found);
            found = &s_env.v[i];
        }
    }
    assert_non_null(found);
    return found;
}

static void
s_hex(const struct tu_vec *v, const char *name, uint8_t *out, size_t want)
{
    size_t len;

    if (tu_vec_hex(v, name, out, want, &len) != 0 || len != want)
        fail_msg("encode.txt:%d: '%s' is not %zu bytes of hex", v->line, name, want);
}

static unsigned
s_uint(const struct tu_vec *v, const char *name)
{
    uint64_t x;

    if (tu_vec_uint(v, name, &x) != 0)
        fail_msg("encode.txt:%d: '%s' is not a number", v->line, name);
    return (unsigned)x;
}

/* Copies the next '|'-separated field of *s into out. */
static void
s_field(const char **s, char *out, size_t cap)
{
    const char *bar = strchr(*s, '|');
    size_t n = bar != NULL ? (size_t)(bar - *s) : strlen(*s);

    assert_true(n < cap);
    memcpy(out, *s, n);
    out[n] = '\0';
    *s += bar != NULL ? n + 1 : n;
}

/* The person of the vector file called id. */
static void
s_person(const char *id, struct agent_person *p)
{
    const char *s = NULL;

    for (size_t i = 0; i < s_env.nv && s == NULL; i++) {
        if (s_is(&s_env.v[i], "person") && strcmp(s_get(&s_env.v[i], "person"), id) == 0)
            s = s_get(&s_env.v[i], "values");
    }
    if (s == NULL)
        fail_msg("encode.txt: no person '%s'", id);
    memset(p, 0, sizeof *p);
    s_field(&s, p->source_id, sizeof p->source_id);
    s_field(&s, p->first, sizeof p->first);
    s_field(&s, p->middle, sizeof p->middle);
    s_field(&s, p->surname, sizeof p->surname);
    s_field(&s, p->dob, sizeof p->dob);
    s_field(&s, p->sex, sizeof p->sex);
    s_field(&s, p->postcode, sizeof p->postcode);
    s_field(&s, p->district, sizeof p->district);
    s_field(&s, p->sector, sizeof p->sector);
    s_field(&s, p->nhs, sizeof p->nhs);
    s_field(&s, p->upn, sizeof p->upn);
    assert_int_equal(*s, '\0');
}

/* The spec text with each `from` replaced by `to` (each must occur once). */
static char *
s_spec_variant(const char *const *from, const char *const *to, size_t n)
{
    char *text = strdup(s_env.spec_text);

    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        char *at = strstr(text, from[i]), *out;
        size_t a, b = strlen(from[i]), c = strlen(to[i]);
        assert_non_null(at);
        assert_null(strstr(at + b, from[i]));
        a = (size_t)(at - text);
        out = malloc(strlen(text) - b + c + 1);
        assert_non_null(out);
        memcpy(out, text, a);
        memcpy(out + a, to[i], c);
        strcpy(out + a + c, at + b);
        free(text);
        text = out;
    }
    return text;
}

static struct xl_spec *
s_parse_spec(const char *text)
{
    struct xl_spec *spec = NULL;
    char err[XL_ERRBUF];

    if (xl_spec_parse(text, SPEC_FILE, &spec, err, sizeof err) != 0)
        fail_msg("%s", err);
    return spec;
}

static struct agent_encoder *
s_encoder(const struct xl_spec *spec, const char *agency)
{
    char err[XL_ERRBUF];
    struct agent_encoder *e = agent_encoder_new(spec, s_env.secret, s_env.local, s_env.apk, agency,
                                                s_env.dataset, err, sizeof err);

    if (e == NULL)
        fail_msg("agent_encoder_new: %s", err);
    return e;
}

static struct agent_encoded *
s_encode(struct agent_encoder *e, const struct agent_person *p)
{
    struct agent_encoded *o = calloc(1, sizeof *o);

    assert_non_null(o);
    assert_int_equal(agent_encode(e, p, NULL, 0, o), 0);
    return o;
}

static int
s_setup(void **state)
{
    const struct tu_vec *k, *sp;

    if (xl_crypto_init() != 0)
        return -1;
    s_env.v = tu_vec_load(VEC_FILE, &s_env.nv);
    s_env.spec_text = tu_read_file(SPEC_FILE);
    if (s_env.v == NULL || s_env.spec_text == NULL)
        return -1;
    k = s_only("keys");
    sp = s_only("spec");
    s_env.secret = xl_keyfile_new(XL_KEY_LINKAGE_SECRET);
    s_env.local = xl_keyfile_new(XL_KEY_LOCAL_SECRET);
    if (s_env.secret == NULL || s_env.local == NULL)
        return -1;
    s_hex(k, "secret", s_env.secret->secret, XL_KEY_BYTES);
    s_env.secret->epoch = 1;
    s_hex(k, "local_key", s_env.local->secret, XL_KEY_BYTES);
    if (xl_box_keypair(s_env.apk, s_env.ask) != 0)
        return -1;
    snprintf(s_env.agency, sizeof s_env.agency, "%s", s_get(sp, "agency"));
    snprintf(s_env.dataset, sizeof s_env.dataset, "%s", s_get(sp, "dataset"));
    s_env.spec = s_parse_spec(s_env.spec_text);
    s_env.enc = s_encoder(s_env.spec, s_env.agency);
    return 0;
}

static int
s_teardown(void **state)
{
    agent_encoder_destroy(&s_env.enc);
    free(s_env.spec);
    xl_keyfile_destroy(&s_env.secret);
    xl_keyfile_destroy(&s_env.local);
    xl_wipe(s_env.ask, sizeof s_env.ask);
    free(s_env.spec_text);
    free(s_env.v);
    return 0;
}

/* ---- primitives and inputs ---------------------------------------------------- */

/* The CLK hashes q-grams with libsodium's SipHash-2-4; the paper's vector. */
static void
test_siphash_reference(void **state)
{
    const struct tu_vec *v = s_only("siphash");
    uint8_t key[16], in[15], want[8], got[8];

    s_hex(v, "key", key, sizeof key);
    s_hex(v, "input", in, sizeof in);
    s_hex(v, "hash", want, sizeof want);
    assert_int_equal(crypto_shorthash_siphash24(got, in, sizeof in, key), 0);
    assert_memory_equal(got, want, sizeof want);
}

static void
test_subkeys(void **state)
{
    const struct tu_vec *k = s_only("keys");
    static const struct {
        const char *name;
        enum xl_subkey id;
    } subs[] = {{"match_key", XL_SUBKEY_MATCH},
                {"bloom_key", XL_SUBKEY_BLOOM},
                {"block_key", XL_SUBKEY_BLOCK}};

    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        uint8_t want[XL_KEY_BYTES], got[XL_KEY_BYTES];
        s_hex(k, subs[i].name, want, sizeof want);
        assert_int_equal(xl_kdf_derive(s_env.secret->secret, subs[i].id, got), 0);
        assert_memory_equal(got, want, sizeof want);
    }
}

static void
test_spec_fingerprint(void **state)
{
    uint8_t want[XL_HASH_BYTES], h[XL_HASH_BYTES];
    char canon[8192];
    int n;

    s_hex(s_only("spec"), "spec_fp", want, sizeof want);
    n = xl_spec_canonical(s_env.spec, canon, sizeof canon);
    assert_true(n > 0);
    if (memcmp(s_env.spec->fingerprint, want, sizeof want) != 0)
        fail_msg("fingerprint differs from encode.txt; canonical text:\n%s", canon);
    xl_sha256(canon, (size_t)n, h);
    assert_memory_equal(h, want, sizeof want);
    assert_string_equal(s_env.spec->name, "vectors-v2");
    assert_int_equal(s_env.spec->nlevels, 11);
    /* Sorted by number although [level 12] comes before [level 10] in the file. */
    assert_int_equal(s_env.spec->levels[9].number, 10);
    assert_int_equal(s_env.spec->levels[10].number, 12);
}

/* ---- known-answer vectors ----------------------------------------------------- */

/* Calls fn for each person of the vector file. */
static void
s_each_person(void (*fn)(const char *id, const struct agent_person *p))
{
    size_t n = 0;

    for (size_t i = 0; i < s_env.nv; i++) {
        struct agent_person p;
        if (!s_is(&s_env.v[i], "person"))
            continue;
        s_person(s_get(&s_env.v[i], "person"), &p);
        fn(s_get(&s_env.v[i], "person"), &p);
        agent_person_wipe(&p);
        n++;
    }
    assert_true(n >= 5);
}

static void
s_check_tokens(const char *id, const struct agent_person *p)
{
    struct agent_encoded *o = s_encode(s_env.enc, p);
    uint8_t match[XL_KEY_BYTES];
    size_t nwant = 0;
    int used[AGENT_MAX_KEYS] = {0};

    assert_int_equal(xl_kdf_derive(s_env.secret->secret, XL_SUBKEY_MATCH, match), 0);
    for (size_t i = 0; i < s_env.nv; i++) {
        const struct tu_vec *v = &s_env.v[i];
        uint8_t want[XL_TOKEN_BYTES], value[TU_VEC_VALUE_MAX / 2], tok[XL_TOKEN_BYTES];
        unsigned level, hashed;
        size_t vlen, j;
        if (!s_is(v, "token") || strcmp(s_get(v, "person"), id) != 0)
            continue;
        nwant++;
        level = s_uint(v, "level");
        hashed = s_uint(v, "hashed_level");
        s_hex(v, "token", want, sizeof want);
        assert_int_equal(tu_vec_hex(v, "value", value, sizeof value, &vlen), 0);
        /* The vector is what xl_token makes of its value and hashed level... */
        assert_int_equal(
            xl_token(match, s_env.spec->fingerprint, (uint8_t)hashed, value, vlen, tok), 0);
        assert_memory_equal(tok, want, sizeof want);
        assert_int_equal(xl_spec_level(s_env.spec, (uint8_t)level)->compare, hashed);
        /* ...and the encoder made exactly that token for the level. */
        for (j = 0; j < o->rec.n_keys; j++) {
            const Crosslink__MatchKey *mk = o->rec.keys[j];
            if (!used[j] && mk->level == level && mk->token.len == XL_TOKEN_BYTES &&
                memcmp(mk->token.data, want, XL_TOKEN_BYTES) == 0)
                break;
        }
        if (j == o->rec.n_keys)
            fail_msg("%s: no level %u token as at encode.txt:%d", id, level, v->line);
        used[j] = 1;
    }
    if (o->rec.n_keys != nwant)
        fail_msg("%s: %zu tokens, encode.txt has %zu", id, o->rec.n_keys, nwant);
    xl_wipe(match, sizeof match);
    free(o);
}

static void
test_tokens(void **state)
{
    s_each_person(s_check_tokens);
}

static void
s_check_blocks(const char *id, const struct agent_person *p)
{
    struct agent_encoded *o = s_encode(s_env.enc, p);
    size_t nwant = 0;

    for (size_t i = 0; i < s_env.nv; i++) {
        const struct tu_vec *v = &s_env.v[i];
        uint8_t want[AGENT_BLOCK_BYTES];
        if (!s_is(v, "block") || strcmp(s_get(v, "person"), id) != 0)
            continue;
        s_hex(v, "block", want, sizeof want);
        assert_true(s_uint(v, "index") < s_env.spec->nblocks);
        /* In [blocking] order, those with a missing field left out. */
        if (nwant >= o->rec.n_blocks)
            fail_msg("%s: %zu blocking keys, fewer than encode.txt has", id, o->rec.n_blocks);
        assert_int_equal(o->rec.blocks[nwant].len, AGENT_BLOCK_BYTES);
        if (memcmp(o->rec.blocks[nwant].data, want, sizeof want) != 0)
            fail_msg("%s: blocking key %zu differs from encode.txt:%d", id, nwant, v->line);
        nwant++;
    }
    if (o->rec.n_blocks != nwant)
        fail_msg("%s: %zu blocking keys, encode.txt has %zu", id, o->rec.n_blocks, nwant);
    free(o);
}

static void
test_blocks(void **state)
{
    s_each_person(s_check_blocks);
}

static void
s_check_local_ref(const char *id, const struct agent_person *p)
{
    struct agent_encoded *o = s_encode(s_env.enc, p);
    uint8_t want[AGENT_REF_BYTES];
    size_t n = 0;

    for (size_t i = 0; i < s_env.nv; i++) {
        if (!s_is(&s_env.v[i], "local_ref") || strcmp(s_get(&s_env.v[i], "person"), id) != 0)
            continue;
        s_hex(&s_env.v[i], "local_ref", want, sizeof want);
        n++;
    }
    assert_int_equal(n, 1);
    assert_int_equal(o->rec.local_ref.len, AGENT_REF_BYTES);
    assert_memory_equal(o->rec.local_ref.data, want, sizeof want);
    free(o);
}

static void
test_local_ref(void **state)
{
    s_each_person(s_check_local_ref);
}

/* local_ref depends on the agency and dataset as well as the source id. */
static void
test_local_ref_scope(void **state)
{
    struct agent_person p;
    struct agent_encoder *other = s_encoder(s_env.spec, "health");
    struct agent_encoded *a, *b;

    s_person("amelia", &p);
    a = s_encode(s_env.enc, &p);
    b = s_encode(other, &p);
    assert_memory_not_equal(a->rec.local_ref.data, b->rec.local_ref.data, AGENT_REF_BYTES);
    /* Tokens, CLK and blocking keys are the agency's business no more than the
     * person's: the same person gives the same ones at every agency (the CLK
     * only without flip noise, which is drawn per record: test_flip_noise). */
    assert_int_equal(a->rec.n_keys, b->rec.n_keys);
    for (size_t i = 0; i < a->rec.n_keys; i++)
        assert_memory_equal(a->rec.keys[i]->token.data, b->rec.keys[i]->token.data, XL_TOKEN_BYTES);
    assert_memory_equal(a->rec.clk.data, b->rec.clk.data, a->rec.clk.len);
    free(a);
    free(b);
    agent_encoder_destroy(&other);
    agent_person_wipe(&p);
}

/* Each q-gram hash of the audit records: SipHash-2-4 under the Bloom subkey. */
static void
test_qgram_hash(void **state)
{
    uint8_t bloom[XL_KEY_BYTES], in[64], want[8], got[8];
    size_t n = 0, len;

    s_hex(s_only("keys"), "bloom_key", bloom, sizeof bloom);
    for (size_t i = 0; i < s_env.nv; i++) {
        if (!s_is(&s_env.v[i], "qgram"))
            continue;
        assert_int_equal(tu_vec_hex(&s_env.v[i], "input", in, sizeof in, &len), 0);
        s_hex(&s_env.v[i], "hash", want, sizeof want);
        assert_int_equal(crypto_shorthash_siphash24(got, in, len, bloom), 0);
        assert_memory_equal(got, want, sizeof want);
        n++;
    }
    assert_true(n > 0);
}

/* The clk_set record called name. */
static const struct tu_vec *
s_clk_set(const char *name)
{
    for (size_t i = 0; i < s_env.nv; i++) {
        if (s_is(&s_env.v[i], "clk_set") && strcmp(s_get(&s_env.v[i], "set"), name) == 0)
            return &s_env.v[i];
    }
    fail_msg("encode.txt: no clk_set '%s'", name);
    return NULL;
}

/* The spec file with [clk] as the clk_set record gives it: the BITS of each
 * field line that starts a segment, q, salt, xor_fold and flip replaced ("+"
 * lines and line salts stay). Its fingerprint must be the record's spec_fp,
 * the canonical text being computed independently too. */
static struct xl_spec *
s_clk_set_spec(const struct tu_vec *set)
{
    const struct xl_spec *base = s_env.spec;
    const char *from[4 + XL_SPEC_MAX_CLK], *to[4 + XL_SPEC_MAX_CLK], *seg = s_get(set, "segments");
    char lines[2][4 + XL_SPEC_MAX_CLK][96], *text, *end;
    uint8_t want[XL_HASH_BYTES];
    struct xl_spec *spec;
    size_t n = 0;
    unsigned total = 0;

    snprintf(lines[0][n], sizeof lines[0][n], "\nq = %u\n", base->clk_q);
    snprintf(lines[1][n++], sizeof lines[1][0], "\nq = %s\n", s_get(set, "q"));
    snprintf(lines[0][n], sizeof lines[0][n], "\nsalt = none\n");
    snprintf(lines[1][n++], sizeof lines[1][0], "\nsalt = %s\n", s_get(set, "salt"));
    snprintf(lines[0][n], sizeof lines[0][n], "\nxor_fold = no\n");
    snprintf(lines[1][n++], sizeof lines[1][0], "\nxor_fold = %s\n", s_get(set, "xor_fold"));
    snprintf(lines[0][n], sizeof lines[0][n], "\nflip = 0\n");
    snprintf(lines[1][n++], sizeof lines[1][0], "\nflip = %s\n", s_get(set, "flip"));
    for (size_t f = 0; f < base->nclk_fields; f++) {
        const struct xl_spec_clk_field *cf = &base->clk_fields[f];
        const char *salt = cf->salt >= 0 ? xl_field_name((enum xl_field)cf->salt) : NULL;
        unsigned long bits;
        if (cf->shared)
            continue; /* "field = NAME K +": the segment's length is the line before's */
        bits = strtoul(seg, &end, 10);
        if (end == seg)
            fail_msg("encode.txt:%d: fewer segments than [clk] has", set->line);
        seg = end;
        total += (unsigned)bits;
        snprintf(lines[0][n], sizeof lines[0][n], "\nfield = %s %u %u%s%s\n",
                 xl_field_name(cf->field), cf->k, cf->bits, salt ? " " : "", salt ? salt : "");
        snprintf(lines[1][n++], sizeof lines[1][0], "\nfield = %s %u %lu%s%s\n",
                 xl_field_name(cf->field), cf->k, bits, salt ? " " : "", salt ? salt : "");
    }
    assert_int_equal(*seg, '\0');
    for (size_t i = 0; i < n; i++) {
        from[i] = lines[0][i];
        to[i] = lines[1][i];
    }
    text = s_spec_variant(from, to, n);
    spec = s_parse_spec(text);
    free(text);
    assert_int_equal(spec->clk_bits, total);
    s_hex(set, "spec_fp", want, sizeof want);
    if (memcmp(spec->fingerprint, want, sizeof want) != 0)
        fail_msg("clk_set %s: fingerprint differs from encode.txt:%d", s_get(set, "set"),
                 set->line);
    return spec;
}

/* Checks a CLK vector: agent_encode_clk and agent_encode both give it, and
 * nothing is written past its end. */
static void
s_check_clk(struct agent_encoder *e, const struct xl_spec *spec, const struct agent_person *p,
            const struct tu_vec *v)
{
    uint8_t want[XL_CLK_MAX_BITS / 8], got[XL_CLK_MAX_BITS / 8 + 1];
    struct agent_encoded *o;
    size_t len;

    assert_int_equal(tu_vec_hex(v, "clk", want, sizeof want, &len), 0);
    assert_int_equal(len, xl_spec_clk_bytes(spec));
    memset(got, 0xa5, sizeof got);
    agent_encode_clk(e, p, got);
    if (memcmp(got, want, len) != 0)
        fail_msg("CLK of %s differs from encode.txt:%d", s_get(v, "person"), v->line);
    assert_int_equal(got[len], 0xa5); /* nothing written past the filter */
    o = s_encode(e, p);
    assert_int_equal(o->rec.clk.len, len);
    assert_memory_equal(o->rec.clk.data, want, len);
    free(o);
}

static void
test_clk(void **state)
{
    size_t n = 0, nsets = 0;
    int flip = 0, noflip = 0, fold = 0, odd = 0, shared = 0, fold_shared = 0, line_salt = 0;
    int both_salts = 0;

    for (size_t i = 0; i < s_env.nv; i++) {
        const struct tu_vec *set = &s_env.v[i];
        struct xl_spec *spec;
        struct agent_encoder *e;
        if (!s_is(set, "clk_set"))
            continue;
        spec = s_clk_set_spec(set);
        e = s_encoder(spec, s_env.agency);
        for (size_t j = 0; j < s_env.nv; j++) {
            const struct tu_vec *v = &s_env.v[j];
            struct agent_person p;
            if (!s_is(v, "clk") || strcmp(s_get(v, "set"), s_get(set, "set")) != 0)
                continue;
            s_person(s_get(v, "person"), &p);
            s_check_clk(e, spec, &p, v);
            agent_person_wipe(&p);
            n++;
        }
        /* What the sets must go on covering, so the vectors pin it. */
        flip |= spec->clk_flip > 0;
        noflip |= spec->clk_flip == 0;
        fold |= spec->clk_xor_fold;
        for (size_t f = 0; f < spec->nclk_fields; f++) {
            const struct xl_spec_clk_field *cf = &spec->clk_fields[f];
            odd |= (cf->bits & (cf->bits - 1)) != 0;
            shared |= cf->shared;
            fold_shared |= cf->shared && spec->clk_xor_fold;
            line_salt |= cf->salt >= 0;
            both_salts |= cf->salt >= 0 && spec->clk_salt >= 0 && cf->salt != spec->clk_salt;
        }
        agent_encoder_destroy(&e);
        free(spec);
        nsets++;
    }
    assert_true(nsets >= 5);
    assert_true(n >= 5 * nsets);
    assert_true(flip && noflip && fold && odd);
    /* A "+" line, also in a folded set; a line's own salt, also where [clk]
     * names another. */
    assert_true(shared && fold_shared && line_salt && both_salts);
    /* The spec file's own set is the one the other tests encode with. */
    {
        struct xl_spec *spec = s_clk_set_spec(s_clk_set("spec"));
        assert_memory_equal(spec->fingerprint, s_env.spec->fingerprint, XL_HASH_BYTES);
        free(spec);
    }
}

/* The flip noise alone, on a record with nothing but its source id: the seed
 * is SipHash of "flip" || local_ref under the Bloom subkey, and the noise is
 * the record's (the same at every encoding, different at another agency). */
static void
test_flip_noise(void **state)
{
    uint8_t bloom[XL_KEY_BYTES], in[64], want[8], got[8];
    size_t n = 0, len;

    s_hex(s_only("keys"), "bloom_key", bloom, sizeof bloom);
    for (size_t i = 0; i < s_env.nv; i++) {
        const struct tu_vec *v = &s_env.v[i];
        struct agent_person p, nobody;
        struct agent_encoder *e, *other;
        struct agent_encoded *a, *b;
        struct xl_spec *spec;
        if (!s_is(v, "flip"))
            continue;
        spec = s_clk_set_spec(s_clk_set(s_get(v, "set")));
        assert_true(spec->clk_flip > 0);
        e = s_encoder(spec, s_env.agency);
        s_person(s_get(v, "person"), &p);
        memset(&nobody, 0, sizeof nobody);
        strcpy(nobody.source_id, p.source_id);

        a = s_encode(e, &nobody);
        assert_int_equal(tu_vec_hex(v, "input", in, sizeof in, &len), 0);
        assert_int_equal(len, 4 + AGENT_REF_BYTES);
        assert_memory_equal(in, "flip", 4);
        assert_memory_equal(in + 4, a->rec.local_ref.data, AGENT_REF_BYTES);
        s_hex(v, "seed", want, sizeof want);
        assert_int_equal(crypto_shorthash_siphash24(got, in, len, bloom), 0);
        assert_memory_equal(got, want, sizeof want);
        s_check_clk(e, spec, &nobody, v);

        /* Another agency's record of the same source id draws other noise. */
        other = s_encoder(spec, "health");
        b = s_encode(other, &nobody);
        assert_memory_not_equal(a->rec.clk.data, b->rec.clk.data, a->rec.clk.len);
        free(a);
        free(b);
        agent_encoder_destroy(&other);
        agent_encoder_destroy(&e);
        agent_person_wipe(&p);
        free(spec);
        n++;
    }
    assert_true(n > 0);
}

/* ---- behaviour ------------------------------------------------------------------ */

/* Does the record hold a token for this level? */
static int
s_has_level(const struct agent_encoded *o, unsigned level)
{
    for (size_t i = 0; i < o->rec.n_keys; i++) {
        if (o->rec.keys[i]->level == level)
            return 1;
    }
    return 0;
}

/* Does the record hold this token at this level? */
static int
s_has_token(const struct agent_encoded *o, unsigned level, const uint8_t *tok)
{
    for (size_t i = 0; i < o->rec.n_keys; i++) {
        if (o->rec.keys[i]->level == level &&
            memcmp(o->rec.keys[i]->token.data, tok, XL_TOKEN_BYTES) == 0)
            return 1;
    }
    return 0;
}

/* No token of any level is the hash of an empty value, or of a value whose
 * parts are all empty. */
static void
s_check_no_empty(const struct agent_encoded *o)
{
    uint8_t match[XL_KEY_BYTES], empty[XL_TOKEN_BYTES], blank[XL_TOKEN_BYTES];
    const char seps[XL_SPEC_MAX_PARTS] = "\x1f\x1f\x1f\x1f\x1f\x1f\x1f";

    assert_int_equal(xl_kdf_derive(s_env.secret->secret, XL_SUBKEY_MATCH, match), 0);
    for (size_t l = 0; l < s_env.spec->nlevels; l++) {
        const struct xl_spec_level *lv = &s_env.spec->levels[l];
        const uint8_t *fp = s_env.spec->fingerprint;
        assert_int_equal(xl_token(match, fp, lv->compare, "", 0, empty), 0);
        assert_int_equal(xl_token(match, fp, lv->compare, seps, lv->nparts - 1, blank), 0);
        for (size_t k = 0; k < o->rec.n_keys; k++) {
            if (memcmp(o->rec.keys[k]->token.data, empty, XL_TOKEN_BYTES) == 0 ||
                memcmp(o->rec.keys[k]->token.data, blank, XL_TOKEN_BYTES) == 0)
                fail_msg("a level %u token hashes level %u's fields all empty",
                         (unsigned)o->rec.keys[k]->level, (unsigned)lv->number);
        }
    }
    xl_wipe(match, sizeof match);
}

static void
s_check_no_empty_person(const char *id, const struct agent_person *p)
{
    struct agent_encoded *o = s_encode(s_env.enc, p);

    s_check_no_empty(o);
    free(o);
}

/* A level whose inputs are missing gives no token, and no token is ever made
 * of an empty value. */
static void
test_missing_inputs(void **state)
{
    struct agent_person p, none;
    struct agent_encoded *o;
    uint8_t zero[XL_CLK_MAX_BITS / 8] = {0};

    s_each_person(s_check_no_empty_person);

    /* No surname: only the levels without one (nhs, surname_change). */
    s_person("nosurname", &p);
    o = s_encode(s_env.enc, &p);
    for (size_t l = 0; l < s_env.spec->nlevels; l++) {
        unsigned n = s_env.spec->levels[l].number;
        if (s_has_level(o, n) != (n == 1 || n == 9))
            fail_msg("nosurname: level %u %s", n, s_has_level(o, n) ? "present" : "missing");
    }
    free(o);

    /* No middle name: level 10 (first middle surname yob) is skipped. */
    s_person("bill", &p);
    o = s_encode(s_env.enc, &p);
    assert_false(s_has_level(o, 10));
    assert_false(s_has_level(o, 1)); /* no NHS number */
    assert_false(s_has_level(o, 2)); /* no UPN */
    free(o);

    /* Nothing but a source id: no token, no blocking key, an empty filter. */
    memset(&none, 0, sizeof none);
    strcpy(none.source_id, "P-0099");
    o = s_encode(s_env.enc, &none);
    assert_int_equal(o->rec.n_keys, 0);
    assert_int_equal(o->rec.n_blocks, 0);
    assert_int_equal(o->rec.clk.len, xl_spec_clk_bytes(s_env.spec));
    assert_memory_equal(o->rec.clk.data, zero, o->rec.clk.len);
    assert_int_equal(o->rec.local_ref.len, AGENT_REF_BYTES);
    free(o);

    /* A name present but the date missing: still no level that needs the date. */
    s_person("amelia", &p);
    strcpy(p.upn, "H801200001001");
    p.dob[0] = '\0';
    o = s_encode(s_env.enc, &p);
    for (size_t l = 0; l < s_env.spec->nlevels; l++) {
        const struct xl_spec_level *lv = &s_env.spec->levels[l];
        int needs = 0;
        for (size_t j = 0; j < lv->nparts; j++)
            needs |= lv->parts[j] == XL_F_DOB || lv->parts[j] == XL_F_YOB;
        assert_int_equal(s_has_level(o, lv->number), !needs);
    }
    s_check_no_empty(o);
    free(o);
    agent_person_wipe(&p);
}

/* The token of level `level` of p (the first, when a surname has parts). */
static void
s_token_of(const struct agent_person *p, unsigned level, uint8_t tok[XL_TOKEN_BYTES])
{
    struct agent_encoded *o = s_encode(s_env.enc, p);
    size_t i;

    for (i = 0; i < o->rec.n_keys; i++) {
        if (o->rec.keys[i]->level == level)
            break;
    }
    assert_true(i < o->rec.n_keys);
    memcpy(tok, o->rec.keys[i]->token.data, XL_TOKEN_BYTES);
    free(o);
}

/* Variants, nicknames and surname parts meet the records they are for. */
static void
test_variants_meet(void **state)
{
    struct agent_person p, q;
    struct agent_encoded *o;
    uint8_t tok[XL_TOKEN_BYTES];

    /* Names swapped in the other record: its level 4 is our level 6. */
    s_person("amelia", &p);
    q = p;
    strcpy(q.first, "okafor");
    strcpy(q.surname, "amelia");
    s_token_of(&q, 4, tok);
    o = s_encode(s_env.enc, &p);
    assert_true(s_has_token(o, 6, tok));
    assert_false(s_has_token(o, 4, tok));
    free(o);

    /* Day and month transposed in the other record: its level 4 is our level 7. */
    q = p;
    strcpy(q.dob, "2012-01-07");
    s_token_of(&q, 4, tok);
    o = s_encode(s_env.enc, &p);
    assert_true(s_has_token(o, 7, tok));
    free(o);

    /* Nickname: "william" and "bill" give the same match keys... */
    s_person("bill", &p);
    q = p;
    strcpy(q.first, "william");
    o = s_encode(s_env.enc, &q);
    s_token_of(&p, 4, tok);
    assert_true(s_has_token(o, 4, tok));
    s_token_of(&p, 8, tok); /* the initial is taken after the nickname: w */
    assert_true(s_has_token(o, 8, tok));
    {
        /* ...but not the same CLK, which keeps the name as written. */
        struct agent_encoded *b = s_encode(s_env.enc, &p);
        assert_memory_not_equal(o->rec.clk.data, b->rec.clk.data, o->rec.clk.len);
        free(b);
    }
    free(o);

    /* One part of a double-barrelled surname meets the whole. */
    o = s_encode(s_env.enc, &p);
    q = p;
    strcpy(q.surname, "jones");
    s_token_of(&q, 4, tok);
    assert_true(s_has_token(o, 4, tok));
    strcpy(q.surname, "smithjones"); /* written without the space */
    s_token_of(&q, 4, tok);
    assert_true(s_has_token(o, 4, tok));
    free(o);

    /* A date whose day cannot be a month has no transposed variant; one whose
     * day equals its month neither. */
    o = s_encode(s_env.enc, &p); /* 2010-03-15 */
    assert_false(s_has_level(o, 7));
    free(o);
    s_person("marysue", &p); /* 2011-11-11 */
    o = s_encode(s_env.enc, &p);
    assert_false(s_has_level(o, 7));
    assert_true(s_has_level(o, 6));
    free(o);
    agent_person_wipe(&p);
    agent_person_wipe(&q);
}

/* Unpacks a payload of s_env's encoder, as of the given agency, into values:
 * compact, then made whole with the encoder's payload key as the linker does
 * for an extract, then opened as the analyst does. */
static Crosslink__Outcome *
s_open(const struct agent_encoded *o, const char *agency, size_t *plainlen, int *rc)
{
    struct xl_payload_opener *op = xl_payload_opener_new(s_env.apk, s_env.ask);
    uint8_t plain[AGENT_MAX_PAYLOAD], whole[AGENT_MAX_PAYLOAD + XL_PAYLOAD_KEY];
    uint8_t key[XL_PAYLOAD_KEY];
    Crosslink__Outcome *oc = NULL;

    assert_non_null(op);
    assert_int_equal(o->rec.payload.data[0], XL_PAYLOAD_COMPACT);
    assert_true(o->rec.payload.len > XL_PAYLOAD_COMPACT_OVERHEAD);
    *plainlen = o->rec.payload.len - XL_PAYLOAD_COMPACT_OVERHEAD;
    /* the compact form opens with nothing: the key is not in it */
    assert_int_equal(xl_payload_open(op, agency, o->rec.payload.data, o->rec.payload.len, plain),
                     XL_ERR_CRYPTO);
    agent_encoder_payload_key(s_env.enc, key);
    assert_int_equal(xl_payload_whole(key, o->rec.payload.data, o->rec.payload.len, whole), 0);
    assert_int_equal(xl_payload_whole(key, whole, o->rec.payload.len + XL_PAYLOAD_KEY, plain),
                     XL_ERR_FORMAT); /* whole already */
    *rc = xl_payload_open(op, agency, whole, o->rec.payload.len + XL_PAYLOAD_KEY, plain);
    if (*rc == 0) {
        oc = crosslink__outcome__unpack(NULL, *plainlen, plain);
        assert_non_null(oc);
    }
    xl_wipe(plain, sizeof plain);
    xl_payload_opener_destroy(&op);
    return oc;
}

static void
test_payload(void **state)
{
    static const char *const outcomes[] = {"3", "yes", "2023-04-01", ""};
    struct agent_encoded *o = calloc(1, sizeof *o);
    struct agent_person p;
    Crosslink__Outcome *oc;
    size_t plainlen;
    int rc;

    assert_non_null(o);
    s_person("amelia", &p);
    assert_int_equal(agent_encode(s_env.enc, &p, outcomes, 4, o), 0);
    oc = s_open(o, s_env.agency, &plainlen, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(oc->n_values, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(oc->values[i], outcomes[i]);
    crosslink__outcome__free_unpacked(oc, NULL);

    /* Bound to the agency: the payload of another agency name does not open. */
    assert_null(s_open(o, "health", &plainlen, &rc));
    assert_int_equal(rc, XL_ERR_CRYPTO);

    /* Nor does an altered one. */
    o->payload[o->rec.payload.len - 1] ^= 1;
    assert_null(s_open(o, s_env.agency, &plainlen, &rc));
    assert_int_equal(rc, XL_ERR_CRYPTO);

    /* Outcomes too large for a payload are refused, not cut. */
    {
        static char big[AGENT_MAX_PAYLOAD];
        const char *one[1] = {big};
        memset(big, 'x', sizeof big - 1);
        assert_int_equal(agent_encode(s_env.enc, &p, one, 1, o), XL_ERR_TOOBIG);
    }
    agent_person_wipe(&p);
    free(o);
}

/* The plaintext is padded to a multiple of 64 bytes whatever the values'
 * length, so the size of a sealed payload says little about its content. */
static void
test_payload_padding(void **state)
{
    struct agent_encoded *o = calloc(1, sizeof *o);
    struct agent_person p;
    char value[200];
    const char *one[1] = {value};

    assert_non_null(o);
    s_person("bill", &p);
    for (size_t n = 0; n < sizeof value; n++) {
        Crosslink__Outcome *oc;
        size_t plainlen;
        int rc;
        memset(value, 'a', n);
        value[n] = '\0';
        assert_int_equal(agent_encode(s_env.enc, &p, one, 1, o), 0);
        oc = s_open(o, s_env.agency, &plainlen, &rc);
        assert_int_equal(rc, 0);
        assert_int_equal(oc->n_values, 1);
        assert_string_equal(oc->values[0], value);
        crosslink__outcome__free_unpacked(oc, NULL);
        if (plainlen % 64 != 0)
            fail_msg("a %zu-byte outcome gives a %zu-byte payload plaintext", n, plainlen);
    }
    agent_person_wipe(&p);
    free(o);
}

/* The packed record holds none of the identifiers it was made from. */
static void
s_check_no_plaintext(const char *id, const struct agent_person *p)
{
    static const char *const outcomes[] = {"Reoffended-Marker-7Q"};
    struct agent_encoded *o = calloc(1, sizeof *o);
    const char *ids[] = {p->first, p->surname, p->middle,    p->dob,     p->postcode,
                         p->nhs,   p->upn,     p->source_id, outcomes[0]};
    char compact[AGENT_NAME_MAX];
    uint8_t *buf;
    size_t len;

    assert_non_null(o);
    assert_int_equal(agent_encode(s_env.enc, p, outcomes, 1, o), 0);
    len = crosslink__record__get_packed_size(&o->rec);
    buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(crosslink__record__pack(&o->rec, buf), len);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        /* Values of four bytes or more: shorter ones turn up in random bytes. */
        if (strlen(ids[i]) >= 4 && memmem(buf, len, ids[i], strlen(ids[i])) != NULL)
            fail_msg("%s: identifier %zu appears in the packed record", id, i);
    }
    assert_int_equal(agent_name_compact(p->surname, compact, sizeof compact), AGENT_OK);
    if (strlen(compact) >= 4)
        assert_null(memmem(buf, len, compact, strlen(compact)));
    xl_wipe(buf, len);
    free(buf);
    free(o);
}

static void
test_record_no_plaintext(void **state)
{
    s_each_person(s_check_no_plaintext);
}

/* Two encoders of one spec and secret agree; the check value is the secret's. */
static void
test_deterministic(void **state)
{
    struct agent_encoder *e = s_encoder(s_env.spec, s_env.agency);
    struct agent_person p;
    struct agent_encoded *a, *b;
    uint8_t want[XL_CHECK_BYTES], got[XL_CHECK_BYTES];

    s_person("sofia", &p);
    a = s_encode(s_env.enc, &p);
    b = s_encode(e, &p);
    assert_int_equal(a->rec.n_keys, b->rec.n_keys);
    assert_true(a->rec.n_keys > 0);
    for (size_t i = 0; i < a->rec.n_keys; i++) {
        assert_int_equal(a->rec.keys[i]->level, b->rec.keys[i]->level);
        assert_memory_equal(a->rec.keys[i]->token.data, b->rec.keys[i]->token.data, XL_TOKEN_BYTES);
    }
    assert_int_equal(a->rec.n_blocks, b->rec.n_blocks);
    assert_memory_equal(a->rec.clk.data, b->rec.clk.data, a->rec.clk.len);
    /* Payloads are sealed afresh: equal values, different bytes. */
    assert_memory_not_equal(a->rec.payload.data, b->rec.payload.data, a->rec.payload.len);
    {
        uint8_t ka[XL_PAYLOAD_KEY], kb[XL_PAYLOAD_KEY];
        agent_encoder_payload_key(s_env.enc, ka);
        agent_encoder_payload_key(e, kb);
        assert_memory_not_equal(ka, kb, sizeof ka); /* a data key and prefix each */
    }

    assert_int_equal(xl_secret_check(s_env.secret->secret, s_env.secret->epoch, want), 0);
    agent_encoder_secret_check(e, got);
    assert_memory_equal(got, want, sizeof want);
    free(a);
    free(b);
    agent_encoder_destroy(&e);
    agent_encoder_destroy(&e); /* accepts NULL */
    agent_person_wipe(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_reference),
        cmocka_unit_test(test_subkeys),
        cmocka_unit_test(test_spec_fingerprint),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_local_ref),
        cmocka_unit_test(test_local_ref_scope),
        cmocka_unit_test(test_qgram_hash),
        cmocka_unit_test(test_clk),
        cmocka_unit_test(test_flip_noise),
        cmocka_unit_test(test_missing_inputs),
        cmocka_unit_test(test_variants_meet),
        cmocka_unit_test(test_payload),
        cmocka_unit_test(test_payload_padding),
        cmocka_unit_test(test_record_no_plaintext),
        cmocka_unit_test(test_deterministic),
    };

    return cmocka_run_group_tests_name("encode", tests, s_setup, s_teardown);
}
