/* Unit tests for `crosslink-audit verify` (audit/verify.c) and the log verifier
 * under it (common/auditverify.c). Logs are written in a temporary directory as
 * the linker writes them (entries made with xl_audit_line, checkpoints signed
 * with xl_note_sign into the file beside the log, receipts as agencies file
 * them), then altered in the ways SECURITY.md 3.6 lists. Each alteration must
 * be caught, and the message must say where: the entry's number and byte
 * offset, or the checkpoints and sizes between which the change lies. Each is
 * checked through xl_audit_verify and through the command, run in this
 * process with its output captured. */
#include <fcntl.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../audit/commands.h"
#include "crosslink.pb-c.h"
#include "testutil.h"
#include "xl/auditverify.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/merkle.h"
#include "xl/note.h"
#include "xl/receipt.h"

#define S_MAX     64   /* entries in a test log, at most */
#define S_LINE    1024 /* bytes of an entry, at most */
#define S_ENTRIES 20   /* the log every test starts from */
#define S_OUT     (64 * 1024)

/* The log every test starts from has checkpoints at these sizes beside it. */
static const uint64_t s_sizes[] = {5, 10, 15, 20};
#define S_NSIZES (sizeof s_sizes / sizeof s_sizes[0])

/* A log in memory: its lines and their leaf hashes. */
struct s_log {
    uint64_t n;
    uint8_t leaf[S_MAX][XL_HASH_BYTES];
    char line[S_MAX][S_LINE]; /* entry i + 1, without its newline */
};

struct s_fx {
    char *dir, *log, *cps, *pub, *receipt, *kept, *cap;
    struct xl_keyfile *key;                               /* the linker's signing key pair */
    uint8_t pk2[XL_SIGN_PK_BYTES], sk2[XL_SIGN_SK_BYTES]; /* someone else's */
    struct s_log good;                                    /* the log as the linker wrote it */
    struct s_log other;                                   /* scratch for another history */
    char out[S_OUT];                                      /* the command's output */
};

/* ---- writing logs, checkpoints and receipts ---------------------------------------- */

/* The submission id of the commit entry seq, as hex (16 bytes). */
static void
s_submission(uint64_t seq, char hex[2 * 16 + 1])
{
    uint8_t h[XL_HASH_BYTES];
    char in[32];

    snprintf(in, sizeof in, "submission %llu", (unsigned long long)seq);
    xl_sha256(in, strlen(in), h);
    xl_hex(h, 16, hex);
}

static const char *
s_event(uint64_t seq)
{
    static const char *const ev[] = {"extract", "submission.commit", "link.run"};
    return ev[seq % 3];
}

/* Entries 1..n as the linker writes them: every third a submission commit
 * (1, 4, 7, ...), the others link runs and extracts. Entry `altered` (0 for
 * none) carries a different record count: another history. */
static void
s_gen(struct s_log *l, uint64_t n, uint64_t altered)
{
    uint8_t prev[XL_HASH_BYTES] = {0}, hash[XL_HASH_BYTES];

    assert_true(n <= S_MAX);
    memset(l, 0, sizeof *l);
    for (uint64_t seq = 1; seq <= n; seq++) {
        char canon[S_LINE], details[600], sub[33], prevhex[2 * XL_HASH_BYTES + 1], *line = NULL;
        unsigned long long count = 1000 + seq + (seq == altered ? 1 : 0);
        size_t len = 0;
        s_submission(seq, sub);
        if (seq % 3 == 1)
            snprintf(details, sizeof details,
                     "{\"submission\":\"%s\",\"agency\":\"wmp\",\"dataset\":\"police\","
                     "\"records\":%llu,\"content\":\"%s%s\",\"epoch\":1,\"key_id\":"
                     "\"0123456789abcdef\",\"source\":\"ipc:///run/crosslink\",\"chunks\":3,"
                     "\"supersedes\":[]}",
                     sub, count, sub, sub);
        else if (seq % 3 == 2)
            snprintf(details, sizeof details,
                     "{\"run\":%llu,\"records\":%llu,\"clusters\":%llu,\"fuzzy\":true}",
                     (unsigned long long)seq, count, count / 2);
        else
            snprintf(details, sizeof details,
                     "{\"project\":\"p-2026-01\",\"analyst\":\"fedcba9876543210\",\"rows\":%llu,"
                     "\"purpose\":\"needs assessment\"}",
                     count);
        xl_hex(prev, XL_HASH_BYTES, prevhex);
        snprintf(canon, sizeof canon,
                 "{\"seq\":%llu,\"time\":\"2026-11-22T10:%02llu:00Z\",\"actor\":\"%s\",\"role\":"
                 "\"%s\",\"event\":\"%s\",\"details\":%s,\"prev\":\"%s\"}",
                 (unsigned long long)seq, (unsigned long long)seq % 60,
                 seq % 3 == 0 ? "fedcba9876543210" : "0123456789abcdef",
                 seq % 3 == 0 ? "analyst" : "agent", s_event(seq), details, prevhex);
        assert_int_equal(xl_audit_line(prev, canon, strlen(canon), &line, &len, hash), 0);
        assert_true(len < S_LINE);
        memcpy(l->line[seq - 1], line, len - 1);
        xl_merkle_leaf_hash(line, len - 1, l->leaf[seq - 1]);
        memcpy(prev, hash, sizeof prev);
        free(line);
    }
    l->n = n;
}

