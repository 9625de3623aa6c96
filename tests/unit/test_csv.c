#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "xl/csv.h"
#include "xl/err.h"

/* A temporary stream holding len bytes of data, positioned at the start. */
static FILE *
s_stream(const void *data, size_t len)
{
    FILE *f = tmpfile();

    assert_non_null(f);
    if (len > 0)
        assert_int_equal(fwrite(data, 1, len, f), len);
    rewind(f);
    return f;
}

struct s_dump {
    char *text; /* one line per record: "<record no>@<line>:[field][field]" */
    size_t len, cap;
    int rc; /* what the last xl_csv_next returned */
    char err[XL_ERRBUF];
    uint64_t bytes; /* xl_csv_bytes_read at the end */
};

static void
s_put(struct s_dump *d, const char *p, size_t n)
{
    if (d->len + n + 1 > d->cap) {
        d->cap = (d->len + n + 1) * 2;
        d->text = realloc(d->text, d->cap);
        assert_non_null(d->text);
    }
    memcpy(d->text + d->len, p, n);
    d->len += n;
    d->text[d->len] = '\0';
}

/* Reads all of data through a reader asking read_size bytes per fread (0: the
 * default) and describes every record, so tests compare whole parses. */
static void
s_parse(const char *data, size_t len, size_t read_size, struct s_dump *d)
{
    FILE *f = s_stream(data, len);
    struct xl_csv *c = xl_csv_from_file(f, "t.csv");
    char num[64];
    size_t nf, flen;
    const char *fv;

    memset(d, 0, sizeof *d);
    s_put(d, "", 0);
    assert_non_null(c);
    if (read_size != 0)
        assert_int_equal(xl_csv_set_read_size(c, read_size), 0);
    while ((d->rc = xl_csv_next(c, &nf, d->err, sizeof d->err)) == 1) {
        assert_true(nf >= 1);
        snprintf(num, sizeof num, "%llu@%llu:", (unsigned long long)xl_csv_record_no(c),
                 (unsigned long long)xl_csv_line_no(c));
        s_put(d, num, strlen(num));
        for (size_t i = 0; i < nf; i++) {
            fv = xl_csv_field(c, i, &flen);
            assert_non_null(fv);
            assert_int_equal(strlen(fv), flen);
            s_put(d, "[", 1);
            s_put(d, fv, flen);
            s_put(d, "]", 1);
        }
        assert_null(xl_csv_field(c, nf, &flen));
        s_put(d, "\n", 1);
    }
    assert_int_equal(nf, 0);
    d->bytes = xl_csv_bytes_read(c);
    xl_csv_destroy(&c);
    assert_null(c);
    fclose(f);
}

/* Parses data and checks the records, the final return code and, for every read
 * size from 1 to 17 bytes, that buffer boundaries change nothing. */
static void
s_expect(const char *data, size_t len, const char *want, int want_rc)
{
    struct s_dump d, small;

    s_parse(data, len, 0, &d);
    if (strcmp(d.text, want) != 0)
        fail_msg("parse differs:\n--- got\n%s--- want\n%s--- err: %s", d.text, want, d.err);
    assert_int_equal(d.rc, want_rc);
    if (want_rc == 0)
        assert_int_equal(d.bytes, len);
    for (size_t rs = 1; rs <= 17; rs++) {
        s_parse(data, len, rs, &small);
        if (strcmp(small.text, want) != 0)
            fail_msg("read size %zu: parse differs:\n--- got\n%s--- want\n%s", rs, small.text,
                     want);
        assert_int_equal(small.rc, want_rc);
        assert_string_equal(small.err, d.err);
        if (want_rc == 0)
            assert_int_equal(small.bytes, len);
        free(small.text);
    }
    free(d.text);
}

#define EXPECT(lit, want) s_expect(lit, sizeof(lit) - 1, want, 0)

static void
test_simple(void **state)
{
    (void)state;
    EXPECT("name,dob,sex\nann,2001-02-03,F\nbob,2002-03-04,M\n",
           "0@1:[name][dob][sex]\n1@2:[ann][2001-02-03][F]\n2@3:[bob][2002-03-04][M]\n");
    EXPECT("", "");
    EXPECT("x\n", "0@1:[x]\n");
}

