"""Shared fixtures: fresh addresses on every transport, and sockets that are closed after
each test whatever happens."""

from __future__ import annotations

import itertools
import os
import socket as pysocket
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import nanomsg_rs as nn

_counter = itertools.count()


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with pysocket.socket(pysocket.AF_INET, pysocket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


_ipc_dir = tempfile.mkdtemp(prefix="nnrs-")


def make_address(transport: str) -> str:
    """A fresh address for ``transport`` (inproc, ipc, tcp or ws)."""
    n = next(_counter)
    if transport == "inproc":
        return f"inproc://test-{os.getpid()}-{n}"
    if transport == "ipc":
        return f"ipc://{_ipc_dir}/s{n}.ipc"
    if transport in ("tcp", "ws"):
        return f"{transport}://127.0.0.1:{free_tcp_port()}"
    raise ValueError(transport)


@pytest.fixture
def addr() -> Callable[[str], str]:
    """``addr("tcp")`` gives a fresh address on that transport."""
    return make_address


@pytest.fixture(params=["inproc", "ipc", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    """Runs a test once per transport."""
    value: str = request.param
    return value


@pytest.fixture
def sock() -> Iterator[Callable[..., nn.Socket]]:
    """``sock("pair")`` makes a socket that is closed when the test ends."""
    made: list[nn.Socket] = []

    def factory(*args: Any, **kwargs: Any) -> nn.Socket:
        s = nn.Socket(*args, **kwargs)
        made.append(s)
        return s

    yield factory
    for s in made:
        s.close()


@pytest.fixture
def pair(sock: Callable[..., nn.Socket], transport: str) -> tuple[nn.Socket, nn.Socket]:
    """Two connected PAIR sockets over each transport, with a 5 s receive timeout."""
    a, b = sock("pair"), sock("pair")
    address = make_address(transport)
    a.bind(address)
    b.connect(address)
    for s in (a, b):
        s.rcvtimeo = 5000
        s.sndtimeo = 5000
    return a, b
