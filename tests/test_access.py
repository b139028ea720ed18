"""Who may connect (patches 0062, 0063): the ipc socket file's mode (``ipc_permissions``), an
allow-list of peer users checked at accept (``ipc_peer_uids``, ``SO_PEERCRED``), and a cap
on the connections a socket's listeners hold (``maxconn``), so that a flood of connections
cannot take every file descriptor. Real sockets; each test fails on a library without the
option (NotSupported, or the peer let in)."""

from __future__ import annotations

import os
import shutil
import socket as pysocket
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support import free_tcp_port, make_address, timeouts, wait_until

import nanomsg_rs as nn

SockFactory = Callable[..., nn.Socket]

pytestmark = pytest.mark.backend("nanomsg", reason="nng lacks these options: NotSupported")

REFUSED = nn.Statistic.REFUSED_CONNECTIONS


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- ipc_permissions ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o660, 0o700, 0o777])
def test_ipc_socket_file_has_the_mode_whatever_the_umask(
    sock: SockFactory, tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "perm.ipc"
    s = sock("rep")
    s.ipc_permissions = mode
    assert s.ipc_permissions == mode
    old = os.umask(0o022 if mode == 0o777 else 0)  # the umask would give 0o755 or 0o777
    try:
        s.bind(f"ipc://{path}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    # and it still works
    c = sock("req")
    timeouts(s, c)
    c.connect(f"ipc://{path}")
    c.send(b"hi")
    assert s.recv() == b"hi"


def test_ipc_permissions_default_is_the_umask(sock: SockFactory, tmp_path: Path) -> None:
    s = sock("pair")
    assert s.ipc_permissions == 0
    old = os.umask(0o077)
    try:
        s.bind(f"ipc://{tmp_path}/umask.ipc")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "umask.ipc").st_mode) == 0o700


@pytest.mark.parametrize("bad", [-1, 0o1000, 512])
def test_ipc_permissions_range(sock: SockFactory, bad: int) -> None:
    s = sock("pair")
    with pytest.raises(nn.InvalidArgument, match="0o777"):
        s.ipc_permissions = bad
    assert s.ipc_permissions == 0


# -- ipc_peer_uids -------------------------------------------------------------------------------


def test_a_peer_left_out_is_refused_and_counted_the_others_go_on(
    sock: SockFactory, tmp_path: Path
) -> None:
    address = f"ipc://{tmp_path}/uids.ipc"
    rep = sock("pair")
    timeouts(rep, ms=300)
    rep.bind(address)
    # a connection made while anyone may connect
    kept = sock("pair")
    timeouts(kept)
    kept.connect(address)
    wait_until(lambda: rep.statistic(nn.Statistic.CURRENT_CONNECTIONS) == 1)
    # from now on only another user than ours
    rep.ipc_peer_uids = [os.getuid() + 1]
    assert rep.ipc_peer_uids == [os.getuid() + 1]
    intruder = sock("pair")
    intruder.connect(address)
    wait_until(lambda: rep.statistic(REFUSED) >= 2, what="refused, twice (it reconnects)")
    assert rep.statistic(nn.Statistic.CURRENT_CONNECTIONS) == 1
    # the connection made before is not touched
    kept.send(b"still here")
    assert rep.recv() == b"still here"
    rep.send(b"yes")
    assert kept.recv() == b"yes"


def test_a_listed_peer_is_served(sock: SockFactory, tmp_path: Path) -> None:
    address = f"ipc://{tmp_path}/listed.ipc"
    rep = sock("rep")
    rep.ipc_peer_uids = [12345, os.getuid()]
    rep.bind(address)
    req = sock("req")
    timeouts(rep, req)
    req.connect(address)
    req.send(b"mine")
    assert rep.recv() == b"mine"
    assert rep.statistic(REFUSED) == 0


def test_a_refused_peer_is_served_once_listed(sock: SockFactory, tmp_path: Path) -> None:
    address = f"ipc://{tmp_path}/later.ipc"
    rep = sock("rep")
    rep.ipc_peer_uids = [os.getuid() + 1]
    rep.bind(address)
    req = sock("req")
    req.reconnect_ivl = 20
    timeouts(rep, req)
    req.connect(address)
    wait_until(lambda: rep.statistic(REFUSED) >= 1)
    rep.ipc_peer_uids = []  # anyone again: applies at the next accept
    assert rep.ipc_peer_uids == []
    req.send(b"at last")
    assert rep.recv() == b"at last"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user")
