/* Text written into the HTML reports (the analyst's summary, the IG lead's
 * audit report): whatever comes from data, a manifest or the log is escaped
 * through here, so it can never become markup. */
#ifndef XL_HTML_H
#define XL_HTML_H

#include <stddef.h>
#include <stdio.h>

/* s escaped for HTML text and attribute values; control bytes are dropped.
 * NULL writes nothing. */
void xl_html_esc(FILE *f, const char *s);

/* xl_html_esc of s cut to n bytes at a UTF-8 character boundary, with an
 * ellipsis: a chart label that cannot run into the bars (the tables hold the
 * text whole). Longer limits than 120 bytes write s whole. */
void xl_html_esc_short(FILE *f, const char *s, size_t n);

#endif
