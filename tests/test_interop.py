"""Interoperability with peers nobody here wrote: libnanomsg's own ``nanocat`` tool and nng
(through ``pynng``), over tcp and ipc, for every protocol pair, in both bind/connect roles.

Every exchange checks the exact bytes in both directions. nanocat prints what it receives
with ``--hex`` (one ``"\\xHH..."`` line per message, easy to decode exactly) and sends the
contents of a file (``-F``), so binary payloads with NUL, 0xff, quotes and newlines travel
both ways.
"""

from __future__ import annotations

import itertools
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import CONNECT_DEADLINE, PROBE, SockFactory, make_address, wait_connected, wait_until

import nanomsg_rs as nn

NANOCAT = shutil.which("nanocat")

# Payloads with every byte that a text-minded peer could mangle.
BLOB = b'\x00nanomsg\xff\x01\x7f"quote\\back\nnew\rline\tend\x00'
REPLY = b"reply:\x00\x80\xfe\xff\n-\xc3\xa9-"
TOPIC = b"topic/"

TRANSPORTS = ["tcp", "ipc"]
ROLES = ["we-bind", "we-connect"]


# --------------------------------------------------------------------------------------------
# nanocat
# --------------------------------------------------------------------------------------------


def decode_hex_line(line: bytes) -> bytes:
    """One line of ``nanocat --hex`` output (``"\\x68\\x69"``) back into the message bytes."""
    text = line.rstrip(b"\n")
    assert text.startswith(b'"') and text.endswith(b'"'), f"unexpected nanocat output {line!r}"
    inner = text[1:-1]
    parts = inner.split(b"\\x")
    assert parts[0] == b"", f"unexpected nanocat output {line!r}"
    assert all(len(p) == 2 for p in parts[1:]), f"unexpected nanocat output {line!r}"
    return bytes.fromhex(b"".join(parts[1:]).decode("ascii"))


def test_decode_hex_line() -> None:
    assert decode_hex_line(b'"\\x68\\x00\\xff"\n') == b"h\x00\xff"
    assert decode_hex_line(b'""\n') == b""


