#include <errno.h>
#include <iconv.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xl/err.h"
#include "xl/ini.h"
#include "xl/keyfile.h"

static const char *s_columns[AGENT_COL_COUNT] = {
    [AGENT_COL_SOURCE_ID] = "source_id",
    [AGENT_COL_FIRST_NAME] = "first_name",
    [AGENT_COL_MIDDLE_NAME] = "middle_name",
    [AGENT_COL_SURNAME] = "surname",
    [AGENT_COL_DOB] = "dob",
    [AGENT_COL_SEX] = "sex",
    [AGENT_COL_POSTCODE] = "postcode",
    [AGENT_COL_NHS_NUMBER] = "nhs_number",
    [AGENT_COL_UPN] = "upn",
    [AGENT_COL_ADDRESS] = "address",
    [AGENT_COL_LOCALITY] = "locality",
    [AGENT_COL_OTHER_ID] = "other_id",
    [AGENT_COL_DOB_YEAR] = "dob_year",
    [AGENT_COL_DOB_MONTH] = "dob_month",
    [AGENT_COL_DOB_DAY] = "dob_day",
};

/* Words exports write for "not known". Not "NA": Na is a surname. */
const char *const agent_missing_default[] = {
    "n/a", "n/k", "nk", "not known", "unknown", "null", "-", "?", NULL,
};

#define S_DOB_PARTS (1u << AGENT_COL_DOB_YEAR | 1u << AGENT_COL_DOB_MONTH | 1u << AGENT_COL_DOB_DAY)

static const char *s_types[] = {"int", "decimal", "bool", "date", "text"};

const char *
agent_column_name(enum agent_column c)
{
    return (unsigned)c < AGENT_COL_COUNT ? s_columns[c] : "unknown";
}

const char *
agent_outcome_type_name(enum agent_outcome_type t)
{
    return (unsigned)t < sizeof s_types / sizeof s_types[0] ? s_types[t] : "unknown";
}

/* Parser state: the shared INI state first (xl/ini.h), then what is filled. */
struct s_parse {
    struct xl_ini ini;
    void *out;
};

static int
s_bool(struct s_parse *p, const char *name, const char *v, int *out)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
        *out = 1;
    else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
        *out = 0;
    else
        return xl_ini_fail(&p->ini, "%s must be yes or no", name);
    return 1;
}

static int
s_int(struct s_parse *p, const char *name, const char *v, int lo, int hi, int *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
        return xl_ini_fail(&p->ini, "%s must be a whole number from %d to %d", name, lo, hi);
    *out = (int)n;
    return 1;
}

/* Copies a '|'-separated list of date formats without the spaces around each
 * '|', so "dd/mm/yyyy | d/m/yyyy" means what it looks like. */
static int
s_formats(struct s_parse *p, char *dst, size_t cap, const char *name, const char *v,
          int allow_partial)
{
    char msg[XL_ERRBUF];
    size_t n = 0;

    for (const char *s = v; *s != '\0'; s++) {
        if (*s == ' ' &&
            (s[1] == '|' || s[1] == ' ' || s[1] == '\0' || (n > 0 && dst[n - 1] == '|')))
            continue;
        if (n + 1 >= cap)
            return xl_ini_fail(&p->ini, "%s is too long", name);
        dst[n++] = *s;
    }
    dst[n] = '\0';
    if ((allow_partial ? agent_date_formats_check_partial(dst, NULL, msg, sizeof msg)
                       : agent_date_formats_check(dst, msg, sizeof msg)) != 0)
        return xl_ini_fail(&p->ini, "%s: %s", name, msg);
    return 1;
}

/* v[0..len) in lower case with surrounding white space trimmed and inner runs
 * made one space, into out[cap]; 0, or -1 when it does not fit. */
static int
s_missing_norm(const char *v, size_t len, char *out, size_t cap)
{
    size_t n = 0;

    agent_trim(&v, &len);
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
            if (n > 0 && out[n - 1] == ' ')
                continue;
            c = ' ';
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return 0;
}

