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

/// How many sockets the library allows open at once (`NN_MAX_SOCKETS`, fixed when it is
/// compiled): our hardened build's, from `nanomsg/defines.txt` (16,384); upstream's 512 for a
/// system libnanomsg (Debian's build keeps it); None on nng, which has no such limit.
pub const MAX_SOCKETS: Option<i32> = if cfg!(feature = "nng") {
    None
} else {
    Some(max_sockets())
};

#[cfg(nanomsg_hardened)]
const fn max_sockets() -> i32 {
    parse_int(env!("NANOMSG_RS_MAX_SOCKETS"))
}

#[cfg(not(nanomsg_hardened))]
const fn max_sockets() -> i32 {
    512
}

/// A decimal number, at compile time.
#[cfg_attr(not(nanomsg_hardened), allow(dead_code))]
const fn parse_int(text: &str) -> i32 {
    let bytes = text.as_bytes();
    let mut value = 0;
    let mut i = 0;
    assert!(!bytes.is_empty(), "NN_MAX_SOCKETS is empty");
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "NN_MAX_SOCKETS is not a number");
        value = value * 10 + (bytes[i] - b'0') as i32;
        i += 1;
    }
    value
}

/// The text of the `EMFILE` of a socket that could not be made because the library's own
/// limit on open sockets ([`MAX_SOCKETS`]) is reached: the other `EMFILE`, the process's
/// descriptor limit, keeps the system's text.
pub const SOCKET_LIMIT_REACHED: &str = "nanomsg's limit on open sockets is reached";

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
