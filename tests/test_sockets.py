"""Socket lifecycle: construction, close, detach, endpoints, closed-socket safety, the
512-socket limit and garbage collection."""

from __future__ import annotations

import ctypes
import errno
import gc
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import (
    CONNECT_DEADLINE,
    NANOMSG,
    NNG,
    AddrFactory,
    SockFactory,
    c_library,
    only_on,
    run_ok,
    run_reporting,
)

import nanomsg_rs as nn

PROTOCOL_NAMES = [
    "pair",
    "pub",
    "sub",
    "req",
    "rep",
    "push",
    "pull",
    "surveyor",
    "respondent",
    "bus",
]


def _libnanomsg() -> ctypes.CDLL:
    """The linked C library: libnanomsg, or nng's compatibility layer on the nng backend."""
    return c_library()


# -- construction ---------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", list(nn.Protocol))
@pytest.mark.parametrize("domain", list(nn.Domain))
def test_every_protocol_by_enum(protocol: nn.Protocol, domain: nn.Domain) -> None:
    with nn.Socket(protocol, domain) as s:
        assert s.protocol is protocol
        assert s.domain is domain
        assert isinstance(s.protocol, nn.Protocol)
        assert isinstance(s.domain, nn.Domain)
        assert not s.closed


@pytest.mark.parametrize("name", PROTOCOL_NAMES)
@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title])
@pytest.mark.parametrize(
    ("domain", "expected"), [("sp", nn.Domain.SP), ("sp-raw", nn.Domain.SP_RAW)]
)
def test_every_protocol_by_name(
    name: str, spelling: Callable[[str], str], domain: str, expected: nn.Domain
) -> None:
    with nn.Socket(spelling(name), spelling(domain)) as s:
        assert s.protocol is nn.Protocol[name.upper()]
        assert s.domain is expected


def test_default_domain_is_sp(sock: SockFactory) -> None:
    assert sock("pair").domain is nn.Domain.SP


def test_protocol_values_match_nanomsg_numbers(sock: SockFactory) -> None:
    assert sock(nn.PUSH).protocol is nn.Protocol.PUSH
    assert sock(nn.BUS, nn.AF_SP_RAW).domain is nn.Domain.SP_RAW


@pytest.mark.parametrize("bad", ["bogus", "", "pairs", "raw", "reply", "sp"])
def test_bad_protocol_name_is_value_error_naming_choices(bad: str) -> None:
    with pytest.raises(ValueError) as info:
        nn.Socket(bad)
    message = str(info.value)
    for name in PROTOCOL_NAMES:
        assert name in message.lower()


@pytest.mark.parametrize("bad", [0, 17, 999, -1])
def test_bad_protocol_number_is_value_error(bad: int) -> None:
    with pytest.raises(ValueError, match="pair"):
        nn.Socket(bad)


@pytest.mark.parametrize("bad", ["bogus", "", "raw", "tcp", 0, 3, 99])
def test_bad_domain_is_value_error_naming_choices(bad: Any) -> None:
    with pytest.raises(ValueError) as info:
        nn.Socket("pair", bad)
    message = str(info.value).lower()
    assert "sp" in message
    assert "sp-raw" in message


@pytest.mark.parametrize("bad", [None, 1.5, b"pair", ["pair"], object(), True])
def test_wrong_protocol_type_is_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        nn.Socket(bad)


@pytest.mark.parametrize("bad", [None, 1.0, b"sp", ("sp",), object()])
def test_wrong_domain_type_is_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        nn.Socket("pair", bad)


# -- close, closed, context manager ---------------------------------------------------------


def test_close_is_idempotent() -> None:
    s = nn.Socket("pair")
    assert s.closed is False
    s.close()
    assert s.closed is True
    s.close()
    s.close()
    assert s.closed is True


def test_close_releases_the_address(addr: AddrFactory) -> None:
    address = addr("tcp")
    s = nn.Socket("pair")
    s.bind(address)
    s.close()
    with nn.Socket("pair") as t:
        t.bind(address)  # would be AddressInUse if the first socket were still open


def test_context_manager_closes() -> None:
    with nn.Socket("pair") as s:
        assert isinstance(s, nn.Socket)
        assert not s.closed
    assert s.closed


