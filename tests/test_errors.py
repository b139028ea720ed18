"""The exception hierarchy, the errno and text of real errors, nn.strerror, and wrong
argument types (TypeError, never a crash)."""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from support import NNG, AddrFactory, SockFactory, per_backend

import nanomsg_rs as nn

ALL_ERRORS = [
    nn.Again,
    nn.Timeout,
    nn.Closed,
    nn.Terminated,
    nn.BadState,
    nn.InvalidArgument,
    nn.AddressInUse,
    nn.NotSupported,
]

EXTRA_BASES: dict[type[nn.NanomsgError], type[BaseException] | None] = {
    nn.Again: BlockingIOError,
    nn.Timeout: TimeoutError,
    nn.InvalidArgument: ValueError,
    nn.Closed: None,
    nn.Terminated: None,
    nn.BadState: None,
    nn.AddressInUse: None,
    nn.NotSupported: None,
}

# Built-in exception classes that only the classes named above may also be.
BUILTIN_BASES = [BlockingIOError, TimeoutError, ValueError]


# -- the hierarchy --------------------------------------------------------------------------


def test_nanomsg_error_is_os_error() -> None:
    assert issubclass(nn.NanomsgError, OSError)
    assert issubclass(nn.NanomsgError, Exception)


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_is_a_nanomsg_error(cls: type[nn.NanomsgError]) -> None:
    assert issubclass(cls, nn.NanomsgError)
    assert issubclass(cls, OSError)
    assert cls is not nn.NanomsgError


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_extra_bases(cls: type[nn.NanomsgError]) -> None:
    extra = EXTRA_BASES[cls]
    for base in BUILTIN_BASES:
        assert issubclass(cls, base) == (base is extra), (cls, base)


def test_error_classes_are_distinct() -> None:
    for a in ALL_ERRORS:
        for b in ALL_ERRORS:
            if a is not b:
                assert not issubclass(a, b), (a, b)


def test_exported_names() -> None:
    for name in (
        "NanomsgError",
        "Again",
        "Timeout",
        "Closed",
        "Terminated",
        "BadState",
        "InvalidArgument",
        "AddressInUse",
        "NotSupported",
    ):
        assert name in nn.__all__
        assert isinstance(getattr(nn, name), type)


# -- real errors: class, errno, text --------------------------------------------------------


def check_raises(
    call: Callable[[], object], cls: type[nn.NanomsgError], code: int, number: int | None = None
) -> nn.NanomsgError:
    """``call()`` raises ``cls`` itself, with errno ``code``, its strerror and a message that
    names the socket (``number``: the socket's number, where it is closed by now, else its
    ``fd``). Returns the exception."""
    with pytest.raises(cls) as info:
        call()
    exc = info.value
    assert type(exc) is cls
    assert isinstance(exc, nn.NanomsgError)
    assert isinstance(exc, OSError)
    assert exc.errno == code
    assert exc.strerror == nn.strerror(code)
    assert exc.strerror
    # The message is a sentence of its own (test_error_messages.py has them word for word) that
    # names the socket; libnanomsg's text stays in strerror.
    assert exc.socket is not None
    assert f" socket {exc.socket.fd if number is None else number}: " in str(exc)
    return exc


def test_again(sock: SockFactory) -> None:
    s = sock("pair")
    check_raises(lambda: s.recv(block=False), nn.Again, errno.EAGAIN)
    with pytest.raises(BlockingIOError):
        s.send(b"x", block=False)


def test_timeout(sock: SockFactory) -> None:
    s = sock("pull")
    s.rcvtimeo = 50
    check_raises(s.recv, nn.Timeout, errno.ETIMEDOUT)
    with pytest.raises(TimeoutError):
        s.recv()


def test_closed() -> None:
    s = nn.Socket("pair")
    number = s.fd
    s.close()
    check_raises(s.recv, nn.Closed, errno.EBADF, number)


def test_bad_state(sock: SockFactory) -> None:
    s = sock("req")
    s.rcvtimeo = 100
    error = check_raises(s.recv, nn.BadState, nn.EFSM)
    # EFSM is not a POSIX code: each library numbers it in its own private range.
    assert error.errno == per_backend(nanomsg=156384766, nng=0x10000000 + 30)


