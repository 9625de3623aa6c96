#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xl/clock.h"
#include "dice.h"
#include "match.h"
#include "xl/err.h"

/* Strong identifiers a record can hold (one token per strong level). */
#define S_MAX_STRONG 4
/* A block with more members than this is not compared in full: such a block
 * (a very common surname code and year) says little, and all-pairs inside it
 * would dominate the run. Its singletons are still compared with the first
 * S_BLOCK_MAX members in record order. */
#define S_BLOCK_MAX          4096
#define S_MAX_CONFLICTS_KEPT (1u << 20)
/* Clusters of at most this size after the exact cascade take part in the
 * fuzzy pass. */
#define S_SMALL_CLUSTER 1

/* ---- input ------------------------------------------------------------------ */

struct linker_input *
linker_input_new(const struct xl_spec *spec)
{
    struct linker_input *in = calloc(1, sizeof *in);

    if (in == NULL)
        return NULL;
    in->spec = spec;
    in->clk_words = linker_dice_words(xl_spec_clk_bytes(spec));
    return in;
}

void
linker_input_free(struct linker_input **inp)
{
    struct linker_input *in;

    if (inp == NULL || *inp == NULL)
        return;
    in = *inp;
    free(in->rec_dataset);
    free(in->clk);
    free(in->pop);
    for (int l = 0; l < 256; l++)
        free(in->bylevel[l].k);
    free(in->blocks);
    free(in);
    *inp = NULL;
}

int
linker_input_dataset(struct linker_input *in, const char *agency, const char *dataset,
                     int one_per_person)
{
    for (size_t i = 0; i < in->ndatasets; i++) {
        if (strcmp(in->datasets[i].agency, agency) == 0 &&
            strcmp(in->datasets[i].dataset, dataset) == 0)
            return (int)i;
    }
    if (in->ndatasets == LINKER_MAX_DATASETS)
        return -1;
    snprintf(in->datasets[in->ndatasets].agency, sizeof in->datasets[0].agency, "%s", agency);
    snprintf(in->datasets[in->ndatasets].dataset, sizeof in->datasets[0].dataset, "%s", dataset);
    in->datasets[in->ndatasets].one_per_person = one_per_person;
    return (int)in->ndatasets++;
}

static int
s_grow(void **p, size_t *cap, size_t need, size_t elem, size_t align)
{
    size_t ncap = *cap ? *cap : 1024;
    void *q;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    if (align > 0) {
        /* aligned_alloc has no realloc: copy. */
        q = aligned_alloc(align, (ncap * elem + align - 1) / align * align);
        if (q == NULL)
            return XL_ERR_NOMEM;
        if (*p != NULL)
            memcpy(q, *p, *cap * elem);
        free(*p);
    } else {
        q = realloc(*p, ncap * elem);
        if (q == NULL)
            return XL_ERR_NOMEM;
    }
    *p = q;
    *cap = ncap;
    return 0;
}

static uint64_t
s_load64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

int
linker_input_reserve(struct linker_input *in, size_t records, size_t keys, size_t blocks)
{
    size_t cap = in->caprec, capc = in->caprec, capp = in->caprec;

    if (records > in->caprec &&
        (s_grow((void **)&in->rec_dataset, &cap, records, 1, 0) != 0 ||
         s_grow((void **)&in->pop, &capp, records, sizeof(uint16_t), 0) != 0 ||
         s_grow((void **)&in->clk, &capc, records, in->clk_words * 8, 64) != 0))
        return XL_ERR_NOMEM;
    in->caprec = cap < capp ? (cap < capc ? cap : capc) : (capp < capc ? capp : capc);
    /* About one token per level per record (surname parts add a few). */
    for (size_t i = 0; i < in->spec->nlevels && keys > 0; i++) {
        struct linker_keyset *ks = &in->bylevel[in->spec->levels[i].number];
        if (s_grow((void **)&ks->k, &ks->cap, records, sizeof *ks->k, 0) != 0)
            return XL_ERR_NOMEM;
    }
    if (s_grow((void **)&in->blocks, &in->capblocks, blocks, sizeof *in->blocks, 0) != 0)
        return XL_ERR_NOMEM;
    return 0;
}

