#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "model.h"
#include "parallel.h"
#include "xl/splitmix.h"
#include "xl/err.h"
#include "xl/order.h"

/* Random pairs drawn to estimate u, and candidate pairs EM runs over at most. */
#define S_U_PAIRS       1000000u
#define S_EM_ITERATIONS 40
/* m and u are kept away from 0 so a level never seen weighs a finite amount. */
#define S_FLOOR 1e-7
/* No field's level is rarer than this among matches: errors of every kind turn
 * up in real extracts at some rate, and a run that saw none cannot show it is
 * zero; so one field's disagreement never vetoes a pair on its own. */
#define S_M_FLOOR 1e-3

static const char *s_level_names[LINKER_LEVELS] = {"missing", "different", "weak", "close", "same"};

const char *
linker_level_name(int level)
{
    return level >= 0 && level < LINKER_LEVELS ? s_level_names[level] : "?";
}

double
linker_prob_to_weight(double p)
{
    if (p <= 0.0)
        return -1e9;
    if (p >= 1.0)
        return 1e9;
    return log2(p / (1.0 - p));
}

double
linker_weight_to_prob(double w)
{
    return 1.0 / (1.0 + exp2(-w));
}

static uint32_t s_level_segs(const struct linker_model *m, const struct xl_spec_level *l);

void
linker_model_init(struct linker_model *m, const struct linker_input *in)
{
    const struct xl_spec *spec = in->spec;
    /* Noise lowers the Dice score of two equal values by about three times the
     * flip rate; the level cuts move down with it. */
    double scale = 1.0 - 3.0 * spec->clk_flip;

    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < spec->nclk_fields; i++) {
        struct linker_feature *f;
        unsigned first, nbits;
        int salt = spec->clk_fields[i].salt >= 0 ? spec->clk_fields[i].salt : spec->clk_salt;
        /* A salted field is alike only when its salt is too: the salt is one
         * of the segment's fields for what a token says. */
        uint32_t fields = (1u << spec->clk_fields[i].field) | (salt >= 0 ? 1u << salt : 0u);
        if (spec->clk_fields[i].shared) {
            /* A field mixed into the segment before: the same feature. */
            f = &m->f[m->nfeatures - 1];
            f->fields |= fields;
            snprintf(f->name + strlen(f->name), sizeof f->name - strlen(f->name), "+%s",
                     xl_field_name(spec->clk_fields[i].field));
            continue;
        }
        if (m->nfeatures == LINKER_MAX_SEGMENTS)
            break;
        f = &m->f[m->nfeatures];
        xl_spec_clk_segment(spec, i, &first, &nbits);
        snprintf(f->name, sizeof f->name, "%s", xl_field_name(spec->clk_fields[i].field));
        f->fields = fields;
        f->first = first / 64;
        f->end = (first + nbits) / 64;
        /* A missing value leaves only the noise: about flip * bits set. A
         * popcount below twice that and 3 is empty: the least that is not,
         * as a whole number. */
        m->missing_min[m->nfeatures] = (uint16_t)ceil(2.0 * spec->clk_flip * nbits + 3.0);
        m->nfeatures++;
    }
    m->nsegments = m->nfeatures;
    /* A segment salted with a field (a name with the date of birth) says
     * something only when the two records agree on that field: its feature is
     * found when the field has a segment of its own. */
    for (size_t f = 0; f < m->nsegments; f++) {
        int salt = -1;
        m->f[f].salt_feature = -1;
        for (size_t i = 0; i < spec->nclk_fields; i++) {
            const struct xl_spec_clk_field *cf = &spec->clk_fields[i];
            int sf = cf->salt >= 0 ? cf->salt : spec->clk_salt;
            if (sf >= 0 && (m->f[f].fields & (1u << cf->field)) && (int)cf->field != sf)
                salt = sf;
        }
        for (size_t g = 0; g < m->nsegments && salt >= 0; g++) {
            if (g != f && m->f[g].fields == 1u << salt)
                m->f[f].salt_feature = (int)g;
        }
    }
    for (size_t i = 0; i < spec->nlevels && m->nfeatures < LINKER_MAX_FEATURES; i++) {
        struct linker_feature *f;
        if (!spec->levels[i].strong || m->nfeatures - m->nsegments == LINKER_MAX_STRONG)
            continue;
        f = &m->f[m->nfeatures++];
        snprintf(f->name, sizeof f->name, "%s", spec->levels[i].name);
        f->strong = 1;
        f->level_number = spec->levels[i].number;
    }
    for (size_t i = 0; i < spec->nlevels; i++)
        m->level_segs[spec->levels[i].number] = s_level_segs(m, &spec->levels[i]);
    for (size_t i = 0; i < spec->nlevels; i++)
        m->level_class[spec->levels[i].number] = spec->levels[i].compare;
    m->cut[LINKER_LEVEL_SAME] = 0.9 * scale;
    m->cut[LINKER_LEVEL_CLOSE] = 0.7 * scale;
    m->cut[LINKER_LEVEL_WEAK] = 0.5 * scale;
    for (size_t f = 0; f < m->nsegments; f++) {
        m->seg_first[f] = (uint8_t)m->f[f].first;
        m->seg_end[f] = (uint8_t)m->f[f].end;
        if (m->f[f].salt_feature >= 0) {
            m->salted[m->nsalted][0] = (uint8_t)f;
            m->salted[m->nsalted++][1] = (uint8_t)m->f[f].salt_feature;
        }
    }
    for (unsigned sum = 0; sum <= 2 * XL_CLK_MAX_BITS; sum++) {
        for (int l = 0; l < 3; l++) {
            double bar = m->cut[LINKER_LEVEL_WEAK + l] * (double)sum;
            unsigned x = (unsigned)ceil(bar);
            while (x > 0 && (double)(x - 1) >= bar)
                x--;
            while ((double)x < bar)
                x++;
            m->least2c[sum][l] = (uint16_t)(x < UINT16_MAX ? x : UINT16_MAX);
        }
    }
    m->accept_weight = linker_prob_to_weight(spec->accept);
    m->possible_weight = linker_prob_to_weight(spec->possible);
}

