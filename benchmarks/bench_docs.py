"""The performance figures that README.md and the documentation site (docs/*.rst) quote, all
drawn from one results record (``benchmarks/results.json``, what ``run.py`` writes).

Each figure lives in a generated block, between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->`` in markdown and between the comments ``.. bench:NAME`` and
``.. /bench:NAME`` in reStructuredText. ``run.py --docs`` (``make bench``) rewrites them
from its run, ``run.py --report benchmarks/results.json --docs`` from the record alone, and
``tests/test_docs.py`` fails when a block differs from what the record gives: a figure
edited by hand, or a record replaced without its blocks.

A remark by hand about one run (say, that it repeated another) goes between
``<!-- bench-note: DATE -->`` and ``<!-- /bench-note -->`` (``.. bench-note: DATE`` and
``.. /bench-note`` in rst), DATE being the record's ``meta.date``: the test fails once the
record is of another run, until the remark is rewritten or removed.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_async
import bench_goals
import bench_report
import bench_scale
from bench_report import LIB_LABELS, figure, si, verdict_text

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
#: The files with generated blocks: README.md, the site's pages, and benchmarks/README.md
#: (whose Results blocks are bench_report's, filled by ``run.py --readme``).
DOC_FILES = ("README.md", "docs/*.rst", "benchmarks/README.md")

#: The bindings of the comparison tables, in their order.
BINDINGS = ("nanomsg_rs", "nnpy", "nanomsg", "pynng", "pyzmq")
#: The rows of the summary table: (title, workload, size, mode).
SUMMARY_ROWS = (
    ("pingpong PAIR inproc 64 B, msg/s", "pingpong", None, "recv"),
    ("PUSH/PULL ipc 64 B, msg/s", "throughput", 64, "recv"),
    ("PUSH/PULL ipc 64 KiB {recv}, msg/s", "throughput", 65536, "recv"),
    ("PUSH/PULL ipc 64 KiB {recv_msg}, msg/s", "throughput", 65536, "msg"),
    ("PUSH/PULL ipc 1 MiB {recv}, msg/s", "throughput", 1048576, "recv"),
    ("REQ/REP tcp 64 B round trip, µs", "latency", None, "recv"),
)
#: The receive calls of the throughput modes.
MODE_CALLS = {"recv": "recv", "into": "recv_into", "msg": "recv_msg"}
WIDTH = 95


class Fmt:
    """Markdown or reStructuredText: code spans, tables and the block markers."""

    def __init__(self, kind: str, run_section: str = "Performance") -> None:
        self.kind = kind
        self.run_section = run_section  # the markdown file's section that shows the run

    def code(self, text: str) -> str:
        return f"`{text}`" if self.kind == "md" else f"``{text}``"

    def begin(self, name: str) -> str:
        return f"<!-- bench:{name} -->" if self.kind == "md" else f".. bench:{name}"

    def end(self, name: str) -> str:
        return f"<!-- /bench:{name} -->" if self.kind == "md" else f".. /bench:{name}"

    def the_run(self) -> str:
        """Where the run is shown in full."""
        if self.kind == "rst":
            return "the run of :doc:`performance`"
        return f"the run of {self.run_section}"

    def table(self, header: list[str], rows: list[list[str]]) -> list[str]:
        if self.kind == "md":

            def line(cells: list[str]) -> str:
                return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"

            return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]
        lines = [".. list-table::", "   :header-rows: 1", ""]
        for row in [header, *rows]:
            for i, cell in enumerate(row):
                lead = "   * -" if i == 0 else "     -"
                lines.append(f"{lead} {cell}".rstrip())
        return lines


def fmt_for(path: Path) -> Fmt:
    if path.suffix != ".md":
        return Fmt("rst")
    return Fmt("md", "Results" if path.parent.name == "benchmarks" else "Performance")


def paragraph(text: str) -> list[str]:
    """A paragraph wrapped as the sources are (code spans may wrap: both formats allow it),
    never between a number and its unit."""
    glued = re.sub(r"(\d) (B|KiB|MiB|µs|msg/s|times)\b", "\\1\u00a0\\2", text)
    lines = textwrap.wrap(glued, WIDTH, break_long_words=False, break_on_hyphens=False)
    return [line.replace("\u00a0", " ") for line in lines]


# -- reading the record -----------------------------------------------------------------------


def find(
    data: dict[str, Any], workload: str, size: int | None = None, mode: str = "recv", batch: int = 0
) -> dict[str, Any] | None:
    """The record of a workload (a throughput row: its size, mode and batch)."""
    for record in data["variants"]:
        if record["workload"] != workload:
            continue
        if workload == "throughput" and (
            record.get("x") != size
            or record.get("mode", "recv") != mode
            or (record.get("batch") or 0) != batch
        ):
            continue
        if workload != "throughput" and record.get("x") is not None:
            continue
        if workload == "async" and record.get("target") is not None:
            continue
        return record
    return None


def result(record: dict[str, Any] | None, lib: str) -> dict[str, Any] | None:
    return None if record is None else record["results"].get(lib)


def patch_level(data: dict[str, Any]) -> str:
    """The library nanomsg_rs measured, as its LIBRARY_VERSION (``1.1.5+nanomsg-rs.29``)."""
    found = data["meta"].get("versions", {}).get("nanomsg_rs_from", "")
    return found.split()[-1] if found else "?"


def targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in data["variants"] if r.get("target")]


def short_name(record: dict[str, Any], f: Fmt) -> str:
    """``throughput 1 KiB recv_into`` -> ``1 KiB `recv_into```."""
    name = record["name"].removeprefix("throughput ")
    if record["workload"] == "throughput":
        call = MODE_CALLS[record.get("mode", "recv")]
        name = name.removesuffix(f" {call}") + " " + f.code(call)
    return name


def subject_ratio(record: dict[str, Any] | None) -> float | None:
    r = result(record, "nanomsg_rs")
    return None if r is None else r.get("ratio")


def times(a: float, b: float) -> str:
    """How many times ``a`` is ``b``, as the sentences say it: ``2.1``."""
    return f"{a / b:.1f}"


# -- the blocks -------------------------------------------------------------------------------


def block_summary(data: dict[str, Any], f: Fmt) -> list[str]:
    """The run, the table of the main workloads per library, and the targets' headline."""
    meta = data["meta"]
    mach = meta.get("machine", {})
    start = (mach.get("loadavg_start") or [float("nan")])[0]
    end = (mach.get("loadavg_end") or [float("nan")])[0]
    lines = paragraph(
        f"One full run of {f.code('make bench')} on the {mach.get('cores', '?')}-core "
        f"development machine ({meta.get('date', '?')[:10]}, commit "
        f"{mach.get('commit', '?')}, nanomsg_rs on libnanomsg {patch_level(data)}; 1-minute "
        f"load {start:.2f} at the start, {end:.2f} at the end"
        + (
            "; each process of the two-process rows on a CPU of its own"
            if meta.get("pinned")
            else ""
        )
        + "), medians, ratio to C in parentheses:"
    )
    rows = []
    for title, workload, size, mode in SUMMARY_ROWS:
        record = find(data, workload, size, mode)
        if record is None:
            continue
        metric = record["metric"]
        c = result(record, "C")
        c_cell = "" if c is None else figure(c["median"], metric)
        if mode == "msg" and c_cell:
            c_cell += " (its zero-copy receive)"
        row = [title.format(recv=f.code("recv"), recv_msg=f.code("recv_msg")), c_cell]
        for lib in BINDINGS:
            r = result(record, lib)
            if r is None:
                row.append("")
                continue
            ratio = "" if r.get("ratio") is None else f" ({r['ratio']:.2f})"
            row.append(figure(r["median"], metric) + ratio)
        rows.append(row)
    lines += ["", *f.table(["workload", "C", *BINDINGS], rows), ""]
    lines += paragraph(headline(data, f))
    return lines


