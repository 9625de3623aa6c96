#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/mem.h"

/* Sizes per type: public part and secret part, in bytes (0 = absent). */
static const struct {
    const char *name;
    size_t publen;
    size_t secretlen;
} s_types[] = {
    [XL_KEY_CURVE_PUBLIC] = {"curve-public", XL_KEY_BYTES, 0},
    [XL_KEY_CURVE_SECRET] = {"curve-secret", XL_KEY_BYTES, XL_KEY_BYTES},
    [XL_KEY_SIGN_PUBLIC] = {"sign-public", XL_SIGN_PK_BYTES, 0},
    [XL_KEY_SIGN_SECRET] = {"sign-secret", XL_SIGN_PK_BYTES, XL_SIGN_SK_BYTES},
    [XL_KEY_ANALYSIS_PUBLIC] = {"analysis-public", XL_KEY_BYTES, 0},
    [XL_KEY_ANALYSIS_SECRET] = {"analysis-secret", XL_KEY_BYTES, XL_KEY_BYTES},
    [XL_KEY_LINKAGE_SECRET] = {"linkage-secret", 0, XL_KEY_BYTES},
    [XL_KEY_LOCAL_SECRET] = {"local-secret", 0, XL_KEY_BYTES},
    [XL_KEY_PSEUDONYM_SECRET] = {"pseudonym-secret", 0, XL_KEY_BYTES},
};
#define S_NTYPES (sizeof s_types / sizeof s_types[0])

/* Longest line we accept: an 80-character Z85 secret plus its field name. */
#define S_LINE_MAX 256

const char *
xl_key_type_name(enum xl_key_type t)
{
    return (size_t)t < S_NTYPES ? s_types[t].name : "unknown";
}

int
xl_key_type_is_secret(enum xl_key_type t)
{
    return (size_t)t < S_NTYPES && s_types[t].secretlen > 0;
}

static int
s_type_parse(const char *s, enum xl_key_type *out)
{
    for (size_t i = 0; i < S_NTYPES; i++) {
        if (strcmp(s, s_types[i].name) == 0) {
            *out = (enum xl_key_type)i;
            return 0;
        }
    }
    return XL_ERR_FORMAT;
}

/* The public counterpart of a secret type with a public part. */
static enum xl_key_type
s_public_type(enum xl_key_type t)
{
    switch (t) {
    case XL_KEY_CURVE_SECRET: return XL_KEY_CURVE_PUBLIC;
    case XL_KEY_SIGN_SECRET: return XL_KEY_SIGN_PUBLIC;
    case XL_KEY_ANALYSIS_SECRET: return XL_KEY_ANALYSIS_PUBLIC;
    default: return t;
    }
}

int
xl_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= XL_NAME_MAX || s[0] == '.' || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

void
xl_today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

struct xl_keyfile *
xl_keyfile_new(enum xl_key_type t)
{
    struct xl_keyfile *kf;

    if ((size_t)t >= S_NTYPES)
        return NULL;
    kf = calloc(1, sizeof *kf);
    if (kf == NULL)
        return NULL;
    kf->type = t;
    kf->publen = s_types[t].publen;
    kf->secretlen = s_types[t].secretlen;
    if (kf->secretlen > 0) {
        kf->secret = xl_secret_alloc(kf->secretlen);
        if (kf->secret == NULL) {
            free(kf);
            return NULL;
        }
    }
    return kf;
}

void
xl_keyfile_destroy(struct xl_keyfile **kfp)
{
    struct xl_keyfile *kf;

    if (kfp == NULL || *kfp == NULL)
        return;
    kf = *kfp;
    xl_secret_free(kf->secret);
    xl_freezero(kf, sizeof *kf);
    *kfp = NULL;
}

int
xl_keyfile_generate(struct xl_keyfile *kf)
{
    switch (kf->type) {
    case XL_KEY_CURVE_SECRET:
    case XL_KEY_ANALYSIS_SECRET: return xl_box_keypair(kf->pub, kf->secret);
    case XL_KEY_SIGN_SECRET: return xl_sign_keypair(kf->pub, kf->secret);
    case XL_KEY_LINKAGE_SECRET:
    case XL_KEY_LOCAL_SECRET:
    case XL_KEY_PSEUDONYM_SECRET: xl_random(kf->secret, kf->secretlen); return 0;
    default: return XL_ERR_INVALID;
    }
}

