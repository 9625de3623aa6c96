/* The candidates' radix sorts (linker/radix.h) against a plain stable sort:
 * arrays large enough to be split by their top digit and small ones that are
 * not, every part of the bits, values that collide in the bits sorted on
 * (stability), and elements that carry more than their key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../linker/match.h"
#include "../../linker/radix.h"
#include "xl/splitmix.h"

struct s_item {
    uint64_t key;
    uint32_t tag; /* where the item was before the sort */
};

#define S_KEY_U64(x)  (x)
#define S_KEY_ITEM(x) ((x).key)
LINKER_RADIX_SORTS(s_sort_u64, uint64_t, S_KEY_U64)
LINKER_RADIX_SORTS(s_sort_item, struct s_item, S_KEY_ITEM)

static int s_from, s_to;

static uint64_t
s_bits(uint64_t x)
{
    uint64_t mask = s_to - s_from == 64 ? ~(uint64_t)0 : (((uint64_t)1 << (s_to - s_from)) - 1);
    return x >> s_from & mask;
}

/* The reference: items by bits [s_from, s_to) of the key, ties by tag. */
static int
s_item_cmp(const void *x, const void *y)
{
    const struct s_item *a = x, *b = y;
    uint64_t ka = s_bits(a->key), kb = s_bits(b->key);

    if (ka != kb)
        return ka < kb ? -1 : 1;
    return (a->tag > b->tag) - (a->tag < b->tag);
}

/* n items whose keys take only `distinct` values in the sorted bits (many
 * ties when few), with random bits below them; the bits above are equal, as
 * the callers keep them (a pass may look up to a digit past `to`). */
static void
s_check(size_t n, int from, int to, uint64_t distinct, uint64_t seed)
{
    struct s_item *it = malloc(n * sizeof *it), *tmp = malloc(n * sizeof *tmp),
                  *want = malloc(n * sizeof *want), *got;
    uint64_t *v = malloc(n * sizeof *v), *vtmp = malloc(n * sizeof *vtmp), *vgot;

    assert_non_null(it);
    assert_non_null(tmp);
    assert_non_null(want);
    assert_non_null(v);
    assert_non_null(vtmp);
    s_from = from;
    s_to = to;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = xl_splitmix64(&seed), pick = xl_splitmix64(&seed) % distinct;
        uint64_t field =
            to - from == 64 ? ~(uint64_t)0 : (((uint64_t)1 << (to - from)) - 1) << from;
        uint64_t below = from == 0 ? 0 : r & (((uint64_t)1 << from) - 1);
        uint64_t sorted = (pick * 0x9e3779b97f4a7c15ull) << from & field;
        it[i] = (struct s_item){below | sorted, (uint32_t)i};
        v[i] = it[i].key;
    }
    memcpy(want, it, n * sizeof *it);
    qsort(want, n, sizeof *want, s_item_cmp);

    got = s_sort_item(it, tmp, n, from, to);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i].key, want[i].key);
        assert_int_equal(got[i].tag, want[i].tag);
    }
    /* The bare values: the same order (ties keep their places, and equal
     * sorted bits with different other bits are told apart by the tag). */
    vgot = s_sort_u64(v, vtmp, n, from, to);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vgot[i], want[i].key);
    free(it);
    free(tmp);
    free(want);
    free(v);
    free(vtmp);
}

static void
test_split_arrays(void **state)
{
    (void)state;
    /* The candidates' uses: blocking keys and band hashes (top 33 bits),
     * pair keys within a run (bits 1 up), and a whole token. */
    s_check(3 * LINKER_SPLIT_MIN + 17, 31, 64, 1u << 20, 1);
    s_check(2 * LINKER_SPLIT_MIN, 1, 34, 1u << 30, 2);
    s_check(2 * LINKER_SPLIT_MIN + 5, 0, 64, ~(uint64_t)0, 3);
    /* many ties */
    s_check(LINKER_SPLIT_MIN + 1, 31, 64, 50, 4);
    /* fewer bits than one digit above the split's */
    s_check(LINKER_SPLIT_MIN + 3, 40, 60, 1000, 5);
}

static void
test_small_arrays(void **state)
{
    (void)state;
    s_check(1, 31, 64, 10, 6);
    s_check(2, 31, 64, 2, 7);
    s_check(1000, 31, 64, 100, 8);
    s_check(LINKER_SPLIT_MIN - 1, 1, 41, 1u << 20, 9);
    s_check(5000, 0, 7, 128, 10);
}

/* The reference for the links' order: score (strongest first), a, b. */
static int
s_link_cmp(const void *x, const void *y)
{
    const struct linker_link *p = x, *q = y;

    if (p->score != q->score)
        return p->score > q->score ? -1 : 1;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

/* Links in the order clustering takes them, as the comparison sort put them:
 * a few scores shared by many links (weights of a few comparison vectors),
 * both zeros, identifier links lifted by 1e6, many links of one record. */
static void
test_links_in_clustering_order(void **state)
{
    static const float scores[] = {-12.5f, -0.0f,       0.0f,        3.25f, 3.25f,
                                   17.0f,  1e6f + 4.0f, 1e6f - 2.0f, 0.5f};
    size_t sizes[] = {1, 2, 1000, 300000};
    uint64_t seed = 7;

    (void)state;
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        size_t n = sizes[t], cap = n;
        struct linker_link *v = malloc(n * sizeof *v), *want = malloc(n * sizeof *want);
        assert_non_null(v);
        assert_non_null(want);
        for (size_t i = 0; i < n; i++) {
            /* unique pairs: b from the index, a from a few records */
            uint32_t a = (uint32_t)(xl_splitmix64(&seed) % 50);
            v[i] = (struct linker_link){
                .a = a,
                .b = 100 + (uint32_t)i * 3 + (uint32_t)(xl_splitmix64(&seed) % 3),
                .score = scores[xl_splitmix64(&seed) % (sizeof scores / sizeof *scores)],
                .level = (uint8_t)i};
        }
        memcpy(want, v, n * sizeof *v);
        qsort(want, n, sizeof *want, s_link_cmp);
        assert_int_equal(linker_links_sort(&v, &cap, n), 0);
        for (size_t i = 0; i < n; i++) {
            assert_true(v[i].a == want[i].a && v[i].b == want[i].b);
            assert_true(v[i].score == want[i].score && v[i].level == want[i].level);
        }
        free(v);
        free(want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_arrays),
        cmocka_unit_test(test_small_arrays),
        cmocka_unit_test(test_links_in_clustering_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
