/* Unit tests for common/bundle.c: a linkage secret sealed to an agent opens
 * only for that agent, unchanged, and any edit of the bundle is refused. */
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
#include "xl/bundle.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/mem.h"

#define S_EPOCH 3

struct s_fixture {
    char *dir;
    char *path;                /* dir/wmp.bundle, not yet written */
    struct xl_keyfile *secret; /* linkage secret, epoch S_EPOCH */
    struct xl_keyfile *agent;  /* agent key pair, agency wmp */
    struct xl_keyfile *agent2; /* another agent key pair of the same agency */
};

static struct xl_keyfile *
s_agent(const char *name, const char *agency)
{
    struct xl_keyfile *kf = xl_keyfile_new(XL_KEY_CURVE_SECRET);

    if (kf == NULL || xl_keyfile_generate(kf) != 0) {
        xl_keyfile_destroy(&kf);
        return NULL;
    }
    snprintf(kf->name, sizeof kf->name, "%s", name);
    snprintf(kf->role, sizeof kf->role, "agent");
    snprintf(kf->agency, sizeof kf->agency, "%s", agency);
    xl_today(kf->created);
    return kf;
}

static int
s_group_setup(void **state)
{
    return xl_crypto_init() == 0 ? 0 : -1;
}

static int
s_teardown(void **state)
{
    struct s_fixture *f = *state;

    if (f == NULL)
        return 0;
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    xl_keyfile_destroy(&f->secret);
    xl_keyfile_destroy(&f->agent);
    xl_keyfile_destroy(&f->agent2);
    free(f);
    *state = NULL;
    return 0;
}

static int
s_setup(void **state)
{
    struct s_fixture *f = calloc(1, sizeof *f);

    *state = f;
    if (f == NULL)
        return -1;
    f->dir = tu_tmpdir();
    f->path = f->dir != NULL ? tu_path(f->dir, "wmp.bundle") : NULL;
    f->secret = xl_keyfile_new(XL_KEY_LINKAGE_SECRET);
    f->agent = s_agent("wmp-agent", "wmp");
    f->agent2 = s_agent("wmp-agent-2", "wmp");
    if (f->path == NULL || f->secret == NULL || f->agent == NULL || f->agent2 == NULL ||
        xl_keyfile_generate(f->secret) != 0) {
        s_teardown(state);
        return -1;
    }
    f->secret->epoch = S_EPOCH;
    snprintf(f->secret->name, sizeof f->secret->name, "linkage-e%d", S_EPOCH);
    return 0;
}

