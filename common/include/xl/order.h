/* The order of unsigned 64-bit values, for qsort and bsearch. */
#ifndef XL_ORDER_H
#define XL_ORDER_H

#include <stdint.h>

static inline int
xl_u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

    return a < b ? -1 : a > b;
}

#endif
