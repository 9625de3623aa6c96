/* Synthetic coalition data: see gen.h for the files and their formats.
 *
 * The population is generated once, in household order, into a compact array
 * (48 bytes a child: names are table indices, identifiers are numbers).
 * Each agency file is then written in its own shuffled order, and every
 * record's errors and outcomes come from a PRNG stream keyed by (seed, agency,
 * child, copy), so a record does not depend on what was written before it.
 *
 * Households matter for linkage: siblings share a surname, a postcode and a
 * school (and twins a date of birth), so they differ only in first name and
 * date of birth, which is what real false matches look like.
 *
 * The support programme (programme.csv, only when opts.programme > 0) is
 * drawn after everything else, from PRNG streams no agency file uses (its own
 * file index, or tags of its own), so the four agency files and their truth
 * rows are byte for byte the same with and without it. That also means the
 * programme cannot change any child's outcomes; what makes supported children
 * look different is who is chosen and when their support starts:
 *
 *   - Who: each child's chance is proportional to a weight (need 1, 1.5, 2.5;
 *     x4 if known to social care; x5 if known to police and reoffended, x10 if
 *     known to police and did not), scaled so that the expected caseload is
 *     opts.programme of the population (no chance above 1). The caseload is
 *     mostly children known to police or social care, and among those known
 *     to police it holds fewer who reoffended than the police caseload does.
 *   - When: support starts in the three years before the reference date, once
 *     the child is 8. A child whose first offence or care entry (the later of
 *     the two) falls in the window or the year before it is referred in the
 *     year after it four times in five; the others start on any day of the
 *     window. So offences and care entries
 *     dated after the support start are much rarer among supported children
 *     than among comparable children measured from a fixed date in the window.
 *     Referral after the event is how such programmes fill (an analyst reading
 *     a before/after comparison should know that it shows this, not a cause).
 *   - What: the referral source leans on what the child is known for (police,
 *     social care, CAMHS for higher need, otherwise school or GP); sessions
 *     attended are 0 for one child in eight who never engages, otherwise
 *     1 + a geometric count with mean 9, never more than the weeks since the
 *     start. Six supported children in a hundred are re-referred at least six
 *     months after the first start: a second case, and a second record (with
 *     the errors a duplicate has) of the same child.
 *
 * Case refs rise with the support start, as a case-management system numbers
 * cases as they open. The records take the same kinds of error and invalid
 * value as the agency files, in a mix close to social care's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <utf8proc.h>

#include "../../agent/normalise.h"
#include "gen.h"
#include "xl/err.h"

#define S_NAME_BYTES        256
#define S_NAME_CPS          128
#define S_NSCHOOL           2000 /* UPN establishment numbers 2000-3999 (primary schools) */
#define S_NYEAR             16   /* UPN allocation years tracked per school */
#define S_UPN_SERIAL_MAX    999
#define S_NHS_BLOCK         1000000u
#define S_NHS_PREFIX_TOP    999 /* test numbers first; the 99x-90x prefixes are unissued */
#define S_NHS_PREFIX_BOTTOM 900

static const char s_unit_letters[] = "ABDEFGHJLNPQRSTUWXYZ";
static const char s_upn_letters[] = "ABCDEFGHJKLMNPQRTUVWXYZ";

/* ---- PRNG: xoshiro256** seeded through splitmix64 ------------------------ */

struct s_rng {
    uint64_t s[4];
};

static uint64_t
s_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
s_rng_seed(struct s_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        seed += 0x9e3779b97f4a7c15ULL;
        r->s[i] = s_mix(seed);
    }
}

/* A stream for one purpose (tag) and up to three coordinates. */
static void
s_rng_stream(struct s_rng *r, uint64_t seed, uint64_t tag, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = s_mix(seed ^ (tag * 0x9e3779b97f4a7c15ULL));

    h = s_mix(h ^ (a + 0x632be59bd9b4e019ULL));
    h = s_mix(h ^ (b + 0x8cb92ba72f3d8dd7ULL));
    h = s_mix(h ^ (c + 0xd6e8feb86659fd93ULL));
    s_rng_seed(r, h);
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

/* Uniform in [0, n), n < 2^32 (multiply-shift; the bias is below 2^-32). */
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

/* Count of successes before the first failure: geometric with mean m. */
static int
s_geometric(struct s_rng *r, double m, int cap)
{
    double q = m / (1.0 + m);
    int k = 0;

    while (k < cap && s_chance(r, q))
        k++;
    return k;
}

/* ---- dates (proleptic Gregorian, days since 1970-01-01) ------------------- */

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

/* Day of week, 0 = Monday. */
static int
s_dow(int32_t z)
{
    return (int)(((z % 7) + 7 + 3) % 7);
}

/* The same day and month in year y; 29 February becomes 28 February. */
static int32_t
s_days_clamped(int y, int m, int d)
{
    if (d > s_mdays(y, m))
        d = s_mdays(y, m);
    return s_days(y, m, d);
}

static int
s_age(int32_t dob, int ry, int rm, int rd)
{
    int y, m, d, age;

    s_civil(dob, &y, &m, &d);
    age = ry - y;
    if (rm < m || (rm == m && rd < d))
        age--;
    return age;
}

/* ---- UTF-8 ---------------------------------------------------------------- */

static size_t
s_u8_decode(const char *s, int32_t *cp, size_t max)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t len = strlen(s), n = 0;

    while (len > 0 && n < max) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &c);

        if (k <= 0) {
            c = '?';
            k = 1;
        }
        cp[n++] = c;
        p += k;
        len -= (size_t)k;
    }
    return n;
}

static void
s_u8_encode(const int32_t *cp, size_t n, char *out, size_t outlen)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        uint8_t b[4];
        utf8proc_ssize_t k = utf8proc_encode_char(cp[i], b);

        if (k <= 0 || o + (size_t)k + 1 > outlen)
            break;
        memcpy(out + o, b, (size_t)k);
        o += (size_t)k;
    }
    out[o] = '\0';
}

static int
s_is_letter(int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LO: return 1;
    default: return 0;
    }
}

static int
s_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((uint8_t)*s >= 0x80)
            return 0;
    return 1;
}

/* Letters that have no decomposition but that legacy systems transliterate. */
static const char *
s_fold_special(int32_t c)
{
    switch (c) {
    case 0x0141: return "L"; /* Ł */
    case 0x0142: return "l";
    case 0x0110: return "D"; /* Đ */
    case 0x0111: return "d";
    case 0x00D8: return "O"; /* Ø */
    case 0x00F8: return "o";
    case 0x00DF: return "ss"; /* ß */
    case 0x00C6: return "AE";
    case 0x00E6: return "ae";
    case 0x0152: return "OE";
    case 0x0153: return "oe";
    case 0x2018: /* ‘ */
    case 0x2019: /* ’ */
    case 0x02BC: return "'";
    case 0x2013: /* – */
    case 0x2010: return "-";
    default: return NULL;
    }
}

int
xl_gen_ascii_fold(const char *in, char *out, size_t outlen)
{
    const uint8_t *p = (const uint8_t *)in;
    size_t len = strlen(in), o = 0;
    int changed = 0;

    if (outlen == 0)
        return -1;
    while (len > 0) {
        utf8proc_int32_t c, dec[8];
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &c);
        char tmp[16];
        size_t tn = 0;

        if (k <= 0)
            return -1;
        p += k;
        len -= (size_t)k;
        if (c < 0x80) {
            tmp[tn++] = (char)c;
        } else {
            const char *sp = s_fold_special(c);

            changed++;
            if (sp != NULL) {
                tn = strlen(sp);
                memcpy(tmp, sp, tn);
            } else {
                int last = 0;
                utf8proc_ssize_t nd = utf8proc_decompose_char(
                    c, dec, 8, UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK, &last);

                for (utf8proc_ssize_t j = 0; j < nd && j < 8 && tn < sizeof tmp; j++)
                    tmp[tn++] = dec[j] < 0x80 ? (char)dec[j] : '?';
                if (nd < 0)
                    tmp[tn++] = '?';
            }
        }
        if (o + tn + 1 > outlen)
            return -1;
        memcpy(out + o, tmp, tn);
        o += tn;
    }
    out[o] = '\0';
    return changed;
}

/* ---- places --------------------------------------------------------------- */

struct s_area {
    const char *area;
    int lo, hi;
    int la; /* DfE local-authority number */
    unsigned weight;
};

/* Postcode districts of the coalition area and the local authority that
 * allocates most of their pupils' UPNs. */
static const struct s_area s_areas[] = {
    {"B", 1, 21, 330, 12},  {"B", 23, 38, 330, 12},  {"B", 40, 40, 330, 6},  {"B", 42, 48, 330, 12},
    {"B", 62, 71, 333, 12}, {"B", 72, 76, 330, 12},  {"B", 90, 94, 334, 10}, {"CV", 1, 6, 331, 16},
    {"CV", 7, 13, 937, 8},  {"CV", 21, 23, 937, 10}, {"CV", 31, 37, 937, 8}, {"CV", 47, 47, 937, 4},
    {"WS", 1, 10, 335, 10}, {"WS", 11, 15, 860, 8},  {"WV", 1, 14, 336, 10}, {"DY", 1, 9, 332, 10},
    {"DY", 10, 14, 885, 8}, {"LS", 1, 29, 383, 11},  {"LE", 1, 5, 856, 16},  {"LE", 6, 19, 855, 8},
};
#define S_NAREA (sizeof s_areas / sizeof s_areas[0])

static const int s_las[] = {330, 331, 332, 333, 334, 335, 336, 383, 855, 856, 860, 885, 937};
#define S_NLA (sizeof s_las / sizeof s_las[0])

struct s_district {
    char name[6];
    uint8_t area; /* index into s_areas */
    uint8_t la;   /* index into s_las */
};

/* ---- the population ------------------------------------------------------- */

enum {
    S_F_PREFIX = 1,    /* "Muhammad" before the calling name */
    S_F_COMPOUND = 2,  /* surname of two parts */
    S_F_SEP_SPACE = 4, /* parts joined by a space, not a hyphen */
    S_F_LAC = 8,       /* looked after */
    S_F_FEMALE = 16
};

struct s_postcode {
    uint16_t district;
    uint8_t sector;
    char unit[2];
};

struct s_person {
    int32_t dob;
    uint32_t nhs_body; /* digits 4-9 of the NHS number */
    uint16_t nhs_prefix;
    uint8_t nhs_check;
    uint8_t flags;
    uint8_t first_origin;
    uint8_t sur_list, sur2_list, alt_list; /* origin * 2 (+1: girls' surname list) */
    uint16_t first, sur, sur2, alt;
    struct s_postcode home, old;
    uint16_t school; /* establishment number - 2000 */
    uint16_t serial;
    uint8_t la, upn_yy;
    char upn_check;
    uint8_t risk;     /* 0 low, 1 raised, 2 high: drives membership and outcomes */
    uint8_t agencies; /* bit a: held by agency a; bit 4 + a: held twice */
};

struct s_list {
    const struct xl_gen_name *v;
    size_t n;
    uint32_t *cum;
};

