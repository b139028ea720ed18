"""The nanomsg-rs benchmark suite: ``python benchmarks/run.py`` (``make bench``).

Runs every workload for nanomsg_rs, nnpy, nanomsg, pynng, pyzmq and a C program on libnanomsg
(compiled here with gcc: the floor; ``C`` on the system's libnanomsg 1.1.5, ``C-hardened`` on
ours) and its twin on libzmq (``C-zmq``, ``c/zmqbench.c``: the floor under pyzmq), prints a
table of medians, min-max spreads and ratios to C with the team's targets and issue 25's
(:mod:`bench_goals`), and writes ``benchmarks/results.json`` and ``benchmarks/results.png``.

Both backends of nanomsg_rs run side by side: ``nanomsg_rs-nng`` is the same binding built on
nng's nanomsg-compatible API (built from the working tree into a private venv by
:mod:`bench_nng`; left out with a note when libnng-dev or the build is missing, or with
``--no-nng``), and ``C-nng`` the same C program compiled on that API, its own floor: its row
gets a second ratio, to ``C-nng``, besides the ratio to C on libnanomsg that every row has.

Workloads (``--only NAME``, repeatable or comma-separated):

* ``pingpong``: one thread, PAIR over inproc, send then recv of 64 B: per-call overhead;
* ``throughput``: PUSH to PULL over ipc between two processes, a row per message size from
  16 B to 1 MiB (``--sizes`` or ``BENCH_SIZES``), each received with ``recv`` by every
  library and with ``recv_into`` and the zero-copy ``recv_msg`` by nanomsg_rs (and by C,
  with the same operation on libnanomsg); with the 64 B row, two rows of its own where
  nanomsg_rs sends with ``send_many`` and receives with ``recv_many`` in batches of 64 and
  256 (``--quick``: 64 only), against C sending and receiving one message per call, and
  one more, the same 64 B over tcp loopback with ``recv`` by every library;
* ``latency``: REQ/REP round trips of 64 B over tcp loopback between two processes;
* ``fanout``: one PUB to N SUB sockets over ipc, N from 1 to 256 (``--subs`` or
  ``BENCH_SUBS``), published in bursts and received by every SUB, in one process and one
  thread: messages delivered per second, in total and per SUB;
* ``async``: REQ/REP round trips of 64 B over tcp loopback, client and server in one event
  loop, for nanomsg_rs (asyncio, uvloop, trio), pynng (asyncio, trio) and zmq.asyncio, each
  next to its library's blocking calls (:mod:`bench_async`, run in this process);
* ``scale``: one server socket with 1,000 to 10,000 TCP peers on other hosts (network
  namespaces: root only, else left out with a note), REP, PULL and PUB, nanomsg_rs beside
  pyzmq: memory per connection, connections accepted a second, round trips, messages a second,
  delivery to every SUB (:mod:`bench_scale`; its own table, ``benchmarks/scale.png``).
* ``tls``: nanomsg_rs's ``tls+tcp://`` against pynng's with the same certificates: 64 B and
  1 MiB throughput, REQ/REP latency, and nanomsg_rs over plain tcp at 1 MiB (:mod:`bench_tls`).

Every throughput row, pingpong and latency carry a target (nanomsg_rs's ratio to C, by rate
and by CPU time per message), and so does ``async``: nanomsg_rs under asyncio ahead of
zmq.asyncio and of pynng under asyncio (its ratio to each, by rate and by CPU time per round
trip, above 1; not measured when a rival is missing); the table marks each met or missed,
with the per-round spread.

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_async
import bench_docs
import bench_goals
import bench_nng
import bench_report
import bench_scale
import bench_syscalls
import bench_tls
from bench_libs import MODULES, NNG_LIB, PYTHON_LIBS
from bench_measure import Addresses, measure_workload, progress
from bench_procs import (
    BENCH_DIR,
    C_HARDENED_LIB,
    C_LIB,
    C_LIBS,
    C_NNG_LIB,
    C_ZMQ_LIB,
    build_c,
    gcc_version,
    import_problem,
)
from bench_workloads import (
    FANOUT_BURST,
    FANOUT_SUBS,
    QUICK_BATCH_SIZES,
    QUICK_FANOUT_SUBS,
    QUICK_SIZES,
    SIZES,
    SUBJECT,
    WORKLOADS,
    Config,
    Workload,
    parse_counts,
    parse_sizes,
)

REQUIREMENTS_HINT = "pip install -r benchmarks/requirements.txt"
#: The workloads of bench_workloads, and scale (bench_scale: its own records, table and plot).
ALL_WORKLOADS = (*WORKLOADS, bench_scale.WORKLOAD)


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
    zmq = subprocess.run(
        ["pkg-config", "--modversion", "libzmq"], capture_output=True, text=True, check=False
    )
    if zmq.returncode == 0:  # C-zmq's; pyzmq's wheel carries its own, recorded with it
        out["libzmq"] = zmq.stdout.strip()
    bundled = subprocess.run(
        [sys.executable, "-c", "import zmq; print(zmq.zmq_version())"],
        capture_output=True,
        text=True,
        check=False,
    )
    if bundled.returncode == 0:
        out["pyzmq_libzmq"] = bundled.stdout.strip()
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
        help="run only these workloads (repeatable or comma-separated): "
        + ", ".join(ALL_WORKLOADS),
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

    def list_option(option: str, variable: str, what: str, otherwise: str) -> None:
        """An option taking a comma-separated LIST, by default the environment's ``variable``."""
        parser.add_argument(
            option,
            default=os.environ.get(variable),
            metavar="LIST",
            help=f"{what} (default: env {variable}, else {otherwise})",
        )

    list_option(
        "--sizes",
        "BENCH_SIZES",
        "throughput message sizes, e.g. 64,64KiB,1MiB",
        "16 B to 1 MiB, x4 apart; --quick: 64,64KiB,1MiB",
    )
    list_option(
        "--subs",
        "BENCH_SUBS",
        "fan-out subscriber counts, e.g. 1,16,256",
        "1 to 256, x2 apart; --quick: 1,8,64",
    )
    list_option(
        "--scale-sizes",
        "BENCH_SCALE_SIZES",
        "scale workload's peer counts, e.g. 1000,10000",
        "1,000, 3,000 and 10,000; --quick: 200,1000",
    )
    parser.add_argument(
        "--scale-plot", type=Path, help="where the scale PNG goes (default scale.png)"
    )
    parser.add_argument(
        "--no-syscalls",
        action="store_true",
        help="skip the pass that counts system calls per message with strace (throughput "
        "and fan-out rows)",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="put each process of the two-process rows (throughput, latency) on a CPU of its "
        "own, every library alike (benchmarks/README.md: placement)",
    )
    parser.add_argument("--repeats", type=int, help="rounds per workload (overrides defaults)")
    parser.add_argument("--sample-time", type=float, help="seconds per sample (default 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-round order")
    parser.add_argument("--json", type=Path, help="where the raw numbers go")
    parser.add_argument("--plot", type=Path, help="where the PNG goes")
    parser.add_argument(
        "--fanout-plot", type=Path, help="where the fan-out PNG goes (default fanout.png)"
    )
    parser.add_argument("--no-plot", action="store_true", help="skip the plots")
    parser.add_argument(
        "--readme",
        type=Path,
        metavar="MARKDOWN",
        help="fill the generated blocks of this file (<!-- bench:NAME --> to "
        "<!-- /bench:NAME -->) with the tables of the workloads run (make bench: "
        "benchmarks/README.md)",
    )
    parser.add_argument(
        "--docs",
        action="store_true",
        help="also fill the figures of README.md and docs/*.rst (bench_docs.py) from the run "
        "(make bench does)",
    )
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
            if name not in ALL_WORKLOADS:
                parser.error(f"unknown workload {name!r}; choose from {', '.join(ALL_WORKLOADS)}")
            if name not in chosen:
                chosen.append(name)
    args.workloads = [w for w in ALL_WORKLOADS if w in chosen] if chosen else list(ALL_WORKLOADS)
    libs = PYTHON_LIBS if not args.libs else tuple(x.strip() for x in args.libs.split(","))
    for lib in libs:
        if lib not in PYTHON_LIBS:
            parser.error(f"unknown library {lib!r}; choose from {', '.join(PYTHON_LIBS)}")
    args.lib_list = [lib for lib in PYTHON_LIBS if lib in libs]
    if SUBJECT not in args.lib_list:
        args.lib_list.insert(0, SUBJECT)
    if args.no_nng and NNG_LIB in args.lib_list:
        args.lib_list.remove(NNG_LIB)
    try:
        args.size_list = parse_sizes(args.sizes) if args.sizes else None
        args.sub_list = parse_counts(args.subs) if args.subs else None
    except ValueError as exc:
        parser.error(str(exc))
    suffix = "-quick" if args.quick else ""
    args.json = args.json or BENCH_DIR / f"results{suffix}.json"
    if args.fanout_plot is None:
        args.fanout_plot = (
            BENCH_DIR / f"fanout{suffix}.png"
            if args.plot is None
            else args.plot.with_name(f"{args.plot.stem}-fanout.png")
        )
    args.scale_plot = args.scale_plot or BENCH_DIR / f"scale{suffix}.png"
    args.plot = args.plot or BENCH_DIR / f"results{suffix}.png"
    return args


