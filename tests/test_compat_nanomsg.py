"""``nanomsg_rs.compat.nanomsg``: nanomsg-python 1.0's API, checked in our own words.

The same calls, return values, exception classes and attributes as nanomsg-python where it
works; ``NanoMsgAPIError`` where it fails silently or crashes (a socket number that is not
open or already owned, ``poll`` on a closed socket, an unknown prefix to unsubscribe).
nanomsg-python's own suite is run by hand against the module (see the README).
"""

from __future__ import annotations

import gc
import struct
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest
from support import PROBE, linked, make_address, per_backend, wait_reachable

import nanomsg_rs as nn
from nanomsg_rs.compat import nanomsg
from nanomsg_rs.compat.nanomsg import (
    AF_SP,
    AF_SP_RAW,
    DONTWAIT,
    PAIR,
    PUB,
    REP,
    REQ,
    SOL_SOCKET,
    SUB,
    SUB_SUBSCRIBE,
    SUB_UNSUBSCRIBE,
    NanoMsgAPIError,
    NanoMsgError,
    Socket,
)


@pytest.fixture
def pair() -> Iterator[tuple[Socket, Socket]]:
    """Two connected PAIR sockets over inproc, closed after the test."""
    with Socket(PAIR) as a, Socket(PAIR) as b:
        yield linked(a, b)


# -- module ---------------------------------------------------------------------------------


@pytest.mark.backend("nanomsg", reason="nng has no nn_symbol_info to compare with")
def test_every_symbol_of_the_library_is_a_constant() -> None:
    for symbol in nn.symbols():
        assert getattr(nanomsg, symbol.name.removeprefix("NN_")) == symbol.value, symbol.name


def test_errors() -> None:
    assert issubclass(NanoMsgAPIError, NanoMsgError)
    assert issubclass(NanoMsgError, Exception)
    e = NanoMsgAPIError(nanomsg.EAGAIN)
    assert e.errno == nanomsg.EAGAIN
    assert e.msg == str(e) == nn.strerror(nanomsg.EAGAIN)
    assert nanomsg.__version__ == "1.0"


def test_buffers() -> None:
    buf = nanomsg.create_writable_buffer(8)
    assert buf == bytearray(8)
    msg = nanomsg.create_message_buffer(4, 0)
    memoryview(msg)[:] = b"abcd"
    assert bytes(msg) == b"abcd"
    with pytest.raises(NanoMsgAPIError) as info:
        nanomsg.create_message_buffer(4, 1)
    assert info.value.errno == nanomsg.EINVAL


# -- construction ---------------------------------------------------------------------------


def test_socket_from_protocol() -> None:
    with Socket(PUB) as s:
        assert s.is_open()
        assert s.fd >= 0
        assert s.socket.protocol is nn.Protocol.PUB
        assert s.get_int_option(SOL_SOCKET, nanomsg.DOMAIN) == AF_SP
    with Socket(REP, domain=AF_SP_RAW) as raw:
        assert raw.get_int_option(SOL_SOCKET, nanomsg.DOMAIN) == AF_SP_RAW


def test_socket_errors_at_construction() -> None:
    with pytest.raises(NanoMsgError, match="Only one of protocol or socket_fd"):
        Socket(PAIR, socket_fd=0)
    with pytest.raises(NanoMsgAPIError) as info:
        Socket(12345)
    # nng says ENOTSUP for a protocol it does not know.
    assert info.value.errno == per_backend(nanomsg=nanomsg.EINVAL, nng=nn.ENOTSUP)
    with pytest.raises(NanoMsgError):
        Socket()


def test_socket_fd_wraps_a_detached_number() -> None:
    address = make_address("inproc")
    native = nn.Socket("pair")
    native.bind(address)
    number = native.detach()
    with Socket(socket_fd=number) as wrapped, Socket(PAIR) as peer:
        assert wrapped.fd == number
        peer.connect(address)
        peer.send(b"to the wrapped socket")
        assert wrapped.recv() == b"to the wrapped socket"
    with pytest.raises(NanoMsgAPIError) as info:
        Socket(socket_fd=number)  # closed with the wrapper
    assert info.value.errno == nanomsg.EBADF