struct s_gen {
    const struct xl_gen_opts *o;
    struct xl_gen_summary *sum;
    struct s_rng rng;
    struct s_person *p;
    size_t n;
    uint32_t *origin_cum;
    struct s_list (*lists)[4]; /* per origin: male, female, surname, girls' surname */
    struct s_district *districts;
    size_t ndistricts;
    uint32_t *district_cum;
    uint16_t *upn_count;
    int32_t dob_lo, dob_hi;
    int yob_lo;
    unsigned nhs_prefix;
    uint32_t nhs_k, nhs_a, nhs_c;
};

static int
s_cum_build(uint32_t **cum, const unsigned *w, size_t n)
{
    uint32_t t = 0;

    *cum = malloc((n > 0 ? n : 1) * sizeof **cum);
    if (*cum == NULL)
        return XL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        t += w[i] > 0 ? w[i] : 1;
        (*cum)[i] = t;
    }
    return 0;
}

static size_t
s_cum_pick(struct s_rng *r, const uint32_t *cum, size_t n)
{
    uint32_t x = s_below(r, cum[n - 1]);
    size_t lo = 0, hi = n - 1;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int
s_list_init(struct s_list *l, const struct xl_gen_name *v, size_t n)
{
    unsigned *w;
    int r;

    l->v = v;
    l->n = n;
    l->cum = NULL;
    if (n == 0)
        return 0;
    w = malloc(n * sizeof *w);
    if (w == NULL)
        return XL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        w[i] = v[i].weight;
    r = s_cum_build(&l->cum, w, n);
    free(w);
    return r;
}

static size_t
s_list_pick(struct s_rng *r, const struct s_list *l)
{
    return s_cum_pick(r, l->cum, l->n);
}

static size_t
s_pick_origin(struct s_gen *g)
{
    return s_cum_pick(&g->rng, g->origin_cum, xl_gen_n_origins);
}

static void
s_gen_free(struct s_gen *g)
{
    if (g->lists != NULL) {
        for (size_t i = 0; i < xl_gen_n_origins; i++)
            for (int k = 0; k < 4; k++)
                free(g->lists[i][k].cum);
    }
    free(g->lists);
    free(g->origin_cum);
    free(g->districts);
    free(g->district_cum);
    free(g->upn_count);
    free(g->p);
    memset(g, 0, sizeof *g);
}

static int
s_gen_init(struct s_gen *g, const struct xl_gen_opts *o, struct xl_gen_summary *sum)
{
    unsigned *w;
    size_t nd = 0;
    int r;

    memset(g, 0, sizeof *g);
    g->o = o;
    g->sum = sum;
    g->n = o->people;
    s_rng_stream(&g->rng, o->seed, 1, 0, 0, 0);

    for (size_t a = 0; a < S_NAREA; a++)
        nd += (size_t)(s_areas[a].hi - s_areas[a].lo + 1);
    w = malloc((xl_gen_n_origins > nd ? xl_gen_n_origins : nd) * sizeof *w);
    if (w == NULL)
        return XL_ERR_NOMEM;
    for (size_t i = 0; i < xl_gen_n_origins; i++)
        w[i] = xl_gen_origins[i].weight;
    r = s_cum_build(&g->origin_cum, w, xl_gen_n_origins);
    if (r != 0)
        goto out;

    r = XL_ERR_NOMEM;
    g->lists = calloc(xl_gen_n_origins, sizeof *g->lists);
    if (g->lists == NULL)
        goto out;
    for (size_t i = 0; i < xl_gen_n_origins; i++) {
        const struct xl_gen_origin *og = &xl_gen_origins[i];

        if (s_list_init(&g->lists[i][0], og->male, og->n_male) != 0 ||
            s_list_init(&g->lists[i][1], og->female, og->n_female) != 0 ||
            s_list_init(&g->lists[i][2], og->surname, og->n_surname) != 0 ||
            s_list_init(&g->lists[i][3], og->girl_surname, og->n_girl_surname) != 0)
            goto out;
    }

    g->districts = calloc(nd, sizeof *g->districts);
    if (g->districts == NULL)
        goto out;
    for (size_t a = 0; a < S_NAREA; a++) {
        uint8_t la = 0;

        for (size_t k = 0; k < S_NLA; k++)
            if (s_las[k] == s_areas[a].la)
                la = (uint8_t)k;
        for (int d = s_areas[a].lo; d <= s_areas[a].hi; d++) {
            struct s_district *sd = &g->districts[g->ndistricts];

            snprintf(sd->name, sizeof sd->name, "%s%d", s_areas[a].area, d);
            sd->area = (uint8_t)a;
            sd->la = la;
            w[g->ndistricts++] = s_areas[a].weight;
        }
    }
    r = s_cum_build(&g->district_cum, w, g->ndistricts);
    if (r != 0)
        goto out;

    r = XL_ERR_NOMEM;
    g->upn_count = calloc((size_t)S_NLA * S_NSCHOOL * S_NYEAR, sizeof *g->upn_count);
    g->p = calloc(g->n, sizeof *g->p);
    if (g->upn_count == NULL || g->p == NULL)
        goto out;

    /* Children are 10 to 18 on the reference date: born after the day 19 years
     * before it and no later than the day 10 years before it. */
    g->dob_lo = s_days_clamped(o->ref_y - 19, o->ref_m, o->ref_d) + 1;
    g->dob_hi = s_days_clamped(o->ref_y - 10, o->ref_m, o->ref_d);
    g->yob_lo = o->ref_y - 19;

    /* NHS numbers walk a seeded affine permutation of each block of a million,
     * so they look scattered, never repeat, and fill the 999 block first. */
    g->nhs_prefix = S_NHS_PREFIX_TOP;
    g->nhs_k = 0;
    do {
        g->nhs_a = (uint32_t)(s_below(&g->rng, S_NHS_BLOCK / 2) * 2 + 1);
    } while (g->nhs_a % 5 == 0);
    g->nhs_c = s_below(&g->rng, S_NHS_BLOCK);
    r = 0;
out:
    free(w);
    return r;
}

static int
s_nhs_next(struct s_gen *g, struct s_person *p)
{
    for (;;) {
        char d[10];
        uint32_t body;
        int c, same = 1;

        if (g->nhs_k == S_NHS_BLOCK) {
            if (g->nhs_prefix == S_NHS_PREFIX_BOTTOM)
                return XL_ERR_TOOBIG;
            g->nhs_prefix--;
            g->nhs_k = 0;
        }
        body = (uint32_t)(((uint64_t)g->nhs_a * g->nhs_k + g->nhs_c) % S_NHS_BLOCK);
        g->nhs_k++;
        snprintf(d, sizeof d, "%03u%06u", g->nhs_prefix, (unsigned)body);
        c = agent_nhs_check_digit(d);
        if (c < 0)
            continue;
        for (int i = 1; i < 9; i++)
            same &= d[i] == d[0];
        if (same && c == d[0] - '0')
            continue; /* 9999999999 is a "not known" placeholder */
        p->nhs_prefix = (uint16_t)g->nhs_prefix;
        p->nhs_body = body;
        p->nhs_check = (uint8_t)c;
        return 0;
    }
}

/* Exactly n decimal digits of v (its last n), zero-padded, no terminator. */
static void
s_digits(char *out, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static void
s_upn_body(const struct s_person *p, char body[13])
{
    s_digits(body, (uint64_t)s_las[p->la], 3);
    s_digits(body + 3, 2000u + p->school, 4);
    s_digits(body + 7, p->upn_yy, 2);
    s_digits(body + 9, p->serial, 3);
    body[12] = '\0';
}

static int
s_upn_next(struct s_gen *g, struct s_person *p, unsigned school)
{
    int y, m, d, alloc, yi, c;
    char body[13];

    /* A UPN is issued at school entry: the September after the fourth birthday. */
    s_civil(p->dob, &y, &m, &d);
    alloc = y + (m >= 9 ? 5 : 4);
    yi = alloc - (g->yob_lo + 4);
    if (yi < 0 || yi >= S_NYEAR)
        return XL_ERR_INTERNAL;
    for (unsigned tries = 0; tries < S_NSCHOOL; tries++) {
        uint16_t *cnt = &g->upn_count[((size_t)p->la * S_NSCHOOL + school) * S_NYEAR + (size_t)yi];

        if (*cnt < S_UPN_SERIAL_MAX) {
            p->school = (uint16_t)school;
            *cnt += 1;
            p->serial = *cnt;
            p->upn_yy = (uint8_t)(alloc % 100);
            s_upn_body(p, body);
            c = agent_upn_check_letter(body);
            if (c < 0)
                return XL_ERR_INTERNAL;
            p->upn_check = (char)c;
            return 0;
        }
        school = (school + 1) % S_NSCHOOL;
    }
    return XL_ERR_TOOBIG;
}

static void
s_postcode_random(struct s_gen *g, struct s_postcode *pc, int district)
{
    pc->district = (uint16_t)(district >= 0 ? (size_t)district
                                            : s_cum_pick(&g->rng, g->district_cum, g->ndistricts));
    pc->sector = (uint8_t)s_below(&g->rng, 10);
    pc->unit[0] = s_unit_letters[s_below(&g->rng, 20)];
    pc->unit[1] = s_unit_letters[s_below(&g->rng, 20)];
}

/* A previous address: most families move within their district or area. */
static void
s_postcode_old(struct s_gen *g, const struct s_postcode *home, struct s_postcode *old)
{
    if (s_chance(&g->rng, 0.6)) {
        s_postcode_random(g, old, home->district);
    } else {
        const struct s_area *a = &s_areas[g->districts[home->district].area];
        size_t first = 0;

        for (size_t i = 0; i < g->ndistricts; i++) {
            if (g->districts[i].area == g->districts[home->district].area) {
                first = i;
                break;
            }
        }
        s_postcode_random(g, old, (int)(first + s_below(&g->rng, (uint32_t)(a->hi - a->lo + 1))));
    }
    if (memcmp(old, home, sizeof *old) == 0)
        old->unit[1] = old->unit[1] == 'A' ? 'B' : 'A';
}

/* Relative births by calendar month (England and Wales, per day). */
static const unsigned s_month_w[12] = {96, 92, 100, 97, 100, 98, 104, 102, 106, 103, 98, 97};

static int32_t
s_dob_random(struct s_gen *g)
{
    uint32_t span = (uint32_t)(g->dob_hi - g->dob_lo + 1);

    for (;;) {
        int32_t z = g->dob_lo + (int32_t)s_below(&g->rng, span);
        int y, m, d;
        unsigned w;

        s_civil(z, &y, &m, &d);
        /* Fewer births at weekends (planned deliveries) and on bank holidays. */
        w = s_month_w[m - 1] * (s_dow(z) == 5 ? 85u : s_dow(z) == 6 ? 80u : 104u);
        if ((m == 12 && (d == 25 || d == 26)) || (m == 1 && d == 1))
            w = w * 7 / 10;
        if (s_below(&g->rng, 106u * 104u) < w)
            return z;
    }
}

static uint8_t
s_risk_draw(struct s_gen *g)
{
    uint32_t u = s_below(&g->rng, 100);

    return (uint8_t)(u < 75 ? 0 : u < 95 ? 1 : 2);
}

static double
s_clamp01(double x)
{
    return x < 0 ? 0 : x > 0.97 ? 0.97 : x;
}

/* Which agencies hold the child, and whether twice. */
static void
s_memberships(struct s_gen *g, struct s_person *p)
{
    static const double age_w[9] = {0.15, 0.3, 0.6, 0.9, 1.2, 1.4, 1.5, 1.5, 1.45};
    static const double risk_p[3] = {0.75, 0.20, 0.05};
    static const double pol_w[3] = {0.5 / 0.975, 2.0 / 0.975, 4.0 / 0.975};
    static const double soc_w[3] = {0.6, 1.8, 3.0};
    static const double dup_base[XL_GEN_NAGENCY] = {0.02, 0.01, 0.006, 0.03};
    const double *cov = g->o->coverage;
    int age = s_age(p->dob, g->o->ref_y, g->o->ref_m, g->o->ref_d);
    int police, social;
    double q1, q0, hi, lo, dup_scale, mass = 0, mean = 0;
    uint8_t in = 0;

    if (age < 10)
        age = 10;
    if (age > 18)
        age = 18;
    police = s_chance(&g->rng, s_clamp01(cov[XL_GEN_POLICE] * age_w[age - 10] * pol_w[p->risk]));
    /* Children known to police are three times as likely to be known to social
     * care; the others make up the rest of the social-care target. */
    q1 = cov[XL_GEN_SOCIAL] * 3 > 0.9 ? 0.9 : cov[XL_GEN_SOCIAL] * 3;
    q0 = cov[XL_GEN_POLICE] < 1
             ? (cov[XL_GEN_SOCIAL] - cov[XL_GEN_POLICE] * q1) / (1 - cov[XL_GEN_POLICE])
             : 0;
    /* Children not known to police are mostly lower-need ones: scale the need
     * weights so that their mean over that group is 1. */
    for (int k = 0; k < 3; k++) {
        double w = risk_p[k] * (1 - s_clamp01(cov[XL_GEN_POLICE] * pol_w[k]));

        mass += w;
        mean += w * soc_w[k];
    }
    mean = mass > 0 ? mean / mass : 1;
    social = s_chance(&g->rng, police ? q1 : s_clamp01(q0 * soc_w[p->risk] / mean));
    if (cov[XL_GEN_SOCIAL] >= 1)
        social = 1;
    if (cov[XL_GEN_POLICE] >= 1)
        police = 1;
    if (social && s_chance(&g->rng, police ? 0.45 : 0.33))
        p->flags |= S_F_LAC;
    /* Most 16-18 year olds have left the school census; younger ones are in it. */
    hi = cov[XL_GEN_EDUCATION] + (1 - cov[XL_GEN_EDUCATION]) * 0.7;
    lo = (cov[XL_GEN_EDUCATION] - hi * 6.0 / 9.0) * 3.0;
    if (lo < 0)
        lo = 0;
    if (police)
        in |= 1u << XL_GEN_POLICE;
    if (s_chance(&g->rng, cov[XL_GEN_HEALTH]) || cov[XL_GEN_HEALTH] >= 1)
        in |= 1u << XL_GEN_HEALTH;
    if (s_chance(&g->rng, age < 16 ? hi : lo) || cov[XL_GEN_EDUCATION] >= 1)
        in |= 1u << XL_GEN_EDUCATION;
    if (social)
        in |= 1u << XL_GEN_SOCIAL;
    dup_scale = g->o->error_rate / 0.10;
    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        double pd = dup_base[a] * dup_scale;

        if ((in >> a & 1) && s_chance(&g->rng, pd > 0.5 ? 0.5 : pd))
            in |= (uint8_t)(1u << (4 + a));
    }
    p->agencies = in;
}

static int
s_population(struct s_gen *g)
{
    struct s_rng *r = &g->rng;
    size_t i = 0;
    int rc;

    while (i < g->n) {
        uint32_t u = s_below(r, 100);
        size_t hs = u < 58 ? 1 : u < 88 ? 2 : u < 97 ? 3 : 4;
        size_t ho = s_pick_origin(g), fo = ho, o2;
        const struct xl_gen_origin *og = &xl_gen_origins[ho];
        uint16_t hsur, hsur2 = 0;
        uint8_t hflags = 0, hrisk = s_risk_draw(g), hlist = (uint8_t)(ho * 2), h2list = 0;
        struct s_postcode home, old;
        unsigned school = s_below(r, S_NSCHOOL);

        if (hs > g->n - i)
            hs = g->n - i;
        /* Mixed-heritage families: given names from one tradition, family name
         * from another. */
        if (s_chance(r, 0.06))
            fo = s_pick_origin(g);
        hsur = (uint16_t)s_list_pick(r, &g->lists[ho][2]);
        o2 = fo != ho ? fo : ho;
        if (s_below(r, 100) < og->compound_pct || (fo != ho && s_chance(r, 0.2))) {
            hsur2 = (uint16_t)s_list_pick(r, &g->lists[o2][2]);
            if (o2 != ho || hsur2 != hsur) {
                hflags |= S_F_COMPOUND;
                h2list = (uint8_t)(o2 * 2);
                if (xl_gen_origins[ho].compound_sep == ' ' && o2 == ho)
                    hflags |= S_F_SEP_SPACE;
            }
        }
        s_postcode_random(g, &home, -1);
        s_postcode_old(g, &home, &old);

        for (size_t j = 0; j < hs; j++) {
            struct s_person *p = &g->p[i + j];
            const struct xl_gen_origin *fog = &xl_gen_origins[fo];
            int twin = j > 0 && s_chance(r, 0.03);
            int sex, list;

            p->first_origin = (uint8_t)fo;
            p->home = home;
            p->old = old;
            p->la = g->districts[home.district].la;
            p->risk = s_chance(r, 0.8) ? hrisk : s_risk_draw(g);
            sex = twin && s_chance(r, 0.5) ? (g->p[i + j - 1].flags & S_F_FEMALE ? 2 : 1)
                  : s_chance(r, 0.512)     ? 1
                                           : 2;
            if (sex == 2)
                p->flags |= S_F_FEMALE;
            if (twin) {
                p->dob = g->p[i + j - 1].dob;
            } else {
                for (int t = 0; t < 20; t++) {
                    int ok = 1;

                    p->dob = s_dob_random(g);
                    for (size_t k = 0; k < j; k++) {
                        int32_t dd = p->dob - g->p[i + k].dob;

                        if (dd > -280 && dd < 280)
                            ok = 0;
                    }
                    if (ok)
                        break;
                }
            }
            /* Siblings never share a given name. */
            list = sex == 1 ? 0 : 1;
            for (int t = 0; t < 20; t++) {
                int dup = 0;

                p->first = (uint16_t)s_list_pick(r, &g->lists[fo][list]);
                for (size_t k = 0; k < j; k++)
                    if (((g->p[i + k].flags ^ p->flags) & S_F_FEMALE) == 0 &&
                        g->p[i + k].first == p->first)
                        dup = 1;
                if (!dup)
                    break;
            }
            if (sex == 1 && fog->male_prefix != NULL && s_below(r, 100) < fog->male_prefix_pct &&
                strcmp(g->lists[fo][0].v[p->first].name, fog->male_prefix) != 0)
                p->flags |= S_F_PREFIX;

            if (s_chance(r, 0.88)) {
                p->sur_list = hlist;
                p->sur = hsur;
                p->sur2_list = h2list;
                p->sur2 = hsur2;
                p->flags |= hflags;
            } else {
                /* A half-sibling or a child living with a relative. */
                p->sur_list = (uint8_t)(ho * 2);
                p->sur = (uint16_t)s_list_pick(r, &g->lists[ho][2]);
            }
            if (sex == 2 && og->n_girl_surname > 0 && s_below(r, 100) < og->girl_surname_pct) {
                p->sur_list = (uint8_t)(ho * 2 + 1);
                p->sur = (uint16_t)s_list_pick(r, &g->lists[ho][3]);
                p->flags &= (uint8_t) ~(S_F_COMPOUND | S_F_SEP_SPACE);
            }
            /* The surname a child changes to (or from): a step-parent's, often
             * from the same community. */
            {
                size_t ao = s_chance(r, 0.5) ? ho : s_pick_origin(g);

                p->alt_list = (uint8_t)(ao * 2);
                p->alt = (uint16_t)s_list_pick(r, &g->lists[ao][2]);
                if (p->alt_list == p->sur_list && p->alt == p->sur)
                    p->alt = (uint16_t)((p->alt + 1) % g->lists[ao][2].n);
            }
            rc = s_nhs_next(g, p);
            if (rc == 0)
                rc = s_upn_next(g, p, school);
            if (rc != 0)
                return rc;
            s_memberships(g, p);
        }
        i += hs;
    }
    return 0;
}

/* ---- rendering a child's identity ------------------------------------------ */

static const char *
s_surname_of(const struct s_gen *g, int list, unsigned idx, int female)
{
    const struct xl_gen_name *nm = &g->lists[list / 2][list % 2 ? 3 : 2].v[idx];

    return female && nm->female != NULL ? nm->female : nm->name;
}

static void
s_person_first(const struct s_gen *g, const struct s_person *p, char *out, size_t outlen)
{
    int female = (p->flags & S_F_FEMALE) != 0;
    const char *nm = g->lists[p->first_origin][female ? 1 : 0].v[p->first].name;

    if (p->flags & S_F_PREFIX)
        snprintf(out, outlen, "%s %s", xl_gen_origins[p->first_origin].male_prefix, nm);
    else
        snprintf(out, outlen, "%s", nm);
}

static void
s_person_surname(const struct s_gen *g, const struct s_person *p, int alt, char *out, size_t outlen)
{
    int female = (p->flags & S_F_FEMALE) != 0;

    if (alt) {
        snprintf(out, outlen, "%s", s_surname_of(g, p->alt_list, p->alt, female));
    } else if (p->flags & S_F_COMPOUND) {
        snprintf(out, outlen, "%s%c%s", s_surname_of(g, p->sur_list, p->sur, female),
                 p->flags & S_F_SEP_SPACE ? ' ' : '-',
                 s_surname_of(g, p->sur2_list, p->sur2, female));
    } else {
        snprintf(out, outlen, "%s", s_surname_of(g, p->sur_list, p->sur, female));
    }
}

static void
s_postcode_str(const struct s_gen *g, const struct s_postcode *pc, char out[16])
{
    snprintf(out, 16, "%s %u%c%c", g->districts[pc->district].name, (unsigned)pc->sector,
             pc->unit[0], pc->unit[1]);
}

/* ---- records and their errors -------------------------------------------------- */

struct s_rec {
    char first[S_NAME_BYTES], sur[S_NAME_BYTES];
    int y, m, d;
    int sex; /* 0 not known, 1 male, 2 female */
    char pc[16];
    char nhs[16]; /* ten digits or empty */
    char upn[16]; /* thirteen characters or empty */
    uint32_t kinds;
};

/* Relative weights of error kinds by file (the programme's last); 0 where a
 * kind cannot occur. The police system folds every name to ASCII, so it has no
 * per-record kind. A programme worker types in what the referral form says,
 * often a known-as name and an address the family has since left. */
static const unsigned s_kind_w[XL_GEN_NERROR][XL_GEN_NFILE] = {
    [XL_GEN_E_SURNAME_CHANGE] = {4, 3, 4, 5, 5},  [XL_GEN_E_SURNAME_PART] = {4, 3, 3, 3, 3},
    [XL_GEN_E_NICKNAME] = {12, 4, 2, 8, 10},      [XL_GEN_E_SPELLING] = {6, 5, 4, 6, 6},
    [XL_GEN_E_NAME_SWAP] = {3, 3, 1, 3, 2},       [XL_GEN_E_TYPO_SUB] = {10, 10, 8, 10, 10},
    [XL_GEN_E_TYPO_DEL] = {7, 7, 6, 7, 7},        [XL_GEN_E_TYPO_INS] = {6, 6, 5, 6, 6},
    [XL_GEN_E_TYPO_TRANS] = {7, 7, 6, 7, 7},      [XL_GEN_E_DIACRITICS] = {0, 3, 2, 3, 3},
    [XL_GEN_E_PUNCT] = {4, 4, 3, 4, 4},           [XL_GEN_E_CASE] = {3, 2, 3, 3, 3},
    [XL_GEN_E_SPACES] = {3, 3, 3, 3, 3},          [XL_GEN_E_DOB_SWAP] = {4, 4, 2, 5, 5},
    [XL_GEN_E_DOB_DAY] = {4, 3, 2, 4, 4},         [XL_GEN_E_DOB_YEAR] = {3, 2, 1, 3, 3},
    [XL_GEN_E_OLD_POSTCODE] = {12, 8, 6, 14, 14}, [XL_GEN_E_MISSING_POSTCODE] = {6, 3, 2, 5, 4},
    [XL_GEN_E_MISSING_NHS] = {0, 6, 0, 0, 0},     [XL_GEN_E_MISSING_SEX] = {4, 2, 2, 3, 2},
    [XL_GEN_E_DUPLICATE] = {0, 0, 0, 0, 0},
};

static const char *
s_alias_find(const struct xl_gen_alias *t, size_t n, const char *name, struct s_rng *r,
             int both_ways)
{
    const char *cand[16];
    size_t nc = 0;

    for (size_t i = 0; i < n && nc < 16; i++) {
        if (strcmp(t[i].name, name) == 0)
            cand[nc++] = t[i].alias;
        else if (both_ways && strcmp(t[i].alias, name) == 0)
            cand[nc++] = t[i].name;
    }
    return nc == 0 ? NULL : r == NULL ? cand[0] : cand[s_below(r, (uint32_t)nc)];
}

/* A spelling variant of one space-separated word of s, written to out. */
static int
s_spelling(const char *s, struct s_rng *r, char *out, size_t outlen)
{
    char buf[S_NAME_BYTES];
    char *save = NULL;
    const char *words[8];
    size_t nw = 0;
    const char *alt[8];
    size_t which[8], nc = 0, o = 0;

    snprintf(buf, sizeof buf, "%s", s);
    for (char *t = strtok_r(buf, " ", &save); t != NULL && nw < 8; t = strtok_r(NULL, " ", &save))
        words[nw++] = t;
    for (size_t i = 0; i < nw; i++) {
        const char *a = s_alias_find(xl_gen_spellings, xl_gen_n_spellings, words[i], r, 1);

        if (a != NULL) {
            alt[nc] = a;
            which[nc++] = i;
        }
    }
    if (nc == 0)
        return 0;
    if (r != NULL) {
        size_t k = s_below(r, (uint32_t)nc);

        words[which[k]] = alt[k];
    }
    out[0] = '\0';
    for (size_t i = 0; i < nw; i++)
        o += (size_t)snprintf(out + o, o < outlen ? outlen - o : 0, "%s%s", i ? " " : "", words[i]);
    return 1;
}

static int
s_has_nickname(const char *first, int prefix)
{
    return prefix || s_alias_find(xl_gen_nicknames, xl_gen_n_nicknames, first, NULL, 0) != NULL;
}

static const char *const s_kbd[26] = {
    "qwsz",   "vghn",   "xdfv",  "serfcx", "wrds", "drtgvc", "ftyhbv", "gyujnb", "uojk",
    "huikmn", "jiolm,", "kop,.", "njk,",   "bhjm", "ipkl",   "ol",     "wa",     "etdf",
    "awedxz", "ryfg",   "yihj",  "cfgb",   "qeas", "zsdc",   "tugh",   "asx",
};

/* A keyboard neighbour of c, in c's case. */
static int32_t
s_neighbour(int32_t c, struct s_rng *r)
{
    int upper = c >= 'A' && c <= 'Z';
    int32_t lc = upper ? c + 32 : c;
    const char *nb;
    int32_t out;

    if (lc < 'a' || lc > 'z')
        return "aeinorst"[s_below(r, 8)];
    nb = s_kbd[lc - 'a'];
    out = (unsigned char)nb[s_below(r, (uint32_t)strlen(nb))];
    if (upper && out >= 'a' && out <= 'z')
        out -= 32;
    return out;
}

/* A position of a letter in cp[0..n), the first letter less often: typists
 * get initials right. -1 when there is none. */
static int
s_letter_pos(const int32_t *cp, size_t n, struct s_rng *r, int need_next_letter)
{
    for (int t = 0; t < 12; t++) {
        size_t i = (n > 1 && s_chance(r, 0.85)) ? 1 + s_below(r, (uint32_t)(n - 1))
                                                : s_below(r, (uint32_t)n);

        if (!s_is_letter(cp[i]))
            continue;
        if (need_next_letter && (i + 1 >= n || !s_is_letter(cp[i + 1]) || cp[i + 1] == cp[i]))
            continue;
        return (int)i;
    }
    return -1;
}

static int
s_is_upper(int32_t c)
{
    return utf8proc_tolower(c) != c;
}

static int32_t
s_with_case(int32_t c, int upper)
{
    return upper ? utf8proc_toupper(c) : utf8proc_tolower(c);
}

/* A typo keeps the look of the name: the letter that ends up first in a word
 * takes the capital ("Ayaan" -> "Yaaan", not "yAaan"). */
static int
s_typo(char *name, int kind, struct s_rng *r)
{
    int32_t cp[S_NAME_CPS + 2];
    size_t n = s_u8_decode(name, cp, S_NAME_CPS);
    int i;

    if (n < 2)
        return 0;
    switch (kind) {
    case XL_GEN_E_TYPO_SUB:
        i = s_letter_pos(cp, n, r, 0);
        if (i < 0)
            return 0;
        {
            int32_t c = s_neighbour(cp[i], r);

            if (c == cp[i])
                c = c == 'e' ? 'a' : 'e';
            cp[i] = c;
        }
        break;
    case XL_GEN_E_TYPO_DEL:
        if (n < 3)
            return 0;
        i = s_letter_pos(cp, n, r, 0);
        if (i < 0)
            return 0;
        if (s_is_upper(cp[i]) && (size_t)i + 1 < n)
            cp[i + 1] = s_with_case(cp[i + 1], 1);
        memmove(cp + i, cp + i + 1, (n - (size_t)i - 1) * sizeof *cp);
        n--;
        break;
    case XL_GEN_E_TYPO_INS:
        i = s_letter_pos(cp, n, r, 0);
        if (i < 0)
            return 0;
        memmove(cp + i + 1, cp + i, (n - (size_t)i) * sizeof *cp);
        /* A doubled letter (Philip -> Phillip) or a neighbouring key. */
        cp[i + 1] = s_chance(r, 0.5) ? cp[i] : s_neighbour(cp[i], r);
        if (s_is_upper(cp[i]) && (size_t)i + 2 <= n && !s_is_upper(cp[i + 2]))
            cp[i + 1] = s_with_case(cp[i + 1], 0);
        n++;
        break;
    case XL_GEN_E_TYPO_TRANS: {
        int32_t t;

        i = s_letter_pos(cp, n, r, 1);
        if (i < 0)
            return 0;
        t = cp[i];
        cp[i] = s_with_case(cp[i + 1], s_is_upper(cp[i]));
        cp[i + 1] = s_with_case(t, s_is_upper(cp[i + 1]));
        break;
    }
    default: return 0;
    }
    s_u8_encode(cp, n, name, S_NAME_BYTES);
    return 1;
}

static void
s_case(char *s, int upper)
{
    int32_t cp[S_NAME_CPS];
    size_t n = s_u8_decode(s, cp, S_NAME_CPS);

    for (size_t i = 0; i < n; i++)
        cp[i] = upper ? utf8proc_toupper(cp[i]) : utf8proc_tolower(cp[i]);
    s_u8_encode(cp, n, s, S_NAME_BYTES);
}

/* Replaces the first occurrence of `from` in s by `to`. */
static int
s_replace(char *s, const char *from, const char *to)
{
    char *at = strstr(s, from);
    char tail[S_NAME_BYTES];

    if (at == NULL)
        return 0;
    snprintf(tail, sizeof tail, "%s", at + strlen(from));
    snprintf(at, S_NAME_BYTES - (size_t)(at - s), "%s%s", to, tail);
    return 1;
}

static int
s_fold_name(char *s)
{
    char out[S_NAME_BYTES];
    int k = xl_gen_ascii_fold(s, out, sizeof out);

    if (k <= 0)
        return 0;
    memcpy(s, out, strlen(out) + 1);
    return 1;
}

static int
s_applicable(const struct s_gen *g, const struct s_person *p, const struct s_rec *rec, int kind,
             int agency)
{
    char tmp[S_NAME_BYTES];

    switch (kind) {
    case XL_GEN_E_SURNAME_PART:
        return (p->flags & S_F_COMPOUND) || strchr(rec->sur, ' ') || strchr(rec->sur, '-');
    case XL_GEN_E_NICKNAME: return s_has_nickname(rec->first, p->flags & S_F_PREFIX);
    case XL_GEN_E_SPELLING:
        return s_spelling(rec->first, NULL, tmp, sizeof tmp) ||
               s_spelling(rec->sur, NULL, tmp, sizeof tmp);
    case XL_GEN_E_DIACRITICS: return !s_ascii(rec->first) || !s_ascii(rec->sur);
    case XL_GEN_E_PUNCT:
        return strpbrk(rec->first, "'-") != NULL || strpbrk(rec->sur, "'-") != NULL;
    case XL_GEN_E_DOB_SWAP: return rec->d <= 12 && rec->d != rec->m;
    case XL_GEN_E_MISSING_NHS: return rec->nhs[0] != '\0';
    default: (void)g; return s_kind_w[kind][agency] > 0;
    }
}

static int
s_apply(const struct s_gen *g, const struct s_person *p, struct s_rec *rec, int kind, int agency,
        struct s_rng *r)
{
    char tmp[S_NAME_BYTES];

    switch (kind) {
    case XL_GEN_E_SURNAME_CHANGE: s_person_surname(g, p, 1, rec->sur, sizeof rec->sur); return 1;
    case XL_GEN_E_SURNAME_PART: {
        char *sep = strpbrk(rec->sur, " -");

        if (sep == NULL)
            return 0;
        if (s_chance(r, 0.6))
            *sep = '\0';
        else
            memmove(rec->sur, sep + 1, strlen(sep + 1) + 1);
        return 1;
    }
    case XL_GEN_E_NICKNAME: {
        const char *nick;

        if ((p->flags & S_F_PREFIX) && s_chance(r, 0.6)) {
            char *sp = strchr(rec->first, ' ');

            if (sp != NULL) {
                memmove(rec->first, sp + 1, strlen(sp + 1) + 1);
                return 1;
            }
        }
        nick = s_alias_find(xl_gen_nicknames, xl_gen_n_nicknames, rec->first, r, 0);
        if (nick == NULL)
            return 0;
        /* Police systems often keep the known-as name beside the real one. */
        if (agency == XL_GEN_POLICE && s_chance(r, 0.2)) {
            snprintf(tmp, sizeof tmp, "%.180s \"%.60s\"", rec->first, nick);
            memcpy(rec->first, tmp, strlen(tmp) + 1);
        } else {
            snprintf(rec->first, sizeof rec->first, "%s", nick);
        }
        return 1;
    }
    case XL_GEN_E_SPELLING: {
        int f = s_spelling(rec->first, NULL, tmp, sizeof tmp);
        int s = s_spelling(rec->sur, NULL, tmp, sizeof tmp);
        char *target = f && (!s || s_chance(r, 0.5)) ? rec->first : s ? rec->sur : NULL;

        if (target == NULL || !s_spelling(target, r, tmp, sizeof tmp))
            return 0;
        memcpy(target, tmp, strlen(tmp) + 1);
        return 1;
    }
    case XL_GEN_E_NAME_SWAP:
        memcpy(tmp, rec->first, sizeof tmp);
        memcpy(rec->first, rec->sur, sizeof rec->first);
        memcpy(rec->sur, tmp, sizeof rec->sur);
        return 1;
    case XL_GEN_E_TYPO_SUB:
    case XL_GEN_E_TYPO_DEL:
    case XL_GEN_E_TYPO_INS:
    case XL_GEN_E_TYPO_TRANS: {
        int sur_first = s_chance(r, 0.55);

        if (s_typo(sur_first ? rec->sur : rec->first, kind, r))
            return 1;
        return s_typo(sur_first ? rec->first : rec->sur, kind, r);
    }
    case XL_GEN_E_DIACRITICS: {
        int a = s_fold_name(rec->first);
        int b = s_fold_name(rec->sur);

        return a || b;
    }
    case XL_GEN_E_PUNCT: {
        char *s = strpbrk(rec->sur, "'-") != NULL ? rec->sur : rec->first;
        uint32_t v = s_below(r, 3);

        if (strchr(s, '\'') != NULL)
            return s_replace(s, "'",
                             v == 0                              ? ""
                             : v == 1 || agency == XL_GEN_POLICE ? " "
                                                                 : "\xE2\x80\x99");
        return s_replace(s, "-", v == 0 ? "" : " ");
    }
    case XL_GEN_E_CASE:
        switch (s_below(r, 4)) {
        case 0: s_case(rec->sur, 1); break;
        case 1: s_case(rec->sur, 0); break;
        case 2: s_case(rec->first, 0); break;
        default:
            s_case(rec->first, 1);
            s_case(rec->sur, 1);
            break;
        }
        return 1;
    case XL_GEN_E_SPACES:
        if (strchr(rec->sur, ' ') != NULL && s_chance(r, 0.5))
            return s_replace(rec->sur, " ", "  ");
        if (strchr(rec->sur, '-') != NULL && s_chance(r, 0.5))
            return s_replace(rec->sur, "-", " - ");
        if (s_chance(r, 0.5)) {
            size_t l = strlen(rec->sur);

            if (l + 2 >= sizeof rec->sur)
                return 0;
            rec->sur[l] = ' ';
            rec->sur[l + 1] = '\0';
        } else {
            size_t l = strlen(rec->first);

            if (l + 2 >= sizeof rec->first)
                return 0;
            memmove(rec->first + 1, rec->first, l + 1);
            rec->first[0] = ' ';
        }
        return 1;
    case XL_GEN_E_DOB_SWAP: {
        int t = rec->d;

        rec->d = rec->m;
        rec->m = t;
        return 1;
    }
    case XL_GEN_E_DOB_DAY: {
        int32_t z = s_days(rec->y, rec->m, rec->d) + (s_chance(r, 0.5) ? 1 : -1);

        s_civil(z, &rec->y, &rec->m, &rec->d);
        return 1;
    }
    case XL_GEN_E_DOB_YEAR:
        rec->y += s_chance(r, 0.5) ? 1 : -1;
        if (rec->d > s_mdays(rec->y, rec->m))
            rec->d = s_mdays(rec->y, rec->m);
        return 1;
    case XL_GEN_E_OLD_POSTCODE: s_postcode_str(g, &p->old, rec->pc); return 1;
    case XL_GEN_E_MISSING_POSTCODE: rec->pc[0] = '\0'; return 1;
    case XL_GEN_E_MISSING_NHS: rec->nhs[0] = '\0'; return 1;
    case XL_GEN_E_MISSING_SEX: rec->sex = 0; return 1;
    default: return 0;
    }
}

static int
s_pick_kind(const struct s_gen *g, const struct s_person *p, const struct s_rec *rec, int agency,
            uint32_t taken, struct s_rng *r)
{
    unsigned total = 0;

    for (int k = 0; k < XL_GEN_NERROR; k++)
        total += s_kind_w[k][agency];
    for (int t = 0; t < 16; t++) {
        uint32_t x = s_below(r, total);
        int k = 0;

        while (x >= s_kind_w[k][agency])
            x -= s_kind_w[k++][agency];
        if (!(taken >> k & 1) && s_applicable(g, p, rec, k, agency))
            return k;
    }
    return (taken >> XL_GEN_E_TYPO_SUB & 1) ? -1 : XL_GEN_E_TYPO_SUB;
}

static void
s_invalid(const struct s_gen *g, struct s_rec *rec, int agency, struct s_rng *r)
{
    int kinds[XL_GEN_NINVALID], nk = 0, k;

    kinds[nk++] = XL_GEN_I_DATE;
    if (rec->nhs[0] != '\0')
        kinds[nk++] = XL_GEN_I_NHS;
    if (rec->pc[0] != '\0')
        kinds[nk++] = XL_GEN_I_POSTCODE;
    if (rec->upn[0] != '\0')
        kinds[nk++] = XL_GEN_I_UPN;
    k = kinds[s_below(r, (uint32_t)nk)];
    switch (k) {
    case XL_GEN_I_DATE: {
        static const int md[6][2] = {{2, 30}, {2, 31}, {4, 31}, {6, 31}, {9, 31}, {11, 31}};
        uint32_t i = s_below(r, s_leap(rec->y) ? 6 : 7);

        if (i == 6) {
            rec->m = 2;
            rec->d = 29;
        } else {
            rec->m = md[i][0];
            rec->d = md[i][1];
        }
        break;
    }
    case XL_GEN_I_NHS:
        rec->nhs[9] = (char)('0' + (rec->nhs[9] - '0' + 1 + (int)s_below(r, 9)) % 10);
        break;
    case XL_GEN_I_POSTCODE: {
        size_t l = strlen(rec->pc);

        switch (s_below(r, 4)) {
        case 0: rec->pc[l - 3] = 'O'; break;  /* letter O for zero */
        case 1: rec->pc[l - 1] = '\0'; break; /* unit letter lost */
        case 2: rec->pc[l - 4] = '\0'; break; /* outward code only */
        default: rec->pc[l - 1] = (char)('0' + s_below(r, 10)); break;
        }
        break;
    }
    default: {
        char c;

        do
            c = s_upn_letters[s_below(r, (uint32_t)(sizeof s_upn_letters - 1))];
        while (c == rec->upn[0]);
        rec->upn[0] = c;
        break;
    }
    }
    g->sum->invalid[k]++;
    g->sum->invalid_by_agency[agency]++;
}

/* Builds record `copy` (0, or 1 for a duplicate) of child pi for agency a
 * (XL_GEN_PROGRAMME: the programme's case, or 1 for a re-referral). */
static void
s_record(const struct s_gen *g, size_t pi, int a, int copy, struct s_rec *rec)
{
    const struct s_person *p = &g->p[pi];
    const struct xl_gen_opts *o = g->o;
    struct s_rng r;
    int nerr = 0;
    uint32_t counted;

    s_rng_stream(&r, o->seed, 2, (uint64_t)a, pi, (uint64_t)copy);
    memset(rec, 0, sizeof *rec);
    s_person_first(g, p, rec->first, sizeof rec->first);
    s_person_surname(g, p, 0, rec->sur, sizeof rec->sur);
    s_civil(p->dob, &rec->y, &rec->m, &rec->d);
    rec->sex = p->flags & S_F_FEMALE ? 2 : 1;
    s_postcode_str(g, &p->home, rec->pc);
    if (a == XL_GEN_HEALTH || (a == XL_GEN_SOCIAL && s_chance(&r, 0.45)) ||
        (a == XL_GEN_PROGRAMME && s_chance(&r, 0.3)))
        snprintf(rec->nhs, sizeof rec->nhs, "%03u%06u%u", (unsigned)p->nhs_prefix,
                 (unsigned)p->nhs_body, (unsigned)p->nhs_check);
    if (a == XL_GEN_EDUCATION || (a == XL_GEN_SOCIAL && s_chance(&r, 0.35))) {
        char body[13];

        s_upn_body(p, body);
        snprintf(rec->upn, sizeof rec->upn, "%c%s", p->upn_check, body);
    }

    if (copy) {
        nerr = s_chance(&r, 0.8) ? 1 : 2;
        rec->kinds |= 1u << XL_GEN_E_DUPLICATE;
    } else if (s_chance(&r, o->error_rate)) {
        uint32_t u = s_below(&r, 100);

        nerr = u < 80 ? 1 : u < 96 ? 2 : 3;
    }
    {
        uint32_t chosen = 0;

        for (int e = 0; e < nerr; e++) {
            int k = s_pick_kind(g, p, rec, a, chosen, &r);

            if (k >= 0)
                chosen |= 1u << k;
        }
        /* Applied in enum order, so a nickname is looked up before a typo. */
        for (int k = 0; k < XL_GEN_NERROR; k++)
            if ((chosen >> k & 1) && s_apply(g, p, rec, k, a, &r))
                rec->kinds |= 1u << k;
    }
    if (a == XL_GEN_POLICE) {
        int f1 = s_fold_name(rec->first);
        int f2 = s_fold_name(rec->sur);

        if (f1 || f2)
            rec->kinds |= 1u << XL_GEN_E_DIACRITICS;
    }
    if (o->invalid_rate > 0 && s_chance(&r, o->invalid_rate))
        s_invalid(g, rec, a, &r);

    /* Presentation that differs by system and is not an error. */
    if (a == XL_GEN_HEALTH && s_chance(&r, 0.35)) {
        s_case(rec->first, 1);
        s_case(rec->sur, 1);
    }
    if (rec->pc[0] != '\0') {
        static const double nospace[XL_GEN_NFILE] = {0.25, 0.05, 0.02, 0.10, 0.15};
        static const double lower[XL_GEN_NFILE] = {0.10, 0.0, 0.0, 0.05, 0.05};

        if (s_chance(&r, nospace[a]))
            s_replace(rec->pc, " ", "");
        if (s_chance(&r, lower[a]))
            for (char *c = rec->pc; *c != '\0'; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c + 32);
    }
    if (rec->nhs[0] != '\0' && s_chance(&r, a == XL_GEN_HEALTH ? 0.85 : 0.5)) {
        char t[16];

        snprintf(t, sizeof t, "%.3s %.3s %.4s", rec->nhs, rec->nhs + 3, rec->nhs + 6);
        memcpy(rec->nhs, t, sizeof t);
    }

    counted = rec->kinds;
    for (int k = 0; k < XL_GEN_NERROR; k++)
        if (counted >> k & 1)
            g->sum->errors[k]++;
    if (counted != 0)
        g->sum->with_error[a]++;
}

/* ---- outcomes: per child and agency, the same for both copies of a duplicate -- */

struct s_outcome {
    int count, flag1, flag2, tenths;
    int32_t date;     /* INT32_MIN when none */
    const char *text; /* the programme's referral source */
};

static int32_t
s_uniform_day(struct s_rng *r, int32_t lo, int32_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int32_t)s_below(r, (uint32_t)(hi - lo + 1));
}