def headline(data: dict[str, Any], f: Fmt) -> str:
    """How many targets the run met, how firmly, and the ratios behind them."""
    judged = targets(data)
    met = [r for r in judged if verdict_text(r).startswith("met")]
    marginal = [r for r in met if r.get("target_firm") is False]
    text = (
        f"{len(met)} of the {len(judged)} targets the run judges are met, by rate and by CPU "
        "time per message alike"
    )
    if marginal:
        text += (
            f", {len(marginal)} of them marginal (a quarter or more of their rounds on the "
            f"other side of the target: {', '.join(short_name(r, f) for r in marginal)})"
        )
    missed = [r for r in judged if r not in met]
    if missed:
        text += "; missed: " + ", ".join(
            f"{short_name(r, f)} ({verdict_text(r)}"
            + ("" if subject_ratio(r) is None else f", {subject_ratio(r):.2f}")
            + ")"
            for r in missed
        )
    parts = []
    for workload, what in (("pingpong", "pingpong"), ("latency", "latency")):
        ratio = subject_ratio(next((r for r in judged if r["workload"] == workload), None))
        if ratio is not None:
            parts.append(f"{what} {ratio:.2f}{' of C' if workload == 'pingpong' else ''}")
    sized = [subject_ratio(r) for r in judged if r["workload"] == "throughput"]
    sized = [x for x in sized if x is not None]
    if sized:
        parts.append(
            f"the throughput rows from 16 B to 1 MiB with {f.code('recv')}, "
            f"{f.code('recv_into')} and {f.code('recv_msg')} at {min(sized):.2f}-"
            f"{max(sized):.2f} of C"
        )
    rivals = [
        ((r.get("against") or "").removesuffix(" (asyncio)"), subject_ratio(r))
        for r in judged
        if r["workload"] == "async"
    ]
    rivals = [(rival, ratio) for rival, ratio in rivals if rival and ratio is not None]
    if rivals:
        parts.append(
            "async round trips "
            + " and ".join(f"{ratio:.2f} times {rival}'s" for rival, ratio in rivals)
        )
    if parts:
        text += ": " + ", ".join(parts)
    text += "."
    pingpong = find(data, "pingpong")
    ours, nnpy = result(pingpong, "nanomsg_rs"), result(pingpong, "nnpy")
    if ours and nnpy:
        text += (
            f" nanomsg_rs's pingpong runs {times(ours['median'], nnpy['median'])} times as "
            "fast as nnpy's."
        )
    return text


