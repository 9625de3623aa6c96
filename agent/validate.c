#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validate.h"
#include "xl/err.h"
#include "xl/mem.h"

static const struct {
    const char *code;
    const char *text;
} s_row_reasons[AGENT_RR_COUNT - AGENT_R_COUNT] = {
    {"field_count", "The row has fewer or more fields than the header (an unquoted comma or "
                    "semicolon in a value?); nothing of it is used."},
    {"not_integer", "The value is not a whole number."},
    {"not_number", "The value is not a number."},
    {"not_yes_no", "The value is not yes/no (Y, N, yes, no, true, false, 1, 0)."},
    {"text_too_long", "The text is longer than 255 bytes."},
};

const char *
agent_issue_code(int reason)
{
    if (reason >= AGENT_R_COUNT && reason < AGENT_RR_COUNT)
        return s_row_reasons[reason - AGENT_R_COUNT].code;
    return agent_reason_code((enum agent_reason)reason);
}

const char *
agent_issue_text(int reason)
{
    if (reason >= AGENT_R_COUNT && reason < AGENT_RR_COUNT)
        return s_row_reasons[reason - AGENT_R_COUNT].text;
    return agent_reason_text((enum agent_reason)reason);
}

const char *
agent_issue_field(const struct agent_mapping *m, int field)
{
    if (field < AGENT_COL_COUNT)
        return agent_column_name((enum agent_column)field);
    if ((size_t)(field - AGENT_COL_COUNT) < m->noutcomes)
        return m->outcomes[field - AGENT_COL_COUNT].name;
    return "unknown";
}

void
agent_row_wipe(struct agent_row *r)
{
    xl_wipe(r, sizeof *r);
}

static int
s_find(const struct xl_csv *csv, size_t nfields, const char *name)
{
    size_t len;

    for (size_t i = 0; i < nfields; i++) {
        const char *h = xl_csv_field(csv, i, &len);
        if (strcmp(h, name) == 0)
            return (int)i;
    }
    for (size_t i = 0; i < nfields; i++) {
        const char *h = xl_csv_field(csv, i, &len);
        if (strcasecmp(h, name) == 0)
            return (int)i;
    }
    return -1;
}

int
agent_layout_from_header(const struct agent_mapping *m, const struct xl_csv *csv, size_t nfields,
                         struct agent_layout *l, char *err, size_t errlen)
{
    size_t need = 0, at = 0;
    char missing[XL_ERRBUF];
    int nmissing = 0;

    memset(l, 0, sizeof *l);
    missing[0] = '\0';
    for (int c = 0; c < AGENT_COL_COUNT + (int)m->noutcomes; c++) {
        const int outcome = c >= AGENT_COL_COUNT;
        char names[AGENT_COLUMN_MAX], *name = names, *plus;
        int n = 0;
        if (!outcome)
            l->col[c] = -1;
        snprintf(names, sizeof names, "%s",
                 outcome ? m->outcomes[c - AGENT_COL_COUNT].column : m->columns[c]);
        if (names[0] == '\0')
            continue;
        /* "street_number + address_1": several columns read as one value. */
        for (; name != NULL && n < 4; n++, name = plus) {
            int idx, w;
            plus = outcome ? NULL : strstr(name, " + ");
            if (plus != NULL) {
                *plus = '\0';
                plus += 3;
            }
            idx = s_find(csv, nfields, name);
            if (idx < 0) {
                /* Every missing column in one message: one run finds them all. */
                w = snprintf(missing + at, sizeof missing - at, "%s'%s' (%s%s)",
                             nmissing > 0 ? ", " : "", name, outcome ? "outcome " : "",
                             outcome ? m->outcomes[c - AGENT_COL_COUNT].name
                                     : agent_column_name((enum agent_column)c));
                if (w > 0 && (size_t)w < sizeof missing - at)
                    at += (size_t)w;
                nmissing++;
                continue;
            }
            if (outcome)
                l->outcome[c - AGENT_COL_COUNT] = idx;
            else if (n == 0)
                l->col[c] = idx;
            else
                l->extra[c][l->nextra[c]++] = idx;
            if ((size_t)idx + 1 > need)
                need = (size_t)idx + 1;
        }
    }
    if (nmissing > 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%d column%s mapped in %s %s not in the header: %s", nmissing,
                          nmissing == 1 ? "" : "s", m->path, nmissing == 1 ? "is" : "are", missing);
    l->noutcomes = m->noutcomes;
    l->min_fields = need;
    l->header_fields = nfields;
    return 0;
}