static void
s_outcome(const struct s_gen *g, size_t pi, int a, struct s_outcome *out)
{
    const struct s_person *p = &g->p[pi];
    const struct xl_gen_opts *o = g->o;
    int police = (p->agencies >> XL_GEN_POLICE) & 1;
    int lac = (p->flags & S_F_LAC) != 0;
    int age = s_age(p->dob, o->ref_y, o->ref_m, o->ref_d);
    int32_t ref = s_days(o->ref_y, o->ref_m, o->ref_d);
    struct s_rng r;
    int y, m, d;

    s_rng_stream(&r, o->seed, 3, (uint64_t)a, pi, 0);
    memset(out, 0, sizeof *out);
    out->date = INT32_MIN;
    s_civil(p->dob, &y, &m, &d);
    switch (a) {
    case XL_GEN_POLICE: {
        static const double extra[3] = {0.5, 1.2, 2.5};
        int32_t lo = s_days_clamped(y + 10, m, d);

        out->count = 1 + s_geometric(&r, extra[p->risk] + (lac ? 0.5 : 0), 60);
        out->flag1 = out->count >= 2 && s_chance(&r, 0.85);
        if (lo < ref - 6 * 365)
            lo = ref - 6 * 365;
        out->date = s_uniform_day(&r, lo, ref - 1);
        break;
    }
    case XL_GEN_HEALTH: {
        static const double gp[3] = {0.985, 0.96, 0.90};
        static const double imms[3] = {0.92, 0.84, 0.72};
        static const double mh[3] = {0.01, 0.05, 0.25};
        double lam =
            mh[p->risk] * (police ? 2.0 : 1.0) * (lac ? 1.8 : 1.0) * (age >= 14 ? 1.5 : 0.6);

        out->flag1 = s_chance(&r, lac ? 0.99 : gp[p->risk]);
        out->flag2 = s_chance(&r, imms[p->risk] * (lac ? 0.95 : 1.0));
        out->count = s_geometric(&r, lam, 20);
        break;
    }
    case XL_GEN_EDUCATION: {
        static const double mean[3] = {95.0, 90.0, 82.0};
        static const double sd[3] = {3.5, 6.0, 10.0};
        static const double excl[3] = {0.03, 0.2, 0.7};
        static const double neet[3] = {0.04, 0.12, 0.30};
        /* Irwin-Hall: four uniforms give a bell shape without libm. */
        double z = (s_unif(&r) + s_unif(&r) + s_unif(&r) + s_unif(&r) - 2.0) / 0.57735;
        double mu = mean[p->risk] - (police ? 7 : 0) - (lac ? 2 : 0) - (age >= 16 ? 2 : 0);
        double att;

        if (s_chance(&r, 0.03))
            mu -= 15; /* persistent absence */
        att = mu + z * sd[p->risk];
        att = att < 0 ? 0 : att > 100 ? 100 : att;
        out->tenths = (int)(att * 10.0 + 0.5);
        out->count = s_geometric(&r, excl[p->risk] + (police ? 0.8 : 0), 30);
        out->flag1 =
            age >= 16 && s_chance(&r, neet[p->risk] + (police ? 0.15 : 0) + (lac ? 0.1 : 0));
        break;
    }
    default: {
        int32_t lo = p->dob > ref - 18 * 365 ? p->dob : ref - 18 * 365;

        out->flag1 = lac;
        out->flag2 = lac ? s_chance(&r, 0.05) : s_chance(&r, 0.55);
        if (lac)
            out->date = s_uniform_day(&r, lo, ref - 1);
        break;
    }
    }
}