def block_large(data: dict[str, Any], f: Fmt) -> list[str]:
    """The 1 MiB rows (what patch 0029's buffer cache is for)."""
    cells = []
    for mode, call in MODE_CALLS.items():
        ratio = subject_ratio(find(data, "throughput", 1048576, mode))
        if ratio is not None:
            cells.append(f"{f.code(call)} {ratio:.2f}")
    if not cells:
        return []
    return paragraph(f"1 MiB in the run above: {', '.join(cells)} of C.")


def block_zerocopy(data: dict[str, Any], f: Fmt) -> list[str]:
    """The three receive calls at 64 KiB."""
    cells = []
    for mode, call in MODE_CALLS.items():
        r = result(find(data, "throughput", 65536, mode), "nanomsg_rs")
        if r is not None:
            cells.append(f"{f.code(call)} {si(r['median'])} msg/s")
    if not cells:
        return []
    return paragraph(f"64 KiB in the run above: {', '.join(cells)}.")


def block_batches(data: dict[str, Any], f: Fmt) -> list[str]:
    """The batch rows against the single calls at 64 B."""
    batches = [r for r in data["variants"] if r["workload"] == "throughput" and r.get("batch")]
    rows = [(r["batch"], result(r, "nanomsg_rs")) for r in batches]
    rows = [(n, r) for n, r in rows if r is not None and r.get("ratio") is not None]
    single = subject_ratio(find(data, "throughput", batches[0]["size"] if batches else 64))
    if not rows or single is None:
        return []
    rates = " and ".join(f"{si(r['median'])}" for _, r in rows)
    ratios = sorted({f"{r['ratio']:.2f}" for _, r in rows})
    sizes = " and ".join(str(n) for n, _ in rows)
    return paragraph(
        f"In the run above, batches of {sizes}: {rates} msg/s, {' and '.join(ratios)} of C, "
        f"where the single calls reach {single:.2f}."
    )


def block_asyncio(data: dict[str, Any], f: Fmt) -> list[str]:
    """Round trips a second under each event loop."""
    record = find(data, "async")
    if record is None:
        return []
    res = record["results"]

    def rate(name: str) -> str | None:
        r = res.get(name)
        return None if r is None else si(r["median"])

    ours = rate("nanomsg_rs (asyncio)")
    if ours is None:
        return []
    loops = [
        f"{loop} {rate(f'nanomsg_rs ({loop})')}"
        for loop in ("uvloop", "trio")
        if rate(f"nanomsg_rs ({loop})")
    ]
    rivals = [
        f"{name} {rate(f'{name} (asyncio)')}"
        for name in ("zmq.asyncio", "pynng")
        if rate(f"{name} (asyncio)")
    ]
    text = f"nanomsg_rs {ours} round trips/s"
    if loops:
        text += f" ({', '.join(loops)})"
    if rivals:
        text += ", " + ", ".join(rivals)
    nopoll = rate(f"{bench_async.NOPOLL_LIBRARY} (asyncio)")
    if nopoll:
        knob = f"{bench_async.SPIN_ENV}=0"
        text += f"; nanomsg_rs with its worker never polling ({f.code(knob)}) {nopoll}"
    return paragraph(text + ".")


