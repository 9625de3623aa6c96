/* Unit tests for linker/audit.c: the entry format and hash chain, the chain
 * continuing across a reopen and across two writers, refusal to extend a log
 * whose tail was altered, cut short or reordered, and a short write taken back
 * off the file. Real files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../linker/audit.h"
#include "testutil.h"
#include "xl/auditlog.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/merkle.h"
#include "xl/note.h"

/* The linker's signing key for the checkpoints, and another one. */
static uint8_t s_pk[XL_SIGN_PK_BYTES], s_sk[XL_SIGN_SK_BYTES];
static uint8_t s_pk2[XL_SIGN_PK_BYTES], s_sk2[XL_SIGN_SK_BYTES];

struct s_fixture {
    char *dir;
    char *path;
};

static int
s_group_setup(void **state)
{
    if (xl_crypto_init() != 0)
        return -1;
    return xl_sign_keypair(s_pk, s_sk) == 0 && xl_sign_keypair(s_pk2, s_sk2) == 0 ? 0 : -1;
}

static int
s_setup(void **state)
{
    struct s_fixture *f = calloc(1, sizeof *f);

    if (f == NULL || (f->dir = tu_tmpdir()) == NULL)
        return -1;
    f->path = tu_path(f->dir, "audit.jsonl");
    *state = f;
    return f->path != NULL ? 0 : -1;
}

