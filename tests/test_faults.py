"""Faults on the way and at the other end: links cut, stalled, sliced into 1-byte writes and
reset by a loopback proxy (``tcpproxy.py``); peers killed with SIGKILL mid-stream and
restarted; consumers frozen with SIGSTOP.

The promises: REQ gets exactly one reply to every request, however the link misbehaves
(through its resend interval); a survivor reconnects to a restarted peer by itself; PUSH
to a frozen consumer blocks or times out and loses nothing it accepted; PUB to a frozen
subscriber goes on at full speed with bounded memory.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import free_tcp_port, make_address, start_python
from tcpproxy import TcpProxy

import nanomsg_rs as nn

RESEND_IVL = 150  # ms: REQ's resend interval in these tests


@pytest.fixture
def cleanup() -> Iterator[list[Any]]:
    """Sockets, proxies and processes put in this list are closed or killed at the end."""
    things: list[Any] = []
    yield things
    for t in reversed(things):
        if isinstance(t, subprocess.Popen):
            if t.poll() is None:
                t.send_signal(signal.SIGCONT)
                t.kill()
            t.wait(10)
            for stream in (t.stdout, t.stderr):
                if stream is not None:
                    stream.close()
        else:
            t.close()


def start_echo(cleanup: list[Any], address: str) -> nn.Socket:
    """A REP socket bound at ``address`` answering ``b"re:" + request`` from a thread."""
    rep = nn.Socket("rep")
    cleanup.append(rep)
    rep.bind(address)

    def serve() -> None:
        while True:
            try:
                rep.send(b"re:" + rep.recv())
            except nn.Closed:
                return
            except nn.NanomsgError:
                continue  # the requester went away mid-request

    threading.Thread(target=serve, daemon=True).start()
    return rep


def make_req(cleanup: list[Any], address: str) -> nn.Socket:
    req = nn.Socket("req")
    cleanup.append(req)
    req.req_resend_ivl = RESEND_IVL
    req.reconnect_ivl = 20
    req.reconnect_ivl_max = 100
    req.rcvtimeo = 15_000
    req.sndtimeo = 15_000
    req.connect(address)
    return req


def later(delay: float, action: Callable[[], object]) -> threading.Thread:
    t = threading.Timer(delay, action)
    t.daemon = True
    t.start()
    return t


def exchange(req: nn.Socket, i: int, size: int = 16) -> None:
    """Request ``i`` and its one reply (a stale or duplicate reply would not match)."""
    body = b"%08d" % i + b"." * (size - 8)
    req.send(body)
    reply = req.recv()
    assert reply == b"re:" + body, f"request {i}: got {reply[:40]!r}"


def no_reply_left(req: nn.Socket) -> None:
    """Nothing more for this REQ: no request in flight, so recv is a state error."""
    with pytest.raises(nn.BadState):
        req.recv(block=False)


# --------------------------------------------------------------------------------------------
# REQ through a misbehaving link
# --------------------------------------------------------------------------------------------


def fault_cut(proxy: TcpProxy) -> None:
    """The request is stuck in a stalled link, which is then closed: the request is lost."""
    proxy.stall()
    later(0.1, lambda: (proxy.cut(), proxy.resume()))


def fault_reset(proxy: TcpProxy) -> None:
    """As ``cut``, with a connection reset (RST) instead of an orderly close."""
    proxy.stall()
    later(0.1, lambda: (proxy.reset(), proxy.resume()))


def fault_stall(proxy: TcpProxy) -> None:
    """The link stalls for several resend intervals: resends pile up behind the request and
    the REP answers each; REQ must take one reply and drop the others."""
    proxy.stall()
    later(4 * RESEND_IVL / 1000, proxy.resume)


def fault_refuse(proxy: TcpProxy) -> None:
    """The link is cut and reconnecting is refused for a while."""
    proxy.refuse(True)
    proxy.cut()
    later(0.4, lambda: proxy.refuse(False))


FAULTS: dict[str, Callable[[TcpProxy], None]] = {
    "cut": fault_cut,
    "reset": fault_reset,
    "stall": fault_stall,
    "refuse": fault_refuse,
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_req_gets_exactly_one_reply_through_fault(cleanup: list[Any], fault: str) -> None:
    port = free_tcp_port()
    start_echo(cleanup, f"tcp://127.0.0.1:{port}")
    proxy = TcpProxy(port)
    cleanup.append(proxy)
    req = make_req(cleanup, proxy.address)
    exchange(req, -1)
    for i in range(12):
        if i % 4 == 1:
            FAULTS[fault](proxy)
        exchange(req, i)
    no_reply_left(req)
    if fault != "stall":
        assert proxy.accepted >= 2, "the fault never broke a link"


def test_req_through_one_byte_writes(cleanup: list[Any]) -> None:
    port = free_tcp_port()
    start_echo(cleanup, f"tcp://127.0.0.1:{port}")
    proxy = TcpProxy(port)
    cleanup.append(proxy)
    proxy.slice(True)
    req = make_req(cleanup, proxy.address)
    req.req_resend_ivl = 10_000  # slicing is slow, not broken: no resends needed
    for i in range(20):
        exchange(req, i, size=500)
    no_reply_left(req)
    writes, up, down = proxy.counts()  # one snapshot: the last write may still be counting
    assert up >= 20 * 500
    assert writes == up + down, "not sliced into 1-byte writes"


def test_req_through_random_faults(cleanup: list[Any]) -> None:
    rng = random.Random(1234)
    port = free_tcp_port()
    start_echo(cleanup, f"tcp://127.0.0.1:{port}")
    proxy = TcpProxy(port)
    cleanup.append(proxy)
    req = make_req(cleanup, proxy.address)
    for i in range(30):
        roll = rng.random()
        if roll < 0.3:
            FAULTS[rng.choice(list(FAULTS))](proxy)
        elif roll < 0.4:
            proxy.slice(rng.random() < 0.5)
        exchange(req, i, size=rng.choice([1, 100, 5000]) + 8)
    no_reply_left(req)


# --------------------------------------------------------------------------------------------
# SIGKILL mid-stream, then a restarted peer
# --------------------------------------------------------------------------------------------

CHILD_PRELUDE = """
import json, os, sys, time
import nanomsg_rs as nn
role, address = sys.argv[1], sys.argv[2]
"""

CHILD = (
    CHILD_PRELUDE
    + """
