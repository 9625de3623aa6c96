/* Unit tests for common/keyfile.c: round trips of every key type, file modes,
 * and the refusals a custodian relies on (overwrite, unsafe permissions,
 * truncated or mismatched keys, the wrong kind of key). Each test gets its own
 * temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "testutil.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/keyfile.h"

static const enum xl_key_type s_secret_types[] = {
    XL_KEY_CURVE_SECRET,   XL_KEY_SIGN_SECRET,  XL_KEY_ANALYSIS_SECRET,
    XL_KEY_LINKAGE_SECRET, XL_KEY_LOCAL_SECRET, XL_KEY_PSEUDONYM_SECRET,
};
#define S_NSECRET (sizeof s_secret_types / sizeof s_secret_types[0])

static int
s_group_setup(void **state)
{
    return xl_crypto_init() == 0 ? 0 : -1;
}

static int
s_setup(void **state)
{
    *state = tu_tmpdir();
    return *state != NULL ? 0 : -1;
}

static int
s_teardown(void **state)
{
    tu_rmtree(*state);
    free(*state);
    return 0;
}

/* A generated key of type t with every descriptive field set. */
static struct xl_keyfile *
s_make(enum xl_key_type t, const char *name)
{
    struct xl_keyfile *kf = xl_keyfile_new(t);

    assert_non_null(kf);
    assert_int_equal(xl_keyfile_generate(kf), 0);
    snprintf(kf->name, sizeof kf->name, "%s", name);
    snprintf(kf->role, sizeof kf->role, "agent");
    snprintf(kf->agency, sizeof kf->agency, "wmp");
    xl_today(kf->created);
    if (t == XL_KEY_LINKAGE_SECRET)
        kf->epoch = 7;
    return kf;
}

/* The public counterpart of a key-pair type. */
static enum xl_key_type
s_public_of(enum xl_key_type t)
{
    switch (t) {
    case XL_KEY_CURVE_SECRET: return XL_KEY_CURVE_PUBLIC;
    case XL_KEY_SIGN_SECRET: return XL_KEY_SIGN_PUBLIC;
    case XL_KEY_ANALYSIS_SECRET: return XL_KEY_ANALYSIS_PUBLIC;
    default: fail_msg("%s has no public counterpart", xl_key_type_name(t));
    }
    return t;
}

/* Writes kf into dir/file; returns the path (caller frees). */
static char *
s_write(const char *dir, const char *file, const struct xl_keyfile *kf, int write_public)
{
    char err[XL_ERRBUF] = "";
    char *path = tu_path(dir, file);

    assert_non_null(path);
    if (xl_keyfile_write(path, kf, write_public, err, sizeof err) != 0)
        fail_msg("%s", err);
    return path;
}

static void
s_assert_same_meta(const struct xl_keyfile *a, const struct xl_keyfile *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->role, b->role);
    assert_string_equal(a->agency, b->agency);
    assert_string_equal(a->created, b->created);
}

static void
test_type_names(void **state)
{
    assert_string_equal(xl_key_type_name(XL_KEY_CURVE_PUBLIC), "curve-public");
    assert_string_equal(xl_key_type_name(XL_KEY_CURVE_SECRET), "curve-secret");
    assert_string_equal(xl_key_type_name(XL_KEY_SIGN_SECRET), "sign-secret");
    assert_string_equal(xl_key_type_name(XL_KEY_LINKAGE_SECRET), "linkage-secret");
    assert_string_equal(xl_key_type_name((enum xl_key_type)99), "unknown");
    assert_false(xl_key_type_is_secret(XL_KEY_CURVE_PUBLIC));
    assert_false(xl_key_type_is_secret(XL_KEY_SIGN_PUBLIC));
    assert_false(xl_key_type_is_secret(XL_KEY_ANALYSIS_PUBLIC));
    for (size_t i = 0; i < S_NSECRET; i++)
        assert_true(xl_key_type_is_secret(s_secret_types[i]));
}

