/* A chunk's link columns (linker/columns.c): records loaded through their
 * columns make the same input as records added one by one, and damaged
 * columns are refused before anything is read through them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../linker/columns.h"
#include "../../linker/match.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/spec.h"

/* As deploy/examples/linkage.spec, in short. */
static const char *s_spec_text = "[spec]\nname = columnstest\n"
                                 "[level 1]\nname = nhs\nfields = nhs_number\nstrong = yes\n"
                                 "[level 4]\nname = name_dob\nfields = first_name surname dob\n"
                                 "[clk]\nq = 2\n"
                                 "field = first_name 12 256\n"
                                 "field = surname 12 256\n"
                                 "field = dob 10 256\n"
                                 "flip = 0.02\n"
                                 "[blocking]\n"
                                 "key = surname_phonetic yob\n"
                                 "[thresholds]\naccept = 0.84\npossible = 0.80\n";

#define NREC 300

/* Records with 0-3 keys (one of a level the specification lacks, which the
 * input ignores) and 0-4 blocking keys, from a fixed seed. */
struct s_recs {
    Crosslink__Record rec[NREC];
    Crosslink__MatchKey keys[NREC][3], *keyp[NREC][3];
    ProtobufCBinaryData blocks[NREC][4];
    uint8_t clk[NREC][96], ref[NREC][XL_REF_BYTES], tok[NREC][3][XL_TOKEN_BYTES], blk[NREC][4][8];
};

static uint64_t
s_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void
s_fill(uint8_t *p, size_t n, uint64_t *x)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)s_next(x);
}

static void
s_make(struct s_recs *r, size_t clk_bytes)
{
    static const unsigned levels[] = {1, 4, 9};
    uint64_t x = 0x9e3779b97f4a7c15ull;

    assert_true(clk_bytes <= sizeof r->clk[0]);
    for (size_t i = 0; i < NREC; i++) {
        Crosslink__Record *rec = &r->rec[i];
        crosslink__record__init(rec);
        s_fill(r->clk[i], clk_bytes, &x);
        s_fill(r->ref[i], XL_REF_BYTES, &x);
        rec->clk.data = r->clk[i];
        rec->clk.len = clk_bytes;
        rec->local_ref.data = r->ref[i];
        rec->local_ref.len = XL_REF_BYTES;
        rec->n_keys = s_next(&x) % 4;
        for (size_t k = 0; k < rec->n_keys; k++) {
            crosslink__match_key__init(&r->keys[i][k]);
            s_fill(r->tok[i][k], XL_TOKEN_BYTES, &x);
            r->keys[i][k].level = levels[s_next(&x) % 3];
            r->keys[i][k].token.data = r->tok[i][k];
            r->keys[i][k].token.len = XL_TOKEN_BYTES;
            r->keyp[i][k] = &r->keys[i][k];
        }
        rec->keys = r->keyp[i];
        rec->n_blocks = s_next(&x) % 5;
        for (size_t b = 0; b < rec->n_blocks; b++) {
            s_fill(r->blk[i][b], 8, &x);
            r->blocks[i][b].data = r->blk[i][b];
            r->blocks[i][b].len = 8;
        }
        rec->blocks = r->blocks[i];
    }
}

static void
s_same_input(const struct linker_input *a, const struct linker_input *b)
{
    assert_int_equal(a->nrec, b->nrec);
    assert_int_equal(a->nkeys, b->nkeys);
    assert_int_equal(a->nblocks, b->nblocks);
    assert_memory_equal(a->rec_dataset, b->rec_dataset, a->nrec);
    assert_memory_equal(a->pop, b->pop, a->nrec * sizeof *a->pop);
    assert_memory_equal(a->clk, b->clk, a->nrec * a->clk_words * 8);
    for (size_t l = 0; l < 256; l++) {
        assert_int_equal(a->bylevel[l].n, b->bylevel[l].n);
        for (size_t i = 0; i < a->bylevel[l].n; i++) {
            const struct linker_key *x = &a->bylevel[l].k[i], *y = &b->bylevel[l].k[i];
            assert_true(x->t0 == y->t0 && x->rec == y->rec && x->level == y->level);
        }
    }
    for (size_t i = 0; i < a->nblocks; i++)
        assert_true(a->blocks[i] == b->blocks[i]);
    /* the other tokens, each record's list in order of token */
    assert_int_equal(a->ntok, b->ntok);
    assert_memory_equal(a->level_keys, b->level_keys, sizeof a->level_keys);
    assert_memory_equal(a->tok_start, b->tok_start, (a->nrec + 1) * sizeof *a->tok_start);
    assert_memory_equal(a->tok_t0, b->tok_t0, a->ntok * sizeof *a->tok_t0);
    assert_memory_equal(a->tok_level, b->tok_level, a->ntok);
    for (size_t r = 0; r < a->nrec; r++)
        for (size_t i = a->tok_start[r] + 1; i < a->tok_start[r + 1]; i++)
            assert_true(a->tok_t0[i - 1] <= a->tok_t0[i]);
}