#: Rounds of a full run, where a workload needs more than 5 (its rows move more from round to
#: round, or its samples are short).
FULL_REPEATS: dict[Workload, int] = {
    "pingpong": 31, "throughput": 11, "latency": 31, "fanout": 9, "async": 21,
}  # fmt: skip


def config_for(args: argparse.Namespace) -> Config:
    """Repetitions, sample lengths, sizes and subscriber counts for a full or a quick run."""
    if args.quick:
        repeats = dict.fromkeys(WORKLOADS, 3)
        cfg = Config(repeats, 0.03, QUICK_SIZES, QUICK_FANOUT_SUBS, args.seed, QUICK_BATCH_SIZES)
    else:
        # every workload has its rounds: those named here, else 5 (tls)
        repeats = {**dict.fromkeys(WORKLOADS, 5), **FULL_REPEATS}
        cfg = Config(repeats, 0.2, SIZES, FANOUT_SUBS, args.seed)
    if args.repeats:
        cfg.repeats = dict.fromkeys(WORKLOADS, args.repeats)
    if args.sample_time:
        cfg.sample_time = args.sample_time
    if args.size_list:
        cfg.sizes = args.size_list
    if args.sub_list:
        cfg.fanout_subs = args.sub_list
    cfg.quick = args.quick
    cfg.syscalls = not args.no_syscalls
    cfg.pin = args.pin
    return cfg