static void
s_write(const char *path, const char *text, size_t len, const char *mode)
{
    FILE *f = fopen(path, mode);

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* The first n entries of l as a log file. */
static void
s_save(const struct s_log *l, uint64_t n, const char *path)
{
    s_write(path, "", 0, "w");
    for (uint64_t i = 0; i < n; i++) {
        s_write(path, l->line[i], strlen(l->line[i]), "a");
        s_write(path, "\n", 1, "a");
    }
}

/* Byte offset of entry seq in l's file. */
static unsigned long long
s_offset(const struct s_log *l, uint64_t seq)
{
    unsigned long long at = 0;

    for (uint64_t i = 0; i + 1 < seq; i++)
        at += strlen(l->line[i]) + 1;
    return at;
}

static void
s_root(const struct s_log *l, uint64_t size, uint8_t root[XL_HASH_BYTES])
{
    struct xl_merkle_leaves leaves = {l->leaf, l->n};

    assert_int_equal(xl_merkle_root(size, xl_merkle_leaves_get, &leaves, root, NULL, 0), 0);
}

/* A checkpoint of l's first size entries signed with sk as the linker whose
 * key is origin_pk; root replaces the true root when not NULL. Caller frees. */
static char *
s_note(const struct s_log *l, uint64_t size, const uint8_t origin_pk[XL_SIGN_PK_BYTES],
       const uint8_t sk[XL_SIGN_SK_BYTES], const uint8_t *root, size_t *len)
{
    struct xl_checkpoint cp = {.size = size};
    char text[512], err[XL_ERRBUF], *note = NULL;
    int n;

    xl_audit_origin(origin_pk, cp.origin);
    if (root != NULL)
        memcpy(cp.root, root, XL_HASH_BYTES);
    else
        s_root(l, size, cp.root);
    n = xl_checkpoint_format(&cp, NULL, text, sizeof text);
    assert_true(n > 0);
    if (xl_note_sign(text, (size_t)n, cp.origin, sk, &note, len, err, sizeof err) != 0)
        fail_msg("%s", err);
    return note;
}

/* Appends to path a checkpoint at each size in sizes, signed as the linker
 * whose key is origin_pk with sk. */
static void
s_sign_all(const struct s_log *l, const char *path, const uint64_t *sizes, size_t n,
           const uint8_t origin_pk[XL_SIGN_PK_BYTES], const uint8_t sk[XL_SIGN_SK_BYTES])
{
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *note = s_note(l, sizes[i], origin_pk, sk, NULL, &len);
        s_write(path, note, len, "a");
        free(note);
    }
}

typedef void (*s_receipt_tamper)(Crosslink__Receipt *r);

/* The receipt of the commit entry seq of l, with the checkpoint of l's first
 * size entries, as `crosslink-agent` files it. */
static void
s_receipt(struct s_fx *f, const struct s_log *l, uint64_t seq, uint64_t size, const char *path,
          s_receipt_tamper tamper)
{
    Crosslink__Receipt r = CROSSLINK__RECEIPT__INIT;
    struct xl_merkle_leaves leaves = {l->leaf, l->n};
    struct xl_merkle_proof proof;
    ProtobufCBinaryData hops[XL_MERKLE_PROOF_MAX];
    uint8_t id[16], content[XL_HASH_BYTES], spec[XL_HASH_BYTES], sig[XL_SIG_BYTES];
    uint8_t pkbuf[XL_SIGN_PK_BYTES], root[XL_HASH_BYTES], *buf;
    char sub[33], *note;
    size_t notelen, len;

    assert_string_equal(s_event(seq), "submission.commit");
    s_submission(seq, sub);
    assert_int_equal(xl_unhex(sub, id, sizeof id), 0);
    memset(content, 0xc0, sizeof content);
    memset(spec, 0x5e, sizeof spec);
    r.submission_id.data = id;
    r.submission_id.len = sizeof id;
    r.agency = (char *)"wmp";
    r.dataset = (char *)"police";
    r.record_count = 1000 + seq;
    r.content_hash.data = content;
    r.content_hash.len = sizeof content;
    r.spec_fingerprint.data = spec;
    r.spec_fingerprint.len = sizeof spec;
    r.epoch = 1;
    r.time = 1795000000;
    r.audit_seq = seq;
    assert_int_equal(xl_receipt_sign(&r, f->key->secret, f->key->pub, sig, pkbuf), 0);
    note = s_note(l, size, f->key->pub, f->key->secret, NULL, &notelen);
    s_root(l, size, root);
    assert_int_equal(
        xl_merkle_inclusion_proof(seq - 1, size, xl_merkle_leaves_get, &leaves, &proof, NULL, 0),
        0);
    for (size_t i = 0; i < proof.n; i++) {
        hops[i].data = proof.hash[i];
        hops[i].len = XL_HASH_BYTES;
    }
    r.audit_proof = hops;
    r.n_audit_proof = proof.n;
    r.audit_root.data = root;
    r.audit_root.len = sizeof root;
    r.audit_checkpoint.data = (uint8_t *)note;
    r.audit_checkpoint.len = notelen;
    r.audit_entry.data = (uint8_t *)l->line[seq - 1];
    r.audit_entry.len = strlen(l->line[seq - 1]);
    if (tamper != NULL)
        tamper(&r);
    len = crosslink__receipt__get_packed_size(&r);
    buf = malloc(len);
    assert_non_null(buf);
    crosslink__receipt__pack(&r, buf);
    s_write(path, (const char *)buf, len, "w");
    free(buf);
    free(note);
}

