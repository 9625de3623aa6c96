/* A client's connection to the linker: one ZeroMQ DEALER socket with CURVE
 * (docs/protocol.md), and a socket monitor on it, so that a key the linker's
 * ZAP handler refuses (permanent: fail at once, naming the key) is told apart
 * from a linker that does not answer (may pass: the caller retries). The
 * agent's submit and the analyst's extract use it. */
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
    /* kept by the client */
    void *sock;
    void *mon;
    unsigned gen;
    int secured; /* a CURVE handshake succeeded on this socket */
};

/* Opens a new socket (and its monitor) and connects it. XL_ERR_INVALID for an
 * endpoint ZeroMQ does not accept. */
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
 * XL_ERR_UNAVAILABLE when no reply came (distinguishing no connection from no
 * answer in the message). */
int xl_client_recv(struct xl_client *c, xl_envelope **env, char *err, size_t errlen);

/* The linker's Error as a message ("the linker answered DENIED: ..."), its
 * text with control characters replaced (it comes from another machine).
 * Returns the matching XL_ERR_* code. */
int xl_client_error(const Crosslink__Error *e, char *err, size_t errlen);

#endif
