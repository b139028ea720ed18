"""Issue 25's benchmark columns, without measuring: the targets judged on a results record
(bench_goals), how they show in the table and in the README blocks, and the reading of
``strace -c`` summaries (bench_syscalls) on a real strace run. The quick runs that produce
these columns are in test_benchmarks_smoke.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_docs
import bench_goals
import bench_report
import bench_syscalls


def result(median: float, cpu: float, samples: list[float] | None = None, **extra: Any) -> dict:
    """A library's result as bench_stats.summarise writes it (the fields the goals read)."""
    return {
        "median": median,
        "min": min(samples or [median]),
        "max": max(samples or [median]),
        "samples": samples or [median] * 3,
        "cpu_us": cpu,
        "ratio": None,
        "round_ratio_iqr": None,
        **extra,
    }


def record(workload: str, name: str, results: dict, **fields: Any) -> dict:
    base = {
        "workload": workload,
        "name": name,
        "title": name,
        "metric": "rate",
        "unit": "msg/s",
        "size": 64,
        "mode": "recv",
        "batch": 0,
        "x": None,
        "target": None,
        "results": results,
    }
    return {**base, **fields}


def syscalls(per_message: float) -> dict:
    return {"per_message": per_message, "calls": 0, "messages": 1, "processes": 2, "top": {}}


def a_run() -> list[dict]:
    """A run's records: nanomsg_rs behind pyzmq at 64 B and ahead at 4 KiB, at C's rate."""
    return [
        record(
            "pingpong",
            "pingpong 64 B",
            {
                "C": result(1.0e6, 1.0),
                "nanomsg_rs": result(1.1e6, 0.9),
                "pyzmq": result(2.0e6, 0.5),
            },
        ),
        record(
            "throughput",
            "throughput 64 B",
            {
                "C": result(1.0e6, 2.0, [1.0e6, 1.0e6, 1.0e6], syscalls=syscalls(2.0)),
                "C-zmq": result(3.0e6, 0.3, syscalls=syscalls(0.1)),
                "nanomsg_rs": result(1.2e6, 1.5, [1.2e6, 1.1e6, 1.3e6], syscalls=syscalls(0.05)),
                "pyzmq": result(1.5e6, 1.0, [1.5e6, 1.5e6, 1.5e6], syscalls=syscalls(0.1)),
            },
            x=64,
        ),
        record(
            "throughput",
            "throughput 64 B recv_into",
            {"C": result(1.0e6, 2.0), "nanomsg_rs": result(1.6e6, 1.2)},
            x=64,
            mode="into",
        ),
        record(
            "throughput",
            "throughput 4 KiB",
            {"C": result(3e5, 4.0), "nanomsg_rs": result(3e5, 4.0), "pyzmq": result(2e5, 5.0)},
            x=4096,
            size=4096,
        ),
        record(
            "throughput",
            "throughput 64 KiB",
            {"C": result(7e4, 14), "nanomsg_rs": result(6e4, 15), "pyzmq": result(2e4, 50)},
            x=65536,
            size=65536,
        ),
        record(
            "throughput",
            "throughput 64 B batch 64",
            {"C": result(1.0e6, 2.0), "nanomsg_rs": result(1.2e6, 1.5)},
            batch=64,
        ),
        record(
            "throughput",
            "throughput 64 B tcp",
            {"C": result(4e5, 2.0), "nanomsg_rs": result(4e5, 2.0), "pyzmq": result(1.2e6, 0.4)},
        ),
        record(
            "latency",
            "latency 64 B",
            {"C": result(90.0, 10.0), "nanomsg_rs": result(99.0, 9.0), "pyzmq": result(110, 12)},
            metric="latency",
            unit="µs",
        ),
        record("fanout", "fanout N=8", {"C": result(3e5, 3), "nanomsg_rs": result(3e5, 3)}, x=8),
        record(
            "fanout",
            "fanout N=16",
            {"C": result(3e5, 3), "nanomsg_rs": result(3e5, 3), "pyzmq": result(1e6, 1)},
            x=16,
        ),
        record(
            "async",
            "async vs zmq.asyncio",
            {
                "nanomsg_rs": result(
                    10e3, 100, ratio=1.6, round_ratio_iqr=[1.55, 1.65], cpu_ratio=1.4
                ),
                "pyzmq": result(6.25e3, 140, ratio=1.0),
            },
            against="zmq.asyncio (asyncio)",
            unit="round trips/s",
        ),
    ]