# The malformed addresses that nng takes (see below).
NNG_ACCEPTS = {
    ("bind", "tcp://127.0.0.1"),
    ("connect", "tcp://127.0.0.1:99999"),
    ("connect", "tcp://127.0.0.1:-1"),
    ("connect", "ws://127.0.0.1:notaport"),
}


@pytest.mark.parametrize(
    "address",
    [
        "",
        "foo",
        "tcp://",
        "tcp://127.0.0.1",
        "tcp://127.0.0.1:99999",
        "tcp://127.0.0.1:-1",
        "tcp://*:",
        "ws://127.0.0.1:notaport",
    ],
)
@pytest.mark.parametrize("method", ["bind", "connect"])
def test_malformed_address_is_invalid_argument(
    sock: SockFactory, address: str, method: str
) -> None:
    s = sock("pair")
    if NNG and (method, address) in NNG_ACCEPTS:
        # nng binds "tcp://127.0.0.1" to a port of its choice, and checks the port of a
        # connect only when it dials, in the background (a bad one never connects).
        assert isinstance(getattr(s, method)(address), nn.Endpoint)
        return
    check_raises(lambda: getattr(s, method)(address), nn.InvalidArgument, errno.EINVAL)
    with pytest.raises(ValueError):
        getattr(s, method)(address)


@pytest.mark.parametrize(
    "address", ["xyz://a", "udp://127.0.0.1:5000", "zmq://x", "TCP://127.0.0.1:5555"]
)
@pytest.mark.parametrize("method", ["bind", "connect"])
def test_unknown_transport_is_not_supported(sock: SockFactory, address: str, method: str) -> None:
    s = sock("pair")
    if NNG and address.startswith("TCP://"):
        # nng reads URL schemes case-insensitively: this is its tcp transport.
        try:
            assert isinstance(getattr(s, method)(address), nn.Endpoint)
        except nn.AddressInUse:
            pass  # somebody else has port 5555: still tcp
        return
    # EPROTONOSUPPORT on both (nng's own ENOTSUP is reported as libnanomsg's code).
    check_raises(lambda: getattr(s, method)(address), nn.NotSupported, errno.EPROTONOSUPPORT)


@pytest.mark.parametrize("transport", ["inproc", "ipc", "tcp", "ws"])
def test_address_in_use(sock: SockFactory, addr: AddrFactory, transport: str) -> None:
    address = addr(transport)
    sock("pair").bind(address)
    check_raises(lambda: sock("pair").bind(address), nn.AddressInUse, errno.EADDRINUSE)


@pytest.mark.parametrize(("protocol", "call"), [("sub", "send"), ("pull", "send")])
def test_send_on_receive_only_is_not_supported(sock: SockFactory, protocol: str, call: str) -> None:
    s = sock(protocol)
    s.sndtimeo = 100
    check_raises(lambda: s.send(b"x"), nn.NotSupported, errno.ENOTSUP)


@pytest.mark.parametrize("protocol", ["pub", "push"])
def test_recv_on_send_only_is_not_supported(sock: SockFactory, protocol: str) -> None:
    s = sock(protocol)
    s.rcvtimeo = 100
    check_raises(s.recv, nn.NotSupported, errno.ENOTSUP)


def test_other_errors_are_plain_nanomsg_error(sock: SockFactory) -> None:
    s = sock("pull")
    # No sndfd on a PULL: ENOPROTOOPT on both backends (nng's own ENOTSUP is reported so).
    check_raises(lambda: s.sndfd, nn.NanomsgError, errno.ENOPROTOOPT)
    if NNG:
        return  # nng takes inproc names of any length
    check_raises(lambda: s.bind("inproc://" + "x" * 200), nn.NanomsgError, errno.ENAMETOOLONG)


def test_args_are_errno_and_text(sock: SockFactory) -> None:
    s = sock("pair")
    with pytest.raises(nn.Again) as info:
        s.recv(block=False)
    assert info.value.args == (errno.EAGAIN, nn.strerror(errno.EAGAIN))


