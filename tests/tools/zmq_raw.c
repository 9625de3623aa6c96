/* A raw ZeroMQ CURVE client for end-to-end tests: sends frames a well-behaved
 * agent never would, and reports what the linker answered.
 *
 *   zmq_raw ENDPOINT SERVER.pub CLIENT.key MODE [ARG]
 *
 * MODE: garbage | truncated | version | nobody | oversized | multipart | ping | link
 *   flood N        N link requests, one after another (an agent's are refused)
 *   link-then-ping a link request, then at once a begin: prints the replies in
 *                  the order they come (the begin's first when the link run
 *                  does not hold up the request loop)
 *   unknown        a chunk whose record carries a 900 KB field the protocol does
 *                  not define
 *   hold SECONDS   sends a begin for another agency, prints the reply, then
 *                  holds the connection open as idle does
 *   crowd N        N authenticated connections (this one and N - 1 more, same
 *                  key) that send nothing, held until standard input closes
 *   idle SECONDS   authenticates, sends nothing, and says whether the linker
 *                  closed the connection within SECONDS ("closed after N s" or
 *                  "still open")
 *   extract PROJECT  asks for an extract of PROJECT (whatever the key's role)
 *   tamper FILE.xle  begins a submission of FILE's content (header, count and
 *                  hash) and sends its first chunk with one byte of one record
 *                  changed: what a faulty key of the same agency could do
 * Prints one line per reply: "reply error CODE" or "reply BODY", or "no reply"
 * after a timeout, or "refused" when the handshake fails. Exits 0 when it could
 * run the exchange (whatever the answer), 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/monitor.h"
#include "xl/wire.h"
#include "xl/xle.h"

static void
s_print_reply(void *sock, int timeout_ms)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    zmq_msg_t m;
    xl_envelope *env = NULL;
    char err[256];

    if (zmq_poll(&it, 1, timeout_ms) <= 0) {
        printf("no reply\n");
        return;
    }
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0) {
        printf("no reply\n");
        return;
    }
    if (xl_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), 1u << 24, NULL, &env, err, sizeof err) !=
        0) {
        printf("reply undecodable\n");
    } else if (env->body_case == CROSSLINK__ENVELOPE__BODY_ERROR) {
        printf("reply error %d %s\n", (int)env->error->code,
               env->error->message ? env->error->message : "");
    } else if (env->body_case == CROSSLINK__ENVELOPE__BODY_LINK_REPORT) {
        printf("reply link_report run %llu records %llu clusters %llu\n%s",
               (unsigned long long)env->link_report->run_id,
               (unsigned long long)env->link_report->records,
               (unsigned long long)env->link_report->clusters,
               env->link_report->text ? env->link_report->text : "");
    } else {
        printf("reply %s\n", xl_wire_body_name(env));
    }
    xl_wire_free(&env, NULL);
    zmq_msg_close(&m);
}

static int
s_send_envelope(void *sock, xl_envelope *env, size_t cut, int version)
{
    uint8_t *buf;
    size_t len;

    if (xl_wire_encode(env, &buf, &len) != 0)
        return -1;
    if (version != 0) {
        /* re-encode with another version number */
        free(buf);
        env->version = (uint32_t)version;
        len = crosslink__envelope__get_packed_size(env);
        buf = malloc(len);
        crosslink__envelope__pack(env, buf);
    }
    if (cut > 0 && cut < len)
        len = cut;
    zmq_send(sock, buf, len, 0);
    free(buf);
    return 0;
}

/* Waits for a disconnect on the monitor for at most seconds. */
static void
s_idle(void *mon, int seconds)
{
    zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};

    for (int waited = 0; waited < seconds * 10; waited++) {
        uint16_t event;
        uint32_t value;
        if (zmq_poll(&it, 1, 100) > 0 && xl_monitor_next(mon, &event, &value)) {
            if (event == ZMQ_EVENT_DISCONNECTED) {
                printf("closed after %d s\n", (waited + 9) / 10);
                return;
            }
        }
    }
    printf("still open\n");
}

/* A record with a field the protocol does not define (number 99, 900 KB: far
 * over the 64 KiB a payload may have, under the tests' max_message). */
