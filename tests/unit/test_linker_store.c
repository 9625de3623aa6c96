/* Unit tests for linker/store.c and the submission logic over it
 * (linker/ingest.c): creating a submission, durable chunks that survive a
 * reopen, duplicate and out-of-sequence chunks, the limits, commit with
 * supersede and rollback, iteration of committed records, and the protocol's
 * begin/chunk/commit with resume, idempotent resubmission, refusals and a
 * signed receipt. Real SQLite files and audit logs in a temporary directory;
 * a full disk and an I/O error come from a VFS that fails SQLite's writes on
 * demand, the one fault a unit test cannot have a real filesystem produce
 * (tests/e2e/test_diskfull.sh fills a real one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "../../linker/ingest.h"
#include "../../linker/store.h"
#include "testutil.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/log.h"
#include "xl/payload.h"
#include "xl/receipt.h"
#include "xl/xle.h"

#define SPEC_FILE "deploy/examples/linkage.spec"

struct s_fixture {
    char *dir;
    char *db;
    struct linker_store *st;
};

/* ---- a VFS whose writes fail on demand ----------------------------------------------
 * The default VFS with every file's xWrite returning s_fault (SQLITE_FULL, as
 * SQLite reports ENOSPC; SQLITE_IOERR_WRITE) while it is non-zero. */
static int s_fault;
static sqlite3_vfs *s_real_vfs;

struct s_vfile {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct in the same allocation */
};

#define S_REAL(f) (((struct s_vfile *)(f))->real)

static int
s_vclose(sqlite3_file *f)
{
    return S_REAL(f)->pMethods->xClose(S_REAL(f));
}
static int
s_vread(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return S_REAL(f)->pMethods->xRead(S_REAL(f), buf, n, off);
}
static int
s_vwrite(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    if (s_fault != 0)
        return s_fault;
    return S_REAL(f)->pMethods->xWrite(S_REAL(f), buf, n, off);
}
static int
s_vtruncate(sqlite3_file *f, sqlite3_int64 size)
{
    return S_REAL(f)->pMethods->xTruncate(S_REAL(f), size);
}
static int
s_vsync(sqlite3_file *f, int flags)
{
    return S_REAL(f)->pMethods->xSync(S_REAL(f), flags);
}
static int
s_vsize(sqlite3_file *f, sqlite3_int64 *size)
{
    return S_REAL(f)->pMethods->xFileSize(S_REAL(f), size);
}
static int
s_vlock(sqlite3_file *f, int l)
{
    return S_REAL(f)->pMethods->xLock(S_REAL(f), l);
}
static int
s_vunlock(sqlite3_file *f, int l)
{
    return S_REAL(f)->pMethods->xUnlock(S_REAL(f), l);
}
static int
s_vreserved(sqlite3_file *f, int *out)
{
    return S_REAL(f)->pMethods->xCheckReservedLock(S_REAL(f), out);
}
static int
s_vcontrol(sqlite3_file *f, int op, void *arg)
{
    return S_REAL(f)->pMethods->xFileControl(S_REAL(f), op, arg);
}
static int
s_vsector(sqlite3_file *f)
{
    return S_REAL(f)->pMethods->xSectorSize(S_REAL(f));
}
static int
s_vdevice(sqlite3_file *f)
{
    return S_REAL(f)->pMethods->xDeviceCharacteristics(S_REAL(f));
}
static int
s_vshmmap(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **p)
{
    return S_REAL(f)->pMethods->xShmMap(S_REAL(f), pg, pgsz, extend, p);
}
static int
s_vshmlock(sqlite3_file *f, int offset, int n, int flags)
{
    return S_REAL(f)->pMethods->xShmLock(S_REAL(f), offset, n, flags);
}
static void
s_vshmbarrier(sqlite3_file *f)
{
    S_REAL(f)->pMethods->xShmBarrier(S_REAL(f));
}
static int
s_vshmunmap(sqlite3_file *f, int del)
{
    return S_REAL(f)->pMethods->xShmUnmap(S_REAL(f), del);
}

static const sqlite3_io_methods s_vmethods = {
    .iVersion = 2, /* no memory-mapped I/O (xFetch): every write goes through xWrite */
    .xClose = s_vclose,
    .xRead = s_vread,
    .xWrite = s_vwrite,
    .xTruncate = s_vtruncate,
    .xSync = s_vsync,
    .xFileSize = s_vsize,
    .xLock = s_vlock,
    .xUnlock = s_vunlock,
    .xCheckReservedLock = s_vreserved,
    .xFileControl = s_vcontrol,
    .xSectorSize = s_vsector,
    .xDeviceCharacteristics = s_vdevice,
    .xShmMap = s_vshmmap,
    .xShmLock = s_vshmlock,
    .xShmBarrier = s_vshmbarrier,
    .xShmUnmap = s_vshmunmap,
};

static int
s_vopen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outflags)
{
    struct s_vfile *v = (struct s_vfile *)f;
    int rc;

    v->real = (sqlite3_file *)(v + 1);
    rc = s_real_vfs->xOpen(s_real_vfs, name, v->real, flags, outflags);
    /* SQLite calls xClose only when pMethods is set: leave it NULL on failure. */
    v->base.pMethods = rc == SQLITE_OK && v->real->pMethods != NULL ? &s_vmethods : NULL;
    return rc;
}

static sqlite3_vfs s_vfs;

/* Registers the VFS as the default, so every database the tests open uses it. */
static int
s_vfs_register(void)
{
    s_real_vfs = sqlite3_vfs_find(NULL);
    if (s_real_vfs == NULL)
        return -1;
    s_vfs = *s_real_vfs;
    s_vfs.zName = "xl-fault";
    s_vfs.szOsFile = (int)sizeof(struct s_vfile) + s_real_vfs->szOsFile;
    s_vfs.xOpen = s_vopen;
    return sqlite3_vfs_register(&s_vfs, 1) == SQLITE_OK ? 0 : -1;
}

static int
s_group_setup(void **state)
{
    xl_log_set_level(XL_LOG_ERROR); /* refusals are expected here */
    if (s_vfs_register() != 0)
        return -1;
    return xl_crypto_init() == 0 ? 0 : -1;
}

