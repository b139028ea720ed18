"""Type stubs of the native core, ``nanomsg_rs._native`` (hand-written; checked by stubtest)."""

import sys
from collections.abc import Iterable
from typing import Any, ClassVar, Self, final, overload

from typing_extensions import Buffer, disjoint_base

@disjoint_base
class Socket:
    """A nanomsg socket (the native part; use ``nanomsg_rs.Socket``)."""

    def __new__(cls, protocol: int, domain: int = 1, *, _adopt: int | None = None) -> Self: ...
    @classmethod
    def adopt(cls, number: int) -> Self: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def detach(self) -> int: ...
    @property
    def fd(self) -> int: ...
    def bind(self, addr: str | bytes) -> int: ...
    def connect(self, addr: str | bytes) -> int: ...
    def shutdown(self, endpoint: int, bound: bool | None = None) -> None: ...
    def send(self, data: Buffer | str, *, block: bool = True) -> int: ...
    def recv(self, *, block: bool = True) -> bytes: ...
    def recv_into(self, buffer: Buffer, *, block: bool = True) -> int: ...
    def recv_msg(self, *, block: bool = True) -> Message: ...
    def send_msg(self, msg: Message, *, block: bool = True) -> int: ...
    def send_parts(self, parts: Iterable[Buffer | str], *, block: bool = True) -> int: ...
    def send_many(self, messages: Iterable[Buffer | str], *, block: bool = True) -> int: ...
    def recv_many(self, max: int, *, timeout: float | None = None) -> list[bytes]: ...
    @overload
    def getsockopt(self, level: int, option: int, type: type[int] | None = None) -> int: ...
    @overload
    def getsockopt(self, level: int, option: int, type: type[str]) -> str: ...
    @overload
    def getsockopt(self, level: int, option: int, type: type[bytes]) -> bytes: ...
    def setsockopt(self, level: int, option: int, value: int | str | Buffer) -> None: ...
    def _get_option(self, spec: OptionSpec) -> Any: ...
    def _set_option(self, spec: OptionSpec, value: object) -> None: ...
    def statistic(self, stat: int) -> int: ...
    def _retry_after(self, recv: bool) -> float | None: ...
    def _arecv_try(self) -> bytes | None: ...
    def _arecv_msg_try(self) -> Message | None: ...
    def _asend_try(self, data: Buffer | str) -> int | None: ...
    def _error(self, errno: int, call: str) -> BaseException: ...

@final
class Message:
    """A message in a nanomsg buffer (zero-copy; supports the buffer protocol)."""

    def __new__(cls, data_or_size: Buffer | str | int) -> Self: ...
    def __len__(self) -> int: ...
    def __bytes__(self) -> bytes: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    if sys.version_info >= (3, 12):
        def __buffer__(self, flags: int, /) -> memoryview: ...
        def __release_buffer__(self, buffer: memoryview, /) -> None: ...
    def resize(self, size: int) -> None: ...
    @property
    def header(self) -> bytes | None: ...
    @header.setter
    def header(self, value: Buffer | str | None) -> None: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class ErrorContext:
    """What a failed call on a socket concerned, as an exception carries it (``_context``)."""

    def __new__(
        cls,
        state: tuple[
            int, bool, int, bool, tuple[int, int, int | None] | None, tuple[int, int] | None, object
        ],
    ) -> Self: ...
    @property
    def protocol(self) -> str | None: ...
    @property
    def raw(self) -> bool: ...
    @property
    def number(self) -> int: ...
    @property
    def had_endpoint(self) -> bool: ...
    @property
    def sndtimeo(self) -> int | None: ...
    @property
    def rcvtimeo(self) -> int | None: ...
    @property
    def deadline(self) -> int | None: ...
    @property
    def option(self) -> str | None: ...
    @property
    def value(self) -> object: ...
    def __reduce__(self) -> tuple[type[ErrorContext], tuple[object, ...]]: ...

