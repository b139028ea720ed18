"""System calls per message: a short pass of its own, after a set-up's measured rounds, that
counts them with ``strace -c -f`` for every throughput and fan-out row (issue 25's column).

The processes are the measured ones, already connected and warm: ``strace -c -f -p PID``
attaches to every thread of each (the PULL and the PUSH, or the one fan-out process) once
they idle between runs, one run of :func:`count_for` messages goes through, and strace is
told to detach (SIGINT), which writes its summary. So the count holds the run's calls only,
none of the set-up (a Python process makes thousands before its sockets exist), and the
libraries' own threads are counted with the caller's. strace slows every call down, so the
pass takes no time figure: the rates are the measured rounds'.

A throughput row's figure is both processes' calls over the messages sent; a fan-out row's is
the process's calls over the messages published (each delivered to N SUBs): what issue 25's
"N writes per message" counts.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from bench_procs import C_HARDENED_LIB, C_LIB, C_ZMQ_LIB
from bench_workloads import FANOUT_BURST, SUBJECT

#: The workloads whose rows get the column.
WORKLOADS = ("throughput", "fanout")
#: Whose calls are counted: our library, pyzmq, and the C floors under each.
SYSCALL_LIBS = (C_LIB, C_HARDENED_LIB, C_ZMQ_LIB, SUBJECT, "pyzmq")
#: Bytes a counted throughput run moves at most, and its bounds in messages.
PASS_BYTES = 16 << 20
PASS_MIN, PASS_MAX = 100, 10_000
#: Deliveries a counted fan-out run aims at (messages published times N).
PASS_DELIVERIES = 10_000
#: How long strace may take to attach to every thread of a process.
ATTACH_TIMEOUT_S = 10.0


class SessionLike(Protocol):
    """What the pass needs of :class:`bench_measure.Session`."""

    procs: dict[str, Any]

    def run(self, count: int, variant: Any, timeout: float) -> tuple[int, int]: ...


def count_for(kind: str, size: int, nsubs: int = 0, burst: int = 1, quick: bool = False) -> int:
    """The run command's COUNT of a counted run: a throughput run of at most
    :data:`PASS_BYTES` (within :data:`PASS_MIN` and :data:`PASS_MAX` messages), a fan-out run
    of about :data:`PASS_DELIVERIES` deliveries in whole bursts; a fifth as many (at least a
    few bursts) when ``quick``."""
    if kind == "fanout":
        bursts = max(4, PASS_DELIVERIES // max(1, nsubs * burst))
        if quick:
            bursts = max(2, bursts // 5)
        return bursts * burst
    count = max(PASS_MIN, min(PASS_MAX, PASS_BYTES // max(1, size)))
    return max(PASS_MIN, count // 5) if quick else count


def messages_of(kind: str, count: int, burst: int = 1) -> int:
    """The messages a counted run's calls are divided by: sent (throughput), or published
    (fan-out: whole bursts)."""
    return count // burst * burst if kind == "fanout" else count


def parse_summary(text: str) -> dict[str, int]:
    """``strace -c`` output -> {system call: calls}, with the ``total`` line's under
    ``"total"``. The ``errors`` column may be empty, so the calls are the fourth field (after
    % time, seconds, usecs/call); lines that are not a call's row are skipped."""
    calls: dict[str, int] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 5 or words[0].startswith(("%", "-")):
            continue
        try:
            float(words[0])
            float(words[1])
            count = int(words[3])
        except ValueError:
            continue
        calls[words[-1]] = calls.get(words[-1], 0) + count
    if calls and "total" not in calls:
        calls["total"] = sum(calls.values())
    return calls


