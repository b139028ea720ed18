"""Hostile peers: a server built on nanomsg-rs survives what any peer sends it.

Every server runs in a child process, so that a crash is observed here, not suffered. The
attacks speak the wire protocols by hand with plain Python sockets:

- tcp and ipc open with ``00 53 50 00``, the protocol id (u16 big-endian) and two zero bytes;
  tcp frames are a u64 big-endian length and the payload, ipc frames put a type byte (1) first;
- ws is an HTTP/1.1 upgrade (``Sec-WebSocket-Protocol: <server's protocol>.sp.nanomsg.org``)
  and then masked binary frames (RFC 6455).

Each case in ``CASES`` says what must happen on each backend. On the default build, our
hardened libnanomsg (``nn.HARDENED``): the server lives, drops the offending connection where
the input broke the rules, keeps serving a client connected before the attack, and serves a
fresh one. ``kills`` records what the same input does to the unpatched libnanomsg 1.1.5 (it
aborts the process: ``SIGABRT`` and the assertion that fires), which nanomsg/patches/ fixes;
on a build against the system library those cases are skipped. With nng 1.5.2 (``nng``): the
server lives and answers (``SURVIVES``), or it lives but its ipc listener admits no one any
more (``DEAF``, nng issue 1518), or that happens in some runs only (``MAYBE_DEAF``, a race).
Where nng answers an input differently without harm (it drops a peer that libnanomsg keeps,
or keeps one that libnanomsg drops), the attack says so itself.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import random
import select
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support import NANOMSG, make_address, only_on, per_backend, start_python, wait_until

import nanomsg_rs as nn

# The server: the attacked socket (``protocol`` bound at ``address``) does what its protocol
# does (REP and RESPONDENT echo), and a REP "probe" socket on a second address answers a
# health check for protocols that cannot echo.
SERVER = r"""
import sys, threading, time
import nanomsg_rs as nn

protocol, address, maxsize, probe_address = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

probe = nn.Socket("rep")
probe.bind(probe_address)


def serve_probe():
    while True:
        try:
            probe.send(probe.recv())
        except nn.NanomsgError:
            pass


threading.Thread(target=serve_probe, daemon=True).start()

s = nn.Socket(protocol)
s.rcvmaxsize = maxsize
s.rcvtimeo = 100
if protocol == "sub":
    s.subscribe(b"")
if protocol == "surveyor":
    s.surveyor_deadline = 100
s.bind(address)
print("ready", flush=True)
sends = protocol in ("req", "surveyor", "pub", "push", "pair", "bus")
recvs = protocol not in ("pub", "push")
while True:
    if sends:
        try:
            s.send(b"from the server", block=False)
        except nn.NanomsgError:
            pass
    if not recvs:
        time.sleep(0.05)
        continue
    try:
        m = s.recv()
    except nn.NanomsgError:
        continue
    if protocol in ("rep", "respondent"):
        try:
            s.send(m, block=False)
        except nn.NanomsgError:
            pass
"""

DEFAULT_MAX = 64 * 1024  # the servers' rcvmaxsize, unless a case says otherwise
IO_TIMEOUT = 5.0  # every socket operation of an attack

PROTOCOL_IDS = {
    "pair": 0x10,
    "pub": 0x20,
    "sub": 0x21,
    "req": 0x30,
    "rep": 0x31,
    "push": 0x50,
    "pull": 0x51,
    "surveyor": 0x62,
    "respondent": 0x63,
    "bus": 0x70,
}
PEER = {
    "pair": "pair",
    "pub": "sub",
    "sub": "pub",
    "req": "rep",
    "rep": "req",
    "push": "pull",
    "pull": "push",
    "surveyor": "respondent",
    "respondent": "surveyor",
    "bus": "bus",
}


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


class Server:
    """A server child process; its stderr goes to a file, read when it dies."""

    def __init__(self, protocol: str, transport: str, maxsize: int = DEFAULT_MAX) -> None:
        self.protocol = protocol
        self.transport = transport
        self.maxsize = maxsize
        self.address = make_address(transport)
        self.probe_address = make_address("ipc")
        self.stderr = tempfile.TemporaryFile()
        self.proc = start_python(
            SERVER, protocol, self.address, maxsize, self.probe_address, stderr=self.stderr
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line == b"ready\n", f"server did not start: {line!r} {self.error_text()}"

    def error_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_death(self, timeout: float = 10.0) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def healthy(self) -> bool:
        """A fresh legitimate client gets an answer: from the attacked socket itself when it
        echoes (REP), else from the probe socket of the same process."""
        target = self.address if self.protocol == "rep" else self.probe_address
        return self.alive() and roundtrip(target)

    def stop(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.stderr.close()


def roundtrip(address: str, timeout_ms: int = 5000) -> bool:
    """A legitimate REQ client sends a fresh token and gets it back."""
    with nn.Socket("req") as client:
        client.sndtimeo = client.rcvtimeo = timeout_ms
        client.connect(address)
        token = os.urandom(16)
        client.send(token)
        try:
            return client.recv() == token
        except nn.Timeout:
            return False


@pytest.fixture(scope="module")
def servers() -> Iterator[Callable[[str, str, int], Server]]:
    """``servers(protocol, transport, maxsize)``: a live server of that kind, shared by the
    survival cases; a dead one (an unexpected crash) is replaced for the next test."""
    pool: dict[tuple[str, str, int], Server] = {}

    def get(protocol: str, transport: str, maxsize: int) -> Server:
        key = (protocol, transport, maxsize)
        srv = pool.get(key)
        if srv is None or not srv.alive():
            if srv is not None:
                srv.stop()
            srv = pool[key] = Server(protocol, transport, maxsize)
        return srv

    yield get
    for srv in pool.values():
        srv.stop()


# --------------------------------------------------------------------------------------------
# Speaking the wire protocols by hand
# --------------------------------------------------------------------------------------------


def sp_header(protocol: str | int) -> bytes:
    pid = PROTOCOL_IDS[protocol] if isinstance(protocol, str) else protocol
    return b"\x00SP\x00" + struct.pack(">H", pid) + b"\x00\x00"


def frame(payload: bytes, transport: str, *, length: int | None = None, kind: int = 1) -> bytes:
    """One SP frame: u64 length and payload (ipc: a type byte first)."""
    n = len(payload) if length is None else length
    head = struct.pack(">Q", n)
    if transport == "ipc":
        head = bytes([kind]) + head
    return head + payload


def raw_connect(address: str) -> socket.socket:
    """A plain stream socket connected to a tcp, ws or ipc address."""
    scheme, rest = address.split("://", 1)
    if scheme == "ipc":
        deadline = time.monotonic() + IO_TIMEOUT
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(IO_TIMEOUT)
            try:
                s.connect(rest)
                break
            except BlockingIOError:
                # The listen backlog is full until the server's worker accepts: a unix
                # socket says so at once where tcp would wait.
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
    else:
        host, port = rest.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=IO_TIMEOUT)
    return s


def send_quietly(s: socket.socket, data: bytes) -> None:
    """Sends ``data``; the server may hang up half-way, which is fine."""
    try:
        s.sendall(data)
    except OSError:
        pass


def recv_exact(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def sp_session(address: str, transport: str, claim: str | int) -> socket.socket:
    """Connects, exchanges SP headers claiming to be ``claim``; returns the socket."""
    s = raw_connect(address)
    s.sendall(sp_header(claim))
    reply = recv_exact(s, 8)
    assert reply[:4] == b"\x00SP\x00", f"server answered {reply!r}"
    return s


def hung_up(s: socket.socket, timeout: float = IO_TIMEOUT) -> bool:
    """True once the peer closes or resets the connection (reading everything it sends)."""
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return False


def silently_hung_up(s: socket.socket, timeout: float = IO_TIMEOUT) -> bool:
    """True if the peer closes or resets the connection without sending a byte; False if it
    sends something first. Raises TimeoutError if it does neither within ``timeout``."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def ws_request(protocol: str, *, version: str = "13", extra: str = "") -> bytes:
    """The HTTP upgrade request of a ws client that wants to talk to a ``protocol`` server."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        "GET / HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: {version}\r\n"
        f"Sec-WebSocket-Protocol: {protocol}.sp.nanomsg.org\r\n"
        f"{extra}\r\n"
    ).encode()


def ws_response(s: socket.socket) -> bytes:
    """Reads the server's HTTP response (up to the empty line)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def ws_session(address: str, server_protocol: str) -> socket.socket:
    """A ws connection past a successful upgrade to a ``server_protocol`` server."""
    s = raw_connect(address)
    s.sendall(ws_request(server_protocol))
    response = ws_response(s)
    assert response.startswith(b"HTTP/1.1 101 "), response
    return s


