#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include <sodium.h>

#include "xl/auditlog.h"
#include "xl/err.h"

#define S_HASH_HEAD "\"hash\":\""
/* `,"hash":"<64 hex>"}`: what follows the canonical bytes' last member. */
#define S_SUFFIX_LEN (1 + sizeof S_HASH_HEAD - 1 + 2 * XL_HASH_BYTES + 2)

static const char s_sig_prefix[] = "\xe2\x80\x94 ";

void
xl_audit_chain_hash(const uint8_t prev[XL_HASH_BYTES], const char *canon, size_t len,
                    uint8_t out[XL_HASH_BYTES])
{
    crypto_hash_sha256_state st;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, XL_HASH_BYTES);
    crypto_hash_sha256_update(&st, (const uint8_t *)canon, len);
    crypto_hash_sha256_final(&st, out);
}

int
xl_audit_entry_check(const char *line, size_t len, struct xl_audit_entry *e, cJSON **obj, char *err,
                     size_t errlen)
{
    uint8_t want[XL_HASH_BYTES];
    char hex[2 * XL_HASH_BYTES + 1], *canon = NULL;
    const cJSON *jseq, *jprev, *jev;
    cJSON *o = NULL;
    size_t clen;
    double d;
    int r = XL_ERR_FORMAT;

    memset(e, 0, sizeof *e);
    if (obj != NULL)
        *obj = NULL;
    if (len < S_SUFFIX_LEN + 2 || line[0] != '{' || line[len - 1] != '}' || line[len - 2] != '"' ||
        line[len - S_SUFFIX_LEN] != ',' ||
        memcmp(line + len - S_SUFFIX_LEN + 1, S_HASH_HEAD, sizeof S_HASH_HEAD - 1) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "the entry does not end with its hash member");
    memcpy(hex, line + len - 2 - 2 * XL_HASH_BYTES, 2 * XL_HASH_BYTES);
    hex[2 * XL_HASH_BYTES] = '\0';
    if (xl_unhex(hex, want, XL_HASH_BYTES) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "the entry's hash member is not 64 hex digits");
    /* The canonical bytes: the line without the hash member, closed again. */
    clen = len - S_SUFFIX_LEN + 1;
    canon = malloc(clen + 1);
    if (canon == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    memcpy(canon, line, clen - 1);
    canon[clen - 1] = '}';
    canon[clen] = '\0';
    o = cJSON_ParseWithLength(canon, clen);
    if (o == NULL || !cJSON_IsObject(o)) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "the entry is not a JSON object");
        goto out;
    }
    jseq = cJSON_GetObjectItemCaseSensitive(o, "seq");
    jprev = cJSON_GetObjectItemCaseSensitive(o, "prev");
    jev = cJSON_GetObjectItemCaseSensitive(o, "event");
    if (!cJSON_IsNumber(jseq)) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "the entry has no seq member");
        goto out;
    }
    if (!cJSON_IsString(jev)) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "the entry has no event member");
        goto out;
    }
    if (!cJSON_IsString(jprev)) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "the entry has no prev member");
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(o, "hash") != NULL) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "the entry has a second hash member");
        goto out;
    }
    d = jseq->valuedouble;
    if (!(d >= 1 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "the entry's seq is not a positive integer");
        goto out;
    }
    if (strlen(jprev->valuestring) != 2 * XL_HASH_BYTES ||
        xl_unhex(jprev->valuestring, e->prev, XL_HASH_BYTES) != 0) {
        memset(e->prev, 0, sizeof e->prev);
        xl_err_set(err, errlen, XL_ERR_FORMAT, "the entry's prev member is not 64 hex digits");
        goto out;
    }
    xl_audit_chain_hash(e->prev, canon, clen, e->hash);
    if (!xl_equal(e->hash, want, XL_HASH_BYTES)) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO,
                       "its hash member does not match its content (the entry was altered)");
        goto out;
    }
    e->seq = (uint64_t)d;
    r = 0;
out:
    if (r != 0)
        memset(e, 0, sizeof *e);
    if (r == 0 && obj != NULL) {
        *obj = o;
        o = NULL;
    }
    cJSON_Delete(o);
    free(canon);
    return r;
}

