/* Unit tests for common/merkle.c: the published RFC 6962/9162 test vectors of
 * the certificate-transparency implementations, a comparison with a literal
 * transcription of the RFC's recursive definitions, and exhaustive checks that
 * every proof of every tree up to 64 leaves verifies and that any change to a
 * proof, index, size or root is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/merkle.h"

/* ---- published vectors ------------------------------------------------------
 * From github.com/transparency-dev/merkle (commit 417fb0c3), which carries the
 * vectors of the original certificate-transparency C++ and Go test suites:
 * the leaf inputs, node hashes and roots from testonly/constants.go, the
 * inclusion paths and consistency proofs from cmd/proofgen/main.go. There the
 * inclusion vectors number leaves from 1; below they are converted to the
 * 0-based index of RFC 9162. */

static const char *const s_inputs_hex[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

/* Leaf hashes, level 0 of NodeHashes(). */
static const char *const s_leaf_hex[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};

/* RootHashes(): the roots of the first 0..8 leaves. */
static const char *const s_root_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct s_vec {
    uint64_t a, b; /* inclusion: leaf index (0-based), tree size; consistency: m, n */
    size_t n;
    const char *hex[3];
};

static const struct s_vec s_inclusion[] = {
    {0, 1, 0, {NULL}},
    {0,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct s_vec s_consistency[] = {
    {1, 1, 0, {NULL}},
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

#define MAXN 64 /* exhaustive tests: every tree up to this many leaves */

static uint8_t s_vleaf[8][XL_HASH_BYTES];       /* leaf hashes of the vectors' tree */
static uint8_t s_leaf[MAXN + 1][XL_HASH_BYTES]; /* leaf hashes of a larger tree */
static uint8_t s_root[MAXN + 2][XL_HASH_BYTES]; /* its roots by size */

static void
s_unhex(const char *hex, uint8_t out[XL_HASH_BYTES])
{
    assert_int_equal(xl_unhex(hex, out, XL_HASH_BYTES), 0);
}

static void
s_proof_from(const struct s_vec *v, struct xl_merkle_proof *p)
{
    memset(p, 0, sizeof *p);
    p->n = v->n;
    for (size_t i = 0; i < v->n; i++)
        s_unhex(v->hex[i], p->hash[i]);
}

/* ---- the RFC's definitions, transcribed literally ---------------------------- */

static uint64_t
s_ref_k(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void
s_ref_mth(const uint8_t (*d)[XL_HASH_BYTES], uint64_t n, uint8_t out[XL_HASH_BYTES])
{
    uint8_t l[XL_HASH_BYTES], r[XL_HASH_BYTES];
    uint64_t k;

    if (n == 0) {
        xl_sha256("", 0, out);
        return;
    }
    if (n == 1) {
        memcpy(out, d[0], XL_HASH_BYTES);
        return;
    }
    k = s_ref_k(n);
    s_ref_mth(d, k, l);
    s_ref_mth(d + k, n - k, r);
    xl_merkle_node_hash(l, r, out);
}

/* PATH(m, D[n]) */
static void
s_ref_path(uint64_t m, const uint8_t (*d)[XL_HASH_BYTES], uint64_t n, struct xl_merkle_proof *p)
{
    uint64_t k;

    if (n == 1)
        return;
    k = s_ref_k(n);
    if (m < k) {
        s_ref_path(m, d, k, p);
        s_ref_mth(d + k, n - k, p->hash[p->n++]);
    } else {
        s_ref_path(m - k, d + k, n - k, p);
        s_ref_mth(d, k, p->hash[p->n++]);
    }
}

/* SUBPROOF(m, D[n], b) */
static void
s_ref_subproof(uint64_t m, const uint8_t (*d)[XL_HASH_BYTES], uint64_t n, int b,
               struct xl_merkle_proof *p)
{
    uint64_t k;

    if (m == n) {
        if (!b)
            s_ref_mth(d, n, p->hash[p->n++]);
        return;
    }
    k = s_ref_k(n);
    if (m <= k) {
        s_ref_subproof(m, d, k, b, p);
        s_ref_mth(d + k, n - k, p->hash[p->n++]);
    } else {
        s_ref_subproof(m - k, d + k, n - k, 0, p);
        s_ref_mth(d, k, p->hash[p->n++]);
    }
}

/* ---- setup --------------------------------------------------------------- */

static int
s_group_setup(void **state)
{
    struct xl_merkle_builder b;

    if (xl_crypto_init() != 0)
        return -1;
    for (int i = 0; i < 8; i++) {
        uint8_t in[16];
        size_t len = strlen(s_inputs_hex[i]) / 2;
        if (xl_unhex(s_inputs_hex[i], in, len) != 0)
            return -1;
        xl_merkle_leaf_hash(in, len, s_vleaf[i]);
    }
    /* The larger tree: the eight vector leaves, then entries "entry 8"... */
    xl_merkle_builder_init(&b);
    xl_merkle_builder_root(&b, s_root[0]);
    for (int i = 0; i <= MAXN; i++) {
        if (i < 8) {
            memcpy(s_leaf[i], s_vleaf[i], XL_HASH_BYTES);
        } else {
            char e[32];
            int len = snprintf(e, sizeof e, "entry %d", i);
            xl_merkle_leaf_hash(e, (size_t)len, s_leaf[i]);
        }
        if (xl_merkle_builder_append(&b, s_leaf[i]) != 0)
            return -1;
        xl_merkle_builder_root(&b, s_root[i + 1]);
    }
    return 0;
}

/* ---- tests against the published vectors --------------------------------- */

static void
test_hashes(void **state)
{
    uint8_t want[XL_HASH_BYTES], got[XL_HASH_BYTES];

    for (int i = 0; i < 8; i++) {
        s_unhex(s_leaf_hex[i], want);
        assert_memory_equal(s_vleaf[i], want, XL_HASH_BYTES);
    }
    s_unhex(s_root_hex[0], want);
    xl_merkle_empty_root(got);
    assert_memory_equal(got, want, XL_HASH_BYTES);
    /* Domain separation: a node is not the leaf of its own bytes. */
    uint8_t two[2 * XL_HASH_BYTES];
    memcpy(two, s_vleaf[0], XL_HASH_BYTES);
    memcpy(two + XL_HASH_BYTES, s_vleaf[1], XL_HASH_BYTES);
    xl_merkle_leaf_hash(two, sizeof two, want);
    xl_merkle_node_hash(s_vleaf[0], s_vleaf[1], got);
    assert_memory_not_equal(got, want, XL_HASH_BYTES);
}

static void
test_roots(void **state)
{
    struct xl_merkle_leaves lv = {s_vleaf, 8};
    struct xl_merkle_builder b;
    uint8_t want[XL_HASH_BYTES], got[XL_HASH_BYTES];

    xl_merkle_builder_init(&b);
    for (uint64_t n = 0; n <= 8; n++) {
        s_unhex(s_root_hex[n], want);
        xl_merkle_builder_root(&b, got);
        assert_memory_equal(got, want, XL_HASH_BYTES);
        assert_int_equal(b.size, n);
        assert_int_equal(xl_merkle_root(n, xl_merkle_leaves_get, &lv, got, NULL, 0), 0);
        assert_memory_equal(got, want, XL_HASH_BYTES);
        if (n < 8)
            assert_int_equal(xl_merkle_builder_append(&b, s_vleaf[n]), 0);
    }
}

static void
test_inclusion_vectors(void **state)
{
    struct xl_merkle_leaves lv = {s_vleaf, 8};
    struct xl_merkle_proof want, got;
    uint8_t root[XL_HASH_BYTES];
    char err[XL_ERRBUF];

    for (size_t i = 0; i < sizeof s_inclusion / sizeof s_inclusion[0]; i++) {
        const struct s_vec *v = &s_inclusion[i];
        s_proof_from(v, &want);
        s_unhex(s_root_hex[v->b], root);
        assert_int_equal(
            xl_merkle_inclusion_proof(v->a, v->b, xl_merkle_leaves_get, &lv, &got, err, sizeof err),
            0);
        assert_int_equal(got.n, want.n);
        assert_memory_equal(&got, &want, sizeof got);
        assert_int_equal(
            xl_merkle_verify_inclusion(v->a, v->b, s_vleaf[v->a], &want, root, err, sizeof err), 0);
    }
}

static void
test_consistency_vectors(void **state)
{
    struct xl_merkle_leaves lv = {s_vleaf, 8};
    struct xl_merkle_proof want, got;
    uint8_t r1[XL_HASH_BYTES], r2[XL_HASH_BYTES];
    char err[XL_ERRBUF];

    for (size_t i = 0; i < sizeof s_consistency / sizeof s_consistency[0]; i++) {
        const struct s_vec *v = &s_consistency[i];
        s_proof_from(v, &want);
        s_unhex(s_root_hex[v->a], r1);
        s_unhex(s_root_hex[v->b], r2);
        assert_int_equal(xl_merkle_consistency_proof(v->a, v->b, xl_merkle_leaves_get, &lv, &got,
                                                     err, sizeof err),
                         0);
        assert_int_equal(got.n, want.n);
        assert_memory_equal(&got, &want, sizeof got);
        assert_int_equal(xl_merkle_verify_consistency(v->a, v->b, r1, r2, &want, err, sizeof err),
                         0);
    }
}

/* ---- the RFC's recursive definitions --------------------------------------- */

static void
test_reference(void **state)
{
    struct xl_merkle_leaves lv = {s_leaf, MAXN + 1};
    struct xl_merkle_proof want, got;
    uint8_t root[XL_HASH_BYTES];

    for (uint64_t n = 0; n <= MAXN + 1; n++) {
        s_ref_mth(s_leaf, n, root);
        assert_memory_equal(root, s_root[n], XL_HASH_BYTES);
    }
    for (uint64_t n = 1; n <= MAXN; n++) {
        for (uint64_t i = 0; i < n; i++) {
            memset(&want, 0, sizeof want);
            s_ref_path(i, s_leaf, n, &want);
            assert_int_equal(
                xl_merkle_inclusion_proof(i, n, xl_merkle_leaves_get, &lv, &got, NULL, 0), 0);
            assert_int_equal(got.n, want.n);
            assert_memory_equal(&got, &want, sizeof got);
        }
        for (uint64_t m = 1; m < n; m++) {
            memset(&want, 0, sizeof want);
            s_ref_subproof(m, s_leaf, n, 1, &want);
            assert_int_equal(
                xl_merkle_consistency_proof(m, n, xl_merkle_leaves_get, &lv, &got, NULL, 0), 0);
            assert_int_equal(got.n, want.n);
            assert_memory_equal(&got, &want, sizeof got);
        }
    }
}

/* A root over many leaves, by the builder and by the recursive definition. */
static void
test_builder_long(void **state)
{
    enum { N = 3000 };
    uint8_t(*d)[XL_HASH_BYTES] = malloc(N * sizeof *d);
    struct xl_merkle_builder b;
    uint8_t got[XL_HASH_BYTES], want[XL_HASH_BYTES];

    assert_non_null(d);
    xl_merkle_builder_init(&b);
    for (uint32_t i = 0; i < N; i++) {
        xl_merkle_leaf_hash(&i, sizeof i, d[i]);
        assert_int_equal(xl_merkle_builder_append(&b, d[i]), 0);
        if (i % 97 == 0 || i + 1 == N || ((i + 1) & i) == 0) {
            xl_merkle_builder_root(&b, got);
            s_ref_mth(d, i + 1, want);
            assert_memory_equal(got, want, XL_HASH_BYTES);
        }
    }
    /* At the limit the builder refuses another leaf and keeps its state. */
    b.size = XL_MERKLE_SIZE_MAX;
    assert_int_equal(xl_merkle_builder_append(&b, d[0]), XL_ERR_TOOBIG);
    assert_int_equal(b.size, XL_MERKLE_SIZE_MAX);
    free(d);
}

/* ---- exhaustive: every proof verifies, every change is refused ------------- */

static void
test_inclusion_exhaustive(void **state)
{
    struct xl_merkle_leaves lv = {s_leaf, MAXN + 1};
    struct xl_merkle_proof p, bad;
    uint8_t x[XL_HASH_BYTES];
    char err[XL_ERRBUF];

    for (uint64_t n = 1; n <= MAXN; n++) {
        for (uint64_t i = 0; i < n; i++) {
            assert_int_equal(
                xl_merkle_inclusion_proof(i, n, xl_merkle_leaves_get, &lv, &p, err, sizeof err), 0);
            assert_int_equal(
                xl_merkle_verify_inclusion(i, n, s_leaf[i], &p, s_root[n], err, sizeof err), 0);
            /* Any byte of any proof hash. */
            for (size_t h = 0; h < p.n; h++) {
                for (size_t j = 0; j < XL_HASH_BYTES; j++) {
                    bad = p;
                    bad.hash[h][j] ^= (uint8_t)(1u << (j % 8));
                    assert_int_equal(xl_merkle_verify_inclusion(i, n, s_leaf[i], &bad, s_root[n],
                                                                err, sizeof err),
                                     XL_ERR_CRYPTO);
                }
            }
            /* Another leaf at this index, or this leaf at another. */
            assert_int_equal(
                xl_merkle_verify_inclusion(i, n, s_leaf[i + 1], &p, s_root[n], err, sizeof err),
                XL_ERR_CRYPTO);
            for (uint64_t j = 0; j < n; j++) {
                if (j != i)
                    assert_int_equal(
                        xl_merkle_verify_inclusion(j, n, s_leaf[i], &p, s_root[n], err, sizeof err),
                        XL_ERR_CRYPTO);
            }
            assert_int_equal(
                xl_merkle_verify_inclusion(n, n, s_leaf[i], &p, s_root[n], err, sizeof err),
                XL_ERR_INVALID);
            /* Another tree: a wrong root, or another size with its root (a
             * size is only ever believed together with its root, from one
             * signed checkpoint; the path alone does not fix the size). */
            memcpy(x, s_root[n], XL_HASH_BYTES);
            x[n % XL_HASH_BYTES] ^= 0x80;
            assert_int_equal(xl_merkle_verify_inclusion(i, n, s_leaf[i], &p, x, err, sizeof err),
                             XL_ERR_CRYPTO);
            for (uint64_t s = i + 1; s <= MAXN + 1; s++) {
                if (s != n)
                    assert_int_equal(
                        xl_merkle_verify_inclusion(i, s, s_leaf[i], &p, s_root[s], err, sizeof err),
                        XL_ERR_CRYPTO);
            }
            /* A hash too few, a hash too many. */
            if (p.n > 0) {
                bad = p;
                bad.n--;
                assert_int_equal(
                    xl_merkle_verify_inclusion(i, n, s_leaf[i], &bad, s_root[n], err, sizeof err),
                    XL_ERR_CRYPTO);
            }
            bad = p;
            memcpy(bad.hash[bad.n++], s_root[n], XL_HASH_BYTES);
            assert_int_equal(
                xl_merkle_verify_inclusion(i, n, s_leaf[i], &bad, s_root[n], err, sizeof err),
                XL_ERR_CRYPTO);
        }
    }
}

static void
test_consistency_exhaustive(void **state)
{
    struct xl_merkle_leaves lv = {s_leaf, MAXN + 1};
    struct xl_merkle_proof p, bad;
    uint8_t x[XL_HASH_BYTES];
    char err[XL_ERRBUF];

    for (uint64_t n = 1; n <= MAXN; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            assert_int_equal(
                xl_merkle_consistency_proof(m, n, xl_merkle_leaves_get, &lv, &p, err, sizeof err),
                0);
            assert_int_equal(m == n, p.n == 0);
            assert_int_equal(
                xl_merkle_verify_consistency(m, n, s_root[m], s_root[n], &p, err, sizeof err), 0);
            for (size_t h = 0; h < p.n; h++) {
                for (size_t j = 0; j < XL_HASH_BYTES; j++) {
                    bad = p;
                    bad.hash[h][j] ^= (uint8_t)(1u << (j % 8));
                    assert_int_equal(xl_merkle_verify_consistency(m, n, s_root[m], s_root[n], &bad,
                                                                  err, sizeof err),
                                     XL_ERR_CRYPTO);
                }
            }
            /* Wrong roots: either one altered, or the two swapped. */
            memcpy(x, s_root[m], XL_HASH_BYTES);
            x[0] ^= 1;
            assert_int_equal(xl_merkle_verify_consistency(m, n, x, s_root[n], &p, err, sizeof err),
                             XL_ERR_CRYPTO);
            memcpy(x, s_root[n], XL_HASH_BYTES);
            x[XL_HASH_BYTES - 1] ^= 1;
            assert_int_equal(xl_merkle_verify_consistency(m, n, s_root[m], x, &p, err, sizeof err),
                             XL_ERR_CRYPTO);
            if (m != n)
                assert_int_equal(
                    xl_merkle_verify_consistency(m, n, s_root[n], s_root[m], &p, err, sizeof err),
                    XL_ERR_CRYPTO);
            /* Other sizes, each with its own root. */
            for (uint64_t s = 1; s <= n; s++) {
                if (s != m)
                    assert_int_equal(xl_merkle_verify_consistency(s, n, s_root[s], s_root[n], &p,
                                                                  err, sizeof err),
                                     XL_ERR_CRYPTO);
            }
            for (uint64_t s = m; s <= MAXN + 1; s++) {
                if (s != n)
                    assert_int_equal(xl_merkle_verify_consistency(m, s, s_root[m], s_root[s], &p,
                                                                  err, sizeof err),
                                     XL_ERR_CRYPTO);
            }
            /* A hash too few, a hash too many. */
            if (p.n > 0) {
                bad = p;
                bad.n--;
                assert_int_equal(
                    xl_merkle_verify_consistency(m, n, s_root[m], s_root[n], &bad, err, sizeof err),
                    XL_ERR_CRYPTO);
            }
            bad = p;
            memcpy(bad.hash[bad.n++], s_root[m], XL_HASH_BYTES);
            assert_int_equal(
                xl_merkle_verify_consistency(m, n, s_root[m], s_root[n], &bad, err, sizeof err),
                XL_ERR_CRYPTO);
        }
    }
}

/* ---- refusals ----------------------------------------------------------- */

static int
s_failing_leaf(void *ctx, uint64_t index, uint8_t out[XL_HASH_BYTES], char *err, size_t errlen)
{
    uint64_t *calls = ctx;

    if (++*calls == 3)
        return xl_err_set(err, errlen, XL_ERR_IO, "audit log: short read at leaf %llu",
                          (unsigned long long)index);
    memset(out, 0x5a, XL_HASH_BYTES);
    return 0;
}

/* Records the indices asked for: they must increase. */
struct s_order {
    uint64_t last, calls;
};

static int
s_ordered_leaf(void *ctx, uint64_t index, uint8_t out[XL_HASH_BYTES], char *err, size_t errlen)
{
    struct s_order *o = ctx;

    if (o->calls++ > 0 && index <= o->last)
        return XL_ERR_INTERNAL;
    o->last = index;
    memcpy(out, s_leaf[index], XL_HASH_BYTES);
    return 0;
}

static void
test_refusals(void **state)
{
    struct xl_merkle_leaves lv = {s_leaf, 10};
    struct xl_merkle_proof p, zero;
    uint8_t root[XL_HASH_BYTES], zroot[XL_HASH_BYTES] = {0};
    char err[XL_ERRBUF];
    uint64_t calls;

    memset(&zero, 0, sizeof zero);
    /* Sizes the RFC does not define a proof for. */
    assert_int_equal(
        xl_merkle_inclusion_proof(0, 0, xl_merkle_leaves_get, &lv, &p, err, sizeof err),
        XL_ERR_INVALID);
    assert_int_equal(
        xl_merkle_inclusion_proof(5, 5, xl_merkle_leaves_get, &lv, &p, err, sizeof err),
        XL_ERR_INVALID);
    assert_non_null(strstr(err, "no leaf 5 in a tree of 5"));
    assert_int_equal(
        xl_merkle_consistency_proof(0, 5, xl_merkle_leaves_get, &lv, &p, err, sizeof err),
        XL_ERR_INVALID);
    assert_int_equal(
        xl_merkle_consistency_proof(6, 5, xl_merkle_leaves_get, &lv, &p, err, sizeof err),
        XL_ERR_INVALID);
    assert_int_equal(xl_merkle_consistency_proof(1, XL_MERKLE_SIZE_MAX + 1, xl_merkle_leaves_get,
                                                 &lv, &p, err, sizeof err),
                     XL_ERR_INVALID);
    assert_int_equal(
        xl_merkle_root(XL_MERKLE_SIZE_MAX + 1, xl_merkle_leaves_get, &lv, root, err, sizeof err),
        XL_ERR_INVALID);
    assert_int_equal(xl_merkle_verify_inclusion(0, 0, s_leaf[0], &zero, s_root[0], err, sizeof err),
                     XL_ERR_INVALID);
    assert_int_equal(
        xl_merkle_verify_consistency(0, 0, s_root[0], s_root[0], &zero, err, sizeof err),
        XL_ERR_INVALID);
    assert_int_equal(
        xl_merkle_verify_consistency(0, 3, s_root[0], s_root[3], &zero, err, sizeof err),
        XL_ERR_INVALID);
    assert_int_equal(
        xl_merkle_verify_consistency(4, 3, s_root[4], s_root[3], &zero, err, sizeof err),
        XL_ERR_INVALID);
    /* m == n: empty proof and equal roots; an empty proof for m < n. */
    assert_int_equal(
        xl_merkle_verify_consistency(3, 3, s_root[3], s_root[3], &zero, err, sizeof err), 0);
    assert_int_equal(
        xl_merkle_verify_consistency(3, 3, s_root[3], s_root[4], &zero, err, sizeof err),
        XL_ERR_CRYPTO);
    assert_int_equal(
        xl_merkle_verify_consistency(3, 4, s_root[3], s_root[4], &zero, err, sizeof err),
        XL_ERR_CRYPTO);
    assert_non_null(strstr(err, "empty consistency proof from size 3 to 4"));
    /* A length no honest proof has is refused before it is read. */
    p = zero;
    p.n = XL_MERKLE_PROOF_MAX + 1;
    assert_int_equal(xl_merkle_verify_inclusion(0, 4, s_leaf[0], &p, s_root[4], err, sizeof err),
                     XL_ERR_INVALID);
    assert_int_equal(xl_merkle_verify_consistency(1, 4, s_root[1], s_root[4], &p, err, sizeof err),
                     XL_ERR_INVALID);
    p.n = (size_t)-1;
    assert_int_equal(xl_merkle_verify_consistency(2, 4, s_root[2], s_root[4], &p, err, sizeof err),
                     XL_ERR_INVALID);
    /* A proof that fails names what failed. */
    assert_int_equal(xl_merkle_inclusion_proof(2, 7, xl_merkle_leaves_get, &lv, &p, NULL, 0), 0);
    assert_int_equal(xl_merkle_verify_inclusion(2, 7, s_leaf[2], &p, zroot, err, sizeof err),
                     XL_ERR_CRYPTO);
    assert_non_null(strstr(err, "leaf 2 in a tree of 7 does not lead to the root"));
    assert_int_equal(xl_merkle_consistency_proof(3, 7, xl_merkle_leaves_get, &lv, &p, NULL, 0), 0);
    assert_int_equal(xl_merkle_verify_consistency(3, 7, s_root[3], zroot, &p, err, sizeof err),
                     XL_ERR_CRYPTO);
    assert_non_null(strstr(err, "from size 3 to 7 does not lead to the new root"));
    /* What the header warns of: the path does not fix the size, only the
     * root does, so a size must come with its root from one checkpoint. */
    assert_int_equal(xl_merkle_inclusion_proof(0, 3, xl_merkle_leaves_get, &lv, &p, NULL, 0), 0);
    assert_int_equal(xl_merkle_verify_inclusion(0, 4, s_leaf[0], &p, s_root[3], err, sizeof err),
                     0);
    assert_int_equal(xl_merkle_verify_inclusion(0, 4, s_leaf[0], &p, s_root[4], err, sizeof err),
                     XL_ERR_CRYPTO);
    /* The leaf source's error reaches the caller, with its message; no
     * partial proof or root is left behind. */
    calls = 0;
    memset(&p, 0xee, sizeof p);
    assert_int_equal(xl_merkle_inclusion_proof(0, 8, s_failing_leaf, &calls, &p, err, sizeof err),
                     XL_ERR_IO);
    assert_non_null(strstr(err, "short read"));
    assert_memory_equal(&p, &zero, sizeof p);
    calls = 0;
    assert_int_equal(xl_merkle_consistency_proof(3, 8, s_failing_leaf, &calls, &p, err, sizeof err),
                     XL_ERR_IO);
    assert_memory_equal(&p, &zero, sizeof p);
    calls = 0;
    memset(root, 0xee, sizeof root);
    assert_int_equal(xl_merkle_root(8, s_failing_leaf, &calls, root, err, sizeof err), XL_ERR_IO);
    assert_memory_equal(root, zroot, sizeof root);
    assert_int_equal(
        xl_merkle_inclusion_proof(3, 11, xl_merkle_leaves_get, &lv, &p, err, sizeof err),
        XL_ERR_INVALID);
    assert_non_null(strstr(err, "leaf 10 asked of 10 leaves"));
}

/* The generators read leaves in increasing order, so a log can be streamed. */
static void
test_leaf_order(void **state)
{
    struct xl_merkle_proof p;

    for (uint64_t n = 1; n <= MAXN; n++) {
        for (uint64_t i = 0; i < n; i++) {
            struct s_order o = {0, 0};
            assert_int_equal(xl_merkle_inclusion_proof(i, n, s_ordered_leaf, &o, &p, NULL, 0), 0);
            assert_int_equal(o.calls, n - 1);
            o = (struct s_order){0, 0};
            assert_int_equal(xl_merkle_consistency_proof(i + 1, n, s_ordered_leaf, &o, &p, NULL, 0),
                             0);
            assert_true(o.calls <= n);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_inclusion_vectors),
        cmocka_unit_test(test_consistency_vectors),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_builder_long),
        cmocka_unit_test(test_inclusion_exhaustive),
        cmocka_unit_test(test_consistency_exhaustive),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_leaf_order),
    };

    return cmocka_run_group_tests_name("merkle", tests, s_group_setup, NULL);
}
