/* Unit tests for the agent's submission side that need no linker: chunks built
 * from an .xle file (byte for byte what protobuf-c would pack, resumable from
 * any chunk, refusing an altered file), the state folder and outbox names, and
 * receipts (checked against what was sent, stored once, listed with their
 * signatures verified). */
#include <fcntl.h>
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

#include "../../agent/submit.h"
#include "testutil.h"
#include "xl/crypto.h"
#include "xl/auditlog.h"
#include "xl/err.h"
#include "xl/merkle.h"
#include "xl/note.h"
#include "xl/receipt.h"
#include "xl/wire.h"
#include "xl/xle.h"

#define S_NREC 25
#define S_BIG  3 /* this record is large, so a chunk outgrows its first buffer */

struct s_fix {
    char *dir;
    char *xle;
    uint8_t *rec[S_NREC]; /* packed records as written */
    size_t len[S_NREC];
    uint8_t hash[XL_HASH_BYTES];
    uint8_t spec[XL_HASH_BYTES];
};

static void
s_fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static void
s_header(Crosslink__XleHeader *h, uint8_t *spec)
{
    crosslink__xle_header__init(h);
    h->spec_fingerprint.data = spec;
    h->spec_fingerprint.len = XL_HASH_BYTES;
    h->epoch = 3;
    h->agency = "wmp";
    h->dataset = "youth-justice";
}

/* An .xle of S_NREC records of different sizes. */
static int
s_setup(void **state)
{
    struct s_fix *f = calloc(1, sizeof *f);
    Crosslink__XleHeader h;
    struct xl_xle_writer *w;
    char err[XL_ERRBUF];

    assert_non_null(f);
    assert_int_equal(xl_crypto_init(), 0);
    f->dir = tu_tmpdir();
    f->xle = tu_path(f->dir, "in.xle");
    assert_non_null(f->xle);
    s_fill(f->spec, sizeof f->spec, 99);
    s_header(&h, f->spec);
    w = xl_xle_writer_open(f->xle, &h, err, sizeof err);
    assert_non_null(w);
    for (unsigned i = 0; i < S_NREC; i++) {
        Crosslink__Record r = CROSSLINK__RECORD__INIT;
        Crosslink__MatchKey k = CROSSLINK__MATCH_KEY__INIT, *kp = &k;
        uint8_t ref[16], tok[XL_TOKEN_BYTES], clk[128];
        size_t plen = i == S_BIG ? 20000 : 40 + 13 * i;
        uint8_t *payload = malloc(plen);

        assert_non_null(payload);
        s_fill(ref, sizeof ref, i);
        s_fill(tok, sizeof tok, i + 1000);
        s_fill(clk, sizeof clk, i + 2000);
        s_fill(payload, plen, i + 3000);
        k.level = 1 + i % 5;
        k.token.data = tok;
        k.token.len = sizeof tok;
        r.local_ref.data = ref;
        r.local_ref.len = sizeof ref;
        r.n_keys = 1;
        r.keys = &kp;
        r.clk.data = clk;
        r.clk.len = sizeof clk;
        r.payload.data = payload;
        r.payload.len = plen;
        f->len[i] = crosslink__record__get_packed_size(&r);
        f->rec[i] = malloc(f->len[i]);
        assert_non_null(f->rec[i]);
        crosslink__record__pack(&r, f->rec[i]);
        free(payload);
        assert_int_equal(xl_xle_write_record(w, f->rec[i], f->len[i], err, sizeof err), 0);
    }
    assert_int_equal(xl_xle_writer_finish(&w, f->hash, err, sizeof err), 0);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    struct s_fix *f = *state;

    tu_rmtree(f->dir);
    free(f->dir);
    free(f->xle);
    for (int i = 0; i < S_NREC; i++)
        free(f->rec[i]);
    free(f);
    return 0;
}

