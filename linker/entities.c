#include <stdlib.h>
#include <string.h>

#include "entities.h"
#include "xl/err.h"
#include "xl/order.h"

struct s_vote {
    uint64_t prev;
    uint32_t comp;
    uint32_t count;
};

static int
s_by_comp_prev(const void *a, const void *b)
{
    const struct s_vote *x = a, *y = b;

    if (x->comp != y->comp)
        return x->comp < y->comp ? -1 : 1;
    return x->prev < y->prev ? -1 : x->prev > y->prev;
}

/* Strongest claim first: more records, then the older id, then the lower
 * component. */
static int
s_by_claim(const void *a, const void *b)
{
    const struct s_vote *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->prev != y->prev)
        return x->prev < y->prev ? -1 : 1;
    return x->comp < y->comp ? -1 : x->comp > y->comp;
}

int
linker_entities_assign(const uint32_t *comp, const uint64_t *prev, size_t nrec, uint64_t *next_id,
                       uint64_t *out)
{
    struct s_vote *v = malloc((nrec ? nrec : 1) * sizeof *v);
    uint64_t *ids = malloc((nrec ? nrec : 1) * sizeof *ids);
    uint64_t *given = calloc(nrec ? nrec : 1, sizeof *given); /* per component; 0 = none yet */
    uint8_t *taken = calloc(nrec ? nrec : 1, 1);              /* per distinct old id */
    size_t nv = 0, nvotes = 0, nids = 0;

    if (v == NULL || ids == NULL || given == NULL || taken == NULL) {
        free(v);
        free(ids);
        free(given);
        free(taken);
        return XL_ERR_NOMEM;
    }
    for (size_t i = 0; i < nrec; i++) {
        if (prev[i] != 0) {
            v[nv++] = (struct s_vote){prev[i], comp[i], 1};
            ids[nids++] = prev[i];
        }
    }
    /* One vote per (component, old id), counting its records. */
    qsort(v, nv, sizeof *v, s_by_comp_prev);
    for (size_t i = 0; i < nv;) {
        size_t j = i;
        while (j < nv && v[j].comp == v[i].comp && v[j].prev == v[i].prev)
            j++;
        v[nvotes] = v[i];
        v[nvotes++].count = (uint32_t)(j - i);
        i = j;
    }
    qsort(ids, nids, sizeof *ids, xl_u64_cmp);
    {
        size_t u = 0;
        for (size_t i = 0; i < nids; i++) {
            if (u == 0 || ids[u - 1] != ids[i])
                ids[u++] = ids[i];
        }
        nids = u;
    }
    qsort(v, nvotes, sizeof *v, s_by_claim);
    for (size_t i = 0; i < nvotes; i++) {
        const uint64_t *at = bsearch(&v[i].prev, ids, nids, sizeof *ids, xl_u64_cmp);
        size_t k = (size_t)(at - ids);
        if (given[v[i].comp] != 0 || taken[k])
            continue;
        given[v[i].comp] = v[i].prev;
        taken[k] = 1;
    }
    /* Components no old id went to get new ids, in record order. */
    for (size_t i = 0; i < nrec; i++) {
        if (given[comp[i]] == 0)
            given[comp[i]] = (*next_id)++;
        out[i] = given[comp[i]];
    }
    free(v);
    free(ids);
    free(given);
    free(taken);
    return 0;
}
