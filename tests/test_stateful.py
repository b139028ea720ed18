"""A stateful hypothesis test: several PAIR sockets created, bound, connected, used, shut
down and closed in any order. Invariants: nothing crashes; a message arrives at most once,
only if it was sent, and the messages of one sender arrive in order; a bind succeeds exactly
when no open socket holds the address; a closed socket raises ``nn.Closed`` for every call;
open sockets have distinct numbers.

Runs in-process with a modest number of examples. It avoids one input on purpose: once an
inproc PAIR has refused a second peer, closing it aborts libnanomsg 1.1.5 (see
tests/test_protocols.py::test_inproc_pair_refusing_second_peer_close). So an inproc link is
only ever made between two fresh sockets, with a fresh address, and those two sockets get no
other endpoint for the rest of their lives; every other link goes over ipc, where a refused
peer is harmless and any tangle of binds and connects is fair game.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
)
from support import machine_settings, make_address, only_on

import nanomsg_rs as nn

MAX_SOCKETS = 8


@dataclass(eq=False)
class Sock:
    """A socket under test and what the model knows about it."""

    sock: nn.Socket
    name: int
    seq: int = 0
    inproc: bool = False  # part of an exclusive inproc link: no other endpoints ever
    has_endpoints: bool = False
    closed: bool = False
    last_seen: dict[int, int] = field(default_factory=dict)  # sender -> last seq received


@dataclass(eq=False)
class Ep:
    owner: Sock
    endpoint: nn.Endpoint
    address: str
    bound: bool
    shut: bool = False


class PairMachine(RuleBasedStateMachine):
    sockets = Bundle("sockets")
    closed_sockets = Bundle("closed_sockets")
    endpoints = Bundle("endpoints")

    def __init__(self) -> None:
        super().__init__()
        self.names = itertools.count()
        self.all: list[Sock] = []
        self.eps: list[Ep] = []
        # ipc only: a tcp port that was free when picked can be taken meanwhile by any
        # process's outgoing connection, which would make "bind succeeds" untestable.
        self.addresses = [make_address("ipc") for _ in range(6)]
        self.draining: set[str] = set()  # bound addresses of endpoints just shut down
        self.delivered: set[tuple[int, int]] = set()
        self.sent: set[tuple[int, int]] = set()

    # -- helpers --------------------------------------------------------------------------
    def open_count(self) -> int:
        return sum(not s.closed for s in self.all)

    def new_sock(self) -> Sock:
        s = nn.Socket("pair")
        s.rcvtimeo = 10
        s.sndtimeo = 0
        entry = Sock(s, next(self.names))
        self.all.append(entry)
        return entry

    def holder(self, address: str) -> Ep | None:
        for ep in self.eps:
            if ep.bound and ep.address == address and not ep.shut and not ep.owner.closed:
                return ep
        return None

    def check_message(self, receiver: Sock, data: bytes) -> None:
        sender_name, seq = (int(x) for x in data.split(b":")[:2])
        key = (sender_name, seq)
        assert key in self.sent, f"received a message nobody sent: {data!r}"
        assert key not in self.delivered, f"delivered twice: {data!r}"
        self.delivered.add(key)
        last = receiver.last_seen.get(sender_name, -1)
        assert seq > last, f"out of order from {sender_name}: {seq} after {last}"
        receiver.last_seen[sender_name] = seq

    # -- rules ----------------------------------------------------------------------------
    @precondition(lambda self: self.open_count() < MAX_SOCKETS)
    @rule(target=sockets)
    def create(self) -> Sock:
        return self.new_sock()

    @precondition(lambda self: self.open_count() <= MAX_SOCKETS - 2)
    @rule(target=sockets)
    def inproc_link(self) -> object:
        """Two fresh sockets linked over a fresh inproc address, and nothing else ever."""
        a, b = self.new_sock(), self.new_sock()
        a.inproc = b.inproc = True
        address = make_address("inproc")
        self.eps.append(Ep(a, a.sock.bind(address), address, True))
        self.eps.append(Ep(b, b.sock.connect(address), address, False))
        return multiple(a, b)

    def _address_for(self, s: Sock, i: int, how: str) -> str | None:
        """The address a ``how`` ("bind" or "connect") of ``s`` goes to, or None when that is
        all: a socket of an inproc link gets nothing else, and a closed one raises Closed."""
        if s.inproc and not s.closed:
            return None
        address = self.addresses[i]
        if s.closed:
            with pytest.raises(nn.Closed):
                getattr(s.sock, how)(address)
            return None
        return address

    def _record(self, s: Sock, endpoint: nn.Endpoint, address: str, bound: bool) -> Ep:
        """Keeps a new endpoint of ``s``."""
        ep = Ep(s, endpoint, address, bound)
        s.has_endpoints = True
        self.eps.append(ep)
        return ep

    @rule(target=endpoints, s=sockets, i=st.integers(0, 5))
    def bind(self, s: Sock, i: int) -> Ep | None:
        address = self._address_for(s, i, "bind")
        if address is None:
            return None
        holder = self.holder(address)
        if holder is not None:
            with pytest.raises(nn.AddressInUse):
                s.sock.bind(address)
            return None
        # libnanomsg removes a shut-down endpoint in the background: its address is free again
        # only a moment later (close, by contrast, frees it at once). Waiting for it keeps the
        # outcome, and so the rest of the run, deterministic, as hypothesis requires.
        deadline = time.monotonic() + (5 if address in self.draining else 0)
        while True:
            try:
                endpoint = s.sock.bind(address)
                break
            except nn.AddressInUse:
                assert time.monotonic() < deadline, f"{address} is free, yet bind failed"
                time.sleep(0.01)
        self.draining.discard(address)
        return self._record(s, endpoint, address, True)

    @rule(target=endpoints, s=sockets, i=st.integers(0, 5))
    def connect(self, s: Sock, i: int) -> Ep | None:
        address = self._address_for(s, i, "connect")
        if address is None:
            return None
        return self._record(s, s.sock.connect(address), address, False)

    @precondition(lambda self: any(self.holder(a) for a in self.addresses))
    @rule(target=endpoints, s=sockets, data=st.data())
    def connect_to_bound(self, s: Sock, data: st.DataObject) -> Ep | None:
        """A connect to an address some open socket listens on: a link that can carry."""
        held = [a for a in self.addresses if self.holder(a)]
        return self.connect(s, self.addresses.index(data.draw(st.sampled_from(held))))

    @rule(ep=consumes(endpoints))
    def shutdown(self, ep: Ep | None) -> None:
        if ep is None:
            return
        if ep.owner.closed:
            with pytest.raises(nn.Closed):
                ep.endpoint.shutdown()
            return
        if ep.shut:
            with pytest.raises(nn.InvalidArgument):
                ep.endpoint.shutdown()
            return
        ep.endpoint.shutdown()
        ep.shut = True
        if ep.bound:
            self.draining.add(ep.address)

    @rule(s=sockets, size=st.sampled_from([0, 10, 3000]), how=st.sampled_from(["send", "msg"]))
    def send(self, s: Sock, size: int, how: str) -> None:
        data = b"%d:%d:" % (s.name, s.seq) + b"p" * size
        if s.closed:
            with pytest.raises(nn.Closed):
                s.sock.send(data, block=False)
            return
        try:
            if how == "send":
                s.sock.send(data, block=False)
            else:
                s.sock.send_msg(nn.Message(data), block=False)
        except nn.Again:
            return  # no peer right now
        self.sent.add((s.name, s.seq))
        s.seq += 1

    @rule(s=sockets, count=st.integers(1, 20))
    def burst(self, s: Sock, count: int) -> None:
        """Several messages in a row, then everything that arrived anywhere (connections are
        made in the background: the short wait of each burst gives them time)."""
        for _ in range(count):
            self.send(s, 10, "send")
        self.drain()

    def drain(self) -> None:
        time.sleep(0.005)  # ipc delivers through libnanomsg's worker thread
        for s in self.all:
            if s.closed:
                continue
            while True:
                try:
                    data = s.sock.recv(block=False)
                except nn.Again:
                    break
                self.check_message(s, data)

    @rule(s=sockets, how=st.sampled_from(["recv", "recv_msg", "recv_into"]))
    def recv(self, s: Sock, how: str) -> None:
        if s.closed:
            with pytest.raises(nn.Closed):
                s.sock.recv()
            return
        try:
            if how == "recv":
                data = s.sock.recv()
            elif how == "recv_msg":
                data = bytes(s.sock.recv_msg())
            else:
                buf = bytearray(4096)
                n = s.sock.recv_into(buf)
                data = bytes(buf[:n])
        except nn.Timeout:
            return
        self.check_message(s, data)

    @rule(target=closed_sockets, s=consumes(sockets))
    def close(self, s: Sock) -> Sock:
        s.sock.close()
        s.closed = True
        return s

    @rule(s=closed_sockets, i=st.integers(0, 5))
    def use_closed(self, s: Sock, i: int) -> None:
        """Every call on a closed socket raises nn.Closed; close stays idempotent."""
        assert s.sock.closed
        for call in (
            lambda: s.sock.send(b"x"),
            lambda: s.sock.send(b"x", block=False),
            lambda: s.sock.send_msg(nn.Message(b"x")),
            lambda: s.sock.recv(),
            lambda: s.sock.recv_msg(block=False),
            lambda: s.sock.recv_into(bytearray(4)),
            lambda: s.sock.bind(self.addresses[i]),
            lambda: s.sock.connect(self.addresses[i]),
            lambda: s.sock.shutdown(1),
            lambda: s.sock.rcvtimeo,
            lambda: setattr(s.sock, "sndtimeo", 5),
            lambda: s.sock.fd,
            lambda: s.sock.statistic("messages-sent"),
            lambda: nn.poll([(s.sock, nn.POLLIN)], 0),
        ):
            with pytest.raises(nn.Closed):
                call()
        s.sock.close()

    @invariant()
    def open_sockets_have_distinct_numbers(self) -> None:
        numbers = [s.sock.fd for s in self.all if not s.closed]
        assert len(numbers) == len(set(numbers))

    def teardown(self) -> None:
        for s in self.all:
            s.sock.close()


PairMachine.TestCase.settings = machine_settings(50, 30)
TestPairMachine = PairMachine.TestCase
# nng 1.5.2 numbers a socket's listeners and dialers apart, each from 1: one socket's bound and
# connected endpoints can share an id, and the shutdown of one then finds the other gone (CI's
# clean run, twice, on the same example). The model holds on libnanomsg, where ids never repeat.
TestPairMachine.pytestmark = [
    only_on("nanomsg", "nng 1.5.2 can give a socket's listener and dialer the same endpoint id")
]


class PairMachineSoak(PairMachine):
    """The same machine, longer (``-m soak``)."""


PairMachineSoak.TestCase.settings = machine_settings(1000, 60)
TestPairMachineSoak = PairMachineSoak.TestCase
TestPairMachineSoak.pytestmark = [pytest.mark.soak, pytest.mark.timeout(1800)]
