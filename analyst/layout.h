/* The columns of an extract's files, from its manifest: for each dataset, its
 * agency, name, column prefix and outcome attributes (name, type, column).
 *
 * Column names are valid Stata names, so one name serves the CSV files, the
 * data dictionary and the .dta: lower case letters, digits and '_', at most
 * 32 characters, starting with a letter. A dataset's prefix is its name
 * ("youth_justice"), or agency_dataset when two agencies use one name; an
 * attribute's column is prefix_attribute, cut to 32 characters and numbered
 * when that makes two alike. docs/analyst.md lists the files. */
#ifndef ANALYST_LAYOUT_H
#define ANALYST_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "dta.h"
#include "xl/keyfile.h"

#define ANALYST_MAX_DATASETS 64
#define ANALYST_MAX_ATTRS    256
#define ANALYST_COL_MAX      33 /* 32 characters and the NUL */

struct analyst_attr {
    char name[XL_NAME_MAX];
    char type[16]; /* int, decimal, bool, date, text */
    enum analyst_vtype vtype;
    char col[ANALYST_COL_MAX];
};

struct analyst_dataset {
    char agency[XL_NAME_MAX];
    char dataset[XL_NAME_MAX];
    char prefix[ANALYST_COL_MAX];
    char records_col[ANALYST_COL_MAX]; /* prefix_records */
    struct analyst_attr attr[ANALYST_MAX_ATTRS];
    size_t nattr;
    uint64_t rows; /* as the manifest counts them */
    uint64_t seen; /* as received */
    int is_cohort;
    int index_attr; /* the attribute that is the project's index date, or -1 */
};

struct analyst_layout {
    struct analyst_dataset *ds; /* [nds] */
    size_t nds;
    int cohort; /* index of the cohort dataset, or -1 */
    char project[XL_NAME_MAX];
    uint64_t rows, pages;
    uint64_t bands[4]; /* identifier, keys, probable, single */
};

/* Builds the layout from a verified manifest (parsed JSON). XL_ERR_FORMAT
 * naming the member that is missing or wrong. Free with analyst_layout_free. */
int analyst_layout_from_manifest(const cJSON *m, struct analyst_layout *l, char *err,
                                 size_t errlen);
void analyst_layout_free(struct analyst_layout *l);
/* The dataset index of agency/dataset, or -1. */
int analyst_layout_find(const struct analyst_layout *l, const char *agency, const char *dataset);
/* The index of an evidence band's name, or -1. */
int analyst_band_index(const char *name);
extern const char *const analyst_bands[4];

#endif