static void
test_generate(void **state)
{
    struct xl_keyfile *pub = xl_keyfile_new(XL_KEY_CURVE_PUBLIC);

    assert_non_null(pub);
    assert_null(pub->secret);
    assert_int_equal(pub->secretlen, 0);
    assert_int_equal(xl_keyfile_generate(pub), XL_ERR_INVALID);
    xl_keyfile_destroy(&pub);
    assert_null(pub);
    xl_keyfile_destroy(&pub); /* accepts NULL */

    for (size_t i = 0; i < S_NSECRET; i++) {
        struct xl_keyfile *a = s_make(s_secret_types[i], "a"), *b = s_make(s_secret_types[i], "b");
        assert_int_equal(a->secretlen, b->secretlen);
        assert_memory_not_equal(a->secret, b->secret, a->secretlen);
        xl_keyfile_destroy(&a);
        xl_keyfile_destroy(&b);
    }
}

/* Every type: write, load, same content; secret 0600, public 0644. */
static void
test_roundtrip(void **state)
{
    const char *dir = *state;
    char err[XL_ERRBUF];

    for (size_t i = 0; i < S_NSECRET; i++) {
        enum xl_key_type t = s_secret_types[i];
        char file[64];
        struct xl_keyfile *kf = s_make(t, xl_key_type_name(t)), *back = NULL;
        char *path;

        snprintf(file, sizeof file, "%s.key", xl_key_type_name(t));
        path = s_write(dir, file, kf, 0);
        assert_int_equal(tu_file_mode(path), 0600);
        assert_int_equal(xl_keyfile_load(path, t, &back, err, sizeof err), 0);
        assert_non_null(back);
        assert_int_equal(back->type, t);
        s_assert_same_meta(back, kf);
        assert_int_equal(back->epoch, kf->epoch);
        assert_int_equal(back->publen, kf->publen);
        assert_memory_equal(back->pub, kf->pub, kf->publen);
        assert_int_equal(back->secretlen, kf->secretlen);
        assert_memory_equal(back->secret, kf->secret, kf->secretlen);
        xl_keyfile_destroy(&back);
        free(path);

        if (kf->publen > 0) {
            struct xl_keyfile *pub = NULL;
            enum xl_key_type pt = s_public_of(t);
            char *text;
            snprintf(file, sizeof file, "%s.pub", xl_key_type_name(t));
            path = s_write(dir, file, kf, 1);
            assert_int_equal(tu_file_mode(path), 0644);
            text = tu_read_file(path);
            assert_non_null(text);
            assert_null(strstr(text, "secret:"));
            free(text);
            assert_int_equal(xl_keyfile_load(path, pt, &pub, err, sizeof err), 0);
            assert_int_equal(pub->type, pt);
            s_assert_same_meta(pub, kf);
            assert_memory_equal(pub->pub, kf->pub, kf->publen);
            assert_null(pub->secret);
            assert_int_equal(pub->secretlen, 0);
            xl_keyfile_destroy(&pub);
            free(path);
        } else {
            /* A key without a public part has no public form to write. */
            path = tu_path(dir, "nopublic.pub");
            assert_int_equal(xl_keyfile_write(path, kf, 1, err, sizeof err), XL_ERR_INVALID);
            assert_int_equal(tu_file_mode(path), -1);
            free(path);
        }
        xl_keyfile_destroy(&kf);
    }
}

/* A loaded signing key signs, and the loaded public key verifies. */
static void
test_loaded_keys_work(void **state)
{
    struct xl_keyfile *kf = s_make(XL_KEY_SIGN_SECRET, "linker-sign"), *sk = NULL, *pk = NULL;
    char *skpath = s_write(*state, "sign.key", kf, 0), *pkpath = s_write(*state, "sign.pub", kf, 1);
    char err[XL_ERRBUF];
    uint8_t sig[XL_SIG_BYTES];

    assert_int_equal(xl_keyfile_load(skpath, XL_KEY_SIGN_SECRET, &sk, err, sizeof err), 0);
    assert_int_equal(xl_keyfile_load(pkpath, XL_KEY_SIGN_PUBLIC, &pk, err, sizeof err), 0);
    assert_int_equal(xl_sign(sk->secret, "receipt", 7, sig), 0);
    assert_int_equal(xl_verify(pk->pub, "receipt", 7, sig), 0);
    xl_keyfile_destroy(&kf);
    xl_keyfile_destroy(&sk);
    xl_keyfile_destroy(&pk);
    free(skpath);
    free(pkpath);
}

/* Public files are 0644 even under a restrictive umask; secret files stay 0600
 * under a permissive one. */
