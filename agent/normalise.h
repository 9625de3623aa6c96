/* Normalisers and validators for person identifiers.
 *
 * Every agency must turn the same person into the same canonical values, or
 * their tokens never match: the outputs of these functions are a contract
 * between agencies, pinned by tests/vectors/normalise.txt. A changed output is a
 * protocol change.
 *
 * Each agent_norm_* function takes a value as read from a CSV field (bytes and
 * a length, not necessarily NUL-terminated, possibly empty), resets its outputs
 * first, writes the canonical form into caller buffers and returns AGENT_OK or
 * an enum agent_reason saying why the value was refused. A refused value is
 * reported (row, field, reason) and never guessed. None of them allocates, keeps
 * state or writes anywhere but its outputs, so all are safe to call from
 * several threads. Scratch copies of the input are wiped before return.
 *
 * The reason texts are static strings that never contain the value: a report
 * may print them next to the row number and field name. */
#ifndef AGENT_NORMALISE_H
#define AGENT_NORMALISE_H

#include <stddef.h>

enum agent_reason {
    AGENT_OK = 0,
    AGENT_R_MISSING,         /* empty, blank, or a recognised "not known" value */
    AGENT_R_BAD_UTF8,        /* not valid UTF-8 */
    AGENT_R_NAME_CHARS,      /* a digit, symbol or control character in a name */
    AGENT_R_TOO_LONG,        /* longer than the field allows */
    AGENT_R_DATE_FORMAT,     /* matches none of the configured date formats */
    AGENT_R_DATE_INVALID,    /* no such calendar date (month 13, 30 February) */
    AGENT_R_DATE_FUTURE,     /* after the reference date */
    AGENT_R_DATE_TOO_OLD,    /* before the minimum year or over the maximum age */
    AGENT_R_SEX,             /* not a recognised sex code */
    AGENT_R_POSTCODE,        /* not a UK postcode */
    AGENT_R_NHS_FORMAT,      /* not ten digits */
    AGENT_R_NHS_CHECK,       /* the modulus 11 check digit is wrong */
    AGENT_R_UPN_FORMAT,      /* not a check letter and twelve characters */
    AGENT_R_UPN_CHECK,       /* the check letter is wrong */
    AGENT_R_DATE_TOO_RECENT, /* younger than the minimum age */
    AGENT_R_NHS_PLACEHOLDER, /* ten identical digits, used for "not known" */
    AGENT_R_CODE_FORMAT,     /* an identifier or postcode with characters other than A-Z 0-9 */
    AGENT_R_DATE_PARTIAL,    /* only a year, or a year and month (rules->partial) */
    AGENT_R_COUNT
};

/* A stable snake_case code ("nhs_check_digit") for reports and vector files;
 * "unknown" for a value outside the enum. Never NULL. */
const char *agent_reason_code(enum agent_reason r);
/* One sentence for the data officer's report; never NULL, never the value. */
const char *agent_reason_text(enum agent_reason r);
/* The reason whose code is `code`, or -1. */
int agent_reason_from_code(const char *code);

/* The Unicode version of the utf8proc library in use ("15.0.0"). Agencies on
 * different Unicode versions can normalise rare characters differently, so a
 * deployment records it beside the specification fingerprint. */
const char *agent_norm_unicode_version(void);