int
linker_input_add(struct linker_input *in, int ds, const Crosslink__Record *r)
{
    const struct xl_spec *spec = in->spec;
    size_t n = in->nrec, cap = in->caprec, capc = in->caprec, capp = in->caprec;
    uint64_t *clk;

    if (r->clk.len != xl_spec_clk_bytes(spec))
        return XL_ERR_FORMAT;
    if (n == in->caprec) {
        if (s_grow((void **)&in->rec_dataset, &cap, n + 1, 1, 0) != 0 ||
            s_grow((void **)&in->pop, &capp, n + 1, sizeof(uint16_t), 0) != 0 ||
            s_grow((void **)&in->clk, &capc, n + 1, in->clk_words * 8, 64) != 0)
            return XL_ERR_NOMEM;
        in->caprec = cap;
    }
    in->rec_dataset[n] = (uint8_t)ds;
    clk = in->clk + n * in->clk_words;
    memset(clk, 0, in->clk_words * 8);
    memcpy(clk, r->clk.data, r->clk.len);
    in->pop[n] = (uint16_t)linker_popcount(clk, in->clk_words);

    if (s_grow((void **)&in->blocks, &in->capblocks, in->nblocks + r->n_blocks, sizeof *in->blocks,
               0) != 0)
        return XL_ERR_NOMEM;
    for (size_t i = 0; i < r->n_keys; i++) {
        const Crosslink__MatchKey *k = r->keys[i];
        const struct xl_spec_level *l = xl_spec_level(spec, (uint8_t)k->level);
        struct linker_keyset *ks = &in->bylevel[l != NULL ? l->number : 0];
        struct linker_key *o;
        if (l == NULL || k->token.len != XL_TOKEN_BYTES)
            continue; /* a level this specification does not have: ignored */
        if (s_grow((void **)&ks->k, &ks->cap, ks->n + 1, sizeof *ks->k, 0) != 0)
            return XL_ERR_NOMEM;
        o = &ks->k[ks->n++];
        o->t0 = s_load64(k->token.data);
        o->t1 = s_load64(k->token.data + 8);
        o->rec = (uint32_t)n;
        o->level = l->number;
        in->nkeys++;
    }
    for (size_t i = 0; i < r->n_blocks; i++) {
        if (r->blocks[i].len < 8)
            continue;
        in->blocks[in->nblocks].token = s_load64(r->blocks[i].data);
        in->blocks[in->nblocks].rec = (uint32_t)n;
        in->nblocks++;
    }
    in->nrec = n + 1;
    return 0;
}

/* ---- union-find with constraints --------------------------------------------- */

struct s_uf {
    uint32_t *parent;
    uint32_t *size;
    uint32_t *minrec;
    uint64_t *mask;   /* one-per-person datasets present */
    uint64_t *strong; /* [root * nstrong + s]: the strong token (first 8 bytes), 0 = none */
    size_t nstrong;
};

static uint32_t
s_find(struct s_uf *u, uint32_t x)
{
    uint32_t r = x;

    while (u->parent[r] != r)
        r = u->parent[r];
    while (u->parent[x] != r) { /* path compression */
        uint32_t next = u->parent[x];
        u->parent[x] = r;
        x = next;
    }
    return r;
}

/* Joins the clusters of a and b unless a constraint forbids it. Returns 1 when
 * joined, 0 when already together, -1 - kind when refused. */
