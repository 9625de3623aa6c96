/* The agent's configuration (agent.conf) and the agency's column mapping file.
 *
 * agent.conf says where the agency's keys and the linkage specification are and
 * which mapping file describes the extract; the mapping file says which input
 * column holds which person field, how dates are written, which outcome
 * attributes to carry and what the dataset is called. Relative paths are taken
 * relative to the file that names them. See deploy/examples/. */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include <stddef.h>

#include "normalise.h"
#include "xl/spec.h"

#define AGENT_PATH_MAX     1024
#define AGENT_COLUMN_MAX   128
#define AGENT_MAX_OUTCOMES 64

/* The source columns a mapping can name: every person field the agent
 * normalises itself, plus the source id (local_ref). Derived fields (initials,
 * phonetic codes, district ...) are computed, not mapped. The date of birth is
 * one column (dob) or its parts in columns of their own (dob_year, dob_month,
 * dob_day); the parts are read as one dob value and reported as dob. */
enum agent_column {
    AGENT_COL_SOURCE_ID = 0,
    AGENT_COL_FIRST_NAME,
    AGENT_COL_MIDDLE_NAME,
    AGENT_COL_SURNAME,
    AGENT_COL_DOB,
    AGENT_COL_SEX,
    AGENT_COL_POSTCODE,
    AGENT_COL_NHS_NUMBER,
    AGENT_COL_UPN,
    AGENT_COL_ADDRESS,
    AGENT_COL_LOCALITY,
    AGENT_COL_OTHER_ID,
    AGENT_COL_DOB_YEAR,
    AGENT_COL_DOB_MONTH,
    AGENT_COL_DOB_DAY,
    AGENT_COL_COUNT
};
const char *agent_column_name(enum agent_column c);

enum agent_outcome_type {
    AGENT_OUT_INT,
    AGENT_OUT_DECIMAL,
    AGENT_OUT_BOOL,
    AGENT_OUT_DATE,
    AGENT_OUT_TEXT
};
const char *agent_outcome_type_name(enum agent_outcome_type t);

struct agent_outcome {
    char name[64];                 /* attribute name the analyst sees */
    char column[AGENT_COLUMN_MAX]; /* input column */
    enum agent_outcome_type type;
    char date_formats[128]; /* for AGENT_OUT_DATE */
};

#define AGENT_MAX_MISSING  32
#define AGENT_MISSING_WORD 32

struct agent_mapping {
    char path[AGENT_PATH_MAX];
    char dataset[64];
    int one_per_person;
    char delimiter;    /* between fields: ',' (default), ';', '\t' or '|' */
    char encoding[32]; /* the file's character set for iconv; "" = UTF-8 */
    /* "" = not mapped. A text field (address, locality) may name several
     * columns joined with " + ", read as one value separated by spaces. */
    char columns[AGENT_COL_COUNT][AGENT_COLUMN_MAX];
    int postcode_uk;   /* 1: UK postcodes validated; 0: any letters and digits */
    unsigned required; /* bit per agent_column: a failure rejects the row */
    /* Values that mean "not known" in any person field (not the source id or
     * outcomes): lower case, inner white space one space. The built-in list
     * unless the mapping sets `missing` (and adds with `missing_add`). */
    char missing[AGENT_MAX_MISSING][AGENT_MISSING_WORD];
    size_t nmissing;
    char dob_formats[128];
    /* ref left zero (no `reference` in [dob]): filled with today at run time.
     * partial: a year alone, or a year and month, is accepted as partial. */
    struct agent_date_rules dob_rules;
    struct agent_outcome outcomes[AGENT_MAX_OUTCOMES];
    size_t noutcomes;
};

struct agent_config {
    char path[AGENT_PATH_MAX];
    char agency[64];
    char spec_path[AGENT_PATH_MAX];
    char secret_path[AGENT_PATH_MAX]; /* linkage secret (from the bundle) */
    char local_key_path[AGENT_PATH_MAX];
    char analysis_path[AGENT_PATH_MAX]; /* analysis public key */
    char mapping_path[AGENT_PATH_MAX];
    double max_reject_rate; /* validate/encode exit non-zero above it */
    /* [linker], used by submit */
    char endpoint[256];
    char server_key_path[AGENT_PATH_MAX];
    char sign_key_path[AGENT_PATH_MAX]; /* linker's public signing key, to check receipts */
    char agent_key_path[AGENT_PATH_MAX];
    char state_dir[AGENT_PATH_MAX]; /* receipts and resumable submissions */
    unsigned chunk_records;
};

/* Load agent.conf / a mapping file. XL_ERR_NOTFOUND, XL_ERR_IO or XL_ERR_FORMAT
 * with the file and line in err. */
int agent_config_load(const char *path, struct agent_config *out, char *err, size_t errlen);
int agent_mapping_load(const char *path, struct agent_mapping *out, char *err, size_t errlen);

/* 1 when v[0..len) is one of the mapping's missing-value words, compared
 * without case after trimming, runs of white space inside counting as one. */
int agent_mapping_missing(const struct agent_mapping *m, const char *v, size_t len);

/* The words a mapping starts with (NULL-terminated), for documentation and tests. */
extern const char *const agent_missing_default[];

#endif
