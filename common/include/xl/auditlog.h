/* The audit log's format, shared by the linker's writer and every reader (the
 * linker's start check, `crosslink-audit`, an agency checking its receipt).
 *
 * The log is JSON Lines, one entry per line, each chained to the one before:
 *
 *   {"seq":N,"time":"2026-11-22T10:00:00Z","actor":"<key id>|linker","role":"agent",
 *    "event":"submission.commit","details":{...},"prev":"<hex>","hash":"<hex>"}
 *
 * "hash" is always the last member. An entry's canonical bytes are the line
 * without its newline and without the trailing `,"hash":"<64 hex>"` (so they end
 * in the `}` of the object), and hash = SHA-256(prev hash bytes || canonical
 * bytes). The first entry has seq 1 and prev = 32 zero bytes.
 *
 * Over the entries runs the Merkle tree of RFC 9162 (xl/merkle.h): leaf i is
 * the line of entry i + 1 without its newline, so leaf hash =
 * SHA-256(0x00 || line). The linker signs checkpoints of that tree
 * (xl/note.h) and keeps every one it signed, one after another, in the file
 * beside the log named <log>.checkpoints. The checkpoints' origin, and so the
 * name of the linker's note key, is XL_AUDIT_ORIGIN_PREFIX followed by the
 * first 16 hex digits of SHA-256 of the linker's Ed25519 public key: anyone
 * holding that key knows the name to verify with. */
#ifndef XL_AUDITLOG_H
#define XL_AUDITLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "xl/crypto.h"
#include "xl/merkle.h"
#include "xl/note.h"

/* Longest entry written or read back; longer lines are refused. */
#define XL_AUDIT_LINE_MAX (256u * 1024)

#define XL_AUDIT_ORIGIN_PREFIX "crosslink/audit-"
#define XL_AUDIT_ORIGIN_MAX    (sizeof XL_AUDIT_ORIGIN_PREFIX + 16)

/* Suffix of the file of checkpoints beside a log. */
#define XL_AUDIT_CHECKPOINTS_SUFFIX ".checkpoints"

/* What a line's own members say about it. */
struct xl_audit_entry {
    uint64_t seq;
    uint8_t prev[XL_HASH_BYTES]; /* chain hash of the entry before */
    uint8_t hash[XL_HASH_BYTES]; /* this entry's chain hash, checked */
};

/* Checks one entry (line without its newline): the trailing hash member, the
 * JSON, the seq, event and prev members, and that hash = SHA-256(prev ||
 * canonical). Returns 0 with *e filled in and, when obj is not NULL, the parsed
 * object in *obj (without its hash member; the caller frees it with
 * cJSON_Delete). XL_ERR_FORMAT (malformed) or XL_ERR_CRYPTO (the hash does not
 * match: an altered entry) with a message naming the member. The caller checks
 * the chain: prev equals the previous entry's hash and seq follows it. */
int xl_audit_entry_check(const char *line, size_t len, struct xl_audit_entry *e, cJSON **obj,
                         char *err, size_t errlen);

/* The chain hash SHA-256(prev || canonical). */
void xl_audit_chain_hash(const uint8_t prev[XL_HASH_BYTES], const char *canon, size_t len,
                         uint8_t out[XL_HASH_BYTES]);

/* The canonical line of an entry, ready to append: canon (the object without
 * a hash member, as printed without whitespace) with `,"hash":"<hex>"}` and a
 * newline in place of its closing brace. *line is malloc'd; *linelen counts the
 * newline. XL_ERR_INVALID when canon is not an object's text, XL_ERR_TOOBIG
 * when the line would pass XL_AUDIT_LINE_MAX, XL_ERR_NOMEM. */
int xl_audit_line(const uint8_t prev[XL_HASH_BYTES], const char *canon, size_t len, char **line,
                  size_t *linelen, uint8_t hash[XL_HASH_BYTES]);

/* The checkpoint origin (and note key name) of the linker whose Ed25519 public
 * key is pk, into out (NUL-terminated). */
void xl_audit_origin(const uint8_t pk[XL_SIGN_PK_BYTES], char out[XL_AUDIT_ORIGIN_MAX]);

/* The note verifier key for the linker's checkpoints: name xl_audit_origin(pk). */
int xl_audit_vkey(const uint8_t pk[XL_SIGN_PK_BYTES], struct xl_note_vkey *vk);

/* ---- reading a log from its first entry ----------------------------------------------- */

/* Reads a log entry by entry, checking each line, its seq (1, 2, 3, ...) and
 * its link to the entry before, and building the Merkle tree as it goes. Read
 * n, offset, last and tree; treat the rest as opaque. */
struct xl_audit_reader {
    FILE *f;
    char path[4096];
    uint64_t n;                    /* entries read and verified */
    uint64_t offset;               /* byte offset of the next entry */
    uint8_t last[XL_HASH_BYTES];   /* chain hash of entry n (zero for none) */
    struct xl_merkle_builder tree; /* the tree of entries 1..n */
    char *line;
    size_t cap;
};

/* Opens path for reading from its first entry. XL_ERR_NOTFOUND when it does not
 * exist, XL_ERR_IO. */
int xl_audit_reader_open(struct xl_audit_reader *r, const char *path, char *err, size_t errlen);

/* Reads and checks the next entry. Returns 1 with *line (valid until the next
 * call, NUL-terminated, without its newline), *len and the entry's leaf hash in
 * leaf (may be NULL); 0 at the end of the log; or XL_ERR_FORMAT / XL_ERR_IO with
 * a message naming the file, the entry's number and byte offset and what is
 * wrong (incomplete, too long, altered, a seq out of order, a broken chain). */
int xl_audit_reader_next(struct xl_audit_reader *r, const char **line, size_t *len,
                         uint8_t leaf[XL_HASH_BYTES], char *err, size_t errlen);

void xl_audit_reader_close(struct xl_audit_reader *r);

/* ---- files of checkpoints ------------------------------------------------------------ */

/* Calls fn for each signed note in the file at path (notes one after another,
 * as the linker and `crosslink-audit fetch` keep them), in order, with the note
 * and its length. A note is its text lines, a blank line and its signature
 * lines; the next note starts at the first line after them that is not a
 * signature line. Stops at fn's first non-zero return and returns it.
 * XL_ERR_NOTFOUND when the file does not exist; XL_ERR_FORMAT naming the byte
 * offset when it ends inside a note (a write cut short) and *complete (may be
 * NULL) is the length of the notes before it. */
int xl_checkpoints_each(const char *path,
                        int (*fn)(void *ctx, const char *note, size_t len, char *err,
                                  size_t errlen),
                        void *ctx, size_t *complete, char *err, size_t errlen);

/* Opens a checkpoint signed by the linker whose key is pk: xl_checkpoint_open
 * with xl_audit_vkey(pk). A note signed by another key, or whose origin is not
 * that linker's, is refused with a message saying so. */
int xl_audit_checkpoint_open(const char *note, size_t len, const uint8_t pk[XL_SIGN_PK_BYTES],
                             struct xl_checkpoint *cp, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