def test_another_user_is_refused_then_served(sock: SockFactory) -> None:
    """A forked child that becomes user nobody (65534) connects, speaking PAIR itself on a
    raw Unix socket: refused while only root is listed, served once nobody is too."""
    # a directory every user can reach (pytest's tmp_path sits under a private one)
    shared = tempfile.mkdtemp(prefix="nnrs-access-")
    os.chmod(shared, 0o777)
    path = os.path.join(shared, "other.ipc")
    pair = sock("pair")
    pair.ipc_permissions = 0o777
    pair.ipc_peer_uids = [0]
    timeouts(pair)
    pair.bind(f"ipc://{path}")

    def as_nobody(message: bytes) -> int:
        """Connects as nobody and sends one message; the child's exit status: 0 when the
        server answered it ("welcome"), 1 when it closed the connection at once."""
        pid = os.fork()
        if pid == 0:  # the child: raw system calls only, then _exit
            status = 2
            try:
                os.setgid(65534)
                os.setuid(65534)
                with pysocket.socket(pysocket.AF_UNIX) as s:
                    s.settimeout(10)
                    s.connect(path)
                    try:
                        s.sendall(b"\0SP\0\0\x10\0\0")  # a PAIR's SP header
                        header = s.recv(8)
                    except (ConnectionResetError, BrokenPipeError):  # closed on us
                        header = b""
                    if header == b"\0SP\0\0\x10\0\0":
                        # an ipc frame: type 1, the size, the body; then the answer's
                        s.sendall(b"\x01" + len(message).to_bytes(8, "big") + message)
                        answer = b""
                        while len(answer) < 9 + 7:
                            answer += s.recv(64)
                        status = 0 if answer == b"\x01" + (7).to_bytes(8, "big") + b"welcome" else 3
                    else:
                        status = 1
            finally:
                os._exit(status)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    assert as_nobody(b"let me in") == 1
    assert pair.statistic(REFUSED) == 1
    pair.ipc_peer_uids = [0, 65534]
    child = threading.Thread(target=lambda: statuses.append(as_nobody(b"from nobody")))
    statuses: list[int] = []
    child.start()
    assert pair.recv() == b"from nobody"
    pair.send(b"welcome")
    child.join(timeout=20)
    assert statuses == [0]
    assert pair.statistic(REFUSED) == 1
    pair.close()
    shutil.rmtree(shared, ignore_errors=True)


def test_peer_uids_argument_checks(sock: SockFactory) -> None:
    s = sock("pair")
    with pytest.raises(TypeError, match="iterable of ints"):
        s.ipc_peer_uids = 5  # type: ignore[assignment]
    with pytest.raises(TypeError, match="a uid must be an int"):
        s.ipc_peer_uids = ["0"]  # type: ignore[list-item]
    with pytest.raises(ValueError, match="from 0 to 4294967294"):
        s.ipc_peer_uids = [-1]
    with pytest.raises(ValueError, match="at most 64"):
        s.ipc_peer_uids = range(65)
    s.ipc_peer_uids = range(64)
    assert s.ipc_peer_uids == list(range(64))
    s.ipc_peer_uids = (2**32 - 2,)
    assert s.ipc_peer_uids == [2**32 - 2]


# -- maxconn -------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc", "ws"])
def test_capped_listener_holds_that_many_and_serves_everyone_in_turn(
    sock: SockFactory, transport: str
) -> None:
    address = make_address(transport)
    rep = sock("rep")
    rep.maxconn = 2
    assert rep.maxconn == 2
    timeouts(rep)
    rep.bind(address)
    clients = []
    for i in range(5):
        c = sock("req")
        c.reconnect_ivl = 20
        timeouts(c, ms=15000)
        c.connect(address)
        c.send(b"%d" % i)
        clients.append(c)
    time.sleep(0.5)
    assert rep.statistic(nn.Statistic.ACCEPTED_CONNECTIONS) == 2
    assert rep.statistic(nn.Statistic.CURRENT_CONNECTIONS) == 2
    served = set()
    for _ in range(5):
        request = rep.recv()
        rep.send(b"re " + request)
        n = int(request)
        assert clients[n].recv() == b"re " + request
        served.add(n)
        clients[n].close()  # makes room for the next one
        assert rep.statistic(nn.Statistic.CURRENT_CONNECTIONS) <= 2
    assert served == set(range(5))


