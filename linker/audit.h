/* The linker's audit log: append-only JSON Lines, one entry per line, each
 * chained to the one before it by hash:
 *
 *   {"seq":N,"time":"2026-11-22T10:00:00Z","actor":"<key id>|linker","role":"agent",
 *    "event":"submission.commit","details":{...},"prev":"<hex>","hash":"<hex>"}
 *
 * "hash" is always the last member. The entry's canonical bytes are the line
 * without its newline and without the trailing `,"hash":"<64 hex>"` (so they end
 * in the `}` of the object), and hash = SHA-256(prev hash bytes || canonical
 * bytes). The first entry has seq 1 and prev = 32 zero bytes. Each append is
 * written and fsynced before it returns.
 *
 * Entries never hold record content, identifiers or tokens: counts, key ids,
 * agencies, datasets, hex hashes and reason codes only. More than one process
 * may append (the service and `crosslink-linker import`): each append takes an
 * exclusive flock on the file and continues from whatever entry is last. */
#ifndef LINKER_AUDIT_H
#define LINKER_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "xl/crypto.h"
#include "xl/merkle.h"
#include "xl/note.h"

/* Longest entry written or read back; longer lines are refused. */
#define LINKER_AUDIT_LINE_MAX (256u * 1024)

struct linker_audit;

/* Opens (creating, mode 0600) the log at path and checks its last entry: its own
 * hash, its link to the entry before it and, for a log of one entry, that it is
 * the first. A log whose tail is incomplete or does not verify is refused
 * (XL_ERR_FORMAT, with the byte offset to inspect), so the linker never extends
 * a broken chain. *out is set on success only; caller frees with
 * linker_audit_close. */
int linker_audit_open(const char *path, struct linker_audit **out, char *err, size_t errlen);
/* Checks the whole log at path from its first entry: every entry's hash, its
 * seq (1, 2, 3, ...) and its link to the entry before, and that the last line
 * is complete. 0 with *entries (0 for a log that does not exist or is empty),
 * or XL_ERR_FORMAT naming the entry, its byte offset and what is wrong. The
 * service runs it at start, so that it never serves on, or extends, a log
 * whose middle was edited, removed or reordered; an edit with the chain
 * recomputed after it needs the signed checkpoints of the audit issue. */
int linker_audit_verify(const char *path, uint64_t *entries, char *err, size_t errlen);

/* Closes the log and frees *a; sets *a = NULL. Accepts NULL. */
void linker_audit_close(struct linker_audit **a);

/* Appends one entry and fsyncs it. when = 0 means now. details (may be NULL for
 * {}) is consumed, on failure too. *seq (may be NULL) receives the entry's
 * sequence number. A failed write or fsync returns XL_ERR_NOSPACE (the
 * filesystem or a quota is full) or XL_ERR_IO, after cutting the file back to
 * its last whole entry and fsyncing that, so a later append can succeed once
 * the cause is gone. If the cut fails too, what reached the disk is no longer
 * known, and the log refuses further appends (XL_ERR_IO) until it is reopened.
 * Safe to call from several threads. */
int linker_audit_append(struct linker_audit *a, time_t when, const char *actor, const char *role,
                        const char *event, cJSON *details, uint64_t *seq, char *err, size_t errlen);

/* linker_audit_append for an entry whose loss must not undo what it records
 * (a refusal, a reload, a start or stop): a failure is logged as an error and
 * the caller goes on. d is consumed. */
void linker_audit_note(struct linker_audit *a, const char *actor, const char *role,
                       const char *event, cJSON *details);

/* Sequence number the next entry will get (the last entry's + 1 as of the last
 * open or append by this process). */
uint64_t linker_audit_next_seq(struct linker_audit *a);

/* Checks one entry (line without its newline): the trailing hash member, the
 * JSON, the seq and prev members, and that hash = SHA-256(prev || canonical).
 * Returns 0 with *seq, prev and hash filled in, or XL_ERR_FORMAT (malformed)
 * or XL_ERR_CRYPTO (the hash does not match) with a message. The caller checks
 * the chain: prev equals the previous entry's hash and seq follows it. */
int linker_audit_entry_check(const char *line, size_t len, uint64_t *seq,
                             uint8_t prev[XL_HASH_BYTES], uint8_t hash[XL_HASH_BYTES], char *err,
                             size_t errlen);

/* ---- checkpoints and reading back (audit issue) ------------------------------------ */

/* The latest signed checkpoint of the log, signing a new one first when
 * entries were appended since the last (by this process or another). *note is
 * the signed note, malloc'd (caller frees), *len its length; cp (may be NULL)
 * its parsed contents. XL_ERR_INVALID when the log was opened without a
 * signing key. Safe to call from several threads. */
int linker_audit_checkpoint(struct linker_audit *a, char **note, size_t *len,
                            struct xl_checkpoint *cp, char *err, size_t errlen);

/* Entries in the log as this process last saw it (after any refresh). */
uint64_t linker_audit_size(struct linker_audit *a);

/* The byte offset in the log file of entry seq (1-based, at most
 * linker_audit_size + 1, where it is the end of the last entry).
 * XL_ERR_INVALID past that. */
int linker_audit_locate(struct linker_audit *a, uint64_t seq, uint64_t *offset);

/* The leaf hash of entry index + 1: an xl_merkle_leaf_fn whose ctx is the
 * struct linker_audit, for inclusion and consistency proofs. XL_ERR_INVALID
 * for an index at or past linker_audit_size. */
int linker_audit_leaf(void *a, uint64_t index, uint8_t out[XL_HASH_BYTES], char *err,
                      size_t errlen);

/* The log's path, as opened. */
const char *linker_audit_path(const struct linker_audit *a);

/* UTC time as ISO 8601 ("2026-11-22T10:00:00Z") into out[21]. */
void linker_iso_time(time_t t, char out[21]);

#endif
