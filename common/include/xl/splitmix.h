/* SplitMix64 (Steele, Lea and Flood): a tiny generator whose whole state is
 * one 64-bit word. The encoder draws a q-gram's bit positions and the flip
 * noise from it (a protocol detail, pinned by tests/vectors/encode.txt); the
 * linker draws its fixed random pairs and MinHash probe orders from it. */
#ifndef XL_SPLITMIX_H
#define XL_SPLITMIX_H

#include <stdint.h>

static inline uint64_t
xl_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
