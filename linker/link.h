/* A link run over the store: every record of the current committed submissions
 * of the configured epoch, through the matching engine (match.h); the result
 * stored (link_runs, link_records, link_conflicts) and audited (`link.run`).
 * Used by `crosslink-linker link`, by the service after commits, and for an
 * admin's link request. */
#ifndef LINKER_LINK_H
#define LINKER_LINK_H

#include <stdint.h>
#include <stdio.h>

#include "ingest.h"

struct linker_link_summary {
    int64_t run;
    uint64_t records, links, clusters, conflicts, possible;
    uint8_t cluster_hash[32];
    double seconds;
};

/* Runs the link. With report non-NULL, writes the operator's report there:
 * link counts per agency pair and evidence level, match rates, the score
 * distribution against the thresholds, conflicts. actor/role name who asked
 * (for the audit entry). 0, or an error with the message in err. */
int linker_link(struct linker_ctx *ctx, const char *actor, const char *role, FILE *report,
                struct linker_link_summary *sum, char *err, size_t errlen);

#endif