def goals_of(records: list[dict]) -> dict[str, dict[str, dict]]:
    return {r["name"]: {g["label"]: g for g in r["goals"]} for r in records}


def test_each_row_gets_the_issues_targets() -> None:
    found = goals_of(bench_goals.judge(a_run()))
    assert list(found["pingpong 64 B"]) == [">= 1.0x pyzmq", ">= 0.9x C"]
    small = [">= 1.0x pyzmq", ">= 0.9x C", "<= 0.1 syscalls/msg"]
    assert list(found["throughput 64 B"]) == small
    assert list(found["throughput 64 B recv_into"]) == small
    assert list(found["throughput 64 B tcp"]) == small
    assert list(found["throughput 4 KiB"]) == [">= 1.0x pyzmq", ">= 0.9x C"]
    assert list(found["throughput 64 KiB"]) == [">= 0.9x C"]  # above 4 KiB: C only
    assert found["throughput 64 B batch 64"] == {}  # no target, as in the team's targets
    assert list(found["latency 64 B"]) == ["<= 1.05x C"]
    assert list(found["fanout N=8"]) == [">= 0.9x C"]
    assert list(found["fanout N=16"]) == [">= 1.0x pyzmq", ">= 0.9x C"]
    assert list(found["async vs zmq.asyncio"]) == [">= 1.5x zmq.asyncio"]


def test_ratios_and_verdicts_by_rate_and_by_cpu() -> None:
    found = goals_of(bench_goals.judge(a_run()))
    ping = found["pingpong 64 B"][">= 1.0x pyzmq"]
    assert ping["measured"] == pytest.approx(0.55) and ping["met"] is False
    assert ping["cpu_ratio"] == pytest.approx(0.5 / 0.9)
    assert bench_goals.verdict(ping) == "MISSED"

    # every round ratio 1.2/1.5, 1.1/1.5, 1.3/1.5: all below 1, so the miss is firm
    t64 = found["throughput 64 B"][">= 1.0x pyzmq"]
    assert t64["measured"] == pytest.approx(0.8)
    assert t64["round_ratio_iqr"][1] < 1.0 and t64["firm"] is True
    assert found["throughput 64 B"]["<= 0.1 syscalls/msg"]["measured"] == 0.05
    assert found["throughput 64 B"]["<= 0.1 syscalls/msg"]["met"] is True

    # recv_into has no pyzmq result of its own: read against pyzmq's recv at that size
    into = found["throughput 64 B recv_into"][">= 1.0x pyzmq"]
    assert into["measured"] == pytest.approx(1.6 / 1.5) and into["met"] is True
    assert into["cpu_ratio"] == pytest.approx(1.0 / 1.2) and into["cpu_met"] is False
    assert bench_goals.verdict(into) == "MISSED by CPU"
    assert found["throughput 64 B recv_into"]["<= 0.1 syscalls/msg"]["met"] is None

    # latency: our time over C's, lower is better
    lat = found["latency 64 B"]["<= 1.05x C"]
    assert lat["measured"] == pytest.approx(1.1) and lat["met"] is False
    assert lat["cpu_ratio"] == pytest.approx(0.9) and lat["cpu_met"] is True

    asy = found["async vs zmq.asyncio"][">= 1.5x zmq.asyncio"]
    assert (asy["measured"], asy["met"], asy["cpu_met"]) == (1.6, True, False)

    met, judged, missing = bench_goals.tally(bench_goals.judge(a_run()))
    assert missing == 2  # the system calls of recv_into and tcp: not counted in a_run
    assert judged == 19 - missing
    assert met == sum(
        1 for r in found.values() for g in r.values() if g["met"] and g["cpu_met"] is not False
    )


