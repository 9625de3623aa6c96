/* A client's connection to the linker: one ZeroMQ DEALER socket with CURVE,
 * and a socket monitor that tells a key the linker refused (final: no retry
 * helps) from a linker that does not answer (may pass). Used by the agent's
 * submit and the analyst's extract. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "xl/client.h"
#include "xl/crypto.h"
#include "xl/clock.h"
#include "xl/err.h"
#include "xl/log.h"
#include "xl/monitor.h"

void
xl_client_close(struct xl_client *l)
{
    if (l->sock != NULL) {
        (void)zmq_socket_monitor(l->sock, NULL, 0);
        zmq_close(l->sock);
        l->sock = NULL;
    }
    if (l->mon != NULL) {
        zmq_close(l->mon);
        l->mon = NULL;
    }
}

static int
s_bad_endpoint(const char *ep, const char *why, char *err, size_t errlen)
{
    return xl_err_set(err, errlen, XL_ERR_INVALID,
                      "endpoint '%.200s' %s: write it as tcp://HOST:PORT (for example "
                      "tcp://linker.example.org:7800) or ipc:///PATH/TO/SOCKET",
                      ep, why);
}

int
xl_endpoint_check(const char *ep, int bind, char *err, size_t errlen)
{
    const char *addr, *colon, *p;
    unsigned long port = 0;

    if (strncmp(ep, "ipc://", 6) == 0)
        return ep[6] != '\0' ? 0 : s_bad_endpoint(ep, "has no path after ipc://", err, errlen);
    if (strncmp(ep, "tcp://", 6) != 0)
        return s_bad_endpoint(
            ep, strstr(ep, "://") != NULL ? "has a scheme crosslink does not use" : "has no scheme",
            err, errlen);
    addr = ep + 6;
    colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr)
        return s_bad_endpoint(ep, "has no HOST:PORT after tcp://", err, errlen);
    if (addr[0] == '*' && (!bind || colon != addr + 1))
        return s_bad_endpoint(ep, "names no host ('*' is for the linker's own endpoint)", err,
                              errlen);
    for (p = addr; p < colon; p++) {
        if ((unsigned char)*p <= ' ' || *p == '/')
            return s_bad_endpoint(ep, "has a space or '/' in its host", err, errlen);
    }
    if (bind && strcmp(colon + 1, "*") == 0)
        return 0; /* a port the system picks (tests) */
    for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
        port = port * 10 + (unsigned long)(*p - '0');
    if (p == colon + 1 || *p != '\0' || port < 1 || port > 65535)
        return xl_err_set(
            err, errlen, XL_ERR_INVALID,
            "endpoint '%.200s': the port '%.20s' is not a number from 1 to 65535 "
            "(write it as tcp://HOST:PORT, for example tcp://linker.example.org:7800)",
            ep, colon + 1);
    return 0;
}

/* A tcp:// host that no name service knows is a permanent mistake, told at
 * once; libzmq would retry it quietly for ever. */
static int
s_resolve(const char *ep, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL;
    char host[256];
    const char *addr = ep + 6, *colon = strrchr(addr, ':');
    size_t n;
    int r;

    if (strncmp(ep, "tcp://", 6) != 0 || colon == NULL)
        return 0;
    n = (size_t)(colon - addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        addr++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof host)
        return 0;
    memcpy(host, addr, n);
    host[n] = '\0';
    hints.ai_socktype = SOCK_STREAM;
    r = getaddrinfo(host, NULL, &hints, &res);
    if (res != NULL)
        freeaddrinfo(res);
    if (r == 0)
        return 0;
    if (r == EAI_NONAME || r == EAI_FAIL)
        return xl_err_set(err, errlen, XL_ERR_NOTFOUND,
                          "endpoint '%s': the host '%s' is not known (%s): check the name in "
                          "endpoint",
                          ep, host, gai_strerror(r));
    return xl_err_set(err, errlen, XL_ERR_UNAVAILABLE,
                      "endpoint '%s': cannot look up the host '%s' now (%s)", ep, host,
                      gai_strerror(r));
}

