/* Bloom-filter (CLK) comparison: the popcount of the AND of two filters, from
 * which the Dice coefficient 2|A & B| / (|A| + |B|) follows.
 *
 * Several kernels give identical counts: a portable one, one using the POPCNT
 * instruction, AVX2 (nibble lookup with PSHUFB) and AVX-512 VPOPCNTDQ. The best
 * one the CPU supports is chosen once at run time. Filters are arrays of
 * 64-bit words; a filter's length in words is a multiple of 8 (512 bits), which
 * every supported CLK size (a multiple of 64 bits, padded) meets after
 * linker_dice_words. */
#ifndef LINKER_DICE_H
#define LINKER_DICE_H

#include <stddef.h>
#include <stdint.h>

/* Words per filter for a CLK of nbytes, rounded up to a multiple of 8 words so
 * every kernel can run whole 512-bit steps (the padding words are zero). */
size_t linker_dice_words(size_t nbytes);

/* popcount(a AND b) over n words (n a multiple of 8). */
typedef uint32_t (*linker_and_count_fn)(const uint64_t *a, const uint64_t *b, size_t n);

enum linker_kernel {
    LINKER_KERNEL_PORTABLE,
    LINKER_KERNEL_POPCNT,
    LINKER_KERNEL_AVX2,
    LINKER_KERNEL_AVX512,
    LINKER_KERNEL_COUNT
};

/* popcount(q AND f[i]) for n filters f laid out one after another (each of
 * `words` words) into out[i]: one call per probe row, so the per-pair cost is
 * the arithmetic alone. */
typedef void (*linker_and_count_many_fn)(const uint64_t *q, const uint64_t *f, size_t n,
                                         size_t words, uint32_t *out);

/* The many-filter form of kernel k, or NULL when this CPU cannot run it. */
linker_and_count_many_fn linker_dice_kernel_many(enum linker_kernel k);
linker_and_count_many_fn linker_dice_best_many(const char **name);

/* The kernel k, or NULL when this CPU or build cannot run it. */
linker_and_count_fn linker_dice_kernel(enum linker_kernel k);
/* The fastest kernel this CPU runs, and its name in *name (may be NULL). */
linker_and_count_fn linker_dice_best(const char **name);
const char *linker_kernel_name(enum linker_kernel k);

/* popcount of one filter (portable; used once per record). */
uint32_t linker_popcount(const uint64_t *a, size_t n);

#endif