static void
test_quoting(void **state)
{
    (void)state;
    EXPECT("\"a,b\",\"say \"\"hi\"\"\",plain,\"\"\n", "0@1:[a,b][say \"hi\"][plain][]\n");
    EXPECT("\"\"\"\"\n", "0@1:[\"]\n");
    /* Spaces inside quotes are data; a quote inside an unquoted field is a byte. */
    EXPECT("\"  q  \",O\"Neil,a\"b\"c\n", "0@1:[  q  ][O\"Neil][a\"b\"c]\n");
}

static void
test_embedded_newline(void **state)
{
    (void)state;
    /* The record after a quoted line break starts on line 4, and is record 2. */
    EXPECT("id,note\n1,\"line one\nline two\"\n2,x\n",
           "0@1:[id][note]\n1@2:[1][line one\nline two]\n2@4:[2][x]\n");
    EXPECT("a\n\"\n\n\n\"\nb\n", "0@1:[a]\n1@2:[\n\n\n]\n2@6:[b]\n");
}

static void
test_crlf(void **state)
{
    (void)state;
    /* CRLF ends records outside quotes and is kept as data inside them. */
    EXPECT("a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n", "0@1:[a][b]\n1@2:[1][x\r\ny]\n2@4:[2][z]\n");
    /* A bare CR ends a line too, and a CR LF pair is one line end. */
    EXPECT("a\rb\r\rc\r\n\r\nd", "0@1:[a]\n1@2:[b]\n2@4:[c]\n3@6:[d]\n");
    /* Inside quotes a bare CR counts as a line too. */
    EXPECT("\"x\ry\"\nz\n", "0@1:[x\ry]\n1@3:[z]\n");
}

static void
test_crlf_split_across_reads(void **state)
{
    struct s_dump d;

    (void)state;
    /* With 4-byte reads the CR is the last byte of one read, the LF the first
     * of the next: still one line end, so "de" is on line 2. */
    s_parse("abc\r\nde\r\nf\r\n", 12, 4, &d);
    assert_string_equal(d.text, "0@1:[abc]\n1@2:[de]\n2@3:[f]\n");
    free(d.text);
    s_parse("\"ab\r\ncd\"\r\nef\r\n", 14, 4, &d);
    assert_string_equal(d.text, "0@1:[ab\r\ncd]\n1@3:[ef]\n");
    free(d.text);
}

static void
test_bom(void **state)
{
    struct s_dump d;

    (void)state;
    EXPECT("\xEF\xBB\xBFname,dob\nann,x\n", "0@1:[name][dob]\n1@2:[ann][x]\n");
    /* Only at the very start: elsewhere the bytes are data. */
    EXPECT("a\n\xEF\xBB\xBF"
           "b\n",
           "0@1:[a]\n1@2:[\xEF\xBB\xBF"
           "b]\n");
    EXPECT("\xEF\xBB\xBF", "");
    EXPECT("\xEF\xBB\xBF\"q\"\n", "0@1:[q]\n");
    /* A partial BOM is data. */
    EXPECT("\xEF\xBB"
           "a\n",
           "0@1:[\xEF\xBB"
           "a]\n");
    s_parse("\xEF\xBB\xBF", 3, 0, &d);
    assert_int_equal(d.bytes, 3);
    free(d.text);
}

static void
test_blank_lines(void **state)
{
    (void)state;
    /* Blank and whitespace-only lines are not records but still count as lines. */
    EXPECT("\n\na\n\n   \n\t \r\n b \n\n", "0@3:[a]\n1@7:[b]\n");
    EXPECT("  \n\t\n", "");
    EXPECT("a\n   ", "0@1:[a]\n");
    /* A line of commas has fields, empty ones: it is a record. */
    EXPECT(",\n", "0@1:[][]\n");
    EXPECT(" , \n", "0@1:[][]\n");
}

static void
test_trimming(void **state)
{
    (void)state;
    EXPECT("  a  , b\t,\t c c ,\"  q  \"  , \"x,y\"\t\n", "0@1:[a][b][c c][  q  ][x,y]\n");
    /* The public FEBRL test sets put a space after every comma. */
    EXPECT("rec_id, given_name, surname, postcode\nrec-1-org, \"b,c\", smith, 2600\n",
           "0@1:[rec_id][given_name][surname][postcode]\n1@2:[rec-1-org][b,c][smith][2600]\n");
    EXPECT("\"a\" ,\"b\"   \n", "0@1:[a][b]\n");
}

static void
test_empty_fields(void **state)
{
    (void)state;
    EXPECT("a,b,\n", "0@1:[a][b][]\n");
    EXPECT("a,,b\n", "0@1:[a][][b]\n");
    EXPECT(",a\n", "0@1:[][a]\n");
    EXPECT("a,b,", "0@1:[a][b][]\n");
    EXPECT("a,\"\"\n", "0@1:[a][]\n");
}

