/* Phonetic codes of normalised names: Soundex and the Double Metaphone primary
 * code; see normalise.h. Both run per record on the surname (blocking and
 * match keys), so neither allocates. */
#include <string.h>

#include "normalise.h"
#include "xl/mem.h"

/* ---- Soundex ---------------------------------------------------------------------- */

/* Codes of a..z; '0' for vowels (they separate equal codes), '-' for h and w
 * (they do not). */
static const char s_sdx[26] = "0123012-02245501262301-202";

int
agent_soundex(const char *norm, char out[5])
{
    size_t n = 0;
    char last = 0;

    memset(out, 0, 5);
    for (const char *p = norm; *p != '\0' && n < 4; p++) {
        int c = (unsigned char)*p;
        char code;
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c < 'a' || c > 'z')
            continue;
        code = s_sdx[c - 'a'];
        if (n == 0) {
            out[n++] = (char)(c - 'a' + 'A');
        } else if (code == '0') {
            /* a vowel: the next consonant is coded even if it repeats the last */
        } else if (code != '-' && code != last) {
            out[n++] = code;
        }
        if (code != '-')
            last = code;
    }
    if (n == 0)
        return AGENT_R_MISSING;
    while (n < 4)
        out[n++] = '0';
    return AGENT_OK;
}

/* ---- Double Metaphone (primary code) ------------------------------------------------
 *
 * Philips' rules as in the C port everyone compares against (Text::DoubleMetaphone,
 * PostgreSQL's dmetaphone): the word upper-cased and padded with five spaces, so
 * rules may look past its end; out-of-range positions read as NUL. Only the
 * primary code is built: the alternate does not feed the primary, and the
 * primary is cut to 4 characters, so stopping once it has 4 gives the same code.
 * The C-cedilla and N-tilde rules of the original never apply, since
 * normalisation has already stripped the marks (ç is c, ñ is n). */

#define S_DM_MAX (AGENT_NAME_IN_MAX + 8)

struct s_dm {
    char s[S_DM_MAX]; /* the word, upper case, then five spaces and a NUL */
    int len;          /* length of the word */
    int plen;         /* length with the padding */
    int last;         /* len - 1 */
    int slavo;        /* W, K or CZ anywhere: Slavic or Germanic */
    int germanic;     /* starts "VAN ", "VON " or "SCH" */
    char code[8];
    int clen;
};

static char
s_at(const struct s_dm *w, int pos)
{
    return pos < 0 || pos >= w->plen ? '\0' : w->s[pos];
}

static int
s_vowel(const struct s_dm *w, int pos)
{
    char c = s_at(w, pos);
    return c != '\0' && strchr("AEIOUY", c) != NULL;
}

/* Does the word have, at pos, one of the '|'-separated strings in alts? */
static int
s_has(const struct s_dm *w, int pos, const char *alts)
{
    if (pos < 0 || pos >= w->plen)
        return 0;
    for (const char *a = alts;;) {
        const char *bar = strchr(a, '|');
        size_t n = bar != NULL ? (size_t)(bar - a) : strlen(a);
        if (strncmp(w->s + pos, a, n) == 0 && (size_t)(w->plen - pos) >= n)
            return 1;
        if (bar == NULL)
            return 0;
        a = bar + 1;
    }
}

static void
s_add(struct s_dm *w, const char *code)
{
    for (; *code != '\0' && w->clen < (int)sizeof w->code - 1; code++)
        w->code[w->clen++] = *code;
}

/* Each returns how far to advance past the current letter at i. */