def ws_frame(
    payload: bytes,
    *,
    opcode: int = 2,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    length: int | None = None,
) -> bytes:
    """One WebSocket frame as a client sends it (masked unless told otherwise)."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n)
    if mask:
        key = os.urandom(4)
        head += key
        stream = (key * (len(payload) // 4 + 1))[: len(payload)]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(
            len(payload), "big"
        )
    return head + payload


def rand_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


# --------------------------------------------------------------------------------------------
# The attacks. Each takes the server and does its worst; the verdict is checked afterwards.
# --------------------------------------------------------------------------------------------

Attack = Callable[[Server], None]


def just_send(data: bytes, *, linger: float = 0.05) -> Attack:
    """Connects, sends ``data``, waits a little, hangs up."""

    def attack(srv: Server) -> None:
        with raw_connect(srv.address) as s:
            send_quietly(s, data)
            time.sleep(linger)

    return attack


def after_header(data: bytes | Callable[[str], bytes], claim: str | int = "req") -> Attack:
    """A valid SP handshake (claiming ``claim``), then ``data`` (or ``data(transport)``)."""

    def attack(srv: Server) -> None:
        with sp_session(srv.address, srv.transport, claim) as s:
            send_quietly(s, data(srv.transport) if callable(data) else data)
            time.sleep(0.05)

    return attack


def after_upgrade(data: bytes) -> Attack:
    """A successful ws upgrade, then ``data``."""

    def attack(srv: Server) -> None:
        with ws_session(srv.address, srv.protocol) as s:
            send_quietly(s, data)
            time.sleep(0.05)

    return attack


def must_hang_up(data: Callable[[Server], bytes], session: str) -> Attack:
    """After a valid handshake, ``data`` must make the server drop the connection."""

    def attack(srv: Server) -> None:
        if session == "ws":
            s = ws_session(srv.address, srv.protocol)
        else:
            s = sp_session(srv.address, srv.transport, "req")
        with s:
            send_quietly(s, data(srv))
            assert hung_up(s), "the server kept a connection that broke the rules"

    return attack


def must_refuse_upgrade(request: bytes, status: str) -> Attack:
    """A bad ws opening handshake: the hardened libnanomsg answers ``HTTP/1.1 <status>...``
    and hangs up. A server that stops reading a request too long for it may reset the
    connection before its answer is read: then only the hang-up is checked. nng has rules of
    its own (it waits for more of a request it finds short, answers some bad ones and waits
    for the client to leave): there the attack only sends, and the survival checks apply."""

    def attack(srv: Server) -> None:
        with raw_connect(srv.address) as s:
            send_quietly(s, request)
            if not NANOMSG:
                time.sleep(0.05)
                return
            try:
                response: bytes | None = ws_response(s)
            except ConnectionResetError:
                response = None
            if response is not None:
                assert response.startswith(b"HTTP/1.1 " + status.encode()), response
            assert hung_up(s), "the server kept a connection after a bad handshake"

    return attack


def must_answer_and_keep(data: bytes, reply: bytes) -> Attack:
    """After a ws upgrade, ``data`` is answered with exactly ``reply``, and the connection goes
    on working: the request sent next comes back."""

    def attack(srv: Server) -> None:
        with ws_session(srv.address, srv.protocol) as s:
            s.sendall(data)
            s.settimeout(IO_TIMEOUT)
            assert recv_exact(s, len(reply)) == reply
            request = b"\x80\x00\x00\x07" + os.urandom(8)
            s.sendall(ws_frame(request))
            echo = recv_exact(s, 2 + len(request))
            assert echo == bytes([0x82, len(request)]) + request, echo

    return attack


def silent_peers(count: int, how: str) -> Attack:
    """``count`` peers complete the handshake (``how``: "sp", "ws") or only connect ("tcp"),
    then say nothing; meanwhile a legitimate client is served."""

    def attack(srv: Server) -> None:
        held: list[socket.socket] = []
        try:
            for _ in range(count):
                if how == "sp":
                    held.append(sp_session(srv.address, srv.transport, "req"))
                elif how == "ws":
                    held.append(ws_session(srv.address, srv.protocol))
                else:
                    held.append(raw_connect(srv.address))
            assert roundtrip(srv.address), "silent peers starved a legitimate client"
        finally:
            for s in held:
                s.close()

    return attack


def storm(count: int, seed: int) -> Attack:
    """``count`` connections opened and dropped as fast as possible, in mixed ways: closed at
    once, reset (RST), after half a handshake, after a handshake and half a frame."""

    def attack(srv: Server) -> None:
        rng = random.Random(seed)
        for i in range(count):
            try:
                s = raw_connect(srv.address)
            except OSError:
                continue  # the listen backlog is full for a moment: that is fine
            with s:
                style = i % 4
                if style == 1 and srv.transport != "ipc":
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                if srv.transport == "ws":
                    opening = ws_request(srv.protocol)
                else:
                    opening = sp_header("req") + frame(b"x" * 100, srv.transport)
                if style >= 2:
                    send_quietly(s, opening[: rng.randrange(1, len(opening))])

    return attack


@contextlib.contextmanager
def paused(pid: int) -> Iterator[None]:
    """Stops process ``pid`` (SIGSTOP), waits until every thread of it has stopped, and lets
    it go on (SIGCONT) on leaving."""
    os.kill(pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + IO_TIMEOUT
        while not all(
            thread_state(pid, tid) in ("T", None) for tid in os.listdir(f"/proc/{pid}/task")
        ):
            assert time.monotonic() < deadline, f"process {pid} did not stop"
            time.sleep(0.001)
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def thread_state(pid: int, tid: str) -> str | None:
    """The state letter of thread ``tid`` of ``pid`` (``T``: stopped); None once it is gone."""
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def hang_up_unanswered(srv: Server) -> None:
    """A peer connects and hangs up before the server has sent it a byte. A busy server meets
    this by chance (the storm's peers sometimes do it); here the server is paused meanwhile, so
    that the peer is surely gone by the time the server accepts it and greets it."""
    with paused(srv.proc.pid):
        raw_connect(srv.address).close()


def one_byte_writes(srv: Server) -> None:
    """A legitimate request, handshake included, written one byte at a time."""
    with raw_connect(srv.address) as s:
        if srv.transport == "tcp":
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        token = os.urandom(8)
        # REQ messages carry the request id (top bit set) before the body.
        data = sp_header("req") + frame(b"\x80\x00\x00\x07" + token, srv.transport)
        for b in data:
            s.sendall(bytes([b]))
            time.sleep(0.001)
        reply = recv_exact(s, 8)
        assert reply[:4] == b"\x00SP\x00"
        n = (1 if srv.transport == "ipc" else 0) + 8 + 12
        body = recv_exact(s, n)
        assert body.endswith(b"\x80\x00\x00\x07" + token), body


def hostile_req_frames(srv: Server) -> None:
    """Well-framed requests with malformed REQ headers, each on its own connection: no request
    id, 1000 hops of backtrace, an empty message, a lone byte. REP must drop them without
    answering. libnanomsg keeps the connection each time. nng's REP hangs up on a request too
    short to hold a request id (its rep0 "kicks a peer speaking garbage"), and keeps the peer
    whose backtrace is merely too long (over its TTL of 8 hops), dropping only the message."""
    for body, nng_hangs_up in [
        (b"abc", True),
        (b"\x00\x00\x00\x01" * 1000, False),
        (b"", True),
        (b"\x80", True),
    ]:
        with sp_session(srv.address, srv.transport, "req") as s:
            s.sendall(frame(body, srv.transport))
            # nng drops the peer that sent the shortest bodies; libnanomsg drops nobody.
            if per_backend(nanomsg=False, nng=nng_hangs_up):
                assert silently_hung_up(s), f"nng answered {body[:8]!r} or kept its sender"
            else:
                s.settimeout(0.3)
                with pytest.raises(TimeoutError):
                    s.recv(1)


def ws_over_max(srv: Server) -> bytes:
    return ws_frame(b"m" * (srv.maxsize + 1))


def sp_over_max(srv: Server) -> bytes:
    return frame(b"\x80\x00\x00\x01" + b"m" * srv.maxsize, srv.transport)


def sp_huge_length(n: int) -> Callable[[Server], bytes]:
    return lambda srv: frame(b"abc", srv.transport, length=n)


def http_request(first_line: str, total: int) -> bytes:
    """An HTTP request of exactly ``total`` bytes, padded with a header, ending CRLF CRLF."""
    head = first_line + "\r\nX-Pad: "
    return (head + "p" * (total - len(head) - 4) + "\r\n\r\n").encode()


def sub_claim_sends(srv: Server) -> None:
    """A peer that claims to be SUB sends messages to the PUB server. The hardened libnanomsg
    drops them and goes on publishing to it (the server publishes "from the server" every
    50 ms). nng's PUB hangs up on such a peer (over ws, with a close frame)."""
    published = b"from the server"
    ws = srv.transport == "ws"
    with (
        ws_session(srv.address, srv.protocol)
        if ws
        else sp_session(srv.address, srv.transport, "sub") as s
    ):
        for _ in range(3):
            send_quietly(
                s, ws_frame(b"subscribe me") if ws else frame(b"subscribe me", srv.transport)
            )
        if not NANOMSG:
            assert hung_up(s), "nng's PUB kept a subscriber that sends"
            return
        s.settimeout(IO_TIMEOUT)
        expected = (
            bytes([0x82, len(published)]) + published if ws else frame(published, srv.transport)
        )
        assert recv_exact(s, len(expected)) == expected


def sub_claim_silent(srv: Server) -> None:
    """A peer that claims to be SUB, receives, and never sends: an ordinary subscriber."""
    if srv.transport == "ws":
        with ws_session(srv.address, srv.protocol) as s:
            s.settimeout(IO_TIMEOUT)
            assert s.recv(64), "PUB sent nothing over ws"
    else:
        with sp_session(srv.address, srv.transport, "sub") as s:
            n = 8 + (1 if srv.transport == "ipc" else 0)
            got = recv_exact(s, n + len(b"from the server"))
            assert got.endswith(b"from the server"), got


def ipc_type_byte(kind: int) -> Attack:
    return after_header(lambda t: frame(b"\x80\x00\x00\x01abc", t, kind=kind))


# --------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------

ABORT = -signal.SIGABRT
SEGV = -signal.SIGSEGV

# What an input does to a server on nng 1.5.2 (``Case.nng``). No input kills it.
SURVIVES = "survives"
# The process lives and serves its other sockets, but the attacked ipc listener admits no one
# any more: a fresh legitimate client connects and gets no answer, for good. nng 1.5.2's ipc
# transport hands the error of a failed handshake to the listener itself; when that error is
# "closed" (the peer hung up before the server could send it the SP header: EPIPE), the
# listener takes it for its own closing and stops accepting. nng issue 1518, "Disconnect during
# negotiation breaks listener", fixed upstream after 1.5.2 (nng pull request 1519). tcp and ws
# are not affected.
DEAF = "stops accepting"
# The same, in some runs only: whether one of the peers hangs up before the server greets it
# is a race (about 7 runs in 10 of the ipc storm, measured on 2 cores). The process must live
# and serve its other sockets; the attacked address is not checked.
MAYBE_DEAF = "survives; may stop accepting"


@dataclass(frozen=True)
class Case:
    name: str
    transports: tuple[str, ...]
    attack: Attack
    #: What the unpatched libnanomsg 1.1.5 does: None, it survives; else (returncode, the
    #: assertion) of the kill. Our hardened build survives them all.
    kills: tuple[int, str] | None = None
    protocol: str = "rep"
    maxsize: int = DEFAULT_MAX
    #: nng 1.5.2: SURVIVES, DEAF or MAYBE_DEAF (above).
    nng: str = SURVIVES


SP = ("tcp", "ipc")
ALL = ("tcp", "ipc", "ws")

CASES = [
    # -- garbage before any handshake --
    Case("random 1 byte", ALL, just_send(rand_bytes(1, 1))),
    Case("random 64 bytes", ALL, just_send(rand_bytes(64, 2))),
    Case("random 4000 bytes", ALL, just_send(rand_bytes(4000, 3))),
    Case("random 64 KiB", SP, just_send(rand_bytes(65536, 4))),
    Case("HTTP request", SP, just_send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")),
    # -- SP headers: truncated, wrong, then silence --
    *(
        Case(f"header truncated to {n} bytes", SP, just_send(sp_header("req")[:n]))
        for n in (1, 4, 7)
    ),
    Case("header with bad magic", SP, just_send(b"\x01SP\x00\x00\x30\x00\x00")),
    Case("header with reserved bytes set", SP, just_send(b"\x00SP\x00\x00\x30\xff\xff")),
    Case("header of unknown protocol 0xffff", SP, just_send(sp_header(0xFFFF))),
    Case("header of a wrong protocol (PUSH to REP)", SP, after_header(b"\x00" * 20, "push")),
    Case("header claiming REP (REP to REP)", SP, after_header(b"\x00" * 20, "rep")),
    Case("valid header then silence (20 peers)", SP, silent_peers(20, "sp")),
    Case("connect then silence (20 peers)", ALL, silent_peers(20, "tcp")),
    Case("random 64 KiB after a valid header", ("tcp",), after_header(rand_bytes(65536, 5))),
    # -- frames --
    Case(
        "length field 2^63",
        SP,
        must_hang_up(sp_huge_length(2**63), "sp"),
    ),
    Case("length field 2^64-1", SP, must_hang_up(sp_huge_length(2**64 - 1), "sp")),
    Case("message over rcvmaxsize", SP, must_hang_up(sp_over_max, "sp")),
    Case(
        "frame cut short (length 100, 10 bytes sent)",
        SP,
        after_header(lambda t: frame(b"x" * 10, t, length=100)),
    ),
    Case("malformed REQ headers in valid frames", SP, hostile_req_frames),
    Case("ipc frame with type byte 1 (the normal one)", ("ipc",), ipc_type_byte(1)),
    Case("request written 1 byte at a time", SP, one_byte_writes),
    # -- storms, and peers that leave before the greeting --
    Case("connect/close storm (300 connections)", ("tcp", "ws"), storm(300, 6)),
    # nng: some of these peers may hang up before the server greets them (see MAYBE_DEAF).
    Case("connect/close storm (300 connections)", ("ipc",), storm(300, 6), nng=MAYBE_DEAF),
    Case("hang-up before the server's greeting", ("tcp", "ws"), hang_up_unanswered),
    # nng: what the storm does by chance, for certain (see DEAF).
    Case("hang-up before the server's greeting", ("ipc",), hang_up_unanswered, nng=DEAF),
    # -- ws handshakes --
    Case("request of the wrong protocol", ("ws",), just_send(ws_request("pub"))),
    Case("request of an unknown protocol", ("ws",), just_send(ws_request("nonsense"))),
    Case("Sec-WebSocket-Version 14", ("ws",), just_send(ws_request("rep", version="14"))),
    Case(
        "Sec-WebSocket-Version of 100 bytes",
        ("ws",),
        just_send(ws_request("rep", version="1" * 100)),
    ),
    Case(
        "request without a key",
        ("ws",),
        just_send(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: rep.sp.nanomsg.org\r\n\r\n"
        ),
    ),
    Case(
        "short HTTP/1.0 request (< 153 bytes)",
        ("ws",),
        just_send(http_request("GET / HTTP/1.0", 120)),
    ),
    Case(
        "header lines of 3000 bytes",
        ("ws",),
        just_send(ws_request("rep", extra="X-Junk: " + "j" * 3000 + "\r\n")),
    ),
    Case("valid upgrade then silence (20 peers)", ("ws",), silent_peers(20, "ws")),
    # -- ws frames --
    Case("random 4000 bytes after the upgrade", ("ws",), after_upgrade(rand_bytes(4000, 7))),
    Case(
        "unmasked frame",
        ("ws",),
        must_hang_up(lambda srv: ws_frame(b"\x80\x00\x00\x01abc", mask=False), "ws"),
    ),
    Case("reserved opcode 3", ("ws",), must_hang_up(lambda srv: ws_frame(b"x", opcode=3), "ws")),
    Case("RSV bits set", ("ws",), must_hang_up(lambda srv: ws_frame(b"x", rsv=7), "ws")),
    Case(
        "continuation without a start",
        ("ws",),
        must_hang_up(lambda srv: ws_frame(b"x", opcode=0), "ws"),
    ),
    Case(
        "fragmented control frame",
        ("ws",),
        # RFC 6455 forbids fragmented control frames. libnanomsg hangs up; nng never looks at
        # the FIN bit of a control frame, so it answers this ping (FIN=0) with a pong like any
        # other and goes on.
        per_backend(
            nanomsg=must_hang_up(lambda srv: ws_frame(b"x", opcode=9, fin=False), "ws"),
            nng=must_answer_and_keep(ws_frame(b"x", opcode=9, fin=False), b"\x8a\x01x"),
        ),
    ),
    Case(
        "control frame of 200 bytes",
        ("ws",),
        must_hang_up(lambda srv: ws_frame(b"x" * 200, opcode=9), "ws"),
    ),
    Case(
        "text, ping, pong, close frames",
        ("ws",),
        after_upgrade(
            ws_frame(b"text", opcode=1)
            + ws_frame(b"p", opcode=9)
            + ws_frame(b"p", opcode=10)
            + ws_frame(b"\x03\xe8", opcode=8)
        ),
    ),
    Case(
        "fragmented message with a ping inside",
        ("ws",),
        after_upgrade(
            ws_frame(b"\x80\x00", fin=False)
            + ws_frame(b"p", opcode=9)
            + ws_frame(b"\x00\x01ab", opcode=0)
        ),
    ),
    Case(
        "frame length 2^63",
        ("ws",),
        must_hang_up(lambda srv: ws_frame(b"abc", length=2**63), "ws"),
    ),
    Case("message over rcvmaxsize", ("ws",), must_hang_up(ws_over_max, "ws")),
    # -- PUB and its subscribers --
    Case("SUB peer that never sends", ALL, sub_claim_silent, protocol="pub"),
    # ==== what kills the unpatched libnanomsg 1.1.5 (``kills``); the hardened build survives ====
    # A subscriber's message to a PUB is dropped and the connection kept (nng does the same):
    # a SUB that talks upstream is no violation of the wire format.
    Case(
        "SUB peer sends a message to PUB",
        ALL,
        sub_claim_sends,
        kills=(ABORT, "xpub.c:134"),
        protocol="pub",
    ),
    *(
        Case(
            f"ipc frame with type byte {kind:#04x}",
            ("ipc",),
            must_hang_up(
                lambda srv, kind=kind: frame(b"\x80\x00\x00\x01abc", "ipc", kind=kind), "sp"
            ),
            kills=(ABORT, "sipc.c:336"),
        )
        for kind in (0, 2, 0xFF)
    ),
    # On ipc, random bytes after the header start with a type byte other than 1 (0x7c here).
    Case(
        "random 64 KiB after a valid header",
        ("ipc",),
        must_hang_up(lambda srv: rand_bytes(65536, 5), "sp"),
        kills=(ABORT, "sipc.c:336"),
    ),
    Case(
        "length field 2^63 with rcvmaxsize -1",
        SP,
        must_hang_up(lambda srv: frame(b"abc", srv.transport, length=2**63), "sp"),
        kills=(ABORT, "chunkref.c:55"),
        maxsize=-1,
    ),
    Case(
        "frame length 2^63 with rcvmaxsize -1",
        ("ws",),
        must_hang_up(lambda srv: ws_frame(b"abc", length=2**63), "ws"),
        kills=(ABORT, "chunkref.c:55"),
        maxsize=-1,
    ),
    Case(
        "fragments whose lengths add up past 2^64",
        ("ws",),
        must_hang_up(
            lambda srv: ws_frame(b"abc", fin=False) + ws_frame(b"", opcode=0, length=2**64 - 2),
            "ws",
        ),
        maxsize=-1,
    ),
    Case(
        "Sec-WebSocket-Version of 1000 bytes",
        ("ws",),
        must_refuse_upgrade(ws_request("rep", version="1" * 1000), "400 Unsupported WebSocket"),
        kills=(ABORT, "buffer overflow detected"),
    ),
    Case(
        "random 8 KiB before the upgrade",
        ("ws",),
        must_refuse_upgrade(rand_bytes(8192, 8), "400 "),
        kills=(ABORT, "ws_handshake.c:1345"),
    ),
    Case(
        "request of 4095 bytes without its end",
        ("ws",),
        must_refuse_upgrade(b"GET / HTTP/1.1\r\nX-Pad: " + b"p" * 4072, "400 Opening Handshake"),
        kills=(ABORT, "ws_handshake.c:1345"),
    ),
    Case(
        "HTTP/1.0 request of 200 bytes",
        ("ws",),
        must_refuse_upgrade(http_request("GET / HTTP/1.0", 200), "400 Bad Request"),
        kills=(ABORT, "ws_handshake.c:1340"),
    ),
    Case(
        "POST request of 200 bytes",
        ("ws",),
        must_refuse_upgrade(http_request("POST / HTTP/1.1", 200), "400 Bad Request"),
        kills=(ABORT, "ws_handshake.c:1340"),
    ),
    Case(
        "NUL byte in the request line",
        ("ws",),
        must_refuse_upgrade(b"GET /\x00 HTTP/1.1" + ws_request("rep")[14:], "400 Bad Request"),
        kills=(ABORT, "ws_handshake.c:500"),
    ),
    Case(
        "bytes after the end of the request",
        ("ws",),
        must_refuse_upgrade(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"m" * 200, "400 Bad Request"),
    ),
    Case(
        # found by the wire-ws fuzzer: the Connection header's value does not parse
        "Connection header without a value",
        ("ws",),
        must_refuse_upgrade(
            b"GET \r\n\r\n/ HTTP/1.1\r\nHost: \xff\xff\xff\xff\xff\xff\xff\t127.0.0.1\r\n"
            b"Upgrade: wubsocket\r\nConnection: Up\x87gradSe\n\rec-WebSocket-Key: "
            b"dGhlIHNhbXBsZSBubUUUUUUUUUUUUUUUUUUUUUUUUU/11jZQ",
            "400 Bad Request",
        ),
        kills=(SEGV, "strcasestr.c:33, NULL read"),
    ),
]

PARAMS = [
    pytest.param(case, transport, id=f"{transport}: {case.name}")
    for case in CASES
    for transport in case.transports
]


@pytest.mark.parametrize(("case", "transport"), PARAMS)
def test_hostile_input(
    servers: Callable[[str, str, int], Server], case: Case, transport: str
) -> None:
    """The server survives the input: the offending connection is dropped where it broke the
    rules (the attack checks that), a client connected before the attack is still served
    after it, and so is a fresh one."""
    if case.kills and NANOMSG and not nn.HARDENED:
        pytest.skip(
            f"kills the unpatched system libnanomsg ({case.kills[1]}); "
            "the default build, hardened, survives it"
        )
    # libnanomsg's listeners never stop accepting; nng's ipc listener may (see DEAF).
    outcome = per_backend(nanomsg=SURVIVES, nng=case.nng)
    if outcome == SURVIVES:
        srv = servers(case.protocol, transport, case.maxsize)
        with nn.Socket("req") as before:
            before.sndtimeo = before.rcvtimeo = int(IO_TIMEOUT * 1000)
            target = srv.address if case.protocol == "rep" else srv.probe_address
            before.connect(target)
            before.send(b"before")
            assert before.recv() == b"before"
            case.attack(srv)
            code = srv.proc.poll()
            assert code is None, f"the server died ({code}):\n{srv.error_text()[-2000:]}"
            before.send(b"after")
            assert before.recv() == b"after", "a client connected before the attack was dropped"
        assert srv.healthy(), "the server no longer answers a legitimate client"
        return
    srv = Server(case.protocol, transport, case.maxsize)
    try:
        case.attack(srv)
        # nng: the process lives and serves its other socket, whatever the listener does.
        code = srv.proc.poll()
        assert code is None, f"the server died ({code}):\n{srv.error_text()[-2000:]}"
        assert roundtrip(srv.probe_address), "the server no longer answers on its probe"
        if outcome == DEAF:
            assert not roundtrip(srv.address, timeout_ms=1000), (
                "nng's ipc listener admits a fresh client again after a peer hung up "
                "before the greeting: update the README's table"
            )
    finally:
        srv.stop()


# --------------------------------------------------------------------------------------------
# Every protocol against a peer that claims to be its partner and sends well-framed messages
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", list(PROTOCOL_IDS))
def test_every_protocol_against_a_sending_peer(protocol: str) -> None:
    """Over tcp, a peer claiming the server's partner protocol sends well-framed messages
    (plain, REQ/SURVEYOR-style headers, empty, random). Every server survives it (the unpatched
    libnanomsg 1.1.5's xpub asserted that a subscriber never sends)."""
    if protocol == "pub" and NANOMSG and not nn.HARDENED:
        pytest.skip("kills the unpatched system libnanomsg (xpub.c:134)")
    srv = Server(protocol, "tcp")
    try:
        with sp_session(srv.address, "tcp", PEER[protocol]) as s:
            for body in [
                b"abc",
                b"\x80\x00\x00\x01abc",
                b"\x00\x00\x00\x01\x80\x00\x00\x02xyz",
                b"",
                rand_bytes(1000, 9),
            ]:
                send_quietly(s, frame(body, "tcp"))
            time.sleep(0.1)
        assert srv.alive(), f"died ({srv.proc.returncode}):\n{srv.error_text()[-2000:]}"
        assert srv.healthy()
    finally:
        srv.stop()


# --------------------------------------------------------------------------------------------
# Hostile servers: a REQ client survives the replies of the server it connects to
# --------------------------------------------------------------------------------------------

# The client: one REQ socket per command line ``<address> <active>``. It connects, sends a
# request first when ``active`` is 1, waits until the server has hung up (libnanomsg counts
# the broken connection after it has processed everything the server sent before), closes
# the socket and says so. ``done`` ends it with a round trip of its own.
REQ_CLIENT = r"""
import sys, time
import nanomsg_rs as nn

for line in sys.stdin:
    if line.strip() == "done":
        break
    address, active = line.split()
    s = nn.Socket("req")
    s.sndtimeo = 5000
    s.connect(address)
    if active == "1":
        s.send(b"a request")
    deadline = time.monotonic() + 10
    try:
        while s.statistic(nn.Statistic.BROKEN_CONNECTIONS) < 1:
            assert time.monotonic() < deadline, f"no hang-up seen: {s.statistics()}"
            time.sleep(0.005)
    except nn.NotSupported:
        time.sleep(0.2)  # nng keeps no statistics
    s.close()
    print("closed", flush=True)

with nn.Socket("rep") as rep, nn.Socket("req") as req:
    rep.bind("inproc://after")
    req.connect("inproc://after")
    req.send(b"ping")
    rep.send(rep.recv())
    assert req.recv() == b"ping"
print("alive", flush=True)
"""


def ws_accept(conn: socket.socket, protocol: str) -> None:
    """Answers a ws client's upgrade request as a ``protocol`` server would."""
    request = ws_response(conn)  # the same reading: up to the empty line
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(
        hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
    ).decode()
    conn.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n"
            f"Sec-WebSocket-Protocol: {protocol}.sp.nanomsg.org\r\n\r\n"
        ).encode()
    )


