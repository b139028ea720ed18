//! Raw declarations of libnanomsg's C API (`nanomsg/nn.h` and the protocol and transport
//! headers), written by hand. Nothing but `extern "C"` items, constants and `#[repr(C)]`
//! structs lives here; every safe wrapper is in another module.
//!
//! With the `nng` feature the same declarations link nng's nanomsg-compatible library
//! (`nng/compat/nanomsg/nn.h`), which has the same functions and option numbers but for
//! symbol introspection, and its own values of `ETERM` and `EFSM`.
//!
//! The constant values are checked at run time against `nn_symbol_info` by the test suite.

#![allow(non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_int, c_short, c_void};

// ---------------------------------------------------------------------------------------------
// Versioning (nn.h): the ABI version of the headers these declarations follow.
pub const NN_VERSION_CURRENT: c_int = 5;
pub const NN_VERSION_REVISION: c_int = 1;
pub const NN_VERSION_AGE: c_int = 0;

// ---------------------------------------------------------------------------------------------
// Errors. On Linux the POSIX codes are the platform's own (see `libc`); nanomsg adds two.
pub const NN_HAUSNUMERO: c_int = 156384712;
#[cfg(not(feature = "nng"))]
pub const ETERM: c_int = NN_HAUSNUMERO + 53;
#[cfg(not(feature = "nng"))]
pub const EFSM: c_int = NN_HAUSNUMERO + 54;
/// nng's base for the codes the platform lacks (`NN_ERRBASE` in its compat header).
#[cfg(feature = "nng")]
pub const NN_ERRBASE: c_int = 0x1000_0000;
#[cfg(feature = "nng")]
pub const ETERM: c_int = NN_ERRBASE + 29;
#[cfg(feature = "nng")]
pub const EFSM: c_int = NN_ERRBASE + 30;

// ---------------------------------------------------------------------------------------------
// Symbol introspection (nn_symbol_info): namespaces, option types and units.
pub const NN_NS_NAMESPACE: c_int = 0;
pub const NN_NS_VERSION: c_int = 1;
pub const NN_NS_DOMAIN: c_int = 2;
pub const NN_NS_TRANSPORT: c_int = 3;
pub const NN_NS_PROTOCOL: c_int = 4;
pub const NN_NS_OPTION_LEVEL: c_int = 5;
pub const NN_NS_SOCKET_OPTION: c_int = 6;
pub const NN_NS_TRANSPORT_OPTION: c_int = 7;
pub const NN_NS_OPTION_TYPE: c_int = 8;
pub const NN_NS_OPTION_UNIT: c_int = 9;
pub const NN_NS_FLAG: c_int = 10;
pub const NN_NS_ERROR: c_int = 11;
pub const NN_NS_LIMIT: c_int = 12;
pub const NN_NS_EVENT: c_int = 13;
pub const NN_NS_STATISTIC: c_int = 14;

pub const NN_TYPE_NONE: c_int = 0;
pub const NN_TYPE_INT: c_int = 1;
pub const NN_TYPE_STR: c_int = 2;

pub const NN_UNIT_NONE: c_int = 0;
pub const NN_UNIT_BYTES: c_int = 1;
pub const NN_UNIT_MILLISECONDS: c_int = 2;
pub const NN_UNIT_PRIORITY: c_int = 3;
pub const NN_UNIT_BOOLEAN: c_int = 4;
pub const NN_UNIT_MESSAGES: c_int = 5;
pub const NN_UNIT_COUNTER: c_int = 6;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nn_symbol_properties {
    pub value: c_int,
    pub name: *const c_char,
    pub ns: c_int,
    pub type_: c_int,
    pub unit: c_int,
}

