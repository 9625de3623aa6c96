/* Rows spread over bucket files, for work on more rows than memory should
 * hold: the linker's shuffle of an extract (each row to a bucket drawn at
 * random, each bucket then shuffled in memory) and the analyst's grouping of
 * a child's rows (each row to the bucket of its pseudonym, each bucket then
 * sorted in memory). A row is a 4-byte big-endian length and that many bytes.
 *
 * The files are unlinked from the start (O_TMPFILE, or created and unlinked
 * where the filesystem has no O_TMPFILE): nothing is left behind by a crash.
 * Their stdio buffers come from one allocation, so many buckets cost a fixed
 * amount of memory. */
#ifndef XL_BUCKETS_H
#define XL_BUCKETS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A new unlinked temporary file in dir, opened for reading and writing: its
 * descriptor, or an XL_ERR_* (negative) with err naming dir. */
int xl_tmpfile(const char *dir, char *err, size_t errlen);
/* The same as a stdio stream ("w+"); NULL with err set. */
FILE *xl_tmpstream(const char *dir, char *err, size_t errlen);

struct xl_buckets {
    FILE **f; /* [n] */
    size_t n;
    char *buf; /* their stdio buffers */
};

/* Opens enough buckets in dir for rows rows at about per_bucket each (at
 * least one, at most max), with buffers bytes of stdio buffer among them.
 * On error nothing is left open. */
int xl_buckets_open(struct xl_buckets *b, const char *dir, uint64_t rows, uint64_t per_bucket,
                    size_t max, size_t buffers, char *err, size_t errlen);
/* Closes the files and frees b's memory; accepts a closed or zeroed b. */
void xl_buckets_close(struct xl_buckets *b);

/* One bucket read back whole: data, and the offset of each row's length in it. */
struct xl_bucket_rows {
    uint8_t *data;
    size_t len;
    size_t *off; /* [n] */
    size_t n;
};

/* Reads back everything written to f (flushed first) into rows (free with
 * xl_bucket_rows_free; empty for an empty bucket). XL_ERR_FORMAT for rows
 * that do not fill it exactly. */
int xl_bucket_read(FILE *f, struct xl_bucket_rows *rows, char *err, size_t errlen);
void xl_bucket_rows_free(struct xl_bucket_rows *rows);

#endif
