//! The one place where calls that may block leave the GIL. The safe core runs the blocking
//! call ([`Guard::call`]: try at once with `NN_DONTWAIT`, and only when that would block, wait)
//! and lets go of the caller's lock for the waits through [`Unlocked`], which this module
//! implements with the GIL: a signal (`EINTR`) runs the Python handlers; if they return, the
//! wait goes on with the time that is left (PEP 475), if one raises, the call ends with that
//! exception. Batches (`send_many`, `recv_many`) leave the GIL once for all their messages.
//! A call's first try runs with the GIL held, unless it copies a large message
//! ([`crate::py::data::LARGE_COPY`]): then other threads run during the copy too.

use std::os::raw::c_int;

use pyo3::prelude::*;

use crate::nn::{BatchWait, Direction, Guard, NnError, NnMsg, NnResult, Unlocked};
use crate::py::data::LARGE_COPY;
use crate::py::errors::Context;

/// The GIL, let go for the waits of the core's blocking calls (and for a first try that
/// copies a large message); holds the exception a signal handler raised, which ends the call.
struct Gil<'py> {
    py: Python<'py>,
    raised: Option<PyErr>,
    /// The first try copies `LARGE_COPY` bytes or more: it runs without the GIL too.
    large_first_try: bool,
}

impl<'py> Gil<'py> {
    fn new(py: Python<'py>) -> Self {
        Self::copying(py, 0)
    }

    /// For a call whose first try copies `len` bytes.
    #[inline]
    fn copying(py: Python<'py>, len: usize) -> Self {
        Self {
            py,
            raised: None,
            large_first_try: len >= LARGE_COPY,
        }
    }

    /// The Python exception that ends the call: a signal handler's, or `err`'s in `ctx`.
    fn error(&mut self, err: NnError, ctx: &Context<'_, '_>) -> PyErr {
        self.raised.take().unwrap_or_else(|| ctx.err(err))
    }
}

impl Unlocked for Gil<'_> {
    fn run<T: Send>(&mut self, mut f: impl FnMut() -> NnResult<T> + Send) -> NnResult<T> {
        loop {
            match self.py.detach(&mut f) {
                Err(e) if e.errno() == libc::EINTR => {
                    if let Err(raised) = self.py.check_signals() {
                        self.raised = Some(raised);
                        return Err(e);
                    }
                }
                other => return other,
            }
        }
    }

    #[inline]
    fn first_try<T: Send>(&mut self, mut f: impl FnMut() -> NnResult<T> + Send) -> NnResult<T> {
        if self.large_first_try {
            self.run(f)
        } else {
            f()
        }
    }
}

/// Runs `f` without the GIL, again after every `EINTR` whose signal handlers returned;
/// its errors are raised in the context `ctx`.
pub fn retry_detached<T: Send>(
    py: Python<'_>,
    ctx: &Context<'_, '_>,
    f: impl FnMut() -> NnResult<T> + Send,
) -> PyResult<T> {
    let mut gil = Gil::new(py);
    gil.run(f).map_err(|e| gil.error(e, ctx))
}

/// Runs `op` (a call taking the flags to pass to the C library) on `guard`'s socket as
/// [`Guard::call`] does: at once, and with `block`, waiting (without the GIL) up to the
/// socket's own timeout for `dir`. Its errors are raised in the context `ctx`.
pub fn blocking_call<T: Send>(
    py: Python<'_>,
    guard: &Guard<'_>,
    dir: Direction,
    block: bool,
    ctx: &Context<'_, '_>,
    op: impl FnMut(c_int) -> NnResult<T> + Send,
) -> PyResult<T> {
    blocking_copy(py, guard, dir, block, ctx, 0, op)
}

/// [`blocking_call`] for an `op` that copies `len` bytes (a send's message into the library,
/// a receive's into the caller's buffer): from `LARGE_COPY` on, its first try too runs
/// without the GIL.
pub fn blocking_copy<T: Send>(
    py: Python<'_>,
    guard: &Guard<'_>,
    dir: Direction,
    block: bool,
    ctx: &Context<'_, '_>,
    len: usize,
    op: impl FnMut(c_int) -> NnResult<T> + Send,
) -> PyResult<T> {
    let mut gil = Gil::copying(py, len);
    guard
        .call(dir, block, &mut gil, op)
        .map_err(|e| gil.error(e, ctx))
}

/// One try of `op` without waiting, for the event loops: `None` where it would have to wait
/// (`EAGAIN`), which costs no exception; any other error is raised in `ctx`. `op` copies
/// `len` bytes (see [`blocking_copy`]).
pub fn try_now<T: Send>(
    py: Python<'_>,
    guard: &Guard<'_>,
    dir: Direction,
    ctx: &Context<'_, '_>,
    len: usize,
    op: impl FnMut(c_int) -> NnResult<T> + Send,
) -> PyResult<Option<T>> {
    let mut gil = Gil::copying(py, len);
    guard
        .try_now(dir, &mut gil, op)
        .map_err(|e| gil.error(e, ctx))
}

/// Sends `messages[*sent..]` in order on `guard`'s socket (see [`Guard::send_batch`]), without
/// the GIL, counting in `sent` each one that went (also when this fails: the caller reports
/// it). `sndtimeo` is a deadline for the whole call, counted from its first wait; without
/// `block`, a message that cannot go at once ends the call with `EAGAIN`.
pub fn blocking_send_batch(
    py: Python<'_>,
    guard: &Guard<'_>,
    block: bool,
    ctx: &Context<'_, '_>,
    messages: &[&[u8]],
    sent: &mut usize,
) -> PyResult<()> {
    let mut gil = Gil::new(py);
    let mut wait = BatchWait::socket_timeout();
    guard
        .send_batch(messages, sent, block, &mut wait, &mut gil)
        .map_err(|e| gil.error(e, ctx))
}

/// Receives up to `max` messages on `guard`'s socket without the GIL: waits for the first as
/// `wait` says, then takes what else is queued (see [`Guard::recv_batch`]).
pub fn blocking_recv_batch(
    py: Python<'_>,
    guard: &Guard<'_>,
    ctx: &Context<'_, '_>,
    max: usize,
    mut wait: BatchWait,
) -> PyResult<Vec<NnMsg>> {
    let mut got = Vec::with_capacity(max.min(256));
    retry_detached(py, ctx, || guard.recv_batch(&mut got, max, &mut wait))?;
    Ok(got)
}
