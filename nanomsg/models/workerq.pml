/*
 * workerq.pml: the worker thread's task queue of our libnanomsg (the patch
 * "worker-tasks-without-a-signal"), checked for lost wake-ups with spin.
 *
 * The worker's queue (queue: tasks in it), its eventfd (efd: the counter;
 * the worker's epoll_wait returns while efd > 0), the flags 'signalled' (the
 * efd is) and 'busy' (the worker is awake), and the mutex 'sync' (locked),
 * under which all of them change.
 *
 *   poster   another thread's nn_worker_execute, TASKS times: under the
 *            mutex, queue the task, and signal the efd unless the worker is
 *            busy or the efd is signalled already
 *   worker   nn_worker_routine: under the mutex, take the queue if it holds
 *            tasks (unsignalling the efd if signalled) and run them, else
 *            say it is going to sleep (busy = false); then wait (here: until
 *            efd > 0, the only event of the model, so that a lost signal is
 *            a worker asleep for ever), say it is busy, and take the queue
 *            as the efd's event says. Each task it runs queues one of its own
 *            (a handler's nn_worker_execute), SELF in all, which need no
 *            signal: the worker is busy.
 *
 * Checked: (1) the invariant "when the mutex is free and the worker asleep,
 * the queue is empty or the efd signalled" (the monitor's assertion, in every
 * reachable state); (2) no invalid end state: every task runs, and the worker
 * ends asleep with nothing queued (the model's end: a real worker waits for
 * the next event); (3) the efd is signalled exactly when 'signalled' says
 * (the assertion after each change): a worker woken for a task unsignals it,
 * so the efd never stays readable with nobody to read it.
 *
 * -DBROKEN=N makes the protocol wrong on purpose, each a way to lose a
 * wake-up that spin must find (nanomsg/models/check):
 *   1  the worker says it sleeps after its look at the queue, outside the
 *      mutex: a task queued in between finds it busy, and no signal comes
 *   2  the poster reads 'busy' before it takes the mutex
 *   3  no look at the queue before the wait: a task the worker queued for
 *      itself waits for ever
 */

#ifndef POSTERS
#define POSTERS 2
#endif
#ifndef TASKS
#define TASKS 2
#endif
#ifndef SELF
#define SELF 2
#endif
#ifndef BROKEN
#define BROKEN 0
#endif
#define TOTAL (POSTERS * TASKS + SELF)

bool locked;      /* the worker's mutex ('sync') */
byte queue;       /* tasks queued */
byte efd;         /* the eventfd's counter */
bool signalled;   /* the efd is signalled (the worker's own record of it) */
bool busy;        /* the worker is awake */
bool asleep;      /* the worker is in its epoll_wait */
byte ran;         /* tasks run */
byte selfleft = SELF;

inline lock() { atomic { !locked -> locked = true } }
inline unlock() { locked = false }

/* Under the mutex: unsignal the efd if signalled, take the queue. */
inline take() {
    if
    :: signalled -> efd = 0; signalled = false
    :: else -> skip
    fi;
    taken = taken + queue;
    queue = 0;
    assert(signalled == (efd > 0))
}

/* The tasks taken, run one by one; each may queue one of the worker's own. */
inline run_tasks() {
    do
    :: taken > 0 ->
        taken--;
        ran++;
        if
        :: selfleft > 0 ->
            selfleft--;
            lock();
            queue++;
            if
            :: !busy && !signalled -> efd++; signalled = true
            :: else -> skip
            fi;
            assert(signalled == (efd > 0));
            unlock()
        :: else -> skip
        fi
    :: else -> break
    od
}

proctype poster() {
    byte n = 0;
    bool seen;
    do
    :: n < TASKS ->
#if BROKEN == 2
        seen = busy;
        lock();
        queue++;
        if
        :: !seen && !signalled -> efd++; signalled = true
        :: else -> skip
        fi;
#else
        lock();
        queue++;
        if
        :: !busy && !signalled -> efd++; signalled = true
        :: else -> skip
        fi;
#endif
        assert(signalled == (efd > 0));
        unlock();
        n++
    :: else -> break
    od
}

active proctype worker() {
    byte taken = 0;
    busy = true;
    do
    :: true ->
        /* the look at the queue before the wait */
#if BROKEN == 3
        lock(); busy = false; unlock();
#elif BROKEN == 1
        lock();
        if
        :: queue > 0 -> take(); unlock(); run_tasks(); goto next
        :: else -> unlock()
        fi;
        busy = false;
#else
        lock();
        if
        :: queue > 0 -> take(); unlock(); run_tasks(); goto next
        :: else -> busy = false; unlock()
        fi;
#endif
        /* epoll_wait: the efd's event is the only one of the model */
        asleep = true;
end:    efd > 0;
        asleep = false;
        lock(); busy = true; unlock();
        /* the efd's event */
        lock(); take(); unlock();
        run_tasks();
next:   skip
    od
}

/* The invariant, checked in every reachable state (-DNOMONITOR: not checked,
   to see a broken protocol's hang itself as an invalid end state). */
#ifndef NOMONITOR
active proctype monitor() {
end:
    atomic {
        !locked && asleep && queue > 0 && efd == 0 ->
        assert(false)
    }
}
#endif

/* The end: every task ran (an invalid end state otherwise, when the worker
   sleeps with tasks queued and nobody left to signal it). */
active proctype finish() {
    ran == TOTAL
}

init {
    byte i;
    atomic {
        for (i : 1 .. POSTERS) { run poster() }
    }
}
