//! Reading Python objects as bytes: bytes, str (as UTF-8) or any buffer, without copying
//! where the object allows it; and making `bytes` of a message (copied at full speed wherever
//! malloc puts them, `crate::nn::copy_bytes`), without the GIL for a large one.

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::ffi as pyffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::nn::copy_bytes;

/// From this size on, a copy of a message between Python's memory and the library's runs
/// without the GIL, so that other threads run meanwhile (1 MiB: about 100 µs of copying at
/// memory speed, against well under a microsecond to let the GIL go and take it back).
pub const LARGE_COPY: usize = 1 << 20;

/// A new `bytes` holding a copy of `data`; the copy runs without the GIL from `LARGE_COPY`
/// bytes on.
#[inline]
pub fn bytes_from<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    if data.len() <= SMALL_COPY {
        Ok(PyBytes::new(py, data))
    } else {
        filled_bytes(py, data)
    }
}

/// Up to this size `bytes` are made by CPython's own copy; above it, by [`copy_bytes`], which
/// avoids glibc's slow `rep movsb` placements (a copy of 2 KiB or less never meets them).
const SMALL_COPY: usize = 2048;

/// [`bytes_from`] for a message above `SMALL_COPY` bytes.
#[cold]
#[inline(never)]
fn filled_bytes<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let len = pyffi::Py_ssize_t::try_from(data.len())
        .map_err(|_| pyo3::exceptions::PyMemoryError::new_err("message too large"))?;
    // SAFETY: a NULL source asks for a new, uninitialised bytes object of len bytes; the GIL
    // is held.
    let raw = unsafe { pyffi::PyBytes_FromStringAndSize(std::ptr::null(), len) };
    // SAFETY: raw is a new (owned) reference or NULL with an exception set.
    let obj = unsafe { Bound::from_owned_ptr_or_err(py, raw) }?.cast_into::<PyBytes>()?;
    // SAFETY: obj is a bytes object; its buffer holds len bytes.
    let dst = unsafe { pyffi::PyBytes_AsString(obj.as_ptr()) }.cast::<u8>();
    // SAFETY: the object is new and no other code holds a reference to it: these len bytes
    // are ours to fill, without the GIL too, until it is returned.
    let target = unsafe { std::slice::from_raw_parts_mut(dst, data.len()) };
    if data.len() < LARGE_COPY {
        copy_bytes(target, data);
    } else {
        py.detach(|| copy_bytes(target, data));
    }
    Ok(obj)
}

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

/// Runs `f` on the memory of `obj`, a writable, C-contiguous buffer, exported for the length
/// of the call. The export lives on the stack (no heap copy of the `Py_buffer`, as
/// `PyUntypedBuffer` makes) and is released when `f` returns, also on an error or a panic.
pub fn with_writable_buffer<R>(
    obj: &Bound<'_, PyAny>,
    f: impl FnOnce(&mut [u8]) -> PyResult<R>,
) -> PyResult<R> {
    /// Releases the export when dropped.
    struct Export<'a>(&'a mut pyffi::Py_buffer);
    impl Drop for Export<'_> {
        fn drop(&mut self) {
            // SAFETY: the view was filled by a successful PyObject_GetBuffer and is released
            // exactly once, here, with the GIL held (f returns with it).
            unsafe { pyffi::PyBuffer_Release(self.0) };
        }
    }
    let mut view = std::mem::MaybeUninit::<pyffi::Py_buffer>::uninit();
    // SAFETY: obj is a live object, the GIL is held, and view is storage for one Py_buffer,
    // which the call fills when it succeeds (and leaves alone when it fails).
    if unsafe { pyffi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), pyffi::PyBUF_FULL_RO) }
        != 0
    {
        return Err(PyErr::fetch(obj.py()));
    }
    // SAFETY: filled by the successful call above; it stays in this frame until released.
    let export = Export(unsafe { view.assume_init_mut() });
    if export.0.readonly != 0 {
        return Err(PyTypeError::new_err("recv_into() needs a writable buffer"));
    }
    // SAFETY: the view is a live export.
    if unsafe { pyffi::PyBuffer_IsContiguous(&*export.0, b'C' as std::os::raw::c_char) } == 0 {
        return Err(PyTypeError::new_err(
            "recv_into() needs a C-contiguous buffer",
        ));
    }
    let len = usize::try_from(export.0.len).unwrap_or(0);
    let target: &mut [u8] = if len == 0 || export.0.buf.is_null() {
        &mut []
    } else {
        // SAFETY: the export keeps this writable, C-contiguous memory of len bytes alive and
        // unresizable until it is released, after f returns.
        unsafe { std::slice::from_raw_parts_mut(export.0.buf.cast::<u8>(), len) }
    };
    f(target)
}
