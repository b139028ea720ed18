"""Limits of the process, met with real sockets (issue 27, items 4 and 5): a socket made when
the process is out of file descriptors raises an exception that names ``RLIMIT_NOFILE`` and how
to raise it, keeps no descriptor, and the library works again once descriptors are free (the
process's first socket used to abort or hang: patch 0042); 4,096 sockets can be open at once;
past libnanomsg's own limit (``NN_MAX_SOCKETS``, 16,384: patch 0043) the exception names that
limit instead.

Each case runs in a fresh interpreter: it lowers the process's descriptor limit, or opens
thousands of sockets, which the test process must not. The descriptors are taken with
``os.dup``, up to a soft limit a few above what is open already."""

from __future__ import annotations

import resource
import textwrap

import pytest
from support import NNG, c_library, needs_descriptors, per_backend, run_reporting

import nanomsg_rs as nn

# The child's first lines: take every descriptor but `spare` (RLIMIT_NOFILE lowered to 16
# above those open), and count the open ones.
TAKE = """
import os, resource, nanomsg_rs as nn

def open_fds():
    # without opening one (/proc/self/fd would need a descriptor)
    n = 0
    for fd in range(resource.getrlimit(resource.RLIMIT_NOFILE)[0]):
        try:
            os.fstat(fd)
            n += 1
        except OSError:
            pass
    return n

def take_all_but(spare):
    top = os.dup(0)
    os.close(top)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (top + 16, hard))
    held = []
    while True:
        try:
            held.append(os.dup(0))
        except OSError:
            break
    for _ in range(spare):
        os.close(held.pop())
    return held

def works():
    # a message through a new pair of sockets
    a, b = nn.Socket("pair"), nn.Socket("pair")
    a.rcvtimeo = 5000
    a.bind("inproc://works")
    b.connect("inproc://works")
    b.send(b"ping")
    ok = a.recv() == b"ping"
    a.close(); b.close()
    return ok
"""


# How many descriptors the process's first PAIR takes: with libnanomsg, the binding's wake-up
# eventfd, the worker's eventfd and epoll set, the socket's two eventfds; nng needs fewer.
FIRST_PAIR_NEEDS = per_backend(nanomsg=5, nng=3)


@pytest.mark.parametrize("spare", [0, 1, 2, 3, 4])
def test_first_socket_out_of_descriptors_raises_and_recovers(spare: int) -> None:
    """The process's first socket with 0 to 4 descriptors left: with fewer than it needs,
    EMFILE, a message that names RLIMIT_NOFILE and its value, no descriptor kept; then,
    descriptors freed, sockets work. Before 0042 one left aborted the process (queue.c:47)
    and two hung it."""
    r = run_reporting(
        TAKE
        + textwrap.dedent(
            """
            held = take_all_but(int(sys.argv[1]))
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            before = open_fds()
            try:
                nn.Socket("pair")
                error = None
            except nn.NanomsgError as e:
                error = {"type": type(e).__name__, "errno": e.errno, "message": str(e)}
            kept = open_fds() - before
            for fd in held:
                os.close(fd)
            report(error=error, kept=kept, soft=soft, works=works())
            """
        ),
        spare,
        timeout=30,
    )
    if spare >= FIRST_PAIR_NEEDS:  # nng: enough for its socket, which was made
        assert r["error"] is None and r["works"] is True, r
        return
    assert r["error"] is not None, r
    assert r["error"]["type"] == "NanomsgError" and r["error"]["errno"] == 24, r  # EMFILE
    message = r["error"]["message"]
    assert message.startswith("Socket(): the process is out of file descriptors"), message
    assert f"RLIMIT_NOFILE: {r['soft']:,} open at once" in message, message
    assert "ulimit -n" in message and "resource.setrlimit" in message, message
    assert r["kept"] == 0, r
    assert r["works"] is True


def test_socket_out_of_descriptors_after_start() -> None:
    """The library started (a socket open), then sockets made with no descriptor left: the
    same error each time and nothing kept; once descriptors are free, the socket open before
    still works, and new ones too."""
    check_after_start(0)


@pytest.mark.backend("nanomsg", reason="nng's sockets need fewer descriptors: they are made")
@pytest.mark.parametrize("spare", [1, 2])
def test_socket_short_of_descriptors_after_start(spare: int) -> None:
    """The same with one or two descriptors left, where a PAIR needs three (the binding's
    eventfd and libnanomsg's two): each one made is undone."""
    check_after_start(spare)


def check_after_start(spare: int) -> None:
    r = run_reporting(
        TAKE
        + textwrap.dedent(
            """
            a, b = nn.Socket("pair"), nn.Socket("pair")
            a.rcvtimeo = 5000
            a.bind("inproc://before")
            b.connect("inproc://before")
            held = take_all_but(int(sys.argv[1]))
            before = open_fds()
            errors = []
            for _ in range(3):
                try:
                    nn.Socket("pair")
                except nn.NanomsgError as e:
                    errors.append([e.errno, "RLIMIT_NOFILE" in str(e)])
            kept = open_fds() - before
            for fd in held:
                os.close(fd)
            b.send(b"still")
            still = a.recv() == b"still"
            report(errors=errors, kept=kept, still=still, works=works())
            """
        ),
        spare,
        timeout=30,
    )
    assert r["errors"] == [[24, True]] * 3, r
    assert r["kept"] == 0, r
    assert r["still"] is True and r["works"] is True