/* ---- writing ------------------------------------------------------------------- */

static void
s_field(FILE *f, const char *s, int first)
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

static const char *
s_yn(int b)
{
    return b ? "Y" : "N";
}

static void
s_date_dmy(int32_t z, char out[16])
{
    int y, m, d;

    if (z == INT32_MIN) {
        out[0] = '\0';
        return;
    }
    s_civil(z, &y, &m, &d);
    snprintf(out, 16, "%02d/%02d/%04d", d, m, y);
}

static const char *const s_agency_names[XL_GEN_NFILE] = {"police", "health", "education", "social",
                                                         "programme"};
static const char *const s_id_cols[XL_GEN_NFILE] = {"Person ID", "LOCAL_PATIENT_ID", "Pupil ID",
                                                    "Child ID", "Case Ref"};
static const char *const s_id_prefix[XL_GEN_NFILE] = {"YJ", "H", "E", "CS", "TS"};
static const char *const s_eol[XL_GEN_NFILE] = {"\r\n", "\n", "\n", "\r\n", "\r\n"};

static const char *const s_headers[XL_GEN_NFILE] = {
    "Person ID,Forename,Surname,Date of Birth,Gender,Postcode,Offence Count,Reoffended,"
    "First Offence Date",
    "LOCAL_PATIENT_ID,NHS_NUMBER,GIVEN_NAME,FAMILY_NAME,DOB,SEX,POSTCODE,GP_REGISTERED,"
    "IMMS_UP_TO_DATE,MH_CRISIS_ADMISSIONS",
    "Pupil ID,UPN,Legal Forename,Legal Surname,DOB,Gender,Postcode,Attendance %,Exclusions,NEET",
    "Child ID,First Name,Last Name,Date of Birth,Sex,Postcode,NHS Number,UPN,Looked After,"
    "CIN Plan,Care Entry Date",
    "Case Ref,First Name,Last Name,DOB,Sex,Postcode,NHS Number,Referral Source,Support Start,"
    "Sessions Attended",
};

