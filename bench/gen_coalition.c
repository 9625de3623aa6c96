/* gen_coalition: writes a synthetic coalition data set (four agency extracts
 * and the truth linking them) for tests, benchmarks and the demo.
 *
 *   gen_coalition --seed N --people N --out DIR [--error-rate F]
 *                 [--invalid-rate F] [--ref-date YYYY-MM-DD] [--programme F]
 *                 [--hard] [--quiet]
 *
 * With --programme it also writes programme.csv, a support programme's
 * caseload (see tests/lib/gen.h). The summary (records per agency, errors and
 * invalid values by kind, true pairs) and the time taken go to stderr.
 *
 * --hard (off by default) makes the records as messy as the public benchmark
 * sets (FEBRL/dsgen "C", splink's fake data) and real agency extracts. The
 * files are first written exactly as without it (so the default output, and
 * every bench and test that uses it, is unchanged for a seed), then read back
 * and roughened here, deterministically for the seed:
 *
 *   - names: OCR confusions (o/0, l/1/I, s/5, rn/m, cl/d) and stray digits,
 *     which an agent's validation refuses as a name; nicknames both ways
 *     (a small table of our own); middle names in the forename field or used
 *     as the forename; forename and surname swapped; a new surname in the
 *     records of agencies that came to know the child later; double-barrelled
 *     surnames in part, joined or in full; keyboard typos, insertions,
 *     deletions and transpositions;
 *   - dates of birth: day and month swapped whatever the day (so month 13-31),
 *     impossible days and months (31 April, 30 February, month 13), a year
 *     after the reference date, two digits transposed, only the year or the
 *     year and month, or such a partial date stored as the 1st or 1 January;
 *   - postcodes: keyboard typos, insertions, deletions, transpositions and
 *     OCR confusions; NHS numbers with two digits transposed;
 *   - missing forenames, surnames, dates of birth, sex, postcodes, NHS numbers
 *     and UPNs at higher rates;
 *   - more children: twins (same surname, date of birth and postcode, a
 *     different and often similar forename) and siblings of children already
 *     there, in some of the agencies that hold them, with identifiers of their
 *     own; and duplicates inside an agency (the same child twice or three
 *     times under different local ids, the later records re-keyed with more
 *     errors), as case-management systems hold them.
 *
 * The files keep their columns, so the mappings in deploy/examples/ read
 * them; values may fail validation, which is the point. truth.csv gives the
 * true child of every row, duplicates and broken rows included. Added rows
 * take free ids in the gaps between existing ones (a twin's next to its
 * twin's, a duplicate's after the first record's), and each file stays in id
 * order. A summary of what was done goes to stderr. Hard mode holds the files
 * in memory: about 0.7 GB per million children. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <utf8proc.h>

#include "../agent/normalise.h"
#include "gen.h"
#include "xl/clock.h"
#include "xl/err.h"

/* ---- hard mode: what it does, and how often --------------------------------- */

enum s_hkind {
    S_H_OCR = 0,
    S_H_DIGIT,
    S_H_NICKNAME,
    S_H_MIDDLE,
    S_H_BY_MIDDLE,
    S_H_NAMES_SWAPPED,
    S_H_SURNAME_CHANGE,
    S_H_SURNAME_PART,
    S_H_NAME_TYPO,
    S_H_NAME_INS,
    S_H_NAME_DEL,
    S_H_NAME_TRANS,
    S_H_NO_FIRST,
    S_H_NO_SURNAME,
    S_H_DOB_SWAP,
    S_H_DOB_IMPOSSIBLE,
    S_H_DOB_FUTURE,
    S_H_DOB_DIGITS,
    S_H_DOB_PARTIAL,
    S_H_DOB_FIRST,
    S_H_NO_DOB,
    S_H_NO_SEX,
    S_H_PC_TYPO,
    S_H_PC_INS,
    S_H_PC_DEL,
    S_H_PC_TRANS,
    S_H_PC_OCR,
    S_H_NO_POSTCODE,
    S_H_NHS_TRANS,
    S_H_NO_NHS,
    S_H_NO_UPN,
    S_H_NKIND
};

static const char *const s_hkind_names[S_H_NKIND] = {
    [S_H_OCR] = "ocr_in_name",
    [S_H_DIGIT] = "digit_in_name",
    [S_H_NICKNAME] = "nickname",
    [S_H_MIDDLE] = "middle_name_added",
    [S_H_BY_MIDDLE] = "known_by_middle_name",
    [S_H_NAMES_SWAPPED] = "names_swapped",
    [S_H_SURNAME_CHANGE] = "surname_changed",
    [S_H_SURNAME_PART] = "double_barrel_in_part",
    [S_H_NAME_TYPO] = "name_typo",
    [S_H_NAME_INS] = "name_letter_inserted",
    [S_H_NAME_DEL] = "name_letter_deleted",
    [S_H_NAME_TRANS] = "name_letters_transposed",
    [S_H_NO_FIRST] = "missing_forename",
    [S_H_NO_SURNAME] = "missing_surname",
    [S_H_DOB_SWAP] = "dob_day_month_swapped",
    [S_H_DOB_IMPOSSIBLE] = "dob_impossible",
    [S_H_DOB_FUTURE] = "dob_year_in_future",
    [S_H_DOB_DIGITS] = "dob_digits_transposed",
    [S_H_DOB_PARTIAL] = "dob_partial",
    [S_H_DOB_FIRST] = "dob_defaulted_to_1st",
    [S_H_NO_DOB] = "missing_dob",
    [S_H_NO_SEX] = "missing_sex",
    [S_H_PC_TYPO] = "postcode_typo",
    [S_H_PC_INS] = "postcode_char_inserted",
    [S_H_PC_DEL] = "postcode_char_deleted",
    [S_H_PC_TRANS] = "postcode_chars_transposed",
    [S_H_PC_OCR] = "postcode_ocr",
    [S_H_NO_POSTCODE] = "missing_postcode",
    [S_H_NHS_TRANS] = "nhs_digits_transposed",
    [S_H_NO_NHS] = "missing_nhs_number",
    [S_H_NO_UPN] = "missing_upn",
};

/* Chance per record, before the agency's factor. Nicknames are per record
 * whose forename has one, middle names per record of a child who has one,
 * double-barrelled parts per record with such a surname. A date of birth, a
 * postcode, an NHS number takes at most one change. */
static const double s_hrate[S_H_NKIND] = {
    [S_H_OCR] = 0.015,        [S_H_DIGIT] = 0.006,      [S_H_NICKNAME] = 0.12,
    [S_H_MIDDLE] = 0.15,      [S_H_BY_MIDDLE] = 0.05,   [S_H_NAMES_SWAPPED] = 0.012,
    [S_H_SURNAME_PART] = 0.3, [S_H_NAME_TYPO] = 0.03,   [S_H_NAME_INS] = 0.015,
    [S_H_NAME_DEL] = 0.015,   [S_H_NAME_TRANS] = 0.015, [S_H_NO_FIRST] = 0.006,
    [S_H_NO_SURNAME] = 0.005, [S_H_DOB_SWAP] = 0.02,    [S_H_DOB_IMPOSSIBLE] = 0.006,
    [S_H_DOB_FUTURE] = 0.003, [S_H_DOB_DIGITS] = 0.01,  [S_H_DOB_PARTIAL] = 0.006,
    [S_H_DOB_FIRST] = 0.006,  [S_H_NO_DOB] = 0.008,     [S_H_NO_SEX] = 0.015,
    [S_H_PC_TYPO] = 0.015,    [S_H_PC_INS] = 0.006,     [S_H_PC_DEL] = 0.008,
    [S_H_PC_TRANS] = 0.008,   [S_H_PC_OCR] = 0.006,     [S_H_NO_POSTCODE] = 0.04,
    [S_H_NHS_TRANS] = 0.005,  [S_H_NO_NHS] = 0.05,      [S_H_NO_UPN] = 0.03,
};

/* How careless each file's keying is (police, health, education, social, the
 * programme): the school census is checked against birth certificates, a
 * custody record is typed in a hurry. A duplicate record, keyed again when
 * nobody found the first, takes S_DUP_FACTOR times as many changes. */
static const double s_hfactor[XL_GEN_NFILE] = {1.4, 0.8, 0.6, 1.2, 1.3};
#define S_DUP_FACTOR 2.5

/* Per child: a middle name, a change of surname, a double-barrelled surname
 * that the default data give in part, a twin, a sibling. */
#define S_P_MIDDLE  0.40
#define S_P_CHANGE  0.04
#define S_P_BARREL  0.025
#define S_P_TWIN    0.012
#define S_P_SIBLING 0.04
/* Per record: a duplicate in the same file, and of those a third record. */
static const double s_hdup[XL_GEN_NFILE] = {0.05, 0.015, 0.01, 0.06, 0.03};
#define S_P_TRIPLE 0.12
/* Whether a twin or sibling is in each agency that holds the child. */
static const double s_join_twin[XL_GEN_NAGENCY] = {0.35, 0.97, 0.95, 0.85};
static const double s_join_sib[XL_GEN_NAGENCY] = {0.15, 0.95, 0.9, 0.6};

/* The generator's own nicknames: (registered name, another form, sex). Used
 * both ways: an agency may hold the formal name of a child others know as
 * Alfie. */
static const struct {
    const char *formal, *other;
    char sex;
} s_nicks[] = {
    {"William", "Bill", 'm'},     {"William", "Will", 'm'},      {"William", "Liam", 'm'},
    {"Thomas", "Tom", 'm'},       {"Thomas", "Tommy", 'm'},      {"James", "Jim", 'm'},
    {"James", "Jamie", 'm'},      {"Joshua", "Josh", 'm'},       {"Samuel", "Sam", 'm'},
    {"Daniel", "Danny", 'm'},     {"Daniel", "Dan", 'm'},        {"Joseph", "Joe", 'm'},
    {"Alexander", "Alex", 'm'},   {"Alexander", "Sandy", 'm'},   {"Benjamin", "Ben", 'm'},
    {"Matthew", "Matt", 'm'},     {"Christopher", "Chris", 'm'}, {"Michael", "Mike", 'm'},
    {"Michael", "Mick", 'm'},     {"Robert", "Bob", 'm'},        {"Robert", "Rob", 'm'},
    {"Nicholas", "Nick", 'm'},    {"Jonathan", "Jon", 'm'},      {"Anthony", "Tony", 'm'},
    {"Richard", "Dick", 'm'},     {"Edward", "Ted", 'm'},        {"Edward", "Eddie", 'm'},
    {"Zachary", "Zach", 'm'},     {"Nathan", "Nate", 'm'},       {"Cameron", "Cam", 'm'},
    {"Harrison", "Harry", 'm'},   {"Henry", "Harry", 'm'},       {"Alfred", "Alfie", 'm'},
    {"Archibald", "Archie", 'm'}, {"Frederick", "Freddie", 'm'}, {"Theodore", "Theo", 'm'},
    {"Oliver", "Ollie", 'm'},     {"Jacob", "Jake", 'm'},        {"Stanley", "Stan", 'm'},
    {"Sebastian", "Seb", 'm'},    {"Callum", "Cal", 'm'},        {"Muhammad", "Mo", 'm'},
    {"Mohammed", "Mo", 'm'},      {"Abdullah", "Abdul", 'm'},    {"Jakub", "Kuba", 'm'},
    {"Mateusz", "Matt", 'm'},     {"Kacper", "Casper", 'm'},     {"Oluwaseun", "Seun", 'm'},
    {"Elizabeth", "Liz", 'f'},    {"Elizabeth", "Beth", 'f'},    {"Elizabeth", "Libby", 'f'},
    {"Olivia", "Liv", 'f'},       {"Olivia", "Livvy", 'f'},      {"Amelia", "Millie", 'f'},
    {"Amelia", "Amy", 'f'},       {"Jessica", "Jess", 'f'},      {"Isabella", "Bella", 'f'},
    {"Isabella", "Izzy", 'f'},    {"Charlotte", "Lottie", 'f'},  {"Charlotte", "Charlie", 'f'},
    {"Eleanor", "Ellie", 'f'},    {"Eleanor", "Nell", 'f'},      {"Abigail", "Abbie", 'f'},
    {"Abigail", "Abby", 'f'},     {"Rebecca", "Becky", 'f'},     {"Katherine", "Katie", 'f'},
    {"Katherine", "Kate", 'f'},   {"Florence", "Flo", 'f'},      {"Matilda", "Tilly", 'f'},
    {"Harriet", "Hattie", 'f'},   {"Sophia", "Sophie", 'f'},     {"Victoria", "Tori", 'f'},
    {"Alexandra", "Lexi", 'f'},   {"Margaret", "Maisie", 'f'},   {"Mary", "Molly", 'f'},
    {"Evelyn", "Evie", 'f'},      {"Rose", "Rosie", 'f'},        {"Katarzyna", "Kasia", 'f'},
    {"Małgorzata", "Gosia", 'f'}, {"Zuzanna", "Zuza", 'f'},      {"Natalia", "Nat", 'f'},
    {"Gabriela", "Gabi", 'f'},    {"Wiktoria", "Vicky", 'f'},    {"Oliwia", "Olivia", 'f'},
};
#define S_NNICK (sizeof s_nicks / sizeof s_nicks[0])