if role == "rep":
    s = nn.Socket("rep")
    s.bind(address)
    print("ready", flush=True)
    while True:
        s.send(b"re:" + s.recv())
elif role == "req":
    count = int(sys.argv[3])
    s = nn.Socket("req")
    s.req_resend_ivl = 150
    s.rcvtimeo = 15000
    s.connect(address)
    print("ready", flush=True)
    for i in range(count):
        body = b"%d:%d" % (os.getpid(), i)
        s.send(body)
        assert s.recv() == b"re:" + body
        print(i, flush=True)
    print("done", flush=True)
elif role == "pull":
    s = nn.Socket("pull")
    s.bind(address)
    print("ready", flush=True)
    while True:
        m = s.recv()
        if m == b"END":
            break
        print(int(m.split(b":")[0]), flush=True)
    print("done", flush=True)
elif role == "push":
    s = nn.Socket("push")
    s.connect(address)
    print("ready", flush=True)
    i = 0
    while True:
        s.send(b"%d:%d" % (os.getpid(), i))
        i += 1
        time.sleep(0.002)
"""
)


def start(
    cleanup: list[Any], code: str, *args: str, stdin: Any = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """``code`` in a child interpreter (text pipes), killed at the end of the test."""
    proc: subprocess.Popen[str] = start_python(code, *args, stdin=stdin, text=True)
    cleanup.append(proc)
    return proc


def first_line(proc: subprocess.Popen[str]) -> str:
    """The child's first line, read a byte at a time from its pipe: ``readline`` on the
    text wrapper may take the lines after it into the wrapper's buffer, where
    ``communicate`` (which reads the pipe itself) never sees them."""
    assert proc.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(proc.stdout.fileno(), 1)
        if not byte:
            break
        line += byte
    return line.decode()


def spawn(cleanup: list[Any], *args: str) -> subprocess.Popen[str]:
    """CHILD in a process of its own, once it says it is ready."""
    proc = start(cleanup, CHILD, *args)
    assert proc.stdout is not None
    line = first_line(proc)
    assert line == "ready\n", (
        f"child did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
    )
    return proc


def sigkill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_req_survives_rep_killed_and_restarted(cleanup: list[Any], transport: str) -> None:
    address = make_address(transport)
    first = spawn(cleanup, "rep", address)
    req = make_req(cleanup, address)
    killer = later(0.3, lambda: (sigkill(first), spawn(cleanup, "rep", address)))
    t_end = time.monotonic() + 0.8
    i = 0
    while time.monotonic() < t_end or killer.is_alive():
        exchange(req, i)
        i += 1
    for j in range(i, i + 10):
        exchange(req, j)  # the restarted REP answers
    no_reply_left(req)
    assert first.returncode == -signal.SIGKILL


def test_rep_survives_req_killed_and_restarted(cleanup: list[Any]) -> None:
    address = make_address("tcp")
    start_echo(cleanup, address)
    first = spawn(cleanup, "req", address, "1000000")
    assert first.stdout is not None
    for _ in range(20):
        assert first.stdout.readline().strip().isdigit()  # mid-stream
    sigkill(first)
    second = spawn(cleanup, "req", address, "50")
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert out.split() == [str(i) for i in range(50)] + ["done"]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_push_survives_pull_killed_and_restarted(cleanup: list[Any], transport: str) -> None:
    address = make_address(transport)
    first = spawn(cleanup, "pull", address)
    push = nn.Socket("push")
    cleanup.append(push)
    push.sndtimeo = 10_000
    push.connect(address)
    assert first.stdout is not None
    n = 0
    for _ in range(50):
        push.send(b"%d:first" % n)
        n += 1
    for _ in range(10):
        first.stdout.readline()  # the first PULL is receiving: mid-stream
    sigkill(first)
    second = spawn(cleanup, "pull", address)
    for _ in range(200):
        push.send(b"%d:second" % n)  # blocks while no peer: delivered after the restart
        n += 1
    push.send(b"END")
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    got = [int(x) for x in out.split()[:-1]]
    assert out.split()[-1] == "done"
    # whatever was in flight to the dead peer is gone; the rest arrives once, in order
    assert got, "the restarted PULL got nothing"
    assert got == list(range(got[0], n)), "a gap, a duplicate or reordering after the restart"
    assert got[0] <= 50, "messages sent after the restart were lost"


def test_pull_survives_push_killed_and_restarted(cleanup: list[Any]) -> None:
    address = make_address("tcp")
    pull = nn.Socket("pull")
    cleanup.append(pull)
    pull.rcvtimeo = 10_000
    pull.bind(address)
    first = spawn(cleanup, "push", address)
    for _ in range(20):
        assert pull.recv().startswith(b"%d:" % first.pid)
    sigkill(first)
    second = spawn(cleanup, "push", address)
    prefix = b"%d:" % second.pid
    deadline = time.monotonic() + 10
    got = 0
    while got < 20:
        assert time.monotonic() < deadline, "the restarted PUSH's messages never came"
        msg = pull.recv()
        if msg.startswith(prefix):
            got += 1
        else:
            assert msg.startswith(b"%d:" % first.pid)  # queued before the kill


# --------------------------------------------------------------------------------------------
# SIGSTOP: a frozen consumer
# --------------------------------------------------------------------------------------------

STOPPED_PULL = """
import json, sys
import nanomsg_rs as nn
s = nn.Socket("pull")
s.connect(sys.argv[1])
print("ready", flush=True)
got = []
while True:
    m = s.recv()
    if m == b"END":
        break
    got.append(int(m[:8]))
