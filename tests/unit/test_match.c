/* The matching engine: Dice kernels against a scalar reference, the exact
 * cascade, the fuzzy pass, and each clustering constraint, on hand-made
 * records with known answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../linker/dice.h"
#include "../../linker/match.h"
#include "xl/spec.h"

static const char *s_spec_text =
    "[spec]\nname = t\n"
    "[level 1]\nname = nhs\nfields = nhs_number\nstrong = yes\n"
    "[level 3]\nfields = first_name surname dob\n"
    "[level 6]\nfields = first_name surname dob\nvariant = names_swapped\ncompare = 3\n"
    "[clk]\nq = 2\nfield = surname 20 1024\n"
    "[blocking]\nkey = yob\n"
    "[thresholds]\naccept = 0.8\npossible = 0.7\n";

/* A scalar popcount of a AND b, the reference every kernel must equal. */
static uint32_t
s_reference(const uint64_t *a, const uint64_t *b, size_t n)
{
    uint32_t c = 0;

    for (size_t i = 0; i < n; i++) {
        uint64_t x = a[i] & b[i];
        while (x) {
            x &= x - 1;
            c++;
        }
    }
    return c;
}

static uint64_t
s_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void
test_kernels_equal_reference(void **state)
{
    uint64_t seed = 88172645463325252ull, a[64], b[64];
    int kernels = 0;

    (void)state;
    for (int k = 0; k < LINKER_KERNEL_COUNT; k++) {
        linker_and_count_fn f = linker_dice_kernel((enum linker_kernel)k);
        if (f == NULL)
            continue;
        kernels++;
        for (int trial = 0; trial < 2000; trial++) {
            size_t n = (size_t)(8 * (1 + trial % 8));
            /* Sparse, dense and random filters. */
            for (size_t i = 0; i < n; i++) {
                a[i] = s_rand(&seed);
                b[i] = s_rand(&seed);
                if (trial % 3 == 1) {
                    a[i] &= s_rand(&seed);
                    b[i] &= s_rand(&seed);
                } else if (trial % 3 == 2) {
                    a[i] |= s_rand(&seed);
                    b[i] = ~0ull;
                }
            }
            assert_int_equal(f(a, b, n), s_reference(a, b, n));
        }
    }
    assert_true(kernels >= 1);
    assert_non_null(linker_dice_kernel(LINKER_KERNEL_PORTABLE));
    assert_int_equal(linker_dice_words(128), 16);
    assert_int_equal(linker_dice_words(64), 8);
    assert_int_equal(linker_dice_words(72), 16);
}

/* Hand-made records: tokens are given as small numbers, CLKs as bit patterns. */
struct s_rec {
    uint64_t nhs;         /* 0 = none */
    uint64_t name_dob;    /* level 3 token; 0 = none */
    uint64_t swapped;     /* level 6 token; 0 = none */
    uint64_t block;       /* 0 = none */
    int clk_from, clk_to; /* bits set in [from, to) */
};

static void
s_add(struct linker_input *in, int ds, const struct s_rec *r)
{
    Crosslink__Record rec = CROSSLINK__RECORD__INIT;
    Crosslink__MatchKey k[3], *kp[3];
    uint8_t tok[3][16], clk[128] = {0}, blk[8];
    ProtobufCBinaryData b;
    uint64_t vals[3] = {r->nhs, r->name_dob, r->swapped};
    uint32_t levels[3] = {1, 3, 6};
    size_t n = 0;

    for (int i = 0; i < 3; i++) {
        if (vals[i] == 0)
            continue;
        crosslink__match_key__init(&k[n]);
        memset(tok[n], 0, 16);
        /* The engine treats tokens as opaque bytes; a variant's token is the
         * hash of its compare level, so equal numbers stand for equal tokens. */
        memcpy(tok[n], &vals[i], 8);
        k[n].level = levels[i];
        k[n].token.data = tok[n];
        k[n].token.len = 16;
        kp[n] = &k[n];
        n++;
    }
    rec.n_keys = n;
    rec.keys = kp;
    for (int i = r->clk_from; i < r->clk_to; i++)
        clk[i / 8] |= (uint8_t)(1u << (i % 8));
    rec.clk.data = clk;
    rec.clk.len = sizeof clk;
    if (r->block != 0) {
        memcpy(blk, &r->block, 8);
        b.data = blk;
        b.len = 8;
        rec.n_blocks = 1;
        rec.blocks = &b;
    }
    assert_int_equal(linker_input_add(in, ds, &rec), 0);
}

