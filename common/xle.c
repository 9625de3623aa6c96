#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "xl/err.h"
#include "xl/payload.h"
#include "xl/xle.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
_Static_assert(sizeof(SHA256_CTX) <= sizeof(struct xl_content_hash), "hash state too small");

void
xl_content_hash_init(struct xl_content_hash *h, const uint8_t *payload_key, size_t keylen)
{
    SHA256_Init((SHA256_CTX *)h->state);
    if (keylen > 0)
        xl_content_hash_add(h, payload_key, keylen);
}

void
xl_content_hash_add(struct xl_content_hash *h, const uint8_t *rec, size_t len)
{
    uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};

    SHA256_Update((SHA256_CTX *)h->state, be, 4);
    SHA256_Update((SHA256_CTX *)h->state, rec, len);
}

void
xl_content_hash_add_stored(struct xl_content_hash *h, const uint8_t *data, size_t len)
{
    SHA256_Update((SHA256_CTX *)h->state, data, len);
}

void
xl_content_hash_final(struct xl_content_hash *h, uint8_t out[XL_HASH_BYTES])
{
    SHA256_Final(out, (SHA256_CTX *)h->state);
}
#pragma GCC diagnostic pop

/* The stdio buffer of a writer or a reader: a system call per MiB, not per
 * 4 KiB (a few records). Given to setvbuf, which ignores a size without a
 * buffer. */
#define S_IO_BUFFER (1u << 20)

/* The buffer given to f, freed after f is closed; NULL leaves stdio's own. */
static char *
s_io_buffer(FILE *f)
{
    char *b = malloc(S_IO_BUFFER);

    if (b != NULL)
        (void)setvbuf(f, b, _IOFBF, S_IO_BUFFER);
    return b;
}

struct xl_xle_writer {
    FILE *f;
    char *iobuf; /* the stream's buffer, freed after it is closed */
    char path[4096];
    char tmp[4200];
    Crosslink__XleHeader hdr; /* shallow copy; strings point at the caller's */
    uint64_t count;
    struct xl_content_hash hash;
};

static int
s_put_msg(FILE *f, const uint8_t *buf, size_t len)
{
    uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};

    return fwrite(be, 1, 4, f) == 4 && fwrite(buf, 1, len, f) == len ? 0 : -1;
}

static int
s_put_header(struct xl_xle_writer *w)
{
    uint8_t buf[4096];
    size_t n = crosslink__xle_header__get_packed_size(&w->hdr);

    if (n > sizeof buf)
        return -1;
    crosslink__xle_header__pack(&w->hdr, buf);
    return s_put_msg(w->f, buf, n);
}

struct xl_xle_writer *
xl_xle_writer_open(const char *path, const Crosslink__XleHeader *hdr, char *err, size_t errlen)
{
    struct xl_xle_writer *w = calloc(1, sizeof *w);
    int fd;

    if (w == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (strlen(path) >= sizeof w->path) {
        free(w);
        xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", path);
        return NULL;
    }
    strcpy(w->path, path);
    snprintf(w->tmp, sizeof w->tmp, "%s.partial", path);
    if (access(path, F_OK) == 0) {
        free(w);
        xl_err_set(err, errlen, XL_ERR_EXISTS, "%s: exists (refusing to overwrite)", path);
        return NULL;
    }
    (void)unlink(w->tmp); /* a leftover of an interrupted run */
    fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0 || (w->f = fdopen(fd, "w")) == NULL) {
        xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create: %s", w->tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(w);
        return NULL;
    }
    w->iobuf = s_io_buffer(w->f);
    w->hdr = *hdr;
    w->hdr.version = XL_XLE_VERSION;
    /* A placeholder of the same encoded size as the final count: proto3 leaves
     * out a zero field, so the count is never zero here or at the end. */
    w->hdr.record_count = UINT64_MAX;
    xl_content_hash_init(&w->hash, hdr->payload_key.data, hdr->payload_key.len);
    if (fwrite(XL_XLE_MAGIC, 1, 4, w->f) != 4 || s_put_header(w) != 0) {
        xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", w->tmp, strerror(errno));
        xl_xle_writer_abort(&w);
        return NULL;
    }
    return w;
}