def scale_sizes(args: argparse.Namespace) -> tuple[int, ...]:
    """The scale workload's peer counts."""
    if args.scale_sizes:
        return tuple(int(x) for x in str(args.scale_sizes).split(",") if x.strip())
    return bench_scale.QUICK_SIZES if args.quick else bench_scale.SIZES


def scale_title(meta: dict[str, Any]) -> str:
    """The scale plot's title: what, when, on what."""
    mach = meta.get("machine", {})
    return (
        f"scale: one server socket, N TCP peers on 4 hosts, {meta.get('date', '')[:10]}, "
        f"{mach.get('cpu', '')} ({mach.get('cores', '?')} cores, "
        f"load {bench_report.format_load(mach)})"
    )


def main(argv: list[str]) -> int:
    """Measures, prints the table, writes the JSON and the plot."""
    args = parse_args(argv)
    if args.report:
        data = json.loads(args.report.read_text())
        report(data, args)
        return 0
    cfg = config_for(args)
    notes: list[str] = []
    if cfg.syscalls and {"throughput", "fanout"} & set(args.workloads):
        problem = bench_syscalls.strace_problem()
        if problem is not None:
            notes.append(f"no system call counts: {problem}")
            cfg.syscalls = False
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
    floors = [C_LIB, C_HARDENED_LIB, C_ZMQ_LIB] + ([C_NNG_LIB] if nng is not None else [])
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
        scale: list[dict[str, Any]] = []
        for workload in args.workloads:
            if workload == bench_scale.WORKLOAD:  # hosts as network namespaces: root only
                scale = bench_scale.measure_scale(scale_sizes(args), notes, progress, args.quick)
                continue
            if workload == bench_async.WORKLOAD:  # in this process, every row in its own loop
                records += bench_async.measure_async(
                    libs, cfg.repeats[workload], cfg.sample_time, rng, notes, progress
                )
                continue
            if workload == bench_tls.WORKLOAD:  # its own peer processes, OpenSSL against mbedTLS
                records += bench_tls.measure_tls(
                    libs, cfg.repeats[workload], cfg.sample_time, rng, notes, progress
                )
                continue
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
            "command": " ".join(["benchmarks/run.py", *argv]),
            "libraries": [*floors, *args.lib_list],
            "repeats": {w: n for w, n in cfg.repeats.items() if w in args.workloads},
            "sample_time_s": cfg.sample_time,
            "sizes": list(cfg.sizes),
            "fanout_subs": list(cfg.fanout_subs),
            "batches": list(cfg.batches),
            "seed": cfg.seed,
            "syscalls_counted": cfg.syscalls,
            "pinned": cfg.pin,
            "fanout_burst": FANOUT_BURST,
            "subject": SUBJECT,
            "duration_s": round(time.monotonic() - started, 1),
            "versions": found,
            "machine": machine(load_at_start),
        },
        "notes": notes,
        "variants": records,
    }
    if bench_scale.WORKLOAD in args.workloads:
        data["scale"] = scale
        data["meta"]["scale_sizes"] = list(scale_sizes(args))
    bench_goals.judge(records, SUBJECT)
    args.json.write_text(json.dumps(data, indent=1) + "\n")
    report(data, args, saved=args.json)
    return 0


