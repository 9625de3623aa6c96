/* A chunk's records as a link run reads them: what linking uses, column by
 * column, so that loading is a few copies and no record is unpacked.
 *
 * The linker writes a chunk's columns beside its records when it stores the
 * chunk (ingest.c), in the same transaction; the records stay the stored
 * truth (the content hash, receipts and extracts read them) and the columns
 * are derived from them. Layout, every integer little-endian:
 *
 *   "XLC1"  u32 n  u32 clk_bytes  u32 nkeys  u32 nblocks  u32 0
 *   clk     n * clk_bytes         each record's CLK, in record order
 *   refs    n * XL_REF_BYTES      each record's local_ref
 *   keys    nkeys * 24            u32 record, u32 level, token[16]
 *   blocks  nblocks * 12          u32 record, token[8]
 *
 * Records are numbered from 0 within the chunk; keys and blocking keys come
 * in record order, as the record lists them. */
#ifndef LINKER_COLUMNS_H
#define LINKER_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "crosslink.pb-c.h"
#include "unpack.h"

#define LINKER_COLUMNS_HEADER    24
#define LINKER_COLUMNS_KEY_BYTES 24
#define LINKER_COLUMNS_BLK_BYTES 12

/* One chunk's columns as they are built, record by record: a section each,
 * joined by linker_columns_finish. Reused from chunk to chunk. */
struct linker_columns_buf {
    struct linker_columns_part {
        uint8_t *p;
        size_t len, cap;
    } clk, refs, keys, blocks, out;
    uint32_t n, clk_bytes;
    struct linker_unpacker unpacker; /* for linker_columns_from_packed */
};

/* Empties b for a new chunk (keeping its memory). */
void linker_columns_begin(struct linker_columns_buf *b);
/* Appends one record. XL_ERR_FORMAT when it is not as ingest admits it (a
 * CLK of another length than the chunk's first, a local_ref, token or
 * blocking key of the wrong size); XL_ERR_NOMEM. */
int linker_columns_add(struct linker_columns_buf *b, const Crosslink__Record *r);
/* The chunk's columns, valid until the next begin or free. XL_ERR_NOMEM. */
int linker_columns_finish(struct linker_columns_buf *b, const uint8_t **data, size_t *len);
void linker_columns_free(struct linker_columns_buf *b);
/* The columns of a chunk in its stored form (records packed, each after its
 * length as 4 bytes big-endian): begin, add each, finish. XL_ERR_FORMAT when
 * a record does not unpack or data does not hold whole records. */
int linker_columns_from_packed(struct linker_columns_buf *b, const uint8_t *data, size_t len,
                               const uint8_t **out, size_t *outlen);

/* A chunk's columns, read in place. */
struct linker_columns {
    uint32_t n, clk_bytes, nkeys, nblocks;
    const uint8_t *clk, *refs, *keys, *blocks;
};

/* Reads the header of data and checks the sections fill it exactly, and
 * every key's and blocking key's record is below n. XL_ERR_FORMAT. */
int linker_columns_parse(const uint8_t *data, size_t len, struct linker_columns *c);

static inline uint32_t
linker_columns_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
