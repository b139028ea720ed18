/*  Stress and semantics tests of the lazy readiness fds (patch 0035): a waiter never misses a
    wake-up, whoever it is (a thread blocked in nn_recv/nn_send, a poller registered with
    NN_POLL_ENTER, nn_poll), and close wakes them all. Every wait is bounded: a waiter that
    sleeps WAIT_MS while it should not is a failure ("hung"), never a hang of the test.

        lazyfd SCENARIO [COUNT]     (lazyfd with no argument lists the scenarios)

    Exit status 0 when the scenario holds, 1 when it does not, 2 on a setup error. Built on
    the hardened library only (it uses the extension's options):

        gcc -O2 -o lazyfd nanomsg/tests/lazyfd.c $(nanomsg/link-flags)

    tests/test_lazy_fds.py runs every scenario. */

#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <nanomsg/pipeline.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  How long a waiter may sleep before it counts as hung.  */
#define WAIT_MS 10000

static void die (const char *what)
{
    fprintf (stderr, "lazyfd: %s: %s\n", what, nn_strerror (nn_errno ()));
    exit (2);
}

static int failed (const char *what)
{
    fprintf (stderr, "lazyfd: %s: FAILED\n", what);
    return 1;
}

static int sock (int protocol, int buf)
{
    int s = nn_socket (AF_SP, protocol), to = WAIT_MS;
    if (s < 0)
        die ("nn_socket");
    nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVTIMEO, &to, sizeof to);
    nn_setsockopt (s, NN_SOL_SOCKET, NN_SNDTIMEO, &to, sizeof to);
    if (buf > 0) {
        nn_setsockopt (s, NN_SOL_SOCKET, NN_SNDBUF, &buf, sizeof buf);
        nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVBUF, &buf, sizeof buf);
    }
    return s;
}

static int lazy_fd (int s, int option)
{
    int fd;
    size_t sz = sizeof fd;
    if (nn_getsockopt (s, NN_SOL_SOCKET, option, &fd, &sz) < 0)
        die ("nn_getsockopt (lazy fd)");
    return fd;
}

static void waiting (int s, int option, int events)
{
    if (nn_setsockopt (s, NN_SOL_SOCKET, option, &events, sizeof events) < 0)
        die (option == NN_POLL_ENTER ? "NN_POLL_ENTER" : "NN_POLL_LEAVE");
}

/*  1 if fd polls readable within ms, else 0.  */
static int readable (int fd, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    int rc;
    do
        rc = poll (&p, 1, ms);
    while (rc < 0 && errno == EINTR);
    return rc > 0;
}

/*  The messages: an 8-byte sequence number; END says "no more".  */
#define END UINT64_MAX

/*  One run: a producer thread sends count numbered messages to the consumer socket's peer,
    consumers take them; received counts every message taken, by anybody.  */
struct run {
    int tx;                 /*  the producer's socket  */
    int rx;                 /*  the consumers' socket  */
    long count;
    int send_mode;          /*  0: blocking nn_send; 1: as a poller on NN_SNDFD_LAZY  */
    atomic_long received;
    atomic_int thief_done;
    atomic_int hung;
};

/*  Sends one message, blocking or as a poller; 0 when sent.  */
static int put (struct run *r, uint64_t v)
{
    if (r->send_mode == 0) {
        if (nn_send (r->tx, &v, sizeof v, 0) == (int) sizeof v)
            return 0;
        if (nn_errno () == ETIMEDOUT)
            r->hung = 1;
        return -1;
    }
    int fd = lazy_fd (r->tx, NN_SNDFD_LAZY);
    for (;;) {
        if (nn_send (r->tx, &v, sizeof v, NN_DONTWAIT) == (int) sizeof v)
            return 0;
        if (nn_errno () != EAGAIN)
            return -1;
        waiting (r->tx, NN_POLL_ENTER, NN_POLLOUT);
        int ok = readable (fd, WAIT_MS);
        waiting (r->tx, NN_POLL_LEAVE, NN_POLLOUT);
        if (!ok) {
            r->hung = 1;
            return -1;
        }
    }
}

