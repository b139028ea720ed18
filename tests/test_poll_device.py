"""nn.poll over several sockets, and nn.device between raw sockets."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import threading
import time
from collections.abc import Iterator

import pytest
from support import (
    CONNECT_DEADLINE,
    NANOMSG,
    AddrFactory,
    SockFactory,
    assert_each_gets_its_reply,
    assert_each_reaches_every_other,
    best_of,
    connected,
    make_address,
    run_reporting,
    timeouts,
    wait_connected,
    wait_reachable,
)

import nanomsg_rs as nn


def poll_until(
    items: list[tuple[nn.Socket, int]], want: list[int], timeout: float = CONNECT_DEADLINE
) -> None:
    """Polls until the result is ``want`` (connections come up in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        got = nn.poll(items, 100)
        if got == want:
            return
        assert time.monotonic() < deadline, f"poll gave {got}, expected {want}"


# -- poll -----------------------------------------------------------------------------------


def test_poll_pollin_when_message_waits(sock: SockFactory, transport: str) -> None:
    a, b = connected(sock, "pair", "pair", transport)
    assert nn.poll([(a, nn.POLLIN), (b, nn.POLLIN)], 0) == [0, 0]
    b.send(b"hello")
    assert nn.poll([(a, nn.POLLIN), (b, nn.POLLIN)], 3000) == [nn.POLLIN, 0]
    assert nn.poll([(a, nn.POLLIN)], 0) == [nn.POLLIN]  # still there until received
    assert a.recv() == b"hello"
    assert nn.poll([(a, nn.POLLIN), (b, nn.POLLIN)], 0) == [0, 0]


def test_poll_pollout_on_sender(sock: SockFactory, addr: AddrFactory) -> None:
    address = addr("inproc")
    push = sock("push")
    # No peer: a PUSH cannot send.
    assert nn.poll([(push, nn.POLLOUT)], 0) == [0]
    pull = sock("pull")
    pull.bind(address)
    push.connect(address)
    poll_until([(push, nn.POLLOUT)], [nn.POLLOUT])
    assert nn.poll([(push, nn.POLLOUT), (pull, nn.POLLIN)], 0) == [nn.POLLOUT, 0]


def test_poll_both_events(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    both = nn.POLLIN | nn.POLLOUT
    b.send(b"x")
    poll_until([(a, both), (b, both)], [both, nn.POLLOUT])
    a.recv()
    assert nn.poll([(a, both), (b, both)], 0) == [nn.POLLOUT, nn.POLLOUT]


def test_poll_several_sockets_picks_the_ready_one(sock: SockFactory) -> None:
    pulls, pushes = [], []
    for _ in range(4):
        pull, push = connected(sock, "pull", "push", "ipc")
        pulls.append(pull)
        pushes.append(push)
    items = [(p, nn.POLLIN) for p in pulls]
    assert nn.poll(items, 0) == [0, 0, 0, 0]
    pushes[2].send(b"for the third")
    assert nn.poll(items, 3000) == [0, 0, nn.POLLIN, 0]
    pushes[0].send(b"for the first")
    poll_until(items, [nn.POLLIN, 0, nn.POLLIN, 0])
    assert pulls[2].recv() == b"for the third"
    assert nn.poll(items, 0) == [nn.POLLIN, 0, 0, 0]


def test_poll_wakes_when_message_arrives(sock: SockFactory) -> None:
    pull, push = connected(sock, "pull", "push", "tcp")

    def later() -> None:
        time.sleep(0.2)
        push.send(b"wake")

    t = threading.Thread(target=later, daemon=True)
    started = time.monotonic()
    t.start()
    assert nn.poll([(pull, nn.POLLIN)], 5000) == [nn.POLLIN]
    elapsed = time.monotonic() - started
    t.join(5)
    assert 0.15 <= elapsed < 3


@pytest.mark.parametrize("ms", [100, 300])
def test_poll_timeout_returns_zeros(sock: SockFactory, ms: int) -> None:
    a, b = sock("pull"), sock("sub")

    def attempt() -> float:
        started = time.monotonic()
        assert nn.poll([(a, nn.POLLIN), (b, nn.POLLIN)], ms) == [0, 0]
        elapsed = time.monotonic() - started
        assert elapsed >= ms / 1000 - 0.01
        return elapsed

    best_of(attempt, lambda elapsed: elapsed <= ms / 1000 + 0.15, f"a {ms} ms poll timeout")


def test_poll_timeout_zero_returns_at_once(sock: SockFactory) -> None:
    socks = [sock("pull") for _ in range(5)]

    def attempt() -> float:
        started = time.monotonic()
        for _ in range(20):
            assert nn.poll([(s, nn.POLLIN) for s in socks], 0) == [0] * 5
        return time.monotonic() - started

    best_of(attempt, lambda elapsed: elapsed < 0.2, "20 polls with timeout 0")


def test_poll_default_timeout_blocks_until_ready(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    b.send(b"x")
    assert nn.poll([(a, nn.POLLIN)]) == [nn.POLLIN]


def test_poll_empty_list_with_zero_timeout(sock: SockFactory) -> None:
    assert nn.poll([], 0) == []


def test_poll_no_events_asked(sock: SockFactory) -> None:
    s = sock("pair")
    assert nn.poll([(s, 0)], 0) == [0]


def test_poll_closed_socket_raises_closed() -> None:
    s = nn.Socket("pull")
    s.close()
    with pytest.raises(nn.Closed):
        nn.poll([(s, nn.POLLIN)], 0)


def test_poll_woken_by_close_from_another_thread(sock: SockFactory) -> None:
    s = nn.Socket("pull")
    other = sock("pull")

    def close_later() -> None:
        time.sleep(0.2)
        s.close()

    t = threading.Thread(target=close_later, daemon=True)
    t.start()
    started = time.monotonic()
    with pytest.raises(nn.Closed):  # the contract: a close from another thread wakes it so
        nn.poll([(s, nn.POLLIN), (other, nn.POLLIN)], 5000)
    elapsed = time.monotonic() - started
    t.join(5)
    assert elapsed < 2, "closing the socket should end the poll"


def test_poll_pollin_on_send_only_socket(sock: SockFactory) -> None:
    with pytest.raises(nn.NanomsgError) as info:
        nn.poll([(sock("push"), nn.POLLIN)], 0)
    # No receive descriptor here: ENOPROTOOPT (nng says ENOTSUP, reported as ENOPROTOOPT).
    assert info.value.errno == nn.ENOPROTOOPT


def test_poll_releases_the_gil(sock: SockFactory) -> None:
    s = sock("pull")
    counter = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal counter
        while not stop.is_set():
            counter += 1
            time.sleep(0.001)

    t = threading.Thread(target=spin, daemon=True)
    t.start()
    try:
        nn.poll([(s, nn.POLLIN)], 300)
    finally:
        stop.set()
        t.join(5)
    assert counter > 20


# poll(2) refuses (EINVAL) more entries than RLIMIT_NOFILE, and the binding gave it one
# entry per (item, event): a list naming a socket many times failed with a bare "Invalid
# argument". Each descriptor is polled once now. The soft limit is lowered to 256 so that
# the lists below pass it on any machine.
MANY_ITEMS_BODY = """
import resource
a, b = nn.Socket("pair"), nn.Socket("pair")
a.bind("inproc://many"); b.connect("inproc://many")
b.sndtimeo = 5000
b.send(b"waiting")
# settled first: nng makes a PAIR writable, and the message readable, a moment after the send
# (its pipes are asynchronous), which a loaded machine can stretch past the poll below
import time
settled = [nn.POLLIN | nn.POLLOUT, nn.POLLOUT]
deadline = time.monotonic() + 5
while nn.poll([(a, nn.POLLIN | nn.POLLOUT), (b, nn.POLLOUT)], 100) != settled:
    if time.monotonic() > deadline:
        break
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
items = [(a, nn.POLLIN | nn.POLLOUT), (b, nn.POLLIN), (b, nn.POLLOUT)] * 10_000
ready = nn.poll(items, 0)
report(n=len(ready), kinds=sorted(set(zip(ready[0::3], ready[1::3], ready[2::3]))))
"""


def test_poll_lists_a_socket_any_number_of_times() -> None:
    result = run_reporting(MANY_ITEMS_BODY)
    assert result["n"] == 30_000
    # a can receive and send, b can only send: the same answer for every repetition.
    assert result["kinds"] == [[nn.POLLIN | nn.POLLOUT, 0, nn.POLLOUT]]


# More distinct descriptors than the limit: poll(2)'s EINVAL, with a message that says why.
OVER_LIMIT_BODY = """
import resource
sockets = [nn.Socket("pair") for _ in range(40)]  # 3 descriptors each
# nng makes a socket's poll descriptors when first asked for them: made here, under the
# old limit, so that both backends reach poll(2) with them (not the limit's EMFILE first)
fds = [(s.rcvfd, s.sndfd) for s in sockets]
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
try:
    nn.poll([(s, nn.POLLIN | nn.POLLOUT) for s in sockets], 0)
    report(raised=None)
except nn.NanomsgError as e:
    report(raised=type(e).__name__, errno=e.errno, value_error=isinstance(e, ValueError),
           message=str(e))
"""


def test_poll_over_the_open_file_limit_says_which_limit() -> None:
    result = run_reporting(OVER_LIMIT_BODY)
    assert result["raised"] == "InvalidArgument", result
    assert result["errno"] == errno.EINVAL and result["value_error"]
    assert result["message"].startswith("poll(): more distinct descriptors to wait on")
    assert "RLIMIT_NOFILE" in result["message"], result["message"]


# nn_term signals every socket's descriptors and closes them: poll read that as "ready".
TERM_POLL_BODY = """
import threading
s = nn.Socket("pull")
s.bind("inproc://term-poll")
outcome = {}

def wait():
    t0 = time.monotonic()
    try:
        outcome["waiting"] = nn.poll([(s, nn.POLLIN)], 5000)
    except nn.NanomsgError as e:
        outcome["waiting"] = type(e).__name__
    outcome["seconds"] = time.monotonic() - t0

t = threading.Thread(target=wait)
t.start()
time.sleep(0.2)
nn.term()
t.join(10)
try:
    outcome["after"] = nn.poll([(s, nn.POLLIN)], 0)
except nn.NanomsgError as e:
    outcome["after"] = type(e).__name__
report(**outcome)
"""


def test_poll_ends_with_terminated_after_term() -> None:
    result = run_reporting("import time\n" + TERM_POLL_BODY)
    assert result["waiting"] == "Terminated", result
    assert result["seconds"] < 2, result
    assert result["after"] == "Terminated", result


# -- device ---------------------------------------------------------------------------------


class DeviceThread:
    """Runs nn.device in a daemon thread and keeps what it raised."""

    def __init__(self, s1: nn.Socket, s2: nn.Socket | None = None) -> None:
        self.error: BaseException | None = None
        self.returned = False
        self.thread = threading.Thread(target=self._run, args=(s1, s2), daemon=True)
        self.thread.start()

    def _run(self, s1: nn.Socket, s2: nn.Socket | None) -> None:
        try:
            if s2 is None:
                nn.device(s1)
            else:
                nn.device(s1, s2)
            self.returned = True
        except BaseException as e:
            self.error = e

    def join(self, timeout: float = 5) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the device did not stop"


@contextlib.contextmanager
def running_device(s1: nn.Socket, s2: nn.Socket | None = None) -> Iterator[DeviceThread]:
    """Runs nn.device on the sockets for the ``with`` block, then closes them: the device
    must stop, with nn.Closed."""
    device = DeviceThread(s1, s2)
    try:
        yield device
    finally:
        s1.close()
        if s2 is not None:
            s2.close()
    device.join()
    assert isinstance(device.error, nn.Closed), device.error


# The cooked protocol that talks to each raw one.
PEER = {
    "rep": "req",
    "req": "rep",
    "pull": "push",
    "push": "pull",
    "pair": "pair",
    "respondent": "surveyor",
    "surveyor": "respondent",
}


@dataclasses.dataclass
class Devices:
    """What ``device_with_peers`` made."""

    device: DeviceThread
    front: nn.Socket  # raw, faces the clients
    back: nn.Socket  # raw, faces the servers
    front_peers: list[nn.Socket]
    back_peers: list[nn.Socket]


@contextlib.contextmanager
def device_with_peers(
    sock: SockFactory,
    front: str,
    back: str,
    transports: tuple[str, str] = ("inproc", "inproc"),
    peers: tuple[int, int] = (1, 1),
) -> Iterator[Devices]:
    """``running_device`` between a raw ``front`` and a raw ``back`` socket, each bound on
    its transport; ``peers`` sockets of the protocol that talks to each (REQ to a raw REP,
    and so on) connect to it, with ``timeouts``."""
    addresses = [make_address(t) for t in transports]
    raw = [nn.Socket(front, "sp-raw"), nn.Socket(back, "sp-raw")]
    for s, address in zip(raw, addresses, strict=True):
        s.bind(address)
    with running_device(*raw) as device:
        sides = [
            [sock(PEER[p]) for _ in range(n)] for p, n in zip((front, back), peers, strict=True)
        ]
        for side, address in zip(sides, addresses, strict=True):
            for s in side:
                s.connect(address)
        timeouts(*sides[0], *sides[1])
        yield Devices(device, *raw, *sides)


@pytest.mark.parametrize("transport", ["inproc", "ipc", "tcp"])
def test_device_forwards_request_and_reply(sock: SockFactory, transport: str) -> None:
    with device_with_peers(sock, "rep", "req", (transport, transport)) as d:
        [client], [server] = d.front_peers, d.back_peers
        for i in range(5):
            client.send(b"request %d" % i)
            assert server.recv() == b"request %d" % i
            server.send(b"reply %d" % i)
            assert client.recv() == b"reply %d" % i
        assert d.device.thread.is_alive()
    assert not d.device.returned


def test_device_routes_replies_to_the_right_client(sock: SockFactory) -> None:
    with device_with_peers(sock, "rep", "req", peers=(3, 1)) as d:
        assert_each_gets_its_reply(d.back_peers[0], d.front_peers)


def test_device_pipeline_one_way(sock: SockFactory) -> None:
    with device_with_peers(sock, "pull", "push", ("inproc", "tcp")) as d:
        [push], [pull] = d.front_peers, d.back_peers
        for i in range(20):
            push.send(b"item %d" % i)
        assert [pull.recv() for _ in range(20)] == [b"item %d" % i for i in range(20)]


def test_device_pair_both_ways(sock: SockFactory) -> None:
    with device_with_peers(sock, "pair", "pair", ("inproc", "ipc")) as d:
        [left], [right] = d.front_peers, d.back_peers
        wait_connected(d.front, 1)
        wait_connected(d.back, 1)
        wait_reachable(left, [right])
        wait_reachable(right, [left])
        for i in range(5):
            left.send(b"to the right %d" % i)
            assert right.recv() == b"to the right %d" % i
            right.send(b"to the left %d" % i)
            assert left.recv() == b"to the left %d" % i


def test_device_pubsub(sock: SockFactory, addr: AddrFactory) -> None:
    """A forwarder: publishers connect to a raw SUB, subscribers to a raw PUB; each
    subscriber's own subscription filters what it gets."""
    in_addr, out_addr = addr("inproc"), addr("tcp")
    inbound, outbound = nn.Socket("sub", "sp-raw"), nn.Socket("pub", "sp-raw")
    if NANOMSG:
        inbound.subscribe(b"")  # libnanomsg's raw SUB filters by its subscriptions too
    else:
        with pytest.raises(nn.NanomsgError) as info:
            inbound.subscribe(b"")  # nng's raw SUB takes everything: it has no such option
        assert info.value.errno == nn.ENOPROTOOPT
    inbound.bind(in_addr)
    outbound.bind(out_addr)
    with running_device(inbound, outbound):
        pub, news, sport = sock("pub"), sock("sub"), sock("sub")
        news.subscribe(b"news")
        sport.subscribe(b"sport")
        pub.connect(in_addr)
        news.connect(out_addr)
        sport.connect(out_addr)
        timeouts(news, sport, ms=200)
        wait_connected(inbound, 1)
        wait_connected(outbound, 2)
        got: dict[bytes, list[bytes]] = {b"news": [], b"sport": []}
        deadline = time.monotonic() + CONNECT_DEADLINE
        # Until both subscribers hear through the device (their connections settle first).
        while not (got[b"news"] and got[b"sport"]) and time.monotonic() < deadline:
            pub.send(b"news: hello")
            pub.send(b"sport: goal")
            for name, s in ((b"news", news), (b"sport", sport)):
                try:
                    got[name].append(s.recv())
                except nn.Timeout:
                    pass
        assert set(got[b"news"]) == {b"news: hello"}
        assert set(got[b"sport"]) == {b"sport: goal"}


def test_device_survey(sock: SockFactory) -> None:
    with device_with_peers(sock, "respondent", "surveyor", peers=(1, 3)) as d:
        [surveyor], respondents = d.front_peers, d.back_peers
        surveyor.surveyor_deadline = 2000
        wait_connected(d.front, 1)
        wait_connected(d.back, 3)
        wait_reachable(surveyor, respondents, broadcast=True)
        surveyor.send(b"who is there?")
        for i, r in enumerate(respondents):
            assert r.recv() == b"who is there?"
            r.send(b"respondent %d" % i)
        answers = {surveyor.recv() for _ in respondents}
        assert answers == {b"respondent %d" % i for i in range(3)}


def test_device_ends_when_its_sockets_close(sock: SockFactory) -> None:
    a = nn.Socket("bus", "sp-raw")
    b = nn.Socket("bus", "sp-raw")
    device = DeviceThread(a, b)
    time.sleep(0.1)
    assert device.thread.is_alive()
    a.close()
    b.close()
    device.join()
    assert isinstance(device.error, nn.Closed)


@pytest.mark.parametrize(
    ("p1", "d1", "p2", "d2"),
    [
        ("rep", "sp", "req", "sp"),
        ("rep", "sp-raw", "req", "sp"),
        ("rep", "sp", "req", "sp-raw"),
        ("bus", "sp", None, None),
        ("pair", "sp", "pair", "sp"),
    ],
)
def test_device_on_non_raw_sockets_is_invalid(
    sock: SockFactory, p1: str, d1: str, p2: str | None, d2: str | None
) -> None:
    s1 = sock(p1, d1)
    s2 = sock(p2, d2) if p2 is not None and d2 is not None else None
    started = time.monotonic()
    with pytest.raises(nn.InvalidArgument) as info:
        if s2 is None:
            nn.device(s1)
        else:
            nn.device(s1, s2)
    assert info.value.errno == nn.EINVAL
    assert time.monotonic() - started < 1


def test_device_on_mismatched_raw_protocols_is_invalid(sock: SockFactory) -> None:
    with pytest.raises(nn.InvalidArgument):
        nn.device(sock("rep", "sp-raw"), sock("pull", "sp-raw"))


def test_device_on_closed_socket_raises_closed(sock: SockFactory) -> None:
    a = nn.Socket("bus", "sp-raw")
    a.close()
    with pytest.raises(nn.Closed):
        nn.device(a)
    with pytest.raises(nn.Closed):
        nn.device(sock("bus", "sp-raw"), a)


def test_loopback_device_with_one_raw_bus(sock: SockFactory, addr: AddrFactory) -> None:
    """One raw BUS socket: every message from one node goes to all the others, and never
    back to its sender."""
    address = addr("inproc")
    hub = nn.Socket("bus", "sp-raw")
    hub.bind(address)
    with running_device(hub):
        buses = [sock("bus") for _ in range(3)]
        for b in buses:
            b.connect(address)
        timeouts(*buses)
        wait_connected(hub, 3)
        for i, b in enumerate(buses):
            wait_reachable(b, buses[:i] + buses[i + 1 :], broadcast=True)
        assert_each_reaches_every_other(buses)


def test_device_ends_when_one_socket_closes(sock: SockFactory) -> None:
    """The contract: the device runs until "a socket closes" (libnanomsg's own nn_device
    would wait for both)."""
    a = nn.Socket("bus", "sp-raw")
    b = sock("bus", "sp-raw")
    device = DeviceThread(a, b)
    time.sleep(0.1)
    a.close()
    device.join()
    assert isinstance(device.error, nn.Closed)
    assert not b.closed
