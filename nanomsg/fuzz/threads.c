/*
    Calls racing closes, on the sanitizer build (make -C nanomsg/fuzz threads; replay runs it
    too). Three threads close a random socket number of 0-15, open a socket of a random
    protocol and bind or connect it to one of five addresses (inproc, ipc, tcp, ws), over and
    over; four threads meanwhile call nn_send, nn_recv, nn_getsockopt, nn_setsockopt (a
    socket option, a SUB's subscription) and nn_shutdown on random numbers of 0-15, whatever
    socket they name by then. Every call may fail (EBADF, EAGAIN, EADDRINUSE...): what must
    not happen is an abort, a sanitizer report, or a hang (the threads must stop when told).
    It found 0073 (an inproc connect on a socket being closed: a heap use after free) and
    0074 (an inproc connector's statistic: sock.c:1085), both in seconds.

        threads [SECONDS]     default 20; exit status 0 when it survived
*/

#include "nn.h"
#include "bus.h"
#include "pair.h"
#include "pipeline.h"
#include "pubsub.h"
#include "reqrep.h"
#include "survey.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NUMBERS 16

static volatile int stop;

static const int protocols [] = { NN_PAIR, NN_BUS, NN_PUB, NN_SUB, NN_REQ, NN_REP,
    NN_PUSH, NN_PULL, NN_SURVEYOR, NN_RESPONDENT };
static char addrs [5][128];

static void *user (void *arg)
{
    unsigned seed = (unsigned) (long) arg;
    char buf [64];
    size_t sz;
    int v;
    while (!stop) {
        int s = rand_r (&seed) % NUMBERS;
        switch (rand_r (&seed) % 6) {
        case 0:
            sz = sizeof v;
            (void) nn_getsockopt (s, NN_SOL_SOCKET, NN_RCVBUF, &v, &sz);
            break;
        case 1:
            (void) nn_send (s, "xyz", 3, NN_DONTWAIT);
            break;
        case 2:
            (void) nn_recv (s, buf, sizeof buf, NN_DONTWAIT);
            break;
        case 3:
            (void) nn_setsockopt (s, NN_SUB, NN_SUB_SUBSCRIBE, "", 0);
            break;
        case 4:
            v = 10;
            (void) nn_setsockopt (s, NN_SOL_SOCKET, NN_RECONNECT_IVL, &v, sizeof v);
            break;
        default:
            (void) nn_shutdown (s, rand_r (&seed) % 3);
            break;
        }
    }
    return NULL;
}

static void *churn (void *arg)
{
    unsigned seed = (unsigned) (long) arg;
    while (!stop) {
        int n;
        const char *addr;
        (void) nn_close (rand_r (&seed) % NUMBERS);
        n = nn_socket (AF_SP, protocols [rand_r (&seed) % 10]);
        if (n < 0) {
            fprintf (stderr, "threads: nn_socket: %s\n", nn_strerror (errno));
            abort ();
        }
        if (n >= NUMBERS) {
            nn_close (n);
            continue;
        }
        addr = addrs [rand_r (&seed) % 5];
        if (rand_r (&seed) % 2)
            (void) nn_bind (n, addr);
        else
            (void) nn_connect (n, addr);
    }
    return NULL;
}

static void hung (int sig)
{
    (void) sig;
    static const char msg [] = "threads: the threads did not stop within 60 s: a hang\n";
    if (write (2, msg, sizeof msg - 1) < 0) {}
    abort ();
}

int main (int argc, char **argv)
{
    int seconds = argc > 1 ? atoi (argv [1]) : 20, i, port = 20000 + getpid () % 20000;
    const char *tmp = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    pthread_t t [7];
    snprintf (addrs [0], sizeof addrs [0], "inproc://threads-a");
    snprintf (addrs [1], sizeof addrs [1], "inproc://threads-b");
    snprintf (addrs [2], sizeof addrs [2], "ipc://%s/nn-threads-%d.ipc", tmp, (int) getpid ());
    snprintf (addrs [3], sizeof addrs [3], "tcp://127.0.0.1:%d", port);
    snprintf (addrs [4], sizeof addrs [4], "ws://127.0.0.1:%d", port + 1);
    for (i = 0; i != 4; i++)
        pthread_create (&t [i], NULL, user, (void*) (long) (i + 1));
    for (i = 4; i != 7; i++)
        pthread_create (&t [i], NULL, churn, (void*) (long) (i * 7));
    sleep (seconds);
    signal (SIGALRM, hung);
    alarm (60);
    stop = 1;
    for (i = 0; i != 7; i++)
        pthread_join (t [i], NULL);
    nn_term ();
    alarm (0);
    printf ("threads: %d s of calls racing closes, survived\n", seconds);
    return 0;
}
