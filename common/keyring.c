#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xl/err.h"
#include "xl/keyring.h"
#include "xl/mem.h"

static const char *s_roles[XL_ROLE_COUNT] = {"agent", "analyst", "auditor", "admin"};

int
xl_role_parse(const char *s, enum xl_role *out)
{
    for (int i = 0; i < XL_ROLE_COUNT; i++) {
        if (strcmp(s, s_roles[i]) == 0) {
            *out = (enum xl_role)i;
            return 0;
        }
    }
    return XL_ERR_INVALID;
}

const char *
xl_role_name(enum xl_role r)
{
    return (unsigned)r < XL_ROLE_COUNT ? s_roles[r] : "unknown";
}

static int
s_date_valid(const char *s)
{
    int m, d;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    }
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

int
xl_keyring_parse_line(const char *line, const char *where, struct xl_keyring_entry *e, char *err,
                      size_t errlen)
{
    static const char *names[] = {"key id", "role", "agency",    "name",
                                  "status", "date", "public key"};
    char buf[512], *field[8], *save = NULL, *tok;
    char want_id[XL_KEYID_HEX + 1];
    int n = 0;

    memset(e, 0, sizeof *e);
    if (strlen(line) >= sizeof buf)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: line too long", where);
    strcpy(buf, line);
    for (tok = strtok_r(buf, " \t\r\n", &save); tok != NULL && n < 8;
         tok = strtok_r(NULL, " \t\r\n", &save))
        field[n++] = tok;
    if (n != 7)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: expected 7 fields (key id, role, agency, name, status, date, "
                          "public key), found %d",
                          where, n);
    if (xl_role_parse(field[1], &e->role) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: unknown role '%.20s' (agent, analyst, auditor or admin)", where,
                          field[1]);
    for (int i = 2; i <= 3; i++) {
        if (!xl_name_valid(field[i]))
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: invalid %s", where, names[i]);
    }
    strcpy(e->agency, field[2]);
    strcpy(e->name, field[3]);
    if (strcmp(field[4], "active") == 0)
        e->active = 1;
    else if (strcmp(field[4], "revoked") != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: status must be 'active' or 'revoked', not '%.20s'", where, field[4]);
    if (!s_date_valid(field[5]))
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: date must be YYYY-MM-DD", where);
    strcpy(e->date, field[5]);
    if (strlen(field[6]) != XL_KEY_BYTES / 4 * 5 ||
        xl_z85_decode(field[6], e->pk, XL_KEY_BYTES) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: public key must be %d characters of Z85 (a 32-byte key)", where,
                          XL_KEY_BYTES / 4 * 5);
    xl_key_id(e->pk, XL_KEY_BYTES, want_id);
    if (strcmp(field[0], want_id) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: key id %.20s does not match the public key (expected %s)", where,
                          field[0], want_id);
    strcpy(e->key_id, want_id);
    return 0;
}

int
xl_keyring_format_line(const struct xl_keyring_entry *e, char *buf, size_t len)
{
    char z85[XL_KEY_BYTES / 4 * 5 + 1];
    int n;

    if (xl_z85_encode(e->pk, XL_KEY_BYTES, z85) != 0)
        return XL_ERR_INTERNAL;
    n = snprintf(buf, len, "%s %s %s %s %s %s %s", e->key_id, xl_role_name(e->role), e->agency,
                 e->name, e->active ? "active" : "revoked", e->date, z85);
    return n < 0 || (size_t)n >= len ? XL_ERR_INVALID : 0;
}

struct xl_keyring *
xl_keyring_new(void)
{
    return calloc(1, sizeof(struct xl_keyring));
}

void
xl_keyring_destroy(struct xl_keyring **krp)
{
    if (krp == NULL || *krp == NULL)
        return;
    free((*krp)->entries);
    free(*krp);
    *krp = NULL;
}

static int
s_append(struct xl_keyring *kr, const struct xl_keyring_entry *e)
{
    if (kr->count == kr->cap) {
        size_t cap = kr->cap ? kr->cap * 2 : 16;
        struct xl_keyring_entry *p = realloc(kr->entries, cap * sizeof *p);
        if (p == NULL)
            return XL_ERR_NOMEM;
        kr->entries = p;
        kr->cap = cap;
    }
    kr->entries[kr->count++] = *e;
    return 0;
}

const struct xl_keyring_entry *
xl_keyring_find_pk(const struct xl_keyring *kr, const uint8_t pk[XL_KEY_BYTES])
{
    for (size_t i = 0; i < kr->count; i++) {
        if (xl_equal(kr->entries[i].pk, pk, XL_KEY_BYTES))
            return &kr->entries[i];
    }
    return NULL;
}

const struct xl_keyring_entry *
xl_keyring_find(const struct xl_keyring *kr, const char *id_or_name)
{
    for (size_t i = 0; i < kr->count; i++) {
        if (strcmp(kr->entries[i].key_id, id_or_name) == 0 ||
            strcmp(kr->entries[i].name, id_or_name) == 0)
            return &kr->entries[i];
    }
    return NULL;
}

const struct xl_keyring_entry *
xl_keyring_find_id(const struct xl_keyring *kr, const char *id)
{
    for (size_t i = 0; kr != NULL && id != NULL && i < kr->count; i++) {
        if (strcmp(kr->entries[i].key_id, id) == 0)
            return &kr->entries[i];
    }
    return NULL;
}

void
xl_keyring_count(const struct xl_keyring *kr, struct xl_keyring_counts *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; kr != NULL && i < kr->count; i++) {
        c->entries++;
        if (kr->entries[i].active) {
            c->active++;
            if (kr->entries[i].role == XL_ROLE_AGENT)
                c->agents++;
        } else {
            c->revoked++;
        }
    }
}

