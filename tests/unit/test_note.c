/* Unit tests for common/note.c: C2SP signed notes and tlog checkpoints.
 *
 * Published vectors:
 *  - golang.org/x/mod/sumdb/note, note_test.go (TestNewVerifier, TestSign,
 *    TestOpen; repository golang/mod, commit fe2ec04f7c3c): the PeterNeumann and
 *    EnochRoot keys and the signed notes built from them.
 *  - c2sp.org/signed-note (C2SP/C2SP signed-note.md, commit 5ba5ee830903): the
 *    example.com/foo verifier key and the note it verifies, and the quasimodo
 *    example note (no key published: checked for form only).
 *  - c2sp.org/tlog-checkpoint (tlog-checkpoint.md, same commit): the
 *    example.com/behind-the-sofa checkpoint (no key published either). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/note.h"

/* ---- golang.org/x/mod/sumdb/note vectors ---- */
static const char s_peter_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/* The key data of "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz":
 * 0x01 || the Ed25519 seed. */
static const char s_peter_skey64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char s_enoch_vkey[] =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
static const char s_text[] = "If you think cryptography is the answer to your problem,\n"
                             "then you don't know what your problem is.\n";
static const char s_peter_sig[] =
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char s_enoch_sig[] = "\xe2\x80\x94 EnochRoot "
                                  "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
                                  "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/* ---- c2sp.org/signed-note vectors ---- */
static const char s_foo_vkey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
static const char s_foo_note[] = "This is an example message.\n"
                                 "\n"
                                 "\xe2\x80\x94 example.com/foo "
                                 "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjO"
                                 "BH3mFXmRKuwHjG1Yu72IneyaQM=\n";
static const char s_quasimodo_note[] =
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed \xc3\xa8 subito sera.\n"
    "\n"
    "\xe2\x80\x94 quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/"
    "5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

/* ---- c2sp.org/tlog-checkpoint vector ---- */
static const char s_sofa_text[] = "example.com/behind-the-sofa\n"
                                  "20852163\n"
                                  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
static const char s_sofa_sig[] = "\xe2\x80\x94 example.com/behind-the-sofa "
                                 "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
                                 "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

static int
s_group_setup(void **state)
{
    return xl_crypto_init() == 0 ? 0 : -1;
}

/* Concatenation of up to four strings into a new buffer (NULLs skipped). */
static char *
s_cat(const char *a, const char *b, const char *c, const char *d)
{
    const char *parts[4] = {a, b, c, d};
    size_t n = 0;
    char *s;

    for (int i = 0; i < 4; i++)
        n += parts[i] != NULL ? strlen(parts[i]) : 0;
    s = malloc(n + 1);
    assert_non_null(s);
    s[0] = '\0';
    for (int i = 0; i < 4; i++) {
        if (parts[i] != NULL)
            strcat(s, parts[i]);
    }
    return s;
}

static struct xl_note_vkey
s_vkey(const char *text)
{
    struct xl_note_vkey vk;
    char err[XL_ERRBUF] = "";

    assert_int_equal(xl_note_vkey_parse(text, &vk, err, sizeof err), 0);
    return vk;
}

/* Verifies the NUL-terminated msg with vk; returns the code, *textlen set. */
static int
s_verify(const char *msg, const struct xl_note_vkey *vk, size_t *textlen)
{
    char err[XL_ERRBUF] = "";
    size_t tl = 12345;
    int r = xl_note_verify(msg, strlen(msg), vk, &tl, err, sizeof err);

    if (r != 0) {
        assert_int_equal(tl, 0);
        assert_true(err[0] != '\0'); /* every refusal says why */
    }
    if (textlen != NULL)
        *textlen = tl;
    return r;
}

/* ---- verifier keys ------------------------------------------------------------------------- */

