/* Stable LSD radix sorts of 64-bit keys, generated for each type of element
 * that carries one (the candidates' keys and pairs, candidates.c). */
#ifndef LINKER_RADIX_H
#define LINKER_RADIX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 11 bits a pass over a large array: 2048 counters and write streams stay in
 * the cache and in the TLB, where 16-bit digits spend the time missing both. */
#define LINKER_DIGIT 11
#define LINKER_RADIX (1u << LINKER_DIGIT)

/* Below this many values, a sort's passes run over the whole array. */
#define LINKER_SPLIT_MIN (1u << 16)
/* The digit of the passes within a part: its 256 counters stay in the cache
 * with the part. */
#define LINKER_PART_DIGIT 8

/* Two stable radix sorts for each type of element T whose key is KEY(x), a
 * 64-bit value:
 * A pass may look at up to a digit of the bits above `to`: the callers keep
 * those equal (or zero) across the array.
 *  - NAME_lsd(a, tmp, n, from, to, digit): passes of `digit` bits (at most
 *    LINKER_DIGIT) over bits [from, to) of the keys, into tmp and back; returns
 *    where the values ended (a or tmp);
 *  - NAME(a, tmp, n, from, to): the same, but a large array is first split
 *    by its top LINKER_DIGIT bits (one pass over memory), then each part, a few
 *    kilobytes, sorted by the rest in passes that stay in the cache: passes
 *    over the whole array each went to memory and back, a tenth of the
 *    link's time. Every part takes the same passes, so all end in the same
 *    array. */
#define LINKER_RADIX_SORTS(NAME, T, KEY)                                                           \
    static inline T *NAME##_lsd(T *a, T *tmp, size_t n, int from, int to, int digit)               \
    {                                                                                              \
        size_t cnt[LINKER_RADIX + 1], radix = (size_t)1 << digit;                                  \
        for (int shift = from; shift < to; shift += digit) {                                       \
            T *t;                                                                                  \
            memset(cnt, 0, (radix + 1) * sizeof *cnt);                                             \
            for (size_t i = 0; i < n; i++)                                                         \
                cnt[((KEY(a[i]) >> shift) & (radix - 1)) + 1]++;                                   \
            for (size_t i = 0; i < radix; i++)                                                     \
                cnt[i + 1] += cnt[i];                                                              \
            for (size_t i = 0; i < n; i++)                                                         \
                tmp[cnt[(KEY(a[i]) >> shift) & (radix - 1)]++] = a[i];                             \
            t = a;                                                                                 \
            a = tmp;                                                                               \
            tmp = t;                                                                               \
        }                                                                                          \
        return a;                                                                                  \
    }                                                                                              \
    static inline T *NAME(T *a, T *tmp, size_t n, int from, int to)                                \
    {                                                                                              \
        size_t cnt[LINKER_RADIX + 1], at[LINKER_RADIX];                                            \
        int top = to - LINKER_DIGIT,                                                               \
            passes = (top - from + LINKER_PART_DIGIT - 1) / LINKER_PART_DIGIT;                     \
        if (n < LINKER_SPLIT_MIN || top - from <= 0)                                               \
            return NAME##_lsd(a, tmp, n, from, to, LINKER_DIGIT);                                  \
        memset(cnt, 0, sizeof cnt);                                                                \
        for (size_t i = 0; i < n; i++)                                                             \
            cnt[(KEY(a[i]) >> top & (LINKER_RADIX - 1)) + 1]++;                                    \
        for (size_t i = 0; i < LINKER_RADIX; i++)                                                  \
            cnt[i + 1] += cnt[i];                                                                  \
        memcpy(at, cnt, sizeof at);                                                                \
        for (size_t i = 0; i < n; i++)                                                             \
            tmp[at[KEY(a[i]) >> top & (LINKER_RADIX - 1)]++] = a[i];                               \
        for (size_t k = 0; k < LINKER_RADIX; k++)                                                  \
            NAME##_lsd(tmp + cnt[k], a + cnt[k], cnt[k + 1] - cnt[k], from, top,                   \
                       LINKER_PART_DIGIT);                                                         \
        return passes % 2 ? a : tmp;                                                               \
    }

#endif