static int
s_teardown(void **state)
{
    struct s_fixture *f = *state;

    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static struct linker_audit *
s_open(const char *path)
{
    struct linker_audit *a = NULL;
    char err[XL_ERRBUF] = "";

    if (linker_audit_open(path, s_sk, s_pk, &a, err, sizeof err) != 0)
        fail_msg("%s", err);
    return a;
}

/* xl_audit_entry_check in the shape these tests use. */
static int
s_check(const char *line, size_t len, uint64_t *seq, uint8_t prev[XL_HASH_BYTES],
        uint8_t hash[XL_HASH_BYTES], char *err, size_t errlen)
{
    struct xl_audit_entry e;
    int r = xl_audit_entry_check(line, len, &e, NULL, err, errlen);

    *seq = e.seq;
    memcpy(prev, e.prev, XL_HASH_BYTES);
    memcpy(hash, e.hash, XL_HASH_BYTES);
    return r;
}

/* Removes the log and its checkpoints. */
static void
s_reset(const char *path)
{
    char cp[4200];

    snprintf(cp, sizeof cp, "%s%s", path, XL_AUDIT_CHECKPOINTS_SUFFIX);
    unlink(path);
    unlink(cp);
}

static uint64_t
s_append(struct linker_audit *a, const char *event, int n)
{
    cJSON *d = cJSON_CreateObject();
    char err[XL_ERRBUF] = "";
    uint64_t seq = 0;

    cJSON_AddStringToObject(d, "agency", "wmp");
    cJSON_AddNumberToObject(d, "records", n);
    if (linker_audit_append(a, 1795000000 + n, "0123456789abcdef", "agent", event, d, &seq, err,
                            sizeof err) != 0)
        fail_msg("%s", err);
    return seq;
}

/* The lines of a file, split in place (the caller frees lines[0] and lines). */
static size_t
s_lines(const char *path, char ***out)
{
    char *text = tu_read_file(path), **lines = NULL, *p, *nl;
    size_t n = 0;

    assert_non_null(text);
    for (p = text; *p != '\0'; p = nl + 1) {
        nl = strchr(p, '\n');
        assert_non_null(nl); /* every entry ends in a newline */
        *nl = '\0';
        lines = realloc(lines, (n + 1) * sizeof *lines);
        assert_non_null(lines);
        lines[n++] = p;
    }
    if (n == 0) {
        free(text);
        *out = NULL;
        return 0;
    }
    assert_ptr_equal(lines[0], text);
    *out = lines;
    return n;
}

static void
test_fields_and_chain(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit *a = s_open(f->path);
    uint8_t prev[XL_HASH_BYTES], hash[XL_HASH_BYTES], last[XL_HASH_BYTES] = {0};
    char hex[2 * XL_HASH_BYTES + 1], err[XL_ERRBUF], **lines;
    uint64_t seq;
    size_t n;

    assert_int_equal(linker_audit_next_seq(a), 1);
    assert_int_equal(s_append(a, "submission.begin", 1), 1);
    assert_int_equal(s_append(a, "submission.commit", 2), 2);
    assert_int_equal(s_append(a, "keyring.reload", 3), 3);
    assert_int_equal(linker_audit_next_seq(a), 4);
    linker_audit_close(&a);
    assert_null(a);
    assert_int_equal(tu_file_mode(f->path), 0600);

    n = s_lines(f->path, &lines);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_Parse(lines[i]);
        const cJSON *d, *h;
        size_t len = strlen(lines[i]);

        assert_non_null(o);
        assert_int_equal((int)cJSON_GetObjectItem(o, "seq")->valuedouble, (int)i + 1);
        /* 1795000001 seconds after the epoch is 2026-11-18 11:06:41 UTC */
        assert_string_equal(cJSON_GetObjectItem(o, "time")->valuestring,
                            i == 0   ? "2026-11-18T11:06:41Z"
                            : i == 1 ? "2026-11-18T11:06:42Z"
                                     : "2026-11-18T11:06:43Z");
        assert_string_equal(cJSON_GetObjectItem(o, "actor")->valuestring, "0123456789abcdef");
        assert_string_equal(cJSON_GetObjectItem(o, "role")->valuestring, "agent");
        assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring,
                            i == 0   ? "submission.begin"
                            : i == 1 ? "submission.commit"
                                     : "keyring.reload");
        d = cJSON_GetObjectItem(o, "details");
        assert_string_equal(cJSON_GetObjectItem(d, "agency")->valuestring, "wmp");
        assert_int_equal((int)cJSON_GetObjectItem(d, "records")->valuedouble, (int)i + 1);
        /* "hash" is the last member, prev the one before it */
        h = cJSON_GetObjectItem(o, "hash");
        assert_ptr_equal(h, o->child->prev);
        assert_string_equal(h->prev->string, "prev");
        xl_hex(last, XL_HASH_BYTES, hex);
        assert_string_equal(cJSON_GetObjectItem(o, "prev")->valuestring, hex);

        if (s_check(lines[i], len, &seq, prev, hash, err, sizeof err) != 0)
            fail_msg("%s", err);
        assert_int_equal(seq, i + 1);
        assert_memory_equal(prev, last, XL_HASH_BYTES);
        xl_hex(hash, XL_HASH_BYTES, hex);
        assert_string_equal(h->valuestring, hex);
        /* hash = SHA-256(prev || line without its hash member) */
        {
            size_t clen = len - (strlen(",\"hash\":\"\"}") + 2 * XL_HASH_BYTES) + 1;
            uint8_t *buf = malloc(XL_HASH_BYTES + clen), want[XL_HASH_BYTES];
            assert_non_null(buf);
            memcpy(buf, last, XL_HASH_BYTES);
            memcpy(buf + XL_HASH_BYTES, lines[i], clen - 1);
            buf[XL_HASH_BYTES + clen - 1] = '}';
            xl_sha256(buf, XL_HASH_BYTES + clen, want);
            assert_memory_equal(want, hash, XL_HASH_BYTES);
            free(buf);
        }
        memcpy(last, hash, XL_HASH_BYTES);
        cJSON_Delete(o);
    }
    free(lines[0]);
    free(lines);
}

static void
test_chain_continues_after_reopen(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit *a = s_open(f->path), *b;
    uint8_t prev[XL_HASH_BYTES], hash[XL_HASH_BYTES], h2[XL_HASH_BYTES];
    char err[XL_ERRBUF], **lines;
    uint64_t seq;

    s_append(a, "linker.start", 1);
    s_append(a, "linker.stop", 2);
    linker_audit_close(&a);

    a = s_open(f->path);
    assert_int_equal(linker_audit_next_seq(a), 3);
    assert_int_equal(s_append(a, "linker.start", 3), 3);

    /* A second writer on the same file (an import while the service runs)
     * continues whatever entry is last. */
    b = s_open(f->path);
    assert_int_equal(s_append(b, "import", 4), 4);
    assert_int_equal(s_append(a, "submission.begin", 5), 5);
    assert_int_equal(s_append(b, "submission.commit", 6), 6);
    linker_audit_close(&a);
    linker_audit_close(&b);

    assert_int_equal(s_lines(f->path, &lines), 6);
    for (size_t i = 0; i < 6; i++) {
        if (s_check(lines[i], strlen(lines[i]), &seq, prev, hash, err, sizeof err) != 0)
            fail_msg("entry %zu: %s", i + 1, err);
        assert_int_equal(seq, i + 1);
        if (i > 0)
            assert_memory_equal(prev, h2, XL_HASH_BYTES);
        memcpy(h2, hash, XL_HASH_BYTES);
    }
    free(lines[0]);
    free(lines);
}