/* ---- PRNG: xoshiro256** seeded through splitmix64 ---------------------------
 * One stream per purpose and coordinates, so a row's changes depend on the
 * seed and the row, not on the rows handled before it. */

struct s_rng {
    uint64_t s[4];
};

enum { S_T_PLAN = 0x48410001, S_T_FAMILY, S_T_DUP, S_T_ROW };

static uint64_t
s_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
s_rng_stream(struct s_rng *r, uint64_t seed, uint64_t tag, uint64_t a, uint64_t b)
{
    uint64_t h = s_mix(seed ^ (tag * 0x9e3779b97f4a7c15ULL));

    h = s_mix(h ^ (a + 0x632be59bd9b4e019ULL));
    h = s_mix(h ^ (b + 0x8cb92ba72f3d8dd7ULL));
    for (int i = 0; i < 4; i++) {
        h += 0x9e3779b97f4a7c15ULL;
        r->s[i] = s_mix(h);
    }
}

static uint64_t
s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t
s_next(struct s_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = s_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n), n < 2^32. */
static uint32_t
s_below(struct s_rng *r, uint32_t n)
{
    return (uint32_t)(((s_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double
s_unif(struct s_rng *r)
{
    return (double)(s_next(r) >> 11) * 0x1.0p-53;
}

static int
s_chance(struct s_rng *r, double p)
{
    return s_unif(r) < p;
}

/* ---- dates: days since 1970-01-01, proleptic Gregorian --------------------- */

static int
s_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_mdays(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && s_leap(y) ? 29 : d[m - 1];
}

static int
s_date_ok(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= s_mdays(y, m);
}

static int32_t
s_days(int y, int m, int d)
{
    int era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
s_civil(int32_t z, int *y, int *m, int *d)
{
    int era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ---- the files ----------------------------------------------------------------- */

#define S_MAXCOL 12
#define S_NAME   256
#define S_BIT(k) ((uint64_t)1 << (k))

/* Where the identity fields are in each file (-1: not in it), and how it
 * writes a date of birth and sex (not known, male, female). */
struct s_layout {
    size_t ncols;
    int first, sur, dob, sex, pc, nhs, upn;
    int datefmt;
    const char *sex_code[3];
};

enum { S_DMY2 = 0, S_ISO, S_COMPACT, S_DMY1 };

static const struct s_layout s_layouts[XL_GEN_NFILE] = {
    {9, 1, 2, 3, 4, 5, -1, -1, S_DMY2, {"Unknown", "Male", "Female"}},
    {10, 2, 3, 4, 5, 6, 1, -1, S_ISO, {"9", "1", "2"}},
    {10, 2, 3, 4, 5, 6, -1, 1, S_COMPACT, {"", "M", "F"}},
    {11, 1, 2, 3, 4, 5, 6, 7, S_DMY1, {"U", "M", "F"}},
    {10, 1, 2, 3, 4, 5, 6, -1, S_DMY2, {"", "M", "F"}},
};

/* How a row came about. */
enum { S_MADE_GEN = 0, S_MADE_DUP, S_MADE_TWIN, S_MADE_SIB };

struct s_row {
    char *f[S_MAXCOL]; /* into the file's text, or heap copies (owned) */
    uint64_t id;       /* the number in the local id; 0 until an added row gets one */
    uint64_t near;     /* an added row's id goes just after this one */
    uint32_t person;   /* as in truth.csv: P%07u */
    uint16_t owned;    /* bit c: f[c] is this row's to free */
    uint8_t made;
};

struct s_file {
    int agency;
    char *text;         /* as read: unchanged fields point into it */
    const char *header; /* the header line, without its line end */
    const char *eol;
    size_t ncols;
    struct s_row *row;
    size_t n, cap;
    char prefix[8]; /* the local ids' letters and number of digits */
    int width;
};

/* A child as most of their records give them. */
struct s_who {
    const char *first, *sur; /* NULL when no record has one */
    int32_t dob;             /* INT32_MIN when no record has a valid one */
    char pc[9];              /* "B12 3AB", or "" */
    char upn[14];            /* a valid UPN, or "" */
    uint8_t sex;             /* 0 not known, 1 male, 2 female */
    uint8_t origin;          /* xl_gen_origins index of the forename, 0 when not found */
};

/* Open addressing over nonzero keys. */
struct s_set {
    uint64_t *v;
    size_t cap, n;
};

struct s_nameref {
    char key[48]; /* the forename lower-cased */
    uint8_t origin;
};

/* What hard mode did, for the summary. */
struct s_hard_sum {
    size_t kinds[S_H_NKIND];
    size_t rows_in[XL_GEN_NFILE], rows_out[XL_GEN_NFILE], changed[XL_GEN_NFILE];
    size_t dup_rows[XL_GEN_NFILE], twin_rows[XL_GEN_NFILE], sib_rows[XL_GEN_NFILE];
    size_t twins, twins_similar, siblings;
    size_t truth_rows;
};

struct s_hard {
    const struct xl_gen_opts *o;
    struct s_hard_sum *sum;
    struct s_file file[XL_GEN_NFILE];
    int nfile;
    struct s_who *who; /* by person number; [0] unused */
    size_t nwho, capwho;
    size_t people;     /* children in the files before hard mode */
    size_t *pstart;    /* person p's rows: pent[pstart[p] .. pstart[p + 1]) */
    uint64_t *pent;    /* file << 32 | row, in file order */
    struct s_set upns; /* UPN bodies in the files, and given to added children */
    struct s_set nhss; /* NHS numbers likewise */
    struct s_nameref *names;
    size_t nnames;
    int32_t dob_lo, dob_hi; /* the dates of birth of children 10-18 on the reference date */
    int nomem;
};

/* ---- small helpers ------------------------------------------------------------- */

static int
s_set_add(struct s_set *s, uint64_t k)
{
    size_t i;

    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        uint64_t *nv = calloc(nc, sizeof *nv);

        if (nv == NULL)
            return XL_ERR_NOMEM;
        for (size_t j = 0; j < s->cap; j++) {
            if (s->v[j] == 0)
                continue;
            for (i = s_mix(s->v[j]) & (nc - 1); nv[i] != 0; i = (i + 1) & (nc - 1))
                ;
            nv[i] = s->v[j];
        }
        free(s->v);
        s->v = nv;
        s->cap = nc;
    }
    for (i = s_mix(k) & (s->cap - 1); s->v[i] != 0; i = (i + 1) & (s->cap - 1))
        if (s->v[i] == k)
            return 0;
    s->v[i] = k;
    s->n++;
    return 0;
}

static int
s_set_has(const struct s_set *s, uint64_t k)
{
    if (s->cap == 0)
        return 0;
    for (size_t i = s_mix(k) & (s->cap - 1); s->v[i] != 0; i = (i + 1) & (s->cap - 1))
        if (s->v[i] == k)
            return 1;
    return 0;
}

static int
s_is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
s_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* 1 when s has letters and none of them is lower case (HARRIS, ŁUKASZ),
 * -1 when none is upper case, 0 for mixed case or no letters. */
static int
s_case_of(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s);
    int upper = 0, lower = 0;

    while (len > 0) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p, len, &c);

        if (k <= 0)
            break;
        if (utf8proc_tolower(c) != c)
            upper++;
        else if (utf8proc_toupper(c) != c)
            lower++;
        p += k;
        len -= k;
    }
    return upper > 0 && lower == 0 ? 1 : lower > 0 && upper == 0 ? -1 : 0;
}

/* in, upper- or lower-cased (how = 1 or -1) or as it is (0), into out. */
static void
s_recase(const char *in, int how, char *out, size_t outlen)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(in);
    size_t o = 0;

    while (len > 0) {
        utf8proc_int32_t c;
        utf8proc_uint8_t b[4];
        utf8proc_ssize_t k = utf8proc_iterate(p, len, &c), w;

        if (k <= 0)
            break;
        if (how > 0)
            c = utf8proc_toupper(c);
        else if (how < 0)
            c = utf8proc_tolower(c);
        w = utf8proc_encode_char(c, b);
        if (w <= 0 || o + (size_t)w + 1 > outlen)
            break;
        memcpy(out + o, b, (size_t)w);
        o += (size_t)w;
        p += k;
        len -= k;
    }
    out[o] = '\0';
}

/* value in the case style of like: HALL for a record that has HARRIS. */
static void
s_style(const char *like, const char *value, char *out, size_t outlen)
{
    int how = s_case_of(like);

    s_recase(value, how, out, outlen);
}

/* ---- reading the default files ----------------------------------------------------- */

static int
s_read_all(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    size_t len = 0, cap = 1u << 16;
    char *buf;

    *out = NULL;
    if (f == NULL)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", path, strerror(errno));
    buf = malloc(cap);
    while (buf != NULL) {
        size_t k = fread(buf + len, 1, cap - len - 1, f);

        len += k;
        if (len + 1 < cap)
            break;
        {
            char *nb = realloc(buf, cap * 2);

            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf == NULL) {
        fclose(f);
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: out of memory", path);
    }
    if (ferror(f)) {
        fclose(f);
        free(buf);
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: read failed", path);
    }
    fclose(f);
    buf[len] = '\0';
    *out = buf;
    return 0;
}

static int
s_push_row(struct s_file *f, const struct s_row *r)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 1024;
        struct s_row *nr = realloc(f->row, nc * sizeof *nr);

        if (nr == NULL)
            return XL_ERR_NOMEM;
        f->row = nr;
        f->cap = nc;
    }
    f->row[f->n++] = *r;
    return 0;
}

/* Reads a file the generator wrote: the header line as it is, then RFC 4180
 * rows parsed in place (quotes removed, fields NUL-terminated). */