/* ---- popcounts ------------------------------------------------------------------ */

/* Per segment, the popcount of a AND b into c and of b alone into pb: b's
 * popcounts come with its words, where a table of them would be one more
 * read from memory for every pair. One body, built twice: with the
 * processor's popcount instruction where it has one, portable elsewhere. */
typedef void (*s_seg_fn)(const uint64_t *a, const uint64_t *b, const struct linker_model *m,
                         uint32_t *c, uint32_t *pb);

static inline __attribute__((always_inline)) void
s_seg_body(const uint64_t *a, const uint64_t *b, const struct linker_model *m, uint32_t *c,
           uint32_t *pb)
{
    for (size_t s = 0; s < m->nsegments; s++) {
        uint32_t n = 0, p = 0;
        for (unsigned w = m->seg_first[s]; w < m->seg_end[s]; w++) {
            n += (uint32_t)__builtin_popcountll(a[w] & b[w]);
            p += (uint32_t)__builtin_popcountll(b[w]);
        }
        c[s] = n;
        pb[s] = p;
    }
}

static void
s_seg_portable(const uint64_t *a, const uint64_t *b, const struct linker_model *m, uint32_t *c,
               uint32_t *pb)
{
    s_seg_body(a, b, m, c, pb);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) static void
s_seg_popcnt(const uint64_t *a, const uint64_t *b, const struct linker_model *m, uint32_t *c,
             uint32_t *pb)
{
    s_seg_body(a, b, m, c, pb);
}
#endif

static s_seg_fn
s_seg(void)
{
    static s_seg_fn fn;

    if (fn == NULL) {
        fn = s_seg_portable;
#if defined(__x86_64__) && defined(__GNUC__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("popcnt"))
            fn = s_seg_popcnt;
#endif
    }
    return fn;
}

struct s_pops {
    const struct linker_model *m;
    const struct linker_input *in;
    uint16_t *p;
};

static void
s_pops_share(void *arg, unsigned t, unsigned nt)
{
    const struct s_pops *P = arg;
    const struct linker_model *m = P->m;
    size_t ns = m->nsegments ? m->nsegments : 1, lo, hi;
    uint32_t c[LINKER_MAX_SEGMENTS], pop[LINKER_MAX_SEGMENTS];
    s_seg_fn seg = s_seg();

    linker_share(P->in->nrec, t, nt, &lo, &hi);
    for (size_t r = lo; r < hi; r++) {
        const uint64_t *x = P->in->clk + r * P->in->clk_words;
        seg(x, x, m, c, pop);
        for (size_t s = 0; s < m->nsegments; s++)
            P->p[r * ns + s] = (uint16_t)c[s];
    }
}

uint16_t *
linker_segment_pops(const struct linker_model *m, const struct linker_input *in)
{
    size_t ns = m->nsegments ? m->nsegments : 1;
    struct s_pops P = {m, in, linker_big_alloc((in->nrec ? in->nrec : 1) * ns * sizeof *P.p)};

    if (P.p == NULL)
        return NULL;
    (void)s_seg(); /* chosen once, before the threads */
    linker_parallel(linker_threads(in->threads), s_pops_share, &P);
    return P.p;
}

/* ---- tokens ----------------------------------------------------------------------- */

/* The records' token lists are the input's own (match.h: each record's
 * tokens of levels that are not strong, in order of token), read where they
 * are: a copy with each token's segments and class beside it was as large
 * again, and its first touch and build cost more than looking those up by
 * level. The strong identifiers, one a record and level, are a table. */
