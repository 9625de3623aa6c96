/* Unit tests for common/spec.c: the example specification parses; the
 * fingerprint ignores layout (comments, spacing, key and section order) and
 * thresholds but follows every change of what agents produce; the CLK's
 * segments are laid out in file order, folded in place, a "+" line sharing the
 * segment before it; a line may have a salt of its own; errors name the file,
 * the line where there is one, and the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "xl/err.h"
#include "xl/spec.h"

#define EXAMPLE "deploy/examples/linkage.spec"

static int
s_setup(void **state)
{
    return xl_crypto_init() == 0 ? 0 : -1;
}

static struct xl_spec *
s_parse(const char *text)
{
    struct xl_spec *s = NULL;
    char err[XL_ERRBUF];

    if (xl_spec_parse(text, "t.spec", &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_non_null(s);
    return s;
}

/* The fingerprint of text, into fp. */
static void
s_fp(const char *text, uint8_t fp[XL_HASH_BYTES])
{
    struct xl_spec *s = s_parse(text);

    memcpy(fp, s->fingerprint, XL_HASH_BYTES);
    free(s);
}

/* ---- the example ---------------------------------------------------------------- */

static void
test_example_loads(void **state)
{
    struct xl_spec *s = NULL;
    char err[XL_ERRBUF] = "";
    const struct xl_spec_level *l;
    uint8_t h[XL_HASH_BYTES];
    char canon[8192];
    int n;

    assert_int_equal(xl_spec_load(EXAMPLE, &s, err, sizeof err), 0);
    assert_non_null(s);
    assert_string_equal(s->name, "coalition-v1");
    assert_int_equal(s->nicknames, 1);
    assert_int_equal(s->nlevels, 9);
    for (size_t i = 0; i < s->nlevels; i++)
        assert_int_equal(s->levels[i].number, i + 1);

    l = xl_spec_level(s, 1);
    assert_non_null(l);
    assert_string_equal(l->name, "nhs");
    assert_true(l->strong);
    assert_int_equal(l->nparts, 1);
    assert_int_equal(l->parts[0], XL_F_NHS_NUMBER);
    assert_true(xl_spec_level(s, 2)->strong);
    assert_false(xl_spec_level(s, 3)->strong);

    l = xl_spec_level(s, 6);
    assert_int_equal(l->variant, XL_VARIANT_NAMES_SWAPPED);
    assert_int_equal(l->compare, 4);
    l = xl_spec_level(s, 7);
    assert_int_equal(l->variant, XL_VARIANT_DOB_TRANSPOSED);
    assert_int_equal(l->compare, 4);
    l = xl_spec_level(s, 5);
    assert_int_equal(l->variant, XL_VARIANT_NONE);
    assert_int_equal(l->compare, 5); /* a level without compare is its own */
    assert_int_equal(l->nparts, 4);
    assert_int_equal(l->parts[0], XL_F_FIRST_INITIAL);
    assert_int_equal(l->parts[3], XL_F_POSTCODE);
    assert_null(xl_spec_level(s, 10));

    /* Segments of 256, 256, 256, 64, 192, 64 and 64 bits, in file order;
     * the names salted with the date of birth; a phonetic code in each of the
     * last two. */
    assert_int_equal(s->clk_bits, 1152);
    assert_int_equal(s->nsegments, 7);
    assert_int_equal(s->clk_q, 2);
    assert_int_equal(s->clk_salt, -1);
    assert_int_equal(s->clk_xor_fold, 0);
    assert_true(s->clk_flip > 0.0199 && s->clk_flip < 0.0201);
    assert_int_equal(xl_spec_clk_bytes(s), 144);
    assert_int_equal(s->nclk_fields, 7);
    assert_int_equal(s->clk_fields[0].field, XL_F_FIRST_NAME);
    assert_int_equal(s->clk_fields[0].k, 12);
    assert_int_equal(s->clk_fields[0].bits, 256);
    assert_int_equal(s->clk_fields[0].offset, 0);
    assert_int_equal(s->clk_fields[0].salt, XL_F_DOB);
    assert_int_equal(s->clk_fields[1].salt, XL_F_DOB);
    assert_int_equal(s->clk_fields[2].salt, -1);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(s->clk_fields[i].segment, i);
        assert_false(s->clk_fields[i].shared);
    }
    assert_int_equal(s->clk_fields[5].field, XL_F_SURNAME_PHONETIC);
    assert_int_equal(s->clk_fields[5].offset, 1024);
    assert_int_equal(s->clk_fields[5].bits, 64);
    assert_int_equal(s->clk_fields[6].field, XL_F_FIRST_PHONETIC);
    assert_int_equal(s->clk_fields[6].offset, 1088);
    assert_int_equal(s->clk_fields[6].bits, 64);
    assert_int_equal(s->clk_fields[3].field, XL_F_SEX);
    assert_int_equal(s->clk_fields[3].offset, 768);
    assert_int_equal(s->clk_fields[4].field, XL_F_POSTCODE);
    assert_int_equal(s->clk_fields[4].k, 10);
    assert_int_equal(s->clk_fields[4].bits, 192);
    assert_int_equal(s->clk_fields[4].offset, 832);
    assert_int_equal(s->nblocks, 6);
    assert_int_equal(s->blocks[3].nparts, 2);
    assert_int_equal(s->blocks[3].parts[0], XL_F_SECTOR);
    assert_int_equal(s->blocks[3].parts[1], XL_F_YOB);
    assert_int_equal(s->blocks[5].nparts, 1);
    assert_int_equal(s->blocks[5].parts[0], XL_F_POSTCODE);
    assert_true(s->accept > 0.799 && s->accept < 0.801);
    assert_true(s->possible > 0.499 && s->possible < 0.501);

    /* The fingerprint is SHA-256 of the canonical text, which has no thresholds. */
    n = xl_spec_canonical(s, canon, sizeof canon);
    assert_true(n > 0);
    assert_int_equal(strlen(canon), n);
    xl_sha256(canon, (size_t)n, h);
    assert_memory_equal(h, s->fingerprint, sizeof h);
    assert_null(strstr(canon, "0.8"));
    assert_null(strstr(canon, "0.5"));
    assert_non_null(strstr(canon, "name=coalition-v1\n"));
    assert_int_equal(strncmp(canon, "crosslink-spec 2\n", 17), 0);
    assert_non_null(strstr(canon, "\nclk bits=1152 q=2 salt=none xor_fold=0 flip=0.0200\n"));
    assert_non_null(strstr(canon, "\nclk_field=first_name k=12 bits=256 salt=dob\n"));
    assert_non_null(strstr(canon, "\nclk_field=postcode k=10 bits=192\n"));
    assert_non_null(strstr(canon, "\nclk_field=first_phonetic k=8 bits=64\n"));
    assert_non_null(strstr(canon, "\nblock=5 fields=postcode\n"));
    /* Too small a buffer is an error, not a silently shorter text. */
    assert_int_equal(xl_spec_canonical(s, canon, (size_t)n), XL_ERR_INVALID);
    assert_int_equal(xl_spec_canonical(s, canon, (size_t)n + 1), n);
    free(s);
}

