"""Statistics: exact message and byte counts, all seventeen at once, names and members, the
connection counts, and NotSupported on nng, which keeps none."""

from __future__ import annotations

import errno

import pytest
from support import NO_STATISTICS, AddrFactory, SockFactory, connected, wait_until

import nanomsg_rs as nn

no_statistics = pytest.mark.backend("nanomsg", reason=NO_STATISTICS)


@no_statistics
def test_exact_message_and_byte_statistics(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    sizes = [0, 1, 10, 100, 1000, 65536]
    for n in sizes:
        assert a.send(b"z" * n) == n
    for n in sizes:
        assert len(b.recv()) == n
    total = sum(sizes)
    assert a.statistic(nn.Statistic.MESSAGES_SENT) == len(sizes)
    assert a.statistic(nn.Statistic.BYTES_SENT) == total
    assert b.statistic(nn.Statistic.MESSAGES_RECEIVED) == len(sizes)
    assert b.statistic(nn.Statistic.BYTES_RECEIVED) == total
    assert a.statistic("messages-sent") == len(sizes)
    assert a.statistic("bytes-sent") == total
    assert b.statistic("messages-received") == len(sizes)
    assert b.statistic("bytes-received") == total
    assert a.statistic(nn.STAT_MESSAGES_SENT) == len(sizes)
    # Nothing went the other way.
    assert a.statistic(nn.Statistic.MESSAGES_RECEIVED) == 0
    assert a.statistic(nn.Statistic.BYTES_RECEIVED) == 0
    assert b.statistic(nn.Statistic.MESSAGES_SENT) == 0
    assert b.statistic(nn.Statistic.BYTES_SENT) == 0


@no_statistics
def test_statistics_count_str_as_utf8_and_recv_into(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    a.send("€uro")  # 6 bytes in UTF-8
    a.send(b"0123456789")
    buf = bytearray(4)
    assert b.recv() == "€uro".encode()
    assert b.recv_into(buf) == 10  # the full size, truncated into the buffer
    assert bytes(buf) == b"0123"
    assert a.statistic("bytes-sent") == 16
    assert b.statistic("bytes-received") == 16
    assert b.statistic("messages-received") == 2


@no_statistics
def test_statistics_returns_all_seventeen(pair: tuple[nn.Socket, nn.Socket]) -> None:
    a, b = pair
    for i in range(3):
        a.send(b"%03d" % i)
        b.recv()
    stats = a.statistics()
    assert isinstance(stats, dict)
    assert set(stats) == set(nn.Statistic)
    assert len(stats) == 17
    assert stats[nn.Statistic.TLS_HANDSHAKE_ERRORS] == 0
    assert stats[nn.Statistic.REFUSED_CONNECTIONS] == 0
    for key, value in stats.items():
        assert isinstance(key, nn.Statistic)
        assert isinstance(value, int)
        assert value >= 0
    assert stats[nn.Statistic.MESSAGES_SENT] == 3
    assert stats[nn.Statistic.BYTES_SENT] == 9
    assert stats[nn.Statistic.CURRENT_CONNECTIONS] == 1
    assert b.statistics()[nn.Statistic.MESSAGES_RECEIVED] == 3


@no_statistics
@pytest.mark.parametrize("protocol", ["req", "push"])
def test_send_priority_is_minus_one_without_a_peer(
    sock: SockFactory, addr: AddrFactory, protocol: str
) -> None:
    """REQ and PUSH report the priority of the peer they send to next, and -1 once no peer
    is left (the C call returns that as its error value; it is no error)."""
    s = sock(protocol)
    peer = sock("rep" if protocol == "req" else "pull")
    address = addr("inproc")
    peer.bind(address)
    s.connect(address)
    wait_until(lambda: s.statistic(nn.Statistic.CURRENT_SND_PRIORITY) == 8)
    peer.close()
    wait_until(lambda: s.statistic(nn.Statistic.CURRENT_SND_PRIORITY) == -1)
    assert s.statistics()[nn.Statistic.CURRENT_SND_PRIORITY] == -1


@no_statistics
@pytest.mark.parametrize("stat", list(nn.Statistic))
def test_statistic_by_member_name_and_dashed_name_agree(
    pair: tuple[nn.Socket, nn.Socket], stat: nn.Statistic
) -> None:
    a, b = pair
    a.send(b"abc")
    b.recv()
    dashed = stat.name.lower().replace("_", "-")
    assert a.statistic(stat) == a.statistic(dashed) == a.statistic(int(stat))


@no_statistics
def test_connection_statistics_over_tcp(sock: SockFactory) -> None:
    server, client = connected(sock, "pair", "pair", "tcp")
    client.send(b"x")
    server.recv()
    assert server.statistic("accepted-connections") == 1
    assert server.statistic("current-connections") == 1
    assert client.statistic("established-connections") == 1
    assert client.statistic("current-connections") == 1
    assert client.statistic("connect-errors") == 0


def test_statistic_unknown_name_is_value_error(sock: SockFactory) -> None:
    s = sock("pair")
    with pytest.raises(ValueError, match="messages-sent"):
        s.statistic("messages_snt")


@pytest.mark.backend("nng", reason="libnanomsg keeps statistics")
def test_statistics_not_supported_on_nng(sock: SockFactory) -> None:
    """nng's nn_get_statistic answers 0 for everything: the binding says NotSupported
    rather than report zeros."""
    s = sock("pair")
    for call in (
        lambda: s.statistic(nn.Statistic.MESSAGES_SENT),
        lambda: s.statistic("current-connections"),
        lambda: s.statistics(),
    ):
        with pytest.raises(nn.NotSupported) as info:
            call()
        assert info.value.errno == errno.ENOTSUP
        assert "nng" in str(info.value)
    # The name is still checked first.
    with pytest.raises(ValueError, match="messages-sent"):
        s.statistic("messages_snt")