int
xl_client_open(struct xl_client *l, char *err, size_t errlen)
{
    char mon[64];
    int zero = 0, r;
    int64_t maxmsg = (int64_t)l->reply_max;

    l->secured = 0;
    l->connected = 0;
    l->hs_failed = 0;
    r = xl_endpoint_check(l->endpoint, 0, err, errlen);
    if (r == 0)
        r = s_resolve(l->endpoint, err, errlen);
    if (r != 0)
        return r;
    l->sock = zmq_socket(l->zctx, ZMQ_DEALER);
    if (l->sock == NULL)
        return xl_err_set(err, errlen, XL_ERR_INTERNAL, "cannot create socket: %s",
                          zmq_strerror(zmq_errno()));
    snprintf(mon, sizeof mon, "inproc://crosslink-client-monitor-%p-%u", (void *)l, ++l->gen);
    if (zmq_setsockopt(l->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_SNDTIMEO, &l->timeout_ms, sizeof l->timeout_ms) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_CURVE_SERVERKEY, l->server_pk, XL_KEY_BYTES) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_CURVE_PUBLICKEY, l->pk, XL_KEY_BYTES) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_CURVE_SECRETKEY, l->sk, XL_KEY_BYTES) != 0 ||
        zmq_socket_monitor(
            l->sock, mon,
            ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (l->mon = zmq_socket(l->zctx, ZMQ_PAIR)) == NULL || zmq_connect(l->mon, mon) != 0) {
        xl_client_close(l);
        return xl_err_set(err, errlen, XL_ERR_INTERNAL, "cannot set up socket: %s",
                          zmq_strerror(zmq_errno()));
    }
    if (zmq_connect(l->sock, l->endpoint) != 0) {
        xl_client_close(l);
        return xl_err_set(err, errlen, XL_ERR_INVALID, "endpoint '%s': %s", l->endpoint,
                          zmq_strerror(zmq_errno()));
    }
    return 0;
}

static void
s_free_hint(void *data, void *hint)
{
    free(hint);
}

int
xl_client_send(struct xl_client *l, uint8_t *base, uint8_t *data, size_t len, char *err,
               size_t errlen)
{
    zmq_msg_t m;

    if (zmq_msg_init_data(&m, data, len, s_free_hint, base) != 0) {
        free(base);
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    }
    if (zmq_msg_send(&m, l->sock, 0) < 0) {
        zmq_msg_close(&m);
        return xl_err_set(err, errlen, XL_ERR_UNAVAILABLE, "cannot send to the linker: %s",
                          zmq_strerror(zmq_errno()));
    }
    return 0;
}

int
xl_client_send_env(struct xl_client *l, xl_envelope *env, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;

    if (xl_wire_encode(env, &buf, &len) != 0)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    return xl_client_send(l, buf, buf, len, err, errlen);
}

/* A handshake event from the monitor: the linker's ZAP handler refusing this
 * key is final, and so is a linker that cuts every handshake short. A CURVE
 * server that cannot open the client's HELLO (it was boxed to another server
 * key) closes the connection without a word, so the client sees only
 * HANDSHAKE_FAILED_NO_DETAIL (or _PROTOCOL) after CONNECTED, on every
 * reconnection (every 100 ms). A linker over its connection limits does the
 * same, but only while flooded; a linker that is down gives no CONNECTED. */
static int
s_monitor_event(struct xl_client *l, char *err, size_t errlen)
{
    uint16_t event;
    uint32_t value;
    char kid[XL_KEYID_HEX + 1];

    if (!xl_monitor_next(l->mon, &event, &value))
        return 0;
    if (event == ZMQ_EVENT_CONNECTED) {
        l->connected++;
        return 0;
    }
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        l->secured = 1;
        l->hs_failed = 0;
        return 0;
    }
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 400) {
        xl_key_id(l->pk, XL_KEY_BYTES, kid);
        return xl_err_set(err, errlen, XL_ERR_DENIED,
                          "the linker refused this %s key (key id %s): it is not an active "
                          "key in the linker's keyring",
                          l->role, kid);
    }
    xl_debug("handshake with the linker failed (event %u, status %u)", (unsigned)event,
             (unsigned)value);
    if (!l->secured && ++l->hs_failed >= XL_CLIENT_HANDSHAKE_FAILS)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "the linker at %s closed the encrypted handshake %u times in a row: "
                          "server_public is not the key of the linker at that endpoint (compare "
                          "its key id, crosslink-keys show, with the operator's linker.pub)",
                          l->endpoint, l->hs_failed);
    return 0;
}

int
xl_client_recv(struct xl_client *l, xl_envelope **env, char *err, size_t errlen)
{
    double start = xl_monotonic(), wait = l->timeout_ms / 1000.0;
    double hs_wait = l->connect_wait > 0 && l->connect_wait < wait ? l->connect_wait : wait;
    zmq_pollitem_t items[2] = {{l->sock, 0, ZMQ_POLLIN, 0}, {l->mon, 0, ZMQ_POLLIN, 0}};
    zmq_msg_t m;
    int r;

    *env = NULL;
    for (;;) {
        double left = start + (l->secured ? wait : hs_wait) - xl_monotonic();
        if (left <= 0 && l->secured)
            return xl_err_set(err, errlen, XL_ERR_UNAVAILABLE,
                              "no answer from the linker within %.0f s", wait);
        if (left <= 0 && l->connected == 0)
            return xl_err_set(err, errlen, XL_ERR_UNAVAILABLE,
                              "nothing accepted a connection at %s within %.0f s (is the linker "
                              "running and reachable?)",
                              l->endpoint, hs_wait);
        if (left <= 0)
            return xl_err_set(err, errlen, XL_ERR_UNAVAILABLE,
                              "no encrypted connection to the linker at %s within %.0f s (it "
                              "accepted the connection but did not complete the handshake)",
                              l->endpoint, hs_wait);
        r = zmq_poll(items, 2, (long)(left * 1000) + 1);
        if (r < 0 && zmq_errno() != EINTR)
            return xl_err_set(err, errlen, XL_ERR_INTERNAL, "poll: %s", zmq_strerror(zmq_errno()));
        if (r <= 0)
            continue;
        if (items[1].revents & ZMQ_POLLIN) {
            r = s_monitor_event(l, err, errlen);
            if (r != 0)
                return r;
        }
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, l->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            continue;
        }
        r = xl_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), l->reply_max, NULL, env, err,
                           errlen);
        zmq_msg_close(&m);
        if (r != 0)
            return xl_err_set(err, errlen, r, "unreadable reply from the linker (%s)",
                              xl_strerror(r));
        return 0;
    }
}

