"""What the tests share besides fixtures (those live in ``conftest.py``): which backend is
under test and how a test says what differs between them, addresses, waiting for a
condition instead of sleeping, promises that are times, and running code in a fresh
interpreter.

Backends
--------
The binding links libnanomsg (``nn.BACKEND == "nanomsg"``, the default build) or nng's
nanomsg-compatible library (``"nng"``, cargo feature ``nng``); CI runs the whole suite
against both (``.ci/test-nng``). Three tools keep the tests honest on both:

``@pytest.mark.backend("nanomsg", reason="...")``
    The test (or ``pytest.param(..., marks=...)``, see ``only_on``) runs only on the named
    backend(s); on any other it is skipped, and the skip shows the reason. Use it only for
    what a backend *lacks* (nng: ``nn.symbols()``, statistics, some options), never to hide
    a bug.
``per_backend(nanomsg=..., nng=...)``
    Picks the expected value of a behaviour that differs legitimately between the two, e.g.
    a default option value; write a comment next to each value saying why.
``NANOMSG`` / ``NNG``
    Booleans, for branches that do more than pick a value.

Helpers that stand in for what a backend lacks: ``wait_reachable`` (nng keeps no statistics
to count connections by: probe messages show that they carry messages) and ``c_library``
(the linked C library, for ctypes calls behind the binding's back).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import json
import os
import random
import shutil
import socket as pysocket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from hypothesis import HealthCheck, settings

import nanomsg_rs as nn

T = TypeVar("T")

# The ``sock`` and ``addr`` fixtures (conftest.py), as the tests annotate them.
SockFactory = Callable[..., nn.Socket]
AddrFactory = Callable[[str], str]

# -- backends -------------------------------------------------------------------------------

BACKENDS = ("nanomsg", "nng")
BACKEND: str = nn.BACKEND
NANOMSG = BACKEND == "nanomsg"
NNG = BACKEND == "nng"
assert BACKEND in BACKENDS, BACKEND

# Reasons shared by many skips: what the nng backend lacks (see src/nn/backend/).
NO_STATISTICS = "nng keeps no statistics (nn_get_statistic is 0 for all): NotSupported"
NO_SYMBOLS = "nng has no nn_symbol_info: nn.symbols() raises NotSupported"
# Socket options nng's compatibility layer does not have: the binding raises NotSupported.
NNG_UNSUPPORTED_OPTIONS = frozenset(
    {"sndbuf", "rcvbuf", "sndprio", "rcvprio", "ipv4only", "maxttl", "rcvmaxpartial"}
    | {"connect_timeout", "tcp_keepalive", "tcp_keepalive_idle", "tcp_keepalive_interval"}
    | {"tcp_keepalive_count", "maxconn", "ipc_permissions", "worker_poll", "worker_yield"}
)


# Options of our hardened libnanomsg's own (nanomsg/patches/): NotSupported elsewhere.
HARDENED_OPTIONS = frozenset(
    {"rcvmaxpartial", "connect_timeout", "tcp_keepalive", "tcp_keepalive_idle"}
    | {"tcp_keepalive_interval", "tcp_keepalive_count", "tls_error", "maxconn"}
    | {"ipc_permissions", "worker_poll", "worker_yield"}
)


def only_on(backend: str, reason: str) -> pytest.MarkDecorator:
    """``@pytest.mark.backend(backend, reason=reason)``, for ``pytest.param(marks=...)``."""
    return pytest.mark.backend(backend, reason=reason)


def per_backend(*, nanomsg: T, nng: T) -> T:
    """The expectation for the backend under test; both must be given, each with a comment
    at the call site saying why they differ."""
    return nanomsg if NANOMSG else nng


def option_param(name: str, *values: Any) -> Any:
    """``pytest.param(name, *values)`` for a socket option, skipped on nng where nng lacks
    the option (and, for our hardened library's own options, on the system libnanomsg)."""
    marks: tuple[pytest.MarkDecorator, ...] = ()
    if name in NNG_UNSUPPORTED_OPTIONS:
        marks = (only_on("nanomsg", f"nng has no {name} option: NotSupported"),)
    if name in HARDENED_OPTIONS and NANOMSG and not nn.HARDENED:
        marks = (pytest.mark.skip(reason=f"{name} needs the hardened libnanomsg"),)
    return pytest.param(name, *values, marks=marks, id="-".join([name, *map(str, values)]))


def c_library() -> ctypes.CDLL:
    """The C library the binding links (libnanomsg, or nng's compatibility layer), for
    ctypes calls such as ``nn_close`` on a detached socket number. It must be the very copy
    the extension loaded: the hardened build has it inside the extension, which exports the C
    API; a wheel on the system library carries its own copy (in ``nanomsg_rs.libs``); the
    socket numbers of either mean nothing to the system's libnanomsg."""
    if nn.HARDENED:
        return ctypes.CDLL(nn._native.__file__, use_errno=True)
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


def needs_descriptors(count: int) -> pytest.MarkDecorator:
    """Skips a test that opens ``count`` descriptors at once where RLIMIT_NOFILE's hard limit
    is lower (the test raises its soft limit up to the hard one)."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    enough = hard == resource.RLIM_INFINITY or hard >= count
    return pytest.mark.skipif(
        not enough, reason=f"RLIMIT_NOFILE's hard limit ({hard}) is under the {count} needed"
    )


# The repository's root: the tests' C sources and tools live below it.
ROOT = Path(__file__).resolve().parent.parent

# For the hardened library's own C tests (nanomsg/repro, nanomsg/tests), built on its archive.
needs_hardened_c = pytest.mark.skipif(
    not nn.HARDENED, reason="the hardened library's own C tests: this build is not hardened"
)


def build_c_on_wheel(
    tmp_path_factory: pytest.TempPathFactory, source: Path, *, opt: str = "-O1"
) -> Path:
    """Compiles the C program ``source`` on the hardened archive of the last ``make wheel``
    (``nanomsg/link-flags``), warnings as errors, into a fresh temporary folder; returns the
    program."""
    gcc = shutil.which("gcc")
    assert gcc, "gcc is needed to build the C tests"
    flags = subprocess.run(
        [ROOT / "nanomsg" / "link-flags"], capture_output=True, text=True, check=False
    )
    assert flags.returncode == 0, flags.stderr
    out = tmp_path_factory.mktemp(source.stem) / source.stem
    cmd = [gcc, opt, "-g", "-Wall", "-Werror", "-o", str(out), str(source), *flags.stdout.split()]
    subprocess.run(cmd, check=True)
    return out


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Polls ``condition`` until it holds; fails after ``timeout`` seconds (generous: the
    condition usually holds within milliseconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened in {timeout} s: {what or condition}"
        time.sleep(0.005)


def wait_connected(s: nn.Socket, n: int = 1, timeout: float = 10.0) -> None:
    """Waits until ``s`` counts ``n`` live connections (``CURRENT_CONNECTIONS``). libnanomsg
    counts a connection a moment before its pipe can carry messages, and nng keeps no
    statistics at all (this does nothing there): where messages must flow next, follow it
    with ``wait_reachable``, which proves it on both backends."""
    if NNG:
        return
    deadline = time.monotonic() + timeout
    while s.statistic(nn.Statistic.CURRENT_CONNECTIONS) < n:
        assert time.monotonic() < deadline, f"{n} connections never came up in {timeout} s"
        time.sleep(0.01)


PROBE = b"\x00probe "
# Generous: a connection comes up in milliseconds, but a loaded machine may take much longer.
CONNECT_DEADLINE = 20.0


def wait_reachable(
    sender: nn.Socket,
    receivers: Sequence[nn.Socket],
    *,
    broadcast: bool = False,
    reply: bool = False,
    timeout: float = CONNECT_DEADLINE,
) -> None:
    """Sends probe messages from ``sender`` until each of ``receivers`` has received one:
    the proof, on either backend, that every connection between them carries messages
    (nng keeps no statistics to count connections by; libnanomsg counts one before its
    pipe is ready). No probe is left behind for the test to receive:

    - ``broadcast`` (PUB, SURVEYOR, BUS: each message goes to every peer): done when every
      receiver got the same probe, the last one sent; each pipe keeps order, so the earlier
      probes were received before it.
    - otherwise (PUSH, PAIR, REQ: each message goes to one peer): done when every receiver
      got a probe and every probe sent was received.
    - ``reply`` (REQ to REP): each receiver answers the probe and ``sender`` receives the
      answer, so that no request is left to be resent.

    Bounded by ``timeout``; the receivers must get nothing but probes meanwhile."""
    deadline = time.monotonic() + timeout
    n = len(receivers)
    got_any = [False] * n
    got_last = [False] * n
    outstanding: set[bytes] = set()  # sent and not yet received (or, with reply, answered)
    last = b""
    sequence = itertools.count()

    def done() -> bool:
        if broadcast:
            return bool(last) and all(got_last)
        return all(got_any) and not outstanding

    window = 0.0
    round_end = 0.0
    while not done():
        now = time.monotonic()
        assert now < deadline, (
            f"probes never reached every receiver in {timeout} s: got_any={got_any} "
            f"got_last={got_last} outstanding={sorted(outstanding)}"
        )
        # A new probe when the last one is home; broadcasting, also when it has not reached
        # everyone within a window that doubles each round (a slow machine catches up).
        if (not broadcast and not outstanding) or (broadcast and now >= round_end):
            token = PROBE + b"%d" % next(sequence)
            try:
                sender.send(token, block=False)
            except nn.Again:  # no peer ready yet
                time.sleep(0.005)
                continue
            last = token
            got_last = [False] * n
            window = min(2.0, max(0.1, 2 * window))
            round_end = time.monotonic() + window
            outstanding.add(token)
        for i, r in enumerate(receivers):
            while True:
                try:
                    m = r.recv(block=False)
                except nn.Again:
                    break
                assert m.startswith(PROBE), f"receiver {i} got {m[:40]!r} while probing"
                got_any[i] = True
                got_last[i] = got_last[i] or m == last
                if reply:
                    r.send(m, block=False)
                elif not broadcast:
                    outstanding.discard(m)
        if reply:
            while True:
                try:
                    outstanding.discard(sender.recv(block=False))
                except (nn.Again, nn.BadState):
                    break
        time.sleep(0.002)


# -- promises that are times ------------------------------------------------------------------

# How many times a timing promise is tried before it counts as broken.
TIMING_ATTEMPTS = 5
R = TypeVar("R")


def best_of(
    measure: Callable[[], R],
    ok: Callable[[R], bool],
    what: str,
    attempts: int = TIMING_ATTEMPTS,
) -> R:
    """For a promise that *is* a time ("Ctrl-C interrupts within 0.3 s"): runs ``measure``
    up to ``attempts`` times and returns the first result that ``ok`` accepts. ``measure``
    itself asserts whatever must hold every time (the exception, a lower bound: a wait
    that ends early is a bug however loaded the machine is); ``ok`` checks only the upper
    bound. A loaded machine can make one attempt late, but not all of them, while a binding
    that breaks the promise is late every time. The bound itself is never widened."""
    results = []
    for _ in range(attempts):
        result = measure()
        if ok(result):
            return result
        results.append(result)
    raise AssertionError(f"{what}: late in all {attempts} attempts: {results}")


def quick_and_soak(
    quick: tuple[Any, ...],
    soak: tuple[Any, ...],
    timeout: float,
    quick_timeout: float | None = None,
) -> list[Any]:
    """The two runs of a test that has a soak twin, as ``pytest.mark.parametrize`` values:
    ``quick`` in the default suite (under ``quick_timeout`` seconds when given, else the
    suite's), ``soak`` only with ``-m soak`` (``make soak``), under ``timeout`` seconds.
    Their ids: "quick" and "soak"."""
    quick_marks = [] if quick_timeout is None else [pytest.mark.timeout(quick_timeout)]
    return [
        pytest.param(*quick, id="quick", marks=quick_marks),
        pytest.param(*soak, id="soak", marks=[pytest.mark.soak, pytest.mark.timeout(timeout)]),
    ]


# -- addresses and sockets ------------------------------------------------------------------

_counter = itertools.count()


def _port_range() -> tuple[int, int]:
    """Ports no outgoing connection takes: above Linux's ephemeral range, where the kernel
    would otherwise hand a port this module just found free to the next connect() of any
    process (a busy machine, a fuzzer beside the tests: 'Address already in use')."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            high = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        high = 60999
    return (high + 1, 65535) if high < 64535 else (10000, 19999)


_PORTS = _port_range()
_next_port = itertools.count(random.randrange(_PORTS[1] - _PORTS[0] + 1))


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is bound to right now, outside the ephemeral
    range (see ``_port_range``); each call tries the next one, from a random start."""
    low, high = _PORTS
    for _ in range(500):
        port = low + next(_next_port) % (high - low + 1)
        with pysocket.socket(pysocket.AF_INET, pysocket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))  # no SO_REUSEADDR, as libnanomsg binds
            except OSError:
                continue
            return port
    with pysocket.socket(pysocket.AF_INET, pysocket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        found: int = s.getsockname()[1]
        return found


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


def timeouts(
    *socks: nn.Socket, ms: int = 5000, rcv: int | None = None, snd: int | None = None
) -> None:
    """Sets the receive and send timeouts of each socket (``ms`` for both, unless ``rcv`` or
    ``snd`` says otherwise): a test that waits in vain fails, it does not hang."""
    for s in socks:
        s.rcvtimeo = ms if rcv is None else rcv
        s.sndtimeo = ms if snd is None else snd


def star(
    sock: SockFactory,
    hub: str,
    leaf: str,
    n: int,
    transport: str = "inproc",
    *,
    raw: tuple[bool, bool] = (False, False),
    ms: int | None = 5000,
    rcv: int | None = None,
    snd: int | None = None,
    address: str | None = None,
) -> tuple[nn.Socket, list[nn.Socket]]:
    """A socket of protocol ``hub`` bound (to ``address``, or a fresh one on ``transport``)
    and ``n`` of protocol ``leaf`` connected to it, made with the ``sock`` fixture (``raw``:
    the hub's and the leaves' in the SP_RAW domain), all with ``timeouts(ms=ms, rcv=rcv,
    snd=snd)`` unless ``ms`` is None."""
    x = sock(hub, "sp-raw" if raw[0] else "sp")
    address = address or make_address(transport)
    x.bind(address)
    leaves = [sock(leaf, "sp-raw" if raw[1] else "sp") for _ in range(n)]
    for y in leaves:
        y.connect(address)
    if ms is not None:
        timeouts(x, *leaves, ms=ms, rcv=rcv, snd=snd)
    return x, leaves


def connected(
    sock: SockFactory, a: str, b: str, transport: str = "inproc", **options: Any
) -> tuple[nn.Socket, nn.Socket]:
    """A socket of protocol ``a`` bound and one of ``b`` connected to it: ``star`` with one
    leaf, and the same keyword ``options`` (``raw``, ``ms``, ``rcv``, ``snd``, ``address``)."""
    x, (y,) = star(sock, a, b, 1, transport, **options)
    return x, y


class CompatSocket(Protocol):
    """What the compat modules' sockets (``nanomsg_rs.compat``) have in common here."""

    socket: nn.Socket  # the nanomsg_rs socket underneath

    def bind(self, address: str) -> Any: ...
    def connect(self, address: str) -> Any: ...


C = TypeVar("C", bound=CompatSocket)


def linked(a: C, b: C, transport: str = "inproc") -> tuple[C, C]:
    """Binds compat socket ``a`` on a fresh address of ``transport``, connects ``b`` to it and
    waits until messages flow (nng connects in the background)."""
    address = make_address(transport)
    a.bind(address)
    b.connect(address)
    wait_reachable(a.socket, [b.socket])
    return a, b


def machine_settings(max_examples: int, steps: int) -> settings:
    """Hypothesis settings for a state machine over real sockets: ``max_examples`` runs of
    ``steps`` steps, no deadline (a step waits on the network), no example database, and no
    health check on slow or much-filtered data."""
    return settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def drain(s: nn.Socket) -> list[bytes]:
    """Everything ``s`` can receive right now, without waiting."""
    got = []
    while True:
        try:
            got.append(s.recv(block=False))
        except nn.Again:
            return got


def assert_each_gets_its_reply(server: nn.Socket, clients: Sequence[nn.Socket]) -> None:
    """Each of ``clients`` (REQ) sends a request, ``server`` (REP) answers them one by one,
    and each client receives the answer to its own request: the replies find their way
    back, directly or through devices."""
    for i, c in enumerate(clients):
        c.send(b"request %d" % i)
    for _ in clients:
        request = server.recv()
        server.send(b"answer to " + request)
    for i, c in enumerate(clients):
        assert c.recv() == b"answer to request %d" % i


def assert_each_reaches_every_other(buses: Sequence[nn.Socket]) -> None:
    """Each of ``buses`` (BUS, all reachable) sends a message; every other one receives it,
    and then nothing more for 100 ms: no echo to the sender, and nothing twice."""
    for i, sender in enumerate(buses):
        sender.send(b"from %d" % i)
        for j, other in enumerate(buses):
            if j != i:
                assert other.recv() == b"from %d" % i
    for b in buses:
        b.rcvtimeo = 100
        with pytest.raises(nn.Timeout):
            b.recv()


# -- a fresh interpreter ------------------------------------------------------------------------

# Code run by ``run_reporting`` starts with this: ``report(**kw)`` prints one line of JSON;
# ``raised(call)`` calls and gives the name of what it raised (KeyboardInterrupt too), or None.
REPORT_PRELUDE = """
import json, sys
import nanomsg_rs as nn

def report(**kw):
    print(json.dumps(kw), flush=True)

def raised(call):
    try:
        call()
    except BaseException as e:
        return type(e).__name__
    return None
"""


def run_python(
    code: str, *args: object, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` (dedented) with ``args`` in a fresh interpreter, for what must not
    happen in the test process (a crash, a hang, a fork, process-wide state); returns the
    finished process, whatever its exit status."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else {**os.environ, **env},
        check=False,
    )


def start_python(
    code: str,
    *args: object,
    stdin: Any = subprocess.DEVNULL,
    stderr: Any = subprocess.PIPE,
    text: bool = False,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.Popen[Any]:
    """Starts ``code`` (dedented) with ``args`` in a fresh interpreter, its stdout piped and
    its stdin and stderr as given: ``run_python`` for a child the test talks to while it
    runs. The caller waits for it (or kills it)."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=text,
        cwd=cwd,
    )


def run_ok(code: str, *args: object, timeout: float = 60) -> str:
    """``run_python`` with glibc's heap checks and faulthandler on; the test fails with the
    child's output unless it exits 0 and its last line is ``ok``. Returns its stdout."""
    proc = run_python(
        code, *args, timeout=timeout, env={"MALLOC_CHECK_": "3", "PYTHONFAULTHANDLER": "1"}
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), (
        f"child exited with {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    return proc.stdout


def run_reporting(
    body: str, *args: object, timeout: float = 60, prelude: str = REPORT_PRELUDE
) -> Any:
    """Runs ``body`` after ``prelude`` (which defines ``report``) in a fresh interpreter; the
    test fails unless it exits 0. Returns the JSON it reported last."""
    proc = run_python(prelude + textwrap.dedent(body), *args, timeout=timeout)
    assert proc.returncode == 0, f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    lines = proc.stdout.strip().splitlines()
    assert lines, f"child reported nothing:\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1])


def run_in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Starts ``call`` in a daemon thread; the dict gets ``result`` or ``exc``, and the
    monotonic times ``start`` (just before the call) and ``end``."""
    box: dict[str, Any] = {}
    started = threading.Event()

    def body() -> None:
        box["start"] = time.monotonic()
        started.set()
        try:
            box["result"] = call()
        except BaseException as e:
            box["exc"] = e
        box["end"] = time.monotonic()

    t = threading.Thread(target=body, daemon=True)
    t.start()
    assert started.wait(5)
    return t, box
