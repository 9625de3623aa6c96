#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/note.h"

/* The signature line prefix: em dash (U+2014) and a space. */
static const char s_sig_prefix[] = "\xe2\x80\x94 ";
#define S_SIG_PREFIX_LEN (sizeof s_sig_prefix - 1)
/* base64 of the 1-byte type and the 32-byte key; of key id and signature. */
#define S_VKEY_B64_LEN 44
#define S_SIG_B64_LEN  92

/* Decodes one UTF-8 sequence at p (n > 0 bytes left): its length, or 0 when it
 * is not well-formed (truncated, overlong, a surrogate, above U+10FFFF). */
static size_t
s_utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint32_t c = p[0], min;
    size_t len;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0) {
        len = 2, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* The Unicode White_Space property, which is what Go's unicode.IsSpace tests
 * in the reference implementation. */
static int
s_is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* Note text rules: valid UTF-8, no control character but newline. Returns n,
 * or the offset of the first offending byte. */
static size_t
s_text_check(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, k;
    uint32_t c;

    while (i < n) {
        k = s_utf8_next(p + i, n - i, &c);
        if (k == 0 || (c < 0x20 && c != '\n'))
            return i;
        i += k;
    }
    return n;
}

static int
s_name_ok(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, k;
    uint32_t c;

    if (n == 0 || n > XL_NOTE_NAME_MAX)
        return 0;
    while (i < n) {
        k = s_utf8_next(p + i, n - i, &c);
        if (k == 0 || c < 0x20 || c == '+' || s_is_space(c))
            return 0;
        i += k;
    }
    return 1;
}

static uint32_t
s_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
s_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Strict standard base64 with padding: the whole of s, canonical final bits. */
static int
s_unbase64(const char *s, size_t n, uint8_t *out, size_t outmax, size_t *outlen)
{
    *outlen = 0;
    /* libsodium's decoder takes some bytes outside the alphabet (non-ASCII
     * ones) for alphabet characters: only the alphabet reaches it. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return XL_ERR_FORMAT;
    }
    if (sodium_base642bin(out, outmax, s, n, NULL, outlen, NULL, sodium_base64_VARIANT_ORIGINAL) !=
        0) {
        *outlen = 0;
        return XL_ERR_FORMAT;
    }
    return 0;
}

static void
s_key_id(const char *name, size_t n, const uint8_t pk[XL_SIGN_PK_BYTES], uint32_t *id)
{
    crypto_hash_sha256_state st;
    uint8_t h[crypto_hash_sha256_BYTES];
    const uint8_t sep[2] = {'\n', XL_NOTE_ALG_ED25519};

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, n);
    crypto_hash_sha256_update(&st, sep, sizeof sep);
    crypto_hash_sha256_update(&st, pk, XL_SIGN_PK_BYTES);
    crypto_hash_sha256_final(&st, h);
    *id = s_be32(h);
}

int
xl_note_name_valid(const char *name)
{
    return name != NULL && s_name_ok(name, strnlen(name, XL_NOTE_NAME_MAX + 1));
}

int
xl_note_key_id(const char *name, const uint8_t pk[XL_SIGN_PK_BYTES], uint32_t *id)
{
    *id = 0;
    if (!xl_note_name_valid(name))
        return XL_ERR_INVALID;
    s_key_id(name, strlen(name), pk, id);
    return 0;
}

int
xl_note_vkey_init(struct xl_note_vkey *vk, const char *name, const uint8_t pk[XL_SIGN_PK_BYTES],
                  char *err, size_t errlen)
{
    memset(vk, 0, sizeof *vk);
    if (!xl_note_name_valid(name))
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "key name: empty, over %d bytes, not UTF-8, or has a space, '+' or "
                          "control character",
                          XL_NOTE_NAME_MAX);
    memcpy(vk->name, name, strlen(name) + 1);
    memcpy(vk->pk, pk, XL_SIGN_PK_BYTES);
    s_key_id(vk->name, strlen(vk->name), vk->pk, &vk->id);
    return 0;
}

int
xl_note_vkey_format(const struct xl_note_vkey *vk, char out[XL_NOTE_VKEY_MAX])
{
    uint8_t key[1 + XL_SIGN_PK_BYTES];
    char b64[sodium_base64_ENCODED_LEN(sizeof key, sodium_base64_VARIANT_ORIGINAL)];
    uint32_t id;
    int n;

    out[0] = '\0';
    if (xl_note_key_id(vk->name, vk->pk, &id) != 0)
        return XL_ERR_INVALID;
    key[0] = XL_NOTE_ALG_ED25519;
    memcpy(key + 1, vk->pk, XL_SIGN_PK_BYTES);
    sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(out, XL_NOTE_VKEY_MAX, "%s+%08" PRIx32 "+%s", vk->name, id, b64);
    if (n < 0 || n >= XL_NOTE_VKEY_MAX) {
        out[0] = '\0';
        return XL_ERR_INTERNAL;
    }
    return 0;
}

/* Exactly 8 lower-case hex digits (the spec's fixed-length lower-case hex). */
static int
s_parse_hex32(const char *s, size_t n, uint32_t *v)
{
    *v = 0;
    if (n != 8)
        return XL_ERR_FORMAT;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else
            return XL_ERR_FORMAT;
        *v = *v << 4 | d;
    }
    return 0;
}

int
xl_note_vkey_parse(const char *text, struct xl_note_vkey *vk, char *err, size_t errlen)
{
    const char *p1, *p2, *key64;
    uint8_t key[1 + XL_SIGN_PK_BYTES + 1];
    size_t keylen, namelen;
    uint32_t id, want;

    memset(vk, 0, sizeof *vk);
    /* The name has no '+' and the id is hex, so the first two '+' split the
     * text; the base64 key may itself contain '+'. */
    p1 = strchr(text, '+');
    p2 = p1 != NULL ? strchr(p1 + 1, '+') : NULL;
    if (p2 == NULL)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "verifier key: not <name>+<key id>+<key> (missing '+')");
    namelen = (size_t)(p1 - text);
    if (!s_name_ok(text, namelen))
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "verifier key: invalid key name");
    if (s_parse_hex32(p1 + 1, (size_t)(p2 - p1 - 1), &id) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "verifier key: key id is not 8 lower-case hex digits");
    key64 = p2 + 1;
    if (s_unbase64(key64, strlen(key64), key, sizeof key, &keylen) != 0 || keylen == 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "verifier key: key is not base64");
    if (key[0] != XL_NOTE_ALG_ED25519)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "verifier key: signature type %u is not Ed25519 (1)", key[0]);
    if (keylen != 1 + XL_SIGN_PK_BYTES)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "verifier key: Ed25519 key of %zu bytes, not %d", keylen - 1,
                          XL_SIGN_PK_BYTES);
    s_key_id(text, namelen, key + 1, &want);
    if (id != want)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "verifier key: key id %08" PRIx32
                          " is not that of the name and key (%08" PRIx32 ")",
                          id, want);
    memcpy(vk->name, text, namelen);
    vk->name[namelen] = '\0';
    vk->id = id;
    memcpy(vk->pk, key + 1, XL_SIGN_PK_BYTES);
    return 0;
}

