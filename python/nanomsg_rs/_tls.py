"""TLS settings: :class:`TLSConfig`, which ``Socket(tls=...)`` and ``Socket.tls`` take and
hand to the library as the options of level ``NN_TLS`` (``tls.h`` of our libnanomsg).

The library does the work: the TLS handshake and records (OpenSSL, linked into the
extension), the certificate checks, and the reason a connection failed
(``Socket.tls_error``). This module only checks the arguments and names the options.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from typing import Literal

from . import _native

__all__ = ["TLSConfig"]

PathArg = str | bytes | os.PathLike[str] | os.PathLike[bytes]

# The address schemes of the TLS transports.
TLS_SCHEMES = ("tls+tcp", "wss")


@dataclasses.dataclass(frozen=True, init=False)
class TLSConfig:
    """How a socket's TLS endpoints (``tls+tcp://``, ``wss://``) authenticate, for
    ``Socket(tls=...)`` or ``sock.tls = ...``; applies to the endpoints added after it is set.

    ``TLSConfig("server", cert_file="server.pem", key_file="server.key")`` listens;
    ``TLSConfig("client", ca_file="ca.pem", server_name="localhost")`` connects. The files
    are PEM (a certificate file may hold the chain: the certificate, then those that signed
    it). TLS 1.2 and 1.3; wire-compatible with nng's ``tls+tcp`` and ``wss`` (pynng,
    ``nngcat``).

    Args:
        mode: ``"server"`` (for ``bind``) or ``"client"`` (for ``connect``).
        cert_file: this end's certificate; a server needs it, a client only for mutual TLS.
        key_file: the private key of ``cert_file``.
        ca_file: the certificate authorities the peer's certificate must chain to. A client
            without it trusts the system's CAs; a server needs it to check clients.
        server_name: (client) the name the server's certificate must carry, also sent as
            SNI; default: the host of the address connected to.
        verify: check the peer's certificate. Default True for a client (the server's
            certificate must chain to ``ca_file`` and carry ``server_name``) and False for a
            server; True on a server asks every client for a certificate that ``ca_file``
            signed (mutual TLS), and refuses clients without one.
        password: the password of an encrypted ``key_file``.

    Raises:
        ValueError: an unknown mode, a server without a certificate and key, a certificate
            without its key (or the reverse), a verifying server without ``ca_file``, a
            string with a NUL.
        FileNotFoundError: a file that does not exist.
        TypeError: an argument of the wrong type.
    """

    #: ``"server"`` or ``"client"``.
    mode: Literal["server", "client"]
    #: The certificate file (a str path), or None.
    cert_file: str | None
    #: The key file, or None.
    key_file: str | None
    #: The CA file, or None (a client then trusts the system's CAs).
    ca_file: str | None
    #: The name the server's certificate must carry, or None (the address's host).
    server_name: str | None
    #: Whether the peer's certificate is checked.
    verify: bool
    #: The key's password, or None (not shown by repr).
    password: str | None = dataclasses.field(repr=False)

    def __init__(
        self,
        mode: Literal["server", "client"],
        *,
        cert_file: PathArg | None = None,
        key_file: PathArg | None = None,
        ca_file: PathArg | None = None,
        server_name: str | None = None,
        verify: bool | None = None,
        password: str | bytes | None = None,
    ) -> None:
        if not isinstance(mode, str):
            raise TypeError(f"mode must be 'server' or 'client', not {type(mode).__name__}")
        if mode not in ("server", "client"):
            raise ValueError(f"mode must be 'server' or 'client', not {mode!r}")
        files = {
            "cert_file": _path("cert_file", cert_file),
            "key_file": _path("key_file", key_file),
            "ca_file": _path("ca_file", ca_file),
        }
        if server_name is not None and not isinstance(server_name, str):
            raise TypeError(f"server_name must be a str, not {type(server_name).__name__}")
        if verify is not None and not isinstance(verify, bool):
            raise TypeError(f"verify must be a bool, not {type(verify).__name__}")
        if password is not None and not isinstance(password, (str, bytes)):
            raise TypeError(f"password must be a str or bytes, not {type(password).__name__}")
        text = password.decode("utf-8") if isinstance(password, bytes) else password
        for name, value in (("server_name", server_name), ("password", text)):
            if value is not None and "\0" in value:
                raise ValueError(f"{name} must not contain NUL")
        if verify is None:
            verify = mode == "client"
        if mode == "server" and (files["cert_file"] is None or files["key_file"] is None):
            raise ValueError(
                "a server needs its certificate and key: "
                "TLSConfig('server', cert_file=..., key_file=...)"
            )
        if (files["cert_file"] is None) != (files["key_file"] is None):
            raise ValueError("cert_file and key_file go together: give both or neither")
        if mode == "server" and verify and files["ca_file"] is None:
            raise ValueError(
                "a server that verifies clients (mutual TLS) needs ca_file: the certificate "
                "authority that signs the clients' certificates"
            )
        if mode == "server" and server_name is not None:
            raise ValueError(
                "server_name is a client's: the name the server's certificate must carry"
            )
        set_field = object.__setattr__
        set_field(self, "mode", mode)
        for name, path in files.items():
            set_field(self, name, path)
        set_field(self, "server_name", server_name)
        set_field(self, "verify", verify)
        set_field(self, "password", text)

    def _options(self) -> list[tuple[int, bytes | int]]:
        """The ``NN_TLS`` options that say this configuration, every one of them (an unset
        file is the empty string, which clears the option)."""

        def enc(value: str | None) -> bytes:
            return b"" if value is None else os.fsencode(value)

        return [
            (_native.TLS_CERT_FILE, enc(self.cert_file)),
            (_native.TLS_KEY_FILE, enc(self.key_file)),
            (_native.TLS_CA_FILE, enc(self.ca_file)),
            (
                _native.TLS_SERVER_NAME,
                b"" if self.server_name is None else self.server_name.encode("utf-8"),
            ),
            (
                _native.TLS_KEY_PASSWORD,
                b"" if self.password is None else self.password.encode("utf-8"),
            ),
            (_native.TLS_VERIFY, 1 if self.verify else 0),
        ]


#: The options that clear a socket's TLS configuration (``sock.tls = None``).
CLEARED: list[tuple[int, bytes | int]] = [
    (_native.TLS_CERT_FILE, b""),
    (_native.TLS_KEY_FILE, b""),
    (_native.TLS_CA_FILE, b""),
    (_native.TLS_SERVER_NAME, b""),
    (_native.TLS_KEY_PASSWORD, b""),
    (_native.TLS_VERIFY, -1),
]


def _path(name: str, value: PathArg | None) -> str | None:
    """A file argument as a str path, checked to exist."""
    if value is None:
        return None
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(
            f"{name} must be a path (str, bytes or os.PathLike), not {type(value).__name__}"
        )
    path = os.fsdecode(os.fspath(value))
    if "\0" in path:
        raise ValueError(f"{name} must not contain NUL")
    if not path:
        raise ValueError(f"{name} must not be empty")
    if not os.path.isfile(path):
        raise FileNotFoundError(errno.ENOENT, f"TLSConfig {name}: no such file", path)
    return path