def test_against_pyzmq_reads_latency_as_a_speed() -> None:
    rows = {r["record"]["name"]: r for r in bench_goals.against_pyzmq(bench_goals.judge(a_run()))}
    assert "fanout N=8" not in rows  # pyzmq not measured there
    assert rows["latency 64 B"]["speed"] == pytest.approx(110 / 99)
    assert rows["latency 64 B"]["cpu_speed"] == pytest.approx(12 / 9)
    assert rows["throughput 64 B recv_into"]["theirs"]["median"] == 1.5e6
    assert rows["async vs zmq.asyncio"]["speed"] == 1.6


def test_the_table_and_the_readme_blocks_show_them() -> None:
    data = {"meta": {"subject": "nanomsg_rs", "command": "benchmarks/run.py"}, "variants": []}
    data["variants"] = bench_goals.judge(a_run())
    text = bench_report.table(data)
    assert re.search(r"^  C \(libnanomsg\)\s+1M\s+1M - 1M\s+\s+2\.00\s+2$", text, re.M), text
    assert "  issue 25: >= 1.0x pyzmq: 0.80 (0.77-0.83), CPU 0.67 MISSED; " in text
    assert re.search(r"^  throughput 64 B recv_into\s+>= 1\.0x pyzmq .* MISSED by CPU$", text, re.M)

    goals = "\n".join(bench_report.markdown_goals(data))
    assert "| throughput 64 B | 1.2M | 1.5M | 1M | 3M | 0.05 / 0.1 / 2 / 0.1 |" in goals
    assert "| throughput 64 B recv_into | 1.6M | 1.5M (`recv`) | 1M |  |  |" in goals
    assert ">= 1.0x pyzmq: 0.55 (0.55-0.55), CPU 0.56 **MISSED**" in goals

    pyzmq = "\n".join(bench_docs.block_pyzmq(data, bench_docs.Fmt("md")))
    assert "| throughput 64 B, msg/s | 1.2M | 1.5M | 0.80 (`recv_into` 1.07) |" in pyzmq
    assert "| latency 64 B, µs | 99.0 | 110.0 | 1.11 | 1.33 | |" in pyzmq
    assert re.search(r"behind pyzmq in 4 of these 8 rows \(pingpong 64 B, throughput 64 B,", pyzmq)


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_a_real_strace_summary_is_read(tmp_path: Path) -> None:
    out = tmp_path / "summary"
    program = "import os\nfor _ in range(1000):\n    os.getpid()\nopen('/no/such/file', 'rb')"
    done = subprocess.run(
        ["strace", "-c", "-f", "-o", str(out), sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "FileNotFoundError" in done.stderr  # the failed openat: a row with errors
    calls = bench_syscalls.parse_summary(out.read_text())
    assert calls["getpid"] >= 1000
    assert calls["openat"] > 0
    assert calls["total"] == sum(n for name, n in calls.items() if name != "total")
    assert bench_syscalls.parse_summary("no summary here\n") == {}


def test_counted_runs_are_short() -> None:
    assert bench_syscalls.count_for("pipeline", 64) == 10_000
    assert bench_syscalls.count_for("pipeline", 4096) == 4096
    assert bench_syscalls.count_for("pipeline", 1 << 20) == 100
    assert bench_syscalls.count_for("pipeline", 64, quick=True) == 2_000
    # fan-out: whole bursts, about 10,000 deliveries
    assert bench_syscalls.count_for("fanout", 64, nsubs=256, burst=8) == 4 * 8
    assert bench_syscalls.count_for("fanout", 64, nsubs=1, burst=8) == 1250 * 8
    assert bench_syscalls.messages_of("fanout", 75, burst=8) == 72
    assert bench_syscalls.messages_of("pipeline", 75) == 75


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_234_567, "1.23M"),
        (999_600, "1M"),  # rounds up into the next suffix (CI once printed "1e+03k")
        (999.7, "1k"),
        (999_499, "999k"),
        (12.345, "12.3"),
        (2.5e9, "2.5G"),
    ],
)
def test_si_picks_the_suffix_after_rounding(value: float, text: str) -> None:
    assert bench_report.si(value) == text
