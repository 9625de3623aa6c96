#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "xl/auditverify.h"
#include "xl/clock.h"
#include "xl/err.h"
#include "xl/log.h"

struct linker_audit {
    pthread_mutex_t lock;
    int fd;
    int cpfd; /* <path>.checkpoints, -1 without a signing key */
    char path[4096];
    char cppath[4096 + sizeof XL_AUDIT_CHECKPOINTS_SUFFIX];
    off_t size;        /* file size after our last read or write */
    uint64_t next_seq; /* seq of the next entry */
    uint8_t prev[XL_HASH_BYTES];
    int failed;
    /* The tree over entries 1..n, with each leaf hash and where each entry
     * starts, for proofs and for reading entries back. */
    struct xl_merkle_builder tree;
    uint8_t (*leaves)[XL_HASH_BYTES];
    uint64_t *offsets;
    uint64_t cap;
    /* Signing: the key pair (the caller's memory), the origin and the latest
     * checkpoint this process signed or read. */
    const uint8_t *sk;
    uint8_t pk[XL_SIGN_PK_BYTES];
    char origin[XL_AUDIT_ORIGIN_MAX];
    uint64_t every;
    unsigned seconds;
    uint64_t cp_size;
    double cp_time; /* xl_monotonic() when entries were first left uncovered */
    char *cp_note;
    size_t cp_len;
};

void
linker_iso_time(time_t t, char out[21])
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 21, "1970-01-01T00:00:00Z");
}

const char *
linker_audit_path(const struct linker_audit *a)
{
    return a->path;
}

/* Records entry seq = n + 1 (its leaf hash and where it starts) in the tree. */
static int
s_add_leaf(struct linker_audit *a, const uint8_t leaf[XL_HASH_BYTES], uint64_t offset)
{
    uint64_t n = a->tree.size;

    if (n == a->cap) {
        uint64_t cap = a->cap ? 2 * a->cap : 1024;
        void *l = realloc(a->leaves, cap * XL_HASH_BYTES), *o;
        if (l == NULL)
            return XL_ERR_NOMEM;
        a->leaves = l;
        o = realloc(a->offsets, cap * sizeof *a->offsets);
        if (o == NULL)
            return XL_ERR_NOMEM;
        a->offsets = o;
        a->cap = cap;
    }
    if (xl_merkle_builder_append(&a->tree, leaf) != 0)
        return XL_ERR_TOOBIG;
    memcpy(a->leaves[n], leaf, XL_HASH_BYTES);
    a->offsets[n] = offset;
    return 0;
}

/* Reads what other processes appended since a->size and adds it to the tree,
 * checking each entry and its link, as the start check did for the rest.
 * Called with the file locked. */
