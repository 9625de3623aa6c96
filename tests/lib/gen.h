/* Seeded synthetic coalition data: a population of children and four agency
 * extracts about overlapping subsets of them, with the errors and format
 * differences real extracts have, plus the truth that says which records are
 * the same child. Used by unit and end-to-end tests, benchmarks and the demo.
 *
 * xl_gen_coalition writes five files into a directory:
 *
 *   police.csv     youth-justice caseload (CRLF line ends)
 *     Person ID, Forename, Surname, Date of Birth (dd/mm/yyyy),
 *     Gender (Male/Female/Unknown), Postcode, Offence Count, Reoffended (Y/N),
 *     First Offence Date (dd/mm/yyyy)
 *   health.csv     ICB / CAMHS extract (LF)
 *     LOCAL_PATIENT_ID, NHS_NUMBER ("943 476 5919" or plain), GIVEN_NAME,
 *     FAMILY_NAME, DOB (yyyy-mm-dd), SEX (1/2/9), POSTCODE, GP_REGISTERED (Y/N),
 *     IMMS_UP_TO_DATE (Y/N), MH_CRISIS_ADMISSIONS
 *   education.csv  school census (LF)
 *     Pupil ID, UPN, Legal Forename, Legal Surname, DOB (yyyymmdd), Gender (M/F),
 *     Postcode, Attendance % (one decimal place), Exclusions, NEET (Y/N)
 *   social.csv     children in need / looked after (CRLF)
 *     Child ID, First Name, Last Name, Date of Birth (d/m/yyyy), Sex (M/F/U),
 *     Postcode, NHS Number (often empty), UPN (often empty), Looked After (Y/N),
 *     CIN Plan (Y/N), Care Entry Date (dd/mm/yyyy or empty)
 *   programme.csv  only when opts.programme > 0: the caseload of a
 *                  trauma-informed support programme, held by children's
 *                  services as a second dataset (CRLF)
 *     Case Ref, First Name, Last Name, DOB (dd/mm/yyyy), Sex (M/F),
 *     Postcode, NHS Number (often empty), Referral Source (Police, School,
 *     GP, CAMHS, Social Care), Support Start (dd/mm/yyyy), Sessions Attended
 *   truth.csv      agency,local_id,person_id: one row per agency record (LF);
 *                  programme.csv's rows come last, with agency "programme"
 *
 * The first column of each agency file is that agency's own record id (the
 * source id an agent maps): health and education records carry one as well as
 * an NHS number or UPN, because duplicates share those. Files are UTF-8 without
 * a byte-order mark; a field is quoted when it holds a comma, a quote, a line
 * break, or leading or trailing spaces.
 *
 * Output depends only on the options: the same options give byte-identical
 * files on every run and machine (own PRNG, no floating-point library calls,
 * no clock, a fixed reference date for ages). */
#ifndef XL_GEN_H
#define XL_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum xl_gen_agency {
    XL_GEN_POLICE = 0,
    XL_GEN_HEALTH,
    XL_GEN_EDUCATION,
    XL_GEN_SOCIAL,
    XL_GEN_NAGENCY,
    /* Not an agency of its own: children's services' second dataset, written
     * only when opts.programme > 0. */
    XL_GEN_PROGRAMME = XL_GEN_NAGENCY,
    XL_GEN_NFILE
};