@final
class OptionSpec:
    """One socket option, as the binding knows it (a row of the option table)."""

    @property
    def name(self) -> str: ...
    @property
    def level(self) -> int: ...
    @property
    def option(self) -> int: ...
    @property
    def c_name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def unit(self) -> int: ...
    @property
    def readable(self) -> bool: ...
    @property
    def writable(self) -> bool: ...
    @property
    def face(self) -> str: ...
    @property
    def min(self) -> int | None: ...
    @property
    def max(self) -> int | None: ...
    @property
    def range_text(self) -> str | None: ...
    @property
    def protocol(self) -> int | None: ...
    @property
    def direction(self) -> str | None: ...
    @property
    def nng(self) -> str | None: ...
    @property
    def hardened_only(self) -> str | None: ...
    @property
    def caveat(self) -> str | None: ...
    @property
    def doc(self) -> str: ...

#: Every socket option the binding knows, one row each (``src/nn/options.rs``).
OPTIONS: tuple[OptionSpec, ...]

def poll(items: list[tuple[Socket, int]], timeout: int = -1) -> list[int]: ...
def device(s1: Socket, s2: Socket | None = None) -> None: ...
def term() -> None: ...
def strerror(errno: int) -> str: ...
def symbol_info() -> list[tuple[str, int, int, int, int]]: ...

__all__ = [
    "BACKEND",
    "HARDENED",
    "LIBRARY_VERSION",
    "MAX_SOCKETS",
    "NANOMSG_VERSION",
    "OPTIONS",
    "ErrorContext",
    "SOCKET_LIMIT_REACHED",
    "Message",
    "OptionSpec",
    "Socket",
    "device",
    "poll",
    "strerror",
    "symbol_info",
    "term",
    # -- generated by tools/gen_python.py from src/nn/constants.rs: do not edit --
    "AF_SP",
    "AF_SP_RAW",
    "BUS",
    "CONNECT_TIMEOUT",
    "DOMAIN",
    "DONTWAIT",
    "EACCES",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "EAFNOSUPPORT",
    "EAGAIN",
    "EBADF",
    "ECONNABORTED",
    "ECONNREFUSED",
    "ECONNRESET",
    "EFAULT",
    "EFORKED",
    "EFSM",
    "EHOSTUNREACH",
    "EINPROGRESS",
    "EINTR",
    "EINVAL",
    "EISCONN",
    "EMFILE",
    "EMSGSIZE",
    "ENAMETOOLONG",
    "ENETDOWN",
    "ENETRESET",
    "ENETUNREACH",
    "ENOBUFS",
    "ENODEV",
    "ENOMEM",
    "ENOPROTOOPT",
    "ENOTCONN",
    "ENOTSOCK",
    "ENOTSUP",
    "EPROTO",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "ETERM",
    "ETIMEDOUT",
    "INPROC",
    "IPC",
    "IPC_INBUFSZ",
    "IPC_OUTBUFSZ",
    "IPC_PEER_UIDS",
    "IPC_PEER_UIDS_MAX",
    "IPC_PERMISSIONS",
    "IPC_SEC_ATTR",
    "IPV4ONLY",
    "LINGER",
    "MAXCONN",
    "MAXTTL",
    "NS_DOMAIN",
    "NS_ERROR",
    "NS_EVENT",
    "NS_FLAG",
    "NS_LIMIT",
    "NS_NAMESPACE",
    "NS_OPTION_LEVEL",
    "NS_OPTION_TYPE",
    "NS_OPTION_UNIT",
    "NS_PROTOCOL",
    "NS_SOCKET_OPTION",
    "NS_STATISTIC",
    "NS_TRANSPORT",
    "NS_TRANSPORT_OPTION",
    "NS_VERSION",
    "PAIR",
    "POLLIN",
    "POLLOUT",
    "PROTOCOL",
    "PROTO_BUS",
    "PROTO_PAIR",
    "PROTO_PIPELINE",
    "PROTO_PUBSUB",
    "PROTO_REQREP",
    "PROTO_SP",
    "PROTO_SURVEY",
    "PUB",
    "PULL",
    "PUSH",
    "RCVBUF",
    "RCVFD",
    "RCVMAXPARTIAL",
    "RCVMAXSIZE",
    "RCVPRIO",
    "RCVTIMEO",
    "RECONNECT_IVL",
    "RECONNECT_IVL_MAX",
    "REP",
    "REQ",
    "REQ_RESEND_IVL",
    "RESPONDENT",
    "SNDBUF",
    "SNDFD",
    "SNDPRIO",
    "SNDTIMEO",
    "SOCKADDR_MAX",
    "SOCKET_NAME",
    "SOL_SOCKET",
    "SP_HDR",
    "STAT_ACCEPTED_CONNECTIONS",
    "STAT_ACCEPT_ERRORS",
    "STAT_BIND_ERRORS",
    "STAT_BROKEN_CONNECTIONS",
    "STAT_BYTES_RECEIVED",
    "STAT_BYTES_SENT",
    "STAT_CONNECT_ERRORS",
    "STAT_CURRENT_CONNECTIONS",
    "STAT_CURRENT_EP_ERRORS",
    "STAT_CURRENT_SND_PRIORITY",
    "STAT_DROPPED_CONNECTIONS",
    "STAT_ESTABLISHED_CONNECTIONS",
    "STAT_INPROGRESS_CONNECTIONS",
    "STAT_MESSAGES_RECEIVED",
    "STAT_MESSAGES_SENT",
    "STAT_REFUSED_CONNECTIONS",
    "STAT_TLS_HANDSHAKE_ERRORS",
    "SUB",
    "SUB_SUBSCRIBE",
    "SUB_UNSUBSCRIBE",
    "SURVEYOR",
    "SURVEYOR_DEADLINE",
    "TCP",
    "TCP_KEEPALIVE",
    "TCP_KEEPALIVE_CNT",
    "TCP_KEEPALIVE_IDLE",
    "TCP_KEEPALIVE_INTVL",
    "TCP_NODELAY",
    "TLS",
    "TLS_CA_FILE",
    "TLS_CERT_FILE",
    "TLS_ERROR",
    "TLS_KEY_FILE",
    "TLS_KEY_PASSWORD",
    "TLS_SERVER_NAME",
    "TLS_VERIFY",
    "TYPE_INT",
    "TYPE_NONE",
    "TYPE_STR",
    "UNIT_BOOLEAN",
    "UNIT_BYTES",
    "UNIT_COUNTER",
    "UNIT_MESSAGES",
    "UNIT_MILLISECONDS",
    "UNIT_NONE",
    "UNIT_PRIORITY",
    "VERSION_AGE",
    "VERSION_CURRENT",
    "VERSION_REVISION",
    "WORKER_POLL",
    "WORKER_YIELD",
    "WS",
    "WSS",
    "WS_MSG_TYPE",
    "WS_MSG_TYPE_BINARY",
    "WS_MSG_TYPE_TEXT",
    # -- end of the generated constants --
]