int
xl_xle_write_record(struct xl_xle_writer *w, const uint8_t *rec, size_t len, char *err,
                    size_t errlen)
{
    if (s_put_msg(w->f, rec, len) != 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", w->tmp, strerror(errno));
    xl_content_hash_add(&w->hash, rec, len);
    w->count++;
    return 0;
}

int
xl_xle_writer_finish(struct xl_xle_writer **wp, uint8_t hash[XL_HASH_BYTES], char *err,
                     size_t errlen)
{
    struct xl_xle_writer *w = *wp;
    Crosslink__XleTrailer t = CROSSLINK__XLE_TRAILER__INIT;
    uint8_t h[XL_HASH_BYTES], buf[128];
    size_t n;
    int r = XL_ERR_IO;

    if (w->count == 0) {
        r = xl_err_set(err, errlen, XL_ERR_INVALID, "%s: no records to write", w->path);
        xl_xle_writer_abort(wp);
        return r;
    }
    xl_content_hash_final(&w->hash, h);
    t.record_count = w->count;
    t.content_hash.data = h;
    t.content_hash.len = sizeof h;
    n = crosslink__xle_trailer__pack(&t, buf);
    if (s_put_msg(w->f, buf, n) != 0)
        goto fail;
    /* The header's count is fixed64, so rewriting it does not move anything. */
    w->hdr.record_count = w->count;
    if (fflush(w->f) != 0 || fseek(w->f, 4, SEEK_SET) != 0 || s_put_header(w) != 0 ||
        fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)
        goto fail;
    if (fclose(w->f) != 0) {
        w->f = NULL;
        goto fail;
    }
    w->f = NULL;
    if (link(w->tmp, w->path) != 0) {
        r = xl_err_set(err, errlen, errno == EEXIST ? XL_ERR_EXISTS : XL_ERR_IO,
                       "%s: cannot move into place: %s", w->path, strerror(errno));
        xl_xle_writer_abort(wp);
        return r;
    }
    (void)unlink(w->tmp);
    if (hash != NULL)
        memcpy(hash, h, sizeof h);
    free(w->iobuf);
    free(w);
    *wp = NULL;
    return 0;
fail:
    r = xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", w->tmp, strerror(errno));
    xl_xle_writer_abort(wp);
    return r;
}

void
xl_xle_writer_abort(struct xl_xle_writer **wp)
{
    if (wp == NULL || *wp == NULL)
        return;
    if ((*wp)->f != NULL)
        fclose((*wp)->f);
    free((*wp)->iobuf);
    (void)unlink((*wp)->tmp);
    free(*wp);
    *wp = NULL;
}

struct xl_xle_reader {
    FILE *f;
    char *iobuf; /* the stream's buffer, freed after it is closed */
    char path[4096];
    Crosslink__XleHeader *hdr;
    uint8_t *buf;
    size_t cap;
    uint64_t count;
    struct xl_content_hash hash;
    uint8_t trailer_hash[XL_HASH_BYTES];
    int done;
};

/* Reads one length-prefixed message: 1 read, 0 clean end of file, <0 error. */
static int
s_get_msg(struct xl_xle_reader *r, size_t *len, char *err, size_t errlen)
{
    uint8_t be[4];
    size_t n = fread(be, 1, 4, r->f), want;

    if (n == 0 && feof(r->f))
        return 0;
    if (n != 4)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: truncated file", r->path);
    want = (size_t)be[0] << 24 | (size_t)be[1] << 16 | (size_t)be[2] << 8 | be[3];
    if (want > XL_XLE_MAX_MESSAGE)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG, "%s: message of %zu bytes is over the limit",
                          r->path, want);
    if (want > r->cap) {
        uint8_t *p = realloc(r->buf, want);
        if (p == NULL)
            return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        r->buf = p;
        r->cap = want;
    }
    if (fread(r->buf, 1, want, r->f) != want)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: truncated file", r->path);
    *len = want;
    return 1;
}

