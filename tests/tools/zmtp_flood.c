/* Unauthenticated connections for end-to-end tests and the bench: each opens
 * a TCP connection, sends a ZMTP 3.0 greeting offering CURVE, then the header
 * of a command frame of BYTES bytes and all of it but its last byte, so a
 * server that buffers handshake frames holds it until the handshake times out.
 *
 *   zmtp_flood HOST PORT N BYTES SECONDS [MECHANISM]
 *
 * MECHANISM (default CURVE) is the security mechanism the greeting offers:
 * NULL or PLAIN show how the server treats a peer without CURVE.
 * Keeps the connections for SECONDS, then prints "opened N, closed by the
 * server M, sent B bytes" and exits 0 (1 when it cannot connect at all). A
 * bounded load on a local address the caller names, for measuring the server. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define S_MAX_CONN 4096
#define S_PIECE    (64 * 1024)

struct s_conn {
    int fd;
    uint64_t left; /* frame bytes still to send */
    int closed;
};

static double
s_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
s_open(const char *host, int port, uint64_t bytes, const char *mechanism)
{
    struct sockaddr_in a;
    uint8_t hello[64 + 9];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    /* Greeting: signature, version 3.0, mechanism, as-server 0, filler. */
    memset(hello, 0, sizeof hello);
    hello[0] = 0xff;
    hello[9] = 0x7f;
    hello[10] = 3;
    hello[11] = 0;
    memcpy(hello + 12, mechanism, strlen(mechanism) < 20 ? strlen(mechanism) : 20);
    /* A long command frame: flags (command, long size), 8-byte size. */
    hello[64] = 0x06;
    for (int i = 0; i < 8; i++)
        hello[65 + i] = (uint8_t)(bytes >> (56 - 8 * i));
    if (write(fd, hello, sizeof hello) != (ssize_t)sizeof hello) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int
main(int argc, char **argv)
{
    static struct s_conn c[S_MAX_CONN];
    static uint8_t zeros[S_PIECE];
    uint64_t bytes, sent = 0;
    int n, port, opened = 0, closed = 0;
    double seconds, end;

    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: zmtp_flood HOST PORT N BYTES SECONDS [MECHANISM]\n");
        return 2;
    }
    port = atoi(argv[2]);
    n = atoi(argv[3]);
    bytes = strtoull(argv[4], NULL, 10);
    seconds = atof(argv[5]);
    if (n < 1 || n > S_MAX_CONN || bytes < 2 || seconds <= 0) {
        fprintf(stderr, "zmtp_flood: N 1..%d, BYTES >= 2, SECONDS > 0\n", S_MAX_CONN);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < n; i++) {
        c[i].fd = s_open(argv[1], port, bytes, argc == 7 ? argv[6] : "CURVE");
        c[i].left = bytes - 1;
        if (c[i].fd >= 0)
            opened++;
    }
    if (opened == 0) {
        fprintf(stderr, "zmtp_flood: cannot connect to %s:%d\n", argv[1], port);
        return 1;
    }
    end = s_now() + seconds;
    while (s_now() < end) {
        int busy = 0;
        for (int i = 0; i < n; i++) {
            ssize_t w;
            if (c[i].fd < 0 || c[i].closed || c[i].left == 0)
                continue;
            w = write(c[i].fd, zeros, c[i].left < S_PIECE ? c[i].left : S_PIECE);
            if (w > 0) {
                c[i].left -= (uint64_t)w;
                sent += (uint64_t)w;
                busy = 1;
            } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                c[i].closed = 1;
                closed++;
            }
        }
        if (!busy) {
            /* Everything sent or blocked: see who the server hung up on. */
            for (int i = 0; i < n; i++) {
                struct pollfd p = {c[i].fd, POLLIN, 0};
                char b[4096];
                ssize_t r = 1;
                if (c[i].fd < 0 || c[i].closed || poll(&p, 1, 0) <= 0)
                    continue;
                /* The server's greeting is data; an end of file is a hang-up. */
                while ((r = read(c[i].fd, b, sizeof b)) > 0)
                    ;
                if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                    c[i].closed = 1;
                    closed++;
                }
            }
            usleep(50000);
        }
    }
    printf("opened %d, closed by the server %d, sent %llu bytes\n", opened, closed,
           (unsigned long long)sent);
    for (int i = 0; i < n; i++) {
        if (c[i].fd >= 0)
            close(c[i].fd);
    }
    return 0;
}
