/* The reference for ingest throughput: the same records, in the same chunks,
 * moved over ZeroMQ PUSH/PULL with CURVE on this machine, with nothing stored
 * and nothing acknowledged.
 *
 *   curve_raw ENDPOINT FILE.xle CHUNK_RECORDS
 *
 * Prints records/s and MB/s. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "xl/clock.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/xle.h"

struct s_pull {
    void *sock;
    size_t messages;
    size_t bytes;
};

static void *
s_receiver(void *arg)
{
    struct s_pull *p = arg;

    for (size_t i = 0; i < p->messages; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, p->sock, 0) < 0)
            break;
        p->bytes += zmq_msg_size(&m);
        zmq_msg_close(&m);
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    char err[XL_ERRBUF], spk[41], ssk[41], cpk[41], csk[41];
    uint8_t pk[32], sk[32], cpkb[32], cskb[32];
    const Crosslink__XleHeader *h;
    struct xl_xle_reader *r;
    struct s_pull pull = {0};
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0, nrec = 0, per, inchunk = 0, nmsg = 0;
    uint8_t **msgs = NULL;
    size_t *msglen = NULL;
    const uint8_t *rec;
    size_t rl;
    int one = 1, rc;
    void *ctx, *push;
    pthread_t th;
    double t0, dt;

    if (argc != 4 || xl_crypto_init() != 0) {
        fprintf(stderr, "usage: curve_raw ENDPOINT FILE.xle CHUNK_RECORDS\n");
        return 2;
    }
    per = (size_t)strtoul(argv[3], NULL, 10);
    r = xl_xle_reader_open(argv[2], &h, err, sizeof err);
    if (r == NULL || per == 0) {
        fprintf(stderr, "curve_raw: %s\n", err);
        return 1;
    }
    /* The messages, built before the clock starts: length-prefixed records. */
    msgs = calloc(h->record_count / per + 2, sizeof *msgs);
    msglen = calloc(h->record_count / per + 2, sizeof *msglen);
    while ((rc = xl_xle_next(r, &rec, &rl, err, sizeof err)) == 1) {
        if (len + rl + 4 > cap) {
            cap = (len + rl + 4) * 2;
            buf = realloc(buf, cap);
        }
        buf[len] = (uint8_t)(rl >> 24);
        buf[len + 1] = (uint8_t)(rl >> 16);
        buf[len + 2] = (uint8_t)(rl >> 8);
        buf[len + 3] = (uint8_t)rl;
        memcpy(buf + len + 4, rec, rl);
        len += rl + 4;
        nrec++;
        if (++inchunk == per) {
            msgs[nmsg] = buf;
            msglen[nmsg++] = len;
            buf = NULL;
            cap = len = inchunk = 0;
        }
    }
    if (inchunk > 0) {
        msgs[nmsg] = buf;
        msglen[nmsg++] = len;
    }
    xl_xle_reader_close(&r);

    crypto_box_keypair(pk, sk);
    crypto_box_keypair(cpkb, cskb);
    zmq_z85_encode(spk, pk, 32);
    zmq_z85_encode(ssk, sk, 32);
    zmq_z85_encode(cpk, cpkb, 32);
    zmq_z85_encode(csk, cskb, 32);
    ctx = zmq_ctx_new();
    pull.sock = zmq_socket(ctx, ZMQ_PULL);
    zmq_setsockopt(pull.sock, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(pull.sock, ZMQ_CURVE_SECRETKEY, ssk, 40);
    if (zmq_bind(pull.sock, argv[1]) != 0) {
        fprintf(stderr, "curve_raw: cannot bind %s\n", argv[1]);
        return 1;
    }
    push = zmq_socket(ctx, ZMQ_PUSH);
    zmq_setsockopt(push, ZMQ_CURVE_SERVERKEY, spk, 40);
    zmq_setsockopt(push, ZMQ_CURVE_PUBLICKEY, cpk, 40);
    zmq_setsockopt(push, ZMQ_CURVE_SECRETKEY, csk, 40);
    zmq_connect(push, argv[1]);
    pull.messages = nmsg;
    pthread_create(&th, NULL, s_receiver, &pull);
    t0 = xl_monotonic();
    for (size_t i = 0; i < nmsg; i++)
        zmq_send(push, msgs[i], msglen[i], 0);
    pthread_join(th, NULL);
    dt = xl_monotonic() - t0;
    printf("ingest reference: raw CURVE PUSH/PULL  %zu records in %.2f s  %9.0f records/s  "
           "%6.1f MB/s (%zu messages of %zu records, %.0f bytes a record)\n",
           nrec, dt, (double)nrec / dt, (double)pull.bytes / dt / 1e6, nmsg, per,
           nrec ? (double)pull.bytes / (double)nrec : 0.0);
    zmq_close(push);
    zmq_close(pull.sock);
    zmq_ctx_term(ctx);
    for (size_t i = 0; i < nmsg; i++)
        free(msgs[i]);
    free(msgs);
    free(msglen);
    return 0;
}
