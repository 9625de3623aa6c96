#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "dice.h"
#include "xl/splitmix.h"
#include "xl/err.h"

/* A key shared by at most this many records pairs all of them; above it, each
 * record is paired with its S_WINDOW neighbours in signature order. */
#define S_BUCKET_ALL 32
#define S_WINDOW     16
/* LSH: bands over two segments each, S_ROWS_MIN to S_ROWS_MAX MinHash values
 * per band (more when there are more records, see s_band_rows); a record's
 * first set bit is looked for among at most S_PROBES positions. */
#define S_ROWS_MIN   4
#define S_ROWS_MAX   10
#define S_ROWS_PAIRS 4096
/* The records a band's bucket should hold by chance, at most, on average. */
#define S_BAND_CHANCE 16.0
#define S_PROBES      64
#define S_MAX_BANDS   64

struct s_key {
    uint64_t token;
    uint32_t rec;
};

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

/* LSD radix sort on the 64-bit key, 16 bits a pass; stable. */
static int
s_sort_keys(struct s_key *a, size_t n)
{
    struct s_key *tmp = malloc((n ? n : 1) * sizeof *tmp);
    size_t *cnt = malloc((65536 + 1) * sizeof *cnt);

    if (tmp == NULL || cnt == NULL) {
        free(tmp);
        free(cnt);
        return XL_ERR_NOMEM;
    }
    for (int shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, (65536 + 1) * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[((a[i].token >> shift) & 0xffff) + 1]++;
        for (size_t i = 0; i < 65536; i++)
            cnt[i + 1] += cnt[i];
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(a[i].token >> shift) & 0xffff]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
    free(tmp);
    free(cnt);
    return 0;
}

static int
s_sort_u64(uint64_t *a, size_t n)
{
    uint64_t *tmp;
    size_t *cnt;

    if (n < 2)
        return 0; /* already in order (a is NULL when there are no pairs) */
    tmp = malloc(n * sizeof *tmp);
    cnt = malloc((65536 + 1) * sizeof *cnt);
    if (tmp == NULL || cnt == NULL) {
        free(tmp);
        free(cnt);
        return XL_ERR_NOMEM;
    }
    for (int shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, (65536 + 1) * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[((a[i] >> shift) & 0xffff) + 1]++;
        for (size_t i = 0; i < 65536; i++)
            cnt[i + 1] += cnt[i];
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(a[i] >> shift) & 0xffff]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
    free(tmp);
    free(cnt);
    return 0;
}

/* A pair that shares a match-key token ranks above any Dice score: its filters
 * can be unalike for the very reason the token exists (a names-swapped variant
 * puts each name in the other's segment), and the token is the stronger
 * evidence, so the per-record bound must not drop it for a merely alike pair. */
#define S_TOKEN_SCORE 65535

/* Each record's best candidates so far: at most `bound` partners with their
 * Dice score in 1/65534 (S_TOKEN_SCORE for a shared token), the lowest found
 * by a scan (bounds are small). */
struct s_lists {
    const struct linker_input *in;
    linker_and_count_fn kernel;
    uint32_t *partner; /* [nrec * bound] */
    uint16_t *score;
    uint8_t *n;
    uint8_t *low; /* index of the weakest entry of each list */
    size_t bound;
    uint64_t raw, evicted;
};

