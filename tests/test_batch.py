"""Batches: ``send_many(messages)`` and ``recv_many(max, timeout=None)``, many messages per
call and one GIL release for them all.

What they promise, each checked here over real sockets: order kept, counts right, ``max``
respected; every message taken before the first is sent (a wrong type sends nothing); an
error midway says how many went (``.sent``), the first ones in order, none sent twice and
none lost; ``sndtimeo`` a deadline for the whole ``send_many``; ``recv_many``'s ``timeout``
(None: ``rcvtimeo`` and then ``nn.Timeout``; seconds: that long, then ``[]``); and the
guarantees of every blocking call: the GIL released while waiting (in
``test_threads_signals.py``, with the other calls), ``close()`` from another thread and Ctrl-C
end the wait, a returning signal handler does not (also there), errors name the call.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import (
    NANOMSG,
    REPORT_PRELUDE,
    SockFactory,
    best_of,
    connected,
    drain,
    make_address,
    per_backend,
    run_in_thread,
    run_reporting,
    timeouts,
    wait_reachable,
)

import nanomsg_rs as nn

# As in test_threads_signals.py: a signal or a message takes effect within PROMPT seconds
# (the best of support.TIMING_ATTEMPTS tries), close() from another thread within
# CLOSE_PROMPT every time.
PROMPT = 0.3
CLOSE_PROMPT = 1.0


def numbered(n: int, size: int = 16) -> list[bytes]:
    """``n`` distinct messages of ``size`` bytes (at least 6), numbered in order."""
    return [b"%06d" % i + b"." * (size - 6) for i in range(n)]


def collect(s: nn.Socket, n: int, most: int) -> tuple[list[bytes], list[int]]:
    """``n`` messages received with ``recv_many(most)``, and the size of each batch."""
    got: list[bytes] = []
    sizes: list[int] = []
    while len(got) < n:
        batch = s.recv_many(most)
        sizes.append(len(batch))
        got += batch
    return got, sizes


def drain_many(s: nn.Socket, quiet: float = 0.3) -> list[bytes]:
    """Everything ``s`` receives until nothing more comes for ``quiet`` seconds."""
    got: list[bytes] = []
    while batch := s.recv_many(64, timeout=quiet):
        got += batch
    return got


def small_buffers(push: nn.Socket, pull: nn.Socket) -> None:
    """Buffers of about one 1 KiB message each way (before bind/connect), so that a sender
    soon has to wait. nng has no byte-sized buffers; its queues hold a few messages anyway."""
    if NANOMSG:
        push.sndbuf = 1024
        pull.rcvbuf = 1024


def pipe_with_small_buffers(
    sock: SockFactory, transport: str = "inproc"
) -> tuple[nn.Socket, nn.Socket]:
    """A PUSH bound and a PULL connected to it with small buffers, proven to carry messages."""
    push, pull = sock("push"), sock("pull")
    small_buffers(push, pull)
    address = make_address(transport)
    push.bind(address)
    pull.connect(address)
    timeouts(push, pull)
    wait_reachable(push, [pull])
    return push, pull


def send_while_collecting(
    sender: nn.Socket, receiver: nn.Socket, messages: list[Any], most: int
) -> tuple[list[bytes], list[int]]:
    """``sender.send_many(messages)`` (checked to send them all) while another thread
    collects them with ``recv_many(most)``: what it got, and the size of each batch. A batch
    may be larger than the pipe holds (nng's inproc PAIR holds two messages, libnanomsg's
    128 KiB): sent before anything is received, it would wait for a reader in vain."""
    t, box = run_in_thread(lambda: collect(receiver, len(messages), most))
    assert sender.send_many(messages) == len(messages)
    t.join(30)
    assert not t.is_alive()
    assert "exc" not in box, box
    result: tuple[list[bytes], list[int]] = box["result"]
    return result


# --------------------------------------------------------------------------------------------
# Order, counts, max
# --------------------------------------------------------------------------------------------


def test_pair_order_and_counts(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    messages = numbered(300)
    got, sizes = send_while_collecting(a, b, messages, 64)
    assert got == messages
    assert all(1 <= n <= 64 for n in sizes), sizes
    with pytest.raises(nn.Again):
        b.recv(block=False)  # nothing more, nothing twice


def test_both_ways_and_every_kind_of_message(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    m = nn.Message(b"message")
    sent: list[Any] = [
        b"bytes",
        "str \u00e9",
        bytearray(b"bytearray"),
        memoryview(b"xxviewxx")[2:6],
        m,
        b"",
    ]
    expected = [b"bytes", "str \u00e9".encode(), b"bytearray", b"view", b"message", b""]
    assert send_while_collecting(a, b, sent, 10)[0] == expected
    assert bytes(m) == b"message"  # copied, not consumed
    t, box = run_in_thread(lambda: collect(a, 2, 2)[0])
    assert b.send_many(x for x in [b"back", b"again"]) == 2  # any iterable
    t.join(30)
    assert box.get("result") == [b"back", b"again"], box


def test_push_pull_with_a_concurrent_reader(sock: SockFactory, transport: str) -> None:
    """Small buffers: the sender waits again and again for the reader (two threads)."""
    push, pull = pipe_with_small_buffers(sock, transport)
    messages = numbered(500, 1000)
    t, box = run_in_thread(lambda: collect(pull, 500, 32))
    assert push.send_many(messages) == 500
    t.join(30)
    assert not t.is_alive()
    got, sizes = box["result"]
    assert got == messages
    assert max(sizes) <= 32


def test_pub_sub(sock: SockFactory, transport: str) -> None:
    pub, sub, picky = sock("pub"), sock("sub"), sock("sub")
    address = make_address(transport)
    pub.bind(address)
    for s in (sub, picky):
        s.subscribe(b"")
        s.connect(address)
    timeouts(pub, sub, picky)
    wait_reachable(pub, [sub, picky], broadcast=True)
    picky.unsubscribe(b"")
    picky.subscribe(b"keep")
    drain(sub)
    drain(picky)
    topics = [b"keep %d" % i if i % 3 else b"drop %d" % i for i in range(90)]
    # A PUB never waits: a message its queue for a subscriber has no room for is dropped,
    # on both backends by design. libnanomsg's queue holds 128 KiB, all 90 messages at once;
    # nng's holds 16 messages per subscriber, so there they go in batches of 10, each one
    # received before the next is sent.
    step = per_backend(nanomsg=90, nng=10)
    for i in range(0, 90, step):
        batch = topics[i : i + step]
        assert pub.send_many(batch) == len(batch)
        assert collect(sub, len(batch), 25)[0] == batch
        kept = [t for t in batch if t.startswith(b"keep")]
        assert collect(picky, len(kept), 100)[0] == kept
    assert sub.recv_many(10, timeout=0.05) == []  # nothing twice
    assert picky.recv_many(10, timeout=0) == []


def test_max_is_respected(sock: SockFactory) -> None:
    """A SUB, whose queue holds every message sent here on both backends (nng's inproc
    PAIR holds only two: a batch of three could never be queued there)."""
    pub, sub = connected(sock, "pub", "sub")
    sub.subscribe(b"")
    wait_reachable(pub, [sub], broadcast=True)
    # libnanomsg's inproc delivers each message before send returns; nng delivers them a
    # moment later, one by one, so a recv_many may come before the third one is there. Each
    # round checks order and max; some round must take three at once (the first, on
    # libnanomsg), or recv_many does not take what is queued.
    sizes: list[int] = []
    for _ in range(20):
        assert pub.send_many(numbered(10)) == 10
        got, sizes = collect(sub, 10, 3)
        assert got == numbered(10)
        assert all(1 <= n <= 3 for n in sizes), sizes
        if max(sizes) == 3:
            break
    assert max(sizes) == 3, sizes
    assert pub.send_many(numbered(4)) == 4
    assert sub.recv_many(1) == numbered(1)  # one, however many are queued
    assert collect(sub, 3, 1)[0] == numbered(4)[1:]
    assert sub.recv_many(10, timeout=0.05) == []


def test_empty_iterable(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    assert a.send_many([]) == 0
    assert a.send_many(iter(())) == 0
    assert b.recv_many(5, timeout=0) == []
    # nothing to send, nothing to warn about (pytest turns warnings into errors)
    assert sock("pub").send_many([]) == 0


# --------------------------------------------------------------------------------------------
# Wrong arguments: TypeError (or ValueError) before anything happens
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "messages",
    [[b"ok", 5], [b"ok", None], [b"ok", [b"nested"]], (b"ok", 1.5)],
    ids=["int", "None", "list", "float"],
)
def test_a_wrong_message_sends_nothing(sock: SockFactory, messages: Any) -> None:
    a, b = connected(sock, "pair", "pair")
    with pytest.raises(TypeError, match=r"send_many\(\) message 1: ") as info:
        a.send_many(messages)
    assert info.value.__dict__.get("sent") is None
    assert b.recv_many(5, timeout=0.05) == []  # not even the first


@pytest.mark.parametrize(
    "whole",
    [b"abc", "abc", bytearray(b"abc"), memoryview(b"abc"), nn.Message(b"abc")],
    ids=["bytes", "str", "bytearray", "memoryview", "Message"],
)
def test_one_message_is_not_taken_apart(sock: SockFactory, whole: Any) -> None:
    a, b = connected(sock, "pair", "pair")
    with pytest.raises(TypeError, match="iterable of messages, not one"):
        a.send_many(whole)
    assert b.recv_many(5, timeout=0.05) == []


def test_not_an_iterable(sock: SockFactory) -> None:
    with pytest.raises(TypeError, match="iterable of messages, not int"):
        sock("pair").send_many(5)  # type: ignore[arg-type]


def test_an_iterable_that_fails_midway_sends_nothing(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")

    def broken() -> Iterator[bytes]:
        yield b"first"
        raise RuntimeError("broken generator")

    with pytest.raises(RuntimeError, match="broken generator"):
        a.send_many(broken())
    assert b.recv_many(5, timeout=0.05) == []


@pytest.mark.parametrize("most", [0, -1, -(2**40)])
def test_max_below_one(sock: SockFactory, most: int) -> None:
    with pytest.raises(ValueError, match="max must be at least 1"):
        sock("pull").recv_many(most)


@pytest.mark.parametrize("timeout", [-1, -0.001, math.nan])
def test_bad_timeout(sock: SockFactory, timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout must be"):
        sock("pull").recv_many(1, timeout=timeout)


def test_wrong_types_of_max_and_timeout(sock: SockFactory) -> None:
    s = sock("pull")
    with pytest.raises(TypeError):
        s.recv_many("3")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.recv_many(3, timeout="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.recv_many()  # type: ignore[call-arg]


# --------------------------------------------------------------------------------------------
# recv_many's timeout
# --------------------------------------------------------------------------------------------


def test_timeout_zero_takes_only_what_is_there(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    assert b.recv_many(10, timeout=0) == []
    assert send_while_collecting(a, b, numbered(5), 10)[0] == numbered(5)
    assert b.recv_many(10, timeout=0) == []


def test_timeout_seconds_returns_empty_and_ignores_rcvtimeo(sock: SockFactory) -> None:
    _, b = connected(sock, "pair", "pair")
    b.rcvtimeo = 100
    start = time.monotonic()
    assert b.recv_many(10, timeout=0.4) == []
    assert time.monotonic() - start >= 0.39  # the call's timeout, not rcvtimeo
    b.rcvtimeo = 5000
    start = time.monotonic()
    assert b.recv_many(10, timeout=0.2) == []
    assert time.monotonic() - start >= 0.19


def test_no_timeout_waits_rcvtimeo_then_raises(sock: SockFactory) -> None:
    _, b = connected(sock, "push", "pull")
    b.rcvtimeo = 100
    start = time.monotonic()
    with pytest.raises(nn.Timeout) as info:
        b.recv_many(10)
    assert time.monotonic() - start >= 0.095
    assert info.value.call == "recv_many"
    assert str(info.value).startswith("recv_many() on PULL socket ")
    assert "timed out after 100 ms (rcvtimeo)" in str(info.value)


@pytest.mark.parametrize("timeout", [None, 5.0, math.inf])
def test_a_message_ends_the_wait(sock: SockFactory, timeout: float | None) -> None:
    a, b = connected(sock, "pair", "pair")
    late = threading.Timer(0.2, lambda: a.send_many([b"late", b"later"]))
    late.start()
    start = time.monotonic()
    got = b.recv_many(10, timeout=timeout)
    assert time.monotonic() - start >= 0.15
    late.join()
    # Both are right: recv_many returns what is queued when the first message wakes it, and
    # "later" may still be on its way then (send_many sends them one after the other).
    assert got in ([b"late"], [b"late", b"later"])
    assert got + b.recv_many(10, timeout=5)[: 2 - len(got)] == [b"late", b"later"]


# --------------------------------------------------------------------------------------------
# Errors midway: reported with .sent, nothing lost, nothing twice
# --------------------------------------------------------------------------------------------


def test_sndtimeo_is_a_deadline_for_the_whole_call(sock: SockFactory) -> None:
    """A reader that takes a message every 50 ms: each message waits much less than
    sndtimeo (300 ms), forty of them much more. The call ends at 300 ms with Timeout, and
    .sent messages reached the reader: the first ones, each once."""
    push, pull = pipe_with_small_buffers(sock)
    messages = numbered(40, 1024)
    push.sndtimeo = 300
    stop = threading.Event()
    taken: list[bytes] = []

    def reader() -> None:
        while not stop.wait(0.05):
            taken.extend(pull.recv_many(1, timeout=0))

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    start = time.monotonic()
    with pytest.raises(nn.Timeout) as info:
        push.send_many(messages)
    elapsed = time.monotonic() - start
    stop.set()
    t.join(5)
    sent = info.value.sent
    assert isinstance(sent, int) and 0 < sent < 40, sent
    assert elapsed >= 0.29
    assert info.value.call == "send_many"
    assert "timed out after 300 ms (sndtimeo)" in str(info.value)
    assert taken + drain_many(pull) == messages[:sent]


def test_block_false_sends_what_can_go_and_says_how_many(sock: SockFactory) -> None:
    push, pull = pipe_with_small_buffers(sock)
    messages = numbered(100, 1024)
    with pytest.raises(nn.Again) as info:
        push.send_many(messages, block=False)
    sent = info.value.sent
    assert isinstance(sent, int) and (0 < sent if NANOMSG else 0 <= sent) and sent < 100
    assert drain_many(pull) == messages[:sent]
    # the rest, from where it stopped
    t, box = run_in_thread(lambda: collect(pull, 100 - sent, 64)[0])
    assert push.send_many(messages[sent:]) == 100 - sent
    t.join(10)
    assert box["result"] == messages[sent:]


def test_no_peer_block_false(sock: SockFactory) -> None:
    push = sock("push")
    with pytest.raises(nn.Again) as info:
        push.send_many([b"a", b"b"], block=False)
    assert info.value.sent == 0
    assert str(info.value).startswith("send_many() on PUSH socket ")


def test_rep_takes_one_request_and_answers_once(sock: SockFactory) -> None:
    """A REP receives one request at a time (another receive would drop the request in hand,
    and its reply with it), and has one reply to give: the first message of a send_many
    goes, the second is BadState, and the exception says one went."""
    rep, req = connected(sock, "rep", "req")
    other = sock("req")
    other.connect(rep._endpoint_table()[0][2])
    timeouts(other)
    other.send(b"first")
    req.send(b"second")
    for _ in range(2):
        (request,) = rep.recv_many(5)  # one, though both requests may be queued
        rep.send(b"answer to " + request)
    assert other.recv_many(5) == [b"answer to first"]  # neither request was dropped
    assert req.recv_many(5) == [b"answer to second"]

    req.send(b"question")
    assert rep.recv_many(5) == [b"question"]
    with pytest.raises(nn.BadState) as info:
        rep.send_many([b"answer", b"another"])
    assert info.value.sent == 1
    assert info.value.call == "send_many"
    # REQ: the reply, then the next receive's failure ends the batch without losing it
    assert req.recv_many(5) == [b"answer"]
    with pytest.raises(nn.BadState):
        req.recv_many(5)


def test_closed_socket(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    number = a.fd
    a.close()
    with pytest.raises(nn.Closed) as info:
        a.send_many([b"x"])
    assert info.value.sent == 0
    assert str(info.value) == f"send_many() on PAIR socket {number}: the socket is closed"
    with pytest.raises(nn.Closed) as closed:
        a.recv_many(3)
    assert closed.value.call == "recv_many"
    with pytest.raises(nn.Closed):
        a.send_many([])  # a closed socket is an error, messages or not
    with pytest.raises(TypeError):  # the arguments are checked first, as send() does
        a.send_many([5])  # type: ignore[list-item]
    assert b.recv_many(3, timeout=0) == []


def test_wrong_direction(sock: SockFactory) -> None:
    pub, sub = connected(sock, "pub", "sub")
    sub.subscribe(b"")
    with pytest.raises(nn.NotSupported, match="SUB sockets cannot send") as info:
        sub.send_many([b"x"])
    assert info.value.sent == 0
    with pytest.raises(nn.NotSupported, match="PUB sockets cannot receive"):
        pub.recv_many(3)


def test_misuse_warnings(sock: SockFactory) -> None:
    with pytest.warns(nn.UsageWarning, match=r"recv_many\(\) on SUB socket .* no subscription"):
        assert sock("sub").recv_many(3, timeout=0) == []
    with pytest.warns(nn.UsageWarning, match=r"send_many\(\) on PUB socket .* neither bound"):
        assert sock("pub").send_many([b"lost"]) == 1


# --------------------------------------------------------------------------------------------
# Threads: close() from another thread ends the wait (that the GIL is released while they
# wait, and that a signal handler that returns neither breaks nor stretches the wait, is
# checked for recv_many and send_many with the other blocking calls in test_threads_signals)
# --------------------------------------------------------------------------------------------


def _recv_many_setup(sock: SockFactory) -> tuple[nn.Socket, Callable[[], Any]]:
    s = sock("pull")
    s.bind(make_address("inproc"))
    s.rcvtimeo = 10_000
    return s, lambda: s.recv_many(8)


def _recv_many_timeout_setup(sock: SockFactory) -> tuple[nn.Socket, Callable[[], Any]]:
    s = sock("sub")
    s.subscribe(b"")
    return s, lambda: s.recv_many(8, timeout=10)


def _send_many_setup(sock: SockFactory) -> tuple[nn.Socket, Callable[[], Any]]:
    s = sock("push")
    s.sndtimeo = 10_000
    return s, lambda: s.send_many([b"a", b"b", b"c"])


@pytest.mark.parametrize(
    "setup",
    [_recv_many_setup, _recv_many_timeout_setup, _send_many_setup],
    ids=["recv_many", "recv_many-timeout", "send_many"],
)
def test_close_from_another_thread_ends_the_wait(
    sock: SockFactory, setup: Callable[[SockFactory], tuple[nn.Socket, Callable[[], Any]]]
) -> None:
    for i in range(20):
        s, call = setup(sock)
        t, box = run_in_thread(call)
        time.sleep(0.03 if i % 2 == 0 else 0.001 * (i % 4))
        t_close = time.monotonic()
        s.close()
        t.join(CLOSE_PROMPT + 1)
        assert not t.is_alive(), f"iteration {i}: close did not end the call"
        exc = box.get("exc")
        assert isinstance(exc, nn.Closed), f"iteration {i}: {box}"
        assert exc.call in ("send_many", "recv_many")
        if exc.call == "send_many":
            assert exc.sent == 0
        assert box["end"] - t_close < CLOSE_PROMPT, f"iteration {i}: woke late"


def test_close_midway_through_send_many(sock: SockFactory) -> None:
    """Closed while the buffers are full: .sent messages were handed to nanomsg, and the
    reader gets a prefix of them (a closed socket drops what it had not passed on yet)."""
    push, pull = pipe_with_small_buffers(sock)
    messages = numbered(200, 1024)
    t, box = run_in_thread(lambda: push.send_many(messages))
    time.sleep(0.2)
    push.close()
    t.join(CLOSE_PROMPT + 1)
    assert not t.is_alive()
    exc = box.get("exc")
    assert isinstance(exc, nn.Closed), box
    got = drain_many(pull)
    assert got == messages[: len(got)]
    assert exc.sent is not None and len(got) <= exc.sent < 200


# --------------------------------------------------------------------------------------------
# Signals: in a child interpreter, as in test_threads_signals.py
# --------------------------------------------------------------------------------------------

BATCH_HELPERS = """
import os, signal, threading, time