static void *producer (void *arg)
{
    struct run *r = arg;
    long i;
    for (i = 0; i < r->count; i++)
        if (put (r, (uint64_t) i) != 0)
            return NULL;
    return NULL;
}

/*  Takes messages with NN_DONTWAIT now and then, from under the poller.  */
static void *thief (void *arg)
{
    struct run *r = arg;
    uint64_t v;
    while (r->received < r->count && !r->hung) {
        if (nn_recv (r->rx, &v, sizeof v, NN_DONTWAIT) == (int) sizeof v && v != END)
            r->received++;
        else
            sched_yield ();
    }
    r->thief_done = 1;
    return NULL;
}

/*  Once every message is taken and the thief is gone: one END, so that a waiter asleep on a
    socket whose last message the thief took wakes and ends.  */
static void *ender (void *arg)
{
    struct run *r = arg;
    while ((r->received < r->count || !r->thief_done) && !r->hung)
        usleep (1000);
    if (!r->hung)
        put (r, END);
    return NULL;
}

enum how { BLOCKING, POLLER, NNPOLL };

/*  The consumer: takes messages until END (or all of them, with no thief), waiting as `how`
    says; checks their order when it is the only consumer. 0 when nothing hung.  */
static int consume (struct run *r, enum how how, int thief_too)
{
    uint64_t v, next = 0;
    int fd = how == POLLER ? lazy_fd (r->rx, NN_RCVFD_LAZY) : -1;
    for (;;) {
        if (!thief_too && r->received == r->count)
            return 0;
        int rc = nn_recv (r->rx, &v, sizeof v, how == BLOCKING ? 0 : NN_DONTWAIT);
        if (rc == (int) sizeof v) {
            if (v == END)
                return 0;
            if (!thief_too && v != next) {
                fprintf (stderr, "lazyfd: message %llu where %llu was due\n",
                    (unsigned long long) v, (unsigned long long) next);
                return 1;
            }
            next = v + 1;
            r->received++;
            continue;
        }
        if (nn_errno () == ETIMEDOUT) {
            r->hung = 1;
            return failed ("nn_recv slept RCVTIMEO with messages due");
        }
        if (nn_errno () != EAGAIN)
            die ("nn_recv");
        int woke;
        if (how == POLLER) {
            waiting (r->rx, NN_POLL_ENTER, NN_POLLIN);
            woke = readable (fd, WAIT_MS);
            waiting (r->rx, NN_POLL_LEAVE, NN_POLLIN);
        } else {
            struct nn_pollfd p = { r->rx, NN_POLLIN, 0 };
            woke = nn_poll (&p, 1, WAIT_MS);
            if (woke < 0)
                die ("nn_poll");
        }
        if (!woke) {
            r->hung = 1;
            return failed ("a poller slept 10 s with messages due");
        }
    }
}

static int stress (const char *addr, int protocol_tx, int protocol_rx, long count,
    enum how how, int send_mode, int thief_too, int buf)
{
    struct run r;
    pthread_t tp, tt, te;
    int rc;
    memset (&r, 0, sizeof r);
    r.rx = sock (protocol_rx, buf);
    r.tx = sock (protocol_tx, buf);
    r.count = count;
    r.send_mode = send_mode;
    if (nn_bind (r.rx, addr) < 0 || nn_connect (r.tx, addr) < 0)
        die ("nn_bind/nn_connect");
    pthread_create (&tp, NULL, producer, &r);
    if (thief_too) {
        pthread_create (&tt, NULL, thief, &r);
        pthread_create (&te, NULL, ender, &r);
    }
    rc = consume (&r, how, thief_too);
    pthread_join (tp, NULL);
    if (thief_too) {
        pthread_join (tt, NULL);
        pthread_join (te, NULL);
    }
    nn_close (r.tx);
    nn_close (r.rx);
    if (r.hung)
        return rc ? rc : failed ("a waiter hung");
    if (r.received != count) {
        fprintf (stderr, "lazyfd: %ld of %ld messages received: FAILED\n",
            (long) r.received, count);
        return 1;
    }
    return rc;
}

