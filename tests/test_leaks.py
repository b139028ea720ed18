"""Leaks: memory (RSS) stays flat over many messages whichever way they are received or sent,
descriptors stay flat over thousands of sockets dropped without ``close()``, and socket
numbers (libnanomsg allows NN_MAX_SOCKETS, 16,384, at a time) never run out.

Each measurement runs in a fresh interpreter, away from whatever pytest holds. The default
run uses 200,000 messages and 5,000 sockets; ``-m soak`` runs 1,000,000 and 20,000.
"""

from __future__ import annotations

import errno
import gc
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from support import (
    ROOT,
    SockFactory,
    c_library,
    connected,
    needs_descriptors,
    per_backend,
    quick_and_soak,
    run_reporting,
)

import nanomsg_rs as nn

MiB = 1 << 20

# nng moves a message through its own threads, ~15 times slower than libnanomsg on inproc:
# 50,000 there keep the quick run quick (a leak of one buffer per message still shows).
QUICK_MESSAGES = 200_000 if nn.BACKEND == "nanomsg" else 50_000
SOAK_MESSAGES = 1_000_000
QUICK_SOCKETS = 5_000
SOAK_SOCKETS = 20_000
RSS_TOLERANCE = 4 * MiB


# One way of moving a message each; every loop body moves one message (or fails to).
MESSAGES = """
import json, sys
import nanomsg_rs as nn

way, total = sys.argv[1], int(sys.argv[2])

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

a, b = nn.Socket("pair"), nn.Socket("pair")
a.bind("inproc://leak")
b.connect("inproc://leak")
payloads = [b"s" * 10, b"m" * 1000, b"l" * 20000]
buf = bytearray(32 * 1024)

if way == "recv":
    def step(i):
        b.send(payloads[i % 3])
        assert len(a.recv()) == len(payloads[i % 3])
elif way == "recv_msg":
    def step(i):
        b.send(payloads[i % 3])
        m = a.recv_msg()
        assert len(m) == len(payloads[i % 3])
elif way == "recv_into":
    def step(i):
        b.send(payloads[i % 3])
        assert a.recv_into(buf) == len(payloads[i % 3])
elif way == "send_msg":
    def step(i):
        b.send_msg(nn.Message(payloads[i % 3]))
        assert len(a.recv_msg()) == len(payloads[i % 3])
elif way == "send_parts":
    def step(i):
        b.send_parts([payloads[i % 3], b"tail"])
        assert len(a.recv()) == len(payloads[i % 3]) + 4
elif way == "errors":
    def step(i):
        try:
            a.recv(block=False)
        except nn.Again:
            pass
        else:
            raise AssertionError("a message out of nowhere")
elif way == "memoryview":
    def step(i):
        b.send(memoryview(payloads[i % 3]))
        m = a.recv_msg()
        with memoryview(m) as v:
            assert v.nbytes == len(payloads[i % 3])
else:
    raise SystemExit(way)

warm = total // 10
samples = []
for i in range(total):
    step(i)
    if i == warm or (i > warm and i % (total // 20) == 0):
        samples.append(rss())
samples.append(rss())
print(json.dumps({"samples": samples}))
"""

WAYS = ["recv", "recv_msg", "recv_into", "send_msg", "send_parts", "memoryview", "errors"]


def check_rss(way: str, total: int, timeout: float) -> None:
    samples = run_reporting(MESSAGES, way, total, timeout=timeout)["samples"]
    growth = max(samples) - samples[0]
    assert growth < RSS_TOLERANCE, (
        f"{way}: RSS grew by {growth / MiB:.1f} MiB over {total} messages after warm-up: "
        f"{[round(s / MiB, 1) for s in samples]} MiB"
    )


@pytest.mark.parametrize(
    ("total", "timeout"), quick_and_soak((QUICK_MESSAGES, 50), (SOAK_MESSAGES, 590), timeout=600)
)
@pytest.mark.parametrize("way", WAYS)
def test_rss_flat_over_many_messages(way: str, total: int, timeout: float) -> None:
    check_rss(way, total, timeout=timeout)


# --------------------------------------------------------------------------------------------
# Sockets dropped without close: descriptors and socket numbers
# --------------------------------------------------------------------------------------------

