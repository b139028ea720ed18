//! The bridge from [`NnError`] to Python exceptions. The classes, the errno-to-class table and
//! every text of an error live in `nanomsg_rs/_errors.py`; this module looks the
//! class up, raises it with `(errno, strerror)` (and the address as `filename`), and attaches
//! what the call concerned ([`Context`]), from which the exception writes its message when it
//! is shown.

use pyo3::exceptions::PyOSError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

use crate::ffi;
use crate::nn::{Direction, NnError, Usage};
use crate::py::socket::PySocket;

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

/// What a failed call concerned: the call, the socket, the address, the option and the value
/// given. The exception's message is made of it, when shown.
#[derive(Clone, Copy)]
pub struct Context<'a, 'py> {
    call: &'static str,
    socket: Option<&'a Bound<'py, PySocket>>,
    address: Option<&'a Bound<'py, PyAny>>,
    option: Option<(i32, i32)>,
    value: Option<&'a Bound<'py, PyAny>>,
}

impl<'a, 'py> Context<'a, 'py> {
    /// A call that concerns no socket (e.g. `poll`, `term`).
    pub fn call(call: &'static str) -> Self {
        Self {
            call,
            socket: None,
            address: None,
            option: None,
            value: None,
        }
    }

    /// A call on `socket`.
    pub fn on(socket: &'a Bound<'py, PySocket>, call: &'static str) -> Self {
        Self {
            socket: Some(socket),
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

    /// ... with this value (of an option).
    pub fn value(self, value: &'a Bound<'py, PyAny>) -> Self {
        Self {
            value: Some(value),
            ..self
        }
    }

    /// The Python exception for `err` in this context.
    pub fn err(&self, err: NnError) -> PyErr {
        let py = match self.socket {
            Some(s) => s.py(),
            None => return to_pyerr_with(err, Some(self)),
        };
        raise(py, err, Some(self))
    }
}

/// The Python exception for `err`, in `ctx` if there is one.
fn to_pyerr_with(err: NnError, ctx: Option<&Context<'_, '_>>) -> PyErr {
    Python::attach(|py| raise(py, err, ctx))
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

/// The exception instance, with the context as attributes (see `_errors.NanomsgError`).
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
    if let Some(socket) = ctx.socket {
        let inner = socket.get().socket();
        exc.setattr(intern!(py, "socket"), socket)?;
        // The timeouts that ran out, read now: the socket may be closed by the time the
        // message is shown.
        let timeouts = if err.errno() == libc::ETIMEDOUT {
            timeouts_ms(inner)
        } else {
            None
        };
        exc.setattr(
            intern!(py, "_where"),
            (
                inner.protocol(),
                inner.is_raw(),
                inner.unguarded_id(),
                timeouts,
                inner.used(Usage::Endpoint),
            ),
        )?;
    }
    if let Some(option) = ctx.option {
        exc.setattr(intern!(py, "_option"), option)?;
    }
    if let Some(value) = ctx.value {
        exc.setattr(intern!(py, "_value"), value)?;
    }
    Ok(exc)
}

/// `(sndtimeo, rcvtimeo, surveyor deadline)` in ms (-1: none), where they can be read.
fn timeouts_ms(socket: &crate::nn::Socket) -> Option<(i64, i64, Option<i32>)> {
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

impl From<NnError> for PyErr {
    fn from(err: NnError) -> Self {
        to_pyerr_with(err, None)
    }
}
