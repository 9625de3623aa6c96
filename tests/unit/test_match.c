/* The matching engine: Dice kernels against a scalar reference, then the
 * engine on a synthetic population built here with a known truth. Records are
 * encoded the way the agent encodes them: each CLK field's bigrams set bits in
 * the field's own segment from a keyed hash, then flip noise; match-key tokens
 * per level (a variant hashed as its compare level); keyed blocking keys.
 * People come in families (siblings share surname and postcode, twins their
 * date of birth too), and records carry typos, missing values, moves and
 * swapped names. Small constructions added to the population test each of the
 * engine's promises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/normalise.h"
#include "../../linker/candidates.h"
#include "../../linker/dice.h"
#include "../../linker/match.h"
#include "../../linker/model.h"
#include "../../linker/pext.h"
#include "xl/spec.h"

/* The levels and segments both test specifications start with. */
#define S_SPEC_LEVELS                                                                              \
    "[level 1]\nname = nhs\nfields = nhs_number\nstrong = yes\n"                                   \
    "[level 2]\nname = upn\nfields = upn\nstrong = yes\n"                                          \
    "[level 4]\nname = name_dob\nfields = first_name surname dob\n"
#define S_SPEC_SEGMENTS                                                                            \
    "[clk]\nq = 2\n"                                                                               \
    "field = first_name 12 256\n"                                                                  \
    "field = surname 12 256\n"                                                                     \
    "field = dob 10 256\n"                                                                         \
    "field = sex 4 64\n"                                                                           \
    "field = postcode 10 192\n"

/* As deploy/examples/linkage.spec: the same segments, noise, blocking keys and
 * thresholds, with strong NHS and UPN levels, a name and date of birth level
 * and its names-swapped variant. */
static const char *s_spec_text =
    "[spec]\nname = matchtest\n" S_SPEC_LEVELS
    "[level 6]\nname = names_swapped\nfields = first_name surname dob\n"
    "variant = names_swapped\ncompare = 4\n" S_SPEC_SEGMENTS "flip = 0.02\n"
    "[blocking]\n"
    "key = surname_phonetic yob\n"
    "key = first_phonetic yob\n"
    "key = first_initial dob\n"
    "key = sector yob\n"
    "key = surname_phonetic first_phonetic\n"
    "[thresholds]\naccept = 0.84\npossible = 0.80\n";

/* As s_spec_text with a segment for every field the population has: 12
 * segments and 2 strong identifiers, 14 features, whose comparison vectors
 * take more than 32 bits (linker_gamma_wide). */
static const char *s_wide_spec_text =
    "[spec]\nname = widetest\n" S_SPEC_LEVELS S_SPEC_SEGMENTS "field = first_initial 4 64\n"
    "field = yob 6 64\n"
    "field = sector 8 128\n"
    "field = surname_phonetic 6 64\n"
    "field = first_phonetic 6 64\n"
    "field = nhs_number 8 128\n"
    "field = upn 8 128\n"
    "flip = 0.02\n"
    "[blocking]\n"
    "key = surname_phonetic yob\n"
    "key = first_initial dob\n"
    "[thresholds]\naccept = 0.84\npossible = 0.80\n";

/* The specification s_pop_new encodes with. */
static const char *s_spec_in_use;

/* ---- kernels -------------------------------------------------------------------- */

/* A scalar popcount of a AND b, the reference every kernel must equal. */
static uint32_t
s_reference(const uint64_t *a, const uint64_t *b, size_t n)
{
    uint32_t c = 0;

    for (size_t i = 0; i < n; i++) {
        uint64_t x = a[i] & b[i];
        while (x) {
            x &= x - 1;
            c++;
        }
    }
    return c;
}

static uint64_t
s_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The bands' bit extraction: the published example of the instruction, a bit
 * at each end, and the instruction (where the processor has it) beside the
 * portable loop on random words and masks. */
static void
test_pext(void **state)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;

    (void)state;
    assert_true(linker_pext_portable(0x12345678ull, 0xff00fff0ull) == 0x12567ull);
    assert_true(linker_pext_portable(~0ull, 1ull << 63) == 1);
    assert_true(linker_pext_portable(0x8000000000000001ull, 0x8000000000000001ull) == 3);
    assert_true(linker_pext_portable(0xffffull, 0) == 0);
    assert_true(linker_pext_portable(0xa5ull, ~0ull) == 0xa5ull);
#ifdef LINKER_HAVE_PEXT_BMI2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("bmi2")) {
        for (int i = 0; i < 100000; i++) {
            uint64_t x = s_rand(&seed), mask = s_rand(&seed) & s_rand(&seed);
            assert_true(linker_pext_bmi2(x, mask) == linker_pext_portable(x, mask));
        }
    }
#endif
}

static void
test_kernels_equal_reference(void **state)
{
    uint64_t seed = 88172645463325252ull, a[64], b[64];
    int kernels = 0;

    (void)state;
    for (int k = 0; k < LINKER_KERNEL_COUNT; k++) {
        linker_and_count_fn f = linker_dice_kernel((enum linker_kernel)k);
        if (f == NULL)
            continue;
        kernels++;
        for (int trial = 0; trial < 2000; trial++) {
            size_t n = (size_t)(8 * (1 + trial % 8));
            /* Sparse, dense and random filters. */
            for (size_t i = 0; i < n; i++) {
                a[i] = s_rand(&seed);
                b[i] = s_rand(&seed);
                if (trial % 3 == 1) {
                    a[i] &= s_rand(&seed);
                    b[i] &= s_rand(&seed);
                } else if (trial % 3 == 2) {
                    a[i] |= s_rand(&seed);
                    b[i] = ~0ull;
                }
            }
            assert_int_equal(f(a, b, n), s_reference(a, b, n));
        }
    }
    assert_true(kernels >= 1);
    assert_non_null(linker_dice_kernel(LINKER_KERNEL_PORTABLE));
    assert_int_equal(linker_dice_words(128), 16);
    assert_int_equal(linker_dice_words(64), 8);
    assert_int_equal(linker_dice_words(72), 16);
}

/* ---- encoding as the agent does ----------------------------------------------------- */

static uint64_t
s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t
s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The keyed hash the agent takes from libsodium, stood in for by a seeded
 * FNV-1a: the engine only ever compares its outputs. */
static uint64_t
s_hash(uint64_t key, const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull ^ s_mix(key);

    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return s_mix(h);
}

static double
s_unif(uint64_t *seed)
{
    return (double)(s_splitmix(seed) >> 11) * 0x1.0p-53;
}

static uint32_t
s_below(uint64_t *seed, uint32_t n)
{
    return (uint32_t)(s_splitmix(seed) % n);
}

/* A person's values as one record holds them; "" is missing. */
struct s_val {
    char first[24], sur[24], dob[11], sex[2], pc[10];
    uint64_t nhs, upn; /* 0 = none */
};

/* The value of a field, derived ones as the agent derives them, into buf;
 * 0 when missing. */
static int
s_field(const struct s_val *v, enum xl_field f, char *buf, size_t len)
{
    char code[5];

    buf[0] = '\0';
    switch (f) {
    case XL_F_NHS_NUMBER:
        if (v->nhs != 0)
            snprintf(buf, len, "%010llu", (unsigned long long)v->nhs);
        break;
    case XL_F_UPN:
        if (v->upn != 0)
            snprintf(buf, len, "A%012llu", (unsigned long long)v->upn);
        break;
    case XL_F_FIRST_NAME: snprintf(buf, len, "%s", v->first); break;
    case XL_F_SURNAME: snprintf(buf, len, "%s", v->sur); break;
    case XL_F_DOB: snprintf(buf, len, "%s", v->dob); break;
    case XL_F_SEX: snprintf(buf, len, "%s", v->sex); break;
    case XL_F_POSTCODE: snprintf(buf, len, "%s", v->pc); break;
    case XL_F_FIRST_INITIAL: snprintf(buf, len, "%.1s", v->first); break;
    case XL_F_YOB: snprintf(buf, len, "%.4s", v->dob); break;
    case XL_F_SECTOR:
        if (strlen(v->pc) > 2)
            snprintf(buf, len, "%.*s", (int)strlen(v->pc) - 2, v->pc);
        break;
    case XL_F_SURNAME_PHONETIC:
    case XL_F_FIRST_PHONETIC:
        if (agent_soundex(f == XL_F_SURNAME_PHONETIC ? v->sur : v->first, code) == AGENT_OK)
            snprintf(buf, len, "%s", code);
        break;
    default: break;
    }
    return buf[0] != '\0';
}

