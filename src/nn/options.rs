//! The socket options, one typed row each: every fact about an option lives in its row, and
//! every layer reads it from here.
//!
//! - the safe core: the values it accepts ([`OptionSpec::check_int`], [`OptionSpec::check_len`],
//!   before the C call), and what the nng backend does differently (`backend` reads
//!   [`OptionSpec::nng`]);
//! - the Python layer: `_native.OPTIONS`, from which `nanomsg_rs.Socket`'s properties are
//!   made (`tools/gen_python.py` writes their one line each from this table), the texts of
//!   option errors (the range, the protocol that has the option) and the misuse warnings a
//!   set may give ([`Caveat`]);
//! - the docs: `docs/gen_reference.py` writes the options table of `docs/options.rst` and the
//!   reference's list from `_native.OPTIONS`.
//!
//! Adding an option is one row here (and its constant in `ffi.rs` and `constants.rs`), then
//! `python3 tools/gen_python.py` and `python docs/gen_reference.py`; the tests say when one
//! is missing. Every row's level, number, type and unit are checked against libnanomsg's own
//! `nn_symbol_info`, and every range against what libnanomsg itself refuses.

use std::os::raw::c_int;

use crate::ffi;
use crate::nn::error::{NnError, NnResult};

/// The Python type of an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An int (`NN_TYPE_INT`).
    Int,
    /// An int option that is 0 or 1, read as a bool.
    Bool,
    /// A string (`NN_TYPE_STR`), read as a str.
    Str,
    /// Bytes (`NN_TYPE_STR`), given to a method (subscriptions).
    Bytes,
}

/// How Python reaches an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    /// A property of `nanomsg_rs.Socket` named after the row, made from the row.
    Property,
    /// A property or a method of its own, written by hand (`protocol`, `subscribe` ...): the
    /// row names it in errors.
    OwnCode,
    /// `getsockopt`/`setsockopt` only.
    Call,
}

/// Which sockets have the option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    /// Every socket.
    Any,
    /// The sockets of this protocol (the option's level).
    Protocol(c_int),
    /// The sockets that can receive.
    Receiving,
    /// The sockets that can send.
    Sending,
}

/// What the nng backend does with the option, where it differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nng {
    /// The same as libnanomsg.
    Same,
    /// nng lacks it (or gives it another meaning): `ENOTSUP` with this text.
    Unsupported(&'static str),
    /// nng stores the value as a C string, NUL-terminated, and refuses it without the NUL.
    CString,
    /// nng refuses this one value: `ENOTSUP` with this text.
    RefusesValue(c_int, &'static str),
    /// nng's compatibility layer lacks it: the binding keeps it and maps it onto nng's own
    /// API (`backend`); the text says what differs.
    Binding(&'static str),
}

/// Something about setting the option that the library passes over in silence, and the
/// Python layer warns about (once per socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caveat {
    /// The library accepts the option and ignores it; the text says what follows.
    Ignored(&'static str),
    /// It applies to the endpoints added after it only.
    LaterEndpoints,
}

/// The values the binding accepts: ints from `min` to `max`, or (strings) at most `max`
/// bytes; `text` says it in an error message ("sndprio must be {text}").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub min: c_int,
    pub max: c_int,
    pub text: &'static str,
}

/// Where an option is: its level and number, and the C name of the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub level: c_int,
    pub option: c_int,
    pub c_name: &'static str,
}

/// `at!(LEVEL, OPTION)`: the [`Place`] of `ffi::OPTION` at `ffi::LEVEL`.
macro_rules! at {
    ($level:ident, $option:ident) => {
        Place {
            level: ffi::$level,
            option: ffi::$option,
            c_name: stringify!($option),
        }
    };
}

