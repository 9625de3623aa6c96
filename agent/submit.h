/* Submitting an encoded extract to the linker, and the receipts it returns.
 *
 * `crosslink-agent submit` encodes a CSV into state_dir/outbox/ (or takes an
 * .xle as it is), streams its records in chunks over ZeroMQ with CURVE
 * (docs/protocol.md), and files the linker's signed receipt in
 * state_dir/receipts/. An interrupted run leaves the encoded file in the outbox,
 * so running the same command again sends the same content and the linker
 * resumes from its last stored chunk. */
#ifndef AGENT_SUBMIT_H
#define AGENT_SUBMIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "crosslink.pb-c.h"
#include "xl/crypto.h"

/* Exit status of a submission that gave up because the linker could not be
 * reached: temporary, and resumable by running the same command (sysexits.h's
 * EX_TEMPFAIL, which schedulers know as "try again later"). */
#define AGENT_EXIT_TEMPFAIL 75

#define AGENT_SUBMIT_TIMEOUT   10.0  /* seconds without a reply before reconnecting */
#define AGENT_SUBMIT_RETRY_FOR 600.0 /* seconds of failed attempts before giving up */

struct agent_submit_opts {
    const char *conf_path;
    const char *input;       /* FILE.csv, or an .xle file (recognised by its magic) */
    const char *reject_path; /* CSV only; NULL = FILE.rejects.csv beside the CSV */
    double timeout;          /* seconds */
    double retry_for;        /* seconds */
    int quiet;               /* no validation report, no updating progress line */
    int force;               /* resubmit an input a newer submission superseded */
};

/* Runs a whole submission and prints the receipt summary on stdout. Returns 0
 * when a verified receipt is stored; XL_ERR_UNAVAILABLE when the linker could
 * not be reached for retry_for seconds (the run can be resumed); XL_ERR_INVALID
 * when the reject rate is over the limit; the code of the linker's refusal
 * (XL_ERR_DENIED, XL_ERR_MISMATCH ...) or a local error otherwise. The message
 * is in err. */
int agent_submit(const struct agent_submit_opts *o, char *err, size_t errlen);

/* ---- state folder ------------------------------------------------------- */

/* Creates cfg->state_dir and state_dir/sub (sub may be NULL) with mode 0700
 * when they do not exist, and puts the path of the subfolder in out. An
 * existing folder that others can read or write is refused (XL_ERR_PERM), as
 * it would expose the agency's encoded records and its receipts. */
int agent_state_dir(const struct agent_config *cfg, const char *sub, char *out, size_t len,
                    char *err, size_t errlen);

/* The outbox file of a CSV: outbox/<dataset>-<12 hex>.xle, the hex from
 * SHA-256 over the CSV's absolute path, size and modification time. The same
 * unchanged extract has the same name, so an interrupted run is found again;
 * a new export (other size or time) gets a new one. */
int agent_outbox_path(const char *outbox, const char *dataset, const char *csv_path, char *out,
                      size_t len, char *err, size_t errlen);

/* ---- encoded files ------------------------------------------------------ */

/* What a submission says about its .xle: the header, and the record count and
 * content hash its trailer declares (read without a pass over the records; the
 * chunker checks the records against them before the last chunk is sent). */
struct agent_xle_info {
    Crosslink__XleHeader *hdr; /* owned; free with agent_xle_info_free */
    uint64_t count;
    uint8_t hash[XL_HASH_BYTES];
    /* the input's identity (agent_input_id) when sent from a CSV: a receipt
     * of an earlier encoding of the same input is then accepted */
    int has_input;
    uint8_t input_id[XL_HASH_BYTES];
};
/* XL_ERR_FORMAT for a file without a header or trailer, XL_ERR_MISMATCH when
 * they disagree on the count. */
int agent_xle_scan(const char *path, struct agent_xle_info *info, char *err, size_t errlen);
void agent_xle_info_free(struct agent_xle_info *info);

/* Chunks of an .xle as wire messages. Each is the packed bytes of
 * Envelope{request_id, submit_chunk{submission_id, seq, records}}, built from
 * the file's record bytes without unpacking them (byte for byte what
 * crosslink__envelope__pack would produce). */
struct agent_chunker;

/* Opens path for chunks of chunk_records records, starting at chunk first_seq
 * (the records before it are read and skipped). NULL on failure. */
