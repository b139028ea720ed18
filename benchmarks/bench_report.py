"""The benchmark report: the text table and the PNG plot, both drawn from the results record
that ``run.py`` writes as JSON (so ``run.py --report results.json`` can redraw them)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Row order of the table and legend order of the plot: the floors, then nanomsg_rs on both
#: backends, then the other bindings.
LIB_ORDER = (
    "C",
    "C-hardened",
    "C-nng",
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
}
#: The C floors (drawn dashed); every "vs C" is against "C".
FLOOR_LIBS = ("C", "C-hardened", "C-nng")
LIB_COLORS = {
    "C": "#222222",
    "C-hardened": "#555555",
    "C-nng": "#8c8c8c",
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
    """``1234567`` -> ``"1.23M"``; three significant digits."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def figure(value: float, metric: str) -> str:
    """A median or bound as the table shows it."""
    return f"{value:.1f}" if metric == "latency" else si(value)


def ordered(libs: dict[str, Any]) -> list[str]:
    """The libraries of a record, in report order."""
    return [lib for lib in LIB_ORDER if lib in libs] + [lib for lib in libs if lib not in LIB_ORDER]


def target_text(record: dict[str, Any]) -> str:
    """``">= 0.80 met"`` for the subject's row, or ``""``."""
    target = record.get("target")
    if target is None:
        return ""
    met = record.get("target_met")
    verdict = "n/a" if met is None else ("met" if met else "MISSED")
    if met is not None and record.get("target_firm") is False:
        verdict += " (marginal)"
    return f"{target['op']} {target['value']:.2f} {verdict}"


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
        "random order",
        "  median: of the samples   min - max: their spread   vs C: median / C's median",
        "  rounds: the middle half (quartiles) of the per-round ratios to C",
        "  cpu: CPU µs per message (per round trip for latency) of the measuring process, all",
        "       its threads, median: much less disturbed by the machine's load than the rates",
    ]
    if "C-nng" in meta.get("libraries", []):
        lines += [
            "  C (nng compat): the same C program on nng's nanomsg-compatible API;",
            "  nanomsg_rs-nng: nanomsg_rs built on that API; its row adds its ratio to that floor",
        ]
    lines.append("")
    header = (
        f"  {'library':<15} {'median':>9} {'min - max':>19} {'vs C':>6} {'rounds':>13} "
        f"{'cpu':>7}  target"
    )
    for record in data["variants"]:
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
            lines.append(
                f"  {label:<15} {figure(r['median'], metric):>9} {spread:>19} {ratio:>6} "
                f"{rounds:>13} {cpu:>7}  {mark}".rstrip()
            )
        for lib in meta.get("libraries", []):
            only = record.get("only_libs")
            if lib not in results and (only is None or lib in only):
                label = LIB_LABELS.get(lib, lib)
                lines.append(f"  {label:<15} {'-':>9}  left out: see the notes below")
        lines.append("")
    targets = [r for r in data["variants"] if r.get("target")]
    if targets:
        lines.append(f"Targets ({subject} / C, each within this run):")
        for record in targets:
            result = record["results"].get(subject, {})
            ratio, cpu = result.get("ratio"), result.get("cpu_ratio")
            shown = "n/a" if ratio is None else f"{ratio:.2f}"
            by_cpu = "" if cpu is None else f"   by CPU time per message: {cpu:.2f}"
            line = f"  {record['name']:<28} {shown:>5}  {target_text(record)}"
            lines.append(f"{line:<66}{by_cpu}".rstrip())
        lines.append("  (marginal: the middle half of the per-round ratios straddles the target:")
        lines.append("  a quarter or more of the rounds went the other way)")
        lines.append("")
    lines += floor_summary(data["variants"])
    notes = data.get("notes") or []
    if notes:
        lines.append("Notes:")
        lines.extend(f"  - {note}" for note in notes)
        lines.append("")
    return "\n".join(lines)


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


def plot(data: dict[str, Any], path: Path) -> str:
    """Draws the PNG: the headline ratios, the size sweep and the fan-out. Returns a line
    saying where it went, or why there is no plot."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"plot skipped: matplotlib is not installed ({REQUIREMENTS_HINT})"
    variants = data["variants"]
    meta = data["meta"]
    headline = [r for r in variants if r["workload"] in ("pingpong", "throughput", "latency")]
    sweep = [r for r in variants if r["workload"] == "sweep"]
    fanout = [r for r in variants if r["workload"] == "fanout"]
    panels = [p for p in (headline, sweep, fanout) if p]
    if not panels:
        return "plot skipped: no results"
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 5.2), squeeze=False)
    axis_iter = iter(axes[0])
    if headline:
        _headline(next(axis_iter), headline)
    if sweep:
        _curve(
            next(axis_iter),
            sweep,
            "message size",
            "µs per message",
            "size sweep: PUSH -> PULL over ipc",
            size_tick,
        )
    if fanout:
        _curve(
            next(axis_iter),
            fanout,
            "SUB sockets (N)",
            "µs per published message",
            f"PUB -> N SUB over ipc, bursts of {meta.get('fanout_burst', '?')}",
            lambda x: f"{x:g}",
        )
    mach = meta.get("machine", {})
    fig.suptitle(
        f"nanomsg-rs vs other bindings and C, {meta.get('date', '')[:10]}, "
        f"{mach.get('cpu', '')} ({mach.get('cores', '?')} cores)"
        + ("  [--quick]" if meta.get("quick") else ""),
        fontsize=11,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"plot: {path}"


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
    ax.set_xticklabels([r["name"].replace(" ", "\n", 1) for r in records], fontsize=8)
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
) -> None:
    """Log-log lines of µs per message against the records' x, shaded min-max."""
    from matplotlib.ticker import NullLocator

    libs = ordered({lib: 0 for r in records for lib in r["results"]})
    for lib in libs:
        points = [(r["x"], r["results"][lib]) for r in records if lib in r["results"] and r["x"]]
        if not points:
            continue
        xs = [x for x, _ in points]
        mid = [1e6 / r["median"] for _, r in points]
        lo = [1e6 / r["max"] for _, r in points]
        hi = [1e6 / r["min"] for _, r in points]
        color = LIB_COLORS.get(lib)
        style = "--" if lib in FLOOR_LIBS else "-"
        ax.plot(
            xs, mid, style, marker="o", markersize=3, color=color, label=LIB_LABELS.get(lib, lib)
        )
        ax.fill_between(xs, lo, hi, color=color, alpha=0.15, linewidth=0)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ticks = sorted({r["x"] for r in records if r["x"]})
    ax.set_xticks(ticks)
    ax.set_xticklabels([tick(x) for x in ticks], fontsize=8)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + " (lower is better)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