/* Offers b to a's list; 1 when a keeps it. */
static int
s_offer(struct s_lists *L, uint32_t a, uint32_t b, uint16_t sc)
{
    uint32_t *p = L->partner + (size_t)a * L->bound;
    uint16_t *q = L->score + (size_t)a * L->bound;
    size_t n = L->n[a], low;
    uint32_t hit = 0;

    /* No early exit: the loop compiles to vector compares. */
    for (size_t i = 0; i < n; i++)
        hit |= p[i] == b;
    if (hit) {
        /* Met again: through a token, its score rises (and the weakest may change). */
        for (size_t i = 0; i < n; i++) {
            if (p[i] == b && sc > q[i]) {
                q[i] = sc;
                low = 0;
                for (size_t j = 1; j < n; j++) {
                    if (q[j] < q[low] || (q[j] == q[low] && p[j] > p[low]))
                        low = j;
                }
                L->low[a] = (uint8_t)low;
            }
        }
        return 1;
    }
    if (n < L->bound) {
        p[n] = b;
        q[n] = sc;
        if (n == 0 || sc < q[L->low[a]] || (sc == q[L->low[a]] && b > p[L->low[a]]))
            L->low[a] = (uint8_t)n;
        L->n[a] = (uint8_t)(n + 1);
        return 1;
    }
    /* Full: the new one replaces the weakest when better (ties: the lower
     * record index stays, so the result does not depend on arrival order). */
    low = L->low[a];
    if (sc < q[low] || (sc == q[low] && b > p[low]))
        return 0;
    p[low] = b;
    q[low] = sc;
    L->evicted++;
    for (size_t i = 0; i < n; i++) {
        if (q[i] < q[low] || (q[i] == q[low] && p[i] > p[low]))
            low = i;
    }
    L->low[a] = (uint8_t)low;
    return 1;
}

static int
s_push(struct s_lists *L, uint32_t a, uint32_t b, int token)
{
    const struct linker_input *in = L->in;
    uint32_t c, sum;
    uint16_t sc;

    L->raw++;
    c = L->kernel(in->clk + (size_t)a * in->clk_words, in->clk + (size_t)b * in->clk_words,
                  in->clk_words);
    sum = (uint32_t)in->pop[a] + in->pop[b];
    sc = sum ? (uint16_t)((uint64_t)2 * c * (S_TOKEN_SCORE - 1) / sum) : 0;
    if (token)
        sc = S_TOKEN_SCORE;
    s_offer(L, a, b, sc);
    s_offer(L, b, a, sc);
    return 0;
}

static const uint64_t *s_sig_of; /* for s_sig_cmp: qsort has no context argument */

