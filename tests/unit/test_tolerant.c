/* Unit tests for tolerant encoding: a value validation refuses keeps its
 * strict report, and what can be read from it (agent_person.salvage) feeds the
 * CLK, and as coarse codes the blocking keys, but never a match key or strong
 * identifier. Rows go through the real mapping loader, validator and encoder
 * (agent/config.c, validate.c, encode.c); records are compared the way the
 * linker compares them, by the Dice score of each field's CLK segment.
 *
 * The specification is written here (not tests/vectors/spec_example.spec), with
 * no flip noise so that a segment depends on its field's value alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/config.h"
#include "../../agent/encode.h"
#include "../../agent/validate.h"
#include "testutil.h"
#include "xl/csv.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/spec.h"

/* Levels: which fields each uses matters to the tests below. */
static const char s_spec_text[] =
    "[spec]\n"
    "name = tolerant-test\n"
    "nicknames = yes\n"
    "[level 1]\nname = nhs\nfields = nhs_number\nstrong = yes\n"
    "[level 3]\nname = full\n"
    "fields = first_name surname dob sex postcode\n"
    "[level 4]\nname = name_dob\nfields = first_name surname dob\n"
    "[level 5]\nname = initial_dob_postcode\n"
    "fields = first_initial surname dob postcode\n"
    "[level 6]\nname = names_swapped\nfields = first_name surname dob\n"
    "variant = names_swapped\ncompare = 4\n"
    "[level 7]\nname = dob_transposed\nfields = first_name surname dob\n"
    "variant = dob_transposed\ncompare = 4\n"
    "[level 8]\nname = phonetic\n"
    "fields = surname_phonetic first_initial dob\n"
    "[level 9]\nname = surname_change\n"
    "fields = first_name dob sex postcode\n"
    "[level 10]\nname = name_postcode\n"
    "fields = first_name surname postcode\n"
    "[level 11]\nname = surname_yob\nfields = surname yob sex\n"
    "[level 12]\nname = id\nfields = other_id\n"
    "[clk]\n"
    "q = 2\n"
    "field = first_name 12 256\n"
    "field = surname 12 256\n"
    "field = dob 10 256\n"
    "field = sex 4 64\n"
    "field = postcode 10 192\n"
    "field = other_id 8 128\n"
    "flip = 0\n"
    "salt = none\n"
    "xor_fold = no\n"
    "[blocking]\n"
    "key = surname_phonetic yob\n"
    "key = first_phonetic yob\n"
    "key = first_initial dob\n"
    "key = sector yob\n"
    "key = surname_phonetic first_phonetic\n"
    "key = surname first_name\n"
    "[thresholds]\n"
    "accept = 0.84\n"
    "possible = 0.80\n";

/* The mapping most tests use: nothing but the source id required, so a
 * refused value leaves the row in. */
static const char s_map_text[] = "[dataset]\n"
                                 "name = t\n"
                                 "required = source_id\n"
                                 "[columns]\n"
                                 "source_id = ID\n"
                                 "first_name = Forename\n"
                                 "surname = Surname\n"
                                 "dob = DOB\n"
                                 "sex = Sex\n"
                                 "postcode = Postcode\n"
                                 "nhs_number = NHS\n"
                                 "other_id = Other\n"
                                 "[dob]\n"
                                 "formats = yyyy-mm-dd | dd/mm/yyyy\n"
                                 "reference = 2024-06-30\n"
                                 "min_year = 1900\n"
                                 "max_age = 120\n";

#define HEADER   "ID,Forename,Surname,DOB,Sex,Postcode,NHS,Other\n"
#define MAX_ROWS 8

static struct {
    struct xl_spec *spec;
    struct xl_keyfile *secret, *local;
    uint8_t apk[XL_KEY_BYTES], ask[XL_KEY_BYTES];
    struct agent_encoder *enc;
    char *dir;
    struct agent_mapping map;
    struct agent_row rows[MAX_ROWS];
    size_t nrows;
} s_env;