/* Opening must fail with XL_ERR_FORMAT and a message containing want. */
static void
s_refused(const char *path, const char *want)
{
    struct linker_audit *a = NULL;
    char err[XL_ERRBUF] = "";

    assert_int_equal(linker_audit_open(path, s_sk, s_pk, &a, err, sizeof err), XL_ERR_FORMAT);
    assert_null(a);
    if (strstr(err, want) == NULL)
        fail_msg("message '%s' does not say '%s'", err, want);
}

static void
s_three(const char *path)
{
    struct linker_audit *a = s_open(path);

    s_append(a, "submission.begin", 1);
    s_append(a, "submission.commit", 7);
    s_append(a, "submission.commit", 9);
    linker_audit_close(&a);
}

static void
test_tampered_tail(void **state)
{
    struct s_fixture *f = *state;

    s_three(f->path);
    /* The last entry's details changed: its hash no longer matches. */
    assert_int_equal(tu_file_replace(f->path, "\"records\":9", "\"records\":8"), 0);
    s_refused(f->path, "entry 3 (at byte");
    s_refused(f->path, "was altered");
}

static void
test_tampered_link(void **state)
{
    struct s_fixture *f = *state;
    char *text, *p, *q;
    size_t n;

    s_three(f->path);
    /* Entry 2 altered and its hash recomputed would still break entry 3's
     * link; here entry 2's content changes, which the link check catches. */
    assert_int_equal(tu_file_replace(f->path, "\"records\":7", "\"records\":6"), 0);
    s_refused(f->path, "entry 2 (at byte");

    /* Drop entry 2 altogether: entry 3 no longer follows entry 1. */
    s_reset(f->path);
    s_three(f->path);
    text = tu_read_file(f->path);
    assert_non_null(text);
    p = strchr(text, '\n') + 1;
    q = strchr(p, '\n') + 1;
    n = strlen(q);
    memmove(p, q, n + 1);
    assert_int_equal(tu_write_file(f->path, text), 0);
    free(text);
    s_refused(f->path, "entry 2 (at byte");
    s_refused(f->path, "has seq 3");
}

static void
test_cut_short(void **state)
{
    struct s_fixture *f = *state;
    char *text, *p;

    s_three(f->path);
    /* A crash in the middle of a write: no newline at the end. */
    text = tu_read_file(f->path);
    assert_non_null(text);
    text[strlen(text) - 20] = '\0';
    assert_int_equal(tu_write_file(f->path, text), 0);
    free(text);
    s_refused(f->path, "incomplete");

    /* A log whose only entry is not the first (earlier entries removed). */
    s_reset(f->path);
    s_three(f->path);
    text = tu_read_file(f->path);
    assert_non_null(text);
    text[strlen(text) - 1] = '\0'; /* the last entry, kept with its newline: */
    p = strrchr(text, '\n') + 1;
    text[strlen(text)] = '\n';
    assert_int_equal(tu_write_file(f->path, p), 0);
    free(text);
    s_refused(f->path, "entry 1 (at byte 0) has seq 3");
}

static void
test_entry_check_rejects(void **state)
{
    static const char *bad[] = {
        "",
        "not json",
        "{\"seq\":1}",
        "{\"seq\":1,\"event\":\"x\",\"prev\":\"00\",\"hash\":\"zz\"}",
        /* well-formed suffix but no seq/prev */
        "{\"event\":\"x\",\"hash\":\"000000000000000000000000000000000000000000000000000000000000"
        "0000\"}",
    };
    uint8_t prev[XL_HASH_BYTES], hash[XL_HASH_BYTES];
    char err[XL_ERRBUF];
    uint64_t seq;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(s_check(bad[i], strlen(bad[i]), &seq, prev, hash, err, sizeof err),
                         XL_ERR_FORMAT);
}

