/* Normalisers and validators for person identifiers; see normalise.h. The
 * phonetic codes are in phonetic.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "normalise.h"
#include "xl/err.h"
#include "xl/mem.h"

/* ---- reasons ------------------------------------------------------------------ */

struct s_reason {
    const char *code;
    const char *text;
};

/* Codes are written into reports and vector files: never rename one. */
static const struct s_reason s_reasons[AGENT_R_COUNT] = {
    [AGENT_OK] = {"ok", "The value is valid."},
    [AGENT_R_MISSING] = {"missing", "The value is empty or recorded as not known."},
    [AGENT_R_BAD_UTF8] = {"bad_utf8", "The value is not valid UTF-8 text; check the file's "
                                      "character encoding."},
    [AGENT_R_NAME_CHARS] = {"name_chars", "The name contains a digit, symbol or control "
                                          "character."},
    [AGENT_R_TOO_LONG] = {"too_long", "The value is longer than the field allows."},
    [AGENT_R_DATE_FORMAT] = {"date_format", "The date does not match any of the configured "
                                            "date formats."},
    [AGENT_R_DATE_INVALID] = {"date_invalid", "The date does not exist in the calendar (for "
                                              "example month 13 or 30 February)."},
    [AGENT_R_DATE_FUTURE] = {"date_future", "The date is after the reference date."},
    [AGENT_R_DATE_TOO_OLD] = {"date_too_old", "The date is before the earliest plausible year "
                                              "or gives an implausibly high age."},
    [AGENT_R_SEX] = {"sex_code", "The sex is not a recognised code (expected male/female, "
                                 "m/f or 1/2)."},
    [AGENT_R_POSTCODE] = {"postcode_format", "The postcode is not a valid UK postcode."},
    [AGENT_R_NHS_FORMAT] = {"nhs_format", "The NHS number is not ten digits."},
    [AGENT_R_NHS_CHECK] = {"nhs_check_digit", "The NHS number's check digit is wrong."},
    [AGENT_R_UPN_FORMAT] = {"upn_format", "The UPN is not a check letter followed by twelve "
                                          "digits (or eleven digits and a letter)."},
    [AGENT_R_UPN_CHECK] = {"upn_check_letter", "The UPN's check letter is wrong."},
    [AGENT_R_DATE_TOO_RECENT] = {"date_too_recent", "The date gives an age below the minimum "
                                                    "age."},
    [AGENT_R_NHS_PLACEHOLDER] = {"nhs_placeholder", "The NHS number is a placeholder (ten "
                                                    "identical digits), not a real number."},
    [AGENT_R_CODE_FORMAT] = {"code_format", "The value has characters other than letters, "
                                            "digits and separators."},
    [AGENT_R_DATE_PARTIAL] = {"date_partial", "The date has only a year, or a year and a month "
                                              "(the day or month is missing or 00)."},
};

const char *
agent_reason_code(enum agent_reason r)
{
    return (unsigned)r < AGENT_R_COUNT ? s_reasons[r].code : "unknown";
}

const char *
agent_reason_text(enum agent_reason r)
{
    return (unsigned)r < AGENT_R_COUNT ? s_reasons[r].text : "Unknown reason.";
}

int
agent_reason_from_code(const char *code)
{
    for (int i = 0; i < AGENT_R_COUNT; i++) {
        if (strcmp(code, s_reasons[i].code) == 0)
            return i;
    }
    return -1;
}

const char *
agent_norm_unicode_version(void)
{
    return utf8proc_unicode_version();
}

/* ---- helpers ---------------------------------------------------------------------- */

