"""``with`` for an object that has a ``close()`` method: the ``__enter__``/``__exit__`` pair
that :class:`nanomsg_rs.Socket` and the sockets of :mod:`nanomsg_rs.compat.nanomsg` share."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from typing import Self


class _Closable(Protocol):
    def close(self) -> None: ...


class ClosesOnExit:
    """A mixin for a class with ``close()``: ``with obj:`` gives the object, and leaving the
    block closes it, whatever ended it."""

    __slots__ = ()

    def __enter__(self) -> Self:
        """Returns the socket; leaving the ``with`` block closes it."""
        return self

    def __exit__(
        self: _Closable,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Closes the socket at the end of ``with``."""
        self.close()
