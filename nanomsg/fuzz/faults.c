/*  Fault injection: the library's resource failures, one call at a time, as SQLite tests its
    allocation failures. faults.py runs this program once per k, for every k until a run
    injects nothing.

    The library linked here is the sanitizer build with its calls to malloc, realloc,
    eventfd, socket, accept4, accept, epoll_create1, epoll_ctl and pthread_create renamed
    to nnfault_* (objcopy --redefine-sym, see the Makefile's faults target): only the
    library's own calls go through the wrappers below, never libc's or the sanitizers'.
    A wrapper counts the calls of the kinds chosen and fails the k-th as the system does
    when it runs out (NULL and ENOMEM for memory, EMFILE for a descriptor, ENOMEM for
    an epoll watch, EAGAIN for a thread):

        NNFAULT_KINDS=malloc,eventfd   the kinds counted (see KINDS below; "fd" is every
                                       call that makes a descriptor)
        NNFAULT_AT=k                   the call that fails (1: the first)
        NNFAULT_MODE=once|persist      only that call, or that one and every later one
                                       (out of descriptors or memory for good) until the
                                       first pass ends

    The scenario, twice: a socket of every type (sp and raw) made and closed; a PAIR socket
    bound and one connected, a message of 200 bytes each way, both closed, over each
    transport in turn: ipc, tcp, inproc, ws, and tcp again connecting to "localhost" (the
    name resolved: the dns path); over inproc also a burst of 130 short messages sent
    before any is received (the queue grows by a chunk), all of which must arrive. The library stops when the last socket closes, and starts
    again with the next. Faults are injected during the first pass only; then
    nn_term. Each call either works or fails with an error that says the system ran out
    (EMFILE, ENFILE, ENOMEM, ENOBUFS, ENOSPC, EAGAIN; ETIMEDOUT for a message that did not
    come); when every call of a transport's round worked, its messages must get through,
    failures inside the worker thread included (the library retries them), except in
    persist mode, where what was lost stays lost; and the second pass, with nothing
    failing any more, must work entirely: the library is usable again. Anything else,
    an abort, a sanitizer report, a leak (LeakSanitizer at exit) or a hang (faults.py's
    timeout) is a finding.

    The last line says what happened, for faults.py:
        faults: calls=N injected=M at FUNCTION FILE:LINE < CALLER ... */

#define _GNU_SOURCE
#include <nn.h>
#include <bus.h>
#include <pair.h>
#include <pipeline.h>
#include <pubsub.h>
#include <reqrep.h>
#include <survey.h>

#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*  The sanitizer runtime's: a program counter as "in FUNCTION FILE:LINE:COLUMN".  */
void __sanitizer_symbolize_pc (void *pc, const char *fmt, char *out, size_t size);
void __sanitizer_print_stack_trace (void);

/*  --- the wrappers ----------------------------------------------------------------------  */

enum { K_MALLOC = 1, K_EVENTFD = 2, K_SOCKET = 4, K_ACCEPT = 8, K_EPOLL_CREATE = 16,
       K_EPOLL_CTL = 32, K_THREAD = 64 };

static const struct { const char *name; int mask; } KINDS [] = {
    { "malloc", K_MALLOC },                 /*  malloc, realloc (nn_alloc, nn_realloc)  */
    { "eventfd", K_EVENTFD },
    { "socket", K_SOCKET },
    { "accept", K_ACCEPT },                 /*  accept4, accept  */
    { "epoll_create", K_EPOLL_CREATE },
    { "epoll_ctl", K_EPOLL_CTL },           /*  EPOLL_CTL_ADD: MOD and DEL need no memory  */
    { "thread", K_THREAD },                 /*  pthread_create  */
    { "fd", K_EVENTFD | K_SOCKET | K_ACCEPT | K_EPOLL_CREATE },
};

static int kinds;
static long at;
static int persist;
static volatile int armed;
static long calls;                  /*  atomics: the worker thread counts too  */
static long injected;
#define DEPTH 12
static void *site [DEPTH];
static int site_depth;

