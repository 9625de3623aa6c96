/* `crosslink-analyst summary`: the cohort outcome summary of an extract
 * directory, under statistical disclosure control.
 *
 * analyst_summary_load reads DIR (manifest.json, dictionary.csv, people.csv as
 * `extract` writes them), counts children per group (the cohort and the other
 * children of the extract as a comparison group, or all children when the
 * project has no cohort) into tables, and applies the project's disclosure
 * rules (analyst/sdc.h) to every count. The tables hold sdc cell indices, not
 * numbers: whoever prints a table asks the sdc set what may be shown, so no
 * printer can show a true count by mistake. */
#ifndef ANALYST_SUMMARY_H
#define ANALYST_SUMMARY_H

#include <stddef.h>
#include <stdio.h>

#include "sdc.h"

enum analyst_chart {
    ANALYST_CHART_NONE = 0,
    ANALYST_CHART_BARS,  /* a bar per row and column: counts */
    ANALYST_CHART_RATES, /* a rate with its interval per row and column */
    ANALYST_CHART_MATRIX /* rows and columns are datasets; upper triangle filled */
};

/* One cell of a table. */
struct analyst_entry {
    int count;    /* sdc cell of the count, -1: no entry */
    int den;      /* sdc cell of the rate's denominator, -1: no rate */
    int has_mean; /* decimal outcomes: the mean, shown only when count is shown */
    double mean;
};

struct analyst_table {
    char *title; /* heading */
    char *note;  /* one sentence saying what the numbers count */
    char *group; /* the group the table is for (matrix tables), or NULL */
    enum analyst_chart chart;
    size_t nrows, ncols;
    char **rows;             /* row labels (from data: escape before display) */
    char **cols;             /* column headings */
    struct analyst_entry *e; /* nrows * ncols, row by row */
};

struct analyst_summary {
    char *project, *purpose, *legal_basis, *created, *cohort, *index_date;
    long long run;
    char **datasets; /* "agency/dataset", manifest order */
    size_t ndatasets;
    struct analyst_sdc *sdc;
    struct analyst_table *tables;
    size_t ntables;
};

/* Reads the extract directory dir and builds its summary: 0 with a new summary
 * in *out (caller frees with analyst_summary_destroy), or a negative XL_ERR_*
 * with a message in err naming the file and row (never a value). */
int analyst_summary_load(const char *dir, struct analyst_summary **out, char *err, size_t errlen);

/* Frees *s and sets it to NULL. Accepts NULL and a pointer to NULL. */
void analyst_summary_destroy(struct analyst_summary **s);

/* Text for one entry of a table, into buf (size len); returns buf. Counts are
 * shown rounded or replaced by the rule that suppressed them; with a
 * denominator, "15 of 45: 33% (21% to 48%)" or the rate withheld. */
const char *analyst_entry_text(const struct analyst_summary *s, const struct analyst_entry *e,
                               char *buf, size_t len);

/* The disclosure rules in force for s, in plain words: calls line once per
 * rule with one paragraph of text (valid during the call only). */
void analyst_sdc_words(const struct analyst_summary *s, void (*line)(void *arg, const char *text),
                       void *arg);

/* The whole command: loads dir, writes the text summary to out and, when
 * html_path is non-NULL, the HTML report there. 0, or a negative XL_ERR_* with
 * a message in err. */
int analyst_summary(const char *dir, const char *html_path, FILE *out, char *err, size_t errlen);

#endif
