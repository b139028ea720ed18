//! Every difference between the backends, in one place. libnanomsg (ours or the system's) has
//! the whole nanomsg API; nng's compatibility layer (the `nng` feature) lacks symbol
//! introspection and statistics, and some options, which it refuses or answers with values
//! that mean something else, and behaves differently in places: how it closes, how it holds
//! message buffers, how its REP and SURVEYOR sockets report their state. The rest of the safe
//! layer asks this module (constants fold away at compile time) instead of testing the
//! feature itself, and the Python layer never meets a difference (a test checks both);
//! `symbols.rs` (no `nn_symbol_info` on nng), `library.rs` (the version string) and
//! `error.rs` (error texts) keep their own small `cfg`s, and each option's own difference
//! is a column of its row in `options.rs`, which this module reads.
//!
//! - this file: options (what their rows in `options` say of nng), endpoints, statistics,
//!   closing and message buffers;
//! - `reply`: whether a REP or RESPONDENT on nng has a reply due;
//! - `survey`: the SURVEYOR's deadline as libnanomsg reports it, for nng;
//! - `tls`: the `NN_TLS` options, kept by the binding on nng and mapped onto nng's TLS.

mod reply;
mod survey;
#[cfg(feature = "nng")]
mod tls;

use std::ffi::CStr;
use std::os::raw::c_int;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;

use crate::ffi;
use crate::nn::error::{NnError, NnResult};
use crate::nn::library::HARDENED;
use crate::nn::options::{Nng, OptionSpec};

pub use reply::ReplyState;
pub use survey::SurveyClock;
#[cfg(feature = "nng")]
pub use tls::TlsSettings;

/// A socket's `NN_TLS` options where the binding keeps them (nng, see `tls`); on libnanomsg
/// the library keeps them itself, and this holds nothing.
#[cfg(not(feature = "nng"))]
#[derive(Debug, Default)]
pub struct TlsSettings;

/// `nn_getsockopt` at `level`: `Some` (the value's bytes, an int's in native order) where the
/// backend answers it itself (`NN_TLS` on nng), `None` where the library does.
pub fn tls_get(settings: &TlsSettings, level: c_int, option: c_int) -> Option<NnResult<Vec<u8>>> {
    #[cfg(feature = "nng")]
    if level == ffi::NN_TLS {
        return Some(settings.get(option));
    }
    let _ = (settings, level, option);
    None
}

/// `nn_setsockopt` at `level` of bytes: `Some` where the backend keeps it itself (`NN_TLS` on
/// nng), `None` where the library does.
pub fn tls_set_bytes(
    settings: &TlsSettings,
    level: c_int,
    option: c_int,
    value: &[u8],
) -> Option<NnResult<()>> {
    #[cfg(feature = "nng")]
    if level == ffi::NN_TLS {
        return Some(settings.set_bytes(option, value));
    }
    let _ = (settings, level, option, value);
    None
}

/// `nn_setsockopt` at `level` of an int: as [`tls_set_bytes`].
pub fn tls_set_int(
    settings: &TlsSettings,
    level: c_int,
    option: c_int,
    value: c_int,
) -> Option<NnResult<()>> {
    #[cfg(feature = "nng")]
    if level == ffi::NN_TLS {
        return Some(settings.set_int(option, value));
    }
    let _ = (settings, level, option, value);
    None
}

/// `nn_bind` (`bind`) or `nn_connect` of `addr`: `Some` (the endpoint's id) where the backend
/// makes the endpoint itself (a TLS address on nng, given the socket's TLS settings), `None`
/// where the library does.
pub fn tls_add_endpoint(
    settings: &TlsSettings,
    socket: c_int,
    addr: &CStr,
    bind: bool,
) -> Option<NnResult<c_int>> {
    #[cfg(feature = "nng")]
    if tls::is_tls_address(addr) {
        return Some(settings.add_endpoint(socket, addr, bind));
    }
    let _ = (settings, socket, addr, bind);
    None
}