static void
test_vkey_published(void **state)
{
    struct xl_note_vkey vk;
    char out[XL_NOTE_VKEY_MAX];
    uint32_t id;

    vk = s_vkey(s_peter_vkey);
    assert_string_equal(vk.name, "PeterNeumann");
    assert_int_equal(vk.id, 0xc74f20a3);
    assert_int_equal(xl_note_vkey_format(&vk, out), 0);
    assert_string_equal(out, s_peter_vkey);
    assert_int_equal(xl_note_key_id("PeterNeumann", vk.pk, &id), 0);
    assert_int_equal(id, 0xc74f20a3);

    vk = s_vkey(s_enoch_vkey);
    assert_string_equal(vk.name, "EnochRoot");
    assert_int_equal(vk.id, 0xaf0cfe78);
    assert_int_equal(xl_note_vkey_format(&vk, out), 0);
    assert_string_equal(out, s_enoch_vkey);

    vk = s_vkey(s_foo_vkey);
    assert_string_equal(vk.name, "example.com/foo");
    assert_int_equal(vk.id, 0x530d903a);
    assert_int_equal(xl_note_vkey_format(&vk, out), 0);
    assert_string_equal(out, s_foo_vkey);

    /* vkey_init computes the same id from the name and the key. */
    struct xl_note_vkey vk2;
    assert_int_equal(xl_note_vkey_init(&vk2, "example.com/foo", vk.pk, NULL, 0), 0);
    assert_memory_equal(&vk2, &vk, sizeof vk);
}

static void
test_vkey_bad(void **state)
{
    char b[sizeof s_peter_vkey], err[XL_ERRBUF];
    size_t n = strlen(s_peter_vkey);
    struct xl_note_vkey vk;

    /* As TestNewVerifier: every proper substring and every one-byte change fails. */
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i + 1; j <= n; j++) {
            if (i == 0 && j == n)
                continue;
            memcpy(b, s_peter_vkey + i, j - i);
            b[j - i] = '\0';
            err[0] = '\0';
            assert_int_equal(xl_note_vkey_parse(b, &vk, err, sizeof err), XL_ERR_FORMAT);
            assert_true(err[0] != '\0');
            assert_int_equal(vk.id, 0);
        }
    }
    memcpy(b, s_peter_vkey, n + 1);
    for (size_t i = 0; i < n; i++) {
        b[i]++;
        assert_int_equal(xl_note_vkey_parse(b, &vk, err, sizeof err), XL_ERR_FORMAT);
        b[i]--;
    }
    /* TestNewVerifier's wrong-length key and unknown algorithm, each with a
     * key id that matches. */
    assert_int_equal(
        xl_note_vkey_parse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", &vk, err,
            sizeof err),
        XL_ERR_FORMAT);
    assert_int_equal(
        xl_note_vkey_parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                           &vk, err, sizeof err),
        XL_ERR_FORMAT);
    assert_non_null(strstr(err, "not Ed25519"));
    /* Upper-case hex is not the spec's encoding. */
    assert_int_equal(
        xl_note_vkey_parse("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                           &vk, err, sizeof err),
        XL_ERR_FORMAT);
}

static void
test_names(void **state)
{
    char longname[XL_NOTE_NAME_MAX + 2];
    uint8_t pk[XL_SIGN_PK_BYTES] = {0};
    uint32_t id = 1;

    assert_true(xl_note_name_valid("example.com/log"));
    assert_true(xl_note_name_valid("caf\xc3\xa9"));
    assert_false(xl_note_name_valid(""));
    assert_false(xl_note_name_valid(NULL));
    assert_false(xl_note_name_valid("a b"));
    assert_false(xl_note_name_valid("a+b"));
    assert_false(xl_note_name_valid("a\tb"));
    assert_false(xl_note_name_valid("a\xc2\xa0"
                                    "b")); /* U+00A0, no-break space */
    assert_false(xl_note_name_valid("a\xe3\x80\x80"
                                    "b")); /* U+3000, ideographic space */
    assert_false(xl_note_name_valid("a\xff"));
    assert_false(xl_note_name_valid("\xc0\xaf")); /* overlong '/' */
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(xl_note_name_valid(longname));
    longname[XL_NOTE_NAME_MAX] = '\0';
    assert_true(xl_note_name_valid(longname));
    assert_int_equal(xl_note_key_id("a b", pk, &id), XL_ERR_INVALID);
    assert_int_equal(id, 0);
}

