"""What both compat modules share: sockets made from the numbers the originals take."""

from __future__ import annotations

from .. import _native
from .._socket import Socket


def new_socket(domain: int, protocol: int) -> Socket:
    """``nn_socket(domain, protocol)`` with plain numbers, as the originals take them: an
    unknown number is the library's error (``nn.InvalidArgument`` and the like), not the
    ``ValueError`` that ``nanomsg_rs.Socket`` raises when it parses its arguments."""
    return _native.Socket.__new__(Socket, protocol, domain)


def flags_block(flags: int) -> bool:
    """``block=`` for the native call from nanomsg's ``flags`` argument (only ``DONTWAIT``
    means anything to ``nn_send``/``nn_recv``; other bits are ignored, as libnanomsg does).
    ``TypeError`` for a non-int (a bool is the int it is, as the originals take it)."""
    if not isinstance(flags, int):
        raise TypeError(f"flags must be an int, not {type(flags).__name__}")
    return not flags & _native.DONTWAIT