static int
s_error_code(int code)
{
    switch (code) {
    case CROSSLINK__ERROR__CODE__MALFORMED: return XL_ERR_FORMAT;
    case CROSSLINK__ERROR__CODE__VERSION: return XL_ERR_VERSION;
    case CROSSLINK__ERROR__CODE__TOO_BIG: return XL_ERR_TOOBIG;
    case CROSSLINK__ERROR__CODE__DENIED: return XL_ERR_DENIED;
    case CROSSLINK__ERROR__CODE__MISMATCH: return XL_ERR_MISMATCH;
    case CROSSLINK__ERROR__CODE__SEQUENCE: return XL_ERR_SEQUENCE;
    case CROSSLINK__ERROR__CODE__NOT_FOUND: return XL_ERR_NOTFOUND;
    case CROSSLINK__ERROR__CODE__UNAVAILABLE: return XL_ERR_UNAVAILABLE;
    case CROSSLINK__ERROR__CODE__DISCARDED: return XL_ERR_DISCARDED;
    default: return XL_ERR_INTERNAL;
    }
}

/* The linker's Error as a message; its text is shown with control characters
 * replaced, as it comes from another machine. */
int
xl_client_error(const Crosslink__Error *e, char *err, size_t errlen)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&crosslink__error__code__descriptor, (int)e->code);
    char msg[XL_ERRBUF - 40]; /* room for "the linker answered MISMATCH: " */
    size_t i;
    int code = s_error_code(e->code);

    for (i = 0; e->message != NULL && e->message[i] != '\0' && i + 1 < sizeof msg; i++) {
        unsigned char ch = (unsigned char)e->message[i];
        msg[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    msg[i] = '\0';
    return xl_err_set(err, errlen, code, "the linker answered %s: %s",
                      v != NULL ? v->name : "an unknown error",
                      msg[0] != '\0' ? msg : "(no message)");
}

int
xl_client_call(struct xl_client *c, xl_envelope *req, double wait, xl_envelope **rep, char *err,
               size_t errlen)
{
    double until = xl_monotonic() + wait;
    int r;

    *rep = NULL;
    req->request_id = ++c->next_id;
    c->timeout_ms = (int)(1000 * (c->secured || c->retry_for >= c->timeout ? c->timeout
                                  : c->retry_for > 1                       ? c->retry_for
                                                                           : 1));
    if (c->sock == NULL && (r = xl_client_open(c, err, errlen)) != 0)
        return r;
    r = xl_client_send_env(c, req, err, errlen);
    while (r == 0) {
        r = xl_client_recv(c, rep, err, errlen);
        if (r == XL_ERR_UNAVAILABLE && c->secured && xl_monotonic() < until)
            r = 0; /* connected, the linker still working: keep waiting */
        else if (r != 0)
            break;
        if (*rep == NULL)
            continue;
        if ((*rep)->request_id != req->request_id) {
            xl_wire_free(rep, NULL);
            continue;
        }
        if ((*rep)->body_case == CROSSLINK__ENVELOPE__BODY_ERROR) {
            r = xl_client_error((*rep)->error, err, errlen);
            xl_wire_free(rep, NULL);
        }
        break;
    }
    if (r != 0)
        xl_client_close(c);
    return r;
}

int
xl_client_call_retry(struct xl_client *c, xl_envelope *req, double wait, double deadline,
                     xl_envelope **rep, char *err, size_t errlen)
{
    double backoff = 1;

    for (;;) {
        int r;
        double left = deadline - xl_monotonic();

        /* No handshake is waited for past the deadline: --retry-for is kept. */
        c->connect_wait = left > 1 ? left : 1;
        r = xl_client_call(c, req, wait, rep, err, errlen);
        left = deadline - xl_monotonic();
        if (r != XL_ERR_UNAVAILABLE || left <= 0)
            return r;
        xl_warn("%s; trying again in %.0f s", err, backoff < left ? backoff : left);
        xl_sleep(backoff < left ? backoff : left);
        backoff = backoff * 2 < 30 ? backoff * 2 : 30;
    }
}