/* ---- names ------------------------------------------------------------------
 *
 * agent_norm_name: Unicode compatibility decomposition (NFKD), marks stripped,
 * case folded (utf8proc); then
 *   - apostrophes (' ’ ‘ ` ´ ʼ ʻ ′ and the middle dot ·) removed with no break:
 *     "O'Neill" -> "oneill", "Col·lell" -> "collell";
 *   - hyphens, dots, commas, other punctuation and any white space -> one space;
 *     leading and trailing spaces trimmed;
 *   - letters of any script kept; letters NFKD leaves whole but people
 *     transliterate are spelt out: æ->ae ð->d ø->o þ->th đ->d ħ->h ı->i ł->l
 *     ŋ->ng œ->oe ŧ->t ɓ->b ɗ->d ƙ->k ƴ->y ɛ->e ɔ->o (ß->ss by case folding);
 *   - default-ignorable characters (soft hyphen, zero-width joiners, BOM) dropped;
 *   - a digit, symbol or other control character -> AGENT_R_NAME_CHARS.
 * Output: lower-case words separated by single spaces, NUL-terminated, at most
 * outlen - 1 bytes ("Smith-Jones" -> "smith jones", "Łukasz" -> "lukasz"). It
 * stays decomposed (Hangul comes out as jamo) and every mark goes, the spacing
 * vowel signs of Indic scripts and Thai too: coarser than the written name,
 * but the same at every agency, which is what matching needs.
 * Returns AGENT_OK, AGENT_R_MISSING (nothing left), AGENT_R_BAD_UTF8,
 * AGENT_R_NAME_CHARS or AGENT_R_TOO_LONG (input over AGENT_NAME_IN_MAX bytes or
 * output over outlen - 1). An all-ASCII input takes a fast path that gives the
 * same results as the Unicode path. */
#define AGENT_NAME_IN_MAX 512 /* bytes of input accepted */
#define AGENT_NAME_MAX    256 /* a sufficient output buffer for any real name */
int agent_norm_name(const char *in, size_t len, char *out, size_t outlen);

/* agent_norm_name with flags. AGENT_NAME_NO_FAST_PATH sends ASCII input through
 * the Unicode path too; tests use it to prove the two paths agree. */
#define AGENT_NAME_NO_FAST_PATH 1u
/* AGENT_NAME_TEXT: for addresses and places ("12a Mill Lane"): digits are kept
 * like letters and symbols break words instead of refusing the value. */
#define AGENT_NAME_TEXT 2u
/* AGENT_NAME_SALVAGE: what agent_name_salvage does: digits, symbols and control
 * characters are dropped (no word break) instead of refusing the value. */
#define AGENT_NAME_SALVAGE 4u
int agent_norm_name_flags(const char *in, size_t len, char *out, size_t outlen, unsigned flags);

/* Free text such as an address line or a town: agent_norm_name with
 * AGENT_NAME_TEXT ("12A, Mill-Lane" -> "12a mill lane"). */
int agent_norm_text(const char *in, size_t len, char *out, size_t outlen);

/* ---- salvaged values --------------------------------------------------------
 *
 * A value validation refused is reported and never enters a match key. What
 * can be read from it may still feed the fuzzy comparison (the CLK): these
 * functions give that salvaged form. Like the normalisers they are a contract
 * between agencies (the same refused value must salvage alike everywhere), and
 * they return AGENT_OK, or AGENT_R_MISSING when nothing usable is left (out is
 * then ""), or AGENT_R_TOO_LONG / AGENT_R_BAD_UTF8 as the normalisers do. */

/* The letters of a name refused for its characters ("J0hn" -> "jhn", "Smith2"
 * -> "smith", "Anne-Marie!" -> "anne marie"): agent_norm_name with digits,
 * symbols and control characters dropped. */
int agent_name_salvage(const char *in, size_t len, char *out, size_t outlen);

/* The letters and digits of a refused postcode or identifier, upper-cased,
 * everything else dropped ("AB#12-3c" -> "AB123C"). With uk set (a UK postcode
 * that failed the postcode rules), only 5 to 7 letters and digits are a
 * salvage, written with a space before the last three so that a near miss has
 * the shape of a valid one ("b1 1ai" -> "B1 1AI"); longer or shorter is
 * AGENT_R_MISSING. */
int agent_code_salvage(const char *in, size_t len, int uk, char *out, size_t outlen);

