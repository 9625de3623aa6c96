#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "bigmem.h"
#include "dice.h"
#include "parallel.h"
#include "pext.h"
#include "radix.h"
#include "xl/splitmix.h"
#include "xl/err.h"
#include "xl/order.h"

/* How the records that share a key are paired: all of them when they are at
 * most `all`; above that, each with its next `window` neighbours in signature
 * order. A match-key token is exact evidence, seldom shared so widely; an LSH
 * band is one of many, each a chance to meet; a blocking key is coarse and is
 * the one chance for records whose filters are far apart, so its buckets are
 * paired whole further (32, not 16: on the generated hard mode pairs
 * completeness 0.9910, not 0.9900, for 10% more pairs emitted). Every pair a
 * window adds is compared, and at scale nearly all are strangers: these set
 * the link's cost (docs/matching.md, "Cost"). */
struct s_pairing {
    size_t all, window;
};
static const struct s_pairing s_by_token = {16, 16}, s_by_block = {32, 2}, s_by_band = {16, 1};
/* LSH by bit sampling: a band's key is S_BITS_MIN to S_BITS_MAX bits of two
 * segments at fixed random positions (more bits when there are more records,
 * see s_band_bits). Two filters agree at a position with a chance that grows
 * with their similarity, so they share a band's key with a chance that grows
 * steeply with it. At these filters' densities (a third of a segment's bits
 * set) that tells alike from unalike as sharply as MinHash values over the
 * same segments, and costs a pext per word where a MinHash value looked at
 * eight positions: the bands' keys went from a fifth of the link's processor
 * time to a twentieth (docs/matching.md, "Cost"). */
#define S_BITS_MIN   8
#define S_BITS_MAX   60
#define S_BITS_PAIRS 4096
/* The records that share a record's bucket of a band by chance, at most, on
 * average. Pairs met by chance only compete for the bound: on the generated
 * hard mode 2, 1, 0.5 and 0.25 gave pairs completeness 0.9906, 0.9908, 0.9908
 * and 0.9911, for 69, 64, 59 and 55 million pairs emitted at 866k records. */
#define S_BAND_CHANCE 0.25
/* The signature that orders a large bucket: MinHash values over the whole
 * filter, the first set bit of a record among S_PROBES positions. */
#define S_PROBES 64
/* Positions looked at together, without a branch between them. */
#define S_PROBES_AT_ONCE 8
#define S_MAX_BANDS      64
/* Bands for each pair of segments. One each finds candidates in half the
 * time, and measured on the generated hard mode lost 0.35 points of pairs
 * completeness: a missed child costs more than the time. */
#define S_BANDS_PER_PAIR 2

struct s_key {
    uint64_t token;
    uint32_t rec;
    uint8_t level; /* match-key tokens: the level number */
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

/* Blocking keys and LSH band hashes are grouped by their top S_GROUP_BITS
 * bits alone: three passes where the whole token takes six. Two keys that
 * differ only below them fall into one bucket, which adds a few pairs (some
 * n^2 / 2^34 of them over n keys; with 20 million keys in a band, 0.001 a
 * record). A match-key token is evidence, and is sorted whole. */
#define S_GROUP_BITS LINKER_BLOCK_BITS /* blocking keys come so (match.h) */
#define S_GROUP_MASK (~(uint64_t)0 << (64 - S_GROUP_BITS))

/* A pair that shares a match-key token ranks above any Dice score: its filters
 * can be unalike for the very reason the token exists (a names-swapped variant
 * puts each name in the other's segment), and the token is the stronger
 * evidence, so the per-record bound must not drop it for a merely alike pair. */
#define S_TOKEN_SCORE 65535
/* Pairs ahead whose records are fetched while one is compared. */
#define S_AHEAD 16

/* Where a pair sorts: records are taken in tiles of 2^S_TILE_BITS, and pairs
 * in order of a's tile, b's tile, then a and b within them. Comparing the
 * pairs in that order reads the filters of two tiles at a time (about a
 * megabyte each) over and over, from the cache and through pages the TLB
 * holds, where the order of (a, b) reads b's filter from anywhere for every
 * pair: a page walk and a miss each, which on a virtual machine cost more
 * than the comparison. The key, from the top: a's tile, b's tile, a and b
 * within them (2R bits for records of R bits); then, for a pair found through
 * a match-key token, the segments the tokens say are the same (one bit a
 * segment, when the word has room for them: a pair's copies are merged, so
 * the key carries them through the sort, where a second array of them was
 * 16 bytes a pair found through a token, and reading both records' token
 * lists when comparing was slower still); and one bit for "found through a
 * match-key token". */
#define S_TILE_BITS 13

struct s_order {
    unsigned rbits; /* bits of a record index */
    unsigned lo;    /* bits within a tile: S_TILE_BITS, or rbits when fewer */
    unsigned segs;  /* segment bits the key carries: the model's, or 0 */
    unsigned low;   /* bits below the pair: the token bit and the segments */
};

static struct s_order
s_order_of(size_t nrec, size_t nsegments, int carry)
{
    struct s_order o = {1, 1, 0, 1};

    while (o.rbits < 31 && ((size_t)1 << o.rbits) < nrec)
        o.rbits++;
    o.lo = o.rbits < S_TILE_BITS ? o.rbits : S_TILE_BITS;
    if (carry && 2 * o.rbits + 1 + nsegments <= 64) {
        o.segs = (unsigned)nsegments;
        o.low = 1 + o.segs;
    }
    return o;
}

static inline uint64_t
s_pair_key(const struct s_order *o, uint32_t a, uint32_t b)
{
    unsigned hi = o->rbits - o->lo;
    uint64_t lomask = ((uint64_t)1 << o->lo) - 1;

    return ((uint64_t)(a >> o->lo) << (hi + 2 * o->lo) | (uint64_t)(b >> o->lo) << (2 * o->lo) |
            (a & lomask) << o->lo | (b & lomask))
           << o->low;
}

static inline uint32_t
s_key_a(const struct s_order *o, uint64_t key)
{
    unsigned hi = o->rbits - o->lo;

    key >>= o->low;
    return (uint32_t)((key >> (hi + 2 * o->lo)) << o->lo | ((key >> o->lo) & ((1u << o->lo) - 1)));
}

static inline uint32_t
s_key_b(const struct s_order *o, uint64_t key)
{
    unsigned hi = o->rbits - o->lo;

    key >>= o->low;
    return (uint32_t)(((key >> (2 * o->lo)) & (((uint64_t)1 << hi) - 1)) << o->lo |
                      (key & ((1u << o->lo) - 1)));
}

#define S_KEY_U64(x)   (x)
#define S_KEY_TOKEN(x) ((x).token)
LINKER_RADIX_SORTS(s_sort_u64, uint64_t, S_KEY_U64)
LINKER_RADIX_SORTS(s_sort_tokens, struct s_key, S_KEY_TOKEN)

/* Keys by bits [from, to) of their tokens (the rest are zero, or not looked
 * at), in place; tmp holds n elements. */
static void
s_sort_keys(struct s_key *a, struct s_key *tmp, size_t n, int from, int to)
{
    struct s_key *r;

    if (n < 2)
        return; /* in order (a is NULL when there are no keys) */
    r = s_sort_tokens(a, tmp, n, from, to);
    if (r != a)
        memcpy(a, r, n * sizeof *a);
}

/* Match-key tokens in order of the whole token, in place (tmp holds n): by
 * their top S_GROUP_BITS bits, then the few that share those put in order
 * of the rest, which orders them as sorting all 64 bits would, in half the
 * passes. */
static void
s_sort_tokens_whole(struct s_key *a, struct s_key *tmp, size_t n)
{
    s_sort_keys(a, tmp, n, 64 - S_GROUP_BITS, 64);
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && ((a[hi].token ^ a[lo].token) & S_GROUP_MASK) == 0)
            hi++;
        for (size_t i = lo + 1; i < hi; i++) {
            struct s_key x = a[i];
            size_t j = i;
            for (; j > lo && a[j - 1].token > x.token; j--)
                a[j] = a[j - 1];
            a[j] = x;
        }
        lo = hi;
    }
}