def test_context_manager_closes_on_exception() -> None:
    with pytest.raises(RuntimeError), nn.Socket("pair") as s:
        raise RuntimeError("boom")
    assert s.closed


def test_context_manager_returns_self() -> None:
    s = nn.Socket("pair")
    with s as entered:
        assert entered is s
    assert s.closed


# -- fd and detach --------------------------------------------------------------------------


def test_fd_is_the_socket_number() -> None:
    with nn.Socket("pair") as a, nn.Socket("pair") as b:
        assert isinstance(a.fd, int)
        assert a.fd >= 0
        assert b.fd >= 0
        assert a.fd != b.fd


def test_fd_is_read_only(sock: SockFactory) -> None:
    s = sock("pair")
    with pytest.raises(AttributeError):
        s.fd = 3  # type: ignore[misc]


def test_fd_of_closed_socket_raises_closed() -> None:
    s = nn.Socket("pair")
    s.close()
    with pytest.raises(nn.Closed):
        _ = s.fd


def test_detach_returns_raw_number_and_acts_closed(addr: AddrFactory) -> None:
    address = addr("inproc")
    s = nn.Socket("pair")
    s.bind(address)
    number = s.fd
    raw = s.detach()
    try:
        assert raw == number
        assert s.closed
        with pytest.raises(nn.Closed):
            _ = s.fd
        with pytest.raises(nn.Closed):
            s.send(b"x")
        with pytest.raises(nn.Closed):
            s.detach()
        s.close()  # harmless: the object is already closed; the socket must stay open
        # The nanomsg socket itself is still open: its address is still taken ...
        with nn.Socket("pair") as other:
            with pytest.raises(nn.AddressInUse):
                other.bind(address)
            # ... and its number is not handed out again.
            assert other.fd != raw
    finally:
        lib = _libnanomsg()
        assert lib.nn_close(raw) == 0, "the detached socket should still have been open"
    with nn.Socket("pair") as again:
        again.bind(address)


def test_detached_socket_is_not_closed_by_gc(addr: AddrFactory) -> None:
    address = addr("inproc")
    s = nn.Socket("pair")
    s.bind(address)
    raw = s.detach()
    del s
    gc.collect()
    try:
        with nn.Socket("pair") as other, pytest.raises(nn.AddressInUse):
            other.bind(address)
    finally:
        assert _libnanomsg().nn_close(raw) == 0


# -- endpoints ------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["inproc", "ipc", "tcp", "ws"])
def test_bind_and_connect_return_endpoints(
    sock: SockFactory, addr: AddrFactory, transport: str
) -> None:
    a, b = sock("pair"), sock("pair")
    address = addr(transport)
    ep_bind = a.bind(address)
    ep_conn = b.connect(address)
    for ep, owner in ((ep_bind, a), (ep_conn, b)):
        assert isinstance(ep, nn.Endpoint)
        assert isinstance(ep.id, int)
        assert ep.id >= 0
        assert ep.address == address
        assert ep.socket is owner
    for s in (a, b):
        s.rcvtimeo = 5000
        s.sndtimeo = 5000
    b.send(b"through the endpoint")
    assert a.recv() == b"through the endpoint"


def test_endpoint_ids_are_distinct(sock: SockFactory, addr: AddrFactory) -> None:
    s = sock("bus")
    ids = {s.bind(addr("inproc")).id for _ in range(3)}
    ids.add(s.connect(addr("tcp")).id)
    assert len(ids) == 4


def _shutdown_endpoint(s: nn.Socket, ep: nn.Endpoint, how: str) -> None:
    if how == "method":
        ep.shutdown()
    elif how == "endpoint":
        s.shutdown(ep)
    else:
        s.shutdown(ep.id)


@pytest.mark.parametrize("how", ["method", "endpoint", "id"])
@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_shutdown_bound_endpoint_frees_the_address(
    sock: SockFactory, addr: AddrFactory, how: str, transport: str
) -> None:
    s = sock("pair")
    address = addr(transport)
    ep = s.bind(address)
    with pytest.raises(nn.AddressInUse):
        sock("pair").bind(address)
    _shutdown_endpoint(s, ep, how)
    # The endpoint is gone: the same socket, or another one, can take the address again.
    deadline = time.monotonic() + 5
    while True:
        try:
            sock("pair").bind(address)
            break
        except nn.AddressInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("how", ["method", "endpoint", "id"])
