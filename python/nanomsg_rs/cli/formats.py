"""nncat's output: each received message as nanocat prints it in every ``--format``, and the
writing of bytes to stdout and stderr, flushed as nanocat flushes them."""

from __future__ import annotations

import os
import sys
from typing import BinaryIO, TextIO

__all__ = ["FORMATS", "emit", "format_message", "stderr"]

#: The names ``--format`` accepts, in nanocat's order ("no" prints nothing, the default).
FORMATS = ("no", "raw", "ascii", "quoted", "msgpack", "hex")

# -- rendering received messages -------------------------------------------------------------

# C's isprint() in the "C" locale (nanocat never calls setlocale): 0x20 to 0x7e.
_PRINTABLE = range(0x20, 0x7F)
_ASCII_TABLE = bytes(b if b in _PRINTABLE else ord(".") for b in range(256))
_HEX_TABLE = [b"\\x%02x" % b for b in range(256)]
_QUOTED_TABLE = [bytes([b]) if b in _PRINTABLE else b"\\x%02x" % b for b in range(256)]
_QUOTED_TABLE[ord("\n")] = b"\\n"
_QUOTED_TABLE[ord("\r")] = b"\\r"
_QUOTED_TABLE[ord("\\")] = b"\\\\"
_QUOTED_TABLE[ord('"')] = b'\\"'


def format_message(fmt: str, message: bytes) -> bytes:
    """The bytes nanocat prints for one received ``message`` in format ``fmt``
    (one of :data:`FORMATS`).

    ``raw``: the message itself, no delimiter. ``ascii``: printable ASCII kept, every other
    byte a ``.``, then a newline. ``quoted``: in double quotes, ``\\n \\r \\\\ \\"`` escaped,
    other unprintable bytes as ``\\xNN``, then a newline. ``hex``: every byte as ``\\xNN`` in
    double quotes, then a newline. ``msgpack``: a msgpack ``bin`` object (header ``c4``, ``c5``
    or ``c6`` and the big-endian length). ``no``: nothing.
    """
    if fmt == "no":
        return b""
    if fmt == "raw":
        return bytes(message)
    if fmt == "ascii":
        return bytes(message).translate(_ASCII_TABLE) + b"\n"
    if fmt == "quoted":
        return b'"' + b"".join([_QUOTED_TABLE[b] for b in message]) + b'"\n'
    if fmt == "hex":
        return b'"' + b"".join([_HEX_TABLE[b] for b in message]) + b'"\n'
    if fmt == "msgpack":
        n = len(message)
        if n < 0x100:
            head = b"\xc4" + n.to_bytes(1, "big")
        elif n < 0x10000:
            head = b"\xc5" + n.to_bytes(2, "big")
        else:
            head = b"\xc6" + (n & 0xFFFFFFFF).to_bytes(4, "big")
        return head + bytes(message)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def emit(stream: TextIO | None, data: bytes) -> None:
    """Writes ``data`` to ``stream`` (sys.stdout or sys.stderr) byte for byte, and flushes it,
    as nanocat flushes after every message."""
    if stream is None:
        return
    stream.flush()
    buffer: BinaryIO | None = getattr(stream, "buffer", None)
    if buffer is None:  # a replaced stream without bytes underneath
        stream.write(data.decode("utf-8", "surrogateescape"))
        stream.flush()
    else:
        buffer.write(data)
        buffer.flush()


def stderr(text: str) -> None:
    """Writes ``text`` to stderr; command-line bytes in it come back unchanged."""
    emit(sys.stderr, os.fsencode(text))