static void
test_empty_and_missing(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit *a;
    char *sub = tu_path(f->dir, "no/such/dir/audit.jsonl");
    char err[XL_ERRBUF];

    /* An empty file is a new log. */
    assert_int_equal(tu_write_file(f->path, ""), 0);
    a = s_open(f->path);
    assert_int_equal(linker_audit_next_seq(a), 1);
    linker_audit_close(&a);
    assert_int_equal(linker_audit_open(sub, s_sk, s_pk, &a, err, sizeof err), XL_ERR_IO);
    assert_non_null(strstr(err, sub));
    free(sub);
    linker_audit_close(NULL);
}

static off_t
s_size(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* A write the kernel cuts short: with the file size limit (RLIMIT_FSIZE) a few
 * bytes past the end of the log, the entry's write stores those bytes and then
 * fails with EFBIG, as a disk filling up in the middle of a line does with
 * ENOSPC. The part line is taken back off, the log still verifies, and the
 * next append, once the limit is lifted, continues the chain. */
static void
test_short_write_taken_back(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit *a = s_open(f->path);
    struct rlimit old, lim;
    void (*was)(int);
    char err[XL_ERRBUF] = "", **lines;
    off_t before;
    int r;

    assert_int_equal(s_append(a, "submission.begin", 1), 1);
    assert_int_equal(s_append(a, "submission.commit", 2), 2);
    before = s_size(f->path);

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)before + 10;
    was = signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    r = linker_audit_append(a, 0, "0123456789abcdef", "agent", "submission.begin", NULL, NULL, err,
                            sizeof err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    assert_int_equal(r, XL_ERR_IO);
    assert_non_null(strstr(err, "cannot write the submission.begin entry"));
    assert_int_equal(s_size(f->path), before);
    assert_int_equal(linker_audit_next_seq(a), 3);

    /* Not stuck: the next entry follows entry 2. */
    assert_int_equal(s_append(a, "submission.commit", 3), 3);
    linker_audit_close(&a);
    a = s_open(f->path);
    assert_int_equal(linker_audit_next_seq(a), 4);
    linker_audit_close(&a);
    assert_int_equal(s_lines(f->path, &lines), 3);
    assert_non_null(strstr(lines[2], "\"seq\":3,"));
    free(lines[0]);
    free(lines);
}

/* Six entries, for the whole-log check. */
static void
s_six(const char *path)
{
    struct linker_audit *a = s_open(path);

    for (int i = 1; i <= 6; i++)
        s_append(a, "submission.commit", 10 + i);
    linker_audit_close(&a);
}

/* Opening refuses, naming entry want_entry and saying want. */
static void
s_verify_refused(const char *path, unsigned want_entry, const char *want)
{
    char at[32];

    snprintf(at, sizeof at, "entry %u ", want_entry);
    s_refused(path, at);
    s_refused(path, want);
}

/* Rewrites the file from its lines in the order given (-1 ends). */
static void
s_rewrite(const char *path, char **lines, const int *order)
{
    FILE *out = fopen(path, "w");

    assert_non_null(out);
    for (size_t i = 0; order[i] >= 0; i++)
        fprintf(out, "%s\n", lines[order[i]]);
    fclose(out);
}

/* The whole log is checked, not only its tail: a middle entry edited,
 * removed, two swapped, the first one altered, a cut mid-line. */
static void
test_verify_whole_log(void **state)
{
    struct s_fixture *f = *state;
    char **lines, *text;
    static const int drop3[] = {0, 1, 3, 4, 5, -1}, swap34[] = {0, 1, 3, 2, 4, 5, -1};
    struct linker_audit *a;

    s_six(f->path);
    a = s_open(f->path);
    assert_int_equal(linker_audit_size(a), 6);
    linker_audit_close(&a);

    /* a byte of entry 3 changed */
    assert_int_equal(tu_file_replace(f->path, "\"records\":13", "\"records\":93"), 0);
    s_verify_refused(f->path, 3, "was altered");

    s_reset(f->path);
    s_six(f->path);
    assert_int_equal(s_lines(f->path, &lines), 6);
    text = lines[0];
    s_rewrite(f->path, lines, drop3);
    s_verify_refused(f->path, 3, "has seq 4");
    s_rewrite(f->path, lines, swap34);
    s_verify_refused(f->path, 3, "has seq 4");
    free(text);
    free(lines);

    /* the first entry altered */
    s_reset(f->path);
    s_six(f->path);
    assert_int_equal(tu_file_replace(f->path, "\"records\":11", "\"records\":12"), 0);
    s_verify_refused(f->path, 1, "was altered");

    /* cut in the middle of the last line */
    s_reset(f->path);
    s_six(f->path);
    text = tu_read_file(f->path);
    assert_non_null(text);
    text[strlen(text) - 30] = '\0';
    assert_int_equal(tu_write_file(f->path, text), 0);
    free(text);
    s_verify_refused(f->path, 6, "incomplete");
}

/* The path of the checkpoints beside the fixture's log, malloc'd. */
static char *
s_cp_path(const char *path)
{
    char *p = malloc(strlen(path) + sizeof XL_AUDIT_CHECKPOINTS_SUFFIX);

    assert_non_null(p);
    sprintf(p, "%s%s", path, XL_AUDIT_CHECKPOINTS_SUFFIX);
    return p;
}

/* A receipt's proof: the commit entry is in a checkpoint signed by the
 * linker's key, ending with it; entries are found by offset and leaf. */
static void
test_receipt_proof(void **state)
{
    struct s_fixture *f = *state;
    struct linker_audit *a = s_open(f->path);
    struct linker_audit_proof pr;
    struct xl_checkpoint cp;
    uint8_t leaf[XL_HASH_BYTES], got[XL_HASH_BYTES];
    char err[XL_ERRBUF] = "", *cpp = s_cp_path(f->path), **lines, *note;
    uint64_t off;
    size_t len;

    linker_audit_set_interval(a, 64, 60);
    for (int i = 1; i <= 6; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "records", i);
        if (i == 6) {
            assert_int_equal(linker_audit_append_proved(a, 0, "linker", "agent",
                                                        "submission.commit", d, &pr, err,
                                                        sizeof err),
                             0);
        } else {
            s_append(a, "submission.begin", i);
            cJSON_Delete(d);
        }
    }
    assert_int_equal(pr.seq, 6);
    assert_int_equal(
        xl_audit_checkpoint_open(pr.checkpoint, pr.checkpoint_len, s_pk, &cp, err, sizeof err), 0);
    assert_int_equal(cp.size, 6);
    assert_memory_equal(cp.root, pr.root, XL_HASH_BYTES);
    xl_merkle_leaf_hash(pr.entry, pr.entry_len, leaf);
    assert_int_equal(xl_merkle_verify_inclusion(5, 6, leaf, &pr.path, cp.root, err, sizeof err), 0);
    /* the path is the one the generator gives */
    {
        struct xl_merkle_proof want;
        assert_int_equal(
            xl_merkle_inclusion_proof(5, 6, linker_audit_leaf, a, &want, err, sizeof err), 0);
        assert_int_equal(want.n, pr.path.n);
        assert_memory_equal(want.hash, pr.path.hash, want.n * XL_HASH_BYTES);
    }
    /* another key does not open it */
    assert_int_not_equal(
        xl_audit_checkpoint_open(pr.checkpoint, pr.checkpoint_len, s_pk2, &cp, err, sizeof err), 0);
    linker_audit_proof_free(&pr);
    assert_int_equal(tu_file_mode(cpp), 0600);

    /* entries are found where they are, with their leaves */
    assert_int_equal(s_lines(f->path, &lines), 6);
    assert_int_equal(linker_audit_locate(a, 1, &off), 0);
    assert_int_equal(off, 0);
    assert_int_equal(linker_audit_locate(a, 2, &off), 0);
    assert_int_equal(off, strlen(lines[0]) + 1);
    assert_int_equal(linker_audit_locate(a, 8, &off), XL_ERR_INVALID);
    xl_merkle_leaf_hash(lines[3], strlen(lines[3]), leaf);
    assert_int_equal(linker_audit_leaf(a, 3, got, err, sizeof err), 0);
    assert_memory_equal(leaf, got, XL_HASH_BYTES);
    assert_int_equal(linker_audit_leaf(a, 6, got, err, sizeof err), XL_ERR_INVALID);

    /* entries that waited long enough get one from the service's tick */
    linker_audit_set_interval(a, 64, 0);
    s_append(a, "submission.begin", 7);
    {
        char *t = tu_read_file(cpp);
        assert_non_null(t);
        assert_null(strstr(t, "\n7\n"));
        free(t);
        linker_audit_tick(a);
        t = tu_read_file(cpp);
        assert_non_null(t);
        assert_non_null(strstr(t, "\n7\n"));
        free(t);
    }
    /* a request for the latest checkpoint after one more entry signs a new one */
    s_append(a, "linker.stop", 8);
    assert_int_equal(linker_audit_checkpoint(a, &note, &len, &cp, err, sizeof err), 0);
    assert_int_equal(cp.size, 8);
    free(note);
    linker_audit_close(&a);
    free(lines[0]);
    free(lines);
    free(cpp);
}

