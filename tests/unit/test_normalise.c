/* Unit tests for agent/normalise.c and agent/phonetic.c: the known-answer
 * vectors of tests/vectors/normalise.txt, then behaviour the vectors cannot
 * show (buffer limits, unterminated input, the ASCII fast path agreeing with
 * the Unicode path, check digits catching every single-character error). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/normalise.h"
#include "testutil.h"
#include "xl/err.h"

/* ---- the vector file ----------------------------------------------------------- */

#define V_STR  512
#define V_OUTS 3

struct vline {
    int lineno;
    char fn[16];
    char in[V_STR];
    size_t inlen;
    char result[32];
    char out[V_OUTS][V_STR];
    int nout;
};

static int
s_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads a quoted string at *p into out (NUL-terminated, length in *len);
 * advances *p past the closing quote. 0 or -1. */
static int
s_quoted(const char **p, char *out, size_t cap, size_t *len)
{
    const char *s = *p;
    size_t n = 0;

    while (*s == ' ')
        s++;
    if (*s++ != '"')
        return -1;
    while (*s != '"') {
        int c = (unsigned char)*s++;
        if (c == '\0' || c == '\n')
            return -1;
        if (c == '\\') {
            c = (unsigned char)*s++;
            switch (c) {
            case '"':
            case '\\': break;
            case 't': c = '\t'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 'x':
                if (s_hex(s[0]) < 0 || s_hex(s[1]) < 0)
                    return -1;
                c = s_hex(s[0]) * 16 + s_hex(s[1]);
                s += 2;
                break;
            default: return -1;
            }
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    *len = n;
    *p = s + 1;
    return 0;
}

static int
s_word(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    size_t n = 0;

    while (*s == ' ')
        s++;
    while (*s != '\0' && *s != ' ' && *s != '\n' && *s != '\r') {
        if (n + 1 >= cap)
            return -1;
        out[n++] = *s++;
    }
    out[n] = '\0';
    *p = s;
    return n > 0 ? 0 : -1;
}

static int
s_parse_date(const char *s, struct agent_date *d)
{
    return agent_norm_date(s, strlen(s), "yyyy-mm-dd", NULL, d);
}

/* Applies one line; a date line uses *formats and *rules, which directives set. */
static void
s_check_line(const struct vline *v, const char *formats, const struct agent_date_rules *rules)
{
    char out[V_STR], extra[2][V_STR];
    int r = -1, nout = 1;

    memset(out, 0x55, sizeof out);
    if (strcmp(v->fn, "name") == 0) {
        r = agent_norm_name(v->in, v->inlen, out, sizeof out);
    } else if (strcmp(v->fn, "compact") == 0) {
        char norm[V_STR];
        r = agent_norm_name(v->in, v->inlen, norm, sizeof norm);
        if (r == AGENT_OK)
            r = agent_name_compact(norm, out, sizeof out);
    } else if (strcmp(v->fn, "nickname") == 0) {
        const char *c = agent_nickname_canonical(v->in, v->inlen);
        if (strcmp(v->result, "none") == 0) {
            if (c != NULL)
                fail_msg("line %d: expected no canonical name, got '%s'", v->lineno, c);
            return;
        }
        if (c == NULL)
            fail_msg("line %d: expected '%s', got none", v->lineno, v->out[0]);
        assert_string_equal(c, v->out[0]);
        return;
    } else if (strcmp(v->fn, "soundex") == 0 || strcmp(v->fn, "dmetaphone") == 0) {
        char norm[V_STR];
        r = agent_norm_name(v->in, v->inlen, norm, sizeof norm);
        if (r == AGENT_OK || r == AGENT_R_MISSING) {
            if (r == AGENT_R_MISSING)
                norm[0] = '\0';
            r = v->fn[0] == 's' ? agent_soundex(norm, out) : agent_dmetaphone(norm, out);
        }
    } else if (strcmp(v->fn, "date") == 0) {
        struct agent_date d;
        r = agent_norm_date(v->in, v->inlen, formats, rules, &d);
        if (r == AGENT_OK)
            agent_date_iso(&d, out);
        else if (d.y != 0 || d.m != 0 || d.d != 0)
            fail_msg("line %d: date output not reset on failure", v->lineno);
    } else if (strcmp(v->fn, "sex") == 0) {
        r = agent_norm_sex(v->in, v->inlen, out);
    } else if (strcmp(v->fn, "postcode") == 0) {
        r = agent_norm_postcode(v->in, v->inlen, out, extra[0], extra[1]);
        nout = 3;
    } else if (strcmp(v->fn, "nhs") == 0) {
        r = agent_norm_nhs(v->in, v->inlen, out);
    } else if (strcmp(v->fn, "upn") == 0) {
        r = agent_norm_upn(v->in, v->inlen, out);
    } else {
        fail_msg("line %d: unknown function '%s'", v->lineno, v->fn);
    }

    if (strcmp(v->result, agent_reason_code(r)) != 0)
        fail_msg("line %d: %s \"%s\": expected %s, got %s", v->lineno, v->fn, v->in, v->result,
                 agent_reason_code(r));
    if (r != AGENT_OK) {
        /* Outputs are reset, so a caller that ignores the result writes nothing. */
        if (strcmp(v->fn, "date") != 0 && out[0] != '\0')
            fail_msg("line %d: output not reset on failure", v->lineno);
        if (v->nout != 0)
            fail_msg("line %d: a refused value has no output", v->lineno);
        return;
    }
    if (v->nout != nout)
        fail_msg("line %d: expected %d output(s) for %s", v->lineno, nout, v->fn);
    if (strcmp(out, v->out[0]) != 0)
        fail_msg("line %d: %s \"%s\": expected \"%s\", got \"%s\"", v->lineno, v->fn, v->in,
                 v->out[0], out);
    for (int i = 1; i < nout; i++) {
        if (strcmp(extra[i - 1], v->out[i]) != 0)
            fail_msg("line %d: output %d: expected \"%s\", got \"%s\"", v->lineno, i + 1, v->out[i],
                     extra[i - 1]);
    }
}

static int
s_directive(const char *s, int lineno, char *formats, size_t cap, struct agent_date_rules *rules,
            int *have_rules)
{
    size_t len;
    char err[XL_ERRBUF];

    if (strncmp(s, "@formats", 8) == 0) {
        const char *p = s + 8;
        if (s_quoted(&p, formats, cap, &len) != 0)
            return -1;
        if (agent_date_formats_check(formats, err, sizeof err) != 0)
            fail_msg("line %d: %s", lineno, err);
        return 0;
    }
    if (strcmp(s, "@rules none") == 0) {
        *have_rules = 0;
        return 0;
    }
    if (strncmp(s, "@rules ", 7) == 0) {
        char ref[16];
        memset(rules, 0, sizeof *rules);
        if (sscanf(s, "@rules ref=%10s min_year=%d max_age=%d min_age=%d", ref, &rules->min_year,
                   &rules->max_age_years, &rules->min_age_years) != 4 ||
            s_parse_date(ref, &rules->ref) != AGENT_OK)
            return -1;
        *have_rules = 1;
        return 0;
    }
    return -1;
}

struct vstate {
    char formats[V_STR];
    struct agent_date_rules rules;
    int have_rules;
    struct vline v;
};

/* One line of the vector file; returns 1 when it was a vector. */
static int
s_vector_line(const char *s, int lineno, struct vstate *st)
{
    struct vline *v = &st->v;

    while (*s == ' ')
        s++;
    if (*s == '#' || *s == '\0' || *s == '\r')
        return 0;
    if (*s == '@') {
        if (s_directive(s, lineno, st->formats, sizeof st->formats, &st->rules, &st->have_rules) !=
            0)
            fail_msg("line %d: bad directive", lineno);
        return 0;
    }
    memset(v, 0, sizeof *v);
    v->lineno = lineno;
    if (s_word(&s, v->fn, sizeof v->fn) != 0 || s_quoted(&s, v->in, sizeof v->in, &v->inlen) != 0)
        fail_msg("line %d: expected FUNCTION \"INPUT\"", lineno);
    while (*s == ' ')
        s++;
    if (strncmp(s, "->", 2) != 0)
        fail_msg("line %d: expected ->", lineno);
    s += 2;
    if (s_word(&s, v->result, sizeof v->result) != 0)
        fail_msg("line %d: expected a result", lineno);
    while (*s == ' ')
        s++;
    while (*s == '"') {
        size_t len;
        if (v->nout == V_OUTS || s_quoted(&s, v->out[v->nout], V_STR, &len) != 0)
            fail_msg("line %d: bad output", lineno);
        v->nout++;
        while (*s == ' ')
            s++;
    }
    if (*s != '\0' && *s != '\r')
        fail_msg("line %d: unexpected text after the result", lineno);
    if (strcmp(v->result, "none") != 0 && agent_reason_from_code(v->result) < 0)
        fail_msg("line %d: unknown result '%s'", lineno, v->result);
    s_check_line(v, st->formats, st->have_rules ? &st->rules : NULL);
    return 1;
}

/* Runs every line of the vector file; returns the number of vectors run. */
static int
s_run_vectors(void)
{
    const char *dir = getenv("XL_TEST_VECTORS");
    char *path = tu_path(dir != NULL && dir[0] != '\0' ? dir : "tests/vectors", "normalise.txt");
    char *text, *p;
    struct vstate *st = calloc(1, sizeof *st);
    int lineno = 0, n = 0;

    assert_non_null(path);
    assert_non_null(st);
    text = tu_read_file(path);
    if (text == NULL)
        fail_msg("%s: cannot read (tests run from the repository root)", path);
    for (p = text; *p != '\0';) {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        n += s_vector_line(p, ++lineno, st);
        p = nl != NULL ? nl + 1 : p + strlen(p);
    }
    free(st);
    free(text);
    free(path);
    return n;
}

static void
test_vectors(void **state)
{
    int n = s_run_vectors();

    /* A vector file that silently lost its lines would pass with nothing run. */
    assert_true(n >= 250);
}

/* ---- reasons ------------------------------------------------------------------- */

static void
test_reason_codes(void **state)
{
    for (int i = 0; i < AGENT_R_COUNT; i++) {
        const char *c = agent_reason_code((enum agent_reason)i);
        const char *t = agent_reason_text((enum agent_reason)i);
        assert_non_null(c);
        assert_true(strcmp(c, "unknown") != 0);
        for (const char *p = c; *p != '\0'; p++)
            assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
        assert_true(strlen(t) > 10 && t[strlen(t) - 1] == '.');
        assert_int_equal(agent_reason_from_code(c), i);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(c, agent_reason_code((enum agent_reason)j));
    }
    assert_string_equal(agent_reason_code(AGENT_R_NHS_CHECK), "nhs_check_digit");
    assert_string_equal(agent_reason_code(AGENT_R_COUNT), "unknown");
    assert_string_equal(agent_reason_code((enum agent_reason) - 1), "unknown");
    assert_non_null(agent_reason_text(AGENT_R_COUNT));
    assert_int_equal(agent_reason_from_code("no_such_reason"), -1);
}

/* Reason texts are static strings: the same pointer whatever value was
 * refused, so no identifier can reach a report through them. */
static void
test_reason_text_has_no_input(void **state)
{
    static const char *const bad[] = {"Smith2",        "31/02/2010", "9434765918",
                                      "A801200005001", "ZZ99 9ZZ",   "maybe"};
    char out[AGENT_NAME_MAX];
    struct agent_date d;
    int r[6];

    r[0] = agent_norm_name(bad[0], strlen(bad[0]), out, sizeof out);
    r[1] = agent_norm_date(bad[1], strlen(bad[1]), "dd/mm/yyyy", NULL, &d);
    r[2] = agent_norm_nhs(bad[2], strlen(bad[2]), out);
    r[3] = agent_norm_upn(bad[3], strlen(bad[3]), out);
    r[4] = agent_norm_postcode(bad[4], strlen(bad[4]), out, NULL, NULL);
    r[5] = agent_norm_sex(bad[5], strlen(bad[5]), out);
    for (int i = 0; i < 6; i++) {
        const char *t = agent_reason_text((enum agent_reason)r[i]);
        assert_int_not_equal(r[i], AGENT_OK);
        assert_ptr_equal(t, agent_reason_text((enum agent_reason)r[i]));
        for (int j = 0; j < 6; j++)
            assert_null(strstr(t, bad[j]));
        assert_null(strstr(agent_reason_code((enum agent_reason)r[i]), bad[i]));
    }
    for (int i = 0; i < AGENT_R_COUNT; i++) {
        const char *t = agent_reason_text((enum agent_reason)i);
        for (int j = 0; j < 6; j++)
            assert_null(strstr(t, bad[j]));
    }
}

/* ---- names --------------------------------------------------------------------- */

static void
test_name_unterminated_input(void **state)
{
    char buf[] = "Smith-Jones9", out[64];

    /* The length, not a NUL, ends the value: the digit after it is not read. */
    assert_int_equal(agent_norm_name(buf, 11, out, sizeof out), AGENT_OK);
    assert_string_equal(out, "smith jones");
    assert_int_equal(agent_norm_name(buf, 5, out, sizeof out), AGENT_OK);
    assert_string_equal(out, "smith");
    assert_int_equal(agent_norm_name(buf, 12, out, sizeof out), AGENT_R_NAME_CHARS);
    assert_string_equal(out, "");
    /* The same through the Unicode path. */
    char u[] = "Jos\xc3\xa9-Mar\xc3\xad"
               "a1";
    assert_int_equal(agent_norm_name(u, strlen(u) - 1, out, sizeof out), AGENT_OK);
    assert_string_equal(out, "jose maria");
    /* A cut inside a multibyte character is invalid UTF-8. */
    assert_int_equal(agent_norm_name(u, 4, out, sizeof out), AGENT_R_BAD_UTF8);
    assert_int_equal(agent_norm_name(NULL, 0, out, sizeof out), AGENT_R_MISSING);
}

static void
test_name_too_long(void **state)
{
    char big[AGENT_NAME_IN_MAX + 2], out[AGENT_NAME_MAX], small[6];

    memset(big, 'a', sizeof big);
    assert_int_equal(agent_norm_name(big, AGENT_NAME_IN_MAX + 1, out, sizeof out),
                     AGENT_R_TOO_LONG);
    /* Blanks around the value do not count against the limit. */
    big[0] = ' ';
    big[AGENT_NAME_IN_MAX + 1] = ' ';
    memset(big + 1, 'a', 10);
    memset(big + 11, ' ', AGENT_NAME_IN_MAX - 10);
    assert_int_equal(agent_norm_name(big, sizeof big, out, sizeof out), AGENT_OK);
    assert_string_equal(out, "aaaaaaaaaa");

    /* Output limit: 5 bytes and a NUL fit in 6, 6 do not; the same on both paths. */
    for (unsigned f = 0; f <= AGENT_NAME_NO_FAST_PATH; f++) {
        assert_int_equal(agent_norm_name_flags("Smith", 5, small, sizeof small, f), AGENT_OK);
        assert_string_equal(small, "smith");
        assert_int_equal(agent_norm_name_flags("Smiths", 6, small, sizeof small, f),
                         AGENT_R_TOO_LONG);
        assert_string_equal(small, "");
        assert_int_equal(agent_norm_name_flags("Al Bo", 5, small, sizeof small, f), AGENT_OK);
        assert_string_equal(small, "al bo");
        assert_int_equal(agent_norm_name_flags("Al Boo", 6, small, sizeof small, f),
                         AGENT_R_TOO_LONG);
    }
    /* "ß" is 2 bytes in, "ss" 2 bytes out; "æ" becomes "ae". */
    assert_int_equal(agent_norm_name("\xc3\xa6\xc3\xa6\xc3\xa6", 6, small, sizeof small),
                     AGENT_R_TOO_LONG);
    assert_int_equal(agent_norm_name("\xc3\xa6\xc3\xa6", 4, small, sizeof small), AGENT_OK);
    assert_string_equal(small, "aeae");
    assert_int_equal(agent_norm_name("Smith", 5, out, 0), AGENT_R_TOO_LONG);
    /* An input whose decomposition would not fit the scratch buffer: U+FDFA
     * (3 bytes) decomposes to 18 code points. */
    char ar[AGENT_NAME_IN_MAX];
    size_t n = 0;
    while (n + 3 <= sizeof ar) {
        memcpy(ar + n, "\xef\xb7\xba", 3);
        n += 3;
    }
    assert_int_equal(agent_norm_name(ar, n, out, sizeof out), AGENT_R_TOO_LONG);
}

/* A small deterministic generator, so a failure can be replayed. */
static uint32_t
s_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The two paths agree, for names and for their salvage alike. */
static void
s_both_paths(const char *in, size_t len)
{
    static const unsigned flags[] = {0, AGENT_NAME_SALVAGE};

    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        char a[64], b[64];
        int ra = agent_norm_name_flags(in, len, a, sizeof a, flags[i]);
        int rb = agent_norm_name_flags(in, len, b, sizeof b, flags[i] | AGENT_NAME_NO_FAST_PATH);
        if (ra != rb || strcmp(a, b) != 0)
            fail_msg("paths differ on \"%.*s\" (flags %u): fast %s \"%s\", unicode %s \"%s\"",
                     (int)len, in, flags[i], agent_reason_code(ra), a, agent_reason_code(rb), b);
    }
}

static void
test_name_fast_path_agrees(void **state)
{
    char s[40];
    uint32_t seed = 0x2545F491;
    static const char alphabet[] = "abcXYZ '`-.,&/!?_()[]{}\"#%*:;@\\$+<=>^|~09\t\r\n\v\f\x01\x7f";

    /* Every ASCII character alone, between letters, and at either end. */
    for (int c = 0; c < 128; c++) {
        char one[1] = {(char)c};
        char mid[3] = {'a', (char)c, 'b'};
        char end[2] = {'a', (char)c};
        s_both_paths(one, 1);
        s_both_paths(mid, 3);
        s_both_paths(end, 2);
        s_both_paths(end + 1, 1);
    }
    /* Random strings over names' letters and every class of ASCII character. */
    for (int i = 0; i < 20000; i++) {
        size_t len = s_rand(&seed) % sizeof s;
        for (size_t k = 0; k < len; k++)
            s[k] = alphabet[s_rand(&seed) % (sizeof alphabet - 1)];
        s_both_paths(s, len);
    }
}

static void
test_name_compact_and_parts(void **state)
{
    char out[16];
    struct agent_name_part p[2];

    assert_int_equal(agent_name_compact("smith jones", out, sizeof out), AGENT_OK);
    assert_string_equal(out, "smithjones");
    assert_int_equal(agent_name_compact("ab cd", out, 5), AGENT_OK);
    assert_string_equal(out, "abcd");
    assert_int_equal(agent_name_compact("ab cde", out, 5), AGENT_R_TOO_LONG);
    assert_string_equal(out, "");
    assert_int_equal(agent_name_compact("", out, sizeof out), AGENT_OK);
    assert_string_equal(out, "");

    assert_int_equal(agent_name_parts("smith jones", p, 2), 2);
    assert_int_equal(p[0].len, 5);
    assert_memory_equal(p[0].s, "smith", 5);
    assert_int_equal(p[1].len, 5);
    assert_memory_equal(p[1].s, "jones", 5);
    /* More words than slots: the count says so, the slots hold the first ones. */
    assert_int_equal(agent_name_parts("de la cruz", p, 2), 3);
    assert_memory_equal(p[1].s, "la", 2);
    assert_int_equal(p[1].len, 2);
    assert_int_equal(agent_name_parts("smith", p, 2), 1);
    assert_int_equal(agent_name_parts("", p, 2), 0);
    assert_int_equal(agent_name_parts("a b c d", NULL, 0), 4);
}

static void
test_nickname_table(void **state)
{
    const char *prev = NULL, *nick, *canon;
    size_t n = 0;

    for (size_t i = 0; (nick = agent_nickname_entry(i, &canon)) != NULL; i++, n++) {
        /* bsearch needs strcmp order, and each key once. */
        if (prev != NULL)
            assert_true(strcmp(prev, nick) < 0);
        prev = nick;
        for (const char *p = nick; *p; p++)
            assert_true(*p >= 'a' && *p <= 'z');
        for (const char *p = canon; *p; p++)
            assert_true(*p >= 'a' && *p <= 'z');
        /* Canonical names are fixed points, so applying the table twice changes nothing. */
        assert_null(agent_nickname_canonical(canon, strlen(canon)));
        assert_string_equal(agent_nickname_canonical(nick, strlen(nick)), canon);
    }
    assert_true(n >= 100);
    assert_null(agent_nickname_entry(n, NULL));
    /* The length bounds the key: "billy" cut to 4 is "bill". */
    assert_string_equal(agent_nickname_canonical("billy", 4), "william");
    assert_null(agent_nickname_canonical("bi", 2));
    assert_null(agent_nickname_canonical("zzz", 3));
    assert_null(agent_nickname_canonical("aaa", 3));
}

/* ---- phonetic -------------------------------------------------------------------- */

static void
test_phonetic_edges(void **state)
{
    char out[5];

    memset(out, 'x', sizeof out);
    assert_int_equal(agent_soundex("", out), AGENT_R_MISSING);
    assert_string_equal(out, "");
    assert_int_equal(agent_soundex("a", out), AGENT_OK);
    assert_string_equal(out, "A000");
    /* Letters beyond a-z and spaces are ignored, not separators. */
    assert_int_equal(agent_soundex("an hmai", out), AGENT_OK);
    assert_string_equal(out, "A500");
    assert_int_equal(agent_soundex("tt\xce\xb1t", out), AGENT_OK);
    assert_string_equal(out, "T000");
    /* A long name gives 4 characters. */
    assert_int_equal(agent_soundex("bcdlmnrbcdlmnr", out), AGENT_OK);
    assert_string_equal(out, "B234");

    assert_int_equal(agent_dmetaphone("", out), AGENT_R_MISSING);
    assert_int_equal(agent_dmetaphone("   ", out), AGENT_R_MISSING);
    assert_int_equal(agent_dmetaphone("\xce\xb1\xce\xb2", out), AGENT_R_MISSING);
    assert_int_equal(agent_dmetaphone("wh", out), AGENT_OK); /* initial WH is A */
    assert_string_equal(out, "A");
    assert_int_equal(agent_dmetaphone("christopherson", out), AGENT_OK);
    assert_int_equal(strlen(out), 4);
    assert_string_equal(out, "KRST");
    /* Upper-case input is accepted as it is. */
    assert_int_equal(agent_dmetaphone("SMITH", out), AGENT_OK);
    assert_string_equal(out, "SM0");

    /* A name longer than the working buffer is cut, never overrun. */
    char big[3 * AGENT_NAME_IN_MAX];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(agent_dmetaphone(big, out), AGENT_OK);
    assert_string_equal(out, "KKKK");
}

/* ---- dates ----------------------------------------------------------------------- */

static void
test_date_formats_check(void **state)
{
    char err[XL_ERRBUF];

    assert_int_equal(
        agent_date_formats_check("dd/mm/yyyy|yyyy-mm-dd|d mon yyyy|yyyymmdd", err, sizeof err), 0);
    assert_int_equal(agent_date_formats_check("dd/mm/yy", err, sizeof err), XL_ERR_INVALID);
    assert_non_null(strstr(err, "dd/mm/yy"));
    assert_int_equal(agent_date_formats_check("dd/mm/yyyy|mm/yyyy", err, sizeof err),
                     XL_ERR_INVALID);
    assert_non_null(strstr(err, "'mm/yyyy'"));
    assert_int_equal(agent_date_formats_check("dd/mm/dd/yyyy", err, sizeof err), XL_ERR_INVALID);
    assert_int_equal(agent_date_formats_check("dd/mm/yyyy|", err, sizeof err), XL_ERR_INVALID);
    assert_int_equal(agent_date_formats_check("", err, sizeof err), XL_ERR_INVALID);
    assert_int_equal(agent_date_formats_check(NULL, NULL, 0), XL_ERR_INVALID);
}

static void
test_date_behaviour(void **state)
{
    struct agent_date d, a, b;
    struct agent_date_rules rules = {{2024, 6, 30}, 1900, 25, 0, 0};
    char buf[] = "01/02/20109", iso[11];

    /* The length ends the value. */
    assert_int_equal(agent_norm_date(buf, 10, "dd/mm/yyyy", &rules, &d), AGENT_OK);
    assert_int_equal(d.y, 2010);
    assert_int_equal(d.m, 2);
    assert_int_equal(d.d, 1);
    assert_int_equal(agent_norm_date(buf, 11, "dd/mm/yyyy", &rules, &d), AGENT_R_DATE_FORMAT);
    assert_int_equal(d.y, 0);

    /* The first pattern that matches decides: 13/01 is not re-read as m/d. */
    assert_int_equal(agent_norm_date("13/01/2010", 10, "mm/dd/yyyy|dd/mm/yyyy", NULL, &d),
                     AGENT_R_DATE_INVALID);
    /* An unusable format list refuses everything rather than guessing. */
    assert_int_equal(agent_norm_date("01/02/10", 8, "dd/mm/yy", NULL, &d), AGENT_R_DATE_FORMAT);
    assert_int_equal(agent_norm_date("01/02/2010", 10, "", NULL, &d), AGENT_R_DATE_FORMAT);

    /* Age in completed years; a 29 February birthday falls on 1 March. */
    a = (struct agent_date){2020, 2, 29};
    b = (struct agent_date){2024, 2, 28};
    assert_int_equal(agent_date_age(&a, &b), 3);
    b = (struct agent_date){2024, 2, 29};
    assert_int_equal(agent_date_age(&a, &b), 4);
    b = (struct agent_date){2023, 2, 28};
    assert_int_equal(agent_date_age(&a, &b), 2);
    b = (struct agent_date){2023, 3, 1};
    assert_int_equal(agent_date_age(&a, &b), 3);
    b = (struct agent_date){2019, 1, 1};
    assert_int_equal(agent_date_age(&a, &b), -2);

    /* Leap years by the Gregorian rule. */
    static const struct {
        int y, ok;
    } leap[] = {{2000, 1}, {1900, 0}, {2100, 0}, {2400, 1}, {2024, 1}, {2023, 0}, {1600, 1}};
    for (size_t i = 0; i < sizeof leap / sizeof leap[0]; i++) {
        d = (struct agent_date){leap[i].y, 2, 29};
        assert_int_equal(agent_date_valid(&d), leap[i].ok);
    }
    d = (struct agent_date){2010, 12, 31};
    assert_true(agent_date_valid(&d));
    d.d = 32;
    assert_false(agent_date_valid(&d));
    d = (struct agent_date){10000, 1, 1};
    assert_false(agent_date_valid(&d));

    d = (struct agent_date){7, 3, 9};
    agent_date_iso(&d, iso);
    assert_string_equal(iso, "0007-03-09");
    d = (struct agent_date){2024, 12, 31};
    agent_date_iso(&d, iso);
    assert_string_equal(iso, "2024-12-31");

    /* The reference date itself is not in the future; the next day is. */
    assert_int_equal(agent_norm_date("2024-06-30", 10, "yyyy-mm-dd", &rules, &d), AGENT_OK);
    assert_int_equal(agent_norm_date("2024-07-01", 10, "yyyy-mm-dd", &rules, &d),
                     AGENT_R_DATE_FUTURE);
    /* Zero limits are off. */
    rules = (struct agent_date_rules){{2024, 6, 30}, 0, 0, 0, 0};
    assert_int_equal(agent_norm_date("1066-10-14", 10, "yyyy-mm-dd", &rules, &d), AGENT_OK);
}

/* ---- salvaged values and partial dates -------------------------------------------- */

static void
s_salv_name(const char *in, int want_rc, const char *want)
{
    char out[AGENT_NAME_MAX];
    int rc = agent_name_salvage(in, strlen(in), out, sizeof out);

    if (rc != want_rc || strcmp(out, want) != 0)
        fail_msg("name salvage of \"%s\": %s \"%s\", expected %s \"%s\"", in, agent_reason_code(rc),
                 out, agent_reason_code(want_rc), want);
}

static void
s_salv_code(const char *in, int uk, int want_rc, const char *want)
{
    char out[9];
    int rc = agent_code_salvage(in, strlen(in), uk, out, sizeof out);

    if (rc != want_rc || strcmp(out, want) != 0)
        fail_msg("code salvage of \"%s\" (uk %d): %s \"%s\", expected %s \"%s\"", in, uk,
                 agent_reason_code(rc), out, agent_reason_code(want_rc), want);
}

static void
s_salv_date(const char *in, const char *formats, const char *want)
{
    char out[AGENT_DATE_SALVAGE_MAX];
    int rc = agent_date_salvage(in, strlen(in), formats, out);

    if ((want == NULL) != (rc != AGENT_OK) || strcmp(out, want != NULL ? want : "") != 0)
        fail_msg("date salvage of \"%s\" (%s): %s \"%s\", expected \"%s\"", in, formats,
                 agent_reason_code(rc), out, want != NULL ? want : "(none)");
}

static void
test_salvage_forms(void **state)
{
    /* A name: its letters, normalised as names are; digits and symbols go
     * without a word break. */
    s_salv_name("J0hn", AGENT_OK, "jhn");
    s_salv_name("Smith2", AGENT_OK, "smith");
    s_salv_name(" O'Ne1ll-Sm$th ", AGENT_OK, "onell smth");
    s_salv_name("Zo\xc3\xab\xc2\xa9", AGENT_OK, "zoe"); /* "Zoë©": the symbol goes */
    s_salv_name("\xc5\x81ukasz\x01", AGENT_OK, "lukasz");
    s_salv_name("1234", AGENT_R_MISSING, "");
    s_salv_name("$$", AGENT_R_MISSING, "");
    s_salv_name("J\xff", AGENT_R_BAD_UTF8, "");
    /* A valid name salvages to itself. */
    s_salv_name("Anne-Marie", AGENT_OK, "anne marie");

    /* A UK postcode: 5 to 7 letters and digits, in the shape of one. */
    s_salv_code("b1 1ai", 1, AGENT_OK, "B1 1AI");
    s_salv_code("SW1A#1AA", 1, AGENT_OK, "SW1A 1AA");
    s_salv_code("NOTAPOSTCODE", 1, AGENT_R_MISSING, "");
    s_salv_code("NFA", 1, AGENT_R_MISSING, "");
    s_salv_code("--", 1, AGENT_R_MISSING, "");
    /* Another code: letters and digits, as long as they fit. */
    s_salv_code("ab#12-3c", 0, AGENT_OK, "AB123C");
    s_salv_code("ABCDEFGHIJ", 0, AGENT_R_TOO_LONG, "");

    /* A date matching a pattern: its parts as read. */
    s_salv_date("1987-13-05", "yyyy-mm-dd", "1987-13-05");
    s_salv_date("31/02/2012", "dd/mm/yyyy", "2012-02-31");
    s_salv_date("2091-05-12 00:00", "yyyy-mm-dd", "2091-05-12");
    s_salv_date("5 Foo 1987", "d mon yyyy", "1987-00-05"); /* no month: written 00 */
    s_salv_date("35 May 1987", "d mon yyyy", "1987-05-35");
    /* Zero parts are unknown. */
    s_salv_date("1987-05-00", "yyyy-mm-dd", "1987-05");
    s_salv_date("1987-00-00", "yyyy-mm-dd", "1987");
    s_salv_date("1987-00-12", "yyyy-mm-dd", "1987-00-12");
    s_salv_date("00/00/0000", "dd/mm/yyyy", NULL);
    s_salv_date("1987-05", "yyyy-mm", "1987-05");
    /* No pattern matches: runs of digits in the formats' order, the year being
     * a run of three or more digits. */
    s_salv_date("5/13/1987", "dd/mm/yyyy", "1987-13-05");
    s_salv_date("1987/13/05", "dd/mm/yyyy|yyyy-mm-dd", "1987-13-05");
    s_salv_date("13/05/1987", "yyyy-mm-dd|dd/mm/yyyy", "1987-05-13");
    s_salv_date("05/13/19877", "mm/dd/yyyy", "19877-05-13");
    s_salv_date("12.05.87", "dd/mm/yyyy", "87-05-12");
    s_salv_date("12/05", "dd/mm/yyyy", "-05-12");
    s_salv_date("May 13, 1987", "dd/mm/yyyy", "1987-05-13");
    s_salv_date("19871305", "yyyymmdd", "1987-13-05");
    s_salv_date("0513198", "ddmmyyyy", "198-13-05");
    s_salv_date("19871305", "dd/mm/yyyy|yyyymmdd", "1987-13-05");
    s_salv_date("unknown", "yyyy-mm-dd", NULL);
    s_salv_date("", "yyyy-mm-dd", NULL);

    /* Any text: the salvage is digits and hyphens, in its buffer. */
    static const char alphabet[] = "0123456789/-. :TmayMAYsep\t";
    static const char *const formats[] = {"dd/mm/yyyy|d/m/yyyy", "yyyymmdd", "d mon yyyy",
                                          "yyyy-mm|yyyy", "mm/dd/yyyy|yyyy-mm-dd"};
    uint32_t seed = 0x9E3779B9;
    for (int i = 0; i < 20000; i++) {
        char in[80], out[AGENT_DATE_SALVAGE_MAX];
        size_t len = s_rand(&seed) % sizeof in;
        for (size_t k = 0; k < len; k++)
            in[k] = alphabet[s_rand(&seed) % (sizeof alphabet - 1)];
        int rc = agent_date_salvage(in, len, formats[i % 5], out);
        assert_true(rc == AGENT_OK || rc == AGENT_R_MISSING);
        assert_true(strlen(out) < sizeof out);
        assert_int_equal(strspn(out, "0123456789-"), strlen(out));
        assert_int_equal(rc == AGENT_OK, out[0] != '\0');
    }
}

static void
test_partial_dates(void **state)
{
    struct agent_date_rules rules = {{2024, 6, 30}, 1900, 25, 2, 1};
    struct agent_date d;
    char err[XL_ERRBUF];
    int partial = -1;

    /* Partial patterns are for dates of birth only, and reported as such. */
    assert_int_equal(agent_date_formats_check("yyyy-mm", err, sizeof err), XL_ERR_INVALID);
    assert_int_equal(
        agent_date_formats_check_partial("yyyy-mm-dd|mon yyyy|yyyy", &partial, err, sizeof err), 0);
    assert_int_equal(partial, 1);
    assert_int_equal(agent_date_formats_check_partial("yyyy-mm-dd", &partial, err, sizeof err), 0);
    assert_int_equal(partial, 0);
    /* A day still needs a month; a year is always needed. */
    assert_int_equal(agent_date_formats_check_partial("yyyy-dd", NULL, err, sizeof err),
                     XL_ERR_INVALID);
    assert_int_equal(agent_date_formats_check_partial("mm/dd", NULL, err, sizeof err),
                     XL_ERR_INVALID);

    assert_int_equal(agent_norm_date("2010-05", 7, "yyyy-mm-dd|yyyy-mm|yyyy", &rules, &d),
                     AGENT_R_DATE_PARTIAL);
    assert_int_equal(d.y, 2010);
    assert_int_equal(d.m, 5);
    assert_int_equal(d.d, 0);
    assert_int_equal(agent_norm_date("2010", 4, "yyyy-mm-dd|yyyy-mm|yyyy", &rules, &d),
                     AGENT_R_DATE_PARTIAL);
    assert_int_equal(d.m, 0);
    assert_int_equal(agent_norm_date("Sept 2010", 9, "mon yyyy", &rules, &d), AGENT_R_DATE_PARTIAL);
    assert_int_equal(d.m, 9);
    assert_int_equal(agent_norm_date("00/05/2010", 10, "dd/mm/yyyy", &rules, &d),
                     AGENT_R_DATE_PARTIAL);
    assert_int_equal(agent_norm_date("00/00/2010", 10, "dd/mm/yyyy", &rules, &d),
                     AGENT_R_DATE_PARTIAL);
    assert_int_equal(agent_norm_date("05/00/2010", 10, "dd/mm/yyyy", &rules, &d),
                     AGENT_R_DATE_INVALID);
    assert_int_equal(agent_norm_date("00/13/2010", 10, "dd/mm/yyyy", &rules, &d),
                     AGENT_R_DATE_INVALID);
    assert_int_equal(d.y, 0);
    /* Refused only when every day of the month or year is: June 2024 has the
     * reference date in it, July does not; 1998 has someone aged 25 on it. */
    assert_int_equal(agent_norm_date("2022-06", 7, "yyyy-mm", &rules, &d), AGENT_R_DATE_PARTIAL);
    assert_int_equal(agent_norm_date("2024-07", 7, "yyyy-mm", &rules, &d), AGENT_R_DATE_FUTURE);
    assert_int_equal(agent_norm_date("1997", 4, "yyyy", &rules, &d), AGENT_R_DATE_TOO_OLD);
    assert_int_equal(agent_norm_date("1998", 4, "yyyy", &rules, &d), AGENT_R_DATE_PARTIAL);
    assert_int_equal(agent_norm_date("2023", 4, "yyyy", &rules, &d), AGENT_R_DATE_TOO_RECENT);
    assert_int_equal(agent_norm_date("2022", 4, "yyyy", &rules, &d), AGENT_R_DATE_PARTIAL);
    /* Without rules->partial, nothing changes: a 00 day is no date. */
    rules.partial = 0;
    assert_int_equal(agent_norm_date("00/05/2010", 10, "dd/mm/yyyy", &rules, &d),
                     AGENT_R_DATE_INVALID);
    assert_int_equal(agent_norm_date("00/05/2010", 10, "dd/mm/yyyy", NULL, &d),
                     AGENT_R_DATE_INVALID);

    /* The year of a refused date, for blocking keys. */
    assert_true(agent_date_year_plausible(2010, &rules));
    assert_true(agent_date_year_plausible(1998, &rules));
    assert_false(agent_date_year_plausible(1997, &rules));
    assert_false(agent_date_year_plausible(2024, &rules)); /* under the minimum age of 2 */
    assert_false(agent_date_year_plausible(2091, &rules));
    assert_false(agent_date_year_plausible(0, &rules));
    assert_true(agent_date_year_plausible(1066, NULL));
}

/* ---- check digits ---------------------------------------------------------------- */

static void
test_nhs_check_digit(void **state)
{
    char num[11], out[11];
    uint32_t seed = 12345;
    int generated = 0;

    assert_int_equal(agent_nhs_check_digit("943476591"), 9);
    assert_int_equal(agent_nhs_check_digit("123456789"), -1); /* remainder gives 10 */
    assert_int_equal(agent_nhs_check_digit("94347659X"), -1);

    /* The generator's way: numbers in the 999 test range with their check digit. */
    for (int i = 0; i < 2000; i++) {
        snprintf(num, sizeof num, "999%06u", s_rand(&seed) % 1000000);
        int c = agent_nhs_check_digit(num);
        if (c < 0)
            continue;
        num[9] = (char)('0' + c);
        num[10] = '\0';
        assert_int_equal(agent_norm_nhs(num, 10, out), AGENT_OK);
        assert_string_equal(out, num);
        generated++;
        /* Every other last digit is refused. */
        for (int k = 0; k < 10; k++) {
            if (k == c)
                continue;
            num[9] = (char)('0' + k);
            assert_int_equal(agent_norm_nhs(num, 10, out), AGENT_R_NHS_CHECK);
            assert_string_equal(out, "");
        }
    }
    /* About one prefix in eleven has no check digit. */
    assert_true(generated > 1700 && generated < 1900);

    /* Modulus 11 catches every single-digit error and every swap of two
     * different neighbouring digits. */
    const char *good = "9434765919";
    for (int pos = 0; pos < 10; pos++) {
        for (char c = '0'; c <= '9'; c++) {
            if (c == good[pos])
                continue;
            memcpy(num, good, 11);
            num[pos] = c;
            assert_int_not_equal(agent_norm_nhs(num, 10, out), AGENT_OK);
        }
        if (pos < 9 && good[pos] != good[pos + 1]) {
            memcpy(num, good, 11);
            num[pos] = good[pos + 1];
            num[pos + 1] = good[pos];
            assert_int_equal(agent_norm_nhs(num, 10, out), AGENT_R_NHS_CHECK);
        }
    }
}

static void
test_upn_check_letter(void **state)
{
    char upn[14], out[14];
    uint32_t seed = 777;
    static const char alpha[] = "ABCDEFGHJKLMNPQRTUVWXYZ";

    assert_int_equal(agent_upn_check_letter("801200005001"), 'B');
    assert_int_equal(agent_upn_check_letter("00180001701A"), 'X');
    assert_int_equal(agent_upn_check_letter("00180001701I"), -1);
    assert_int_equal(agent_upn_check_letter("0018000170A1"), -1);
    assert_int_equal(agent_upn_check_letter("00180001701a"), -1);
    /* Weights 2 to 13 over the body: 0..0 gives A, a 1 in position 13 gives 13 -> P. */
    assert_int_equal(agent_upn_check_letter("000000000000"), 'A');
    assert_int_equal(agent_upn_check_letter("000000000001"), 'P');
    assert_int_equal(agent_upn_check_letter("100000000000"), 'C');
    /* Z is worth 22: 22 * 13 = 286 = 12 * 23 + 10 -> L. */
    assert_int_equal(agent_upn_check_letter("00000000000Z"), 'L');

    /* Generated permanent and temporary UPNs validate, and every single
     * character change in the body is caught (23 is prime and the weights are
     * below it). */
    for (int i = 0; i < 300; i++) {
        for (int k = 1; k < 13; k++)
            upn[k] = (char)('0' + s_rand(&seed) % 10);
        if (i % 2)
            upn[12] = alpha[s_rand(&seed) % 23];
        int c = agent_upn_check_letter(upn + 1);
        assert_true(c >= 'A' && c <= 'Z');
        upn[0] = (char)c;
        upn[13] = '\0';
        assert_int_equal(agent_norm_upn(upn, 13, out), AGENT_OK);
        assert_string_equal(out, upn);
        for (int k = 1; k < 12; k++) {
            char saved = upn[k];
            upn[k] = (char)('0' + (saved - '0' + 1 + (int)(s_rand(&seed) % 9)) % 10);
            assert_int_equal(agent_norm_upn(upn, 13, out), AGENT_R_UPN_CHECK);
            upn[k] = saved;
        }
    }
}

/* ---- other fields ---------------------------------------------------------------- */

static void
test_postcode_outputs(void **state)
{
    char out[9], district[5], sector[7];

    /* The longest forms fill the buffers exactly. */
    assert_int_equal(agent_norm_postcode("sw1a2aa", 7, out, district, sector), AGENT_OK);
    assert_string_equal(out, "SW1A 2AA");
    assert_string_equal(district, "SW1A");
    assert_string_equal(sector, "SW1A 2");
    /* District and sector are optional. */
    assert_int_equal(agent_norm_postcode("B1 1AA", 6, out, NULL, NULL), AGENT_OK);
    assert_string_equal(out, "B1 1AA");
    /* Failure resets all three. */
    assert_int_equal(agent_norm_postcode("B1 1AAX", 7, out, district, sector), AGENT_R_POSTCODE);
    assert_string_equal(out, "");
    assert_string_equal(district, "");
    assert_string_equal(sector, "");
    /* The length ends the value. */
    assert_int_equal(agent_norm_postcode("B1 1AAX", 6, out, district, sector), AGENT_OK);
    assert_string_equal(sector, "B1 1");
}

static void
test_sex_long_input(void **state)
{
    char out[2];
    char big[100];

    memset(big, 'm', sizeof big);
    assert_int_equal(agent_norm_sex(big, sizeof big, out), AGENT_R_SEX);
    assert_string_equal(out, "");
    assert_int_equal(agent_norm_sex("prefer not to say", 17, out), AGENT_R_MISSING);
    assert_int_equal(agent_norm_sex("female9", 6, out), AGENT_OK);
    assert_string_equal(out, "f");
}

static void
test_trim(void **state)
{
    const char *s = " \t\r\n x y \v\f";
    size_t n = strlen(s);

    agent_trim(&s, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "x y", 3);
    s = "   ";
    n = 3;
    agent_trim(&s, &n);
    assert_int_equal(n, 0);
    assert_non_null(agent_norm_unicode_version());
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_reason_codes),
        cmocka_unit_test(test_reason_text_has_no_input),
        cmocka_unit_test(test_name_unterminated_input),
        cmocka_unit_test(test_name_too_long),
        cmocka_unit_test(test_name_fast_path_agrees),
        cmocka_unit_test(test_name_compact_and_parts),
        cmocka_unit_test(test_nickname_table),
        cmocka_unit_test(test_phonetic_edges),
        cmocka_unit_test(test_date_formats_check),
        cmocka_unit_test(test_date_behaviour),
        cmocka_unit_test(test_salvage_forms),
        cmocka_unit_test(test_partial_dates),
        cmocka_unit_test(test_nhs_check_digit),
        cmocka_unit_test(test_upn_check_letter),
        cmocka_unit_test(test_postcode_outputs),
        cmocka_unit_test(test_sex_long_input),
        cmocka_unit_test(test_trim),
    };

    return cmocka_run_group_tests_name("normalise", tests, NULL, NULL);
}