struct linker_tokens {
    const size_t *start; /* [nrec + 1] (linker_input.tok_start) */
    const uint64_t *t0;
    const uint8_t *level;
    const uint32_t *segs; /* by level number: the segments its token covers (the model's) */
    const uint8_t *cls;   /* by level number: its class (the model's level_class) */
    uint64_t *strong;     /* [nrec * nstrong]: the strong token, 0 = none */
    size_t nstrong;
};

/* The segments a level's token says are the same: those whose every field
 * the level compares whole (a first initial or a phonetic code says nothing
 * exact about the name). */
static uint32_t
s_level_segs(const struct linker_model *m, const struct xl_spec_level *l)
{
    uint32_t fields = 0, mask = 0;

    for (size_t p = 0; p < l->nparts; p++)
        fields |= 1u << l->parts[p];
    for (size_t s = 0; s < m->nsegments; s++) {
        if ((m->f[s].fields & ~fields) == 0)
            mask |= 1u << s;
    }
    return mask;
}

/* The first of a level's keys whose record is r or later: a keyset is in
 * record order (keys are added with their record). */
static size_t
s_key_from(const struct linker_keyset *ks, size_t r)
{
    size_t l = 0, h = ks->n;

    while (l < h) {
        size_t mid = l + (h - l) / 2;
        if (ks->k[mid].rec < r)
            l = mid + 1;
        else
            h = mid;
    }
    return l;
}

/* The strong identifiers' table, a range of records a thread: each writes
 * only its records' entries, so the table's fresh pages are cleared on every
 * thread, not on one. */
struct s_toks {
    const struct linker_input *in;
    const struct linker_model *m;
    struct linker_tokens *t;
};

static void
s_toks_share(void *arg, unsigned th, unsigned nt)
{
    struct s_toks *T = arg;
    const struct linker_input *in = T->in;
    const struct xl_spec *spec = in->spec;
    const struct linker_model *m = T->m;
    struct linker_tokens *t = T->t;
    size_t lo, hi, ns = t->nstrong ? t->nstrong : 1;

    linker_share(in->nrec, th, nt, &lo, &hi);
    memset(t->strong + lo * ns, 0, (hi - lo) * ns * sizeof *t->strong);
    for (size_t i = 0; i < spec->nlevels; i++) {
        const struct xl_spec_level *l = &spec->levels[i];
        const struct linker_keyset *ks = &in->bylevel[l->number];
        size_t from, to;
        if (!l->strong)
            continue; /* (in the records' lists) */
        from = s_key_from(ks, lo);
        to = s_key_from(ks, hi);
        for (size_t s = 0; s < t->nstrong; s++) {
            if (m->f[m->nsegments + s].level_number != l->number)
                continue;
            for (size_t j = from; j < to; j++)
                t->strong[(size_t)ks->k[j].rec * t->nstrong + s] = ks->k[j].t0 ? ks->k[j].t0 : 1;
        }
    }
}

struct linker_tokens *
linker_tokens_new(const struct linker_input *in, const struct linker_model *m)
{
    struct linker_tokens *t = calloc(1, sizeof *t);
    struct s_toks T = {.in = in, .m = m, .t = t};
    unsigned nt = linker_threads(in->threads);

    if (t == NULL)
        return NULL;
    t->start = in->tok_start;
    t->t0 = in->tok_t0;
    t->level = in->tok_level;
    t->segs = m->level_segs;
    t->cls = m->level_class;
    t->nstrong = m->nfeatures - m->nsegments;
    t->strong = linker_big_alloc((in->nrec ? in->nrec : 1) * (t->nstrong ? t->nstrong : 1) *
                                 sizeof *t->strong);
    if (t->strong == NULL) {
        linker_tokens_free(&t);
        return NULL;
    }
    linker_parallel(nt, s_toks_share, &T);
    return t;
}

void
linker_tokens_free(struct linker_tokens **tp)
{
    if (tp == NULL || *tp == NULL)
        return;
    free((*tp)->strong);
    free(*tp);
    *tp = NULL;
}

/* The segments covered by a match-key token both records carry; the
 * strongest (lowest) level they share into *level, 0 when none. */
static uint32_t
s_shared(const struct linker_tokens *t, uint32_t a, uint32_t b, uint8_t *level)
{
    size_t i = t->start[a], ie = t->start[a + 1], j = t->start[b], je = t->start[b + 1];
    uint32_t segs = 0;

    *level = 0;
    while (i < ie && j < je) {
        if (t->t0[i] < t->t0[j]) {
            i++;
        } else if (t->t0[i] > t->t0[j]) {
            j++;
        } else {
            uint8_t cls = t->cls[t->level[i]];
            segs |= t->segs[t->level[i]] | t->segs[t->level[j]];
            if (*level == 0 || cls < *level)
                *level = cls;
            i++;
            j++;
        }
    }
    return segs;
}

