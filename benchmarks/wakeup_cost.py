"""What a wake-up costs on this machine: blocking REQ/REP round trips of 64 B over tcp loopback
between two processes, for plain Python sockets (an echo), nanomsg_rs and pyzmq, with the
other CPUs idle and then kept busy by a low-priority busy loop on each.

``python benchmarks/wakeup_cost.py [--seconds 3] [--runs 2]`` prints round trips a second and
the client process's CPU time per round trip. Where an idle CPU is slow to wake (a VM that
halts idle vCPUs at once), every round trip pays for the waking of the other side: the idle
column is then far below the busy one, for plain sockets too, and it is what the latency and
async rows of ``make bench`` measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable

LIBS = ("plain", "nanomsg_rs", "pyzmq")
PAYLOAD = b"x" * 64


def serve(lib: str, port: int) -> None:
    """The server: echoes every message until killed."""
    if lib == "nanomsg_rs":
        import nanomsg_rs as nn

        s = nn.Socket("rep")
        s.bind(f"tcp://127.0.0.1:{port}")
        while True:
            s.send(s.recv())
    if lib == "pyzmq":
        import zmq

        z = zmq.Context().socket(zmq.REP)
        z.bind(f"tcp://127.0.0.1:{port}")
        while True:
            z.send(z.recv())
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while data := conn.recv(len(PAYLOAD)):
        conn.sendall(data)


def client(lib: str, port: int) -> tuple[Callable[[bytes], object], Callable[[], object]]:
    """The client's send and recv."""
    if lib == "nanomsg_rs":
        import nanomsg_rs as nn

        s = nn.Socket("req")
        s.connect(f"tcp://127.0.0.1:{port}")
        return s.send, s.recv
    if lib == "pyzmq":
        import zmq

        z = zmq.Context().socket(zmq.REQ)
        z.connect(f"tcp://127.0.0.1:{port}")
        return z.send, z.recv
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c.sendall, lambda: c.recv(len(PAYLOAD))


def measure(lib: str, seconds: float) -> tuple[float, float]:
    """Round trips a second and CPU µs per round trip of this (the client) process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--serve", lib, str(port)])
    try:
        time.sleep(0.5)
        send, recv = client(lib, port)
        for _ in range(200):
            send(PAYLOAD)
            recv()
        n = 0
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        end = start + seconds
        while time.perf_counter() < end:
            for _ in range(100):
                send(PAYLOAD)
                recv()
            n += 100
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return n / wall, cpu / n * 1e6
    finally:
        server.kill()
        server.wait()


def each(seconds: float, runs: int, label: str) -> None:
    """Every library, ``runs`` times, in a child process each (a fresh client socket)."""
    print(label)
    for _ in range(runs):
        for lib in LIBS:
            out = subprocess.run(
                [sys.executable, __file__, "--one", lib, str(seconds)],
                capture_output=True,
                text=True,
                check=True,
            )
            print(f"  {lib:<11} {out.stdout.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if args.one:
        rate, cpu = measure(args.one[0], float(args.one[1]))
        print(f"{rate:9,.0f} round trips/s  {cpu:6.1f} µs CPU a round trip")
        return
    each(args.seconds, args.runs, "other CPUs idle:")
    burners = [
        subprocess.Popen(["nice", "-n", "19", sys.executable, "-c", "while True: pass"])
        for _ in range((os.cpu_count() or 2) - 1)
    ]
    try:
        time.sleep(1)
        each(args.seconds, args.runs, "other CPUs busy (a nice -n 19 busy loop on each):")
    finally:
        for b in burners:
            b.kill()


if __name__ == "__main__":
    main()