/* Kinds of error a record can carry, in the order they are applied. */
enum xl_gen_error {
    XL_GEN_E_SURNAME_CHANGE = 0, /* the child's new (or former) surname */
    XL_GEN_E_SURNAME_PART,       /* one part of a double-barrelled surname */
    XL_GEN_E_NICKNAME,           /* William -> Bill; "Muhammad Hamza" -> Hamza */
    XL_GEN_E_SPELLING,           /* transliteration: Mohammed/Muhammad, Hussain/Hussein */
    XL_GEN_E_NAME_SWAP,          /* forename and surname swapped */
    XL_GEN_E_TYPO_SUB,           /* a letter replaced by a keyboard neighbour */
    XL_GEN_E_TYPO_DEL,           /* a letter left out */
    XL_GEN_E_TYPO_INS,           /* a letter added */
    XL_GEN_E_TYPO_TRANS,         /* two adjacent letters transposed */
    XL_GEN_E_DIACRITICS,         /* accents dropped (José -> Jose); police always */
    XL_GEN_E_PUNCT,              /* O'Neill -> ONeill / O Neill / O’Neill, hyphen -> space */
    XL_GEN_E_CASE,               /* a name in upper or lower case */
    XL_GEN_E_SPACES,             /* leading, trailing or doubled spaces */
    XL_GEN_E_DOB_SWAP,           /* day and month transposed (day <= 12) */
    XL_GEN_E_DOB_DAY,            /* date of birth a day out */
    XL_GEN_E_DOB_YEAR,           /* date of birth a year out */
    XL_GEN_E_OLD_POSTCODE,       /* the address before the child moved */
    XL_GEN_E_MISSING_POSTCODE,
    XL_GEN_E_MISSING_NHS,
    XL_GEN_E_MISSING_SEX,
    XL_GEN_E_DUPLICATE, /* a second record of the child in the same agency */
    XL_GEN_NERROR
};

/* Invalid values an agent's validator must refuse. */
enum xl_gen_invalid {
    XL_GEN_I_DATE = 0, /* no such date: 31/02/2012, 31/04/2013 */
    XL_GEN_I_NHS,      /* ten digits with a wrong check digit */
    XL_GEN_I_POSTCODE, /* not a postcode: "CV1 OAB", "B12 3A", "LS6" */
    XL_GEN_I_UPN,      /* thirteen characters with a wrong check letter */
    XL_GEN_NINVALID
};

struct xl_gen_opts {
    uint64_t seed;
    size_t people;           /* children in the population, 1..XL_GEN_MAX_PEOPLE */
    double error_rate;       /* share of records given at least one random error, 0..1 */
    double invalid_rate;     /* share of records given one invalid value, 0..1 */
    int ref_y, ref_m, ref_d; /* reference date: every child is 10-18 on it */
    /* Share of the population each agency holds (enum xl_gen_agency order).
     * Police and education coverage vary with age and need, social care is more
     * likely for children known to police; these are the overall targets. */
    double coverage[XL_GEN_NAGENCY];
    /* Share of the children the support programme takes on, 0..1; 0 (the
     * default) writes no programme.csv. The four agency files and their truth
     * rows are the same with and without it (see gen.c for how the children
     * are chosen). */
    double programme;
};

#define XL_GEN_MAX_PEOPLE 10000000u

struct xl_gen_summary {
    size_t people;
    /* Per file (enum xl_gen_agency order, the programme last; its entries
     * stay 0 without one). For the programme a duplicate is a re-referral. */
    size_t records[XL_GEN_NFILE];    /* rows written, duplicates included */
    size_t persons[XL_GEN_NFILE];    /* distinct children per agency */
    size_t duplicates[XL_GEN_NFILE]; /* extra rows for children held twice */
    size_t with_error[XL_GEN_NFILE]; /* rows with at least one error */
    size_t errors[XL_GEN_NERROR];    /* by kind, all files */
    size_t invalid[XL_GEN_NINVALID]; /* by kind, all files */
    size_t invalid_by_agency[XL_GEN_NFILE];
    /* True record pairs: pairs[a][b] (a < b) counts pairs of records of the
     * same child in agencies a and b; both[a][b] the children in both. */
    size_t pairs[XL_GEN_NAGENCY][XL_GEN_NAGENCY];
    size_t both[XL_GEN_NAGENCY][XL_GEN_NAGENCY];
    size_t cross_pairs;   /* sum of pairs[a][b] over a < b */
    size_t within_pairs;  /* record pairs of the same child inside one agency */
    size_t police_social; /* children known to both police and social care */
    size_t looked_after;  /* children looked after (in social.csv with Y) */
    /* Children supported by the programme who are known to police, to social
     * care, and whose first offence or care entry came after their support
     * started. */
    size_t programme_police, programme_social, programme_event_after;
};

