"""Blocking calls, threads and signals: the GIL is released while a call waits and while it
copies a large message, closing a
socket from another thread wakes the call with ``nn.Closed``, Ctrl-C (SIGINT) interrupts it,
a signal handler that returns neither breaks the call nor stretches its timeout, and a
handler's exception comes out of the call. A stale handle never acts on a reused socket
number.

Everything about signals runs in a child interpreter (``subprocess``) that prints its timings
as JSON: a failure there cannot wedge pytest, and pytest-timeout's own SIGALRM is left alone.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import random
import signal
import socket
import struct
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import (
    NANOMSG,
    NNG,
    REPORT_PRELUDE,
    SockFactory,
    best_of,
    connected,
    free_tcp_port,
    make_address,
    run_in_thread,
    run_reporting,
)

import nanomsg_rs as nn

# A signal or a message must take effect within PROMPT seconds. That promise is checked as
# the best of support.TIMING_ATTEMPTS tries (support.best_of): a loaded machine can delay
# one try, not every one. Each try still asserts, every time, what is not a matter of speed.
PROMPT = 0.3
# Closing from another thread must wake the call within this, in every one of the
# ITERATIONS tries below.
CLOSE_PROMPT = 1.0


@pytest.fixture
def cleanup() -> Iterator[list[nn.Socket]]:
    """A list; every socket put in it is closed at the end of the test."""
    made: list[nn.Socket] = []
    yield made
    for s in made:
        s.close()


# --------------------------------------------------------------------------------------------
# The GIL is released while a call waits
# --------------------------------------------------------------------------------------------


def _blocked_recv(cleanup: list[nn.Socket]) -> Callable[[], Any]:
    s = nn.Socket("pull")
    cleanup.append(s)
    s.bind(make_address("inproc"))
    s.rcvtimeo = 500
    return s.recv


def _blocked_send(cleanup: list[nn.Socket]) -> Callable[[], Any]:
    s = nn.Socket("push")  # no peer: send waits
    cleanup.append(s)
    s.sndtimeo = 500
    return lambda: s.send(b"nobody listens")


def _blocked_poll(cleanup: list[nn.Socket]) -> Callable[[], Any]:
    s = nn.Socket("pull")
    cleanup.append(s)
    return lambda: nn.poll([(s, nn.POLLIN)], 500)


def _blocked_recv_many(cleanup: list[nn.Socket]) -> Callable[[], Any]:
    s = nn.Socket("pull")
    cleanup.append(s)
    s.bind(make_address("inproc"))
    s.rcvtimeo = 500
    return lambda: s.recv_many(8)


def _blocked_send_many(cleanup: list[nn.Socket]) -> Callable[[], Any]:
    s = nn.Socket("push")  # no peer: the first message waits
    cleanup.append(s)
    s.sndtimeo = 500
    return lambda: s.send_many([b"nobody", b"listens"])


@pytest.mark.parametrize(
    "make",
    [_blocked_recv, _blocked_send, _blocked_poll, _blocked_recv_many, _blocked_send_many],
    ids=["recv", "send", "poll", "recv_many", "send_many"],
)
def test_blocked_call_leaves_main_thread_running(
    cleanup: list[nn.Socket], make: Callable[[list[nn.Socket]], Callable[[], Any]]
) -> None:
    call = make(cleanup)
    t, box = run_in_thread(call)
    count = 0
    # Counting needs the GIL: if the blocked call held it, nothing would be counted until it
    # returned, 0.5 s later.
    while t.is_alive() and count < 50_000_000:
        count += 1
    t.join(5)
    assert not t.is_alive()
    assert box["end"] - box["start"] >= 0.45, f"the call did not block: {box}"
    if "exc" in box:
        assert isinstance(box["exc"], nn.Timeout)
    else:
        assert box["result"] == [0]  # poll: nothing happened
    assert count > 200_000, f"main thread counted only {count} while the call blocked"


def test_threads_blocked_in_recv_proceed_concurrently(cleanup: list[nn.Socket]) -> None:
    n = 4

    def attempt() -> float:
        """How long after the sends the last of the four receivers returned."""
        pairs = []
        for _ in range(n):
            a, b = nn.Socket("pair"), nn.Socket("pair")
            cleanup.extend([a, b])
            address = make_address("inproc")
            a.bind(address)
            b.connect(address)
            a.rcvtimeo = 5000
            pairs.append((a, b))
        runs = [run_in_thread(a.recv) for a, _ in pairs]
        time.sleep(0.3)
        assert all(t.is_alive() for t, _ in runs), "a recv returned with nothing to receive"
        t_send = time.monotonic()
        for i, (_, b) in enumerate(pairs):
            b.send(b"msg %d" % i)
        for t, _ in runs:
            t.join(5)
        for i, (t, box) in enumerate(runs):
            assert not t.is_alive()
            assert box.get("result") == b"msg %d" % i, box
            assert box["start"] < t_send < box["end"]
        return max(box["end"] for _, box in runs) - t_send

    best_of(attempt, lambda late: late < PROMPT, "the receivers woke after the sends")


# A copy of this many bytes (a send's into the library, a receive's out of it) takes tens of
# milliseconds: far longer than the moments the call holds the GIL around it.
LARGE = 128 * 1024 * 1024


def _longest_stall(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """Runs ``call`` while another thread runs Python code as fast as it can; returns how long
    the call took, the longest time within it in which the other thread did not run, and
    its result."""
    stalls: list[tuple[float, float]] = []
    stop = threading.Event()

    def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            now = time.perf_counter()
            if now - last > 0.0005:
                stalls.append((last, now))
            last = now

    t = threading.Thread(target=ticker, daemon=True)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)  # the call takes the GIL back within 1 ms of its copy
    try:
        t.start()
        time.sleep(0.02)
        start = time.perf_counter()
        result = call()
        end = time.perf_counter()
    finally:
        stop.set()
        t.join(5)
        sys.setswitchinterval(old_interval)
    longest = max((min(b, end) - max(a, start) for a, b in stalls), default=0.0)
    return end - start, max(longest, 0.0), result


# nng's nn_recv copies a message it returns as NN_MSG: inside the C call, with the GIL held,
# since the binding cannot know the size before (recv_into's buffer says it can be large).
_COPIES_IN_RECV = pytest.mark.backend(
    "nanomsg", reason="nng's nn_recv copies the message before the binding knows its size"
)


@pytest.mark.parametrize(
    "call",
    [
        "send",
        "send_parts",
        pytest.param("recv", marks=_COPIES_IN_RECV),
        "recv_into",
        pytest.param("recv_many", marks=_COPIES_IN_RECV),
        "bytes(Message)",
    ],
)
def test_a_large_copy_leaves_other_threads_running(cleanup: list[nn.Socket], call: str) -> None:
    # The message is copied between Python's memory and the library's without the GIL:
    # while a call copies 128 MiB, another thread is never stopped for half of the call (it
    # is for all of it where the GIL is held).
    pull, push = nn.Socket("pull"), nn.Socket("push")
    cleanup.extend([pull, push])
    address = make_address("inproc")
    pull.bind(address)
    push.connect(address)
    pull.rcvtimeo = push.sndtimeo = 10_000
    data = bytes(range(256)) * (LARGE // 256)
    halves = [memoryview(data)[: LARGE // 2], memoryview(data)[LARGE // 2 :]]
    target = bytearray(LARGE)

    def attempt() -> tuple[float, float]:
        if call.startswith("send"):
            run = (lambda: push.send(data)) if call == "send" else lambda: push.send_parts(halves)
            took, stalled, sent = _longest_stall(run)
            assert sent == LARGE
            got = pull.recv()
        else:
            push.send(data)
            message = pull.recv_msg() if call == "bytes(Message)" else None
            runs = {
                "recv": pull.recv,
                "recv_into": lambda: pull.recv_into(target),
                "recv_many": lambda: pull.recv_many(4),
                "bytes(Message)": lambda: bytes(message),  # type: ignore[arg-type]
            }
            took, stalled, got = _longest_stall(runs[call])
            if call == "recv_into":
                assert got == LARGE
                got = target
            elif call == "recv_many":
                assert len(got) == 1
                got = got[0]
        assert got == data
        return took, stalled

    best_of(
        attempt,
        lambda r: r[1] < r[0] / 2,
        f"{call} of {LARGE} bytes stopped the other thread (took, longest stall in s)",
    )


def test_a_large_message_copy_pins_its_buffer(sock: SockFactory) -> None:
    # bytes(m) of a large Message copies without the GIL and without the message's lock, so
    # another thread can reach the message meanwhile: a change that could move or free its
    # buffer (resize, send_msg) is refused then (BufferError, as while a memoryview is
    # alive), and allowed again once the copy is done.
    a, b = connected(sock, "pair", "pair", ms=10_000)
    size = LARGE // 2
    data = bytes(range(256)) * (size // 256)

    def attempt() -> int:
        m = nn.Message(data)
        done = threading.Event()
        refusals: list[str] = []

        def meddler() -> None:
            while not done.is_set():
                try:
                    m.resize(size)  # the same size: harmless, unless it runs during a copy
                except BufferError as e:
                    refusals.append(str(e))

        t = threading.Thread(target=meddler, daemon=True)
        t.start()
        try:
            copies = [bytes(m) for _ in range(4)]
        finally:
            done.set()
            t.join(10)
        assert not t.is_alive()
        assert all(c == data for c in copies)
        assert all("copies" in r for r in refusals), refusals[:3]
        assert a.send_msg(m) == size  # the pin went with the last copy
        assert b.recv() == data
        return len(refusals)

    best_of(attempt, lambda refusals: refusals > 0, "no resize ran into a copy")


def test_concurrent_timeouts_overlap(cleanup: list[nn.Socket]) -> None:
    # Four 0.5 s timeouts in four threads take 0.5 s in all, not 2 s.
    def attempt() -> float:
        socks = []
        for _ in range(4):
            s = nn.Socket("pull")
            cleanup.append(s)
            s.rcvtimeo = 500
            socks.append(s)
        t0 = time.monotonic()
        runs = [run_in_thread(s.recv) for s in socks]
        for t, _ in runs:
            t.join(5)
        elapsed = time.monotonic() - t0
        for t, box in runs:
            assert not t.is_alive()
            assert isinstance(box.get("exc"), nn.Timeout), box
            assert box["end"] - box["start"] >= 0.45
        return elapsed

    best_of(
        attempt, lambda elapsed: elapsed < 0.5 + 2 * PROMPT, "the timeouts ran one after another"
    )


# --------------------------------------------------------------------------------------------
# close() from another thread wakes a blocked call
# --------------------------------------------------------------------------------------------

ITERATIONS = 50


def _close_wakes(
    cleanup: list[nn.Socket],
    setup: Callable[[list[nn.Socket]], tuple[nn.Socket, Callable[[], Any]]],
) -> None:
    """``setup`` makes a socket and a call that blocks on it; closing the socket from this
    thread must make the call raise nn.Closed at once. Even iterations close surely after the
    call is waiting; odd ones at a random moment around its start."""
    for i in range(ITERATIONS):
        s, call = setup(cleanup)
        t, box = run_in_thread(call)
        time.sleep(0.03 if i % 2 == 0 else random.uniform(0, 0.003))
        t_close = time.monotonic()
        s.close()
        t.join(CLOSE_PROMPT + 1)
        assert not t.is_alive(), f"iteration {i}: close did not wake the call"
        assert s.closed
        exc = box.get("exc")
        assert isinstance(exc, nn.Closed), f"iteration {i}: {box}"
        assert exc.errno == 9  # EBADF
        assert box["end"] - t_close < CLOSE_PROMPT, f"iteration {i}: woke late"
        for other in cleanup:
            other.close()
        cleanup.clear()


def _recv_setup(cleanup: list[nn.Socket]) -> tuple[nn.Socket, Callable[[], Any]]:
    s = nn.Socket("pull")
    cleanup.append(s)
    s.bind(make_address("inproc"))
    s.rcvtimeo = 10_000
    return s, s.recv


def _recv_msg_setup(cleanup: list[nn.Socket]) -> tuple[nn.Socket, Callable[[], Any]]:
    s = nn.Socket("sub")
    cleanup.append(s)
    s.subscribe(b"")
    s.rcvtimeo = 10_000
    return s, s.recv_msg


def _send_no_peer_setup(cleanup: list[nn.Socket]) -> tuple[nn.Socket, Callable[[], Any]]:
    s = nn.Socket("push")
    cleanup.append(s)
    s.sndtimeo = 10_000
    return s, lambda: s.send(b"x")


def _send_full_setup(cleanup: list[nn.Socket]) -> tuple[nn.Socket, Callable[[], Any]]:
    s, peer = nn.Socket("push"), nn.Socket("pull")
    cleanup += [s, peer]
    if NANOMSG:  # nng has no byte-sized buffers; its queues hold two messages or so
        s.sndbuf = 1024
        peer.rcvbuf = 1024
    address = make_address("inproc")
    s.bind(address)
    peer.connect(address)
    for _ in range(10_000):
        try:
            s.send(b"f" * 1024, block=False)
        except nn.Again:
            break
    else:
        pytest.fail("the send buffer never filled up")
    if NNG:
        # nng's Again says only that no connection is ready this instant (the last message
        # is still moving on): fill up until a short blocking send times out.
        s.sndtimeo = 100
        with pytest.raises(nn.Timeout):
            for _ in range(100):
                s.send(b"f" * 1024)
    s.sndtimeo = 10_000
    return s, lambda: s.send(b"f" * 1024)


def _poll_setup(cleanup: list[nn.Socket]) -> tuple[nn.Socket, Callable[[], Any]]:
    s, other = nn.Socket("pull"), nn.Socket("pair")
    cleanup += [s, other]
    return s, lambda: nn.poll([(other, nn.POLLIN), (s, nn.POLLIN)], 10_000)


@pytest.mark.parametrize(
    "setup",
    [_recv_setup, _recv_msg_setup, _send_no_peer_setup, _send_full_setup, _poll_setup],
    ids=["recv", "recv_msg", "send-no-peer", "send-buffer-full", "poll"],
)
def test_close_from_other_thread_wakes_call(
    cleanup: list[nn.Socket],
    setup: Callable[[list[nn.Socket]], tuple[nn.Socket, Callable[[], Any]]],
) -> None:
    _close_wakes(cleanup, setup)


# The replying protocols and their peers' protocol ids.
ASKERS = {"rep": nn.REQ, "respondent": nn.SURVEYOR}


@contextlib.contextmanager
def rep_with_reply_going_out(
    cleanup: list[nn.Socket], protocol: str = "rep"
) -> Iterator[nn.Socket]:
    """A REP (or RESPONDENT) socket that owes a reply to a peer that asked twice and never
    reads: the first reply (64 MiB) is still going out, so the second cannot go yet."""
    rep = nn.Socket(protocol)
    cleanup.append(rep)
    port = free_tcp_port()
    rep.bind(f"tcp://127.0.0.1:{port}")
    rep.rcvtimeo = 5000
    with socket.create_connection(("127.0.0.1", port)) as peer:
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.sendall(b"\x00SP\x00" + struct.pack(">H", ASKERS[protocol]) + b"\x00\x00")
        for request_id, body in ((1, b"one"), (2, b"two")):
            payload = struct.pack(">I", 0x8000_0000 | request_id) + body
            peer.sendall(struct.pack(">Q", len(payload)) + payload)
        assert rep.recv() == b"one"
        rep.send(b"r" * (64 << 20))  # handed to the connection, which the peer never drains
        assert rep.recv() == b"two"
        yield rep


nng_reply_waits = pytest.mark.backend(
    "nng", reason="nng's REP holds a reply while the last one to that peer goes out"
)


@nng_reply_waits
@pytest.mark.parametrize("protocol", sorted(ASKERS))
def test_reply_waiting_for_its_peer_ends_on_close(cleanup: list[nn.Socket], protocol: str) -> None:
    with rep_with_reply_going_out(cleanup, protocol) as rep:
        t, box = run_in_thread(lambda: rep.send(b"second reply"))
        time.sleep(0.3)
        assert t.is_alive(), f"the second reply did not wait: {box}"
        t_close = time.monotonic()
        rep.close()
        t.join(CLOSE_PROMPT + 1)
        assert not t.is_alive(), "close did not end the wait"
        if protocol == "rep":
            assert isinstance(box.get("exc"), nn.Closed), box
        else:
            # nng's RESPONDENT says it can send while the last reply is still going out, so
            # this one waits inside nng, whose close reports it as sent (as nng does for any
            # reply to a peer that went away).
            assert box.get("result") == 12 or isinstance(box.get("exc"), nn.Closed), box
        assert box["end"] - t_close < CLOSE_PROMPT


@nng_reply_waits
def test_reply_waiting_for_its_peer_is_again_timeout_or_a_signal(
    cleanup: list[nn.Socket],
) -> None:
    """The wait is the binding's own (nng would lose the request if asked without waiting):
    block=False says Again, sndtimeo ends it with Timeout, a signal handler's exception
    interrupts it, and the reply is still due after each. (REP only: nng's RESPONDENT says
    it can send while its last reply is still going out, see the test above.)"""
    protocol = "rep"

    class Interrupted(Exception):
        pass

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    with rep_with_reply_going_out(cleanup, protocol) as rep:
        with pytest.raises(nn.Again):
            rep.send(b"second reply", block=False)
        rep.sndtimeo = 300

        def timed_out() -> float:
            start = time.monotonic()
            with pytest.raises(nn.Timeout):
                rep.send(b"second reply")
            elapsed = time.monotonic() - start
            assert elapsed >= 0.29
            return elapsed

        best_of(timed_out, lambda elapsed: elapsed < 0.3 + PROMPT, "sndtimeo 300 ms ended it")
        rep.sndtimeo = 10_000

        def interrupted() -> float:
            previous = signal.signal(signal.SIGALRM, interrupt)
            try:
                signal.setitimer(signal.ITIMER_REAL, 0.2)
                start = time.monotonic()
                with pytest.raises(Interrupted):
                    rep.send(b"second reply")
                return time.monotonic() - start
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)

        best_of(interrupted, lambda elapsed: elapsed < 0.2 + PROMPT, "the 0.2 s timer's handler")
        with pytest.raises(nn.Again):  # still due, and still waiting for the peer
            rep.send(b"second reply", block=False)


# --------------------------------------------------------------------------------------------
# Child interpreters for everything that involves a device or a signal
# --------------------------------------------------------------------------------------------

PRELUDE = REPORT_PRELUDE + "import os, signal, threading, time\n"

# Runs a body after PRELUDE in a fresh interpreter; returns the JSON it reported last.
run_child = functools.partial(run_reporting, prelude=PRELUDE)


def test_close_from_other_thread_wakes_device() -> None:
    # In a child: a device that kept the GIL would hang the process for good.
    result = run_child(
        f"""
        import random
        out = []
        for i in range({ITERATIONS}):
            a, b = nn.Socket("rep", "sp-raw"), nn.Socket("req", "sp-raw")
            a.bind("inproc://front%d" % i)
            b.bind("inproc://back%d" % i)
            box = {{}}
            def run():
                try:
                    nn.device(a, b)
                except BaseException as e:
                    box["exc"] = type(e).__name__
                box["end"] = time.monotonic()
            t = threading.Thread(target=run, daemon=True)
            t.start()
            time.sleep(0.03 if i % 2 == 0 else random.uniform(0, 0.003))
            t_close = time.monotonic()
            # closing either socket (or both) ends the device
            if i % 3 == 0:
                a.close()
            elif i % 3 == 1:
                b.close()
            else:
                a.close(); b.close()
            t.join(5)
            out.append([box.get("exc"), box["end"] - t_close if "end" in box else None])
            if t.is_alive():
                break
            a.close(); b.close()
        report(out=out)
        """
    )
    out = result["out"]
    assert len(out) == ITERATIONS, f"a device never woke: {out[-1]}"
    for i, (exc, delay) in enumerate(out):
        assert exc == "Closed", f"iteration {i}: {exc}"
        assert delay < CLOSE_PROMPT, f"iteration {i}: woke after {delay:.2f} s"


# One snippet per blocking call. Each defines `sockets`, `op()` (blocks for >= 5 s unless
# interrupted) and `after()`, which shows the socket still works once the call is interrupted.
BLOCKING = {
    "recv": """
        s, peer = nn.Socket("pair"), nn.Socket("pair")
        s.bind("inproc://x"); peer.connect("inproc://x")
        s.rcvtimeo = 5000
        sockets = [s, peer]
        op = s.recv
        def after():
            peer.send(b"after")
            return s.recv() == b"after"
        """,
    "send": """
        s = nn.Socket("push")
        s.sndtimeo = 5000
        s.bind("inproc://x")
        sockets = [s]
        op = lambda: s.send(b"x")
        def after():
            p = nn.Socket("pull"); p.rcvtimeo = 5000; p.connect("inproc://x")
            sockets.append(p)
            return s.send(b"after") == 5 and p.recv() == b"after"
        """,
    "poll": """
        s, peer = nn.Socket("pair"), nn.Socket("pair")
        s.bind("inproc://x"); peer.connect("inproc://x")
        sockets = [s, peer]
        op = lambda: nn.poll([(s, nn.POLLIN)], 5000)
        def after():
            peer.send(b"after")
            return nn.poll([(s, nn.POLLIN)], 5000) == [nn.POLLIN]
        """,
    "device": """
        a, b = nn.Socket("rep", "sp-raw"), nn.Socket("req", "sp-raw")
        a.bind("inproc://front"); b.bind("inproc://back")
        sockets = [a, b]
        op = lambda: nn.device(a, b)
        def after():
            # the device can run again and forwards a request and its reply
            req, rep = nn.Socket("req"), nn.Socket("rep")
            sockets.extend([req, rep])
            req.connect("inproc://front"); rep.connect("inproc://back")
            req.rcvtimeo = rep.rcvtimeo = 5000
            dev = threading.Thread(target=lambda: nn.device(a, b), daemon=True)
            try:
                dev.start()
            except Exception:
                return False
            req.send(b"ping")
            ok = rep.recv() == b"ping"
            rep.send(b"pong")
            ok = ok and req.recv() == b"pong"
            a.close(); b.close()
            dev.join(5)
            return ok and not dev.is_alive()
        """,
}

SIGINT_BODY = """
{setup}
def watchdog():
    # Ends the call if the signal did not: the report then shows what happened.
    time.sleep(5)
    for x in sockets:
        x.close()