/* ---- signing and verifying ------------------------------------------------------------------ */

static void
test_sign_published(void **state)
{
    uint8_t key[1 + 32], pk[XL_SIGN_PK_BYTES], sk[XL_SIGN_SK_BYTES];
    size_t keylen, outlen;
    struct xl_note_vkey vk = s_vkey(s_peter_vkey);
    char *out = NULL, *want = s_cat(s_text, "\n", s_peter_sig, NULL);
    char err[XL_ERRBUF];

    assert_int_equal(sodium_base642bin(key, sizeof key, s_peter_skey64, strlen(s_peter_skey64),
                                       NULL, &keylen, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(keylen, sizeof key);
    assert_int_equal(key[0], XL_NOTE_ALG_ED25519);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, key + 1), 0);
    assert_memory_equal(pk, vk.pk, sizeof pk);

    /* TestSign: the exact bytes (Ed25519 is deterministic). */
    assert_int_equal(
        xl_note_sign(s_text, strlen(s_text), "PeterNeumann", sk, &out, &outlen, err, sizeof err),
        0);
    assert_int_equal(outlen, strlen(want));
    assert_string_equal(out, want);
    free(out);
    free(want);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(key, sizeof key);
}

static void
test_verify_published(void **state)
{
    struct xl_note_vkey peter = s_vkey(s_peter_vkey), enoch = s_vkey(s_enoch_vkey),
                        foo = s_vkey(s_foo_vkey);
    char *msg = s_cat(s_text, "\n", s_peter_sig, NULL);
    size_t tl;

    assert_int_equal(s_verify(msg, &peter, &tl), 0);
    assert_int_equal(tl, strlen(s_text));
    assert_memory_equal(msg, s_text, tl);
    assert_int_equal(s_verify(msg, &enoch, NULL), XL_ERR_NOTFOUND);
    free(msg);

    /* TestOpen: two signers; each key finds its own line, the other's ignored. */
    msg = s_cat(s_text, "\n", s_peter_sig, s_enoch_sig);
    assert_int_equal(s_verify(msg, &peter, &tl), 0);
    assert_int_equal(tl, strlen(s_text));
    assert_int_equal(s_verify(msg, &enoch, &tl), 0);
    assert_int_equal(tl, strlen(s_text));
    assert_int_equal(s_verify(msg, &foo, NULL), XL_ERR_NOTFOUND);
    free(msg);

    /* The C2SP example. */
    assert_int_equal(s_verify(s_foo_note, &foo, &tl), 0);
    assert_int_equal(tl, strlen("This is an example message.\n"));

    /* The spec's other example (UTF-8 text with a blank line inside) is well
     * formed: its signer is just not ours. */
    assert_int_equal(s_verify(s_quasimodo_note, &foo, NULL), XL_ERR_NOTFOUND);
    /* A key named like the signer but with another id is another key. */
    struct xl_note_vkey q;
    assert_int_equal(xl_note_vkey_init(&q, "quasimodo.example/salvatore", foo.pk, NULL, 0), 0);
    assert_int_equal(s_verify(s_quasimodo_note, &q, NULL), XL_ERR_NOTFOUND);
}

