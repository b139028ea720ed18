/*
 * nnbench: the C floor of the nanomsg-rs benchmarks.
 *
 * The same workloads as benchmarks/bench_worker.py, written directly on libnanomsg, so the
 * Python bindings can be compared with what the library itself costs. benchmarks/run.py
 * compiles this file with gcc at run time and drives it over stdin/stdout with the same line
 * protocol as the Python workers:
 *
 *   nnbench ROLE ADDRESS [NSUBS BURST]
 *
 *   -> prints "ready" once its sockets are set up;
 *   <- "run COUNT SIZE MODE [BATCH]"  -> "ok ELAPSED_NS CPU_NS" or "err TEXT"
 *   <- "quit"                         -> exits
 *
 * ROLE is one of
 *   pingpong  one thread, two PAIR sockets over ADDRESS: COUNT times send SIZE bytes, recv
 *   push      connects PUSH to ADDRESS, sends COUNT messages of SIZE bytes
 *   pull      binds PULL on ADDRESS, receives COUNT messages; ELAPSED_NS (and CPU_NS) run
 *             from the first message to the last
 *   req       connects REQ to ADDRESS, COUNT round trips of SIZE bytes
 *   rep       binds REP on ADDRESS and echoes every request until it is killed
 *   fanout    binds PUB on ADDRESS, connects NSUBS SUB sockets in this process, publishes
 *             COUNT messages in bursts of BURST, each received by every SUB
 *
 * CPU_NS is the CPU time of the whole process (every thread, libnanomsg's own included) over
 * the same span as ELAPSED_NS.
 *
 * MODE says how the pull role receives, each the C counterpart of one nanomsg_rs call:
 *   recv  every message is copied once into fresh memory (nn_recv with NN_MSG, malloc,
 *         memcpy, nn_freemsg), as a binding must when it hands the bytes to its language
 *         (Socket.recv returns a new bytes object); every other role always receives so;
 *   into  nn_recv into one buffer, allocated once per run (Socket.recv_into a bytearray);
 *   msg   nn_recv with NN_MSG, then nn_freemsg: no copy (Socket.recv_msg, zero-copy).
 *
 * BATCH, in the batch rows, is ignored here (sscanf stops before it): the Python workers send
 * with Socket.send_many and receive with Socket.recv_many, BATCH messages a call, while this
 * floor sends and receives one message per call, with MODE (recv) as always.
 *
 * glibc's malloc is told to keep freed memory (no heap trimming, no mmap for messages up to
 * 16 MiB): otherwise this small program's heap shrinks and grows again around every large
 * message, and the floor would pay page faults (tens of thousands a second at 64 KiB) that
 * are no part of the work, and that a Python process, whose heap is never that empty,
 * mostly avoids.
 *
 * Compiled with -DNNBENCH_NNG (and -lnng) the same program runs on nng's nanomsg-compatible
 * API instead (Debian's libnng-dev): the floor of the binding's nng build.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#define MAX_SUBS 256
#define FANOUT_TIMEOUT_MS 5000
/* How long 256 SUB sockets may take to connect on a busy machine. */
#define FANOUT_CONNECT_S 30LL

/* Keeps the copies from being optimised away. */
static volatile unsigned char sink;

static void die(const char *what)
{
    fprintf(stderr, "nnbench: %s: %s\n", what, nn_strerror(nn_errno()));
    exit(1);
}

static int64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

static int64_t cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int make_socket(int protocol)
{
    int s = nn_socket(AF_SP, protocol);
    int unlimited = -1;
    if (s < 0)
        die("nn_socket");
    if (nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &unlimited, sizeof unlimited) < 0)
        die("nn_setsockopt(NN_RCVMAXSIZE)");
    return s;
}

/* A socket of this protocol, bound to the address (else connected to it). */
static int make_endpoint(int protocol, const char *address, int binds)
{
    int s = make_socket(protocol);
    if (binds ? nn_bind(s, address) < 0 : nn_connect(s, address) < 0)
        die(binds ? "nn_bind" : "nn_connect");
    return s;
}

static void set_timeout(int s, int option, int ms)
{
    if (nn_setsockopt(s, NN_SOL_SOCKET, option, &ms, sizeof ms) < 0)
        die("nn_setsockopt(timeout)");
}

/*
 * Receives one message and copies it into fresh memory, the least a binding must do.
 * Returns the allocation (caller frees) with the copy at *data and its size in *size, or NULL
 * on error (errno in nn_errno).
 *
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

/* Receives and discards one message (after the copy); returns its size, or -1. */
static long recv_drop(int s)
{
    size_t size;
    unsigned char *data;
    unsigned char *block = recv_copy(s, &data, &size);
    if (block == NULL)
        return -1;
    free(block);
    return (long)size;
}