threading.Thread(target=watchdog, daemon=True).start()
sent = {{}}
def killer():
    time.sleep(0.2)
    sent["t"] = time.monotonic()
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=killer, daemon=True).start()
t0 = time.monotonic()
exc = raised(op)
t1 = time.monotonic()
works = after() if exc == "KeyboardInterrupt" else None
report(exc=exc, blocked=t1 - t0, delay=t1 - sent["t"] if "t" in sent else None, works=works)
"""


@pytest.mark.parametrize("op", sorted(BLOCKING))
def test_sigint_interrupts_blocked_call(op: str) -> None:
    def attempt() -> dict[str, Any]:
        r = run_child(SIGINT_BODY.format(setup=textwrap.dedent(BLOCKING[op])))
        assert r["exc"] == "KeyboardInterrupt", r
        assert r["blocked"] >= 0.15, f"the call did not block before the signal: {r}"
        assert r["works"], f"the socket is broken after the interrupt: {r}"
        return r

    best_of(attempt, lambda r: r["delay"] < PROMPT, "KeyboardInterrupt after SIGINT")


def test_sigint_interrupts_recv_via_setitimer() -> None:
    # The same with the signal from a timer, Ctrl-C style, with no helper thread at all.
    def attempt() -> dict[str, Any]:
        r = run_child(
            """
            s = nn.Socket("pull"); s.rcvtimeo = 5000
            s.bind("inproc://x")
            signal.signal(signal.SIGALRM, lambda *a: os.kill(os.getpid(), signal.SIGINT))
            t0 = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            exc = raised(s.recv)
            report(exc=exc, elapsed=time.monotonic() - t0)
            """
        )
        assert r["exc"] == "KeyboardInterrupt", r
        assert r["elapsed"] >= 0.19, r
        return r

    best_of(attempt, lambda r: r["elapsed"] < 0.2 + PROMPT, "Ctrl-C from a 0.2 s timer")


# A SIGALRM handler that returns, every 50 ms, while the call waits.
TICKING_BODY = """
{setup}
ticks = []
class Stuck(Exception):
    pass
