/* crosslink-audit fetch: the IG lead's copy of the linker's audit log, kept
 * the way a transparency-log witness keeps one (docs/audit.md, "Fetching the
 * log").
 *
 *   1. The store's checkpoints are read and each signature checked with the
 *      linker's key from audit.conf, never one the linker sends.
 *   2. The linker's latest checkpoint is asked for, with the consistency proof
 *      from the largest one kept. It must be signed by that key, no smaller
 *      than any kept, of another root than none of the same size, and
 *      consistent with the largest kept.
 *   3. The entries the copy lacks, up to the checkpoint's size, are pulled page
 *      by page onto a copy of the copy (audit.jsonl.new), which is then read
 *      from its first entry: every entry, the hash chain and the Merkle tree,
 *      with the root at each kept checkpoint's size and at the new one's
 *      required to match (common/auditverify.c).
 *   4. Only then is the new copy renamed into place and the checkpoint
 *      appended to the kept ones, each synced to disk.
 *
 * Anything that does not verify ends the run with exit status 1 and leaves the
 * store as it was. The store is locked (flock on its directory) for the run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <zmq.h>

#include "commands.h"
#include "config.h"
#include "xl/auditlog.h"
#include "xl/auditverify.h"
#include "xl/cli.h"
#include "xl/client.h"
#include "xl/clock.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/log.h"
#include "xl/merkle.h"
#include "xl/note.h"
#include "xl/wire.h"

/* The linker's pages hold at most 4 MiB of entries (docs/protocol.md). */
#define S_REPLY_MAX (5u * 1024 * 1024)
/* Entries asked for in one page. */
#define S_PAGE_ENTRIES 1000u
/* How long the linker may take over a checkpoint and its proof. */
#define S_CHECKPOINT_WAIT 300.0
#define S_LOG_NAME        "audit.jsonl"
#define S_NEW_NAME        "audit.jsonl.new"
#define S_CPS_NAME        "audit.jsonl" XL_AUDIT_CHECKPOINTS_SUFFIX
#define S_COPY_BUF        (1u << 20)

/* A checkpoint kept in the store. */
struct s_kept {
    uint64_t size;
    uint8_t root[XL_HASH_BYTES];
    size_t number; /* 1-based, in the order of the file */
};

struct s_fetch {
    struct audit_config cfg;
    double retry_for, deadline;
    struct xl_keyfile *me, *server, *sign;
    struct xl_client c;
    int dirfd; /* the store, locked */
    char log[AUDIT_PATH_MAX + 32], tmp[AUDIT_PATH_MAX + 32], cps[AUDIT_PATH_MAX + 32];
    struct s_kept *kept;
    size_t nkept, capkept;
    size_t cps_complete; /* bytes of whole notes in the checkpoints file */
    int cps_torn;        /* an incomplete note follows them */
    const struct s_kept *largest;
    /* the linker's checkpoint */
    char *note;
    size_t notelen;
    struct xl_checkpoint cp;
    int tmp_made;
    int written; /* the new copy is in place: a failure after it is not "nothing written" */
};

/* ---- keys and store ----------------------------------------------------------------- */

static int
s_keys_load(struct s_fetch *f, char *err, size_t errlen)
{
    const struct audit_config *cfg = &f->cfg;
    struct xl_keyfile *pub = NULL;
    int r = xl_keyfile_load(cfg->secret_path, XL_KEY_CURVE_SECRET, &f->me, err, errlen);

    if (r == 0)
        r = xl_keyfile_load_public(cfg->public_path, XL_KEY_CURVE_PUBLIC, &pub, err, errlen);
    if (r == 0 && !xl_equal(pub->pub, f->me->pub, XL_KEY_BYTES))
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "%s: public and secret are not one key pair (%s is another key's public "
                       "half)",
                       cfg->path, cfg->public_path);
    xl_keyfile_destroy(&pub);
    if (r == 0)
        r = xl_keyfile_load_public(cfg->server_key_path, XL_KEY_CURVE_PUBLIC, &f->server, err,
                                   errlen);
    if (r == 0)
        r = xl_keyfile_load_public(cfg->sign_key_path, XL_KEY_SIGN_PUBLIC, &f->sign, err, errlen);
    return r;
}

/* Creates the store (mode 0700) when it does not exist, opens it and locks it
 * for this run. */
