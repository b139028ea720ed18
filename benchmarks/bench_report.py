"""The benchmark report: the text table and the PNG plot, both drawn from the results record
that ``run.py`` writes as JSON (so ``run.py --report results.json`` can redraw them)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_goals

#: Row order of the table and legend order of the plot: the floors, then nanomsg_rs on both
#: backends, then the other bindings.
LIB_ORDER = (
    "C",
    "C-hardened",
    "C-nng",
    "C-zmq",
    "nanomsg_rs",
    "nanomsg_rs-nng",
    "nnpy",
    "nanomsg",
    "pynng",
    "pyzmq",
)
LIB_LABELS = {
    "C": "C (libnanomsg)",
    "C-hardened": "C (hardened)",
    "C-nng": "C (nng compat)",
    "C-zmq": "C (libzmq)",
}
#: The C floors (drawn dashed); every "vs C" is against "C".
FLOOR_LIBS = ("C", "C-hardened", "C-nng", "C-zmq")
LIB_COLORS = {
    "C": "#222222",
    "C-hardened": "#555555",
    "C-nng": "#8c8c8c",
    "C-zmq": "#b5651d",
    "nanomsg_rs": "#d62728",
    "nanomsg_rs-nng": "#f08a8b",
    "nnpy": "#1f77b4",
    "nanomsg": "#9467bd",
    "pynng": "#2ca02c",
    "pyzmq": "#ff7f0e",
}
#: The headline panel's y limit; taller bars are cut there and labelled with their value.
HEADLINE_TOP = 3.0
REQUIREMENTS_HINT = "pip install -r benchmarks/requirements.txt"


def si(value: float) -> str:
    """``1234567`` -> ``"1.23M"``; three significant digits (``999_600`` -> ``"1M"``: the
    suffix is chosen after rounding, so no ``"1e+03k"``)."""
    rounded = float(f"{value:.3g}")
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(rounded) >= factor:
            return f"{rounded / factor:.3g}{suffix}"
    return f"{rounded:.3g}"


def figure(value: float, metric: str) -> str:
    """A median or bound as the table shows it."""
    return f"{value:.1f}" if metric == "latency" else si(value)


def ordered(libs: dict[str, Any]) -> list[str]:
    """The libraries of a record, in report order."""
    return [lib for lib in LIB_ORDER if lib in libs] + [lib for lib in libs if lib not in LIB_ORDER]


def verdict_text(record: dict[str, Any]) -> str:
    """The subject's verdict on a record's target: ``met``, ``MISSED``, ``MISSED by CPU``
    (the rate meets it, the CPU time per message does not), with ``(marginal)`` when the
    middle half of the per-round ratios straddles the target; ``not measured`` without a
    ratio (a library, or C, missing from the run)."""
    met = record.get("target_met")
    if met is None:
        return "not measured"
    verdict = "met" if met else "MISSED"
    if met and record.get("cpu_target_met") is False:
        verdict = "MISSED by CPU"
    if record.get("target_firm") is False:
        verdict += " (marginal)"
    return verdict


def target_text(record: dict[str, Any]) -> str:
    """``">= 0.90 met"`` for the subject's row, or ``""``."""
    target = record.get("target")
    if target is None:
        return ""
    return f"{target['op']} {target['value']:.2f} {verdict_text(record)}"