/* ---- fixture ------------------------------------------------------------------------ */

static int
s_group_setup(void **state)
{
    return xl_crypto_init() == 0 ? 0 : -1;
}

static int
s_setup(void **state)
{
    struct s_fx *f = calloc(1, sizeof *f);
    char err[XL_ERRBUF];

    if (f == NULL || (f->dir = tu_tmpdir()) == NULL)
        return -1;
    f->log = tu_path(f->dir, "audit.jsonl");
    f->cps = tu_path(f->dir, "audit.jsonl.checkpoints");
    f->pub = tu_path(f->dir, "linker-sign.pub");
    f->receipt = tu_path(f->dir, "wmp-police.receipt");
    f->kept = tu_path(f->dir, "kept.checkpoints");
    f->cap = tu_path(f->dir, "output.txt");
    f->key = xl_keyfile_new(XL_KEY_SIGN_SECRET);
    if (f->log == NULL || f->cps == NULL || f->pub == NULL || f->receipt == NULL ||
        f->kept == NULL || f->cap == NULL || f->key == NULL || xl_keyfile_generate(f->key) != 0)
        return -1;
    snprintf(f->key->name, sizeof f->key->name, "linker-sign");
    snprintf(f->key->role, sizeof f->key->role, "linker");
    xl_today(f->key->created);
    if (xl_keyfile_write(f->pub, f->key, 1, err, sizeof err) != 0 ||
        xl_sign_keypair(f->pk2, f->sk2) != 0)
        return -1;
    *state = f;
    s_gen(&f->good, S_ENTRIES, 0);
    s_save(&f->good, S_ENTRIES, f->log);
    s_sign_all(&f->good, f->cps, s_sizes, S_NSIZES, f->key->pub, f->key->secret);
    return 0;
}

static int
s_teardown(void **state)
{
    struct s_fx *f = *state;

    tu_rmtree(f->dir);
    free(f->dir);
    free(f->log);
    free(f->cps);
    free(f->pub);
    free(f->receipt);
    free(f->kept);
    free(f->cap);
    xl_keyfile_destroy(&f->key);
    free(f);
    return 0;
}

/* ---- verifying --------------------------------------------------------------------- */

struct s_claims {
    const uint8_t *pk;
    const char *path;
    struct xl_audit_claim c[32];
    size_t n, no;
};

static int
s_claim_note(void *ctx, const char *note, size_t len, char *err, size_t errlen)
{
    struct s_claims *cl = ctx;
    struct xl_audit_claim *c = &cl->c[cl->n];

    cl->no++;
    assert_true(cl->n < sizeof cl->c / sizeof cl->c[0]);
    memset(c, 0, sizeof *c);
    if (xl_audit_checkpoint_open(note, len, cl->pk, &c->cp, err, errlen) != 0)
        fail_msg("checkpoint %zu of %s: %s", cl->no, cl->path, err);
    snprintf(c->name, sizeof c->name, "checkpoint %zu of %s", cl->no, cl->path);
    c->has_cp = 1;
    cl->n++;
    return 0;
}

/* Claims from the checkpoints in path, each opened with the linker's key,
 * named as the command names them. */