static int
s_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int
s_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
s_upper(int c)
{
    return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static int
s_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

void
agent_trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;

    while (n > 0 && s_is_space((unsigned char)p[0])) {
        p++;
        n--;
    }
    while (n > 0 && s_is_space((unsigned char)p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

/* ---- names ------------------------------------------------------------------------ */

enum s_cls { S_LETTER, S_DROP, S_SPACE, S_BAD };

/* The ASCII fast path's classes. They must equal what the Unicode path makes of
 * each ASCII character (test_normalise checks all 128): letters are Lu/Ll,
 * ' and ` are apostrophes, the rest of Unicode's P* categories and white space
 * break words, and digits, the S* symbols ($ + < = > ^ | ~) and controls are
 * refused. */
static enum s_cls
s_ascii_class(int c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return S_LETTER;
    if (c == '\'' || c == '`')
        return S_DROP;
    if (s_is_space(c))
        return S_SPACE;
    if (c != 0 && strchr("!\"#%&()*,-./:;?@[\\]_{}", c) != NULL)
        return S_SPACE;
    return S_BAD;
}

/* Apostrophe-like characters, removed without a word break ("O'Neill", "N’Diaye",
 * "Hawaiʻi"); the middle dot too, for Catalan "l·l" (and "ŀ", which decomposes
 * to l and a middle dot). */
static int
s_is_apostrophe(utf8proc_int32_t cp)
{
    switch (cp) {
    case 0x0027: /* ' */
    case 0x0060: /* ` */
    case 0x00B4: /* acute accent used as an apostrophe */
    case 0x00B7: /* middle dot */
    case 0x02B9: /* modifier letter prime */
    case 0x02BB: /* modifier letter turned comma (okina) */
    case 0x02BC: /* modifier letter apostrophe */
    case 0x02BD: /* modifier letter reversed comma */
    case 0x02BE: /* modifier letter right half ring (transliterated hamza) */
    case 0x02BF: /* modifier letter left half ring (transliterated ayin) */
    case 0x2018: /* left single quotation mark */
    case 0x2019: /* right single quotation mark */
    case 0x201B: /* single high-reversed-9 quotation mark */
    case 0x2032: /* prime */ return 1;
    default: return 0;
    }
}

/* Applied to each input code point before decomposition: the spacing acute
 * accent would otherwise decompose to a space and a mark and split the name,
 * and the Greek ano teleia (a semicolon) would become a middle dot. */
static utf8proc_int32_t
s_premap(utf8proc_int32_t cp, void *data)
{
    if (cp == 0x00B4)
        return 0x0027;
    if (cp == 0x0387)
        return 0x0020;
    return cp;
}

/* Letters that NFKD leaves whole but that people transliterate. Lower case
 * only (case folding comes first); sorted by code point for bsearch. */
struct s_translit {
    utf8proc_int32_t cp;
    const char *to;
};

static const struct s_translit s_translits[] = {
    {0x00E6, "ae"}, /* æ */
    {0x00F0, "d"},  /* ð */
    {0x00F8, "o"},  /* ø */
    {0x00FE, "th"}, /* þ */
    {0x0111, "d"},  /* đ */
    {0x0127, "h"},  /* ħ */
    {0x0131, "i"},  /* ı */
    {0x0142, "l"},  /* ł */
    {0x014B, "ng"}, /* ŋ */
    {0x0153, "oe"}, /* œ */
    {0x0167, "t"},  /* ŧ */
    {0x0199, "k"},  /* ƙ */
    {0x01B4, "y"},  /* ƴ */
    {0x0253, "b"},  /* ɓ */
    {0x0254, "o"},  /* ɔ */
    {0x0257, "d"},  /* ɗ */
    {0x025B, "e"},  /* ɛ */
};

static int
s_translit_cmp(const void *key, const void *elem)
{
    utf8proc_int32_t a = *(const utf8proc_int32_t *)key;
    utf8proc_int32_t b = ((const struct s_translit *)elem)->cp;
    return a < b ? -1 : a > b;
}

static const char *
s_translit(utf8proc_int32_t cp)
{
    const struct s_translit *t;

    if (cp < 0x00E6 || cp > 0x025B)
        return NULL;
    t = bsearch(&cp, s_translits, sizeof s_translits / sizeof s_translits[0], sizeof s_translits[0],
                s_translit_cmp);
    return t != NULL ? t->to : NULL;
}

/* The name being written: bytes so far and whether a word break is pending. */
struct s_out {
    char *buf;
    size_t cap; /* bytes available, NUL included */
    size_t n;
    int space;   /* a word break is pending */
    int text;    /* AGENT_NAME_TEXT: digits kept, symbols break words */
    int salvage; /* AGENT_NAME_SALVAGE: digits, symbols and controls dropped */
};

/* Appends a letter's bytes, after the single space that separates it from the
 * previous word when a break is pending. */
static int
s_put(struct s_out *o, const char *b, size_t n)
{
    size_t need = n + (o->space && o->n > 0);

    if (o->n + need + 1 > o->cap)
        return AGENT_R_TOO_LONG;
    if (o->space && o->n > 0)
        o->buf[o->n++] = ' ';
    o->space = 0;
    memcpy(o->buf + o->n, b, n);
    o->n += n;
    return AGENT_OK;
}

static int
s_name_ascii(const char *in, size_t len, struct s_out *o)
{
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i], r;
        char ch;
        switch (s_ascii_class(c)) {
        case S_LETTER:
            ch = (char)s_lower(c);
            r = s_put(o, &ch, 1);
            if (r != AGENT_OK)
                return r;
            break;
        case S_DROP: break;
        case S_SPACE: o->space = 1; break;
        default:
            if (o->text && s_is_digit(c)) {
                ch = (char)c;
                r = s_put(o, &ch, 1);
                if (r != AGENT_OK)
                    return r;
            } else if (o->text && c >= 0x20 && c < 0x7f) {
                o->space = 1;
            } else if (o->salvage) {
                break;
            } else {
                return AGENT_R_NAME_CHARS;
            }
        }
    }
    return AGENT_OK;
}

/* Decomposed code points of one name: NFKD of AGENT_NAME_IN_MAX bytes fits
 * unless the input is made of the few characters that expand tenfold. */
#define S_NAME_CPS (2 * AGENT_NAME_IN_MAX)

static int
s_name_unicode(const char *in, size_t len, struct s_out *o)
{
    utf8proc_int32_t cp[S_NAME_CPS];
    utf8proc_ssize_t n;
    int r = AGENT_OK;

    n = utf8proc_decompose_custom((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len, cp,
                                  S_NAME_CPS,
                                  UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK |
                                      UTF8PROC_CASEFOLD | UTF8PROC_IGNORE,
                                  s_premap, NULL);
    if (n < 0 || n > S_NAME_CPS) {
        /* The buffer may hold part of the name. */
        xl_wipe(cp, sizeof cp);
        if (n == UTF8PROC_ERROR_INVALIDUTF8)
            return AGENT_R_BAD_UTF8;
        /* No other error is possible with these options. */
        return n > 0 ? AGENT_R_TOO_LONG : AGENT_R_NAME_CHARS;
    }
    for (utf8proc_ssize_t i = 0; i < n && r == AGENT_OK; i++) {
        utf8proc_uint8_t b[4];
        const char *t;
        if (s_is_apostrophe(cp[i]))
            continue;
        switch (utf8proc_category(cp[i])) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
            t = s_translit(cp[i]);
            if (t != NULL)
                r = s_put(o, t, strlen(t));
            else
                r = s_put(o, (const char *)b, (size_t)utf8proc_encode_char(cp[i], b));
            break;
        case UTF8PROC_CATEGORY_ZS:
        case UTF8PROC_CATEGORY_ZL:
        case UTF8PROC_CATEGORY_ZP:
        case UTF8PROC_CATEGORY_PC:
        case UTF8PROC_CATEGORY_PD:
        case UTF8PROC_CATEGORY_PS:
        case UTF8PROC_CATEGORY_PE:
        case UTF8PROC_CATEGORY_PI:
        case UTF8PROC_CATEGORY_PF:
        case UTF8PROC_CATEGORY_PO: o->space = 1; break;
        case UTF8PROC_CATEGORY_CC:
            if ((cp[i] < 0x80 && s_is_space((int)cp[i])) || cp[i] == 0x85)
                o->space = 1;
            else if (!o->salvage)
                r = AGENT_R_NAME_CHARS;
            break;
        case UTF8PROC_CATEGORY_ND:
            if (o->text) {
                r = s_put(o, (const char *)b, (size_t)utf8proc_encode_char(cp[i], b));
                break;
            }
            if (!o->salvage)
                r = AGENT_R_NAME_CHARS;
            break;
        case UTF8PROC_CATEGORY_SM:
        case UTF8PROC_CATEGORY_SC:
        case UTF8PROC_CATEGORY_SK:
        case UTF8PROC_CATEGORY_SO:
            if (o->text)
                o->space = 1;
            else if (!o->salvage)
                r = AGENT_R_NAME_CHARS;
            break;
        default: /* other numbers, format, private use, unassigned */
            if (!o->salvage)
                r = AGENT_R_NAME_CHARS;
            break;
        }
    }
    xl_wipe(cp, (size_t)n * sizeof cp[0]);
    return r;
}

int
agent_norm_name_flags(const char *in, size_t len, char *out, size_t outlen, unsigned flags)
{
    struct s_out o = {out,
                      outlen,
                      0,
                      0,
                      (flags & AGENT_NAME_TEXT) != 0,
                      (flags & AGENT_NAME_SALVAGE) != 0 && !(flags & AGENT_NAME_TEXT)};
    int ascii = 1, r;

    if (outlen > 0)
        out[0] = '\0';
    if (outlen == 0)
        return AGENT_R_TOO_LONG;
    agent_trim(&in, &len);
    if (len == 0)
        return AGENT_R_MISSING;
    if (len > AGENT_NAME_IN_MAX)
        return AGENT_R_TOO_LONG;
    if (!(flags & AGENT_NAME_NO_FAST_PATH)) {
        for (size_t i = 0; i < len && ascii; i++)
            ascii = (unsigned char)in[i] < 0x80;
    } else {
        ascii = 0;
    }
    r = ascii ? s_name_ascii(in, len, &o) : s_name_unicode(in, len, &o);
    if (r == AGENT_OK && o.n == 0)
        r = AGENT_R_MISSING;
    if (r != AGENT_OK) {
        xl_wipe(out, o.n);
        out[0] = '\0';
        return r;
    }
    out[o.n] = '\0';
    return AGENT_OK;
}

int
agent_norm_name(const char *in, size_t len, char *out, size_t outlen)
{
    return agent_norm_name_flags(in, len, out, outlen, 0);
}

int
agent_norm_text(const char *in, size_t len, char *out, size_t outlen)
{
    return agent_norm_name_flags(in, len, out, outlen, AGENT_NAME_TEXT);
}

int
agent_name_salvage(const char *in, size_t len, char *out, size_t outlen)
{
    return agent_norm_name_flags(in, len, out, outlen, AGENT_NAME_SALVAGE);
}

int
agent_name_compact(const char *norm, char *out, size_t outlen)
{
    size_t n = 0;

    if (outlen == 0)
        return AGENT_R_TOO_LONG;
    for (const char *p = norm; *p != '\0'; p++) {
        if (*p == ' ')
            continue;
        if (n + 1 >= outlen) {
            xl_wipe(out, n);
            out[0] = '\0';
            return AGENT_R_TOO_LONG;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    return AGENT_OK;
}

size_t
agent_name_parts(const char *norm, struct agent_name_part *parts, size_t maxparts)
{
    size_t count = 0;
    const char *p = norm;

    for (;;) {
        const char *start;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        start = p;
        while (*p != '\0' && *p != ' ')
            p++;
        if (count < maxparts) {
            parts[count].s = start;
            parts[count].len = (size_t)(p - start);
        }
        count++;
    }
    return count;
}

/* ---- nicknames ------------------------------------------------------------------ */

/* Common English nicknames that stand for one given name only. Sorted by
 * nickname (strcmp order) for bsearch; test_normalise checks the order and that
 * no canonical name is itself a nickname. */
static const char *const s_nicknames[][2] = {
    {"abbie", "abigail"},     {"abby", "abigail"},     {"albie", "albert"},
    {"alf", "alfred"},        {"alfie", "alfred"},     {"andy", "andrew"},
    {"archie", "archibald"},  {"becca", "rebecca"},    {"becky", "rebecca"},
    {"bella", "isabella"},    {"ben", "benjamin"},     {"benji", "benjamin"},
    {"benny", "benjamin"},    {"bernie", "bernard"},   {"bertie", "albert"},
    {"bess", "elizabeth"},    {"bessie", "elizabeth"}, {"beth", "elizabeth"},
    {"betsy", "elizabeth"},   {"betty", "elizabeth"},  {"bill", "william"},
    {"billy", "william"},     {"bob", "robert"},       {"bobby", "robert"},
    {"cath", "catherine"},    {"cathy", "catherine"},  {"chas", "charles"},
    {"chuck", "charles"},     {"cindy", "cynthia"},    {"cliff", "clifford"},
    {"connie", "constance"},  {"dan", "daniel"},       {"danny", "daniel"},
    {"dave", "david"},        {"davey", "david"},      {"davie", "david"},
    {"debbie", "deborah"},    {"debby", "deborah"},    {"dick", "richard"},
    {"don", "donald"},        {"donny", "donald"},     {"dot", "dorothy"},
    {"dottie", "dorothy"},    {"doug", "douglas"},     {"drew", "andrew"},
    {"ed", "edward"},         {"eddie", "edward"},     {"eddy", "edward"},
    {"ernie", "ernest"},      {"fanny", "frances"},    {"fred", "frederick"},
    {"freddie", "frederick"}, {"freddy", "frederick"}, {"gabe", "gabriel"},
    {"geoff", "geoffrey"},    {"gerry", "gerald"},     {"ginny", "virginia"},
    {"greg", "gregory"},      {"gwen", "gwendolen"},   {"hal", "henry"},
    {"hank", "henry"},        {"harry", "henry"},      {"hattie", "harriet"},
    {"jack", "john"},         {"jake", "jacob"},       {"jeff", "jeffrey"},
    {"jen", "jennifer"},      {"jenny", "jennifer"},   {"jess", "jessica"},
    {"jim", "james"},         {"jimmy", "james"},      {"joe", "joseph"},
    {"joey", "joseph"},       {"johnny", "john"},      {"josh", "joshua"},
    {"kate", "katherine"},    {"kathy", "katherine"},  {"katie", "katherine"},
    {"katy", "katherine"},    {"ken", "kenneth"},      {"kenny", "kenneth"},
    {"kitty", "katherine"},   {"larry", "lawrence"},   {"len", "leonard"},
    {"lenny", "leonard"},     {"libby", "elizabeth"},  {"liz", "elizabeth"},
    {"lizzie", "elizabeth"},  {"lizzy", "elizabeth"},  {"lottie", "charlotte"},
    {"maggie", "margaret"},   {"mandy", "amanda"},     {"manny", "emmanuel"},
    {"matt", "matthew"},      {"meg", "margaret"},     {"mick", "michael"},
    {"micky", "michael"},     {"mike", "michael"},     {"mikey", "michael"},
    {"molly", "mary"},        {"ned", "edward"},       {"nick", "nicholas"},
    {"paddy", "patrick"},     {"patsy", "patricia"},   {"peggy", "margaret"},
    {"pete", "peter"},        {"phil", "philip"},      {"polly", "mary"},
    {"ray", "raymond"},       {"reg", "reginald"},     {"reggie", "reginald"},
    {"rich", "richard"},      {"richie", "richard"},   {"rick", "richard"},
    {"ricky", "richard"},     {"rob", "robert"},       {"robbie", "robert"},
    {"ron", "ronald"},        {"ronnie", "ronald"},    {"sadie", "sarah"},
    {"sally", "sarah"},       {"sid", "sidney"},       {"steve", "stephen"},
    {"stevie", "stephen"},    {"stu", "stuart"},       {"sue", "susan"},
    {"susie", "susan"},       {"suzy", "susan"},       {"ted", "edward"},
    {"teddy", "edward"},      {"theo", "theodore"},    {"tilly", "matilda"},
    {"tim", "timothy"},       {"timmy", "timothy"},    {"toby", "tobias"},
    {"tom", "thomas"},        {"tommy", "thomas"},     {"tony", "anthony"},
    {"trish", "patricia"},    {"vicky", "victoria"},   {"wally", "walter"},
    {"will", "william"},      {"willy", "william"},    {"winnie", "winifred"},
    {"zach", "zachary"},      {"zack", "zachary"},
};

#define S_NICKNAMES (sizeof s_nicknames / sizeof s_nicknames[0])

const char *
agent_nickname_canonical(const char *first, size_t len)
{
    size_t lo = 0, hi = S_NICKNAMES;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = s_nicknames[mid][0];
        int c = strncmp(first, k, len);
        if (c == 0 && k[len] != '\0')
            c = -1; /* first is a proper prefix of k */
        if (c == 0)
            return s_nicknames[mid][1];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *
agent_nickname_entry(size_t i, const char **canonical)
{
    if (i >= S_NICKNAMES)
        return NULL;
    if (canonical != NULL)
        *canonical = s_nicknames[i][1];
    return s_nicknames[i][0];
}

/* ---- dates ------------------------------------------------------------------------ */

static const char *const s_months[12] = {"january",   "february", "march",    "april",
                                         "may",       "june",     "july",     "august",
                                         "september", "october",  "november", "december"};

enum s_tok { S_T_LIT, S_T_YYYY, S_T_MM, S_T_M, S_T_DD, S_T_D, S_T_MON, S_T_BADY };

/* The token at pat[0..n), its length in *tl. */
static enum s_tok
s_date_token(const char *pat, size_t n, size_t *tl)
{
    if (n >= 4 && memcmp(pat, "yyyy", 4) == 0) {
        *tl = 4;
        return S_T_YYYY;
    }
    if (pat[0] == 'y') {
        *tl = 1;
        return S_T_BADY;
    }
    if (n >= 3 && memcmp(pat, "mon", 3) == 0) {
        *tl = 3;
        return S_T_MON;
    }
    if (n >= 2 && memcmp(pat, "mm", 2) == 0) {
        *tl = 2;
        return S_T_MM;
    }
    if (n >= 2 && memcmp(pat, "dd", 2) == 0) {
        *tl = 2;
        return S_T_DD;
    }
    *tl = 1;
    if (pat[0] == 'm')
        return S_T_M;
    if (pat[0] == 'd')
        return S_T_D;
    return S_T_LIT;
}

/* Reads exactly `min`..`max` digits (as many as there are, up to max). */
static int
s_digits(const char *s, size_t n, size_t *pos, size_t min, size_t max, int *val)
{
    size_t i = 0;
    int v = 0;

    while (i < max && *pos + i < n && s_is_digit((unsigned char)s[*pos + i])) {
        v = v * 10 + (s[*pos + i] - '0');
        i++;
    }
    if (i < min)
        return 0;
    *pos += i;
    *val = v;
    return 1;
}

/* Case-insensitive: does s[pos..n) start with the lower-case word w? */
static int
s_word_at(const char *s, size_t n, size_t pos, const char *w)
{
    size_t k = strlen(w);

    if (n - pos < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        if (s_lower((unsigned char)s[pos + i]) != w[i])
            return 0;
    }
    return 1;
}

static int
s_month_name(const char *s, size_t n, size_t *pos, int *m)
{
    for (int i = 0; i < 12; i++) {
        if (s_word_at(s, n, *pos, s_months[i])) {
            *pos += strlen(s_months[i]);
            *m = i + 1;
            return 1;
        }
    }
    if (s_word_at(s, n, *pos, "sept")) {
        *pos += 4;
        *m = 9;
        return 1;
    }
    for (int i = 0; i < 12; i++) {
        char abbr[4] = {s_months[i][0], s_months[i][1], s_months[i][2], '\0'};
        if (s_word_at(s, n, *pos, abbr)) {
            *pos += 3;
            *m = i + 1;
            return 1;
        }
    }
    return 0;
}

/* A time of day after the date: [T or spaces] H[H]:MM[:SS[.fff]] then an
 * optional zone (Z, +hh:mm, +hhmm) or AM/PM. The whole rest must be one. */
static int
s_time_suffix(const char *s, size_t n, size_t pos)
{
    int v;

    if (pos == n)
        return 1;
    if (s[pos] == 'T' || s[pos] == 't') {
        pos++;
    } else {
        if (s[pos] != ' ')
            return 0;
        while (pos < n && s[pos] == ' ')
            pos++;
    }
    if (!s_digits(s, n, &pos, 1, 2, &v) || pos >= n || s[pos++] != ':' ||
        !s_digits(s, n, &pos, 2, 2, &v))
        return 0;
    if (pos < n && s[pos] == ':') {
        pos++;
        if (!s_digits(s, n, &pos, 2, 2, &v))
            return 0;
        if (pos < n && s[pos] == '.') {
            pos++;
            if (!s_digits(s, n, &pos, 1, 9, &v))
                return 0;
        }
    }
    if (pos < n && (s[pos] == 'Z' || s[pos] == 'z')) {
        pos++;
    } else if (pos < n && (s[pos] == '+' || s[pos] == '-')) {
        pos++;
        if (!s_digits(s, n, &pos, 2, 2, &v))
            return 0;
        if (pos < n && s[pos] == ':')
            pos++;
        if (!s_digits(s, n, &pos, 2, 2, &v))
            return 0;
    } else {
        size_t p = pos;
        while (p < n && s[p] == ' ')
            p++;
        if (s_word_at(s, n, p, "am") || s_word_at(s, n, p, "pm"))
            pos = p + 2;
    }
    return pos == n;
}

/* 1 when pattern pat[0..pn) matches all of s[0..n) (a time suffix aside). */
static int
s_date_match(const char *pat, size_t pn, const char *s, size_t n, struct agent_date *d)
{
    size_t pp = 0, pos = 0, tl;
    int y = 0, m = 0, day = 0;

    while (pp < pn) {
        enum s_tok t = s_date_token(pat + pp, pn - pp, &tl);
        int ok;
        switch (t) {
        case S_T_YYYY: ok = s_digits(s, n, &pos, 4, 4, &y); break;
        case S_T_MM: ok = s_digits(s, n, &pos, 2, 2, &m); break;
        case S_T_M: ok = s_digits(s, n, &pos, 1, 2, &m); break;
        case S_T_DD: ok = s_digits(s, n, &pos, 2, 2, &day); break;
        case S_T_D: ok = s_digits(s, n, &pos, 1, 2, &day); break;
        case S_T_MON: ok = s_month_name(s, n, &pos, &m); break;
        case S_T_LIT:
            ok = pos < n && s_lower((unsigned char)s[pos]) == s_lower((unsigned char)pat[pp]);
            pos += ok;
            break;
        default: ok = 0; break;
        }
        if (!ok)
            return 0;
        pp += tl;
    }
    if (!s_time_suffix(s, n, pos))
        return 0;
    d->y = y;
    d->m = m;
    d->d = day;
    return 1;
}

static int
s_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_mdays(int y, int m)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return mdays[m - 1] + (m == 2 && s_leap(y));
}

int
agent_date_valid(const struct agent_date *d)
{
    if (d->y < 1 || d->y > 9999 || d->m < 1 || d->m > 12 || d->d < 1)
        return 0;
    return d->d <= s_mdays(d->y, d->m);
}

static int
s_date_cmp(const struct agent_date *a, const struct agent_date *b)
{
    if (a->y != b->y)
        return a->y < b->y ? -1 : 1;
    if (a->m != b->m)
        return a->m < b->m ? -1 : 1;
    if (a->d != b->d)
        return a->d < b->d ? -1 : 1;
    return 0;
}

int
agent_date_age(const struct agent_date *dob, const struct agent_date *ref)
{
    int age = ref->y - dob->y;

    if (ref->m < dob->m || (ref->m == dob->m && ref->d < dob->d))
        age--;
    return age;
}

/* The rules for the days first..last (a whole month or year of a partial
 * date; first == last for a full one): refused only when every day is. */
static int
s_date_rules(const struct agent_date *first, const struct agent_date *last,
             const struct agent_date_rules *rules)
{
    if (rules == NULL)
        return AGENT_OK;
    if (s_date_cmp(first, &rules->ref) > 0)
        return AGENT_R_DATE_FUTURE;
    if ((rules->min_year > 0 && last->y < rules->min_year) ||
        (rules->max_age_years > 0 && agent_date_age(last, &rules->ref) > rules->max_age_years))
        return AGENT_R_DATE_TOO_OLD;
    if (rules->min_age_years > 0 && agent_date_age(first, &rules->ref) < rules->min_age_years)
        return AGENT_R_DATE_TOO_RECENT;
    return AGENT_OK;
}

/* The first and last day of year y, or of month m of it when m is not 0. */
static void
s_period(int y, int m, struct agent_date *first, struct agent_date *last)
{
    *first = (struct agent_date){y, m != 0 ? m : 1, 1};
    *last = (struct agent_date){y, m != 0 ? m : 12, 0};
    last->d = s_mdays(y, last->m);
}

int
agent_date_year_plausible(int y, const struct agent_date_rules *rules)
{
    struct agent_date first, last;

    if (y < 1 || y > 9999)
        return 0;
    s_period(y, 0, &first, &last);
    return s_date_rules(&first, &last, rules) == AGENT_OK;
}

int
agent_norm_date(const char *in, size_t len, const char *formats,
                const struct agent_date_rules *rules, struct agent_date *out)
{
    struct agent_date d = {0, 0, 0}, first, last;
    const char *p = formats;
    int found = 0, r;

    memset(out, 0, sizeof *out);
    agent_trim(&in, &len);
    if (len == 0)
        return AGENT_R_MISSING;
    while (!found && p != NULL && *p != '\0') {
        const char *bar = strchr(p, '|');
        size_t pn = bar != NULL ? (size_t)(bar - p) : strlen(p);
        found = pn > 0 && s_date_match(p, pn, in, len, &d);
        p = bar != NULL ? bar + 1 : NULL;
    }
    if (!found)
        return AGENT_R_DATE_FORMAT;
    if (rules != NULL && rules->partial && d.d == 0 && d.m >= 0 && d.m <= 12 && d.y >= 1 &&
        d.y <= 9999) {
        /* A partial date: no day, or neither day nor month. */
        s_period(d.y, d.m, &first, &last);
        r = s_date_rules(&first, &last, rules);
        if (r != AGENT_OK)
            return r;
        *out = d;
        return AGENT_R_DATE_PARTIAL;
    }
    if (!agent_date_valid(&d))
        return AGENT_R_DATE_INVALID;
    r = s_date_rules(&d, &d, rules);
    if (r != AGENT_OK)
        return r;
    *out = d;
    return AGENT_OK;
}

static int
s_formats_check(const char *formats, int allow_partial, int *partial, char *err, size_t errlen)
{
    const char *p = formats;

    if (partial != NULL)
        *partial = 0;
    if (formats == NULL || formats[0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_INVALID, "date formats: empty list");
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t pn = bar != NULL ? (size_t)(bar - p) : strlen(p), pp = 0, tl;
        int ny = 0, nm = 0, nd = 0;
        while (pp < pn) {
            switch (s_date_token(p + pp, pn - pp, &tl)) {
            case S_T_YYYY: ny++; break;
            case S_T_MM:
            case S_T_M:
            case S_T_MON: nm++; break;
            case S_T_DD:
            case S_T_D: nd++; break;
            case S_T_BADY:
                return xl_err_set(err, errlen, XL_ERR_INVALID,
                                  "date format '%.*s': a year is written yyyy (two-digit years "
                                  "are not supported)",
                                  (int)pn, p);
            default: break;
            }
            pp += tl;
        }
        if (allow_partial && pn > 0 && ny == 1 && nm <= 1 && nd == 0) {
            if (partial != NULL)
                *partial = 1;
        } else if (pn == 0 || ny != 1 || nm != 1 || nd != 1) {
            if (allow_partial)
                return xl_err_set(err, errlen, XL_ERR_INVALID,
                                  "date format '%.*s': needs exactly one yyyy, at most one month "
                                  "(mm, m or mon) and, with a month, at most one day (dd or d)",
                                  (int)pn, p);
            return xl_err_set(err, errlen, XL_ERR_INVALID,
                              "date format '%.*s': needs exactly one yyyy, one month (mm, m or "
                              "mon) and one day (dd or d)",
                              (int)pn, p);
        }
        if (bar == NULL)
            break;
        p = bar + 1;
    }
    return 0;
}

int
agent_date_formats_check(const char *formats, char *err, size_t errlen)
{
    return s_formats_check(formats, 0, NULL, err, errlen);
}

int
agent_date_formats_check_partial(const char *formats, int *partial, char *err, size_t errlen)
{
    return s_formats_check(formats, 1, partial, err, errlen);
}

/* ---- salvaged dates ------------------------------------------------------------- */

/* The parts of a date as read: digits, "" when unknown. */
struct s_dparts {
    char y[9], m[5], d[5];
};

static void
s_dpart(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* A part of only zeros (or none) is unknown. */
static const char *
s_dknown(const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p != '0')
            return s;
    }
    return "";
}

static int
s_dsalvage_write(const struct s_dparts *p, char out[AGENT_DATE_SALVAGE_MAX])
{
    const char *y = s_dknown(p->y), *m = s_dknown(p->m), *d = s_dknown(p->d);
    /* Month and day in two digits at least; an unknown month before a day 00. */
    const char *mpad = strlen(m) == 1 ? "0" : "", *dpad = strlen(d) == 1 ? "0" : "";

    out[0] = '\0';
    if (y[0] == '\0' && m[0] == '\0' && d[0] == '\0')
        return AGENT_R_MISSING;
    if (m[0] == '\0' && d[0] == '\0')
        snprintf(out, AGENT_DATE_SALVAGE_MAX, "%s", y);
    else if (d[0] == '\0')
        snprintf(out, AGENT_DATE_SALVAGE_MAX, "%s-%s%s", y, mpad, m);
    else
        snprintf(out, AGENT_DATE_SALVAGE_MAX, "%s-%s%s-%s%s", y, mpad, m[0] != '\0' ? m : "00",
                 dpad, d);
    return AGENT_OK;
}

/* The date tokens of pattern pat[0..pn) in order (S_T_YYYY, S_T_MM ...), up to
 * 3; returns how many. */
static size_t
s_pattern_tokens(const char *pat, size_t pn, enum s_tok *t)
{
    size_t pp = 0, tl, n = 0;

    while (pp < pn) {
        enum s_tok k = s_date_token(pat + pp, pn - pp, &tl);
        if (k != S_T_LIT && k != S_T_BADY && n < 3)
            t[n++] = k;
        pp += tl;
    }
    return n;
}

static int
s_is_month_tok(enum s_tok t)
{
    return t == S_T_MM || t == S_T_M || t == S_T_MON;
}

/* A run of the value: digits, or letters that name a month (m set). */
struct s_drun {
    const char *s;
    size_t n;
    int month;
};

/* Puts a run into the part of token k. */
static void
s_dassign(struct s_dparts *dp, enum s_tok k, const char *v, size_t n)
{
    if (k == S_T_YYYY)
        s_dpart(dp->y, sizeof dp->y, v, n);
    else if (s_is_month_tok(k))
        s_dpart(dp->m, sizeof dp->m, v, n);
    else
        s_dpart(dp->d, sizeof dp->d, v, n);
}

/* The first pattern of formats whose date tokens satisfy want (its tokens
 * into t, their number returned), or 0. */
static size_t
s_pattern_find(const char *formats, int (*want)(const enum s_tok *t, size_t n, size_t arg),
               size_t arg, enum s_tok t[3])
{
    for (const char *p = formats; p != NULL && *p != '\0';) {
        const char *bar = strchr(p, '|');
        size_t pn = bar != NULL ? (size_t)(bar - p) : strlen(p), n = s_pattern_tokens(p, pn, t);
        if (n > 0 && want(t, n, arg))
            return n;
        p = bar != NULL ? bar + 1 : NULL;
    }
    return 0;
}

static int
s_want_any(const enum s_tok *t, size_t n, size_t arg)
{
    return 1;
}

/* All tokens digits: a single run of digits can be cut by their widths. */
static int
s_want_numeric(const enum s_tok *t, size_t n, size_t arg)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i] == S_T_MON)
            return 0;
    }
    return 1;
}