uint32_t
linker_shared_segs(const struct linker_tokens *tok, uint32_t a, uint32_t b)
{
    uint8_t level;

    return s_shared(tok, a, b, &level);
}

/* ---- comparison --------------------------------------------------------------------- */

uint8_t
linker_shared_level(const struct linker_model *m, const struct linker_tokens *tok, uint32_t a,
                    uint32_t b)
{
    uint8_t level = 0;

    for (size_t s = 0; s < tok->nstrong; s++) {
        uint64_t u = tok->strong[(size_t)a * tok->nstrong + s],
                 v = tok->strong[(size_t)b * tok->nstrong + s];
        if (u != 0 && u == v)
            return m->f[m->nsegments + s].level_number;
    }
    s_shared(tok, a, b, &level);
    return level;
}

void
linker_compare_prefetch(const struct linker_input *in, const struct linker_tokens *tok, uint32_t r)
{
    for (size_t w = 0; w < in->clk_words; w += 8)
        __builtin_prefetch(in->clk + (size_t)r * in->clk_words + w);
    __builtin_prefetch(in->clk + (size_t)r * in->clk_words + in->clk_words - 1);
    if (tok != NULL && tok->nstrong > 0)
        __builtin_prefetch(tok->strong + (size_t)r * tok->nstrong);
}

void
linker_tokens_prefetch(const struct linker_tokens *tok, uint32_t r, int near)
{
    /* Where the list starts first, with the strong identifiers; the list
     * once that has arrived. */
    if (!near) {
        __builtin_prefetch(tok->start + r);
        if (tok->nstrong > 0)
            __builtin_prefetch(tok->strong + (size_t)r * tok->nstrong);
        return;
    }
    if (tok->t0 == NULL)
        return; /* no tokens but strong ones */
    __builtin_prefetch(tok->t0 + tok->start[r]);
    __builtin_prefetch(tok->t0 + tok->start[r] + 7);
    __builtin_prefetch(tok->level + tok->start[r]);
}

double
linker_compare_shared(const struct linker_model *m, const struct linker_input *in,
                      const uint16_t *segpop, const struct linker_tokens *tok, uint32_t a,
                      uint32_t b, uint32_t shared, uint8_t *gamma)
{
    const uint64_t *x = in->clk + (size_t)a * in->clk_words,
                   *y = in->clk + (size_t)b * in->clk_words;
    const uint16_t *pa = segpop + (size_t)a * m->nsegments;
    uint32_t c[LINKER_MAX_SEGMENTS], pb[LINKER_MAX_SEGMENTS];
    uint64_t call = 0, sum = 0;

    s_seg()(x, y, m, c, pb);
    for (size_t s = 0; s < m->nsegments; s++) {
        /* Dice 2c / (pa + pb) against each cut, as the least 2c that passes
         * it (a division, then products in floating point, were most of a
         * comparison's time). The cuts rise from weak to same, so the level
         * is the number passed. */
        uint32_t c2 = 2 * c[s], both = pa[s] + pb[s];
        const uint16_t *least = m->least2c[both];
        uint8_t g = (uint8_t)(LINKER_LEVEL_DIFFERENT + (c2 >= least[0]) + (c2 >= least[1]) +
                              (c2 >= least[2]));
        call += c[s];
        sum += both;
        g = (shared >> s & 1) ? (uint8_t)LINKER_LEVEL_SAME : g;
        gamma[s] = pa[s] < m->missing_min[s] || pb[s] < m->missing_min[s]
                       ? (uint8_t)LINKER_LEVEL_MISSING
                       : g;
    }
    /* Salted segments of two records whose salt differs were hashed apart:
     * they say nothing, so they count as missing, not as different. */
    for (size_t i = 0; i < m->nsalted; i++) {
        if (gamma[m->salted[i][1]] != LINKER_LEVEL_SAME)
            gamma[m->salted[i][0]] = LINKER_LEVEL_MISSING;
    }
    for (size_t s = 0; tok != NULL && s < tok->nstrong; s++) {
        uint64_t u = tok->strong[(size_t)a * tok->nstrong + s],
                 v = tok->strong[(size_t)b * tok->nstrong + s];
        gamma[m->nsegments + s] = u == 0 || v == 0 ? LINKER_LEVEL_MISSING
                                  : u == v         ? LINKER_LEVEL_SAME
                                                   : LINKER_LEVEL_DIFFERENT;
    }
    return sum ? 2.0 * (double)call / (double)sum : 0.0;
}

