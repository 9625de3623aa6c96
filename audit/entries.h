/* Reading the audit log into entries for `show` and `report`, and the filters
 * they share.
 *
 * A log is read twice with the common reader (xl/auditlog.h), which checks
 * every entry's hash, its seq and its link to the entry before. The first pass
 * reads the whole log before anything is shown, so a log that does not verify
 * gives its error and no listing: an altered log is never presented as if it
 * were fine. That pass also learns which agency each agent key belongs to
 * (an entry's actor is a key id, and refusals of a key carry no agency), so
 * that `--agency` finds a key's entries from before its first submission too.
 * The second pass hands each entry that passes the filter to the caller. */
#ifndef AUDIT_ENTRIES_H
#define AUDIT_ENTRIES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "xl/crypto.h"

/* Most --event options one filter takes. */
#define AUDIT_FILTER_EVENTS 16

/* Which entries to take. All conditions given must hold; --event options
 * given more than once are alternatives. The strings are borrowed. */
struct audit_filter {
    int has_since, has_until;
    time_t since, until;                     /* first and last second taken, both included */
    const char *agency;                      /* details.agency, or the agency of the actor's key */
    const char *project;                     /* details.project */
    const char *events[AUDIT_FILTER_EVENTS]; /* event classes */
    size_t nevents;
};

/* One entry as read. Strings point into obj; a member that is missing or not
 * a string reads as "". */
struct audit_entry {
    uint64_t seq;
    const char *line; /* the entry's line as in the log, without its newline */
    size_t len;
    const char *time_text, *actor, *role, *event;
    time_t time;          /* -1 when the time member is not a valid UTC time */
    const cJSON *details; /* the details object, or NULL when there is none */
};

/* Parses a date "YYYY-MM-DD", or a time "YYYY-MM-DDTHH:MM:SS" (a space may
 * stand for the T) with an optional trailing "Z", as UTC. For a date, *t is
 * its first second, or its last when end_of_day is set, so that a range of
 * dates includes both ends. 0, or XL_ERR_INVALID for anything else (a day
 * the month does not have, an hour past 23, trailing text); *t is set to -1
 * first. */
int audit_parse_time(const char *s, int end_of_day, time_t *t);

/* Parses a month "YYYY-MM" into its first and last second (UTC). 0, or
 * XL_ERR_INVALID; *first and *last are set to -1 first. */
int audit_parse_month(const char *s, time_t *first, time_t *last);

/* Whether event belongs to the class cls: it is cls, or starts with cls and a
 * dot ("extract" takes "extract" and "extract.delivered", not "extractx"). */
int audit_event_in_class(const char *event, const char *cls);

/* Whether cls can name an event class: not empty, no empty part between dots,
 * and only lower-case letters, digits, '_', '-' and '.'. */
int audit_event_class_valid(const char *cls);

/* Parses one entry's line (len bytes, not necessarily NUL-terminated) into *e.
 * It does not check the hash (the reader does). 0 with *obj set (the caller
 * frees it with cJSON_Delete; e points into it and into line), or
 * XL_ERR_FORMAT when the line is not a JSON object (or memory ran out). */
int audit_entry_parse(const char *line, size_t len, struct audit_entry *e, cJSON **obj);

/* A string member of the entry's details, or NULL. */
const char *audit_detail_str(const struct audit_entry *e, const char *name);
/* A member of the entry's details that is a whole number from 0 to 2^53:
 * 1 with *v set, else 0 (absent, not a number, negative or fractional). */
int audit_detail_u64(const struct audit_entry *e, const char *name, uint64_t *v);

/* The agencies of agent keys, as the log shows them. */
struct audit_keys;

/* NULL when out of memory. Free with audit_keys_destroy. */
struct audit_keys *audit_keys_new(void);
/* Frees *k and sets it to NULL; accepts NULL. */
void audit_keys_destroy(struct audit_keys **k);
/* Learns from e: a keyring reload names the agency of each agent key it
 * added, revoked or removed, as the keyring binds it; a submission begun or
 * committed by an agent key (its details.key_id the actor) shows the key's
 * agency too, since the linker admits those for the key's own agency only.
 * Other entries teach nothing: a refused begin names the agency the key asked
 * for, which need not be its own. 0 or XL_ERR_NOMEM. */
int audit_keys_learn(struct audit_keys *k, const struct audit_entry *e);
/* Whether the log shows key_id as agency's. */
int audit_keys_has(const struct audit_keys *k, const char *key_id, const char *agency);

/* Whether e passes f; keys (may be NULL) gives the agencies of actors. */
int audit_entry_matches(const struct audit_entry *e, const struct audit_filter *f,
                        const struct audit_keys *keys);

/* What the reading found: the whole log, whatever the filter. */
struct audit_log_info {
    uint64_t entries;                 /* entries in the log, every one verified */
    uint64_t matched;                 /* entries that passed the filter */
    time_t first, last;               /* times of the first and last entry, -1 if none */
    uint8_t last_hash[XL_HASH_BYTES]; /* chain hash of the last entry (zero for none) */
};

/* Called for each entry that passes the filter, in the log's order; e is
 * valid during the call only. A non-zero return stops the reading and is
 * returned, with the message in err. */
typedef int (*audit_entry_fn)(void *ctx, const struct audit_entry *e, char *err, size_t errlen);

/* Reads the log at path as described at the top of this file, calling fn (may
 * be NULL) for each entry that passes f (may be NULL for every entry). 0 with
 * *info (may be NULL) filled in; the reader's error (XL_ERR_NOTFOUND,
 * XL_ERR_IO, XL_ERR_FORMAT naming the file, the entry, its byte offset and
 * what is wrong) before fn is called at all; XL_ERR_NOMEM; or fn's return. */
int audit_log_each(const char *path, const struct audit_filter *f, audit_entry_fn fn, void *ctx,
                   struct audit_log_info *info, char *err, size_t errlen);

#endif