def numbered(n, size):
    return [b"%06d" % i + b"." * (size - 6) for i in range(n)]

def drain_many(s):
    got = []
    while True:
        batch = s.recv_many(64, timeout=0.3)
        if not batch:
            return got
        got += batch

def sigint_in(seconds, sent):
    def kill():
        time.sleep(seconds)
        sent["t"] = time.monotonic()
        os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=kill, daemon=True).start()
"""
PRELUDE = REPORT_PRELUDE + BATCH_HELPERS

run_child = functools.partial(run_reporting, prelude=PRELUDE)


def test_ctrl_c_interrupts_recv_many() -> None:
    def attempt() -> dict[str, Any]:
        r: dict[str, Any] = run_child(
            """
            s, peer = nn.Socket("pull"), nn.Socket("push")
            s.bind("inproc://x"); peer.connect("inproc://x")
            s.rcvtimeo = 5000
            sent = {}
            sigint_in(0.2, sent)
            t0 = time.monotonic()
            exc = raised(lambda: s.recv_many(8))
            t1 = time.monotonic()
            peer.send_many([b"after", b"it"])
            works = drain_many(s) == [b"after", b"it"]
            report(exc=exc, blocked=t1 - t0, delay=t1 - sent.get("t", t1), works=works)
            """
        )
        assert r["exc"] == "KeyboardInterrupt", r
        assert r["blocked"] >= 0.15, r
        assert r["works"], r
        return r

    best_of(attempt, lambda r: r["delay"] < PROMPT, "KeyboardInterrupt in recv_many")


def test_ctrl_c_interrupts_send_many_and_says_how_many_went() -> None:
    def attempt() -> dict[str, Any]:
        r: dict[str, Any] = run_child(
            """
            push, pull = nn.Socket("push"), nn.Socket("pull")
            if nn.BACKEND == "nanomsg":
                push.sndbuf = pull.rcvbuf = 1024
            push.bind("inproc://x"); pull.connect("inproc://x")
            push.sndtimeo = 5000
            messages = numbered(200, 1024)
            sent = {}
            sigint_in(0.2, sent)
            t0 = time.monotonic()
            try:
                push.send_many(messages)
                exc, count = None, None
            except BaseException as e:
                exc, count = type(e).__name__, getattr(e, "sent", None)
            t1 = time.monotonic()
            got = drain_many(pull)
            report(exc=exc, sent=count, prefix=got == messages[:len(got)], got=len(got),
                   blocked=t1 - t0, delay=t1 - sent.get("t", t1))
            """
        )
        assert r["exc"] == "KeyboardInterrupt", r
        assert isinstance(r["sent"], int) and 0 < r["sent"] < 200, r
        # everything counted as sent arrives, in order, once
        assert r["prefix"] and r["got"] == r["sent"], r
        assert r["blocked"] >= 0.15, r
        return r

    best_of(attempt, lambda r: r["delay"] < PROMPT, "KeyboardInterrupt in send_many")
