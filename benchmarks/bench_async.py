"""Async round trips: REQ/REP over tcp loopback, client and server in one event loop, for
nanomsg_rs (asyncio, uvloop, trio), pynng (asyncio, trio) and zmq.asyncio, next to each
library's own synchronous rate (blocking calls, the REP in a thread), interleaved in one run.

This is the ``async`` workload of ``run.py`` (``make bench``, or ``run.py --only async``),
which carries the team's target: nanomsg_rs under asyncio ahead of zmq.asyncio and of pynng
under asyncio, by round trips a second and by CPU time per round trip. It runs on its own too:

    python benchmarks/bench_async.py [--rounds 5] [--seconds 1.0]

Each round runs every row once, in a new random order, for about ``--seconds``, each in a
fresh event loop, after a few untimed round trips (the connection). Every sample gives the
round trips a second and the CPU time per round trip of the whole process (all its threads:
the event loop, a sync row's REP thread, the libraries' own I/O threads), taken over the timed
loop only. The table gives the medians with the min-max over the rounds, each row's ratio to
nanomsg_rs under asyncio and to its library's own synchronous rate (how much the library's
async layer costs: closer to 1 is better), and the targets.

nanomsg_rs as it comes, with ``NN_WORKER_SPIN_US`` unset, asks the library's worker thread
to poll before it sleeps on a socket that an event loop waits on (``Socket.worker_poll``,
patch 0085; patch 0083 is the polling: up to 50 µs since 0090, adapting, with probes); its
blocking calls do not.
Two rows set the variable, for comparison: ``nanomsg_rs-nopoll (asyncio)`` with 0 (the worker
never polls: what the default gains), ``nanomsg_rs+spin (sync)`` with 100 (the worker polls
for blocking calls too). The targets judge nanomsg_rs as it comes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from bench_stats import median_of, quartiles, verdict
from bench_workloads import ASYNC_TARGET, SUBJECT

PAYLOAD = b"x" * 64
#: Untimed round trips before each sample's clock starts (the tcp connection, first wake-ups).
WARMUP = 20
Loop = Literal["asyncio", "uvloop", "trio", "sync"]
#: The async workload's name (``run.py --only async``) and its table's record.
WORKLOAD = "async"
NAME = "async REQ/REP 64 B"
TITLE = (
    "async: REQ/REP round trips over tcp loopback, 64 B, client and server in one event loop "
    "(sync: blocking calls, the REP in a thread)"
)
UNIT = "round trips/s"
#: The rows of nanomsg_rs with ``NN_WORKER_SPIN_US`` set (unset for the other nanomsg_rs
#: rows): SPIN_LIBRARY's worker polls up to SPIN_US before it sleeps, whatever the sockets ask
#: (patch 0083); NOPOLL_LIBRARY's never polls, even where an event loop waits (patch 0085).
SPIN_ENV = "NN_WORKER_SPIN_US"
SPIN_US = 100
SPIN_LIBRARY = "nanomsg_rs+spin"
NOPOLL_LIBRARY = "nanomsg_rs-nopoll"
#: The row the targets judge, and each rival's row, under the same loop.
SUBJECT_ROW = f"{SUBJECT} (asyncio)"
RIVALS = {"zmq.asyncio": "zmq.asyncio (asyncio)", "pynng": "pynng (asyncio)"}
REQUIREMENTS_HINT = "pip install -r benchmarks/requirements.txt"


@dataclass(frozen=True)
class Sample:
    """One timed loop: round trips a second, and process CPU µs per round trip."""

    rate: float
    cpu_us: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def timed(n: int, wall_ns: int, cpu_ns: int) -> Sample:
    """The sample of ``n`` round trips that took ``wall_ns`` and ``cpu_ns``."""
    return Sample(n / (max(wall_ns, 1) / 1e9), cpu_ns / 1000 / max(n, 1))


async def round_trips(
    send: Callable[[bytes], Awaitable[Any]], recv: Callable[[], Awaitable[Any]], seconds: float
) -> Sample:
    """``send`` then ``recv`` for about ``seconds``, after :data:`WARMUP` untimed ones."""
    for _ in range(WARMUP):
        await send(PAYLOAD)
        await recv()
    n = 0
    cpu = time.process_time_ns()
    start = time.perf_counter_ns()
    end = start + int(seconds * 1e9)
    while time.perf_counter_ns() < end:
        await send(PAYLOAD)
        await recv()
        n += 1
    return timed(n, time.perf_counter_ns() - start, time.process_time_ns() - cpu)


def sync_round_trips(
    send: Callable[[bytes], Any], recv: Callable[[], Any], seconds: float
) -> Sample:
    """The same with blocking calls."""
    for _ in range(WARMUP):
        send(PAYLOAD)
        recv()
    n = 0
    cpu = time.process_time_ns()
    start = time.perf_counter_ns()
    end = start + int(seconds * 1e9)
    while time.perf_counter_ns() < end:
        send(PAYLOAD)
        recv()
        n += 1
    return timed(n, time.perf_counter_ns() - start, time.process_time_ns() - cpu)


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


def sync_against_echo(rep: Any, req: Any, seconds: float) -> Sample:
    """:func:`sync_round_trips` from ``req`` to ``rep``, which :func:`echo_in_thread` serves
    until ``rep`` is closed, here."""
    server = echo_in_thread(rep.recv, rep.send)
    sample = sync_round_trips(req.send, req.recv, seconds)
    rep.close()
    server.join(5)
    return sample


async def against_server_task(
    serve: Callable[[], Awaitable[None]],
    send: Callable[[bytes], Awaitable[Any]],
    recv: Callable[[], Awaitable[Any]],
    seconds: float,
) -> Sample:
    """:func:`round_trips` while ``serve`` answers in a task of the same loop, cancelled
    afterwards."""
    import anyio

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        sample = await round_trips(send, recv, seconds)
        tg.cancel_scope.cancel()
    return sample


# -- nanomsg_rs ------------------------------------------------------------------------------


@contextmanager
def worker_spin(us: int | None) -> Iterator[None]:
    """Runs with ``NN_WORKER_SPIN_US`` set to ``us`` (None: unset), restored afterwards. Our
    libnanomsg reads it when its worker thread starts, at the first socket: each row opens
    its sockets and closes them all, so each row starts a worker of its own."""
    before = os.environ.pop(SPIN_ENV, None)
    if us is not None:
        os.environ[SPIN_ENV] = str(us)
    try:
        yield
    finally:
        os.environ.pop(SPIN_ENV, None)
        if before is not None:
            os.environ[SPIN_ENV] = before


async def nanomsg_rs_async(seconds: float, spin_us: int | None = None) -> Sample:
    import anyio

    import nanomsg_rs as nn

    addr = f"tcp://127.0.0.1:{free_port()}"
    with worker_spin(spin_us), nn.Socket("rep") as rep, nn.Socket("req") as req:
        rep.bind(addr)
        req.connect(addr)

        async def serve() -> None:
            async for msg in rep:
                await rep.asend(msg)

        async with anyio.create_task_group() as tg:
            tg.start_soon(serve)
            sample = await round_trips(req.asend, req.arecv, seconds)
            rep.close()  # the server's `async for` ends
    return sample


def nanomsg_rs_sync(seconds: float, spin_us: int | None = None) -> Sample:
    import nanomsg_rs as nn

    addr = f"tcp://127.0.0.1:{free_port()}"
    with worker_spin(spin_us), nn.Socket("rep") as rep, nn.Socket("req") as req:
        rep.bind(addr)
        req.connect(addr)
        return sync_against_echo(rep, req, seconds)


# -- pynng -----------------------------------------------------------------------------------


async def pynng_async(seconds: float) -> Sample:
    import pynng

    addr = f"tcp://127.0.0.1:{free_port()}"
    with pynng.Rep0(listen=addr) as rep, pynng.Req0(dial=addr) as req:

        async def serve() -> None:
            while True:
                await rep.asend(await rep.arecv())

        return await against_server_task(serve, req.asend, req.arecv, seconds)


def pynng_sync(seconds: float) -> Sample:
    import pynng

    addr = f"tcp://127.0.0.1:{free_port()}"
    rep = pynng.Rep0(listen=addr)
    with pynng.Req0(dial=addr) as req:
        return sync_against_echo(rep, req, seconds)


# -- pyzmq -----------------------------------------------------------------------------------


async def zmq_async(seconds: float) -> Sample:
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

    sample = await against_server_task(serve, req.send, req.recv, seconds)
    rep.close(0)
    req.close(0)
    ctx.term()
    return sample


def zmq_sync(seconds: float) -> Sample:
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
    sample = sync_round_trips(req.send, req.recv, seconds)
    stop.set()
    server.join(5)
    req.close(0)
    ctx.term()
    return sample


@dataclass(frozen=True)
class Row:
    """One measured row: a library in one event loop (or its blocking API)."""

    library: str
    loop: Loop
    run: Callable[[float], Any]
    lib: str  # the library as run.py's --libs names it

    @property
    def name(self) -> str:
        return f"{self.library} ({self.loop})"


ROWS = [
    Row("nanomsg_rs", "asyncio", nanomsg_rs_async, "nanomsg_rs"),
    Row("nanomsg_rs", "uvloop", nanomsg_rs_async, "nanomsg_rs"),
    Row("nanomsg_rs", "trio", nanomsg_rs_async, "nanomsg_rs"),
    Row("nanomsg_rs", "sync", nanomsg_rs_sync, "nanomsg_rs"),
    Row(NOPOLL_LIBRARY, "asyncio", partial(nanomsg_rs_async, spin_us=0), "nanomsg_rs"),
    Row(SPIN_LIBRARY, "sync", partial(nanomsg_rs_sync, spin_us=SPIN_US), "nanomsg_rs"),
    Row("pynng", "asyncio", pynng_async, "pynng"),
    Row("pynng", "trio", pynng_async, "pynng"),
    Row("pynng", "sync", pynng_sync, "pynng"),
    Row("zmq.asyncio", "asyncio", zmq_async, "pyzmq"),
    Row("zmq.asyncio", "sync", zmq_sync, "pyzmq"),
]


def measure(row: Row, seconds: float) -> Sample:
    """One sample of ``row``, in a fresh event loop of its kind."""
    if row.loop == "sync":
        sample: Sample = row.run(seconds)
        return sample
    if row.loop == "asyncio":
        return asyncio.run(row.run(seconds))
    if row.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(row.run(seconds))
    import trio

    return trio.run(row.run, seconds)


def run_rounds(
    rows: list[Row],
    rounds: int,
    seconds: float,
    rng: random.Random,
    notes: list[str],
    progress: Callable[[str], None] | None = None,
) -> dict[str, list[Sample | None]]:
    """``rounds`` rounds of every row, in a new random order each round: per row one entry a
    round (``None`` once it failed). A row that fails (a library or loop that does not
    import, an error) is left out of the later rounds, with a note."""
    active = list(rows)
    results: dict[str, list[Sample | None]] = {row.name: [] for row in rows}
    for rnd in range(rounds):
        if progress is not None:
            progress(f"[{WORKLOAD}] round {rnd + 1}/{rounds}")
        order = list(active)
        rng.shuffle(order)
        for row in order:
            try:
                results[row.name].append(measure(row, seconds))
            except ImportError as exc:
                notes.append(f"{row.name} left out of {WORKLOAD}: {exc}; {REQUIREMENTS_HINT}")
                active.remove(row)
            except Exception as exc:  # any failure leaves the row out, noted
                notes.append(f"{row.name} left out of {WORKLOAD}: {type(exc).__name__}: {exc}")
                active.remove(row)
        for samples in results.values():
            samples.extend([None] * (rnd + 1 - len(samples)))
    return results


def records(results: dict[str, list[Sample | None]]) -> list[dict[str, Any]]:
    """The workload's JSON records: the table of every row (no target), then one target
    record per rival: nanomsg_rs under asyncio against it under asyncio, by rate (the ratio
    of the medians, with the per-round ratios) and by CPU time per round trip (the rival's
    over nanomsg_rs's), with no verdict (not measured) when either row has no samples."""
    rows: dict[str, dict[str, Any]] = {}
    base = median_of([s.rate if s else None for s in results.get(SUBJECT_ROW, [])])
    for row in ROWS:
        samples = results.get(row.name)
        rates = [s.rate if s else None for s in samples or []]
        present = [x for x in rates if x is not None]
        if not present:
            continue
        cpu = [s.cpu_us if s else None for s in samples or []]
        rows[row.name] = {
            "library": row.library,
            "lib": row.lib,
            "loop": row.loop,
            "samples": rates,
            "median": median_of(rates),
            "min": min(present),
            "max": max(present),
            "ratio": (median_of(rates) or 0) / base if base else None,
            "cpu_us_samples": cpu,
            "cpu_us": median_of(cpu),
        }
    for result in rows.values():
        sync = rows.get(f"{result['library']} (sync)")
        own = sync is not None and result["loop"] != "sync"
        result["vs_sync"] = result["median"] / sync["median"] if own else None
    out = [record_of(NAME, TITLE, None, rows)]
    for rival, rival_row in RIVALS.items():
        out.append(target_record(rival, rows.get(SUBJECT_ROW), rows.get(rival_row)))
    return out


def record_of(
    name: str, title: str, against: str | None, results: dict[str, Any], **target: Any
) -> dict[str, Any]:
    """A record shaped like every other workload's (see :func:`bench_stats.summarise`)."""
    return {
        "workload": WORKLOAD,
        "name": name,
        "title": title,
        "metric": "rate",
        "unit": UNIT,
        "size": len(PAYLOAD),
        "mode": "recv",
        "batch": 0,
        "only_libs": None,
        "x": None,
        "against": against,
        "target": target.get("target"),
        "target_met": target.get("met"),
        "target_firm": target.get("firm"),
        "cpu_target_met": target.get("cpu_met"),
        "results": results,
    }


def target_record(
    rival: str, ours: dict[str, Any] | None, theirs: dict[str, Any] | None
) -> dict[str, Any]:
    """nanomsg_rs under asyncio against ``rival`` under asyncio: the subject's result carries
    the ratio of rates, the per-round ratios and the ratio by CPU time per round trip."""
    goal = {"op": ASYNC_TARGET.op, "value": ASYNC_TARGET.value}
    name = f"async vs {rival}"
    title = f"async: {SUBJECT} against {rival}, both under asyncio"
    if ours is None or theirs is None:
        return record_of(name, title, RIVALS[rival], {}, target=goal)
    rounds = [
        x / y
        for x, y in zip(ours["samples"], theirs["samples"], strict=False)
        if x is not None and y is not None and y > 0
    ]
    iqr = quartiles(rounds)
    ratio = ours["median"] / theirs["median"]
    cpu = theirs["cpu_us"] / ours["cpu_us"] if ours["cpu_us"] and theirs["cpu_us"] else None
    met, firm = verdict(ASYNC_TARGET, ratio, iqr)
    cpu_met, _ = verdict(ASYNC_TARGET, cpu, None)
    subject = {
        **ours,
        "ratio": ratio,
        "round_ratios": rounds,
        "round_ratio_iqr": iqr,
        "cpu_ratio": cpu,
    }
    rival_result = {**theirs, "ratio": 1.0, "round_ratios": [], "round_ratio_iqr": None}
    results = {SUBJECT: subject, theirs["lib"]: rival_result}
    return record_of(
        name, title, RIVALS[rival], results, target=goal, met=met, firm=firm, cpu_met=cpu_met
    )


def measure_async(
    libs: list[str],
    rounds: int,
    seconds: float,
    rng: random.Random,
    notes: list[str],
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """The async workload for ``run.py``: the rows of the libraries in ``libs`` (run.py's
    names), ``rounds`` rounds of samples of about ``seconds``; its records."""
    rows = [row for row in ROWS if row.lib in libs]
    return records(run_rounds(rows, rounds, seconds, rng, notes, progress))


def main(rounds: int, seconds: float) -> None:
    import bench_report

    notes: list[str] = []
    found = records(run_rounds(list(ROWS), rounds, seconds, random.Random(), notes))
    print(f"{rounds} rounds of {seconds} s a row")
    print("\n".join(bench_report.async_block(found, SUBJECT)))
    print("\n".join(bench_report.target_summary(found, SUBJECT)))
    for note in notes:
        print(f"  - {note}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    main(args.rounds, args.seconds)
