/* crosslink-agent: runs at an agency. Checks, encodes and submits the agency's extract;
 * nothing that identifies a person leaves the machine. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline.h"
#include "submit.h"
#include "xl/cli.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/log.h"
#include "xl/mem.h"
#include "xl/spec.h"

#define PROG "crosslink-agent"

static int agent_validate_cmd(int argc, char **argv);
static int agent_encode_cmd(int argc, char **argv);
static int agent_submit_cmd(int argc, char **argv);
static int agent_receipts_cmd(int argc, char **argv);
static int agent_refs_cmd(int argc, char **argv);
static int agent_spec_cmd(int argc, char **argv);

static const struct xl_cli_cmd s_cmds[] = {
    {"validate", agent_validate_cmd, "validate -c agent.conf [--rejects FILE] FILE.csv",
     "Check an extract against the column mapping before anything leaves: counts of\n"
     "rows accepted and rejected, per field and reason with the first row numbers, and a\n"
     "reject file (default FILE.rejects.csv, mode 0600) listing every problem by row,\n"
     "line and source id. No identifier is printed. Exits 1 when the share of rejected rows\n"
     "is over max_reject_rate in agent.conf."},
    {"encode", agent_encode_cmd, "encode -c agent.conf [-o FILE.xle] [--rejects FILE] FILE.csv",
     "Validate and encode an extract into FILE.xle (default: the CSV's name with .xle):\n"
     "match-key tokens, the CLK Bloom filter, blocking keys, local_ref and the outcome\n"
     "attributes sealed to the analysis key. The .xle file can be submitted or imported at\n"
     "the linker. Nothing is written when the reject rate is over the limit."},
    {"submit", agent_submit_cmd,
     "submit -c agent.conf [--timeout SECS] [--retry-for TIME] [--rejects FILE] [--quiet] "
     "[--force] FILE.csv|FILE.xle",
     "Send an extract to the linker over an encrypted connection and file its signed receipt\n"
     "in state_dir/receipts/. A CSV is validated and encoded first into state_dir/outbox/\n"
     "(nothing is sent when the reject rate is over the limit); an .xle file is sent as it is.\n"
     "When the linker does not answer within --timeout (default 10 s) the agent reconnects\n"
     "and continues where the linker stands, for up to --retry-for (default 10m; 30s, 2h ...).\n"
     "An extract the linker already holds unchanged (same file, mapping, specification and\n"
     "epoch) is not stored again: its receipt is returned (\"already submitted\"). One that a\n"
     "newer submission replaced is refused unless --force (audited).\n"
     "Exit 0: receipt stored; 1: refused or failed (a mistake to fix); 75: linker unreachable\n"
     "or busy, run the same command again to resume. --quiet prints only warnings, errors and\n"
     "the receipt."},
    {"receipts", agent_receipts_cmd, "receipts -c agent.conf [--verify]",
     "List the receipts in state_dir/receipts/, oldest first, checking each signature with\n"
     "the linker's public signing key (sign_public). --verify prints the whole signed text\n"
     "of each receipt. Exits 1 when a receipt does not verify."},
    {"refs", agent_refs_cmd, "refs -c agent.conf FILE.csv",
     "Print source_id,local_ref for every row of the extract: the key from the linker's\n"
     "references (crosslink-linker conflicts lists records by local_ref) back to the agency's\n"
     "own records. Only this agency's local key makes these; the output names the agency's\n"
     "source ids, so it stays in the agency."},
    {"spec", agent_spec_cmd, "spec -c agent.conf | spec FILE.spec",
     "Print the linkage specification's SHA-256 fingerprint (and its file), so the agency and\n"
     "the hub can compare before submitting: the linker refuses a submission made under\n"
     "another specification, and 'crosslink-linker status' prints its own."},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

struct s_opts {
    const char *conf;
    const char *out;
    const char *rejects;
    const char *csv;
    int quiet;
};

static int
s_parse(int argc, char **argv, struct s_opts *o, int want_out)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"output", required_argument, NULL, 'o'},
        {"rejects", required_argument, NULL, 'r'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof *o);
    while ((c = getopt_long(argc, argv, ":c:o:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->conf = optarg; break;
        case 'o':
            if (!want_out)
                return xl_cli_usage_error("-o is for encode");
            o->out = optarg;
            break;
        case 'r': o->rejects = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h': return xl_cli_help();
        default: return xl_cli_option_error(c, argv);
        }
    }
    if (o->conf == NULL)
        return xl_cli_usage_error("-c agent.conf is required");
    if (argc - optind != 1)
        return xl_cli_usage_error("expected one CSV file");
    o->csv = argv[optind];
    return -1;
}

/* FILE.csv -> FILE<suffix> (in the same directory). */
static void
s_derive(const char *csv, const char *suffix, char *out, size_t len)
{
    size_t n = strlen(csv);

    if (n > 4 && strcasecmp(csv + n - 4, ".csv") == 0)
        n -= 4;
    snprintf(out, len, "%.*s%s", (int)n, csv, suffix);
}