/* The year first when arg is 1, not first when 0. */
static int
s_want_year_first(const enum s_tok *t, size_t n, size_t arg)
{
    return (t[0] == S_T_YYYY) == (arg == 1);
}

/* The fallback of agent_date_salvage for a value no pattern matches. */
static int
s_dsalvage_runs(const char *in, size_t len, const char *formats, struct s_dparts *dp)
{
    struct s_drun run[8];
    enum s_tok t[3];
    size_t nrun = 0, ndigits = 0, nt, yat = SIZE_MAX, slot = 0;

    for (size_t i = 0; i < len && nrun < 8;) {
        size_t j = i;
        if (s_is_digit((unsigned char)in[i])) {
            while (j < len && s_is_digit((unsigned char)in[j]))
                j++;
            run[nrun++] = (struct s_drun){in + i, j - i, 0};
            ndigits++;
        } else if (s_lower((unsigned char)in[i]) >= 'a' && s_lower((unsigned char)in[i]) <= 'z') {
            size_t pos = i;
            int m = 0;
            while (j < len && s_lower((unsigned char)in[j]) >= 'a' &&
                   s_lower((unsigned char)in[j]) <= 'z')
                j++;
            if (s_month_name(in, j, &pos, &m) && pos == j)
                run[nrun++] = (struct s_drun){in + i, j - i, m};
        } else {
            j++;
        }
        i = j;
    }
    if (ndigits == 0)
        return AGENT_R_MISSING;
    if (nrun == 1 && run[0].n >= 5 && (nt = s_pattern_find(formats, s_want_numeric, 0, t)) > 0) {
        /* One run of digits ("19871305"): cut by the pattern's widths. */
        size_t at = 0;
        for (size_t i = 0; i < nt && at < run[0].n; i++) {
            size_t w = t[i] == S_T_YYYY ? 4 : 2;
            if (w > run[0].n - at)
                w = run[0].n - at;
            s_dassign(dp, t[i], run[0].s + at, w);
            at += w;
        }
        return AGENT_OK;
    }
    for (size_t i = 0; i < nrun && yat == SIZE_MAX; i++) {
        if (run[i].month == 0 && run[i].n >= 3)
            yat = i;
    }
    nt = 0;
    if (yat != SIZE_MAX)
        nt = s_pattern_find(formats, s_want_year_first, yat == 0, t);
    if (nt == 0)
        nt = s_pattern_find(formats, s_want_any, 0, t);
    /* A run of 3 or more digits is the year; a month name the month; the other
     * runs fill the pattern's month and day in its order, then the year. */
    for (size_t i = 0; i < nrun; i++) {
        if (run[i].month != 0) {
            if (dp->m[0] == '\0')
                snprintf(dp->m, sizeof dp->m, "%02d", run[i].month);
            continue;
        }
        if (i == yat) {
            s_dpart(dp->y, sizeof dp->y, run[i].s, run[i].n);
            continue;
        }
        while (slot < nt && (t[slot] == S_T_YYYY || (s_is_month_tok(t[slot]) && dp->m[0] != '\0')))
            slot++;
        if (slot < nt)
            s_dassign(dp, t[slot++], run[i].s, run[i].n);
        else if (dp->y[0] == '\0' && yat == SIZE_MAX)
            s_dpart(dp->y, sizeof dp->y, run[i].s, run[i].n);
    }
    return AGENT_OK;
}

