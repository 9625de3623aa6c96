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
#include "xl/err.h"
#include "xl/log.h"

#define S_HASH_SUFFIX_HEAD ",\"hash\":\""
#define S_HASH_SUFFIX_LEN  (sizeof S_HASH_SUFFIX_HEAD - 1 + 2 * XL_HASH_BYTES + 2)

struct linker_audit {
    pthread_mutex_t lock;
    int fd;
    char path[4096];
    off_t size;        /* file size after our last read or write */
    uint64_t next_seq; /* seq of the next entry */
    uint8_t prev[XL_HASH_BYTES];
    int failed;
};

void
linker_iso_time(time_t t, char out[21])
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 21, "1970-01-01T00:00:00Z");
}

int
linker_audit_entry_check(const char *line, size_t len, uint64_t *seq, uint8_t prev[XL_HASH_BYTES],
                         uint8_t hash[XL_HASH_BYTES], char *err, size_t errlen)
{
    const size_t head = sizeof S_HASH_SUFFIX_HEAD - 1;
    uint8_t want[XL_HASH_BYTES], *buf = NULL;
    char hex[2 * XL_HASH_BYTES + 1];
    const cJSON *jseq, *jprev, *jev;
    cJSON *obj = NULL;
    size_t clen;
    double d;
    int r = XL_ERR_FORMAT;

    *seq = 0;
    if (len < S_HASH_SUFFIX_LEN + 2 || line[0] != '{' || line[len - 1] != '}' ||
        line[len - 2] != '"')
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "entry does not end with its hash member");
    memcpy(hex, line + len - S_HASH_SUFFIX_LEN + head, 2 * XL_HASH_BYTES);
    hex[2 * XL_HASH_BYTES] = '\0';
    if (memcmp(line + len - S_HASH_SUFFIX_LEN, S_HASH_SUFFIX_HEAD, head) != 0 ||
        xl_unhex(hex, want, XL_HASH_BYTES) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "entry does not end with its hash member");
    /* The canonical bytes: the line without the hash member, closed again. */
    clen = len - S_HASH_SUFFIX_LEN + 1;
    buf = malloc(XL_HASH_BYTES + clen);
    if (buf == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    memcpy(buf + XL_HASH_BYTES, line, clen - 1);
    buf[XL_HASH_BYTES + clen - 1] = '}';
    obj = cJSON_ParseWithLength((const char *)buf + XL_HASH_BYTES, clen);
    if (obj == NULL || !cJSON_IsObject(obj)) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "entry is not a JSON object");
        goto out;
    }
    jseq = cJSON_GetObjectItemCaseSensitive(obj, "seq");
    jprev = cJSON_GetObjectItemCaseSensitive(obj, "prev");
    jev = cJSON_GetObjectItemCaseSensitive(obj, "event");
    if (!cJSON_IsNumber(jseq) || !cJSON_IsString(jprev) || !cJSON_IsString(jev) ||
        cJSON_GetObjectItemCaseSensitive(obj, "hash") != NULL) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "entry lacks seq, event or prev");
        goto out;
    }
    d = jseq->valuedouble;
    if (!(d >= 1 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "entry has an invalid seq");
        goto out;
    }
    if (strlen(jprev->valuestring) != 2 * XL_HASH_BYTES ||
        xl_unhex(jprev->valuestring, buf, XL_HASH_BYTES) != 0) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "entry has an invalid prev hash");
        goto out;
    }
    memcpy(prev, buf, XL_HASH_BYTES);
    xl_sha256(buf, XL_HASH_BYTES + clen, hash);
    if (!xl_equal(hash, want, XL_HASH_BYTES)) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO,
                       "entry %llu: hash does not match its content (altered entry)",
                       (unsigned long long)d);
        goto out;
    }
    *seq = (uint64_t)d;
    r = 0;
out:
    cJSON_Delete(obj);
    free(buf);
    return r;
}

/* Reads the end of the log and sets next_seq and prev from its last entry,
 * after checking that entry and its link to the one before. Called with the
 * file locked. */