static int
s_sig_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

    if (s_sig_of[a] != s_sig_of[b])
        return s_sig_of[a] < s_sig_of[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Pairs from keys sorted by token: all pairs in a small bucket, neighbours in
 * signature order in a large one. */
static int
s_emit(const struct s_key *k, size_t n, const uint64_t *sig, int token, struct s_lists *ps,
       struct linker_candidates *out)
{
    uint32_t *mem = NULL;
    size_t capmem = 0;
    int rc = 0;

    for (size_t lo = 0; lo < n && rc == 0;) {
        size_t hi = lo + 1, span;
        while (hi < n && k[hi].token == k[lo].token)
            hi++;
        span = hi - lo;
        if (span <= S_BUCKET_ALL) {
            for (size_t i = lo; i < hi && rc == 0; i++) {
                for (size_t j = i + 1; j < hi && rc == 0; j++) {
                    if (k[i].rec != k[j].rec)
                        rc = s_push(ps, k[i].rec, k[j].rec, token);
                }
            }
        } else {
            out->windowed++;
            if (span > capmem) {
                free(mem);
                mem = malloc(span * sizeof *mem);
                capmem = span;
                if (mem == NULL)
                    return XL_ERR_NOMEM;
            }
            for (size_t i = 0; i < span; i++)
                mem[i] = k[lo + i].rec;
            s_sig_of = sig;
            qsort(mem, span, sizeof *mem, s_sig_cmp);
            for (size_t i = 0; i < span && rc == 0; i++) {
                for (size_t j = i + 1; j < span && j <= i + S_WINDOW && rc == 0; j++) {
                    if (mem[i] != mem[j])
                        rc = s_push(ps, mem[i], mem[j], token);
                }
            }
        }
        lo = hi;
    }
    free(mem);
    return rc;
}

/* The MinHash value of a record over the positions of one probe sequence:
 * the index of the first set bit, S_PROBES when none. */
static inline uint32_t
s_minhash(const uint64_t *clk, const uint16_t *probe)
{
    for (uint32_t i = 0; i < S_PROBES; i++) {
        if (clk[probe[i] >> 6] >> (probe[i] & 63) & 1)
            return i;
    }
    return S_PROBES;
}

/* The segments the LSH bands pair: the fields of the specification, in order,
 * taken two at a time, two bands per pair. */
static size_t
s_band_plan(const struct linker_model *m, uint8_t plan[][2])
{
    size_t nb = 0;

    for (size_t i = 0; i < m->nsegments; i++) {
        for (size_t j = i + 1; j < m->nsegments; j++) {
            for (int rep = 0; rep < 2 && nb < S_MAX_BANDS; rep++) {
                plan[nb][0] = (uint8_t)i;
                plan[nb][1] = (uint8_t)j;
                nb++;
            }
        }
    }
    return nb;
}

/* Random positions within segments s and t, for one MinHash row. */
static void
s_probes(const struct linker_model *m, int s, int t, uint64_t *seed, uint16_t *probe)
{
    unsigned ns = (m->f[s].end - m->f[s].first) * 64, nt = (m->f[t].end - m->f[t].first) * 64;

    for (int i = 0; i < S_PROBES; i++) {
        uint32_t r = (uint32_t)(xl_splitmix64(seed) % (ns + nt));
        probe[i] = (uint16_t)(r < ns ? m->f[s].first * 64 + r : m->f[t].first * 64 + (r - ns));
    }
}

/* How many match-key tokens are sorted as level `number`'s: its own and its
 * variants'. The agent hashes a variant's token under the number of the level
 * it is compared with, so it equals the other record's token of that level
 * only if the two are sorted together. 0 for a variant level itself. */
static size_t
s_level_keys(const struct linker_input *in, uint8_t number)
{
    const struct xl_spec *spec = in->spec;
    size_t n = 0;

    for (size_t l = 0; l < spec->nlevels; l++) {
        if (spec->levels[l].compare == number)
            n += in->bylevel[spec->levels[l].number].n;
    }
    return n;
}

/* The candidate pairs: those both records keep, each once, in order. */
static int
s_collect(struct s_lists *L, size_t nrec, struct linker_candidates *out)
{
    size_t cap = 0, n = 0;
    uint64_t *pair = NULL;
    uint32_t *deg = calloc(nrec ? nrec : 1, sizeof *deg);

    if (deg == NULL)
        return XL_ERR_NOMEM;
    for (size_t a = 0; a < nrec; a++) {
        const uint32_t *p = L->partner + a * L->bound;
        for (size_t i = 0; i < L->n[a]; i++) {
            uint32_t b = p[i];
            const uint32_t *pb = L->partner + (size_t)b * L->bound;
            int mutual = 0;
            if (b <= a)
                continue;
            for (size_t j = 0; j < L->n[b] && !mutual; j++)
                mutual = pb[j] == (uint32_t)a;
            if (!mutual) {
                out->bounded++;
                continue;
            }
            if (n == cap) {
                size_t ncap = cap ? 2 * cap : 1 << 16;
                uint64_t *q = realloc(pair, ncap * sizeof *q);
                if (q == NULL) {
                    free(pair);
                    free(deg);
                    return XL_ERR_NOMEM;
                }
                pair = q;
                cap = ncap;
            }
            pair[n++] = (uint64_t)a << 32 | b;
            deg[a]++;
            deg[b]++;
        }
    }
    if (s_sort_u64(pair, n) != 0) {
        free(pair);
        free(deg);
        return XL_ERR_NOMEM;
    }
    out->pair = pair;
    out->n = n;
    for (size_t r = 0; r < nrec; r++)
        out->max_per_record = deg[r] > out->max_per_record ? deg[r] : out->max_per_record;
    out->mean_per_record = nrec ? 2.0 * (double)n / (double)nrec : 0.0;
    free(deg);
    return 0;
}

/* How many MinHash rows band b needs: two records' rows agree by chance with
 * the probability the band's random pairs show (Bloom filters share many bits
 * whoever they encode), so with n records a bucket holds about n * p^rows by
 * chance. The fewest rows that keep that under S_BAND_CHANCE: few on small
 * data, where alike records are found through loose bands, more on large
 * data, where loose bands would pair everyone with everyone. */
static unsigned
s_band_rows(const struct linker_input *in, const struct linker_model *m, const uint16_t *segpop,
            const uint8_t *seg, const uint16_t (*probe)[S_PROBES], uint64_t seed)
{
    size_t ns = m->nsegments, present = 0, agree = 0, tried = 0;
    unsigned rows = S_ROWS_MIN;
    double p, expect;

    for (size_t r = 0; r < in->nrec; r++) {
        present += segpop[r * ns + seg[0]] >= m->missing_pop[seg[0]] &&
                   segpop[r * ns + seg[1]] >= m->missing_pop[seg[1]];
    }
    for (size_t i = 0; i < S_ROWS_PAIRS && in->nrec >= 2; i++) {
        size_t a = xl_splitmix64(&seed) % in->nrec, b = xl_splitmix64(&seed) % in->nrec;
        const uint64_t *x = in->clk + a * in->clk_words, *y = in->clk + b * in->clk_words;
        if (a == b || segpop[a * ns + seg[0]] < m->missing_pop[seg[0]] ||
            segpop[a * ns + seg[1]] < m->missing_pop[seg[1]] ||
            segpop[b * ns + seg[0]] < m->missing_pop[seg[0]] ||
            segpop[b * ns + seg[1]] < m->missing_pop[seg[1]])
            continue;
        for (int r = 0; r < S_ROWS_MAX; r++)
            agree += s_minhash(x, probe[r]) == s_minhash(y, probe[r]);
        tried += S_ROWS_MAX;
    }
    p = tried ? (double)agree / (double)tried : 0.0;
    expect = (double)present * pow(p, rows);
    while (rows < S_ROWS_MAX && expect > S_BAND_CHANCE) {
        rows++;
        expect *= p;
    }
    return rows;
}

int
linker_candidates_find(const struct linker_input *in, const struct linker_model *m,
                       const uint16_t *segpop, size_t bound, struct linker_candidates *out)
{
    const struct xl_spec *spec = in->spec;
    struct s_lists L = {.in = in, .bound = bound > 255 ? 255 : bound};
    struct s_key *keys = NULL;
    uint64_t *sig = NULL, seed = 0x15aull;
    uint8_t plan[S_MAX_BANDS][2];
    uint16_t(*probe)[S_PROBES] = NULL;
    size_t nkeys = 0, nb = s_band_plan(m, plan),
           cap = in->nrec > in->nblocks ? in->nrec : in->nblocks;
    size_t nrec = in->nrec ? in->nrec : 1;
    int rc = XL_ERR_NOMEM;

    memset(out, 0, sizeof *out);
    out->bands = (unsigned)nb;
    out->rows = 0;
    L.kernel = linker_dice_best(NULL);
    for (size_t i = 0; i < spec->nlevels; i++) {
        size_t n = s_level_keys(in, spec->levels[i].number);
        cap = n > cap ? n : cap;
    }
    keys = malloc((cap ? cap : 1) * sizeof *keys);
    sig = malloc(nrec * sizeof *sig);
    probe = malloc((nb * S_ROWS_MAX + 4) * sizeof *probe);
    L.partner = malloc(nrec * L.bound * sizeof *L.partner);
    L.score = malloc(nrec * L.bound * sizeof *L.score);
    L.n = calloc(nrec, 1);
    L.low = calloc(nrec, 1);
    if (keys == NULL || sig == NULL || probe == NULL || L.partner == NULL || L.score == NULL ||
        L.n == NULL || L.low == NULL)
        goto out;
    /* The probe sequences: fixed, so the same input gives the same pairs. */
    for (size_t b = 0; b < nb; b++) {
        for (int r = 0; r < S_ROWS_MAX; r++)
            s_probes(m, plan[b][0], plan[b][1], &seed, probe[b * S_ROWS_MAX + (size_t)r]);
    }
    /* The signature that orders a large bucket: MinHash over the whole filter. */
    for (int r = 0; r < 4; r++) {
        uint16_t *p = probe[nb * S_ROWS_MAX + (size_t)r];
        for (int i = 0; i < S_PROBES; i++)
            p[i] = (uint16_t)(xl_splitmix64(&seed) % (in->clk_words * 64));
    }
    for (size_t rec = 0; rec < in->nrec; rec++) {
        const uint64_t *clk = in->clk + rec * in->clk_words;
        uint64_t s = 0;
        for (int r = 0; r < 4; r++)
            s = s << 16 | s_minhash(clk, probe[nb * S_ROWS_MAX + (size_t)r]);
        sig[rec] = s;
    }

    /* Keyed blocking keys, then each level's match-key tokens, then each LSH
     * band: one sort at a time, so only one kind of key is held at once. */
    for (size_t i = 0; i < in->nblocks; i++)
        keys[i] = (struct s_key){in->blocks[i].token, in->blocks[i].rec};
    out->keys += in->nblocks;
    if (s_sort_keys(keys, in->nblocks) != 0 || s_emit(keys, in->nblocks, sig, 0, &L, out) != 0)
        goto out;
    for (size_t i = 0; i < spec->nlevels; i++) {
        size_t nk = 0;
        if (spec->levels[i].compare != spec->levels[i].number)
            continue; /* a variant: sorted with the level it is compared with */
        for (size_t l = 0; l < spec->nlevels; l++) {
            const struct linker_keyset *ks = &in->bylevel[spec->levels[l].number];
            if (spec->levels[l].compare != spec->levels[i].number)
                continue;
            for (size_t j = 0; j < ks->n; j++)
                keys[nk++] = (struct s_key){ks->k[j].t0, ks->k[j].rec};
        }
        out->keys += nk;
        if (s_sort_keys(keys, nk) != 0 || s_emit(keys, nk, sig, 1, &L, out) != 0)
            goto out;
    }
    /* A record whose segment is empty (only noise) takes no part in the bands
     * of that segment. */
    for (size_t b = 0; b < nb; b++) {
        size_t ns = m->nsegments;
        unsigned rows = s_band_rows(in, m, segpop, plan[b], probe + b * S_ROWS_MAX, 0x5a11ull + b);
        out->rows = rows > out->rows ? rows : out->rows;
        nkeys = 0;
        for (size_t rec = 0; rec < in->nrec; rec++) {
            const uint64_t *clk = in->clk + rec * in->clk_words;
            uint64_t h = 0x6c7368ull + b;
            if (segpop[rec * ns + plan[b][0]] < m->missing_pop[plan[b][0]] ||
                segpop[rec * ns + plan[b][1]] < m->missing_pop[plan[b][1]])
                continue;
            for (unsigned r = 0; r < rows; r++)
                h = s_mix(h * 0x100000001b3ull ^ s_minhash(clk, probe[b * S_ROWS_MAX + (size_t)r]));
            keys[nkeys++] = (struct s_key){h, (uint32_t)rec};
        }
        out->keys += nkeys;
        if (s_sort_keys(keys, nkeys) != 0 || s_emit(keys, nkeys, sig, 0, &L, out) != 0)
            goto out;
    }
    free(keys);
    keys = NULL;
    out->raw_pairs = L.raw;
    rc = s_collect(&L, in->nrec, out);
out:
    free(keys);
    free(sig);
    free(probe);
    free(L.partner);
    free(L.score);
    free(L.n);
    free(L.low);
    if (rc != 0)
        linker_candidates_free(out);
    return rc;
}

void
linker_candidates_free(struct linker_candidates *c)
{
    free(c->pair);
    c->pair = NULL;
    c->n = 0;
}