static int
s_setup(void **state)
{
    char err[XL_ERRBUF];

    if (xl_crypto_init() != 0)
        return -1;
    if (xl_spec_parse(s_spec_text, "tolerant.spec", &s_env.spec, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    s_env.secret = xl_keyfile_new(XL_KEY_LINKAGE_SECRET);
    s_env.local = xl_keyfile_new(XL_KEY_LOCAL_SECRET);
    if (s_env.secret == NULL || s_env.local == NULL || xl_box_keypair(s_env.apk, s_env.ask) != 0)
        return -1;
    /* Fixed keys: bit collisions, and so Dice scores, depend on the key. */
    xl_sha256("tolerant test secret", 20, s_env.secret->secret);
    s_env.secret->epoch = 1;
    xl_sha256("tolerant test local", 19, s_env.local->secret);
    s_env.enc = agent_encoder_new(s_env.spec, s_env.secret, s_env.local, s_env.apk, "agency1", "t",
                                  err, sizeof err);
    s_env.dir = tu_tmpdir();
    return s_env.enc != NULL && s_env.dir != NULL ? 0 : -1;
}

static int
s_teardown(void **state)
{
    agent_encoder_destroy(&s_env.enc);
    free(s_env.spec);
    xl_keyfile_destroy(&s_env.secret);
    xl_keyfile_destroy(&s_env.local);
    tu_rmtree(s_env.dir);
    free(s_env.dir);
    for (size_t i = 0; i < MAX_ROWS; i++)
        agent_row_wipe(&s_env.rows[i]);
    return 0;
}

/* Loads mapping text; 0, or the loader's error with its message in err. */
static int
s_try_map(const char *text, char *err, size_t errlen)
{
    char *path = tu_path(s_env.dir, "t.map");
    int r;

    assert_non_null(path);
    assert_int_equal(tu_write_file(path, text), 0);
    r = agent_mapping_load(path, &s_env.map, err, errlen);
    free(path);
    return r;
}

static void
s_load_map(const char *text)
{
    char err[XL_ERRBUF] = "";

    if (s_try_map(text, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (s_env.map.dob_rules.ref.y == 0) /* as agent_ctx_load does */
        s_env.map.dob_rules.ref = (struct agent_date){2024, 6, 30};
}

/* Validates each data row of csv (header first) with the mapping loaded last,
 * into s_env.rows. */
static void
s_validate(const char *csv)
{
    FILE *f = fmemopen((void *)csv, strlen(csv), "r");
    struct xl_csv *c;
    struct agent_layout l;
    char err[XL_ERRBUF];
    size_t nf;

    assert_non_null(f);
    c = xl_csv_from_file(f, "t.csv");
    assert_non_null(c);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    if (agent_layout_from_header(&s_env.map, c, nf, &l, err, sizeof err) != 0)
        fail_msg("%s", err);
    s_env.nrows = 0;
    while (xl_csv_next(c, &nf, err, sizeof err) == 1) {
        assert_true(s_env.nrows < MAX_ROWS);
        agent_validate_row(&s_env.map, &l, c, nf, &s_env.rows[s_env.nrows++]);
    }
    xl_csv_destroy(&c);
    fclose(f);
}

static const struct agent_person *
s_person(size_t i)
{
    assert_true(i < s_env.nrows);
    return &s_env.rows[i].person;
}

/* Row i has exactly one issue, on field, for reason; its effect as given. */
static void
s_one_issue(size_t i, int field, int reason, int fatal, int salvaged)
{
    const struct agent_row *r = &s_env.rows[i];

    if (r->nissues != 1)
        fail_msg("row %zu: %zu issues (first %s)", i, r->nissues,
                 r->nissues > 0 ? agent_issue_code(r->issues[0].reason) : "none");
    assert_int_equal(r->issues[0].field, field);
    if (r->issues[0].reason != reason)
        fail_msg("row %zu: reason %s, expected %s", i, agent_issue_code(r->issues[0].reason),
                 agent_issue_code(reason));
    assert_int_equal(r->issues[0].fatal, fatal);
    assert_int_equal(r->rejected, fatal);
    assert_int_equal(r->issues[0].salvaged, salvaged);
}

static struct agent_encoded *
s_encode(const struct agent_person *p)
{
    struct agent_encoded *o = calloc(1, sizeof *o);

    assert_non_null(o);
    assert_int_equal(agent_encode(s_env.enc, p, NULL, 0, o), 0);
    return o;
}

/* The Dice score of the two persons' CLK segments of field f (0 when either is
 * empty). */
static double
s_dice(const struct agent_person *a, const struct agent_person *b, enum xl_field f)
{
    uint8_t ca[XL_CLK_MAX_BITS / 8], cb[XL_CLK_MAX_BITS / 8];
    unsigned first = 0, nbits = 0, na = 0, nb = 0, both = 0;
    size_t i;

    for (i = 0; i < s_env.spec->nclk_fields && s_env.spec->clk_fields[i].field != f; i++)
        ;
    assert_true(i < s_env.spec->nclk_fields);
    xl_spec_clk_segment(s_env.spec, i, &first, &nbits);
    memset(ca, 0, sizeof ca);
    memset(cb, 0, sizeof cb);
    agent_encode_clk(s_env.enc, a, ca);
    agent_encode_clk(s_env.enc, b, cb);
    for (unsigned byte = first / 8; byte < (first + nbits) / 8; byte++) {
        na += (unsigned)__builtin_popcount(ca[byte]);
        nb += (unsigned)__builtin_popcount(cb[byte]);
        both += (unsigned)__builtin_popcount(ca[byte] & cb[byte]);
    }
    return na + nb == 0 ? 0.0 : 2.0 * both / (na + nb);
}

static int
s_has_token(const struct agent_encoded *o, unsigned level, const uint8_t *tok)
{
    for (size_t i = 0; i < o->rec.n_keys; i++) {
        if (o->rec.keys[i]->level == level &&
            memcmp(o->rec.keys[i]->token.data, tok, XL_TOKEN_BYTES) == 0)
            return 1;
    }
    return 0;
}

static int
s_has_level(const struct agent_encoded *o, unsigned level)
{
    for (size_t i = 0; i < o->rec.n_keys; i++) {
        if (o->rec.keys[i]->level == level)
            return 1;
    }
    return 0;
}

/* Every match-key token of o is one of clean's (a salvaged value never makes
 * a token of its own), and o has none at the levels listed (0-terminated). */
static void
s_tokens_only_valid(const struct agent_encoded *o, const struct agent_encoded *clean,
                    const unsigned *absent)
{
    for (size_t i = 0; i < o->rec.n_keys; i++) {
        if (!s_has_token(clean, o->rec.keys[i]->level, o->rec.keys[i]->token.data))
            fail_msg("a token at level %u that the clean record does not have",
                     o->rec.keys[i]->level);
    }
    for (size_t i = 0; absent[i] != 0; i++) {
        assert_true(s_has_level(clean, absent[i]));
        if (s_has_level(o, absent[i]))
            fail_msg("a token at level %u, which uses a refused value", absent[i]);
    }
}

/* How many of o's blocking keys clean also has. */
static size_t
s_blocks_shared(const struct agent_encoded *o, const struct agent_encoded *clean)
{
    size_t n = 0;

    for (size_t i = 0; i < o->rec.n_blocks; i++) {
        for (size_t j = 0; j < clean->rec.n_blocks; j++) {
            if (memcmp(o->rec.blocks[i].data, clean->rec.blocks[j].data, AGENT_BLOCK_BYTES) == 0) {
                n++;
                break;
            }
        }
    }
    return n;
}

/* p without its salvaged values: what today's encoding would have had. */
static void
s_unsalvaged(const struct agent_person *p, struct agent_person *q)
{
    *q = *p;
    memset(&q->salvage, 0, sizeof q->salvage);
}

/* ---- names --------------------------------------------------------------------- */

static void
test_name_with_digit(void **state)
{
    /* Levels that use the first name or its initial / the surname or its code. */
    static const unsigned first_levels[] = {3, 4, 5, 6, 7, 8, 9, 10, 0};
    static const unsigned surname_levels[] = {3, 4, 5, 6, 7, 8, 10, 11, 0};
    struct agent_encoded *clean, *o;
    struct agent_person bare;
    char v[64];

    s_load_map(s_map_text);
    s_validate(HEADER "1,John,Smith,1987-12-05,M,B1 1AA,,\n"
                      "2,J0hn,Smith,1987-12-05,M,B1 1AA,,\n"
                      "3,John,Smith2,1987-12-05,M,B1 1AA,,\n"
                      "4,Mary,Smith,1987-12-05,M,B1 1AA,,\n");
    assert_int_equal(s_env.rows[0].nissues, 0);
    /* The report is as strict as ever: the name is refused for its characters... */
    s_one_issue(1, AGENT_COL_FIRST_NAME, AGENT_R_NAME_CHARS, 0, 1);
    assert_string_equal(agent_issue_code(s_env.rows[1].issues[0].reason), "name_chars");
    assert_string_equal(s_person(1)->first, "");
    /* ...and its letters are kept apart, for the CLK. */
    assert_string_equal(s_person(1)->salvage.first, "jhn");
    s_one_issue(2, AGENT_COL_SURNAME, AGENT_R_NAME_CHARS, 0, 1);
    assert_string_equal(s_person(2)->surname, "");
    assert_string_equal(s_person(2)->salvage.surname, "smith");
    /* Nothing of it reaches a value match keys hash. */
    assert_int_equal(agent_field_value(s_person(1), XL_F_FIRST_NAME, 1, v, sizeof v),
                     XL_ERR_NOTFOUND);
    assert_int_equal(agent_field_value(s_person(1), XL_F_FIRST_INITIAL, 1, v, sizeof v),
                     XL_ERR_NOTFOUND);

    /* The first-name segment is close to the clean record's, far from another
     * name's, and empty without the salvage. */
    assert_true(s_dice(s_person(0), s_person(1), XL_F_FIRST_NAME) >= 0.6);
    assert_true(s_dice(s_person(0), s_person(3), XL_F_FIRST_NAME) < 0.3);
    s_unsalvaged(s_person(1), &bare);
    assert_true(s_dice(s_person(0), &bare, XL_F_FIRST_NAME) == 0.0);
    /* "Smith2" salvages to the very letters of "Smith". */
    assert_true(s_dice(s_person(0), s_person(2), XL_F_SURNAME) == 1.0);
    assert_true(s_dice(s_person(0), s_person(1), XL_F_SURNAME) == 1.0);

    clean = s_encode(s_person(0));
    o = s_encode(s_person(1));
    s_tokens_only_valid(o, clean, first_levels);
    assert_true(s_has_level(o, 11)); /* surname yob sex, untouched */
    /* Blocking keys: the first name's initial and Soundex from its letters
     * ("jhn" is J500 like "john"), never the salvaged name whole. */
    assert_int_equal(clean->rec.n_blocks, 6);
    assert_int_equal(o->rec.n_blocks, 5);
    assert_int_equal(s_blocks_shared(o, clean), 5);
    free(o);

    o = s_encode(s_person(2));
    s_tokens_only_valid(o, clean, surname_levels);
    assert_true(s_has_level(o, 9)); /* first name, dob, sex, postcode */
    assert_int_equal(o->rec.n_blocks, 5);
    assert_int_equal(s_blocks_shared(o, clean), 5);
    free(o);
    free(clean);
}

/* Digits and symbols only: nothing to salvage, nothing kept. */
static void
test_name_without_letters(void **state)
{
    s_load_map(s_map_text);
    s_validate(HEADER "1,12345,$$,1987-12-05,M,,,\n");
    assert_int_equal(s_env.rows[0].nissues, 2);
    assert_int_equal(s_env.rows[0].issues[0].reason, AGENT_R_NAME_CHARS);
    assert_int_equal(s_env.rows[0].issues[0].salvaged, 0);
    assert_int_equal(s_env.rows[0].issues[1].reason, AGENT_R_NAME_CHARS);
    assert_int_equal(s_env.rows[0].issues[1].salvaged, 0);
    assert_string_equal(s_person(0)->salvage.first, "");
    assert_string_equal(s_person(0)->salvage.surname, "");
}

/* A required field that fails still rejects the row, salvage or not. */
static void
test_required_still_rejects(void **state)
{
    s_load_map("[dataset]\nname = t\nrequired = source_id first_name surname dob\n"
               "[columns]\nsource_id = ID\nfirst_name = Forename\nsurname = Surname\n"
               "dob = DOB\nsex = Sex\npostcode = Postcode\nnhs_number = NHS\nother_id = Other\n"
               "[dob]\nformats = yyyy-mm-dd\nreference = 2024-06-30\n");
    s_validate(HEADER "1,J0hn,Smith,1987-12-05,M,,,\n"
                      "2,John,Smith,1987-13-05,M,,,\n"
                      "3,John,Smith,1987-12-05,M,B1 1AI,,\n");
    s_one_issue(0, AGENT_COL_FIRST_NAME, AGENT_R_NAME_CHARS, 1, 1);
    s_one_issue(1, AGENT_COL_DOB, AGENT_R_DATE_INVALID, 1, 1);
    /* An optional postcode: left out of exact keys, salvaged for the CLK. */
    s_one_issue(2, AGENT_COL_POSTCODE, AGENT_R_POSTCODE, 0, 1);
    assert_string_equal(s_person(2)->postcode, "");
    assert_string_equal(s_person(2)->district, "");
    assert_string_equal(s_person(2)->salvage.postcode, "B1 1AI");
}

/* ---- dates --------------------------------------------------------------------- */

static void
test_date_impossible(void **state)
{
    static const unsigned dob_levels[] = {3, 4, 5, 6, 7, 8, 9, 11, 0};
    struct agent_encoded *clean, *o;
    struct agent_person bare;

    s_load_map(s_map_text);
    s_validate(HEADER "1,John,Smith,1987-12-05,M,B1 1AA,,\n"
                      "2,John,Smith,1987-13-05,M,B1 1AA,,\n"
                      "3,John,Smith,2003-07-22,M,B1 1AA,,\n"
                      "4,John,Smith,1987/12/05,M,B1 1AA,,\n"
                      "5,John,Smith,31/02/1987,M,B1 1AA,,\n");
    s_one_issue(1, AGENT_COL_DOB, AGENT_R_DATE_INVALID, 0, 1);
    assert_string_equal(s_person(1)->dob, "");
    assert_string_equal(s_person(1)->salvage.dob, "1987-13-05");
    assert_string_equal(s_person(1)->salvage.yob, "1987");
    /* Two unrelated dates share a few q-grams ("-0", "7-") and colliding bits. */
    assert_true(s_dice(s_person(0), s_person(1), XL_F_DOB) >= 0.8);
    assert_true(s_dice(s_person(0), s_person(2), XL_F_DOB) <
                s_dice(s_person(0), s_person(1), XL_F_DOB) - 0.3);
    s_unsalvaged(s_person(1), &bare);
    assert_true(s_dice(s_person(0), &bare, XL_F_DOB) == 0.0);

    /* In no format (a slash where the format has a hyphen): the digits in the
     * order of the format whose year comes first, as the value's does. */
    s_one_issue(3, AGENT_COL_DOB, AGENT_R_DATE_FORMAT, 0, 1);
    assert_string_equal(s_person(3)->salvage.dob, "1987-12-05");
    assert_true(s_dice(s_person(0), s_person(3), XL_F_DOB) == 1.0);
    s_one_issue(4, AGENT_COL_DOB, AGENT_R_DATE_INVALID, 0, 1);
    assert_string_equal(s_person(4)->salvage.dob, "1987-02-31");

    clean = s_encode(s_person(0));
    o = s_encode(s_person(1));
    s_tokens_only_valid(o, clean, dob_levels);
    assert_true(s_has_level(o, 10)); /* names and postcode */
    /* Blocking keys: the plausible year, not the date. */
    assert_int_equal(clean->rec.n_blocks, 6);
    assert_int_equal(o->rec.n_blocks, 5);
    assert_int_equal(s_blocks_shared(o, clean), 5);
    free(o);
    free(clean);
}

static void
test_date_implausible(void **state)
{
    struct agent_encoded *clean, *o;

    s_load_map(s_map_text);
    s_validate(HEADER "1,John,Smith,1991-12-05,M,B1 1AA,,\n"
                      "2,John,Smith,2091-12-05,M,B1 1AA,,\n"
                      "3,John,Smith,1850-12-05,M,B1 1AA,,\n"
                      "4,John,Smith,1991-12-05,M,B1 1AA,,\n");
    s_one_issue(1, AGENT_COL_DOB, AGENT_R_DATE_FUTURE, 0, 1);
    assert_string_equal(s_person(1)->salvage.dob, "2091-12-05");
    /* A year after the reference date is no year to block on. */
    assert_string_equal(s_person(1)->salvage.yob, "");
    assert_true(s_dice(s_person(0), s_person(1), XL_F_DOB) >= 0.7);
    s_one_issue(2, AGENT_COL_DOB, AGENT_R_DATE_TOO_OLD, 0, 1);
    assert_string_equal(s_person(2)->salvage.dob, "1850-12-05");
    assert_string_equal(s_person(2)->salvage.yob, "");

    clean = s_encode(s_person(0));
    o = s_encode(s_person(1));
    /* Only the blocking keys with neither year nor date: the names'. */
    assert_int_equal(o->rec.n_blocks, 2);
    assert_int_equal(s_blocks_shared(o, clean), 2);
    assert_false(s_has_level(o, 11));
    free(o);
    free(clean);
}

/* The strong identifiers and sex are never salvaged. */
static void
test_no_salvage_for_identifiers(void **state)
{
    static const struct agent_salvage none;
    struct agent_encoded *o;

    s_load_map(s_map_text);
    s_validate(HEADER "1,John,Smith,1987-12-05,X1,B1 1AA,9434765918,AB12#3\n");
    assert_int_equal(s_env.rows[0].nissues, 3);
    assert_int_equal(s_env.rows[0].issues[0].field, AGENT_COL_SEX);
    assert_int_equal(s_env.rows[0].issues[0].salvaged, 0);
    assert_int_equal(s_env.rows[0].issues[1].reason, AGENT_R_NHS_CHECK);
    assert_int_equal(s_env.rows[0].issues[1].salvaged, 0);
    /* Another identifier: letters and digits, for the CLK only. */
    assert_int_equal(s_env.rows[0].issues[2].reason, AGENT_R_CODE_FORMAT);
    assert_int_equal(s_env.rows[0].issues[2].salvaged, 1);
    assert_string_equal(s_person(0)->salvage.other_id, "AB123");
    assert_string_equal(s_person(0)->nhs, "");
    o = s_encode(s_person(0));
    assert_false(s_has_level(o, 1));
    assert_false(s_has_level(o, 12));
    free(o);
    memset(s_env.rows[0].person.salvage.other_id, 0, sizeof s_env.rows[0].person.salvage.other_id);
    assert_memory_equal(&s_person(0)->salvage, &none, sizeof none);
}

/* ---- missing-value words, partial dates, date parts ---------------------------- */

static void
test_missing_words(void **state)
{
    char text[2048];

    /* The built-in list: such a value is no value at all, not a name. */
    s_load_map(s_map_text);
    s_validate(HEADER "1,UNKNOWN, Not  Known ,n/k,null,-,?,N/A\n"
                      "2,NA,Smith,1987-12-05,M,NFA,,\n");
    assert_int_equal(s_env.rows[0].nissues, 0);
    assert_string_equal(s_person(0)->first, "");
    assert_string_equal(s_person(0)->surname, "");
    assert_string_equal(s_person(0)->salvage.dob, "");
    /* "NA" is a name (Na is a surname); "NFA" a bad postcode. */
    assert_string_equal(s_person(1)->first, "na");
    s_one_issue(1, AGENT_COL_POSTCODE, AGENT_R_POSTCODE, 0, 0);

    /* The mapping extends the list... */
    snprintf(text, sizeof text, "%s", s_map_text);
    strcpy(strstr(text, "[columns]"), "missing_add = NFA, no fixed abode\n[columns]");
    strcat(text, strstr(s_map_text, "[columns]"));
    s_load_map(text);
    s_validate(HEADER "1,John,Smith,1987-12-05,M,nfa,,\n"
                      "2,John,Smith,1987-12-05,M,No Fixed  Abode,,\n");
    assert_int_equal(s_env.rows[0].nissues, 0);
    assert_int_equal(s_env.rows[1].nissues, 0);

    /* ...or replaces it, and a missing required value rejects the row. */
    snprintf(text, sizeof text,
             "[dataset]\nname = t\nrequired = source_id surname\nmissing = NA, ??\n%s",
             strstr(s_map_text, "[columns]"));
    s_load_map(text);
    s_validate(HEADER "1,John,na,1987-12-05,M,,,\n"
                      "2,Unknown,Smith,??,M,,,\n");
    s_one_issue(0, AGENT_COL_SURNAME, AGENT_R_MISSING, 1, 0);
    assert_int_equal(s_env.rows[1].nissues, 0);
    assert_string_equal(s_person(1)->first, "unknown");
    assert_string_equal(s_person(1)->dob, "");
}

static void
test_partial_dates(void **state)
{
    static const unsigned dob_levels[] = {3, 4, 5, 6, 7, 8, 9, 11, 0};
    struct agent_encoded *clean, *o;
    char text[2048];

    snprintf(text, sizeof text,
             "[dataset]\nname = t\nrequired = source_id dob\n%.*s"
             "[dob]\nformats = yyyy-mm-dd | yyyy-mm | yyyy\npartial = yes\n"
             "reference = 2024-06-30\nmin_year = 1900\n",
             (int)(strstr(s_map_text, "[dob]") - strstr(s_map_text, "[columns]")),
             strstr(s_map_text, "[columns]"));
    s_load_map(text);
    s_validate(HEADER "1,John,Smith,1987-12-05,M,B1 1AA,,\n"
                      "2,John,Smith,1987-12,M,B1 1AA,,\n"
                      "3,John,Smith,1987-12-00,M,B1 1AA,,\n"
                      "4,John,Smith,1987,M,B1 1AA,,\n"
                      "5,John,Smith,1987-00-00,M,B1 1AA,,\n"
                      "6,John,Smith,2091-12,M,B1 1AA,,\n"
                      "7,John,Smith,1987-00-05,M,B1 1AA,,\n");
    assert_int_equal(s_env.rows[0].nissues, 0);
    /* Reported, but accepted although dob is required. */
    for (size_t i = 1; i <= 4; i++) {
        s_one_issue(i, AGENT_COL_DOB, AGENT_R_DATE_PARTIAL, 0, 1);
        assert_string_equal(s_person(i)->dob, "");
        assert_string_equal(s_person(i)->salvage.yob, "1987");
    }
    assert_string_equal(agent_issue_code(AGENT_R_DATE_PARTIAL), "date_partial");
    assert_string_equal(s_person(1)->salvage.dob, "1987-12");
    assert_string_equal(s_person(2)->salvage.dob, "1987-12");
    assert_string_equal(s_person(3)->salvage.dob, "1987");
    assert_string_equal(s_person(4)->salvage.dob, "1987");
    /* A partial date is held to the plausibility rules like a full one. */
    s_one_issue(5, AGENT_COL_DOB, AGENT_R_DATE_FUTURE, 1, 1);
    s_one_issue(6, AGENT_COL_DOB, AGENT_R_DATE_INVALID, 1, 1);

    assert_true(s_dice(s_person(0), s_person(1), XL_F_DOB) >= 0.6);
    assert_true(s_dice(s_person(0), s_person(3), XL_F_DOB) >= 0.4);
    clean = s_encode(s_person(0));
    o = s_encode(s_person(1));
    s_tokens_only_valid(o, clean, dob_levels);
    /* The year feeds the year-of-birth blocking keys. */
    assert_int_equal(o->rec.n_blocks, 5);
    assert_int_equal(s_blocks_shared(o, clean), 5);
    free(o);
    free(clean);

    /* Without partial = yes, a 00 day is what it always was: no date. */
    s_load_map(s_map_text);
    s_validate(HEADER "1,John,Smith,1987-12-00,M,B1 1AA,,\n");
    s_one_issue(0, AGENT_COL_DOB, AGENT_R_DATE_INVALID, 0, 1);
    assert_string_equal(s_person(0)->salvage.dob, "1987-12");
}

static void
test_dob_parts(void **state)
{
    char text[2048];
    struct agent_encoded *a, *b;
    struct agent_person one;

    s_load_map(s_map_text);
    s_validate(HEADER "1,John,Smith,1987-05-13,M,B1 1AA,,\n");
    one = *s_person(0);

    snprintf(text, sizeof text,
             "[dataset]\nname = t\nrequired = source_id dob\n[columns]\nsource_id = ID\n"
             "first_name = Forename\nsurname = Surname\ndob_year = Year\ndob_month = Month\n"
             "dob_day = Day\nsex = Sex\npostcode = Postcode\n[dob]\nreference = 2024-06-30\n");
    s_load_map(text);
    s_validate("ID,Forename,Surname,Year,Month,Day,Sex,Postcode\n"
               "1,John,Smith,1987,5,13,M,B1 1AA\n"
               "2,John,Smith,1987,May,13,M,B1 1AA\n"
               "3,John,Smith,1987,06,31,M,B1 1AA\n"
               "4,John,Smith,1987,5,,M,B1 1AA\n"
               "5,John,Smith,,,,M,B1 1AA\n"
               "6,John,Smith,N/K,5,13,M,B1 1AA\n");
    assert_int_equal(s_env.rows[0].nissues, 0);
    assert_string_equal(s_person(0)->dob, "1987-05-13");
    assert_int_equal(s_env.rows[1].nissues, 0);
    assert_string_equal(s_person(1)->dob, "1987-05-13");
    /* The same person, the same tokens as from one dob column. */
    a = s_encode(&one);
    b = s_encode(s_person(0));
    assert_int_equal(a->rec.n_keys, b->rec.n_keys);
    for (size_t i = 0; i < a->rec.n_keys; i++)
        assert_true(s_has_token(b, a->rec.keys[i]->level, a->rec.keys[i]->token.data));
    free(a);
    free(b);
    /* Reported as dob, with the same codes. */
    s_one_issue(2, AGENT_COL_DOB, AGENT_R_DATE_INVALID, 1, 1);
    assert_string_equal(s_person(2)->salvage.dob, "1987-06-31");
    s_one_issue(3, AGENT_COL_DOB, AGENT_R_DATE_INVALID, 1, 1);
    s_one_issue(4, AGENT_COL_DOB, AGENT_R_MISSING, 1, 0);
    s_one_issue(5, AGENT_COL_DOB, AGENT_R_DATE_FORMAT, 1, 1);
    assert_string_equal(s_person(5)->salvage.dob, "-05-13");

    /* Year and month only: partial dates. */
    s_load_map("[dataset]\nname = t\nrequired = source_id\n[columns]\nsource_id = ID\n"
               "dob_year = Year\ndob_month = Month\n[dob]\npartial = yes\n"
               "reference = 2024-06-30\n");
    s_validate("ID,Year,Month\n1,1987,5\n2,1987,\n");
    s_one_issue(0, AGENT_COL_DOB, AGENT_R_DATE_PARTIAL, 0, 1);
    assert_string_equal(s_person(0)->salvage.dob, "1987-05");
    s_one_issue(1, AGENT_COL_DOB, AGENT_R_DATE_PARTIAL, 0, 1);
    assert_string_equal(s_person(1)->salvage.dob, "1987");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_with_digit),
        cmocka_unit_test(test_name_without_letters),
        cmocka_unit_test(test_required_still_rejects),
        cmocka_unit_test(test_date_impossible),
        cmocka_unit_test(test_date_implausible),
        cmocka_unit_test(test_no_salvage_for_identifiers),
        cmocka_unit_test(test_missing_words),
        cmocka_unit_test(test_partial_dates),
        cmocka_unit_test(test_dob_parts),
    };

    return cmocka_run_group_tests_name("tolerant", tests, s_setup, s_teardown);
}
