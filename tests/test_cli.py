"""nncat against nanocat: the same bytes out, the same errors, and each talks to the other.

nanocat is started with ``argv[0] = "nncat"`` (``executable=`` points at the real binary), so
its messages name the program exactly as nncat's do and the two outputs compare byte for byte
without any rewriting.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import NNG, make_address

import nanomsg_rs as nn
from nanomsg_rs.cli import format_message, main

NANOCAT = shutil.which("nanocat")
pytestmark = pytest.mark.skipif(NANOCAT is None, reason="needs nanocat (nanomsg-utils)")

NNCAT = [sys.executable, "-m", "nanomsg_rs"]
TOOLS = ("nncat", "nanocat")
Arg = str | bytes

# Messages with everything a format has to escape: quotes, backslashes, control bytes,
# non-ASCII, the empty message, and sizes for each msgpack header (c4, c5, c6).
MESSAGES = [
    b"hello",
    b"",
    b'say "hi"',
    b"back\\slash",
    b"new\nline\r\ttab",
    bytes(range(256)),
    "h\u00e9llo w\u00f6rld \u2713".encode(),
    b"\x00\xff\x7f\x80",
    b"x" * 300,
    b"y" * 70000,
]


def command(tool: str, args: Sequence[Arg]) -> tuple[list[Arg], str | None]:
    """The argv and executable that run ``tool`` (nanocat under the name "nncat")."""
    if tool == "nncat":
        return [*NNCAT, *args], None
    return ["nncat", *args], NANOCAT


@dataclass
class Result:
    """How a run ended."""

    status: int
    out: bytes
    err: bytes


def spawn(tool: str, args: Sequence[Arg], stdin: int | None = None) -> subprocess.Popen[bytes]:
    """Starts ``tool`` with ``args``, stdout and stderr piped."""
    argv, executable = command(tool, args)
    return subprocess.Popen(
        argv, executable=executable, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def finish(proc: subprocess.Popen[bytes], timeout: float = 15, data: bytes | None = None) -> Result:
    """Waits for ``proc`` and returns its result; one that overstays ``timeout`` is killed,
    and its stderr says so."""
    try:
        out, err = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += b"\n[killed: still running after %d s]" % timeout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Result(proc.returncode, out, err)


def run_both(args: Sequence[Arg], data: bytes | None = None) -> tuple[Result, Result]:
    """Runs nncat and nanocat side by side on the same arguments: (nncat, nanocat)."""
    stdin = subprocess.PIPE if data is not None else subprocess.DEVNULL
    procs = [spawn(tool, args, stdin=stdin) for tool in TOOLS]
    try:
        with ThreadPoolExecutor(2) as pool:
            mine, theirs = pool.map(lambda p: finish(p, data=data), procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return mine, theirs


class Running:
    """A tool running in the background; its stdout is read line by line as it comes."""

    def __init__(self, tool: str, args: Sequence[Arg], *, default_sigint: bool = False):
        argv, executable = command(tool, args)
        if default_sigint:
            # A process started from a shell's background job may inherit SIGINT ignored; give
            # the child Ctrl-C's default action, as an interactive shell would.
            trampoline = (
                "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                "os.execv(sys.argv[1], sys.argv[2:])"
            )
            argv = [sys.executable, "-c", trampoline, executable or sys.executable, *argv]
            executable = None
        self.proc = subprocess.Popen(
            argv,
            executable=executable,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.err = b""
        self._readers = [
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for t in self._readers:
            t.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self.err = self.proc.stderr.read()

    def line(self, timeout: float = 10) -> bytes:
        """The next line it prints (fails the test after ``timeout`` seconds)."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no output within {timeout} s; stderr so far: {self.err!r}")

    def wait(self, timeout: float = 10) -> int:
        """Waits for it to exit; returns the status."""
        status = self.proc.wait(timeout=timeout)
        for t in self._readers:
            t.join(timeout=5)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None and not any(t.is_alive() for t in self._readers):
                pipe.close()
        return status

    def stop(self) -> None:
        """Kills it if it still runs."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait()


@pytest.fixture
def running() -> Iterator[list[Running]]:
    """Background tools started by a test, all killed at its end."""
    started: list[Running] = []
    yield started
    for r in started:
        r.stop()


# -- the command line: help and every error, compared -----------------------------------------


def test_help_is_the_same() -> None:
    mine, theirs = run_both(["--help"])
    assert (mine.status, mine.err) == (theirs.status, theirs.err) == (0, b"")
    assert mine.out == theirs.out
    assert mine.out.startswith(b"Usage:\n    nncat {--push|--pull|")


# nanocat's exit statuses, which nncat keeps: 1 for a command line its option parser refuses,
# 2 for a file it cannot open, 3 for an error of nanomsg's (bind, connect, an option), and 0
# with the help when -h comes before any error.
USAGE_ERRORS = [
    [],
    ["--pull"],  # no endpoint
    ["--bind", "inproc://x"],  # no socket type
    ["--pull", "--push", "--bind", "inproc://x"],  # two socket types
    ["--sub", "-D", "x", "--pub", "--bind", "inproc://x"],
    ["--pull", "-D", "x", "--bind", "inproc://x"],  # data on receive-only sockets
    ["--sub", "--data=x", "--bind", "inproc://x"],
    ["--pull", "--subscribe", "a", "--bind", "inproc://x"],  # --subscribe on non-SUB
    ["--push", "--subscribe", "a", "--bind", "inproc://x"],  # push without data first
    ["--req", "--bind", "inproc://x"],  # REQ needs data
    ["--pub", "-D", "a", "-A", "--bind", "inproc://x"],  # a format on send-only sockets
    ["--pull", "-i", "1", "--bind", "inproc://x"],
    ["--pull", "--send-timeout", "1", "--bind", "inproc://x"],
    ["--req", "-D", "a", "-F", "/etc/hostname", "--bind", "inproc://x"],
    ["--req", "-D", "a", "-D", "b", "--bind", "inproc://x"],
    ["--foo"],
    ["-z"],
    ["-vAz"],
    ["--pu", "--bind", "inproc://x"],  # ambiguous abbreviations
    ["--re=1"],
    ["--pull=1", "--bind", "inproc://x"],
    [""],
    ["--pull", "--bind", "inproc://x", "extra"],
    ["--pull", "-X"],
    ["--pull", "--bind", "inproc://x", "--recv-timeout", "abc"],  # bad numbers
    ["--pull", "--bind", "inproc://x", "--recv-tim=1x"],
    ["--pull", "--bind", "inproc://x", "--recv-timeout", "1 "],
    ["--pull", "--bind", "inproc://x", "--recv-timeout", "1_0"],
    ["--push", "-D", "x", "--bind", "inproc://x", "-i", ""],
    ["--pull", "--bind", "inproc://x", "--format", "ASCII"],
    ["-", "--", "--pull"],  # "-" and "--" are skipped
    ["--pull", "--push", "-h"],  # an error before -h
]
FILE_ERRORS = [
    ["--push", "-F", "/nonexistent/file", "--bind", "inproc://x"],
    ["--pull", "-F", "/nonexistent/file"],  # the file is read before the checks
]
NANOMSG_ERRORS = [
    ["--pull", "--bind", "no-transport"],
    ["--pull", "--bind", "foo://x"],
    ["--pull", "--bind-local", "abc"],
    ["--pull", "--bind", "inproc://x", "--bind", "inproc://x"],
    ["--pull", "--bind", "inproc://x", "--socket-name", "n" * 64],
]
HELP_FIRST = [
    ["-h", "--pull", "--push"],  # help comes first when it comes first
]
EXIT_STATUS = {
    repr(args): status
    for status, group in ((1, USAGE_ERRORS), (2, FILE_ERRORS), (3, NANOMSG_ERRORS), (0, HELP_FIRST))
    for args in group
}
BAD_COMMAND_LINES = USAGE_ERRORS + FILE_ERRORS + NANOMSG_ERRORS + HELP_FIRST


@pytest.fixture(scope="module")
def compared() -> dict[str, tuple[Result, Result]]:
    """(nncat, nanocat) results of every command line below, run a few at a time."""
    cases = [c for c in BAD_COMMAND_LINES + PEERLESS_RUNS if not _differs_on_this_backend(c)]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(run_both, cases))
    return {repr(args): result for args, result in zip(cases, results, strict=True)}


@pytest.mark.parametrize("args", BAD_COMMAND_LINES, ids=repr)
def test_command_line_errors_are_the_same(
    compared: dict[str, tuple[Result, Result]], args: list[str]
) -> None:
    mine, theirs = compared[repr(args)]
    assert mine.status == theirs.status
    assert mine.err == theirs.err
    assert mine.out == theirs.out
    assert mine.status == EXIT_STATUS[repr(args)]
    assert bool(mine.err) == (mine.status != 0)  # an error says why; the help says nothing


PEERLESS_RUNS = [
    # a receive timeout ends the receive loop: status 0; fractions of a second are cut
    # (nanocat sets NN_RCVTIMEO to (int) seconds * 1000)
    ["--pull", "--bind", "inproc://x", "--recv-timeout", "0.9", "-A", "-vvq"],
    ["--sub", "--bind", "inproc://x", "--recv-timeout", "0", "--subscribe", ""],
    ["--pull", "--bind", "inproc://x", "--recv-timeout", "inf"],
    ["--bus", "-X", "/nonexistent-dir/x.ipc", "--recv-timeout", "0"],
    ["--pair", "--bind", "inproc://x", "--recv-timeout", "0x1p-1"],
    # REP/RESPONDENT answering with data treat a timeout as an error: status 3
    ["--rep", "--bind", "inproc://x", "--recv-timeout", "1", "-D", "x"],
    ["--respondent", "--bind", "inproc://x", "--recv-timeout", "1"],
    # no peer: the send times out (status 3), REQ waits for its reply, SURVEYOR for the
    # deadline, PUB sends to nobody and is done
    ["--push", "--bind", "inproc://x", "--send-timeout", "0.2", "-D", "x"],
    ["--req", "--bind", "inproc://x", "--recv-timeout", "1", "-D", "x", "-A"],
    ["--surveyor", "--bind", "inproc://x", "-D", "x", "-Q"],
    ["--pub", "--bind", "inproc://x", "-D", "x", "-d", "0.1"],
]


# Runs that cannot end as nanocat's do on the nng backend, and why.
NNG_DIFFERENCES = {
    repr(["--req", "--bind", "inproc://x", "--recv-timeout", "1", "-D", "x", "-A"]): (
        "nng's REQ takes a request only once a peer is there (the send waits for one; "
        "test_protocols.py::test_req_send_without_peer); libnanomsg queues it"
    ),
}


def _differs_on_this_backend(args: list[str]) -> bool:
    return NNG and repr(args) in NNG_DIFFERENCES


@pytest.mark.parametrize("args", PEERLESS_RUNS, ids=repr)
def test_runs_without_peers_end_the_same(
    compared: dict[str, tuple[Result, Result]], args: list[str]
) -> None:
    if _differs_on_this_backend(args):
        pytest.skip(NNG_DIFFERENCES[repr(args)])
    mine, theirs = compared[repr(args)]
    assert (mine.status, mine.out, mine.err) == (theirs.status, theirs.out, theirs.err)


def test_negative_delay_fails_like_nanocat() -> None:
    mine, theirs = run_both(["--push", "-d", "-1", "-D", "x", "--bind", "inproc://x"])
    assert theirs.status == -signal.SIGABRT
    assert mine.status == 128 + signal.SIGABRT  # what a shell shows for nanocat's abort
    assert mine.err.splitlines()[-1] == theirs.err.splitlines()[-1]
    assert b"Traceback" not in mine.err


# -- output formats: the same messages, the same bytes -------------------------------------------

# the options, and the format they select
FORMAT_ARGS = [
    ([], "no"),
    (["--raw"], "raw"),
    (["--ascii"], "ascii"),
    (["-A"], "ascii"),
    (["--quoted"], "quoted"),
    (["-Q"], "quoted"),
    (["--msgpack"], "msgpack"),
    (["--hex"], "hex"),
    (["--format", "no"], "no"),
    (["--format", "raw"], "raw"),
    (["--format=ascii"], "ascii"),
    (["--format", "quoted"], "quoted"),
    (["--form", "msgpack"], "msgpack"),
    (["--format", "hex"], "hex"),
    (["--hex", "-A"], "ascii"),  # the last one wins
]


def _pull_all(variants: list[list[str]]) -> dict[tuple[str, str], Result]:
    """Sends MESSAGES from Python to ``tool --pull`` for every tool and variant, all at once;
    each tool ends by its receive timeout."""
    pushers: list[nn.Socket] = []
    procs: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
    try:
        for variant in variants:
            for tool in TOOLS:
                address = make_address("ipc")
                push = nn.Socket("push")
                pushers.append(push)
                push.bind(address)
                push.sndtimeo = 15000
                args = ["--pull", "--connect", address, "--recv-timeout", "2", *variant]
                procs[tool, " ".join(variant)] = spawn(tool, args, stdin=subprocess.DEVNULL)

        def send_all(push: nn.Socket) -> None:
            for m in MESSAGES:
                push.send(m)

        with ThreadPoolExecutor(len(pushers)) as pool:
            list(pool.map(send_all, pushers))
        with ThreadPoolExecutor(len(procs)) as pool:
            results = list(pool.map(finish, procs.values()))
        return dict(zip(procs, results, strict=True))
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        for push in pushers:
            push.close()


@pytest.fixture(scope="module")
def pulled() -> dict[tuple[str, str], Result]:
    """What each tool printed for MESSAGES, per format option."""
    return _pull_all([args for args, _ in FORMAT_ARGS])


@pytest.mark.parametrize(("variant", "fmt"), [(" ".join(a), f) for a, f in FORMAT_ARGS])
def test_format_output_is_the_same(
    pulled: dict[tuple[str, str], Result], variant: str, fmt: str
) -> None:
    mine, theirs = pulled["nncat", variant], pulled["nanocat", variant]
    assert (theirs.status, theirs.err) == (0, b"")
    assert (mine.status, mine.err) == (0, b"")
    assert mine.out == theirs.out
    # and every message arrived, in order
    assert mine.out == b"".join(format_message(fmt, m) for m in MESSAGES)
    assert (mine.out == b"") == (fmt == "no")


# -- sending: --data bytes, --file, stdin ------------------------------------------------------


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("source", ["data", "file", "stdin", "empty-data"])
def test_sent_bytes_arrive_unchanged(tool: str, source: str, tmp_path: Path) -> None:
    payload = b'caf\xc3\xa9 \xff\xfe "quoted" \\ \x01' if source != "empty-data" else b""
    address = make_address("tcp")  # over ipc a one-shot send is lost when the sender closes
    path = tmp_path / "payload"
    path.write_bytes(payload + b"\x00\n")
    args: list[Arg] = ["--push", "--connect", address]
    stdin = None
    if source in ("data", "empty-data"):
        args += ["-D", payload]
        expected = payload
    elif source == "file":
        args += ["-F", str(path)]
        expected = payload + b"\x00\n"
    else:
        args += ["--file", "-"]
        stdin = payload + b"\x00\n"
        expected = stdin
    with nn.Socket("pull") as pull:
        pull.bind(address)
        pull.rcvtimeo = 10000
        proc = spawn(tool, args, stdin=subprocess.PIPE if stdin is not None else None)
        result = finish(proc, data=stdin)
        assert (result.status, result.err) == (0, b"")
        assert pull.recv() == expected


@pytest.mark.parametrize("tool", TOOLS)
def test_delay_waits_before_sending(tool: str) -> None:
    address = make_address("tcp")
    proc = spawn(tool, ["--push", "--bind", address, "-D", "late", "-d", "0.6"])
    try:
        wait_for_listener(address)  # bound: the delay starts now
        start = time.monotonic()
        with nn.Socket("pull") as pull:
            pull.connect(address)
            pull.rcvtimeo = 10000
            assert pull.recv() == b"late"
        assert time.monotonic() - start >= 0.5
    finally:
        result = finish(proc)
    assert (result.status, result.err) == (0, b"")


# -- REP, RESPONDENT, REQ, SURVEYOR, SUB against Python peers ----------------------------------


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("kind", ["rep", "respondent"])
def test_server_answers_with_data_or_not_at_all(
    running: list[Running], tool: str, kind: str
) -> None:
    client_kind = "req" if kind == "rep" else "surveyor"
    quiet, answering = make_address("ipc"), make_address("ipc")
    running.append(Running(tool, [f"--{kind}", "--bind", quiet, "-Q"]))
    running.append(Running(tool, [f"--{kind}", "--bind", answering, "-Q", "-D", "the answer"]))
    with nn.Socket(client_kind) as silent, nn.Socket(client_kind) as talking:
        silent.connect(quiet)
        talking.connect(answering)
        for s in (silent, talking):
            s.rcvtimeo = 300
            if kind == "respondent":
                s.surveyor_deadline = 5000
        # Ask until the server is up (a survey sent before it connects is lost); the first
        # question it prints is the one it got.
        deadline = time.monotonic() + 15
        answer = None
        while answer is None:
            assert time.monotonic() < deadline, "no answer from the server with -D"
            talking.send(b"question 2")
            with contextlib.suppress(nn.Timeout):
                answer = talking.recv()
        assert answer == b"the answer"
        assert running[1].line() == b'"question 2"\n'
        while running[0].lines.empty():  # without -D: printed, never answered
            assert time.monotonic() < deadline, "the server without -D printed nothing"
            silent.send(b"question 1")
            with pytest.raises(nn.Timeout):
                silent.recv()
        assert running[0].line() == b'"question 1"\n'


@pytest.mark.parametrize("tool", TOOLS)
def test_req_interval_asks_again_and_again(running: list[Running], tool: str) -> None:
    address = make_address("tcp")
    with nn.Socket("rep") as server:
        server.bind(address)
        server.rcvtimeo = 10000
        port = address.rsplit(":", 1)[1]
        client = Running(tool, ["--req", "-l", port, "-D", "bottles of beer:", "-A", "-i", "0.3"])
        running.append(client)
        start = time.monotonic()
        for n in range(3):
            request = server.recv()
            assert request == b"bottles of beer:"
            server.send(request + b" %d" % n)
            assert client.line() == b"bottles of beer: %d\n" % n
        assert time.monotonic() - start >= 0.5


@pytest.mark.parametrize("tool", TOOLS)
def test_surveyor_collects_answers_until_the_deadline(tool: str) -> None:
    first, second = make_address("ipc"), make_address("tcp")
    with nn.Socket("respondent") as a, nn.Socket("respondent") as b:
        a.bind(first)
        b.bind(second)
        args = ["--surveyor", "--connect", first, "--connect", second, "-D", "?", "-A", "-d", "0.3"]
        proc = spawn(tool, args)
        try:
            for s, answer in ((a, b"yes"), (b, b"no")):
                s.rcvtimeo = 10000
                assert s.recv() == b"?"
                s.send(answer)
        finally:
            result = finish(proc)
    assert (result.status, result.err) == (0, b"")  # the deadline (1 s) ends the survey
    assert sorted(result.out.splitlines()) == [b"no", b"yes"]


def test_sub_prints_only_what_it_subscribed_to(running: list[Running]) -> None:
    address = make_address("tcp")
    with nn.Socket("pub") as pub:
        pub.bind(address)
        args = ["--sub", "--connect", address, "--subscribe", "a", "--subscribe", "ban", "-Q"]
        subs = [Running(tool, args) for tool in TOOLS]
        running.extend(subs)
        deadline = time.monotonic() + 10
        while any(s.lines.empty() for s in subs):  # until both are subscribed
            assert time.monotonic() < deadline, "the subscribers never got anything"
            pub.send(b"a-sync")
            time.sleep(0.05)
        for m in (b"apple", b"banana", b"cherry", b"bandana", b"b", b"", b"avocado", b"a-end"):
            pub.send(m)
        printed = []
        for s in subs:
            lines = []
            while (line := s.line()) != b'"a-end"\n':
                if line != b'"a-sync"\n':
                    lines.append(line)
            printed.append(lines)
    assert printed[0] == printed[1] == [b'"apple"\n', b'"banana"\n', b'"bandana"\n', b'"avocado"\n']


# -- nncat and nanocat talk to each other --------------------------------------------------------

# pattern -> (server args, client args, what the server prints, what the client prints);
# "ADDR" is replaced by the address. Servers bind, clients connect.
PATTERNS = {
    "req-rep": (["--rep", "-D", "pong", "-A"], ["--req", "-D", "ping", "-A"], b"ping", b"pong"),
    "pub-sub": (
        ["--pub", "-D", "news: \xe9t\xe9", "-i", "0.1"],
        ["--sub", "--subscribe", "news", "-Q"],
        None,
        b'"news: \\xc3\\xa9t\\xc3\\xa9"',
    ),
    "push-pull": (["--pull", "--raw"], ["--push", "-D", "line\n", "-i", "0.2"], b"line", None),
    "surveyor-respondent": (
        ["--surveyor", "-D", "who?", "-i", "0.3", "-A"],
        ["--respondent", "-D", "me", "-A"],
        b"me",
        b"who?",
    ),
    "bus": (
        ["--bus", "-D", "from server", "-i", "0.2", "-A"],
        ["--bus", "-D", "from client", "-i", "0.2", "-A"],
        b"from client",
        b"from server",
    ),
    "pair": (
        ["--pair", "-D", "from server", "-i", "0.2", "--hex"],
        ["--pair", "-D", "from client", "-i", "0.2", "-A"],
        b'"' + b"".join(b"\\x%02x" % c for c in b"from client") + b'"',
        b"from server",
    ),
}


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("server", TOOLS, ids=["nncat-serves", "nanocat-serves"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_tools_talk_to_each_other(
    running: list[Running], pattern: str, server: str, transport: str
) -> None:
    client = "nanocat" if server == "nncat" else "nncat"
    server_args, client_args, server_says, client_says = PATTERNS[pattern]
    address = make_address(transport)
    srv = Running(server, [*server_args, "--bind", address])
    running.append(srv)
    cli = Running(client, [*client_args, "--connect", address])
    running.append(cli)
    if server_says is not None:
        assert srv.line() == server_says + b"\n"
    if client_says is not None:
        assert cli.line() == client_says + b"\n"
    if pattern == "req-rep":  # one request, one reply, then REQ has nothing more: status 0
        assert cli.wait() == 0
        assert cli.err == b""


# -- Ctrl-C ----------------------------------------------------------------------------------------


def wait_for_listener(address: str, timeout: float = 15) -> None:
    """Returns once something listens on the tcp ``address`` (a tool has bound it)."""
    host, port = address[len("tcp://") :].rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {address}"
            time.sleep(0.05)


@pytest.mark.parametrize(
    "args",
    [
        ["--pull", "--bind", "ADDR", "-A"],  # waiting in recv
        ["--req", "--bind", "ADDR", "-D", "x", "-A", "-i", "30"],  # waiting for the reply
        ["--push", "--bind", "ADDR", "-D", "x", "-d", "30"],  # in the delay
        ["--push", "--bind", "ADDR", "-D", "x"],  # in send, no peer
    ],
    ids=["recv", "interval", "delay", "send"],
)
def test_ctrl_c_ends_cleanly(running: list[Running], args: list[str]) -> None:
    address = make_address("tcp")
    tool = Running("nncat", [a.replace("ADDR", address) for a in args], default_sigint=True)
    running.append(tool)
    wait_for_listener(address)  # bound: what follows is the delay, the send or the recv
    if args[0] == "--pull":
        with nn.Socket("push") as push:  # proves nncat is in its receive loop
            push.connect(address)
            push.sndtimeo = 10000
            push.send(b"ready")
            assert tool.line() == b"ready\n"
    else:
        time.sleep(0.2)
    assert tool.proc.poll() is None
    tool.proc.send_signal(signal.SIGINT)
    assert tool.wait(timeout=5) == 130
    assert b"Traceback" not in tool.err
    assert tool.err == b""


# -- entry points ----------------------------------------------------------------------------------


def test_console_script_and_main() -> None:
    script = shutil.which("nncat", path=os.path.dirname(sys.executable))
    if script is not None:
        result = subprocess.run([script, "--help"], capture_output=True, timeout=15)
        assert result.returncode == 0
        assert result.stdout.startswith(b"Usage:\n    nncat {--push|")
    assert main(["--pull", "--recv-timeout", "x", "--bind", "inproc://m"]) == 1
    assert main(["--pull", "--recv-timeout", "0", "--bind", "inproc://m"]) == 0


@pytest.mark.parametrize("tool", TOOLS)
def test_an_address_that_is_not_utf8_is_used_as_given(tool: str, tmp_path: Path) -> None:
    """nanocat takes any bytes; so does nncat (its argv decoded with surrogateescape, which
    bind() and connect() encode back to the same bytes; it said "Address is not valid
    UTF-8" and exited with status 3)."""
    address = b"ipc://" + os.fsencode(tmp_path) + b"/\xff.ipc"
    bound = finish(spawn(tool, ["--pull", "--bind", address, "--recv-timeout", "0"]))
    assert bound == Result(0, b"", b"")
    with nn.Socket("rep") as rep:
        rep.bind(address)
        rep.rcvtimeo = rep.sndtimeo = 10000
        proc = spawn(tool, ["--req", "--connect", address, "-D", "ping", "-A"])
        try:
            assert rep.recv() == b"ping"  # over the file of those bytes
            rep.send(b"pong")
        finally:
            result = finish(proc)
    assert result == Result(0, b"pong\n", b"")