int
agent_date_salvage(const char *in, size_t len, const char *formats,
                   char out[AGENT_DATE_SALVAGE_MAX])
{
    struct s_dparts dp;
    struct agent_date d;
    const char *p = formats;
    int found = 0, r;

    memset(&dp, 0, sizeof dp);
    out[0] = '\0';
    agent_trim(&in, &len);
    if (len == 0 || len > 64 || formats == NULL)
        return AGENT_R_MISSING;
    while (!found && p != NULL && *p != '\0') {
        const char *bar = strchr(p, '|');
        size_t pn = bar != NULL ? (size_t)(bar - p) : strlen(p);
        found = pn > 0 && s_date_match(p, pn, in, len, &d);
        p = bar != NULL ? bar + 1 : NULL;
    }
    if (found) {
        /* The parts as read: yyyy is four digits, the month and day two at most. */
        snprintf(dp.y, sizeof dp.y, "%04d", d.y);
        snprintf(dp.m, sizeof dp.m, "%02d", d.m);
        snprintf(dp.d, sizeof dp.d, "%02d", d.d);
        r = s_dsalvage_write(&dp, out);
    } else {
        r = s_dsalvage_runs(in, len, formats, &dp);
        if (r == AGENT_OK)
            r = s_dsalvage_write(&dp, out);
    }
    xl_wipe(&dp, sizeof dp);
    xl_wipe(&d, sizeof d);
    return r;
}

