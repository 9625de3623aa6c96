/* Unit tests for agent/config.c: the example agent.conf and mapping files load
 * with the values they say; relative paths resolve against the directory of the
 * file naming them; errors name the file, the line where there is one, and the
 * reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/config.h"
#include "testutil.h"
#include "xl/err.h"
#include "xl/spec.h"

#define EXAMPLES "deploy/examples"

static int
s_setup(void **state)
{
    return xl_crypto_init() == 0 ? 0 : -1;
}

static struct agent_mapping s_map; /* large: kept off the stack */

static void
s_load_map(const char *path, struct agent_mapping *m)
{
    char err[XL_ERRBUF] = "";

    if (agent_mapping_load(path, m, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static unsigned
s_bits(int a, int b, int c, int d)
{
    return 1u << a | 1u << b | 1u << c | 1u << d;
}

/* The ISO date agent_norm_date makes of text with the mapping's formats. */
static void
s_date(const char *formats, const char *text, const char *want)
{
    struct agent_date d;
    char iso[11];
    int r = agent_norm_date(text, strlen(text), formats, NULL, &d);

    if (r != AGENT_OK)
        fail_msg("'%s' with formats '%s': %s", text, formats, agent_reason_code(r));
    agent_date_iso(&d, iso);
    assert_string_equal(iso, want);
}

/* ---- the examples ------------------------------------------------------------------ */

static void
test_example_agent_conf(void **state)
{
    struct agent_config c;
    struct xl_spec *spec = NULL;
    char err[XL_ERRBUF] = "";

    assert_int_equal(agent_config_load(EXAMPLES "/agent.conf", &c, err, sizeof err), 0);
    assert_string_equal(c.path, EXAMPLES "/agent.conf");
    assert_string_equal(c.agency, "wmp");
    /* Relative to the file's directory, not to the working directory. */
    assert_string_equal(c.spec_path, EXAMPLES "/linkage.spec");
    assert_string_equal(c.mapping_path, EXAMPLES "/police.map");
    assert_string_equal(c.secret_path, EXAMPLES "/keys/linkage-e1.secret");
    assert_string_equal(c.local_key_path, EXAMPLES "/keys/wmp-local.key");
    assert_string_equal(c.analysis_path, EXAMPLES "/keys/analysis.pub");
    assert_true(c.max_reject_rate > 0.0499 && c.max_reject_rate < 0.0501);
    assert_string_equal(c.endpoint, "tcp://linker.coalition.example:7800");
    assert_string_equal(c.server_key_path, EXAMPLES "/keys/linker.pub");
    assert_string_equal(c.agent_key_path, EXAMPLES "/keys/wmp-agent.key");
    assert_string_equal(c.state_dir, EXAMPLES "/state");
    assert_int_equal(c.chunk_records, 1000);

    /* The files it names load in their turn. */
    assert_int_equal(xl_spec_load(c.spec_path, &spec, err, sizeof err), 0);
    assert_string_equal(spec->name, "coalition-v1");
    free(spec);
    s_load_map(c.mapping_path, &s_map);
    assert_string_equal(s_map.dataset, "youth-justice");
}

static void
test_example_police(void **state)
{
    struct agent_mapping *m = &s_map;

    s_load_map(EXAMPLES "/police.map", m);
    assert_string_equal(m->path, EXAMPLES "/police.map");
    assert_string_equal(m->dataset, "youth-justice");
    assert_int_equal(m->one_per_person, 0);
    assert_string_equal(m->columns[AGENT_COL_SOURCE_ID], "Person ID");
    assert_string_equal(m->columns[AGENT_COL_FIRST_NAME], "Forename");
    assert_string_equal(m->columns[AGENT_COL_MIDDLE_NAME], "");
    assert_string_equal(m->columns[AGENT_COL_SURNAME], "Surname");
    assert_string_equal(m->columns[AGENT_COL_DOB], "Date of Birth");
    assert_string_equal(m->columns[AGENT_COL_SEX], "Gender");
    assert_string_equal(m->columns[AGENT_COL_POSTCODE], "Postcode");
    /* "nhs_number =" with no value: the extract has no such column. */
    assert_string_equal(m->columns[AGENT_COL_NHS_NUMBER], "");
    assert_string_equal(m->columns[AGENT_COL_UPN], "");
    /* The examples require only the source id: a mistyped name or date still
     * feeds the fuzzy comparison (docs/agent.md). */
    assert_int_equal(m->required, 1u << AGENT_COL_SOURCE_ID);
    /* "dd/mm/yyyy | d/m/yyyy": the spaces around '|' are not part of a pattern. */
    assert_string_equal(m->dob_formats, "dd/mm/yyyy|d/m/yyyy");
    s_date(m->dob_formats, "03/04/2012", "2012-04-03");
    s_date(m->dob_formats, "3/4/2012", "2012-04-03");
    assert_int_equal(m->dob_rules.min_year, 1990);
    assert_int_equal(m->dob_rules.max_age_years, 25);
    assert_int_equal(m->dob_rules.min_age_years, 0);
    /* "reference = today": left for the run to fill in; partial dates off. */
    assert_int_equal(m->dob_rules.ref.y, 0);
    assert_int_equal(m->dob_rules.partial, 0);
    /* The built-in missing-value words and the police's own. */
    assert_true(agent_mapping_missing(m, "N/K", 3));
    assert_true(agent_mapping_missing(m, " no fixed  abode", 16));
    assert_true(agent_mapping_missing(m, "nfa", 3));
    assert_false(agent_mapping_missing(m, "NFA1", 4));

    assert_int_equal(m->noutcomes, 3);
    assert_string_equal(m->outcomes[0].name, "offence_count");
    assert_string_equal(m->outcomes[0].column, "Offence Count");
    assert_int_equal(m->outcomes[0].type, AGENT_OUT_INT);
    assert_string_equal(m->outcomes[1].name, "reoffended");
    assert_int_equal(m->outcomes[1].type, AGENT_OUT_BOOL);
    assert_string_equal(m->outcomes[2].name, "first_offence");
    assert_string_equal(m->outcomes[2].column, "First Offence Date");
    assert_int_equal(m->outcomes[2].type, AGENT_OUT_DATE);
    assert_string_equal(m->outcomes[2].date_formats, "dd/mm/yyyy");
}

static void
test_example_health(void **state)
{
    struct agent_mapping *m = &s_map;

    s_load_map(EXAMPLES "/health.map", m);
    assert_string_equal(m->dataset, "health");
    assert_int_equal(m->one_per_person, 0);
    assert_string_equal(m->columns[AGENT_COL_NHS_NUMBER], "NHS_NUMBER");
    assert_string_equal(m->columns[AGENT_COL_FIRST_NAME], "GIVEN_NAME");
    assert_string_equal(m->columns[AGENT_COL_SURNAME], "FAMILY_NAME");
    assert_string_equal(m->columns[AGENT_COL_UPN], "");
    assert_string_equal(m->dob_formats, "yyyy-mm-dd");
    s_date(m->dob_formats, "2012-04-03", "2012-04-03");
    assert_int_equal(m->noutcomes, 3);
    assert_string_equal(m->outcomes[0].name, "gp_registered");
    assert_int_equal(m->outcomes[0].type, AGENT_OUT_BOOL);
    assert_int_equal(m->outcomes[1].type, AGENT_OUT_BOOL);
    assert_string_equal(m->outcomes[2].column, "MH_CRISIS_ADMISSIONS");
    assert_int_equal(m->outcomes[2].type, AGENT_OUT_INT);
}

static void
test_example_education(void **state)
{
    struct agent_mapping *m = &s_map;

    s_load_map(EXAMPLES "/education.map", m);
    assert_string_equal(m->dataset, "school-census");
    assert_string_equal(m->columns[AGENT_COL_UPN], "UPN");
    assert_string_equal(m->columns[AGENT_COL_FIRST_NAME], "Legal Forename");
    assert_string_equal(m->dob_formats, "yyyymmdd");
    s_date(m->dob_formats, "20120403", "2012-04-03");
    assert_int_equal(m->noutcomes, 3);
    assert_string_equal(m->outcomes[0].name, "attendance_pct");
    assert_string_equal(m->outcomes[0].column, "Attendance %");
    assert_int_equal(m->outcomes[0].type, AGENT_OUT_DECIMAL);
    assert_int_equal(m->outcomes[1].type, AGENT_OUT_INT);
    assert_int_equal(m->outcomes[2].type, AGENT_OUT_BOOL);
}

static void
test_example_social(void **state)
{
    struct agent_mapping *m = &s_map;

    s_load_map(EXAMPLES "/social.map", m);
    assert_string_equal(m->dataset, "children-social-care");
    assert_int_equal(m->one_per_person, 0);
    assert_string_equal(m->columns[AGENT_COL_SOURCE_ID], "Child ID");
    assert_string_equal(m->columns[AGENT_COL_NHS_NUMBER], "NHS Number");
    assert_string_equal(m->columns[AGENT_COL_UPN], "UPN");
    assert_string_equal(m->dob_formats, "d/m/yyyy");
    s_date(m->dob_formats, "3/4/2012", "2012-04-03");
    assert_int_equal(m->noutcomes, 3);
    assert_string_equal(m->outcomes[2].name, "care_entry");
    assert_int_equal(m->outcomes[2].type, AGENT_OUT_DATE);
    assert_string_equal(m->outcomes[2].date_formats, "dd/mm/yyyy");
}

/* Children's services' second dataset: the support programme's caseload. */
static void
test_example_programme(void **state)
{
    struct agent_mapping *m = &s_map;

    s_load_map(EXAMPLES "/programme.map", m);
    assert_string_equal(m->dataset, "programme");
    assert_int_equal(m->one_per_person, 0); /* re-referrals are second cases */
    assert_string_equal(m->columns[AGENT_COL_SOURCE_ID], "Case Ref");
    assert_string_equal(m->columns[AGENT_COL_NHS_NUMBER], "NHS Number");
    assert_string_equal(m->columns[AGENT_COL_UPN], "");
    s_date(m->dob_formats, "03/04/2012", "2012-04-03");
    assert_int_equal(m->noutcomes, 3);
    assert_string_equal(m->outcomes[0].name, "support_start");
    assert_int_equal(m->outcomes[0].type, AGENT_OUT_DATE);
    assert_string_equal(m->outcomes[0].date_formats, "dd/mm/yyyy");
    assert_string_equal(m->outcomes[1].name, "referral_source");
    assert_int_equal(m->outcomes[1].type, AGENT_OUT_TEXT);
    assert_string_equal(m->outcomes[2].name, "sessions");
    assert_int_equal(m->outcomes[2].type, AGENT_OUT_INT);
}

/* ---- files written by the tests ----------------------------------------------------- */

struct s_tmp {
    char *dir;
    char *path; /* the last file written */
};

static void
s_write(struct s_tmp *t, const char *name, const char *text)
{
    if (t->dir == NULL) {
        t->dir = tu_tmpdir();
        assert_non_null(t->dir);
    }
    free(t->path);
    t->path = tu_path(t->dir, name);
    assert_non_null(t->path);
    assert_int_equal(tu_write_file(t->path, text), 0);
}

static void
s_tmp_done(struct s_tmp *t)
{
    free(t->path);
    if (t->dir != NULL)
        tu_rmtree(t->dir);
    free(t->dir);
}

static const char s_conf_min[] = "[agent]\nagency = wmp\nspec = linkage.spec\nmapping = p.map\n";

static void
test_relative_paths(void **state)
{
    struct s_tmp t = {0};
    struct agent_config c;
    char err[XL_ERRBUF] = "", want[2 * AGENT_PATH_MAX], cwd[AGENT_PATH_MAX];

    s_write(&t, "agent.conf",
            "[agent]\n"
            "agency = health\n"
            "spec = ../shared/linkage.spec\n"
            "mapping = maps/health.map\n"
            "local_key = /etc/crosslink/health-local.key\n"
            "[linker]\n"
            "state_dir = .\n");
    assert_int_equal(agent_config_load(t.path, &c, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/../shared/linkage.spec", t.dir);
    assert_string_equal(c.spec_path, want);
    snprintf(want, sizeof want, "%s/maps/health.map", t.dir);
    assert_string_equal(c.mapping_path, want);
    assert_string_equal(c.local_key_path, "/etc/crosslink/health-local.key"); /* absolute */
    snprintf(want, sizeof want, "%s/.", t.dir);
    assert_string_equal(c.state_dir, want);
    /* Not given: left empty, and the defaults. */
    assert_string_equal(c.secret_path, "");
    assert_string_equal(c.endpoint, "");
    assert_int_equal(c.chunk_records, 1000);
    assert_true(c.max_reject_rate > 0.0499 && c.max_reject_rate < 0.0501);

    /* A file named without a directory: paths relative to the working directory. */
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(t.dir), 0);
    assert_int_equal(agent_config_load("agent.conf", &c, err, sizeof err), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(c.spec_path, "./../shared/linkage.spec");
    assert_string_equal(c.mapping_path, "./maps/health.map");
    s_tmp_done(&t);
}

/* ---- errors ---------------------------------------------------------------------- */

/* Loads text as a file of the given kind and checks the error: XL_ERR_FORMAT,
 * a message starting "PATH:LINE: " (or "PATH: " when line is 0) and holding
 * reason. */
static void
s_bad(int mapping, const char *text, int line, const char *reason)
{
    struct s_tmp t = {0};
    struct agent_config c;
    char err[XL_ERRBUF] = "", prefix[AGENT_PATH_MAX + 32];
    int rc;

    s_write(&t, mapping ? "bad.map" : "bad.conf", text);
    if (mapping)
        rc = agent_mapping_load(t.path, &s_map, err, sizeof err);
    else
        rc = agent_config_load(t.path, &c, err, sizeof err);
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s:%d: ", t.path, line);
    else
        snprintf(prefix, sizeof prefix, "%s: ", t.path);
    if (rc != XL_ERR_FORMAT || strncmp(err, prefix, strlen(prefix)) != 0 ||
        strstr(err, reason) == NULL)
        fail_msg("returned %d, message '%s'; expected '%s...%s' for:\n%s", rc, err, prefix, reason,
                 text);
    s_tmp_done(&t);
}

static void
test_config_errors(void **state)
{
    char text[512];

    s_bad(0, "[agent]\nagency = wmp\n[agnet]\nspec = x\n", 4, "unknown section [agnet]");
    s_bad(0, "[agent]\nagency = wmp\nspecification = x\n", 3, "unknown key 'specification'");
    s_bad(0, "[agent]\nagency = west midlands\n", 2, "agency must be");
    s_bad(0, "[agent]\nagency = wmp\nmax_reject_rate = 5%\n", 3, "max_reject_rate");
    s_bad(0, "[agent]\nagency = wmp\nmax_reject_rate = 1.5\n", 3, "max_reject_rate");
    s_bad(0, "[agent]\nagency = wmp\nspec =\n", 3, "spec is empty");
    snprintf(text, sizeof text, "%s[linker]\nchunk_records = 0\n", s_conf_min);
    s_bad(0, text, 6, "chunk_records must be a whole number");
    snprintf(text, sizeof text, "%s[linker]\nchunk_records = lots\n", s_conf_min);
    s_bad(0, text, 6, "chunk_records");
    s_bad(0, "[agent]\nspec = linkage.spec\nmapping = p.map\n", 0, "agency is required");
    s_bad(0, "[agent]\nagency = wmp\nspec = linkage.spec\n", 0, "needs spec and mapping");
}

static void
test_config_missing_file(void **state)
{
    struct agent_config c;
    char err[XL_ERRBUF] = "";

    assert_int_equal(agent_config_load("tests/vectors/no-such.conf", &c, err, sizeof err),
                     XL_ERR_NOTFOUND);
    assert_non_null(strstr(err, "tests/vectors/no-such.conf"));
    assert_int_equal(agent_mapping_load("tests/vectors/no-such.map", &s_map, err, sizeof err),
                     XL_ERR_NOTFOUND);
}

/* A mapping that loads; errors below are edits of it. Lines: [dataset] 1,
 * name 2, [columns] 3, source_id 4, first_name 5, surname 6, dob 7, [dob] 8,
 * formats 9, [outcomes] 10, visits 11. */
static const char s_map_ok[] = "[dataset]\n"
                               "name = d1\n"
                               "[columns]\n"
                               "source_id = ID\n"
                               "first_name = Forename\n"
                               "surname = Surname\n"
                               "dob = DOB\n"
                               "[dob]\n"
                               "formats = dd/mm/yyyy\n"
                               "[outcomes]\n"
                               "visits = Visits : int\n";

static void
test_mapping_defaults(void **state)
{
    struct s_tmp t = {0};

    s_write(&t, "ok.map", s_map_ok);
    s_load_map(t.path, &s_map);
    assert_string_equal(s_map.dataset, "d1");
    assert_int_equal(s_map.one_per_person, 0);
    /* Required unless the mapping says otherwise: the fields every match key needs. */
    assert_int_equal(s_map.required, s_bits(AGENT_COL_SOURCE_ID, AGENT_COL_FIRST_NAME,
                                            AGENT_COL_SURNAME, AGENT_COL_DOB));
    assert_int_equal(s_map.dob_rules.min_year, 1900);
    assert_int_equal(s_map.dob_rules.max_age_years, 120);
    assert_int_equal(s_map.dob_rules.min_age_years, 0);
    assert_int_equal(s_map.dob_rules.ref.y, 0); /* today, at run time */
    assert_int_equal(s_map.dob_rules.partial, 0);
    /* The built-in missing-value words, and nothing else. */
    for (size_t i = 0; agent_missing_default[i] != NULL; i++) {
        const char *w = agent_missing_default[i];
        assert_string_equal(s_map.missing[i], w);
        assert_true(agent_mapping_missing(&s_map, w, strlen(w)));
    }
    assert_true(agent_mapping_missing(&s_map, "  Not\t Known ", 13));
    assert_true(agent_mapping_missing(&s_map, "UNKNOWN", 7));
    assert_false(agent_mapping_missing(&s_map, "NA", 2)); /* Na is a surname */
    assert_false(agent_mapping_missing(&s_map, "not known yet", 13));
    assert_false(agent_mapping_missing(&s_map, "", 0));
    assert_int_equal(s_map.noutcomes, 1);
    assert_int_equal(s_map.outcomes[0].type, AGENT_OUT_INT);
    s_tmp_done(&t);
}

static void
test_mapping_errors(void **state)
{
    /* An unknown field in [columns]. */
    s_bad(1, "[dataset]\nname = d1\n[columns]\nsource_id = ID\nshoe_size = Shoes\n", 5,
          "unknown field 'shoe_size'");
    /* Derived fields are computed, not mapped. */
    s_bad(1, "[dataset]\nname = d1\n[columns]\nsurname_phonetic = S\n", 4,
          "unknown field 'surname_phonetic'");
    /* An outcome without a type... */
    s_bad(1, "[dataset]\nname = d1\n[outcomes]\nvisits = Visits\n", 4,
          "visits: expected 'Column : type'");
    s_bad(1, "[dataset]\nname = d1\n[outcomes]\nvisits = Visits :\n", 4,
          "visits: type must be int, decimal, bool, date or text");
    /* ...with an unknown one, without a column, or formats on a non-date. */
    s_bad(1, "[dataset]\nname = d1\n[outcomes]\nvisits = Visits : integer\n", 4, "type must be");
    s_bad(1, "[dataset]\nname = d1\n[outcomes]\nvisits = : int\n", 4, "no column given");
    s_bad(1, "[dataset]\nname = d1\n[outcomes]\nvisits = Visits : int dd/mm/yyyy\n", 4,
          "only a date type takes formats");
    s_bad(1, "[dataset]\nname = d1\n[outcomes]\nseen = Seen : date\n", 4,
          "seen: a date attribute needs its formats");
    s_bad(1, "[dataset]\nname = d1\n[outcomes]\nv = A : int\nv = B : int\n", 5,
          "attribute 'v' defined twice");
    s_bad(1, "[dataset]\nname = d1\n[outcomes]\nvisit count = A : int\n", 4,
          "attribute name 'visit count'");
    /* A bad date format, for the date of birth and for a date outcome. */
    s_bad(1, "[dataset]\nname = d1\n[dob]\nformats = dd/mm/yy\n", 4, "formats: ");
    s_bad(1, "[dataset]\nname = d1\n[dob]\nmin_year = 1990\nformats = yyyy-mm-dd | dd/mm\n", 5,
          "formats: ");
    s_bad(1, "[dataset]\nname = d1\n[outcomes]\nseen = Seen : date mm/yyyy\n", 4, "seen: ");
    /* Plausibility limits out of range. */
    s_bad(1, "[dataset]\nname = d1\n[dob]\nmin_year = 90\n", 4, "min_year must be");
    s_bad(1, "[dataset]\nname = d1\n[dob]\nmax_age = -1\n", 4, "max_age must be");
    /* [dataset] */
    s_bad(1, "[dataset]\nname = d1\none_per_person = maybe\n", 3,
          "one_per_person must be yes or no");
    s_bad(1, "[dataset]\nname = d1\nrequired = source_id shoe_size\n", 3,
          "required: unknown field 'shoe_size'");
    s_bad(1, "[dataset]\nname = d 1\n", 2, "dataset name must be");
    s_bad(1, "[dataset]\nname = d1\n[colums]\nsource_id = ID\n", 4, "unknown section [colums]");
    s_bad(1, "[dataset]\nname = d1\nowner = me\n", 3, "unknown key 'owner' in [dataset]");
    /* Whole-file checks. */
    s_bad(1, "[columns]\nsource_id = ID\n", 0, "[dataset] name is required");
    s_bad(1, "[dataset]\nname = d1\nrequired = dob\n[columns]\ndob = DOB\n", 0,
          "source_id is required");
    /* A required field with no column mapped to it: by default... */
    s_bad(1, "[dataset]\nname = d1\n[columns]\nsource_id = ID\nfirst_name = F\ndob = D\n", 0,
          "surname is required but no column is mapped to it");
    /* ...by the mapping's own list, and mapped empty. */
    s_bad(1,
          "[dataset]\nname = d1\nrequired = source_id nhs_number\n[columns]\n"
          "source_id = ID\nnhs_number =\n",
          0, "nhs_number is required but no column is mapped to it");
}

/* Date formats: '|'-separated, spaces around each '|' ignored, spaces inside a
 * pattern kept; for the date of birth and for date outcomes alike. */
static void
test_date_formats(void **state)
{
    struct s_tmp t = {0};

    s_write(&t, "f.map",
            "[dataset]\n"
            "name = d1\n"
            "required = source_id\n"
            "[columns]\n"
            "source_id = ID\n"
            "[dob]\n"
            "formats =   dd/mm/yyyy |d mon yyyy|   yyyy-mm-dd   |  yyyymmdd\n"
            "[outcomes]\n"
            "seen = Date: Seen : date  dd.mm.yyyy  |  d mon yyyy\n"
            "note = Note : text\n");
    s_load_map(t.path, &s_map);
    assert_string_equal(s_map.dob_formats, "dd/mm/yyyy|d mon yyyy|yyyy-mm-dd|yyyymmdd");
    s_date(s_map.dob_formats, "03/04/2012", "2012-04-03");
    s_date(s_map.dob_formats, "3 Apr 2012", "2012-04-03");
    s_date(s_map.dob_formats, "2012-04-03", "2012-04-03");
    s_date(s_map.dob_formats, "20120403", "2012-04-03");
    assert_int_equal(s_map.noutcomes, 2);
    /* The last ':' separates the type, so a column name may hold one. */
    assert_string_equal(s_map.outcomes[0].column, "Date: Seen");
    assert_int_equal(s_map.outcomes[0].type, AGENT_OUT_DATE);
    assert_string_equal(s_map.outcomes[0].date_formats, "dd.mm.yyyy|d mon yyyy");
    s_date(s_map.outcomes[0].date_formats, "03.04.2012", "2012-04-03");
    s_date(s_map.outcomes[0].date_formats, "3 april 2012", "2012-04-03");
    assert_int_equal(s_map.outcomes[1].type, AGENT_OUT_TEXT);
    assert_int_equal(s_map.required, 1u << AGENT_COL_SOURCE_ID);
    s_tmp_done(&t);
}

/* Missing-value words, partial dates, the reference date and the date of
 * birth in parts. */
static void
test_tolerant_options(void **state)
{
    struct s_tmp t = {0};

    s_write(&t, "t.map",
            "[dataset]\nname = d1\nrequired = source_id dob\n"
            "missing = NA, n/k\nmissing_add = NFA,  No   Fixed Abode , -\n"
            "[columns]\nsource_id = ID\ndob_year = Year\ndob_month = Month\ndob_day = Day\n"
            "[dob]\nformats = yyyy-mm-dd | mm/yyyy | yyyy\npartial = yes\n"
            "reference = 2025-03-31\nmin_year = 1950\nmax_age = 30\nmin_age = 4\n");
    s_load_map(t.path, &s_map);
    assert_int_equal(s_map.nmissing, 5);
    assert_string_equal(s_map.missing[3], "no fixed abode");
    assert_true(agent_mapping_missing(&s_map, "na", 2));
    assert_true(agent_mapping_missing(&s_map, "No Fixed Abode", 14));
    assert_true(agent_mapping_missing(&s_map, "-", 1));
    assert_false(agent_mapping_missing(&s_map, "unknown", 7)); /* the built-in list replaced */
    assert_string_equal(s_map.dob_formats, "yyyy-mm-dd|mm/yyyy|yyyy");
    assert_int_equal(s_map.dob_rules.partial, 1);
    assert_int_equal(s_map.dob_rules.ref.y, 2025);
    assert_int_equal(s_map.dob_rules.ref.m, 3);
    assert_int_equal(s_map.dob_rules.ref.d, 31);
    assert_int_equal(s_map.dob_rules.min_year, 1950);
    assert_int_equal(s_map.dob_rules.max_age_years, 30);
    assert_int_equal(s_map.dob_rules.min_age_years, 4);
    /* dob is required and mapped through its parts. */
    assert_string_equal(s_map.columns[AGENT_COL_DOB], "");
    assert_string_equal(s_map.columns[AGENT_COL_DOB_YEAR], "Year");
    assert_string_equal(s_map.columns[AGENT_COL_DOB_DAY], "Day");
    assert_int_equal(s_map.required, 1u << AGENT_COL_SOURCE_ID | 1u << AGENT_COL_DOB);

    /* "missing =" alone: no words at all, as before the list existed. */
    s_write(&t, "t.map",
            "[dataset]\nname = d1\nrequired = source_id\nmissing =\n"
            "[columns]\nsource_id = ID\n");
    s_load_map(t.path, &s_map);
    assert_int_equal(s_map.nmissing, 0);
    assert_false(agent_mapping_missing(&s_map, "unknown", 7));
    s_tmp_done(&t);

    s_bad(1, "[dataset]\nname = d1\nmissing = NA,,NK\n", 3, "an empty word between commas");
    s_bad(1, "[dataset]\nname = d1\nmissing_add = a-word-of-more-than-thirty-one-bytes\n", 3,
          "longer than 31 bytes");
    s_bad(1, "[dataset]\nname = d1\n[dob]\npartial = maybe\n", 4, "partial must be yes or no");
    s_bad(1, "[dataset]\nname = d1\n[dob]\nreference = 31/03/2025\n", 4,
          "reference must be a date YYYY-MM-DD or today");
    s_bad(1, "[dataset]\nname = d1\n[dob]\nformats = yyyy-dd\n", 4, "formats: ");
    s_bad(1, "[dataset]\nname = d1\nrequired = source_id dob_year\n", 3,
          "dob_year is a part of dob; list dob instead");
    /* Whole-file checks. */
    s_bad(1,
          "[dataset]\nname = d1\nrequired = source_id\n[columns]\nsource_id = ID\n"
          "[dob]\nformats = yyyy-mm-dd | yyyy\n",
          0, "formats has a pattern without a day: set partial = yes");
    s_bad(1,
          "[dataset]\nname = d1\nrequired = source_id\n[columns]\nsource_id = ID\n"
          "dob = DOB\ndob_year = Y\ndob_month = M\ndob_day = D\n",
          0, "either to one column (dob) or to its parts");
    s_bad(1,
          "[dataset]\nname = d1\nrequired = source_id\n[columns]\nsource_id = ID\n"
          "dob_month = M\ndob_day = D\n",
          0, "dob_month and dob_day need dob_year");
    s_bad(1,
          "[dataset]\nname = d1\nrequired = source_id\n[columns]\nsource_id = ID\n"
          "dob_year = Y\ndob_day = D\n",
          0, "dob_day needs dob_month");
    s_bad(1,
          "[dataset]\nname = d1\nrequired = source_id\n[columns]\nsource_id = ID\n"
          "dob_year = Y\ndob_month = M\n",
          0, "without dob_day the dates of birth are partial: set partial = yes");
}

static void
test_names(void **state)
{
    assert_string_equal(agent_column_name(AGENT_COL_SOURCE_ID), "source_id");
    assert_string_equal(agent_column_name(AGENT_COL_NHS_NUMBER), "nhs_number");
    assert_string_equal(agent_column_name(AGENT_COL_DOB_MONTH), "dob_month");
    assert_string_equal(agent_column_name(AGENT_COL_COUNT), "unknown");
    assert_string_equal(agent_outcome_type_name(AGENT_OUT_DECIMAL), "decimal");
    assert_string_equal(agent_outcome_type_name(AGENT_OUT_TEXT), "text");
    assert_string_equal(agent_outcome_type_name((enum agent_outcome_type)99), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_agent_conf),  cmocka_unit_test(test_example_police),
        cmocka_unit_test(test_example_health),      cmocka_unit_test(test_example_education),
        cmocka_unit_test(test_example_social),      cmocka_unit_test(test_example_programme),
        cmocka_unit_test(test_relative_paths),      cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_missing_file), cmocka_unit_test(test_mapping_defaults),
        cmocka_unit_test(test_mapping_errors),      cmocka_unit_test(test_date_formats),
        cmocka_unit_test(test_tolerant_options),    cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests_name("agent_config", tests, s_setup, NULL);
}
