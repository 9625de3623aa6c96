/* The matching engine: links records of all agencies into clusters, one
 * cluster per child, from the keyed encodings alone.
 *
 *   1. candidates: pairs of records that share a blocking key, a match-key
 *      token or a locality-sensitive hash band of their CLKs, at most a
 *      bounded number per record (candidates.h);
 *   2. scoring: every candidate pair gets a match weight from a Fellegi–Sunter
 *      model over per-field similarity levels, shared match-key tokens and
 *      strong identifiers, with m and u estimated from this run's data
 *      (model.h); pairs at or above the accept probability are links;
 *   3. clustering: links joined strongest first, with constraints: two
 *      different strong-identifier tokens (NHS number, UPN) never join one
 *      cluster; a dataset that declares one record per person has at most one
 *      record in a cluster; and two groups of several records join only when
 *      enough links between them support it, never through one weak link.
 *
 * Deterministic: the same input gives the same clusters, links and counts.
 * The engine works on arrays in memory; loading them from the store and saving
 * the result are the caller's. */
#ifndef LINKER_MATCH_H
#define LINKER_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "columns.h"
#include "crosslink.pb-c.h"
#include "xl/spec.h"

#define LINKER_MAX_DATASETS 64

struct linker_dataset {
    char agency[64];
    char dataset[64];
    int one_per_person;
};

/* A match-key token of one record: its first 8 bytes, all a link run
 * compares (two different tokens agree there by chance once in 2^64 pairs);
 * the other 8 were a third of the run's memory for keys and never read. */
struct linker_key {
    uint64_t t0;
    uint32_t rec;
    uint8_t level; /* the record's level (a variant keeps its own number) */
};

/* A blocking key of one record, in one word: the top LINKER_BLOCK_BITS bits of
 * its token above the record's index, which is below 2^31 (a link run refuses
 * more records). Records share a bucket when those bits agree: with 20 million
 * keys some 0.001 pairs a record more than the whole 8 bytes would give, for
 * half the memory, and the word sorts as it is (candidates.c). */
#define LINKER_BLOCK_BITS 33
#define LINKER_BLOCK_REC  0x7fffffffu /* the bits of the record below them */
static inline uint64_t
linker_block_key(uint64_t token, uint32_t rec)
{
    return (token & (~(uint64_t)0 << (64 - LINKER_BLOCK_BITS))) | (rec & LINKER_BLOCK_REC);
}

static inline uint32_t
linker_block_rec(uint64_t key)
{
    return (uint32_t)(key & LINKER_BLOCK_REC);
}

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
    /* The tokens of strong levels (NHS number, UPN) kept per level as they
     * arrive, in record order: the union-find's and the model's tables of each
     * record's identifier, and their tokens' jobs, read them a level at a time. */
    struct linker_keyset {
        struct linker_key *k;
        size_t n, cap;
    } bylevel[256];
    /* The other match-key tokens, each record's together and in order of
     * token, so that two records' lists intersect in one merge (what two
     * records share, model.h) and the link holds them once: record r's are
     * [tok_start[r], tok_start[r + 1]), each its first 8 bytes and its level. */
    uint64_t *tok_t0;
    uint8_t *tok_level;
    size_t *tok_start; /* [nrec + 1] */
    size_t ntok, captok;
    size_t nkeys;           /* tokens of every level */
    size_t level_keys[256]; /* tokens of each level */
    uint64_t *blocks;       /* linker_block_key */
    size_t nblocks, capblocks;
    /* Set by a caller that measures blocking (the quality bench): the result
     * then lists every pair the model scored (linker_result.candidates). */
    int keep_candidates;
    /* Inputs with at most this many pairs have every pair compared instead of
     * the LSH bands; 0 for the default (candidates.h). Tests set it to 1 to
     * exercise the bands on a small population. */
    uint64_t exhaustive_pairs;
    /* Set by tests: what a pair found through a match-key token shares is read
     * from the two records' token lists, as it is when a pair's key has no
     * room for it (more than 2^27 records, candidates.c). */
    int shared_from_lists;
    /* Threads the run uses: 0 for every processor online (parallel.h). The
     * result is the same whatever the number. */
    unsigned threads;
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
/* Adds a chunk's records from their stored columns (columns.h), as
 * linker_input_add adds them one by one: the same records, keys and blocking
 * keys in the same order. XL_ERR_FORMAT for a CLK of the wrong length;
 * XL_ERR_TOOBIG past 2^32 records; XL_ERR_NOMEM. */
int linker_input_add_columns(struct linker_input *in, int ds, const struct linker_columns *c);

/* Evidence of a link: the strong identifier's level when the two agree on it,
 * else the strongest match-key level whose token both carry, else 0 (the
 * model's evidence alone); and the model's match probability. */
struct linker_link {
    uint32_t a, b; /* record indices, a < b */
    float score;   /* match probability */
    uint8_t level; /* match-key level; 0 = probabilistic only */
};

/* Puts n links in the order clustering takes them: by score, the strongest
 * first, then by a, then by b (radix passes, where a comparison sort took a
 * tenth of clustering's time and more). Needs room for n more links; *v may
 * move, and *cap is then n. XL_ERR_NOMEM. */
int linker_links_sort(struct linker_link **v, size_t *cap, size_t n);

enum linker_conflict_kind { LINKER_CONFLICT_STRONG_ID, LINKER_CONFLICT_ONE_PER_PERSON };

struct linker_conflict {
    uint32_t a, b;
    uint8_t kind; /* enum linker_conflict_kind */
    uint8_t level;
    float score;
};

/* Bin i holds match weights in [i - 40, i - 39); the end bins are open. */
#define LINKER_WEIGHT_BINS 81
#define LINKER_WEIGHT_MIN  (-40)

struct linker_model;

/* Conflicts a run keeps at most in linker_result.conflicts (nconflicts counts
 * them all): a run with millions says what is wrong without holding them all. */
#define LINKER_CONFLICTS_KEPT (1u << 20)

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
    uint64_t links_by_level[256];               /* joins by level; [0] = probabilistic only */
    uint64_t weight_hist[LINKER_WEIGHT_BINS];   /* match weights of the candidate pairs */
    uint64_t comparisons;                       /* candidate pairs scored */
    uint64_t joins_refused;                     /* groups kept apart for want of support */
    uint64_t accepted;                          /* candidate pairs at or above accept */
    double expected_precision, expected_recall; /* of the accept threshold, by the model */
    struct linker_model *model;                 /* the estimated m, u and weights */
    /* Blocking: keys sorted, pairs before and after removing duplicates, the
     * per-record bound's effect, candidates per record. */
    uint64_t keys, raw_pairs, windowed, bounded;
    uint32_t max_per_record;
    double mean_per_record;
    unsigned lsh_bands, lsh_bits; /* 0 when every pair was compared */
    int exhaustive;               /* every pair compared: a small input */
    int every_pair;               /* every pair scored, no bound: a smaller input */
    double seconds_candidates, seconds_model, seconds_score, seconds_cluster;
};

/* Runs the link. result is filled in (free with linker_result_free). */
int linker_match_run(const struct linker_input *in, struct linker_result *out, char *err,
                     size_t errlen);
void linker_result_free(struct linker_result *r);

#endif
