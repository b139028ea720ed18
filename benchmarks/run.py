"""The nanomsg-rs benchmark suite: ``python benchmarks/run.py`` (``make bench``).

Runs every workload for nanomsg_rs, nnpy, nanomsg, pynng, pyzmq and a C program on libnanomsg
(compiled here with gcc: the floor), prints a table of medians, min-max spreads and ratios to C
with the team's targets, and writes ``benchmarks/results.json`` and ``benchmarks/results.png``.

Both backends of nanomsg_rs run side by side: ``nanomsg_rs-nng`` is the same binding built on
nng's nanomsg-compatible API (built from the working tree into a private venv by
:mod:`bench_nng`; left out with a note when libnng-dev or the build is missing, or with
``--no-nng``), and ``C-nng`` the same C program compiled on that API, its own floor: its row
gets a second ratio, to ``C-nng``, besides the ratio to C on libnanomsg that every row has.

Workloads (``--only NAME``, repeatable or comma-separated):

* ``pingpong``: one thread, PAIR over inproc, send then recv of 64 B: per-call overhead;
* ``throughput``: PUSH to PULL over ipc between two processes, 64 B and 64 KiB (the latter
  with ``recv`` and with nanomsg_rs's zero-copy ``recv_msg``);
* ``latency``: REQ/REP round trips of 64 B over tcp loopback between two processes;
* ``sweep``: the throughput set-up at message sizes from 16 B to 1 MiB;
* ``fanout``: one PUB to N SUB sockets (N = 1, 4, 16, 64) over ipc, published in bursts and
  received by every SUB, in one process and one thread.

The machine is shared and noisy, so every library runs in the same rounds, in a new random
order each round, each sample a fixed slice of time; a library's figure is the median of its
samples, its spread their min-max, and its ratio to C the ratio of the medians (with the range
of the per-round ratios, each from samples taken seconds apart, as the ratio's spread).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_nng
import bench_report
from bench_libs import MODULES, NNG_LIB, PYTHON_LIBS
from bench_procs import (
    BENCH_DIR,
    C_HARDENED_LIB,
    C_LIB,
    C_LIBS,
    C_NNG_LIB,
    Proc,
    WorkerError,
    build_c,
    gcc_version,
    import_problem,
    worker_argv,
)

KiB = 1024
MiB = 1024 * KiB

WORKLOADS = ("pingpong", "throughput", "latency", "sweep", "fanout")
SWEEP_SIZES = (16, 64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB)
QUICK_SWEEP_SIZES = (16, KiB, 64 * KiB, MiB)
FANOUT_SUBS = (1, 4, 16, 64)
#: Messages the publisher sends before every SUB drains them (PUB drops what does not fit).
FANOUT_BURST = 8
#: The library whose ratios the targets judge.
SUBJECT = "nanomsg_rs"
#: Libraries with a C floor of their own besides C on libnanomsg: a second ratio, to it.
FLOORS = {NNG_LIB: C_NNG_LIB}
#: Who runs the zero-copy ``recv_msg`` variants: nanomsg_rs on either backend, and the floors.
RECV_MSG_LIBS = (C_LIB, C_HARDENED_LIB, C_NNG_LIB, SUBJECT, NNG_LIB)
REQUIREMENTS_HINT = "pip install -r benchmarks/requirements.txt"


@dataclass(frozen=True)
class Target:
    """A team target: the subject's ratio to C must be ``op`` ``value``."""

    op: str
    value: float

    def met(self, ratio: float) -> bool:
        """Whether ``ratio`` meets the target."""
        return ratio >= self.value if self.op == ">=" else ratio <= self.value


@dataclass(frozen=True)
class Setup:
    """How a variant's processes are wired; variants with equal set-ups share processes."""

    kind: str  # "pingpong", "pipeline" (PUSH -> PULL), "reqrep" or "fanout"
    transport: str  # "inproc", "ipc" or "tcp"
    nsubs: int = 0


@dataclass(frozen=True)
class Variant:
    """One measured configuration of a workload (one row group of the table)."""

    workload: str
    name: str
    title: str
    setup: Setup
    size: int
    mode: str = "recv"
    metric: str = "rate"  # "rate": messages/s, higher is better; "latency": µs, lower is better
    unit: str = "msg/s"
    only_libs: tuple[str, ...] | None = None
    target: Target | None = None
    x: float | None = None  # position on the workload's plot axis (size, or N subscribers)


@dataclass
class Config:
    """How hard to measure."""

    repeats: dict[str, int]
    sample_time: float
    sweep_sizes: tuple[int, ...]
    fanout_subs: tuple[int, ...]
    seed: int