struct xl_xle_reader *
xl_xle_reader_open(const char *path, const Crosslink__XleHeader **hdr, char *err, size_t errlen)
{
    struct xl_xle_reader *r = calloc(1, sizeof *r);
    char magic[4];
    size_t len = 0;
    int rc;

    *hdr = NULL;
    if (r == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    r->f = fopen(path, "re");
    if (r->f == NULL) {
        xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                   "%s: cannot open: %s", path, strerror(errno));
        free(r);
        return NULL;
    }
    r->iobuf = s_io_buffer(r->f);
    if (fread(magic, 1, 4, r->f) != 4 || memcmp(magic, XL_XLE_MAGIC, 4) != 0) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: not a crosslink encoded file (.xle)", path);
        goto fail;
    }
    rc = s_get_msg(r, &len, err, errlen);
    if (rc <= 0) {
        if (rc == 0)
            xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: truncated file", path);
        goto fail;
    }
    r->hdr = crosslink__xle_header__unpack(NULL, len, r->buf);
    if (r->hdr == NULL) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: malformed header", path);
        goto fail;
    }
    if (r->hdr->version != XL_XLE_VERSION) {
        xl_err_set(err, errlen, XL_ERR_VERSION, "%s: file version %u (this program reads %d)", path,
                   r->hdr->version, XL_XLE_VERSION);
        goto fail;
    }
    if (r->hdr->payload_key.len != 0 && r->hdr->payload_key.len != XL_PAYLOAD_KEY) {
        xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: a payload key of %zu bytes (not %d)", path,
                   r->hdr->payload_key.len, XL_PAYLOAD_KEY);
        goto fail;
    }
    xl_content_hash_init(&r->hash, r->hdr->payload_key.data, r->hdr->payload_key.len);
    *hdr = r->hdr;
    return r;
fail:
    xl_xle_reader_close(&r);
    return NULL;
}

int
xl_xle_next(struct xl_xle_reader *r, const uint8_t **rec, size_t *len, char *err, size_t errlen)
{
    Crosslink__XleTrailer *t;
    uint8_t h[XL_HASH_BYTES];
    size_t n = 0;
    int rc, c = EOF;

    if (r->done)
        return 0;
    rc = s_get_msg(r, &n, err, errlen);
    if (rc == 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: truncated file (no trailer after %llu records)", r->path,
                          (unsigned long long)r->count);
    if (rc < 0)
        return rc;
    /* The trailer is the last message: one that ends exactly at end of file and
     * parses as a trailer with the count read so far. Only the message after
     * the header's count of records is looked past (one byte, put back): a
     * look at every record would cost a system call each. */
    if (r->count == r->hdr->record_count && (c = fgetc(r->f)) == EOF) {
        t = crosslink__xle_trailer__unpack(NULL, n, r->buf);
        if (t == NULL || t->content_hash.len != XL_HASH_BYTES)
            rc = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: malformed trailer", r->path);
        else if (t->record_count != r->count)
            rc = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                            "%s: trailer counts %llu records, file holds %llu", r->path,
                            (unsigned long long)t->record_count, (unsigned long long)r->count);
        else {
            xl_content_hash_final(&r->hash, h);
            if (memcmp(h, t->content_hash.data, XL_HASH_BYTES) != 0)
                rc = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                                "%s: content hash does not match the trailer (altered file)",
                                r->path);
            else {
                memcpy(r->trailer_hash, h, sizeof h);
                r->done = 1;
                rc = 0;
            }
        }
        if (t != NULL)
            crosslink__xle_trailer__free_unpacked(t, NULL);
        return rc;
    }
    if (c != EOF && ungetc(c, r->f) == EOF)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: read failed", r->path);
    if (r->count >= r->hdr->record_count)
        return xl_err_set(err, errlen, XL_ERR_MISMATCH, "%s: more records than the header's %llu",
                          r->path, (unsigned long long)r->hdr->record_count);
    xl_content_hash_add(&r->hash, r->buf, n);
    r->count++;
    *rec = r->buf;
    *len = n;
    return 1;
}