/* Writes the fixture's bundle to its agent; fails the test on error. */
static void
s_write(struct s_fixture *f)
{
    char err[XL_ERRBUF] = "";

    if (xl_bundle_write(f->path, f->secret, f->agent, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* Opens f->path with key and expects code; *out stays NULL on failure. */
static void
s_open_fails(struct s_fixture *f, const struct xl_keyfile *key, int code)
{
    struct xl_keyfile *out = NULL;
    char err[XL_ERRBUF] = "";
    int r = xl_bundle_open(f->path, key, &out, err, sizeof err);

    if (r != code)
        fail_msg("open returned %d (%s), expected %d", r, err, code);
    assert_null(out);
    assert_true(err[0] != '\0');
}

static void
test_roundtrip(void **state)
{
    struct s_fixture *f = *state;
    struct xl_keyfile *out = NULL;
    char err[XL_ERRBUF] = "";

    s_write(f);
    assert_int_equal(tu_file_mode(f->path), 0600);
    if (xl_bundle_open(f->path, f->agent, &out, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_non_null(out);
    assert_int_equal(out->type, XL_KEY_LINKAGE_SECRET);
    assert_int_equal(out->epoch, S_EPOCH);
    assert_int_equal(out->secretlen, XL_KEY_BYTES);
    assert_memory_equal(out->secret, f->secret->secret, XL_KEY_BYTES);
    assert_string_equal(out->agency, "wmp");
    xl_keyfile_destroy(&out);
}

/* The custodian holds only the agent's public key file. */
static void
test_roundtrip_from_public(void **state)
{
    struct s_fixture *f = *state;
    struct xl_keyfile *pub = NULL, *out = NULL;
    char *pubpath = tu_path(f->dir, "wmp-agent.pub");
    char err[XL_ERRBUF] = "";

    assert_int_equal(xl_keyfile_write(pubpath, f->agent, 1, err, sizeof err), 0);
    assert_int_equal(xl_keyfile_load(pubpath, XL_KEY_CURVE_PUBLIC, &pub, err, sizeof err), 0);
    if (xl_bundle_write(f->path, f->secret, pub, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (xl_bundle_open(f->path, f->agent, &out, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(out->epoch, S_EPOCH);
    assert_memory_equal(out->secret, f->secret->secret, XL_KEY_BYTES);
    /* Opening needs the secret key; the public key is refused. */
    xl_keyfile_destroy(&out);
    s_open_fails(f, pub, XL_ERR_INVALID);
    xl_keyfile_destroy(&pub);
    free(pubpath);
}

/* The file shows the published check value and never the secret itself. */
static void
test_file_content(void **state)
{
    struct s_fixture *f = *state;
    uint8_t check[XL_CHECK_BYTES];
    char hex[2 * XL_KEY_BYTES + 1], z85[XL_KEY_BYTES / 4 * 5 + 1], line[96];
    char *text;

    s_write(f);
    text = tu_read_file(f->path);
    assert_non_null(text);
    assert_int_equal(xl_secret_check(f->secret->secret, S_EPOCH, check), 0);
    xl_hex(check, sizeof check, hex);
    snprintf(line, sizeof line, "\ncheck: %s\n", hex);
    assert_non_null(strstr(text, line));
    snprintf(line, sizeof line, "\nepoch: %d\n", S_EPOCH);
    assert_non_null(strstr(text, line));
    assert_non_null(strstr(text, "\nagency: wmp\n"));
    xl_hex(f->secret->secret, XL_KEY_BYTES, hex);
    assert_null(strstr(text, hex));
    assert_int_equal(xl_z85_encode(f->secret->secret, XL_KEY_BYTES, z85), 0);
    assert_null(strstr(text, z85));
    free(text);
}

/* The Z85 alphabet in value order. */
static const char s_z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            ".-:+=^!/*?&<>()[]{}@%$#";

/* Every single-character change of the sealed text is refused as a crypto
 * failure. The character is replaced by the one of next lower value, so the
 * text stays valid Z85 (a lower digit never overflows its group). */
static void
test_tampered_sealed(void **state)
{
    struct s_fixture *f = *state;
    char *orig, *text, *sealed;
    size_t n;

    s_write(f);
    orig = tu_read_file(f->path);
    assert_non_null(orig);
    sealed = strstr(orig, "\nsealed: ");
    assert_non_null(sealed);
    sealed += strlen("\nsealed: ");
    n = strcspn(sealed, "\n");
    assert_true(n > 100);
    text = strdup(orig);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)(sealed - orig) + i;
        const char *c = strchr(s_z85, orig[at]);
        assert_non_null(c);
        text[at] = c == s_z85 ? '1' : c[-1];
        assert_int_equal(tu_write_file(f->path, text), 0);
        s_open_fails(f, f->agent, XL_ERR_CRYPTO);
        text[at] = orig[at];
    }
    /* The untouched text still opens. */
    assert_int_equal(tu_write_file(f->path, orig), 0);
    struct xl_keyfile *out = NULL;
    char err[XL_ERRBUF];
    assert_int_equal(xl_bundle_open(f->path, f->agent, &out, err, sizeof err), 0);
    xl_keyfile_destroy(&out);
    free(text);
    free(orig);
}

/* Edits a header line of a fresh bundle and expects the open to fail. */
static void
s_edit(struct s_fixture *f, const char *from, const char *to, const struct xl_keyfile *key,
       int code)
{
    (void)remove(f->path);
    s_write(f);
    if (tu_file_replace(f->path, from, to) != 0)
        fail_msg("'%s' not in the bundle", from);
    s_open_fails(f, key, code);
}

static void
test_tampered_header(void **state)
{
    struct s_fixture *f = *state;
    struct xl_keyfile *relabelled = s_agent("x", "nhs");
    uint8_t check[XL_CHECK_BYTES];
    char checkhex[2 * XL_CHECK_BYTES + 1], bad[2 * XL_CHECK_BYTES + 1];
    char id[XL_KEYID_HEX + 1], id2[XL_KEYID_HEX + 1];

    /* Epoch, up and down. */
    s_edit(f, "\nepoch: 3\n", "\nepoch: 4\n", f->agent, XL_ERR_CRYPTO);
    s_edit(f, "\nepoch: 3\n", "\nepoch: 2\n", f->agent, XL_ERR_CRYPTO);
    /* Agency: relabelled, and relabelled for an agent key claiming that agency. */
    s_edit(f, "\nagency: wmp\n", "\nagency: nhs\n", f->agent, XL_ERR_CRYPTO);
    assert_non_null(relabelled);
    xl_wipe(relabelled->secret, relabelled->secretlen);
    memcpy(relabelled->secret, f->agent->secret, XL_KEY_BYTES);
    memcpy(relabelled->pub, f->agent->pub, XL_KEY_BYTES);
    s_edit(f, "\nagency: wmp\n", "\nagency: nhs\n", relabelled, XL_ERR_CRYPTO);
    /* Check value: one hex digit changed. */
    assert_int_equal(xl_secret_check(f->secret->secret, S_EPOCH, check), 0);
    xl_hex(check, sizeof check, checkhex);
    memcpy(bad, checkhex, sizeof bad);
    bad[0] = bad[0] == '0' ? '1' : '0';
    s_edit(f, checkhex, bad, f->agent, XL_ERR_CRYPTO);
    /* Recipient: readdressed to the other agent, opened by either. */
    xl_key_id(f->agent->pub, XL_KEY_BYTES, id);
    xl_key_id(f->agent2->pub, XL_KEY_BYTES, id2);
    s_edit(f, id, id2, f->agent, XL_ERR_CRYPTO);
    s_edit(f, id, id2, f->agent2, XL_ERR_CRYPTO);
    /* Lines missing, renamed or added: not a bundle. */
    s_edit(f, "\nepoch: 3\n", "\n", f->agent, XL_ERR_FORMAT);
    s_edit(f, "\nagency: ", "\nagence: ", f->agent, XL_ERR_FORMAT);
    s_edit(f, "\ncheck: ", "\nnote: hello\ncheck: ", f->agent, XL_ERR_FORMAT);
    s_edit(f, "type: linkage-bundle", "type: linkage-secret", f->agent, XL_ERR_FORMAT);
    xl_keyfile_destroy(&relabelled);
}

static void
test_other_agent(void **state)
{
    struct s_fixture *f = *state;
    struct xl_keyfile *elsewhere = s_agent("nhs-agent", "nhs");

    assert_non_null(elsewhere);
    s_write(f);
    s_open_fails(f, f->agent2, XL_ERR_CRYPTO);
    s_open_fails(f, elsewhere, XL_ERR_CRYPTO);
    xl_keyfile_destroy(&elsewhere);
}

static void
test_refused_recipients(void **state)
{
    static const char *roles[] = {"analyst", "auditor", "admin", "linker", ""};
    struct s_fixture *f = *state;
    struct xl_keyfile *sign = xl_keyfile_new(XL_KEY_SIGN_SECRET);
    struct xl_keyfile *local = xl_keyfile_new(XL_KEY_LOCAL_SECRET);
    char err[XL_ERRBUF];

    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        snprintf(f->agent->role, sizeof f->agent->role, "%s", roles[i]);
        err[0] = '\0';
        assert_int_equal(xl_bundle_write(f->path, f->secret, f->agent, err, sizeof err),
                         XL_ERR_INVALID);
        assert_non_null(strstr(err, "wmp-agent"));
        assert_int_equal(tu_file_mode(f->path), -1); /* nothing written */
    }
    snprintf(f->agent->role, sizeof f->agent->role, "agent");

    /* An agent key without an agency. */
    f->agent->agency[0] = '\0';
    assert_int_equal(xl_bundle_write(f->path, f->secret, f->agent, err, sizeof err),
                     XL_ERR_INVALID);
    snprintf(f->agent->agency, sizeof f->agent->agency, "wmp");

    /* A signing key with role agent is still not a curve key. */
    assert_non_null(sign);
    assert_int_equal(xl_keyfile_generate(sign), 0);
    snprintf(sign->role, sizeof sign->role, "agent");
    snprintf(sign->agency, sizeof sign->agency, "wmp");
    assert_int_equal(xl_bundle_write(f->path, f->secret, sign, err, sizeof err), XL_ERR_INVALID);

    /* Only a linkage secret is bundled. */
    assert_non_null(local);
    assert_int_equal(xl_keyfile_generate(local), 0);
    assert_int_equal(xl_bundle_write(f->path, local, f->agent, err, sizeof err), XL_ERR_INVALID);
    assert_int_equal(tu_file_mode(f->path), -1);
    xl_keyfile_destroy(&sign);
    xl_keyfile_destroy(&local);
}

static void
test_mode_and_overwrite(void **state)
{
    struct s_fixture *f = *state;
    char err[XL_ERRBUF] = "";
    char *before, *after;
    mode_t old = umask(0);

    s_write(f);
    umask(old);
    assert_int_equal(tu_file_mode(f->path), 0600);
    before = tu_read_file(f->path);
    assert_int_equal(xl_bundle_write(f->path, f->secret, f->agent2, err, sizeof err),
                     XL_ERR_EXISTS);
    assert_non_null(strstr(err, f->path));
    after = tu_read_file(f->path);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void
test_missing(void **state)
{
    struct s_fixture *f = *state;

    s_open_fails(f, f->agent, XL_ERR_NOTFOUND);
}

#define S_TEST(t) cmocka_unit_test_setup_teardown(t, s_setup, s_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_roundtrip),
        S_TEST(test_roundtrip_from_public),
        S_TEST(test_file_content),
        S_TEST(test_tampered_sealed),
        S_TEST(test_tampered_header),
        S_TEST(test_other_agent),
        S_TEST(test_refused_recipients),
        S_TEST(test_mode_and_overwrite),
        S_TEST(test_missing),
    };

    return cmocka_run_group_tests_name("bundle", tests, s_group_setup, NULL);
}