def report(data: dict[str, Any], args: argparse.Namespace, saved: Path | None = None) -> None:
    """Prints the table (and where the raw numbers went: ``saved``), draws the plots and
    fills the README's blocks, as asked."""
    bench_goals.judge(data["variants"], data["meta"].get("subject", SUBJECT))
    print(bench_report.table(data))
    if data.get("scale"):
        print(bench_scale.table(data["scale"], data["meta"]))
    if saved is not None:
        print(f"raw numbers: {saved}")
    if not args.no_plot:
        print(bench_report.plot(data, args.plot))
        print(bench_report.plot_fanout(data, args.fanout_plot))
        if data.get("scale"):
            print(bench_scale.plot(data["scale"], args.scale_plot, scale_title(data["meta"])))
    if args.readme:
        drawn = not args.no_plot and args.fanout_plot.exists()
        images = {"fanout": os.path.relpath(args.fanout_plot, args.readme.parent)} if drawn else {}
        filled = bench_report.fill_markdown(args.readme, data, images)
        scale_image = None
        if not args.no_plot and args.scale_plot.exists():
            scale_image = os.path.relpath(args.scale_plot, args.readme.parent)
        if bench_scale.fill_markdown(
            args.readme, data.get("scale") or [], data["meta"], scale_image
        ):
            filled.append(bench_scale.WORKLOAD)
        print(f"{args.readme}: filled {', '.join(filled) or 'no block'}")
    if args.docs:
        if data.get("scale") and not data["meta"].get("quick"):  # its blocks need no more
            for path in bench_docs.doc_files():
                if bench_docs.fill(path, data, only=(bench_scale.WORKLOAD,)):
                    print(f"{path.relative_to(bench_docs.ROOT)}: filled scale")
        missing = bench_docs.missing(data)
        if data["meta"].get("quick") or missing:
            why = "a --quick run" if data["meta"].get("quick") else f"no {', '.join(missing)}"
            print(f"--docs: left as they were ({why}): their figures come from one full run")
            return
        for path, names in bench_docs.fill_docs(data).items():
            print(f"{path.relative_to(bench_docs.ROOT)}: filled {', '.join(names)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
