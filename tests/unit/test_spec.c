/* Unit tests for common/spec.c: the example specification parses; the
 * fingerprint ignores layout (comments, spacing, key and section order) and
 * thresholds but follows every change of what agents produce; errors name the
 * file, the line where there is one, and the reason. */
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

    assert_int_equal(s->clk_bits, 1024);
    assert_int_equal(s->clk_q, 2);
    assert_int_equal(s->clk_salt, -1);
    assert_int_equal(s->clk_xor_fold, 0);
    assert_int_equal(xl_spec_clk_bytes(s), 128);
    assert_int_equal(s->nclk_fields, 5);
    assert_int_equal(s->clk_fields[0].field, XL_F_FIRST_NAME);
    assert_int_equal(s->clk_fields[0].k, 20);
    assert_int_equal(s->clk_fields[4].field, XL_F_POSTCODE);
    assert_int_equal(s->clk_fields[4].k, 15);
    assert_int_equal(s->nblocks, 5);
    assert_int_equal(s->blocks[3].nparts, 2);
    assert_int_equal(s->blocks[3].parts[0], XL_F_SECTOR);
    assert_int_equal(s->blocks[3].parts[1], XL_F_YOB);
    assert_true(s->accept > 0.839 && s->accept < 0.841);
    assert_true(s->possible > 0.799 && s->possible < 0.801);

    /* The fingerprint is SHA-256 of the canonical text, which has no thresholds. */
    n = xl_spec_canonical(s, canon, sizeof canon);
    assert_true(n > 0);
    assert_int_equal(strlen(canon), n);
    xl_sha256(canon, (size_t)n, h);
    assert_memory_equal(h, s->fingerprint, sizeof h);
    assert_null(strstr(canon, "0.8"));
    assert_non_null(strstr(canon, "name=coalition-v1\n"));
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
                             "bits = 1024\n"
                             "q = 2\n"
                             "field = first_name 20\n"
                             "field = surname 20\n"
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
    "bits = 1024\n"
    "q = 2\n"
    "field = first_name 20\n"
    "field = surname 20\n"
    "salt = none\n"
    "xor_fold = no\n"
    "[blocking]\n"
    "key = surname_phonetic yob\n"
    "key = first_initial dob\n"
    "[thresholds]\n"
    "accept = 0.8\n"
    "possible = 0.7\n",
    /* keys reordered within sections, sections reordered, defaults written out
     * (q 2, salt none, xor_fold no, level 4 compares with itself, strong no) */
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
    "field = first_name 20\n"
    "field = surname 20\n"
    "bits = 1024\n"
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
    "[clk]\nbits = 1024\nq = 2\nfield = first_name 20\nfield = surname 20\n"
    "[blocking]\nkey = surname_phonetic yob\nkey = first_initial dob\n"
    "[thresholds]\naccept = 0.95\npossible = 0.5\n",
    "[spec]\nname = t1\nnicknames = yes\n"
    "[level 1]\nname = nhs\nfields = nhs_number\nstrong = yes\n"
    "[level 4]\nname = name_dob\nfields = first_name surname dob\n"
    "[level 6]\nname = swapped\nfields = first_name surname dob\nvariant = names_swapped\n"
    "compare = 4\n"
    "[level 9]\nfields = first_name dob sex\n"
    "[clk]\nbits = 1024\nq = 2\nfield = first_name 20\nfield = surname 20\n"
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
        {"bits = 1024\n", "bits = 2048\n"},
        {"bits = 1024\n", "bits = 64\n"},
        {"q = 2\n", "q = 3\n"},
        {"field = first_name 20\n", "field = first_name 21\n"},
        {"field = surname 20\n", "field = surname 20\nfield = dob 10\n"},
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
    {"unknown key in [clk]", "[spec]\nname = t1\n[clk]\nbits = 1024\nk = 3\n", 5,
     "unknown key 'k' in [clk]"},
    {"bits not a multiple of 64", "[spec]\nname = t1\n[clk]\nq = 2\nbits = 1000\n", 5,
     "multiple of 64"},
    {"bits zero", "[spec]\nname = t1\n[clk]\nbits = 0\n", 4, "multiple of 64"},
    {"bits too large", "[spec]\nname = t1\n[clk]\nbits = 8192\n", 4, "multiple of 64"},
    {"bits not a number", "[spec]\nname = t1\n[clk]\nbits = 1k\n", 4, "multiple of 64"},
    {"q out of range", "[spec]\nname = t1\n[clk]\nq = 5\n", 4, "q must be 1 to 4"},
    {"clk field without k", "[spec]\nname = t1\n[clk]\nfield = surname\n", 4, "field name and k"},
    {"clk field listed twice", "[spec]\nname = t1\n[clk]\nfield = dob 3\nfield = dob 4\n", 5,
     "listed twice"},
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
     "[clk]\nfield = dob 3\n[blocking]\nkey = yob\n",
     0, "[level 6] compares with level 7, which does not exist"},
    {"compare with a level of other fields",
     "[spec]\nname = t1\n[level 4]\nfields = first_name surname dob\n[level 7]\n"
     "fields = first_name dob\nvariant = dob_transposed\ncompare = 4\n"
     "[clk]\nfield = dob 3\n[blocking]\nkey = yob\n",
     0, "[level 7] compares with level 4 but lists different fields"},
    {"compare with a variant",
     "[spec]\nname = t1\n[level 4]\nfields = first_name surname dob\n[level 6]\n"
     "fields = first_name surname dob\nvariant = names_swapped\ncompare = 4\n[level 7]\n"
     "fields = first_name surname dob\nvariant = dob_transposed\ncompare = 6\n"
     "[clk]\nfield = dob 3\n[blocking]\nkey = yob\n",
     0, "[level 7] compares with level 6, which is itself a variant"},
    {"names_swapped without names",
     "[spec]\nname = t1\n[level 6]\nfields = surname dob\nvariant = names_swapped\n"
     "[clk]\nfield = dob 3\n[blocking]\nkey = yob\n",
     0, "[level 6] names_swapped needs surname and first_name"},
    {"dob_transposed without dob",
     "[spec]\nname = t1\n[level 7]\nfields = first_name surname\nvariant = dob_transposed\n"
     "[clk]\nfield = dob 3\n[blocking]\nkey = yob\n",
     0, "[level 7] dob_transposed needs dob"},
    {"strong on a name",
     "[spec]\nname = t1\n[level 3]\nfields = surname\nstrong = yes\n"
     "[clk]\nfield = dob 3\n[blocking]\nkey = yob\n",
     0, "[level 3] strong applies to a single nhs_number or upn"},
    {"strong on two fields",
     "[spec]\nname = t1\n[level 3]\nfields = nhs_number dob\n"
     "strong = yes\n[clk]\nfield = dob 3\n[blocking]\nkey = yob\n",
     0, "[level 3] strong applies"},
    {"no [clk] fields",
     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\n[clk]\n"
     "bits = 1024\n[blocking]\nkey = yob\n",
     0, "[clk] needs at least one"},
    {"no blocking key",
     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\n[clk]\n"
     "field = dob 3\n",
     0, "[blocking] needs at least one"},
    {"possible above accept",
     "[spec]\nname = t1\n[level 1]\nfields = nhs_number\n[clk]\nfield = dob 3\n"
     "[blocking]\nkey = yob\n[thresholds]\naccept = 0.7\npossible = 0.8\n",
     0, "possible is above accept"},
    {"no name", "[level 1]\nfields = nhs_number\n[clk]\nfield = dob 3\n[blocking]\nkey = yob\n", 0,
     "[spec] name is required"},
    {"no levels", "[spec]\nname = t1\n[clk]\nfield = dob 3\n[blocking]\nkey = yob\n", 0,
     "no [level N] sections"},
    {"a level without fields",
     "[spec]\nname = t1\n[level 2]\nname = x\n[clk]\nfield = dob 3\n"
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
                               "[clk]\nfield = dob 3\n[blocking]\nkey = yob\n";
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
    assert_int_equal(tu_write_file(path, "[spec]\nname = t1\n\n[clk]\nbits = 100\n"), 0);
    assert_int_equal(xl_spec_load(path, &s, err, sizeof err), XL_ERR_FORMAT);
    assert_null(s);
    snprintf(want, sizeof want, "%s:5: bits must be a multiple of 64", path);
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
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_duplicate_level_adjacent),
        cmocka_unit_test(test_error_from_file),
    };

    return cmocka_run_group_tests_name("spec", tests, s_setup, NULL);
}
