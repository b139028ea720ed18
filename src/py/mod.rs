//! The thin Python-facing layer (PyO3): argument conversion, the GIL, Python exceptions and
//! classes, over the safe layer `nn`. Gathered into the `_native` module below.
//!
//! - `socket`: `_native.Socket`;
//! - `message`: `_native.Message`;
//! - `options`: `_native.OptionSpec` and `_native.OPTIONS`, the option table's rows;
//! - `functions`: the module's functions (poll, device, term, strerror, symbol_info);
//! - `blocking`: where blocking calls release the GIL, and signals reach Python;
//! - `data`: Python objects read as bytes;
//! - `errors`: `NnError` to Python exceptions (the errno-to-class mapping);
//! - `misuse`: the misuse warnings, their kinds and texts, once per socket.

mod blocking;
mod data;
mod errors;
mod functions;
mod message;
mod misuse;
mod options;
mod socket;

use pyo3::prelude::*;

/// The native core of `nanomsg_rs`; import `nanomsg_rs`, not this module.
#[pymodule]
mod _native {
    use super::*;
    use crate::nn;

    #[pymodule_export]
    use super::socket::PySocket;

    #[pymodule_export]
    use super::message::PyMessage;

    #[pymodule_export]
    use super::options::PyOptionSpec;

    #[pymodule_export]
    use super::errors::ErrorContext;

    #[pymodule_export]
    use super::functions::{device, poll, strerror, symbol_info, term};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        nn::install_fork_guard();
        for (name, value) in nn::CONSTANTS {
            m.add(name.strip_prefix("NN_").unwrap_or(name), value)?;
        }
        // nng has no libtool ABI version to report: None there (see LIBRARY_VERSION).
        m.add("NANOMSG_VERSION", nn::version().ok())?;
        m.add("BACKEND", nn::NAME)?;
        m.add("LIBRARY_VERSION", nn::library_version())?;
        m.add("HARDENED", nn::HARDENED)?;
        m.add("OPTIONS", super::options::all_specs(m.py())?)?;
        m.add("MAX_SOCKETS", nn::MAX_SOCKETS)?;
        m.add("SOCKET_LIMIT_REACHED", nn::SOCKET_LIMIT_REACHED)?;
        Ok(())
    }
}
