#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

char *
tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    path = tu_path(base, "xl-test-XXXXXX");
    if (path != NULL && mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

static int
s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int
tu_rmtree(const char *path)
{
    if (path == NULL)
        return 0;
    /* Depth first, not following links, so only the tree itself is removed. */
    return nftw(path, s_remove, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

char *
tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *
tu_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - len < 4096) {
            char *p = realloc(buf, cap + 8192);
            if (p == NULL)
                goto fail;
            buf = p;
            cap += 8192;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    buf[len] = '\0';
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

int
tu_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    size_t n = strlen(text);
    int r = 0;

    if (f == NULL)
        return -1;
    if (fwrite(text, 1, n, f) != n)
        r = -1;
    if (fclose(f) != 0)
        r = -1;
    return r;
}

int
tu_file_replace(const char *path, const char *from, const char *to)
{
    char *text = tu_read_file(path), *at, *out;
    size_t n;
    int r = -1;

    if (text == NULL)
        return -1;
    at = strstr(text, from);
    if (at == NULL || from[0] == '\0')
        goto out;
    n = strlen(text) - strlen(from) + strlen(to) + 1;
    out = malloc(n);
    if (out == NULL)
        goto out;
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    r = tu_write_file(path, out);
    free(out);
out:
    free(text);
    return r;
}

int
tu_file_mode(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return -1;
    return (int)(st.st_mode & 07777);
}

/* Strips leading and trailing blanks in place; returns the start. */
static char *
s_trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

struct tu_vec *
tu_vec_load(const char *file, size_t *count)
{
    const char *dir = getenv("XL_TEST_VECTORS");
    char line[TU_VEC_VALUE_MAX + TU_VEC_NAME_MAX + 8], *path;
    struct tu_vec *v = NULL, *cur = NULL;
    size_t n = 0, cap = 0;
    int lineno = 0;
    FILE *f;

    *count = 0;
    path = tu_path(dir != NULL && dir[0] != '\0' ? dir : "tests/vectors", file);
    if (path == NULL)
        return NULL;
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: %s (tests run from the repository root)\n", path, strerror(errno));
        free(path);
        return NULL;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        char *s, *eq, *name, *value;
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            fprintf(stderr, "%s:%d: line too long\n", path, lineno);
            goto fail;
        }
        s = s_trim(line);
        if (s[0] == '#')
            continue;
        if (s[0] == '\0') {
            cur = NULL; /* a blank line ends the record */
            continue;
        }
        eq = strchr(s, '=');
        if (eq == NULL) {
            fprintf(stderr, "%s:%d: expected 'name = value'\n", path, lineno);
            goto fail;
        }
        *eq = '\0';
        name = s_trim(s);
        value = s_trim(eq + 1);
        if (cur == NULL) {
            if (n == cap) {
                struct tu_vec *p = realloc(v, (cap ? cap * 2 : 16) * sizeof *p);
                if (p == NULL)
                    goto fail;
                v = p;
                cap = cap ? cap * 2 : 16;
            }
            cur = &v[n++];
            memset(cur, 0, sizeof *cur);
            cur->line = lineno;
        }
        if (cur->nfields == TU_VEC_FIELDS || strlen(name) >= TU_VEC_NAME_MAX ||
            tu_vec_get(cur, name) != NULL) {
            fprintf(stderr, "%s:%d: too many, too long or repeated field names\n", path, lineno);
            goto fail;
        }
        strcpy(cur->name[cur->nfields], name);
        strcpy(cur->value[cur->nfields], value);
        cur->nfields++;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: read error\n", path);
        goto fail;
    }
    fclose(f);
    free(path);
    *count = n;
    return v;
fail:
    fclose(f);
    free(path);
    free(v);
    return NULL;
}

const char *
tu_vec_get(const struct tu_vec *v, const char *name)
{
    for (int i = 0; i < v->nfields; i++) {
        if (strcmp(v->name[i], name) == 0)
            return v->value[i];
    }
    return NULL;
}

static int
s_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decoded here rather than with xl_unhex, so a bug there cannot hide behind
 * vectors read with it. */
int
tu_vec_hex(const struct tu_vec *v, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    const char *s = tu_vec_get(v, name);
    size_t n;

    *len = 0;
    if (s == NULL)
        return -1;
    n = strlen(s);
    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = s_hexval((unsigned char)s[2 * i]), lo = s_hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

int
tu_vec_uint(const struct tu_vec *v, const char *name, uint64_t *out)
{
    const char *s = tu_vec_get(v, name);
    char *end;
    unsigned long long x;

    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    x = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)x;
    return 0;
}