/* Each record's count of pairs, counted by every thread into a slice of its
 * own and summed after: a locked add for each record of each pair held up
 * the pass behind it (a tenth of the sort of the tiles and a third of the
 * keep pass on one thread, measured at 866k records), and on two threads the
 * counts' cache lines went back and forth between them. */
struct s_counts {
    const uint32_t *slice; /* [nt * nrec] */
    uint32_t *deg;         /* [nrec]: the sums */
    size_t nrec;
    unsigned nt;
};

static void
s_counts_sum(void *arg, unsigned t, unsigned nt)
{
    const struct s_counts *C = arg;
    size_t lo, hi;

    linker_share(C->nrec, t, nt, &lo, &hi);
    for (size_t r = lo; r < hi; r++) {
        uint32_t d = 0;
        for (unsigned u = 0; u < C->nt; u++)
            d += C->slice[(size_t)u * C->nrec + r];
        C->deg[r] = d;
    }
}

/* The emitted pairs in parts, one a thread, each part put in order of a's
 * tile in place; then each tile's pairs (a run in every part) sorted, made
 * distinct and counted, and packed at the front, tile after tile. */
struct s_runs {
    uint64_t *v; /* the pairs as emitted; each part by tile, in place */
    size_t n;
    size_t *start; /* [part * (nbk + 1) + k]: where tile k's run of a part starts in v */
    size_t *len;   /* each tile's distinct pairs */
    size_t *at;    /* and where they go */
    uint32_t *cnt; /* each thread's counts of each record's pairs (s_counts) */
    size_t nrec;
    const struct s_order *o;
    size_t nbk, most;
    unsigned nparts;
    int split;
    atomic_size_t next;
    int rc[LINKER_MAX_THREADS];
};

/* Tile k's pairs, its run in each part from part `first` on, one after
 * another, and buf: the first n of them copied into buf (to_runs 0), or buf's
 * n into them (1). Returns how many were copied: n, or all the runs hold when
 * fewer. */
static size_t
s_tile_copy(const struct s_runs *R, size_t k, unsigned first, uint64_t *buf, size_t n, int to_runs)
{
    size_t done = 0;

    for (unsigned p = first; p < R->nparts && done < n; p++) {
        const size_t *st = R->start + (size_t)p * (R->nbk + 1);
        size_t len = st[k + 1] - st[k], m = len < n - done ? len : n - done;
        if (to_runs)
            memcpy(R->v + st[k], buf + done, m * sizeof *buf);
        else
            memcpy(buf + done, R->v + st[k], m * sizeof *buf);
        done += m;
    }
    return done;
}

/* Part t by tile, in place: each key swapped into its tile's run, as an
 * American flag sort does (a copy of all of them would be hundreds of
 * megabytes of fresh pages, which this machine's kernel clears at about a
 * gigabyte a second). One part a thread: one part for all took a second of
 * one thread at 866k records while the other waited. */
static void
s_parts_split(void *arg, unsigned t, unsigned nt)
{
    struct s_runs *R = arg;
    size_t lo, hi, nbk = R->nbk, *start = R->start + (size_t)t * (nbk + 1);
    size_t *next = malloc((nbk ? nbk : 1) * sizeof *next);
    uint64_t *v = R->v;
    int split = R->split;

    if (next == NULL) {
        R->rc[t] = XL_ERR_NOMEM;
        return;
    }
    linker_share(R->n, t, nt, &lo, &hi);
    start[0] = lo;
    for (size_t i = lo; i < hi; i++)
        start[(v[i] >> split) + 1]++;
    for (size_t k = 0; k < nbk; k++)
        start[k + 1] += start[k];
    memcpy(next, start, nbk * sizeof *next);
    /* Each run filled from its start: a key out of place is swapped with the
     * one where it belongs, until the key in hand belongs here. */
    for (size_t k = 0; k < nbk; k++) {
        while (next[k] < start[k + 1]) {
            uint64_t x = v[next[k]];
            size_t b = (size_t)(x >> split);
            while (b != k) {
                uint64_t y = v[next[b]];
                v[next[b]++] = x;
                x = y;
                b = (size_t)(x >> split);
            }
            v[next[k]++] = x;
        }
    }
    free(next);
}

/* Each tile's runs gathered, sorted by the rest of the key, then each pair
 * once (a copy found through a token marks it) and each record's count of
 * distinct pairs, while they are in the cache; the distinct pairs written back
 * over the tile's runs, one after another. A thread takes the next tile as it
 * finishes one. Another tile may count the same record (as b): each thread
 * counts into a slice of its own (s_counts). */
static void
s_runs_sort(void *arg, unsigned t, unsigned nt)
{
    struct s_runs *R = arg;
    size_t nbk = R->nbk, most = R->most ? R->most : 1;
    uint64_t *scratch = malloc(2 * most * sizeof *scratch), *r;
    uint32_t *cnt = R->cnt + (size_t)t * R->nrec;

    (void)nt;
    if (scratch == NULL) {
        R->rc[t] = XL_ERR_NOMEM;
        return;
    }
    for (size_t k; (k = atomic_fetch_add(&R->next, 1)) < nbk;) {
        size_t len = s_tile_copy(R, k, 0, scratch, most, 0), n = 0;
        r = s_sort_u64(scratch, scratch + most, len, (int)R->o->low, R->split);
        for (size_t i = 0; i < len; i++) {
            /* b's count is anywhere: fetched ahead (s_keep_share) */
            if (i + S_AHEAD < len)
                __builtin_prefetch(cnt + s_key_b(R->o, r[i + S_AHEAD]), 1);
            if (n > 0 && r[n - 1] >> R->o->low == r[i] >> R->o->low) {
                r[n - 1] |= r[i] & (((uint64_t)1 << R->o->low) - 1);
            } else {
                cnt[s_key_a(R->o, r[i])]++;
                cnt[s_key_b(R->o, r[i])]++;
                r[n++] = r[i];
            }
        }
        R->len[k] = n;
        s_tile_copy(R, k, 0, r, n, 1); /* back over the runs, which held as many or more */
    }
    free(scratch);
}

/* Of tile k's distinct pairs, how many its run in part 0 holds: they fill it
 * first (s_runs_sort). */
static size_t
s_part0_share(const struct s_runs *R, size_t k)
{
    size_t run = R->start[k + 1] - R->start[k];

    return run < R->len[k] ? run : R->len[k];
}

/* Each tile's distinct pairs from its runs to their place at the front of v,
 * tile after tile, where an array of their own was a tenth of the link's
 * peak in fresh pages. A tile's pairs fill its run in part 0 first; what they
 * do not fit there, the rest (none where half the pairs emitted were copies),
 * is all that goes to a buffer. The part 0 shares are packed to the front in
 * order, and the rest copied out; then, the last tile first, each tile's
 * share moves right to its place, and its rest follows it. head holds nbk.
 * One thread: a pass or two of copies. XL_ERR_NOMEM. */
static int
s_runs_pack(struct s_runs *R, size_t *head)
{
    size_t cur = 0, nrest = 0, at = 0;
    uint64_t *rest;

    for (size_t k = 0; k < R->nbk; k++)
        nrest += R->len[k] - s_part0_share(R, k);
    if ((rest = linker_big_alloc((nrest ? nrest : 1) * sizeof *rest)) == NULL)
        return XL_ERR_NOMEM;
    for (size_t k = 0; k < R->nbk; k++) {
        size_t a = s_part0_share(R, k);
        if (a > 0)
            memmove(R->v + cur, R->v + R->start[k], a * sizeof *R->v);
        head[k] = cur;
        cur += a;
        at += s_tile_copy(R, k, 1, rest + at, R->len[k] - a, 0);
    }
    for (size_t k = R->nbk; k-- > 0;) {
        size_t a = cur - head[k], b = R->len[k] - a;
        at -= b;
        memcpy(R->v + R->at[k] + a, rest + at, b * sizeof *rest);
        if (a > 0)
            memmove(R->v + R->at[k], R->v + head[k], a * sizeof *R->v);
        cur = head[k];
    }
    free(rest);
    return 0;
}

