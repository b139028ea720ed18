"""Buffers without copies: the buffer protocol of ``nn.Message`` (writable, shared, released),
``recv_into`` any writable contiguous buffer, ``send_parts``, and every payload size from 0 to
2 MiB."""

from __future__ import annotations

import array
import ctypes
import gc
import os
import random
import struct
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SockFactory, connected, make_address

import nanomsg_rs as nn

MiB = 1024 * 1024


def address_of(buffer: object) -> int:
    """The address of the first byte of a writable buffer."""
    return ctypes.addressof(ctypes.c_char.from_buffer(buffer))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# The buffer protocol: writable, no copy
# --------------------------------------------------------------------------------------------


def test_memoryview_is_writable_and_shares_the_buffer() -> None:
    m = nn.Message(b"hello world")
    with memoryview(m) as mv:
        assert not mv.readonly
        assert mv.nbytes == len(m) == 11
        assert mv.format == "B"
        assert mv.contiguous
        mv[0:5] = b"HELLO"
        with memoryview(m) as mv2:
            assert address_of(mv) == address_of(mv2)  # the same memory, not a copy
            mv2[-1] = ord("D")
            assert mv[-1] == ord("D")
    assert bytes(m) == b"HELLO worlD"
    assert m == b"HELLO worlD"


def test_memoryview_of_an_empty_message() -> None:
    with memoryview(nn.Message(0)) as mv:
        assert mv.nbytes == 0
        assert bytes(mv) == b""


def test_memoryview_writes_land_in_the_sent_message(sock: SockFactory, transport: str) -> None:
    a, b = connected(sock, "pair", "pair", transport)
    m = nn.Message(64 * 1024)
    with memoryview(m) as mv:
        mv[:6] = b"header"
        mv[-6:] = b"footer"
        mv[1000:1004] = b"\x01\x02\x03\x04"
    expected = bytes(m)
    assert a.send_msg(m) == 64 * 1024
    got = b.recv()
    assert got == expected
    assert got[:6] == b"header" and got[-6:] == b"footer"


