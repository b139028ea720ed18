"""nnpy 1.4.2's public API on nanomsg_rs: ``import nanomsg_rs.compat.nnpy as nnpy``.

:class:`Socket` (``Socket(domain, protocol)``, ``bind``/``connect`` returning endpoint ids,
``send(data, flags=0)``, ``recv(flags=0)``, ``getsockopt``/``setsockopt``, ``shutdown``,
``get_statistic``, ``close``, the number as ``.sock``), :class:`PollSet`, :class:`NNError`
(also as ``errors.NNError``) and every constant nnpy exposes (``AF_SP``, ``PUB``,
``SOL_SOCKET``, ``DONTWAIT``, ``POLLIN``, ``STAT_MESSAGES_SENT``, ``EAGAIN`` ...; also as
``constants.X``), with the same values, return values and errors.

Differences, each where nnpy crashes, hangs or fails silently (details in the docstrings):

- a socket that cannot be made raises :class:`NNError` at once (nnpy keeps ``-1`` as its
  number and fails later, with ``EBADF``): e.g. the 513th socket (``EMFILE``);
- a socket is closed when garbage-collected (nnpy never closes it: the number leaks);
- a closed socket raises ``NNError(EBADF)`` on every call, also once libnanomsg has given
  its number to a new socket (nnpy would act on that other socket);
- blocking calls (``recv``, ``send``, ``PollSet.poll``) release the GIL *and* answer
  Ctrl-C (nnpy's cannot be interrupted);
- unsubscribing a prefix never subscribed raises ``NNError(EINVAL)`` (a segfault on
  libnanomsg 1.1.5); a peer's malformed input no longer aborts the process (hardened
  libnanomsg);
- ``ffi`` and ``nanomsg``, nnpy's cffi objects (the raw C functions), do not exist: use
  ``.socket``, the :class:`nanomsg_rs.Socket` each socket carries, and the functions of
  ``nanomsg_rs`` (``nanomsg_rs.device``, ``nanomsg_rs.term`` ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _native, constants
from .._errors import NanomsgError
from .._socket import Socket as _NativeSocket
from ..constants import *  # noqa: F403  (every constant nnpy has, and a few more)
from . import _nnpy_errors as errors
from ._common import flags_block, new_socket
from ._nnpy_errors import NNError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["NNError", "PollSet", "Socket", "constants", "errors", *constants.__all__]


def _error(e: NanomsgError) -> NNError:
    """The :class:`NNError` nnpy raises for the error ``e`` of the native call."""
    code = e.errno or 0
    return NNError(code, e.strerror or _native.strerror(code))


class Socket:
    """Nanomsg scalability protocols (SP) socket: ``Socket(domain, protocol)``, e.g.
    ``Socket(nnpy.AF_SP, nnpy.PUB)``.

    ``sock`` is the raw socket number (as in nnpy); ``socket`` is the
    :class:`nanomsg_rs.Socket` underneath (not in nnpy), for moving to the native API.

    Differs from nnpy where nnpy fails silently: a socket that cannot be made raises
    :class:`NNError` here (nnpy keeps -1 as the number, e.g. for the 513th socket
    (``EMFILE``) or an unknown domain, and every later call fails with ``EBADF``); and the
    socket is closed when the object is garbage-collected (nnpy never closes it).
    """

    def __init__(self, domain: int, protocol: int) -> None:
        try:
            #: The :class:`nanomsg_rs.Socket` underneath (not in nnpy).
            self.socket: _NativeSocket = new_socket(domain, protocol)
        except NanomsgError as e:
            raise _error(e) from e
        #: The raw nanomsg socket number (nnpy's ``sock``).
        self.sock: int = self.socket.fd

    def close(self) -> int:
        """Closes the socket (``nn_close``); returns 0. Raises ``NNError(EBADF)`` if it is
        closed already.

        Differs from nnpy on a socket closed already: nnpy passes the stale number to
        ``nn_close``, which closes whatever socket has been given that number since; here
        it is always ``EBADF``, and so is any other call on a closed socket. Blocked calls
        in other threads wake up with ``NNError(EBADF)``."""
        if self.socket.closed:
            raise NNError(_native.EBADF, _native.strerror(_native.EBADF))
        try:
            self.socket.close()
        except NanomsgError as e:
            raise _error(e) from e
        return 0

    def shutdown(self, who: int) -> int:
        """Removes the endpoint with id ``who`` (from :meth:`bind` or :meth:`connect`);
        returns 0. ``NNError(EINVAL)`` for an unknown id."""
        try:
            self.socket.shutdown(who)
        except NanomsgError as e:
            raise _error(e) from e
        return 0

    def getsockopt(self, level: int, option: int) -> int:
        """The value of an int option (``nn_getsockopt``), e.g.
        ``getsockopt(SOL_SOCKET, RCVFD)``, an OS descriptor to select/poll on. nnpy reads
        every option as an int; for the one string option (``SOCKET_NAME``) use
        ``.socket.socket_name``."""
        try:
            return self.socket.getsockopt(level, option)
        except NanomsgError as e:
            raise _error(e) from e

    def setsockopt(self, level: int, option: int, value: int | str | bytes) -> None:
        """Sets an option (``nn_setsockopt``): an int for int options, str (UTF-8) or bytes
        for the others, e.g. ``setsockopt(SUB, SUB_SUBSCRIBE, '')``. ``TypeError`` for any
        other type, as in nnpy.

        Differs from nnpy in two failures: a str with non-ASCII characters is set whole
        (nnpy passes its length in characters, not bytes, and cuts it short); and
        unsubscribing a prefix that was never subscribed raises ``NNError(EINVAL)`` (with
        libnanomsg 1.1.5, nnpy crashes the process with a segfault)."""
        if not isinstance(value, int | str | bytes):
            raise TypeError("value must be a int, str or bytes")
        try:
            self.socket.setsockopt(level, option, value)
        except NanomsgError as e:
            raise _error(e) from e

    def bind(self, addr: str | bytes) -> int:
        """Listens on ``addr`` (str or bytes, e.g. ``'tcp://127.0.0.1:5555'``); returns the
        endpoint id, for :meth:`shutdown`."""
        try:
            return _native.Socket.bind(self.socket, addr)
        except NanomsgError as e:
            raise _error(e) from e

    def connect(self, addr: str | bytes) -> int:
        """Connects to ``addr`` (in the background, again after each disconnect); returns
        the endpoint id, for :meth:`shutdown`."""
        try:
            return _native.Socket.connect(self.socket, addr)
        except NanomsgError as e:
            raise _error(e) from e

    def send(self, data: Buffer | str, flags: int = 0) -> int:
        """Sends one message (bytes or any buffer; str as UTF-8); returns its size in bytes.
        With ``flags=DONTWAIT`` raises ``NNError(EAGAIN)`` where it would have to wait.

        Differs from nnpy: a send that waits can be interrupted with Ctrl-C
        (``KeyboardInterrupt``), and closing the socket from another thread wakes it with
        ``NNError(EBADF)``."""
        try:
            return self.socket.send(data, block=flags_block(flags))
        except NanomsgError as e:
            raise _error(e) from e

    def recv(self, flags: int = 0) -> bytes:
        """Receives one message as bytes. With ``flags=DONTWAIT`` raises ``NNError(EAGAIN)``
        where none is waiting; ``NNError(ETIMEDOUT)`` after ``RCVTIMEO`` ms.

        Differs from nnpy: waiting can be interrupted with Ctrl-C (``KeyboardInterrupt``),
        and closing the socket from another thread wakes it with ``NNError(EBADF)``."""
        try:
            return self.socket.recv(block=flags_block(flags))
        except NanomsgError as e:
            raise _error(e) from e

    def get_statistic(self, statistic: int) -> int:
        """One statistic (``nn_get_statistic``), e.g. ``STAT_MESSAGES_SENT``.

        Differs from nnpy for an unknown statistic: ``NNError(EINVAL)`` here, where nnpy
        returns 2**64 - 1 (the C error value, which it does not check)."""
        try:
            return _native.Socket.statistic(self.socket, statistic)
        except NanomsgError as e:
            raise _error(e) from e

    def __repr__(self) -> str:
        return f"<nnpy.Socket sock={self.sock} {self.socket!r}>"


class PollSet:
    """``PollSet((sock, POLLIN), (other, POLLIN | POLLOUT), ...)``: sockets to wait on
    together (``nn_poll``)."""

    def __init__(self, *args: tuple[Socket, int]) -> None:
        #: ``(number, events, 0)`` per socket, as nnpy keeps them.
        self.data = [(sock.sock, events, 0) for (sock, events) in args]
        self._items: list[tuple[_native.Socket, int]] = [
            (sock.socket, events) for (sock, events) in args
        ]

    def poll(self, timeout: int = 0) -> list[int]:
        """Waits up to ``timeout`` ms (0: look and return; -1: forever) until a socket is
        ready; returns the revents (``POLLIN``/``POLLOUT`` bits) of each socket, in order.
        ``NNError(EBADF)`` if one of them is closed.

        Differs from nnpy: a wait can be interrupted with Ctrl-C (``KeyboardInterrupt``)."""
        try:
            return _native.poll(self._items, timeout)
        except NanomsgError as e:
            raise _error(e) from e