/* Lines k.. of the log rebuilt with the chain recomputed after replacing
 * `from` by `to` in line k: what an insider who knows the format can do. */
static void
s_rechain(const char *path, size_t k, const char *from, const char *to)
{
    char **lines, hex[2 * XL_HASH_BYTES + 1];
    uint8_t prev[XL_HASH_BYTES] = {0}, hash[XL_HASH_BYTES];
    size_t n = s_lines(path, &lines);
    FILE *out;

    out = fopen(path, "w");
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        char canon[4096], *p, *line = NULL;
        size_t len = strlen(lines[i]), linelen;
        uint64_t seq;
        if (i < k) {
            assert_int_equal(s_check(lines[i], len, &seq, prev, hash, canon, sizeof canon), 0);
            memcpy(prev, hash, XL_HASH_BYTES);
            fprintf(out, "%s\n", lines[i]);
            continue;
        }
        /* the canonical bytes, with prev set to the new chain */
        len -= strlen(",\"hash\":\"\"}") + 2 * XL_HASH_BYTES;
        memcpy(canon, lines[i], len);
        canon[len] = '}';
        canon[len + 1] = '\0';
        p = strstr(canon, "\"prev\":\"");
        assert_non_null(p);
        xl_hex(prev, XL_HASH_BYTES, hex);
        memcpy(p + 8, hex, 2 * XL_HASH_BYTES);
        if (i == k) {
            char tmp[4096];
            p = strstr(canon, from);
            assert_non_null(p);
            snprintf(tmp, sizeof tmp, "%.*s%s%s", (int)(p - canon), canon, to, p + strlen(from));
            snprintf(canon, sizeof canon, "%s", tmp);
        }
        assert_int_equal(xl_audit_line(prev, canon, strlen(canon), &line, &linelen, prev), 0);
        fwrite(line, 1, linelen, out);
        free(line);
    }
    fclose(out);
    free(lines[0]);
    free(lines);
}