def table(data: dict[str, Any]) -> str:
    """The whole text report: a header, one block per variant, the targets, the notes."""
    meta = data["meta"]
    subject = meta.get("subject", "nanomsg_rs")
    versions = meta.get("versions", {})
    mach = meta.get("machine", {})
    lines = [
        "nanomsg-rs benchmarks"
        + (" (--quick: a smoke test, not for quoting)" if meta.get("quick") else ""),
        f"  {meta.get('date', '')}  {mach.get('cpu', '')}, {mach.get('cores', '?')} cores, "
        f"load {format_load(mach)}; Python {versions.get('python', '?')}, "
        f"libnanomsg {versions.get('libnanomsg', '?')}, commit {mach.get('commit', '?')}",
        "  versions: "
        + ", ".join(
            f"{k} {v}"
            for k, v in versions.items()
            if k not in ("python", "gcc") and not k.endswith("_from")
        ),
        f"  rounds per workload: {format_repeats(meta.get('repeats') or {})}; about "
        f"{meta.get('sample_time_s')} s a sample; the libraries run in each round, in a new "
        "random order"
        + (
            "; pinned: each process of the throughput and latency rows on a CPU of its own"
            if meta.get("pinned")
            else ""
        ),
        "  median: of the samples   min - max: their spread   vs C: median / C's median",
        "  rounds: the middle half (quartiles) of the per-round ratios to C",
        "  cpu: CPU µs per message (per round trip: latency, async) of the measuring process, all",
        "       its threads, median: much less disturbed by the machine's load than the rates",
        "  sys/msg: system calls per message (published, for fan-out), counted in a separate",
        "       short pass with strace -c -f over every process of the row (bench_syscalls)",
    ]
    if "C-zmq" in meta.get("libraries", []):
        lines.append(
            "  C (libzmq): c/zmqbench.c, the same workloads on libzmq "
            f"{versions.get('libzmq', '?')}: the floor under pyzmq (its own libzmq "
            f"{versions.get('pyzmq_libzmq', '?')})"
        )
    if "C-nng" in meta.get("libraries", []):
        lines += [
            "  C (nng compat): the same C program on nng's nanomsg-compatible API;",
            "  nanomsg_rs-nng: nanomsg_rs built on that API; its row adds its ratio to that floor",
        ]
    lines.append("")
    header = (
        f"  {'library':<15} {'median':>9} {'min - max':>19} {'vs C':>6} {'rounds':>13} "
        f"{'cpu':>7} {'sys/msg':>7}  target"
    )
    for record in data["variants"]:
        if record["workload"] == "async":  # one block of its own for all its records
            if record.get("target") is None:
                lines += async_block(data["variants"], subject)
            continue
        metric = record["metric"]
        better = "lower" if metric == "latency" else "higher"
        lines.append(f"{record['title']}   [{record['unit']}, {better} is better]")
        lines.append(header)
        results = record["results"]
        for lib in ordered(results):
            r = results[lib]
            spread = f"{figure(r['min'], metric)} - {figure(r['max'], metric)}"
            ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
            rounds = ""
            iqr = r.get("round_ratio_iqr")
            if iqr and lib != "C":
                rounds = f"{iqr[0]:.2f} - {iqr[1]:.2f}"
            mark = target_text(record) if lib == subject else floor_text(r)
            label = LIB_LABELS.get(lib, lib)
            cpu = "" if r.get("cpu_us") is None else f"{r['cpu_us']:.2f}"
            sys_msg = syscalls_text(r)
            lines.append(
                f"  {label:<15} {figure(r['median'], metric):>9} {spread:>19} {ratio:>6} "
                f"{rounds:>13} {cpu:>7} {sys_msg:>7}  {mark}".rstrip()
            )
        for lib in meta.get("libraries", []):
            only = record.get("only_libs")
            if lib not in results and (only is None or lib in only):
                label = LIB_LABELS.get(lib, lib)
                lines.append(f"  {label:<15} {'-':>9}  left out: see the notes below")
        if bench_goals.record_line(record):
            lines.append(bench_goals.record_line(record))
        lines.append("")
    lines += target_summary(data["variants"], subject)
    lines += bench_goals.summary(data["variants"], subject)
    lines += fanout_summary(data["variants"])
    lines += floor_summary(data["variants"])
    notes = data.get("notes") or []
    if notes:
        lines.append("Notes:")
        lines.extend(f"  - {note}" for note in notes)
        lines.append("")
    return "\n".join(lines)


def syscalls_text(result: dict[str, Any]) -> str:
    """A result's system calls per message (``bench_syscalls``), or ``""`` if not counted."""
    counted = (result.get("syscalls") or {}).get("per_message")
    return "" if counted is None else f"{counted:.3g}"


def target_summary(records: list[dict[str, Any]], subject: str) -> list[str]:
    """Every target of a run: the subject's ratio, the middle half of its per-round ratios,
    its ratio by CPU time, the verdict; then how many are met."""
    targets = [r for r in records if r.get("target")]
    if not targets:
        return []
    lines = [
        f"Targets ({subject} / C, each within this run; rounds: the middle half of the "
        "per-round ratios; cpu: by CPU time per message):"
    ]
    if any(r["workload"] == "async" for r in targets):
        lines.append(
            f"  (async: {subject} / the rival, both under asyncio, round trips a second; cpu: "
            "the rival's CPU time per round trip over ours)"
        )
    for record in targets:
        result = record["results"].get(subject, {})
        ratio, cpu = result.get("ratio"), result.get("cpu_ratio")
        shown = "n/a" if ratio is None else f"{ratio:.2f}"
        iqr = result.get("round_ratio_iqr")
        rounds = f"{iqr[0]:.2f} - {iqr[1]:.2f}" if iqr else ""
        by_cpu = "" if cpu is None else f"{cpu:.2f}"
        lines.append(
            f"  {record['name']:<32} {shown:>5}  {rounds:>11}  cpu {by_cpu:>5}  "
            f"{target_text(record)}".rstrip()
        )
    met = sum(1 for r in targets if verdict_text(r).startswith("met"))
    lines.append(f"  {met} of {len(targets)} targets met, by rate and by CPU time alike")
    lines.append("  (marginal: the middle half of the per-round ratios straddles the target:")
    lines.append("  a quarter or more of the rounds went the other way)")
    lines.append("")
    return lines


