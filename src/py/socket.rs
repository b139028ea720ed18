//! `_native.Socket`: the thin Python face of [`crate::nn::Socket`]. Argument parsing and
//! conversions only; the package's `nanomsg_rs.Socket` subclasses it in Python.

use std::ffi::CString;
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyAttributeError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyList, PyString, PyType};

use crate::ffi;
use crate::nn::{BatchWait, Direction, Kind, NnError, Socket};
use crate::py::blocking::{
    blocking_call, blocking_copy, blocking_recv_batch, blocking_send_batch, try_now,
};
use crate::py::data::{bytes_from, with_writable_buffer, Payload};
use crate::py::errors::{Context, OnSocket};
use crate::py::message::{extract_messages, PyMessage};
use crate::py::misuse::{self, Warned, Watched};
use crate::py::options::PyOptionSpec;

/// An address as nanomsg takes it: a str (UTF-8) or raw bytes (e.g. a non-UTF-8 ipc path).
/// A str is encoded with `surrogateescape`, as `os.fsencode` does: the `Endpoint.address`
/// of a bytes address that is not UTF-8 (its bytes kept as surrogates) gives those bytes
/// back.
fn c_address(addr: &Bound<'_, PyAny>) -> PyResult<CString> {
    let bytes = if let Ok(s) = addr.cast::<PyString>() {
        match s.to_str() {
            Ok(text) => text.as_bytes().to_vec(),
            Err(_) => s
                .call_method1(intern!(s.py(), "encode"), ("utf-8", "surrogateescape"))?
                .cast_into::<PyBytes>()?
                .as_bytes()
                .to_vec(),
        }
    } else if let Ok(b) = addr.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else {
        return Err(PyTypeError::new_err(format!(
            "address must be str or bytes, not {}",
            addr.get_type().name()?
        )));
    };
    CString::new(bytes).map_err(|_| PyValueError::new_err("address must not contain NUL"))
}

/// A C string option's bytes as a str: up to the first NUL.
fn c_string<'py>(py: Python<'py>, bytes: &[u8]) -> Bound<'py, PyString> {
    let text = bytes.split(|&b| b == 0).next().unwrap_or_default();
    PyString::new(py, &String::from_utf8_lossy(text))
}

fn c_int_value(value: &Bound<'_, PyAny>) -> PyResult<i32> {
    value
        .extract::<i32>()
        .map_err(|_| PyValueError::new_err(format!("{value} is out of range for an int option")))
}

/// A nanomsg socket (the native part; use `nanomsg_rs.Socket`).
#[pyclass(
    frozen,
    subclass,
    weakref,
    module = "nanomsg_rs._native",
    name = "Socket"
)]
pub struct PySocket {
    inner: Socket,
    /// The misuse warnings the socket gave.
    warned: Warned,
}

