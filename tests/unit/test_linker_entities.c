/* Unit tests for linker/entities.c: entity ids carried from run to run by
 * overlap: unchanged, grown, split (the larger part keeps the id), merged (the
 * larger old part's id wins, the other is retired), and new ids never reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../linker/entities.h"

static void
test_first_run(void **state)
{
    uint32_t comp[] = {0, 0, 2, 0, 4};
    uint64_t prev[5] = {0}, out[5], next = 1;

    assert_int_equal(linker_entities_assign(comp, prev, 5, &next, out), 0);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[3], 1);
    assert_int_equal(out[2], 2);
    assert_int_equal(out[4], 3);
    assert_int_equal(next, 4);
}

static void
test_unchanged_and_grown(void **state)
{
    /* records 0-2 were entity 7, 3 was 9; record 4 is new and joins 7's component */
    uint32_t comp[] = {1, 1, 1, 3, 1};
    uint64_t prev[] = {7, 7, 7, 9, 0}, out[5], next = 20;

    assert_int_equal(linker_entities_assign(comp, prev, 5, &next, out), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(out[i], i == 3 ? 9 : 7);
    assert_int_equal(next, 20);
}

static void
test_split(void **state)
{
    /* entity 5 splits 1 + 3: the part of three keeps it, the other is new */
    uint32_t comp[] = {0, 1, 1, 1};
    uint64_t prev[] = {5, 5, 5, 5}, out[4], next = 6;

    assert_int_equal(linker_entities_assign(comp, prev, 4, &next, out), 0);
    assert_int_equal(out[1], 5);
    assert_int_equal(out[2], 5);
    assert_int_equal(out[3], 5);
    assert_int_equal(out[0], 6);
    assert_int_equal(next, 7);
}

static void
test_merge(void **state)
{
    /* 3 (two records) and 8 (three records) merge: 8 wins; 3 is retired and a
     * later new component does not get it */
    uint32_t comp[] = {0, 0, 0, 0, 0, 5};
    uint64_t prev[] = {3, 3, 8, 8, 8, 0}, out[6], next = 10;

    assert_int_equal(linker_entities_assign(comp, prev, 6, &next, out), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(out[i], 8);
    assert_int_equal(out[5], 10);

    /* a tie goes to the older (smaller) id */
    {
        uint32_t c2[] = {0, 0};
        uint64_t p2[] = {4, 2}, o2[2], n2 = 10;
        assert_int_equal(linker_entities_assign(c2, p2, 2, &n2, o2), 0);
        assert_int_equal(o2[0], 2);
        assert_int_equal(o2[1], 2);
    }
}

static void
test_swap_is_stable(void **state)
{
    /* the same two groups, numbered the other way round by the run */
    uint32_t comp[] = {2, 2, 0, 0};
    uint64_t prev[] = {11, 11, 12, 12}, out[4], next = 13;

    assert_int_equal(linker_entities_assign(comp, prev, 4, &next, out), 0);
    assert_int_equal(out[0], 11);
    assert_int_equal(out[2], 12);
    assert_int_equal(next, 13);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_run),      cmocka_unit_test(test_unchanged_and_grown),
        cmocka_unit_test(test_split),          cmocka_unit_test(test_merge),
        cmocka_unit_test(test_swap_is_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