static int
s_union(struct s_uf *u, uint32_t a, uint32_t b)
{
    uint32_t ra = s_find(u, a), rb = s_find(u, b), t;

    if (ra == rb)
        return 0;
    for (size_t s = 0; s < u->nstrong; s++) {
        uint64_t x = u->strong[ra * u->nstrong + s], y = u->strong[rb * u->nstrong + s];
        if (x != 0 && y != 0 && x != y)
            return -1 - LINKER_CONFLICT_STRONG_ID;
    }
    if ((u->mask[ra] & u->mask[rb]) != 0)
        return -1 - LINKER_CONFLICT_ONE_PER_PERSON;
    if (u->size[ra] < u->size[rb]) {
        t = ra;
        ra = rb;
        rb = t;
    }
    u->parent[rb] = ra;
    u->size[ra] += u->size[rb];
    if (u->minrec[rb] < u->minrec[ra])
        u->minrec[ra] = u->minrec[rb];
    u->mask[ra] |= u->mask[rb];
    for (size_t s = 0; s < u->nstrong; s++) {
        if (u->strong[ra * u->nstrong + s] == 0)
            u->strong[ra * u->nstrong + s] = u->strong[rb * u->nstrong + s];
    }
    return 1;
}

struct s_run {
    const struct linker_input *in;
    struct linker_result *out;
    struct s_uf uf;
    size_t caplinks, capconf, cappossible;
};

static int
s_push_link(struct s_run *r, uint32_t a, uint32_t b, uint8_t level, float score)
{
    struct linker_result *o = r->out;

    if (s_grow((void **)&o->links, &r->caplinks, o->nlinks + 1, sizeof *o->links, 0) != 0)
        return XL_ERR_NOMEM;
    o->links[o->nlinks++] = (struct linker_link){a < b ? a : b, a < b ? b : a, score, level};
    o->links_by_level[level]++;
    return 0;
}

/* Tries to join a and b with the given evidence; records the link or the conflict. */
static int
s_join(struct s_run *r, uint32_t a, uint32_t b, uint8_t level, float score)
{
    struct linker_result *o = r->out;
    int j = s_union(&r->uf, a, b);

    if (j == 1)
        return s_push_link(r, a, b, level, score);
    if (j < 0) {
        if (o->nconflicts < S_MAX_CONFLICTS_KEPT) {
            if (s_grow((void **)&o->conflicts, &r->capconf, o->nconflicts + 1, sizeof *o->conflicts,
                       0) != 0)
                return XL_ERR_NOMEM;
            o->conflicts[o->nconflicts] =
                (struct linker_conflict){a, b, (uint8_t)(-1 - j), level, score};
        }
        o->nconflicts++;
    }
    return 0;
}

/* ---- exact cascade ----------------------------------------------------------- */

/* Keys per partition of the exact join: a table of twice as many 24-byte
 * slots (1.5 MiB) stays in cache, and a class of 4M keys needs 128
 * partitions, few enough for the scatter into them to stream. */
#define S_PART_KEYS  8192
#define S_JOIN_BATCH 64

struct s_pending {
    uint32_t a, b;
    uint8_t level;
};
#define S_MAX_PARTS 256

/* Open-addressing table from token to the first record that had it. */
struct s_slot {
    uint64_t t0, t1;
    uint32_t rec; /* UINT32_MAX = empty */
    uint8_t level;
};

