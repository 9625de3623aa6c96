/* Retention: superseded and abandoned submissions are purged once they are
 * older than the configured `retention`, and the space goes back to the
 * filesystem. Each purge is audited (`submission.purged`) before it happens.
 * A superseded submission loses its chunks (its records) and keeps its row:
 * its receipt, audit trail and input identity stay, so an older file is
 * still recognised when it is sent again. An abandoned (open) submission is
 * removed whole. Run by `crosslink-linker purge` and by the service once a
 * day. */
#ifndef LINKER_PURGE_H
#define LINKER_PURGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ingest.h"

struct linker_purge_summary {
    uint64_t submissions; /* purged */
    uint64_t records;     /* stored records they held */
    int vacuumed;         /* an older database was VACUUMed once */
};

/* Purges what ctx's retention makes due at time now, auditing each as actor
 * and role, and listing each on out when out is not NULL. With dry_run, only
 * lists. 0, or an error (what was purged before it stays purged). */
int linker_purge(struct linker_ctx *ctx, int64_t now, const char *actor, const char *role,
                 int dry_run, FILE *out, struct linker_purge_summary *sum, char *err,
                 size_t errlen);

#endif