def read_message(conn: socket.socket, transport: str) -> bytes:
    """One message from a nanomsg peer: an SP frame, or a (masked) ws frame."""
    if transport != "ws":
        head = recv_exact(conn, 9 if transport == "ipc" else 8)
        return recv_exact(conn, struct.unpack(">Q", head[-8:])[0])
    b1 = recv_exact(conn, 2)[1]
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", recv_exact(conn, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", recv_exact(conn, 8))[0]
    key = recv_exact(conn, 4) if b1 & 0x80 else b"\0\0\0\0"
    data = recv_exact(conn, n)
    return bytes(c ^ key[i % 4] for i, c in enumerate(data))


def hostile_listener(transport: str) -> tuple[socket.socket, str]:
    """A plain listening socket and the address a nanomsg client connects to it by."""
    if transport == "ipc":
        path = make_address("ipc")[len("ipc://") :]
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        address = f"ipc://{path}"
    else:
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind(("127.0.0.1", 0))
        address = f"{transport}://127.0.0.1:{lsock.getsockname()[1]}"
    lsock.listen(4)
    lsock.settimeout(IO_TIMEOUT)
    return lsock, address


@contextlib.contextmanager
def reconnecting_client(transport: str) -> Iterator[tuple[socket.socket, nn.Socket]]:
    """A plain listener (``hostile_listener``) and a PAIR client connected to it that
    reconnects 10 ms after a hang-up and waits 5 s for a message; both closed afterwards."""
    lsock, address = hostile_listener(transport)
    with lsock, nn.Socket("pair") as client:
        client.reconnect_ivl = 10
        client.rcvtimeo = 5000
        client.connect(address)
        yield lsock, client