/* Two chunks (one of 1 record, one of the rest) after a record added alone:
 * the same records, keys and blocking keys, in the same order, as adding each
 * record. */
static void
test_columns_load_as_records_add(void **state)
{
    struct s_recs *r = malloc(sizeof *r);
    struct xl_spec *spec = NULL;
    struct linker_input *one, *cols;
    struct linker_columns_buf b = {0};
    struct linker_columns c;
    const uint8_t *data;
    size_t len, keys = 0, blocks = 0;
    char err[XL_ERRBUF];
    int d1, d2;

    (void)state;
    assert_non_null(r);
    if (xl_spec_parse(s_spec_text, "t.spec", &spec, err, sizeof err) != 0)
        fail_msg("%s", err);
    s_make(r, xl_spec_clk_bytes(spec));
    one = linker_input_new(spec);
    cols = linker_input_new(spec);
    d1 = linker_input_dataset(one, "wmp", "police", 1);
    d2 = linker_input_dataset(cols, "wmp", "police", 1);
    for (size_t i = 0; i < NREC; i++)
        assert_int_equal(linker_input_add(one, d1, &r->rec[i]), 0);

    assert_int_equal(linker_input_add(cols, d2, &r->rec[0]), 0);
    linker_columns_begin(&b);
    assert_int_equal(linker_columns_add(&b, &r->rec[1]), 0);
    assert_int_equal(linker_columns_finish(&b, &data, &len), 0);
    assert_int_equal(linker_columns_parse(data, len, &c), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(linker_input_add_columns(cols, d2, &c), 0);
    linker_columns_begin(&b);
    for (size_t i = 2; i < NREC; i++) {
        assert_int_equal(linker_columns_add(&b, &r->rec[i]), 0);
        keys += r->rec[i].n_keys;
        blocks += r->rec[i].n_blocks;
    }
    assert_int_equal(linker_columns_finish(&b, &data, &len), 0);
    assert_int_equal(linker_columns_parse(data, len, &c), 0);
    assert_int_equal(c.n, NREC - 2);
    assert_int_equal(c.nkeys, keys);
    assert_int_equal(c.nblocks, blocks);
    assert_memory_equal(c.refs + 5 * XL_REF_BYTES, r->ref[7], XL_REF_BYTES);
    assert_int_equal(linker_input_add_columns(cols, d2, &c), 0);
    s_same_input(one, cols);
    /* the input ignores keys of a level the specification lacks: some were */
    assert_true(one->nkeys < keys);

    linker_columns_free(&b);
    linker_input_free(&one);
    linker_input_free(&cols);
    free(spec);
    free(r);
}

/* A chunk whose keys do not come in record order (columns.h) is refused when
 * added: each record's token list is closed as the next record's keys come. */
static void
test_columns_keys_out_of_order(void **state)
{
    struct s_recs *r = malloc(sizeof *r);
    struct xl_spec *spec = NULL;
    struct linker_input *in;
    struct linker_columns_buf b = {0};
    struct linker_columns c;
    const uint8_t *data;
    uint8_t *copy;
    size_t len;
    char err[XL_ERRBUF];
    int ds;

    (void)state;
    assert_non_null(r);
    if (xl_spec_parse(s_spec_text, "t.spec", &spec, err, sizeof err) != 0)
        fail_msg("%s", err);
    s_make(r, xl_spec_clk_bytes(spec));
    linker_columns_begin(&b);
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(linker_columns_add(&b, &r->rec[i]), 0);
    assert_int_equal(linker_columns_finish(&b, &data, &len), 0);
    copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, data, len);
    assert_int_equal(linker_columns_parse(copy, len, &c), 0);
    assert_true(c.nkeys > 1 && linker_columns_u32(c.keys) < 19);
    in = linker_input_new(spec);
    ds = linker_input_dataset(in, "wmp", "police", 1);
    assert_int_equal(linker_input_add_columns(in, ds, &c), 0);
    linker_input_free(&in);
    copy[c.keys - copy] =
        19; /* the first key's record the chunk's last: the next keys' are before it */
    assert_int_equal(linker_columns_parse(copy, len, &c), 0);
    in = linker_input_new(spec);
    ds = linker_input_dataset(in, "wmp", "police", 1);
    assert_int_equal(linker_input_add_columns(in, ds, &c), XL_ERR_FORMAT);
    linker_input_free(&in);

    linker_columns_free(&b);
    free(copy);
    free(spec);
    free(r);
}