double
linker_compare(const struct linker_model *m, const struct linker_input *in, const uint16_t *segpop,
               const struct linker_tokens *tok, uint32_t a, uint32_t b, uint8_t *gamma)
{
    uint8_t level;

    return linker_compare_shared(m, in, segpop, tok, a, b,
                                 tok != NULL ? s_shared(tok, a, b, &level) : 0, gamma);
}

double
linker_weight(const struct linker_model *m, const uint8_t *gamma)
{
    double w = m->prior;

    for (size_t f = 0; f < m->nfeatures; f++)
        w += m->f[f].w[gamma[f]];
    return w;
}

/* ---- estimation ------------------------------------------------------------------------ */

static void
s_weights(struct linker_model *m)
{
    for (size_t f = 0; f < m->nfeatures; f++) {
        struct linker_feature *x = &m->f[f];
        x->w[LINKER_LEVEL_MISSING] = 0.0;
        for (int l = 1; l < LINKER_LEVELS; l++)
            x->w[l] = log2((x->m[l] > S_FLOOR ? x->m[l] : S_FLOOR) /
                           (x->u[l] > S_FLOOR ? x->u[l] : S_FLOOR));
        /* A farther level never weighs more than a closer one. Capped from the
         * closest down: a level the data hardly ever show (a sex code half
         * alike) has a tiny u and would otherwise lend its ratio upwards. */
        for (int l = LINKER_LEVEL_SAME - 1; l >= LINKER_LEVEL_DIFFERENT; l--) {
            if (x->w[l] > x->w[l + 1])
                x->w[l] = x->w[l + 1];
        }
    }
    m->prior = log2(m->lambda / (1.0 - m->lambda));
}

/* u: the level frequencies over random pairs of records. The pairs are drawn
 * first and compared in order of their first record, which reads half of
 * what they compare in order instead of at random; the second record's filter
 * and tokens are fetched some pairs ahead. A thread compares a run of them,
 * counting in whole numbers, so the sums are the same on any number of
 * threads. */
struct s_upairs {
    const struct linker_model *m;
    const struct linker_input *in;
    const uint16_t *segpop;
    const struct linker_tokens *tok;
    const uint64_t *pair;
    uint64_t n;
    uint64_t count[LINKER_MAX_THREADS][LINKER_MAX_FEATURES][LINKER_LEVELS];
};

static void
s_upairs_share(void *arg, unsigned t, unsigned nt)
{
    enum { AHEAD = 16 };
    struct s_upairs *U = arg;
    const uint64_t *pair = U->pair;
    uint8_t gamma[LINKER_MAX_FEATURES];
    size_t lo, hi;

    linker_share(U->n, t, nt, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        if (i + AHEAD < U->n) {
            linker_compare_prefetch(U->in, U->tok, (uint32_t)pair[i + AHEAD]);
            linker_tokens_prefetch(U->tok, (uint32_t)pair[i + AHEAD], 0);
        }
        if (i + AHEAD / 2 < U->n)
            linker_tokens_prefetch(U->tok, (uint32_t)pair[i + AHEAD / 2], 1);
        linker_compare(U->m, U->in, U->segpop, U->tok, (uint32_t)(pair[i] >> 32), (uint32_t)pair[i],
                       gamma);
        for (size_t f = 0; f < U->m->nfeatures; f++)
            U->count[t][f][gamma[f]]++;
    }
}

/* 0, or XL_ERR_NOMEM. */
static int
s_estimate_u(struct linker_model *m, const struct linker_input *in, const uint16_t *segpop,
             const struct linker_tokens *tok)
{
    double count[LINKER_MAX_FEATURES][LINKER_LEVELS];
    uint64_t seed = 0x75u, n = (uint64_t)in->nrec * (in->nrec - 1) / 2, *pair;
    struct s_upairs *U;
    unsigned nt = linker_threads(in->threads);

    memset(count, 0, sizeof count);
    m->u_pairs = n < S_U_PAIRS ? n : S_U_PAIRS;
    pair = malloc((m->u_pairs ? m->u_pairs : 1) * sizeof *pair);
    U = calloc(1, sizeof *U);
    if (pair == NULL || U == NULL) {
        free(pair);
        free(U);
        return XL_ERR_NOMEM;
    }
    for (uint64_t i = 0; i < m->u_pairs; i++) {
        uint32_t a, b;
        do {
            a = (uint32_t)(xl_splitmix64(&seed) % in->nrec);
            b = (uint32_t)(xl_splitmix64(&seed) % in->nrec);
        } while (a == b);
        pair[i] = (uint64_t)a << 32 | b;
    }
    qsort(pair, m->u_pairs, sizeof *pair, xl_u64_cmp);
    *U = (struct s_upairs){
        .m = m, .in = in, .segpop = segpop, .tok = tok, .pair = pair, .n = m->u_pairs};
    linker_parallel(nt, s_upairs_share, U);
    for (unsigned t = 0; t < nt; t++) {
        for (size_t f = 0; f < m->nfeatures; f++) {
            for (int l = 0; l < LINKER_LEVELS; l++)
                count[f][l] += (double)U->count[t][f][l];
        }
    }
    free(pair);
    free(U);
    for (size_t f = 0; f < m->nfeatures; f++) {
        double total = 0.0;
        for (int l = 1; l < LINKER_LEVELS; l++)
            total += count[f][l];
        for (int l = 1; l < LINKER_LEVELS; l++) {
            /* A strong identifier has no weak or close level. */
            int used = !m->f[f].strong || l == LINKER_LEVEL_DIFFERENT || l == LINKER_LEVEL_SAME;
            m->f[f].u[l] = used ? (count[f][l] + 0.5) / (total + 2.5) : S_FLOOR;
        }
    }
    return 0;
}