static void
test_field_names(void **state)
{
    enum xl_field f;

    for (int i = 0; i < XL_F_COUNT; i++) {
        const char *name = xl_field_name((enum xl_field)i);
        assert_non_null(name);
        assert_int_equal(xl_field_parse(name, &f), 0);
        assert_int_equal(f, i);
    }
    assert_null(xl_field_name(XL_F_COUNT));
    assert_int_equal(xl_field_parse("Surname", &f), XL_ERR_INVALID);
    assert_int_equal(xl_field_parse("", &f), XL_ERR_INVALID);
}

static void
test_load_missing_file(void **state)
{
    struct xl_spec *s = (struct xl_spec *)&s;
    char err[XL_ERRBUF] = "";

    assert_int_equal(xl_spec_load("tests/vectors/no-such.spec", &s, err, sizeof err),
                     XL_ERR_NOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err, "tests/vectors/no-such.spec"));
}

/* ---- the fingerprint --------------------------------------------------------------- */

/* A small specification; variants below are written against it. */
static const char s_base[] = "[spec]\n"
                             "name = t1\n"
                             "nicknames = yes\n"
                             "[level 1]\n"
                             "name = nhs\n"
                             "fields = nhs_number\n"
                             "strong = yes\n"
                             "[level 4]\n"
                             "name = name_dob\n"
                             "fields = first_name surname dob\n"
                             "[level 6]\n"
                             "name = swapped\n"
                             "fields = first_name surname dob\n"
                             "variant = names_swapped\n"
                             "compare = 4\n"
                             "[level 9]\n"
                             "fields = first_name dob sex\n"
                             "[clk]\n"
                             "q = 2\n"
                             "field = first_name 20 256\n"
                             "field = surname 20 256\n"
                             "flip = 0.02\n"
                             "salt = none\n"
                             "xor_fold = no\n"
                             "[blocking]\n"
                             "key = surname_phonetic yob\n"
                             "key = first_initial dob\n"
                             "[thresholds]\n"
                             "accept = 0.8\n"
                             "possible = 0.7\n";

/* The same meaning, laid out differently. */
static const char *const s_same[] = {
    /* comments (both prefixes, and after a value), blank lines, spacing around '=' */
    "; a comment\n"
    "# another\n"
    "\n"
    "[spec]\n"
    "name=t1\n"
    "nicknames   =   yes   \n"
    "\n"
    "[level 1]\n"
    "name = nhs ; the strongest\n"
    "fields = nhs_number\n"
    "strong = yes\n"
    "\n\n"
    "[level 4]\n"
    "name = name_dob\n"
    "fields = first_name  surname\tdob\n"
    "[level 6]\n"
    "name = swapped\n"
    "fields = first_name, surname, dob\n"
    "variant = names_swapped\n"
    "compare = 4\n"
    "[level 9]\n"
    "fields = first_name dob sex ; no name given\n"
    "[clk]\n"
    "q = 2\n"
    "field = first_name  20\t256\n"
    "field = surname 20 256 ; bits of its segment\n"
    "flip = 0.020\n"
    "salt = none\n"
    "xor_fold = no\n"
    "[blocking]\n"
    "key = surname_phonetic yob\n"
    "key = first_initial dob\n"
    "[thresholds]\n"
    "accept = 0.8\n"
    "possible = 0.7\n",
    /* keys reordered within sections, sections reordered, defaults written out
     * (salt none, xor_fold no, level 4 compares with itself, strong no) or left
     * out (q 2), flip written otherwise */
    "[thresholds]\n"
    "possible = 0.7\n"
    "accept = 0.8\n"
    "[blocking]\n"
    "key = surname_phonetic yob\n"
    "key = first_initial dob\n"
    "[level 9]\n"
    "name = level9\n"
    "fields = first_name dob sex\n"
    "[level 6]\n"
    "compare = 4\n"
    "variant = names_swapped\n"
    "fields = first_name surname dob\n"
    "name = swapped\n"
    "[clk]\n"
    "xor_fold = no\n"
    "flip = 2e-2\n"
    "field = first_name 20 256\n"
    "field = surname 20 256\n"
    "[level 4]\n"
    "fields = first_name surname dob\n"
    "name = name_dob\n"
    "compare = 4\n"
    "strong = no\n"
    "[spec]\n"
    "nicknames = true\n"
    "name = t1\n"
    "[level 1]\n"
    "strong = 1\n"
    "fields = nhs_number\n"
    "name = nhs\n",
    /* thresholds changed or left out: they tune the linker, not the agents */
    "[spec]\nname = t1\nnicknames = yes\n"
    "[level 1]\nname = nhs\nfields = nhs_number\nstrong = yes\n"
    "[level 4]\nname = name_dob\nfields = first_name surname dob\n"
    "[level 6]\nname = swapped\nfields = first_name surname dob\nvariant = names_swapped\n"
    "compare = 4\n"
    "[level 9]\nfields = first_name dob sex\n"
    "[clk]\nq = 2\nfield = first_name 20 256\nfield = surname 20 256\nflip = 0.02\n"
    "[blocking]\nkey = surname_phonetic yob\nkey = first_initial dob\n"
    "[thresholds]\naccept = 0.95\npossible = 0.5\n",
    "[spec]\nname = t1\nnicknames = yes\n"
    "[level 1]\nname = nhs\nfields = nhs_number\nstrong = yes\n"
    "[level 4]\nname = name_dob\nfields = first_name surname dob\n"
    "[level 6]\nname = swapped\nfields = first_name surname dob\nvariant = names_swapped\n"
    "compare = 4\n"
    "[level 9]\nfields = first_name dob sex\n"
    "[clk]\nq = 2\nfield = first_name 20 256\nfield = surname 20 256\nflip = 0.02\n"
    "[blocking]\nkey = surname_phonetic yob\nkey = first_initial dob\n",
};