/* Receives one message without copying it (NN_MSG, then nn_freemsg); returns its size. */
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

/* How the pull role receives (MODE of the run command). */
enum mode { MODE_RECV, MODE_INTO, MODE_MSG };

/* Receives one message with `mode`, into `buf` (of `cap` bytes) for MODE_INTO; its size. */
static long recv_mode(int s, enum mode mode, unsigned char *buf, size_t cap)
{
    long n;
    switch (mode) {
    case MODE_INTO:
        n = nn_recv(s, buf, cap, 0);
        if (n > 0)
            sink ^= buf[n - 1];
        return n;
    case MODE_MSG:
        return recv_zero_copy(s);
    default:
        return recv_drop(s);
    }
}

static void send_all(int s, const void *buf, size_t size)
{
    if (nn_send(s, buf, size, 0) < 0)
        die("nn_send");
}

/* The workload state, set up once per process. */
struct bench {
    const char *role;
    int a;                 /* the socket the role acts on (PAIR sender, PUSH, PULL, REQ, REP, PUB) */
    int b;                 /* pingpong: the receiving PAIR */
    int subs[MAX_SUBS];    /* fanout: the SUB sockets */
    int nsubs;
    int burst;
};

/* Fanout warm-up: publish probes until every SUB has one, then drain what is left. */
static void fanout_warm_up(struct bench *bn)
{
    char ready[MAX_SUBS] = {0};
    int missing = bn->nsubs;
    int64_t give_up = now_ns() + FANOUT_CONNECT_S * 1000000000LL;
    while (missing > 0) {
        int i;
        if (now_ns() > give_up) {
            fprintf(stderr, "nnbench: SUB sockets never connected\n");
            exit(1);
        }
        nn_send(bn->a, "W", 1, NN_DONTWAIT);
        sleep_ms(1);
        for (i = 0; i < bn->nsubs; i++) {
            void *msg = NULL;
            while (nn_recv(bn->subs[i], &msg, NN_MSG, NN_DONTWAIT) >= 0) {
                nn_freemsg(msg);
                if (!ready[i]) {
                    ready[i] = 1;
                    missing--;
                }
            }
        }
    }
    sleep_ms(50);
    for (int i = 0; i < bn->nsubs; i++) {
        void *msg = NULL;
        while (nn_recv(bn->subs[i], &msg, NN_MSG, NN_DONTWAIT) >= 0)
            nn_freemsg(msg);
    }
}

/* The roles of one socket: its protocol, and whether it binds (else it connects). */
static const struct {
    const char *role;
    int protocol;
    int binds;
} ONE_SOCKET[] = {
    {"push", NN_PUSH, 0},
    {"pull", NN_PULL, 1},
    {"req", NN_REQ, 0},
    {"rep", NN_REP, 1},
};

static void setup(struct bench *bn, const char *address, int nsubs, int burst)
{
    const char *role = bn->role;
    for (size_t i = 0; i < sizeof ONE_SOCKET / sizeof ONE_SOCKET[0]; i++) {
        if (strcmp(role, ONE_SOCKET[i].role) == 0) {
            bn->a = make_endpoint(ONE_SOCKET[i].protocol, address, ONE_SOCKET[i].binds);
            return;
        }
    }
    if (strcmp(role, "pingpong") == 0) {
        bn->b = make_endpoint(NN_PAIR, address, 1);
        bn->a = make_endpoint(NN_PAIR, address, 0);
    } else if (strcmp(role, "fanout") == 0) {
        if (nsubs < 1 || nsubs > MAX_SUBS || burst < 1) {
            fprintf(stderr, "nnbench: fanout needs 1..%d subscribers and a burst >= 1\n",
                    MAX_SUBS);
            exit(2);
        }
        bn->nsubs = nsubs;
        bn->burst = burst;
        bn->a = make_endpoint(NN_PUB, address, 1);
        for (int i = 0; i < nsubs; i++) {
            bn->subs[i] = make_socket(NN_SUB);
            if (nn_setsockopt(bn->subs[i], NN_SUB, NN_SUB_SUBSCRIBE, "", 0) < 0)
                die("nn_setsockopt(NN_SUB_SUBSCRIBE)");
            if (nn_connect(bn->subs[i], address) < 0)
                die("nn_connect");
        }
        fanout_warm_up(bn);
        for (int i = 0; i < nsubs; i++)
            set_timeout(bn->subs[i], NN_RCVTIMEO, FANOUT_TIMEOUT_MS);
    } else {
        fprintf(stderr, "nnbench: unknown role %s\n", role);
        exit(2);
    }
}

