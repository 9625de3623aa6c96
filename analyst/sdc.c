#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdc.h"
#include "xl/err.h"

struct s_cell {
    long count;
    int displayed;
    int structural; /* zero by the extract's design */
    int open;       /* hidden, and no reader's secret: never protected */
    enum analyst_sdc_state state;
};

/* cells[0] is the total, cells[1..n-1] the parts. */
struct s_relation {
    int *cells;
    size_t n;
};

struct analyst_sdc {
    struct analyst_sdc_rules rules;
    struct s_cell *cells;
    size_t ncells, capcells;
    struct s_relation *rels;
    size_t nrels, caprels;
};

struct analyst_sdc *
analyst_sdc_new(const struct analyst_sdc_rules *rules)
{
    struct analyst_sdc *s;

    if (rules == NULL || rules->min_count < 0 || rules->round_to < 1)
        return NULL;
    s = calloc(1, sizeof *s);
    if (s != NULL)
        s->rules = *rules;
    return s;
}

void
analyst_sdc_destroy(struct analyst_sdc **s)
{
    if (s == NULL || *s == NULL)
        return;
    for (size_t i = 0; i < (*s)->nrels; i++)
        free((*s)->rels[i].cells);
    free((*s)->rels);
    free((*s)->cells);
    free(*s);
    *s = NULL;
}

const struct analyst_sdc_rules *
analyst_sdc_rules(const struct analyst_sdc *s)
{
    return &s->rules;
}

static int
s_add(struct analyst_sdc *s, long count, int displayed, int structural, int open)
{
    if (count < 0 || s->ncells >= (size_t)0x7fffffff)
        return XL_ERR_INVALID;
    if (s->ncells == s->capcells) {
        size_t cap = s->capcells ? 2 * s->capcells : 64;
        struct s_cell *c = realloc(s->cells, cap * sizeof *c);

        if (c == NULL)
            return XL_ERR_NOMEM;
        s->cells = c;
        s->capcells = cap;
    }
    s->cells[s->ncells].count = count;
    s->cells[s->ncells].displayed = displayed != 0;
    s->cells[s->ncells].structural = structural;
    s->cells[s->ncells].open = open;
    s->cells[s->ncells].state = structural  ? ANALYST_SDC_STRUCTURAL
                                : displayed ? ANALYST_SDC_SHOWN
                                            : ANALYST_SDC_HIDDEN;
    return (int)s->ncells++;
}

int
analyst_sdc_cell(struct analyst_sdc *s, long count, int displayed)
{
    return s_add(s, count, displayed, 0, 0);
}

int
analyst_sdc_zero(struct analyst_sdc *s, int displayed)
{
    return s_add(s, 0, displayed, 1, 0);
}

int
analyst_sdc_open(struct analyst_sdc *s, long count)
{
    return s_add(s, count, 0, 0, 1);
}

static int
s_valid(const struct analyst_sdc *s, int i)
{
    return i >= 0 && (size_t)i < s->ncells;
}

int
analyst_sdc_relation(struct analyst_sdc *s, int total, const int *parts, size_t nparts)
{
    long sum = 0;
    int *cells;

    if (nparts == 0 || !s_valid(s, total))
        return XL_ERR_INVALID;
    for (size_t i = 0; i < nparts; i++) {
        if (!s_valid(s, parts[i]))
            return XL_ERR_INVALID;
        sum += s->cells[parts[i]].count;
    }
    if (sum != s->cells[total].count)
        return XL_ERR_INVALID;
    if (s->nrels == s->caprels) {
        size_t cap = s->caprels ? 2 * s->caprels : 32;
        struct s_relation *r = realloc(s->rels, cap * sizeof *r);

        if (r == NULL)
            return XL_ERR_NOMEM;
        s->rels = r;
        s->caprels = cap;
    }
    cells = malloc((nparts + 1) * sizeof *cells);
    if (cells == NULL)
        return XL_ERR_NOMEM;
    cells[0] = total;
    memcpy(cells + 1, parts, nparts * sizeof *cells);
    s->rels[s->nrels].cells = cells;
    s->rels[s->nrels].n = nparts + 1;
    s->nrels++;
    return 0;
}