/// One option: every fact the layers need about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionSpec {
    /// The name in Python: the property, or the method that sets it.
    pub name: &'static str,
    pub place: Place,
    pub kind: Kind,
    /// `NN_UNIT_*`, as `nn_symbol_info` gives it.
    pub unit: c_int,
    pub readable: bool,
    pub writable: bool,
    pub face: Face,
    /// The values the binding accepts; `None`: any the type allows (the library decides).
    pub range: Option<Range>,
    pub only: Only,
    pub nng: Nng,
    /// For an option of our hardened libnanomsg's own: what the system libnanomsg lacks
    /// (`ENOTSUP` with this text there).
    pub hardened_only: Option<&'static str>,
    pub caveat: Option<Caveat>,
    /// The property's docstring.
    pub doc: &'static str,
}

impl OptionSpec {
    const fn new(name: &'static str, place: Place, kind: Kind, unit: c_int) -> Self {
        Self {
            name,
            place,
            kind,
            unit,
            readable: true,
            writable: true,
            face: Face::Property,
            range: None,
            only: Only::Any,
            nng: Nng::Same,
            hardened_only: None,
            caveat: None,
            doc: "",
        }
    }

    const fn int(name: &'static str, place: Place, unit: c_int) -> Self {
        Self::new(name, place, Kind::Int, unit)
    }

    const fn bool(name: &'static str, place: Place) -> Self {
        Self::new(name, place, Kind::Bool, ffi::NN_UNIT_BOOLEAN)
    }

    const fn str(name: &'static str, place: Place) -> Self {
        Self::new(name, place, Kind::Str, ffi::NN_UNIT_NONE)
    }

    const fn bytes(name: &'static str, place: Place) -> Self {
        Self::new(name, place, Kind::Bytes, ffi::NN_UNIT_NONE)
    }

    const fn range(self, min: c_int, max: c_int, text: &'static str) -> Self {
        Self {
            range: Some(Range { min, max, text }),
            ..self
        }
    }

    const fn read_only(self) -> Self {
        Self {
            writable: false,
            ..self
        }
    }

    const fn write_only(self) -> Self {
        Self {
            readable: false,
            ..self
        }
    }

    const fn face(self, face: Face) -> Self {
        Self { face, ..self }
    }

    const fn only(self, only: Only) -> Self {
        Self { only, ..self }
    }

    const fn nng(self, nng: Nng) -> Self {
        Self { nng, ..self }
    }

    const fn hardened_only(self, why: &'static str) -> Self {
        Self {
            hardened_only: Some(why),
            ..self
        }
    }

    const fn caveat(self, caveat: Caveat) -> Self {
        Self {
            caveat: Some(caveat),
            ..self
        }
    }

    const fn doc(self, doc: &'static str) -> Self {
        Self { doc, ..self }
    }