/* The text of the file with CRLF line ends, or every comment line removed. */
static char *
s_rewrite(const char *text, int crlf, int drop_comments)
{
    char *out = malloc(2 * strlen(text) + 1);
    size_t n = 0;

    assert_non_null(out);
    for (const char *line = text; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        if (!(drop_comments && (line[0] == ';' || line[0] == '#'))) {
            memcpy(out + n, line, len);
            n += len;
            if (crlf)
                out[n++] = '\r';
            out[n++] = '\n';
        }
        line += nl != NULL ? len + 1 : len;
    }
    out[n] = '\0';
    return out;
}

static void
test_fingerprint_stable(void **state)
{
    uint8_t base[XL_HASH_BYTES], fp[XL_HASH_BYTES];
    char *text, *alt;

    s_fp(s_base, base);
    for (size_t i = 0; i < sizeof s_same / sizeof s_same[0]; i++) {
        s_fp(s_same[i], fp);
        if (memcmp(fp, base, sizeof fp) != 0)
            fail_msg("layout variant %zu changed the fingerprint", i);
    }

    /* The example without its comments, and with CRLF line ends. */
    text = tu_read_file(EXAMPLE);
    assert_non_null(text);
    s_fp(text, base);
    alt = s_rewrite(text, 0, 1);
    assert_true(strlen(alt) < strlen(text) / 2); /* the example is mostly comments */
    s_fp(alt, fp);
    assert_memory_equal(fp, base, sizeof fp);
    free(alt);
    alt = s_rewrite(text, 1, 0);
    s_fp(alt, fp);
    assert_memory_equal(fp, base, sizeof fp);
    free(alt);
    free(text);
}

/* s_base with the first `from` replaced by `to`. */
static char *
s_edit(const char *from, const char *to)
{
    const char *at = strstr(s_base, from);
    char *out;

    assert_non_null(at);
    out = malloc(sizeof s_base + strlen(to));
    assert_non_null(out);
    memcpy(out, s_base, (size_t)(at - s_base));
    strcpy(out + (at - s_base), to);
    strcat(out, at + strlen(from));
    return out;
}

static void
test_fingerprint_changes(void **state)
{
    /* Each changes the bytes some agent produces (or which tokens are joined). */
    static const char *const edits[][2] = {
        {"name = t1\n", "name = t2\n"},
        {"nicknames = yes\n", "nicknames = no\n"},
        {"[level 1]\n", "[level 2]\n"},     /* a level number... */
        {"compare = 4\n", "compare = 6\n"}, /* ...and what a variant joins */
        {"name = name_dob\n", "name = namedob\n"},
        {"fields = first_name dob sex\n", "fields = first_name dob sex postcode\n"},
        {"fields = first_name dob sex\n", "fields = dob first_name sex\n"},
        {"fields = first_name dob sex\n", "fields = first_name dob sex\nname = nine\n"},
        {"fields = first_name dob sex\n", "fields = first_name dob sex\ncompare = 9\n"
                                          "strong = no\nvariant = dob_transposed\n"},
        {"strong = yes\n", "strong = no\n"},
        {"variant = names_swapped\n", "variant = none\n"},
        {"q = 2\n", "q = 3\n"},
        {"field = first_name 20 256\n", "field = first_name 21 256\n"},
        {"field = first_name 20 256\n", "field = first_name 20 512\n"}, /* a segment's size */
        {"field = surname 20 256\n", "field = surname 20 192\n"},
        {"field = surname 20 256\n", "field = surname 20 256\nfield = dob 10 128\n"},
        {"field = first_name 20 256\nfield = surname 20 256\n", /* the segments' order */
         "field = surname 20 256\nfield = first_name 20 256\n"},
        {"field = surname 20 256\n", "field = surname 20 +\n"}, /* shared, not its own */
        {"field = surname 20 256\n", "field = surname 20 256\nfield = dob 10 +\n"},
        {"field = surname 20 256\n", "field = surname 20 256\nfield = dob 11 +\n"},
        {"field = surname 20 256\n", "field = surname 20 256\nfield = dob 10 256\n"},
        {"field = surname 20 256\n", "field = surname 20 256\nfield = dob 10 + yob\n"},
        {"field = surname 20 256\n", "field = surname 20 256 dob\n"}, /* a line's salt */
        {"field = surname 20 256\n", "field = surname 20 256 yob\n"},
        {"field = first_name 20 256\n", "field = first_name 20 256 dob\n"},
        {"flip = 0.02\n", "flip = 0.03\n"},
        {"flip = 0.02\n", "flip = 0.0201\n"},
        {"flip = 0.02\n", "flip = 0\n"},
        {"salt = none\n", "salt = yob\n"},
        {"xor_fold = no\n", "xor_fold = yes\n"},
        {"key = surname_phonetic yob\n", "key = surname_phonetic dob\n"},
        {"key = first_initial dob\n", "key = first_initial dob\nkey = district yob\n"},
        {"key = surname_phonetic yob\nkey = first_initial dob\n",
         "key = first_initial dob\nkey = surname_phonetic yob\n"},
    };
#define S_NEDITS (sizeof edits / sizeof edits[0])
    uint8_t fps[S_NEDITS + 1][XL_HASH_BYTES];

    s_fp(s_base, fps[0]);
    for (size_t i = 0; i < S_NEDITS; i++) {
        char *text = s_edit(edits[i][0], edits[i][1]);
        s_fp(text, fps[i + 1]);
        free(text);
        for (size_t j = 0; j <= i; j++) {
            if (memcmp(fps[i + 1], fps[j], XL_HASH_BYTES) == 0)
                fail_msg("edit %zu ('%s' -> '%s') gives the fingerprint of %s %zu", i, edits[i][0],
                         edits[i][1], j == 0 ? "the base" : "edit", j - 1);
        }
    }
#undef S_NEDITS
}

