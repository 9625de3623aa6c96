/* Holding an audit log to what was signed about it: recomputes the hash chain
 * and the Merkle tree from the first entry and checks, at each size, the
 * checkpoints and receipts given. Used by the linker when it starts (against
 * the checkpoints it signed) and by `crosslink-audit verify` and `fetch`
 * (against the checkpoints an IG lead kept and the receipts agencies hold). */
#ifndef XL_AUDITVERIFY_H
#define XL_AUDITVERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "xl/auditlog.h"

/* Something signed about the log: a checkpoint (its signature already checked
 * by the caller), an entry's leaf hash at a seq (a receipt's commit entry), or
 * both. */
struct xl_audit_claim {
    char name[256]; /* for messages: "checkpoint 3 of audit.jsonl.checkpoints" */
    int has_cp;
    struct xl_checkpoint cp;
    uint64_t leaf_seq; /* 0, or the seq of the entry whose leaf hash is leaf */
    uint8_t leaf[XL_HASH_BYTES];
};

struct xl_audit_verified {
    uint64_t entries;            /* entries in the log, all verified */
    uint8_t root[XL_HASH_BYTES]; /* the root of all of them */
    uint8_t last[XL_HASH_BYTES]; /* the last entry's chain hash (zero for none) */
    uint64_t covered;            /* the largest checkpoint size that matched; 0 for none */
    uint64_t offset_covered;     /* byte offset of the end of entry `covered` */
    char covered_event[64];      /* the event of entry `covered` ("" for none) */
};

/* Called for each entry as it is verified (may be NULL): seq, its byte offset,
 * the line without its newline and its leaf hash. A non-zero return stops the
 * walk and is returned. */
typedef int (*xl_audit_entry_fn)(void *ctx, uint64_t seq, uint64_t offset, const char *line,
                                 size_t len, const uint8_t leaf[XL_HASH_BYTES], char *err,
                                 size_t errlen);

/* Verifies the log at path (a missing file is an empty log) entry by entry
 * (xl_audit_reader_next) and against each claim: a checkpoint's root must be
 * the root of the log's first cp.size entries, a leaf the leaf hash of entry
 * leaf_seq. Two checkpoints of one size with different roots, a checkpoint or
 * leaf beyond the log's end and a root or leaf that does not match are
 * failures, each with a message naming the claim, the size or entry, and the
 * range of entries where the change lies. claims may be reordered. Returns 0
 * with *out filled in, XL_ERR_FORMAT (the log itself), XL_ERR_MISMATCH (a
 * claim) or the error of fn. */
int xl_audit_verify(const char *path, struct xl_audit_claim *claims, size_t n, xl_audit_entry_fn fn,
                    void *ctx, struct xl_audit_verified *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
