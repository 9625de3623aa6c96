/* Unit tests for common/crypto.c: known-answer vectors for HMAC-SHA256, the
 * KDF, match-key tokens and the secret check value, and behaviour tests for
 * signatures, sealed boxes and the text encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "xl/crypto.h"
#include "xl/err.h"

static const uint8_t s_zero[256];

static int
s_group_setup(void **state)
{
    return xl_crypto_init() == 0 ? 0 : -1;
}

/* ---- HMAC-SHA256 ---------------------------------------------------------- */

static void
test_hmac_rfc4231(void **state)
{
    size_t n, keylen, datalen, maclen;
    struct tu_vec *v = tu_vec_load("hmac_rfc4231.txt", &n);
    unsigned seen = 0;

    assert_non_null(v);
    assert_int_equal(n, 7);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[256], data[256], mac[XL_HASH_BYTES], out[XL_HASH_BYTES];
        uint64_t tc;
        assert_int_equal(tu_vec_uint(&v[i], "case", &tc), 0);
        assert_int_equal(tu_vec_hex(&v[i], "key", key, sizeof key, &keylen), 0);
        assert_int_equal(tu_vec_hex(&v[i], "data", data, sizeof data, &datalen), 0);
        assert_int_equal(tu_vec_hex(&v[i], "mac", mac, sizeof mac, &maclen), 0);
        /* Case 5 publishes only the 128-bit truncation. */
        assert_int_equal(maclen, tc == 5 ? 16 : XL_HASH_BYTES);
        struct xl_iov part = {data, datalen};
        assert_int_equal(xl_hmac_sha256(key, keylen, &part, 1, out), 0);
        assert_memory_equal(out, mac, maclen);
        /* The prepared key, including keys longer than a block (cases 6, 7) and
         * the message split into a prefix and the rest. */
        struct xl_mac pm;
        struct xl_iov rest = {data + datalen / 2, datalen - datalen / 2};
        assert_int_equal(xl_mac_init(&pm, key, keylen, data, datalen / 2), 0);
        xl_mac_compute(&pm, &rest, 1, out);
        assert_memory_equal(out, mac, maclen);
        xl_mac_wipe(&pm);
        seen |= 1u << tc;
    }
    assert_int_equal(seen, 0xfe); /* cases 1 to 7, each once */
    free(v);
}

/* The MAC of a message given in parts equals the MAC of the whole. */
static void
test_hmac_parts(void **state)
{
    size_t n, keylen, datalen;
    struct tu_vec *v = tu_vec_load("hmac_rfc4231.txt", &n);

    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[256], data[256], whole[XL_HASH_BYTES], out[XL_HASH_BYTES];
        struct xl_iov parts[256];
        assert_int_equal(tu_vec_hex(&v[i], "key", key, sizeof key, &keylen), 0);
        assert_int_equal(tu_vec_hex(&v[i], "data", data, sizeof data, &datalen), 0);
        parts[0] = (struct xl_iov){data, datalen};
        assert_int_equal(xl_hmac_sha256(key, keylen, parts, 1, whole), 0);

        /* Two parts, split at every position (empty first or last part included). */
        for (size_t cut = 0; cut <= datalen; cut++) {
            parts[0] = (struct xl_iov){data, cut};
            parts[1] = (struct xl_iov){data + cut, datalen - cut};
            assert_int_equal(xl_hmac_sha256(key, keylen, parts, 2, out), 0);
            assert_memory_equal(out, whole, XL_HASH_BYTES);
        }
        /* Three uneven parts with an empty part (NULL pointer) in the middle. */
        parts[0] = (struct xl_iov){data, datalen / 3};
        parts[1] = (struct xl_iov){NULL, 0};
        parts[2] = (struct xl_iov){data + datalen / 3, datalen - datalen / 3};
        assert_int_equal(xl_hmac_sha256(key, keylen, parts, 3, out), 0);
        assert_memory_equal(out, whole, XL_HASH_BYTES);
        /* One byte per part. */
        for (size_t j = 0; j < datalen; j++)
            parts[j] = (struct xl_iov){data + j, 1};
        assert_int_equal(xl_hmac_sha256(key, keylen, parts, datalen, out), 0);
        assert_memory_equal(out, whole, XL_HASH_BYTES);
    }
    free(v);
}