int
agent_mapping_missing(const struct agent_mapping *m, const char *v, size_t len)
{
    char w[AGENT_MISSING_WORD];

    if (m->nmissing == 0 || len == 0 || len >= 4 * AGENT_MISSING_WORD ||
        s_missing_norm(v, len, w, sizeof w) != 0 || w[0] == '\0')
        return 0;
    for (size_t i = 0; i < m->nmissing; i++) {
        if (strcmp(w, m->missing[i]) == 0)
            return 1;
    }
    return 0;
}

/* "NA, N/A, NOT KNOWN": comma-separated words added to the mapping's list. */
static int
s_missing(struct s_parse *p, struct agent_mapping *m, const char *name, const char *v)
{
    const char *w = v;

    for (;;) {
        const char *comma = strchr(w, ',');
        size_t n = comma != NULL ? (size_t)(comma - w) : strlen(w);
        char word[AGENT_MISSING_WORD];
        if (s_missing_norm(w, n, word, sizeof word) != 0)
            return xl_ini_fail(&p->ini, "%s: a word is longer than %d bytes", name,
                               AGENT_MISSING_WORD - 1);
        if (word[0] == '\0' && (comma != NULL || w != v))
            return xl_ini_fail(&p->ini, "%s: an empty word between commas", name);
        if (word[0] != '\0') {
            if (m->nmissing == AGENT_MAX_MISSING)
                return xl_ini_fail(&p->ini, "%s: more than %d words", name, AGENT_MAX_MISSING);
            memcpy(m->missing[m->nmissing++], word, sizeof word);
        }
        if (comma == NULL)
            return 1;
        w = comma + 1;
    }
}

static int
s_column_parse(const char *s)
{
    for (int i = 0; i < AGENT_COL_COUNT; i++) {
        if (strcmp(s, s_columns[i]) == 0)
            return i;
    }
    return -1;
}

static int
s_config_handler(void *user, const char *section, const char *name, const char *v)
{
    struct s_parse *p = user;
    struct agent_config *c = p->out;

    if (p->ini.failed)
        return 1;
    if (strcmp(section, "agent") == 0) {
        if (strcmp(name, "agency") == 0) {
            if (!xl_name_valid(v))
                return xl_ini_fail(&p->ini, "agency must be letters, digits, '.', '_' or '-'");
            return xl_ini_copy(&p->ini, c->agency, sizeof c->agency, name, v);
        }
        if (strcmp(name, "spec") == 0)
            return xl_ini_path(&p->ini, c->spec_path, AGENT_PATH_MAX, name, v);
        if (strcmp(name, "linkage_secret") == 0)
            return xl_ini_path(&p->ini, c->secret_path, AGENT_PATH_MAX, name, v);
        if (strcmp(name, "local_key") == 0)
            return xl_ini_path(&p->ini, c->local_key_path, AGENT_PATH_MAX, name, v);
        if (strcmp(name, "analysis_public") == 0)
            return xl_ini_path(&p->ini, c->analysis_path, AGENT_PATH_MAX, name, v);
        if (strcmp(name, "mapping") == 0)
            return xl_ini_path(&p->ini, c->mapping_path, AGENT_PATH_MAX, name, v);
        if (strcmp(name, "max_reject_rate") == 0) {
            char *end;
            errno = 0;
            c->max_reject_rate = strtod(v, &end);
            if (errno != 0 || end == v || *end != '\0' || c->max_reject_rate < 0 ||
                c->max_reject_rate > 1)
                return xl_ini_fail(&p->ini, "max_reject_rate must be a fraction from 0 to 1");
            return 1;
        }
    } else if (strcmp(section, "linker") == 0) {
        if (strcmp(name, "endpoint") == 0)
            return xl_ini_endpoint(&p->ini, c->endpoint, sizeof c->endpoint, v, 0);
        if (strcmp(name, "server_public") == 0)
            return xl_ini_path(&p->ini, c->server_key_path, AGENT_PATH_MAX, name, v);
        if (strcmp(name, "sign_public") == 0)
            return xl_ini_path(&p->ini, c->sign_key_path, AGENT_PATH_MAX, name, v);
        if (strcmp(name, "agent_key") == 0)
            return xl_ini_path(&p->ini, c->agent_key_path, AGENT_PATH_MAX, name, v);
        if (strcmp(name, "state_dir") == 0)
            return xl_ini_path(&p->ini, c->state_dir, AGENT_PATH_MAX, name, v);
        if (strcmp(name, "chunk_records") == 0) {
            int n;
            if (!s_int(p, name, v, 1, 100000, &n))
                return 0;
            c->chunk_records = (unsigned)n;
            return 1;
        }
    } else {
        return xl_ini_fail(&p->ini, "unknown section [%s]", section);
    }
    return xl_ini_fail(&p->ini, "unknown key '%.40s' in [%s]", name, section);
}

