"""The exception classes of nanomsg_rs, the errno-to-class table the native code raises by,
every text of an error, and the class of the misuse warnings (whose kinds and texts are the
native code's, ``src/py/misuse.rs``).

Every error is a :class:`NanomsgError`, itself an :class:`OSError`, raised with
``(errno, strerror)`` so that ``.errno`` and ``.strerror`` hold nanomsg's code and text, and
the address as ``.filename`` for an address's calls. The native code attaches what the call
concerned (``.call``, ``.socket``, the option and value); the message is written from that
when it is shown (``str(e)``), so raising stays cheap, which matters for ``Again`` in a
polling loop.
"""

from __future__ import annotations

import errno as _errno
import os
import resource
import stat
from typing import Any

from . import _native
from ._enums import Protocol

__all__ = [
    "AddressInUse",
    "Again",
    "BadState",
    "Closed",
    "InvalidArgument",
    "NanomsgError",
    "NotSupported",
    "Terminated",
    "Timeout",
    "UsageWarning",
]


class NanomsgError(OSError):
    """Base class of every nanomsg error.

    ``str(e)`` is a sentence: the call, the socket (protocol and number), what it concerned
    and, where there is one obvious fix, the fix. The parts are attributes too:

    - ``errno``: the error code; ``strerror``: libnanomsg's own text for it;
    - ``filename``: the address, for ``bind``, ``connect`` and ``shutdown``;
    - ``call``: the call that failed (``"send"``, ``"bind"``, ...), or None;
    - ``socket``: the :class:`Socket` it failed on, or None;
    - ``option``: the option's name, for options, or None;
    - ``sent``: for ``send_many``, how many of its messages went before the error, or None.
    """

    #: The call that failed (``"send"``, ``"bind"``, ...), or None.
    call: str | None = None
    #: The :class:`Socket` the call failed on, or None.
    socket: _native.Socket | None = None
    #: ``send_many`` only: how many of its messages went, the first ones in order (any
    #: exception out of ``send_many`` carries it, ``KeyboardInterrupt`` too); None elsewhere.
    sent: int | None = None
    # What a call on a socket concerned (the socket, the timeouts that ran out, the option
    # and the value given), set by the native code, which makes every exception of a call.
    _context: _native.ErrorContext | None = None

    @property
    def option(self) -> str | None:
        """The name of the option the call concerned (``"rcvtimeo"``), or None."""
        return None if self._context is None else self._context.option

    def __str__(self) -> str:
        """The message: what failed, on what, why, and the fix where there is one."""
        if self.call is None:
            return super().__str__()
        try:
            return _message(self)
        except Exception:  # never hide the error behind a failure to describe it
            return super().__str__()

    def __reduce__(self) -> Any:
        """Picklable (e.g. from a worker process): the socket stays behind, the message
        does not change."""
        reduced = super().__reduce__()
        if len(reduced) > 2 and isinstance(reduced[2], dict) and "socket" in reduced[2]:
            state = dict(reduced[2])
            state["socket"] = None
            return (reduced[0], reduced[1], state)
        return reduced


class Again(NanomsgError, BlockingIOError):
    """``EAGAIN``: a non-blocking call (``block=False``) would have had to wait."""


class Timeout(NanomsgError, TimeoutError):
    """``ETIMEDOUT``: the socket's ``sndtimeo``/``rcvtimeo`` (or a survey deadline) passed."""


class Closed(NanomsgError):
    """``EBADF``: the socket is closed (possibly by another thread during the call)."""


class Terminated(NanomsgError):
    """``ETERM``: :func:`nanomsg_rs.term` was called; the library is shut down for good."""


class BadState(NanomsgError):
    """``EFSM``: the protocol does not allow this call now (e.g. ``recv`` on REQ before any
    ``send``, or on a SURVEYOR with no survey in flight)."""


class InvalidArgument(NanomsgError, ValueError):
    """``EINVAL``: nanomsg refused an argument (e.g. a malformed address)."""


class AddressInUse(NanomsgError):
    """``EADDRINUSE``: the address is already bound."""


class NotSupported(NanomsgError):
    """``EPROTONOSUPPORT`` (unknown transport or protocol) or ``ENOTSUP`` (the socket type
    cannot do this, e.g. ``send`` on SUB)."""