static void
test_modes_under_umask(void **state)
{
    struct xl_keyfile *kf = s_make(XL_KEY_CURVE_SECRET, "agent1");
    mode_t old = umask(077);
    char *pub = s_write(*state, "a.pub", kf, 1), *sec;

    umask(0);
    sec = s_write(*state, "a.key", kf, 0);
    umask(old);
    assert_int_equal(tu_file_mode(pub), 0644);
    assert_int_equal(tu_file_mode(sec), 0600);
    xl_keyfile_destroy(&kf);
    free(pub);
    free(sec);
}

static void
test_refuse_overwrite(void **state)
{
    struct xl_keyfile *a = s_make(XL_KEY_CURVE_SECRET, "first"),
                      *b = s_make(XL_KEY_CURVE_SECRET, "second");
    char *path = s_write(*state, "agent.key", a, 0), *pub = s_write(*state, "agent.pub", a, 1);
    char *before = tu_read_file(path), *pbefore = tu_read_file(pub), *after;
    char err[XL_ERRBUF] = "";

    assert_int_equal(xl_keyfile_write(path, b, 0, err, sizeof err), XL_ERR_EXISTS);
    assert_non_null(strstr(err, path));
    assert_int_equal(xl_keyfile_write(pub, b, 1, err, sizeof err), XL_ERR_EXISTS);
    after = tu_read_file(path);
    assert_string_equal(after, before);
    free(after);
    after = tu_read_file(pub);
    assert_string_equal(after, pbefore);
    free(after);
    assert_int_equal(tu_file_mode(path), 0600);
    xl_keyfile_destroy(&a);
    xl_keyfile_destroy(&b);
    free(before);
    free(pbefore);
    free(path);
    free(pub);
}

static void
test_unsafe_mode_refused(void **state)
{
    static const mode_t bad[] = {0640, 0604, 0644, 0660, 0606};
    struct xl_keyfile *kf = s_make(XL_KEY_CURVE_SECRET, "agent1"), *out = NULL;
    char *path = s_write(*state, "agent.key", kf, 0);
    char err[XL_ERRBUF];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(chmod(path, bad[i]), 0);
        err[0] = '\0';
        out = (struct xl_keyfile *)1; /* must be reset */
        assert_int_equal(xl_keyfile_load(path, XL_KEY_CURVE_SECRET, &out, err, sizeof err),
                         XL_ERR_PERM);
        assert_null(out);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "chmod 600"));
    }
    /* Owner-only modes are fine, read-only included. */
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(xl_keyfile_load(path, XL_KEY_CURVE_SECRET, &out, err, sizeof err), 0);
    xl_keyfile_destroy(&out);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(xl_keyfile_load(path, XL_KEY_CURVE_SECRET, &out, err, sizeof err), 0);
    xl_keyfile_destroy(&out);
    xl_keyfile_destroy(&kf);
    free(path);
}

/* Cuts the Z85 text of key off by `cut` characters in the file at path. */
static void
s_truncate_key(const char *path, const uint8_t *key, size_t len, size_t cut)
{
    char z85[2 * XL_SIGN_SK_BYTES], shorter[2 * XL_SIGN_SK_BYTES];

    assert_int_equal(xl_z85_encode(key, len, z85), 0);
    snprintf(shorter, sizeof shorter, "%.*s", (int)(strlen(z85) - cut), z85);
    assert_int_equal(tu_file_replace(path, z85, shorter), 0);
}

static void
test_truncated_key(void **state)
{
    static const size_t cuts[] = {1, 5, 39};
    char err[XL_ERRBUF], file[32];

    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        struct xl_keyfile *kf = s_make(XL_KEY_CURVE_SECRET, "agent1"), *out = NULL;
        char *path;

        /* The public line. */
        snprintf(file, sizeof file, "pub%zu.key", i);
        path = s_write(*state, file, kf, 0);
        s_truncate_key(path, kf->pub, XL_KEY_BYTES, cuts[i]);
        err[0] = '\0';
        assert_int_equal(xl_keyfile_load(path, XL_KEY_CURVE_SECRET, &out, err, sizeof err),
                         XL_ERR_FORMAT);
        assert_null(out);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "expected 32"));
        free(path);

        /* The secret line. */
        snprintf(file, sizeof file, "sec%zu.key", i);
        path = s_write(*state, file, kf, 0);
        s_truncate_key(path, kf->secret, XL_KEY_BYTES, cuts[i]);
        err[0] = '\0';
        assert_int_equal(xl_keyfile_load(path, XL_KEY_CURVE_SECRET, &out, err, sizeof err),
                         XL_ERR_FORMAT);
        assert_non_null(strstr(err, "expected 32"));
        free(path);

        /* The public line of a public file, loaded as public. */
        snprintf(file, sizeof file, "pub%zu.pub", i);
        path = s_write(*state, file, kf, 1);
        s_truncate_key(path, kf->pub, XL_KEY_BYTES, cuts[i]);
        err[0] = '\0';
        assert_int_equal(xl_keyfile_load(path, XL_KEY_CURVE_PUBLIC, &out, err, sizeof err),
                         XL_ERR_FORMAT);
        assert_non_null(strstr(err, "expected 32"));
        free(path);
        xl_keyfile_destroy(&kf);
    }
}