/* ---- the CLK's segments ---------------------------------------------------------- */

/* A specification whose [clk] is the given text (the rest fixed). */
static struct xl_spec *
s_clk(const char *clk)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\n[clk]\n%s"
                     "[blocking]\nkey = yob\n",
                     clk);

    assert_true(n > 0 && (size_t)n < sizeof text);
    return s_parse(text);
}

/* Segments are laid out in file order; as sent, folding halves each one in place. */
static void
test_clk_segments(void **state)
{
    static const unsigned plain[][2] = {{0, 256}, {256, 64}, {320, 192}, {512, 128}};
    static const unsigned folded[][2] = {{0, 128}, {128, 64}, {192, 192}, {384, 64}};
    struct xl_spec *s;
    unsigned first, nbits;

    s = s_clk("field = surname 10 256\nfield = sex 4 64\nfield = dob 8 192\n"
              "field = postcode 6 128\n");
    assert_int_equal(s->nclk_fields, 4);
    assert_int_equal(s->clk_bits, 640);
    assert_int_equal(xl_spec_clk_bytes(s), 80);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s->clk_fields[i].offset, plain[i][0]);
        assert_int_equal(s->clk_fields[i].bits, plain[i][1]);
        xl_spec_clk_segment(s, i, &first, &nbits);
        assert_int_equal(first, plain[i][0]);
        assert_int_equal(nbits, plain[i][1]);
    }
    assert_int_equal(s->clk_fields[2].field, XL_F_DOB);
    assert_int_equal(s->clk_fields[2].k, 8);
    free(s);

    s = s_clk("xor_fold = yes\nfield = surname 10 256\nfield = sex 4 128\n"
              "field = dob 8 384\nfield = postcode 6 128\n");
    assert_int_equal(s->clk_bits, 896); /* before folding */
    assert_int_equal(xl_spec_clk_bytes(s), 56);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s->clk_fields[i].bits, 2 * folded[i][1]);
        assert_int_equal(s->clk_fields[i].offset, 2 * folded[i][0]);
        xl_spec_clk_segment(s, i, &first, &nbits);
        assert_int_equal(first, folded[i][0]);
        assert_int_equal(nbits, folded[i][1]);
    }
    free(s);

    /* The largest CLK: 4096 bits in all, in one segment or several. */
    s = s_clk("field = surname 10 4096\n");
    assert_int_equal(s->clk_bits, XL_CLK_MAX_BITS);
    assert_int_equal(xl_spec_clk_bytes(s), XL_CLK_MAX_BITS / 8);
    free(s);
    s = s_clk("field = surname 10 2048\nfield = first_name 10 1984\nfield = dob 8 64\n");
    assert_int_equal(s->clk_bits, XL_CLK_MAX_BITS);
    free(s);
}

/* A "+" line adds its field to the segment of the line before: same offset,
 * length and segment number, and no bits added to the CLK. A field may be in
 * several segments, but once in each. */
