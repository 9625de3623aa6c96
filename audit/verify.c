/* crosslink-audit verify: holds a copy of the linker's audit log to everything
 * signed about it, with nothing but the linker's public signing key. The log's
 * own hashes only show that it is internally consistent; whoever can write the
 * file can recompute them. What ties it to the linker are the signed
 * checkpoints (kept beside the log, and by the IG lead off the hub) and the
 * agencies' receipts, so every one given is checked, and entries that no
 * signature covers yet are reported rather than silently trusted. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "xl/auditverify.h"
#include "xl/cli.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/receipt.h"

/* Failures listed one by one per checkpoint file: a log replaced with another
 * key fails every note in its file, and a thousand identical lines hide the
 * rest of the report. */
#define S_SHOWN_MAX 5
/* Long enough for the log verifier's messages, which name two claims. */
#define S_ERRBUF 1024

struct s_verify {
    const uint8_t *pk;
    struct xl_audit_claim *claims;
    size_t n, cap;
    size_t checkpoints; /* checkpoint signatures verified, from files */
    size_t cpbad;       /* notes in those files that did not open */
    uint64_t largest;   /* the largest size among them */
    size_t receipts;    /* receipts verified */
    size_t failures;    /* problems reported */
};

/* One file of checkpoints being read. */
struct s_cpfile {
    struct s_verify *v;
    const char *path;
    size_t no;     /* number of the note being read, from 1 */
    size_t offset; /* its byte offset: notes lie one after another */
    size_t bad;    /* notes of this file that failed */
};

static void s_fail(struct s_verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports one problem ("crosslink-audit: ..." on stderr) and counts it. */
static void
s_fail(struct s_verify *v, const char *fmt, ...)
{
    char msg[S_ERRBUF];
    va_list ap;

    v->failures++;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    xl_cli_fail("%s", msg);
}

static struct xl_audit_claim *
s_claim(struct s_verify *v)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? 2 * v->cap : 64;
        struct xl_audit_claim *nc = realloc(v->claims, ncap * sizeof *nc);
        if (nc == NULL)
            return NULL;
        v->claims = nc;
        v->cap = ncap;
    }
    memset(&v->claims[v->n], 0, sizeof v->claims[v->n]);
    return &v->claims[v->n++];
}

