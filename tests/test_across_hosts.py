"""Across hosts: what each protocol does when a link or a host fails, on hosts made as network
namespaces on one bridge (``netns.py``), each running its own Python processes.

Each scenario asserts what nanomsg promises and nothing it does not: a REQ resends until it
has its reply (so a request can be delivered twice), a PUB never waits for a subscriber (which
may lose messages, in order), a PUSH's messages ride one TCP connection (which keeps them
across a partition), a survey ends at its deadline with the answers it has. And what our
libnanomsg adds (docs/across-hosts.rst): ``tcp_keepalive`` finds a connection to a host that
lost power, ``connect_timeout`` finds a host that comes back. The two tests of those show the
failure without the option beside its cure, on the same hosts.

They need root (CI runs as root, and there they must not skip) and iproute2; about 2 minutes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from netns import Host, Network, Process, time_until, unavailable

pytestmark = [
    pytest.mark.backend(
        "nanomsg",
        reason="the multi-host scenarios run in the default backend's session (nng's "
        "compatibility layer lacks the liveness options)",
    ),
    pytest.mark.timeout(120),
]

PORT = 5555

# What the hosts' processes are given first: helpers to publish, collect and serve in the
# background. Times are time.monotonic(), which is the same clock in every namespace.
HELPERS = """
class Publisher:
    '''Sends "<prefix>-<n>" (padded to size bytes) every interval s, or in bursts of
    burst messages, until stopped or count are sent; pub.send never waits.'''
    def __init__(self, sock, prefix, interval, size=0, count=None, burst=1):
        self.sock, self.prefix, self.interval, self.size = sock, prefix, interval, size
        self.count, self.burst = count, burst
        self.sent, self.stopped, self.started = 0, False, time.monotonic()
        self.done = None
        background(self.run)
    def run(self):
        while not self.stopped and (self.count is None or self.sent < self.count):
            body = f"{self.prefix}-{self.sent}".encode()
            try:
                self.sock.send(body.ljust(self.size, b"."))
            except nn.NanomsgError:
                return
            self.sent += 1
            if self.sent % self.burst == 0:
                time.sleep(self.interval)
        self.done = time.monotonic()

class Collector:
    '''Receives in the background: got holds (time, message) pairs.'''
    def __init__(self, sock):
        self.sock, self.got = sock, []
        sock.rcvtimeo = 200
        background(self.run)
    def run(self):
        while True:
            try:
                m = self.sock.recv()
            except nn.Timeout:
                continue
            except nn.NanomsgError:
                return
            self.got.append((time.monotonic(), m))
    def numbers(self, prefix):
        return [int(m.split(b"-")[1].rstrip(b".")) for _, m in self.got
                if m.startswith(prefix.encode() + b"-")]
    def first(self, prefix):
        return next((t for t, m in self.got if m.startswith(prefix.encode() + b"-")), None)

class Call:
    '''A request sent in the background: reply and at are set when it comes.'''
    def __init__(self, sock, request):
        self.reply, self.at, self.error = None, None, None
        def run():
            try:
                sock.send(request)
                self.reply = sock.recv()
                self.at = time.monotonic()
            except nn.NanomsgError as e:
                self.error = repr(e)
        background(run)
