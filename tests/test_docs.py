"""The documentation site (docs/) says what the code does: every snippet its pages include
runs and passes its own asserts, and the API reference names every public name.

The HTML itself is built by ``make docs`` (in CI too), which fails on any warning or broken
link; these tests read the sources only, so they need no Sphinx and stay fast.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, only_on

import nanomsg_rs as nn

DOCS = ROOT / "docs"
SNIPPETS = sorted((DOCS / "snippets").glob("*.py"))
REFERENCE = DOCS / "reference"
# Snippets that send right after connecting over inproc, as libnanomsg allows (it connects
# inproc at once); nng connects in the background there too, and PUB, BUS and SURVEYOR drop
# what no peer takes yet, PUSH waits for the first peer only.
AT_ONCE = {"bus", "pipeline", "pubsub", "survey"}


def snippet_param(snippet: Path) -> object:
    marks = ()
    if snippet.stem in AT_ONCE:
        marks = (only_on("nanomsg", "the snippet counts on inproc connecting at once"),)
    return pytest.param(snippet, marks=marks, id=snippet.stem)


def test_there_are_snippets() -> None:
    assert len(SNIPPETS) >= 6, SNIPPETS


@pytest.mark.parametrize("snippet", [snippet_param(p) for p in SNIPPETS])
def test_snippet_runs(snippet: Path, tmp_path: Path) -> None:
    """Each snippet, as a reader would run it: a fresh interpreter, another working
    directory; it asserts what it receives, so exit status 0 is the test."""
    done = subprocess.run(
        [sys.executable, str(snippet)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{snippet.name} failed:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), f"{snippet.name} printed nothing"


def test_every_snippet_is_on_a_page() -> None:
    """A snippet no page includes would be tested but never read."""
    included = set()
    for page in DOCS.rglob("*.rst"):
        for target in re.findall(r"^\.\. literalinclude:: (\S+)", page.read_text(), re.M):
            included.add((page.parent / target).resolve())
    missing = [p.name for p in SNIPPETS if p.resolve() not in included]
    assert not missing, f"snippets no page includes: {missing}"


DIRECTIVE = re.compile(
    r"^\s*\.\. (?:py:)?(?:auto)?(?:class|exception|function|data|attribute|method|property"
    r"|module)::\s+(\S+)",
    re.M,
)


def documented_names() -> set[str]:
    """The names the reference's .rst sources document: the targets of autodoc's and the
    Python domain's directives (``nanomsg_rs.X`` or ``X`` under ``currentmodule``), and the
    ``NAME`` cells of the constants tables."""
    names: set[str] = set()
    for page in REFERENCE.glob("*.rst"):
        text = page.read_text()
        for target in DIRECTIVE.findall(text):
            names.add(target.removeprefix("nanomsg_rs."))
        names.update(re.findall(r"^\s*\* - ``([A-Z][A-Z0-9_]*)``", text, re.M))
    return names


def test_reference_names_every_public_name() -> None:
    missing = sorted(set(nn.__all__) - documented_names())
    assert not missing, (
        f"public names missing from docs/reference/*.rst: {missing} "
        "(constants: run python docs/gen_reference.py)"
    )


@only_on("nanomsg", "the reference is written from the default build")
def test_generated_reference_is_up_to_date() -> None:
    """The constants page, the options table and the reference's option properties are what
    ``docs/gen_reference.py`` writes from the installed build."""
    done = subprocess.run(
        [sys.executable, str(DOCS / "gen_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_reference_names_only_what_exists() -> None:
    """The constants tables list no name the package lacks (e.g. one since removed)."""
    text = (REFERENCE / "constants.rst").read_text()
    listed = set(re.findall(r"^\s*\* - ``([A-Z][A-Z0-9_]*)``", text, re.M))
    assert listed <= set(nn.constants.__all__), sorted(listed - set(nn.constants.__all__))


# -- the figures: one source, benchmarks/results.json ----------------------------------------

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_docs  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results.json"
# What a performance figure looks like in prose: a rate (567k, 2.28M, msg/s, round trips/s,
# µs), a ratio to C ("0.97 of C", "(0.97)"), a speed-up ("2.1 times as fast", "twice as"),
# a percentage.
FIGURE = re.compile(
    r"\b\d[\d.]*[kM]\b|msg/s|round trips/s|µs\b|\b\d\.\d\d(?= of C|\))"
    r"|\b[\d.]+ times (?:as|faster|slower|more)\b|\btwice as\b|\b\d+(?:\.\d+)? ?%"
)


def results() -> dict[str, object]:
    data: dict[str, object] = json.loads(RESULTS.read_text())
    return data


def test_every_generated_figure_is_the_records() -> None:
    """README.md's, docs/*.rst's and benchmarks/README.md's generated blocks are what
    results.json gives (``python benchmarks/run.py --report benchmarks/results.json --docs
    --readme benchmarks/README.md`` rewrites them), and every remark about a run is about
    this one."""
    assert bench_docs.stale(results()) == []


def test_the_check_catches_a_hand_edited_figure_and_a_stale_remark(tmp_path: Path) -> None:
    for path in bench_docs.doc_files():
        copy = tmp_path / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text())
    data = results()
    assert bench_docs.stale(data, tmp_path) == []
    readme = tmp_path / "README.md"
    text = readme.read_text()
    # the summary's pingpong row: "| pingpong ... | C | nanomsg_rs | ...": nanomsg_rs's cell
    row = next(line for line in text.splitlines() if line.startswith("| pingpong PAIR inproc"))
    cell = row.split("|")[3]
    assert re.fullmatch(r" \S+ \([0-9.]+\) ", cell), row
    readme.write_text(text.replace(row, row.replace(cell, " 1.23M (9.99) ", 1), 1))
    meta = dict(data["meta"], date="2030-01-01T00:00:00+00:00")  # type: ignore[call-overload]
    problems = bench_docs.stale(dict(data, meta=meta), tmp_path)
    assert "README.md: block summary" in problems
    assert f"README.md: bench-note of the run of {data['meta']['date']}" in problems


def prose(path: Path) -> str:
    """A page without its generated blocks and remarks about a run."""
    f = bench_docs.fmt_for(path)
    text = path.read_text()
    for body in bench_docs.blocks_in(text, f).values():
        text = text.replace(body, "")
    if f.kind == "md":
        note = r"^<!-- bench-note: \S+ -->$.*?^<!-- /bench-note -->$"
    else:
        note = r"^\.\. bench-note: \S+$.*?^\.\. /bench-note$"
    return re.sub(note, "", text, flags=re.M | re.S)


@pytest.mark.parametrize(
    "page",
    [ROOT / "README.md", *sorted(DOCS.rglob("*.rst"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_performance_figure_outside_the_generated_blocks(page: Path) -> None:
    found = [
        f"{m.group(0)!r} in: {line.strip()}"
        for line in prose(page).splitlines()
        for m in FIGURE.finditer(line)
    ]
    assert not found, "figures by hand (put them in a bench_docs block):\n" + "\n".join(found)


def test_the_test_count_is_the_collections() -> None:
    """``make test`` runs "over N tests", N a round number the collection reaches and does
    not outgrow by 500 (README.md and getting-started say it)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    counted = re.search(r"^(\d+)(?:/\d+)? tests? collected", done.stdout, re.M)
    assert counted, done.stdout[-2000:] + done.stderr[-2000:]
    collected = int(counted.group(1))
    for page in (ROOT / "README.md", DOCS / "getting-started.rst"):
        claims = re.findall(r"over\s+([\d,]+)\s+tests", page.read_text())
        assert claims, f"{page.name} does not say how many tests make test runs"
        for claim in claims:
            n = int(claim.replace(",", ""))
            assert n <= collected < n + 500, (
                f'{page.name} says "over {claim} tests"; the collection has {collected}'
            )
