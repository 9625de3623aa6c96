/* Submissions: begin, chunk and commit, as docs/protocol.md specifies them.
 *
 * One code path for both ways records arrive: the network server (server.c)
 * and `crosslink-linker import` of an .xle file (import.c) call the same three
 * functions, so a file import is checked, stored, audited and receipted exactly
 * like a network submission. The caller authenticates and authorises (the
 * request table, requests.c; an import is the operator's own act); these
 * functions check, store, audit and sign. A refusal is not audited here: the
 * answer carries its details for the caller, which audits it under the
 * refusal limit (linker_refusal). */
#ifndef LINKER_INGEST_H
#define LINKER_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "columns.h"
#include "config.h"
#include "crosslink.pb-c.h"
#include "store.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/keyring.h"
#include "xl/spec.h"

/* Sizes of the record fields the agent produces (agent/encode.h): local_ref
 * and blocking-key tokens. A record with other sizes is refused at ingest,
 * so the matching engine only ever meets well-formed records. */
#define LINKER_REF_BYTES      XL_REF_BYTES
#define LINKER_BLOCK_BYTES    XL_BLOCK_BYTES
#define LINKER_MAX_KEYS       (XL_SPEC_MAX_LEVELS * 4)
#define LINKER_MAX_BLOCKS     (XL_SPEC_MAX_BLOCKS * 4)
#define LINKER_MAX_PAYLOAD    (64u * 1024)
#define LINKER_MAX_ATTRIBUTES 256
/* Largest record_count a begin may announce. */
#define LINKER_MAX_RECORDS (1ull << 40)

/* What begin, chunk and commit need, loaded once from linker.conf. */
struct linker_ctx {
    struct linker_config cfg;
    struct xl_spec *spec;
    size_t clk_bytes;
    struct xl_keyfile *sign; /* Ed25519 signing key (sign-secret) */
    struct linker_store *store;
    struct linker_audit *audit;
    uint8_t *scratch; /* reused buffer for packing a chunk's records */
    size_t scratchcap;
    struct linker_columns_buf cols; /* the chunk's link columns, reused */
};

/* Loads the configuration at conf_path, the specification, the signing key,
 * the database and the audit log into ctx. On error ctx holds nothing (no
 * linker_ctx_close needed) and err names the file. */
int linker_ctx_open(struct linker_ctx *ctx, const char *conf_path, char *err, size_t errlen);
/* Releases what linker_ctx_open loaded (wiping the signing key). Idempotent. */
void linker_ctx_close(struct linker_ctx *ctx);

/* Who a request comes from. */
struct linker_actor {
    char key_id[XL_KEYID_HEX + 1]; /* the request's key (an import: the agency's agent key) */
    enum xl_role role;
    char agency[XL_NAME_MAX];
    const char *audit_actor; /* the audit entry's actor: the key id, or "linker" */
    const char *audit_role;  /* "agent", or "operator" for an import */
    const char *source;      /* "network" or "import" */
};

/* The answer to a request: an error, an ack or a receipt; a link report; or
 * nothing yet (a request that runs off the loop is answered when it is done). */
enum linker_reply {
    LINKER_REPLY_ERROR,
    LINKER_REPLY_ACK,
    LINKER_REPLY_RECEIPT,
    LINKER_REPLY_LINK,
    LINKER_REPLY_LATER
};

/* What a submission request did, for the log and for what follows it (a
 * commit makes a link run owed). */
enum linker_outcome {
    LINKER_DID_NOTHING,
    LINKER_DID_BEGIN,          /* begin: a new submission */
    LINKER_DID_RESUME,         /* begin: an open one, from its next chunk */
    LINKER_DID_FIND_COMMITTED, /* begin: the same content is committed: its receipt */
    LINKER_DID_STORE,          /* chunk stored */
    LINKER_DID_ACK_AGAIN,      /* chunk stored before: acked again */
    LINKER_DID_COMMIT,         /* commit: a new current submission */
    LINKER_DID_REPEAT,         /* commit again: the same receipt */
    LINKER_DID_DISCARD         /* commit or abort: the open submission is gone */
};
const char *linker_outcome_name(enum linker_outcome o);

