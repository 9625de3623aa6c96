/* Helpers shared by crosslink's unit tests and benchmarks: temporary
 * directories, small file edits and known-answer vector files.
 *
 * No cmocka here: benchmarks link this code without cmocka, so helpers report
 * failure through their return value and the test asserts on it. */
#ifndef XL_TESTUTIL_H
#define XL_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A new empty directory $TMPDIR/xl-test-XXXXXX ($TMPDIR defaults to /tmp).
 * Returns its path (caller frees) or NULL. */
char *tu_tmpdir(void);
/* Removes path and everything under it. Accepts NULL. 0 or -1. */
int tu_rmtree(const char *path);
/* "dir/name" in a new string (caller frees); NULL on allocation failure. */
char *tu_path(const char *dir, const char *name);

/* Whole file as a NUL-terminated string (caller frees); NULL on error. */
char *tu_read_file(const char *path);
/* Replaces the contents of path with text, creating it with mode 0644 when it
 * does not exist; an existing file keeps its mode. 0 or -1. */
int tu_write_file(const char *path, const char *text);
/* Replaces the first occurrence of from by to in the file at path (mode kept).
 * 0, or -1 when from does not occur or the file cannot be rewritten. */
int tu_file_replace(const char *path, const char *from, const char *to);
/* Permission bits (st_mode & 07777) of path, or -1. */
int tu_file_mode(const char *path);

/* Known-answer vector files: records of "name = value" lines separated by
 * blank lines, '#' comment lines; see tests/vectors/. Files are looked up in
 * $XL_TEST_VECTORS, default tests/vectors (tests run from the repository root). */
#define TU_VEC_FIELDS    8
#define TU_VEC_NAME_MAX  32
#define TU_VEC_VALUE_MAX 1024

struct tu_vec {
    int line; /* line number of the record's first field, for messages */
    int nfields;
    char name[TU_VEC_FIELDS][TU_VEC_NAME_MAX];
    char value[TU_VEC_FIELDS][TU_VEC_VALUE_MAX];
};

/* Loads every record of the vector file `file` into a new array (*count
 * records; caller frees the array with free()). NULL when the file cannot be
 * read or is malformed; the reason is printed to stderr. */
struct tu_vec *tu_vec_load(const char *file, size_t *count);
/* The value of field name, or NULL when the record has none. */
const char *tu_vec_get(const struct tu_vec *v, const char *name);
/* Decodes the hex value of field name into out (at most cap bytes) and stores
 * its length in *len. 0, or -1 when the field is absent, not hex or too long. */
int tu_vec_hex(const struct tu_vec *v, const char *name, uint8_t *out, size_t cap, size_t *len);
/* The decimal value of field name in *out. 0, or -1 when absent or not a number. */
int tu_vec_uint(const struct tu_vec *v, const char *name, uint64_t *out);

#endif
