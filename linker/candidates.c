#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "xl/err.h"

/* A key shared by at most this many records pairs all of them; above it, each
 * record is paired with its S_WINDOW neighbours in signature order. */
#define S_BUCKET_ALL 32
#define S_WINDOW     16
/* LSH: bands over two segments each, S_ROWS MinHash values per band; a
 * record's first set bit is looked for among at most S_PROBES positions. */
#define S_ROWS      4
#define S_PROBES    64
#define S_MAX_BANDS 64

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

static uint64_t
s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
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
    uint64_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    size_t *cnt = malloc((65536 + 1) * sizeof *cnt);

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

struct s_pairs {
    uint64_t *p;
    size_t n, cap;
};

static int
s_push(struct s_pairs *ps, uint32_t a, uint32_t b)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 1 << 16;
        uint64_t *q = realloc(ps->p, cap * sizeof *q);
        if (q == NULL)
            return XL_ERR_NOMEM;
        ps->p = q;
        ps->cap = cap;
    }
    ps->p[ps->n++] = a < b ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
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
s_emit(const struct s_key *k, size_t n, const uint64_t *sig, struct s_pairs *ps,
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
                        rc = s_push(ps, k[i].rec, k[j].rec);
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
                        rc = s_push(ps, mem[i], mem[j]);
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
        uint32_t r = (uint32_t)(s_splitmix(seed) % (ns + nt));
        probe[i] = (uint16_t)(r < ns ? m->f[s].first * 64 + r : m->f[t].first * 64 + (r - ns));
    }
}

static int
s_dice_cmp(const void *x, const void *y)
{
    const float *a = x, *b = y;

    return *a > *b ? -1 : *a < *b;
}

/* Keeps, for every record with more than bound pairs, its bound most alike;
 * a pair stays when both its records keep it. */
static int
s_bound(const struct linker_input *in, const uint16_t *segpop, const struct linker_model *m,
        size_t bound, struct linker_candidates *out)
{
    size_t n = out->n, nrec = in->nrec;
    uint32_t *deg = calloc(nrec + 1, sizeof *deg);
    float *score = malloc((n ? n : 1) * sizeof *score), *tmp = NULL, *cut = NULL;
    size_t *start = NULL, *fill = NULL, k = 0;
    int rc = XL_ERR_NOMEM;

    if (deg == NULL || score == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        deg[out->pair[i] >> 32]++;
        deg[out->pair[i] & 0xffffffffu]++;
    }
    cut = malloc((nrec ? nrec : 1) * sizeof *cut);
    if (cut == NULL)
        goto out;
    for (size_t r = 0; r < nrec; r++)
        cut[r] = -1.0f;
    {
        int over = 0;
        for (size_t r = 0; r < nrec && !over; r++)
            over = deg[r] > bound;
        if (!over) {
            rc = 0;
            goto stats;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)(out->pair[i] >> 32), b = (uint32_t)out->pair[i];
        size_t ns = m->nsegments;
        uint64_t c = 0, s = 0;
        const uint64_t *x = in->clk + (size_t)a * in->clk_words,
                       *y = in->clk + (size_t)b * in->clk_words;
        if (deg[a] <= bound && deg[b] <= bound) {
            score[i] = 0.0f;
            continue;
        }
        for (size_t w = 0; w < in->clk_words; w++)
            c += (uint64_t)__builtin_popcountll(x[w] & y[w]);
        for (size_t q = 0; q < ns; q++)
            s += (uint64_t)segpop[(size_t)a * ns + q] + segpop[(size_t)b * ns + q];
        score[i] = s ? (float)(2.0 * (double)c / (double)s) : 0.0f;
    }
    /* Per over-full record, the score of its bound-th best pair. */
    start = calloc(nrec + 1, sizeof *start);
    fill = malloc((nrec ? nrec : 1) * sizeof *fill);
    tmp = malloc((n > 0 ? 2 * n : 1) * sizeof *tmp);
    if (start == NULL || fill == NULL || tmp == NULL)
        goto out;
    for (size_t r = 0; r < nrec; r++)
        start[r + 1] = start[r] + (deg[r] > bound ? deg[r] : 0);
    memcpy(fill, start, nrec * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)(out->pair[i] >> 32), b = (uint32_t)out->pair[i];
        if (deg[a] > bound)
            tmp[fill[a]++] = score[i];
        if (deg[b] > bound)
            tmp[fill[b]++] = score[i];
    }
    for (size_t r = 0; r < nrec; r++) {
        if (deg[r] <= bound)
            continue;
        qsort(tmp + start[r], deg[r], sizeof *tmp, s_dice_cmp);
        cut[r] = tmp[start[r] + bound - 1];
    }
    /* Ties at the cut are kept (the bound is then exceeded by the ties alone). */
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)(out->pair[i] >> 32), b = (uint32_t)out->pair[i];
        if ((deg[a] > bound && score[i] < cut[a]) || (deg[b] > bound && score[i] < cut[b]))
            continue;
        out->pair[k++] = out->pair[i];
    }
    out->bounded = n - k;
    out->n = k;
    memset(deg, 0, (nrec + 1) * sizeof *deg);
    for (size_t i = 0; i < out->n; i++) {
        deg[out->pair[i] >> 32]++;
        deg[out->pair[i] & 0xffffffffu]++;
    }
    rc = 0;