static int
s_store_open(struct s_fetch *f, char *err, size_t errlen)
{
    const char *dir = f->cfg.store_dir;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create the store: %s", dir,
                          strerror(errno));
    f->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dirfd < 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open the store: %s", dir,
                          strerror(errno));
    if (flock(f->dirfd, LOCK_EX | LOCK_NB) != 0)
        return xl_err_set(err, errlen, errno == EWOULDBLOCK ? XL_ERR_EXISTS : XL_ERR_IO, "%s: %s",
                          dir,
                          errno == EWOULDBLOCK ? "another crosslink-audit fetch is using the store"
                                               : strerror(errno));
    if ((size_t)snprintf(f->log, sizeof f->log, "%s/" S_LOG_NAME, dir) >= sizeof f->log ||
        (size_t)snprintf(f->tmp, sizeof f->tmp, "%s/" S_NEW_NAME, dir) >= sizeof f->tmp ||
        (size_t)snprintf(f->cps, sizeof f->cps, "%s/" S_CPS_NAME, dir) >= sizeof f->cps)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", dir);
    return 0;
}

static int
s_sync_dir(struct s_fetch *f, char *err, size_t errlen)
{
    if (fsync(f->dirfd) != 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot sync: %s", f->cfg.store_dir,
                          strerror(errno));
    return 0;
}

/* ---- checkpoints kept -------------------------------------------------------------------- */

/* The kept checkpoint of size `size`, or NULL. */
static const struct s_kept *
s_kept_of_size(const struct s_fetch *f, uint64_t size)
{
    for (size_t i = 0; i < f->nkept; i++) {
        if (f->kept[i].size == size)
            return &f->kept[i];
    }
    return NULL;
}

static int
s_kept_cb(void *ctx, const char *note, size_t len, char *err, size_t errlen)
{
    struct s_fetch *f = ctx;
    struct xl_checkpoint cp;
    const struct s_kept *same;
    char msg[XL_ERRBUF];
    size_t number = f->nkept + 1;

    /* Failures here are XL_ERR_CRYPTO or XL_ERR_MISMATCH: XL_ERR_FORMAT from
     * xl_checkpoints_each means a note cut short at the end. */
    if (xl_audit_checkpoint_open(note, len, f->sign->pub, &cp, msg, sizeof msg) != 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "%s: checkpoint %zu does not verify with the linker's signing key (%s): "
                          "%s",
                          f->cps, number, f->cfg.sign_key_path, msg);
    same = s_kept_of_size(f, cp.size);
    if (same != NULL && !xl_equal(same->root, cp.root, XL_HASH_BYTES))
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "%s: checkpoints %zu and %zu are two checkpoints of size %llu with "
                          "different roots: the log was rewritten or shown two ways",
                          f->cps, same->number, number, (unsigned long long)cp.size);
    if (f->nkept == f->capkept) {
        size_t cap = f->capkept ? 2 * f->capkept : 64;
        void *n = realloc(f->kept, cap * sizeof *f->kept);
        if (n == NULL)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        f->kept = n;
        f->capkept = cap;
    }
    f->kept[f->nkept].size = cp.size;
    memcpy(f->kept[f->nkept].root, cp.root, XL_HASH_BYTES);
    f->kept[f->nkept].number = number;
    f->nkept++;
    return 0;
}

static int
s_kept_load(struct s_fetch *f, char *err, size_t errlen)
{
    int r = xl_checkpoints_each(f->cps, s_kept_cb, f, &f->cps_complete, err, errlen);

    if (r == XL_ERR_NOTFOUND)
        return 0;
    if (r == XL_ERR_FORMAT) {
        /* A fetch stopped while appending: the note never counted. */
        xl_warn("%s: an incomplete checkpoint after byte %zu (a fetch was stopped while writing "
                "it) is left out and will be written over",
                f->cps, f->cps_complete);
        f->cps_torn = 1;
        r = 0;
    }
    for (size_t i = 0; r == 0 && i < f->nkept; i++) {
        if (f->largest == NULL || f->kept[i].size > f->largest->size)
            f->largest = &f->kept[i];
    }
    return r;
}

/* ---- talking to the linker ------------------------------------------------------------- */

/* ---- the linker's checkpoint ------------------------------------------------------------- */

