"""``nanomsg_rs.compat.nnpy``: nnpy 1.4.2's API, checked in our own words.

The same calls, return values, exception class and attributes as nnpy where nnpy works;
``NNError`` instead of nnpy's silent failures and crashes where it does not (a socket that
cannot be made, a closed socket, an unknown statistic, an unknown prefix to unsubscribe).
nnpy's own suite runs against the module in ``.ci/test-compat-upstream``.
"""

from __future__ import annotations

import gc
import select
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from support import PROBE, linked, make_address, per_backend, wait_reachable

import nanomsg_rs as nn
import nanomsg_rs.compat.nnpy as nnpy

Factory = Callable[[int, int], nnpy.Socket]


@pytest.fixture
def nsock() -> Iterator[Factory]:
    """``nsock(AF_SP, PAIR)``: a compat socket, closed after the test."""
    made: list[nnpy.Socket] = []

    def factory(domain: int, protocol: int) -> nnpy.Socket:
        s = nnpy.Socket(domain, protocol)
        made.append(s)
        return s

    yield factory
    for s in made:
        s.socket.close()


def pair(nsock: Factory, transport: str = "inproc") -> tuple[nnpy.Socket, nnpy.Socket]:
    """Two connected compat PAIR sockets."""
    return linked(nsock(nnpy.AF_SP, nnpy.PAIR), nsock(nnpy.AF_SP, nnpy.PAIR), transport)


# -- the module's names ---------------------------------------------------------------------


@pytest.mark.backend("nanomsg", reason="nng has no nn_symbol_info to compare with")
def test_every_symbol_of_the_library_is_a_constant() -> None:
    # nnpy generates its constants from nn_symbol: every name, NN_ dropped.
    for symbol in nn.symbols():
        name = symbol.name.removeprefix("NN_")
        assert getattr(nnpy, name) == symbol.value, name


def test_constants_have_nanomsgs_values() -> None:
    assert (nnpy.AF_SP, nnpy.AF_SP_RAW) == (1, 2)
    assert (nnpy.PAIR, nnpy.PUB, nnpy.SUB, nnpy.REQ, nnpy.REP) == (16, 32, 33, 48, 49)
    assert (nnpy.PUSH, nnpy.PULL, nnpy.SURVEYOR, nnpy.RESPONDENT, nnpy.BUS) == (
        80,
        81,
        98,
        99,
        112,
    )
    assert (nnpy.SOL_SOCKET, nnpy.DONTWAIT, nnpy.POLLIN, nnpy.POLLOUT) == (0, 1, 1, 2)
    # Option numbers are the linked library's (nng numbers its protocol options its own way).
    assert nnpy.constants.SUB_SUBSCRIBE == nnpy.SUB_SUBSCRIBE == nn.SUB_SUBSCRIBE
    assert nnpy.SUB_SUBSCRIBE == per_backend(nanomsg=1, nng=529)


def test_errors_module_and_class() -> None:
    assert nnpy.errors.NNError is nnpy.NNError
    assert issubclass(nnpy.NNError, Exception)
    e = nnpy.NNError(11, "Resource temporarily unavailable")
    assert e.error_no == e.errno == 11
    assert str(e) == "Resource temporarily unavailable"
    assert e.args == ("Resource temporarily unavailable",)


# -- sockets --------------------------------------------------------------------------------


def test_socket_number_and_native_socket(nsock: Factory) -> None:
    s = nsock(nnpy.AF_SP, nnpy.PUB)
    assert isinstance(s.sock, int)
    assert s.sock == s.socket.fd
    assert isinstance(s.socket, nn.Socket)
    assert s.socket.protocol is nn.Protocol.PUB
    assert s.getsockopt(nnpy.SOL_SOCKET, nnpy.DOMAIN) == nnpy.AF_SP
    assert s.getsockopt(nnpy.SOL_SOCKET, nnpy.PROTOCOL) == nnpy.PUB


def test_raw_socket(nsock: Factory) -> None:
    s = nsock(nnpy.AF_SP_RAW, nnpy.REP)
    assert s.getsockopt(nnpy.SOL_SOCKET, nnpy.DOMAIN) == nnpy.AF_SP_RAW


