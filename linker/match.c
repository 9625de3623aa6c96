#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xl/clock.h"
#include "bigmem.h"
#include "dice.h"
#include "candidates.h"
#include "match.h"
#include "radix.h"
#include "model.h"
#include "parallel.h"
#include "xl/err.h"

/* Strong identifiers a record can hold (one token per strong level). */
#define S_MAX_STRONG 4

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
    free(in->tok_t0);
    free(in->tok_level);
    free(in->tok_start);
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
    if (align > 0 || ncap * elem >= (4u << 20)) {
        /* Large arrays in huge pages: a first touch of each 4 KiB page is a
         * fault, which on a virtual machine costs some 10 us. aligned_alloc
         * and huge pages have no realloc: copy. */
        q = ncap * elem >= (4u << 20)
                ? linker_big_alloc(ncap * elem)
                : aligned_alloc(align, (ncap * elem + align - 1) / align * align);
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

/* Room for n more records. */
static int
s_room_records(struct linker_input *in, size_t n)
{
    size_t need = in->nrec + n, cap = in->caprec, capc = in->caprec, capp = in->caprec,
           caps = in->caprec ? in->caprec + 1 : 0;

    if (need <= in->caprec)
        return 0;
    if (s_grow((void **)&in->rec_dataset, &cap, need, 1, 0) != 0 ||
        s_grow((void **)&in->pop, &capp, need, sizeof(uint16_t), 0) != 0 ||
        s_grow((void **)&in->clk, &capc, need, in->clk_words * 8, 64) != 0 ||
        s_grow((void **)&in->tok_start, &caps, need + 1, sizeof *in->tok_start, 0) != 0)
        return XL_ERR_NOMEM;
    in->tok_start[0] = 0;
    caps--;
    in->caprec = cap < capp ? (cap < capc ? cap : capc) : (capp < capc ? capp : capc);
    in->caprec = caps < in->caprec ? caps : in->caprec;
    return 0;
}

/* Room for need tokens in the records' lists. */
static int
s_room_tokens(struct linker_input *in, size_t need)
{
    size_t capt = in->captok, capl = in->captok;

    if (s_grow((void **)&in->tok_t0, &capt, need, sizeof *in->tok_t0, 0) != 0 ||
        s_grow((void **)&in->tok_level, &capl, need, 1, 0) != 0)
        return XL_ERR_NOMEM;
    in->captok = capl < capt ? capl : capt;
    return 0;
}

int
linker_input_reserve(struct linker_input *in, size_t records, size_t keys, size_t blocks)
{
    if (records > in->nrec && s_room_records(in, records - in->nrec) != 0)
        return XL_ERR_NOMEM;
    /* About one token per level per record (surname parts add a few). */
    for (size_t i = 0; i < in->spec->nlevels && keys > 0; i++) {
        struct linker_keyset *ks = &in->bylevel[in->spec->levels[i].number];
        if (in->spec->levels[i].strong &&
            s_grow((void **)&ks->k, &ks->cap, records, sizeof *ks->k, 0) != 0)
            return XL_ERR_NOMEM;
    }
    if (keys > 0 && s_room_tokens(in, keys) != 0)
        return XL_ERR_NOMEM;
    if (s_grow((void **)&in->blocks, &in->capblocks, blocks, sizeof *in->blocks, 0) != 0)
        return XL_ERR_NOMEM;
    return 0;
}

/* The next record's dataset and CLK (clk_bytes, checked by the caller). */
static void
s_put_record(struct linker_input *in, int ds, const uint8_t *data, size_t clk_bytes)
{
    size_t n = in->nrec;
    uint64_t *clk = in->clk + n * in->clk_words;

    in->rec_dataset[n] = (uint8_t)ds;
    memset(clk, 0, in->clk_words * 8);
    memcpy(clk, data, clk_bytes);
    in->pop[n] = (uint16_t)linker_popcount(clk, in->clk_words);
    in->nrec = n + 1;
}

/* A match-key token of record rec, the record whose tokens come now (their
 * list is closed by s_end_tokens). A level this specification does not have
 * is ignored. */
static int
s_put_key(struct linker_input *in, unsigned level, const uint8_t token[XL_TOKEN_BYTES],
          uint32_t rec)
{
    const struct xl_spec_level *l = level < 256 ? xl_spec_level(in->spec, (uint8_t)level) : NULL;
    struct linker_keyset *ks;
    struct linker_key *o;

    if (l == NULL)
        return 0;
    in->nkeys++;
    in->level_keys[l->number]++;
    if (!l->strong) {
        if (s_room_tokens(in, in->ntok + 1) != 0)
            return XL_ERR_NOMEM;
        in->tok_t0[in->ntok] = s_load64(token);
        in->tok_level[in->ntok++] = l->number;
        return 0;
    }
    ks = &in->bylevel[l->number];
    if (s_grow((void **)&ks->k, &ks->cap, ks->n + 1, sizeof *ks->k, 0) != 0)
        return XL_ERR_NOMEM;
    o = &ks->k[ks->n++];
    o->t0 = s_load64(token);
    o->rec = rec;
    o->level = l->number;
    return 0;
}

/* Closes the token lists of the records up to rec: the last one's few tokens
 * put in order (by insertion: equal tokens keep the order they came in), and
 * every list's end set. */
static void
s_end_tokens(struct linker_input *in, uint32_t rec)
{
    size_t from = in->tok_start[rec];

    for (size_t i = from + 1; i < in->ntok; i++) {
        uint64_t t = in->tok_t0[i];
        uint8_t lv = in->tok_level[i];
        size_t j = i;
        for (; j > from && in->tok_t0[j - 1] > t; j--) {
            in->tok_t0[j] = in->tok_t0[j - 1];
            in->tok_level[j] = in->tok_level[j - 1];
        }
        in->tok_t0[j] = t;
        in->tok_level[j] = lv;
    }
    in->tok_start[rec + 1] = in->ntok;
}

static void
s_put_block(struct linker_input *in, const uint8_t token[8], uint32_t rec)
{
    in->blocks[in->nblocks++] = linker_block_key(s_load64(token), rec);
}

int
linker_input_add(struct linker_input *in, int ds, const Crosslink__Record *r)
{
    uint32_t rec = (uint32_t)in->nrec;

    if (r->clk.len != xl_spec_clk_bytes(in->spec))
        return XL_ERR_FORMAT;
    if (s_room_records(in, 1) != 0 || s_grow((void **)&in->blocks, &in->capblocks,
                                             in->nblocks + r->n_blocks, sizeof *in->blocks, 0) != 0)
        return XL_ERR_NOMEM;
    s_put_record(in, ds, r->clk.data, r->clk.len);
    for (size_t i = 0; i < r->n_keys; i++) {
        const Crosslink__MatchKey *k = r->keys[i];
        if (k->token.len == XL_TOKEN_BYTES && s_put_key(in, k->level, k->token.data, rec) != 0)
            return XL_ERR_NOMEM;
    }
    s_end_tokens(in, rec);
    for (size_t i = 0; i < r->n_blocks; i++)
        if (r->blocks[i].len >= 8)
            s_put_block(in, r->blocks[i].data, rec);
    return 0;
}

int
linker_input_add_columns(struct linker_input *in, int ds, const struct linker_columns *c)
{
    uint32_t base = (uint32_t)in->nrec, r = 0;

    if (c->clk_bytes != xl_spec_clk_bytes(in->spec))
        return XL_ERR_FORMAT;
    if ((uint64_t)in->nrec + c->n > UINT32_MAX)
        return XL_ERR_TOOBIG;
    if (s_room_records(in, c->n) != 0 ||
        s_grow((void **)&in->blocks, &in->capblocks, in->nblocks + c->nblocks, sizeof *in->blocks,
               0) != 0)
        return XL_ERR_NOMEM;
    for (uint32_t i = 0; i < c->n; i++)
        s_put_record(in, ds, c->clk + (size_t)i * c->clk_bytes, c->clk_bytes);
    for (uint32_t i = 0; i < c->nkeys; i++) {
        const uint8_t *k = c->keys + (size_t)i * LINKER_COLUMNS_KEY_BYTES;
        uint32_t kr = linker_columns_u32(k);
        if (kr < r)
            return XL_ERR_FORMAT; /* keys come in record order (columns.h) */
        for (; r < kr; r++)
            s_end_tokens(in, base + r);
        if (s_put_key(in, linker_columns_u32(k + 4), k + 8, base + kr) != 0)
            return XL_ERR_NOMEM;
    }
    for (; r < c->n; r++)
        s_end_tokens(in, base + r);
    for (uint32_t i = 0; i < c->nblocks; i++) {
        const uint8_t *b = c->blocks + (size_t)i * LINKER_COLUMNS_BLK_BYTES;
        s_put_block(in, b + 4, base + linker_columns_u32(b));
    }
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
        if (o->nconflicts < LINKER_CONFLICTS_KEPT) {
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

/* ---- scoring ------------------------------------------------------------------- */

/* Candidate pairs EM runs over at most: a sample spread over all of them. */
#define S_EM_SAMPLE (2u << 20)
/* Candidates a record keeps at most (the most alike). */
#define S_BOUND 64

/* A link's score as a key that sorts the strongest first: the float's bits
 * made to order as an unsigned number, then turned over (-0 is 0, as scores
 * compare). */
static inline uint64_t
s_score_key(float f)
{
    uint32_t u;

    f = f == 0.0f ? 0.0f : f;
    memcpy(&u, &f, sizeof u);
    u = (u & 0x80000000u) ? ~u : u | 0x80000000u;
    return (uint64_t)(uint32_t)~u;
}

#define S_KEY_PAIR(x)  ((uint64_t)(x).a << 32 | (x).b)
#define S_KEY_SCORE(x) s_score_key((x).score)
LINKER_RADIX_SORTS(s_sort_by_pair, struct linker_link, S_KEY_PAIR)
LINKER_RADIX_SORTS(s_sort_by_score, struct linker_link, S_KEY_SCORE)

int
linker_links_sort(struct linker_link **v, size_t *cap, size_t n)
{
    struct linker_link *tmp, *r;

    if (n < 2)
        return 0;
    tmp = linker_big_alloc(n * sizeof *tmp);
    if (tmp == NULL)
        return XL_ERR_NOMEM;
    /* By pair, then (stable) by score: the order of score, a, b. */
    r = s_sort_by_pair(*v, tmp, n, 0, 64);
    r = s_sort_by_score(r, r == *v ? tmp : *v, n, 0, 32);
    if (r == *v) {
        free(tmp);
    } else {
        free(*v);
        *v = r;
        *cap = n;
    }
    return 0;
}

struct s_scored {
    struct linker_link *accepted, *possible;
    size_t naccepted, npossible, capa, capp;
};

/* The weights of comparison vectors already met, by code: candidates carry a
 * few thousand distinct vectors among millions of pairs, so each is decoded
 * and weighed about once. Direct-mapped; a clash only weighs again. */
#define S_WEIGHT_MEMO 8192

/* Match probabilities are summed in units of 2^-24, as whole numbers: a sum
 * then does not depend on the order it was taken in, so the expected
 * precision and recall are the same on any number of threads (a double's sum
 * is not). 2^35 pairs at most (2^31 records, 32 each) fit in 64 bits. */
#define S_PSUM_ONE 16777216.0

/* A vector's weight, probability, and what the scoring sums of them, side
 * by side (40 bytes, where an array each put them five cache lines apart). */
struct s_weighed {
    uint64_t code; /* code + 1; 0: empty */
    double w, p;
    uint64_t pu; /* p in units of 1 / S_PSUM_ONE */
    int bin;     /* w's bin of the weight histogram */
};

struct s_weight_memo {
    struct s_weighed e[S_WEIGHT_MEMO];
};

static const struct s_weighed *
s_memo_weigh(struct s_weight_memo *memo, const struct linker_model *m, uint64_t code)
{
    struct s_weighed *e = &memo->e[(code * 0x9e3779b97f4a7c15ull) >> 51]; /* 13 bits */
    uint8_t gamma[LINKER_MAX_FEATURES];

    if (e->code != code + 1) {
        int bin;
        linker_gamma_decode(m, code, gamma);
        e->code = code + 1;
        e->w = linker_weight(m, gamma);
        e->p = linker_weight_to_prob(e->w);
        e->pu = (uint64_t)llround(e->p * S_PSUM_ONE);
        bin = (int)floor(e->w) - LINKER_WEIGHT_MIN;
        e->bin = bin < 0 ? 0 : bin >= LINKER_WEIGHT_BINS ? LINKER_WEIGHT_BINS - 1 : bin;
    }
    return e;
}

/* One thread's share of the candidates, scored: its accepted and possible
 * pairs in candidate order, its weights' histogram and its sums. */
struct s_score_part {
    struct s_scored sc;
    uint64_t hist[LINKER_WEIGHT_BINS];
    uint64_t psum_all, psum_acc;
    int rc;
};

struct s_scoring {
    const struct linker_input *in;
    const struct linker_model *m;
    const struct linker_tokens *tok;
    const struct linker_candidates *c;
    struct linker_link *candidates; /* every pair's probability, when kept */
    struct s_score_part part[LINKER_MAX_THREADS];
};

/* Pairs ahead of the one weighed whose records' tokens are fetched. */
#define S_SCORE_AHEAD 16

/* Pair i's weight looked up ahead; when it is linked or possible, where its
 * records' token lists start is fetched, and hot says so. */
static void
s_score_ahead(const struct linker_model *m, const struct linker_tokens *tok,
              const struct linker_candidates *c, struct s_weight_memo *memo, size_t i, uint8_t *hot)
{
    double w = s_memo_weigh(memo, m, linker_candidate_code(c, i))->w;

    hot[i % S_SCORE_AHEAD] = w >= m->possible_weight || w >= m->accept_weight;
    if (hot[i % S_SCORE_AHEAD]) {
        linker_tokens_prefetch(tok, (uint32_t)(c->pair[i] >> 32), 0);
        linker_tokens_prefetch(tok, (uint32_t)c->pair[i], 0);
    }
}

static void
s_score_share(void *arg, unsigned t, unsigned nt)
{
    struct s_scoring *G = arg;
    struct s_score_part *P = &G->part[t];
    struct s_scored *sc = &P->sc;
    const struct linker_model *m = G->m;
    const struct linker_candidates *c = G->c;
    struct s_weight_memo *memo = calloc(1, sizeof *memo);
    uint8_t hot[S_SCORE_AHEAD];
    size_t lo, hi;

    if (memo == NULL) {
        P->rc = XL_ERR_NOMEM;
        return;
    }
    linker_share(c->n, t, nt, &lo, &hi);
    for (size_t i = lo; i < hi && i < lo + S_SCORE_AHEAD; i++)
        s_score_ahead(m, G->tok, c, memo, i, hot);
    for (size_t i = lo; i < hi; i++) {
        uint32_t a = (uint32_t)(c->pair[i] >> 32), b = (uint32_t)c->pair[i];
        const struct s_weighed *e;
        /* What naming a link's evidence reads (linker_shared_level) is
         * anywhere in memory, a chain of reads each waiting on the last:
         * fetched ahead for the pairs whose weight says they will need it */
        if (i + S_SCORE_AHEAD / 2 < hi && hot[(i + S_SCORE_AHEAD / 2) % S_SCORE_AHEAD]) {
            uint64_t q = c->pair[i + S_SCORE_AHEAD / 2];
            linker_tokens_prefetch(G->tok, (uint32_t)(q >> 32), 1);
            linker_tokens_prefetch(G->tok, (uint32_t)q, 1);
        }
        if (i + S_SCORE_AHEAD < hi)
            s_score_ahead(m, G->tok, c, memo, i + S_SCORE_AHEAD, hot);
        /* looked up again, not kept from the look ahead: a clash since then
         * may have put another vector in that entry (a look-up that finds its
         * vector is a hash and a compare) */
        e = s_memo_weigh(memo, m, linker_candidate_code(c, i));
        double w = e->w, p = e->p;
        uint64_t pu = e->pu;
        P->psum_all += pu;
        P->hist[e->bin]++;
        if (G->candidates != NULL)
            G->candidates[i] = (struct linker_link){a, b, (float)p, 0};
        if (w < m->possible_weight && w < m->accept_weight)
            continue;
        {
            struct linker_link l = {a, b, (float)p, linker_shared_level(m, G->tok, a, b)};
            if (w >= m->accept_weight) {
                P->psum_acc += pu;
                if (s_grow((void **)&sc->accepted, &sc->capa, sc->naccepted + 1,
                           sizeof *sc->accepted, 0) != 0)
                    goto nomem;
                /* Ordered by weight, which keeps its resolution where the
                 * probability rounds to 1: the score field carries it for the
                 * sort and is set back to the probability afterwards. */
                l.score = (float)w;
                sc->accepted[sc->naccepted++] = l;
            } else {
                if (s_grow((void **)&sc->possible, &sc->capp, sc->npossible + 1,
                           sizeof *sc->possible, 0) != 0)
                    goto nomem;
                sc->possible[sc->npossible++] = l;
            }
        }
    }
    free(memo);
    return;
nomem:
    P->rc = XL_ERR_NOMEM;
    free(memo);
}

/* Every candidate pair weighed, a share of them on each thread; the shares'
 * pairs put together in candidate order, as one thread would have found
 * them. */
static int
s_score(struct s_run *r, const struct linker_model *m, const struct linker_tokens *tok,
        const struct linker_candidates *c, struct s_scored *sc)
{
    const struct linker_input *in = r->in;
    struct linker_result *o = r->out;
    struct s_scoring *G = calloc(1, sizeof *G);
    unsigned nt = linker_threads(in->threads);
    uint64_t psum_all = 0, psum_acc = 0;
    size_t na = 0, np = 0;
    int rc = XL_ERR_NOMEM;

    if (G == NULL)
        return XL_ERR_NOMEM;
    *G = (struct s_scoring){.in = in, .m = m, .tok = tok, .c = c};
    if (in->keep_candidates) {
        o->candidates = malloc((c->n ? c->n : 1) * sizeof *o->candidates);
        if (o->candidates == NULL)
            goto out;
        G->candidates = o->candidates;
        o->ncandidates = c->n;
    }
    linker_parallel(nt, s_score_share, G);
    for (unsigned t = 0; t < nt; t++) {
        if (G->part[t].rc != 0)
            goto out;
        na += G->part[t].sc.naccepted;
        np += G->part[t].sc.npossible;
    }
    sc->accepted = malloc((na ? na : 1) * sizeof *sc->accepted);
    sc->possible = malloc((np ? np : 1) * sizeof *sc->possible);
    if (sc->accepted == NULL || sc->possible == NULL)
        goto out;
    sc->capa = na ? na : 1;
    sc->capp = np ? np : 1;
    for (unsigned t = 0; t < nt; t++) {
        const struct s_score_part *P = &G->part[t];
        if (P->sc.naccepted > 0)
            memcpy(sc->accepted + sc->naccepted, P->sc.accepted,
                   P->sc.naccepted * sizeof *sc->accepted);
        if (P->sc.npossible > 0)
            memcpy(sc->possible + sc->npossible, P->sc.possible,
                   P->sc.npossible * sizeof *sc->possible);
        sc->naccepted += P->sc.naccepted;
        sc->npossible += P->sc.npossible;
        for (int b = 0; b < LINKER_WEIGHT_BINS; b++)
            o->weight_hist[b] += P->hist[b];
        psum_all += P->psum_all;
        psum_acc += P->psum_acc;
    }
    o->comparisons = c->n;
    o->accepted = sc->naccepted;
    o->expected_precision =
        sc->naccepted ? (double)psum_acc / S_PSUM_ONE / (double)sc->naccepted : 1.0;
    o->expected_recall = psum_all > 0 ? (double)psum_acc / (double)psum_all : 1.0;
    rc = 0;
out:
    for (unsigned t = 0; t < nt; t++) {
        free(G->part[t].sc.accepted);
        free(G->part[t].sc.possible);
    }
    free(G);
    return rc;
}

/* ---- clustering ----------------------------------------------------------------- */

/* Two groups of several records each join on one link only when it is an
 * identifier link; otherwise at least this share of the smaller group's
 * records, and never fewer than two, must have a link into the other group. */
#define S_SUPPORT_SHARE 0.5

struct s_adj {
    size_t *start;
    uint32_t *nb;
};

static int
s_adj_build(struct s_adj *g, size_t nrec, const struct linker_link *l, size_t n)
{
    size_t *fill;

    g->start = calloc(nrec + 1, sizeof *g->start);
    g->nb = malloc((n > 0 ? 2 * n : 1) * sizeof *g->nb);
    fill = malloc((nrec ? nrec : 1) * sizeof *fill);
    if (g->start == NULL || g->nb == NULL || fill == NULL) {
        free(fill);
        return XL_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        g->start[l[i].a + 1]++;
        g->start[l[i].b + 1]++;
    }
    for (size_t r = 0; r < nrec; r++)
        g->start[r + 1] += g->start[r];
    memcpy(fill, g->start, nrec * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        g->nb[fill[l[i].a]++] = l[i].b;
        g->nb[fill[l[i].b]++] = l[i].a;
    }
    free(fill);
    return 0;
}

/* Records of the smaller group with a link into the other. */
static size_t
s_support(struct s_run *r, const struct s_adj *g, const uint32_t *next, uint32_t small,
          uint32_t other)
{
    size_t n = 0;
    uint32_t x = small;

    do {
        for (size_t i = g->start[x]; i < g->start[x + 1]; i++) {
            if (s_find(&r->uf, g->nb[i]) == other) {
                n++;
                break;
            }
        }
        x = next[x];
    } while (x != small);
    return n;
}

static int
s_cluster(struct s_run *r, struct s_scored *sc)
{
    const struct linker_input *in = r->in;
    struct linker_result *o = r->out;
    struct s_adj g = {0};
    uint32_t *next = malloc((in->nrec ? in->nrec : 1) * sizeof *next);
    int rc = XL_ERR_NOMEM;

    if (next == NULL || s_adj_build(&g, in->nrec, sc->accepted, sc->naccepted) != 0)
        goto out;
    for (uint32_t i = 0; i < in->nrec; i++)
        next[i] = i;
    /* Strongest first: identifier links, then by weight. */
    for (size_t i = 0; i < sc->naccepted; i++) {
        struct linker_link *l = &sc->accepted[i];
        if (l->level != 0 && xl_spec_level(in->spec, l->level) != NULL &&
            xl_spec_level(in->spec, l->level)->strong)
            l->score += 1e6f;
    }
    if (linker_links_sort(&sc->accepted, &sc->capa, sc->naccepted) != 0) {
        rc = XL_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < sc->naccepted; i++) {
        struct linker_link *l = &sc->accepted[i];
        int identifier = l->score >= 1e5f;
        double w = identifier ? l->score - 1e6f : l->score;
        uint32_t ra = s_find(&r->uf, l->a), rb = s_find(&r->uf, l->b);
        uint32_t sa = r->uf.size[ra], sb = r->uf.size[rb];
        float p = (float)linker_weight_to_prob(w);
        if (ra == rb)
            continue;
        if (!identifier && sa > 1 && sb > 1) {
            uint32_t small = sa <= sb ? ra : rb, other = sa <= sb ? rb : ra;
            size_t need = (size_t)ceil(S_SUPPORT_SHARE * (sa <= sb ? sa : sb));
            if (need < 2)
                need = 2;
            if (s_support(r, &g, next, small, other) < need) {
                o->joins_refused++;
                continue;
            }
        }
        rc = s_join(r, l->a, l->b, l->level, p);
        if (rc != 0)
            goto out;
        if (s_find(&r->uf, l->a) == s_find(&r->uf, l->b) && ra != rb) {
            uint32_t t = next[ra];
            next[ra] = next[rb];
            next[rb] = t;
        }
    }
    /* The possible band: pairs still apart after linking, each once. */
    if (linker_links_sort(&sc->possible, &sc->capp, sc->npossible) != 0) {
        rc = XL_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < sc->npossible; i++) {
        if (s_find(&r->uf, sc->possible[i].a) == s_find(&r->uf, sc->possible[i].b))
            continue;
        if (s_grow((void **)&o->possible, &r->cappossible, o->npossible + 1, sizeof *o->possible,
                   0) != 0)
            goto out;
        o->possible[o->npossible++] = sc->possible[i];
    }
    rc = 0;
out:
    free(next);
    free(g.start);
    free(g.nb);
    return rc;
}

/* ---- the run ------------------------------------------------------------------ */

int
linker_match_run(const struct linker_input *in, struct linker_result *o, char *err, size_t errlen)
{
    const struct xl_spec *spec = in->spec;
    struct s_run r = {.in = in, .out = o};
    struct s_uf *u = &r.uf;
    struct linker_model *m = NULL;
    struct linker_tokens *tok = NULL;
    struct linker_candidates cand = {0};
    struct s_scored sc = {0};
    uint16_t *segpop = NULL;
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
    o->model = m = calloc(1, sizeof *m);
    if (u->parent == NULL || u->size == NULL || u->minrec == NULL || u->mask == NULL ||
        u->strong == NULL || o->cluster == NULL || m == NULL) {
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
    linker_model_init(m, in);
    segpop = linker_segment_pops(m, in);
    tok = linker_tokens_new(in, m);
    if (segpop == NULL || tok == NULL ||
        linker_candidates_find(in, m, segpop, tok, S_BOUND, &cand) != 0) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "link run: out of memory finding candidates");
        goto out;
    }
    o->keys = cand.keys;
    o->raw_pairs = cand.raw_pairs;
    o->windowed = cand.windowed;
    o->bounded = cand.bounded;
    o->max_per_record = cand.max_per_record;
    o->mean_per_record = cand.mean_per_record;
    o->lsh_bands = cand.bands;
    o->lsh_bits = cand.bits;
    o->exhaustive = cand.exhaustive;
    o->every_pair = cand.every_pair;
    o->seconds_candidates = xl_monotonic() - t0;

    /* m and u from the comparison vectors of a sample of the candidates spread
     * over all of them (the vectors were found with the candidates). */
    t0 = xl_monotonic();
    {
        size_t ns = cand.n < S_EM_SAMPLE ? cand.n : S_EM_SAMPLE;
        uint64_t *codes = malloc((ns ? ns : 1) * sizeof *codes);
        if (codes == NULL) {
            xl_err_set(err, errlen, XL_ERR_NOMEM, "link run: out of memory estimating the model");
            goto out;
        }
        for (size_t i = 0; i < ns; i++)
            codes[i] =
                linker_candidate_code(&cand, (size_t)((double)i * (double)cand.n / (double)ns));
        rc = linker_model_estimate(m, in, segpop, tok, codes, ns, cand.n);
        free(codes);
        if (rc != 0) {
            xl_err_set(err, errlen, rc, "link run: out of memory estimating the model");
            goto out;
        }
        rc = XL_ERR_NOMEM;
    }
    o->seconds_model = xl_monotonic() - t0;
    t0 = xl_monotonic();
    rc = s_score(&r, m, tok, &cand, &sc);
    o->seconds_score = xl_monotonic() - t0;
    if (rc != 0) {
        xl_err_set(err, errlen, rc, "link run: out of memory scoring candidates");
        goto out;
    }
    t0 = xl_monotonic();
    rc = s_cluster(&r, &sc);
    if (rc != 0) {
        xl_err_set(err, errlen, rc, "link run: out of memory clustering");
        goto out;
    }
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
    free(segpop);
    free(sc.accepted);
    free(sc.possible);
    linker_tokens_free(&tok);
    linker_candidates_free(&cand);
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
    free(r->model);
    memset(r, 0, sizeof *r);
}
