"""Shared fixtures (fresh addresses on every transport, sockets that are closed after each
test whatever happens) and the hooks that check the run: which build is under test, the
``backend`` marker, and the skip allow-list. Helpers the tests import live in
``support.py``."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import ci_skips
import pytest
from support import BACKEND, BACKENDS, AddrFactory, SockFactory, connected, make_address

import nanomsg_rs as nn


def pytest_configure(config: pytest.Config) -> None:
    # A shell without job control starts its background commands with SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler: the Ctrl-C tests, in this process
    # and in the interpreters it starts (an ignored signal stays ignored across exec, a
    # handled one does not), would test nothing. The suite runs as from a terminal.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # Provenance and the skip allow-list: tests/ci_skips.py.
    ci_skips.check_wheel(nn)
    config.pluginmanager.register(ci_skips.SkipCheck(BACKEND), "ci_skips")
    config.addinivalue_line(
        "markers",
        "backend(*names, reason): run only on these backends (nanomsg, nng); skipped with the "
        "reason on any other",
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    return ci_skips.header(nn, config.rootpath)


def pytest_sessionstart(session: pytest.Session) -> None:
    # -q hides the header; which build is under test is worth its lines even then.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and session.config.get_verbosity() < 0:
        for line in ci_skips.header(nn, session.config.rootpath):
            reporter.write_line(line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("backend"):
            names = mark.args
            reason = mark.kwargs.get("reason")
            unknown = set(names) - set(BACKENDS)
            if not names or unknown or not reason:
                raise pytest.UsageError(
                    f"{item.nodeid}: use @pytest.mark.backend(<one of {BACKENDS}>, reason=...)"
                    + (f", not {sorted(unknown)}" if unknown else "")
                )
            if BACKEND not in names:
                item.add_marker(pytest.mark.skip(reason=f"not on {BACKEND}: {reason}"))


@pytest.fixture
def addr() -> AddrFactory:
    """``addr("tcp")`` gives a fresh address on that transport."""
    return make_address


@pytest.fixture(params=["inproc", "ipc", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    """Runs a test once per transport."""
    value: str = request.param
    return value


@pytest.fixture
def sock() -> Iterator[SockFactory]:
    """``sock("pair")`` makes a socket that is closed when the test ends."""
    made: list[nn.Socket] = []

    def factory(*args: Any, **kwargs: Any) -> nn.Socket:
        s = nn.Socket(*args, **kwargs)
        made.append(s)
        return s

    yield factory
    for s in made:
        s.close()


@pytest.fixture
def pair(sock: SockFactory, transport: str) -> tuple[nn.Socket, nn.Socket]:
    """Two connected PAIR sockets over each transport, with 5 s timeouts."""
    return connected(sock, "pair", "pair", transport)