static int
s_run(int argc, char **argv, int encode)
{
    char err[XL_ERRBUF], out[PATH_MAX], rejects[PATH_MAX], hash[2 * XL_HASH_BYTES + 1];
    struct agent_stats *st = NULL;
    struct agent_ctx ctx;
    struct agent_run run = {0};
    struct s_opts o;
    int r = s_parse(argc, argv, &o, encode);

    if (r >= 0)
        return r;
    r = agent_ctx_load(&ctx, o.conf, encode, err, sizeof err);
    if (r != 0) {
        agent_ctx_free(&ctx);
        return xl_cli_fail("%s", err);
    }
    s_derive(o.csv, ".rejects.csv", rejects, sizeof rejects);
    run.csv_path = o.csv;
    run.reject_path = o.rejects != NULL ? o.rejects : rejects;
    run.progress = !o.quiet && isatty(STDERR_FILENO);
    if (encode) {
        s_derive(o.csv, ".xle", out, sizeof out);
        run.xle_path = o.out != NULL ? o.out : out;
    }
    st = calloc(1, sizeof *st);
    if (st == NULL) {
        agent_ctx_free(&ctx);
        return xl_cli_fail("out of memory");
    }
    r = agent_process(&ctx, &run, st, err, sizeof err);
    if (r == 0 || r == XL_ERR_INVALID) {
        if (!o.quiet)
            agent_report(&ctx, &run, st, stdout);
        if (r == 0 && encode) {
            xl_hex(st->content_hash, XL_HASH_BYTES, hash);
            printf("\nwrote %s: %llu records, epoch %u, content hash %s\n", run.xle_path,
                   (unsigned long long)st->accepted, (unsigned)ctx.secret->epoch, hash);
        }
        fflush(stdout);
    }
    if (r != 0)
        xl_cli_fail("%s", err);
    agent_ctx_free(&ctx);
    free(st);
    return r == 0 ? 0 : 1;
}

static int
agent_validate_cmd(int argc, char **argv)
{
    return s_run(argc, argv, 0);
}

static int
agent_encode_cmd(int argc, char **argv)
{
    return s_run(argc, argv, 1);
}

/* --timeout and --retry-for: at most a month. */
#define S_DURATION_MAX (31 * 24 * 3600.0)
#define s_duration(s)  xl_duration_parse((s), S_DURATION_MAX)

