/* Approved projects: the only way data leaves the linker.
 *
 * One INI file beside the keyring (deploy/examples/projects), one section per
 * project, the section name its id:
 *
 *   [positive-directions-2026]
 *   purpose = Evaluate the Positive Directions programme's outcomes
 *   legal_basis = UK GDPR 6(1)(e) and 9(2)(h); DPA 2018 Sch 1 para 2
 *   analysts = <key id> <key id>        ; analyst keys allowed to extract
 *   datasets = csc/programme wmp/youth-justice icb/health   ; agency/dataset each
 *                                       ; ("icb" + "/" + "*": every dataset of icb)
 *   cohort = csc/programme              ; optional: whose children form the cohort
 *   index_date = support_start          ; optional: the cohort dataset's date for before/after
 *   population = all                    ; all (cohort and comparison) or cohort (cohort only)
 *   expires = 2027-03-31                ; the last day extracts are allowed
 *   min_evidence = keys                 ; identifier, keys or probable (default probable)
 *   sdc_min_count = 10                  ; counts below this are suppressed (0 = off)
 *   sdc_round_to = 5                    ; other counts rounded to a multiple (1 = off)
 *
 * The service loads it at start and on SIGHUP (with the keyring); a file that
 * does not parse is refused whole and the projects in force are kept. A
 * missing file means no approved projects: every extract is refused. */
#ifndef LINKER_PROJECTS_H
#define LINKER_PROJECTS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "evidence.h"
#include "xl/crypto.h"
#include "xl/keyfile.h"
#include "xl/keyring.h"

#define LINKER_PROJECT_TEXT_MAX     512
#define LINKER_PROJECT_MAX_ANALYSTS 32
#define LINKER_PROJECT_MAX_DATASETS 64
#define LINKER_PROJECTS_MAX         256

struct linker_project_dataset {
    char agency[XL_NAME_MAX];
    char dataset[XL_NAME_MAX]; /* "*": every dataset of the agency */
};

struct linker_project {
    char id[XL_NAME_MAX];
    char purpose[LINKER_PROJECT_TEXT_MAX];
    char legal_basis[LINKER_PROJECT_TEXT_MAX];
    char analysts[LINKER_PROJECT_MAX_ANALYSTS][XL_KEYID_HEX + 1];
    size_t nanalysts;
    struct linker_project_dataset datasets[LINKER_PROJECT_MAX_DATASETS];
    size_t ndatasets;
    struct linker_project_dataset cohort; /* agency "" = no cohort */
    char index_date[XL_NAME_MAX];         /* "" = none */
    int cohort_only;                      /* population = cohort */
    char expires[11];                     /* YYYY-MM-DD */
    enum linker_band min_evidence;        /* IDENTIFIER, KEYS or PROBABLE */
    unsigned sdc_min_count, sdc_round_to;
};

struct linker_projects {
    struct linker_project *p;
    size_t n;
    int present;                 /* 0: there is no projects file */
    uint8_t hash[XL_HASH_BYTES]; /* SHA-256 of the file (zero when absent) */
};

/* Loads the projects file at path. A missing file gives an empty set with
 * present = 0; a file that does not parse is XL_ERR_FORMAT naming its line. */
int linker_projects_load(const char *path, struct linker_projects **out, char *err, size_t errlen);
void linker_projects_free(struct linker_projects **ps);
/* Parses text (len bytes, with room for one more: a NUL is written at
 * text[len]) into ps, a zeroed set the caller frees with linker_projects_free
 * whatever the result. name is used in messages. */
int linker_projects_parse(char *text, size_t len, const char *name, struct linker_projects *ps,
                          char *err, size_t errlen);

/* 1 when the project draws on agency/dataset. */
int linker_project_has_dataset(const struct linker_project *p, const char *agency,
                               const char *dataset);

/* Why an extract request is refused: the rule's name goes into the audit
 * entry, the message (naming the project, the key and the rule) to the
 * analyst. */
struct linker_project_refusal {
    const char *rule; /* "no_projects", "unknown_project", "key_not_listed", "expired",
                         "dataset_not_approved" */
    char msg[512];
};

/* Authorises key_id to extract project id today (YYYY-MM-DD, UTC), narrowed
 * to the datasets given ("agency/dataset", may be none = all the project's).
 * 0 with *out set, or XL_ERR_NOTFOUND / XL_ERR_DENIED with why filled in. */
int linker_project_authorise(const struct linker_projects *ps, const char *id, const char *key_id,
                             const char *today, char *const *datasets, size_t ndatasets,
                             const struct linker_project **out, struct linker_project_refusal *why);

/* The changes from old to new for the reload's audit entry: {"added": [...],
 * "removed": [...], "changed": [...]} of project ids. NULL when out of memory. */
cJSON *linker_projects_diff(const struct linker_projects *old, const struct linker_projects *new);

#endif