/// The longest ipc path a Unix domain socket address holds: `sun_path` (108 bytes on Linux)
/// less its terminating NUL.
pub const IPC_PATH_MAX: usize = 107;

/// Refuses, before the library sees it, an ipc address that the system libnanomsg 1.1.5
/// aborts on or nng mishandles, with the errors our libnanomsg gives itself (patch 0031): a
/// path longer than `IPC_PATH_MAX` (`ENAMETOOLONG`; 1.1.5 aborts, nng says `EINVAL` on bind
/// and fails in the background on connect); for a bind, a directory at the path (`EISDIR`;
/// 1.1.5 aborts, nng says `EADDRINUSE`) or another file that is not a socket (`EADDRINUSE`;
/// both delete it and bind). Our libnanomsg checks all this itself, in the call.
pub fn check_ipc_address(addr: &CStr, bind: bool) -> NnResult<()> {
    if HARDENED {
        return Ok(());
    }
    let Some(path) = addr.to_bytes().strip_prefix(b"ipc://") else {
        return Ok(());
    };
    if path.len() > IPC_PATH_MAX {
        return Err(NnError::new(libc::ENAMETOOLONG));
    }
    if !bind || path.is_empty() {
        return Ok(());
    }
    match std::fs::symlink_metadata(std::ffi::OsStr::from_bytes(path)) {
        Ok(meta) if meta.is_dir() => Err(NnError::new(libc::EISDIR)),
        Ok(meta) if !meta.file_type().is_socket() => Err(NnError::new(libc::EADDRINUSE)),
        _ => Ok(()),
    }
}

/// `nn_shutdown` of this socket's endpoint `endpoint`, `bound` (by `nn_bind`) or connected.
/// nng's `nn_shutdown` closes the dialer with that id if there is one, else the listener: but
/// nng 1.5.2 numbers dialers and listeners apart, each from 1, so a listener's id is often
/// also some dialer's (of any socket), which it would close instead. Here nng closes the
/// endpoint of the right kind; an endpoint that is gone already is `EINVAL`, as on
/// libnanomsg.
pub fn shutdown_endpoint(socket: c_int, endpoint: c_int, bound: bool) -> NnResult<()> {
    #[cfg(feature = "nng")]
    {
        let _ = socket;
        let id = ffi::nng_endpoint {
            id: endpoint as u32,
        };
        // SAFETY: plain values; nng checks the id itself.
        let rv = unsafe {
            if bound {
                ffi::nng_listener_close(id)
            } else {
                ffi::nng_dialer_close(id)
            }
        };
        if rv != 0 {
            return Err(NnError::new(libc::EINVAL));
        }
        Ok(())
    }
    #[cfg(not(feature = "nng"))]
    {
        let _ = bound;
        // SAFETY: plain ints; the caller holds the socket's number.
        crate::nn::error::check(unsafe { ffi::nn_shutdown(socket, endpoint) }).map(drop)
    }
}

