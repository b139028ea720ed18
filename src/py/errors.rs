//! The bridge from [`NnError`] to Python exceptions. The classes, the errno-to-class table and
//! every text of an error live in `nanomsg_rs/_errors.py`; this module looks the
//! class up, raises it with `(errno, strerror)` (and the address as `filename`), and attaches
//! what the call concerned ([`Context`]), from which the exception writes its message when it
//! is shown.

use pyo3::exceptions::PyOSError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::ffi;
use crate::nn::{self, find_option, Direction, NnError, Socket, Usage};

/// What `nanomsg_rs._errors` provides to the native code, loaded once.
struct Bridge {
    /// errno -> exception class.
    table: Py<PyDict>,
    /// `NanomsgError`, for the codes the table does not name.
    base: Py<PyType>,
    /// `UsageWarning`, the class of the misuse warnings.
    usage_warning: Py<PyAny>,
}

static BRIDGE: PyOnceLock<Bridge> = PyOnceLock::new();

fn bridge(py: Python<'_>) -> PyResult<&Bridge> {
    BRIDGE.get_or_try_init(py, || {
        let module = py.import("nanomsg_rs._errors")?;
        Ok::<_, PyErr>(Bridge {
            table: module
                .getattr("ERRNO_CLASSES")?
                .cast_into::<PyDict>()?
                .unbind(),
            base: module
                .getattr("NanomsgError")?
                .cast_into::<PyType>()?
                .unbind(),
            usage_warning: module.getattr("UsageWarning")?.unbind(),
        })
    })
}

/// `nanomsg_rs.UsageWarning`, the class of the misuse warnings (see `misuse`).
pub fn usage_warning(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    Ok(bridge(py)?.usage_warning.bind(py).clone())
}

/// The exception class for `errno`: from the table, `NanomsgError` otherwise.
fn class_of<'py>(py: Python<'py>, bridge: &Bridge, errno: i32) -> Bound<'py, PyType> {
    bridge
        .table
        .bind(py)
        .get_item(errno)
        .ok()
        .flatten()
        .and_then(|c| c.cast_into::<PyType>().ok())
        .unwrap_or_else(|| bridge.base.bind(py).clone())
}

/// A Python object with a socket of the safe core behind it (`_native.Socket`), whose
/// failed calls [`Context::on`] describes.
pub trait OnSocket<'py> {
    /// The Python object (the exception's `socket`).
    fn object(&self) -> &Bound<'py, PyAny>;
    /// The socket behind it.
    fn socket(&self) -> &Socket;
}

/// What a failed call concerned: the call, the socket, the address, the option and the value
/// given. The exception's message is made of it, when shown.
#[derive(Clone, Copy)]
pub struct Context<'a, 'py> {
    call: &'a str,
    socket: Option<(&'a Bound<'py, PyAny>, &'a Socket)>,
    address: Option<&'a Bound<'py, PyAny>>,
    option: Option<(i32, i32)>,
    value: Option<&'a Bound<'py, PyAny>>,
}

impl<'a, 'py> Context<'a, 'py> {
    /// A call that concerns no socket (e.g. `poll`, `term`).
    pub fn call(call: &'a str) -> Self {
        Self {
            call,
            socket: None,
            address: None,
            option: None,
            value: None,
        }
    }

    /// A call on `socket`.
    pub fn on(socket: &'a impl OnSocket<'py>, call: &'a str) -> Self {
        Self {
            socket: Some((socket.object(), socket.socket())),
            ..Self::call(call)
        }
    }

    /// ... about this address (the exception's `filename`).
    pub fn address(self, address: &'a Bound<'py, PyAny>) -> Self {
        Self {
            address: Some(address),
            ..self
        }
    }

    /// ... about this option.
    pub fn option(self, level: i32, option: i32) -> Self {
        Self {
            option: Some((level, option)),
            ..self
        }
    }

    /// ... with this value (of an option, or the endpoint given to `shutdown`).
    pub fn value(self, value: &'a Bound<'py, PyAny>) -> Self {
        Self {
            value: Some(value),
            ..self
        }
    }

    /// The Python exception for `err` in this context.
    pub fn err(&self, err: NnError) -> PyErr {
        match self.socket {
            Some((object, _)) => raise(object.py(), err, Some(self)),
            None => Python::attach(|py| raise(py, err, Some(self))),
        }
    }
}

fn raise(py: Python<'_>, err: NnError, ctx: Option<&Context<'_, '_>>) -> PyErr {
    let plain = || PyOSError::new_err((err.errno(), err.strerror()));
    let Ok(bridge) = bridge(py) else {
        // The package is not importable (the native module used on its own).
        return plain();
    };
    let class = class_of(py, bridge, err.errno());
    let Some(ctx) = ctx else {
        return PyErr::from_type(class, (err.errno(), err.strerror()));
    };
    match with_context(py, &class, err, ctx) {
        Ok(exc) => PyErr::from_value(exc),
        Err(_) => PyErr::from_type(class, (err.errno(), err.strerror())),
    }
}

/// The exception instance, with the context as attributes (see `_errors.NanomsgError`): the
/// one place where an exception gets them, for the errors raised in Python too (see
/// `_native.Socket._error`).
fn with_context<'py>(
    py: Python<'py>,
    class: &Bound<'py, PyType>,
    err: NnError,
    ctx: &Context<'_, 'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let exc = match ctx.address {
        Some(address) => class.call1((err.errno(), err.strerror(), address))?,
        None => class.call1((err.errno(), err.strerror()))?,
    };
    exc.setattr(intern!(py, "call"), ctx.call)?;
    if let Some((object, inner)) = ctx.socket {
        exc.setattr(intern!(py, "socket"), object)?;
        let context = ErrorContext {
            protocol: inner.protocol(),
            raw: inner.is_raw(),
            number: inner.unguarded_id(),
            had_endpoint: inner.used(Usage::Endpoint),
            // The timeouts that ran out, read now: the socket may be closed by the time the
            // message is shown.
            timeouts: (err.errno() == libc::ETIMEDOUT)
                .then(|| timeouts_ms(inner))
                .flatten(),
            place: ctx.option,
            value: ctx.value.map(|v| v.clone().unbind()),
        };
        exc.setattr(intern!(py, "_context"), Bound::new(py, context)?)?;
    }
    Ok(exc)
}

