"""Does the worker thread's scheduling policy change what a stream costs when each process's
threads share one CPU? PUSH to PULL over ipc (benchmarks/c/nnbench.c on a build of
libnanomsg, or a Python library's worker, as `floor_ab.py` runs them), both processes pinned
to a CPU each (`floor_ab.py`'s split placement), and every thread but each process's main one
(libnanomsg's worker; a Python library's I/O threads) left as it is (``other``) or set to
``SCHED_BATCH`` after a warm-up run (``batch``: a woken batch thread does not preempt the
thread running on its CPU). The arms are interleaved, each on a connection of its own.

    python3 benchmarks/c/worker_policy.py --size 256 --rounds 6 hardened nanomsg_rs

Prints, for each library and policy, msg/s at the PULL and, a message for each process
(medians), its CPU time and its voluntary and involuntary context switches.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
from pathlib import Path

from floor_ab import PYTHON_LIBS, Pair, build, size_arg

POLICIES = {"other": os.SCHED_OTHER, "batch": os.SCHED_BATCH}


def set_threads(pair: Pair, policy: int) -> None:
    """Sets ``policy`` on every thread of both processes but each one's main thread."""
    for proc in (pair.pull, pair.push):
        for tid in proc.threads():
            if tid != proc.popen.pid:
                os.sched_setscheduler(tid, policy, os.sched_param(0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("libs", nargs="+", help="hardened, system, DIR or a Python library")
    parser.add_argument("--size", type=size_arg, default=256, help="message size (256)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--count", type=int, default=100_000, help="messages a sample")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="worker-policy-") as tmp:
        folder = Path(tmp)
        programs: list[Path | str] = [
            lib if lib in PYTHON_LIBS else build(lib, folder / f"nnbench{i}")
            for i, lib in enumerate(args.libs)
        ]
        arms = [(i, policy) for i in range(len(programs)) for policy in POLICIES]
        pairs = {}
        for n, (i, policy) in enumerate(arms):
            pair = Pair(programs[i], f"ipc://{folder}/s{n}")
            pair.place("split")
            pair.run(20_000, args.size, "recv")  # the worker threads have started
            set_threads(pair, POLICIES[policy])
            pairs[(i, policy)] = pair
        samples: dict[tuple[int, str], list[tuple[float, ...]]] = {arm: [] for arm in arms}
        for _ in range(args.rounds):
            for arm in random.sample(arms, len(arms)):
                samples[arm].append(pairs[arm].run(args.count, args.size, "recv"))
        for pair in pairs.values():
            pair.close()
    print(f"{args.size} B, recv, split placement, {args.rounds} rounds of {args.count} messages")
    for (i, policy), got in samples.items():

        def med(k: int, got: list[tuple[float, ...]] = got) -> float:
            return statistics.median(s[k] for s in got)

        print(
            f"{args.libs[i]}, other threads {policy}: {med(0):,.0f} msg/s; PULL {med(1):.2f} µs,"
            f" switches {med(3):.4f}/{med(4):.4f}; PUSH {med(5):.2f} µs, switches"
            f" {med(7):.4f}/{med(8):.4f} (CPU time and voluntary/involuntary context"
            " switches a message)"
        )


if __name__ == "__main__":
    main()