/* A cell no reader may work out: suppressed, or hidden and below the threshold. */
static int
s_protected(const struct analyst_sdc *s, int i)
{
    const struct s_cell *c = &s->cells[i];

    if (c->state == ANALYST_SDC_THRESHOLD || c->state == ANALYST_SDC_SECONDARY)
        return 1;
    return c->state == ANALYST_SDC_HIDDEN && !c->open && c->count < s->rules.min_count;
}

/* The smallest shown displayed cell of relation r, or -1. On a tie a part
 * goes before the total: a part as large as its total leaves a zero, and
 * what that zero discloses (none without the outcome) is read from the part
 * beside the total, not from the total alone; then the first added. */
static int
s_smallest_shown(const struct analyst_sdc *s, const struct s_relation *r)
{
    int best = -1;
    size_t bestk = 0;

    for (size_t k = 0; k < r->n; k++) {
        int i = r->cells[k];

        if (s->cells[i].state != ANALYST_SDC_SHOWN)
            continue;
        if (best < 0 || s->cells[i].count < s->cells[best].count ||
            (s->cells[i].count == s->cells[best].count &&
             ((k > 0 && bestk == 0) || ((k > 0) == (bestk > 0) && i < best)))) {
            best = i;
            bestk = k;
        }
    }
    return best;
}

/* The cell to suppress so that relation r, which derived a protected cell, no
 * longer does: its smallest shown cell, or, when all its other cells were
 * themselves derived, one from the relation that derived them (depth-first,
 * bounded by the number of relations). */
static int
s_victim(const struct analyst_sdc *s, size_t r, const int *by, int depth)
{
    const struct s_relation *rel = &s->rels[r];
    int v = s_smallest_shown(s, rel);

    if (v >= 0 || depth > (int)s->nrels)
        return v;
    for (size_t k = 0; k < rel->n && v < 0; k++) {
        int i = rel->cells[k];

        if (by[i] >= 0 && (size_t)by[i] != r)
            v = s_victim(s, (size_t)by[i], by, depth + 1);
    }
    return v;
}

/* One pass of rule 3: works out every cell the relations reveal. Returns 1
 * after suppressing one more cell, 0 when nothing protected is revealed, or a
 * negative XL_ERR_*. known and by have one slot per cell. */
static int
s_secondary_pass(struct analyst_sdc *s, unsigned char *known, int *by)
{
    int changed = 1;

    /* A structural zero is known to every reader, shown or not. */
    for (size_t i = 0; i < s->ncells; i++) {
        known[i] =
            s->cells[i].state == ANALYST_SDC_SHOWN || s->cells[i].state == ANALYST_SDC_STRUCTURAL;
        by[i] = -1;
    }
    while (changed) {
        changed = 0;
        for (size_t r = 0; r < s->nrels; r++) {
            const struct s_relation *rel = &s->rels[r];
            size_t unknown = 0;
            int last = -1, v;

            /* Counted per place, not per cell: in total = total + rest (one set
             * of children printed as the total and as a part) the rest is given
             * away only when the total is known. */
            for (size_t k = 0; k < rel->n && unknown < 2; k++) {
                if (!known[rel->cells[k]]) {
                    unknown++;
                    last = rel->cells[k];
                }
            }
            if (unknown != 1)
                continue;
            known[last] = 1;
            by[last] = (int)r;
            changed = 1;
            if (!s_protected(s, last))
                continue;
            v = s_victim(s, r, by, 0);
            if (v < 0)
                return XL_ERR_INTERNAL;
            s->cells[v].state = ANALYST_SDC_SECONDARY;
            return 1;
        }
    }
    return 0;
}

