"""``nncat``: nanocat, the command-line tool that ships with nanomsg, in Python.

nncat takes the same options as nanocat 1.1.5 (the long ones may be abbreviated, short ones
grouped as in ``-vA``), prints the same bytes for the same messages in every format, fails with
the same messages and exit statuses, and talks to nanocat over every transport. Run
``nncat --help`` for the list of options, or read nanocat's manual.

Exit statuses, as nanocat's: 0 when done (a one-shot send is sent, or a receive timed out),
1 for a bad command line, 2 when ``--file`` cannot be read, 3 when nanomsg refuses something
(``Can't bind: Address already in use``). Ctrl-C ends nncat with status 130, a closed stdout
(``nncat ... | head -1``) quietly with 141, as nanocat's SIGPIPE does. Messages name the program
as nanocat's name it: ``nncat``, or the name nncat was started as; started as ``nn_pull`` (a
link), it acts as if given ``--pull``, as nanocat does.

Where nanocat crashes or hangs, nncat does the sensible thing instead: an empty ``--file``
sends an empty message (nanocat fails an assertion) and a ``--file`` that is a directory is
an error (nanocat loops forever). A negative ``--delay`` fails as in nanocat (status 134 and
the same last line), without a core dump.
"""

from __future__ import annotations

import enum
import math
import os
import re
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, NoReturn, TextIO

from ._errors import Again, BadState, NanomsgError, Timeout
from ._native import SOCKET_NAME, SOL_SOCKET
from ._socket import Socket

__all__ = ["FORMATS", "Options", "format_message", "main", "parse_args"]

#: The names ``--format`` accepts, in nanocat's order ("no" prints nothing, the default).
FORMATS = ("no", "raw", "ascii", "quoted", "msgpack", "hex")

_DESCRIPTION = "A command-line interface to nanomsg"

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


# -- numbers as nanocat computes them (C float and int) ----------------------------------------

# What strtof() accepts, all of it (nanocat rejects anything left over, even a space).
_FLOAT_RE = re.compile(
    r"""[ \t\n\v\f\r]*(?P<sign>[+-]?)(?:
        (?P<dec>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
      | (?P<hex>0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)
      | (?P<inf>(?i:inf(?:inity)?))
      | (?P<nan>(?i:nan)(?:\([0-9A-Za-z_]*\))?)
    )""",
    re.VERBOSE | re.ASCII,
)


def _f32(value: float) -> float:
    """``value`` rounded to a C ``float``."""
    try:
        result: float = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)
    return result


def _parse_float(text: str) -> float | None:
    """``text`` as strtof() reads it, or None where nanocat says "requires float point"."""
    m = _FLOAT_RE.fullmatch(text)
    if m is None:
        return None
    sign = m["sign"]
    if m["dec"] is not None:
        value = float(sign + m["dec"])
    elif m["hex"] is not None:
        value = float.fromhex(sign + m["hex"])
    elif m["inf"] is not None:
        value = -math.inf if sign == "-" else math.inf
    else:
        value = math.nan
    return _f32(value)


_INT_MIN = -(2**31)


def _c_int(value: float) -> int:
    """C's ``(int)`` of a float on x86-64: truncation, and INT_MIN when out of range."""
    if math.isnan(value) or not -(2.0**31) - 1 < value < 2.0**31:
        return _INT_MIN
    return int(value)


def _wrap32(value: int) -> int:
    """``value`` wrapped to a C ``int``, as an overflowing multiplication leaves it."""
    return (value + 2**31) % 2**32 - 2**31


def _millis(seconds: float) -> int:
    """``(int)(seconds * 1000)`` with ``seconds`` a C float: what nanocat does for the
    interval, the delay, the send timeout and the receive timeout within an interval."""
    return _c_int(_f32(seconds * 1000))


# -- the command line --------------------------------------------------------------------------

_SOCK = 1
_WRITEABLE = 2
_READABLE = 4
_SOCK_SUB = 8
_DATA = 16
_ENDPOINT = 32
_REQUIRED = _SOCK | _ENDPOINT


