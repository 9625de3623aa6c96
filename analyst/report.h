/* The summary as one self-contained HTML file for a board paper: the project,
 * its purpose and legal basis, the disclosure rules in plain words, and each
 * table with an inline SVG chart drawn from the same shown (rounded) numbers.
 * No script, no external resource; a print stylesheet fits the charts to A4. */
#ifndef ANALYST_REPORT_H
#define ANALYST_REPORT_H

#include <stddef.h>

#include "summary.h"

/* Writes the report to path (through a temporary file renamed into place; the
 * file is its owner's alone under the CLI's umask). 0, or XL_ERR_IO /
 * XL_ERR_NOMEM with a message in err naming the path. */
int analyst_report_html(const struct analyst_summary *s, const char *path, char *err,
                        size_t errlen);

#endif
