"""The messages of common mistakes, word for word: each row is the code a new user would write
and the exact text they get, so that changing a message is a deliberate change here.

In the code, ``S(...)`` makes a socket (closed after the row) and ``s`` is the socket the
message names; ``{s}`` in the message stands for its number and ``{addr}`` for ``addr``, a
fresh address. The same rows run on the nng backend, where the messages are the same.
"""

from __future__ import annotations

import asyncio
import errno
import pickle
import warnings
from typing import Any

import pytest
from support import make_address, only_on, wait_reachable

import nanomsg_rs as nn

PORT_HINT = "tcp addresses need a port: tcp://host:port, e.g. tcp://127.0.0.1:5555"
SCHEME_HINT = (
    "an address is transport://where, e.g. tcp://127.0.0.1:5555, ipc:///tmp/app.ipc or "
    "inproc://name"
)

# (id, code, exception class, exact message)
MISTAKES: list[tuple[str, str, type[BaseException], str]] = [
    # -- addresses
    (
        "bind without a port",
        's = S("pub"); s.bind("tcp://nohost")',
        nn.InvalidArgument,
        f"bind('tcp://nohost') on PUB socket {{s}}: {PORT_HINT}",
    ),
    (
        "connect without a port",
        's = S("sub"); s.connect("tcp://localhost")',
        nn.InvalidArgument,
        f"connect('tcp://localhost') on SUB socket {{s}}: {PORT_HINT}",
    ),
    (
        "no transport",
        's = S("pub"); s.bind("127.0.0.1:5555")',
        nn.InvalidArgument,
        f"bind('127.0.0.1:5555') on PUB socket {{s}}: {SCHEME_HINT}",
    ),
    (
        "unknown transport",
        's = S("pair"); s.bind("udp://127.0.0.1:5555")',
        nn.NotSupported,
        "bind('udp://127.0.0.1:5555') on PAIR socket {s}: unknown transport 'udp'; use one of "
        "inproc, ipc, tcp, ws, tls+tcp, wss",
    ),
    (
        "port out of range",
        's = S("rep"); s.bind("tcp://127.0.0.1:70000")',
        nn.InvalidArgument,
        "bind('tcp://127.0.0.1:70000') on REP socket {s}: the port must be a number from 1 to "
        "65535, e.g. tcp://127.0.0.1:5555",
    ),
    (
        "bind to a host name",
        's = S("rep"); s.bind("tcp://localhost:5555")',
        nn.NanomsgError,
        "bind('tcp://localhost:5555') on REP socket {s}: no local interface or address is called "
        "'localhost': bind() takes an IP address of this machine, * for all of them, or an "
        "interface name (connect() is the one that takes host names)",
    ),
    (
        "tcp address in use",
        'S("pair").bind(addr); s = S("pair"); s.bind(addr)',
        nn.AddressInUse,
        "bind('{addr}') on PAIR socket {s}: the address is in use: another socket, of this "
        "process or another, is bound to it; close that one or pick another address",
    ),
    (
        "inproc name in use",
        'S("pair").bind(inproc); s = S("pair"); s.bind(inproc)',
        nn.AddressInUse,
        "bind('{inproc}') on PAIR socket {s}: another socket of this process is bound to that "
        "name already",
    ),
    (
        "ipc directory missing",
        's = S("pull"); s.bind("ipc:///no/such/dir/x.ipc")',
        nn.NanomsgError,
        "bind('ipc:///no/such/dir/x.ipc') on PULL socket {s}: the directory of that ipc path "
        "does not exist",
    ),
    (
        "address not str",
        's = S("pull"); s.bind(5555)',
        TypeError,
        "address must be str or bytes, not int",
    ),
    (
        "endpoint shut down twice",
        's = S("pair"); e = s.bind(inproc); e.shutdown(); e.shutdown()',
        nn.InvalidArgument,
        "shutdown('{inproc}') on PAIR socket {s}: the socket has no such endpoint (shut down "
        "already?)",
    ),
    # -- the wrong socket for the call
    (
        "send on SUB",
        's = S("sub"); s.connect(inproc); s.send(b"x")',
        nn.NotSupported,
        "send() on SUB socket {s}: SUB sockets cannot send; use a PUB to publish",
    ),
    (
        "send on PULL",
        's = S("pull"); s.bind(inproc); s.send(b"x")',
        nn.NotSupported,
        "send() on PULL socket {s}: PULL sockets cannot send; use a PUSH to send to a PULL",
    ),
    (
        "recv on PUB",
        's = S("pub"); s.bind(inproc); s.recv()',
        nn.NotSupported,
        "recv() on PUB socket {s}: PUB sockets cannot receive; use a SUB to receive what a PUB "
        "publishes",
    ),
    (
        "recv on PUSH",
        's = S("push"); s.bind(inproc); s.recv()',
        nn.NotSupported,
        "recv() on PUSH socket {s}: PUSH sockets cannot receive; use a PULL to receive what a "
        "PUSH sends",
    ),
    (
        "subscribe on PUB",
        's = S("pub"); s.subscribe(b"news")',
        nn.NanomsgError,
        "subscribe(b'news') on PUB socket {s}: only SUB sockets subscribe; this is a PUB",
    ),
    # -- the protocol's order
    (
        "REQ recv before send",
        's = S("req"); s.connect(inproc); s.recv()',
        nn.BadState,
        "recv() on REQ socket {s}: recv() before send(): a REQ socket must send a request first",
    ),
    (
        "REP send before recv",
        's = S("rep"); s.bind(inproc); s.send(b"x")',
        nn.BadState,
        "send() on REP socket {s}: send() before recv(): a REP socket must receive a request "
        "first, and sends one reply to each",
    ),
    (
        "SURVEYOR recv with no survey",
        's = S("surveyor"); s.bind(inproc); s.recv()',
        nn.BadState,
        "recv() on SURVEYOR socket {s}: no survey is going on: send() a survey first",
    ),
    (
        "RESPONDENT send before a survey",
        's = S("respondent"); s.connect(inproc); s.send(b"x")',
        nn.BadState,
        "send() on RESPONDENT socket {s}: send() before recv(): a RESPONDENT must receive a "
        "survey first, and answers each once",
    ),
    # -- waiting
    (
        "recv timed out",
        's = S("pull"); s.bind(inproc); s.rcvtimeo = 50; s.recv()',
        nn.Timeout,
        "recv() on PULL socket {s}: timed out after 50 ms (rcvtimeo): no message arrived",
    ),
    (
        "send timed out",
        's = S("push"); s.bind(inproc); s.sndtimeo = 50; s.send(b"x")',
        nn.Timeout,
        "send() on PUSH socket {s}: timed out after 50 ms (sndtimeo): no peer took the message",
    ),
    (
        "survey over",
        's = S("surveyor"); s.bind(inproc); s.surveyor_deadline = 20; s.send(b"?"); s.recv()',
        nn.Timeout,
        "recv() on SURVEYOR socket {s}: the survey is over: its deadline of 20 ms "
        "(surveyor_deadline) passed; send() a new survey to ask again",
    ),
    (
        "recv without waiting",
        's = S("pull"); s.bind(inproc); s.recv(block=False)',
        nn.Again,
        "recv() on PULL socket {s}: no message is waiting (block=False)",
    ),
    (
        "send without waiting",
        's = S("push"); s.bind(inproc); s.send(b"x", block=False)',
        nn.Again,
        "send() on PUSH socket {s}: the message cannot go now without waiting (block=False): "
        "no peer is ready",
    ),
    (
        "recv timed out with no endpoint",
        's = S("pull"); s.rcvtimeo = 20; s.recv()',
        nn.Timeout,
        "recv() on PULL socket {s}: timed out after 20 ms (rcvtimeo): no message arrived; the "
        "socket is neither bound nor connected",
    ),
    (
        "async recv timed out",
        's = S("pull"); s.bind(inproc); s.rcvtimeo = 30; asyncio.run(s.arecv())',
        nn.Timeout,
        "arecv() on PULL socket {s}: timed out after 30 ms (rcvtimeo): no message arrived",
    ),
    # -- closed sockets
    (
        "send on a closed socket",
        's = S("pair"); s.close(); s.send(b"x")',
        nn.Closed,
        "send() on PAIR socket {s}: the socket is closed",
    ),
    (
        "bind on a closed socket",
        's = S("pair"); s.close(); s.bind(inproc)',
        nn.Closed,
        "bind('{inproc}') on PAIR socket {s}: the socket is closed",
    ),
    (
        "option of a closed socket",
        's = S("pair"); s.close(); s.rcvtimeo',
        nn.Closed,
        "reading rcvtimeo on PAIR socket {s}: the socket is closed",
    ),
    (
        "async recv on a closed socket",
        's = S("pair"); s.close(); asyncio.run(s.arecv())',
        nn.Closed,
        "arecv() on PAIR socket {s}: the socket is closed",
    ),
    # -- options
    (
        "misspelt option",
        's = S("pair"); s.rcvtimeout = 5',
        AttributeError,
        "Socket has no option or attribute 'rcvtimeout'; did you mean 'rcvtimeo' or "
        "'connect_timeout'?",
    ),
    (
        "option of the wrong type",
        's = S("pair"); s.rcvtimeo = "5"',
        TypeError,
        "rcvtimeo must be an int, not str",
    ),
    (
        "read-only option",
        's = S("pair"); s.rcvfd = 3',
        AttributeError,
        "option 'rcvfd' is read-only",
    ),
    (
        "priority out of range",
        's = S("pair"); s.sndprio = 0',
        nn.InvalidArgument,
        "setting sndprio to 0 on PAIR socket {s}: sndprio must be from 1 (highest) to 16",
    ),
    (
        "maxttl out of range",
        's = S("pair"); s.maxttl = 300',
        nn.InvalidArgument,
        "setting maxttl to 300 on PAIR socket {s}: maxttl must be from 1 to 255",
    ),
    (
        "name too long",
        's = S("pair"); s.socket_name = "n" * 64',
        nn.InvalidArgument,
        f"setting socket_name to '{'n' * 64}' on PAIR socket {{s}}: socket_name must be at most "
        "63 bytes",
    ),
    (
        "option of another protocol",
        's = S("pub"); s.surveyor_deadline',
        nn.NanomsgError,
        "reading surveyor_deadline on PUB socket {s}: surveyor_deadline is an option of SURVEYOR "
        "sockets only, not of PUB",
    ),
    (
        "rcvfd of a send-only socket",
        's = S("pub"); s.rcvfd',
        nn.NanomsgError,
        "reading rcvfd on PUB socket {s}: PUB sockets cannot receive, so they have no rcvfd",
    ),
    (
        "unsubscribe what was never subscribed",
        's = S("sub"); s.unsubscribe(b"news")',
        nn.InvalidArgument,
        "unsubscribe(b'news') on SUB socket {s}: that prefix is not subscribed",
    ),
    # -- making sockets
    (
        "unknown protocol",
        's = S("publisher")',
        ValueError,
        "unknown protocol 'publisher'; choose one of 'pair', 'pub', 'sub', 'req', 'rep', 'push', "
        "'pull', 'surveyor', 'respondent', 'bus'",
    ),
    (
        "data of the wrong type",
        's = S("pair"); s.connect(inproc); s.send(42)',
        TypeError,
        "data must be bytes, str or a buffer, not int",
    ),
]