class _Kind(enum.Enum):
    INCREMENT = enum.auto()  # -v
    DECREMENT = enum.auto()  # -q
    HELP = enum.auto()
    SET = enum.auto()  # a flag that stores a fixed value (--pull, --ascii)
    ENUM = enum.auto()  # --format NAME
    STRING = enum.auto()
    BLOB = enum.auto()  # --data
    FLOAT = enum.auto()
    APPEND = enum.auto()  # --bind, --subscribe
    APPEND_FMT = enum.auto()  # --bind-local PORT: appends a formatted address
    READ_FILE = enum.auto()  # --file


_NO_ARG = (_Kind.INCREMENT, _Kind.DECREMENT, _Kind.HELP, _Kind.SET)


@dataclass(frozen=True)
class _Option:
    long: str
    short: str
    kind: _Kind
    dest: str
    group: str
    help: str
    metavar: str | None = None
    value: str = ""  # SET: the value stored; APPEND_FMT: the format
    provides: int = 0
    conflicts: int = 0
    requires: int = 0
    arg0: str | None = None  # nanocat acts as --pull when started as "nn_pull"

    @property
    def has_arg(self) -> bool:
        return self.kind not in _NO_ARG


def _socket_type(name: str, provides: int, requires: int = 0) -> _Option:
    return _Option(
        name, "", _Kind.SET, "socket_type", "Socket Types", f"Use NN_{name.upper()} socket type",
        value=name, provides=provides, conflicts=_SOCK, requires=requires, arg0=f"nn_{name}",
    )  # fmt: skip


def _echo(name: str, short: str, help: str) -> _Option:
    return _Option(
        name, short, _Kind.SET, "echo", "Input Options", help, value=name, requires=_READABLE
    )


_RW = _SOCK | _WRITEABLE | _READABLE
_SOCK_OPTS = "Socket Options"