/* Pair keys in order, above the bits below the pair (which order nothing:
 * copies of a pair only need to meet, and what they carry is merged), each
 * once: *vp, of *np pairs, is replaced by the distinct ones. First by a's
 * tile, the top bits, each thread's part in place; then each tile, a few
 * megabytes, by the rest, passes that stay in the cache where passes over the
 * whole array went to memory each time. */
static int
s_sort_pairs(uint64_t **vp, size_t *np, const struct s_order *o, uint32_t *cnt, size_t nrec,
             unsigned nt)
{
    int to = 2 * (int)o->rbits + (int)o->low, split = to - (int)(o->rbits - o->lo);
    size_t nbk = (size_t)1 << (to - split), n = *np;
    struct s_runs *R = NULL;
    uint64_t *shrunk;
    int rc = XL_ERR_NOMEM;

    if (n == 0)
        return 0;
    R = calloc(1, sizeof *R);
    if (R == NULL)
        return XL_ERR_NOMEM;
    *R = (struct s_runs){.v = *vp,
                         .n = n,
                         .cnt = cnt,
                         .nrec = nrec,
                         .o = o,
                         .nbk = nbk,
                         .nparts = nt,
                         .split = split};
    R->start = calloc((size_t)nt * (nbk + 1), sizeof *R->start);
    R->len = malloc(nbk * sizeof *R->len);
    R->at = malloc(nbk * sizeof *R->at);
    if (R->start == NULL || R->len == NULL || R->at == NULL)
        goto out;
    linker_parallel(nt, s_parts_split, R);
    if ((rc = linker_parallel_rc(R->rc, nt)) != 0)
        goto out;
    for (size_t k = 0; k < nbk; k++) {
        size_t len = 0;
        for (unsigned p = 0; p < nt; p++)
            len += R->start[(size_t)p * (nbk + 1) + k + 1] - R->start[(size_t)p * (nbk + 1) + k];
        R->most = len > R->most ? len : R->most;
    }
    atomic_init(&R->next, 0);
    linker_parallel(nt, s_runs_sort, R);
    if ((rc = linker_parallel_rc(R->rc, nt)) != 0)
        goto out;
    /* The distinct pairs, one tile after another, at the front of the
     * array. */
    n = 0;
    for (size_t k = 0; k < nbk; k++) {
        R->at[k] = n;
        n += R->len[k];
    }
    {
        size_t *head = malloc((nbk ? nbk : 1) * sizeof *head);
        rc = head != NULL ? s_runs_pack(R, head) : XL_ERR_NOMEM;
        free(head);
        if (rc != 0)
            goto out;
    }
    /* The room past them given back, for what the comparisons write next. */
    if ((shrunk = realloc(*vp, n * sizeof **vp)) != NULL)
        *vp = shrunk;
    *np = n;
    rc = 0;
out:
    free(R->start);
    free(R->len);
    free(R->at);
    free(R);
    return rc;
}

/* Pairs as emitted, duplicates and all, a < b, keyed as above: one sort
 * orders them and puts a pair's copies side by side. They are written one
 * after another, without looking anything up: the lookups come once per
 * distinct pair, in order (s_rank). */
struct s_pairs {
    uint64_t *v;
    size_t n, cap;
    struct s_order o;
};

/* Room for `need` elements in an array of n, in huge pages: twice the room
 * there was, or what is needed when that is more. */
static int
s_room(void **v, size_t *cap, size_t n, size_t need, size_t elem)
{
    size_t ncap = *cap ? 2 * *cap : 1 << 16;
    void *q;

    if (need <= *cap)
        return 0;
    ncap = need > ncap ? need : ncap;
    q = linker_big_alloc(ncap * elem);
    if (q == NULL)
        return XL_ERR_NOMEM;
    if (n > 0)
        memcpy(q, *v, n * elem);
    free(*v);
    *v = q;
    *cap = ncap;
    return 0;
}

/* Where the threads' pairs gather, and the lock that guards them. */
struct s_gather {
    struct s_pairs *P;
    pthread_mutex_t lock;
    pthread_cond_t idle; /* no flush copying */
    unsigned copying;    /* flushes copying into room they took */
};

/* A thread's pairs on their way into P: gathered a few thousand at a
 * time in a buffer of its own (in the cache), then copied in. Out of memory
 * marks the sink failed, checked when the thread is done, so emitting a pair
 * is a store and a count. */
#define S_SINK 4096
struct s_sink {
    struct s_gather *g;
    struct s_order o;
    size_t n;
    int failed;
    uint64_t v[S_SINK];
};

/* The room is taken under the lock and filled outside it: the copy is where
 * the arrays' pages are first touched, and the kernel's clearing of them
 * under the lock held up every other thread (at 3.6M records the keys' jobs
 * took 14 s of processor time in 9 s on 2 threads). Growing moves the arrays,
 * so it waits until no copy is under way. */
static void
s_flush(struct s_sink *k)
{
    struct s_gather *g = k->g;
    size_t at = 0;
    uint64_t *pv = NULL;

    pthread_mutex_lock(&g->lock);
    if (!k->failed && g->P->n + k->n > g->P->cap) {
        while (g->copying > 0)
            pthread_cond_wait(&g->idle, &g->lock);
        if (s_room((void **)&g->P->v, &g->P->cap, g->P->n, g->P->n + k->n, sizeof *g->P->v) != 0)
            k->failed = 1;
    }
    if (!k->failed) {
        at = g->P->n;
        pv = g->P->v;
        g->P->n += k->n;
        g->copying++;
    }
    pthread_mutex_unlock(&g->lock);
    if (!k->failed) {
        if (k->n > 0) /* (an empty array may still be NULL) */
            memcpy(pv + at, k->v, k->n * sizeof *k->v);
        pthread_mutex_lock(&g->lock);
        if (--g->copying == 0)
            pthread_cond_broadcast(&g->idle);
        pthread_mutex_unlock(&g->lock);
    }
    k->n = 0;
}

/* The pair of two different records, with the bits below the pair in low:
 * for a pair found through a match-key token, the token bit and the segments
 * its tokens say are the same (s_order). */
static inline void
s_put(struct s_sink *k, uint32_t a, uint32_t b, uint64_t low)
{
    if (k->n == S_SINK)
        s_flush(k);
    k->v[k->n++] = s_pair_key(&k->o, a < b ? a : b, a < b ? b : a) | low;
}

/* A key's index within a large bucket, below its signature (s_emit). */
#define S_SPAN_MASK (((uint64_t)1 << 36) - 1)

/* A large bucket's keys in signature order: values with the signature in
 * their top S_SIG_BITS bits, distinct below them; tmp holds n. Returns where
 * they ended (a or tmp). A radix pass per row value (7 bits: 128 counters,
 * where 2048 cost more than a bucket of a few dozen keys), insertion for a
 * few: qsort and its call per comparison took a tenth of the whole link. */