# Rows whose mistake nng does not make: (id -> why).
NANOMSG_ONLY = {
    "bind to a host name": "nng resolves host names on bind",
    "priority out of range": "nng has no sndprio option: NotSupported",
    "maxttl out of range": "nng has no maxttl option: NotSupported",
    "priority after connect": "nng has no sndprio option: NotSupported",
}


def _param(row: tuple[Any, ...]) -> Any:
    why = NANOMSG_ONLY.get(row[0])
    marks = (only_on("nanomsg", why),) if why else ()
    return pytest.param(*row[1:], id=row[0], marks=marks)


def _run(code: str) -> tuple[dict[str, Any], BaseException]:
    """Runs a row's code; returns its names (``numbers``: each socket's number, by socket,
    taken when it was made) and the exception it raised."""
    made: list[nn.Socket] = []
    numbers: dict[nn.Socket, int] = {}

    def factory(*args: Any) -> nn.Socket:
        made.append(nn.Socket(*args))
        numbers[made[-1]] = made[-1].fd
        return made[-1]

    names: dict[str, Any] = {
        "numbers": numbers,
        "S": factory,
        "nn": nn,
        "asyncio": asyncio,
        "addr": make_address("tcp"),
        "inproc": make_address("inproc"),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nn.UsageWarning)
            exec(code, names)
    except BaseException as e:
        return names, e
    finally:
        for s in made:
            s.close()
    pytest.fail(f"no exception from: {code}")