def block_backends(data: dict[str, Any], f: Fmt) -> list[str]:
    """What nng's compatibility layer costs per small message, in C and from Python."""
    pingpong = find(data, "pingpong")
    c, c_nng = result(pingpong, "C"), result(pingpong, "C-nng")
    ours, ours_nng = result(pingpong, "nanomsg_rs"), result(pingpong, "nanomsg_rs-nng")
    if not (c and c_nng and ours and ours_nng):
        return []
    return paragraph(
        f"Per small message nng's compatibility layer costs "
        f"{times(c['median'], c_nng['median'])} times as much as libnanomsg in C and "
        f"{times(ours['median'], ours_nng['median'])} times from Python: pingpong of 64 B "
        f"measured {si(c['median'])} msg/s for C on libnanomsg and {si(ours['median'])} for "
        f"nanomsg_rs, {si(c_nng['median'])} for C on nng and {si(ours_nng['median'])} for "
        f"nanomsg_rs on nng, in {f.the_run()}."
    )


def block_nnpy(data: dict[str, Any], f: Fmt) -> list[str]:
    """nanomsg_rs's pingpong against nnpy's."""
    pingpong = find(data, "pingpong")
    ours, nnpy = result(pingpong, "nanomsg_rs"), result(pingpong, "nnpy")
    if not (ours and nnpy):
        return []
    return paragraph(
        f"A pingpong over inproc runs {times(ours['median'], nnpy['median'])} times as fast "
        f"as on nnpy ({si(ours['median'])} msg/s against {si(nnpy['median'])} in "
        f"{f.the_run()})."
    )


#: The rows of the table of both backends: (title, workload, size, mode).
BACKEND_ROWS = (
    ("pingpong 64 B, msg/s", "pingpong", None, "recv"),
    ("throughput 64 B, msg/s", "throughput", 64, "recv"),
    ("throughput 64 KiB {recv}", "throughput", 65536, "recv"),
    ("throughput 64 KiB {recv_msg}", "throughput", 65536, "msg"),
    ("throughput 1 MiB {recv}", "throughput", 1048576, "recv"),
    ("throughput 1 MiB {recv_msg}", "throughput", 1048576, "msg"),
    ("latency tcp 64 B, µs", "latency", None, "recv"),
)


def block_nngtable(data: dict[str, Any], f: Fmt) -> list[str]:
    """Both backends and both floors, row by row; the nng row against its own floor."""
    libs = ("C", "C-nng", "nanomsg_rs", "nanomsg_rs-nng")
    header = [
        "workload",
        *(LIB_LABELS.get(lib, lib) for lib in libs),
        "nng row vs its own floor (by CPU)",
    ]
    rows = []
    for title, workload, size, mode in BACKEND_ROWS:
        record = find(data, workload, size, mode)
        if record is None or any(result(record, lib) is None for lib in libs):
            continue
        row = [title.format(recv=f.code("recv"), recv_msg=f.code("recv_msg"))]
        for lib in libs:
            r = result(record, lib)
            assert r is not None
            ratio = "" if lib == "C" or r.get("ratio") is None else f" ({r['ratio']:.2f})"
            row.append(figure(r["median"], record["metric"]) + ratio)
        floor = result(record, "nanomsg_rs-nng").get("floor") or {}  # type: ignore[union-attr]
        cpu = "" if floor.get("cpu_ratio") is None else f" ({floor['cpu_ratio']:.2f})"
        row.append("" if floor.get("ratio") is None else f"{floor['ratio']:.2f}{cpu}")
        rows.append(row)
    return f.table(header, rows) if rows else []


def block_compare(data: dict[str, Any], f: Fmt) -> list[str]:
    """The table of the bindings: library, hostile peers, pingpong's ratio, asyncio."""
    pingpong = find(data, "pingpong")
    own = {"pynng": " (nng)", "pyzmq": " (libzmq)"}

    def ratio(lib: str) -> str:
        r = result(pingpong, lib)
        if r is None or r.get("ratio") is None:
            return "not measured"
        return f"{r['ratio']:.2f}{own.get(lib, '')}"

    header = ["", "nanomsg-rs", "nnpy", "nanomsg (PyPI)", "pynng", "pyzmq"]
    rows = [
        [
            "C library",
            "libnanomsg 1.1.5, hardened (or nng)",
            "libnanomsg",
            "libnanomsg",
            "nng",
            "libzmq",
        ],
        ["survives the hostile peers of Security", "yes", "no", "no", "yes", ""],
        [
            f"pingpong, ratio to C on libnanomsg ({f.the_run()})",
            *(ratio(lib) for lib in BINDINGS),
        ],
        ["asyncio", "yes", "no", "no", "yes", "yes"],
    ]
    return f.table(header, rows)