#define S_SIG_BITS  28
#define S_SIG_DIGIT 7
static uint64_t *
s_sort_sig(uint64_t *a, uint64_t *tmp, size_t n)
{
    if (n > 32)
        return s_sort_u64_lsd(a, tmp, n, 64 - S_SIG_BITS, 64, S_SIG_DIGIT);
    for (size_t i = 1; i < n; i++) {
        uint64_t x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
    return a;
}

/* Keys as s_emit reads them: match-key tokens whole (k), or blocking keys
 * and band hashes in one word each (p), the group bits above the record
 * (linker_block_key: S_GROUP_BITS + 31 = 64): half the bytes to sort. */
struct s_keys {
    const struct s_key *k;
    const uint64_t *p;
};

static inline uint64_t
s_key_token(struct s_keys K, size_t i)
{
    return K.p != NULL ? K.p[i] & S_GROUP_MASK : K.k[i].token;
}

static inline uint32_t
s_key_rec(struct s_keys K, size_t i)
{
    return K.p != NULL ? linker_block_rec(K.p[i]) : K.k[i].rec;
}

/* One pair from keys i and j of a bucket, none from one record's two keys;
 * with m, keys of match-key tokens, whose pair notes what the tokens share. */
static inline void
s_emit_pair(const struct linker_model *m, struct s_sink *k, struct s_keys K, size_t i, size_t j)
{
    uint32_t a = s_key_rec(K, i), b = s_key_rec(K, j);
    uint64_t segs;

    if (a == b)
        return;
    if (m == NULL) {
        s_put(k, a, b, 0);
        return;
    }
    segs = m->level_segs[K.k[i].level] | m->level_segs[K.k[j].level];
    s_put(k, a, b, 1 | (segs & (((uint64_t)1 << k->o.segs) - 1)) << 1);
}

/* Pairs from n keys sorted by token: all pairs in a small bucket, neighbours
 * in signature order in a large one. With m, the keys are match-key tokens.
 * Counts the large buckets in *windowed. One body, built for each layout of
 * the keys: most buckets hold one key, and a test of the layout for each cost
 * as much as the bucket. */
static inline __attribute__((always_inline)) int
s_emit_body(struct s_keys K, size_t n, const uint64_t *sig, struct s_pairing how,
            const struct linker_model *m, struct s_sink *sink, uint64_t *windowed)
{
    uint64_t *mem = NULL;
    size_t capmem = 0;

    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1, span;
        uint64_t token = s_key_token(K, lo);
        while (hi < n && s_key_token(K, hi) == token)
            hi++;
        span = hi - lo;
        if (span <= how.all) {
            for (size_t i = lo; i < hi; i++) {
                for (size_t j = i + 1; j < hi; j++)
                    s_emit_pair(m, sink, K, i, j);
            }
        } else {
            const uint64_t *order;
            (*windowed)++;
            if (span > capmem) {
                free(mem);
                mem = malloc(2 * span * sizeof *mem);
                capmem = span;
                if (mem == NULL)
                    return XL_ERR_NOMEM;
            }
            /* By signature, then place in the bucket: the signature (28
             * bits) above the key's index within the bucket. */
            for (size_t i = 0; i < span; i++)
                mem[i] = sig[s_key_rec(K, lo + i)] << 36 | i;
            order = s_sort_sig(mem, mem + span, span);
            for (size_t i = 0; i < span; i++) {
                size_t x = lo + (order[i] & S_SPAN_MASK);
                for (size_t j = i + 1; j < span && j <= i + how.window; j++)
                    s_emit_pair(m, sink, K, x, lo + (order[j] & S_SPAN_MASK));
            }
        }
        lo = hi;
    }
    free(mem);
    return 0;
}

static int
s_emit(struct s_keys K, size_t n, const uint64_t *sig, struct s_pairing how,
       const struct linker_model *m, struct s_sink *sink, uint64_t *windowed)
{
    if (K.p != NULL)
        return s_emit_body((struct s_keys){NULL, K.p}, n, sig, how, NULL, sink, windowed);
    return s_emit_body((struct s_keys){K.k, NULL}, n, sig, how, m, sink, windowed);
}

/* The MinHash value of a record over the positions of one probe sequence:
 * the index of the first set bit, S_PROBES when none. */
static inline uint32_t
s_minhash(const uint64_t *clk, const uint16_t *probe)
{
    /* A branch per position, taken at random, was mispredicted about once a
     * row; eight at a time without one is a third faster (four or sixteen
     * are slower). */
    for (uint32_t i = 0; i < S_PROBES; i += S_PROBES_AT_ONCE) {
        uint32_t set = 0;
#pragma GCC unroll 8
        for (uint32_t j = 0; j < S_PROBES_AT_ONCE; j++)
            set |= (uint32_t)(clk[probe[i + j] >> 6] >> (probe[i + j] & 63) & 1) << j;
        if (set != 0)
            return i + (uint32_t)__builtin_ctz(set);
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
            for (int rep = 0; rep < S_BANDS_PER_PAIR && nb < S_MAX_BANDS; rep++) {
                plan[nb][0] = (uint8_t)i;
                plan[nb][1] = (uint8_t)j;
                nb++;
            }
        }
    }
    return nb;
}

/* A band's positions: up to S_BITS_MAX distinct bits of segments s and t, in
 * a fixed random order (a band of k bits takes the first k). Returns how many. */
static unsigned
s_band_positions(const struct linker_model *m, int s, int t, uint64_t *seed, uint16_t *pos)
{
    unsigned ns = (m->f[s].end - m->f[s].first) * 64, nt = (m->f[t].end - m->f[t].first) * 64;
    unsigned n = 0, want = ns + nt < S_BITS_MAX ? ns + nt : S_BITS_MAX;

    while (n < want) {
        uint32_t r = (uint32_t)(xl_splitmix64(seed) % (ns + nt)), i;
        uint16_t p = (uint16_t)(r < ns ? m->f[s].first * 64 + r : m->f[t].first * 64 + (r - ns));
        for (i = 0; i < n && pos[i] != p; i++)
            ;
        if (i == n)
            pos[n++] = p;
    }
    return n;
}

/* A band's first k positions as a mask per word, in the order of the words. */
struct s_wmask {
    uint32_t word;
    uint32_t nbits;
    uint64_t mask;
};

/* Whether record r takes part in a band over segments seg[0] and seg[1]: a
 * segment holding only noise is empty. */
static inline int
s_band_present(const struct linker_model *m, const uint16_t *segpop, const uint8_t *seg, size_t r)
{
    const uint16_t *pop = segpop + r * m->nsegments;

    return pop[seg[0]] >= m->missing_min[seg[0]] && pop[seg[1]] >= m->missing_min[seg[1]];
}

static size_t
s_band_masks(const uint16_t *pos, unsigned k, struct s_wmask *wm)
{
    size_t n = 0;

    for (unsigned i = 0; i < k; i++) {
        size_t j = 0;
        while (j < n && wm[j].word != (uint32_t)(pos[i] >> 6))
            j++;
        if (j == n) {
            /* kept in word order: the key does not depend on the draw's order */
            while (j > 0 && wm[j - 1].word > (uint32_t)(pos[i] >> 6)) {
                wm[j] = wm[j - 1];
                j--;
            }
            wm[j] = (struct s_wmask){(uint32_t)(pos[i] >> 6), 0, 0};
            n++;
        }
        wm[j].mask |= (uint64_t)1 << (pos[i] & 63);
        wm[j].nbits++;
    }
    return n;
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
            n += in->level_keys[spec->levels[l].number];
    }
    return n;
}

/* A record's view of a pair: higher is better; ties go to the lower partner
 * index, so the result does not depend on the order pairs were found in. */
static inline uint64_t
s_rank_key(uint16_t score, uint32_t partner)
{
    return (uint64_t)score << 32 | (uint32_t)~partner;
}

/* How alike two records are, for ranking a record's candidates: the Dice
 * score of their whole filters, in 1/65534. (Summing the segments' own Dice
 * scores, each field with an equal say, ranked the true pairs lower on the
 * public test sets: pairs pushed out by the bound rose by a third.) */
struct s_alike {
    const struct linker_input *in;
    linker_and_count_fn kernel;
    /* For comparing the distinct pairs (s_rank). */
    const struct linker_model *m;
    const uint16_t *segpop;
    const struct linker_tokens *tok;
};

static inline uint16_t
s_alike(const struct s_alike *S, uint32_t a, uint32_t b)
{
    const struct linker_input *in = S->in;
    uint32_t c = S->kernel(in->clk + (size_t)a * in->clk_words, in->clk + (size_t)b * in->clk_words,
                           in->clk_words),
             sum = (uint32_t)in->pop[a] + in->pop[b];

    return sum ? (uint16_t)((uint64_t)2 * c * (S_TOKEN_SCORE - 1) / sum) : 0;
}

