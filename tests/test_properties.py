"""Property tests: any payloads, in any number, arrive intact and in order over inproc, ipc
and tcp, for PAIR and PUSH/PULL."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import AddrFactory, SockFactory, connected, drain

import nanomsg_rs as nn

Channel = tuple[nn.Socket, nn.Socket]

TRANSPORTS = ["inproc", "ipc", "tcp"]
PATTERNS = {"pair": ("pair", "pair"), "pushpull": ("push", "pull")}
ALL_CHANNELS = [f"{t}-{p}" for t in TRANSPORTS for p in PATTERNS]
PAIR_CHANNELS = [f"{t}-pair" for t in TRANSPORTS]

# The channel fixture is made once per test and shared by its examples, on purpose.
SHARED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]

# Hypothesis draws mostly short binaries; sizes up to 64 KiB come from a seeded generator,
# uniformly over 0..64 KiB.
any_size_payload = st.builds(
    lambda n, seed: random.Random(seed).randbytes(n),
    st.integers(min_value=0, max_value=64 * 1024),
    st.integers(min_value=0, max_value=2**32),
)
payloads = st.lists(st.one_of(st.binary(max_size=512), any_size_payload), max_size=30)
small_payloads = st.lists(st.binary(max_size=256), min_size=1, max_size=200)
texts = st.lists(st.text(max_size=2000), max_size=20)


@pytest.fixture
def channel(request: pytest.FixtureRequest, sock: SockFactory, addr: AddrFactory) -> Channel:
    """A connected (sender, receiver): ``"tcp-pair"``, ``"ipc-pushpull"`` ..."""
    transport, pattern = request.param.split("-")
    sender_proto, receiver_proto = PATTERNS[pattern]
    receiver, sender = connected(sock, receiver_proto, sender_proto, transport)
    return sender, receiver


def transfer(channel: Channel, messages: Sequence[bytes | str]) -> list[bytes]:
    """Sends ``messages`` from a thread while this one receives them all."""
    sender, receiver = channel
    drain(receiver)
    errors: list[BaseException] = []
    sizes: list[int] = []

    def send_all() -> None:
        try:
            for m in messages:
                sizes.append(sender.send(m))
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=send_all, daemon=True)
    t.start()
    try:
        received = [receiver.recv() for _ in messages]
    finally:
        t.join(10)
    assert not errors, errors
    assert not t.is_alive()
    expected_sizes = [len(m.encode() if isinstance(m, str) else m) for m in messages]
    assert sizes == expected_sizes
    # Nothing more than what was sent.
    try:
        extra = receiver.recv(block=False)
    except nn.Again:
        pass
    else:
        raise AssertionError(f"an extra message arrived: {extra[:50]!r}")
    return received


@pytest.mark.parametrize("channel", ALL_CHANNELS, indirect=True)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[*SHARED, HealthCheck.data_too_large]
)
@given(messages=payloads)
def test_binary_payloads_arrive_intact_and_in_order(
    channel: Channel, messages: list[bytes]
) -> None:
    assert transfer(channel, messages) == messages


@pytest.mark.parametrize("channel", ALL_CHANNELS, indirect=True)
@settings(max_examples=15, deadline=None, suppress_health_check=SHARED)
@given(messages=small_payloads)
def test_many_small_payloads_in_order(channel: Channel, messages: list[bytes]) -> None:
    assert transfer(channel, messages) == messages


@pytest.mark.parametrize("channel", ALL_CHANNELS, indirect=True)
@settings(max_examples=20, deadline=None, suppress_health_check=SHARED)
@given(messages=texts)
def test_str_payloads_arrive_as_utf8(channel: Channel, messages: list[str]) -> None:
    received = transfer(channel, messages)
    assert received == [m.encode("utf-8") for m in messages]
    assert [r.decode("utf-8") for r in received] == messages


@pytest.mark.parametrize("channel", PAIR_CHANNELS, indirect=True)
@settings(max_examples=20, deadline=None, suppress_health_check=SHARED)
@given(
    messages=st.lists(
        st.one_of(
            st.binary(max_size=4096),
            st.binary(max_size=4096).map(bytearray),
            st.binary(max_size=4096).map(memoryview),
        ),
        max_size=20,
    )
)
def test_buffer_payloads_arrive_as_bytes(
    channel: Channel,
    messages: list[bytes | bytearray | memoryview],
) -> None:
    sender, receiver = channel
    drain(receiver)
    for m in messages:
        assert sender.send(m) == len(bytes(m))
        got = receiver.recv()
        assert type(got) is bytes
        assert got == bytes(m)


@pytest.mark.parametrize("channel", PAIR_CHANNELS, indirect=True)
@settings(max_examples=20, deadline=None, suppress_health_check=SHARED)
@given(message=st.binary(max_size=8192), size=st.integers(min_value=0, max_value=10000))
def test_recv_into_any_buffer_size(channel: Channel, message: bytes, size: int) -> None:
    sender, receiver = channel
    drain(receiver)
    sender.send(message)
    buf = bytearray(b"\xaa" * size)
    n = receiver.recv_into(buf)
    assert n == len(message)  # the full length, even when truncated
    kept = min(n, size)
    assert buf[:kept] == message[:kept]
    assert buf[kept:] == b"\xaa" * (size - kept)  # nothing written past the message