    /// Fails with `EINVAL` for an int value outside the row's range.
    pub fn check_int(&self, value: c_int) -> NnResult<()> {
        match self.range {
            Some(r) if matches!(self.kind, Kind::Int | Kind::Bool) => {
                if value < r.min || value > r.max {
                    return Err(NnError::new(libc::EINVAL));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Fails with `EINVAL` for a string value longer than the row allows.
    pub fn check_len(&self, len: usize) -> NnResult<()> {
        match self.range {
            Some(r) if self.kind == Kind::Str => {
                if usize::try_from(r.max).is_ok_and(|max| len > max) {
                    return Err(NnError::new(libc::EINVAL));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

const MAX: c_int = c_int::MAX;
const MS: c_int = ffi::NN_UNIT_MILLISECONDS;
const BYTES: c_int = ffi::NN_UNIT_BYTES;
const PRIORITY: c_int = ffi::NN_UNIT_PRIORITY;
const NONE: c_int = ffi::NN_UNIT_NONE;

/// Why the TLS options are missing from the system libnanomsg.
const TLS_HARDENED: &str =
    "TLS (tls+tcp://, wss://) needs nanomsg-rs's hardened libnanomsg (patches 0060, 0061); \
     the system libnanomsg has no TLS transport";
/// What the nng backend does with them.
const TLS_NNG: &str = "kept by the binding and given to nng's TLS (nng_tls_config) at bind \
     and connect";

/// Every option the binding knows, in the order of the docs.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec::int("linger", at!(NN_SOL_SOCKET, NN_LINGER), MS)
        .caveat(Caveat::Ignored(
            "close() waits for no peer to receive what was sent",
        ))
        .doc(
            "Linger time in ms (-1: forever). libnanomsg 1.1.5 accepts it and ignores it \
             (reads back 0).",
        ),
    OptionSpec::int("sndbuf", at!(NN_SOL_SOCKET, NN_SNDBUF), BYTES)
        .range(1, MAX, "a size in bytes, at least 1")
        .nng(Nng::Unsupported(
            "the sndbuf option (bytes) is not supported by the nng backend",
        ))
        .doc("Send buffer size in bytes (default 128 KiB)."),
    OptionSpec::int("rcvbuf", at!(NN_SOL_SOCKET, NN_RCVBUF), BYTES)
        .range(1, MAX, "a size in bytes, at least 1")
        .nng(Nng::Unsupported(
            "the rcvbuf option (bytes) is not supported by the nng backend",
        ))
        .doc("Receive buffer size in bytes (default 128 KiB)."),
    OptionSpec::int("sndtimeo", at!(NN_SOL_SOCKET, NN_SNDTIMEO), MS)
        .doc("Send timeout in ms (-1: forever, the default); then Timeout."),
    OptionSpec::int("rcvtimeo", at!(NN_SOL_SOCKET, NN_RCVTIMEO), MS)
        .doc("Receive timeout in ms (-1: forever, the default); then Timeout."),
    OptionSpec::int("reconnect_ivl", at!(NN_SOL_SOCKET, NN_RECONNECT_IVL), MS)
        .range(0, MAX, "a time in ms, 0 or more")
        .doc("Wait before reconnecting, in ms (default 100)."),
    OptionSpec::int(
        "reconnect_ivl_max",
        at!(NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX),
        MS,
    )
    .range(0, MAX, "a time in ms, 0 or more (0: no back-off)")
    .doc("Cap of the exponential reconnect back-off, in ms (0: none)."),
    OptionSpec::int(
        "connect_timeout",
        at!(NN_SOL_SOCKET, NN_CONNECT_TIMEOUT),
        MS,
    )
    .range(
        0,
        MAX,
        "a time in ms, 0 or more (0: none, the kernel's own)",
    )
    .nng(Nng::Unsupported(
        "the connect_timeout option is not supported by the nng backend: nng has no \
             connect timeout",
    ))
    .hardened_only(
        "the connect_timeout option needs nanomsg-rs's hardened libnanomsg (patch 0051); \
             the system libnanomsg waits out the kernel's SYN retries",
    )
    .doc(
        "tcp and ws: a connection attempt not connected after this many ms is given up \
             (counted in CONNECT_ERRORS) and retried after reconnect_ivl, so a host that \
             comes back is found within about reconnect_ivl_max + connect_timeout (default \
             0: none, the kernel's SYN retries decide, about 2 minutes on Linux). Our \
             hardened libnanomsg only: NotSupported elsewhere.",
    ),
    OptionSpec::bool("tcp_keepalive", at!(NN_SOL_SOCKET, NN_TCP_KEEPALIVE))
        .nng(Nng::Unsupported(
            "the tcp_keepalive option is not supported by the nng backend: nng's nanomsg \
             compatibility layer has no keepalive option",
        ))
        .hardened_only(
            "the tcp_keepalive option needs nanomsg-rs's hardened libnanomsg (patch 0050); \
             the system libnanomsg never turns TCP keepalive on",
        )
        .doc(
            "TCP keepalive on the socket's later tcp and ws connections, connecting and \
             accepted (default False). A connection whose probes go unanswered for \
             idle + interval * count, or whose data go unacknowledged for as long (a peer \
             that reads nothing for as long too), is dropped, counted in \
             BROKEN_CONNECTIONS, and reconnected. Our hardened libnanomsg only: \
             NotSupported elsewhere.",
        ),
    OptionSpec::int(
        "tcp_keepalive_idle",
        at!(NN_SOL_SOCKET, NN_TCP_KEEPALIVE_IDLE),
        MS,
    )
    .range(
        0,
        32_767_000,
        "a time in ms from 0 to 32767000 (0: the kernel's own)",
    )
    .nng(Nng::Unsupported(
        "the tcp_keepalive_idle option is not supported by the nng backend: nng has no \
         keepalive timing",
    ))
    .hardened_only(
        "the tcp_keepalive_idle option needs nanomsg-rs's hardened libnanomsg (patch 0050)",
    )
    .doc(
        "With tcp_keepalive: idle time before the first probe, in ms, rounded up to whole \
         seconds (default 0: the kernel's own, 2 hours on Linux). Our hardened libnanomsg \
         only: NotSupported elsewhere.",
    ),
    OptionSpec::int(
        "tcp_keepalive_interval",
        at!(NN_SOL_SOCKET, NN_TCP_KEEPALIVE_INTVL),
        MS,
    )
    .range(
        0,
        32_767_000,
        "a time in ms from 0 to 32767000 (0: the kernel's own)",
    )
    .nng(Nng::Unsupported(
        "the tcp_keepalive_interval option is not supported by the nng backend: nng has no \
         keepalive timing",
    ))
    .hardened_only(
        "the tcp_keepalive_interval option needs nanomsg-rs's hardened libnanomsg (patch \
         0050)",
    )
    .doc(
        "With tcp_keepalive: time between probes, in ms, rounded up to whole seconds \
         (default 0: the kernel's own, 75 s on Linux). Our hardened libnanomsg only: \
         NotSupported elsewhere.",
    ),
    OptionSpec::int(
        "tcp_keepalive_count",
        at!(NN_SOL_SOCKET, NN_TCP_KEEPALIVE_CNT),
        NONE,
    )
    .range(0, 127, "from 0 to 127 (0: the kernel's own)")
    .nng(Nng::Unsupported(
        "the tcp_keepalive_count option is not supported by the nng backend: nng has no \
         keepalive timing",
    ))
    .hardened_only(
        "the tcp_keepalive_count option needs nanomsg-rs's hardened libnanomsg (patch 0050)",
    )
    .doc(
        "With tcp_keepalive: probes unanswered before the connection is dropped (default 0: \
         the kernel's own, 9 on Linux). Our hardened libnanomsg only: NotSupported \
         elsewhere.",
    ),
    OptionSpec::int("sndprio", at!(NN_SOL_SOCKET, NN_SNDPRIO), PRIORITY)
        .range(1, 16, "from 1 (highest) to 16")
        .nng(Nng::Unsupported(
            "the sndprio option is not supported by the nng backend",
        ))
        .caveat(Caveat::LaterEndpoints)
        .doc(
            "Send priority of endpoints added later, 1 (highest) to 16; default 8. \
             InvalidArgument outside 1..16.",
        ),
    OptionSpec::int("rcvprio", at!(NN_SOL_SOCKET, NN_RCVPRIO), PRIORITY)
        .range(1, 16, "from 1 (highest) to 16")
        .nng(Nng::Unsupported(
            "the rcvprio option is not supported by the nng backend",
        ))
        .caveat(Caveat::LaterEndpoints)
        .doc(
            "Receive priority of endpoints added later, 1 (highest) to 16; default 8. \
             InvalidArgument outside 1..16.",
        ),
    OptionSpec::bool("ipv4only", at!(NN_SOL_SOCKET, NN_IPV4ONLY))
        .nng(Nng::Unsupported(
            "the ipv4only option is not supported by the nng backend",
        ))
        .caveat(Caveat::LaterEndpoints)
        .doc("Use IPv4 addresses only (default True)."),
    OptionSpec::int("maxttl", at!(NN_SOL_SOCKET, NN_MAXTTL), NONE)
        .range(1, 255, "from 1 to 255")
        .nng(Nng::Unsupported(
            "the maxttl option is not supported by the nng backend",
        ))
        .doc("Maximum hops through devices, 1..255 (default 8)."),
    OptionSpec::int("rcvmaxsize", at!(NN_SOL_SOCKET, NN_RCVMAXSIZE), BYTES)
        .range(-1, MAX, "a size in bytes, or -1 for no limit")
        .doc(
            "Largest message accepted, in bytes (default 1 MiB; -1: no limit); a larger one \
             drops its connection.",
        ),
    OptionSpec::int("rcvmaxpartial", at!(NN_SOL_SOCKET, NN_RCVMAXPARTIAL), BYTES)
        .range(-1, MAX, "a size in bytes, or -1 for no limit")
        .nng(Nng::Unsupported(
            "the rcvmaxpartial option is not supported by the nng backend",
        ))
        .hardened_only(
            "the rcvmaxpartial option needs nanomsg-rs's hardened libnanomsg (patch 0033); \
             the system libnanomsg has no cap on partial messages",
        )
        .doc(
            "Most bytes held in messages still arriving, all connections together (default \
             32 MiB; -1: no limit). A connection whose next message would go past it is \
             dropped (counted in BROKEN_CONNECTIONS), unless no other message is arriving \
             then. Our hardened libnanomsg only: NotSupported elsewhere.",
        ),
    OptionSpec::int("maxconn", at!(NN_SOL_SOCKET, NN_MAXCONN), NONE)
        .range(0, MAX, "0 (no cap) or a number of connections")
        .nng(Nng::Unsupported(
            "the maxconn option is not supported by the nng backend",
        ))
        .hardened_only(
            "the maxconn option needs nanomsg-rs's hardened libnanomsg (patch 0063); the \
             system libnanomsg accepts every connection",
        )
        .doc(
            "Most connections the socket's listeners hold at once, all its bound endpoints \
             together (default 0: no cap). Past it a listener stops accepting: connections \
             wait in the kernel's backlog and are taken as others go; on tcp, ws and TLS, \
             what the backlog cannot hold is refused, counted in \
             Statistic.REFUSED_CONNECTIONS. Our hardened libnanomsg only: NotSupported \
             elsewhere.",
        ),
    OptionSpec::bool("worker_poll", at!(NN_SOL_SOCKET, NN_WORKER_POLL))
        .nng(Nng::Unsupported(
            "the worker_poll option is not supported by the nng backend",
        ))
        .hardened_only(
            "the worker_poll option needs nanomsg-rs's hardened libnanomsg (patch 0085); the \
             system libnanomsg's worker thread never polls",
        )
        .doc(
            "Ask the library's worker thread to poll for up to 50 us before it sleeps, while \
             this socket is open (default False; the first wait of an asyncio or trio event \
             loop on the socket sets it, unless it was set before). It pays where the \
             traffic is round trips between threads of this process, and costs CPU time \
             where streams keep the CPUs busy; the worker is the process's, so it polls for \
             every socket while one asks. The environment variable NN_WORKER_SPIN_US, when \
             set, overrides it. Our hardened libnanomsg only: NotSupported elsewhere.",
        ),
    OptionSpec::bool("worker_yield", at!(NN_SOL_SOCKET, NN_WORKER_YIELD))
        .nng(Nng::Unsupported(
            "the worker_yield option is not supported by the nng backend",
        ))
        .hardened_only(
            "the worker_yield option needs nanomsg-rs's hardened libnanomsg (patch 0087); the \
             system libnanomsg's worker thread never makes way",
        )
        .doc(
            "Let the library's worker thread make way for this socket's sender where the two \
             share a CPU (default True for a new socket). A thread that sends on the socket \
             notes itself, its CPU and the time; when the worker wakes on that CPU to write \
             the socket's send batch within 20 us of a send by a thread that is not waiting \
             in the library and has sent 32 messages or more since it last waited there (a \
             stream), it has preempted the sender in mid-stream, so it pauses first \
             while the sender keeps adding to the batch: 50 us at most, less when a thread \
             starts to wait in the library (for a reply, say). Where a process's \
             threads share a CPU (pinned, a container of one CPU) a stream of small \
             messages then costs about one context switch per hundred messages instead of \
             one per ten. On another CPU the worker waits while a thread that has sent \
             two messages or more since it last waited goes on sending (it looks every \
             10 us; 50 us at most), so that the two do not hand the socket's lock back \
             and forth for each message of a burst (a PUB's copies to many SUBs); a lone \
             message is not waited for. Set False where the last message of a burst must \
             not wait up to 50 us. Our hardened libnanomsg only: NotSupported elsewhere.",
        ),
    OptionSpec::str("socket_name", at!(NN_SOL_SOCKET, NN_SOCKET_NAME))
        .range(0, 63, "at most 63 bytes")
        .nng(Nng::CString)
        .doc(
            "The socket's name in statistics and errors (at most 63 bytes; InvalidArgument if \
             longer, ValueError with a NUL).",
        ),
    OptionSpec::int("sndfd", at!(NN_SOL_SOCKET, NN_SNDFD), NONE)
        .read_only()
        .only(Only::Sending)
        .doc(
            "Read-only: an OS fd (not the socket number) that polls readable when a message \
             can be sent (NanomsgError ENOPROTOOPT on receive-only sockets).",
        ),
    OptionSpec::int("rcvfd", at!(NN_SOL_SOCKET, NN_RCVFD), NONE)
        .read_only()
        .only(Only::Receiving)
        .doc(
            "Read-only: an OS fd (not the socket number) that polls readable when a message \
             can be received (NanomsgError ENOPROTOOPT on send-only sockets).",
        ),
    OptionSpec::int("protocol", at!(NN_SOL_SOCKET, NN_PROTOCOL), NONE)
        .read_only()
        .face(Face::OwnCode)
        .doc("The socket's Protocol (read-only)."),
    OptionSpec::int("domain", at!(NN_SOL_SOCKET, NN_DOMAIN), NONE)
        .read_only()
        .face(Face::OwnCode)
        .doc("The socket's Domain (read-only)."),
    OptionSpec::int("req_resend_ivl", at!(NN_REQ, NN_REQ_RESEND_IVL), MS)
        .range(
            1,
            MAX,
            "a time in ms, 1 or more (at 0 a request would be resent in a busy loop, \
             hundreds of thousands of times a second)",
        )
        .only(Only::Protocol(ffi::NN_REQ))
        .doc(
            "REQ only: resend an unanswered request after this many ms (default 60000; at \
             least 1, InvalidArgument otherwise: 0 would resend in a busy loop); NanomsgError \
             (ENOPROTOOPT) elsewhere.",
        ),
    OptionSpec::int(
        "surveyor_deadline",
        at!(NN_SURVEYOR, NN_SURVEYOR_DEADLINE),
        MS,
    )
    .range(
        1,
        MAX,
        "a time in ms, 1 or more (at 0 a survey would end before its answers could come)",
    )
    .only(Only::Protocol(ffi::NN_SURVEYOR))
    .doc(
        "SURVEYOR only: how long a survey collects answers, in ms (default 1000; at least \
             1, InvalidArgument otherwise: at 0 a survey would end before its answers came); \
             NanomsgError (ENOPROTOOPT) elsewhere.",
    ),
    OptionSpec::bytes("subscribe", at!(NN_SUB, NN_SUB_SUBSCRIBE))
        .write_only()
        .face(Face::OwnCode)
        .only(Only::Protocol(ffi::NN_SUB))
        .doc("SUB only: receive the messages that start with this prefix."),
    OptionSpec::bytes("unsubscribe", at!(NN_SUB, NN_SUB_UNSUBSCRIBE))
        .write_only()
        .face(Face::OwnCode)
        .only(Only::Protocol(ffi::NN_SUB))
        .doc("SUB only: remove a subscription."),
    OptionSpec::int("ipc_permissions", at!(NN_IPC, NN_IPC_PERMISSIONS), NONE)
        .range(
            0,
            511,
            "0 (the umask's mode) or a file mode up to 0o777 (511)",
        )
        .nng(Nng::Unsupported(
            "the ipc_permissions option is not supported by the nng backend of nanomsg-rs",
        ))
        .hardened_only(
            "the ipc_permissions option needs nanomsg-rs's hardened libnanomsg (patch 0062)",
        )
        .caveat(Caveat::LaterEndpoints)
        .doc(
            "The mode of the socket file of ipc binds made later, e.g. 0o600 (default 0: what \
             the umask gives). Set before the listener accepts anything.",
        ),
    OptionSpec::bytes("ipc_peer_uids", at!(NN_IPC, NN_IPC_PEER_UIDS))
        .face(Face::OwnCode)
        .nng(Nng::Unsupported(
            "the ipc_peer_uids option is not supported by the nng backend",
        ))
        .hardened_only(
            "the ipc_peer_uids option needs nanomsg-rs's hardened libnanomsg (patch 0062)",
        )
        .doc(
            "The user ids the socket's ipc listeners accept connections from (empty, the \
             default: anyone); a peer of another user is closed at once and counted in \
             Statistic.REFUSED_CONNECTIONS.",
        ),
    OptionSpec::bool("tcp_nodelay", at!(NN_TCP, NN_TCP_NODELAY))
        .doc("TCP_NODELAY on the socket's tcp connections (default False)."),
    OptionSpec::int("ws_msg_type", at!(NN_WS, NN_WS_MSG_TYPE), NONE)
        .face(Face::Call)
        .nng(Nng::RefusesValue(
            ffi::NN_WS_MSG_TYPE_TEXT,
            "websocket text frames (NN_WS_MSG_TYPE_TEXT) are not supported by the nng backend",
        ))
        .doc(
            "The websocket frames of the messages sent: WS_MSG_TYPE_BINARY (the default) or \
             WS_MSG_TYPE_TEXT.",
        ),
    OptionSpec::str("tls_cert_file", at!(NN_TLS, NN_TLS_CERT_FILE))
        .face(Face::Call)
        .nng(Nng::Binding(TLS_NNG))
        .hardened_only(TLS_HARDENED)
        .doc(
            "This end's certificate chain, a PEM file (set by Socket.tls): a bind needs it, a \
             connect when the listener asks for a client certificate.",
        ),
    OptionSpec::str("tls_key_file", at!(NN_TLS, NN_TLS_KEY_FILE))
        .face(Face::Call)
        .nng(Nng::Binding(TLS_NNG))
        .hardened_only(TLS_HARDENED)
        .doc("The private key of tls_cert_file, a PEM file (set by Socket.tls)."),
    OptionSpec::str("tls_ca_file", at!(NN_TLS, NN_TLS_CA_FILE))
        .face(Face::Call)
        .nng(Nng::Binding(TLS_NNG))
        .hardened_only(TLS_HARDENED)
        .doc(
            "The certificate authorities the peer's certificate must chain to, a PEM file (set \
             by Socket.tls; empty: the system's).",
        ),
    OptionSpec::str("tls_server_name", at!(NN_TLS, NN_TLS_SERVER_NAME))
        .face(Face::Call)
        .nng(Nng::Binding(TLS_NNG))
        .hardened_only(TLS_HARDENED)
        .doc(
            "The name the listener's certificate must carry (set by Socket.tls; empty: the host \
             of the address connected to).",
        ),
    OptionSpec::str("tls_key_password", at!(NN_TLS, NN_TLS_KEY_PASSWORD))
        .write_only()
        .face(Face::Call)
        .nng(Nng::Binding(TLS_NNG))
        .hardened_only(TLS_HARDENED)
        .doc("The password of an encrypted tls_key_file (set by Socket.tls; write-only)."),
    OptionSpec::int("tls_verify", at!(NN_TLS, NN_TLS_VERIFY), NONE)
        .face(Face::Call)
        .nng(Nng::Binding(TLS_NNG))
        .hardened_only(TLS_HARDENED)
        .doc(
            "Whether the peer's certificate is checked (set by Socket.tls): -1 (the default) \
             when connecting only, 1 both ways (mutual TLS), 0 never.",
        ),
    OptionSpec::str("tls_error", at!(NN_TLS, NN_TLS_ERROR))
        .read_only()
        .nng(Nng::Binding(
            "on nng, only why a TLS configuration was refused at bind or connect: nng reports \
             nothing of a failed handshake (and counts none)",
        ))
        .hardened_only(TLS_HARDENED)
        .doc(
            "Read-only: why the socket's last TLS connection failed (its handshake, a \
             certificate, a record), or why its TLS configuration was refused; empty until \
             then. Each failed handshake is counted in Statistic.TLS_HANDSHAKE_ERRORS. On \
             nng: only why a configuration was refused.",
        ),
];

/// The row of the option at `level` and `option`, if the binding knows it.
#[inline]
pub fn find(level: c_int, option: c_int) -> Option<&'static OptionSpec> {
    OPTIONS
        .iter()
        .find(|o| o.place.option == option && o.place.level == level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_places_are_unique() {
        for (i, a) in OPTIONS.iter().enumerate() {
            for b in &OPTIONS[i + 1..] {
                assert_ne!(a.name, b.name);
                assert!(a.place.level != b.place.level || a.place.option != b.place.option);
            }
        }
    }

    #[test]
    fn a_protocol_option_belongs_to_its_level() {
        for o in OPTIONS {
            if o.place.level > ffi::NN_SOL_SOCKET {
                assert_eq!(o.only, Only::Protocol(o.place.level), "{}", o.name);
            }
        }
    }

    #[test]
    fn every_range_text_names_its_bounds() {
        for o in OPTIONS {
            let Some(r) = o.range else { continue };
            let bound = if o.kind == Kind::Str { r.max } else { r.min };
            assert!(
                r.text.contains(&bound.to_string()),
                "{}: {}",
                o.name,
                r.text
            );
            if o.kind != Kind::Str && r.max != MAX {
                assert!(
                    r.text.contains(&r.max.to_string()),
                    "{}: {}",
                    o.name,
                    r.text
                );
            }
        }
    }

    /// libnanomsg itself refuses what a row's range leaves out, and takes its bounds: the
    /// table says what the library does, bar the timer floors the binding adds (0 ms).
    #[cfg(all(not(feature = "nng"), nanomsg_hardened))]
    #[test]
    fn the_library_agrees_with_every_range() {
        // Where the binding's floor is above the library's: the library takes 0 there.
        let floors = ["req_resend_ivl", "surveyor_deadline"];
        for o in OPTIONS {
            let Some(r) = o.range else { continue };
            let protocol = match o.only {
                Only::Protocol(p) => p,
                _ => ffi::NN_PAIR,
            };
            // SAFETY: plain ints; a socket of our own, closed below.
            let s = unsafe { ffi::nn_socket(ffi::AF_SP, protocol) };
            assert!(s >= 0);
            let set = |value: &[u8]| {
                // SAFETY: value is live for the call, with its length.
                unsafe {
                    ffi::nn_setsockopt(
                        s,
                        o.place.level,
                        o.place.option,
                        value.as_ptr().cast(),
                        value.len(),
                    )
                }
            };
            if o.kind == Kind::Str {
                let max = usize::try_from(r.max).unwrap();
                assert_eq!(set(&vec![b'n'; max]), 0, "{}", o.name);
                assert_eq!(set(&vec![b'n'; max + 1]), -1, "{}", o.name);
            } else {
                let int = |v: c_int| set(&v.to_ne_bytes());
                assert_eq!(int(r.min), 0, "{} at {}", o.name, r.min);
                assert_eq!(int(r.max), 0, "{} at {}", o.name, r.max);
                if floors.contains(&o.name) {
                    assert_eq!(int(r.min - 1), 0, "{}: the library's own floor", o.name);
                    assert_eq!(int(r.min - 2), -1, "{} at {}", o.name, r.min - 2);
                } else {
                    assert_eq!(int(r.min - 1), -1, "{} at {}", o.name, r.min - 1);
                }
                if r.max != MAX {
                    assert_eq!(int(r.max + 1), -1, "{} at {}", o.name, r.max + 1);
                }
            }
            // SAFETY: our own socket, closed once.
            unsafe { ffi::nn_close(s) };
        }
    }
}