static int
agent_submit_cmd(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"rejects", required_argument, NULL, 'r'},
        {"timeout", required_argument, NULL, 't'}, {"retry-for", required_argument, NULL, 'R'},
        {"quiet", no_argument, NULL, 'q'},         {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    struct agent_submit_opts so = {.timeout = AGENT_SUBMIT_TIMEOUT,
                                   .retry_for = AGENT_SUBMIT_RETRY_FOR};
    char err[XL_ERRBUF];
    int c, r;

    while ((c = getopt_long(argc, argv, ":c:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': so.conf_path = optarg; break;
        case 'r': so.reject_path = optarg; break;
        case 't':
            so.timeout = s_duration(optarg);
            if (so.timeout < 0.1)
                return xl_cli_usage_error("--timeout must be a positive number of seconds");
            break;
        case 'R':
            so.retry_for = s_duration(optarg);
            if (so.retry_for < 0)
                return xl_cli_usage_error(
                    "--retry-for must be a duration such as 600, 30s, 10m, 2h");
            break;
        case 'q': so.quiet = 1; break;
        case 'f': so.force = 1; break;
        case 'h': return xl_cli_help();
        default: return xl_cli_option_error(c, argv);
        }
    }
    if (so.conf_path == NULL)
        return xl_cli_usage_error("-c agent.conf is required");
    if (argc - optind != 1)
        return xl_cli_usage_error("expected one CSV or .xle file");
    so.input = argv[optind];
    if (so.quiet && getenv("XL_LOG") == NULL)
        xl_log_set_level(XL_LOG_WARN);
    r = agent_submit(&so, err, sizeof err);
    if (r == 0)
        return 0;
    xl_cli_fail("%s", err);
    return r == XL_ERR_UNAVAILABLE ? AGENT_EXIT_TEMPFAIL : 1;
}

static int
agent_receipts_cmd(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"verify", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct agent_config *cfg = NULL;
    struct xl_keyfile *sign = NULL;
    const char *conf = NULL;
    char err[XL_ERRBUF], dir[AGENT_PATH_MAX + 16];
    size_t nbad = 0;
    int c, verbose = 0, r;

    while ((c = getopt_long(argc, argv, ":c:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': conf = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': return xl_cli_help();
        default: return xl_cli_option_error(c, argv);
        }
    }
    if (conf == NULL)
        return xl_cli_usage_error("-c agent.conf is required");
    if (argc != optind)
        return xl_cli_usage_error("unexpected argument");
    cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return xl_cli_fail("out of memory");
    r = agent_config_load(conf, cfg, err, sizeof err);
    if (r == 0 && cfg->sign_key_path[0] == '\0')
        r = xl_err_set(err, sizeof err, XL_ERR_FORMAT, "%s: [linker] sign_public is required",
                       conf);
    if (r == 0)
        r = xl_keyfile_load_public(cfg->sign_key_path, XL_KEY_SIGN_PUBLIC, &sign, err, sizeof err);
    if (r == 0)
        r = agent_state_dir(cfg, "receipts", dir, sizeof dir, err, sizeof err);
    if (r == 0)
        r = agent_receipt_list(dir, sign->pub, verbose, stdout, &nbad, err, sizeof err);
    fflush(stdout);
    xl_keyfile_destroy(&sign);
    free(cfg);
    if (r != 0)
        return xl_cli_fail("%s", err);
    if (nbad > 0)
        return xl_cli_fail("%zu receipt%s failed verification", nbad, nbad == 1 ? "" : "s");
    return 0;
}

static int
agent_refs_cmd(int argc, char **argv)
{
    struct s_opts o;
    struct agent_ctx ctx;
    struct agent_layout layout;
    struct xl_csv *csv = NULL;
    struct xl_mac *mac = NULL;
    char err[XL_ERRBUF], id[AGENT_SOURCE_ID_MAX], hex[2 * AGENT_REF_BYTES + 1];
    uint8_t ref[AGENT_REF_BYTES];
    size_t nfields = 0;
    int r = s_parse(argc, argv, &o, 0);

    if (r >= 0)
        return r;
    r = agent_ctx_load(&ctx, o.conf, 1, err, sizeof err);
    if (r == 0) {
        csv = agent_csv_open(&ctx.map, o.csv, err, sizeof err);
        if (csv == NULL)
            r = XL_ERR_IO;
    }
    if (r == 0 && (r = xl_csv_next(csv, &nfields, err, sizeof err)) != 1)
        r = r == 0 ? xl_err_set(err, sizeof err, XL_ERR_FORMAT, "%s: empty file", o.csv) : r;
    else if (r == 1)
        r = agent_layout_from_header(&ctx.map, csv, nfields, &layout, err, sizeof err);
    if (r == 0) {
        mac = xl_secret_alloc(sizeof *mac);
        if (mac == NULL || xl_mac_init(mac, ctx.local->secret, ctx.local->secretlen, NULL, 0) != 0)
            r = xl_err_set(err, sizeof err, XL_ERR_NOMEM, "out of memory");
    }
    if (r == 0)
        printf("source_id,local_ref\n");
    while (r == 0 && (r = xl_csv_next(csv, &nfields, err, sizeof err)) == 1) {
        const char *v;
        size_t len;
        r = 0;
        if ((size_t)layout.col[AGENT_COL_SOURCE_ID] >= nfields)
            continue;
        v = xl_csv_field(csv, (size_t)layout.col[AGENT_COL_SOURCE_ID], &len);
        agent_trim(&v, &len);
        if (len == 0 || len >= sizeof id || strpbrk(v, ",\"\r\n") != NULL)
            continue; /* rejected by validate too: never encoded */
        memcpy(id, v, len);
        id[len] = '\0';
        agent_local_ref(mac, ctx.cfg.agency, ctx.map.dataset, id, ref);
        xl_hex(ref, sizeof ref, hex);
        printf("%s,%s\n", id, hex);
    }
    xl_wipe(id, sizeof id);
    xl_csv_destroy(&csv);
    xl_secret_free(mac);
    agent_ctx_free(&ctx);
    if (r < 0)
        return xl_cli_fail("%s", err);
    return 0;
}

static int
agent_spec_cmd(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct agent_config cfg;
    struct xl_spec *spec = NULL;
    char err[XL_ERRBUF], fp[2 * XL_HASH_BYTES + 1];
    const char *conf = NULL, *path;
    int c;

    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': conf = optarg; break;
        case 'h': return xl_cli_help();
        default: return xl_cli_option_error(c, argv);
        }
    }
    if ((conf == NULL) == (argc - optind != 1))
        return xl_cli_usage_error("expected -c agent.conf or one specification file");
    if (conf != NULL) {
        if (agent_config_load(conf, &cfg, err, sizeof err) != 0)
            return xl_cli_fail("%s", err);
        path = cfg.spec_path;
    } else {
        path = argv[optind];
    }
    if (xl_spec_load(path, &spec, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    xl_hex(spec->fingerprint, XL_HASH_BYTES, fp);
    printf("specification %s\nfingerprint   %s\n", path, fp);
    free(spec);
    return 0;
}

int
main(int argc, char **argv)
{
    return xl_cli_main(PROG, s_cmds, S_NCMDS, argc, argv);
}