int
xl_keyring_add(struct xl_keyring *kr, const struct xl_keyring_entry *e, char *err, size_t errlen)
{
    char id[XL_KEYID_HEX + 1];

    /* Whatever is added must survive a save and load: the linker reloads it. */
    xl_key_id(e->pk, XL_KEY_BYTES, id);
    if ((unsigned)e->role >= XL_ROLE_COUNT || !xl_name_valid(e->name) ||
        !xl_name_valid(e->agency) || strcmp(id, e->key_id) != 0 || !s_date_valid(e->date))
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "keyring entry '%.64s' is not valid (role, name, agency, key id or date)",
                          e->name);
    for (size_t i = 0; i < kr->count; i++) {
        const struct xl_keyring_entry *o = &kr->entries[i];
        if (xl_equal(o->pk, e->pk, XL_KEY_BYTES))
            return xl_err_set(err, errlen, XL_ERR_EXISTS,
                              "key %s is already in the keyring (as '%s', %s)", e->key_id, o->name,
                              o->active ? "active" : "revoked");
        if (strcmp(o->name, e->name) == 0)
            return xl_err_set(err, errlen, XL_ERR_EXISTS,
                              "a key named '%s' is already in the keyring (key id %s)", e->name,
                              o->key_id);
    }
    if (s_append(kr, e) != 0)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    return 0;
}

int
xl_keyring_revoke(struct xl_keyring *kr, const char *id_or_name, const char *date, char *err,
                  size_t errlen)
{
    struct xl_keyring_entry *e = (struct xl_keyring_entry *)xl_keyring_find(kr, id_or_name);

    if (e == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOTFOUND, "no key '%s' in the keyring", id_or_name);
    if (!e->active)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "key '%s' (%s) is already revoked", e->name,
                          e->key_id);
    e->active = 0;
    snprintf(e->date, sizeof e->date, "%s", date);
    return 0;
}

int
xl_keyring_load(const char *path, struct xl_keyring **out, char *err, size_t errlen)
{
    struct xl_keyring *kr = NULL;
    char line[512], where[300];
    int lineno = 0, r = XL_ERR_INTERNAL;
    FILE *f;

    *out = NULL;
    f = fopen(path, "re");
    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open keyring: %s", path, strerror(errno));
    kr = xl_keyring_new();
    if (kr == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        struct xl_keyring_entry e;
        const char *p = line;
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (strchr(line, '\n') == NULL && !feof(f)) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: line too long", where);
            goto out;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        r = xl_keyring_parse_line(p, where, &e, err, errlen);
        if (r != 0)
            goto out;
        r = xl_keyring_add(kr, &e, NULL, 0);
        if (r != 0) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: duplicate key or name '%s'", where,
                           e.name);
            goto out;
        }
    }
    if (ferror(f)) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: read error", path);
        goto out;
    }
    *out = kr;
    kr = NULL;
    r = 0;
out:
    fclose(f);
    xl_keyring_destroy(&kr);
    return r;
}

/* Makes a rename durable: fsync the directory that holds path. */
static void
s_sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd;

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path + (slash == path)), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int
xl_keyring_save(const struct xl_keyring *kr, const char *path, char *err, size_t errlen)
{
    char tmp[4096], line[512];
    FILE *f;
    int fd, r = XL_ERR_IO;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    (void)fchmod(fd, 0644);
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        goto fail;
    }
    fprintf(f, "# crosslink keyring: key id, role, agency, name, status, date, public key\n");
    for (size_t i = 0; i < kr->count; i++) {
        if (xl_keyring_format_line(&kr->entries[i], line, sizeof line) != 0) {
            fclose(f);
            goto fail;
        }
        fprintf(f, "%s\n", line);
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        goto fail;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        goto fail;
    s_sync_dir(path);
    return 0;
fail:
    r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot write keyring: %s", path, strerror(errno));
    (void)unlink(tmp);
    return r;
}

int
xl_keyring_entry_from_key(const struct xl_keyfile *kf, struct xl_keyring_entry *e, char *err,
                          size_t errlen)
{
    memset(e, 0, sizeof *e);
    if (kf->type != XL_KEY_CURVE_PUBLIC && kf->type != XL_KEY_CURVE_SECRET)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "a keyring holds role keys (curve keys), not a %s",
                          xl_key_type_name(kf->type));
    if (xl_role_parse(kf->role, &e->role) != 0)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "key '%s' has role '%s'; the keyring takes agent, analyst, auditor or "
                          "admin keys",
                          kf->name, kf->role[0] ? kf->role : "(none)");
    if (!xl_name_valid(kf->name) || !xl_name_valid(kf->agency))
        return xl_err_set(err, errlen, XL_ERR_INVALID, "key has no valid name or agency");
    strcpy(e->name, kf->name);
    strcpy(e->agency, kf->agency);
    memcpy(e->pk, kf->pub, XL_KEY_BYTES);
    xl_key_id(e->pk, XL_KEY_BYTES, e->key_id);
    e->active = 1;
    xl_today(e->date);
    return 0;
}
