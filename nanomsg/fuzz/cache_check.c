/*
    The chunk caches (patches 0029, 0076) under AddressSanitizer, checks that
    `make replay` runs on the sanitizer build:

        cache_check full        six 64 KiB messages held at once, then freed in
                                a row: the cache's four slots fill, the last
                                two frees find no slot.  Must exit 0.
        cache_check uaf N       a message of N bytes freed (into a cache), a
                                new one of the same size allocated (a hit),
                                then a byte of the freed one written.  Must be
                                reported as a heap-use-after-free: under ASan
                                a cache never hands out the same block twice.
        cache_check overread N  the byte after a message of N bytes (from
                                nn_allocmsg) read.  Must be reported (0078):
                                the rest of a block that a cache rounded up is
                                poisoned.
        cache_check overcopy N  the same, for nn_send's copy of N bytes,
                                received as it is (NN_MSG) over inproc: the
                                room a copy leaves after its data (0070).
*/

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "pair.h"

/*  nn_send's copy of n bytes, as an inproc peer receives it; NULL on error.  */
static char *sent_copy (size_t n)
{
    void *m = NULL;
    char *buf = calloc (1, n);
    int a = nn_socket (AF_SP, NN_PAIR);
    int b = nn_socket (AF_SP, NN_PAIR);

    if (buf && a >= 0 && b >= 0 && nn_bind (a, "inproc://cache-check") >= 0 &&
          nn_connect (b, "inproc://cache-check") >= 0 &&
          nn_send (b, buf, n, 0) == (int) n && nn_recv (a, &m, NN_MSG, 0) == (int) n) {
        free (buf);
        return m;
    }
    free (buf);
    return NULL;
}

int main (int argc, char **argv)
{
    void *m [6];
    volatile char *stale;
    volatile char *msg;
    size_t n;
    int i;

    if (argc == 2 && strcmp (argv [1], "full") == 0) {
        for (i = 0; i != 6; i++)
            if (!(m [i] = nn_allocmsg (65536, 0)))
                return 2;
        for (i = 0; i != 6; i++)
            nn_freemsg (m [i]);
        puts ("full: six large messages freed in a row");
        return 0;
    }
    n = argc == 3 ? (size_t) strtoul (argv [2], NULL, 10) : 0;
    if (n != 0 && strcmp (argv [1], "uaf") == 0) {
        stale = nn_allocmsg (n, 0);
        nn_freemsg ((void*) stale);
        m [0] = nn_allocmsg (n, 0);
        stale [n / 2] = 'x';
        printf ("uaf: the write through a freed message of %zu bytes went unreported\n", n);
        nn_freemsg (m [0]);
        return 1;
    }
    if (n != 0 && (strcmp (argv [1], "overread") == 0 ||
          strcmp (argv [1], "overcopy") == 0)) {
        msg = strcmp (argv [1], "overread") == 0 ? nn_allocmsg (n, 0) : sent_copy (n);
        if (!msg)
            return 2;
        printf ("%s: the byte after a message of %zu bytes, %d, read unreported\n",
            argv [1], n, msg [n]);
        nn_freemsg ((void*) msg);
        return 1;
    }
    fprintf (stderr, "usage: cache_check full | uaf N | overread N | overcopy N\n");
    return 2;
}