int
xl_audit_line(const uint8_t prev[XL_HASH_BYTES], const char *canon, size_t len, char **line,
              size_t *linelen, uint8_t hash[XL_HASH_BYTES])
{
    char hex[2 * XL_HASH_BYTES + 1];
    char *out;

    *line = NULL;
    *linelen = 0;
    if (len < 2 || canon[0] != '{' || canon[len - 1] != '}')
        return XL_ERR_INVALID;
    if (len - 1 + S_SUFFIX_LEN > XL_AUDIT_LINE_MAX)
        return XL_ERR_TOOBIG;
    out = malloc(len - 1 + S_SUFFIX_LEN + 2);
    if (out == NULL)
        return XL_ERR_NOMEM;
    xl_audit_chain_hash(prev, canon, len, hash);
    xl_hex(hash, XL_HASH_BYTES, hex);
    memcpy(out, canon, len - 1);
    /* An empty object ("{}") takes no comma before the hash member: the writer
     * never makes one (every entry has seq), and the checker refuses it. */
    *linelen = (size_t)sprintf(out + len - 1, "," S_HASH_HEAD "%s\"}\n", hex) + len - 1;
    *line = out;
    return 0;
}

void
xl_audit_origin(const uint8_t pk[XL_SIGN_PK_BYTES], char out[XL_AUDIT_ORIGIN_MAX])
{
    uint8_t h[XL_HASH_BYTES];
    char hex[2 * XL_HASH_BYTES + 1];

    xl_sha256(pk, XL_SIGN_PK_BYTES, h);
    xl_hex(h, XL_HASH_BYTES, hex);
    snprintf(out, XL_AUDIT_ORIGIN_MAX, "%s%.16s", XL_AUDIT_ORIGIN_PREFIX, hex);
}

int
xl_audit_vkey(const uint8_t pk[XL_SIGN_PK_BYTES], struct xl_note_vkey *vk)
{
    char origin[XL_AUDIT_ORIGIN_MAX];

    xl_audit_origin(pk, origin);
    return xl_note_vkey_init(vk, origin, pk, NULL, 0);
}

int
xl_audit_checkpoint_open(const char *note, size_t len, const uint8_t pk[XL_SIGN_PK_BYTES],
                         struct xl_checkpoint *cp, char *err, size_t errlen)
{
    struct xl_note_vkey vk;
    char msg[XL_ERRBUF];
    int r;

    memset(cp, 0, sizeof *cp);
    r = xl_audit_vkey(pk, &vk);
    if (r != 0)
        return xl_err_set(err, errlen, r, "cannot make the linker's checkpoint key");
    r = xl_checkpoint_open(note, len, &vk, cp, msg, sizeof msg);
    if (r == XL_ERR_NOTFOUND)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "the checkpoint is not signed by the linker's key (%s): %s", vk.name,
                          msg);
    if (r != 0)
        return xl_err_set(err, errlen, r, "%s", msg);
    return 0;
}

/* ---- reader ----------------------------------------------------------------------------- */