static int
s_refresh(struct linker_audit *a, char *err, size_t errlen)
{
    const size_t tailmax = 2 * (size_t)LINKER_AUDIT_LINE_MAX + 2;
    uint8_t prev[XL_HASH_BYTES], hash[XL_HASH_BYTES], pprev[XL_HASH_BYTES], phash[XL_HASH_BYTES];
    char msg[XL_ERRBUF];
    uint64_t seq, pseq;
    size_t want, start, end, pstart;
    struct stat st;
    char *buf = NULL;
    ssize_t n;
    int r;

    if (fstat(a->fd, &st) != 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", a->path, strerror(errno));
    if (st.st_size == 0) {
        a->size = 0;
        a->next_seq = 1;
        memset(a->prev, 0, sizeof a->prev);
        return 0;
    }
    want = (uintmax_t)st.st_size < tailmax ? (size_t)st.st_size : tailmax;
    buf = malloc(want);
    if (buf == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    n = pread(a->fd, buf, want, st.st_size - (off_t)want);
    if (n < 0 || (size_t)n != want) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot read the last entry: %s", a->path,
                       n < 0 ? strerror(errno) : "short read");
        goto out;
    }
    if (buf[want - 1] != '\n') {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                       "%s: the last entry is incomplete (no newline at the end, byte %lld): the "
                       "log was cut short or altered; inspect it, and truncate it after its last "
                       "complete line only if that line verifies",
                       a->path, (long long)st.st_size);
        goto out;
    }
    end = want - 1;
    start = end;
    while (start > 0 && buf[start - 1] != '\n')
        start--;
    if (start == 0 && want < (size_t)st.st_size) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: the last entry is longer than %u bytes",
                       a->path, LINKER_AUDIT_LINE_MAX);
        goto out;
    }
    r = linker_audit_entry_check(buf + start, end - start, &seq, prev, hash, msg, sizeof msg);
    if (r != 0) {
        r = xl_err_set(err, errlen, r == XL_ERR_NOMEM ? r : XL_ERR_FORMAT,
                       "%s: the last entry (at byte %lld) does not verify: %s", a->path,
                       (long long)(st.st_size - (off_t)(want - start)), msg);
        goto out;
    }
    if (start == 0) {
        /* The whole log is one entry: it must be the first. */
        static const uint8_t zero[XL_HASH_BYTES];
        if (seq != 1 || !xl_equal(prev, zero, XL_HASH_BYTES)) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: the only entry is seq %llu, not the first entry of a log "
                           "(earlier entries removed?)",
                           a->path, (unsigned long long)seq);
            goto out;
        }
    } else {
        pstart = start - 1;
        while (pstart > 0 && buf[pstart - 1] != '\n')
            pstart--;
        if (pstart == 0 && want < (size_t)st.st_size) {
            /* The entry before lies outside what was read; it was longer than
             * the limit, which this writer never produces. */
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: the entry before the last is longer than %u bytes", a->path,
                           LINKER_AUDIT_LINE_MAX);
            goto out;
        }
        r = linker_audit_entry_check(buf + pstart, start - 1 - pstart, &pseq, pprev, phash, msg,
                                     sizeof msg);
        if (r != 0) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: the entry before the last does not verify: %s", a->path, msg);
            goto out;
        }
        if (pseq + 1 != seq || !xl_equal(phash, prev, XL_HASH_BYTES)) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: the last entry (seq %llu) does not follow the one before it "
                           "(seq %llu): the chain is broken",
                           a->path, (unsigned long long)seq, (unsigned long long)pseq);
            goto out;
        }
    }
    a->size = st.st_size;
    a->next_seq = seq + 1;
    memcpy(a->prev, hash, XL_HASH_BYTES);
    r = 0;
out:
    free(buf);
    return r;
}

int
linker_audit_open(const char *path, struct linker_audit **out, char *err, size_t errlen)
{
    struct linker_audit *a;
    int r;

    *out = NULL;
    a = calloc(1, sizeof *a);
    if (a == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    if (strlen(path) >= sizeof a->path) {
        free(a);
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", path);
    }
    snprintf(a->path, sizeof a->path, "%s", path);
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
    if (flock(a->fd, LOCK_EX) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot lock: %s", path, strerror(errno));
        goto fail;
    }
    r = s_refresh(a, err, errlen);
    (void)flock(a->fd, LOCK_UN);
    if (r != 0)
        goto fail;
    *out = a;
    return 0;
fail:
    linker_audit_close(&a);
    return r;
}

int
linker_audit_verify(const char *path, uint64_t *entries, char *err, size_t errlen)
{
    static const uint8_t zero[XL_HASH_BYTES];
    uint8_t last[XL_HASH_BYTES], prev[XL_HASH_BYTES], hash[XL_HASH_BYTES];
    char msg[XL_ERRBUF], *line = NULL;
    size_t cap = 0;
    uint64_t seq, n = 0, offset = 0;
    ssize_t len;
    FILE *f;
    int r = 0;

    *entries = 0;
    f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT ? 0
                               : xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot read: %s", path,
                                            strerror(errno));
    /* Appends (an import's) hold the lock exclusively: no half-written line is read. */
    (void)flock(fileno(f), LOCK_SH);
    memcpy(last, zero, sizeof last);
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: entry %llu (at byte %llu) is incomplete: the log was cut short "
                           "mid-line or altered",
                           path, (unsigned long long)n + 1, (unsigned long long)offset);
            break;
        }
        if ((size_t)len - 1 > LINKER_AUDIT_LINE_MAX) {
            r = xl_err_set(
                err, errlen, XL_ERR_FORMAT, "%s: entry %llu (at byte %llu) is longer than %u bytes",
                path, (unsigned long long)n + 1, (unsigned long long)offset, LINKER_AUDIT_LINE_MAX);
            break;
        }
        if (linker_audit_entry_check(line, (size_t)len - 1, &seq, prev, hash, msg, sizeof msg) !=
            0) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: entry %llu (at byte %llu) does not verify: %s", path,
                           (unsigned long long)n + 1, (unsigned long long)offset, msg);
            break;
        }
        if (seq != n + 1) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: entry %llu (at byte %llu) has seq %llu: entries were removed, "
                           "added or reordered",
                           path, (unsigned long long)n + 1, (unsigned long long)offset,
                           (unsigned long long)seq);
            break;
        }
        if (!xl_equal(prev, last, XL_HASH_BYTES)) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: entry %llu (at byte %llu): its prev is not the hash of entry "
                           "%llu: the chain is broken there",
                           path, (unsigned long long)n + 1, (unsigned long long)offset,
                           (unsigned long long)n);
            break;
        }
        memcpy(last, hash, sizeof last);
        offset += (uint64_t)len;
        n++;
    }
    if (r == 0 && ferror(f))
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: read failed", path);
    free(line);
    fclose(f);
    if (r == 0)
        *entries = n;
    return r;
}

