#include <inttypes.h>
#include <string.h>

#include <openssl/sha.h>

#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/merkle.h"

/* SHA256_CTX is deprecated in OpenSSL 3, but the one-shot and EVP interfaces
 * look the digest up on every call, which costs more than the two compression
 * blocks of a node hash; rebuilding the root of a long audit log is nothing
 * but node hashes. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void
s_hash(uint8_t prefix, const void *a, size_t alen, const void *b, size_t blen,
       uint8_t out[XL_HASH_BYTES])
{
    SHA256_CTX c;

    SHA256_Init(&c);
    SHA256_Update(&c, &prefix, 1);
    if (alen > 0)
        SHA256_Update(&c, a, alen);
    if (blen > 0)
        SHA256_Update(&c, b, blen);
    SHA256_Final(out, &c);
}
#pragma GCC diagnostic pop

void
xl_merkle_leaf_hash(const void *entry, size_t len, uint8_t out[XL_HASH_BYTES])
{
    s_hash(0x00, entry, len, NULL, 0, out);
}

void
xl_merkle_node_hash(const uint8_t left[XL_HASH_BYTES], const uint8_t right[XL_HASH_BYTES],
                    uint8_t out[XL_HASH_BYTES])
{
    s_hash(0x01, left, XL_HASH_BYTES, right, XL_HASH_BYTES, out);
}

void
xl_merkle_empty_root(uint8_t out[XL_HASH_BYTES])
{
    xl_sha256("", 0, out);
}

/* ---- incremental tree ---------------------------------------------------- */

void
xl_merkle_builder_init(struct xl_merkle_builder *b)
{
    memset(b, 0, sizeof *b);
}

int
xl_merkle_builder_append(struct xl_merkle_builder *b, const uint8_t leaf[XL_HASH_BYTES])
{
    uint8_t h[XL_HASH_BYTES];
    unsigned depth = (unsigned)__builtin_popcountll(b->size);

    if (b->size >= XL_MERKLE_SIZE_MAX)
        return XL_ERR_TOOBIG;
    /* Each trailing one bit of size is a perfect subtree of the same height as
     * the one being carried: merge them, as in binary addition. */
    memcpy(h, leaf, XL_HASH_BYTES);
    for (uint64_t s = b->size; s & 1; s >>= 1)
        xl_merkle_node_hash(b->node[--depth], h, h);
    memcpy(b->node[depth], h, XL_HASH_BYTES);
    b->size++;
    return 0;
}

void
xl_merkle_builder_root(const struct xl_merkle_builder *b, uint8_t out[XL_HASH_BYTES])
{
    unsigned depth = (unsigned)__builtin_popcountll(b->size);

    if (depth == 0) {
        xl_merkle_empty_root(out);
        return;
    }
    /* The split point of MTH is the largest power of two below n, so the tree
     * is the subtrees of the set bits of n joined right to left. */
    memcpy(out, b->node[depth - 1], XL_HASH_BYTES);
    for (unsigned i = depth - 1; i-- > 0;)
        xl_merkle_node_hash(b->node[i], out, out);
}

/* ---- roots and proofs from leaf hashes ----------------------------------- */

int
xl_merkle_leaves_get(void *ctx, uint64_t index, uint8_t out[XL_HASH_BYTES], char *err,
                     size_t errlen)
{
    const struct xl_merkle_leaves *l = ctx;

    if (index >= l->n)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "merkle: leaf %" PRIu64 " asked of %" PRIu64 " leaves", index, l->n);
    memcpy(out, l->hash[index], XL_HASH_BYTES);
    return 0;
}

/* MTH of leaves [lo, hi), which is the MTH of that list on its own. */
static int
s_range_root(uint64_t lo, uint64_t hi, xl_merkle_leaf_fn leaf, void *ctx,
             uint8_t out[XL_HASH_BYTES], char *err, size_t errlen)
{
    struct xl_merkle_builder b;
    uint8_t h[XL_HASH_BYTES];
    int r;

    xl_merkle_builder_init(&b);
    for (uint64_t i = lo; i < hi; i++) {
        r = leaf(ctx, i, h, err, errlen);
        if (r == 0)
            r = xl_merkle_builder_append(&b, h);
        if (r != 0)
            return r;
    }
    xl_merkle_builder_root(&b, out);
    return 0;
}