def size_label(size: int) -> str:
    """``65536`` -> ``"64 KiB"``."""
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    if size >= KiB and size % KiB == 0:
        return f"{size // KiB} KiB"
    return f"{size} B"


def variants_for(workload: str, cfg: Config) -> list[Variant]:
    """The variants of ``workload``."""
    ipc_pipe = Setup("pipeline", "ipc")
    if workload == "pingpong":
        return [
            Variant(
                "pingpong",
                "pingpong 64 B",
                "pingpong: PAIR over inproc, one thread, send then recv of 64 B",
                Setup("pingpong", "inproc"),
                64,
                target=Target(">=", 0.8),
            )
        ]
    if workload == "throughput":
        title = "throughput: PUSH -> PULL over ipc, two processes"
        return [
            Variant(
                "throughput",
                "throughput 64 B",
                f"{title}, 64 B, recv",
                ipc_pipe,
                64,
                target=Target(">=", 0.9),
            ),
            Variant(
                "throughput", "throughput 64 KiB", f"{title}, 64 KiB, recv", ipc_pipe, 64 * KiB
            ),
            Variant(
                "throughput",
                "throughput 64 KiB recv_msg",
                f"{title}, 64 KiB, nanomsg_rs recv_msg (zero-copy); C copies as always",
                ipc_pipe,
                64 * KiB,
                mode="msg",
                only_libs=RECV_MSG_LIBS,
                target=Target(">=", 0.9),
            ),
            Variant(
                "throughput", "throughput 1 MiB", f"{title}, 1 MiB, recv", ipc_pipe, 1024 * KiB
            ),
            Variant(
                "throughput",
                "throughput 1 MiB recv_msg",
                f"{title}, 1 MiB, nanomsg_rs recv_msg (zero-copy); C copies as always",
                ipc_pipe,
                1024 * KiB,
                mode="msg",
                only_libs=RECV_MSG_LIBS,
            ),
        ]
    if workload == "latency":
        return [
            Variant(
                "latency",
                "latency 64 B",
                "latency: REQ/REP round trip over tcp loopback, two processes, 64 B",
                Setup("reqrep", "tcp"),
                64,
                metric="latency",
                unit="µs",
                target=Target("<=", 1.1),
            )
        ]
    if workload == "sweep":
        return [
            Variant(
                "sweep",
                f"sweep {size_label(size)}",
                f"size sweep: PUSH -> PULL over ipc, two processes, {size_label(size)}",
                ipc_pipe,
                size,
                x=size,
            )
            for size in cfg.sweep_sizes
        ]
    if workload == "fanout":
        return [
            Variant(
                "fanout",
                f"fanout N={n}",
                f"fan-out: PUB -> {n} SUB over ipc, one thread, 64 B in bursts of "
                f"{FANOUT_BURST} (published msg/s)",
                Setup("fanout", "ipc", n),
                64,
                x=n,
            )
            for n in cfg.fanout_subs
        ]
    raise ValueError(workload)


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

    def run(self, count: int, variant: Variant, timeout: float) -> tuple[int, int]:
        """One measured run; returns the elapsed nanoseconds and the CPU nanoseconds of the
        measuring process (the PULL, the REQ, or the only one)."""
        command = f"run {count} {variant.size} {variant.mode}"
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
    """How many messages a run of ``count`` times: the PULL's clock starts at the first."""
    if variant.setup.kind == "pipeline":
        return count - 1
    if variant.setup.kind == "fanout":
        return count // FANOUT_BURST * FANOUT_BURST
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
) -> dict[str, Session]:
    """Starts every library's processes for ``setup`` (servers first); a library whose
    processes fail to start is left out with a note. ``programs``: see :func:`worker_argv`."""
    sessions = {lib: Session(lib, setup, addresses.make(setup.transport), programs) for lib in libs}
    for phase in ("servers", "clients"):
        for lib, session in list(sessions.items()):
            try:
                if phase == "servers":
                    session.start_servers()
                else:
                    session.start_clients()
            except OSError as exc:
                notes.append(f"{lib} left out of {label}: {exc}")
                session.close()
                del sessions[lib]
        for lib, session in list(sessions.items()):
            try:
                session.wait_ready()
            except WorkerError as exc:
                notes.append(f"{lib} left out of {label}: {exc}")
                session.close()
                del sessions[lib]
    return sessions


