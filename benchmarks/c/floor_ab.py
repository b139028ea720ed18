"""An interleaved A/B of the C floor (nnbench.c) on two or more builds of libnanomsg, PUSH to
PULL over ipc, in the context `run.py` measures in: one connection per build for the whole run
(run.py runs every ipc throughput size on one pair of processes per library), each round
running the sizes from 16 B up to the measured one on it, the builds in a new random order
each round. A fresh connection (``--fresh``) is the other context: a new pair of processes
for each sample, nothing sent before. ``--placements free,split,same`` measures each build
with its two processes where the scheduler puts them (free), pinned to a CPU each (split:
the PULL on the last CPU, the PUSH on the first, every thread of each) and both on the first
CPU (same), the placements interleaved like the builds; a Python library's name (e.g.
``nanomsg_rs``, ``pyzmq``) runs its benchmark worker instead of a C build.

    python3 benchmarks/c/floor_ab.py system hardened            # 64 KiB, recv, 20 rounds
    python3 benchmarks/c/floor_ab.py --size 256KiB --mode into --rounds 30 system DIR
    python3 benchmarks/c/floor_ab.py --placements free,split,same --rounds 8 system hardened

A build is `hardened` (the archive of the last `make wheel`, nanomsg/link-flags), `system`
(the system's libnanomsg-dev) or DIR (a libnanomsg.a and its include/nanomsg/), as for
`rates.sh`. Prints, for each, msg/s at the PULL (median, quartiles, every sample, ratio to
the first build) and, a message for each process (medians), its CPU time, page faults and
context switches (voluntary and involuntary, summed over its threads). On this shared
2-vCPU machine the samples move by half between sittings: compare builds within one run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_libs import PYTHON_LIBS  # benchmarks/, whose modules run.py shares
from bench_procs import Proc, worker_argv

HERE = Path(__file__).resolve().parent
KIB = 1024
TIMEOUT = 120.0  # seconds a run may take before the worker counts as hung
# messages a run at each size on the way up (about 0.1-0.3 s each here)
WARM = {
    16: 100_000,
    64: 100_000,
    256: 80_000,
    1024: 60_000,
    4096: 40_000,
    16384: 30_000,
    65536: 10_000,
    262144: 2_500,
    1048576: 600,
}


def size_arg(text: str) -> int:
    """``64KiB``, ``1MiB`` or a number of bytes."""
    units = {"KiB": KIB, "MiB": KIB * KIB}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(text[: -len(suffix)]) * factor
    return int(text)


def build(lib: str, out: Path) -> Path:
    """nnbench compiled on ``lib`` (build.sh's build_nnbench)."""
    subprocess.run(
        ["bash", "-c", f'. "{HERE}/build.sh" && build_nnbench "$0" "$1"', lib, str(out)],
        check=True,
    )
    return out


def counters(proc: Proc) -> tuple[int, int, int]:
    """A worker process's page faults so far (minor and major), and its threads' voluntary and
    involuntary context switches (the live threads': a thread that ended takes its own)."""
    pid = proc.popen.pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    faults = int(fields[7]) + int(fields[9])  # minflt, majflt (fields 10 and 12 of stat)
    switches = [0, 0]
    for tid in proc.threads():
        try:
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                switches[0] += int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                switches[1] += int(line.split()[1])
    return faults, switches[0], switches[1]


#: where each placement puts the PULL and the PUSH: all CPUs (None), or the first or last one
PLACEMENTS: dict[str, tuple[str | None, str | None]] = {
    "free": (None, None),
    "split": ("last", "first"),
    "same": ("first", "first"),
}


class Pair:
    """A PULL and a PUSH process of one build (a C program, or a Python library's worker),
    connected over ipc, driven by run.py's line protocol (benchdriver.h) through its
    :class:`bench_procs.Proc`."""

    def __init__(self, program: Path | str, address: str) -> None:
        def argv(role: str) -> list[str]:
            if isinstance(program, str):  # a Python library
                return worker_argv(program, {}, [role, address])
            return [str(program), role, address]

        name = program if isinstance(program, str) else program.name
        self.pull = Proc(argv("pull"), f"{name} pull")
        self.pull.wait_ready()
        self.push = Proc(argv("push"), f"{name} push")
        self.push.wait_ready()

    def place(self, placement: str) -> None:
        """Sets every thread of both processes where ``placement`` (:data:`PLACEMENTS`) says;
        threads started later inherit it."""
        cpus = sorted(os.sched_getaffinity(0))
        for proc, where in zip((self.pull, self.push), PLACEMENTS[placement], strict=True):
            proc.set_cpus(
                set(cpus) if where is None else {cpus[0] if where == "first" else cpus[-1]}
            )

    def run(self, count: int, size: int, mode: str) -> tuple[float, ...]:
        """msg/s at the PULL, then for each side (PULL, PUSH) a message: CPU µs, page faults
        (minor and major), voluntary and involuntary context switches (every thread)."""
        before = [counters(p) for p in (self.pull, self.push)]
        for proc in (self.pull, self.push):
            proc.send(f"run {count} {size} {mode}")
        _, elapsed, pull_cpu = self.pull.reply(TIMEOUT).split()
        _, _, push_cpu = self.push.reply(TIMEOUT).split()
        after = [counters(p) for p in (self.pull, self.push)]
        per_side = []
        for cpu, b, a in zip((pull_cpu, push_cpu), before, after, strict=True):
            per_side += [
                int(cpu) / 1e3 / count,
                *((y - x) / count for x, y in zip(b, a, strict=True)),
            ]
        return (count / (int(elapsed) / 1e9), *per_side)

    def close(self) -> None:
        self.push.stop()
        self.pull.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "libs",
        nargs="+",
        help="hardened, system, DIR or a Python library; two or more "
        "unless --placements names several",
    )
    parser.add_argument("--size", type=size_arg, default=64 * KIB, help="measured size (64KiB)")
    parser.add_argument("--mode", choices=("recv", "into", "msg"), default="recv")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--count", type=int, help="messages a sample (about 0.2 s' worth)")
    parser.add_argument("--fresh", action="store_true", help="a new connection each sample")
    parser.add_argument(
        "--upto",
        type=size_arg,
        help="after each sample, the larger sizes up to this one (run.py: 1MiB)",
    )
    parser.add_argument(
        "--placements",
        default="free",
        help="comma-separated, from free, split, same (default free: the scheduler's)",
    )
    args = parser.parse_args()
    placements = args.placements.split(",")
    if any(p not in PLACEMENTS for p in placements):
        parser.error(f"--placements: choose from {', '.join(PLACEMENTS)}")
    count = args.count or max(500, min(100_000, 640 * KIB * KIB // args.size))
    warm = [(s, n) for s, n in WARM.items() if s < args.size]
    after = [(s, n) for s, n in WARM.items() if args.size < s <= (args.upto or 0)]
    with tempfile.TemporaryDirectory(prefix="floor-ab-") as tmp:
        folder = Path(tmp)
        programs: list[Path | str] = [
            lib if lib in PYTHON_LIBS else build(lib, folder / f"nnbench{i}")
            for i, lib in enumerate(args.libs)
        ]
        address = [f"ipc://{folder}/s{i}" for i in range(len(programs))]
        pairs = [None if args.fresh else Pair(p, a) for p, a in zip(programs, address, strict=True)]
        arms = [(i, placement) for i in range(len(programs)) for placement in placements]
        samples: list[list[tuple[float, ...]]] = [[] for _ in arms]
        for _ in range(args.rounds):
            order = list(range(len(arms)))
            random.shuffle(order)
            for arm in order:
                i, placement = arms[arm]
                pair = pairs[i] or Pair(programs[i], address[i])
                pair.place(placement)
                if not args.fresh:
                    for size, n in warm:
                        pair.run(n, size, args.mode)
                samples[arm].append(pair.run(count, args.size, args.mode))
                if not args.fresh:
                    for size, n in after:
                        pair.run(n, size, args.mode)
                if pairs[i] is None:
                    pair.close()
        for kept in pairs:
            if kept is not None:
                kept.close()
    base = statistics.median(s[0] for s in samples[0])
    context = (
        "a fresh connection a sample"
        if args.fresh
        else f"one connection, sizes up to it{' and on to ' + str(args.upto) if args.upto else ''}"
    )
    print(f"{args.size} B, {args.mode}, {args.rounds} rounds of {count} messages ({context})")
    for (i, placement), got in zip(arms, samples, strict=True):
        lib = args.libs[i] + (f" ({placement})" if len(placements) > 1 else "")
        rates = sorted(s[0] for s in got)
        n = len(rates)
        median = statistics.median(rates)
        pull, pull_faults, pull_vol, pull_invol = (
            statistics.median(s[k] for s in got) for k in (1, 2, 3, 4)
        )
        push, push_faults, push_vol, push_invol = (
            statistics.median(s[k] for s in got) for k in (5, 6, 7, 8)
        )
        print(
            f"{lib}: {median:,.0f} msg/s ({median / base:.2f}), quartiles {rates[n // 4]:,.0f}"
            f"-{rates[3 * n // 4]:,.0f}; CPU µs a message: PULL {pull:.2f}, PUSH {push:.2f};"
            f" page faults a message: PULL {pull_faults:.2f}, PUSH {push_faults:.2f};"
            f" context switches a message (voluntary/involuntary): PULL {pull_vol:.4f}/"
            f"{pull_invol:.4f}, PUSH {push_vol:.4f}/{push_invol:.4f}"
        )
        print("   samples (k):", " ".join(f"{s[0] / 1000:.0f}" for s in got))


if __name__ == "__main__":
    main()