void
agent_date_iso(const struct agent_date *d, char out[11])
{
    int y = d->y < 0 ? 0 : d->y > 9999 ? 9999 : d->y;
    int m = d->m < 0 ? 0 : d->m > 99 ? 99 : d->m;
    int day = d->d < 0 ? 0 : d->d > 99 ? 99 : d->d;

    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + day / 10);
    out[9] = (char)('0' + day % 10);
    out[10] = '\0';
}

/* ---- sex ---------------------------------------------------------------------------- */

static int
s_sex(const char *in, size_t len, char out[2], char *v, size_t vcap)
{
    static const char *const male[] = {"m", "male", "man", "boy", "1"};
    static const char *const female[] = {"f", "female", "woman", "girl", "2"};
    static const char *const unknown[] = {
        "u",
        "unknown",
        "not known",
        "not stated",
        "not specified",
        "not recorded",
        "n/k",
        "nk",
        "unk",
        "0",
        "9",
        "x",
        "i",
        "indeterminate",
        "other",
        "prefer not to say",
    };
    size_t n = 0;

    agent_trim(&in, &len);
    if (len == 0)
        return AGENT_R_MISSING;
    /* Lower case with inner runs of white space made one space. */
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (s_is_space(c)) {
            if (n > 0 && v[n - 1] == ' ')
                continue;
            c = ' ';
        }
        if (n + 1 >= vcap)
            return AGENT_R_SEX;
        v[n++] = (char)s_lower(c);
    }
    v[n] = '\0';
    for (size_t i = 0; i < sizeof male / sizeof male[0]; i++) {
        if (strcmp(v, male[i]) == 0) {
            memcpy(out, "m", 2);
            return AGENT_OK;
        }
    }
    for (size_t i = 0; i < sizeof female / sizeof female[0]; i++) {
        if (strcmp(v, female[i]) == 0) {
            memcpy(out, "f", 2);
            return AGENT_OK;
        }
    }
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        if (strcmp(v, unknown[i]) == 0)
            return AGENT_R_MISSING;
    }
    return AGENT_R_SEX;
}