/* The rep role: echo (through a copy, as a binding would) until killed. */
static void serve_rep(struct bench *bn)
{
    for (;;) {
        size_t size;
        unsigned char *data;
        unsigned char *block = recv_copy(bn->a, &data, &size);
        if (block == NULL) {
            if (nn_errno() == EINTR)
                continue;
            die("nn_recv");
        }
        send_all(bn->a, data, size);
        free(block);
    }
}

/*
 * One "run": the measured loop. Returns the elapsed nanoseconds and stores the process's CPU
 * nanoseconds in *cpu, or returns -1 with a message in err.
 */
static int64_t run(struct bench *bn, long count, size_t size, enum mode mode, int64_t *cpu,
                   char *err, size_t errlen)
{
    unsigned char *payload = malloc(size > 0 ? size : 1);
    const char *role = bn->role;
    int64_t t0, t1, c0;
    long i;
    if (payload == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memset(payload, 'x', size);
    payload[0] = 'B';
    t0 = now_ns();
    c0 = cpu_ns();
    if (strcmp(role, "pingpong") == 0) {
        for (i = 0; i < count; i++) {
            send_all(bn->a, payload, size);
            if (recv_drop(bn->b) < 0)
                die("nn_recv");
        }
    } else if (strcmp(role, "push") == 0) {
        for (i = 0; i < count; i++)
            send_all(bn->a, payload, size);
    } else if (strcmp(role, "pull") == 0) {
        /* recv_into's buffer: the payload's, made before the clock started */
        long got = recv_mode(bn->a, mode, payload, size);
        if (got < 0)
            die("nn_recv");
        t0 = now_ns();
        c0 = cpu_ns();
        for (i = 1; i < count; i++) {
            got = recv_mode(bn->a, mode, payload, size);
            if (got < 0)
                die("nn_recv");
        }
        if ((size_t)got != size) {
            snprintf(err, errlen, "received %ld bytes, expected %zu", got, size);
            free(payload);
            return -1;
        }
    } else if (strcmp(role, "req") == 0) {
        for (i = 0; i < count; i++) {
            send_all(bn->a, payload, size);
            if (recv_drop(bn->a) < 0)
                die("nn_recv");
        }
    } else if (strcmp(role, "fanout") == 0) {
        long bursts = count / bn->burst;
        for (i = 0; i < bursts; i++) {
            for (int k = 0; k < bn->burst; k++)
                send_all(bn->a, payload, size);
            for (int j = 0; j < bn->nsubs; j++) {
                for (int k = 0; k < bn->burst; k++) {
                    if (recv_drop(bn->subs[j]) < 0) {
                        snprintf(err, errlen, "SUB %d: %s (a message was dropped)", j,
                                 nn_strerror(nn_errno()));
                        free(payload);
                        return -1;
                    }
                }
            }
        }
    }
    t1 = now_ns();
    *cpu = cpu_ns() - c0;
    free(payload);
    return t1 - t0;
}

int main(int argc, char **argv)
{
    struct bench bn;
    char line[256];
    if (argc < 3) {
        fprintf(stderr, "usage: nnbench ROLE ADDRESS [NSUBS BURST]\n");
        return 2;
    }
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    memset(&bn, 0, sizeof bn);
    bn.role = argv[1];
    setup(&bn, argv[2], argc > 3 ? atoi(argv[3]) : 0, argc > 4 ? atoi(argv[4]) : 1);
    printf("ready\n");
    fflush(stdout);
    if (strcmp(bn.role, "rep") == 0)
        serve_rep(&bn);
    while (fgets(line, sizeof line, stdin) != NULL) {
        long count = 0;
        size_t size = 0;
        char word[32] = "recv";
        char err[200] = "";
        enum mode mode = MODE_RECV;
        int64_t elapsed, cpu = 0;
        if (strncmp(line, "quit", 4) == 0)
            break;
        if (sscanf(line, "run %ld %zu %31s", &count, &size, word) < 2 || count < 1) {
            printf("err bad command: %s", line);
            fflush(stdout);
            continue;
        }
        if (strcmp(word, "into") == 0)
            mode = MODE_INTO;
        else if (strcmp(word, "msg") == 0)
            mode = MODE_MSG;
        else if (strcmp(word, "recv") != 0) {
            printf("err unknown mode %s\n", word);
            fflush(stdout);
            continue;
        }
        elapsed = run(&bn, count, size, mode, &cpu, err, sizeof err);
        if (elapsed < 0)
            printf("err %s\n", err);
        else
            printf("ok %lld %lld\n", (long long)elapsed, (long long)cpu);
        fflush(stdout);
    }
    return 0;
}