int
xl_keyfile_write(const char *path, const struct xl_keyfile *kf, int write_public, char *err,
                 size_t errlen)
{
    enum xl_key_type t = write_public ? s_public_type(kf->type) : kf->type;
    int secret = xl_key_type_is_secret(t);
    char z85[2 * XL_SIGN_SK_BYTES];
    char *text = NULL;
    size_t cap = 1024, len = 0;
    int r = XL_ERR_INTERNAL, fd = -1;

    if (write_public && kf->publen == 0)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: a %s has no public part", path,
                          xl_key_type_name(kf->type));
    text = malloc(cap);
    if (text == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: out of memory", path);

#define S_ADD(...) len += (size_t)snprintf(text + len, cap - len, __VA_ARGS__)
    S_ADD("# crosslink key file%s\n",
          secret ? ": secret, keep it mode 0600 and never send it" : " (public)");
    S_ADD("type: %s\n", xl_key_type_name(t));
    if (kf->name[0] != '\0')
        S_ADD("name: %s\n", kf->name);
    if (kf->role[0] != '\0')
        S_ADD("role: %s\n", kf->role);
    if (kf->agency[0] != '\0')
        S_ADD("agency: %s\n", kf->agency);
    if (kf->created[0] != '\0')
        S_ADD("created: %s\n", kf->created);
    if (t == XL_KEY_LINKAGE_SECRET)
        S_ADD("epoch: %u\n", (unsigned)kf->epoch);
    if (kf->publen > 0) {
        (void)xl_z85_encode(kf->pub, kf->publen, z85);
        S_ADD("public: %s\n", z85);
    }
    if (secret) {
        (void)xl_z85_encode(kf->secret, kf->secretlen, z85);
        S_ADD("secret: %s\n", z85);
        xl_wipe(z85, sizeof z85);
    }
#undef S_ADD
    if (len >= cap) {
        r = xl_err_set(err, errlen, XL_ERR_INTERNAL, "%s: key file text too long", path);
        goto out;
    }

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, secret ? 0600 : 0644);
    if (fd < 0) {
        r = xl_err_set(err, errlen, errno == EEXIST ? XL_ERR_EXISTS : XL_ERR_IO,
                       "%s: cannot create: %s%s", path, strerror(errno),
                       errno == EEXIST ? " (refusing to overwrite a key file)" : "");
        goto out;
    }
    /* The umask may have narrowed the mode; widen a public file back to 0644. */
    if (!secret)
        (void)fchmod(fd, 0644);
    if (xl_write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        (void)unlink(path);
        goto out;
    }
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    xl_freezero(text, cap);
    return r;
}

/* Parses "field: value" into the structure; value is NUL-terminated in place. */
static int
s_set_field(struct xl_keyfile *kf, const char *path, int lineno, const char *field, char *value,
            int *seen_type, int *seen_pub, int *seen_secret, char *err, size_t errlen)
{
    if (strcmp(field, "type") == 0) {
        enum xl_key_type t;
        if (s_type_parse(value, &t) != 0)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: unknown key type '%.32s'", path,
                              lineno, value);
        if (t != kf->type)
            return xl_err_set(err, errlen, XL_ERR_INVALID,
                              "%s: is a %s key file, expected a %s key file", path,
                              xl_key_type_name(t), xl_key_type_name(kf->type));
        *seen_type = 1;
        return 0;
    }
    {
        /* The text labels: where each goes, its size, and whether it is a name. */
        const struct {
            const char *field;
            char *dst;
            size_t cap;
            int is_name;
        } labels[] = {
            {"name", kf->name, sizeof kf->name, 1},
            {"agency", kf->agency, sizeof kf->agency, 1},
            {"role", kf->role, sizeof kf->role, 1},
            {"created", kf->created, sizeof kf->created, 0},
        };
        for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
            if (strcmp(field, labels[i].field) != 0)
                continue;
            if (labels[i].is_name && !xl_name_valid(value))
                return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: invalid %s", path, lineno,
                                  field);
            if (strlen(value) >= labels[i].cap)
                return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: %s too long", path, lineno,
                                  field);
            memcpy(labels[i].dst, value, strlen(value) + 1);
            return 0;
        }
    }
    if (strcmp(field, "epoch") == 0) {
        char *end;
        unsigned long e;
        errno = 0;
        e = strtoul(value, &end, 10);
        if (errno != 0 || *end != '\0' || e == 0 || e > UINT32_MAX || value[0] == '-')
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: invalid epoch", path, lineno);
        kf->epoch = (uint32_t)e;
        return 0;
    }
    if (strcmp(field, "public") == 0 || strcmp(field, "secret") == 0) {
        int is_pub = field[0] == 'p';
        size_t want = is_pub ? kf->publen : kf->secretlen;
        uint8_t *dst = is_pub ? kf->pub : kf->secret;
        size_t got = strlen(value);
        if (want == 0)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: a %s key file has no %s key",
                              path, lineno, xl_key_type_name(kf->type), field);
        if (got % 5 != 0 || got / 5 * 4 != want)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "%s:%d: %s key is %zu bytes, expected %zu (wrong key or truncated "
                              "file)",
                              path, lineno, field, got % 5 == 0 ? got / 5 * 4 : got * 4 / 5, want);
        if (xl_z85_decode(value, dst, want) != 0)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: %s key is not valid Z85 text",
                              path, lineno, field);
        *(is_pub ? seen_pub : seen_secret) = 1;
        return 0;
    }
    return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: unknown field '%.32s'", path, lineno,
                      field);
}