static int
s_outcome(struct s_parse *p, struct agent_mapping *m, const char *name, const char *v)
{
    struct agent_outcome *o;
    char buf[512], *sep, *type, *end;
    size_t i;

    if (m->noutcomes == AGENT_MAX_OUTCOMES)
        return xl_ini_fail(&p->ini, "more than %d outcome attributes", AGENT_MAX_OUTCOMES);
    if (!xl_name_valid(name))
        return xl_ini_fail(&p->ini,
                           "attribute name '%.40s' must be letters, digits, '.', '_' or '-'", name);
    for (i = 0; i < m->noutcomes; i++) {
        if (strcmp(m->outcomes[i].name, name) == 0)
            return xl_ini_fail(&p->ini, "attribute '%s' defined twice", name);
    }
    o = &m->outcomes[m->noutcomes];
    memset(o, 0, sizeof *o);
    if (strlen(v) >= sizeof buf)
        return xl_ini_fail(&p->ini, "%s: too long", name);
    strcpy(buf, v);
    /* "Column Name : type [date formats]"; the last " : " separates, so a column
     * name may itself contain a colon. */
    sep = strrchr(buf, ':');
    if (sep == NULL)
        return xl_ini_fail(&p->ini, "%s: expected 'Column : type'", name);
    *sep = '\0';
    type = sep + 1;
    while (*type == ' ')
        type++;
    end = sep;
    while (end > buf && end[-1] == ' ')
        *--end = '\0';
    if (buf[0] == '\0')
        return xl_ini_fail(&p->ini, "%s: no column given", name);
    if (!xl_ini_copy(&p->ini, o->column, sizeof o->column, name, buf))
        return 0;
    snprintf(o->name, sizeof o->name, "%s", name);
    for (i = 0; i < sizeof s_types / sizeof s_types[0]; i++) {
        size_t n = strlen(s_types[i]);
        if (strncmp(type, s_types[i], n) == 0 && (type[n] == '\0' || type[n] == ' '))
            break;
    }
    if (i == sizeof s_types / sizeof s_types[0])
        return xl_ini_fail(&p->ini, "%s: type must be int, decimal, bool, date or text", name);
    o->type = (enum agent_outcome_type)i;
    if (o->type == AGENT_OUT_DATE) {
        const char *f = type + 4;
        while (*f == ' ')
            f++;
        if (*f == '\0')
            return xl_ini_fail(&p->ini,
                               "%s: a date attribute needs its formats ('date dd/mm/yyyy')", name);
        if (!s_formats(p, o->date_formats, sizeof o->date_formats, name, f, 0))
            return 0;
    } else if (type[strlen(s_types[i])] != '\0') {
        return xl_ini_fail(&p->ini, "%s: only a date type takes formats", name);
    }
    m->noutcomes++;
    return 1;
}

/* delimiter = comma | semicolon | tab | pipe, by name: a tab cannot be
 * written in an INI value, and " ;" starts a comment. */
static int
s_delimiter(struct s_parse *p, struct agent_mapping *m, const char *v)
{
    static const struct {
        const char *name;
        char ch;
    } names[] = {{"comma", ','}, {",", ','},    {"semicolon", ';'},
                 {"tab", '\t'},  {"pipe", '|'}, {"|", '|'}};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(v, names[i].name) == 0) {
            m->delimiter = names[i].ch;
            return 1;
        }
    }
    return xl_ini_fail(&p->ini, "delimiter must be comma, semicolon, tab or pipe");
}

/* encoding = utf-8 | windows-1252 | latin-1 ... : any character set iconv
 * knows, checked here so a typo fails when the mapping is read. */
