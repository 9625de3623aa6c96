/* .xle files: what a writer writes, a reader reads back, and a damaged file is
 * refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/payload.h"
#include "xl/xle.h"

/* With key (XL_PAYLOAD_KEY bytes), the header carries a payload key. */
static char *
s_write_keyed(const char *dir, const char *name, size_t n, const uint8_t *key,
              uint8_t hash[XL_HASH_BYTES])
{
    Crosslink__XleHeader h = CROSSLINK__XLE_HEADER__INIT;
    uint8_t fp[XL_HASH_BYTES] = {1, 2, 3};
    char *path = tu_path(dir, name), err[256];
    struct xl_xle_writer *w;

    h.spec_fingerprint.data = fp;
    h.spec_fingerprint.len = sizeof fp;
    h.epoch = 3;
    h.agency = "wmp";
    h.dataset = "yj";
    if (key != NULL)
        h.payload_key = (ProtobufCBinaryData){XL_PAYLOAD_KEY, (uint8_t *)key};
    w = xl_xle_writer_open(path, &h, err, sizeof err);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++) {
        uint8_t rec[300];
        /* Records of varying size, so offsets move. */
        memset(rec, (int)(i & 0xff), sizeof rec);
        assert_int_equal(xl_xle_write_record(w, rec, 10 + i % 290, err, sizeof err), 0);
    }
    assert_int_equal(xl_xle_writer_finish(&w, hash, err, sizeof err), 0);
    assert_null(w);
    return path;
}

static char *
s_write(const char *dir, const char *name, size_t n, uint8_t hash[XL_HASH_BYTES])
{
    return s_write_keyed(dir, name, n, NULL, hash);
}

static int
s_read_all(const char *path, size_t *count, char *err, size_t errlen)
{
    const Crosslink__XleHeader *h;
    struct xl_xle_reader *r = xl_xle_reader_open(path, &h, err, errlen);
    const uint8_t *rec;
    size_t len;
    int rc;

    *count = 0;
    if (r == NULL)
        return -1;
    while ((rc = xl_xle_next(r, &rec, &len, err, errlen)) == 1) {
        /* Each record comes back with its own bytes. */
        if (len != 10 + *count % 290 || rec[0] != (uint8_t)(*count & 0xff)) {
            xl_xle_reader_close(&r);
            return -2;
        }
        (*count)++;
    }
    xl_xle_reader_close(&r);
    return rc;
}