// ---------------------------------------------------------------------------------------------
// Messages, scatter/gather and control headers.
/// Passed as a length: "the library allocates (recv) or owns (send) the buffer".
pub const NN_MSG: usize = usize::MAX;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nn_iovec {
    pub iov_base: *mut c_void,
    pub iov_len: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nn_msghdr {
    pub msg_iov: *mut nn_iovec,
    pub msg_iovlen: c_int,
    pub msg_control: *mut c_void,
    pub msg_controllen: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nn_cmsghdr {
    pub cmsg_len: usize,
    pub cmsg_level: c_int,
    pub cmsg_type: c_int,
}

// ---------------------------------------------------------------------------------------------
// Domains, limits, socket options, flags.
pub const AF_SP: c_int = 1;
pub const AF_SP_RAW: c_int = 2;
pub const NN_SOCKADDR_MAX: c_int = 128;

pub const NN_SOL_SOCKET: c_int = 0;
pub const NN_LINGER: c_int = 1;
pub const NN_SNDBUF: c_int = 2;
pub const NN_RCVBUF: c_int = 3;
pub const NN_SNDTIMEO: c_int = 4;
pub const NN_RCVTIMEO: c_int = 5;
pub const NN_RECONNECT_IVL: c_int = 6;
pub const NN_RECONNECT_IVL_MAX: c_int = 7;
pub const NN_SNDPRIO: c_int = 8;
pub const NN_RCVPRIO: c_int = 9;
pub const NN_SNDFD: c_int = 10;
pub const NN_RCVFD: c_int = 11;
pub const NN_DOMAIN: c_int = 12;
pub const NN_PROTOCOL: c_int = 13;
pub const NN_IPV4ONLY: c_int = 14;
pub const NN_SOCKET_NAME: c_int = 15;
pub const NN_RCVMAXSIZE: c_int = 16;
pub const NN_MAXTTL: c_int = 17;
/// Our hardened libnanomsg's own option (patch 0033): the most bytes a socket holds in
/// incoming messages not yet fully received. Neither upstream nor nng has it.
pub const NN_RCVMAXPARTIAL: c_int = 1001;
/// Our hardened libnanomsg's connection liveness options (patch 0050: TCP keepalive on the
/// socket's later tcp and ws connections, its idle time and interval in ms, its probe count;
/// patch 0051: a connection attempt's timeout in ms). Neither upstream nor nng's
/// compatibility layer has them.
pub const NN_TCP_KEEPALIVE: c_int = 1002;
pub const NN_TCP_KEEPALIVE_IDLE: c_int = 1003;
pub const NN_TCP_KEEPALIVE_INTVL: c_int = 1004;
pub const NN_TCP_KEEPALIVE_CNT: c_int = 1005;
pub const NN_CONNECT_TIMEOUT: c_int = 1006;
/// Our hardened libnanomsg's own (patch 0063): the cap on accepted connections.
pub const NN_MAXCONN: c_int = 1020;
/// Our hardened libnanomsg's own (patch 0085): the socket asks the worker thread to poll
/// before it sleeps while it is open.
pub const NN_WORKER_POLL: c_int = 1021;
/// Our hardened libnanomsg's own (patch 0087): the worker thread makes way for the socket's
/// sender where they share a CPU.
pub const NN_WORKER_YIELD: c_int = 1022;
// Our hardened libnanomsg's lazy readiness fds (patch 0035; see `nn::socket::Waiting`): the
// fds of NN_SNDFD/NN_RCVFD, signalled only while a waiter is counted in with NN_POLL_ENTER.
pub const NN_SNDFD_LAZY: c_int = 0x4e520a;
pub const NN_RCVFD_LAZY: c_int = 0x4e520b;
pub const NN_POLL_ENTER: c_int = 0x4e5210;
pub const NN_POLL_LEAVE: c_int = 0x4e5211;

pub const NN_DONTWAIT: c_int = 1;

/// Control-message level and type of the SP header (`nn_sendmsg` / `nn_recvmsg`).
pub const PROTO_SP: c_int = 1;
pub const SP_HDR: c_int = 1;

// nn_poll events.
pub const NN_POLLIN: c_short = 1;
pub const NN_POLLOUT: c_short = 2;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nn_pollfd {
    pub fd: c_int,
    pub events: c_short,
    pub revents: c_short,
}

// Statistics (nn_get_statistic).
pub const NN_STAT_ESTABLISHED_CONNECTIONS: c_int = 101;
pub const NN_STAT_ACCEPTED_CONNECTIONS: c_int = 102;
pub const NN_STAT_DROPPED_CONNECTIONS: c_int = 103;
pub const NN_STAT_BROKEN_CONNECTIONS: c_int = 104;
pub const NN_STAT_CONNECT_ERRORS: c_int = 105;
pub const NN_STAT_BIND_ERRORS: c_int = 106;
pub const NN_STAT_ACCEPT_ERRORS: c_int = 107;
/// Our hardened libnanomsg's own (patch 0060): TLS connections that failed before their SP
/// header exchange.
pub const NN_STAT_TLS_HANDSHAKE_ERRORS: c_int = 120;
/// Our hardened libnanomsg's own (patch 0062): connections closed as soon as they were
/// accepted (an ipc peer of a user `NN_IPC_PEER_UIDS` leaves out).
pub const NN_STAT_REFUSED_CONNECTIONS: c_int = 121;
pub const NN_STAT_CURRENT_CONNECTIONS: c_int = 201;
pub const NN_STAT_INPROGRESS_CONNECTIONS: c_int = 202;
pub const NN_STAT_CURRENT_EP_ERRORS: c_int = 203;
pub const NN_STAT_MESSAGES_SENT: c_int = 301;
pub const NN_STAT_MESSAGES_RECEIVED: c_int = 302;
pub const NN_STAT_BYTES_SENT: c_int = 303;
pub const NN_STAT_BYTES_RECEIVED: c_int = 304;
pub const NN_STAT_CURRENT_SND_PRIORITY: c_int = 401;

// ---------------------------------------------------------------------------------------------
// Protocols (pair.h, pubsub.h, reqrep.h, pipeline.h, survey.h, bus.h).
pub const NN_PROTO_PAIR: c_int = 1;
pub const NN_PAIR: c_int = NN_PROTO_PAIR * 16;

pub const NN_PROTO_PUBSUB: c_int = 2;
pub const NN_PUB: c_int = NN_PROTO_PUBSUB * 16;
pub const NN_SUB: c_int = NN_PROTO_PUBSUB * 16 + 1;
#[cfg(not(feature = "nng"))]
pub const NN_SUB_SUBSCRIBE: c_int = 1;
/// nng numbers its protocol options after the protocol (`NN_SUB * 16 + 1`).
#[cfg(feature = "nng")]
pub const NN_SUB_SUBSCRIBE: c_int = NN_SUB * 16 + 1;
#[cfg(not(feature = "nng"))]
pub const NN_SUB_UNSUBSCRIBE: c_int = 2;
/// nng numbers its protocol options after the protocol (`NN_SUB * 16 + 2`).
#[cfg(feature = "nng")]
pub const NN_SUB_UNSUBSCRIBE: c_int = NN_SUB * 16 + 2;

pub const NN_PROTO_REQREP: c_int = 3;
pub const NN_REQ: c_int = NN_PROTO_REQREP * 16;
pub const NN_REP: c_int = NN_PROTO_REQREP * 16 + 1;
#[cfg(not(feature = "nng"))]
pub const NN_REQ_RESEND_IVL: c_int = 1;
/// nng numbers its protocol options after the protocol (`NN_REQ * 16 + 1`).
#[cfg(feature = "nng")]
pub const NN_REQ_RESEND_IVL: c_int = NN_REQ * 16 + 1;

pub const NN_PROTO_PIPELINE: c_int = 5;
pub const NN_PUSH: c_int = NN_PROTO_PIPELINE * 16;
pub const NN_PULL: c_int = NN_PROTO_PIPELINE * 16 + 1;

pub const NN_PROTO_SURVEY: c_int = 6;
pub const NN_SURVEYOR: c_int = NN_PROTO_SURVEY * 16 + 2;
pub const NN_RESPONDENT: c_int = NN_PROTO_SURVEY * 16 + 3;
#[cfg(not(feature = "nng"))]
pub const NN_SURVEYOR_DEADLINE: c_int = 1;
/// nng numbers its protocol options after the protocol (`NN_SURVEYOR * 16 + 1`).
#[cfg(feature = "nng")]
pub const NN_SURVEYOR_DEADLINE: c_int = NN_SURVEYOR * 16 + 1;

pub const NN_PROTO_BUS: c_int = 7;
pub const NN_BUS: c_int = NN_PROTO_BUS * 16;

// ---------------------------------------------------------------------------------------------
// Transports (inproc.h, ipc.h, tcp.h, ws.h); a transport's id is also its option level.
pub const NN_INPROC: c_int = -1;

pub const NN_IPC: c_int = -2;
pub const NN_IPC_SEC_ATTR: c_int = 1;
pub const NN_IPC_OUTBUFSZ: c_int = 2;
pub const NN_IPC_INBUFSZ: c_int = 3;
/// Our hardened libnanomsg's own (patch 0062).
pub const NN_IPC_PERMISSIONS: c_int = 4;
pub const NN_IPC_PEER_UIDS: c_int = 5;
pub const NN_IPC_PEER_UIDS_MAX: c_int = 64;

pub const NN_TCP: c_int = -3;
pub const NN_TCP_NODELAY: c_int = 1;

pub const NN_WS: c_int = -4;
pub const NN_WS_MSG_TYPE: c_int = 1;
pub const NN_WS_MSG_TYPE_TEXT: c_int = 0x01;
pub const NN_WS_MSG_TYPE_BINARY: c_int = 0x02;

/// The tls+tcp transport's level (tls.h): our hardened libnanomsg's own (patch 0060).
pub const NN_TLS: c_int = -7;
/// The wss transport (tls.h, patch 0061): no options of its own (`NN_WS`'s and `NN_TLS`'s).
pub const NN_WSS: c_int = -8;
pub const NN_TLS_CERT_FILE: c_int = 1;
pub const NN_TLS_KEY_FILE: c_int = 2;
pub const NN_TLS_CA_FILE: c_int = 3;
pub const NN_TLS_SERVER_NAME: c_int = 4;
pub const NN_TLS_KEY_PASSWORD: c_int = 5;
pub const NN_TLS_VERIFY: c_int = 6;
pub const NN_TLS_ERROR: c_int = 7;

// ---------------------------------------------------------------------------------------------
// Functions of nn.h, in the header's order.
unsafe extern "C" {
    pub fn nn_errno() -> c_int;
    pub fn nn_strerror(errnum: c_int) -> *const c_char;
    pub fn nn_term();

    pub fn nn_allocmsg(size: usize, type_: c_int) -> *mut c_void;
    pub fn nn_reallocmsg(msg: *mut c_void, size: usize) -> *mut c_void;
    pub fn nn_freemsg(msg: *mut c_void) -> c_int;

    pub fn nn_socket(domain: c_int, protocol: c_int) -> c_int;
    pub fn nn_close(s: c_int) -> c_int;
    pub fn nn_setsockopt(
        s: c_int,
        level: c_int,
        option: c_int,
        optval: *const c_void,
        optvallen: usize,
    ) -> c_int;
    pub fn nn_getsockopt(
        s: c_int,
        level: c_int,
        option: c_int,
        optval: *mut c_void,
        optvallen: *mut usize,
    ) -> c_int;
    pub fn nn_bind(s: c_int, addr: *const c_char) -> c_int;
    pub fn nn_connect(s: c_int, addr: *const c_char) -> c_int;
    pub fn nn_shutdown(s: c_int, how: c_int) -> c_int;
    pub fn nn_send(s: c_int, buf: *const c_void, len: usize, flags: c_int) -> c_int;
    pub fn nn_recv(s: c_int, buf: *mut c_void, len: usize, flags: c_int) -> c_int;
    pub fn nn_sendmsg(s: c_int, msghdr: *const nn_msghdr, flags: c_int) -> c_int;
    pub fn nn_recvmsg(s: c_int, msghdr: *mut nn_msghdr, flags: c_int) -> c_int;

    pub fn nn_poll(fds: *mut nn_pollfd, nfds: c_int, timeout: c_int) -> c_int;
    pub fn nn_device(s1: c_int, s2: c_int) -> c_int;
    pub fn nn_get_statistic(s: c_int, stat: c_int) -> u64;
}

// Only in libnanomsg.
#[cfg(not(feature = "nng"))]
unsafe extern "C" {
    pub fn nn_symbol(i: c_int, value: *mut c_int) -> *const c_char;
    pub fn nn_symbol_info(i: c_int, buf: *mut nn_symbol_properties, buflen: c_int) -> c_int;
    /// Behind the `NN_CMSG_FIRSTHDR` / `NN_CMSG_NXTHDR` macros.
    pub fn nn_cmsg_nxthdr_(mhdr: *const nn_msghdr, cmsg: *const nn_cmsghdr) -> *mut nn_cmsghdr;
}

// Only in nng.
#[cfg(feature = "nng")]
unsafe extern "C" {
    /// nng's counterpart of `nn_cmsg_nxthdr_`.
    pub fn nn_cmsg_next(mhdr: *mut nn_msghdr, cmsg: *mut nn_cmsghdr) -> *mut nn_cmsghdr;
    /// nng's own version string, e.g. `"1.5.2"`.
    pub fn nng_version() -> *const c_char;
    /// Closes the dialer (a connected endpoint) with this id; 0 or an nng error code.
    pub fn nng_dialer_close(d: nng_endpoint) -> c_int;
    /// Closes the listener (a bound endpoint) with this id; 0 or an nng error code.
    pub fn nng_listener_close(l: nng_endpoint) -> c_int;
    /// nng's text for one of its error codes.
    pub fn nng_strerror(err: c_int) -> *const c_char;

    // The TLS endpoints (`backend::tls`): a listener or dialer made, given its TLS
    // configuration, then started; 0 or an nng error code, as every call below.
    pub fn nng_listener_create(l: *mut nng_endpoint, s: nng_endpoint, url: *const c_char) -> c_int;
    pub fn nng_listener_set_ptr(l: nng_endpoint, name: *const c_char, ptr: *mut c_void) -> c_int;
    pub fn nng_listener_start(l: nng_endpoint, flags: c_int) -> c_int;
    pub fn nng_dialer_create(d: *mut nng_endpoint, s: nng_endpoint, url: *const c_char) -> c_int;
    pub fn nng_dialer_set_ptr(d: nng_endpoint, name: *const c_char, ptr: *mut c_void) -> c_int;
    pub fn nng_dialer_start(d: nng_endpoint, flags: c_int) -> c_int;

    /// A TLS configuration, counted: each endpoint given it holds a reference, and
    /// `nng_tls_config_free` drops one.
    pub fn nng_tls_config_alloc(cfg: *mut *mut nng_tls_config, mode: c_int) -> c_int;
    pub fn nng_tls_config_free(cfg: *mut nng_tls_config);
    pub fn nng_tls_config_server_name(cfg: *mut nng_tls_config, name: *const c_char) -> c_int;
    /// This end's certificate (chain) and key, PEM text, and the key's password (or NULL).
    pub fn nng_tls_config_own_cert(
        cfg: *mut nng_tls_config,
        cert: *const c_char,
        key: *const c_char,
        pass: *const c_char,
    ) -> c_int;
    pub fn nng_tls_config_ca_file(cfg: *mut nng_tls_config, path: *const c_char) -> c_int;
    pub fn nng_tls_config_auth_mode(cfg: *mut nng_tls_config, mode: c_int) -> c_int;
}

/// nng's TLS configuration object, opaque.
#[cfg(feature = "nng")]
#[repr(C)]
pub struct nng_tls_config {
    _private: [u8; 0],
}
#[cfg(feature = "nng")]
pub const NNG_TLS_MODE_CLIENT: c_int = 0;
#[cfg(feature = "nng")]
pub const NNG_TLS_MODE_SERVER: c_int = 1;
#[cfg(feature = "nng")]
pub const NNG_TLS_AUTH_MODE_NONE: c_int = 0;
#[cfg(feature = "nng")]
pub const NNG_TLS_AUTH_MODE_REQUIRED: c_int = 2;
/// `NNG_FLAG_NONBLOCK`: a dialer started with it connects in the background, as `nn_connect`.
#[cfg(feature = "nng")]
pub const NNG_FLAG_NONBLOCK: c_int = 2;
/// `NNG_OPT_TLS_CONFIG`, the option of an endpoint's TLS configuration (a pointer).
#[cfg(feature = "nng")]
pub const NNG_OPT_TLS_CONFIG: &std::ffi::CStr = c"tls-config";

/// nng's `nng_dialer` and `nng_listener`: an endpoint id in a struct, passed by value.
#[cfg(feature = "nng")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct nng_endpoint {
    pub id: u32,
}

// The NN_CMSG_* macros of nn.h, as const functions.
/// `NN_CMSG_ALIGN_`: rounds up to a multiple of `size_t`.
pub const fn nn_cmsg_align(len: usize) -> usize {
    (len + std::mem::size_of::<usize>() - 1) & !(std::mem::size_of::<usize>() - 1)
}
/// `NN_CMSG_SPACE`: room for a control message with `len` bytes of data.
pub const fn nn_cmsg_space(len: usize) -> usize {
    nn_cmsg_align(len) + nn_cmsg_align(std::mem::size_of::<nn_cmsghdr>())
}
/// `NN_CMSG_LEN`: the `cmsg_len` of a control message with `len` bytes of data.
pub const fn nn_cmsg_len(len: usize) -> usize {
    nn_cmsg_align(std::mem::size_of::<nn_cmsghdr>()) + len
}
