"""``nn.Socket.adopt(number)``: the inverse of ``detach()``.

It takes ownership of an open socket number of this package's library and refuses anything
else: a number that is not an open socket (``nn.Closed``), a negative or out-of-range one and
a number that a live ``Socket`` object already owns (``nn.InvalidArgument``: two owners would
close it twice, and libnanomsg hands a closed number to the next socket at once).
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import pytest
from support import AddrFactory, c_library

import nanomsg_rs as nn


def test_detach_then_adopt_is_the_same_socket(addr: AddrFactory) -> None:
    address = addr("inproc")
    original = nn.Socket("pair")
    original.bind(address)
    number = original.detach()
    with nn.Socket.adopt(number) as adopted, nn.Socket("pair") as peer:
        assert type(adopted) is nn.Socket
        assert adopted.fd == number
        assert adopted.protocol is nn.Protocol.PAIR
        assert adopted.domain is nn.Domain.SP
        peer.connect(address)  # reaches the endpoint bound before the detach
        peer.send(b"over the old binding")
        assert adopted.recv() == b"over the old binding"
    # Closed by the adopter: the address is free again.
    with nn.Socket("pair") as again:
        again.bind(address)


def test_adopt_keeps_raw_domain_and_protocol() -> None:
    number = nn.Socket("rep", "sp-raw").detach()
    with nn.Socket.adopt(number) as adopted:
        assert adopted.domain is nn.Domain.SP_RAW
        assert adopted.protocol is nn.Protocol.REP
        # A raw socket's messages carry their routing header.
        assert "SP_RAW" in repr(adopted)


def test_adopt_of_a_closed_number_raises_closed() -> None:
    s = nn.Socket("pair")
    number = s.fd
    s.close()
    with pytest.raises(nn.Closed, match="not an open socket"):
        nn.Socket.adopt(number)


def test_adopt_of_a_number_never_used_raises_closed() -> None:
    # Beyond libnanomsg's 16,384 sockets, and far beyond the ids nng has handed out here.
    with pytest.raises(nn.Closed):
        nn.Socket.adopt(100_000)


@pytest.mark.parametrize("number", [-1, 2**31, -(2**40)])
def test_adopt_of_an_impossible_number_raises_invalid_argument(number: int) -> None:
    with pytest.raises(nn.InvalidArgument):
        nn.Socket.adopt(number)


@pytest.mark.parametrize("number", ["3", 3.0, True, None])
def test_adopt_of_a_non_int_raises_type_error(number: object) -> None:
    with pytest.raises(TypeError):
        nn.Socket.adopt(number)  # type: ignore[arg-type]


def test_adopt_of_an_owned_number_raises_invalid_argument() -> None:
    with nn.Socket("pair") as owner:
        with pytest.raises(nn.InvalidArgument, match="owns that socket number"):
            nn.Socket.adopt(owner.fd)
        assert not owner.closed
        assert owner.protocol is nn.Protocol.PAIR


def test_adopt_twice_refuses_the_second() -> None:
    number = nn.Socket("pub").detach()
    first = nn.Socket.adopt(number)
    try:
        with pytest.raises(nn.InvalidArgument):
            nn.Socket.adopt(number)
    finally:
        first.close()
    with pytest.raises(nn.Closed):
        nn.Socket.adopt(number)


def test_adopt_after_detach_of_the_adopter() -> None:
    number = nn.Socket("push").detach()
    adopted = nn.Socket.adopt(number)
    assert adopted.detach() == number
    with nn.Socket.adopt(number) as again:
        assert again.protocol is nn.Protocol.PUSH


def test_adopted_socket_closes_on_gc(addr: AddrFactory) -> None:
    address = addr("inproc")
    s = nn.Socket("pair")
    s.bind(address)
    adopted = nn.Socket.adopt(s.detach())
    del adopted
    gc.collect()
    with nn.Socket("pair") as again:
        again.bind(address)  # the adopter closed it


def test_number_reused_after_close_is_adoptable_only_when_unowned() -> None:
    s = nn.Socket("pair")
    number = s.fd
    s.close()
    # libnanomsg hands the number to the next socket; its owner must keep it.
    with nn.Socket("pub") as successor:
        if successor.fd == number:
            with pytest.raises(nn.InvalidArgument):
                nn.Socket.adopt(number)


def test_adopt_of_a_number_made_behind_the_bindings_back() -> None:
    lib = c_library()
    number = lib.nn_socket(nn.AF_SP, nn.BUS)
    assert number >= 0
    with nn.Socket.adopt(number) as adopted:
        assert adopted.protocol is nn.Protocol.BUS
    assert lib.nn_close(number) == -1, "the adopter should have closed it"


def test_subclass_adopt_returns_the_subclass() -> None:
    class Mine(nn.Socket):
        pass

    with Mine.adopt(nn.Socket("pair").detach()) as adopted:
        assert type(adopted) is Mine


def test_adopt_after_fork_raises_eforked() -> None:
    code = textwrap.dedent(
        """
        import json, os, sys
        import nanomsg_rs as nn
        number = nn.Socket("pair").detach()
        pid = os.fork()
        if pid == 0:
            try:
                nn.Socket.adopt(number)
                out = "no error"
            except nn.NanomsgError as e:
                out = [type(e).__name__, e.errno]
            os.write(1, json.dumps(out).encode())
            os._exit(0)
        os.waitpid(pid, 0)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f'["NanomsgError", {nn.EFORKED}]'


def test_adopt_after_term_raises_terminated() -> None:
    code = textwrap.dedent(
        """
        import nanomsg_rs as nn
        number = nn.Socket("pair").detach()
        nn.term()
        try:
            nn.Socket.adopt(number)
        except nn.Terminated:
            print("Terminated")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip() == "Terminated", proc.stderr
