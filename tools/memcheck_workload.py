"""The workload that tools/memcheck.sh runs under valgrind: every path of the extension that
touches memory handed across the C boundary (copies in and out, zero-copy NN_MSG buffers,
buffer exports, SP headers, iovecs, option buffers, statistics, poll, device) plus the
close-from-another-thread races, on inproc, ipc and tcp.

    python tools/memcheck_workload.py [--rounds N]

Exits 0 when every check passed; any Python-level surprise is an AssertionError.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import threading
import time

import nanomsg_rs as nn


def exchange(a: nn.Socket, b: nn.Socket, rounds: int) -> None:
    """a <-> b with every send and receive flavour."""
    buf = bytearray(64)
    for i in range(rounds):
        payload = bytes([i % 256]) * (i * 37 % 200)
        assert b.send(payload) == len(payload)
        assert a.recv() == payload
        b.send(memoryview(bytearray(payload)))
        assert a.recv_into(buf) == len(payload)
        assert bytes(buf[: min(len(payload), 64)]) == payload[:64]
        b.send(payload)
        m = a.recv_msg()
        assert m == payload and len(m) == len(payload)
        with memoryview(m) as v:
            if len(v):
                v[0] = 1  # written in place, in nanomsg's buffer
        m.resize(len(payload) + 10)
        b.send_msg(m)
        assert len(m) == 0
        assert len(a.recv()) == len(payload) + 10
        b.send_parts([payload, b"", b"tail", memoryview(b"xyz")[1:]])
        assert a.recv() == payload + b"tailyz"
        b.send("é" * (i % 5))
        assert a.recv() == ("é" * (i % 5)).encode()


def options_and_stats(s: nn.Socket) -> None:
    s.socket_name = "memcheck-" + "n" * 40
    assert s.socket_name.startswith("memcheck")
    assert s.getsockopt(nn.SOL_SOCKET, nn.SOCKET_NAME, bytes).startswith(b"memcheck")
    s.rcvmaxsize = 1 << 20
    s.sndbuf = s.sndbuf
    if nn.BACKEND == "nanomsg":  # nng keeps no statistics
        s.statistics()
    for bad in (b"x" * 200, "y" * 100):
        try:
            s.socket_name = bad  # type: ignore[assignment]
        except (nn.NanomsgError, TypeError, ValueError):
            pass


def raw_device_round(address: str) -> None:
    """A REQ/REP exchange through a device, then the device ends by close."""
    front, back = nn.Socket("rep", "sp-raw"), nn.Socket("req", "sp-raw")
    front.bind(address + "-front")
    back.bind(address + "-back")
    box: dict[str, BaseException] = {}

    def run() -> None:
        try:
            nn.device(front, back)
        except BaseException as e:
            box["exc"] = e

    t = threading.Thread(target=run)
    t.start()
    req, rep = nn.Socket("req"), nn.Socket("rep")
    req.rcvtimeo = rep.rcvtimeo = 10_000
    req.connect(address + "-front")
    rep.connect(address + "-back")
    req.send(b"through the device")
    assert rep.recv() == b"through the device"
    rep.send(b"and back")
    assert req.recv() == b"and back"
    front.close()
    back.close()
    t.join(30)
    assert not t.is_alive() and isinstance(box.get("exc"), nn.Closed), box
    for s in (req, rep):
        s.close()


def raw_headers(address: str) -> None:
    """Messages with SP headers on raw sockets: a Python device loop."""
    rep_raw = nn.Socket("rep", "sp-raw")
    rep_raw.bind(address)
    req = nn.Socket("req")
    req.rcvtimeo = rep_raw.rcvtimeo = 10_000
    req.connect(address)
    for i in range(3):
        req.send(b"q%d" % i)
        m = rep_raw.recv_msg()
        assert m.header is not None and len(m.header) >= 4
        reply = nn.Message(b"a%d" % i)
        reply.header = m.header
        rep_raw.send_msg(reply)
        assert req.recv() == b"a%d" % i
    bogus = nn.Message(b"nowhere")
    bogus.header = b"\x00\x00\x00\x01"  # a route that leads nowhere: dropped
    rep_raw.send_msg(bogus)
    rep_raw.close()
    req.close()


def close_race(kind: int, delay: float) -> None:
    """One blocked call (recv, send, send_msg, recv_into, poll) woken by close."""
    s = nn.Socket("pull" if kind in (0, 3, 4) else "push")
    m = nn.Message(b"kept")
    buf = bytearray(16)
    calls = [
        s.recv,
        lambda: s.send(b"x"),
        lambda: s.send_msg(m),
        lambda: s.recv_into(buf),
        lambda: nn.poll([(s, nn.POLLIN)], 10_000),
    ]
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = calls[kind]()
        except nn.Closed as e:
            box["exc"] = e

    t = threading.Thread(target=run)
    t.start()
    time.sleep(delay)
    s.close()
    t.join(30)
    assert not t.is_alive()
    assert isinstance(box.get("exc"), nn.Closed), box
    assert bytes(m) == b"kept"  # a send_msg that failed gives the message back


def close_races(rounds: int) -> None:
    for i in range(rounds):
        close_race(i % 5, [0, 0.001, 0.02][i % 3])


def errors_and_gc() -> None:
    s = nn.Socket("pair")
    s.rcvtimeo = 1
    for _ in range(3):
        try:
            s.recv()
        except nn.Timeout:
            pass
        try:
            s.recv(block=False)
        except nn.Again:
            pass
    try:
        s.bind("nonsense://x")
    except nn.NotSupported:
        pass
    try:
        s.connect("tcp://")
    except nn.InvalidArgument:
        pass
    for _ in range(20):
        t = nn.Socket("sub")
        t.subscribe(b"a")
        t.subscribe("b")
        t.unsubscribe(b"a")
        try:
            t.unsubscribe(b"never")
        except nn.InvalidArgument:
            pass
        cycle = [t]
        cycle.append(cycle)  # type: ignore[arg-type]
    gc.collect()
    s.close()
    assert [nn.strerror(e) for e in (1, nn.ETERM, nn.EFORKED, 99999)]
    if nn.BACKEND == "nanomsg":  # nng has no symbol table
        assert len(nn.symbols()) > 50


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    tmp = tempfile.mkdtemp(prefix="memcheck-")
    port = 20000 + os.getpid() % 20000
    for address in (
        "inproc://memcheck",
        f"ipc://{tmp}/memcheck.ipc",
        f"tcp://127.0.0.1:{port}",
    ):
        a, b = nn.Socket("pair"), nn.Socket("pair")
        a.rcvtimeo = b.rcvtimeo = 10_000
        a.bind(address)
        b.connect(address)
        exchange(a, b, rounds)
        options_and_stats(a)
        a.close()
        b.close()
    raw_headers(f"ipc://{tmp}/raw.ipc")
    raw_device_round("inproc://memcheck-device")
    close_races(max(10, rounds))
    errors_and_gc()
    print("memcheck workload: ok", flush=True)


if __name__ == "__main__":
    main()
