"""Measuring: each library's processes for a set-up (:class:`Session`), calibrated to a
fixed slice of time per sample, run in rounds in a new random order each round."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bench_syscalls
from bench_procs import Proc, WorkerError, worker_argv
from bench_stats import Series, summarise
from bench_workloads import FANOUT_BURST, Config, MiB, Setup, Variant, Workload, variants_for


def progress(text: str) -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(text, file=sys.stderr, flush=True)


class Addresses:
    """Fresh addresses for every set-up: ipc files in a private folder, free tcp ports."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = 0

    def make(self, transport: str) -> str:
        """A new address on ``transport``."""
        self.counter += 1
        tag = f"nnbench-{os.getpid()}-{self.counter}"
        if transport == "inproc":
            return f"inproc://{tag}"
        if transport == "ipc":
            return f"ipc://{self.folder}/{tag}.ipc"
        if transport == "tcp":
            import socket

            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                return f"tcp://127.0.0.1:{s.getsockname()[1]}"
        raise ValueError(transport)


class Session:
    """One library's processes for one set-up; :meth:`run` takes one sample."""

    def __init__(self, lib: str, setup: Setup, address: str, programs: dict[str, Path]) -> None:
        self.lib = lib
        self.setup = setup
        self.address = address
        self.programs = programs
        self.procs: dict[str, Proc] = {}

    def _spawn(self, role: str, *extra: str) -> None:
        argv = worker_argv(self.lib, self.programs, [role, self.address, *extra])
        self.procs[role] = Proc(argv, f"{self.lib} {role}")

    def start_servers(self) -> None:
        """Phase 1: the processes that bind (and the one-process set-ups)."""
        kind = self.setup.kind
        if kind == "pingpong":
            self._spawn("pingpong")
        elif kind == "pipeline":
            self._spawn("pull")
        elif kind == "reqrep":
            self._spawn("rep")
        elif kind == "fanout":
            self._spawn("fanout", str(self.setup.nsubs), str(FANOUT_BURST))

    def start_clients(self) -> None:
        """Phase 2, once the servers are ready: the processes that connect."""
        if self.setup.kind == "pipeline":
            self._spawn("push")
        elif self.setup.kind == "reqrep":
            self._spawn("req")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Waits until every process has said ``ready``."""
        for proc in self.procs.values():
            proc.wait_ready(timeout)

    def pin(self) -> None:
        """Two-process set-ups (pipeline, reqrep): the client (PUSH, REQ) on the first CPU
        this process may use, the server (PULL, REP) on the last, every thread of each (the
        threads they start later inherit it). Other set-ups, or one CPU: nothing."""
        cpus = sorted(os.sched_getaffinity(0))
        if self.setup.kind not in ("pipeline", "reqrep") or len(cpus) < 2:
            return
        for role, proc in self.procs.items():
            proc.set_cpus({cpus[0] if role in ("push", "req") else cpus[-1]})

    def run(self, count: int, variant: Variant, timeout: float) -> tuple[int, int]:
        """One measured run; returns the elapsed nanoseconds and the CPU nanoseconds of the
        measuring process (the PULL, the REQ, or the only one)."""
        command = f"run {count} {variant.size} {variant.mode}"
        if variant.batch:
            command += f" {variant.batch}"
        kind = self.setup.kind
        if kind == "pipeline":
            pull, push = self.procs["pull"], self.procs["push"]
            pull.send(command)
            push.send(command)
            push.reply(timeout)
            line = pull.reply(timeout)
        else:
            driver = self.procs["req" if kind == "reqrep" else kind]
            driver.send(command)
            line = driver.reply(timeout)
        words = line.split()
        return int(words[1]), int(words[2])

    def close(self) -> None:
        """Ends every process (clients first)."""
        for role in ("push", "req", "pingpong", "fanout", "pull"):
            if role in self.procs:
                self.procs[role].stop()
        if "rep" in self.procs:
            self.procs["rep"].kill()


def messages_in(variant: Variant, count: int) -> int:
    """How many messages a run of ``count`` times: the PULL's clock starts at the first;
    a fan-out run counts every message delivered, each published one N times."""
    if variant.setup.kind == "pipeline":
        return count - 1
    if variant.setup.kind == "fanout":
        return count // FANOUT_BURST * FANOUT_BURST * variant.setup.nsubs
    return count


def value_of(variant: Variant, count: int, elapsed_ns: int) -> float:
    """A sample's figure: messages/s, or µs per round trip for latency."""
    if variant.metric == "latency":
        return elapsed_ns / count / 1000.0
    return messages_in(variant, count) / (max(elapsed_ns, 1) / 1e9)