def test_shutdown_connected_endpoint_stops_delivery(
    sock: SockFactory, addr: AddrFactory, how: str
) -> None:
    address = addr("inproc")
    server, client = sock("pair"), sock("pair")
    server.bind(address)
    ep = client.connect(address)
    for s in (server, client):
        s.rcvtimeo = 3000
        s.sndtimeo = 3000
    client.send(b"before")
    assert server.recv() == b"before"
    _shutdown_endpoint(client, ep, how)
    client.sndtimeo = 300
    if NANOMSG:
        # libnanomsg has closed the connection when nn_shutdown returns.
        with pytest.raises(nn.Timeout):
            client.send(b"after")
    else:
        # nng closes it asynchronously: a send may still be taken by the closing connection
        # (and dropped with it) until it is gone; then there is no peer at all.
        deadline = time.monotonic() + CONNECT_DEADLINE
        while True:
            try:
                client.send(b"after")
            except nn.Timeout:
                break
            assert time.monotonic() < deadline, "the shut-down connection still takes sends"
    # Either way nothing sent after the shutdown arrives.
    server.rcvtimeo = 300
    with pytest.raises(nn.Timeout):
        server.recv()


def test_shutdown_closes_its_own_endpoint_only() -> None:
    """A socket's endpoint shutdown closes that endpoint and no other socket's. In a fresh
    process nng 1.5.2 numbers dialers and listeners apart, each from 1: a bound endpoint and
    another socket's connected one both have id 1, and nng's own ``nn_shutdown`` closed the
    dialer for the listener's id. The binding closes the endpoint of the right kind."""
    got = run_reporting(
        """
        import tempfile, nanomsg_rs as nn
        where = tempfile.mkdtemp()
        a, b, c = nn.Socket("pair"), nn.Socket("pair"), nn.Socket("pair")
        for s in (a, b, c):
            s.rcvtimeo = s.sndtimeo = 5000
        bound = a.bind(f"ipc://{where}/a")
        c.bind(f"ipc://{where}/c")
        dialed = b.connect(f"ipc://{where}/c")
        ids = [bound.id, dialed.id]
        bound.shutdown()
        b.send(b"still connected")
        report(ids=ids, got=c.recv().decode())
        dialed.shutdown()
        """
    )
    assert got["got"] == "still connected", got


def test_shutdown_twice_is_invalid(sock: SockFactory, addr: AddrFactory) -> None:
    s = sock("pair")
    ep = s.bind(addr("inproc"))
    ep.shutdown()
    # An endpoint id that is not (or no longer) this socket's: EINVAL, as libnanomsg says
    # (on nng the binding's own list of endpoints answers; nng itself would say ENOENT).
    unknown = (nn.InvalidArgument, errno.EINVAL)
    with pytest.raises(unknown[0]) as info:
        ep.shutdown()
    assert info.value.errno == unknown[1]
    with pytest.raises(unknown[0]) as info:
        s.shutdown(12345)
    assert info.value.errno == unknown[1]


def test_shutdown_never_reaches_another_sockets_endpoint(
    sock: SockFactory, addr: AddrFactory
) -> None:
    """An endpoint id belongs to its socket: shutting it down through another socket fails
    and leaves the endpoint alone. (nng's nn_shutdown ignores its socket argument and would
    close whichever endpoint has that id, so the binding must check.)"""
    address = addr("inproc")
    a, b = sock("pair"), sock("pair")
    ep = a.bind(address)
    with pytest.raises(nn.NanomsgError) as info:
        b.shutdown(ep.id)
    if NANOMSG:
        assert type(info.value) is nn.InvalidArgument
    with pytest.raises(nn.AddressInUse):
        sock("pair").bind(address)  # a still listens there
    ep.shutdown()


@pytest.mark.parametrize("bad", ["1", 1.0, None, b"\x01", True, [1]])
def test_shutdown_wrong_type(sock: SockFactory, bad: Any) -> None:
    s = sock("pair")
    with pytest.raises(TypeError):
        s.shutdown(bad)