static void
s_reopen(struct s_fixture *f)
{
    char err[XL_ERRBUF] = "";

    linker_store_close(&f->st);
    if (linker_store_open(f->db, &f->st, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static int
s_setup(void **state)
{
    struct s_fixture *f = calloc(1, sizeof *f);
    char err[XL_ERRBUF];

    if (f == NULL || (f->dir = tu_tmpdir()) == NULL || (f->db = tu_path(f->dir, "l.db")) == NULL)
        return -1;
    if (linker_store_open(f->db, &f->st, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    struct s_fixture *f = *state;

    linker_store_close(&f->st);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->db);
    free(f);
    return 0;
}

/* ---- records ---------------------------------------------------------------- */

/* n records (packed), different for each seed, valid for the example spec. */
struct s_recs {
    size_t n;
    uint8_t **rec;
    size_t *len;
    uint8_t hash[XL_HASH_BYTES];
};

/* With key, records of a batch whose payload key travels once: compact
 * payloads, the key first in the content hash. */
static void
s_recs_make_keyed(struct s_recs *r, size_t n, unsigned seed, size_t clk_bytes, const uint8_t *key)
{
    struct xl_content_hash h;

    r->n = n;
    r->rec = calloc(n, sizeof *r->rec);
    r->len = calloc(n, sizeof *r->len);
    assert_non_null(r->rec);
    assert_non_null(r->len);
    xl_content_hash_init(&h, key, key != NULL ? XL_PAYLOAD_KEY : 0);
    for (size_t i = 0; i < n; i++) {
        Crosslink__Record rec = CROSSLINK__RECORD__INIT;
        Crosslink__MatchKey k1 = CROSSLINK__MATCH_KEY__INIT, k4 = CROSSLINK__MATCH_KEY__INIT;
        Crosslink__MatchKey *keys[2] = {&k1, &k4};
        uint8_t ref[16], t1[16], t4[16], clk[512], b[2][8], pay[64];
        ProtobufCBinaryData blocks[2] = {{8, b[0]}, {8, b[1]}};

        assert_true(clk_bytes <= sizeof clk);
        memset(ref, 0, sizeof ref);
        memcpy(ref, &seed, sizeof seed);
        memcpy(ref + 8, &i, sizeof i < 8 ? sizeof i : 8);
        xl_random(t1, sizeof t1);
        xl_random(t4, sizeof t4);
        xl_random(clk, clk_bytes);
        xl_random(b, sizeof b);
        xl_random(pay, sizeof pay);
        pay[0] = key != NULL ? XL_PAYLOAD_COMPACT : XL_PAYLOAD_WHOLE;
        k1.level = 1;
        k1.token = (ProtobufCBinaryData){16, t1};
        k4.level = 4;
        k4.token = (ProtobufCBinaryData){16, t4};
        rec.local_ref = (ProtobufCBinaryData){16, ref};
        rec.n_keys = 2;
        rec.keys = keys;
        rec.clk = (ProtobufCBinaryData){clk_bytes, clk};
        rec.n_blocks = 2;
        rec.blocks = blocks;
        rec.payload = (ProtobufCBinaryData){sizeof pay, pay};
        r->len[i] = crosslink__record__get_packed_size(&rec);
        r->rec[i] = malloc(r->len[i]);
        assert_non_null(r->rec[i]);
        crosslink__record__pack(&rec, r->rec[i]);
        xl_content_hash_add(&h, r->rec[i], r->len[i]);
    }
    xl_content_hash_final(&h, r->hash);
}

static void
s_recs_make(struct s_recs *r, size_t n, unsigned seed, size_t clk_bytes)
{
    s_recs_make_keyed(r, n, seed, clk_bytes, NULL);
}

static void
s_recs_free(struct s_recs *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->rec[i]);
    free(r->rec);
    free(r->len);
}

/* The stored form of records [from, from + n): length-prefixed. */
static uint8_t *
s_blob(const struct s_recs *r, size_t from, size_t n, size_t *len)
{
    size_t total = 0, off = 0;
    uint8_t *b;

    for (size_t i = from; i < from + n; i++)
        total += 4 + r->len[i];
    b = malloc(total);
    assert_non_null(b);
    for (size_t i = from; i < from + n; i++) {
        size_t l = r->len[i];
        b[off] = (uint8_t)(l >> 24);
        b[off + 1] = (uint8_t)(l >> 16);
        b[off + 2] = (uint8_t)(l >> 8);
        b[off + 3] = (uint8_t)l;
        memcpy(b + off + 4, r->rec[i], l);
        off += 4 + l;
    }
    *len = total;
    return b;
}

/* ---- store -------------------------------------------------------------------- */

static void
s_sub(struct linker_submission *s, const char *agency, const char *dataset, const struct s_recs *r,
      uint32_t chunk_records, uint32_t epoch)
{
    memset(s, 0, sizeof *s);
    xl_random(s->id, sizeof s->id);
    snprintf(s->agency, sizeof s->agency, "%s", agency);
    snprintf(s->dataset, sizeof s->dataset, "%s", dataset);
    snprintf(s->key_id, sizeof s->key_id, "0011223344556677");
    snprintf(s->source, sizeof s->source, "network");
    memset(s->spec, 0xab, sizeof s->spec);
    s->epoch = epoch;
    s->record_count = r->n;
    memcpy(s->content_hash, r->hash, XL_HASH_BYTES);
    s->chunk_records = chunk_records;
    s->one_per_person = 1;
    s->created = 1795000000;
}

static void
s_create(struct linker_store *st, const struct linker_submission *s)
{
    char err[XL_ERRBUF] = "";

    if (linker_store_create(st, s, "[{\"name\":\"gp\",\"type\":\"bool\"}]", err, sizeof err) != 0)
        fail_msg("%s", err);
}

static int
s_put(struct linker_store *st, const struct linker_submission *s, const struct s_recs *r,
      uint64_t seq, size_t from, size_t n, struct linker_chunk_result *res)
{
    char err[XL_ERRBUF] = "";
    size_t len;
    uint8_t *b = s_blob(r, from, n, &len);
    struct linker_columns_buf cb = {0};
    const uint8_t *cols;
    size_t colslen;
    int rc;

    assert_int_equal(linker_columns_from_packed(&cb, b, len, &cols, &colslen), 0);
    rc = linker_store_put_chunk(st, s->id, seq, n, b, len, cols, colslen, res, err, sizeof err);
    linker_columns_free(&cb);
    free(b);
    return rc;
}

/* Stores all of r in chunks of s->chunk_records. */
static void
s_put_all(struct linker_store *st, const struct linker_submission *s, const struct s_recs *r)
{
    struct linker_chunk_result res;
    uint64_t seq = 0;

    for (size_t from = 0; from < r->n; from += s->chunk_records, seq++) {
        size_t n = r->n - from < s->chunk_records ? r->n - from : s->chunk_records;
        assert_int_equal(s_put(st, s, r, seq, from, n, &res), 0);
        assert_false(res.duplicate);
    }
}

/* A store of schema version 3 (before payload keys) opens as version 4: its
 * submissions read back without a key, and new ones keep theirs. */
static void
test_schema_3_upgraded(void **state)
{
    struct s_fixture *f = *state;
    struct linker_submission s, k, got;
    struct s_recs r;
    sqlite3 *db;
    sqlite3_stmt *v;
    char err[XL_ERRBUF];

    s_recs_make(&r, 5, 1, 128);
    s_sub(&s, "wmp", "police", &r, 2, 1);
    s_create(f->st, &s);
    linker_store_close(&f->st);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE submissions DROP COLUMN payload_key;"
                                  "PRAGMA user_version = 3;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    if (linker_store_open(f->db, &f->st, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(linker_store_get(f->st, s.id, &got, err, sizeof err), 0);
    assert_false(got.has_payload_key);
    s_sub(&k, "wmp", "health", &r, 2, 1);
    k.has_payload_key = 1;
    memset(k.payload_key, 0x5a, sizeof k.payload_key);
    s_create(f->st, &k);
    assert_int_equal(linker_store_get(f->st, k.id, &got, err, sizeof err), 0);
    assert_true(got.has_payload_key);
    assert_memory_equal(got.payload_key, k.payload_key, XL_PAYLOAD_KEY);
    linker_store_close(&f->st);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &v, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(v), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(v, 0), 4);
    sqlite3_finalize(v);
    sqlite3_close(db);
    assert_int_equal(linker_store_open(f->db, &f->st, err, sizeof err), 0);
    s_recs_free(&r);
}

static void
test_create_find_get(void **state)
{
    struct s_fixture *f = *state;
    struct linker_submission s, got, want;
    struct s_recs r;
    char err[XL_ERRBUF], *attrs = NULL;

    s_recs_make(&r, 5, 1, 128);
    s_sub(&s, "wmp", "police", &r, 2, 1);
    s_create(f->st, &s);
    assert_int_equal(linker_store_create(f->st, &s, "[]", err, sizeof err), XL_ERR_EXISTS);

    assert_int_equal(linker_store_get(f->st, s.id, &got, err, sizeof err), 0);
    assert_memory_equal(got.id, s.id, LINKER_SUBID_BYTES);
    assert_string_equal(got.agency, "wmp");
    assert_string_equal(got.dataset, "police");
    assert_string_equal(got.key_id, "0011223344556677");
    assert_string_equal(got.source, "network");
    assert_int_equal(got.state, LINKER_OPEN);
    assert_int_equal(got.record_count, 5);
    assert_int_equal(got.chunk_records, 2);
    assert_int_equal(got.next_seq, 0);
    assert_int_equal(got.records_stored, 0);
    assert_int_equal(got.one_per_person, 1);
    assert_int_equal(got.created, 1795000000);
    assert_false(got.has_receipt);
    assert_memory_equal(got.content_hash, r.hash, XL_HASH_BYTES);
    assert_int_equal(linker_store_attributes(f->st, s.id, &attrs, err, sizeof err), 0);
    assert_string_equal(attrs, "[{\"name\":\"gp\",\"type\":\"bool\"}]");
    free(attrs);

    /* Found by identity; any part of the identity different: not found. */
    want = s;
    xl_random(want.id, sizeof want.id);
    assert_int_equal(linker_store_find(f->st, &want, &got, err, sizeof err), 0);
    assert_memory_equal(got.id, s.id, LINKER_SUBID_BYTES);
    want.chunk_records = 3;
    assert_int_equal(linker_store_find(f->st, &want, &got, err, sizeof err), XL_ERR_NOTFOUND);
    want = s;
    want.content_hash[0] ^= 1;
    assert_int_equal(linker_store_find(f->st, &want, &got, err, sizeof err), XL_ERR_NOTFOUND);
    want = s;
    want.epoch = 2;
    assert_int_equal(linker_store_find(f->st, &want, &got, err, sizeof err), XL_ERR_NOTFOUND);
    want = s;
    snprintf(want.dataset, sizeof want.dataset, "other");
    assert_int_equal(linker_store_find(f->st, &want, &got, err, sizeof err), XL_ERR_NOTFOUND);

    xl_random(want.id, sizeof want.id);
    assert_int_equal(linker_store_get(f->st, want.id, &got, err, sizeof err), XL_ERR_NOTFOUND);
    assert_int_equal(tu_file_mode(f->db), 0600);
    s_recs_free(&r);
}

static void
test_chunks_resume_after_reopen(void **state)
{
    struct s_fixture *f = *state;
    struct linker_submission s, got;
    struct linker_chunk_result res;
    struct s_recs r;
    uint8_t hash[XL_HASH_BYTES];
    uint64_t chunks, records;
    char err[XL_ERRBUF];

    s_recs_make(&r, 7, 2, 128);
    s_sub(&s, "wmp", "police", &r, 3, 1);
    s_create(f->st, &s);
    assert_int_equal(s_put(f->st, &s, &r, 0, 0, 3, &res), 0);
    assert_int_equal(res.next_seq, 1);
    assert_int_equal(res.records_stored, 3);
    assert_int_equal(s_put(f->st, &s, &r, 1, 3, 3, &res), 0);

    /* A restarted linker knows where the submission stands. */
    s_reopen(f);
    assert_int_equal(linker_store_get(f->st, s.id, &got, err, sizeof err), 0);
    assert_int_equal(got.next_seq, 2);
    assert_int_equal(got.records_stored, 6);

    /* A resent chunk is acknowledged without being written again. */
    assert_int_equal(s_put(f->st, &s, &r, 1, 3, 3, &res), 0);
    assert_true(res.duplicate);
    assert_int_equal(res.next_seq, 2);
    assert_int_equal(res.records_stored, 6);
    /* Even with other content: what was acked stays. */
    assert_int_equal(s_put(f->st, &s, &r, 0, 4, 3, &res), 0);
    assert_true(res.duplicate);

    /* A chunk ahead of the next expected is refused and says which is next. */
    assert_int_equal(s_put(f->st, &s, &r, 3, 6, 1, &res), XL_ERR_SEQUENCE);
    assert_int_equal(res.next_seq, 2);

    assert_int_equal(s_put(f->st, &s, &r, 2, 6, 1, &res), 0);
    assert_int_equal(res.records_stored, 7);
    assert_int_equal(linker_store_content_hash(f->st, &s, hash, &chunks, &records, err, sizeof err),
                     0);
    assert_int_equal(chunks, 3);
    assert_int_equal(records, 7);
    assert_memory_equal(hash, r.hash, XL_HASH_BYTES);
    s_recs_free(&r);
}

static void
test_chunk_limits(void **state)
{
    struct s_fixture *f = *state;
    struct linker_submission s, got, ghost;
    struct linker_chunk_result res;
    struct s_recs r;
    char err[XL_ERRBUF];

    s_recs_make(&r, 5, 3, 128);
    s_sub(&s, "wmp", "police", &r, 2, 1);
    s_create(f->st, &s);
    /* more records than agreed per chunk */
    assert_int_equal(s_put(f->st, &s, &r, 0, 0, 3, &res), XL_ERR_TOOBIG);
    /* none */
    assert_int_equal(linker_store_put_chunk(f->st, s.id, 0, 0, (const uint8_t *)"", 0,
                                            (const uint8_t *)"", 0, &res, err, sizeof err),
                     XL_ERR_INVALID);
    assert_int_equal(s_put(f->st, &s, &r, 0, 0, 2, &res), 0);
    assert_int_equal(s_put(f->st, &s, &r, 1, 2, 2, &res), 0);
    /* beyond the record count begun: 4 stored + 2 > 5 */
    assert_int_equal(s_put(f->st, &s, &r, 2, 3, 2, &res), XL_ERR_MISMATCH);
    /* nothing of the refused chunks was written */
    assert_int_equal(linker_store_get(f->st, s.id, &got, err, sizeof err), 0);
    assert_int_equal(got.next_seq, 2);
    assert_int_equal(got.records_stored, 4);
    /* unknown submission */
    ghost = s;
    xl_random(ghost.id, sizeof ghost.id);
    assert_int_equal(s_put(f->st, &ghost, &r, 0, 0, 1, &res), XL_ERR_NOTFOUND);
    s_recs_free(&r);
}

/* Seal hook for store tests: records what it was given, returns fixed bytes. */
struct s_seal {
    int calls;
    int fail;
    size_t nsuperseded;
    uint8_t superseded[4][LINKER_SUBID_BYTES];
    int64_t committed;
};

static int
s_seal(void *ctx, const struct linker_submission *sub,
       const uint8_t (*superseded)[LINKER_SUBID_BYTES], size_t n, uint8_t **receipt,
       size_t *receiptlen, char *err, size_t errlen)
{
    struct s_seal *s = ctx;

    s->calls++;
    s->nsuperseded = n;
    for (size_t i = 0; i < n && i < 4; i++)
        memcpy(s->superseded[i], superseded[i], LINKER_SUBID_BYTES);
    s->committed = sub->committed;
    if (sub->state != LINKER_COMMITTED)
        return xl_err_set(err, errlen, XL_ERR_INTERNAL, "not marked committed");
    if (s->fail)
        return xl_err_set(err, errlen, XL_ERR_IO, "audit log full");
    *receipt = malloc(8);
    memcpy(*receipt, "RECEIPT!", 8);
    *receiptlen = 8;
    return 0;
}

static void
test_commit_and_supersede(void **state)
{
    struct s_fixture *f = *state;
    struct linker_submission a, b, c, got, want;
    struct s_seal seal = {0};
    struct linker_commit_hooks hooks = {s_seal, &seal};
    struct linker_chunk_result res;
    struct s_recs ra, rb, rc;
    char err[XL_ERRBUF];
    uint8_t *receipt;
    size_t len;

    s_recs_make(&ra, 4, 10, 128);
    s_recs_make(&rb, 3, 11, 128);
    s_recs_make(&rc, 2, 12, 128);
    s_sub(&a, "wmp", "police", &ra, 2, 1);
    s_sub(&b, "wmp", "police", &rb, 2, 1);
    s_sub(&c, "wmp", "custody", &rc, 2, 1);
    s_create(f->st, &a);
    s_create(f->st, &b);
    s_create(f->st, &c);

    /* Not all records stored: refused, still open. */
    assert_int_equal(s_put(f->st, &a, &ra, 0, 0, 2, &res), 0);
    assert_int_equal(linker_store_commit(f->st, a.id, 1795000100, &hooks, err, sizeof err),
                     XL_ERR_MISMATCH);
    assert_int_equal(seal.calls, 0);
    assert_int_equal(s_put(f->st, &a, &ra, 1, 2, 2, &res), 0);
    s_put_all(f->st, &b, &rb);
    s_put_all(f->st, &c, &rc);

    if (linker_store_commit(f->st, a.id, 1795000100, &hooks, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(seal.calls, 1);
    assert_int_equal(seal.nsuperseded, 0);
    assert_int_equal(seal.committed, 1795000100);
    assert_int_equal(linker_store_get(f->st, a.id, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_COMMITTED);
    assert_int_equal(got.committed, 1795000100);
    assert_true(got.has_receipt);
    assert_int_equal(linker_store_receipt(f->st, a.id, &receipt, &len, err, sizeof err), 0);
    assert_int_equal(len, 8);
    assert_memory_equal(receipt, "RECEIPT!", 8);
    free(receipt);
    /* the committed submission is still found by identity (idempotent begin) */
    want = a;
    assert_int_equal(linker_store_find(f->st, &want, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_COMMITTED);
    /* committing again is refused by the store (the caller answers with the receipt) */
    assert_int_equal(linker_store_commit(f->st, a.id, 1795000101, &hooks, err, sizeof err),
                     XL_ERR_MISMATCH);
    /* no chunk after commit, but a resent one is still acknowledged */
    assert_int_equal(s_put(f->st, &a, &ra, 2, 0, 1, &res), XL_ERR_MISMATCH);
    assert_int_equal(s_put(f->st, &a, &ra, 1, 2, 2, &res), 0);
    assert_true(res.duplicate);

    /* A later snapshot of the same dataset supersedes the first, not another dataset. */
    if (linker_store_commit(f->st, c.id, 1795000150, &hooks, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(seal.nsuperseded, 0);
    if (linker_store_commit(f->st, b.id, 1795000200, &hooks, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(seal.nsuperseded, 1);
    assert_memory_equal(seal.superseded[0], a.id, LINKER_SUBID_BYTES);
    assert_int_equal(linker_store_get(f->st, a.id, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_SUPERSEDED);
    assert_int_equal(linker_store_get(f->st, b.id, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_COMMITTED);
    assert_int_equal(linker_store_get(f->st, c.id, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_COMMITTED);
    /* a superseded submission is no longer matched by identity */
    want = a;
    assert_int_equal(linker_store_find(f->st, &want, &got, err, sizeof err), XL_ERR_NOTFOUND);

    /* States survive a reopen. */
    s_reopen(f);
    assert_int_equal(linker_store_get(f->st, a.id, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_SUPERSEDED);
    s_recs_free(&ra);
    s_recs_free(&rb);
    s_recs_free(&rc);
}

struct s_due {
    int n, open, superseded;
    struct linker_submission subs[8];
};

static int
s_due_cb(void *arg, const struct linker_submission *sub)
{
    struct s_due *d = arg;

    if (d->n < 8)
        d->subs[d->n++] = *sub;
    d->open += sub->state == LINKER_OPEN;
    d->superseded += sub->state == LINKER_SUPERSEDED;
    return 0;
}

static int
s_storage_cb(void *arg, const char *agency, enum linker_state state, uint64_t subs, uint64_t bytes)
{
    uint64_t *b = arg;

    if (state == LINKER_SUPERSEDED)
        *b += bytes;
    return 0;
}

/* The rows of chunk_columns of submission id, read from the columns file
 * beside the store's connection. */
static int
s_columns_of(const struct s_fixture *f, const uint8_t *id)
{
    char path[1024];
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int n = -1;

    snprintf(path, sizeof path, "%s-columns", f->db);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM chunk_columns WHERE submission = ?1",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

/* Retention: an abandoned open submission and a superseded one are due; the
 * purge removes the first whole, the second's records only (its row, receipt
 * and input identity stay), and neither is due again. */
static void
test_retention(void **state)
{
    struct s_fixture *f = *state;
    struct linker_submission a, b, x, got;
    struct s_seal seal = {0};
    struct linker_commit_hooks hooks = {s_seal, &seal};
    struct s_recs ra, rb, rx;
    struct s_due due = {0};
    uint64_t superseded_bytes = 0;
    char err[XL_ERRBUF];
    int vacuumed = -1;
    int64_t now = (int64_t)time(NULL);

    s_recs_make(&ra, 4, 20, 128);
    s_recs_make(&rb, 3, 21, 128);
    s_recs_make(&rx, 2, 22, 128);
    s_sub(&a, "wmp", "police", &ra, 2, 1);
    a.has_input = 1;
    memset(a.input_id, 0x5a, sizeof a.input_id);
    s_sub(&b, "wmp", "police", &rb, 2, 1);
    s_sub(&x, "icb", "health", &rx, 2, 1);
    s_create(f->st, &a);
    s_create(f->st, &b);
    s_create(f->st, &x); /* begun long ago, never sent a chunk */
    s_put_all(f->st, &a, &ra);
    s_put_all(f->st, &b, &rb);
    assert_int_equal(linker_store_commit(f->st, a.id, 1795000100, &hooks, err, sizeof err), 0);
    assert_int_equal(linker_store_commit(f->st, b.id, 1795000200, &hooks, err, sizeof err), 0);

    /* Nothing is due for a retention longer than their age. */
    assert_int_equal(linker_store_purge_due(f->st, 1795000000 - 1, s_due_cb, &due, err, sizeof err),
                     0);
    assert_int_equal(due.n, 0);
    assert_int_equal(linker_store_purge_due(f->st, now + 10, s_due_cb, &due, err, sizeof err), 0);
    assert_int_equal(due.n, 2);
    assert_int_equal(due.open, 1);
    assert_int_equal(due.superseded, 1);
    assert_int_equal(linker_store_storage(f->st, s_storage_cb, &superseded_bytes, err, sizeof err),
                     0);
    assert_true(superseded_bytes > 0);
    assert_int_equal(s_columns_of(f, a.id), 2);
    for (int i = 0; i < due.n; i++)
        assert_int_equal(linker_store_purge(f->st, &due.subs[i], now, err, sizeof err), 0);
    assert_int_equal(linker_store_reclaim(f->st, &vacuumed, err, sizeof err), 0);
    assert_true(vacuumed == 0 || vacuumed == 1);

    assert_int_equal(linker_store_get(f->st, x.id, &got, err, sizeof err), XL_ERR_NOTFOUND);
    assert_int_equal(linker_store_get(f->st, a.id, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_SUPERSEDED);
    assert_int_equal(got.purged, now);
    assert_true(got.has_receipt);
    /* its input is still known, so an older file sent again is recognised */
    assert_int_equal(
        linker_store_find_input(f->st, "wmp", "police", a.input_id, &got, err, sizeof err), 0);
    assert_memory_equal(got.id, a.id, LINKER_SUBID_BYTES);
    superseded_bytes = 0;
    assert_int_equal(linker_store_storage(f->st, s_storage_cb, &superseded_bytes, err, sizeof err),
                     0);
    assert_int_equal(superseded_bytes, 0);
    /* the link columns went with the chunks; the current one's stay */
    assert_int_equal(s_columns_of(f, a.id), 0);
    assert_int_equal(s_columns_of(f, b.id), 2);
    memset(&due, 0, sizeof due);
    assert_int_equal(linker_store_purge_due(f->st, now + 10, s_due_cb, &due, err, sizeof err), 0);
    assert_int_equal(due.n, 0);
    /* the current one is never purged */
    assert_int_equal(linker_store_get(f->st, b.id, &got, err, sizeof err), 0);
    assert_int_equal(linker_store_purge(f->st, &got, now, err, sizeof err), XL_ERR_INVALID);
    s_recs_free(&ra);
    s_recs_free(&rb);
    s_recs_free(&rx);
}

static void
test_commit_rolls_back(void **state)
{
    struct s_fixture *f = *state;
    struct linker_submission a, b, got;
    struct s_seal seal = {0};
    struct linker_commit_hooks hooks = {s_seal, &seal};
    struct s_recs ra, rb;
    char err[XL_ERRBUF];
    uint8_t *receipt = NULL;
    size_t len;

    s_recs_make(&ra, 3, 20, 128);
    s_recs_make(&rb, 3, 21, 128);
    s_sub(&a, "icb", "health", &ra, 5, 1);
    s_sub(&b, "icb", "health", &rb, 5, 1);
    s_create(f->st, &a);
    s_create(f->st, &b);
    s_put_all(f->st, &a, &ra);
    s_put_all(f->st, &b, &rb);
    assert_int_equal(linker_store_commit(f->st, a.id, 1795000300, &hooks, err, sizeof err), 0);

    /* The hook (audit, signature) fails: nothing of the commit remains. */
    seal.fail = 1;
    assert_int_equal(linker_store_commit(f->st, b.id, 1795000400, &hooks, err, sizeof err),
                     XL_ERR_IO);
    assert_non_null(strstr(err, "audit log full"));
    assert_int_equal(linker_store_get(f->st, b.id, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_OPEN);
    assert_int_equal(got.committed, 0);
    assert_int_equal(got.records_stored, 3);
    assert_int_equal(linker_store_receipt(f->st, b.id, &receipt, &len, err, sizeof err),
                     XL_ERR_NOTFOUND);
    assert_int_equal(linker_store_get(f->st, a.id, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_COMMITTED);

    /* and it can be committed afterwards */
    seal.fail = 0;
    assert_int_equal(linker_store_commit(f->st, b.id, 1795000500, &hooks, err, sizeof err), 0);
    assert_int_equal(linker_store_get(f->st, a.id, &got, err, sizeof err), 0);
    assert_int_equal(got.state, LINKER_SUPERSEDED);
    s_recs_free(&ra);
    s_recs_free(&rb);
}

struct s_walk {
    size_t n;
    const struct s_recs *expect[3];
    uint8_t ids[3][LINKER_SUBID_BYTES];
    size_t seen[3];
    int bad;
    size_t stop_after;
};

/* A chunk's columns must be those of the expected records it covers. */
static int
s_walk(void *ctx, const struct linker_submission *sub, uint64_t first, uint64_t n,
       const uint8_t *cols, size_t len)
{
    struct s_walk *w = ctx;

    for (size_t i = 0; i < 3; i++) {
        if (w->expect[i] != NULL && memcmp(sub->id, w->ids[i], LINKER_SUBID_BYTES) == 0) {
            struct linker_columns_buf cb = {0};
            const uint8_t *want;
            size_t wantlen, bl;
            uint8_t *b;
            if (first != w->seen[i] || n == 0 || first + n > w->expect[i]->n) {
                w->bad++;
                return 0;
            }
            b = s_blob(w->expect[i], first, n, &bl);
            if (linker_columns_from_packed(&cb, b, bl, &want, &wantlen) != 0 || len != wantlen ||
                memcmp(cols, want, len) != 0)
                w->bad++;
            linker_columns_free(&cb);
            free(b);
            w->seen[i] += n;
            w->n += n;
            return w->stop_after != 0 && w->n >= w->stop_after ? 42 : 0;
        }
    }
    w->bad++; /* a chunk of a submission that should not be visited */
    return 0;
}

static void
test_foreach_columns(void **state)
{
    struct s_fixture *f = *state;
    struct linker_submission a, b, open, old, other;
    struct s_seal seal = {0};
    struct linker_commit_hooks hooks = {s_seal, &seal};
    struct s_recs ra, rb, ro, rold, rother;
    struct s_walk w;
    char err[XL_ERRBUF];

    s_recs_make(&ra, 5, 30, 128);
    s_recs_make(&rb, 3, 31, 128);
    s_recs_make(&ro, 2, 32, 128);
    s_recs_make(&rold, 2, 33, 128);
    s_recs_make(&rother, 2, 34, 128);
    s_sub(&old, "wmp", "police", &rold, 2, 1);   /* superseded by a */
    s_sub(&a, "wmp", "police", &ra, 2, 1);       /* current, epoch 1 */
    s_sub(&b, "icb", "health", &rb, 2, 1);       /* current, epoch 1 */
    s_sub(&open, "lea", "census", &ro, 2, 1);    /* open */
    s_sub(&other, "csc", "care", &rother, 2, 2); /* current, epoch 2 */
    s_create(f->st, &old);
    s_create(f->st, &a);
    s_create(f->st, &b);
    s_create(f->st, &open);
    s_create(f->st, &other);
    s_put_all(f->st, &old, &rold);
    s_put_all(f->st, &a, &ra);
    s_put_all(f->st, &b, &rb);
    s_put_all(f->st, &open, &ro);
    s_put_all(f->st, &other, &rother);
    assert_int_equal(linker_store_commit(f->st, old.id, 1, &hooks, err, sizeof err), 0);
    assert_int_equal(linker_store_commit(f->st, a.id, 2, &hooks, err, sizeof err), 0);
    assert_int_equal(linker_store_commit(f->st, b.id, 3, &hooks, err, sizeof err), 0);
    assert_int_equal(linker_store_commit(f->st, other.id, 4, &hooks, err, sizeof err), 0);

    memset(&w, 0, sizeof w);
    w.expect[0] = &ra;
    memcpy(w.ids[0], a.id, LINKER_SUBID_BYTES);
    w.expect[1] = &rb;
    memcpy(w.ids[1], b.id, LINKER_SUBID_BYTES);
    if (linker_store_foreach_columns(f->st, 1, s_walk, &w, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(w.bad, 0);
    assert_int_equal(w.seen[0], 5);
    assert_int_equal(w.seen[1], 3);
    assert_int_equal(w.n, 8);

    /* epoch 2 holds only its own */
    memset(&w, 0, sizeof w);
    w.expect[0] = &rother;
    memcpy(w.ids[0], other.id, LINKER_SUBID_BYTES);
    assert_int_equal(linker_store_foreach_columns(f->st, 2, s_walk, &w, err, sizeof err), 0);
    assert_int_equal(w.bad, 0);
    assert_int_equal(w.n, 2);

    /* the callback can stop the walk; its value is returned */
    memset(&w, 0, sizeof w);
    w.expect[0] = &ra;
    memcpy(w.ids[0], a.id, LINKER_SUBID_BYTES);
    w.expect[1] = &rb;
    memcpy(w.ids[1], b.id, LINKER_SUBID_BYTES);
    w.stop_after = 3; /* icb's two chunks (2 records, then 1) come first and stop it */
    assert_int_equal(linker_store_foreach_columns(f->st, 1, s_walk, &w, err, sizeof err), 42);
    assert_int_equal(w.n, 3);
    assert_int_equal(w.seen[0], 0);
    assert_int_equal(w.bad, 0);

    s_recs_free(&ra);
    s_recs_free(&rb);
    s_recs_free(&ro);
    s_recs_free(&rold);
    s_recs_free(&rother);
}

/* Runs sql on the closed store's file (with suffix: the file beside it)
 * directly, with ?1 bound to id. */
static void
s_raw(struct s_fixture *f, const char *suffix, const char *sql, const uint8_t *id)
{
    char path[1024];
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    const char *tail = sql;

    linker_store_close(&f->st);
    snprintf(path, sizeof path, "%s%s", f->db, suffix);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    while (*tail != '\0') {
        int rc;
        assert_int_equal(sqlite3_prepare_v2(db, tail, -1, &s, &tail), SQLITE_OK);
        if (s == NULL)
            break;
        if (sqlite3_bind_parameter_count(s) > 0)
            sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW)
            ;
        assert_int_equal(rc, SQLITE_DONE);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
}

/* The link columns are a cache of the chunks: with their file gone, a store
 * opened again makes them all; a read-only store makes them as it walks; a
 * chunk whose records do not unpack is named, not skipped. */
static void
test_columns_made_again(void **state)
{
    struct s_fixture *f = *state;
    struct linker_submission a, b;
    struct s_seal seal = {0};
    struct linker_commit_hooks hooks = {s_seal, &seal};
    struct s_recs ra, rb;
    struct s_walk w;
    struct linker_store *ro = NULL;
    char err[XL_ERRBUF] = "", path[1024];

    s_recs_make(&ra, 5, 40, 128);
    s_recs_make(&rb, 3, 41, 128);
    s_sub(&a, "wmp", "police", &ra, 2, 1);
    s_sub(&b, "icb", "health", &rb, 2, 1);
    s_create(f->st, &a);
    s_create(f->st, &b);
    s_put_all(f->st, &a, &ra);
    s_put_all(f->st, &b, &rb);
    assert_int_equal(linker_store_commit(f->st, a.id, 2, &hooks, err, sizeof err), 0);
    assert_int_equal(linker_store_commit(f->st, b.id, 3, &hooks, err, sizeof err), 0);
    assert_int_equal(s_columns_of(f, a.id), 3);

    linker_store_close(&f->st);
    for (int i = 0; i < 3; i++) {
        static const char *const sfx[] = {"-columns", "-columns-wal", "-columns-shm"};
        snprintf(path, sizeof path, "%s%s", f->db, sfx[i]);
        unlink(path);
    }
    s_reopen(f);
    assert_int_equal(s_columns_of(f, a.id), 3);
    assert_int_equal(s_columns_of(f, b.id), 2);
    memset(&w, 0, sizeof w);
    w.expect[0] = &ra;
    memcpy(w.ids[0], a.id, LINKER_SUBID_BYTES);
    w.expect[1] = &rb;
    memcpy(w.ids[1], b.id, LINKER_SUBID_BYTES);
    if (linker_store_foreach_columns(f->st, 1, s_walk, &w, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(w.bad, 0);
    assert_int_equal(w.n, 8);

    /* read-only: nothing kept, every chunk's made from its records */
    assert_int_equal(linker_store_open_readonly(f->db, &ro, err, sizeof err), 0);
    memset(&w, 0, sizeof w);
    w.expect[0] = &ra;
    memcpy(w.ids[0], a.id, LINKER_SUBID_BYTES);
    w.expect[1] = &rb;
    memcpy(w.ids[1], b.id, LINKER_SUBID_BYTES);
    if (linker_store_foreach_columns(ro, 1, s_walk, &w, err, sizeof err) != 0)
        fail_msg("%s", err);
    linker_store_close(&ro);
    assert_int_equal(w.bad, 0);
    assert_int_equal(w.n, 8);

    s_raw(f, "", "UPDATE chunks SET data = x'00000002ffff' WHERE submission = ?1 AND seq = 1",
          b.id);
    s_raw(f, "-columns", "DELETE FROM chunk_columns WHERE submission = ?1 AND seq = 1", b.id);
    s_reopen(f);
    assert_int_equal(s_columns_of(f, b.id), 1);
    memset(&w, 0, sizeof w);
    err[0] = '\0';
    assert_int_equal(linker_store_foreach_columns(f->st, 1, s_walk, &w, err, sizeof err),
                     XL_ERR_FORMAT);
    assert_non_null(strstr(err, "chunk 1 of icb/health: its records do not unpack"));

    /* A columns file that cannot be set up (here a directory in its place; a
     * full disk in practice) leaves the store working: walks make the columns
     * of the chunks, as a read-only store's do. */
    s_raw(f, "",
          "UPDATE chunks SET data = (SELECT data FROM chunks WHERE submission = ?1"
          " AND seq = 0) WHERE submission = ?1 AND seq = 1",
          b.id);
    linker_store_close(&f->st);
    for (int i = 0; i < 3; i++) {
        static const char *const sfx[] = {"-columns", "-columns-wal", "-columns-shm"};
        snprintf(path, sizeof path, "%s%s", f->db, sfx[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s-columns", f->db);
    assert_int_equal(mkdir(path, 0700), 0);
    s_reopen(f);
    memset(&w, 0, sizeof w);
    w.expect[0] = &ra;
    memcpy(w.ids[0], a.id, LINKER_SUBID_BYTES);
    if (linker_store_foreach_columns(f->st, 1, s_walk, &w, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(w.seen[0], 5);
    linker_store_close(&f->st);
    assert_int_equal(rmdir(path), 0);
    s_reopen(f);

    s_recs_free(&ra);
    s_recs_free(&rb);
}

/* ---- ingest: begin, chunk, commit --------------------------------------------------- */

struct s_ing {
    char *dir;
    char *audit_path;
    struct linker_ctx ctx;
    struct linker_actor who;
    struct s_recs r;
};

static const uint8_t s_check[XL_CHECK_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};

static int
s_ing_setup(void **state)
{
    struct s_ing *t = calloc(1, sizeof *t);
    char err[XL_ERRBUF], *db;

    if (t == NULL || (t->dir = tu_tmpdir()) == NULL)
        return -1;
    db = tu_path(t->dir, "l.db");
    t->audit_path = tu_path(t->dir, "audit.jsonl");
    t->ctx.cfg.epoch = 1;
    memcpy(t->ctx.cfg.secret_check, s_check, sizeof s_check);
    t->ctx.cfg.max_message = LINKER_MAX_MESSAGE_DEFAULT;
    t->ctx.cfg.max_chunk_records = 100;
    t->ctx.cfg.credit = 8;
    t->ctx.sign = xl_keyfile_new(XL_KEY_SIGN_SECRET);
    if (db == NULL || t->audit_path == NULL || t->ctx.sign == NULL ||
        xl_keyfile_generate(t->ctx.sign) != 0 ||
        xl_spec_load(SPEC_FILE, &t->ctx.spec, err, sizeof err) != 0 ||
        linker_store_open(db, &t->ctx.store, err, sizeof err) != 0 ||
        linker_audit_open(t->audit_path, t->ctx.sign->secret, t->ctx.sign->pub, &t->ctx.audit, err,
                          sizeof err) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        free(db);
        return -1;
    }
    free(db);
    t->ctx.clk_bytes = xl_spec_clk_bytes(t->ctx.spec);
    snprintf(t->who.key_id, sizeof t->who.key_id, "a1b2c3d4e5f60718");
    t->who.role = XL_ROLE_AGENT;
    snprintf(t->who.agency, sizeof t->who.agency, "wmp");
    t->who.audit_actor = t->who.key_id;
    t->who.audit_role = "agent";
    t->who.source = "network";
    s_recs_make(&t->r, 25, 99, t->ctx.clk_bytes);
    *state = t;
    return 0;
}

static int
s_ing_teardown(void **state)
{
    struct s_ing *t = *state;

    s_recs_free(&t->r);
    linker_ctx_close(&t->ctx);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t->audit_path);
    free(t);
    return 0;
}

static void
s_begin_msg(struct s_ing *t, Crosslink__SubmitBegin *b, uint8_t *hash, uint32_t chunk)
{
    static Crosslink__Attribute a1 = CROSSLINK__ATTRIBUTE__INIT;
    static Crosslink__Attribute *attrs[1] = {&a1};

    a1.name = "reoffended";
    a1.type = "bool";
    crosslink__submit_begin__init(b);
    b->agency = "wmp";
    b->dataset = "police";
    b->spec_fingerprint.data = t->ctx.spec->fingerprint;
    b->spec_fingerprint.len = XL_HASH_BYTES;
    b->epoch = 1;
    b->record_count = t->r.n;
    b->content_hash.data = hash;
    b->content_hash.len = XL_HASH_BYTES;
    b->chunk_records = chunk;
    b->secret_check.data = (uint8_t *)s_check;
    b->secret_check.len = XL_CHECK_BYTES;
    b->one_per_person = 1;
    b->n_attributes = 1;
    b->attributes = attrs;
}

/* Sends chunk seq of records [from, from + n) of r the network way (decoded
 * records). */
static int
s_chunk_of(struct s_ing *t, const struct s_recs *r, const uint8_t *id, uint64_t seq, size_t from,
           size_t n, struct linker_answer *res)
{
    Crosslink__Record **recs = calloc(n ? n : 1, sizeof *recs);
    struct linker_records in;
    int rc;

    assert_non_null(recs);
    for (size_t i = 0; i < n; i++) {
        recs[i] = crosslink__record__unpack(NULL, r->len[from + i], r->rec[from + i]);
        assert_non_null(recs[i]);
    }
    in = (struct linker_records){.records = recs, .n = n};
    rc = linker_chunk(&t->ctx, &t->who, id, LINKER_SUBID_BYTES, seq, &in, res);
    for (size_t i = 0; i < n; i++)
        crosslink__record__free_unpacked(recs[i], NULL);
    free(recs);
    return rc;
}

static int
s_chunk(struct s_ing *t, const uint8_t *id, uint64_t seq, size_t from, size_t n,
        struct linker_answer *res)
{
    return s_chunk_of(t, &t->r, id, seq, from, n, res);
}

/* res is a refusal of the peer's doing at stage, with its audit details. */
static void
s_assert_refusal(const struct linker_answer *res, const char *stage)
{
    const cJSON *st;

    assert_non_null(res->refusal);
    st = cJSON_GetObjectItemCaseSensitive(res->refusal, "stage");
    assert_true(cJSON_IsString(st));
    assert_string_equal(st->valuestring, stage);
}

/* Counts audit entries whose line contains needle. */
static int
s_audit_count(struct s_ing *t, const char *needle)
{
    char *text = tu_read_file(t->audit_path), *p;
    int n = 0;

    assert_non_null(text);
    for (p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    free(text);
    return n;
}

static int
s_count_one(void *ctx, const struct linker_submission *sub)
{
    (*(size_t *)ctx)++;
    return 0;
}

static size_t
s_submissions(struct s_ing *t)
{
    size_t n = 0;
    char err[XL_ERRBUF];

    assert_int_equal(
        linker_store_foreach_submission(t->ctx.store, s_count_one, &n, err, sizeof err), 0);
    return n;
}

static void
test_ingest_submission(void **state)
{
    struct s_ing *t = *state;
    Crosslink__SubmitBegin b;
    Crosslink__Receipt *rc;
    struct linker_answer res, again;
    struct linker_submission sub;
    uint8_t id[LINKER_SUBID_BYTES], wrong[XL_HASH_BYTES];
    char err[XL_ERRBUF], needle[64];

    s_begin_msg(t, &b, t->r.hash, 10);
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_ACK);
    assert_int_equal(res.next_seq, 0);
    assert_int_equal(res.credit, 8);
    memcpy(id, res.id, sizeof id);
    linker_answer_clear(&res);

    assert_int_equal(s_chunk(t, id, 0, 0, 10, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_ACK);
    assert_int_equal(res.next_seq, 1);
    assert_int_equal(res.records_stored, 10);
    linker_answer_clear(&res);

    /* The same begin again (a reconnect) resumes at the first chunk not stored. */
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_ACK);
    assert_memory_equal(res.id, id, sizeof id);
    assert_int_equal(res.next_seq, 1);
    assert_int_equal(res.records_stored, 10);
    linker_answer_clear(&res);

    /* out of sequence, then a too-big chunk: refused, nothing written */
    assert_int_equal(s_chunk(t, id, 2, 10, 10, &res), XL_ERR_SEQUENCE);
    assert_int_equal(res.kind, LINKER_REPLY_ERROR);
    assert_non_null(strstr(res.msg, "expected is 1"));
    linker_answer_clear(&res);
    assert_int_equal(s_chunk(t, id, 1, 10, 11, &res), XL_ERR_TOOBIG);
    linker_answer_clear(&res);
    assert_int_equal(s_chunk(t, id, 1, 10, 10, &res), 0);
    linker_answer_clear(&res);
    /* a resend of chunk 0 after a lost ack */
    assert_int_equal(s_chunk(t, id, 0, 0, 10, &res), 0);
    assert_int_equal(res.next_seq, 2);
    assert_int_equal(res.records_stored, 20);
    linker_answer_clear(&res);

    /* commit before the last chunk: refused, still open; the refusal's details
     * go with the answer for the caller to audit */
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n, t->r.hash, XL_HASH_BYTES, &res),
        XL_ERR_MISMATCH);
    s_assert_refusal(&res, "commit");
    linker_answer_clear(&res);
    assert_int_equal(s_chunk(t, id, 2, 20, 5, &res), 0);
    linker_answer_clear(&res);

    /* commit with a wrong hash or count: refused, the submission stays open with
     * every chunk */
    memcpy(wrong, t->r.hash, sizeof wrong);
    wrong[5] ^= 0x40;
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n, wrong, XL_HASH_BYTES, &res),
        XL_ERR_MISMATCH);
    assert_int_equal(res.kind, LINKER_REPLY_ERROR);
    s_assert_refusal(&res, "commit");
    linker_answer_clear(&res);
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n + 1, t->r.hash, XL_HASH_BYTES, &res),
        XL_ERR_MISMATCH);
    s_assert_refusal(&res, "commit");
    linker_answer_clear(&res);
    assert_int_equal(linker_store_get(t->ctx.store, id, &sub, err, sizeof err), 0);
    assert_int_equal(sub.state, LINKER_OPEN);
    assert_int_equal(sub.records_stored, 25);
    /* refusals are the caller's to audit (under the refusal limit) */
    assert_int_equal(s_audit_count(t, "\"stage\":\"commit\""), 0);

    /* the right commit: a signed receipt naming the commit's audit entry */
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n, t->r.hash, XL_HASH_BYTES, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_RECEIPT);
    rc = crosslink__receipt__unpack(NULL, res.receiptlen, res.receipt);
    assert_non_null(rc);
    if (xl_receipt_verify(rc, t->ctx.sign->pub, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(rc->agency, "wmp");
    assert_string_equal(rc->dataset, "police");
    assert_int_equal(rc->record_count, 25);
    assert_int_equal(rc->epoch, 1);
    assert_memory_equal(rc->content_hash.data, t->r.hash, XL_HASH_BYTES);
    assert_memory_equal(rc->submission_id.data, id, sizeof id);
    assert_memory_equal(rc->spec_fingerprint.data, t->ctx.spec->fingerprint, XL_HASH_BYTES);
    snprintf(needle, sizeof needle, "{\"seq\":%llu,", (unsigned long long)rc->audit_seq);
    assert_int_equal(s_audit_count(t, needle), 1);
    {
        char *text = tu_read_file(t->audit_path), *line = strstr(text, needle);
        assert_non_null(line);
        assert_non_null(strstr(line, "\"event\":\"submission.commit\""));
        assert_true(strstr(line, "\"event\":\"submission.commit\"") < strchr(line, '\n'));
        free(text);
    }
    crosslink__receipt__free_unpacked(rc, NULL);

    /* Resubmitting identical content, or repeating the commit, returns the
     * same receipt and stores nothing new. */
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &again), 0);
    assert_int_equal(again.kind, LINKER_REPLY_RECEIPT);
    assert_int_equal(again.receiptlen, res.receiptlen);
    assert_memory_equal(again.receipt, res.receipt, res.receiptlen);
    linker_answer_clear(&again);
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n, t->r.hash, XL_HASH_BYTES, &again),
        0);
    assert_memory_equal(again.receipt, res.receipt, res.receiptlen);
    linker_answer_clear(&again);
    linker_answer_clear(&res);
    assert_int_equal(s_submissions(t), 1);
}

static void
test_ingest_stored_content_must_match(void **state)
{
    struct s_ing *t = *state;
    Crosslink__SubmitBegin b;
    struct linker_answer res;
    struct linker_submission sub;
    uint8_t id[LINKER_SUBID_BYTES], wrong[XL_HASH_BYTES];
    char err[XL_ERRBUF];

    /* Begun (and committed) with a hash the records do not have. */
    memcpy(wrong, t->r.hash, sizeof wrong);
    wrong[0] ^= 1;
    s_begin_msg(t, &b, wrong, 25);
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    memcpy(id, res.id, sizeof id);
    linker_answer_clear(&res);
    assert_int_equal(s_chunk(t, id, 0, 0, 25, &res), 0);
    linker_answer_clear(&res);
    /* Beyond repair: discarded and audited, so the agent's next begin starts
     * afresh instead of resuming it for ever. */
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n, wrong, XL_HASH_BYTES, &res),
        XL_ERR_DISCARDED);
    assert_non_null(strstr(res.msg, "do not match the content hash"));
    assert_non_null(strstr(res.msg, "begin it again"));
    assert_int_equal(linker_error_code(res.code), CROSSLINK__ERROR__CODE__DISCARDED);
    s_assert_refusal(&res, "commit");
    linker_answer_clear(&res);
    assert_int_equal(linker_store_get(t->ctx.store, id, &sub, err, sizeof err), XL_ERR_NOTFOUND);
    assert_int_equal(s_audit_count(t, "\"event\":\"submission.discarded\""), 1);
    assert_int_equal(s_submissions(t), 0);
    /* the same begin again: a new submission from chunk 0 */
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_ACK);
    assert_int_equal(res.next_seq, 0);
    assert_int_equal(res.outcome, LINKER_DID_BEGIN);
    assert_memory_not_equal(res.id, id, sizeof id);
    linker_answer_clear(&res);
}

/* An agent's abort discards its open submission; it cannot abort a committed
 * one or one that does not exist. */
static void
test_ingest_abort(void **state)
{
    struct s_ing *t = *state;
    Crosslink__SubmitBegin b;
    struct linker_answer res;
    struct linker_submission sub;
    uint8_t id[LINKER_SUBID_BYTES];
    char err[XL_ERRBUF];

    s_begin_msg(t, &b, t->r.hash, 10);
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    memcpy(id, res.id, sizeof id);
    linker_answer_clear(&res);
    assert_int_equal(s_chunk(t, id, 0, 0, 10, &res), 0);
    linker_answer_clear(&res);
    assert_int_equal(linker_abort(&t->ctx, &t->who, id, sizeof id, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_ACK);
    assert_int_equal(res.outcome, LINKER_DID_DISCARD);
    linker_answer_clear(&res);
    assert_int_equal(linker_store_get(t->ctx.store, id, &sub, err, sizeof err), XL_ERR_NOTFOUND);
    assert_int_equal(s_audit_count(t, "aborted by the agent"), 1);
    assert_int_equal(linker_abort(&t->ctx, &t->who, id, sizeof id, &res), XL_ERR_NOTFOUND);
    linker_answer_clear(&res);
}

static void
test_ingest_refusals(void **state)
{
    struct s_ing *t = *state;
    Crosslink__SubmitBegin b;
    struct linker_answer res;
    uint8_t fp[XL_HASH_BYTES], id[LINKER_SUBID_BYTES], chk[XL_CHECK_BYTES];

    s_begin_msg(t, &b, t->r.hash, 10);
#define S_REFUSED(code, text)                                                                      \
    do {                                                                                           \
        assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), code);                          \
        assert_int_equal(res.kind, LINKER_REPLY_ERROR);                                            \
        s_assert_refusal(&res, "begin");                                                           \
        if (strstr(res.msg, text) == NULL)                                                         \
            fail_msg("'%s' does not say '%s'", res.msg, text);                                     \
        linker_answer_clear(&res);                                                                 \
        s_begin_msg(t, &b, t->r.hash, 10);                                                         \
    } while (0)

    memcpy(fp, t->ctx.spec->fingerprint, sizeof fp);
    fp[0] ^= 0xff;
    b.spec_fingerprint.data = fp;
    S_REFUSED(XL_ERR_MISMATCH, "specification fingerprint differs");
    b.epoch = 2;
    S_REFUSED(XL_ERR_MISMATCH, "epoch 2, linker is on epoch 1");
    memcpy(chk, s_check, sizeof chk);
    chk[7] ^= 1;
    b.secret_check.data = chk;
    S_REFUSED(XL_ERR_MISMATCH, "linkage secret differs: the submission's check value is "
                               "0102030405060709, the linker expects 0102030405060708 for epoch 1");
    b.chunk_records = 101;
    S_REFUSED(XL_ERR_TOOBIG, "over the linker's limit of 100");
    b.chunk_records = 0;
    S_REFUSED(XL_ERR_FORMAT, "chunk_records is 0");
    b.record_count = 0;
    S_REFUSED(XL_ERR_FORMAT, "record_count is 0");
    b.content_hash.len = 31;
    S_REFUSED(XL_ERR_FORMAT, "content_hash is 31 bytes");
    b.dataset = "bad name";
    S_REFUSED(XL_ERR_FORMAT, "dataset name");
    b.attributes[0]->type = "float";
    S_REFUSED(XL_ERR_FORMAT, "outcome attribute 1");
    b.attributes[0]->type = "bool";
#undef S_REFUSED
    /* nothing stored; each refusal carried its details for the caller's audit
     * entry (authorisation by role and agency is the request table's:
     * tests/e2e/test_frontdoor.sh) */
    assert_int_equal(s_submissions(t), 0);
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    memcpy(id, res.id, sizeof id);
    assert_int_equal(res.max_message, t->ctx.cfg.max_message);
    linker_answer_clear(&res);
    /* unknown or malformed ids */
    id[0] ^= 1;
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n, t->r.hash, XL_HASH_BYTES, &res),
        XL_ERR_NOTFOUND);
    linker_answer_clear(&res);
    assert_int_equal(linker_commit(&t->ctx, &t->who, id, 3, t->r.n, t->r.hash, XL_HASH_BYTES, &res),
                     XL_ERR_NOTFOUND);
    linker_answer_clear(&res);
}

static void
test_ingest_record_checks(void **state)
{
    struct s_ing *t = *state;
    Crosslink__SubmitBegin b;
    struct linker_answer res;
    struct linker_submission sub;
    uint8_t id[LINKER_SUBID_BYTES], bad[8];
    char err[XL_ERRBUF];
    Crosslink__Record *rec;
    struct linker_records in;

    s_begin_msg(t, &b, t->r.hash, 10);
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    memcpy(id, res.id, sizeof id);
    linker_answer_clear(&res);

    rec = crosslink__record__unpack(NULL, t->r.len[0], t->r.rec[0]);
    assert_non_null(rec);
    in = (struct linker_records){.records = &rec, .n = 1};
    /* a token of the wrong size */
    rec->keys[0]->token.len = 15;
    assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res), XL_ERR_FORMAT);
    assert_non_null(strstr(res.msg, "record 1 of the chunk"));
    linker_answer_clear(&res);
    rec->keys[0]->token.len = 16;
    /* a level the specification does not have */
    rec->keys[0]->level = 77;
    assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res), XL_ERR_FORMAT);
    linker_answer_clear(&res);
    rec->keys[0]->level = 1;
    /* a CLK of the wrong length */
    rec->clk.len--;
    assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res), XL_ERR_FORMAT);
    linker_answer_clear(&res);
    rec->clk.len++;
    /* a blocking key of the wrong length */
    rec->blocks[1].len = 7;
    assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res), XL_ERR_FORMAT);
    linker_answer_clear(&res);
    rec->blocks[1].len = 8;
    crosslink__record__free_unpacked(rec, NULL);

    /* packed form (an import): a record carrying a field the protocol does not
     * define, 100 KB of it, past the payload limit: refused, not stored */
    {
        static uint8_t big[4 + 1024 + 100003];
        size_t n = t->r.len[0], extra = 100000;
        memcpy(big + 4, t->r.rec[0], n);
        big[4 + n] = 0xfa; /* field 95, length-delimited: (95 << 3 | 2) = 762 */
        big[4 + n + 1] = 0x05;
        big[4 + n + 2] = (uint8_t)(0x80 | (extra & 0x7f));
        big[4 + n + 3] = (uint8_t)(0x80 | ((extra >> 7) & 0x7f));
        big[4 + n + 4] = (uint8_t)(extra >> 14);
        n += 5 + extra;
        big[0] = (uint8_t)(n >> 24);
        big[1] = (uint8_t)(n >> 16);
        big[2] = (uint8_t)(n >> 8);
        big[3] = (uint8_t)n;
        assert_true(4 + n <= sizeof big);
        in = (struct linker_records){.data = big, .len = 4 + n, .n = 1};
        assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res),
                         XL_ERR_FORMAT);
        if (strstr(res.msg, "field 95 of Record is not defined by the protocol") == NULL)
            fail_msg("%s", res.msg);
        linker_answer_clear(&res);
    }

    /* packed form (an import): bytes that are not a record */
    memset(bad, 0xff, sizeof bad);
    bad[0] = 0;
    bad[1] = 0;
    bad[2] = 0;
    bad[3] = 4;
    in = (struct linker_records){.data = bad, .len = sizeof bad, .n = 1};
    assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res), XL_ERR_FORMAT);
    linker_answer_clear(&res);
    /* length prefixes that do not add up */
    in = (struct linker_records){.data = bad, .len = sizeof bad - 1, .n = 1};
    assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res), XL_ERR_FORMAT);
    linker_answer_clear(&res);

    assert_int_equal(linker_store_get(t->ctx.store, id, &sub, err, sizeof err), 0);
    assert_int_equal(sub.next_seq, 0);
    assert_int_equal(sub.records_stored, 0);
}