static void
test_verify_tampered(void **state)
{
    struct xl_note_vkey peter = s_vkey(s_peter_vkey), enoch = s_vkey(s_enoch_vkey), wrong;
    char *msg = s_cat(s_text, "\n", s_peter_sig, NULL), *m2;
    size_t sigoff = strlen(s_text) + 1 + strlen("\xe2\x80\x94 PeterNeumann ");

    /* A changed text byte. */
    msg[3] ^= 0x01;
    assert_int_equal(s_verify(msg, &peter, NULL), XL_ERR_CRYPTO);
    msg[3] ^= 0x01;
    /* A changed signature byte: past the key id's six base64 characters. */
    msg[sigoff + 20] = msg[sigoff + 20] == 'A' ? 'B' : 'A';
    assert_int_equal(s_verify(msg, &peter, NULL), XL_ERR_CRYPTO);
    free(msg);

    /* A wrong key id in the verifier key: the line is another key's. */
    msg = s_cat(s_text, "\n", s_peter_sig, NULL);
    wrong = peter;
    wrong.id ^= 1;
    assert_int_equal(s_verify(msg, &wrong, NULL), XL_ERR_NOTFOUND);
    /* And in the line: TestOpen's "x08g" -> "xxxx". */
    memcpy(msg + sigoff, "xxxx", 4);
    assert_int_equal(s_verify(msg, &peter, NULL), XL_ERR_NOTFOUND);
    free(msg);

    /* TestOpen's "Invalid signature": four base64 characters inserted. */
    m2 = s_cat(s_text, "\n", NULL, NULL);
    {
        char sig[256];
        snprintf(sig, sizeof sig, "%.60sABCD%s", s_peter_sig, s_peter_sig + 60);
        msg = s_cat(m2, sig, NULL, NULL);
    }
    assert_int_equal(s_verify(msg, &peter, NULL), XL_ERR_CRYPTO);
    free(msg);

    /* TestOpen's duplicates: a bad line by an unknown signer is ignored; by a
     * known one it fails the note. */
    {
        char bad_enoch[256];
        snprintf(bad_enoch, sizeof bad_enoch, "%.60sABCD%s", s_enoch_sig, s_enoch_sig + 60);
        char *sigs = s_cat(s_peter_sig, s_peter_sig, s_enoch_sig, s_enoch_sig);
        msg = s_cat(m2, sigs, bad_enoch, NULL);
        free(sigs);
    }
    assert_int_equal(s_verify(msg, &peter, NULL), 0);
    assert_int_equal(s_verify(msg, &enoch, NULL), XL_ERR_CRYPTO);
    free(msg);
    free(m2);
}