/* The fields' values joined; 0 when one of them is missing. */
static int
s_join(const struct s_val *v, const enum xl_field *parts, size_t nparts, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < nparts; i++) {
        char one[32];
        if (!s_field(v, parts[i], one, sizeof one))
            return 0;
        used += (size_t)snprintf(buf + used, len - used, "%s\x1f", one);
        assert_true(used < len);
    }
    return 1;
}

#define S_CLK_KEY 0x636c6bull

/* The CLK: each field's bigrams (padded with '_') set k bits in its segment,
 * from a generator seeded by a keyed hash of field and bigram; then every bit
 * flipped with the spec's probability, from a generator seeded per record. */
static void
s_clk(const struct xl_spec *spec, const struct s_val *v, uint64_t noise, uint8_t *clk)
{
    uint64_t full[XL_CLK_MAX_BITS / 64] = {0};
    size_t words = spec->clk_bits / 64;
    uint32_t t = (uint32_t)(spec->clk_flip * 65536.0 + 0.5);

    for (size_t i = 0; i < spec->nclk_fields; i++) {
        const struct xl_spec_clk_field *cf = &spec->clk_fields[i];
        char val[32], pad[40], gram[3] = {0};
        size_t n;
        if (!s_field(v, cf->field, val, sizeof val))
            continue;
        n = (size_t)snprintf(pad, sizeof pad, "_%s_", val);
        for (size_t g = 0; g + 2 <= n; g++) {
            uint64_t x;
            memcpy(gram, pad + g, 2);
            x = s_hash(S_CLK_KEY ^ (uint64_t)cf->field << 32, gram);
            for (unsigned j = 0; j < cf->k; j++) {
                unsigned b = cf->offset + (unsigned)(s_splitmix(&x) % cf->bits);
                full[b / 64] |= 1ull << (b % 64);
            }
        }
    }
    for (size_t b = 0; b < words * 64 && t > 0; b++) {
        if ((s_splitmix(&noise) & 0xffff) < t)
            full[b / 64] ^= 1ull << (b % 64);
    }
    for (size_t w = 0; w < words; w++) {
        for (int i = 0; i < 8; i++)
            clk[8 * w + (size_t)i] = (uint8_t)(full[w] >> (8 * i));
    }
}

/* Blocking key i of a record; 0 when one of its fields is missing. */
static int
s_block_key(const struct xl_spec *spec, const struct s_val *v, size_t i, uint64_t *h)
{
    char value[256];

    if (!s_join(v, spec->blocks[i].parts, spec->blocks[i].nparts, value, sizeof value))
        return 0;
    *h = s_hash(0x626c6b00ull + i, value);
    return 1;
}

/* ---- the population ----------------------------------------------------------------- */

enum { S_POLICE, S_HEALTH, S_EDUCATION, S_SOCIAL, S_NDS };

/* A record's encoding leaves out its match-key tokens or blocking keys. */
#define S_NO_TOKENS 1u
#define S_NO_BLOCKS 2u

struct s_pop {
    struct xl_spec *spec;
    struct linker_input *in;
    uint32_t *person;  /* [nrec] the truth */
    struct s_val *val; /* [nrec] the values as recorded */
    size_t cap;
    int ds[S_NDS];
    uint32_t npeople;
    uint64_t seed;
};

static uint32_t
s_add(struct s_pop *p, int ds, const struct s_val *v, uint32_t person, unsigned flags)
{
    const struct xl_spec *spec = p->spec;
    Crosslink__Record rec = CROSSLINK__RECORD__INIT;
    Crosslink__MatchKey keys[XL_SPEC_MAX_LEVELS], *keyp[XL_SPEC_MAX_LEVELS];
    ProtobufCBinaryData blocks[XL_SPEC_MAX_BLOCKS];
    uint8_t tok[XL_SPEC_MAX_LEVELS][16], blk[XL_SPEC_MAX_BLOCKS][8], clk[XL_CLK_MAX_BITS / 8];
    uint32_t n = (uint32_t)p->in->nrec;
    char value[256];

    for (size_t i = 0; i < spec->nlevels && !(flags & S_NO_TOKENS); i++) {
        const struct xl_spec_level *l = &spec->levels[i];
        struct s_val w = *v;
        uint64_t t0, t1;
        if (l->variant == XL_VARIANT_NAMES_SWAPPED) {
            memcpy(w.first, v->sur, sizeof w.first);
            memcpy(w.sur, v->first, sizeof w.sur);
        } else if (l->variant != XL_VARIANT_NONE) {
            continue;
        }
        if (!s_join(&w, l->parts, l->nparts, value, sizeof value))
            continue;
        /* Hashed with the level it is compared with, kept with its own. */
        t0 = s_hash(0x746f6b00ull + l->compare, value);
        t1 = s_hash(0x746f6c00ull + l->compare, value);
        memcpy(tok[rec.n_keys], &t0, 8);
        memcpy(tok[rec.n_keys] + 8, &t1, 8);
        crosslink__match_key__init(&keys[rec.n_keys]);
        keys[rec.n_keys].level = l->number;
        keys[rec.n_keys].token.data = tok[rec.n_keys];
        keys[rec.n_keys].token.len = 16;
        keyp[rec.n_keys] = &keys[rec.n_keys];
        rec.n_keys++;
    }
    rec.keys = keyp;
    for (size_t i = 0; i < spec->nblocks && !(flags & S_NO_BLOCKS); i++) {
        uint64_t h;
        if (!s_block_key(spec, v, i, &h))
            continue;
        memcpy(blk[rec.n_blocks], &h, 8);
        blocks[rec.n_blocks].data = blk[rec.n_blocks];
        blocks[rec.n_blocks].len = 8;
        rec.n_blocks++;
    }
    rec.blocks = blocks;
    s_clk(spec, v, s_mix(p->seed ^ (0x6e6f697365ull + n)), clk);
    rec.clk.data = clk;
    rec.clk.len = xl_spec_clk_bytes(spec);
    assert_int_equal(linker_input_add(p->in, p->ds[ds], &rec), 0);
    if (n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 4096;
        p->person = realloc(p->person, p->cap * sizeof *p->person);
        p->val = realloc(p->val, p->cap * sizeof *p->val);
        assert_non_null(p->person);
        assert_non_null(p->val);
    }
    p->person[n] = person;
    p->val[n] = *v;
    return n;
}

static const char *const s_syllables[] = {
    "ka",  "li",  "mo",  "ra",  "ne",  "to", "sa", "vi",  "el",  "an",  "jo",  "ha",  "ri", "bel",
    "son", "ton", "ley", "mar", "den", "lo", "be", "da",  "fi",  "gu",  "ker", "lin", "ma", "no",
    "pe",  "ros", "ti",  "us",  "wen", "ya", "zo", "ber", "cha", "dre", "fen", "om"};
#define S_NSYL (sizeof s_syllables / sizeof s_syllables[0])

static void
s_name(uint64_t *seed, char *out, size_t len)
{
    int n = 2 + (int)s_below(seed, 2);

    out[0] = '\0';
    for (int i = 0; i < n; i++)
        strncat(out, s_syllables[s_below(seed, S_NSYL)], len - strlen(out) - 1);
}

/* Name pools, drawn from with a skew: a few names are common, most rare. */
#define S_FIRST_POOL   300
#define S_SURNAME_POOL 1000
#define S_PC_POOL      800

