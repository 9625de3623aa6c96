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
#include "match.h"

struct linker_link_summary {
    int64_t run;
    uint64_t records, links, clusters, conflicts, possible;
    uint8_t cluster_hash[32];
    double seconds;
};

/* The name of a match-key level of spec as the link report prints it
 * ("nhs", "name_dob" ...; "fuzzy" for 0, the model's evidence alone; "?" for
 * a level the specification does not have). Never NULL. */
const char *linker_key_level_name(const struct xl_spec *spec, unsigned level);

/* Progress of linker_link on stderr: 0 none (the default), 1 one line kept up
 * to date (a terminal), 2 a line per step and every 10 s (a log). */
void linker_link_progress(int mode);

/* Leaves one conflict per pair of records and kind, with its strongest
 * evidence (a match-key level, lower first, before the fuzzy score alone,
 * then the higher score), a < b, in order of a and b. The matcher meets a
 * pair once per level whose tokens it shares (eight times for a pair
 * agreeing on eight levels); the operator and the agency need it once.
 * Conflicts counted past those kept stay counted. */
void linker_conflicts_unique(struct linker_result *res);

/* Runs the link. With report non-NULL, writes the operator's report there:
 * link counts per agency pair and evidence level, match rates, the score
 * distribution against the thresholds, conflicts. actor/role name who asked
 * (for the audit entry). 0, or an error with the message in err. */
int linker_link(struct linker_ctx *ctx, const char *actor, const char *role, FILE *report,
                struct linker_link_summary *sum, char *err, size_t errlen);

#endif
