//! Whether a REP or RESPONDENT socket on nng has a reply due.
//!
//! nng's REP and RESPONDENT sockets refuse a reply sent with `NN_DONTWAIT` while the previous
//! one is still going out (REP even loses the request it answers; RESPONDENT refuses every
//! such send). The binding sends such a reply without the flag once the socket can send it
//! without waiting (see `Guard::sends_replies_without_dontwait`); a [`ReplyState`] tells
//! whether there is a reply to wait for at all.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::ffi;
use crate::nn::error::NnResult;

/// True while a request waits for its reply.
#[derive(Debug, Default)]
pub struct ReplyState {
    due: AtomicBool,
}

impl ReplyState {
    /// The state of a socket of `domain` and `protocol`, if it needs one: a REP or RESPONDENT
    /// on nng.
    pub fn for_socket(domain: c_int, protocol: c_int) -> Option<Self> {
        (cfg!(feature = "nng")
            && domain == ffi::AF_SP
            && (protocol == ffi::NN_REP || protocol == ffi::NN_RESPONDENT))
            .then(Self::default)
    }

    /// A send ended with `result`: sent, or refused for good, no reply is due any more either
    /// way (`EAGAIN` changes nothing).
    #[inline]
    pub fn after_send(&self, result: NnResult<usize>) {
        if result.is_ok() || result.is_err_and(|e| e.errno() != libc::EAGAIN) {
            self.due.store(false, Ordering::SeqCst);
        }
    }

    /// A request arrived: its reply is due.
    #[inline]
    pub fn after_recv(&self) {
        self.due.store(true, Ordering::SeqCst);
    }

    /// True while a request waits for its reply.
    #[inline]
    pub fn due(&self) -> bool {
        self.due.load(Ordering::SeqCst)
    }
}