/* A batch whose payload key travels once: begun with the key, its compact
 * payloads stored and committed, the key kept with the submission and first
 * in its content hash. A compact payload in a submission without a key (no
 * analyst could open it), or a key of another size, is refused. */
static void
test_ingest_payload_key(void **state)
{
    struct s_ing *t = *state;
    Crosslink__SubmitBegin b;
    struct linker_answer res;
    struct linker_submission sub;
    struct s_recs keyed;
    Crosslink__Record *rec;
    struct linker_records in;
    uint8_t id[LINKER_SUBID_BYTES], bare[LINKER_SUBID_BYTES], key[XL_PAYLOAD_KEY];
    uint8_t hash[XL_HASH_BYTES];
    uint64_t chunks, records;
    char err[XL_ERRBUF];

    xl_random(key, sizeof key);
    s_recs_make_keyed(&keyed, t->r.n, 98, t->ctx.clk_bytes, key);

    /* no key: a compact payload is refused, naming the record */
    s_begin_msg(t, &b, t->r.hash, 10);
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    memcpy(id, res.id, sizeof id);
    memcpy(bare, id, sizeof bare);
    linker_answer_clear(&res);
    rec = crosslink__record__unpack(NULL, keyed.len[0], keyed.rec[0]);
    assert_non_null(rec);
    in = (struct linker_records){.records = &rec, .n = 1};
    assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res), XL_ERR_FORMAT);
    if (strstr(res.msg, "record 1 of the chunk: a compact payload, but the submission sent no "
                        "payload key") == NULL)
        fail_msg("%s", res.msg);
    linker_answer_clear(&res);
    crosslink__record__free_unpacked(rec, NULL);
    /* the same records in the stored form (an import) */
    {
        uint8_t *blob = malloc(4 + keyed.len[0]);
        assert_non_null(blob);
        blob[0] = 0;
        blob[1] = 0;
        blob[2] = (uint8_t)(keyed.len[0] >> 8);
        blob[3] = (uint8_t)keyed.len[0];
        memcpy(blob + 4, keyed.rec[0], keyed.len[0]);
        in = (struct linker_records){.data = blob, .len = 4 + keyed.len[0], .n = 1};
        assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res),
                         XL_ERR_FORMAT);
        assert_non_null(strstr(res.msg, "sent no payload key"));
        linker_answer_clear(&res);
        free(blob);
    }

    /* a key of another size */
    s_begin_msg(t, &b, keyed.hash, 10);
    b.payload_key = (ProtobufCBinaryData){XL_PAYLOAD_KEY - 1, key};
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), XL_ERR_FORMAT);
    assert_non_null(strstr(res.msg, "payload_key is 95 bytes, not 96"));
    linker_answer_clear(&res);

    /* with the key: stored, committed, kept */
    b.payload_key = (ProtobufCBinaryData){XL_PAYLOAD_KEY, key};
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_ACK);
    memcpy(id, res.id, sizeof id);
    linker_answer_clear(&res);
    assert_int_equal(s_chunk_of(t, &keyed, id, 0, 0, 10, &res), 0);
    linker_answer_clear(&res);
    assert_int_equal(s_chunk_of(t, &keyed, id, 1, 10, 10, &res), 0);
    linker_answer_clear(&res);
    assert_int_equal(s_chunk_of(t, &keyed, id, 2, 20, 5, &res), 0);
    linker_answer_clear(&res);
    assert_int_equal(linker_store_get(t->ctx.store, id, &sub, err, sizeof err), 0);
    assert_true(sub.has_payload_key);
    assert_memory_equal(sub.payload_key, key, sizeof key);
    assert_int_equal(
        linker_store_content_hash(t->ctx.store, &sub, hash, &chunks, &records, err, sizeof err), 0);
    assert_memory_equal(hash, keyed.hash, XL_HASH_BYTES);
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, keyed.n, keyed.hash, XL_HASH_BYTES, &res),
        0);
    assert_int_equal(res.kind, LINKER_REPLY_RECEIPT);
    linker_answer_clear(&res);
    /* the submission begun without a key reads back without one */
    assert_int_equal(linker_store_get(t->ctx.store, bare, &sub, err, sizeof err), 0);
    assert_false(sub.has_payload_key);
    s_recs_free(&keyed);
}

