/* The linker's store: one SQLite database (WAL, synchronous=FULL) holding
 * submissions and their chunks.
 *
 * A chunk's data is its records, each as a 4-byte big-endian length followed by
 * the packed Record, so SHA-256 over the chunks' data in seq order is the
 * submission's content hash (the .xle and SubmitBegin definition). Every write
 * is one transaction: a chunk is on disk when linker_store_put_chunk returns.
 *
 * Database errors are XL_ERR_NOSPACE when the filesystem or a quota is full,
 * XL_ERR_UNAVAILABLE when another process holds the database locked past the
 * busy timeout, XL_ERR_NOMEM, and XL_ERR_IO for any other (an I/O error, a
 * damaged file), each with the database path, the step that failed and SQLite's
 * message. A failed write leaves nothing of its transaction behind.
 *
 * The store keeps no state of its own between calls, so two processes (the
 * service and an import) can use one database; SQLite serialises their writes.
 * The store checks sequence and counts; authorisation and the protocol's other
 * checks are the caller's (ingest.c). */
#ifndef LINKER_STORE_H
#define LINKER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "xl/crypto.h"
#include "xl/keyfile.h"
#include "xl/payload.h"

#define LINKER_SUBID_BYTES 16
#define LINKER_SUBID_HEX   (2 * LINKER_SUBID_BYTES)

enum linker_state { LINKER_OPEN = 0, LINKER_COMMITTED = 1, LINKER_SUPERSEDED = 2 };
const char *linker_state_name(enum linker_state s);

/* One row of the submissions table. */
struct linker_submission {
    uint8_t id[LINKER_SUBID_BYTES];
    char agency[XL_NAME_MAX];
    char dataset[XL_NAME_MAX];
    char key_id[XL_KEYID_HEX + 1]; /* key that began it (for an import: the agency's agent key) */
    char source[16];               /* "network" or "import" */
    uint8_t spec[XL_HASH_BYTES];
    uint32_t epoch;
    uint64_t record_count;
    uint8_t content_hash[XL_HASH_BYTES];
    uint32_t chunk_records;
    int one_per_person;
    enum linker_state state;
    uint64_t next_seq; /* first chunk not yet stored */
    uint64_t records_stored;
    int64_t created;   /* unix seconds */
    int64_t committed; /* 0 while open */
    int has_receipt;
    int has_input; /* input_id holds the agent's identity of its input */
    uint8_t input_id[XL_HASH_BYTES];
    int64_t superseded_at; /* unix seconds; 0: not superseded, or before version 3 */
    int64_t purged;        /* unix seconds its chunks were purged; 0: not */
    int has_payload_key;   /* its records' payloads are compact (xl/payload.h) */
    uint8_t payload_key[XL_PAYLOAD_KEY];
};

struct linker_store;

/* What status, link and conflicts say before the service has ever started. */
#define LINKER_STORE_NONE_YET                                                                      \
    "no database yet: the service creates it when it first starts (crosslink-linker serve -c "     \
    "linker.conf); start it, and submit or import, then try again"

/* Opens (creating, mode 0600 under the caller's umask) the database at path
 * and its link columns beside it (path-columns, a cache of the chunks: the
 * columns of chunks without them are made here), creates the tables and
 * prepares the statements. *out is set on success only; caller frees with
 * linker_store_close. */
int linker_store_open(const char *path, struct linker_store **out, char *err, size_t errlen);
/* As linker_store_open for an existing database, without creating the file or
 * its tables (status: it only reads; no link columns are read, a walk makes
 * them from the chunks). XL_ERR_NOTFOUND when there is none,
 * with "PATH: " LINKER_STORE_NONE_YET. */
int linker_store_open_readonly(const char *path, struct linker_store **out, char *err,
                               size_t errlen);
void linker_store_close(struct linker_store **st);

/* The open or committed submission whose identity (agency, dataset,
 * content_hash, record_count, chunk_records, epoch, spec) equals want's, into
 * *out. 0, or XL_ERR_NOTFOUND. Superseded submissions are never matched. */