struct s_pools {
    char first[S_FIRST_POOL][24], sur[S_SURNAME_POOL][24], pc[S_PC_POOL][10];
};

static const char *
s_pick(uint64_t *seed, const char *pool, size_t stride, size_t n)
{
    double u = s_unif(seed);

    return pool + stride * (size_t)(u * u * (double)n);
}

static void
s_pools_fill(struct s_pools *P, uint64_t *seed)
{
    static const char *const area[] = {"B", "CV", "WS", "DY", "WV"};

    for (size_t i = 0; i < S_FIRST_POOL; i++)
        s_name(seed, P->first[i], sizeof P->first[i]);
    for (size_t i = 0; i < S_SURNAME_POOL; i++)
        s_name(seed, P->sur[i], sizeof P->sur[i]);
    for (size_t i = 0; i < S_PC_POOL; i++)
        snprintf(P->pc[i], sizeof P->pc[i], "%s%u %u%c%c", area[s_below(seed, 5)],
                 1 + s_below(seed, 40), s_below(seed, 10), 'A' + (int)s_below(seed, 26),
                 'A' + (int)s_below(seed, 26));
}

static void
s_dob(uint64_t *seed, char out[11])
{
    snprintf(out, 11, "%04u-%02u-%02u", 2004 + s_below(seed, 10), 1 + s_below(seed, 12),
             1 + s_below(seed, 28));
}

/* One character of s replaced by another from the same class. */
static void
s_typo(uint64_t *seed, char *s, size_t from, size_t to)
{
    size_t n = strlen(s), i;
    char c;

    if (n == 0 || to > n || from >= to)
        return;
    do
        i = from + s_below(seed, (uint32_t)(to - from));
    while (s[i] == '-' || s[i] == ' ');
    do {
        if (s[i] >= '0' && s[i] <= '9')
            c = (char)('0' + s_below(seed, 10));
        else if (s[i] >= 'A' && s[i] <= 'Z')
            c = (char)('A' + s_below(seed, 26));
        else
            c = (char)('a' + s_below(seed, 26));
    } while (c == s[i]);
    s[i] = c;
}

/* The errors of one record: typos, missing values, a move, swapped names. */
static void
s_corrupt(uint64_t *seed, const struct s_pools *P, struct s_val *v)
{
    if (s_unif(seed) < 0.02)
        v->first[0] = '\0';
    else if (s_unif(seed) < 0.06)
        s_typo(seed, v->first, 0, strlen(v->first));
    if (s_unif(seed) < 0.01)
        v->sur[0] = '\0';
    else if (s_unif(seed) < 0.05)
        s_typo(seed, v->sur, 0, strlen(v->sur));
    if (s_unif(seed) < 0.03)
        v->dob[0] = '\0';
    else if (s_unif(seed) < 0.03)
        s_typo(seed, v->dob, 5, 10); /* day or month */
    if (s_unif(seed) < 0.05)
        v->sex[0] = '\0';
    else if (s_unif(seed) < 0.01)
        v->sex[0] = v->sex[0] == 'm' ? 'f' : 'm';
    if (s_unif(seed) < 0.05)
        v->pc[0] = '\0';
    else if (s_unif(seed) < 0.06)
        memcpy(v->pc, s_pick(seed, P->pc[0], sizeof P->pc[0], S_PC_POOL), sizeof v->pc);
    else if (s_unif(seed) < 0.02)
        s_typo(seed, v->pc, strlen(v->pc) - 2, strlen(v->pc));
    if (s_unif(seed) < 0.01) {
        char t[24];
        memcpy(t, v->first, sizeof t);
        memcpy(v->first, v->sur, sizeof t);
        memcpy(v->sur, t, sizeof t);
    }
}

/* The records of one person: each dataset holds them with its own chance;
 * health records carry the NHS number, the school census the UPN, social
 * care either at times, police neither. */
static void
s_records(struct s_pop *p, const struct s_pools *P, const struct s_val *truth, uint32_t person)
{
    static const double hold[S_NDS] = {0.35, 0.75, 0.6, 0.25};
    static const double nhs[S_NDS] = {0.0, 0.95, 0.0, 0.4};
    static const double upn[S_NDS] = {0.0, 0.0, 0.9, 0.3};
    int any = 0;

    for (int ds = 0; ds < S_NDS; ds++) {
        int copies = s_unif(&p->seed) < hold[ds] ? 1 : 0;
        if (ds == S_POLICE && copies && s_unif(&p->seed) < 0.15)
            copies = 2; /* police duplicates */
        for (int c = 0; c < copies; c++) {
            struct s_val v = *truth;
            s_corrupt(&p->seed, P, &v);
            v.nhs = s_unif(&p->seed) < nhs[ds] ? truth->nhs : 0;
            v.upn = s_unif(&p->seed) < upn[ds] ? truth->upn : 0;
            s_add(p, ds, &v, person, 0);
            any = 1;
        }
    }
    if (!any) {
        struct s_val v = *truth;
        s_corrupt(&p->seed, P, &v);
        v.nhs = truth->nhs;
        v.upn = 0;
        s_add(p, S_HEALTH, &v, person, 0);
    }
}

/* A population of about npeople children in families: siblings share surname
 * and postcode; one family in twenty-five with two or more children has twins
 * (one date of birth, different first names, NHS numbers and UPNs). */
static struct s_pop *
s_pop_new(uint32_t npeople, uint64_t seed)
{
    struct s_pop *p = calloc(1, sizeof *p);
    struct s_pools *P = malloc(sizeof *P);
    char err[256];

    assert_non_null(p);
    assert_non_null(P);
    assert_int_equal(xl_spec_parse(s_spec_in_use != NULL ? s_spec_in_use : s_spec_text, "t.spec",
                                   &p->spec, err, sizeof err),
                     0);
    p->in = linker_input_new(p->spec);
    assert_non_null(p->in);
    p->ds[S_POLICE] = linker_input_dataset(p->in, "wmp", "yj", 0);
    p->ds[S_HEALTH] = linker_input_dataset(p->in, "icb", "health", 1);
    p->ds[S_EDUCATION] = linker_input_dataset(p->in, "la", "census", 0);
    p->ds[S_SOCIAL] = linker_input_dataset(p->in, "csc", "cin", 0);
    p->seed = seed;
    s_pools_fill(P, &p->seed);
    while (p->npeople < npeople) {
        double u = s_unif(&p->seed);
        int kids = u < 0.5 ? 1 : u < 0.85 ? 2 : 3, twins = kids >= 2 && s_unif(&p->seed) < 0.04;
        struct s_val first = {0};
        for (int k = 0; k < kids; k++) {
            struct s_val v = {0};
            if (k == 0) {
                memcpy(v.sur, s_pick(&p->seed, P->sur[0], sizeof P->sur[0], S_SURNAME_POOL),
                       sizeof v.sur);
                memcpy(v.pc, s_pick(&p->seed, P->pc[0], sizeof P->pc[0], S_PC_POOL), sizeof v.pc);
            } else {
                memcpy(v.sur, first.sur, sizeof v.sur);
                memcpy(v.pc, first.pc, sizeof v.pc);
            }
            do
                memcpy(v.first, s_pick(&p->seed, P->first[0], sizeof P->first[0], S_FIRST_POOL),
                       sizeof v.first);
            while (k > 0 && strcmp(v.first, first.first) == 0);
            if (k == 1 && twins)
                memcpy(v.dob, first.dob, sizeof v.dob);
            else
                s_dob(&p->seed, v.dob);
            v.sex[0] = s_unif(&p->seed) < 0.5 ? 'm' : 'f';
            v.nhs = 4000000000ull + p->npeople;
            v.upn = 700000000000ull + p->npeople;
            if (k == 0)
                first = v;
            s_records(p, P, &v, p->npeople++);
        }
    }
    free(P);
    return p;
}

static void
s_pop_free(struct s_pop **pp)
{
    struct s_pop *p = *pp;

    linker_input_free(&p->in);
    free(p->spec);
    free(p->person);
    free(p->val);
    free(p);
    *pp = NULL;
}

