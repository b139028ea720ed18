"""Shared fixtures: fresh addresses on every transport, and sockets that are closed after
each test whatever happens; and what the suite needs to run against either backend.

Backends
--------
The binding links libnanomsg (``nn.BACKEND == "nanomsg"``, the default build) or nng's
nanomsg-compatible library (``"nng"``, cargo feature ``nng``); CI runs the whole suite
against both (``.ci/test-nng``). Three tools keep the tests honest on both:

``@pytest.mark.backend("nanomsg", reason="...")``
    The test (or ``pytest.param(..., marks=...)``) runs only on the named backend(s); on any
    other it is skipped, and the skip shows the reason. Use it only for what a backend
    *lacks* (nng: ``nn.symbols()``, statistics, some options), never to hide a bug.
``per_backend(nanomsg=..., nng=...)``
    Picks the expected value of a behaviour that differs legitimately between the two, e.g.
    a default option value; write a comment next to each value saying why.
``NANOMSG`` / ``NNG``
    Booleans, for branches that do more than pick a value.

Helpers that stand in for what a backend lacks: ``wait_connected`` (nng keeps no statistics)
and ``c_library`` (the linked C library, for ctypes calls behind the binding's back).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import os
import socket as pysocket
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import ci_skips
import pytest

import nanomsg_rs as nn

_counter = itertools.count()

# -- backends -------------------------------------------------------------------------------

BACKENDS = ("nanomsg", "nng")
BACKEND: str = nn.BACKEND
NANOMSG = BACKEND == "nanomsg"
NNG = BACKEND == "nng"
assert BACKEND in BACKENDS, BACKEND

# Reasons shared by many skips: what the nng backend lacks (see src/backend.rs).
NO_STATISTICS = "nng keeps no statistics (nn_get_statistic is 0 for all): NotSupported"
NO_SYMBOLS = "nng has no nn_symbol_info: nn.symbols() raises NotSupported"
# Socket options nng's compatibility layer does not have: the binding raises NotSupported.
NNG_UNSUPPORTED_OPTIONS = frozenset(
    {"sndbuf", "rcvbuf", "sndprio", "rcvprio", "ipv4only", "maxttl"}
)

T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
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


def only_on(backend: str, reason: str) -> pytest.MarkDecorator:
    """``@pytest.mark.backend(backend, reason=reason)``, for ``pytest.param(marks=...)``."""
    return pytest.mark.backend(backend, reason=reason)


def per_backend(*, nanomsg: T, nng: T) -> T:
    """The expectation for the backend under test; both must be given, each with a comment
    at the call site saying why they differ."""
    return nanomsg if NANOMSG else nng


def option_param(name: str, *values: Any) -> Any:
    """``pytest.param(name, *values)`` for a socket option, skipped on nng where nng lacks
    the option."""
    marks = ()
    if name in NNG_UNSUPPORTED_OPTIONS:
        marks = (only_on("nanomsg", f"nng has no {name} option: NotSupported"),)
    return pytest.param(name, *values, marks=marks, id="-".join([name, *map(str, values)]))


def c_library() -> ctypes.CDLL:
    """The C library the binding links (libnanomsg, or nng's compatibility layer), for
    ctypes calls such as ``nn_close`` on a detached socket number. It must be the very copy
    the extension loaded: an installed wheel carries its own (in ``nanomsg_rs.libs``), whose
    socket numbers mean nothing to the system's."""
    stem = "libnng" if NNG else "libnanomsg"
    with open("/proc/self/maps") as maps:
        mapped = {line.split()[5] for line in maps if len(line.split()) >= 6}
    for path in sorted(mapped):
        if os.path.basename(path).startswith(stem) and "nanomsg_rs.libs" in path:
            return ctypes.CDLL(path, use_errno=True)
    if NNG:
        name = ctypes.util.find_library("nng") or "libnng.so.1"
    else:
        name = ctypes.util.find_library("nanomsg") or "libnanomsg.so.5"
    return ctypes.CDLL(name, use_errno=True)


# How long to let connections come up where they cannot be observed (nng, no statistics).
NNG_SETTLE = 0.3


def wait_connected(s: nn.Socket, n: int = 1, timeout: float = 5.0) -> None:
    """Waits until ``s`` has ``n`` live connections. nanomsg counts them
    (``CURRENT_CONNECTIONS``); nng keeps no statistics, so there it waits a fixed
    ``NNG_SETTLE`` seconds, ample for local transports."""
    if NNG:
        time.sleep(NNG_SETTLE)
        return
    deadline = time.monotonic() + timeout
    while s.statistic(nn.Statistic.CURRENT_CONNECTIONS) < n:
        assert time.monotonic() < deadline, f"{n} connections never came up"
        time.sleep(0.01)


# -- addresses and sockets ------------------------------------------------------------------


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with pysocket.socket(pysocket.AF_INET, pysocket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


_ipc_dir = tempfile.mkdtemp(prefix="nnrs-")


def make_address(transport: str) -> str:
    """A fresh address for ``transport`` (inproc, ipc, tcp or ws)."""
    n = next(_counter)
    if transport == "inproc":
        return f"inproc://test-{os.getpid()}-{n}"
    if transport == "ipc":
        return f"ipc://{_ipc_dir}/s{n}.ipc"
    if transport in ("tcp", "ws"):
        return f"{transport}://127.0.0.1:{free_tcp_port()}"
    raise ValueError(transport)


@pytest.fixture
def addr() -> Callable[[str], str]:
    """``addr("tcp")`` gives a fresh address on that transport."""
    return make_address


@pytest.fixture(params=["inproc", "ipc", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    """Runs a test once per transport."""
    value: str = request.param
    return value


@pytest.fixture
def sock() -> Iterator[Callable[..., nn.Socket]]:
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
def pair(sock: Callable[..., nn.Socket], transport: str) -> tuple[nn.Socket, nn.Socket]:
    """Two connected PAIR sockets over each transport, with a 5 s receive timeout."""
    a, b = sock("pair"), sock("pair")
    address = make_address(transport)
    a.bind(address)
    b.connect(address)
    for s in (a, b):
        s.rcvtimeo = 5000
        s.sndtimeo = 5000
    return a, b
