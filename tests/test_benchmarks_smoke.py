"""Smoke test of the benchmark suite: a quick pingpong run prints its table and writes JSON
with numbers for nanomsg_rs and for the C floor (which the suite compiles with gcc)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="the C floor needs gcc")
def test_quick_pingpong_prints_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--quick",
            "--only",
            "pingpong",
            "--json",
            str(out),
            "--no-plot",
        ],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert done.returncode == 0, done.stderr[-2000:]

    # the table: a row with a median, a spread and a ratio for each of C and nanomsg_rs
    number = r"[0-9.]+[kMG]?"
    for label in ("C (libnanomsg)", "nanomsg_rs"):
        row = rf"^\s+{re.escape(label)}\s+{number}\s+{number} - {number}\s+[0-9.]+"
        assert re.search(row, done.stdout, re.MULTILINE), done.stdout
    assert "pingpong 64 B" in done.stdout  # the targets summary
    assert re.search(r">= 0\.80 (met|MISSED)", done.stdout), done.stdout

    data = json.loads(out.read_text())
    (record,) = [v for v in data["variants"] if v["workload"] == "pingpong"]
    assert record["target"] == {"op": ">=", "value": 0.8}
    for lib in ("C", "nanomsg_rs"):
        result = record["results"][lib]
        present = [x for x in result["samples"] if x is not None]
        assert present and all(x > 0 for x in present)
        assert result["min"] <= result["median"] <= result["max"]
        assert result["ratio"] > 0
    assert record["results"]["C"]["ratio"] == pytest.approx(1.0)
    assert isinstance(record["target_met"], bool)
