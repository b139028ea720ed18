"""Races: ``close()`` from another thread while a call is blocked on the socket (or is just
starting, or just ending), many times over. No crash, no hang: every call ends, and it ends
with ``nn.Closed`` (or, for a call that completed before the close, with its result).

test_threads_signals.py checks the same promise 50 times per call with generous sleeps;
here it is scaled up (200 per call, 1,000 under ``-m soak``) with close moments spread from
"before the call starts" to "long after it blocked", sometimes two threads closing at once,
for every blocking call, in a child interpreter so that a crash is reported, not suffered.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import quick_and_soak, run_python

QUICK = 200
SOAK = 1000

RACE = """
import json, os, random, sys, threading, time
import nanomsg_rs as nn

op, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(op)
n = [0]

def fresh(kind, domain="sp"):
    n[0] += 1
    return nn.Socket(kind, domain)

def addr():
    return "inproc://race-%d" % n[0]

# Each setup returns (sockets to close, the call, a check of what a Closed call left behind).
def setup():
    if op == "recv":
        s = fresh("pull"); s.bind(addr())
        return [s], s.recv, None
    if op == "recv_msg":
        s = fresh("sub"); s.subscribe(b"")
        return [s], s.recv_msg, None
    if op == "recv_into":
        s = fresh("pair"); buf = bytearray(16)
        return [s], lambda: s.recv_into(buf), None
    if op == "send":
        s = fresh("push")  # no peer: send waits
        return [s], lambda: s.send(b"x" * 100), None
    if op == "send_msg":
        s = fresh("push")
        m = nn.Message(b"kept on failure")
        return [s], lambda: s.send_msg(m), lambda: bytes(m) == b"kept on failure"
    if op == "send_parts":
        s = fresh("push")
        return [s], lambda: s.send_parts([b"a", b"b"]), None
    if op == "send_many":
        s = fresh("push")
        return [s], lambda: s.send_many([b"a", b"b"]), None
    if op == "recv_many":
        s = fresh("pull"); s.bind(addr())
        return [s], lambda: s.recv_many(8), None
    if op == "poll":
        s, other = fresh("pull"), fresh("pair")
        return [s], lambda: nn.poll([(other, nn.POLLIN), (s, nn.POLLIN)]), None
    if op == "device":
        a, b = fresh("rep", "sp-raw"), fresh("req", "sp-raw")
        a.bind(addr() + "a"); b.bind(addr() + "b")
        which = rng.choice([[a], [b], [a, b]])  # closing either socket ends the device
        return which, lambda: nn.device(a, b), None
    if op == "many-waiters":
        s = fresh("pull"); s.bind(addr())
        return [s], s.recv, None
    raise SystemExit(op)

waiters = 4 if op == "many-waiters" else 1
outcomes = {}
slowest = 0.0
for i in range(count):
    closing, call, check = setup()
    boxes = [{} for _ in range(waiters)]

    def run(box):
        try:
            box["result"] = call()
        except BaseException as e:
            box["exc"] = e
        box["end"] = time.monotonic()

    threads = [threading.Thread(target=run, args=(b,), daemon=True) for b in boxes]
    for t in threads:
        t.start()
    # the close lands before the call, as it starts, or long after it blocked
    style = i % 4
    time.sleep([0, rng.uniform(0, 0.001), rng.uniform(0.001, 0.005), 0.01][style])
    t_close = time.monotonic()
    if i % 2:
        closers = [threading.Thread(target=s.close) for s in closing for _ in range(2)]
        for c in closers:
            c.start()
        for c in closers:
            c.join(5)
    else:
        for s in closing:
            s.close()
    for t in threads:
        t.join(5)
    if any(t.is_alive() for t in threads):
        print(json.dumps({"hung": i, "style": style}), flush=True)
        os._exit(3)
    for box in boxes:
        exc = box.get("exc")
        key = type(exc).__name__ if exc else "returned %r" % (box.get("result"),)
        outcomes[key] = outcomes.get(key, 0) + 1
        slowest = max(slowest, box["end"] - t_close)
        if isinstance(exc, nn.Closed) and check is not None and not check():
            print(json.dumps({"lost": i}), flush=True)
            os._exit(4)
    for s in closing:
        s.close()
print(json.dumps({"outcomes": outcomes, "slowest": slowest}), flush=True)
"""

OPS = [
    "recv",
    "recv_msg",
    "recv_into",
    "send",
    "send_msg",
    "send_parts",
    "send_many",
    "recv_many",
    "poll",
    "device",
    "many-waiters",
]


def race(op: str, count: int, timeout: float) -> None:
    proc = run_python(RACE, op, count, timeout=timeout)
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "{}"
    report: dict[str, Any] = json.loads(last)
    assert "hung" not in report, f"{op}: a call never ended after close: {report}"
    assert "lost" not in report, f"{op}: a message was lost by a closed send_msg: {report}"
    assert proc.returncode == 0, f"{op}: child died ({proc.returncode}):\n{proc.stderr[-3000:]}"
    outcomes = report["outcomes"]
    waiters = 4 if op == "many-waiters" else 1
    assert outcomes == {"Closed": count * waiters}, f"{op}: {outcomes}"
    assert report["slowest"] < 1.0, f"{op}: a call took {report['slowest']:.2f} s to wake"


@pytest.mark.parametrize(
    ("count", "timeout"), quick_and_soak((QUICK, 50), (SOAK, 290), timeout=300)
)
@pytest.mark.parametrize("op", OPS)
def test_close_from_another_thread(op: str, count: int, timeout: float) -> None:
    race(op, count, timeout=timeout)


REBIND = """
import json, sys, threading, time
import nanomsg_rs as nn

connectors = [nn.Socket("bus") for _ in range(30)]
for c in connectors:
    c.connect("inproc://rebinding")
stop = time.monotonic() + float(sys.argv[1])
binds = [0]

def rebind():
    while time.monotonic() < stop:
        s = nn.Socket("bus")
        try:
            s.bind("inproc://rebinding")
            binds[0] += 1
        except nn.AddressInUse:
            pass
        s.close()

threads = [threading.Thread(target=rebind) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
# nothing is bound now: every connector is connecting again
inprogress = [
    c.statistic(nn.Statistic.INPROGRESS_CONNECTIONS) if nn.BACKEND == "nanomsg" else 1
    for c in connectors
]
print(json.dumps({"binds": binds[0], "inprogress": inprogress}))
"""


def test_inproc_address_bound_again_while_its_socket_closes() -> None:
    """Two threads bind a socket to an inproc address that 30 sockets connect to and close
    it, over and over: the new socket's connection can reach a connector before the closed
    one's goes down (0074: libnanomsg aborted in its statistics). Every bind and close ends,
    the process lives, and each connector counts itself as connecting once nothing is bound
    (on libnanomsg: nng keeps no statistics)."""
    proc = run_python(REBIND, 1.0, timeout=60)
    assert proc.returncode == 0, f"child died ({proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["binds"] > 10, report
    assert report["inprogress"] == [1] * 30, report