static int
s_catch_up(struct linker_audit *a, char *err, size_t errlen)
{
    struct xl_audit_entry e;
    uint8_t leaf[XL_HASH_BYTES];
    char msg[XL_ERRBUF], *buf = NULL;
    struct stat st;
    size_t have = 0, pos = 0;
    off_t at;
    int r = 0;

    if (fstat(a->fd, &st) != 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", a->path, strerror(errno));
    if (st.st_size == a->size)
        return 0;
    if (st.st_size < a->size)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: the log shrank from %lld to %lld bytes while the linker ran: it "
                          "was cut short or replaced",
                          a->path, (long long)a->size, (long long)st.st_size);
    have = (size_t)(st.st_size - a->size);
    buf = malloc(have);
    if (buf == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    if (pread(a->fd, buf, have, a->size) != (ssize_t)have) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot read new entries", a->path);
        goto out;
    }
    at = a->size;
    while (pos < have) {
        char *nl = memchr(buf + pos, '\n', have - pos);
        size_t len;
        if (nl == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: entry %llu (at byte %lld) is incomplete", a->path,
                           (unsigned long long)a->next_seq, (long long)at);
            goto out;
        }
        len = (size_t)(nl - (buf + pos));
        r = xl_audit_entry_check(buf + pos, len, &e, NULL, msg, sizeof msg);
        if (r == 0 && (e.seq != a->next_seq || !xl_equal(e.prev, a->prev, XL_HASH_BYTES)))
            r = xl_err_set(msg, sizeof msg, XL_ERR_FORMAT,
                           "it does not follow entry %llu (seq or prev)",
                           (unsigned long long)a->next_seq - 1);
        if (r != 0) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: entry %llu (at byte %lld): %s", a->path,
                           (unsigned long long)a->next_seq, (long long)at, msg);
            goto out;
        }
        xl_merkle_leaf_hash(buf + pos, len, leaf);
        r = s_add_leaf(a, leaf, (uint64_t)at);
        if (r != 0) {
            r = xl_err_set(err, errlen, r, "%s: %s", a->path, xl_strerror(r));
            goto out;
        }
        if (a->tree.size == a->cp_size + 1)
            a->cp_time = xl_monotonic();
        memcpy(a->prev, e.hash, XL_HASH_BYTES);
        a->next_seq++;
        pos += len + 1;
        at += (off_t)len + 1;
        a->size = at;
    }
out:
    free(buf);
    return r;
}

/* Signs a checkpoint of the tree as it stands and appends it to the file of
 * checkpoints, fsynced. Called with the lock and the flock held. */
static int
s_sign(struct linker_audit *a, char *err, size_t errlen)
{
    struct xl_checkpoint cp;
    char text[XL_AUDIT_ORIGIN_MAX + 128], *note = NULL;
    size_t len;
    struct stat st;
    int n, r;

    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", a->origin);
    cp.size = a->tree.size;
    xl_merkle_builder_root(&a->tree, cp.root);
    n = xl_checkpoint_format(&cp, NULL, text, sizeof text);
    if (n < 0)
        return xl_err_set(err, errlen, n, "cannot format a checkpoint");
    r = xl_note_sign(text, (size_t)n, a->origin, a->sk, &note, &len, err, errlen);
    if (r != 0)
        return r;
    if (fstat(a->cpfd, &st) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", a->cppath, strerror(errno));
        goto fail;
    }
    if (xl_write_all(a->cpfd, note, len) != 0 || fsync(a->cpfd) != 0) {
        int e = errno;
        /* Take a partial note back off, as the log does a partial line. */
        if (ftruncate(a->cpfd, st.st_size) != 0)
            xl_error("%s: cannot cut back a partial checkpoint: %s", a->cppath, strerror(errno));
        r = xl_err_set(err, errlen, e == ENOSPC || e == EDQUOT ? XL_ERR_NOSPACE : XL_ERR_IO,
                       "%s: cannot write a checkpoint: %s", a->cppath, strerror(e));
        goto fail;
    }
    free(a->cp_note);
    a->cp_note = note;
    a->cp_len = len;
    a->cp_size = cp.size;
    return 0;
fail:
    free(note);
    return r;
}

/* The checkpoints kept beside the log, opened with the linker's key. */
struct s_claims {
    const struct linker_audit *a;
    struct xl_audit_claim *c;
    size_t n, cap;
    char *note; /* the latest (largest) checkpoint, malloc'd */
    size_t note_len;
    uint64_t note_size;
};