static void
test_no_trailing_newline(void **state)
{
    (void)state;
    EXPECT("a,b\nc,d", "0@1:[a][b]\n1@2:[c][d]\n");
    EXPECT("a,b\n\"c\"", "0@1:[a][b]\n1@2:[c]\n");
    EXPECT("a,b\n\"c\"  ", "0@1:[a][b]\n1@2:[c]\n");
    EXPECT("a,b\nc  ", "0@1:[a][b]\n1@2:[c]\n");
}

/* Reads data until an error; checks its code and that the message holds want. */
static void
s_expect_error(const char *data, size_t len, int code, const char *want, const char *want_text)
{
    s_expect(data, len, want_text, code);
    {
        struct s_dump d;

        s_parse(data, len, 0, &d);
        if (strstr(d.err, want) == NULL)
            fail_msg("message '%s' lacks '%s'", d.err, want);
        free(d.text);
    }
}

static void
test_unterminated_quote(void **state)
{
    (void)state;
    /* The message names the line where the quote opened. */
    s_expect_error("a,b\n1,\"open\n2,3\n", 16, XL_ERR_FORMAT, "t.csv:2: unterminated quoted field",
                   "0@1:[a][b]\n");
    s_expect_error("\"", 1, XL_ERR_FORMAT, "t.csv:1: unterminated quoted field", "");
    s_expect_error("x\n\n\"a\"\"", 7, XL_ERR_FORMAT, "t.csv:3: unterminated", "0@1:[x]\n");
}

static void
test_error_is_sticky_and_names_no_data(void **state)
{
    FILE *f = s_stream("a\n\"secretname,x\n", 16);
    struct xl_csv *c = xl_csv_from_file(f, "extract.csv");
    char err[XL_ERRBUF];
    size_t nf = 99;

    (void)state;
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), XL_ERR_FORMAT);
    assert_int_equal(nf, 0);
    assert_null(xl_csv_field(c, 0, NULL));
    assert_null(strstr(err, "secretname"));
    assert_non_null(strstr(err, "extract.csv:2:"));
    err[0] = '\0';
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), XL_ERR_FORMAT);
    assert_non_null(strstr(err, "extract.csv:2: unterminated quoted field"));
    xl_csv_destroy(&c);
    fclose(f);
}

static void
test_text_after_quote(void **state)
{
    (void)state;
    s_expect_error("ok\n\"ab\"c,d\n", 11, XL_ERR_FORMAT,
                   "t.csv:2: text after the closing quote of field 1", "0@1:[ok]\n");
    s_expect_error("a, \"b\" x\n", 9, XL_ERR_FORMAT, "closing quote of field 2", "");
}

static void
test_nul_byte(void **state)
{
    (void)state;
    s_expect_error("a,b\nc,\0d\n", 9, XL_ERR_FORMAT, "t.csv:2: NUL byte", "0@1:[a][b]\n");
    s_expect_error("a,b\n\"c\n\0\"\n", 10, XL_ERR_FORMAT, "t.csv:3: NUL byte", "0@1:[a][b]\n");
    s_expect_error("\0", 1, XL_ERR_FORMAT, "t.csv:1: NUL byte", "");
    /* A UTF-16 file is all NULs between ASCII letters. */
    s_expect_error("\xFF\xFEn\0a\0", 6, XL_ERR_FORMAT, "UTF-16", "");
}

static void
test_record_over_default_cap(void **state)
{
    size_t big = XL_CSV_MAX_RECORD_DEFAULT + 10;
    size_t len = 0;
    char *data = malloc(big + 64);
    struct xl_csv *c;
    FILE *f;
    char err[XL_ERRBUF];
    size_t nf;

    (void)state;
    assert_non_null(data);
    len += (size_t)sprintf(data, "h1,h2\n\nok,1\n");
    memset(data + len, 'x', big);
    len += big;
    len += (size_t)sprintf(data + len, ",2\nlast,3\n");
    f = s_stream(data, len);
    c = xl_csv_from_file(f, "big.csv");
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), XL_ERR_TOOBIG);
    assert_non_null(strstr(err, "big.csv:4: record longer than 1048576 bytes"));
    /* The buffer stopped at the cap. */
    assert_true(xl_csv_record_capacity(c) <= XL_CSV_MAX_RECORD_DEFAULT);
    xl_csv_destroy(&c);
    fclose(f);
    free(data);
}