def test_socket_fd_of_an_owned_number_raises() -> None:
    # nanomsg-python would make a second owner, and both would close the number.
    with Socket(PAIR) as owner:
        with pytest.raises(NanoMsgAPIError) as info:
            Socket(socket_fd=owner.fd)
        assert info.value.errno == nanomsg.EINVAL
        assert owner.is_open()


# -- endpoints ------------------------------------------------------------------------------


def test_endpoints() -> None:
    address = make_address("tcp")
    with Socket(PAIR) as a, Socket(PAIR) as b:
        bound = a.bind(address)
        connected = b.connect(address)
        assert isinstance(bound, Socket.BindEndpoint)
        assert isinstance(connected, Socket.ConnectEndpoint)
        assert isinstance(bound, Socket._Endpoint)
        assert bound.address == address
        assert a.endpoints == [bound]
        assert f"bound to [{address!r}]" in repr(a)
        assert f"connected to [{address!r}]" in repr(b)
        assert "address" in repr(bound)
        connected.shutdown()
        assert b.endpoints == []
        with pytest.raises(ValueError):
            connected.shutdown()  # as nanomsg-python: not in the list any more
        assert not a.uses_nanoconfig
        with pytest.raises(NotImplementedError):
            a.configure("tcp://nanoconfig")


def test_bind_errors() -> None:
    with Socket(PAIR) as s:
        with pytest.raises(NanoMsgAPIError) as info:
            s.bind("nonsense://x")
        assert info.value.errno == nanomsg.EPROTONOSUPPORT
        with pytest.raises(NanoMsgAPIError) as info:
            s.connect("tcp://")
        assert info.value.errno == nanomsg.EINVAL


# -- send and recv --------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["inproc", "ipc", "tcp"])
def test_send_returns_none_recv_returns_bytes(transport: str) -> None:
    address = make_address(transport)
    with Socket(PAIR) as a, Socket(PAIR) as b:
        a.bind(address)
        b.connect(address)
        assert b.send(b"one\x00two") is None
        assert a.recv() == b"one\x00two"
        b.send("h\u00e9")  # str as UTF-8
        assert a.recv() == "h\u00e9".encode()


def test_recv_into_a_buffer(pair: tuple[Socket, Socket]) -> None:
    a, b = pair
    buf = nanomsg.create_writable_buffer(16)
    b.send(b"short")
    assert a.recv(buf) == b"short"
    assert bytes(buf[:5]) == b"short"
    small = bytearray(3)
    b.send(b"longer than three")
    assert a.recv(small) == b"lon"  # cut to the buffer
    msg = nanomsg.create_message_buffer(8, 0)
    b.send(b"in msg")
    assert a.recv(msg) == b"in msg"
    b.send(msg)  # a message buffer sends like any buffer
    assert a.recv() == b"in msg\x00\x00"


def test_dontwait(pair: tuple[Socket, Socket]) -> None:
    a, _ = pair
    with pytest.raises(NanoMsgAPIError) as info:
        a.recv(flags=DONTWAIT)
    assert info.value.errno == nanomsg.EAGAIN
    assert isinstance(info.value.__cause__, nn.Again)


