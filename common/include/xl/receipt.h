/* Submission receipts: what the linker signs when it commits a submission and
 * the agency files as proof of what it sent and when. The signature covers a
 * canonical text form of the receipt's fields (docs/protocol.md), so an agency
 * or an IG lead can verify it with the linker's public signing key alone. */
#ifndef XL_RECEIPT_H
#define XL_RECEIPT_H

#include <stddef.h>

#include "crosslink.pb-c.h"
#include "xl/crypto.h"
#include "xl/note.h"

#define XL_RECEIPT_TEXT_MAX 1024
/* Largest receipt file read: a receipt is a few hundred bytes, its audit
 * evidence a few kilobytes. */
#define XL_RECEIPT_FILE_MAX (64u * 1024)

/* The canonical bytes of r (without the signature) into buf; returns their length
 * or XL_ERR_INVALID when a field is malformed (wrong hash or id length, a name
 * with a newline) or buf is too small. */
int xl_receipt_canonical(const Crosslink__Receipt *r, char *buf, size_t len);

/* Signs r with the linker's Ed25519 key: sets r->signature and r->linker_key to
 * the caller's buffers sig and pk (which must outlive r's use). */
int xl_receipt_sign(Crosslink__Receipt *r, const uint8_t sk[XL_SIGN_SK_BYTES],
                    const uint8_t pk[XL_SIGN_PK_BYTES], uint8_t sig[XL_SIG_BYTES],
                    uint8_t pkbuf[XL_SIGN_PK_BYTES]);

/* Verifies r's signature with the expected linker public key (not the key the
 * receipt names). 0, or XL_ERR_CRYPTO / XL_ERR_INVALID with a message. */
int xl_receipt_verify(const Crosslink__Receipt *r, const uint8_t pk[XL_SIGN_PK_BYTES], char *err,
                      size_t errlen) __attribute__((warn_unused_result));

/* Reads a receipt file (the packed Receipt, as agents file them). On success
 * *out is the parsed receipt (free with crosslink__receipt__free_unpacked).
 * XL_ERR_NOTFOUND / XL_ERR_IO when it cannot be read, XL_ERR_FORMAT for a file
 * that is not a regular file of at most XL_RECEIPT_FILE_MAX bytes or does not
 * parse; the message does not name the file (the caller does). */
int xl_receipt_load(const char *path, Crosslink__Receipt **out, char *err, size_t errlen);

/* Checks the audit evidence r carries, after xl_receipt_verify: its checkpoint
 * is signed by the linker whose key is pk and covers audit_seq entries or more,
 * audit_root is that checkpoint's root, audit_entry is this submission's
 * submission.commit entry with seq audit_seq, and audit_proof is the RFC 9162
 * inclusion path of that entry (leaf audit_seq - 1) in the checkpoint's tree.
 * On success cp (may be NULL) receives the checkpoint and leaf (may be NULL)
 * the entry's leaf hash, to compare with a log or a later checkpoint.
 * XL_ERR_NOTFOUND when r carries no audit evidence; otherwise XL_ERR_CRYPTO,
 * XL_ERR_FORMAT or XL_ERR_MISMATCH with a message naming what failed. */
int xl_receipt_verify_audit(const Crosslink__Receipt *r, const uint8_t pk[XL_SIGN_PK_BYTES],
                            struct xl_checkpoint *cp, uint8_t leaf[XL_HASH_BYTES], char *err,
                            size_t errlen) __attribute__((warn_unused_result));

#endif
