/* libFuzzer target: an extract's manifest as the analyst reads it (after its
 * signature verified) into the columns of its files (analyst/layout.c).
 *
 * Checked: every column name is a valid Stata name (a letter first, then
 * lower-case letters, digits and '_', at most 32 characters) and no two
 * columns of one extract share a name, since people.dta refuses both; every
 * dataset is found by its agency and name; a cohort, when marked, is one of the
 * datasets and its index date one of its date attributes. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../analyst/layout.h"
#include "fuzzlib.h"

static void
s_name(const char *n)
{
    size_t len = strlen(n);

    if (len == 0 || len > 32 || !islower((unsigned char)n[0]))
        fuzz_fail("a column name starts with a lower-case letter and has 1 to 32 characters");
    for (size_t i = 0; i < len; i++) {
        if (!(islower((unsigned char)n[i]) || isdigit((unsigned char)n[i]) || n[i] == '_'))
            fuzz_fail("a column name holds only lower-case letters, digits and '_'");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *m = cJSON_ParseWithLength((const char *)data, size);
    struct analyst_layout l;
    char err[XL_ERRBUF];
    const char **names;
    size_t n = 0, cap = 0;

    if (m == NULL)
        return 0;
    if (analyst_layout_from_manifest(m, &l, err, sizeof err) == 0) {
        for (size_t d = 0; d < l.nds; d++)
            cap += 1 + l.ds[d].nattr;
        names = calloc(cap ? cap : 1, sizeof *names);
        if (names == NULL)
            fuzz_fail("out of memory");
        for (size_t d = 0; d < l.nds; d++) {
            const struct analyst_dataset *x = &l.ds[d];
            if (analyst_layout_find(&l, x->agency, x->dataset) < 0)
                fuzz_fail("every dataset is found by its agency and name");
            names[n++] = x->records_col;
            for (size_t a = 0; a < x->nattr; a++)
                names[n++] = x->attr[a].col;
            if (x->index_attr >= 0 &&
                (!x->is_cohort || x->attr[x->index_attr].vtype != ANALYST_V_DATE))
                fuzz_fail("the index date is a date attribute of the cohort dataset");
        }
        if (l.cohort >= 0 && !l.ds[l.cohort].is_cohort)
            fuzz_fail("the cohort is one of the datasets");
        for (size_t i = 0; i < n; i++) {
            s_name(names[i]);
            if (strcmp(names[i], "pseudonym") == 0 || strcmp(names[i], "cohort") == 0 ||
                strcmp(names[i], "evidence") == 0 || strcmp(names[i], "datasets") == 0)
                fuzz_fail("no dataset column takes the name of a fixed column");
            for (size_t j = 0; j < i; j++) {
                if (strcmp(names[i], names[j]) == 0)
                    fuzz_fail("no two columns share a name");
            }
        }
        free(names);
        analyst_layout_free(&l);
    }
    cJSON_Delete(m);
    return 0;
}