static void
s_run(const struct s_pop *p, struct linker_result *res)
{
    char err[256] = "";
    int rc = linker_match_run(p->in, res, err, sizeof err);

    if (rc != 0)
        fail_msg("linker_match_run: %d %s", rc, err);
}

/* The population every test but the smallest starts from. */
#define S_PEOPLE 2000
#define S_SEED   0x5eed2024ull

/* ---- checks on a result --------------------------------------------------------------- */

static int
s_u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

    return a < b ? -1 : a > b;
}

/* Pairs within groups of equal keys. */
static double
s_pairs_within(uint64_t *k, size_t n)
{
    double pairs = 0.0;

    qsort(k, n, sizeof *k, s_u64_cmp);
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        for (hi = lo + 1; hi < n && k[hi] == k[lo]; hi++)
            ;
        pairs += (double)(hi - lo) * (double)(hi - lo - 1) / 2.0;
    }
    return pairs;
}

/* Pairwise precision and recall of the clusters against the truth, over the
 * records [0, n). */
static void
s_quality(const struct s_pop *p, const struct linker_result *res, size_t n, double *precision,
          double *recall)
{
    uint64_t *k = malloc((n ? n : 1) * sizeof *k);
    double both, found, truth;

    assert_non_null(k);
    for (size_t i = 0; i < n; i++)
        k[i] = (uint64_t)res->cluster[i] << 32 | p->person[i];
    both = s_pairs_within(k, n);
    for (size_t i = 0; i < n; i++)
        k[i] = res->cluster[i];
    found = s_pairs_within(k, n);
    for (size_t i = 0; i < n; i++)
        k[i] = p->person[i];
    truth = s_pairs_within(k, n);
    free(k);
    *precision = found > 0 ? both / found : 1.0;
    *recall = truth > 0 ? both / truth : 1.0;
}

/* No cluster holds two NHS numbers, two UPNs, or two records of a
 * one-per-person dataset. */
static void
s_check_constraints(const struct s_pop *p, const struct linker_result *res)
{
    size_t n = p->in->nrec;
    uint64_t *nhs = calloc(n ? n : 1, sizeof *nhs), *upn = calloc(n ? n : 1, sizeof *upn);
    uint8_t *health = calloc(n ? n : 1, 1);

    assert_non_null(nhs);
    assert_non_null(upn);
    assert_non_null(health);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = res->cluster[i];
        assert_true(c < n);
        if (p->val[i].nhs != 0) {
            if (nhs[c] != 0 && nhs[c] != p->val[i].nhs)
                fail_msg("cluster %u holds NHS numbers %llu and %llu", c,
                         (unsigned long long)nhs[c], (unsigned long long)p->val[i].nhs);
            nhs[c] = p->val[i].nhs;
        }
        if (p->val[i].upn != 0) {
            if (upn[c] != 0 && upn[c] != p->val[i].upn)
                fail_msg("cluster %u holds two UPNs", c);
            upn[c] = p->val[i].upn;
        }
        if (p->in->rec_dataset[i] == p->ds[S_HEALTH]) {
            if (health[c])
                fail_msg("cluster %u holds two records of a one-per-person dataset", c);
            health[c] = 1;
        }
    }
    free(nhs);
    free(upn);
    free(health);
}

/* The candidate pair (a, b) in a result kept with keep_candidates, or NULL. */
static const struct linker_link *
s_candidate(const struct linker_result *res, uint32_t a, uint32_t b)
{
    if (a > b) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < res->ncandidates; i++) {
        if (res->candidates[i].a == a && res->candidates[i].b == b)
            return &res->candidates[i];
    }
    return NULL;
}

/* A person of made-up values no pool holds: names of six random letters (the
 * length of a typical name), a postcode in an area of its own (i picks it). */
static struct s_val
s_unique_person(uint64_t *seed, uint32_t i)
{
    struct s_val v = {0};

    for (int j = 0; j < 6; j++) {
        v.first[j] = (char)('a' + s_below(seed, 26));
        v.sur[j] = (char)('a' + s_below(seed, 26));
    }
    s_dob(seed, v.dob);
    v.sex[0] = s_below(seed, 2) ? 'm' : 'f';
    snprintf(v.pc, sizeof v.pc, "ZZ%u %uQQ", 1 + i % 90, i % 10);
    return v;
}

/* The clusters that mix children, for a test that fails on precision. */
static void
s_print_merged(const struct s_pop *p, const struct linker_result *res)
{
    size_t n = p->in->nrec, shown = 0;

    for (size_t i = 0; i < n && shown < 20; i++) {
        int mixed = 0;
        if (res->cluster[i] != i)
            continue;
        for (size_t j = i + 1; j < n && !mixed; j++)
            mixed = res->cluster[j] == i && p->person[j] != p->person[i];
        if (!mixed)
            continue;
        shown++;
        print_message("cluster %zu:\n", i);
        for (size_t j = i; j < n; j++) {
            const struct s_val *v = &p->val[j];
            if (res->cluster[j] == i)
                print_message("  %5zu child %-5u dataset %u %-10s %-10s %-10s %-1s %-9s\n", j,
                              p->person[j], p->in->rec_dataset[j], v->first, v->sur, v->dob, v->sex,
                              v->pc);
        }
    }
}

/* ---- tests ------------------------------------------------------------------------------ */

/* The model learns from the data what a careful person would set by hand:
 * agreement is likelier among matches, disagreement among non-matches, a
 * closer level weighs more, and the prior fits the number of true matches. */
/* A comparison's level comes from a table of the least common bits for each
 * cut (model.h, least2c): for every sum of two popcounts and every count of
 * common bits, the level the floating-point test of the Dice score against
 * the cut gives. */
static void
test_levels_match_the_cuts(void **state)
{
    struct s_pop *p = s_pop_new(2, S_SEED);
    struct linker_model *m = malloc(sizeof *m);

    (void)state;
    assert_non_null(m);
    linker_model_init(m, p->in);
    assert_true(m->cut[LINKER_LEVEL_WEAK] > 0.0 &&
                m->cut[LINKER_LEVEL_WEAK] < m->cut[LINKER_LEVEL_CLOSE] &&
                m->cut[LINKER_LEVEL_CLOSE] < m->cut[LINKER_LEVEL_SAME]);
    /* The test is monotone in c2, so the least that passes and the one below
     * it say everything. */
    for (unsigned sum = 0; sum <= 2 * XL_CLK_MAX_BITS; sum++) {
        for (int l = 0; l < 3; l++) {
            unsigned least = m->least2c[sum][l];
            double bar = m->cut[LINKER_LEVEL_WEAK + l] * (double)sum;
            assert_true((double)least >= bar);
            if (least > 0)
                assert_false((double)(least - 1) >= bar);
        }
    }
    free(m);
    s_pop_free(&p);
}

