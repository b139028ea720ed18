//! The one place where calls that may block leave the GIL: try at once with `NN_DONTWAIT`,
//! and only when that would block, wait with the GIL released. A signal (`EINTR`) runs the
//! Python handlers; if they return, the wait goes on with the time that is left (PEP 475).
//! Batches (`send_many`, `recv_many`) leave the GIL once for all their messages.

use std::os::raw::c_int;
use std::time::Instant;

use pyo3::prelude::*;

use crate::ffi;
use crate::nn::{BatchWait, Direction, Guard, NnError, NnMsg, NnResult};
use crate::py::errors::Context;

/// Runs `f` without the GIL, again after every `EINTR` whose signal handlers returned;
/// its errors are raised in the context `ctx`.
pub fn retry_detached<T: Send>(
    py: Python<'_>,
    ctx: &Context<'_, '_>,
    mut f: impl FnMut() -> NnResult<T> + Send,
) -> PyResult<T> {
    loop {
        match py.detach(&mut f) {
            Err(e) if e.errno() == libc::EINTR => py.check_signals()?,
            other => return other.map_err(|e| ctx.err(e)),
        }
    }
}

/// Runs `op` (a call taking the flags to pass to the C library) on `guard`'s socket, with
/// `NN_DONTWAIT`. With `block`, waits while it fails with `EAGAIN`, up to the socket's own
/// timeout for `dir`. Where the C library cannot take that flag (see
/// [`Guard::sends_replies_without_dontwait`]), `op` runs without it once the socket is ready.
pub fn blocking_call<T: Send>(
    py: Python<'_>,
    guard: &Guard<'_>,
    dir: Direction,
    block: bool,
    ctx: &Context<'_, '_>,
    mut op: impl FnMut(c_int) -> NnResult<T> + Send,
) -> PyResult<T> {
    if guard.sends_replies_without_dontwait(dir) {
        if !guard.reply_ready().map_err(|e| ctx.err(e))? {
            if !block {
                return Err(ctx.err(NnError::new(libc::EAGAIN)));
            }
            let deadline = guard
                .timeout(dir)
                .map_err(|e| ctx.err(e))?
                .map(|t| Instant::now() + t);
            retry_detached(py, ctx, || {
                guard.retry_until_ready(dir, deadline, || match guard.reply_ready()? {
                    true => Ok(()),
                    false => Err(NnError::new(libc::EAGAIN)),
                })
            })?;
        }
        return retry_detached(py, ctx, || op(0));
    }
    match op(ffi::NN_DONTWAIT) {
        Err(e) if block && e.errno() == libc::EAGAIN => {}
        other => return other.map_err(|e| ctx.err(e)),
    }
    let deadline = guard
        .timeout(dir)
        .map_err(|e| ctx.err(e))?
        .map(|t| Instant::now() + t);
    retry_detached(py, ctx, || {
        guard.retry_until_ready(dir, deadline, || op(ffi::NN_DONTWAIT))
    })
}

/// One try of `op` without waiting, for the event loops: `None` where it would have to wait
/// (`EAGAIN`), which costs no exception; any other error is raised in `ctx`.
pub fn try_now<T: Send>(
    py: Python<'_>,
    guard: &Guard<'_>,
    dir: Direction,
    ctx: &Context<'_, '_>,
    mut op: impl FnMut(c_int) -> NnResult<T> + Send,
) -> PyResult<Option<T>> {
    if guard.sends_replies_without_dontwait(dir) {
        if !guard.reply_ready().map_err(|e| ctx.err(e))? {
            return Ok(None);
        }
        return retry_detached(py, ctx, || op(0)).map(Some);
    }
    match op(ffi::NN_DONTWAIT) {
        Err(e) if e.errno() == libc::EAGAIN => Ok(None),
        other => other.map(Some).map_err(|e| ctx.err(e)),
    }
}

/// Sends `messages[*sent..]` in order on `guard`'s socket, without the GIL, counting in
/// `sent` each one that went (also when this fails: the caller reports it). `sndtimeo` is a
/// deadline for the whole call, counted from its first wait; without `block`, a message that
/// cannot go at once ends the call with `EAGAIN`.
pub fn blocking_send_batch(
    py: Python<'_>,
    guard: &Guard<'_>,
    block: bool,
    ctx: &Context<'_, '_>,
    messages: &[&[u8]],
    sent: &mut usize,
) -> PyResult<()> {
    if guard.sends_replies_without_dontwait(Direction::Send) {
        // nng's REP and RESPONDENT: one reply at a time, as `send` sends it.
        while let Some(&data) = messages.get(*sent) {
            blocking_call(py, guard, Direction::Send, block, ctx, |flags| {
                guard.send(data, flags)
            })?;
            *sent += 1;
        }
        return Ok(());
    }
    let mut wait = BatchWait::socket_timeout();
    retry_detached(py, ctx, || {
        guard.send_batch(messages, sent, block, &mut wait)
    })
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
