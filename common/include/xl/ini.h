/* What crosslink's INI files (agent.conf, column mappings, linker.conf, the
 * linkage specification) share, on top of inih: the first error is kept with
 * its line number, and paths are taken relative to the file's directory.
 *
 * A parser embeds struct xl_ini as the first member of its own state, gives
 * that state to xl_ini_parse_file, and its handler returns xl_ini_fail(...) to
 * report a line (inih then reports the line number). */
#ifndef XL_INI_H
#define XL_INI_H

#include <stddef.h>

#include <ini.h>

#include "xl/err.h"

#define XL_INI_PATH_MAX 1024

struct xl_ini {
    char dir[XL_INI_PATH_MAX]; /* the directory of the file being read */
    char msg[XL_ERRBUF];       /* the first error */
    int failed;
};

/* Keeps the first message. */
void xl_ini_note(struct xl_ini *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* xl_ini_note, then 0, inih's "this line is wrong". A macro, so that a static
 * analyser sees the 0 (it does not look inside variadic functions). */
#define xl_ini_fail(p, ...)                                                                        \
    __extension__({                                                                                \
        xl_ini_note((p), __VA_ARGS__);                                                             \
        0;                                                                                         \
    })
/* Copies v into dst (cap bytes); 1, or xl_ini_fail when too long. */
int xl_ini_copy(struct xl_ini *p, char *dst, size_t cap, const char *name, const char *v);
/* Copies the endpoint v into dst after xl_endpoint_check (bind: the
 * linker's own, where a '*' host is allowed); 1, or xl_ini_fail naming the
 * expected form. */
int xl_ini_endpoint(struct xl_ini *p, char *dst, size_t cap, const char *v, int bind);
/* dst = v when absolute, else dir/v; 1, or xl_ini_fail (empty, too long). */
int xl_ini_path(struct xl_ini *p, char *dst, size_t cap, const char *name, const char *v);

/* Parses the file at path with handler h (user must start with a struct
 * xl_ini). what names the kind of file in messages ("agent configuration").
 * Errors: XL_ERR_NOTFOUND / XL_ERR_IO "PATH: cannot open WHAT: ...",
 * XL_ERR_FORMAT "PATH:LINE: message". */
int xl_ini_parse_file(const char *path, const char *what, ini_handler h, void *user, char *err,
                      size_t errlen);
/* As xl_ini_parse_file, from a string (name in messages; no directory). */
int xl_ini_parse_string(const char *text, const char *name, ini_handler h, void *user, char *err,
                        size_t errlen);

#endif
