/* libFuzzer target: the approved-projects file, as the linker loads it at
 * start and on SIGHUP (linker/projects.c).
 *
 * Checked: every project loaded has its required parts and a valid expiry;
 * its cohort is one of its datasets; each listed analyst is authorised for it
 * on a day before its expiry and refused the day after the last; a key not
 * listed is refused; comparing the set with itself finds no change. */
#include <stdlib.h>
#include <string.h>

#include "../../linker/projects.h"
#include "fuzzlib.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct linker_projects *ps = calloc(1, sizeof *ps);
    char *text = malloc(size + 1), err[XL_ERRBUF];
    const struct linker_project *p;
    struct linker_project_refusal why;
    cJSON *d;

    if (ps == NULL || text == NULL)
        fuzz_fail("out of memory");
    memcpy(text, data, size);
    if (linker_projects_parse(text, size, "fuzz", ps, err, sizeof err) == 0) {
        for (size_t i = 0; i < ps->n; i++) {
            const struct linker_project *pr = &ps->p[i];
            if (pr->nanalysts == 0 || pr->ndatasets == 0 || strlen(pr->expires) != 10)
                fuzz_fail("a project has analysts, datasets and an expiry");
            if (pr->cohort.agency[0] != '\0' &&
                !linker_project_has_dataset(pr, pr->cohort.agency, pr->cohort.dataset))
                fuzz_fail("a project's cohort is one of its datasets");
            if (linker_project_authorise(ps, pr->id, pr->analysts[0], "2000-01-01", NULL, 0, &p,
                                         &why) != 0)
                fuzz_fail("a listed analyst is authorised before the expiry");
            if (linker_project_authorise(ps, pr->id, pr->analysts[0], "9999-99-99", NULL, 0, &p,
                                         &why) == 0)
                fuzz_fail("no project is authorised after its expiry");
            if (linker_project_authorise(ps, pr->id, "not-a-key-id", "2000-01-01", NULL, 0, &p,
                                         &why) == 0)
                fuzz_fail("a key not listed is refused");
        }
        d = linker_projects_diff(ps, ps);
        if (d == NULL || cJSON_GetArraySize(cJSON_GetObjectItem(d, "changed")) != 0 ||
            cJSON_GetArraySize(cJSON_GetObjectItem(d, "added")) != 0)
            fuzz_fail("a set compared with itself has no changes");
        cJSON_Delete(d);
    }
    linker_projects_free(&ps);
    free(text);
    return 0;
}