static long count = 1000000;

/*  nn_recv and nn_send blocking in the library, inproc, buffers of one message: both sides
    wait, in turn, about once a message.  */
static int blocking (void)
{
    return stress ("inproc://blocking", NN_PAIR, NN_PAIR, count, BLOCKING, 0, 0, 8);
}

/*  A poller as nanomsg-rs waits (NN_DONTWAIT, NN_POLL_ENTER, poll, NN_POLL_LEAVE) on both
    sides, with a thief taking messages from under it.  */
static int poller (void)
{
    return stress ("inproc://poller", NN_PAIR, NN_PAIR, count, POLLER, 1, 1, 8);
}

/*  nn_poll as the receiver's wait, with a thief; the sender blocks in the library.  */
static int nnpoll (void)
{
    return stress ("inproc://nnpoll", NN_PAIR, NN_PAIR, count, NNPOLL, 0, 1, 8);
}

/*  Over ipc, where the worker thread is who makes the socket readable: PUSH to PULL, a
    poller on both sides.  */
static int ipc (void)
{
    char addr [64];
    snprintf (addr, sizeof addr, "ipc:///tmp/nnrs-lazyfd-%d", (int) getpid ());
    int rc = stress (addr, NN_PUSH, NN_PULL, count / 5, POLLER, 1, 0, 0);
    unlink (addr + 6);
    return rc;
}

/*  Close wakes every waiter: a thread blocked in nn_recv, and a poller registered on the lazy
    fd; both within WAIT_MS.  */
struct closing { int s; int rc; };

static void *blocked_recv (void *arg)
{
    struct closing *c = arg;
    char buf [8];
    c->rc = nn_recv (c->s, buf, sizeof buf, 0) < 0 && nn_errno () == EBADF ? 0 : 1;
    return NULL;
}

static int close_wakes (void)
{
    struct closing c;
    pthread_t t;
    int fd;
    c.s = sock (NN_PAIR, 0);
    c.rc = 1;
    if (nn_bind (c.s, "inproc://close") < 0)
        die ("nn_bind");
    fd = lazy_fd (c.s, NN_RCVFD_LAZY);
    waiting (c.s, NN_POLL_ENTER, NN_POLLIN);
    pthread_create (&t, NULL, blocked_recv, &c);
    usleep (100000);
    if (readable (fd, 0))
        return failed ("the lazy fd is signalled with nothing to receive");
    nn_close (c.s);
    if (!readable (fd, WAIT_MS))
        return failed ("close left the registered poller asleep");
    pthread_join (t, NULL);
    if (c.rc != 0)
        return failed ("close left nn_recv blocked, or it did not end with EBADF");
    return 0;
}

/*  What the options do: a lazy fd is signalled only while a waiter is counted in, and stays
    signalled until the socket is no longer ready; the plain NN_RCVFD tracks readiness for
    good once asked for; bad uses fail.  */
