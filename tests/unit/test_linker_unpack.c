/* Records unpacked into one reused buffer (linker/unpack.c): the same fields
 * as protobuf-c's own allocator gives, a record larger than the buffer (it
 * grows and tries again), a small one after it, and bytes that are not a
 * record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../linker/unpack.h"

/* A packed record with n keys and a payload of plen bytes. */
static uint8_t *
s_pack(size_t n, size_t plen, size_t *len)
{
    Crosslink__Record r = CROSSLINK__RECORD__INIT;
    Crosslink__MatchKey *k = calloc(n ? n : 1, sizeof *k), **kp = calloc(n ? n : 1, sizeof *kp);
    uint8_t ref[16], clk[144], blk[8], *payload = malloc(plen ? plen : 1), *out;
    uint8_t(*tok)[16] = malloc((n ? n : 1) * sizeof *tok);
    ProtobufCBinaryData blocks[1];

    assert_non_null(k);
    assert_non_null(kp);
    assert_non_null(payload);
    assert_non_null(tok);
    memset(ref, 0x11, sizeof ref);
    memset(clk, 0x5a, sizeof clk);
    memset(blk, 0x22, sizeof blk);
    for (size_t i = 0; i < plen; i++)
        payload[i] = (uint8_t)i;
    for (size_t i = 0; i < n; i++) {
        crosslink__match_key__init(&k[i]);
        memset(tok[i], (int)i, sizeof tok[i]);
        k[i].level = (uint32_t)(i % 9 + 1);
        k[i].token.data = tok[i];
        k[i].token.len = sizeof tok[i];
        kp[i] = &k[i];
    }
    blocks[0] = (ProtobufCBinaryData){sizeof blk, blk};
    r.local_ref = (ProtobufCBinaryData){sizeof ref, ref};
    r.n_keys = n;
    r.keys = kp;
    r.clk = (ProtobufCBinaryData){sizeof clk, clk};
    r.n_blocks = 1;
    r.blocks = blocks;
    r.payload = (ProtobufCBinaryData){plen, payload};
    *len = crosslink__record__get_packed_size(&r);
    out = malloc(*len);
    assert_non_null(out);
    crosslink__record__pack(&r, out);
    free(k);
    free(kp);
    free(payload);
    free(tok);
    return out;
}

static void
s_check(struct linker_unpacker *u, size_t n, size_t plen)
{
    size_t len;
    uint8_t *buf = s_pack(n, plen, &len);
    Crosslink__Record *r = linker_unpack_record(u, buf, len);

    assert_non_null(r);
    assert_int_equal(r->n_keys, n);
    assert_int_equal(r->clk.len, 144);
    assert_int_equal(r->clk.data[143], 0x5a);
    assert_int_equal(r->local_ref.data[0], 0x11);
    assert_int_equal(r->n_blocks, 1);
    assert_int_equal(r->payload.len, plen);
    for (size_t i = 0; i < plen; i += 997)
        assert_int_equal(r->payload.data[i], (uint8_t)i);
    for (size_t i = 0; i < n; i += 7) {
        assert_int_equal(r->keys[i]->level, i % 9 + 1);
        assert_int_equal(r->keys[i]->token.data[15], (uint8_t)i);
    }
    free(buf);
}

static void
test_unpack_grows_and_reuses(void **state)
{
    struct linker_unpacker u;
    size_t before;

    (void)state;
    linker_unpacker_init(&u);
    s_check(&u, 9, 100);
    before = u.cap;
    /* far more than the first buffer holds: 5,000 keys and a 300 KB payload */
    s_check(&u, 5000, 300 * 1024);
    assert_true(u.cap > before);
    s_check(&u, 3, 10); /* the grown buffer serves a small one again */
    linker_unpacker_free(&u);
}

static void
test_unpack_refuses_garbage(void **state)
{
    struct linker_unpacker u;
    /* field 1 as a length-delimited value running past the end */
    const uint8_t bad[] = {0x0a, 0x7f, 0x01, 0x02};

    (void)state;
    linker_unpacker_init(&u);
    assert_null(linker_unpack_record(&u, bad, sizeof bad));
    assert_int_equal(u.short_of_room, 0);
    linker_unpacker_free(&u);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unpack_grows_and_reuses),
        cmocka_unit_test(test_unpack_refuses_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