static void
test_sha256(void **state)
{
    static const char *want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    uint8_t h[XL_HASH_BYTES];
    char hex[2 * XL_HASH_BYTES + 1];

    xl_sha256("abc", 3, h); /* FIPS 180-2, appendix B.1 */
    xl_hex(h, sizeof h, hex);
    assert_string_equal(hex, want);
}

/* ---- KDF and secret check --------------------------------------------------- */

static void
test_kdf_vectors(void **state)
{
    size_t n, len, checked = 0;
    struct tu_vec *v = tu_vec_load("kdf.txt", &n);

    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[XL_KEY_BYTES], want[XL_KEY_BYTES], out[XL_KEY_BYTES];
        uint64_t id;
        if (tu_vec_get(&v[i], "id") == NULL)
            continue;
        assert_int_equal(tu_vec_hex(&v[i], "key", key, sizeof key, &len), 0);
        assert_int_equal(len, XL_KEY_BYTES);
        assert_int_equal(tu_vec_uint(&v[i], "id", &id), 0);
        assert_int_equal(tu_vec_hex(&v[i], "subkey", want, sizeof want, &len), 0);
        assert_int_equal(len, XL_KEY_BYTES);
        assert_int_equal(xl_kdf_derive(key, (enum xl_subkey)id, out), 0);
        assert_memory_equal(out, want, XL_KEY_BYTES);
        checked++;
    }
    assert_int_equal(checked, 6);
    free(v);
}

static void
test_kdf_properties(void **state)
{
    static const enum xl_subkey ids[] = {XL_SUBKEY_MATCH, XL_SUBKEY_BLOOM, XL_SUBKEY_BLOCK};
    uint8_t s1[XL_KEY_BYTES], s2[XL_KEY_BYTES];
    uint8_t k[3][XL_KEY_BYTES], again[XL_KEY_BYTES], other[XL_KEY_BYTES];

    /* The numbers are part of the protocol (see crypto.h). */
    assert_int_equal(XL_SUBKEY_MATCH, 1);
    assert_int_equal(XL_SUBKEY_BLOOM, 2);
    assert_int_equal(XL_SUBKEY_BLOCK, 3);

    xl_random(s1, sizeof s1);
    memcpy(s2, s1, sizeof s2);
    s2[31] ^= 1;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(xl_kdf_derive(s1, ids[i], k[i]), 0);
        assert_memory_not_equal(k[i], s1, XL_KEY_BYTES);
        assert_int_equal(xl_kdf_derive(s1, ids[i], again), 0);
        assert_memory_equal(k[i], again, XL_KEY_BYTES);
        assert_int_equal(xl_kdf_derive(s2, ids[i], other), 0);
        assert_memory_not_equal(k[i], other, XL_KEY_BYTES);
    }
    assert_memory_not_equal(k[0], k[1], XL_KEY_BYTES);
    assert_memory_not_equal(k[0], k[2], XL_KEY_BYTES);
    assert_memory_not_equal(k[1], k[2], XL_KEY_BYTES);
}

static void
test_secret_check_vectors(void **state)
{
    size_t n, len, checked = 0;
    struct tu_vec *v = tu_vec_load("kdf.txt", &n);

    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        uint8_t secret[XL_KEY_BYTES], want[XL_CHECK_BYTES], out[XL_CHECK_BYTES];
        uint64_t epoch;
        if (tu_vec_get(&v[i], "epoch") == NULL)
            continue;
        assert_int_equal(tu_vec_hex(&v[i], "secret", secret, sizeof secret, &len), 0);
        assert_int_equal(len, XL_KEY_BYTES);
        assert_int_equal(tu_vec_uint(&v[i], "epoch", &epoch), 0);
        assert_true(epoch <= UINT32_MAX);
        assert_int_equal(tu_vec_hex(&v[i], "check", want, sizeof want, &len), 0);
        assert_int_equal(len, XL_CHECK_BYTES);
        assert_int_equal(xl_secret_check(secret, (uint32_t)epoch, out), 0);
        assert_memory_equal(out, want, XL_CHECK_BYTES);
        checked++;
    }
    assert_int_equal(checked, 5);
    free(v);
}

/* ---- match-key tokens -------------------------------------------------------- */