static void
s_write_row(FILE *f, int a, const char *id, const struct s_rec *rec, const struct s_outcome *oc)
{
    char dob[24], num[32], date[16];

    switch (a) {
    case XL_GEN_POLICE:
        snprintf(dob, sizeof dob, "%02d/%02d/%04d", rec->d, rec->m, rec->y);
        s_field(f, id, 1);
        s_field(f, rec->first, 0);
        s_field(f, rec->sur, 0);
        s_field(f, dob, 0);
        s_field(f, rec->sex == 1 ? "Male" : rec->sex == 2 ? "Female" : "Unknown", 0);
        s_field(f, rec->pc, 0);
        snprintf(num, sizeof num, "%d", oc->count);
        s_field(f, num, 0);
        s_field(f, s_yn(oc->flag1), 0);
        s_date_dmy(oc->date, date);
        s_field(f, date, 0);
        break;
    case XL_GEN_HEALTH:
        snprintf(dob, sizeof dob, "%04d-%02d-%02d", rec->y, rec->m, rec->d);
        s_field(f, id, 1);
        s_field(f, rec->nhs, 0);
        s_field(f, rec->first, 0);
        s_field(f, rec->sur, 0);
        s_field(f, dob, 0);
        s_field(f, rec->sex == 1 ? "1" : rec->sex == 2 ? "2" : "9", 0);
        s_field(f, rec->pc, 0);
        s_field(f, s_yn(oc->flag1), 0);
        s_field(f, s_yn(oc->flag2), 0);
        snprintf(num, sizeof num, "%d", oc->count);
        s_field(f, num, 0);
        break;
    case XL_GEN_EDUCATION:
        snprintf(dob, sizeof dob, "%04d%02d%02d", rec->y, rec->m, rec->d);
        s_field(f, id, 1);
        s_field(f, rec->upn, 0);
        s_field(f, rec->first, 0);
        s_field(f, rec->sur, 0);
        s_field(f, dob, 0);
        s_field(f, rec->sex == 1 ? "M" : rec->sex == 2 ? "F" : "", 0);
        s_field(f, rec->pc, 0);
        snprintf(num, sizeof num, "%d.%d", oc->tenths / 10, oc->tenths % 10);
        s_field(f, num, 0);
        snprintf(num, sizeof num, "%d", oc->count);
        s_field(f, num, 0);
        s_field(f, s_yn(oc->flag1), 0);
        break;
    case XL_GEN_SOCIAL:
        snprintf(dob, sizeof dob, "%d/%d/%04d", rec->d, rec->m, rec->y);
        s_field(f, id, 1);
        s_field(f, rec->first, 0);
        s_field(f, rec->sur, 0);
        s_field(f, dob, 0);
        s_field(f, rec->sex == 1 ? "M" : rec->sex == 2 ? "F" : "U", 0);
        s_field(f, rec->pc, 0);
        s_field(f, rec->nhs, 0);
        s_field(f, rec->upn, 0);
        s_field(f, s_yn(oc->flag1), 0);
        s_field(f, s_yn(oc->flag2), 0);
        s_date_dmy(oc->date, date);
        s_field(f, date, 0);
        break;
    default:
        snprintf(dob, sizeof dob, "%02d/%02d/%04d", rec->d, rec->m, rec->y);
        s_field(f, id, 1);
        s_field(f, rec->first, 0);
        s_field(f, rec->sur, 0);
        s_field(f, dob, 0);
        s_field(f, rec->sex == 1 ? "M" : rec->sex == 2 ? "F" : "", 0);
        s_field(f, rec->pc, 0);
        s_field(f, rec->nhs, 0);
        s_field(f, oc->text, 0);
        s_date_dmy(oc->date, date);
        s_field(f, date, 0);
        snprintf(num, sizeof num, "%d", oc->count);
        s_field(f, num, 0);
        break;
    }
    fputs(s_eol[a], f);
}