/* Adds v to a min-heap of the k best values seen (h[0] the weakest kept). */
static void
s_heap_keep(uint64_t *h, size_t *n, size_t k, uint64_t v)
{
    size_t i;

    if (*n < k) {
        for (i = (*n)++; i > 0 && h[(i - 1) / 2] > v; i = (i - 1) / 2)
            h[i] = h[(i - 1) / 2];
        h[i] = v;
        return;
    }
    if (k == 0 || v <= h[0])
        return;
    for (i = 0;;) {
        size_t c = 2 * i + 1;
        if (c >= k)
            break;
        if (c + 1 < k && h[c + 1] < h[c])
            c++;
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
}

/* Inputs with at most this many pairs have every pair compared: the bound
 * alone then chooses, so no alike pair is missed for want of a shared key.
 * About a second's work for the kernel at most. */
#define S_EXHAUSTIVE_PAIRS (1ull << 26)
/* Inputs with at most this many pairs (about 2,000 records) have every pair
 * scored, with no bound: the model's whole comparison of them costs about a
 * second and 40 MB, and any bound could only lose pairs. A pilot's few hundred
 * records get the complete comparison. */
#define S_EVERY_PAIR (1ull << 21)

/* Every pair within the bound of both its records, by Dice score. */
static int
s_exhaustive(const struct s_alike *S, size_t bound, struct s_sink *sink)
{
    size_t nrec = S->in->nrec;
    uint64_t *thr = calloc(nrec ? nrec : 1, sizeof *thr),
             *heap = malloc((bound ? bound : 1) * sizeof *heap);
    int rc = XL_ERR_NOMEM;

    if (thr == NULL || heap == NULL)
        goto out;
    /* Each record's bound-th best, when it has more partners than that; a
     * threshold of 0 keeps every pair. */
    for (uint32_t a = 0; a < nrec && bound < nrec; a++) {
        size_t hn = 0;
        for (uint32_t b = 0; b < nrec; b++) {
            if (b != a)
                s_heap_keep(heap, &hn, bound, s_rank_key(s_alike(S, a, b), b));
        }
        thr[a] = hn < bound ? 0 : heap[0];
    }
    for (uint32_t a = 0; a < nrec; a++) {
        for (uint32_t b = a + 1; b < nrec; b++) {
            uint16_t sc = s_alike(S, a, b);
            if (s_rank_key(sc, b) >= thr[a] && s_rank_key(sc, a) >= thr[b])
                s_put(sink, a, b, 0);
        }
    }
    rc = 0;
out:
    free(thr);
    free(heap);
    return rc;
}

/* The k-th largest of a[0..n), 1 <= k <= n; a is reordered. Quickselect: a
 * record's few dozen keys in one pass or two, where keeping a heap of the best
 * k took a sift for every key. */
static uint64_t
s_select(uint64_t *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1, want = k - 1; /* index in descending order */

    while (lo < hi) {
        uint64_t pivot = a[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] > pivot)
                i++;
            while (a[j] < pivot)
                j--;
            if (i <= j) {
                uint64_t t = a[i];
                a[i++] = a[j];
                a[j] = t;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            break;
    }
    return a[want];
}

/* The threshold thr[r] of each record over the bound (deg[r] > bound): its
 * bound-th best rank key among its pairs, v in tile order with their scores
 * (the others' stay 0, which keeps every pair). One tile of records at a
 * time: a record's pairs are those of its tile's row of blocks (as a) and
 * column (as b), each block a run of v, so the rank keys of a tile's records
 * are gathered into one small buffer, reused, where writing every record's
 * keys straight into one array for all wrote at random across it (a cache
 * miss each: 15 s at 3.6M records). Each thread takes the next tile as it
 * finishes one; tiles write apart. */
struct s_thr {
    const struct s_order *o;
    const uint64_t *v;
    const uint16_t *score;
    const uint32_t *deg;
    const size_t *blk; /* where each block (a's tile, b's tile) starts in v */
    size_t nrec, ntiles, bound;
    uint64_t *thr;
    atomic_size_t next;
    int rc[LINKER_MAX_THREADS];
};

static void
s_thr_run(void *arg, unsigned t, unsigned nt)
{
    struct s_thr *H = arg;
    const struct s_order *o = H->o;
    const uint64_t *v = H->v;
    const uint32_t *deg = H->deg;
    const size_t bound = H->bound;
    size_t tile = (size_t)1 << o->lo, ntiles = H->ntiles, capbuf = 0;
    size_t *start = malloc((tile + 1) * sizeof *start);
    uint32_t *fill = malloc(tile * sizeof *fill);
    uint64_t *buf = NULL;

    (void)nt;
    if (start == NULL || fill == NULL) {
        H->rc[t] = XL_ERR_NOMEM;
        goto out;
    }
    for (size_t x; (x = atomic_fetch_add(&H->next, 1)) < ntiles;) {
        size_t base = x * tile, end = base + tile < H->nrec ? base + tile : H->nrec;
        start[0] = 0;
        for (size_t r = base; r < end; r++)
            start[r - base + 1] = start[r - base] + (deg[r] > bound ? deg[r] : 0);
        if (start[end - base] == 0)
            continue;
        if (start[end - base] > capbuf) {
            free(buf);
            capbuf = start[end - base];
            buf = malloc(capbuf * sizeof *buf);
            if (buf == NULL) {
                H->rc[t] = XL_ERR_NOMEM;
                goto out;
            }
        }
        memset(fill, 0, tile * sizeof *fill);
        /* The tile's row: its records as a; then its column: as b. */
        for (size_t i = H->blk[x * ntiles + x]; i < H->blk[x * ntiles + ntiles]; i++) {
            uint32_t a = s_key_a(o, v[i]);
            if (deg[a] > bound)
                buf[start[a - base] + fill[a - base]++] = s_rank_key(H->score[i], s_key_b(o, v[i]));
        }
        for (size_t y = 0; y <= x; y++) {
            for (size_t i = H->blk[y * ntiles + x]; i < H->blk[y * ntiles + x + 1]; i++) {
                uint32_t b = s_key_b(o, v[i]);
                if (deg[b] > bound)
                    buf[start[b - base] + fill[b - base]++] =
                        s_rank_key(H->score[i], s_key_a(o, v[i]));
            }
        }
        for (size_t r = base; r < end; r++) {
            if (deg[r] > bound)
                H->thr[r] = s_select(buf + start[r - base], deg[r], bound);
        }
    }
out:
    free(start);
    free(fill);
    free(buf);
}

static int
s_thresholds(const struct s_order *o, const uint64_t *v, const uint16_t *score, size_t n,
             size_t nrec, const uint32_t *deg, size_t bound, uint64_t *thr, unsigned nt)
{
    size_t tile = (size_t)1 << o->lo, ntiles = (nrec + tile - 1) / tile;
    size_t *blk = calloc(ntiles * ntiles + 1, sizeof *blk);
    struct s_thr *H = calloc(1, sizeof *H);
    int rc = XL_ERR_NOMEM;

    if (blk == NULL || H == NULL)
        goto out;
    /* v is in key order, whose top bits are a's tile and b's: each block is
     * a run of it, found by bisection where a count took a pass over every
     * pair. */
    for (size_t k = 0; k < ntiles * ntiles; k++) {
        uint64_t first =
            s_pair_key(o, (uint32_t)(k / ntiles) << o->lo, (uint32_t)(k % ntiles) << o->lo);
        size_t lo = k > 0 ? blk[k - 1] : 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (v[mid] < first)
                lo = mid + 1;
            else
                hi = mid;
        }
        blk[k] = lo;
    }
    blk[ntiles * ntiles] = n;
    *H = (struct s_thr){.o = o,
                        .v = v,
                        .score = score,
                        .deg = deg,
                        .blk = blk,
                        .nrec = nrec,
                        .ntiles = ntiles,
                        .bound = bound,
                        .thr = thr};
    atomic_init(&H->next, 0);
    linker_parallel(nt, s_thr_run, H);
    rc = linker_parallel_rc(H->rc, nt);
out:
    free(blk);
    free(H);
    return rc;
}

/* Each distinct pair compared once: its comparison vector is kept for the
 * model and the scoring, and its Dice score ranks it. Pairs are in tile order
 * (s_pair_key); what b's comparison reads is fetched ahead. A thread a run of
 * the pairs. */
struct s_cmp {
    const struct s_alike *S;
    const struct s_order *o;
    const uint64_t *v;
    size_t n;
    uint32_t *code, *code_hi; /* (linker_candidates) */
    uint16_t *score;
};