# nanocat's options, in its order (the order of --help and of its error messages).
_OPTIONS: tuple[_Option, ...] = (
    _Option("verbose", "v", _Kind.INCREMENT, "verbose", "Generic",
            "Increase verbosity of the nanocat"),
    _Option("silent", "q", _Kind.DECREMENT, "verbose", "Generic",
            "Decrease verbosity of the nanocat"),
    _Option("help", "h", _Kind.HELP, "", "Generic", "This help text"),
    _socket_type("push", _SOCK | _WRITEABLE, requires=_DATA),
    _socket_type("pull", _SOCK | _READABLE),
    _socket_type("pub", _SOCK | _WRITEABLE, requires=_DATA),
    _socket_type("sub", _SOCK | _READABLE | _SOCK_SUB),
    _socket_type("req", _RW, requires=_DATA),
    _socket_type("rep", _RW),
    _socket_type("surveyor", _RW, requires=_DATA),
    _socket_type("respondent", _RW),
    _socket_type("bus", _RW),
    _socket_type("pair", _RW),
    _Option("bind", "", _Kind.APPEND, "bind", _SOCK_OPTS, "Bind socket to the address ADDR",
            "ADDR", provides=_ENDPOINT),
    _Option("connect", "", _Kind.APPEND, "connect", _SOCK_OPTS,
            "Connect socket to the address ADDR", "ADDR", provides=_ENDPOINT),
    _Option("bind-ipc", "X", _Kind.APPEND_FMT, "bind", _SOCK_OPTS,
            'Bind socket to the ipc address "ipc://PATH".', "PATH", "ipc://%s",
            provides=_ENDPOINT),
    _Option("connect-ipc", "x", _Kind.APPEND_FMT, "connect", _SOCK_OPTS,
            'Connect socket to the ipc address "ipc://PATH".', "PATH", "ipc://%s",
            provides=_ENDPOINT),
    _Option("bind-local", "L", _Kind.APPEND_FMT, "bind", _SOCK_OPTS,
            'Bind socket to the tcp address "tcp://127.0.0.1:PORT".', "PORT",
            "tcp://127.0.0.1:%s", provides=_ENDPOINT),
    _Option("connect-local", "l", _Kind.APPEND_FMT, "connect", _SOCK_OPTS,
            'Connect socket to the tcp address "tcp://127.0.0.1:PORT".', "PORT",
            "tcp://127.0.0.1:%s", provides=_ENDPOINT),
    _Option("recv-timeout", "", _Kind.FLOAT, "recv_timeout", _SOCK_OPTS,
            "Set timeout for receiving a message", "SEC", requires=_READABLE),
    _Option("send-timeout", "", _Kind.FLOAT, "send_timeout", _SOCK_OPTS,
            "Set timeout for sending a message", "SEC", requires=_WRITEABLE),
    _Option("socket-name", "", _Kind.STRING, "socket_name", _SOCK_OPTS,
            "Name of the socket for statistics", "NAME"),
    _Option("subscribe", "", _Kind.APPEND, "subscriptions", "SUB Socket Options",
            "Subscribe to the prefix PREFIX. Note: socket will be subscribed to everything "
            "(empty prefix) if no prefixes are specified on the command-line.", "PREFIX",
            requires=_SOCK_SUB),
    _Option("format", "", _Kind.ENUM, "echo", "Input Options",
            "Use echo format FORMAT (same as the options below)", "FORMAT",
            requires=_READABLE),
    _echo("raw", "", "Dump message as is (Note: no delimiters are printed)"),
    _echo("ascii", "A", "Print ASCII part of message delimited by newline. All non-ascii "
          "characters replaced by dot."),
    _echo("quoted", "Q", "Print each message on separate line in double quotes with C-like "
          "character escaping"),
    _echo("msgpack", "", "Print each message as msgpacked string (raw type). This is useful "
          "for programmatic parsing."),
    _echo("hex", "", "Print each message on separate line in double quotes with hex values"),
    _Option("interval", "i", _Kind.FLOAT, "interval", "Output Options",
            "Send message (or request) every SEC seconds", "SEC", requires=_WRITEABLE),
    _Option("delay", "d", _Kind.FLOAT, "delay", "Output Options",
            "Wait for SEC seconds before sending message (useful for one-shot PUB sockets)",
            "SEC"),
    _Option("data", "D", _Kind.BLOB, "data", "Output Options",
            "Send DATA to the socket and quit for PUB, PUSH, PAIR, BUS socket. Use DATA to "
            "reply for REP or  RESPONDENT socket. Send DATA as request for REQ or SURVEYOR "
            "socket.", "DATA", provides=_DATA, conflicts=_DATA, requires=_WRITEABLE),
    _Option("file", "F", _Kind.READ_FILE, "data", "Output Options",
            "Same as --data but get data from file PATH", "PATH", provides=_DATA,
            conflicts=_DATA, requires=_WRITEABLE),
)  # fmt: skip


@dataclass
class Options:
    """What the command line asks for (nanocat's defaults)."""

    verbose: int = 0
    socket_type: str = ""
    bind: list[str] = field(default_factory=list)
    connect: list[str] = field(default_factory=list)
    send_timeout: float = -1.0
    recv_timeout: float = -1.0
    subscriptions: list[str] = field(default_factory=list)
    socket_name: str | None = None
    delay: float = 0.0
    interval: float = -1.0
    data: bytes | None = None
    echo: str = "no"


class _Exit(Exception):
    """Ends nncat with this status (the message, if any, is already on stderr)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _emit(stream: TextIO | None, data: bytes) -> None:
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


def _stderr(text: str) -> None:
    """Writes ``text`` to stderr; command-line bytes in it come back unchanged."""
    _emit(sys.stderr, os.fsencode(text))


def _fatal(what: str, error: OSError) -> NoReturn:
    """nanocat's ``nn_assert_errno``: ``what: strerror`` on stderr, status 3."""
    _stderr(f"{what}: {error.strerror}\n")
    raise _Exit(3)


