#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl/buckets.h"
#include "xl/err.h"

/* A bucket's stdio buffer is at least BUFSIZ and at most this. */
#define S_BUFMAX (64u << 10)

int
xl_tmpfile(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                          "%s: cannot create a temporary file: %s", dir, strerror(errno));
    /* A filesystem without O_TMPFILE: a named file, unlinked at once. */
    snprintf(path, sizeof path, "%s/.crosslink-tmp-XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                          "%s: cannot create a temporary file: %s", dir, strerror(errno));
    unlink(path);
    return fd;
}

FILE *
xl_tmpstream(const char *dir, char *err, size_t errlen)
{
    int fd = xl_tmpfile(dir, err, errlen);
    FILE *f;

    if (fd < 0)
        return NULL;
    f = fdopen(fd, "w+");
    if (f == NULL) {
        close(fd);
        xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    }
    return f;
}

int
xl_buckets_open(struct xl_buckets *b, const char *dir, uint64_t rows, uint64_t per_bucket,
                size_t max, size_t buffers, char *err, size_t errlen)
{
    size_t bufsize;

    memset(b, 0, sizeof *b);
    b->n = (size_t)(rows / per_bucket) + 1;
    if (b->n > max)
        b->n = max;
    bufsize = buffers / b->n;
    bufsize = bufsize > S_BUFMAX ? S_BUFMAX : bufsize < BUFSIZ ? BUFSIZ : bufsize;
    b->f = calloc(b->n, sizeof *b->f);
    b->buf = malloc(b->n * bufsize);
    if (b->f == NULL || b->buf == NULL) {
        xl_buckets_close(b);
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < b->n; i++) {
        b->f[i] = xl_tmpstream(dir, err, errlen);
        if (b->f[i] == NULL) {
            xl_buckets_close(b);
            return XL_ERR_IO;
        }
        setvbuf(b->f[i], b->buf + i * bufsize, _IOFBF, bufsize);
    }
    return 0;
}

void
xl_buckets_close(struct xl_buckets *b)
{
    for (size_t i = 0; b->f != NULL && i < b->n; i++) {
        if (b->f[i] != NULL)
            fclose(b->f[i]);
    }
    free(b->f);
    free(b->buf);
    memset(b, 0, sizeof *b);
}

int
xl_bucket_read(FILE *f, struct xl_bucket_rows *rows, char *err, size_t errlen)
{
    size_t cap = 0;
    long size;

    memset(rows, 0, sizeof *rows);
    if (fflush(f) != 0 || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0)
        return xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                          "a temporary file: %s", strerror(errno));
    if (size == 0)
        return 0;
    rows->data = malloc((size_t)size);
    if (rows->data == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    rows->len = (size_t)size;
    if (pread(fileno(f), rows->data, rows->len, 0) != size) {
        xl_bucket_rows_free(rows);
        return xl_err_set(err, errlen, XL_ERR_IO, "a temporary file could not be read back");
    }
    for (size_t at = 0; at < rows->len;) {
        const uint8_t *p = rows->data + at;
        size_t rl;
        if (rows->len - at < 4 || (rl = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
                                        (size_t)p[2] << 8 | p[3]) > rows->len - at - 4) {
            xl_bucket_rows_free(rows);
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "a temporary file is damaged");
        }
        if (rows->n == cap) {
            size_t nc = cap ? 2 * cap : 4096;
            void *q = realloc(rows->off, nc * sizeof *rows->off);
            if (q == NULL) {
                xl_bucket_rows_free(rows);
                return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
            }
            rows->off = q;
            cap = nc;
        }
        rows->off[rows->n++] = at;
        at += 4 + rl;
    }
    return 0;
}

void
xl_bucket_rows_free(struct xl_bucket_rows *rows)
{
    free(rows->data);
    free(rows->off);
    memset(rows, 0, sizeof *rows);
}