/* The salvaged form of a date that is impossible, implausible, partial or in
 * none of the formats: its digits, read in the order the formats declare,
 * written in the YYYY-MM-DD shape of a valid date, so that a near miss shares
 * most q-grams with the valid date it stands for:
 *   "1987-13-05" (yyyy-mm-dd) -> "1987-13-05"; "31/02/2012" (dd/mm/yyyy) ->
 *   "2012-02-31"; "5/13/1987" (dd/mm/yyyy) -> "1987-13-05".
 * When a pattern matches, its parts as read. Otherwise the runs of digits (and
 * month names) are taken in turn: a run of three or more digits is the year,
 * the others go to the month and day in the order of the first pattern that
 * puts the year where the value has it; a single run of digits is cut by the
 * widths of that pattern ("19871305" with yyyymmdd -> "1987-13-05"). A day of
 * 0 is unknown and left out ("1987-05-00" -> "1987-05"), so is a month of 0
 * with an unknown day ("1987-00-00" -> "1987"); an unknown year is left empty
 * ("-05-12"). Month and day are written with two digits, a year with its digits
 * as read. AGENT_R_MISSING when there is no digit or no part other than zeros. */
#define AGENT_DATE_SALVAGE_MAX 24
int agent_date_salvage(const char *in, size_t len, const char *formats,
                       char out[AGENT_DATE_SALVAGE_MAX]);

/* A normalised name with the spaces removed ("smith jones" -> "smithjones").
 * AGENT_OK, or AGENT_R_TOO_LONG when it does not fit outlen (out is then ""). */
int agent_name_compact(const char *norm, char *out, size_t outlen);

/* One word of a normalised name: len bytes at s (not NUL-terminated). */
struct agent_name_part {
    const char *s;
    size_t len;
};
/* Splits a normalised name at its spaces, so a double-barrelled surname can
 * match on either part. Stores up to maxparts parts pointing into norm and
 * returns how many words there are (more than maxparts when some were not
 * stored, as snprintf does). */
size_t agent_name_parts(const char *norm, struct agent_name_part *parts, size_t maxparts);

/* Optional nickname table, used only when the linkage specification enables
 * it: maps a common English nickname of a normalised given name to a canonical
 * given name ("bill" -> "william", "lizzie" -> "elizabeth"). Nicknames shared
 * by several names (alex, chris, sam, jo, pat, ...) are not in the table, since
 * mapping them would be a guess. Returns a static string, or NULL when the name
 * is not a listed nickname (the caller then keeps the name as it is). */
const char *agent_nickname_canonical(const char *first, size_t len);
/* The table itself, for tests and documentation: entry i, or NULL past the end. */
const char *agent_nickname_entry(size_t i, const char **canonical);

/* ---- phonetic codes -----------------------------------------------------------
 * Both take a normalised name (agent_norm_name output), use its letters a-z and
 * ignore everything else (other scripts contribute nothing), and write an
 * upper-case code of at most 4 characters and a NUL into out[5]. */

/* Classic American Soundex: first letter and three digits ("Robert" -> "R163",
 * "Tymczak" -> "T522", "Pfister" -> "P236", "Ashcraft" -> "A261"); h and w do
 * not separate equal codes, vowels do. AGENT_R_MISSING when there is no a-z. */
int agent_soundex(const char *norm, char out[5]);

/* The primary code of Lawrence Philips' Double Metaphone (C/C++ User's Journal,
 * June 2000), as in the widely used C port (Text::DoubleMetaphone, PostgreSQL
 * dmetaphone()), truncated to 4 characters: "Smith" -> "SM0", "Schmidt" ->
 * "XMT", "Thompson" -> "TMPS". Spaces in norm take part in its rules ("van ",
 * "san "); the caller chooses whether to pass a compacted name. AGENT_R_MISSING
 * when there is no a-z or the code is empty (a name of only "h" or "w"). */
int agent_dmetaphone(const char *norm, char out[5]);

/* ---- dates -------------------------------------------------------------------- */

struct agent_date {
    int y, m, d;
};