static void
test_record_cap_exact(void **state)
{
    char data[256];
    struct xl_csv *c;
    FILE *f;
    char err[XL_ERRBUF];
    size_t nf;

    (void)state;
    /* Cap 100: a one-field record of 99 bytes takes 100 with its NUL. */
    memset(data, 'a', 99);
    data[99] = '\n';
    memset(data + 100, 'b', 100);
    data[200] = '\n';
    f = s_stream(data, 201);
    c = xl_csv_from_file(f, "cap.csv");
    assert_int_equal(xl_csv_set_limits(c, 100, 0), 0);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_int_equal(nf, 1);
    assert_int_equal(strlen(xl_csv_field(c, 0, NULL)), 99);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), XL_ERR_TOOBIG);
    assert_non_null(strstr(err, "cap.csv:2: record longer than 100 bytes"));
    xl_csv_destroy(&c);
    fclose(f);

    /* Each field's NUL counts: two fields of 49 bytes take 100, and a third,
     * empty field takes one more. */
    memset(data, 'c', 49);
    data[49] = ',';
    memset(data + 50, 'd', 49);
    memcpy(data + 99, ",\n", 2);
    f = s_stream(data, 99);
    c = xl_csv_from_file(f, "cap.csv");
    assert_int_equal(xl_csv_set_limits(c, 100, 0), 0);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_int_equal(nf, 2);
    xl_csv_destroy(&c);
    fclose(f);
    f = s_stream(data, 101); /* the same with an extra empty field: 101 */
    c = xl_csv_from_file(f, "cap.csv");
    assert_int_equal(xl_csv_set_limits(c, 100, 0), 0);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), XL_ERR_TOOBIG);
    xl_csv_destroy(&c);
    fclose(f);
}

static void
test_unterminated_quote_hits_cap(void **state)
{
    char data[400];
    struct xl_csv *c;
    FILE *f;
    char err[XL_ERRBUF];
    size_t nf;

    (void)state;
    memcpy(data, "a\nb,\"", 5);
    for (size_t i = 5; i < sizeof data; i++)
        data[i] = i % 10 == 0 ? '\n' : 'z';
    f = s_stream(data, sizeof data);
    c = xl_csv_from_file(f, "q.csv");
    assert_int_equal(xl_csv_set_limits(c, 128, 0), 0);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), XL_ERR_TOOBIG);
    assert_non_null(strstr(err, "q.csv:2: record longer than 128 bytes"));
    assert_non_null(strstr(err, "quote opened on line 2"));
    xl_csv_destroy(&c);
    fclose(f);
}

static void
test_field_cap(void **state)
{
    FILE *f = s_stream("a,b,c\n1,2,3,4\n", 14);
    struct xl_csv *c = xl_csv_from_file(f, "w.csv");
    char err[XL_ERRBUF];
    size_t nf;

    (void)state;
    assert_int_equal(xl_csv_set_limits(c, 0, 3), 0);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_int_equal(nf, 3);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), XL_ERR_TOOBIG);
    assert_non_null(strstr(err, "w.csv:2: record has more than 3 fields"));
    xl_csv_destroy(&c);
    fclose(f);
}

static void
test_many_records_bounded_memory(void **state)
{
    const unsigned n = 200000;
    FILE *f = tmpfile();
    struct xl_csv *c;
    char err[XL_ERRBUF], want[64];
    size_t nf, len, cap0;
    long size;
    unsigned got = 0;
    const char *v;

    (void)state;
    assert_non_null(f);
    fprintf(f, "id, given, family, dob\n");
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "%u, given%u, \"family, %u\", 20%02u-01-01\r\n", i, i, i, i % 100);
    size = ftell(f);
    rewind(f);
    c = xl_csv_from_file(f, "many.csv");
    cap0 = xl_csv_record_capacity(c);
    assert_true(cap0 <= 4096);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_string_equal(xl_csv_field(c, 3, NULL), "dob");
    while (xl_csv_next(c, &nf, err, sizeof err) == 1) {
        assert_int_equal(nf, 4);
        assert_int_equal(xl_csv_record_no(c), got + 1);
        assert_int_equal(xl_csv_line_no(c), got + 2);
        snprintf(want, sizeof want, "family, %u", got);
        v = xl_csv_field(c, 2, &len);
        assert_string_equal(v, want);
        assert_int_equal(xl_csv_record_capacity(c), cap0);
        got++;
    }
    assert_int_equal(got, n);
    assert_int_equal(xl_csv_bytes_read(c), (uint64_t)size);
    xl_csv_destroy(&c);
    fclose(f);
}