int
agent_norm_sex(const char *in, size_t len, char out[2])
{
    char v[24];
    int r;

    out[0] = '\0';
    r = s_sex(in, len, out, v, sizeof v);
    xl_wipe(v, sizeof v);
    return r;
}

/* ---- postcode ----------------------------------------------------------------------- */

static int
s_is_alpha_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

static int
s_in(int c, const char *set)
{
    return c != 0 && strchr(set, c) != NULL;
}

/* The outward code pc[0..n) against A9, A99, AA9, AA99, A9A, AA9A. */
static int
s_outward_valid(const char *pc, size_t n)
{
    if (n < 2 || n > 4 || !s_is_alpha_upper(pc[0]) || s_in(pc[0], "QVX"))
        return 0;
    if (s_is_digit(pc[1])) {
        if (n == 2)
            return 1; /* A9 */
        if (n == 3 && s_is_digit(pc[2]))
            return 1;                                    /* A99 */
        return n == 3 && s_in(pc[2], "ABCDEFGHJKPSTUW"); /* A9A */
    }
    if (!s_is_alpha_upper(pc[1]) || s_in(pc[1], "IJZ") || n < 3 || !s_is_digit(pc[2]))
        return 0;
    if (n == 3)
        return 1;                       /* AA9 */
    return s_is_digit(pc[3]) ||         /* AA99 */
           s_in(pc[3], "ABEHMNPRVWXY"); /* AA9A */
}