void
linker_gamma_decode(const struct linker_model *m, uint64_t code, uint8_t *gamma)
{
    for (size_t f = m->nfeatures; f-- > 0;) {
        gamma[f] = (uint8_t)(code % LINKER_LEVELS);
        code /= LINKER_LEVELS;
    }
}

/* The distinct comparison vectors among n coded ones and how often each
 * occurs: EM then runs over a few thousand patterns, not millions of pairs.
 * Counted in a hash table that stays in the cache, then put in code order (so
 * EM sums them in an order that does not depend on the pairs'): sorting all n
 * codes to find the same took most of the model's time. */
struct s_slot {
    uint64_t code; /* code + 1, first (the slots are sorted by it); 0: empty */
    uint64_t n;
};

/* The slot holding key in a table of cap (a power of two), or the empty one
 * where it goes. */
static size_t
s_slot_find(const struct s_slot *t, size_t cap, uint64_t key)
{
    size_t h = (size_t)(key * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);

    while (t[h].code != 0 && t[h].code != key)
        h = (h + 1) & (cap - 1);
    return h;
}

static size_t
s_patterns(const struct linker_model *m, const uint64_t *codes, size_t n, uint8_t *pat,
           double *count)
{
    size_t cap = 1 << 12, k = 0, nf = m->nfeatures;
    struct s_slot *t = calloc(cap, sizeof *t);

    if (t == NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        size_t h = s_slot_find(t, cap, codes[i] + 1);
        if (t[h].code == 0 && k + 1 > cap / 2) {
            /* At half full, twice the room: each code placed again. */
            struct s_slot *u = calloc(2 * cap, sizeof *u);
            if (u == NULL) {
                free(t);
                return 0;
            }
            for (size_t j = 0; j < cap; j++) {
                if (t[j].code != 0)
                    u[s_slot_find(u, 2 * cap, t[j].code)] = t[j];
            }
            free(t);
            t = u;
            cap *= 2;
            h = s_slot_find(t, cap, codes[i] + 1);
        }
        if (t[h].code == 0) {
            t[h].code = codes[i] + 1;
            k++;
        }
        t[h].n++;
    }
    /* The patterns to the front, in code order. */
    k = 0;
    for (size_t j = 0; j < cap; j++) {
        if (t[j].code != 0)
            t[k++] = t[j];
    }
    qsort(t, k, sizeof *t, xl_u64_cmp);
    for (size_t i = 0; i < k; i++) {
        linker_gamma_decode(m, t[i].code - 1, pat + i * nf);
        count[i] = (double)t[i].n;
    }
    free(t);
    return k;
}

/* The EM's match weight of a comparison vector: log2(m / uc) per level,
 * tabled once per iteration, with the candidates' match share. */
static double
s_em_weight(const struct linker_model *m, double lr[][LINKER_LEVELS], double lambda,
            const uint8_t *g)
{
    double w = log2(lambda / (1.0 - lambda));

    for (size_t f = 0; f < m->nfeatures; f++)
        w += lr[f][g[f]];
    return w;
}

/* A pair whose strong identifiers settle it: 1 when they agree on one, 0
 * when they differ (clustering never joins such a pair), -1 otherwise. These
 * pairs anchor EM to the meaning "same child": without them, on data with
 * many families, it can settle on "same household" instead. */
static double
s_anchor(const struct linker_model *m, const uint8_t *g)
{
    double p = -1.0;

    for (size_t f = m->nsegments; f < m->nfeatures; f++) {
        if (g[f] == LINKER_LEVEL_DIFFERENT)
            p = 0.0;
    }
    return p;
}

/* EM's match class can settle on "same child at the same address": a child
 * who moved is then a non-match, and m says addresses never differ. So each
 * field's m is measured again among the pairs the other fields alone make
 * near-certain matches, where the field's own value had no say. */
#define S_LOO_ROUNDS 2
#define S_LOO_SURE   0.99
#define S_LOO_MIN    50