int linker_store_find(struct linker_store *st, const struct linker_submission *want,
                      struct linker_submission *out, char *err, size_t errlen);
/* The submission with this id. 0, or XL_ERR_NOTFOUND. */
int linker_store_get(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES],
                     struct linker_submission *out, char *err, size_t errlen);

/* Inserts sub as a new open submission (state, next_seq, records_stored and
 * committed are ignored and start at open/0/0/0). attributes is the JSON text
 * of the outcome attribute schema ("[]" when none). XL_ERR_EXISTS for an id in
 * use. */
/* The latest committed or superseded submission of agency/dataset made from
 * the input input_id (agent_input_id): 0 with *out, or XL_ERR_NOTFOUND. */
int linker_store_find_input(struct linker_store *st, const char *agency, const char *dataset,
                            const uint8_t input_id[XL_HASH_BYTES], struct linker_submission *out,
                            char *err, size_t errlen);

int linker_store_create(struct linker_store *st, const struct linker_submission *sub,
                        const char *attributes, char *err, size_t errlen);

/* Outcome of a chunk write. */
struct linker_chunk_result {
    int duplicate; /* the chunk was already stored: nothing written */
    uint64_t next_seq;
    uint64_t records_stored;
};

/* Stores chunk seq of submission id in one transaction, with nrecords records
 * in data (the length-prefixed encoding above) and the same records' link
 * columns in cols (columns.h; the store keeps them as given, in its columns
 * file). seq below next_seq is a
 * duplicate: acknowledged, nothing written. Errors: XL_ERR_NOTFOUND,
 * XL_ERR_SEQUENCE (seq above next_seq; *res holds the expected one),
 * XL_ERR_MISMATCH (the submission is not open, or the records would exceed its
 * record count), XL_ERR_TOOBIG (more than chunk_records records), XL_ERR_INVALID
 * (no records), or a database error (above). Nothing is written on error. */
int linker_store_put_chunk(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES],
                           uint64_t seq, uint64_t nrecords, const uint8_t *data, size_t len,
                           const uint8_t *cols, size_t colslen, struct linker_chunk_result *res,
                           char *err, size_t errlen);

/* The content hash (xl/xle.h) of submission sub: its payload key, then its
 * stored chunk data in seq order; and the number of chunks and records found.
 * Checks each chunk's data parses as length-prefixed records adding up to its
 * record count (XL_ERR_FORMAT otherwise). */
int linker_store_content_hash(struct linker_store *st, const struct linker_submission *sub,
                              uint8_t hash[XL_HASH_BYTES], uint64_t *chunks, uint64_t *records,
                              char *err, size_t errlen);

/* Called inside the commit transaction once the submission is marked
 * committed and the earlier committed submissions of its agency and dataset
 * are marked superseded (their ids in superseded[0..n)). It writes what must
 * accompany the commit (the audit entries) and returns the signed receipt
 * (packed Receipt, malloc'd; the store frees it). Returning non-zero rolls the
 * whole commit back. */
struct linker_commit_hooks {
    int (*seal)(void *ctx, const struct linker_submission *sub,
                const uint8_t (*superseded)[LINKER_SUBID_BYTES], size_t nsuperseded,
                uint8_t **receipt, size_t *receiptlen, char *err, size_t errlen);
    void *ctx;
};

/* Commits open submission id at time `when` in one transaction: state
 * committed, earlier committed submissions of the same agency and dataset
 * superseded, hooks->seal called, its receipt stored. The caller has checked
 * the content (linker_store_content_hash). XL_ERR_NOTFOUND; XL_ERR_MISMATCH when
 * the submission is not open or not all its records are stored; the seal
 * hook's error. On error nothing changes. */
int linker_store_commit(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES], int64_t when,
                        const struct linker_commit_hooks *hooks, char *err, size_t errlen);

/* The stored receipt of id (packed Receipt) into *out (malloc'd, caller frees).
 * XL_ERR_NOTFOUND when the submission or its receipt is absent. */
int linker_store_receipt(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES],
                         uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* The attribute schema (JSON text, malloc'd, caller frees) of id. */
int linker_store_attributes(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES],
                            char **out, char *err, size_t errlen);

