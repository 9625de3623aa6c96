/* Unit tests for common/wire.c: a submission chunk survives encode and decode,
 * and the decoder answers every truncated, random, oversized or wrongly
 * versioned input with an error code, never a crash. Inputs are copied into
 * buffers of their exact length so a sanitizer build catches any over-read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xl/arena.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/wire.h"

#define S_RECORDS 3
#define S_KEYS    2
#define S_BLOCKS  2

/* A SubmitChunk envelope with records, and the storage it points into. */
struct s_msg {
    xl_envelope env;
    Crosslink__SubmitChunk chunk;
    Crosslink__Record rec[S_RECORDS], *recp[S_RECORDS];
    Crosslink__MatchKey key[S_RECORDS][S_KEYS], *keyp[S_RECORDS][S_KEYS];
    ProtobufCBinaryData blocks[S_RECORDS][S_BLOCKS];
    uint8_t submission_id[16];
    uint8_t local_ref[S_RECORDS][16];
    uint8_t token[S_RECORDS][S_KEYS][XL_TOKEN_BYTES];
    uint8_t clk[S_RECORDS][128];
    uint8_t block[S_RECORDS][S_BLOCKS][XL_TOKEN_BYTES];
    uint8_t payload[S_RECORDS][60 + XL_SEAL_OVERHEAD];
};

/* A deterministic generator, so a failure found with one seed can be replayed. */
static uint64_t
s_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void
s_fill(uint64_t *x, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(s_next(x) >> 24);
}

static void
s_build(struct s_msg *m)
{
    uint64_t x = 0x2545f4914f6cdd1dULL;

    memset(m, 0, sizeof *m);
    crosslink__envelope__init(&m->env);
    crosslink__submit_chunk__init(&m->chunk);
    s_fill(&x, m->submission_id, sizeof m->submission_id);
    m->chunk.submission_id = (ProtobufCBinaryData){sizeof m->submission_id, m->submission_id};
    m->chunk.seq = 41;
    for (int r = 0; r < S_RECORDS; r++) {
        Crosslink__Record *rec = &m->rec[r];
        crosslink__record__init(rec);
        s_fill(&x, m->local_ref[r], sizeof m->local_ref[r]);
        rec->local_ref = (ProtobufCBinaryData){sizeof m->local_ref[r], m->local_ref[r]};
        for (int k = 0; k < S_KEYS; k++) {
            crosslink__match_key__init(&m->key[r][k]);
            m->key[r][k].level = (uint32_t)(k + 1 + r);
            s_fill(&x, m->token[r][k], XL_TOKEN_BYTES);
            m->key[r][k].token = (ProtobufCBinaryData){XL_TOKEN_BYTES, m->token[r][k]};
            m->keyp[r][k] = &m->key[r][k];
        }
        rec->n_keys = S_KEYS;
        rec->keys = m->keyp[r];
        s_fill(&x, m->clk[r], sizeof m->clk[r]);
        rec->clk = (ProtobufCBinaryData){sizeof m->clk[r], m->clk[r]};
        for (int b = 0; b < S_BLOCKS; b++) {
            s_fill(&x, m->block[r][b], XL_TOKEN_BYTES);
            m->blocks[r][b] = (ProtobufCBinaryData){XL_TOKEN_BYTES, m->block[r][b]};
        }
        rec->n_blocks = S_BLOCKS;
        rec->blocks = m->blocks[r];
        s_fill(&x, m->payload[r], sizeof m->payload[r]);
        rec->payload = (ProtobufCBinaryData){sizeof m->payload[r], m->payload[r]};
        m->recp[r] = rec;
    }
    m->chunk.n_records = S_RECORDS;
    m->chunk.records = m->recp;
    m->env.request_id = 0x1122334455667788ULL;
    m->env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_CHUNK;
    m->env.submit_chunk = &m->chunk;
}

/* Encodes the standard message; caller frees *buf. */
static void
s_encode(uint8_t **buf, size_t *len)
{
    struct s_msg *m = malloc(sizeof *m);

    assert_non_null(m);
    s_build(m);
    assert_int_equal(xl_wire_encode(&m->env, buf, len), 0);
    assert_non_null(*buf);
    assert_true(*len > 0);
    free(m);
}

static void
s_assert_bytes(const ProtobufCBinaryData *got, const uint8_t *want, size_t n)
{
    assert_int_equal(got->len, n);
    assert_memory_equal(got->data, want, n);
}

/* Stands in for a stale pointer: the decoder must reset its output. */
static xl_envelope s_stale;

/* Decodes a private copy of exactly len bytes of buf. The result must be
 * either an error with *out NULL and a message, or an envelope of this
 * version with a body. Returns the code. */
