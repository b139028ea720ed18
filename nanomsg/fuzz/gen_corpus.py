#!/usr/bin/env python3
"""Writes the seed corpora corpus/<harness>/ (small, committed). Re-run after
changing the input formats of wire.c / api.c / tls.c:  python3 gen_corpus.py"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# wire.c server table order
SERVERS = [
    "pair",
    "pub",
    "sub",
    "req",
    "rep",
    "push",
    "pull",
    "surveyor",
    "respondent",
    "bus",
    "raw-rep",
    "raw-respondent",
    "pair-unlimited",
    "raw-bus-text",
    "pull-unlimited-text",
]
# wire.c client table order (targets after the servers)
CLIENTS = [
    "c-pair",
    "c-pub",
    "c-sub",
    "c-req",
    "c-rep",
    "c-push",
    "c-pull",
    "c-surveyor",
    "c-respondent",
    "c-bus",
    "c-raw-req",
    "c-raw-surveyor",
]
IDX = {n: i for i, n in enumerate(SERVERS + CLIENTS)}

GREET, RST, NOWAIT, FRAME, PROTO, PUMP, MASK, OWNPROTO = (
    0x01,
    0x02,
    0x04,
    0x08,
    0x10,
    0x20,
    0x40,
    0x80,
)


def chunks(*cs):
    return b"".join(struct.pack("<H", len(c)) + c for c in cs)


def wire(target, flags, *cs, proto=None, mask=None):
    out = bytes([IDX[target], flags])
    if proto is not None:
        out += struct.pack(">H", proto)
    if mask is not None:
        out += mask
    return out + chunks(*cs)


def reqid(i=1):
    return struct.pack(">I", 0x80000000 | i)


def body_for(target):
    """A valid message from the target's peer."""
    t = target.removeprefix("c-")
    if t in ("rep", "raw-rep", "respondent", "raw-respondent"):
        return reqid(7) + b"hello"
    if t in ("req", "surveyor", "raw-req", "raw-surveyor"):
        return reqid(1) + b"reply"  # unsolicited reply/response
    return b"hello"


def client_seeds(harness, ws=False):
    """Client targets: the harness is the server they connect to."""
    for t in CLIENTS:
        b = body_for(t)
        framed = (b"\x82" + b) if ws else b
        write(harness, f"{t}-valid", wire(t, GREET | FRAME, framed, framed))
        write(harness, f"{t}-valid-pump", wire(t, GREET | FRAME | PUMP, framed, framed))
        write(harness, f"{t}-greeting-only", wire(t, GREET))  # hangs up after: 0020
        write(harness, f"{t}-no-greeting", wire(t, 0))  # hangs up during: 0021 on ws
        write(harness, f"{t}-rst", wire(t, GREET | FRAME | RST, framed))
    # a reply the REQ drops, then the REQ closes (the 0019 double free)
    stray = b"\x00\x00\x00\x01" + b"x" * 256
    for t in ("c-req", "c-raw-req", "c-surveyor"):
        write(harness, f"{t}-stray", wire(t, GREET | FRAME, (b"\x82" + stray) if ws else stray))
        write(
            harness,
            f"{t}-stray-pump",
            wire(t, GREET | FRAME | PUMP, (b"\x82" + stray) if ws else stray),
        )
    if ws:
        write(
            harness, "c-pair-masked", wire("c-pair", GREET | FRAME | MASK, b"\x82x", mask=b"1234")
        )
        write(harness, "c-pair-own-proto", wire("c-pair", GREET | FRAME | OWNPROTO, b"\x82x"))
        write(harness, "c-pair-close", wire("c-pair", GREET | FRAME, b"\x88\x03\xe8bye"))
    else:
        write(harness, "c-req-send-early", wire("c-req", GREET | FRAME | OWNPROTO, stray))
        write(harness, "c-pair-wrong-proto", wire("c-pair", GREET | PROTO, proto=0x51))


