/*
 * zmqbench: the C-on-libzmq floor of the nanomsg-rs benchmarks.
 *
 * The workloads of nnbench.c (and of benchmarks/bench_worker.py), written directly on libzmq
 * (Debian's libzmq3-dev), so that a run shows what ZeroMQ's library itself costs next to
 * libnanomsg and to the bindings: the floor under pyzmq. benchmarks/run.py compiles this file
 * with gcc at run time and drives it with nnbench.c's line protocol (benchdriver.h: the
 * protocol, the roles and their loops, shared with nnbench.c):
 *
 *   zmqbench ROLE ADDRESS [NSUBS BURST]
 *
 * MODE says how the pull role receives, as in nnbench.c:
 *   recv  zmq_msg_recv, then a copy into fresh memory (malloc, memcpy), as a binding must
 *         when it hands the bytes to its language (pyzmq's recv returns a new bytes object);
 *         every other role always receives so;
 *   into  zmq_recv into one buffer, allocated once per run;
 *   msg   zmq_msg_recv, then zmq_msg_close: no copy.
 * Sends are zmq_send (libzmq copies the buffer into its message), as pyzmq's send of bytes.
 *
 * Every socket has ZMQ_LINGER 0 (pyzmq's adapter sets the same) and libzmq's defaults
 * otherwise (high-water marks of 1000 messages, one I/O thread), as pyzmq's sockets have.
 * Sockets are not closed one by one: the process ends with them open (LINGER 0 everywhere).
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define BENCH_NAME "zmqbench"
typedef void *bench_socket;
#define BENCH_PAIR ZMQ_PAIR
#define BENCH_PUSH ZMQ_PUSH
#define BENCH_PULL ZMQ_PULL
#define BENCH_REQ ZMQ_REQ
#define BENCH_REP ZMQ_REP
#define BENCH_RECV "zmq_recv"

#include "benchdriver.h"

/* The one context, made with the first socket. */
static void *context;

static int last_errno(void)
{
    return zmq_errno();
}

static const char *last_error(void)
{
    return zmq_strerror(zmq_errno());
}

static void set_int(void *s, int option, int value, const char *what)
{
    if (zmq_setsockopt(s, option, &value, sizeof value) != 0)
        die(what);
}

static void *make_socket(int type)
{
    void *s;
    if (context == NULL && (context = zmq_ctx_new()) == NULL)
        die("zmq_ctx_new");
    s = zmq_socket(context, type);
    if (s == NULL)
        die("zmq_socket");
    set_int(s, ZMQ_LINGER, 0, "zmq_setsockopt(ZMQ_LINGER)");
    return s;
}

static void *make_endpoint(int type, const char *address, int binds)
{
    void *s = make_socket(type);
    if (binds ? zmq_bind(s, address) != 0 : zmq_connect(s, address) != 0)
        die(binds ? "zmq_bind" : "zmq_connect");
    return s;
}

/* No send high-water mark on the PUB. At most BURST messages are ever in flight, but the PUB
   learns what its I/O thread has taken only from commands that it reads at most once a
   millisecond or so (libzmq's throttle) and that come every 500 messages: at this program's
   rate (several hundred thousand a second) it can count a thousand unacknowledged messages
   and drop the next, which the SUB then waits for in vain. pyzmq, slower per message, does
   not get there. */
static void *make_publisher(const char *address)
{
    void *s = make_socket(ZMQ_PUB);
    set_int(s, ZMQ_SNDHWM, 0, "zmq_setsockopt(ZMQ_SNDHWM)");
    if (zmq_bind(s, address) != 0)
        die("zmq_bind");
    return s;
}

static void *make_subscriber(const char *address)
{
    void *s = make_socket(ZMQ_SUB);
    if (zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0) != 0)
        die("zmq_setsockopt(ZMQ_SUBSCRIBE)");
    if (zmq_connect(s, address) != 0)
        die("zmq_connect");
    return s;
}

static void set_recv_timeout(void *s, int ms)
{
    set_int(s, ZMQ_RCVTIMEO, ms, "zmq_setsockopt(ZMQ_RCVTIMEO)");
}

static void send_all(void *s, const void *buf, size_t size)
{
    while (zmq_send(s, buf, size, 0) < 0) {
        if (zmq_errno() != EINTR)
            die("zmq_send");
    }
}

static void send_probe(void *s)
{
    zmq_send(s, "W", 1, ZMQ_DONTWAIT);
}

static int drain(void *s)
{
    int got = 0;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) >= 0)
        got++;
    zmq_msg_close(&msg);
    return got;
}

static unsigned char *recv_copy(void *s, unsigned char **data, size_t *size)
{
    zmq_msg_t msg;
    unsigned char *copy;
    int n;
    zmq_msg_init(&msg);
    n = zmq_msg_recv(&msg, s, 0);
    if (n < 0) {
        zmq_msg_close(&msg);
        return NULL;
    }
    copy = malloc((size_t)n + 1);
    if (copy == NULL) {
        fprintf(stderr, "zmqbench: out of memory\n");
        exit(1);
    }
    memcpy(copy, zmq_msg_data(&msg), (size_t)n);
    zmq_msg_close(&msg);
    if (n > 0)
        sink ^= copy[n - 1];
    *data = copy;
    *size = (size_t)n;
    return copy;
}

static long recv_into(void *s, unsigned char *buf, size_t cap)
{
    long n = zmq_recv(s, buf, cap, 0);
    if (n > 0)
        sink ^= buf[(size_t)n < cap ? (size_t)n - 1 : cap - 1];
    return n;
}

static long recv_zero_copy(void *s)
{
    zmq_msg_t msg;
    int n;
    zmq_msg_init(&msg);
    n = zmq_msg_recv(&msg, s, 0);
    if (n > 0)
        sink ^= ((unsigned char *)zmq_msg_data(&msg))[n - 1];
    zmq_msg_close(&msg);
    return n;
}

int main(int argc, char **argv)
{
    return bench_main(argc, argv);
}