@contextlib.contextmanager
def python_child(code: str, *args: object, stderr: Any = subprocess.PIPE) -> Iterator[Any]:
    """``start_python(code, *args)`` with its stdin piped too, for the ``with`` block; then
    killed if it still runs, and its pipes closed."""
    proc = start_python(code, *args, stdin=subprocess.PIPE, stderr=stderr)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def next_connection(lsock: socket.socket) -> socket.socket:
    """The next connection to ``lsock``, with IO_TIMEOUT on its reads and writes."""
    conn, _ = lsock.accept()
    conn.settimeout(IO_TIMEOUT)
    return conn


@contextlib.contextmanager
def closing_all(conns: list[socket.socket]) -> Iterator[list[socket.socket]]:
    """Closes every connection in ``conns`` (as the list is then) when the ``with`` block
    ends."""
    try:
        yield conns
    finally:
        for c in conns:
            c.close()


def read_line(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> bytes:
    """The child's next line of output, or b"" if it ends (or says nothing) first."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline() if ready else b""


@pytest.mark.parametrize("transport", ["tcp", "ipc", "ws"])
def test_req_client_survives_replies_it_did_not_ask_for(transport: str) -> None:
    """A server sends a REQ client replies it must drop: before any request (malformed, or
    well-formed with an id it never used), or with a request in flight but the wrong id,
    then hangs up; the client closes. libnanomsg 1.1.5 dropped such a reply but kept it as
    the socket's pending reply, and closing the socket freed it a second time (req.c:108:
    chunk.c:231 asserts, or the heap is corrupted); patch 0019. Every round's client closes,
    the process lives, and REQ still works."""
    body = b"x" * 256  # a heap chunk, not a message small enough to live inline
    stderr = tempfile.TemporaryFile()
    with stderr, python_child(REQ_CLIENT, stderr=stderr) as proc:
        assert proc.stdin is not None
        for active in (0, 1, 0, 1):
            lsock, address = hostile_listener(transport)
            proc.stdin.write(f"{address} {active}\n".encode())
            proc.stdin.flush()
            with next_connection(lsock) as conn:
                if transport == "ws":
                    ws_accept(conn, "rep")
                else:
                    conn.sendall(sp_header("rep"))
                    assert recv_exact(conn, 8)[:4] == b"\x00SP\x00"
                replies = [b"\x00\x00\x00\x01" + body, b"\x80\x00\x00\x07" + body]
                if active:
                    request_id = struct.unpack(">I", read_message(conn, transport)[:4])[0]
                    replies.append(struct.pack(">I", request_id ^ 1) + body)
                for reply in replies:
                    if transport == "ws":
                        send_quietly(conn, ws_frame(reply, mask=False))
                    else:
                        send_quietly(conn, frame(reply, transport))
            lsock.close()
            line = read_line(proc)
            stderr.seek(0)
            assert line == b"closed\n", (
                f"the client died ({proc.poll()}):\n{stderr.read().decode()[-2000:]}"
            )
        proc.stdin.write(b"done\n")
        proc.stdin.flush()
        assert read_line(proc) == b"alive\n"
        assert proc.wait(10) == 0


@pytest.mark.parametrize("when", ["during", "after"])
@pytest.mark.parametrize("transport", ["tcp", "ipc", "ws"])
def test_client_recovers_from_a_server_that_hangs_up_at_the_greeting(
    transport: str, when: str
) -> None:
    """A server hangs up during the greeting (it read the client's SP header or ws upgrade
    request and resets the connection) or right after it, then a real server takes its
    address. The client must notice, reconnect and be served. libnanomsg 1.1.5 wedged the
    client for good in two ways: it lost the hang-up that came while the greeting handed the
    connection over (every time on ipc, where the hang-up arrives with the header; patch
    0020), and a ws client whose opening handshake failed took it for a closing handshake
    and never connected again (patch 0021)."""
    lsock, address = hostile_listener(transport)
    with nn.Socket("req") as client:
        client.sndtimeo = client.rcvtimeo = 10_000
        client.connect(address)
        with next_connection(lsock) as conn:
            if transport == "ws":
                if when == "after":
                    ws_accept(conn, "rep")
                else:
                    ws_response(conn)  # the client's request, unanswered
            else:
                if when == "after":
                    conn.sendall(sp_header("rep"))
                assert recv_exact(conn, 8)[:4] == b"\x00SP\x00"
            if transport != "ipc" or when == "during":
                # A reset (no TIME_WAIT on the port, which the real server binds next:
                # libnanomsg sets no SO_REUSEADDR); ipc "after" closes plainly.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        lsock.close()
        if transport == "ipc":
            os.unlink(address[len("ipc://") :])
        with nn.Socket("rep") as server:
            server.rcvtimeo = 10_000
            server.bind(address)
            client.send(b"still there?")
            server.send(server.recv())
            assert client.recv() == b"still there?"


# A ws client (PAIR) that receives only when told: ``recv`` prints the next message.
WS_CLIENT = r"""
import sys
import nanomsg_rs as nn

