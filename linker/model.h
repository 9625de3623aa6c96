/* The probabilistic model of a link run (Fellegi–Sunter).
 *
 * Two records are compared segment by segment: the Dice score of the two
 * records' segments falls in a similarity level (same, close, weak,
 * different; missing when either record has no value, or when a segment is
 * salted with a field the two records differ in); a match-key token the two
 * share says the segments its level covers are the same, whatever their bits
 * say; a strong identifier (NHS number, UPN) agrees, disagrees or is missing.
 * Each level of each feature has m, its chance when the records are the same
 * child, and u, its chance when they are not. The pair's match weight is log2
 * of the prior odds plus log2(m/u) of each level; its match probability is
 * 2^w / (1 + 2^w).
 *
 * m and u are estimated from the data at every run: u from random pairs of
 * records (almost all are different children); m by expectation–maximisation
 * over a sample of the candidate pairs, with the non-matching candidates' own
 * frequencies fitted beside it (blocking chose them for being alike), then
 * each segment's m measured again among the pairs the other features make
 * near-certain; the prior from EM's share of matches among the candidates.
 * docs/matching.md explains why. Nothing is tuned to a data set. */
#ifndef LINKER_MODEL_H
#define LINKER_MODEL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "match.h"

enum linker_level {
    LINKER_LEVEL_MISSING = 0,
    LINKER_LEVEL_DIFFERENT,
    LINKER_LEVEL_WEAK,
    LINKER_LEVEL_CLOSE,
    LINKER_LEVEL_SAME,
    LINKER_LEVELS
};

/* Every segment a specification can have; strong identifiers are NHS number
 * and UPN. A comparison vector of this many features, coded in base
 * LINKER_LEVELS, fits 64 bits (5^26 < 2^64). */
#define LINKER_MAX_SEGMENTS XL_SPEC_MAX_CLK
#define LINKER_MAX_STRONG   2
#define LINKER_MAX_FEATURES (LINKER_MAX_SEGMENTS + LINKER_MAX_STRONG)

struct linker_feature {
    char name[32];
    int strong;           /* a strong identifier: DIFFERENT, SAME or MISSING only */
    unsigned first, end;  /* CLK segments: the segment's words [first, end) */
    uint32_t fields;      /* CLK segments: the fields mixed in it (bit per xl_field) */
    int salt_feature;     /* CLK segments salted with a field that has a segment of its own:
                           * that segment's feature, else -1 */
    uint8_t level_number; /* strong identifiers: the match-key level */
    double m[LINKER_LEVELS], u[LINKER_LEVELS];
    double w[LINKER_LEVELS]; /* log2(m / u); 0 for MISSING */
};

struct linker_model {
    struct linker_feature f[LINKER_MAX_FEATURES];
    size_t nfeatures, nsegments; /* segments first, then strong identifiers */
    double cut[LINKER_LEVELS];   /* Dice at or above cut[l] is level l (WEAK..SAME) */
    uint32_t level_segs[256];    /* by match-key level number: the segments its token says are the
                                  * same (those whose every field the level compares whole) */
    uint8_t level_class[256];    /* by match-key level number: the level whose tokens it is
                                  * sorted and compared with (a variant's compare) */
    /* What comparing a pair reads, packed apart from the features (whose
     * every field is a cache line away from the next) and in whole numbers,
     * so a comparison is a few hundred instructions of popcounts and table
     * reads: each segment's words [seg_first, seg_end); the least popcount
     * of a segment that is not empty (a missing value leaves only the flip
     * noise); the segments salted with another's field, with
     * that segment, in order; and, by the sum of two segments' popcounts,
     * the least 2c (c their common bits) at or above cut[WEAK], cut[CLOSE]
     * and cut[SAME] times the sum, found by the floating-point test itself
     * so every pair falls in the level that test gives. */
    uint8_t seg_first[LINKER_MAX_SEGMENTS], seg_end[LINKER_MAX_SEGMENTS];
    uint16_t missing_min[LINKER_MAX_SEGMENTS];
    uint8_t salted[LINKER_MAX_SEGMENTS][2];
    size_t nsalted;
    uint16_t least2c[2 * XL_CLK_MAX_BITS + 1][3];
    double lambda;          /* chance that two records drawn at random match */
    double prior;           /* log2(lambda / (1 - lambda)) */
    double candidate_share; /* share of the candidate pairs that match, by EM */
    uint64_t u_pairs, em_pairs, em_patterns;
    int em_iterations;
    double accept_weight, possible_weight; /* the thresholds as match weights */
};

