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
#include <errno.h>
#include <sys/mman.h>
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

/* Populating pages changes nothing they hold: what was written stays, fresh
 * pages read zero, ends not on a page boundary are left to their neighbours;
 * a range no longer mapped is refused. A kernel without the advice (before
 * Linux 5.14) says so with EINVAL, and nothing changes either. */
static void
test_populate_keeps_contents(void **state)
{
    const size_t n = 8 * S_MIB;
    unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int rc, unsupported;

    (void)state;
    assert_true(p != MAP_FAILED);
    for (size_t i = 0; i < n / 2; i++)
        p[i] = (unsigned char)(i * 7 + 1);
    rc = linker_big_populate(p + 1, n - 2);
    unsupported = rc != 0 && errno == EINVAL;
    assert_true(rc == 0 || unsupported);
    for (size_t i = 0; i < n / 2; i++)
        assert_int_equal(p[i], (unsigned char)(i * 7 + 1));
    for (size_t i = n / 2; i < n; i++)
        assert_int_equal(p[i], 0);
    assert_int_equal(linker_big_populate(p, 100), 0); /* no whole page: nothing to do */
    assert_int_equal(munmap(p, n), 0);
    if (!unsupported)
        assert_int_equal(linker_big_populate(p, n), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_large_arrays_aligned),
        cmocka_unit_test(test_populate_keeps_contents),
        cmocka_unit_test(test_freed_memory_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