SOCKETS = """
import gc, json, os, sys
import nanomsg_rs as nn

total = int(sys.argv[1])

def fds():
    return len(os.listdir("/proc/self/fd"))

def churn(i):
    kind = i % 5
    if kind == 0:
        nn.Socket("pair")  # dropped at once
    elif kind == 1:
        s = nn.Socket("pub")
        s.bind("inproc://churn-%d" % i)
        c = nn.Socket("sub")
        c.connect("inproc://churn-%d" % i)
        return s.fd
    elif kind == 2:
        # a reference cycle: only the cyclic GC frees it
        box = [nn.Socket("req")]
        box.append(box)
    elif kind == 3:
        s = nn.Socket("pull")
        s.rcvfd  # an option that makes libnanomsg create its pollable fd
        s.bind("inproc://churn-%d" % i)
        return s.fd
    else:
        with nn.Socket("push") as s:  # closed explicitly, for comparison
            s.sndfd
    return None

# warm-up: libnanomsg's global state and the first sockets' descriptors
for i in range(50):
    churn(i)
gc.collect()
before = fds()
highest = 0
for i in range(total):
    n = churn(i)
    if n is not None:
        highest = max(highest, n)
    if i % 500 == 0:
        gc.collect()
gc.collect()
after = fds()
# and the numbers really are free: 500 sockets at once take the lowest ones
held = [nn.Socket("pair") for _ in range(500)]
top = max(s.fd for s in held)
print(json.dumps({"before": before, "after": after, "highest": highest, "top": top}))
"""


def check_sockets(total: int, timeout: float) -> None:
    r = run_reporting(SOCKETS, total, timeout=timeout)
    assert r["after"] - r["before"] <= 2, f"descriptors leaked: {r}"
    if nn.BACKEND == "nanomsg":  # libnanomsg reuses a freed number at once; nng counts up
        assert r["highest"] < 64, f"socket numbers were not reused promptly: {r}"
        assert r["top"] < 512, r


@pytest.mark.parametrize(
    ("total", "timeout"), quick_and_soak((QUICK_SOCKETS, 50), (SOAK_SOCKETS, 590), timeout=600)
)
def test_fds_and_socket_numbers_flat_over_dropped_sockets(total: int, timeout: float) -> None:
    check_sockets(total, timeout=timeout)


@pytest.mark.skipif(nn.BACKEND != "nanomsg", reason="libnanomsg's limit of open sockets")
@needs_descriptors(17800)
def test_socket_limit_is_real_and_dropping_frees_numbers() -> None:
    """libnanomsg's limit is real (with NN_MAX_SOCKETS open, the next socket fails), and
    numbers freed by dropped sockets (by refcount or by the cyclic GC) are available again at
    once. All but 512 of the sockets are made through the C API (ctypes: one descriptor
    each, where an nn.Socket PAIR takes three)."""
    r = run_reporting(
        """
        import ctypes, gc, json, resource
        import nanomsg_rs as nn
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        lib = ctypes.CDLL(sys.argv[1], use_errno=True)
        raw = [lib.nn_socket(nn.AF_SP, nn.PUSH) for _ in range(nn._native.MAX_SOCKETS - 512)]
        assert min(raw) >= 0
        held = []
        error = None
        try:
            while len(held) < 600:
                held.append(nn.Socket("pair"))
        except nn.NanomsgError as e:
            error = [type(e).__name__, e.errno]
        count = len(held)
        del held[:100]  # refcount drop
        more = [nn.Socket("pair") for _ in range(100)]
        cyc = held[:100]
        del held[:100]
        cyc.append(cyc)  # now only the cycle holds them
        del cyc
        gc.collect()
        again = [nn.Socket("pair") for _ in range(100)]
        for s in raw:
            lib.nn_close(s)
        print(json.dumps({"count": count, "error": error, "ok": len(more) + len(again)}))
        """,
        c_library()._name,
        timeout=50,
    )
    assert r["count"] == 512, r
    assert r["error"] == ["NanomsgError", errno.EMFILE], r
    assert r["ok"] == 200


# --------------------------------------------------------------------------------------------
# valgrind: no invalid memory use by our extension (tools/memcheck.sh)
# --------------------------------------------------------------------------------------------