def attached(pid: int) -> bool:
    """Whether every thread of ``pid`` has a tracer (``TracerPid`` in /proc)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in tasks:
        try:
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("TracerPid:") and line.split()[1] == "0":
                return False
    return True


def strace_problem() -> str | None:
    """Why the pass cannot run here (no strace, or ptrace refused), or None."""
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed (apt-get install strace)"
    done = subprocess.run([strace, "-c", "-o", os.devnull, "true"], capture_output=True)
    if done.returncode != 0:
        return f"strace cannot trace here: {done.stderr.decode(errors='replace').strip()[-200:]}"
    return None


def count_run(
    session: SessionLike, variant: Any, count: int, folder: Path
) -> tuple[dict[str, int], int]:
    """One run of ``count`` under ``strace -c -f`` attached to each of ``session``'s
    processes; returns the calls of all of them together, by system call, and how many
    processes were counted. RuntimeError if strace fails."""
    tracers: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for role, proc in session.procs.items():
            out = folder / f"{role}.strace"
            tracer = subprocess.Popen(
                ["strace", "-c", "-f", "-q", "-o", str(out), "-p", str(proc.popen.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            tracers.append((tracer, out))
            deadline = time.monotonic() + ATTACH_TIMEOUT_S
            while not attached(proc.popen.pid):
                if tracer.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"strace did not attach to {role}")
                time.sleep(0.01)
        session.run(count, variant, 120)
    finally:
        for tracer, _ in tracers:
            if tracer.poll() is None:
                tracer.send_signal(signal.SIGINT)
        for tracer, _ in tracers:
            try:
                tracer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                tracer.kill()
                tracer.wait()
    total: dict[str, int] = {}
    for tracer, out in tracers:
        if not out.exists():
            detail = tracer.stderr.read().decode(errors="replace") if tracer.stderr else ""
            raise RuntimeError(f"strace wrote no summary: {detail.strip()[-200:]}")
        for name, n in parse_summary(out.read_text()).items():
            total[name] = total.get(name, 0) + n
        if tracer.stderr:
            tracer.stderr.close()
    return total, len(tracers)


def figure(calls: dict[str, int], messages: int, processes: int) -> dict[str, Any]:
    """A row's JSON entry: calls per message, the total, the messages, and the three most
    frequent calls per message."""
    top = sorted((n, name) for name, n in calls.items() if name != "total")[::-1][:3]
    return {
        "per_message": calls.get("total", 0) / max(1, messages),
        "calls": calls.get("total", 0),
        "messages": messages,
        "processes": processes,
        "top": {name: round(n / max(1, messages), 3) for n, name in top},
    }


def syscall_pass(
    variants: list[Any],
    sessions: Mapping[str, SessionLike],
    quick: bool,
    notes: list[str],
    progress: Callable[[str], None],
) -> dict[tuple[str, str], dict[str, Any]]:
    """Counts every variant's system calls per message for the libraries of
    :data:`SYSCALL_LIBS` that ``sessions`` holds; keyed by (variant name, library). A
    library whose count fails is noted and left without the figure (its processes stay:
    the rounds are over)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    if not variants or variants[0].workload not in WORKLOADS:
        return found
    with tempfile.TemporaryDirectory(prefix="nnbench-strace-") as tmp:
        for v in variants:
            setup = v.setup
            burst = FANOUT_BURST if setup.kind == "fanout" else 1
            count = count_for(setup.kind, v.size, setup.nsubs, burst, quick)
            for lib, session in sessions.items():
                if lib not in SYSCALL_LIBS or (v.only_libs is not None and lib not in v.only_libs):
                    continue
                progress(f"[{v.name}] counting {lib}'s system calls (strace)")
                folder = Path(tmp) / f"{len(found)}-{lib}"
                folder.mkdir()
                try:
                    calls, procs = count_run(session, v, count, folder)
                except Exception as exc:  # a failed count leaves the figure out, noted
                    notes.append(f"{lib}: no system call count for {v.name}: {exc}")
                    continue
                found[(v.name, lib)] = figure(calls, messages_of(setup.kind, count, burst), procs)
    return found


def attach(
    record: dict[str, Any], counted: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    """``record`` with each library's count under ``results[lib]["syscalls"]``."""
    for lib, result in record["results"].items():
        one = counted.get((record["name"], lib))
        if one is not None:
            result["syscalls"] = one
    return record