/* Checks the public part matches the secret part for key pairs. */
static int
s_check_pair(const struct xl_keyfile *kf, const char *path, char *err, size_t errlen)
{
    uint8_t pk[XL_SIGN_PK_BYTES];

    if (kf->type == XL_KEY_CURVE_SECRET || kf->type == XL_KEY_ANALYSIS_SECRET) {
        if (xl_box_public(kf->secret, pk) != 0 || !xl_equal(pk, kf->pub, XL_KEY_BYTES))
            goto bad;
    } else if (kf->type == XL_KEY_SIGN_SECRET) {
        /* An Ed25519 secret key ends with its public key. */
        if (!xl_equal(kf->secret + 32, kf->pub, XL_SIGN_PK_BYTES))
            goto bad;
    }
    return 0;
bad:
    return xl_err_set(err, errlen, XL_ERR_FORMAT,
                      "%s: public key does not match the secret key (damaged file)", path);
}

static int
s_load(const char *path, enum xl_key_type want, struct xl_keyfile **out, char *err, size_t errlen)
{
    struct xl_keyfile *kf = NULL;
    int secret = xl_key_type_is_secret(want);
    int seen_type = 0, seen_pub = 0, seen_secret = 0, lineno = 0;
    char line[S_LINE_MAX + 2];
    struct stat st;
    FILE *f = NULL;
    int r = XL_ERR_INTERNAL;

    *out = NULL;
    f = fopen(path, "re");
    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open key file: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: not a regular file", path);
        goto out;
    }
    kf = xl_keyfile_new(want);
    if (kf == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        size_t n = strlen(line);
        char *colon, *value;
        lineno++;
        if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: line too long (not a key file?)",
                           path, lineno);
            goto out;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        colon = strchr(line, ':');
        if (colon == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: expected 'field: value'", path,
                           lineno);
            goto out;
        }
        *colon = '\0';
        value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        r = s_set_field(kf, path, lineno, line, value, &seen_type, &seen_pub, &seen_secret, err,
                        errlen);
        if (r != 0)
            goto out;
    }
    if (ferror(f)) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: read error", path);
        goto out;
    }
    if (!seen_type || (kf->publen > 0 && !seen_pub) || (kf->secretlen > 0 && !seen_secret)) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: incomplete key file (missing %s)", path,
                       !seen_type                    ? "type"
                       : !seen_pub && kf->publen > 0 ? "public key"
                                                     : "secret key");
        goto out;
    }
    if (want == XL_KEY_LINKAGE_SECRET && kf->epoch == 0) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: linkage secret has no epoch", path);
        goto out;
    }
    /* Checked once the file is known to be a secret key file, so a public file
     * given by mistake is reported as the wrong type, not as unsafe. */
    if (secret && (st.st_mode & 077) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_PERM,
                       "%s: secret key file is readable by group or others (mode %03o); "
                       "fix with: chmod 600 %s",
                       path, (unsigned)(st.st_mode & 0777), path);
        goto out;
    }
    r = s_check_pair(kf, path, err, errlen);
    if (r != 0)
        goto out;
    *out = kf;
    kf = NULL;
out:
    xl_wipe(line, sizeof line);
    if (f != NULL)
        fclose(f);
    xl_keyfile_destroy(&kf);
    return r;
}

int
xl_keyfile_load(const char *path, enum xl_key_type want, struct xl_keyfile **out, char *err,
                size_t errlen)
{
    return s_load(path, want, out, err, errlen);
}

int
xl_keyfile_load_public(const char *path, enum xl_key_type want_public, struct xl_keyfile **out,
                       char *err, size_t errlen)
{
    enum xl_key_type secret_type;
    struct xl_keyfile *sk = NULL, *pk;
    char first[XL_ERRBUF];
    int r;

    *out = NULL;
    r = s_load(path, want_public, out, first, sizeof first);
    if (r != XL_ERR_INVALID) {
        if (r != 0)
            xl_err_set(err, errlen, r, "%s", first);
        return r;
    }
    /* Not the public type: accept the matching secret file, keep only its public part. */
    switch (want_public) {
    case XL_KEY_CURVE_PUBLIC: secret_type = XL_KEY_CURVE_SECRET; break;
    case XL_KEY_SIGN_PUBLIC: secret_type = XL_KEY_SIGN_SECRET; break;
    case XL_KEY_ANALYSIS_PUBLIC: secret_type = XL_KEY_ANALYSIS_SECRET; break;
    default: return xl_err_set(err, errlen, r, "%s", first);
    }
    r = s_load(path, secret_type, &sk, err, errlen);
    if (r == XL_ERR_INVALID)
        return xl_err_set(err, errlen, r, "%s", first);
    if (r != 0)
        return r;
    pk = xl_keyfile_new(want_public);
    if (pk == NULL) {
        xl_keyfile_destroy(&sk);
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(pk->name, sk->name, sizeof pk->name);
    memcpy(pk->role, sk->role, sizeof pk->role);
    memcpy(pk->agency, sk->agency, sizeof pk->agency);
    memcpy(pk->created, sk->created, sizeof pk->created);
    memcpy(pk->pub, sk->pub, sk->publen);
    xl_keyfile_destroy(&sk);
    *out = pk;
    return 0;
}
