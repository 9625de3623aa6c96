/* crosslink-analyst: the coalition analyst's tool. `extract` fetches, checks
 * and opens an approved project's extract into a directory of files for R,
 * Stata, Python or Excel; `summary` turns that directory into a cohort outcome
 * summary that is safe to publish. Every failure is one line on stderr and a
 * non-zero exit: 75 when the linker stayed busy or unreachable (try again
 * later), 1 for anything that will not pass by itself. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "extract.h"
#include "summary.h"
#include "xl/cli.h"
#include "xl/err.h"

#define PROG "crosslink-analyst"

static int analyst_cmd_extract(int argc, char **argv);
static int analyst_cmd_summary(int argc, char **argv);

static const struct xl_cli_cmd s_cmds[] = {
    {"extract", analyst_cmd_extract,
     "extract -c analyst.conf PROJECT -o DIR [--dataset AGENCY/DATASET ...] [--retry-for S] "
     "[--quiet]",
     "Ask the linker for an extract of the approved project PROJECT, check the manifest's\n"
     "signature and every row against it, open the outcome payloads with the analysis key and\n"
     "write DIR (new, or empty): people.csv and people.dta (one row per child, under the\n"
     "project's pseudonym), records.csv (one row per record), dictionary.csv and manifest.json.\n"
     "Nothing is written unless all of it verifies. --dataset narrows the extract to some of\n"
     "the project's datasets. While the linker is busy or unreachable the request is repeated\n"
     "for --retry-for seconds (default 600), then the exit status is 75."},
    {"summary", analyst_cmd_summary, "summary DIR [--html FILE]",
     "Summarise the extract in DIR (written by 'extract'): children per group (the cohort and\n"
     "the other children as a comparison group), outcome rates with 95% intervals, averages,\n"
     "values of text outcomes, events before and after the index date, the overlap of the\n"
     "datasets and the link-evidence bands. Disclosure control is on unless the project's\n"
     "settings in the manifest turn it off (default: counts below 10 suppressed, zeros included;\n"
     "others rounded to the nearest 5; cells that would give a suppressed one back suppressed\n"
     "too). Prints text; --html FILE also writes a self-contained HTML report with charts\n"
     "for a board paper."},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

static int
analyst_cmd_extract(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"dataset", required_argument, NULL, 'd'},
                                         {"retry-for", required_argument, NULL, 'r'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct analyst_extract_opts o = {.retry_for = 600};
    char *datasets[64], err[XL_ERRBUF], *end;
    int c, r;

    while ((c = getopt_long(argc, argv, ":c:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'h': return xl_cli_help();
        case 'c': o.conf_path = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'd':
            if (o.ndatasets == sizeof datasets / sizeof datasets[0])
                return xl_cli_usage_error("too many --dataset options");
            datasets[o.ndatasets++] = optarg;
            break;
        case 'r':
            o.retry_for = strtod(optarg, &end);
            if (*end != '\0' || !(o.retry_for >= 0 && o.retry_for <= 86400))
                return xl_cli_usage_error("--retry-for takes seconds, 0 to 86400");
            break;
        default: return xl_cli_option_error(c, argv);
        }
    }
    if (o.conf_path == NULL || o.out_dir == NULL)
        return xl_cli_usage_error("-c analyst.conf and -o DIR are required");
    if (argc - optind != 1)
        return xl_cli_usage_error("expected one project id");
    o.project = argv[optind];
    o.datasets = datasets;
    r = analyst_extract(&o, err, sizeof err);
    if (r != 0) {
        xl_cli_fail("%s", err);
        return r == XL_ERR_UNAVAILABLE ? 75 : 1;
    }
    return 0;
}

static int
analyst_cmd_summary(int argc, char **argv)
{
    static const struct option opts[] = {{"html", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *html = NULL;
    char err[XL_ERRBUF];
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h')
            return xl_cli_help();
        if (c != 'o')
            return xl_cli_option_error(c, argv);
        html = optarg;
    }
    if (argc - optind != 1)
        return xl_cli_usage_error("expected one extract directory");
    if (analyst_summary(argv[optind], html, stdout, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    return 0;
}

int
main(int argc, char **argv)
{
    return xl_cli_main(PROG, s_cmds, S_NCMDS, argc, argv);
}