static void
s_cmp_run(void *arg, unsigned th, unsigned nt)
{
    const struct s_cmp *C = arg;
    const struct s_alike *S = C->S;
    const uint64_t *v = C->v;
    size_t lo, hi;

    linker_share(C->n, th, nt, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        uint32_t a = s_key_a(C->o, v[i]), b = s_key_b(C->o, v[i]), shared = 0;
        uint8_t gamma[LINKER_MAX_FEATURES];
        double d;
        /* a's filter too: a block of pairs steps through a's tile with
         * gaps the processor does not follow, and the tile (a megabyte)
         * falls out of its cache between blocks (unfetched, the comparisons
         * took 6.0 s where they take 4.7 s, at 866k records on one thread) */
        if (i + S_AHEAD < C->n) {
            linker_compare_prefetch(S->in, S->tok, s_key_a(C->o, v[i + S_AHEAD]));
            linker_compare_prefetch(S->in, S->tok, s_key_b(C->o, v[i + S_AHEAD]));
        }
        /* A pair found through a match-key token: the segments the tokens
         * say are the same, carried in its key; where the key had no room
         * for them, from the two records' token lists (where each list
         * starts fetched far ahead, the list itself nearer). */
        if (C->o->segs > 0) {
            shared = (uint32_t)(v[i] >> 1) & (uint32_t)(((uint64_t)1 << C->o->segs) - 1);
        } else {
            if (i + 2 * S_AHEAD < C->n && (v[i + 2 * S_AHEAD] & 1)) {
                linker_tokens_prefetch(S->tok, s_key_a(C->o, v[i + 2 * S_AHEAD]), 0);
                linker_tokens_prefetch(S->tok, s_key_b(C->o, v[i + 2 * S_AHEAD]), 0);
            }
            if (i + S_AHEAD < C->n && (v[i + S_AHEAD] & 1)) {
                linker_tokens_prefetch(S->tok, s_key_a(C->o, v[i + S_AHEAD]), 1);
                linker_tokens_prefetch(S->tok, s_key_b(C->o, v[i + S_AHEAD]), 1);
            }
            if (v[i] & 1)
                shared = linker_shared_segs(S->tok, a, b);
        }
        d = linker_compare_shared(S->m, S->in, S->segpop, S->tok, a, b, shared, gamma);
        {
            uint64_t g = linker_gamma_code(S->m, gamma);
            C->code[i] = (uint32_t)g;
            if (C->code_hi != NULL)
                C->code_hi[i] = (uint32_t)(g >> 32);
        }
        C->score[i] = (v[i] & 1) ? S_TOKEN_SCORE : (uint16_t)(d * (S_TOKEN_SCORE - 1));
    }
}

/* The pairs within the bound of both their records, kept: a thread a share of
 * them, each kept pair moved to the front of its share, as a << 32 | b. */
struct s_keep {
    const struct s_order *o;
    uint64_t *v;
    uint32_t *code, *code_hi;
    const uint16_t *score;
    const uint64_t *thr;
    uint32_t *cnt; /* each thread's counts of each record's pairs kept (s_counts) */
    size_t nrec, n;
    size_t kept[LINKER_MAX_THREADS];
};

static void
s_keep_share(void *arg, unsigned t, unsigned nt)
{
    struct s_keep *K = arg;
    const uint64_t *thr = K->thr;
    uint32_t *cnt = K->cnt + (size_t)t * K->nrec;
    size_t lo, hi, w;

    linker_share(K->n, t, nt, &lo, &hi);
    w = lo;
    for (size_t i = lo; i < hi; i++) {
        uint32_t a = s_key_a(K->o, K->v[i]), b = s_key_b(K->o, K->v[i]);
        /* b's threshold and count are anywhere in its tile: fetched ahead,
         * as the comparisons fetch its filter */
        if (i + S_AHEAD < hi) {
            uint32_t ahead = s_key_b(K->o, K->v[i + S_AHEAD]);
            __builtin_prefetch(thr + ahead);
            __builtin_prefetch(cnt + ahead, 1);
        }
        if (s_rank_key(K->score[i], b) < thr[a] || s_rank_key(K->score[i], a) < thr[b])
            continue;
        K->code[w] = K->code[i];
        if (K->code_hi != NULL)
            K->code_hi[w] = K->code_hi[i];
        K->v[w++] = (uint64_t)a << 32 | b;
        cnt[a]++;
        cnt[b]++;
    }
    K->kept[t] = w - lo;
}

/* The candidate pairs from the emitted ones: sorted, each once (a copy found
 * through a token marks it), compared once (the comparison vector kept in
 * out->code), ranked by the Dice score of the whole filters, and kept when
 * both records rank it within their `bound` best. */
static int
s_rank(const struct s_alike *S, struct s_pairs *P, size_t bound, unsigned nt,
       struct linker_candidates *out)
{
    const struct linker_input *in = S->in;
    size_t nrec = in->nrec, n = 0, nover = 0, kept = 0;
    uint64_t *v = P->v, *thr = NULL;
    uint16_t *score = NULL;
    uint32_t *code = NULL, *code_hi = NULL;
    uint32_t *deg = NULL, *cnt = NULL;
    struct s_counts sums;
    int rc = XL_ERR_NOMEM;

    deg = linker_big_alloc((nrec ? nrec : 1) * sizeof *deg);
    cnt = linker_big_alloc((nrec ? nrec : 1) * nt * sizeof *cnt);
    if (deg == NULL || cnt == NULL)
        goto out;
    sums = (struct s_counts){cnt, deg, nrec, nt};
    memset(cnt, 0, nrec * nt * sizeof *cnt);
    n = P->n;
    if (s_sort_pairs(&P->v, &n, &P->o, cnt, nrec, nt) != 0)
        goto out;
    linker_parallel(nt, s_counts_sum, &sums);
    v = P->v;
    P->cap = n;
    score = malloc((n ? n : 1) * sizeof *score);
    /* The vectors first, into the room the pairs gave back (s_sort_pairs), 4
     * bytes a pair where a model's vectors fit (linker_gamma_wide): 8 were
     * more than that room, and fresh pages are this machine's slowest memory. */
    code = linker_big_alloc((n ? n : 1) * sizeof *code);
    if (linker_gamma_wide(S->m) &&
        (code_hi = linker_big_alloc((n ? n : 1) * sizeof *code_hi)) == NULL)
        goto out;
    thr = calloc(nrec ? nrec : 1, sizeof *thr);
    if (score == NULL || code == NULL || thr == NULL)
        goto out;
    {
        struct s_cmp C = {S, &P->o, v, n, code, code_hi, score};
        linker_parallel(nt, s_cmp_run, &C);
    }
    /* Records with more candidates than the bound: each one's bound-th best
     * rank key is its threshold, kept by record (a threshold found through an
     * index of the records over the bound was two reads from memory a pair,
     * one waiting on the other: a tenth of the link at 3.6M records). */
    for (size_t r = 0; r < nrec; r++) {
        nover += deg[r] > bound;
        out->max_per_record = deg[r] > out->max_per_record ? deg[r] : out->max_per_record;
    }
    if (nover > 0 && s_thresholds(&P->o, v, score, n, nrec, deg, bound, thr, nt) != 0)
        goto out;
    memset(cnt, 0, nrec * nt * sizeof *cnt);
    out->max_per_record = 0;
    {
        struct s_keep K = {&P->o, v, code, code_hi, score, thr, cnt, nrec, n, {0}};
        linker_parallel(nt, s_keep_share, &K);
        linker_parallel(nt, s_counts_sum, &sums);
        /* The shares' pairs, one after another. */
        for (unsigned t = 0; t < nt; t++) {
            size_t lo, hi;
            linker_share(n, t, nt, &lo, &hi);
            if (K.kept[t] > 0) { /* (v is NULL when there are no pairs) */
                memmove(v + kept, v + lo, K.kept[t] * sizeof *v);
                memmove(code + kept, code + lo, K.kept[t] * sizeof *code);
                if (code_hi != NULL)
                    memmove(code_hi + kept, code_hi + lo, K.kept[t] * sizeof *code_hi);
            }
            kept += K.kept[t];
            out->bounded += (hi - lo) - K.kept[t];
        }
    }
    for (size_t r = 0; r < nrec; r++)
        out->max_per_record = deg[r] > out->max_per_record ? deg[r] : out->max_per_record;
    out->pair = v;
    out->code = code;
    out->code_hi = code_hi;
    code = code_hi = NULL;
    out->n = kept;
    out->mean_per_record = nrec ? 2.0 * (double)kept / (double)nrec : 0.0;
    P->v = NULL;
    P->n = P->cap = 0;
    rc = 0;
out:
    free(score);
    free(code);
    free(code_hi);
    free(deg);
    free(cnt);
    free(thr);
    return rc;
}

