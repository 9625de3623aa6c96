/* `crosslink-audit report`: a self-contained HTML report of the audit log for
 * an information-governance board, in plain words, with inline SVG charts and
 * tables: which agency sent what and when, link runs, extracts by project,
 * refusals, key and project changes, purges, starts and stops, and every
 * other entry by kind. It holds only the fields of each event it knows and
 * counts; every text from the log is escaped. */
#ifndef AUDIT_REPORT_H
#define AUDIT_REPORT_H

#include <stddef.h>
#include <time.h>

/* Reads and verifies the whole log at log_path (entries.h), then writes the
 * report of the entries from first to last (both included; with first < 0
 * the whole log) to html_path: through a temporary file beside it, renamed
 * into place only when complete, so a log that does not verify leaves no
 * report behind. now is the time the report says it was written. 0, or the
 * reading's error (naming the entry), XL_ERR_IO or XL_ERR_NOMEM with a
 * message in err. */
int audit_report_html(const char *log_path, const char *html_path, time_t first, time_t last,
                      time_t now, char *err, size_t errlen);

#endif
