/* The analyst's Stata .dta writer: the person-level extract (one row per child)
 * as a dta version 118 file (Stata 14 and later, UTF-8), written through
 * ReadStat, so that Stata, R haven, pandas and SPSS open it.
 *
 * Usage: analyst_dta_open() with the variables and the number of rows, one
 * analyst_dta_row() per row, then analyst_dta_close(). After any error the file
 * is incomplete: call analyst_dta_abort() (or analyst_dta_close(), which frees
 * too) and delete the file; neither function deletes it.
 *
 * How each type is stored:
 *  - ANALYST_V_INT: Stata long (int32). Stata keeps the top of the int32 range
 *    for its missing codes, so a value outside -2147483647..2147483620 is
 *    refused with XL_ERR_TOOBIG; a column that may hold larger integers is
 *    declared ANALYST_V_DECIMAL (a double holds integers exactly to 2^53).
 *  - ANALYST_V_DECIMAL: double. NaN and infinities are refused (XL_ERR_FORMAT),
 *    values above Stata's largest double (8.988e307) too (XL_ERR_TOOBIG).
 *  - ANALYST_V_BOOL: byte (int8) with the value label set "yesno"
 *    (0 "no", 1 "yes").
 *  - ANALYST_V_DATE: Stata daily date, int32 days since 1960-01-01, display
 *    format %td; years 0100 to 9999, the range %td shows.
 *  - ANALYST_V_TEXT: str<width> when width <= 2045 bytes (Stata's longest
 *    fixed-width string), otherwise strL. ReadStat sizes the strL section in
 *    the file's map, which precedes the data, so a file with a strL variable
 *    keeps every row in memory and writes them all at analyst_dta_close();
 *    its write errors show there.
 * A missing value ("") is Stata's system missing (".") for numbers and "" for
 * strings. Text must be valid UTF-8 and at most width bytes.
 *
 * Messages name the file or the variable, never a value: the values are
 * person-level data. */
#ifndef ANALYST_DTA_H
#define ANALYST_DTA_H

#include <stddef.h>
#include <stdint.h>

/* Limits of dta 118. */
#define ANALYST_DTA_NAME_MAX  32    /* bytes in a variable name */
#define ANALYST_DTA_LABEL_MAX 80    /* bytes in a variable or dataset label */
#define ANALYST_DTA_STR_MAX   2045  /* longest str#; longer text is strL */
#define ANALYST_DTA_VARS_MAX  32767 /* variables in a dataset */

enum analyst_vtype {
    ANALYST_V_INT,
    ANALYST_V_DECIMAL,
    ANALYST_V_BOOL,
    ANALYST_V_DATE,
    ANALYST_V_TEXT
};

struct analyst_dta_var {
    /* Column name: already a valid Stata name, 1 to 32 characters of
     * [A-Za-z_][A-Za-z0-9_]*, not a Stata reserved word (int, _n, str5 ...),
     * and unique among the variables. */
    const char *name;
    /* Variable label (UTF-8; NULL for none); cut to 80 bytes at a character
     * boundary. */
    const char *label;
    enum analyst_vtype type;
    /* ANALYST_V_TEXT: the longest value in bytes (>= 1); ignored otherwise. */
    size_t width;
};

struct analyst_dta;

/* Creates (or truncates) path with mode 0600 for nrows rows of the nvars
 * variables. file_label is the dataset label (UTF-8, NULL for none), cut to 80
 * bytes like a variable label. The variables are copied: vars need not outlive
 * the call. Returns 0 and the writer in *out (the caller frees it with
 * analyst_dta_close or analyst_dta_abort); XL_ERR_INVALID naming the variable
 * for a bad name, type, width or label, XL_ERR_TOOBIG when nrows is over
 * INT_MAX (ReadStat's limit), XL_ERR_IO (or XL_ERR_NOSPACE) naming the path,
 * XL_ERR_NOMEM. *out is NULL on error and nothing is left open; the caller
 * deletes a file that was created. */
int analyst_dta_open(const char *path, const struct analyst_dta_var *vars, size_t nvars,
                     uint64_t nrows, const char *file_label, struct analyst_dta **out, char *err,
                     size_t errlen);

/* Writes one row: values[i] is the canonical text of variable i, "" for
 * missing. Canonical text: int as "%lld" writes it ([-]digits); decimal as
 * strtod reads it (no leading space); bool "1" or "0"; date "YYYY-MM-DD"; text
 * as it is. A value that does not parse for its type is XL_ERR_FORMAT, one
 * outside what the type holds XL_ERR_TOOBIG, both naming the variable and not
 * the value; such a row is not written and the writer stays usable. A write
 * error is XL_ERR_NOSPACE (filesystem or quota full) or XL_ERR_IO naming the
 * path, after which every call fails. XL_ERR_INVALID when all nrows rows have
 * been written already. */
int analyst_dta_row(struct analyst_dta *d, const char *const *values, char *err, size_t errlen);

/* Finishes the file (the strL and value-label sections), flushes it to disk
 * and frees *d, setting it to NULL; accepts NULL and *d == NULL (returns 0).
 * XL_ERR_INVALID when the number of rows written differs from nrows; an
 * earlier write error again; XL_ERR_NOSPACE or XL_ERR_IO naming the path when
 * finishing fails. *d is freed whatever the result. */
int analyst_dta_close(struct analyst_dta **d, char *err, size_t errlen);

/* Frees *d without finishing the file (on an error path) and sets it to NULL;
 * accepts NULL. The caller deletes the file. */
void analyst_dta_abort(struct analyst_dta **d);

#endif
