/* crosslink-linker: the coalition's linkage hub. `serve` runs the service
 * agents submit to; `import` stores an .xle file an agency sent by other means;
 * `status` shows what is stored. Every failure is one line on stderr and a
 * non-zero exit. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import.h"
#include "server.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/log.h"

#define PROG "crosslink-linker"

struct linker_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
    const char *help;
};

static int linker_cmd_serve(int argc, char **argv);
static int linker_cmd_import(int argc, char **argv);
static int linker_cmd_status(int argc, char **argv);

static const struct linker_cmd s_cmds[] = {
    {"serve", linker_cmd_serve, "serve -c CONF",
     "Run the linker service configured by CONF (linker.conf): accept submissions from agents\n"
     "whose keys are active in the keyring, store them durably, return signed receipts and\n"
     "write the audit log. Runs in the foreground and logs to stderr. SIGHUP reloads the\n"
     "keyring; SIGTERM or SIGINT finishes the current request and stops (exit 0)."},
    {"import", linker_cmd_import, "import -c CONF FILE.xle",
     "Store an agency's encoded file (.xle) as a committed submission, with the same checks,\n"
     "audit entries and signed receipt as a network submission, and print the receipt. The\n"
     "agency named in the file must have an active agent key in the keyring. Importing the\n"
     "same file again prints the first receipt; an interrupted import resumes. Can run while\n"
     "the service runs."},
    {"status", linker_cmd_status, "status -c CONF",
     "Show what the linker holds: for each agency and dataset the current committed\n"
     "submission (records, time, key), open submissions with their progress, and totals.\n"
     "Reads the database only; can run while the service runs."},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

static const struct linker_cmd *s_current;

static int s_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
s_fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int
s_usage_error(const char *what)
{
    fprintf(stderr, PROG ": %s\nusage: " PROG " %s\n", what, s_current->usage);
    return 2;
}

/* Parses -c CONF and --help; *nargs receives the operands left. Returns -1 to
 * go on, or the exit code. */
static int
s_options(int argc, char **argv, const char **conf, int *first)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    *conf = NULL;
    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        if (c == 'h') {
            printf("usage: " PROG " %s\n\n%s\n", s_current->usage, s_current->help);
            return 0;
        }
        if (c == 'c') {
            *conf = optarg;
            continue;
        }
        {
            char what[128];
            snprintf(what, sizeof what, "%s: %s",
                     c == ':' ? "option needs a value" : "invalid option", argv[optind - 1]);
            return s_usage_error(what);
        }
    }
    if (*conf == NULL)
        return s_usage_error("-c CONF is required");
    *first = optind;
    return -1;
}

static int
linker_cmd_serve(int argc, char **argv)
{
    char err[XL_ERRBUF];
    const char *conf;
    int first, rc = s_options(argc, argv, &conf, &first);

    if (rc >= 0)
        return rc;
    if (argc - first != 0)
        return s_usage_error("serve takes no operands");
    if (linker_serve(conf, err, sizeof err) != 0)
        return s_fail("%s", err);
    return 0;
}

static int
linker_cmd_import(int argc, char **argv)
{
    char err[XL_ERRBUF];
    const char *conf;
    int first, rc = s_options(argc, argv, &conf, &first);

    if (rc >= 0)
        return rc;
    if (argc - first != 1)
        return s_usage_error("expected one .xle file");
    /* The receipt and, on failure, one line say it all; XL_LOG=info shows progress. */
    if (getenv("XL_LOG") == NULL)
        xl_log_set_level(XL_LOG_ERROR);
    if (linker_import(conf, argv[first], stdout, err, sizeof err) != 0)
        return s_fail("%s", err);
    return 0;
}

static int
linker_cmd_status(int argc, char **argv)
{
    char err[XL_ERRBUF];
    const char *conf;
    int first, rc = s_options(argc, argv, &conf, &first);

    if (rc >= 0)
        return rc;
    if (argc - first != 0)
        return s_usage_error("status takes no operands");
    if (linker_status(conf, stdout, err, sizeof err) != 0)
        return s_fail("%s", err);
    return 0;
}

static void
s_main_usage(FILE *f)
{
    fprintf(f, "usage: " PROG " COMMAND [ARGS]   (" PROG " COMMAND --help for details)\n\n");
    for (size_t i = 0; i < S_NCMDS; i++)
        fprintf(f, "  %s\n", s_cmds[i].usage);
}

int
main(int argc, char **argv)
{
    xl_log_set_ident(PROG);
    if (argc < 2) {
        s_main_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        s_main_usage(stdout);
        return 0;
    }
    if (xl_crypto_init() != 0)
        return s_fail("cannot initialise libsodium");
    /* The database, its WAL and the audit log are the service's alone. */
    umask(077);
    opterr = 0;
    for (size_t i = 0; i < S_NCMDS; i++) {
        if (strcmp(argv[1], s_cmds[i].name) == 0) {
            s_current = &s_cmds[i];
            return s_cmds[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, PROG ": unknown command '%s' (" PROG " --help lists them)\n", argv[1]);
    return 2;
}