static void
s_unknown(void *sock)
{
    Crosslink__Envelope env = CROSSLINK__ENVELOPE__INIT;
    Crosslink__SubmitChunk c = CROSSLINK__SUBMIT_CHUNK__INIT;
    Crosslink__Record rec = CROSSLINK__RECORD__INIT, *recp = &rec;
    ProtobufCMessageUnknownField uf;
    size_t n = 900 * 1000;
    uint8_t id[16] = {1}, ref[16] = {2}, *junk = calloc(1, n + 4);

    /* protobuf-c keeps an unknown field's length prefix with its bytes */
    junk[0] = (uint8_t)(0x80 | (n & 0x7f));
    junk[1] = (uint8_t)(0x80 | ((n >> 7) & 0x7f));
    junk[2] = (uint8_t)(n >> 14);
    uf.tag = 99;
    uf.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
    uf.len = n + 3;
    uf.data = junk;
    rec.base.n_unknown_fields = 1;
    rec.base.unknown_fields = &uf;
    rec.local_ref.data = ref;
    rec.local_ref.len = sizeof ref;
    c.submission_id.data = id;
    c.submission_id.len = sizeof id;
    c.n_records = 1;
    c.records = &recp;
    env.request_id = 9;
    env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_CHUNK;
    env.submit_chunk = &c;
    s_send_envelope(sock, &env, 0, 0);
    s_print_reply(sock, 5000);
    free(junk);
}

/* Begins FILE's content and sends its first chunk with one byte changed. */
static int
s_tamper(void *sock, const char *path)
{
    Crosslink__Envelope env = CROSSLINK__ENVELOPE__INIT, *reply = NULL;
    Crosslink__SubmitBegin b = CROSSLINK__SUBMIT_BEGIN__INIT;
    Crosslink__SubmitChunk c = CROSSLINK__SUBMIT_CHUNK__INIT;
    const Crosslink__XleHeader *h;
    Crosslink__Record *recs[10];
    struct xl_xle_reader *rd;
    uint8_t hash[XL_HASH_BYTES];
    uint64_t count;
    char err[XL_ERRBUF];
    const uint8_t *rec;
    size_t len, n = 0;
    zmq_msg_t m;

    if (xl_xle_read_trailer(path, &count, hash, err, sizeof err) != 0 ||
        (rd = xl_xle_reader_open(path, &h, err, sizeof err)) == NULL) {
        fprintf(stderr, "zmq_raw: %s\n", err);
        return 1;
    }
    b.agency = h->agency;
    b.dataset = h->dataset;
    b.spec_fingerprint = h->spec_fingerprint;
    b.epoch = h->epoch;
    b.record_count = count;
    b.content_hash.data = hash;
    b.content_hash.len = sizeof hash;
    b.chunk_records = 10; /* the agent's chunk_records in the tests' agent.conf */
    b.secret_check = h->secret_check;
    b.one_per_person = h->one_per_person;
    b.payload_key = h->payload_key;
    b.n_attributes = h->n_attributes;
    b.attributes = h->attributes;
    env.request_id = 1;
    env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_BEGIN;
    env.submit_begin = &b;
    s_send_envelope(sock, &env, 0, 0);
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0 ||
        xl_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), 1u << 24, NULL, &reply, err,
                       sizeof err) != 0 ||
        reply->body_case != CROSSLINK__ENVELOPE__BODY_SUBMIT_ACK) {
        printf("begin refused\n");
        return 1;
    }
    zmq_msg_close(&m);
    while (n < 10 && n < count && xl_xle_next(rd, &rec, &len, err, sizeof err) == 1) {
        recs[n] = crosslink__record__unpack(NULL, len, rec);
        if (recs[n] == NULL)
            return 1;
        n++;
    }
    recs[0]->clk.data[0] ^= 0x01; /* one bit of one CLK */
    c.submission_id = reply->submit_ack->submission_id;
    c.seq = 0;
    c.n_records = n;
    c.records = recs;
    env.request_id = 2;
    env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_CHUNK;
    env.submit_chunk = &c;
    s_send_envelope(sock, &env, 0, 0);
    s_print_reply(sock, 5000);
    for (size_t i = 0; i < n; i++)
        crosslink__record__free_unpacked(recs[i], NULL);
    xl_wire_free(&reply, NULL);
    xl_xle_reader_close(&rd);
    return 0;
}