static void
s_claims_add(struct s_claims *cl, const char *path, const uint8_t pk[XL_SIGN_PK_BYTES])
{
    char err[XL_ERRBUF];

    cl->pk = pk;
    cl->path = path;
    cl->no = 0;
    if (xl_checkpoints_each(path, s_claim_note, cl, NULL, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* xl_audit_verify of the fixture's log against the checkpoints beside it. */
static int
s_verify(struct s_fx *f, struct xl_audit_verified *out, char *err, size_t errlen)
{
    struct s_claims cl = {0};

    s_claims_add(&cl, f->cps, f->key->pub);
    return xl_audit_verify(f->log, cl.c, cl.n, NULL, NULL, out, err, errlen);
}

/* Runs `crosslink-audit verify LOG --linker-pub PUB` with the further
 * arguments given (NULL-terminated) in this process, its standard output and
 * error captured into f->out. Returns its exit status. */
static int
s_cmd(struct s_fx *f, ...)
{
    char *argv[16] = {(char *)"verify", f->log, (char *)"--linker-pub", f->pub};
    int argc = 4, fd, out, errfd, rc;
    char *text;
    va_list ap;

    va_start(ap, f);
    for (char *a = va_arg(ap, char *); a != NULL; a = va_arg(ap, char *)) {
        assert_true(argc < 15);
        argv[argc++] = a;
    }
    va_end(ap);
    fflush(stdout);
    fflush(stderr);
    fd = open(f->cap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    out = dup(1);
    errfd = dup(2);
    assert_true(fd >= 0 && out >= 0 && errfd >= 0);
    assert_true(dup2(fd, 1) >= 0 && dup2(fd, 2) >= 0);
    optind = 0; /* a fresh getopt scan, as in a new process */
    opterr = 0;
    rc = audit_cmd_verify(argc, argv);
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(out, 1) >= 0 && dup2(errfd, 2) >= 0);
    close(out);
    close(errfd);
    close(fd);
    text = tu_read_file(f->cap);
    assert_non_null(text);
    snprintf(f->out, sizeof f->out, "%s", text);
    free(text);
    return rc;
}

/* Fails unless text holds the formatted needle. */
static void s_has(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
s_has(const char *text, const char *fmt, ...)
{
    char needle[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(needle, sizeof needle, fmt, ap);
    va_end(ap);
    if (strstr(text, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%s", needle, text);
}

static void
s_lacks(const char *text, const char *needle)
{
    if (strstr(text, needle) != NULL)
        fail_msg("did not expect \"%s\" in:\n%s", needle, text);
}

/* The log file as a string, and written back. */
static char *
s_read_log(struct s_fx *f)
{
    char *text = tu_read_file(f->log);

    assert_non_null(text);
    return text;
}

/* ---- a good log --------------------------------------------------------------------- */

static void
test_good_log(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    struct s_claims cl = {0};
    uint8_t root[XL_HASH_BYTES];
    char err[S_OUT], hex[2 * XL_HASH_BYTES + 1];

    s_claims_add(&cl, f->cps, f->key->pub);
    assert_int_equal(cl.n, S_NSIZES);
    /* A receipt's claim: the commit entry 7 at its seq. */
    cl.c[cl.n].leaf_seq = 7;
    memcpy(cl.c[cl.n].leaf, f->good.leaf[6], XL_HASH_BYTES);
    snprintf(cl.c[cl.n++].name, sizeof cl.c[0].name, "receipt 7");
    assert_int_equal(xl_audit_verify(f->log, cl.c, cl.n, NULL, NULL, &out, err, sizeof err), 0);
    s_root(&f->good, S_ENTRIES, root);
    assert_int_equal(out.entries, S_ENTRIES);
    assert_int_equal(out.covered, S_ENTRIES);
    assert_int_equal(out.offset_covered, s_offset(&f->good, S_ENTRIES + 1));
    assert_string_equal(out.covered_event, s_event(S_ENTRIES));
    assert_memory_equal(out.root, root, XL_HASH_BYTES);

    /* The command, with a receipt of entry 7 whose checkpoint is of size 10. */
    s_receipt(f, &f->good, 7, 10, f->receipt, NULL);
    assert_int_equal(s_cmd(f, "--receipt", f->receipt, NULL), 0);
    xl_hex(root, XL_HASH_BYTES, hex);
    s_has(f->out, "%s: %d entries, each one's hash and the chain between them verified", f->log,
          S_ENTRIES);
    s_has(f->out, "root         %s", hex);
    s_has(f->out, "checkpoints  4 signatures verified, largest size 20, each matches the log");
    s_has(f->out, "receipts     1 verified: signature and inclusion proof, and entry in the log");
    s_has(f->out, "covered      entries 1-20 by a signed checkpoint");
    s_has(f->out, "result       verified");
    s_lacks(f->out, "uncovered");
    s_lacks(f->out, "FAILED");

    /* The checkpoints kept elsewhere (by the IG lead) serve as well as those
     * beside the log; without either, no entry is covered. */
    assert_int_equal(rename(f->cps, f->kept), 0);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "checkpoints  none verified");
    s_has(f->out, "entries 1-20 are not yet covered by a signed checkpoint");
    s_has(f->out, "result       FAILED: 1 problem");
    assert_int_equal(s_cmd(f, "--checkpoint", f->kept, NULL), 0);
    s_has(f->out, "checkpoints  4 signatures verified, largest size 20");
    s_has(f->out, "result       verified");
    /* Both, and the receipt's checkpoint too. */
    s_sign_all(&f->good, f->cps, s_sizes, 1, f->key->pub, f->key->secret);
    assert_int_equal(s_cmd(f, "--checkpoint", f->kept, "--receipt", f->receipt, NULL), 0);
    s_has(f->out, "checkpoints  5 signatures verified, largest size 20");
}

static void
test_usage(void **state)
{
    struct s_fx *f = *state;
    char *argv[] = {(char *)"verify", f->log, NULL};
    char *missing = tu_path(f->dir, "nowhere.pub");

    optind = 0;
    opterr = 0;
    assert_int_equal(audit_cmd_verify(2, argv), 2); /* no --linker-pub */
    assert_int_equal(s_cmd(f, "extra.jsonl", NULL), 2);
    assert_int_equal(s_cmd(f, "--checkpoint", NULL), 2);
    /* The key given is not a signing public key. */
    assert_int_equal(s_cmd(f, "--linker-pub", f->log, NULL), 1);
    assert_int_equal(s_cmd(f, "--linker-pub", missing, NULL), 1);
    s_has(f->out, "nowhere.pub");
    /* A checkpoint file or receipt that is not there is a failure, named. */
    assert_int_equal(s_cmd(f, "--checkpoint", missing, NULL), 1);
    s_has(f->out, "%s: cannot read", missing);
    assert_int_equal(s_cmd(f, "--receipt", missing, NULL), 1);
    s_has(f->out, "receipt %s: cannot open", missing);
    free(missing);
}

/* ---- altered entries ----------------------------------------------------------------- */

/* One byte of entry 7 changed: where, and what the message then says. */
struct s_edit {
    const char *after; /* the byte after the first occurrence of this in the entry */
    char to;           /* becomes this, or the next hex digit when 0 */
    const char *says;
};

static void
test_byte_changed(void **state)
{
    struct s_fx *f = *state;
    static const struct s_edit edits[] = {
        {"{\"seq\":", '8', "its hash member does not match its content (the entry was altered)"},
        {"\"records\":", '9', "its hash member does not match its content"},
        {"\"agency\":\"", 'x', "its hash member does not match its content"},
        {"\"prev\":\"", 0, "its hash member does not match its content"},
        {"\"prev\":\"", 'g', "the entry's prev member is not 64 hex digits"},
        {"\"hash\":\"", 0, "its hash member does not match its content"},
        {"\"hash\":\"", 'z', "the entry's hash member is not 64 hex digits"},
        {"\"event\":\"submission", '"', "the entry is not a JSON object"},
    };
    const unsigned long long at = s_offset(&f->good, 7);
    struct xl_audit_verified out;
    char *orig = s_read_log(f), err[S_OUT];

    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *text = strdup(orig), *p;
        assert_non_null(text);
        p = strstr(text + at, edits[i].after);
        assert_non_null(p);
        assert_true(p < text + s_offset(&f->good, 8)); /* within entry 7 */
        p += strlen(edits[i].after);
        if (edits[i].to != 0)
            *p = edits[i].to;
        else
            *p = *p == 'f' ? '0' : (*p == '9' ? 'a' : (char)(*p + 1));
        assert_int_equal(tu_write_file(f->log, text), 0);
        assert_int_not_equal(strcmp(text, orig), 0);
        free(text);

        assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_FORMAT);
        s_has(err, "%s: entry 7 (at byte %llu): %s", f->log, at, edits[i].says);
        assert_int_equal(out.entries, 6); /* entries 1-6 verified before it */
        assert_int_equal(s_cmd(f, NULL), 1);
        s_has(f->out, "entry 7 (at byte %llu): %s", at, edits[i].says);
        s_has(f->out, "%s: NOT verified", f->log);
        s_has(f->out, "result       FAILED");
    }
    free(orig);
}

static void
test_entry_deleted(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    char *text = s_read_log(f), err[S_OUT], line7[S_LINE];
    const unsigned long long at = s_offset(&f->good, 7), next = s_offset(&f->good, 8);

    memmove(text + at, text + next, strlen(text + next) + 1);
    assert_int_equal(tu_write_file(f->log, text), 0);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_FORMAT);
    s_has(err,
          "%s: entry 7 (at byte %llu) has seq 8: entries were removed, added or reordered there",
          f->log, at);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "entry 7 (at byte %llu) has seq 8", at);

    /* Entry 7 replaced by one that is well formed on its own (another
     * history's entry 7): its seq fits, its prev does not. */
    s_gen(&f->other, S_ENTRIES, 3);
    memcpy(line7, f->other.line[6], S_LINE);
    f->other = f->good;
    memcpy(f->other.line[6], line7, S_LINE);
    s_save(&f->other, S_ENTRIES, f->log);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_FORMAT);
    s_has(err,
          "%s: entry 7 (at byte %llu): its prev member is not the hash of entry 6: the chain "
          "is broken there",
          f->log, at);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "entry 7 (at byte %llu): its prev member is not the hash of entry 6", at);

    /* The first entry: the log no longer starts at seq 1. */
    s_save(&f->good, S_ENTRIES, f->log);
    free(text);
    text = s_read_log(f);
    assert_int_equal(tu_write_file(f->log, text + s_offset(&f->good, 2)), 0);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_FORMAT);
    s_has(err, "entry 1 (at byte 0) has seq 2");
    free(text);
}

