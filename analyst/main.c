/* crosslink-analyst: the coalition analyst's tool. `summary` turns an extract
 * directory into a cohort outcome summary that is safe to publish. Every
 * failure is one line on stderr and a non-zero exit. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "summary.h"
#include "xl/cli.h"
#include "xl/err.h"

#define PROG "crosslink-analyst"

static int analyst_cmd_summary(int argc, char **argv);

static const struct xl_cli_cmd s_cmds[] = {
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