static int
s_claim(void *ctx, const char *note, size_t len, char *err, size_t errlen)
{
    struct s_claims *s = ctx;
    struct xl_audit_claim *c;
    char msg[XL_ERRBUF];

    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        void *p = realloc(s->c, cap * sizeof *s->c);
        if (p == NULL)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        s->c = p;
        s->cap = cap;
    }
    c = &s->c[s->n];
    memset(c, 0, sizeof *c);
    /* XL_ERR_CRYPTO, so that the file's own XL_ERR_FORMAT (its last note cut
     * short) is told apart below. */
    if (xl_audit_checkpoint_open(note, len, s->a->pk, &c->cp, msg, sizeof msg) != 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO, "%s: checkpoint %zu does not verify: %s",
                          s->a->cppath, s->n + 1, msg);
    c->has_cp = 1;
    if (s->note == NULL || c->cp.size >= s->note_size) {
        char *copy = malloc(len);
        if (copy == NULL)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        memcpy(copy, note, len);
        free(s->note);
        s->note = copy;
        s->note_len = len;
        s->note_size = c->cp.size;
    }
    {
        const char *base = strrchr(s->a->cppath, '/');
        snprintf(c->name, sizeof c->name, "checkpoint %zu in %.200s", s->n + 1,
                 base != NULL ? base + 1 : s->a->cppath);
    }
    s->n++;
    return 0;
}

static int
s_leaf_seen(void *ctx, uint64_t seq, uint64_t offset, const char *line, size_t len,
            const uint8_t leaf[XL_HASH_BYTES], char *err, size_t errlen)
{
    struct linker_audit *a = ctx;
    int r = s_add_leaf(a, leaf, offset);

    return r == 0 ? 0 : xl_err_set(err, errlen, r, "%s: %s", a->path, xl_strerror(r));
}

/* Reads the checkpoints (cutting off a note whose write was cut short),
 * verifies the whole log against them and builds the tree. Called with the
 * file locked. */
static int
s_load(struct linker_audit *a, char *err, size_t errlen)
{
    struct s_claims cl = {.a = a};
    struct xl_audit_verified v;
    struct stat st;
    size_t complete = 0;
    double t0 = xl_monotonic();
    int r = 0;

    if (a->cpfd >= 0) {
        r = xl_checkpoints_each(a->cppath, s_claim, &cl, &complete, err, errlen);
        if (r == XL_ERR_FORMAT) {
            /* A checkpoint whose write was cut short (a crash, a full disk):
             * the entries it was for are covered again below. */
            xl_warn("%s; cutting it off", err);
            if (ftruncate(a->cpfd, (off_t)complete) != 0 || fsync(a->cpfd) != 0) {
                r = xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", a->cppath, strerror(errno));
                goto out;
            }
            r = 0;
        }
        if (r == XL_ERR_NOTFOUND)
            r = 0;
        if (r != 0) {
            r = r == XL_ERR_CRYPTO ? XL_ERR_FORMAT : r;
            goto out;
        }
    }
    r = xl_audit_verify(a->path, cl.c, cl.n, s_leaf_seen, a, &v, err, errlen);
    if (r != 0) {
        if (r == XL_ERR_MISMATCH)
            r = XL_ERR_FORMAT;
        goto out;
    }
    if (fstat(a->fd, &st) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", a->path, strerror(errno));
        goto out;
    }
    a->size = st.st_size;
    a->next_seq = v.entries + 1;
    memcpy(a->prev, v.last, XL_HASH_BYTES);
    a->cp_size = v.covered;
    a->cp_note = cl.note;
    a->cp_len = cl.note_len;
    cl.note = NULL;
    if (a->sk != NULL && v.entries > v.covered) {
        if (strcmp(v.covered_event, "linker.stop") == 0) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: entries %llu-%llu follow the linker's clean stop (entry %llu) "
                           "with no checkpoint signed for them: the linker did not write them "
                           "(forged?), or a `crosslink-linker import` or `link` was killed before "
                           "it could sign; inspect them with `crosslink-audit show`",
                           a->path, (unsigned long long)v.covered + 1,
                           (unsigned long long)v.entries, (unsigned long long)v.covered);
            goto out;
        }
        if (cl.n > 0)
            xl_warn("%s: entries %llu-%llu were written after the last checkpoint (a stop "
                    "without one: a crash?); signing one for them now",
                    a->path, (unsigned long long)v.covered + 1, (unsigned long long)v.entries);
        else
            xl_warn("%s: %llu entries and no checkpoints in %s (a log from before checkpoints, "
                    "or they were removed); signing one for them now: compare it with the "
                    "checkpoints IG leads and agencies hold",
                    a->path, (unsigned long long)v.entries, a->cppath);
        r = s_sign(a, err, errlen);
        if (r != 0)
            goto out;
    }
    xl_info("audit log verified: %llu entries, %zu checkpoints, in %.2f s",
            (unsigned long long)v.entries, cl.n, xl_monotonic() - t0);
