"""nanomsg_rs: the Python binding for nanomsg (libnanomsg), built in Rust.

``import nanomsg_rs as nn``; ``nn.Socket("pair")``, ``s.bind("tcp://127.0.0.1:5555")``,
``s.send(b"hi")``, ``s.recv()``. Every nanomsg constant is exported under its C name without
the ``NN_`` prefix (``nn.SOL_SOCKET``, ``nn.LINGER``, ``nn.POLLIN`` ...).

``nn.BACKEND`` is ``"nanomsg"`` or ``"nng"`` (the C library this build links);
``nn.LIBRARY_VERSION`` names it with its version: ``"1.1.5+nanomsg-rs.21"`` for our hardened
libnanomsg (upstream 1.1.5 and our patches, the default), ``"nanomsg ABI 5.1.0"`` for
the system's, ``"nng 1.5.2"``; ``nn.HARDENED`` is True for the hardened build only;
``nn.NANOMSG_VERSION`` is libnanomsg's ABI version ``(current, revision, age)`` -- e.g.
``(5, 1, 0)`` for release 1.1.5 -- and ``None`` on the nng backend.
"""

from __future__ import annotations

from typing import NamedTuple

from . import _native, constants
from ._enums import Domain, Protocol, Statistic
from ._errors import (
    AddressInUse,
    Again,
    BadState,
    Closed,
    InvalidArgument,
    NanomsgError,
    NotSupported,
    Terminated,
    Timeout,
)
from ._native import (
    BACKEND,
    HARDENED,
    LIBRARY_VERSION,
    NANOMSG_VERSION,
    Message,
    device,
    poll,
    strerror,
    term,
)
from ._socket import Endpoint, Socket
from .constants import *  # noqa: F403  (every nanomsg constant, listed there)


class Symbol(NamedTuple):
    """One entry of ``nn_symbol_info``: a constant the linked libnanomsg knows.

    ``namespace`` is an ``NS_*`` constant, ``type`` ``TYPE_NONE``/``TYPE_INT``/``TYPE_STR``
    and ``unit`` a ``UNIT_*`` constant (``UNIT_MILLISECONDS``, ``UNIT_BYTES`` ...)."""

    name: str
    value: int
    namespace: int
    type: int
    unit: int


def symbols() -> list[Symbol]:
    """Every symbol (``nn_symbol_info``) of the linked libnanomsg, in its order.

    Raises:
        NotSupported: on the nng backend, which has no ``nn_symbol_info``.
    """
    return [Symbol(*entry) for entry in _native.symbol_info()]


__version__ = "0.1.0"

__all__ = [
    "BACKEND",
    "HARDENED",
    "LIBRARY_VERSION",
    "NANOMSG_VERSION",
    "AddressInUse",
    "Again",
    "BadState",
    "Closed",
    "Domain",
    "Endpoint",
    "InvalidArgument",
    "Message",
    "NanomsgError",
    "NotSupported",
    "Protocol",
    "Socket",
    "Statistic",
    "Symbol",
    "Terminated",
    "Timeout",
    "device",
    "poll",
    "strerror",
    "symbols",
    "term",
]
# Every constant too, in a form type checkers follow for ``from nanomsg_rs import *``.
__all__ += constants.__all__