static int
s_dm_c(struct s_dm *w, int i)
{
    /* various Germanic: "bacher", "macher" */
    if (i > 1 && !s_vowel(w, i - 2) && s_has(w, i - 1, "ACH") && s_at(w, i + 2) != 'I' &&
        (s_at(w, i + 2) != 'E' || s_has(w, i - 2, "BACHER|MACHER"))) {
        s_add(w, "K");
        return 2;
    }
    if (i == 0 && s_has(w, i, "CAESAR")) {
        s_add(w, "S");
        return 2;
    }
    if (s_has(w, i, "CHIA")) { /* Italian "chianti" */
        s_add(w, "K");
        return 2;
    }
    if (s_has(w, i, "CH")) {
        if (i > 0 && s_has(w, i, "CHAE")) { /* "michael" */
            s_add(w, "K");
            return 2;
        }
        /* Greek roots: "chemistry", "chorus" */
        if (i == 0 && (s_has(w, i + 1, "HARAC|HARIS") || s_has(w, i + 1, "HOR|HYM|HIA|HEM")) &&
            !s_has(w, 0, "CHORE")) {
            s_add(w, "K");
            return 2;
        }
        if (w->germanic || s_has(w, i - 2, "ORCHES|ARCHIT|ORCHID") || s_has(w, i + 2, "T|S") ||
            ((s_has(w, i - 1, "A|O|U|E") || i == 0) && s_has(w, i + 2, "L|R|N|M|B|H|F|V|W| "))) {
            s_add(w, "K");
        } else if (i > 0 && s_has(w, 0, "MC")) { /* "McHugh" */
            s_add(w, "K");
        } else {
            s_add(w, "X");
        }
        return 2;
    }
    if (s_has(w, i, "CZ") && !s_has(w, i - 2, "WICZ")) { /* "czerny" */
        s_add(w, "S");
        return 2;
    }
    if (s_has(w, i + 1, "CIA")) { /* "focaccia" */
        s_add(w, "X");
        return 3;
    }
    if (s_has(w, i, "CC") && !(i == 1 && s_at(w, 0) == 'M')) {    /* not "McClellan" */
        if (s_has(w, i + 2, "I|E|H") && !s_has(w, i + 2, "HU")) { /* "bellocchio", not "bacchus" */
            if ((i == 1 && s_at(w, i - 1) == 'A') || s_has(w, i - 1, "UCCEE|UCCES"))
                s_add(w, "KS"); /* "accident", "succeed" */
            else
                s_add(w, "X"); /* "bacci", "bertucci" */
            return 3;
        }
        s_add(w, "K"); /* Pierce's rule */
        return 2;
    }
    if (s_has(w, i, "CK|CG|CQ")) {
        s_add(w, "K");
        return 2;
    }
    if (s_has(w, i, "CI|CE|CY")) {
        s_add(w, "S");
        return 2;
    }
    s_add(w, "K");
    if (s_has(w, i + 1, " C| Q| G")) /* "mac caffrey", "mac gregor" */
        return 3;
    if (s_has(w, i + 1, "C|K|Q") && !s_has(w, i + 1, "CE|CI"))
        return 2;
    return 1;
}

static int
s_dm_g(struct s_dm *w, int i)
{
    if (s_at(w, i + 1) == 'H') {
        if (i > 0 && !s_vowel(w, i - 1)) {
            s_add(w, "K");
            return 2;
        }
        if (i == 0) { /* "ghislane", "ghiradelli" */
            s_add(w, s_at(w, i + 2) == 'I' ? "J" : "K");
            return 2;
        }
        /* Parker's rule: "hugh", "bough", "broughton" */
        if ((i > 1 && s_has(w, i - 2, "B|H|D")) || (i > 2 && s_has(w, i - 3, "B|H|D")) ||
            (i > 3 && s_has(w, i - 4, "B|H")))
            return 2;
        /* "laugh", "McLaughlin", "cough", "gough", "rough", "tough" */
        if (i > 2 && s_at(w, i - 1) == 'U' && s_has(w, i - 3, "C|G|L|R|T"))
            s_add(w, "F");
        else if (i > 0 && s_at(w, i - 1) != 'I')
            s_add(w, "K");
        return 2;
    }
    if (s_at(w, i + 1) == 'N') {
        if (i == 1 && s_vowel(w, 0) && !w->slavo)
            s_add(w, "KN");
        else if (!s_has(w, i + 2, "EY") && s_at(w, i + 1) != 'Y' && !w->slavo)
            s_add(w, "N"); /* not "cagney" */
        else
            s_add(w, "KN");
        return 2;
    }
    if (s_has(w, i + 1, "LI") && !w->slavo) { /* "tagliaro" */
        s_add(w, "KL");
        return 2;
    }
    /* -ges-, -gep-, -gel-, -gie- at the beginning */
    if (i == 0 && (s_at(w, i + 1) == 'Y' || s_has(w, i + 1, "ES|EP|EB|EL|EY|IB|IL|IN|IE|EI|ER"))) {
        s_add(w, "K");
        return 2;
    }
    /* -ger-, -gy- */
    if ((s_has(w, i + 1, "ER") || s_at(w, i + 1) == 'Y') && !s_has(w, 0, "DANGER|RANGER|MANGER") &&
        !s_has(w, i - 1, "E|I") && !s_has(w, i - 1, "RGY|OGY")) {
        s_add(w, "K");
        return 2;
    }
    /* Italian "biaggi" */
    if (s_has(w, i + 1, "E|I|Y") || s_has(w, i - 1, "AGGI|OGGI")) {
        if (w->germanic || s_has(w, i + 1, "ET"))
            s_add(w, "K");
        else
            s_add(w, "J");
        return 2;
    }
    s_add(w, "K");
    return s_at(w, i + 1) == 'G' ? 2 : 1;
}