static int semantics (void)
{
    int a = sock (NN_PAIR, 0), b = sock (NN_PAIR, 0), push = sock (NN_PUSH, 0);
    int fd, plain, events, rc = 0;
    size_t sz = sizeof plain;
    char buf [8];
    if (nn_bind (a, "inproc://semantics") < 0 || nn_connect (b, "inproc://semantics") < 0)
        die ("nn_bind/nn_connect");
    fd = lazy_fd (b, NN_RCVFD_LAZY);
    if (nn_send (a, "one", 3, 0) != 3)
        die ("nn_send");
    if (readable (fd, 0))
        rc |= failed ("a lazy fd signalled with no waiter");
    waiting (b, NN_POLL_ENTER, NN_POLLIN);
    if (!readable (fd, 0))
        rc |= failed ("a lazy fd not signalled when a waiter came to a readable socket");
    waiting (b, NN_POLL_LEAVE, NN_POLLIN);
    if (!readable (fd, 0))
        rc |= failed ("a lazy fd unsignalled while the socket is still readable");
    if (nn_recv (b, buf, sizeof buf, 0) != 3)
        die ("nn_recv");
    if (readable (fd, 0))
        rc |= failed ("a lazy fd still signalled after the last message went");
    if (nn_send (a, "two", 3, 0) != 3)
        die ("nn_send");
    if (readable (fd, 0))
        rc |= failed ("a lazy fd signalled with no waiter (twice)");
    waiting (b, NN_POLL_ENTER, NN_POLLIN | NN_POLLOUT);
    if (!readable (fd, 0) || !readable (lazy_fd (b, NN_SNDFD_LAZY), 0))
        rc |= failed ("NN_POLL_ENTER of both directions");
    waiting (b, NN_POLL_LEAVE, NN_POLLIN | NN_POLLOUT);
    if (nn_recv (b, buf, sizeof buf, 0) != 3)
        die ("nn_recv");
    if (nn_getsockopt (b, NN_SOL_SOCKET, NN_RCVFD, &plain, &sz) < 0 || plain != fd)
        rc |= failed ("NN_RCVFD is not the fd NN_RCVFD_LAZY gave");
    if (nn_send (a, "three", 5, 0) != 5)
        die ("nn_send");
    if (!readable (plain, 0))
        rc |= failed ("the plain NN_RCVFD not signalled for a message, with no waiter");
    nn_recv (b, buf, sizeof buf, 0);
    if (readable (plain, 0))
        rc |= failed ("the plain NN_RCVFD still signalled with nothing to receive");

    events = NN_POLLIN;
    if (nn_setsockopt (a, NN_SOL_SOCKET, NN_POLL_LEAVE, &events, sizeof events) == 0 ||
          nn_errno () != EINVAL)
        rc |= failed ("NN_POLL_LEAVE without NN_POLL_ENTER is not EINVAL");
    events = 4;
    if (nn_setsockopt (a, NN_SOL_SOCKET, NN_POLL_ENTER, &events, sizeof events) == 0 ||
          nn_errno () != EINVAL)
        rc |= failed ("NN_POLL_ENTER of an unknown event is not EINVAL");
    events = NN_POLLIN;
    if (nn_setsockopt (push, NN_SOL_SOCKET, NN_POLL_ENTER, &events, sizeof events) == 0 ||
          nn_errno () != ENOPROTOOPT)
        rc |= failed ("NN_POLL_ENTER of NN_POLLIN on a PUSH is not ENOPROTOOPT");
    if (nn_getsockopt (push, NN_SOL_SOCKET, NN_RCVFD_LAZY, &plain, &sz) == 0 ||
          nn_errno () != ENOPROTOOPT)
        rc |= failed ("NN_RCVFD_LAZY of a PUSH is not ENOPROTOOPT");
    nn_close (push);
    nn_close (b);
    nn_close (a);
    return rc;
}

static const struct { const char *name; int (*run) (void); const char *what; } CASES [] = {
    { "blocking", blocking, "inproc PAIR, both sides blocking in the library" },
    { "poller", poller, "inproc PAIR, pollers on both sides, a thief" },
    { "nnpoll", nnpoll, "inproc PAIR, nn_poll, a thief" },
    { "ipc", ipc, "ipc PUSH/PULL, pollers on both sides (COUNT/5 messages)" },
    { "close", close_wakes, "close wakes nn_recv and a registered poller" },
    { "semantics", semantics, "what NN_*FD_LAZY and NN_POLL_ENTER/LEAVE do" },
};

int main (int argc, char **argv)
{
    size_t i;
    if (argc == 3)
        count = atol (argv [2]);
    if (argc == 2 || argc == 3)
        for (i = 0; i < sizeof CASES / sizeof CASES [0]; i++)
            if (strcmp (argv [1], CASES [i].name) == 0) {
                int rc = CASES [i].run ();
                printf ("%s: %s\n", CASES [i].name, rc == 0 ? "passed" : "FAILED");
                return rc;
            }
    for (i = 0; i < sizeof CASES / sizeof CASES [0]; i++)
        printf ("%-10s %s\n", CASES [i].name, CASES [i].what);
    return argc == 1 ? 0 : 2;
}