"""


@pytest.fixture
def network() -> Iterator[Network]:
    why = unavailable()
    if why:
        pytest.skip(f"hosts as network namespaces need root and iproute2: {why}")
    net = Network()
    try:
        yield net
    finally:
        net.close()


def process(host: Host) -> Process:
    p = host.spawn()
    p.call(HELPERS)
    return p


def now() -> float:
    return time.monotonic()


def subscribe(address: str) -> str:
    """The code of a SUB that receives everything from ``address`` into ``c``."""
    return (
        f"sub = nn.Socket('sub'); sub.subscribe(b''); sub.connect('{address}'); c = Collector(sub)"
    )


# -- partitions --------------------------------------------------------------------------------


def test_req_rep_across_a_partition_of_the_server(network: Network) -> None:
    """A request made while the server's host is cut off is answered once the link is back:
    the TCP connection outlives a partition of seconds, and the REQ resends anyway."""
    a, b = network.host("a"), network.host("b")
    server, client = process(a), process(b)
    server.call(f"rep = nn.Socket('rep'); rep.bind('{a.address(PORT)}'); served = serve(rep, 'a')")
    client.call(
        f"req = nn.Socket('req'); req.req_resend_ivl = 1000; req.connect('{a.address(PORT)}')"
    )
    client.call("c = Call(req, b'r0')")
    time_until("the first reply", lambda: client.eval("c.reply") == "a:r0", 10)

    a.cut()
    client.call("c = Call(req, b'r1')")
    time.sleep(3)
    assert client.eval("c.reply") is None  # nothing crosses the partition
    a.mend()
    mended = now()
    time_until("the reply after the partition", lambda: client.eval("c.reply") is not None, 10)
    assert client.eval("c.reply") == "a:r1"
    assert client.eval("c.at") >= mended
    # at least once: the request, maybe its resends too
    assert server.eval("served.count(b'r1')") >= 1


def test_sub_across_a_partition_of_the_subscriber(network: Network) -> None:
    """A subscriber cut off for 3 s receives again once its link is back, in order and
    without duplicates; what was published meanwhile may be lost (a PUB never waits)."""
    a, b = network.host("a"), network.host("b")
    publisher, subscriber = process(a), process(b)
    publisher.call(
        f"pub = nn.Socket('pub'); pub.bind('{a.address(PORT)}'); p = Publisher(pub, 'm', 0.02)"
    )
    subscriber.call(subscribe(a.address(PORT)))
    time_until("ten messages", lambda: subscriber.eval("len(c.got)") >= 10, 10)

    b.cut()
    time.sleep(3)
    b.mend()
    sent_at_mend = publisher.eval("p.sent")
    time_until(
        "a message published after the link came back",
        lambda: max(subscriber.eval("c.numbers('m')")) >= sent_at_mend,
        10,
    )
    numbers = subscriber.eval("c.numbers('m')")
    assert numbers == sorted(set(numbers)), "out of order or twice"


def test_push_pull_across_a_partition_of_the_worker_loses_nothing(network: Network) -> None:
    """A worker cut off for 3 s in the middle of a stream of 300 jobs gets every one of them,
    once each and in order: they wait in the one TCP connection, which outlives the
    partition."""
    a, b = network.host("a"), network.host("b")
    source, worker = process(a), process(b)
    source.call(f"push = nn.Socket('push'); push.bind('{a.address(PORT)}')")
    worker.call(f"pull = nn.Socket('pull'); pull.connect('{a.address(PORT)}'); c = Collector(pull)")
    source.call("p = Publisher(push, 'job', 0.01, count=300)")
    time_until("a hundred jobs", lambda: worker.eval("len(c.got)") >= 100, 10)

    b.cut()
    time.sleep(3)
    assert source.eval("p.sent") == 300  # the sender went on meanwhile
    b.mend()
    time_until("all 300 jobs", lambda: worker.eval("len(c.got)") >= 300, 15)
    time.sleep(0.5)
    assert worker.eval("c.numbers('job')") == list(range(300))


def test_a_server_restarted_answers_the_pending_request(network: Network) -> None:
    """The server process on another host dies (its host closes the connection) and a new
    one binds the same address: the request sent meanwhile is answered by the new one."""
    a, b = network.host("a"), network.host("b")
    first, client = process(a), process(b)
    first.call(f"rep = nn.Socket('rep'); rep.bind('{a.address(PORT)}'); served = serve(rep, 'one')")
    client.call(
        "req = nn.Socket('req'); req.req_resend_ivl = 1000; req.reconnect_ivl = 100; "
        f"req.connect('{a.address(PORT)}'); c = Call(req, b'r0')"
    )
    time_until("the first reply", lambda: client.eval("c.reply") == "one:r0", 10)

    first.kill()
    client.call("c = Call(req, b'r1')")
    time.sleep(1)
    second = process(a)
    second.call(
        f"rep = nn.Socket('rep'); rep.bind('{a.address(PORT)}'); served = serve(rep, 'two')"
    )
    restarted = now()
    # a reconnection (every 100 ms), then the request, resent within req_resend_ivl (1 s)
    time_until("the new server's reply", lambda: client.eval("c.reply") is not None, 5)
    assert client.eval("c.reply") == "two:r1"
    assert client.eval("c.at") >= restarted


def test_req_delivers_at_least_once(network: Network) -> None:
    """A reply held up by a partition: the REQ resends its request (req_resend_ivl 1 s), and
    once the link is back the server gets the request a second time. The REQ delivers one
    reply. Requests must be safe to repeat: nanomsg promises at least once, not once."""
    a, b = network.host("a"), network.host("b")
    server, client = process(a), process(b)
    server.call(f"rep = nn.Socket('rep'); rep.rcvtimeo = 10000; rep.bind('{a.address(PORT)}')")
    client.call(
        f"req = nn.Socket('req'); req.req_resend_ivl = 1000; req.connect('{a.address(PORT)}'); "
        "c = Call(req, b'job')"
    )
    assert server.eval("rep.recv()") == "job"
    a.cut()
    server.call("rep.send(b'done')")  # held up by the partition
    time.sleep(2.5)  # the REQ resends meanwhile
    a.mend()
    time_until("the reply", lambda: client.eval("c.reply") is not None, 10)
    assert client.eval("c.reply") == "done"
    assert server.eval("rep.recv()") == "job", "the resent request"
    assert client.eval("c.error") is None


# -- power cut: no FIN, no RST -----------------------------------------------------------------


def test_power_cut_found_by_keepalive(network: Network) -> None:
    """The publisher's host loses power: no FIN, no RST, and a SUB never sends, so nothing
    tells it. With tcp_keepalive (1 s idle, 1 s between probes, 2 probes) the SUB drops the
    dead connection within about 3 s (a broken connection) and receives from the new PUB on
    the same address within 10 s of the host's return. Beside it, a SUB without keepalive
    keeps the dead connection: nothing from the new PUB, ever (10 s here).

    The accepting side too: a PULL bound on the SUBs' host with keepalive drops the dead
    host's connection to it in the same 3 s; one without keepalive keeps it."""
    a, b = network.host("a"), network.host("b")
    publisher, subscribers = process(a), process(b)
    subscribers.call(
        "sink = nn.Socket('pull'); sink.tcp_keepalive = True; sink.tcp_keepalive_idle = 1000; "
        "sink.tcp_keepalive_interval = 1000; sink.tcp_keepalive_count = 2; "
        f"sink.bind('{b.address(PORT)}'); "
        f"plain_sink = nn.Socket('pull'); plain_sink.bind('{b.address(PORT + 1)}')"
    )
    publisher.call(
        f"pub = nn.Socket('pub'); pub.bind('{a.address(PORT)}'); p = Publisher(pub, 'old', 0.05)\n"
        "pushes = [nn.Socket('push'), nn.Socket('push')]\n"
        f"pushes[0].connect('{b.address(PORT)}'); pushes[1].connect('{b.address(PORT + 1)}')"
    )
    current = "statistic(nn.Statistic.CURRENT_CONNECTIONS)"
    time_until(
        "the pushes accepted",
        lambda: subscribers.eval(f"(sink.{current}, plain_sink.{current})") == [1, 1],
        10,
    )
    subscribers.call(
        "live = nn.Socket('sub'); live.tcp_keepalive = True; live.tcp_keepalive_idle = 1000; "
        "live.tcp_keepalive_interval = 1000; live.tcp_keepalive_count = 2; "
        "live.connect_timeout = 1000; live.reconnect_ivl = 100; "
        "plain = nn.Socket('sub'); plain.reconnect_ivl = 100\n"
        "for s in (live, plain):\n"
        f"    s.subscribe(b''); s.connect('{a.address(PORT)}')\n"
        "cl, cp = Collector(live), Collector(plain)"
    )
    time_until(
        "both subscribers", lambda: subscribers.eval("min(len(cl.got), len(cp.got))") >= 5, 10
    )

    a.power_cut()
    cut = now()
    broken = "statistic(nn.Statistic.BROKEN_CONNECTIONS)"
    found = time_until(
        "the dead connection found", lambda: subscribers.eval(f"live.{broken}") >= 1, 8
    )
    assert found < 6, f"found after {found:.1f} s; keepalive says 3 s"
    time_until("the accepted one dropped", lambda: subscribers.eval(f"sink.{current}") == 0, 3)
    assert subscribers.eval(f"sink.{broken}") == 1
    time.sleep(max(0.0, 5 - (now() - cut)))  # the host stays off for 5 s

    a.power_on()
    new = process(a)
    new.call(
        f"pub = nn.Socket('pub'); pub.bind('{a.address(PORT)}'); p = Publisher(pub, 'new', 0.05)"
    )
    back = now()
    took = time_until(
        "the new publisher's messages", lambda: subscribers.eval("cl.first('new')") is not None, 10
    )
    old = subscribers.eval("cl.numbers('old')")
    assert old == sorted(set(old)), "out of order or twice"

    time.sleep(max(0.0, 10 - (now() - back)))
    assert subscribers.eval("cp.first('new')") is None, "without keepalive the SUB found it too"
    assert subscribers.eval(f"plain.{broken}") == 0
    assert subscribers.eval(f"plain_sink.{current}") == 1, "without keepalive it is kept"
    print(
        f"power cut: dead connection found after {found:.1f} s with keepalive; the new "
        f"publisher heard {took:.1f} s after the host came back"
    )


