/* A client's connection to the linker: one ZeroMQ DEALER socket with CURVE
 * (docs/protocol.md), and a socket monitor on it, so that a key the linker's
 * ZAP handler refuses (permanent: fail at once, naming the key) is told apart
 * from a linker that does not answer (may pass: the caller retries). The
 * agent's submit, the analyst's extract and the auditor's fetch use it. */
#ifndef XL_CLIENT_H
#define XL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "xl/wire.h"

struct xl_client {
    /* set by the caller */
    void *zctx;               /* the caller's ZeroMQ context */
    const char *endpoint;     /* tcp://HOST:PORT or ipc://PATH */
    const uint8_t *server_pk; /* the linker's CURVE public key (32 bytes) */
    const uint8_t *pk, *sk;   /* this client's CURVE key pair */
    const char *role;         /* "agent", "analyst": for messages */
    int timeout_ms;           /* for a send, and for each reply */
    size_t reply_max;         /* the largest reply read */
    /* for xl_client_call: seconds to wait for each answer once connected,
     * and for how long the caller retries while the linker is unreachable */
    double timeout, retry_for;
    uint64_t next_id; /* kept: the last request id xl_client_call gave */
    /* seconds xl_client_recv waits for the CURVE handshake, when less than
     * the timeout (0: the timeout): the agent's --retry-for left */
    double connect_wait;
    /* kept by the client */
    void *sock;
    void *mon;
    unsigned gen;
    int secured;        /* a CURVE handshake succeeded on this socket */
    unsigned connected; /* TCP or IPC connections made since the socket opened */
    unsigned hs_failed; /* handshakes the linker cut short since then */
};

/* Handshakes cut short in a row, with none succeeding, that mean the linker
 * cannot open this client's handshake: server_public is not its key. */
#define XL_CLIENT_HANDSHAKE_FAILS 3

/* Whether ep is an endpoint crosslink can use: tcp://HOST:PORT (a port from 1
 * to 65535; HOST, or PORT, may be "*" when bind is set) or ipc://PATH. 0, or
 * XL_ERR_INVALID with a message naming the endpoint and the expected form
 * (never a DNS lookup: see xl_client_open). */
int xl_endpoint_check(const char *ep, int bind, char *err, size_t errlen);

/* Opens a new socket (and its monitor) and connects it. XL_ERR_INVALID for an
 * endpoint ZeroMQ does not accept; XL_ERR_NOTFOUND for a host name that does
 * not exist (permanent), XL_ERR_UNAVAILABLE when the name cannot be looked
 * up now (DNS down: may pass). */
int xl_client_open(struct xl_client *c, char *err, size_t errlen);
/* Closes the socket; accepts a closed client. */
void xl_client_close(struct xl_client *c);
/* Sends the message at data, which lies within the allocation base; base is
 * freed either way. XL_ERR_UNAVAILABLE when it cannot be sent in time. */
int xl_client_send(struct xl_client *c, uint8_t *base, uint8_t *data, size_t len, char *err,
                   size_t errlen);
/* Encodes and sends env. */
int xl_client_send_env(struct xl_client *c, xl_envelope *env, char *err, size_t errlen);
/* Waits for the next reply, for at most the timeout: 0 with *env (free with
 * xl_wire_free(env, NULL)); XL_ERR_DENIED when the linker refused this key;
 * XL_ERR_CRYPTO when the linker cut XL_CLIENT_HANDSHAKE_FAILS handshakes in a
 * row short (server_public is not its key: permanent); XL_ERR_UNAVAILABLE
 * when no reply came (distinguishing nothing listening, no handshake and no
 * answer in the message). */
int xl_client_recv(struct xl_client *c, xl_envelope **env, char *err, size_t errlen);

/* Sends req (giving it the next request id) and waits up to wait seconds for
 * its answer, dropping answers to requests given up on: 0 with *rep, or an
 * Error answer as its XL_ERR_*. Until a CURVE handshake has succeeded, a
 * silence is a linker down or out of reach, so each receive waits no longer
 * than retry_for (at least 1 s). After a failure the socket is closed, so that
 * a late answer is never read as the next request's. */
int xl_client_call(struct xl_client *c, xl_envelope *req, double wait, xl_envelope **rep, char *err,
                   size_t errlen);

/* xl_client_call, again while the linker is busy or unreachable
 * (XL_ERR_UNAVAILABLE), pausing 1 s and doubling to 30 s, until deadline (on
 * xl_monotonic's clock). */
int xl_client_call_retry(struct xl_client *c, xl_envelope *req, double wait, double deadline,
                         xl_envelope **rep, char *err, size_t errlen);

/* The linker's Error as a message ("the linker answered DENIED: ..."), its
 * text with control characters replaced (it comes from another machine).
 * Returns the matching XL_ERR_* code. */
int xl_client_error(const Crosslink__Error *e, char *err, size_t errlen);

#endif
