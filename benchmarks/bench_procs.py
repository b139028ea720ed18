"""Worker processes: starting them, talking to them line by line, building the C floors.

Every workload party, whether a Python library's (``bench_worker.py``) or the C program's
(``c/nnbench.c``, built on libnanomsg and on nng's nanomsg-compatible API), is a process that
prints ``ready``, answers ``run COUNT SIZE MODE`` with ``ok ELAPSED_NS`` or ``err TEXT``, and
exits on ``quit``.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
C_SOURCE = BENCH_DIR / "c" / "nnbench.c"
#: The same workloads written on libzmq: the floor under pyzmq.
ZMQ_SOURCE = BENCH_DIR / "c" / "zmqbench.c"
#: Prints how to link the hardened libnanomsg archive the installed wheel links.
LINK_FLAGS = BENCH_DIR.parent / "nanomsg" / "link-flags"
WORKER = BENCH_DIR / "bench_worker.py"

#: The name the C program's results go under: on the system libnanomsg 1.1.5, every ratio's
#: reference.
C_LIB = "C"
#: The same C program on our hardened libnanomsg (the very archive the wheel links): it must
#: run at C's speed.
C_HARDENED_LIB = "C-hardened"
#: The same C program built on nng's nanomsg-compatible API: the floor of ``nanomsg_rs-nng``.
C_NNG_LIB = "C-nng"
#: ``c/zmqbench.c`` on the system libzmq (Debian's libzmq3-dev): the floor under pyzmq, and
#: the rate of ZeroMQ's class that issue 25 aims at.
C_ZMQ_LIB = "C-zmq"
C_LIBS = (C_LIB, C_HARDENED_LIB, C_NNG_LIB, C_ZMQ_LIB)


class WorkerError(RuntimeError):
    """A worker failed: it died, timed out, or answered ``err``."""


class Proc:
    """One worker process, with its stdout read by a thread so replies can time out."""

    def __init__(self, argv: list[str], name: str, env: dict[str, str] | None = None) -> None:
        """Starts ``argv``; ``env``: variables set for it on top of this process's."""
        self.name = name
        self.ready = False
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.popen = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
            cwd=BENCH_DIR,
            env=None if env is None else {**os.environ, **env},
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, name=f"read-{name}", daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self._lines.put(line.strip())
        self._lines.put(None)

    def stderr_tail(self, lines: int = 3) -> str:
        """The last lines the process wrote to stderr, on one line."""
        self._stderr.seek(0)
        tail = [ln.strip() for ln in self._stderr.read().splitlines() if ln.strip()][-lines:]
        return " | ".join(tail)

    def send(self, line: str) -> None:
        """Writes one command line."""
        assert self.popen.stdin is not None
        try:
            self.popen.stdin.write(line + "\n")
            self.popen.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerError(f"{self.name} is gone: {self.stderr_tail() or exc}") from exc

    def reply(self, timeout: float) -> str:
        """The next line the process prints; WorkerError if it dies, times out, or says
        ``err``."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise WorkerError(f"{self.name} did not answer within {timeout:.0f} s") from None
        if line is None:
            self.popen.wait()
            detail = self.stderr_tail() or f"exit status {self.popen.returncode}"
            raise WorkerError(f"{self.name} died: {detail}")
        if line.startswith("err"):
            raise WorkerError(f"{self.name}: {line[4:]}")
        return line

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Waits for the ``ready`` line (at once if it came already)."""
        if self.ready:
            return
        line = self.reply(timeout)
        if line != "ready":
            raise WorkerError(f"{self.name} said {line!r} instead of ready")
        self.ready = True

    def threads(self) -> list[int]:
        """The ids of the process's threads now (its main thread's is its pid)."""
        return [int(task.name) for task in Path(f"/proc/{self.popen.pid}/task").iterdir()]

    def set_cpus(self, cpus: set[int]) -> None:
        """Lets every thread of the process run only on ``cpus``; the threads it starts later
        inherit that."""
        for tid in self.threads():
            os.sched_setaffinity(tid, cpus)

    def stop(self) -> None:
        """Asks the process to quit, and kills it if it does not."""
        if self.popen.poll() is None:
            try:
                self.send("quit")
                self.popen.wait(timeout=3)
            except (WorkerError, subprocess.TimeoutExpired):
                self.popen.kill()
                self.popen.wait()
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None:
                pipe.close()
        self._stderr.close()

    def kill(self) -> None:
        """Ends the process at once (the rep role never reads its stdin)."""
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        self.stop()


