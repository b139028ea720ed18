"""The compat modules talk to the original libraries, over the wire.

A program written against ``nanomsg_rs.compat.nnpy`` talks to the real nnpy 1.4.2 (cffi over
the system's libnanomsg), and one written against ``nanomsg_rs.compat.nanomsg`` to the real
nanomsg-python 1.0 (its C extension over the system's libnanomsg), each original running in
a process of its own: over tcp and ipc, with the compat side as the server (binding, REP)
and as the client (connecting, REQ), so that messages go both ways in each case. A test is
skipped, saying so, only where the original package is not installed in this Python.
"""

from __future__ import annotations

import importlib.util
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from support import make_address, start_python

import nanomsg_rs.compat.nnpy as compat_nnpy
from nanomsg_rs.compat import nanomsg as compat_nanomsg

MESSAGES = [b"first", b"", b"\x00binary\xff", b"x" * 100_000]

# The original side: `role` is "server" (bind, answer each request) or "client" (connect,
# send each request, print each answer in hex). OPEN makes the socket `s` the original's way
# and checks that it is the original package, not the compat module.
OPEN = {
    "nnpy": """
        import nnpy
        assert "nanomsg_rs" not in nnpy.__file__ and hasattr(nnpy, "ffi"), nnpy.__file__
        s = nnpy.Socket(nnpy.AF_SP, nnpy.REP if role == "server" else nnpy.REQ)
        s.setsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO, 10000)
    """,
    "nanomsg": """
        import nanomsg
        assert "nanomsg_rs" not in nanomsg.__file__ and hasattr(nanomsg, "wrapper")
        s = nanomsg.Socket(nanomsg.REP if role == "server" else nanomsg.REQ)
        s.recv_timeout = 10000
    """,
}
ORIGINAL = """
import sys
role, address, count = sys.argv[1], sys.argv[2], COUNT
OPEN
if role == "server":
    s.bind(address)
    print("ready", flush=True)
    for _ in range(count):
        s.send(b"echo:" + s.recv())
else:
    s.connect(address)
    for line in sys.stdin:
        s.send(bytes.fromhex(line.strip()))
        print(s.recv().hex(), flush=True)
s.close()
"""


def compat_socket(name: str, role: str) -> Any:
    """The compat module's socket for the original ``name``, made and given its 10 s receive
    timeout that API's way: REP for the "server" role, REQ for the "client"."""
    if name == "nnpy":
        protocol = compat_nnpy.REP if role == "server" else compat_nnpy.REQ
        s = compat_nnpy.Socket(compat_nnpy.AF_SP, protocol)
        s.setsockopt(compat_nnpy.SOL_SOCKET, compat_nnpy.RCVTIMEO, 10000)
        return s
    s = compat_nanomsg.Socket(compat_nanomsg.REP if role == "server" else compat_nanomsg.REQ)
    s.recv_timeout = 10000
    return s


def ask(name: str, client: Any, request: bytes) -> bytes:
    """Sends ``request`` on a compat REQ socket and returns the reply, that API's way (nnpy's
    send returns the size sent; nanomsg-python receives into a buffer of one's own)."""
    if name == "nnpy":
        assert client.send(request) == len(request)
        reply: bytes = client.recv()
        return reply
    client.send(request)
    buf = compat_nanomsg.create_writable_buffer(len(request) + 16)
    reply = client.recv(buf)
    return reply


def original_installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def skip_unless_installed(name: str) -> None:
    if not original_installed(name):
        hint = {
            "nnpy": "pip install nnpy==1.4.2 (needs cffi and libnanomsg-dev)",
            "nanomsg": "pip install nanomsg==1.0 (needs a C compiler and libnanomsg-dev)",
        }[name]
        pytest.skip(f"the original {name} is not installed in this Python: {hint}")


def start_original(name: str, role: str, address: str, tmp_path: Path) -> subprocess.Popen[str]:
    """The original's program in a process of its own, from an empty directory (nothing of
    the repository on sys.path). A client reads its requests (MESSAGES, in hex) from a file:
    through a pipe, writing them would wait for the client, which waits for our answers."""
    program = ORIGINAL.replace("OPEN", textwrap.dedent(OPEN[name]).strip())
    program = program.replace("COUNT", str(len(MESSAGES)))
    requests = tmp_path / "requests.txt"
    requests.write_text("".join(m.hex() + "\n" for m in MESSAGES))
    with requests.open() as stdin:
        proc: subprocess.Popen[str] = start_python(
            program, role, address, stdin=stdin, text=True, cwd=tmp_path
        )
        return proc


def finish(proc: subprocess.Popen[str]) -> str:
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the original's process hung:\n{err}")
    assert proc.returncode == 0, f"the original's process failed:\n{err}"
    return out


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the original's server did not start: {line!r}\n{err}")


# -- the compat modules <-> nnpy and nanomsg-python ----------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("name", ["nnpy", "nanomsg"])
def test_compat_server_original_client(name: str, transport: str, tmp_path: Path) -> None:
    skip_unless_installed(name)
    address = make_address(transport)
    server = compat_socket(name, "server")
    try:
        server.bind(address)
        client = start_original(name, "client", address, tmp_path)
        for expected in MESSAGES:
            request = server.recv()
            assert request == expected
            server.send(b"compat:" + request)
        out = finish(client)
    finally:
        server.close()
    assert [bytes.fromhex(h) for h in out.split("\n")[:-1]] == [b"compat:" + m for m in MESSAGES]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("name", ["nnpy", "nanomsg"])
def test_compat_client_original_server(name: str, transport: str, tmp_path: Path) -> None:
    skip_unless_installed(name)
    address = make_address(transport)
    server = start_original(name, "server", address, tmp_path)
    wait_ready(server)
    client = compat_socket(name, "client")
    try:
        client.connect(address)
        for m in MESSAGES:
            assert ask(name, client, m) == b"echo:" + m
    finally:
        client.close()
    finish(server)
