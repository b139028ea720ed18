/*
    The chunk cache (patch 0029) under AddressSanitizer, two checks that
    `make replay` runs on the sanitizer build:

        cache_check full   six 64 KiB messages held at once, then freed in a
                           row: the cache's four slots fill, the last two
                           frees find no slot.  Must exit 0.
        cache_check uaf    a 64 KiB message freed (into the cache), a new one
                           of the same size allocated (a hit), then a byte of
                           the freed one written.  Must be reported as a
                           heap-use-after-free: under ASan the cache never
                           hands out the same block twice.
*/

#include <stdio.h>
#include <string.h>

#include "nn.h"

int main (int argc, char **argv)
{
    void *m [6];
    volatile char *stale;
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
    if (argc == 2 && strcmp (argv [1], "uaf") == 0) {
        stale = nn_allocmsg (65536, 0);
        nn_freemsg ((void*) stale);
        m [0] = nn_allocmsg (65536, 0);
        stale [100] = 'x';
        puts ("uaf: the write through a freed message went unreported");
        nn_freemsg (m [0]);
        return 1;
    }
    fprintf (stderr, "usage: cache_check full|uaf\n");
    return 2;
}