/* Appends an entry that follows the log's last, written by hand (not by the
 * linker): what a crash leaves uncovered, or a forger adds. */
static void
s_append_by_hand(const char *path, const char *event)
{
    char **l, canon[512], *line = NULL, hex[2 * XL_HASH_BYTES + 1], err[XL_ERRBUF];
    uint8_t prev[XL_HASH_BYTES], hash[XL_HASH_BYTES], h[XL_HASH_BYTES];
    size_t n = s_lines(path, &l), linelen;
    uint64_t seq;
    FILE *out;

    assert_true(n > 0);
    assert_int_equal(s_check(l[n - 1], strlen(l[n - 1]), &seq, prev, hash, err, sizeof err), 0);
    xl_hex(hash, XL_HASH_BYTES, hex);
    snprintf(canon, sizeof canon,
             "{\"seq\":%llu,\"time\":\"2026-12-01T00:00:00Z\",\"actor\":\"linker\",\"role\":"
             "\"linker\",\"event\":\"%s\",\"details\":{},\"prev\":\"%s\"}",
             (unsigned long long)seq + 1, event, hex);
    assert_int_equal(xl_audit_line(hash, canon, strlen(canon), &line, &linelen, h), 0);
    out = fopen(path, "a");
    assert_non_null(out);
    fwrite(line, 1, linelen, out);
    fclose(out);
    free(line);
    free(l[0]);
    free(l);
}