def async_block(records: list[dict[str, Any]], subject: str) -> list[str]:
    """The async workload's block: a row per library and loop with its median round trips a
    second, their spread, CPU µs per round trip, its ratio to the subject under asyncio and
    to its library's own blocking calls (the targets are in the summary)."""
    table = next((r for r in records if r["workload"] == "async" and r.get("target") is None), None)
    if table is None:
        return []
    lines = [
        f"{table['title']}   [{table['unit']}, higher is better]",
        f"  {'library (loop)':<27} {'median':>9} {'min - max':>19} {'cpu':>7} "
        f"{'vs ' + subject + ' (asyncio)':>25} {'vs own sync':>12}",
    ]
    for name, r in table["results"].items():
        spread = f"{si(r['min'])} - {si(r['max'])}"
        cpu = "" if r.get("cpu_us") is None else f"{r['cpu_us']:.2f}"
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}"
        own = "" if r.get("vs_sync") is None else f"{r['vs_sync']:.2f}"
        row = f"  {name:<27} {si(r['median']):>9} {spread:>19} {cpu:>7} {ratio:>25} {own:>12}"
        lines.append(row.rstrip())
    lines.append("")
    return lines


def delivered(record: dict[str, Any], value: float) -> float:
    """A fan-out figure as messages delivered a second, all SUBs together (results from
    before that unit counted published messages, each delivered N times)."""
    return value if record.get("unit") == "msg/s delivered" else value * (record["x"] or 1)


def fanout_cell(record: dict[str, Any], lib: str) -> str:
    """``"1.2M / 4.69k (0.81)"``: a library's delivered msg/s in total and per SUB, and its
    ratio to C; ``""`` if it has no result."""
    r = record["results"].get(lib)
    if r is None:
        return ""
    total = delivered(record, r["median"])
    ratio = "" if r.get("ratio") is None or lib == "C" else f" ({r['ratio']:.2f})"
    return f"{si(total)} / {si(total / (record['x'] or 1))}{ratio}"


def fanout_summary(records: list[dict[str, Any]]) -> list[str]:
    """The fan-out curves as one table: a row per N, a column per library, each cell the
    messages delivered a second in total and per SUB (ratio to C)."""
    fanout = [r for r in records if r["workload"] == "fanout" and r.get("x")]
    if not fanout:
        return []
    libs = ordered({lib: 0 for r in fanout for lib in r["results"]})
    cells = [[fanout_cell(r, lib) for lib in libs] for r in fanout]
    widths = [
        max(len(LIB_LABELS.get(lib, lib)), *(len(row[i]) for row in cells))
        for i, lib in enumerate(libs)
    ]
    names = [f"{LIB_LABELS.get(lib, lib):<{w}}" for lib, w in zip(libs, widths, strict=True)]
    lines = [
        "Fan-out: PUB -> N SUB, messages delivered a second: all SUBs / per SUB (vs C)",
        ("      N  " + "  ".join(names)).rstrip(),
    ]
    for record, row in zip(fanout, cells, strict=True):
        body = "  ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True))
        lines.append(f"  {record['x']:>5g}  {body}".rstrip())
    lines.append("")
    return lines


def floor_text(result: dict[str, Any]) -> str:
    """``"vs C (nng compat) 0.93"`` for a row with a floor of its own, or ``""``."""
    floor = result.get("floor")
    if not floor or floor.get("ratio") is None:
        return ""
    return f"vs {LIB_LABELS.get(floor['lib'], floor['lib'])} {floor['ratio']:.2f}"


def floor_summary(records: list[dict[str, Any]]) -> list[str]:
    """Lines comparing each library that has a floor of its own with that floor, variant by
    variant, with the subject's targets read against it (for information: the team's
    targets are the subject's against C)."""
    libs = ordered({lib: 0 for r in records for lib, x in r["results"].items() if "floor" in x})
    lines: list[str] = []
    for lib in libs:
        floor_lib = next(r["results"][lib]["floor"]["lib"] for r in records if lib in r["results"])
        lines.append(f"{lib} / {LIB_LABELS.get(floor_lib, floor_lib)}, its own floor, each within")
        lines.append("this run (the targets are nanomsg_rs's against C, shown for comparison):")
        for record in records:
            floor = record["results"].get(lib, {}).get("floor")
            if not floor or floor.get("ratio") is None:
                continue
            iqr = floor.get("round_ratio_iqr")
            rounds = f"rounds {iqr[0]:.2f} - {iqr[1]:.2f}" if iqr else ""
            mark = ""
            target = record.get("target")
            if target and floor.get("target_met") is not None:
                mark = f"{target['op']} {target['value']:.2f} "
                mark += "met" if floor["target_met"] else "missed"
                if floor.get("target_firm") is False:
                    mark += " (marginal)"
            cpu = floor.get("cpu_ratio")
            by_cpu = "" if cpu is None else f"by CPU: {cpu:.2f}"
            lines.append(
                f"  {record['name']:<28} {floor['ratio']:>5.2f}  {rounds:<19} {by_cpu:<13} "
                f"{mark}".rstrip()
            )
        lines.append("")
    return lines