static void
test_clk_shared(void **state)
{
    static const struct {
        enum xl_field field;
        unsigned offset, bits, segment;
        int shared;
    } want[] = {
        {XL_F_FIRST_NAME, 0, 256, 0, 0}, {XL_F_DOB, 0, 256, 0, 1},   {XL_F_SURNAME, 256, 192, 1, 0},
        {XL_F_DOB, 448, 128, 2, 0},      {XL_F_YOB, 448, 128, 2, 1}, {XL_F_SEX, 448, 128, 2, 1},
        {XL_F_SEX, 576, 64, 3, 0},
    };
    struct xl_spec *s, *alone;
    unsigned first, nbits, pfirst, pnbits;
    char clk[512];

    s = s_clk("field = first_name 10 256\nfield = dob 6 +\nfield = surname 10 192\n"
              "field = dob 8 128\nfield = yob 4 +\nfield = sex 2 +\nfield = sex 4 64\n");
    assert_int_equal(s->nclk_fields, 7);
    assert_int_equal(s->nsegments, 4);
    assert_int_equal(s->clk_bits, 640);
    assert_int_equal(xl_spec_clk_bytes(s), 80);
    for (size_t i = 0; i < s->nclk_fields; i++) {
        const struct xl_spec_clk_field *cf = &s->clk_fields[i];
        if (cf->field != want[i].field || cf->offset != want[i].offset ||
            cf->bits != want[i].bits || cf->segment != want[i].segment ||
            cf->shared != want[i].shared)
            fail_msg("line %zu: field %d offset %u bits %u segment %u shared %d", i, cf->field,
                     cf->offset, cf->bits, cf->segment, cf->shared);
        xl_spec_clk_segment(s, i, &first, &nbits);
        assert_int_equal(first, cf->offset);
        assert_int_equal(nbits, cf->bits);
        if (cf->shared) {
            xl_spec_clk_segment(s, i - 1, &pfirst, &pnbits);
            assert_int_equal(first, pfirst);
            assert_int_equal(nbits, pnbits);
        }
    }
    /* A "+" line adds no bits: the same filter as without the lines. */
    alone = s_clk("field = first_name 10 256\nfield = surname 10 192\nfield = dob 8 128\n"
                  "field = sex 4 64\n");
    assert_int_equal(alone->clk_bits, s->clk_bits);
    assert_int_equal(alone->nsegments, s->nsegments);
    free(alone);
    free(s);

    /* Folded: a shared segment is halved once, like any other. */
    s = s_clk("xor_fold = yes\nfield = surname 10 256\nfield = dob 6 +\nfield = sex 4 128\n");
    assert_int_equal(s->clk_bits, 384);
    assert_int_equal(xl_spec_clk_bytes(s), 24);
    xl_spec_clk_segment(s, 1, &first, &nbits);
    assert_int_equal(first, 0);
    assert_int_equal(nbits, 128);
    xl_spec_clk_segment(s, 2, &first, &nbits);
    assert_int_equal(first, 128);
    assert_int_equal(nbits, 64);
    free(s);

    /* A shared segment of a segment at the 4096-bit limit still fits. */
    s = s_clk("field = surname 10 4096\nfield = first_name 10 +\n");
    assert_int_equal(s->clk_bits, XL_CLK_MAX_BITS);
    assert_int_equal(s->nsegments, 1);
    free(s);

    /* XL_SPEC_MAX_CLK lines, alternating segments so no field is twice in one. */
    clk[0] = '\0';
    for (int i = 0; i < XL_SPEC_MAX_CLK / 2; i++)
        strcat(clk, "field = dob 1 64\nfield = sex 1 +\n");
    s = s_clk(clk);
    assert_int_equal(s->nclk_fields, XL_SPEC_MAX_CLK);
    assert_int_equal(s->nsegments, XL_SPEC_MAX_CLK / 2);
    assert_int_equal(s->clk_fields[XL_SPEC_MAX_CLK - 1].segment, XL_SPEC_MAX_CLK / 2 - 1);
    free(s);
}

/* A line's own salt field; the [clk] salt stays for the lines without one. */
static void
test_clk_line_salt(void **state)
{
    struct xl_spec *s;
    uint8_t a[XL_HASH_BYTES], b[XL_HASH_BYTES];

    s = s_clk("salt = yob\nfield = first_name 10 256 dob\nfield = surname 10 + sex\n"
              "field = dob 8 128\n");
    assert_int_equal(s->clk_salt, XL_F_YOB);
    assert_int_equal(s->clk_fields[0].salt, XL_F_DOB);
    assert_int_equal(s->clk_fields[1].salt, XL_F_SEX);
    assert_true(s->clk_fields[1].shared);
    /* A field after "+" shares the segment of the line before. */
    assert_int_equal(s->nsegments, 2);
    assert_int_equal(s->clk_fields[1].segment, 0);
    assert_int_equal(s->clk_fields[1].offset, 0);
    assert_int_equal(s->clk_fields[1].bits, 256);
    assert_int_equal(s->clk_fields[2].segment, 1);
    assert_int_equal(s->clk_fields[2].offset, 256);
    assert_int_equal(s->clk_fields[2].salt, -1);
    assert_int_equal(s->clk_bits, 384);
    memcpy(a, s->fingerprint, sizeof a);
    free(s);

    /* Spacing and comments do not count; the salt does. */
    s = s_clk("salt = yob\nfield = first_name\t10  256   dob ; salted\n"
              "field = surname 10\t+ sex\nfield = dob 8 128\n");
    assert_memory_equal(s->fingerprint, a, sizeof a);
    free(s);
    s = s_clk("salt = yob\nfield = first_name 10 256 yob\nfield = surname 10 + sex\n"
              "field = dob 8 128\n");
    memcpy(b, s->fingerprint, sizeof b);
    assert_memory_not_equal(a, b, sizeof a);
    free(s);
}

/* flip is kept to four decimals, so how it is written does not matter. */
static void
test_clk_flip(void **state)
{
    static const struct {
        const char *written;
        double kept;
    } flips[] = {{"0", 0.0},          {"0.0", 0.0},        {"0.00004", 0.0},
                 {"0.00005", 0.0001}, {"0.01234", 0.0123}, {"0.02", 0.02},
                 {"2e-2", 0.02},      {"0.25", 0.25},      {"0.24996", 0.25}};
    struct xl_spec *s;
    char clk[128];

    s = s_clk("field = surname 10 256\n");
    assert_true(s->clk_flip == 0.0); /* none unless asked */
    free(s);
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        snprintf(clk, sizeof clk, "field = surname 10 256\nflip = %s\n", flips[i].written);
        s = s_clk(clk);
        if (s->clk_flip < flips[i].kept - 1e-9 || s->clk_flip > flips[i].kept + 1e-9)
            fail_msg("flip = %s kept as %.6f, not %.4f", flips[i].written, s->clk_flip,
                     flips[i].kept);
        free(s);
    }
}

