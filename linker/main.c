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
#include <time.h>
#include <unistd.h>
#include <errno.h>

#include "bigmem.h"
#include "config.h"
#include "import.h"
#include "link.h"
#include "purge.h"
#include "server.h"
#include "store.h"
#include "xl/cli.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/log.h"
#include "xl/spec.h"

#define PROG "crosslink-linker"

static int linker_cmd_serve(int argc, char **argv);
static int linker_cmd_import(int argc, char **argv);
static int linker_cmd_status(int argc, char **argv);
static int linker_cmd_link(int argc, char **argv);
static int linker_cmd_conflicts(int argc, char **argv);
static int linker_cmd_purge(int argc, char **argv);

static const struct xl_cli_cmd s_cmds[] = {
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
    {"link", linker_cmd_link, "link -c CONF [--report] [--progress] [--requested-by KEY_ID]",
     "Link every record of the current submissions of the configured epoch: the exact\n"
     "match-key cascade, then the Dice comparison of CLKs within blocks, then clusters under\n"
     "the constraints. Stores the clusters, audits the run and prints its counts; --report adds\n"
     "the links per agency pair and evidence level, match rates and the score distribution\n"
     "against the thresholds. The service also runs this after commits, and for an admin's\n"
     "link request (--requested-by names the admin's key in the audit entry). On a terminal\n"
     "it shows its progress on stderr; --progress writes it as lines elsewhere (a log)."},
    {"conflicts", linker_cmd_conflicts, "conflicts -c CONF [--agency AGENCY]",
     "List, as CSV, the record pairs the latest link run kept apart (different NHS numbers or\n"
     "UPNs, or two records of a one-record-per-person dataset) by the agencies' local_ref, so\n"
     "each agency can find its own records ('crosslink-agent refs' maps them back)."},
    {"purge", linker_cmd_purge, "purge -c CONF [--dry-run]",
     "Purge what retention (linker.conf, default 90d) makes due: the records of submissions\n"
     "superseded that long ago, and submissions abandoned open that long; each is audited\n"
     "(submission.purged) and the space given back to the filesystem. The service does this\n"
     "once a day; --dry-run only lists. Can run while the service runs."},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

/* Parses -c CONF, --help, and --report / --agency where the subcommand takes
 * them (report, agency non-NULL); *first is the first operand. Returns -1 to
 * go on, or the exit code. */
static int
s_options(int argc, char **argv, const char **conf, int *first, int *report, const char **agency,
          const char **requested_by)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"report", no_argument, NULL, 'r'},
                                         {"agency", required_argument, NULL, 'a'},
                                         {"requested-by", required_argument, NULL, 'q'},
                                         {"progress", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    *conf = NULL;
    *first = argc;
    while ((c = getopt_long(argc, argv, ":c:ra:q:h", opts, NULL)) != -1) {
        if (c == 'p' && requested_by != NULL) { /* link only */
            linker_link_progress(2);
            continue;
        }
        if (c == 'q' && requested_by != NULL) {
            *requested_by = optarg;
            continue;
        }
        if (c == 'r' && report != NULL) {
            *report = 1;
            continue;
        }
        if (c == 'a' && agency != NULL) {
            *agency = optarg;
            continue;
        }
        if (c == 'h') {
            return xl_cli_help();
        }
        if (c == 'c') {
            *conf = optarg;
            continue;
        }
        return xl_cli_option_error(c, argv);
    }
    if (*conf == NULL)
        return xl_cli_usage_error("-c CONF is required");
    *first = optind;
    return -1;
}

/* link and purge, like status, need the database the service creates: before
 * its first start they all say so alike (and create nothing). 0, or 1 after
 * printing why. */
