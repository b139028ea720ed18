"""Lazy readiness fds (patch 0040): the library signals a socket's NN_RCVFD/NN_SNDFD eventfd
only while somebody waits, and a waiter never misses a wake-up.

In C, below the binding: ``nanomsg/tests/lazyfd.c`` on the archive the installed wheel links
(a million messages between two threads with waiters of every kind, close, what the options
do). Through the binding: it waits as a registered poller (``NN_POLL_ENTER``), so a send or a
receive that does not wait costs no system call, while blocking calls, ``poll``, ``device``
and a close from another thread behave as before; the plain ``rcvfd``/``sndfd`` options keep
upstream's fds, which track readiness whether anybody waits or not."""

from __future__ import annotations

import select
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

import nanomsg_rs as nn

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "nanomsg" / "tests" / "lazyfd.c"

pytestmark = pytest.mark.skipif(
    not nn.HARDENED, reason="the lazy fds are our hardened library's: this build is not hardened"
)


@pytest.fixture(scope="module")
def lazyfd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lazyfd.c compiled on the hardened archive of the last ``make wheel``."""
    gcc = shutil.which("gcc")
    assert gcc, "gcc is needed to build the C tests"
    flags = subprocess.run(
        [str(ROOT / "nanomsg" / "link-flags")], capture_output=True, text=True, check=False
    )
    assert flags.returncode == 0, flags.stderr
    binary = tmp_path_factory.mktemp("lazyfd") / "lazyfd"
    subprocess.run(
        [gcc, "-O2", "-g", "-Wall", "-Werror", "-o", str(binary), str(SOURCE)]
        + flags.stdout.split(),
        check=True,
    )
    return binary


# (scenario, messages): a million where both sides wait in turn, fewer where the scenario is
# slower per message or only adds a kind of waiter.
SCENARIOS = [
    ("semantics", 0),
    ("close", 0),
    ("blocking", 200_000),
    ("poller", 1_000_000),
    ("nnpoll", 200_000),
    ("ipc", 500_000),
]


def test_every_scenario_is_run(lazyfd: Path) -> None:
    """The table above names every scenario the program has."""
    listing = subprocess.run([str(lazyfd)], capture_output=True, text=True, check=True)
    names = {line.split()[0] for line in listing.stdout.splitlines() if line.strip()}
    assert names == {name for name, _ in SCENARIOS}


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("scenario", "count"), SCENARIOS, ids=[s for s, _ in SCENARIOS])
def test_lazyfd(lazyfd: Path, scenario: str, count: int) -> None:
    """Each scenario passes: no waiter sleeps 10 s while a message is due, every message
    arrives (in order where one consumer takes them all), close wakes every waiter."""
    args = [str(lazyfd), scenario] + ([str(count)] if count else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=110, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"{scenario}: passed"