/* Calls fn for every submission, ordered by agency, dataset and creation time.
 * A non-zero return from fn stops the walk and is returned. */
int linker_store_foreach_submission(struct linker_store *st,
                                    int (*fn)(void *ctx, const struct linker_submission *sub),
                                    void *ctx, char *err, size_t errlen);

/* Calls fn for every chunk of the committed submissions of epoch, in the
 * order agency, dataset, submission, chunk: its link columns (columns.h;
 * valid during the call only; made from the chunk's records where the columns
 * file has none), its record count n and the index of its first record within
 * its submission. XL_ERR_FORMAT naming the chunk when its records do not
 * unpack. A non-zero return from fn stops the walk and is returned. For the
 * matching engine. */
int linker_store_foreach_columns(struct linker_store *st, uint32_t epoch,
                                 int (*fn)(void *ctx, const struct linker_submission *sub,
                                           uint64_t first, uint64_t n, const uint8_t *cols,
                                           size_t len),
                                 void *ctx, char *err, size_t errlen);

/* Deletes open submission id and its chunks in one transaction (a submission
 * whose stored records do not match its content hash cannot be repaired; the
 * agent sends it again). XL_ERR_NOTFOUND when there is no open submission id. */
int linker_store_discard(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES], char *err,
                         size_t errlen);

/* Commits ever made (a counter kept with them, so it survives a crash). */
/* Retention. Calls fn for each submission due for purging: superseded
 * before `before` (unix seconds), or open with no chunk stored since then
 * (abandoned). A non-zero return from fn stops the walk and is returned. */
int linker_store_purge_due(struct linker_store *st, int64_t before,
                           int (*fn)(void *ctx, const struct linker_submission *sub), void *ctx,
                           char *err, size_t errlen);
/* Purges sub: an open one is discarded whole; a superseded one loses its
 * chunks and is marked purged at `when` (its row, receipt and input identity
 * stay). One transaction. */
int linker_store_purge(struct linker_store *st, const struct linker_submission *sub, int64_t when,
                       char *err, size_t errlen);
/* Gives the pages freed by purges back to the filesystem: an incremental
 * vacuum (a database created with auto_vacuum), or a VACUUM once for an
 * older one (*vacuumed = 1), then a WAL checkpoint. */
int linker_store_reclaim(struct linker_store *st, int *vacuumed, char *err, size_t errlen);
/* Storage by agency and state (purged submissions left out): fn gets the
 * number of submissions and the bytes of their stored chunks. */
int linker_store_storage(struct linker_store *st,
                         int (*fn)(void *ctx, const char *agency, enum linker_state state,
                                   uint64_t submissions, uint64_t bytes),
                         void *ctx, char *err, size_t errlen);

int linker_store_commits(struct linker_store *st, uint64_t *commits, char *err, size_t errlen);
/* *owed = 1 when commits were made after the commits the latest saved link run
 * began with: a link run is owed. */
int linker_store_link_owed(struct linker_store *st, int *owed, char *err, size_t errlen);

/* Copies the write-ahead log into the database file and truncates it; the
 * service calls it when idle. 0 also when a reader keeps it from completing. */
int linker_store_checkpoint(struct linker_store *st, char *err, size_t errlen);

/* ---- link runs --------------------------------------------------------------- */

/* The three groupings a run keeps entity ids for: by strong identifiers
 * alone, by any exact match key, and by every accepted link (the clusters).
 * A project that accepts weaker evidence sees the coarser grouping. */
enum linker_graph { LINKER_GRAPH_IDENTIFIER = 0, LINKER_GRAPH_KEYS = 1, LINKER_GRAPH_ALL = 2 };
#define LINKER_GRAPHS 3

struct linker_run_row {
    int64_t run;
    int64_t started, finished;
    uint32_t epoch;
    uint8_t spec[XL_HASH_BYTES];
    uint64_t records, links, clusters, possible, conflicts;
    uint8_t cluster_hash[XL_HASH_BYTES]; /* SHA-256 of the cluster of each record, in order */
    uint64_t commits;     /* linker_store_commits when the run began: what it has linked */
    uint64_t next_entity; /* the first entity id not yet given, after this run */
};