def test_host_return_found_with_connect_timeout(network: Network) -> None:
    """The publisher's process ends (both SUBs reconnect, refused at once), then its host
    drops off the network for 16 s: a connection attempt now waits for SYN answers that
    never come. With connect_timeout 1 s the SUB gives each attempt up after 1 s and tries
    again, and receives within 10 s of the host's return (about 1 s). Without it the attempt
    under way waits for its next SYN retransmission, 31 s after it began on the classic
    schedule (1, 3, 7, 15, 31 s: net.ipv4.tcp_syn_linear_timeouts 0, as before Linux 6.5,
    set on the SUBs' host here so that the figures do not depend on the machine's kernel):
    nothing within 10 s of the return."""
    a, b = network.host("a"), network.host("b")
    b.sysctl("net.ipv4.tcp_syn_linear_timeouts", 0)
    b.sysctl("net.ipv4.tcp_syn_retries", 6)
    publisher, subscribers = process(a), process(b)
    publisher.call(
        f"pub = nn.Socket('pub'); pub.bind('{a.address(PORT)}'); p = Publisher(pub, 'old', 0.05)"
    )
    subscribers.call(
        "timed = nn.Socket('sub'); timed.connect_timeout = 1000; "
        "plain = nn.Socket('sub')\n"
        "for s in (timed, plain):\n"
        "    s.reconnect_ivl = 100\n"
        f"    s.subscribe(b''); s.connect('{a.address(PORT)}')\n"
        "ct, cp = Collector(timed), Collector(plain)"
    )
    time_until(
        "both subscribers", lambda: subscribers.eval("min(len(ct.got), len(cp.got))") >= 5, 10
    )

    publisher.kill()
    time.sleep(0.5)  # connection refused, and again, every 100 ms
    a.cut()
    time.sleep(16)
    new = process(a)  # started while off the network
    new.call(
        f"pub = nn.Socket('pub'); pub.bind('{a.address(PORT)}'); p = Publisher(pub, 'new', 0.05)"
    )
    a.mend()
    back = now()
    took = time_until(
        "the timed SUB hears the new publisher",
        lambda: subscribers.eval("ct.first('new')") is not None,
        10,
    )
    errors = subscribers.eval("timed.statistic(nn.Statistic.CONNECT_ERRORS)")
    assert errors >= 10, f"{errors} connect errors in 16 s with connect_timeout 1 s"
    time.sleep(max(0.0, 10 - (now() - back)))
    assert subscribers.eval("cp.first('new')") is None, (
        "without connect_timeout the SUB was back within 10 s"
    )
    # late, not never: the SYN retransmission 31 s into the attempt (15 s after the return)
    late = 10 + time_until(
        "the plain SUB, late", lambda: subscribers.eval("cp.first('new')") is not None, 15
    )
    print(
        f"host return: heard {took:.1f} s after it with connect_timeout 1 s ({errors} connect "
        f"errors while off), {late:.1f} s after it without"
    )


