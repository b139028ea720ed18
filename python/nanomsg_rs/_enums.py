"""Protocols, domains and statistics as ``IntEnum``s: members are plain ints too, so they
can be passed wherever nanomsg expects a number."""

from __future__ import annotations

import enum

from . import _native

__all__ = ["Domain", "Protocol", "Statistic"]


class _Named(enum.IntEnum):
    """An IntEnum that also parses its members' names, case-insensitively."""

    @classmethod
    def _aliases(cls) -> dict[str, _Named]:
        return {m.name.lower(): m for m in cls}

    @classmethod
    def parse(cls, value: _Named | str | int) -> _Named:
        """The member for ``value``: a member, its value, or its name (any case).

        Raises:
            ValueError: an unknown name or value (the message lists the valid names).
            TypeError: ``value`` is of another type.
        """
        if isinstance(value, str):
            member = cls._aliases().get(value.strip().lower())
            if member is None:
                choices = ", ".join(repr(k) for k in cls._aliases())
                raise ValueError(
                    f"unknown {cls.__name__.lower()} {value!r}; choose one of {choices}"
                )
            return member
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(
                f"{cls.__name__.lower()} must be a {cls.__name__}, str or int, "
                f"not {type(value).__name__}"
            )
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(repr(k) for k in cls._aliases())
            raise ValueError(
                f"unknown {cls.__name__.lower()} {value!r}; choose one of {choices}"
            ) from None


class Protocol(_Named):
    """A scalability protocol: the ``protocol`` argument of :class:`nanomsg_rs.Socket`."""

    PAIR = _native.PAIR
    PUB = _native.PUB
    SUB = _native.SUB
    REQ = _native.REQ
    REP = _native.REP
    PUSH = _native.PUSH
    PULL = _native.PULL
    SURVEYOR = _native.SURVEYOR
    RESPONDENT = _native.RESPONDENT
    BUS = _native.BUS


class Domain(_Named):
    """``SP`` (full protocol) or ``SP_RAW`` (raw sockets, for devices); ``"sp"``/``"sp-raw"``."""

    SP = _native.AF_SP
    SP_RAW = _native.AF_SP_RAW

    @classmethod
    def _aliases(cls) -> dict[str, _Named]:
        return {"sp": cls.SP, "sp-raw": cls.SP_RAW, "sp_raw": cls.SP_RAW}


class Statistic(_Named):
    """A socket statistic (``nn_get_statistic``); parsed from ``"messages-sent"`` style names.

    Counters since the socket was made; ``BYTES_SENT``/``BYTES_RECEIVED`` are in bytes,
    ``CURRENT_*`` are current values (``CURRENT_SND_PRIORITY`` a priority, 1..16)."""

    ESTABLISHED_CONNECTIONS = _native.STAT_ESTABLISHED_CONNECTIONS
    ACCEPTED_CONNECTIONS = _native.STAT_ACCEPTED_CONNECTIONS
    DROPPED_CONNECTIONS = _native.STAT_DROPPED_CONNECTIONS
    BROKEN_CONNECTIONS = _native.STAT_BROKEN_CONNECTIONS
    CONNECT_ERRORS = _native.STAT_CONNECT_ERRORS
    BIND_ERRORS = _native.STAT_BIND_ERRORS
    ACCEPT_ERRORS = _native.STAT_ACCEPT_ERRORS
    CURRENT_CONNECTIONS = _native.STAT_CURRENT_CONNECTIONS
    INPROGRESS_CONNECTIONS = _native.STAT_INPROGRESS_CONNECTIONS
    CURRENT_EP_ERRORS = _native.STAT_CURRENT_EP_ERRORS
    MESSAGES_SENT = _native.STAT_MESSAGES_SENT
    MESSAGES_RECEIVED = _native.STAT_MESSAGES_RECEIVED
    BYTES_SENT = _native.STAT_BYTES_SENT
    BYTES_RECEIVED = _native.STAT_BYTES_RECEIVED
    CURRENT_SND_PRIORITY = _native.STAT_CURRENT_SND_PRIORITY
    #: TLS connections that failed before their SP header exchange (a certificate refused
    #: either way, a peer without TLS, a handshake that took over 10 s); 0 on a library
    #: without TLS. ``Socket.tls_error`` says why the last one failed.
    TLS_HANDSHAKE_ERRORS = _native.STAT_TLS_HANDSHAKE_ERRORS
    #: Connections a listener closed as soon as it accepted them: an ipc peer of a user
    #: ``Socket.ipc_peer_uids`` leaves out, or (tcp, ws, TLS) one the kernel's backlog had
    #: no room for while the socket was at its ``maxconn``; 0 on a library without them.
    REFUSED_CONNECTIONS = _native.STAT_REFUSED_CONNECTIONS

    @classmethod
    def _aliases(cls) -> dict[str, _Named]:
        names: dict[str, _Named] = {}
        for m in cls:
            names[m.name.lower()] = m
            names[m.name.lower().replace("_", "-")] = m
        return names