def _print_line(text: str, width: int) -> tuple[str, str]:
    """One line of a help paragraph: (printed part, rest), breaking at the last space."""
    if len(text) < width:
        return text, ""
    for i in range(min(width, len(text) - 1), 1, -1):
        if text[i] in " \t\n\v\f\r":
            return text[:i], text[i + 1 :]
    return text, ""


def _help_text(prog: str) -> str:
    out = ["Usage:\n", f"    {prog} "]
    required = [o for o in _OPTIONS if o.provides & _REQUIRED]
    if required:
        out.append("{" + "|".join(f"--{o.long}" for o in required) + "} ")
    flags = "".join(
        o.short for o in _OPTIONS if o.short and not o.has_arg and not o.provides & _REQUIRED
    )
    if flags:
        out.append(f"[-{flags}] ")
    for o in _OPTIONS:
        if o.short and o.has_arg and o.metavar and not o.provides & _REQUIRED:
            out.append(f"[-{o.short} {o.metavar}] ")
    out.append("[options] \n")
    out.append(f"\n{_DESCRIPTION}\n")
    group = None
    for o in _OPTIONS:
        if o.group != group:
            out.append(f"\n{o.group}:\n")
            group = o.group
        head = f" --{o.long}"
        if o.short:
            head += f",-{o.short}"
        if o.has_arg:
            head += f" {o.metavar or 'ARG'}"
        out.append(head)
        rest = o.help
        if len(head) < 23:
            line, rest = _print_line(rest, 80 - 24)
            out.append(" " * (24 - len(head)) + line)
        while rest:
            line, rest = _print_line(rest, 80 - 24)
            out.append("\n" + " " * 24 + line)
        out.append("\n")
    return "".join(out)