# -- a device, surveys, a slow subscriber ------------------------------------------------------


def test_device_between_hosts(network: Network) -> None:
    """Clients on one host, a REQ/REP device on a second, a worker on a third: requests cross
    the device both ways, and one made while the worker's host is cut off is answered once
    it is back."""
    a, b, c = network.host("a"), network.host("b"), network.host("c")
    client, broker, worker = process(a), process(b), process(c)
    broker.call(
        "front = nn.Socket('rep', 'sp-raw'); back = nn.Socket('req', 'sp-raw'); "
        f"front.bind('{b.address(PORT)}'); back.bind('{b.address(PORT + 1)}'); "
        "background(nn.device, front, back)"
    )
    worker.call(
        f"rep = nn.Socket('rep'); rep.connect('{b.address(PORT + 1)}'); served = serve(rep, 'c')"
    )
    client.call(
        f"req = nn.Socket('req'); req.req_resend_ivl = 1000; req.connect('{b.address(PORT)}'); "
        "k = Call(req, b'q0')"
    )
    time_until("the first answer", lambda: client.eval("k.reply") == "c:q0", 10)

    c.cut()
    client.call("k = Call(req, b'q1')")
    time.sleep(3)
    assert client.eval("k.reply") is None
    c.mend()
    time_until("the answer after the cut", lambda: client.eval("k.reply") is not None, 10)
    assert client.eval("k.reply") == "c:q1"