static int
s_csv_read(struct s_file *f, const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4096];
    char *p, *eol;
    size_t line = 2;
    int rc;

    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", dir);
    rc = s_read_all(path, &f->text, err, errlen);
    if (rc != 0)
        return rc;
    eol = strchr(f->text, '\n');
    if (eol == NULL)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: no header line", path);
    f->eol = eol > f->text && eol[-1] == '\r' ? "\r\n" : "\n";
    p = eol + 1;
    if (eol > f->text && eol[-1] == '\r')
        eol--;
    *eol = '\0';
    f->header = f->text;
    f->ncols = 1;
    for (const char *c = f->header; *c != '\0'; c++)
        f->ncols += *c == ',';
    if (f->ncols > S_MAXCOL)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: %zu columns", path, f->ncols);

    while (*p != '\0') {
        struct s_row r;
        size_t nf = 0;

        memset(&r, 0, sizeof r);
        for (;;) {
            char *start = p, *w = p, sep;

            if (*p == '"') {
                p++;
                for (;;) {
                    if (*p == '\0')
                        return xl_err_set(err, errlen, XL_ERR_INVALID,
                                          "%s line %zu: quote not closed", path, line);
                    if (*p == '"' && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                    } else if (*p == '"') {
                        p++;
                        break;
                    } else {
                        *w++ = *p++;
                    }
                }
            } else {
                while (*p != '\0' && *p != ',' && *p != '\r' && *p != '\n')
                    p++;
                w = p;
            }
            sep = *p;
            if (nf == f->ncols)
                return xl_err_set(err, errlen, XL_ERR_INVALID,
                                  "%s line %zu: more fields than the header", path, line);
            r.f[nf++] = start;
            *w = '\0';
            if (sep == ',') {
                p++;
                continue;
            }
            if (sep == '\r' && p[1] == '\n')
                p += 2;
            else if (sep == '\n')
                p++;
            else if (sep != '\0')
                return xl_err_set(err, errlen, XL_ERR_INVALID,
                                  "%s line %zu: text after a closing quote", path, line);
            break;
        }
        if (nf != f->ncols)
            return xl_err_set(err, errlen, XL_ERR_INVALID,
                              "%s line %zu: %zu fields, header has %zu", path, line, nf, f->ncols);
        if (s_push_row(f, &r) != 0)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: out of memory", path);
        line++;
    }
    return 0;
}

/* Local ids are letters then digits of one width, rising down the file. */
static int
s_read_ids(struct s_file *f, const char *name, char *err, size_t errlen)
{
    for (size_t i = 0; i < f->n; i++) {
        const char *id = f->row[i].f[0];
        size_t pl = 0, dl;
        uint64_t v = 0;

        while (s_is_alpha((unsigned char)id[pl]))
            pl++;
        dl = strlen(id + pl);
        if (i == 0) {
            if (pl == 0 || pl >= sizeof f->prefix || dl < 1 || dl > 18)
                return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: local id %s not understood",
                                  name, id);
            memcpy(f->prefix, id, pl);
            f->prefix[pl] = '\0';
            f->width = (int)dl;
        }
        if (strncmp(id, f->prefix, pl) != 0 || pl != strlen(f->prefix) || (int)dl != f->width)
            return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: local id %s unlike the others",
                              name, id);
        for (const char *c = id + pl; *c != '\0'; c++) {
            if (!s_is_digit((unsigned char)*c))
                return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: local id %s not understood",
                                  name, id);
            v = v * 10 + (uint64_t)(*c - '0');
        }
        if (v == 0 || (i > 0 && v <= f->row[i - 1].id))
            return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: local ids not in rising order",
                              name);
        f->row[i].id = v;
    }
    return 0;
}

/* truth.csv lists each file's rows in file order, the files in agency order:
 * that gives every row its child. */
static int
s_read_truth(struct s_hard *h, const char *dir, char *err, size_t errlen)
{
    struct s_file t;
    size_t k = 0, rows = 0;
    int rc;

    memset(&t, 0, sizeof t);
    rc = s_csv_read(&t, dir, "truth.csv", err, errlen);
    if (rc != 0)
        goto out;
    rc = xl_err_set(err, errlen, XL_ERR_INVALID, "truth.csv does not follow the agency files");
    if (t.ncols != 3)
        goto out;
    h->people = h->o->people;
    for (int a = 0; a < h->nfile; a++) {
        struct s_file *f = &h->file[a];

        rows += f->n;
        for (size_t i = 0; i < f->n; i++, k++) {
            char *end;
            unsigned long pn;

            if (k >= t.n || strcmp(t.row[k].f[0], xl_gen_agency_name(a)) != 0 ||
                strcmp(t.row[k].f[1], f->row[i].f[0]) != 0 || t.row[k].f[2][0] != 'P')
                goto out;
            errno = 0;
            pn = strtoul(t.row[k].f[2] + 1, &end, 10);
            if (errno != 0 || *end != '\0' || pn == 0 || pn > UINT32_MAX / 2)
                goto out;
            f->row[i].person = (uint32_t)pn;
            if (pn > h->people)
                h->people = pn;
        }
    }
    if (k != t.n || rows != t.n)
        goto out;
    rc = 0;
out:
    free(t.row);
    free(t.text);
    return rc;
}

/* ---- who each child is ---------------------------------------------------------- */

/* Names are looked up lower-cased (Unicode), so a record in capitals (MIKOŁAJ)
 * finds its tradition too. */
static int
s_nameref_cmp(const void *a, const void *b)
{
    const struct s_nameref *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    /* A name in two traditions (Adam, Amelia) sorts by origin, so a lookup
     * that takes the first of equal names gives the same origin everywhere. */
    if (c != 0 || x->origin == y->origin)
        return c;
    return x->origin < y->origin ? -1 : 1;
}

static int
s_names_index(struct s_hard *h)
{
    size_t n = 0;

    for (size_t o = 0; o < xl_gen_n_origins; o++)
        n += xl_gen_origins[o].n_male + xl_gen_origins[o].n_female;
    h->names = calloc(n ? n : 1, sizeof *h->names);
    if (h->names == NULL)
        return XL_ERR_NOMEM;
    for (size_t o = 0; o < xl_gen_n_origins; o++) {
        const struct xl_gen_origin *g = &xl_gen_origins[o];

        for (int female = 0; female < 2; female++) {
            const struct xl_gen_name *v = female ? g->female : g->male;
            size_t nv = female ? g->n_female : g->n_male;

            for (size_t i = 0; i < nv; i++) {
                struct s_nameref *e = &h->names[h->nnames++];

                s_recase(v[i].name, -1, e->key, sizeof e->key);
                e->origin = (uint8_t)o;
            }
        }
    }
    qsort(h->names, h->nnames, sizeof *h->names, s_nameref_cmp);
    return 0;
}

