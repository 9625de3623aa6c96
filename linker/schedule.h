/* Link runs of the service: after commits, once the service has been idle for
 * a moment, and at an admin's request. Every run is a child process
 * (`crosslink-linker link`), so ingest never waits on one; one runs at a time.
 *
 * A run owed after commits is known from the store (its commit counter against
 * the commits the latest run saw), so it survives a crash of the service; a
 * run that fails is tried again after a minute, then two, up to an hour. An
 * admin's request is answered when a run that started after it finishes: with
 * the run's counts and, when asked, its report. */
#ifndef LINKER_SCHEDULE_H
#define LINKER_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

/* Seconds without requests before a run owed after commits starts. */
#define LINKER_LINK_IDLE 2.0
/* Admin requests that may wait at once. */
#define LINKER_LINK_WAITING 16

struct linker_schedule;

/* A schedule for srv (which it keeps a pointer to); a run is owed at once if
 * the store says so. NULL when out of memory or the store cannot be read (err
 * says why). */
struct linker_schedule *linker_schedule_new(struct linker_server *srv, char *err, size_t errlen);
/* Waits for a run in progress, answers the requests still waiting with an
 * error, and frees *s. Accepts NULL. */
void linker_schedule_destroy(struct linker_schedule **s);

/* A commit was made: a run is owed. */
void linker_schedule_owed(struct linker_schedule *s);
/* Someone waits for the owed run (an analyst's extract): it starts at the
 * next tick, without waiting for LINKER_LINK_IDLE seconds of quiet. */
void linker_schedule_wanted(struct linker_schedule *s);
/* An admin's request (request_id from the peer with routing id rid, on
 * connection fd) for a run, with its report when report is set. 0, or
 * XL_ERR_UNAVAILABLE when LINKER_LINK_WAITING requests already wait. */
int linker_schedule_request(struct linker_schedule *s, const void *rid, size_t rlen,
                            uint64_t request_id, int report, int fd, const char *key_id);

/* The loop calls this after each batch of requests: reaps a finished run and
 * answers the requests it served, then starts the next run when one is
 * waiting (at once for a request, after LINKER_LINK_IDLE seconds without
 * requests for commits). last_request is xl_monotonic() of the last request. */
void linker_schedule_tick(struct linker_schedule *s, double last_request);

/* 1 while a run is in progress. */
int linker_schedule_running(const struct linker_schedule *s);

#endif