/// Fails with `ENOTSUP` (naming the backend) for an option the backend lacks: on nng, its
/// row's [`Nng::Unsupported`]; on the system libnanomsg, an option of our hardened one's own
/// (its row's `hardened_only`).
pub fn check_option(spec: Option<&OptionSpec>) -> NnResult<()> {
    let Some(spec) = spec else {
        return Ok(());
    };
    match (spec.nng, spec.hardened_only) {
        (Nng::Unsupported(why), _) if cfg!(feature = "nng") => Err(NnError::unsupported(why)),
        (_, Some(why)) if !cfg!(feature = "nng") && !HARDENED => Err(NnError::unsupported(why)),
        _ => Ok(()),
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

/// True for an option whose value is a C string on this backend (its row's [`Nng::CString`]):
/// nng stores `NN_SOCKET_NAME` NUL-terminated (and refuses it without the NUL); libnanomsg
/// keeps plain bytes.
pub fn is_c_string_option(spec: Option<&OptionSpec>) -> bool {
    cfg!(feature = "nng") && spec.is_some_and(|s| s.nng == Nng::CString)
}

/// Fails with `ENOTSUP` (naming the backend) for an option value it cannot honour (its row's
/// [`Nng::RefusesValue`]): nng's websocket transport sends binary frames only, and refuses
/// text frames with `EINVAL`. (Negative survey deadlines and resend intervals, which nng
/// takes as "for ever", are out of those options' ranges on every backend.)
pub fn check_option_value(spec: &OptionSpec, value: c_int) -> NnResult<()> {
    match spec.nng {
        Nng::RefusesValue(refused, why) if cfg!(feature = "nng") && value == refused => {
            Err(NnError::unsupported(why))
        }
        _ => Ok(()),
    }
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

/// The value of a statistic of our hardened libnanomsg's own where the library is another,
/// which lacks it: `NN_STAT_TLS_HANDSHAKE_ERRORS` is 0 on a library without TLS,
/// `NN_STAT_REFUSED_CONNECTIONS` 0 on one that refuses no peer. `None`: ask the library.
pub fn statistic_of_another_library(stat: c_int) -> Option<i64> {
    let ours = [
        crate::ffi::NN_STAT_TLS_HANDSHAKE_ERRORS,
        crate::ffi::NN_STAT_REFUSED_CONNECTIONS,
    ];
    (!HARDENED && ours.contains(&stat)).then_some(0)
}

/// True where a socket's sends and receives keep the bookkeeping of [`ReplyState`] and
/// [`SurveyClock`] (nng): elsewhere it compiles away.
pub const KEEPS_CALL_BOOKKEEPING: bool = cfg!(feature = "nng");

/// nng never hands a closed socket's number out again (its ids only grow), and a call that
/// waits inside nng (a reply sent without `NN_DONTWAIT`, see
/// `Guard::sends_replies_without_dontwait`, should it wait after all) ends only when the
/// socket closes: there `close` calls `nn_close` at once, not after the last call in flight.
pub const CLOSE_AT_ONCE: bool = cfg!(feature = "nng");

/// The size to ask `nn_allocmsg` for, for a message of `len` bytes: nng refuses to allocate
/// 0 bytes, so it gets 1, of which none is used.
#[inline]
pub fn alloc_size(len: usize) -> usize {
    if cfg!(feature = "nng") {
        len.max(1)
    } else {
        len
    }
}

/// True where a buffer handed out on receive keeps the message's SP header inside, invisible
/// here (nng): the C library would send that header again (or add another to it), so such a
/// buffer is sent by copy (see `NnMsg::sent_by_copy`).
pub const RECEIVED_BUFFER_CARRIES_HEADER: bool = cfg!(feature = "nng");

/// False where `nn_reallocmsg` loses the buffer's contents (nng 1.5): `NnMsg::resize` then
/// moves them into a fresh buffer itself.
pub const REALLOC_KEEPS_CONTENTS: bool = !cfg!(feature = "nng");

/// True where a body sent with an SP header goes by copy: nng adds the header to the message
/// itself and keeps it there when the send fails, so a retry would carry it twice.
pub const HEADER_SEND_COPIES_BODY: bool = cfg!(feature = "nng");

/// Whether the binding keeps count of each SUB socket's prefixes and answers an unsubscribe of
/// a prefix not held with `EINVAL` itself. The system libnanomsg 1.1.5 crashes on such a call
/// (a NULL dereference in its trie), and nng answers it its own way; our hardened libnanomsg
/// says `EINVAL` itself (nanomsg/patches/0005), so there the call goes straight to it.
pub const TRACKS_SUBSCRIPTIONS: bool = !HARDENED;

/// True where the library counts a prefix's subscriptions (libnanomsg: two subscribes need
/// two unsubscribes). nng holds a prefix once or not at all, so there the binding's own count
/// decides, and only the first subscribe and the last unsubscribe of a prefix reach nng: both
/// backends then behave alike.
pub const LIBRARY_COUNTS_SUBSCRIPTIONS: bool = !cfg!(feature = "nng");