def memcheck(args: list[str], timeout: float) -> None:
    """Runs ``tools/memcheck.sh`` with ``args``; it must end clean: the workload ran, and
    valgrind saw no error through our extension."""
    proc = subprocess.run(
        [str(ROOT / "tools" / "memcheck.sh"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PY": sys.executable},
    )
    assert proc.returncode == 0, (
        f"memcheck.sh exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
    )
    assert "memcheck workload: ok" in proc.stdout
    assert "0 error(s)" in proc.stdout


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.skipif(nn.BACKEND != "nanomsg", reason="valgrind.supp covers libnanomsg only")
@pytest.mark.parametrize(
    ("options", "timeout"),
    quick_and_soak((["--fast"], 170), (["--rounds", "300"], 890), timeout=900, quick_timeout=180),
)
def test_memcheck(options: list[str], timeout: float) -> None:
    """``tools/memcheck.sh``: the workload under valgrind, clean (the soak: ``--rounds 300``,
    a longer workload, more close races)."""
    memcheck(options, timeout=timeout)


REPORT = """<?xml version="1.0"?>
<valgrindoutput>
<error><kind>InvalidRead</kind><what>Invalid read of size 8</what><stack>
<frame><fn>nn_recv</fn><obj>/usr/lib/libnanomsg.so.5</obj></frame>
<frame><fn>???</fn><obj>{obj}</obj></frame>
</stack></error>
<error><kind>Leak_DefinitelyLost</kind><stack><frame><obj>{obj}</obj></frame></stack></error>
</valgrindoutput>
"""


@pytest.mark.parametrize(
    ("obj", "status"),
    [("/x/nanomsg_rs/_native.abi3.so", 1), ("/usr/lib/libpython3.11.so.1.0", 2), (None, 0)],
)
def test_memcheck_report_attributes_errors(tmp_path: Path, obj: str | None, status: int) -> None:
    """The verdict of tools/memcheck_report.py: 1 for an error that passes through our
    extension, 2 for errors elsewhere only, 0 for none (leak records do not count)."""
    xml = tmp_path / "report.xml"
    text = REPORT.format(obj=obj) if obj else "<valgrindoutput></valgrindoutput>"
    xml.write_text(text)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "memcheck_report.py"), str(xml)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == status, proc.stdout + proc.stderr


# --------------------------------------------------------------------------------------------
# Memory stays flat in this process: messages, headers, refused and failed sends
# --------------------------------------------------------------------------------------------


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def message_cycles(sock: SockFactory, cycles: int) -> tuple[int, int]:
    """Runs ``cycles`` zero-copy cycles (a PAIR round trip with recv_msg/send_msg, plus a raw
    REQ/REP round trip with headers every fourth cycle and a refused and a failed send every
    tenth) after a warm-up; returns RSS before and after."""
    a, b = connected(sock, "pair", "pair")
    xreq, xrep = connected(sock, "req", "rep", raw=(True, True))
    lonely = sock("push")
    payload = os.urandom(1024)
    buf = bytearray(2048)
    req_id = struct.pack(">I", 0x80000001)

    def cycle(i: int) -> None:
        a.send_msg(nn.Message(payload))
        m = b.recv_msg()
        b.send_msg(m)
        got = a.recv_msg()
        if len(got) != 1024:
            raise AssertionError(f"cycle {i}: {len(got)} bytes")
        if i % 4 == 0:
            q = nn.Message(payload[:100])
            q.header = req_id
            xreq.send_msg(q)
            r = xrep.recv_msg()
            with memoryview(r) as mv:
                mv[0] = i & 0xFF
            xrep.send_msg(r)
            back = xreq.recv_msg()
            if back.header is None:
                raise AssertionError(f"cycle {i}: no header")
        if i % 10 == 0:
            try:
                b.send_msg(m)
            except ValueError:
                pass
            try:
                lonely.send_msg(got, block=False)
            except nn.Again:
                pass
            a.send_msg(got)
            b.recv_into(buf)

    for i in range(min(cycles // 10, 20000)):
        cycle(i)
    gc.collect()
    before = rss()
    for i in range(cycles):
        cycle(i)
    gc.collect()
    return before, rss()


# Per message nng makes several more system calls than libnanomsg (the readiness of its
# poll descriptors): 200,000 cycles take ~45 s there, against ~7 s.
@pytest.mark.parametrize(
    "cycles",
    quick_and_soak(
        (200_000,), (1_000_000,), timeout=900, quick_timeout=per_backend(nanomsg=60, nng=240)
    ),
)
def test_memory_stays_flat(sock: SockFactory, cycles: int) -> None:
    before, after = message_cycles(sock, cycles)
    growth = after - before
    assert growth < 4 * MiB, f"RSS grew by {growth / MiB:.1f} MiB over {cycles:,} cycles"
