#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl/bundle.h"
#include "xl/err.h"
#include "xl/mem.h"

/* Sealed plaintext: magic, epoch (big-endian), recipient key id, agency (NUL
 * padded), linkage secret. Fixed size so a bundle's length reveals nothing. */
#define S_MAGIC        "XLB1"
#define S_PLAIN_BYTES  (4 + 4 + XL_KEYID_BYTES + XL_NAME_MAX + XL_KEY_BYTES)
#define S_SEALED_BYTES (S_PLAIN_BYTES + XL_SEAL_OVERHEAD)
#define S_SEALED_Z85   (S_SEALED_BYTES / 4 * 5)

_Static_assert(S_SEALED_BYTES % 4 == 0, "Z85 needs a multiple of 4 bytes");

static void
s_plain(uint8_t *p, uint32_t epoch, const uint8_t *pk, const char *agency, const uint8_t *secret)
{
    uint8_t h[XL_HASH_BYTES];

    memset(p, 0, S_PLAIN_BYTES);
    memcpy(p, S_MAGIC, 4);
    p[4] = (uint8_t)(epoch >> 24);
    p[5] = (uint8_t)(epoch >> 16);
    p[6] = (uint8_t)(epoch >> 8);
    p[7] = (uint8_t)epoch;
    xl_sha256(pk, XL_KEY_BYTES, h);
    memcpy(p + 8, h, XL_KEYID_BYTES);
    memcpy(p + 8 + XL_KEYID_BYTES, agency, strlen(agency));
    memcpy(p + 8 + XL_KEYID_BYTES + XL_NAME_MAX, secret, XL_KEY_BYTES);
}

int
xl_bundle_write(const char *path, const struct xl_keyfile *secret, const struct xl_keyfile *agent,
                char *err, size_t errlen)
{
    uint8_t *plain = NULL, sealed[S_SEALED_BYTES], check[XL_CHECK_BYTES];
    char z85[S_SEALED_Z85 + 1], checkhex[2 * XL_CHECK_BYTES + 1], id[XL_KEYID_HEX + 1];
    char text[1024];
    int fd = -1, r = XL_ERR_INTERNAL, n;

    if (secret->type != XL_KEY_LINKAGE_SECRET || secret->epoch == 0)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "bundle: not a linkage secret with an epoch");
    if ((agent->type != XL_KEY_CURVE_PUBLIC && agent->type != XL_KEY_CURVE_SECRET) ||
        strcmp(agent->role, "agent") != 0)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "bundle: key '%s' has role '%s'; only an agent receives the linkage "
                          "secret",
                          agent->name, agent->role[0] ? agent->role : "(none)");
    if (!xl_name_valid(agent->agency))
        return xl_err_set(err, errlen, XL_ERR_INVALID, "bundle: agent key has no agency");
    plain = xl_secret_alloc(S_PLAIN_BYTES);
    if (plain == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    s_plain(plain, secret->epoch, agent->pub, agent->agency, secret->secret);
    if (xl_seal(agent->pub, plain, S_PLAIN_BYTES, sealed) != 0 ||
        xl_secret_check(secret->secret, secret->epoch, check) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO, "bundle: sealing failed");
        goto out;
    }
    (void)xl_z85_encode(sealed, sizeof sealed, z85);
    xl_hex(check, sizeof check, checkhex);
    xl_key_id(agent->pub, XL_KEY_BYTES, id);
    n = snprintf(text, sizeof text,
                 "# crosslink linkage-secret bundle: open with crosslink-keys unbundle\n"
                 "type: linkage-bundle\nagency: %s\nrecipient: %s\nepoch: %u\ncheck: %s\n"
                 "sealed: %s\n",
                 agent->agency, id, (unsigned)secret->epoch, checkhex, z85);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        r = xl_err_set(err, errlen, errno == EEXIST ? XL_ERR_EXISTS : XL_ERR_IO,
                       "%s: cannot create: %s", path, strerror(errno));
        goto out;
    }
    if (write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        (void)unlink(path);
        goto out;
    }
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    xl_secret_free(plain);
    return r;
}