def test_the_table_has_at_least_30_rows() -> None:
    assert len(MISTAKES) >= 30


@pytest.mark.parametrize(("code", "cls", "message"), [_param(row) for row in MISTAKES])
def test_a_mistake_gets_its_message(code: str, cls: type[BaseException], message: str) -> None:
    names, exc = _run(code)
    assert type(exc) is cls or (cls is nn.NanomsgError and isinstance(exc, cls)), repr(exc)
    fields = {"addr": names["addr"], "inproc": names["inproc"]}
    if "s" in names:
        fields["s"] = names["numbers"][names["s"]]
    assert str(exc) == message.format(**fields)


# -- what the exceptions carry --------------------------------------------------------------


def test_errors_stay_oserrors_with_errno_strerror_and_context() -> None:
    names, exc = _run('s = S("pub"); s.bind("tcp://nohost")')
    assert isinstance(exc, OSError) and isinstance(exc, ValueError)
    assert exc.errno == errno.EINVAL
    assert exc.strerror == nn.strerror(errno.EINVAL)  # libnanomsg's own text
    assert exc.filename == "tcp://nohost"
    assert exc.args == (errno.EINVAL, nn.strerror(errno.EINVAL))
    assert isinstance(exc, nn.NanomsgError)
    assert exc.call == "bind"
    assert exc.socket is names["s"]
    assert exc.option is None


