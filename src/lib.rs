//! nanomsg-rs: the Python binding for libnanomsg.
//!
//! Three layers, each ignorant of the one above:
//! - `ffi`: raw C declarations, nothing else;
//! - `nn`: safe Rust over them, no PyO3;
//! - `py`: the thin Python-facing layer, gathered into the `_native` module below.

mod ffi;
mod nn;
mod py;

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
    use crate::py::socket::PySocket;

    #[pymodule_export]
    use crate::py::message::PyMessage;

    #[pymodule_export]
    use crate::py::functions::{device, poll, strerror, symbol_info, term};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        nn::socket::install_fork_guard();
        for (name, value) in nn::constants::CONSTANTS {
            m.add(name.strip_prefix("NN_").unwrap_or(name), value)?;
        }
        m.add("EFORKED", nn::error::EFORKED)?;
        // nng has no libtool ABI version to report: None there (see LIBRARY_VERSION).
        m.add("NANOMSG_VERSION", nn::library::version().ok())?;
        m.add("BACKEND", nn::compat::NAME)?;
        m.add("LIBRARY_VERSION", nn::compat::library_version())?;
        m.add("HARDENED", nn::compat::HARDENED)?;
        Ok(())
    }
}
