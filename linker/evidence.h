/* Link evidence bands: how a record came to be joined to its child, in words
 * an analyst can filter on. Never a raw score, which would help re-identify. */
#ifndef LINKER_EVIDENCE_H
#define LINKER_EVIDENCE_H

#include <stdint.h>

#include "xl/spec.h"

/* Strongest first. A project accepts links down to its min_evidence; a record
 * with no accepted link stands alone (single). */
enum linker_band {
    LINKER_BAND_IDENTIFIER = 0, /* an exact strong identifier (NHS number, UPN) */
    LINKER_BAND_KEYS = 1,       /* an exact match key (names, date of birth...) */
    LINKER_BAND_PROBABLE = 2,   /* a fuzzy comparison at or above the accept threshold */
    LINKER_BAND_SINGLE = 3      /* no accepted link: the record alone */
};
#define LINKER_NBANDS 4

/* "identifier", "keys", "probable", "single". */
const char *linker_band_name(enum linker_band b);
/* The band of a link of this match-key level (0: fuzzy). */
enum linker_band linker_level_band(const struct xl_spec *spec, int level);

#endif
