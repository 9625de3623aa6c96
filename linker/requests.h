/* The linker's requests: one table that says, for every Envelope body a peer
 * may send, which roles may send it, whether an agent may send it only for its
 * own agency, whether it runs off the request loop, the audit event of its
 * refusal and the function that answers it. Authorisation, the refusal's audit
 * entry and its rate limit are decided here, once, for every request; the
 * handlers (ingest.c, schedule.c) only check and do. docs/linker.md has the
 * table in words. */
#ifndef LINKER_REQUESTS_H
#define LINKER_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"
#include "server.h"

/* The longest routing id a peer's message may carry (libzmq makes 5 bytes;
 * longer ones are dropped), so an answer given later can keep a copy. */
#define LINKER_RID_MAX 256

/* Receives and answers one message from the router. Returns 1 if one was
 * handled, 0 if none was waiting. */
int linker_request_next(struct linker_server *srv);

/* Sends res as the answer to request request_id, to the peer whose routing id
 * is rid (for answers given after the loop moved on). */
void linker_reply(struct linker_server *srv, const void *rid, size_t rlen, uint64_t request_id,
                  const struct linker_answer *res);

/* Sends an encoded envelope (msg, len) to the peer whose routing id is rid:
 * for answers built outside the table (extract pages). */
void linker_send(struct linker_server *srv, const void *rid, size_t rlen, const uint8_t *msg,
                 size_t len);

/* The table's row for body name ("submit_chunk"), for tests and docs: roles
 * as a mask of 1 << XL_ROLE_*, own_agency and runs_long as 0/1. 0, or
 * XL_ERR_NOTFOUND for a body the linker does not serve. */
int linker_request_rule(const char *body, unsigned *roles, int *own_agency, int *runs_long);

#endif