struct s_fixture {
    struct xl_spec *spec;
    struct linker_input *in;
    struct linker_result res;
};

static int
s_setup(void **state)
{
    struct s_fixture *f = calloc(1, sizeof *f);
    char err[256];

    assert_int_equal(xl_spec_parse(s_spec_text, "t.spec", &f->spec, err, sizeof err), 0);
    f->in = linker_input_new(f->spec);
    assert_non_null(f->in);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    struct s_fixture *f = *state;

    linker_result_free(&f->res);
    linker_input_free(&f->in);
    free(f->spec);
    free(f);
    return 0;
}

static void
s_run(struct s_fixture *f)
{
    char err[256];

    assert_int_equal(linker_match_run(f->in, &f->res, err, sizeof err), 0);
}

static void
test_exact_cascade(void **state)
{
    struct s_fixture *f = *state;
    int a = linker_input_dataset(f->in, "wmp", "yj", 1);
    int b = linker_input_dataset(f->in, "icb", "health", 1);

    s_add(f->in, a, &(struct s_rec){.nhs = 11, .name_dob = 100});      /* 0 */
    s_add(f->in, b, &(struct s_rec){.nhs = 11});                       /* 1: NHS -> 0 */
    s_add(f->in, b, &(struct s_rec){.name_dob = 200});                 /* 2 */
    s_add(f->in, a, &(struct s_rec){.swapped = 200, .name_dob = 300}); /* 3: swapped -> 2 */
    s_add(f->in, a, &(struct s_rec){.name_dob = 999});                 /* 4: alone */
    s_run(f);
    assert_int_equal(f->res.cluster[0], 0);
    assert_int_equal(f->res.cluster[1], 0);
    assert_int_equal(f->res.cluster[2], 2);
    assert_int_equal(f->res.cluster[3], 2);
    assert_int_equal(f->res.cluster[4], 4);
    assert_int_equal(f->res.nclusters, 3);
    assert_int_equal(f->res.nlinks, 2);
    assert_int_equal(f->res.links_by_level[1], 1);
    /* The variant's link is evidenced by its own level. */
    assert_int_equal(f->res.links_by_level[6], 1);
    assert_int_equal(f->res.links_by_level[3], 0);
}

static void
test_strong_ids_never_merge(void **state)
{
    struct s_fixture *f = *state;
    int a = linker_input_dataset(f->in, "wmp", "yj", 0);

    /* Twins: same name and date of birth, different NHS numbers. */
    s_add(f->in, a, &(struct s_rec){.nhs = 11, .name_dob = 100});
    s_add(f->in, a, &(struct s_rec){.nhs = 12, .name_dob = 100});
    /* A third record without an NHS number joins the first it meets, once. */
    s_add(f->in, a, &(struct s_rec){.name_dob = 100});
    s_run(f);
    assert_int_not_equal(f->res.cluster[0], f->res.cluster[1]);
    assert_int_equal(f->res.nconflicts, 1);
    assert_int_equal(f->res.conflicts[0].kind, LINKER_CONFLICT_STRONG_ID);
    assert_int_equal(f->res.cluster[2], f->res.cluster[0]);
}

