//! The process's own state towards libnanomsg, in one place: whether it has started the
//! library (made a socket), whether it is a child forked after that, and whether `nn_term`
//! has run. Plain flags, set and read from anywhere; this module depends on nothing else.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set in the child after `fork()` of a process that had started libnanomsg: its worker
/// threads did not survive the fork.
static FORKED: AtomicBool = AtomicBool::new(false);
/// Set once this process has created a socket (and so started libnanomsg's threads).
static STARTED: AtomicBool = AtomicBool::new(false);
/// Set once `nn_term` has run in this process.
static TERMINATED: AtomicBool = AtomicBool::new(false);

extern "C" fn mark_forked() {
    if STARTED.load(Ordering::SeqCst) {
        FORKED.store(true, Ordering::SeqCst);
    }
}

/// Registers the `fork()` child handler once per process.
pub fn install_fork_guard() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic; async-signal-safe.
        unsafe { libc::pthread_atfork(None, None, Some(mark_forked)) };
    });
}

/// True in a child process forked after this module was loaded.
#[inline]
pub fn forked() -> bool {
    FORKED.load(Ordering::Relaxed)
}

/// Records that this process has a socket (libnanomsg's threads run): a fork from now on
/// leaves a child that must not call the library.
pub fn mark_started() {
    STARTED.store(true, Ordering::SeqCst);
}

/// Records that `nn_term` ran: from now on `EBADF` from libnanomsg means `ETERM`.
pub fn mark_terminated() {
    TERMINATED.store(true, Ordering::SeqCst);
}

/// True once `nn_term` has run in this process (no new socket can be made).
#[inline]
pub fn terminated() -> bool {
    TERMINATED.load(Ordering::SeqCst)
}