def grouped(variants: list[Variant]) -> Iterator[tuple[Setup, list[Variant]]]:
    """The variants, grouped by set-up, in order of first appearance."""
    order: dict[Setup, list[Variant]] = {}
    for v in variants:
        order.setdefault(v.setup, []).append(v)
    yield from order.items()


def measure_workload(
    workload: str,
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
        sessions = start_sessions(wanted, setup, addresses, programs, notes, label)
        try:
            series = measure_group(
                label, variants, sessions, cfg.repeats[workload], cfg.sample_time, notes, rng
            )
        finally:
            for session in sessions.values():
                session.close()
        records += [summarise(v, series) for v in variants]
    return records


@dataclass
class Series:
    """One library's samples of one variant: one entry per round (``None`` once it failed)."""

    count: int
    values: list[float | None] = field(default_factory=list)
    cpu_us: list[float | None] = field(default_factory=list)

    def pad(self, rounds: int) -> None:
        """Fills the rounds a failed library missed with ``None``."""
        for seq in (self.values, self.cpu_us):
            seq.extend([None] * (rounds - len(seq)))


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


def summarise(v: Variant, series: dict[tuple[str, str], Series]) -> dict[str, Any]:
    """The JSON record of one variant: per library its samples (one per round, ``None`` where
    it failed), median, min, max, ratio of medians to C, the per-round ratios, and the
    measuring process's CPU µs per message (median); for a library with a floor of its own
    (:data:`FLOORS`) the same ratios to that floor under ``floor``, with the subject's target
    read against it."""
    results: dict[str, Any] = {}
    c_series = series.get((v.name, C_LIB))
    for (name, lib), one in series.items():
        if name != v.name:
            continue
        present = [x for x in one.values if x is not None]
        if not present:
            continue
        results[lib] = {
            "samples": one.values,
            "count": one.count,
            "median": statistics.median(present),
            "min": min(present),
            "max": max(present),
            **ratios_to(v, one, c_series),
            "cpu_us_samples": one.cpu_us,
            "cpu_us": median_of(one.cpu_us),
        }
        floor = series.get((v.name, FLOORS.get(lib, "")))
        if floor is not None and median_of(floor.values):
            against = ratios_to(v, one, floor)
            met, firm = verdict(v.target, against["ratio"], against["round_ratio_iqr"])
            results[lib]["floor"] = {
                "lib": FLOORS[lib],
                **against,
                "target_met": met,
                "target_firm": firm,
            }
    subject = results.get(SUBJECT)
    met, firm = (None, None)
    if subject is not None:
        met, firm = verdict(v.target, subject["ratio"], subject["round_ratio_iqr"])
    return {
        "workload": v.workload,
        "name": v.name,
        "title": v.title,
        "metric": v.metric,
        "unit": v.unit,
        "size": v.size,
        "mode": v.mode,
        "only_libs": None if v.only_libs is None else list(v.only_libs),
        "x": v.x,
        "target": None if v.target is None else {"op": v.target.op, "value": v.target.value},
        "target_met": met,
        "target_firm": firm,
        "results": results,
    }


def ratios_to(v: Variant, one: Series, floor: Series | None) -> dict[str, Any]:
    """``one`` against a floor's series: the ratio of the medians, the per-round ratios with
    their quartiles, and the ratio of CPU time per message (all None or empty without a
    floor)."""
    floor_values = floor.values if floor else []
    floor_median = median_of(floor_values)
    rounds = [
        x / c
        for x, c in zip(one.values, floor_values, strict=False)
        if x is not None and c is not None and c > 0
    ]
    med = median_of(one.values)
    return {
        "ratio": med / floor_median if med is not None and floor_median else None,
        "round_ratios": rounds,
        "round_ratio_iqr": quartiles(rounds),
        "cpu_ratio": cpu_ratio(
            v, median_of(one.cpu_us), median_of(floor.cpu_us) if floor else None
        ),
    }


def verdict(
    target: Target | None, ratio: float | None, iqr: list[float] | None
) -> tuple[bool | None, bool | None]:
    """Whether ``ratio`` meets ``target``, and whether that is firm: at least three rounds in
    four (the per-round quartiles ``iqr``) agree with the verdict. (None, None) without a
    target or a ratio."""
    if target is None or ratio is None:
        return None, None
    met = target.met(ratio)
    return met, iqr is not None and all(target.met(q) == met for q in iqr)


def cpu_ratio(v: Variant, cpu: float | None, c_cpu: float | None) -> float | None:
    """The CPU cost per message against C's, read the same way as the variant's ratio: for
    rates C's CPU over the library's (higher is better), for latency the library's over C's
    (lower is better)."""
    if not cpu or not c_cpu:
        return None
    return cpu / c_cpu if v.metric == "latency" else c_cpu / cpu


def quartiles(values: list[float]) -> list[float] | None:
    """The first and third quartiles of ``values`` (None when empty)."""
    if not values:
        return None
    if len(values) == 1:
        return [values[0], values[0]]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return [q1, q3]


def median_of(values: list[float | None]) -> float | None:
    """The median of the values that are present."""
    present = [x for x in values if x is not None]
    return statistics.median(present) if present else None


def progress(text: str) -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(text, file=sys.stderr, flush=True)


def available_libs(requested: list[str], notes: list[str]) -> list[str]:
    """The requested Python libraries that import; a note for each one that does not.
    (The nng build, which imports only in its own venv, is :func:`nng_build`'s.)"""
    found = []
    for lib in requested:
        if lib == NNG_LIB:
            found.append(lib)
            continue
        problem = import_problem(MODULES[lib])
        if problem is None:
            found.append(lib)
        elif lib == SUBJECT:
            raise SystemExit(f"nanomsg_rs does not import ({problem}): run `make dev` first")
        else:
            notes.append(
                f"{lib} left out: it does not import ({problem}); "
                f"to include it: {REQUIREMENTS_HINT}"
            )
    return found


def nng_build(nng_python: Path | None, notes: list[str]) -> bench_nng.NngBuild | None:
    """nanomsg_rs's nng build: from ``nng_python`` if given, else built now into the private
    venv (see :mod:`bench_nng`); None, with a note saying why, if there is none."""
    if nng_python is not None:
        found = bench_nng.probe(nng_python)
    else:
        found = bench_nng.prepare(progress)
    if isinstance(found, str):
        notes.append(f"{NNG_LIB} left out: {found}")
        return None
    progress(f"[nng] {NNG_LIB}: {found.library}, from {found.where}")
    return found


def versions(nng: bench_nng.NngBuild | None) -> dict[str, str]:
    """Versions of everything measured."""
    out: dict[str, str] = {}
    for lib, dist in (
        ("nanomsg_rs", "nanomsg-rs"),
        ("nnpy", "nnpy"),
        ("nanomsg", "nanomsg"),
        ("pynng", "pynng"),
        ("pyzmq", "pyzmq"),
    ):
        try:
            out[lib] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    probe = subprocess.run(
        ["pkg-config", "--modversion", "nanomsg"], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        out["libnanomsg"] = probe.stdout.strip()
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import nanomsg_rs as nn; print(nn.__file__, getattr(nn, 'LIBRARY_VERSION', ''))",
        ],
        capture_output=True,
        text=True,
        cwd=BENCH_DIR,
        check=False,
    ).stdout.strip()
    if where:
        out["nanomsg_rs_from"] = where
    if nng is not None:
        out[NNG_LIB] = nng.version
        out["nng"] = nng.library.removeprefix("nng ")
        out[f"{NNG_LIB}_from"] = f"{nng.where} {nng.library}"
    out["gcc"] = gcc_version()
    out["python"] = platform.python_version()
    return out