static const struct s_nameref *
s_name_find(const struct s_hard *h, const char *name)
{
    struct s_nameref key;
    size_t lo = 0, hi = h->nnames;

    memset(&key, 0, sizeof key);
    s_recase(name, -1, key.key, sizeof key.key);
    /* The first entry not below the name, then whether it is the name. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(h->names[mid].key, key.key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->nnames && strcmp(h->names[lo].key, key.key) == 0 ? &h->names[lo] : NULL;
}

/* The origin of a forename or of one of its words, 0 when not in the tables. */
static uint8_t
s_origin_of(const struct s_hard *h, const char *first)
{
    const struct s_nameref *hit = s_name_find(h, first);
    char word[S_NAME];

    for (const char *p = first; hit == NULL && *p != '\0';) {
        size_t l = strcspn(p, " ");

        snprintf(word, sizeof word, "%.*s", (int)l, p);
        hit = s_name_find(h, word);
        p += l;
        while (*p == ' ')
            p++;
    }
    return hit != NULL ? hit->origin : 0;
}

static int
s_date_parse(int fmt, const char *s, int *y, int *m, int *d)
{
    char tail;

    switch (fmt) {
    case S_ISO: return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", y, m, d, &tail) == 3 ? 0 : -1;
    case S_COMPACT:
        if (strlen(s) != 8 || strspn(s, "0123456789") != 8)
            return -1;
        return sscanf(s, "%4d%2d%2d", y, m, d) == 3 ? 0 : -1;
    case S_DMY1: return strlen(s) >= 8 && sscanf(s, "%2d/%2d/%4d%c", d, m, y, &tail) == 3 ? 0 : -1;
    default: return strlen(s) == 10 && sscanf(s, "%2d/%2d/%4d%c", d, m, y, &tail) == 3 ? 0 : -1;
    }
}

/* parts 3: the whole date; 2: year and month; 1: the year. Numbers as given,
 * possible or not. */
static void
s_render_date(int fmt, int y, int m, int d, int parts, char *out, size_t outlen)
{
    switch (fmt) {
    case S_ISO:
        if (parts == 3)
            snprintf(out, outlen, "%04d-%02d-%02d", y, m, d);
        else if (parts == 2)
            snprintf(out, outlen, "%04d-%02d", y, m);
        else
            snprintf(out, outlen, "%04d", y);
        break;
    case S_COMPACT:
        if (parts == 3)
            snprintf(out, outlen, "%04d%02d%02d", y, m, d);
        else if (parts == 2)
            snprintf(out, outlen, "%04d%02d", y, m);
        else
            snprintf(out, outlen, "%04d", y);
        break;
    case S_DMY1:
        if (parts == 3)
            snprintf(out, outlen, "%d/%d/%04d", d, m, y);
        else if (parts == 2)
            snprintf(out, outlen, "%d/%04d", m, y);
        else
            snprintf(out, outlen, "%04d", y);
        break;
    default:
        if (parts == 3)
            snprintf(out, outlen, "%02d/%02d/%04d", d, m, y);
        else if (parts == 2)
            snprintf(out, outlen, "%02d/%04d", m, y);
        else
            snprintf(out, outlen, "%04d", y);
        break;
    }
}

/* A postcode with case and spaces taken out, when it looks like one. */
static int
s_pc_key(const char *s, char out[9])
{
    size_t n = 0;

    for (; *s != '\0'; s++) {
        char c = *s;

        if (c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (!s_is_alpha((unsigned char)c) && !s_is_digit((unsigned char)c))
            return -1;
        if (n == 7)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return n >= 5 ? 0 : -1;
}

/* The most common value, case aside; a value not all in capitals wins a tie
 * (health writes a third of its names in capitals). */
static const char *
s_vote(const char *const *v, size_t n)
{
    const char *best = NULL;
    int bs = -1;

    for (size_t i = 0; i < n; i++) {
        int s = s_case_of(v[i]) == 1 ? 0 : 1;

        if (v[i][0] == '\0')
            continue;
        for (size_t j = 0; j < n; j++)
            s += strcasecmp(v[i], v[j]) == 0 ? 2 : 0;
        if (s > bs) {
            bs = s;
            best = v[i];
        }
    }
    return best;
}

#define S_VOTE_MAX 32

static void
s_who_of(struct s_hard *h, size_t p, struct s_who *w)
{
    const char *first[S_VOTE_MAX] = {0}, *sur[S_VOTE_MAX] = {0}, *pcs[S_VOTE_MAX] = {0},
               *upns[S_VOTE_MAX] = {0};
    char pck[S_VOTE_MAX][9];
    int32_t dob[S_VOTE_MAX];
    size_t nf = 0, ns = 0, np = 0, nu = 0, nd = 0, sexes[3] = {0, 0, 0}, best = 0;

    memset(w, 0, sizeof *w);
    w->dob = INT32_MIN;
    for (size_t e = h->pstart[p]; e < h->pstart[p + 1] && nf < S_VOTE_MAX; e++) {
        int a = (int)(h->pent[e] >> 32);
        const struct s_layout *l = &s_layouts[a];
        const struct s_row *r = &h->file[a].row[(uint32_t)h->pent[e]];
        int y, m, d;

        first[nf++] = r->f[l->first];
        sur[ns++] = r->f[l->sur];
        if (s_date_parse(l->datefmt, r->f[l->dob], &y, &m, &d) == 0 && s_date_ok(y, m, d))
            dob[nd++] = s_days(y, m, d);
        if (s_pc_key(r->f[l->pc], pck[np]) == 0) {
            pcs[np] = pck[np];
            np++;
        }
        for (int s = 1; s <= 2; s++)
            sexes[s] += strcmp(r->f[l->sex], l->sex_code[s]) == 0;
        if (l->upn >= 0 && strlen(r->f[l->upn]) == 13 &&
            agent_upn_check_letter(r->f[l->upn] + 1) == r->f[l->upn][0])
            upns[nu++] = r->f[l->upn];
    }
    w->first = s_vote(first, nf);
    w->sur = s_vote(sur, ns);
    for (size_t i = 0; i < nd; i++) {
        size_t c = 0;

        for (size_t j = 0; j < nd; j++)
            c += dob[j] == dob[i];
        if (c > best) {
            best = c;
            w->dob = dob[i];
        }
    }
    if (np > 0) {
        const char *k = s_vote(pcs, np);
        size_t l = strlen(k);

        snprintf(w->pc, sizeof w->pc, "%.*s %s", (int)(l - 3), k, k + l - 3);
    }
    if (nu > 0)
        snprintf(w->upn, sizeof w->upn, "%s", s_vote(upns, nu));
    w->sex = sexes[1] > sexes[2] ? 1 : sexes[2] > sexes[1] ? 2 : 0;
    w->origin = w->first != NULL ? s_origin_of(h, w->first) : 0;
}

static int
s_who_push(struct s_hard *h, const struct s_who *w)
{
    if (h->nwho == h->capwho) {
        size_t nc = h->capwho ? h->capwho * 2 : 1024;
        struct s_who *nw = realloc(h->who, nc * sizeof *nw);

        if (nw == NULL)
            return XL_ERR_NOMEM;
        h->who = nw;
        h->capwho = nc;
    }
    h->who[h->nwho++] = *w;
    return 0;
}

/* Every child's rows (pstart/pent), then who each is. */
static int
s_index_people(struct s_hard *h)
{
    size_t total = 0, *fill;
    struct s_who none;

    h->pstart = calloc(h->people + 2, sizeof *h->pstart);
    if (h->pstart == NULL)
        return XL_ERR_NOMEM;
    for (int a = 0; a < h->nfile; a++)
        for (size_t i = 0; i < h->file[a].n; i++)
            h->pstart[h->file[a].row[i].person + 1]++;
    for (size_t p = 1; p <= h->people + 1; p++)
        h->pstart[p] += h->pstart[p - 1];
    total = h->pstart[h->people + 1];
    h->pent = malloc((total ? total : 1) * sizeof *h->pent);
    fill = malloc((h->people + 1) * sizeof *fill);
    if (h->pent == NULL || fill == NULL) {
        free(fill);
        return XL_ERR_NOMEM;
    }
    memcpy(fill, h->pstart, (h->people + 1) * sizeof *fill);
    for (int a = 0; a < h->nfile; a++)
        for (size_t i = 0; i < h->file[a].n; i++)
            h->pent[fill[h->file[a].row[i].person]++] = (uint64_t)a << 32 | i;
    free(fill);

    memset(&none, 0, sizeof none);
    none.dob = INT32_MIN;
    if (s_who_push(h, &none) != 0)
        return XL_ERR_NOMEM;
    for (size_t p = 1; p <= h->people; p++) {
        struct s_who w;

        s_who_of(h, p, &w);
        if (s_who_push(h, &w) != 0)
            return XL_ERR_NOMEM;
    }
    return 0;
}

/* ---- changing a field ------------------------------------------------------------ */

static void
s_put(struct s_hard *h, struct s_row *r, int c, const char *v)
{
    char *copy;

    if (c < 0 || strcmp(r->f[c], v) == 0)
        return;
    copy = strdup(v);
    if (copy == NULL) {
        h->nomem = 1;
        return;
    }
    if (r->owned >> c & 1)
        free(r->f[c]);
    r->f[c] = copy;
    r->owned |= (uint16_t)(1u << c);
}

static void
s_row_free(struct s_row *r)
{
    for (int c = 0; c < S_MAXCOL; c++)
        if (r->owned >> c & 1)
            free(r->f[c]);
    r->owned = 0;
}

static int
s_clone(const struct s_row *src, struct s_row *dst)
{
    *dst = *src;
    dst->owned = 0;
    for (int c = 0; c < S_MAXCOL; c++) {
        if (!(src->owned >> c & 1))
            continue;
        dst->f[c] = strdup(src->f[c]);
        if (dst->f[c] == NULL) {
            s_row_free(dst);
            return XL_ERR_NOMEM;
        }
        dst->owned |= (uint16_t)(1u << c);
    }
    return 0;
}

/* ---- what happens to names -------------------------------------------------------- */

static const char *const s_kbd[26] = {
    "qwsz",   "vghn",  "xdfv", "serfcx", "wrds", "drtgvc", "ftyhbv", "gyujnb", "uojk",
    "huikmn", "jiolm", "kop",  "njk",    "bhjm", "ipkl",   "ol",     "wa",     "etdf",
    "awedxz", "ryfg",  "yihj", "cfgb",   "qeas", "zsdc",   "tugh",   "asx",
};

/* A key next to c, in c's case; a digit one up or down. */
static char
s_near_key(char c, struct s_rng *r)
{
    int upper = c >= 'A' && c <= 'Z';
    char lc = upper ? (char)(c + 32) : c, out;
    const char *nb;

    if (s_is_digit((unsigned char)c))
        return (char)('0' + ((c - '0') + (s_chance(r, 0.5) ? 1 : 9)) % 10);
    if (lc < 'a' || lc > 'z')
        return c;
    nb = s_kbd[lc - 'a'];
    out = nb[s_below(r, (uint32_t)strlen(nb))];
    return upper ? (char)(out - 32) : out;
}

static char
s_ascii_case(char c, int upper)
{
    if (upper && c >= 'a' && c <= 'z')
        return (char)(c - 32);
    if (!upper && c >= 'A' && c <= 'Z')
        return (char)(c + 32);
    return c;
}

static int
s_is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* A keyboard slip in a name's ASCII letters; typists get initials right, so
 * the first letter is hit less often. */
static int
s_name_typo(int kind, char *s, size_t cap, struct s_rng *r)
{
    size_t pos[S_NAME], n = 0, len = strlen(s), i;
    int caps = s_case_of(s) == 1;

    for (i = 0; i < len && n < S_NAME; i++) {
        if (!s_is_alpha((unsigned char)s[i]))
            continue;
        if (kind == S_H_NAME_TRANS && (i + 1 >= len || !s_is_alpha((unsigned char)s[i + 1]) ||
                                       s_ascii_case(s[i], 0) == s_ascii_case(s[i + 1], 0)))
            continue;
        pos[n++] = i;
    }
    if (n == 0)
        return 0;
    i = pos[n > 1 && s_chance(r, 0.85) ? 1 + s_below(r, (uint32_t)(n - 1)) : 0];
    switch (kind) {
    case S_H_NAME_TYPO: {
        char c = s_near_key(s[i], r);

        s[i] =
            c != s[i] ? c : s_ascii_case(s[i] == 'e' || s[i] == 'E' ? 'a' : 'e', s_is_upper(s[i]));
        return 1;
    }
    case S_H_NAME_INS:
        if (len + 2 > cap)
            return 0;
        memmove(s + i + 2, s + i + 1, len - i);
        /* A doubled letter (Philip -> Phillip) or a neighbouring key. */
        s[i + 1] = s_ascii_case(s_chance(r, 0.5) ? s[i] : s_near_key(s[i], r), caps);
        return 1;
    case S_H_NAME_DEL:
        if (len < 3)
            return 0;
        if (s_is_upper(s[i]) && i + 1 < len)
            s[i + 1] = s_ascii_case(s[i + 1], 1);
        memmove(s + i, s + i + 1, len - i);
        return 1;
    default: {
        char a = s[i], b = s[i + 1];

        s[i] = s_ascii_case(b, s_is_upper(a));
        s[i + 1] = s_ascii_case(a, s_is_upper(b));
        return 1;
    }
    }
}

struct s_subst {
    const char *from, *to;
};

/* What optical character recognition of a scanned form misreads. */
static const struct s_subst s_ocr_name[] = {
    {"o", "0"},  {"O", "0"},  {"l", "1"},  {"I", "1"},  {"i", "1"},  {"s", "5"},  {"S", "5"},
    {"B", "8"},  {"Z", "2"},  {"g", "9"},  {"l", "I"},  {"I", "l"},  {"e", "c"},  {"rn", "m"},
    {"m", "rn"}, {"cl", "d"}, {"d", "cl"}, {"vv", "w"}, {"w", "vv"}, {"h", "li"},
};
static const struct s_subst s_ocr_pc[] = {
    {"O", "0"}, {"0", "O"}, {"I", "1"}, {"1", "I"}, {"S", "5"}, {"5", "S"}, {"B", "8"},
    {"8", "B"}, {"Z", "2"}, {"2", "Z"}, {"G", "6"}, {"6", "G"}, {"o", "0"}, {"s", "5"},
};

static int
s_subst(char *s, size_t cap, const struct s_subst *t, size_t nt, struct s_rng *r)
{
    uint32_t cand[S_NAME * 2];
    size_t n = 0, len = strlen(s), i, lf;
    char out[S_NAME];
    const struct s_subst *x;

    for (i = 0; i < len; i++)
        for (size_t j = 0; j < nt && n < sizeof cand / sizeof cand[0]; j++)
            if (strncmp(s + i, t[j].from, strlen(t[j].from)) == 0)
                cand[n++] = (uint32_t)(i << 8 | j);
    if (n == 0)
        return 0;
    n = cand[s_below(r, (uint32_t)n)];
    i = n >> 8;
    x = &t[n & 0xff];
    lf = strlen(x->from);
    if ((size_t)snprintf(out, sizeof out, "%.*s%s%s", (int)i, s, x->to, s + i + lf) >= cap)
        return 0;
    memcpy(s, out, strlen(out) + 1);
    return 1;
}

/* A digit left in a name: a form's box number, a stray key. */
static int
s_stray_digit(char *s, size_t cap, struct s_rng *r)
{
    size_t len = strlen(s), i;
    uint32_t u = s_below(r, 10);

    if (len == 0 || len + 2 > cap)
        return 0;
    if (u < 5 || len == 1) {
        i = len;
    } else if (u < 6) {
        i = 0;
    } else {
        i = 1 + s_below(r, (uint32_t)(len - 1));
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
    }
    memmove(s + i + 1, s + i, len - i + 1);
    s[i] = (char)('0' + s_below(r, 10));
    return 1;
}

static int
s_nickname(const struct s_who *w, char *first, size_t cap, struct s_rng *r)
{
    size_t l = strcspn(first, " "), nc = 0;
    const char *cand[8];
    char word[S_NAME], styled[S_NAME], out[S_NAME];

    if (l == 0 || l >= sizeof word)
        return 0;
    memcpy(word, first, l);
    word[l] = '\0';
    for (size_t i = 0; i < S_NNICK && nc < 8; i++) {
        int sex_ok = w->sex == 0 || (w->sex == 1) == (s_nicks[i].sex == 'm');

        if (strcasecmp(word, s_nicks[i].formal) == 0)
            cand[nc++] = s_nicks[i].other;
        else if (sex_ok && strcasecmp(word, s_nicks[i].other) == 0)
            cand[nc++] = s_nicks[i].formal;
    }
    if (nc == 0)
        return 0;
    s_style(word, cand[s_below(r, (uint32_t)nc)], styled, sizeof styled);
    if ((size_t)snprintf(out, sizeof out, "%s%s", styled, first + l) >= cap)
        return 0;
    memcpy(first, out, strlen(out) + 1);
    return 1;
}

/* Code points in s. */
static size_t
s_cps(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Splits a double-barrelled surname (Smith-Jones, Ahmed Khan) into its parts;
 * -1 when it is not one, or a part is a single letter (O Neill). */
static int
s_barrel_split(const char *sur, char *a, char *b, size_t cap, char *sep)
{
    const char *p = strpbrk(sur, " -"), *q;

    if (p == NULL)
        return -1;
    *sep = *p;
    q = p;
    while (*q == ' ' || *q == '-')
        q++;
    if ((size_t)(p - sur) >= cap || strlen(q) >= cap || strpbrk(q, " -") != NULL)
        return -1;
    memcpy(a, sur, (size_t)(p - sur));
    a[p - sur] = '\0';
    memcpy(b, q, strlen(q) + 1);
    return s_cps(a) >= 2 && s_cps(b) >= 2 ? 0 : -1;
}

/* A double-barrelled surname as an agency kept it: one part, joined, the
 * other separator, or the parts reversed. */
static int
s_barrel_part(char *sur, size_t cap, struct s_rng *r)
{
    char a[S_NAME], b[S_NAME], out[S_NAME], sep;
    uint32_t u = s_below(r, 100);

    if (s_barrel_split(sur, a, b, sizeof a, &sep) != 0)
        return 0;
    if (u < 35)
        snprintf(out, sizeof out, "%s", a);
    else if (u < 60)
        snprintf(out, sizeof out, "%s", b);
    else if (u < 75)
        snprintf(out, sizeof out, "%.120s%.120s", a, b);
    else if (u < 90)
        snprintf(out, sizeof out, "%.120s%c%.120s", a, sep == '-' ? ' ' : '-', b);
    else
        snprintf(out, sizeof out, "%.120s%c%.120s", b, sep, a);
    if (strlen(out) >= cap || strcmp(out, sur) == 0)
        return 0;
    memcpy(sur, out, strlen(out) + 1);
    return 1;
}

/* Two adjacent digits swapped. */
static int
s_swap_digits(char *s, struct s_rng *r)
{
    size_t pos[32], n = 0;

    for (size_t i = 0; s[i] != '\0' && s[i + 1] != '\0' && n < 32; i++)
        if (s_is_digit((unsigned char)s[i]) && s_is_digit((unsigned char)s[i + 1]) &&
            s[i] != s[i + 1])
            pos[n++] = i;
    if (n == 0)
        return 0;
    {
        size_t i = pos[s_below(r, (uint32_t)n)];
        char t = s[i];

        s[i] = s[i + 1];
        s[i + 1] = t;
    }
    return 1;
}

static int
s_pc_edit(int kind, char *s, size_t cap, struct s_rng *r)
{
    size_t pos[16], n = 0, len = strlen(s), i;

    if (kind == S_H_PC_OCR)
        return s_subst(s, cap, s_ocr_pc, sizeof s_ocr_pc / sizeof s_ocr_pc[0], r);
    for (i = 0; i < len && n < 16; i++) {
        if (s[i] == ' ')
            continue;
        if (kind == S_H_PC_TRANS && (i + 1 >= len || s[i + 1] == ' ' || s[i] == s[i + 1]))
            continue;
        pos[n++] = i;
    }
    if (n == 0)
        return 0;
    i = pos[s_below(r, (uint32_t)n)];
    switch (kind) {
    case S_H_PC_TYPO: {
        char c = s_near_key(s[i], r);

        if (c == s[i])
            return 0;
        s[i] = c;
        return 1;
    }
    case S_H_PC_INS:
        if (len + 2 > cap)
            return 0;
        memmove(s + i + 1, s + i, len - i + 1);
        s[i] = s_chance(r, 0.5) ? s[i + 1] : s_near_key(s[i + 1], r);
        return 1;
    case S_H_PC_DEL:
        if (len <= 4)
            return 0;
        memmove(s + i, s + i + 1, len - i);
        return 1;
    default: {
        char t = s[i];

        s[i] = s[i + 1];
        s[i + 1] = t;
        return 1;
    }
    }
}

/* ---- what happens to a child across their records ------------------------------------ */

/* A weighted pick from a name list, leaving out `avoid` and, with plen > 0,
 * names not starting like `like`. NULL when nothing is left. */
static const char *
s_pick(struct s_rng *r, const struct xl_gen_name *v, size_t n, int female, const char *avoid,
       const char *like, size_t plen)
{
    uint64_t total = 0, x = 0;

    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (total == 0)
                return NULL;
            x = s_below(r, (uint32_t)total);
        }
        for (size_t i = 0; i < n; i++) {
            const char *nm = female && v[i].female != NULL ? v[i].female : v[i].name;

            if (avoid != NULL && strcasecmp(nm, avoid) == 0)
                continue;
            if (plen > 0 && (strlen(like) < plen || strncasecmp(nm, like, plen) != 0))
                continue;
            if (pass == 0) {
                total += v[i].weight;
            } else if (x < v[i].weight) {
                return nm;
            } else {
                x -= v[i].weight;
            }
        }
    }
    return NULL;
}

struct s_plan {
    const char *middle; /* a middle name, or NULL */
    const char *other;  /* a second part of the surname the default records leave out */
    const char *newsur; /* the surname after a change, or NULL */
    int barrel;         /* the change joined the new name to the old: Hall-Khan */
    uint8_t rank[XL_GEN_NFILE], cut;
};

/* The same for every record of child p: drawn from a stream of the child's. */
static void
s_plan_of(const struct s_hard *h, size_t p, struct s_plan *pl)
{
    const struct s_who *w = &h->who[p];
    const struct xl_gen_origin *g = &xl_gen_origins[w->origin], *og;
    int female = w->sex == 2;
    struct s_rng r;

    memset(pl, 0, sizeof *pl);
    s_rng_stream(&r, h->o->seed, S_T_PLAN, p, 0);
    if (s_chance(&r, S_P_MIDDLE) && w->first != NULL)
        pl->middle = female ? s_pick(&r, g->female, g->n_female, 0, w->first, NULL, 0)
                            : s_pick(&r, g->male, g->n_male, 0, w->first, NULL, 0);
    if (s_chance(&r, S_P_BARREL) && w->sur != NULL && strpbrk(w->sur, " -") == NULL)
        pl->other = s_pick(&r, g->surname, g->n_surname, female, w->sur, NULL, 0);
    if (s_chance(&r, S_P_CHANGE) && w->sur != NULL) {
        /* A step-parent's name, often from the same community. */
        og = s_chance(&r, 0.5) ? g : &xl_gen_origins[s_below(&r, (uint32_t)xl_gen_n_origins)];
        pl->newsur = s_pick(&r, og->surname, og->n_surname, female, w->sur, NULL, 0);
        pl->barrel = s_chance(&r, 0.25);
        /* The order in which the agencies came to know the child: those after
         * the change have the new name. */
        for (int a = 0; a < XL_GEN_NFILE; a++)
            pl->rank[a] = (uint8_t)a;
        for (int a = XL_GEN_NFILE - 1; a > 0; a--) {
            uint32_t j = s_below(&r, (uint32_t)a + 1);
            uint8_t t = pl->rank[a];

            pl->rank[a] = pl->rank[j];
            pl->rank[j] = t;
        }
        pl->cut = (uint8_t)(1 + s_below(&r, XL_GEN_NFILE - 1));
    }
}

static int
s_one_of(struct s_rng *r, const int *kinds, size_t n, double fac)
{
    double u = s_unif(r), acc = 0;

    for (size_t i = 0; i < n; i++) {
        acc += s_hrate[kinds[i]] * fac;
        if (u < acc)
            return kinds[i];
    }
    return -1;
}

static double
s_capped(double p)
{
    return p > 0.95 ? 0.95 : p;
}

/* The names of one record. Returns the kinds applied, as bits. */
static uint64_t
s_rough_names(struct s_hard *h, int a, const struct s_row *row, char *first, char *sur,
              struct s_rng *r)
{
    const struct s_who *w = &h->who[row->person];
    double fac = s_hfactor[a] * (row->made == S_MADE_DUP ? S_DUP_FACTOR : 1.0);
    static const int slips[] = {S_H_OCR,      S_H_DIGIT,    S_H_NAME_TYPO,
                                S_H_NAME_INS, S_H_NAME_DEL, S_H_NAME_TRANS};
    char tmp[S_NAME];
    uint64_t did = 0;
    struct s_plan pl;

    s_plan_of(h, row->person, &pl);
    if (pl.newsur != NULL &&
        (pl.rank[a] >= pl.cut || (row->made == S_MADE_DUP && s_chance(r, 0.5)))) {
        if (pl.barrel)
            snprintf(tmp, sizeof tmp, "%.120s-%.120s", w->sur, pl.newsur);
        else
            snprintf(tmp, sizeof tmp, "%s", pl.newsur);
        s_style(sur[0] != '\0' ? sur : w->sur, tmp, sur, S_NAME);
        did |= S_BIT(S_H_SURNAME_CHANGE);
    } else if (pl.other != NULL && strpbrk(sur, " -") == NULL && sur[0] != '\0') {
        /* The child's surname is double-barrelled; the default records hold its
         * first part, as some agencies do. */
        uint32_t u = s_below(r, 100);
        char styled[S_NAME];

        s_style(sur, pl.other, styled, sizeof styled);
        if (u < 45)
            snprintf(tmp, sizeof tmp, "%.120s-%.120s", sur, styled);
        else if (u < 55)
            snprintf(tmp, sizeof tmp, "%.120s %.120s", sur, styled);
        else if (u < 60)
            snprintf(tmp, sizeof tmp, "%.120s%.120s", sur, styled);
        else
            snprintf(tmp, sizeof tmp, "%s", u < 80 ? styled : sur);
        if (strcmp(tmp, sur) != 0) {
            memcpy(sur, tmp, strlen(tmp) + 1);
            did |= S_BIT(S_H_SURNAME_PART);
        }
    } else if (s_chance(r, s_capped(s_hrate[S_H_SURNAME_PART] * fac)) &&
               s_barrel_part(sur, S_NAME, r)) {
        did |= S_BIT(S_H_SURNAME_PART);
    }

    if (pl.middle != NULL && first[0] != '\0') {
        double u = s_unif(r), pm = s_hrate[S_H_MIDDLE] * fac, pb = s_hrate[S_H_BY_MIDDLE] * fac;
        char mid[S_NAME];

        s_style(first, pl.middle, mid, sizeof mid);
        if (u < pm) {
            snprintf(tmp, sizeof tmp, "%.120s %.120s", first, mid);
            memcpy(first, tmp, strlen(tmp) + 1);
            did |= S_BIT(S_H_MIDDLE);
        } else if (u < pm + pb) {
            /* Known by the middle name: it alone, or written first. */
            if (s_chance(r, 0.6))
                snprintf(tmp, sizeof tmp, "%s", mid);
            else
                snprintf(tmp, sizeof tmp, "%.120s %.120s", mid, first);
            memcpy(first, tmp, strlen(tmp) + 1);
            did |= S_BIT(S_H_BY_MIDDLE);
        }
    }
    if (s_chance(r, s_capped(s_hrate[S_H_NICKNAME] * fac)) && s_nickname(w, first, S_NAME, r))
        did |= S_BIT(S_H_NICKNAME);
    if (s_chance(r, s_hrate[S_H_NAMES_SWAPPED] * fac)) {
        memcpy(tmp, first, S_NAME);
        memcpy(first, sur, S_NAME);
        memcpy(sur, tmp, S_NAME);
        did |= S_BIT(S_H_NAMES_SWAPPED);
    }
    for (size_t i = 0; i < sizeof slips / sizeof slips[0]; i++) {
        int k = slips[i], ok;
        char *s;

        if (!s_chance(r, s_capped(s_hrate[k] * fac)))
            continue;
        s = s_chance(r, 0.55) ? sur : first;
        if (s[0] == '\0')
            s = s == sur ? first : sur;
        if (k == S_H_OCR)
            ok = s_subst(s, S_NAME, s_ocr_name, sizeof s_ocr_name / sizeof s_ocr_name[0], r);
        else if (k == S_H_DIGIT)
            ok = s_stray_digit(s, S_NAME, r);
        else
            ok = s_name_typo(k, s, S_NAME, r);
        if (ok)
            did |= S_BIT(k);
    }
    if (first[0] != '\0' && s_chance(r, s_hrate[S_H_NO_FIRST] * fac)) {
        first[0] = '\0';
        did |= S_BIT(S_H_NO_FIRST);
    }
    if (sur[0] != '\0' && s_chance(r, s_hrate[S_H_NO_SURNAME] * fac)) {
        sur[0] = '\0';
        did |= S_BIT(S_H_NO_SURNAME);
    }
    return did;
}

/* The date of birth of one record, in the file's format. */
static uint64_t
s_rough_dob(struct s_hard *h, int a, const char *v, double fac, char *out, size_t outlen,
            struct s_rng *r)
{
    static const int kinds[] = {S_H_DOB_SWAP,    S_H_DOB_IMPOSSIBLE, S_H_DOB_FUTURE, S_H_DOB_DIGITS,
                                S_H_DOB_PARTIAL, S_H_DOB_FIRST,      S_H_NO_DOB};
    int fmt = s_layouts[a].datefmt, k, y, m, d;

    snprintf(out, outlen, "%s", v);
    k = s_one_of(r, kinds, sizeof kinds / sizeof kinds[0], fac);
    if (k < 0 || v[0] == '\0')
        return 0;
    if (k == S_H_NO_DOB) {
        out[0] = '\0';
        return S_BIT(k);
    }
    if (s_date_parse(fmt, v, &y, &m, &d) != 0 || !s_date_ok(y, m, d))
        return 0;
    switch (k) {
    case S_H_DOB_SWAP:
        /* Whatever the day: after the 12th, the month is impossible. */
        if (d == m)
            return 0;
        s_render_date(fmt, y, d, m, 3, out, outlen);
        break;
    case S_H_DOB_IMPOSSIBLE: {
        static const int md[5][2] = {{4, 31}, {6, 31}, {9, 31}, {11, 31}, {2, 30}};
        uint32_t u = s_below(r, 9);

        if (u < 5)
            s_render_date(fmt, y, md[u][0], md[u][1], 3, out, outlen);
        else if (u == 5)
            s_render_date(fmt, y, 2, s_leap(y) ? 30 : 29, 3, out, outlen);
        else if (u == 6)
            s_render_date(fmt, y, 13, d, 3, out, outlen);
        else
            s_render_date(fmt, y, m, u == 7 ? 0 : 32, 3, out, outlen);
        break;
    }
    case S_H_DOB_FUTURE: {
        int fy = h->o->ref_y + 1 + (int)s_below(r, 6);

        s_render_date(fmt, fy, m, d > s_mdays(fy, m) ? s_mdays(fy, m) : d, 3, out, outlen);
        break;
    }
    case S_H_DOB_DIGITS:
        if (!s_swap_digits(out, r))
            return 0;
        break;
    case S_H_DOB_PARTIAL: s_render_date(fmt, y, m, d, s_chance(r, 0.5) ? 1 : 2, out, outlen); break;
    default:
        /* Only the year or month was known; the system needed a whole date. */
        if (s_chance(r, 0.5))
            m = 1;
        if (d == 1 && m == 1)
            return 0;
        s_render_date(fmt, y, m, 1, 3, out, outlen);
        break;
    }
    return S_BIT(k);
}

static void
s_roughen(struct s_hard *h, struct s_file *f, struct s_row *row)
{
    static const int pc_kinds[] = {S_H_NO_POSTCODE, S_H_PC_TYPO,  S_H_PC_INS,
                                   S_H_PC_DEL,      S_H_PC_TRANS, S_H_PC_OCR};
    static const int nhs_kinds[] = {S_H_NO_NHS, S_H_NHS_TRANS};
    const struct s_layout *l = &s_layouts[f->agency];
    double fac = s_hfactor[f->agency] * (row->made == S_MADE_DUP ? S_DUP_FACTOR : 1.0);
    char first[S_NAME], sur[S_NAME], buf[S_NAME];
    uint64_t did;
    struct s_rng r;
    int k;

    s_rng_stream(&r, h->o->seed, S_T_ROW, (uint64_t)f->agency, row->id);
    snprintf(first, sizeof first, "%s", row->f[l->first]);
    snprintf(sur, sizeof sur, "%s", row->f[l->sur]);
    did = s_rough_names(h, f->agency, row, first, sur, &r);
    s_put(h, row, l->first, first);
    s_put(h, row, l->sur, sur);

    did |= s_rough_dob(h, f->agency, row->f[l->dob], fac, buf, sizeof buf, &r);
    s_put(h, row, l->dob, buf);

    if (strcmp(row->f[l->sex], l->sex_code[0]) != 0 && s_chance(&r, s_hrate[S_H_NO_SEX] * fac)) {
        s_put(h, row, l->sex, l->sex_code[0]);
        did |= S_BIT(S_H_NO_SEX);
    }
    if (row->f[l->pc][0] != '\0') {
        k = s_one_of(&r, pc_kinds, sizeof pc_kinds / sizeof pc_kinds[0], fac);
        snprintf(buf, sizeof buf, "%s", row->f[l->pc]);
        if (k == S_H_NO_POSTCODE)
            buf[0] = '\0';
        if (k == S_H_NO_POSTCODE || (k >= 0 && s_pc_edit(k, buf, sizeof buf, &r))) {
            s_put(h, row, l->pc, buf);
            did |= S_BIT(k);
        }
    }
    /* A duplicate is often a record made when the number was not to hand. */
    if (l->nhs >= 0 && row->f[l->nhs][0] != '\0') {
        k = s_one_of(&r, nhs_kinds, 2, row->made == S_MADE_DUP ? 3 * fac : fac);
        snprintf(buf, sizeof buf, "%s", row->f[l->nhs]);
        if (k == S_H_NO_NHS)
            buf[0] = '\0';
        if (k == S_H_NO_NHS || (k == S_H_NHS_TRANS && s_swap_digits(buf, &r))) {
            s_put(h, row, l->nhs, buf);
            did |= S_BIT(k);
        }
    }
    if (l->upn >= 0 && row->f[l->upn][0] != '\0' &&
        s_chance(&r, s_hrate[S_H_NO_UPN] * (row->made == S_MADE_DUP ? 3 * fac : fac))) {
        s_put(h, row, l->upn, "");
        did |= S_BIT(S_H_NO_UPN);
    }
    for (k = 0; k < S_H_NKIND; k++)
        if (did >> k & 1)
            h->sum->kinds[k]++;
    if (did != 0)
        h->sum->changed[f->agency]++;
}

/* ---- more children: twins and siblings ------------------------------------------- */

/* A digit string (spaces between groups allowed) as a set key; 0 when it is
 * not `digits` digits. */
static uint64_t
s_digits_key(const char *s, int digits)
{
    uint64_t v = 0;
    int n = 0;

    for (; *s != '\0'; s++) {
        if (*s == ' ')
            continue;
        if (!s_is_digit((unsigned char)*s) || n == digits)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
        n++;
    }
    return n == digits ? v + 1 : 0;
}

/* An NHS number for an added child: valid, in the block (first three digits)
 * of the child's twin or sibling, and in no record of the files. A number the
 * default generator gave a child who is in no file is in no record either, so
 * taking it changes no one's identity in the data. */
static int
s_new_nhs(struct s_hard *h, const char *like, struct s_rng *r, char out[11])
{
    unsigned prefix = 999;

    if (s_digits_key(like, 10) != 0) {
        char d[11];
        size_t n = 0;

        for (const char *c = like; *c != '\0' && n < 3; c++)
            if (*c != ' ')
                d[n++] = *c;
        prefix = (unsigned)((d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0'));
    }
    for (int tries = 0; tries < 100000; tries++) {
        char d[11];
        int c;
        uint64_t key;

        snprintf(d, sizeof d, "%03u%06u", prefix % 1000, (unsigned)s_below(r, 1000000));
        c = agent_nhs_check_digit(d);
        if (c < 0)
            continue;
        d[9] = (char)('0' + c);
        d[10] = '\0';
        key = s_digits_key(d, 10);
        if (s_set_has(&h->nhss, key))
            continue;
        if (s_set_add(&h->nhss, key) != 0)
            return XL_ERR_NOMEM;
        memcpy(out, d, 11);
        return 0;
    }
    return XL_ERR_TOOBIG;
}

/* A UPN at the school of `like`, for the year the child started there: for a
 * twin (next = 1) the first free serial after like's, as twins start school
 * together, else the first free one. A UPN in no record is free, for the same
 * reason as an NHS number. "" when like is not a UPN or the year is full. */
static int
s_new_upn(struct s_hard *h, const char *like, int32_t dob, int next, char out[14])
{
    char body[13];
    int y, m, d, c, start = 1;

    out[0] = '\0';
    if (strlen(like) != 13 || s_digits_key(like + 1, 12) == 0)
        return 0;
    s_civil(dob, &y, &m, &d);
    memcpy(body, like + 1, 7);
    y = (y + (m >= 9 ? 5 : 4)) % 100;
    body[7] = (char)('0' + y / 10);
    body[8] = (char)('0' + y % 10);
    if (next)
        start = (like[10] - '0') * 100 + (like[11] - '0') * 10 + (like[12] - '0') + 1;
    for (int k = 0; k < 999; k++) {
        int serial = (start - 1 + k) % 999 + 1;
        uint64_t key;

        body[9] = (char)('0' + serial / 100);
        body[10] = (char)('0' + serial / 10 % 10);
        body[11] = (char)('0' + serial % 10);
        body[12] = '\0';
        key = s_digits_key(body, 12);
        if (s_set_has(&h->upns, key))
            continue;
        c = agent_upn_check_letter(body);
        if (c < 0)
            return 0;
        if (s_set_add(&h->upns, key) != 0)
            return XL_ERR_NOMEM;
        out[0] = (char)c;
        memcpy(out + 1, body, 13);
        return 0;
    }
    return 0;
}

/* Child q's record in file a, made from the record ti of their twin or
 * sibling: the same form, the same way of writing things down. Its id will go
 * after `near`. */
static int
s_family_row(struct s_hard *h, int a, size_t ti, uint32_t q, const char *nhs, int made,
             uint64_t near)
{
    struct s_file *f = &h->file[a];
    const struct s_layout *l = &s_layouts[a];
    const struct s_who *w = &h->who[q];
    struct s_row r;
    char buf[S_NAME];
    int y, m, d;

    if (s_clone(&f->row[ti], &r) != 0)
        return XL_ERR_NOMEM;
    r.near = near;
    r.id = 0;
    r.person = q;
    r.made = (uint8_t)made;
    s_style(r.f[l->first], w->first, buf, sizeof buf);
    s_put(h, &r, l->first, buf);
    s_style(r.f[l->sur], w->sur, buf, sizeof buf);
    s_put(h, &r, l->sur, buf);
    s_civil(w->dob, &y, &m, &d);
    s_render_date(l->datefmt, y, m, d, 3, buf, sizeof buf);
    s_put(h, &r, l->dob, buf);
    s_put(h, &r, l->sex, l->sex_code[w->sex]);
    if (r.f[l->pc][0] != '\0' && w->pc[0] != '\0') {
        const char *t = r.f[l->pc];
        size_t o = 0;

        for (const char *c = w->pc; *c != '\0'; c++)
            if (*c != ' ' || strchr(t, ' ') != NULL)
                buf[o++] = s_case_of(t) == -1 ? s_ascii_case(*c, 0) : *c;
        buf[o] = '\0';
        s_put(h, &r, l->pc, buf);
    }
    if (l->nhs >= 0 && r.f[l->nhs][0] != '\0') {
        if (strchr(r.f[l->nhs], ' ') != NULL)
            snprintf(buf, sizeof buf, "%.3s %.3s %.4s", nhs, nhs + 3, nhs + 6);
        else
            snprintf(buf, sizeof buf, "%s", nhs);
        s_put(h, &r, l->nhs, buf);
    }
    if (l->upn >= 0 && r.f[l->upn][0] != '\0')
        s_put(h, &r, l->upn, w->upn);
    if (h->nomem || s_push_row(f, &r) != 0) {
        s_row_free(&r);
        return XL_ERR_NOMEM;
    }
    if (made == S_MADE_TWIN)
        h->sum->twin_rows[a]++;
    else
        h->sum->sib_rows[a]++;
    return 0;
}

static int
s_age_on(const struct s_hard *h, int32_t dob)
{
    int y, m, d, age;

    s_civil(dob, &y, &m, &d);
    age = h->o->ref_y - y;
    if (h->o->ref_m < m || (h->o->ref_m == m && h->o->ref_d < d))
        age--;
    return age;
}

/* A twin (twin = 1) or a younger or older sibling of child p, in some of the
 * agencies that hold p: same surname and postcode (and a twin the same date of
 * birth), a forename of the family's tradition, identifiers of their own. */
static int
s_add_child(struct s_hard *h, size_t p, struct s_rng *r, int twin)
{
    const struct s_who pw = h->who[p];
    const struct xl_gen_origin *g = &xl_gen_origins[pw.origin];
    struct s_who q = pw;
    const struct xl_gen_name *list;
    size_t nlist;
    const char *name = NULL, *like = NULL;
    char nhs[11];
    uint32_t qn = (uint32_t)h->nwho;
    int female, similar = 0, made = 0, rc;

    if (twin)
        female = pw.sex != 0 && s_chance(r, 0.65) ? pw.sex == 2 : s_chance(r, 0.49);
    else
        female = s_chance(r, 0.488);
    q.sex = female ? 2 : 1;
    list = female ? g->female : g->male;
    nlist = female ? g->n_female : g->n_male;
    /* Twins are often given names alike: Ella and Ellie, Harvey and Harry. */
    if (twin && s_chance(r, 0.4)) {
        name = s_pick(r, list, nlist, 0, pw.first, pw.first, 2);
        if (name == NULL)
            name = s_pick(r, list, nlist, 0, pw.first, pw.first, 1);
        similar = name != NULL;
    }
    if (name == NULL)
        name = s_pick(r, list, nlist, 0, pw.first, NULL, 0);
    if (name == NULL)
        return 0;
    q.first = name;
    q.origin = pw.origin;
    if (!twin) {
        int32_t off = 330 + (int32_t)s_below(r, 1800);

        q.dob = pw.dob + (s_chance(r, 0.5) ? off : -off);
        if (q.dob < h->dob_lo || q.dob > h->dob_hi)
            q.dob = 2 * pw.dob - q.dob;
        if (q.dob < h->dob_lo || q.dob > h->dob_hi)
            return 0;
    }
    for (size_t e = h->pstart[p]; e < h->pstart[p + 1] && like == NULL; e++) {
        int a = (int)(h->pent[e] >> 32);

        if (s_layouts[a].nhs >= 0)
            like = h->file[a].row[(uint32_t)h->pent[e]].f[s_layouts[a].nhs];
        if (like != NULL && like[0] == '\0')
            like = NULL;
    }
    rc = s_new_nhs(h, like != NULL ? like : "", r, nhs);
    if (rc == 0)
        rc = s_new_upn(h, pw.upn, q.dob, twin, q.upn);
    if (rc == 0)
        rc = s_who_push(h, &q);
    if (rc != 0)
        return rc;
    for (int a = 0; a < XL_GEN_NAGENCY && a < h->nfile; a++) {
        double join = twin ? s_join_twin[a] : s_join_sib[a];
        size_t ti = SIZE_MAX;
        uint64_t near;

        for (size_t e = h->pstart[p]; e < h->pstart[p + 1]; e++) {
            if ((int)(h->pent[e] >> 32) == a) {
                ti = (uint32_t)h->pent[e];
                break;
            }
        }
        /* Most 16-18 year olds have left the school census. */
        if (!twin && a == XL_GEN_EDUCATION && s_age_on(h, q.dob) >= 16)
            join = 0.3;
        if (ti == SIZE_MAX || !s_chance(r, join))
            continue;
        /* Twins are registered together, so their ids are next to each
         * other; a sibling's is anywhere. */
        near = twin ? h->file[a].row[ti].id
                    : h->file[a].row[s_below(r, (uint32_t)h->sum->rows_in[a])].id;
        rc = s_family_row(h, a, ti, qn, nhs, twin ? S_MADE_TWIN : S_MADE_SIB, near);
        if (rc != 0)
            return rc;
        made++;
    }
    if (made == 0) {
        h->nwho--; /* in no file: not a child of the data set */
        return 0;
    }
    if (twin) {
        h->sum->twins++;
        h->sum->twins_similar += (size_t)similar;
    } else {
        h->sum->siblings++;
    }
    return 0;
}

static int
s_add_family(struct s_hard *h)
{
    for (size_t p = 1; p <= h->people; p++) {
        const struct s_who *w = &h->who[p];
        struct s_rng r;
        int twin, sib, rc = 0;

        s_rng_stream(&r, h->o->seed, S_T_FAMILY, p, 0);
        twin = s_chance(&r, S_P_TWIN);
        sib = s_chance(&r, S_P_SIBLING);
        if (w->first == NULL || w->sur == NULL || w->dob == INT32_MIN)
            continue;
        if (twin)
            rc = s_add_child(h, p, &r, 1);
        if (rc == 0 && sib)
            rc = s_add_child(h, p, &r, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- duplicates inside an agency ------------------------------------------------------- */

static uint64_t
s_near_of(const struct s_row *r)
{
    return r->id != 0 ? r->id : r->near;
}

/* The same child recorded again under a new local id, later than the first
 * (so anywhere after it in the file); sometimes a third time. */
static int
s_add_duplicates(struct s_hard *h)
{
    for (int a = 0; a < h->nfile; a++) {
        struct s_file *f = &h->file[a];
        size_t n0 = f->n;

        for (size_t i = 0; i < n0; i++) {
            struct s_rng r;
            int copies;

            s_rng_stream(&r, h->o->seed, S_T_DUP, (uint64_t)a, i);
            if (!s_chance(&r, s_hdup[a]))
                continue;
            copies = s_chance(&r, S_P_TRIPLE) ? 2 : 1;
            for (int k = 0; k < copies; k++) {
                struct s_row d;

                if (s_clone(&f->row[i], &d) != 0)
                    return XL_ERR_NOMEM;
                d.made = S_MADE_DUP;
                d.id = 0;
                d.near = s_near_of(&f->row[i + s_below(&r, (uint32_t)(n0 - i))]);
                if (s_push_row(f, &d) != 0) {
                    s_row_free(&d);
                    return XL_ERR_NOMEM;
                }
                h->sum->dup_rows[a]++;
            }
        }
    }
    return 0;
}

/* Added rows take the first free id after the one they were put next to. */
static int
s_assign_ids(struct s_hard *h, char *err, size_t errlen)
{
    for (int a = 0; a < h->nfile; a++) {
        struct s_file *f = &h->file[a];
        struct s_set used;
        uint64_t lim = 1;
        int rc = 0;

        memset(&used, 0, sizeof used);
        for (int i = 0; i < f->width; i++)
            lim *= 10;
        for (size_t i = 0; i < f->n && rc == 0; i++)
            if (f->row[i].id != 0)
                rc = s_set_add(&used, f->row[i].id);
        for (size_t i = 0; i < f->n && rc == 0; i++) {
            struct s_row *r = &f->row[i];
            char id[40];
            uint64_t c;

            if (r->id != 0)
                continue;
            for (c = r->near + 1; s_set_has(&used, c); c++)
                ;
            if (c >= lim) {
                free(used.v);
                return xl_err_set(err, errlen, XL_ERR_TOOBIG, "%s.csv: no local ids left",
                                  xl_gen_agency_name(a));
            }
            rc = s_set_add(&used, c);
            r->id = c;
            snprintf(id, sizeof id, "%s%0*llu", f->prefix, f->width, (unsigned long long)c);
            s_put(h, r, 0, id);
        }
        free(used.v);
        if (rc != 0 || h->nomem)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory for local ids");
    }
    return 0;
}

static int
s_row_cmp(const void *x, const void *y)
{
    const struct s_row *a = x, *b = y;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Quoted when it holds a comma, a quote, a line break, or leading or trailing
 * spaces, as the default generator writes. */
static void
s_out_field(FILE *f, const char *s, int first)
{
    size_t l = strlen(s);

    if (!first)
        putc(',', f);
    if (strpbrk(s, ",\"\r\n") == NULL && (l == 0 || (s[0] != ' ' && s[l - 1] != ' '))) {
        fputs(s, f);
        return;
    }
    putc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            putc('"', f);
        putc(*s, f);
    }
    putc('"', f);
}

static int
s_close_out(FILE *f, const char *path, char *err, size_t errlen)
{
    int bad = ferror(f);

    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

static int
s_write(struct s_hard *h, const char *dir, char *err, size_t errlen)
{
    char path[4096];
    FILE *t, *f;
    int rc;

    for (int a = 0; a < h->nfile; a++) {
        struct s_file *sf = &h->file[a];

        snprintf(path, sizeof path, "%s/%s.csv", dir, xl_gen_agency_name(a));
        f = fopen(path, "wb");
        if (f == NULL)
            return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", path, strerror(errno));
        setvbuf(f, NULL, _IOFBF, 1u << 20);
        fputs(sf->header, f);
        fputs(sf->eol, f);
        for (size_t i = 0; i < sf->n; i++) {
            for (size_t c = 0; c < sf->ncols; c++)
                s_out_field(f, sf->row[i].f[c], c == 0);
            fputs(sf->eol, f);
        }
        rc = s_close_out(f, path, err, errlen);
        if (rc != 0)
            return rc;
        h->sum->rows_out[a] = sf->n;
    }
    snprintf(path, sizeof path, "%s/truth.csv", dir);
    t = fopen(path, "wb");
    if (t == NULL)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", path, strerror(errno));
    setvbuf(t, NULL, _IOFBF, 1u << 20);
    fputs("agency,local_id,person_id\n", t);
    for (int a = 0; a < h->nfile; a++) {
        for (size_t i = 0; i < h->file[a].n; i++) {
            fprintf(t, "%s,%s,P%07u\n", xl_gen_agency_name(a), h->file[a].row[i].f[0],
                    (unsigned)h->file[a].row[i].person);
            h->sum->truth_rows++;
        }
    }
    return s_close_out(t, path, err, errlen);
}

/* ---- hard mode as a whole ------------------------------------------------------------------ */

static void
s_hard_free(struct s_hard *h)
{
    for (int a = 0; a < XL_GEN_NFILE; a++) {
        for (size_t i = 0; i < h->file[a].n; i++)
            s_row_free(&h->file[a].row[i]);
        free(h->file[a].row);
        free(h->file[a].text);
    }
    free(h->who);
    free(h->pstart);
    free(h->pent);
    free(h->upns.v);
    free(h->nhss.v);
    free(h->names);
    memset(h, 0, sizeof *h);
}

/* Roughens the files xl_gen_coalition wrote into dir with the same options o
 * (see the top of this file). sum is cleared and filled in. Returns 0, or an
 * XL_ERR_* with a message in err. */
static int
s_hard(const struct xl_gen_opts *o, const char *dir, struct s_hard_sum *sum, char *err,
       size_t errlen)
{
    struct xl_gen_opts eff = *o;
    struct s_hard h;
    int rc = 0;

    memset(sum, 0, sizeof *sum);
    memset(&h, 0, sizeof h);
    if (eff.ref_y == 0) {
        struct xl_gen_opts def;

        xl_gen_opts_default(&def);
        eff.ref_y = def.ref_y;
        eff.ref_m = def.ref_m;
        eff.ref_d = def.ref_d;
    }
    h.o = &eff;
    h.sum = sum;
    h.nfile = eff.programme > 0 ? XL_GEN_NFILE : XL_GEN_NAGENCY;
    {
        int ld = eff.ref_m == 2 && eff.ref_d == 29 ? 28 : eff.ref_d;

        h.dob_lo = s_days(eff.ref_y - 19, eff.ref_m, ld) + 1;
        h.dob_hi = s_days(eff.ref_y - 10, eff.ref_m, ld);
    }
    for (int a = 0; a < h.nfile && rc == 0; a++) {
        struct s_file *f = &h.file[a];
        const char *idc = xl_gen_id_column(a);
        char name[32];

        f->agency = a;
        snprintf(name, sizeof name, "%s.csv", xl_gen_agency_name(a));
        rc = s_csv_read(f, dir, name, err, errlen);
        if (rc != 0)
            break;
        if (f->ncols != s_layouts[a].ncols || strncmp(f->header, idc, strlen(idc)) != 0 ||
            f->header[strlen(idc)] != ',') {
            rc = xl_err_set(err, errlen, XL_ERR_INVALID, "%s: not the columns expected", name);
            break;
        }
        rc = s_read_ids(f, name, err, errlen);
        sum->rows_in[a] = f->n;
    }
    if (rc == 0)
        rc = s_read_truth(&h, dir, err, errlen);
    if (rc != 0)
        goto out;
    rc = xl_err_set(err, errlen, XL_ERR_NOMEM, "hard mode: out of memory");
    if (s_names_index(&h) != 0 || s_index_people(&h) != 0)
        goto out;
    /* The identifiers in the files, so that added children get others. */
    for (int a = 0; a < h.nfile; a++) {
        const struct s_layout *l = &s_layouts[a];

        for (size_t i = 0; i < h.file[a].n; i++) {
            const struct s_row *row = &h.file[a].row[i];
            uint64_t k;

            if (l->upn >= 0 && strlen(row->f[l->upn]) == 13 &&
                (k = s_digits_key(row->f[l->upn] + 1, 12)) != 0 && s_set_add(&h.upns, k) != 0)
                goto out;
            if (l->nhs >= 0 && (k = s_digits_key(row->f[l->nhs], 10)) != 0 &&
                s_set_add(&h.nhss, k) != 0)
                goto out;
        }
    }
    rc = s_add_family(&h);
    if (rc == 0)
        rc = s_add_duplicates(&h);
    if (rc != 0) {
        rc = xl_err_set(err, errlen, rc,
                        rc == XL_ERR_TOOBIG ? "hard mode: NHS numbers for added children ran out"
                                            : "hard mode: out of memory");
        goto out;
    }
    rc = s_assign_ids(&h, err, errlen);
    if (rc != 0)
        goto out;
    for (int a = 0; a < h.nfile; a++) {
        struct s_file *f = &h.file[a];

        for (size_t i = 0; i < f->n; i++)
            s_roughen(&h, f, &f->row[i]);
        if (f->n > 1)
            qsort(f->row, f->n, sizeof *f->row, s_row_cmp);
    }
    if (h.nomem) {
        rc = xl_err_set(err, errlen, XL_ERR_NOMEM, "hard mode: out of memory");
        goto out;
    }
    rc = s_write(&h, dir, err, errlen);
out:
    s_hard_free(&h);
    return rc;
}

static void
s_hard_print(FILE *out, const struct s_hard_sum *s, int programme)
{
    size_t in = 0, total = 0, changed = 0;

    fprintf(out, "hard mode: the records above, roughened, and more of them\n");
    fprintf(out, "  %-10s %9s %9s %9s %9s %9s\n", "", "records", "changed", "dups", "twins",
            "siblings");
    for (int a = 0; a < (programme ? XL_GEN_NFILE : XL_GEN_NAGENCY); a++) {
        fprintf(out, "  %-10s %9zu %9zu %9zu %9zu %9zu\n", xl_gen_agency_name(a), s->rows_out[a],
                s->changed[a], s->dup_rows[a], s->twin_rows[a], s->sib_rows[a]);
        in += s->rows_in[a];
        total += s->rows_out[a];
        changed += s->changed[a];
    }
    fprintf(out, "  %-10s %9zu %9zu  (%.1f%% of records changed; %zu before hard mode)\n", "total",
            total, changed, total ? 100.0 * (double)changed / (double)total : 0.0, in);
    fprintf(out,
            "  children added: %zu twins (%zu with a forename like their twin's), %zu siblings\n",
            s->twins, s->twins_similar, s->siblings);
    fprintf(out, "changes by kind (records):\n");
    for (int k = 0; k < S_H_NKIND; k++)
        fprintf(out, "  %-26s %9zu\n", s_hkind_names[k], s->kinds[k]);
    fprintf(out, "truth.csv: %zu rows, one per record\n", s->truth_rows);
}

/* ---- the command ---------------------------------------------------------------------------- */

static void
s_usage(FILE *f)
{
    fprintf(f,
            "usage: gen_coalition --seed N --people N --out DIR [--error-rate F]\n"
            "                     [--invalid-rate F] [--ref-date YYYY-MM-DD] [--programme F]\n"
            "                     [--hard] [--quiet]\n"
            "  --seed N          PRNG seed; the same seed gives the same files (default 1)\n"
            "  --people N        children in the population, 1 to %u\n"
            "  --out DIR         output directory (created if missing)\n"
            "  --error-rate F    share of records with at least one error (default 0.10)\n"
            "  --invalid-rate F  share of records with an invalid value (default 0.002)\n"
            "  --coverage P,H,E,S  share of the children each agency holds (police, health,\n"
            "                    education, social; default 0.08,0.95,0.90,0.15)\n"
            "  --ref-date D      date on which every child is 10-18 (default 2026-11-01)\n"
            "  --programme F     also write programme.csv, the caseload of a support programme\n"
            "                    taking on about F of the children (e.g. 0.03); the other\n"
            "                    files are the same as without it (default 0: not written)\n"
            "  --hard            messier records, as in real extracts and the public test\n"
            "                    sets: OCR errors and digits in names, nicknames, middle\n"
            "                    names, changed and double-barrelled surnames, impossible,\n"
            "                    future and partial dates of birth, typos in names and\n"
            "                    postcodes, more missing values, added twins and siblings,\n"
            "                    more duplicates inside an agency; the truth stays exact\n"
            "                    (default: off, and the files are as before for a seed)\n"
            "  --quiet           no summary\n",
            XL_GEN_MAX_PEOPLE);
}

static int
s_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int
s_parse_rate(const char *s, double *out)
{
    char *end;
    double v;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

static int
s_parse_date(const char *s, int *y, int *m, int *d)
{
    char tail;

    if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", y, m, d, &tail) != 3)
        return -1;
    return 0;
}

int
main(int argc, char **argv)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    struct s_hard_sum hsum;
    const char *out = NULL;
    char err[XL_ERRBUF];
    int quiet = 0, hard = 0, have_people = 0, rc;
    double t0, t1;
    size_t total = 0;

    xl_gen_opts_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 0;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
            continue;
        } else if (strcmp(a, "--hard") == 0) {
            hard = 1;
            continue;
        } else if (strcmp(a, "--seed") == 0) {
            if (s_parse_u64(v, &o.seed) != 0)
                goto bad;
        } else if (strcmp(a, "--people") == 0) {
            if (s_parse_u64(v, &u) != 0 || u < 1 || u > XL_GEN_MAX_PEOPLE)
                goto bad;
            o.people = (size_t)u;
            have_people = 1;
        } else if (strcmp(a, "--out") == 0) {
            if (v == NULL || *v == '\0')
                goto bad;
            out = v;
        } else if (strcmp(a, "--error-rate") == 0) {
            if (s_parse_rate(v, &o.error_rate) != 0)
                goto bad;
        } else if (strcmp(a, "--invalid-rate") == 0) {
            if (s_parse_rate(v, &o.invalid_rate) != 0)
                goto bad;
        } else if (strcmp(a, "--coverage") == 0) {
            /* police,health,education,social: shares of the population each holds */
            char *end;
            const char *p = v;
            for (int k = 0; k < XL_GEN_NAGENCY; k++) {
                if (p == NULL)
                    goto bad;
                o.coverage[k] = strtod(p, &end);
                if (end == p || o.coverage[k] <= 0 || o.coverage[k] > 1 ||
                    (k + 1 < XL_GEN_NAGENCY ? *end != ',' : *end != '\0'))
                    goto bad;
                p = end + 1;
            }
        } else if (strcmp(a, "--programme") == 0) {
            if (s_parse_rate(v, &o.programme) != 0)
                goto bad;
        } else if (strcmp(a, "--ref-date") == 0) {
            if (s_parse_date(v, &o.ref_y, &o.ref_m, &o.ref_d) != 0)
                goto bad;
        } else {
            fprintf(stderr, "gen_coalition: unknown option %s\n", a);
            s_usage(stderr);
            return 2;
        }
        i++;
        continue;
    bad:
        fprintf(stderr, "gen_coalition: %s needs a valid value\n", a);
        s_usage(stderr);
        return 2;
    }
    if (out == NULL || !have_people) {
        fprintf(stderr, "gen_coalition: --people and --out are required\n");
        s_usage(stderr);
        return 2;
    }

    t0 = xl_monotonic();
    rc = xl_gen_coalition(&o, out, &sum, err, sizeof err);
    if (rc == 0 && hard)
        rc = s_hard(&o, out, &hsum, err, sizeof err);
    t1 = xl_monotonic();
    if (rc != 0) {
        fprintf(stderr, "gen_coalition: %s\n", err);
        return 1;
    }
    for (int a = 0; a < XL_GEN_NFILE; a++)
        total += hard ? hsum.rows_out[a] : sum.records[a];
    if (!quiet) {
        xl_gen_summary_print(stderr, &o, &sum);
        if (hard)
            s_hard_print(stderr, &hsum, o.programme > 0);
        fprintf(stderr, "wrote %zu records to %s in %.2f s (%.0f records/s)\n", total, out, t1 - t0,
                t1 > t0 ? (double)total / (t1 - t0) : 0.0);
    }
    return 0;
}