out:
    free(cl.c);
    free(cl.note);
    return r;
}

int
linker_audit_open(const char *path, const uint8_t *sk, const uint8_t *pk, struct linker_audit **out,
                  char *err, size_t errlen)
{
    struct linker_audit *a;
    int r;

    *out = NULL;
    a = calloc(1, sizeof *a);
    if (a == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    a->fd = a->cpfd = -1;
    if (strlen(path) >= sizeof a->path) {
        free(a);
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", path);
    }
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->cppath, sizeof a->cppath, "%s%s", path, XL_AUDIT_CHECKPOINTS_SUFFIX);
    xl_merkle_builder_init(&a->tree);
    a->every = 1;
    a->seconds = 60;
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        free(a);
        return xl_err_set(err, errlen, XL_ERR_INTERNAL, "cannot create a mutex");
    }
    a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (a->fd < 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open the audit log: %s", path,
                       strerror(errno));
        goto fail;
    }
    if (sk != NULL) {
        a->sk = sk;
        memcpy(a->pk, pk, XL_SIGN_PK_BYTES);
        xl_audit_origin(pk, a->origin);
        a->cpfd = open(a->cppath, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (a->cpfd < 0) {
            r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open: %s", a->cppath,
                           strerror(errno));
            goto fail;
        }
    }
    if (flock(a->fd, LOCK_EX) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot lock: %s", path, strerror(errno));
        goto fail;
    }
    r = s_load(a, err, errlen);
    (void)flock(a->fd, LOCK_UN);
    if (r != 0)
        goto fail;
    *out = a;
    return 0;
fail:
    a->sk = NULL; /* nothing to sign at close */
    linker_audit_close(&a);
    return r;
}

void
linker_audit_close(struct linker_audit **ap)
{
    struct linker_audit *a;

    if (ap == NULL || *ap == NULL)
        return;
    a = *ap;
    if (a->sk != NULL && a->fd >= 0 && !a->failed) {
        char err[XL_ERRBUF];
        if (flock(a->fd, LOCK_EX) == 0) {
            int r = s_catch_up(a, err, sizeof err);
            if (r == 0 && a->tree.size > a->cp_size)
                r = s_sign(a, err, sizeof err);
            if (r != 0)
                xl_error("audit: cannot sign the closing checkpoint: %s", err);
            (void)flock(a->fd, LOCK_UN);
        }
    }
    if (a->fd >= 0)
        close(a->fd);
    if (a->cpfd >= 0)
        close(a->cpfd);
    pthread_mutex_destroy(&a->lock);
    free(a->leaves);
    free(a->offsets);
    free(a->cp_note);
    free(a);
    *ap = NULL;
}

void
linker_audit_set_interval(struct linker_audit *a, uint64_t every, unsigned seconds)
{
    pthread_mutex_lock(&a->lock);
    a->every = every;
    a->seconds = seconds;
    pthread_mutex_unlock(&a->lock);
}

uint64_t
linker_audit_next_seq(struct linker_audit *a)
{
    uint64_t n;

    pthread_mutex_lock(&a->lock);
    n = a->next_seq;
    pthread_mutex_unlock(&a->lock);
    return n;
}

uint64_t
linker_audit_size(struct linker_audit *a)
{
    uint64_t n;

    pthread_mutex_lock(&a->lock);
    n = a->tree.size;
    pthread_mutex_unlock(&a->lock);
    return n;
}