# -- closed sockets -------------------------------------------------------------------------


def _calls_on(s: nn.Socket, address: str) -> dict[str, Callable[[], object]]:
    buf = bytearray(16)
    return {
        "send": lambda: s.send(b"x"),
        "send_nonblocking": lambda: s.send(b"x", block=False),
        "recv": lambda: s.recv(),
        "recv_nonblocking": lambda: s.recv(block=False),
        "recv_into": lambda: s.recv_into(buf),
        "bind": lambda: s.bind(address),
        "connect": lambda: s.connect(address),
        "shutdown": lambda: s.shutdown(0),
        "getsockopt": lambda: s.getsockopt(nn.SOL_SOCKET, nn.LINGER),
        "setsockopt": lambda: s.setsockopt(nn.SOL_SOCKET, nn.RCVTIMEO, 10),
        "option_get": lambda: s.rcvtimeo,
        "option_set": lambda: setattr(s, "rcvtimeo", 10),
        "socket_name": lambda: s.socket_name,
        "protocol": lambda: s.protocol,
        "domain": lambda: s.domain,
        "statistic": lambda: s.statistic(nn.Statistic.MESSAGES_SENT),
        "statistics": lambda: s.statistics(),
        "fd": lambda: s.fd,
        "detach": lambda: s.detach(),
        "rcvfd": lambda: s.rcvfd,
        "sndfd": lambda: s.sndfd,
    }


CALL_NAMES = [
    "send",
    "send_nonblocking",
    "recv",
    "recv_nonblocking",
    "recv_into",
    "bind",
    "connect",
    "shutdown",
    "getsockopt",
    "setsockopt",
    "option_get",
    "option_set",
    "socket_name",
    "protocol",
    "domain",
    "statistic",
    "statistics",
    "fd",
    "detach",
    "rcvfd",
    "sndfd",
]


@pytest.mark.parametrize("call", CALL_NAMES)
def test_calls_on_closed_socket_raise_closed(addr: AddrFactory, call: str) -> None:
    s = nn.Socket("pair")
    s.close()
    with pytest.raises(nn.Closed) as info:
        _calls_on(s, addr("inproc"))[call]()
    assert info.value.errno == errno.EBADF


def test_subscribe_on_closed_socket_raises_closed() -> None:
    s = nn.Socket("sub")
    s.close()
    with pytest.raises(nn.Closed):
        s.subscribe(b"x")
    with pytest.raises(nn.Closed):
        s.unsubscribe(b"x")


@pytest.mark.parametrize("call", CALL_NAMES)
def test_stale_handle_never_reaches_reused_number(
    sock: SockFactory, addr: AddrFactory, call: str
) -> None:
    """Close A; B gets A's number (nanomsg reuses it at once); nothing done through A may
    act on B."""
    gc.collect()
    gc.disable()  # no collection may free another number in between
    try:
        a = nn.Socket("pair")
        number = a.fd
        a.close()
        b = sock("pair")
    finally:
        gc.enable()
    b_number = b.fd
    if NANOMSG:
        assert b_number == number, "nanomsg hands the freed number to the next socket"
    else:
        # nng does not hand a freed number out again at once, so A's number cannot name B;
        # the stale handle must refuse all the same.
        assert b_number != number
    address = addr("inproc")
    b.bind(address)
    peer = sock("pair")
    peer.connect(address)
    for s in (b, peer):
        s.rcvtimeo = 200
        s.sndtimeo = 2000
    b.socket_name = "B"
    peer.send(b"for B")  # a message waiting on B: a stale recv must not take it

    with pytest.raises(nn.Closed):
        _calls_on(a, addr("inproc"))[call]()

    # B is untouched: its message is still there, its options unchanged, its peer hears
    # nothing from A, and it is still open under the same number.
    assert not b.closed
    assert b.fd == b_number
    assert b.recv() == b"for B"
    assert b.rcvtimeo == 200
    assert b.socket_name == "B"
    with pytest.raises(nn.Timeout):
        peer.recv()
    b.send(b"from B")
    assert peer.recv() == b"from B"