static int
s_dm_j(struct s_dm *w, int i)
{
    /* Spanish: "jose", "san jacinto" */
    if (s_has(w, i, "JOSE") || s_has(w, 0, "SAN ")) {
        if ((i == 0 && s_at(w, i + 4) == ' ') || s_has(w, 0, "SAN "))
            s_add(w, "H");
        else
            s_add(w, "J");
        return 1;
    }
    if (i == 0) {
        s_add(w, "J"); /* "Yankelovich" / "Jankelowicz" */
    } else if (s_vowel(w, i - 1) && !w->slavo && (s_at(w, i + 1) == 'A' || s_at(w, i + 1) == 'O')) {
        s_add(w, "J"); /* Spanish "bajador" */
    } else if (i == w->last) {
        s_add(w, "J");
    } else if (!s_has(w, i + 1, "L|T|K|S|N|M|B|Z") && !s_has(w, i - 1, "S|K|L")) {
        s_add(w, "J");
    }
    return s_at(w, i + 1) == 'J' ? 2 : 1;
}

static int
s_dm_s(struct s_dm *w, int i)
{
    if (s_has(w, i - 1, "ISL|YSL")) /* "island", "isle", "carlisle" */
        return 1;
    if (i == 0 && s_has(w, i, "SUGAR")) {
        s_add(w, "X");
        return 1;
    }
    if (s_has(w, i, "SH")) {
        s_add(w, s_has(w, i + 1, "HEIM|HOEK|HOLM|HOLZ") ? "S" : "X"); /* Germanic */
        return 2;
    }
    if (s_has(w, i, "SIO|SIA") || s_has(w, i, "SIAN")) { /* Italian, Armenian */
        s_add(w, "S");
        return 3;
    }
    /* "smith" with "schmidt", "snider" with "schneider"; Slavic -sz- */
    if ((i == 0 && s_has(w, i + 1, "M|N|L|W")) || s_has(w, i + 1, "Z")) {
        s_add(w, "S");
        return s_has(w, i + 1, "Z") ? 2 : 1;
    }
    if (s_has(w, i, "SC")) {
        if (s_at(w, i + 2) == 'H') {                    /* Schlesinger's rule */
            if (s_has(w, i + 3, "OO|ER|EN|UY|ED|EM")) { /* Dutch "school", "schooner" */
                s_add(w, s_has(w, i + 3, "ER|EN") ? "X" : "SK");
                return 3;
            }
            s_add(w, "X");
            return 3;
        }
        s_add(w, s_has(w, i + 2, "I|E|Y") ? "S" : "SK");
        return 3;
    }
    /* French "resnais", "artois" */
    if (!(i == w->last && s_has(w, i - 2, "AI|OI")))
        s_add(w, "S");
    return s_has(w, i + 1, "S|Z") ? 2 : 1;
}

static int
s_dm_t(struct s_dm *w, int i)
{
    if (s_has(w, i, "TION") || s_has(w, i, "TIA|TCH")) {
        s_add(w, "X");
        return 3;
    }
    if (s_has(w, i, "TH") || s_has(w, i, "TTH")) {
        /* "thomas", "thames", or Germanic */
        if (s_has(w, i + 2, "OM|AM") || w->germanic)
            s_add(w, "T");
        else
            s_add(w, "0");
        return 2;
    }
    s_add(w, "T");
    return s_has(w, i + 1, "T|D") ? 2 : 1;
}

static int
s_dm_w(struct s_dm *w, int i)
{
    if (s_has(w, i, "WR")) {
        s_add(w, "R");
        return 2;
    }
    if (i == 0 && (s_vowel(w, i + 1) || s_has(w, i, "WH")))
        s_add(w, "A"); /* "Wasserman" with "Vasserman", "Uomo" with "Womo" */
    /* "Arnow" with "Arnoff" (only the alternate code sounds this W) */
    if ((i == w->last && s_vowel(w, i - 1)) || s_has(w, i - 1, "EWSKI|EWSKY|OWSKI|OWSKY") ||
        s_has(w, 0, "SCH"))
        return 1;
    if (s_has(w, i, "WICZ|WITZ")) { /* Polish "filipowicz" */
        s_add(w, "TS");
        return 4;
    }
    return 1;
}