def block_pyzmq(data: dict[str, Any], f: Fmt) -> list[str]:
    """nanomsg_rs against pyzmq, row by row, the rows it loses included: both medians, its
    speed over pyzmq's by rate and by CPU time, and C on libzmq where the run has it."""
    rows = bench_goals.against_pyzmq(data["variants"])
    if not rows:
        return paragraph(f"pyzmq was not measured in {f.the_run()}.")
    lines = paragraph(
        f"nanomsg_rs against pyzmq in {f.the_run()}: medians, then nanomsg_rs's speed over "
        "pyzmq's (above 1 it is faster; for latency, pyzmq's time over ours), by rate and by "
        f"CPU time per message; in brackets, nanomsg_rs's {f.code('recv_into')} and "
        f"{f.code('recv_msg')}, read against pyzmq's {f.code('recv')}. Async is zmq.asyncio. "
        "C on libzmq is libzmq itself, without a binding:"
    )
    others = {
        (r["record"]["size"], r["record"].get("mode")): r
        for r in rows
        if r["record"]["workload"] == "throughput" and r["record"].get("mode", "recv") != "recv"
    }
    shown = [r for r in rows if r["record"].get("mode", "recv") == "recv"]
    table = []
    for row in shown:
        record = row["record"]
        metric = record["metric"]
        unit = "µs" if metric == "latency" else record["unit"]
        c_zmq = record["results"].get("C-zmq")
        speed, cpu = (
            f"{row['speed']:.2f}",
            "" if row["cpu_speed"] is None else f"{row['cpu_speed']:.2f}",
        )
        more = [
            (MODE_CALLS[mode], others[(record["size"], mode)])
            for mode in ("into", "msg")
            if record["workload"] == "throughput"
            and record.get("x") is not None
            and (record["size"], mode) in others
        ]
        if more:
            speed += " (" + ", ".join(f"{f.code(c)} {m['speed']:.2f}" for c, m in more) + ")"
            cpu += (
                " ("
                + ", ".join(f"{f.code(c)} {m['cpu_speed']:.2f}" for c, m in more if m["cpu_speed"])
                + ")"
            )
        table.append(
            [
                f"{record['name']}, {unit}",
                figure(row["ours"]["median"], metric),
                figure(row["theirs"]["median"], metric),
                speed,
                cpu,
                "" if c_zmq is None else figure(c_zmq["median"], metric),
            ]
        )
    header = ["row", "nanomsg_rs", "pyzmq", "nanomsg_rs / pyzmq", "by CPU time", "C on libzmq"]
    lines += ["", *f.table(header, table), ""]
    behind = [r["record"]["name"] for r in shown if r["speed"] < 1.0]
    text = f"nanomsg_rs is behind pyzmq in {len(behind)} of these {len(shown)} rows"
    text += f" ({', '.join(behind)})" if behind else ""
    modes = list(others.values())
    if modes:
        lost = sum(1 for r in modes if r["speed"] < 1.0)
        text += (
            f", and with {f.code('recv_into')} or {f.code('recv_msg')} in {lost} of {len(modes)}"
        )
    return lines + paragraph(text + ".")


#: Each block: the workloads a record must have for it, and how it is drawn.
BLOCKS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any], Fmt], list[str]]]] = {
    "summary": (("pingpong", "throughput", "latency"), block_summary),
    "large": (("throughput",), block_large),
    "zerocopy": (("throughput",), block_zerocopy),
    "batches": (("throughput",), block_batches),
    "asyncio": (("async",), block_asyncio),
    "backends": (("pingpong",), block_backends),
    "nnpy": (("pingpong",), block_nnpy),
    "compare": (("pingpong",), block_compare),
    "nngtable": (("pingpong", "throughput", "latency"), block_nngtable),
    "pyzmq": (("pingpong", "throughput"), block_pyzmq),
}


# -- the files --------------------------------------------------------------------------------


def doc_files(root: Path = ROOT) -> list[Path]:
    """The files of :data:`DOC_FILES` under ``root``."""
    return sorted(p for pattern in DOC_FILES for p in root.glob(pattern))