static void
test_mismatched_pair(void **state)
{
    static const enum xl_key_type types[] = {XL_KEY_CURVE_SECRET, XL_KEY_ANALYSIS_SECRET,
                                             XL_KEY_SIGN_SECRET};
    char err[XL_ERRBUF];

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct xl_keyfile *kf = s_make(types[i], "k"), *other = s_make(types[i], "o");
        struct xl_keyfile *out = NULL;
        char z85[XL_KEY_BYTES / 4 * 5 + 1], oz85[sizeof z85], file[64];
        char *path;

        snprintf(file, sizeof file, "%s.key", xl_key_type_name(types[i]));
        path = s_write(*state, file, kf, 0);
        /* Replace the public key with another pair's public key. */
        assert_int_equal(xl_z85_encode(kf->pub, kf->publen, z85), 0);
        assert_int_equal(xl_z85_encode(other->pub, other->publen, oz85), 0);
        assert_int_equal(tu_file_replace(path, z85, oz85), 0);
        err[0] = '\0';
        assert_int_equal(xl_keyfile_load(path, types[i], &out, err, sizeof err), XL_ERR_FORMAT);
        assert_null(out);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "does not match"));
        /* The public half alone cannot be taken from it either. */
        assert_int_not_equal(
            xl_keyfile_load_public(path, s_public_of(types[i]), &out, err, sizeof err), 0);
        assert_null(out);
        xl_keyfile_destroy(&kf);
        xl_keyfile_destroy(&other);
        free(path);
    }
}

static void
test_wrong_type(void **state)
{
    struct xl_keyfile *sign = s_make(XL_KEY_SIGN_SECRET, "linker-sign");
    struct xl_keyfile *curve = s_make(XL_KEY_CURVE_SECRET, "agent1"), *out = NULL;
    char *signpath = s_write(*state, "sign.key", sign, 0);
    char *curvepub = s_write(*state, "curve.pub", curve, 1);
    char *curvesec = s_write(*state, "curve.key", curve, 0);
    char err[XL_ERRBUF];

    err[0] = '\0';
    assert_int_not_equal(xl_keyfile_load(signpath, XL_KEY_CURVE_SECRET, &out, err, sizeof err), 0);
    assert_null(out);
    assert_non_null(strstr(err, signpath));
    assert_non_null(strstr(err, "sign-secret"));
    assert_non_null(strstr(err, "curve-secret"));

    /* A public file where a secret is wanted. */
    err[0] = '\0';
    assert_int_not_equal(xl_keyfile_load(curvepub, XL_KEY_CURVE_SECRET, &out, err, sizeof err), 0);
    assert_non_null(strstr(err, "curve-public"));
    assert_non_null(strstr(err, "curve-secret"));

    /* Same key sizes, different purpose: a curve key is not an analysis key. */
    err[0] = '\0';
    assert_int_not_equal(xl_keyfile_load(curvesec, XL_KEY_ANALYSIS_SECRET, &out, err, sizeof err),
                         0);
    assert_non_null(strstr(err, "curve-secret"));
    assert_non_null(strstr(err, "analysis-secret"));

    /* load_public of the wrong kind of key names the types too. */
    err[0] = '\0';
    assert_int_not_equal(
        xl_keyfile_load_public(signpath, XL_KEY_CURVE_PUBLIC, &out, err, sizeof err), 0);
    assert_null(out);
    assert_non_null(strstr(err, "sign-secret"));
    assert_non_null(strstr(err, "curve-public"));

    xl_keyfile_destroy(&sign);
    xl_keyfile_destroy(&curve);
    free(signpath);
    free(curvepub);
    free(curvesec);
}

