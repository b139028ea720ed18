//! `nanomsg_rs.Message`: a message in a libnanomsg buffer, readable and writable through the
//! buffer protocol without a copy, sent without a copy by `Socket.send_msg`; and the messages
//! of a batch (`send_many`), taken from an iterable, where one `Message` given whole is a
//! mistake.

use std::os::raw::c_int;
use std::sync::{Mutex, MutexGuard};

use pyo3::exceptions::{PyBufferError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyByteArray, PyBytes, PyInt, PyMemoryView, PyString};

use crate::nn::{lock, NnMsg};
use crate::py::data::{self, Payload, LARGE_COPY};

#[derive(Default)]
struct State {
    /// The buffer; `None` once the message has been sent.
    msg: Option<NnMsg>,
    /// The SP header (routing backtrace on raw sockets).
    header: Option<Vec<u8>>,
    /// Buffer-protocol views alive; while any is, the buffer may not move or go.
    exports: usize,
    /// `bytes(m)` copies of a large message running without the lock and the GIL; while any
    /// is, the buffer may not move or go either.
    copies: usize,
}

impl State {
    /// The buffer, for a change that moves or frees it (`what`: "send", "resize"):
    /// `BufferError` while a memoryview of it is alive, `ValueError` once it was sent.
    fn movable(&mut self, what: &str) -> PyResult<&mut Option<NnMsg>> {
        if self.exports > 0 {
            return Err(PyBufferError::new_err(format!(
                "cannot {what} a Message while a memoryview of it is alive"
            )));
        }
        if self.copies > 0 {
            return Err(PyBufferError::new_err(format!(
                "cannot {what} a Message while another thread copies it (bytes())"
            )));
        }
        if self.msg.is_none() {
            return Err(PyValueError::new_err("Message was already sent"));
        }
        Ok(&mut self.msg)
    }
}

/// A message in a nanomsg buffer: ``Message(data)`` copies bytes-like data or a str (UTF-8)
/// into it, ``Message(size)`` makes a zero-filled one. ``memoryview(m)`` reads and writes it in
/// place; ``Socket.send_msg(m)`` sends it without a copy and leaves it empty. ``len(m)`` is
/// in bytes. Raises ``ValueError`` for a negative size, ``TypeError`` for other types,
/// ``nn.NanomsgError`` (``ENOMEM``) for a size that cannot be allocated.
// `freelist`: a received message's object is a freed one's, reused (no allocation, no GC
// link): 2,640 -> 2,527 instructions a `recv_msg` of 64 B from ipc, the whole process
// (callgrind, 40,000 messages; `recv` makes 2,290).
#[pyclass(frozen, freelist = 64, module = "nanomsg_rs._native", name = "Message")]
pub struct PyMessage {
    state: Mutex<State>,
}

/// A large `bytes(m)` copy in progress: uncounts itself from the message when dropped.
struct CopyPin<'a>(&'a PyMessage);

impl Drop for CopyPin<'_> {
    fn drop(&mut self) {
        self.0.lock().copies -= 1;
    }
}

/// A sendable message taken out of its Python object.
pub type Parts = (NnMsg, Option<Vec<u8>>);