s = nn.Socket("pair")
s.rcvtimeo = 10000
s.connect(sys.argv[1])
print("connecting", flush=True)
for line in sys.stdin:
    if line.strip() == "recv":
        print(s.recv().decode(), flush=True)
s.close()
"""


def ws_server_frame(payload: bytes, *, fin: bool = True, opcode: int = 2) -> bytes:
    """A frame as a ws server sends it: unmasked."""
    return ws_frame(payload, opcode=opcode, fin=fin, mask=False)


@pytest.mark.parametrize(
    "left",
    [
        pytest.param(
            "unread-message",
            marks=only_on("nanomsg", "nng notices the hang-up only once the message is read"),
        ),
        "cut-off-fragment",
    ],
)
def test_ws_client_survives_a_reconnect_with_something_left_over(left: str) -> None:
    """A ws server sends the client a message it has not read yet (or the first fragment of
    one), then drops the connection; the client reconnects, and gets a fresh message on the
    new connection. libnanomsg 1.1.5 kept the last connection's incoming message in the
    reused connection object: the reconnect aborted (``sws.c:355``), or a cut-off fragment
    would have run into the next connection's data. Patch 0022."""
    lsock, address = hostile_listener("ws")
    stderr = tempfile.TemporaryFile()
    with lsock, stderr, python_child(WS_CLIENT, address, stderr=stderr) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        assert read_line(proc) == b"connecting\n"
        with next_connection(lsock) as conn:
            ws_accept(conn, "pair")
            if left == "unread-message":
                conn.sendall(ws_server_frame(b"stale"))
            else:
                conn.sendall(ws_server_frame(b"first half", fin=False))
            time.sleep(0.2)  # the client takes it in (nothing to wait for: it is not read)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with next_connection(lsock) as again:  # the client reconnects
            ws_accept(again, "pair")
            again.sendall(ws_server_frame(b"fresh"))
            proc.stdin.write(b"recv\n")
            proc.stdin.flush()
            line = read_line(proc)
            stderr.seek(0)
            assert line == b"fresh\n", (
                f"the client got {line!r} ({proc.poll()}):\n{stderr.read().decode()[-2000:]}"
            )
        stderr.close()