static void
test_model_learns(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result res;
    const struct linker_model *m;
    uint64_t *k = malloc(p->in->nrec * sizeof *k);
    double true_pairs, all_pairs = (double)p->in->nrec * (double)(p->in->nrec - 1) / 2.0;

    (void)state;
    assert_non_null(k);
    s_run(p, &res);
    m = res.model;
    assert_non_null(m);
    assert_int_equal(m->nsegments, 5);
    assert_int_equal(m->nfeatures, 7);
    assert_true(m->f[5].strong && m->f[6].strong);
    assert_true(m->u_pairs > 0 && m->em_pairs > 0 && m->em_iterations > 0);
    for (size_t f = 0; f < m->nfeatures; f++) {
        const struct linker_feature *x = &m->f[f];
        print_message("%-12s m %.4f %.4f %.4f %.4f  u %.4f %.4f %.4f %.4f  w %6.2f %6.2f %6.2f "
                      "%6.2f\n",
                      x->name, x->m[1], x->m[2], x->m[3], x->m[4], x->u[1], x->u[2], x->u[3],
                      x->u[4], x->w[1], x->w[2], x->w[3], x->w[4]);
        assert_true(x->m[LINKER_LEVEL_SAME] > x->u[LINKER_LEVEL_SAME]);
        assert_true(x->m[LINKER_LEVEL_DIFFERENT] < x->u[LINKER_LEVEL_DIFFERENT]);
        assert_true(x->w[LINKER_LEVEL_SAME] > 0.0);
        assert_true(x->w[LINKER_LEVEL_DIFFERENT] < 0.0);
        assert_true(x->w[LINKER_LEVEL_MISSING] == 0.0);
        for (int l = LINKER_LEVEL_WEAK; l <= LINKER_LEVEL_SAME; l++)
            assert_true(x->w[l] >= x->w[l - 1]);
        /* Levels are a distribution in each class. */
        if (!x->strong) {
            double sm = 0.0, su = 0.0;
            for (int l = 1; l < LINKER_LEVELS; l++) {
                sm += x->m[l];
                su += x->u[l];
            }
            assert_true(sm > 0.99 && sm < 1.01);
            assert_true(su > 0.99 && su < 1.01);
        }
    }
    /* A name agreeing is strong evidence, a sex agreeing weak. */
    assert_true(m->f[1].w[LINKER_LEVEL_SAME] > m->f[3].w[LINKER_LEVEL_SAME] + 3.0);
    /* The prior: within a factor of three of the true share of matching pairs. */
    for (size_t i = 0; i < p->in->nrec; i++)
        k[i] = p->person[i];
    true_pairs = s_pairs_within(k, p->in->nrec);
    print_message("lambda %.3g, true %.3g; %zu records, %.0f true pairs\n", m->lambda,
                  true_pairs / all_pairs, p->in->nrec, true_pairs);
    assert_true(m->lambda > true_pairs / all_pairs / 3.0);
    assert_true(m->lambda < true_pairs / all_pairs * 3.0);
    assert_true(res.expected_precision > 0.0 && res.expected_precision <= 1.0);
    assert_true(res.expected_recall > 0.0 && res.expected_recall <= 1.0);
    free(k);
    linker_result_free(&res);
    s_pop_free(&p);
}

/* On the population the clusters agree with the truth pair by pair. */
static void
test_population_quality(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result res;
    double precision, recall;
    uint64_t hist = 0;

    (void)state;
    s_run(p, &res);
    s_quality(p, &res, p->in->nrec, &precision, &recall);
    print_message("%zu records of %u people: precision %.4f recall %.4f; %zu clusters, %llu "
                  "candidates, %llu accepted, %zu links, %llu refused, %zu conflicts; expected "
                  "precision %.4f recall %.4f\n",
                  p->in->nrec, p->npeople, precision, recall, res.nclusters,
                  (unsigned long long)res.comparisons, (unsigned long long)res.accepted, res.nlinks,
                  (unsigned long long)res.joins_refused, res.nconflicts, res.expected_precision,
                  res.expected_recall);
    if (precision < 0.99)
        s_print_merged(p, &res);
    assert_true(precision >= 0.99);
    assert_true(recall >= 0.95);
    s_check_constraints(p, &res);
    /* Every record in a cluster named by its smallest record; links a spanning
     * forest of the clusters. */
    for (size_t i = 0; i < p->in->nrec; i++) {
        assert_true(res.cluster[i] <= i);
        assert_int_equal(res.cluster[res.cluster[i]], res.cluster[i]);
    }
    assert_int_equal(res.nlinks, p->in->nrec - res.nclusters);
    for (size_t i = 0; i < res.nlinks; i++) {
        assert_true(res.links[i].a < res.links[i].b);
        assert_int_equal(res.cluster[res.links[i].a], res.cluster[res.links[i].b]);
        assert_true(res.links[i].score >= 0.84f);
    }
    for (size_t i = 0; i < res.npossible; i++) {
        assert_true(res.possible[i].score >= 0.80f - 1e-6f && res.possible[i].score <= 0.84f);
        assert_int_not_equal(res.cluster[res.possible[i].a], res.cluster[res.possible[i].b]);
    }
    for (size_t i = 0; i < LINKER_WEIGHT_BINS; i++)
        hist += res.weight_hist[i];
    assert_int_equal(hist, res.comparisons);
    assert_true(res.max_per_record <= 64);
    linker_result_free(&res);
    s_pop_free(&p);
}

/* Twins: two records alike in every field but the NHS number never share a
 * cluster, even when a third record without one links to both. */
static void
test_strong_ids_never_merge(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result res;
    uint64_t seed = 7;
    uint32_t a[20], b[20], c[20];
    int conflicts = 0;

    (void)state;
    for (uint32_t i = 0; i < 20; i++) {
        struct s_val v = s_unique_person(&seed, i);
        uint32_t twin = p->npeople++, other = p->npeople++;
        v.nhs = 9100000000ull + 2 * i;
        a[i] = s_add(p, S_SOCIAL, &v, twin, 0);
        v.nhs = 9100000001ull + 2 * i;
        b[i] = s_add(p, S_SOCIAL, &v, other, 0);
        v.nhs = 0;
        c[i] = s_add(p, S_POLICE, &v, twin, 0);
    }
    s_run(p, &res);
    for (uint32_t i = 0; i < 20; i++) {
        assert_int_not_equal(res.cluster[a[i]], res.cluster[b[i]]);
        assert_true(res.cluster[c[i]] == res.cluster[a[i]] ||
                    res.cluster[c[i]] == res.cluster[b[i]]);
    }
    for (size_t i = 0; i < res.nconflicts && i < (1u << 20); i++) {
        const struct linker_conflict *x = &res.conflicts[i];
        for (uint32_t j = 0; j < 20; j++) {
            if ((x->a == a[j] || x->a == b[j] || x->a == c[j]) &&
                (x->b == a[j] || x->b == b[j] || x->b == c[j])) {
                assert_int_equal(x->kind, LINKER_CONFLICT_STRONG_ID);
                conflicts++;
            }
        }
    }
    /* Each third record's second link meets the other NHS number. */
    assert_true(conflicts >= 20);
    s_check_constraints(p, &res);
    linker_result_free(&res);
    s_pop_free(&p);
}

/* A dataset that declares one record per person has at most one record in a
 * cluster: of two health records of one child, the one whose NHS number a
 * social care record shares joins it, the other is refused. Another
 * dataset's duplicates still join. */
static void
test_one_per_person(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result res;
    uint64_t seed = 11;
    uint32_t h1[20], h2[20], s1[20], e[20][3];
    int conflicts = 0;

    (void)state;
    for (uint32_t i = 0; i < 20; i++) {
        struct s_val v = s_unique_person(&seed, 100 + i);
        uint32_t person = p->npeople++;
        v.nhs = 9200000000ull + i;
        s1[i] = s_add(p, S_SOCIAL, &v, person, 0);
        h1[i] = s_add(p, S_HEALTH, &v, person, 0);
        v.nhs = 0;
        h2[i] = s_add(p, S_HEALTH, &v, person, 0);
        /* Another child: two census records and one health record. */
        v = s_unique_person(&seed, 120 + i);
        person = p->npeople++;
        e[i][0] = s_add(p, S_EDUCATION, &v, person, 0);
        e[i][1] = s_add(p, S_EDUCATION, &v, person, 0);
        e[i][2] = s_add(p, S_HEALTH, &v, person, 0);
    }
    s_run(p, &res);
    for (uint32_t i = 0; i < 20; i++) {
        assert_int_equal(res.cluster[s1[i]], res.cluster[h1[i]]);
        assert_int_not_equal(res.cluster[h1[i]], res.cluster[h2[i]]);
        assert_int_equal(res.cluster[e[i][0]], res.cluster[e[i][1]]);
        assert_int_equal(res.cluster[e[i][0]], res.cluster[e[i][2]]);
    }
    for (size_t i = 0; i < res.nconflicts && i < (1u << 20); i++) {
        const struct linker_conflict *x = &res.conflicts[i];
        for (uint32_t j = 0; j < 20; j++) {
            if (x->a == h2[j] || x->b == h2[j]) {
                assert_int_equal(x->kind, LINKER_CONFLICT_ONE_PER_PERSON);
                conflicts++;
            }
        }
    }
    assert_true(conflicts >= 20);
    s_check_constraints(p, &res);
    linker_result_free(&res);
    s_pop_free(&p);
}

