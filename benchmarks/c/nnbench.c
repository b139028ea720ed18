/*
 * nnbench: the C floor of the nanomsg-rs benchmarks.
 *
 * The same workloads as benchmarks/bench_worker.py, written directly on libnanomsg, so the
 * Python bindings can be compared with what the library itself costs. benchmarks/run.py
 * compiles this file with gcc at run time and drives it over stdin/stdout with the same line
 * protocol as the Python workers (benchdriver.h: the protocol, the roles and their loops,
 * shared with zmqbench.c):
 *
 *   nnbench ROLE ADDRESS [NSUBS BURST]
 *
 * MODE says how the pull role receives, each the C counterpart of one nanomsg_rs call:
 *   recv  every message is copied once into fresh memory (nn_recv with NN_MSG, malloc,
 *         memcpy, nn_freemsg), as a binding must when it hands the bytes to its language
 *         (Socket.recv returns a new bytes object); every other role always receives so;
 *   into  nn_recv into one buffer, allocated once per run (Socket.recv_into a bytearray);
 *   msg   nn_recv with NN_MSG, then nn_freemsg: no copy (Socket.recv_msg, zero-copy).
 *
 * BATCH is ignored: the Python workers send with Socket.send_many and receive with
 * Socket.recv_many, BATCH messages a call, while this floor sends and receives one message
 * per call.
 *
 * Compiled with -DNNBENCH_NNG (and -lnng) the same program runs on nng's nanomsg-compatible
 * API instead (Debian's libnng-dev): the floor of the binding's nng build.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NNBENCH_NNG
#include <nng/compat/nanomsg/nn.h>
#include <nng/compat/nanomsg/pair.h>
#include <nng/compat/nanomsg/pipeline.h>
#include <nng/compat/nanomsg/pubsub.h>
#include <nng/compat/nanomsg/reqrep.h>
#else
#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>
#endif

#define BENCH_NAME "nnbench"
typedef int bench_socket;
#define BENCH_PAIR NN_PAIR
#define BENCH_PUSH NN_PUSH
#define BENCH_PULL NN_PULL
#define BENCH_REQ NN_REQ
#define BENCH_REP NN_REP
#define BENCH_RECV "nn_recv"

#include "benchdriver.h"

static int last_errno(void)
{
    return nn_errno();
}

static const char *last_error(void)
{
    return nn_strerror(nn_errno());
}

static int make_socket(int protocol)
{
    int s = nn_socket(AF_SP, protocol);
    int unlimited = -1;
    if (s < 0)
        die("nn_socket");
    if (nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &unlimited, sizeof unlimited) < 0)
        die("nn_setsockopt(NN_RCVMAXSIZE)");
#ifdef NN_WORKER_YIELD
    /* our libnanomsg: as the binding sets it on every socket */
    int yield = 1;
    if (nn_setsockopt(s, NN_SOL_SOCKET, NN_WORKER_YIELD, &yield, sizeof yield) < 0)
        die("nn_setsockopt(NN_WORKER_YIELD)");
#endif
    return s;
}

static int make_endpoint(int protocol, const char *address, int binds)
{
    int s = make_socket(protocol);
    if (binds ? nn_bind(s, address) < 0 : nn_connect(s, address) < 0)
        die(binds ? "nn_bind" : "nn_connect");
    return s;
}

static int make_publisher(const char *address)
{
    return make_endpoint(NN_PUB, address, 1);
}

static int make_subscriber(const char *address)
{
    int s = make_socket(NN_SUB);
    if (nn_setsockopt(s, NN_SUB, NN_SUB_SUBSCRIBE, "", 0) < 0)
        die("nn_setsockopt(NN_SUB_SUBSCRIBE)");
    if (nn_connect(s, address) < 0)
        die("nn_connect");
    return s;
}

static void set_recv_timeout(int s, int ms)
{
    if (nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &ms, sizeof ms) < 0)
        die("nn_setsockopt(timeout)");
}

static void send_all(int s, const void *buf, size_t size)
{
    if (nn_send(s, buf, size, 0) < 0)
        die("nn_send");
}

static void send_probe(int s)
{
    nn_send(s, "W", 1, NN_DONTWAIT);
}

static int drain(int s)
{
    int got = 0;
    void *msg = NULL;
    while (nn_recv(s, &msg, NN_MSG, NN_DONTWAIT) >= 0) {
        nn_freemsg(msg);
        got++;
    }
    return got;
}

/*
 * glibc's memcpy for large blocks (rep movsb, on CPUs with FSRM such as AMD Zen) runs some 30
 * times slower when the destination lies 1 to 63 bytes after the source modulo 4 KiB. Where
 * malloc's luck puts the copy there, it is moved 64 bytes on: the floor copies at full speed.
 */
static unsigned char *recv_copy(int s, unsigned char **data, size_t *size)
{
    void *msg = NULL;
    int n = nn_recv(s, &msg, NN_MSG, 0);
    unsigned char *block, *copy;
    if (n < 0)
        return NULL;
    block = malloc((size_t)n + 64);
    if (block == NULL) {
        fprintf(stderr, "nnbench: out of memory\n");
        exit(1);
    }
    copy = block;
    if ((((uintptr_t)copy - (uintptr_t)msg) & 4095) < 64)
        copy += 64;
    memcpy(copy, msg, (size_t)n);
    nn_freemsg(msg);
    if (n > 0)
        sink ^= copy[n - 1];
    *data = copy;
    *size = (size_t)n;
    return block;
}

static long recv_into(int s, unsigned char *buf, size_t cap)
{
    long n = nn_recv(s, buf, cap, 0);
    if (n > 0)
        sink ^= buf[n - 1];
    return n;
}

static long recv_zero_copy(int s)
{
    void *msg = NULL;
    int n = nn_recv(s, &msg, NN_MSG, 0);
    if (n < 0)
        return -1;
    if (n > 0)
        sink ^= ((unsigned char *)msg)[n - 1];
    nn_freemsg(msg);
    return n;
}

int main(int argc, char **argv)
{
    return bench_main(argc, argv);
}