static void
test_entries_reordered(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    char err[S_OUT];
    const unsigned long long at = s_offset(&f->good, 7);
    struct s_log *l = &f->other;

    *l = f->good;
    memcpy(l->line[6], f->good.line[7], S_LINE);
    memcpy(l->line[7], f->good.line[6], S_LINE);
    s_save(l, S_ENTRIES, f->log);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_FORMAT);
    s_has(err, "%s: entry 7 (at byte %llu) has seq 8: entries were removed, added or reordered",
          f->log, at);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "entry 7 (at byte %llu) has seq 8", at);
}

/* ---- cut short ---------------------------------------------------------------------- */

static void
test_truncated_at_line(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    char err[S_OUT];

    /* Below the last two checkpoints. */
    s_save(&f->good, 12, f->log);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_MISMATCH);
    s_has(err,
          "the log has 12 entries but checkpoint 4 of %s covers 20: entries 13-20 were removed",
          f->cps);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "the log has 12 entries but checkpoint 4 of %s covers 20: entries 13-20", f->cps);

    /* One entry short of the last checkpoint. */
    s_save(&f->good, 19, f->log);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_MISMATCH);
    s_has(err, "the log has 19 entries but checkpoint 4 of %s covers 20: entry 20 was removed",
          f->cps);
}

static void
test_truncated_mid_line(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    char *text = s_read_log(f), err[S_OUT];
    const unsigned long long at = s_offset(&f->good, 13);

    text[at + strlen(f->good.line[12]) / 2] = '\0';
    assert_int_equal(tu_write_file(f->log, text), 0);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_FORMAT);
    s_has(err, "%s: entry 13 (at byte %llu) is incomplete: the log was cut short mid-line", f->log,
          at);
    assert_int_equal(out.entries, 12);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "entry 13 (at byte %llu) is incomplete", at);

    /* Cut just before the last newline. */
    free(text);
    s_save(&f->good, S_ENTRIES, f->log);
    text = s_read_log(f);
    text[strlen(text) - 1] = '\0';
    assert_int_equal(tu_write_file(f->log, text), 0);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_FORMAT);
    s_has(err, "entry 20 (at byte %llu) is incomplete", s_offset(&f->good, 20));
    free(text);
}

