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
import sys
import textwrap
from pathlib import Path

import pytest
from support import make_address

import nanomsg_rs.compat.nnpy as compat_nnpy
from nanomsg_rs.compat import nanomsg as compat_nanomsg

MESSAGES = [b"first", b"", b"\x00binary\xff", b"x" * 100_000]

# The original side: `role` is "server" (bind, answer each request) or "client" (connect,
# send each request, print each answer in hex). Each checks that it runs the original
# package, not the compat module.
ORIGINALS = {
    "nnpy": """
        import sys, nnpy
        assert "nanomsg_rs" not in nnpy.__file__ and hasattr(nnpy, "ffi"), nnpy.__file__
        role, address, count = sys.argv[1], sys.argv[2], COUNT
        s = nnpy.Socket(nnpy.AF_SP, nnpy.REP if role == "server" else nnpy.REQ)
        s.setsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO, 10000)
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
    """,
    "nanomsg": """
        import sys, nanomsg
        assert "nanomsg_rs" not in nanomsg.__file__ and hasattr(nanomsg, "wrapper")
        role, address, count = sys.argv[1], sys.argv[2], COUNT
        with nanomsg.Socket(nanomsg.REP if role == "server" else nanomsg.REQ) as s:
            s.recv_timeout = 10000
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
    """,
}


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
    program = textwrap.dedent(ORIGINALS[name]).replace("COUNT", str(len(MESSAGES)))
    requests = tmp_path / "requests.txt"
    requests.write_text("".join(m.hex() + "\n" for m in MESSAGES))
    with requests.open() as stdin:
        return subprocess.Popen(
            [sys.executable, "-c", program, role, address],
            cwd=tmp_path,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


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


# -- compat.nnpy <-> nnpy -------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_nnpy_compat_server_original_client(transport: str, tmp_path: Path) -> None:
    skip_unless_installed("nnpy")
    address = make_address(transport)
    server = compat_nnpy.Socket(compat_nnpy.AF_SP, compat_nnpy.REP)
    try:
        server.bind(address)
        server.setsockopt(compat_nnpy.SOL_SOCKET, compat_nnpy.RCVTIMEO, 10000)
        client = start_original("nnpy", "client", address, tmp_path)
        for expected in MESSAGES:
            request = server.recv()
            assert request == expected
            server.send(b"compat:" + request)
        out = finish(client)
    finally:
        server.close()
    assert [bytes.fromhex(h) for h in out.split("\n")[:-1]] == [b"compat:" + m for m in MESSAGES]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_nnpy_compat_client_original_server(transport: str, tmp_path: Path) -> None:
    skip_unless_installed("nnpy")
    address = make_address(transport)
    server = start_original("nnpy", "server", address, tmp_path)
    wait_ready(server)
    client = compat_nnpy.Socket(compat_nnpy.AF_SP, compat_nnpy.REQ)
    try:
        client.connect(address)
        client.setsockopt(compat_nnpy.SOL_SOCKET, compat_nnpy.RCVTIMEO, 10000)
        for m in MESSAGES:
            assert client.send(m) == len(m)
            assert client.recv() == b"echo:" + m
    finally:
        client.close()
    finish(server)


# -- compat.nanomsg <-> nanomsg-python ------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_nanomsg_compat_server_original_client(transport: str, tmp_path: Path) -> None:
    skip_unless_installed("nanomsg")
    address = make_address(transport)
    with compat_nanomsg.Socket(compat_nanomsg.REP) as server:
        server.bind(address)
        server.recv_timeout = 10000
        client = start_original("nanomsg", "client", address, tmp_path)
        for expected in MESSAGES:
            request = server.recv()
            assert request == expected
            server.send(b"compat:" + request)
        out = finish(client)
    assert [bytes.fromhex(h) for h in out.split("\n")[:-1]] == [b"compat:" + m for m in MESSAGES]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_nanomsg_compat_client_original_server(transport: str, tmp_path: Path) -> None:
    skip_unless_installed("nanomsg")
    address = make_address(transport)
    server = start_original("nanomsg", "server", address, tmp_path)
    wait_ready(server)
    with compat_nanomsg.Socket(compat_nanomsg.REQ) as client:
        client.connect(address)
        client.recv_timeout = 10000
        for m in MESSAGES:
            client.send(m)
            buf = compat_nanomsg.create_writable_buffer(len(m) + 16)
            assert client.recv(buf) == b"echo:" + m
    finish(server)
