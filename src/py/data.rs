//! Reading Python objects as bytes: bytes, str (as UTF-8) or any buffer, without copying
//! where the object allows it.

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// Bytes to send, borrowed from a Python object for the length of the call.
pub enum Payload<'py> {
    Bytes(Bound<'py, PyBytes>),
    Buffer(PyUntypedBuffer),
}

impl<'py> Payload<'py> {
    /// Borrows the bytes of `data`; `TypeError` for anything that is not bytes-like or str.
    pub fn extract(data: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = data.cast::<PyBytes>() {
            return Ok(Payload::Bytes(b.clone()));
        }
        if let Ok(s) = data.cast::<PyString>() {
            return Ok(Payload::Bytes(s.encode_utf8()?));
        }
        let buf = PyUntypedBuffer::get(data).map_err(|_| {
            PyTypeError::new_err(format!(
                "data must be bytes, str or a buffer, not {}",
                data.get_type()
                    .name()
                    .map_or_else(|_| "?".to_owned(), |n| n.to_string())
            ))
        })?;
        if buf.is_c_contiguous() {
            return Ok(Payload::Buffer(buf));
        }
        let copy = data
            .py()
            .import("builtins")?
            .getattr("memoryview")?
            .call1((data,))?;
        Ok(Payload::Bytes(
            copy.call_method0("tobytes")?.cast_into::<PyBytes>()?,
        ))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Bytes(b) => b.as_bytes(),
            // SAFETY: the export keeps the C-contiguous memory alive and unresizable while
            // `self` lives; len_bytes is its size.
            Payload::Buffer(buf) => unsafe {
                std::slice::from_raw_parts(buf.buf_ptr().cast::<u8>(), buf.len_bytes())
            },
        }
    }
}
