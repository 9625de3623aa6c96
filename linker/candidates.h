/* Candidate pairs: the pairs of records the model scores.
 *
 * Two records are candidates when they share a key:
 *   - a keyed blocking key of the specification;
 *   - a match-key token (any level, strong identifiers included);
 *   - a locality-sensitive hash band of their CLKs: for two segments, 8 to 60
 *     of their bits at fixed random positions (as many as keep chance buckets
 *     small at this population), so records whose two fields are alike share
 *     a band with a probability that grows steeply with their similarity,
 *     whatever the keyed values say.
 * A key shared by more records than S_BUCKET_ALL pairs each record only with
 * its next neighbours in an order of MinHash signatures (sorted neighbourhood).
 * An input small enough (S_EXHAUSTIVE_PAIRS) has every pair compared instead
 * of the bands.
 *
 * The pairs are written out as found, then sorted once; each distinct pair is
 * compared once (its comparison vector is kept for the model and the scoring)
 * and ranked: those it shares a match-key token with first, then by Dice score
 * of the whole filter. A record keeps at most `bound` candidates, and a pair
 * survives when it is within the bound of both its records, so the work per
 * record is bounded at any population. */
#ifndef LINKER_CANDIDATES_H
#define LINKER_CANDIDATES_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"
#include "model.h"

struct linker_candidates {
    uint64_t *pair; /* a << 32 | b with a < b, distinct, in tile order (candidates.c) */
    /* Each pair's comparison vector (linker_gamma_code): its low 32 bits, and
     * its high 32 where the model's vectors need them (linker_gamma_wide),
     * else NULL. linker_candidate_code puts them together. */
    uint32_t *code, *code_hi;
    size_t n;
    uint64_t keys;      /* keys sorted (blocking keys, tokens, bands) */
    uint64_t raw_pairs; /* pairs emitted before duplicates were removed */
    uint64_t windowed;  /* keys shared by so many records that only neighbours paired */
    uint64_t bounded;   /* pairs dropped by the per-record bound */
    uint32_t max_per_record;
    double mean_per_record;
    unsigned bands, bits; /* the LSH setting (bits: the most any band took) */
    int exhaustive;       /* every pair compared (a small input), no bands */
    int every_pair;       /* every pair kept too (a smaller input still), no bound */
};

static inline uint64_t
linker_candidate_code(const struct linker_candidates *c, size_t i)
{
    return c->code_hi != NULL ? (uint64_t)c->code_hi[i] << 32 | c->code[i] : c->code[i];
}

int linker_candidates_find(const struct linker_input *in, const struct linker_model *m,
                           const uint16_t *segpop, const struct linker_tokens *tok, size_t bound,
                           struct linker_candidates *out);
void linker_candidates_free(struct linker_candidates *c);

#endif