struct linker_answer {
    enum linker_reply kind;
    int code;            /* 0, or the XL_ERR_* of an error reply */
    char msg[XL_ERRBUF]; /* the error, for the peer (never internal detail) */
    uint8_t id[LINKER_SUBID_BYTES];
    uint64_t next_seq;
    uint64_t records_stored;
    uint32_t credit;
    uint8_t *receipt; /* packed Receipt (malloc'd; linker_answer_clear frees) */
    size_t receiptlen;
    uint64_t max_message; /* acks: the largest message the linker reads */
    enum linker_outcome outcome;
    /* A refusal of the peer's doing: the audit entry's details (stage, agency,
     * dataset, submission), for the caller to audit. linker_answer_clear frees. */
    cJSON *refusal;
    /* LINKER_REPLY_LINK: a link run's counts and, when asked, its report */
    uint64_t link_run, link_records, link_links, link_clusters, link_conflicts;
    char *link_text; /* malloc'd; linker_answer_clear frees */
};
void linker_answer_clear(struct linker_answer *res);
/* Makes res an error reply of code with a message for the peer. */
void linker_answer_set(struct linker_answer *res, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* linker_answer_set, then code (a macro, so a static analyser sees the code). */
#define linker_answer_fail(res, code, ...)                                                         \
    __extension__({                                                                                \
        int code_ = (code);                                                                        \
        linker_answer_set((res), code_, __VA_ARGS__);                                              \
        code_;                                                                                     \
    })

/* SubmitBegin. Returns res->code: 0 with an ack (a new or resumed submission)
 * or a receipt (the same content is already committed), or an error. */
int linker_begin(struct linker_ctx *ctx, const struct linker_actor *who,
                 const Crosslink__SubmitBegin *b, struct linker_answer *res);

/* A chunk's records: decoded (network; packed here) or already in the stored
 * form, each as 4-byte big-endian length and packed Record (import). */
struct linker_records {
    Crosslink__Record *const *records; /* n decoded records, or NULL */
    const uint8_t *data;               /* the stored form, when records is NULL */
    size_t len;
    size_t n;
};

/* SubmitChunk seq of submission id. Returns res->code: 0 with an ack, or an
 * error. The chunk is durable before 0 is returned. */
int linker_chunk(struct linker_ctx *ctx, const struct linker_actor *who, const uint8_t *id,
                 size_t idlen, uint64_t seq, const struct linker_records *recs,
                 struct linker_answer *res);

/* SubmitCommit. Returns res->code: 0 with the receipt, or an error. When the
 * stored records do not match the content hash (a damaged store, or chunks
 * altered by another key of the agency) the open submission is discarded and
 * audited, and the answer is XL_ERR_DISCARDED: the agent begins again. Other
 * refusals leave the submission open with its chunks. */
int linker_commit(struct linker_ctx *ctx, const struct linker_actor *who, const uint8_t *id,
                  size_t idlen, uint64_t record_count, const uint8_t *hash, size_t hashlen,
                  struct linker_answer *res);

/* SubmitAbort: the agent gives up submission id (its own file turned out
 * damaged); it is discarded and audited. res->code 0 with an ack of nothing
 * stored, or an error (XL_ERR_NOTFOUND: no open submission of that id). */
int linker_abort(struct linker_ctx *ctx, const struct linker_actor *who, const uint8_t *id,
                 size_t idlen, struct linker_answer *res);

/* The agency of submission id, into agency: what the request table checks an
 * agent's chunk, commit or abort against. 0, or XL_ERR_NOTFOUND. */
int linker_submission_agency(struct linker_ctx *ctx, const uint8_t *id, size_t idlen,
                             char agency[XL_NAME_MAX]);

/* Checks one record against the specification and the sizes above, of a
 * submission with a payload key (keyed) or without. 0, or XL_ERR_FORMAT naming
 * the field (never its value). */
int linker_record_check(const struct linker_ctx *ctx, const Crosslink__Record *r, int keyed,
                        char *err, size_t errlen);

/* Checks a chunk's records in the stored form (n records, each a 4-byte
 * big-endian length and a packed Record, as an import reads them from an .xle):
 * every record parses and passes linker_record_check, and data holds exactly n
 * of them; and, with cols, builds their link columns in it as it goes (begun
 * here; finish is the caller's). 0, or XL_ERR_FORMAT naming the record (never
 * its content), or XL_ERR_NOMEM. */
int linker_records_check(const struct linker_ctx *ctx, const uint8_t *data, size_t len, size_t n,
                         int keyed, struct linker_columns_buf *cols, char *err, size_t errlen);

/* The Error.Code for an XL_ERR_* code. */
Crosslink__Error__Code linker_error_code(int xl_err);

#endif
