#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bigmem.h"
#include "load.h"
#include "xl/err.h"

/* The arrays the loading fills are written once, front to back, one chunk
 * after another, and the first touch of their pages was most of the loading's
 * time when the machine's memory was cold (3.8 to 6.5 s of it for 3.6M
 * records, 0.9 s warm: docs/matching.md, "Cost"), all on the one loading
 * thread while the other processors waited for the run to start. A second
 * thread makes the pages a little ahead of the loading present (1.9 to 2.3 s
 * cold). It writes nothing, so the two never race for what an array holds;
 * an array that moves (outgrowing its reservation) leaves it populating the
 * old one, which costs only that. */
#define S_AHEAD_BYTES (8u << 20) /* of each array, at most past its end */
#define S_AHEAD_STEP  (1u << 20)
#define S_AHEAD_SPANS 12

struct s_ahead {
    pthread_t thread;
    atomic_int done;
    atomic_size_t count[3]; /* records, tokens and blocking keys loaded so far */
    struct s_span {
        char *p;
        size_t cap, per, made; /* bytes; bytes an item; made present */
        int by;                /* items counted: S_RECORDS, S_TOKENS, S_BLOCKS */
    } span[S_AHEAD_SPANS];
    size_t nspans;
};

enum { S_RECORDS, S_TOKENS, S_BLOCKS };

static void
s_span(struct s_ahead *A, void *p, size_t cap, size_t per, int by)
{
    if (p != NULL && cap > 0 && A->nspans < S_AHEAD_SPANS)
        A->span[A->nspans++] = (struct s_span){p, cap, per, 0, by};
}