int
analyst_sdc_apply(struct analyst_sdc *s)
{
    unsigned char *known;
    int *by, r = 0;

    for (size_t i = 0; i < s->ncells; i++) {
        struct s_cell *c = &s->cells[i];

        if (c->structural)
            c->state = ANALYST_SDC_STRUCTURAL;
        else if (!c->displayed)
            c->state = ANALYST_SDC_HIDDEN;
        else if (c->count < s->rules.min_count)
            c->state = ANALYST_SDC_THRESHOLD;
        else
            c->state = ANALYST_SDC_SHOWN;
    }
    if (s->ncells == 0)
        return 0;
    known = malloc(s->ncells);
    by = malloc(s->ncells * sizeof *by);
    if (known == NULL || by == NULL) {
        r = XL_ERR_NOMEM;
        goto out;
    }
    /* Each pass that finds a revealed cell suppresses one more: at most ncells passes. */
    for (size_t pass = 0; pass <= s->ncells; pass++) {
        r = s_secondary_pass(s, known, by);
        if (r <= 0)
            goto out;
    }
    r = XL_ERR_INTERNAL;
out:
    free(known);
    free(by);
    return r;
}

enum analyst_sdc_state
analyst_sdc_state(const struct analyst_sdc *s, int i)
{
    return s_valid(s, i) ? s->cells[i].state : ANALYST_SDC_HIDDEN;
}

long
analyst_sdc_round(long count, long round_to)
{
    if (round_to <= 1)
        return count;
    return (count + round_to / 2) / round_to * round_to;
}

int
analyst_sdc_shown(const struct analyst_sdc *s, int i, long *shown)
{
    *shown = 0;
    if (!s_valid(s, i) || s->cells[i].state != ANALYST_SDC_SHOWN)
        return 0;
    *shown = analyst_sdc_round(s->cells[i].count, s->rules.round_to);
    return 1;
}

void
analyst_wilson(long x, long n, double *lo, double *hi)
{
    const double z = 1.959963984540054;
    double p, d, centre, half;

    if (n <= 0) {
        *lo = *hi = 0;
        return;
    }
    p = (double)x / (double)n;
    d = 1 + z * z / (double)n;
    centre = (p + z * z / (2.0 * (double)n)) / d;
    half = z * sqrt(p * (1 - p) / (double)n + z * z / (4.0 * (double)n * (double)n)) / d;
    *lo = centre - half < 0 ? 0 : centre - half;
    *hi = centre + half > 1 ? 1 : centre + half;
}

void
analyst_sdc_rate(const struct analyst_sdc *s, int num, int den, struct analyst_rate *out)
{
    memset(out, 0, sizeof *out);
    if (analyst_sdc_state(s, num) != ANALYST_SDC_SHOWN ||
        analyst_sdc_state(s, den) != ANALYST_SDC_SHOWN || s->cells[den].count <= 0 ||
        s->cells[num].count > s->cells[den].count)
        return;
    out->shown = 1;
    out->p = (double)s->cells[num].count / (double)s->cells[den].count;
    analyst_wilson(s->cells[num].count, s->cells[den].count, &out->lo, &out->hi);
}

const char *
analyst_sdc_reason(const struct analyst_sdc *s, enum analyst_sdc_state st, char *buf, size_t len)
{
    switch (st) {
    case ANALYST_SDC_THRESHOLD:
        snprintf(buf, len, "suppressed: fewer than %ld", s->rules.min_count);
        break;
    case ANALYST_SDC_SECONDARY:
        snprintf(buf, len, "suppressed: would reveal a suppressed cell");
        break;
    case ANALYST_SDC_STRUCTURAL: snprintf(buf, len, "0 (none by design)"); break;
    case ANALYST_SDC_SHOWN: snprintf(buf, len, "shown"); break;
    default: snprintf(buf, len, "hidden"); break;
    }
    return buf;
}
