/* The linker's audit log: the writer. The format (JSON Lines entries chained
 * by hash, a Merkle tree over them, signed checkpoints in <log>.checkpoints) is
 * common/include/xl/auditlog.h's, shared with every reader.
 *
 * Each append is written and fsynced before it returns. Entries never hold
 * record content, identifiers or tokens: counts, key ids, agencies, datasets,
 * hex hashes and reason codes only. More than one process may append (the
 * service, `crosslink-linker import` and `link`): each append takes an
 * exclusive flock on the file and continues from whatever entry is last.
 *
 * Checkpoints: the log signs one (with the linker's Ed25519 key, as a C2SP
 * signed note) at every receipt, after every `every` entries, when entries
 * have waited `seconds` (linker_audit_tick) and at close, and appends it to
 * <log>.checkpoints. The service sets every = 64 and seconds = 60; any other
 * process signs after each of its entries, so that a clean stop always leaves
 * every entry covered. */
#ifndef LINKER_AUDIT_H
#define LINKER_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "xl/auditlog.h"
#include "xl/crypto.h"
#include "xl/merkle.h"
#include "xl/note.h"

#define LINKER_AUDIT_LINE_MAX XL_AUDIT_LINE_MAX

struct linker_audit;

/* Opens (creating, mode 0600) the log at path and checks all of it against
 * every checkpoint in <path>.checkpoints: each checkpoint's signature by the
 * key pair (sk, pk), every entry's hash, seq and link to the entry before, and
 * the root at each checkpoint's size (xl_audit_verify). A log that fails is
 * refused (XL_ERR_FORMAT or XL_ERR_MISMATCH, naming the entry or the range of
 * entries and what is wrong), so the linker never serves on, or extends, a
 * broken or rewritten record. Entries after the last checkpoint are covered
 * by a new one, unless the last covered entry is the service's clean stop:
 * then nothing the linker wrote can follow it unsigned, and the log is
 * refused naming the entries. sk may be NULL (tests): then checkpoints are
 * neither read nor written. *out is set on success only; caller frees with
 * linker_audit_close. */
int linker_audit_open(const char *path, const uint8_t *sk, const uint8_t *pk,
                      struct linker_audit **out, char *err, size_t errlen);

/* When to sign checkpoints besides receipts and close: after every `every`
 * entries (0 = never for that reason) and when entries have waited `seconds`
 * (checked by linker_audit_tick). */
void linker_audit_set_interval(struct linker_audit *a, uint64_t every, unsigned seconds);

/* Signs a checkpoint when entries have waited long enough (or another process
 * appended). Called from the service's loop; errors are logged. */
void linker_audit_tick(struct linker_audit *a);

/* Signs a checkpoint covering every entry, if one is owed, closes the log and
 * frees *a; sets *a = NULL. Accepts NULL. */
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

/* What a receipt carries about its commit entry: the entry, a checkpoint of
 * the log ending with it and the entry's inclusion path in that tree. */
struct linker_audit_proof {
    uint64_t seq;
    char *entry; /* the line without its newline, malloc'd */
    size_t entry_len;
    char *checkpoint; /* signed note, malloc'd */
    size_t checkpoint_len;
    uint8_t root[XL_HASH_BYTES];
    struct xl_merkle_proof path;
};

/* linker_audit_append, then a checkpoint of the log ending with the new entry,
 * signed and kept, and the proof filled in (free with linker_audit_proof_free,
 * on failure too). XL_ERR_INVALID when the log has no signing key. */
int linker_audit_append_proved(struct linker_audit *a, time_t when, const char *actor,
                               const char *role, const char *event, cJSON *details,
                               struct linker_audit_proof *proof, char *err, size_t errlen);

void linker_audit_proof_free(struct linker_audit_proof *p);

/* Sequence number the next entry will get (the last entry's + 1 as of the last
 * open or append by this process). */
uint64_t linker_audit_next_seq(struct linker_audit *a);

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