class _Parser:
    """nanocat's option parser: every error message and exit status of its ``options.c``."""

    def __init__(self, prog: str, args: Sequence[str]) -> None:
        self.prog = prog
        self.args = list(args)
        self.pos = 0
        self.mask = 0
        self.usage: dict[int, str] = {}  # option index -> how it was last written
        self.short_usage: set[int] = set()
        self.options = Options()

    # -- messages --------------------------------------------------------------------------
    def _shown(self, index: int) -> str:
        """An option as nanocat shows it in a message: ``' --name '``, ``' -D (--data) '``."""
        opt = _OPTIONS[index]
        used = self.usage[index]
        if index in self.short_usage:
            return f" -{used} (--{opt.long}) "
        if not used.startswith("-"):
            return f" {used} (executable) "
        olen = used.find("=")
        if olen < 0:
            olen = len(used)
        if olen != len(opt.long) + 2:
            return f" {used[:olen]}[{opt.long[olen - 2 :]}] "
        return f" {used} "

    def _fail(self, text: str, status: int = 1) -> NoReturn:
        _stderr(text)
        raise _Exit(status)

    def _option_error(self, message: str, index: int) -> NoReturn:
        self._fail(f"{self.prog}: Option{self._shown(index)}{message}\n")

    @staticmethod
    def _listing(mask: int) -> str:
        lines = []
        for opt in _OPTIONS:
            if opt.provides & mask:
                lines.append(f"    --{opt.long}\n")
                if opt.short:
                    lines.append(f"    -{opt.short}\n")
        return "".join(lines)

    # -- parsing ---------------------------------------------------------------------------
    def parse(self, arg0: str | None = None) -> Options:
        """Parses every argument, then checks what the options require of each other."""
        if arg0 is not None:
            for i, opt in enumerate(_OPTIONS):
                if opt.arg0 == arg0:
                    self.usage[i] = arg0
                    self._process(i, None)
        while self.pos < len(self.args):
            arg = self.args[self.pos]
            self.pos += 1
            if not arg.startswith("-"):
                self._fail(f"{self.prog}: Unexpected argument ``{arg}''\n")
            if arg.startswith("--"):
                if arg != "--":  # a lone "--" is skipped, and parsing goes on
                    self._long(arg)
            else:
                self._shorts(arg)
        self._check_requires()
        return self.options

    def _next_arg(self) -> str | None:
        if self.pos >= len(self.args):
            return None
        self.pos += 1
        return self.args[self.pos - 1]

    def _long(self, arg: str) -> None:
        name, eq, value = arg[2:].partition("=")
        exact = [i for i, o in enumerate(_OPTIONS) if o.long == name]
        prefixed = [i for i, o in enumerate(_OPTIONS) if name and o.long.startswith(name)]
        if exact:
            index = exact[0]
        elif len(prefixed) == 1:
            index = prefixed[0]
        elif prefixed:
            names = "".join(f"    {_OPTIONS[i].long}\n" for i in prefixed)
            self._fail(f"{self.prog}: Ambiguous option ``{arg}'':\n{names}")
        else:
            self._fail(f"{self.prog}: Unknown option ``{arg}''\n")
        opt = _OPTIONS[index]
        self.usage[index] = arg
        self.short_usage.discard(index)
        if eq:
            if not opt.has_arg:
                self._option_error("does not accept argument", index)
            self._process(index, value)
        elif opt.has_arg:
            following = self._next_arg()
            if following is None:
                self._option_error("requires an argument", index)
            self._process(index, following)
        else:
            self._process(index, None)

    def _shorts(self, arg: str) -> None:
        rest = arg[1:]
        while rest:
            char, rest = rest[0], rest[1:]
            index = next((i for i, o in enumerate(_OPTIONS) if o.short == char), None)
            if index is None:
                self._fail(f"{self.prog}: Unknown option ``-{char}''\n")
            self.usage[index] = char
            self.short_usage.add(index)
            if not _OPTIONS[index].has_arg:
                self._process(index, None)
                continue
            value = rest if rest else self._next_arg()
            if value is None:
                self._option_error("requires an argument", index)
            self._process(index, value)
            return

    def _process(self, index: int, value: str | None) -> None:
        opt = _OPTIONS[index]
        if self.mask & opt.conflicts:
            self._conflict(index)
        self.mask |= opt.provides
        o = self.options
        if opt.kind is _Kind.HELP:
            _emit(sys.stdout, os.fsencode(_help_text(self.prog)))
            raise _Exit(0)
        if opt.kind is _Kind.INCREMENT:
            o.verbose += 1
        elif opt.kind is _Kind.DECREMENT:
            o.verbose -= 1
        elif opt.kind is _Kind.SET:
            setattr(o, opt.dest, opt.value)
            return
        assert value is not None or not opt.has_arg
        if value is None:
            return
        if opt.kind is _Kind.ENUM:
            if value not in FORMATS:
                choices = "".join(f"    {name}\n" for name in FORMATS)
                self._fail(
                    f"{self.prog}: Invalid value ``{value}'' for{self._shown(index)}. "
                    f"Options are:\n{choices}"
                )
            o.echo = value
        elif opt.kind is _Kind.STRING:
            o.socket_name = value
        elif opt.kind is _Kind.BLOB:
            o.data = os.fsencode(value)
        elif opt.kind is _Kind.FLOAT:
            number = _parse_float(value)
            if number is None:
                self._option_error("requires float point argument", index)
            setattr(o, opt.dest, number)
        elif opt.kind is _Kind.APPEND:
            getattr(o, opt.dest).append(value)
        elif opt.kind is _Kind.APPEND_FMT:
            getattr(o, opt.dest).append(opt.value.replace("%s", value))
        elif opt.kind is _Kind.READ_FILE:
            o.data = self._read_file(value)

    def _read_file(self, path: str) -> bytes:
        if path == "-":
            stdin = getattr(sys.stdin, "buffer", None)
            return stdin.read() if stdin is not None else b""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as e:
            self._fail(f"Error opening file ``{path}'': {e.strerror}\n", 2)
        try:
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
        except OSError as e:
            self._fail(f"Error reading file ``{path}'': {e.strerror}\n", 2)
        finally:
            os.close(fd)
        return b"".join(chunks)

    def _conflict(self, index: int) -> NoReturn:
        mask = _OPTIONS[index].conflicts
        lines = [
            f"   {self._shown(i)}\n"
            for i, opt in enumerate(_OPTIONS)
            if i != index and i in self.usage and opt.provides & mask
        ]
        if not lines:
            lines = [f"   {self._shown(index)}\n"]
        self._fail(
            f"{self.prog}: Option{self._shown(index)}conflicts with the following options:\n"
            + "".join(lines)
        )

    def _check_requires(self) -> None:
        for i, opt in enumerate(_OPTIONS):
            if i in self.usage and opt.requires and opt.requires & self.mask != opt.requires:
                self._fail(
                    f"{self.prog}: Option{self._shown(i)}requires at least one of the "
                    f"following options:\n{self._listing(opt.requires)}"
                )
        missing = _REQUIRED & ~self.mask
        if missing:
            self._fail(
                f"{self.prog}: At least one of the following required:\n{self._listing(missing)}"
            )