class UsageWarning(UserWarning):
    """A call that is almost certainly a mistake, and that the library itself passes over
    in silence: e.g. receiving on a SUB socket with no subscription, sending on a socket
    that is neither bound nor connected, setting ``linger`` (which has no effect). Given
    once per socket and kind (by the native code, ``src/py/misuse.rs``)."""


#: errno -> the class raised for it; any other code raises :class:`NanomsgError`.
ERRNO_CLASSES: dict[int, type[NanomsgError]] = {
    _errno.EAGAIN: Again,
    _errno.ETIMEDOUT: Timeout,
    _errno.EBADF: Closed,
    _native.ETERM: Terminated,
    _native.EFSM: BadState,
    _errno.EINVAL: InvalidArgument,
    _errno.EADDRINUSE: AddressInUse,
    _errno.EPROTONOSUPPORT: NotSupported,
    _errno.ENOTSUP: NotSupported,
}


# -- the messages ---------------------------------------------------------------------------

_SEND = ("send", "send_msg", "send_parts", "send_many", "asend")
_RECV = ("recv", "recv_into", "recv_msg", "recv_many", "arecv", "arecv_msg")

# What a socket that cannot send or receive should be replaced with.
_CANNOT = {
    ("SUB", "send"): "SUB sockets cannot send; use a PUB to publish",
    ("PULL", "send"): "PULL sockets cannot send; use a PUSH to send to a PULL",
    ("PUB", "recv"): "PUB sockets cannot receive; use a SUB to receive what a PUB publishes",
    ("PUSH", "recv"): "PUSH sockets cannot receive; use a PULL to receive what a PUSH sends",
}

# A call the protocol does not allow now (EFSM).
_NOT_NOW = {
    ("REQ", "recv"): "recv() before send(): a REQ socket must send a request first",
    ("REP", "send"): "send() before recv(): a REP socket must receive a request first, "
    "and sends one reply to each",
    ("SURVEYOR", "recv"): "no survey is going on: send() a survey first",
    ("RESPONDENT", "send"): "send() before recv(): a RESPONDENT must receive a survey "
    "first, and answers each once",
}

# Every option the binding knows (the native option table), by name.
_SPECS = {spec.name: spec for spec in _native.OPTIONS}

_TRANSPORTS = ("inproc", "ipc", "tcp", "ws", "tls+tcp", "wss")


def _kind(call: str) -> str | None:
    """ "send" or "recv" for the calls that send or receive."""
    if call in _SEND:
        return "send"
    if call in _RECV:
        return "recv"
    return None


def _where(exc: NanomsgError) -> str | None:
    """``"REQ socket 3"`` (``"raw REQ socket 3"``), or None when not known."""
    ctx = exc._context
    if ctx is None:
        return None
    return f"{'raw ' if ctx.raw else ''}{ctx.protocol or 'unknown'} socket {ctx.number}"


def _message(exc: NanomsgError) -> str:
    call = exc.call or "?"
    where = _where(exc)
    ctx = exc._context
    value = None if ctx is None else ctx.value
    if call in ("getsockopt", "setsockopt") and exc.option is not None:
        name = exc.option
        if name in ("subscribe", "unsubscribe"):
            head = f"{name}({value!r})"
        elif call == "setsockopt":
            head = f"setting {name} to {value!r}"
        else:
            head = f"reading {name}"
    elif exc.filename is not None and call in ("bind", "connect", "shutdown"):
        head = f"{call}({exc.filename!r})"
    elif call == "shutdown" and value is not None:
        head = f"shutdown({value!r})"
    else:
        head = f"{call}()"
    if where is not None:
        head = f"{head} on {where}"
    return f"{head}: {_explain(exc)}"