/* The canonical text states the CLK's whole layout: each segment's field, k and
 * length, their sum, and flip. */
static void
test_canonical_clk(void **state)
{
    struct xl_spec *s;
    char canon[8192];

    s = s_clk("q = 3\nfield = surname 10 256\nfield = sex 4 64\nflip = 0.015\nsalt = yob\n");
    assert_true(xl_spec_canonical(s, canon, sizeof canon) > 0);
    assert_int_equal(strncmp(canon, "crosslink-spec 2\n", 17), 0);
    if (strstr(canon, "\nclk bits=320 q=3 salt=yob xor_fold=0 flip=0.0150\n"
                      "clk_field=surname k=10 bits=256\nclk_field=sex k=4 bits=64\n"
                      "block=0 fields=yob\n") == NULL)
        fail_msg("canonical text:\n%s", canon);
    free(s);

    s = s_clk("xor_fold = yes\nfield = surname 10 384\nfield = sex 4 128\n");
    assert_true(xl_spec_canonical(s, canon, sizeof canon) > 0);
    if (strstr(canon, "\nclk bits=512 q=2 salt=none xor_fold=1 flip=0.0000\n"
                      "clk_field=surname k=10 bits=384\nclk_field=sex k=4 bits=128\n") == NULL)
        fail_msg("canonical text:\n%s", canon);
    free(s);

    /* A "+" line as bits=+, a line's own salt after its bits; the sum counts
     * each segment once. */
    s = s_clk("salt = yob\nfield = first_name 10 256 dob\nfield = dob 6 +\n"
              "field = surname 10 128\nfield = yob 4 + sex\n");
    assert_true(xl_spec_canonical(s, canon, sizeof canon) > 0);
    if (strstr(canon, "\nclk bits=384 q=2 salt=yob xor_fold=0 flip=0.0000\n"
                      "clk_field=first_name k=10 bits=256 salt=dob\n"
                      "clk_field=dob k=6 bits=+\n"
                      "clk_field=surname k=10 bits=128\n"
                      "clk_field=yob k=4 bits=+ salt=sex\n"
                      "block=0 fields=yob\n") == NULL)
        fail_msg("canonical text:\n%s", canon);
    free(s);
}

/* ---- errors ---------------------------------------------------------------------- */

struct s_bad {
    const char *what;
    const char *text;
    int line;           /* expected line in the message; 0: no line (a whole-file check) */
    const char *reason; /* a substring of the message */
};

/* inih reports the line of the key it was handling, so an error about a
 * section header is reported at the first key under it. */