/* Tampering the chain alone cannot show: caught by the signed checkpoints. */
static void
test_checkpoints_catch(void **state)
{
    struct s_fixture *f = *state;
    char *cpp = s_cp_path(f->path), **lines;
    struct linker_audit *a;
    static const int first4[] = {0, 1, 2, 3, -1};

    /* an edit with the chain recomputed after it: the chain verifies, the
     * checkpoint of 3 entries does not (those of 1 and 2 still do) */
    s_six(f->path);
    s_rechain(f->path, 2, "\"records\":13", "\"records\":14");
    s_refused(f->path, "checkpoint 3 in audit.jsonl.checkpoints (size 3) does not match the log");
    s_refused(f->path, "an entry from 3 to 3 was changed");

    /* cut at a line boundary: whole entries removed from the end */
    s_reset(f->path);
    s_six(f->path);
    assert_int_equal(s_lines(f->path, &lines), 6);
    s_rewrite(f->path, lines, first4);
    free(lines[0]);
    free(lines);
    s_refused(f->path, "the log has 4 entries but");
    s_refused(f->path, "entries 5-6 were removed");

    /* emptied */
    assert_int_equal(tu_write_file(f->path, ""), 0);
    s_refused(f->path, "the log has 0 entries");

    /* a forged entry after the service's clean stop, chained correctly */
    s_reset(f->path);
    a = s_open(f->path);
    s_append(a, "linker.start", 1);
    s_append(a, "linker.stop", 2);
    linker_audit_close(&a);
    s_append_by_hand(f->path, "extract.refused");
    s_refused(f->path, "entries 3-3 follow the linker's clean stop (entry 2)");

    /* checkpoints signed by another key */
    s_reset(f->path);
    s_six(f->path);
    {
        struct linker_audit *b = NULL;
        char err[XL_ERRBUF] = "";
        assert_int_equal(linker_audit_open(f->path, s_sk2, s_pk2, &b, err, sizeof err),
                         XL_ERR_FORMAT);
        assert_null(b);
        assert_non_null(strstr(err, "checkpoint 1 does not verify"));
    }
    free(cpp);
}

/* Two signed checkpoints of one size with different roots prove a rewrite;
 * entries left uncovered by a crash are covered at the next open. */
static void
test_two_views_and_crash(void **state)
{
    struct s_fixture *f = *state;
    char *cpp = s_cp_path(f->path), *note = NULL, text[256];
    struct xl_checkpoint cp;
    struct linker_audit *a;
    size_t len;
    FILE *out;
    int n;

    s_six(f->path);
    memset(&cp, 0, sizeof cp);
    xl_audit_origin(s_pk, cp.origin);
    cp.size = 3;
    memset(cp.root, 0x5a, sizeof cp.root);
    n = xl_checkpoint_format(&cp, NULL, text, sizeof text);
    assert_true(n > 0);
    assert_int_equal(xl_note_sign(text, (size_t)n, cp.origin, s_sk, &note, &len, NULL, 0), 0);
    out = fopen(cpp, "a");
    assert_non_null(out);
    fwrite(note, 1, len, out);
    fclose(out);
    free(note);
    s_refused(f->path, "are both signed for size 3 but have different roots");

    /* a checkpoint whose write was cut short is cut off at the next open */
    s_reset(f->path);
    s_six(f->path);
    {
        off_t whole = s_size(cpp);
        out = fopen(cpp, "a");
        assert_non_null(out);
        fputs("crosslink/audit-0000000000000000\n7\n", out);
        fclose(out);
        a = s_open(f->path);
        assert_int_equal(s_size(cpp), whole);
        linker_audit_close(&a);
    }

    /* a crash after an entry and before its checkpoint: the next open signs
     * one for it */
    s_reset(f->path);
    a = s_open(f->path);
    s_append(a, "linker.start", 1);
    linker_audit_close(&a);
    s_append_by_hand(f->path, "submission.begin");
    a = s_open(f->path);
    assert_int_equal(linker_audit_size(a), 2);
    assert_int_equal(linker_audit_checkpoint(a, &note, &len, &cp, NULL, 0), 0);
    assert_int_equal(cp.size, 2);
    free(note);
    {
        char *t = tu_read_file(cpp);
        assert_non_null(t);
        /* two notes: one per size */
        assert_non_null(strstr(t, "\n1\n"));
        assert_non_null(strstr(t, "\n2\n"));
        free(t);
    }
    free(cpp);
    linker_audit_close(&a);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_fields_and_chain),  S_TEST(test_chain_continues_after_reopen),
        S_TEST(test_tampered_tail),     S_TEST(test_tampered_link),
        S_TEST(test_cut_short),         cmocka_unit_test(test_entry_check_rejects),
        S_TEST(test_empty_and_missing), S_TEST(test_short_write_taken_back),
        S_TEST(test_verify_whole_log),  S_TEST(test_receipt_proof),
        S_TEST(test_checkpoints_catch), S_TEST(test_two_views_and_crash),
    };

    return cmocka_run_group_tests_name("linker_audit", tests, s_group_setup, NULL);
}