def blocks_in(text: str, f: Fmt) -> dict[str, str]:
    """The generated blocks of a file's text: name -> body (between the markers)."""
    begin = re.escape(f.begin("@")).replace("@", "([a-z]+)")
    found = {}
    for m in re.finditer(rf"^{begin}$", text, re.M):
        name = m.group(1)
        end = f.end(name)
        stop = text.find(f"\n{end}\n", m.end())
        if stop < 0:
            stop = text.find(f"\n{end}", m.end())
        if stop < 0:
            raise ValueError(f"{f.begin(name)} has no {end}")
        found[name] = text[m.end() + 1 : stop + 1]
    return found


def render(
    name: str, data: dict[str, Any], f: Fmt, path: Path | None = None, root: Path = ROOT
) -> str | None:
    """A block's body as the record gives it, or None when the record lacks its workloads.
    The blocks of bench_report (benchmarks/README.md's Results) too, with their plot linked
    from ``path``."""
    measured = {r["workload"] for r in data["variants"]}
    if name == bench_scale.WORKLOAD:  # its own record (bench_scale.record_of)
        return bench_scale.block(data, f.kind, (path or root / "README.md").parent, root)
    if name in bench_report.MARKDOWN_BLOCKS and f.kind == "md":
        if not set(bench_report.MARKDOWN_BLOCKS[name]) <= measured:
            return None
        where = (path or root / "README.md").parent
        image = os.path.relpath(root / "benchmarks" / "fanout.png", where)
        return "\n".join(bench_report.markdown_block(name, data, {"fanout": image})) + "\n"
    if name not in BLOCKS:
        raise ValueError(f"unknown generated block {name!r}; known: {', '.join(BLOCKS)}")
    needs, draw = BLOCKS[name]
    if not set(needs) <= measured:
        return None
    body = draw(data, f)
    if f.kind == "rst":  # a blank line after the opening comment, and before the closing one
        body = ["", *body, ""]
    return "\n".join(body) + "\n"


def fill(path: Path, data: dict[str, Any], only: tuple[str, ...] | None = None) -> list[str]:
    """Rewrites the generated blocks of ``path`` from ``data`` (``only`` these, if given);
    returns their names."""
    f = fmt_for(path)
    text = path.read_text()
    filled = []
    for name, old in blocks_in(text, f).items():
        if name not in BLOCKS and name != bench_scale.WORKLOAD:
            continue  # bench_report's, which run.py --readme fills
        if only is not None and name not in only:
            continue
        new = render(name, data, f, path)
        if new is None:
            continue
        text = text.replace(
            f"{f.begin(name)}\n{old}{f.end(name)}", f"{f.begin(name)}\n{new}{f.end(name)}"
        )
        filled.append(name)
    path.write_text(text)
    return filled


def fill_docs(data: dict[str, Any], root: Path = ROOT) -> dict[Path, list[str]]:
    """Fills the blocks of every file of :data:`DOC_FILES`; returns what it filled where."""
    done = {}
    for path in doc_files(root):
        filled = fill(path, data)
        if filled:
            done[path] = filled
    return done


def notes_in(text: str, f: Fmt) -> list[str]:
    """The run dates of the hand-written remarks (``bench-note``) of a file."""
    if f.kind == "md":
        return re.findall(r"^<!-- bench-note: (\S+) -->$", text, re.M)
    return re.findall(r"^\.\. bench-note: (\S+)$", text, re.M)


def missing(data: dict[str, Any]) -> list[str]:
    """The workloads some block needs that ``data`` has not measured."""
    needs = {w for n, _ in BLOCKS.values() for w in n}
    needs |= {w for n in bench_report.MARKDOWN_BLOCKS.values() for w in n}
    return sorted(needs - {r["workload"] for r in data["variants"]})


def stale(data: dict[str, Any], root: Path = ROOT) -> list[str]:
    """Every generated block that differs from what ``data`` gives, and every remark about
    another run (``"README.md: block summary"``); empty when the files agree with the
    record."""
    problems = [f"the record has no {w} workload" for w in missing(data)]
    for path in doc_files(root):
        f = fmt_for(path)
        text = path.read_text()
        rel = path.relative_to(root)
        for name, old in blocks_in(text, f).items():
            new = render(name, data, f, path, root)
            if new is not None and new != old:
                problems.append(f"{rel}: block {name}")
        for date in notes_in(text, f):
            if date != data["meta"].get("date"):
                problems.append(f"{rel}: bench-note of the run of {date}")
    return problems
