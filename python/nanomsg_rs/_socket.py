"""The public :class:`Socket` and :class:`Endpoint`.

``Socket`` subclasses the native socket: sending and receiving are the native methods
themselves (no Python frame in between); this module adds the parts that read better in
Python: argument parsing, endpoints, subscriptions and the option properties, made from the
native option table (see ``_options``).
"""

from __future__ import annotations

import difflib
import errno
import struct
import sys
import warnings
from collections.abc import Iterable
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Self

    from typing_extensions import Buffer

from . import _native
from ._closing import ClosesOnExit
from ._enums import Domain, Protocol, Statistic
from ._errors import Closed, InvalidArgument, NanomsgError, note_ipc_in_use
from ._native import Message
from ._options import BoolOption, IntOption, StrOption, _OptionProperty
from ._tls import CLEARED, TLS_SCHEMES, TLSConfig

# The async support (``_async``), imported at the first await: it imports asyncio, which
# ``import nanomsg_rs`` does not. Kept here once imported, because a ``from . import _async``
# in each call runs importlib's Python code every time (about a microsecond a call).
_ASYNC: ModuleType | None = None


def _async_support() -> ModuleType:
    global _ASYNC
    from . import _async

    _ASYNC = _async
    return _async


def _wake_waiters(sock: Socket) -> None:
    """Wakes the tasks awaiting ``sock`` with :class:`Closed`, and ends its fds' watches,
    before the socket leaves this object (close, detach, drop). ``_async`` is looked up
    rather than imported: not loaded, nobody awaited a socket."""
    waiting = sys.modules.get(f"{__package__}._async")
    if waiting is not None:
        waiting.notify_closed(sock)


__all__ = ["Endpoint", "Socket", "term"]


