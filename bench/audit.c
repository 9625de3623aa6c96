/* Cost of verifying the audit log (common/auditverify.c), one thread: what
 * `crosslink-audit verify` and the linker's start-up check spend on a long log,
 * and what a signed checkpoint costs to make and to check.
 *
 *   audit [ENTRIES] [EVERY]     (defaults 1000000 and 1000)
 *
 * Writes ENTRIES entries shaped like the linker's (about 300 bytes each) with
 * xl_audit_line into a temporary file, signing a checkpoint every EVERY
 * entries, then prints, each beside a reference measured in the same run:
 *   - verification (every entry's hash, the chain, the Merkle tree, every
 *     checkpoint) in entries/s and MB/s, beside SHA-256 over the same bytes;
 *   - the cost of making a checkpoint (root, text, signature) beside one
 *     Ed25519 signature, and of opening one beside one Ed25519 verification;
 *   - what a checkpoint adds to the linker's own append (linker/audit.c: the
 *     receipt's commit entry, signed, appended to the checkpoints file and
 *     fsynced), beside the same append without one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../linker/audit.h"
#include "testutil.h"
#include "xl/auditverify.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/mem.h"

static double
s_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A linker-like entry for seq (without hash member): a mix of submission
 * commits, refusals, link runs, extracts and deliveries, as on a busy hub. */
static int
s_canon(uint64_t seq, const char *prevhex, char *out, size_t len)
{
    static const char *const actors[] = {"9f2c41d07a5be318", "04be77a1c9d2e650", "c1a90f3e5b7d2284",
                                         "linker"};
    unsigned long long s = (unsigned long long)seq;
    const char *actor = actors[seq % 4], *event, *role = seq % 4 == 3 ? "linker" : "agent";
    char details[256];

    switch (seq % 8) {
    case 0:
        event = "submission.commit";
        snprintf(details, sizeof details,
                 "{\"submission\":\"%016llx%016llx\",\"agency\":\"wmp\",\"dataset\":\"police\","
                 "\"records\":%llu,\"epoch\":3,\"chunks\":%llu}",
                 s * 2654435761ULL, s, 1000 + s % 90000, 1 + s % 90);
        break;
    case 1:
    case 5:
        event = "refusal";
        snprintf(details, sizeof details, "{\"request\":\"submit.chunk\",\"code\":\"sequence\"}");
        break;
    case 2:
        event = "link.run";
        snprintf(details, sizeof details, "{\"run\":%llu,\"records\":%llu,\"clusters\":%llu}", s,
                 4000000 + s % 1000, 1050000 + s % 700);
        break;
    case 3:
    case 7:
        event = "extract";
        role = "analyst";
        snprintf(details, sizeof details,
                 "{\"project\":\"cyp-mh-2026\",\"purpose\":\"needs assessment\",\"rows\":%llu}",
                 2100000 + s % 5000);
        break;
    default:
        event = "extract.delivered";
        role = "analyst";
        snprintf(details, sizeof details, "{\"project\":\"cyp-mh-2026\",\"bytes\":%llu}",
                 31000000 + s % 100000);
        break;
    }
    return snprintf(
        out, len,
        "{\"seq\":%llu,\"time\":\"2026-11-%02lluT%02llu:%02llu:%02lluZ\",\"actor\":\"%s\","
        "\"role\":\"%s\",\"event\":\"%s\",\"details\":%s,\"prev\":\"%s\"}",
        s, 1 + s / 86400 % 28, s / 3600 % 24, s / 60 % 60, s % 60, actor, role, event, details,
        prevhex);
}

struct s_notes {
    char **note;
    size_t *len;
    size_t n;
};

/* Mean seconds of one linker_audit_append (proved = 0) or
 * linker_audit_append_proved (1) on a log of its own in dir; -1 on failure. */