static const struct s_bad s_bads[] = {
    {"unknown section", "[spec]\nname = t1\n[spek]\nname = x\n", 4, "unknown section [spek]"},
    {"unknown key in [spec]", "[spec]\nname = t1\ncolour = red\n", 3, "unknown key 'colour'"},
    {"unknown key in a level", "[spec]\nname = t1\n[level 2]\nname = a\nfield = dob\n", 5,
     "unknown key 'field' in [level 2]"},
    {"unknown key in [clk]", "[spec]\nname = t1\n[clk]\nq = 2\nk = 3\n", 5,
     "unknown key 'k' in [clk]"},
    /* Specification v1 set one length for the whole CLK. */
    {"bits for the whole CLK", "[spec]\nname = t1\n[clk]\nq = 2\nbits = 1024\n", 5,
     "each field has a segment of its own, 'field = NAME K BITS'"},
    {"q out of range", "[spec]\nname = t1\n[clk]\nq = 5\n", 4, "q must be 1 to 4"},
    {"clk field without k", "[spec]\nname = t1\n[clk]\nfield = surname\n", 4,
     "field takes a field name, k (1-64), the bits of its segment"},
    {"clk field without bits", "[spec]\nname = t1\n[clk]\nfield = surname 10\n", 4,
     "field takes a field name, k (1-64), the bits of its segment"},
    {"clk field with more after its salt", "[spec]\nname = t1\n[clk]\nfield = dob 3 64 yob x\n", 4,
     "field takes a field name"},
    {"clk field k zero", "[spec]\nname = t1\n[clk]\nfield = surname 0 256\n", 4, "k (1-64)"},
    {"clk field k too large", "[spec]\nname = t1\n[clk]\nfield = surname 65 256\n", 4, "k (1-64)"},
    {"clk field k negative", "[spec]\nname = t1\n[clk]\nfield = surname -1 256\n", 4, "k (1-64)"},
    {"segment not a multiple of 64", "[spec]\nname = t1\n[clk]\nq = 2\nfield = dob 3 1000\n", 5,
     "multiple of 64"},
    {"segment zero", "[spec]\nname = t1\n[clk]\nfield = dob 3 0\n", 4, "multiple of 64"},
    {"segment of 32 bits", "[spec]\nname = t1\n[clk]\nfield = dob 3 32\n", 4, "multiple of 64"},
    {"segment not a number", "[spec]\nname = t1\n[clk]\nfield = dob 3 1k\n", 4, "multiple of 64"},
    {"unknown salt field", "[spec]\nname = t1\n[clk]\nfield = dob 3 64 x\n", 4,
     "unknown salt field 'x'"},
    {"unknown salt field of a + line",
     "[spec]\nname = t1\n[clk]\nfield = dob 3 64\nfield = sex 3 + shoe_size\n", 5,
     "unknown salt field 'shoe_size'"},
    {"bits with more after them", "[spec]\nname = t1\n[clk]\nfield = dob 3 64x\n", 4,
     "multiple of 64"},
    {"+ with more after it", "[spec]\nname = t1\n[clk]\nfield = dob 3 64\nfield = sex 3 ++\n", 5,
     "multiple of 64, or +"},
    {"+ on the first line", "[spec]\nname = t1\n[clk]\nq = 2\nfield = dob 3 +\n", 5,
     "the first field line cannot share a segment (+)"},
    {"+ on the first line, with a salt", "[spec]\nname = t1\n[clk]\nfield = dob 3 + yob\n", 4,
     "the first field line cannot share a segment (+)"},
    {"one segment past 4096", "[spec]\nname = t1\n[clk]\nfield = dob 3 4160\n", 4,
     "segments add up to more than 4096 bits"},
    {"segments adding up past 4096",
     "[spec]\nname = t1\n[clk]\nfield = surname 10 2048\nfield = first_name 10 1984\n"
     "field = dob 3 128\n",
     6, "segments add up to more than 4096 bits"},
    /* A negative length read as unsigned must not wrap the sum round to a small one. */
    {"segment negative", "[spec]\nname = t1\n[clk]\nfield = surname 10 -64\n", 4, "multiple of 64"},
    {"segment negative after another",
     "[spec]\nname = t1\n[clk]\nfield = dob 3 64\nfield = surname 10 -64\n", 5, "multiple of 64"},
    {"segment of 2^32 - 64 after another",
     "[spec]\nname = t1\n[clk]\nfield = dob 3 64\nfield = surname 10 4294967232\n", 5,
     "segments add up to more than 4096 bits"},
    {"clk field twice in one segment",
     "[spec]\nname = t1\n[clk]\nfield = dob 3 64\nfield = dob 4 +\n", 5,
     "field 'dob' listed twice in one segment"},
    {"clk field twice in one segment, a line between",
     "[spec]\nname = t1\n[clk]\nfield = surname 3 64\nfield = dob 3 128\nfield = sex 4 +\n"
     "field = dob 4 + yob\n",
     7, "field 'dob' listed twice in one segment"},
    {"more field lines than XL_SPEC_MAX_CLK",
     "[spec]\nname = t1\n[clk]\n"
     "field = dob 1 64\nfield = sex 1 +\nfield = dob 1 64\nfield = sex 1 +\n"
     "field = dob 1 64\nfield = sex 1 +\nfield = dob 1 64\nfield = sex 1 +\n"
     "field = dob 1 64\nfield = sex 1 +\nfield = dob 1 64\nfield = sex 1 +\n"
     "field = dob 1 64\nfield = sex 1 +\nfield = dob 1 64\nfield = sex 1 +\n"
     "field = dob 1 64\nfield = sex 1 +\nfield = dob 1 64\nfield = sex 1 +\n"
     "field = dob 1 64\nfield = sex 1 +\nfield = dob 1 64\nfield = sex 1 +\n"
     "field = yob 1 +\n",
     28, "more than 24 field lines"},
    {"unknown clk field", "[spec]\nname = t1\n[clk]\nfield = shoe_size 3 64\n", 4,
     "unknown field 'shoe_size'"},
    {"flip above 0.25", "[spec]\nname = t1\n[clk]\nflip = 0.3\n", 4,
     "flip must be a probability from 0 to 0.25"},
    {"flip just above 0.25", "[spec]\nname = t1\n[clk]\nflip = 0.25001\n", 4,
     "flip must be a probability"},
    {"flip negative", "[spec]\nname = t1\n[clk]\nflip = -0.01\n", 4, "flip must be a probability"},
    {"flip not a number", "[spec]\nname = t1\n[clk]\nflip = nan\n", 4,
     "flip must be a probability"},
    {"flip with a unit", "[spec]\nname = t1\n[clk]\nflip = 2%\n", 4, "flip must be a probability"},
    {"flip empty", "[spec]\nname = t1\n[clk]\nflip =\n", 4, "flip must be a probability"},
    {"xor_fold with a 64-bit segment",
     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\n[clk]\nfield = surname 10 256\n"
     "field = sex 4 64\nxor_fold = yes\n[blocking]\nkey = yob\n",
     0, "xor_fold needs every segment to be a multiple of 128 bits"},
    {"xor_fold with a 192-bit segment",
     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\n[clk]\nxor_fold = yes\n"
     "field = postcode 10 192\n[blocking]\nkey = yob\n",
     0, "xor_fold needs every segment to be a multiple of 128 bits"},
    {"duplicate level",
     "[spec]\nname = t1\n[level 4]\nfields = dob\n[level 5]\nfields = sex\n[level 4]\n"
     "fields = upn\n",
     8, "[level 4] appears twice"},
    {"level number zero", "[spec]\nname = t1\n[level 0]\nfields = dob\n", 4,
     "level number must be 1-255"},
    {"unknown field in a level", "[spec]\nname = t1\n[level 3]\nfields = dob shoe_size\n", 4,
     "unknown field 'shoe_size'"},
    {"field twice in a level", "[spec]\nname = t1\n[level 3]\nfields = dob sex dob\n", 4,
     "listed twice"},
    {"unknown variant", "[spec]\nname = t1\n[level 3]\nfields = dob\nvariant = reversed\n", 5,
     "variant must be"},
    {"threshold out of range", "[spec]\nname = t1\n[thresholds]\naccept = 1.5\n", 4,
     "threshold must be"},
    {"a line that is not key = value", "[spec]\nname = t1\njust words\n", 3, "malformed line"},
    {"compare with a missing level",
     "[spec]\nname = t1\n[level 4]\nfields = first_name surname dob\n[level 6]\n"
     "fields = first_name surname dob\nvariant = names_swapped\ncompare = 7\n"
     "[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n",
     0, "[level 6] compares with level 7, which does not exist"},
    {"compare with a level of other fields",
     "[spec]\nname = t1\n[level 4]\nfields = first_name surname dob\n[level 7]\n"
     "fields = first_name dob\nvariant = dob_transposed\ncompare = 4\n"
     "[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n",
     0, "[level 7] compares with level 4 but lists different fields"},
    {"compare with a variant",
     "[spec]\nname = t1\n[level 4]\nfields = first_name surname dob\n[level 6]\n"
     "fields = first_name surname dob\nvariant = names_swapped\ncompare = 4\n[level 7]\n"
     "fields = first_name surname dob\nvariant = dob_transposed\ncompare = 6\n"
     "[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n",
     0, "[level 7] compares with level 6, which is itself a variant"},
    {"names_swapped without names",
     "[spec]\nname = t1\n[level 6]\nfields = surname dob\nvariant = names_swapped\n"
     "[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n",
     0, "[level 6] names_swapped needs surname and first_name"},
    {"dob_transposed without dob",
     "[spec]\nname = t1\n[level 7]\nfields = first_name surname\nvariant = dob_transposed\n"
     "[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n",
     0, "[level 7] dob_transposed needs dob"},
    {"strong on a name",
     "[spec]\nname = t1\n[level 3]\nfields = surname\nstrong = yes\n"
     "[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n",
     0, "[level 3] strong applies to a single nhs_number or upn"},
    {"strong on two fields",
     "[spec]\nname = t1\n[level 3]\nfields = nhs_number dob\n"
     "strong = yes\n[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n",
     0, "[level 3] strong applies"},
    {"one identifier, two strong levels",
     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\nstrong = yes\n[level 2]\n"
     "fields = nhs_number\nstrong = yes\n[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n",
     0, "[level 2] nhs_number is already a strong level ([level 1])"},
    {"no [clk] fields",
     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\n[clk]\n"
     "q = 2\n[blocking]\nkey = yob\n",
     0, "[clk] needs at least one 'field = NAME K BITS'"},
    {"no blocking key",
     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\n[clk]\n"
     "field = dob 3 64\n",
     0, "[blocking] needs at least one"},
    {"possible above accept",
     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\n[clk]\nfield = dob 3 64\n"
     "[blocking]\nkey = yob\n[thresholds]\naccept = 0.7\npossible = 0.8\n",
     0, "possible is above accept"},
    {"no name", "[level 1]\nfields = nhs_number\n[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n",
     0, "[spec] name is required"},
    {"no levels", "[spec]\nname = t1\n[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n", 0,
     "no [level N] sections"},
    {"a level without fields",
     "[spec]\nname = t1\n[level 2]\nname = x\n[clk]\nfield = dob 3 64\n"
     "[blocking]\nkey = yob\n",
     0, "[level 2] has no fields"},
};