# What a ws server sends before it hangs up, in test_ws_client_reconnects_after: a Close (how a
# server ends a connection it refuses, e.g. a message over its rcvmaxsize), or one frame that
# breaks RFC 6455, which the client must fail the connection for.
WS_LAST_WORDS = {
    "close-1000": ws_server_frame(b"\x03\xe8", opcode=8),
    "close-1009": ws_server_frame(b"\x03\xf1too big", opcode=8),
    "close-empty": ws_server_frame(b"", opcode=8),
    "masked": ws_frame(b"\x00\x00\x00\x01x", mask=True),
    "reserved-bit": ws_frame(b"x", rsv=4, mask=False),
    "opcode-3": ws_server_frame(b"x", opcode=3),
    "ping-of-126": ws_server_frame(b"p" * 126, opcode=9),
    "fragmented-ping": ws_server_frame(b"p", opcode=9, fin=False),
    "stray-continuation": ws_server_frame(b"x", opcode=0),
}


@pytest.mark.parametrize("last", list(WS_LAST_WORDS))
def test_ws_client_reconnects_after(last: str) -> None:
    """A ws server sends the client a Close frame, or one frame the client must fail the
    connection for, and hangs up: the client reconnects within its ``reconnect_ivl`` (10 ms
    here) and takes a message over the new connection. libnanomsg 1.1.5 took any of these
    for "the server is gone for good" (cws.c's peer_gone) and never connected again, so a
    server that refused one message (over its rcvmaxsize: a Close 1009) lost that client for
    good. Patch 0032."""
    with reconnecting_client("ws") as (lsock, client):
        with next_connection(lsock) as conn:
            ws_accept(conn, "pair")
            conn.sendall(WS_LAST_WORDS[last])
            hung_up(conn, timeout=0.5)  # the client's answer (a Close) and its hang-up
        try:
            again = next_connection(lsock)
        except TimeoutError:
            pytest.fail(f"the client did not reconnect within {IO_TIMEOUT} s")
        with again:
            ws_accept(again, "pair")
            again.sendall(ws_server_frame(b"on the new connection"))
            assert client.recv() == b"on the new connection"
            client.close()  # while connected: see test_close_while_a_ws_client_redials