static int
s_encoding(struct s_parse *p, struct agent_mapping *m, const char *v)
{
    iconv_t cd;

    if (strlen(v) >= sizeof m->encoding)
        return xl_ini_fail(&p->ini, "encoding is too long");
    cd = iconv_open("UTF-8", v);
    if (cd == (iconv_t)-1)
        return xl_ini_fail(&p->ini,
                           "encoding '%.40s' is not a character set this system knows (utf-8, "
                           "windows-1252, latin-1 ...; iconv -l lists them)",
                           v);
    iconv_close(cd);
    snprintf(m->encoding, sizeof m->encoding, "%s", v);
    return 1;
}

static int
s_mapping_handler(void *user, const char *section, const char *name, const char *v)
{
    struct s_parse *p = user;
    struct agent_mapping *m = p->out;
    int col;

    if (p->ini.failed)
        return 1;
    if (strcmp(section, "dataset") == 0) {
        if (strcmp(name, "name") == 0) {
            if (!xl_name_valid(v))
                return xl_ini_fail(&p->ini,
                                   "dataset name must be letters, digits, '.', '_' or '-'");
            return xl_ini_copy(&p->ini, m->dataset, sizeof m->dataset, name, v);
        }
        if (strcmp(name, "one_per_person") == 0)
            return s_bool(p, name, v, &m->one_per_person);
        if (strcmp(name, "delimiter") == 0)
            return s_delimiter(p, m, v);
        if (strcmp(name, "encoding") == 0)
            return s_encoding(p, m, v);
        if (strcmp(name, "postcode_format") == 0) {
            if (strcmp(v, "uk") == 0)
                m->postcode_uk = 1;
            else if (strcmp(v, "any") == 0)
                m->postcode_uk = 0;
            else
                return xl_ini_fail(&p->ini, "postcode_format must be uk or any");
            return 1;
        }
        if (strcmp(name, "required") == 0) {
            char buf[256], *save = NULL;
            if (!xl_ini_copy(&p->ini, buf, sizeof buf, name, v))
                return 0;
            m->required = 0;
            for (char *t = strtok_r(buf, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
                col = s_column_parse(t);
                if (col < 0)
                    return xl_ini_fail(&p->ini, "required: unknown field '%.40s'", t);
                if (S_DOB_PARTS & (1u << col))
                    return xl_ini_fail(&p->ini, "required: %s is a part of dob; list dob instead",
                                       t);
                m->required |= 1u << col;
            }
            return 1;
        }
        if (strcmp(name, "missing") == 0) {
            m->nmissing = 0;
            return s_missing(p, m, name, v);
        }
        if (strcmp(name, "missing_add") == 0)
            return s_missing(p, m, name, v);
    } else if (strcmp(section, "columns") == 0) {
        col = s_column_parse(name);
        if (col < 0)
            return xl_ini_fail(&p->ini,
                               "unknown field '%.40s' (fields: source_id first_name middle_name "
                               "surname dob sex postcode nhs_number upn address locality other_id; "
                               "or the date of birth in parts: dob_year dob_month dob_day)",
                               name);
        if (strstr(v, " + ") != NULL && col != AGENT_COL_ADDRESS && col != AGENT_COL_LOCALITY)
            return xl_ini_fail(&p->ini,
                               "only address and locality may join several columns with ' + '");
        if (v[0] == '\0')
            return 1; /* left empty: the extract has no such column */
        return xl_ini_copy(&p->ini, m->columns[col], AGENT_COLUMN_MAX, name, v);
    } else if (strcmp(section, "dob") == 0) {
        if (strcmp(name, "formats") == 0)
            return s_formats(p, m->dob_formats, sizeof m->dob_formats, name, v, 1);
        if (strcmp(name, "partial") == 0)
            return s_bool(p, name, v, &m->dob_rules.partial);
        if (strcmp(name, "reference") == 0) {
            struct agent_date d;
            if (strcmp(v, "today") == 0) {
                memset(&m->dob_rules.ref, 0, sizeof m->dob_rules.ref);
                return 1;
            }
            if (agent_norm_date(v, strlen(v), "yyyy-mm-dd", NULL, &d) != AGENT_OK)
                return xl_ini_fail(&p->ini, "reference must be a date YYYY-MM-DD or today");
            m->dob_rules.ref = d;
            return 1;
        }
        if (strcmp(name, "min_year") == 0)
            return s_int(p, name, v, 1800, 9999, &m->dob_rules.min_year);
        if (strcmp(name, "max_age") == 0)
            return s_int(p, name, v, 0, 150, &m->dob_rules.max_age_years);
        if (strcmp(name, "min_age") == 0)
            return s_int(p, name, v, 0, 150, &m->dob_rules.min_age_years);
    } else if (strcmp(section, "outcomes") == 0) {
        return s_outcome(p, m, name, v);
    } else {
        return xl_ini_fail(&p->ini, "unknown section [%s]", section);
    }
    return xl_ini_fail(&p->ini, "unknown key '%.40s' in [%s]", name, section);
}

int
agent_config_load(const char *path, struct agent_config *c, char *err, size_t errlen)
{
    struct s_parse p = {.out = c};
    int r;

    memset(c, 0, sizeof *c);
    c->max_reject_rate = 0.05;
    c->chunk_records = 1000;
    snprintf(c->path, sizeof c->path, "%s", path);
    r = xl_ini_parse_file(path, "agent configuration", s_config_handler, &p, err, errlen);
    if (r != 0)
        return r;
    if (c->agency[0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [agent] agency is required", path);
    if (c->spec_path[0] == '\0' || c->mapping_path[0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [agent] needs spec and mapping", path);
    return 0;
}

/* What the [columns] and [dob] sections say together about the date of birth. */
static int
s_dob_check(const struct agent_mapping *m, char *err, size_t errlen)
{
    const char *path = m->path;
    int year = m->columns[AGENT_COL_DOB_YEAR][0] != '\0';
    int month = m->columns[AGENT_COL_DOB_MONTH][0] != '\0';
    int day = m->columns[AGENT_COL_DOB_DAY][0] != '\0';
    int partial = 0;
    char msg[XL_ERRBUF];

    if (m->columns[AGENT_COL_DOB][0] != '\0' && (year || month || day))
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: map the date of birth either to one column (dob) or to its parts "
                          "(dob_year, dob_month, dob_day), not both",
                          path);
    if ((month || day) && !year)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: dob_month and dob_day need dob_year mapped too", path);
    if (day && !month)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: dob_day needs dob_month mapped too",
                          path);
    if (year && !day && !m->dob_rules.partial)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: without dob_day the dates of birth are partial: set partial = yes "
                          "in [dob]",
                          path);
    if (agent_date_formats_check_partial(m->dob_formats, &partial, msg, sizeof msg) == 0 &&
        partial && !m->dob_rules.partial)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: [dob] formats has a pattern without a day: set partial = yes in "
                          "[dob] to accept dates of a year or a year and month",
                          path);
    return 0;
}

int
agent_mapping_load(const char *path, struct agent_mapping *m, char *err, size_t errlen)
{
    struct s_parse p = {.out = m};
    int r;

    memset(m, 0, sizeof *m);
    m->delimiter = ',';
    m->required = 1u << AGENT_COL_SOURCE_ID | 1u << AGENT_COL_FIRST_NAME | 1u << AGENT_COL_SURNAME |
                  1u << AGENT_COL_DOB;
    snprintf(m->dob_formats, sizeof m->dob_formats, "yyyy-mm-dd");
    for (size_t i = 0; agent_missing_default[i] != NULL; i++)
        snprintf(m->missing[m->nmissing++], AGENT_MISSING_WORD, "%s", agent_missing_default[i]);
    m->postcode_uk = 1;
    m->dob_rules.min_year = 1900;
    m->dob_rules.max_age_years = 120;
    snprintf(m->path, sizeof m->path, "%s", path);
    r = xl_ini_parse_file(path, "column mapping", s_mapping_handler, &p, err, errlen);
    if (r != 0)
        return r;
    if (m->dataset[0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [dataset] name is required", path);
    if (m->columns[AGENT_COL_SOURCE_ID][0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: [columns] source_id is required (the agency's own record id)", path);
    for (int i = 0; i < AGENT_COL_COUNT; i++) {
        if ((m->required & (1u << i)) && m->columns[i][0] == '\0' &&
            !(i == AGENT_COL_DOB && m->columns[AGENT_COL_DOB_YEAR][0] != '\0'))
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "%s: %s is required but no column is mapped to it", path,
                              s_columns[i]);
    }
    return s_dob_check(m, err, errlen);
}