print(json.dumps(got))
"""


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.timeout(90)
def test_push_to_stopped_pull_blocks_and_loses_nothing(cleanup: list[Any], transport: str) -> None:
    address = make_address(transport)
    push = nn.Socket("push")
    cleanup.append(push)
    push.bind(address)
    consumer = start(cleanup, STOPPED_PULL, address)
    assert consumer.stdout is not None
    assert consumer.stdout.readline() == "ready\n"
    push.sndtimeo = 5000
    payload = b"p" * 4096
    push.send(b"%08d" % 0 + payload)  # connected and flowing
    time.sleep(0.2)
    consumer.send_signal(signal.SIGSTOP)
    push.sndtimeo = 300
    accepted = 1
    t0 = time.monotonic()
    while True:
        try:
            push.send(b"%08d" % accepted + payload)
        except nn.Timeout:
            break
        accepted += 1
        assert time.monotonic() - t0 < 60, "PUSH never filled up behind a stopped consumer"
    # a send without timeout blocks until the consumer goes on
    push.sndtimeo = -1
    box: dict[str, Any] = {}

    def blocked_send() -> None:
        try:
            box["sent"] = push.send(b"%08d" % accepted + payload)
        except BaseException as e:
            box["exc"] = e

    t = threading.Thread(target=blocked_send, daemon=True)
    t.start()
    t.join(0.5)
    assert t.is_alive(), f"send did not block behind a stopped consumer: {box}"
    consumer.send_signal(signal.SIGCONT)
    t.join(20)
    assert not t.is_alive() and box.get("sent") == 8 + len(payload), box
    accepted += 1
    push.sndtimeo = 10_000
    push.send(b"END")
    out, err = consumer.communicate(timeout=60)
    assert consumer.returncode == 0, err
    got = json.loads(out)
    assert got == list(range(accepted)), (
        f"accepted {accepted}, received {len(got)}: lost or reordered"
    )


PUBLISHER = """
import json, sys, time
import nanomsg_rs as nn

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

