"""The option properties of :class:`nanomsg_rs.Socket`, one per row of the native option
table, ``_native.OPTIONS`` (``src/nn/options.rs``). The row holds every fact about its option:
level and number, type and unit, the values it takes, which sockets have it, what the nng
backend does with it, the misuse a set may be, and the docstring. A property only names its
row; reading and writing go to the native code in one call, which checks the value's type
and range and the backend before ``nn_setsockopt``.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from . import _native

if TYPE_CHECKING:
    from typing import Self

__all__ = ["SET_BY_USER", "SPECS", "BoolOption", "IntOption", "StrOption"]

#: Every row of the option table, by name.
SPECS: dict[str, _native.OptionSpec] = {spec.name: spec for spec in _native.OPTIONS}

#: The options set through a socket's properties, by socket: what the library sets by
#: itself (the async layer's ``worker_poll``) it leaves alone there.
SET_BY_USER: weakref.WeakKeyDictionary[_native.Socket, set[str]] = weakref.WeakKeyDictionary()

T = TypeVar("T", int, bool, str)


class _OptionProperty(Generic[T]):
    """A socket option as a property, named after its row: reads with ``nn_getsockopt``,
    writes with ``nn_setsockopt`` (``TypeError`` for a value of another type,
    ``InvalidArgument`` outside the option's range, ``AttributeError`` for a read-only one)."""

    spec: _native.OptionSpec
    name: str

    def __set_name__(self, owner: type, name: str) -> None:
        self.spec = SPECS[name]
        self.name = name
        self.__doc__ = self.spec.doc

    @overload
    def __get__(self, obj: None, objtype: Any = None) -> Self: ...
    @overload
    def __get__(self, obj: _native.Socket, objtype: Any = None) -> T: ...
    def __get__(self, obj: _native.Socket | None, objtype: Any = None) -> T | Self:
        if obj is None:
            return self
        value: T = obj._get_option(self.spec)
        return value

    def __set__(self, obj: _native.Socket, value: T) -> None:
        obj._set_option(self.spec, value)
        SET_BY_USER.setdefault(obj, set()).add(self.name)


class IntOption(_OptionProperty[int]):
    """An int option (times in ms, sizes in bytes)."""


class BoolOption(_OptionProperty[bool]):
    """A bool option (set from a bool or an int, read as a bool)."""


class StrOption(_OptionProperty[str]):
    """A str option (set from a str without NUL)."""
