/* A hub that tampers with extracts, for end-to-end tests: it listens where the
 * analyst connects (as the linker would, with the linker's CURVE key), passes
 * every request to the real linker (with the analyst's key) and alters the
 * answers on the way back, as an attacker holding the link could not do
 * without the keys: it shows what the analyst's checks catch.
 *
 *   extract_mitm LISTEN LINKER LINKER.key ANALYST.key MODE
 *
 * MODE: manifest  one byte of the manifest changed (signature no longer holds)
 *       row       one byte in the middle of the first row of page 0 changed
 *       drop      the first row of page 0 removed (and the page's count lowered)
 *       none      nothing changed
 * Runs until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "xl/crypto.h"
#include "xl/keyfile.h"
#include "xl/wire.h"

static void
s_tamper(xl_envelope *env, const char *mode)
{
    if (strcmp(mode, "manifest") == 0 && env->body_case == CROSSLINK__ENVELOPE__BODY_EXTRACT_END &&
        env->extract_end->manifest.len > 20) {
        env->extract_end->manifest.data[10] ^= 0x01;
        fprintf(stderr, "extract_mitm: changed the manifest\n");
    }
    if (env->body_case != CROSSLINK__ENVELOPE__BODY_EXTRACT_ROWS || env->extract_rows->page != 0 ||
        env->extract_rows->rows.len < 8)
        return;
    if (strcmp(mode, "row") == 0) {
        uint8_t *p = env->extract_rows->rows.data;
        size_t first = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        p[4 + first / 2] ^= 0x01; /* the middle of the first row: its payload */
        fprintf(stderr, "extract_mitm: changed a row\n");
    } else if (strcmp(mode, "drop") == 0) {
        ProtobufCBinaryData *b = &env->extract_rows->rows;
        size_t first = (size_t)b->data[0] << 24 | (size_t)b->data[1] << 16 |
                       (size_t)b->data[2] << 8 | b->data[3];
        memmove(b->data, b->data + 4 + first, b->len - 4 - first);
        b->len -= 4 + first;
        env->extract_rows->count--;
        fprintf(stderr, "extract_mitm: dropped a row\n");
    }
}

int
main(int argc, char **argv)
{
    struct xl_keyfile *server = NULL, *client = NULL;
    void *ctx, *front, *back;
    int on = 1, zero = 0;
    char err[256];

    if (argc != 6) {
        fprintf(stderr, "usage: extract_mitm LISTEN LINKER LINKER.key ANALYST.key MODE\n");
        return 2;
    }
    if (xl_crypto_init() != 0 ||
        xl_keyfile_load(argv[3], XL_KEY_CURVE_SECRET, &server, err, sizeof err) != 0 ||
        xl_keyfile_load(argv[4], XL_KEY_CURVE_SECRET, &client, err, sizeof err) != 0) {
        fprintf(stderr, "extract_mitm: %s\n", err);
        return 1;
    }
    ctx = zmq_ctx_new();
    front = zmq_socket(ctx, ZMQ_ROUTER);
    back = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(front, ZMQ_CURVE_SERVER, &on, sizeof on);
    zmq_setsockopt(front, ZMQ_CURVE_SECRETKEY, server->secret, 32);
    zmq_setsockopt(front, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(back, ZMQ_CURVE_SERVERKEY, server->pub, 32);
    zmq_setsockopt(back, ZMQ_CURVE_PUBLICKEY, client->pub, 32);
    zmq_setsockopt(back, ZMQ_CURVE_SECRETKEY, client->secret, 32);
    zmq_setsockopt(back, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(front, argv[1]) != 0 || zmq_connect(back, argv[2]) != 0) {
        fprintf(stderr, "extract_mitm: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    for (;;) {
        zmq_pollitem_t it[2] = {{front, 0, ZMQ_POLLIN, 0}, {back, 0, ZMQ_POLLIN, 0}};
        static uint8_t rid[256];
        static int ridlen;
        if (zmq_poll(it, 2, -1) < 0)
            break;
        if (it[0].revents & ZMQ_POLLIN) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            ridlen = zmq_recv(front, rid, sizeof rid, 0);
            zmq_msg_recv(&m, front, 0);
            zmq_msg_send(&m, back, 0);
        }
        if (it[1].revents & ZMQ_POLLIN) {
            zmq_msg_t m;
            xl_envelope *env = NULL;
            uint8_t *out;
            size_t outlen;
            zmq_msg_init(&m);
            zmq_msg_recv(&m, back, 0);
            if (xl_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), 1u << 24, NULL, &env, err,
                               sizeof err) == 0) {
                s_tamper(env, argv[5]);
                if (xl_wire_encode(env, &out, &outlen) == 0) {
                    zmq_send(front, rid, (size_t)ridlen, ZMQ_SNDMORE);
                    zmq_send(front, out, outlen, 0);
                    free(out);
                }
                xl_wire_free(&env, NULL);
            }
            zmq_msg_close(&m);
        }
    }
    return 0;
}