def test_stale_send_does_not_reach_reused_socket_peer(sock: SockFactory, addr: AddrFactory) -> None:
    gc.collect()
    gc.disable()
    try:
        a = sock("pair")
        number = a.fd
        a.close()
        b = sock("pair")
    finally:
        gc.enable()
    # nanomsg reuses the number at once; nng does not (see above).
    assert (b.fd == number) == NANOMSG
    address = addr("tcp")
    b.bind(address)
    peer = sock("pair")
    peer.connect(address)
    peer.rcvtimeo = 300
    b.sndtimeo = 3000
    b.send(b"hello")
    assert peer.recv() == b"hello"
    with pytest.raises(nn.Closed):
        a.send(b"stale")
    with pytest.raises(nn.Closed):
        a.send(b"stale", block=False)
    with pytest.raises(nn.Timeout):
        peer.recv()
    if NANOMSG:  # nng keeps no statistics; the peer's silence above says it all there
        assert b.statistic(nn.Statistic.MESSAGES_SENT) == 1


# -- socket limits and garbage collection ---------------------------------------------------
# (libnanomsg's limit of NN_MAX_SOCKETS open sockets, and the process's RLIMIT_NOFILE:
# test_descriptor_limit.py)


@pytest.mark.backend("nng", reason="libnanomsg has a limit (test_descriptor_limit.py)")
def test_no_socket_limit_on_nng() -> None:
    made: list[nn.Socket] = []
    try:
        for _ in range(600):
            made.append(nn.Socket("pair"))
        assert len({s.fd for s in made}) == 600
    finally:
        for s in made:
            s.close()


def _assert_all_closed(numbers: list[int]) -> None:
    """On nng, which never hands a number out again at once: every one of ``numbers`` is
    closed (nn_close on it fails with EBADF)."""
    lib = _libnanomsg()
    still_open = [n for n in numbers if lib.nn_close(n) == 0]
    assert still_open == [], f"{len(still_open)} sockets were never closed"
    assert ctypes.get_errno() == errno.EBADF


def test_gc_closes_dropped_sockets() -> None:
    numbers = []
    for i in range(700):
        s = nn.Socket("pair")
        s.rcvtimeo = i
        numbers.append(s.fd)
    del s
    if NNG:
        # nng numbers sockets on and on: check that the numbers were closed instead.
        _assert_all_closed(numbers)
        return
    # libnanomsg hands a closed socket's number out again, the lowest first: the 700 sockets
    # never needed more than a few numbers.
    with nn.Socket("pair") as last:
        assert last.fd < 512


class Holder(nn.Socket):
    """A subclass has a __dict__ again (nn.Socket has none): room for a reference cycle."""


def test_gc_closes_sockets_in_reference_cycles() -> None:
    numbers = []
    for i in range(700):
        s = Holder("pair")
        numbers.append(s.fd)
        s.myself = s  # a cycle: only the collector frees it
        if i % 100 == 99:
            gc.collect()
    del s
    gc.collect()
    if NNG:
        _assert_all_closed(numbers)  # as above
        return
    with nn.Socket("pair") as last:
        assert last.fd < 512


def test_gc_releases_bound_address(addr: AddrFactory) -> None:
    address = addr("tcp")
    for _ in range(3):
        s = nn.Socket("rep")
        s.bind(address)
        del s
        gc.collect()


def test_gc_of_socket_with_bound_ipc_endpoint(addr: AddrFactory) -> None:
    address = addr("ipc")
    for _ in range(3):
        s = nn.Socket("pull")
        s.bind(address)  # AddressInUse if the previous socket still listened
        del s


def test_repr_mentions_state() -> None:
    s = nn.Socket("push")
    assert "PUSH" in repr(s)
    s.close()
    assert "closed" in repr(s)


def test_bytes_address_is_accepted_as_is(sock: SockFactory, tmp_path: Path) -> None:
    # nanomsg takes any bytes: an ipc path that is not UTF-8 must be usable.
    raw = b"ipc://" + bytes(tmp_path) + b"/\xff-sock.ipc"
    a, b = sock("pair"), sock("pair")
    ep = a.bind(raw)
    assert ep.address == os.fsdecode(raw)
    b.connect(raw)
    b.sndtimeo = a.rcvtimeo = 2000
    b.send(b"over a non-UTF-8 path")
    assert a.recv() == b"over a non-UTF-8 path"
    assert os.path.exists(bytes(tmp_path) + b"/\xff-sock.ipc")