/* Plausibility rules. Zero disables a limit. */
struct agent_date_rules {
    struct agent_date ref; /* the reference date, normally today: later -> DATE_FUTURE */
    int min_year;          /* earlier years -> DATE_TOO_OLD (e.g. 1900) */
    int max_age_years;     /* older, in completed years on ref -> DATE_TOO_OLD */
    int min_age_years;     /* younger, in completed years on ref -> DATE_TOO_RECENT */
    int partial;           /* a year alone, or a year and month, is DATE_PARTIAL */
};

/* Parses a date with the first of `formats` that matches it. formats is a
 * '|'-separated list of patterns tried in order, made of the tokens
 *   yyyy  four digits            dd  two digits     mm  two digits
 *   d     one or two digits      m   one or two digits
 *   mon   an English month name or its first three letters (also "sept"),
 *         any case
 * and literal characters that must appear as written (letters compared without
 * case): "dd/mm/yyyy|yyyy-mm-dd|d-mon-yyyy|yyyymmdd". Two-digit years are not
 * supported: the century would be a guess. Leading and trailing white space is
 * ignored, and so is a time of day after a complete date (" 00:00",
 * "T00:00:00", " 00:00:00.000", "T00:00:00Z", "+01:00", " 12:00:00 AM"), as
 * exports often add one.
 *
 * The first pattern that matches the text decides: an impossible date there is
 * AGENT_R_DATE_INVALID, not a reason to try the next pattern (which could read
 * 03/04 the other way round). Then, when rules is not NULL, DATE_FUTURE,
 * DATE_TOO_OLD and DATE_TOO_RECENT in that order. Also AGENT_R_MISSING (blank)
 * and AGENT_R_DATE_FORMAT (no pattern matches). Check formats once with
 * agent_date_formats_check; a malformed list makes every value DATE_FORMAT. */
int agent_norm_date(const char *in, size_t len, const char *formats,
                    const struct agent_date_rules *rules, struct agent_date *out);

/* 0 when formats is a usable list (every pattern has exactly one year, one
 * month and one day token and no two-digit year), else XL_ERR_INVALID with a
 * message naming the pattern in err. */
int agent_date_formats_check(const char *formats, char *err, size_t errlen);
/* As agent_date_formats_check, also accepting patterns of a partial date: a
 * year alone ("yyyy") or a year and a month ("yyyy-mm", "mon yyyy"). *partial
 * (may be NULL) is set to 1 when the list has such a pattern, else 0. */
int agent_date_formats_check_partial(const char *formats, int *partial, char *err, size_t errlen);

/* Partial dates. With rules->partial set, agent_norm_date returns
 * AGENT_R_DATE_PARTIAL, and y and m (0 when unknown) with d = 0 in out, for a
 * date that matched a partial pattern or has a day of 0 ("1987-05-00") or a
 * month and day of 0 ("1987-00-00"), when some day of that month or year
 * passes the rules (else DATE_FUTURE, DATE_TOO_OLD or DATE_TOO_RECENT as for a
 * full date). A month of 0 with a day is DATE_INVALID. Such a date names no
 * day: it is never a value for an exact key. */

/* 1 when some day of year y passes the rules (the reference date, minimum year
 * and ages), for a year read from a date that was refused. */
int agent_date_year_plausible(int y, const struct agent_date_rules *rules);

/* 1 when y-m-d is a date of the Gregorian calendar with 1 <= y <= 9999. */
int agent_date_valid(const struct agent_date *d);
/* Completed years from dob to ref (negative when ref is earlier); someone born
 * on 29 February has a birthday on 1 March in other years. */
int agent_date_age(const struct agent_date *dob, const struct agent_date *ref);
/* "YYYY-MM-DD" and a NUL into out (years outside 0..9999 are clamped). */
void agent_date_iso(const struct agent_date *d, char out[11]);