int
linker_audit_locate(struct linker_audit *a, uint64_t seq, uint64_t *offset)
{
    int r = 0;

    *offset = 0;
    pthread_mutex_lock(&a->lock);
    if (seq == 0 || seq > a->tree.size + 1)
        r = XL_ERR_INVALID;
    else
        *offset = seq <= a->tree.size ? a->offsets[seq - 1] : (uint64_t)a->size;
    pthread_mutex_unlock(&a->lock);
    return r;
}

int
linker_audit_leaf(void *ctx, uint64_t index, uint8_t out[XL_HASH_BYTES], char *err, size_t errlen)
{
    struct linker_audit *a = ctx;
    int r = 0;

    pthread_mutex_lock(&a->lock);
    if (index >= a->tree.size)
        r = xl_err_set(err, errlen, XL_ERR_INVALID, "the log has no entry %llu",
                       (unsigned long long)index + 1);
    else
        memcpy(out, a->leaves[index], XL_HASH_BYTES);
    pthread_mutex_unlock(&a->lock);
    return r;
}

/* Builds the line (with hash member and newline) for the entry that follows
 * a->prev. *line is malloc'd. */
static int
s_build(struct linker_audit *a, time_t when, const char *actor, const char *role, const char *event,
        cJSON **details, char **line, size_t *linelen, uint8_t hash[XL_HASH_BYTES])
{
    char tbuf[21], prevhex[2 * XL_HASH_BYTES + 1];
    cJSON *root = cJSON_CreateObject();
    char *canon = NULL;
    int r = XL_ERR_NOMEM;

    *line = NULL;
    if (root == NULL)
        goto out;
    linker_iso_time(when, tbuf);
    xl_hex(a->prev, XL_HASH_BYTES, prevhex);
    if (cJSON_AddNumberToObject(root, "seq", (double)a->next_seq) == NULL ||
        cJSON_AddStringToObject(root, "time", tbuf) == NULL ||
        cJSON_AddStringToObject(root, "actor", actor) == NULL ||
        cJSON_AddStringToObject(root, "role", role) == NULL ||
        cJSON_AddStringToObject(root, "event", event) == NULL)
        goto out;
    if (*details == NULL)
        *details = cJSON_CreateObject();
    if (*details == NULL || !cJSON_AddItemToObject(root, "details", *details))
        goto out;
    *details = NULL; /* now owned by root */
    if (cJSON_AddStringToObject(root, "prev", prevhex) == NULL)
        goto out;
    canon = cJSON_PrintUnformatted(root);
    if (canon == NULL)
        goto out;
    r = xl_audit_line(a->prev, canon, strlen(canon), line, linelen, hash);
out:
    cJSON_Delete(root);
    cJSON_free(canon);
    return r;
}

/* The XL_ERR_* for a failed write or fsync: a full filesystem or quota is
 * XL_ERR_NOSPACE (retry once space is freed), anything else XL_ERR_IO. */
static int
s_write_code(int e)
{
    return e == ENOSPC || e == EDQUOT ? XL_ERR_NOSPACE : XL_ERR_IO;
}

/* After a failed write or fsync of the entry that was to follow a->size bytes:
 * cuts the file back to those bytes, every one of which an earlier fsync made
 * durable, and makes the cut durable. Then the log on disk ends in a whole,
 * verified entry, and the next append can go ahead once the cause is gone (a
 * full disk: cutting frees the blocks a partial line took). When the cut
 * itself fails, what reached the disk is unknown: the log refuses appends
 * until the linker is restarted and its open checks the whole log. */
static void
s_take_back(struct linker_audit *a)
{
    if (ftruncate(a->fd, a->size) != 0 || fsync(a->fd) != 0)
        a->failed = 1;
}

/* Appends one entry; with proof, also signs a checkpoint ending with it and
 * fills proof in. */
