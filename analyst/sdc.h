/* Statistical disclosure control for the analyst's summary tables.
 *
 * A summary is a set of cells (counts of children) and the relations among
 * them: "this total is the sum of these parts". Some cells are displayed; others
 * are hidden but implied by a relation (yes + no = known shows yes and known, so
 * no = known - yes). analyst_sdc_apply decides, for every displayed cell, whether
 * it is shown (rounded) or suppressed, by these rules:
 *
 *  1. Threshold (primary suppression): a count below min_count is suppressed.
 *     A zero is a count below the threshold like any other ("none of the cohort"
 *     can itself disclose), so zeros are suppressed whenever min_count > 0 --
 *     except a structural zero (analyst_sdc_zero): a count that the design of
 *     the extract fixes at zero, which every reader knows without being told.
 *     It is never suppressed, counts as known in every relation, and is never
 *     suppressed to protect another cell.
 *  2. Rounding: every other count is shown rounded to the nearest multiple of
 *     round_to, halves rounded up (13 -> 15, 12 -> 10, 15 -> 15).
 *  3. Secondary suppression: a relation whose cells are all known but one
 *     reveals that one (total minus the parts, or a part as total minus the
 *     others). When the cell it reveals is suppressed, or is a hidden cell below
 *     the threshold (the complement: known - yes < min_count), the smallest
 *     shown displayed cell of that relation (true count; on a tie a part before
 *     the total, then first added) is suppressed too. So a part as large as its
 *     total, whose complement is a protected zero, is suppressed with the zero
 *     and the total stays shown: a reader knows only part <= total, and with
 *     the part and the zero both unknown, total = part + zero does not give
 *     either back. A hidden cell that a relation reveals counts as known in
 *     the other relations it is part of; the rule is applied until no relation
 *     reveals a protected cell.
 *  4. Rates: a rate and its interval are computed from the true counts and
 *     shown only when both numerator and denominator are shown.
 *
 * One set of children is one cell, however many tables print it: the caller
 * passes the same index wherever a count is the same children by definition
 * (the children known to a dataset, in its table, on the overlap diagonal and
 * as a date outcome's denominator). Counts defined differently get cells of
 * their own even when they come out equal (the children with a value and
 * those known to the dataset), related by total = part + rest: the relations,
 * not a shared cell, protect them. A rest that is no one's secret (none
 * without a value says only that the data are complete) is an open cell
 * (analyst_sdc_open): hidden, never protected. A relation with one part ties
 * two cells, which are then suppressed each with the other.
 *
 * min_count 0 and round_to 1 turn the rules off (every count shown as it is).
 * True counts never leave this module except through analyst_sdc_rate's
 * proportion, which is shown only under rule 4. */
#ifndef ANALYST_SDC_H
#define ANALYST_SDC_H

#include <stddef.h>

#define ANALYST_SDC_MIN_COUNT_DEFAULT 10
#define ANALYST_SDC_ROUND_TO_DEFAULT  5

struct analyst_sdc_rules {
    long min_count; /* counts below this are suppressed; 0 = off */
    long round_to;  /* shown counts are rounded to a multiple of this; 1 = off */
};

enum analyst_sdc_state {
    ANALYST_SDC_SHOWN = 0,     /* displayed, rounded */
    ANALYST_SDC_THRESHOLD = 1, /* suppressed: fewer than min_count (rule 1) */
    ANALYST_SDC_SECONDARY = 2, /* suppressed: would reveal a suppressed cell (rule 3) */
    ANALYST_SDC_HIDDEN = 3,    /* not displayed; implied by a relation */
    ANALYST_SDC_STRUCTURAL = 4 /* zero by the extract's design: printed as such, never suppressed */
};

struct analyst_sdc; /* opaque: the cells and relations of one summary */

/* A rate with its 95% Wilson score interval, all in [0, 1]. */
struct analyst_rate {
    int shown; /* 0: withheld (rule 4), and p, lo, hi are 0 */
    double p, lo, hi;
};

/* A new, empty set under rules (copied). NULL when out of memory or when
 * min_count < 0 or round_to < 1. Caller destroys it with analyst_sdc_destroy. */
struct analyst_sdc *analyst_sdc_new(const struct analyst_sdc_rules *rules);

/* Frees s and sets *s to NULL. Accepts NULL and a pointer to NULL. */
void analyst_sdc_destroy(struct analyst_sdc **s);

/* The rules s applies. */
const struct analyst_sdc_rules *analyst_sdc_rules(const struct analyst_sdc *s);

/* Adds a cell holding the true count (>= 0); displayed 0 makes it a hidden
 * cell. Returns its index (>= 0), or XL_ERR_NOMEM / XL_ERR_INVALID. */
int analyst_sdc_cell(struct analyst_sdc *s, long count, int displayed);

/* Adds a structural zero: a count that the extract's design fixes at zero (the
 * comparison group has, by definition, no child in the cohort dataset). Its
 * state is ANALYST_SDC_STRUCTURAL from the start, so a caller may ask for it
 * before analyst_sdc_apply. Returns its index (>= 0), or XL_ERR_NOMEM. */
int analyst_sdc_zero(struct analyst_sdc *s, int displayed);

/* Adds an open cell: hidden, holding the true count (>= 0), and never
 * protected, so a relation may reveal it without anything being suppressed
 * (a zero that says only that the data are complete). Unlike a structural
 * zero it is not known to a reader until a relation reveals it. Returns its
 * index (>= 0), or XL_ERR_NOMEM / XL_ERR_INVALID. */
int analyst_sdc_open(struct analyst_sdc *s, long count);

/* Records that cell total is the sum of the nparts cells in parts (indices from
 * analyst_sdc_cell, analyst_sdc_zero or analyst_sdc_open; one part alone ties
 * two cells). 0, or XL_ERR_INVALID when an index is
 * out of range, nparts is 0, or the true counts do not add up (a bug in the caller), or
 * XL_ERR_NOMEM. */
int analyst_sdc_relation(struct analyst_sdc *s, int total, const int *parts, size_t nparts);

/* Applies rules 1 to 3 to every cell. 0, or XL_ERR_NOMEM / XL_ERR_INTERNAL.
 * Cells and relations added afterwards need another call. */
int analyst_sdc_apply(struct analyst_sdc *s);

/* State of cell i after analyst_sdc_apply. */
enum analyst_sdc_state analyst_sdc_state(const struct analyst_sdc *s, int i);

/* The count to print for cell i: 1 with the rounded count in *shown when the
 * cell is shown, 0 (and *shown = 0) when it is suppressed, hidden or a
 * structural zero (whose words analyst_sdc_reason gives). */
int analyst_sdc_shown(const struct analyst_sdc *s, int i, long *shown);

/* Rule 4: the rate num/den with its interval, from the true counts, when both
 * cells are shown and den > 0; otherwise out->shown = 0. */
void analyst_sdc_rate(const struct analyst_sdc *s, int num, int den, struct analyst_rate *out);

/* A count rounded to the nearest multiple of round_to, halves up. */
long analyst_sdc_round(long count, long round_to);

/* The 95% Wilson score interval for x successes in n trials (n > 0). */
void analyst_wilson(long x, long n, double *lo, double *hi);

/* Plain words for a state: "suppressed: fewer than 10", "suppressed: would
 * reveal a suppressed cell", "0 (none by design)", "shown" or "hidden". Writes into buf (size len)
 * and returns buf. */
const char *analyst_sdc_reason(const struct analyst_sdc *s, enum analyst_sdc_state st, char *buf,
                               size_t len);

#endif