@pytest.mark.parametrize("transport", ["tcp", "ipc", "ws"])
def test_client_new_connection_starts_clean(transport: str) -> None:
    """A server sends the client a frame over its rcvmaxsize and, in the same write, more:
    (tcp, ipc) a whole SP header and a message; (ws) a bad frame's payload. The client drops
    the connection and reconnects; its new connection must start with what the new server
    sends, not with the bytes the client had read ahead from the last one. libnanomsg 1.1.5
    kept them: over tcp and ipc the client received "injected", which the new server never
    sent; over ws the next opening handshake failed on them. Patch 0032."""
    with reconnecting_client(transport) as (lsock, client):
        client.rcvmaxsize = 1024
        with next_connection(lsock) as conn:
            if transport == "ws":
                ws_accept(conn, "pair")
                # masked: the client fails the connection on the header, the rest unread
                conn.sendall(ws_frame(b"x" * 200, mask=True))
            else:
                conn.sendall(sp_header("pair"))
                assert recv_exact(conn, 8)[:4] == b"\x00SP\x00"
                conn.sendall(
                    frame(b"", transport, length=1 << 40)
                    + sp_header("pair")
                    + frame(b"injected", transport)
                )
            hung_up(conn)
        with next_connection(lsock) as again:
            if transport == "ws":
                ws_accept(again, "pair")
                again.sendall(ws_server_frame(b"fresh"))
            else:
                again.sendall(sp_header("pair") + frame(b"fresh", transport))
            assert client.recv() == b"fresh"
            client.close()  # while connected: see test_close_while_a_ws_client_redials


@pytest.mark.backend(
    "nanomsg",
    reason="nng 1.5.2 hangs or aborts in nng_close when a ws dialer's redial is under way "
    "(nng issue 1734, fixed in nng 1.7.0; docs/backends.rst)",
)
def test_close_while_a_ws_client_redials() -> None:
    """A ws server hangs up on a client (``reconnect_ivl`` 10 ms), and the client is closed
    0-20 ms later, 150 times: some closes land while the client is connecting again or in
    the middle of its opening handshake. Every close returns at once and the process lives.
    On nng 1.5.2 about one close in 300 of this loop hangs for ever or aborts ("appending
    node already on a list"): CI's nng session once hung in another test's close this way,
    which is why the ws tests above close their client while it is still connected."""
    rng = random.Random(1734)
    for _ in range(150):
        with reconnecting_client("ws") as (lsock, client):
            with next_connection(lsock) as conn:
                ws_accept(conn, "pair")
                conn.sendall(ws_server_frame(b"hello"))
                assert client.recv() == b"hello"
            time.sleep(rng.uniform(0, 0.02))
            started = time.monotonic()
            client.close()
            assert time.monotonic() - started < 1.0


# --------------------------------------------------------------------------------------------
# Memory: messages that never finish arriving, and a process at its memory limit (patch 0033)
# --------------------------------------------------------------------------------------------

hardened_only = pytest.mark.backend(
    "nanomsg", reason="nng has no cap on partial messages (our libnanomsg's rcvmaxpartial)"
)


def partial_message(address: str, transport: str, size: int, body: int) -> socket.socket:
    """A connection to a PULL at ``address`` that announces a message of ``size`` bytes and
    sends ``body`` of them, no more."""
    if transport == "ws":
        s = ws_session(address, "pull")
        s.sendall(ws_frame(b"p" * body, length=size))
    else:
        s = sp_session(address, transport, "push")
        s.sendall(frame(b"p" * body, transport, length=size))
    return s


def dropped(conns: list[socket.socket]) -> int:
    """How many of ``conns`` the server has hung up on (each read for up to 50 ms: a ws
    server sends a Close frame first)."""
    return sum(hung_up(c, timeout=0.05) for c in conns)


def hold_partials(
    pull: nn.Socket, address: str, transport: str, count: int, size: int
) -> list[socket.socket]:
    """``count`` connections, each in the middle of a ``size``-byte message, opened one after
    the other (each header taken in before the next connects)."""
    conns = []
    accepted = pull.statistic(nn.Statistic.ACCEPTED_CONNECTIONS)
    for i in range(count):
        conns.append(partial_message(address, transport, size, 1000))
        goal = accepted + i + 1
        wait_until(lambda: pull.statistic(nn.Statistic.ACCEPTED_CONNECTIONS) >= goal)  # noqa: B023
        time.sleep(0.01)
    return conns


@pytest.mark.parametrize(
    ("transport", "bad"),
    [("ipc", "over rcvmaxsize"), ("tcp", "over rcvmaxsize"), ("ipc", "not a normal frame")],
)
def test_a_bad_frame_among_messages_read_together(transport: str, bad: str) -> None:
    """Messages that come in one write are read together, and each one whole among them is
    taken at once (0069); a frame the receiver refuses among them still ends the connection
    right there: every message before it arrives, in order (an empty one too), none after."""
    address = make_address(transport)
    good = [b"m%d" % i * 20 for i in range(5)] + [b""] + [b"n" * 1024]
    refused = (
        frame(b"L" * 2048, transport)
        if bad == "over rcvmaxsize"
        else frame(b"shm", transport, kind=2)
    )
    after = [b"after %d" % i for i in range(3)]
    with nn.Socket("pull") as pull:
        pull.rcvmaxsize = 1024
        pull.rcvtimeo = 2000
        pull.bind(address)
        with sp_session(address, transport, "push") as s:
            data = b"".join(frame(m, transport) for m in good)
            s.sendall(data + refused + b"".join(frame(m, transport) for m in after))
            assert [pull.recv() for _ in good] == good
            pull.rcvtimeo = 300
            with pytest.raises(nn.Timeout):
                pull.recv()
            assert hung_up(s)
        if NANOMSG:  # nng keeps no statistics
            assert pull.statistic(nn.Statistic.BROKEN_CONNECTIONS) == 1


@hardened_only
@pytest.mark.parametrize("transport", ["tcp", "ipc", "ws"])
def test_partial_messages_are_capped_by_default(transport: str) -> None:
    """40 connections each announce a 1 MiB message (the default rcvmaxsize) and send 1000
    bytes of it. libnanomsg 1.1.5 held all 40 MiB, for as long as the peers wished (300
    connections: 314 MiB resident); ours holds at most ``rcvmaxpartial`` (32 MiB by default):
    32 connections keep their partial messages, the other 8 are dropped and counted."""
    if not nn.HARDENED:
        pytest.skip("the system libnanomsg has no cap on partial messages")
    address = make_address(transport)
    with nn.Socket("pull") as pull:
        pull.bind(address)
        with closing_all(hold_partials(pull, address, transport, 40, 1 << 20)) as conns:
            wait_until(lambda: pull.statistic(nn.Statistic.BROKEN_CONNECTIONS) == 8)
            assert pull.statistic(nn.Statistic.CURRENT_CONNECTIONS) == 32
            assert dropped(conns) == 8