static void
test_ingest_import_path(void **state)
{
    struct s_ing *t = *state;
    Crosslink__SubmitBegin b;
    struct linker_answer res, net;
    uint8_t id[LINKER_SUBID_BYTES], *blob;
    size_t len;

    /* Records in the stored form (as read from an .xle) give the same content
     * hash, so a file and a network submission of the same records agree. */
    t->who.source = "import";
    t->who.audit_actor = "linker";
    t->who.audit_role = "operator";
    s_begin_msg(t, &b, t->r.hash, 25);
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    memcpy(id, res.id, sizeof id);
    linker_answer_clear(&res);
    blob = s_blob(&t->r, 0, 25, &len);
    {
        struct linker_records in = {.data = blob, .len = len, .n = 25};
        assert_int_equal(linker_chunk(&t->ctx, &t->who, id, sizeof id, 0, &in, &res), 0);
        linker_answer_clear(&res);
    }
    free(blob);
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n, t->r.hash, XL_HASH_BYTES, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_RECEIPT);
    assert_int_equal(s_audit_count(t, "\"role\":\"operator\",\"event\":\"submission.commit\""), 1);
    /* the same content over the network is answered with the import's receipt */
    t->who.source = "network";
    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &net), 0);
    assert_int_equal(net.kind, LINKER_REPLY_RECEIPT);
    assert_memory_equal(net.receipt, res.receipt, res.receiptlen);
    linker_answer_clear(&net);
    linker_answer_clear(&res);
}