class Nanocat:
    """A running nanocat; a thread collects the messages it prints (``--hex``)."""

    def __init__(self, args: list[str]) -> None:
        assert NANOCAT is not None
        self.args = args
        self.proc = subprocess.Popen(
            [NANOCAT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def message(self, timeout: float = 5.0) -> bytes | None:
        """The next message nanocat printed, or None if none came within ``timeout``."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            self._lines.put(None)  # stays at end of output
            return None
        return decode_hex_line(line)

    def messages(self, quiet: float = 0.2) -> list[bytes]:
        """Every message printed until nothing more comes for ``quiet`` seconds."""
        out = []
        while (m := self.message(quiet)) is not None:
            out.append(m)
        return out

    def stop(self) -> str:
        """Kills nanocat; returns its stderr (for failure messages)."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            _, err = self.proc.communicate(timeout=5)
        except (ValueError, subprocess.TimeoutExpired):
            err = b""
        self._reader.join(timeout=5)
        return err.decode(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None


@pytest.fixture
def nanocat(tmp_path: Path) -> Iterator[Callable[..., Nanocat]]:
    """``nanocat(*args, data=b"...")`` starts nanocat (``-F`` a file holding ``data``);
    every process is killed at the end of the test."""
    if NANOCAT is None:
        pytest.skip("nanocat (nanomsg-utils) is not installed")
    started: list[Nanocat] = []
    counter = iter(range(1000))

    def start(*args: str, data: bytes | None = None) -> Nanocat:
        argv = list(args)
        if data is not None:
            path = tmp_path / f"data{next(counter)}.bin"
            path.write_bytes(data)
            argv += ["-F", str(path)]
        proc = Nanocat(argv)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture(params=TRANSPORTS)
def nc_transport(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def setup(
    sock: SockFactory,
    nanocat: Callable[..., Nanocat],
    protocol: str,
    nc_args: list[str],
    transport: str,
    role: str,
    data: bytes | None = None,
) -> tuple[nn.Socket, Nanocat]:
    """Our socket of ``protocol`` and a nanocat with ``nc_args``, one binding the address and
    the other connecting to it (``role`` says which is ours)."""
    address = make_address(transport)
    s = sock(protocol)
    s.rcvtimeo = 5000
    s.sndtimeo = 5000
    # nanocat refuses an output format on sockets that cannot receive.
    fmt = [] if nc_args[0] in ("--pub", "--push") else ["--hex"]
    if role == "we-bind":
        s.bind(address)
        nc = nanocat(*nc_args, "--connect", address, *fmt, data=data)
    else:
        nc = nanocat(*nc_args, "--bind", address, *fmt, data=data)
        s.connect(address)
    return s, nc


def test_req_to_nanocat_rep(sock: Any, nanocat: Any, nc_transport: str, role: str) -> None:
    s, nc = setup(sock, nanocat, "req", ["--rep"], nc_transport, role, data=REPLY)
    for request in (BLOB, b"second request", b""):
        assert s.send(request) == len(request)
        assert s.recv() == REPLY
        assert nc.message() == request
    assert nc.alive()


def test_nanocat_req_to_rep(sock: Any, nanocat: Any, nc_transport: str, role: str) -> None:
    # Without --interval nanocat sends one request and then prints the replies it gets.
    s, nc = setup(sock, nanocat, "rep", ["--req"], nc_transport, role, data=BLOB)
    assert s.recv() == BLOB
    assert s.send(REPLY) == len(REPLY)
    assert nc.message() == REPLY
    assert nc.messages() == []


def test_pub_to_nanocat_sub(sock: Any, nanocat: Any, nc_transport: str, role: str) -> None:
    s, nc = setup(
        sock, nanocat, "pub", ["--sub", "--subscribe", TOPIC.decode()], nc_transport, role
    )
    # Subscriptions reach nothing until the connection exists: publish until one arrives,
    # each topic message between two that the subscription must filter out.
    got = None
    deadline = time.monotonic() + 5
    while got is None and time.monotonic() < deadline:
        s.send(b"other/" + BLOB)
        s.send(TOPIC + BLOB)
        s.send(b"topi")
        got = nc.message(0.05)
    assert got == TOPIC + BLOB
    s.send(b"x" + TOPIC + b"no")
    s.send(TOPIC + b"final")
    rest = nc.messages()
    assert rest, "the last message did not arrive"
    assert rest[-1] == TOPIC + b"final"
    assert all(m == TOPIC + BLOB for m in rest[:-1])


def test_nanocat_pub_to_sub(sock: Any, nanocat: Any, nc_transport: str, role: str) -> None:
    s, _ = setup(
        sock, nanocat, "sub", ["--pub", "--interval", "0.05"], nc_transport, role, data=TOPIC + BLOB
    )
    s.subscribe(b"topic/x")  # does not match what nanocat publishes
    wait_connected(s, timeout=CONNECT_DEADLINE)
    time.sleep(0.3)  # several publications pass by, all filtered out
    with pytest.raises(nn.Again):
        s.recv(block=False)
    s.subscribe(TOPIC)
    assert s.recv() == TOPIC + BLOB
    assert s.recv() == TOPIC + BLOB


def test_push_to_nanocat_pull(sock: Any, nanocat: Any, nc_transport: str, role: str) -> None:
    s, nc = setup(sock, nanocat, "push", ["--pull"], nc_transport, role)
    sent = [BLOB, b"", b"two", bytes(range(256)) * 40]
    for m in sent:
        assert s.send(m) == len(m)
    assert [nc.message() for _ in sent] == sent
    assert nc.messages() == []


def test_nanocat_push_to_pull(sock: Any, nanocat: Any, nc_transport: str, role: str) -> None:
    s, _ = setup(
        sock, nanocat, "pull", ["--push", "--interval", "0.05"], nc_transport, role, data=BLOB
    )
    for _ in range(3):
        assert s.recv() == BLOB


def test_surveyor_to_nanocat_respondent(
    sock: Any, nanocat: Any, nc_transport: str, role: str
) -> None:
    s, nc = setup(sock, nanocat, "surveyor", ["--respondent"], nc_transport, role, data=REPLY)
    s.surveyor_deadline = 300
    # A survey reaches only the respondents connected when it is sent: ask until answered.
    answer = None
    deadline = time.monotonic() + 5
    while answer is None and time.monotonic() < deadline:
        s.send(BLOB)
        try:
            answer = s.recv()
        except (nn.Timeout, nn.BadState):
            pass
    assert answer == REPLY
    surveys = nc.messages()
    assert surveys, "nanocat printed no survey"
    assert all(m == BLOB for m in surveys)
    # Once connected, every survey is answered.
    s.send(b"again")
    assert s.recv() == REPLY
    assert nc.message() == b"again"


def test_nanocat_surveyor_to_respondent(
    sock: Any, nanocat: Any, nc_transport: str, role: str
) -> None:
    s, nc = setup(
        sock,
        nanocat,
        "respondent",
        ["--surveyor", "--interval", "0.3"],
        nc_transport,
        role,
        data=BLOB,
    )
    printed = None
    deadline = time.monotonic() + 5
    while printed is None and time.monotonic() < deadline:
        assert s.recv() == BLOB
        s.send(REPLY)
        printed = nc.message(0.4)
    assert printed == REPLY


@pytest.mark.parametrize("protocol", ["bus", "pair"])
def test_two_way_with_nanocat(
    sock: Any, nanocat: Any, nc_transport: str, role: str, protocol: str
) -> None:
    s, nc = setup(
        sock,
        nanocat,
        protocol,
        [f"--{protocol}", "--interval", "0.1"],
        nc_transport,
        role,
        data=BLOB,
    )
    # nanocat -> us
    assert s.recv() == BLOB
    assert s.recv() == BLOB
    # us -> nanocat (it prints what it receives between its own sends)
    for m in (REPLY, b"", b"last"):
        assert s.send(m) == len(m)
        assert nc.message() == m


# --------------------------------------------------------------------------------------------
# nng (pynng)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def pynng() -> Any:
    return pytest.importorskip("pynng")


@pytest.fixture
def nng_sock(pynng: Any) -> Iterator[Callable[..., Any]]:
    """``nng_sock("Pair0")`` makes a pynng socket (2 s timeouts) closed after the test."""
    made: list[Any] = []

    def factory(kind: str, **kwargs: Any) -> Any:
        kwargs.setdefault("recv_timeout", 2000)
        kwargs.setdefault("send_timeout", 2000)
        s = getattr(pynng, kind)(**kwargs)
        made.append(s)
        return s

    yield factory
    for s in made:
        s.close()


def nng_setup(
    sock: SockFactory,
    nng_sock: Callable[..., Any],
    ours: str,
    theirs: str,
    transport: str,
    role: str,
) -> tuple[nn.Socket, Any]:
    """Our socket and a pynng socket connected to each other, fully (the handshake done on
    both sides)."""
    address = make_address(transport)
    s = sock(ours)
    s.rcvtimeo = 2000
    s.sndtimeo = 2000
    if role == "we-bind":
        s.bind(address)
        peer = nng_sock(theirs, dial=address, block_on_dial=False)
    else:
        peer = nng_sock(theirs, listen=address)
        s.connect(address)
    wait_until(lambda: len(peer.pipes) >= 1, CONNECT_DEADLINE, "nng connected")
    wait_connected(s, timeout=CONNECT_DEADLINE)
    if ours in ("surveyor", "bus"):
        # Our side may add its pipe a moment after nng did, and these two drop what they send
        # before: numbered probes until the peer gets the last one sent (earlier ones come
        # before it, so none is left for the test).
        import pynng

        peer.recv_timeout = 100
        deadline = time.monotonic() + CONNECT_DEADLINE
        for n in itertools.count():
            token = PROBE + b"%d" % n
            s.send(token)
            try:
                while (got := peer.recv()) != token:
                    assert got.startswith(PROBE), got
            except pynng.Timeout:
                assert time.monotonic() < deadline, "our probes never reached nng"
                continue
            break
        peer.recv_timeout = 2000
    return s, peer


@pytest.fixture(params=TRANSPORTS)
def nng_transport(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


BIG = bytes(range(256)) * 800  # 200 KiB: several reads on the stream, under both size limits
# pynng 0.9 cannot receive an empty message (it unpacks a NULL pointer), so the shortest
# payload sent to nng is one byte.
SHORT = b"\x00"


@pytest.mark.parametrize(("ours", "theirs"), [("pair", "Pair0"), ("bus", "Bus0")])
def test_both_ways_with_nng(
    sock: Any, nng_sock: Any, nng_transport: str, role: str, ours: str, theirs: str
) -> None:
    s, peer = nng_setup(sock, nng_sock, ours, theirs, nng_transport, role)
    for m in (BLOB, SHORT, BIG):
        assert s.send(m) == len(m)
        assert peer.recv() == m
        peer.send(REPLY + m)
        assert s.recv() == REPLY + m


def test_pub_to_nng_sub0(
    sock: Any, nng_sock: Any, pynng: Any, nng_transport: str, role: str
) -> None:
    s, peer = nng_setup(sock, nng_sock, "pub", "Sub0", nng_transport, role)
    peer.subscribe(TOPIC)
    peer.recv_timeout = 100
    got = None
    deadline = time.monotonic() + 5
    while got is None and time.monotonic() < deadline:
        s.send(b"other/" + BLOB)
        s.send(TOPIC + BLOB)
        try:
            got = peer.recv()
        except pynng.Timeout:
            pass
    assert got == TOPIC + BLOB
    s.send(b"topi")
    s.send(TOPIC + b"final")
    peer.recv_timeout = 2000
    while (m := peer.recv()) != TOPIC + b"final":
        assert m == TOPIC + BLOB


def test_nng_pub0_to_sub(sock: Any, nng_sock: Any, nng_transport: str, role: str) -> None:
    s, peer = nng_setup(sock, nng_sock, "sub", "Pub0", nng_transport, role)
    s.subscribe(TOPIC)
    time.sleep(0.05)
    peer.send(b"other/" + BLOB)
    peer.send(TOPIC + BLOB)
    peer.send(b"topi")
    peer.send(TOPIC)
    assert s.recv() == TOPIC + BLOB
    assert s.recv() == TOPIC
    with pytest.raises(nn.Again):
        s.recv(block=False)


def test_push_to_nng_pull0(sock: Any, nng_sock: Any, nng_transport: str, role: str) -> None:
    s, peer = nng_setup(sock, nng_sock, "push", "Pull0", nng_transport, role)
    sent = [BLOB, SHORT, BIG]
    for m in sent:
        s.send(m)
    assert [peer.recv() for _ in sent] == sent


def test_nng_push0_to_pull(sock: Any, nng_sock: Any, nng_transport: str, role: str) -> None:
    s, peer = nng_setup(sock, nng_sock, "pull", "Push0", nng_transport, role)
    sent = [BLOB, b"", BIG]  # nng can send an empty message (only receiving one fails)
    for m in sent:
        peer.send(m)
    assert [s.recv() for _ in sent] == sent


# Who asks: our REQ/SURVEYOR, or nng's; the other side answers every question.
QUESTIONS = [
    pytest.param("req", "Rep0", True, id="req-to-nng-rep0"),
    pytest.param("rep", "Req0", False, id="nng-req0-to-rep"),
    pytest.param("surveyor", "Respondent0", True, id="surveyor-to-nng-respondent0"),
    pytest.param("respondent", "Surveyor0", False, id="nng-surveyor0-to-respondent"),
]


@pytest.mark.parametrize(("ours", "theirs", "we_ask"), QUESTIONS)
def test_questions_and_answers_with_nng(
    sock: Any,
    nng_sock: Any,
    nng_transport: str,
    role: str,
    ours: str,
    theirs: str,
    we_ask: bool,
) -> None:
    s, peer = nng_setup(sock, nng_sock, ours, theirs, nng_transport, role)
    if ours == "surveyor":
        s.surveyor_deadline = 2000
    if theirs == "Surveyor0":
        peer.survey_time = 2000
    asker, answerer = (s, peer) if we_ask else (peer, s)
    for m in (BLOB, SHORT, b"third"):
        asker.send(m)
        assert answerer.recv() == m
        answerer.send(REPLY + m)
        assert asker.recv() == REPLY + m


def test_nng_pair1_does_not_talk_to_pair(
    sock: Any, nng_sock: Any, pynng: Any, nng_transport: str, role: str
) -> None:
    # nng's pair1 announces protocol 0x11; nanomsg's PAIR (0x10) refuses the handshake.
    address = make_address(nng_transport)
    s = sock("pair")
    s.rcvtimeo = 300
    s.sndtimeo = 300
    if role == "we-bind":
        s.bind(address)
        peer = nng_sock("Pair1", dial=address, block_on_dial=False, send_timeout=300)
    else:
        peer = nng_sock("Pair1", listen=address, send_timeout=300)
        s.connect(address)
    # nng may show a pipe for a moment before the handshake fails: it must not stay.
    time.sleep(0.3)
    wait_until(lambda: len(peer.pipes) == 0, what="nng saw the hang-up")
    with pytest.raises(nn.Timeout):
        s.send(b"to pair1")
    with pytest.raises(pynng.Timeout):
        peer.send(b"to pair0")
    with pytest.raises(nn.Timeout):
        s.recv()
    # Sanity: a Pair0 at the same place is accepted at once.
    address = make_address(nng_transport)
    s2 = sock("pair")
    s2.rcvtimeo = 2000
    s2.bind(address)
    ok = nng_sock("Pair0", dial=address, block_on_dial=False)
    wait_until(lambda: len(ok.pipes) >= 1, what="nng connected")
    ok.send(b"pair0")
    assert s2.recv() == b"pair0"