def on_alarm(signum, frame):
    ticks.append(time.monotonic())
    if len(ticks) >= 60:  # 3 s: the call is not ending by itself
        signal.setitimer(signal.ITIMER_REAL, 0)
        raise Stuck
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
t0 = time.monotonic()
try:
    result = op()
    exc = None
except BaseException as e:
    result, exc = None, type(e).__name__
t1 = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, 0)
report(exc=exc, result=repr(result), elapsed=t1 - t0, ticks=sum(t0 <= t <= t1 for t in ticks))
"""

TICKING = {
    # name: (setup, expected exception, expected repr of the result)
    "recv-message": (
        """
        s, peer = nn.Socket("pair"), nn.Socket("pair")
        s.bind("inproc://x"); peer.connect("inproc://x")
        s.rcvtimeo = 5000
        def late():
            time.sleep(0.5)
            peer.send(b"late")
        threading.Thread(target=late, daemon=True).start()
        op = s.recv
        """,
        None,
        repr(b"late"),
    ),
    "recv-timeout": (
        """
        s = nn.Socket("pull"); s.rcvtimeo = 500
        op = s.recv
        """,
        "Timeout",
        "None",
    ),
    "send-message": (
        """
        s = nn.Socket("push"); s.sndtimeo = 5000
        s.bind("inproc://x")
        p = nn.Socket("pull")
        def late():
            time.sleep(0.5)
            p.connect("inproc://x")
        threading.Thread(target=late, daemon=True).start()
        op = lambda: s.send(b"late")
        """,
        None,
        "4",
    ),
    "send-timeout": (
        """
        s = nn.Socket("push"); s.sndtimeo = 500
        op = lambda: s.send(b"x")
        """,
        "Timeout",
        "None",
    ),
    "poll-message": (
        """
        s, peer = nn.Socket("pair"), nn.Socket("pair")
        s.bind("inproc://x"); peer.connect("inproc://x")
        def late():
            time.sleep(0.5)
            peer.send(b"late")
        threading.Thread(target=late, daemon=True).start()
        op = lambda: nn.poll([(s, nn.POLLIN)], 5000)
        """,
        None,
        repr([nn.POLLIN]),
    ),
    "poll-timeout": (
        """
        s = nn.Socket("pull")
        op = lambda: nn.poll([(s, nn.POLLIN)], 500)
        """,
        None,
        "[0]",
    ),
    # the batch calls (test_batch.py)
    "recv_many-rcvtimeo": (
        """
        s = nn.Socket("pull"); s.rcvtimeo = 500
        op = lambda: s.recv_many(4)
        """,
        "Timeout",
        "None",
    ),
    "recv_many-timeout": (
        """
        s = nn.Socket("pull"); s.rcvtimeo = 100
        op = lambda: s.recv_many(4, timeout=0.5)
        """,
        None,
        "[]",
    ),
    "recv_many-message": (
        """
        s, peer = nn.Socket("pull"), nn.Socket("push")
        s.bind("inproc://x"); peer.connect("inproc://x")
        threading.Timer(0.5, lambda: peer.send_many([b"late"])).start()
        op = lambda: s.recv_many(4)
        """,
        None,
        repr([b"late"]),
    ),
    "send_many-timeout": (
        """
        s = nn.Socket("push"); s.sndtimeo = 500
        op = lambda: s.send_many([b"a", b"b"])
        """,
        "Timeout",
        "None",
    ),
    "send_many-late-peer": (
        """
        s = nn.Socket("push"); s.bind("inproc://x"); s.sndtimeo = 5000
        p = nn.Socket("pull"); p.rcvtimeo = 5000
        def late_reader():
            p.connect("inproc://x")
            got = []
            while len(got) < 3:  # nng's inproc pipe holds two messages: a reader takes them
                got += p.recv_many(3)
        threading.Timer(0.5, late_reader).start()
        op = lambda: s.send_many([b"a", b"b", b"c"])
        """,
        None,
        "3",
    ),
}


@pytest.mark.parametrize("case", list(TICKING))
def test_returning_signal_handler_neither_breaks_nor_stretches(case: str) -> None:
    setup, exc, result = TICKING[case]

    def attempt() -> dict[str, Any]:
        r = run_child(TICKING_BODY.format(setup=textwrap.dedent(setup)))
        assert r["exc"] == exc, r
        assert r["result"] == result, r
        assert r["elapsed"] >= 0.48, r
        return r

    # 0.5 s either way (the message at 0.5 s, or the 500 ms timeout): not 0.5 s plus a bit
    # per signal, and not restarted at each signal (then it would never end: "Stuck"); and
    # the handler did run during the call (a loaded machine may run it less often).
    best_of(
        attempt,
        lambda r: r["elapsed"] < 0.5 + PROMPT and r["ticks"] >= 5,
        "0.5 s with a handler running every 50 ms (and at least 5 times)",
    )


def test_returning_signal_handler_does_not_stop_device() -> None:
    r = run_child(
        """
        a, b = nn.Socket("rep", "sp-raw"), nn.Socket("req", "sp-raw")
        a.bind("inproc://front"); b.bind("inproc://back")
        req, rep = nn.Socket("req"), nn.Socket("rep")
        req.connect("inproc://front"); rep.connect("inproc://back")
        req.rcvtimeo = rep.rcvtimeo = 3000
        box = {}
        def client():
            try:
                time.sleep(0.3)
                for i in range(5):
                    req.send(b"ping%d" % i)
                    box.setdefault("got", []).append(rep.recv())
                    rep.send(b"pong%d" % i)
                    box.setdefault("got", []).append(req.recv())
                    time.sleep(0.05)
            except BaseException as e:
                box["client"] = repr(e)
            a.close()
            b.close()
        ticks = []
        signal.signal(signal.SIGALRM, lambda *args: ticks.append(1))
        signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
        threading.Thread(target=client, daemon=True).start()
        exc = raised(lambda: nn.device(a, b))
        signal.setitimer(signal.ITIMER_REAL, 0)
        report(exc=exc, got=[g.decode() for g in box.get("got", [])],
               client=box.get("client"), ticks=len(ticks))
        """
    )
    expected = [f"{w}{i}" for i in range(5) for w in ("ping", "pong")]
    assert r["client"] is None, r
    assert r["got"] == expected, r
    assert r["exc"] == "Closed", r
    assert r["ticks"] >= 10, r


@pytest.mark.parametrize("message", [False, True], ids=["timeout", "message"])
def test_signals_aimed_at_a_worker_thread_do_not_disturb_its_recv(message: bool) -> None:
    # A signal that lands on a thread other than the main one interrupts that thread's
    # poll(); the handler can only run in the main thread, so the call must just go on.
    body = f"""
        s, peer = nn.Socket("pair"), nn.Socket("pair")
        s.bind("inproc://x"); peer.connect("inproc://x")
        s.rcvtimeo = {2000 if message else 500}
        ticks = []
        signal.signal(signal.SIGALRM, lambda *args: ticks.append(1))
        box = {{}}
        def worker():
            t0 = time.monotonic()
            try:
                box["result"] = repr(s.recv())
            except BaseException as e:
                box["exc"] = type(e).__name__
            box["elapsed"] = time.monotonic() - t0
        w = threading.Thread(target=worker)
        w.start()
        t0 = time.monotonic()
        sent = False
        while w.is_alive() and time.monotonic() - t0 < 5:
            signal.pthread_kill(w.ident, signal.SIGALRM)
            if {message} and not sent and time.monotonic() - t0 >= 0.45:
                peer.send(b"late")
                sent = True
            time.sleep(0.02)
        w.join(5)
        report(alive=w.is_alive(), ticks=len(ticks), **box)
        """

    def attempt() -> dict[str, Any]:
        r = run_child(body)
        assert not r["alive"], r
        if message:
            assert r.get("result") == repr(b"late"), r
            assert r["elapsed"] >= 0.44, r
        else:
            assert r.get("exc") == "Timeout", r
            assert r["elapsed"] >= 0.48, r
        return r

    # On time, and signals did land (the main thread runs each handler when it next gets the
    # GIL; under load it runs fewer of the ~25 sent).
    best_of(
        attempt,
        lambda r: r["elapsed"] < 0.5 + PROMPT and r["ticks"] >= 3,
        "the worker's recv under signals",
    )


RAISING_BODY = """
{setup}
class MyError(Exception):
    pass
