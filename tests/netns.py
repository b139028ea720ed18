"""Hosts as Linux network namespaces on one bridge, for the multi-host tests
(``test_across_hosts.py``, ``test_scale.py``, ``benchmarks/bench_scale.py``).

Each host is a network namespace with one interface, ``eth0`` (address ``10.77.0.N/24``, a
MAC address of its own that it keeps across a power cut), whose other end is a port of a
bridge in the test's own namespace. A host runs Python processes (``Host.spawn``): each runs
``AGENT``, which executes the code the test sends it (``Process.call``) with ``nanomsg_rs``
imported as ``nn``, so a test drives sockets on several hosts from one place. What a host
can suffer:

- ``Host.cut()`` / ``Host.mend()``: its link goes down (``ip link set down`` on its bridge
  port) and comes back: packets to and from it are dropped meanwhile, its connections stay
  open and its processes run, as for an unplugged cable or a partition;
- ``Host.power_cut()`` / ``Host.power_on()``: the host is gone at once, its processes and
  connections with it, and no FIN or RST ever leaves it (its link goes before the processes
  are killed); it comes back empty, on the same address and MAC address;
- ``Host.limit(rate)``: a link that carries at most ``rate`` towards the host (``tc ...
  tbf`` on its bridge port).

``Network`` (the ``network`` fixture of ``test_across_hosts.py``) makes the bridge and the
hosts and removes everything at the end whatever happened, namespaces left by an earlier
session that was killed included. It needs root and iproute2 (``ip``, ``tc``):
``unavailable()`` says why it cannot run, for the skip.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from typing import Any

SUBNET = "10.77.0"
# The names of what a session makes start with PREFIX and its process id, so that sessions
# running at once on one machine (as root, each) never touch each other's.
PREFIX = "nnrs"

# What the code a host's process runs finds defined: the helpers every scenario needs.
TOOLS = r"""
def background(fn, *args):
    '''Runs fn(*args) in a daemon thread; returns the thread.'''
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t

def raise_nofile(want=65536):
    '''RLIMIT_NOFILE as high as this process may: want, else the hard limit; returns it.'''
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, hard), max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]

def serve(sock, tag):
    '''Answers every request (REP, RESPONDENT) with tag + ":" + the request, in the
    background, until the socket closes; returns the list of the requests served.'''
    served = []
    def run():
        while True:
            try:
                m = sock.recv()
            except nn.NanomsgError:
                return
            served.append(m)
            try:
                sock.send(tag.encode() + b":" + m)
            except nn.NanomsgError:
                return
    background(run)
    return served
"""

# The program of a host's process: each line of its stdin is a JSON object whose "code" it
# executes (globals kept from one to the next; `nn` is nanomsg_rs, and TOOLS are defined); it
# answers one line, {"ok": the value the code left in `result`, bytes as text} or {"error":
# the traceback}. Whatever the code prints goes to stderr, which the test sees if it fails.
AGENT = r"""
import json, os, sys, threading, time, traceback
import nanomsg_rs as nn

answers = sys.stdout
sys.stdout = sys.stderr
scope = {"nn": nn, "os": os, "threading": threading, "time": time}
exec(TOOLS, scope)

def plain(value):
    # bytes as text (latin-1: every byte a character), anything else JSON lacks as its repr
    return value.decode("latin-1") if isinstance(value, bytes) else repr(value)

for line in sys.stdin:
    try:
        exec(compile(json.loads(line)["code"], "<host>", "exec"), scope)
        answer = {"ok": scope.pop("result", None)}
    except BaseException as e:
        answer = {"error": "".join(traceback.format_exception(e))}
    text = json.dumps(answer, default=plain)
    answers.write(text + "\n")
    answers.flush()