/* A record's place in the run's result. */
struct linker_run_record {
    const uint8_t *submission; /* LINKER_SUBID_BYTES */
    uint64_t index;            /* within the submission */
    uint64_t cluster;          /* cluster id: the run's index of its first record */
    int linked;                /* 0: alone */
    uint8_t level;             /* best evidence: match-key level, 0 fuzzy */
    float score;
    const uint8_t *ref;             /* local_ref, XL_REF_BYTES */
    uint64_t entity[LINKER_GRAPHS]; /* entities.h */
};

/* Two records a constraint kept apart, with the agencies' local_refs. */
struct linker_run_conflict {
    const uint8_t *submission_a, *submission_b;
    uint64_t index_a, index_b;
    const uint8_t *ref_a, *ref_b; /* XL_REF_BYTES each */
    const char *kind;             /* "strong_id" or "one_per_person" */
    uint8_t level;
    float score;
};

/* Stores a run in one transaction: its row, each record's cluster, and the
 * conflicts; the previous runs' per-record results are removed. *run_id gets
 * the run number. */
int linker_store_run_save(struct linker_store *st, const struct linker_run_row *run,
                          const char *params, const struct linker_run_record *recs, size_t nrecs,
                          const struct linker_run_conflict *conf, size_t nconf, int64_t *run_id,
                          char *err, size_t errlen);
/* A conflict of the latest run, with the agencies' names. */
struct linker_conflict_row {
    char agency_a[XL_NAME_MAX], dataset_a[XL_NAME_MAX];
    char agency_b[XL_NAME_MAX], dataset_b[XL_NAME_MAX];
    uint8_t ref_a[XL_REF_BYTES], ref_b[XL_REF_BYTES];
    char kind[16];
    int level;
    double score;
};
int linker_store_run_conflicts(struct linker_store *st,
                               int (*fn)(void *ctx, const struct linker_conflict_row *row),
                               void *ctx, char *err, size_t errlen);

/* The first entity id no run has given yet (1 before any run). */
int linker_store_next_entity(struct linker_store *st, uint64_t *next, char *err, size_t errlen);
/* Calls fn for every record of the latest run with its dataset, local_ref and
 * entity ids (what the next run carries entity ids over by). */
int linker_store_run_entities(struct linker_store *st,
                              int (*fn)(void *ctx, const char *agency, const char *dataset,
                                        const uint8_t *ref, const uint64_t entity[LINKER_GRAPHS]),
                              void *ctx, char *err, size_t errlen);
/* Calls fn for every submission whose records run `run` linked (ordered by
 * agency, dataset and id): committed then, perhaps superseded since. */
int linker_store_run_submissions(struct linker_store *st, int64_t run,
                                 int (*fn)(void *ctx, const struct linker_submission *sub),
                                 void *ctx, char *err, size_t errlen);
/* Calls fn for each record of submission id in run `run`, in index order:
 * level is its best evidence (-1: not linked), entity its entity ids. */
int linker_store_run_rows(struct linker_store *st, int64_t run,
                          const uint8_t id[LINKER_SUBID_BYTES],
                          int (*fn)(void *ctx, uint64_t index, int level,
                                    const uint64_t entity[LINKER_GRAPHS]),
                          void *ctx, char *err, size_t errlen);
/* Calls fn for each record of submission id (packed Record, valid during the
 * call), in order. */
int linker_store_submission_records(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES],
                                    int (*fn)(void *ctx, uint64_t index, const uint8_t *rec,
                                              size_t len),
                                    void *ctx, char *err, size_t errlen);

/* begin 1: starts a read transaction, so that what follows sees one state of
 * the database (a link run saved meanwhile does not mix in); begin 0 ends it. */
int linker_store_snapshot(struct linker_store *st, int begin, char *err, size_t errlen);

/* The latest run, or XL_ERR_NOTFOUND when none has run. */
int linker_store_run_last(struct linker_store *st, struct linker_run_row *out, char *err,
                          size_t errlen);

#endif