static void
test_token_vectors(void **state)
{
    size_t n, len;
    struct tu_vec *v = tu_vec_load("tokens.txt", &n);
    int saw_empty = 0, saw_utf8 = 0;

    assert_non_null(v);
    assert_int_equal(n, 11);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[XL_KEY_BYTES], fp[XL_HASH_BYTES], value[512];
        uint8_t want[XL_TOKEN_BYTES], out[XL_TOKEN_BYTES];
        size_t vlen;
        uint64_t level;
        assert_int_equal(tu_vec_hex(&v[i], "key", key, sizeof key, &len), 0);
        assert_int_equal(len, XL_KEY_BYTES);
        assert_int_equal(tu_vec_hex(&v[i], "spec_fp", fp, sizeof fp, &len), 0);
        assert_int_equal(len, XL_HASH_BYTES);
        assert_int_equal(tu_vec_uint(&v[i], "level", &level), 0);
        assert_in_range(level, 0, 255);
        assert_int_equal(tu_vec_hex(&v[i], "value", value, sizeof value, &vlen), 0);
        assert_int_equal(tu_vec_hex(&v[i], "token", want, sizeof want, &len), 0);
        assert_int_equal(len, XL_TOKEN_BYTES);
        assert_int_equal(xl_token(key, fp, (uint8_t)level, value, vlen, out), 0);
        assert_memory_equal(out, want, XL_TOKEN_BYTES);
        {
            /* The prepared-key path the encoder uses gives the same token. */
            struct xl_mac mac;
            uint8_t lv = (uint8_t)level, full[XL_HASH_BYTES];
            struct xl_iov parts[2] = {{&lv, 1}, {value, vlen}};
            assert_int_equal(xl_mac_init(&mac, key, sizeof key, fp, XL_SPEC_ID_BYTES), 0);
            xl_mac_compute(&mac, parts, 2, full);
            assert_memory_equal(full, want, XL_TOKEN_BYTES);
            xl_mac_wipe(&mac);
        }
        saw_empty |= vlen == 0;
        for (size_t j = 0; j < vlen; j++)
            saw_utf8 |= value[j] >= 0x80;
    }
    assert_true(saw_empty);
    assert_true(saw_utf8);
    free(v);
}

/* ---- signatures ---------------------------------------------------------------- */

