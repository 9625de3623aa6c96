/* The matching engine: links records of all agencies into clusters, one
 * cluster per child, from the keyed encodings alone.
 *
 *   1. exact cascade: records sharing a match-key token are joined, level by
 *      level in the specification's order (strongest evidence first);
 *   2. fuzzy: records still alone are compared by the Dice coefficient of their
 *      CLKs with the records that share a blocking key, with a popcount bound
 *      that skips pairs which cannot reach the threshold;
 *   3. clustering: union-find over the accepted links, strongest first, with
 *      constraints: two different strong-identifier tokens (NHS number, UPN)
 *      never join one cluster; a dataset that declares one record per person
 *      has at most one record in a cluster (the first, best-evidenced link wins).
 *
 * Deterministic: the same input gives the same clusters, links and counts.
 * The engine works on arrays in memory; loading them from the store and saving
 * the result are the caller's. */
#ifndef LINKER_MATCH_H
#define LINKER_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "crosslink.pb-c.h"
#include "xl/spec.h"

#define LINKER_MAX_DATASETS 64

struct linker_dataset {
    char agency[64];
    char dataset[64];
    int one_per_person;
};

/* A match-key token of one record. */
struct linker_key {
    uint64_t t0, t1; /* the 16-byte token */
    uint32_t rec;
    uint8_t level; /* the record's level (a variant keeps its own number) */
};

struct linker_block {
    uint64_t token;
    uint32_t rec;
};

/* Everything a link run reads. Built with linker_input_new/add; freed with
 * linker_input_free. */
struct linker_input {
    const struct xl_spec *spec;
    struct linker_dataset datasets[LINKER_MAX_DATASETS];
    size_t ndatasets;
    size_t nrec, caprec;
    uint8_t *rec_dataset; /* [nrec] dataset index */
    uint64_t *clk;        /* [nrec * clk_words], 64-byte aligned, zero padded */
    uint16_t *pop;        /* [nrec] popcount of each CLK */
    size_t clk_words;
    /* Match-key tokens kept per level as they arrive, so the cascade reads each
     * level's keys in record order without sorting them first. */
    struct linker_keyset {
        struct linker_key *k;
        size_t n, cap;
    } bylevel[256];
    size_t nkeys;
    struct linker_block *blocks;
    size_t nblocks, capblocks;
    /* Set by a caller that measures blocking (the quality bench): the result
     * then lists every pair the model scored (linker_result.candidates). */
    int keep_candidates;
};

struct linker_input *linker_input_new(const struct xl_spec *spec);
void linker_input_free(struct linker_input **in);
/* Index of the dataset (agency, dataset), adding it when new; -1 when there are
 * LINKER_MAX_DATASETS already. */
int linker_input_dataset(struct linker_input *in, const char *agency, const char *dataset,
                         int one_per_person);
/* Makes room for this many records, keys and blocking keys in all, so that
 * loading a known count does not grow and copy the arrays. */
int linker_input_reserve(struct linker_input *in, size_t records, size_t keys, size_t blocks);
/* Adds one record of dataset ds. XL_ERR_FORMAT for a record whose CLK has the
 * wrong length; XL_ERR_NOMEM. */
int linker_input_add(struct linker_input *in, int ds, const Crosslink__Record *r);

/* Evidence of a link: a match-key level (1..255), or 0 for a fuzzy link. */
struct linker_link {
    uint32_t a, b; /* record indices, a < b */
    float score;   /* Dice score (fuzzy), 1 for exact */
    uint8_t level; /* match-key level; 0 = fuzzy */
};

enum linker_conflict_kind { LINKER_CONFLICT_STRONG_ID, LINKER_CONFLICT_ONE_PER_PERSON };

struct linker_conflict {
    uint32_t a, b;
    uint8_t kind; /* enum linker_conflict_kind */
    uint8_t level;
    float score;
};

/* Bin i holds Dice scores in [i/100, (i+1)/100); bin 100 holds 1.0. */
#define LINKER_SCORE_BINS 101

struct linker_result {
    uint32_t *cluster; /* [nrec] cluster id: the smallest record index in it */
    size_t nclusters;
    struct linker_link *links; /* the links that joined clusters (a spanning forest) */
    size_t nlinks;
    struct linker_link *possible; /* fuzzy pairs in [possible, accept): reported, not linked */
    size_t npossible;
    struct linker_conflict *conflicts;
    size_t nconflicts;
    /* With linker_input.keep_candidates: every distinct pair scored, a < b,
     * score = its match probability. */
    struct linker_link *candidates;
    size_t ncandidates;
    uint64_t links_by_level[256];           /* joins by level; [0] = fuzzy */
    uint64_t score_hist[LINKER_SCORE_BINS]; /* Dice scores of compared pairs */
    uint64_t comparisons;                   /* CLK pairs compared with the kernel */
    uint64_t pruned;                        /* candidate pairs skipped by the popcount bound */
    uint64_t candidates_capped;             /* blocks too large to compare in full */
    double seconds_exact, seconds_fuzzy, seconds_cluster;
    double seconds_compare; /* of seconds_fuzzy: the comparison loops alone */
    const char *kernel;
};

/* Runs the link. result is filled in (free with linker_result_free). */
int linker_match_run(const struct linker_input *in, struct linker_result *out, char *err,
                     size_t errlen);
void linker_result_free(struct linker_result *r);

#endif
