"""The examples run and say what they showed; they and the package pass mypy --strict; the
native module's stubs match it (stubtest).

Each example runs as a user would run it (``python examples/NAME.py``), from an unrelated
working directory, so one that leans on the repository's layout or on a fixed address fails.
examples/demo.py is tested elsewhere.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

EXAMPLES = ROOT / "examples"

#: Each example and a line its output must contain. An example missing here fails the suite,
#: so a new one cannot go untested.
KEY_LINES = {
    "pair": "pair: done",
    "pubsub": "pubsub: 4 weather messages, no news among them",
    "pipeline": "pipeline: 12 tasks done by 3 workers, sum of squares 506",
    "reqrep": "reqrep: 3 answers",
    "survey": "survey: 3 of 3 respondents answered",
    "bus": "bus: all 4 nodes heard each other",
    "device": "device: 3 clients answered through the device",
    "asyncio_reqrep": "asyncio_reqrep: the server answered 4 requests",
    "compat_nnpy": "compat_nnpy: done",
    "compat_nanomsg": "compat_nanomsg: done",
}
#: More of the output, where a single line would not show that the example did its job.
OTHER_LINES = {
    "pair": ["right got b'ping'", "left got b'pong'"],
    "pubsub": ["weather subscriber got b'weather."],
    "reqrep": ["20+22 = 42", "recv before send: nn.BadState"],
    "survey": ["alice: yes to lunch at noon?", "bob: no to", "carol: yes to"],
    "bus": ["node 0 heard nodes [1, 2, 3]", "node 3 heard nodes [0, 1, 2]"],
    "device": [f"client {i} got b'answer to request from client {i}'" for i in range(3)]
    + ["device stopped: socket closed"],
    "asyncio_reqrep": ["'question 3' -> '3 noitseuq'"],
    "compat_nnpy": [
        "select says readable: True",
        "subscriber got b'news: nnpy code runs unchanged'",
        "nothing more: True",
    ],
    "compat_nanomsg": ["server bound to ipc://", "20+22 = 42", "1+2 = 3", "nothing waiting: True"],
}
NOT_MINE = {"demo"}

HAS_MYPY = importlib.util.find_spec("mypy") is not None


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.py") if p.stem not in NOT_MINE)


def test_every_example_is_listed() -> None:
    assert example_names() == sorted(KEY_LINES)


@pytest.mark.parametrize("name", example_names())
def test_example_runs(name: str, tmp_path: Path) -> None:
    assert name in KEY_LINES, f"examples/{name}.py has no key line in KEY_LINES"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    report = f"exit status {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode == 0, report
    lines = proc.stdout.splitlines()
    assert KEY_LINES[name] in lines, report
    for expected in OTHER_LINES.get(name, []):
        assert any(expected in line for line in lines), f"{expected!r} missing\n{report}"
    # Nothing on stderr: no traceback from a thread, no "Exception ignored", no warning.
    assert proc.stderr == "", report


def test_example_doc_and_main() -> None:
    """Every example says what it shows (a module docstring) and runs only as a script."""
    for name in example_names():
        source = (EXAMPLES / f"{name}.py").read_text()
        assert source.startswith('"""'), f"examples/{name}.py: no module docstring"
        assert 'if __name__ == "__main__":' in source, f"examples/{name}.py: no main guard"


def run_tool(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.skipif(not HAS_MYPY, reason="mypy is not installed")
@pytest.mark.timeout(300)
def test_mypy_strict_package_and_examples() -> None:
    proc = run_tool("mypy", "--strict", "python/nanomsg_rs", "examples")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Success: no issues found"), proc.stdout


@pytest.mark.skipif(not HAS_MYPY, reason="mypy is not installed")
@pytest.mark.timeout(300)
def test_stubtest_native_module() -> None:
    proc = run_tool("mypy.stubtest", "nanomsg_rs._native")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found" in proc.stdout, proc.stdout
