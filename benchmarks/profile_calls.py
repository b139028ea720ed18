"""Where a binding's per-call time goes: instruction counts per pingpong iteration under
valgrind's callgrind, for the C floor and any of the Python libraries.

``python benchmarks/profile_calls.py [LIB ...]`` (default: nanomsg_rs) runs the ``pingpong``
worker of each (one thread, PAIR over inproc, 64 B send then recv) twice under callgrind, with
``SMALL`` and ``LARGE`` iterations, and prints the difference divided by the extra iterations:
start-up and imports cancel out, what is left is the cost of one iteration, total and per
function (see ``bench_callgrind.py``). C on the system libnanomsg 1.1.5 always runs, as the
ratios' base; the other C floors can be named like libraries: ``C-hardened`` (the same program
on our libnanomsg: the library's own before and after) and ``C-zmq`` (on libzmq). With
``--subs N`` the workload is the fan-out row's instead (one process: a PUB and N SUBs over ipc,
64 B in bursts, every thread counted, the transports' worker included), per published message.
Needs valgrind and gcc.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench_callgrind import per_iteration, profiling_folder
from bench_libs import NNG_LIB, PYTHON_LIBS
from bench_procs import C_HARDENED_LIB, C_LIB, C_ZMQ_LIB, WORKER, build_c
from bench_workloads import FANOUT_BURST


def run_of(argv: list[str]) -> Callable[[int], tuple[list[str], str]]:
    """The runs of one worker: ``n`` iterations of 64 B, told on its stdin."""
    return lambda n: (argv, f"run {n} 64 recv\nquit\n")


def main(argv: list[str]) -> int:
    """Profiles C and the chosen libraries; prints totals and the top functions."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # the nng build runs only in its own venv (run.py); here nanomsg_rs is what imports
    choices = [lib for lib in PYTHON_LIBS if lib != NNG_LIB] + [C_HARDENED_LIB, C_ZMQ_LIB]
    parser.add_argument("libs", nargs="*", help=f"from {', '.join(choices)}")
    parser.add_argument("--small", type=int, default=10_000, help="iterations of the 1st run")
    parser.add_argument("--large", type=int, default=30_000, help="iterations of the 2nd run")
    parser.add_argument("--top", type=int, default=25, help="functions to list per library")
    parser.add_argument("--subs", type=int, default=0, help="fan-out to this many SUBs instead")
    args = parser.parse_args(argv)
    args.libs = args.libs or ["nanomsg_rs"]
    if args.subs < 0 or args.small % FANOUT_BURST or args.large % FANOUT_BURST:
        parser.error(f"--subs must be >= 0, --small and --large multiples of {FANOUT_BURST}")
    role = ["fanout", "ipc:///tmp/nnprof-fanout", str(args.subs), str(FANOUT_BURST)]
    role = role if args.subs else ["pingpong", "inproc://profile"]
    what = f"64 B published to {args.subs} SUBs" if args.subs else "64 B send + recv"
    for lib in args.libs:
        if lib not in choices:
            parser.error(f"unknown library {lib!r}; choose from {', '.join(choices)}")
    with profiling_folder("nnprof-", build_c) as (folder, c_binary, _):
        totals: dict[str, float] = {}
        for lib in [C_LIB, *args.libs]:
            if lib == C_LIB:
                command = [str(c_binary), *role]
            elif lib in (C_HARDENED_LIB, C_ZMQ_LIB):
                binary, why = build_c(folder, lib)
                if binary is None:
                    print(f"\n{lib}: left out ({why})")
                    continue
                command = [str(binary), *role]
            else:
                command = [sys.executable, str(WORKER), lib, *role]
            profile = per_iteration(run_of(command), args.small, args.large, folder)
            costs, total = profile.own_by_function(), profile.total
            totals[lib] = total
            print(f"\n{lib}: {total:,.0f} instructions per iteration ({what})")
            for name, cost in sorted(costs.items(), key=lambda kv: -kv[1])[: args.top]:
                if cost >= 1:
                    print(f"  {cost:8.0f}  {name[:110]}")
        print("\ninstructions per iteration, ratio to C:")
        for lib, total in totals.items():
            print(f"  {lib:<12} {total:10,.0f}  {total / totals[C_LIB]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
