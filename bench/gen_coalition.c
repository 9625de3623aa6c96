/* gen_coalition: writes a synthetic coalition data set (four agency extracts
 * and the truth linking them) for tests, benchmarks and the demo.
 *
 *   gen_coalition --seed N --people N --out DIR [--error-rate F]
 *                 [--invalid-rate F] [--ref-date YYYY-MM-DD] [--programme F]
 *                 [--quiet]
 *
 * With --programme it also writes programme.csv, a support programme's
 * caseload (see tests/lib/gen.h). The summary (records per agency, errors and
 * invalid values by kind, true pairs) and the time taken go to stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xl/clock.h"
#include "gen.h"
#include "xl/err.h"

static void
s_usage(FILE *f)
{
    fprintf(f,
            "usage: gen_coalition --seed N --people N --out DIR [--error-rate F]\n"
            "                     [--invalid-rate F] [--ref-date YYYY-MM-DD] [--programme F]\n"
            "                     [--quiet]\n"
            "  --seed N          PRNG seed; the same seed gives the same files (default 1)\n"
            "  --people N        children in the population, 1 to %u\n"
            "  --out DIR         output directory (created if missing)\n"
            "  --error-rate F    share of records with at least one error (default 0.10)\n"
            "  --invalid-rate F  share of records with an invalid value (default 0.002)\n"
            "  --coverage P,H,E,S  share of the children each agency holds (police, health,\n"
            "                    education, social; default 0.08,0.95,0.90,0.15)\n"
            "  --ref-date D      date on which every child is 10-18 (default 2026-11-01)\n"
            "  --programme F     also write programme.csv, the caseload of a support programme\n"
            "                    taking on about F of the children (e.g. 0.03); the other\n"
            "                    files are the same as without it (default 0: not written)\n"
            "  --quiet           no summary\n",
            XL_GEN_MAX_PEOPLE);
}

static int
s_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int
s_parse_rate(const char *s, double *out)
{
    char *end;
    double v;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

static int
s_parse_date(const char *s, int *y, int *m, int *d)
{
    char tail;

    if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", y, m, d, &tail) != 3)
        return -1;
    return 0;
}

int
main(int argc, char **argv)
{
    struct xl_gen_opts o;
    struct xl_gen_summary sum;
    const char *out = NULL;
    char err[XL_ERRBUF];
    int quiet = 0, have_people = 0, rc;
    double t0, t1;
    size_t total = 0;

    xl_gen_opts_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 0;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
            continue;
        } else if (strcmp(a, "--seed") == 0) {
            if (s_parse_u64(v, &o.seed) != 0)
                goto bad;
        } else if (strcmp(a, "--people") == 0) {
            if (s_parse_u64(v, &u) != 0 || u < 1 || u > XL_GEN_MAX_PEOPLE)
                goto bad;
            o.people = (size_t)u;
            have_people = 1;
        } else if (strcmp(a, "--out") == 0) {
            if (v == NULL || *v == '\0')
                goto bad;
            out = v;
        } else if (strcmp(a, "--error-rate") == 0) {
            if (s_parse_rate(v, &o.error_rate) != 0)
                goto bad;
        } else if (strcmp(a, "--invalid-rate") == 0) {
            if (s_parse_rate(v, &o.invalid_rate) != 0)
                goto bad;
        } else if (strcmp(a, "--coverage") == 0) {
            /* police,health,education,social: shares of the population each holds */
            char *end;
            const char *p = v;
            for (int k = 0; k < XL_GEN_NAGENCY; k++) {
                if (p == NULL)
                    goto bad;
                o.coverage[k] = strtod(p, &end);
                if (end == p || o.coverage[k] <= 0 || o.coverage[k] > 1 ||
                    (k + 1 < XL_GEN_NAGENCY ? *end != ',' : *end != '\0'))
                    goto bad;
                p = end + 1;
            }
        } else if (strcmp(a, "--programme") == 0) {
            if (s_parse_rate(v, &o.programme) != 0)
                goto bad;
        } else if (strcmp(a, "--ref-date") == 0) {
            if (s_parse_date(v, &o.ref_y, &o.ref_m, &o.ref_d) != 0)
                goto bad;
        } else {
            fprintf(stderr, "gen_coalition: unknown option %s\n", a);
            s_usage(stderr);
            return 2;
        }
        i++;
        continue;
    bad:
        fprintf(stderr, "gen_coalition: %s needs a valid value\n", a);
        s_usage(stderr);
        return 2;
    }
    if (out == NULL || !have_people) {
        fprintf(stderr, "gen_coalition: --people and --out are required\n");
        s_usage(stderr);
        return 2;
    }

    t0 = xl_monotonic();
    rc = xl_gen_coalition(&o, out, &sum, err, sizeof err);
    t1 = xl_monotonic();
    if (rc != 0) {
        fprintf(stderr, "gen_coalition: %s\n", err);
        return 1;
    }
    for (int a = 0; a < XL_GEN_NFILE; a++)
        total += sum.records[a];
    if (!quiet) {
        xl_gen_summary_print(stderr, &o, &sum);
        fprintf(stderr, "wrote %zu records to %s in %.2f s (%.0f records/s)\n", total, out, t1 - t0,
                t1 > t0 ? (double)total / (t1 - t0) : 0.0);
    }
    return 0;
}
