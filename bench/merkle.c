/* Speed of the incremental Merkle tree (common/merkle.c), one thread: how fast
 * the root of a long audit log can be recomputed in one pass.
 *
 *   merkle [LEAVES]     (default 4000000)
 *
 * Prints leaves/s for appending ready leaf hashes, and for hashing 128-byte
 * entries into leaves and appending them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xl/crypto.h"
#include "xl/merkle.h"

static double
s_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000ULL;
    struct xl_merkle_builder b;
    uint8_t leaf[XL_HASH_BYTES], root[XL_HASH_BYTES], entry[128];
    char hex[2 * XL_HASH_BYTES + 1];
    double t;

    if (n == 0 || xl_crypto_init() != 0)
        return 1;
    memset(entry, 'e', sizeof entry);
    xl_merkle_leaf_hash(entry, sizeof entry, leaf);

    xl_merkle_builder_init(&b);
    t = s_now();
    for (unsigned long long i = 0; i < n; i++) {
        leaf[0] = (uint8_t)i;
        if (xl_merkle_builder_append(&b, leaf) != 0)
            return 1;
    }
    xl_merkle_builder_root(&b, root);
    t = s_now() - t;
    xl_hex(root, 8, hex);
    printf("merkle: %llu leaf hashes appended in %.2f s: %.0f leaves/s (root %s...)\n", n, t,
           (double)n / t, hex);

    xl_merkle_builder_init(&b);
    t = s_now();
    for (unsigned long long i = 0; i < n; i++) {
        memcpy(entry, &i, sizeof i);
        xl_merkle_leaf_hash(entry, sizeof entry, leaf);
        if (xl_merkle_builder_append(&b, leaf) != 0)
            return 1;
    }
    xl_merkle_builder_root(&b, root);
    t = s_now() - t;
    xl_hex(root, 8, hex);
    printf("merkle: %llu entries of %zu bytes hashed and appended in %.2f s: %.0f leaves/s "
           "(root %s...)\n",
           n, sizeof entry, t, (double)n / t, hex);
    return 0;
}