int
xl_merkle_root(uint64_t size, xl_merkle_leaf_fn leaf, void *ctx, uint8_t out[XL_HASH_BYTES],
               char *err, size_t errlen)
{
    int r;

    memset(out, 0, XL_HASH_BYTES);
    if (size > XL_MERKLE_SIZE_MAX)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "merkle: tree size %" PRIu64 " over the limit", size);
    r = s_range_root(0, size, leaf, ctx, out, err, errlen);
    if (r != 0)
        memset(out, 0, XL_HASH_BYTES);
    return r;
}

/* The largest power of two below n (n >= 2): the split point k of RFC 9162. */
static uint64_t
s_split(uint64_t n)
{
    return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

/* The subtrees whose roots make up a proof, as ranges of leaves: proof hash i
 * is the root of leaves [lo[i], hi[i]). */
struct s_ranges {
    size_t n;
    uint64_t lo[XL_MERKLE_PROOF_MAX], hi[XL_MERKLE_PROOF_MAX];
};

static void
s_ranges_add(struct s_ranges *rg, uint64_t lo, uint64_t hi)
{
    rg->lo[rg->n] = lo;
    rg->hi[rg->n] = hi;
    rg->n++;
}

/* Fills proof with the roots of the ranges, found top down, so in reverse of
 * the RFC's order. The ranges are disjoint; they are hashed in increasing order
 * of their first leaf so that leaf is called with increasing indices. */
static int
s_ranges_hash(const struct s_ranges *rg, xl_merkle_leaf_fn leaf, void *ctx,
              struct xl_merkle_proof *proof, char *err, size_t errlen)
{
    int done[XL_MERKLE_PROOF_MAX] = {0};
    int r;

    for (size_t k = 0; k < rg->n; k++) {
        size_t next = rg->n;
        for (size_t i = 0; i < rg->n; i++) {
            if (!done[i] && (next == rg->n || rg->lo[i] < rg->lo[next]))
                next = i;
        }
        done[next] = 1;
        r = s_range_root(rg->lo[next], rg->hi[next], leaf, ctx, proof->hash[rg->n - 1 - next], err,
                         errlen);
        if (r != 0)
            return r;
    }
    proof->n = rg->n;
    return 0;
}

int
xl_merkle_inclusion_proof(uint64_t index, uint64_t size, xl_merkle_leaf_fn leaf, void *ctx,
                          struct xl_merkle_proof *proof, char *err, size_t errlen)
{
    struct s_ranges rg = {0};
    uint64_t lo = 0, hi = size;
    int r;

    memset(proof, 0, sizeof *proof);
    if (size > XL_MERKLE_SIZE_MAX || index >= size)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "merkle: no leaf %" PRIu64 " in a tree of %" PRIu64, index, size);
    /* PATH(m, D[n]): the sibling subtree at each split on the way down. */
    while (hi - lo > 1) {
        uint64_t k = s_split(hi - lo);
        if (index < lo + k) {
            s_ranges_add(&rg, lo + k, hi);
            hi = lo + k;
        } else {
            s_ranges_add(&rg, lo, lo + k);
            lo += k;
        }
    }
    r = s_ranges_hash(&rg, leaf, ctx, proof, err, errlen);
    if (r != 0)
        memset(proof, 0, sizeof *proof);
    return r;
}

int
xl_merkle_consistency_proof(uint64_t m, uint64_t n, xl_merkle_leaf_fn leaf, void *ctx,
                            struct xl_merkle_proof *proof, char *err, size_t errlen)
{
    struct s_ranges rg = {0};
    uint64_t lo = 0, hi = n;
    int whole = 1; /* the b of SUBPROOF: [lo, m) is still a tree the verifier has */
    int r;

    memset(proof, 0, sizeof *proof);
    if (n > XL_MERKLE_SIZE_MAX || m == 0 || m > n)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "merkle: no consistency proof from size %" PRIu64 " to %" PRIu64, m, n);
    if (m == n)
        return 0;
    /* SUBPROOF(m, D[n], true), unrolled. */
    for (;;) {
        uint64_t k;
        if (m == hi) {
            if (!whole)
                s_ranges_add(&rg, lo, hi);
            break;
        }
        k = s_split(hi - lo);
        if (m - lo <= k) {
            s_ranges_add(&rg, lo + k, hi);
            hi = lo + k;
        } else {
            s_ranges_add(&rg, lo, lo + k);
            lo += k;
            whole = 0;
        }
    }
    r = s_ranges_hash(&rg, leaf, ctx, proof, err, errlen);
    if (r != 0)
        memset(proof, 0, sizeof *proof);
    return r;
}

