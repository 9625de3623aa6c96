/* libFuzzer target: an .xle file, as `crosslink-linker import` reads it: the
 * reader over the whole file, and the linker's checks on its records in the
 * stored form an import hands them on in.
 *
 * Checked: the stored-form check accepts the records exactly when each passes
 * linker_record_check on its own; a file the reader accepts holds as many
 * records as it counted, the agent's scan of its trailer (what a submission
 * announces) agrees with the reader, and its records written again through
 * the writer read back the same with the same content hash. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../linker/ingest.h"
#include "fuzzlib.h"
#include "xl/xle.h"

/* The records in the stored form: 4-byte big-endian length, packed Record. */
struct s_records {
    uint8_t *data;
    size_t len, cap, n;
};

static void
s_add(struct s_records *rs, const uint8_t *rec, size_t len)
{
    if (rs->len + 4 + len > rs->cap) {
        size_t cap = 2 * (rs->len + 4 + len);
        uint8_t *p = realloc(rs->data, cap);
        if (p == NULL)
            fuzz_fail("memory for the records");
        rs->data = p;
        rs->cap = cap;
    }
    rs->data[rs->len] = (uint8_t)(len >> 24);
    rs->data[rs->len + 1] = (uint8_t)(len >> 16);
    rs->data[rs->len + 2] = (uint8_t)(len >> 8);
    rs->data[rs->len + 3] = (uint8_t)len;
    memcpy(rs->data + rs->len + 4, rec, len);
    rs->len += 4 + len;
    rs->n++;
}

/* One record on its own through the linker's record check. */
static int
s_record_ok(const struct linker_ctx *ctx, const uint8_t *rec, size_t len, int keyed)
{
    Crosslink__Record *r = crosslink__record__unpack(NULL, len, rec);
    char err[XL_ERRBUF];
    int ok = r != NULL && linker_record_check(ctx, r, keyed, err, sizeof err) == 0;

    if (r != NULL)
        crosslink__record__free_unpacked(r, NULL);
    return ok;
}

static size_t
s_be32(const uint8_t *p)
{
    return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

/* Writes the records again under hdr and reads them back. */
static void
s_rewrite(const Crosslink__XleHeader *hdr, const struct s_records *rs, const uint8_t *hash)
{
    const char *path = fuzz_path("copy.xle");
    Crosslink__XleHeader h = *hdr;
    const Crosslink__XleHeader *h2;
    struct xl_xle_writer *w;
    struct xl_xle_reader *rd;
    uint8_t hash2[XL_HASH_BYTES];
    const uint8_t *rec;
    char err[XL_ERRBUF];
    size_t off = 0, len;

    if (rs->n == 0)
        return; /* the writer refuses a file of no records */
    (void)unlink(path);
    w = xl_xle_writer_open(path, &h, err, sizeof err);
    if (w == NULL)
        fuzz_fail(err);
    while (off < rs->len) {
        size_t rl = s_be32(rs->data + off);
        if (xl_xle_write_record(w, rs->data + off + 4, rl, err, sizeof err) != 0)
            fuzz_fail(err);
        off += 4 + rl;
    }
    if (xl_xle_writer_finish(&w, hash2, err, sizeof err) != 0)
        fuzz_fail(err);
    if (memcmp(hash, hash2, XL_HASH_BYTES) != 0)
        fuzz_fail("the same records written again have the same content hash");
    rd = xl_xle_reader_open(path, &h2, err, sizeof err);
    if (rd == NULL || h2->record_count != rs->n)
        fuzz_fail("a written file opens with its record count");
    off = 0;
    while (xl_xle_next(rd, &rec, &len, err, sizeof err) == 1) {
        if (off >= rs->len || len != s_be32(rs->data + off) ||
            memcmp(rec, rs->data + off + 4, len) != 0)
            fuzz_fail("a written file reads back the same records");
        off += 4 + len;
    }
    if (off != rs->len || memcmp(xl_xle_reader_hash(rd), hash, XL_HASH_BYTES) != 0)
        fuzz_fail("a written file reads back whole, with its content hash");
    xl_xle_reader_close(&rd);
    (void)unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct linker_ctx ctx;
    const char *path = fuzz_file("in.xle", data, size);
    struct s_records rs = {0};
    const Crosslink__XleHeader *hdr;
    struct xl_xle_reader *rd;
    struct agent_xle_info info;
    const uint8_t *rec;
    char err[XL_ERRBUF];
    size_t len;
    int r, each = 1, all;

    if (ctx.spec == NULL) {
        ctx.spec = (struct xl_spec *)fuzz_spec();
        ctx.clk_bytes = xl_spec_clk_bytes(ctx.spec);
    }
    rd = xl_xle_reader_open(path, &hdr, err, sizeof err);
    if (rd == NULL)
        return 0;
    while ((r = xl_xle_next(rd, &rec, &len, err, sizeof err)) == 1) {
        each &= s_record_ok(&ctx, rec, len, hdr->payload_key.len > 0);
        s_add(&rs, rec, len);
    }
    if (r > 0 || (r == 0 && xl_xle_next(rd, &rec, &len, err, sizeof err) != 0))
        fuzz_fail("the reader ends with 0 and stays there");

    all = linker_records_check(&ctx, rs.data, rs.len, rs.n, hdr->payload_key.len > 0, NULL, err,
                               sizeof err) == 0;
    if (each != all)
        fuzz_fail("the stored-form check agrees with each record's check");

    if (r == 0) {
        uint8_t hash[XL_HASH_BYTES];
        memcpy(hash, xl_xle_reader_hash(rd), sizeof hash);
        if (xl_xle_reader_count(rd) != rs.n || rs.n != hdr->record_count)
            fuzz_fail("an accepted file holds the records its header and trailer count");
        if (agent_xle_scan(path, &info, err, sizeof err) == 0) {
            if (info.count != rs.n || memcmp(info.hash, hash, XL_HASH_BYTES) != 0)
                fuzz_fail("the agent's scan announces what the reader reads");
            agent_xle_info_free(&info);
        }
        s_rewrite(hdr, &rs, hash);
    }
    xl_xle_reader_close(&rd);
    free(rs.data);
    return 0;
}