static void
s_leave_one_out(struct linker_model *m, const uint8_t *gammas, const double *count, size_t n)
{
    size_t nf = m->nfeatures;
    double sure = linker_prob_to_weight(S_LOO_SURE);

    for (int round = 0; round < S_LOO_ROUNDS; round++) {
        double cnt[LINKER_MAX_FEATURES][LINKER_LEVELS];
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *g = gammas + i * nf;
            double w;
            if (s_anchor(m, g) == 0.0)
                continue;
            w = linker_weight(m, g);
            for (size_t f = 0; f < m->nsegments; f++) {
                if (g[f] != LINKER_LEVEL_MISSING && w - m->f[f].w[g[f]] >= sure)
                    cnt[f][g[f]] += count[i];
            }
        }
        for (size_t f = 0; f < m->nsegments; f++) {
            double total = 0.0;
            for (int l = 1; l < LINKER_LEVELS; l++)
                total += cnt[f][l];
            if (total < S_LOO_MIN)
                continue;
            for (int l = 1; l < LINKER_LEVELS; l++)
                m->f[f].m[l] = fmax(cnt[f][l] / total, S_M_FLOOR);
        }
        s_weights(m);
    }
}

int
linker_model_estimate(struct linker_model *m, const struct linker_input *in, const uint16_t *segpop,
                      const struct linker_tokens *tok, const uint64_t *codes, size_t n,
                      uint64_t ncandidates)
{
    size_t nf = m->nfeatures;
    /* Candidates are not random pairs: blocking chose them for being alike,
     * so the non-matches among them agree more often than u says. EM fits
     * their own frequencies (uc) beside m; u from random pairs stays what the
     * weights use, so a weight says how much likelier a level is for one
     * child than for two children drawn at random. */
    double uc[LINKER_MAX_FEATURES][LINKER_LEVELS], lambda = 0.1, pairs, *count;
    uint8_t *pat;
    size_t np;

    if (in->nrec >= 2 && s_estimate_u(m, in, segpop, tok) != 0)
        return XL_ERR_NOMEM;
    pat = malloc((n ? n : 1) * nf);
    count = malloc((n ? n : 1) * sizeof *count);
    if (pat == NULL || count == NULL) {
        free(pat);
        free(count);
        return XL_ERR_NOMEM;
    }
    np = s_patterns(m, codes, n, pat, count);
    /* Starting m: a match mostly agrees; EM moves it to what the data say. */
    for (size_t f = 0; f < nf; f++) {
        static const double start[LINKER_LEVELS] = {0, 0.05, 0.05, 0.1, 0.8};
        static const double start_strong[LINKER_LEVELS] = {0, 0.05, S_FLOOR, S_FLOOR, 0.95};
        memcpy(m->f[f].m, m->f[f].strong ? start_strong : start, sizeof start);
        memcpy(uc[f], m->f[f].u, sizeof uc[f]);
    }
    m->em_pairs = n;
    m->em_patterns = np;
    for (int it = 0; it < S_EM_ITERATIONS && np > 0; it++) {
        double am[LINKER_MAX_FEATURES][LINKER_LEVELS], au[LINKER_MAX_FEATURES][LINKER_LEVELS];
        double pm[LINKER_MAX_FEATURES], pu[LINKER_MAX_FEATURES], psum = 0.0, change = 0.0;
        double lr[LINKER_MAX_FEATURES][LINKER_LEVELS];
        memset(am, 0, sizeof am);
        memset(au, 0, sizeof au);
        memset(pm, 0, sizeof pm);
        memset(pu, 0, sizeof pu);
        for (size_t f = 0; f < nf; f++) {
            lr[f][LINKER_LEVEL_MISSING] = 0.0;
            for (int l = 1; l < LINKER_LEVELS; l++)
                lr[f][l] = log2(fmax(m->f[f].m[l], S_FLOOR) / fmax(uc[f][l], S_FLOOR));
        }
        for (size_t i = 0; i < np; i++) {
            const uint8_t *g = pat + i * nf;
            double p = s_anchor(m, g), c = count[i];
            if (p < 0.0)
                p = linker_weight_to_prob(s_em_weight(m, lr, lambda, g));
            psum += p * c;
            for (size_t f = 0; f < nf; f++) {
                if (g[f] == LINKER_LEVEL_MISSING)
                    continue;
                am[f][g[f]] += p * c;
                au[f][g[f]] += (1.0 - p) * c;
                pm[f] += p * c;
                pu[f] += (1.0 - p) * c;
            }
        }
        for (size_t f = 0; f < nf; f++) {
            for (int l = 1; l < LINKER_LEVELS; l++) {
                int used = !m->f[f].strong || l == LINKER_LEVEL_DIFFERENT || l == LINKER_LEVEL_SAME;
                double vm = !used ? S_FLOOR : pm[f] > 0 ? am[f][l] / pm[f] : m->f[f].m[l];
                if (used && !m->f[f].strong && vm < S_M_FLOOR)
                    vm = S_M_FLOOR;
                double vu = !used ? S_FLOOR : pu[f] > 0 ? au[f][l] / pu[f] : uc[f][l];
                change = fmax(change, fabs(vm - m->f[f].m[l]));
                m->f[f].m[l] = vm;
                uc[f][l] = vu;
            }
        }
        change = fmax(change, fabs(psum / (double)n - lambda));
        lambda = fmin(fmax(psum / (double)n, 1e-6), 0.999);
        m->em_iterations = it + 1;
        if (change < 1e-5)
            break;
    }
    /* The prior: the expected number of matching pairs (the candidates' match
     * share times their number) over all pairs of records. */
    pairs = (double)in->nrec * ((double)in->nrec - 1.0) / 2.0;
    m->lambda = pairs > 0 ? fmin(fmax(lambda * (double)ncandidates / pairs, 1e-12), 0.5) : 0.5;
    m->candidate_share = lambda;
    s_weights(m);
    s_leave_one_out(m, pat, count, np);
    free(pat);
    free(count);
    return 0;
}