class Endpoint:
    """An address a socket is bound or connected to (the result of ``bind``/``connect``)."""

    __slots__ = {
        "address": "The address as given, as a str (bytes decoded as UTF-8, each byte that "
        "is not UTF-8 kept as a surrogate, as os.fsdecode does): bind() and connect() take "
        "it back and use the same bytes.",
        "bound": "True for an endpoint made by bind(), False for one made by connect().",
        "id": "nanomsg's endpoint id (int).",
        "socket": "The Socket the endpoint belongs to.",
    }

    def __init__(self, socket: Socket, id: int, address: str, bound: bool) -> None:
        #: The socket the endpoint belongs to.
        self.socket = socket
        #: nanomsg's endpoint id.
        self.id = id
        #: The address as given, as a str (see ``__slots__``).
        self.address = address
        #: True: made by ``bind()``; False: by ``connect()``.
        self.bound = bound

    def shutdown(self) -> None:
        """Removes this endpoint from its socket (``nn_shutdown``).

        Raises:
            InvalidArgument: it was removed already.
        """
        self.socket.shutdown(self)

    def __index__(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<Endpoint id={self.id} address={self.address!r}>"


_SOL = _native.SOL_SOCKET


def _text(addr: str | bytes) -> str:
    """An address as a plain str (a subclass's own ``__str__`` is not called); bytes that are
    not UTF-8 keep their bytes as surrogates (``surrogateescape``), which bind() and
    connect() encode back to the same bytes."""
    if isinstance(addr, bytes):
        return addr.decode("utf-8", "surrogateescape")
    return str.__str__(addr)


class Socket(_native.Socket, ClosesOnExit):
    """A nanomsg socket: ``Socket(protocol, domain="sp")``.

    The socket closes when garbage-collected, on ``close()`` and at the end of a ``with``
    block. Blocking calls release the GIL and can be interrupted (Ctrl-C, or ``close()``
    from another thread, which makes them raise :class:`nanomsg_rs.Closed`).

    Args:
        protocol: a :class:`Protocol` member or its name (``"pair"``, ``"pub"``, ``"sub"``,
            ``"push"``, ``"pull"``, ``"req"``, ``"rep"``, ``"surveyor"``, ``"respondent"``,
            ``"bus"``; any case).
        domain: :class:`Domain` ``SP`` (the default) or ``SP_RAW``, or ``"sp"``/``"sp-raw"``.
        tls: a :class:`TLSConfig` for the socket's ``tls+tcp://`` and ``wss://`` endpoints
            (see :attr:`tls`).

    Raises:
        ValueError: an unknown protocol or domain.
        NanomsgError: ``EMFILE``: the process's descriptor limit (``RLIMIT_NOFILE``) or
            libnanomsg's limit of 16,384 open sockets is reached; the message says which.
        NotSupported: ``tls`` given where the library has no TLS (see :attr:`tls`).
    """

    # No __dict__: a misspelt option (``s.rcvtimeout = 5``) raises instead of making a new
    # attribute that nothing reads. ``_endpoints``: what bind/connect made, for repr;
    # ``_tls``: the TLSConfig set.
    __slots__ = ("_endpoints", "_tls")
    _endpoints: list[tuple[int, str, str]]
    _tls: TLSConfig | None

    def __new__(
        cls,
        protocol: Protocol | str | int,
        domain: Domain | str | int = "sp",
        *,
        tls: TLSConfig | None = None,
    ) -> Socket:
        proto = Protocol.parse(protocol)
        dom = Domain.parse(domain)
        sock = super().__new__(cls, int(proto), int(dom))
        if tls is not None:
            try:
                sock.tls = tls
            except BaseException:
                sock.close()
                raise
        return sock

    @classmethod
    def adopt(cls, number: int) -> Self:
        """Takes ownership of the open socket with this number, the inverse of :meth:`detach`.

        ``nn.Socket.adopt(s.detach())`` gives the same nanomsg socket in a new object, which
        closes it like any other :class:`Socket` (``close()``, ``with``, garbage collection).
        The number must be a socket of this package's own library (not of another libnanomsg
        loaded in the process, such as nnpy's).

        Args:
            number: the socket number, as :meth:`detach` returned it.

        Raises:
            Closed: the number is not an open socket.
            InvalidArgument: the number is negative, or another live :class:`Socket` of this
                process owns it (two owners would close it twice, and libnanomsg hands a
                closed number to the next socket at once).
            Terminated: after :func:`term`.
            TypeError: ``number`` is not an int.
        """
        return super().adopt(number)

    # -- endpoints ------------------------------------------------------------------------
    def bind(self, addr: str | bytes) -> Endpoint:  # type: ignore[override]
        """Listens on ``addr``.

        Args:
            addr: ``tcp://127.0.0.1:5555``, ``ipc:///tmp/x.ipc``, ``inproc://name`` or
                ``ws://127.0.0.1:5556`` (``*`` as the host binds every interface). A str is
                encoded as UTF-8, surrogates as the bytes they stand for (``surrogateescape``,
                as ``os.fsencode`` does); bytes (e.g. an ipc path that is not UTF-8) are
                taken as they are.

        Returns:
            The :class:`Endpoint`, whose ``shutdown()`` stops listening.

        Raises:
            InvalidArgument: a malformed address.
            AddressInUse: another socket listens there, or (ipc) a file that is not a socket
                is at the path: it is left alone.
            NanomsgError: (ipc) the path is a directory (``EISDIR``), or longer than 107
                bytes (``ENAMETOOLONG``).
            NotSupported: an unknown transport.
        """
        tls = self._check_tls("bind", addr)
        try:
            eid = super().bind(addr)
        except NanomsgError as e:
            note_ipc_in_use(e, addr)
            if tls:
                self._note_tls_refused(e)
            raise
        return self._record(Endpoint(self, eid, _text(addr), True))

    def connect(self, addr: str | bytes) -> Endpoint:  # type: ignore[override]
        """Connects to ``addr``; the connection is made, and remade, in the background.

        Args:
            addr: an address in the forms :meth:`bind` takes.

        Returns:
            The :class:`Endpoint`, whose ``shutdown()`` disconnects.

        Raises:
            InvalidArgument: a malformed address.
            NanomsgError: (ipc) the path is longer than 107 bytes (``ENAMETOOLONG``).
            NotSupported: an unknown transport.
        """
        tls = self._check_tls("connect", addr)
        try:
            eid = super().connect(addr)
        except NanomsgError as e:
            if tls:
                self._note_tls_refused(e)
            raise
        return self._record(Endpoint(self, eid, _text(addr), False))

    # -- TLS ------------------------------------------------------------------------------
    @property
    def tls(self) -> TLSConfig | None:
        """The socket's :class:`TLSConfig` (None: none), for its ``tls+tcp://`` and ``wss://``
        endpoints.

        Set it (or pass ``Socket(tls=...)``) before binding or connecting a TLS address: it
        applies to the endpoints added after it. ``bind`` needs a ``"server"`` config,
        ``connect`` a ``"client"`` one. A connection whose handshake fails (a certificate
        refused either way, a peer without TLS) is dropped and, connecting, retried; it is
        counted in :attr:`Statistic.TLS_HANDSHAKE_ERRORS`, and :attr:`tls_error` says why.

        Raises:
            TypeError: (setting) neither a TLSConfig nor None.
            NotSupported: (setting) a library without TLS: the system libnanomsg. (On nng
                the same settings go to nng's own TLS; see the Security page.)
        """
        try:
            return self._tls
        except AttributeError:
            return None

    @tls.setter
    def tls(self, config: TLSConfig | None) -> None:
        if config is not None and not isinstance(config, TLSConfig):
            raise TypeError(f"tls must be a TLSConfig or None, not {type(config).__name__}")
        for option, value in CLEARED if config is None else config._options():
            self.setsockopt(_native.TLS, option, value)
        object.__setattr__(self, "_tls", config)

    def _check_tls(self, call: str, addr: str | bytes) -> bool:
        """For a TLS address: refuses it without a TLSConfig of the right mode (the message
        says what to pass); True. False for any other address (or no address: the native
        call says what is wrong with it)."""
        if not isinstance(addr, (str, bytes)):
            return False
        text = _text(addr)
        scheme = text.partition("://")[0]
        if scheme not in TLS_SCHEMES:
            return False
        mode = "server" if call == "bind" else "client"
        config = self.tls
        if config is None:
            why = (
                f"a {scheme}:// address needs a TLS configuration: pass "
                f"tls=nn.TLSConfig({mode!r}, ...) to Socket(), or set sock.tls, before "
                f"{call}()"
            )
        elif config.mode != mode:
            why = (
                f"{call}() of a {scheme}:// address needs a TLSConfig({mode!r}, ...); this "
                f"socket's is a {config.mode!r} one"
            )
        else:
            return True
        exc = InvalidArgument(errno.EINVAL, why, text)
        exc.call = call
        exc.socket = self
        raise exc

    def _note_tls_refused(self, exc: NanomsgError) -> None:
        """Says in ``exc`` why the library refused the TLS configuration (EINVAL)."""
        if exc.errno != errno.EINVAL:
            return
        try:
            why = self.tls_error
        except NanomsgError:
            return
        if why:
            exc.strerror = f"the TLS configuration was refused: {why}"

    def shutdown(self, endpoint: Endpoint | int) -> None:  # type: ignore[override]
        """Removes an endpoint from the socket (``nn_shutdown``).

        Args:
            endpoint: an :class:`Endpoint` or its id. On the nng backend a socket's bound and
                connected endpoints can share an id (nng numbers its listeners and dialers
                apart): an :class:`Endpoint` names the one it is; a bare id shared so means
                the connected one, as nng's ``nn_shutdown`` does.

        Raises:
            InvalidArgument: an unknown id.
            TypeError: ``endpoint`` is neither.
        """
        if isinstance(endpoint, bool) or not isinstance(endpoint, (Endpoint, int)):
            raise TypeError(f"endpoint must be an Endpoint or int, not {type(endpoint).__name__}")
        if isinstance(endpoint, int):
            eid, bound, address = int(endpoint), None, None
        else:
            eid, bound, address = endpoint.id, endpoint.bound, endpoint.address
        try:
            super().shutdown(eid, bound)
        except NanomsgError as e:
            if address is not None:  # the endpoint's address, as bind() and connect() say it
                e.filename = address
            raise
        table = self._endpoint_table()
        # a bare id shared by a bound and a connected endpoint (nng) meant the connected one
        kinds = ("connected", "bound") if bound is None else ("bound" if bound else "connected",)
        for kind in kinds:
            match = [i for i, (known, how, _) in enumerate(table) if (known, how) == (eid, kind)]
            if match:
                del table[match[0]]
                break

    def _endpoint_table(self) -> list[tuple[int, str, str]]:
        """(id, "bound" or "connected", address) of each endpoint, for repr (not the Endpoint
        objects: they refer to the socket, and a cycle would keep it from closing when
        dropped)."""
        try:
            return self._endpoints
        except AttributeError:
            table: list[tuple[int, str, str]] = []
            self._endpoints = table
            return table

    def _record(self, endpoint: Endpoint) -> Endpoint:
        how = "bound" if endpoint.bound else "connected"
        self._endpoint_table().append((endpoint.id, how, endpoint.address))
        return endpoint

    # -- subscriptions --------------------------------------------------------------------
    def subscribe(self, prefix: bytes | str = b"") -> None:
        """SUB only: receive the messages that start with ``prefix``.

        Args:
            prefix: bytes, or str (as UTF-8); the empty prefix receives everything.

        Raises:
            NanomsgError: the socket is not a SUB (``ENOPROTOOPT``).
            TypeError: ``prefix`` is neither bytes nor str.
        """
        self._topic(_native.SUB_SUBSCRIBE, prefix)

    def unsubscribe(self, prefix: bytes | str) -> None:
        """SUB only: removes a subscription made with :meth:`subscribe`.

        Subscriptions are counted: a prefix subscribed twice needs two unsubscribes, on
        both backends. A shorter or longer prefix than the one held is another prefix.

        Raises:
            InvalidArgument: the prefix is not subscribed (libnanomsg 1.1.5 crashed there).
        """
        self._topic(_native.SUB_UNSUBSCRIBE, prefix)

    def _topic(self, option: int, prefix: bytes | str) -> None:
        if not isinstance(prefix, (bytes, bytearray, memoryview, str)):
            raise TypeError(f"prefix must be bytes or str, not {type(prefix).__name__}")
        self.setsockopt(_native.SUB, option, prefix)

    # -- ipc access -------------------------------------------------------------------------
    @property
    def ipc_peer_uids(self) -> list[int]:
        """The user ids the socket's ipc listeners accept connections from (empty, the default:
        anyone).

        Checked with ``SO_PEERCRED`` when a connection is accepted: a peer of another user is
        closed at once, before a byte is read or written, and counted in
        :attr:`Statistic.REFUSED_CONNECTIONS`; nothing else notices. Applies at once to the
        connections accepted after it is set. Linux, and our hardened libnanomsg only.

        Raises:
            TypeError: (setting) not an iterable of ints.
            ValueError: (setting) a uid outside 0..2**32-2, or more than 64 of them.
            NotSupported: where the library has no such check (the system libnanomsg, nng).
        """
        raw = self.getsockopt(_native.IPC, _native.IPC_PEER_UIDS, bytes)
        return list(struct.unpack(f"{len(raw) // 4}I", raw))

    @ipc_peer_uids.setter
    def ipc_peer_uids(self, uids: Iterable[int]) -> None:
        if isinstance(uids, (str, bytes)) or not isinstance(uids, Iterable):
            raise TypeError(f"ipc_peer_uids must be an iterable of ints, not {type(uids).__name__}")
        values = list(uids)
        for uid in values:
            if isinstance(uid, bool) or not isinstance(uid, int):
                raise TypeError(f"a uid must be an int, not {type(uid).__name__}")
            if not 0 <= uid <= 2**32 - 2:
                raise ValueError(f"a uid must be from 0 to 4294967294, not {uid}")
        if len(values) > _native.IPC_PEER_UIDS_MAX:
            raise ValueError(f"at most {_native.IPC_PEER_UIDS_MAX} uids, not {len(values)}")
        self.setsockopt(_native.IPC, _native.IPC_PEER_UIDS, struct.pack(f"{len(values)}I", *values))

    # -- statistics -----------------------------------------------------------------------
    def statistic(self, stat: Statistic | str | int) -> int:
        """One statistic of the socket (``nn_get_statistic``).

        Args:
            stat: a :class:`Statistic`, its value, or its dashed name (``"messages-sent"``).

        Returns:
            The count since the socket was made (``BYTES_*`` in bytes);
            ``CURRENT_SND_PRIORITY`` is -1 while the socket has no peer to send to.

        Raises:
            ValueError: an unknown name.
            TypeError: ``stat`` is of another type.
            NotSupported: on the nng backend, which keeps no statistics.
        """
        return super().statistic(int(Statistic.parse(stat)))

    def statistics(self) -> dict[Statistic, int]:
        """Every statistic of the socket, by :class:`Statistic` (see :meth:`statistic`)."""
        return {s: super(Socket, self).statistic(int(s)) for s in Statistic}

    # -- options: a property each, made from its row of the option table ------------------
    # -- generated by tools/gen_python.py from src/nn/options.rs: do not edit --
    linger = IntOption()
    sndbuf = IntOption()
    rcvbuf = IntOption()
    sndtimeo = IntOption()
    rcvtimeo = IntOption()
    reconnect_ivl = IntOption()
    reconnect_ivl_max = IntOption()
    connect_timeout = IntOption()
    tcp_keepalive = BoolOption()
    tcp_keepalive_idle = IntOption()
    tcp_keepalive_interval = IntOption()
    tcp_keepalive_count = IntOption()
    sndprio = IntOption()
    rcvprio = IntOption()
    ipv4only = BoolOption()
    maxttl = IntOption()
    rcvmaxsize = IntOption()
    rcvmaxpartial = IntOption()
    maxconn = IntOption()
    worker_poll = BoolOption()
    worker_yield = BoolOption()
    socket_name = StrOption()
    sndfd = IntOption()
    rcvfd = IntOption()
    req_resend_ivl = IntOption()
    surveyor_deadline = IntOption()
    ipc_permissions = IntOption()
    tcp_nodelay = BoolOption()
    tls_error = StrOption()
    # -- end of the generated options --

    @property
    def protocol(self) -> Protocol:
        """The socket's :class:`Protocol` (read-only)."""
        return Protocol(self.getsockopt(_SOL, _native.PROTOCOL))

    @property
    def domain(self) -> Domain:
        """The socket's :class:`Domain` (read-only)."""
        return Domain(self.getsockopt(_SOL, _native.DOMAIN))

    def close(self) -> None:
        """Closes the socket (idempotent). Calls waiting on it in other threads, and tasks
        awaiting it in any event loop, raise :class:`Closed`."""
        _wake_waiters(self)
        super().close()

    def detach(self) -> int:
        """Gives up ownership and returns the raw socket number; this object is closed
        afterwards (tasks awaiting it raise :class:`Closed`, as on :meth:`close`), the
        nanomsg socket is not. Raises :class:`Closed` if already closed."""
        _wake_waiters(self)
        return super().detach()

    # -- async: asyncio (uvloop), trio, anyio ----------------------------------------------
    async def arecv(self) -> bytes:
        """Receives one message in the running event loop: asyncio (uvloop), trio, or anyio
        on either backend (see :meth:`recv`).

        Cancelling the task never loses a message: a message is taken only by a task that
        returns it.

        Raises:
            Timeout: ``rcvtimeo`` passed (a deadline for the whole call).
            Closed: the socket was closed, before or while waiting.
        """
        run = _ASYNC or _async_support()
        msg: bytes = await run.retry_until_done(self, run.RECV, self._arecv_try, "arecv")
        return msg

    async def arecv_msg(self) -> Message:
        """Like :meth:`arecv`, returning a zero-copy :class:`Message`."""
        run = _ASYNC or _async_support()
        msg: Message = await run.retry_until_done(self, run.RECV, self._arecv_msg_try, "arecv_msg")
        return msg

    async def asend(self, data: Buffer | str) -> int:
        """Sends one message in the running event loop (see :meth:`arecv` and :meth:`send`).

        Raises:
            Timeout: ``sndtimeo`` passed.
            Closed: the socket was closed, before or while waiting.
        """
        run = _ASYNC or _async_support()
        sent: int = await run.retry_until_done(
            self, run.SEND, lambda: self._asend_try(data), "asend"
        )
        return sent

    async def __aenter__(self) -> Socket:
        """``async with``: returns the socket, closed on exit."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Closes the socket at the end of ``async with``."""
        self.close()

    def __aiter__(self) -> Socket:
        """``async for msg in sock``: each message until the socket is closed."""
        return self

    async def __anext__(self) -> bytes:
        """``async for msg in sock``: each message until the socket is closed."""
        try:
            return await self.arecv()
        except Closed:
            raise StopAsyncIteration from None

    # -- repr (the context manager: ClosesOnExit) -----------------------------------------
    def __repr__(self) -> str:
        """``<nanomsg_rs.Socket PUB SP fd=0 bound tcp://*:5555 connected ipc:///tmp/x>``."""
        if self.closed:
            return "<nanomsg_rs.Socket closed>"
        try:
            head = f"<nanomsg_rs.Socket {self.protocol.name} {self.domain.name} fd={self.fd}"
        except NanomsgError as e:  # e.g. in a forked child
            return f"<nanomsg_rs.Socket unusable: {e.strerror}>"
        ends = "".join(f" {how} {addr}" for _, how, addr in self._endpoint_table())
        return head + ends + ">"

    # -- mistakes that would pass silently ------------------------------------------------
    def __setattr__(self, name: str, value: object) -> None:
        """Sets an option (or another attribute the class defines); a name the class does not
        have raises :class:`AttributeError`, with the nearest option names."""
        if name not in _SETTABLE and type(self) is Socket:  # a subclass keeps its own rules
            if name in _PUBLIC:  # closed, fd, protocol, domain, the methods
                raise AttributeError(f"Socket attribute {name!r} is read-only")
            raise AttributeError(_unknown(name, "has no option or attribute", _OPTIONS))
        object.__setattr__(self, name, value)

    def __del__(self) -> None:
        """A socket dropped while open closes (the native part does that) with a
        :class:`ResourceWarning`, as Python's own sockets do: shown under ``python -X dev``
        and pytest, with where it was made when tracemalloc is on."""
        try:
            if not self.closed:
                _wake_waiters(self)
                warnings.warn(f"unclosed {self!r}", ResourceWarning, stacklevel=2, source=self)
        except Exception:  # interpreter shutdown, a forked child: never raise from here
            pass


def term() -> None:
    """Ends libnanomsg for this process (``nn_term``), for good: every socket fails with
    :class:`Terminated` from now on, and no new socket can be made.

    Calls waiting on a socket in any thread (``recv``, ``send``, ``poll``, ``device`` ...)
    and tasks awaiting one in any event loop (``arecv``, ``asend`` under asyncio, uvloop,
    trio or anyio) raise :class:`Terminated`.

    Raises:
        NanomsgError: in a child forked after the process made a socket (``EFORKED``).
    """
    waiting = sys.modules.get(f"{__package__}._async")
    if waiting is not None:  # loaded once a socket awaited: it knows who waits where
        waiting.notify_terminated()
    _native.term()


def _unknown(name: str, what: str, candidates: list[str]) -> str:
    near = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    return f"Socket {what} {name!r}{hint}"


# The option properties, and every name a socket has (for the suggestions).
_OPTIONS = sorted(n for n, v in vars(Socket).items() if isinstance(v, _OptionProperty))
_PUBLIC = sorted(n for n in dir(Socket) if not n.startswith("_"))
# What may be assigned: the options (a read-only one says so itself), and the slot.
_SETTABLE = frozenset([*_OPTIONS, "_endpoints", "_tls", "tls", "ipc_peer_uids"])
