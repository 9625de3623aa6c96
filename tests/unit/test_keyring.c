/* Unit tests for common/keyring.c: add, revoke and list through save and load,
 * the refusals (duplicates, unknown or revoked keys) and a line-numbered error
 * for every kind of malformed line. */
#include <dirent.h>
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
#include "xl/keyring.h"

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

/* An entry for a fresh key pair, made the way crosslink-keys makes them. */
static void
s_entry(struct xl_keyring_entry *e, const char *role, const char *agency, const char *name)
{
    struct xl_keyfile *kf = xl_keyfile_new(XL_KEY_CURVE_SECRET);
    char err[XL_ERRBUF] = "";

    assert_non_null(kf);
    assert_int_equal(xl_keyfile_generate(kf), 0);
    snprintf(kf->role, sizeof kf->role, "%s", role);
    snprintf(kf->agency, sizeof kf->agency, "%s", agency);
    snprintf(kf->name, sizeof kf->name, "%s", name);
    if (xl_keyring_entry_from_key(kf, e, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_memory_equal(e->pk, kf->pub, XL_KEY_BYTES);
    xl_keyfile_destroy(&kf);
}

static void
s_assert_same(const struct xl_keyring_entry *a, const struct xl_keyring_entry *b)
{
    assert_string_equal(a->key_id, b->key_id);
    assert_int_equal(a->role, b->role);
    assert_string_equal(a->agency, b->agency);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->active, b->active);
    assert_string_equal(a->date, b->date);
    assert_memory_equal(a->pk, b->pk, XL_KEY_BYTES);
}

/* Number of directory entries other than . and .. */
static int
s_dir_count(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    return n;
}

static void
test_roles(void **state)
{
    static const char *names[] = {"agent", "analyst", "auditor", "admin"};
    enum xl_role r;

    for (int i = 0; i < XL_ROLE_COUNT; i++) {
        assert_int_equal(xl_role_parse(names[i], &r), 0);
        assert_int_equal(r, i);
        assert_string_equal(xl_role_name(r), names[i]);
    }
    assert_int_equal(xl_role_parse("linker", &r), XL_ERR_INVALID);
    assert_int_equal(xl_role_parse("Agent", &r), XL_ERR_INVALID);
    assert_int_equal(xl_role_parse("", &r), XL_ERR_INVALID);
    assert_string_equal(xl_role_name(XL_ROLE_COUNT), "unknown");
}

static void
test_entry_from_key(void **state)
{
    struct xl_keyring_entry e;
    struct xl_keyfile *kf = xl_keyfile_new(XL_KEY_CURVE_SECRET);
    struct xl_keyfile *sign = xl_keyfile_new(XL_KEY_SIGN_SECRET);
    char err[XL_ERRBUF], id[XL_KEYID_HEX + 1], today[11];

    assert_non_null(kf);
    assert_non_null(sign);
    assert_int_equal(xl_keyfile_generate(kf), 0);
    snprintf(kf->name, sizeof kf->name, "wmp-agent");
    snprintf(kf->agency, sizeof kf->agency, "wmp");
    snprintf(kf->role, sizeof kf->role, "agent");
    assert_int_equal(xl_keyring_entry_from_key(kf, &e, err, sizeof err), 0);
    xl_key_id(kf->pub, XL_KEY_BYTES, id);
    xl_today(today);
    assert_string_equal(e.key_id, id);
    assert_int_equal(e.role, XL_ROLE_AGENT);
    assert_string_equal(e.agency, "wmp");
    assert_string_equal(e.name, "wmp-agent");
    assert_int_equal(e.active, 1);
    assert_string_equal(e.date, today);

    snprintf(kf->role, sizeof kf->role, "linker");
    assert_int_equal(xl_keyring_entry_from_key(kf, &e, err, sizeof err), XL_ERR_INVALID);
    snprintf(kf->role, sizeof kf->role, "agent");
    kf->agency[0] = '\0';
    assert_int_equal(xl_keyring_entry_from_key(kf, &e, err, sizeof err), XL_ERR_INVALID);
    snprintf(sign->name, sizeof sign->name, "linker-sign");
    snprintf(sign->agency, sizeof sign->agency, "hub");
    snprintf(sign->role, sizeof sign->role, "admin");
    assert_int_equal(xl_keyring_entry_from_key(sign, &e, err, sizeof err), XL_ERR_INVALID);
    assert_non_null(strstr(err, "sign-secret"));
    xl_keyfile_destroy(&kf);
    xl_keyfile_destroy(&sign);
}

/* Add, save, load, revoke, save, load: the same entries in the same order. */
static void
test_roundtrip(void **state)
{
    struct xl_keyring_entry e[3];
    struct xl_keyring *kr = xl_keyring_new(), *back = NULL;
    char *path = tu_path(*state, "keyring");
    char err[XL_ERRBUF] = "";
    mode_t old;

    assert_non_null(kr);
    s_entry(&e[0], "agent", "wmp", "wmp-agent");
    s_entry(&e[1], "analyst", "coalition", "analyst-1");
    s_entry(&e[2], "auditor", "ig", "ig-lead");
    for (int i = 0; i < 3; i++)
        assert_int_equal(xl_keyring_add(kr, &e[i], err, sizeof err), 0);
    assert_int_equal(kr->count, 3);

    /* Saved 0644 whatever the umask. */
    old = umask(077);
    assert_int_equal(xl_keyring_save(kr, path, err, sizeof err), 0);
    umask(old);
    assert_int_equal(tu_file_mode(path), 0644);
    assert_int_equal(s_dir_count(*state), 1); /* no temporary file left behind */

    assert_int_equal(xl_keyring_load(path, &back, err, sizeof err), 0);
    assert_non_null(back);
    assert_int_equal(back->count, 3);
    for (int i = 0; i < 3; i++)
        s_assert_same(&back->entries[i], &e[i]);

    /* Revoke by name and by key id, then save over the old file. */
    assert_int_equal(xl_keyring_revoke(back, "wmp-agent", "2026-02-03", err, sizeof err), 0);
    assert_int_equal(xl_keyring_revoke(back, e[2].key_id, "2026-02-04", err, sizeof err), 0);
    assert_int_equal(xl_keyring_save(back, path, err, sizeof err), 0);
    xl_keyring_destroy(&back);
    assert_null(back);
    assert_int_equal(s_dir_count(*state), 1);

    assert_int_equal(xl_keyring_load(path, &back, err, sizeof err), 0);
    assert_int_equal(back->count, 3);
    e[0].active = 0;
    snprintf(e[0].date, sizeof e[0].date, "2026-02-03");
    e[2].active = 0;
    snprintf(e[2].date, sizeof e[2].date, "2026-02-04");
    for (int i = 0; i < 3; i++)
        s_assert_same(&back->entries[i], &e[i]);

    /* Lookups by name, key id and public key. */
    assert_ptr_equal(xl_keyring_find(back, "analyst-1"), &back->entries[1]);
    assert_ptr_equal(xl_keyring_find(back, e[1].key_id), &back->entries[1]);
    assert_ptr_equal(xl_keyring_find_pk(back, e[2].pk), &back->entries[2]);
    assert_null(xl_keyring_find(back, "nobody"));
    e[0].pk[0] ^= 1;
    assert_null(xl_keyring_find_pk(back, e[0].pk));

    xl_keyring_destroy(&kr);
    xl_keyring_destroy(&back);
    xl_keyring_destroy(&back); /* accepts NULL */
    free(path);
}

/* An empty keyring saves and loads as empty. */
static void
test_empty(void **state)
{
    struct xl_keyring *kr = xl_keyring_new(), *back = NULL;
    char *path = tu_path(*state, "keyring");
    char err[XL_ERRBUF];

    assert_int_equal(xl_keyring_save(kr, path, err, sizeof err), 0);
    assert_int_equal(xl_keyring_load(path, &back, err, sizeof err), 0);
    assert_int_equal(back->count, 0);
    xl_keyring_destroy(&kr);
    xl_keyring_destroy(&back);
    free(path);
}

static void
test_duplicates(void **state)
{
    struct xl_keyring_entry a, b, same_key, same_name;
    struct xl_keyring *kr = xl_keyring_new();
    char err[XL_ERRBUF];

    s_entry(&a, "agent", "wmp", "wmp-agent");
    s_entry(&b, "agent", "nhs", "nhs-agent");
    assert_int_equal(xl_keyring_add(kr, &a, err, sizeof err), 0);
    assert_int_equal(xl_keyring_add(kr, &b, err, sizeof err), 0);

    /* The same key under another name, role and agency. */
    same_key = a;
    snprintf(same_key.name, sizeof same_key.name, "other-name");
    snprintf(same_key.agency, sizeof same_key.agency, "edu");
    same_key.role = XL_ROLE_ANALYST;
    err[0] = '\0';
    assert_int_equal(xl_keyring_add(kr, &same_key, err, sizeof err), XL_ERR_EXISTS);
    assert_non_null(strstr(err, a.key_id));

    /* Another key under a name already taken. */
    s_entry(&same_name, "agent", "edu", "nhs-agent");
    err[0] = '\0';
    assert_int_equal(xl_keyring_add(kr, &same_name, err, sizeof err), XL_ERR_EXISTS);
    assert_non_null(strstr(err, "nhs-agent"));

    /* Nothing was added, and a revoked key still blocks its reuse. */
    assert_int_equal(kr->count, 2);
    assert_int_equal(xl_keyring_revoke(kr, "wmp-agent", "2026-01-01", err, sizeof err), 0);
    assert_int_equal(xl_keyring_add(kr, &a, err, sizeof err), XL_ERR_EXISTS);
    assert_int_equal(kr->count, 2);
    xl_keyring_destroy(&kr);
}

static void
test_revoke_errors(void **state)
{
    struct xl_keyring_entry a;
    struct xl_keyring *kr = xl_keyring_new();
    char err[XL_ERRBUF] = "";

    s_entry(&a, "agent", "wmp", "wmp-agent");
    assert_int_equal(xl_keyring_add(kr, &a, err, sizeof err), 0);
    assert_int_equal(xl_keyring_revoke(kr, "nhs-agent", "2026-01-01", err, sizeof err),
                     XL_ERR_NOTFOUND);
    assert_non_null(strstr(err, "nhs-agent"));
    assert_int_equal(xl_keyring_revoke(kr, "0123456789abcdef", "2026-01-01", err, sizeof err),
                     XL_ERR_NOTFOUND);
    assert_int_equal(kr->entries[0].active, 1);

    assert_int_equal(xl_keyring_revoke(kr, a.key_id, "2026-01-01", err, sizeof err), 0);
    assert_int_equal(kr->entries[0].active, 0);
    err[0] = '\0';
    assert_int_equal(xl_keyring_revoke(kr, "wmp-agent", "2026-05-05", err, sizeof err),
                     XL_ERR_INVALID);
    assert_non_null(strstr(err, "already revoked"));
    /* The second attempt changed nothing: the revocation date stands. */
    assert_string_equal(kr->entries[0].date, "2026-01-01");
    xl_keyring_destroy(&kr);
}

static void
test_missing_file(void **state)
{
    char *path = tu_path(*state, "no-keyring");
    struct xl_keyring *kr = NULL;
    char err[XL_ERRBUF] = "";

    assert_int_equal(xl_keyring_load(path, &kr, err, sizeof err), XL_ERR_NOTFOUND);
    assert_null(kr);
    assert_non_null(strstr(err, path));
    free(path);
}

/* Writes a keyring whose line 4 is bad (after a comment, a good line and a
 * blank line) and checks the load fails naming line 4 and the reason. When
 * alone_bad, the line is also refused by the line parser on its own. */
static void
s_bad_line(const char *dir, const char *good, const char *bad, const char *reason, int alone_bad)
{
    char *path = tu_path(dir, "keyring");
    char text[2048], err[XL_ERRBUF] = "", where[1100], parse_err[XL_ERRBUF] = "";
    struct xl_keyring *kr = NULL;
    struct xl_keyring_entry e;

    snprintf(text, sizeof text, "# keyring\n%s\n\n%s\n", good, bad);
    assert_int_equal(tu_write_file(path, text), 0);
    assert_int_equal(xl_keyring_load(path, &kr, err, sizeof err), XL_ERR_FORMAT);
    assert_null(kr);
    snprintf(where, sizeof where, "%s:4: ", path);
    if (strncmp(err, where, strlen(where)) != 0 || strstr(err, reason) == NULL)
        fail_msg("line '%s': message '%s' lacks '%s' or '%s'", bad, err, where, reason);

    /* The line parser alone says the same, prefixed with the caller's where. */
    if (!alone_bad) {
        free(path);
        return;
    }
    assert_int_equal(xl_keyring_parse_line(bad, "kr:9", &e, parse_err, sizeof parse_err),
                     XL_ERR_FORMAT);
    assert_true(strncmp(parse_err, "kr:9: ", 6) == 0);
    free(path);
}

static void
test_malformed_lines(void **state)
{
    struct xl_keyring_entry a, b;
    char good[512], other_good[512], bad[600], z85[XL_KEY_BYTES / 4 * 5 + 1];

    s_entry(&a, "agent", "wmp", "wmp-agent");
    s_entry(&b, "agent", "nhs", "nhs-agent");
    assert_int_equal(xl_keyring_format_line(&a, good, sizeof good), 0);
    assert_int_equal(xl_keyring_format_line(&b, other_good, sizeof other_good), 0);
    assert_int_equal(xl_z85_encode(b.pk, XL_KEY_BYTES, z85), 0);

#define S_BAD(reason, ...)                                                                         \
    do {                                                                                           \
        snprintf(bad, sizeof bad, __VA_ARGS__);                                                    \
        s_bad_line(*state, good, bad, reason, 1);                                                  \
    } while (0)

    /* Wrong field count. */
    S_BAD("found 6", "%s agent nhs nhs-agent active %s", b.key_id, z85);
    S_BAD("found 8", "%s agent nhs nhs-agent active 2026-01-01 %s extra", b.key_id, z85);
    S_BAD("found 1", "%s", b.key_id);
    /* Bad role, status, date. */
    S_BAD("role", "%s linker nhs nhs-agent active 2026-01-01 %s", b.key_id, z85);
    S_BAD("status", "%s agent nhs nhs-agent suspended 2026-01-01 %s", b.key_id, z85);
    S_BAD("status", "%s agent nhs nhs-agent Active 2026-01-01 %s", b.key_id, z85);
    S_BAD("date", "%s agent nhs nhs-agent active 2026/01/01 %s", b.key_id, z85);
    S_BAD("date", "%s agent nhs nhs-agent active 26-01-01 %s", b.key_id, z85);
    S_BAD("date", "%s agent nhs nhs-agent active yesterday %s", b.key_id, z85);
    /* Bad agency or name. */
    S_BAD("agency", "%s agent ../nhs nhs-agent active 2026-01-01 %s", b.key_id, z85);
    S_BAD("name", "%s agent nhs -nhs-agent active 2026-01-01 %s", b.key_id, z85);
    /* Bad Z85: a character outside the alphabet, one character short, one too many. */
    S_BAD("Z85", "%s agent nhs nhs-agent active 2026-01-01 ~%s", b.key_id, z85 + 1);
    S_BAD("Z85", "%s agent nhs nhs-agent active 2026-01-01 %s", b.key_id, z85 + 1);
    S_BAD("Z85", "%s agent nhs nhs-agent active 2026-01-01 %s0", b.key_id, z85);
    /* Key id not matching the key: another key's id, and a made-up one. */
    S_BAD("does not match", "%s agent nhs nhs-agent active 2026-01-01 %s", a.key_id, z85);
    S_BAD("does not match", "0000000000000000 agent nhs nhs-agent active 2026-01-01 %s", z85);
#undef S_BAD

    /* A line repeating a key already loaded. */
    s_bad_line(*state, good, good, "duplicate", 0);
    /* The control: the same file with a good line 4 loads. */
    char *path = tu_path(*state, "keyring"), text[2048], err[XL_ERRBUF] = "";
    struct xl_keyring *kr = NULL;
    snprintf(text, sizeof text, "# keyring\n%s\n\n%s\n", good, other_good);
    assert_int_equal(tu_write_file(path, text), 0);
    if (xl_keyring_load(path, &kr, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(kr->count, 2);
    xl_keyring_destroy(&kr);
    free(path);
}

/* Comments, blank and blank-looking lines, tabs and CRLF are all accepted. */
static void
test_comments_and_blanks(void **state)
{
    struct xl_keyring_entry a, b;
    struct xl_keyring *kr = NULL;
    char la[512], lb[512], text[4096], err[XL_ERRBUF] = "";
    char *path = tu_path(*state, "keyring");

    s_entry(&a, "agent", "wmp", "wmp-agent");
    s_entry(&b, "admin", "hub", "custodian");
    assert_int_equal(xl_keyring_format_line(&a, la, sizeof la), 0);
    assert_int_equal(xl_keyring_format_line(&b, lb, sizeof lb), 0);
    /* Tabs between the fields of the second line. */
    for (char *p = lb; *p != '\0'; p++) {
        if (*p == ' ')
            *p = '\t';
    }
    snprintf(text, sizeof text,
             "# crosslink keyring\n"
             "\n"
             "   \n"
             "\t# indented comment with a fake line: %s\n"
             "%s\r\n"
             "#%s\n"
             "\n"
             "  %s\n"
             "# trailing comment",
             la, la, la, lb);
    assert_int_equal(tu_write_file(path, text), 0);
    if (xl_keyring_load(path, &kr, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(kr->count, 2);
    s_assert_same(&kr->entries[0], &a);
    s_assert_same(&kr->entries[1], &b);
    xl_keyring_destroy(&kr);
    free(path);
}

static void
test_format_line(void **state)
{
    struct xl_keyring_entry a, back;
    char line[512], err[XL_ERRBUF] = "";
    size_t need;

    s_entry(&a, "analyst", "coalition", "analyst-1");
    assert_int_equal(xl_keyring_format_line(&a, line, sizeof line), 0);
    need = strlen(line) + 1;
    assert_int_equal(strncmp(line, a.key_id, XL_KEYID_HEX), 0);
    assert_non_null(strstr(line, " analyst coalition analyst-1 active "));
    if (xl_keyring_parse_line(line, "x", &back, err, sizeof err) != 0)
        fail_msg("%s", err);
    s_assert_same(&back, &a);
    /* Too small a buffer is refused rather than truncated. */
    assert_int_equal(xl_keyring_format_line(&a, line, need - 1), XL_ERR_INVALID);
    assert_int_equal(xl_keyring_format_line(&a, line, need), 0);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_entry_from_key),
        S_TEST(test_roundtrip),
        S_TEST(test_empty),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_revoke_errors),
        S_TEST(test_missing_file),
        S_TEST(test_malformed_lines),
        S_TEST(test_comments_and_blanks),
        cmocka_unit_test(test_format_line),
    };

    return cmocka_run_group_tests_name("keyring", tests, s_group_setup, NULL);
}