def test_bind_out_of_descriptors_names_the_limit() -> None:
    """A tcp bind needs a descriptor for its listening socket: none left, it raises EMFILE
    naming RLIMIT_NOFILE; with one freed, the same bind works."""
    r = run_reporting(
        TAKE
        + textwrap.dedent(
            """
            import socket
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            probe.close()
            s = nn.Socket("pair")
            held = take_all_but(0)
            try:
                s.bind(f"tcp://127.0.0.1:{port}")
                error = None
            except nn.NanomsgError as e:
                error = [e.errno, str(e)]
            os.close(held.pop())
            s.bind(f"tcp://127.0.0.1:{port}")
            report(error=error)
            """
        ),
        timeout=30,
    )
    assert r["error"] is not None
    errno, message = r["error"]
    assert errno == 24, r
    assert message.startswith("bind('tcp://127.0.0.1:"), message
    assert "out of file descriptors (RLIMIT_NOFILE: " in message, message


def test_connect_out_of_descriptors_connects_once_they_are_free() -> None:
    """A connect makes its OS socket in the worker thread: without a descriptor it fails
    there and is tried again after reconnect_ivl; once one is free, the connection comes up
    and the message goes through."""
    r = run_reporting(
        TAKE
        + textwrap.dedent(
            """
            import time
            a, b = nn.Socket("pair"), nn.Socket("pair")
            a.rcvtimeo = 5000
            b.reconnect_ivl = 20
            a.bind("ipc://" + sys.argv[1])
            held = take_all_but(0)
            b.connect("ipc://" + sys.argv[1])
            time.sleep(0.3)  # several attempts, each out of descriptors
            for fd in held:
                os.close(fd)
            b.send(b"late")
            report(got=a.recv().decode())
            """
        ),
        f"/tmp/nnrs-fdlimit-{id(object())}.ipc",
        timeout=30,
    )
    assert r["got"] == "late"


@needs_descriptors(8400)
def test_4096_sockets_at_once() -> None:
    """4,096 sockets open together (libnanomsg 1.1.5 stops at 512), each a working socket:
    the last one made takes a message from the first."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    r = run_reporting(
        """
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        # PUSH: one eventfd of libnanomsg's and one of the binding's a socket
        made = [nn.Socket("push") for _ in range(4095)]
        pull = nn.Socket("pull")
        pull.rcvtimeo = 5000
        pull.bind("inproc://many")
        made[0].connect("inproc://many")
        made[0].send(b"first")
        got = pull.recv().decode()
        numbers = len({s.fd for s in made} | {pull.fd})
        for s in made:
            s.close()
        report(numbers=numbers, got=got)
        """,
        timeout=120,
    )
    assert r == {"numbers": 4096, "got": "first"}, (r, soft, hard)


@pytest.mark.backend("nanomsg", reason="nng has no limit of its own on open sockets")
@needs_descriptors(16600)
def test_more_sockets_than_the_limit_raises_naming_it() -> None:
    """Past NN_MAX_SOCKETS (16,384) the exception names that limit, not RLIMIT_NOFILE; a
    socket closed makes room for one more. The first 16,382 are made through the C API
    (ctypes, one descriptor each), which is quicker and takes fewer descriptors than
    nn.Socket."""
    limit = nn._native.MAX_SOCKETS
    r = run_reporting(
        """
        import ctypes, resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        lib = ctypes.CDLL(sys.argv[1], use_errno=True)  # the very copy the binding links
        limit = nn._native.MAX_SOCKETS
        raw = [lib.nn_socket(nn.AF_SP, nn.PUSH) for _ in range(limit - 2)]
        assert min(raw) >= 0, ctypes.get_errno()
        mine = [nn.Socket("push"), nn.Socket("push")]
        try:
            nn.Socket("push")
            error = None
        except nn.NanomsgError as e:
            error = [type(e).__name__, e.errno, e.strerror, str(e)]
        mine.pop().close()
        again = nn.Socket("push").fd >= 0
        for s in raw:
            lib.nn_close(s)
        report(error=error, again=again)
        """,
        c_library()._name,
        timeout=120,
    )
    assert r["error"] is not None, r
    kind, errno, strerror, message = r["error"]
    assert (kind, errno) == ("NanomsgError", 24), r
    assert strerror == nn._native.SOCKET_LIMIT_REACHED
    how = ": nanomsg/defines.txt sets it for a build from source" if nn.HARDENED else ""
    assert message == (
        f"Socket(): too many open sockets: this nanomsg allows {limit:,} at once "
        f"(NN_MAX_SOCKETS, fixed when the library is compiled{how}); close() the sockets you "
        "no longer need"
    )
    assert r["again"] is True


def test_max_sockets_constant() -> None:
    """The limit the native module reports is the build's: 16,384 in ours (defines.txt),
    upstream's 512 in a system libnanomsg, none on nng."""
    expected = None if NNG else 16384 if nn.HARDENED else 512
    assert nn._native.MAX_SOCKETS == expected