static FILE *
s_open(const char *dir, const char *name, char *path, size_t pathlen, int *rc, char *err,
       size_t errlen)
{
    FILE *f;

    if ((size_t)snprintf(path, pathlen, "%s/%s", dir, name) >= pathlen) {
        *rc = xl_err_set(err, errlen, XL_ERR_INVALID, "%s: output directory path too long", dir);
        return NULL;
    }
    f = fopen(path, "wb");
    if (f == NULL) {
        *rc = xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, 1u << 20);
    return f;
}

static int
s_close(FILE **f, const char *path, char *err, size_t errlen)
{
    int bad;

    if (*f == NULL)
        return 0;
    bad = ferror(*f);
    if (fclose(*f) != 0)
        bad = 1;
    *f = NULL;
    if (bad)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

/* Ids rise down a file with gaps (records closed or deleted since), as in a
 * real system's export sorted by id: s_id_first gives the value before the
 * first id and the width of all, s_id_next the next id of file a. */
static uint64_t
s_id_first(struct s_rng *r, size_t nrec, int *width)
{
    uint64_t lo = 1000000;

    *width = 7;
    while (lo <= (uint64_t)nrec * 10) {
        lo *= 10;
        (*width)++;
    }
    return lo + s_below(r, (uint32_t)lo);
}

static void
s_id_next(struct s_rng *r, int a, int width, uint64_t *next, char id[32])
{
    size_t pl = strlen(s_id_prefix[a]);

    *next += 1 + s_below(r, 8);
    memcpy(id, s_id_prefix[a], pl);
    s_digits(id + pl, *next, width);
    id[pl + (size_t)width] = '\0';
}

static int
s_write_agency(struct s_gen *g, int a, const char *dir, FILE *truth, char *err, size_t errlen)
{
    char path[4096], name[32], id[32];
    uint32_t *order = NULL;
    size_t nrec = 0, k = 0;
    uint64_t next;
    int width, rc;
    struct s_rng r;
    FILE *f;

    for (size_t i = 0; i < g->n; i++)
        nrec += (size_t)((g->p[i].agencies >> a) & 1) + ((g->p[i].agencies >> (4 + a)) & 1);
    order = malloc((nrec > 0 ? nrec : 1) * sizeof *order);
    if (order == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory for %zu %s records", nrec,
                          s_agency_names[a]);
    for (size_t i = 0; i < g->n; i++) {
        if ((g->p[i].agencies >> a) & 1)
            order[k++] = (uint32_t)(i << 1);
        if ((g->p[i].agencies >> (4 + a)) & 1)
            order[k++] = (uint32_t)(i << 1 | 1);
    }
    /* Each agency lists its records in its own order, with ids that are
     * unique within it and say nothing about the child. */
    s_rng_stream(&r, g->o->seed, 4, (uint64_t)a, 0, 0);
    for (size_t i = nrec; i > 1; i--) {
        size_t j = s_below(&r, (uint32_t)i);
        uint32_t t = order[i - 1];

        order[i - 1] = order[j];
        order[j] = t;
    }
    next = s_id_first(&r, nrec, &width);

    snprintf(name, sizeof name, "%s.csv", s_agency_names[a]);
    f = s_open(dir, name, path, sizeof path, &rc, err, errlen);
    if (f == NULL) {
        free(order);
        return rc;
    }
    fputs(s_headers[a], f);
    fputs(s_eol[a], f);
    for (size_t i = 0; i < nrec; i++) {
        size_t pi = order[i] >> 1;
        int copy = (int)(order[i] & 1);
        struct s_rec rec;
        struct s_outcome oc;

        s_id_next(&r, a, width, &next, id);
        s_record(g, pi, a, copy, &rec);
        s_outcome(g, pi, a, &oc);
        if (a == XL_GEN_SOCIAL && oc.flag1 && copy == 0)
            g->sum->looked_after++;
        s_write_row(f, a, id, &rec, &oc);
        fprintf(truth, "%s,%s,P%07zu\n", s_agency_names[a], id, pi + 1);
    }
    g->sum->records[a] = nrec;
    free(order);
    rc = s_close(&f, path, err, errlen);
    return rc;
}

/* ---- the programme caseload ------------------------------------------------------ */

/* One case: child pi supported from `start`; copy 1 is a re-referral. */
struct s_case {
    int32_t start;
    uint32_t pi;
    uint16_t sessions;
    uint8_t copy;
    uint8_t source; /* index into s_sources */
};

enum { S_SRC_POLICE = 0, S_SRC_SCHOOL, S_SRC_GP, S_SRC_CAMHS, S_SRC_SOCIAL, S_NSRC };
static const char *const s_sources[S_NSRC] = {"Police", "School", "GP", "CAMHS", "Social Care"};

/* Children are chosen by class: need (3) x known to social care (2) x police
 * (not known, known and reoffended, known and did not reoffend). */
#define S_NCLASS 18

static int
s_prog_class(const struct s_gen *g, size_t pi)
{
    const struct s_person *p = &g->p[pi];
    int police = 0;

    if ((p->agencies >> XL_GEN_POLICE) & 1) {
        struct s_outcome oc;

        s_outcome(g, pi, XL_GEN_POLICE, &oc);
        police = oc.flag1 ? 1 : 2;
    }
    return p->risk + 3 * ((int)((p->agencies >> XL_GEN_SOCIAL) & 1) + 2 * police);
}

static double
s_prog_weight(int c)
{
    static const double need[3] = {1.0, 1.5, 2.5};
    static const double police[3] = {1.0, 5.0, 10.0};

    return need[c % 3] * ((c / 3) % 2 ? 4.0 : 1.0) * police[c / 6];
}

/* The chance of each class being chosen, min(1, s * weight), with the scale s
 * found by bisection so that the expected number chosen is target. */
static void
s_prog_probs(const size_t n[S_NCLASS], double target, double p[S_NCLASS])
{
    double lo = 0, hi = 0;

    /* At hi every class is certain, so the sum is the whole population. */
    for (int c = 0; c < S_NCLASS; c++)
        if (1.0 / s_prog_weight(c) > hi)
            hi = 1.0 / s_prog_weight(c);
    for (int it = 0; it < 64; it++) {
        double mid = (lo + hi) / 2, sum = 0;

        for (int c = 0; c < S_NCLASS; c++) {
            double q = mid * s_prog_weight(c);

            sum += (double)n[c] * (q > 1 ? 1 : q);
        }
        if (sum < target)
            lo = mid;
        else
            hi = mid;
    }
    for (int c = 0; c < S_NCLASS; c++) {
        double q = hi * s_prog_weight(c);

        p[c] = q > 1 ? 1 : q;
    }
}

static void
s_prog_details(const struct s_gen *g, const struct s_person *p, struct s_rng *r, int32_t start,
               struct s_case *c)
{
    int32_t ref = s_days(g->o->ref_y, g->o->ref_m, g->o->ref_d);
    int police = (p->agencies >> XL_GEN_POLICE) & 1, social = (p->agencies >> XL_GEN_SOCIAL) & 1;
    unsigned w[S_NSRC] = {police ? 60u : 2u, 30, 10, 10u + 15u * p->risk, social ? 50u : 4u};
    unsigned total = 0, x;
    int sessions, weeks = (ref - start) / 7;

    c->start = start;
    for (int k = 0; k < S_NSRC; k++)
        total += w[k];
    x = s_below(r, total);
    c->source = 0;
    while (x >= w[c->source])
        x -= w[c->source++];
    /* Weekly sessions; some children never engage. */
    sessions = s_chance(r, 0.12) ? 0 : 1 + s_geometric(r, 9.0, 40);
    c->sessions = (uint16_t)(sessions < weeks ? sessions : weeks);
}

/* The cases of chosen child pi (one, or two after a re-referral) into c;
 * returns how many, and sets *event_after when the child's first offence or
 * care entry came after the first case started. */
static int
s_prog_cases(const struct s_gen *g, size_t pi, struct s_case c[2], int *event_after)
{
    const struct s_person *p = &g->p[pi];
    const struct xl_gen_opts *o = g->o;
    int32_t ref = s_days(o->ref_y, o->ref_m, o->ref_d), hi = ref - 1, lo, eight, start;
    int32_t offence = INT32_MIN, care = INT32_MIN, ev;
    struct s_outcome oc;
    struct s_rng r;
    int y, m, d, n = 1;

    s_rng_stream(&r, o->seed, 6, pi, 0, 0);
    s_civil(p->dob, &y, &m, &d);
    lo = s_days_clamped(o->ref_y - 3, o->ref_m, o->ref_d);
    eight = s_days_clamped(y + 8, m, d);
    if (lo < eight)
        lo = eight;
    if ((p->agencies >> XL_GEN_POLICE) & 1) {
        s_outcome(g, pi, XL_GEN_POLICE, &oc);
        offence = oc.date;
    }
    if (((p->agencies >> XL_GEN_SOCIAL) & 1) && (p->flags & S_F_LAC)) {
        s_outcome(g, pi, XL_GEN_SOCIAL, &oc);
        care = oc.date;
    }
    ev = offence > care ? offence : care;
    /* Most referrals follow what brought the child to notice, in the year
     * after it; the rest start at any time in the window. */
    if (ev != INT32_MIN && ev + 7 <= hi && ev + 365 >= lo && s_chance(&r, 0.8))
        start = s_uniform_day(&r, ev + 7 > lo ? ev + 7 : lo, ev + 365 < hi ? ev + 365 : hi);
    else
        start = s_uniform_day(&r, lo, hi);
    *event_after = (offence != INT32_MIN && offence > start) || (care != INT32_MIN && care > start);
    c[0].pi = c[1].pi = (uint32_t)pi;
    c[0].copy = 0;
    c[1].copy = 1;
    s_prog_details(g, p, &r, start, &c[0]);
    /* A case closed and opened again at least six months later. */
    if (start + 182 < hi && s_chance(&r, 0.06)) {
        s_prog_details(g, p, &r, s_uniform_day(&r, start + 182, hi), &c[1]);
        n = 2;
    }
    return n;
}

static int
s_case_cmp(const void *a, const void *b)
{
    const struct s_case *x = a, *y = b;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->pi != y->pi)
        return x->pi < y->pi ? -1 : 1;
    return (int)x->copy - (int)y->copy;
}

