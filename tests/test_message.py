"""``nn.Message``: construction and the basics, ``resize``, ``send_msg`` that consumes the
message (a failed send keeps it), and ``recv_msg``/``send_msg`` round trips.

Anything that could crash the interpreter if the binding got ownership wrong (a double free)
runs in a child interpreter, so a crash fails one test instead of the whole session.
"""

from __future__ import annotations

import array
import ctypes
import errno
import gc
import os
import struct
import time

import pytest
from support import AddrFactory, SockFactory, connected, run_ok, star, timeouts

import nanomsg_rs as nn

MiB = 1024 * 1024
SECRET = b"TOPSECRETPAYLOAD"


def address_of(buffer: object) -> int:
    """The address of the first byte of a writable buffer."""
    return ctypes.addressof(ctypes.c_char.from_buffer(buffer))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Construction and the basics
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"hello", b"hello"),
        (b"", b""),
        (bytearray(b"from a bytearray"), b"from a bytearray"),
        (memoryview(b"from a memoryview"), b"from a memoryview"),
        (memoryview(b"0123456789")[2:7], b"23456"),
        (memoryview(b"a-b-c-d")[::2], b"abcd"),  # not contiguous: copied in order
        ("h\u00e9llo \u2603", "h\u00e9llo \u2603".encode()),
        (array.array("i", [1, 2]), struct.pack("=ii", 1, 2)),
        (bytes(range(256)) * 16, bytes(range(256)) * 16),
    ],
    ids=[
        "bytes",
        "empty",
        "bytearray",
        "memoryview",
        "memoryview-slice",
        "strided",
        "str",
        "array",
        "4KiB",
    ],
)
def test_construct_from_data(data: object, expected: bytes) -> None:
    m = nn.Message(data)
    assert len(m) == len(expected)
    assert bytes(m) == expected
    assert m == expected
    assert m.header is None


def test_construct_copies_the_data() -> None:
    source = bytearray(b"original")
    m = nn.Message(source)
    source[:] = b"changed!"
    assert bytes(m) == b"original"
    memoryview(m)[:1] = b"O"
    assert source == bytearray(b"changed!")


@pytest.mark.parametrize("size", [0, 1, 7, 4096, 3 * MiB])
def test_construct_from_size_is_zero_filled(size: int) -> None:
    m = nn.Message(size)
    assert len(m) == size
    assert bytes(m) == bytes(size)


@pytest.mark.parametrize("size", [-1, -2, -(2**31)])
def test_negative_size_is_value_error(size: int) -> None:
    with pytest.raises(ValueError):
        nn.Message(size)


@pytest.mark.parametrize(
    ("size", "error"),
    [
        # a size_t the C library cannot allocate: its ENOMEM
        (2**62, nn.NanomsgError),
        (2**63 - 1, nn.NanomsgError),
        # no Py_ssize_t holds it: OverflowError, as bytearray(2**63) says
        (2**63, OverflowError),
        (2**64, OverflowError),
        (2**100, OverflowError),
    ],
)
def test_impossible_sizes_fail_cleanly(size: int, error: type[Exception]) -> None:
    # Far beyond any address space: an exception, never a crash or a half-made message.
    with pytest.raises(error) as made:
        nn.Message(size)
    m = nn.Message(b"abc")
    with pytest.raises(error) as resized:
        m.resize(size)
    for info in (made, resized):
        assert type(info.value) is error
        if error is nn.NanomsgError:
            assert info.value.errno == errno.ENOMEM
    assert bytes(m) == b"abc" and len(m) == 3
    m.resize(5)
    assert bytes(m) == b"abc\x00\x00"


@pytest.mark.parametrize(
    "bad", [None, 1.5, object(), [1, 2, 3], {"a": 1}, True, (b"a", b"b")], ids=repr
)
def test_wrong_type_is_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        nn.Message(bad)


def test_equality() -> None:
    m = nn.Message(b"abc")
    assert m == b"abc"
    assert b"abc" == m
    assert m == bytearray(b"abc")
    assert m == memoryview(b"abc")
    assert m == nn.Message(b"abc")
    assert m == m
    assert not (m != b"abc")
    assert m != b"abd"
    assert m != b"ab"
    assert m != b"abcd"
    assert b"abd" != m
    assert m != nn.Message(b"xyz")
    assert not (m == b"abd")
    assert m != 5
    assert not (m == 5)
    assert m != None  # noqa: E711
    assert nn.Message(0) == b""