/* Sets up the features for the input's specification (no estimates yet). */
void linker_model_init(struct linker_model *m, const struct linker_input *in);

/* Per record and segment, the popcount (nrec * nsegments), for linker_compare. */
uint16_t *linker_segment_pops(const struct linker_model *m, const struct linker_input *in);

/* What the comparison reads of the records' match-key tokens: their lists,
 * the input's own (linker_input.tok_t0), with each level's segments and
 * class, and a table of the strong identifiers. Built once per run; reads
 * the input and the model, which must outlive it. */
struct linker_tokens;
struct linker_tokens *linker_tokens_new(const struct linker_input *in,
                                        const struct linker_model *m);
void linker_tokens_free(struct linker_tokens **t);

/* The comparison vector of records a and b: one level per feature into gamma.
 * Returns the Dice score of the whole filters (for ranking candidates). */
double linker_compare(const struct linker_model *m, const struct linker_input *in,
                      const uint16_t *segpop, const struct linker_tokens *tok, uint32_t a,
                      uint32_t b, uint8_t *gamma);

/* linker_compare for a pair whose shared match-key tokens are known: shared
 * is the union of their levels' level_segs. Reads no token lists. */
double linker_compare_shared(const struct linker_model *m, const struct linker_input *in,
                             const uint16_t *segpop, const struct linker_tokens *tok, uint32_t a,
                             uint32_t b, uint32_t shared, uint8_t *gamma);

/* Asks the cache for what comparing with record r reads (its filter and
 * identifiers), some pairs ahead of the comparison. */
void linker_compare_prefetch(const struct linker_input *in, const struct linker_tokens *tok,
                             uint32_t r);

/* The same for record r's token list, which linker_compare merges: far ahead
 * (near 0) where it starts and its strong identifiers, nearer (near 1) the
 * list. */
void linker_tokens_prefetch(const struct linker_tokens *tok, uint32_t r, int near);

/* The segments a match-key token both records carry says are the same
 * (level_segs of its level), for every such token (strong identifiers aside:
 * they cover no segment). */
uint32_t linker_shared_segs(const struct linker_tokens *tok, uint32_t a, uint32_t b);

/* The level that names a link's evidence: a strong identifier's level when
 * the two agree on it, else the strongest match-key level whose token both
 * carry, else 0 (probabilistic evidence alone). */
uint8_t linker_shared_level(const struct linker_model *m, const struct linker_tokens *tok,
                            uint32_t a, uint32_t b);

/* A comparison vector as one number (base LINKER_LEVELS), and back. */
static inline uint64_t
linker_gamma_code(const struct linker_model *m, const uint8_t *gamma)
{
    uint64_t c = 0;

    for (size_t f = 0; f < m->nfeatures; f++)
        c = c * LINKER_LEVELS + gamma[f];
    return c;
}
void linker_gamma_decode(const struct linker_model *m, uint64_t code, uint8_t *gamma);
/* Whether a vector's code can need more than 32 bits: more than 13 features
 * (5^13 < 2^32), which this repository's specifications never have. */
static inline int
linker_gamma_wide(const struct linker_model *m)
{
    uint64_t most = 1;

    for (size_t f = 0; f < m->nfeatures; f++)
        most *= LINKER_LEVELS;
    return most - 1 > UINT32_MAX;
}

/* Match weight of a comparison vector. */
double linker_weight(const struct linker_model *m, const uint8_t *gamma);

/* Estimates u from random pairs, then m and the share of matches among the
 * candidates by EM over the comparison vectors of the candidate pairs (codes:
 * n coded vectors, linker_gamma_code, of ncandidates), and from that share
 * the prior of two random records matching. */
int linker_model_estimate(struct linker_model *m, const struct linker_input *in,
                          const uint16_t *segpop, const struct linker_tokens *tok,
                          const uint64_t *codes, size_t n, uint64_t ncandidates);

/* A match probability as a weight, and back. */
double linker_prob_to_weight(double p);
double linker_weight_to_prob(double w);

/* The model's part of the operator's report: how candidates were found, m, u
 * and the weight of every field and level, the distribution of match weights
 * with the thresholds marked, and what the model expects of the threshold. */
void linker_model_report(FILE *out, const struct linker_result *res);

/* Name of a level for reports ("same", "close", ...). */
const char *linker_level_name(int level);

#endif