#[pymethods]
impl PySocket {
    /// `nn_socket(domain, protocol)` with the numeric protocol and domain. (`_adopt`, for
    /// `adopt` only: take the open socket with that number instead; the others are ignored.)
    #[new]
    #[pyo3(
        signature = (protocol, domain = ffi::AF_SP, *, _adopt = None),
        text_signature = "(protocol, domain=1, *, _adopt=None)"
    )]
    fn new(protocol: i32, domain: i32, _adopt: Option<i32>) -> PyResult<Self> {
        let inner = match _adopt {
            Some(number) => Socket::adopt(number).map_err(|e| Context::call("adopt").err(e))?,
            None => Socket::new(domain, protocol).map_err(|e| Context::call("Socket").err(e))?,
        };
        Ok(Self {
            inner,
            warned: Warned::default(),
        })
    }

    /// The native part of `nanomsg_rs.Socket.adopt`, which documents it.
    #[classmethod]
    fn adopt<'py>(
        cls: &Bound<'py, PyType>,
        number: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = cls.py();
        if number.is_instance_of::<PyBool>() || !number.is_instance_of::<PyInt>() {
            return Err(PyTypeError::new_err(format!(
                "socket number must be an int, not {}",
                number.get_type().name()?
            )));
        }
        let number: i32 = number.extract().map_err(|_| {
            Context::call("adopt").err(NnError::with_detail(
                libc::EINVAL,
                "out of range for a socket number",
            ))
        })?;
        // The base type's __new__ with `cls` makes an instance of `cls` (a subclass, such as
        // nanomsg_rs.Socket) without running its own __new__.
        let kwargs = PyDict::new(py);
        kwargs.set_item("_adopt", number)?;
        py.get_type::<PySocket>()
            .getattr("__new__")?
            .call((cls, 0, ffi::AF_SP), Some(&kwargs))
    }

    /// Closes the socket (`nn_close`); idempotent. Calls blocked on it in other threads
    /// raise `nn.Closed`.
    fn close(slf: &Bound<'_, Self>) -> PyResult<()> {
        let inner = &slf.get().inner;
        slf.py()
            .detach(|| inner.close())
            .map_err(|e| Context::on(slf, "close").err(e))
    }

    /// True once the socket is closed (or detached).
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Gives up ownership and returns the raw socket number; this object is closed
    /// afterwards, the nanomsg socket is not. Raises `nn.Closed` if already closed.
    fn detach(slf: &Bound<'_, Self>) -> PyResult<i32> {
        slf.get()
            .inner
            .detach()
            .map_err(|e| Context::on(slf, "detach").err(e))
    }

    /// The raw nanomsg socket number (read-only). Raises `nn.Closed` once closed.
    #[getter]
    fn fd(slf: &Bound<'_, Self>) -> PyResult<i32> {
        let guard = slf.get().inner.acquire();
        Ok(guard.map_err(|e| Context::on(slf, "fd").err(e))?.id())
    }

    /// `nn_bind`, returning the endpoint id: the native part of `nanomsg_rs.Socket.bind`,
    /// which documents it.
    fn bind(slf: &Bound<'_, Self>, addr: &Bound<'_, PyAny>) -> PyResult<i32> {
        let ctx = Context::on(slf, "bind").address(addr);
        let c_addr = c_address(addr)?;
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        guard.bind(&c_addr).map_err(|e| ctx.err(e))
    }

    /// `nn_connect`, returning the endpoint id: the native part of
    /// `nanomsg_rs.Socket.connect`, which documents it.
    fn connect(slf: &Bound<'_, Self>, addr: &Bound<'_, PyAny>) -> PyResult<i32> {
        let ctx = Context::on(slf, "connect").address(addr);
        let c_addr = c_address(addr)?;
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        guard.connect(&c_addr).map_err(|e| ctx.err(e))
    }

    /// `nn_shutdown` of an endpoint id, of the kind `bound` names when given (True: made by
    /// `bind`): the native part of `nanomsg_rs.Socket.shutdown`, which documents it.
    #[pyo3(signature = (endpoint, bound=None))]
    fn shutdown(slf: &Bound<'_, Self>, endpoint: i32, bound: Option<bool>) -> PyResult<()> {
        let id = endpoint.into_pyobject(slf.py())?.into_any();
        let ctx = Context::on(slf, "shutdown").value(&id);
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        slf.py()
            .detach(|| guard.shutdown(endpoint, bound))
            .map_err(|e| ctx.err(e))
    }

    /// Sends one message, waiting (with the GIL released) while it cannot be sent.
    ///
    /// On the nng backend a REP or RESPONDENT reply also waits while the previous reply to that
    /// peer is still going out.
    ///
    /// Args:
    ///     data: bytes, str (sent as UTF-8), or any buffer.
    ///     block: False raises `nn.Again` instead of waiting.
    ///
    /// Returns:
    ///     The message's size in bytes.
    ///
    /// Raises:
    ///     Again: `block=False`, and the message cannot go now.
    ///     Timeout: `sndtimeo` ms passed.
    ///     BadState: the protocol forbids it now (e.g. a REP with no request to answer).
    ///     NotSupported: the socket cannot send (SUB, PULL).
    ///     Closed: the socket is closed, also from another thread while waiting.
    ///     Terminated: after `nn.term()`.
    ///     TypeError: `data` is not bytes, str or a buffer.
    #[pyo3(signature = (data, *, block = true))]
    fn send(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>, block: bool) -> PyResult<usize> {
        let ctx = Context::on(slf, "send");
        let payload = Payload::extract(data)?;
        let bytes = payload.as_slice();
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        misuse::check_transfer(slf, "send", true)?;
        let len = bytes.len();
        blocking_copy(
            slf.py(),
            &guard,
            Direction::Send,
            block,
            &ctx,
            len,
            |flags| guard.send(bytes, flags),
        )
    }

    /// Receives one whole message, waiting (with the GIL released) until one arrives.
    ///
    /// Args:
    ///     block: False raises `nn.Again` instead of waiting.
    ///
    /// Returns:
    ///     The message, as bytes.
    ///
    /// Raises:
    ///     Again: `block=False`, and no message is there.
    ///     Timeout: `rcvtimeo` ms passed.
    ///     BadState: the protocol forbids it now (a REQ before `send`; a SURVEYOR with no survey,
    ///         or past its deadline).
    ///     NotSupported: the socket cannot receive (PUB, PUSH).
    ///     Closed: the socket is closed, also from another thread while waiting.
    ///     Terminated: after `nn.term()`.
    #[pyo3(signature = (*, block = true))]
    fn recv<'py>(slf: &Bound<'py, Self>, block: bool) -> PyResult<Bound<'py, PyBytes>> {
        let ctx = Context::on(slf, "recv");
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        misuse::check_transfer(slf, "recv", false)?;
        let msg = blocking_call(slf.py(), &guard, Direction::Recv, block, &ctx, |flags| {
            guard.recv_msg(flags)
        })?;
        bytes_from(slf.py(), msg.as_slice())
    }

    /// Receives one message into a writable, C-contiguous buffer (see `recv`).
    ///
    /// Returns:
    ///     The message's full size in bytes; the bytes past the end of the buffer are dropped,
    ///     as `nn_recv` does.
    ///
    /// Raises:
    ///     TypeError: the buffer is read-only or not C-contiguous; otherwise as `recv`.
    #[pyo3(signature = (buffer, *, block = true))]
    fn recv_into(slf: &Bound<'_, Self>, buffer: &Bound<'_, PyAny>, block: bool) -> PyResult<usize> {
        let ctx = Context::on(slf, "recv_into");
        with_writable_buffer(buffer, |target| {
            let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
            misuse::check_transfer(slf, "recv_into", false)?;
            // A buffer that can take a large message: its receive may copy one, so even the
            // first try runs without the GIL.
            let len = target.len();
            blocking_copy(
                slf.py(),
                &guard,
                Direction::Recv,
                block,
                &ctx,
                len,
                |flags| guard.recv_into(target, flags),
            )
        })
    }

    /// Receives one message without a copy (see `recv` for waiting and errors).
    ///
    /// Returns:
    ///     A `Message`: the message stays in nanomsg's buffer, inside it, with its SP header
    ///     (`Message.header`) on raw sockets.
    #[pyo3(signature = (*, block = true))]
    fn recv_msg(slf: &Bound<'_, Self>, block: bool) -> PyResult<PyMessage> {
        let ctx = Context::on(slf, "recv_msg");
        let py = slf.py();
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        misuse::check_transfer(slf, "recv_msg", false)?;
        let (msg, header) = if slf.get().inner.is_raw() {
            blocking_call(py, &guard, Direction::Recv, block, &ctx, |flags| {
                guard.recv_with_header(flags)
            })?
        } else {
            let msg = blocking_call(py, &guard, Direction::Recv, block, &ctx, |flags| {
                guard.recv_msg(flags)
            })?;
            (msg, None)
        };
        Ok(PyMessage::from_parts(msg, header))
    }

    /// Sends a `Message` without a copy (see `send` for waiting and errors).
    ///
    /// The message is empty afterwards; on failure it is left as it was. On a raw socket its
    /// `header` goes with it (the route back); an sp socket makes its own and ignores it.
    ///
    /// Returns:
    ///     The message's size in bytes.
    ///
    /// Raises:
    ///     ValueError: the message was sent already.
    ///     BufferError: a memoryview of the message is alive, or another thread copies it.
    #[pyo3(signature = (msg, *, block = true))]
    fn send_msg(slf: &Bound<'_, Self>, msg: &Bound<'_, PyMessage>, block: bool) -> PyResult<usize> {
        let ctx = Context::on(slf, "send_msg");
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        misuse::check_transfer(slf, "send_msg", true)?;
        let (body, mut header) = msg.get().take()?;
        // Only raw sockets route by header; an sp socket makes its own (libnanomsg would
        // abort, or send the header as payload).
        let kept = if slf.get().inner.is_raw() {
            None
        } else {
            header.take()
        };
        let mut slot = Some(body);
        let sent = blocking_call(slf.py(), &guard, Direction::Send, block, &ctx, |flags| {
            let Some(body) = slot.take() else {
                return Err(NnError::new(libc::EFAULT));
            };
            let result = match &header {
                Some(h) => guard.send_with_header(body, Some(h), flags),
                None => guard.send_msg(body, flags),
            };
            result.map_err(|(err, back)| {
                slot = Some(back);
                err
            })
        });
        if let Some(body) = slot {
            msg.get().restore((body, header.or(kept)));
        }
        sent
    }

    /// Sends several buffers as one message, gathered by `nn_sendmsg` (see `send`).
    ///
    /// Returns:
    ///     The message's size in bytes.
    #[pyo3(signature = (parts, *, block = true))]
    fn send_parts(slf: &Bound<'_, Self>, parts: &Bound<'_, PyAny>, block: bool) -> PyResult<usize> {
        let ctx = Context::on(slf, "send_parts");
        let payloads = parts
            .try_iter()?
            .map(|p| Payload::extract(&p?))
            .collect::<PyResult<Vec<_>>>()?;
        let slices: Vec<&[u8]> = payloads.iter().map(Payload::as_slice).collect();
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        misuse::check_transfer(slf, "send_parts", true)?;
        let len = slices.iter().map(|p| p.len()).sum();
        blocking_copy(
            slf.py(),
            &guard,
            Direction::Send,
            block,
            &ctx,
            len,
            |flags| guard.send_parts(&slices, flags),
        )
    }

    /// Sends many messages, in order, one `nn_send` each, leaving the GIL once for all of
    /// them (and waiting, when one cannot go at once, as `send` does).
    ///
    /// Every message is taken from `messages` before the first is sent, so a wrong type sends
    /// nothing. The call returns only when all of them went; any exception it raises after
    /// that point carries `sent`: how many went, the first `sent` of them in order, and
    /// none of the others (none is sent twice, none is lost unnoticed).
    ///
    /// Args:
    ///     messages: an iterable of messages, each bytes, str (sent as UTF-8) or a buffer.
    ///     block: False raises `nn.Again` where a message cannot go without waiting.
    ///
    /// Returns:
    ///     The number of messages sent: all of them.
    ///
    /// Raises:
    ///     Again: `block=False`, and a message could not go now (`sent` says how many did).
    ///     Timeout: `sndtimeo` ms passed since the call first had to wait: a deadline for the
    ///         whole call, not for each message.
    ///     Closed: the socket is closed, also from another thread during the call (the
    ///         messages after that moment are not sent).
    ///     BadState: the protocol forbids it now (e.g. a REP with no request to answer).
    ///     NotSupported: the socket cannot send (SUB, PULL).
    ///     Terminated: after `nn.term()`.
    ///     TypeError: `messages` is not an iterable of messages (nothing is sent).
    #[pyo3(signature = (messages, *, block = true))]
    fn send_many(
        slf: &Bound<'_, Self>,
        messages: &Bound<'_, PyAny>,
        block: bool,
    ) -> PyResult<usize> {
        let py = slf.py();
        let ctx = Context::on(slf, "send_many");
        let payloads = extract_messages(messages, "send_many")?;
        let slices: Vec<&[u8]> = payloads.iter().map(Payload::as_slice).collect();
        let mut sent = 0;
        let result = slf
            .get()
            .inner
            .acquire()
            .map_err(|e| ctx.err(e))
            .and_then(|guard| {
                if !slices.is_empty() {
                    misuse::check_transfer(slf, "send_many", true)?;
                }
                blocking_send_batch(py, &guard, block, &ctx, &slices, &mut sent)
            });
        result.map(|()| sent).inspect_err(|err| {
            // Best effort: an exception that takes no attributes still goes up as it is.
            let _ = err.value(py).setattr(intern!(py, "sent"), sent);
        })
    }

    /// Receives up to `max` messages: waits for the first as `recv` does (the GIL released,
    /// Ctrl-C and `close()` from another thread end the wait), then takes whatever else is
    /// queued already, without waiting.
    ///
    /// Args:
    ///     max: the most messages to return, at least 1.
    ///     timeout: None (the default) waits up to `rcvtimeo`, then raises `nn.Timeout`, so
    ///         the list is never empty. A number of seconds waits that long at most for the
    ///         first message, whatever `rcvtimeo` is, and returns an empty list if none came;
    ///         0 takes only what is queued already.
    ///
    /// Returns:
    ///     The messages, as bytes, in the order received. A failure after the first message
    ///     (e.g. a REQ's next receive, or `close()` meanwhile) ends the list without an
    ///     error: the messages in hand are returned, and the next call meets the failure.
    ///     A REP or RESPONDENT returns one message at most: it must answer each request
    ///     before it receives the next (another receive would drop it).
    ///
    /// Raises:
    ///     Timeout: with `timeout=None`, `rcvtimeo` ms passed without a message; a survey's
    ///         deadline passed (SURVEYOR).
    ///     BadState: the protocol forbids it now (a REQ before `send`; a SURVEYOR with no
    ///         survey).
    ///     NotSupported: the socket cannot receive (PUB, PUSH).
    ///     Closed: the socket is closed, also from another thread while waiting.
    ///     Terminated: after `nn.term()`.
    ///     ValueError: `max` is below 1, or `timeout` is negative or NaN.
    #[pyo3(signature = (max, *, timeout = None))]
    fn recv_many<'py>(
        slf: &Bound<'py, Self>,
        max: isize,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let ctx = Context::on(slf, "recv_many");
        let max = usize::try_from(max)
            .ok()
            .filter(|&m| m > 0)
            .ok_or_else(|| PyValueError::new_err(format!("max must be at least 1, not {max}")))?;
        let wait = match timeout {
            None => BatchWait::socket_timeout(),
            Some(t) if t.is_nan() || t < 0.0 => {
                return Err(PyValueError::new_err(format!(
                    "timeout must be None or a number of seconds, 0 or more, not {t}"
                )))
            }
            // A wait too long for a Duration or an Instant (inf included) has no end.
            Some(t) => BatchWait::until(
                Duration::try_from_secs_f64(t)
                    .ok()
                    .and_then(|d| Instant::now().checked_add(d)),
            ),
        };
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        misuse::check_transfer(slf, "recv_many", false)?;
        let got = blocking_recv_batch(py, &guard, &ctx, max, wait)?;
        drop(guard);
        let items = got
            .iter()
            .map(|m| bytes_from(py, m.as_slice()))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Reads an option (`nn_getsockopt`); the option properties are the usual way.
    ///
    /// Args:
    ///     level: `nn.SOL_SOCKET`, a protocol (e.g. `nn.SUB`) or a transport (e.g. `nn.TCP`).
    ///     option: the option's constant (e.g. `nn.LINGER`).
    ///     type: `int` (the default), `str`, or `bytes` (the raw value).
    ///
    /// Returns:
    ///     The value: times in ms, sizes in bytes.
    ///
    /// Raises:
    ///     NanomsgError: the socket has no such option (`ENOPROTOOPT`).
    ///     Closed: the socket is closed.
    ///     TypeError: `type` is none of the three.
    #[pyo3(signature = (level, option, r#type = None))]
    fn getsockopt<'py>(
        slf: &Bound<'py, Self>,
        level: i32,
        option: i32,
        r#type: Option<&Bound<'py, PyType>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let ctx = Context::on(slf, "getsockopt").option(level, option);
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        let Some(kind) = r#type.filter(|t| !t.is(py.get_type::<PyInt>())) else {
            return Ok(guard
                .getsockopt_int(level, option)
                .map_err(|e| ctx.err(e))?
                .into_pyobject(py)?
                .into_any());
        };
        let bytes = guard
            .getsockopt_bytes(level, option)
            .map_err(|e| ctx.err(e))?;
        if kind.is(py.get_type::<PyBytes>()) {
            Ok(PyBytes::new(py, &bytes).into_any())
        } else if kind.is(py.get_type::<PyString>()) {
            Ok(c_string(py, &bytes).into_any())
        } else {
            Err(PyTypeError::new_err("type must be int, str or bytes"))
        }
    }

    /// Sets an option (`nn_setsockopt`); the option properties are the usual way.
    ///
    /// Args:
    ///     level: as for `getsockopt`.
    ///     option: the option's constant.
    ///     value: an int for int options; str (as UTF-8) or bytes for the others.
    ///
    /// Raises:
    ///     InvalidArgument: nanomsg refuses the value.
    ///     ValueError: an int outside the C int range.
    ///     NanomsgError: the socket has no such option (`ENOPROTOOPT`).
    ///     Closed: the socket is closed.
    ///     TypeError: `value` is of another type.
    fn setsockopt(
        slf: &Bound<'_, Self>,
        level: i32,
        option: i32,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let ctx = Context::on(slf, "setsockopt")
            .option(level, option)
            .value(value);
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        if value.is_instance_of::<PyInt>() {
            return guard
                .setsockopt_int(level, option, c_int_value(value)?)
                .map_err(|e| ctx.err(e));
        }
        let payload = Payload::extract(value)?;
        guard
            .setsockopt_bytes(level, option, payload.as_slice())
            .map_err(|e| ctx.err(e))
    }

    /// The value of the option of the row `spec` (an `OptionSpec` of `_native.OPTIONS`), as
    /// its type says: int, bool or str. The option properties' getter.
    fn _get_option<'py>(
        slf: &Bound<'py, Self>,
        spec: &Bound<'py, PyOptionSpec>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let spec = spec.get().spec();
        let (level, option) = (spec.place.level, spec.place.option);
        let ctx = Context::on(slf, "getsockopt").option(level, option);
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        match spec.kind {
            Kind::Str | Kind::Bytes => {
                let bytes = guard
                    .getsockopt_bytes(level, option)
                    .map_err(|e| ctx.err(e))?;
                Ok(c_string(py, &bytes).into_any())
            }
            kind => {
                let value = guard
                    .getsockopt_int(level, option)
                    .map_err(|e| ctx.err(e))?;
                Ok(if kind == Kind::Bool {
                    PyBool::new(py, value != 0).to_owned().into_any()
                } else {
                    value.into_pyobject(py)?.into_any()
                })
            }
        }
    }

    /// Sets the option of the row `spec` to `value`, checking its Python type first: an int
    /// (or bool) for int and bool options, a str without NUL for str options. The option
    /// properties' setter.
    fn _set_option(
        slf: &Bound<'_, Self>,
        spec: &Bound<'_, PyOptionSpec>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let spec = spec.get().spec();
        let name = spec.name;
        if !spec.writable {
            return Err(PyAttributeError::new_err(format!(
                "option '{name}' is read-only"
            )));
        }
        let type_name = || value.get_type().name();
        match spec.kind {
            Kind::Str | Kind::Bytes => {
                let Ok(text) = value.cast::<PyString>() else {
                    return Err(PyTypeError::new_err(format!(
                        "{name} must be a str, not {}",
                        type_name()?
                    )));
                };
                // A C string: libnanomsg would keep the part before the NUL.
                if text.to_cow()?.contains('\0') {
                    return Err(PyValueError::new_err(format!(
                        "{name} must not contain a NUL character: {}",
                        value.repr()?
                    )));
                }
            }
            Kind::Int | Kind::Bool => {
                if !value.is_instance_of::<PyInt>() {
                    return Err(PyTypeError::new_err(format!(
                        "{name} must be an int, not {}",
                        type_name()?
                    )));
                }
            }
        }
        Self::setsockopt(slf, spec.place.level, spec.place.option, value)?;
        misuse::check_set(slf, spec)
    }

    /// Seconds after which a wait to receive (`recv`) or send must try again although the
    /// socket's fd did not signal (the end of a survey on nng), or None.
    fn _retry_after(slf: &Bound<'_, Self>, recv: bool) -> PyResult<Option<f64>> {
        let dir = if recv {
            Direction::Recv
        } else {
            Direction::Send
        };
        let ctx = Context::on(slf, if recv { "recv" } else { "send" });
        let at = slf
            .get()
            .inner
            .acquire()
            .map_err(|e| ctx.err(e))?
            .retry_at(dir);
        Ok(at.map(|t| t.saturating_duration_since(Instant::now()).as_secs_f64()))
    }

    /// `arecv`'s one try: the message, or None where it would have to wait (no exception:
    /// this is an event loop's hot path). Errors name `arecv`.
    fn _arecv_try<'py>(slf: &Bound<'py, Self>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let ctx = Context::on(slf, "arecv");
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        misuse::check_transfer(slf, "arecv", false)?;
        let msg = try_now(slf.py(), &guard, Direction::Recv, &ctx, 0, |flags| {
            guard.recv_msg(flags)
        })?;
        msg.map(|m| bytes_from(slf.py(), m.as_slice())).transpose()
    }

    /// `arecv_msg`'s one try (see `_arecv_try`).
    fn _arecv_msg_try(slf: &Bound<'_, Self>) -> PyResult<Option<PyMessage>> {
        let ctx = Context::on(slf, "arecv_msg");
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        misuse::check_transfer(slf, "arecv_msg", false)?;
        let got = if slf.get().inner.is_raw() {
            try_now(slf.py(), &guard, Direction::Recv, &ctx, 0, |flags| {
                guard.recv_with_header(flags)
            })?
        } else {
            try_now(slf.py(), &guard, Direction::Recv, &ctx, 0, |flags| {
                guard.recv_msg(flags).map(|m| (m, None))
            })?
        };
        Ok(got.map(|(msg, header)| PyMessage::from_parts(msg, header)))
    }

    /// `asend`'s one try: the size sent, or None where it would have to wait (see
    /// `_arecv_try`).
    fn _asend_try(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>) -> PyResult<Option<usize>> {
        let ctx = Context::on(slf, "asend");
        let payload = Payload::extract(data)?;
        let bytes = payload.as_slice();
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        misuse::check_transfer(slf, "asend", true)?;
        try_now(
            slf.py(),
            &guard,
            Direction::Send,
            &ctx,
            bytes.len(),
            |flags| guard.send(bytes, flags),
        )
    }

    /// The exception the native code raises for the error `errno` of `call` on this socket,
    /// with the same context: for the errors raised in Python (an async wait closed, timed
    /// out or ended by `term()`).
    fn _error(slf: &Bound<'_, Self>, errno: i32, call: &str) -> PyErr {
        Context::on(slf, call).err(NnError::new(errno))
    }

    /// `nn_get_statistic` with the numeric statistic.
    fn statistic(slf: &Bound<'_, Self>, stat: i32) -> PyResult<i64> {
        let ctx = Context::on(slf, "statistic");
        let guard = slf.get().inner.acquire().map_err(|e| ctx.err(e))?;
        guard.statistic(stat).map_err(|e| ctx.err(e))
    }
}

impl Drop for PySocket {
    fn drop(&mut self) {
        // nn_close may wait inside the C library (nng waits for its pipes to stop): never
        // with the GIL held, so that other Python threads run meanwhile.
        let inner = &self.inner;
        Python::attach(|py| {
            py.detach(|| {
                let _ = inner.close();
            })
        });
    }
}

impl PySocket {
    /// The safe socket behind this object.
    pub fn socket(&self) -> &Socket {
        &self.inner
    }
}

impl<'py> OnSocket<'py> for Bound<'py, PySocket> {
    fn object(&self) -> &Bound<'py, PyAny> {
        self.as_any()
    }

    fn socket(&self) -> &Socket {
        &self.get().inner
    }
}

impl<'py> Watched<'py> for Bound<'py, PySocket> {
    fn warned(&self) -> &Warned {
        &self.get().warned
    }
}
