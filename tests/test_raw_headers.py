"""SP headers on raw sockets: backtraces received and sent with ``recv_msg``/``send_msg``, a
device written in Python, out-of-order replies on raw REP, and raw messages sent on cooked
sockets."""

from __future__ import annotations

import random
import threading

import pytest
from support import AddrFactory, SockFactory, connected, make_address, run_ok, star, timeouts

import nanomsg_rs as nn

MiB = 1024 * 1024


# --------------------------------------------------------------------------------------------
# SP headers on raw sockets
# --------------------------------------------------------------------------------------------


def check_backtrace(header: bytes | None) -> None:
    """A REQ/REP backtrace: 32-bit big-endian words, only the last with its top bit set."""
    assert header is not None
    assert len(header) >= 8 and len(header) % 4 == 0, header.hex()
    words = [header[i : i + 4] for i in range(0, len(header), 4)]
    assert words[-1][0] & 0x80, header.hex()
    assert not any(w[0] & 0x80 for w in words[:-1]), header.hex()


def test_raw_rep_out_of_order_replies(sock: SockFactory, transport: str) -> None:
    xrep, clients = star(sock, "rep", "req", 3, transport, raw=(True, False))
    for i, c in enumerate(clients):
        c.send(b"request %d" % i)
    received = [xrep.recv_msg() for _ in range(3)]
    assert sorted(bytes(m) for m in received) == [b"request 0", b"request 1", b"request 2"]
    for m in received:
        check_backtrace(m.header)
    assert len({m.header for m in received}) == 3
    # Answer in reverse order of arrival. One answer is the request itself, changed in
    # place and sent back without a copy; the others are new messages with the header.
    expected = {}
    for k, m in enumerate(reversed(received)):
        client = int(bytes(m).split()[-1])
        if k == 1:
            with memoryview(m) as mv:
                mv[:7] = b"ANSWER "
            expected[client] = bytes(m)
            xrep.send_msg(m)
        else:
            reply = nn.Message(b"answer to " + bytes(m))
            reply.header = m.header
            expected[client] = bytes(reply)
            xrep.send_msg(reply)
    assert sum(v.startswith(b"ANSWER ") for v in expected.values()) == 1
    for i, c in enumerate(clients):
        assert c.recv() == expected[i]


def test_raw_rep_unknown_route_is_dropped(sock: SockFactory) -> None:
    xrep, req = connected(sock, "rep", "req", raw=(True, False))
    req.send(b"question")
    m = xrep.recv_msg()
    assert m.header is not None
    real = m.header
    bogus = nn.Message(b"lost")
    bogus.header = b"\x7f\xff\xff\xff" + real[4:]  # a pipe id nobody has
    xrep.send_msg(bogus)  # nanomsg drops it silently
    reply = nn.Message(b"found")
    reply.header = real
    xrep.send_msg(reply)
    assert req.recv() == b"found"


def test_backtrace_through_a_chain_of_devices(sock: SockFactory) -> None:
    """Through three nn.device hops the raw REP at the end sees one backtrace word per hop
    (plus its own pipe and the request id), and its reply with that header finds the
    client."""
    hops = 3
    addresses = [make_address("inproc") for _ in range(hops + 1)]
    final = sock("rep", "sp-raw")
    final.bind(addresses[-1])
    devices = []
    for k in range(hops):
        front, back = sock("rep", "sp-raw"), sock("req", "sp-raw")
        front.bind(addresses[k])
        back.connect(addresses[k + 1])
        devices.append((front, back))
    client = sock("req")
    client.connect(addresses[0])
    timeouts(final, client)
    outcomes: list[BaseException] = []

    def relay(front: nn.Socket, back: nn.Socket) -> None:
        try:
            nn.device(front, back)
        except BaseException as e:
            outcomes.append(e)

    threads = [threading.Thread(target=relay, args=pair, daemon=True) for pair in devices]
    for t in threads:
        t.start()
    try:
        for i in range(5):
            client.send(b"deep %d" % i)
            m = final.recv_msg()
            assert m == b"deep %d" % i
            check_backtrace(m.header)
            assert m.header is not None and len(m.header) == 4 * (hops + 2), m.header.hex()
            reply = nn.Message(b"answer %d" % i)
            reply.header = m.header
            final.send_msg(reply)
            assert client.recv() == b"answer %d" % i
    finally:
        for front, back in devices:
            front.close()
            back.close()
        for t in threads:
            t.join(5)
    # every device ends as its sockets close (no nn.term() here)
    assert [type(e) for e in outcomes] == [nn.Closed] * hops, outcomes


COOKED_PAIRS = [
    ("req", "rep"),
    ("rep", "req"),
    ("surveyor", "respondent"),
    ("respondent", "surveyor"),
    ("pair", "pair"),
    ("push", "pull"),
    ("pub", "sub"),
    ("bus", "bus"),
]