static void
test_errors(void **state)
{
    for (size_t i = 0; i < sizeof s_bads / sizeof s_bads[0]; i++) {
        const struct s_bad *b = &s_bads[i];
        struct xl_spec *s = (struct xl_spec *)&s;
        char err[XL_ERRBUF] = "", prefix[64];
        int rc = xl_spec_parse(b->text, "t.spec", &s, err, sizeof err);
        if (rc != XL_ERR_FORMAT)
            fail_msg("%s: returned %d (%s)", b->what, rc, err);
        assert_null(s);
        if (b->line > 0)
            snprintf(prefix, sizeof prefix, "t.spec:%d: ", b->line);
        else
            snprintf(prefix, sizeof prefix, "t.spec: ");
        if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, b->reason) == NULL)
            fail_msg("%s: message '%s', expected '%s...%s'", b->what, err, prefix, b->reason);
    }
}

/* A level section repeated straight after itself is a duplicate too, not a
 * continuation of the first: otherwise the second silently replaces the first
 * one's fields. */
static void
test_duplicate_level_adjacent(void **state)
{
    static const char text[] = "[spec]\nname = t1\n"
                               "[level 4]\nfields = first_name dob\n"
                               "[level 4]\nfields = surname dob\n"
                               "[clk]\nfield = dob 3 64\n[blocking]\nkey = yob\n";
    struct xl_spec *s = NULL;
    char err[XL_ERRBUF] = "";
    int rc = xl_spec_parse(text, "t.spec", &s, err, sizeof err);

    if (rc != XL_ERR_FORMAT) {
        free(s);
        fail_msg("a repeated [level 4] was accepted (returned %d)", rc);
    }
    assert_non_null(strstr(err, "t.spec:"));
    assert_non_null(strstr(err, "level 4"));
}

/* The same errors from a file name the file. */
static void
test_error_from_file(void **state)
{
    char *dir = tu_tmpdir(), *path;
    struct xl_spec *s = NULL;
    char err[XL_ERRBUF] = "", want[XL_ERRBUF];

    assert_non_null(dir);
    path = tu_path(dir, "bad.spec");
    assert_non_null(path);
    assert_int_equal(tu_write_file(path, "[spec]\nname = t1\n\n[clk]\nfield = dob 3 100\n"), 0);
    assert_int_equal(xl_spec_load(path, &s, err, sizeof err), XL_ERR_FORMAT);
    assert_null(s);
    snprintf(want, sizeof want, "%s:5: the bits of a segment must be a multiple of 64", path);
    assert_non_null(strstr(err, want));
    free(path);
    tu_rmtree(dir);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_field_names),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_fingerprint_stable),
        cmocka_unit_test(test_fingerprint_changes),
        cmocka_unit_test(test_clk_segments),
        cmocka_unit_test(test_clk_shared),
        cmocka_unit_test(test_clk_line_salt),
        cmocka_unit_test(test_clk_flip),
        cmocka_unit_test(test_canonical_clk),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_duplicate_level_adjacent),
        cmocka_unit_test(test_error_from_file),
    };

    return cmocka_run_group_tests_name("spec", tests, s_setup, NULL);
}
