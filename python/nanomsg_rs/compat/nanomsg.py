"""nanomsg-python 1.0's public API (PyPI ``nanomsg``) on nanomsg_rs:
``from nanomsg_rs.compat import nanomsg``.

:class:`Socket` (``Socket(protocol=None, socket_fd=None, domain=AF_SP)``, endpoints with
``.address`` and ``.shutdown()``, ``send``, ``recv(buf=None, flags=0)``, the option
properties and the ``set_int_option`` / ``get_string_option`` family, the context manager),
:func:`poll` (timeout in seconds), :class:`Device`, :func:`terminate_all`,
:class:`NanoMsgError` / :class:`NanoMsgAPIError`, :func:`create_writable_buffer`,
:func:`create_message_buffer` and every constant nanomsg-python exposes (``PAIR``,
``SOL_SOCKET``, ``DONTWAIT`` ...), with the same values, return values and errors. The API
is that of nanomsg-python's repository in its last state, whose tests run against this
module; the 1.0 release on PyPI lacks :func:`poll`.

Differences, each where nanomsg-python crashes, hangs or fails silently (details in the
docstrings):

- ``Socket(socket_fd=n)`` takes ownership of ``n`` through :meth:`nanomsg_rs.Socket.adopt`:
  a number that is not an open socket, or that another live socket object owns, raises
  :class:`NanoMsgAPIError` (nanomsg-python wraps any number, and two owners close it twice);
- a closed socket raises :class:`NanoMsgAPIError` (``EBADF``) on every call, and a wait
  in another thread wakes up with it;
- :func:`poll` raises :class:`NanoMsgAPIError` when ``nn_poll`` fails (e.g. a closed socket);
  nanomsg-python returns two empty lists;
- blocking calls answer Ctrl-C (``KeyboardInterrupt``);
- unsubscribing a prefix never subscribed raises :class:`NanoMsgAPIError` (``EINVAL``), not
  a segfault; a peer's malformed input no longer aborts the process (hardened libnanomsg);
- ``wrapper`` (the raw C functions) and nanoconfig (``Socket.configure``) do not exist.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

from .. import _native, constants
from .._closing import ClosesOnExit
from .._errors import NanomsgError
from .._native import Message
from .._options import SPECS
from .._socket import Socket as _NativeSocket
from .._socket import term
from ..constants import *  # noqa: F403  (every constant nanomsg-python has, and a few more)
from ._common import flags_block, new_socket

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = [
    "Device",
    "NanoMsgAPIError",
    "NanoMsgError",
    "Socket",
    "create_message_buffer",
    "create_writable_buffer",
    "poll",
    "terminate_all",
    *constants.__all__,
]

#: The version of nanomsg-python whose API this module reproduces.
__version__ = "1.0"


class NanoMsgError(Exception):
    """Base exception of every error of the nanomsg package."""


class NanoMsgAPIError(NanoMsgError):
    """An error reported by the C library: ``.errno`` is nanomsg's code, ``.msg`` (and
    ``str(e)``) its text (``nn_strerror``).

    Differs in construction: nanomsg-python's takes no argument and reads ``nn_errno()``;
    this one is made as ``NanoMsgAPIError(errno)`` (the text defaults to nanomsg's for that
    code). The native exception it stands for is kept as ``__cause__``."""

    def __init__(self, errno: int = 0, msg: str | None = None) -> None:
        text = _native.strerror(errno) if msg is None else msg
        super().__init__(text)
        #: nanomsg's error code.
        self.errno = errno
        #: nanomsg's text for it.
        self.msg = text


def _error(e: NanomsgError) -> NanoMsgAPIError:
    """The :class:`NanoMsgAPIError` for the error ``e`` of the native call."""
    code = e.errno or 0
    return NanoMsgAPIError(code, e.strerror or _native.strerror(code))


def create_writable_buffer(size: int) -> bytearray:
    """A writable buffer of ``size`` bytes (a ``bytearray``), e.g. for ``recv(buf)``."""
    return bytearray(size)


def create_message_buffer(size: int, type: int) -> Message:
    """A message buffer of ``size`` bytes in nanomsg's memory (``nn_allocmsg``), writable
    through ``memoryview``; send it with :meth:`Socket.send`, receive into it with
    ``recv(buf)``. Here it is a :class:`nanomsg_rs.Message`. ``type`` must be 0 (the only
    allocation type libnanomsg has); anything else raises :class:`NanoMsgAPIError`
    (``EINVAL``), as ``nn_allocmsg`` does."""
    if type != 0:
        raise NanoMsgAPIError(_native.EINVAL)
    return Message(size)


def terminate_all() -> None:
    """``nn_term``: every socket of the process fails from now on (blocked calls wake up
    with :class:`NanoMsgAPIError`, ``ETERM``), for good."""
    term()


def poll(
    in_sockets: list[Socket], out_sockets: list[Socket], timeout: float = -1
) -> tuple[list[Socket], list[Socket]]:
    """Waits until one of ``in_sockets`` can receive or one of ``out_sockets`` can send,
    or ``timeout`` seconds (-1 or any negative: forever; 0: look and return). Returns
    ``(readable, writable)``, lists of the sockets given.

    Differs from nanomsg-python where ``nn_poll`` fails (e.g. on a closed socket): it
    raises :class:`NanoMsgAPIError` here, where nanomsg-python returns two empty lists.
    A wait can be interrupted with Ctrl-C (``KeyboardInterrupt``)."""
    events: dict[int, int] = {}
    by_fd: dict[int, Socket] = {}
    for s in in_sockets:
        events[s.fd] = _native.POLLIN
        by_fd[s.fd] = s
    for s in out_sockets:
        events[s.fd] = events.get(s.fd, 0) | _native.POLLOUT
        by_fd[s.fd] = s
    timeout_ms = int(timeout * 1000) if timeout >= 0 else -1
    items: list[tuple[_native.Socket, int]] = [
        (by_fd[fd].socket, mask) for fd, mask in events.items()
    ]
    try:
        revents = _native.poll(items, timeout_ms)
    except NanomsgError as e:
        raise _error(e) from e
    readable: list[Socket] = []
    writable: list[Socket] = []
    for fd, result in zip(events, revents, strict=True):
        if result & _native.POLLIN:
            readable.append(by_fd[fd])
        if result & _native.POLLOUT:
            writable.append(by_fd[fd])
    return readable, writable


class Device:
    """A device relaying messages between two raw sockets (``domain=AF_SP_RAW``), or
    looping them back on one; :meth:`start` runs it."""

    def __init__(self, socket1: Socket, socket2: Socket | None = None) -> None:
        self._socket1 = socket1
        self._socket2 = socket2

    def start(self) -> None:
        """Runs the device in this thread (GIL released) until :func:`terminate_all` or a
        socket is closed; then raises :class:`NanoMsgAPIError` (``ETERM`` or ``EBADF``), as
        nanomsg-python does when ``nn_device`` returns. Ctrl-C stops it too
        (``KeyboardInterrupt``, not in nanomsg-python)."""
        other = None if self._socket2 is None else self._socket2.socket
        try:
            _native.device(self._socket1.socket, other)
        except NanomsgError as e:
            raise _error(e) from e


class _EndpointBase:
    """An endpoint of a :class:`Socket` (what ``bind``/``connect`` return)."""

    def __init__(self, socket: Socket, endpoint_id: int, address: str | bytes) -> None:
        self._endpoint_id = endpoint_id
        self._owner = socket
        self._address = address

    @property
    def address(self) -> str | bytes:
        """The address as given to ``bind``/``connect``."""
        return self._address

    def shutdown(self) -> None:
        """Removes this endpoint from its socket (``nn_shutdown``). ``ValueError`` if it was
        removed already (as in nanomsg-python, which keeps a list of them)."""
        self._owner._endpoints.remove(self)
        try:
            self._owner.socket.shutdown(self._endpoint_id)
        except NanomsgError as e:
            raise _error(e) from e

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} socket {self._owner!r}, id {self._endpoint_id!r}, "
            f"address {self._address!r}>"
        )


class _BindEndpoint(_EndpointBase):
    """An endpoint made by :meth:`Socket.bind`."""


class _ConnectEndpoint(_EndpointBase):
    """An endpoint made by :meth:`Socket.connect`."""


_E = TypeVar("_E", bound=_EndpointBase)


class _NanoconfigEndpoint(_EndpointBase):
    """nanoconfig's endpoint; nanoconfig is not supported, so none is ever made."""

    def shutdown(self) -> None:
        """Not supported, as in nanomsg-python."""
        raise NotImplementedError("Shutdown of nanoconfig endpoint is not supported")


