#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "xl/err.h"

const char *
xl_strerror(int code)
{
    switch (code) {
    case XL_OK: return "success";
    case XL_ERR_INTERNAL: return "internal error";
    case XL_ERR_NOMEM: return "out of memory";
    case XL_ERR_IO: return "input/output error";
    case XL_ERR_INVALID: return "invalid argument or value";
    case XL_ERR_FORMAT: return "malformed input";
    case XL_ERR_PERM: return "unsafe permissions";
    case XL_ERR_EXISTS: return "already exists";
    case XL_ERR_NOTFOUND: return "not found";
    case XL_ERR_CRYPTO: return "verification or decryption failed";
    case XL_ERR_TOOBIG: return "input too large";
    case XL_ERR_VERSION: return "unsupported version";
    case XL_ERR_DENIED: return "not authorised";
    case XL_ERR_MISMATCH: return "mismatch";
    case XL_ERR_SEQUENCE: return "out of sequence";
    case XL_ERR_UNAVAILABLE: return "unavailable";
    case XL_ERR_DISCARDED: return "discarded";
    case XL_ERR_NOSPACE: return "no space left on the device";
    default: return "unknown error";
    }
}

void
xl_err_vfmt(char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (err != NULL && errlen > 0)
        vsnprintf(err, errlen, fmt, ap);
}

void
xl_err_fmt(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    xl_err_vfmt(err, errlen, fmt, ap);
    va_end(ap);
}

int
xl_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
