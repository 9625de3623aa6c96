/* The Merkle tree of RFC 9162 (Certificate Transparency 2.0) section 2.1, with
 * SHA-256: the groundwork for signed checkpoints of the audit log.
 *
 *   leaf hash   SHA-256(0x00 || entry)
 *   node hash   SHA-256(0x01 || left || right)
 *   MTH({})     SHA-256("")
 *   MTH(D[n])   node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * Nothing here allocates: builders and proofs are fixed-size structs the caller
 * owns (on the stack or inside its own structs), so there is nothing to free,
 * and a proof from a peer can never make this module allocate. Trees hold at
 * most XL_MERKLE_SIZE_MAX leaves, which bounds every proof by
 * XL_MERKLE_PROOF_MAX hashes.
 *
 * Functions return 0 or a negative XL_ERR_* code; a message for a person goes
 * into err (errlen bytes, may be NULL). Output parameters are cleared first, so
 * on failure they hold no partial result. */
#ifndef XL_MERKLE_H
#define XL_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "xl/crypto.h"

/* 2^63 leaves: an inclusion path is then at most 63 hashes and a consistency
 * proof at most 64. */
#define XL_MERKLE_SIZE_MAX  (UINT64_C(1) << 63)
#define XL_MERKLE_PROOF_MAX 64

/* An inclusion path or a consistency proof, in the order of RFC 9162 (the
 * hash nearest the leaves first). A proof received from a peer is copied into
 * one of these; n above XL_MERKLE_PROOF_MAX is refused by the verifiers. */
struct xl_merkle_proof {
    size_t n;
    uint8_t hash[XL_MERKLE_PROOF_MAX][XL_HASH_BYTES];
};

/* The leaf hash of an entry, SHA-256(0x00 || entry). */
void xl_merkle_leaf_hash(const void *entry, size_t len, uint8_t out[XL_HASH_BYTES]);

/* The hash of an interior node, SHA-256(0x01 || left || right). */
void xl_merkle_node_hash(const uint8_t left[XL_HASH_BYTES], const uint8_t right[XL_HASH_BYTES],
                         uint8_t out[XL_HASH_BYTES]);

/* The root of the empty tree, SHA-256 of the empty string. */
void xl_merkle_empty_root(uint8_t out[XL_HASH_BYTES]);

/* An incremental tree: leaf hashes are appended one at a time and the root of
 * the leaves so far is available at any moment, in O(log n) memory (the roots
 * of the perfect subtrees the leaves form, one per set bit of size, largest
 * first: the "compact range" from 0 to size). So the root of millions of audit
 * entries is recomputed in one pass without holding them. Read size; treat the
 * rest as opaque. */
struct xl_merkle_builder {
    uint64_t size;                   /* leaves appended */
    uint8_t node[64][XL_HASH_BYTES]; /* subtree roots, popcount(size) of them */
};

void xl_merkle_builder_init(struct xl_merkle_builder *b);

/* Appends one leaf hash (xl_merkle_leaf_hash of the entry). 0, or
 * XL_ERR_TOOBIG once the tree holds XL_MERKLE_SIZE_MAX leaves. */
int xl_merkle_builder_append(struct xl_merkle_builder *b, const uint8_t leaf[XL_HASH_BYTES]);

/* The root of the leaves appended so far (the empty root for none). */
void xl_merkle_builder_root(const struct xl_merkle_builder *b, uint8_t out[XL_HASH_BYTES]);

/* Where proof generation gets leaf hashes: writes the hash of leaf index into
 * out and returns 0, or a negative XL_ERR_* (with a message in err), which the
 * caller of the generator receives unchanged. The generators ask for leaves in
 * increasing order of index and for each at most once, so a reader of the
 * audit log can stream them from the start of the file. */
typedef int (*xl_merkle_leaf_fn)(void *ctx, uint64_t index, uint8_t out[XL_HASH_BYTES], char *err,
                                 size_t errlen);

/* A ready-made xl_merkle_leaf_fn for leaf hashes held in memory: ctx points to
 * a struct xl_merkle_leaves. An index past n gives XL_ERR_INVALID. */
struct xl_merkle_leaves {
    const uint8_t (*hash)[XL_HASH_BYTES];
    uint64_t n;
};
int xl_merkle_leaves_get(void *ctx, uint64_t index, uint8_t out[XL_HASH_BYTES], char *err,
                         size_t errlen);

/* MTH of the first size leaves. 0, XL_ERR_INVALID for a size over
 * XL_MERKLE_SIZE_MAX, or the error of leaf. */
int xl_merkle_root(uint64_t size, xl_merkle_leaf_fn leaf, void *ctx, uint8_t out[XL_HASH_BYTES],
                   char *err, size_t errlen);

/* The inclusion path of leaf index in the tree of the first size leaves
 * (RFC 9162 2.1.3.1). Reads every leaf below size except index: O(size)
 * hashing, O(log size) memory. 0; XL_ERR_INVALID when index >= size or size is
 * over XL_MERKLE_SIZE_MAX; or the error of leaf. */
int xl_merkle_inclusion_proof(uint64_t index, uint64_t size, xl_merkle_leaf_fn leaf, void *ctx,
                              struct xl_merkle_proof *proof, char *err, size_t errlen);

/* Checks an inclusion path with the algorithm of RFC 9162 2.1.3.2. 0 when
 * proof shows leaf is leaf index of the tree of size leaves whose root is
 * root; XL_ERR_INVALID when index >= size, size is over XL_MERKLE_SIZE_MAX or
 * proof->n over XL_MERKLE_PROOF_MAX; XL_ERR_CRYPTO when the proof does not
 * verify. The path binds the leaf, its index and the root, not the size: the
 * path of leaf 0 of 3 leaves also verifies as leaf 0 of 4 against the same
 * root. So take size and root together from one signed checkpoint, never a
 * size from the peer that sends the proof. */
int xl_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[XL_HASH_BYTES],
                               const struct xl_merkle_proof *proof,
                               const uint8_t root[XL_HASH_BYTES], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The consistency proof between the tree of the first m leaves and that of
 * the first n (RFC 9162 2.1.4.1, SUBPROOF); empty when m == n. Reads at most the
 * first n leaves: O(n) hashing, O(log n) memory. 0; XL_ERR_INVALID when m is 0
 * (the empty tree is consistent with every tree: there is nothing to prove),
 * m > n or n is over XL_MERKLE_SIZE_MAX; or the error of leaf. */
int xl_merkle_consistency_proof(uint64_t m, uint64_t n, xl_merkle_leaf_fn leaf, void *ctx,
                                struct xl_merkle_proof *proof, char *err, size_t errlen);

/* Checks a consistency proof with the algorithm of RFC 9162 2.1.4.2: 0 when
 * proof shows the tree of n leaves with root root_n extends the tree of m
 * leaves with root root_m. When m == n the proof must be empty and the roots
 * equal. XL_ERR_INVALID when m is 0, m > n, n is over XL_MERKLE_SIZE_MAX or
 * proof->n over XL_MERKLE_PROOF_MAX; XL_ERR_CRYPTO when the proof does not
 * verify. */
int xl_merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root_m[XL_HASH_BYTES],
                                 const uint8_t root_n[XL_HASH_BYTES],
                                 const struct xl_merkle_proof *proof, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
