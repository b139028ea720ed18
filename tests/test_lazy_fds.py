"""Lazy readiness fds (patch 0035): the library signals a socket's NN_RCVFD/NN_SNDFD eventfd
only while somebody waits, and a waiter never misses a wake-up.

In C, below the binding: ``nanomsg/tests/lazyfd.c`` on the archive the installed wheel links
(a million messages between two threads with waiters of every kind, close, what the options
do). Through the binding: it waits as a registered poller (``NN_POLL_ENTER``), so a send or a
receive that does not wait costs no system call, while blocking calls, ``poll``, ``device``
and a close from another thread behave as before; the plain ``rcvfd``/``sndfd`` options keep
upstream's fds, which track readiness whether anybody waits or not."""

from __future__ import annotations

import select
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from support import NANOMSG, ROOT, build_c_on_wheel, needs_hardened_c, run_reporting

import nanomsg_rs as nn

SOURCE = ROOT / "nanomsg" / "tests" / "lazyfd.c"


# The C program and the system call counts are our hardened library's own (needs_hardened_c);
# the waits, the plain fds and the device hold on every backend.
@pytest.fixture(scope="module")
def lazyfd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lazyfd.c compiled on the hardened archive of the last ``make wheel``."""
    return build_c_on_wheel(tmp_path_factory, SOURCE, opt="-O2")


# (scenario, messages): a million where both sides wait in turn, fewer where the scenario is
# slower per message or only adds a kind of waiter.
SCENARIOS = [
    ("semantics", 0),
    ("close", 0),
    ("blocking", 200_000),
    ("poller", 1_000_000),
    ("nnpoll", 200_000),
    ("ipc", 500_000),
]


@needs_hardened_c
def test_every_scenario_is_run(lazyfd: Path) -> None:
    """The table above names every scenario the program has."""
    listing = subprocess.run([str(lazyfd)], capture_output=True, text=True, check=True)
    names = {line.split()[0] for line in listing.stdout.splitlines() if line.strip()}
    assert names == {name for name, _ in SCENARIOS}


@needs_hardened_c
@pytest.mark.timeout(120)
@pytest.mark.parametrize(("scenario", "count"), SCENARIOS, ids=[s for s, _ in SCENARIOS])
def test_lazyfd(lazyfd: Path, scenario: str, count: int) -> None:
    """Each scenario passes: no waiter sleeps 10 s while a message is due, every message
    arrives (in order where one consumer takes them all), close wakes every waiter."""
    args = [str(lazyfd), scenario] + ([str(count)] if count else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=110, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"{scenario}: passed"


# --------------------------------------------------------------------------------------------
# Through the binding
# --------------------------------------------------------------------------------------------


def io_syscalls() -> int:
    """read(2)- and write(2)-like system calls of this process so far (all threads)."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["syscr"]) + int(fields["syscw"])


def pair(name: str) -> tuple[nn.Socket, nn.Socket]:
    a, b = nn.Socket(nn.PAIR), nn.Socket(nn.PAIR)
    a.bind(f"inproc://{name}")
    b.connect(f"inproc://{name}")
    a.rcvtimeo = b.rcvtimeo = a.sndtimeo = b.sndtimeo = 10_000
    return a, b


def one_by_one(a: nn.Socket, b: nn.Socket, n: int) -> None:
    for _ in range(n):
        b.send(b"m" * 64)
        a.recv()


def into_a_buffer(a: nn.Socket, b: nn.Socket, n: int) -> None:
    buf = bytearray(64)
    for _ in range(n):
        b.send(b"m" * 64)
        a.recv_into(buf)


def zero_copy(a: nn.Socket, b: nn.Socket, n: int) -> None:
    for _ in range(n):
        b.send(b"m" * 64)
        a.recv_msg()