def test_an_option_error_names_the_option() -> None:
    names, exc = _run('s = S("pair"); s.socket_name = "n" * 64')
    assert isinstance(exc, nn.InvalidArgument)
    assert (exc.call, exc.option, exc.socket) == ("setsockopt", "socket_name", names["s"])
    names, raw = _run('s = S("pair"); s.setsockopt(nn.SOL_SOCKET, nn.SOCKET_NAME, "n" * 64)')
    assert isinstance(raw, nn.InvalidArgument)
    number = names["numbers"][names["s"]]
    assert str(raw) == (
        f"setting socket_name to '{'n' * 64}' on PAIR socket {number}: socket_name must be at "
        "most 63 bytes"
    )


@pytest.mark.parametrize("receive", ["s.recv()", "asyncio.run(s.arecv())"])
def test_the_context_is_one_object_with_named_fields(receive: str) -> None:
    """What a failed call concerned is one object, ``_context``, made by one piece of native
    code: for the errors of the native calls and for those raised in Python (an async wait
    that timed out) alike."""
    names, exc = _run(f's = S("pull"); s.bind(inproc); s.rcvtimeo = 10; {receive}')
    assert isinstance(exc, nn.Timeout)
    ctx = exc._context
    assert isinstance(ctx, nn._native.ErrorContext)
    number = names["numbers"][names["s"]]
    assert (ctx.protocol, ctx.raw, ctx.number, ctx.had_endpoint) == ("PULL", False, number, True)
    assert (ctx.sndtimeo, ctx.rcvtimeo, ctx.deadline) == (-1, 10, None)
    assert (ctx.option, ctx.value) == (None, None)
    _, exc = _run('s = S("pair"); s.sndprio = 99')
    assert exc._context is not None
    assert (exc._context.option, exc._context.value, exc._context.sndtimeo) == ("sndprio", 99, None)


def test_errors_pickle_without_their_socket() -> None:
    _, exc = _run('s = S("pull"); s.bind(inproc); s.rcvtimeo = 10; s.recv()')
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is nn.Timeout and back.errno == errno.ETIMEDOUT
    assert str(back) == str(exc)
    assert back.socket is None