static void
test_one_per_person(void **state)
{
    struct s_fixture *f = *state;
    int a = linker_input_dataset(f->in, "wmp", "yj", 1);
    int b = linker_input_dataset(f->in, "csc", "cin", 0);

    /* Two records of a one-per-person dataset that both match a third:
     * the better evidence (NHS, level 1) wins; the weaker join is refused. */
    s_add(f->in, b, &(struct s_rec){.nhs = 11, .name_dob = 100}); /* 0 */
    s_add(f->in, a, &(struct s_rec){.name_dob = 100});            /* 1 */
    s_add(f->in, a, &(struct s_rec){.nhs = 11});                  /* 2 */
    /* A dataset without the declaration links its own duplicates. */
    s_add(f->in, b, &(struct s_rec){.name_dob = 500}); /* 3 */
    s_add(f->in, b, &(struct s_rec){.name_dob = 500}); /* 4 */
    s_run(f);
    assert_int_equal(f->res.cluster[2], f->res.cluster[0]);
    assert_int_not_equal(f->res.cluster[1], f->res.cluster[0]);
    assert_int_equal(f->res.nconflicts, 1);
    assert_int_equal(f->res.conflicts[0].kind, LINKER_CONFLICT_ONE_PER_PERSON);
    assert_int_equal(f->res.cluster[3], f->res.cluster[4]);
}

static void
test_fuzzy_within_blocks(void **state)
{
    struct s_fixture *f = *state;
    int a = linker_input_dataset(f->in, "wmp", "yj", 0);

    /* 0 and 1 overlap in 90 of 100 bits: Dice 0.9, linked. 2 overlaps 1 in
     * 75 of 100 (Dice 0.75): possible, not linked. 3 is identical to 0 but in
     * another block: never compared. */
    s_add(f->in, a, &(struct s_rec){.block = 7, .clk_from = 0, .clk_to = 100});
    s_add(f->in, a, &(struct s_rec){.block = 7, .clk_from = 10, .clk_to = 110});
    s_add(f->in, a, &(struct s_rec){.block = 7, .clk_from = 35, .clk_to = 135});
    s_add(f->in, a, &(struct s_rec){.block = 8, .clk_from = 0, .clk_to = 100});
    s_run(f);
    assert_int_equal(f->res.cluster[1], 0);
    assert_int_not_equal(f->res.cluster[2], 0);
    assert_int_equal(f->res.cluster[3], 3);
    assert_int_equal(f->res.links_by_level[0], 1);
    assert_true(f->res.npossible >= 1);
    assert_true(f->res.possible[0].score >= 0.7f && f->res.possible[0].score < 0.8f);
    assert_int_equal(f->res.comparisons, 3);
}

static void
test_popcount_bound_prunes(void **state)
{
    struct s_fixture *f = *state;
    int a = linker_input_dataset(f->in, "wmp", "yj", 0);

    /* 10 bits against 100: Dice at most 2*10/110 < 0.7, skipped unseen. */
    s_add(f->in, a, &(struct s_rec){.block = 7, .clk_from = 0, .clk_to = 10});
    s_add(f->in, a, &(struct s_rec){.block = 7, .clk_from = 0, .clk_to = 100});
    s_run(f);
    assert_int_equal(f->res.comparisons, 0);
    assert_int_equal(f->res.pruned, 1);
    assert_int_not_equal(f->res.cluster[0], f->res.cluster[1]);
}

static void
test_deterministic(void **state)
{
    struct s_fixture *f = *state;
    struct linker_result again;
    char err[256];
    int a = linker_input_dataset(f->in, "wmp", "yj", 1);
    uint64_t seed = 42;

    for (int i = 0; i < 2000; i++) {
        struct s_rec r = {.name_dob = 1 + s_rand(&seed) % 500, .block = 1 + s_rand(&seed) % 20};
        r.clk_from = (int)(s_rand(&seed) % 50);
        r.clk_to = r.clk_from + 40 + (int)(s_rand(&seed) % 40);
        s_add(f->in, a, &r);
    }
    s_run(f);
    assert_int_equal(linker_match_run(f->in, &again, err, sizeof err), 0);
    assert_int_equal(again.nclusters, f->res.nclusters);
    assert_memory_equal(again.cluster, f->res.cluster, f->in->nrec * sizeof *again.cluster);
    assert_int_equal(again.nlinks, f->res.nlinks);
    linker_result_free(&again);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_equal_reference),
        cmocka_unit_test_setup_teardown(test_exact_cascade, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_strong_ids_never_merge, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_one_per_person, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_fuzzy_within_blocks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_popcount_bound_prunes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_deterministic, s_setup, s_teardown),
    };

    return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