int
xl_audit_reader_open(struct xl_audit_reader *r, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    xl_merkle_builder_init(&r->tree);
    if (strlen(path) >= sizeof r->path)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", path);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->f = fopen(path, "re");
    if (r->f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot read: %s", path, strerror(errno));
    return 0;
}

int
xl_audit_reader_next(struct xl_audit_reader *r, const char **line, size_t *len,
                     uint8_t leaf[XL_HASH_BYTES], char *err, size_t errlen)
{
    struct xl_audit_entry e;
    uint8_t lh[XL_HASH_BYTES];
    char msg[XL_ERRBUF];
    unsigned long long no = (unsigned long long)r->n + 1, at = (unsigned long long)r->offset;
    ssize_t n;

    *line = NULL;
    *len = 0;
    errno = 0;
    n = getline(&r->line, &r->cap, r->f);
    if (n <= 0) {
        if (ferror(r->f))
            return xl_err_set(err, errlen, XL_ERR_IO, "%s: read failed at entry %llu: %s", r->path,
                              no, strerror(errno));
        return 0;
    }
    if (r->line[n - 1] != '\n')
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: entry %llu (at byte %llu) is incomplete: the log was cut short "
                          "mid-line or altered",
                          r->path, no, at);
    r->line[--n] = '\0';
    if ((size_t)n > XL_AUDIT_LINE_MAX)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: entry %llu (at byte %llu) is longer than %u bytes", r->path, no, at,
                          XL_AUDIT_LINE_MAX);
    if (xl_audit_entry_check(r->line, (size_t)n, &e, NULL, msg, sizeof msg) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: entry %llu (at byte %llu): %s", r->path,
                          no, at, msg);
    if (e.seq != r->n + 1)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: entry %llu (at byte %llu) has seq %llu: entries were removed, "
                          "added or reordered there",
                          r->path, no, at, (unsigned long long)e.seq);
    if (!xl_equal(e.prev, r->last, XL_HASH_BYTES))
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: entry %llu (at byte %llu): its prev member is not the hash of "
                          "entry %llu: the chain is broken there",
                          r->path, no, at, no - 1);
    xl_merkle_leaf_hash(r->line, (size_t)n, lh);
    if (xl_merkle_builder_append(&r->tree, lh) != 0)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG, "%s: too many entries", r->path);
    memcpy(r->last, e.hash, XL_HASH_BYTES);
    r->n++;
    r->offset += (uint64_t)n + 1;
    if (leaf != NULL)
        memcpy(leaf, lh, XL_HASH_BYTES);
    *line = r->line;
    *len = (size_t)n;
    return 1;
}

void
xl_audit_reader_close(struct xl_audit_reader *r)
{
    if (r->f != NULL)
        fclose(r->f);
    free(r->line);
    r->f = NULL;
    r->line = NULL;
    r->cap = 0;
}

/* ---- files of checkpoints ----------------------------------------------------------------- */

static int
s_is_sig(const char *p, size_t n)
{
    return n >= sizeof s_sig_prefix - 1 && memcmp(p, s_sig_prefix, sizeof s_sig_prefix - 1) == 0;
}

int
xl_checkpoints_each(const char *path,
                    int (*fn)(void *ctx, const char *note, size_t len, char *err, size_t errlen),
                    void *ctx, size_t *complete, char *err, size_t errlen)
{
    /* Where the current note started and what part of it the scan is in:
     * 0 text lines, 1 the blank line was seen, 2 signature lines. */
    size_t start = 0, pos = 0, size = 0, cap = 0;
    char *buf = NULL;
    int state = 0, r = 0;
    FILE *f;

    if (complete != NULL)
        *complete = 0;
    f = fopen(path, "re");
    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot read: %s", path, strerror(errno));
    (void)flock(fileno(f), LOCK_SH);
    for (;;) {
        size_t got;
        if (size == cap) {
            char *nb;
            cap = cap ? 2 * cap : 64 * 1024;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
                goto out;
            }
            buf = nb;
        }
        got = fread(buf + size, 1, cap - size, f);
        size += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: read failed", path);
        goto out;
    }
    while (pos < size) {
        char *nl = memchr(buf + pos, '\n', size - pos);
        size_t n;
        if (nl == NULL)
            break;
        n = (size_t)(nl - (buf + pos));
        if (state == 2 && !s_is_sig(buf + pos, n)) {
            /* A new note begins: hand over the one before. */
            r = fn(ctx, buf + start, pos - start, err, errlen);
            if (r != 0)
                goto out;
            if (complete != NULL)
                *complete = pos;
            start = pos;
            state = 0;
        }
        if (state == 0 && n == 0)
            state = 1;
        else if (state == 1)
            state = s_is_sig(buf + pos, n) ? 2 : (n == 0 ? 1 : 0);
        pos += n + 1;
    }
    if (state == 2 && pos == size) {
        r = fn(ctx, buf + start, pos - start, err, errlen);
        if (r == 0 && complete != NULL)
            *complete = pos;
    } else if (start < size) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                       "%s: the last checkpoint (at byte %zu) is incomplete", path, start);
    }
out:
    free(buf);
    fclose(f);
    return r;
}