static uint64_t
s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static int
s_exact(struct s_run *r)
{
    const struct linker_input *in = r->in;
    const struct xl_spec *spec = in->spec;
    struct linker_key *part = NULL;
    struct s_slot *table = NULL;
    size_t tablecap = 0, partcap = 0;
    uint8_t class_of[256];
    int rc = XL_ERR_NOMEM;

    /* Keys of a variant level are joined with its compare level's keys: the
     * class. The input keeps keys per level, in record order. */
    memset(class_of, 0, sizeof class_of);
    for (size_t i = 0; i < spec->nlevels; i++)
        class_of[spec->levels[i].number] = spec->levels[i].compare;
    /* Classes in level order (strongest evidence first). Each class is cut into
     * partitions by the top bits of the token's hash (equal tokens land in the
     * same one, record order kept) and each partition joined with a hash table
     * that fits in cache. */
    for (size_t c = 0; c < spec->nlevels; c++) {
        uint8_t cls = spec->levels[c].number;
        const struct linker_keyset *sets[XL_SPEC_MAX_LEVELS];
        size_t nsets = 0, n = 0, nparts = 1, pbits = 0;
        size_t pstart[S_MAX_PARTS + 1];
        if (class_of[cls] != cls)
            continue;
        /* the base level first, then its variants, in level order */
        sets[nsets++] = &in->bylevel[cls];
        for (size_t v = 0; v < spec->nlevels; v++) {
            uint8_t lv = spec->levels[v].number;
            if (lv != cls && class_of[lv] == cls)
                sets[nsets++] = &in->bylevel[lv];
        }
        for (size_t i = 0; i < nsets; i++)
            n += sets[i]->n;
        if (n == 0)
            continue;
        while (nparts < S_MAX_PARTS && n / nparts > S_PART_KEYS) {
            nparts *= 2;
            pbits++;
        }
        if (n > partcap) {
            free(part);
            part = malloc(n * sizeof *part);
            if (part == NULL)
                goto out;
            partcap = n;
        }
        memset(pstart, 0, sizeof pstart);
        for (size_t si = 0; si < nsets; si++) {
            for (size_t i = 0; i < sets[si]->n; i++)
                pstart[(pbits ? s_mix(sets[si]->k[i].t0) >> (64 - pbits) : 0) + 1]++;
        }
        for (size_t p = 0; p < nparts; p++)
            pstart[p + 1] += pstart[p];
        {
            size_t fill[S_MAX_PARTS];
            memcpy(fill, pstart, nparts * sizeof fill[0]);
            for (size_t si = 0; si < nsets; si++) {
                for (size_t i = 0; i < sets[si]->n; i++) {
                    const struct linker_key *k = &sets[si]->k[i];
                    part[fill[pbits ? s_mix(k->t0) >> (64 - pbits) : 0]++] = *k;
                }
            }
        }
        for (size_t p = 0; p < nparts; p++) {
            size_t plo = pstart[p], phi = pstart[p + 1], nslots = 16, mask;
            if (plo == phi)
                continue;
            while (nslots < 2 * (phi - plo))
                nslots *= 2;
            mask = nslots - 1;
            if (nslots > tablecap) {
                free(table);
                table = malloc(nslots * sizeof *table);
                if (table == NULL)
                    goto out;
                tablecap = nslots;
            }
            for (size_t i = 0; i < nslots; i++)
                table[i].rec = UINT32_MAX;
            for (size_t i = plo; i < phi;) {
                /* Probe a batch from the cached table, prefetch the union-find
                 * entries the joins will touch, then join: the union-find is
                 * far bigger than the cache and its reads would otherwise stall
                 * one after another. */
                struct s_pending pend[S_JOIN_BATCH];
                size_t np = 0;
                for (; i < phi && np < S_JOIN_BATCH; i++) {
                    const struct linker_key *k = &part[i];
                    size_t h = s_mix(k->t0) & mask;
                    while (table[h].rec != UINT32_MAX &&
                           (table[h].t0 != k->t0 || table[h].t1 != k->t1))
                        h = (h + 1) & mask;
                    if (table[h].rec == UINT32_MAX) {
                        table[h] = (struct s_slot){k->t0, k->t1, k->rec, k->level};
                    } else if (table[h].rec != k->rec) {
                        pend[np].a = table[h].rec;
                        pend[np].b = k->rec;
                        pend[np].level = table[h].level > k->level ? table[h].level : k->level;
                        __builtin_prefetch(&r->uf.parent[pend[np].a]);
                        __builtin_prefetch(&r->uf.parent[pend[np].b]);
                        np++;
                    }
                }
                for (size_t j = 0; j < np; j++) {
                    __builtin_prefetch(&r->uf.parent[r->uf.parent[pend[j].a]]);
                    __builtin_prefetch(&r->uf.parent[r->uf.parent[pend[j].b]]);
                }
                for (size_t j = 0; j < np; j++) {
                    rc = s_join(r, pend[j].a, pend[j].b, pend[j].level, 1.0f);
                    if (rc != 0)
                        goto out;
                }
            }
        }
    }
    rc = 0;
out:
    free(table);
    free(part);
    return rc;
}

