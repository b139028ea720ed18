"""A blocking receive polls briefly before it sleeps, where its socket's recent waits were
short and its thread has sent since it last slept (``NANOMSG_RS_SPIN_US``, 50 us by
default; docs/performance.rst): measured by the receiving thread's voluntary context
switches (each sleep in poll(2) is one), in a child process, since the limit is read once a
process."""

from __future__ import annotations

import json
import os

import pytest
from support import run_python

#: One thread sends on a PAIR and receives what it sent from its peer over ipc: each receive
#: waits for the library's worker to carry the message. Prints the receiving thread's
#: voluntary switches per message, after a warm-up that lets the budget grow; then how much
#: CPU a receive that waits 300 ms for nothing costs once the budget is spent.
ROUND_TRIPS = """
import json, os, resource, sys, time, tempfile
import nanomsg_rs as nn

if sys.argv[1] == "one-cpu":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
path = os.path.join(tempfile.mkdtemp(), "spin")
a, b = nn.Socket(nn.PAIR), nn.Socket(nn.PAIR)
b.bind("ipc://" + path)
a.connect("ipc://" + path)
b.rcvtimeo = 5000
a.send(b"x"); b.recv()

def switches():
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw

for _ in range(500):
    a.send(b"m"); b.recv()
n, before = 2000, switches()
for _ in range(n):
    a.send(b"m"); b.recv()
per_message = (switches() - before) / n

b.rcvtimeo = 300
cpu = time.thread_time()
try:
    b.recv()
except nn.Timeout:
    pass
idle_ms = (time.thread_time() - cpu) * 1e3
print(json.dumps({"switches": per_message, "idle_cpu_ms": idle_ms}))
"""


def child(code: str, mode: str, spin_us: str) -> dict[str, float]:
    """What ``code`` prints last (JSON), run with ``mode`` and the limit ``spin_us``."""
    proc = run_python(code, mode, env={"NANOMSG_RS_SPIN_US": spin_us})
    assert proc.returncode == 0, proc.stderr
    result: dict[str, float] = json.loads(proc.stdout.splitlines()[-1])
    return result


def run(spin_us: str, placement: str = "free") -> dict[str, float]:
    return child(ROUND_TRIPS, placement, spin_us)


needs_two_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="polling is off where the process has one CPU"
)


@needs_two_cpus
def test_a_receive_whose_waits_are_short_polls_instead_of_sleeping() -> None:
    # 1000 us: the worker's hop over ipc ends well within it on an idle machine (0.05
    # sleeps a message or fewer); beside other jobs the worker is sometimes late (up to
    # 0.24), so the best of three runs against a third of the sleeps with polling off.
    sleeping = run("0")
    assert sleeping["switches"] > 0.5, sleeping
    polling = min((run("1000") for _ in range(3)), key=lambda r: r["switches"])
    assert polling["switches"] < sleeping["switches"] / 3, (polling, sleeping)


@needs_two_cpus
def test_a_receive_that_waits_long_stops_polling() -> None:
    # The budget halves after each wait longer than the limit: the 300 ms wait polls at most
    # one budget (1 ms here), then sleeps.
    result = run("1000")
    assert result["idle_cpu_ms"] < 20, result


def test_one_cpu_never_polls() -> None:
    # Polling on the CPU the sender needs would keep it from running: off with one CPU.
    result = run("1000", "one-cpu")
    assert result["switches"] > 0.5, result


#: The PULL thread asks a pacing thread for each message through a pipe (not a socket: that
#: would be a send), and with "answers" sends a message of its own (to an inproc peer) before
#: each receive. Its waits are then the pacer's wake-up and the worker's hop, the same in both
#: modes and well within the limit on any machine (a pacer that slept between messages made
#: them depend on the timer's precision, which varies between hosts). Prints the PULL
#: thread's voluntary switches per message.
RECEIVER = """
import json, os, resource, sys, tempfile, threading
import nanomsg_rs as nn

answers = sys.argv[1] == "answers"
path = os.path.join(tempfile.mkdtemp(), "spin")
push, pull = nn.Socket(nn.PUSH), nn.Socket(nn.PULL)
pull.bind("ipc://" + path)
push.connect("ipc://" + path)
sink, out = nn.Socket(nn.PULL), nn.Socket(nn.PUSH)
sink.bind("inproc://sink")
out.connect("inproc://sink")
pull.rcvtimeo = 5000
asks, ask = os.pipe()
n = 1000

def pace():
    while os.read(asks, 1):
        push.send(b"m")

threading.Thread(target=pace, daemon=True).start()

def receive():
    os.write(ask, b"m")
    if answers:
        out.send(b"a")
        sink.recv()
    pull.recv()

for _ in range(200):
    receive()
before = resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw
for _ in range(n):
    receive()
print(json.dumps({"switches": (resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw - before) / n}))
"""


@needs_two_cpus
@pytest.mark.backend(
    "nanomsg",
    reason="nng's inproc makes the answer's own receive wait (it is asynchronous), and any "
    "sleep in a receive ends the thread's polling until it sends again",
)
def test_a_thread_that_only_receives_sleeps() -> None:
    # The PULL's waits are within the limit, but its thread sends nothing: polling would cost
    # its CPU time and save nothing the stream's rate depends on. The same thread sending
    # before each receive polls for it.
    def switches(mode: str) -> float:
        return child(RECEIVER, mode, "1000")["switches"]

    receiving = switches("receives")
    assert receiving > 0.5, receiving
    answering = min(switches("answers") for _ in range(3))
    assert answering < receiving / 3, (answering, receiving)