static double
s_linker_append(const char *dir, const char *name, const uint8_t *sk, const uint8_t *pk, int proved,
                int rounds)
{
    char *path = tu_path(dir, name), err[XL_ERRBUF];
    struct linker_audit *a = NULL;
    double t = -1;

    if (path == NULL || linker_audit_open(path, sk, pk, &a, err, sizeof err) != 0)
        goto out;
    linker_audit_set_interval(a, 0, 3600); /* only the receipts' checkpoints */
    t = s_now();
    for (int i = 0; i < rounds; i++) {
        cJSON *d = cJSON_CreateObject();
        struct linker_audit_proof pr;
        int r;
        cJSON_AddStringToObject(d, "agency", "wmp");
        cJSON_AddNumberToObject(d, "records", 1000 + i);
        r = proved ? linker_audit_append_proved(a, 0, "linker", "agent", "submission.commit", d,
                                                &pr, err, sizeof err)
                   : linker_audit_append(a, 0, "linker", "agent", "submission.commit", d, NULL, err,
                                         sizeof err);
        if (proved)
            linker_audit_proof_free(&pr);
        if (r != 0) {
            t = -1;
            goto out;
        }
    }
    t = (s_now() - t) / rounds;
out:
    if (t < 0)
        fprintf(stderr, "audit: linker append: %s\n", err);
    linker_audit_close(&a);
    free(path);
    return t;
}

