/* .xle files: an agency's encoded extract, the same records a submission sends,
 * for agencies that move files instead of connecting, and for checking before
 * sending. Layout:
 *
 *   "XLE1" || msg(XleHeader) || msg(Record) * count || msg(XleTrailer)
 *   msg(m) = 4-byte big-endian length || protobuf bytes of m
 *
 * The content hash is SHA-256 over msg(payload key), when the header carries
 * one (xl/payload.h), then msg(Record) for every record in order; the same
 * definition is used for SubmitBegin/SubmitCommit, so a file and a submission
 * of the same records have the same hash, and it covers everything the
 * analyst needs to open them. */
#ifndef XL_XLE_H
#define XL_XLE_H

#include <stddef.h>
#include <stdint.h>

#include "crosslink.pb-c.h"
#include "xl/crypto.h"

#define XL_XLE_MAGIC   "XLE1"
#define XL_XLE_VERSION 1
/* Largest message a reader accepts (a record is far smaller). */
#define XL_XLE_MAX_MESSAGE (1u << 20)

/* Running content hash. */
struct xl_content_hash {
    uint64_t state[16]; /* opaque SHA-256 context */
};
/* Starts a hash; the batch's payload key first (keylen 0: none, as before the
 * key travelled once). */
void xl_content_hash_init(struct xl_content_hash *h, const uint8_t *payload_key, size_t keylen);
/* Adds one packed record (the hash covers its length prefix too). */
void xl_content_hash_add(struct xl_content_hash *h, const uint8_t *rec, size_t len);
/* Adds records in the stored form, each already with its length prefix. */
void xl_content_hash_add_stored(struct xl_content_hash *h, const uint8_t *data, size_t len);
void xl_content_hash_final(struct xl_content_hash *h, uint8_t out[XL_HASH_BYTES]);

struct xl_xle_writer;

/* Creates path (refusing to overwrite: XL_ERR_EXISTS) via a temporary file that
 * is renamed into place by xl_xle_writer_finish, so a crash never leaves a
 * half-written .xle under the final name. hdr->record_count is filled in at the
 * end. NULL on failure with the message in err. */
struct xl_xle_writer *xl_xle_writer_open(const char *path, const Crosslink__XleHeader *hdr,
                                         char *err, size_t errlen);
/* Appends one packed Record. */
int xl_xle_write_record(struct xl_xle_writer *w, const uint8_t *rec, size_t len, char *err,
                        size_t errlen);
/* Writes the trailer and header count, fsyncs and renames into place. The
 * content hash is returned in hash (may be NULL). A file of no records is
 * refused (XL_ERR_INVALID). Destroys w either way. */
int xl_xle_writer_finish(struct xl_xle_writer **w, uint8_t hash[XL_HASH_BYTES], char *err,
                         size_t errlen);
/* Removes the temporary file and frees w. Accepts NULL. */
void xl_xle_writer_abort(struct xl_xle_writer **w);

struct xl_xle_reader;

/* Opens an .xle file and reads its header (*hdr, owned by the reader). */
struct xl_xle_reader *xl_xle_reader_open(const char *path, const Crosslink__XleHeader **hdr,
                                         char *err, size_t errlen);
/* Next record: returns 1 with *rec and *len (valid until the next call), 0 after the
 * trailer when count and content hash check out, or a negative error: a
 * truncated file, a count or hash that does not match the trailer
 * (XL_ERR_MISMATCH), a malformed message (XL_ERR_FORMAT). */
int xl_xle_next(struct xl_xle_reader *r, const uint8_t **rec, size_t *len, char *err,
                size_t errlen);
/* The next records of r, at most n of them, in the stored form (each a 4-byte
 * big-endian length and its bytes, the form content hashes are over) into
 * *buf, grown as needed (*cap; the caller frees *buf): 1 with *len bytes of
 * *count records, 0 after the last (the trailer checked, as xl_xle_next), or
 * its negative error (XL_ERR_NOMEM too). A chunk as the linker stores it. */
int xl_xle_next_chunk(struct xl_xle_reader *r, size_t n, uint8_t **buf, size_t *cap, size_t *len,
                      size_t *count, char *err, size_t errlen);
/* The record at *off of data (len bytes) in the stored form above: 1 with
 * *rec and *reclen, *off moved past it; 0 at the end; -1 when what is left is
 * not a whole record (*off stays). */
int xl_stored_next(const uint8_t *data, size_t len, size_t *off, const uint8_t **rec,
                   size_t *reclen);
/* Content hash from the trailer (valid after xl_xle_next returned 0). */
const uint8_t *xl_xle_reader_hash(const struct xl_xle_reader *r);
uint64_t xl_xle_reader_count(const struct xl_xle_reader *r);
void xl_xle_reader_close(struct xl_xle_reader **r);

/* The count and content hash the trailer declares, read from the end of the
 * file without reading the records: what a submission announces before it
 * streams them. The records are checked against it as they are read
 * (xl_xle_next), before anything is committed. */
int xl_xle_read_trailer(const char *path, uint64_t *count, uint8_t hash[XL_HASH_BYTES], char *err,
                        size_t errlen);

#endif
