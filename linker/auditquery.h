/* Auditors' requests for the audit log (docs/protocol.md, "Audit requests").
 *
 * The request table (requests.c) lets only keys of role auditor send an
 * AuditQuery; this module answers it in one of two ways.
 *
 * - Entries: from_seq..to_seq, read back from the log file with one pread at
 *   the byte offset the log keeps for from_seq, at most
 *   LINKER_AUDITQ_ENTRIES entries and LINKER_AUDITQ_BYTES bytes of them (less
 *   when max_message is smaller; one entry always), of the entries that were
 *   in the log when the request came, optionally only those of an event class,
 *   an agency or a project. Each line read is checked against the leaf hash
 *   the log keeps in memory before it is served, so a file changed under the
 *   running linker is refused, not passed on. A page is bounded work (about
 *   as much as an extract's page), so it is answered in the request loop.
 *
 * - The checkpoint: the latest signed checkpoint (the log signs a new one when
 *   entries are not yet covered) and, given old_size, the RFC 9162
 *   consistency proof from the tree of old_size entries to it. A proof reads
 *   every leaf hash below the checkpoint's size, about 0.13 s per million
 *   entries, so checkpoints are made on a thread of their own and answered
 *   from the loop when ready (linker_auditq_tick), as extracts are; at most
 *   LINKER_AUDITQ_WAITING wait at once, LINKER_AUDITQ_PER_KEY of one key.
 *
 * Serving is not audited: an auditor's fetch would otherwise add entries to
 * the log it reads, every time, and never see it whole. Refusals are (the
 * table's request.refused). */
#ifndef LINKER_AUDITQUERY_H
#define LINKER_AUDITQUERY_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "ingest.h"
#include "server.h"

/* Entries and bytes of entries in one AuditEntries, at most. */
#define LINKER_AUDITQ_ENTRIES 1000u
#define LINKER_AUDITQ_BYTES   (4u * 1024 * 1024)
/* What an AuditEntries reply may add to its entries' bytes. */
#define LINKER_AUDITQ_OVERHEAD (16u * 1024)
/* Checkpoint requests waiting or being answered at once, in all and per key. */
#define LINKER_AUDITQ_WAITING 8
#define LINKER_AUDITQ_PER_KEY 2
/* Longest event, agency or project filter. */
#define LINKER_AUDITQ_FILTER_MAX 128

struct linker_auditq;

/* Starts the checkpoint thread for srv's audit log. NULL with err when it
 * cannot (out of memory, no thread). Free with linker_auditq_destroy. */
struct linker_auditq *linker_auditq_new(struct linker_server *srv, char *err, size_t errlen);
/* Stops the thread (a proof under way is abandoned), answers the requests
 * still waiting (UNAVAILABLE, or their answer when it is ready) and frees *q;
 * sets *q = NULL. Call while the router is open. Accepts NULL. */
void linker_auditq_destroy(struct linker_auditq **q);
/* The loop calls this after each batch: sends the checkpoints that are ready. */
void linker_auditq_tick(struct linker_auditq *q);

/* An auditor's AuditQuery (fd: its connection). Answers entries at once and
 * a checkpoint later (res->kind LINKER_REPLY_LATER either way), or fills res
 * with an error. */
void linker_audit_query(struct linker_auditq *q, const struct linker_actor *who, const void *rid,
                        size_t rlen, uint64_t request_id, int fd, const Crosslink__AuditQuery *aq,
                        struct linker_answer *res);

/* ---- the parts that need no service, for tests ------------------------------------- */

/* 1 when event passes the event filter: filter is empty, equals event, or is
 * event's class (event begins with filter and a '.': "extract" matches
 * "extract.delivered", not "extracts"). */
int linker_audit_event_matches(const char *filter, const char *event);

/* The agency of key key_id, into agency (NUL-terminated): 0, or -1 when it
 * is not known. For the agency filter's "the actor's agency". */
typedef int linker_audit_agency_fn(void *ctx, const char *key_id, char agency[XL_NAME_MAX]);

/* The filters of a query. NULL or "" means any. */
struct linker_audit_filter {
    const char *event, *agency, *project;
    linker_audit_agency_fn *agency_of; /* may be NULL: actors' agencies unknown */
    void *ctx;
};

/* 1 when the entry (its JSON object) passes f: its "event" matches
 * (linker_audit_event_matches); the agency is its details' "agency", the
 * agency of one of its details' "datasets", or its actor's agency; the
 * project is its details' "project". */
int linker_audit_entry_matches(const cJSON *entry, const struct linker_audit_filter *f);

/* One page of entries. */
struct linker_audit_page {
    char *buf;      /* the bytes read; entries point into it */
    char **entries; /* n NUL-terminated lines, without their newlines */
    size_t n;
    uint64_t next_seq; /* the first entry not looked at */
    uint64_t size;     /* entries in the log when the page was read */
};

/* Reads the page of entries from..to (1-based; to 0 = to the end) of log a,
 * as this process last saw it, that pass f: at most max entries (0 or more
 * than LINKER_AUDITQ_ENTRIES: that many) out of at most max_bytes bytes read
 * (one whole entry at least). 0 with *p (free with linker_audit_page_free);
 * XL_ERR_FORMAT for to before from; XL_ERR_IO when the file cannot be read;
 * XL_ERR_CRYPTO when a line read is not the entry the log holds in memory
 * (the file was changed under the linker), naming the entry. */
int linker_audit_page_read(struct linker_audit *a, uint64_t from, uint64_t to, uint32_t max,
                           size_t max_bytes, const struct linker_audit_filter *f,
                           struct linker_audit_page *p, char *err, size_t errlen);
/* Frees what p holds and clears it. */
void linker_audit_page_free(struct linker_audit_page *p);

#endif
