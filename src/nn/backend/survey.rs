//! The SURVEYOR's deadline as libnanomsg reports it, kept for the nng backend.
//!
//! libnanomsg answers the first `recv` after a survey's deadline with `ETIMEDOUT`, and only
//! the later ones with `EFSM`; its `NN_RCVFD` turns readable at the deadline, so a waiting
//! `recv` wakes and gets that `ETIMEDOUT`. nng's compatibility layer says `EFSM` at once and
//! never signals the deadline. A [`SurveyClock`] remembers when the last survey ends, so that
//! the binding can report the timeout once and end waits at the deadline.

use std::os::raw::c_int;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::ffi;
use crate::nn::error::NnError;
use crate::nn::sync::lock;

/// How long after a survey's end (as computed here) a wait looks again for nng's own timer,
/// which starts a little earlier or later.
const RECHECK: Duration = Duration::from_millis(1);

/// When the survey in flight ends, until its timeout has been reported.
#[derive(Debug, Default)]
pub struct SurveyClock {
    ends: Mutex<Option<Instant>>,
}

impl SurveyClock {
    /// The clock of a socket of `domain` and `protocol`, if it needs one: a SURVEYOR on nng.
    pub fn for_socket(domain: c_int, protocol: c_int) -> Option<Self> {
        (cfg!(feature = "nng") && domain == ffi::AF_SP && protocol == ffi::NN_SURVEYOR)
            .then(Self::default)
    }

    fn ends(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        lock(&self.ends)
    }

    /// A survey was sent, with a deadline of `deadline_ms` (it replaces any earlier one).
    pub fn started(&self, deadline_ms: i32) {
        let deadline = Duration::from_millis(u64::try_from(deadline_ms).unwrap_or(0));
        *self.ends() = Some(Instant::now() + deadline);
    }

    /// The error of a failed `recv`: nng's `EFSM` for a survey that was sent and whose end
    /// was not reported yet becomes that report, `ETIMEDOUT`.
    pub fn recv_error(&self, err: NnError) -> NnError {
        if err.errno() == ffi::EFSM && self.ends().take().is_some() {
            return NnError::new(libc::ETIMEDOUT);
        }
        err
    }

    /// When a waiting `recv` must try again although nothing signalled: at the survey's end.
    pub fn retry_at(&self) -> Option<Instant> {
        self.ends().map(|end| end.max(Instant::now()) + RECHECK)
    }
}