static int
s_postcode(const char *in, size_t len, char out[9], char district[5], char sector[7], char pc[8])
{
    size_t n = 0, on;

    agent_trim(&in, &len);
    if (len == 0)
        return AGENT_R_MISSING;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (s_is_space(c))
            continue;
        c = s_upper(c);
        if (!s_is_alpha_upper(c) && !s_is_digit(c))
            return AGENT_R_POSTCODE;
        if (n == 7)
            return AGENT_R_POSTCODE;
        pc[n++] = (char)c;
    }
    if (n < 5)
        return AGENT_R_POSTCODE;
    on = n - 3;
    if (!(on == 3 && memcmp(pc, "GIR0AA", 6) == 0)) {
        if (!s_is_digit(pc[on]) || !s_is_alpha_upper(pc[on + 1]) || !s_is_alpha_upper(pc[on + 2]) ||
            s_in(pc[on + 1], "CIKMOV") || s_in(pc[on + 2], "CIKMOV") || !s_outward_valid(pc, on))
            return AGENT_R_POSTCODE;
    }
    memcpy(out, pc, on);
    out[on] = ' ';
    memcpy(out + on + 1, pc + on, 3);
    out[n + 1] = '\0';
    if (district != NULL) {
        memcpy(district, pc, on);
        district[on] = '\0';
    }
    if (sector != NULL) {
        memcpy(sector, out, on + 2);
        sector[on + 2] = '\0';
    }
    return AGENT_OK;
}

