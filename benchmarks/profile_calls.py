"""Where a binding's per-call time goes: instruction counts per pingpong iteration under
valgrind's callgrind, for the C floor and any of the Python libraries.

``python benchmarks/profile_calls.py [LIB ...]`` (default: nanomsg_rs) runs the ``pingpong``
worker of each (one thread, PAIR over inproc, 64 B send then recv) twice under callgrind, with
``SMALL`` and ``LARGE`` iterations, and prints the difference divided by the extra iterations:
start-up and imports cancel out, what is left is the cost of one iteration, total and per
function. Instruction counts do not depend on the machine's load, unlike the timings of
``run.py``; they do not see time spent waiting in the kernel.

Needs valgrind (``apt-get install valgrind``) and gcc.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_libs import NNG_LIB, PYTHON_LIBS
from bench_procs import C_LIB, WORKER, build_c

_LINE = re.compile(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)")


def callgrind(argv: list[str], iterations: int, out: Path) -> dict[str, int]:
    """Runs one pingpong worker under callgrind; returns self instructions per function."""
    script = f"run {iterations} 64 recv\nquit\n"
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
        input=script,
        capture_output=True,
        text=True,
        check=True,
    )
    report = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    costs: dict[str, int] = {}
    for line in report.splitlines():
        m = _LINE.match(line)
        if m:
            name = short_name(m.group(2))
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def short_name(symbol: str) -> str:
    """``path/file.c:func [/lib/libx.so]`` -> ``func [libx.so]``."""
    symbol = symbol.strip()
    lib = ""
    if symbol.endswith("]") and " [" in symbol:
        symbol, lib = symbol[:-1].rsplit(" [", 1)
        lib = f" [{Path(lib).name}]"
    return symbol.rsplit(":", 1)[-1] + lib


def per_iteration(argv: list[str], small: int, large: int, folder: Path) -> dict[str, float]:
    """Instructions per iteration, per function (and ``PROGRAM TOTALS``)."""
    a = callgrind(argv, small, folder / "small.out")
    b = callgrind(argv, large, folder / "large.out")
    extra = large - small
    return {k: (b.get(k, 0) - a.get(k, 0)) / extra for k in set(a) | set(b)}


def main(argv: list[str]) -> int:
    """Profiles C and the chosen libraries; prints totals and the top functions."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # the nng build runs only in its own venv (run.py); here nanomsg_rs is what imports
    choices = [lib for lib in PYTHON_LIBS if lib != NNG_LIB]
    parser.add_argument("libs", nargs="*", help=f"from {', '.join(choices)}")
    parser.add_argument("--small", type=int, default=10_000, help="iterations of the 1st run")
    parser.add_argument("--large", type=int, default=30_000, help="iterations of the 2nd run")
    parser.add_argument("--top", type=int, default=25, help="functions to list per library")
    args = parser.parse_args(argv)
    args.libs = args.libs or ["nanomsg_rs"]
    for lib in args.libs:
        if lib not in choices:
            parser.error(f"unknown library {lib!r}; choose from {', '.join(choices)}")
    if shutil.which("valgrind") is None:
        print("valgrind not found: apt-get install valgrind", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="nnprof-") as tmp:
        folder = Path(tmp)
        c_binary, why = build_c(folder)
        if c_binary is None:
            print(why, file=sys.stderr)
            return 1
        totals: dict[str, float] = {}
        for lib in [C_LIB, *args.libs]:
            if lib == C_LIB:
                command = [str(c_binary), "pingpong", "inproc://profile"]
            else:
                command = [sys.executable, str(WORKER), lib, "pingpong", "inproc://profile"]
            costs = per_iteration(command, args.small, args.large, folder)
            total = costs.pop("PROGRAM TOTALS", sum(costs.values()))
            totals[lib] = total
            print(f"\n{lib}: {total:,.0f} instructions per iteration (64 B send + recv)")
            for name, cost in sorted(costs.items(), key=lambda kv: -kv[1])[: args.top]:
                if cost >= 1:
                    print(f"  {cost:8.0f}  {name[:110]}")
        print("\ninstructions per iteration, ratio to C:")
        for lib, total in totals.items():
            print(f"  {lib:<12} {total:10,.0f}  {total / totals[C_LIB]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
