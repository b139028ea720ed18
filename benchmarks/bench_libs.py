"""The Python messaging libraries the benchmarks compare, each behind one small adapter.

An adapter only makes, wires and configures sockets; the measured loops in
:mod:`bench_worker` call each library's own bound ``send``/``recv`` methods directly, so no
adapter code runs per message.

Socket kinds are the nanomsg names (``pair push pull req rep pub sub``); for pynng they map to
``Pair0 Push0 ...`` and for pyzmq to ``zmq.PAIR ...``, each on its own library underneath.

``nanomsg_rs-nng`` is nanomsg_rs again, with the same adapter, built on nng's
nanomsg-compatible API; its workers run in the private venv that :mod:`bench_nng` makes.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any, ClassVar

#: nanomsg_rs built with the cargo feature ``nng`` (see :mod:`bench_nng`).
NNG_LIB = "nanomsg_rs-nng"

#: The Python libraries, in the order the report lists them.
PYTHON_LIBS = ("nanomsg_rs", NNG_LIB, "nnpy", "nanomsg", "pynng", "pyzmq")

#: The module each library is imported as (for availability checks).
MODULES = {
    "nanomsg_rs": "nanomsg_rs",
    NNG_LIB: "nanomsg_rs",
    "nnpy": "nnpy",
    "nanomsg": "nanomsg",
    "pynng": "pynng",
    "pyzmq": "zmq",
}

#: Largest message the benchmarks send (the throughput rows' 1 MiB), with room to spare.
MAX_MESSAGE = 4 << 20


class Adapter:
    """What the workers need from a library: sockets, endpoints, bound send/recv methods,
    subscriptions, and receive timeouts."""

    name = ""

    def socket(self, kind: str) -> Any:
        """A new socket of ``kind`` that accepts messages up to :data:`MAX_MESSAGE`."""
        raise NotImplementedError

    def bind(self, sock: Any, address: str) -> None:
        """Listens on ``address``."""
        sock.bind(address)

    def connect(self, sock: Any, address: str) -> None:
        """Connects to ``address``."""
        sock.connect(address)

    def sender(self, sock: Any) -> Callable[[bytes], object]:
        """The library's own bound send method."""
        send: Callable[[bytes], object] = sock.send
        return send

    def receiver(self, sock: Any, mode: str = "recv") -> Callable[[], Any]:
        """The library's own bound receive method; ``mode`` ``"msg"`` (zero-copy
        ``recv_msg``) exists only for nanomsg_rs."""
        if mode != "recv":
            raise ValueError(f"{self.name} has no receive mode {mode!r}")
        recv: Callable[[], Any] = sock.recv
        return recv

    def receiver_into(self, sock: Any) -> Callable[[Any], int]:
        """The library's own bound ``recv_into`` method (it fills a buffer given to it and
        returns the message's length); only nanomsg_rs has one here."""
        raise ValueError(f"{self.name} has no receive mode 'into'")

    def batch_sender(self, sock: Any) -> Callable[[list[bytes]], object]:
        """The library's own bound method that sends a list of messages in one call; only
        nanomsg_rs has one here (``send_many``)."""
        raise ValueError(f"{self.name} has no batch send")

    def batch_receiver(self, sock: Any) -> Callable[[int], list[Any]]:
        """The library's own bound method that receives up to n messages (at least one) in
        one call; only nanomsg_rs has one here (``recv_many``)."""
        raise ValueError(f"{self.name} has no batch receive")

    def subscribe_all(self, sock: Any) -> None:
        """Subscribes a SUB socket to every message."""
        raise NotImplementedError

    def set_recv_timeout(self, sock: Any, ms: int) -> None:
        """Makes receives on ``sock`` give up after ``ms`` milliseconds."""
        raise NotImplementedError

    def is_timeout(self, exc: BaseException) -> bool:
        """True if ``exc`` is the library's receive time-out."""
        raise NotImplementedError

    def close(self, sock: Any) -> None:
        """Closes ``sock``."""
        sock.close()


class NanomsgRsAdapter(Adapter):
    """nanomsg_rs, this project (whichever build this interpreter imports)."""

    name = "nanomsg_rs"

    def __init__(self) -> None:
        import nanomsg_rs

        self.nn = nanomsg_rs

    def socket(self, kind: str) -> Any:
        sock = self.nn.Socket(kind)
        sock.rcvmaxsize = -1
        return sock

    def receiver(self, sock: Any, mode: str = "recv") -> Callable[[], Any]:
        if mode == "msg":
            recv_msg: Callable[[], Any] = sock.recv_msg
            return recv_msg
        return super().receiver(sock, mode)

    def receiver_into(self, sock: Any) -> Callable[[Any], int]:
        recv_into: Callable[[Any], int] = sock.recv_into
        return recv_into

    def batch_sender(self, sock: Any) -> Callable[[list[bytes]], object]:
        send_many: Callable[[list[bytes]], object] = sock.send_many
        return send_many

    def batch_receiver(self, sock: Any) -> Callable[[int], list[Any]]:
        recv_many: Callable[[int], list[Any]] = sock.recv_many
        return recv_many

    def subscribe_all(self, sock: Any) -> None:
        sock.subscribe(b"")

    def set_recv_timeout(self, sock: Any, ms: int) -> None:
        sock.rcvtimeo = ms

    def is_timeout(self, exc: BaseException) -> bool:
        return isinstance(exc, self.nn.Timeout)