static int
s_checkpoint(struct s_fetch *f, char *err, size_t errlen)
{
    xl_envelope env = CROSSLINK__ENVELOPE__INIT, *rep = NULL;
    Crosslink__AuditQuery q = CROSSLINK__AUDIT_QUERY__INIT;
    const Crosslink__AuditCheckpoint *ac;
    const struct s_kept *L = f->largest, *same;
    struct xl_merkle_proof proof;
    char msg[XL_ERRBUF];
    int r;

    env.body_case = CROSSLINK__ENVELOPE__BODY_AUDIT_QUERY;
    env.audit_query = &q;
    q.checkpoint = 1;
    q.old_size = L != NULL ? L->size : 0;
    r = xl_client_call_retry(&f->c, &env, S_CHECKPOINT_WAIT, f->deadline, &rep, err, errlen);
    if (r == XL_ERR_MISMATCH && q.old_size > 0) {
        /* No proof from a size larger than the log's: its signed checkpoint
         * alone, which the checks below hold to the ones kept. */
        xl_debug("%s", err);
        q.old_size = 0;
        r = xl_client_call_retry(&f->c, &env, S_CHECKPOINT_WAIT, f->deadline, &rep, err, errlen);
    }
    if (r != 0)
        return r;
    if (rep->body_case != CROSSLINK__ENVELOPE__BODY_AUDIT_CHECKPOINT) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "the linker answered with %s, not a checkpoint",
                       xl_wire_body_name(rep));
        goto out;
    }
    ac = rep->audit_checkpoint;
    if (xl_audit_checkpoint_open((const char *)ac->note.data, ac->note.len, f->sign->pub, &f->cp,
                                 msg, sizeof msg) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO,
                       "the linker's checkpoint does not verify with its signing key (%s): %s",
                       f->cfg.sign_key_path, msg);
        goto out;
    }
    if (ac->size != f->cp.size || ac->root.len != XL_HASH_BYTES ||
        !xl_equal(ac->root.data, f->cp.root, XL_HASH_BYTES) || ac->old_size != q.old_size) {
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "the linker's answer does not match the checkpoint it signed, or the "
                       "request");
        goto out;
    }
    same = s_kept_of_size(f, f->cp.size);
    if (same != NULL && !xl_equal(same->root, f->cp.root, XL_HASH_BYTES)) {
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "two checkpoints of size %llu with different roots: the log was rewritten "
                       "or shown two ways (the linker's latest and checkpoint %zu of %s)",
                       (unsigned long long)f->cp.size, same->number, f->cps);
        goto out;
    }
    if (L != NULL && f->cp.size < L->size) {
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "the linker's latest checkpoint is of size %llu, smaller than size %llu "
                       "seen before (checkpoint %zu of %s): the log was truncated or rolled back",
                       (unsigned long long)f->cp.size, (unsigned long long)L->size, L->number,
                       f->cps);
        goto out;
    }
    if (L != NULL && L->size > 0 && q.old_size == 0) {
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "the linker refused a consistency proof from size %llu, yet signs a "
                       "checkpoint of size %llu",
                       (unsigned long long)L->size, (unsigned long long)f->cp.size);
        goto out;
    }
    if (L != NULL && L->size > 0) {
        memset(&proof, 0, sizeof proof);
        if (ac->n_consistency > XL_MERKLE_PROOF_MAX) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "the linker's consistency proof has %zu hashes, more than %d",
                           ac->n_consistency, XL_MERKLE_PROOF_MAX);
            goto out;
        }
        for (size_t i = 0; i < ac->n_consistency; i++) {
            if (ac->consistency[i].len != XL_HASH_BYTES) {
                r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                               "hash %zu of the linker's consistency proof is not 32 bytes", i);
                goto out;
            }
            memcpy(proof.hash[i], ac->consistency[i].data, XL_HASH_BYTES);
        }
        proof.n = ac->n_consistency;
        if (xl_merkle_verify_consistency(L->size, f->cp.size, L->root, f->cp.root, &proof, msg,
                                         sizeof msg) != 0) {
            r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                           "the linker's checkpoint of size %llu is not consistent with the one "
                           "of size %llu seen before (checkpoint %zu of %s): the log was "
                           "rewritten or shown two ways (%s)",
                           (unsigned long long)f->cp.size, (unsigned long long)L->size, L->number,
                           f->cps, msg);
            goto out;
        }
    }
    f->note = malloc(ac->note.len);
    if (f->note == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(f->note, ac->note.data, ac->note.len);
    f->notelen = ac->note.len;
out:
    xl_wire_free(&rep, NULL);
    return r;
}

