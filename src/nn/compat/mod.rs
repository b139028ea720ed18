//! What the linked C library is, and what of the nanomsg API it lacks. libnanomsg has it all;
//! nng's compatibility layer (the `nng` feature) lacks symbol introspection and statistics,
//! and some options, which it refuses or answers with values that mean something else.

pub mod survey;

use std::os::raw::c_int;

use crate::ffi;
use crate::nn::error::{NnError, NnResult};

/// The backend's name: `"nanomsg"` or `"nng"`.
pub const NAME: &str = if cfg!(feature = "nng") {
    "nng"
} else {
    "nanomsg"
};

#[cfg(feature = "nng")]
const UNSUPPORTED_OPTIONS: &[(c_int, &str)] = &[
    (
        ffi::NN_SNDBUF,
        "the sndbuf option (bytes) is not supported by the nng backend",
    ),
    (
        ffi::NN_RCVBUF,
        "the rcvbuf option (bytes) is not supported by the nng backend",
    ),
    (
        ffi::NN_SNDPRIO,
        "the sndprio option is not supported by the nng backend",
    ),
    (
        ffi::NN_RCVPRIO,
        "the rcvprio option is not supported by the nng backend",
    ),
    (
        ffi::NN_IPV4ONLY,
        "the ipv4only option is not supported by the nng backend",
    ),
    (
        ffi::NN_MAXTTL,
        "the maxttl option is not supported by the nng backend",
    ),
];
#[cfg(not(feature = "nng"))]
const UNSUPPORTED_OPTIONS: &[(c_int, &str)] = &[];

/// Fails with `ENOTSUP` (naming the backend) for a socket-level option it lacks.
pub fn check_option(level: c_int, option: c_int) -> NnResult<()> {
    if level != ffi::NN_SOL_SOCKET {
        return Ok(());
    }
    match UNSUPPORTED_OPTIONS.iter().find(|(o, _)| *o == option) {
        Some((_, why)) => Err(NnError::unsupported(why)),
        None => Ok(()),
    }
}

/// The error of an option call as nanomsg reports it. nng's compatibility layer answers an
/// option of another protocol (e.g. `NN_SUB_SUBSCRIBE` on a PUB socket) with `ENOTSUP`,
/// where libnanomsg says `ENOPROTOOPT`: "this socket has no such option".
pub fn option_error(err: NnError) -> NnError {
    if cfg!(feature = "nng") && err.errno() == libc::ENOTSUP {
        return NnError::new(libc::ENOPROTOOPT);
    }
    err
}

/// The error of `nn_bind`/`nn_connect` as nanomsg reports it: nng says `ENOTSUP` for an
/// unknown transport, libnanomsg `EPROTONOSUPPORT`.
pub fn endpoint_error(err: NnError) -> NnError {
    if cfg!(feature = "nng") && err.errno() == libc::ENOTSUP {
        return NnError::new(libc::EPROTONOSUPPORT);
    }
    err
}

/// True for an option whose value is a C string on this backend: nng stores `NN_SOCKET_NAME`
/// NUL-terminated (and refuses it without the NUL); libnanomsg keeps plain bytes.
pub fn is_c_string_option(level: c_int, option: c_int) -> bool {
    cfg!(feature = "nng") && level == ffi::NN_SOL_SOCKET && option == ffi::NN_SOCKET_NAME
}

/// Fails with `ENOTSUP` (naming the backend) for an option value it cannot honour: nng's
/// websocket transport sends binary frames only, and refuses text frames with `EINVAL`.
pub fn check_option_value(level: c_int, option: c_int, value: c_int) -> NnResult<()> {
    if cfg!(feature = "nng")
        && level == ffi::NN_WS
        && option == ffi::NN_WS_MSG_TYPE
        && value == ffi::NN_WS_MSG_TYPE_TEXT
    {
        return Err(NnError::unsupported(
            "websocket text frames (NN_WS_MSG_TYPE_TEXT) are not supported by the nng backend",
        ));
    }
    Ok(())
}

/// Fails with `ENOPROTOOPT` where a SUB socket has no subscriptions: nng's raw SUB takes every
/// message (and answers a subscription to the empty prefix with `ENOMEM`).
pub fn check_subscriptions(raw: bool) -> NnResult<()> {
    if cfg!(feature = "nng") && raw {
        return Err(NnError::new(libc::ENOPROTOOPT));
    }
    Ok(())
}

/// Fails with `ENOTSUP` where the backend keeps no statistics (nng returns 0 for all).
pub fn check_statistics() -> NnResult<()> {
    if cfg!(feature = "nng") {
        return Err(NnError::unsupported(
            "statistics are not supported by the nng backend",
        ));
    }
    Ok(())
}

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
        let (current, revision, age) = crate::nn::library::version().unwrap_or((-1, -1, -1));
        format!("nanomsg ABI {current}.{revision}.{age}")
    }
}

/// Whether the binding keeps count of each SUB socket's prefixes and answers an unsubscribe of
/// a prefix not held with `EINVAL` itself. The system libnanomsg 1.1.5 crashes on such a call
/// (a NULL dereference in its trie), and nng answers it its own way; our hardened libnanomsg
/// says `EINVAL` itself (nanomsg/patches/0005), so there the call goes straight to it.
pub const TRACKS_SUBSCRIPTIONS: bool = !HARDENED;

/// Whether the library is our hardened libnanomsg (built from source with the patches of
/// `nanomsg/patches/`, linked statically), not the system's or nng.
pub const HARDENED: bool = cfg!(nanomsg_hardened);