def worker_argv(lib: str, programs: dict[str, Path], args: list[str]) -> list[str]:
    """The command line of a worker for ``lib``: for a C floor (:data:`C_LIBS`) its binary in
    ``programs``; for a Python library :data:`WORKER` run by ``programs[lib]`` if given (the
    nng build's venv), else by this interpreter."""
    if lib in C_LIBS:
        return [str(programs[lib]), *args]
    return [str(programs.get(lib, sys.executable)), str(WORKER), lib, *args]


def hardened_archive() -> tuple[list[str], str]:
    """The gcc arguments that link the hardened libnanomsg of the last ``make wheel`` (its
    static archive and headers, from ``nanomsg/link-flags``); or ([], why not)."""
    env = dict(os.environ)
    if "CARGO_TARGET_DIR" in env:  # the build the extension came from
        env.setdefault("TARGET_DIR", env["CARGO_TARGET_DIR"])
    done = subprocess.run([str(LINK_FLAGS)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return [], done.stderr.strip()
    return done.stdout.split(), ""


def build_c(
    out_dir: Path, floor: str = C_LIB, source: Path = C_SOURCE, debug: bool = False
) -> tuple[Path | None, str]:
    """Compiles a C program (the workloads' ``c/nnbench.c``, or another ``source`` such as
    the profiles' ``c/nnlayers.c``) with gcc for ``floor``: on the system libnanomsg
    (``C``), on our hardened one (``C-hardened``) or on nng's nanomsg-compatible API
    (``C-nng``); for ``C-zmq``, the workloads' ``c/zmqbench.c`` on libzmq; with ``debug``,
    with debug information (for callgrind). Returns (binary, "") or (None, why not)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        return None, f"gcc not found: {floor} (and every ratio to it) is left out"
    if floor == C_ZMQ_LIB and source == C_SOURCE:
        source = ZMQ_SOURCE
    if floor == C_HARDENED_LIB:
        flags, why = hardened_archive()
        if not flags:
            return None, f"{floor} left out: {why}"
    else:
        package, flags = {
            C_NNG_LIB: ("nng", ["-lnng"]),
            C_ZMQ_LIB: ("libzmq", ["-lzmq"]),
        }.get(floor, ("nanomsg", ["-lnanomsg"]))
        if shutil.which("pkg-config"):
            probe = subprocess.run(
                ["pkg-config", "--cflags", "--libs", package], capture_output=True, text=True
            )
            if probe.returncode == 0 and probe.stdout.strip():
                flags = probe.stdout.split()
    binary = out_dir / f"{source.stem}-{floor}"
    defines = ["-DNNBENCH_NNG"] if floor == C_NNG_LIB else []
    defines += ["-g"] if debug else []
    cmd = [gcc, "-O2", "-std=c11", "-Wall", *defines, "-o", str(binary), str(source), *flags]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return None, f"gcc failed to build {floor}: {done.stderr.strip()[-300:]}"
    return binary, ""


def gcc_version() -> str:
    """gcc's version line, or "" without gcc."""
    if shutil.which("gcc") is None:
        return ""
    out = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else ""


def import_problem(module: str) -> str | None:
    """None if ``module`` imports in a fresh interpreter; otherwise the error's last line."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=BENCH_DIR,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if done.returncode == 0:
        return None
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit status {done.returncode}"
