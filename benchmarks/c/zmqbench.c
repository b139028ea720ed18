/*
 * zmqbench: the C-on-libzmq floor of the nanomsg-rs benchmarks.
 *
 * The workloads of nnbench.c (and of benchmarks/bench_worker.py), written directly on libzmq
 * (Debian's libzmq3-dev), so that a run shows what ZeroMQ's library itself costs next to
 * libnanomsg and to the bindings: the floor under pyzmq. benchmarks/run.py compiles this file
 * with gcc at run time and drives it with nnbench.c's line protocol:
 *
 *   zmqbench ROLE ADDRESS [NSUBS BURST]
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
 * CPU_NS is the CPU time of the whole process (every thread, libzmq's I/O thread included)
 * over the same span as ELAPSED_NS.
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
 * glibc's malloc is tuned as in nnbench.c (no heap trimming, no mmap up to 16 MiB).
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define MAX_SUBS 256
#define FANOUT_TIMEOUT_MS 5000
/* How long 256 SUB sockets may take to connect on a busy machine. */
#define FANOUT_CONNECT_S 30LL

/* Keeps the copies from being optimised away. */
static volatile unsigned char sink;
static void *context;

static void die(const char *what)
{
    fprintf(stderr, "zmqbench: %s: %s\n", what, zmq_strerror(zmq_errno()));
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

static void set_int(void *s, int option, int value, const char *what)
{
    if (zmq_setsockopt(s, option, &value, sizeof value) != 0)
        die(what);
}

static void *make_socket(int type)
{
    void *s = zmq_socket(context, type);
    if (s == NULL)
        die("zmq_socket");
    set_int(s, ZMQ_LINGER, 0, "zmq_setsockopt(ZMQ_LINGER)");
    return s;
}

/* A socket of this type, bound to the address (else connected to it). */
static void *make_endpoint(int type, const char *address, int binds)
{
    void *s = make_socket(type);
    if (binds ? zmq_bind(s, address) != 0 : zmq_connect(s, address) != 0)
        die(binds ? "zmq_bind" : "zmq_connect");
    return s;
}

/* Receives one message and copies it into fresh memory; returns its size, or -1. */
static long recv_drop(void *s)
{
    zmq_msg_t msg;
    unsigned char *copy;
    int n;
    zmq_msg_init(&msg);
    n = zmq_msg_recv(&msg, s, 0);
    if (n < 0) {
        zmq_msg_close(&msg);
        return -1;
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
    free(copy);
    return n;
}

/* Receives one message without copying it; returns its size, or -1. */
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

/* How the pull role receives (MODE of the run command). */
enum mode { MODE_RECV, MODE_INTO, MODE_MSG };

static long recv_mode(void *s, enum mode mode, unsigned char *buf, size_t cap)
{
    long n;
    switch (mode) {
    case MODE_INTO:
        n = zmq_recv(s, buf, cap, 0);
        if (n > 0)
            sink ^= buf[(size_t)n < cap ? (size_t)n - 1 : cap - 1];
        return n;
    case MODE_MSG:
        return recv_zero_copy(s);
    default:
        return recv_drop(s);
    }
}

static void send_all(void *s, const void *buf, size_t size)
{
    while (zmq_send(s, buf, size, 0) < 0) {
        if (zmq_errno() != EINTR)
            die("zmq_send");
    }
}

/* The workload state, set up once per process. */
struct bench {
    const char *role;
    void *a;               /* the socket the role acts on (PAIR sender, PUSH, PULL, REQ, REP, PUB) */
    void *b;               /* pingpong: the receiving PAIR */
    void *subs[MAX_SUBS];  /* fanout: the SUB sockets */
    int nsubs;
    int burst;
};

/* Drains whatever a SUB holds now; returns how many messages. */
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

/* Fanout warm-up: publish probes until every SUB has one (connections and subscriptions
   take a while), then drain what is left. */
static void fanout_warm_up(struct bench *bn)
{
    char ready[MAX_SUBS] = {0};
    int missing = bn->nsubs;
    int64_t give_up = now_ns() + FANOUT_CONNECT_S * 1000000000LL;
    while (missing > 0) {
        if (now_ns() > give_up) {
            fprintf(stderr, "zmqbench: %d SUB sockets never connected\n", missing);
            exit(1);
        }
        zmq_send(bn->a, "W", 1, ZMQ_DONTWAIT);
        sleep_ms(1);
        for (int i = 0; i < bn->nsubs; i++) {
            if (drain(bn->subs[i]) > 0 && !ready[i]) {
                ready[i] = 1;
                missing--;
            }
        }
    }
    sleep_ms(50);
    for (int i = 0; i < bn->nsubs; i++)
        drain(bn->subs[i]);
}

static const struct {
    const char *role;
    int type;
    int binds;
} ONE_SOCKET[] = {
    {"push", ZMQ_PUSH, 0},
    {"pull", ZMQ_PULL, 1},
    {"req", ZMQ_REQ, 0},
    {"rep", ZMQ_REP, 1},
};

static void setup(struct bench *bn, const char *address, int nsubs, int burst)
{
    const char *role = bn->role;
    for (size_t i = 0; i < sizeof ONE_SOCKET / sizeof ONE_SOCKET[0]; i++) {
        if (strcmp(role, ONE_SOCKET[i].role) == 0) {
            bn->a = make_endpoint(ONE_SOCKET[i].type, address, ONE_SOCKET[i].binds);
            return;
        }
    }
    if (strcmp(role, "pingpong") == 0) {
        bn->b = make_endpoint(ZMQ_PAIR, address, 1);
        bn->a = make_endpoint(ZMQ_PAIR, address, 0);
    } else if (strcmp(role, "fanout") == 0) {
        if (nsubs < 1 || nsubs > MAX_SUBS || burst < 1) {
            fprintf(stderr, "zmqbench: fanout needs 1..%d subscribers and a burst >= 1\n",
                    MAX_SUBS);
            exit(2);
        }
        bn->nsubs = nsubs;
        bn->burst = burst;
        /* No send high-water mark on the PUB. At most BURST messages are ever in flight, but
           the PUB learns what its I/O thread has taken only from commands that it reads at
           most once a millisecond or so (libzmq's throttle) and that come every 500 messages:
           at this program's rate (several hundred thousand a second) it can count
           a thousand unacknowledged messages and drop the next, which the SUB then
           waits for in vain. pyzmq, slower per message, does not get there. */
        bn->a = make_socket(ZMQ_PUB);
        set_int(bn->a, ZMQ_SNDHWM, 0, "zmq_setsockopt(ZMQ_SNDHWM)");
        if (zmq_bind(bn->a, address) != 0)
            die("zmq_bind");
        for (int i = 0; i < nsubs; i++) {
            bn->subs[i] = make_socket(ZMQ_SUB);
            if (zmq_setsockopt(bn->subs[i], ZMQ_SUBSCRIBE, "", 0) != 0)
                die("zmq_setsockopt(ZMQ_SUBSCRIBE)");
            if (zmq_connect(bn->subs[i], address) != 0)
                die("zmq_connect");
        }
        fanout_warm_up(bn);
        for (int i = 0; i < nsubs; i++)
            set_int(bn->subs[i], ZMQ_RCVTIMEO, FANOUT_TIMEOUT_MS, "zmq_setsockopt(ZMQ_RCVTIMEO)");
    } else {
        fprintf(stderr, "zmqbench: unknown role %s\n", role);
        exit(2);
    }
}

/* The rep role: echo (through a copy, as a binding would) until killed. */
static void serve_rep(struct bench *bn)
{
    for (;;) {
        zmq_msg_t msg;
        unsigned char *copy;
        int n;
        zmq_msg_init(&msg);
        n = zmq_msg_recv(&msg, bn->a, 0);
        if (n < 0) {
            zmq_msg_close(&msg);
            if (zmq_errno() == EINTR)
                continue;
            die("zmq_msg_recv");
        }
        copy = malloc((size_t)n + 1);
        if (copy == NULL)
            die("malloc");
        memcpy(copy, zmq_msg_data(&msg), (size_t)n);
        zmq_msg_close(&msg);
        send_all(bn->a, copy, (size_t)n);
        free(copy);
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
                die("zmq_msg_recv");
        }
    } else if (strcmp(role, "push") == 0) {
        for (i = 0; i < count; i++)
            send_all(bn->a, payload, size);
    } else if (strcmp(role, "pull") == 0) {
        long got = recv_mode(bn->a, mode, payload, size);
        if (got < 0)
            die("zmq_recv");
        t0 = now_ns();
        c0 = cpu_ns();
        for (i = 1; i < count; i++) {
            got = recv_mode(bn->a, mode, payload, size);
            if (got < 0)
                die("zmq_recv");
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
                die("zmq_msg_recv");
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
                                 zmq_strerror(zmq_errno()));
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
        fprintf(stderr, "usage: zmqbench ROLE ADDRESS [NSUBS BURST]\n");
        return 2;
    }
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    context = zmq_ctx_new();
    if (context == NULL)
        die("zmq_ctx_new");
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
    /* Sockets are not closed one by one: the process ends here (LINGER 0 everywhere). */
    return 0;
}
