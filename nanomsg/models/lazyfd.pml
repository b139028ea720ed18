/*
 * lazyfd.pml: the lazy readiness fds of our libnanomsg (the patch
 * "readiness-without-a-system-call"), checked for lost wake-ups with spin.
 *
 * One socket's receive side: its messages (msgs), its rcvfd (an eventfd:
 * efd is its counter), the flag that says the library signalled it
 * (NN_SOCK_FLAG_IN), the count of waiters (rcvwaiters) and the socket's ctx
 * mutex (locked), under which the library changes all of them. The send side
 * is the same protocol with "writable" for "readable".
 *
 *   producer   a pipe that delivers MSGS messages into the socket (inproc's
 *              sender in the socket's ctx, or a worker thread): under the ctx,
 *              msgs++, then nn_sock_onleave as the ctx is left
 *   library    nn_recv blocking inside the library: under one ctx section it
 *              tries, and on EAGAIN counts itself in as a waiter, leaves the
 *              ctx (nn_sock_onleave), polls the efd, and counts itself out
 *              under the ctx again
 *   binding    a poller as nanomsg-rs waits: nn_recv with NN_DONTWAIT in one
 *              ctx section; on EAGAIN, NN_POLL_ENTER in another, then polls
 *              the efd and its own close eventfd (wake), retries with
 *              NN_DONTWAIT, polls again while that fails, and NN_POLL_LEAVE
 *   thief      another thread's nn_recv with NN_DONTWAIT, THEFTS times: it
 *              takes messages from under the waiters and so unsignals the efd
 *   closer     nn_close (the efd signalled for good, state no longer active)
 *              with the binding's own wake eventfd; by default once every
 *              message was received (so a waiter that sleeps while a message
 *              waits keeps the closer from ever running: a deadlock, which
 *              spin reports as an invalid end state); with -DCLOSE_ANYTIME at
 *              any moment, to show that a close wakes every waiter
 *
 * -DLIBRARY_WAITER=0 or -DBINDING_WAITER=0 leaves that waiter out (then the
 * other is the only one who can receive the messages the thief leaves);
 * -DPRODUCERS, -DMSGS and -DTHEFTS size the run; -DEAGER=1 checks upstream's
 * eager fd (handed out as NN_RCVFD) with the same waiters.
 *
 * nn_sock_onleave, run by every ctx leave (the unlock below):
 *   readable and efd not signalled and (a waiter or an eager fd): signal it
 *   not readable and efd signalled: unsignal it (read the counter to 0)
 *
 * Checked: (1) the invariant "when the ctx is free, a socket that is readable
 * and has a waiter has its efd signalled" (the monitor's assertion, in every
 * reachable state); (2) no invalid end state: every waiter ends, with every
 * message received; (3) with -a and weak fairness, the LTL property "wakes":
 * a waiter asleep on the efd always wakes.
 *
 * -DBROKEN=N makes the protocol wrong on purpose, each a way to lose a
 * wake-up that spin must find (make -C nanomsg/models broken):
 *   1  the waiter counts itself in without looking at readiness again (an
 *      atomic increment outside the ctx: no nn_sock_onleave after it)
 *   2  the producer reads the waiter count before it publishes its message
 *   3  the flag says "signalled" whenever the socket is readable, though only
 *      a waiter got a signal: a later waiter finds the flag set, no signal
 */

#ifndef PRODUCERS
#define PRODUCERS 2
#endif
#ifndef MSGS
#define MSGS 2
#endif
#ifndef THEFTS
#define THEFTS 2
#endif
#ifndef BROKEN
#define BROKEN 0
#endif
#ifndef CLOSE_ANYTIME
#define CLOSE_ANYTIME 0
#endif
#ifndef EAGER
#define EAGER 0
#endif
#ifndef LIBRARY_WAITER
#define LIBRARY_WAITER 1
#endif
#ifndef BINDING_WAITER
#define BINDING_WAITER 1
#endif
#define TOTAL (PRODUCERS * MSGS)
#define LIBRARY 0
#define BINDING 1