static void
test_buffer_grows_to_largest_record(void **state)
{
    const size_t big = 100000;
    FILE *f = tmpfile();
    struct xl_csv *c;
    char err[XL_ERRBUF];
    size_t nf, len;

    (void)state;
    assert_non_null(f);
    fprintf(f, "a,b\n");
    fputc('"', f);
    for (size_t i = 0; i < big; i++)
        fputc(i % 1000 == 999 ? '\n' : 'q', f);
    fprintf(f, "\",x\nc,d\n");
    rewind(f);
    c = xl_csv_from_file(f, "grow.csv");
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_non_null(xl_csv_field(c, 0, &len));
    assert_int_equal(len, big);
    assert_true(xl_csv_record_capacity(c) >= big + 2);
    assert_true(xl_csv_record_capacity(c) <= 2 * (big + 4));
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_int_equal(xl_csv_line_no(c), 2 + big / 1000 + 1);
    assert_string_equal(xl_csv_field(c, 1, NULL), "d");
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 0);
    xl_csv_destroy(&c);
    fclose(f);
}

static void
test_bytes_read_progress(void **state)
{
    FILE *f = s_stream("ab,c\nd\n\ne\n", 10);
    struct xl_csv *c = xl_csv_from_file(f, NULL);
    size_t nf;

    (void)state;
    assert_int_equal(xl_csv_bytes_read(c), 0);
    assert_int_equal(xl_csv_next(c, &nf, NULL, 0), 1);
    assert_int_equal(xl_csv_bytes_read(c), 5);
    assert_int_equal(xl_csv_next(c, &nf, NULL, 0), 1);
    assert_int_equal(xl_csv_bytes_read(c), 7);
    assert_int_equal(xl_csv_next(c, &nf, NULL, 0), 1);
    assert_int_equal(xl_csv_bytes_read(c), 10);
    assert_int_equal(xl_csv_next(c, &nf, NULL, 0), 0);
    assert_int_equal(xl_csv_next(c, &nf, NULL, 0), 0);
    assert_int_equal(xl_csv_bytes_read(c), 10);
    xl_csv_destroy(&c);
    fclose(f);
}