/* ---- fuzzy ------------------------------------------------------------------- */

static void
s_radix_blocks(struct linker_block *a, struct linker_block *tmp, size_t n)
{
    /* LSD radix sort on the 64-bit token, 16 bits a pass; stable, so records
     * keep their order within a block. */
    for (int shift = 0; shift < 64; shift += 16) {
        size_t *cnt = calloc(65536 + 1, sizeof *cnt);
        if (cnt == NULL)
            return;
        for (size_t i = 0; i < n; i++)
            cnt[((a[i].token >> shift) & 0xffff) + 1]++;
        for (size_t i = 0; i < 65536; i++)
            cnt[i + 1] += cnt[i];
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(a[i].token >> shift) & 0xffff]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
        free(cnt);
    }
}

struct s_cand {
    uint32_t a, b;
    float score;
};

static int
s_cand_cmp(const void *x, const void *y)
{
    const struct s_cand *p = x, *q = y;

    if (p->score != q->score)
        return p->score > q->score ? -1 : 1;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

/* Per block, its members' filters are gathered into one contiguous buffer so
 * every comparison reads from cache, and the kernel loop does nothing but
 * AND+popcount and an integer threshold test; scores are computed only for
 * the few pairs that pass. */
struct s_gather {
    uint64_t *clk; /* [n * words] */
    uint32_t *rec;
    uint32_t *root;
    uint16_t *pop;
    uint8_t *small;
    uint32_t *count;
    size_t cap;
};

static int
s_gather_reserve(struct s_gather *g, size_t n, size_t words)
{
    if (n <= g->cap)
        return 0;
    free(g->clk);
    free(g->rec);
    free(g->root);
    free(g->pop);
    free(g->small);
    free(g->count);
    g->clk = aligned_alloc(64, n * words * 8);
    g->count = malloc(n * sizeof *g->count);
    g->rec = malloc(n * sizeof *g->rec);
    g->root = malloc(n * sizeof *g->root);
    g->pop = malloc(n * sizeof *g->pop);
    g->small = malloc(n);
    g->cap = n;
    return g->clk && g->rec && g->root && g->pop && g->small && g->count ? 0 : XL_ERR_NOMEM;
}

/* Sorts records (given in record order) by popcount, stably, so ties stay in
 * record order: insertion sort for small blocks, a counting sort over the
 * popcount range for large ones. */
static void
s_sort_by_pop(uint32_t *rec, size_t n, const uint16_t *pop)
{
    if (n > 32) {
        uint32_t lo = UINT32_MAX, hi = 0, *tmp = malloc(n * sizeof *tmp);
        size_t *count;
        for (size_t i = 0; i < n; i++) {
            lo = pop[rec[i]] < lo ? pop[rec[i]] : lo;
            hi = pop[rec[i]] > hi ? pop[rec[i]] : hi;
        }
        count = calloc((size_t)(hi - lo) + 2, sizeof *count);
        if (tmp != NULL && count != NULL) {
            for (size_t i = 0; i < n; i++)
                count[pop[rec[i]] - lo + 1]++;
            for (size_t v = 0; v <= (size_t)(hi - lo); v++)
                count[v + 1] += count[v];
            for (size_t i = 0; i < n; i++)
                tmp[count[pop[rec[i]] - lo]++] = rec[i];
            memcpy(rec, tmp, n * sizeof *rec);
            free(tmp);
            free(count);
            return;
        }
        free(tmp);
        free(count);
        /* out of memory: fall through to the insertion sort (same order, slower) */
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t v = rec[i];
        size_t j = i;
        while (j > 0 &&
               (pop[rec[j - 1]] > pop[v] || (pop[rec[j - 1]] == pop[v] && rec[j - 1] > v))) {
            rec[j] = rec[j - 1];
            j--;
        }
        rec[j] = v;
    }
}

static int
s_fuzzy(struct s_run *r)
{
    const struct linker_input *in = r->in;
    const struct xl_spec *spec = in->spec;
    struct linker_result *o = r->out;
    struct linker_block *blocks = NULL, *tmp = NULL;
    struct s_cand *cand = NULL, *poss = NULL;
    struct s_gather g = {0};
    size_t ncand = 0, capcand = 0, nposs = 0, capposs = 0, words = in->clk_words;
    uint8_t *small = NULL;
    uint32_t *root = NULL;
    linker_and_count_many_fn many = linker_dice_best_many(&o->kernel);
    double lowest = spec->possible < spec->accept ? spec->possible : spec->accept;
    /* Dice >= t  <=>  2c >= t (pa + pb): compared in fixed point, no division. */
    uint64_t t_low = (uint64_t)(lowest * 65536.0), t_acc = (uint64_t)(spec->accept * 65536.0);
    double tc;
    uint64_t *recip = NULL;
    /* Kept in locals in the comparison loop, added to the result at the end. */
    uint64_t hist[LINKER_SCORE_BINS] = {0}, comparisons = 0;
    const uint16_t *pops;
    const uint32_t *counts, *roots;
    int rc = XL_ERR_NOMEM;

    small = malloc(in->nrec ? in->nrec : 1);
    root = malloc((in->nrec ? in->nrec : 1) * sizeof *root);
    /* recip[s] * c >> 32 = the score bin of 2c / s, 0..100 (c <= s/2, so the
     * product stays below 2^32 * 101). */
    recip = malloc((2 * (size_t)spec->clk_bits + 1) * sizeof *recip);
    if (recip == NULL)
        goto out;
    recip[0] = 0;
    for (size_t sum = 1; sum <= 2 * (size_t)spec->clk_bits; sum++)
        recip[sum] = ((uint64_t)200 << 32) / sum;
    blocks = malloc((in->nblocks ? in->nblocks : 1) * sizeof *blocks);
    tmp = malloc((in->nblocks ? in->nblocks : 1) * sizeof *tmp);
    if (small == NULL || root == NULL || blocks == NULL || tmp == NULL)
        goto out;
    /* "What is left" after the exact cascade: records still alone. */
    for (uint32_t i = 0; i < in->nrec; i++) {
        root[i] = s_find(&r->uf, i);
        small[i] = r->uf.size[root[i]] <= S_SMALL_CLUSTER;
    }
    if (in->nblocks > 0)
        memcpy(blocks, in->blocks, in->nblocks * sizeof *blocks);
    s_radix_blocks(blocks, tmp, in->nblocks);

    for (size_t lo = 0; lo < in->nblocks;) {
        size_t hi = lo + 1, nsmall = 0, span;
        while (hi < in->nblocks && blocks[hi].token == blocks[lo].token)
            hi++;
        span = hi - lo;
        for (size_t i = lo; i < hi; i++)
            nsmall += small[blocks[i].rec];
        if (span < 2 || nsmall == 0) {
            lo = hi;
            continue;
        }
        if (span > S_BLOCK_MAX) {
            o->candidates_capped++;
            span = S_BLOCK_MAX;
        }
        if (s_gather_reserve(&g, span, words) != 0)
            goto out;
        /* Gather the block: lone records first, then the rest, each part in
         * popcount order, so the records a probe can reach under the popcount
         * bound form one contiguous run in each part. */
        {
            size_t k = 0;
            for (int part = 1; part >= 0; part--) {
                size_t from = k;
                for (size_t i = 0; i < span; i++) {
                    uint32_t m = blocks[lo + i].rec;
                    if (small[m] != part)
                        continue;
                    g.rec[k++] = m;
                }
                s_sort_by_pop(g.rec + from, k - from, in->pop);
                if (part == 1)
                    nsmall = k;
            }
            for (size_t i = 0; i < span; i++) {
                uint32_t m = g.rec[i];
                memcpy(g.clk + i * words, in->clk + (size_t)m * words, words * 8);
                g.root[i] = root[m];
                g.pop[i] = in->pop[m];
            }
        }
        tc = xl_monotonic();
        pops = g.pop;
        counts = g.count;
        roots = g.root;
        for (size_t i = 0; i < nsmall; i++) {
            uint32_t ps = pops[i];
            /* Dice >= t needs t/(2-t) <= pm/ps <= (2-t)/t. */
            uint32_t pmin = (uint32_t)((double)ps * lowest / (2.0 - lowest));
            uint32_t pmax = (uint32_t)((double)ps * (2.0 - lowest) / lowest) + 1;
            size_t ranges[2][2] = {{i + 1, nsmall}, {nsmall, span}};
            for (int rg = 0; rg < 2; rg++) {
                size_t rlo = ranges[rg][0], rhi = ranges[rg][1], total = rhi - rlo;
                while (rlo < rhi && g.pop[rlo] < pmin)
                    rlo++;
                while (rhi > rlo && g.pop[rhi - 1] > pmax)
                    rhi--;
                o->pruned += total - (rhi - rlo);
                if (rlo == rhi)
                    continue;
                /* All of the run at once, from cache; then the bookkeeping. */
                many(g.clk + i * words, g.clk + rlo * words, rhi - rlo, words, g.count);
                comparisons += rhi - rlo;
                for (size_t j = rlo; j < rhi; j++) {
                    uint32_t pm = pops[j], c = counts[j - rlo];
                    uint64_t sum = (uint64_t)ps + pm, lhs = (uint64_t)2 * c << 16;
                    /* bin = floor(100 * 2c / sum), by a multiply: no division per pair */
                    hist[(c * recip[sum]) >> 32]++;
                    if (lhs < t_low * sum || roots[j] == roots[i])
                        continue;
                    {
                        uint32_t x = g.rec[i] < g.rec[j] ? g.rec[i] : g.rec[j];
                        uint32_t y = g.rec[i] < g.rec[j] ? g.rec[j] : g.rec[i];
                        struct s_cand cd = {x, y, (float)(2.0 * c / (double)sum)};
                        if (lhs >= t_acc * sum) {
                            if (s_grow((void **)&cand, &capcand, ncand + 1, sizeof *cand, 0) != 0)
                                goto out;
                            cand[ncand++] = cd;
                        } else {
                            if (s_grow((void **)&poss, &capposs, nposs + 1, sizeof *poss, 0) != 0)
                                goto out;
                            poss[nposs++] = cd;
                        }
                    }
                }
            }
        }
        o->seconds_compare += xl_monotonic() - tc;
        lo = hi;
    }
    for (int b = 0; b < LINKER_SCORE_BINS; b++)
        o->score_hist[b] += hist[b];
    o->comparisons += comparisons;
    /* Strongest first; a pair found in several blocks is taken once. */
    if (ncand > 0)
        qsort(cand, ncand, sizeof *cand, s_cand_cmp);
    for (size_t i = 0; i < ncand; i++) {
        if (i > 0 && cand[i].a == cand[i - 1].a && cand[i].b == cand[i - 1].b)
            continue;
        rc = s_join(r, cand[i].a, cand[i].b, 0, cand[i].score);
        if (rc != 0)
            goto out;
    }
    /* The possible band: pairs still apart after linking, each once. */
    if (nposs > 0)
        qsort(poss, nposs, sizeof *poss, s_cand_cmp);
    for (size_t i = 0; i < nposs; i++) {
        if (i > 0 && poss[i].a == poss[i - 1].a && poss[i].b == poss[i - 1].b)
            continue;
        if (s_find(&r->uf, poss[i].a) == s_find(&r->uf, poss[i].b))
            continue;
        if (s_grow((void **)&o->possible, &r->cappossible, o->npossible + 1, sizeof *o->possible,
                   0) != 0)
            goto out;
        o->possible[o->npossible++] = (struct linker_link){poss[i].a, poss[i].b, poss[i].score, 0};
    }
    rc = 0;
out:
    free(recip);
    free(small);
    free(root);
    free(blocks);
    free(tmp);
    free(cand);
    free(poss);
    free(g.clk);
    free(g.rec);
    free(g.root);
    free(g.pop);
    free(g.small);
    free(g.count);
    return rc;
}

/* ---- the run ------------------------------------------------------------------ */

int
linker_match_run(const struct linker_input *in, struct linker_result *o, char *err, size_t errlen)
{
    const struct xl_spec *spec = in->spec;
    struct s_run r = {.in = in, .out = o};
    struct s_uf *u = &r.uf;
    uint8_t strong_index[256];
    double t0;
    int rc = XL_ERR_NOMEM;

    memset(o, 0, sizeof *o);
    memset(strong_index, 0xff, sizeof strong_index);
    for (size_t i = 0; i < spec->nlevels && u->nstrong < S_MAX_STRONG; i++) {
        if (spec->levels[i].strong)
            strong_index[spec->levels[i].number] = (uint8_t)u->nstrong++;
    }
    u->parent = malloc((in->nrec + 1) * sizeof *u->parent);
    u->size = malloc((in->nrec + 1) * sizeof *u->size);
    u->minrec = malloc((in->nrec + 1) * sizeof *u->minrec);
    u->mask = calloc(in->nrec + 1, sizeof *u->mask);
    u->strong = calloc((in->nrec + 1) * (u->nstrong ? u->nstrong : 1), sizeof *u->strong);
    o->cluster = malloc((in->nrec + 1) * sizeof *o->cluster);
    if (u->parent == NULL || u->size == NULL || u->minrec == NULL || u->mask == NULL ||
        u->strong == NULL || o->cluster == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "link run: out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < in->nrec; i++) {
        u->parent[i] = i;
        u->size[i] = 1;
        u->minrec[i] = i;
        if (in->datasets[in->rec_dataset[i]].one_per_person)
            u->mask[i] = 1ull << in->rec_dataset[i];
    }
    for (size_t i = 0; i < spec->nlevels; i++) {
        const struct linker_keyset *ks = &in->bylevel[spec->levels[i].number];
        if (!spec->levels[i].strong || strong_index[spec->levels[i].number] == 0xff)
            continue;
        for (size_t j = 0; j < ks->n; j++) {
            const struct linker_key *k = &ks->k[j];
            /* A zero prefix would read as "none": a 2^-64 event, folded to 1. */
            u->strong[(size_t)k->rec * u->nstrong + strong_index[k->level]] = k->t0 ? k->t0 : 1;
        }
    }

    t0 = xl_monotonic();
    rc = s_exact(&r);
    o->seconds_exact = xl_monotonic() - t0;
    if (rc != 0) {
        xl_err_set(err, errlen, rc, "link run: out of memory in the exact cascade");
        goto out;
    }
    t0 = xl_monotonic();
    rc = s_fuzzy(&r);
    o->seconds_fuzzy = xl_monotonic() - t0;
    if (rc != 0) {
        xl_err_set(err, errlen, rc, "link run: out of memory in the fuzzy pass");
        goto out;
    }
    t0 = xl_monotonic();
    for (uint32_t i = 0; i < in->nrec; i++) {
        uint32_t root = s_find(u, i);
        o->cluster[i] = u->minrec[root];
        if (root == i)
            o->nclusters++;
    }
    o->seconds_cluster = xl_monotonic() - t0;
    rc = 0;
out:
    free(u->parent);
    free(u->size);
    free(u->minrec);
    free(u->mask);
    free(u->strong);
    if (rc != 0)
        linker_result_free(o);
    return rc;
}

void
linker_result_free(struct linker_result *r)
{
    free(r->cluster);
    free(r->links);
    free(r->possible);
    free(r->conflicts);
    free(r->candidates);
    memset(r, 0, sizeof *r);
}
