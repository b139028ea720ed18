"""One side of one benchmark workload, for one Python library, in its own process.

``python bench_worker.py LIB ROLE ADDRESS [NSUBS BURST]`` speaks the same line protocol as the
C programs (``c/nnbench.c``; ``c/benchdriver.h`` documents the roles):

* prints ``ready`` once its sockets are set up;
* ``run COUNT SIZE MODE`` runs the measured loop and answers ``ok ELAPSED_NS CPU_NS`` (the
  process's CPU time over the same span, every thread included) or ``err TEXT``; MODE is how
  the receiving side receives: ``recv``, ``into`` (``recv_into`` into one buffer made once
  per run) or ``msg`` (the zero-copy ``recv_msg``);
* ``run COUNT SIZE MODE BATCH``, BATCH above 0 (nanomsg_rs only, push and pull; MODE
  ``recv``): the same with ``send_many`` and ``recv_many``, BATCH messages a call; the C
  program ignores BATCH and sends and receives one message per call;
* ``quit`` exits.

The measured loops call the library's own bound methods; nothing else runs per message.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from itertools import repeat
from typing import Any

from bench_libs import Adapter, load

#: How long a SUB waits for a published message before the run counts it as dropped.
FANOUT_TIMEOUT_MS = 5000
#: How long the SUB sockets of a fan-out may take to connect (256 of them, on a busy machine).
FANOUT_CONNECT_S = 30


def stopwatch() -> tuple[int, int]:
    """Now, on the wall clock and on the process's CPU clock (every thread), in ns."""
    return time.perf_counter_ns(), time.process_time_ns()


def since(start: tuple[int, int]) -> tuple[int, int]:
    """Wall and CPU nanoseconds since ``start`` (from :func:`stopwatch`)."""
    wall, cpu = stopwatch()
    return wall - start[0], cpu - start[1]


