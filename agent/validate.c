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
    {"field_count", "The row has fewer fields than the header."},
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
    size_t need = 0;

    memset(l, 0, sizeof *l);
    for (int c = 0; c < AGENT_COL_COUNT; c++) {
        char names[AGENT_COLUMN_MAX], *name = names, *plus;
        int n = 0;
        l->col[c] = -1;
        if (m->columns[c][0] == '\0')
            continue;
        snprintf(names, sizeof names, "%s", m->columns[c]);
        /* "street_number + address_1": several columns read as one value. */
        for (; name != NULL && n < 4; n++, name = plus) {
            int idx;
            plus = strstr(name, " + ");
            if (plus != NULL) {
                *plus = '\0';
                plus += 3;
            }
            idx = s_find(csv, nfields, name);
            if (idx < 0)
                return xl_err_set(err, errlen, XL_ERR_FORMAT,
                                  "column '%s' (mapped to %s in %s) is not in the header", name,
                                  agent_column_name((enum agent_column)c), m->path);
            if (n == 0)
                l->col[c] = idx;
            else
                l->extra[c][l->nextra[c]++] = idx;
            if ((size_t)idx + 1 > need)
                need = (size_t)idx + 1;
        }
    }
    for (size_t i = 0; i < m->noutcomes; i++) {
        l->outcome[i] = s_find(csv, nfields, m->outcomes[i].column);
        if (l->outcome[i] < 0)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "column '%s' (outcome %s in %s) is not in the header",
                              m->outcomes[i].column, m->outcomes[i].name, m->path);
        if ((size_t)l->outcome[i] + 1 > need)
            need = (size_t)l->outcome[i] + 1;
    }
    l->noutcomes = m->noutcomes;
    l->min_fields = need;
    return 0;
}

static void
s_issue(struct agent_row *r, const struct agent_mapping *m, int field, int reason)
{
    int fatal = field < AGENT_COL_COUNT && (m->required & (1u << field)) != 0;

    if (r->nissues < AGENT_MAX_ISSUES) {
        r->issues[r->nissues].field = field;
        r->issues[r->nissues].reason = reason;
        r->issues[r->nissues].fatal = fatal;
        r->nissues++;
    }
    if (fatal)
        r->rejected = 1;
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
    const char *v[AGENT_COL_COUNT];
    size_t len[AGENT_COL_COUNT];
    struct agent_date dob;
    int rc = AGENT_OK;

    memset(p, 0, sizeof *p);
    r->nissues = 0;
    r->rejected = 0;
    if (nfields < l->min_fields) {
        /* Not a guess at which columns shifted: the whole row is refused. */
        r->issues[0] = (struct agent_issue){AGENT_COL_SOURCE_ID, AGENT_RR_FIELD_COUNT, 1};
        r->nissues = 1;
        r->rejected = 1;
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
    }

    agent_trim(&v[AGENT_COL_SOURCE_ID], &len[AGENT_COL_SOURCE_ID]);
    if (len[AGENT_COL_SOURCE_ID] == 0)
        s_issue(r, m, AGENT_COL_SOURCE_ID, AGENT_R_MISSING);
    else if (len[AGENT_COL_SOURCE_ID] >= sizeof p->source_id)
        s_issue(r, m, AGENT_COL_SOURCE_ID, AGENT_R_TOO_LONG);
    else
        memcpy(p->source_id, v[AGENT_COL_SOURCE_ID], len[AGENT_COL_SOURCE_ID]);

        /* Each field: normalise; on failure record why (missing optional values are
         * not problems: a field an agency often leaves blank is normal). */
#define S_CHECK(fld, call, out)                                                                    \
    do {                                                                                           \
        if (l->col[fld] >= 0) {                                                                    \
            rc = (call);                                                                           \
            if (rc != AGENT_OK)                                                                    \
                xl_wipe(out, sizeof out); /* a refused value is left out, never half-kept */       \
            if (rc != AGENT_OK && (rc != AGENT_R_MISSING || (m->required & (1u << (fld)))))        \
                s_issue(r, m, fld, rc);                                                            \
        } else if (m->required & (1u << (fld))) {                                                  \
            s_issue(r, m, fld, AGENT_R_MISSING);                                                   \
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
    S_CHECK(
        AGENT_COL_DOB,
        agent_norm_date(v[AGENT_COL_DOB], len[AGENT_COL_DOB], m->dob_formats, &m->dob_rules, &dob),
        p->dob);
    if (l->col[AGENT_COL_DOB] >= 0 && rc == AGENT_OK)
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
            s_issue(r, m, AGENT_COL_COUNT + (int)i, rc);
        r->outcomes[i] = r->outcome_text[i];
    }
}