stats:
    out->max_per_record = 0;
    for (size_t r = 0; r < nrec; r++)
        out->max_per_record = deg[r] > out->max_per_record ? deg[r] : out->max_per_record;
    out->mean_per_record = nrec ? 2.0 * (double)out->n / (double)nrec : 0.0;
out:
    free(deg);
    free(score);
    free(cut);
    free(start);
    free(fill);
    free(tmp);
    return rc;
}

int
linker_candidates_find(const struct linker_input *in, const struct linker_model *m,
                       const uint16_t *segpop, size_t bound, struct linker_candidates *out)
{
    const struct xl_spec *spec = in->spec;
    struct s_pairs ps = {0};
    struct s_key *keys = NULL;
    uint64_t *sig = NULL, seed = 0x15aull;
    uint8_t plan[S_MAX_BANDS][2];
    uint16_t(*probe)[S_PROBES] = NULL;
    size_t nkeys = 0, nb = s_band_plan(m, plan), cap;
    int rc = XL_ERR_NOMEM;

    memset(out, 0, sizeof *out);
    out->bands = (unsigned)nb;
    out->rows = S_ROWS;
    cap = in->nblocks + in->nkeys + in->nrec;
    keys = malloc((cap ? cap : 1) * sizeof *keys);
    sig = malloc((in->nrec ? in->nrec : 1) * sizeof *sig);
    probe = malloc((nb * S_ROWS + 4) * sizeof *probe);
    if (keys == NULL || sig == NULL || probe == NULL)
        goto out;
    /* The probe sequences: fixed, so the same input gives the same pairs. */
    for (size_t b = 0; b < nb; b++) {
        for (int r = 0; r < S_ROWS; r++)
            s_probes(m, plan[b][0], plan[b][1], &seed, probe[b * S_ROWS + (size_t)r]);
    }
    /* The signature that orders a large bucket: MinHash over the whole filter. */
    for (int r = 0; r < 4; r++) {
        uint16_t *p = probe[nb * S_ROWS + (size_t)r];
        for (int i = 0; i < S_PROBES; i++)
            p[i] = (uint16_t)(s_splitmix(&seed) % (in->clk_words * 64));
    }
    for (size_t rec = 0; rec < in->nrec; rec++) {
        const uint64_t *clk = in->clk + rec * in->clk_words;
        uint64_t s = 0;
        for (int r = 0; r < 4; r++)
            s = s << 16 | s_minhash(clk, probe[nb * S_ROWS + (size_t)r]);
        sig[rec] = s;
    }

    /* Keyed blocking keys and match-key tokens, in one sort. */
    for (size_t i = 0; i < in->nblocks; i++)
        keys[nkeys++] = (struct s_key){in->blocks[i].token, in->blocks[i].rec};
    for (size_t i = 0; i < spec->nlevels; i++) {
        const struct xl_spec_level *l = &spec->levels[i];
        const struct linker_keyset *ks = &in->bylevel[l->number];
        for (size_t j = 0; j < ks->n; j++)
            keys[nkeys++] = (struct s_key){ks->k[j].t0, ks->k[j].rec};
    }
    out->keys += nkeys;
    if (s_sort_keys(keys, nkeys) != 0 || s_emit(keys, nkeys, sig, &ps, out) != 0)
        goto out;

    /* One band at a time. A record whose segment is empty (only noise) takes
     * no part in the bands of that segment. */
    for (size_t b = 0; b < nb; b++) {
        size_t ns = m->nsegments;
        nkeys = 0;
        for (size_t rec = 0; rec < in->nrec; rec++) {
            const uint64_t *clk = in->clk + rec * in->clk_words;
            uint64_t h = 0x6c7368ull + b;
            if (segpop[rec * ns + plan[b][0]] < m->missing_pop[plan[b][0]] ||
                segpop[rec * ns + plan[b][1]] < m->missing_pop[plan[b][1]])
                continue;
            for (int r = 0; r < S_ROWS; r++)
                h = s_mix(h ^ s_minhash(clk, probe[b * S_ROWS + (size_t)r]) << (8 * r));
            keys[nkeys++] = (struct s_key){h, (uint32_t)rec};
        }
        out->keys += nkeys;
        if (s_sort_keys(keys, nkeys) != 0 || s_emit(keys, nkeys, sig, &ps, out) != 0)
            goto out;
    }
    free(keys);
    keys = NULL;

    /* Distinct pairs, in order. */
    out->raw_pairs = ps.n;
    if (s_sort_u64(ps.p, ps.n) != 0)
        goto out;
    {
        size_t k = 0;
        for (size_t i = 0; i < ps.n; i++) {
            if (i == 0 || ps.p[i] != ps.p[k - 1])
                ps.p[k++] = ps.p[i];
        }
        ps.n = k;
    }
    out->pair = ps.p;
    out->n = ps.n;
    ps.p = NULL;
    rc = s_bound(in, segpop, m, bound, out);
out:
    free(ps.p);
    free(keys);
    free(sig);
    free(probe);
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
