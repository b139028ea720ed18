//! The error value of the safe layer: an errno, as `nn_errno` reported it.

use std::ffi::CStr;
use std::fmt;

use crate::ffi;
use crate::nn::process;

/// A failed libnanomsg call. Keeps the errno as reported; any code, known or not, is representable.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NnError {
    errno: i32,
    /// A text of our own that replaces `nn_strerror`'s, where the code alone misleads.
    detail: Option<&'static str>,
}

/// Result of a safe-layer call.
pub type NnResult<T> = Result<T, NnError>;

impl NnError {
    /// An error with the given errno.
    pub const fn new(errno: i32) -> Self {
        Self {
            errno,
            detail: None,
        }
    }

    /// An error whose text is ours, not `nn_strerror`'s.
    pub const fn with_detail(errno: i32, detail: &'static str) -> Self {
        Self {
            errno,
            detail: Some(detail),
        }
    }

    /// `ENOTSUP` with a text that says what the linked library lacks.
    pub const fn unsupported(detail: &'static str) -> Self {
        Self {
            errno: libc::ENOTSUP,
            detail: Some(detail),
        }
    }

    /// The error libnanomsg reported for the call that just failed on this thread.
    ///
    /// After `nn_term`, libnanomsg 1.1.5 refuses calls on its sockets with `EBADF`; they
    /// are reported as `ETERM`, which is what happened.
    pub fn last() -> Self {
        // SAFETY: nn_errno only reads the calling thread's errno.
        let errno = unsafe { ffi::nn_errno() };
        if errno == libc::EBADF && process::terminated() {
            return Self::new(ffi::ETERM);
        }
        Self::new(errno)
    }

    /// The error code.
    pub const fn errno(self) -> i32 {
        self.errno
    }

    /// libnanomsg's text for this code (`nn_strerror`), or our own more precise one.
    pub fn strerror(self) -> String {
        match self.detail {
            Some(detail) => detail.to_owned(),
            None => strerror(self.errno),
        }
    }
}

/// The text for any error code, as libnanomsg's `nn_strerror` gives it: its own for the two
/// nanomsg codes, the system's for the others. On nng the same texts, so that a program reads
/// the same messages on either backend (nng's `nn_strerror` has texts of its own, and "Unknown
/// error N" for `ETERM` and for many system codes).
pub fn strerror(errno: i32) -> String {
    match errno {
        EFORKED => {
            return "nanomsg cannot be used in a child process after fork(): its worker threads \
                    did not survive; use the 'spawn' start method, or fork and exec"
                .to_owned()
        }
        ffi::ETERM => return "Nanomsg library was terminated".to_owned(),
        ffi::EFSM => return "Operation cannot be performed in this state".to_owned(),
        _ if cfg!(feature = "nng") && errno > 0 && errno < ffi::NN_HAUSNUMERO => {
            let text = std::io::Error::from_raw_os_error(errno).to_string();
            // "<text> (os error N)": keep the text.
            return match text.rfind(" (os error") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
        }
        _ => {}
    }
    // SAFETY: nn_strerror returns a pointer to a static NUL-terminated string (or the
    // libc's strerror buffer), valid for any code; it is copied out at once.
    let ptr = unsafe { ffi::nn_strerror(errno) };
    if ptr.is_null() {
        return format!("Unknown error {errno}");
    }
    // SAFETY: non-null and NUL-terminated, as checked and documented above.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

impl fmt::Debug for NnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NnError({}, {:?})", self.errno, self.strerror())
    }
}

impl fmt::Display for NnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[errno {}] {}", self.errno, self.strerror())
    }
}

impl std::error::Error for NnError {}

/// Turns a C return code into a result: negative means "look at nn_errno".
#[inline]
pub fn check(rc: i32) -> NnResult<i32> {
    if rc < 0 {
        Err(NnError::last())
    } else {
        Ok(rc)
    }
}

/// Converts "-1 and errno" of a size-returning call into a result.
#[inline]
pub fn check_len(rc: i32) -> NnResult<usize> {
    check(rc).map(|n| n as usize)
}

/// Not an errno of any system: the code of [`NnError::forked`].
pub const EFORKED: i32 = ffi::NN_HAUSNUMERO + 1000;

impl NnError {
    /// The error of every call in a child process after `fork()`.
    pub const fn forked() -> Self {
        Self::new(EFORKED)
    }
}