/* ---- report ------------------------------------------------------------------------------ */

/* The model's part of the report: how candidates were found, the estimated m
 * and u of every field and level with their weights, the distribution of match
 * weights with the thresholds marked, and what the model expects of them. */
void
linker_model_report(FILE *out, const struct linker_result *res)
{
    const struct linker_model *m = res->model;
    uint64_t maxbin = 0;
    int lo = LINKER_WEIGHT_BINS, hi = -1;

    fprintf(out,
            "\ncandidates: %llu pairs scored (%.1f per record on average, at most %u; %llu "
            "dropped by the per-record bound; %llu keys shared so widely that only neighbours "
            "were paired); ",
            (unsigned long long)res->comparisons, res->mean_per_record, res->max_per_record,
            (unsigned long long)res->bounded, (unsigned long long)res->windowed);
    if (res->every_pair)
        fprintf(out, "every pair of records scored (a small input: no LSH bands and no bound)\n");
    else if (res->exhaustive)
        fprintf(out, "every pair of records compared (a small input, no LSH bands)\n");
    else
        fprintf(out, "LSH %u bands of up to %u sampled bits\n", res->lsh_bands, res->lsh_bits);
    if (m == NULL)
        return;
    fprintf(out,
            "\nmodel (Fellegi-Sunter; u from %llu random pairs, m by EM over %llu candidate "
            "pairs in %d iterations; matches among candidates %.4f, between two random records "
            "%.3g):\n",
            (unsigned long long)m->u_pairs, (unsigned long long)m->em_pairs, m->em_iterations,
            m->candidate_share, m->lambda);
    fprintf(out, "  %-31s %-10s %10s %12s %8s\n", "field", "level", "m", "u", "weight");
    for (size_t f = 0; f < m->nfeatures; f++) {
        for (int l = LINKER_LEVELS - 1; l >= 1; l--) {
            if (m->f[f].strong && l != LINKER_LEVEL_SAME && l != LINKER_LEVEL_DIFFERENT)
                continue;
            fprintf(out, "  %-31s %-10s %10.4f %12.6f %+8.2f\n",
                    l == LINKER_LEVELS - 1 ? m->f[f].name : "", linker_level_name(l), m->f[f].m[l],
                    m->f[f].u[l], m->f[f].w[l]);
        }
    }
    fprintf(out,
            "\naccept threshold: match weight %+.2f; the model expects precision %.4f and recall "
            "%.4f of the candidate pairs; %llu joins of groups refused for want of support\n",
            m->accept_weight, res->expected_precision, res->expected_recall,
            (unsigned long long)res->joins_refused);
    for (int b = 0; b < LINKER_WEIGHT_BINS; b++) {
        if (res->weight_hist[b] == 0)
            continue;
        lo = b < lo ? b : lo;
        hi = b;
        maxbin = res->weight_hist[b] > maxbin ? res->weight_hist[b] : maxbin;
    }
    fprintf(out, "\ncandidate pairs by match weight:\n");
    for (int b = lo; b <= hi; b++) {
        int w = b + LINKER_WEIGHT_MIN;
        int bar = maxbin ? (int)(50.0 * (double)res->weight_hist[b] / (double)maxbin) : 0;
        const char *mark = (m->accept_weight >= w && m->accept_weight < w + 1) ? "  <- accept"
                           : (m->possible_weight >= w && m->possible_weight < w + 1)
                               ? "  <- possible"
                               : "";
        fprintf(out, "  %+4d %10llu %.*s%s\n", w, (unsigned long long)res->weight_hist[b], bar,
                "##################################################", mark);
    }
}