def _int_option(name: str, doc: str) -> property:
    """nanomsg-python's property for the int option ``name`` of the native option table
    (its level, number and whether it can be set come from its row), with nanomsg-python's
    own docstring."""
    spec = SPECS[name]
    level, option = spec.level, spec.option

    def get(self: Socket) -> int:
        return self.get_int_option(level, option)

    def set(self: Socket, value: int) -> None:
        self.set_int_option(level, option, value)

    return property(get, set if spec.writable else None, doc=doc)


class Socket(ClosesOnExit):
    """A nanomsg socket: ``Socket(PAIR)``, or ``Socket(socket_fd=n)`` to wrap the open
    socket number ``n``, e.g. from :meth:`nanomsg_rs.Socket.detach`. ``domain`` is
    ``AF_SP`` (default) or ``AF_SP_RAW``. A context manager (closed on exit); also closed
    when garbage-collected.

    ``fd`` is the socket number (-1 once closed); ``socket`` is the
    :class:`nanomsg_rs.Socket` underneath (not in nanomsg-python), for moving to the native
    API one call at a time.

    Differs from nanomsg-python in ``socket_fd``: the number must be an open socket of this
    package's library that no other live socket object owns (it is taken with
    :meth:`nanomsg_rs.Socket.adopt`); otherwise :class:`NanoMsgAPIError` (``EBADF`` or
    ``EINVAL``), where nanomsg-python wraps any number and two owners close it twice.
    Passing neither ``protocol`` nor ``socket_fd`` raises :class:`NanoMsgError`
    (nanomsg-python makes an object whose every call fails with ``TypeError``).
    """

    _INT_PACKER: ClassVar[struct.Struct] = struct.Struct("i")

    _Endpoint = _EndpointBase
    BindEndpoint = _BindEndpoint
    ConnectEndpoint = _ConnectEndpoint
    NanoconfigEndpoint = _NanoconfigEndpoint

    def __init__(
        self, protocol: int | None = None, socket_fd: int | None = None, domain: int = _native.AF_SP
    ) -> None:
        self._fd = -1
        self._endpoints: list[_EndpointBase] = []
        if protocol is not None and socket_fd is not None:
            raise NanoMsgError(
                "Only one of protocol or socket_fd should be passed to the Socket constructor"
            )
        try:
            if protocol is not None:
                native = new_socket(domain, protocol)
            elif socket_fd is not None:
                native = _NativeSocket.adopt(socket_fd)
            else:
                raise NanoMsgError("Socket needs a protocol or a socket_fd")
        except NanomsgError as e:
            raise _error(e) from e
        #: The :class:`nanomsg_rs.Socket` underneath (not in nanomsg-python).
        self.socket: _NativeSocket = native
        self._fd = native.fd

    # -- option properties, as nanomsg-python names them -----------------------------------
    send_fd = _int_option("sndfd", "Send file descriptor (an OS fd).")
    recv_fd = _int_option("rcvfd", "Receive file descriptor (an OS fd).")
    linger = _int_option("linger", "Socket linger in milliseconds (libnanomsg 1.1.5 ignores it).")
    recv_buffer_size = _int_option("rcvbuf", "Receive buffer size in bytes.")
    send_buffer_size = _int_option("sndbuf", "Send buffer size in bytes.")
    send_timeout = _int_option("sndtimeo", "Send timeout in milliseconds.")
    recv_timeout = _int_option("rcvtimeo", "Receive timeout in milliseconds.")
    reconnect_interval = _int_option(
        "reconnect_ivl",
        "Base interval between connection failure and reconnect attempt in milliseconds.",
    )
    reconnect_interval_max = _int_option(
        "reconnect_ivl_max", "Max reconnect interval in milliseconds (0: none)."
    )

    @property
    def fd(self) -> int:
        """The socket number (not an OS file descriptor: see ``send_fd``, ``recv_fd``); -1
        once closed."""
        return self._fd

    @property
    def endpoints(self) -> list[_EndpointBase]:
        """The endpoints made by :meth:`bind` and :meth:`connect` and not shut down."""
        return list(self._endpoints)

    @property
    def uses_nanoconfig(self) -> bool:
        """Always False: nanoconfig is not supported."""
        return False

    def bind(self, address: str | bytes) -> _BindEndpoint:
        """Listens on ``address`` (e.g. ``'tcp://127.0.0.1:5555'``); returns its endpoint.
        Also takes bytes (nanomsg-python: str only)."""
        return self._add_endpoint(_BindEndpoint, _native.Socket.bind, address)

    def connect(self, address: str | bytes) -> _ConnectEndpoint:
        """Connects to ``address`` (in the background, again after each disconnect); returns
        its endpoint. Also takes bytes (nanomsg-python: str only)."""
        return self._add_endpoint(_ConnectEndpoint, _native.Socket.connect, address)

    def _add_endpoint(
        self,
        kind: type[_E],
        make: Callable[[_NativeSocket, str | bytes], int],
        address: str | bytes,
    ) -> _E:
        """``make`` (bind or connect) the endpoint, kept as ``kind`` in ``_endpoints``."""
        try:
            endpoint_id = make(self.socket, address)
        except NanomsgError as e:
            raise _error(e) from e
        ep = kind(self, endpoint_id, address)
        self._endpoints.append(ep)
        return ep

    def configure(self, address: str) -> _NanoconfigEndpoint:
        """nanoconfig is not supported: raises ``NotImplementedError`` (nanomsg-python built
        without libnanoconfig raises ``AttributeError``)."""
        raise NotImplementedError("nanoconfig is not supported by nanomsg_rs")

    def close(self) -> None:
        """Closes the socket; idempotent. Blocked calls in other threads wake up with
        :class:`NanoMsgAPIError` (``EBADF``)."""
        if self.is_open():
            self._fd = -1
            try:
                self.socket.close()
            except NanomsgError as e:
                raise _error(e) from e

    def is_open(self) -> bool:
        """True until :meth:`close` (or the end of the ``with`` block)."""
        return self._fd >= 0

    def recv(self, buf: Buffer | None = None, flags: int = 0) -> bytes:
        """Receives one message, as bytes. With ``buf`` (a writable buffer, e.g. from
        :func:`create_writable_buffer`) the message is received into it and the bytes of
        ``buf`` up to the message's length are returned (a longer message is cut to
        ``len(buf)``). ``flags=DONTWAIT`` raises :class:`NanoMsgAPIError` (``EAGAIN``) where
        none is waiting.

        Differs from nanomsg-python: a wait can be interrupted with Ctrl-C, and closing the
        socket from another thread wakes it with :class:`NanoMsgAPIError` (``EBADF``)."""
        block = flags_block(flags)
        try:
            if buf is None:
                return self.socket.recv(block=block)
            n = self.socket.recv_into(buf, block=block)
        except NanomsgError as e:
            raise _error(e) from e
        return bytes(memoryview(buf).cast("B"))[:n]

    def send(self, msg: Buffer | str, flags: int = 0) -> None:
        """Sends one message (bytes or any buffer, e.g. from :func:`create_message_buffer`;
        str as UTF-8). ``flags=DONTWAIT`` raises :class:`NanoMsgAPIError` (``EAGAIN``)
        where it would have to wait.

        Differs from nanomsg-python: a wait can be interrupted with Ctrl-C, and closing the
        socket from another thread wakes it with :class:`NanoMsgAPIError` (``EBADF``)."""
        try:
            self.socket.send(msg, block=flags_block(flags))
        except NanomsgError as e:
            raise _error(e) from e

    def set_string_option(self, level: int, option: int, value: str | Buffer) -> None:
        """Sets a string option (str as UTF-8, or bytes), e.g.
        ``set_string_option(SUB, SUB_SUBSCRIBE, 'topic')``.

        Differs from nanomsg-python (on libnanomsg 1.1.5) when unsubscribing a prefix never
        subscribed: :class:`NanoMsgAPIError` (``EINVAL``), not a segfault."""
        try:
            self.socket.setsockopt(level, option, value)
        except NanomsgError as e:
            raise _error(e) from e

    def set_int_option(self, level: int, option: int, value: int) -> None:
        """Sets an int option, e.g. ``set_int_option(SOL_SOCKET, SNDBUF, 65536)``.
        ``struct.error`` for a value that is not a C int, as in nanomsg-python."""
        buf = self._INT_PACKER.pack(value)  # the original's checks (struct.error)
        try:
            self.socket.setsockopt(level, option, self._INT_PACKER.unpack(buf)[0])
        except NanomsgError as e:
            raise _error(e) from e

    def get_int_option(self, level: int, option: int) -> int:
        """The value of an int option, e.g. ``get_int_option(SOL_SOCKET, SNDBUF)``."""
        try:
            return self.socket.getsockopt(level, option)
        except NanomsgError as e:
            raise _error(e) from e

    def get_string_option(self, level: int, option: int, max_len: int = 16 * 1024) -> bytes:
        """The raw bytes of an option (at most ``max_len``), e.g.
        ``get_string_option(SOL_SOCKET, SOCKET_NAME)``."""
        try:
            return self.socket.getsockopt(level, option, bytes)[:max_len]
        except NanomsgError as e:
            raise _error(e) from e

    def __repr__(self) -> str:
        connected = [e.address for e in self._endpoints if type(e) is _ConnectEndpoint]
        bound = [e.address for e in self._endpoints if type(e) is _BindEndpoint]
        return (
            f"<{type(self).__name__} fd {self.fd!r}, connected to {connected!r}, "
            f"bound to {bound!r}>"
        )
