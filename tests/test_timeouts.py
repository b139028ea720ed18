"""Timeouts: ``rcvtimeo`` and ``sndtimeo`` end a wait on time (never early), ``block=False``
and a zero timeout fail at once, and a message after a timeout still arrives."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from support import SockFactory, best_of, timeouts

import nanomsg_rs as nn

# How late a 200 ms timeout may end: the best of support.TIMING_ATTEMPTS tries must be
# within this (support.best_of); none may end before 0.19 s.
TOLERANCE = 0.15


def timed(call: Callable[[], object], error: type[BaseException]) -> Callable[[], float]:
    """A measurement for best_of: how long ``call`` takes to raise ``error``."""

    def measure() -> float:
        started = time.monotonic()
        with pytest.raises(error):
            call()
        return time.monotonic() - started

    return measure


def timeout_200ms(call: Callable[[], object]) -> None:
    """``call`` times out (nn.Timeout) after 200 ms: never before 0.19 s, and within
    TOLERANCE after in the best of the attempts."""

    def measure() -> float:
        elapsed = timed(call, nn.Timeout)()
        assert elapsed >= 0.2 - 0.01, elapsed
        return elapsed

    best_of(measure, lambda elapsed: elapsed <= 0.2 + TOLERANCE, "a 200 ms timeout")


@pytest.mark.parametrize("protocol", ["pair", "pull", "sub", "rep", "bus"])
def test_rcvtimeo(sock: SockFactory, protocol: str) -> None:
    s = sock(protocol)
    if protocol == "sub":
        s.subscribe(b"")  # else a UsageWarning: a SUB with no subscription receives nothing
    s.rcvtimeo = 200
    timeout_200ms(s.recv)


@pytest.mark.parametrize("protocol", ["pair", "push"])
def test_sndtimeo(sock: SockFactory, protocol: str) -> None:
    s = sock(protocol)
    s.sndtimeo = 200
    timeout_200ms(lambda: s.send(b"nobody is listening"))


def test_recv_into_timeout(sock: SockFactory) -> None:
    s = sock("pull")
    s.rcvtimeo = 200
    timeout_200ms(lambda: s.recv_into(bytearray(10)))


def test_zero_timeout_fails_at_once(sock: SockFactory) -> None:
    s = sock("pair")
    timeouts(s, ms=0)

    def measure() -> float:
        return (
            timed(s.recv, nn.Timeout)()  # a timeout, if 0 ms; Again is for block=False
            + timed(lambda: s.send(b"x"), nn.Timeout)()
        )

    best_of(measure, lambda elapsed: elapsed < 0.1, "a zero timeout fails at once")


def test_nonblocking_calls_raise_again_at_once(sock: SockFactory) -> None:
    s = sock("pair")
    timeouts(s, ms=5000)

    def measure() -> float:
        return (
            timed(lambda: s.recv(block=False), nn.Again)()
            + timed(lambda: s.send(b"x", block=False), nn.Again)()
            + timed(lambda: s.recv_into(bytearray(4), block=False), nn.Again)()
        )

    best_of(measure, lambda elapsed: elapsed < 0.1, "non-blocking calls fail at once")


def test_timeout_then_message_still_arrives(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    b.rcvtimeo = 100
    with pytest.raises(nn.Timeout):
        b.recv()
    a.send(b"later")
    b.rcvtimeo = 3000
    assert b.recv() == b"later"
