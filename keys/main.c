/* crosslink-keys: the key custodian's tool. One subcommand per task, each a
 * single step with a clear confirmation; every mistake (wrong role, a file that
 * exists, a world-readable key) is refused with a one-line error. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xl/bundle.h"
#include "xl/cli.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/keyring.h"
#include "xl/log.h"

#define PROG "crosslink-keys"

static int keys_init(int argc, char **argv);
static int keys_new(int argc, char **argv);
static int keys_local(int argc, char **argv);
static int keys_keyring(int argc, char **argv);
static int keys_bundle(int argc, char **argv);
static int keys_unbundle(int argc, char **argv);
static int keys_rotate(int argc, char **argv);
static int keys_show(int argc, char **argv);

static const struct xl_cli_cmd s_cmds[] = {
    {"init", keys_init, "init DIR",
     "Create the coalition's keys in DIR (made 0700 if absent): the linker's CURVE key pair\n"
     "(linker.key/.pub), the linker's Ed25519 signing key (linker-sign.key/.pub), the analysis\n"
     "key pair (analysis.key/.pub), the linkage secret of epoch 1 (linkage-e1.secret) and an\n"
     "empty keyring. Refuses to overwrite any of them."},
    {"new", keys_new, "new ROLE NAME --agency AGENCY [-o DIR]",
     "Create a key pair for ROLE (agent, analyst, auditor or admin) named NAME in DIR (default\n"
     "the current directory): NAME.key (secret, 0600) and NAME.pub. Prints the keyring line to\n"
     "add. --agency is required for an agent; other roles default to 'coalition'."},
    {"local", keys_local, "local AGENCY [-o FILE]",
     "Create the agency's local key (default AGENCY-local.key), which never leaves the agency:\n"
     "local_ref = HMAC(local key, source id) lets only the agency map feedback to its records."},
    {"keyring", keys_keyring,
     "keyring add KEYRING FILE.pub | revoke KEYRING ID|NAME | list KEYRING",
     "Add a role's public key to the linker's keyring, revoke one by key id or name, or list\n"
     "the entries. Changes are written atomically; the linker picks them up on SIGHUP."},
    {"bundle", keys_bundle, "bundle DIR AGENT.pub [--epoch N] [-o FILE]",
     "Seal the linkage secret (latest epoch in DIR unless --epoch) to one agent's public key.\n"
     "Default output NAME-eN.bundle. Give the agency the bundle and the check value printed."},
    {"unbundle", keys_unbundle, "unbundle BUNDLE --key AGENT.key [-o FILE]",
     "Agency side: open a bundle with the agent's secret key and write the linkage secret\n"
     "(default linkage-eN.secret, 0600). Refuses a bundle that was altered or is for another key.\n"
     "Compare the printed check value with the one the key custodian published."},
    {"rotate", keys_rotate, "rotate DIR",
     "Create the linkage secret of the next epoch in DIR. Bundle it for every agent; the linker\n"
     "links only records of one epoch, so every agency resubmits under the new epoch."},
    {"show", keys_show, "show FILE",
     "Describe a key, secret or bundle file (type, name, role, agency, key id, epoch, check\n"
     "value) without printing any secret."},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

/* getopt_long with --help handled the same way for every subcommand.
 * Returns the option, -1 at the end, or -2 when the caller should return *rc. */
static int
s_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts, int *rc)
{
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);

    if (c == 'h') {
        xl_cli_help();
        *rc = 0;
        return -2;
    }
    if (c == '?' || c == ':') {
        *rc = xl_cli_option_error(c, argv);
        return -2;
    }
    return c;
}

static int
s_path(char *out, size_t len, const char *dir, const char *name)
{
    return (size_t)snprintf(out, len, "%s/%s", dir, name) < len ? 0 : -1;
}

static void
s_print_check(const struct xl_keyfile *secret)
{
    uint8_t check[XL_CHECK_BYTES];
    char hex[2 * XL_CHECK_BYTES + 1];

    if (xl_secret_check(secret->secret, secret->epoch, check) == 0) {
        xl_hex(check, sizeof check, hex);
        printf("  epoch %u, check value %s\n", (unsigned)secret->epoch, hex);
    }
}

/* Creates a key of type t, fills its labels and writes the secret file and, for
 * key pairs, the public file. Prints one confirmation line. */