static void
test_empty_log(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    char err[S_OUT];

    assert_int_equal(tu_write_file(f->log, ""), 0);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_MISMATCH);
    s_has(err, "the log has 0 entries but checkpoint 4 of %s covers 20: entries 1-20 were removed",
          f->cps);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "entries 1-20 were removed");

    /* Removed altogether: the verifier takes it for an empty log, the command
     * for a path that is wrong. */
    assert_int_equal(unlink(f->log), 0);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_MISMATCH);
    s_has(err, "entries 1-20 were removed");
    assert_int_equal(xl_audit_verify(f->log, NULL, 0, NULL, NULL, &out, err, sizeof err), 0);
    assert_int_equal(out.entries, 0);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "%s: cannot read", f->log);

    /* An empty log with no checkpoints is what a new linker has. */
    assert_int_equal(tu_write_file(f->log, ""), 0);
    assert_int_equal(unlink(f->cps), 0);
    assert_int_equal(s_cmd(f, NULL), 0);
    s_has(f->out, "0 entries");
}

/* ---- rewritten history -------------------------------------------------------------- */

static void
test_rechained_edit(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    char err[S_OUT];

    /* Entry 12 changed and every entry after it rewritten to match: the chain
     * holds, and only the checkpoints show it. */
    s_gen(&f->other, S_ENTRIES, 12);
    s_save(&f->other, S_ENTRIES, f->log);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_MISMATCH);
    s_has(err,
          "checkpoint 3 of %s (size 15) does not match the log: entries 1-10 match checkpoint 2 "
          "of %s, so an entry from 11 to 15 was changed, added or removed",
          f->cps, f->cps);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "checkpoint 3 of %s (size 15) does not match the log: entries 1-10 match",
          f->cps);
    s_has(f->out, "an entry from 11 to 15 was changed");

    /* Before the first checkpoint: no earlier one narrows it. */
    s_gen(&f->other, S_ENTRIES, 3);
    s_save(&f->other, S_ENTRIES, f->log);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_MISMATCH);
    s_has(err,
          "checkpoint 1 of %s (size 5) does not match the log: an entry from 1 to 5 was changed",
          f->cps);

    /* Exactly at a checkpoint's last entry. */
    s_gen(&f->other, S_ENTRIES, 10);
    s_save(&f->other, S_ENTRIES, f->log);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_MISMATCH);
    s_has(err,
          "(size 10) does not match the log: entries 1-5 match checkpoint 1 of %s, so an "
          "entry from 6 to 10",
          f->cps);
}

static void
test_forged_append(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    char err[S_OUT];

    /* A well-chained entry 21 after the last checkpoint: the log verifies as
     * far as it goes, and nothing signed covers the new entry. */
    s_gen(&f->other, S_ENTRIES + 1, 0);
    s_save(&f->other, S_ENTRIES + 1, f->log);
    assert_int_equal(s_verify(f, &out, err, sizeof err), 0);
    assert_int_equal(out.entries, 21);
    assert_int_equal(out.covered, 20);
    assert_int_equal(out.offset_covered, s_offset(&f->good, 21));
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out,
          "entry 21 is not yet covered by a signed checkpoint: anyone who can write the log "
          "could have written it");
    s_has(f->out, "uncovered    entry 21 is not yet covered by a signed checkpoint\n");
    s_has(f->out, "result       FAILED: 1 problem");
    s_lacks(f->out, "result       verified");

    s_gen(&f->other, S_ENTRIES + 3, 0);
    s_save(&f->other, S_ENTRIES + 3, f->log);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "entries 21-23 are not yet covered by a signed checkpoint");

    /* A log read between two checkpoints is accepted when asked. */
    assert_int_equal(s_cmd(f, "--allow-uncovered", NULL), 0);
    s_has(f->out, "entries 21-23 are not yet covered by a signed checkpoint (accepted: "
                  "--allow-uncovered)");
    s_has(f->out, "result       verified");

    /* ... but not a log that fails otherwise. */
    s_gen(&f->other, S_ENTRIES + 3, 12);
    s_save(&f->other, S_ENTRIES + 3, f->log);
    assert_int_equal(s_cmd(f, "--allow-uncovered", NULL), 1);
}

