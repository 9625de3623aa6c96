/* libFuzzer target for the CSV reader (common/csv.c).
 *
 * Each input is read twice: once with the full read buffer and once with small
 * reads, so buffer boundaries fall inside quotes, escapes and CRLFs. Both parses
 * must agree record for record, and every record must keep the reader's
 * promises (NUL-terminated fields without NUL bytes, rising record and line
 * numbers, a record buffer within the cap). A small record cap makes the
 * too-long-record path reachable. The input's size picks the dialect: commas
 * in UTF-8, semicolons in Windows-1252, or tabs in Latin-1 (each field then
 * converted to UTF-8, so a field may grow to four times its bytes).
 *
 *   clang -fsanitize=fuzzer,address -D_GNU_SOURCE -Icommon/include \
 *       tests/fuzz/fuzz_csv.c common/csv.c common/err.c common/mem.c -lsodium \
 *       -o fuzz_csv && ./fuzz_csv tests/fuzz/corpus/csv */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl/csv.h"
#include "xl/err.h"

#define FUZZ_MAX_RECORD 4096
#define FUZZ_MAX_FIELDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct parse {
    int rc;
    uint64_t records;
    uint64_t hash; /* FNV-1a over every record's numbers and fields */
    uint64_t bytes;
    char err[XL_ERRBUF];
};

static void
s_hash(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++) {
        *h ^= b[i];
        *h *= 0x100000001b3ULL;
    }
}

static void
s_parse(const uint8_t *data, size_t size, size_t read_size, struct parse *out)
{
    static const struct {
        char delim;
        const char *charset;
        size_t grow; /* bytes of UTF-8 per input byte, at most */
    } dialects[] = {{',', "UTF-8", 1}, {';', "WINDOWS-1252", 4}, {'\t', "ISO-8859-1", 4}};
    const size_t d = size % 3;
    FILE *f = fmemopen((void *)data, size, "r");
    struct xl_csv *c;
    uint64_t last_line = 0, last_bytes = 0, v;
    size_t nf, len;
    const char *fv;

    memset(out, 0, sizeof *out);
    out->hash = 0xcbf29ce484222325ULL;
    if (f == NULL)
        abort();
    c = xl_csv_from_file(f, "fuzz.csv");
    if (c == NULL || xl_csv_set_limits(c, FUZZ_MAX_RECORD, FUZZ_MAX_FIELDS) != 0 ||
        (read_size != 0 && xl_csv_set_read_size(c, read_size) != 0) ||
        xl_csv_set_delimiter(c, dialects[d].delim) != 0 ||
        xl_csv_set_encoding(c, dialects[d].charset) != 0)
        abort();
    while ((out->rc = xl_csv_next(c, &nf, out->err, sizeof out->err)) == 1) {
        if (nf == 0 || nf > FUZZ_MAX_FIELDS)
            abort();
        if (xl_csv_record_no(c) != out->records)
            abort();
        out->records++;
        /* Each record starts on a later line than the one before. */
        if (xl_csv_line_no(c) <= last_line)
            abort();
        last_line = xl_csv_line_no(c);
        if (xl_csv_bytes_read(c) < last_bytes || xl_csv_bytes_read(c) > size)
            abort();
        last_bytes = xl_csv_bytes_read(c);
        if (xl_csv_record_capacity(c) > dialects[d].grow * FUZZ_MAX_RECORD + 1)
            abort();
        v = last_line;
        s_hash(&out->hash, &v, sizeof v);
        for (size_t i = 0; i < nf; i++) {
            fv = xl_csv_field(c, i, &len);
            if (fv == NULL || strlen(fv) != len || len >= dialects[d].grow * FUZZ_MAX_RECORD)
                abort();
            v = len;
            s_hash(&out->hash, &v, sizeof v);
            s_hash(&out->hash, fv, len);
        }
        if (xl_csv_field(c, nf, &len) != NULL || len != 0)
            abort();
    }
    if (nf != 0 || xl_csv_field(c, 0, NULL) != NULL)
        abort();
    if (out->rc == 0 && xl_csv_bytes_read(c) != size)
        abort();
    if (out->rc < 0 && out->rc != XL_ERR_FORMAT && out->rc != XL_ERR_TOOBIG)
        abort();
    /* An error stops the reader for good; the end stays the end. */
    if (xl_csv_next(c, &nf, NULL, 0) != out->rc)
        abort();
    out->bytes = xl_csv_bytes_read(c);
    xl_csv_destroy(&c);
    if (c != NULL)
        abort();
    fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parse whole, small;

    /* fmemopen refuses an empty buffer; the empty input is a unit test. */
    if (size == 0)
        return 0;
    s_parse(data, size, 0, &whole);
    s_parse(data, size, 1 + size % 7, &small);
    if (whole.rc != small.rc || whole.records != small.records || whole.hash != small.hash ||
        strcmp(whole.err, small.err) != 0)
        abort();
    return 0;
}