static void
s_issue(struct agent_row *r, const struct agent_mapping *m, int field, int reason, int salvaged)
{
    /* A partial date is what the mapping said to accept: reported, never fatal. */
    int fatal = field < AGENT_COL_COUNT && (m->required & (1u << field)) != 0 &&
                reason != AGENT_R_DATE_PARTIAL;

    if (r->nissues < AGENT_MAX_ISSUES) {
        r->issues[r->nissues].field = field;
        r->issues[r->nissues].reason = reason;
        r->issues[r->nissues].fatal = fatal;
        r->issues[r->nissues].salvaged = salvaged;
        r->nissues++;
    }
    if (fatal)
        r->rejected = 1;
}

/* Keeps in p->salvage what the fuzzy comparison can use of a value refused
 * with reason rc: the one place that decides which refusals are salvaged. Only
 * reasons that say the value is there but wrong: a name with digits or symbols,
 * a date that is impossible, implausible, partial or in no format, a postcode
 * or identifier with stray characters. Never an NHS number or UPN (strong
 * identifiers), sex, or a value that is missing, too long or not UTF-8. The
 * year of a salvaged date is kept on its own only when the plausibility rules
 * allow it, as blocking keys may use it. 1 when something was kept. */
static int
s_salvage(const struct agent_mapping *m, struct agent_person *p, int field, int rc, const char *v,
          size_t len, const char *dob_formats)
{
    struct agent_salvage *s = &p->salvage;
    char *name = field == AGENT_COL_FIRST_NAME    ? s->first
                 : field == AGENT_COL_MIDDLE_NAME ? s->middle
                                                  : s->surname;
    int y = 0;

    switch (field) {
    case AGENT_COL_FIRST_NAME:
    case AGENT_COL_MIDDLE_NAME:
    case AGENT_COL_SURNAME:
        return rc == AGENT_R_NAME_CHARS &&
               agent_name_salvage(v, len, name, sizeof s->first) == AGENT_OK;
    case AGENT_COL_DOB:
        if (rc != AGENT_R_DATE_FORMAT && rc != AGENT_R_DATE_INVALID && rc != AGENT_R_DATE_FUTURE &&
            rc != AGENT_R_DATE_TOO_OLD && rc != AGENT_R_DATE_TOO_RECENT &&
            rc != AGENT_R_DATE_PARTIAL)
            return 0;
        if (agent_date_salvage(v, len, dob_formats, s->dob) != AGENT_OK)
            return 0;
        /* "1987-13-05", "1987": a year of four digits first. */
        if (strspn(s->dob, "0123456789") == 4) {
            for (int i = 0; i < 4; i++)
                y = y * 10 + (s->dob[i] - '0');
        }
        if (y > 0 && agent_date_year_plausible(y, &m->dob_rules)) {
            memcpy(s->yob, s->dob, 4);
            s->yob[4] = '\0';
        }
        return 1;
    case AGENT_COL_POSTCODE:
        return (rc == AGENT_R_POSTCODE || rc == AGENT_R_CODE_FORMAT) &&
               agent_code_salvage(v, len, m->postcode_uk, s->postcode, sizeof s->postcode) ==
                   AGENT_OK;
    case AGENT_COL_OTHER_ID:
        return rc == AGENT_R_CODE_FORMAT &&
               agent_code_salvage(v, len, 0, s->other_id, sizeof s->other_id) == AGENT_OK;
    default: return 0;
    }
}

/* A person field's value refused with reason rc: salvaged where it can be,
 * reported unless it is an optional value left empty. */