/* ---- the copy ------------------------------------------------------------------------- */

/* Entries in the local copy (its lines), without checking them: the whole
 * copy is checked once the new entries are on it. A copy whose last line has
 * no end is refused: entries appended to it would merge into that line. */
static int
s_local_size(struct s_fetch *f, uint64_t *n, char *err, size_t errlen)
{
    char *buf = NULL;
    ssize_t got;
    char lastc = '\n';
    int fd, r = 0;

    *n = 0;
    fd = open(f->log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0
                               : xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot read: %s", f->log,
                                            strerror(errno));
    buf = malloc(S_COPY_BUF);
    if (buf == NULL) {
        close(fd);
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    }
    while ((got = read(fd, buf, S_COPY_BUF)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot read: %s", f->log, strerror(errno));
            break;
        }
        for (char *p = buf, *e = buf + got; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
            (*n)++;
        lastc = buf[got - 1];
    }
    if (r == 0 && lastc != '\n')
        r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                       "%s: the last entry of the copy has no end: the copy was damaged (move it "
                       "aside and fetch the whole log again)",
                       f->log);
    free(buf);
    close(fd);
    return r;
}

static int
s_write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int
s_tmp_fail(struct s_fetch *f, char *err, size_t errlen)
{
    return xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                      "%s: cannot write: %s", f->tmp, strerror(errno));
}

/* The new copy: the local copy's bytes, to which the new entries go. */
static int
s_tmp_start(struct s_fetch *f, int *fdp, char *err, size_t errlen)
{
    char *buf;
    ssize_t got;
    int in, fd, r = 0;

    (void)unlink(f->tmp); /* left by a run that was stopped: the store is ours now */
    fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create: %s", f->tmp, strerror(errno));
    f->tmp_made = 1;
    *fdp = fd;
    in = open(f->log, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? 0
                               : xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot read: %s", f->log,
                                            strerror(errno));
    buf = malloc(S_COPY_BUF);
    if (buf == NULL)
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    while (r == 0 && (got = read(in, buf, S_COPY_BUF)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot read: %s", f->log, strerror(errno));
        else if (s_write_all(fd, buf, (size_t)got) != 0)
            r = s_tmp_fail(f, err, errlen);
    }
    free(buf);
    close(in);
    return r;
}

/* Pulls entries from..cp.size onto the new copy, page by page. */
static int
s_pull(struct s_fetch *f, int fd, uint64_t from, char *err, size_t errlen)
{
    xl_envelope env = CROSSLINK__ENVELOPE__INIT, *rep = NULL;
    Crosslink__AuditQuery q = CROSSLINK__AUDIT_QUERY__INIT;
    double last = xl_monotonic();
    uint64_t first = from;
    int r = 0;

    env.body_case = CROSSLINK__ENVELOPE__BODY_AUDIT_QUERY;
    env.audit_query = &q;
    while (r == 0 && from <= f->cp.size) {
        const Crosslink__AuditEntries *ae;
        q.from_seq = from;
        q.to_seq = f->cp.size;
        q.max_entries = S_PAGE_ENTRIES;
        r = xl_client_call_retry(&f->c, &env, f->cfg.timeout, f->deadline, &rep, err, errlen);
        if (r != 0)
            break;
        if (rep->body_case != CROSSLINK__ENVELOPE__BODY_AUDIT_ENTRIES) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "the linker answered with %s, not entries",
                           xl_wire_body_name(rep));
            break;
        }
        ae = rep->audit_entries;
        if (ae->size < f->cp.size) {
            r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                           "the linker's log holds %llu entries, fewer than the %llu its "
                           "checkpoint signed a moment ago: the log was truncated or rolled back",
                           (unsigned long long)ae->size, (unsigned long long)f->cp.size);
            break;
        }
        if (ae->next_seq <= from || ae->next_seq > f->cp.size + 1 ||
            ae->n_entries != ae->next_seq - from) {
            r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                           "the linker's page from entry %llu is not the entries asked for (%zu "
                           "entries, next %llu)",
                           (unsigned long long)from, ae->n_entries,
                           (unsigned long long)ae->next_seq);
            break;
        }
        for (size_t i = 0; i < ae->n_entries && r == 0; i++) {
            const char *e = ae->entries[i];
            size_t len = strlen(e);
            /* A newline inside would make two lines of one entry. */
            if (len == 0 || len > XL_AUDIT_LINE_MAX || memchr(e, '\n', len) != NULL)
                r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                               "entry %llu from the linker is not one line of at most %u bytes",
                               (unsigned long long)(from + i), XL_AUDIT_LINE_MAX);
            else if (s_write_all(fd, e, len) != 0 || s_write_all(fd, "\n", 1) != 0)
                r = s_tmp_fail(f, err, errlen);
        }
        from = ae->next_seq;
        xl_wire_free(&rep, NULL);
        if (r == 0 && xl_monotonic() - last > 2 && from <= f->cp.size) {
            last = xl_monotonic();
            xl_info("%llu of %llu new entries received", (unsigned long long)(from - first),
                    (unsigned long long)(f->cp.size - first + 1));
        }
    }
    xl_wire_free(&rep, NULL);
    if (r == 0 && fsync(fd) != 0)
        r = s_tmp_fail(f, err, errlen);
    return r;
}

