/* The person-level files of an extract: one row per pseudonym.
 *
 * The extract's rows arrive in random order; extract.c writes each decrypted
 * row to one of several bucket files chosen by its pseudonym, so that a
 * child's rows share a bucket. Here each bucket is read and sorted in turn
 * (memory: one bucket), and each child's rows become one row of people.csv and
 * people.dta, with one column per dataset attribute. Where a dataset holds
 * several records of a child, the person-level value is, by type: int and
 * decimal the largest, bool 1 if any record says 1, date the earliest, text
 * the most frequent (the first in sort order on a tie); records.csv keeps every
 * record. dictionary.csv describes every column of both CSV files.
 *
 * Bucket rows: a 4-byte big-endian length, then the 16-byte pseudonym, the
 * dataset index (1 byte), the band (1 byte) and, for each of the dataset's
 * attributes, a 2-byte big-endian length and the value's canonical text. */
#ifndef ANALYST_PEOPLE_H
#define ANALYST_PEOPLE_H

#include <stdint.h>
#include <stdio.h>

#include "layout.h"

#define ANALYST_PSEUDONYM_BYTES 16

/* Writes dir/people.csv, dir/people.dta and dir/dictionary.csv from the
 * buckets (read from their start; left at their end). *people gets the
 * number of children. */
int analyst_people_write(const struct analyst_layout *l, FILE *const *buckets, size_t nbuckets,
                         const char *dir, uint64_t *people, char *err, size_t errlen);

/* The header of records.csv (every column, then a newline). */
void analyst_records_header(const struct analyst_layout *l, FILE *f);

#endif