static void
test_sign_verify(void **state)
{
    uint8_t pk[XL_SIGN_PK_BYTES], sk[XL_SIGN_SK_BYTES], pk2[XL_SIGN_PK_BYTES],
        sk2[XL_SIGN_SK_BYTES];
    uint8_t sig[XL_SIG_BYTES], bad[XL_SIG_BYTES];
    uint8_t msg[] = "receipt: agency wmp, dataset arrests, 1234 records";

    assert_int_equal(xl_sign_keypair(pk, sk), 0);
    assert_int_equal(xl_sign_keypair(pk2, sk2), 0);
    assert_memory_not_equal(pk, pk2, XL_SIGN_PK_BYTES);
    assert_int_equal(xl_sign(sk, msg, sizeof msg, sig), 0);
    assert_int_equal(xl_verify(pk, msg, sizeof msg, sig), 0);

    /* Every single-bit change of the signature is rejected. */
    for (size_t bit = 0; bit < 8 * XL_SIG_BYTES; bit++) {
        memcpy(bad, sig, sizeof bad);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(xl_verify(pk, msg, sizeof msg, bad), XL_ERR_CRYPTO);
    }
    /* So is every single-bit change of the message. */
    for (size_t bit = 0; bit < 8 * sizeof msg; bit++) {
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(xl_verify(pk, msg, sizeof msg, sig), XL_ERR_CRYPTO);
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(xl_verify(pk, msg, sizeof msg - 1, sig), XL_ERR_CRYPTO);
    assert_int_equal(xl_verify(pk2, msg, sizeof msg, sig), XL_ERR_CRYPTO);
    /* Unchanged input still verifies after all that. */
    assert_int_equal(xl_verify(pk, msg, sizeof msg, sig), 0);
}

/* ---- sealed boxes ------------------------------------------------------------------ */

static void
test_box_public(void **state)
{
    uint8_t pk[XL_KEY_BYTES], sk[XL_KEY_BYTES], derived[XL_KEY_BYTES];

    assert_int_equal(xl_box_keypair(pk, sk), 0);
    assert_int_equal(xl_box_public(sk, derived), 0);
    assert_memory_equal(pk, derived, XL_KEY_BYTES);
    sk[0] ^= 0x40; /* a different scalar, not one the clamping ignores */
    assert_int_equal(xl_box_public(sk, derived), 0);
    assert_memory_not_equal(pk, derived, XL_KEY_BYTES);
}

static void
test_seal_open(void **state)
{
    static const char msg[] = "outcome: excluded=2, in_care=0";
    uint8_t pk[XL_KEY_BYTES], sk[XL_KEY_BYTES], pk2[XL_KEY_BYTES], sk2[XL_KEY_BYTES];
    uint8_t box[sizeof msg + XL_SEAL_OVERHEAD], box2[sizeof box], out[sizeof msg];

    assert_int_equal(xl_box_keypair(pk, sk), 0);
    assert_int_equal(xl_box_keypair(pk2, sk2), 0);
    assert_int_equal(xl_seal(pk, msg, sizeof msg, box), 0);
    assert_int_equal(xl_seal_open(pk, sk, box, sizeof box, out), 0);
    assert_memory_equal(out, msg, sizeof msg);

    /* Sealing is randomised: the same message seals differently each time. */
    assert_int_equal(xl_seal(pk, msg, sizeof msg, box2), 0);
    assert_memory_not_equal(box, box2, sizeof box);

    /* A change of any byte of the box is detected, and the output is cleared. */
    for (size_t i = 0; i < sizeof box; i++) {
        memcpy(box2, box, sizeof box);
        box2[i] ^= 0x01;
        memset(out, 0xa5, sizeof out);
        assert_int_equal(xl_seal_open(pk, sk, box2, sizeof box2, out), XL_ERR_CRYPTO);
        assert_memory_equal(out, s_zero, sizeof out);
    }
    /* Wrong recipient key pair. */
    assert_int_equal(xl_seal_open(pk2, sk2, box, sizeof box, out), XL_ERR_CRYPTO);
    /* Truncated: one byte short, and shorter than the overhead itself. */
    assert_int_equal(xl_seal_open(pk, sk, box, sizeof box - 1, out), XL_ERR_CRYPTO);
    assert_int_equal(xl_seal_open(pk, sk, box, XL_SEAL_OVERHEAD - 1, out), XL_ERR_CRYPTO);
    /* The empty message seals to exactly the overhead and opens. */
    assert_int_equal(xl_seal(pk, "", 0, box2), 0);
    assert_int_equal(xl_seal_open(pk, sk, box2, XL_SEAL_OVERHEAD, out), 0);
}

/* ---- key ids, comparison, text encodings ---------------------------------------------- */

static void
test_key_id(void **state)
{
    char id[XL_KEYID_HEX + 1];

    /* SHA-256 of 32 zero bytes begins 66687aadf862bd77. */
    xl_key_id(s_zero, XL_KEY_BYTES, id);
    assert_string_equal(id, "66687aadf862bd77");
    assert_int_equal(strlen(id), XL_KEYID_HEX);
}

static void
test_equal(void **state)
{
    uint8_t a[XL_TOKEN_BYTES], b[XL_TOKEN_BYTES];

    xl_random(a, sizeof a);
    memcpy(b, a, sizeof b);
    assert_int_equal(xl_equal(a, b, sizeof a), 1);
    for (size_t i = 0; i < sizeof b; i++) {
        b[i] ^= 0x80;
        assert_int_equal(xl_equal(a, b, sizeof a), 0);
        b[i] ^= 0x80;
    }
}

static void
test_hex(void **state)
{
    static const uint8_t known[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    uint8_t in[33], out[33];
    char hex[2 * sizeof in + 1];

    xl_hex(known, sizeof known, hex);
    assert_string_equal(hex, "00017f80abff");
    assert_int_equal(xl_unhex("00017F80ABfF", out, sizeof known), 0);
    assert_memory_equal(out, known, sizeof known);

    for (size_t len = 0; len <= sizeof in; len++) {
        xl_random(in, len);
        xl_hex(in, len, hex);
        assert_int_equal(strlen(hex), 2 * len);
        assert_int_equal(xl_unhex(hex, out, len), 0);
        assert_memory_equal(out, in, len);
    }

    /* Wrong length: odd, short, long. */
    assert_int_equal(xl_unhex("00017f80abf", out, sizeof known), XL_ERR_FORMAT);
    assert_int_equal(xl_unhex("00017f80ab", out, sizeof known), XL_ERR_FORMAT);
    assert_int_equal(xl_unhex("00017f80abff00", out, sizeof known), XL_ERR_FORMAT);
    /* Characters outside [0-9a-fA-F], in either nibble and at either end. */
    assert_int_equal(xl_unhex("g0017f80abff", out, sizeof known), XL_ERR_FORMAT);
    assert_int_equal(xl_unhex("00017f80abfz", out, sizeof known), XL_ERR_FORMAT);
    assert_int_equal(xl_unhex("0001 f80abff", out, sizeof known), XL_ERR_FORMAT);
    assert_int_equal(xl_unhex("0x017f80abff", out, sizeof known), XL_ERR_FORMAT);
    assert_int_equal(xl_unhex("00017f80ab\xc3\xa9", out, sizeof known), XL_ERR_FORMAT);
}

static void
test_z85(void **state)
{
    /* ZeroMQ RFC 32 (Z85) test vector. */
    static const uint8_t hello[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
    uint8_t in[XL_SIGN_SK_BYTES], out[XL_SIGN_SK_BYTES];
    char text[XL_SIGN_SK_BYTES / 4 * 5 + 1];

    assert_int_equal(xl_z85_encode(hello, sizeof hello, text), 0);
    assert_string_equal(text, "HelloWorld");
    assert_int_equal(xl_z85_decode("HelloWorld", out, 8), 0);
    assert_memory_equal(out, hello, 8);

    for (size_t len = 4; len <= sizeof in; len += 4) {
        xl_random(in, len);
        assert_int_equal(xl_z85_encode(in, len, text), 0);
        assert_int_equal(strlen(text), len / 4 * 5);
        assert_int_equal(xl_z85_decode(text, out, len), 0);
        assert_memory_equal(out, in, len);
    }

    /* Encoding needs a multiple of 4 bytes. */
    assert_int_equal(xl_z85_encode(hello, 7, text), XL_ERR_INVALID);
    /* Decoding: wrong text length for the output, or output not a multiple of 4. */
    assert_int_equal(xl_z85_decode("HelloWorl", out, 8), XL_ERR_FORMAT);
    assert_int_equal(xl_z85_decode("HelloWorldH", out, 8), XL_ERR_FORMAT);
    assert_int_equal(xl_z85_decode("HelloWorld", out, 4), XL_ERR_FORMAT);
    assert_int_equal(xl_z85_decode("HelloWorld", out, 7), XL_ERR_FORMAT);
    assert_int_equal(xl_z85_decode("", out, 8), XL_ERR_FORMAT);
    /* Characters outside the alphabet; the output is cleared. */
    static const char *bad[] = {"Hello orld", "Hello~orld", "Hello\"orld", "Hello'orld",
                                "Hello,orld", "Hello;orld", "Hello\\orld", "Hello_orld",
                                "Hello`orld", "Hello|orld", "Hello\torld", "Hell\xc3\xa9orld"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(out, 0xa5, 8);
        assert_int_equal(xl_z85_decode(bad[i], out, 8), XL_ERR_FORMAT);
        assert_memory_equal(out, s_zero, 8);
    }
    /* "%nSc0" is 2^32 - 1, the largest value of a group; "%nSc1" overflows. */
    assert_int_equal(xl_z85_decode("%nSc0", out, 4), 0);
    assert_memory_equal(out, "\xff\xff\xff\xff", 4);
    assert_int_equal(xl_z85_decode("%nSc1", out, 4), XL_ERR_FORMAT);
    assert_int_equal(xl_z85_decode("#####", out, 4), XL_ERR_FORMAT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hmac_parts),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_kdf_vectors),
        cmocka_unit_test(test_kdf_properties),
        cmocka_unit_test(test_secret_check_vectors),
        cmocka_unit_test(test_token_vectors),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_box_public),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_key_id),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_z85),
    };

    return cmocka_run_group_tests_name("crypto", tests, s_group_setup, NULL);
}
