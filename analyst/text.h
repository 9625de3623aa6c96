/* The summary as plain text, for the terminal and for pasting into a
 * document: every count as analyst/sdc.h allows it to be shown. */
#ifndef ANALYST_TEXT_H
#define ANALYST_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "summary.h"

/* Writes s to out. 0, or XL_ERR_IO with a message in err. */
int analyst_text_write(const struct analyst_summary *s, FILE *out, char *err, size_t errlen);

#endif