/// `(sndtimeo, rcvtimeo, surveyor deadline)` in ms (-1: none), where they can be read.
type Timeouts = (i64, i64, Option<i32>);

fn timeouts_ms(socket: &Socket) -> Option<Timeouts> {
    let guard = socket.acquire().ok()?;
    let ms = |dir| match guard.timeout(dir) {
        Ok(Some(t)) => i64::try_from(t.as_millis()).unwrap_or(i64::MAX),
        _ => -1,
    };
    let deadline = (socket.protocol() == ffi::NN_SURVEYOR)
        .then(|| {
            guard
                .getsockopt_int(ffi::NN_SURVEYOR, ffi::NN_SURVEYOR_DEADLINE)
                .ok()
        })
        .flatten();
    Some((ms(Direction::Send), ms(Direction::Recv), deadline))
}

/// An [`ErrorContext`]'s fields, in their order (for pickling).
type State = (
    i32,
    bool,
    i32,
    bool,
    Option<Timeouts>,
    Option<(i32, i32)>,
    Option<Py<PyAny>>,
);

/// What a failed call on a socket concerned, as an exception carries it (``_context``): the
/// socket (protocol, raw or not, number, whether it ever had an endpoint), the timeouts that
/// ran out, the option and the value given. ``_errors`` writes the message from it.
#[pyclass(frozen, module = "nanomsg_rs._native", name = "ErrorContext")]
pub struct ErrorContext {
    protocol: i32,
    raw: bool,
    number: i32,
    had_endpoint: bool,
    timeouts: Option<Timeouts>,
    place: Option<(i32, i32)>,
    value: Option<Py<PyAny>>,
}

#[pymethods]
impl ErrorContext {
    /// Made by the native code; this constructor, from the state `__reduce__` gives, is
    /// for pickling.
    #[new]
    #[rustfmt::skip]
    fn new(state: State) -> Self {
        let (protocol, raw, number, had_endpoint, timeouts, place, value) = state;
        Self { protocol, raw, number, had_endpoint, timeouts, place, value }
    }

    /// The socket's protocol, by name (``"REQ"``), or None for a number that is none.
    #[getter]
    fn protocol(&self) -> Option<&'static str> {
        nn::protocol_name(self.protocol)
    }

    /// True for a raw (``sp-raw``) socket.
    #[getter]
    fn raw(&self) -> bool {
        self.raw
    }

    /// The socket's number.
    #[getter]
    fn number(&self) -> i32 {
        self.number
    }

    /// True once the socket was bound or connected (an adopted one counts as such).
    #[getter]
    fn had_endpoint(&self) -> bool {
        self.had_endpoint
    }

    /// ``sndtimeo`` in ms (-1: none) when the call timed out, else None.
    #[getter]
    fn sndtimeo(&self) -> Option<i64> {
        self.timeouts.map(|t| t.0)
    }

    /// ``rcvtimeo`` in ms (-1: none) when the call timed out, else None.
    #[getter]
    fn rcvtimeo(&self) -> Option<i64> {
        self.timeouts.map(|t| t.1)
    }

    /// A SURVEYOR's ``surveyor_deadline`` in ms when the call timed out, else None.
    #[getter]
    fn deadline(&self) -> Option<i32> {
        self.timeouts.and_then(|t| t.2)
    }

    /// The option's name (``"rcvtimeo"``; ``"option 99 of level 0"`` for one the binding
    /// does not know), or None for a call about no option.
    #[getter]
    fn option(&self) -> Option<String> {
        let (level, option) = self.place?;
        Some(match find_option(level, option) {
            Some(spec) => spec.name.to_owned(),
            None => format!("option {option} of level {level}"),
        })
    }

    /// The value given (an option's; the endpoint id given to ``shutdown``), or None.
    #[getter]
    fn value(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.value.as_ref().map(|v| v.clone_ref(py))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let c = slf.get();
        let value = c.value.as_ref().map(|v| v.clone_ref(py));
        let state: State = (
            c.protocol,
            c.raw,
            c.number,
            c.had_endpoint,
            c.timeouts,
            c.place,
            value,
        );
        let args = (state,).into_pyobject(py)?.into_any();
        PyTuple::new(py, [slf.get_type().into_any(), args])
    }

    fn __repr__(&self) -> String {
        format!(
            "<ErrorContext {}{} socket {}>",
            if self.raw { "raw " } else { "" },
            nn::protocol_name(self.protocol).unwrap_or("?"),
            self.number
        )
    }
}

impl From<NnError> for PyErr {
    fn from(err: NnError) -> Self {
        Python::attach(|py| raise(py, err, None))
    }
}
