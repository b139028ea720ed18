"""Scale: one server socket with thousands of TCP peers on other hosts, for REP, PULL and PUB,
nanomsg_rs beside pyzmq in the same run.

This is the ``scale`` workload of ``run.py`` (``make bench``, or ``run.py --only scale``). It
needs root (the hosts are network namespaces on a bridge, made by ``tests/netns.py``); without
root it is left out with a note. It runs on its own too:

    sudo python benchmarks/bench_scale.py [--sizes 1000,3000,10000] [--json F] [--plot F]

The server runs in a process of its own on host ``srv``; the peers in ``PROCS_PER_HOST``
processes on each of ``PEER_HOSTS`` other hosts, each process holding its share of the N
connecting sockets (nanomsg_rs peers for the nanomsg_rs server, zmq peers for the zmq one:
real libraries at both ends). Real sockets are cheap enough here (measured: 2,500 connecting
nanomsg_rs sockets in one process took 0.3 s to make and about 12 KiB and 5 descriptors each,
both ends of the connection counted), so 10,000 take 4 x 2 processes well under a second
each, within ``nn.MAX_SOCKETS`` and the descriptor limit; raw TCP peers speaking the SP
handshake would save a little of the peers' CPU and test less of the library. Every
process raises ``RLIMIT_NOFILE`` as far as it may (the hard limit; as root with
CAP_SYS_RESOURCE, 65,536). For each library, pattern and N (the libraries alternate within
each N and pattern, so both see the same machine), a fresh server process:

* connections: every peer process connects its sockets at once; the server counts the
  accepted connections (nanomsg_rs: ``Statistic.ACCEPTED_CONNECTIONS``; zmq: its monitor's
  ``EVENT_ACCEPTED``): **accepted/s** is N over the time from the first accept to the Nth.
  Both libraries listen with a backlog of 100 (nanomsg's fixed one, zmq's default), so when
  thousands connect at once the kernel drops SYNs that peers resend a second later: the rate
  is the server's and its kernel's together, as a real server's would be;
* **memory per connection**: the server's RSS once all are connected (and half a second
  later), less its RSS with the bound socket and no connection, over N;
* REP: every peer sends one request and checks its reply (the echo of its own request), all
  at once (**served/s**: N over the time until the last reply); then, with all N connected,
  16 sockets of each peer process make 10 round trips each, one after another (8 processes
  at a time): **round-trip latency p50/p99**;
* PULL: every peer pushes ``100,000 / N`` messages of 64 B (at least 10) as fast as it can:
  **messages/s** at the server, from the first to the last, and none may be lost;
* PUB: once every SUB has had a warm-up message (zmq's subscriptions travel to the PUB),
  5 messages, 0.3 s apart, each carrying its send time (``time.monotonic``, one clock in
  every namespace): the **delivery delay** of each message to each SUB (p50/p99), and the
  time it takes one message to reach **all** N (the median over the 5 of the slowest SUB).

The figures are one run's, on whatever machine ran it: the peers share its cores with the
server, so they measure the pair, and on a loaded machine they are noisy.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "tests"))
import netns  # noqa: E402  (tests/netns.py: hosts as network namespaces)

WORKLOAD = "scale"
LIBS = ("nanomsg_rs", "pyzmq")
PATTERNS = ("rep", "pull", "pub")
SIZES = (1000, 3000, 10000)
QUICK_SIZES = (200, 1000)
PEER_HOSTS = 4
PROCS_PER_HOST = 2
FIRST_PORT = 7100
#: Round trips of the REP latency sample: sockets per peer process, trips per socket.
RTT_SOCKETS, RTT_TRIPS = 16, 10
#: PULL: about this many messages in all (at least PULL_MIN per peer), of PULL_SIZE bytes.
PULL_TOTAL, PULL_MIN, PULL_SIZE = 100_000, 10, 64
#: PUB: messages timed, and the pause between them.
PUB_MESSAGES, PUB_GAP = 5, 0.3
#: What a stage may take before the run gives up on it.
STAGE_TIMEOUT = 120.0
REQUIREMENTS_HINT = "pip install -r benchmarks/requirements.txt"
#: The scale figures' record when results.json has none (a run of this workload alone:
#: ``run.py --only scale --json benchmarks/results-scale.json``): see :func:`record_of`.
SCALE_RECORD = BENCH_DIR / "results-scale.json"

# Given to every process first (the agent of tests/netns.py has nn, os, threading, time and
# its TOOLS: background, raise_nofile, serve).
COMMON = r"""
nofile = raise_nofile()

def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