/* The stored form of the records gives the same columns as the records. */
static void
test_columns_from_packed(void **state)
{
    struct s_recs *r = malloc(sizeof *r);
    struct linker_columns_buf a = {0}, b = {0};
    const uint8_t *da, *db;
    size_t la, lb, off = 0, total = 0;
    uint8_t *packed;

    (void)state;
    assert_non_null(r);
    s_make(r, 50);
    for (size_t i = 0; i < NREC; i++)
        total += 4 + crosslink__record__get_packed_size(&r->rec[i]);
    packed = malloc(total);
    assert_non_null(packed);
    linker_columns_begin(&a);
    for (size_t i = 0; i < NREC; i++) {
        size_t n = crosslink__record__pack(&r->rec[i], packed + off + 4);
        packed[off] = (uint8_t)(n >> 24);
        packed[off + 1] = (uint8_t)(n >> 16);
        packed[off + 2] = (uint8_t)(n >> 8);
        packed[off + 3] = (uint8_t)n;
        off += 4 + n;
        assert_int_equal(linker_columns_add(&a, &r->rec[i]), 0);
    }
    assert_int_equal(linker_columns_finish(&a, &da, &la), 0);
    assert_int_equal(linker_columns_from_packed(&b, packed, total, &db, &lb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    /* a record cut short is refused */
    assert_int_equal(linker_columns_from_packed(&b, packed, total - 1, &db, &lb), XL_ERR_FORMAT);
    linker_columns_free(&a);
    linker_columns_free(&b);
    free(packed);
    free(r);
}

/* Columns that do not add up, or point past their records, are refused. */
static void
test_columns_damaged(void **state)
{
    struct s_recs *r = malloc(sizeof *r);
    struct linker_columns_buf b = {0};
    struct linker_columns c;
    const uint8_t *data;
    uint8_t *copy;
    size_t len, key0 = 0;

    (void)state;
    assert_non_null(r);
    s_make(r, 50);
    linker_columns_begin(&b);
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(linker_columns_add(&b, &r->rec[i]), 0);
    assert_int_equal(linker_columns_finish(&b, &data, &len), 0);
    assert_int_equal(linker_columns_parse(data, len, &c), 0);
    assert_true(c.nkeys > 0 && c.nblocks > 0);
    copy = malloc(len + 1);
    assert_non_null(copy);

    memcpy(copy, data, len);
    copy[len] = 0;
    assert_int_equal(linker_columns_parse(copy, len + 1, &c), XL_ERR_FORMAT); /* trailing */
    assert_int_equal(linker_columns_parse(copy, len - 1, &c), XL_ERR_FORMAT); /* short */
    assert_int_equal(linker_columns_parse(copy, 10, &c), XL_ERR_FORMAT);
    copy[0] = 'Y';
    assert_int_equal(linker_columns_parse(copy, len, &c), XL_ERR_FORMAT); /* magic */
    memcpy(copy, data, len);
    copy[4] = 21; /* one record more than the sections hold */
    assert_int_equal(linker_columns_parse(copy, len, &c), XL_ERR_FORMAT);

    /* a key's record past the chunk's */
    assert_int_equal(linker_columns_parse(data, len, &c), 0);
    key0 = (size_t)(c.keys - data);
    memcpy(copy, data, len);
    copy[key0] = 20;
    assert_int_equal(linker_columns_parse(copy, len, &c), XL_ERR_FORMAT);
    copy[key0] = 19; /* the last record: still in the chunk */
    assert_int_equal(linker_columns_parse(copy, len, &c), 0);
    copy[key0 + 5] = 1; /* a level above 255 */
    assert_int_equal(linker_columns_parse(copy, len, &c), XL_ERR_FORMAT);
    /* a blocking key's record past the chunk's */
    assert_int_equal(linker_columns_parse(data, len, &c), 0);
    memcpy(copy, data, len);
    copy[c.blocks - data + 3] = 1;
    assert_int_equal(linker_columns_parse(copy, len, &c), XL_ERR_FORMAT);

    /* records not as ingest admits them */
    linker_columns_begin(&b);
    assert_int_equal(linker_columns_add(&b, &r->rec[0]), 0);
    r->rec[1].clk.len = 49;
    assert_int_equal(linker_columns_add(&b, &r->rec[1]), XL_ERR_FORMAT);
    r->rec[1].clk.len = 50;
    r->rec[1].local_ref.len = 15;
    assert_int_equal(linker_columns_add(&b, &r->rec[1]), XL_ERR_FORMAT);

    linker_columns_free(&b);
    free(copy);
    free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_load_as_records_add),
        cmocka_unit_test(test_columns_from_packed),
        cmocka_unit_test(test_columns_damaged),
        cmocka_unit_test(test_columns_keys_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