@hardened_only
def test_partial_cap_frees_what_completes_and_lets_a_lone_message_through() -> None:
    """With ``rcvmaxpartial`` 4 MiB: four 1 MiB messages arriving at once are held, a fifth
    connection is dropped; once one of the four is complete (and received) a new one gets in.
    A message bigger than the cap still arrives when it is the only one arriving."""
    if not nn.HARDENED:
        pytest.skip("the system libnanomsg has no cap on partial messages")
    address = make_address("tcp")
    with nn.Socket("pull") as pull:
        pull.rcvmaxpartial = 4 << 20
        assert pull.rcvmaxpartial == 4 << 20
        pull.rcvtimeo = 5000
        pull.bind(address)
        with closing_all(hold_partials(pull, address, "tcp", 5, 1 << 20)) as conns:
            wait_until(lambda: pull.statistic(nn.Statistic.BROKEN_CONNECTIONS) == 1)
            assert dropped(conns) == 1
            kept = [c for c in conns if c.fileno() >= 0 and dropped([c]) == 0]
            assert len(kept) == 4
            kept[0].sendall(b"q" * ((1 << 20) - 1000))  # the rest of the first message
            assert pull.recv() == b"p" * 1000 + b"q" * ((1 << 20) - 1000)
            conns += hold_partials(pull, address, "tcp", 1, 1 << 20)
            time.sleep(0.2)
            assert pull.statistic(nn.Statistic.BROKEN_CONNECTIONS) == 1  # it got in
    with nn.Socket("pull") as pull, nn.Socket("push") as push:
        pull.rcvmaxpartial = 1000
        pull.rcvtimeo = push.sndtimeo = 5000
        pull.bind(address)
        push.connect(address)
        push.send(b"m" * 500_000)  # alone: over the cap, under rcvmaxsize
        assert pull.recv() == b"m" * 500_000


FLOOD_SERVER = r"""
import resource, sys
import nanomsg_rs as nn

pull = nn.Socket("pull")
pull.rcvtimeo = 5000
pull.bind(sys.argv[1])
vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
# A soft limit only: raised again once the flood is over.
resource.setrlimit(resource.RLIMIT_AS, (vm + int(sys.argv[2]) * 2**20, resource.RLIM_INFINITY))
print("ready", flush=True)
sys.stdin.readline()  # the flood is over, its connections closed
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
with nn.Socket("push") as push:
    push.sndtimeo = 5000
    push.connect(sys.argv[1])
    push.send(b"after the flood")
    assert pull.recv() == b"after the flood"
try:
    print("broken", pull.statistic(nn.Statistic.BROKEN_CONNECTIONS), flush=True)
except nn.NotSupported:  # nng keeps no statistics
    print("broken ?", flush=True)
"""


@only_on(
    "nanomsg",
    "nng 1.5.2 itself crashes (SIGSEGV, seen in CI) when an allocation fails under RLIMIT_AS",
)
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_connection_flood_at_the_memory_limit(transport: str) -> None:
    """A PULL under ``RLIMIT_AS`` (16 MiB above what it uses at the start) takes a flood of
    connections, each holding a 100 kB message it never finishes, until memory runs out:
    libnanomsg 1.1.5 (and ours before patch 0033) aborted on the first allocation that failed
    on the way in ("Out of memory", usock_posix.inc:1095, btcp.c:404, bipc.c:349). Now the
    connection that could not get its memory is dropped, and once the flood is over the PULL
    takes a message. In a child: a crash is seen here, not suffered."""
    if NANOMSG and not nn.HARDENED:
        pytest.skip("kills the unpatched system libnanomsg (an alloc_assert under RLIMIT_AS)")
    address = make_address(transport)
    conns: list[socket.socket] = []
    with python_child(FLOOD_SERVER, address, 16) as proc, closing_all(conns):
        assert read_line(proc) == b"ready\n"
        for _ in range(600):  # 60 MB announced: well past the limit
            if proc.poll() is not None:
                break
            try:
                s = raw_connect(address)
            except OSError:
                break  # the backlog is full: the server accepts no more for now
            conns.append(s)
            try:
                s.sendall(sp_header("push"))
                if recv_exact(s, 8)[:4] != b"\x00SP\x00":
                    break  # the server hung up at the greeting
                s.sendall(frame(b"", transport, length=100_000))
            except OSError:
                break  # or is gone
        time.sleep(0.3)
        for c in conns:
            c.close()
        conns.clear()
        if proc.poll() is None:
            proc.stdin.write(b"done\n")
            proc.stdin.flush()
        status = proc.wait(30)
        out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
        assert status == 0, f"the server died ({status}):\n{err[-2000:]}"
        broken = out.splitlines()[-1].split()[1]
        # the limit was reached: connections were dropped for want of memory
        assert broken == "?" or int(broken) > 0, out


# --------------------------------------------------------------------------------------------
# Out of descriptors (patch 0034)
# --------------------------------------------------------------------------------------------

EMFILE_SERVER = r"""
import os, resource, sys, time
import nanomsg_rs as nn

address, then = sys.argv[1], sys.argv[2]
pull = nn.Socket("pull")
pull.rcvtimeo = 10000
endpoint = pull.bind(address)
push = nn.Socket("push")  # made now: later there are no descriptors for it
push.sndtimeo = 10000
fd = os.dup(0)
os.close(fd)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (fd + 4, hard))  # 4 descriptors to spare
print("ready", flush=True)
sys.stdin.readline()  # 40 connections wait in the backlog
time.sleep(0.5)
before = resource.getrusage(resource.RUSAGE_SELF)
time.sleep(1.0)
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
if then == "closes":  # while accepting waits to be tried again
    endpoint.shutdown()
    pull.close()
    push.close()
else:
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    push.connect(address)
    push.send(b"accepted again")
    assert pull.recv() == b"accepted again"
print(f"cpu {cpu:.3f}", flush=True)
"""


@pytest.mark.parametrize("then", ["accepts", "closes"])
@pytest.mark.parametrize(
    "transport",
    [
        "tcp",
        "ipc",
        pytest.param(
            "ws",
            marks=only_on("nanomsg", "nng 1.5.2's ws listener retries a failed accept at once"),
        ),
    ],
)
def test_listener_out_of_descriptors_does_not_spin(transport: str, then: str) -> None:
    """40 connections wait for a PULL whose process has 4 descriptors to spare: every
    accept fails (EMFILE). libnanomsg 1.1.5 (and ours before patch 0034) tried again at
    once, for ever: its worker thread spun at 100 % of a core. Now it tries every 100 ms,
    spending next to nothing, accepts again once it has descriptors, and closes cleanly while
    it waits. In a child: its CPU time is its own."""
    address = make_address(transport)
    conns: list[socket.socket] = []
    with python_child(EMFILE_SERVER, address, then) as proc, closing_all(conns):
        assert read_line(proc) == b"ready\n"
        conns += [raw_connect(address) for _ in range(40)]
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        status = proc.wait(30)
        out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
        assert status == 0, f"the server died ({status}):\n{err[-2000:]}"
        cpu = float(out.split()[-1])
        assert cpu < 0.3, f"{cpu:.2f} s of CPU in 1 s while out of descriptors"


def markdown_table() -> str:
    """The README's table of hostile inputs, from CASES: ``python tests/test_hostile.py``.
    Each transport's cell says what libnanomsg 1.1.5 does, then what nng 1.5.2 does."""
    rows: dict[str, dict[str, str]] = {}
    for case in CASES:
        row = rows.setdefault(case.name, {})
        server = case.protocol.upper() + (", rcvmaxsize -1" if case.maxsize == -1 else "")
        row["server"] = server
        for transport in case.transports:
            nanomsg = f"**killed** (SIGABRT, `{case.kills[1]}`)" if case.kills else "survives"
            nng = f"**{case.nng}**" if case.nng != SURVIVES else SURVIVES
            row[transport] = f"{nanomsg} / {nng}"
    lines = [
        "| input | server | tcp (libnanomsg / nng) | ipc (libnanomsg / nng) "
        "| ws (libnanomsg / nng) |",
        "|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        cells = [row.get(t, "n/a") for t in ALL]
        lines.append(f"| {name} | {row['server']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