static void
test_load_public(void **state)
{
    static const enum xl_key_type pairs[][2] = {
        {XL_KEY_CURVE_SECRET, XL_KEY_CURVE_PUBLIC},
        {XL_KEY_SIGN_SECRET, XL_KEY_SIGN_PUBLIC},
        {XL_KEY_ANALYSIS_SECRET, XL_KEY_ANALYSIS_PUBLIC},
    }; /* spelled out here rather than with s_public_of, to check that too */
    char err[XL_ERRBUF];

    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        struct xl_keyfile *kf = s_make(pairs[i][0], "k"), *out = NULL;
        char file[64], *sec, *pub;

        snprintf(file, sizeof file, "%s.key", xl_key_type_name(pairs[i][0]));
        sec = s_write(*state, file, kf, 0);
        snprintf(file, sizeof file, "%s.pub", xl_key_type_name(pairs[i][0]));
        pub = s_write(*state, file, kf, 1);

        /* From the secret file: only the public part is kept. */
        assert_int_equal(xl_keyfile_load_public(sec, pairs[i][1], &out, err, sizeof err), 0);
        assert_non_null(out);
        assert_int_equal(out->type, pairs[i][1]);
        assert_null(out->secret);
        assert_int_equal(out->secretlen, 0);
        assert_int_equal(out->publen, kf->publen);
        assert_memory_equal(out->pub, kf->pub, kf->publen);
        s_assert_same_meta(out, kf);
        xl_keyfile_destroy(&out);

        /* From the public file. */
        assert_int_equal(xl_keyfile_load_public(pub, pairs[i][1], &out, err, sizeof err), 0);
        assert_int_equal(out->type, pairs[i][1]);
        assert_memory_equal(out->pub, kf->pub, kf->publen);
        xl_keyfile_destroy(&out);
        xl_keyfile_destroy(&kf);
        free(sec);
        free(pub);
    }

    /* A linkage secret has no public half. */
    struct xl_keyfile *ls = s_make(XL_KEY_LINKAGE_SECRET, "linkage"), *out = NULL;
    char *path = s_write(*state, "linkage.key", ls, 0);
    assert_int_not_equal(xl_keyfile_load_public(path, XL_KEY_CURVE_PUBLIC, &out, err, sizeof err),
                         0);
    assert_null(out);
    xl_keyfile_destroy(&ls);
    free(path);
}

static void
test_missing_file(void **state)
{
    char *path = tu_path(*state, "no-such.key");
    struct xl_keyfile *out = NULL;
    char err[XL_ERRBUF] = "";

    assert_int_equal(xl_keyfile_load(path, XL_KEY_CURVE_SECRET, &out, err, sizeof err),
                     XL_ERR_NOTFOUND);
    assert_null(out);
    assert_non_null(strstr(err, path));
    err[0] = '\0';
    assert_int_equal(xl_keyfile_load_public(path, XL_KEY_CURVE_PUBLIC, &out, err, sizeof err),
                     XL_ERR_NOTFOUND);
    assert_null(out);
    assert_non_null(strstr(err, path));
    free(path);
}

/* tmpl with every "KEY" replaced by key, into out. */
static void
s_fill(char *out, size_t cap, const char *tmpl, const char *key)
{
    size_t n = 0;

    while (*tmpl != '\0' && n + 1 < cap) {
        if (strncmp(tmpl, "KEY", 3) == 0) {
            n += (size_t)snprintf(out + n, cap - n, "%s", key);
            tmpl += 3;
        } else {
            out[n++] = *tmpl++;
        }
    }
    assert_true(n < cap);
    out[n] = '\0';
}

