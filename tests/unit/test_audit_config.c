/* Unit tests for audit/config.c: the example audit.conf loads with the values
 * it says, relative paths resolve against the file's directory, and every
 * error names the file, the line where there is one, and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../audit/config.h"
#include "testutil.h"
#include "xl/err.h"

#define EXAMPLES "deploy/examples"

static const char s_good[] = "[audit]\n"
                             "endpoint = ipc:///run/crosslink/linker.sock\n"
                             "server_public = keys/linker.pub\n"
                             "sign_public = /etc/crosslink/linker-sign.pub\n"
                             "public = keys/ig.pub\n"
                             "secret = keys/ig.key\n"
                             "store = store\n";

struct s_dir {
    char *dir, *path;
};

static int
s_setup(void **state)
{
    struct s_dir *d = calloc(1, sizeof *d);

    if (d == NULL || (d->dir = tu_tmpdir()) == NULL ||
        (d->path = tu_path(d->dir, "audit.conf")) == NULL)
        return -1;
    *state = d;
    return 0;
}

static int
s_teardown(void **state)
{
    struct s_dir *d = *state;

    tu_rmtree(d->dir);
    free(d->dir);
    free(d->path);
    free(d);
    return 0;
}

/* Writes text as the test's audit.conf and loads it: the return code, with the
 * message in err. */
static int
s_load(struct s_dir *d, const char *text, struct audit_config *c, char *err, size_t errlen)
{
    assert_int_equal(tu_write_file(d->path, text), 0);
    err[0] = '\0';
    return audit_config_load(d->path, c, err, errlen);
}

/* The good file with line `from` replaced by `to` ("" removes it). */
static int
s_load_edit(struct s_dir *d, const char *from, const char *to, struct audit_config *c, char *err,
            size_t errlen)
{
    assert_int_equal(tu_write_file(d->path, s_good), 0);
    assert_int_equal(tu_file_replace(d->path, from, to), 0);
    err[0] = '\0';
    return audit_config_load(d->path, c, err, errlen);
}

/* err starts with "<the test's file>:" followed by want_rest somewhere. */
static void
s_names_file(const struct s_dir *d, const char *err, const char *want)
{
    if (strncmp(err, d->path, strlen(d->path)) != 0 || strstr(err, want) == NULL)
        fail_msg("expected '%s: ...%s...', got '%s'", d->path, want, err);
}

static void
test_example(void **state)
{
    struct audit_config c;
    char err[XL_ERRBUF] = "";

    assert_int_equal(audit_config_load(EXAMPLES "/audit.conf", &c, err, sizeof err), 0);
    assert_string_equal(c.path, EXAMPLES "/audit.conf");
    assert_string_equal(c.endpoint, "tcp://linker.coalition.example:7800");
    assert_string_equal(c.server_key_path, EXAMPLES "/keys/linker.pub");
    assert_string_equal(c.sign_key_path, EXAMPLES "/keys/linker-sign.pub");
    assert_string_equal(c.public_path, EXAMPLES "/keys/ig.pub");
    assert_string_equal(c.secret_path, EXAMPLES "/keys/ig.key");
    assert_string_equal(c.store_dir, EXAMPLES "/store");
    assert_true(c.timeout > 29.9 && c.timeout < 30.1);
}

static void
test_paths_and_default_timeout(void **state)
{
    struct s_dir *d = *state;
    struct audit_config c;
    char err[XL_ERRBUF], want[2048];

    assert_int_equal(s_load(d, s_good, &c, err, sizeof err), 0);
    assert_string_equal(c.endpoint, "ipc:///run/crosslink/linker.sock");
    snprintf(want, sizeof want, "%s/keys/linker.pub", d->dir);
    assert_string_equal(c.server_key_path, want);
    /* an absolute path is kept as it is */
    assert_string_equal(c.sign_key_path, "/etc/crosslink/linker-sign.pub");
    snprintf(want, sizeof want, "%s/store", d->dir);
    assert_string_equal(c.store_dir, want);
    assert_true(c.timeout > 29.9 && c.timeout < 30.1);

    assert_int_equal(
        s_load_edit(d, "store = store\n", "store = store\ntimeout = 2.5\n", &c, err, sizeof err),
        0);
    assert_true(c.timeout > 2.49 && c.timeout < 2.51);
}

static void
test_required(void **state)
{
    static const char *lines[] = {"endpoint = ipc:///run/crosslink/linker.sock\n",
                                  "server_public = keys/linker.pub\n",
                                  "sign_public = /etc/crosslink/linker-sign.pub\n",
                                  "public = keys/ig.pub\n",
                                  "secret = keys/ig.key\n",
                                  "store = store\n"};
    static const char *names[] = {"endpoint", "server_public", "sign_public",
                                  "public",   "secret",        "store"};
    struct s_dir *d = *state;
    struct audit_config c;
    char err[XL_ERRBUF], want[64];

    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        assert_int_equal(s_load_edit(d, lines[i], "", &c, err, sizeof err), XL_ERR_FORMAT);
        snprintf(want, sizeof want, ": [audit] %s is required", names[i]);
        s_names_file(d, err, want);
    }
}

static void
test_line_errors(void **state)
{
    static const struct {
        const char *from, *to, *want;
    } cases[] = {
        {"store = store\n", "store = store\nstorage = x\n", ":8: unknown key 'storage' in [audit]"},
        {"[audit]\n", "[auditor]\n", ":2: unknown section [auditor]"},
        {"endpoint = ipc:///run/crosslink/linker.sock\n", "endpoint = linker:7800\n",
         ":2: endpoint 'linker:7800' has no scheme: write it as tcp://HOST:PORT"},
        {"store = store\n", "store = store\ntimeout = 0\n",
         ":8: timeout is a number of seconds from 1 to 3600"},
        {"store = store\n", "store = store\ntimeout = 30s\n",
         ":8: timeout is a number of seconds from 1 to 3600"},
        {"store = store\n", "store = store\ntimeout =\n",
         ":8: timeout is a number of seconds from 1 to 3600"},
        {"store = store\n", "store =\n", ":7: store is empty"},
        {"public = keys/ig.pub\n", "public = keys/ig.pub\npublic = keys/other.pub\n",
         ":6: public is given twice"},
        {"store = store\n", "store = store\nthis is not a setting\n", ":8: malformed line"},
    };
    struct s_dir *d = *state;
    struct audit_config c;
    char err[XL_ERRBUF];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(s_load_edit(d, cases[i].from, cases[i].to, &c, err, sizeof err),
                         XL_ERR_FORMAT);
        s_names_file(d, err, cases[i].want);
    }
}

static void
test_missing_file(void **state)
{
    struct s_dir *d = *state;
    struct audit_config c;
    char err[XL_ERRBUF] = "";

    assert_int_equal(audit_config_load(d->path, &c, err, sizeof err), XL_ERR_NOTFOUND);
    s_names_file(d, err, ": cannot open the audit configuration");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),
        cmocka_unit_test_setup_teardown(test_paths_and_default_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_required, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_line_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, s_setup, s_teardown),
    };

    return cmocka_run_group_tests_name("audit_config", tests, NULL, NULL);
}