static void
test_replaced_other_key(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    struct xl_checkpoint cp;
    struct s_claims cl = {0};
    char err[S_OUT], *note;
    size_t len;

    /* The IG lead kept the linker's checkpoint of size 10. */
    note = s_note(&f->good, 10, f->key->pub, f->key->secret, NULL, &len);
    s_write(f->kept, note, len, "w");
    free(note);

    /* Another history, well formed, with checkpoints signed by another key:
     * once under that key's own name, once under the linker's name. */
    s_gen(&f->other, S_ENTRIES, 4);
    s_save(&f->other, S_ENTRIES, f->log);
    assert_int_equal(unlink(f->cps), 0);
    s_sign_all(&f->other, f->cps, s_sizes, S_NSIZES, f->pk2, f->sk2);
    note = s_note(&f->other, 20, f->key->pub, f->sk2, NULL, &len);
    s_write(f->cps, note, len, "a");
    s_write(f->cps, note, len, "a");
    assert_int_equal(xl_audit_checkpoint_open(note, len, f->key->pub, &cp, err, sizeof err),
                     XL_ERR_CRYPTO);
    s_has(err, "the checkpoint is not signed by the linker's key");
    free(note);
    note = s_note(&f->other, 20, f->pk2, f->sk2, NULL, &len);
    assert_int_equal(xl_audit_checkpoint_open(note, len, f->key->pub, &cp, err, sizeof err),
                     XL_ERR_CRYPTO);
    free(note);

    /* The kept checkpoint does not match the log. */
    s_claims_add(&cl, f->kept, f->key->pub);
    assert_int_equal(xl_audit_verify(f->log, cl.c, cl.n, NULL, NULL, &out, err, sizeof err),
                     XL_ERR_MISMATCH);
    s_has(err, "checkpoint 1 of %s (size 10) does not match the log: an entry from 1 to 10",
          f->kept);

    /* The command names the first five notes that do not open, counts the
     * rest, and covers nothing. */
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "%s: checkpoint 1 (at byte 0): the checkpoint is not signed by the linker's key",
          f->cps);
    s_has(f->out, "%s: checkpoint 5 (at byte ", f->cps);
    s_has(f->out, "checkpoints  none verified");
    s_lacks(f->out, "checkpoint 6 (at byte");
    s_has(f->out, "%s: 1 more checkpoint in it did not open either", f->cps);
    s_has(f->out, "6 did NOT verify");
    s_has(f->out, "entries 1-20 are not yet covered by a signed checkpoint");
    s_has(f->out, "result       FAILED: 7 problems");
    assert_int_equal(s_cmd(f, "--checkpoint", f->kept, NULL), 1);
    s_has(f->out, "%s: checkpoint 1 of %s (size 10) does not match the log", f->log, f->kept);
    s_has(f->out, "checkpoints  1 signature verified, largest size 10\n");
}

static void
test_bad_signature(void **state)
{
    struct s_fx *f = *state;
    char *text = tu_read_file(f->cps), *sig;
    size_t len;
    char *first = s_note(&f->good, 5, f->key->pub, f->key->secret, NULL, &len);

    /* A byte in the middle of the second note's signature. */
    assert_non_null(text);
    sig = strstr(text + len, "\xe2\x80\x94 ");
    assert_non_null(sig);
    sig = strchr(sig + 4, ' ') + 30;
    *sig = *sig == 'A' ? 'B' : 'A';
    assert_int_equal(tu_write_file(f->cps, text), 0);
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "%s: checkpoint 2 (at byte %zu): note: signature line 1 by crosslink/audit-",
          f->cps, len);
    s_has(f->out, "does not verify");
    s_has(f->out, "checkpoints  3 signatures verified");
    s_has(f->out, "1 did NOT verify");
    s_has(f->out, "result       FAILED: 1 problem");

    /* A checkpoint file cut short inside a note. */
    s_write(f->cps, first, len / 2, "a");
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "%s: the last checkpoint (at byte %zu) is incomplete", f->cps, strlen(text));
    free(first);
    free(text);
}

static void
test_fork(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    uint8_t root[XL_HASH_BYTES];
    char err[S_OUT], *note;
    size_t len;

    /* A second checkpoint of size 10 with another root: two views of the log
     * were signed, whatever the log now says. */
    memset(root, 0x42, sizeof root);
    note = s_note(&f->good, 10, f->key->pub, f->key->secret, root, &len);
    s_write(f->cps, note, len, "a");
    free(note);
    assert_int_equal(s_verify(f, &out, err, sizeof err), XL_ERR_MISMATCH);
    s_has(err, "checkpoint 2 of %s", f->cps);
    s_has(err, "checkpoint 5 of %s", f->cps);
    s_has(err, "are both signed for size 10 but have different roots");
    assert_int_equal(s_cmd(f, NULL), 1);
    s_has(f->out, "are both signed for size 10 but have different roots");
    s_has(f->out, "checkpoint 5 of %s", f->cps);
}

/* ---- receipts ----------------------------------------------------------------------- */

static void
s_tamper_count(Crosslink__Receipt *r)
{
    r->record_count++;
}

static void
s_tamper_proof(Crosslink__Receipt *r)
{
    r->audit_proof[0].data[0] ^= 1;
}

