"""asyncio round trips: REQ/REP over tcp loopback in one event loop, nanomsg_rs against
pynng and zmq.asyncio, interleaved in one run (issue 4).

    python benchmarks/bench_async.py [--rounds 5] [--seconds 1.0]

Each round runs every library once, in a new random order, for about ``--seconds``; the
table gives each library's median round trips per second and the min-max over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

PAYLOAD = b"x" * 64
Bench = Callable[[float], Awaitable[float]]


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


async def stop(task: asyncio.Task[None]) -> None:
    """Cancels a server task and waits for it to end."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def nanomsg_rs_rtt(seconds: float) -> float:
    import nanomsg_rs as nn

    addr = f"tcp://127.0.0.1:{free_port()}"
    with nn.Socket("rep") as rep, nn.Socket("req") as req:
        rep.bind(addr)
        req.connect(addr)

        async def serve() -> None:
            try:
                async for msg in rep:
                    await rep.asend(msg)
            except nn.Closed:
                pass

        server = asyncio.create_task(serve())
        rate = await round_trips(req.asend, req.arecv, seconds)
        rep.close()
        await server
    return rate


async def pynng_rtt(seconds: float) -> float:
    import pynng

    addr = f"tcp://127.0.0.1:{free_port()}"
    with pynng.Rep0(listen=addr) as rep, pynng.Req0(dial=addr) as req:

        async def serve() -> None:
            while True:
                await rep.asend(await rep.arecv())

        server = asyncio.create_task(serve())
        rate = await round_trips(req.asend, req.arecv, seconds)
        await stop(server)
    return rate


async def zmq_rtt(seconds: float) -> float:
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

    server = asyncio.create_task(serve())
    rate = await round_trips(req.send, req.recv, seconds)
    await stop(server)
    rep.close(0)
    req.close(0)
    ctx.term()
    return rate


BENCHES: dict[str, Bench] = {
    "nanomsg_rs": nanomsg_rs_rtt,
    "pynng": pynng_rtt,
    "zmq.asyncio": zmq_rtt,
}


async def main(rounds: int, seconds: float) -> None:
    results: dict[str, list[float]] = {name: [] for name in BENCHES}
    for _ in range(rounds):
        order = list(BENCHES)
        random.shuffle(order)
        for name in order:
            try:
                results[name].append(await BENCHES[name](seconds))
            except ImportError as e:
                print(f"{name}: left out ({e}); pip install -r benchmarks/requirements.txt")
                del BENCHES[name]
    base = statistics.median(results["nanomsg_rs"])
    print(f"async REQ/REP round trips over tcp, 64 B, {rounds} rounds of {seconds} s")
    print(f"{'library':<14}{'median rt/s':>12}{'min - max':>22}{'vs nanomsg_rs':>15}")
    for name, rates in results.items():
        if not rates:
            continue
        med = statistics.median(rates)
        spread = f"{min(rates):,.0f} - {max(rates):,.0f}"
        print(f"{name:<14}{med:>12,.0f}{spread:>22}{med / base:>15.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.seconds))