fired = {{}}
def on_alarm(signum, frame):
    fired["t"] = time.monotonic()
    raise MyError("from the handler")
def watchdog():
    time.sleep(5)
    for x in sockets:
        x.close()
threading.Thread(target=watchdog, daemon=True).start()
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.2)
t0 = time.monotonic()
try:
    op()
    exc = msg = None
except BaseException as e:
    exc, msg = type(e).__name__, str(e)
t1 = time.monotonic()
report(exc=exc, msg=msg, delay=t1 - fired["t"] if "t" in fired else None, elapsed=t1 - t0)
"""


@pytest.mark.parametrize("op", sorted(BLOCKING))
def test_handler_exception_propagates(op: str) -> None:
    def attempt() -> dict[str, Any]:
        r = run_child(RAISING_BODY.format(setup=textwrap.dedent(BLOCKING[op])))
        assert r["exc"] == "MyError", r
        assert r["msg"] == "from the handler"
        assert r["elapsed"] >= 0.19, r
        return r

    best_of(attempt, lambda r: r["delay"] < PROMPT, "the handler's exception after the signal")


# --------------------------------------------------------------------------------------------
# Socket numbers are reused at once: a stale call must not touch the new socket
# --------------------------------------------------------------------------------------------


def _reuse_race(cleanup: list[nn.Socket], make_call: Callable[[nn.Socket], Any]) -> int:
    """A call on socket A runs in a thread; A is closed and B (which libnanomsg may give
    A's number) is made, connected and sent to at once. The call must end with nn.Closed and
    B must get its message. Returns how often B had A's number."""
    same = 0
    for i in range(ITERATIONS):
        address = make_address("inproc")
        sender = nn.Socket("pair")
        cleanup.append(sender)
        sender.bind(address)
        sender.sndtimeo = 5000
        a = nn.Socket("pair")
        cleanup.append(a)
        a_number = a.fd
        t, box = run_in_thread(make_call(a))
        time.sleep(0.02 if i % 2 == 0 else random.uniform(0, 0.002))
        a.close()
        b = nn.Socket("pair")
        cleanup.append(b)
        same += b.fd == a_number
        b.rcvtimeo = 5000
        b.connect(address)
        sender.send(b"for B %d" % i)
        sender.send(b"for B again %d" % i)
        t.join(CLOSE_PROMPT + 1)
        assert not t.is_alive(), f"iteration {i}: the call on the closed socket goes on"
        assert "result" not in box, f"iteration {i}: the closed socket received {box['result']!r}"
        assert isinstance(box.get("exc"), nn.Closed), f"iteration {i}: {box}"
        assert b.recv() == b"for B %d" % i
        assert b.recv() == b"for B again %d" % i
        with pytest.raises(nn.Closed):
            a.recv(block=False)
        for s in cleanup:
            s.close()
        cleanup.clear()
    return same


def test_blocked_recv_never_gets_messages_of_reused_number(cleanup: list[nn.Socket]) -> None:
    def call(a: nn.Socket) -> Callable[[], Any]:
        a.rcvtimeo = 10_000
        return a.recv

    _reuse_race(cleanup, call)


def test_spinning_recv_never_gets_messages_of_reused_number(cleanup: list[nn.Socket]) -> None:
    def call(a: nn.Socket) -> Callable[[], Any]:
        def spin() -> bytes:
            while True:
                try:
                    return a.recv(block=False)
                except nn.Again:
                    pass

        return spin

    _reuse_race(cleanup, call)


def test_socket_numbers_are_reused(cleanup: list[nn.Socket]) -> None:
    # The premise of the two tests above: with no call in flight, a closed socket's number
    # goes to the next socket at once; the old object must not reach the new socket.
    gc.collect()  # no garbage socket may be freed in between
    a = nn.Socket("pair")
    number = a.fd
    a.close()
    b = nn.Socket("pair")
    cleanup.append(b)
    # libnanomsg hands the number out again at once; nng does not (it counts on), so there
    # the tests above check the same safety without a collision.
    assert (b.fd == number) == NANOMSG
    with pytest.raises(nn.Closed):
        a.send(b"x", block=False)
    with pytest.raises(nn.Closed):
        _ = a.rcvtimeo
    b.rcvtimeo = 1234
    assert b.rcvtimeo == 1234
