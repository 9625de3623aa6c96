#include <immintrin.h>

#include "dice.h"

size_t
linker_dice_words(size_t nbytes)
{
    size_t words = (nbytes + 7) / 8;

    return (words + 7) / 8 * 8;
}

/* Bit-twiddling popcount: no instruction the CPU might lack. */
static inline uint32_t
s_pop64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (uint32_t)((x * 0x0101010101010101ull) >> 56);
}

uint32_t
linker_popcount(const uint64_t *a, size_t n)
{
    uint32_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += s_pop64(a[i]);
    return c;
}

static uint32_t
s_portable(const uint64_t *a, const uint64_t *b, size_t n)
{
    uint32_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += s_pop64(a[i] & b[i]);
    return c;
}

__attribute__((target("popcnt"))) static uint32_t
s_popcnt(const uint64_t *a, const uint64_t *b, size_t n)
{
    uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;

    /* Four accumulators so the additions do not serialise on one register. */
    for (size_t i = 0; i < n; i += 4) {
        c0 += (uint64_t)__builtin_popcountll(a[i] & b[i]);
        c1 += (uint64_t)__builtin_popcountll(a[i + 1] & b[i + 1]);
        c2 += (uint64_t)__builtin_popcountll(a[i + 2] & b[i + 2]);
        c3 += (uint64_t)__builtin_popcountll(a[i + 3] & b[i + 3]);
    }
    return (uint32_t)(c0 + c1 + c2 + c3);
}

/* AVX2: popcount of each byte by nibble lookup (PSHUFB), summed with SAD. */
__attribute__((target("avx2"))) static uint32_t
s_avx2(const uint64_t *a, const uint64_t *b, size_t n)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                         1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i acc = _mm256_setzero_si256();

    for (size_t i = 0; i < n; i += 8) {
        __m256i x0 = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + i)),
                                      _mm256_loadu_si256((const __m256i *)(b + i)));
        __m256i x1 = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + i + 4)),
                                      _mm256_loadu_si256((const __m256i *)(b + i + 4)));
        __m256i p0 = _mm256_add_epi8(
            _mm256_shuffle_epi8(lut, _mm256_and_si256(x0, low)),
            _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x0, 4), low)));
        __m256i p1 = _mm256_add_epi8(
            _mm256_shuffle_epi8(lut, _mm256_and_si256(x1, low)),
            _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x1, 4), low)));
        /* At most 16 per byte from two halves: no overflow before the SAD. */
        acc =
            _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_add_epi8(p0, p1), _mm256_setzero_si256()));
    }
    return (uint32_t)(_mm256_extract_epi64(acc, 0) + _mm256_extract_epi64(acc, 1) +
                      _mm256_extract_epi64(acc, 2) + _mm256_extract_epi64(acc, 3));
}

__attribute__((target("avx512f,avx512vpopcntdq"))) static uint32_t
s_avx512(const uint64_t *a, const uint64_t *b, size_t n)
{
    __m512i acc = _mm512_setzero_si512();

    for (size_t i = 0; i < n; i += 8) {
        __m512i x = _mm512_and_si512(_mm512_loadu_si512((const void *)(a + i)),
                                     _mm512_loadu_si512((const void *)(b + i)));
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
    }
    return (uint32_t)_mm512_reduce_add_epi64(acc);
}

/* The many-filter forms: the same arithmetic, the loop over filters inside the
 * target-specific function so the compiler can keep everything in registers. */
static void
s_portable_many(const uint64_t *q, const uint64_t *f, size_t n, size_t words, uint32_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = s_portable(q, f + i * words, words);
}

__attribute__((target("popcnt"))) static void
s_popcnt_many(const uint64_t *q, const uint64_t *f, size_t n, size_t words, uint32_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = s_popcnt(q, f + i * words, words);
}

__attribute__((target("avx2"))) static void
s_avx2_many(const uint64_t *q, const uint64_t *f, size_t n, size_t words, uint32_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = s_avx2(q, f + i * words, words);
}

__attribute__((target("avx512f,avx512vpopcntdq"))) static void
s_avx512_many(const uint64_t *q, const uint64_t *f, size_t n, size_t words, uint32_t *out)
{
    if (words == 16) {
        /* 1024-bit filters, the default: the probe stays in two registers. */
        __m512i q0 = _mm512_loadu_si512((const void *)q);
        __m512i q1 = _mm512_loadu_si512((const void *)(q + 8));
        for (size_t i = 0; i < n; i++) {
            const uint64_t *p = f + i * 16;
            __m512i x = _mm512_add_epi64(
                _mm512_popcnt_epi64(_mm512_and_si512(q0, _mm512_loadu_si512((const void *)p))),
                _mm512_popcnt_epi64(
                    _mm512_and_si512(q1, _mm512_loadu_si512((const void *)(p + 8)))));
            out[i] = (uint32_t)_mm512_reduce_add_epi64(x);
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = s_avx512(q, f + i * words, words);
}

linker_and_count_many_fn
linker_dice_kernel_many(enum linker_kernel k)
{
    if (linker_dice_kernel(k) == NULL)
        return NULL;
    switch (k) {
    case LINKER_KERNEL_PORTABLE: return s_portable_many;
    case LINKER_KERNEL_POPCNT: return s_popcnt_many;
    case LINKER_KERNEL_AVX2: return s_avx2_many;
    case LINKER_KERNEL_AVX512: return s_avx512_many;
    default: return NULL;
    }
}

linker_and_count_many_fn
linker_dice_best_many(const char **name)
{
    static const enum linker_kernel order[] = {LINKER_KERNEL_AVX512, LINKER_KERNEL_POPCNT,
                                               LINKER_KERNEL_AVX2, LINKER_KERNEL_PORTABLE};

    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        linker_and_count_many_fn f = linker_dice_kernel_many(order[i]);
        if (f != NULL) {
            if (name != NULL)
                *name = linker_kernel_name(order[i]);
            return f;
        }
    }
    return s_portable_many;
}

linker_and_count_fn
linker_dice_kernel(enum linker_kernel k)
{
    __builtin_cpu_init();
    switch (k) {
    case LINKER_KERNEL_PORTABLE: return s_portable;
    case LINKER_KERNEL_POPCNT: return __builtin_cpu_supports("popcnt") ? s_popcnt : NULL;
    case LINKER_KERNEL_AVX2: return __builtin_cpu_supports("avx2") ? s_avx2 : NULL;
    case LINKER_KERNEL_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")
                   ? s_avx512
                   : NULL;
    default: return NULL;
    }
}

const char *
linker_kernel_name(enum linker_kernel k)
{
    static const char *names[] = {"portable", "popcnt", "avx2", "avx512-vpopcntdq"};

    return (unsigned)k < LINKER_KERNEL_COUNT ? names[k] : "unknown";
}

linker_and_count_fn
linker_dice_best(const char **name)
{
    /* For 1024-bit filters POPCNT on 16 words is as fast as the AVX2 lookup on
     * current cores; VPOPCNTDQ beats both. Preference: AVX-512, POPCNT, AVX2. */
    static const enum linker_kernel order[] = {LINKER_KERNEL_AVX512, LINKER_KERNEL_POPCNT,
                                               LINKER_KERNEL_AVX2, LINKER_KERNEL_PORTABLE};

    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        linker_and_count_fn f = linker_dice_kernel(order[i]);
        if (f != NULL) {
            if (name != NULL)
                *name = linker_kernel_name(order[i]);
            return f;
        }
    }
    return s_portable;
}