/* How many bits band b needs: two records' filters agree at a position by
 * chance with the probability the band's random pairs show (Bloom filters
 * share many bits whoever they encode), so with n records a bucket holds
 * about n * p^bits by chance. The fewest bits that keep that under
 * S_BAND_CHANCE: few on small data, where alike records are found through
 * loose bands, more on large data, where loose ones would pair everyone with
 * everyone. */
static unsigned
s_band_bits(const struct linker_input *in, const struct linker_model *m, const uint16_t *segpop,
            const uint8_t *seg, const uint16_t *pos, unsigned npos, uint64_t seed)
{
    size_t present = 0, agree = 0, tried = 0;
    unsigned bits = S_BITS_MIN < npos ? S_BITS_MIN : npos;
    double p, expect;

    for (size_t r = 0; r < in->nrec; r++)
        present += s_band_present(m, segpop, seg, r);
    for (size_t i = 0; i < S_BITS_PAIRS && in->nrec >= 2; i++) {
        size_t a = xl_splitmix64(&seed) % in->nrec, b = xl_splitmix64(&seed) % in->nrec;
        const uint64_t *x = in->clk + a * in->clk_words, *y = in->clk + b * in->clk_words;
        if (a == b || !s_band_present(m, segpop, seg, a) || !s_band_present(m, segpop, seg, b))
            continue;
        for (unsigned k = 0; k < npos; k++)
            agree += ((x[pos[k] >> 6] ^ y[pos[k] >> 6]) >> (pos[k] & 63) & 1) == 0;
        tried += npos;
    }
    p = tried ? (double)agree / (double)tried : 0.0;
    expect = (double)present * pow(p, bits);
    while (bits < npos && expect > S_BAND_CHANCE) {
        bits++;
        expect *= p;
    }
    return bits;
}

/* The keys that give pairs, one sort at a time: the keyed blocking keys (job
 * 0), each level's match-key tokens, then each LSH band. Threads take the next
 * job as they finish one, each with key arrays and a sink of its own, so a
 * thread holds one kind of key at a time. The blocking keys, the most, come
 * first: the other threads work through the rest meanwhile. */
struct s_jobs {
    const struct linker_input *in;
    const struct linker_model *m;
    const uint16_t *segpop;
    const uint64_t *sig;
    const uint8_t (*plan)[2];
    const uint16_t (*pos)[S_BITS_MAX]; /* each band's positions */
    const uint8_t *npos;
    size_t level[256], nlevels; /* indices of the levels sorted with their variants */
    size_t nb;                  /* bands */
    struct s_gather g;
    atomic_size_t next;
    struct s_worker {
        uint64_t keys, windowed;
        unsigned bits;
        int rc;
    } w[LINKER_MAX_THREADS];
};

/* Room for n keys in a thread's two key arrays. */
static int
s_keys_room(struct s_key **e, struct s_key **spare, size_t *cap, size_t n)
{
    if (n <= *cap)
        return 0;
    free(*e);
    free(*spare);
    *e = malloc(n * sizeof **e);
    *spare = malloc(n * sizeof **spare);
    *cap = n;
    return *e == NULL || *spare == NULL ? XL_ERR_NOMEM : 0;
}

#define S_BAND_AHEAD 8

/* Band b's keys: a record whose segment is empty (only noise) takes no part
 * in the bands of that segment. One body, built with and without the
 * processor's pext. */
static inline __attribute__((always_inline)) size_t
s_band_body(const struct s_jobs *J, size_t b, const struct s_wmask *wm, size_t nwm, uint64_t *e,
            uint64_t (*pext)(uint64_t, uint64_t))
{
    const struct linker_input *in = J->in;
    const struct linker_model *m = J->m;
    const uint8_t *seg = J->plan[b];
    size_t n = 0;
    uint64_t salt = 0x6c7368ull + b;

    for (size_t rec = 0; rec < in->nrec; rec++) {
        const uint64_t *clk = in->clk + rec * in->clk_words;
        uint64_t v = 0;
        /* The words a few records on, fetched now: the processor did not
         * guess the stride, and waited for every record's words. */
        if (rec + S_BAND_AHEAD < in->nrec) {
            __builtin_prefetch(clk + S_BAND_AHEAD * in->clk_words + wm[0].word);
            __builtin_prefetch(clk + S_BAND_AHEAD * in->clk_words + wm[nwm - 1].word);
        }
        if (!s_band_present(m, J->segpop, seg, rec))
            continue;
        /* at most S_BITS_MAX (< 64) bits in all: no shift reaches 64 */
        for (size_t i = 0; i < nwm; i++)
            v = v << wm[i].nbits | pext(clk[wm[i].word], wm[i].mask);
        e[n++] = (s_mix(v ^ salt) & S_GROUP_MASK) | rec;
    }
    return n;
}

static size_t
s_band_keys_portable(const struct s_jobs *J, size_t b, const struct s_wmask *wm, size_t nwm,
                     uint64_t *e)
{
    return s_band_body(J, b, wm, nwm, e, linker_pext_portable);
}

#ifdef LINKER_HAVE_PEXT_BMI2
__attribute__((target("bmi2"))) static size_t
s_band_keys_bmi2(const struct s_jobs *J, size_t b, const struct s_wmask *wm, size_t nwm,
                 uint64_t *e)
{
    return s_band_body(J, b, wm, nwm, e, linker_pext_bmi2);
}
#endif

static size_t
s_band_keys(const struct s_jobs *J, size_t b, unsigned bits, uint64_t *e)
{
    struct s_wmask wm[S_BITS_MAX];
    size_t nwm = s_band_masks(J->pos[b], bits, wm);

#ifdef LINKER_HAVE_PEXT_BMI2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("bmi2"))
        return s_band_keys_bmi2(J, b, wm, nwm, e);
#endif
    return s_band_keys_portable(J, b, wm, nwm, e);
}

static int
s_job(struct s_jobs *J, size_t j, struct s_worker *w, struct s_sink *sink, struct s_key **e,
      struct s_key **spare, size_t *cap)
{
    const struct linker_input *in = J->in;
    const struct xl_spec *spec = in->spec;
    size_t n = 0;

    if (j == 0) {
        uint64_t *p;
        if (s_keys_room(e, spare, cap, in->nblocks) != 0)
            return XL_ERR_NOMEM;
        p = (uint64_t *)*e;
        if (in->nblocks > 0) /* (none: both may be NULL) */
            memcpy(p, in->blocks, in->nblocks * sizeof *p);
        w->keys += in->nblocks;
        p = s_sort_u64(p, (uint64_t *)*spare, in->nblocks, 64 - S_GROUP_BITS, 64);
        return s_emit((struct s_keys){NULL, p}, in->nblocks, J->sig, s_by_block, NULL, sink,
                      &w->windowed);
    }
    if (j <= J->nlevels) {
        uint8_t number = spec->levels[J->level[j - 1]].number;
        size_t at[256];
        if (s_keys_room(e, spare, cap, s_level_keys(in, number)) != 0)
            return XL_ERR_NOMEM;
        /* The class's levels one after another, each in record order (the
         * order large buckets break ties in): a strong level's tokens as they
         * are kept, the others' from the records' lists, each to its level's
         * place, in one pass over them all. */
        for (size_t l = 0; l < spec->nlevels; l++) {
            const struct linker_keyset *ks = &in->bylevel[spec->levels[l].number];
            if (spec->levels[l].compare != number)
                continue;
            at[spec->levels[l].number] = n;
            for (size_t i = 0; spec->levels[l].strong && i < ks->n; i++)
                (*e)[n + i] = (struct s_key){ks->k[i].t0, ks->k[i].rec, ks->k[i].level};
            n += in->level_keys[spec->levels[l].number];
        }
        for (uint32_t r = 0; n > 0 && r < in->nrec; r++) {
            for (size_t i = in->tok_start[r]; i < in->tok_start[r + 1]; i++) {
                uint8_t lv = in->tok_level[i];
                if (J->m->level_class[lv] == number)
                    (*e)[at[lv]++] = (struct s_key){in->tok_t0[i], r, lv};
            }
        }
        w->keys += n;
        s_sort_tokens_whole(*e, *spare, n);
        return s_emit((struct s_keys){*e, NULL}, n, J->sig, s_by_token, J->m, sink, &w->windowed);
    }
    {
        size_t b = j - 1 - J->nlevels;
        unsigned bits =
            s_band_bits(in, J->m, J->segpop, J->plan[b], J->pos[b], J->npos[b], 0x5a11ull + b);
        uint64_t *p;
        if (s_keys_room(e, spare, cap, in->nrec) != 0)
            return XL_ERR_NOMEM;
        w->bits = bits > w->bits ? bits : w->bits;
        n = s_band_keys(J, b, bits, (uint64_t *)*e);
        w->keys += n;
        p = s_sort_u64((uint64_t *)*e, (uint64_t *)*spare, n, 64 - S_GROUP_BITS, 64);
        return s_emit((struct s_keys){NULL, p}, n, J->sig, s_by_band, NULL, sink, &w->windowed);
    }
}