/* Records that share no blocking key and no token but whose fields are alike
 * meet through the LSH bands (every pair compared, on a small input), and
 * link. */
static void
s_unkeyed_pairs_meet(uint64_t exhaustive_pairs)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result res;
    uint64_t seed = 13;
    uint32_t a[20], b[20];

    p->in->keep_candidates = 1;
    p->in->exhaustive_pairs = exhaustive_pairs;
    for (uint32_t i = 0; i < 20; i++) {
        struct s_val v = s_unique_person(&seed, 200 + i);
        uint32_t person = p->npeople++;
        a[i] = s_add(p, S_POLICE, &v, person, S_NO_TOKENS | S_NO_BLOCKS);
        b[i] = s_add(p, S_EDUCATION, &v, person, S_NO_TOKENS | S_NO_BLOCKS);
    }
    s_run(p, &res);
    if (exhaustive_pairs == 1) {
        assert_false(res.exhaustive);
        assert_true(res.lsh_bands > 0);
    } else {
        assert_true(res.exhaustive);
        assert_false(res.every_pair); /* over 2,000 records: the bound applies */
        assert_int_equal(res.lsh_bands, 0);
    }
    assert_true(res.max_per_record <= 64);
    assert_true(res.ncandidates == res.comparisons);
    for (uint32_t i = 0; i < 20; i++) {
        const struct linker_link *l = s_candidate(&res, a[i], b[i]);
        if (l == NULL)
            fail_msg("pair %u (%u, %u) is no candidate", i, a[i], b[i]);
        assert_true(l->score >= 0.84f);
        assert_int_equal(res.cluster[a[i]], res.cluster[b[i]]);
    }
    linker_result_free(&res);
    s_pop_free(&p);
}

static void
test_lsh_finds_unkeyed_pairs(void **state)
{
    (void)state;
    s_unkeyed_pairs_meet(1); /* no input is small enough: the bands */
}

static void
test_small_input_compares_every_pair(void **state)
{
    (void)state;
    s_unkeyed_pairs_meet(0); /* the default: 4,000 records are */
}

/* A smaller input still (a few hundred records) has every pair scored, with no
 * bound: each record's candidates are all the others. */
static void
test_smallest_input_scores_every_pair(void **state)
{
    struct s_pop *p = s_pop_new(150, S_SEED);
    struct linker_result res;
    uint64_t n;

    (void)state;
    p->in->keep_candidates = 1;
    s_run(p, &res);
    n = p->in->nrec;
    assert_true(n > 200);
    assert_true(res.exhaustive);
    assert_true(res.every_pair);
    assert_int_equal(res.lsh_bands, 0);
    assert_int_equal(res.bounded, 0);
    assert_int_equal(res.comparisons, n * (n - 1) / 2);
    assert_int_equal(res.ncandidates, n * (n - 1) / 2);
    assert_int_equal(res.max_per_record, n - 1);
    s_check_constraints(p, &res);
    linker_result_free(&res);
    s_pop_free(&p);
}

/* A names-swapped record meets the record written the right way round through
 * the variant's token, which equals the other's name-and-birth token, with no
 * blocking key shared and sex and postcode missing, so that little else
 * brings them together. */
static void
test_variant_token_meets_compare_level(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result res;
    uint64_t seed = 17;
    uint32_t a[30], b[30];

    (void)state;
    p->in->keep_candidates = 1;
    for (uint32_t i = 0; i < 30; i++) {
        struct s_val v = s_unique_person(&seed, 300 + i), w = v;
        uint32_t person = p->npeople++;
        a[i] = s_add(p, S_POLICE, &v, person, S_NO_BLOCKS);
        memcpy(w.first, v.sur, sizeof w.first);
        memcpy(w.sur, v.first, sizeof w.sur);
        w.sex[0] = '\0';
        w.pc[0] = '\0';
        b[i] = s_add(p, S_EDUCATION, &w, person, S_NO_BLOCKS);
    }
    s_run(p, &res);
    for (uint32_t i = 0; i < 30; i++) {
        if (s_candidate(&res, a[i], b[i]) == NULL)
            fail_msg("swapped pair %u (%u, %u) is no candidate", i, a[i], b[i]);
        assert_int_equal(res.cluster[a[i]], res.cluster[b[i]]);
    }
    linker_result_free(&res);
    s_pop_free(&p);
}

/* The per-record bound.
 *
 * 300 records alike in surname, postcode, sex and year of birth (30 children,
 * ten records each) fill one bucket of the blocking keys and bands they share;
 * the children's dates of birth differ in two characters at least (a date a
 * digit out reads as the same date). And five children have three records
 * each without match-key tokens, so only their likeness keeps them together,
 * each among 135 records that share one blocking key with them (name, date or
 * postcode alike, in buckets small enough to pair every record): more
 * partners than the bound.
 *
 * No record keeps more than 64 candidates; every child's records end in one
 * cluster, and no other record with them. */
static void
test_bound_keeps_the_most_alike(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result res;
    uint64_t seed = 19;
    uint32_t r[30][10], t[5][3], first = (uint32_t)p->in->nrec;
    struct s_val base = s_unique_person(&seed, 400), v;

    (void)state;
    p->in->keep_candidates = 1;
    p->in->exhaustive_pairs = 1; /* the bands, as at scale */
    for (uint32_t i = 0; i < 30; i++) {
        uint32_t person = p->npeople++, month = 1 + i % 12, tens = i / 12;
        v = base;
        for (int j = 0; j < 6; j++)
            v.first[j] = (char)('a' + s_below(&seed, 26));
        /* The day's last digit a check digit over month and tens of days. */
        snprintf(v.dob, sizeof v.dob, "2009-%02u-%u%u", month, tens,
                 1 + (month % 10 + 3 * (month / 10) + tens) % 9);
        for (int j = 0; j < 10; j++)
            r[i][j] = s_add(p,
                            j % 3 == 0   ? S_POLICE
                            : j % 3 == 1 ? S_EDUCATION
                                         : S_SOCIAL,
                            &v, person, 0);
    }
    for (uint32_t k = 0; k < 5; k++) {
        struct s_val x = s_unique_person(&seed, 410 + k);
        uint32_t person = p->npeople++;
        for (int j = 0; j < 3; j++)
            t[k][j] = s_add(p, j == 0 ? S_POLICE : S_EDUCATION, &x, person, S_NO_TOKENS);
        /* 27 records sharing each blocking key with them, one key each. */
        for (int g = 0; g < 5; g++) {
            for (int d = 0; d < 27; d++) {
                struct s_val y =
                    s_unique_person(&seed, 1000 + 200 * k + 40 * (uint32_t)g + (uint32_t)d);
                memcpy(y.dob, x.dob, 4); /* the year */
                snprintf(y.pc, sizeof y.pc, "QX%u %uJJ", 1 + d, g);
                if (g == 0) { /* surname_phonetic yob */
                    memcpy(y.sur, x.sur, sizeof y.sur);
                } else if (g == 1) { /* first_phonetic yob */
                    memcpy(y.first, x.first, sizeof y.first);
                } else if (g == 2) { /* first_initial dob */
                    y.first[0] = x.first[0];
                    memcpy(y.dob, x.dob, sizeof y.dob);
                } else if (g == 3) { /* sector yob */
                    snprintf(y.pc, sizeof y.pc, "%.*s%c%c", (int)strlen(x.pc) - 2, x.pc,
                             'A' + d % 26, 'A' + d / 26);
                } else { /* surname_phonetic first_phonetic, another year */
                    memcpy(y.first, x.first, sizeof y.first);
                    memcpy(y.sur, x.sur, sizeof y.sur);
                    y.dob[3] = x.dob[3] == '9' ? '0' : '9';
                }
                if (strcmp(y.dob, x.dob) == 0 && g != 2)
                    y.dob[9] = y.dob[9] == '1' ? '2' : '1';
                s_add(p, S_SOCIAL, &y, p->npeople++, 0);
            }
        }
    }
    s_run(p, &res);
    print_message("windowed %llu, bounded %llu, max per record %u, mean %.1f\n",
                  (unsigned long long)res.windowed, (unsigned long long)res.bounded,
                  res.max_per_record, res.mean_per_record);
    assert_true(res.max_per_record <= 64);
    assert_true(res.windowed >= 1);
    for (uint32_t i = 0; i < 30; i++) {
        for (int j = 1; j < 10; j++)
            assert_int_equal(res.cluster[r[i][j]], res.cluster[r[i][0]]);
        for (uint32_t k = 0; k < i; k++)
            assert_int_not_equal(res.cluster[r[k][0]], res.cluster[r[i][0]]);
    }
    for (uint32_t k = 0; k < 5; k++) {
        size_t sharing = 0, kept = 0;
        for (uint32_t x = first; x < p->in->nrec; x++) {
            int shares = 0;
            for (size_t b = 0; b < p->spec->nblocks && x != t[k][0]; b++) {
                uint64_t hx, ht;
                shares |= s_block_key(p->spec, &p->val[x], b, &hx) &&
                          s_block_key(p->spec, &p->val[t[k][0]], b, &ht) && hx == ht;
            }
            sharing += (size_t)shares;
            if (res.cluster[x] == res.cluster[t[k][0]])
                assert_int_equal(p->person[x], p->person[t[k][0]]);
        }
        for (size_t c = 0; c < res.ncandidates; c++)
            kept += res.candidates[c].a == t[k][0] || res.candidates[c].b == t[k][0];
        assert_true(sharing > 64 + 2);
        assert_true(kept <= 64);
        assert_int_equal(res.cluster[t[k][1]], res.cluster[t[k][0]]);
        assert_int_equal(res.cluster[t[k][2]], res.cluster[t[k][0]]);
    }
    s_check_constraints(p, &res);
    linker_result_free(&res);
    s_pop_free(&p);
}

