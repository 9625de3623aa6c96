/* Unit tests for the linker's table of requests (linker/requests.c): who may
 * send each body, the agency rule, and which run off the request loop. The
 * end-to-end tests (tests/e2e/test_frontdoor.sh, test_linker.sh) send each
 * refused request over the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../linker/requests.h"
#include "xl/err.h"
#include "xl/keyring.h"

#define S_ROLE(r) (1u << (r))

static void
test_submissions_are_agents_own(void **state)
{
    static const char *bodies[] = {"submit_begin", "submit_chunk", "submit_commit", "submit_abort"};
    unsigned roles;
    int own, runs_long;

    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        assert_int_equal(linker_request_rule(bodies[i], &roles, &own, &runs_long), 0);
        assert_int_equal(roles, S_ROLE(XL_ROLE_AGENT));
        assert_int_equal(own, 1);
        assert_int_equal(runs_long, 0);
    }
}

static void
test_link_is_admins_and_long(void **state)
{
    unsigned roles;
    int own, runs_long;

    assert_int_equal(linker_request_rule("link_request", &roles, &own, &runs_long), 0);
    assert_int_equal(roles, S_ROLE(XL_ROLE_ADMIN));
    assert_int_equal(own, 0);
    assert_int_equal(runs_long, 1);
}

static void
test_extract_is_analysts(void **state)
{
    unsigned roles;
    int own, runs_long;

    assert_int_equal(linker_request_rule("extract_request", &roles, &own, &runs_long), 0);
    assert_int_equal(roles, S_ROLE(XL_ROLE_ANALYST));
    assert_int_equal(own, 0);
    assert_int_equal(runs_long, 1);
}

static void
test_audit_query_is_auditors(void **state)
{
    unsigned roles;
    int own, runs_long;

    assert_int_equal(linker_request_rule("audit_query", &roles, &own, &runs_long), 0);
    assert_int_equal(roles, S_ROLE(XL_ROLE_AUDITOR));
    assert_int_equal(own, 0);
    assert_int_equal(runs_long, 1);
}

/* Replies and bodies not served yet are in no row: refused as MALFORMED. */
static void
test_not_served(void **state)
{
    static const char *bodies[] = {
        "submit_ack",    "receipt",       "error",        "link_report",      "extract_end",
        "audit_entries", "extract_ready", "extract_rows", "audit_checkpoint", "nonsense"};
    unsigned roles;
    int own, runs_long;

    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        assert_int_equal(linker_request_rule(bodies[i], &roles, &own, &runs_long), XL_ERR_NOTFOUND);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submissions_are_agents_own),
        cmocka_unit_test(test_link_is_admins_and_long),
        cmocka_unit_test(test_extract_is_analysts),
        cmocka_unit_test(test_audit_query_is_auditors),
        cmocka_unit_test(test_not_served),
    };

    return cmocka_run_group_tests_name("linker_requests", tests, NULL, NULL);
}