static int
s_write_programme(struct s_gen *g, const char *dir, FILE *truth, char *err, size_t errlen)
{
    struct xl_gen_summary *sum = g->sum;
    size_t count[S_NCLASS] = {0}, ncase = 0, cap = 0;
    double prob[S_NCLASS];
    char path[4096], id[32];
    struct s_case *cases = NULL;
    uint8_t *cls;
    uint64_t next;
    struct s_rng r;
    int width, rc = 0;
    FILE *f;

    cls = malloc(g->n);
    if (cls == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM,
                          "out of memory choosing the programme's children");
    for (size_t i = 0; i < g->n; i++) {
        cls[i] = (uint8_t)s_prog_class(g, i);
        count[cls[i]]++;
    }
    s_prog_probs(count, g->o->programme * (double)g->n, prob);
    /* Its own stream: the agency files never see these draws. */
    s_rng_stream(&r, g->o->seed, 5, 0, 0, 0);
    for (size_t i = 0; i < g->n; i++) {
        const struct s_person *p = &g->p[i];
        int after = 0;

        if (!s_chance(&r, prob[cls[i]]))
            continue;
        if (ncase + 2 > cap) {
            size_t nc = cap > 0 ? cap * 2 : 1024;
            struct s_case *t = realloc(cases, nc * sizeof *cases);

            if (t == NULL) {
                rc = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory for %zu programme cases",
                                nc);
                goto out;
            }
            cases = t;
            cap = nc;
        }
        ncase += (size_t)s_prog_cases(g, i, cases + ncase, &after);
        sum->persons[XL_GEN_PROGRAMME]++;
        sum->programme_police += (p->agencies >> XL_GEN_POLICE) & 1;
        sum->programme_social += (p->agencies >> XL_GEN_SOCIAL) & 1;
        sum->programme_event_after += (size_t)after;
    }
    sum->duplicates[XL_GEN_PROGRAMME] = ncase - sum->persons[XL_GEN_PROGRAMME];
    /* Case refs are given out as cases open, so the export, sorted by ref, is
     * in order of support start. */
    if (ncase > 1)
        qsort(cases, ncase, sizeof *cases, s_case_cmp);
    s_rng_stream(&r, g->o->seed, 4, XL_GEN_PROGRAMME, 0, 0);
    next = s_id_first(&r, ncase, &width);

    f = s_open(dir, "programme.csv", path, sizeof path, &rc, err, errlen);
    if (f == NULL)
        goto out;
    fputs(s_headers[XL_GEN_PROGRAMME], f);
    fputs(s_eol[XL_GEN_PROGRAMME], f);
    for (size_t i = 0; i < ncase; i++) {
        const struct s_case *c = &cases[i];
        struct s_outcome oc;
        struct s_rec rec;

        s_id_next(&r, XL_GEN_PROGRAMME, width, &next, id);
        s_record(g, c->pi, XL_GEN_PROGRAMME, c->copy, &rec);
        memset(&oc, 0, sizeof oc);
        oc.count = c->sessions;
        oc.date = c->start;
        oc.text = s_sources[c->source];
        s_write_row(f, XL_GEN_PROGRAMME, id, &rec, &oc);
        fprintf(truth, "%s,%s,P%07zu\n", s_agency_names[XL_GEN_PROGRAMME], id, (size_t)c->pi + 1);
    }
    sum->records[XL_GEN_PROGRAMME] = ncase;
    rc = s_close(&f, path, err, errlen);