static int
s_database_exists(const char *conf)
{
    struct linker_config cfg;
    char err[XL_ERRBUF];

    if (linker_config_load(conf, &cfg, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    if (access(cfg.database_path, F_OK) != 0 && errno == ENOENT)
        return xl_cli_fail("%s: " LINKER_STORE_NONE_YET, cfg.database_path);
    return 0;
}

/* -c names the configuration file: a directory is a common slip. */
static int
s_conf_is_file(const char *conf)
{
    struct stat sb;

    if (stat(conf, &sb) == 0 && S_ISDIR(sb.st_mode))
        return xl_cli_fail("%s is a directory: -c wants the configuration file, such as "
                           "%s/linker.conf",
                           conf, conf);
    return 0;
}

static int
linker_cmd_serve(int argc, char **argv)
{
    char err[XL_ERRBUF];
    const char *conf;
    int first, rc = s_options(argc, argv, &conf, &first, NULL, NULL, NULL);

    if (rc >= 0)
        return rc;
    if (argc - first != 0)
        return xl_cli_usage_error("serve takes no operands");
    if (s_conf_is_file(conf) != 0)
        return 1;
    if (linker_serve(conf, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    return 0;
}

static int
linker_cmd_import(int argc, char **argv)
{
    char err[XL_ERRBUF];
    const char *conf;
    int first, rc = s_options(argc, argv, &conf, &first, NULL, NULL, NULL);

    if (rc >= 0)
        return rc;
    if (argc - first != 1)
        return xl_cli_usage_error("expected one .xle file");
    /* The receipt and, on failure, one line say it all; XL_LOG=info shows progress. */
    if (getenv("XL_LOG") == NULL)
        xl_log_set_level(XL_LOG_ERROR);
    if (linker_import(conf, argv[first], stdout, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    return 0;
}

static int
linker_cmd_status(int argc, char **argv)
{
    char err[XL_ERRBUF];
    const char *conf;
    int first, rc = s_options(argc, argv, &conf, &first, NULL, NULL, NULL);

    if (rc >= 0)
        return rc;
    if (argc - first != 0)
        return xl_cli_usage_error("status takes no operands");
    if (linker_status(conf, stdout, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    return 0;
}

static int
linker_cmd_link(int argc, char **argv)
{
    struct linker_link_summary sum;
    struct linker_ctx ctx;
    char err[XL_ERRBUF], hash[65];
    const char *conf, *by = NULL;
    int first, report = 0, rc = s_options(argc, argv, &conf, &first, &report, NULL, &by);

    if (rc >= 0)
        return rc;
    if (argc - first != 0)
        return xl_cli_usage_error("link takes no operands");
    if (getenv("XL_LOG") == NULL)
        xl_log_set_level(XL_LOG_WARN);
    if (s_database_exists(conf) != 0)
        return 1;
    linker_big_keep(); /* this process runs one link and exits */
    if (isatty(STDERR_FILENO))
        linker_link_progress(1);
    if (linker_ctx_open(&ctx, conf, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    if (by != NULL &&
        (strlen(by) != XL_KEYID_HEX || strspn(by, "0123456789abcdef") != XL_KEYID_HEX))
        return xl_cli_usage_error("--requested-by takes a key id (16 hex digits)");
    /* The service runs this for an admin's request: the run is audited as theirs. */
    rc = linker_link(&ctx, by != NULL ? by : "linker", by != NULL ? "admin" : "operator",
                     report ? stdout : NULL, &sum, err, sizeof err);
    linker_ctx_close(&ctx);
    if (rc != 0)
        return xl_cli_fail("%s", err);
    if (!report) {
        xl_hex(sum.cluster_hash, 32, hash);
        printf("link run %lld: %llu records, %llu clusters, %llu links, %llu possible, %llu "
               "conflicts in %.1f s; clusters %.16s\n",
               (long long)sum.run, (unsigned long long)sum.records,
               (unsigned long long)sum.clusters, (unsigned long long)sum.links,
               (unsigned long long)sum.possible, (unsigned long long)sum.conflicts, sum.seconds,
               hash);
    }
    return 0;
}

struct s_conflicts {
    const char *agency;
    const struct xl_spec *spec;
    uint64_t n;
};

static int
s_conflict_row(void *arg, const struct linker_conflict_row *c)
{
    struct s_conflicts *k = arg;
    char ra[33], rb[33];
    int swap = 0;

    if (k->agency != NULL) {
        if (strcmp(c->agency_a, k->agency) != 0 && strcmp(c->agency_b, k->agency) != 0)
            return 0;
        swap = strcmp(c->agency_a, k->agency) != 0; /* the asking agency first */
    }
    xl_hex(swap ? c->ref_b : c->ref_a, 16, ra);
    xl_hex(swap ? c->ref_a : c->ref_b, 16, rb);
    printf("%s,%s,%s,%s,%s,%s,%s,%s,%.3f\n", swap ? c->agency_b : c->agency_a,
           swap ? c->dataset_b : c->dataset_a, ra, swap ? c->agency_a : c->agency_b,
           swap ? c->dataset_a : c->dataset_b, rb, c->kind,
           linker_key_level_name(k->spec, (unsigned)c->level), c->score);
    k->n++;
    return 0;
}

static int
linker_cmd_conflicts(int argc, char **argv)
{
    struct linker_config cfg;
    struct linker_store *st = NULL;
    struct s_conflicts k = {0};
    struct xl_spec *spec = NULL;
    char err[XL_ERRBUF];
    const char *conf;
    int first, rc = s_options(argc, argv, &conf, &first, NULL, &k.agency, NULL);

    if (rc >= 0)
        return rc;
    if (argc - first != 0)
        return xl_cli_usage_error("conflicts takes no operands");
    if (linker_config_load(conf, &cfg, err, sizeof err) != 0 ||
        xl_spec_load(cfg.spec_path, &spec, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    if (linker_store_open_readonly(cfg.database_path, &st, err, sizeof err) != 0) {
        free(spec);
        return xl_cli_fail("%s", err);
    }
    k.spec = spec;
    printf("agency,dataset,local_ref,other_agency,other_dataset,other_local_ref,kind,level,"
           "score\n");
    rc = linker_store_run_conflicts(st, s_conflict_row, &k, err, sizeof err);
    linker_store_close(&st);
    free(spec);
    if (rc != 0)
        return xl_cli_fail("%s", err);
    return 0;
}

static int
linker_cmd_purge(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct linker_purge_summary sum;
    struct linker_ctx ctx;
    struct stat before, after;
    char err[XL_ERRBUF];
    const char *conf = NULL;
    int c, dry = 0, rc;

    while ((c = getopt_long(argc, argv, ":c:nh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': conf = optarg; break;
        case 'n': dry = 1; break;
        case 'h': return xl_cli_help();
        default: return xl_cli_option_error(c, argv);
        }
    }
    if (conf == NULL)
        return xl_cli_usage_error("-c CONF is required");
    if (argc - optind != 0)
        return xl_cli_usage_error("purge takes no operands");
    if (getenv("XL_LOG") == NULL)
        xl_log_set_level(XL_LOG_WARN);
    if (s_conf_is_file(conf) != 0 || s_database_exists(conf) != 0)
        return 1;
    if (linker_ctx_open(&ctx, conf, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    if (ctx.cfg.retention <= 0) {
        printf("retention is off in %s: nothing is purged\n", conf);
        linker_ctx_close(&ctx);
        return 0;
    }
    if (stat(ctx.cfg.database_path, &before) != 0)
        before.st_size = 0;
    rc = linker_purge(&ctx, (int64_t)time(NULL), "linker", "operator", dry, stdout, &sum, err,
                      sizeof err);
    if (stat(ctx.cfg.database_path, &after) != 0)
        after.st_size = 0;
    linker_ctx_close(&ctx);
    if (rc != 0)
        return xl_cli_fail("%s", err);
    printf("%s %llu submission%s (%llu record%s)%s; database %.1f MB, was %.1f MB\n",
           dry ? "would purge" : "purged", (unsigned long long)sum.submissions,
           sum.submissions == 1 ? "" : "s", (unsigned long long)sum.records,
           sum.records == 1 ? "" : "s", sum.vacuumed ? ", the database vacuumed once" : "",
           (double)after.st_size / 1e6, (double)before.st_size / 1e6);
    return 0;
}

int
main(int argc, char **argv)
{
    return xl_cli_main(PROG, s_cmds, S_NCMDS, argc, argv);
}
