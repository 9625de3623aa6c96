#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xl/csv.h"
#include "xl/err.h"
#include "xl/mem.h"

/* Where the parser is within the current record. */
enum s_state {
    S_START,    /* at the start of a field, skipping leading spaces */
    S_UNQUOTED, /* inside an unquoted field */
    S_QUOTED,   /* inside a quoted field */
    S_QUOTE,    /* just after a '"' inside a quoted field: escape or close */
    S_AFTER     /* after a closing quote, before ',' or the line end */
};

struct s_field {
    size_t off; /* into rec */
    size_t len;
};

struct xl_csv {
    FILE *f;
    int owned; /* f was opened by xl_csv_open */
    char *name;

    unsigned char *buf; /* XL_CSV_READ_BYTES */
    size_t read_size;   /* bytes asked of each fread */
    size_t pos, len;    /* unread bytes are buf[pos, len) */
    uint64_t buf_base;  /* input offset of buf[0] */
    int started;        /* the first fill (and the BOM check) is done */
    int eof;
    /* The last byte of the previous buffer was a CR: an LF first in the next one
     * belongs to the same line end and does not start a new line. */
    int cr_pending;

    char *rec; /* the current record's fields, each followed by a NUL */
    size_t rec_len, rec_cap, field_off;
    struct s_field *fields;
    size_t nfields, fields_cap;
    size_t max_record, max_fields;

    enum s_state state;
    uint64_t line;       /* physical line of the next unread byte */
    uint64_t rec_line;   /* line on which the record being read starts */
    uint64_t quote_line; /* line on which the open quoted field starts */
    uint64_t records;    /* records returned */
    uint64_t cur_line;   /* line of the record last returned */
    int have_record;

    int failed; /* the XL_ERR_* that stopped reading, or 0 */
    char errmsg[XL_ERRBUF];

    unsigned char delim;    /* ',' unless xl_csv_set_delimiter */
    unsigned char cls[256]; /* s_class with the delimiter */
    iconv_t cd;             /* to UTF-8, or (iconv_t)-1 */
    char *conv;             /* the converted record, swapped with rec */
    size_t conv_cap;
};

#define S_INITIAL_REC    1024
#define S_INITIAL_FIELDS 32
#define S_MIN_RECORD     64

/* Bytes that end a run of plain bytes in an unquoted (S_STOP_PLAIN) or quoted
 * (S_STOP_QUOTED) field. A table lookup per byte keeps the scan branch-light. */
#define S_STOP_PLAIN  1
#define S_STOP_QUOTED 2
static const unsigned char s_class[256] = {
    [0] = S_STOP_PLAIN | S_STOP_QUOTED,
    ['\n'] = S_STOP_PLAIN | S_STOP_QUOTED,
    ['\r'] = S_STOP_PLAIN | S_STOP_QUOTED,
    [','] = S_STOP_PLAIN,
    ['"'] = S_STOP_QUOTED,
};

static struct xl_csv *
s_new(FILE *f, const char *name)
{
    struct xl_csv *c = calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    c->name = strdup(name != NULL ? name : "input");
    c->buf = malloc(XL_CSV_READ_BYTES);
    c->rec = malloc(S_INITIAL_REC);
    c->fields = malloc(S_INITIAL_FIELDS * sizeof *c->fields);
    if (c->name == NULL || c->buf == NULL || c->rec == NULL || c->fields == NULL) {
        free(c->name);
        free(c->buf);
        free(c->rec);
        free(c->fields);
        free(c);
        return NULL;
    }
    c->f = f;
    c->read_size = XL_CSV_READ_BYTES;
    c->rec_cap = S_INITIAL_REC;
    c->fields_cap = S_INITIAL_FIELDS;
    c->max_record = XL_CSV_MAX_RECORD_DEFAULT;
    c->max_fields = XL_CSV_MAX_FIELDS_DEFAULT;
    c->line = 1;
    c->delim = ',';
    memcpy(c->cls, s_class, sizeof c->cls);
    c->cd = (iconv_t)-1;
    return c;
}