def test_no_ordering() -> None:
    m = nn.Message(b"abc")
    with pytest.raises(TypeError):
        _ = m < b"abd"  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = m >= nn.Message(b"a")  # type: ignore[operator]


def test_unhashable() -> None:
    m = nn.Message(b"abc")
    with pytest.raises(TypeError):
        hash(m)
    with pytest.raises(TypeError):
        {m}  # noqa: B018


def test_repr_does_not_show_the_payload(sock: SockFactory) -> None:
    m = nn.Message(SECRET * 4)
    for text in (repr(m), str(m)):
        assert "TOPSECRET" not in text
        assert SECRET.hex() not in text
        assert "Message" in text
    # A received message too, header and all.
    rep, req = connected(sock, "rep", "req", raw=(True, False))
    req.send(SECRET)
    got = rep.recv_msg()
    assert got.header is not None
    assert "TOPSECRET" not in repr(got)
    assert SECRET.hex() not in repr(got)


def test_header_property() -> None:
    m = nn.Message(b"body")
    assert m.header is None
    m.header = b"\x00\x00\x00\x01\x80\x00\x00\x02"
    assert m.header == b"\x00\x00\x00\x01\x80\x00\x00\x02"
    assert isinstance(m.header, bytes)
    m.header = bytearray(b"\x80\x00\x00\x03")
    assert m.header == b"\x80\x00\x00\x03"
    m.header = None
    assert m.header is None
    with pytest.raises(TypeError):
        m.header = 12  # type: ignore[assignment]
    assert bytes(m) == b"body"


# --------------------------------------------------------------------------------------------
# resize
# --------------------------------------------------------------------------------------------


def test_resize_grows_with_zeros_and_shrinks() -> None:
    m = nn.Message(b"abc")
    m.resize(6)
    assert bytes(m) == b"abc\x00\x00\x00"
    m.resize(2)
    assert bytes(m) == b"ab"
    m.resize(0)
    assert bytes(m) == b"" and len(m) == 0
    m.resize(4)
    assert bytes(m) == bytes(4)


def test_resize_new_bytes_are_zero_even_after_shrinking() -> None:
    m = nn.Message(b"\xff" * 4096)
    m.resize(10)
    m.resize(4096)
    assert bytes(m) == b"\xff" * 10 + bytes(4086)
    m.resize(2 * MiB)
    assert bytes(m)[:10] == b"\xff" * 10
    assert bytes(m).count(0) == 2 * MiB - 10


@pytest.mark.parametrize(("server", "client"), [("rep", "req"), ("respondent", "surveyor")])
def test_resize_a_received_raw_message(server: str, client: str) -> None:
    """A raw REP or RESPONDENT receives a body whose buffer has room in front (the library
    took the backtrace off it); growing it a little, into that room, keeps the data, and the
    message is then read, answered and freed. libnanomsg 1.1.5 returned the old pointer there
    and aborted at the free (patch 0028). In a child: a crash fails this test alone."""
    run_ok(
        """
        import sys
        import nanomsg_rs as nn
        server, client = sys.argv[1], sys.argv[2]
        for grow in (1, 4, 8, 5000):
            raw = nn.Socket(server, "sp-raw"); peer = nn.Socket(client)
            raw.rcvtimeo = 200
            peer.rcvtimeo = peer.sndtimeo = 5000
            raw.bind("inproc://grow"); peer.connect("inproc://grow")
            payload = bytes(range(100))
            for attempt in range(50):
                # A survey goes to the peers connected when it is sent (on nng the
                # connection may still be on its way): ask again until one arrives.
                peer.send(payload)
                try:
                    m = raw.recv_msg()
                    break
                except nn.Timeout:
                    pass
            else:
                raise AssertionError("no request arrived")
            m.resize(100 + grow)
            assert bytes(m) == payload + bytes(grow), (grow, bytes(m)[:16])
            raw.send_msg(m)
            assert peer.recv() == payload + bytes(grow)
            raw.close(); peer.close()
        print("ok")
        """,
        server,
        client,
    )


def test_resize_negative_is_value_error() -> None:
    m = nn.Message(b"abc")
    with pytest.raises(ValueError):
        m.resize(-1)
    assert bytes(m) == b"abc"


# --------------------------------------------------------------------------------------------
# send_msg consumes the message; a second send is refused; a failed send keeps it
# --------------------------------------------------------------------------------------------


