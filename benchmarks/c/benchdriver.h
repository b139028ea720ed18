/*
 * benchdriver.h: what the C floors of the nanomsg-rs benchmarks share (nnbench.c on
 * libnanomsg or nng, zmqbench.c on libzmq): the line protocol, the roles, their set-up and
 * their measured loops. Each program supplies its library's calls (below); the workloads and
 * the protocol are written here once, so the floors stay the same work on every library.
 *
 *   PROGRAM ROLE ADDRESS [NSUBS BURST]
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
 * CPU_NS is the CPU time of the whole process (every thread, the library's own included) over
 * the same span as ELAPSED_NS.
 *
 * MODE says how the pull role receives (each program says how it does each): recv, every
 * message copied once into fresh memory, as a binding must when it hands the bytes to its
 * language (every other role always receives so); into, into one buffer allocated once per
 * run; msg, the library's message without a copy.
 *
 * BATCH, in the batch rows, is ignored here (sscanf stops before it): the Python workers send
 * and receive BATCH messages a call, while a floor sends and receives one message per call,
 * with MODE (recv) as always.
 *
 * glibc's malloc is told to keep freed memory (no heap trimming, no mmap for messages up to
 * 16 MiB): otherwise this small program's heap shrinks and grows again around every large
 * message, and the floor would pay page faults (tens of thousands a second at 64 KiB) that
 * are no part of the work, and that a Python process, whose heap is never that empty,
 * mostly avoids.
 *
 * Before including this file a program defines
 *   BENCH_NAME                   its name, the prefix of its messages on stderr;
 *   bench_socket                 (a typedef) its library's socket handle;
 *   BENCH_PAIR, BENCH_PUSH, BENCH_PULL, BENCH_REQ, BENCH_REP
 *                                the socket types of the roles, as make_endpoint takes them;
 *   BENCH_RECV                   the receiving call, named when it fails;
 * and after it, the functions declared under "Supplied by the program".
 */

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SUBS 256
#define FANOUT_TIMEOUT_MS 5000
/* How long 256 SUB sockets may take to connect on a busy machine. */
#define FANOUT_CONNECT_S 30LL

/* Keeps the copies from being optimised away. */
static volatile unsigned char sink;

/* How the pull role receives (MODE of the run command). */
enum mode { MODE_RECV, MODE_INTO, MODE_MSG };

/* The workload state, set up once per process. */
struct bench {
    const char *role;
    bench_socket a; /* the socket the role acts on (PAIR sender, PUSH, PULL, REQ, REP, PUB) */
    bench_socket b; /* pingpong: the receiving PAIR */
    bench_socket subs[MAX_SUBS]; /* fanout: the SUB sockets */
    int nsubs;
    int burst;
};

/* ---- Supplied by the program ---- */

/* The library's last error: its number, and its text. */
static int last_errno(void);
static const char *last_error(void);
/* A socket of this type, bound to the address (else connected to it); dies on failure. */
static bench_socket make_endpoint(int type, const char *address, int binds);
/* The fanout's PUB, bound to the address. */
static bench_socket make_publisher(const char *address);
/* One fanout SUB, subscribed to everything and connected to the address. */
static bench_socket make_subscriber(const char *address);
/* Sets the receive timeout. */
static void set_recv_timeout(bench_socket s, int ms);
/* Sends the whole buffer as one message; dies on failure. */
static void send_all(bench_socket s, const void *buf, size_t size);
/* The fanout warm-up's probe: one byte, without waiting. */
static void send_probe(bench_socket s);
/* Receives whatever a SUB holds now, without waiting; returns how many messages. */
static int drain(bench_socket s);
/*
 * Receives one message and copies it into fresh memory, the least a binding must do.
 * Returns the allocation (caller frees) with the copy at *data and its size in *size, or NULL
 * on error (the library's errno set).
 */
static unsigned char *recv_copy(bench_socket s, unsigned char **data, size_t *size);
/* Receives one message into `buf` (of `cap` bytes); its size, or -1. */
static long recv_into(bench_socket s, unsigned char *buf, size_t cap);
/* Receives one message without copying it; its size, or -1. */
static long recv_zero_copy(bench_socket s);

/* ---- The driver ---- */

static void die(const char *what)
{
    fprintf(stderr, BENCH_NAME ": %s: %s\n", what, last_error());
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

/* Receives and discards one message (after the copy); returns its size, or -1. */
static long recv_drop(bench_socket s)
{
    size_t size;
    unsigned char *data;
    unsigned char *block = recv_copy(s, &data, &size);
    if (block == NULL)
        return -1;
    free(block);
    return (long)size;
}

/* Receives one message with `mode`, into `buf` (of `cap` bytes) for MODE_INTO; its size. */
static long recv_mode(bench_socket s, enum mode mode, unsigned char *buf, size_t cap)
{
    switch (mode) {
    case MODE_INTO:
        return recv_into(s, buf, cap);
    case MODE_MSG:
        return recv_zero_copy(s);
    default:
        return recv_drop(s);
    }
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
            fprintf(stderr, BENCH_NAME ": %d SUB sockets never connected\n", missing);
            exit(1);
        }
        send_probe(bn->a);
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

/* The roles of one socket: its type, and whether it binds (else it connects). */
static const struct {
    const char *role;
    int type;
    int binds;
} ONE_SOCKET[] = {
    {"push", BENCH_PUSH, 0},
    {"pull", BENCH_PULL, 1},
    {"req", BENCH_REQ, 0},
    {"rep", BENCH_REP, 1},
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
        bn->b = make_endpoint(BENCH_PAIR, address, 1);
        bn->a = make_endpoint(BENCH_PAIR, address, 0);
    } else if (strcmp(role, "fanout") == 0) {
        if (nsubs < 1 || nsubs > MAX_SUBS || burst < 1) {
            fprintf(stderr, BENCH_NAME ": fanout needs 1..%d subscribers and a burst >= 1\n",
                    MAX_SUBS);
            exit(2);
        }
        bn->nsubs = nsubs;
        bn->burst = burst;
        bn->a = make_publisher(address);
        for (int i = 0; i < nsubs; i++)
            bn->subs[i] = make_subscriber(address);
        fanout_warm_up(bn);
        for (int i = 0; i < nsubs; i++)
            set_recv_timeout(bn->subs[i], FANOUT_TIMEOUT_MS);
    } else {
        fprintf(stderr, BENCH_NAME ": unknown role %s\n", role);
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
            if (last_errno() == EINTR)
                continue;
            die(BENCH_RECV);
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
                die(BENCH_RECV);
        }
    } else if (strcmp(role, "push") == 0) {
        for (i = 0; i < count; i++)
            send_all(bn->a, payload, size);
    } else if (strcmp(role, "pull") == 0) {
        /* recv_into's buffer: the payload's, made before the clock started */
        long got = recv_mode(bn->a, mode, payload, size);
        if (got < 0)
            die(BENCH_RECV);
        t0 = now_ns();
        c0 = cpu_ns();
        for (i = 1; i < count; i++) {
            got = recv_mode(bn->a, mode, payload, size);
            if (got < 0)
                die(BENCH_RECV);
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
                die(BENCH_RECV);
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
                                 last_error());
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

/* The whole program: sets up the role, says "ready", then answers commands until "quit". */
static int bench_main(int argc, char **argv)
{
    struct bench bn;
    char line[256];
    if (argc < 3) {
        fprintf(stderr, "usage: " BENCH_NAME " ROLE ADDRESS [NSUBS BURST]\n");
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