def format_repeats(repeats: dict[str, int]) -> str:
    """``{"pingpong": 21, ...}`` -> ``"pingpong 21, ..."``."""
    return ", ".join(f"{name} {n}" for name, n in repeats.items())


def format_load(mach: dict[str, Any]) -> str:
    """The 1-minute load average at the start and the end of the run."""
    start = mach.get("loadavg_start") or [math.nan]
    end = mach.get("loadavg_end") or [math.nan]
    return f"{start[0]:.2f} -> {end[0]:.2f}"


def speed_vs_c(record: dict[str, Any], value: float) -> float:
    """A ratio turned into 'how fast against C' (higher is better for every workload)."""
    return 1.0 / value if record["metric"] == "latency" and value else value


#: The throughput rows the headline panel shows (the others are on the size panels).
HEADLINE_ROWS = (
    "throughput 64 B",
    "throughput 64 KiB",
    "throughput 64 KiB recv_msg",
    "throughput 1 MiB",
    "throughput 1 MiB recv_msg",
)
#: How the ratio-by-size panel draws each receive mode.
MODE_STYLES = {"recv": ("recv", "-"), "into": ("recv_into", "--"), "msg": ("recv_msg", ":")}


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _suptitle(fig: Any, meta: dict[str, Any], what: str) -> None:
    mach = meta.get("machine", {})
    fig.suptitle(
        f"{what}, {meta.get('date', '')[:10]}, {mach.get('cpu', '')} "
        f"({mach.get('cores', '?')} cores, load {format_load(mach)})"
        + ("  [--quick]" if meta.get("quick") else ""),
        fontsize=11,
    )


def plot(data: dict[str, Any], path: Path) -> str:
    """Draws the PNG: the headline ratios, nanomsg_rs's throughput ratio to C by size and
    receive mode, and every library's cost per message by size. Returns a line saying where
    it went, or why there is no plot."""
    plt = _pyplot()
    if plt is None:
        return f"plot skipped: matplotlib is not installed ({REQUIREMENTS_HINT})"
    variants = data["variants"]
    meta = data["meta"]
    subject = meta.get("subject", "nanomsg_rs")
    headline = [
        r
        for r in variants
        if r["workload"] in ("pingpong", "latency")
        or (r["workload"] == "throughput" and (r["x"] is None or r["name"] in HEADLINE_ROWS))
    ]
    by_size = [r for r in variants if r["workload"] == "throughput" and r["x"]]
    # the cost per message of every library: the recv rows (a "sweep" workload in older files)
    sweep = [r for r in variants if r["workload"] in ("sweep", "throughput") and r["x"]]
    sweep = [r for r in sweep if r.get("mode", "recv") == "recv"]
    panels = [p for p in (headline, by_size, sweep) if p]
    if not panels:
        return "plot skipped: no results"
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 5.2), squeeze=False)
    axis_iter = iter(axes[0])
    if headline:
        _headline(next(axis_iter), headline)
    if by_size:
        _ratio_by_size(next(axis_iter), by_size, subject)
    if sweep:
        _curve(
            next(axis_iter),
            sweep,
            "message size",
            "µs per message",
            "PUSH -> PULL over ipc, recv, by size",
            size_tick,
            lambda record, value: 1e6 / value,
        )
    _suptitle(fig, meta, "nanomsg-rs vs other bindings and C")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"plot: {path}"


def plot_fanout(data: dict[str, Any], path: Path) -> str:
    """Draws the fan-out PNG: messages delivered a second against N, all SUBs together and
    per SUB. Returns a line saying where it went, or why there is no plot."""
    fanout = [r for r in data["variants"] if r["workload"] == "fanout" and r.get("x")]
    if not fanout:
        return "fan-out plot skipped: no fan-out results"
    plt = _pyplot()
    if plt is None:
        return f"fan-out plot skipped: matplotlib is not installed ({REQUIREMENTS_HINT})"
    burst = data["meta"].get("fanout_burst", "?")
    fig, axes = plt.subplots(1, 2, figsize=(12.4, 5.2), squeeze=False)
    for ax, per_sub in zip(axes[0], (False, True), strict=True):

        def scale(record: dict[str, Any], value: float, per_sub: bool = per_sub) -> float:
            total = delivered(record, value)
            return total / record["x"] if per_sub else total

        _curve(
            ax,
            fanout,
            "SUB sockets (N)",
            "messages delivered a second" + (" to each SUB" if per_sub else ", all SUBs"),
            f"PUB -> N SUB over ipc, 64 B, bursts of {burst}, one thread"
            + (": per SUB" if per_sub else ": in total"),
            lambda x: f"{x:g}",
            scale,
            lower_is_better=False,
        )
    _suptitle(fig, data["meta"], "fan-out")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"fan-out plot: {path}"