int
xl_note_sign(const char *text, size_t len, const char *name, const uint8_t sk[XL_SIGN_SK_BYTES],
             char **out, size_t *outlen, char *err, size_t errlen)
{
    uint8_t pk[XL_SIGN_PK_BYTES], raw[XL_NOTE_KEYID_BYTES + XL_SIG_BYTES];
    char b64[sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_ORIGINAL)];
    size_t namelen, total, off, bad;
    uint32_t id;
    char *buf;
    int r;

    *out = NULL;
    *outlen = 0;
    if (!xl_note_name_valid(name))
        return xl_err_set(err, errlen, XL_ERR_INVALID, "signing a note: invalid key name");
    namelen = strlen(name);
    if (len > XL_NOTE_MAX)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG, "signing a note: text over %d bytes",
                          XL_NOTE_MAX);
    if (len == 0 || text[len - 1] != '\n')
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "signing a note: the text does not end in a newline");
    bad = s_text_check(text, len);
    if (bad != len)
        return xl_err_set(err, errlen, XL_ERR_INVALID,
                          "signing a note: byte %zu of the text is a control character or not "
                          "UTF-8",
                          bad);
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    s_key_id(name, namelen, pk, &id);
    s_put_be32(raw, id);
    r = xl_sign(sk, text, len, raw + XL_NOTE_KEYID_BYTES);
    if (r != 0)
        return xl_err_set(err, errlen, r, "signing a note: %s", xl_strerror(r));
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);

    total = len + 1 + S_SIG_PREFIX_LEN + namelen + 1 + S_SIG_B64_LEN + 1;
    buf = malloc(total + 1);
    if (buf == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "signing a note: out of memory");
    memcpy(buf, text, len);
    off = len;
    buf[off++] = '\n';
    memcpy(buf + off, s_sig_prefix, S_SIG_PREFIX_LEN);
    off += S_SIG_PREFIX_LEN;
    memcpy(buf + off, name, namelen);
    off += namelen;
    buf[off++] = ' ';
    memcpy(buf + off, b64, S_SIG_B64_LEN);
    off += S_SIG_B64_LEN;
    buf[off++] = '\n';
    buf[off] = '\0';
    *out = buf;
    *outlen = off;
    return 0;
}