class Worker:
    """The sockets of one role, set up once, and its measured loop."""

    def __init__(self, lib: Adapter, role: str, address: str, nsubs: int, burst: int) -> None:
        self.lib = lib
        self.role = role
        self.burst = burst
        self.socks: list[Any] = []
        self.subs: list[Any] = []
        if role == "pingpong":
            receiver = self._sock("pair")
            lib.bind(receiver, address)
            sender = self._sock("pair")
            lib.connect(sender, address)
            self.sender, self.receiver = sender, receiver
        elif role in ("push", "req"):
            self.sender = self._sock(role)
            lib.connect(self.sender, address)
        elif role in ("pull", "rep"):
            self.receiver = self._sock(role)
            lib.bind(self.receiver, address)
        elif role == "fanout":
            self.sender = self._sock("pub")
            lib.bind(self.sender, address)
            for _ in range(nsubs):
                sub = self._sock("sub")
                lib.subscribe_all(sub)
                lib.connect(sub, address)
                self.subs.append(sub)
            self._warm_up_fanout()
            for sub in self.subs:
                lib.set_recv_timeout(sub, FANOUT_TIMEOUT_MS)
        else:
            raise SystemExit(f"unknown role {role!r}")

    def _sock(self, kind: str) -> Any:
        sock = self.lib.socket(kind)
        self.socks.append(sock)
        return sock

    def _drain(self, sub: Any) -> int:
        """Receives whatever ``sub`` holds right now; returns how many messages."""
        recv = self.lib.receiver(sub)
        self.lib.set_recv_timeout(sub, 1)
        got = 0
        while True:
            try:
                recv()
            except Exception as exc:
                if self.lib.is_timeout(exc):
                    return got
                raise
            got += 1

    def _warm_up_fanout(self) -> None:
        """Publishes probes until every SUB has received one (connections and, for pyzmq,
        subscriptions take a while), then drains the probes."""
        send = self.lib.sender(self.sender)
        waiting = set(range(len(self.subs)))
        deadline = time.monotonic() + FANOUT_CONNECT_S
        while waiting:
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(waiting)} SUB sockets never connected")
            send(b"W")
            time.sleep(0.001)
            for i in list(waiting):
                if self._drain(self.subs[i]):
                    waiting.discard(i)
        time.sleep(0.05)
        for sub in self.subs:
            self._drain(sub)

    def serve(self) -> None:
        """The rep role: echoes every request until the process is killed."""
        recv = self.lib.receiver(self.receiver)
        send = self.lib.sender(self.receiver)
        while True:
            send(recv())

    def run(self, count: int, size: int, mode: str, batch: int = 0) -> tuple[int, int]:
        """The measured loop; returns elapsed and process CPU nanoseconds."""
        payload = b"B" + b"x" * (size - 1)
        role = self.role
        if batch:
            return self._run_batches(count, size, mode, payload, batch)
        if role in ("pingpong", "req"):
            # a round trip a message: to the PAIR in this process, or a REQ's to its REP
            send = self.lib.sender(self.sender)
            recv = self.lib.receiver(self.receiver if role == "pingpong" else self.sender, mode)
            start = stopwatch()
            for _ in repeat(None, count):
                send(payload)
                recv()
            return since(start)
        if role == "push":
            send = self.lib.sender(self.sender)
            start = stopwatch()
            for _ in repeat(None, count):
                send(payload)
            return since(start)
        if role == "pull" and mode == "into":
            return self._pull_into(count, size)
        if role == "pull":
            recv = self.lib.receiver(self.receiver, mode)
            last = recv()
            start = stopwatch()
            for _ in repeat(None, count - 1):
                last = recv()
            spent = since(start)
            if len(last) != size:
                raise RuntimeError(f"received {len(last)} bytes, expected {size}")
            return spent
        if role == "fanout":
            return self._run_fanout(count, payload)
        raise RuntimeError(f"role {role} takes no run command")

    def _pull_into(self, count: int, size: int) -> tuple[int, int]:
        """The pull loop with ``recv_into``: every message lands in one buffer, made once."""
        recv_into = self.lib.receiver_into(self.receiver)
        buffer = bytearray(size)
        got = recv_into(buffer)
        start = stopwatch()
        for _ in repeat(None, count - 1):
            got = recv_into(buffer)
        spent = since(start)
        if got != size:
            raise RuntimeError(f"received {got} bytes, expected {size}")
        return spent

    def _run_batches(
        self, count: int, size: int, mode: str, payload: bytes, batch: int
    ) -> tuple[int, int]:
        """PUSH -> PULL with ``send_many``/``recv_many``, ``batch`` messages a call; as in the
        one-by-one loops, the PULL's clock starts at the first message, and it never asks for
        more than the run's messages (what is left belongs to the next run)."""
        if batch < 1 or mode != "recv":
            raise RuntimeError(f"a batch of {batch} with mode {mode!r}: needs >= 1 and recv")
        if self.role == "push":
            send_many = self.lib.batch_sender(self.sender)
            messages = [payload] * batch
            full, rest = divmod(count, batch)
            start = stopwatch()
            for _ in repeat(None, full):
                send_many(messages)
            if rest:
                send_many(messages[:rest])
            return since(start)
        if self.role == "pull":
            recv_many = self.lib.batch_receiver(self.receiver)
            got = recv_many(1)
            left = count - 1
            start = stopwatch()
            while left:
                got = recv_many(batch if left >= batch else left)
                left -= len(got)
            spent = since(start)
            last = got[-1]
            if len(last) != size:
                raise RuntimeError(f"received {len(last)} bytes, expected {size}")
            return spent
        raise RuntimeError(f"role {self.role} has no batch loop")

    def _run_fanout(self, count: int, payload: bytes) -> tuple[int, int]:
        send = self.lib.sender(self.sender)
        recvs: list[Callable[[], Any]] = [self.lib.receiver(s) for s in self.subs]
        burst = self.burst
        start = stopwatch()
        for _ in repeat(None, count // burst):
            for _ in repeat(None, burst):
                send(payload)
            for recv in recvs:
                for _ in repeat(None, burst):
                    recv()
        return since(start)

    def close(self) -> None:
        """Closes every socket."""
        for sock in self.socks:
            self.lib.close(sock)


def main(argv: list[str]) -> int:
    """Sets up the role, answers ``ready``, then serves commands from stdin."""
    if len(argv) < 3:
        print("usage: bench_worker.py LIB ROLE ADDRESS [NSUBS BURST]", file=sys.stderr)
        return 2
    lib = load(argv[0])
    nsubs = int(argv[3]) if len(argv) > 3 else 0
    burst = int(argv[4]) if len(argv) > 4 else 1
    worker = Worker(lib, argv[1], argv[2], nsubs, burst)
    print("ready", flush=True)
    if argv[1] == "rep":
        worker.serve()
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        try:
            count, size = int(words[1]), int(words[2])
            mode = words[3] if len(words) > 3 else "recv"
            batch = int(words[4]) if len(words) > 4 else 0
            elapsed, cpu = worker.run(count, size, mode, batch)
        except Exception as exc:
            if lib.is_timeout(exc):
                print("err a receive timed out (a message was dropped)", flush=True)
            else:
                print(f"err {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)
            continue
        print(f"ok {elapsed} {cpu}", flush=True)
    worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