@pytest.mark.parametrize(
    ("domain", "protocol"), [(99, 16), (1, 12345), (-1, -1)], ids=["domain", "protocol", "both"]
)
def test_a_socket_that_cannot_be_made_raises_nnerror(domain: int, protocol: int) -> None:
    # nnpy keeps -1 as the number and fails later; here it fails at once.
    with pytest.raises(nnpy.NNError) as info:
        nnpy.Socket(domain, protocol)
    # nng says ENOTSUP for a protocol it does not know.
    expected = {nnpy.EINVAL, nnpy.EAFNOSUPPORT, nnpy.EPROTONOSUPPORT}
    assert info.value.error_no in expected | per_backend(nanomsg=set(), nng={nn.ENOTSUP})
    assert isinstance(info.value.__cause__, nn.NanomsgError)


def test_socket_out_of_descriptors_raises_emfile() -> None:
    # RLIMIT_NOFILE lowered to 64 more than are open: the sockets run out of descriptors
    # (libnanomsg's own limit, NN_MAX_SOCKETS, is 16,384), and nnpy says EMFILE.
    code = textwrap.dedent(
        """
        import os, resource
        import nanomsg_rs.compat.nnpy as nnpy
        top = os.dup(0)
        os.close(top)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top + 64, hard))
        made = []
        try:
            while len(made) < 2000:
                made.append(nnpy.Socket(nnpy.AF_SP, nnpy.PAIR))
        except nnpy.NNError as e:
            print(0 < len(made) < 64, e.error_no == nnpy.EMFILE)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    ).stdout.split()
    assert out == ["True", "True"]


def test_bind_connect_return_endpoint_ids_and_shutdown_returns_0(nsock: Factory) -> None:
    a, b = nsock(nnpy.AF_SP, nnpy.PAIR), nsock(nnpy.AF_SP, nnpy.PAIR)
    address = make_address("tcp")
    ep_a = a.bind(address)
    ep_b = b.connect(address.encode())
    assert isinstance(ep_a, int) and isinstance(ep_b, int)
    assert b.shutdown(ep_b) == 0
    with pytest.raises(nnpy.NNError) as info:
        b.shutdown(ep_b)
    assert info.value.error_no == nnpy.EINVAL


def test_bind_errors(nsock: Factory) -> None:
    s = nsock(nnpy.AF_SP, nnpy.PAIR)
    with pytest.raises(nnpy.NNError) as info:
        s.bind("nonsense://x")
    assert info.value.error_no == nnpy.EPROTONOSUPPORT
    address = make_address("tcp")
    s.bind(address)
    other = nsock(nnpy.AF_SP, nnpy.PAIR)
    with pytest.raises(nnpy.NNError) as info:
        other.bind(address)
    assert info.value.error_no == nnpy.EADDRINUSE


@pytest.mark.parametrize("transport", ["inproc", "ipc", "tcp"])
def test_send_returns_size_and_recv_returns_bytes(nsock: Factory, transport: str) -> None:
    a, b = pair(nsock, transport)
    assert b.send(b"hello") == 5
    assert a.recv() == b"hello"
    assert a.send("h\u00e9") == 3  # str goes as UTF-8: 3 bytes
    assert b.recv() == "h\u00e9".encode()
    assert a.send(bytearray(b"ba")) == 2
    assert a.send(memoryview(b"mv")) == 2
    assert [b.recv(), b.recv()] == [b"ba", b"mv"]


def test_dontwait_raises_eagain(nsock: Factory) -> None:
    a, _ = pair(nsock)
    with pytest.raises(nnpy.NNError) as info:
        a.recv(nnpy.DONTWAIT)
    assert info.value.error_no == nnpy.EAGAIN
    assert isinstance(info.value.__cause__, nn.Again)
    push = nsock(nnpy.AF_SP, nnpy.PUSH)
    push.connect(make_address("inproc"))
    with pytest.raises(nnpy.NNError) as info:
        push.send(b"nobody there", nnpy.DONTWAIT)
    assert info.value.error_no == nnpy.EAGAIN


def test_flags_take_any_int_and_nothing_else(nsock: Factory) -> None:
    """Only the DONTWAIT bit counts (a bool is the int it is, as in nnpy's cffi call); a
    flags of another type is a TypeError, sent or received."""
    a, _ = pair(nsock)
    for flags in (True, nnpy.DONTWAIT | 8):
        with pytest.raises(nnpy.NNError) as info:
            a.recv(flags)
        assert info.value.error_no == nnpy.EAGAIN
    with pytest.raises(TypeError, match="flags must be an int, not str"):
        a.recv("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="flags must be an int, not float"):
        a.send(b"x", 1.0)  # type: ignore[arg-type]


def test_receive_timeout_raises_etimedout_with_the_text(nsock: Factory) -> None:
    # A REP that never answers: nng's REQ takes a request only once a peer is there.
    address = make_address("inproc")
    nsock(nnpy.AF_SP, nnpy.REP).bind(address)
    req = nsock(nnpy.AF_SP, nnpy.REQ)
    req.connect(address)
    req.setsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO, 50)
    assert req.getsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO) == 50
    req.send(b"anyone?")
    with pytest.raises(nnpy.NNError) as info:
        req.recv()
    assert info.value.error_no == nnpy.ETIMEDOUT
    assert str(info.value) == nn.strerror(nnpy.ETIMEDOUT)


def test_req_recv_before_send_raises_efsm(nsock: Factory) -> None:
    req = nsock(nnpy.AF_SP, nnpy.REQ)
    with pytest.raises(nnpy.NNError) as info:
        req.recv()
    assert info.value.error_no == nnpy.EFSM


def test_setsockopt_takes_int_str_and_bytes_only(nsock: Factory) -> None:
    s = nsock(nnpy.AF_SP, nnpy.SUB)
    assert s.setsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO, 4096) is None
    s.setsockopt(nnpy.SUB, nnpy.SUB_SUBSCRIBE, "")
    s.setsockopt(nnpy.SUB, nnpy.SUB_SUBSCRIBE, b"raw")
    s.setsockopt(nnpy.SOL_SOCKET, nnpy.SOCKET_NAME, "named")
    assert s.socket.socket_name == "named"
    for bad in (1.5, bytearray(b"x"), None, [1]):
        with pytest.raises(TypeError, match="int, str or bytes"):
            s.setsockopt(nnpy.SUB, nnpy.SUB_SUBSCRIBE, bad)  # type: ignore[arg-type]
    with pytest.raises(nnpy.NNError) as info:
        s.setsockopt(nnpy.SOL_SOCKET, 9999, 1)
    assert info.value.error_no == nnpy.ENOPROTOOPT


def test_subscription_prefixes_str_and_bytes(nsock: Factory) -> None:
    address = make_address("inproc")
    pub, sub = nsock(nnpy.AF_SP, nnpy.PUB), nsock(nnpy.AF_SP, nnpy.SUB)
    pub.bind(address)
    sub.connect(address)
    # nng connects in the background: probe until connected (probes start with PROBE)
    sub.setsockopt(nnpy.SUB, nnpy.SUB_SUBSCRIBE, PROBE)
    wait_reachable(pub.socket, [sub.socket], broadcast=True)
    sub.setsockopt(nnpy.SUB, nnpy.SUB_UNSUBSCRIBE, PROBE)
    sub.setsockopt(nnpy.SUB, nnpy.SUB_SUBSCRIBE, "caf\u00e9")  # whole, as UTF-8
    sub.setsockopt(nnpy.SUB, nnpy.SUB_SUBSCRIBE, b"\x00bin")
    sub.setsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO, 2000)
    for msg in ["cafe no", "caf\u00e9 yes", "other", "\x00bin yes"]:
        pub.send(msg)
    assert sub.recv() == "caf\u00e9 yes".encode()
    assert sub.recv() == b"\x00bin yes"
    sub.setsockopt(nnpy.SUB, nnpy.SUB_UNSUBSCRIBE, b"\x00bin")


def test_unsubscribing_an_unknown_prefix_raises_einval(nsock: Factory) -> None:
    # A segfault with nnpy on libnanomsg 1.1.5.
    sub = nsock(nnpy.AF_SP, nnpy.SUB)
    with pytest.raises(nnpy.NNError) as info:
        sub.setsockopt(nnpy.SUB, nnpy.SUB_UNSUBSCRIBE, "never")
    assert info.value.error_no == nnpy.EINVAL


def test_rcvfd_is_an_os_descriptor_to_select_on(nsock: Factory) -> None:
    a, b = pair(nsock)
    fd = a.getsockopt(nnpy.SOL_SOCKET, nnpy.RCVFD)
    assert select.select([fd], [], [], 0)[0] == []
    b.send(b"ready")
    assert select.select([fd], [], [], 2)[0] == [fd]
    assert a.recv() == b"ready"


@pytest.mark.backend("nanomsg", reason="nng keeps no statistics")
def test_get_statistic(nsock: Factory) -> None:
    a, b = pair(nsock)
    b.send(b"12345")
    a.recv()
    assert b.get_statistic(nnpy.STAT_MESSAGES_SENT) == 1
    assert b.get_statistic(nnpy.STAT_BYTES_SENT) == 5
    assert a.get_statistic(nnpy.STAT_MESSAGES_RECEIVED) == 1
    # nnpy returns 2**64 - 1 here, unchecked.
    with pytest.raises(nnpy.NNError) as info:
        a.get_statistic(9999)
    assert info.value.error_no == nnpy.EINVAL


# -- PollSet --------------------------------------------------------------------------------


def test_pollset(nsock: Factory) -> None:
    a, b = pair(nsock)
    poller = nnpy.PollSet((a, nnpy.POLLIN), (b, nnpy.POLLIN | nnpy.POLLOUT))
    assert poller.data == [(a.sock, nnpy.POLLIN, 0), (b.sock, nnpy.POLLIN | nnpy.POLLOUT, 0)]
    assert poller.poll() == [0, nnpy.POLLOUT]
    b.send(b"x")
    # b is writable again once its send has gone (at once on libnanomsg; nng may take a
    # moment): poll until it is, within a deadline.
    deadline = time.monotonic() + 5
    while (events := poller.poll(1000)) != [nnpy.POLLIN, nnpy.POLLOUT]:
        assert events[0] in (0, nnpy.POLLIN)
        assert time.monotonic() < deadline, events
    a.recv()
    start = time.monotonic()
    assert nnpy.PollSet((a, nnpy.POLLIN)).poll(100) == [0]
    assert time.monotonic() - start >= 0.09


def test_pollset_on_a_closed_socket_raises_ebadf(nsock: Factory) -> None:
    a, _ = pair(nsock)
    poller = nnpy.PollSet((a, nnpy.POLLIN))
    a.close()
    with pytest.raises(nnpy.NNError) as info:
        poller.poll()
    assert info.value.error_no == nnpy.EBADF


# -- closing --------------------------------------------------------------------------------


def test_close_returns_0_then_every_call_raises_ebadf(nsock: Factory) -> None:
    a, _ = pair(nsock)
    assert a.close() == 0
    calls: list[Callable[[], object]] = [
        a.close,
        lambda: a.send(b"x"),
        a.recv,
        lambda: a.bind(make_address("inproc")),
        lambda: a.connect(make_address("inproc")),
        lambda: a.shutdown(1),
        lambda: a.getsockopt(nnpy.SOL_SOCKET, nnpy.LINGER),
        lambda: a.setsockopt(nnpy.SOL_SOCKET, nnpy.LINGER, 0),
        lambda: a.get_statistic(nnpy.STAT_MESSAGES_SENT),
    ]
    for call in calls:
        with pytest.raises(nnpy.NNError) as info:
            call()
        assert info.value.error_no == nnpy.EBADF


@pytest.mark.backend("nanomsg", reason="nng never hands a socket number out again")
def test_a_closed_socket_never_acts_on_its_numbers_new_owner(nsock: Factory) -> None:
    old = nsock(nnpy.AF_SP, nnpy.PAIR)
    number = old.sock
    old.close()
    # libnanomsg hands the number freed last out first; a socket that garbage collection
    # closed meanwhile would come before it: a few more sockets reach it.
    successor = nsock(nnpy.AF_SP, nnpy.PAIR)
    for _ in range(16):
        if successor.sock == number:
            break
        successor = nsock(nnpy.AF_SP, nnpy.PAIR)
    assert successor.sock == number
    successor.setsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO, 77)
    with pytest.raises(nnpy.NNError):
        old.setsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO, 1)
    with pytest.raises(nnpy.NNError):
        old.close()
    assert successor.getsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO) == 77


def test_garbage_collection_closes_the_socket() -> None:
    address = make_address("inproc")
    s = nnpy.Socket(nnpy.AF_SP, nnpy.PAIR)
    s.bind(address)
    del s
    gc.collect()
    again = nnpy.Socket(nnpy.AF_SP, nnpy.PAIR)
    again.bind(address)  # free again: nnpy would have leaked the first socket
    again.close()


def test_close_from_another_thread_wakes_recv(nsock: Factory) -> None:
    a, _ = pair(nsock)
    threading.Timer(0.1, a.close).start()
    with pytest.raises(nnpy.NNError) as info:
        a.recv()
    assert info.value.error_no == nnpy.EBADF


def test_ctrl_c_interrupts_recv() -> None:
    code = textwrap.dedent(
        """
        import os, signal, threading
        import nanomsg_rs.compat.nnpy as nnpy
        s = nnpy.Socket(nnpy.AF_SP, nnpy.PULL)
        s.bind("inproc://nobody")
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            s.recv()
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip() == "KeyboardInterrupt", proc.stderr
