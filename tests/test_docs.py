"""The documentation site (docs/) says what the code does: every snippet its pages include
runs and passes its own asserts, and the API reference names every public name.

The HTML itself is built by ``make docs`` (in CI too), which fails on any warning or broken
link; these tests read the sources only, so they need no Sphinx and stay fast.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import only_on

import nanomsg_rs as nn

ROOT = Path(__file__).resolve().parent.parent
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
        "(constants: run python docs/gen_constants.py)"
    )


def test_reference_names_only_what_exists() -> None:
    """The constants tables list no name the package lacks (e.g. one since removed)."""
    text = (REFERENCE / "constants.rst").read_text()
    listed = set(re.findall(r"^\s*\* - ``([A-Z][A-Z0-9_]*)``", text, re.M))
    assert listed <= set(nn.constants.__all__), sorted(listed - set(nn.constants.__all__))
