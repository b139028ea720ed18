//! A socket's endpoints: `nn_bind`, `nn_connect`, `nn_shutdown`.
//!
//! The socket keeps the endpoints it made and has not shut down, each as its id and kind
//! (bound or connected): nng's `nn_shutdown` ignores its socket argument and would close any
//! socket's endpoint, and nng numbers listeners and dialers apart, so one socket's bound and
//! connected endpoints can share an id (see `backend::shutdown_endpoint`). The kind tells them
//! apart; on libnanomsg a socket's ids never repeat.

use std::collections::HashSet;
use std::ffi::CStr;
use std::os::raw::c_int;

use super::{Guard, Usage};
use crate::ffi;
use crate::nn::backend;
use crate::nn::error::{check, NnError, NnResult};
use crate::nn::sync::lock;

impl Guard<'_> {
    fn endpoints(&self) -> std::sync::MutexGuard<'_, HashSet<(c_int, bool)>> {
        lock(&self.socket.endpoints)
    }

    /// True while the socket has an endpoint it made and has not shut down.
    pub fn has_endpoints(&self) -> bool {
        !self.endpoints().is_empty()
    }

    /// `nn_bind`; returns the endpoint id.
    pub fn bind(&self, addr: &CStr) -> NnResult<c_int> {
        self.add_endpoint(addr, true)
    }

    /// `nn_connect`; returns the endpoint id.
    pub fn connect(&self, addr: &CStr) -> NnResult<c_int> {
        self.add_endpoint(addr, false)
    }

    /// `nn_bind` (with `bind`) or `nn_connect`, and the endpoint noted as this socket's.
    fn add_endpoint(&self, addr: &CStr, bind: bool) -> NnResult<c_int> {
        backend::check_ipc_address(addr, bind)?;
        let ep = match backend::tls_add_endpoint(&self.socket.tls, self.id(), addr, bind) {
            Some(made) => made?,
            None => {
                let add = if bind { ffi::nn_bind } else { ffi::nn_connect };
                // SAFETY: addr is NUL-terminated and outlives the call; the number is held
                // by self.
                check(unsafe { add(self.id(), addr.as_ptr()) }).map_err(backend::endpoint_error)?
            }
        };
        self.endpoints().insert((ep, bind));
        self.socket.note(Usage::Endpoint);
        Ok(ep)
    }

    /// `nn_shutdown` of one of this socket's endpoints (`EINVAL` for any other id). `bound`
    /// names the kind (`Some(true)`: made by `bind`) when the caller knows it; without it, an
    /// id that is both a bound and a connected endpoint (nng only) means the connected one,
    /// as nng's own `nn_shutdown` does.
    pub fn shutdown(&self, endpoint: c_int, bound: Option<bool>) -> NnResult<()> {
        let key = {
            let known = self.endpoints();
            let has = |kind: bool| known.contains(&(endpoint, kind));
            match bound {
                Some(kind) if has(kind) => (endpoint, kind),
                None if has(false) => (endpoint, false),
                None if has(true) => (endpoint, true),
                _ => return Err(NnError::new(libc::EINVAL)),
            }
        };
        loop {
            match backend::shutdown_endpoint(self.id(), key.0, key.1) {
                Err(e) if e.errno() == libc::EINTR => continue,
                other => {
                    if other.is_ok() {
                        self.endpoints().remove(&key);
                    }
                    return other;
                }
            }
        }
    }
}