#: The linked libnanomsg's ABI version (current, revision, age); None on the nng backend.
NANOMSG_VERSION: tuple[int, int, int] | None
#: "nanomsg" or "nng": the C library this build links.
BACKEND: str
#: The linked library and its version: "1.1.5+nanomsg-rs.N" (our hardened libnanomsg:
#: upstream 1.1.5 and our N patches), "nanomsg ABI 5.1.0" (the system's) or "nng 1.5.2".
LIBRARY_VERSION: str
#: True when the linked library is our hardened libnanomsg (the default build).
HARDENED: bool
#: How many sockets the library allows open at once (NN_MAX_SOCKETS, fixed when it is
#: compiled): 16384 in our hardened build, 512 in a system libnanomsg, None on nng.
MAX_SOCKETS: int | None
#: The ``strerror`` of the EMFILE of a socket that could not be made because MAX_SOCKETS
#: sockets are open (the process's descriptor limit keeps the system's text).
SOCKET_LIMIT_REACHED: str
# -- generated by tools/gen_python.py from src/nn/constants.rs: do not edit --
AF_SP: int
AF_SP_RAW: int
BUS: int
CONNECT_TIMEOUT: int
DOMAIN: int
DONTWAIT: int
EACCES: int
EADDRINUSE: int
EADDRNOTAVAIL: int
EAFNOSUPPORT: int
EAGAIN: int
EBADF: int
ECONNABORTED: int
ECONNREFUSED: int
ECONNRESET: int
EFAULT: int
EFORKED: int
EFSM: int
EHOSTUNREACH: int
EINPROGRESS: int
EINTR: int
EINVAL: int
EISCONN: int
EMFILE: int
EMSGSIZE: int
ENAMETOOLONG: int
ENETDOWN: int
ENETRESET: int
ENETUNREACH: int
ENOBUFS: int
ENODEV: int
ENOMEM: int
ENOPROTOOPT: int
ENOTCONN: int
ENOTSOCK: int
ENOTSUP: int
EPROTO: int
EPROTONOSUPPORT: int
ESOCKTNOSUPPORT: int
ETERM: int
ETIMEDOUT: int
INPROC: int
IPC: int
IPC_INBUFSZ: int
IPC_OUTBUFSZ: int
IPC_PEER_UIDS: int
IPC_PEER_UIDS_MAX: int
IPC_PERMISSIONS: int
IPC_SEC_ATTR: int
IPV4ONLY: int
LINGER: int
MAXCONN: int
MAXTTL: int
NS_DOMAIN: int
NS_ERROR: int
NS_EVENT: int
NS_FLAG: int
NS_LIMIT: int
NS_NAMESPACE: int
NS_OPTION_LEVEL: int
NS_OPTION_TYPE: int
NS_OPTION_UNIT: int
NS_PROTOCOL: int
NS_SOCKET_OPTION: int
NS_STATISTIC: int
NS_TRANSPORT: int
NS_TRANSPORT_OPTION: int
NS_VERSION: int
PAIR: int
POLLIN: int
POLLOUT: int
PROTOCOL: int
PROTO_BUS: int
PROTO_PAIR: int
PROTO_PIPELINE: int
PROTO_PUBSUB: int
PROTO_REQREP: int
PROTO_SP: int
PROTO_SURVEY: int
PUB: int
PULL: int
PUSH: int
RCVBUF: int
RCVFD: int
RCVMAXPARTIAL: int
RCVMAXSIZE: int
RCVPRIO: int
RCVTIMEO: int
RECONNECT_IVL: int
RECONNECT_IVL_MAX: int
REP: int
REQ: int
REQ_RESEND_IVL: int
RESPONDENT: int
SNDBUF: int
SNDFD: int
SNDPRIO: int
SNDTIMEO: int
SOCKADDR_MAX: int
SOCKET_NAME: int
SOL_SOCKET: int
SP_HDR: int
STAT_ACCEPTED_CONNECTIONS: int
STAT_ACCEPT_ERRORS: int
STAT_BIND_ERRORS: int
STAT_BROKEN_CONNECTIONS: int
STAT_BYTES_RECEIVED: int
STAT_BYTES_SENT: int
STAT_CONNECT_ERRORS: int
STAT_CURRENT_CONNECTIONS: int
STAT_CURRENT_EP_ERRORS: int
STAT_CURRENT_SND_PRIORITY: int
STAT_DROPPED_CONNECTIONS: int
STAT_ESTABLISHED_CONNECTIONS: int
STAT_INPROGRESS_CONNECTIONS: int
STAT_MESSAGES_RECEIVED: int
STAT_MESSAGES_SENT: int
STAT_REFUSED_CONNECTIONS: int
STAT_TLS_HANDSHAKE_ERRORS: int
SUB: int
SUB_SUBSCRIBE: int
SUB_UNSUBSCRIBE: int
SURVEYOR: int
SURVEYOR_DEADLINE: int
TCP: int
TCP_KEEPALIVE: int
TCP_KEEPALIVE_CNT: int
TCP_KEEPALIVE_IDLE: int
TCP_KEEPALIVE_INTVL: int
TCP_NODELAY: int
TLS: int
TLS_CA_FILE: int
TLS_CERT_FILE: int
TLS_ERROR: int
TLS_KEY_FILE: int
TLS_KEY_PASSWORD: int
TLS_SERVER_NAME: int
TLS_VERIFY: int
TYPE_INT: int
TYPE_NONE: int
TYPE_STR: int
UNIT_BOOLEAN: int
UNIT_BYTES: int
UNIT_COUNTER: int
UNIT_MESSAGES: int
UNIT_MILLISECONDS: int
UNIT_NONE: int
UNIT_PRIORITY: int
VERSION_AGE: int
VERSION_CURRENT: int
VERSION_REVISION: int
WORKER_POLL: int
WORKER_YIELD: int
WS: int
WSS: int
WS_MSG_TYPE: int
WS_MSG_TYPE_BINARY: int
WS_MSG_TYPE_TEXT: int
# -- end of the generated constants --