void
linker_audit_close(struct linker_audit **ap)
{
    struct linker_audit *a;

    if (ap == NULL || *ap == NULL)
        return;
    a = *ap;
    if (a->fd >= 0)
        close(a->fd);
    pthread_mutex_destroy(&a->lock);
    free(a);
    *ap = NULL;
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

/* Builds the line (with hash member and newline) for the entry that follows
 * a->prev. *line is malloc'd. */
static int
s_build(struct linker_audit *a, time_t when, const char *actor, const char *role, const char *event,
        cJSON **details, char **line, size_t *linelen, uint8_t hash[XL_HASH_BYTES])
{
    char tbuf[21], prevhex[2 * XL_HASH_BYTES + 1], hashhex[2 * XL_HASH_BYTES + 1];
    cJSON *root = cJSON_CreateObject();
    char *canon = NULL, *out = NULL;
    uint8_t *hbuf = NULL;
    size_t clen;
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
    clen = strlen(canon);
    if (clen + S_HASH_SUFFIX_LEN + 1 > LINKER_AUDIT_LINE_MAX) {
        r = XL_ERR_TOOBIG;
        goto out;
    }
    hbuf = malloc(XL_HASH_BYTES + clen);
    out = malloc(clen + S_HASH_SUFFIX_LEN + 2);
    if (hbuf == NULL || out == NULL)
        goto out;
    memcpy(hbuf, a->prev, XL_HASH_BYTES);
    memcpy(hbuf + XL_HASH_BYTES, canon, clen);
    xl_sha256(hbuf, XL_HASH_BYTES + clen, hash);
    xl_hex(hash, XL_HASH_BYTES, hashhex);
    memcpy(out, canon, clen - 1); /* without the closing brace */
    *linelen = (size_t)sprintf(out + clen - 1, S_HASH_SUFFIX_HEAD "%s\"}\n", hashhex) + clen - 1;
    *line = out;
    out = NULL;
    r = 0;
out:
    cJSON_Delete(root);
    cJSON_free(canon);
    free(hbuf);
    free(out);
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
 * until the linker is restarted and its open checks the tail. */
static void
s_take_back(struct linker_audit *a)
{
    if (ftruncate(a->fd, a->size) != 0 || fsync(a->fd) != 0)
        a->failed = 1;
}

int
linker_audit_append(struct linker_audit *a, time_t when, const char *actor, const char *role,
                    const char *event, cJSON *details, uint64_t *seq, char *err, size_t errlen)
{
    uint8_t hash[XL_HASH_BYTES];
    struct stat st;
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
    if (flock(a->fd, LOCK_EX) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot lock: %s", a->path, strerror(errno));
        goto out;
    }
    locked = 1;
    /* Another process (an import) may have appended since: continue its chain. */
    if (fstat(a->fd, &st) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", a->path, strerror(errno));
        goto out;
    }
    if (st.st_size != a->size) {
        r = s_refresh(a, err, errlen);
        if (r != 0)
            goto out;
    }
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
    a->size += (off_t)linelen;
    if (seq != NULL)
        *seq = a->next_seq;
    a->next_seq++;
    memcpy(a->prev, hash, XL_HASH_BYTES);
    r = 0;
out:
    if (locked)
        (void)flock(a->fd, LOCK_UN);
    pthread_mutex_unlock(&a->lock);
    cJSON_Delete(details);
    free(line);
    return r;
}

void
linker_audit_note(struct linker_audit *a, const char *actor, const char *role, const char *event,
                  cJSON *details)
{
    char err[XL_ERRBUF];

    if (linker_audit_append(a, 0, actor, role, event, details, NULL, err, sizeof err) != 0)
        xl_error("audit: %s", err);
}
