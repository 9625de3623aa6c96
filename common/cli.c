#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xl/cli.h"
#include "xl/crypto.h"
#include "xl/log.h"
#include "xl/wire.h"
#include "xl/xle.h"

static const char *s_prog = "crosslink";
static const struct xl_cli_cmd *s_current;

const struct xl_cli_cmd *
xl_cli_current(void)
{
    return s_current;
}

int
xl_cli_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", s_prog, msg);
    return 1;
}

int
xl_cli_usage_error(const char *what)
{
    fprintf(stderr, "%s: %s\nusage: %s %s\n", s_prog, what, s_prog,
            s_current != NULL ? s_current->usage : "COMMAND");
    return 2;
}

int
xl_cli_help(void)
{
    printf("usage: %s %s\n\n%s\n", s_prog, s_current->usage, s_current->help);
    return 0;
}

int
xl_cli_option_error(int c, char **argv)
{
    char what[160];

    snprintf(what, sizeof what, "%s: %s", c == ':' ? "option needs a value" : "invalid option",
             argv[optind - 1]);
    return xl_cli_usage_error(what);
}

double
xl_duration_parse(const char *s, double max)
{
    static const struct {
        const char *unit;
        double seconds;
    } units[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || !(v > 0))
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0)
            return v * units[i].seconds <= max ? v * units[i].seconds : -1;
    }
    return -1;
}

static void
s_list(FILE *f, const struct xl_cli_cmd *cmds, size_t n)
{
    fprintf(f, "usage: %s COMMAND [ARGS]   (%s COMMAND --help for details; --version)\n\n", s_prog,
            s_prog);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %s\n", cmds[i].usage);
}

int
xl_cli_main(const char *prog, const struct xl_cli_cmd *cmds, size_t ncmds, int argc, char **argv)
{
    s_prog = prog;
    xl_log_set_ident(prog);
    if (argc < 2) {
        s_list(stderr, cmds, ncmds);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        s_list(stdout, cmds, ncmds);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("%s %s (wire protocol %d, .xle format %d)\n", prog, XL_VERSION, XL_WIRE_VERSION,
               XL_XLE_VERSION);
        return 0;
    }
    if (xl_crypto_init() != 0)
        return xl_cli_fail("cannot initialise libsodium");
    umask(077);
    opterr = 0;
    for (size_t i = 0; i < ncmds; i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            s_current = &cmds[i];
            return cmds[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "%s: unknown command '%s' (%s --help lists them)\n", prog, argv[1], prog);
    return 2;
}