/* ---- verification --------------------------------------------------------- */

int
xl_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[XL_HASH_BYTES],
                           const struct xl_merkle_proof *proof, const uint8_t root[XL_HASH_BYTES],
                           char *err, size_t errlen)
{
    uint8_t r[XL_HASH_BYTES];
    uint64_t fn = index, sn;

    if (size > XL_MERKLE_SIZE_MAX || index >= size)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "merkle: no leaf %" PRIu64 " in a tree of %" PRIu64, index, size);
    if (proof->n > XL_MERKLE_PROOF_MAX)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "merkle: inclusion proof of %zu hashes, over %d", proof->n,
                          XL_MERKLE_PROOF_MAX);
    /* RFC 9162 2.1.3.2, step by step. */
    sn = size - 1;
    memcpy(r, leaf, XL_HASH_BYTES);
    for (size_t i = 0; i < proof->n; i++) {
        if (sn == 0)
            return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                              "merkle: inclusion proof of leaf %" PRIu64 " in a tree of %" PRIu64
                              " is too long (%zu hashes)",
                              index, size, proof->n);
        if ((fn & 1) || fn == sn) {
            xl_merkle_node_hash(proof->hash[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            xl_merkle_node_hash(r, proof->hash[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "merkle: inclusion proof of leaf %" PRIu64 " in a tree of %" PRIu64
                          " is too short (%zu hashes)",
                          index, size, proof->n);
    if (!xl_equal(r, root, XL_HASH_BYTES))
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "merkle: inclusion proof of leaf %" PRIu64 " in a tree of %" PRIu64
                          " does not lead to the root",
                          index, size);
    return 0;
}

int
xl_merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root_m[XL_HASH_BYTES],
                             const uint8_t root_n[XL_HASH_BYTES],
                             const struct xl_merkle_proof *proof, char *err, size_t errlen)
{
    uint8_t fr[XL_HASH_BYTES], sr[XL_HASH_BYTES];
    uint64_t fn, sn;
    size_t i = 0;

    if (n > XL_MERKLE_SIZE_MAX || m == 0 || m > n)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "merkle: no consistency proof from size %" PRIu64 " to %" PRIu64, m, n);
    if (proof->n > XL_MERKLE_PROOF_MAX)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "merkle: consistency proof of %zu hashes, over %d", proof->n,
                          XL_MERKLE_PROOF_MAX);
    if (m == n) {
        if (proof->n != 0)
            return xl_err_set(
                err, errlen, XL_ERR_CRYPTO,
                "merkle: consistency proof between equal sizes %" PRIu64 " is not empty", m);
        if (!xl_equal(root_m, root_n, XL_HASH_BYTES))
            return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                              "merkle: two trees of size %" PRIu64 " with different roots", m);
        return 0;
    }
    /* RFC 9162 2.1.4.2, step by step. */
    if (proof->n == 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "merkle: empty consistency proof from size %" PRIu64 " to %" PRIu64, m,
                          n);
    /* Step 2: when m is a power of two the old tree is itself a subtree of
     * the new, and its root stands first in the path instead of proof[0]. */
    if ((m & (m - 1)) == 0) {
        memcpy(fr, root_m, XL_HASH_BYTES);
    } else {
        memcpy(fr, proof->hash[0], XL_HASH_BYTES);
        i = 1;
    }
    memcpy(sr, fr, XL_HASH_BYTES);
    fn = m - 1;
    sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < proof->n; i++) {
        const uint8_t *c = proof->hash[i];
        if (sn == 0)
            return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                              "merkle: consistency proof from size %" PRIu64 " to %" PRIu64
                              " is too long (%zu hashes)",
                              m, n, proof->n);
        if ((fn & 1) || fn == sn) {
            xl_merkle_node_hash(c, fr, fr);
            xl_merkle_node_hash(c, sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            xl_merkle_node_hash(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "merkle: consistency proof from size %" PRIu64 " to %" PRIu64
                          " is too short (%zu hashes)",
                          m, n, proof->n);
    if (!xl_equal(fr, root_m, XL_HASH_BYTES))
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "merkle: consistency proof from size %" PRIu64 " to %" PRIu64
                          " does not lead to the old root",
                          m, n);
    if (!xl_equal(sr, root_n, XL_HASH_BYTES))
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "merkle: consistency proof from size %" PRIu64 " to %" PRIu64
                          " does not lead to the new root",
                          m, n);
    return 0;
}