def test_write_into_a_received_message_and_send_it_on(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    c, d = connected(sock, "pair", "pair")
    a.send(b"xxxxx payload")
    m = b.recv_msg()
    with memoryview(m) as mv:
        mv[:5] = b"yyyyy"
    assert c.send_msg(m) == 13
    assert d.recv() == b"yyyyy payload"


def test_buffer_error_while_a_view_is_alive(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    m = nn.Message(b"guarded")
    mv = memoryview(m)
    with pytest.raises(BufferError):
        a.send_msg(m)
    with pytest.raises(BufferError):
        m.resize(100)
    with pytest.raises(BufferError):
        m.resize(0)
    # Nothing moved, nothing was sent.
    assert mv.tobytes() == b"guarded"
    assert bytes(m) == b"guarded" and len(m) == 7
    with pytest.raises(nn.Again):
        b.recv(block=False)
    mv.release()
    m.resize(8)
    assert a.send_msg(m) == 8
    assert b.recv() == b"guarded\x00"


def test_buffer_error_with_several_views_and_other_exporters(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    m = nn.Message(b"0123456789")
    v1 = memoryview(m)
    v2 = memoryview(m)
    arr = (ctypes.c_char * 10).from_buffer(m)  # a ctypes array holds its own export
    v1.release()
    with pytest.raises(BufferError):
        a.send_msg(m)
    v2.release()
    with pytest.raises(BufferError):
        a.send_msg(m)
    with pytest.raises(BufferError):
        m.resize(3)
    arr[0] = b"X"
    del arr
    gc.collect()
    assert a.send_msg(m) == 10
    assert b.recv() == b"X123456789"


def test_buffer_exports_are_released(sock: SockFactory) -> None:
    """Every call that borrows a Message as a buffer gives it back: afterwards the message
    can still be resized and sent."""
    a, b = connected(sock, "pair", "pair")
    m = nn.Message(b"borrowed")
    assert nn.Message(m) == b"borrowed"  # copied from its buffer
    assert m == nn.Message(memoryview(m))
    assert m == memoryview(b"borrowed")
    assert a.send(m) == 8
    assert b.recv() == b"borrowed"
    assert a.send_parts([m, m]) == 16
    assert b.recv() == b"borrowedborrowed"
    a.send(b"BORROWED")
    assert b.recv_into(m) == 8
    assert bytes(m) == b"BORROWED"
    carrier = nn.Message(b"")
    carrier.header = m  # a header taken from a buffer
    with pytest.raises(TypeError):
        nn.Message([m])
    m.resize(9)
    assert a.send_msg(m) == 9
    assert b.recv() == b"BORROWED\x00"


# --------------------------------------------------------------------------------------------
# recv_into
# --------------------------------------------------------------------------------------------


def test_recv_into_bytearray(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    a.send(b"exactly")
    buf = bytearray(7)
    assert b.recv_into(buf) == 7
    assert buf == b"exactly"
    a.send(b"short")
    buf = bytearray(b"." * 16)
    assert b.recv_into(buf) == 5
    assert buf == b"short" + b"." * 11  # the rest untouched


def test_recv_into_truncates_and_returns_the_full_length(
    pair: tuple[nn.Socket, nn.Socket],
) -> None:
    a, b = pair
    a.send(b"0123456789")
    buf = bytearray(4)
    assert b.recv_into(buf) == 10
    assert buf == b"0123"
    big = os.urandom(300_000)
    a.send(big)
    buf = bytearray(1000)
    assert b.recv_into(buf) == 300_000
    assert buf == big[:1000]
    # The dropped tail is gone: the next message comes next.
    a.send(b"next")
    assert b.recv() == b"next"


def test_recv_into_zero_length_buffer(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    a.send(b"nowhere to go")
    assert b.recv_into(bytearray()) == 13
    with pytest.raises(nn.Again):
        b.recv(block=False)


def test_recv_into_memoryview_slices(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    backing = bytearray(b"-" * 20)
    a.send(b"MIDDLE")
    assert b.recv_into(memoryview(backing)[7:13]) == 6
    assert backing == b"-------MIDDLE-------"
    a.send(b"too long for the slice")
    assert b.recv_into(memoryview(backing)[0:3]) == 22
    assert backing == b"too----MIDDLE-------"
    a.send(b"tail")
    with memoryview(backing) as mv:
        assert b.recv_into(mv[16:]) == 4
    assert backing == b"too----MIDDLE---tail"


def test_recv_into_array(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    arr = array.array("B", bytes(8))
    a.send(b"\x01\x02\x03")
    assert b.recv_into(arr) == 3
    assert arr.tolist() == [1, 2, 3, 0, 0, 0, 0, 0]
    ints = array.array("i", [0, 0, 0, 0])  # 16 bytes
    a.send(struct.pack("=iii", 7, -8, 9))
    assert b.recv_into(ints) == 12
    assert ints.tolist() == [7, -8, 9, 0]
    a.send(struct.pack("=6i", 1, 2, 3, 4, 5, 6))
    assert b.recv_into(ints) == 24  # the byte length of the message, not an item count
    assert ints.tolist() == [1, 2, 3, 4]


def test_recv_into_numpy(sock: SockFactory) -> None:
    np = pytest.importorskip("numpy")
    a, b = connected(sock, "pair", "pair")
    u8 = np.zeros(10, dtype=np.uint8)
    a.send(bytes(range(1, 6)))
    assert b.recv_into(u8) == 5
    assert u8.tolist() == [1, 2, 3, 4, 5, 0, 0, 0, 0, 0]
    f64 = np.zeros(4, dtype=np.float64)
    a.send(np.array([1.5, -2.25, 3.0], dtype=np.float64).tobytes())
    assert b.recv_into(f64) == 24
    assert f64.tolist() == [1.5, -2.25, 3.0, 0.0]
    grid = np.zeros((3, 4), dtype=np.int16)
    a.send(np.arange(12, dtype=np.int16).tobytes())
    assert b.recv_into(grid) == 24
    assert grid.tolist() == np.arange(12, dtype=np.int16).reshape(3, 4).tolist()
    row = grid[1]  # a contiguous view into the middle
    a.send(np.array([-1, -2, -3, -4, -5], dtype=np.int16).tobytes())
    assert b.recv_into(row) == 10
    assert grid[1].tolist() == [-1, -2, -3, -4]
    assert grid[0].tolist() == [0, 1, 2, 3] and grid[2].tolist() == [8, 9, 10, 11]


def test_recv_into_numpy_rejects_bad_arrays(sock: SockFactory) -> None:
    np = pytest.importorskip("numpy")
    a, b = connected(sock, "pair", "pair")
    a.send(b"stay queued")
    frozen = np.zeros(16, dtype=np.uint8)
    frozen.flags.writeable = False
    with pytest.raises(TypeError, match=r"^recv_into\(\) needs a writable buffer$"):
        b.recv_into(frozen)
    strided = np.zeros(32, dtype=np.uint8)[::2]
    # TypeError, as the standard library's socket.recv_into and readinto say
    with pytest.raises(TypeError, match=r"^recv_into\(\) needs a C-contiguous buffer$"):
        b.recv_into(strided)
    assert not strided.any()
    assert b.recv() == b"stay queued"


def test_recv_into_rejects_read_only_and_strided_buffers(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    a.send(b"stay queued")
    with pytest.raises(TypeError):
        b.recv_into(b"read-only bytes")
    with pytest.raises(TypeError):
        b.recv_into(memoryview(b"read-only view"))
    backing = bytearray(20)
    with pytest.raises(TypeError, match=r"^recv_into\(\) needs a C-contiguous buffer$"):
        b.recv_into(memoryview(backing)[::2])
    assert backing == bytearray(20)
    for bad in (None, 5, "str", [0] * 10):
        with pytest.raises(TypeError):
            b.recv_into(bad)  # type: ignore[arg-type]
    # Argument errors consumed nothing.
    assert b.recv() == b"stay queued"


def test_recv_into_a_message(sock: SockFactory) -> None:
    """A Message is a writable buffer too: receive into one, then send it zero-copy."""
    a, b = connected(sock, "pair", "pair")
    m = nn.Message(8)
    a.send(b"filled")
    assert b.recv_into(m) == 6
    assert bytes(m) == b"filled\x00\x00"
    b.send_msg(m)
    assert a.recv() == b"filled\x00\x00"


# --------------------------------------------------------------------------------------------
# send_parts
# --------------------------------------------------------------------------------------------


def test_send_parts(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    parts = [b"head|", bytearray(b"middle|"), memoryview(b"xxtailxx")[2:6], b"", b"|end"]
    assert a.send_parts(parts) == 20
    assert b.recv() == b"head|middle|tail|end"


def test_send_parts_variants(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    assert a.send_parts([b"only"]) == 4
    assert b.recv() == b"only"
    assert a.send_parts((b"a", b"b", b"c")) == 3
    assert b.recv() == b"abc"
    assert a.send_parts(bytes([i]) for i in range(100)) == 100  # any iterable
    assert b.recv() == bytes(range(100))
    assert a.send_parts([nn.Message(b"msg "), array.array("B", b"and array")]) == 13
    assert b.recv() == b"msg and array"
    big = [os.urandom(100_000) for _ in range(5)]
    assert a.send_parts(big) == 500_000
    b.rcvmaxsize = -1
    assert b.recv() == b"".join(big)
    many = [b"%04d," % i for i in range(1000)]
    assert a.send_parts(many) == 5000
    assert b.recv() == b"".join(many)


def test_send_parts_empty(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    assert a.send_parts([]) == 0
    assert b.recv() == b""
    assert a.send_parts([b"", b""]) == 0
    assert b.recv() == b""


def test_send_parts_errors(sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair")
    with pytest.raises(TypeError):
        a.send_parts([b"ok", 5])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        a.send_parts(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        a.send_parts([b"ok", None])  # type: ignore[list-item]
    with pytest.raises(nn.Again):
        b.recv(block=False)  # nothing half-sent
    push = sock("push")
    with pytest.raises(nn.Again):
        push.send_parts([b"no", b"peer"], block=False)


# --------------------------------------------------------------------------------------------
# Every size from 0 to 2 MiB
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_pair() -> Iterator[tuple[nn.Socket, nn.Socket]]:
    a, b = nn.Socket("pair"), nn.Socket("pair")
    address = make_address("tcp")
    for s in (a, b):
        s.rcvmaxsize = -1
        s.rcvtimeo = 10000
        s.sndtimeo = 10000
    a.bind(address)
    b.connect(address)
    yield a, b
    a.close()
    b.close()


SIZES = st.one_of(
    st.integers(0, 2 * MiB),
    st.integers(0, 300),
    st.sampled_from([128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, MiB - 1, MiB, MiB + 1, 2 * MiB]),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(size=SIZES, seed=st.integers(0, 2**32 - 1), cut=st.floats(0, 1))
def test_payload_sizes(
    big_pair: tuple[nn.Socket, nn.Socket], size: int, seed: int, cut: float
) -> None:
    a, b = big_pair
    payload = random.Random(seed).randbytes(size)
    # send_msg -> recv_msg
    assert a.send_msg(nn.Message(payload)) == size
    m = b.recv_msg()
    assert len(m) == size
    assert bytes(m) == payload
    # the received message straight back with send_msg
    assert b.send_msg(m) == size
    assert a.recv() == payload
    # send -> recv_into (exact size, then with room to spare)
    a.send(payload)
    buf = bytearray(size)
    assert b.recv_into(buf) == size
    assert buf == payload
    k = int(size * cut)
    assert a.send_parts([payload[:k], memoryview(payload)[k:]]) == size
    roomy = bytearray(size + 16)
    assert b.recv_into(roomy) == size
    assert roomy[:size] == payload and roomy[size:] == bytes(16)
    # truncated recv_into
    a.send_msg(nn.Message(payload))
    short = bytearray(k)
    assert b.recv_into(short) == size
    assert short == payload[:k]