struct xl_csv *
xl_csv_open(const char *path, char *err, size_t errlen)
{
    struct xl_csv *c;
    FILE *f;

    if (path == NULL) {
        xl_err_set(err, errlen, XL_ERR_INVALID, "csv: no file name");
        return NULL;
    }
    f = fopen(path, "rbe");
    if (f == NULL) {
        xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                   "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    /* Reads go straight into our buffer, which is wiped; a stdio buffer would
     * keep another copy of the identifiers that is not. */
    setvbuf(f, NULL, _IONBF, 0);
    c = s_new(f, path);
    if (c == NULL) {
        fclose(f);
        xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    c->owned = 1;
    return c;
}

struct xl_csv *
xl_csv_from_file(FILE *f, const char *name)
{
    if (f == NULL)
        return NULL;
    return s_new(f, name);
}

void
xl_csv_destroy(struct xl_csv **cp)
{
    struct xl_csv *c;

    if (cp == NULL || *cp == NULL)
        return;
    c = *cp;
    if (c->owned)
        fclose(c->f);
    xl_freezero(c->buf, XL_CSV_READ_BYTES);
    xl_freezero(c->rec, c->rec_cap);
    if (c->conv != NULL)
        xl_freezero(c->conv, c->conv_cap);
    if (c->cd != (iconv_t)-1)
        iconv_close(c->cd);
    free(c->fields);
    free(c->name);
    xl_freezero(c, sizeof *c);
    *cp = NULL;
}

int
xl_csv_set_limits(struct xl_csv *c, size_t max_record, size_t max_fields)
{
    if (c == NULL || c->started || (max_record != 0 && max_record < S_MIN_RECORD))
        return XL_ERR_INVALID;
    if (max_record != 0)
        c->max_record = max_record;
    if (max_fields != 0)
        c->max_fields = max_fields;
    return 0;
}

int
xl_csv_set_read_size(struct xl_csv *c, size_t n)
{
    if (c == NULL || c->started || n == 0 || n > XL_CSV_READ_BYTES)
        return XL_ERR_INVALID;
    c->read_size = n;
    return 0;
}

int
xl_csv_set_delimiter(struct xl_csv *c, char delim)
{
    if (c == NULL || c->started || (delim != ',' && delim != ';' && delim != '\t' && delim != '|'))
        return XL_ERR_INVALID;
    c->cls[(unsigned char)c->delim] = 0;
    c->delim = (unsigned char)delim;
    c->cls[c->delim] = S_STOP_PLAIN;
    return 0;
}

int
xl_csv_set_encoding(struct xl_csv *c, const char *charset)
{
    if (c == NULL || c->started || c->cd != (iconv_t)-1)
        return XL_ERR_INVALID;
    if (strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "utf8") == 0)
        return 0;
    c->cd = iconv_open("UTF-8", charset);
    return c->cd == (iconv_t)-1 ? XL_ERR_INVALID : 0;
}

/* Stops the reader: the message is kept so later calls can repeat it. */
static void s_note(struct xl_csv *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_note(struct xl_csv *c, int code, const char *fmt, ...)
{
    va_list ap;
    int n;

    n = snprintf(c->errmsg, sizeof c->errmsg, "%s:", c->name);
    if (n < 0 || (size_t)n >= sizeof c->errmsg)
        n = 0;
    va_start(ap, fmt);
    vsnprintf(c->errmsg + n, sizeof c->errmsg - (size_t)n, fmt, ap);
    va_end(ap);
    c->failed = code;
}

/* s_note, then code: a macro, so a static analyser sees the code. */
#define s_fail(c, code, ...)                                                                       \
    __extension__({                                                                                \
        int code_ = (code);                                                                        \
        s_note((c), code_, __VA_ARGS__);                                                           \
        code_;                                                                                     \
    })

/* Refills buf. 1 with at least one unread byte, 0 at end of input, or an error. */
static int
s_fill(struct xl_csv *c)
{
    size_t n;

    if (c->eof)
        return 0;
    c->buf_base += c->len;
    c->pos = c->len = 0;
    n = fread(c->buf, 1, c->read_size, c->f);
    c->len = n;
    if (!c->started) {
        c->started = 1;
        /* A short first read (a pipe, a tiny read size) must not hide a BOM. */
        while (c->len < 3 && n > 0) {
            n = fread(c->buf + c->len, 1, c->read_size, c->f);
            c->len += n;
        }
        if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0)
            c->pos = 3;
    }
    if (c->pos == c->len) {
        if (ferror(c->f))
            return s_fail(c, XL_ERR_IO, " read failed: %s", strerror(errno));
        if (c->len == 0 || feof(c->f)) {
            /* A BOM-only input still counts its bytes. */
            c->buf_base += c->len;
            c->pos = c->len = 0;
            c->eof = 1;
            return 0;
        }
    }
    if (c->cr_pending && c->pos < c->len && c->buf[c->pos] != '\n')
        c->cr_pending = 0;
    return c->pos < c->len ? 1 : s_fill(c);
}

/* Makes the record buffer hold at least need bytes (need <= max_record).
 * Grows by doubling, so its size follows the largest record, and wipes the old
 * buffer rather than leave it to realloc. */
static int
s_grow(struct xl_csv *c, size_t need)
{
    size_t cap = c->rec_cap;
    char *p;

    while (cap < need)
        cap = cap > c->max_record / 2 ? c->max_record : cap * 2;
    p = malloc(cap);
    if (p == NULL)
        return s_fail(c, XL_ERR_NOMEM, "%" PRIu64 ": out of memory for a record of %zu bytes",
                      c->rec_line, need);
    memcpy(p, c->rec, c->rec_len);
    xl_freezero(c->rec, c->rec_cap);
    c->rec = p;
    c->rec_cap = cap;
    return 0;
}

static int
s_too_big(struct xl_csv *c)
{
    if (c->state == S_QUOTED || c->state == S_QUOTE)
        return s_fail(c, XL_ERR_TOOBIG,
                      "%" PRIu64 ": record longer than %zu bytes (is the quote opened on line "
                      "%" PRIu64 " never closed?)",
                      c->rec_line, c->max_record, c->quote_line);
    return s_fail(c, XL_ERR_TOOBIG, "%" PRIu64 ": record longer than %zu bytes", c->rec_line,
                  c->max_record);
}

/* Appends n bytes of field content, keeping room for the field's NUL. */
static int
s_append(struct xl_csv *c, const void *p, size_t n)
{
    int r;

    if (n >= c->max_record - c->rec_len)
        return s_too_big(c);
    if (c->rec_len + n + 1 > c->rec_cap && (r = s_grow(c, c->rec_len + n + 1)) < 0)
        return r;
    memcpy(c->rec + c->rec_len, p, n);
    c->rec_len += n;
    return 0;
}

/* A space, or a tab when tab is not the delimiter: not part of a field. */
static int
s_blank(const struct xl_csv *c, unsigned char ch)
{
    return ch == ' ' || (ch == '\t' && c->delim != '\t');
}

/* Ends the current field; trim drops trailing spaces and tabs (unquoted fields). */
static int
s_end_field(struct xl_csv *c, int trim)
{
    struct s_field *nf;
    size_t cap;
    int r;

    if (trim) {
        while (c->rec_len > c->field_off && s_blank(c, (unsigned char)c->rec[c->rec_len - 1]))
            c->rec_len--;
    }
    if (c->nfields >= c->max_fields)
        return s_fail(c, XL_ERR_TOOBIG, "%" PRIu64 ": record has more than %zu fields", c->rec_line,
                      c->max_fields);
    if (c->rec_len >= c->max_record)
        return s_too_big(c);
    if (c->rec_len + 1 > c->rec_cap && (r = s_grow(c, c->rec_len + 1)) < 0)
        return r;
    if (c->nfields == c->fields_cap) {
        cap = c->fields_cap > c->max_fields / 2 ? c->max_fields : c->fields_cap * 2;
        nf = realloc(c->fields, cap * sizeof *nf);
        if (nf == NULL)
            return s_fail(c, XL_ERR_NOMEM, "%" PRIu64 ": out of memory for %zu fields", c->rec_line,
                          cap);
        c->fields = nf;
        c->fields_cap = cap;
    }
    c->fields[c->nfields].off = c->field_off;
    c->fields[c->nfields].len = c->rec_len - c->field_off;
    c->nfields++;
    c->rec[c->rec_len++] = '\0';
    c->field_off = c->rec_len;
    return 0;
}

/* An LF: a new line unless it completes a CRLF split across two reads. */
static void
s_lf(struct xl_csv *c)
{
    if (c->cr_pending)
        c->cr_pending = 0;
    else
        c->line++;
}

/* Consumes the line end at p (CR, LF or CRLF) and returns the byte after it. */
static const unsigned char *
s_eol(struct xl_csv *c, const unsigned char *p, const unsigned char *end)
{
    if (*p == '\n') {
        s_lf(c);
        return p + 1;
    }
    c->line++;
    p++;
    if (p == end)
        c->cr_pending = 1;
    else if (*p == '\n')
        p++;
    return p;
}

static int
s_nul(struct xl_csv *c)
{
    return s_fail(c, XL_ERR_FORMAT,
                  "%" PRIu64 ": NUL byte in the data (is the file UTF-16? save it as UTF-8 CSV)",
                  c->line);
}

static int
s_at_eof(struct xl_csv *c)
{
    int r;

    switch (c->state) {
    case S_START:
        if (c->nfields == 0)
            return 0;
        r = s_end_field(c, 0); /* "a," at the end: an empty last field */
        break;
    case S_UNQUOTED: r = s_end_field(c, 1); break;
    case S_QUOTED:
        return s_fail(c, XL_ERR_FORMAT,
                      "%" PRIu64 ": unterminated quoted field (the quote opened on this line is "
                      "never closed)",
                      c->quote_line);
    default: r = s_end_field(c, 0); break;
    }
    return r < 0 ? r : 1;
}

/* Reads one record into rec/fields: 1, 0 at end of input, or an error. */
static int
s_read_record(struct xl_csv *c)
{
    const unsigned char *p, *q, *end;
    int r;

    c->rec_len = 0;
    c->field_off = 0;
    c->nfields = 0;
    c->state = S_START;
    c->rec_line = c->line;
    for (;;) {
        if (c->pos == c->len) {
            r = s_fill(c);
            if (r < 0)
                return r;
            if (r == 0)
                return s_at_eof(c);
        }
        p = c->buf + c->pos;
        end = c->buf + c->len;
        switch (c->state) {
        case S_START:
            while (p < end && s_blank(c, *p))
                p++;
            if (p == end)
                break;
            if (*p == '"') {
                c->state = S_QUOTED;
                c->quote_line = c->line;
                p++;
            } else if (*p == c->delim) {
                p++;
                if ((r = s_end_field(c, 0)) < 0)
                    return r;
            } else if (*p == '\n' || *p == '\r') {
                p = s_eol(c, p, end);
                if (c->nfields == 0) {
                    c->rec_line = c->line; /* a blank line: not a record */
                    break;
                }
                c->pos = (size_t)(p - c->buf);
                return s_end_field(c, 0) < 0 ? c->failed : 1;
            } else if (*p == '\0') {
                return s_nul(c);
            } else {
                c->state = S_UNQUOTED;
            }
            break;
        case S_UNQUOTED:
            for (q = p; q < end && !(c->cls[*q] & S_STOP_PLAIN); q++)
                ;
            if (q > p && (r = s_append(c, p, (size_t)(q - p))) < 0)
                return r;
            p = q;
            if (p == end)
                break;
            if (*p == c->delim) {
                p++;
                if ((r = s_end_field(c, 1)) < 0)
                    return r;
                c->state = S_START;
            } else if (*p == '\0') {
                return s_nul(c);
            } else {
                p = s_eol(c, p, end);
                c->pos = (size_t)(p - c->buf);
                return s_end_field(c, 1) < 0 ? c->failed : 1;
            }
            break;
        case S_QUOTED:
            for (q = p; q < end && !(c->cls[*q] & S_STOP_QUOTED); q++)
                ;
            if (q > p && (r = s_append(c, p, (size_t)(q - p))) < 0)
                return r;
            p = q;
            if (p == end)
                break;
            if (*p == '"') {
                p++;
                c->state = S_QUOTE;
            } else if (*p == '\0') {
                return s_nul(c);
            } else {
                /* A line break inside quotes is content, kept as it is. */
                q = s_eol(c, p, end);
                if ((r = s_append(c, p, (size_t)(q - p))) < 0)
                    return r;
                p = q;
            }
            break;
        case S_QUOTE:
            if (*p == '"') {
                if ((r = s_append(c, "\"", 1)) < 0)
                    return r;
                p++;
                c->state = S_QUOTED;
            } else {
                c->state = S_AFTER;
            }
            break;
        case S_AFTER:
            while (p < end && s_blank(c, *p))
                p++;
            if (p == end)
                break;
            if (*p == c->delim) {
                p++;
                if ((r = s_end_field(c, 0)) < 0)
                    return r;
                c->state = S_START;
            } else if (*p == '\n' || *p == '\r') {
                p = s_eol(c, p, end);
                c->pos = (size_t)(p - c->buf);
                return s_end_field(c, 0) < 0 ? c->failed : 1;
            } else if (*p == '\0') {
                return s_nul(c);
            } else {
                return s_fail(c, XL_ERR_FORMAT,
                              "%" PRIu64 ": text after the closing quote of field %zu (quote the "
                              "whole field and double each quote inside it)",
                              c->line, c->nfields + 1);
            }
            break;
        }
        c->pos = (size_t)(p - c->buf);
    }
}

/* Converts the record just read to UTF-8 into conv, then swaps the two
 * buffers. A byte the file's encoding does not define stops the reading, with
 * the line and field (never the value). */
static int
s_convert(struct xl_csv *c)
{
    size_t need = 4 * c->rec_len + 1, at = 0;
    char *swap;

    if (need > c->conv_cap) {
        if (c->conv != NULL)
            xl_freezero(c->conv, c->conv_cap);
        c->conv_cap = 0;
        c->conv = malloc(need);
        if (c->conv == NULL)
            return s_fail(c, XL_ERR_NOMEM, "%" PRIu64 ": out of memory", c->rec_line);
        c->conv_cap = need;
    }
    for (size_t i = 0; i < c->nfields; i++) {
        char *in = c->rec + c->fields[i].off, *out = c->conv + at;
        size_t inleft = c->fields[i].len, outleft = c->conv_cap - at - 1;

        iconv(c->cd, NULL, NULL, NULL, NULL);
        if (iconv(c->cd, &in, &inleft, &out, &outleft) == (size_t)-1)
            return s_fail(c, XL_ERR_FORMAT,
                          "%" PRIu64 ": field %zu holds a byte that is not a character of the "
                          "file's encoding (is 'encoding' in the mapping right?)",
                          c->rec_line, i + 1);
        c->fields[i].off = at;
        c->fields[i].len = (size_t)(out - (c->conv + at));
        at += c->fields[i].len;
        c->conv[at++] = '\0';
    }
    swap = c->rec;
    c->rec = c->conv;
    c->conv = swap;
    need = c->rec_cap;
    c->rec_cap = c->conv_cap;
    c->conv_cap = need;
    c->rec_len = at;
    return 0;
}

int
xl_csv_next(struct xl_csv *c, size_t *nfields, char *err, size_t errlen)
{
    int r;

    if (nfields != NULL)
        *nfields = 0;
    if (c == NULL)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "csv: no reader");
    c->have_record = 0;
    if (c->failed)
        return xl_err_set(err, errlen, c->failed, "%s", c->errmsg);
    r = s_read_record(c);
    if (r < 0) {
        c->nfields = 0;
        return xl_err_set(err, errlen, r, "%s", c->errmsg);
    }
    if (r == 0) {
        c->nfields = 0;
        return 0;
    }
    if (c->cd != (iconv_t)-1 && (r = s_convert(c)) < 0) {
        c->nfields = 0;
        return xl_err_set(err, errlen, r, "%s", c->errmsg);
    }
    c->have_record = 1;
    c->records++;
    c->cur_line = c->rec_line;
    if (nfields != NULL)
        *nfields = c->nfields;
    return 1;
}

const char *
xl_csv_field(const struct xl_csv *c, size_t i, size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (c == NULL || !c->have_record || i >= c->nfields)
        return NULL;
    if (len != NULL)
        *len = c->fields[i].len;
    return c->rec + c->fields[i].off;
}

uint64_t
xl_csv_record_no(const struct xl_csv *c)
{
    return c != NULL && c->records > 0 ? c->records - 1 : 0;
}

uint64_t
xl_csv_line_no(const struct xl_csv *c)
{
    return c != NULL ? c->cur_line : 0;
}

uint64_t
xl_csv_bytes_read(const struct xl_csv *c)
{
    return c != NULL ? c->buf_base + c->pos : 0;
}

size_t
xl_csv_record_capacity(const struct xl_csv *c)
{
    return c != NULL ? c->rec_cap : 0;
}

void
xl_csv_put(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

size_t
xl_csv_add(char *line, size_t at, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
            break;
    }
    if (i == n) {
        memcpy(line + at, s, n);
        return at + n;
    }
    line[at++] = '"';
    for (i = 0; i < n; i++) {
        if (s[i] == '"')
            line[at++] = '"';
        line[at++] = s[i];
    }
    line[at++] = '"';
    return at;
}