def machine(load_at_start: list[float]) -> dict[str, Any]:
    """What the numbers were taken on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "-C", str(BENCH_DIR), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "loadavg_start": load_at_start,
        "loadavg_end": list(os.getloadavg()),
        "commit": commit,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="Benchmarks nanomsg_rs against nnpy, nanomsg, pynng, pyzmq and C.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run (a few seconds a workload): smoke test"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="WORKLOAD",
        help=f"run only these workloads (repeatable or comma-separated): {', '.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--libs",
        help=f"comma-separated Python libraries (default all: {','.join(PYTHON_LIBS)}); "
        f"C always runs, C-nng (C on nng's nanomsg API) whenever {NNG_LIB} does",
    )
    parser.add_argument(
        "--no-nng",
        action="store_true",
        help=f"leave out {NNG_LIB} and C-nng (and the nng wheel's build)",
    )
    parser.add_argument(
        "--nng-python",
        type=Path,
        metavar="PYTHON",
        help=f"run {NNG_LIB} with this interpreter, which imports an nng build of nanomsg_rs, "
        "instead of building one into target/nng-bench/venv",
    )
    parser.add_argument("--repeats", type=int, help="rounds per workload (overrides defaults)")
    parser.add_argument("--sample-time", type=float, help="seconds per sample (default 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-round order")
    parser.add_argument("--json", type=Path, help="where the raw numbers go")
    parser.add_argument("--plot", type=Path, help="where the PNG goes")
    parser.add_argument("--no-plot", action="store_true", help="skip the plot")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: print the table (and plot) of an earlier results file",
    )
    args = parser.parse_args(argv)
    chosen: list[str] = []
    for item in args.only or []:
        for name in item.split(","):
            name = name.strip()
            if name not in WORKLOADS:
                parser.error(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
            if name not in chosen:
                chosen.append(name)
    args.workloads = [w for w in WORKLOADS if w in chosen] if chosen else list(WORKLOADS)
    libs = PYTHON_LIBS if not args.libs else tuple(x.strip() for x in args.libs.split(","))
    for lib in libs:
        if lib not in PYTHON_LIBS:
            parser.error(f"unknown library {lib!r}; choose from {', '.join(PYTHON_LIBS)}")
    args.lib_list = [lib for lib in PYTHON_LIBS if lib in libs]
    if SUBJECT not in args.lib_list:
        args.lib_list.insert(0, SUBJECT)
    if args.no_nng and NNG_LIB in args.lib_list:
        args.lib_list.remove(NNG_LIB)
    suffix = "-quick" if args.quick else ""
    args.json = args.json or BENCH_DIR / f"results{suffix}.json"
    args.plot = args.plot or BENCH_DIR / f"results{suffix}.png"
    return args


def config_for(args: argparse.Namespace) -> Config:
    """Repetitions and sample lengths for a full or a quick run."""
    if args.quick:
        repeats = dict.fromkeys(WORKLOADS, 3)
        cfg = Config(repeats, 0.03, QUICK_SWEEP_SIZES, FANOUT_SUBS, args.seed)
    else:
        repeats = {"pingpong": 31, "throughput": 21, "latency": 31, "sweep": 9, "fanout": 9}
        cfg = Config(repeats, 0.2, SWEEP_SIZES, FANOUT_SUBS, args.seed)
    if args.repeats:
        cfg.repeats = dict.fromkeys(WORKLOADS, args.repeats)
    if args.sample_time:
        cfg.sample_time = args.sample_time
    return cfg


def main(argv: list[str]) -> int:
    """Measures, prints the table, writes the JSON and the plot."""
    args = parse_args(argv)
    if args.report:
        data = json.loads(args.report.read_text())
        print(bench_report.table(data))
        if not args.no_plot:
            print(bench_report.plot(data, args.plot))
        return 0
    cfg = config_for(args)
    notes: list[str] = []
    started = time.monotonic()
    libs = available_libs(args.lib_list, notes)
    programs: dict[str, Path] = {}
    nng = nng_build(args.nng_python, notes) if NNG_LIB in libs else None
    # after the nng build, when the measuring starts (its 1-minute average still shows cargo)
    load_at_start = list(os.getloadavg())
    if nng is not None:
        programs[NNG_LIB] = nng.python
    elif NNG_LIB in libs:
        libs.remove(NNG_LIB)
    floors = [C_LIB, C_HARDENED_LIB] + ([C_NNG_LIB] if nng is not None else [])
    with tempfile.TemporaryDirectory(prefix="nnbench-") as tmp:
        for floor in floors:
            binary, why = build_c(Path(tmp), floor)
            if binary is None:
                notes.append(why)
            else:
                programs[floor] = binary
        all_libs = [lib for lib in C_LIBS if lib in programs] + libs
        addresses = Addresses(Path(tmp))
        rng = random.Random(cfg.seed)
        records: list[dict[str, Any]] = []
        for workload in args.workloads:
            records += measure_workload(workload, all_libs, cfg, addresses, programs, notes, rng)
    found = versions(nng)
    if found.get("nanomsg_rs_from", "").split()[1:2] == ["nng"]:
        notes.append(
            "nanomsg_rs: this interpreter imports an nng build, so its row measures nng too "
            f"({found['nanomsg_rs_from']})"
        )
    data = {
        "meta": {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "quick": args.quick,
            "libraries": [*floors, *args.lib_list],
            "repeats": cfg.repeats,
            "sample_time_s": cfg.sample_time,
            "seed": cfg.seed,
            "fanout_burst": FANOUT_BURST,
            "subject": SUBJECT,
            "duration_s": round(time.monotonic() - started, 1),
            "versions": found,
            "machine": machine(load_at_start),
        },
        "notes": notes,
        "variants": records,
    }
    args.json.write_text(json.dumps(data, indent=1) + "\n")
    print(bench_report.table(data))
    print(f"raw numbers: {args.json}")
    if not args.no_plot:
        print(bench_report.plot(data, args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
