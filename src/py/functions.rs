//! Module-level functions of `_native`: poll, device, term, strerror, symbol_info.

use std::time::{Duration, Instant};

use pyo3::prelude::*;

use crate::nn::{self, Device, Guard, Poll};
use crate::py::blocking::retry_detached;
use crate::py::errors::Context;
use crate::py::socket::PySocket;

/// Waits until one of the sockets can receive (`POLLIN`) or send (`POLLOUT`), or `timeout`
/// ms pass (-1: forever). `items` is a list of `(socket, events)`; returns the ready events
/// of each, in order (all 0 on timeout; other event bits are ignored). Raises `nn.Closed`
/// if a socket is closed meanwhile, `nn.Terminated` after `nn.term()`, `nn.NanomsgError`
/// (`ENOPROTOOPT`) for `POLLIN` on a send-only socket or `POLLOUT` on a receive-only one.
/// A socket may be listed any number of times: each descriptor is waited on once. Raises
/// `nn.InvalidArgument` only if the distinct descriptors (up to three a socket) outnumber
/// the process's limit on open files (`RLIMIT_NOFILE`), which `poll(2)` enforces.
#[pyfunction]
#[pyo3(signature = (items, timeout = -1), text_signature = "(items, timeout=-1)")]
pub fn poll(
    py: Python<'_>,
    items: Vec<(Bound<'_, PySocket>, i32)>,
    timeout: i64,
) -> PyResult<Vec<i32>> {
    let ctx = Context::call("poll");
    let guards = items
        .iter()
        .map(|(s, _)| acquire(s, "poll"))
        .collect::<PyResult<Vec<Guard<'_>>>>()?;
    let mut poll = Poll::new(guards.iter().zip(items.iter().map(|(_, events)| *events)))
        .map_err(|e| ctx.err(e))?;
    let deadline = u64::try_from(timeout)
        .ok()
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    // First a look without waiting, with the GIL held; then wait without it.
    let mut ready = poll.look();
    if Poll::timed_out(&ready) && timeout != 0 {
        ready = Ok(
            retry_detached(py, &ctx, || poll.wait(deadline)).or_else(|e| {
                if e.is_instance_of::<pyo3::exceptions::PyTimeoutError>(py) {
                    Ok(0)
                } else {
                    Err(e)
                }
            })?,
        );
    }
    poll.events(ready).map_err(|e| ctx.err(e))
}

/// Forwards messages between two raw (`sp-raw`) sockets, or back into one, like
/// `nn_device`. Blocks without the GIL until a socket is closed (`nn.Closed`) or `term()`
/// runs (`nn.Terminated`); Ctrl-C interrupts it. Raises `nn.InvalidArgument` unless both
/// are `sp-raw` sockets of one protocol family that can pass messages.
#[pyfunction]
#[pyo3(signature = (s1, s2 = None))]
pub fn device(
    py: Python<'_>,
    s1: &Bound<'_, PySocket>,
    s2: Option<&Bound<'_, PySocket>>,
) -> PyResult<()> {
    let ctx = Context::call("device");
    let g1 = acquire(s1, "device")?;
    let g2 = s2.map(|s| acquire(s, "device")).transpose()?;
    let mut dev = Device::new(&g1, g2.as_ref()).map_err(|e| ctx.err(e))?;
    retry_detached(py, &ctx, || dev.run())
}

/// `nn_term`: makes every socket of the process fail with `nn.Terminated`, for good.
#[pyfunction]
pub fn term() -> PyResult<()> {
    nn::term().map_err(|e| Context::call("term").err(e))
}

/// `nn_strerror`: nanomsg's text for an error code.
#[pyfunction]
pub fn strerror(errno: i32) -> String {
    nn::strerror(errno)
}

/// One `nn_symbol_info` entry: `(name, value, namespace, type, unit)`.
type SymbolTuple = (String, i32, i32, i32, i32);

/// Every `nn_symbol_info` entry as `(name, value, namespace, type, unit)`.
#[pyfunction]
pub fn symbol_info() -> PyResult<Vec<SymbolTuple>> {
    Ok(nn::symbols()?
        .into_iter()
        .map(|s| (s.name, s.value, s.ns, s.type_, s.unit))
        .collect())
}

/// A guard on `socket`, or the exception of `call` on it.
fn acquire<'a>(socket: &'a Bound<'_, PySocket>, call: &'static str) -> PyResult<Guard<'a>> {
    socket
        .get()
        .socket()
        .acquire()
        .map_err(|e| Context::on(socket, call).err(e))
}