def _ratio_by_size(ax: Any, records: list[dict[str, Any]], subject: str) -> None:
    """The subject's throughput ratio to C against message size, a line per receive mode,
    shaded over the middle half of the per-round ratios, with the target."""
    from matplotlib.ticker import NullLocator

    for mode, (call, style) in MODE_STYLES.items():
        points = [
            (r["x"], r["results"][subject])
            for r in records
            if r.get("mode") == mode and r["results"].get(subject, {}).get("ratio")
        ]
        if not points:
            continue
        xs = [x for x, _ in points]
        ratios = [r["ratio"] for _, r in points]
        iqrs = [r.get("round_ratio_iqr") or [r["ratio"], r["ratio"]] for _, r in points]
        color = {"recv": "#d62728", "into": "#9467bd", "msg": "#ff7f0e"}[mode]
        ax.plot(xs, ratios, style, marker="o", markersize=3, color=color, label=call)
        ax.fill_between(
            xs, [q[0] for q in iqrs], [q[1] for q in iqrs], color=color, alpha=0.15, linewidth=0
        )
        cpu = [(x, r["cpu_ratio"]) for x, r in points if r.get("cpu_ratio")]
        if cpu:
            ax.plot(
                [x for x, _ in cpu],
                [c for _, c in cpu],
                "x",
                markersize=4,
                color=color,
                label=f"{call}, by CPU",
            )
    target = next((r["target"] for r in records if r.get("target")), None)
    if target:
        ax.axhline(target["value"], color="#d62728", linestyle=":", linewidth=1.5)
    ax.axhline(1.0, color="#222222", linestyle="--", linewidth=1, label="C = 1")
    ax.set_xscale("log", base=2)
    ticks = sorted({r["x"] for r in records})
    ax.set_xticks(ticks)
    ax.set_xticklabels([size_tick(x) for x in ticks], fontsize=8)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("message size")
    ax.set_ylabel(f"{subject} / C, same call in C (higher is better)")
    ax.set_title(
        f"throughput by size: {subject} / C; shaded: middle half of the per-round\n"
        "ratios; x: by CPU time per message; red dotted: target",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")


def _headline(ax: Any, records: list[dict[str, Any]]) -> None:
    """Grouped bars: each library's speed relative to C per headline workload, with the
    per-round spread and the target."""
    libs = [lib for lib in ordered({lib: 0 for r in records for lib in r["results"]}) if lib != "C"]
    width = 0.8 / max(1, len(libs))
    for i, lib in enumerate(libs):
        xs, heights, lows, highs = [], [], [], []
        for j, record in enumerate(records):
            r = record["results"].get(lib)
            if r is None or r["ratio"] is None:
                continue
            h = speed_vs_c(record, r["ratio"])
            iqr = r.get("round_ratio_iqr") or [r["ratio"], r["ratio"]]
            spread = [speed_vs_c(record, x) for x in iqr]
            xs.append(j - 0.4 + width * (i + 0.5))
            heights.append(h)
            lows.append(max(0.0, h - min(spread)))
            highs.append(max(0.0, max(spread) - h))
        ax.bar(
            xs,
            heights,
            width,
            yerr=[lows, highs],
            capsize=2,
            color=LIB_COLORS.get(lib),
            label=LIB_LABELS.get(lib, lib),
            error_kw={"elinewidth": 0.8},
        )
    for j, record in enumerate(records):
        target = record.get("target")
        if target:
            level = speed_vs_c(record, target["value"])
            ax.hlines(level, j - 0.45, j + 0.45, colors="#d62728", linestyles=":", linewidth=1.5)
    ax.axhline(1.0, color="#222222", linewidth=1, linestyle="--", label="C = 1")
    ax.set_xticks(range(len(records)))
    labels = [r["name"].replace(" ", "\n", 1).replace(" recv_", "\nrecv_") for r in records]
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("speed relative to C on libnanomsg (higher is better)")
    ax.set_title(
        "per-call workloads; whiskers: middle half of the per-round ratios;\n"
        "red dotted: nanomsg_rs target",
        fontsize=10,
    )
    top = HEADLINE_TOP
    ax.set_ylim(0, top)
    for bar in ax.patches:
        if bar.get_height() > top:
            ax.annotate(
                f"{bar.get_height():.1f}",
                (bar.get_x() + bar.get_width() / 2, top),
                xytext=(0, -9),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color="white",
                fontweight="bold",
            )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=5)
    ax.grid(axis="y", alpha=0.3)


