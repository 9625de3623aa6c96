#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bigmem.h"

#define S_HUGE (2u << 20)

void *
linker_big_alloc(size_t n)
{
    void *p;

    if (n < 2 * S_HUGE)
        return malloc(n ? n : 1);
    n = (n + S_HUGE - 1) / S_HUGE * S_HUGE;
    p = aligned_alloc(S_HUGE, n);
    /* Advice only: without huge pages the array is as good, only slower. */
    if (p != NULL)
        (void)madvise(p, n, MADV_HUGEPAGE);
    return p;
}

void
linker_big_keep(void)
{
    /* No array of its own mapping (so none unmapped when freed), and no
     * free memory at the top of the heap given back; both only advice to
     * the allocator, which may still map memory when the heap cannot grow. */
    (void)mallopt(M_MMAP_MAX, 0);
    (void)mallopt(M_TRIM_THRESHOLD, -1);
}

int
linker_big_populate(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), lo = ((uintptr_t)p + page - 1) & ~(page - 1),
              hi = ((uintptr_t)p + n) & ~(page - 1);

    if (hi <= lo)
        return 0;
    return madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0 ? 0 : -1;
#else
    (void)p;
    (void)n;
    return -1;
#endif
}