def parse_args(args: Sequence[str], prog: str = "nncat", arg0: str | None = None) -> Options:
    """Parses nanocat's command line (without the program name), as nanocat does.

    Prints nanocat's message and raises ``SystemExit`` on a bad command line (status 1) or an
    unreadable ``--file`` (status 2); ``--help`` prints the help and raises ``SystemExit(0)``.
    ``arg0`` is the name nncat was started as: ``nn_pull`` and the like imply ``--pull``.
    """
    try:
        return _Parser(prog, args).parse(arg0)
    except _Exit as e:
        raise SystemExit(e.status) from None


# -- running -----------------------------------------------------------------------------------


class _Runner:
    """nanocat's main loops on one socket."""

    def __init__(self, options: Options, sock: Socket) -> None:
        self.o = options
        self.sock = sock
        self.data = options.data if options.data is not None else b""

    def show(self, message: bytes) -> None:
        if self.o.echo != "no":
            _emit(sys.stdout, format_message(self.o.echo, message))

    def send(self) -> None:
        try:
            self.sock.send(self.data)
        except Again:
            _stderr("Message not sent (EAGAIN)\n")
        except NanomsgError as e:
            _fatal("Can't send", e)

    def set_recv_timeout(self, millis: int) -> None:
        try:
            self.sock.rcvtimeo = millis
        except NanomsgError as e:
            _fatal("Can't set recv timeout", e)

    def send_loop(self) -> None:
        """PUB, PUSH: send once, or every interval."""
        interval = _millis(self.o.interval)
        while True:
            start = _now_ms()
            self.send()
            if interval < 0:
                return
            _sleep_ms(start + interval - _now_ms())

    def recv_loop(self) -> None:
        """Print every message until a receive times out (or REQ/SURVEYOR have no more)."""
        while True:
            try:
                message = self.sock.recv()
            except Again:
                continue
            except (Timeout, BadState):
                return
            except NanomsgError as e:
                _fatal("Can't recv", e)
            self.show(message)

    def rw_loop(self) -> None:
        """REQ, SURVEYOR, and BUS/PAIR with data: send, then print answers until the next
        send (or until answers stop, without an interval)."""
        interval = _millis(self.o.interval)
        recv_timeout = _millis(self.o.recv_timeout)
        while True:
            start = _now_ms()
            self.send()
            if self.o.interval < 0:
                self.recv_loop()
                return
            while True:
                left = start + interval - _now_ms()
                if left <= 0:
                    break
                if 0 <= recv_timeout < left:
                    left = recv_timeout
                self.set_recv_timeout(_wrap32(left))
                try:
                    message = self.sock.recv()
                except Again:
                    continue
                except (Timeout, BadState):
                    _sleep_ms(start + interval - _now_ms())
                    continue
                except NanomsgError as e:
                    _fatal("Can't recv", e)
                self.show(message)

    def resp_loop(self) -> None:
        """REP, RESPONDENT with data: answer every request with the data."""
        while True:
            try:
                message = self.sock.recv()
            except Again:
                continue
            except NanomsgError as e:
                _fatal("Can't recv", e)
            self.show(message)
            self.send()


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def _sleep_ms(millis: int) -> None:
    if millis > 0:
        time.sleep(millis / 1000)


