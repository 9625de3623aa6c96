/* Unit tests for common/client.c: endpoints are checked when a configuration
 * is read, so a typo fails at once with the expected form instead of being
 * retried for ten minutes, and a host no name service knows is told apart
 * from a linker that is down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "xl/client.h"
#include "xl/err.h"

static void
test_good_endpoints(void **state)
{
    static const char *good[] = {
        "tcp://127.0.0.1:7800",  "tcp://linker.example.org:7800",
        "tcp://[::1]:7800",      "ipc:///run/crosslink/linker.sock",
        "tcp://localhost:65535", "tcp://h:1",
    };
    char err[XL_ERRBUF];

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(xl_endpoint_check(good[i], 0, err, sizeof err), 0);
    assert_int_equal(xl_endpoint_check("tcp://*:7800", 1, err, sizeof err), 0);
    assert_int_equal(xl_endpoint_check("tcp://127.0.0.1:*", 1, err, sizeof err), 0);
    assert_int_equal(xl_endpoint_check("tcp://127.0.0.1:*", 0, err, sizeof err), XL_ERR_INVALID);
}

static void
test_bad_endpoints(void **state)
{
    static const struct {
        const char *ep, *want;
    } bad[] = {
        {"tcp://127.0.0.1:7800x", "the port '7800x' is not a number from 1 to 65535"},
        {"tcp://127.0.0.1:0", "the port '0' is not a number"},
        {"tcp://127.0.0.1:65536", "the port '65536' is not a number"},
        {"tcp://127.0.0.1:", "the port '' is not a number"},
        {"tcp://127.0.0.1", "has no HOST:PORT after tcp://"},
        {"linker.example.org:7800", "has no scheme: write it as tcp://HOST:PORT"},
        {"udp://linker:7800", "has a scheme crosslink does not use"},
        {"ipc://", "has no path after ipc://"},
        {"tcp://*:7800", "names no host"},
        {"tcp://link er:7800", "has a space or '/' in its host"},
    };
    char err[XL_ERRBUF];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(xl_endpoint_check(bad[i].ep, 0, err, sizeof err), XL_ERR_INVALID);
        if (strstr(err, bad[i].want) == NULL || strstr(err, bad[i].ep) == NULL)
            fail_msg("%s: '%s' lacks '%s'", bad[i].ep, err, bad[i].want);
        if (strstr(err, "tcp://HOST:PORT") == NULL)
            fail_msg("%s: '%s' does not give the expected form", bad[i].ep, err);
    }
}

/* A name in the reserved .invalid domain (RFC 6761) is never found: refused
 * when the socket opens, before any retry. */
static void
test_unknown_host(void **state)
{
    struct xl_client c = {0};
    uint8_t k[32] = {0};
    char err[XL_ERRBUF];

    c.endpoint = "tcp://no-such-linker.invalid:7800";
    c.server_pk = c.pk = c.sk = k;
    assert_int_equal(xl_client_open(&c, err, sizeof err), XL_ERR_NOTFOUND);
    assert_non_null(strstr(err, "the host 'no-such-linker.invalid' is not known"));
    assert_null(c.sock);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_endpoints),
        cmocka_unit_test(test_bad_endpoints),
        cmocka_unit_test(test_unknown_host),
    };

    return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