s = nn.Socket("pub")
s.bind(sys.argv[1])
print("ready", flush=True)
assert sys.stdin.readline() == "go\\n"
payload = b"x" * 1024
sent = 0
slowest = 0.0
samples = []
t0 = time.monotonic()
next_sample = t0
while time.monotonic() - t0 < float(sys.argv[2]):
    for _ in range(100):
        a = time.monotonic()
        s.send(payload)
        slowest = max(slowest, time.monotonic() - a)
        sent += 1
    if time.monotonic() >= next_sample:
        samples.append(rss())
        next_sample += 0.1
print(json.dumps({"sent": sent, "slowest": slowest, "rss": samples}), flush=True)
"""

SUBSCRIBER = """
import sys
import nanomsg_rs as nn
s = nn.Socket("sub")
s.subscribe(b"")
s.connect(sys.argv[1])
s.recv()
print("receiving", flush=True)
while True:
    s.recv()
"""


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_pub_to_stopped_sub_goes_on_with_bounded_memory(cleanup: list[Any], transport: str) -> None:
    address = make_address(transport)
    publisher = start(cleanup, PUBLISHER, address, "2.0", stdin=subprocess.PIPE)
    assert publisher.stdout is not None and publisher.stdin is not None
    assert publisher.stdout.readline() == "ready\n"
    subscriber = start(cleanup, SUBSCRIBER, address)
    # The subscriber receives a first message, then freezes.
    publisher.stdin.write("go\n")
    publisher.stdin.flush()
    assert subscriber.stdout is not None
    assert subscriber.stdout.readline() == "receiving\n"
    subscriber.send_signal(signal.SIGSTOP)
    out, err = publisher.communicate(timeout=60)
    assert publisher.returncode == 0, err
    report = json.loads(out)
    samples = report["rss"]
    assert report["slowest"] < 1.0, f"a send to a stopped subscriber waited {report}"
    assert report["sent"] > 20_000, f"PUB slowed down: {report['sent']} messages in 2 s"
    # After the first third (warm-up: buffers filled), the publisher's memory stays flat.
    warm = samples[len(samples) // 3]
    growth = max(samples[len(samples) // 3 :]) - warm
    assert growth < 8 << 20, f"RSS grew by {growth / 2**20:.1f} MiB: {samples}"
    assert os.path.exists(f"/proc/{subscriber.pid}")  # frozen, not dead