int
main(int argc, char **argv)
{
    unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000ULL;
    unsigned long long every = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000ULL;
    uint8_t pk[XL_SIGN_PK_BYTES], sk[XL_SIGN_SK_BYTES], prev[XL_HASH_BYTES] = {0};
    uint8_t hash[XL_HASH_BYTES], leaf[XL_HASH_BYTES], sig[XL_SIG_BYTES];
    char prevhex[2 * XL_HASH_BYTES + 1], canon[512], err[1024], *dir = NULL, *path = NULL;
    struct xl_merkle_builder tree;
    struct xl_audit_claim *claims = NULL;
    struct xl_audit_verified out;
    struct s_notes notes = {0};
    unsigned long long bytes = 0, rounds = 2000;
    double t, t_write, t_cp = 0, t_sign, t_open, t_verify, t_sha, t_vfy;
    char *buf = NULL;
    FILE *f = NULL;
    int rc = 1;

    if (n == 0 || every == 0 || xl_crypto_init() != 0 || xl_sign_keypair(pk, sk) != 0)
        return 1;
    dir = tu_tmpdir();
    path = dir != NULL ? tu_path(dir, "audit.jsonl") : NULL;
    notes.note = calloc(n / every + 1, sizeof *notes.note);
    notes.len = calloc(n / every + 1, sizeof *notes.len);
    claims = calloc(n / every + 1, sizeof *claims);
    buf = malloc(1 << 20);
    if (path == NULL || notes.note == NULL || notes.len == NULL || claims == NULL || buf == NULL ||
        (f = fopen(path, "we")) == NULL)
        goto out;

    /* The log, as the linker writes it, with a checkpoint every `every`. */
    xl_merkle_builder_init(&tree);
    t = s_now();
    for (unsigned long long seq = 1; seq <= n; seq++) {
        char *line;
        size_t linelen;
        int clen;
        xl_hex(prev, XL_HASH_BYTES, prevhex);
        clen = s_canon(seq, prevhex, canon, sizeof canon);
        if (clen <= 0 || (size_t)clen >= sizeof canon ||
            xl_audit_line(prev, canon, (size_t)clen, &line, &linelen, hash) != 0)
            goto out;
        if (fwrite(line, 1, linelen, f) != linelen) {
            free(line);
            goto out;
        }
        xl_merkle_leaf_hash(line, linelen - 1, leaf);
        free(line);
        bytes += linelen;
        memcpy(prev, hash, sizeof prev);
        if (xl_merkle_builder_append(&tree, leaf) != 0)
            goto out;
        if (seq % every == 0) {
            /* What the linker does for each checkpoint it signs. */
            struct xl_checkpoint cp = {.size = seq};
            char text[512];
            double t0 = s_now();
            int tl;
            xl_audit_origin(pk, cp.origin);
            xl_merkle_builder_root(&tree, cp.root);
            tl = xl_checkpoint_format(&cp, NULL, text, sizeof text);
            if (tl <= 0 || xl_note_sign(text, (size_t)tl, cp.origin, sk, &notes.note[notes.n],
                                        &notes.len[notes.n], err, sizeof err) != 0)
                goto out;
            t_cp += s_now() - t0;
            notes.n++;
        }
    }
    if (fclose(f) != 0) {
        f = NULL;
        goto out;
    }
    f = NULL;
    t_write = s_now() - t;

    /* The reference for one checkpoint: one Ed25519 signature and one
     * verification of a message of a checkpoint's length. */
    t = s_now();
    for (unsigned long long i = 0; i < rounds; i++) {
        canon[0] = (char)i;
        if (xl_sign(sk, canon, 90, sig) != 0)
            goto out;
    }
    t_sign = (s_now() - t) / (double)rounds;
    t = s_now();
    for (unsigned long long i = 0; i < rounds; i++)
        if (xl_verify(pk, canon, 90, sig) != 0)
            goto out;
    t_vfy = (s_now() - t) / (double)rounds;

    /* Opening every checkpoint with the linker's key, as verify does. */
    t = s_now();
    for (size_t i = 0; i < notes.n; i++) {
        if (xl_audit_checkpoint_open(notes.note[i], notes.len[i], pk, &claims[i].cp, err,
                                     sizeof err) != 0)
            goto out;
        claims[i].has_cp = 1;
        snprintf(claims[i].name, sizeof claims[i].name, "checkpoint %zu", i + 1);
    }
    t_open = notes.n > 0 ? (s_now() - t) / (double)notes.n : 0;

    /* The reference for verification: SHA-256 over the same bytes, read from
     * the same file (now in the page cache). */
    if ((f = fopen(path, "re")) == NULL)
        goto out;
    t = s_now();
    {
        crypto_hash_sha256_state st;
        size_t got;
        crypto_hash_sha256_init(&st);
        while ((got = fread(buf, 1, 1 << 20, f)) > 0)
            crypto_hash_sha256_update(&st, (const uint8_t *)buf, got);
        crypto_hash_sha256_final(&st, hash);
    }
    t_sha = s_now() - t;
    fclose(f);
    f = NULL;

    t = s_now();
    if (xl_audit_verify(path, claims, notes.n, NULL, NULL, &out, err, sizeof err) != 0) {
        fprintf(stderr, "audit: %s\n", err);
        goto out;
    }
    t_verify = s_now() - t;
    if (out.entries != n || out.covered != n / every * every)
        goto out;

    printf("audit: %llu entries of %.0f bytes on average (%.0f MB) written with xl_audit_line "
           "in %.2f s, a checkpoint every %llu\n",
           n, (double)bytes / (double)n, (double)bytes / 1e6, t_write, every);
    printf("audit verify: %llu entries and %zu checkpoints in %.2f s: %9.0f entries/s %6.1f MB/s"
           "   beside SHA-256 over the same bytes: %6.1f MB/s (verify at %.2f of it)\n",
           n, notes.n, t_verify, (double)n / t_verify, (double)bytes / 1e6 / t_verify,
           (double)bytes / 1e6 / t_sha, t_sha / t_verify);
    printf("audit checkpoint: make %6.1f us (root, text, sign)   beside one Ed25519 sign   %6.1f "
           "us\n",
           notes.n > 0 ? t_cp / (double)notes.n * 1e6 : 0.0, t_sign * 1e6);
    printf("audit checkpoint: open %6.1f us (parse, verify)      beside one Ed25519 verify "
           "%6.1f us\n",
           t_open * 1e6, t_vfy * 1e6);
    {
        /* The linker's own appends, each fsynced: the disk sets these. */
        double plain = s_linker_append(dir, "plain.jsonl", sk, pk, 0, 200);
        double proved = s_linker_append(dir, "proved.jsonl", sk, pk, 1, 200);
        if (plain < 0 || proved < 0)
            goto out;
        printf("audit checkpoint: linker %6.0f us a receipt's entry (entry, note, 2 fsyncs)   "
               "beside the entry alone (1 fsync) %6.0f us\n",
               proved * 1e6, plain * 1e6);
    }
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "audit: benchmark failed\n");
    if (f != NULL)
        fclose(f);
    for (size_t i = 0; i < notes.n; i++)
        free(notes.note[i]);
    free(notes.note);
    free(notes.len);
    free(claims);
    free(buf);
    tu_rmtree(dir);
    free(dir);
    free(path);
    xl_wipe(sk, sizeof sk);
    return rc;
}
