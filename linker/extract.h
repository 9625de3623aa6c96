/* Extracts for analysts (docs/analyst.md, docs/protocol.md "Extracts").
 *
 * An analyst's ExtractRequest names an approved project (projects.h). The
 * request table has checked the key is an analyst's; this module checks the
 * project's rules, then prepares the extract on a thread of its own, off the
 * request loop:
 *
 *   1. in one read transaction of the store, the records of the latest link
 *      run from the project's datasets: each gives a row of its child's
 *      pseudonym in the project, its agency and dataset, its evidence band and
 *      its sealed payload (which the linker cannot read);
 *   2. the rows are shuffled with bounded memory: written to randomly chosen
 *      bucket files, then each bucket is shuffled in memory and appended to
 *      the spool, cut into pages of at most LINKER_EXTRACT_PAGE bytes;
 *   3. the manifest (project, run, specification, counts, SHA-256 of the
 *      rows) is signed with the linker's Ed25519 key and the extract audited.
 *
 * Temporary files are unlinked from the start (O_TMPFILE): nothing is left
 * behind by a crash. The analyst is answered ExtractReady, then pulls page by
 * page; asking for page == pages returns the signed manifest. An extract not
 * asked for within LINKER_EXTRACT_IDLE seconds is dropped.
 *
 * Pseudonym = HMAC-SHA256(project secret, grouping || entity id) cut to 16
 * bytes; the project secret = HMAC-SHA256(the linker's pseudonym key, project
 * id). The pseudonym key is the linker's own (created at first start, mode
 * 0600, never leaves it): the same child has unrelated pseudonyms in two
 * projects and the same one in a project for as long as its entity id lasts
 * (entities.h). */
#ifndef LINKER_EXTRACT_H
#define LINKER_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"
#include "server.h"

/* Bytes of rows per page (a row larger than this gets a page of its own). */
#define LINKER_EXTRACT_PAGE (1u << 20)
/* Extracts prepared or being prepared at once, in all and per key. */
#define LINKER_EXTRACTS_MAX     8
#define LINKER_EXTRACTS_PER_KEY 2
/* Seconds an extract waits for its next page request before it is dropped. */
#define LINKER_EXTRACT_IDLE 600.0
/* Extract ids. */
#define LINKER_EXTRACT_ID_BYTES 16

struct linker_extracts;

/* Loads the projects file and the pseudonym key (creating the key, mode 0600,
 * when there is none) and starts the worker thread. NULL with err on failure. */
struct linker_extracts *linker_extracts_new(struct linker_server *srv, char *err, size_t errlen);
/* Stops the worker (an extract in preparation is abandoned), answers waiting
 * requests with an error and frees everything. Accepts NULL. */
void linker_extracts_destroy(struct linker_extracts **x);

/* SIGHUP: reloads the projects file; a file that does not parse is refused
 * and the projects in force are kept. Audited either way (projects.reload). */
void linker_extracts_reload(struct linker_extracts *x);
/* Number of approved projects in force, and the file's SHA-256 (for the start's
 * audit entry). */
size_t linker_extracts_projects(const struct linker_extracts *x, uint8_t hash[XL_HASH_BYTES]);

/* An analyst's ExtractRequest (fd: its connection). Answers it directly or
 * later (res->kind LINKER_REPLY_LATER), or fills res with a refusal, whose
 * audit details are in res->refusal for the request table. */
void linker_extract_request(struct linker_extracts *x, const struct linker_actor *who,
                            const void *rid, size_t rlen, uint64_t request_id, int fd,
                            const Crosslink__ExtractRequest *q, struct linker_answer *res);

/* The loop calls this after each batch: answers extracts that are ready or
 * failed, and drops those left idle. */
void linker_extracts_tick(struct linker_extracts *x);

#endif