static int
s_append(struct linker_audit *a, time_t when, const char *actor, const char *role,
         const char *event, cJSON *details, uint64_t *seq, struct linker_audit_proof *proof,
         char *err, size_t errlen)
{
    uint8_t hash[XL_HASH_BYTES], leaf[XL_HASH_BYTES];
    struct xl_merkle_builder before;
    char *line = NULL;
    size_t linelen = 0;
    int r, locked = 0;

    if (seq != NULL)
        *seq = 0;
    if (when == 0)
        when = time(NULL);
    pthread_mutex_lock(&a->lock);
    if (a->failed) {
        r = xl_err_set(err, errlen, XL_ERR_IO,
                       "%s: the audit log is unusable after a failed write; restart the linker",
                       a->path);
        goto out;
    }
    if (proof != NULL && a->sk == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_INVALID, "%s: no key to sign checkpoints", a->path);
        goto out;
    }
    if (flock(a->fd, LOCK_EX) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot lock: %s", a->path, strerror(errno));
        goto out;
    }
    locked = 1;
    /* Another process (an import, a link run) may have appended since:
     * continue its chain and its tree. */
    r = s_catch_up(a, err, errlen);
    if (r != 0)
        goto out;
    r = s_build(a, when, actor, role, event, &details, &line, &linelen, hash);
    if (r != 0) {
        r = xl_err_set(err, errlen, r, "%s: cannot build the %s entry: %s", a->path, event,
                       xl_strerror(r));
        goto out;
    }
    if (xl_write_all(a->fd, line, linelen) != 0) {
        int e = errno;
        /* A short write leaves part of a line: take it back off, so the log
         * still ends in a whole entry and its chain verifies on restart. */
        s_take_back(a);
        r = xl_err_set(err, errlen, s_write_code(e), "%s: cannot write the %s entry: %s", a->path,
                       event, strerror(e));
        goto out;
    }
    if (fsync(a->fd) != 0) {
        int e = errno;
        /* The line may or may not be on disk: take it back, as above. */
        s_take_back(a);
        r = xl_err_set(err, errlen, s_write_code(e), "%s: cannot write the %s entry: fsync: %s",
                       a->path, event, strerror(e));
        goto out;
    }
    before = a->tree;
    xl_merkle_leaf_hash(line, linelen - 1, leaf);
    r = s_add_leaf(a, leaf, (uint64_t)a->size);
    if (r != 0) {
        /* The entry is on disk but not in the tree: the next open reads it. */
        a->failed = 1;
        r = xl_err_set(err, errlen, r, "%s: %s", a->path, xl_strerror(r));
        goto out;
    }
    if (a->tree.size == a->cp_size + 1)
        a->cp_time = xl_monotonic();
    a->size += (off_t)linelen;
    if (seq != NULL)
        *seq = a->next_seq;
    a->next_seq++;
    memcpy(a->prev, hash, XL_HASH_BYTES);
    if (a->sk != NULL &&
        (proof != NULL || (a->every > 0 && a->tree.size - a->cp_size >= a->every))) {
        r = s_sign(a, err, errlen);
        if (r != 0) {
            /* The entry stands; the next checkpoint covers it. */
            if (proof == NULL) {
                xl_error("audit: %s", err);
                r = 0;
            }
            goto out;
        }
    }
    if (proof != NULL) {
        /* The inclusion path of the last leaf is the compact range of the
         * tree before it, smallest subtree first (RFC 9162 2.1.3.1 with m =
         * n - 1: every step takes the right branch). */
        size_t k = (size_t)__builtin_popcountll(before.size);
        proof->seq = a->next_seq - 1;
        proof->path.n = k;
        for (size_t i = 0; i < k; i++)
            memcpy(proof->path.hash[i], before.node[k - 1 - i], XL_HASH_BYTES);
        xl_merkle_builder_root(&a->tree, proof->root);
        proof->entry = malloc(linelen);
        proof->checkpoint = malloc(a->cp_len);
        if (proof->entry == NULL || proof->checkpoint == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
            goto out;
        }
        memcpy(proof->entry, line, linelen - 1);
        proof->entry_len = linelen - 1;
        memcpy(proof->checkpoint, a->cp_note, a->cp_len);
        proof->checkpoint_len = a->cp_len;
    }
    r = 0;