/* Reads the copy at path from its first entry and holds it to every kept
 * checkpoint and the linker's new one. */
static int
s_verify(struct s_fetch *f, const char *path, uint64_t n_local, char *err, size_t errlen)
{
    struct xl_audit_claim *claims = calloc(f->nkept + 1, sizeof *claims);
    struct xl_audit_verified v;
    char msg[XL_ERRBUF];
    int r;

    if (claims == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f->nkept; i++) {
        snprintf(claims[i].name, sizeof claims[i].name, "checkpoint %zu of the store's " S_CPS_NAME,
                 f->kept[i].number);
        claims[i].has_cp = 1;
        claims[i].cp.size = f->kept[i].size;
        memcpy(claims[i].cp.root, f->kept[i].root, XL_HASH_BYTES);
    }
    snprintf(claims[f->nkept].name, sizeof claims[f->nkept].name, "the linker's latest checkpoint");
    claims[f->nkept].has_cp = 1;
    claims[f->nkept].cp = f->cp;
    r = xl_audit_verify(path, claims, f->nkept + 1, NULL, NULL, &v, msg, sizeof msg);
    if (r == 0 && v.entries != f->cp.size)
        r = xl_err_set(msg, sizeof msg, XL_ERR_MISMATCH,
                       "%s holds %llu entries, the linker's checkpoint %llu", path,
                       (unsigned long long)v.entries, (unsigned long long)f->cp.size);
    if (r != 0 && n_local > 0 && n_local < f->cp.size)
        xl_err_set(err, errlen, r,
                   "%s (entries 1-%llu are the copy kept before, %llu-%llu new "
                   "from the linker)",
                   msg, (unsigned long long)n_local, (unsigned long long)n_local + 1,
                   (unsigned long long)f->cp.size);
    else if (r != 0)
        xl_err_set(err, errlen, r, "%s", msg);
    free(claims);
    return r;
}

/* Appends the linker's checkpoint to the kept ones (after any incomplete note
 * left by a stopped run) and syncs it. */
static int
s_keep_checkpoint(struct s_fetch *f, char *err, size_t errlen)
{
    int fd = open(f->cps, O_WRONLY | O_CREAT | O_CLOEXEC, 0600), r = 0;

    if (fd < 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open: %s", f->cps, strerror(errno));
    if ((f->cps_torn && ftruncate(fd, (off_t)f->cps_complete) != 0) || lseek(fd, 0, SEEK_END) < 0 ||
        s_write_all(fd, f->note, f->notelen) != 0 || fsync(fd) != 0)
        r = xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                       "%s: cannot write: %s", f->cps, strerror(errno));
    if (close(fd) != 0 && r == 0)
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot write: %s", f->cps, strerror(errno));
    return r == 0 ? s_sync_dir(f, err, errlen) : r;
}

/* ---- the command --------------------------------------------------------------------------- */