def test_send_msg_consumes_and_second_send_is_value_error(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    m = nn.Message(b"once only")
    assert a.send_msg(m) == 9
    assert len(m) == 0
    assert bytes(m) == b""
    with memoryview(m) as mv:
        assert mv.nbytes == 0
    with pytest.raises(ValueError):
        a.send_msg(m)
    with pytest.raises(ValueError):
        a.send_msg(m, block=False)
    with pytest.raises(ValueError):
        m.resize(5)
    assert "once only" not in repr(m)
    assert b.recv() == b"once only"
    with pytest.raises(nn.Again):
        b.recv(block=False)  # the refused sends sent nothing


def test_send_msg_wrong_type(sock: SockFactory) -> None:
    a, _ = connected(sock, "pair", "pair")
    for bad in (b"bytes", bytearray(b"x"), "str", None, 3):
        with pytest.raises(TypeError):
            a.send_msg(bad)  # type: ignore[arg-type]


def test_second_send_never_double_frees() -> None:
    """Many messages each sent once and refused many times, from one thread and raced from
    two, received and sent on zero-copy: a double free would abort the child."""
    run_ok(
        """
        import gc, threading
        import nanomsg_rs as nn

        a, b = nn.Socket("pair"), nn.Socket("pair")
        a.bind("inproc://dbl"); b.connect("inproc://dbl")
        for s in (a, b):
            s.rcvtimeo = s.sndtimeo = 5000
        c, d = nn.Socket("pair"), nn.Socket("pair")
        c.bind("inproc://dbl2"); d.connect("inproc://dbl2")
        for s in (c, d):
            s.rcvtimeo = s.sndtimeo = 5000

        for i in range(20000):
            m = nn.Message(b"%d" % i * 8)
            a.send_msg(m)
            for _ in range(3):
                try:
                    a.send_msg(m)
                except ValueError:
                    pass
                else:
                    raise AssertionError("second send_msg succeeded")
            got = b.recv_msg()
            assert got == b"%d" % i * 8, (i, bytes(got))
            c.send_msg(got)
            try:
                c.send_msg(got)
            except ValueError:
                pass
            else:
                raise AssertionError("second send_msg of a received message succeeded")
            del got, m
            assert d.recv() == b"%d" % i * 8
            if i % 5000 == 0:
                gc.collect()

        # Two threads race to send the same messages: exactly one send of each wins.
        N = 3000
        msgs = [nn.Message(b"race %d" % i) for i in range(N)]
        wins = [0, 0]
        start = threading.Barrier(2)

        def racer(k):
            start.wait()
            for m in msgs:
                try:
                    a.send_msg(m)
                    wins[k] += 1
                except ValueError:
                    pass

        got = []

        def drain():
            for _ in range(N):
                got.append(b.recv())

        t = threading.Thread(target=drain)
        t.start()
        racers = [threading.Thread(target=racer, args=(k,)) for k in range(2)]
        for r in racers:
            r.start()
        for r in racers:
            r.join()
        t.join(30)
        assert sum(wins) == N, wins
        assert sorted(got) == sorted(b"race %d" % i for i in range(N))
        assert all(len(m) == 0 for m in msgs)
        del msgs
        gc.collect()
        for s in (a, b, c, d):
            s.close()
        print("ok")
        """
    )


def test_failed_send_keeps_the_message(sock: SockFactory, addr: AddrFactory) -> None:
    push = sock("push")  # no peer: nothing can be sent
    m = nn.Message(b"keep me")
    with pytest.raises(nn.Again):
        push.send_msg(m, block=False)
    assert bytes(m) == b"keep me" and len(m) == 7
    push.sndtimeo = 50
    with pytest.raises(nn.Timeout):
        push.send_msg(m)
    assert bytes(m) == b"keep me"
    with memoryview(m) as mv:  # still usable as a buffer
        mv[0:1] = b"K"
    m.resize(8)
    # Later, with a peer, the very same message goes out.
    address = addr("tcp")
    pull = sock("pull")
    pull.rcvtimeo = 5000
    pull.bind(address)
    push.connect(address)
    push.sndtimeo = 5000
    assert push.send_msg(m) == 8
    assert len(m) == 0
    assert pull.recv() == b"Keep me\x00"
    with pytest.raises(ValueError):
        push.send_msg(m)


def test_failed_send_keeps_the_header(sock: SockFactory, addr: AddrFactory) -> None:
    xreq = sock("req", "sp-raw")  # no peer yet
    m = nn.Message(b"request")
    m.header = b"\x80\x00\x00\x2a"
    with pytest.raises(nn.Again):
        xreq.send_msg(m, block=False)
    assert m.header == b"\x80\x00\x00\x2a"
    assert bytes(m) == b"request"
    address = addr("ipc")
    xrep = sock("rep", "sp-raw")
    xrep.bind(address)
    xreq.connect(address)
    timeouts(xreq, xrep)
    assert xreq.send_msg(m) == 7
    got = xrep.recv_msg()
    assert got == b"request"
    assert got.header is not None
    assert got.header[-4:] == b"\x80\x00\x00\x2a"  # the request id travelled with it


def test_send_msg_on_a_closed_socket_keeps_the_message(sock: SockFactory) -> None:
    s = sock("pair")
    s.close()
    m = nn.Message(b"still here")
    with pytest.raises(nn.Closed):
        s.send_msg(m)
    assert bytes(m) == b"still here"


# --------------------------------------------------------------------------------------------
# recv_msg / send_msg round trips
# --------------------------------------------------------------------------------------------


def test_recv_msg_send_msg_round_trip(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    for payload in (b"", b"x", b"hello", bytes(range(256)) * 100, os.urandom(200_000)):
        a.send_msg(nn.Message(payload))
        m = b.recv_msg()
        assert isinstance(m, nn.Message)
        assert m.header is None  # not a raw socket
        assert len(m) == len(payload)
        assert bytes(m) == payload
        b.send_msg(m)  # straight back, without a copy
        assert len(m) == 0
        assert a.recv() == payload


def test_recv_msg_mixes_with_send_and_recv(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    a.send(b"plain send")
    assert b.recv_msg() == b"plain send"
    b.send_msg(nn.Message(b"zero-copy send"))
    assert a.recv() == b"zero-copy send"
    buf = bytearray(32)
    a.send_msg(nn.Message(b"into a buffer"))
    assert b.recv_into(buf) == 13
    assert buf[:13] == b"into a buffer"


def test_recv_msg_nonblocking(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    with pytest.raises(nn.Again):
        b.recv_msg(block=False)
    a.send(b"now")
    deadline = time.monotonic() + 5
    while True:
        try:
            m = b.recv_msg(block=False)
            break
        except nn.Again:
            assert time.monotonic() < deadline
            time.sleep(0.001)
    assert m == b"now"


def test_recv_msg_timeout_and_closed(sock: SockFactory) -> None:
    _, b = connected(sock, "pair", "pair")
    b.rcvtimeo = 50
    with pytest.raises(nn.Timeout):
        b.recv_msg()
    b.close()
    with pytest.raises(nn.Closed):
        b.recv_msg()


def test_inproc_hands_an_unshared_message_over_without_a_copy(sock: SockFactory) -> None:
    """A message without an SP header whose buffer nobody else holds crosses inproc as it is
    (patch 0052: no copy, so no allocation that could fail): the receiver gets the very
    buffer that was sent, with the data intact."""
    a, b = connected(sock, "pair", "pair")
    payload = os.urandom(1000)
    m = nn.Message(payload)
    sent_at = address_of(m)
    a.send_msg(m)
    got = b.recv_msg()
    assert bytes(got) == payload
    assert address_of(got) == sent_at


def test_inproc_subscribers_get_buffers_of_their_own(sock: SockFactory) -> None:
    """A PUB shares one buffer among its pipes: over inproc each subscriber still gets a
    copy of its own (patch 0052 hands a buffer over only when nobody else holds it), so a
    write into one received message shows in no other."""
    pub, subs = star(sock, "pub", "sub", 3)
    for s in subs:
        s.subscribe(b"")
    time.sleep(0.05)  # subscriptions are local to each SUB; the pipes are up at once
    payload = os.urandom(1000)
    pub.send(payload)
    got = [s.recv_msg() for s in subs]
    with memoryview(got[0]) as mv:
        mv[0:4] = b"MINE"
    assert bytes(got[0])[:4] == b"MINE"
    assert all(bytes(m) == payload for m in got[1:])
    assert len({address_of(m) for m in got}) == 3


def test_received_message_outlives_its_socket(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    a.send(b"survivor" * 100)
    m = b.recv_msg()
    a.close()
    b.close()
    gc.collect()
    assert bytes(m) == b"survivor" * 100
    with memoryview(m) as mv:
        mv[0:1] = b"S"
    assert bytes(m)[:8] == b"Survivor"