def test_errors_can_be_raised_and_caught_by_user_code() -> None:
    with pytest.raises(TimeoutError):
        raise nn.Timeout(errno.ETIMEDOUT, nn.strerror(errno.ETIMEDOUT))
    err = nn.InvalidArgument(errno.EINVAL, "bad")
    assert err.errno == errno.EINVAL
    assert err.strerror == "bad"


TERMINATE = """
import nanomsg_rs as nn
s = nn.Socket("pair")
nn.term()
for name, call in [
    ("recv", lambda: s.recv()),
    ("send", lambda: s.send(b"x")),
    ("new", lambda: nn.Socket("pair")),
]:
    try:
        call()
    except nn.Terminated as e:
        assert e.errno == nn.ETERM, e.errno
        assert e.strerror == nn.strerror(nn.ETERM), e.strerror
        print(name, "terminated")
    except Exception as e:
        print(name, type(e).__name__, e)
"""


def test_terminated_after_term() -> None:
    """nn.term() is for good, so it runs in a child process."""
    result = subprocess.run(
        [sys.executable, "-c", TERMINATE], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == [
        "recv terminated",
        "send terminated",
        "new terminated",
    ], result.stdout


# -- nn.strerror ----------------------------------------------------------------------------


def test_strerror_of_nanomsg_codes() -> None:
    # libnanomsg's texts, on nng as well (nng's nn_strerror says "Incorrect state" for EFSM
    # and knows no ETERM: "Unknown error 268435485").
    assert nn.strerror(nn.EFSM) == "Operation cannot be performed in this state"
    assert nn.strerror(nn.ETERM) == "Nanomsg library was terminated"


@pytest.mark.parametrize(
    "code",
    [errno.EINVAL, errno.EAGAIN, errno.EBADF, errno.ETIMEDOUT, errno.EADDRINUSE, errno.EMFILE],
)
def test_strerror_of_system_codes(code: int) -> None:
    """The system's text, as libnanomsg gives it; on nng as well (nng's own would say e.g.
    "Object closed" for EBADF), so a program reads the same messages on both backends."""
    assert nn.strerror(code) == os.strerror(code)


@pytest.mark.parametrize(
    "code",
    [
        errno.ENOPROTOOPT,  # an unknown option
        errno.EPROTONOSUPPORT,
        errno.ENAMETOOLONG,
        errno.ENOTSUP,
        errno.EINVAL,
        errno.EBADF,
        errno.EFAULT,
    ],
    ids=errno.errorcode.get,
)
def test_strerror_knows_every_code_the_library_raises(code: int) -> None:
    """An exception never says just "Unknown error 92": every code either library raises
    has a real text (nng's nn_strerror knows only the codes it maps from nng's own)."""
    text = nn.strerror(code)
    assert not text.startswith("Unknown error"), (code, text)


@pytest.mark.parametrize("code", [0, -1, 99999, 2**31 - 1, -(2**31)])
def test_strerror_of_any_int(code: int) -> None:
    text = nn.strerror(code)
    assert isinstance(text, str)
    assert text


@pytest.mark.parametrize("bad", [None, "22", 22.0, b"22", [22]])
def test_strerror_wrong_type(bad: Any) -> None:
    with pytest.raises(TypeError):
        nn.strerror(bad)


# -- wrong types to every public call -------------------------------------------------------

WRONG_TYPE_CALLS: dict[str, Callable[[nn.Socket], object]] = {
    "Socket(None)": lambda s: nn.Socket(None),  # type: ignore[arg-type]
    "Socket(1.5)": lambda s: nn.Socket(1.5),  # type: ignore[arg-type]
    "Socket(b'pair')": lambda s: nn.Socket(b"pair"),  # type: ignore[arg-type]
    "Socket(pair, 1.0)": lambda s: nn.Socket("pair", 1.0),  # type: ignore[arg-type]
    "Socket(pair, None)": lambda s: nn.Socket("pair", None),  # type: ignore[arg-type]
    "bind(None)": lambda s: s.bind(None),  # type: ignore[arg-type]
    "bind(bytearray)": lambda s: s.bind(bytearray(b"inproc://x")),  # type: ignore[arg-type]
    "bind(int)": lambda s: s.bind(5),  # type: ignore[arg-type]
    "connect(None)": lambda s: s.connect(None),  # type: ignore[arg-type]
    "connect(float)": lambda s: s.connect(1.5),  # type: ignore[arg-type]
    "shutdown(str)": lambda s: s.shutdown("1"),  # type: ignore[arg-type]
    "shutdown(None)": lambda s: s.shutdown(None),  # type: ignore[arg-type]
    "shutdown(float)": lambda s: s.shutdown(1.0),  # type: ignore[arg-type]
    "send(None)": lambda s: s.send(None),  # type: ignore[arg-type]
    "send(int)": lambda s: s.send(5),  # type: ignore[arg-type]
    "send(float)": lambda s: s.send(1.5),  # type: ignore[arg-type]
    "send(list)": lambda s: s.send([1, 2]),  # type: ignore[arg-type]
    "send(object)": lambda s: s.send(object()),  # type: ignore[arg-type]
    "send(block=str)": lambda s: s.send(b"x", block="no"),  # type: ignore[arg-type]
    "send(block=None)": lambda s: s.send(b"x", block=None),  # type: ignore[arg-type]
    "send positional block": lambda s: s.send(b"x", False),  # type: ignore[misc]
    "recv(block=None)": lambda s: s.recv(block=None),  # type: ignore[arg-type]
    "recv(block=str)": lambda s: s.recv(block="x"),  # type: ignore[arg-type]
    "recv positional": lambda s: s.recv(False),  # type: ignore[misc]
    "recv_into(bytes)": lambda s: s.recv_into(b"abc"),
    "recv_into(str)": lambda s: s.recv_into("abc"),  # type: ignore[arg-type]
    "recv_into(None)": lambda s: s.recv_into(None),  # type: ignore[arg-type]
    "recv_into(int)": lambda s: s.recv_into(5),  # type: ignore[arg-type]
    "recv_into(readonly memoryview)": lambda s: s.recv_into(memoryview(b"abc")),
    "recv_msg(block=None)": lambda s: s.recv_msg(block=None),  # type: ignore[arg-type]
    "send_msg(bytes)": lambda s: s.send_msg(b"abc"),  # type: ignore[arg-type]
    "send_msg(None)": lambda s: s.send_msg(None),  # type: ignore[arg-type]
    "Message(None)": lambda s: nn.Message(None),  # type: ignore[arg-type]
    "Message(float)": lambda s: nn.Message(1.5),  # type: ignore[arg-type]
    "getsockopt(str level)": lambda s: s.getsockopt("0", nn.LINGER),  # type: ignore[arg-type]
    "getsockopt(None option)": lambda s: s.getsockopt(0, None),  # type: ignore[arg-type]
    "getsockopt(type=float)": lambda s: s.getsockopt(0, nn.LINGER, float),  # type: ignore[arg-type]
    "getsockopt(type='int')": lambda s: s.getsockopt(0, nn.LINGER, "int"),  # type: ignore[arg-type]
    "setsockopt(float)": lambda s: s.setsockopt(0, nn.SNDBUF, 1.5),
    "setsockopt(None)": lambda s: s.setsockopt(0, nn.SNDBUF, None),
    "setsockopt(str level)": lambda s: s.setsockopt("0", nn.SNDBUF, 1),  # type: ignore[arg-type]
    "option int = str": lambda s: setattr(s, "sndbuf", "1"),
    "option int = float": lambda s: setattr(s, "rcvtimeo", 1.0),
    "option int = None": lambda s: setattr(s, "linger", None),
    "option bool = str": lambda s: setattr(s, "ipv4only", "yes"),
    "option str = int": lambda s: setattr(s, "socket_name", 5),
    "option str = bytes": lambda s: setattr(s, "socket_name", b"x"),
    "subscribe(int)": lambda s: s.subscribe(5),  # type: ignore[arg-type]
    "subscribe(None)": lambda s: s.subscribe(None),  # type: ignore[arg-type]
    "unsubscribe(int)": lambda s: s.unsubscribe(5),  # type: ignore[arg-type]
    "statistic(None)": lambda s: s.statistic(None),  # type: ignore[arg-type]
    "statistic(float)": lambda s: s.statistic(1.0),  # type: ignore[arg-type]
    "statistic(bytes)": lambda s: s.statistic(b"messages-sent"),  # type: ignore[arg-type]
    "poll(None)": lambda s: nn.poll(None),  # type: ignore[arg-type]
    "poll(int)": lambda s: nn.poll(5),  # type: ignore[arg-type]
    "poll([(int, int)])": lambda s: nn.poll([(5, nn.POLLIN)], 0),  # type: ignore[list-item]
    "poll([socket])": lambda s: nn.poll([s], 0),  # type: ignore[list-item]
    "poll(events=str)": lambda s: nn.poll([(s, "in")], 0),  # type: ignore[list-item]
    "poll(events=float)": lambda s: nn.poll([(s, 1.0)], 0),  # type: ignore[list-item]
    "poll(timeout=str)": lambda s: nn.poll([(s, nn.POLLIN)], "0"),  # type: ignore[arg-type]
    "poll(timeout=float)": lambda s: nn.poll([(s, nn.POLLIN)], 0.5),  # type: ignore[arg-type]
    "device(None)": lambda s: nn.device(None),  # type: ignore[arg-type]
    "device(int)": lambda s: nn.device(5),  # type: ignore[arg-type]
    "device(socket, int)": lambda s: nn.device(s, 5),  # type: ignore[arg-type]
    "strerror(None)": lambda s: nn.strerror(None),  # type: ignore[arg-type]
    "strerror(str)": lambda s: nn.strerror("22"),  # type: ignore[arg-type]
    "term(arg)": lambda s: nn.term(1),  # type: ignore[call-arg]
    "symbols(arg)": lambda s: nn.symbols(1),  # type: ignore[call-arg]
    "close(arg)": lambda s: s.close(1),  # type: ignore[call-arg]
}


def _run(coro: Any) -> object:
    return asyncio.run(coro)


WRONG_TYPE_CALLS.update(
    {
        "asend(None)": lambda s: _run(s.asend(None)),  # type: ignore[arg-type]
        "asend(float)": lambda s: _run(s.asend(1.5)),  # type: ignore[arg-type]
    }
)


@pytest.mark.parametrize("name", sorted(WRONG_TYPE_CALLS))
def test_wrong_argument_type_is_type_error(sock: SockFactory, name: str) -> None:
    s = sock("pair")
    s.rcvtimeo = 100
    s.sndtimeo = 100
    with pytest.raises(TypeError):
        WRONG_TYPE_CALLS[name](s)
    assert not s.closed
    assert s.getsockopt(nn.SOL_SOCKET, nn.PROTOCOL) == nn.PAIR


def test_wrong_type_for_sub_socket_calls(sock: SockFactory) -> None:
    s = sock("sub")
    for bad in (5, None, 1.5, ["x"], object()):
        with pytest.raises(TypeError):
            s.subscribe(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            s.unsubscribe(bad)  # type: ignore[arg-type]


# -- never a crash: throw odd values at every call, in a child process -----------------------

FUZZ = textwrap.dedent(
    """
    import sys
    import nanomsg_rs as nn

    VALUES = [
        None, True, False, 0, -1, 1, 7, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 2**100,
        -(2**100), 1.5, float("nan"), float("inf"), "", "x", "\\x00", "é" * 100, "x" * 10000,
        b"", b"\\x00" * 10, b"\\xff" * 3, bytearray(3), memoryview(b"ab"),
        memoryview(bytearray(8))[::2], [], (), {}, object(), int, nn.Protocol.PAIR,
    ]

    def attempt(label, call):
        if label:
            print(label, flush=True)
        try:
            call()
        except Exception:
            pass

    group = sys.argv[1]
    socks = [
        nn.Socket("pair"), nn.Socket("req"), nn.Socket("surveyor"),
        nn.Socket("pub"), nn.Socket("pull"), nn.Socket("rep", "sp-raw"),
    ]
    for s in socks:
        s.sndtimeo = 0
        s.rcvtimeo = 0
    always_ready = nn.Socket("pub")
    options = [getattr(nn, n) for n in dir(nn) if n.isupper() and isinstance(getattr(nn, n), int)]
    options = sorted(set(o for o in options if -10 <= o <= 20))
    levels = [nn.SOL_SOCKET, nn.PAIR, nn.REQ, nn.SUB, nn.SURVEYOR, nn.TCP, nn.IPC, nn.WS, -1, 999]

    for s in socks:
        for i, v in enumerate(VALUES):
            tag = f"{group} {s!r} value#{i}"
            if group == "methods":
                attempt(tag + " send", lambda: s.send(v, block=False))
                attempt(tag + " recv_into", lambda: s.recv_into(v, block=False))
                attempt(tag + " bind", lambda: s.bind(v))
                attempt(tag + " connect", lambda: s.connect(v))
                attempt(tag + " shutdown", lambda: s.shutdown(v))
                attempt(tag + " statistic", lambda: s.statistic(v))
                attempt(tag + " send_msg", lambda: s.send_msg(v, block=False))
                if not (isinstance(v, int) and abs(v) > 10**6):
                    attempt(tag + " Message", lambda: nn.Message(v))
                attempt(tag + " poll", lambda: nn.poll([(s, v)], 0))
                # A PUB socket can always send, so poll returns at once whatever the timeout.
                attempt(tag + " poll timeout", lambda: nn.poll([(always_ready, nn.POLLOUT)], v))
                attempt(tag + " strerror", lambda: nn.strerror(v))
                attempt(tag + " Socket", lambda: nn.Socket(v).close())
                attempt(tag + " Socket domain", lambda: nn.Socket("bus", v).close())
            elif group == "options":
                for name in (
                    "linger", "sndbuf", "rcvbuf", "sndtimeo", "rcvtimeo", "reconnect_ivl",
                    "reconnect_ivl_max", "sndprio", "rcvprio", "ipv4only", "maxttl",
                    "rcvmaxsize", "rcvmaxpartial", "socket_name", "req_resend_ivl",
                    "surveyor_deadline", "connect_timeout", "tcp_keepalive",
                    "tcp_keepalive_idle", "tcp_keepalive_interval", "tcp_keepalive_count",
                    "tcp_nodelay", "sndfd", "rcvfd", "protocol", "domain",
                ):
                    attempt(f"{tag} {name}=", lambda: setattr(s, name, v))
                    attempt(f"{tag} {name}", lambda: getattr(s, name))
                s.sndtimeo = 0
                s.rcvtimeo = 0
            elif group == "generic":
                if i % 2:
                    continue  # half the values keep the child quick
                for level in levels:
                    for option in options:

                        def generic():
                            attempt("", lambda: s.setsockopt(level, option, v))
                            for kind in (int, str, bytes):
                                attempt("", lambda: s.getsockopt(level, option, kind))

                        print(f"{tag} level={level} option={option}", flush=True)
                        generic()
                s.sndtimeo = 0
                s.rcvtimeo = 0
            elif group == "subscribe":
                sub = nn.Socket("sub")
                attempt(tag + " subscribe", lambda: sub.subscribe(v))
                attempt(tag + " unsubscribe", lambda: sub.unsubscribe(v))
                attempt(tag + " unsubscribe again", lambda: sub.unsubscribe(v))
                sub.close()
    for s in socks:
        s.close()
    print("done", flush=True)
    """
)


@pytest.mark.parametrize("group", ["methods", "options", "generic", "subscribe"])
def test_odd_arguments_never_crash(group: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FUZZ, group],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    lines = result.stdout.splitlines()
    last = lines[-1] if lines else "(nothing)"
    assert result.returncode == 0, f"crashed ({result.returncode}) at: {last}\n{result.stderr}"
    assert last == "done"