def write(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def stream_seeds(harness):
    for t in SERVERS:
        b = body_for(t)
        write(harness, f"{t}-valid", wire(t, GREET | FRAME, b, b + b"2"))
        write(harness, f"{t}-valid-pump", wire(t, GREET | FRAME | PUMP, b, b))
        write(harness, f"{t}-greeting-only", wire(t, GREET))
        write(harness, f"{t}-noframe", wire(t, GREET, b"\x00" * 7 + b"\x05hello"))
        write(harness, f"{t}-rst", wire(t, GREET | FRAME | RST, b))
    write(
        harness,
        "raw-rep-hops",
        wire("raw-rep", GREET | FRAME | PUMP, struct.pack(">III", 1, 2, 0x80000003) + b"x"),
    )
    write(harness, "rep-no-reqid", wire("rep", GREET | FRAME, b"\x00\x00\x00\x01"))
    write(harness, "bad-header", wire("pair", 0, b"\x00SP\x01\x00\x10\x00\x00"))
    write(harness, "wrong-proto", wire("pair", GREET | FRAME | PROTO, b"x", proto=0x51))
    write(harness, "random", wire("bus", 0, bytes(range(64))))
    write(harness, "sub-to-pub", wire("pub", GREET | FRAME, b"x"))  # known: xpub.c:134


def ws_request(proto, extra=b"", version=b"13", key=b"dGhlIHNhbXBsZSBub25jZQ=="):
    return (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
        b"Sec-WebSocket-Version: " + version + b"\r\n"
        b"Sec-WebSocket-Protocol: " + proto + b".sp.nanomsg.org\r\n" + extra + b"\r\n"
    )


def ws_seeds():
    h = "wire-ws"
    peers = {
        "pair": "pair",
        "pub": "sub",
        "sub": "pub",
        "req": "rep",
        "rep": "req",
        "push": "pull",
        "pull": "push",
        "surveyor": "respondent",
        "respondent": "surveyor",
        "bus": "bus",
        "raw-rep": "req",
        "raw-respondent": "surveyor",
        "pair-unlimited": "pair",
        "raw-bus-text": "bus",
        "pull-unlimited-text": "push",
    }
    for t in SERVERS:
        b = body_for(t)
        write(h, f"{t}-binary", wire(t, GREET | FRAME, b"\x82" + b, b"\x82" + b))
        write(h, f"{t}-pump", wire(t, GREET | FRAME | PUMP, b"\x82" + b))
        write(h, f"{t}-text", wire(t, GREET | FRAME, b"\x81" + b))
        # the upgrade sent as raw chunk (so the fuzzer mutates the request)
        write(h, f"{t}-raw-upgrade", wire(t, 0, ws_request(peers[t].encode())))
    for op, name in [
        (0x88, "close"),
        (0x89, "ping"),
        (0x8A, "pong"),
        (0x80, "cont"),
        (0x83, "reserved"),
        (0xC2, "rsv1"),
        (0x8B, "ctl-reserved"),
    ]:
        write(h, f"op-{name}", wire("pair", GREET | FRAME, bytes([op]) + b"\x03\xe8bye"))
    write(h, "fragmented", wire("pair", GREET | FRAME, b"\x02ab", b"\x00cd", b"\x80ef"))
    write(h, "masked", wire("pair", GREET | FRAME | MASK, b"\x82hello", mask=b"\x12\x34\x56\x78"))
    write(h, "own-proto", wire("pair", GREET | FRAME | OWNPROTO, b"\x82x"))
    write(h, "long-frame", wire("pull", GREET | FRAME, b"\x82" + b"L" * 300))
    write(h, "unmasked-raw", wire("pair", GREET, b"\x82\x05hello"))
    write(
        h,
        "len64-raw",
        wire("pair-unlimited", GREET, b"\x82\xff" + b"\x7f" + b"\xff" * 7 + b"\0\0\0\0"),
    )
    write(h, "bad-version", wire("pair", 0, ws_request(b"pair", version=b"12")))
    write(
        h,
        "no-proto",
        wire(
            "pair",
            0,
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        ),
    )
    write(h, "garbage", wire("pair", 0, b"POST /x HTTP/1.0\r\n\r\n"))


def api_seeds():
    h = "api"

    def sock(slot, proto, raw=False):
        # op 0: nn_socket; proto byte: index into protocols[], 0x80 raw
        return bytes([0, slot, proto | (0x80 if raw else 0)])

    def bind(slot, a, e=0):
        return bytes([2, slot, e, a])

    def conn(slot, a, e=0):
        return bytes([3, slot, e, a])

    def send(slot, data):
        return bytes([5, slot, len(data)]) + data

    def recv(slot):
        return bytes([7, slot, 1])

    def close(slot):
        return bytes([13, slot])

    def sub(slot, topic, unsub=False):
        return bytes([11, slot, len(topic) | (8 if unsub else 0)]) + topic

    def wait(n=20):
        return bytes([19, 0, n])

    # protocols[]: 0 PAIR 1 PUB 2 SUB 3 REQ 4 REP 5 PUSH 6 PULL 7 SURVEYOR 8 RESPONDENT 9 BUS
    pairs = [(0, 0), (1, 2), (3, 4), (5, 6), (7, 8), (9, 9)]
    for a in range(0, 8):
        for p, q in pairs:
            seq = sock(0, p) + sock(1, q) + bind(0, a) + conn(1, a)
            if q == 2:
                seq += sub(1, b"")
            seq += wait(60) + send(0, b"hello") + send(1, b"world") + wait(60)
            seq += recv(1) + recv(0) + bytes([14, 0, 0x0F]) + close(0) + close(1)
            write(h, f"pair{p}{q}-addr{a}", seq)
    # raw sockets
    write(
        h,
        "raw-rep",
        sock(0, 4, True)
        + sock(1, 3)
        + bind(0, 0)
        + conn(1, 0)
        + send(1, b"q")
        + wait()
        + bytes([16, 0, 0x2C])
        + bytes([15, 0, 0x2C, 5])
        + b"\x10\x00\0\0\0\0\0\0\x01\0\0\0\x01\0\0\0\x80",
    )
    # sendmsg/recvmsg with iovecs and control
    write(
        h,
        "sendmsg",
        sock(0, 0)
        + sock(1, 0)
        + bind(0, 1)
        + conn(1, 1)
        + bytes([15, 0, 0x1A, 3])
        + b"abc"
        + bytes([4])
        + b"defg"
        + bytes([24])
        + b"\x18"
        + b"\0" * 23
        + bytes([16, 1, 0x0A, 5, 5, 40]),
    )
    # options
    write(
        h,
        "opts",
        sock(0, 2)
        + bytes([9, 0, 0, 16, 0, 2])
        + bytes([12, 0, 0, 16, 8])
        + bytes([10, 0, 2, 1, 3, 3])
        + b"abc"
        + bytes([12, 0, 0, 15, 64])
        + bytes([9, 0, 9, 1, 0, 4, 1, 0, 0, 0]),
    )
    write(
        h,
        "alloc",
        sock(0, 5)
        + sock(1, 6)
        + bind(1, 0)
        + conn(0, 0)
        + bytes([17, 0, 0, 10, 0])
        + bytes([17, 0, 1, 0, 1])
        + bytes([17, 0, 2, 0, 0])
        + recv(1),
    )
    # a received message kept (op 7, k & 2) and grown by 4 bytes in place (op 17 realloc),
    # on a raw REP, whose received bodies have room in front (0028), then freed
    write(
        h,
        "realloc-received",
        sock(0, 4, True)
        + sock(1, 3)
        + bind(0, 0)
        + conn(1, 0)
        + wait()
        + send(1, b"r" * 40)
        + wait()
        + bytes([7, 0, 3])
        + bytes([17, 0, 1, 44, 0])
        + bytes([17, 0, 2, 0, 0])
        + bytes([17, 0, 3, 0, 0]),
    )

    # large sends with NN_DONTWAIT (op 145: 5 with the high bit; 16 KiB + 320 * size byte of one
    # byte) until the pipe is full, so that nn_sendmsg finds a socket that cannot take one
    # before it copies it (0086); then the receiver takes some and the sender goes on. A PUSH
    # and its PULL over inproc, ipc and tcp, and a PUB (always writable) to a SUB.
    def large(slot, size_byte, fill):
        return bytes([145, slot, size_byte, fill])  # 145 % 20 == 5, high bit set

    for a, name in ((0, "inproc"), (2, "ipc"), (4, "tcp")):
        for p, q, label in ((5, 6, "push"), (1, 2, "pub")):
            seq = sock(0, p) + sock(1, q) + bind(1, a) + conn(0, a)
            if q == 2:
                seq += sub(1, b"")
            seq += wait(60)
            seq += b"".join(large(0, 255 - 40 * i, 0x41 + i) for i in range(6))
            seq += wait(20) + recv(1) + recv(1) + large(0, 0, 0x5A) + recv(1) + wait(20)
            seq += large(0, 255, 0x61) + close(0) + close(1)
            write(h, f"large-dontwait-{label}-{name}", seq)
    # six large buffers held at once (op 17, bits 2-4 pick the message), then freed in a
    # row: the chunk cache (0029) has four slots, so the last two frees find it full; then
    # one taken back out of the cache (a hit) and a size that fits no slot (an eviction)
    big = struct.pack("<H", 65000)
    write(
        h,
        "chunk-cache-full",
        b"".join(bytes([17, 0, j << 2]) + big for j in range(6))
        + b"".join(bytes([17, 0, (j << 2) | 3, 0, 0]) for j in range(6))
        + bytes([17, 0, 0])
        + big
        + bytes([17, 0, 4])
        + struct.pack("<H", 33000)
        + bytes([17, 0, 3, 0, 0])
        + bytes([17, 0, 7, 0, 0]),
    )
    # a PAIR reconnecting at once (NN_RECONNECT_IVL 0, NN_RECONNECT_IVL_MAX INT_MAX) to a
    # port nobody listens on, given ~4 ms: the backoff doubles n past INT_MAX after 31
    # refusals, which UBSan halts on without 0016 (on the first run of the input)
    write(
        h,
        "backoff-at-once",
        sock(0, 0)
        + bytes([9, 0, 0, 6, 0, 0])
        + bytes([9, 0, 0, 7, 0, 5])
        + conn(0, 4)
        + wait(63) * 58,
    )
    # a ws PAIR sends with 16 bytes of control data (one cmsghdr of level 0): small enough to
    # be kept inline in the message's chunkref, one byte past an aligned address; the ws
    # transport walks it with NN_CMSG_FIRSTHDR: a misaligned member access without 0018
    ctrl = struct.pack("<Qii", 16, 0, 0)
    send_ctrl = bytes([15, 1, 0x09, 1]) + b"x" + bytes([len(ctrl)]) + ctrl
    write(
        h,
        "ws-control-inline",
        sock(0, 0)
        + sock(1, 0)
        + bind(0, 6)
        + conn(1, 6)
        + wait(63) * 20
        + (send_ctrl + wait(63) * 6) * 4,
    )
    write(
        h,
        "symbols",
        bytes([18, 0, 0, 3])
        + bytes([18, 0, 1, 4, 5, 0, 0, 0])
        + bytes([18, 0, 3, 4, 0xE9, 3, 0, 0]),
    )
    write(h, "shutdown", sock(0, 0) + bind(0, 4) + bytes([4, 0, 0]) + bind(0, 4) + close(0))
    # the lazy readiness fds (0035): a PAIR counted in as a waiter on both fds (raw option
    # 0xf2, NN_POLL_ENTER, value 3) before a message comes, polled, received, counted out
    # (0xf3) twice (the second is EINVAL), counted in again and closed while counted in
    enter, leave = bytes([9, 1, 0, 0xF2, 0x80, 0x1B]), bytes([9, 1, 0, 0xF3, 0x80, 0x1B])
    write(
        h,
        "lazy-waiters",
        sock(0, 0)
        + sock(1, 0)
        + bind(0, 0)
        + conn(1, 0)
        + wait()
        + enter
        + send(0, b"lazy")
        + wait()
        + bytes([14, 0, 0x0F])
        + recv(1)
        + leave
        + leave
        + enter
        + close(1)
        + close(0),
    )
    # known crashes of unpatched 1.1.5 (sanity checks)
    write(
        h,
        "known-inproc-pair3",
        sock(0, 0)
        + sock(1, 0)
        + sock(2, 0)
        + bind(0, 0)
        + conn(1, 0)
        + conn(2, 0)
        + wait()
        + close(0)
        + close(1)
        + close(2),
    )
    write(h, "known-unsubscribe", sock(0, 2) + sub(0, b"abc", unsub=True))

    # ipc paths (0031): the endpoint byte 0xa0 | which << 2 picks api.c's ipc_special: 0 the
    # directory, 1 the directory with a '/', 2 a regular file, 3 a path of 108 + (next byte
    # % 14) bytes; op 19 with 0xc0 | 8 (directory) or 0xc0 (regular file) | n replaces what
    # is at ipc path a<n>. Upstream aborts on each (bipc.c:309, :292, cipc.c:402, :177).
    def special(op, slot, which, extra=b""):
        return bytes([op, slot, 0xA0 | which << 2]) + extra

    write(
        h,
        "ipc-paths",
        sock(0, 0)
        + sock(1, 0)
        + special(2, 0, 0)
        + special(2, 0, 1)
        + special(2, 0, 2)
        + special(3, 1, 2)
        + special(2, 0, 3, bytes([0]))
        + special(3, 1, 3, bytes([13]))
        + bind(0, 2)
        + conn(1, 2)
        + wait()
        + send(1, b"over ipc")
        + wait()
        + recv(0)
        + bytes([19, 0, 0xC8])
        + close(0)
        + close(1),
    )
    # NN_RCVMAXPARTIAL (0033): setsockopt kind 0x40 (and getsockopt level byte 0x40 on
    # NN_SOL_SOCKET) reach it; a cap of 0, messages over tcp, ipc and ws, then -1
    for a in (4, 2, 6):
        write(
            h,
            f"rcvmaxpartial-addr{a}",
            sock(0, 6)
            + sock(1, 5)
            + sock(2, 5)
            + bytes([9, 0, 0, 0, 0x40, 0])
            + bind(0, a)
            + conn(1, a)
            + conn(2, a)
            + wait(60)
            + send(1, b"x" * 40)
            + send(2, b"y" * 200)
            + send(1, b"z" * 100)
            + wait(60)
            + recv(0)
            + recv(0)
            + recv(0)
            + bytes([12, 0, 0x40, 0, 8])
            + bytes([9, 0, 0, 0, 0x40, 2])
            + close(0),
        )

    # the liveness options (0050, 0051): setsockopt raw option bytes 0xe8-0xec (kind 0x80);
    # keepalive on (1.5 s, 1 s, 3) on both sockets and a connect timeout of 1 ms on the
    # connecting one, which connects to a listener and to an address nobody listens on
    def opt(slot, option, value):
        return bytes([9, slot, 0, option, 0x80]) + value

    for a in (4, 6):
        liveness = b"".join(
            opt(s, 0xE8, b"\x01")
            + opt(s, 0xE9, bytes([7, 15]))
            + opt(s, 0xEA, bytes([7, 10]))
            + opt(s, 0xEB, bytes([3 << 3 | 3]))
            for s in (0, 1)
        )
        write(
            h,
            f"liveness-addr{a}",
            sock(0, 0)
            + sock(1, 0)
            + liveness
            + opt(0, 0xEC, b"\x01")
            + bind(1, a)
            + conn(0, a)
            + conn(0, a + 1, 1)
            + wait(60) * 8
            + send(0, b"alive")
            + wait(60) * 4
            + recv(1)
            + close(0)
            + close(1),
        )
    # a bound socket's file replaced by a regular file, its endpoint shut down, bound again
    write(
        h,
        "ipc-file-replaced",
        sock(0, 5)
        + bind(0, 3)
        + bytes([19, 0, 0xC1])
        + bytes([4, 0, 0])
        + bind(0, 3)
        + bytes([19, 0, 0xC9])
        + close(0),
    )


def sub_trie_seeds():
    """Messages to the server SUB that end inside, at and past the nodes of its trie
    (wire.c's subscribe_trie), the 40-byte stem among them (0030)."""
    stem = b"x" * 40
    messages = [stem, stem + b"a", stem + b"c", b"a", b"ab", b"abc", b"abcdefghijk", b"\x05z"]
    for h in ("wire-tcp", "wire-ipc", "wire-ws"):
        framed = [b"\x82" + m for m in messages] if h == "wire-ws" else messages
        write(h, "sub-trie", wire("sub", GREET | FRAME, *framed))


# tls.c: its server and client tables, its flags
TLS_SERVERS = [
    "pair",
    "rep",
    "pub",
    "sub",
    "pull",
    "bus",
    "respondent",
    "pair-unlimited",
    "rep-mutual",
]
TLS_CLIENTS = ["c-pair", "c-req", "c-sub", "c-push", "c-bus"]
TLS, RST, SPHDR, TLS12, ROUTE, PUMP, REKEY, CERT = 1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80


def tls_input(target, flags, *cs):
    names = TLS_SERVERS + TLS_CLIENTS
    return bytes([names.index(target), flags]) + chunks(*cs)


def client_hello(tls12=False):
    """A real ClientHello (Python's ssl on a memory BIO), as the first flight."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    conn = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        conn.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def sp(size, body=b""):
    return struct.pack(">Q", size) + body


def tls_seeds():
    """Both ways of tls.c: raw bytes from the first one (the handshake and record layer),
    and messages inside a real TLS session (the SP mapping, records cut anywhere)."""
    hello = client_hello()
    hello12 = client_hello(tls12=True)
    rid = struct.pack(">I", 0x80000001)
    seeds = {
        # raw: no TLS, or TLS records the library must refuse
        "raw-plaintext-sp": tls_input("rep", 0, b"\0SP\0\0\x30\0\0"),
        "raw-http": tls_input("pair", 0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        "raw-client-hello": tls_input("pair", 0, hello),
        "raw-client-hello-12": tls_input("rep", 0, hello12),
        "raw-client-hello-split": tls_input("pair", 0, hello[:3], hello[3:40], hello[40:]),
        "raw-client-hello-garbage": tls_input(
            "pub", 0, hello + b"\x17\x03\x03\x00\x10" + b"x" * 16
        ),
        "raw-oversized-record": tls_input("pair", 0, b"\x16\x03\x01\xff\xff" + b"\0" * 64),
        "raw-truncated-record": tls_input("rep", 0, b"\x16\x03\x01\x00\x40" + b"\x01" * 10),
        "raw-empty-records": tls_input("pair", 0, b"\x16\x03\x01\x00\x00" * 8),
        "raw-alert": tls_input("pair", 0, b"\x15\x03\x03\x00\x02\x02\x28"),
        "raw-sslv2-hello": tls_input("pair", 0, b"\x80\x2e\x01\x03\x01" + b"\0" * 44),
        "raw-to-client-plaintext-sp": tls_input("c-pair", 0, b"\0SP\0\0\x10\0\0"),
        "raw-to-client-http": tls_input("c-req", 0, b"HTTP/1.1 400 Bad Request\r\n\r\n"),
        "raw-to-client-record": tls_input("c-sub", 0, b"\x16\x03\x03\x00\x30" + b"\x02" * 48),
        # TLS, then the SP mapping inside
        "tls-req": tls_input("rep", TLS | SPHDR, sp(9, rid + b"hello")),
        "tls12-req": tls_input("rep", TLS | TLS12 | SPHDR, sp(9, rid + b"hello")),
        "tls-pair-split": tls_input(
            "pair", TLS, b"\0SP", b"\0\0\x10\0\0", sp(5)[:3], sp(5)[3:] + b"hello"
        ),
        "tls-pair-many": tls_input(
            "pair", TLS | SPHDR, *[sp(1, b"%d" % (i % 10)) for i in range(40)]
        ),
        "tls-pair-big": tls_input(
            "pair", TLS | SPHDR, sp(40000, b"z" * 16000), b"z" * 16000, b"z" * 8000
        ),
        "tls-wrong-protocol": tls_input("pair", TLS, b"\0SP\0\0\x30\0\0", sp(1, b"x")),
        "tls-no-sp-header": tls_input("pull", TLS, b"GET / HTTP/1.1\r\n\r\n"),
        "tls-huge-size": tls_input("pair-unlimited", TLS | SPHDR, b"\x40" + b"\0" * 7),
        "tls-over-rcvmaxsize": tls_input("pair", TLS | SPHDR, sp(2 << 20, b"x")),
        "tls-forged-record": tls_input(
            "pair",
            TLS | SPHDR | ROUTE,
            b"\x00" + sp(1, b"a"),
            b"\x80\x17\x03\x03\x00\x20" + b"\xee" * 32,
        ),
        "tls-raw-truncated-after": tls_input(
            "rep", TLS | SPHDR | ROUTE, b"\x80\x17\x03\x03\x40\x00" + b"\x01" * 20
        ),
        "tls-handshake-record-after": tls_input("pair", TLS | SPHDR | ROUTE, b"\x80" + hello),
        "tls13-key-update": tls_input("pair", TLS | SPHDR | REKEY, sp(2, b"ku")),
        "tls12-renegotiate": tls_input("pair", TLS | TLS12 | SPHDR | REKEY, sp(2, b"rn")),
        "tls-pumped-bus": tls_input("bus", TLS | SPHDR | PUMP, sp(5, b"hello"), sp(5, b"again")),
        "tls-pumped-respondent": tls_input("respondent", TLS | SPHDR | PUMP, sp(9, rid + b"query")),
        "tls-sub": tls_input("sub", TLS | SPHDR, sp(5, b"hello")),
        "tls-mutual-with-cert": tls_input("rep-mutual", TLS | SPHDR | CERT, sp(9, rid + b"hello")),
        "tls-mutual-without-cert": tls_input("rep-mutual", TLS | SPHDR, sp(9, rid + b"hello")),
        "tls-rst": tls_input("pair", TLS | SPHDR | RST, sp(100, b"cut")),
        # TLS to the library's clients: the harness is the server
        "tls-to-client-rep": tls_input("c-req", TLS | SPHDR | PUMP, sp(9, rid + b"reply")),
        "tls12-to-client-pub": tls_input("c-sub", TLS | TLS12 | SPHDR, sp(5, b"hello")),
        "tls-to-client-pull": tls_input("c-push", TLS | SPHDR | PUMP, b""),
        "tls-to-client-key-update": tls_input("c-pair", TLS | SPHDR | REKEY, sp(1, b"k")),
        "tls12-to-client-renegotiate": tls_input("c-bus", TLS | TLS12 | SPHDR | REKEY, sp(1, b"r")),
        "tls-to-client-forged": tls_input(
            "c-pair", TLS | SPHDR | ROUTE, b"\x80\x17\x03\x03\x00\x10" + b"\x99" * 16
        ),
    }
    for name, data in seeds.items():
        write("tls", name, data)


if __name__ == "__main__":
    sub_trie_seeds()
    stream_seeds("wire-tcp")
    stream_seeds("wire-ipc")
    client_seeds("wire-tcp")
    client_seeds("wire-ipc")
    client_seeds("wire-ws", ws=True)
    write("wire-ipc", "bad-type-byte", wire("pair", GREET, b"\x02" + b"\0" * 7 + b"\x01x"))
    write("wire-tcp", "len-2-63", wire("pair-unlimited", GREET, b"\x80" + b"\0" * 7))
    write("wire-ipc", "len-2-63", wire("pair-unlimited", GREET, b"\x01\x80" + b"\0" * 7))
    ws_seeds()
    api_seeds()
    tls_seeds()