/* 300 records of one child, near-identical: each keeps at most 64 of the
 * others, and all end in one cluster. */
static void
test_many_records_of_one_child(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result res;
    uint64_t seed = 31;
    struct s_val v = s_unique_person(&seed, 700);
    uint32_t r[300], person = p->npeople++;

    (void)state;
    for (int j = 0; j < 300; j++)
        r[j] = s_add(p, j % 3 == 0 ? S_POLICE : j % 3 == 1 ? S_EDUCATION : S_SOCIAL, &v, person, 0);
    s_run(p, &res);
    assert_true(res.max_per_record <= 64);
    for (int j = 1; j < 300; j++)
        assert_int_equal(res.cluster[r[j]], res.cluster[r[0]]);
    for (size_t i = 0; i < p->in->nrec; i++) {
        if (res.cluster[i] == res.cluster[r[0]])
            assert_int_equal(p->person[i], person);
    }
    linker_result_free(&res);
    s_pop_free(&p);
}

/* Two children, four records each, tightly linked within; one record of each
 * with missing values whose remaining fields agree, a link accepted on its
 * own. The groups stay apart: one link does not carry two groups. */
static void
test_one_link_does_not_chain(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result res;
    uint64_t seed = 23;
    struct s_val va = s_unique_person(&seed, 500), vb = s_unique_person(&seed, 501);
    uint32_t a[4], b[4], pa = p->npeople++, pb = p->npeople++;
    const struct linker_link *bridge;

    (void)state;
    p->in->keep_candidates = 1;
    /* Siblings: one surname and postcode, one sex; the other fields apart. */
    memcpy(vb.sur, va.sur, sizeof vb.sur);
    memcpy(vb.pc, va.pc, sizeof vb.pc);
    memcpy(vb.sex, va.sex, sizeof vb.sex);
    memcpy(va.dob, "2006-11-23", 11);
    memcpy(vb.dob, "2013-04-07", 11);
    for (int i = 0; i < 4; i++) {
        struct s_val x = va, y = vb;
        if (i == 0) {
            x.dob[0] = '\0';   /* A's first record: no date of birth */
            y.first[0] = '\0'; /* B's first record: no first name */
        }
        a[i] = s_add(p, i == 0 ? S_POLICE : S_EDUCATION, &x, pa, 0);
        b[i] = s_add(p, i == 0 ? S_POLICE : S_EDUCATION, &y, pb, 0);
    }
    s_run(p, &res);
    bridge = s_candidate(&res, a[0], b[0]);
    assert_non_null(bridge);
    print_message("bridge %.4f, refused %llu\n", bridge->score,
                  (unsigned long long)res.joins_refused);
    assert_true(bridge->score >= 0.84f); /* a link on its own */
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            const struct linker_link *l = s_candidate(&res, a[i], b[j]);
            if (i + j > 0 && l != NULL && l->score >= 0.84f)
                fail_msg("A%d-B%d also linked (%.4f): the construction is wrong", i, j, l->score);
        }
        assert_int_equal(res.cluster[a[i]], res.cluster[a[0]]);
        assert_int_equal(res.cluster[b[i]], res.cluster[b[0]]);
    }
    assert_int_not_equal(res.cluster[a[0]], res.cluster[b[0]]);
    assert_true(res.joins_refused >= 1);
    linker_result_free(&res);
    s_pop_free(&p);
}

static void
s_same_links(const struct linker_link *x, const struct linker_link *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(x[i].a, y[i].a);
        assert_int_equal(x[i].b, y[i].b);
        assert_int_equal(x[i].level, y[i].level);
        assert_true(x[i].score == y[i].score);
    }
}

static void
s_same_result(const struct linker_result *x, const struct linker_result *y, size_t nrec)
{
    const struct linker_model *mx = x->model, *my = y->model;

    assert_int_equal(x->nclusters, y->nclusters);
    assert_memory_equal(x->cluster, y->cluster, nrec * sizeof *x->cluster);
    assert_int_equal(x->nlinks, y->nlinks);
    s_same_links(x->links, y->links, x->nlinks);
    assert_int_equal(x->npossible, y->npossible);
    s_same_links(x->possible, y->possible, x->npossible);
    assert_int_equal(x->nconflicts, y->nconflicts);
    for (size_t i = 0; i < x->nconflicts && i < (1u << 20); i++) {
        assert_int_equal(x->conflicts[i].a, y->conflicts[i].a);
        assert_int_equal(x->conflicts[i].b, y->conflicts[i].b);
        assert_int_equal(x->conflicts[i].kind, y->conflicts[i].kind);
        assert_int_equal(x->conflicts[i].level, y->conflicts[i].level);
        assert_true(x->conflicts[i].score == y->conflicts[i].score);
    }
    assert_memory_equal(x->links_by_level, y->links_by_level, sizeof x->links_by_level);
    assert_memory_equal(x->weight_hist, y->weight_hist, sizeof x->weight_hist);
    assert_int_equal(x->comparisons, y->comparisons);
    assert_int_equal(x->joins_refused, y->joins_refused);
    assert_int_equal(x->accepted, y->accepted);
    assert_int_equal(x->keys, y->keys);
    assert_int_equal(x->raw_pairs, y->raw_pairs);
    assert_int_equal(x->windowed, y->windowed);
    assert_int_equal(x->bounded, y->bounded);
    assert_int_equal(x->max_per_record, y->max_per_record);
    assert_true(x->expected_precision == y->expected_precision);
    assert_true(x->expected_recall == y->expected_recall);
    assert_int_equal(mx->nfeatures, my->nfeatures);
    assert_true(mx->lambda == my->lambda && mx->prior == my->prior);
    assert_int_equal(mx->em_iterations, my->em_iterations);
    for (size_t f = 0; f < mx->nfeatures; f++) {
        assert_memory_equal(mx->f[f].m, my->f[f].m, sizeof mx->f[f].m);
        assert_memory_equal(mx->f[f].u, my->f[f].u, sizeof mx->f[f].u);
        assert_memory_equal(mx->f[f].w, my->f[f].w, sizeof mx->f[f].w);
    }
}