bool locked;      /* the socket's ctx mutex */
byte msgs;        /* messages the socket holds: readable while msgs > 0 */
byte efd;         /* rcvfd's counter: polls readable while efd > 0 */
bool flag_in;     /* NN_SOCK_FLAG_IN */
byte waiters;     /* rcvwaiters */
bool eager = EAGER; /* NN_SOCK_FLAG_IN_EAGER: plain NN_RCVFD was handed out */
bool closed;      /* nn_close ran: the socket is no longer active */
bool wake;        /* the binding's own close eventfd */
byte got;         /* messages received, by everybody */
bool asleep[2];   /* the library's and the binding's waiter, in poll() */

inline onleave() {
    if
    :: closed -> skip
    :: !closed && msgs > 0 ->
        if
#if BROKEN == 3
        :: !flag_in -> flag_in = true; if :: waiters > 0 || eager -> efd++ :: else -> skip fi
#else
        :: !flag_in && (waiters > 0 || eager) -> flag_in = true; efd++
#endif
        :: else -> skip
        fi
    :: !closed && msgs == 0 ->
        if
        :: flag_in -> flag_in = false; efd = 0
        :: else -> skip
        fi
    fi
}

inline lock() { atomic { !locked -> locked = true } }
inline unlock() { d_step { onleave(); locked = false } }

/* One message received (under the ctx): how nn_recv's attempt ends. */
inline take() { msgs--; got++ }

proctype producer() {
    byte n = 0;
    bool seen;
    do
    :: n < MSGS ->
#if BROKEN == 2
        seen = (waiters > 0);
        lock();
        msgs++;
        /* the decision taken on the count read before publishing */
        d_step {
            if
            :: !flag_in && (seen || eager) -> flag_in = true; efd++
            :: else -> skip
            fi;
            locked = false
        }
#else
        lock();
        msgs++;
        unlock();
#endif
        n++
    :: else -> break
    od
}

/* nn_recv blocking in the library (nn_sock_recv). */
proctype library() {
    do
    :: lock();
        if
        :: closed -> unlock(); break
        :: !closed && msgs > 0 -> take(); unlock()
        :: !closed && msgs == 0 ->
#if BROKEN == 1
            unlock();
            waiters++;
#else
            waiters++;
            unlock();
#endif
            asleep[LIBRARY] = true;
            efd > 0;
            asleep[LIBRARY] = false;
            lock();
            waiters--;
            unlock()
        fi
    od
}

/* nanomsg-rs's retry_until_ready: NN_DONTWAIT, NN_POLL_ENTER, poll, retry. */
proctype binding() {
    bool done;
    do
    :: lock();
        if
        :: closed -> unlock(); break
        :: !closed && msgs > 0 -> take(); unlock()
        :: !closed && msgs == 0 ->
            unlock();
            /* NN_POLL_ENTER */
#if BROKEN == 1
            waiters++;
#else
            lock(); waiters++; unlock();
#endif
            done = false;
            do
            :: !done ->
                asleep[BINDING] = true;
                efd > 0 || wake;
                asleep[BINDING] = false;
                lock();
                if
                :: closed || wake -> done = true
                :: !closed && !wake && msgs > 0 -> take(); done = true
                :: else -> skip
                fi;
                unlock()
            :: done -> break
            od;
            /* NN_POLL_LEAVE */
            lock(); waiters--; unlock()
        fi
    od
}

proctype thief() {
    byte n = 0;
    do
    :: n < THEFTS ->
        lock();
        if
        :: !closed && msgs > 0 -> take()
        :: else -> skip
        fi;
        unlock();
        n++
    :: else -> break
    od
}

proctype closer() {
#if !CLOSE_ANYTIME
    got == TOTAL;
#endif
    lock();
    closed = true;
    efd++;        /* nn_efd_stop */
    locked = false;
    wake = true   /* the binding's close signals its own eventfd too */
}

/* The invariant, checked in every reachable state (-DNOMONITOR: not checked,
   to see a broken protocol's hang itself as an invalid end state). */
#ifndef NOMONITOR
active proctype monitor() {
end:
    atomic {
        !locked && !closed && waiters > 0 && msgs > 0 && efd == 0 ->
        assert(false)
    }
}
#endif

init {
    byte i;
    atomic {
        for (i : 1 .. PRODUCERS) { run producer() }
#if LIBRARY_WAITER
        run library();
#endif
#if BINDING_WAITER
        run binding();
#endif
        run thief();
        run closer()
    }
}

ltl wakes { [] ((asleep[0] -> <> !asleep[0]) && (asleep[1] -> <> !asleep[1])) }
