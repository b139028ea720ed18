"""The hardened libnanomsg in C, below the binding: every reproducer of ``nanomsg/repro/repro.c``
(one per crash that ``nanomsg/patches/`` fixes, each killing libnanomsg 1.1.5 as released)
survives the very archive the installed wheel links. ``nanomsg/repro/run`` prints the same
cases side by side with the system libnanomsg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import ROOT, build_c_on_wheel, needs_hardened_c

REPRO = ROOT / "nanomsg" / "repro" / "repro.c"

pytestmark = needs_hardened_c


@pytest.fixture(scope="module")
def repro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """repro.c compiled on the hardened archive of the last ``make wheel``."""
    return build_c_on_wheel(tmp_path_factory, REPRO, opt="-O1")


def names_in(table: str) -> list[str]:
    """The names in one of repro.c's tables (parsed here: collection must not build it)."""
    text = REPRO.read_text()
    body = text[text.index(f"{table} [] = {{") :]
    body = body[: body.index("};")]
    return [line.split('"')[1] for line in body.splitlines() if line.strip().startswith('{ "')]


def cases() -> list[str]:
    """The case names, as repro.c lists them."""
    return names_in("CASES")


def checks() -> list[str]:
    """The checks of the series that 1.1.5 passes too (repro.c's CHECKS: regressions a first
    version of a patch had), run here on our build only (``nanomsg/repro/run`` wants every
    case to fail on 1.1.5)."""
    return names_in("CHECKS")


def test_every_patch_tells_its_story() -> None:
    """Each patch opens with its symptom, what it removes, the fix, the test that shows it and
    the input that fails without it (`Proof:`, which `nanomsg/prove` runs), before its diff."""
    patches = sorted((ROOT / "nanomsg" / "patches").glob("*.patch"))
    assert patches
    for patch in patches:
        head = patch.read_text().split("\ndiff --git ", 1)[0]
        assert head.startswith("Subject: "), patch.name
        lines = head.splitlines()
        for part in ("Symptom", "Removed:", "Fix:", "Test:", "Proof:"):
            assert any(line.startswith(part) for line in lines), (
                f"{patch.name} lacks a line starting {part!r} before its diff"
            )


def test_every_proof_names_a_real_input() -> None:
    """A `Proof:` names a case or a check repro.c has, a fuzz input that is in the tree, or
    a sweep of the fault injection (nanomsg/fuzz/faults.py) that exists."""
    known = set(cases()) | set(checks()) | set(names_in("ASAN_CHECKS"))
    for patch in sorted((ROOT / "nanomsg" / "patches").glob("*.patch")):
        head = patch.read_text().split("\ndiff --git ", 1)[0]
        for line in head.splitlines():
            if not line.startswith("Proof:"):
                continue
            words = line.split()[1:]
            if words[0] in ("repro", "repro-asan"):
                assert words[1] in known, f"{patch.name}: no repro case {words[1]}"
            elif words[0] == "faults":
                sweeps = (ROOT / "nanomsg" / "fuzz" / "faults.py").read_text()
                assert len(words) == 3 and words[2] in ("once", "persist"), line
                assert f'"{words[1]}"' in sweeps, f"{patch.name}: no fault kind {words[1]}"
            else:
                assert words[0] == "fuzz", f"{patch.name}: {line!r}"
                assert words[1] in ("wire-tcp", "wire-ipc", "wire-ws", "api"), line
                assert (ROOT / "nanomsg" / "fuzz" / words[2]).is_file(), line


@pytest.mark.parametrize("case", cases())
def test_reproducer_survives(repro: Path, case: str) -> None:
    done = subprocess.run([str(repro), case], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{case}: exit status {done.returncode}\n{done.stderr}"
    assert done.stdout.strip() == f"{case}: survived"


@pytest.mark.parametrize("check", checks())
def test_series_check_passes(repro: Path, check: str) -> None:
    done = subprocess.run([str(repro), check], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{check}: exit status {done.returncode}\n{done.stderr}"
    assert done.stdout.strip() == f"{check}: survived"