int
xl_note_verify(const char *msg, size_t len, const struct xl_note_vkey *vk, size_t *textlen,
               char *err, size_t errlen)
{
    uint8_t raw[XL_NOTE_SIG_B64_MAX / 4 * 3];
    size_t split, bad, pos, tlen, vnamelen, rawlen;
    int nsig = 0, found = 0, badsig = 0;

    *textlen = 0;
    if (len > XL_NOTE_MAX)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG, "note of %zu bytes, over the limit of %d",
                          len, XL_NOTE_MAX);
    bad = s_text_check(msg, len);
    if (bad != len)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "note: byte %zu is a control character or not UTF-8", bad);
    if (len == 0 || msg[len - 1] != '\n')
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "note: does not end in a newline");
    /* The text ends at the last blank line. */
    split = len;
    for (size_t i = len - 1; i-- > 0;) {
        if (msg[i] == '\n' && msg[i + 1] == '\n') {
            split = i;
            break;
        }
    }
    if (split == len)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "note: no blank line between the text and the signatures");
    tlen = split + 1;
    pos = split + 2;
    if (pos == len)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "note: no signature lines");
    vnamelen = strnlen(vk->name, sizeof vk->name);

    while (pos < len) {
        const char *line = msg + pos, *eol = memchr(line, '\n', len - pos), *name, *sp, *b64;
        size_t namelen, b64len;
        uint32_t id;

        /* The note ends in a newline, so eol is never NULL. */
        pos = (size_t)(eol - msg) + 1;
        if (++nsig > XL_NOTE_SIGS_MAX)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "note: more than %d signature lines",
                              XL_NOTE_SIGS_MAX);
        if ((size_t)(eol - line) < S_SIG_PREFIX_LEN ||
            memcmp(line, s_sig_prefix, S_SIG_PREFIX_LEN) != 0)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "note: signature line %d does not begin with an em dash and a space",
                              nsig);
        name = line + S_SIG_PREFIX_LEN;
        sp = memchr(name, ' ', (size_t)(eol - name));
        if (sp == NULL)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "note: signature line %d has no space after the key name", nsig);
        namelen = (size_t)(sp - name);
        if (!s_name_ok(name, namelen))
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "note: signature line %d has an invalid key name", nsig);
        b64 = sp + 1;
        b64len = (size_t)(eol - b64);
        if (b64len > XL_NOTE_SIG_B64_MAX)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "note: signature line %d: signature over %d characters", nsig,
                              XL_NOTE_SIG_B64_MAX);
        if (s_unbase64(b64, b64len, raw, sizeof raw, &rawlen) != 0)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "note: signature line %d: signature is not base64", nsig);
        if (rawlen < XL_NOTE_KEYID_BYTES + 1)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "note: signature line %d: signature of %zu bytes is too short", nsig,
                              rawlen);
        id = s_be32(raw);
        /* Only the pair (name, id) identifies a key: a line sharing one of the
         * two with vk is another key's and is ignored. */
        if (namelen != vnamelen || memcmp(name, vk->name, namelen) != 0 || id != vk->id)
            continue;
        found++;
        if (badsig == 0 && (rawlen != XL_NOTE_KEYID_BYTES + XL_SIG_BYTES ||
                            xl_verify(vk->pk, msg, tlen, raw + XL_NOTE_KEYID_BYTES) != 0))
            badsig = nsig;
    }
    /* A form error anywhere outranks a bad signature, so the message names it. */
    if (badsig != 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "note: signature line %d by %s+%08" PRIx32 " does not verify", badsig,
                          vk->name, vk->id);
    if (found == 0)
        return xl_err_set(err, errlen, XL_ERR_NOTFOUND, "note: no signature by %s+%08" PRIx32,
                          vk->name, vk->id);
    *textlen = tlen;
    return 0;
}

/* ---- checkpoints ------------------------------------------------------------------------- */