def size_tick(size: float) -> str:
    """An axis label for a message size: ``16 B``, ``64 KiB``, ``1 MiB``."""
    for factor, unit in ((1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size:g} B"


def _curve(
    ax: Any,
    records: list[dict[str, Any]],
    xlabel: str,
    ylabel: str,
    title: str,
    tick: Callable[[float], str],
    scale: Callable[[dict[str, Any], float], float],
    lower_is_better: bool = True,
) -> None:
    """Log-log lines of each library's median against the records' x, shaded min-max;
    ``scale`` turns a record's figure into the plotted one."""
    from matplotlib.ticker import NullLocator

    libs = ordered({lib: 0 for r in records for lib in r["results"]})
    for lib in libs:
        points = [(r, r["results"][lib]) for r in records if lib in r["results"] and r["x"]]
        if not points:
            continue
        xs = [r["x"] for r, _ in points]
        mid = [scale(r, x["median"]) for r, x in points]
        ends = [sorted((scale(r, x["min"]), scale(r, x["max"]))) for r, x in points]
        color = LIB_COLORS.get(lib)
        style = "--" if lib in FLOOR_LIBS else "-"
        ax.plot(
            xs, mid, style, marker="o", markersize=3, color=color, label=LIB_LABELS.get(lib, lib)
        )
        ax.fill_between(
            xs, [e[0] for e in ends], [e[1] for e in ends], color=color, alpha=0.15, linewidth=0
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ticks = sorted({r["x"] for r in records if r["x"]})
    ax.set_xticks(ticks)
    ax.set_xticklabels([tick(x) for x in ticks], fontsize=8)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (lower is better)" if lower_is_better else " (higher is better)"))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")


#: The generated blocks of a markdown file, each between ``<!-- bench:NAME -->`` and
#: ``<!-- /bench:NAME -->``, and the workloads a run must have measured to fill it.
MARKDOWN_BLOCKS = {
    "targets": ("pingpong", "latency", "async"),
    "goals": ("pingpong", "throughput", "latency", "fanout", "async"),
    "throughput": ("throughput",),
    "fanout": ("fanout",),
    "async": ("async",),
}


def markdown_header(data: dict[str, Any]) -> str:
    """One line saying when, where and how the figures below it were measured."""
    meta = data["meta"]
    mach = meta.get("machine", {})
    how = f"`python {meta['command']}`" if meta.get("command") else "a run"
    if meta.get("quick"):
        how += " (--quick: a smoke test, not for quoting)"
    return (
        f"Measured by {how} on {meta.get('date', '?')[:10]} at commit "
        f"`{mach.get('commit', '?')}`, {mach.get('cores', '?')} cores ({mach.get('cpu', '?')}), "
        f"1-minute load {format_load(mach)}; the whole run took "
        f"{meta.get('duration_s', '?')} s."
    )


def _cell(record: dict[str, Any] | None, subject: str) -> str:
    """A targets table cell: the subject's ratio to C, the middle half of its per-round
    ratios, its ratio by CPU time per message, and the verdict."""
    if record is None:
        return ""
    ratios = _ratios(record, subject)
    if ratios == "n/a":
        return "not measured"
    verdict = verdict_text(record)
    mark = verdict if verdict.startswith("met") else f"**{verdict}**"
    return f"{ratios}: {mark}"


def _ratios(record: dict[str, Any], subject: str) -> str:
    """The subject's ratio to C, the middle half of its per-round ratios and its ratio by CPU
    time per message, or ``n/a``."""
    r = record["results"].get(subject)
    if r is None or r.get("ratio") is None:
        return "n/a"
    iqr = r.get("round_ratio_iqr")
    rounds = f" ({iqr[0]:.2f} to {iqr[1]:.2f})" if iqr else ""
    cpu = "" if r.get("cpu_ratio") is None else f", CPU {r['cpu_ratio']:.2f}"
    return f"{r['ratio']:.2f}{rounds}{cpu}"


def _op(target: dict[str, Any]) -> str:
    """``">="`` -> ``"≥"``, ``"<="`` -> ``"≤"``, ``">"`` -> ``">"``."""
    return {">=": "≥", "<=": "≤", ">": ">"}[target["op"]]


def _legend(subject: str) -> str:
    return (
        f"Each cell: {subject}'s median over C's (the same call in C), the middle half of "
        "the per-round ratios in brackets, the ratio by CPU time per message, and the "
        "verdict: met when both hold. For async, the floor is the rival library under "
        f"asyncio: {subject}'s round trips a second over the rival's, and the rival's CPU time "
        f"per round trip over {subject}'s; not measured when a library is missing."
    )


def markdown_targets(data: dict[str, Any]) -> list[str]:
    """The per-call targets as markdown (pingpong, latency, async): a row each."""
    subject = data["meta"].get("subject", "nanomsg_rs")
    records = [r for r in data["variants"] if r.get("target") and r["workload"] != "throughput"]
    lines = [markdown_header(data), "", _legend(subject), ""]
    lines += ["| target | floor | ratio to the floor |", "|---|---|---|"]
    for record in records:
        target = record["target"]
        floor = record.get("against") or "C"
        rival = next((r for lib, r in record["results"].items() if lib != subject), None)
        c = record["results"].get("C") if floor == "C" else rival
        c_text = "" if c is None else f"{figure(c['median'], record['metric'])} {record['unit']}"
        c_text = f"{floor}: {c_text}" if floor != "C" and c_text else c_text
        lines.append(
            f"| {record['name']} {_op(target)} {target['value']:g} | {c_text} | "
            f"{_cell(record, subject)} |"
        )
    return lines


def markdown_throughput(data: dict[str, Any]) -> list[str]:
    """The throughput targets as markdown: a row per size with ``recv``, ``recv_into`` and
    ``recv_msg``; then the batch rows (``send_many``/``recv_many``), which have no target."""
    subject = data["meta"].get("subject", "nanomsg_rs")
    sized = [r for r in data["variants"] if r["workload"] == "throughput" and r.get("x")]
    target = next((r["target"] for r in sized if r.get("target")), None)
    goal = "" if target is None else f", target {_op(target)} {target['value']:g} of C a row"
    lines = [markdown_header(data), "", _legend(subject), ""]
    lines += [
        f"PUSH → PULL over ipc{goal}:",
        "",
        "| size | C `recv`, msg/s | `recv` | `recv_into` | `recv_msg` |",
        "|---|---|---|---|---|",
    ]
    for size in sorted({r["x"] for r in sized}):
        row = {r.get("mode", "recv"): r for r in sized if r["x"] == size}
        c = row.get("recv", {}).get("results", {}).get("C")
        c_text = "" if c is None else si(c["median"])
        cells = " | ".join(_cell(row.get(m), subject) for m in ("recv", "into", "msg"))
        lines.append(f"| {size_tick(size)} | {c_text} | {cells} |")
    judged = [r for r in sized if r.get("target")]
    met = sum(1 for r in judged if verdict_text(r).startswith("met"))
    lines += ["", f"{met} of {len(judged)} rows meet the target."]
    batches = [r for r in data["variants"] if r["workload"] == "throughput" and r.get("batch")]
    if batches:
        lines += [
            "",
            f"{size_tick(batches[0]['size'])} with {subject}'s `send_many`/`recv_many` (no "
            "target; C sends and receives one message per call, as in the rows above):",
            "",
            "| batch | C, msg/s | ratio to C |",
            "|---|---|---|",
        ]
        for record in batches:
            c = record["results"].get("C")
            c_text = "" if c is None else si(c["median"])
            lines.append(f"| {record['batch']} | {c_text} | {_ratios(record, subject)} |")
    return lines


def markdown_fanout(data: dict[str, Any], image: str | None) -> list[str]:
    """The fan-out curves as markdown: the plot, and a row per N with every library's
    messages delivered a second, all SUBs / per SUB (ratio to C)."""
    fanout = [r for r in data["variants"] if r["workload"] == "fanout" and r.get("x")]
    libs = ordered({lib: 0 for r in fanout for lib in r["results"]})
    lines = [markdown_header(data), ""]
    if image:
        lines += [f"![fan-out: messages delivered a second against N]({image})", ""]
    lines += [
        "Messages delivered a second: all SUBs / per SUB (ratio to C).",
        "",
        "| N | " + " | ".join(LIB_LABELS.get(lib, lib) for lib in libs) + " |",
        "|---|" + "---|" * len(libs),
    ]
    for record in fanout:
        cells = " | ".join(fanout_cell(record, lib) for lib in libs)
        lines.append(f"| {record['x']:g} | {cells} |")
    return lines


def markdown_async(data: dict[str, Any]) -> list[str]:
    """The async rows as markdown: a row per library and loop."""
    subject = data["meta"].get("subject", "nanomsg_rs")
    table = next(
        (r for r in data["variants"] if r["workload"] == "async" and r.get("target") is None),
        None,
    )
    lines = [markdown_header(data), ""]
    if table is None:
        return lines
    lines += [
        f"{table['title']}; the targets are in the targets block.",
        "",
        f"| library (loop) | median {table['unit']} | min - max | CPU µs per round trip | "
        f"vs {subject} (asyncio) | vs its own sync |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in table["results"].items():
        cpu = "" if r.get("cpu_us") is None else f"{r['cpu_us']:.1f}"
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}"
        own = "" if r.get("vs_sync") is None else f"{r['vs_sync']:.2f}"
        lines.append(
            f"| {name} | {si(r['median'])} | {si(r['min'])} - {si(r['max'])} | {cpu} | "
            f"{ratio} | {own} |"
        )
    return lines


def goal_cell(goal: dict[str, Any]) -> str:
    """``">= 1.0x pyzmq: 0.30 (0.31-0.32), CPU 0.20 **MISSED**"``: one target in markdown."""
    verdict = bench_goals.verdict(goal)
    mark = verdict if verdict.startswith("met") else f"**{verdict}**"
    return f"{goal['label']}: {bench_goals.measured_text(goal)} {mark}"


def markdown_goals(data: dict[str, Any]) -> list[str]:
    """Issue 25's targets as markdown: a row per judged record with nanomsg_rs's median,
    pyzmq's, C's on upstream libnanomsg and on libzmq, the system calls per message of each,
    and every target with its verdict; then how many are met."""
    subject = data["meta"].get("subject", "nanomsg_rs")
    records = bench_goals.judge(data["variants"], subject)
    floors = ("C", "C-zmq")
    lines = [markdown_header(data), ""]
    lines += [
        f"Each target: {subject}'s median over the other's (for latency, its time over C's), "
        "the middle half of the per-round ratios in brackets, the ratio by CPU time per "
        "message, and the verdict: met when both hold. `recv_into` and `recv_msg` are read "
        "against pyzmq's `recv` (its default), C is the system's libnanomsg 1.1.5. System "
        "calls per message, counted with `strace -c -f` in a short pass of their own over "
        "every process of the row (per message published, for fan-out): "
        + " / ".join([subject, "pyzmq", *(LIB_LABELS[f] for f in floors)])
        + ".",
        "",
        f"| row | {subject} | pyzmq | C (libnanomsg) | C (libzmq) | system calls per message "
        "| targets |",
        "|---|---|---|---|---|---|---|",
    ]
    for record in records:
        goals = record.get("goals") or []
        if not goals:
            continue
        metric = record["metric"]
        results = record["results"]

        def median(result: dict[str, Any] | None, metric: str = metric) -> str:
            return "" if result is None else figure(result["median"], metric)

        theirs = bench_goals.reference(record, "pyzmq", records)
        pyzmq = median(theirs)
        if pyzmq and "pyzmq" not in results:
            pyzmq += " (`recv`)"
        counts = [syscalls_text(results.get(lib) or {}) for lib in (subject, "pyzmq", *floors)]
        sys_cell = " / ".join(c or "-" for c in counts) if any(counts) else ""
        verdicts = "; ".join(goal_cell(g) for g in goals)
        lines.append(
            f"| {record['name']} | {median(results.get(subject))} | {pyzmq} | "
            f"{median(results.get('C'))} | {median(results.get('C-zmq'))} | {sys_cell} | "
            f"{verdicts} |"
        )
    met, judged, missing = bench_goals.tally(records)
    tail = f"; {missing} not measured" if missing else ""
    lines += ["", f"{met} of {judged} targets met, by rate and by CPU time alike{tail}."]
    return lines


def markdown_block(name: str, data: dict[str, Any], images: dict[str, str]) -> list[str]:
    """The lines of one block of :data:`MARKDOWN_BLOCKS`."""
    if name == "targets":
        return markdown_targets(data)
    if name == "throughput":
        return markdown_throughput(data)
    if name == "async":
        return markdown_async(data)
    if name == "goals":
        return markdown_goals(data)
    return markdown_fanout(data, images.get(name))


def fill_markdown(path: Path, data: dict[str, Any], images: dict[str, str]) -> list[str]:
    """Replaces the generated blocks of the markdown file ``path`` (see
    :data:`MARKDOWN_BLOCKS`) whose workloads this run measured; returns their names.
    ``images``: a block's plot, as the file should link it."""
    text = path.read_text()
    measured = {r["workload"] for r in data["variants"]}
    filled = []
    for name, needs in MARKDOWN_BLOCKS.items():
        begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
        if begin not in text or end not in text or not set(needs) <= measured:
            continue
        body = markdown_block(name, data, images)
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n" + "\n".join(body) + f"\n{end}{tail}"
        filled.append(name)
    path.write_text(text)
    return filled
