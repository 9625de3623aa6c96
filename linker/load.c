#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "xl/err.h"

struct s_walk {
    struct linker_loaded *l;
    int ds; /* dataset index of the current submission */
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
    return linker_store_foreach_columns(st, epoch, s_chunk, &w, err, errlen);
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