static void
test_receipt_entry_changed(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    struct s_claims cl = {0};
    char err[S_OUT];

    s_receipt(f, &f->good, 7, 10, f->receipt, NULL);

    /* Entry 7 rewritten with the chain recomputed, and no checkpoint beside
     * the log: the receipt's leaf is what catches it. */
    s_gen(&f->other, S_ENTRIES, 7);
    s_save(&f->other, S_ENTRIES, f->log);
    assert_int_equal(unlink(f->cps), 0);
    cl.c[0].leaf_seq = 7;
    memcpy(cl.c[0].leaf, f->good.leaf[6], XL_HASH_BYTES);
    snprintf(cl.c[0].name, sizeof cl.c[0].name, "receipt %s", f->receipt);
    assert_int_equal(xl_audit_verify(f->log, cl.c, 1, NULL, NULL, &out, err, sizeof err),
                     XL_ERR_MISMATCH);
    s_has(err, "receipt %s: entry 7 of the log is not the entry it was given", f->receipt);
    assert_int_equal(s_cmd(f, "--receipt", f->receipt, NULL), 1);
    s_has(f->out, "%s: receipt %s: entry 7 of the log is not the entry it was given", f->log,
          f->receipt);
    s_has(f->out, "receipts     1 verified: signature and inclusion proof\n");

    /* The same with the checkpoints re-signed by the hub's own key over the
     * new history: the receipt's checkpoint contradicts them. */
    s_sign_all(&f->other, f->cps, s_sizes, S_NSIZES, f->key->pub, f->key->secret);
    assert_int_equal(s_cmd(f, "--receipt", f->receipt, NULL), 1);
    s_has(f->out, "the checkpoint in receipt %s", f->receipt);
    s_has(f->out, "checkpoint 2 of %s", f->cps);
    s_has(f->out, "are both signed for size 10 but have different roots");
    /* Without the receipt, nothing shows it: the reason agencies keep them. */
    assert_int_equal(s_cmd(f, NULL), 0);
}

static void
test_receipt_bad(void **state)
{
    struct s_fx *f = *state;

    s_receipt(f, &f->good, 7, 10, f->receipt, s_tamper_count);
    assert_int_equal(s_cmd(f, "--receipt", f->receipt, NULL), 1);
    s_has(f->out, "receipt %s: receipt signature does not verify with the linker's key",
          f->receipt);
    s_has(f->out, "receipts     none verified");

    s_receipt(f, &f->good, 7, 10, f->receipt, s_tamper_proof);
    assert_int_equal(s_cmd(f, "--receipt", f->receipt, NULL), 1);
    s_has(f->out,
          "receipt %s: the receipt's inclusion proof does not verify against its checkpoint "
          "(size 10)",
          f->receipt);

    /* Not a receipt at all. */
    assert_int_equal(s_cmd(f, "--receipt", f->cps, NULL), 1);
    s_has(f->out, "receipt %s: not a receipt", f->cps);

    /* A receipt signed by another key. */
    s_receipt(f, &f->good, 7, 10, f->receipt, NULL);
    assert_int_equal(s_cmd(f, "--receipt", f->receipt, NULL), 0);
    xl_keyfile_destroy(&f->key);
    f->key = xl_keyfile_new(XL_KEY_SIGN_SECRET);
    assert_non_null(f->key);
    assert_int_equal(xl_keyfile_generate(f->key), 0);
    s_receipt(f, &f->good, 7, 10, f->receipt, NULL);
    assert_int_equal(s_cmd(f, "--receipt", f->receipt, NULL), 1);
    s_has(f->out, "receipt %s: receipt signature does not verify", f->receipt);
}

/* Many receipts' leaves, given in any order, several for one entry: each is
 * checked at its own entry. */
static void
test_many_leaves(void **state)
{
    struct s_fx *f = *state;
    struct xl_audit_verified out;
    struct xl_audit_claim *c = calloc(3 * S_MAX + 1, sizeof *c);
    char err[S_OUT];
    size_t n = 0;

    assert_non_null(c);
    s_gen(&f->other, S_MAX, 0);
    s_save(&f->other, S_MAX, f->log);
    for (uint64_t k = 0; k < 3; k++)
        for (uint64_t i = 0; i < S_MAX; i++) {
            uint64_t seq = (i * 37 + k * 11) % S_MAX + 1; /* every entry, shuffled */
            c[n].leaf_seq = seq;
            memcpy(c[n].leaf, f->other.leaf[seq - 1], XL_HASH_BYTES);
            snprintf(c[n].name, sizeof c[n].name, "leaf %zu", n);
            if (k == 2 && seq == 40) {
                c[n].leaf[0] ^= 1;
                snprintf(c[n].name, sizeof c[n].name, "the odd one");
            }
            n++;
        }
    assert_int_equal(xl_audit_verify(f->log, c, n, NULL, NULL, &out, err, sizeof err),
                     XL_ERR_MISMATCH);
    s_has(err, "the odd one: entry 40 of the log is not the entry it was given");
    assert_int_equal(out.entries, 40);

    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].name, "the odd one") == 0)
            c[i].leaf[0] ^= 1;
    assert_int_equal(xl_audit_verify(f->log, c, n, NULL, NULL, &out, err, sizeof err), 0);
    assert_int_equal(out.entries, S_MAX);

    /* A leaf past the end of the log. */
    c[n].leaf_seq = S_MAX + 1;
    snprintf(c[n++].name, sizeof c[0].name, "the late one");
    assert_int_equal(xl_audit_verify(f->log, c, n, NULL, NULL, &out, err, sizeof err),
                     XL_ERR_MISMATCH);
    s_has(err, "the late one: its entry 65 is not in the log, which has 64 entries");
    free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_log, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_usage, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_byte_changed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_entry_deleted, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_entries_reordered, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_at_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_mid_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_empty_log, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rechained_edit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_forged_append, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replaced_other_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_fork, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_receipt_entry_changed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_receipt_bad, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_many_leaves, s_setup, s_teardown),
    };

    return cmocka_run_group_tests_name("audit_verify", tests, s_group_setup, NULL);
}