def batches(a: nn.Socket, b: nn.Socket, n: int) -> None:
    for _ in range(n // 100):
        b.send_many([b"m" * 64] * 100)
        assert len(a.recv_many(100)) == 100


@pytest.mark.backend("nanomsg", reason="nng's own threads and fds move its messages")
@needs_hardened_c
@pytest.mark.parametrize("moves", [one_by_one, into_a_buffer, zero_copy, batches])
def test_messages_nobody_waits_for_cost_no_system_call(
    moves: Callable[[nn.Socket, nn.Socket, int], None],
) -> None:
    """10,000 inproc messages sent and received in one thread, none of them waited for: no
    system call, also after the binding has waited on both sockets' fds (a receive that timed
    out, a poll): it polls the lazy fds as a registered waiter. (Upstream's eventfds, which
    the binding polled before, cost four calls a message: written when a message came, read
    when it went, on each side, once somebody had asked for them.)"""
    a, b = pair(f"quiet-{moves.__name__}")
    with a, b:
        a.rcvtimeo = 10
        with pytest.raises(nn.Timeout):
            a.recv()
        a.rcvtimeo = 10_000
        both = nn.POLLIN | nn.POLLOUT
        assert nn.poll([(a, both), (b, both)], 0) == [nn.POLLOUT, nn.POLLOUT]
        moves(a, b, 100)
        before = io_syscalls()
        moves(a, b, 10_000)
        calls = io_syscalls() - before
    assert calls < 100, f"{calls} read/write system calls for 10,000 messages"


def test_plain_fds_track_readiness_with_nobody_waiting() -> None:
    """``rcvfd``/``sndfd`` are upstream's fds: once asked for, they poll readable whenever the
    socket is ready, with nobody registered; a message queued before it was asked for
    included."""
    a, b = pair("plain")
    with a, b:
        # "readable" is waited for (up to 5 s): nng hands a message over on its own threads,
        # so it may still be on its way when send() returns
        b.send(b"queued before rcvfd was asked for")
        rcvfd = a.rcvfd
        assert select.select([rcvfd], [], [], 5.0)[0] == [rcvfd]
        assert a.recv() == b"queued before rcvfd was asked for"
        assert select.select([rcvfd], [], [], 0)[0] == []
        b.send(b"next")
        assert select.select([rcvfd], [], [], 5.0)[0] == [rcvfd]
        sndfd = b.sndfd
        assert select.select([sndfd], [], [], 5.0)[0] == [sndfd]


def receive_blocking(a: nn.Socket, n: int) -> list[bytes]:
    return [a.recv() for _ in range(n)]


def receive_after_poll(a: nn.Socket, n: int) -> list[bytes]:
    got: list[bytes] = []
    while len(got) < n:
        assert nn.poll([(a, nn.POLLIN)], 10_000) == [nn.POLLIN], "poll slept 10 s"
        got.append(a.recv(block=False))
    return got


def receive_batches(a: nn.Socket, n: int) -> list[bytes]:
    got: list[bytes] = []
    while len(got) < n:
        batch = a.recv_many(64, timeout=10.0)
        assert batch, "recv_many slept 10 s"
        got.extend(batch)
    return got


@pytest.mark.timeout(120)
@pytest.mark.parametrize("receive", [receive_blocking, receive_after_poll, receive_batches])
def test_waiters_wake_for_every_message(receive: Callable[[nn.Socket, int], list[bytes]]) -> None:
    """A thread sends 20,000 messages into buffers of one message, so that both sides keep
    waiting on each other: every message arrives, in order, and no wait lasts its 10 s."""
    a, b = pair(f"waiters-{receive.__name__}")
    with a, b:
        if NANOMSG:  # nng has no byte-sized buffers: its own queues then
            a.rcvbuf = b.sndbuf = 16
        sent: dict[str, BaseException] = {}

        def send() -> None:
            try:
                for i in range(20_000):
                    b.send(b"%08d" % i)
            except BaseException as e:  # reported below
                sent["exc"] = e

        t = threading.Thread(target=send)
        t.start()
        got = receive(a, 20_000)
        t.join()
    assert "exc" not in sent, sent
    assert got == [b"%08d" % i for i in range(20_000)]


def test_busy_device_still_sees_ctrl_c() -> None:
    """A device that always has a message to move never waits, so it never sits in a system
    call that a signal would interrupt: it still gives the caller a look at signals every
    few messages, and Ctrl-C ends it promptly."""
    r = run_reporting(
        """
        import os, signal, threading, time
        import nanomsg_rs as nn
        front, back = nn.Socket(nn.PULL, nn.AF_SP_RAW), nn.Socket(nn.PUSH, nn.AF_SP_RAW)
        front.bind("inproc://front"); back.bind("inproc://back")
        push, pull = nn.Socket(nn.PUSH), nn.Socket(nn.PULL)
        push.connect("inproc://front"); pull.connect("inproc://back")
        stop = threading.Event()
        moved = []
        def feed():
            while not stop.is_set():
                try:
                    push.send_many([b"m" * 64] * 64)
                except nn.NanomsgError:
                    return
        def drain():
            while not stop.is_set():
                moved.extend(pull.recv_many(256, timeout=0.1))
        threads = [threading.Thread(target=f, daemon=True) for f in (feed, drain)]
        for t in threads:
            t.start()
        def ctrl_c():
            time.sleep(0.5)
            box["sent"] = time.monotonic()
            os.kill(os.getpid(), signal.SIGINT)
        box = {}
        threading.Thread(target=ctrl_c, daemon=True).start()
        exc = raised(lambda: nn.device(front, back))
        delay = time.monotonic() - box["sent"]
        stop.set()
        report(exc=exc, delay=delay, moved=len(moved))
        """
    )
    assert r["exc"] == "KeyboardInterrupt", r
    assert r["moved"] > 1000, r  # the device was busy when the signal came
    assert r["delay"] < 2.0, r