static void
test_verify_malformed(void **state)
{
    struct xl_note_vkey peter = s_vkey(s_peter_vkey);
    char sig_nonl[sizeof s_peter_sig];
    char *msg;

    memcpy(sig_nonl, s_peter_sig, sizeof s_peter_sig);
    sig_nonl[strlen(sig_nonl) - 1] = '\0';
    /* TestOpen's bad messages. */
    const char *bad[][4] = {
        {s_text, NULL, NULL, NULL},
        {s_text, "\n", NULL, NULL},
        {s_text, "\n", sig_nonl, NULL},
        {"\x01", s_text, "\n", s_peter_sig},
        {"\xff", s_text, "\n", s_peter_sig},
        {s_text, "\n",
         "\xe2\x80\x94 Bad Name "
         "x08go/ZJkuBS9UG/"
         "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
         NULL},
        {s_text, "\n", s_peter_sig, "Unexpected line.\n"},
        /* Ours: the missing blank line, a bad base64, a hyphen for the dash,
         * a carriage return, no name, a signature of four bytes. */
        {s_text, s_peter_sig, NULL, NULL},
        {s_text, "\n",
         "\xe2\x80\x94 PeterNeumann "
         "x08go/ZJkuBS9UG/"
         "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n",
         NULL},
        {s_text, "\n",
         "\xe2\x80\x94 PeterNeumann "
         "x08go/ZJkuBS9UG/"
         "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvq!qdngotpRZb6KE6RyyBwJnAM=\n",
         NULL},
        {s_text, "\n",
         "- PeterNeumann "
         "x08go/ZJkuBS9UG/"
         "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
         NULL},
        {"a\r\n", "\n", s_peter_sig, NULL},
        {s_text, "\n", "\xe2\x80\x94  x08go/ZJ\n", NULL},
        {s_text, "\n", "\xe2\x80\x94 PeterNeumann x08gow==\n", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg = s_cat(bad[i][0], bad[i][1], bad[i][2], bad[i][3]);
        if (s_verify(msg, &peter, NULL) != XL_ERR_FORMAT)
            fail_msg("bad message %zu accepted or refused for the wrong reason", i);
        free(msg);
    }

    /* A NUL byte inside the text is a control character. */
    {
        char buf[512], err[XL_ERRBUF];
        size_t n = 0, tl;
        memcpy(buf, "a\0b\n\n", 5);
        n = 5;
        memcpy(buf + n, s_peter_sig, strlen(s_peter_sig));
        n += strlen(s_peter_sig);
        assert_int_equal(xl_note_verify(buf, n, &peter, &tl, err, sizeof err), XL_ERR_FORMAT);
    }
}

static void
test_verify_many(void **state)
{
    struct xl_note_vkey peter = s_vkey(s_peter_vkey);
    size_t siglen = strlen(s_peter_sig), tl = strlen(s_text) + 1;
    char *msg = malloc(tl + 101 * siglen + 1), err[XL_ERRBUF];

    assert_non_null(msg);
    memcpy(msg, s_text, tl - 1);
    msg[tl - 1] = '\n';
    for (int i = 0; i < 101; i++)
        memcpy(msg + tl + (size_t)i * siglen, s_peter_sig, siglen);
    /* 16 (the spec's floor) and 100 (ours) are accepted, 101 not. */
    assert_int_equal(xl_note_verify(msg, tl + 16 * siglen, &peter, &tl, err, sizeof err), 0);
    tl = strlen(s_text) + 1;
    assert_int_equal(xl_note_verify(msg, tl + 100 * siglen, &peter, &tl, err, sizeof err), 0);
    tl = strlen(s_text) + 1;
    assert_int_equal(xl_note_verify(msg, tl + 101 * siglen, &peter, &tl, err, sizeof err),
                     XL_ERR_FORMAT);
    assert_non_null(strstr(err, "more than 100"));
    free(msg);

    /* Over the size limit. */
    msg = malloc(XL_NOTE_MAX + 1);
    assert_non_null(msg);
    memset(msg, 'a', XL_NOTE_MAX + 1);
    assert_int_equal(xl_note_verify(msg, XL_NOTE_MAX + 1, &peter, &tl, err, sizeof err),
                     XL_ERR_TOOBIG);
    free(msg);
}

static void
test_sign_roundtrip(void **state)
{
    uint8_t pk[XL_SIGN_PK_BYTES], sk[XL_SIGN_SK_BYTES];
    struct xl_note_vkey vk, other;
    char *out = NULL, *cosigned, err[XL_ERRBUF];
    size_t outlen, tl;
    const char *text = "line one\n\nline three after a blank line\n\n";

    assert_int_equal(xl_sign_keypair(pk, sk), 0);
    assert_int_equal(xl_note_vkey_init(&vk, "crosslink.example/linker", pk, err, sizeof err), 0);
    assert_int_equal(xl_note_sign(text, strlen(text), vk.name, sk, &out, &outlen, err, sizeof err),
                     0);
    assert_int_equal(s_verify(out, &vk, &tl), 0);
    assert_int_equal(tl, strlen(text));
    /* An unknown cosigner appended is ignored. */
    cosigned = s_cat(out, s_enoch_sig, NULL, NULL);
    assert_int_equal(s_verify(cosigned, &vk, &tl), 0);
    other = s_vkey(s_enoch_vkey);
    assert_int_equal(s_verify(cosigned, &other, NULL), XL_ERR_CRYPTO); /* not its text */
    free(cosigned);
    free(out);

    /* Bad inputs. */
    assert_int_equal(xl_note_sign("no newline", 10, vk.name, sk, &out, &outlen, err, sizeof err),
                     XL_ERR_INVALID);
    assert_null(out);
    assert_int_equal(xl_note_sign("a\tb\n", 4, vk.name, sk, &out, &outlen, err, sizeof err),
                     XL_ERR_INVALID);
    assert_int_equal(xl_note_sign("a\n", 2, "bad name", sk, &out, &outlen, err, sizeof err),
                     XL_ERR_INVALID);
    assert_int_equal(xl_note_sign("", 0, vk.name, sk, &out, &outlen, err, sizeof err),
                     XL_ERR_INVALID);
    sodium_memzero(sk, sizeof sk);
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

static void
test_checkpoint_published(void **state)
{
    struct xl_checkpoint cp;
    char out[256], err[XL_ERRBUF];
    size_t ext = 0;
    uint8_t root[XL_HASH_BYTES];
    size_t rootlen;
    char *msg = s_cat(s_sofa_text, "\n", s_sofa_sig, NULL);
    struct xl_note_vkey foo = s_vkey(s_foo_vkey), sofa;

    assert_int_equal(
        xl_checkpoint_parse(s_sofa_text, strlen(s_sofa_text), &cp, &ext, err, sizeof err), 0);
    assert_string_equal(cp.origin, "example.com/behind-the-sofa");
    assert_int_equal(cp.size, 20852163);
    assert_int_equal(sodium_base642bin(root, sizeof root,
                                       "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", 44, NULL,
                                       &rootlen, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_memory_equal(cp.root, root, sizeof root);
    assert_int_equal(ext, strlen(s_sofa_text));
    assert_int_equal(xl_checkpoint_format(&cp, NULL, out, sizeof out), (int)strlen(s_sofa_text));
    assert_string_equal(out, s_sofa_text);

    /* The signed checkpoint is a well-formed note; its key is not published,
     * so a key of that name (any other id) finds no signature. */
    assert_int_equal(xl_note_vkey_init(&sofa, "example.com/behind-the-sofa", foo.pk, NULL, 0), 0);
    assert_int_equal(s_verify(msg, &sofa, NULL), XL_ERR_NOTFOUND);
    assert_int_equal(xl_checkpoint_open(msg, strlen(msg), &sofa, &cp, err, sizeof err),
                     XL_ERR_NOTFOUND);
    free(msg);
}

static void
test_checkpoint_parse_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "origin\n",
        "origin\n5\n",
        "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n-5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n 5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n5 \nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n0x5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",  /* no padding */
        "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n", /* 31 bytes */
        "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=AAAA\n",
        "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
        "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n\n",
        "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next",
        "ori\tgin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        /* bytes outside the base64 alphabet, which libsodium's decoder alone
         * would take for alphabet characters (found by fuzz_note) */
        "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB\xce\xb5PA3j2jxq2I=\n",
        "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2\xc9=\n",
    };
    struct xl_checkpoint cp;
    char err[XL_ERRBUF];
    size_t ext;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (xl_checkpoint_parse(bad[i], strlen(bad[i]), &cp, &ext, err, sizeof err) !=
            XL_ERR_FORMAT)
            fail_msg("bad checkpoint %zu accepted or refused for the wrong reason", i);
        assert_true(err[0] != '\0');
        assert_int_equal(cp.size, 0);
        assert_int_equal(cp.origin[0], '\0');
    }
}

static void
test_checkpoint_parse_edges(void **state)
{
    struct xl_checkpoint cp;
    char err[XL_ERRBUF], out[256];
    size_t ext;
    const char *t;

    t = "o\n0\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_int_equal(xl_checkpoint_parse(t, strlen(t), &cp, &ext, err, sizeof err), 0);
    assert_int_equal(cp.size, 0);
    t = "o\n18446744073709551615\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_int_equal(xl_checkpoint_parse(t, strlen(t), &cp, &ext, err, sizeof err), 0);
    assert_true(cp.size == UINT64_MAX);
    assert_int_equal(xl_checkpoint_format(&cp, NULL, out, sizeof out), (int)strlen(t));
    assert_string_equal(out, t);
    /* Origins need not be key names (the spec: assume nothing of them). */
    t = "a log with spaces\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_int_equal(xl_checkpoint_parse(t, strlen(t), &cp, &ext, err, sizeof err), 0);
    assert_string_equal(cp.origin, "a log with spaces");
    /* ...but ours are, so format refuses one. */
    assert_int_equal(xl_checkpoint_format(&cp, NULL, out, sizeof out), XL_ERR_INVALID);
    /* Extension lines. */
    t = "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nfirst ext\nsecond\n";
    assert_int_equal(xl_checkpoint_parse(t, strlen(t), &cp, &ext, err, sizeof err), 0);
    assert_string_equal(t + ext, "first ext\nsecond\n");
    assert_int_equal(xl_checkpoint_format(&cp, "first ext\nsecond\n", out, sizeof out),
                     (int)strlen(t));
    assert_string_equal(out, t);
    assert_int_equal(xl_checkpoint_format(&cp, "no newline", out, sizeof out), XL_ERR_INVALID);
    assert_int_equal(xl_checkpoint_format(&cp, "a\n\nb\n", out, sizeof out), XL_ERR_INVALID);
    assert_int_equal(xl_checkpoint_format(&cp, "\n", out, sizeof out), XL_ERR_INVALID);
    /* Too small a buffer. */
    assert_int_equal(xl_checkpoint_format(&cp, NULL, out, 10), XL_ERR_TOOBIG);
    assert_string_equal(out, "");
}

static void
test_checkpoint_open(void **state)
{
    uint8_t pk[XL_SIGN_PK_BYTES], sk[XL_SIGN_SK_BYTES];
    struct xl_note_vkey vk, other;
    struct xl_checkpoint cp = {.size = 42}, got;
    char text[256], *msg = NULL, err[XL_ERRBUF];
    size_t msglen;
    int n;

    assert_int_equal(xl_sign_keypair(pk, sk), 0);
    assert_int_equal(xl_note_vkey_init(&vk, "crosslink.example/audit", pk, err, sizeof err), 0);
    memcpy(cp.origin, vk.name, strlen(vk.name) + 1);
    for (int i = 0; i < XL_HASH_BYTES; i++)
        cp.root[i] = (uint8_t)i;
    n = xl_checkpoint_format(&cp, NULL, text, sizeof text);
    assert_true(n > 0);
    assert_int_equal(xl_note_sign(text, (size_t)n, vk.name, sk, &msg, &msglen, err, sizeof err), 0);
    assert_int_equal(xl_checkpoint_open(msg, msglen, &vk, &got, err, sizeof err), 0);
    assert_memory_equal(&got, &cp, sizeof cp);
    free(msg);

    /* Signed by the right key under another name: the origin does not match. */
    assert_int_equal(xl_note_vkey_init(&other, "someone.else/log", pk, err, sizeof err), 0);
    assert_int_equal(xl_note_sign(text, (size_t)n, other.name, sk, &msg, &msglen, err, sizeof err),
                     0);
    assert_int_equal(xl_checkpoint_open(msg, msglen, &other, &got, err, sizeof err),
                     XL_ERR_MISMATCH);
    assert_int_equal(got.size, 0);
    free(msg);

    /* A signed note whose text is not a checkpoint. */
    assert_int_equal(xl_note_sign("hello\n", 6, vk.name, sk, &msg, &msglen, err, sizeof err), 0);
    assert_int_equal(xl_checkpoint_open(msg, msglen, &vk, &got, err, sizeof err), XL_ERR_FORMAT);
    free(msg);
    sodium_memzero(sk, sizeof sk);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vkey_published),
        cmocka_unit_test(test_vkey_bad),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_sign_published),
        cmocka_unit_test(test_verify_published),
        cmocka_unit_test(test_verify_tampered),
        cmocka_unit_test(test_verify_malformed),
        cmocka_unit_test(test_verify_many),
        cmocka_unit_test(test_sign_roundtrip),
        cmocka_unit_test(test_checkpoint_published),
        cmocka_unit_test(test_checkpoint_parse_bad),
        cmocka_unit_test(test_checkpoint_parse_edges),
        cmocka_unit_test(test_checkpoint_open),
    };

    return cmocka_run_group_tests_name("note", tests, s_group_setup, NULL);
}
