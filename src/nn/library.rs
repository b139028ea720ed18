//! The linked C library as a whole: which one it is (libnanomsg, ours hardened or the
//! system's, or nng's compatibility layer), and `nn_term`, which ends it for the process.
//! How the backends differ in use is `backend`'s concern.

use crate::ffi;
use crate::nn::error::{NnError, NnResult};
use crate::nn::process;

/// The backend's name: `"nanomsg"` or `"nng"`.
pub const NAME: &str = if cfg!(feature = "nng") {
    "nng"
} else {
    "nanomsg"
};

/// Whether the library is our hardened libnanomsg (built from source with the patches of
/// `nanomsg/patches/`, linked statically), not the system's or nng.
pub const HARDENED: bool = cfg!(nanomsg_hardened);

/// The linked library's own version string.
pub fn library_version() -> String {
    #[cfg(feature = "nng")]
    {
        // SAFETY: nng_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(ffi::nng_version()) };
        format!("nng {}", v.to_string_lossy())
    }
    #[cfg(all(not(feature = "nng"), nanomsg_hardened))]
    {
        env!("NANOMSG_RS_LIBRARY").to_string()
    }
    #[cfg(all(not(feature = "nng"), not(nanomsg_hardened)))]
    {
        let (current, revision, age) = crate::nn::symbols::version().unwrap_or((-1, -1, -1));
        format!("nanomsg ABI {current}.{revision}.{age}")
    }
}

/// `nn_term`: every socket of the process fails with `ETERM` from now on, for good.
/// Refused in a forked child, where libnanomsg would hang.
pub fn term() -> NnResult<()> {
    if process::forked() {
        return Err(NnError::forked());
    }
    process::mark_terminated();
    // SAFETY: nn_term takes no arguments and may be called at any time.
    unsafe { ffi::nn_term() };
    Ok(())
}