/* Defaults: seed 1, 1000 people, error rate 0.10, invalid rate 0.002, reference
 * date 2026-11-01, coverage police 0.08, health 0.95, education 0.90, social
 * 0.15, no programme. xl_gen_coalition also takes an all-zero reference date or coverage
 * array to mean these defaults, so a zero-initialised struct with only seed,
 * people and error_rate set works (with no invalid values). */
void xl_gen_opts_default(struct xl_gen_opts *o);

/* Writes police.csv, health.csv, education.csv, social.csv and truth.csv into
 * dir, and programme.csv when o->programme > 0 (dir is created with mode 0755
 * if it does not exist; existing files of those names are replaced, and a
 * programme.csv from an earlier run is removed when there is no programme, as
 * truth.csv no longer accounts for it). sum (may be NULL) is cleared first and filled in.
 * Returns 0, XL_ERR_INVALID for bad options, XL_ERR_NOMEM, or XL_ERR_IO with a
 * message naming the file. */
int xl_gen_coalition(const struct xl_gen_opts *o, const char *dir, struct xl_gen_summary *sum,
                     char *err, size_t errlen);

/* Prints the summary for a person reading a benchmark or demo log. */
void xl_gen_summary_print(FILE *f, const struct xl_gen_opts *o, const struct xl_gen_summary *sum);

/* Static names: "police", ..., "programme" (also the agency column of truth.csv
 * and the file names without ".csv"), "typo_substitution", ..., "bad_date", .... "?" for a
 * value out of range. */
const char *xl_gen_agency_name(int agency);
const char *xl_gen_error_name(int kind);
const char *xl_gen_invalid_name(int kind);
/* Name of the file's record-id column ("Person ID", "LOCAL_PATIENT_ID", ...,
 * "Case Ref"). */
const char *xl_gen_id_column(int agency);

/* Folds a UTF-8 string to ASCII as a legacy system does: accents stripped,
 * Ł -> L, Đ -> D, ß -> ss, curly apostrophes -> '; anything else non-ASCII ->
 * '?'. Returns the number of code points that were not plain ASCII, or -1 when
 * the output does not fit outlen or in is not valid UTF-8. */
int xl_gen_ascii_fold(const char *in, char *out, size_t outlen);

/* ---- name tables (gen_names.c) ------------------------------------------- */

struct xl_gen_name {
    const char *name;
    const char *female; /* surnames: the form a girl takes (Kowalska), or NULL */
    unsigned weight;    /* relative frequency within its list */
};

struct xl_gen_origin {
    const char *label;
    unsigned weight; /* children per 10,000 whose family names come from here */
    const struct xl_gen_name *male, *female, *surname;
    size_t n_male, n_female, n_surname;
    /* Girls' surnames in some South Asian families (Begum, Bibi, Khatun). */
    const struct xl_gen_name *girl_surname;
    size_t n_girl_surname;
    unsigned girl_surname_pct;
    /* A name some boys carry before their calling name ("Muhammad Hamza"). */
    const char *male_prefix;
    unsigned male_prefix_pct;
    unsigned compound_pct; /* surnames of two parts */
    char compound_sep;     /* '-' (Smith-Jones) or ' ' (Ahmed Khan) */
};

extern const struct xl_gen_origin xl_gen_origins[];
extern const size_t xl_gen_n_origins;

/* Pairs of a given name and a form another agency records: nicknames
 * (William, Bill) and transliteration variants, which apply both ways
 * (Muhammad, Mohammed). */
struct xl_gen_alias {
    const char *name, *alias;
};
extern const struct xl_gen_alias xl_gen_nicknames[];
extern const size_t xl_gen_n_nicknames;
extern const struct xl_gen_alias xl_gen_spellings[];
extern const size_t xl_gen_n_spellings;

#endif