struct agent_chunker *agent_chunker_open(const char *path, unsigned chunk_records,
                                         uint64_t first_seq, char *err, size_t errlen);

struct agent_chunk {
    uint8_t *base; /* allocation to free() (or hand to zmq_msg_init_data) */
    uint8_t *data; /* the message: data[0..len) lies within base */
    size_t len;
    uint64_t seq;
    size_t records;
};
/* The next chunk: 1 with *out filled (caller frees out->base), 0 when every
 * record was sent and the file's trailer checked out, or a negative error. */
int agent_chunker_next(struct agent_chunker *c, const uint8_t *submission_id, size_t idlen,
                       uint64_t request_id, struct agent_chunk *out, char *err, size_t errlen);
/* Accepts NULL; sets *c = NULL. */
void agent_chunker_close(struct agent_chunker **c);

/* ---- the linker's replies ---------------------------------------------- */

/* Longest submission id the agent takes from the linker. */
#define AGENT_SUBMISSION_ID_MAX 32

enum agent_reply { AGENT_REPLY_ACK = 1, AGENT_REPLY_RECEIPT = 2 };

/* Reads the linker's reply to a submission request. Returns AGENT_REPLY_ACK for
 * a SubmitAck whose submission id is 1 to AGENT_SUBMISSION_ID_MAX bytes (the
 * caller compares its id and next_seq with what it sent), AGENT_REPLY_RECEIPT
 * for a Receipt that agent_receipt_check accepts (submission_id NULL: any id),
 * or a negative error with the message in err: the linker's Error as an
 * XL_ERR_* code (its text shown with control characters replaced, as it comes
 * from another machine), the receipt check's error, or XL_ERR_FORMAT for a
 * malformed ack or any other body. */
int agent_reply_read(const Crosslink__Envelope *env, const uint8_t sign_pk[XL_SIGN_PK_BYTES],
                     const struct agent_xle_info *sent, const uint8_t *submission_id, size_t idlen,
                     char *err, size_t errlen);

/* ---- receipts (agent/receipts.c) ---------------------------------------- */

/* Checks a receipt returned for what was sent: the signature with the linker's
 * signing key sign_pk, then agency, dataset, record count, content hash, epoch
 * and specification against the .xle, and the submission id when
 * submission_id is not NULL. XL_ERR_CRYPTO / XL_ERR_MISMATCH with the field,
 * with a hint to check sign_public when the signature does not verify. The
 * content hash may differ when sent->has_input and the receipt's commit
 * entry (proven in a checkpoint the linker signed) names that input: the
 * receipt of an earlier encoding of the same, unchanged input. */
int agent_receipt_check(const Crosslink__Receipt *r, const uint8_t sign_pk[XL_SIGN_PK_BYTES],
                        const struct agent_xle_info *sent, const uint8_t *submission_id,
                        size_t idlen, char *err, size_t errlen);

/* Writes r packed into dir/<UTC time>-<dataset>-<8 hex of the id>.receipt, mode
 * 0600, fsynced, via a temporary file so a crash never leaves half a receipt.
 * The same receipt stored twice is one file (a repeated submission of the same
 * content gets the same receipt); a different receipt is never overwritten.
 * The path is returned in path (may be NULL). */
int agent_receipt_store(const char *dir, const Crosslink__Receipt *r, char *path, size_t pathlen,
                        char *err, size_t errlen);

/* Loads a stored receipt (caller frees with crosslink__receipt__free_unpacked). */
int agent_receipt_load(const char *path, Crosslink__Receipt **out, char *err, size_t errlen);

/* Short summary of a verified receipt, a few lines, for the officer. */
void agent_receipt_print(const Crosslink__Receipt *r, const char *path, FILE *out);

/* Lists every *.receipt in dir, oldest first, verifying each signature with
 * sign_pk: one line per receipt (time, dataset, records, content hash prefix,
 * submission id, audit sequence, signature status), or with verbose the whole
 * signed text of each. *nbad counts receipts that did not load or verify; the
 * return value is 0 unless dir cannot be read. */
int agent_receipt_list(const char *dir, const uint8_t sign_pk[XL_SIGN_PK_BYTES], int verbose,
                       FILE *out, size_t *nbad, char *err, size_t errlen);

#endif
