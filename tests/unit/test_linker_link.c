/* Unit tests for linker/link.c's conflict list: one conflict per pair of
 * records, with its strongest evidence, however many levels the matcher met
 * the pair on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../linker/link.h"

static void
test_one_per_pair(void **state)
{
    /* The pair (3, 7) met on levels 5, 2, 8 and by the fuzzy score, both ways
     * round; (1, 2) once; (3, 7) also as one_per_person, which is kept. */
    struct linker_conflict in[] = {
        {7, 3, LINKER_CONFLICT_STRONG_ID, 5, 0.9f},
        {3, 7, LINKER_CONFLICT_STRONG_ID, 0, 0.99f},
        {1, 2, LINKER_CONFLICT_STRONG_ID, 0, 0.8f},
        {3, 7, LINKER_CONFLICT_STRONG_ID, 2, 0.7f},
        {7, 3, LINKER_CONFLICT_STRONG_ID, 8, 0.95f},
        {3, 7, LINKER_CONFLICT_ONE_PER_PERSON, 0, 0.6f},
        {3, 7, LINKER_CONFLICT_ONE_PER_PERSON, 0, 0.85f},
    };
    struct linker_result res;

    memset(&res, 0, sizeof res);
    res.conflicts = malloc(sizeof in);
    assert_non_null(res.conflicts);
    memcpy(res.conflicts, in, sizeof in);
    res.nconflicts = sizeof in / sizeof in[0];
    linker_conflicts_unique(&res);
    assert_int_equal(res.nconflicts, 3);
    assert_int_equal(res.conflicts[0].a, 1);
    assert_int_equal(res.conflicts[0].b, 2);
    assert_int_equal(res.conflicts[1].a, 3);
    assert_int_equal(res.conflicts[1].b, 7);
    assert_int_equal(res.conflicts[1].kind, LINKER_CONFLICT_STRONG_ID);
    assert_int_equal(res.conflicts[1].level, 2); /* the strongest level met */
    assert_int_equal(res.conflicts[2].kind, LINKER_CONFLICT_ONE_PER_PERSON);
    assert_true(res.conflicts[2].score > 0.8f); /* by score when no level */
    free(res.conflicts);
}

static void
test_counted_past_kept(void **state)
{
    struct linker_result res;

    memset(&res, 0, sizeof res);
    res.conflicts = calloc(2, sizeof *res.conflicts);
    assert_non_null(res.conflicts);
    res.conflicts[0] = (struct linker_conflict){4, 5, LINKER_CONFLICT_STRONG_ID, 1, 0.5f};
    res.conflicts[1] = (struct linker_conflict){5, 4, LINKER_CONFLICT_STRONG_ID, 3, 0.5f};
    res.nconflicts = 2;
    linker_conflicts_unique(&res);
    assert_int_equal(res.nconflicts, 1);
    res.nconflicts = 0;
    linker_conflicts_unique(&res); /* none: nothing to do */
    assert_int_equal(res.nconflicts, 0);
    free(res.conflicts);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_per_pair),
        cmocka_unit_test(test_counted_past_kept),
    };

    return cmocka_run_group_tests_name("linker_link", tests, NULL, NULL);
}
