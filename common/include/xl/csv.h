/* Streaming CSV reader for agency extracts.
 *
 * Accepts RFC 4180 CSV and the variations agency systems actually produce:
 *
 *  - fields separated by ','; a field may be quoted with '"', and inside quotes
 *    '""' is one '"', while ',', CR and LF are ordinary content (kept byte for
 *    byte, so a CRLF inside quotes stays CRLF);
 *  - records end with LF, CRLF or a bare CR; a last record without a line end;
 *  - a UTF-8 byte-order mark at the very start of the input is skipped;
 *  - blank lines, and lines holding only spaces and tabs, are skipped;
 *  - spaces and tabs around a field are not part of it: an unquoted field is
 *    trimmed at both ends, and `a, "b,c"` is the two fields `a` and `b,c`
 *    (spaces inside quotes are kept);
 *  - a '"' inside an unquoted field (`O"Neil`) is kept as an ordinary byte.
 *
 * Refused, with XL_ERR_FORMAT and a message "<name>:<line>: <reason>": a NUL byte
 * (usually a UTF-16 file), a quoted field still open at end of input, and text
 * after a closing quote other than spaces before the next ',' or line end
 * (`"ab"c` is broken quoting; the reader does not guess what was meant). A record
 * over the size cap, or with more fields than the field cap, is XL_ERR_TOOBIG;
 * a failed read is XL_ERR_IO. Messages name the input and a line number, never
 * field content: fields hold personal identifiers.
 *
 * Any error ends the reading: further xl_csv_next calls return the same code and
 * message. Bytes are passed through unchanged; checking UTF-8 is left to the
 * normaliser, which reports the row and field.
 *
 * Memory stays bounded on any input: one fixed read buffer (XL_CSV_READ_BYTES)
 * and a record buffer that grows to the largest record seen, never past the
 * record cap (XL_CSV_MAX_RECORD_DEFAULT, 1 MiB), so a corrupt file cannot
 * exhaust memory (with xl_csv_set_encoding, a second buffer for the converted
 * record, of at most four times the cap). Buffers that held extract bytes are wiped when replaced
 * and when the reader is destroyed. A file opened by xl_csv_open is read without stdio buffering,
 * so no other copy of its bytes stays in this process.
 *
 * Not thread-safe: one reader per thread. */
#ifndef XL_CSV_H
#define XL_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Size of the fixed read buffer. */
#define XL_CSV_READ_BYTES (64u * 1024)
/* Default cap on one record: the bytes of its fields plus one per field. */
#define XL_CSV_MAX_RECORD_DEFAULT (1024u * 1024)
/* Default cap on the number of fields in one record. */
#define XL_CSV_MAX_FIELDS_DEFAULT 16384u

struct xl_csv; /* opaque */

/* Opens the file at path for reading. Returns a new reader (caller destroys it
 * with xl_csv_destroy, which also closes the file), or NULL with a message in
 * err naming path and the reason. Messages from the reader use path as the
 * input's name. */
struct xl_csv *xl_csv_open(const char *path, char *err, size_t errlen);

/* A reader over an already-open stream f, read from its current position. The
 * caller keeps f: xl_csv_destroy does not close it, and f must stay open until
 * then. name (copied; NULL means "input") prefixes messages. NULL when out of
 * memory. */
struct xl_csv *xl_csv_from_file(FILE *f, const char *name);

/* Closes the file if xl_csv_open opened it, wipes and frees the buffers, and sets
 * *c to NULL. Accepts NULL and a pointer to NULL. */
void xl_csv_destroy(struct xl_csv **c);

/* Changes the caps on one record's size in bytes and its number of fields; 0
 * keeps a cap as it is. Call before the first xl_csv_next. 0, or XL_ERR_INVALID
 * when called later or with a record cap under 64 bytes. */
int xl_csv_set_limits(struct xl_csv *c, size_t max_record, size_t max_fields);

/* Fields separated by delim (',' ';' '\t' or '|') instead of ','. With a tab,
 * tabs are no longer trimmed around fields. Call before the first
 * xl_csv_next. 0, or XL_ERR_INVALID. */
int xl_csv_set_delimiter(struct xl_csv *c, char delim);

/* The file is in charset (an iconv name: "WINDOWS-1252", "ISO-8859-1"), and
 * each record's fields are converted to UTF-8 as it is read; a byte the
 * charset does not define stops the reading (XL_ERR_FORMAT, line and field).
 * "UTF-8" changes nothing. Call before the first xl_csv_next. 0, or
 * XL_ERR_INVALID for a charset iconv does not know. */
int xl_csv_set_encoding(struct xl_csv *c, const char *charset);

/* Reads at most n bytes (1 to XL_CSV_READ_BYTES) per call to fread, instead of
 * XL_CSV_READ_BYTES. For tests and the fuzz target, which use it to place
 * buffer boundaries inside quotes, escapes and CRLFs. Call before the first
 * xl_csv_next. 0, or XL_ERR_INVALID when called later or n is out of range. */
int xl_csv_set_read_size(struct xl_csv *c, size_t n);

/* Reads the next record. Returns 1 with a record (its field count in *nfields,
 * at least 1), 0 at end of input (*nfields = 0), or a negative XL_ERR_* with a
 * message in err (*nfields = 0). nfields and err may be NULL. */
int xl_csv_next(struct xl_csv *c, size_t *nfields, char *err, size_t errlen);

/* Field i of the current record: NUL-terminated, holding no NUL byte (so its
 * length is also strlen), its length in *len when len is non-NULL. The pointer
 * belongs to the reader and is valid until the next xl_csv_next or
 * xl_csv_destroy. NULL (and *len = 0) when i is past the last field or there is
 * no current record. */
const char *xl_csv_field(const struct xl_csv *c, size_t i, size_t *len);

/* Number of the current record, counting records as returned by xl_csv_next
 * (blank lines are not records) and numbering the first record 0: callers read
 * the first record as the header, so the first data row is record 1, the
 * second is record 2, and so on. 0 before the first record. */
uint64_t xl_csv_record_no(const struct xl_csv *c);

/* Physical line (1-based, as a text editor numbers it; LF, CRLF and a bare CR
 * each end a line) on which the current record starts. A record with a quoted
 * line break spans several lines; the next record's number accounts for them.
 * 0 before the first record. */
uint64_t xl_csv_line_no(const struct xl_csv *c);

/* Bytes of input consumed so far, the byte-order mark included; once
 * xl_csv_next has returned 0 this is the input's size. For progress reports. */
uint64_t xl_csv_bytes_read(const struct xl_csv *c);

/* Current capacity of the record buffer in bytes: it grows only to hold the
 * largest record seen. For tests that check memory stays bounded. */
size_t xl_csv_record_capacity(const struct xl_csv *c);

/* Writes one field as RFC 4180 has it: quoted (and its quotes doubled) when
 * it holds a comma, a quote or a line break. */
void xl_csv_put(FILE *f, const char *s);
/* The same into a line being built: appends s (n bytes) at offset at and
 * returns the new end. The line must have room for 2n + 2 more bytes. */
size_t xl_csv_add(char *line, size_t at, const char *s, size_t n);

#endif