def test_address_of_a_str_subclass_is_kept_as_a_plain_str(
    sock: SockFactory, addr: AddrFactory
) -> None:
    # Found by test_api_fuzz: a subclass whose __str__ raises made repr(socket) raise.
    class Odd(str):
        def __str__(self) -> str:
            raise RuntimeError("__str__ fails")

    address = addr("inproc")
    s = sock("pair")
    ep = s.bind(Odd(address))
    assert type(ep.address) is str and ep.address == address
    assert repr(s).endswith(f" bound {address}>")


def test_a_non_utf8_address_round_trips(sock: SockFactory, tmp_path: Path) -> None:
    """Endpoint.address is a str, the bytes that are not UTF-8 kept as surrogates (as
    os.fsdecode keeps them): connect() and bind() take it back as the same bytes. They
    raised UnicodeEncodeError ("surrogates not allowed")."""
    raw = b"ipc://" + bytes(tmp_path) + b"/\xfe\xff-round-trip.ipc"
    a, b, c = sock("pair"), sock("pair"), sock("pair")
    ep = a.bind(raw)
    assert isinstance(ep.address, str)
    assert ep.address.encode("utf-8", "surrogateescape") == raw
    b.connect(ep.address)
    b.sndtimeo = a.rcvtimeo = 2000
    b.send(b"by the address given back")
    assert a.recv() == b"by the address given back"
    # bind() of such a str makes the file of those bytes
    second = c.bind(ep.address.replace("round-trip", "second"))
    assert second.address.encode("utf-8", "surrogateescape") == raw.replace(
        b"round-trip", b"second"
    )
    assert sorted(os.listdir(bytes(tmp_path))) == [
        b"\xfe\xff-round-trip.ipc",
        b"\xfe\xff-second.ipc",
    ]
    # A surrogate that stands for no byte cannot be encoded: a clear ValueError.
    with pytest.raises(UnicodeEncodeError):
        c.connect("ipc:///tmp/\ud800")


# -- ipc paths: refused with a reason, never a crash, never a file lost (patch 0031) -----------

# Each runs in a child: the system libnanomsg 1.1.5 aborts on these paths (bipc.c:309,
# bipc.c:177, bipc.c:292, cipc.c:402), and a crash must be seen here, not suffered.

IPC_BIND_DIRECTORY = """
import errno, os, sys
import nanomsg_rs as nn
directory = sys.argv[1]
with nn.Socket("pair") as s:
    for address in ("ipc://" + directory, "ipc://" + directory + "/"):
        try:
            s.bind(address)
        except nn.NanomsgError as e:
            assert e.errno == errno.EISDIR, e
            assert "is a directory: an ipc address names the socket file" in str(e), str(e)
            assert e.filename == address
        else:
            raise AssertionError(address + " was bound")
    assert os.path.isdir(directory) and os.listdir(directory) == ["keep"]
    s.bind("ipc://" + directory + "/app.ipc")  # the socket is fine: a good path binds
print("ok")
"""


def test_ipc_bind_on_a_directory(tmp_path: Path) -> None:
    """``bind("ipc:///tmp/")`` (a typo) or any directory at the path: ``EISDIR``, with a
    message that says so; the directory and what it holds stay (1.1.5 aborted, bipc.c:309;
    nng said EADDRINUSE)."""
    (tmp_path / "keep").write_text("x")
    run_ok(IPC_BIND_DIRECTORY, tmp_path)


@pytest.mark.parametrize("kind", ["file", "symlink", "fifo"])
def test_ipc_bind_keeps_a_file_that_is_no_socket(tmp_path: Path, kind: str) -> None:
    """A bind where a file that is not a socket is: ``AddressInUse``, saying what is there,
    and the file is left as it was (1.1.5 and nng deleted it, whatever it held, and bound)."""
    path = tmp_path / "data"
    target = tmp_path / "target"
    target.write_text("precious")
    if kind == "file":
        path.write_text("precious")
    elif kind == "symlink":
        path.symlink_to(target)
    else:
        os.mkfifo(path)
    with nn.Socket("pair") as s, pytest.raises(nn.AddressInUse) as info:
        s.bind(f"ipc://{path}")
    what = "a symbolic link" if kind == "symlink" else "a file"
    assert f"is {what}, not a socket: bind() replaces only a socket" in str(info.value)
    assert os.path.lexists(path)
    if kind == "file":
        assert path.read_text() == "precious"
    if kind == "symlink":
        assert path.is_symlink() and os.readlink(path) == str(target)
    assert target.read_text() == "precious"