int
main(int argc, char **argv)
{
    struct xl_keyfile *server = NULL, *client = NULL;
    char err[XL_ERRBUF], spk[41], cpk[41], csk[41];
    void *ctx, *sock;
    int linger = 0, handshake = 1, mon_ok;
    const char *mode;
    void *mon;

    if ((argc != 5 && argc != 6) || xl_crypto_init() != 0) {
        fprintf(stderr, "usage: zmq_raw ENDPOINT SERVER.pub CLIENT.key MODE [ARG]\n");
        return 1;
    }
    mode = argv[4];
    if (xl_keyfile_load_public(argv[2], XL_KEY_CURVE_PUBLIC, &server, err, sizeof err) != 0 ||
        xl_keyfile_load(argv[3], XL_KEY_CURVE_SECRET, &client, err, sizeof err) != 0) {
        fprintf(stderr, "zmq_raw: %s\n", err);
        return 1;
    }
    xl_z85_encode(server->pub, 32, spk);
    xl_z85_encode(client->pub, 32, cpk);
    xl_z85_encode(client->secret, 32, csk);
    ctx = zmq_ctx_new();
    sock = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, spk, 40);
    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, cpk, 40);
    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, csk, 40);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    /* Watch the handshake so a refused key is reported as such. */
    zmq_socket_monitor(sock, "inproc://mon",
                       ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED);
    mon = zmq_socket(ctx, ZMQ_PAIR);
    zmq_connect(mon, "inproc://mon");
    if (zmq_connect(sock, argv[1]) != 0) {
        fprintf(stderr, "zmq_raw: cannot connect to %s\n", argv[1]);
        return 1;
    }
    {
        zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
        uint16_t event;
        uint32_t value;
        mon_ok = 0;
        if (zmq_poll(&it, 1, 5000) > 0 && xl_monitor_next(mon, &event, &value)) {
            mon_ok = 1;
            handshake = event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
        }
        if (!mon_ok || !handshake) {
            printf("refused\n");
            goto done;
        }
    }
    if (strcmp(mode, "crowd") == 0 && argc == 6) {
        int n = atoi(argv[5]);
        void **more = calloc(n > 1 ? (size_t)n : 1, sizeof *more);
        char c;
        for (int i = 1; more != NULL && i < n; i++) {
            more[i] = zmq_socket(ctx, ZMQ_DEALER);
            zmq_setsockopt(more[i], ZMQ_CURVE_SERVERKEY, spk, 40);
            zmq_setsockopt(more[i], ZMQ_CURVE_PUBLICKEY, cpk, 40);
            zmq_setsockopt(more[i], ZMQ_CURVE_SECRETKEY, csk, 40);
            zmq_setsockopt(more[i], ZMQ_LINGER, &linger, sizeof linger);
            zmq_connect(more[i], argv[1]);
        }
        printf("crowd of %d connecting\n", n);
        fflush(stdout);
        while (fread(&c, 1, 1, stdin) == 1)
            ;
        for (int i = 1; more != NULL && i < n; i++)
            zmq_close(more[i]);
        free(more);
    } else if (strcmp(mode, "idle") == 0 && argc == 6) {
        s_idle(mon, atoi(argv[5]));
    } else if (strcmp(mode, "unknown") == 0) {
        s_unknown(sock);
    } else if (strcmp(mode, "tamper") == 0 && argc == 6) {
        if (s_tamper(sock, argv[5]) != 0)
            return 1;
    } else if (strcmp(mode, "garbage") == 0) {
        uint8_t junk[512];
        for (int i = 0; i < 20; i++) {
            xl_random(junk, sizeof junk);
            zmq_send(sock, junk, 1 + (size_t)(junk[0]) * 2, 0);
            s_print_reply(sock, 2000);
        }
    } else {
        Crosslink__Envelope env = CROSSLINK__ENVELOPE__INIT;
        Crosslink__SubmitBegin b = CROSSLINK__SUBMIT_BEGIN__INIT;
        uint8_t zeros[32] = {0};
        env.request_id = 7;
        env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_BEGIN;
        env.submit_begin = &b;
        b.agency = "nobody-agency";
        b.dataset = "raw";
        b.spec_fingerprint.data = zeros;
        b.spec_fingerprint.len = 32;
        b.epoch = 1;
        b.record_count = 1;
        b.content_hash.data = zeros;
        b.content_hash.len = 32;
        b.chunk_records = 10;
        if (strcmp(mode, "truncated") == 0) {
            for (size_t cut = 1; cut < 20; cut += 3) {
                s_send_envelope(sock, &env, cut, 0);
                s_print_reply(sock, 2000);
            }
        } else if (strcmp(mode, "version") == 0) {
            s_send_envelope(sock, &env, 0, 2);
            s_print_reply(sock, 2000);
        } else if (strcmp(mode, "nobody") == 0) {
            env.body_case = CROSSLINK__ENVELOPE__BODY__NOT_SET;
            s_send_envelope(sock, &env, 0, 0);
            s_print_reply(sock, 2000);
        } else if (strcmp(mode, "oversized") == 0) {
            size_t n = 17u << 20;
            uint8_t *big = calloc(1, n);
            zmq_send(sock, big, n, 0);
            free(big);
            s_print_reply(sock, 3000);
        } else if (strcmp(mode, "multipart") == 0) {
            zmq_send(sock, "a", 1, ZMQ_SNDMORE);
            zmq_send(sock, "b", 1, 0);
            s_print_reply(sock, 2000);
        } else if (strcmp(mode, "link") == 0) {
            /* an admin's request for a link run, with its report */
            Crosslink__LinkRequest lq = CROSSLINK__LINK_REQUEST__INIT;
            lq.report = 1;
            env.body_case = CROSSLINK__ENVELOPE__BODY_LINK_REQUEST;
            env.link_request = &lq;
            s_send_envelope(sock, &env, 0, 0);
            s_print_reply(sock, 60000);
        } else if (strcmp(mode, "flood") == 0 && argc == 6) {
            Crosslink__LinkRequest lq = CROSSLINK__LINK_REQUEST__INIT;
            env.body_case = CROSSLINK__ENVELOPE__BODY_LINK_REQUEST;
            env.link_request = &lq;
            for (int i = 0; i < atoi(argv[5]); i++) {
                s_send_envelope(sock, &env, 0, 0);
                s_print_reply(sock, 3000);
            }
        } else if (strcmp(mode, "hold") == 0 && argc == 6) {
            s_send_envelope(sock, &env, 0, 0);
            s_print_reply(sock, 3000);
            fflush(stdout);
            s_idle(mon, atoi(argv[5]));
        } else if (strcmp(mode, "link-then-ping") == 0) {
            Crosslink__LinkRequest lq = CROSSLINK__LINK_REQUEST__INIT;
            Crosslink__SubmitBegin *begin = env.submit_begin;
            env.body_case = CROSSLINK__ENVELOPE__BODY_LINK_REQUEST;
            env.link_request = &lq;
            s_send_envelope(sock, &env, 0, 0);
            env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_BEGIN;
            env.submit_begin = begin;
            s_send_envelope(sock, &env, 0, 0);
            s_print_reply(sock, 60000);
            s_print_reply(sock, 60000);
        } else if (strcmp(mode, "extract") == 0 && argc == 6) {
            /* any key's request for an extract of project ARG */
            Crosslink__ExtractRequest xq = CROSSLINK__EXTRACT_REQUEST__INIT;
            xq.project = argv[5];
            env.body_case = CROSSLINK__ENVELOPE__BODY_EXTRACT_REQUEST;
            env.extract_request = &xq;
            s_send_envelope(sock, &env, 0, 0);
            s_print_reply(sock, 10000);
        } else if (strcmp(mode, "ping") == 0) {
            /* a well-formed begin for another agency: must be refused, politely */
            s_send_envelope(sock, &env, 0, 0);
            s_print_reply(sock, 3000);
        } else {
            fprintf(stderr, "zmq_raw: unknown mode %s\n", mode);
            return 1;
        }
    }
done:
    zmq_close(mon);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    xl_keyfile_destroy(&server);
    xl_keyfile_destroy(&client);
    return 0;
}
