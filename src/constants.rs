//! Every constant of `ffi.rs` (and the errno codes nanomsg reports), by its C name, for the
//! Python module to export without the `NN_` prefix. A test compares this table with what
//! `nn_symbol_info` reports at run time.

use crate::ffi;

macro_rules! table {
    ($($path:ident :: $name:ident),* $(,)?) => {
        /// `(C name, value)` of every exported constant.
        pub const CONSTANTS: &[(&str, i64)] = &[$((stringify!($name), $path::$name as i64)),*];
    };
}

table![
    ffi::NN_VERSION_CURRENT, ffi::NN_VERSION_REVISION, ffi::NN_VERSION_AGE,
    ffi::NN_NS_NAMESPACE, ffi::NN_NS_VERSION, ffi::NN_NS_DOMAIN, ffi::NN_NS_TRANSPORT,
    ffi::NN_NS_PROTOCOL, ffi::NN_NS_OPTION_LEVEL, ffi::NN_NS_SOCKET_OPTION,
    ffi::NN_NS_TRANSPORT_OPTION, ffi::NN_NS_OPTION_TYPE, ffi::NN_NS_OPTION_UNIT, ffi::NN_NS_FLAG,
    ffi::NN_NS_ERROR, ffi::NN_NS_LIMIT, ffi::NN_NS_EVENT, ffi::NN_NS_STATISTIC,
    ffi::NN_TYPE_NONE, ffi::NN_TYPE_INT, ffi::NN_TYPE_STR,
    ffi::NN_UNIT_NONE, ffi::NN_UNIT_BYTES, ffi::NN_UNIT_MILLISECONDS, ffi::NN_UNIT_PRIORITY,
    ffi::NN_UNIT_BOOLEAN, ffi::NN_UNIT_MESSAGES, ffi::NN_UNIT_COUNTER,
    ffi::AF_SP, ffi::AF_SP_RAW, ffi::NN_SOCKADDR_MAX,
    ffi::NN_SOL_SOCKET, ffi::NN_LINGER, ffi::NN_SNDBUF, ffi::NN_RCVBUF, ffi::NN_SNDTIMEO,
    ffi::NN_RCVTIMEO, ffi::NN_RECONNECT_IVL, ffi::NN_RECONNECT_IVL_MAX, ffi::NN_SNDPRIO,
    ffi::NN_RCVPRIO, ffi::NN_SNDFD, ffi::NN_RCVFD, ffi::NN_DOMAIN, ffi::NN_PROTOCOL,
    ffi::NN_IPV4ONLY, ffi::NN_SOCKET_NAME, ffi::NN_RCVMAXSIZE, ffi::NN_MAXTTL,
    ffi::NN_DONTWAIT, ffi::PROTO_SP, ffi::SP_HDR, ffi::NN_POLLIN, ffi::NN_POLLOUT,
    ffi::NN_STAT_ESTABLISHED_CONNECTIONS, ffi::NN_STAT_ACCEPTED_CONNECTIONS,
    ffi::NN_STAT_DROPPED_CONNECTIONS, ffi::NN_STAT_BROKEN_CONNECTIONS,
    ffi::NN_STAT_CONNECT_ERRORS, ffi::NN_STAT_BIND_ERRORS, ffi::NN_STAT_ACCEPT_ERRORS,
    ffi::NN_STAT_CURRENT_CONNECTIONS, ffi::NN_STAT_INPROGRESS_CONNECTIONS,
    ffi::NN_STAT_CURRENT_EP_ERRORS, ffi::NN_STAT_MESSAGES_SENT, ffi::NN_STAT_MESSAGES_RECEIVED,
    ffi::NN_STAT_BYTES_SENT, ffi::NN_STAT_BYTES_RECEIVED, ffi::NN_STAT_CURRENT_SND_PRIORITY,
    ffi::NN_PROTO_PAIR, ffi::NN_PAIR, ffi::NN_PROTO_PUBSUB, ffi::NN_PUB, ffi::NN_SUB,
    ffi::NN_SUB_SUBSCRIBE, ffi::NN_SUB_UNSUBSCRIBE, ffi::NN_PROTO_REQREP, ffi::NN_REQ,
    ffi::NN_REP, ffi::NN_REQ_RESEND_IVL, ffi::NN_PROTO_PIPELINE, ffi::NN_PUSH, ffi::NN_PULL,
    ffi::NN_PROTO_SURVEY, ffi::NN_SURVEYOR, ffi::NN_RESPONDENT, ffi::NN_SURVEYOR_DEADLINE,
    ffi::NN_PROTO_BUS, ffi::NN_BUS,
    ffi::NN_INPROC, ffi::NN_IPC, ffi::NN_IPC_SEC_ATTR, ffi::NN_IPC_OUTBUFSZ, ffi::NN_IPC_INBUFSZ,
    ffi::NN_TCP, ffi::NN_TCP_NODELAY, ffi::NN_WS, ffi::NN_WS_MSG_TYPE, ffi::NN_WS_MSG_TYPE_TEXT,
    ffi::NN_WS_MSG_TYPE_BINARY,
    ffi::ETERM, ffi::EFSM,
    libc::EADDRINUSE, libc::EADDRNOTAVAIL, libc::EAFNOSUPPORT, libc::EAGAIN, libc::EBADF,
    libc::ECONNREFUSED, libc::EFAULT, libc::EINPROGRESS, libc::EINTR, libc::EINVAL,
    libc::EMFILE, libc::ENAMETOOLONG, libc::ENETDOWN, libc::ENOBUFS, libc::ENODEV, libc::ENOMEM,
    libc::ENOPROTOOPT, libc::ENOTSOCK, libc::ENOTSUP, libc::EPROTO, libc::EPROTONOSUPPORT,
    libc::ETIMEDOUT, libc::EACCES, libc::ECONNABORTED, libc::ECONNRESET, libc::EHOSTUNREACH,
    libc::EMSGSIZE, libc::ENETRESET, libc::ENETUNREACH, libc::ENOTCONN, libc::EISCONN,
    libc::ESOCKTNOSUPPORT,
];
