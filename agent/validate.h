/* From a CSV row to a validated person and canonical outcome values, with the
 * problems found. A problem names the field and a reason code, never the value.
 *
 * Policy: a failure in a field the mapping lists as required rejects the row
 * (nothing of it is encoded, it goes to the reject file); a failure in another
 * field leaves that field out (the levels that need it are skipped) and is
 * reported as a warning. Nothing is guessed: what can still be read from a
 * refused name, date, postcode or other id (its letters, its digits) is kept
 * apart in person.salvage for the fuzzy comparison only (encode.h), and the
 * issue says so. A value the mapping lists as a missing-value word counts as
 * empty. A partial date of birth (mapping option partial) is reported
 * (date_partial) but never rejects the row. */
#ifndef AGENT_VALIDATE_H
#define AGENT_VALIDATE_H

#include <stddef.h>

#include "config.h"
#include "encode.h"
#include "xl/csv.h"

/* Reasons beyond the normalisers' (enum agent_reason). */
enum agent_row_reason {
    AGENT_RR_FIELD_COUNT = AGENT_R_COUNT, /* the row has fewer or more fields than the header */
    AGENT_RR_NOT_INTEGER,
    AGENT_RR_NOT_NUMBER,
    AGENT_RR_NOT_YES_NO,
    AGENT_RR_TEXT_TOO_LONG,
    AGENT_RR_COUNT
};
const char *agent_issue_code(int reason);
const char *agent_issue_text(int reason);

/* Where each mapped column is in the extract. */
struct agent_layout {
    int col[AGENT_COL_COUNT];      /* -1 when not mapped */
    int extra[AGENT_COL_COUNT][3]; /* further columns joined to col (" + ") */
    int nextra[AGENT_COL_COUNT];
    int outcome[AGENT_MAX_OUTCOMES];
    size_t noutcomes;
    size_t min_fields;    /* a row needs this many fields */
    size_t header_fields; /* and may have no more than the header */
};

/* Resolves the mapping's column names against the header record the reader has
 * just returned (trimmed; compared exactly, then without case). Mapped columns
 * missing from the header are XL_ERR_FORMAT naming every one of them (not only
 * the first) and the mapping file. */
int agent_layout_from_header(const struct agent_mapping *m, const struct xl_csv *csv,
                             size_t nfields, struct agent_layout *out, char *err, size_t errlen);

#define AGENT_MAX_ISSUES       (AGENT_COL_COUNT + AGENT_MAX_OUTCOMES)
#define AGENT_OUTCOME_TEXT_MAX 256

struct agent_issue {
    int field;    /* an agent_column, or AGENT_COL_COUNT + outcome index */
    int reason;   /* enum agent_reason or enum agent_row_reason */
    int fatal;    /* the row is rejected because of it */
    int salvaged; /* a salvaged form is kept for the fuzzy comparison */
};

/* The result for one row. Holds identifiers: agent_row_wipe when done. */
struct agent_row {
    struct agent_person person;
    char joined[2][AGENT_NAME_IN_MAX]; /* address and locality read from several columns */
    char dob_parts[64];                /* "Y-M-D" from dob_year, dob_month, dob_day */
    char outcome_text[AGENT_MAX_OUTCOMES][AGENT_OUTCOME_TEXT_MAX];
    const char *outcomes[AGENT_MAX_OUTCOMES];
    struct agent_issue issues[AGENT_MAX_ISSUES];
    size_t nissues;
    int rejected;
};
void agent_row_wipe(struct agent_row *r);

/* Validates the reader's current record into out. */
void agent_validate_row(const struct agent_mapping *m, const struct agent_layout *l,
                        const struct xl_csv *csv, size_t nfields, struct agent_row *out);

/* Name of an issue's field for reports: the spec field or the outcome name. */
const char *agent_issue_field(const struct agent_mapping *m, int field);

#endif