int
agent_norm_postcode(const char *in, size_t len, char out[9], char district[5], char sector[7])
{
    char pc[8];
    int r;

    out[0] = '\0';
    if (district != NULL)
        district[0] = '\0';
    if (sector != NULL)
        sector[0] = '\0';
    r = s_postcode(in, len, out, district, sector, pc);
    xl_wipe(pc, sizeof pc);
    return r;
}

/* ---- NHS number -------------------------------------------------------------------- */

int
agent_nhs_check_digit(const char first9[9])
{
    int sum = 0, c;

    for (int i = 0; i < 9; i++) {
        if (!s_is_digit((unsigned char)first9[i]))
            return -1;
        sum += (first9[i] - '0') * (10 - i);
    }
    c = 11 - sum % 11;
    if (c == 11)
        return 0;
    return c == 10 ? -1 : c;
}

static int
s_nhs(const char *in, size_t len, char out[11], char d[10])
{
    size_t n = 0;
    int same = 1;

    agent_trim(&in, &len);
    if (len == 0)
        return AGENT_R_MISSING;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == ' ' || c == '-') {
            /* A separator stands between digits, never at either end. */
            if (i == 0 || i == len - 1)
                return AGENT_R_NHS_FORMAT;
            continue;
        }
        if (!s_is_digit(c) || n == 10)
            return AGENT_R_NHS_FORMAT;
        d[n++] = (char)c;
    }
    if (n != 10)
        return AGENT_R_NHS_FORMAT;
    for (int i = 1; i < 10; i++)
        same &= d[i] == d[0];
    if (same)
        return AGENT_R_NHS_PLACEHOLDER;
    if (agent_nhs_check_digit(d) != d[9] - '0')
        return AGENT_R_NHS_CHECK;
    memcpy(out, d, 10);
    out[10] = '\0';
    return AGENT_OK;
}

int
agent_norm_nhs(const char *in, size_t len, char out[11])
{
    char d[10];
    int r;

    out[0] = '\0';
    r = s_nhs(in, len, out, d);
    xl_wipe(d, sizeof d);
    return r;
}

/* ---- Unique Pupil Number ----------------------------------------------------------
 *
 * Check letter, from the UK Government Data Standards Catalogue entry "Unique
 * Pupil Number" v2.0 (DfE, agreed 18 November 2004) and DfE "Unique Pupil
 * Numbers (UPNs): a guide for schools and local authorities": multiply the
 * characters in positions 2 to 13 by their position (weights 2 to 13), digits
 * by their value and the letter of a temporary UPN (position 13) by its index
 * in the check alphabet below (A=0, B=1, ..., H=7, J=8, ..., N=12, P=13, Q=14,
 * R=15, T=16, ..., Z=22); the sum modulo 23 indexes the same alphabet, which
 * leaves out I, O and S. Example: B801200005001 (93 mod 23 = 1 -> B) and the
 * temporary X00180001701A (135 mod 23 = 20 -> X). */

static const char s_upn_alpha[] = "ABCDEFGHJKLMNPQRTUVWXYZ";

static int
s_upn_letter_value(int c)
{
    const char *p;

    if (!s_is_alpha_upper(c))
        return -1;
    p = strchr(s_upn_alpha, c);
    return p != NULL ? (int)(p - s_upn_alpha) : -1;
}

int
agent_upn_check_letter(const char body12[12])
{
    int sum = 0;

    for (int i = 0; i < 12; i++) {
        int c = (unsigned char)body12[i], v;
        if (s_is_digit(c))
            v = c - '0';
        else if (i == 11)
            v = s_upn_letter_value(c);
        else
            v = -1;
        if (v < 0)
            return -1;
        sum += v * (i + 2);
    }
    return s_upn_alpha[sum % 23];
}

static int
s_upn(const char *in, size_t len, char out[14], char u[13])
{
    size_t n = 0;
    int check;

    agent_trim(&in, &len);
    if (len == 0)
        return AGENT_R_MISSING;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (s_is_space(c))
            continue;
        if (n == 13)
            return AGENT_R_UPN_FORMAT;
        u[n++] = (char)s_upper(c);
    }
    if (n != 13 || s_upn_letter_value((unsigned char)u[0]) < 0)
        return AGENT_R_UPN_FORMAT;
    check = agent_upn_check_letter(u + 1);
    if (check < 0)
        return AGENT_R_UPN_FORMAT;
    if (check != u[0])
        return AGENT_R_UPN_CHECK;
    memcpy(out, u, 13);
    out[13] = '\0';
    return AGENT_OK;
}

int
agent_norm_upn(const char *in, size_t len, char out[14])
{
    char u[13];
    int r;

    out[0] = '\0';
    r = s_upn(in, len, out, u);
    xl_wipe(u, sizeof u);
    return r;
}

/* ---- other codes ------------------------------------------------------------------ */

int
agent_norm_code(const char *in, size_t len, char *out, size_t outlen)
{
    size_t n = 0;

    if (outlen > 0)
        out[0] = '\0';
    agent_trim(&in, &len);
    if (len == 0)
        return AGENT_R_MISSING;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == ' ' || c == '-' || c == '.' || c == '/')
            continue;
        if (!s_is_digit(c) && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            xl_wipe(out, n);
            if (outlen > 0)
                out[0] = '\0';
            return AGENT_R_CODE_FORMAT;
        }
        if (n + 1 >= outlen) {
            xl_wipe(out, n);
            if (outlen > 0)
                out[0] = '\0';
            return AGENT_R_TOO_LONG;
        }
        out[n++] = (char)s_upper(c);
    }
    out[n] = '\0';
    return n == 0 ? AGENT_R_MISSING : AGENT_OK;
}

int
agent_code_salvage(const char *in, size_t len, int uk, char *out, size_t outlen)
{
    size_t n = 0;

    if (outlen == 0)
        return AGENT_R_TOO_LONG;
    out[0] = '\0';
    agent_trim(&in, &len);
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (!s_is_digit(c) && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            continue;
        /* Room for the UK space and the NUL. */
        if (n + (uk ? 2 : 1) >= outlen || (uk && n == 7)) {
            xl_wipe(out, n);
            out[0] = '\0';
            return uk ? AGENT_R_MISSING : AGENT_R_TOO_LONG;
        }
        out[n++] = (char)s_upper(c);
    }
    out[n] = '\0';
    if (uk && n > 0 && n < 5) {
        xl_wipe(out, n);
        out[0] = '\0';
        return AGENT_R_MISSING;
    }
    if (uk && n > 0) {
        /* "B11AI" -> "B1 1AI": the inward code is always three characters. */
        memmove(out + n - 2, out + n - 3, 4);
        out[n - 3] = ' ';
        n++;
    }
    return n == 0 ? AGENT_R_MISSING : AGENT_OK;
}
