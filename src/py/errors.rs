//! The bridge from [`NnError`] to Python exceptions. The classes and the errno-to-class table
//! live in `nanomsg_rs/_errors.py`; this module only looks the class up and raises it with
//! `(errno, strerror)`, so `.errno` and `.strerror` work as on any `OSError`.

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

use crate::nn::NnError;

/// `(errno -> class table, default class)` from `nanomsg_rs._errors`, loaded once.
static CLASSES: PyOnceLock<(Py<PyDict>, Py<PyType>)> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&(Py<PyDict>, Py<PyType>)> {
    CLASSES.get_or_try_init(py, || {
        let module = py.import("nanomsg_rs._errors")?;
        let table = module
            .getattr("ERRNO_CLASSES")?
            .cast_into::<PyDict>()?
            .unbind();
        let base = module
            .getattr("NanomsgError")?
            .cast_into::<PyType>()?
            .unbind();
        Ok::<_, PyErr>((table, base))
    })
}

/// The Python exception for `err`: its class from the table, `NanomsgError` otherwise.
pub fn to_pyerr(py: Python<'_>, err: NnError) -> PyErr {
    let args = (err.errno(), err.strerror());
    let Ok((table, base)) = classes(py) else {
        // The package is not importable (the native module used on its own).
        return PyOSError::new_err(args);
    };
    let class = table
        .bind(py)
        .get_item(err.errno())
        .ok()
        .flatten()
        .and_then(|c| c.cast_into::<PyType>().ok())
        .unwrap_or_else(|| base.bind(py).clone());
    PyErr::from_type(class, args)
}

impl From<NnError> for PyErr {
    fn from(err: NnError) -> Self {
        Python::attach(|py| to_pyerr(py, err))
    }
}