impl PyMessage {
    /// A message around a received buffer.
    pub fn from_parts(msg: NnMsg, header: Option<Vec<u8>>) -> Self {
        Self {
            state: Mutex::new(State {
                msg: Some(msg),
                header,
                exports: 0,
                copies: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Takes the buffer out for a zero-copy send. `BufferError` while a view of it is alive,
    /// `ValueError` if it was sent already.
    pub fn take(&self) -> PyResult<Parts> {
        let mut st = self.lock();
        let msg = st.movable("send")?.take().expect("movable: a buffer");
        Ok((msg, st.header.take()))
    }

    /// Puts the buffer back after a send that failed.
    pub fn restore(&self, (msg, header): Parts) {
        let mut st = self.lock();
        st.msg = Some(msg);
        st.header = header;
    }

    fn with_bytes<T>(&self, f: impl FnOnce(&[u8]) -> T) -> T {
        let st = self.lock();
        f(st.msg.as_ref().map_or(&[][..], NnMsg::as_slice))
    }
}

#[pymethods]
impl PyMessage {
    #[new]
    fn new(data_or_size: &Bound<'_, PyAny>) -> PyResult<Self> {
        let msg = if data_or_size.is_instance_of::<PyInt>()
            && !data_or_size.is_instance_of::<pyo3::types::PyBool>()
        {
            let size: i64 = data_or_size.extract()?;
            let size =
                usize::try_from(size).map_err(|_| PyValueError::new_err("size must be >= 0"))?;
            let mut msg = NnMsg::alloc(size)?;
            msg.as_mut_slice().fill(0);
            msg
        } else {
            NnMsg::from_slice(Payload::extract(data_or_size)?.as_slice())?
        };
        Ok(Self::from_parts(msg, None))
    }

    fn __len__(&self) -> usize {
        self.with_bytes(<[u8]>::len)
    }

    /// A copy of the contents; of 1 MiB or more, made without the GIL.
    fn __bytes__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let mut st = self.lock();
        let data = st.msg.as_ref().map_or(&[][..], NnMsg::as_slice);
        if data.len() < LARGE_COPY {
            return data::bytes_from(py, data);
        }
        // A large message is copied without its lock and without the GIL (other threads,
        // this message's users among them, run meanwhile), its buffer pinned: it cannot be
        // sent, resized or freed while `copies` counts this copy.
        let (ptr, len) = (data.as_ptr(), data.len());
        st.copies += 1;
        drop(st);
        let _pinned = CopyPin(self);
        // SAFETY: ptr/len are the message's buffer, which stays where it is until `_pinned`
        // uncounts this copy; a thread writing into it through a memoryview meanwhile races
        // with the copy as with any copy of a shared buffer, without touching freed memory.
        let data = unsafe { std::slice::from_raw_parts(ptr, len) };
        data::bytes_from(py, data)
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let equal = if let Ok(m) = other.cast::<PyMessage>() {
            if std::ptr::eq(m.get(), self) {
                true
            } else {
                let theirs = m.get().with_bytes(<[u8]>::to_vec);
                self.with_bytes(|b| b == theirs.as_slice())
            }
        } else if other.is_instance_of::<PyString>() {
            // Like bytes: never equal to a str.
            return Ok(py.NotImplemented());
        } else if let Ok(p) = Payload::extract(other) {
            self.with_bytes(|b| b == p.as_slice())
        } else {
            return Ok(py.NotImplemented());
        };
        match op {
            CompareOp::Eq => Ok(equal.into_pyobject(py)?.to_owned().into_any().unbind()),
            CompareOp::Ne => Ok((!equal).into_pyobject(py)?.to_owned().into_any().unbind()),
            _ => Ok(py.NotImplemented()),
        }
    }

    fn __repr__(&self) -> String {
        let st = self.lock();
        match (&st.msg, &st.header) {
            (None, _) => "<Message sent>".to_owned(),
            (Some(m), None) => format!("<Message {} bytes>", m.len()),
            (Some(m), Some(h)) => format!("<Message {} bytes, header {} bytes>", m.len(), h.len()),
        }
    }

    /// Changes the size in bytes (``nn_reallocmsg``), keeping the leading bytes; new bytes are
    /// zero. ``ValueError`` for a negative size or a sent message; ``BufferError`` while a
    /// memoryview of the message is alive or another thread copies it (``bytes``).
    fn resize(&self, size: i64) -> PyResult<()> {
        let size = usize::try_from(size).map_err(|_| PyValueError::new_err("size must be >= 0"))?;
        let mut st = self.lock();
        let msg = st.movable("resize")?.as_mut().expect("movable: a buffer");
        let old = msg.len();
        msg.resize(size)?;
        if size > old {
            msg.as_mut_slice()[old..].fill(0);
        }
        Ok(())
    }

    /// The SP header (bytes) received with the message, or ``None``: on ``sp-raw`` sockets it
    /// is the routing backtrace; ``send_msg`` on a raw socket sends it back with the message.
    /// Set it to bytes, str or None (``TypeError`` otherwise).
    #[getter]
    fn header<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.lock().header.as_deref().map(|h| PyBytes::new(py, h))
    }

    #[setter]
    fn set_header(&self, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let header = match value {
            None => None,
            Some(v) if v.is_none() => None,
            Some(v) => Some(Payload::extract(v)?.as_slice().to_vec()),
        };
        self.lock().header = header;
        Ok(())
    }

    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let this = slf.get();
        let mut st = this.lock();
        let (ptr, len) = match st.msg.as_ref() {
            Some(m) => (m.as_ptr(), m.len()),
            None => (std::ptr::NonNull::<u8>::dangling().as_ptr().cast(), 0),
        };
        let len = ffi::Py_ssize_t::try_from(len)
            .map_err(|_| PyBufferError::new_err("message too large"))?;
        // SAFETY: view is the caller's Py_buffer to fill; ptr/len describe memory that lives
        // while st.exports > 0 (the buffer cannot be sent, resized or freed meanwhile);
        // FillInfo takes a new reference to slf for view.obj.
        let rc = unsafe { ffi::PyBuffer_FillInfo(view, slf.as_ptr(), ptr, len, 0, flags) };
        if rc < 0 {
            return Err(PyErr::fetch(slf.py()));
        }
        st.exports += 1;
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {
        let mut st = self.lock();
        st.exports = st.exports.saturating_sub(1);
    }
}

/// Borrows every message of the iterable `messages` (as [`Payload::extract`] does), all of
/// them before anything is sent. One message given whole (str, bytes, bytearray, memoryview,
/// `Message`) is a `TypeError`, not taken apart; so is an item that is no message, named by
/// its index.
pub fn extract_messages<'py>(
    messages: &Bound<'py, PyAny>,
    call: &str,
) -> PyResult<Vec<Payload<'py>>> {
    let py = messages.py();
    let kind = || {
        messages
            .get_type()
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string())
    };
    if messages.is_instance_of::<PyBytes>()
        || messages.is_instance_of::<PyString>()
        || messages.is_instance_of::<PyByteArray>()
        || messages.is_instance_of::<PyMemoryView>()
        || messages.is_instance_of::<PyMessage>()
    {
        return Err(PyTypeError::new_err(format!(
            "{call}() takes an iterable of messages, not one {}: put it in a list, or use send()",
            kind()
        )));
    }
    let items = messages.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "{call}() takes an iterable of messages, not {}",
            kind()
        ))
    })?;
    items
        .enumerate()
        .map(|(i, item)| {
            Payload::extract(&item?).map_err(|e| {
                if e.is_instance_of::<PyTypeError>(py) {
                    PyTypeError::new_err(format!("{call}() message {i}: {}", e.value(py)))
                } else {
                    e
                }
            })
        })
        .collect()
}
