/* The command-line shape every crosslink program shares: one binary, a table
 * of subcommands, `--help` on each, one-line errors "PROG: message" and exit
 * codes 0 (done), 1 (failed), 2 (usage). */
#ifndef XL_CLI_H
#define XL_CLI_H

#include <stddef.h>

/* The release every crosslink program reports with --version. */
#define XL_VERSION "0.12.0"

struct xl_cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the subcommand's name */
    const char *usage;                /* "encode -c agent.conf FILE.csv" */
    const char *help;                 /* the paragraph --help prints */
};

/* Runs the subcommand argv[1] of prog: prints the command list for no command
 * or --help, the version for --version, initialises libsodium, sets a umask of 077 (every file a
 * program creates is its owner's alone unless it widens it on purpose) and turns off getopt's own
 * messages. Returns the exit code. */
int xl_cli_main(const char *prog, const struct xl_cli_cmd *cmds, size_t ncmds, int argc,
                char **argv);

/* The running subcommand (set by xl_cli_main). */
const struct xl_cli_cmd *xl_cli_current(void);

/* "PROG: message" on stderr; returns 1. */
int xl_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: what" and the subcommand's usage line on stderr; returns 2. */
int xl_cli_usage_error(const char *what);
/* Prints the subcommand's usage and help on stdout; returns 0. */
int xl_cli_help(void);
/* The one-line message for getopt's ':' (missing value) or '?' (unknown
 * option) at argv[optind - 1]; returns 2. */
int xl_cli_option_error(int c, char **argv);

/* "90", "90s", "15m", "2h", "30d" -> seconds; -1 when malformed, not
 * positive or over max seconds. */
double xl_duration_parse(const char *s, double max);

#endif
