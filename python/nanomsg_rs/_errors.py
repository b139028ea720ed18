"""The exception classes of nanomsg_rs and the errno-to-class table the native code raises by.

Every error is a :class:`NanomsgError`, itself an :class:`OSError`, raised with
``(errno, strerror)`` so that ``.errno`` and ``.strerror`` hold nanomsg's code and text.
"""

from __future__ import annotations

import errno as _errno

from . import _native

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
]


class NanomsgError(OSError):
    """Base class of every nanomsg error; ``.errno`` and ``.strerror`` are nanomsg's."""


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