def test_an_exception_made_by_hand_reads_as_an_oserror() -> None:
    exc = nn.Timeout(errno.ETIMEDOUT, "Connection timed out")
    assert str(exc) == "[Errno 110] Connection timed out"
    assert exc.call is None and exc.socket is None and exc.option is None


# -- misuse the library passes over in silence: a warning, once per socket --------------------

# (id, set-up, the misuse (done three times on one socket), the warning)
WARNINGS: list[tuple[str, str, str, str]] = [
    (
        "recv on SUB with no subscription",
        's = S("sub"); s.connect(inproc)',
        "s.recv(block=False)",
        "recv() on SUB socket {s}, which has no subscription: a SUB socket receives nothing "
        "until it subscribes; call subscribe(b'') to receive every message",
    ),
    (
        "REQ send with no endpoint",
        's = S("req")',
        's.send(b"hello", block=False)',  # nng's REQ would wait for a peer
        "send() on REQ socket {s}, which is neither bound nor connected: the request waits, and "
        "nothing says so; call bind() or connect() first",
    ),
    (
        "PUB send with no endpoint",
        's = S("pub")',
        's.send(b"news")',
        "send() on PUB socket {s}, which is neither bound nor connected: the message is dropped, "
        "and nothing says so; call bind() or connect() first",
    ),
    (
        "linger",
        's = S("push")',
        "s.linger = 1000",
        "setting linger on PUSH socket {s} has no effect: nanomsg ignores it, and close() waits "
        "for no peer to receive what was sent",
    ),
    (
        "priority after connect",
        's = S("push"); s.connect(inproc)',
        "s.sndprio = 1",
        "setting sndprio on PUSH socket {s} after bind() or connect(): it applies only to "
        "endpoints added after it; set it first",
    ),
]


@pytest.mark.parametrize(("setup", "misuse", "message"), [_param(w) for w in WARNINGS])
def test_a_silent_misuse_warns_once_per_socket(setup: str, misuse: str, message: str) -> None:
    made: list[nn.Socket] = []

    def factory(*args: Any) -> nn.Socket:
        made.append(nn.Socket(*args))
        return made[-1]

    names: dict[str, Any] = {"S": factory, "inproc": make_address("inproc")}
    try:
        exec(setup, names)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            for _ in range(3):
                try:
                    exec(misuse, names)
                except nn.Again:
                    pass
        shown = [w for w in record if issubclass(w.category, nn.UsageWarning)]
        assert [str(w.message) for w in shown] == [message.format(s=names["s"].fd)]
        assert shown[0].filename == "<string>", "the warning points at the user's line"
    finally:
        for s in made:
            s.close()


@only_on("nanomsg", "nng has no sndprio or rcvprio option: NotSupported")
def test_each_option_warns_once_on_its_own(sock: Any) -> None:
    """The warnings about setting an option late are one kind per option: sndprio warns once,
    and so does rcvprio after it; before any endpoint, and after the last one is shut down,
    neither warns."""
    s = sock("pair")
    s.sndprio = 2  # no endpoint yet: no warning
    endpoint = s.bind(make_address("inproc"))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(2):
            s.sndprio = 3
            s.rcvprio = 3
    assert [str(w.message).split(" on ")[0] for w in record] == [
        "setting sndprio",
        "setting rcvprio",
    ]
    endpoint.shutdown()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.ipv4only = True  # no endpoint any more: no warning


def test_correct_use_does_not_warn(sock: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inproc = make_address("inproc")
        pub, sub = sock("pub"), sock("sub")
        pub.rcvmaxsize = 4096  # options, before or after bind: no warning
        pub.bind(inproc)
        sub.subscribe(b"")
        sub.connect(inproc)
        wait_reachable(pub, [sub], broadcast=True)
        pub.send(b"x")
        assert sub.recv() == b"x"
        rep, req = sock("rep"), sock("req")
        rep.bind(inproc + "-rr")
        req.connect(inproc + "-rr")
        req.send(b"ping")
        assert rep.recv() == b"ping"