int
xl_stored_next(const uint8_t *data, size_t len, size_t *off, const uint8_t **rec, size_t *reclen)
{
    size_t at = *off, rl;

    if (at >= len)
        return 0;
    if (len - at < 4)
        return -1;
    rl = (size_t)data[at] << 24 | (size_t)data[at + 1] << 16 | (size_t)data[at + 2] << 8 |
         data[at + 3];
    if (rl > len - at - 4)
        return -1;
    *rec = data + at + 4;
    *reclen = rl;
    *off = at + 4 + rl;
    return 1;
}

int
xl_xle_next_chunk(struct xl_xle_reader *r, size_t n, uint8_t **buf, size_t *cap, size_t *len,
                  size_t *count, char *err, size_t errlen)
{
    const uint8_t *rec;
    size_t rl;
    int rc = 1;

    *len = 0;
    *count = 0;
    while (*count < n && (rc = xl_xle_next(r, &rec, &rl, err, errlen)) == 1) {
        uint8_t *p;
        if (*len + 4 + rl > *cap) {
            size_t ncap = (*len + 4 + rl) * 2;
            if ((p = realloc(*buf, ncap)) == NULL)
                return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
            *buf = p;
            *cap = ncap;
        }
        p = *buf + *len;
        p[0] = (uint8_t)(rl >> 24);
        p[1] = (uint8_t)(rl >> 16);
        p[2] = (uint8_t)(rl >> 8);
        p[3] = (uint8_t)rl;
        memcpy(p + 4, rec, rl);
        *len += 4 + rl;
        (*count)++;
    }
    if (rc < 0)
        return rc;
    return *count > 0 ? 1 : 0;
}

const uint8_t *
xl_xle_reader_hash(const struct xl_xle_reader *r)
{
    return r->trailer_hash;
}

uint64_t
xl_xle_reader_count(const struct xl_xle_reader *r)
{
    return r->count;
}

void
xl_xle_reader_close(struct xl_xle_reader **rp)
{
    struct xl_xle_reader *r;

    if (rp == NULL || *rp == NULL)
        return;
    r = *rp;
    if (r->f != NULL)
        fclose(r->f);
    free(r->iobuf);
    if (r->hdr != NULL)
        crosslink__xle_header__free_unpacked(r->hdr, NULL);
    free(r->buf);
    free(r);
    *rp = NULL;
}

int
xl_xle_read_trailer(const char *path, uint64_t *count, uint8_t hash[XL_HASH_BYTES], char *err,
                    size_t errlen)
{
    uint8_t tail[128];
    long size;
    size_t n;
    FILE *f = fopen(path, "re");

    *count = 0;
    memset(hash, 0, XL_HASH_BYTES);
    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 8) {
        fclose(f);
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: truncated file", path);
    }
    n = (size_t)size - 4 < sizeof tail ? (size_t)size - 4 : sizeof tail;
    if (fseek(f, size - (long)n, SEEK_SET) != 0 || fread(tail, 1, n, f) != n) {
        fclose(f);
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: read error", path);
    }
    fclose(f);
    /* The trailer is the last length-prefixed message: find the prefix whose
     * length reaches exactly to the end. */
    for (size_t off = 0; off + 4 <= n; off++) {
        size_t want = (size_t)tail[off] << 24 | (size_t)tail[off + 1] << 16 |
                      (size_t)tail[off + 2] << 8 | tail[off + 3];
        Crosslink__XleTrailer *t;
        if (want != n - off - 4)
            continue;
        t = crosslink__xle_trailer__unpack(NULL, want, tail + off + 4);
        if (t == NULL)
            continue;
        if (t->content_hash.len == XL_HASH_BYTES) {
            *count = t->record_count;
            memcpy(hash, t->content_hash.data, XL_HASH_BYTES);
            crosslink__xle_trailer__free_unpacked(t, NULL);
            return 0;
        }
        crosslink__xle_trailer__free_unpacked(t, NULL);
    }
    return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: no trailer (truncated file?)", path);
}