out:
    if (locked)
        (void)flock(a->fd, LOCK_UN);
    pthread_mutex_unlock(&a->lock);
    cJSON_Delete(details);
    free(line);
    return r;
}

int
linker_audit_append(struct linker_audit *a, time_t when, const char *actor, const char *role,
                    const char *event, cJSON *details, uint64_t *seq, char *err, size_t errlen)
{
    return s_append(a, when, actor, role, event, details, seq, NULL, err, errlen);
}

int
linker_audit_append_proved(struct linker_audit *a, time_t when, const char *actor, const char *role,
                           const char *event, cJSON *details, struct linker_audit_proof *proof,
                           char *err, size_t errlen)
{
    memset(proof, 0, sizeof *proof);
    return s_append(a, when, actor, role, event, details, NULL, proof, err, errlen);
}

void
linker_audit_proof_free(struct linker_audit_proof *p)
{
    free(p->entry);
    free(p->checkpoint);
    memset(p, 0, sizeof *p);
}

int
linker_audit_checkpoint(struct linker_audit *a, char **note, size_t *len, struct xl_checkpoint *cp,
                        char *err, size_t errlen)
{
    int r;

    *note = NULL;
    *len = 0;
    if (cp != NULL)
        memset(cp, 0, sizeof *cp);
    pthread_mutex_lock(&a->lock);
    if (a->sk == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_INVALID, "%s: no key to sign checkpoints", a->path);
        goto out;
    }
    if (flock(a->fd, LOCK_EX) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot lock: %s", a->path, strerror(errno));
        goto out;
    }
    r = s_catch_up(a, err, errlen);
    /* Also the empty log gets a checkpoint: an auditor can hold the linker
     * to having had nothing. */
    if (r == 0 && (a->tree.size > a->cp_size || a->cp_note == NULL))
        r = s_sign(a, err, errlen);
    (void)flock(a->fd, LOCK_UN);
    if (r != 0)
        goto out;
    *note = malloc(a->cp_len);
    if (*note == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(*note, a->cp_note, a->cp_len);
    *len = a->cp_len;
    if (cp != NULL)
        r = xl_audit_checkpoint_open(*note, *len, a->pk, cp, err, errlen);
out:
    pthread_mutex_unlock(&a->lock);
    return r;
}

void
linker_audit_tick(struct linker_audit *a)
{
    char err[XL_ERRBUF];
    struct stat st;
    int r = 0;

    pthread_mutex_lock(&a->lock);
    if (a->sk == NULL || a->failed || fstat(a->fd, &st) != 0)
        goto out;
    if (st.st_size == a->size &&
        (a->tree.size == a->cp_size || xl_monotonic() - a->cp_time < (double)a->seconds))
        goto out;
    if (flock(a->fd, LOCK_EX) != 0)
        goto out;
    r = s_catch_up(a, err, sizeof err);
    if (r == 0 && a->tree.size > a->cp_size && xl_monotonic() - a->cp_time >= (double)a->seconds)
        r = s_sign(a, err, sizeof err);
    (void)flock(a->fd, LOCK_UN);
    if (r != 0)
        xl_error("audit: %s", err);
out:
    pthread_mutex_unlock(&a->lock);
}

void
linker_audit_note(struct linker_audit *a, const char *actor, const char *role, const char *event,
                  cJSON *details)
{
    char err[XL_ERRBUF];

    if (linker_audit_append(a, 0, actor, role, event, details, NULL, err, sizeof err) != 0)
        xl_error("audit: %s", err);
}