/* Hand-written files that must not load. */
static void
test_malformed(void **state)
{
    struct xl_keyfile *kf = s_make(XL_KEY_LINKAGE_SECRET, "linkage"), *out = NULL;
    char z85[XL_KEY_BYTES / 4 * 5 + 1], text[512], err[XL_ERRBUF];
    char *path = tu_path(*state, "hand.key");
    static const char *bodies[] = {
        "type: linkage-secret\nepoch: 7\n",                       /* no secret */
        "type: linkage-secret\nsecret: KEY\n",                    /* no epoch */
        "type: linkage-secret\nepoch: 0\nsecret: KEY\n",          /* epoch 0 */
        "type: linkage-secret\nepoch: -1\nsecret: KEY\n",         /* negative epoch */
        "type: linkage-secret\nepoch: 4294967296\nsecret: KEY\n", /* over 32 bits */
        "type: linkage-secret\nepoch: 7x\nsecret: KEY\n",
        "type: linkage-secret\nepoch: 7\ncolour: blue\nsecret: KEY\n",
        "type: linkage-secret\nepoch: 7\nsecret KEY\n",                  /* no colon */
        "type: linkage-secret\nepoch: 7\npublic: KEY\nsecret: KEY\n",    /* no public part */
        "type: linkage-secret\nepoch: 7\nname: bad name\nsecret: KEY\n", /* invalid name */
        "type: secret-sauce\nepoch: 7\nsecret: KEY\n",
        "epoch: 7\nsecret: KEY\n",                          /* no type */
        "type: linkage-secret\nepoch: 7\nsecret: KEYKEY\n", /* 64 bytes, not 32 */
    };

    assert_int_equal(xl_z85_encode(kf->secret, XL_KEY_BYTES, z85), 0);
    /* The control case loads: comments, a blank line and CRLF line ends are fine. */
    s_fill(text, sizeof text, "# hand written\n\ntype: linkage-secret\r\nepoch: 7\nsecret: KEY\n",
           z85);
    assert_int_equal(tu_write_file(path, text), 0);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(xl_keyfile_load(path, XL_KEY_LINKAGE_SECRET, &out, err, sizeof err), 0);
    assert_int_equal(out->epoch, 7);
    assert_memory_equal(out->secret, kf->secret, XL_KEY_BYTES);
    xl_keyfile_destroy(&out);

    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        s_fill(text, sizeof text, bodies[i], z85);
        assert_int_equal(tu_write_file(path, text), 0);
        err[0] = '\0';
        if (xl_keyfile_load(path, XL_KEY_LINKAGE_SECRET, &out, err, sizeof err) == 0)
            fail_msg("malformed body %zu loaded", i);
        assert_null(out);
        assert_non_null(strstr(err, path));
    }
    xl_keyfile_destroy(&kf);
    free(path);
}

static void
test_name_valid(void **state)
{
    char longest[XL_NAME_MAX], toolong[XL_NAME_MAX + 1];

    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    memset(toolong, 'a', sizeof toolong - 1);
    toolong[sizeof toolong - 1] = '\0';

    assert_true(xl_name_valid("a"));
    assert_true(xl_name_valid("wmp"));
    assert_true(xl_name_valid("wmp-agent"));
    assert_true(xl_name_valid("Agent_2.v1"));
    assert_true(xl_name_valid("0day"));
    assert_true(xl_name_valid("a-"));
    assert_true(xl_name_valid("a."));
    assert_true(xl_name_valid(longest));

    assert_false(xl_name_valid(""));
    assert_false(xl_name_valid(toolong));
    assert_false(xl_name_valid(".hidden"));
    assert_false(xl_name_valid("-option"));
    assert_false(xl_name_valid(".."));
    assert_false(xl_name_valid("two words"));
    assert_false(xl_name_valid("a/b"));
    assert_false(xl_name_valid("../etc"));
    assert_false(xl_name_valid("tab\there"));
    assert_false(xl_name_valid("new\nline"));
    assert_false(xl_name_valid("colon:"));
    assert_false(xl_name_valid("z\xc3\xb6\xc3\xab")); /* UTF-8 letters */
}

static void
test_today(void **state)
{
    char d[11];

    xl_today(d);
    assert_int_equal(strlen(d), 10);
    assert_int_equal(d[4], '-');
    assert_int_equal(d[7], '-');
    assert_true(strncmp(d, "2024", 4) >= 0);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_generate),
        S_TEST(test_roundtrip),
        S_TEST(test_loaded_keys_work),
        S_TEST(test_modes_under_umask),
        S_TEST(test_refuse_overwrite),
        S_TEST(test_unsafe_mode_refused),
        S_TEST(test_truncated_key),
        S_TEST(test_mismatched_pair),
        S_TEST(test_wrong_type),
        S_TEST(test_load_public),
        S_TEST(test_missing_file),
        S_TEST(test_malformed),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_today),
    };

    return cmocka_run_group_tests_name("keyfile", tests, s_group_setup, NULL);
}
