"""nncat's command line, parsed as nanocat 1.1.5's ``options.c`` parses it: the options in
its order (the order of ``--help`` and of its messages), long ones abbreviated, short ones
grouped, every error message and exit status; and the numbers as nanocat computes them
(C ``float`` and ``int``)."""

from __future__ import annotations

import enum
import math
import os
import re
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from .formats import FORMATS, emit, stderr

__all__ = ["Exit", "Options", "c_int", "millis", "parse", "parse_args", "parse_float", "wrap32"]

_DESCRIPTION = "A command-line interface to nanomsg"

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


def parse_float(text: str) -> float | None:
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


def c_int(value: float) -> int:
    """C's ``(int)`` of a float on x86-64: truncation, and INT_MIN when out of range."""
    if math.isnan(value) or not -(2.0**31) - 1 < value < 2.0**31:
        return _INT_MIN
    return int(value)


def wrap32(value: int) -> int:
    """``value`` wrapped to a C ``int``, as an overflowing multiplication leaves it."""
    return (value + 2**31) % 2**32 - 2**31


def millis(seconds: float) -> int:
    """``(int)(seconds * 1000)`` with ``seconds`` a C float: what nanocat does for the
    interval, the delay, the send timeout and the receive timeout within an interval."""
    return c_int(_f32(seconds * 1000))


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
class _CliOption:
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
    # nncat's own options (TLS): parsed as nanocat parses its own, left out of --help, which
    # stays nanocat's, word for word (docs/nncat.rst lists them)
    hidden: bool = False

    @property
    def has_arg(self) -> bool:
        return self.kind not in _NO_ARG


def _socket_type(name: str, provides: int, requires: int = 0) -> _CliOption:
    return _CliOption(
        name, "", _Kind.SET, "socket_type", "Socket Types", f"Use NN_{name.upper()} socket type",
        value=name, provides=provides, conflicts=_SOCK, requires=requires, arg0=f"nn_{name}",
    )  # fmt: skip


def _echo(name: str, short: str, help: str) -> _CliOption:
    return _CliOption(
        name, short, _Kind.SET, "echo", "Input Options", help, value=name, requires=_READABLE
    )


_RW = _SOCK | _WRITEABLE | _READABLE
_SOCK_OPTS = "Socket Options"