def test_flags_take_any_int_and_nothing_else(pair: tuple[Socket, Socket]) -> None:
    """Only the DONTWAIT bit counts (a bool is the int it is, as in nanomsg-python's C
    call); a flags of another type is a TypeError, sent or received."""
    a, _ = pair
    for flags in (True, DONTWAIT | 8):
        with pytest.raises(NanoMsgAPIError) as info:
            a.recv(flags=flags)
        assert info.value.errno == nanomsg.EAGAIN
    with pytest.raises(TypeError, match="flags must be an int, not str"):
        a.recv(flags="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="flags must be an int, not NoneType"):
        a.send(b"x", flags=None)  # type: ignore[arg-type]


def test_recv_timeout_property() -> None:
    # A REP that never answers: nng's REQ takes a request only once a peer is there.
    address = make_address("inproc")
    with Socket(REP) as rep, Socket(REQ) as req:
        rep.bind(address)
        req.connect(address)
        req.recv_timeout = 50
        assert req.recv_timeout == 50
        req.send(b"anyone?")
        start = time.monotonic()
        with pytest.raises(NanoMsgAPIError) as info:
            req.recv()
        assert info.value.errno == nanomsg.ETIMEDOUT
        assert time.monotonic() - start >= 0.04


# -- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param(
            "send_buffer_size",
            4096,
            marks=pytest.mark.backend("nanomsg", reason="nng has no SNDBUF"),
        ),
        pytest.param(
            "recv_buffer_size",
            8192,
            marks=pytest.mark.backend("nanomsg", reason="nng has no RCVBUF"),
        ),
        ("send_timeout", 1234),
        ("recv_timeout", 4321),
        ("reconnect_interval", 250),
        ("reconnect_interval_max", 5000),
        ("linger", 0),
    ],
)
def test_option_properties(name: str, value: int) -> None:
    with Socket(PAIR) as s:
        setattr(s, name, value)
        assert getattr(s, name) == value


def test_fd_properties_are_os_descriptors() -> None:
    with Socket(PAIR) as s:
        assert s.send_fd >= 0
        assert s.recv_fd >= 0
        with pytest.raises(AttributeError):
            s.recv_fd = 3  # type: ignore[misc]


def test_int_and_string_options() -> None:
    with Socket(SUB) as s:
        s.set_int_option(SOL_SOCKET, nanomsg.RCVTIMEO, 500)
        assert s.get_int_option(SOL_SOCKET, nanomsg.RCVTIMEO) == 500
        with pytest.raises(struct.error):
            s.set_int_option(SOL_SOCKET, nanomsg.RCVTIMEO, 2**40)
        s.set_string_option(SOL_SOCKET, nanomsg.SOCKET_NAME, "mine")
        assert s.get_string_option(SOL_SOCKET, nanomsg.SOCKET_NAME) == b"mine"
        assert s.get_string_option(SOL_SOCKET, nanomsg.SOCKET_NAME, 2) == b"mi"
        s.set_string_option(SUB, SUB_SUBSCRIBE, b"bytes too")
        with pytest.raises(NanoMsgAPIError) as info:
            s.get_int_option(SOL_SOCKET, 9999)
        assert info.value.errno == nanomsg.ENOPROTOOPT


def test_subscriptions() -> None:
    address = make_address("inproc")
    with Socket(PUB) as pub, Socket(SUB) as sub:
        pub.bind(address)
        sub.connect(address)
        # nng connects in the background: probe until connected (probes start with PROBE)
        sub.set_string_option(SUB, SUB_SUBSCRIBE, PROBE)
        wait_reachable(pub.socket, [sub.socket], broadcast=True)
        sub.set_string_option(SUB, SUB_UNSUBSCRIBE, PROBE)
        sub.set_string_option(SUB, SUB_SUBSCRIBE, "news")
        sub.recv_timeout = 2000
        for text in ["weather", "news 1", "sport", "news 2"]:
            pub.send(text)
        assert [sub.recv(), sub.recv()] == [b"news 1", b"news 2"]
        sub.set_string_option(SUB, SUB_UNSUBSCRIBE, "news")
        # A segfault with nanomsg-python on libnanomsg 1.1.5:
        with pytest.raises(NanoMsgAPIError) as info:
            sub.set_string_option(SUB, SUB_UNSUBSCRIBE, "never subscribed")
        assert info.value.errno == nanomsg.EINVAL


# -- poll -----------------------------------------------------------------------------------


def test_poll(pair: tuple[Socket, Socket]) -> None:
    a, b = pair
    assert nanomsg.poll([a, b], [], 0) == ([], [])
    b.send(b"x")
    # poll returns as soon as one socket is ready; the message reaches a, and b is writable
    # again once its send has gone, at once on libnanomsg, a moment later on nng: poll until
    # both have happened, within a deadline.
    deadline = time.monotonic() + 5
    while True:
        readable, writable = nanomsg.poll([a, b], [a, b], 1)
        assert readable in ([], [a])
        if (readable, writable) == ([a], [a, b]) or time.monotonic() > deadline:
            break
    assert (readable, writable) == ([a], [a, b])
    a.recv()
    start = time.monotonic()
    assert nanomsg.poll([a], [], 0.1) == ([], [])
    assert time.monotonic() - start >= 0.09