static int
s_checkpoint(void *ctx, const char *note, size_t len, char *err, size_t errlen)
{
    struct s_cpfile *f = ctx;
    struct xl_checkpoint cp;
    struct xl_audit_claim *c;
    char msg[XL_ERRBUF];
    size_t at = f->offset;

    f->no++;
    f->offset += len;
    if (xl_audit_checkpoint_open(note, len, f->v->pk, &cp, msg, sizeof msg) != 0) {
        /* Not a claim: a note the key does not open says nothing about the log. */
        f->v->failures++;
        f->v->cpbad++;
        if (++f->bad <= S_SHOWN_MAX)
            xl_cli_fail("%s: checkpoint %zu (at byte %zu): %s", f->path, f->no, at, msg);
        return 0;
    }
    c = s_claim(f->v);
    if (c == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    snprintf(c->name, sizeof c->name, "checkpoint %zu of %.200s", f->no, f->path);
    c->has_cp = 1;
    c->cp = cp;
    f->v->checkpoints++;
    if (cp.size > f->v->largest)
        f->v->largest = cp.size;
    return 0;
}

/* Adds the checkpoints in the file at path. A missing file is a failure only
 * when the user named it (required). */
static int
s_checkpoint_file(struct s_verify *v, const char *path, int required)
{
    struct s_cpfile f = {.v = v, .path = path};
    char err[S_ERRBUF];
    int r = xl_checkpoints_each(path, s_checkpoint, &f, NULL, err, sizeof err);

    if (f.bad > S_SHOWN_MAX)
        xl_cli_fail("%s: %zu more checkpoint%s in it did not open either", path,
                    f.bad - S_SHOWN_MAX, f.bad - S_SHOWN_MAX == 1 ? "" : "s");
    if (r == XL_ERR_NOTFOUND && !required)
        return 0;
    if (r == XL_ERR_NOMEM)
        return r;
    if (r != 0)
        s_fail(v, "%s", err);
    return 0;
}

/* Checks a receipt on its own (signature, checkpoint, entry, inclusion proof)
 * and adds what it vouches for about the log: its checkpoint, and its commit
 * entry's leaf at its seq. */
static int
s_receipt(struct s_verify *v, const char *path)
{
    Crosslink__Receipt *r = NULL;
    struct xl_checkpoint cp;
    struct xl_audit_claim *c;
    uint8_t leaf[XL_HASH_BYTES];
    char msg[XL_ERRBUF];
    int rc = xl_receipt_load(path, &r, msg, sizeof msg);

    if (rc == XL_ERR_NOMEM)
        return rc;
    if (rc == 0)
        rc = xl_receipt_verify(r, v->pk, msg, sizeof msg);
    if (rc == 0)
        rc = xl_receipt_verify_audit(r, v->pk, &cp, leaf, msg, sizeof msg);
    if (rc != 0) {
        s_fail(v, "receipt %s: %s", path, msg);
        crosslink__receipt__free_unpacked(r, NULL);
        return 0;
    }
    c = s_claim(v);
    if (c != NULL) {
        snprintf(c->name, sizeof c->name, "the checkpoint in receipt %.200s", path);
        c->has_cp = 1;
        c->cp = cp;
        c = s_claim(v);
    }
    if (c != NULL) {
        snprintf(c->name, sizeof c->name, "receipt %.200s", path);
        c->leaf_seq = r->audit_seq;
        memcpy(c->leaf, leaf, XL_HASH_BYTES);
        v->receipts++;
    }
    crosslink__receipt__free_unpacked(r, NULL);
    return c != NULL ? 0 : XL_ERR_NOMEM;
}

/* "entry 7 is" or "entries 7-9 are", and the pronoun to go with it. */
static const char *
s_range(char *out, size_t len, uint64_t from, uint64_t to)
{
    if (from == to) {
        snprintf(out, len, "entry %llu is", (unsigned long long)from);
        return "it";
    }
    snprintf(out, len, "entries %llu-%llu are", (unsigned long long)from, (unsigned long long)to);
    return "them";
}

int
audit_cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"linker-pub", required_argument, NULL, 'k'},
                                         {"checkpoint", required_argument, NULL, 'C'},
                                         {"receipt", required_argument, NULL, 'r'},
                                         {"allow-uncovered", no_argument, NULL, 'u'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct s_verify v = {0};
    struct xl_keyfile *key = NULL;
    struct xl_audit_verified out;
    const char *keypath = NULL, *log;
    const char **cpfiles = NULL, **receipts = NULL;
    char err[S_ERRBUF], origin[XL_AUDIT_ORIGIN_MAX], kid[XL_KEYID_HEX + 1];
    char root[2 * XL_HASH_BYTES + 1], range[96], *own = NULL;
    size_t ncpfiles = 0, nreceipts = 0;
    int c, allow_uncovered = 0, logok = 0, rc = 1, r;

    /* Each list is at most as long as argv. */
    cpfiles = calloc((size_t)argc + 1, sizeof *cpfiles);
    receipts = calloc((size_t)argc + 1, sizeof *receipts);
    if (cpfiles == NULL || receipts == NULL) {
        rc = xl_cli_fail("out of memory");
        goto out;
    }
    while ((c = getopt_long(argc, argv, ":hk:C:r:u", opts, NULL)) != -1) {
        switch (c) {
        case 'k': keypath = optarg; break;
        case 'C': cpfiles[ncpfiles++] = optarg; break;
        case 'r': receipts[nreceipts++] = optarg; break;
        case 'u': allow_uncovered = 1; break;
        case 'h': rc = xl_cli_help(); goto out;
        default: rc = xl_cli_option_error(c, argv); goto out;
        }
    }
    if (optind != argc - 1) {
        rc = xl_cli_usage_error(optind == argc ? "LOG is required" : "one LOG only");
        goto out;
    }
    if (keypath == NULL) {
        rc = xl_cli_usage_error("--linker-pub KEY is required");
        goto out;
    }
    log = argv[optind];
    r = xl_keyfile_load_public(keypath, XL_KEY_SIGN_PUBLIC, &key, err, sizeof err);
    if (r != 0) {
        rc = xl_cli_fail("%s", err);
        goto out;
    }
    v.pk = key->pub;
    xl_audit_origin(key->pub, origin);
    xl_key_id(key->pub, XL_SIGN_PK_BYTES, kid);

    /* The checkpoints the linker keeps beside the log, then the ones given. */
    own = malloc(strlen(log) + sizeof XL_AUDIT_CHECKPOINTS_SUFFIX);
    if (own == NULL) {
        rc = xl_cli_fail("out of memory");
        goto out;
    }
    sprintf(own, "%s%s", log, XL_AUDIT_CHECKPOINTS_SUFFIX);
    r = s_checkpoint_file(&v, own, 0);
    for (size_t i = 0; r == 0 && i < ncpfiles; i++)
        r = s_checkpoint_file(&v, cpfiles[i], 1);
    for (size_t i = 0; r == 0 && i < nreceipts; i++)
        r = s_receipt(&v, receipts[i]);
    if (r != 0) {
        rc = xl_cli_fail("out of memory");
        goto out;
    }

    /* The verifier takes a missing file for an empty log, as the linker must
     * before its first entry; here it is far more likely a mistyped path. */
    if (access(log, F_OK) != 0) {
        s_fail(&v, "%s: cannot read: %s", log, strerror(errno));
    } else if ((r = xl_audit_verify(log, v.claims, v.n, NULL, NULL, &out, err, sizeof err)) != 0) {
        /* The reader's messages name the file already; a claim's do not. */
        if (r == XL_ERR_MISMATCH)
            s_fail(&v, "%s: %s", log, err);
        else
            s_fail(&v, "%s", err);
    } else {
        logok = 1;
    }

    printf("linker key   %s (checkpoints signed as %s)\n", kid, origin);
    if (logok) {
        xl_hex(out.root, XL_HASH_BYTES, root);
        printf("log          %s: %llu entries, each one's hash and the chain between them "
               "verified\n",
               log, (unsigned long long)out.entries);
        printf("root         %s (all %llu entries)\n", root, (unsigned long long)out.entries);
    } else {
        printf("log          %s: NOT verified\n", log);
    }
    if (v.checkpoints > 0)
        printf("checkpoints  %zu signature%s verified, largest size %llu%s\n", v.checkpoints,
               v.checkpoints == 1 ? "" : "s", (unsigned long long)v.largest,
               logok ? ", each matches the log" : "");
    else
        printf("checkpoints  none verified\n");
    if (v.cpbad > 0)
        printf("             %zu did NOT verify\n", v.cpbad);
    if (v.receipts == 0)
        printf("receipts     none verified\n");
    else
        printf("receipts     %zu verified: signature and inclusion proof%s\n", v.receipts,
               logok ? ", and entry in the log" : "");
    if (logok && out.covered > 0)
        printf("covered      entries 1-%llu by a signed checkpoint\n",
               (unsigned long long)out.covered);
    if (logok && out.covered < out.entries) {
        /* Nothing signed vouches for these yet: whoever can write the file
         * could have written them. */
        const char *them = s_range(range, sizeof range, out.covered + 1, out.entries);
        if (allow_uncovered) {
            printf("uncovered    %s not yet covered by a signed checkpoint "
                   "(accepted: --allow-uncovered)\n",
                   range);
        } else {
            printf("uncovered    %s not yet covered by a signed checkpoint\n", range);
            s_fail(&v,
                   "%s not yet covered by a signed checkpoint: anyone who can write the log "
                   "could have written %s (fetch a newer checkpoint, or accept this with "
                   "--allow-uncovered)",
                   range, them);
        }
    }
    if (v.failures > 0)
        printf("result       FAILED: %zu problem%s\n", v.failures, v.failures == 1 ? "" : "s");
    else
        printf("result       verified\n");
    rc = v.failures > 0 ? 1 : 0;
out:
    fflush(stdout);
    xl_keyfile_destroy(&key);
    free(v.claims);
    free(own);
    free(cpfiles);
    free(receipts);
    return rc;
}
