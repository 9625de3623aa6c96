/* Error codes shared by every crosslink module.
 *
 * Functions return 0 on success or a negative XL_ERR_* code. A message for a
 * person goes into the error buffer the caller passes (see xl_err_set); the code
 * is for the program. Messages name the file, row, field or peer concerned and
 * never contain a plaintext identifier or secret. */
#ifndef XL_ERR_H
#define XL_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum {
    XL_OK = 0,
    XL_ERR_INTERNAL = -1,     /* a bug or an impossible state */
    XL_ERR_NOMEM = -2,        /* allocation failed */
    XL_ERR_IO = -3,           /* read, write, open, fsync failed (errno in message) */
    XL_ERR_INVALID = -4,      /* bad argument or bad input value */
    XL_ERR_FORMAT = -5,       /* a file or message does not parse */
    XL_ERR_PERM = -6,         /* a secret file is readable by others, or similar */
    XL_ERR_EXISTS = -7,       /* refused to overwrite */
    XL_ERR_NOTFOUND = -8,     /* no such file, key or entry */
    XL_ERR_CRYPTO = -9,       /* verification or decryption failed */
    XL_ERR_TOOBIG = -10,      /* input over a configured size limit */
    XL_ERR_VERSION = -11,     /* unknown protocol or file version */
    XL_ERR_DENIED = -12,      /* not authorised */
    XL_ERR_MISMATCH = -13,    /* spec fingerprint, epoch, hash or count differs */
    XL_ERR_SEQUENCE = -14,    /* message out of order */
    XL_ERR_UNAVAILABLE = -15, /* peer or resource not reachable now; retry */
    XL_ERR_DISCARDED = -16,   /* the linker discarded a submission: begin it again */
    XL_ERR_NOSPACE = -17      /* a filesystem or quota is full: retry once space is freed */
};

/* Size of the error buffers callers pass. Long enough for a path and a reason. */
#define XL_ERRBUF 512

/* A static string describing an XL_ERR_* code; never NULL. */
const char *xl_strerror(int code);

/* printf into err (size errlen) when err is non-NULL. */
void xl_err_fmt(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void xl_err_vfmt(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* xl_err_fmt, then the value code, so a caller can write
 * `return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", path, ...)`. A macro
 * (a statement expression) rather than a function, so that a static analyser
 * sees which code it gives: analysers do not look inside variadic functions. */
#define xl_err_set(err, errlen, code, ...)                                                         \
    __extension__({                                                                                \
        xl_err_fmt((err), (errlen), __VA_ARGS__);                                                  \
        (int)(code);                                                                               \
    })

/* Writes all len bytes of buf to fd, retrying after interruptions and short
 * writes: 0, or -1 with errno set. (Here because every module that reports an
 * I/O error needs it; there is no other I/O header.) */
int xl_write_all(int fd, const void *buf, size_t len);

#endif