def test_poll_waits_for_a_message(pair: tuple[Socket, Socket]) -> None:
    a, b = pair
    threading.Timer(0.1, b.send, (b"late",)).start()
    assert nanomsg.poll([a], [], -1) == ([a], [])
    assert a.recv() == b"late"


def test_poll_on_a_closed_socket_raises(pair: tuple[Socket, Socket]) -> None:
    a, b = pair
    native = a.socket
    a.close()
    assert native.closed
    # nanomsg-python polls -1, fails and returns ([], []); the compat module keeps the
    # object, so poll finds it closed.
    with pytest.raises(NanoMsgAPIError) as info:
        nanomsg.poll([a, b], [], 0)
    assert info.value.errno == nanomsg.EBADF


# -- close ----------------------------------------------------------------------------------


def test_close_is_idempotent_and_calls_after_it_raise_ebadf() -> None:
    s = Socket(PAIR)
    s.close()
    s.close()
    assert not s.is_open()
    assert s.fd == -1
    for call in (lambda: s.send(b"x"), s.recv, lambda: s.bind(make_address("inproc"))):
        with pytest.raises(NanoMsgAPIError) as info:
            call()
        assert info.value.errno == nanomsg.EBADF


def test_close_from_another_thread_wakes_recv(pair: tuple[Socket, Socket]) -> None:
    a, _ = pair
    threading.Timer(0.1, a.close).start()
    with pytest.raises(NanoMsgAPIError) as info:
        a.recv()
    assert info.value.errno == nanomsg.EBADF


def test_garbage_collection_closes() -> None:
    address = make_address("inproc")
    s = Socket(PAIR)
    s.bind(address)
    del s
    gc.collect()
    with Socket(PAIR) as again:
        again.bind(address)


# -- device and terminate_all ---------------------------------------------------------------


def test_device_relays_and_stops_on_close() -> None:
    front, back = make_address("inproc"), make_address("inproc")
    with (
        Socket(REP, domain=AF_SP_RAW) as d1,
        Socket(REQ, domain=AF_SP_RAW) as d2,
        Socket(REQ) as client,
        Socket(REP) as server,
    ):
        d1.bind(front)
        d2.bind(back)
        client.connect(front)
        server.connect(back)
        errors: list[int] = []

        def run() -> None:
            try:
                nanomsg.Device(d1, d2).start()
            except NanoMsgAPIError as e:
                errors.append(e.errno)

        thread = threading.Thread(target=run)
        thread.start()
        client.send(b"question")
        server.recv_timeout = 5000
        assert server.recv() == b"question"
        server.send(b"answer")
        assert client.recv() == b"answer"
        d1.close()
        thread.join(10)
        assert errors == [nanomsg.EBADF]


def test_terminate_all_wakes_blocked_calls() -> None:
    code = textwrap.dedent(
        """
        import threading
        from nanomsg_rs.compat import nanomsg
        s = nanomsg.Socket(nanomsg.PULL)
        s.bind("inproc://t")
        threading.Timer(0.2, nanomsg.terminate_all).start()
        try:
            s.recv()
        except nanomsg.NanoMsgAPIError as e:
            print(e.errno == nanomsg.ETERM)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip() == "True", proc.stderr


def test_ctrl_c_interrupts_poll() -> None:
    code = textwrap.dedent(
        """
        import os, signal, threading
        from nanomsg_rs.compat import nanomsg
        s = nanomsg.Socket(nanomsg.PAIR)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            nanomsg.poll([s], [], -1)
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip() == "KeyboardInterrupt", proc.stderr


def test_module_all_is_complete() -> None:
    for name in nanomsg.__all__:
        assert hasattr(nanomsg, name), name