static void
test_open_file(void **state)
{
    char path[] = "/tmp/xl-csv-XXXXXX";
    char err[XL_ERRBUF];
    struct xl_csv *c;
    size_t nf, len;
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "h\n\"a\n", 5), 5);
    close(fd);
    c = xl_csv_open(path, err, sizeof err);
    assert_non_null(c);
    assert_null(xl_csv_field(c, 0, &len)); /* no record yet */
    assert_int_equal(len, 0);
    assert_int_equal(xl_csv_record_no(c), 0);
    assert_int_equal(xl_csv_line_no(c), 0);
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), 1);
    assert_string_equal(xl_csv_field(c, 0, NULL), "h");
    assert_int_equal(xl_csv_next(c, &nf, err, sizeof err), XL_ERR_FORMAT);
    /* Messages carry the path the reader was opened with. */
    assert_true(strncmp(err, path, strlen(path)) == 0);
    assert_string_equal(err + strlen(path), ":2: unterminated quoted field (the quote opened "
                                            "on this line is never closed)");
    xl_csv_destroy(&c);
    assert_null(c);
    unlink(path);

    err[0] = '\0';
    assert_null(xl_csv_open(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot open"));
}

static void
test_api_edges(void **state)
{
    FILE *f = s_stream("a,b\n", 4);
    struct xl_csv *c = xl_csv_from_file(f, "e.csv");
    struct xl_csv *none = NULL;
    size_t nf, len = 7;

    (void)state;
    xl_csv_destroy(NULL);
    xl_csv_destroy(&none);
    assert_null(xl_csv_from_file(NULL, "x"));
    assert_int_equal(xl_csv_next(NULL, &nf, NULL, 0), XL_ERR_INVALID);
    assert_int_equal(xl_csv_set_read_size(c, 0), XL_ERR_INVALID);
    assert_int_equal(xl_csv_set_read_size(c, XL_CSV_READ_BYTES + 1), XL_ERR_INVALID);
    assert_int_equal(xl_csv_set_limits(c, 10, 0), XL_ERR_INVALID);
    assert_int_equal(xl_csv_next(c, &nf, NULL, 0), 1);
    /* Limits are fixed once reading has started. */
    assert_int_equal(xl_csv_set_limits(c, 4096, 0), XL_ERR_INVALID);
    assert_int_equal(xl_csv_set_read_size(c, 16), XL_ERR_INVALID);
    assert_null(xl_csv_field(c, 2, &len));
    assert_int_equal(len, 0);
    assert_non_null(xl_csv_field(c, 1, NULL));
    assert_int_equal(xl_csv_next(c, &nf, NULL, 0), 0);
    assert_null(xl_csv_field(c, 0, NULL)); /* no record after the end */
    xl_csv_destroy(&c);
    assert_null(c);
    fclose(f);
}

/* A semicolon-separated Windows-1252 export, as Excel writes it in much of
 * Europe: fields split at ';' (a ',' is content) and converted to UTF-8. */
static void
test_delimiter_and_encoding(void **state)
{
    static const char data[] = "Name;Town;Attendance %\r\nJos\xe9;M\xfcnchen;87,5\r\n";
    FILE *f = s_stream(data, sizeof data - 1);
    struct xl_csv *c = xl_csv_from_file(f, "win.csv");
    char err[XL_ERRBUF];
    size_t n;

    assert_non_null(c);
    assert_int_equal(xl_csv_set_delimiter(c, ';'), 0);
    assert_int_equal(xl_csv_set_encoding(c, "windows-1252"), 0);
    assert_int_equal(xl_csv_next(c, &n, err, sizeof err), 1);
    assert_int_equal(n, 3);
    assert_int_equal(xl_csv_next(c, &n, err, sizeof err), 1);
    assert_int_equal(n, 3);
    assert_string_equal(xl_csv_field(c, 0, NULL), "Jos\xc3\xa9");
    assert_string_equal(xl_csv_field(c, 1, NULL), "M\xc3\xbcnchen");
    assert_string_equal(xl_csv_field(c, 2, NULL), "87,5");
    assert_int_equal(xl_csv_next(c, &n, err, sizeof err), 0);
    /* set only before the first record, and only known values */
    assert_int_equal(xl_csv_set_delimiter(c, '\t'), XL_ERR_INVALID);
    xl_csv_destroy(&c);
    fclose(f);

    f = s_stream("a\tb c \n", sizeof "a\tb c \n" - 1);
    c = xl_csv_from_file(f, "tab.csv");
    assert_int_equal(xl_csv_set_delimiter(c, 'x'), XL_ERR_INVALID);
    assert_int_equal(xl_csv_set_encoding(c, "klingon-1"), XL_ERR_INVALID);
    assert_int_equal(xl_csv_set_delimiter(c, '\t'), 0);
    assert_int_equal(xl_csv_next(c, &n, err, sizeof err), 1);
    assert_int_equal(n, 2);
    assert_string_equal(xl_csv_field(c, 1, NULL), "b c"); /* spaces trimmed, not the tab */
    xl_csv_destroy(&c);
    fclose(f);

    /* 0x81 is no character of Windows-1252: the line and field, not the value */
    f = s_stream("a;b\nx;\x81y\n", sizeof "a;b\nx;\x81y\n" - 1);
    c = xl_csv_from_file(f, "bad.csv");
    assert_int_equal(xl_csv_set_delimiter(c, ';'), 0);
    assert_int_equal(xl_csv_set_encoding(c, "WINDOWS-1252"), 0);
    assert_int_equal(xl_csv_next(c, &n, err, sizeof err), 1);
    assert_int_equal(xl_csv_next(c, &n, err, sizeof err), XL_ERR_FORMAT);
    assert_non_null(strstr(err, "bad.csv:2: field 2 holds a byte that is not a character"));
    xl_csv_destroy(&c);
    fclose(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_delimiter_and_encoding),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_embedded_newline),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_crlf_split_across_reads),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_trimming),
        cmocka_unit_test(test_empty_fields),
        cmocka_unit_test(test_no_trailing_newline),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_error_is_sticky_and_names_no_data),
        cmocka_unit_test(test_text_after_quote),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_record_over_default_cap),
        cmocka_unit_test(test_record_cap_exact),
        cmocka_unit_test(test_unterminated_quote_hits_cap),
        cmocka_unit_test(test_field_cap),
        cmocka_unit_test(test_many_records_bounded_memory),
        cmocka_unit_test(test_buffer_grows_to_largest_record),
        cmocka_unit_test(test_bytes_read_progress),
        cmocka_unit_test(test_open_file),
        cmocka_unit_test(test_api_edges),
    };

    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