/* ---- sex ----------------------------------------------------------------------
 * "m" or "f" into out[2] from (any case, surrounding white space ignored)
 *   m male man boy 1  ->  "m"        f female woman girl 2  ->  "f"
 * AGENT_R_MISSING for blank and the "not known" codes (u unknown "not known"
 * "not stated" "not specified" "not recorded" n/k nk unk 0 9 x i indeterminate
 * other "prefer not to say"): these are not guessed and no token uses them. X is
 * not kept as a code of its own: exports use it both for "not known" and for an
 * unspecified passport sex, so it says nothing two agencies could match on.
 * AGENT_R_SEX for anything else. */
int agent_norm_sex(const char *in, size_t len, char out[2]);

/* ---- UK postcode ----------------------------------------------------------------
 * Canonical "B1 1AA" into out[9] from "b11aa", " B1  1AA " and the like: case
 * and white space ignored, nothing else allowed. Outward code A9, A99, AA9,
 * AA99, A9A or AA9A with the Royal Mail letter rules (first letter not Q V X;
 * second not I J Z; third, in A9A, one of A B C D E F G H J K P S T U W; fourth,
 * in AA9A, one of A B E H M N P R V W X Y); inward code 9AA with letters not
 * C I K M O V; and GIR 0AA. district (out[5], may be NULL) gets the outward code
 * "B1", sector (out[7], may be NULL) the outward code, a space and the inward
 * digit "B1 1". AGENT_R_MISSING (blank) or AGENT_R_POSTCODE. */
int agent_norm_postcode(const char *in, size_t len, char out[9], char district[5], char sector[7]);

/* ---- NHS number ------------------------------------------------------------------
 * Ten digits into out[11]; spaces and hyphens between digits are ignored
 * ("943 476 5919", "943-476-5919"). The tenth digit is the modulus 11 check
 * digit of the first nine (weights 10 down to 2; 11 - sum mod 11; 11 -> 0; 10
 * means no valid number). AGENT_R_MISSING, AGENT_R_NHS_FORMAT (other characters
 * or not ten digits), AGENT_R_NHS_CHECK, or AGENT_R_NHS_PLACEHOLDER for ten
 * identical digits ("0000000000", "9999999999"): their check digits are valid,
 * but systems use them for "not known", and matching on them would merge
 * unrelated people. */
int agent_norm_nhs(const char *in, size_t len, char out[11]);
/* The check digit (0-9) of nine ASCII digits, or -1 when they have none (the
 * remainder gives 10) or first9 holds a non-digit. */
int agent_nhs_check_digit(const char first9[9]);

/* ---- Unique Pupil Number (England) ----------------------------------------------
 * Thirteen characters into out[14], upper-cased, white space removed: a check
 * letter, then the LA number (3 digits), establishment number (4 digits), year
 * (2 digits) and a serial of 3 digits, or 2 digits and a letter for a temporary
 * UPN. Letters are from ABCDEFGHJKLMNPQRTUVWXYZ (no I, O or S). LA numbers and
 * years are not checked against lists. AGENT_R_MISSING, AGENT_R_UPN_FORMAT or
 * AGENT_R_UPN_CHECK. */
int agent_norm_upn(const char *in, size_t len, char out[14]);
/* The check letter ('A'..'Z') for the 12 characters after it, or -1 when they
 * are not 11 digits and a digit or check-alphabet letter (ASCII upper case). */
int agent_upn_check_letter(const char body12[12]);

/* ---- other codes ----------------------------------------------------------------
 * An identifier or a non-UK postcode: upper-cased letters and digits into out
 * (outlen bytes), with spaces, hyphens, dots and slashes between them removed
 * ("ab-12 3c" -> "AB123C"). AGENT_R_MISSING, AGENT_R_TOO_LONG or
 * AGENT_R_CODE_FORMAT for any other character. */
int agent_norm_code(const char *in, size_t len, char *out, size_t outlen);

/* ---- helpers ------------------------------------------------------------------ */

/* Narrows [*s, *s + *len) past leading and trailing ASCII white space (space,
 * tab, CR, LF, VT, FF). Locale-independent. */
void agent_trim(const char **s, size_t *len);

#endif
