"""What CI checks about the test session itself, beside the tests: which skips are expected,
and which build of ``nanomsg_rs`` is under test. ``tests/conftest.py`` registers it.

Skips
-----
Every skip is counted by reason, a whole module's too (``pytest.skip(...,
allow_module_level=True)``, a module-level ``importorskip``: one count for the module), and
the counts are printed at the end of the session. In every session (CI, ``make test``, a plain
``pytest``) a skip for any reason not in ``ALLOWED_SKIPS`` fails it: a tool that went
missing, or a new ``skipif`` that is true by accident, turns the run red instead of quietly
shrinking the suite (``make deps`` installs every tool). Each allowed reason is true by
design: a behaviour one backend lacks, or a test that runs only in the ``NANOMSG_RS_SLOW=1``
pass. A reason marked ``outside_ci`` is allowed only where ``NANOMSG_RS_CI`` is not ``1``
(``.ci/run``, ``.ci/test-nng`` and ``make flake-hunt`` set it): something a developer's
machine may lack (e.g. user namespaces) and CI's has.

Provenance
----------
The session header names the file ``nanomsg_rs`` was imported from, its backend, the C
library's version, ``HARDENED`` where the package has it, a build id (the first 12 hex
digits of the extension's sha256) and the source tree's commit. With
``NANOMSG_RS_EXPECT_WHEEL=<wheel>`` (``make test`` sets it to the wheel it just built and
installed; ``.ci/test-nng`` to its nng wheel) the session stops before any test unless every
file of that wheel's ``nanomsg_rs`` package (and its grafted ``nanomsg_rs.libs``) is, byte for
byte, the file the interpreter imports: a stale install cannot pass as the new build.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest


@dataclass(frozen=True)
class Allowed:
    pattern: str  # re.match against the skip's reason
    why: str
    backend: str | None = None  # expected only on this backend
    unless_env: str | None = None  # expected only while this variable is not "1"
    outside_ci: bool = False  # expected only outside CI (NANOMSG_RS_CI is not "1")

    def expects(self, reason: str, backend: str) -> bool:
        if not re.match(self.pattern, reason):
            return False
        if self.backend is not None and backend != self.backend:
            return False
        if self.outside_ci and in_ci():
            return False
        return not (self.unless_env and os.environ.get(self.unless_env) == "1")


def in_ci() -> bool:
    return os.environ.get("NANOMSG_RS_CI") == "1"


ALLOWED_SKIPS = (
    Allowed(
        r"not on (nanomsg|nng): ",
        "@pytest.mark.backend: a behaviour the other backend lacks (conftest.py)",
    ),
    Allowed(
        r"valgrind\.supp covers libnanomsg only$", "test_leaks: memcheck is for libnanomsg", "nng"
    ),
    Allowed(r"libnanomsg's limit of open sockets$", "test_leaks: a libnanomsg limit", "nng"),
    Allowed(r"this build links nng, not libnanomsg$", "test_wheel: the bundled libnanomsg", "nng"),
    Allowed(
        r"sets the libnanomsg build beside the nng one: run it there$",
        "test_benchmarks_smoke: runs in the default backend's session",
        "nng",
    ),
    Allowed(
        r"nng's wss listener serves only the host it listens on: a client by name is refused$",
        "test_tls: nngcat (mbedTLS 2.28) must dial by name, nng's wss listener serves its own",
        "nng",
    ),
    Allowed(
        r"nng's mbedTLS does not check that the key is the certificate's at bind$",
        "test_tls: a check OpenSSL makes and nng's mbedTLS does not",
        "nng",
    ),
    Allowed(
        r"nng's REQ takes a request only once a peer is there",
        "test_cli: a documented difference of nng's REQ",
        "nng",
    ),
    Allowed(
        r"the hardened library's own C tests: this build is not hardened$",
        "test_hardened_c: the reproducers run on the default build's archive",
        "nng",
    ),
    Allowed(
        r"the hardened library's own batching: this build is not hardened$",
        "test_stream_batching: what patches 0038 to 0040 promise beyond libnanomsg 1.1.5",
        "nng",
    ),
    Allowed(
        r"no nanomsg_rs abi3 wheel for \S+ in dist/: run `make wheel` first$",
        "test_wheel: the default wheel, built by `make test` after CI's nng session",
        "nng",
    ),
    Allowed(
        r".*: set NANOMSG_RS_SLOW=1$",
        "test_wheel: more release builds, run in CI's `make test` pass",
        unless_env="NANOMSG_RS_SLOW",
    ),
    Allowed(
        r"needs root to connect as another user$",
        "test_access: a child that becomes another user; CI runs as root",
        outside_ci=True,
    ),
    Allowed(
        r"RLIMIT_NOFILE's hard limit \(\d+\) is under the \d+ needed$",
        "test_descriptor_limit, test_leaks, test_scale: thousands of sockets at once; CI's limit "
        "allows them",
        outside_ci=True,
    ),
    Allowed(
        r"cannot make a mount namespace here: ",
        "test_wheel: a machine without user namespaces (a container); CI's root makes one",
        outside_ci=True,
    ),
    Allowed(
        r"hosts as network namespaces need root and iproute2: ",
        "test_across_hosts, test_scale: a developer's machine, not root; CI runs as root with "
        "iproute2",
        outside_ci=True,
    ),
)


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


class SkipCheck:
    """The plugin: counts skips, a test's or a whole module's; fails the session on one
    that is not allowed."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.skips: Counter[str] = Counter()
        self.unexpected: dict[str, list[str]] = {}

    def count(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = skip_reason(report)
        self.skips[reason] += 1
        if not any(a.expects(reason, self.backend) for a in ALLOWED_SKIPS):
            self.unexpected.setdefault(reason, []).append(report.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.count(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # a module skipped while it is collected: it has no test of its own to report
        self.count(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # NO_TESTS_COLLECTED: every module was skipped
        passing = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        if self.unexpected and session.exitstatus in passing:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        tr = terminalreporter
        total = sum(self.skips.values())
        tr.section(f"skips: {total} on {self.backend}", sep="-")
        for reason, count in sorted(self.skips.items(), key=lambda kv: (-kv[1], kv[0])):
            mark = "UNEXPECTED " if reason in self.unexpected else ""
            tr.write_line(f"{count:5d}  {mark}{reason}")
        if not self.unexpected:
            tr.write_line("every skip is in the allow-list (tests/ci_skips.py)")
            return
        tr.write_line("")
        for reason, nodeids in self.unexpected.items():
            shown = ", ".join(nodeids[:3]) + (", ..." if len(nodeids) > 3 else "")
            tr.write_line(f"not in the allow-list: {reason!r}: {shown}", red=True)
        tr.write_line(
            "an unexpected skip fails the session (tests/ci_skips.py)", red=True, bold=True
        )


# -- provenance ---------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def native_file(nn: ModuleType) -> Path:
    return Path(nn._native.__file__).resolve()


def build_id(nn: ModuleType) -> str:
    """The first 12 hex digits of the extension's sha256: names one build."""
    return sha256(native_file(nn).read_bytes())[:12]


def source_commit(root: Path) -> str:
    """The commit of the tree the tests run from, ``+dirty`` with uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def header(nn: ModuleType, root: Path) -> list[str]:
    hardened = getattr(nn, "HARDENED", None)
    lines = [
        f"nanomsg_rs {nn.__version__} from {Path(str(nn.__file__)).resolve().parent}",
        f"  backend {nn.BACKEND}, library {nn.LIBRARY_VERSION}"
        + ("" if hardened is None else f", HARDENED={hardened}"),
        f"  build {build_id(nn)} ({native_file(nn).name}), tests from commit {source_commit(root)}",
    ]
    expected = os.environ.get("NANOMSG_RS_EXPECT_WHEEL")
    if expected:
        lines.append(f"  checked against {expected}: the same files")
    return lines


def wheel_mismatches(nn: ModuleType, wheel: Path) -> list[str]:
    """The files of ``wheel``'s nanomsg_rs package (and nanomsg_rs.libs) that the imported
    package does not have byte for byte; empty when it is that wheel's install."""
    site = Path(str(nn.__file__)).resolve().parent.parent
    problems = []
    with zipfile.ZipFile(wheel) as zf:
        names = [
            n
            for n in zf.namelist()
            if n.startswith(("nanomsg_rs/", "nanomsg_rs.libs/")) and not n.endswith("/")
        ]
        if not any(n.startswith("nanomsg_rs/_native") for n in names):
            return [f"{wheel} has no nanomsg_rs/_native extension"]
        for name in names:
            installed = site / name
            if not installed.is_file():
                problems.append(f"{name}: not in {site}")
            elif sha256(installed.read_bytes()) != sha256(zf.read(name)):
                problems.append(f"{name}: {installed} differs from the wheel's")
    return problems


def check_wheel(nn: ModuleType) -> None:
    """Raises ``pytest.UsageError`` unless ``nanomsg_rs`` is NANOMSG_RS_EXPECT_WHEEL's."""
    expected = os.environ.get("NANOMSG_RS_EXPECT_WHEEL")
    if not expected:
        return
    wheel = Path(expected)
    if not wheel.is_file():
        raise pytest.UsageError(f"NANOMSG_RS_EXPECT_WHEEL={expected}: no such wheel")
    problems = wheel_mismatches(nn, wheel)
    if problems:
        raise pytest.UsageError(
            f"nanomsg_rs imported from {nn.__file__} is not the build in {wheel}:\n  "
            + "\n  ".join(problems[:10])
        )