def test_surveys_across_hosts(network: Network) -> None:
    """A surveyor and three respondents on hosts of their own: a survey hears all three; with
    one cut off it hears the other two and ends at its deadline, not later; once the link is
    back a survey hears all three again."""
    s, *rs = (network.host(n) for n in ("s", "r1", "r2", "r3"))
    surveyor = process(s)
    surveyor.call(
        f"sv = nn.Socket('surveyor'); sv.surveyor_deadline = 500; sv.bind('{s.address(PORT)}')\n"
        "def survey():\n"
        "    sv.send(b'who')\n"
        "    heard = []\n"
        "    while True:\n"
        "        try:\n"
        "            heard.append(sv.recv().decode())\n"
        "        except nn.Timeout:\n"
        "            return sorted(heard)\n"
    )
    for r in rs:
        process(r).call(
            f"rp = nn.Socket('respondent'); rp.connect('{s.address(PORT)}'); "
            f"served = serve(rp, '{r.name}')"
        )
    everyone = ["r1:who", "r2:who", "r3:who"]
    time_until("a survey heard by all three", lambda: surveyor.eval("survey()") == everyone, 10, 0)

    rs[2].cut()
    started = now()
    assert surveyor.eval("survey()") == everyone[:2]
    assert now() - started < 0.5 + 1.0, "the survey outlasted its deadline"
    time.sleep(1)
    rs[2].mend()
    # the answers to the surveys sent meanwhile come late, and are dropped as stale
    time_until(
        "a survey heard by all three again", lambda: surveyor.eval("survey()") == everyone, 15, 0
    )


def test_a_slow_subscriber_stalls_no_one(network: Network) -> None:
    """One subscriber behind a link of 1 Mbit/s, another on a fast one: the publisher sends
    20 MB in 5,000 messages of 4 kB (10 MB/s) without waiting, the fast subscriber gets nearly
    all of them (90 %: a PUB drops what a busy connection cannot take, the fast one's too, for
    a moment when its process is not scheduled), the slow one what its link carries, in
    order; and the publisher's memory does not grow with what the slow one has not taken (a
    PUB drops a message for a subscriber whose connection is busy, it never queues it)."""
    a, fast_host, slow_host = network.host("a"), network.host("fast"), network.host("slow")
    slow_host.limit("1mbit")
    publisher, fast, slow = process(a), process(fast_host), process(slow_host)
    publisher.call(f"pub = nn.Socket('pub'); pub.bind('{a.address(PORT)}')")
    for p in (fast, slow):
        p.call(subscribe(a.address(PORT)))
    # both connected (a message each), the publisher's memory measured after it
    publisher.call("warm = Publisher(pub, 'warm', 0.05)")
    time_until(
        "both subscribers",
        lambda: fast.eval("len(c.got)") >= 1 and slow.eval("len(c.got)") >= 1,
        10,
    )
    publisher.call("warm.stopped = True")
    time.sleep(0.5)
    before = publisher.rss()

    publisher.call("p = Publisher(pub, 'm', 0.004, size=4096, count=5000, burst=10)")
    time_until("the publisher done", lambda: publisher.eval("p.done") is not None, 20)
    took = publisher.eval("p.done - p.started")
    grown = publisher.rss() - before
    time.sleep(1)
    got_fast = fast.eval("c.numbers('m')")
    got_slow = slow.eval("c.numbers('m')")
    assert took < 5, f"publishing took {took:.1f} s: something waited"
    assert len(got_fast) >= 4500, f"the fast subscriber got {len(got_fast)} of 5000"
    assert 0 < len(got_slow) < len(got_fast) / 4, f"the slow subscriber got {len(got_slow)}"
    for got in (got_fast, got_slow):
        assert got == sorted(set(got)), "out of order or twice"
    assert grown < 8 << 20, f"the publisher grew by {grown >> 20} MiB for 20 MB published"
    print(
        f"slow subscriber: published 5000 x 4 kB in {took:.1f} s; fast got {len(got_fast)}, "
        f"slow {len(got_slow)}; publisher grew {grown >> 10} KiB"
    )