static void
s_refused(const struct agent_mapping *m, struct agent_row *r, int field, int rc, const char *v,
          size_t len, const char *dob_formats)
{
    int salvaged = s_salvage(m, &r->person, field, rc, v, len, dob_formats);

    if (rc != AGENT_R_MISSING || (m->required & (1u << field)))
        s_issue(r, m, field, rc, salvaged);
}

/* The formats a date of birth read from its parts is parsed with. */
#define S_DOB_PARTS_FORMATS "yyyy-m-d|yyyy-mon-d"

/* The date of birth from dob_year, dob_month and dob_day (values already
 * read, missing-value words emptied) as "Y-M-D" in buf, an unknown month or
 * day written 0 (a partial date when the mapping allows one). Its length; 0
 * when every part is empty. */
static size_t
s_dob_from_parts(const char *const *v, const size_t *len, char *buf, size_t cap)
{
    const char *part[3];
    size_t n[3];
    int any = 0;

    for (int i = 0; i < 3; i++) {
        part[i] = v[AGENT_COL_DOB_YEAR + i];
        n[i] = len[AGENT_COL_DOB_YEAR + i];
        agent_trim(&part[i], &n[i]);
        any |= n[i] > 0;
        if (n[i] > 16) /* no part of a date is this long: kept short enough to fail */
            n[i] = 16;
    }
    if (!any)
        return 0;
    return (size_t)snprintf(buf, cap, "%.*s-%.*s-%.*s", (int)n[0], part[0],
                            n[1] > 0 ? (int)n[1] : 1, n[1] > 0 ? part[1] : "0",
                            n[2] > 0 ? (int)n[2] : 1, n[2] > 0 ? part[2] : "0");
}

/* Canonical text of an outcome value, or a reason. "" for a missing value. */
static int
s_outcome(const struct agent_outcome *o, const char *v, size_t len, char *out)
{
    char *end;

    out[0] = '\0';
    agent_trim(&v, &len);
    if (len == 0)
        return AGENT_OK;
    switch (o->type) {
    case AGENT_OUT_INT: {
        long long n;
        char buf[32];
        if (len >= sizeof buf)
            return AGENT_RR_NOT_INTEGER;
        memcpy(buf, v, len);
        buf[len] = '\0';
        errno = 0;
        n = strtoll(buf, &end, 10);
        if (errno != 0 || *end != '\0' || end == buf)
            return AGENT_RR_NOT_INTEGER;
        snprintf(out, AGENT_OUTCOME_TEXT_MAX, "%lld", n);
        return AGENT_OK;
    }
    case AGENT_OUT_DECIMAL: {
        double d;
        char buf[64];
        if (len >= sizeof buf)
            return AGENT_RR_NOT_NUMBER;
        memcpy(buf, v, len);
        buf[len] = '\0';
        if (buf[len - 1] == '%') /* "97.5%" in an attendance column */
            buf[--len] = '\0';
        errno = 0;
        d = strtod(buf, &end);
        if (errno != 0 || *end != '\0' || end == buf || !isfinite(d))
            return AGENT_RR_NOT_NUMBER;
        snprintf(out, AGENT_OUTCOME_TEXT_MAX, "%.10g", d);
        return AGENT_OK;
    }
    case AGENT_OUT_BOOL: {
        static const char *yes[] = {"y", "yes", "true", "1", "t"};
        static const char *no[] = {"n", "no", "false", "0", "f"};
        for (size_t i = 0; i < 5; i++) {
            if (strlen(yes[i]) == len && strncasecmp(v, yes[i], len) == 0) {
                strcpy(out, "1");
                return AGENT_OK;
            }
            if (strlen(no[i]) == len && strncasecmp(v, no[i], len) == 0) {
                strcpy(out, "0");
                return AGENT_OK;
            }
        }
        return AGENT_RR_NOT_YES_NO;
    }
    case AGENT_OUT_DATE: {
        struct agent_date d;
        int r = agent_norm_date(v, len, o->date_formats, NULL, &d);
        if (r != AGENT_OK)
            return r;
        agent_date_iso(&d, out);
        return AGENT_OK;
    }
    case AGENT_OUT_TEXT:
        if (len >= AGENT_OUTCOME_TEXT_MAX)
            return AGENT_RR_TEXT_TOO_LONG;
        memcpy(out, v, len);
        out[len] = '\0';
        return AGENT_OK;
    }
    return AGENT_RR_NOT_NUMBER;
}

