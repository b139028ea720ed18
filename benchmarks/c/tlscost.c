/*  What a large message costs over tls+tcp:// against tcp://: PUSH (a child process) ->
    PULL (this one) of COUNT messages of SIZE bytes after 20 unmeasured ones, over ADDR.
    Prints the time a message takes and each side's CPU time a message, with each thread's
    share (the library's worker thread does part of the work):

        tlscost ADDR COUNT SIZE [CERT KEY]

    CERT and KEY (PEM files) are the listener's, for a tls+tcp:// ADDR; the connecting side
    checks nothing (NN_TLS_VERIFY 0). Built and run by tlscost.sh.  */

#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/tls.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 20

static double now (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/*  This process's CPU time (user, system), seconds. */
static void cpu (double *user, double *sys)
{
    struct rusage r;
    getrusage (RUSAGE_SELF, &r);
    *user = r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6;
    *sys = r.ru_stime.tv_sec + r.ru_stime.tv_usec * 1e-6;
}

/*  Appends each thread's CPU time (ms, user+system, since it started) to out. */
static void threads (char *out, size_t cap)
{
    DIR *d;
    struct dirent *e;
    size_t o = strlen (out);

    d = opendir ("/proc/self/task");
    if (!d)
        return;
    o += snprintf (out + o, cap - o, " threads(ms user+sys):");
    while ((e = readdir (d)) && o < cap) {
        char path [300], buf [1024], *p;
        unsigned long ut, st;
        size_t n;
        FILE *f;
        if (e->d_name [0] == '.')
            continue;
        snprintf (path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        f = fopen (path, "r");
        if (!f)
            continue;
        n = fread (buf, 1, sizeof buf - 1, f);
        fclose (f);
        buf [n] = 0;
        p = strrchr (buf, ')');
        if (!p || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
              &ut, &st) != 2)
            continue;
        o += snprintf (out + o, cap - o, " %lu+%lu", ut * 1000 / sysconf (_SC_CLK_TCK),
            st * 1000 / sysconf (_SC_CLK_TCK));
    }
    closedir (d);
}

static void fail (const char *what)
{
    fprintf (stderr, "tlscost: %s: %s\n", what, nn_strerror (nn_errno ()));
    exit (1);
}

int main (int argc, char **argv)
{
    const char *addr;
    int count, tls, s, i, pipefd [2], done [2], m;
    size_t size;
    pid_t pid;
    double u0 = 0, s0 = 0, t0 = 0, u1, s1, t;
    char line [2048];
    ssize_t l;

    if (argc < 4) {
        fprintf (stderr, "usage: tlscost ADDR COUNT SIZE [CERT KEY]\n");
        return 2;
    }
    addr = argv [1];
    count = atoi (argv [2]);
    size = strtoul (argv [3], NULL, 0);
    tls = strncmp (addr, "tls+", 4) == 0;
    if (tls && argc < 6) {
        fprintf (stderr, "tlscost: a tls+tcp:// address needs CERT and KEY\n");
        return 2;
    }
    if (pipe (pipefd) != 0 || pipe (done) != 0)
        return 1;
    pid = fork ();
    if (pid == 0) {
        char *buf;
        char c;
        int verify = 0;
        close (done [1]);
        s = nn_socket (AF_SP, NN_PUSH);
        if (tls && nn_setsockopt (s, NN_TLS, NN_TLS_VERIFY, &verify, sizeof verify) < 0)
            fail ("NN_TLS_VERIFY");
        if (nn_connect (s, addr) < 0)
            fail ("nn_connect");
        buf = malloc (size);
        memset (buf, 7, size);
        for (i = 0; i != count + WARMUP; ++i) {
            if (i == WARMUP) {
                cpu (&u0, &s0);
                t0 = now ();
            }
            if (nn_send (s, buf, size, 0) != (int) size)
                fail ("nn_send");
        }
        cpu (&u1, &s1);
        t = now () - t0;
        snprintf (line, sizeof line, "sender   %8.1f us/msg  cpu %7.1f us/msg (user %6.1f)",
            t * 1e6 / count, (u1 - u0 + s1 - s0) * 1e6 / count, (u1 - u0) * 1e6 / count);
        threads (line, sizeof line - 1);
        strcat (line, "\n");
        if (write (pipefd [1], line, strlen (line)) < 0)
            return 1;
        /*  The last messages may still be on their way: the receiver says when they
            came (it closes the pipe), and the process ends normally (tlscopies.so reports
            at exit). */
        if (read (done [0], &c, 1) < 0)
            return 1;
        nn_close (s);
        return 0;
    }
    close (done [0]);
    s = nn_socket (AF_SP, NN_PULL);
    m = -1;
    nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &m, sizeof m);
    if (tls) {
        if (nn_setsockopt (s, NN_TLS, NN_TLS_CERT_FILE, argv [4], strlen (argv [4])) < 0 ||
              nn_setsockopt (s, NN_TLS, NN_TLS_KEY_FILE, argv [5], strlen (argv [5])) < 0)
            fail ("NN_TLS_CERT_FILE/NN_TLS_KEY_FILE");
    }
    if (nn_bind (s, addr) < 0)
        fail ("nn_bind");
    for (i = 0; i != count + WARMUP; ++i) {
        void *msg;
        if (i == WARMUP) {
            cpu (&u0, &s0);
            t0 = now ();
        }
        if (nn_recv (s, &msg, NN_MSG, 0) != (int) size)
            fail ("nn_recv");
        nn_freemsg (msg);
    }
    cpu (&u1, &s1);
    t = now () - t0;
    snprintf (line, sizeof line, "%s %zu B: %.0f msg/s\nreceiver %8.1f us/msg  cpu %7.1f "
        "us/msg (user %6.1f)", addr, size, count / t, t * 1e6 / count,
        (u1 - u0 + s1 - s0) * 1e6 / count, (u1 - u0) * 1e6 / count);
    threads (line, sizeof line - 1);
    puts (line);
    l = read (pipefd [0], line, sizeof line - 1);
    if (l > 0)
        fwrite (line, 1, (size_t) l, stdout);
    close (done [1]);
    waitpid (pid, NULL, 0);
    nn_close (s);
    return 0;
}