/* Checks res is the answer to a write the disk refused: UNAVAILABLE on the
 * wire (agents retry), saying why, with no path in it. */
static void
s_is_unavailable(struct s_ing *t, struct linker_answer *res, const char *why)
{
    assert_int_equal(res->kind, LINKER_REPLY_ERROR);
    assert_int_equal(linker_error_code(res->code), CROSSLINK__ERROR__CODE__UNAVAILABLE);
    assert_non_null(strstr(res->msg, why));
    assert_null(strstr(res->msg, t->dir));
    linker_answer_clear(res);
}

/* A full disk or an I/O error under a begin, a chunk or a commit: the request
 * is refused with UNAVAILABLE, its transaction leaves nothing behind, what
 * was acknowledged stays, and the same request goes through once writes do. */
static void
test_ingest_disk_full(void **state)
{
    struct s_ing *t = *state;
    Crosslink__SubmitBegin b;
    struct linker_answer res;
    struct linker_submission sub;
    uint8_t id[LINKER_SUBID_BYTES];
    char err[XL_ERRBUF];
    int r;

    s_begin_msg(t, &b, t->r.hash, 10);
    s_fault = SQLITE_FULL;
    r = linker_begin(&t->ctx, &t->who, &b, &res);
    s_fault = 0;
    assert_int_equal(r, XL_ERR_NOSPACE);
    s_is_unavailable(t, &res, "out of disk space");
    assert_int_equal(s_submissions(t), 0);

    assert_int_equal(linker_begin(&t->ctx, &t->who, &b, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_ACK);
    memcpy(id, res.id, sizeof id);
    linker_answer_clear(&res);
    assert_int_equal(s_chunk(t, id, 0, 0, 10, &res), 0);
    linker_answer_clear(&res);

    /* The disk fills up under chunk 1, then the device fails a write. */
    s_fault = SQLITE_FULL;
    r = s_chunk(t, id, 1, 10, 10, &res);
    s_fault = 0;
    assert_int_equal(r, XL_ERR_NOSPACE);
    s_is_unavailable(t, &res, "out of disk space");
    s_fault = SQLITE_IOERR_WRITE;
    r = s_chunk(t, id, 1, 10, 10, &res);
    s_fault = 0;
    assert_int_equal(r, XL_ERR_IO);
    s_is_unavailable(t, &res, "cannot write to its storage");
    assert_int_equal(linker_store_get(t->ctx.store, id, &sub, err, sizeof err), 0);
    assert_int_equal(sub.next_seq, 1);
    assert_int_equal(sub.records_stored, 10);

    /* Space again: the agent's resend of chunk 1 is stored, and the rest. */
    assert_int_equal(s_chunk(t, id, 1, 10, 10, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_ACK);
    assert_int_equal(res.next_seq, 2);
    linker_answer_clear(&res);
    assert_int_equal(s_chunk(t, id, 2, 20, 5, &res), 0);
    linker_answer_clear(&res);

    /* Full under the commit: still open, every record still there. */
    s_fault = SQLITE_FULL;
    r = linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n, t->r.hash, XL_HASH_BYTES, &res);
    s_fault = 0;
    assert_int_equal(r, XL_ERR_NOSPACE);
    s_is_unavailable(t, &res, "out of disk space");
    assert_int_equal(linker_store_get(t->ctx.store, id, &sub, err, sizeof err), 0);
    assert_int_equal(sub.state, LINKER_OPEN);
    assert_int_equal(sub.records_stored, t->r.n);
    assert_false(sub.has_receipt);
    assert_int_equal(
        linker_commit(&t->ctx, &t->who, id, sizeof id, t->r.n, t->r.hash, XL_HASH_BYTES, &res), 0);
    assert_int_equal(res.kind, LINKER_REPLY_RECEIPT);
    linker_answer_clear(&res);
    assert_int_equal(linker_store_get(t->ctx.store, id, &sub, err, sizeof err), 0);
    assert_int_equal(sub.state, LINKER_COMMITTED);
}

static void
test_error_codes(void **state)
{
    static const struct {
        int err;
        Crosslink__Error__Code code;
    } map[] = {
        {XL_ERR_NOSPACE, CROSSLINK__ERROR__CODE__UNAVAILABLE},
        {XL_ERR_UNAVAILABLE, CROSSLINK__ERROR__CODE__UNAVAILABLE},
        {XL_ERR_FORMAT, CROSSLINK__ERROR__CODE__MALFORMED},
        {XL_ERR_INVALID, CROSSLINK__ERROR__CODE__MALFORMED},
        {XL_ERR_VERSION, CROSSLINK__ERROR__CODE__VERSION},
        {XL_ERR_TOOBIG, CROSSLINK__ERROR__CODE__TOO_BIG},
        {XL_ERR_DENIED, CROSSLINK__ERROR__CODE__DENIED},
        {XL_ERR_PERM, CROSSLINK__ERROR__CODE__DENIED},
        {XL_ERR_MISMATCH, CROSSLINK__ERROR__CODE__MISMATCH},
        {XL_ERR_SEQUENCE, CROSSLINK__ERROR__CODE__SEQUENCE},
        {XL_ERR_NOTFOUND, CROSSLINK__ERROR__CODE__NOT_FOUND},
        {XL_ERR_IO, CROSSLINK__ERROR__CODE__INTERNAL},
        {XL_ERR_NOMEM, CROSSLINK__ERROR__CODE__INTERNAL},
        {XL_ERR_INTERNAL, CROSSLINK__ERROR__CODE__INTERNAL},
    };

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        assert_int_equal(linker_error_code(map[i].err), map[i].code);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
#define S_ING(f)  cmocka_unit_test_setup_teardown(f, s_ing_setup, s_ing_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_create_find_get),     S_TEST(test_chunks_resume_after_reopen),
        S_TEST(test_chunk_limits),        S_TEST(test_commit_and_supersede),
        S_TEST(test_commit_rolls_back),   S_TEST(test_foreach_columns),
        S_TEST(test_columns_made_again),  S_TEST(test_retention),
        S_ING(test_ingest_submission),    S_ING(test_ingest_stored_content_must_match),
        S_ING(test_ingest_abort),         S_ING(test_ingest_refusals),
        S_ING(test_ingest_record_checks), S_ING(test_ingest_import_path),
        S_ING(test_ingest_disk_full),     S_ING(test_ingest_payload_key),
        S_TEST(test_schema_3_upgraded),   cmocka_unit_test(test_error_codes),
    };

    return cmocka_run_group_tests_name("linker_store", tests, s_group_setup, NULL);
}