# nanocat's options, in its order (the order of --help and of its error messages).
_OPTIONS: tuple[_CliOption, ...] = (
    _CliOption("verbose", "v", _Kind.INCREMENT, "verbose", "Generic",
            "Increase verbosity of the nanocat"),
    _CliOption("silent", "q", _Kind.DECREMENT, "verbose", "Generic",
            "Decrease verbosity of the nanocat"),
    _CliOption("help", "h", _Kind.HELP, "", "Generic", "This help text"),
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
    _CliOption("bind", "", _Kind.APPEND, "bind", _SOCK_OPTS, "Bind socket to the address ADDR",
            "ADDR", provides=_ENDPOINT),
    _CliOption("connect", "", _Kind.APPEND, "connect", _SOCK_OPTS,
            "Connect socket to the address ADDR", "ADDR", provides=_ENDPOINT),
    _CliOption("bind-ipc", "X", _Kind.APPEND_FMT, "bind", _SOCK_OPTS,
            'Bind socket to the ipc address "ipc://PATH".', "PATH", "ipc://%s",
            provides=_ENDPOINT),
    _CliOption("connect-ipc", "x", _Kind.APPEND_FMT, "connect", _SOCK_OPTS,
            'Connect socket to the ipc address "ipc://PATH".', "PATH", "ipc://%s",
            provides=_ENDPOINT),
    _CliOption("bind-local", "L", _Kind.APPEND_FMT, "bind", _SOCK_OPTS,
            'Bind socket to the tcp address "tcp://127.0.0.1:PORT".', "PORT",
            "tcp://127.0.0.1:%s", provides=_ENDPOINT),
    _CliOption("connect-local", "l", _Kind.APPEND_FMT, "connect", _SOCK_OPTS,
            'Connect socket to the tcp address "tcp://127.0.0.1:PORT".', "PORT",
            "tcp://127.0.0.1:%s", provides=_ENDPOINT),
    _CliOption("recv-timeout", "", _Kind.FLOAT, "recv_timeout", _SOCK_OPTS,
            "Set timeout for receiving a message", "SEC", requires=_READABLE),
    _CliOption("send-timeout", "", _Kind.FLOAT, "send_timeout", _SOCK_OPTS,
            "Set timeout for sending a message", "SEC", requires=_WRITEABLE),
    _CliOption("socket-name", "", _Kind.STRING, "socket_name", _SOCK_OPTS,
            "Name of the socket for statistics", "NAME"),
    _CliOption("subscribe", "", _Kind.APPEND, "subscriptions", "SUB Socket Options",
            "Subscribe to the prefix PREFIX. Note: socket will be subscribed to everything "
            "(empty prefix) if no prefixes are specified on the command-line.", "PREFIX",
            requires=_SOCK_SUB),
    _CliOption("format", "", _Kind.ENUM, "echo", "Input Options",
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
    _CliOption("interval", "i", _Kind.FLOAT, "interval", "Output Options",
            "Send message (or request) every SEC seconds", "SEC", requires=_WRITEABLE),
    _CliOption("delay", "d", _Kind.FLOAT, "delay", "Output Options",
            "Wait for SEC seconds before sending message (useful for one-shot PUB sockets)",
            "SEC"),
    _CliOption("data", "D", _Kind.BLOB, "data", "Output Options",
            "Send DATA to the socket and quit for PUB, PUSH, PAIR, BUS socket. Use DATA to "
            "reply for REP or  RESPONDENT socket. Send DATA as request for REQ or SURVEYOR "
            "socket.", "DATA", provides=_DATA, conflicts=_DATA, requires=_WRITEABLE),
    _CliOption("file", "F", _Kind.READ_FILE, "data", "Output Options",
            "Same as --data but get data from file PATH", "PATH", provides=_DATA,
            conflicts=_DATA, requires=_WRITEABLE),
    # nngcat's TLS options, under nngcat's names with "tls-" in front
    _CliOption("tls-cert", "", _Kind.STRING, "tls_cert", "TLS Options",
            "This end's certificate (PEM; with its key, unless --tls-key)", "FILE",
            hidden=True),
    _CliOption("tls-key", "", _Kind.STRING, "tls_key", "TLS Options",
            "The key of --tls-cert (PEM)", "FILE", hidden=True),
    _CliOption("tls-cacert", "", _Kind.STRING, "tls_cacert", "TLS Options",
            "The CA certificates that check the peer (PEM)", "FILE", hidden=True),
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
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_cacert: str | None = None


class Exit(Exception):
    """Ends nncat with this status (the message, if any, is already on stderr)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


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
    shown = [o for o in _OPTIONS if not o.hidden]
    required = [o for o in shown if o.provides & _REQUIRED]
    if required:
        out.append("{" + "|".join(f"--{o.long}" for o in required) + "} ")
    flags = "".join(
        o.short for o in shown if o.short and not o.has_arg and not o.provides & _REQUIRED
    )
    if flags:
        out.append(f"[-{flags}] ")
    for o in shown:
        if o.short and o.has_arg and o.metavar and not o.provides & _REQUIRED:
            out.append(f"[-{o.short} {o.metavar}] ")
    out.append("[options] \n")
    out.append(f"\n{_DESCRIPTION}\n")
    group = None
    for o in shown:
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
        stderr(text)
        raise Exit(status)

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
            emit(sys.stdout, os.fsencode(_help_text(self.prog)))
            raise Exit(0)
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
            setattr(o, opt.dest, value)
        elif opt.kind is _Kind.BLOB:
            o.data = os.fsencode(value)
        elif opt.kind is _Kind.FLOAT:
            number = parse_float(value)
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


def parse(args: Sequence[str], prog: str = "nncat", arg0: str | None = None) -> Options:
    """Parses nanocat's command line (without the program name), as nanocat does: prints
    nanocat's message and raises :class:`Exit` on a bad command line (status 1) or an
    unreadable ``--file`` (status 2); ``--help`` prints the help and raises ``Exit(0)``.
    ``arg0`` is the name nncat was started as: ``nn_pull`` and the like imply ``--pull``."""
    return _Parser(prog, args).parse(arg0)


def parse_args(args: Sequence[str], prog: str = "nncat", arg0: str | None = None) -> Options:
    """Parses nanocat's command line (without the program name), as nanocat does.

    Prints nanocat's message and raises ``SystemExit`` on a bad command line (status 1) or an
    unreadable ``--file`` (status 2); ``--help`` prints the help and raises ``SystemExit(0)``.
    ``arg0`` is the name nncat was started as: ``nn_pull`` and the like imply ``--pull``.
    """
    try:
        return parse(args, prog, arg0)
    except Exit as e:
        raise SystemExit(e.status) from None