static int
s_fetch(struct s_fetch *f, char *err, size_t errlen)
{
    uint64_t n_local = 0;
    char root[2 * XL_HASH_BYTES + 1];
    int r, fd = -1;

    r = s_keys_load(f, err, errlen);
    if (r == 0)
        r = s_store_open(f, err, errlen);
    if (r == 0)
        r = s_kept_load(f, err, errlen);
    if (r == 0)
        r = s_local_size(f, &n_local, err, errlen);
    if (r != 0)
        return r;
    f->c.zctx = zmq_ctx_new();
    if (f->c.zctx == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    f->c.endpoint = f->cfg.endpoint;
    f->c.server_pk = f->server->pub;
    f->c.pk = f->me->pub;
    f->c.sk = f->me->secret;
    f->c.role = "auditor";
    f->c.timeout_ms = (int)(f->cfg.timeout * 1000);
    f->c.timeout = f->cfg.timeout;
    f->c.retry_for = f->retry_for;
    f->c.reply_max = S_REPLY_MAX;
    f->deadline = xl_monotonic() + f->retry_for;

    r = s_checkpoint(f, err, errlen);
    if (r == 0 && n_local > f->cp.size)
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "%s holds %llu entries, more than the linker's latest checkpoint covers "
                       "(%llu): the log was truncated or rolled back, or the copy is of another "
                       "log",
                       f->log, (unsigned long long)n_local, (unsigned long long)f->cp.size);
    if (r != 0)
        return r;
    if (n_local < f->cp.size) {
        r = s_tmp_start(f, &fd, err, errlen);
        if (r == 0)
            r = s_pull(f, fd, n_local + 1, err, errlen);
        if (fd >= 0 && close(fd) != 0 && r == 0)
            r = s_tmp_fail(f, err, errlen);
        if (r == 0)
            r = s_verify(f, f->tmp, n_local, err, errlen);
        if (r == 0 && rename(f->tmp, f->log) != 0)
            r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot rename to %s: %s", f->tmp, f->log,
                           strerror(errno));
        if (r != 0)
            return r;
        f->tmp_made = 0;
        f->written = 1;
        r = s_sync_dir(f, err, errlen);
    } else {
        r = s_verify(f, f->log, n_local, err, errlen);
    }
    if (r == 0 && s_kept_of_size(f, f->cp.size) == NULL)
        r = s_keep_checkpoint(f, err, errlen);
    if (r != 0)
        return r;
    xl_hex(f->cp.root, XL_HASH_BYTES, root);
    printf("%llu new entries, %llu in %s, verified: the linker's checkpoint of size %llu (root "
           "%.16s…) and the %zu kept before\n",
           (unsigned long long)(f->cp.size - n_local), (unsigned long long)f->cp.size, f->log,
           (unsigned long long)f->cp.size, root, f->nkept);
    return 0;
}

int
audit_cmd_fetch(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"retry-for", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct s_fetch f;
    const char *conf = NULL;
    char err[XL_ERRBUF], *end;
    int c, r;

    memset(&f, 0, sizeof f);
    f.dirfd = -1;
    f.retry_for = 600;
    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': return xl_cli_help();
        case 'c': conf = optarg; break;
        case 'r':
            f.retry_for = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(f.retry_for >= 0 && f.retry_for <= 86400))
                return xl_cli_usage_error("--retry-for takes seconds, 0 to 86400");
            break;
        default: return xl_cli_option_error(c, argv);
        }
    }
    if (conf == NULL)
        return xl_cli_usage_error("-c audit.conf is required");
    if (optind != argc)
        return xl_cli_usage_error("fetch takes no arguments besides its options");
    r = audit_config_load(conf, &f.cfg, err, sizeof err);
    if (r == 0)
        r = s_fetch(&f, err, sizeof err);
    if (f.tmp_made)
        (void)unlink(f.tmp);
    xl_client_close(&f.c);
    if (f.c.zctx != NULL)
        zmq_ctx_term(f.c.zctx); /* f.c.zctx stays set: the linker was asked */
    if (f.dirfd >= 0)
        close(f.dirfd); /* and the lock with it */
    xl_keyfile_destroy(&f.me);
    xl_keyfile_destroy(&f.server);
    xl_keyfile_destroy(&f.sign);
    free(f.kept);
    free(f.note);
    if (r != 0) {
        /* Once the linker was asked, nothing is written unless all of it verifies. */
        xl_cli_fail("%s%s", err, f.c.zctx != NULL && !f.written ? ": nothing written" : "");
        return r == XL_ERR_UNAVAILABLE ? 75 : 1;
    }
    return 0;
}