static int
s_decode_copy(const uint8_t *buf, size_t len, size_t max)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    xl_envelope *env = &s_stale;
    char err[XL_ERRBUF] = "";
    int r;

    assert_non_null(copy);
    if (len > 0)
        memcpy(copy, buf, len);
    r = xl_wire_decode(copy, len, max, NULL, &env, err, sizeof err);
    free(copy);
    if (r != 0) {
        assert_null(env);
        assert_true(r == XL_ERR_FORMAT || r == XL_ERR_VERSION || r == XL_ERR_TOOBIG);
        assert_true(err[0] != '\0');
    } else {
        assert_non_null(env);
        assert_int_equal(env->version, XL_WIRE_VERSION);
        assert_int_not_equal(env->body_case, CROSSLINK__ENVELOPE__BODY__NOT_SET);
        xl_wire_free(&env, NULL);
        assert_null(env);
    }
    return r;
}

static void
test_roundtrip(void **state)
{
    struct s_msg *m = malloc(sizeof *m);
    uint8_t *buf = NULL, *again = NULL;
    size_t len = 0, againlen = 0;
    xl_envelope *env = NULL;
    char err[XL_ERRBUF] = "";

    assert_non_null(m);
    s_build(m);
    m->env.version = 0; /* encode sets it */
    assert_int_equal(xl_wire_encode(&m->env, &buf, &len), 0);
    assert_int_equal(m->env.version, XL_WIRE_VERSION);
    assert_int_equal(len, crosslink__envelope__get_packed_size(&m->env));

    if (xl_wire_decode(buf, len, XL_WIRE_MAX_DEFAULT, NULL, &env, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(env->version, XL_WIRE_VERSION);
    assert_int_equal(env->request_id, 0x1122334455667788ULL);
    assert_int_equal(env->body_case, CROSSLINK__ENVELOPE__BODY_SUBMIT_CHUNK);
    assert_string_equal(xl_wire_body_name(env), "submit_chunk");
    const Crosslink__SubmitChunk *c = env->submit_chunk;
    assert_non_null(c);
    s_assert_bytes(&c->submission_id, m->submission_id, sizeof m->submission_id);
    assert_int_equal(c->seq, 41);
    assert_int_equal(c->n_records, S_RECORDS);
    for (int r = 0; r < S_RECORDS; r++) {
        const Crosslink__Record *rec = c->records[r];
        s_assert_bytes(&rec->local_ref, m->local_ref[r], sizeof m->local_ref[r]);
        assert_int_equal(rec->n_keys, S_KEYS);
        for (int k = 0; k < S_KEYS; k++) {
            assert_int_equal(rec->keys[k]->level, m->key[r][k].level);
            s_assert_bytes(&rec->keys[k]->token, m->token[r][k], XL_TOKEN_BYTES);
        }
        s_assert_bytes(&rec->clk, m->clk[r], sizeof m->clk[r]);
        assert_int_equal(rec->n_blocks, S_BLOCKS);
        for (int b = 0; b < S_BLOCKS; b++)
            s_assert_bytes(&rec->blocks[b], m->block[r][b], XL_TOKEN_BYTES);
        s_assert_bytes(&rec->payload, m->payload[r], sizeof m->payload[r]);
    }

    /* Re-encoding the decoded message gives the same bytes. */
    assert_int_equal(xl_wire_encode(env, &again, &againlen), 0);
    assert_int_equal(againlen, len);
    assert_memory_equal(again, buf, len);

    xl_wire_free(&env, NULL);
    assert_null(env);
    xl_wire_free(&env, NULL); /* accepts NULL */
    xl_wire_free(NULL, NULL);
    free(again);
    free(buf);
    free(m);
}

/* Every proper prefix of a message is refused. The body is the last field
 * and is length-delimited, so no prefix can be a complete message. */
static void
test_truncated(void **state)
{
    uint8_t *buf;
    size_t len;

    s_encode(&buf, &len);
    assert_int_equal(s_decode_copy(buf, len, XL_WIRE_MAX_DEFAULT), 0);
    for (size_t n = 0; n < len; n++) {
        int r = s_decode_copy(buf, n, XL_WIRE_MAX_DEFAULT);
        if (r == 0)
            fail_msg("a %zu-byte prefix of a %zu-byte message decoded", n, len);
    }
    /* The empty message is a version-0 envelope. */
    assert_int_equal(s_decode_copy(buf, 0, XL_WIRE_MAX_DEFAULT), XL_ERR_VERSION);
    free(buf);
}

/* Random buffers, and the valid message with random bytes changed. */
static void
test_garbage(void **state)
{
    uint8_t rnd[512], *buf, *mut;
    size_t len;
    uint64_t x = 0x9e3779b97f4a7c15ULL; /* fixed seed: failures replay */
    int refused = 0;

    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(s_next(&x) % sizeof rnd);
        s_fill(&x, rnd, n);
        refused += s_decode_copy(rnd, n, XL_WIRE_MAX_DEFAULT) != 0;
    }
    assert_true(refused > 19000);

    s_encode(&buf, &len);
    mut = malloc(len);
    assert_non_null(mut);
    refused = 0;
    for (int i = 0; i < 20000; i++) {
        int changes = 1 + (int)(s_next(&x) % 4);
        memcpy(mut, buf, len);
        for (int j = 0; j < changes; j++)
            mut[s_next(&x) % len] = (uint8_t)s_next(&x);
        refused += s_decode_copy(mut, len, XL_WIRE_MAX_DEFAULT) != 0;
        /* Also cut the damaged message short at a random point. */
        refused += s_decode_copy(mut, (size_t)(s_next(&x) % len), XL_WIRE_MAX_DEFAULT) != 0;
    }
    assert_true(refused > 0);
    free(mut);
    free(buf);
}

static void
test_oversized(void **state)
{
    uint8_t *buf, *big;
    size_t len;
    xl_envelope *env = &s_stale;
    char err[XL_ERRBUF] = "";

    s_encode(&buf, &len);
    assert_int_equal(s_decode_copy(buf, len, len), 0); /* exactly at the limit */
    assert_int_equal(xl_wire_decode(buf, len, len - 1, NULL, &env, err, sizeof err), XL_ERR_TOOBIG);
    assert_null(env);
    assert_non_null(strstr(err, "exceeds"));
    assert_int_equal(s_decode_copy(buf, len, 0), XL_ERR_TOOBIG);
    free(buf);

    /* Over the default cap: refused by size before any parsing. */
    big = calloc(1, XL_WIRE_MAX_DEFAULT + 1);
    assert_non_null(big);
    assert_int_equal(xl_wire_decode(big, XL_WIRE_MAX_DEFAULT + 1, XL_WIRE_MAX_DEFAULT, NULL, &env,
                                    err, sizeof err),
                     XL_ERR_TOOBIG);
    assert_null(env);
    free(big);
}

/* Packs env as is (xl_wire_encode would set the version). */
static size_t
s_pack_raw(const xl_envelope *env, uint8_t *out, size_t cap)
{
    size_t n = crosslink__envelope__get_packed_size(env);

    assert_true(n <= cap);
    return crosslink__envelope__pack(env, out);
}

static void
test_version(void **state)
{
    struct s_msg *m = malloc(sizeof *m);
    uint8_t buf[4096];
    size_t n;
    xl_envelope *env = NULL;
    char err[XL_ERRBUF] = "";

    assert_non_null(m);
    s_build(m);
    m->env.version = 2;
    n = s_pack_raw(&m->env, buf, sizeof buf);
    assert_int_equal(xl_wire_decode(buf, n, XL_WIRE_MAX_DEFAULT, NULL, &env, err, sizeof err),
                     XL_ERR_VERSION);
    assert_null(env);
    assert_non_null(strstr(err, "version 2"));
    m->env.version = 0;
    n = s_pack_raw(&m->env, buf, sizeof buf);
    assert_int_equal(s_decode_copy(buf, n, XL_WIRE_MAX_DEFAULT), XL_ERR_VERSION);
    m->env.version = 0xffffffffu;
    n = s_pack_raw(&m->env, buf, sizeof buf);
    assert_int_equal(s_decode_copy(buf, n, XL_WIRE_MAX_DEFAULT), XL_ERR_VERSION);
    m->env.version = XL_WIRE_VERSION;
    n = s_pack_raw(&m->env, buf, sizeof buf);
    assert_int_equal(s_decode_copy(buf, n, XL_WIRE_MAX_DEFAULT), 0);
    free(m);
}

static void
test_empty_body(void **state)
{
    xl_envelope e = CROSSLINK__ENVELOPE__INIT, *env = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[XL_ERRBUF] = "";

    e.request_id = 5;
    assert_int_equal(xl_wire_encode(&e, &buf, &len), 0);
    assert_int_equal(xl_wire_decode(buf, len, XL_WIRE_MAX_DEFAULT, NULL, &env, err, sizeof err),
                     XL_ERR_FORMAT);
    assert_null(env);
    assert_non_null(strstr(err, "no body"));
    free(buf);
}

/* A field the protocol does not define is refused, at the top and deep inside
 * (protobuf-c would keep it and pack it again: a record could carry anything,
 * past every size check, into the store). */
static void
test_unknown_field(void **state)
{
    uint8_t *buf, *longer;
    size_t len;
    xl_envelope *env = NULL;
    char err[XL_ERRBUF] = "";
    /* Field 99, varint 1: tag (99 << 3 | 0) = 792 = 0x98 0x06. */
    static const uint8_t extra[] = {0x98, 0x06, 0x01};

    s_encode(&buf, &len);
    longer = malloc(len + sizeof extra);
    assert_non_null(longer);
    memcpy(longer, buf, len);
    memcpy(longer + len, extra, sizeof extra);
    assert_int_equal(xl_wire_decode(longer, len + sizeof extra, XL_WIRE_MAX_DEFAULT, NULL, &env,
                                    err, sizeof err),
                     XL_ERR_FORMAT);
    assert_null(env);
    assert_non_null(strstr(err, "field 99 of Envelope is not defined"));
    /* The same bytes without the extra field decode. */
    assert_int_equal(xl_wire_decode(longer, len, XL_WIRE_MAX_DEFAULT, NULL, &env, err, sizeof err),
                     0);
    xl_wire_free(&env, NULL);
    free(longer);
    free(buf);
}

static void
test_unknown_field_in_record(void **state)
{
    struct s_msg *m = malloc(sizeof *m);
    static uint8_t junk[1000];
    ProtobufCMessageUnknownField uf = {.tag = 77,
                                       .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
                                       .len = sizeof junk,
                                       .data = junk};
    xl_envelope *env = NULL;
    uint8_t *buf;
    size_t len;
    char err[XL_ERRBUF] = "";

    assert_non_null(m);
    /* protobuf-c keeps an unknown field's bytes after its tag: here the
     * length (998, as a varint) and 998 bytes. */
    junk[0] = 0xe6;
    junk[1] = 0x07;
    s_build(m);
    /* The second record's second match key carries it. */
    m->key[1][1].base.n_unknown_fields = 1;
    m->key[1][1].base.unknown_fields = &uf;
    assert_int_equal(xl_wire_encode(&m->env, &buf, &len), 0);
    assert_int_equal(xl_wire_decode(buf, len, XL_WIRE_MAX_DEFAULT, NULL, &env, err, sizeof err),
                     XL_ERR_FORMAT);
    assert_null(env);
    if (strstr(err, "field 77 of MatchKey") == NULL)
        fail_msg("%s", err);
    assert_int_equal(xl_wire_defined_only(&m->rec[1].base, err, sizeof err), XL_ERR_FORMAT);
    assert_int_equal(xl_wire_defined_only(&m->rec[0].base, err, sizeof err), 0);
    free(buf);
    free(m);
}

/* Decoding into an arena gives the same message, again and again after resets,
 * and a message larger than the arena falls back to malloc. */
static void
test_arena_decode(void **state)
{
    struct xl_arena *a = xl_arena_new();
    xl_envelope *env = NULL;
    uint8_t *buf;
    size_t len;
    char err[XL_ERRBUF] = "";

    assert_non_null(a);
    s_encode(&buf, &len);
    for (int round = 0; round < 3; round++) {
        /* Round 1 has no room at all: everything comes from malloc. */
        xl_arena_reset(a, round == 1 ? 0 : 4 * len + 4096);
        assert_int_equal(xl_wire_decode(buf, len, XL_WIRE_MAX_DEFAULT, xl_arena_allocator(a), &env,
                                        err, sizeof err),
                         0);
        assert_int_equal(env->submit_chunk->n_records, S_RECORDS);
        assert_int_equal(env->submit_chunk->seq, 41);
        assert_int_equal(env->submit_chunk->records[2]->keys[1]->level, 4);
        xl_wire_free(&env, xl_arena_allocator(a));
        assert_null(env);
    }
    xl_arena_trim(a, 0);
    xl_arena_destroy(&a);
    assert_null(a);
    xl_arena_destroy(&a); /* accepts NULL */
    free(buf);
}

static void
test_body_name(void **state)
{
    xl_envelope e = CROSSLINK__ENVELOPE__INIT;
    Crosslink__Error error = CROSSLINK__ERROR__INIT;
    Crosslink__SubmitBegin begin = CROSSLINK__SUBMIT_BEGIN__INIT;

    assert_string_equal(xl_wire_body_name(NULL), "none");
    assert_string_equal(xl_wire_body_name(&e), "none");
    e.body_case = CROSSLINK__ENVELOPE__BODY_ERROR;
    e.error = &error;
    assert_string_equal(xl_wire_body_name(&e), "error");
    e.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_BEGIN;
    e.submit_begin = &begin;
    assert_string_equal(xl_wire_body_name(&e), "submit_begin");
    e.body_case = CROSSLINK__ENVELOPE__BODY_AUDIT_CHECKPOINT;
    assert_string_equal(xl_wire_body_name(&e), "audit_checkpoint");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage),       cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_version),       cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_unknown_field), cmocka_unit_test(test_unknown_field_in_record),
        cmocka_unit_test(test_arena_decode),  cmocka_unit_test(test_body_name),
    };

    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