def test_a_flood_takes_no_more_descriptors_than_the_cap(sock: SockFactory) -> None:
    """200 raw connections to a socket capped at 2: it holds 2 of them (2 descriptors more),
    the rest wait in the backlog; without the cap, it would hold every one."""
    port = free_tcp_port()
    rep = sock("rep")
    rep.maxconn = 2
    rep.bind(f"tcp://127.0.0.1:{port}")
    before = open_fds()
    flood = []
    try:
        for _ in range(200):
            s = pysocket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            flood.append(s)
        time.sleep(0.5)
        # at most 2 descriptors more (another test's garbage may close one meanwhile)
        held = open_fds() - before - len(flood)
        assert held <= 2, held
        assert rep.statistic(nn.Statistic.ACCEPTED_CONNECTIONS) == 2
    finally:
        for s in flood:
            s.close()


@pytest.mark.parametrize("transport", ["tcp", "ws"])
def test_a_flood_past_the_backlog_is_refused_and_counted(sock: SockFactory, transport: str) -> None:
    """300 raw connections to a socket capped at 2: 2 are held, the backlog (100) holds what
    it can, and what it cannot hold is refused (reset) and counted (patch 0064: the kernel
    dropped those SYNs unseen); the socket still holds no more than 2 descriptors."""
    port = free_tcp_port()
    rep = sock("rep")
    rep.maxconn = 2
    rep.bind(f"{transport}://127.0.0.1:{port}")
    assert rep.statistic(nn.Statistic.REFUSED_CONNECTIONS) == 0
    before = open_fds()
    flood = []
    try:
        for _ in range(300):
            s = pysocket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            flood.append(s)
        wait_until(lambda: rep.statistic(nn.Statistic.REFUSED_CONNECTIONS) >= 1, what="a refusal")
        # A held raw peer sends no SP header: it is dropped when the header exchange times out
        # (1 s) and a waiting one is accepted in its place, so on a loaded machine, where the
        # refusal can come later than that, more than 2 were accepted (4 in one CI run); never
        # more than 2 at once.
        assert rep.statistic(nn.Statistic.ACCEPTED_CONNECTIONS) >= 2
        assert rep.statistic(nn.Statistic.CURRENT_CONNECTIONS) <= 2
        held = open_fds() - before - len(flood)
        assert held <= 2, held
    finally:
        for s in flood:
            s.close()


def test_uncapped_listener_holds_every_connection(sock: SockFactory) -> None:
    """The behaviour the cap changes (and the default): every connection is accepted."""
    port = free_tcp_port()
    rep = sock("rep")
    assert rep.maxconn == 0
    rep.bind(f"tcp://127.0.0.1:{port}")
    before = open_fds()
    flood = [pysocket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    try:
        wait_until(lambda: rep.statistic(nn.Statistic.ACCEPTED_CONNECTIONS) == 50)
        assert open_fds() - before - len(flood) >= 45  # (see above)
    finally:
        for s in flood:
            s.close()


@pytest.mark.parametrize("transport", ["tcp", "ipc", "ws"])
def test_closing_a_socket_at_its_cap_returns(sock: SockFactory, transport: str) -> None:
    address = make_address(transport)
    rep = sock("rep")
    rep.maxconn = 1
    rep.bind(address)
    clients = [sock("req") for _ in range(3)]
    for c in clients:
        c.connect(address)
    wait_until(lambda: rep.statistic(nn.Statistic.ACCEPTED_CONNECTIONS) == 1)
    time.sleep(0.3)  # the listener waits at its cap
    started = time.monotonic()
    rep.close()
    assert time.monotonic() - started < 5


def test_maxconn_range(sock: SockFactory) -> None:
    s = sock("pair")
    with pytest.raises(nn.InvalidArgument, match="0 \\(no cap\\)"):
        s.maxconn = -1
    s.maxconn = 2**31 - 1
    assert s.maxconn == 2**31 - 1