def test_ipc_bind_replaces_a_socket_file_no_one_listens_on(tmp_path: Path) -> None:
    """A socket file left by a process that died without closing: bind takes the path over
    (as upstream does), and messages flow."""
    import socket

    path = tmp_path / "left.ipc"
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(path))
    left.close()  # the file stays, no one listens
    with nn.Socket("pair") as a, nn.Socket("pair") as b:
        a.bind(f"ipc://{path}")
        b.connect(f"ipc://{path}")
        a.rcvtimeo = b.sndtimeo = 5000
        b.send(b"through the old path")
        assert a.recv() == b"through the old path"


def test_ipc_bind_refuses_a_path_another_socket_listens_on(tmp_path: Path) -> None:
    """A live socket at the path is not taken over: ``AddressInUse``, with the usual reason."""
    address = f"ipc://{tmp_path}/live.ipc"
    with nn.Socket("pair") as a, nn.Socket("pair") as b:
        a.bind(address)
        with pytest.raises(nn.AddressInUse) as info:
            b.bind(address)
        assert "another socket, of this process or another, is bound to it" in str(info.value)


IPC_CLOSE_REPLACED = """
import os, sys
import nanomsg_rs as nn
path, replacement = sys.argv[1], sys.argv[2]
s = nn.Socket("pair")
s.bind("ipc://" + path)
os.unlink(path)
if replacement == "directory":
    os.mkdir(path)
else:  # another process's socket at the same path
    import socket
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(path)
    other.listen()
s.close()
assert os.path.isdir(path) if replacement == "directory" else os.path.exists(path)
print("ok")
"""


@pytest.mark.parametrize(
    "replacement",
    [
        "directory",
        pytest.param(
            "socket",
            marks=only_on("nanomsg", "nng's listener unlinks any socket at its path on close"),
        ),
    ],
)
def test_ipc_close_after_the_file_is_replaced(tmp_path: Path, replacement: str) -> None:
    """Someone replaces the socket file of a bound socket (a directory, another socket):
    ``close()`` leaves what is there alone (1.1.5 aborted on the directory, bipc.c:177, and
    deleted the other socket's file)."""
    if NANOMSG and not nn.HARDENED:
        pytest.skip("kills the unpatched system libnanomsg (bipc.c:177), in its worker thread")
    run_ok(IPC_CLOSE_REPLACED, tmp_path / "s.ipc", replacement)


IPC_LONG_PATH = """
import errno, os, sys
import nanomsg_rs as nn
directory = sys.argv[1]
def address(size):
    return "ipc://" + directory + "/" + "x" * (size - len(directory) - 1)
with nn.Socket("pair") as a, nn.Socket("pair") as b:
    for size in (108, 121, 122, 200):
        for call in (a.bind, b.connect):
            try:
                call(address(size))
            except nn.NanomsgError as e:
                assert e.errno == errno.ENAMETOOLONG, e
                assert str(e).endswith(
                    f"the ipc path is {size} bytes; the limit is 107 (a Unix socket's sun_path)"
                ), str(e)
            else:
                raise AssertionError(f"{call.__name__} took a path of {size} bytes")
    a.bind(address(107))  # the longest path that fits: bound, connected, used
    b.connect(address(107))
    a.rcvtimeo = b.sndtimeo = 5000
    b.send(b"107")
    assert a.recv() == b"107"
print("ok")
"""


def test_ipc_path_too_long(tmp_path: Path) -> None:
    """An ipc path of 108 bytes or more does not fit in ``sun_path``: bind and connect raise
    ``ENAMETOOLONG`` saying the size and the limit (1.1.5 aborted on 108-121 bytes,
    bipc.c:292 and cipc.c:402; nng said EINVAL on bind and failed in the background on
    connect); 107 bytes work."""
    run_ok(IPC_LONG_PATH, tmp_path)