@pytest.mark.parametrize(("sender", "peer"), COOKED_PAIRS, ids=[p[0] for p in COOKED_PAIRS])
def test_received_raw_message_sent_on_a_cooked_socket(sender: str, peer: str) -> None:
    """A message received on a raw REP carries a header; sending it on with send_msg on an
    ordinary (cooked) socket must not crash the interpreter, and the peer must not get the
    header bytes glued to the body: the cooked socket makes its own header and ignores the
    message's (send_msg's docstring). Runs in a child interpreter (libnanomsg aborts on
    asserts)."""
    run_ok(
        f"""
        import nanomsg_rs as nn

        xrep, client = nn.Socket("rep", "sp-raw"), nn.Socket("req")
        xrep.bind("inproc://raw"); client.connect("inproc://raw")
        s, peer = nn.Socket({sender!r}), nn.Socket({peer!r})
        peer.bind("inproc://cooked"); s.connect("inproc://cooked")
        for x in (xrep, client, s, peer):
            x.rcvtimeo = x.sndtimeo = 2000
        if {peer!r} == "sub":
            peer.subscribe(b"")
        if {sender!r} in ("pub", "bus"):
            # These drop what no peer takes yet, and nng connects inproc in the background:
            # probe until one is heard, then drop the probes still queued.
            import time
            peer.rcvtimeo = 50
            for _ in range(40):
                s.send(b"probe")
                try:
                    peer.recv()
                    break
                except nn.Timeout:
                    pass
            else:
                raise AssertionError("the peer never connected")
            time.sleep(0.05)
            while True:
                try:
                    peer.recv(block=False)
                except nn.Again:
                    break
            peer.rcvtimeo = 2000
        if {sender!r} in ("rep", "respondent"):
            # A request to answer first. A survey goes only to the respondents connected
            # when it is sent (nng connects inproc in the background): ask until heard.
            s.rcvtimeo = 100
            for _ in range(20):
                peer.send(b"question")
                try:
                    assert s.recv() == b"question"
                    break
                except nn.Timeout:
                    pass
            else:
                raise AssertionError("the question never arrived")
            s.rcvtimeo = 2000
        client.send(b"body")
        m = xrep.recv_msg()
        assert m == b"body" and m.header is not None and len(m.header) == 8, m.header
        assert s.send_msg(m) == 4
        got = peer.recv()
        assert got == b"body", f"the peer received {{got!r}}"
        print("ok")
        """,
        timeout=30,
    )


def test_python_device_on_raw_req_rep(sock: SockFactory, addr: AddrFactory) -> None:
    """A device written in Python (poll + recv_msg + send_msg on raw sockets) relays 1,000
    requests from 4 REQ clients to a REP server; every reply reaches its own client."""
    front = sock("rep", "sp-raw")  # faces the clients
    back = sock("req", "sp-raw")  # faces the server
    front_address = addr("tcp")
    back_address = addr("ipc")
    front.bind(front_address)
    back.bind(back_address)
    server = sock("rep")
    server.connect(back_address)
    timeouts(front, back, server)
    server.rcvtimeo = 100  # so that the server thread notices the end promptly
    stop = threading.Event()
    errors: list[BaseException] = []
    relayed = [0, 0]

    def device() -> None:
        try:
            while not stop.is_set():
                events = nn.poll([(front, nn.POLLIN), (back, nn.POLLIN)], 50)
                if events[0] & nn.POLLIN:
                    m = front.recv_msg(block=False)
                    assert m.header is not None
                    back.send_msg(m)
                    relayed[0] += 1
                if events[1] & nn.POLLIN:
                    m = back.recv_msg(block=False)
                    assert m.header is not None
                    front.send_msg(m)
                    relayed[1] += 1
        except BaseException as e:
            errors.append(e)

    served: list[bytes] = []

    def serve() -> None:
        try:
            while not stop.is_set():
                try:
                    request = server.recv()
                except nn.Timeout:
                    continue
                served.append(request)
                server.send(b"reply to " + request)
        except nn.Closed:
            pass
        except BaseException as e:
            errors.append(e)

    n_clients, per_client = 4, 250
    results: dict[int, list[tuple[bytes, bytes]]] = {}

    def client(cid: int) -> None:
        try:
            with nn.Socket("req") as c:
                c.connect(front_address)
                timeouts(c, ms=10000)
                out = results.setdefault(cid, [])
                rng = random.Random(cid)
                for i in range(per_client):
                    request = b"client %d request %d token %d" % (cid, i, rng.getrandbits(64))
                    c.send(request)
                    out.append((request, c.recv()))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=device, daemon=True), threading.Thread(target=serve)]
    threads[1].daemon = True
    for t in threads:
        t.start()
    clients = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(n_clients)]
    try:
        for t in clients:
            t.start()
        for t in clients:
            t.join(40)
            assert not t.is_alive(), "a client hung"
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    assert not errors, errors
    assert sorted(results) == list(range(n_clients))
    for cid, pairs in results.items():
        assert len(pairs) == per_client
        for request, reply in pairs:
            assert reply == b"reply to " + request, (cid, request, reply)
    assert len(served) == n_clients * per_client  # nothing was resent or duplicated
    assert relayed == [n_clients * per_client] * 2
