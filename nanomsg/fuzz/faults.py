#!/usr/bin/env python3
"""The fault-injection sweep: faults.c's scenario once for each call that can fail, as SQLite
tests its allocation failures.

For each kind of call (malloc, eventfd, socket, accept, epoll_create, epoll_ctl, thread) the
k-th call fails (mode once), for k = 1, 2, ... until a run has no k-th call; then the same
with every call from the k-th on failing until the scenario's first pass ends (mode persist:
out of memory or descriptors for good; "fd" is every call that makes a descriptor). A run
passes when it exits 0: every call worked or failed with an out-of-resources error, the
messages got through where they had to, the second pass (nothing failing) worked, no
sanitizer report, no leak. An abort, a report, a leak, a wrong error or a hang (TIMEOUT s) is
a finding: the sweep prints it, where the fault was injected and the end of the run's
output, and exits 1.

    faults.py BINARY                          every kind, both modes
    faults.py BINARY --kinds malloc,socket    only these kinds (both modes)
    faults.py BINARY --modes once             only this mode
    faults.py BINARY --first                  stop at the first finding (nanomsg/prove)
    faults.py --symbols                       the library's calls that faults.c wraps (for
                                              objcopy --redefine-sym, see the Makefile)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

# The library's calls that faults.c wraps: objcopy renames them to nnfault_* in the
# sanitizer build's archive (the Makefile's faults target, nanomsg/prove).
SYMBOLS = [
    "malloc",
    "realloc",
    "eventfd",
    "socket",
    "accept4",
    "accept",
    "epoll_create1",
    "epoll_ctl",
    "pthread_create",
]
SWEEPS = [
    ("once", ["malloc", "eventfd", "socket", "accept", "epoll_create", "epoll_ctl", "thread"]),
    ("persist", ["malloc", "fd", "epoll_ctl", "thread"]),
]
TIMEOUT = 15
# a run past this many calls is a runaway loop of the library's (one of faults.c's passes
# makes a few hundred calls of any kind)
MAX_K = 5000
# runs at once (NNFAULT_JOBS to change it): a run takes ~0.3 s, nearly all of it waiting
JOBS = int(os.environ.get("NNFAULT_JOBS", "8"))


def run(binary: str, kind: str, mode: str, k: int) -> tuple[str, str, str]:
    """(verdict, where the fault was injected, output) of one run; verdict is "ok", "none"
    (no k-th call: the sweep is over) or what went wrong."""
    env = {
        **os.environ,
        "NNFAULT_KINDS": kind,
        "NNFAULT_AT": str(k),
        "NNFAULT_MODE": mode,
        "NNFAULT_DIR": SCRATCH,
    }
    try:
        done = subprocess.run(
            [binary], env=env, capture_output=True, text=True, timeout=TIMEOUT, errors="replace"
        )
    except subprocess.TimeoutExpired as e:
        out = "".join(
            x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
            for x in (e.stdout, e.stderr)
        )
        return f"hung ({TIMEOUT} s)", injected_at(out), out
    out = done.stdout + done.stderr
    last = re.findall(r"^faults: calls=(\d+) injected=(\d+)(?: at (.*))?$", done.stdout, re.M)
    if done.returncode == 0 and last:
        _calls, injected, where = last[-1]
        return ("ok" if int(injected) > 0 else "none"), where, out
    return why(done.returncode, out), injected_at(out), out


def injected_at(out: str) -> str:
    """Where the run's fault was injected: the first frames in the library of the stack that
    faults.c prints then (its own and the allocator's left out)."""
    stack = out.split("fails here:", 1)[-1] if "fails here:" in out else ""
    frames = re.findall(r"#\d+ 0x[0-9a-f]+ in (\w+) \S*?(src/[\w./-]+:\d+)", stack)
    frames = [f"{fn} {where}" for fn, where in frames if not where.startswith("src/utils/alloc.c")]
    return " < ".join(frames[:4])


def why(status: int, out: str) -> str:
    # the library's own assertion (nn_assert, alloc_assert, errno_assert print "... (FILE:LINE)")
    # before the sanitizer's summary of the abort that follows it
    for pattern in (
        r"faults: (FAILED[^\n]*)",
        r"\n([^\n]*\((?:src/)?[\w./-]+\.(?:c|inc|h):\d+\))",
        r"runtime error: ([^\n]{0,80})",
        r"SUMMARY: \w+Sanitizer: ([^\n]+)",
    ):
        found = re.findall(pattern, out)
        if found:
            return found[-1].strip()
    return f"signal {-status}" if status < 0 else f"exit {status}"


def sweep(binary: str, kind: str, mode: str, first: bool) -> tuple[int, list[str]]:
    """Runs k = 1, 2, ... for one kind and mode: (runs, findings).

    A run mostly waits (a connection, a timer) and uses little CPU, so JOBS runs of
    consecutive k go at once; their results are read in k's order, as if run one by one
    (the runs past the first one with no k-th call, or past the first finding with `first`,
    are thrown away). Each run has its own ipc path and ports (faults.c names them by pid).
    """
    findings = []
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        for window in range(1, MAX_K + 1, JOBS):
            ks = range(window, min(window + JOBS, MAX_K + 1))
            results = list(pool.map(lambda k: run(binary, kind, mode, k), ks))
            for k, (verdict, where, out) in zip(ks, results, strict=True):
                if verdict == "none":
                    return k - 1, findings
                if verdict != "ok":
                    # where the fault was: the injected call's stack from the sanitizer's
                    # report is in `out`; the run's own report line is missing when it died
                    tail = "\n".join("    " + line for line in out.strip().splitlines()[-25:])
                    findings.append(
                        f"{kind} {mode} k={k}: {verdict}\n  injected at {where}\n{tail}"
                    )
                    print(
                        f"  FINDING {kind} {mode} k={k}: {verdict}\n    injected at {where}",
                        flush=True,
                    )
                    if first:
                        return k, findings
    findings.append(f"{kind} {mode}: still injecting at k={MAX_K}")
    return MAX_K, findings


SCRATCH = ""


def main() -> int:
    global SCRATCH
    if sys.argv[1:] == ["--symbols"]:
        print(" ".join(SYMBOLS))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--kinds", help="comma-separated kinds (default: all)")
    parser.add_argument("--modes", help="once, persist or both (default)")
    parser.add_argument("--first", action="store_true", help="stop at the first finding")
    args = parser.parse_args()
    kinds = set(args.kinds.split(",")) if args.kinds else None
    modes = set(args.modes.split(",")) if args.modes else None

    start = time.monotonic()
    # the runs' ipc socket files, even those a dying run leaves
    scratch = tempfile.TemporaryDirectory(prefix="nnfaults-")
    SCRATCH = scratch.name
    findings: list[str] = []
    print(f"{'mode':<8} {'kind':<13} {'runs':>5} {'findings':>8} {'seconds':>8}")
    for mode, mode_kinds in SWEEPS:
        if modes and mode not in modes:
            continue
        for kind in mode_kinds:
            if kinds and kind not in kinds:
                continue
            t = time.monotonic()
            runs, found = sweep(args.binary, kind, mode, args.first)
            print(
                f"{mode:<8} {kind:<13} {runs:>5} {len(found):>8} {time.monotonic() - t:>8.1f}",
                flush=True,
            )
            findings += found
            if found and args.first:
                break
        if findings and args.first:
            break
    for f in findings:
        print("\n" + f)
    took = time.monotonic() - start
    if findings:
        print(f"\nfaults: {len(findings)} finding(s) in {took:.0f} s")
        return 1
    print(f"faults: every injected failure ended cleanly ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
