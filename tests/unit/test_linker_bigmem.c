/* A link run's large arrays (linker/bigmem.h): in a process that keeps freed
 * memory (linker_big_keep, as crosslink-linker link does), an array freed and
 * allocated again is the same memory, not pages the kernel maps and clears
 * anew; and huge arrays come aligned for huge pages. A process of its own: the
 * setting is the whole process's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../linker/bigmem.h"

#define S_MIB ((size_t)1 << 20)

static void
test_large_arrays_aligned(void **state)
{
    (void)state;
    for (size_t n = 4 * S_MIB; n <= 64 * S_MIB; n *= 4) {
        unsigned char *p = linker_big_alloc(n + 12345);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % (2 * S_MIB), 0);
        p[0] = 1;
        p[n + 12344] = 2;
        free(p);
    }
    /* small ones are plain allocations */
    {
        unsigned char *p = linker_big_alloc(100);
        assert_non_null(p);
        memset(p, 3, 100);
        free(p);
    }
}

/* Freed and allocated again, 64 MiB comes back with what was written into it
 * (by default it is unmapped when freed, and comes back as the kernel's fresh
 * zeroed pages). */
static void
test_freed_memory_reused(void **state)
{
    const size_t n = 64 * S_MIB;
    unsigned char *p, *q;
    size_t kept = 0;

    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* the sanitizer's allocator keeps freed memory in quarantine */
#endif
    linker_big_keep();
    p = linker_big_alloc(n);
    assert_non_null(p);
    memset(p, 0xa5, n);
    /* the stores kept: a compiler may drop a memset before a free */
    __asm__ volatile("" : : "r"(p) : "memory");
    free(p);
    q = linker_big_alloc(n);
    assert_non_null(q);
    /* Past the allocator's own words at the start: the middle megabytes. */
    for (size_t i = n / 4; i < 3 * n / 4; i += 4096)
        kept += q[i] == 0xa5;
    assert_int_equal(kept, (n / 2) / 4096);
    free(q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_large_arrays_aligned),
        cmocka_unit_test(test_freed_memory_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
