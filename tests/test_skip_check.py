"""The skip check of ``tests/ci_skips.py`` on sessions of its own: a small test directory in
a temporary folder whose conftest registers the check, run by a child pytest, with and
without ``NANOMSG_RS_CI``. A skip whose reason is not in the allow-list fails the session,
whether one test or a whole module skips, in CI or not."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

CONFTEST = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import ci_skips

def pytest_configure(config):
    config.pluginmanager.register(ci_skips.SkipCheck("nanomsg"), "ci_skips")
"""

PASSING = "def test_passes():\n    pass\n"


def session(tmp_path: Path, modules: dict[str, str], *, ci: bool = False) -> tuple[int, str]:
    """Runs pytest on ``modules`` (name: source) beside the conftest; (exit status, output)."""
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name, source in modules.items():
        (tmp_path / name).write_text(textwrap.dedent(source))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANOMSG_RS_")}
    if ci:
        env["NANOMSG_RS_CI"] = "1"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # none is needed: a quicker start
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stdout + proc.stderr


SKIPPED_MODULE = """
    import pytest
    pytest.skip("a tool went missing", allow_module_level=True)

    def test_never_runs():
        pass
    """
UNIMPORTABLE_MODULE = """
    import pytest
    pytest.importorskip("no_such_module_for_the_skip_check")

    def test_never_runs():
        pass
    """
SKIPPED_TEST = """
    import pytest

    @pytest.mark.skipif(True, reason="true by accident")
    def test_skipped():
        pass
    """


@pytest.mark.parametrize("ci", [False, True], ids=["plain", "ci"])
def test_unexpected_skips_fail_the_session(tmp_path: Path, ci: bool) -> None:
    modules = {
        "test_ok.py": PASSING,
        "test_gone.py": SKIPPED_MODULE,
        "test_unimportable.py": UNIMPORTABLE_MODULE,
        "test_skips.py": SKIPPED_TEST,
    }
    status, out = session(tmp_path, modules, ci=ci)
    assert status == pytest.ExitCode.TESTS_FAILED, out
    assert "1 passed, 3 skipped" in out, out
    # each module-level skip counted (once, for its module), and the test's
    assert "not in the allow-list: 'a tool went missing': test_gone.py" in out, out
    assert (
        "not in the allow-list: \"could not import 'no_such_module_for_the_skip_check': "
        "No module named 'no_such_module_for_the_skip_check'\": test_unimportable.py"
    ) in out, out
    assert "not in the allow-list: 'true by accident': test_skips.py::test_skipped" in out, out


def test_a_session_of_skipped_modules_only_fails_too(tmp_path: Path) -> None:
    # pytest itself ends such a session with NO_TESTS_COLLECTED (5)
    status, out = session(tmp_path, {"test_gone.py": SKIPPED_MODULE})
    assert status == pytest.ExitCode.TESTS_FAILED, out


def test_an_allowed_module_level_skip_passes(tmp_path: Path) -> None:
    module = """
        import pytest
        pytest.skip("not on nanomsg: the other backend's behaviour", allow_module_level=True)
        """
    status, out = session(tmp_path, {"test_ok.py": PASSING, "test_other.py": module}, ci=True)
    assert status == pytest.ExitCode.OK, out
    assert "every skip is in the allow-list" in out, out


@pytest.mark.parametrize(
    "reason",
    [
        "cannot make a mount namespace here: unshare: Operation not permitted",
        "hosts as network namespaces need root and iproute2: not root (network namespaces "
        "and bridges need CAP_NET_ADMIN)",
    ],
)
def test_an_outside_ci_reason_is_allowed_only_outside_ci(tmp_path: Path, reason: str) -> None:
    module = f"""
        import pytest

        def test_namespace():
            pytest.skip({reason!r})
        """
    modules = {"test_ok.py": PASSING, "test_namespace.py": module}
    status, out = session(tmp_path, modules)
    assert status == pytest.ExitCode.OK, out
    status, out = session(tmp_path, modules, ci=True)
    assert status == pytest.ExitCode.TESTS_FAILED, out
