/* The agent's pass over an extract: read, validate, and (when encoding) encode
 * and write an .xle file, counting every problem for the officer's report.
 * One place for this logic: the CLI, the benchmark and the tests all call it. */
#ifndef AGENT_PIPELINE_H
#define AGENT_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "encode.h"
#include "validate.h"
#include "xl/keyfile.h"
#include "xl/spec.h"

/* Everything loaded from agent.conf. */
struct agent_ctx {
    struct agent_config cfg;
    struct agent_mapping map;
    struct xl_spec *spec;
    struct xl_keyfile *secret;   /* linkage secret (encode only) */
    struct xl_keyfile *local;    /* agency local key (encode only) */
    struct xl_keyfile *analysis; /* analysis public key (encode only) */
};

/* Loads agent.conf, its mapping and spec, and with need_keys the keys for
 * encoding. The DOB reference date is today unless the mapping sets one. On failure the message
 * names the file at fault. Free with agent_ctx_free. */
int agent_ctx_load(struct agent_ctx *ctx, const char *conf_path, int need_keys, char *err,
                   size_t errlen);
void agent_ctx_free(struct agent_ctx *ctx);

#define AGENT_FIRST_ROWS 5

struct agent_stats {
    uint64_t rows;     /* data rows read */
    uint64_t accepted; /* encoded (or would be) */
    uint64_t rejected; /* refused: a required field failed */
    uint64_t warned;   /* accepted with a value left out */
    uint64_t blank;    /* rows of only delimiters (",,,,"): skipped, not data */
    uint64_t count[AGENT_MAX_ISSUES][AGENT_RR_COUNT];
    uint64_t first[AGENT_MAX_ISSUES][AGENT_RR_COUNT][AGENT_FIRST_ROWS];
    uint64_t bytes;
    double seconds;
    uint8_t content_hash[32]; /* of the .xle written */
};

struct agent_run {
    const char *csv_path;
    const char *xle_path;    /* NULL: validate only */
    const char *reject_path; /* NULL: no reject file */
    int progress;            /* draw a progress line on stderr (a terminal) */
};

/* Opens the extract as the mapping describes it (delimiter, encoding): a
 * reader (xl_csv_destroy), or NULL with the message in err. */
struct xl_csv *agent_csv_open(const struct agent_mapping *m, const char *path, char *err,
                              size_t errlen);

/* 1 when every field of the record just read is empty (Excel's ",,,,"). */
int agent_csv_blank(const struct xl_csv *csv, size_t nfields);

/* The identity of an input: HMAC-SHA256 under the agency's local key of the
 * CSV file's SHA-256, the mapping file's, the specification fingerprint, the
 * epoch, the secret's check value, the analysis public key, agency and
 * dataset. Unchanged input gives the same id however often it is encoded
 * (encodings differ: their payload keys are random); any change gives
 * another. Needs the keys (agent_ctx_load with need_keys). 0 or an error. */
int agent_input_id(const struct agent_ctx *ctx, const char *csv_path, uint8_t out[32], char *err,
                   size_t errlen);

/* Processes the extract. Returns 0, XL_ERR_INVALID when the reject rate is over
 * the configured limit (the report is still complete; no .xle is written), or
 * another error for a file that cannot be read or written. stats is filled in
 * either way (caller allocates it; it is large). */
int agent_process(const struct agent_ctx *ctx, const struct agent_run *run,
                  struct agent_stats *stats, char *err, size_t errlen);

/* The officer's report: counts, and per field and reason the number of rows and
 * the first row numbers. Never a value. */
void agent_report(const struct agent_ctx *ctx, const struct agent_run *run,
                  const struct agent_stats *stats, FILE *out);

#endif
