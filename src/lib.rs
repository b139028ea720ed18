//! nanomsg-rs: the Python binding for libnanomsg.
//!
//! Three layers, each ignorant of the one above:
//! - `ffi`: raw C declarations, nothing else;
//! - `error`, `message`, `socket`, `survey`, `device`, `library`, `backend`, `constants`:
//!   safe Rust, no PyO3;
//! - `py_*`: the thin Python-facing layer, gathered into the `_native` module below.

mod backend;
mod constants;
mod device;
mod error;
mod ffi;
mod library;
mod message;
mod py_blocking;
mod py_data;
mod py_errors;
mod py_functions;
mod py_message;
mod py_socket;
mod socket;
mod survey;

use std::sync::{Mutex, MutexGuard};

use pyo3::prelude::*;

/// Locks `mutex`, also after a panic elsewhere poisoned it: every critical section here
/// leaves its data consistent, so the data stays good to use.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The native core of `nanomsg_rs`; import `nanomsg_rs`, not this module.
#[pymodule]
mod _native {
    use super::*;

    #[pymodule_export]
    use crate::py_socket::PySocket;

    #[pymodule_export]
    use crate::py_message::PyMessage;

    #[pymodule_export]
    use crate::py_functions::{device, poll, strerror, symbol_info, term};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        socket::install_fork_guard();
        for (name, value) in constants::CONSTANTS {
            m.add(name.strip_prefix("NN_").unwrap_or(name), value)?;
        }
        m.add("EFORKED", error::EFORKED)?;
        // nng has no libtool ABI version to report: None there (see LIBRARY_VERSION).
        m.add("NANOMSG_VERSION", library::version().ok())?;
        m.add("BACKEND", backend::NAME)?;
        m.add("LIBRARY_VERSION", backend::library_version())?;
        m.add("HARDENED", backend::HARDENED)?;
        Ok(())
    }
}
