"""Large messages, byte for byte: every size around the edges of libnanomsg's buffer cache
(patch 0029 keeps freed buffers of 32 KiB to 4 MiB, rounded up to 4 KiB, in four slots, and
hands one out again only to a message that fits it and needs at least half of it), mixed
sizes in one stream, buffers held by ``recv_msg`` while more arrive, and many threads at
once. A buffer handed out twice, or a copy that starts at the wrong place, shows here as a
message that differs from the one sent."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import NANOMSG, SockFactory, make_address, run_in_thread, timeouts

import nanomsg_rs as nn

KiB = 1024
MiB = 1024 * KiB
HEADER = 32  # the chunk header in front of a message's bytes: its block is this much bigger

# Sizes at the cache's edges: the smallest and largest block it keeps, a 4 KiB rounding step,
# and "needs at least half" (a 64 KiB block is not handed to a message of under 32 KiB).
EDGES = [
    32 * KiB - HEADER - 1,
    32 * KiB - HEADER,
    32 * KiB,
    36 * KiB - HEADER,
    36 * KiB - HEADER + 1,
    64 * KiB,
    100_000,
    256 * KiB,
    MiB,
    4 * MiB - HEADER,
    4 * MiB - HEADER + 1,
    5 * MiB,
]


def payload(seed: int, size: int) -> bytes:
    """``size`` bytes that no other (seed, size) gives."""
    return random.Random(seed * 7919 + size).randbytes(size)


def stream(sock: SockFactory, transport: str) -> tuple[nn.Socket, nn.Socket]:
    """PUSH → PULL, 10 s timeouts, no size limit on the PULL, and on libnanomsg room for
    64 MiB queued (set before the two connect: buffer sizes apply to the connections made
    after)."""
    pull, push = sock("pull"), sock("push")
    timeouts(pull, push, ms=10_000)
    pull.rcvmaxsize = -1
    if NANOMSG:  # nng's buffers count messages, and it has no option for them in bytes
        pull.rcvbuf = push.sndbuf = 64 * MiB
    address = make_address(transport)
    pull.bind(address)
    push.connect(address)
    return pull, push


def test_every_size_at_the_edges(sock: SockFactory, transport: str) -> None:
    """Each edge size, then the same sizes in an order that makes every next message take a
    block of another size (or find none that fits)."""
    pull, push = stream(sock, transport)
    order = EDGES + EDGES[::-1] + EDGES[::2] + EDGES[1::2]
    for i, size in enumerate(order):
        push.send(payload(i, size))
        got = pull.recv()
        assert len(got) == size and got == payload(i, size), (i, size)


@pytest.mark.parametrize("mode", ["recv", "recv_into", "recv_msg"])
def test_a_queue_of_mixed_sizes(sock: SockFactory, mode: str) -> None:
    """Twelve messages queued before the first is read (more blocks in flight than the cache
    has slots; sent from a thread, so a backend with smaller queues gets them as it can),
    each read back with every receive call."""
    pull, push = stream(sock, "inproc")
    sizes = [MiB, 40 * KiB, 3 * MiB, 64 * KiB, MiB + 1, 33 * KiB] * 2
    sender, box = run_in_thread(lambda: [push.send(payload(i, n)) for i, n in enumerate(sizes)])
    if NANOMSG:  # with 64 MiB of buffers all twelve are queued before the first read
        sender.join(10)
        assert not sender.is_alive() and "exc" not in box, box
    for i, size in enumerate(sizes):
        if mode == "recv_into":
            buffer = bytearray(size)
            assert pull.recv_into(buffer) == size
            got = bytes(buffer)
        else:
            got = bytes(getattr(pull, mode)())
        assert got == payload(i, size), (i, size)
    sender.join(10)
    assert "exc" not in box, box.get("exc")


def test_messages_held_while_more_arrive(sock: SockFactory) -> None:
    """Twelve 1 MiB messages received with ``recv_msg`` and held, each arriving while the
    earlier ones are alive (more buffers in use than the cache has slots), then all twelve
    checked: no buffer is given to two messages at once; then eight more once they are
    freed."""
    pull, push = stream(sock, "inproc")
    held = []
    for i in range(12):
        push.send(payload(i, MiB))
        held.append(pull.recv_msg())
    for i, message in enumerate(held):
        assert bytes(message) == payload(i, MiB), i
    del held
    for i in range(12, 20):
        push.send(payload(i, MiB))
        assert pull.recv() == payload(i, MiB), i


def test_zero_copy_sends_of_large_messages(sock: SockFactory) -> None:
    """``send_msg`` hands a library buffer over (it comes back to the cache at the far end of
    the pipe), ``recv_msg`` gives one out: round trips of buffers made by ``nn.Message``."""
    pull, push = stream(sock, "inproc")
    for i, size in enumerate(EDGES):
        push.send_msg(nn.Message(payload(i, size)))
        assert bytes(pull.recv_msg()) == payload(i, size), size


@pytest.mark.backend(
    "nanomsg", reason="fills a pipe by its bytes (sndbuf); nng's queues count messages"
)
def test_nonblocking_sends_to_a_full_pipe(sock: SockFactory, transport: str) -> None:
    """Messages of 16 to 96 KiB sent with ``block=False`` until the pipe refuses three in a
    row (``Again``): every accepted one arrives, whole and in order, and no refused one does;
    then the pipe takes more. libnanomsg asks the socket before it copies such a message and
    refuses it without the copy (patch 0086): a refusal must stay one, an acceptance too."""
    pull, push = sock("pull"), sock("push")
    timeouts(pull, push, ms=10_000)
    address = make_address(transport)
    pull.bind(address)
    push.connect(address)
    push.send(b"up")
    assert pull.recv() == b"up"
    sent: list[bytes] = []
    refused = i = 0
    while refused < 3:
        body = payload(i, 16 * KiB + (i % 5) * 20 * KiB)
        i += 1
        try:
            push.send(body, block=False)
        except nn.Again:
            refused += 1
            continue
        refused = 0
        sent.append(body)
        assert len(sent) < 1000, "the pipe never filled"
    assert sent and i > len(sent)
    for k, body in enumerate(sent):
        assert pull.recv() == body, k
    push.send(b"after")
    assert pull.recv() == b"after"


@pytest.mark.parametrize("protocol", ["rep", "respondent"])
def test_a_large_reply_with_nothing_to_answer(sock: SockFactory, protocol: str) -> None:
    """A REP (a RESPONDENT) with no request (survey) to answer refuses a reply as the
    protocol's error (``BadState``), whatever its size and with ``block=False`` too: it is
    not a full pipe (``Again``), which a send of 16 KiB or more that asks the socket first
    (patch 0086) must not make of it."""
    s = sock(protocol)
    for size in (10, 16 * KiB, MiB):
        with pytest.raises(nn.BadState):
            s.send(b"r" * size, block=False)


def test_many_threads_at_once(sock: SockFactory) -> None:
    """Four PUSH → PULL pairs, each with a sending and a receiving thread: eight threads
    taking and returning buffers of random large sizes at the same time."""
    pairs = [stream(sock, "inproc") for _ in range(4)]
    rounds = 60
    errors: list[str] = []

    def sender(push: nn.Socket, seed: int) -> None:
        rng = random.Random(seed)
        for i in range(rounds):
            push.send(payload(seed * 1000 + i, rng.randrange(20 * KiB, 2 * MiB)))

    def receiver(pull: nn.Socket, seed: int) -> None:
        rng = random.Random(seed)
        for i in range(rounds):
            expected = payload(seed * 1000 + i, rng.randrange(20 * KiB, 2 * MiB))
            got = pull.recv_msg() if i % 2 else pull.recv()
            if bytes(got) != expected:
                errors.append(f"pair {seed} message {i}: {len(got)} bytes, not as sent")

    threads = []
    for seed, (pull, push) in enumerate(pairs):
        threads.append(threading.Thread(target=sender, args=(push, seed)))
        threads.append(threading.Thread(target=receiver, args=(pull, seed)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert not errors, errors


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(
        st.one_of(st.sampled_from(EDGES), st.integers(0, 6 * MiB)), min_size=1, max_size=8
    ),
    queued=st.booleans(),
)
def test_any_sequence_of_sizes(sock: SockFactory, sizes: list[int], queued: bool) -> None:
    """Any sizes, sent one at a time or all at once from a thread, come back as sent."""
    pull, push = stream(sock, "inproc")
    if queued:
        sender, box = run_in_thread(lambda: [push.send(payload(i, n)) for i, n in enumerate(sizes)])
    for i, size in enumerate(sizes):
        if not queued:
            push.send(payload(i, size))
        assert pull.recv() == payload(i, size), (i, size)
    if queued:
        sender.join(10)
        assert "exc" not in box, box.get("exc")