void
agent_validate_row(const struct agent_mapping *m, const struct agent_layout *l,
                   const struct xl_csv *csv, size_t nfields, struct agent_row *r)
{
    struct agent_person *p = &r->person;
    const char *v[AGENT_COL_COUNT], *dob_formats = m->dob_formats;
    size_t len[AGENT_COL_COUNT];
    int mapped[AGENT_COL_COUNT];
    struct agent_date dob;
    int rc = AGENT_OK;

    memset(p, 0, sizeof *p);
    r->nissues = 0;
    r->rejected = 0;
    if (nfields < l->min_fields || (l->header_fields > 0 && nfields > l->header_fields)) {
        /* Not a guess at which columns shifted (an unquoted "87,5" would be
         * read as 87 and move every later column): the whole row is refused,
         * with its source id when the row has one, so it can be found. */
        r->issues[0] = (struct agent_issue){AGENT_COL_SOURCE_ID, AGENT_RR_FIELD_COUNT, 1, 0};
        r->nissues = 1;
        r->rejected = 1;
        if (l->col[AGENT_COL_SOURCE_ID] >= 0 && (size_t)l->col[AGENT_COL_SOURCE_ID] < nfields) {
            size_t n;
            const char *id = xl_csv_field(csv, (size_t)l->col[AGENT_COL_SOURCE_ID], &n);
            agent_trim(&id, &n);
            if (n < sizeof p->source_id)
                memcpy(p->source_id, id, n);
        }
        return;
    }
    for (int c = 0; c < AGENT_COL_COUNT; c++) {
        v[c] = "";
        len[c] = 0;
        if (l->col[c] >= 0)
            v[c] = xl_csv_field(csv, (size_t)l->col[c], &len[c]);
        if (l->nextra[c] > 0) {
            /* Joined columns: copied with a space between them. */
            char *buf = c == AGENT_COL_ADDRESS ? r->joined[0] : r->joined[1];
            size_t n = 0, fl;
            for (int j = -1; j < l->nextra[c]; j++) {
                const char *f = j < 0 ? v[c] : xl_csv_field(csv, (size_t)l->extra[c][j], &fl);
                if (j < 0)
                    fl = len[c];
                if (n + fl + 2 >= sizeof r->joined[0])
                    break;
                if (n > 0)
                    buf[n++] = ' ';
                memcpy(buf + n, f, fl);
                n += fl;
            }
            buf[n] = '\0';
            v[c] = buf;
            len[c] = n;
        }
        mapped[c] = l->col[c] >= 0;
        /* "N/K", "NULL" ...: not a value, whatever the field. */
        if (c != AGENT_COL_SOURCE_ID && len[c] > 0 && agent_mapping_missing(m, v[c], len[c]))
            len[c] = 0;
    }
    if (mapped[AGENT_COL_DOB_YEAR]) {
        len[AGENT_COL_DOB] = s_dob_from_parts(v, len, r->dob_parts, sizeof r->dob_parts);
        v[AGENT_COL_DOB] = r->dob_parts;
        mapped[AGENT_COL_DOB] = 1;
        dob_formats = S_DOB_PARTS_FORMATS;
    }

    agent_trim(&v[AGENT_COL_SOURCE_ID], &len[AGENT_COL_SOURCE_ID]);
    if (len[AGENT_COL_SOURCE_ID] == 0)
        s_issue(r, m, AGENT_COL_SOURCE_ID, AGENT_R_MISSING, 0);
    else if (len[AGENT_COL_SOURCE_ID] >= sizeof p->source_id)
        s_issue(r, m, AGENT_COL_SOURCE_ID, AGENT_R_TOO_LONG, 0);
    else
        memcpy(p->source_id, v[AGENT_COL_SOURCE_ID], len[AGENT_COL_SOURCE_ID]);

        /* Each field: normalise; on failure record why (missing optional values are
         * not problems: a field an agency often leaves blank is normal). */
#define S_CHECK(fld, call, out)                                                                    \
    do {                                                                                           \
        if (mapped[fld]) {                                                                         \
            rc = (call);                                                                           \
            if (rc != AGENT_OK) {                                                                  \
                xl_wipe(out, sizeof out); /* a refused value is left out, never half-kept */       \
                s_refused(m, r, fld, rc, v[fld], len[fld], dob_formats);                           \
            }                                                                                      \
        } else if (m->required & (1u << (fld))) {                                                  \
            s_issue(r, m, fld, AGENT_R_MISSING, 0);                                                \
        }                                                                                          \
    } while (0)

    S_CHECK(AGENT_COL_FIRST_NAME,
            agent_norm_name(v[AGENT_COL_FIRST_NAME], len[AGENT_COL_FIRST_NAME], p->first,
                            sizeof p->first),
            p->first);
    S_CHECK(AGENT_COL_MIDDLE_NAME,
            agent_norm_name(v[AGENT_COL_MIDDLE_NAME], len[AGENT_COL_MIDDLE_NAME], p->middle,
                            sizeof p->middle),
            p->middle);
    S_CHECK(AGENT_COL_SURNAME,
            agent_norm_name(v[AGENT_COL_SURNAME], len[AGENT_COL_SURNAME], p->surname,
                            sizeof p->surname),
            p->surname);
    S_CHECK(AGENT_COL_DOB,
            agent_norm_date(v[AGENT_COL_DOB], len[AGENT_COL_DOB], dob_formats, &m->dob_rules, &dob),
            p->dob);
    if (mapped[AGENT_COL_DOB] && rc == AGENT_OK)
        agent_date_iso(&dob, p->dob);
    S_CHECK(AGENT_COL_SEX, agent_norm_sex(v[AGENT_COL_SEX], len[AGENT_COL_SEX], p->sex), p->sex);
    if (m->postcode_uk)
        S_CHECK(AGENT_COL_POSTCODE,
                agent_norm_postcode(v[AGENT_COL_POSTCODE], len[AGENT_COL_POSTCODE], p->postcode,
                                    p->district, p->sector),
                p->postcode);
    else
        S_CHECK(AGENT_COL_POSTCODE,
                agent_norm_code(v[AGENT_COL_POSTCODE], len[AGENT_COL_POSTCODE], p->postcode,
                                sizeof p->postcode),
                p->postcode);
    if (p->postcode[0] == '\0') {
        xl_wipe(p->district, sizeof p->district);
        xl_wipe(p->sector, sizeof p->sector);
    }
    S_CHECK(AGENT_COL_NHS_NUMBER,
            agent_norm_nhs(v[AGENT_COL_NHS_NUMBER], len[AGENT_COL_NHS_NUMBER], p->nhs), p->nhs);
    S_CHECK(AGENT_COL_UPN, agent_norm_upn(v[AGENT_COL_UPN], len[AGENT_COL_UPN], p->upn), p->upn);
    S_CHECK(AGENT_COL_ADDRESS,
            agent_norm_text(v[AGENT_COL_ADDRESS], len[AGENT_COL_ADDRESS], p->address,
                            sizeof p->address),
            p->address);
    S_CHECK(AGENT_COL_LOCALITY,
            agent_norm_text(v[AGENT_COL_LOCALITY], len[AGENT_COL_LOCALITY], p->locality,
                            sizeof p->locality),
            p->locality);
    S_CHECK(AGENT_COL_OTHER_ID,
            agent_norm_code(v[AGENT_COL_OTHER_ID], len[AGENT_COL_OTHER_ID], p->other_id,
                            sizeof p->other_id),
            p->other_id);
#undef S_CHECK

    for (size_t i = 0; i < l->noutcomes; i++) {
        size_t n;
        const char *ov = xl_csv_field(csv, (size_t)l->outcome[i], &n);
        rc = s_outcome(&m->outcomes[i], ov, n, r->outcome_text[i]);
        if (rc != AGENT_OK)
            s_issue(r, m, AGENT_COL_COUNT + (int)i, rc, 0);
        r->outcomes[i] = r->outcome_text[i];
    }
}
