"""``nnpy.errors`` of nnpy 1.4.2: the :class:`NNError` exception."""

from __future__ import annotations

from typing import Any

__all__ = ["NNError"]


class NNError(Exception):
    """nnpy's error: ``NNError(error_no, message)``. ``.error_no`` is nanomsg's error code
    (``nnpy.EAGAIN``, ``nnpy.ETIMEDOUT`` ...), ``str(e)`` and ``e.args[0]`` its text
    (``nn_strerror``).

    The exception that the native call raised (a :class:`nanomsg_rs.NanomsgError` subclass
    such as :class:`nanomsg_rs.Timeout`) is kept as ``__cause__``. ``.errno`` is an alias of
    ``.error_no`` (not in nnpy), for code on its way to the native API."""

    def __init__(self, error_no: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: nanomsg's error code.
        self.error_no = error_no

    @property
    def errno(self) -> int:
        """The same as ``error_no`` (the name the native :class:`nanomsg_rs.NanomsgError`
        uses)."""
        return self.error_no