static int
s_dm_step(struct s_dm *w, int i)
{
    switch (s_at(w, i)) {
    case 'A':
    case 'E':
    case 'I':
    case 'O':
    case 'U':
    case 'Y':
        if (i == 0)
            s_add(w, "A"); /* every initial vowel is A */
        return 1;
    case 'B':
        s_add(w, "P"); /* "-mb" as in "dumb" was skipped at the M */
        return s_at(w, i + 1) == 'B' ? 2 : 1;
    case 'C': return s_dm_c(w, i);
    case 'D':
        if (s_has(w, i, "DG")) {
            if (s_has(w, i + 2, "I|E|Y")) { /* "edge" */
                s_add(w, "J");
                return 3;
            }
            s_add(w, "TK"); /* "edgar" */
            return 2;
        }
        s_add(w, "T");
        return s_has(w, i, "DT|DD") ? 2 : 1;
    case 'F': s_add(w, "F"); return s_at(w, i + 1) == 'F' ? 2 : 1;
    case 'G': return s_dm_g(w, i);
    case 'H':
        /* kept only first or between vowels, and before a vowel */
        if ((i == 0 || s_vowel(w, i - 1)) && s_vowel(w, i + 1)) {
            s_add(w, "H");
            return 2;
        }
        return 1;
    case 'J': return s_dm_j(w, i);
    case 'K': s_add(w, "K"); return s_at(w, i + 1) == 'K' ? 2 : 1;
    case 'L':
        s_add(w, "L"); /* the Spanish "-llo", "-lle" rule changes only the alternate */
        return s_at(w, i + 1) == 'L' ? 2 : 1;
    case 'M':
        s_add(w, "M");
        if ((s_has(w, i - 1, "UMB") && (i + 1 == w->last || s_has(w, i + 2, "ER"))) ||
            s_at(w, i + 1) == 'M')
            return 2; /* "dumb", "thumb" */
        return 1;
    case 'N': s_add(w, "N"); return s_at(w, i + 1) == 'N' ? 2 : 1;
    case 'P':
        if (s_at(w, i + 1) == 'H') {
            s_add(w, "F");
            return 2;
        }
        s_add(w, "P");
        return s_has(w, i + 1, "P|B") ? 2 : 1; /* "campbell", "raspberry" */
    case 'Q': s_add(w, "K"); return s_at(w, i + 1) == 'Q' ? 2 : 1;
    case 'R':
        /* French "rogier", but not "hochmeier" */
        if (!(i == w->last && !w->slavo && s_has(w, i - 2, "IE") && !s_has(w, i - 4, "ME|MA")))
            s_add(w, "R");
        return s_at(w, i + 1) == 'R' ? 2 : 1;
    case 'S': return s_dm_s(w, i);
    case 'T': return s_dm_t(w, i);
    case 'V': s_add(w, "F"); return s_at(w, i + 1) == 'V' ? 2 : 1;
    case 'W': return s_dm_w(w, i);
    case 'X':
        /* French "breaux" */
        if (!(i == w->last && (s_has(w, i - 3, "IAU|EAU") || s_has(w, i - 2, "AU|OU"))))
            s_add(w, "KS");
        return s_has(w, i + 1, "C|X") ? 2 : 1;
    case 'Z':
        if (s_at(w, i + 1) == 'H') { /* Chinese pinyin "zhao" */
            s_add(w, "J");
            return 2;
        }
        s_add(w, "S");
        return s_at(w, i + 1) == 'Z' ? 2 : 1;
    default: return 1;
    }
}

int
agent_dmetaphone(const char *norm, char out[5])
{
    struct s_dm w;
    int i = 0, letters = 0;

    memset(out, 0, 5);
    w.len = 0;
    w.clen = 0;
    for (const char *p = norm; *p != '\0' && w.len < S_DM_MAX - 6; p++) {
        int c = (unsigned char)*p;
        if (c >= 'a' && c <= 'z')
            c -= 'a' - 'A';
        if (c >= 'A' && c <= 'Z')
            letters = 1;
        else if (c != ' ')
            continue;
        w.s[w.len++] = (char)c;
    }
    if (!letters) {
        xl_wipe(w.s, (size_t)w.len);
        return AGENT_R_MISSING;
    }
    memcpy(w.s + w.len, "     ", 6);
    w.plen = w.len + 5;
    w.last = w.len - 1;
    w.slavo = strchr(w.s, 'W') != NULL || strchr(w.s, 'K') != NULL || strstr(w.s, "CZ") != NULL;
    w.germanic = s_has(&w, 0, "VAN |VON |SCH");

    if (s_has(&w, 0, "GN|KN|PN|WR|PS")) /* silent at the start */
        i = 1;
    if (w.s[0] == 'X') { /* initial X sounds Z, as in "Xavier" */
        s_add(&w, "S");
        i = 1;
    }
    while (i < w.len && w.clen < 4)
        i += s_dm_step(&w, i);

    xl_wipe(w.s, (size_t)w.plen);
    if (w.clen > 4)
        w.clen = 4;
    memcpy(out, w.code, (size_t)w.clen);
    xl_wipe(w.code, sizeof w.code);
    if (w.clen == 0)
        return AGENT_R_MISSING;
    return AGENT_OK;
}