def _explain(exc: NanomsgError) -> str:
    proto = (exc._context.protocol if exc._context else None) or ""
    code, call = exc.errno or 0, exc.call or ""
    kind = _kind(call)
    option = exc.option
    if code in (_errno.EMFILE, _errno.ENFILE):
        return _out_of_descriptors(exc)
    if exc.strerror and exc.strerror != _native.strerror(code):
        return str(exc.strerror)  # a text of the package's own, precise already
    if code == _errno.EBADF:
        return "the socket is closed"
    if code == _native.ETERM:
        return "nanomsg_rs.term() was called: the library is shut down for good"
    if code in (_errno.EAGAIN, _errno.ETIMEDOUT) and kind is not None:
        return _waited(exc, code, kind, proto)
    if code == _native.EFSM and kind is not None and (proto, kind) in _NOT_NOW:
        return _NOT_NOW[(proto, kind)]
    if code == _errno.ENOTSUP and kind is not None and (proto, kind) in _CANNOT:
        return _CANNOT[(proto, kind)]
    if code == _errno.ENOPROTOOPT and option is not None:
        return _no_such_option(option, proto)
    if code == _errno.EINVAL and option in ("unsubscribe",):
        return "that prefix is not subscribed"
    spec = _SPECS.get(option or "")
    if code == _errno.EINVAL and call == "setsockopt" and spec and spec.range_text:
        return f"{option} must be {spec.range_text}"
    if call in ("bind", "connect") and isinstance(exc.filename, (str, bytes)):
        text = _address_problem(code, call, exc.filename)
        if text is not None:
            return text
    if code == _errno.EINVAL and call == "shutdown":
        return "the socket has no such endpoint (shut down already?)"
    return exc.strerror or _native.strerror(code)


def _out_of_descriptors(exc: NanomsgError) -> str:
    """EMFILE, ENFILE: which limit was met (nanomsg's on sockets, the process's or the
    system's on file descriptors), its value, and how to raise it."""
    if exc.strerror == _native.SOCKET_LIMIT_REACHED:
        how = ": nanomsg/defines.txt sets it for a build from source" if _native.HARDENED else ""
        return (
            f"too many open sockets: this nanomsg allows {_native.MAX_SOCKETS:,} at once "
            f"(NN_MAX_SOCKETS, fixed when the library is compiled{how}); close() the sockets "
            "you no longer need"
        )
    if exc.errno == _errno.ENFILE:
        return (
            "the system is out of file descriptors (its limit for all processes, "
            "fs.file-max, is reached); close files or sockets, or raise it (sysctl fs.file-max)"
        )
    soft, hard = (
        "unlimited" if n == resource.RLIM_INFINITY else f"{n:,}"
        for n in resource.getrlimit(resource.RLIMIT_NOFILE)
    )
    return (
        f"the process is out of file descriptors (RLIMIT_NOFILE: {soft} open at once, hard "
        f"limit {hard}); close() the sockets and files you no longer need, or raise the "
        "limit: `ulimit -n` in the shell, resource.setrlimit(resource.RLIMIT_NOFILE, ...) "
        "in Python (up to the hard limit)"
    )


def _waited(exc: NanomsgError, code: int, kind: str, proto: str) -> str:
    """Why a send or receive would have had to wait (EAGAIN), or waited too long."""
    ctx = exc._context
    alone = ctx is not None and not ctx.had_endpoint
    hint = "; the socket is neither bound nor connected" if alone else ""
    if code == _errno.EAGAIN:
        if kind == "send":
            return (
                f"the message cannot go now without waiting (block=False): no peer is ready{hint}"
            )
        return f"no message is waiting (block=False){hint}"
    if ctx is None or ctx.sndtimeo is None or ctx.rcvtimeo is None:
        return f"timed out{hint}"
    sndtimeo, rcvtimeo, deadline = ctx.sndtimeo, ctx.rcvtimeo, ctx.deadline
    if kind == "recv" and proto == "SURVEYOR" and deadline is not None:
        return (
            f"the survey is over: its deadline of {deadline} ms (surveyor_deadline) "
            f"passed; send() a new survey to ask again{hint}"
        )
    if kind == "recv" and rcvtimeo >= 0:
        return f"timed out after {rcvtimeo} ms (rcvtimeo): no message arrived{hint}"
    if kind == "send" and sndtimeo >= 0:
        return f"timed out after {sndtimeo} ms (sndtimeo): no peer took the message{hint}"
    return f"timed out{hint}"


def _no_such_option(option: str, proto: str) -> str:
    spec = _SPECS.get(option)
    if spec is None:  # "option N of level L": a number the package does not know
        return "there is no such option"
    if spec.protocol == _native.SUB:  # subscribe(), unsubscribe()
        return f"only SUB sockets subscribe; this is a {proto or 'socket of another kind'}"
    if spec.direction == "recv":
        return f"{proto} sockets cannot receive, so they have no {option}"
    if spec.direction == "send":
        return f"{proto} sockets cannot send, so they have no {option}"
    if spec.protocol is not None:
        owner = Protocol(spec.protocol).name
        return f"{option} is an option of {owner} sockets only, not of {proto}"
    return f"{proto} sockets have no option {option}"


