/*
 * holds.pml: the socket holds of our libnanomsg without the global lock
 * (the patch "socket-holds-without-the-global-lock", src/core/global.c),
 * checked with spin.
 *
 * One socket number's slot: its state word (open, closing, holds: one word,
 * changed by atomic operations only) and the socket in it (sock: 0 none,
 * else the socket's generation: the first socket, then the one that reuses
 * the number). The global mutex (locked) serialises nn_close and the
 * creation of sockets, as in the library.
 *
 *   holder   a thread's nn_send, nn_recv... on the number, HOLDS times:
 *            nn_global_hold_socket (load the word; when open and not
 *            closing, compare-and-swap it to one hold more, else EBADF),
 *            use the socket it read from the slot, nn_global_rele_socket
 *            (decrement the word; the release that leaves a closing slot
 *            with no holds posts the socket's relesem)
 *   closer   nn_close of the number, then nn_socket, which reuses it, then
 *            nn_close of that socket: under the mutex hold it, set closing,
 *            drop the hold; wait on relesem (nn_sock_term); under the mutex
 *            empty the slot and free the socket
 *
 * Checked: (1) no thread touches a freed socket: a holder uses the socket
 * it holds, and the release that posts touches it, only before it is freed
 * (assertions); (2) each close's relesem is posted exactly once (an
 * assertion at the post, and the closer's wait: a post that never comes is
 * a closer blocked for ever, an invalid end state); (3) no invalid end
 * state: every holder and the closer finish.
 *
 * -DBROKEN=N makes the protocol wrong on purpose (nanomsg/models/check):
 *   1  the hold checks the word, then adds its hold in a second step (no
 *      compare-and-swap): a hold slips in after the close's last release
 *   2  the release posts relesem when the holds reach 0, closing or not
 *   3  nn_close sets closing after it dropped its own hold: when no one
 *      else holds the socket, no release posts, and the close waits for ever
 */

#ifndef HOLDERS
#define HOLDERS 2
#endif
#ifndef HOLDS
#define HOLDS 2
#endif
#ifndef BROKEN
#define BROKEN 0
#endif

bool locked;        /* the global mutex */
bool open;          /* the slot's state word: OPEN ... */
bool closing;       /* ... CLOSING ... */
byte holds;         /* ... and the holds */
byte sock;          /* the socket in the slot (its generation), 0: none */
bool freed[3];      /* socket g was freed */
byte relesem[3];    /* socket g's relesem */
byte finished;          /* holders finished */

inline lock() { atomic { !locked -> locked = true } }
inline unlock() { locked = false }

/* nn_global_hold_socket: ok set when the hold was taken, g the socket */
inline hold(ok, g) {
    byte lh;
    bool lo, lc;
    ok = false;
    do
    :: atomic { lo = open; lc = closing; lh = holds }
       if
       :: !lo || lc -> break
       :: else ->
#if BROKEN == 1
          holds++; ok = true; break
#else
          atomic {
              if
              :: open == lo && closing == lc && holds == lh ->
                 holds++; ok = true
              :: else -> skip
              fi
          }
          if
          :: ok -> break
          :: else -> skip
          fi
#endif
       fi
    od;
    if
    :: ok -> g = sock   /* the slot's socket, read after the hold */
    :: else -> skip
    fi
}

/* nn_global_rele_socket of socket g */
inline rele(g) {
    atomic {
        holds--;
#if BROKEN == 2
        if
        :: holds == 0 -> assert(!freed[g]); relesem[g]++; assert(relesem[g] <= 1)
        :: else -> skip
        fi
#else
        if
        :: closing && holds == 0 ->
           assert(!freed[g]); relesem[g]++; assert(relesem[g] <= 1)
        :: else -> skip
        fi
#endif
    }
}

proctype holder() {
    byte n = 0, g;
    bool ok;
    do
    :: n < HOLDS ->
       hold(ok, g);
       if
       :: ok -> assert(g != 0 && !freed[g]);   /* nn_send... uses the socket */
                rele(g)
       :: else -> skip
       fi;
       n++
    :: else -> break
    od;
    finished++
}

/* nn_close of the number, whose socket is generation gen */
inline close(gen) {
    byte g;
    bool ok;
    lock();
    hold(ok, g);
    assert(ok && g == gen);
#if BROKEN == 3
    rele(g);
    closing = true;
#else
    closing = true;
    rele(g);
#endif
    unlock();
    atomic { relesem[g] > 0 -> relesem[g]-- }   /* nn_sock_term */
    lock();
    assert(holds == 0);
    atomic { open = false; closing = false; sock = 0 };
    freed[g] = true;
    unlock()
}

proctype closer() {
    close(1);
    /* nn_socket: the number is free again, and reused */
    lock();
    assert(!open && holds == 0);
    atomic { sock = 2; open = true };
    unlock();
    close(2)
}

init {
    atomic {
        sock = 1; open = true;
        byte i;
        for (i : 1 .. HOLDERS) { run holder() }
        run closer()
    }
}
