"""Async round trips: REQ/REP over tcp loopback, client and server in one event loop, for
nanomsg_rs (asyncio, uvloop, trio), pynng (asyncio, trio) and zmq.asyncio, next to each
library's own synchronous rate (blocking calls, the REP in a thread), interleaved in one run.

    python benchmarks/bench_async.py [--rounds 5] [--seconds 1.0]

Each round runs every row once, in a new random order, for about ``--seconds``, each in a
fresh event loop. The table gives the median round trips per second with the min-max over the
rounds, the ratio to nanomsg_rs under asyncio, and each row's ratio to its library's own
synchronous rate (how much the library's async layer costs: closer to 1 is better).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import anyio

PAYLOAD = b"x" * 64
Loop = Literal["asyncio", "uvloop", "trio", "sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def round_trips(
    send: Callable[[bytes], Awaitable[Any]], recv: Callable[[], Awaitable[Any]], seconds: float
) -> float:
    """Round trips per second of ``send`` then ``recv`` for about ``seconds``."""
    n, end = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        await send(PAYLOAD)
        await recv()
        n += 1
    return n / (time.perf_counter() - start)


def sync_round_trips(
    send: Callable[[bytes], Any], recv: Callable[[], Any], seconds: float
) -> float:
    """The same with blocking calls."""
    n, end = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        send(PAYLOAD)
        recv()
        n += 1
    return n / (time.perf_counter() - start)


def echo_in_thread(recv: Callable[[], Any], send: Callable[[Any], Any]) -> threading.Thread:
    """A REP loop in a daemon thread; it ends when its socket closes (any exception)."""

    def serve() -> None:
        try:
            while True:
                send(recv())
        except Exception:
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


# -- nanomsg_rs ------------------------------------------------------------------------------


async def nanomsg_rs_async(seconds: float) -> float:
    import nanomsg_rs as nn

    addr = f"tcp://127.0.0.1:{free_port()}"
    with nn.Socket("rep") as rep, nn.Socket("req") as req:
        rep.bind(addr)
        req.connect(addr)

        async def serve() -> None:
            async for msg in rep:
                await rep.asend(msg)

        async with anyio.create_task_group() as tg:
            tg.start_soon(serve)
            rate = await round_trips(req.asend, req.arecv, seconds)
            rep.close()  # the server's `async for` ends
    return rate


def nanomsg_rs_sync(seconds: float) -> float:
    import nanomsg_rs as nn

    addr = f"tcp://127.0.0.1:{free_port()}"
    with nn.Socket("rep") as rep, nn.Socket("req") as req:
        rep.bind(addr)
        req.connect(addr)
        server = echo_in_thread(rep.recv, rep.send)
        rate = sync_round_trips(req.send, req.recv, seconds)
        rep.close()
        server.join(5)
    return rate


# -- pynng -----------------------------------------------------------------------------------


async def pynng_async(seconds: float) -> float:
    import pynng

    addr = f"tcp://127.0.0.1:{free_port()}"
    with pynng.Rep0(listen=addr) as rep, pynng.Req0(dial=addr) as req:

        async def serve() -> None:
            while True:
                await rep.asend(await rep.arecv())

        async with anyio.create_task_group() as tg:
            tg.start_soon(serve)
            rate = await round_trips(req.asend, req.arecv, seconds)
            tg.cancel_scope.cancel()
    return rate


def pynng_sync(seconds: float) -> float:
    import pynng

    addr = f"tcp://127.0.0.1:{free_port()}"
    rep = pynng.Rep0(listen=addr)
    with pynng.Req0(dial=addr) as req:
        server = echo_in_thread(rep.recv, rep.send)
        rate = sync_round_trips(req.send, req.recv, seconds)
        rep.close()
        server.join(5)
    return rate


# -- pyzmq -----------------------------------------------------------------------------------


async def zmq_async(seconds: float) -> float:
    import zmq
    import zmq.asyncio

    ctx = zmq.asyncio.Context()
    port = free_port()
    rep = ctx.socket(zmq.REP)
    req = ctx.socket(zmq.REQ)
    rep.bind(f"tcp://127.0.0.1:{port}")
    req.connect(f"tcp://127.0.0.1:{port}")

    async def serve() -> None:
        while True:
            await rep.send(await rep.recv())

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        rate = await round_trips(req.send, req.recv, seconds)
        tg.cancel_scope.cancel()
    rep.close(0)
    req.close(0)
    ctx.term()
    return rate


def zmq_sync(seconds: float) -> float:
    import zmq

    ctx = zmq.Context()
    port = free_port()
    rep = ctx.socket(zmq.REP)
    req = ctx.socket(zmq.REQ)
    rep.bind(f"tcp://127.0.0.1:{port}")
    req.connect(f"tcp://127.0.0.1:{port}")
    stop = threading.Event()

    def serve() -> None:  # a zmq socket belongs to one thread: the server closes its own
        while not stop.is_set():
            if rep.poll(50):
                rep.send(rep.recv())
        rep.close(0)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    rate = sync_round_trips(req.send, req.recv, seconds)
    stop.set()
    server.join(5)
    req.close(0)
    ctx.term()
    return rate


@dataclass(frozen=True)
class Row:
    """One measured row: a library in one event loop (or its blocking API)."""

    library: str
    loop: Loop
    run: Callable[[float], Any]

    @property
    def name(self) -> str:
        return f"{self.library} ({self.loop})"


ROWS = [
    Row("nanomsg_rs", "asyncio", nanomsg_rs_async),
    Row("nanomsg_rs", "uvloop", nanomsg_rs_async),
    Row("nanomsg_rs", "trio", nanomsg_rs_async),
    Row("nanomsg_rs", "sync", nanomsg_rs_sync),
    Row("pynng", "asyncio", pynng_async),
    Row("pynng", "trio", pynng_async),
    Row("pynng", "sync", pynng_sync),
    Row("zmq.asyncio", "asyncio", zmq_async),
    Row("zmq.asyncio", "sync", zmq_sync),
]


def measure(row: Row, seconds: float) -> float:
    """One sample of ``row``, in a fresh event loop of its kind."""
    if row.loop == "sync":
        rate: float = row.run(seconds)
        return rate
    if row.loop == "asyncio":
        return asyncio.run(row.run(seconds))
    if row.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(row.run(seconds))
    import trio

    return trio.run(row.run, seconds)


def main(rounds: int, seconds: float) -> None:
    rows = list(ROWS)
    results: dict[str, list[float]] = {row.name: [] for row in rows}
    for _ in range(rounds):
        random.shuffle(rows)
        for row in list(rows):
            try:
                results[row.name].append(measure(row, seconds))
            except ImportError as e:
                print(f"{row.name}: left out ({e}); pip install -r benchmarks/requirements.txt")
                rows.remove(row)
    medians = {name: statistics.median(r) for name, r in results.items() if r}
    base = medians["nanomsg_rs (asyncio)"]
    print(f"async REQ/REP round trips over tcp, 64 B, one loop, {rounds} rounds of {seconds} s")
    print(
        f"{'library (loop)':<24}{'median rt/s':>12}{'min - max':>22}"
        f"{'vs nanomsg_rs':>15}{'vs own sync':>13}"
    )
    for row in ROWS:
        rates = results[row.name]
        if not rates:
            continue
        med = medians[row.name]
        spread = f"{min(rates):,.0f} - {max(rates):,.0f}"
        sync = medians.get(f"{row.library} (sync)")
        own = f"{med / sync:>13.2f}" if sync and row.loop != "sync" else f"{'':>13}"
        print(f"{row.name:<24}{med:>12,.0f}{spread:>22}{med / base:>15.2f}{own}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    main(args.rounds, args.seconds)