out:
    free(cls);
    free(cases);
    return rc;
}

static void
s_tally(struct s_gen *g)
{
    struct xl_gen_summary *s = g->sum;

    s->people = g->n;
    for (size_t i = 0; i < g->n; i++) {
        const struct s_person *p = &g->p[i];
        size_t c[XL_GEN_NAGENCY];

        for (int a = 0; a < XL_GEN_NAGENCY; a++) {
            c[a] = (size_t)((p->agencies >> a) & 1) + ((p->agencies >> (4 + a)) & 1);
            s->persons[a] += c[a] > 0;
            s->duplicates[a] += c[a] > 1;
            s->within_pairs += c[a] > 1 ? c[a] * (c[a] - 1) / 2 : 0;
        }
        for (int a = 0; a < XL_GEN_NAGENCY; a++) {
            for (int b = a + 1; b < XL_GEN_NAGENCY; b++) {
                s->pairs[a][b] += c[a] * c[b];
                s->both[a][b] += c[a] > 0 && c[b] > 0;
                s->cross_pairs += c[a] * c[b];
            }
        }
        s->police_social += c[XL_GEN_POLICE] > 0 && c[XL_GEN_SOCIAL] > 0;
    }
}

/* ---- public ------------------------------------------------------------------------ */

void
xl_gen_opts_default(struct xl_gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->people = 1000;
    o->error_rate = 0.10;
    o->invalid_rate = 0.002;
    o->ref_y = 2026;
    o->ref_m = 11;
    o->ref_d = 1;
    o->coverage[XL_GEN_POLICE] = 0.08;
    o->coverage[XL_GEN_HEALTH] = 0.95;
    o->coverage[XL_GEN_EDUCATION] = 0.90;
    o->coverage[XL_GEN_SOCIAL] = 0.15;
}

static int
s_rate_ok(double x)
{
    return x >= 0.0 && x <= 1.0; /* false for NaN */
}

int
xl_gen_coalition(const struct xl_gen_opts *o, const char *dir, struct xl_gen_summary *sum,
                 char *err, size_t errlen)
{
    struct xl_gen_summary local;
    struct xl_gen_opts eff, def;
    struct s_gen g;
    char path[4096], stale[4096];
    FILE *truth = NULL;
    int rc, zero_cov = 1;

    if (sum == NULL)
        sum = &local;
    memset(sum, 0, sizeof *sum);
    if (o == NULL || dir == NULL || dir[0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_INVALID, "generator: no options or directory");
    /* A zeroed reference date or coverage means the defaults, so a caller can
     * fill in only the fields it cares about. */
    xl_gen_opts_default(&def);
    eff = *o;
    if (eff.ref_y == 0 && eff.ref_m == 0 && eff.ref_d == 0) {
        eff.ref_y = def.ref_y;
        eff.ref_m = def.ref_m;
        eff.ref_d = def.ref_d;
    }
    for (int a = 0; a < XL_GEN_NAGENCY; a++)
        zero_cov &= eff.coverage[a] == 0.0;
    if (zero_cov)
        memcpy(eff.coverage, def.coverage, sizeof eff.coverage);
    o = &eff;
    if (o->people < 1 || o->people > XL_GEN_MAX_PEOPLE)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "generator: people must be 1 to %u",
                          XL_GEN_MAX_PEOPLE);
    if (!s_rate_ok(o->error_rate) || !s_rate_ok(o->invalid_rate))
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "generator: error and invalid rates must be between 0 and 1");
    if (!s_rate_ok(o->programme))
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "generator: the programme's share must be between 0 and 1");
    for (int a = 0; a < XL_GEN_NAGENCY; a++)
        if (!s_rate_ok(o->coverage[a]))
            return xl_err_set(err, errlen, XL_ERR_INVALID,
                              "generator: %s coverage must be between 0 and 1", s_agency_names[a]);
    if (!s_date_ok(o->ref_y, o->ref_m, o->ref_d) || o->ref_y < 1900)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "generator: reference date %04d-%02d-%02d is not a date after 1900",
                          o->ref_y, o->ref_m, o->ref_d);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", dir, strerror(errno));

    rc = s_gen_init(&g, o, sum);
    if (rc != 0) {
        s_gen_free(&g);
        return xl_err_set(err, errlen, rc, "generator: out of memory for %zu people", o->people);
    }
    rc = s_population(&g);
    if (rc != 0) {
        xl_err_set(err, errlen, rc, "generator: identifier space exhausted");
        goto out;
    }
    s_tally(&g);
    truth = s_open(dir, "truth.csv", path, sizeof path, &rc, err, errlen);
    if (truth == NULL)
        goto out;
    fputs("agency,local_id,person_id\n", truth);
    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        rc = s_write_agency(&g, a, dir, truth, err, errlen);
        if (rc != 0)
            goto out;
    }
    if (o->programme > 0) {
        rc = s_write_programme(&g, dir, truth, err, errlen);
        if (rc != 0)
            goto out;
    } else if (snprintf(stale, sizeof stale, "%s/programme.csv", dir) < (int)sizeof stale &&
               unlink(stale) != 0 && errno != ENOENT) {
        rc = xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", stale, strerror(errno));
        goto out;
    }
    rc = s_close(&truth, path, err, errlen);
out:
    if (truth != NULL)
        fclose(truth);
    s_gen_free(&g);
    return rc;
}

const char *
xl_gen_agency_name(int agency)
{
    return agency >= 0 && agency < XL_GEN_NFILE ? s_agency_names[agency] : "?";
}

const char *
xl_gen_id_column(int agency)
{
    return agency >= 0 && agency < XL_GEN_NFILE ? s_id_cols[agency] : "?";
}

const char *
xl_gen_error_name(int kind)
{
    static const char *const names[XL_GEN_NERROR] = {
        [XL_GEN_E_SURNAME_CHANGE] = "surname_change",
        [XL_GEN_E_SURNAME_PART] = "surname_part",
        [XL_GEN_E_NICKNAME] = "nickname",
        [XL_GEN_E_SPELLING] = "spelling_variant",
        [XL_GEN_E_NAME_SWAP] = "names_swapped",
        [XL_GEN_E_TYPO_SUB] = "typo_substitution",
        [XL_GEN_E_TYPO_DEL] = "typo_deletion",
        [XL_GEN_E_TYPO_INS] = "typo_insertion",
        [XL_GEN_E_TYPO_TRANS] = "typo_transposition",
        [XL_GEN_E_DIACRITICS] = "diacritics_dropped",
        [XL_GEN_E_PUNCT] = "punctuation",
        [XL_GEN_E_CASE] = "case",
        [XL_GEN_E_SPACES] = "extra_spaces",
        [XL_GEN_E_DOB_SWAP] = "dob_day_month_swapped",
        [XL_GEN_E_DOB_DAY] = "dob_day_out",
        [XL_GEN_E_DOB_YEAR] = "dob_year_out",
        [XL_GEN_E_OLD_POSTCODE] = "old_postcode",
        [XL_GEN_E_MISSING_POSTCODE] = "missing_postcode",
        [XL_GEN_E_MISSING_NHS] = "missing_nhs_number",
        [XL_GEN_E_MISSING_SEX] = "missing_sex",
        [XL_GEN_E_DUPLICATE] = "duplicate_record",
    };

    return kind >= 0 && kind < XL_GEN_NERROR ? names[kind] : "?";
}

const char *
xl_gen_invalid_name(int kind)
{
    static const char *const names[XL_GEN_NINVALID] = {"bad_date", "bad_nhs_check_digit",
                                                       "bad_postcode", "bad_upn_check_letter"};

    return kind >= 0 && kind < XL_GEN_NINVALID ? names[kind] : "?";
}

void
xl_gen_summary_print(FILE *f, const struct xl_gen_opts *o, const struct xl_gen_summary *s)
{
    size_t total = 0, werr = 0, inv = 0;

    fprintf(f, "population: %zu children aged 10-18 on %04d-%02d-%02d (seed %llu)\n", s->people,
            o->ref_y, o->ref_m, o->ref_d, (unsigned long long)o->seed);
    fprintf(f, "records by agency (children, duplicate records, records with errors, invalid):\n");
    for (int a = 0; a < XL_GEN_NAGENCY; a++) {
        fprintf(f, "  %-10s %9zu  (%zu, %zu, %zu, %zu)\n", s_agency_names[a], s->records[a],
                s->persons[a], s->duplicates[a], s->with_error[a], s->invalid_by_agency[a]);
        total += s->records[a];
        werr += s->with_error[a];
        inv += s->invalid_by_agency[a];
    }
    fprintf(f, "  %-10s %9zu  (records with at least one error %zu = %.1f%%, invalid %zu)\n",
            "total", total, werr, total ? 100.0 * (double)werr / (double)total : 0.0, inv);
    if (o->programme > 0) {
        const int a = XL_GEN_PROGRAMME;

        fprintf(f, "  %-10s %9zu  (%zu, %zu re-referrals, %zu, %zu)\n", s_agency_names[a],
                s->records[a], s->persons[a], s->duplicates[a], s->with_error[a],
                s->invalid_by_agency[a]);
    }
    fprintf(f, "errors by kind:\n");
    for (int k = 0; k < XL_GEN_NERROR; k++)
        fprintf(f, "  %-24s %9zu\n", xl_gen_error_name(k), s->errors[k]);
    fprintf(f, "invalid values by kind:\n");
    for (int k = 0; k < XL_GEN_NINVALID; k++)
        fprintf(f, "  %-24s %9zu\n", xl_gen_invalid_name(k), s->invalid[k]);
    fprintf(f, "true cross-agency record pairs (children in both):\n");
    for (int a = 0; a < XL_GEN_NAGENCY; a++)
        for (int b = a + 1; b < XL_GEN_NAGENCY; b++)
            fprintf(f, "  %-9s- %-10s %9zu  (%zu)\n", s_agency_names[a], s_agency_names[b],
                    s->pairs[a][b], s->both[a][b]);
    fprintf(f, "  %-20s %9zu\n", "total", s->cross_pairs);
    fprintf(f, "true within-agency duplicate pairs: %zu\n", s->within_pairs);
    fprintf(f, "children known to police and social care: %zu; looked after: %zu\n",
            s->police_social, s->looked_after);
    if (o->programme > 0)
        fprintf(f,
                "programme: %zu children supported (%zu known to police, %zu to social care; "
                "%zu with a first offence or care entry after their support started)\n",
                s->persons[XL_GEN_PROGRAMME], s->programme_police, s->programme_social,
                s->programme_event_after);
}