static int
s_make_key(enum xl_key_type t, const char *dir, const char *base, const char *name,
           const char *role, const char *agency, uint32_t epoch, struct xl_keyfile **keep)
{
    char path[PATH_MAX], pubpath[PATH_MAX], err[XL_ERRBUF], id[XL_KEYID_HEX + 1];
    struct xl_keyfile *kf = xl_keyfile_new(t);
    int r = 1;

    if (kf == NULL)
        return xl_cli_fail("out of memory");
    snprintf(kf->name, sizeof kf->name, "%s", name);
    snprintf(kf->role, sizeof kf->role, "%s", role);
    snprintf(kf->agency, sizeof kf->agency, "%s", agency);
    xl_today(kf->created);
    kf->epoch = epoch;
    if (xl_keyfile_generate(kf) != 0) {
        xl_cli_fail("key generation failed");
        goto out;
    }
    if (t == XL_KEY_LINKAGE_SECRET || t == XL_KEY_LOCAL_SECRET) {
        if (s_path(path, sizeof path, dir, base) != 0) {
            xl_cli_fail("%s/%s: path too long", dir, base);
            goto out;
        }
    } else if ((size_t)snprintf(path, sizeof path, "%s/%s.key", dir, base) >= sizeof path ||
               (size_t)snprintf(pubpath, sizeof pubpath, "%s/%s.pub", dir, base) >=
                   sizeof pubpath) {
        xl_cli_fail("%s/%s: path too long", dir, base);
        goto out;
    }
    if (xl_keyfile_write(path, kf, 0, err, sizeof err) != 0) {
        xl_cli_fail("%s", err);
        goto out;
    }
    if (kf->publen > 0) {
        if (xl_keyfile_write(pubpath, kf, 1, err, sizeof err) != 0) {
            (void)unlink(path);
            xl_cli_fail("%s", err);
            goto out;
        }
        xl_key_id(kf->pub, kf->publen, id);
        printf("created %s (secret, 0600) and %s, key id %s\n", path, pubpath, id);
    } else {
        printf("created %s (secret, 0600)\n", path);
    }
    if (keep != NULL) {
        *keep = kf;
        kf = NULL;
    }
    r = 0;
out:
    xl_keyfile_destroy(&kf);
    return r;
}