static void *
s_ahead_run(void *arg)
{
    struct s_ahead *A = arg;

    while (!atomic_load(&A->done)) {
        size_t count[3] = {atomic_load(&A->count[0]), atomic_load(&A->count[1]),
                           atomic_load(&A->count[2])};
        int moved = 0;
        for (size_t i = 0; i < A->nspans; i++) {
            struct s_span *s = &A->span[i];
            size_t at = count[s->by] * s->per,
                   want = at + S_AHEAD_BYTES < s->cap ? at + S_AHEAD_BYTES : s->cap, step;
            s->made = s->made > at ? s->made : at; /* past it, the loading's own */
            if (want <= s->made)
                continue;
            step = want - s->made < S_AHEAD_STEP ? want - s->made : S_AHEAD_STEP;
            if (linker_big_populate(s->p + s->made, step) != 0)
                s->cap = 0; /* no such advice, or no longer mapped: left alone */
            s->made += step;
            moved = 1;
        }
        if (!moved) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* The helper for l's arrays as reserved, or NULL (none started). */
static struct s_ahead *
s_ahead_start(struct linker_loaded *l)
{
    struct linker_input *in = l->in;
    struct s_ahead *A = calloc(1, sizeof *A);

    if (A == NULL)
        return NULL;
    s_span(A, in->clk, in->caprec * in->clk_words * 8, in->clk_words * 8, S_RECORDS);
    s_span(A, in->tok_t0, in->captok * sizeof *in->tok_t0, sizeof *in->tok_t0, S_TOKENS);
    s_span(A, in->tok_level, in->captok, 1, S_TOKENS);
    s_span(A, in->blocks, in->capblocks * sizeof *in->blocks, sizeof *in->blocks, S_BLOCKS);
    s_span(A, in->tok_start, in->caprec * sizeof *in->tok_start, sizeof *in->tok_start, S_RECORDS);
    s_span(A, in->pop, in->caprec * sizeof *in->pop, sizeof *in->pop, S_RECORDS);
    s_span(A, in->rec_dataset, in->caprec, 1, S_RECORDS);
    s_span(A, l->rec_sub, l->caprec * sizeof *l->rec_sub, sizeof *l->rec_sub, S_RECORDS);
    s_span(A, l->rec_index, l->caprec * sizeof *l->rec_index, sizeof *l->rec_index, S_RECORDS);
    s_span(A, l->refs, l->caprec * sizeof *l->refs, sizeof *l->refs, S_RECORDS);
    if (pthread_create(&A->thread, NULL, s_ahead_run, A) != 0) {
        free(A);
        return NULL; /* loading goes on without it */
    }
    return A;
}

static void
s_ahead_stop(struct s_ahead *A)
{
    if (A == NULL)
        return;
    atomic_store(&A->done, 1);
    pthread_join(A->thread, NULL);
    free(A);
}

struct s_walk {
    struct linker_loaded *l;
    struct s_ahead *ahead; /* or NULL */
    int ds;                /* dataset index of the current submission */
    char *err;
    size_t errlen;
};

static int
s_count(void *ctx, const struct linker_submission *sub)
{
    uint64_t *n = ctx;

    *n += sub->state == LINKER_COMMITTED ? sub->record_count : 0;
    return 0;
}

/* Room for need records in the arrays beside the engine's. */
static int
s_room(struct linker_loaded *l, size_t need)
{
    size_t cap = l->caprec ? l->caprec : 4096;
    void *a, *b, *c;

    if (need <= l->caprec)
        return 0;
    while (cap < need)
        cap *= 2;
    a = realloc(l->rec_sub, cap * sizeof *l->rec_sub);
    if (a != NULL)
        l->rec_sub = a;
    b = a ? realloc(l->rec_index, cap * sizeof *l->rec_index) : NULL;
    if (b != NULL)
        l->rec_index = b;
    c = b ? realloc(l->refs, cap * sizeof *l->refs) : NULL;
    if (c == NULL)
        return XL_ERR_NOMEM;
    l->refs = c;
    l->caprec = cap;
    return 0;
}

static int
s_chunk(void *ctx, const struct linker_submission *sub, uint64_t first, uint64_t n,
        const uint8_t *data, size_t len)
{
    struct s_walk *w = ctx;
    struct linker_loaded *l = w->l;
    struct linker_columns c;
    size_t base = l->in->nrec;
    int r;

    if (l->nsubs == 0 || memcmp(l->subs[l->nsubs - 1], sub->id, LINKER_SUBID_BYTES) != 0) {
        if (l->nsubs == l->capsubs) {
            size_t cap = l->capsubs ? 2 * l->capsubs : 16;
            void *p = realloc(l->subs, cap * sizeof *l->subs);
            if (p == NULL)
                return xl_err_set(w->err, w->errlen, XL_ERR_NOMEM, "link run: out of memory");
            l->subs = p;
            l->capsubs = cap;
        }
        memcpy(l->subs[l->nsubs++], sub->id, LINKER_SUBID_BYTES);
        w->ds = linker_input_dataset(l->in, sub->agency, sub->dataset, sub->one_per_person);
        if (w->ds < 0)
            return xl_err_set(w->err, w->errlen, XL_ERR_TOOBIG, "link run: more than %d datasets",
                              LINKER_MAX_DATASETS);
    }
    if (linker_columns_parse(data, len, &c) != 0 || c.n != n)
        return xl_err_set(w->err, w->errlen, XL_ERR_FORMAT,
                          "link run: the stored columns of %s/%s from record %llu are damaged",
                          sub->agency, sub->dataset, (unsigned long long)first);
    if (s_room(l, base + n) != 0)
        return xl_err_set(w->err, w->errlen, XL_ERR_NOMEM, "link run: out of memory");
    r = linker_input_add_columns(l->in, w->ds, &c);
    if (r == XL_ERR_NOMEM)
        return xl_err_set(w->err, w->errlen, r, "link run: out of memory");
    if (r != 0)
        return xl_err_set(w->err, w->errlen, r,
                          "link run: the stored records of %s/%s are not of this specification",
                          sub->agency, sub->dataset);
    for (uint64_t i = 0; i < n; i++) {
        l->rec_sub[base + i] = (uint32_t)(l->nsubs - 1);
        l->rec_index[base + i] = first + i;
    }
    memcpy(l->refs + base, c.refs, n * XL_REF_BYTES);
    if (w->ahead != NULL) {
        atomic_store(&w->ahead->count[S_RECORDS], l->in->nrec);
        atomic_store(&w->ahead->count[S_TOKENS], l->in->ntok);
        atomic_store(&w->ahead->count[S_BLOCKS], l->in->nblocks);
    }
    return 0;
}

int
linker_load(struct linker_store *st, uint32_t epoch, const struct xl_spec *spec, unsigned threads,
            struct linker_loaded *l, char *err, size_t errlen)
{
    struct s_walk w = {.l = l, .err = err, .errlen = errlen};
    uint64_t total = 0;
    int r;

    l->in = linker_input_new(spec);
    if (l->in == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "link run: out of memory");
    l->in->threads = threads;
    /* Every array reserved once: the committed record counts (of any epoch)
     * bound the run's; about 10 keys and 6 blocking keys a record. */
    r = linker_store_foreach_submission(st, s_count, &total, err, errlen);
    if (r != 0)
        return r;
    if (total > 0 &&
        (linker_input_reserve(l->in, total, total * 10, total * 6) != 0 || s_room(l, total) != 0))
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "link run: out of memory");
    if (total > 0)
        w.ahead = s_ahead_start(l);
    r = linker_store_foreach_columns(st, epoch, s_chunk, &w, err, errlen);
    s_ahead_stop(w.ahead);
    return r;
}

void
linker_loaded_free(struct linker_loaded *l)
{
    linker_input_free(&l->in);
    free(l->subs);
    free(l->rec_sub);
    free(l->rec_index);
    free(l->refs);
    memset(l, 0, sizeof *l);
}