#: The longest ipc path: a Unix domain socket's ``sun_path`` (108 bytes) less its NUL.
IPC_PATH_MAX = 107


def _ipc_path(address: str | bytes) -> bytes:
    """The path of an ``ipc://`` address, as the bytes the library gets."""
    raw = address if isinstance(address, bytes) else address.encode("utf-8", "surrogateescape")
    return raw[len(b"ipc://") :]


def note_ipc_in_use(exc: NanomsgError, address: str | bytes) -> None:
    """For a bind refused with ``EADDRINUSE`` because the ipc path holds a file that is not a
    socket, says so in ``exc``'s message (looked at now: the file may go later). The library
    never deletes such a file (it replaces only a socket that no one listens on)."""
    scheme = (address if isinstance(address, str) else address.decode("utf-8", "replace"))[:6]
    if exc.errno != _errno.EADDRINUSE or scheme != "ipc://":
        return
    try:
        mode = os.lstat(_ipc_path(address)).st_mode
    except (OSError, ValueError):
        return
    if stat.S_ISSOCK(mode):
        return
    kind = "a symbolic link" if stat.S_ISLNK(mode) else "a file"
    exc.strerror = (
        f"the ipc path {os.fsdecode(_ipc_path(address))!r} is {kind}, not a socket: bind() "
        "replaces only a socket that no one listens on, and leaves anything else alone; "
        "remove it or pick another path"
    )


def _address_problem(code: int, call: str, address: str | bytes) -> str | None:
    """What is wrong with an address bind() or connect() refused, or None."""
    text = address.decode("utf-8", "replace") if isinstance(address, bytes) else address
    scheme, sep, rest = text.partition("://")
    if code == _errno.EPROTONOSUPPORT and scheme in ("tls+tcp", "wss"):
        return (
            f"this library has no {scheme}:// transport: TLS needs nanomsg-rs's hardened "
            "libnanomsg (the default build), not the system libnanomsg or nng"
        )
    if code == _errno.EPROTONOSUPPORT:
        return f"unknown transport {scheme!r}; use one of {', '.join(_TRANSPORTS)}"
    if code == _errno.EADDRINUSE:
        if scheme == "inproc":
            return "another socket of this process is bound to that name already"
        return (
            "the address is in use: another socket, of this process or another, is bound "
            "to it; close that one or pick another address"
        )
    if code == _errno.ENOENT and scheme == "ipc":
        return "the directory of that ipc path does not exist"
    if code == _errno.EISDIR and scheme == "ipc":
        return (
            f"the ipc path {rest!r} is a directory: an ipc address names the socket file to "
            "create, e.g. ipc:///tmp/app.ipc"
        )
    if code == _errno.ENAMETOOLONG and scheme == "ipc":
        size = len(_ipc_path(address))
        limit = f"the limit is {IPC_PATH_MAX} (a Unix socket's sun_path)"
        return f"the ipc path is {size} bytes; {limit}"
    if code == _errno.EACCES:
        return "permission denied: the process may not use that address"
    if code == _errno.ENAMETOOLONG:
        return "the address is too long"
    if code == _errno.EADDRNOTAVAIL:
        return "that address is not one of this machine's"
    if code == _errno.ENODEV:
        if call == "connect":  # tcp://local;remote:port
            local = rest.partition(";")[0]
            return f"no local interface or address is called {local!r} (the part before ';')"
        host = rest.rpartition(":")[0]
        if host.startswith("[") or ":" in host:
            return "an IPv6 address needs the option ipv4only set to False first"
        return (
            f"no local interface or address is called {host!r}: bind() takes an IP "
            "address of this machine, * for all of them, or an interface name "
            "(connect() is the one that takes host names)"
        )
    if code != _errno.EINVAL:
        return None
    if not sep:
        return (
            "an address is transport://where, e.g. tcp://127.0.0.1:5555, "
            "ipc:///tmp/app.ipc or inproc://name"
        )
    if scheme in ("tcp", "ws"):
        host, colon, port = rest.partition("/")[0].rpartition(":")
        example = f"{scheme}://127.0.0.1:5555"
        if not colon:
            return f"{scheme} addresses need a port: {scheme}://host:port, e.g. {example}"
        if not port.isdigit() or not 0 < int(port) < 65536:
            return f"the port must be a number from 1 to 65535, e.g. {example}"
        if not host:
            return f"the host is missing: {scheme}://host:port, e.g. {example}"
    return None