static int
keys_init(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    char path[PATH_MAX], err[XL_ERRBUF];
    struct xl_keyfile *secret = NULL;
    struct xl_keyring *kr = NULL;
    struct stat st;
    const char *dir;
    int c, rc = 0;

    while ((c = s_getopt(argc, argv, ":h", opts, &rc)) != -1) {
        if (c == -2)
            return rc;
    }
    if (argc - optind != 1)
        return xl_cli_usage_error("expected one directory");
    dir = argv[optind];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return xl_cli_fail("%s: cannot create directory: %s", dir, strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return xl_cli_fail("%s: not a directory", dir);
    if (s_path(path, sizeof path, dir, "keyring") != 0)
        return xl_cli_fail("%s: path too long", dir);
    if (access(path, F_OK) == 0)
        return xl_cli_fail("%s: exists; %s already holds coalition keys (refusing to overwrite)",
                           path, dir);
    if (s_make_key(XL_KEY_CURVE_SECRET, dir, "linker", "linker", "linker", "hub", 0, NULL) != 0 ||
        s_make_key(XL_KEY_SIGN_SECRET, dir, "linker-sign", "linker-sign", "linker", "hub", 0,
                   NULL) != 0 ||
        s_make_key(XL_KEY_ANALYSIS_SECRET, dir, "analysis", "analysis", "analyst", "coalition", 0,
                   NULL) != 0 ||
        s_make_key(XL_KEY_LINKAGE_SECRET, dir, "linkage-e1.secret", "linkage-e1", "agent",
                   "coalition", 1, &secret) != 0)
        return 1;
    s_print_check(secret);
    xl_keyfile_destroy(&secret);
    kr = xl_keyring_new();
    if (kr == NULL)
        return xl_cli_fail("out of memory");
    rc = xl_keyring_save(kr, path, err, sizeof err);
    xl_keyring_destroy(&kr);
    if (rc != 0)
        return xl_cli_fail("%s", err);
    printf("created %s (empty)\n", path);
    printf("next: '" PROG " new agent NAME --agency A' for each agency, add each .pub to the "
           "keyring, and bundle the linkage secret to each agent\n");
    return 0;
}

static int
keys_new(int argc, char **argv)
{
    static const struct option opts[] = {{"agency", required_argument, NULL, 'a'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *agency = NULL, *dir = ".", *role, *name;
    struct xl_keyfile *kf = NULL;
    struct xl_keyring_entry e;
    char line[512], err[XL_ERRBUF];
    enum xl_role r;
    int c, rc = 0;

    while ((c = s_getopt(argc, argv, ":a:o:h", opts, &rc)) != -1) {
        if (c == -2)
            return rc;
        if (c == 'a')
            agency = optarg;
        else if (c == 'o')
            dir = optarg;
    }
    if (argc - optind != 2)
        return xl_cli_usage_error("expected ROLE and NAME");
    role = argv[optind];
    name = argv[optind + 1];
    if (xl_role_parse(role, &r) != 0)
        return xl_cli_fail("unknown role '%s': use agent, analyst, auditor or admin", role);
    if (!xl_name_valid(name))
        return xl_cli_fail("invalid name '%s': use letters, digits, '.', '_' and '-'", name);
    if (agency == NULL) {
        if (r == XL_ROLE_AGENT)
            return xl_cli_fail("an agent key needs --agency (the agency it submits for)");
        agency = "coalition";
    }
    if (!xl_name_valid(agency))
        return xl_cli_fail("invalid agency '%s': use letters, digits, '.', '_' and '-'", agency);
    if (s_make_key(XL_KEY_CURVE_SECRET, dir, name, name, role, agency, 0, &kf) != 0)
        return 1;
    rc = xl_keyring_entry_from_key(kf, &e, err, sizeof err);
    xl_keyfile_destroy(&kf);
    if (rc != 0 || xl_keyring_format_line(&e, line, sizeof line) != 0)
        return xl_cli_fail("%s", rc != 0 ? err : "keyring line too long");
    printf("keyring line (or run: " PROG " keyring add KEYRING %s/%s.pub):\n%s\n", dir, name, line);
    return 0;
}

static int
keys_local(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL, *agency;
    char path[PATH_MAX];
    int c, rc = 0;

    while ((c = s_getopt(argc, argv, ":o:h", opts, &rc)) != -1) {
        if (c == -2)
            return rc;
        if (c == 'o')
            out = optarg;
    }
    if (argc - optind != 1)
        return xl_cli_usage_error("expected AGENCY");
    agency = argv[optind];
    if (!xl_name_valid(agency))
        return xl_cli_fail("invalid agency '%s'", agency);
    if (out == NULL) {
        snprintf(path, sizeof path, "%s-local.key", agency);
        out = path;
    }
    return s_make_key(XL_KEY_LOCAL_SECRET, ".", out, "local", "agent", agency, 0, NULL);
}

static int
s_keyring_load(const char *path, struct xl_keyring **kr)
{
    char err[XL_ERRBUF];

    if (xl_keyring_load(path, kr, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    return 0;
}

static int
keys_keyring(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct xl_keyring *kr = NULL;
    struct xl_keyfile *kf = NULL;
    struct xl_keyring_entry e;
    char err[XL_ERRBUF], line[512], today[11];
    const char *verb, *path;
    int c, rc = 0;

    while ((c = s_getopt(argc, argv, "+:h", opts, &rc)) != -1) {
        if (c == -2)
            return rc;
    }
    /* "keyring add --help": the options end at the verb, the help does not. */
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return xl_cli_help();
    }
    if (argc - optind < 2)
        return xl_cli_usage_error("expected add, revoke or list and a keyring file");
    verb = argv[optind];
    path = argv[optind + 1];
    if (strcmp(verb, "list") == 0) {
        if (argc - optind != 2)
            return xl_cli_usage_error("list takes only the keyring file");
        if (s_keyring_load(path, &kr) != 0)
            return 1;
        printf("%-16s %-8s %-20s %-20s %-8s %s\n", "KEY ID", "ROLE", "AGENCY", "NAME", "STATUS",
               "DATE");
        for (size_t i = 0; i < kr->count; i++) {
            const struct xl_keyring_entry *k = &kr->entries[i];
            printf("%-16s %-8s %-20s %-20s %-8s %s\n", k->key_id, xl_role_name(k->role), k->agency,
                   k->name, k->active ? "active" : "revoked", k->date);
        }
        printf("%zu key%s\n", kr->count, kr->count == 1 ? "" : "s");
        xl_keyring_destroy(&kr);
        return 0;
    }
    if (argc - optind != 3)
        return xl_cli_usage_error("add and revoke take the keyring file and one key");
    if (strcmp(verb, "add") != 0 && strcmp(verb, "revoke") != 0)
        return xl_cli_usage_error("expected add, revoke or list");
    if (s_keyring_load(path, &kr) != 0)
        return 1;
    if (strcmp(verb, "add") == 0) {
        rc = xl_keyfile_load_public(argv[optind + 2], XL_KEY_CURVE_PUBLIC, &kf, err, sizeof err);
        if (rc == 0)
            rc = xl_keyring_entry_from_key(kf, &e, err, sizeof err);
        if (rc == 0)
            rc = xl_keyring_add(kr, &e, err, sizeof err);
        xl_keyfile_destroy(&kf);
    } else {
        xl_today(today);
        rc = xl_keyring_revoke(kr, argv[optind + 2], today, err, sizeof err);
        if (rc == 0)
            e = *xl_keyring_find(kr, argv[optind + 2]);
    }
    if (rc == 0)
        rc = xl_keyring_save(kr, path, err, sizeof err);
    xl_keyring_destroy(&kr);
    if (rc != 0)
        return xl_cli_fail("%s", err);
    if (xl_keyring_format_line(&e, line, sizeof line) == 0)
        printf("%s %s: %s\n", strcmp(verb, "add") == 0 ? "added to" : "revoked in", path, line);
    printf("the linker applies keyring changes on reload (systemctl reload crosslink-linker, or "
           "SIGHUP)\n");
    return 0;
}

/* Highest epoch N with DIR/linkage-eN.secret present; 0 when none. */
static uint32_t
s_latest_epoch(const char *dir)
{
    struct dirent *de;
    uint32_t best = 0;
    DIR *d = opendir(dir);

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        unsigned long n;
        char *end;
        if (strncmp(de->d_name, "linkage-e", 9) != 0)
            continue;
        n = strtoul(de->d_name + 9, &end, 10);
        if (strcmp(end, ".secret") == 0 && n > best && n <= UINT32_MAX)
            best = (uint32_t)n;
    }
    closedir(d);
    return best;
}

static int
s_load_secret(const char *dir, uint32_t epoch, struct xl_keyfile **out)
{
    char path[PATH_MAX], err[XL_ERRBUF];

    snprintf(path, sizeof path, "%s/linkage-e%u.secret", dir, (unsigned)epoch);
    if (xl_keyfile_load(path, XL_KEY_LINKAGE_SECRET, out, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    if ((*out)->epoch != epoch) {
        xl_keyfile_destroy(out);
        return xl_cli_fail("%s: file says epoch %u", path, (unsigned)epoch);
    }
    return 0;
}

static int
keys_bundle(int argc, char **argv)
{
    static const struct option opts[] = {{"epoch", required_argument, NULL, 'e'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct xl_keyfile *secret = NULL, *agent = NULL;
    char err[XL_ERRBUF], path[PATH_MAX];
    const char *out = NULL, *dir;
    unsigned long epoch = 0;
    int c, rc = 0;

    while ((c = s_getopt(argc, argv, ":e:o:h", opts, &rc)) != -1) {
        if (c == -2)
            return rc;
        if (c == 'e') {
            char *end;
            epoch = strtoul(optarg, &end, 10);
            if (*end != '\0' || epoch == 0 || epoch > UINT32_MAX)
                return xl_cli_usage_error("--epoch takes a positive number");
        } else if (c == 'o') {
            out = optarg;
        }
    }
    if (argc - optind != 2)
        return xl_cli_usage_error("expected the keys directory and an agent's public key");
    dir = argv[optind];
    if (epoch == 0)
        epoch = s_latest_epoch(dir);
    if (epoch == 0)
        return xl_cli_fail("%s: no linkage secret (linkage-eN.secret); run '" PROG " init' first",
                           dir);
    if (xl_keyfile_load_public(argv[optind + 1], XL_KEY_CURVE_PUBLIC, &agent, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    if (strcmp(agent->role, "agent") != 0) {
        rc = xl_cli_fail("%s: key '%s' has role '%s'; only agents receive the linkage secret",
                         argv[optind + 1], agent->name, agent->role);
        goto out;
    }
    if (s_load_secret(dir, (uint32_t)epoch, &secret) != 0) {
        rc = 1;
        goto out;
    }
    if (out == NULL) {
        snprintf(path, sizeof path, "%s-e%lu.bundle", agent->name, epoch);
        out = path;
    }
    if (xl_bundle_write(out, secret, agent, err, sizeof err) != 0) {
        rc = xl_cli_fail("%s", err);
        goto out;
    }
    printf("wrote %s: linkage secret for agent '%s' of agency '%s'\n", out, agent->name,
           agent->agency);
    s_print_check(secret);
    rc = 0;
out:
    xl_keyfile_destroy(&secret);
    xl_keyfile_destroy(&agent);
    return rc;
}

static int
keys_unbundle(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct xl_keyfile *agent = NULL, *secret = NULL;
    const char *keypath = NULL, *out = NULL;
    char err[XL_ERRBUF], path[PATH_MAX];
    int c, rc = 0;

    while ((c = s_getopt(argc, argv, ":k:o:h", opts, &rc)) != -1) {
        if (c == -2)
            return rc;
        if (c == 'k')
            keypath = optarg;
        else if (c == 'o')
            out = optarg;
    }
    if (argc - optind != 1 || keypath == NULL)
        return xl_cli_usage_error("expected a bundle and --key AGENT.key");
    if (xl_keyfile_load(keypath, XL_KEY_CURVE_SECRET, &agent, err, sizeof err) != 0)
        return xl_cli_fail("%s", err);
    if (xl_bundle_open(argv[optind], agent, &secret, err, sizeof err) != 0) {
        rc = xl_cli_fail("%s", err);
        goto out;
    }
    if (out == NULL) {
        snprintf(path, sizeof path, "linkage-e%u.secret", (unsigned)secret->epoch);
        out = path;
    }
    if (xl_keyfile_write(out, secret, 0, err, sizeof err) != 0) {
        rc = xl_cli_fail("%s", err);
        goto out;
    }
    printf("wrote %s (secret, 0600) for agency '%s'\n", out, secret->agency);
    s_print_check(secret);
    printf("confirm the check value with the key custodian before the first submission\n");
    rc = 0;
out:
    xl_keyfile_destroy(&agent);
    xl_keyfile_destroy(&secret);
    return rc;
}

static int
keys_rotate(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct xl_keyfile *secret = NULL;
    char base[64], name[32];
    uint32_t epoch;
    int c, rc = 0;

    while ((c = s_getopt(argc, argv, ":h", opts, &rc)) != -1) {
        if (c == -2)
            return rc;
    }
    if (argc - optind != 1)
        return xl_cli_usage_error("expected the keys directory");
    epoch = s_latest_epoch(argv[optind]);
    if (epoch == 0)
        return xl_cli_fail("%s: no linkage secret to rotate; run '" PROG " init' first",
                           argv[optind]);
    /* Reading the current secret first proves the directory is the custodian's. */
    if (s_load_secret(argv[optind], epoch, &secret) != 0)
        return 1;
    xl_keyfile_destroy(&secret);
    epoch++;
    snprintf(base, sizeof base, "linkage-e%u.secret", (unsigned)epoch);
    snprintf(name, sizeof name, "linkage-e%u", (unsigned)epoch);
    if (s_make_key(XL_KEY_LINKAGE_SECRET, argv[optind], base, name, "agent", "coalition", epoch,
                   &secret) != 0)
        return 1;
    s_print_check(secret);
    xl_keyfile_destroy(&secret);
    printf("next: bundle epoch %u to every agent; the linker links each epoch separately\n",
           (unsigned)epoch);
    return 0;
}

static int
keys_show(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    static const enum xl_key_type types[] = {
        XL_KEY_CURVE_PUBLIC,   XL_KEY_CURVE_SECRET,    XL_KEY_SIGN_PUBLIC,
        XL_KEY_SIGN_SECRET,    XL_KEY_ANALYSIS_PUBLIC, XL_KEY_ANALYSIS_SECRET,
        XL_KEY_LINKAGE_SECRET, XL_KEY_LOCAL_SECRET,    XL_KEY_PSEUDONYM_SECRET};
    char err[XL_ERRBUF], id[XL_KEYID_HEX + 1];
    struct xl_keyfile *kf = NULL;
    int c, rc = 0;

    while ((c = s_getopt(argc, argv, ":h", opts, &rc)) != -1) {
        if (c == -2)
            return rc;
    }
    if (argc - optind != 1)
        return xl_cli_usage_error("expected one file");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        rc = xl_keyfile_load(argv[optind], types[i], &kf, err, sizeof err);
        if (rc != XL_ERR_INVALID)
            break;
    }
    if (rc != 0)
        return xl_cli_fail("%s", err);
    printf("type: %s\n", xl_key_type_name(kf->type));
    if (kf->name[0] != '\0')
        printf("name: %s\n", kf->name);
    if (kf->role[0] != '\0')
        printf("role: %s\n", kf->role);
    if (kf->agency[0] != '\0')
        printf("agency: %s\n", kf->agency);
    if (kf->created[0] != '\0')
        printf("created: %s\n", kf->created);
    if (kf->publen > 0) {
        xl_key_id(kf->pub, kf->publen, id);
        printf("key id: %s\n", id);
    }
    if (kf->type == XL_KEY_LINKAGE_SECRET)
        s_print_check(kf);
    xl_keyfile_destroy(&kf);
    return 0;
}

int
main(int argc, char **argv)
{
    return xl_cli_main(PROG, s_cmds, S_NCMDS, argc, argv);
}