def _setup(o: Options) -> Socket:
    try:
        sock = Socket(o.socket_type)
    except NanomsgError as e:
        _fatal("Can't create socket", e)
    try:
        if o.send_timeout >= 0:
            try:
                sock.sndtimeo = _millis(o.send_timeout)
            except NanomsgError as e:
                _fatal("Can't set send timeout", e)
        if o.recv_timeout >= 0:
            # nanocat truncates to whole seconds here: (int) seconds * 1000.
            try:
                sock.rcvtimeo = _wrap32(_c_int(o.recv_timeout) * 1000)
            except NanomsgError as e:
                _fatal("Can't set recv timeout", e)
        if o.socket_name is not None:
            try:
                sock.setsockopt(SOL_SOCKET, SOCKET_NAME, os.fsencode(o.socket_name))
            except NanomsgError as e:
                _fatal("Can't set socket name", e)
        if o.socket_type == "sub":
            for prefix in o.subscriptions or [""]:
                try:
                    sock.subscribe(os.fsencode(prefix))
                except NanomsgError as e:
                    _fatal("Can't subscribe", e)
        for what, addresses, method in (
            ("Can't bind", o.bind, sock.bind),
            ("Can't connect", o.connect, sock.connect),
        ):
            for address in addresses:
                try:
                    method(address)
                except NanomsgError as e:
                    _fatal(what, e)
                except UnicodeEncodeError:
                    # Not from a command line (argv keeps bytes that are not UTF-8 as
                    # surrogates, which bind and connect take back): a str given to main()
                    # with a surrogate that stands for no byte.
                    _stderr(f"{what}: Address is not valid UTF-8\n")
                    raise _Exit(3) from None
    except BaseException:
        sock.close()
        raise
    return sock


def _run(o: Options) -> None:
    with _setup(o) as sock:
        delay = _millis(o.delay)
        if delay < 0:  # nanocat's nn_sleep asserts on nanosleep's EINVAL and aborts
            _stderr("Invalid argument [22] (./tools/../src/utils/sleep.c:47)\n")
            raise _Exit(134)
        _sleep_ms(delay)
        run = _Runner(o, sock)
        kind = o.socket_type
        if kind in ("pub", "push"):
            run.send_loop()
        elif kind in ("sub", "pull"):
            run.recv_loop()
        elif kind in ("bus", "pair"):
            if o.data is not None:
                run.rw_loop()
            else:
                run.recv_loop()
        elif kind in ("surveyor", "req"):
            run.rw_loop()
        elif o.data is not None:  # rep, respondent: answer with the data
            run.resp_loop()
        else:  # rep, respondent without data: print the requests, never answer
            run.recv_loop()


def _program_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not name or name in ("__main__.py", "-c", "-m", "cli.py"):
        return "nncat"
    return name


def main(argv: list[str] | None = None) -> int:
    """Runs nncat with ``argv`` (the arguments after the program name; default
    ``sys.argv[1:]``) and returns the exit status: 0 done, 1 bad command line, 2 unreadable
    ``--file``, 3 a nanomsg error, 130 interrupted (Ctrl-C)."""
    prog = _program_name() if argv is None else "nncat"
    args = sys.argv[1:] if argv is None else argv
    try:
        options = _Parser(prog, args).parse(prog if argv is None else None)
        _run(options)
    except _Exit as e:
        return e.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # stdout was closed (``nncat ... | head -1``): end quietly, as nanocat does on SIGPIPE,
        # and keep Python from complaining when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
        return 141
    return 0
