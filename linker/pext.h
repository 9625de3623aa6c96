/* pext: the bits of x under mask, packed at the bottom in their order (the
 * LSH bands' keys, candidates.c). The processor's instruction where it has one
 * (BMI2); the same result by hand where not. */
#ifndef LINKER_PEXT_H
#define LINKER_PEXT_H

#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

static inline uint64_t
linker_pext_portable(uint64_t x, uint64_t mask)
{
    uint64_t r = 0;

    for (unsigned i = 0; mask != 0; i++, mask &= mask - 1)
        r |= (x >> __builtin_ctzll(mask) & 1) << i;
    return r;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define LINKER_HAVE_PEXT_BMI2 1
__attribute__((target("bmi2"))) static inline uint64_t
linker_pext_bmi2(uint64_t x, uint64_t mask)
{
    return _pext_u64(x, mask);
}
#endif

#endif