"""
#: What a host's process runs: the tools, then the agent.
PROGRAM = f"TOOLS = {TOOLS!r}\n{AGENT}"


def unavailable() -> str | None:
    """Why hosts cannot be made here (the skip's reason), or None."""
    if os.geteuid() != 0:
        return "not root (network namespaces and bridges need CAP_NET_ADMIN)"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"no {tool} command (install iproute2)"
    return None


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs ``ip``, ``tc`` and the like; an error names the command and what it said."""
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc


class HostError(AssertionError):
    """The code a host's process ran failed: the message holds its traceback."""


class Process:
    """A Python process on a host, running ``AGENT``."""

    def __init__(self, host: Host, popen: subprocess.Popen[str]) -> None:
        self.host = host
        self.popen = popen

    def call(self, code: str, timeout: float = 15.0) -> Any:
        """Runs ``code`` in the process and returns what it left in ``result``. Raises
        ``HostError`` with the process's traceback if the code raised, ``TimeoutError`` if
        it did not finish within ``timeout`` seconds."""
        self.send(code)
        return self.answer(code, timeout)

    def send(self, code: str) -> None:
        """Gives the process ``code`` to run, without waiting: ``answer`` waits for it (so
        that several processes run theirs at once: ``call_all``)."""
        stdin = self.popen.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps({"code": code}) + "\n")
            stdin.flush()
        except BrokenPipeError:
            raise HostError(f"{self}: the process is gone ({self.popen.poll()})") from None

    def answer(self, code: str, timeout: float, deadline: float | None = None) -> Any:
        """What ``code``, sent last, left in ``result``, as ``call`` says; waits until
        ``deadline`` (``time.monotonic()``'s) if given, else for ``timeout`` seconds."""
        stdout = self.popen.stdout
        assert stdout is not None
        if deadline is None:
            deadline = time.monotonic() + timeout
        ready, _, _ = select.select([stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise TimeoutError(f"{self}: no answer in {timeout} s to:\n{code}")
        line = stdout.readline()
        if not line:
            raise HostError(f"{self}: the process ended ({self.popen.wait()}) running:\n{code}")
        answer = json.loads(line)
        if "error" in answer:
            raise HostError(f"{self}: {code}\n{answer['error']}")
        return answer["ok"]

    def eval(self, expression: str, timeout: float = 15.0) -> Any:
        """The value of a Python expression in the process."""
        return self.call(f"result = {expression}", timeout)

    def rss(self) -> int:
        """The process's resident memory, in bytes (from the host's side: /proc)."""
        with open(f"/proc/{self.popen.pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def kill(self) -> None:
        """SIGKILL: the process ends at once, its connections closed by its host's kernel
        (which sends FIN or RST where the link is up)."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None:
                pipe.close()

    def __str__(self) -> str:
        return f"process {self.popen.pid} on {self.host}"


class Host:
    """One host: a network namespace on the bridge."""

    def __init__(self, network: Network, name: str, number: int) -> None:
        self.network = network
        self.name = name
        self.number = number
        self.ip = f"{SUBNET}.{number}"
        self.namespace = f"{network.tag}-{name}"
        self.port = f"{network.tag}p{number}"  # the bridge port: the link's end outside
        self.mac = f"02:00:0a:4d:00:{number:02x}"
        self.processes: list[Process] = []
        self.on = False

    def __str__(self) -> str:
        return f"host {self.name} ({self.ip})"

    def address(self, port: int, scheme: str = "tcp") -> str:
        """A nanomsg address on this host."""
        return f"{scheme}://{self.ip}:{port}"

    def power_on(self) -> None:
        """Makes the namespace and its link, the same each time."""
        ns = self.namespace
        run("ip", "netns", "add", ns)
        run("ip", "link", "add", self.port, "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "link", "set", self.port, "master", self.network.bridge, "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "link", "set", "eth0", "address", self.mac)
        run("ip", "-n", ns, "addr", "add", f"{self.ip}/24", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        self.on = True

    def sysctl(self, name: str, value: int | str) -> None:
        """Sets a per-namespace sysctl (``net.ipv4.tcp_syn_retries``...) on this host."""
        path = "/proc/sys/" + name.replace(".", "/")
        run("ip", "netns", "exec", self.namespace, "sh", "-c", f"echo {value} > {path}")

    def spawn(self) -> Process:
        """A new Python process on the host, ready for ``call``."""
        popen = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace, sys.executable, "-u", "-c", PROGRAM],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        process = Process(self, popen)
        self.processes.append(process)
        process.call("pass", timeout=30)  # started, nanomsg_rs imported
        return process

    def cut(self) -> None:
        """The host's link goes down: nothing reaches it or leaves it until ``mend``."""
        run("ip", "link", "set", self.port, "down")

    def mend(self) -> None:
        run("ip", "link", "set", self.port, "up")

    def limit(self, rate: str) -> None:
        """Traffic towards the host goes at ``rate`` at most (``"1mbit"``); what does not
        fit waits in a queue of 64 kB, then is dropped."""
        run("tc", "qdisc", "add", "dev", self.port, "root", "tbf", "rate", rate,
            "burst", "16kb", "limit", "64kb")  # fmt: skip

    def power_cut(self) -> None:
        """The host is gone: its link first (deleting it takes the host's end with it), so
        that nothing its processes' ends send, no FIN, no RST, ever leaves; then its
        processes and its namespace."""
        run("ip", "link", "del", self.port, check=False)
        for process in self.processes:
            process.kill()
        self.processes.clear()
        run("ip", "netns", "del", self.namespace, check=False)
        self.on = False

    def remove(self) -> None:
        if self.on or self.processes:
            self.power_cut()


class Network:
    """A bridge and the hosts on it; ``close()`` removes them all."""

    def __init__(self) -> None:
        self.tag = f"{PREFIX}{os.getpid()}"
        self.bridge = f"{self.tag}br"
        self.hosts: list[Host] = []
        remove_leftovers()
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "link", "set", self.bridge, "up")

    def host(self, name: str) -> Host:
        """A new host, on: ``10.77.0.1`` for the first, ``.2`` for the next..."""
        host = Host(self, name, len(self.hosts) + 1)
        self.hosts.append(host)
        host.power_on()
        return host

    def close(self) -> None:
        errors = []
        for host in self.hosts:
            try:
                host.remove()
            except Exception as e:  # remove the rest, then report the first
                errors.append(e)
        run("ip", "link", "del", self.bridge, check=False)
        if errors:
            raise errors[0]


def remove_leftovers() -> None:
    """Removes the namespaces and bridges of sessions that are gone (killed before they
    could clean up): theirs carry a process id that no longer runs."""
    names = run("ip", "netns", "list", check=False).stdout.split("\n")
    links = run("ip", "-o", "link", "show", check=False).stdout.split("\n")
    for line in names + [line.split(":")[1].strip() if ":" in line else "" for line in links]:
        match = re.match(rf"({PREFIX}(\d+))(\S*)", line.strip())
        if not match or os.path.exists(f"/proc/{match.group(2)}"):
            continue
        name = match.group(0).split("@")[0]
        if name.startswith(match.group(1) + "-"):
            run("ip", "netns", "del", name, check=False)
        else:
            run("ip", "link", "del", name, check=False)


def call_all(processes: list[Process], codes: list[str], timeout: float = 60.0) -> list[Any]:
    """Runs ``codes[i]`` in ``processes[i]``, all at once; their results in order (all within
    ``timeout`` seconds)."""
    for p, code in zip(processes, codes, strict=True):
        p.send(code)
    deadline = time.monotonic() + timeout
    return [p.answer(code, timeout, deadline) for p, code in zip(processes, codes, strict=True)]


def shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal counts (the first ones one more)."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def time_until(what: str, condition: Any, timeout: float, step: float = 0.05) -> float:
    """Calls ``condition()`` until it is true, for at most ``timeout`` seconds; returns the
    seconds it took, or fails naming ``what``."""
    start = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(step)