def listen_drops():
    '''TcpExt ListenDrops of this network namespace: SYNs and handshakes a listener
    dropped, its backlog full (ListenOverflows are among them); the peer resends later.'''
    with open('/proc/self/net/netstat') as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith('TcpExt:'):
            table = dict(zip(names.split()[1:], map(int, values.split()[1:])))
            return table.get('ListenDrops', 0)
    return 0

def zmq_context(sockets):
    import zmq
    ctx = zmq.Context()
    ctx.max_sockets = sockets + 64
    return ctx
"""

SERVER = r"""
class Server:
    '''One socket bound on address, for expect peers; counts accepted connections (first
    and last time), serves REP and PULL in a thread; publishes on PUB when told.'''
    def __init__(self, lib, kind, address, expect):
        self.lib, self.kind, self.expect = lib, kind, expect
        self.first = self.all = None
        self.accepted = 0
        self.served = self.messages = 0
        self.first_message = self.last_message = None
        self.stopped = False
        self.threads = []
        if lib == 'pyzmq':
            import zmq
            self.zmq = zmq
            self.ctx = zmq_context(4)
            self.sock = self.ctx.socket(getattr(zmq, kind.upper()))
            self.sock.linger = 0
            self.monitor = self.sock.get_monitor_socket(zmq.EVENT_ACCEPTED)
            self.sock.bind(address)
            self.threads.append(background(self.watch_zmq))
        else:
            self.sock = nn.Socket(kind)
            self.sock.bind(address)
            self.threads.append(background(self.watch_nn))
        time.sleep(0.2)
        self.rss0 = rss()
        if kind in ('rep', 'pull'):
            self.threads.append(background(self.serve))

    def seen(self, count):
        now = time.monotonic()
        if count and self.first is None:
            self.first = now
        self.accepted = count
        if count >= self.expect and self.all is None:
            self.all = now

    def watch_nn(self):
        while self.all is None and not self.stopped:
            self.seen(self.sock.statistic(nn.Statistic.ACCEPTED_CONNECTIONS))
            time.sleep(0.002)

    def watch_zmq(self):
        from zmq.utils.monitor import recv_monitor_message
        count = 0
        while self.all is None and not self.stopped:
            if self.monitor.poll(100):
                event = recv_monitor_message(self.monitor)
                if event['event'] == self.zmq.EVENT_ACCEPTED:
                    count += 1
                    self.seen(count)

    def got(self):
        now = time.monotonic()
        if self.first_message is None:
            self.first_message = now
        self.last_message = now
        self.messages += 1

    def serve(self):
        sock, rep = self.sock, self.kind == 'rep'
        if self.lib == 'pyzmq':
            while not self.stopped:
                if not sock.poll(200):
                    continue
                m = sock.recv()
                if rep:
                    sock.send(m)
                    self.served += 1
                else:
                    self.got()
        else:
            sock.rcvtimeo = 200
            while not self.stopped:
                try:
                    m = sock.recv()
                except nn.Timeout:
                    continue
                if rep:
                    sock.send(m)
                    self.served += 1
                else:
                    self.got()

    def publish(self, tag):
        self.sock.send(tag + b' ' + repr(time.monotonic()).encode())

    def state(self):
        return {'first': self.first, 'all': self.all, 'accepted': self.accepted,
                'rss': rss(), 'rss0': self.rss0, 'served': self.served,
                'messages': self.messages, 'first_message': self.first_message,
                'last_message': self.last_message, 'nofile': nofile, 'drops': listen_drops()}

    def close(self):
        self.stopped = True
        for t in self.threads:
            t.join(5)
        if self.lib == 'pyzmq':
            self.sock.disable_monitor()
            self.monitor.close(0)
            self.sock.close(0)
            self.ctx.term()
        else:
            self.sock.close()