/* Reads the bundle's fields; values are copied into the caller's buffers. */
static int
s_read(const char *path, char *agency, char *recipient, uint32_t *epoch, char *check, char *sealed,
       char *err, size_t errlen)
{
    char line[512];
    int lineno = 0, have = 0;
    FILE *f = fopen(path, "re");

    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open bundle: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f) != NULL) {
        char *v, *nl;
        lineno++;
        nl = strpbrk(line, "\r\n");
        if (nl != NULL)
            *nl = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        v = strchr(line, ':');
        if (v == NULL)
            goto bad;
        *v++ = '\0';
        while (*v == ' ')
            v++;
        if (strcmp(line, "type") == 0 && strcmp(v, "linkage-bundle") == 0) {
            have |= 1;
        } else if (strcmp(line, "agency") == 0 && xl_name_valid(v)) {
            strcpy(agency, v);
            have |= 2;
        } else if (strcmp(line, "recipient") == 0 && strlen(v) == XL_KEYID_HEX) {
            strcpy(recipient, v);
            have |= 4;
        } else if (strcmp(line, "epoch") == 0 && strspn(v, "0123456789") == strlen(v) &&
                   strlen(v) > 0 && strlen(v) <= 10 && strtoull(v, NULL, 10) <= UINT32_MAX &&
                   strtoull(v, NULL, 10) > 0) {
            *epoch = (uint32_t)strtoull(v, NULL, 10);
            have |= 8;
        } else if (strcmp(line, "check") == 0 && strlen(v) == 2 * XL_CHECK_BYTES) {
            strcpy(check, v);
            have |= 16;
        } else if (strcmp(line, "sealed") == 0 && strlen(v) == S_SEALED_Z85) {
            strcpy(sealed, v);
            have |= 32;
        } else {
            goto bad;
        }
    }
    fclose(f);
    if (have != 63)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: incomplete bundle (not a bundle file?)",
                          path);
    return 0;
bad:
    fclose(f);
    return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s:%d: malformed bundle line", path, lineno);
}

int
xl_bundle_open(const char *path, const struct xl_keyfile *agent, struct xl_keyfile **out, char *err,
               size_t errlen)
{
    char agency[XL_NAME_MAX], recipient[XL_KEYID_HEX + 1], checkhex[2 * XL_CHECK_BYTES + 1];
    char sealedz[S_SEALED_Z85 + 1], id[XL_KEYID_HEX + 1];
    uint8_t sealed[S_SEALED_BYTES], check[XL_CHECK_BYTES], want_check[XL_CHECK_BYTES];
    uint8_t *plain = NULL, *expect = NULL;
    struct xl_keyfile *kf = NULL;
    uint32_t epoch = 0;
    int r;

    *out = NULL;
    if (agent->type != XL_KEY_CURVE_SECRET)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "unbundle needs the agent's secret key");
    r = s_read(path, agency, recipient, &epoch, checkhex, sealedz, err, errlen);
    if (r != 0)
        return r;
    xl_key_id(agent->pub, XL_KEY_BYTES, id);
    if (strcmp(id, recipient) != 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "%s: bundle is for key %s, not this agent's key %s", path, recipient, id);
    if (xl_z85_decode(sealedz, sealed, sizeof sealed) != 0 ||
        xl_unhex(checkhex, check, sizeof check) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: malformed bundle encoding", path);
    plain = xl_secret_alloc(S_PLAIN_BYTES);
    expect = xl_secret_alloc(S_PLAIN_BYTES);
    kf = xl_keyfile_new(XL_KEY_LINKAGE_SECRET);
    if (plain == NULL || expect == NULL || kf == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (xl_seal_open(agent->pub, agent->secret, sealed, sizeof sealed, plain) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO,
                       "%s: bundle cannot be opened with this key: it was altered or sealed to "
                       "another key",
                       path);
        goto out;
    }
    /* The sealed copy must agree with the visible header, byte for byte. */
    s_plain(expect, epoch, agent->pub, agency, plain + 8 + XL_KEYID_BYTES + XL_NAME_MAX);
    if (!xl_equal(plain, expect, S_PLAIN_BYTES) || strcmp(agency, agent->agency) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO,
                       "%s: bundle header does not match its sealed content (altered bundle) or "
                       "is for agency '%s', not '%s'",
                       path, agency, agent->agency);
        goto out;
    }
    memcpy(kf->secret, plain + 8 + XL_KEYID_BYTES + XL_NAME_MAX, XL_KEY_BYTES);
    if (xl_secret_check(kf->secret, epoch, want_check) != 0 ||
        !xl_equal(want_check, check, XL_CHECK_BYTES)) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO, "%s: bundle check value does not match", path);
        goto out;
    }
    kf->epoch = epoch;
    snprintf(kf->agency, sizeof kf->agency, "%s", agency);
    snprintf(kf->name, sizeof kf->name, "linkage-e%u", (unsigned)epoch);
    xl_today(kf->created);
    *out = kf;
    kf = NULL;
    r = 0;
out:
    xl_secret_free(plain);
    xl_secret_free(expect);
    xl_keyfile_destroy(&kf);
    return r;
}