int
xl_checkpoint_format(const struct xl_checkpoint *cp, const char *ext, char *out, size_t outlen)
{
    char b64[sodium_base64_ENCODED_LEN(XL_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    size_t extlen = ext != NULL ? strlen(ext) : 0;
    int n;

    if (outlen > 0)
        out[0] = '\0';
    if (!xl_note_name_valid(cp->origin))
        return XL_ERR_INVALID;
    if (extlen > 0) {
        if (ext[extlen - 1] != '\n' || ext[0] == '\n' || strstr(ext, "\n\n") != NULL ||
            s_text_check(ext, extlen) != extlen)
            return XL_ERR_INVALID;
    }
    sodium_bin2base64(b64, sizeof b64, cp->root, XL_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(out, outlen, "%s\n%" PRIu64 "\n%s\n%s", cp->origin, cp->size, b64,
                 extlen > 0 ? ext : "");
    if (n < 0)
        return XL_ERR_INTERNAL;
    if ((size_t)n >= outlen) {
        if (outlen > 0)
            out[0] = '\0';
        return XL_ERR_TOOBIG;
    }
    return n;
}

/* A tree size: decimal, no sign, no leading zero (but "0"), at most 2^64-1. */
static int
s_parse_size(const char *s, size_t n, uint64_t *v)
{
    *v = 0;
    if (n == 0 || (n > 1 && s[0] == '0'))
        return XL_ERR_FORMAT;
    for (size_t i = 0; i < n; i++) {
        uint64_t d;
        if (s[i] < '0' || s[i] > '9' || *v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) {
            *v = 0;
            return XL_ERR_FORMAT;
        }
        d = (uint64_t)(s[i] - '0');
        *v = *v * 10 + d;
    }
    return 0;
}

int
xl_checkpoint_parse(const char *text, size_t len, struct xl_checkpoint *cp, size_t *ext_off,
                    char *err, size_t errlen)
{
    const char *line[3], *eol;
    size_t linelen[3], pos = 0, bad, rootlen;

    memset(cp, 0, sizeof *cp);
    if (ext_off != NULL)
        *ext_off = 0;
    if (len > XL_NOTE_MAX)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG, "checkpoint of %zu bytes, over %d", len,
                          XL_NOTE_MAX);
    bad = s_text_check(text, len);
    if (bad != len)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "checkpoint: byte %zu is a control character or not UTF-8", bad);
    for (int i = 0; i < 3; i++) {
        static const char *const what[3] = {"origin", "tree size", "root hash"};
        eol = pos < len ? memchr(text + pos, '\n', len - pos) : NULL;
        if (eol == NULL)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "checkpoint: no %s line", what[i]);
        line[i] = text + pos;
        linelen[i] = (size_t)(eol - line[i]);
        pos = (size_t)(eol - text) + 1;
    }
    if (linelen[0] == 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "checkpoint: empty origin");
    if (linelen[0] > XL_CHECKPOINT_ORIGIN_MAX)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "checkpoint: origin over %d bytes",
                          XL_CHECKPOINT_ORIGIN_MAX);
    if (s_parse_size(line[1], linelen[1], &cp->size) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "checkpoint: tree size is not a decimal number without leading zeros "
                          "below 2^64");
    if (s_unbase64(line[2], linelen[2], cp->root, XL_HASH_BYTES, &rootlen) != 0 ||
        rootlen != XL_HASH_BYTES) {
        memset(cp, 0, sizeof *cp);
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "checkpoint: root hash is not the base64 of %d bytes", XL_HASH_BYTES);
    }
    for (size_t i = pos; i < len; i++) {
        if (text[i] == '\n' && (i == pos || text[i - 1] == '\n')) {
            memset(cp, 0, sizeof *cp);
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "checkpoint: empty extension line");
        }
    }
    if (pos < len && text[len - 1] != '\n') {
        memset(cp, 0, sizeof *cp);
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "checkpoint: extension lines do not end in a newline");
    }
    memcpy(cp->origin, line[0], linelen[0]);
    cp->origin[linelen[0]] = '\0';
    if (ext_off != NULL)
        *ext_off = pos;
    return 0;
}

int
xl_checkpoint_open(const char *msg, size_t len, const struct xl_note_vkey *vk,
                   struct xl_checkpoint *cp, char *err, size_t errlen)
{
    size_t tlen;
    int r;

    memset(cp, 0, sizeof *cp);
    r = xl_note_verify(msg, len, vk, &tlen, err, errlen);
    if (r != 0)
        return r;
    r = xl_checkpoint_parse(msg, tlen, cp, NULL, err, errlen);
    if (r != 0)
        return r;
    if (strcmp(cp->origin, vk->name) != 0) {
        memset(cp, 0, sizeof *cp);
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "checkpoint: origin is not the signing key's name %s", vk->name);
    }
    return 0;
}