static void
test_round_trip(void **state)
{
    char *dir = tu_tmpdir(), err[256];
    uint8_t hash[XL_HASH_BYTES];
    const Crosslink__XleHeader *h;
    struct xl_xle_reader *r;
    char *path = s_write(dir, "a.xle", 1000, hash);
    size_t n;

    (void)state;
    /* The header's count is filled in at the end without moving the records. */
    r = xl_xle_reader_open(path, &h, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(h->record_count, 1000);
    assert_int_equal(h->epoch, 3);
    assert_string_equal(h->agency, "wmp");
    xl_xle_reader_close(&r);
    assert_int_equal(s_read_all(path, &n, err, sizeof err), 0);
    assert_int_equal(n, 1000);
    {
        /* The trailer alone, read from the end: the same count and hash. */
        uint64_t count;
        uint8_t th[XL_HASH_BYTES];
        assert_int_equal(xl_xle_read_trailer(path, &count, th, err, sizeof err), 0);
        assert_int_equal(count, 1000);
        assert_memory_equal(th, hash, XL_HASH_BYTES);
    }
    /* No temporary file is left, and an existing file is not overwritten. */
    {
        char *partial = tu_path(dir, "a.xle.partial");
        assert_int_equal(access(partial, F_OK), -1);
        free(partial);
    }
    {
        Crosslink__XleHeader hh = CROSSLINK__XLE_HEADER__INIT;
        assert_null(xl_xle_writer_open(path, &hh, err, sizeof err));
        assert_non_null(strstr(err, "exists"));
    }
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void
test_damage_detected(void **state)
{
    char *dir = tu_tmpdir(), err[256];
    uint8_t hash[XL_HASH_BYTES];
    char *path = s_write(dir, "b.xle", 200, hash);
    struct stat st;
    size_t n;
    FILE *f;
    int c;

    (void)state;
    assert_int_equal(stat(path, &st), 0);
    /* One byte of a record changed: the content hash no longer matches. */
    f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, st.st_size / 2, SEEK_SET);
    c = fgetc(f);
    fseek(f, st.st_size / 2, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);
    assert_true(s_read_all(path, &n, err, sizeof err) < 0);
    /* Bytes after the trailer: the trailer is then not the last message, so it
     * reads as one record more than the header counts. */
    {
        char *extra = s_write(dir, "e.xle", 5, hash);
        f = fopen(extra, "ab");
        assert_non_null(f);
        assert_int_equal(fwrite("\0\0\0\2ab", 1, 6, f), 6);
        fclose(f);
        assert_true(s_read_all(extra, &n, err, sizeof err) < 0);
        assert_non_null(strstr(err, "more records than the header's 5"));
        assert_int_equal(n, 5);
        free(extra);
    }
    /* Truncated: refused as truncated, after the records that were whole. */
    assert_int_equal(truncate(path, st.st_size - 40), 0);
    assert_true(s_read_all(path, &n, err, sizeof err) < 0);
    assert_non_null(strstr(err, "truncated"));
    {
        uint64_t count;
        uint8_t th[XL_HASH_BYTES];
        assert_true(xl_xle_read_trailer(path, &count, th, err, sizeof err) < 0);
    }
    /* Not an .xle at all. */
    assert_int_equal(tu_write_file(path, "Person ID,Forename\n"), 0);
    assert_true(s_read_all(path, &n, err, sizeof err) < 0);
    assert_non_null(strstr(err, "not a crosslink encoded file"));
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void
test_empty_refused(void **state)
{
    Crosslink__XleHeader h = CROSSLINK__XLE_HEADER__INIT;
    char *dir = tu_tmpdir(), *path = tu_path(dir, "c.xle"), *partial, err[256];
    struct xl_xle_writer *w = xl_xle_writer_open(path, &h, err, sizeof err);

    (void)state;
    assert_non_null(w);
    assert_int_equal(xl_xle_writer_finish(&w, NULL, err, sizeof err), XL_ERR_INVALID);
    assert_int_equal(access(path, F_OK), -1);
    partial = tu_path(dir, "c.xle.partial");
    assert_int_equal(access(partial, F_OK), -1);
    free(partial);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void
test_content_hash_definition(void **state)
{
    char *dir = tu_tmpdir();
    uint8_t hash[XL_HASH_BYTES], want[XL_HASH_BYTES], buf[4 + 300];
    char *path = s_write(dir, "d.xle", 3, hash);
    struct xl_content_hash h;

    (void)state;
    /* SHA-256 over each record's 4-byte big-endian length and bytes. */
    xl_content_hash_init(&h, NULL, 0);
    for (size_t i = 0; i < 3; i++) {
        memset(buf, (int)i, sizeof buf);
        xl_content_hash_add(&h, buf, 10 + i);
    }
    xl_content_hash_final(&h, want);
    assert_memory_equal(hash, want, XL_HASH_BYTES);
    {
        uint8_t flat[3 * (4 + 12)], direct[XL_HASH_BYTES];
        size_t n = 0;
        for (size_t i = 0; i < 3; i++) {
            size_t len = 10 + i;
            flat[n++] = 0;
            flat[n++] = 0;
            flat[n++] = 0;
            flat[n++] = (uint8_t)len;
            memset(flat + n, (int)i, len);
            n += len;
        }
        xl_sha256(flat, n, direct);
        assert_memory_equal(direct, want, XL_HASH_BYTES);
    }
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* A header's payload key is hashed first, as a message of its own: the hash
 * covers what opens the payloads. Another key in the header (the file's
 * records and trailer as they were) is refused as a mismatch, and a key of
 * another length as malformed. */
static void
test_content_hash_payload_key(void **state)
{
    char *dir = tu_tmpdir(), err[256];
    uint8_t key[XL_PAYLOAD_KEY], hash[XL_HASH_BYTES], plain[XL_HASH_BYTES], want[XL_HASH_BYTES];
    uint8_t flat[4 + XL_PAYLOAD_KEY + 3 * (4 + 12)];
    char *path, *bare;
    size_t n = 0, count;
    FILE *f;
    long at = -1;
    uint8_t *data;
    struct stat sb;

    (void)state;
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0xa0 + i);
    path = s_write_keyed(dir, "k.xle", 3, key, hash);
    bare = s_write(dir, "n.xle", 3, plain);
    assert_memory_not_equal(hash, plain, XL_HASH_BYTES);
    flat[n++] = 0;
    flat[n++] = 0;
    flat[n++] = 0;
    flat[n++] = XL_PAYLOAD_KEY;
    memcpy(flat + n, key, sizeof key);
    n += sizeof key;
    for (size_t i = 0; i < 3; i++) {
        flat[n++] = 0;
        flat[n++] = 0;
        flat[n++] = 0;
        flat[n++] = (uint8_t)(10 + i);
        memset(flat + n, (int)i, 10 + i);
        n += 10 + i;
    }
    xl_sha256(flat, n, want);
    assert_memory_equal(hash, want, XL_HASH_BYTES);
    assert_int_equal(s_read_all(path, &count, err, sizeof err), 0);
    assert_int_equal(count, 3);

    /* One byte of the key in the header changed: the records no longer
     * hash to the trailer's content hash. */
    assert_int_equal(stat(path, &sb), 0);
    data = malloc((size_t)sb.st_size);
    assert_non_null(data);
    f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fread(data, 1, (size_t)sb.st_size, f), (size_t)sb.st_size);
    for (long i = 0; i + (long)sizeof key <= sb.st_size; i++) {
        if (memcmp(data + i, key, sizeof key) == 0)
            at = i;
    }
    assert_true(at > 0);
    data[at + 5] ^= 0x01;
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    assert_int_equal(fwrite(data, 1, (size_t)sb.st_size, f), (size_t)sb.st_size);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(s_read_all(path, &count, err, sizeof err), XL_ERR_MISMATCH);
    free(data);
    free(path);
    free(bare);

    /* A payload key of another length. */
    {
        Crosslink__XleHeader h = CROSSLINK__XLE_HEADER__INIT;
        const Crosslink__XleHeader *got;
        struct xl_xle_writer *w;
        uint8_t rec[20] = {1};
        char *odd = tu_path(dir, "o.xle");
        h.agency = "wmp";
        h.dataset = "yj";
        h.payload_key = (ProtobufCBinaryData){XL_PAYLOAD_KEY - 1, key};
        w = xl_xle_writer_open(odd, &h, err, sizeof err);
        assert_non_null(w);
        assert_int_equal(xl_xle_write_record(w, rec, sizeof rec, err, sizeof err), 0);
        assert_int_equal(xl_xle_writer_finish(&w, NULL, err, sizeof err), 0);
        assert_null(xl_xle_reader_open(odd, &got, err, sizeof err));
        assert_non_null(strstr(err, "payload key of 95 bytes"));
        free(odd);
    }
    tu_rmtree(dir);
    free(dir);
}

/* Chunks in the stored form: n records each and the rest last, their bytes
 * hashing, chunk after chunk, to the file's content hash; then the end, as
 * often as asked. */
static void
test_chunks(void **state)
{
    char *dir = tu_tmpdir(), err[256];
    uint8_t hash[XL_HASH_BYTES], got[XL_HASH_BYTES];
    char *path = s_write(dir, "c.xle", 1000, hash);
    const Crosslink__XleHeader *h;
    struct xl_xle_reader *r = xl_xle_reader_open(path, &h, err, sizeof err);
    uint8_t *buf = NULL, *all = NULL;
    size_t cap = 0, len, n, total = 0, chunks = 0, records = 0;

    (void)state;
    assert_non_null(r);
    while (xl_xle_next_chunk(r, 300, &buf, &cap, &len, &n, err, sizeof err) == 1) {
        assert_int_equal(n, chunks < 3 ? 300 : 100);
        all = realloc(all, total + len);
        assert_non_null(all);
        memcpy(all + total, buf, len);
        total += len;
        records += n;
        chunks++;
    }
    assert_int_equal(chunks, 4);
    assert_int_equal(records, 1000);
    assert_int_equal(xl_xle_next_chunk(r, 300, &buf, &cap, &len, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    xl_sha256(all, total, got);
    assert_memory_equal(got, hash, XL_HASH_BYTES);
    {
        /* read back record by record; a cut record is not one */
        const uint8_t *rec;
        size_t off = 0, rl, k = 0;
        while (xl_stored_next(all, total, &off, &rec, &rl) == 1) {
            assert_true(rl == 10 + k % 290 && rec[0] == (uint8_t)(k & 0xff));
            k++;
        }
        assert_int_equal(k, 1000);
        assert_int_equal(off, total);
        off = 0;
        assert_int_equal(xl_stored_next(all, 3, &off, &rec, &rl), -1);
        assert_int_equal(xl_stored_next(all, 4 + 9, &off, &rec, &rl), -1);
        assert_int_equal(off, 0);
    }
    xl_xle_reader_close(&r);

    /* a damaged file's error comes through */
    {
        FILE *f = fopen(path, "r+b");
        int c;
        assert_non_null(f);
        assert_int_equal(fseek(f, 5000, SEEK_SET), 0);
        c = fgetc(f);
        assert_int_equal(fseek(f, 5000, SEEK_SET), 0);
        assert_int_equal(fputc(0x55 ^ c, f), 0x55 ^ c);
        assert_int_equal(fclose(f), 0);
    }
    r = xl_xle_reader_open(path, &h, err, sizeof err);
    assert_non_null(r);
    {
        int rc;
        while ((rc = xl_xle_next_chunk(r, 300, &buf, &cap, &len, &n, err, sizeof err)) == 1)
            ;
        assert_true(rc < 0);
    }
    xl_xle_reader_close(&r);
    free(buf);
    free(all);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_damage_detected),
        cmocka_unit_test(test_empty_refused), cmocka_unit_test(test_content_hash_definition),
        cmocka_unit_test(test_chunks),        cmocka_unit_test(test_content_hash_payload_key),
    };

    return cmocka_run_group_tests_name("xle", tests, NULL, NULL);
}