/* The same input gives the same clusters, links and counts: run twice on one
 * input, and once on an input built again from the same records. */
static void
test_deterministic(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED), *q = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result r1, r2, r3;

    (void)state;
    s_run(p, &r1);
    s_run(p, &r2);
    s_run(q, &r3);
    assert_int_equal(p->in->nrec, q->in->nrec);
    s_same_result(&r1, &r2, p->in->nrec);
    s_same_result(&r1, &r3, p->in->nrec);
    linker_result_free(&r1);
    linker_result_free(&r2);
    linker_result_free(&r3);
    s_pop_free(&p);
    s_pop_free(&q);
}

/* The number of threads changes nothing: the bands (as at scale), the sorts,
 * the comparisons and the bound shared among 1, 2, 3 and 7 threads give the
 * same clusters, links and counts. */
static void
test_same_result_any_threads(void **state)
{
    static const unsigned threads[] = {2, 3, 7};
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result one, many;

    (void)state;
    p->in->exhaustive_pairs = 1;
    p->in->threads = 1;
    s_run(p, &one);
    assert_true(one.lsh_bands > 0);
    assert_true(one.bounded > 0); /* the bound's thresholds were shared too */
    for (size_t i = 0; i < sizeof threads / sizeof *threads; i++) {
        p->in->threads = threads[i];
        s_run(p, &many);
        s_same_result(&one, &many, p->in->nrec);
        linker_result_free(&many);
    }
    linker_result_free(&one);
    s_pop_free(&p);
}

/* Every candidate's comparison vector, as the candidates keep it (4 bytes a
 * pair, and 4 more where the model's vectors need them), is the one comparing
 * its two records gives: after the bound has dropped pairs and the kept ones
 * moved together, on two threads. */
static void
s_codes_check(const char *spec_text, int wide)
{
    struct s_pop *p;
    struct linker_model *m = malloc(sizeof *m);
    struct linker_candidates cand;
    struct linker_tokens *tok;
    uint16_t *segpop;

    s_spec_in_use = spec_text;
    p = s_pop_new(S_PEOPLE, S_SEED);
    s_spec_in_use = NULL;
    assert_non_null(m);
    p->in->exhaustive_pairs = 1;
    p->in->threads = 2;
    linker_model_init(m, p->in);
    assert_int_equal(linker_gamma_wide(m), wide);
    segpop = linker_segment_pops(m, p->in);
    tok = linker_tokens_new(p->in, m);
    assert_non_null(segpop);
    assert_non_null(tok);
    assert_int_equal(linker_candidates_find(p->in, m, segpop, tok, 8, &cand), 0);
    assert_true(cand.n > 0 && cand.bounded > 0);
    assert_true(wide ? cand.code_hi != NULL : cand.code_hi == NULL);
    for (size_t i = 0; i < cand.n; i++) {
        uint8_t gamma[LINKER_MAX_FEATURES];
        linker_compare(m, p->in, segpop, tok, (uint32_t)(cand.pair[i] >> 32),
                       (uint32_t)cand.pair[i], gamma);
        if (linker_candidate_code(&cand, i) != linker_gamma_code(m, gamma))
            fail_msg("pair %zu: code %llx, compared %llx", i,
                     (unsigned long long)linker_candidate_code(&cand, i),
                     (unsigned long long)linker_gamma_code(m, gamma));
    }
    linker_candidates_free(&cand);
    linker_tokens_free(&tok);
    free(segpop);
    free(m);
    s_pop_free(&p);
}

static void
test_codes_as_compared(void **state)
{
    (void)state;
    s_codes_check(s_spec_text, 0);
    s_codes_check(s_wide_spec_text, 1);
}

/* More records than two tiles of pairs (candidates.c, S_TILE_BITS), on
 * three threads: each tile's distinct pairs fill its run in the first
 * thread's part and go on into the others', and are packed from there into
 * one array in tile order; one thread has them all in one part. */
static void
test_same_result_many_tiles(void **state)
{
    struct s_pop *p = s_pop_new(5 * S_PEOPLE, S_SEED);
    struct linker_result one, many;

    (void)state;
    assert_true(p->in->nrec > 2 * 8192);
    p->in->exhaustive_pairs = 1;
    p->in->keep_candidates = 1;
    p->in->threads = 1;
    s_run(p, &one);
    p->in->threads = 3;
    s_run(p, &many);
    s_same_result(&one, &many, p->in->nrec);
    assert_int_equal(one.ncandidates, many.ncandidates);
    for (size_t i = 0; i < one.ncandidates; i++) {
        assert_int_equal(one.candidates[i].a, many.candidates[i].a);
        assert_int_equal(one.candidates[i].b, many.candidates[i].b);
    }
    linker_result_free(&one);
    linker_result_free(&many);
    s_pop_free(&p);
}

/* What the pairs found through match-key tokens share gives the same result
 * carried in the pairs' keys (as up to 2^27 records) and read from the token
 * lists (as above): the bands on, as at scale. */
static void
test_shared_segments_either_way(void **state)
{
    struct s_pop *p = s_pop_new(S_PEOPLE, S_SEED);
    struct linker_result keys, lists;

    (void)state;
    p->in->exhaustive_pairs = 1;
    s_run(p, &keys);
    p->in->shared_from_lists = 1;
    s_run(p, &lists);
    assert_true(keys.nlinks > 0);
    s_same_result(&keys, &lists, p->in->nrec);
    linker_result_free(&keys);
    linker_result_free(&lists);
    s_pop_free(&p);
}

/* No records, and one record: nothing to link, no error. */
static void
test_empty_and_single(void **state)
{
    struct s_pop *p = s_pop_new(0, S_SEED);
    struct linker_result res;
    uint64_t seed = 29;
    struct s_val v = s_unique_person(&seed, 600);

    (void)state;
    p->in->keep_candidates = 1;
    s_run(p, &res);
    assert_int_equal(res.nclusters, 0);
    assert_int_equal(res.nlinks, 0);
    assert_int_equal(res.comparisons, 0);
    assert_int_equal(res.ncandidates, 0);
    linker_result_free(&res);

    s_add(p, S_HEALTH, &v, p->npeople++, 0);
    s_run(p, &res);
    assert_int_equal(res.nclusters, 1);
    assert_int_equal(res.cluster[0], 0);
    assert_int_equal(res.nlinks, 0);
    assert_int_equal(res.nconflicts, 0);
    linker_result_free(&res);

    /* Two records: too few to estimate a model from, and still no error. */
    s_add(p, S_EDUCATION, &v, 0, 0);
    s_run(p, &res);
    assert_true(res.cluster[0] == 0 && res.cluster[1] <= 1);
    assert_int_equal(res.nclusters, 2 - res.nlinks);
    linker_result_free(&res);
    s_pop_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pext),
        cmocka_unit_test(test_kernels_equal_reference),
        cmocka_unit_test(test_levels_match_the_cuts),
        cmocka_unit_test(test_model_learns),
        cmocka_unit_test(test_population_quality),
        cmocka_unit_test(test_strong_ids_never_merge),
        cmocka_unit_test(test_one_per_person),
        cmocka_unit_test(test_lsh_finds_unkeyed_pairs),
        cmocka_unit_test(test_small_input_compares_every_pair),
        cmocka_unit_test(test_smallest_input_scores_every_pair),
        cmocka_unit_test(test_variant_token_meets_compare_level),
        cmocka_unit_test(test_bound_keeps_the_most_alike),
        cmocka_unit_test(test_many_records_of_one_child),
        cmocka_unit_test(test_one_link_does_not_chain),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_same_result_any_threads),
        cmocka_unit_test(test_same_result_many_tiles),
        cmocka_unit_test(test_codes_as_compared),
        cmocka_unit_test(test_shared_segments_either_way),
        cmocka_unit_test(test_empty_and_single),
    };

    return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