static const uint8_t s_sid[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* Decodes a chunk and checks it holds records [first, first + n) of the file,
 * with the given seq and request id, and that protobuf-c packs the decoded
 * envelope to exactly the same bytes. */
static void
s_check_chunk(const struct s_fix *f, const struct agent_chunk *c, uint64_t seq, uint64_t reqid,
              size_t first, size_t n)
{
    char err[XL_ERRBUF];
    xl_envelope *env = NULL;
    uint8_t *again;
    size_t len;

    assert_true(c->data >= c->base);
    assert_int_equal(c->seq, seq);
    assert_int_equal(c->records, n);
    assert_int_equal(
        xl_wire_decode(c->data, c->len, XL_WIRE_MAX_DEFAULT, NULL, &env, err, sizeof err), 0);
    assert_int_equal(env->request_id, reqid);
    assert_int_equal(env->body_case, CROSSLINK__ENVELOPE__BODY_SUBMIT_CHUNK);
    assert_int_equal(env->submit_chunk->seq, seq);
    assert_int_equal(env->submit_chunk->submission_id.len, sizeof s_sid);
    assert_memory_equal(env->submit_chunk->submission_id.data, s_sid, sizeof s_sid);
    assert_int_equal(env->submit_chunk->n_records, n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p;
        len = crosslink__record__get_packed_size(env->submit_chunk->records[i]);
        assert_int_equal(len, f->len[first + i]);
        p = malloc(len);
        assert_non_null(p);
        crosslink__record__pack(env->submit_chunk->records[i], p);
        assert_memory_equal(p, f->rec[first + i], len);
        free(p);
    }
    len = crosslink__envelope__get_packed_size(env);
    assert_int_equal(len, c->len);
    again = malloc(len);
    assert_non_null(again);
    crosslink__envelope__pack(env, again);
    assert_memory_equal(again, c->data, len);
    free(again);
    xl_wire_free(&env, NULL);
}

static void
test_chunks_in_order(void **state)
{
    struct s_fix *f = *state;
    char err[XL_ERRBUF];
    struct agent_chunk c;
    struct agent_chunker *ch = agent_chunker_open(f->xle, 10, 0, err, sizeof err);

    assert_non_null(ch);
    /* seq 0 and request id 0 are left out of the packing, as protobuf-c does */
    assert_int_equal(agent_chunker_next(ch, s_sid, sizeof s_sid, 0, &c, err, sizeof err), 1);
    s_check_chunk(f, &c, 0, 0, 0, 10);
    free(c.base);
    assert_int_equal(agent_chunker_next(ch, s_sid, sizeof s_sid, 300, &c, err, sizeof err), 1);
    s_check_chunk(f, &c, 1, 300, 10, 10);
    free(c.base);
    assert_int_equal(agent_chunker_next(ch, s_sid, sizeof s_sid, 1ull << 40, &c, err, sizeof err),
                     1);
    s_check_chunk(f, &c, 2, 1ull << 40, 20, 5);
    free(c.base);
    assert_int_equal(agent_chunker_next(ch, s_sid, sizeof s_sid, 9, &c, err, sizeof err), 0);
    assert_null(c.base);
    agent_chunker_close(&ch);
    assert_null(ch);
    agent_chunker_close(&ch);
}

static void
test_chunks_resume(void **state)
{
    struct s_fix *f = *state;
    char err[XL_ERRBUF];
    struct agent_chunk c;
    struct agent_chunker *ch;

    /* from the linker's next_seq: the records before it are skipped */
    ch = agent_chunker_open(f->xle, 4, 5, err, sizeof err);
    assert_non_null(ch);
    assert_int_equal(agent_chunker_next(ch, s_sid, sizeof s_sid, 7, &c, err, sizeof err), 1);
    s_check_chunk(f, &c, 5, 7, 20, 4);
    free(c.base);
    assert_int_equal(agent_chunker_next(ch, s_sid, sizeof s_sid, 8, &c, err, sizeof err), 1);
    s_check_chunk(f, &c, 6, 8, 24, 1);
    free(c.base);
    assert_int_equal(agent_chunker_next(ch, s_sid, sizeof s_sid, 9, &c, err, sizeof err), 0);
    agent_chunker_close(&ch);

    /* one chunk per record, and the chunk just past the end (all stored) */
    ch = agent_chunker_open(f->xle, 1, S_BIG, err, sizeof err);
    assert_non_null(ch);
    assert_int_equal(agent_chunker_next(ch, s_sid, sizeof s_sid, 1, &c, err, sizeof err), 1);
    s_check_chunk(f, &c, S_BIG, 1, S_BIG, 1);
    free(c.base);
    agent_chunker_close(&ch);
    ch = agent_chunker_open(f->xle, 10, 3, err, sizeof err);
    assert_non_null(ch);
    assert_int_equal(agent_chunker_next(ch, s_sid, sizeof s_sid, 1, &c, err, sizeof err), 0);
    agent_chunker_close(&ch);

    /* a chunk that does not exist, and no chunk size */
    assert_null(agent_chunker_open(f->xle, 10, 4, err, sizeof err));
    assert_non_null(strstr(err, "chunk 4 does not exist"));
    assert_null(agent_chunker_open(f->xle, 10, UINT64_MAX / 2, err, sizeof err));
    assert_null(agent_chunker_open(f->xle, 0, 0, err, sizeof err));
}

/* A byte changed inside a record's payload still parses; the trailer's hash
 * stops the last chunk from going. */
static void
test_chunks_altered_file(void **state)
{
    struct s_fix *f = *state;
    char err[XL_ERRBUF], *copy = tu_path(f->dir, "altered.xle");
    struct agent_xle_info info;
    struct agent_chunk c;
    struct agent_chunker *ch;
    FILE *in = fopen(f->xle, "rb"), *out;
    uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof buf, in), at;
    uint8_t *hit;
    int r;

    fclose(in);
    assert_true(n > 20000 && n < sizeof buf);
    /* the last bytes of the large record's payload */
    hit = memmem(buf, n, f->rec[S_BIG], f->len[S_BIG]);
    assert_non_null(hit);
    at = (size_t)(hit - buf) + f->len[S_BIG] - 10;
    buf[at] ^= 0x55;
    out = fopen(copy, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(out);

    ch = agent_chunker_open(copy, 10, 0, err, sizeof err);
    assert_non_null(ch);
    while ((r = agent_chunker_next(ch, s_sid, sizeof s_sid, 1, &c, err, sizeof err)) == 1)
        free(c.base);
    assert_int_equal(r, XL_ERR_MISMATCH);
    assert_non_null(strstr(err, "content hash"));
    agent_chunker_close(&ch);
    /* The scan reads header and trailer only (both intact here): the records are
     * checked as the chunks are read, above, so the last chunk never goes and
     * nothing is committed. */
    assert_int_equal(agent_xle_scan(copy, &info, err, sizeof err), 0);
    agent_xle_info_free(&info);
    free(copy);
}

static void
test_xle_scan(void **state)
{
    struct s_fix *f = *state;
    char err[XL_ERRBUF], *junk = tu_path(f->dir, "junk.xle");
    struct agent_xle_info info;

    assert_int_equal(agent_xle_scan(f->xle, &info, err, sizeof err), 0);
    assert_int_equal(info.count, S_NREC);
    assert_memory_equal(info.hash, f->hash, XL_HASH_BYTES);
    /* the header is a copy that outlives the reader */
    assert_string_equal(info.hdr->agency, "wmp");
    assert_string_equal(info.hdr->dataset, "youth-justice");
    assert_int_equal(info.hdr->epoch, 3);
    assert_int_equal(info.hdr->record_count, S_NREC);
    assert_memory_equal(info.hdr->spec_fingerprint.data, f->spec, XL_HASH_BYTES);
    agent_xle_info_free(&info);
    assert_null(info.hdr);

    assert_int_equal(tu_write_file(junk, "Person ID,Forename\n"), 0);
    assert_true(agent_xle_scan(junk, &info, err, sizeof err) < 0);
    assert_non_null(strstr(err, "not a crosslink encoded file"));
    free(junk);
}

static void
test_state_dirs(void **state)
{
    struct s_fix *f = *state;
    struct agent_config cfg;
    char err[XL_ERRBUF], out[AGENT_PATH_MAX + 16], *sd = tu_path(f->dir, "state"), *ob;

    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.path, sizeof cfg.path, "agent.conf");
    assert_int_equal(agent_state_dir(&cfg, "outbox", out, sizeof out, err, sizeof err),
                     XL_ERR_FORMAT);
    assert_non_null(strstr(err, "state_dir"));

    snprintf(cfg.state_dir, sizeof cfg.state_dir, "%s", sd);
    assert_int_equal(agent_state_dir(&cfg, "outbox", out, sizeof out, err, sizeof err), 0);
    ob = tu_path(sd, "outbox");
    assert_string_equal(out, ob);
    assert_int_equal(tu_file_mode(sd), 0700);
    assert_int_equal(tu_file_mode(ob), 0700);
    /* again: the folders exist and are fine */
    assert_int_equal(agent_state_dir(&cfg, "outbox", out, sizeof out, err, sizeof err), 0);
    assert_int_equal(agent_state_dir(&cfg, NULL, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, sd);

    /* a folder others can open is refused, with the fix */
    assert_int_equal(chmod(ob, 0755), 0);
    assert_int_equal(agent_state_dir(&cfg, "outbox", out, sizeof out, err, sizeof err),
                     XL_ERR_PERM);
    assert_non_null(strstr(err, "chmod 700"));
    assert_int_equal(chmod(ob, 0700), 0);
    assert_int_equal(chmod(sd, 0750), 0);
    assert_int_equal(agent_state_dir(&cfg, "receipts", out, sizeof out, err, sizeof err),
                     XL_ERR_PERM);
    free(sd);
    free(ob);
}

static void
test_outbox_names(void **state)
{
    struct s_fix *f = *state;
    char err[XL_ERRBUF], a[AGENT_PATH_MAX], b[AGENT_PATH_MAX], dotted[AGENT_PATH_MAX];
    char *csv = tu_path(f->dir, "extract.csv"), *other = tu_path(f->dir, "other.csv");
    struct timespec times[2] = {{0, UTIME_OMIT}, {1700000000, 0}};
    const char *name;

    assert_int_equal(tu_write_file(csv, "Person ID\nP1\n"), 0);
    assert_int_equal(tu_write_file(other, "Person ID\nP1\n"), 0);
    assert_int_equal(utimensat(AT_FDCWD, csv, times, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, other, times, 0), 0);

    assert_int_equal(agent_outbox_path("/s/outbox", "police", csv, a, sizeof a, err, sizeof err),
                     0);
    /* /s/outbox/police-<12 hex>.xle */
    assert_int_equal(strncmp(a, "/s/outbox/police-", 17), 0);
    name = a + 17;
    assert_int_equal(strlen(name), 12 + 4);
    assert_int_equal(strspn(name, "0123456789abcdef"), 12);
    assert_string_equal(name + 12, ".xle");

    /* the same file by another spelling of its path: the same name */
    snprintf(dotted, sizeof dotted, "%s/./extract.csv", f->dir);
    assert_int_equal(agent_outbox_path("/s/outbox", "police", dotted, b, sizeof b, err, sizeof err),
                     0);
    assert_string_equal(a, b);

    /* same content and time but another file: another name */
    assert_int_equal(agent_outbox_path("/s/outbox", "police", other, b, sizeof b, err, sizeof err),
                     0);
    assert_string_not_equal(a, b);

    /* a new export of the same file (time, then size): another name */
    times[1].tv_sec++;
    assert_int_equal(utimensat(AT_FDCWD, csv, times, 0), 0);
    assert_int_equal(agent_outbox_path("/s/outbox", "police", csv, b, sizeof b, err, sizeof err),
                     0);
    assert_string_not_equal(a, b);
    times[1].tv_sec--;
    assert_int_equal(tu_write_file(csv, "Person ID\nP2\n"), 0);
    assert_int_equal(utimensat(AT_FDCWD, csv, times, 0), 0);
    assert_int_equal(agent_outbox_path("/s/outbox", "police", csv, b, sizeof b, err, sizeof err),
                     0);
    assert_string_equal(a, b); /* same size and time: indistinguishable, by design */
    assert_int_equal(tu_write_file(csv, "Person ID\nP22\n"), 0);
    assert_int_equal(utimensat(AT_FDCWD, csv, times, 0), 0);
    assert_int_equal(agent_outbox_path("/s/outbox", "police", csv, b, sizeof b, err, sizeof err),
                     0);
    assert_string_not_equal(a, b);

    assert_int_equal(agent_outbox_path("/s/outbox", "../police", csv, b, sizeof b, err, sizeof err),
                     XL_ERR_INVALID);
    assert_int_equal(
        agent_outbox_path("/s/outbox", "police", "/no/such.csv", b, sizeof b, err, sizeof err),
        XL_ERR_NOTFOUND);
    assert_non_null(strstr(err, "/no/such.csv"));
    free(csv);
    free(other);
}

/* A receipt for the fixture's file, signed with sk. */
struct s_receipt {
    Crosslink__Receipt r;
    uint8_t id[16], hash[XL_HASH_BYTES], spec[XL_HASH_BYTES];
    uint8_t sig[XL_SIG_BYTES], pkbuf[XL_SIGN_PK_BYTES];
    /* the audit evidence: the commit entry as leaf `audit` of a log of that
     * many entries, its path and a checkpoint of that log */
    char entry[1024], note[1024];
    uint8_t root[XL_HASH_BYTES];
    struct xl_merkle_proof path;
    ProtobufCBinaryData hashes[XL_MERKLE_PROOF_MAX];
};

/* Fills sr's audit fields as the linker does: entry `audit` of a log whose
 * other leaves are made up, its inclusion path, a checkpoint signed by sk. */
static void
s_receipt_audit(struct s_receipt *sr, const uint8_t *sk, const uint8_t *pk, uint64_t audit)
{
    uint8_t leaves[16][XL_HASH_BYTES], prev[XL_HASH_BYTES] = {1}, h[XL_HASH_BYTES];
    struct xl_merkle_leaves ml = {.hash = (const uint8_t(*)[XL_HASH_BYTES])leaves, .n = audit};
    struct xl_checkpoint cp = {.size = audit};
    char canon[512], id[33], prevhex[65], text[256], *line = NULL, *note = NULL;
    size_t linelen, notelen;
    int n;

    assert_true(audit >= 1 && audit <= 16);
    xl_hex(sr->id, sizeof sr->id, id);
    xl_hex(prev, XL_HASH_BYTES, prevhex);
    snprintf(canon, sizeof canon,
             "{\"seq\":%llu,\"time\":\"2026-11-22T07:12:17Z\",\"actor\":\"0123456789abcdef\","
             "\"role\":\"agent\",\"event\":\"submission.commit\",\"details\":{\"submission\":"
             "\"%s\",\"agency\":\"%s\",\"dataset\":\"%s\"},\"prev\":\"%s\"}",
             (unsigned long long)audit, id, sr->r.agency, sr->r.dataset, prevhex);
    assert_int_equal(xl_audit_line(prev, canon, strlen(canon), &line, &linelen, h), 0);
    assert_true(linelen < sizeof sr->entry);
    memcpy(sr->entry, line, linelen - 1);
    free(line);
    for (uint64_t i = 0; i + 1 < audit; i++)
        memset(leaves[i], (int)i + 7, XL_HASH_BYTES);
    xl_merkle_leaf_hash(sr->entry, linelen - 1, leaves[audit - 1]);
    assert_int_equal(xl_merkle_root(audit, xl_merkle_leaves_get, &ml, sr->root, NULL, 0), 0);
    assert_int_equal(
        xl_merkle_inclusion_proof(audit - 1, audit, xl_merkle_leaves_get, &ml, &sr->path, NULL, 0),
        0);
    xl_audit_origin(pk, cp.origin);
    memcpy(cp.root, sr->root, XL_HASH_BYTES);
    n = xl_checkpoint_format(&cp, NULL, text, sizeof text);
    assert_true(n > 0);
    assert_int_equal(xl_note_sign(text, (size_t)n, cp.origin, sk, &note, &notelen, NULL, 0), 0);
    assert_true(notelen <= sizeof sr->note);
    memcpy(sr->note, note, notelen);
    free(note);
    sr->r.audit_entry.data = (uint8_t *)sr->entry;
    sr->r.audit_entry.len = linelen - 1;
    sr->r.audit_checkpoint.data = (uint8_t *)sr->note;
    sr->r.audit_checkpoint.len = notelen;
    sr->r.audit_root.data = sr->root;
    sr->r.audit_root.len = XL_HASH_BYTES;
    for (size_t i = 0; i < sr->path.n; i++) {
        sr->hashes[i].data = sr->path.hash[i];
        sr->hashes[i].len = XL_HASH_BYTES;
    }
    sr->r.audit_proof = sr->hashes;
    sr->r.n_audit_proof = sr->path.n;
}

static void
s_receipt(struct s_receipt *sr, const struct s_fix *f, const uint8_t *sk, const uint8_t *pk,
          uint64_t audit)
{
    crosslink__receipt__init(&sr->r);
    memcpy(sr->id, s_sid, sizeof sr->id);
    memcpy(sr->hash, f->hash, XL_HASH_BYTES);
    memcpy(sr->spec, f->spec, XL_HASH_BYTES);
    sr->r.submission_id.data = sr->id;
    sr->r.submission_id.len = sizeof sr->id;
    sr->r.agency = "wmp";
    sr->r.dataset = "youth-justice";
    sr->r.record_count = S_NREC;
    sr->r.content_hash.data = sr->hash;
    sr->r.content_hash.len = XL_HASH_BYTES;
    sr->r.time = 1795331537; /* 2026-11-22 07:12:17 UTC */
    sr->r.audit_seq = audit;
    sr->r.epoch = 3;
    sr->r.spec_fingerprint.data = sr->spec;
    sr->r.spec_fingerprint.len = XL_HASH_BYTES;
    s_receipt_audit(sr, sk, pk, audit);
    assert_int_equal(xl_receipt_sign(&sr->r, sk, pk, sr->sig, sr->pkbuf), 0);
}

static void
test_receipt_check(void **state)
{
    struct s_fix *f = *state;
    uint8_t pk[XL_SIGN_PK_BYTES], sk[XL_SIGN_SK_BYTES], pk2[XL_SIGN_PK_BYTES],
        sk2[XL_SIGN_SK_BYTES], other_id[16] = {0};
    struct agent_xle_info info;
    struct s_receipt sr;
    char err[XL_ERRBUF];

    assert_int_equal(xl_sign_keypair(pk, sk), 0);
    assert_int_equal(xl_sign_keypair(pk2, sk2), 0);
    assert_int_equal(agent_xle_scan(f->xle, &info, err, sizeof err), 0);
    s_receipt(&sr, f, sk, pk, 7);
    assert_int_equal(agent_receipt_check(&sr.r, pk, &info, s_sid, sizeof s_sid, err, sizeof err),
                     0);
    assert_int_equal(agent_receipt_check(&sr.r, pk, &info, NULL, 0, err, sizeof err), 0);
    /* the audit evidence must prove the entry: a path hash changed, the entry
     * changed, a checkpoint by another key */
    sr.path.hash[0][0] ^= 1;
    assert_int_equal(agent_receipt_check(&sr.r, pk, &info, NULL, 0, err, sizeof err),
                     XL_ERR_CRYPTO);
    assert_non_null(strstr(err, "inclusion proof does not verify"));
    sr.path.hash[0][0] ^= 1;
    sr.entry[10] ^= 1;
    assert_int_not_equal(agent_receipt_check(&sr.r, pk, &info, NULL, 0, err, sizeof err), 0);
    assert_non_null(strstr(err, "audit entry"));
    s_receipt(&sr, f, sk, pk, 7);
    s_receipt_audit(&sr, sk2, pk2, 7);
    assert_int_equal(agent_receipt_check(&sr.r, pk, &info, NULL, 0, err, sizeof err),
                     XL_ERR_CRYPTO);
    assert_non_null(strstr(err, "not signed by the linker's key"));
    s_receipt(&sr, f, sk, pk, 7);
    /* another signer: the message points at sign_public */
    assert_int_equal(agent_receipt_check(&sr.r, pk2, &info, NULL, 0, err, sizeof err),
                     XL_ERR_CRYPTO);
    assert_non_null(strstr(err, "is sign_public in agent.conf the linker's linker-sign.pub?"));
    /* validly signed, but not for what was sent */
    assert_int_equal(
        agent_receipt_check(&sr.r, pk, &info, other_id, sizeof other_id, err, sizeof err),
        XL_ERR_MISMATCH);
    assert_non_null(strstr(err, "submission id"));
    sr.r.record_count = S_NREC - 1;
    assert_int_equal(xl_receipt_sign(&sr.r, sk, pk, sr.sig, sr.pkbuf), 0);
    assert_int_equal(agent_receipt_check(&sr.r, pk, &info, NULL, 0, err, sizeof err),
                     XL_ERR_MISMATCH);
    assert_non_null(strstr(err, "record count"));
    s_receipt(&sr, f, sk, pk, 7);
    sr.hash[0] ^= 1;
    assert_int_equal(xl_receipt_sign(&sr.r, sk, pk, sr.sig, sr.pkbuf), 0);
    assert_int_equal(agent_receipt_check(&sr.r, pk, &info, NULL, 0, err, sizeof err),
                     XL_ERR_MISMATCH);
    assert_non_null(strstr(err, "content hash"));
    s_receipt(&sr, f, sk, pk, 7);
    sr.r.dataset = "health";
    assert_int_equal(xl_receipt_sign(&sr.r, sk, pk, sr.sig, sr.pkbuf), 0);
    assert_int_equal(agent_receipt_check(&sr.r, pk, &info, NULL, 0, err, sizeof err),
                     XL_ERR_MISMATCH);
    assert_non_null(strstr(err, "dataset"));
    s_receipt(&sr, f, sk, pk, 7);
    sr.r.epoch = 4;
    assert_int_equal(xl_receipt_sign(&sr.r, sk, pk, sr.sig, sr.pkbuf), 0);
    assert_int_equal(agent_receipt_check(&sr.r, pk, &info, NULL, 0, err, sizeof err),
                     XL_ERR_MISMATCH);
    agent_xle_info_free(&info);
}

/* The linker's replies: an ack, a receipt checked like any other, its errors
 * with their codes and without control characters, and nothing else. */
static void
test_reply_read(void **state)
{
    struct s_fix *f = *state;
    uint8_t pk[XL_SIGN_PK_BYTES], sk[XL_SIGN_SK_BYTES], long_id[AGENT_SUBMISSION_ID_MAX + 1];
    Crosslink__Envelope env = CROSSLINK__ENVELOPE__INIT;
    Crosslink__SubmitAck ack = CROSSLINK__SUBMIT_ACK__INIT;
    Crosslink__Error e = CROSSLINK__ERROR__INIT;
    Crosslink__LinkReport rep = CROSSLINK__LINK_REPORT__INIT;
    struct agent_xle_info info;
    struct s_receipt sr;
    char err[XL_ERRBUF];

    assert_int_equal(xl_sign_keypair(pk, sk), 0);
    assert_int_equal(agent_xle_scan(f->xle, &info, err, sizeof err), 0);

    env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_ACK;
    env.submit_ack = &ack;
    ack.submission_id.data = (uint8_t *)s_sid;
    ack.submission_id.len = sizeof s_sid;
    assert_int_equal(agent_reply_read(&env, pk, &info, NULL, 0, err, sizeof err), AGENT_REPLY_ACK);
    ack.submission_id.len = 0;
    assert_int_equal(agent_reply_read(&env, pk, &info, NULL, 0, err, sizeof err), XL_ERR_FORMAT);
    memset(long_id, 1, sizeof long_id);
    ack.submission_id.data = long_id;
    ack.submission_id.len = sizeof long_id;
    assert_int_equal(agent_reply_read(&env, pk, &info, NULL, 0, err, sizeof err), XL_ERR_FORMAT);

    s_receipt(&sr, f, sk, pk, 7);
    env.body_case = CROSSLINK__ENVELOPE__BODY_RECEIPT;
    env.receipt = &sr.r;
    assert_int_equal(agent_reply_read(&env, pk, &info, s_sid, sizeof s_sid, err, sizeof err),
                     AGENT_REPLY_RECEIPT);
    sr.r.record_count++;
    assert_int_equal(agent_reply_read(&env, pk, &info, s_sid, sizeof s_sid, err, sizeof err),
                     XL_ERR_CRYPTO);

    env.body_case = CROSSLINK__ENVELOPE__BODY_ERROR;
    env.error = &e;
    e.code = CROSSLINK__ERROR__CODE__MISMATCH;
    e.message = "epoch 2\033[2J, linker is on epoch 1";
    assert_int_equal(agent_reply_read(&env, pk, &info, NULL, 0, err, sizeof err), XL_ERR_MISMATCH);
    assert_non_null(strstr(err, "MISMATCH: epoch 2?[2J, linker is on epoch 1"));
    e.code = CROSSLINK__ERROR__CODE__UNSPECIFIED;
    e.message = "";
    assert_int_equal(agent_reply_read(&env, pk, &info, NULL, 0, err, sizeof err), XL_ERR_INTERNAL);
    assert_non_null(strstr(err, "(no message)"));

    env.body_case = CROSSLINK__ENVELOPE__BODY_LINK_REPORT;
    env.link_report = &rep;
    assert_int_equal(agent_reply_read(&env, pk, &info, NULL, 0, err, sizeof err), XL_ERR_FORMAT);
    assert_non_null(strstr(err, "link_report"));
    agent_xle_info_free(&info);
}

/* Output of a list call as a string (caller frees). */
static char *
s_list(const char *dir, const uint8_t *pk, int verbose, size_t *nbad)
{
    char err[XL_ERRBUF], *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    assert_int_equal(agent_receipt_list(dir, pk, verbose, out, nbad, err, sizeof err), 0);
    fclose(out);
    return text;
}

static void
test_receipt_store_and_list(void **state)
{
    struct s_fix *f = *state;
    uint8_t pk[XL_SIGN_PK_BYTES], sk[XL_SIGN_SK_BYTES];
    char err[XL_ERRBUF], path[AGENT_PATH_MAX + 256], path2[AGENT_PATH_MAX + 256], *text;
    char *dir = tu_path(f->dir, "receipts"), *want, *junk;
    struct s_receipt sr, later;
    Crosslink__Receipt *back = NULL;
    size_t nbad = 99;
    FILE *fp;

    assert_int_equal(xl_sign_keypair(pk, sk), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    text = s_list(dir, pk, 0, &nbad);
    assert_int_equal(nbad, 0);
    assert_non_null(strstr(text, "no receipts"));
    free(text);

    s_receipt(&sr, f, sk, pk, 7);
    assert_int_equal(agent_receipt_store(dir, &sr.r, path, sizeof path, err, sizeof err), 0);
    want = tu_path(dir, "20261122T071217Z-youth-justice-deadbeef.receipt");
    assert_string_equal(path, want);
    assert_int_equal(tu_file_mode(path), 0600);
    assert_int_equal(agent_receipt_load(path, &back, err, sizeof err), 0);
    assert_int_equal(back->audit_seq, 7);
    assert_int_equal(xl_receipt_verify(back, pk, err, sizeof err), 0);
    crosslink__receipt__free_unpacked(back, NULL);

    /* the same receipt again (a repeated submission): one file, no error */
    assert_int_equal(agent_receipt_store(dir, &sr.r, path2, sizeof path2, err, sizeof err), 0);
    assert_string_equal(path2, path);
    /* a different receipt under the same name is never overwritten */
    s_receipt(&later, f, sk, pk, 8);
    assert_int_equal(agent_receipt_store(dir, &later.r, path2, sizeof path2, err, sizeof err),
                     XL_ERR_EXISTS);
    assert_int_equal(agent_receipt_load(path, &back, err, sizeof err), 0);
    assert_int_equal(back->audit_seq, 7);
    crosslink__receipt__free_unpacked(back, NULL);
    /* a dataset name that would leave the folder */
    later.r.dataset = "../x";
    assert_int_equal(agent_receipt_store(dir, &later.r, path2, sizeof path2, err, sizeof err),
                     XL_ERR_INVALID);

    /* a second, later receipt */
    s_receipt(&later, f, sk, pk, 9);
    later.r.time += 86400;
    assert_int_equal(xl_receipt_sign(&later.r, sk, pk, later.sig, later.pkbuf), 0);
    assert_int_equal(agent_receipt_store(dir, &later.r, path2, sizeof path2, err, sizeof err), 0);

    text = s_list(dir, pk, 0, &nbad);
    assert_int_equal(nbad, 0);
    /* oldest first, with time, dataset, records, hash prefix, id and audit seq */
    assert_non_null(strstr(text, "2026-11-22 07:12:17"));
    assert_true(strstr(text, "2026-11-22 07:12:17") < strstr(text, "2026-11-23 07:12:17"));
    assert_non_null(strstr(text, "youth-justice"));
    assert_non_null(strstr(text, "deadbeef0102030405060708090a0b0c"));
    assert_null(strstr(text, "BAD"));
    assert_non_null(strstr(text, "2 receipts, 0 failed verification"));
    free(text);

    /* verified with another key: every one flagged */
    {
        uint8_t pk2[XL_SIGN_PK_BYTES], sk2[XL_SIGN_SK_BYTES];
        assert_int_equal(xl_sign_keypair(pk2, sk2), 0);
        text = s_list(dir, pk2, 0, &nbad);
        assert_int_equal(nbad, 2);
        free(text);
    }

    /* an altered receipt (records 25 -> 26 in the packed bytes) and a junk file */
    back = NULL;
    assert_int_equal(agent_receipt_load(path2, &back, err, sizeof err), 0);
    back->record_count = S_NREC + 1;
    {
        size_t n = crosslink__receipt__get_packed_size(back);
        uint8_t *buf = malloc(n);
        assert_non_null(buf);
        crosslink__receipt__pack(back, buf);
        fp = fopen(path2, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(buf, 1, n, fp), n);
        fclose(fp);
        free(buf);
    }
    crosslink__receipt__free_unpacked(back, NULL);
    junk = tu_path(dir, "20300101T000000Z-x-00000000.receipt");
    assert_int_equal(tu_write_file(junk, "not a receipt\n"), 0);
    text = s_list(dir, pk, 0, &nbad);
    assert_int_equal(nbad, 2);
    assert_non_null(strstr(text, "BAD"));
    assert_non_null(strstr(text, " ok\n"));
    assert_non_null(strstr(text, "3 receipts, 2 failed verification"));
    free(text);

    /* the verbose form shows the signed text and the verdict of each */
    text = s_list(dir, pk, 1, &nbad);
    assert_int_equal(nbad, 2);
    assert_non_null(strstr(text, "    crosslink-receipt v1\n"));
    assert_non_null(strstr(text, "    records 26\n"));
    assert_non_null(strstr(text, "signature valid (linker signing key "));
    assert_non_null(strstr(text, "signature INVALID: "));
    free(text);

    assert_int_equal(agent_receipt_list("/no/such/dir", pk, 0, stdout, &nbad, err, sizeof err),
                     XL_ERR_NOTFOUND);
    free(junk);
    free(want);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_in_order),     cmocka_unit_test(test_chunks_resume),
        cmocka_unit_test(test_chunks_altered_file), cmocka_unit_test(test_xle_scan),
        cmocka_unit_test(test_state_dirs),          cmocka_unit_test(test_outbox_names),
        cmocka_unit_test(test_receipt_check),       cmocka_unit_test(test_receipt_store_and_list),
        cmocka_unit_test(test_reply_read),
    };

    return cmocka_run_group_tests_name("submit", tests, s_setup, s_teardown);
}