"""

PEERS = r"""
class Peers:
    '''count sockets of kind (req, push, sub), each connected to address.'''
    def __init__(self, lib, kind, address, count):
        self.lib, self.kind, self.socks, self.got = lib, kind, [], []
        self.stopped, self.thread = False, None
        self.started = time.monotonic()
        if lib == 'pyzmq':
            import zmq
            self.zmq = zmq
            self.ctx = zmq_context(count)
            for i in range(count):
                s = self.ctx.socket(getattr(zmq, kind.upper()))
                s.linger = 0
                s.rcvtimeo = 60000
                if kind == 'sub':
                    s.setsockopt(zmq.SUBSCRIBE, b'')
                s.connect(address)
                self.socks.append(s)
        else:
            for i in range(count):
                s = nn.Socket(kind)
                s.rcvtimeo = 60000
                if kind == 'sub':
                    s.subscribe(b'')
                s.connect(address)
                self.socks.append(s)
        self.made = time.monotonic()

    def request_all(self):
        '''Every socket sends its request, then takes its reply: [start, end, wrong].'''
        start = time.monotonic()
        for i, s in enumerate(self.socks):
            s.send(b'%d' % i)
        wrong = sum(s.recv() != b'%d' % i for i, s in enumerate(self.socks))
        return [start, time.monotonic(), wrong]

    def round_trips(self, sockets, trips):
        out = []
        for s in self.socks[:sockets]:
            for _ in range(trips):
                t = time.perf_counter()
                s.send(b'ping')
                s.recv()
                out.append(time.perf_counter() - t)
        return out

    def push(self, each, size):
        body = b'x' * size
        start = time.monotonic()
        for _ in range(each):
            for s in self.socks:
                s.send(body)
        return [start, time.monotonic()]

    def listen(self):
        self.thread = background(self.listen_zmq if self.lib == 'pyzmq' else self.listen_nn)

    def listen_nn(self):
        items = [(s, nn.POLLIN) for s in self.socks]
        while not self.stopped:
            ready = nn.poll(items, 100)
            now = time.monotonic()
            for i, events in enumerate(ready):
                if events & nn.POLLIN:
                    while True:
                        try:
                            m = self.socks[i].recv(block=False)
                        except nn.Again:
                            break
                        self.got.append((i, now, m))

    def listen_zmq(self):
        zmq = self.zmq
        poller = zmq.Poller()
        index = {}
        for i, s in enumerate(self.socks):
            poller.register(s, zmq.POLLIN)
            index[s] = i
        while not self.stopped:
            ready = poller.poll(100)
            now = time.monotonic()
            for s, _ in ready:
                while True:
                    try:
                        m = s.recv(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.got.append((index[s], now, m))

    def warm(self):
        return len({i for i, _, m in list(self.got) if m.startswith(b'w ')})

    def delays(self):
        '''[message number, sub, delay] of every timed message received.'''
        out = []
        for i, at, m in list(self.got):
            if m.startswith(b'm'):
                tag, sent = m.split(b' ')
                out.append([int(tag[1:]), i, at - float(sent)])
        return out

    def close(self):
        self.stopped = True
        if self.thread is not None:
            self.thread.join(5)
        for s in self.socks:
            s.close()
        if self.lib == 'pyzmq':
            self.ctx.term()
        self.socks = []
"""


def unavailable() -> str | None:
    """Why the scale workload cannot run here (its note), or None."""
    why = netns.unavailable()
    if why:
        return f"scale left out: its hosts are network namespaces, which need root: {why}"
    return None


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def wait_for(what: str, check: Callable[[], bool], timeout: float, step: float = 0.05) -> None:
    netns.time_until(what, check, timeout, step)


class Lab:
    """The hosts: ``srv`` for the server, ``PEER_HOSTS`` more with ``PROCS_PER_HOST`` peer
    processes each, on one bridge."""

    def __init__(self, network: netns.Network, peer_hosts: int, procs_per_host: int) -> None:
        self.network = network
        self.server_host = network.host("srv")
        self.procs_per_host = procs_per_host
        self.hosts: list[netns.Host] = []
        self.peers: list[netns.Process] = []
        for h in range(peer_hosts):
            host = network.host(f"h{h + 1}")
            # thousands of connections from one host, made and closed run after run
            host.sysctl("net.ipv4.ip_local_port_range", "1024 65000")
            host.sysctl("net.ipv4.tcp_tw_reuse", 1)
            self.hosts.append(host)
        self.spawn_peers()
        self.port = FIRST_PORT

    def spawn_peers(self) -> None:
        """New peer processes, in place of any there were (after a failed run, whose
        processes may still be busy or hold sockets)."""
        for p in self.peers:
            p.kill()
            p.host.processes.remove(p)
        self.peers = []
        for host in self.hosts:
            for _ in range(self.procs_per_host):
                p = host.spawn()
                p.call(COMMON + PEERS, timeout=30)
                self.peers.append(p)

    def server(self, lib: str, kind: str, expect: int) -> tuple[netns.Process, str]:
        """A fresh server process with its socket bound; and the peers' address."""
        self.port += 1
        p = self.server_host.spawn()
        p.call(COMMON + SERVER, timeout=30)
        p.call(f"srv = Server({lib!r}, {kind!r}, 'tcp://0.0.0.0:{self.port}', {expect})", 30)
        return p, self.server_host.address(self.port)

    def end_server(self, p: netns.Process) -> None:
        try:
            p.call("srv.close()", timeout=30)
        finally:
            p.kill()
            self.server_host.processes.remove(p)


@contextmanager
def lab(peer_hosts: int = PEER_HOSTS, procs_per_host: int = PROCS_PER_HOST) -> Iterator[Lab]:
    """The hosts for a run, removed at the end whatever happened."""
    network = netns.Network()
    try:
        yield Lab(network, peer_hosts, procs_per_host)
    finally:
        network.close()


PEER_KIND = {"rep": "req", "pull": "push", "pub": "sub"}


def run_one(the_lab: Lab, lib: str, pattern: str, n: int, quick: bool) -> dict[str, Any]:
    """One measurement: a fresh server of ``lib`` for ``pattern`` and ``n`` peers."""
    peers = the_lab.peers
    server, address = the_lab.server(lib, pattern, n)
    record: dict[str, Any] = {"lib": lib, "pattern": pattern, "connections": n}
    try:
        counts = netns.shares(n, len(peers))
        kind = PEER_KIND[pattern]
        drops = server.eval("listen_drops()")
        go = time.monotonic()
        made = netns.call_all(
            peers,
            [
                f"peers = Peers({lib!r}, {kind!r}, {address!r}, {c}); result = peers.made"
                for c in counts
            ],
            STAGE_TIMEOUT,
        )
        state: dict[str, Any] = {}

        def connected() -> bool:
            state.update(server.eval("srv.state()"))
            return state["all"] is not None

        wait_for(f"{lib} {pattern}: {n} connections accepted", connected, STAGE_TIMEOUT, 0.1)
        time.sleep(0.5)  # the handshakes after the last accept
        state.update(server.eval("srv.state()"))
        record.update(
            accepted_per_s=n / max(state["all"] - state["first"], 1e-6),
            connect_s=state["all"] - go,
            peers_made_s=max(made) - go,
            rss_per_conn_kib=(state["rss"] - state["rss0"]) / n / 1024,
            server_nofile=state["nofile"],
            listen_drops=state["drops"] - drops,
        )
        if pattern == "rep":
            record.update(rep(server, peers, n, quick))
        elif pattern == "pull":
            record.update(pull(server, peers, n, quick))
        else:
            record.update(pub(server, peers, n))
        state.update(server.eval("srv.state()"))
        record["rss_after_per_conn_kib"] = (state["rss"] - state["rss0"]) / n / 1024
    except BaseException:
        the_lab.spawn_peers()  # whatever state the old ones were left in
        the_lab.end_server(server)
        raise
    start = time.monotonic()
    try:
        netns.call_all(peers, ["peers.close(); del peers"] * len(peers), STAGE_TIMEOUT)
    except BaseException:
        the_lab.spawn_peers()
        raise
    finally:
        the_lab.end_server(server)
    record["close_s"] = time.monotonic() - start
    return record


def rep(server: netns.Process, peers: list[netns.Process], n: int, quick: bool) -> dict[str, Any]:
    """Every REQ served once, then the round-trip sample."""
    cpu = server.eval("time.process_time()")
    done = netns.call_all(peers, ["result = peers.request_all()"] * len(peers), STAGE_TIMEOUT)
    cpu = server.eval("time.process_time()") - cpu
    wrong = sum(d[2] for d in done)
    served_s = max(d[1] for d in done) - min(d[0] for d in done)
    trips = 3 if quick else RTT_TRIPS
    samples = netns.call_all(
        peers, [f"result = peers.round_trips({RTT_SOCKETS}, {trips})"] * len(peers), STAGE_TIMEOUT
    )
    rtts = [x for s in samples for x in s]
    return {
        "served_per_s": n / max(served_s, 1e-6),
        "server_cpu_us": cpu / n * 1e6,
        "wrong_replies": wrong,
        "rtt_p50_us": percentile(rtts, 50) * 1e6,
        "rtt_p99_us": percentile(rtts, 99) * 1e6,
        "rtt_samples": len(rtts),
    }


def pull(server: netns.Process, peers: list[netns.Process], n: int, quick: bool) -> dict[str, Any]:
    """Every PUSH sends its share; the PULL counts them."""
    each = max(PULL_MIN, (PULL_TOTAL // 5 if quick else PULL_TOTAL) // n)
    total = each * n
    cpu = server.eval("time.process_time()")
    sent = netns.call_all(
        peers, [f"result = peers.push({each}, {PULL_SIZE})"] * len(peers), STAGE_TIMEOUT
    )
    state: dict[str, Any] = {}

    def all_in() -> bool:
        state.update(server.eval("srv.state()"))
        return bool(state["messages"] >= total)

    try:
        wait_for(f"PULL: {total} messages", all_in, 30, 0.1)
    except AssertionError:
        pass  # the loss is the figure
    cpu = server.eval("time.process_time()") - cpu
    span = (state["last_message"] or 0) - (state["first_message"] or 0)
    return {
        "peers_send_s": max(s[1] for s in sent) - min(s[0] for s in sent),
        "receive_s": span,
        "server_cpu_us": cpu / max(state["messages"], 1) * 1e6,
        "messages": total,
        "lost": total - state["messages"],
        "messages_per_s": state["messages"] / max(span, 1e-6),
    }


def pub(server: netns.Process, peers: list[netns.Process], n: int) -> dict[str, Any]:
    """Warm-up messages until every SUB has one, then the timed ones."""
    netns.call_all(peers, ["peers.listen()"] * len(peers), 30)

    def warm() -> bool:
        server.call("srv.publish(b'w')")
        return sum(netns.call_all(peers, ["result = peers.warm()"] * len(peers), 30)) >= n

    wait_for(f"PUB: a warm-up message at every one of {n} SUBs", warm, STAGE_TIMEOUT, 0.2)
    time.sleep(0.5)
    cpu = server.eval("time.process_time()")
    for k in range(PUB_MESSAGES):
        server.call(f"srv.publish(b'm{k}')")
        time.sleep(PUB_GAP)
    time.sleep(0.5)  # the last sends leave the server
    cpu = server.eval("time.process_time()") - cpu
    got: list[list[Any]] = []

    def arrived() -> bool:
        got[:] = [d for ds in netns.call_all(peers, ["result = peers.delays()"] * len(peers), 30)
                  for d in ds]  # fmt: skip
        return len(got) >= n * PUB_MESSAGES

    try:
        wait_for("PUB: every timed message at every SUB", arrived, 20, 0.2)
    except AssertionError:
        pass  # the loss is the figure
    delays = [d[2] for d in got]
    slowest = []
    for k in range(PUB_MESSAGES):
        mine = [d[2] for d in got if d[0] == k]
        if len(mine) == n:
            slowest.append(max(mine))
    return {
        "messages": n * PUB_MESSAGES,
        "server_cpu_us": cpu / (n * PUB_MESSAGES) * 1e6,
        "lost": n * PUB_MESSAGES - len(got),
        "delivery_p50_ms": percentile(delays, 50) * 1e3 if delays else None,
        "delivery_p99_ms": percentile(delays, 99) * 1e3 if delays else None,
        "reach_all_ms": statistics.median(slowest) * 1e3 if slowest else None,
    }


def available_libs(notes: list[str]) -> list[str]:
    """nanomsg_rs, and pyzmq when it imports (a note otherwise)."""
    try:
        import zmq  # noqa: F401
    except ImportError as exc:
        notes.append(f"scale: pyzmq left out: it does not import ({exc}); {REQUIREMENTS_HINT}")
        return ["nanomsg_rs"]
    return list(LIBS)


def measure_scale(
    sizes: tuple[int, ...],
    notes: list[str],
    progress: Callable[[str], None],
    quick: bool = False,
    patterns: tuple[str, ...] = PATTERNS,
) -> list[dict[str, Any]]:
    """Every library, pattern and size once; a record each (empty, with a note, without
    root)."""
    why = unavailable()
    if why:
        notes.append(why)
        return []
    libs = available_libs(notes)
    records = []
    with lab() as the_lab:
        for n in sizes:
            for pattern in patterns:
                for lib in libs if (n + len(pattern)) % 2 else libs[::-1]:
                    progress(f"[{WORKLOAD}] {lib} {pattern.upper()} with {n} peers")
                    started = time.monotonic()
                    try:
                        record = run_one(the_lab, lib, pattern, n, quick)
                    except (AssertionError, TimeoutError, netns.HostError) as exc:
                        first = str(exc).strip().splitlines()
                        notes.append(
                            f"scale: {lib} {pattern} with {n} peers failed: "
                            f"{first[-1] if first else type(exc).__name__}"
                        )
                        continue
                    record["took_s"] = time.monotonic() - started
                    records.append(record)
    return records


# -- report ------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.{digits}f}"


COLUMNS = {
    "rep": ("served/s", "rtt p50 µs", "rtt p99 µs"),
    "pull": ("msgs/s", "lost", "send/recv s"),
    "pub": ("p50 ms", "p99 ms", "all ms"),
}


def _cells(r: dict[str, Any]) -> tuple[str, str, str]:
    if r["pattern"] == "rep":
        bad = f" ({r['wrong_replies']} wrong)" if r.get("wrong_replies") else ""
        return (
            _fmt(r["served_per_s"]) + bad,
            _fmt(r["rtt_p50_us"]),
            _fmt(r["rtt_p99_us"]),
        )
    if r["pattern"] == "pull":
        spans = "-"
        if r.get("peers_send_s") is not None:
            spans = f"{r['peers_send_s']:.2f}/{r['receive_s']:.2f}"
        return _fmt(r["messages_per_s"]), str(r["lost"]), spans
    lost = f" ({r['lost']} lost)" if r.get("lost") else ""
    return (
        _fmt(r["delivery_p50_ms"], 1),
        _fmt(r["delivery_p99_ms"], 1),
        _fmt(r["reach_all_ms"], 1) + lost,
    )


def load_text(mach: dict[str, Any]) -> str:
    """The 1-minute load average at the start and at the end."""
    start, end = mach.get("loadavg_start"), mach.get("loadavg_end")
    text = f"{start[0]:.2f}" if start else "?"
    return text + (f", at the end {end[0]:.2f}" if end else "")


def after_text(r: dict[str, Any]) -> str:
    after = r.get("rss_after_per_conn_kib")
    return "-" if after is None else f"{after:.1f}"


def cpu_text(r: dict[str, Any]) -> str:
    cpu = r.get("server_cpu_us")
    return "-" if cpu is None else f"{cpu:.1f}"


def table(records: list[dict[str, Any]], meta: dict[str, Any] | None = None) -> str:
    """The scale block of the text report."""
    lines = [
        "scale: one server socket, N TCP peers on 4 other hosts (network namespaces), "
        "a fresh server per row",
        "  accept/s: connections accepted a second (first to Nth, seen by the server; all N "
        "connect at once, backlog 100);",
        "  drops: SYNs the full backlog dropped (each peer resends 1 s later); "
        "KiB/conn: server RSS growth / N (after: once the traffic is over)",
        "  cpu µs: the server process's CPU time (all its threads) per request served, message "
        "received, or message delivered to one SUB",
        "  REP: served/s (every peer's request at once), round trips p50/p99 with all N "
        "connected; PULL: messages/s, the peers' time to send them / the server's to receive;",
        "  PUB: delivery delay p50/p99 of a message to each SUB, and until it reached all N "
        "(median of 5)",
    ]
    if meta:
        mach = meta.get("machine", {})
        lines.append(
            f"  {meta.get('date', '')}, {mach.get('cores', '?')} cores, load at start "
            f"{load_text(mach)}: one run, noisy on a shared machine"
        )
    lines.append("")
    for pattern in PATTERNS:
        rows = [r for r in records if r["pattern"] == pattern]
        if not rows:
            continue
        c1, c2, c3 = COLUMNS[pattern]
        lines.append(f"  {pattern.upper()}")
        lines.append(
            f"  {'N':>6} {'library':<11} {'accept/s':>9} {'drops':>6} {'KiB/conn':>9} "
            f"{'after':>6} {'cpu µs':>7} {c1:>10} {c2:>11} {c3:>11}"
        )
        for r in sorted(rows, key=lambda r: (r["connections"], LIBS.index(r["lib"]))):
            a, b, c = _cells(r)
            lines.append(
                f"  {r['connections']:>6} {r['lib']:<11} {_fmt(r['accepted_per_s']):>9} "
                f"{r.get('listen_drops', '-'):>6} "
                f"{r['rss_per_conn_kib']:>9.1f} {after_text(r):>6} {cpu_text(r):>7} "
                f"{a:>10} {b:>11} {c:>11}".rstrip()
            )
        lines.append("")
    return "\n".join(lines)


def markdown(
    records: list[dict[str, Any]], meta: dict[str, Any], image: str | None = None
) -> list[str]:
    """The scale table as markdown (README's ``<!-- bench:scale -->`` block)."""
    mach = meta.get("machine", {})
    out = [
        f"Measured by `{meta.get('command', 'benchmarks/run.py --only scale')}` on "
        f"{meta.get('date', '?')[:10]} at commit `{mach.get('commit', '?')}`, "
        f"{mach.get('cores', '?')} cores, 1-minute load {load_text(mach)}; one run, as root "
        "(hosts as network namespaces), every peer on the same machine as the server.",
        "",
        "accepted/s: connections accepted a second, first to Nth, all peers connecting at once "
        "to a listener with a backlog of 100; drops: SYNs dropped at the full backlog (resent "
        "a second later); KiB/conn: the server's RSS growth over N once connected (after: once "
        "the traffic is over); cpu µs: the server "
        "process's CPU time per request served, message received or message delivered to one "
        "SUB; "
        "REP: served/s with every peer's request at once, then round trips (p50/p99, µs) "
        "with all N connected; PULL: messages/s of 64 B from all N, the peers' time to send "
        "them and the server's to receive them (s); PUB: delivery delay of a "
        "message to each SUB (p50/p99, ms) and until it reached all N (ms).",
        "",
        "| pattern | N | library | accepted/s | drops | KiB/conn | after | cpu µs | figures |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for pattern in PATTERNS:
        rows = [r for r in records if r["pattern"] == pattern]
        for r in sorted(rows, key=lambda r: (r["connections"], LIBS.index(r["lib"]))):
            a, b, c = _cells(r)
            names = COLUMNS[pattern]
            figures = ", ".join(f"{n} {v}" for n, v in zip(names, (a, b, c), strict=True) if n)
            out.append(
                f"| {pattern.upper()} | {r['connections']:,} | {r['lib']} | "
                f"{_fmt(r['accepted_per_s'])} | {r.get('listen_drops', '-')} | "
                f"{r['rss_per_conn_kib']:.1f} | {after_text(r)} | {cpu_text(r)} | {figures} |"
            )
    if image:
        out += ["", f"![scale]({image})"]
    return out


def record_of(data: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """The scale records and their run's meta: ``data``'s (a run with the scale workload),
    else :data:`SCALE_RECORD`'s; None without either."""
    if data.get("scale"):
        return data["scale"], data["meta"]
    if SCALE_RECORD.exists():
        saved = json.loads(SCALE_RECORD.read_text())
        if saved.get("scale"):
            return saved["scale"], saved["meta"]
    return None


def largest(records: list[dict[str, Any]], lib: str, pattern: str) -> dict[str, Any] | None:
    """The row of ``lib`` and ``pattern`` with the most connections."""
    rows = [r for r in records if r["lib"] == lib and r["pattern"] == pattern]
    return max(rows, key=lambda r: r["connections"]) if rows else None


def rst_block(records: list[dict[str, Any]], meta: dict[str, Any]) -> list[str]:
    """The docs' scale block (docs/across-hosts.rst): what was measured where, a summary at
    the largest N, and the table."""
    mach = meta.get("machine", {})
    lines = [
        f"Measured on {meta.get('date', '?')[:10]} (commit ``{mach.get('commit', '?')}``) by "
        f"``{meta.get('command', 'benchmarks/run.py --only scale')}`` as root, on "
        f"{mach.get('cores', '?')} cores shared with other work (1-minute load "
        f"{load_text(mach)}), server and peers on the same machine: one run, noisy.",
        "",
    ]
    ours, theirs = largest(records, "nanomsg_rs", "rep"), largest(records, "pyzmq", "rep")
    if ours and theirs:
        n = ours["connections"]
        lines += [
            f"With {n:,} peers: {ours['rss_per_conn_kib']:.1f} KiB of server memory per "
            f"connection for nanomsg_rs, {theirs['rss_per_conn_kib']:.1f} KiB for pyzmq; all "
            f"{n:,} connected in {ours['connect_s']:.1f} s and {theirs['connect_s']:.1f} s "
            "(REP rows, every peer connecting at once).",
            "",
        ]
    header = ["pattern", "N", "library", "accepted a second", "SYNs dropped", "KiB per conn",
              "KiB after", "server CPU µs", "figures"]  # fmt: skip
    lines += [".. list-table::", "   :header-rows: 1", ""]
    rows = [header]
    for pattern in PATTERNS:
        for r in sorted(
            (r for r in records if r["pattern"] == pattern),
            key=lambda r: (r["connections"], LIBS.index(r["lib"])),
        ):
            a, b, c = _cells(r)
            names = COLUMNS[pattern]
            figures = ", ".join(f"{n} {v}" for n, v in zip(names, (a, b, c), strict=True) if n)
            rows.append(
                [
                    pattern.upper(),
                    f"{r['connections']:,}",
                    r["lib"],
                    _fmt(r["accepted_per_s"]),
                    str(r.get("listen_drops", "-")),
                    f"{r['rss_per_conn_kib']:.1f}",
                    after_text(r),
                    cpu_text(r),
                    figures,
                ]
            )
    for row in rows:
        for i, cell in enumerate(row):
            lines.append(f"{'   * -' if i == 0 else '     -'} {cell}".rstrip())
    return lines


def block(data: dict[str, Any], kind: str, where: Path, root: Path) -> str | None:
    """The body of a ``bench:scale`` block in a markdown (``kind`` "md") or rst file in the
    folder ``where`` of the tree ``root``, as :func:`record_of` gives it; None without a
    record."""
    found = record_of(data)
    if found is None:
        return None
    records, meta = found
    if kind == "md":
        image = os.path.relpath(root / "benchmarks" / "scale.png", where)
        return "\n".join(markdown(records, meta, image)) + "\n"
    return "\n".join(["", *rst_block(records, meta), ""]) + "\n"


def fill_markdown(
    path: Path, records: list[dict[str, Any]], meta: dict[str, Any], image: str | None
) -> bool:
    """Fills ``path``'s ``<!-- bench:scale -->`` block, if it has one; whether it did."""
    text = path.read_text()
    begin, end = "<!-- bench:scale -->", "<!-- /bench:scale -->"
    if not records or begin not in text or end not in text:
        return False
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(
        f"{head}{begin}\n" + "\n".join(markdown(records, meta, image)) + f"\n{end}{tail}"
    )
    return True


COLORS = {"nanomsg_rs": "tab:blue", "pyzmq": "tab:red"}
STYLES = {"rep": "-", "pull": "--", "pub": ":"}


def plot(records: list[dict[str, Any]], path: Path, title: str = "") -> str:
    """The scale PNG: memory and accept rate by N (a line per library and pattern), REP's
    round trips, PULL's rate and PUB's delivery by N. Returns where it went, or why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"scale plot skipped: matplotlib is not installed ({REQUIREMENTS_HINT})"
    if not records:
        return "scale plot skipped: nothing measured"
    fig, axes = plt.subplots(2, 4, figsize=(19, 8.5))
    libs = [lib for lib in LIBS if any(r["lib"] == lib for r in records)]

    def series(lib: str, pattern: str, key: str) -> tuple[list[int], list[float]]:
        rows = sorted(
            (r for r in records if r["lib"] == lib and r["pattern"] == pattern),
            key=lambda r: r["connections"],
        )
        rows = [r for r in rows if r.get(key) is not None]
        return [r["connections"] for r in rows], [r[key] for r in rows]

    panels: list[tuple[Any, str, str, list[tuple[str, str, str]]]] = [
        (axes[0][0], "server memory per connection", "KiB",
         [(p, "rss_per_conn_kib", p.upper()) for p in PATTERNS]),
        (axes[0][1], "connections accepted a second", "accepted/s",
         [(p, "accepted_per_s", p.upper()) for p in PATTERNS]),
        (axes[0][2], "REP round trip with all N connected", "µs",
         [("rep", "rtt_p50_us", "p50"), ("rep", "rtt_p99_us", "p99")]),
        (axes[1][0], "REP: every peer served once", "requests/s",
         [("rep", "served_per_s", "")]),
        (axes[1][1], "PULL from all N peers", "messages/s",
         [("pull", "messages_per_s", "")]),
        (axes[0][3], "server CPU per request / message / delivery", "µs",
         [(p, "server_cpu_us", p.upper()) for p in PATTERNS]),
        (axes[1][3], "close every peer (and the server)", "s",
         [(p, "close_s", p.upper()) for p in PATTERNS]),
        (axes[1][2], "PUB: delivery delay to the SUBs", "ms",
         [("pub", "delivery_p50_ms", "p50"), ("pub", "delivery_p99_ms", "p99"),
          ("pub", "reach_all_ms", "all")]),
    ]  # fmt: skip
    styles = ["-", "--", ":"]
    for ax, name, unit, lines in panels:
        for lib in libs:
            for i, (pattern, key, label) in enumerate(lines):
                xs, ys = series(lib, pattern, key)
                if xs:
                    ax.plot(xs, ys, styles[i % 3], marker="o", color=COLORS[lib],
                            label=f"{lib} {label}".strip())  # fmt: skip
        ax.set_title(name, fontsize=10)
        ax.set_ylabel(unit)
        ax.set_xlabel("connections (N)")
        ax.set_xscale("log")
        sizes = sorted({r["connections"] for r in records})
        ax.set_xticks(sizes, [f"{s:,}" for s in sizes])
        ax.minorticks_off()
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle(title or "scale: one server socket, N TCP peers on 4 hosts", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return f"scale plot: {path}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="The scale workload on its own.")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="peer counts")
    parser.add_argument("--patterns", default=",".join(PATTERNS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results-scale.json")
    parser.add_argument("--plot", type=Path, default=BENCH_DIR / "scale.png")
    args = parser.parse_args(argv)
    sizes = tuple(int(x) for x in args.sizes.split(","))
    patterns = tuple(p for p in args.patterns.split(",") if p)
    notes: list[str] = []
    load = list(os.getloadavg())
    started = time.monotonic()
    records = measure_scale(sizes, notes, lambda s: print(s, file=sys.stderr, flush=True),
                            args.quick, patterns)  # fmt: skip
    meta = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/bench_scale.py", *argv]),
        "duration_s": round(time.monotonic() - started, 1),
        "machine": {"cores": os.cpu_count(), "loadavg_start": load,
                    "loadavg_end": list(os.getloadavg())},
    }  # fmt: skip
    args.json.write_text(json.dumps({"meta": meta, "notes": notes, "scale": records}, indent=1))
    print(table(records, meta))
    for note in notes:
        print(f"  - {note}")
    print(plot(records, args.plot, f"scale, {meta['date'][:10]}"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