class NanomsgRsNngAdapter(NanomsgRsAdapter):
    """nanomsg_rs built on nng's nanomsg-compatible API: the same code, and a check that the
    interpreter imports that build indeed, so a mix-up fails instead of measuring libnanomsg."""

    name = NNG_LIB

    def __init__(self) -> None:
        super().__init__()
        if self.nn.BACKEND != "nng":
            raise RuntimeError(
                f"{NNG_LIB}: {self.nn.__file__} is a {self.nn.BACKEND} build, not an nng one"
            )


class NnpyAdapter(Adapter):
    """nnpy: cffi over the system libnanomsg."""

    name = "nnpy"

    def __init__(self) -> None:
        import nnpy

        self.nnpy = nnpy

    def socket(self, kind: str) -> Any:
        sock = self.nnpy.Socket(self.nnpy.AF_SP, getattr(self.nnpy, kind.upper()))
        sock.setsockopt(self.nnpy.SOL_SOCKET, self.nnpy.RCVMAXSIZE, -1)
        return sock

    def subscribe_all(self, sock: Any) -> None:
        sock.setsockopt(self.nnpy.SUB, self.nnpy.SUB_SUBSCRIBE, b"")

    def set_recv_timeout(self, sock: Any, ms: int) -> None:
        sock.setsockopt(self.nnpy.SOL_SOCKET, self.nnpy.RCVTIMEO, ms)

    def is_timeout(self, exc: BaseException) -> bool:
        return getattr(exc, "error_no", None) == errno.ETIMEDOUT


class NanomsgAdapter(Adapter):
    """nanomsg (PyPI 1.0): the older C-extension binding over the system libnanomsg."""

    name = "nanomsg"

    def __init__(self) -> None:
        import nanomsg

        self.mod = nanomsg

    def socket(self, kind: str) -> Any:
        sock = self.mod.Socket(getattr(self.mod, kind.upper()))
        sock.set_int_option(self.mod.SOL_SOCKET, self.mod.RCVMAXSIZE, -1)
        return sock

    def subscribe_all(self, sock: Any) -> None:
        sock.set_string_option(self.mod.SUB, self.mod.SUB_SUBSCRIBE, b"")

    def set_recv_timeout(self, sock: Any, ms: int) -> None:
        sock.recv_timeout = ms

    def is_timeout(self, exc: BaseException) -> bool:
        return getattr(exc, "errno", None) == errno.ETIMEDOUT


class PynngAdapter(Adapter):
    """pynng: bindings for nng, nanomsg's successor, with its own bundled library."""

    name = "pynng"
    _KINDS: ClassVar[dict[str, str]] = {
        "pair": "Pair0",
        "push": "Push0",
        "pull": "Pull0",
        "req": "Req0",
        "rep": "Rep0",
        "pub": "Pub0",
        "sub": "Sub0",
    }

    def __init__(self) -> None:
        import pynng

        self.pynng = pynng

    def socket(self, kind: str) -> Any:
        sock = getattr(self.pynng, self._KINDS[kind])()
        if kind in ("pair", "pull", "req", "rep", "sub"):
            sock.recv_max_size = MAX_MESSAGE
        return sock

    def bind(self, sock: Any, address: str) -> None:
        sock.listen(address)

    def connect(self, sock: Any, address: str) -> None:
        sock.dial(address, block=False)

    def subscribe_all(self, sock: Any) -> None:
        sock.subscribe(b"")

    def set_recv_timeout(self, sock: Any, ms: int) -> None:
        sock.recv_timeout = ms

    def is_timeout(self, exc: BaseException) -> bool:
        return isinstance(exc, self.pynng.Timeout)


class PyzmqAdapter(Adapter):
    """pyzmq: bindings for ZeroMQ (libzmq), a different library with the same patterns."""

    name = "pyzmq"

    def __init__(self) -> None:
        import zmq

        self.zmq = zmq
        self.context = zmq.Context.instance()

    def socket(self, kind: str) -> Any:
        sock = self.context.socket(getattr(self.zmq, kind.upper()))
        sock.setsockopt(self.zmq.LINGER, 0)
        return sock

    def subscribe_all(self, sock: Any) -> None:
        sock.setsockopt(self.zmq.SUBSCRIBE, b"")

    def set_recv_timeout(self, sock: Any, ms: int) -> None:
        sock.setsockopt(self.zmq.RCVTIMEO, ms)

    def is_timeout(self, exc: BaseException) -> bool:
        return isinstance(exc, self.zmq.Again)


_ADAPTERS: dict[str, Callable[[], Adapter]] = {
    "nanomsg_rs": NanomsgRsAdapter,
    NNG_LIB: NanomsgRsNngAdapter,
    "nnpy": NnpyAdapter,
    "nanomsg": NanomsgAdapter,
    "pynng": PynngAdapter,
    "pyzmq": PyzmqAdapter,
}


def load(name: str) -> Adapter:
    """The adapter for library ``name`` (imports the library; ImportError if missing)."""
    return _ADAPTERS[name]()
