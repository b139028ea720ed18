"""An interleaved A/B of the one-thread fan-out (``run.py``'s fan-out row: one thread
publishes bursts of 8 messages of 64 B over ipc to N SUBs of its own and receives each burst
from every SUB before the next), each variant in a process of its own kept for the whole run,
the variants in a new random order each round.

A variant is ``system`` or ``hardened`` (nnbench.c on that libnanomsg, as ``rates.sh``
builds it), a Python library's name (its benchmark worker, ``bench_worker.py``), or either
with environment settings after a colon: ``nanomsg_rs:NANOMSG_RS_SPIN_US=0``.

    python3 benchmarks/c/fanout_ab.py --subs 2 --rounds 8 system nanomsg_rs \\
        nanomsg_rs:NANOMSG_RS_SPIN_US=0

Prints, for each variant, deliveries a second (median, range, every round) and the CPU time
of a delivery (median). On this shared 2-vCPU machine the samples move between sittings:
compare variants within one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_libs import PYTHON_LIBS  # benchmarks/, whose modules run.py shares
from bench_procs import Proc, worker_argv
from floor_ab import build

BURST = 8
#: How long a sample may take before the worker counts as hung (seconds).
SAMPLE_TIMEOUT = 120


def start(spec: str, tmp: Path, subs: int, index: int) -> Proc:
    """The process of one variant, set up and ready."""
    lib, _, settings = spec.partition(":")
    env = {}
    for setting in filter(None, settings.split(",")):
        name, _, value = setting.partition("=")
        env[name] = value
    args = ["fanout", f"ipc://{tmp}/fanout-{index}", str(subs), str(BURST)]
    if lib in PYTHON_LIBS:
        argv = worker_argv(lib, {}, args)
    else:
        argv = [str(build(lib, tmp / f"nnbench-{index}")), *args]
    proc = Proc(argv, spec, env)
    proc.wait_ready()
    return proc


def sample(proc: Proc, count: int, subs: int) -> tuple[float, float]:
    """One run of ``count`` messages: deliveries a second, CPU microseconds a delivery."""
    proc.send(f"run {count} 64 recv")
    words = proc.reply(SAMPLE_TIMEOUT).split()
    deliveries = count * subs
    return deliveries / (int(words[1]) / 1e9), int(words[2]) / 1e3 / deliveries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--subs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--count", type=int, default=40_000, help="messages a sample")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        procs = [start(v, Path(tmp), args.subs, i) for i, v in enumerate(args.variants)]
        for proc in procs:  # a warm-up sample each, not counted
            sample(proc, args.count, args.subs)
        results: list[list[tuple[float, float]]] = [[] for _ in procs]
        for _ in range(args.rounds):
            for i in random.sample(range(len(procs)), len(procs)):
                results[i].append(sample(procs[i], args.count, args.subs))
        for proc in procs:
            proc.stop()
    for spec, got in zip(args.variants, results, strict=True):
        rates = [r for r, _ in got]
        cpu = statistics.median(c for _, c in got)
        print(
            f"{spec:40} N={args.subs} {statistics.median(rates) / 1e3:6.0f}k "
            f"[{min(rates) / 1e3:.0f}-{max(rates) / 1e3:.0f}k] {cpu:.2f} us CPU a delivery; "
            + " ".join(f"{r / 1e3:.0f}" for r in rates)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