static int inject (int kind)
{
    long n;
    if (!(kinds & kind) || !__atomic_load_n (&armed, __ATOMIC_SEQ_CST))
        return 0;
    n = __atomic_add_fetch (&calls, 1, __ATOMIC_SEQ_CST);
    if (n == at || (persist && n > at)) {
        if (__atomic_add_fetch (&injected, 1, __ATOMIC_SEQ_CST) == 1) {
            /*  For a run that dies or hangs: where it was injected.  */
            site_depth = backtrace (site, DEPTH);
            fprintf (stderr, "faults: call %ld fails here:\n", n);
            __sanitizer_print_stack_trace ();
        }
        return 1;
    }
    return 0;
}

void *nnfault_malloc (size_t size)
{
    if (inject (K_MALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return malloc (size);
}

void *nnfault_realloc (void *ptr, size_t size)
{
    if (inject (K_MALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc (ptr, size);
}

int nnfault_eventfd (unsigned int initval, int flags)
{
    if (inject (K_EVENTFD)) {
        errno = EMFILE;
        return -1;
    }
    return eventfd (initval, flags);
}

int nnfault_socket (int domain, int type, int protocol)
{
    if (inject (K_SOCKET)) {
        errno = EMFILE;
        return -1;
    }
    return socket (domain, type, protocol);
}

int nnfault_accept4 (int s, struct sockaddr *addr, socklen_t *len, int flags)
{
    if (inject (K_ACCEPT)) {
        errno = EMFILE;
        return -1;
    }
    return accept4 (s, addr, len, flags);
}

int nnfault_accept (int s, struct sockaddr *addr, socklen_t *len)
{
    if (inject (K_ACCEPT)) {
        errno = EMFILE;
        return -1;
    }
    return accept (s, addr, len);
}

int nnfault_epoll_create1 (int flags)
{
    if (inject (K_EPOLL_CREATE)) {
        errno = EMFILE;
        return -1;
    }
    return epoll_create1 (flags);
}

int nnfault_epoll_ctl (int ep, int op, int fd, struct epoll_event *ev)
{
    if (op == EPOLL_CTL_ADD && inject (K_EPOLL_CTL)) {
        errno = ENOMEM;
        return -1;
    }
    return epoll_ctl (ep, op, fd, ev);
}

int nnfault_pthread_create (pthread_t *t, const pthread_attr_t *attr, void *(*fn) (void*),
    void *arg)
{
    if (inject (K_THREAD))
        return EAGAIN;
    return pthread_create (t, attr, fn, arg);
}

/*  --- the scenario ----------------------------------------------------------------------  */

static int pass;                    /*  1: faults armed; 2: none  */
static int lenient;                 /*  this round met a fault: its messages may be lost  */
static char ipc_path [256];

static void fail (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "faults: FAILED (pass %d): ", pass);
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, "\n");
    va_end (ap);
    exit (1);
}

/*  An error that says the system ran out of something: a fault's clean result.  */
static int out_of_something (int err)
{
    return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS ||
        err == ENOSPC || err == EAGAIN;
}

/*  rc of a call that must work, or fail cleanly in the first pass: 0 if it failed.  */
static int worked (int rc, const char *call)
{
    int err;
    if (rc >= 0)
        return 1;
    err = nn_errno ();
    if (pass == 2)
        fail ("%s: %s, with nothing failing any more", call, nn_strerror (err));
    if (!out_of_something (err))
        fail ("%s: %s (%d), not an out-of-resources error", call, nn_strerror (err), err);
    lenient = 1;
    return 0;
}

static double now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*  A message from `from` to `to`, sent again every 20 ms until one arrives (one on its way
    when a connection breaks is lost, as nanomsg allows) or `seconds` pass: 1 if it came.
    200 bytes: too many to be kept inside the message's header, so that sending and
    receiving allocate.  */
static int exchange (int from, int to, double seconds)
{
    char msg [200], buf [256];
    int rc, err;
    double end = now () + seconds;
    memset (msg, 'm', sizeof msg);
    while (now () < end) {
        rc = nn_send (from, msg, sizeof msg, NN_DONTWAIT);
        if (rc < 0) {
            err = nn_errno ();
            if (err != EAGAIN && !(pass == 1 && out_of_something (err)))
                fail ("nn_send: %s (%d)", nn_strerror (err), err);
        }
        rc = nn_recv (to, buf, sizeof buf, 0);    /*  NN_RCVTIMEO: 20 ms  */
        if (rc == sizeof msg && memcmp (buf, msg, sizeof msg) == 0)
            return 1;
        if (rc >= 0)
            fail ("nn_recv: %d bytes, not the message", rc);
        err = nn_errno ();
        if (err != ETIMEDOUT && !(pass == 1 && out_of_something (err)))
            fail ("nn_recv: %s (%d)", nn_strerror (err), err);
    }
    return 0;
}

static int open_pair (void)
{
    int s, ms = 20, ivl = 10, ivl_max = 50;
    s = nn_socket (AF_SP, NN_PAIR);
    if (!worked (s, "nn_socket"))
        return -1;
    if (nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVTIMEO, &ms, sizeof ms) < 0 ||
          nn_setsockopt (s, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ivl, sizeof ivl) < 0 ||
          nn_setsockopt (s, NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max) < 0)
        fail ("nn_setsockopt: %s", nn_strerror (nn_errno ()));
    return s;
}

/*  BURST short messages (kept inside the message's header: no allocation of their own)
    from `from` to `to` without receiving, then received: more than a chunk of inproc's
    queue holds (126), so that the queue takes its next chunk. Whatever could be sent must
    arrive, in order, also when that chunk could not be had (the queue is full until a
    message is taken, and an empty queue needs no new chunk): nothing is lost or stuck.
    Every message must be sent when nothing failed.  */
#define BURST 130
static void burst (int from, int to)
{
    char buf [16];
    int sent, got, rc, err, ms = 1000;
    /*  A send waits until the pipe has passed the last message on: 1 s at most (a queue
        without its next chunk is full: the sender waits for a receive that comes after).  */
    if (nn_setsockopt (from, NN_SOL_SOCKET, NN_SNDTIMEO, &ms, sizeof ms) < 0)
        fail ("nn_setsockopt: %s", nn_strerror (nn_errno ()));
    for (sent = 0; sent < BURST; sent++) {
        snprintf (buf, sizeof buf, "burst %03d", sent);
        rc = nn_send (from, buf, strlen (buf), 0);
        if (rc < 0) {
            err = nn_errno ();
            if (err != ETIMEDOUT && !(pass == 1 && out_of_something (err)))
                fail ("nn_send: %s (%d)", nn_strerror (err), err);
            break;
        }
    }
    if (sent < BURST && !(pass == 1 && injected > 0))
        fail ("burst: %d of %d messages sent, though every call worked", sent, BURST);
    for (got = 0; ; got++) {
        rc = nn_recv (to, buf, sizeof buf - 1, 0);    /*  NN_RCVTIMEO: 20 ms  */
        if (rc < 0) {
            err = nn_errno ();
            if (err != ETIMEDOUT && !(pass == 1 && out_of_something (err)))
                fail ("nn_recv: %s (%d)", nn_strerror (err), err);
            break;
        }
        buf [rc] = 0;
        if (got >= sent || atoi (buf + 6) != got || strncmp (buf, "burst ", 6) != 0)
            fail ("burst: message %d is \"%s\"", got, buf);
    }
    if (got != sent)
        fail ("burst: %d of %d messages sent arrived", got, sent);
}

/*  A PAIR bound to `addr` and one connected to `to` (the same address but for the host's
    name), a message each way, both closed; with `queue`, a burst too (inproc).  */
static void round_trip (const char *addr, const char *to, int queue)
{
    int a, b = -1, ok;
    /*  persist: what failed stays failed (a connection that cannot be accepted again, a
        message that cannot be allocated): the round's messages may not come.  */
    double wait = pass == 1 && persist ? 0.3 : 5.0;
    lenient = 0;
    a = open_pair ();
    if (a < 0)
        return;
    if (!worked (nn_bind (a, addr), "nn_bind"))
        goto done;
    b = open_pair ();
    if (b < 0)
        goto done;
    if (!worked (nn_connect (b, to), "nn_connect"))
        goto done;
    ok = exchange (b, a, wait) && exchange (a, b, wait);
    if (!ok && !(pass == 1 && (persist || lenient) && injected > 0))
        fail ("%s: no message through in %.1f s, though every call worked", to, wait);
    if (ok && queue)
        burst (b, a);
done:
    if (b >= 0 && nn_close (b) != 0)
        fail ("nn_close: %s", nn_strerror (nn_errno ()));
    if (nn_close (a) != 0)
        fail ("nn_close: %s", nn_strerror (nn_errno ()));
}

/*  A socket of every type, made and closed: each protocol's own state.  */
static void every_type (void)
{
    static const int protocols [] = { NN_PAIR, NN_PUB, NN_SUB, NN_REQ, NN_REP, NN_PUSH,
        NN_PULL, NN_SURVEYOR, NN_RESPONDENT, NN_BUS };
    size_t i;
    int raw, s;
    for (raw = 0; raw < 2; raw++)
        for (i = 0; i < sizeof protocols / sizeof protocols [0]; i++) {
            s = nn_socket (raw ? AF_SP_RAW : AF_SP, protocols [i]);
            if (worked (s, "nn_socket") && nn_close (s) != 0)
                fail ("nn_close: %s", nn_strerror (nn_errno ()));
        }
}

static void scenario (void)
{
    char tcp [64], ws [64], named [64], by_name [64];
    /*  Below the kernel's ephemeral ports (32768 on): no outgoing connection has them.  */
    int port = 20000 + (int) (getpid () % 4000) * 3;
    snprintf (tcp, sizeof tcp, "tcp://127.0.0.1:%d", port);
    snprintf (ws, sizeof ws, "ws://127.0.0.1:%d", port + 1);
    snprintf (named, sizeof named, "tcp://127.0.0.1:%d", port + 2);
    snprintf (by_name, sizeof by_name, "tcp://localhost:%d", port + 2);
    every_type ();
    round_trip (ipc_path, ipc_path, 0);
    round_trip (tcp, tcp, 0);
    round_trip ("inproc://nnfault", "inproc://nnfault", 1);
    round_trip (ws, ws, 0);
    round_trip (named, by_name, 0);
}

static void report (void)
{
    char buf [512];
    const char *p;
    int i, shown = 0;
    printf ("faults: calls=%ld injected=%ld", calls, injected);
    if (injected > 0) {
        printf (" at");
        /*  The frames above the wrapper, from the first in the library on: where the call
            failed, and who made it.  */
        for (i = 1; i < site_depth && shown < 4; i++) {
            __sanitizer_symbolize_pc (site [i], "%F %S", buf, sizeof buf);
            if (strncmp (buf, "in ", 3) != 0 || !strstr (buf, "src/") ||
                  strstr (buf, "src/utils/alloc.c"))
                continue;
            p = strstr (buf, "src/");
            printf ("%s %.*s %s", shown ? " <" : "", (int) (strcspn (buf + 3, " ")),
                buf + 3, p);
            shown++;
        }
    }
    printf ("\n");
}

int main (void)
{
    const char *s;
    char *list, *word;
    size_t i;

    s = getenv ("NNFAULT_KINDS");
    list = strdup (s ? s : "");
    for (word = strtok (list, ","); word; word = strtok (NULL, ",")) {
        for (i = 0; i < sizeof KINDS / sizeof KINDS [0]; i++)
            if (strcmp (word, KINDS [i].name) == 0)
                break;
        if (i == sizeof KINDS / sizeof KINDS [0]) {
            fprintf (stderr, "faults: no such kind: %s\n", word);
            return 2;
        }
        kinds |= KINDS [i].mask;
    }
    free (list);
    s = getenv ("NNFAULT_AT");
    at = s ? atol (s) : 0;
    s = getenv ("NNFAULT_MODE");
    persist = s && strcmp (s, "persist") == 0;
    s = getenv ("NNFAULT_DIR");
    snprintf (ipc_path, sizeof ipc_path, "ipc://%s/nnfault-%d.ipc", s ? s : "/tmp",
        (int) getpid ());
    backtrace (site, 1);    /*  loads what backtrace needs, before any fault  */

    pass = 1;
    __atomic_store_n (&armed, 1, __ATOMIC_SEQ_CST);
    scenario ();
    __atomic_store_n (&armed, 0, __ATOMIC_SEQ_CST);
    pass = 2;
    scenario ();
    nn_term ();
    unlink (ipc_path + 6);
    report ();
    return 0;
}

const char *__asan_default_options (void)
{
    return "detect_leaks=1:handle_abort=1:abort_on_error=0:symbolize=1";
}

const char *__ubsan_default_options (void)
{
    return "print_stacktrace=1:halt_on_error=1";
}