static void
s_jobs_run(void *arg, unsigned t, unsigned nt)
{
    struct s_jobs *J = arg;
    struct s_worker *w = &J->w[t];
    struct s_sink *sink = malloc(sizeof *sink);
    struct s_key *e = NULL, *spare = NULL;
    size_t cap = 0, njobs = 1 + J->nlevels + J->nb;

    (void)nt;
    if (sink == NULL) {
        w->rc = XL_ERR_NOMEM;
        return;
    }
    *sink = (struct s_sink){.g = &J->g, .o = J->g.P->o};
    for (size_t j; w->rc == 0 && (j = atomic_fetch_add(&J->next, 1)) < njobs;)
        w->rc = s_job(J, j, w, sink, &e, &spare, &cap);
    s_flush(sink);
    if (w->rc == 0 && sink->failed)
        w->rc = XL_ERR_NOMEM;
    free(sink);
    free(e);
    free(spare);
}

/* The signature that orders a large bucket: four MinHash values over the
 * whole filter, 7 bits each. */
struct s_sigs {
    const struct linker_input *in;
    const uint16_t (*probe)[S_PROBES];
    uint64_t *sig;
};

static void
s_sigs_run(void *arg, unsigned t, unsigned nt)
{
    struct s_sigs *G = arg;
    size_t lo, hi;

    linker_share(G->in->nrec, t, nt, &lo, &hi);
    for (size_t rec = lo; rec < hi; rec++) {
        const uint64_t *clk = G->in->clk + rec * G->in->clk_words;
        uint64_t s = 0;
        for (int r = 0; r < 4; r++)
            s = s << 7 | s_minhash(clk, G->probe[r]);
        G->sig[rec] = s;
    }
}

int
linker_candidates_find(const struct linker_input *in, const struct linker_model *m,
                       const uint16_t *segpop, const struct linker_tokens *tok, size_t bound,
                       struct linker_candidates *out)
{
    const struct xl_spec *spec = in->spec;
    struct s_pairs P = {.o = s_order_of(in->nrec, m->nsegments, !in->shared_from_lists)};
    struct s_alike S = {in, linker_dice_best(NULL), m, segpop, tok};
    struct s_jobs *J = NULL;
    uint64_t *sig = NULL, seed = 0x15aull;
    uint8_t plan[S_MAX_BANDS][2];
    uint16_t probe[4][S_PROBES], pos[S_MAX_BANDS][S_BITS_MAX];
    uint8_t npos[S_MAX_BANDS];
    size_t nb = s_band_plan(m, plan), nrec = in->nrec ? in->nrec : 1;
    uint64_t every = (uint64_t)in->nrec * (in->nrec - (in->nrec > 0)) / 2; /* all pairs */
    unsigned nt = linker_threads(in->threads);
    int rc = XL_ERR_NOMEM, locked = 0;

    memset(out, 0, sizeof *out);
    if (in->nrec >= (size_t)1 << 31)
        return XL_ERR_INTERNAL; /* pairs keep a record's index in 31 bits */
    if (every <= (in->exhaustive_pairs ? in->exhaustive_pairs : S_EXHAUSTIVE_PAIRS)) {
        out->exhaustive = 1;
        if (every <= S_EVERY_PAIR) {
            out->every_pair = 1;
            bound = in->nrec; /* more than any record's partners */
        }
        nb = 0; /* every pair is compared instead of the bands */
    }
    out->bands = (unsigned)nb;
    J = calloc(1, sizeof *J);
    sig = malloc(nrec * sizeof *sig);
    if (J == NULL || sig == NULL)
        goto out;
    /* The bands' positions and the probe sequences: fixed, so the same input
     * gives the same pairs. */
    for (size_t b = 0; b < nb; b++)
        npos[b] = (uint8_t)s_band_positions(m, plan[b][0], plan[b][1], &seed, pos[b]);
    for (int r = 0; r < 4; r++) {
        uint16_t *p = probe[r];
        for (int i = 0; i < S_PROBES; i++)
            p[i] = (uint16_t)(xl_splitmix64(&seed) % (in->clk_words * 64));
    }
    {
        struct s_sigs G = {in, (const uint16_t(*)[S_PROBES])probe, sig};
        linker_parallel(nt, s_sigs_run, &G);
    }

    /* Room for all the pairs, reserved once: pages are taken only when
     * written, where growing by doubling copied the pairs into fresh pages
     * again and again (s_flush still grows it if the estimate falls short).
     * Measured at 866k records: about 3.5 pairs a blocking key, 1 a
     * match-key token, and 1 a record in a band (S_BAND_CHANCE). */
    {
        if (s_room((void **)&P.v, &P.cap, 0,
                   4 * in->nblocks + 2 * in->nkeys + 5 * nb * in->nrec / 4, sizeof *P.v) != 0)
            goto out;
    }
    *J = (struct s_jobs){.in = in,
                         .m = m,
                         .segpop = segpop,
                         .sig = sig,
                         .plan = (const uint8_t(*)[2])plan,
                         .pos = (const uint16_t(*)[S_BITS_MAX])pos,
                         .npos = npos,
                         .nb = nb,
                         .g = {.P = &P}};
    if (pthread_mutex_init(&J->g.lock, NULL) != 0)
        goto out;
    if (pthread_cond_init(&J->g.idle, NULL) != 0) {
        pthread_mutex_destroy(&J->g.lock);
        goto out;
    }
    locked = 1;
    for (size_t i = 0; i < spec->nlevels; i++) {
        /* a variant is sorted with the level it is compared with */
        if (spec->levels[i].compare == spec->levels[i].number)
            J->level[J->nlevels++] = i;
    }
    atomic_init(&J->next, 0);
    linker_parallel(nt, s_jobs_run, J);
    for (unsigned t = 0; t < nt; t++) {
        if (J->w[t].rc != 0) {
            rc = J->w[t].rc;
            goto out;
        }
        out->keys += J->w[t].keys;
        out->windowed += J->w[t].windowed;
        out->bits = J->w[t].bits > out->bits ? J->w[t].bits : out->bits;
    }
    if (out->exhaustive) {
        struct s_sink *sink = malloc(sizeof *sink);
        if (sink == NULL)
            goto out;
        *sink = (struct s_sink){.g = &J->g, .o = P.o};
        rc = s_exhaustive(&S, bound, sink);
        s_flush(sink);
        if (rc == 0 && sink->failed)
            rc = XL_ERR_NOMEM;
        free(sink);
        if (rc != 0)
            goto out;
        rc = XL_ERR_NOMEM;
    }
    free(sig);
    sig = NULL;
    out->raw_pairs = P.n;
    rc = s_rank(&S, &P, bound, nt, out);
out:
    if (locked) {
        pthread_cond_destroy(&J->g.idle);
        pthread_mutex_destroy(&J->g.lock);
    }
    free(J);
    free(sig);
    free(P.v);
    if (rc != 0)
        linker_candidates_free(out);
    return rc;
}

void
linker_candidates_free(struct linker_candidates *c)
{
    free(c->pair);
    free(c->code);
    free(c->code_hi);
    c->pair = NULL;
    c->code = c->code_hi = NULL;
    c->n = 0;
}