def round_count(variant: Variant, count: int) -> int:
    """The smallest count that the variant's set-up can run, at or above ``count``."""
    if variant.setup.kind == "fanout":
        return max(FANOUT_BURST, count // FANOUT_BURST * FANOUT_BURST)
    if variant.setup.kind == "pipeline":
        return max(10, count)
    return max(1, count)


def calibrate(session: Session, variant: Variant, sample_time: float) -> int:
    """A count that makes one run last about ``sample_time``: one warm-up run (connections,
    caches), then runs five times longer until one lasts a fifth of the slice."""
    count = round_count(variant, max(4, min(1000, (4 * MiB) // variant.size)))
    session.run(count, variant, timeout=120)
    limit = 50_000_000
    while True:
        elapsed, _ = session.run(count, variant, timeout=120)
        if elapsed >= sample_time * 1e9 / 5 or count >= limit:
            break
        count = round_count(variant, count * 5)
    per_message = elapsed / count
    return round_count(variant, min(limit, int(sample_time * 1e9 / max(per_message, 1.0))))


def start_sessions(
    libs: list[str],
    setup: Setup,
    addresses: Addresses,
    programs: dict[str, Path],
    notes: list[str],
    label: str,
    pin: bool = False,
) -> dict[str, Session]:
    """Starts every library's processes for ``setup`` (servers first); a library whose
    processes fail to start is left out with a note. ``programs``: see :func:`worker_argv`;
    ``pin``: see :meth:`Session.pin`."""
    sessions = {lib: Session(lib, setup, addresses.make(setup.transport), programs) for lib in libs}

    def leave_out(lib: str, why: Exception) -> None:
        notes.append(f"{lib} left out of {label}: {why}")
        sessions.pop(lib).close()

    for phase in ("servers", "clients"):
        for lib, session in list(sessions.items()):
            try:
                if phase == "servers":
                    session.start_servers()
                else:
                    session.start_clients()
            except OSError as exc:
                leave_out(lib, exc)
        for lib, session in list(sessions.items()):
            try:
                session.wait_ready()
            except WorkerError as exc:
                leave_out(lib, exc)
    if pin:
        for session in sessions.values():
            session.pin()
    return sessions


def grouped(variants: list[Variant]) -> Iterator[tuple[Setup, list[Variant]]]:
    """The variants, grouped by set-up, in order of first appearance."""
    order: dict[Setup, list[Variant]] = {}
    for v in variants:
        order.setdefault(v.setup, []).append(v)
    yield from order.items()


def measure_workload(
    workload: Workload,
    libs: list[str],
    cfg: Config,
    addresses: Addresses,
    programs: dict[str, Path],
    notes: list[str],
    rng: random.Random,
) -> list[dict[str, Any]]:
    """Runs one workload's variants for every library; returns one result record per variant
    (see :func:`summarise`)."""
    records: list[dict[str, Any]] = []
    for setup, variants in grouped(variants_for(workload, cfg)):
        wanted = [
            lib for lib in libs if any(v.only_libs is None or lib in v.only_libs for v in variants)
        ]
        label = variants[0].name if len(variants) == 1 else workload
        progress(f"[{label}] starting {len(wanted)} libraries' processes")
        sessions = start_sessions(wanted, setup, addresses, programs, notes, label, cfg.pin)
        counted: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            series = measure_group(
                label, variants, sessions, cfg.repeats[workload], cfg.sample_time, notes, rng
            )
            if cfg.syscalls:  # after the rounds, on the same processes (bench_syscalls)
                counted = bench_syscalls.syscall_pass(
                    variants, sessions, cfg.quick, notes, progress
                )
        finally:
            for session in sessions.values():
                session.close()
        records += [bench_syscalls.attach(summarise(v, series), counted) for v in variants]
    return records


def measure_group(
    label: str,
    variants: list[Variant],
    sessions: dict[str, Session],
    repeats: int,
    sample_time: float,
    notes: list[str],
    rng: random.Random,
) -> dict[tuple[str, str], Series]:
    """Calibrates, then takes ``repeats`` rounds of samples of variants sharing one set-up:
    in each round every library runs every variant once, the libraries in a new random order.
    Returns the series keyed by (variant name, library). A library that fails is closed,
    removed from ``sessions`` and noted."""
    series: dict[tuple[str, str], Series] = {}

    def drop(lib: str, exc: WorkerError, where: str) -> None:
        notes.append(f"{lib} left out of {where}: {exc}")
        sessions.pop(lib).close()

    for v in variants:
        for lib in [lib for lib in sessions if v.only_libs is None or lib in v.only_libs]:
            progress(f"[{v.name}] calibrating {lib}")
            try:
                series[(v.name, lib)] = Series(calibrate(sessions[lib], v, sample_time))
            except WorkerError as exc:
                drop(lib, exc, v.name)
    for rnd in range(repeats):
        progress(f"[{label}] round {rnd + 1}/{repeats}")
        order = list(sessions)
        rng.shuffle(order)
        for v in variants:
            for lib in order:
                one = series.get((v.name, lib))
                if one is None or lib not in sessions:
                    continue
                try:
                    elapsed, cpu = sessions[lib].run(one.count, v, timeout=60 + 20 * sample_time)
                except WorkerError as exc:
                    drop(lib, exc, v.name)
                    continue
                one.values.append(value_of(v, one.count, elapsed))
                one.cpu_us.append(cpu / 1000 / max(1, messages_in(v, one.count)))
        # one entry per round in every list, so per-round ratios pair the right samples
        for one in series.values():
            one.pad(rnd + 1)
    return series
