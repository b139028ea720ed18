"""Wrong types and values for every public call and property, drawn by hypothesis from many
kinds of objects (``st.from_type`` of the builtins, buffers of every shape, enums, sockets,
messages, objects whose ``__index__``/``__str__``/``__buffer__`` misbehave, huge integers).

The promise: a Python exception at worst, never a crash (a signal), never a Rust panic
(``PanicException``), never a ``SystemError``. Each group of calls runs in a child interpreter
so that a crash is reported with the call that caused it.
"""

from __future__ import annotations

import pytest
from support import quick_and_soak, run_python

FUZZ = r"""
import array, enum, math, sys, traceback
import hypothesis
from hypothesis import HealthCheck, given, settings, strategies as st
import nanomsg_rs as nn

group, examples = sys.argv[1], int(sys.argv[2])
try:
    import numpy as np
except ImportError:
    np = None


class BadIndex:
    def __index__(self):
        raise RuntimeError("__index__ fails")


class HugeIndex:
    def __index__(self):
        return 2**200


class BadStr(str):
    def __str__(self):
        raise RuntimeError("__str__ fails")

    def encode(self, *a, **k):
        raise RuntimeError("encode fails")


class IntSub(int):
    pass


class BytesSub(bytes):
    pass


class BadBuffer:
    def __buffer__(self, flags):
        raise RuntimeError("__buffer__ fails")


class BadEq:
    def __eq__(self, other):
        raise RuntimeError("__eq__ fails")

    __hash__ = None


class BadIter:
    def __iter__(self):
        yield b"ok"
        raise RuntimeError("iteration fails")


class Color(enum.IntEnum):
    RED = 1
    BLUE = 99


def live_sockets():
    out = []
    for proto in ("pair", "pub", "sub", "req", "rep", "push", "pull", "surveyor", "bus"):
        s = nn.Socket(proto)
        s.sndtimeo = 0
        s.rcvtimeo = 0
        out.append(s)
    closed = nn.Socket("pair")
    closed.close()
    out.append(closed)
    return out


SOCKETS = live_sockets()
MESSAGES = [nn.Message(b"abc")]
try:
    MESSAGES.append(nn.Message(0))
except nn.NanomsgError:
    pass  # the nng backend cannot allocate an empty message (reported; not this test's topic)
sent = nn.Message(b"x")
s0 = nn.Socket("pair")
s0.bind("inproc://fuzz-sent")
s1 = nn.Socket("pair")
s1.connect("inproc://fuzz-sent")
s1.send_msg(sent)  # an empty, already sent Message
MESSAGES.append(sent)
ENDPOINT = s0.bind("inproc://fuzz-endpoint")

numpy_arrays = []
if np is not None:
    numpy_arrays = [
        np.zeros((3, 4), dtype=np.float64),
        np.arange(10, dtype=np.int32)[::2],
        np.zeros((2, 0), dtype=np.uint8),
        np.array(["a", "bc"]),
        np.zeros(4, dtype=np.complex128).T,
    ]

SPECIAL = [
    BadIndex(), HugeIndex(), BadStr("tcp://127.0.0.1:1"), IntSub(3), BytesSub(b"sub"),
    BadBuffer(), BadEq(), BadIter(), Color.RED, Color.BLUE, nn.Protocol.PAIR,
    nn.Domain.SP_RAW, nn.Statistic.BYTES_SENT, ENDPOINT, math.nan, math.inf, -math.inf,
    2**31, -(2**31) - 1, 2**63, 2**64, -(2**64), 10**100, array.array("d", [1.5, 2.5]),
    array.array("i", [1, 2, 3]), memoryview(bytearray(16))[::3],
    memoryview(bytearray(12)).cast("I"), memoryview(b"readonly"), bytearray(0),
    memoryview(bytearray(24)).cast("B", (4, 6)), type, object, nn.Socket, nn.Message,
    int, str, bytes, Ellipsis, NotImplemented, "\udcff", "\x00", "é" * 1000, b"\x00" * 70,
    "inproc://" + "x" * 200, "tcp://*:0", "ipc:///nonexistent/dir/x.ipc", "ws://[::1]:x",
    *SOCKETS, *MESSAGES, *numpy_arrays,
]

def pick(seq):
    # st.sampled_from without hashing (some of these objects cannot be hashed)
    return st.integers(0, len(seq) - 1).map(seq.__getitem__)


builtin_types = st.sampled_from([
    type(None), bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set,
    frozenset, range, slice,
])
anything = st.deferred(lambda: st.one_of(
    builtin_types.flatmap(st.from_type),
    pick(SPECIAL),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(),
    st.binary(),
    st.builds(bytearray, st.binary()),
    st.builds(memoryview, st.binary()),
    st.lists(pick(SPECIAL) | st.binary() | st.integers(), max_size=4),
    st.tuples(anything, anything),
    st.lists(st.tuples(pick(SOCKETS) | st.integers(), anything), max_size=3),
))
flag = st.one_of(st.booleans(), anything)

# What a wrong argument may raise: TypeError for a type; ValueError (UnicodeError among them)
# or a nanomsg error for a value; OverflowError for an int no C integer holds (as Python's own
# calls say); BufferError while a Message is exported (send_msg's and resize's docstrings).
ALLOWED = (TypeError, ValueError, OverflowError, nn.NanomsgError, BufferError)
# The objects' own errors, passed on unchanged: SPECIAL's (RuntimeError), and a
# multi-dimensional memoryview's when it is iterated (NotImplementedError, a RuntimeError).
THEIRS = {"__index__ fails", "__str__ fails", "encode fails", "__buffer__ fails",
          "__eq__ fails", "iteration fails", "multi-dimensional sub-views are not implemented"}


# Runs call; fails unless it returns or raises one of ALLOWED or THEIRS.
def attempt(label, call):
    print(label, flush=True)
    try:
        call()
    except ALLOWED:
        pass
    except RuntimeError as e:
        if str(e) not in THEIRS:
            raise AssertionError(f"{label}: unexpected {type(e).__name__}: {e}") from e
    except Exception as e:
        raise AssertionError(f"{label}: unexpected {type(e).__name__}: {e}") from e
    except BaseException as e:  # PanicException derives from BaseException
        raise AssertionError(f"{label}: {type(e).__name__}: {e}") from e
    finally:
        for s in SOCKETS[:-1]:  # a fuzzed timeout must not make the next call block
            try:
                s.sndtimeo = 0
                s.rcvtimeo = 0
            except nn.NanomsgError:
                pass


def short(x):
    try:
        return repr(x)[:120]
    except Exception:
        return "<unrepresentable>"


fuzz = settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
sockets = pick(SOCKETS)
PROPERTIES = [
    "linger", "sndbuf", "rcvbuf", "sndtimeo", "rcvtimeo", "reconnect_ivl",
    "reconnect_ivl_max", "sndprio", "rcvprio", "ipv4only", "maxttl", "rcvmaxsize",
    "rcvmaxpartial", "connect_timeout", "tcp_keepalive", "tcp_keepalive_idle",
    "tcp_keepalive_interval", "tcp_keepalive_count", "socket_name", "req_resend_ivl",
    "surveyor_deadline", "tcp_nodelay",
    "sndfd", "rcvfd", "protocol", "domain", "fd", "closed",
]
always_ready = nn.Socket("pub")  # poll returns at once, whatever the timeout
raw_pub, raw_pull = nn.Socket("pub", "sp-raw"), nn.Socket("pull", "sp-raw")
raw_closed = nn.Socket("pair", "sp-raw")
raw_closed.close()
# device() arguments that cannot start a device (which would run for ever): sp sockets,
# a closed raw socket, raw sockets of different families
device_args = st.one_of(anything, pick(SOCKETS[:-1] + [raw_pub, raw_pull, raw_closed]))

TESTS = {}


def fuzz_test(name):
    def register(f):
        TESTS[name] = fuzz(f)
        return f
    return register


@fuzz_test("Socket")
@given(anything, anything)
def _(protocol, domain):
    attempt(f"Socket({short(protocol)}, {short(domain)})",
            lambda: nn.Socket(protocol, domain).close())
    attempt(f"Socket({short(protocol)})", lambda: nn.Socket(protocol).close())


@fuzz_test("send")
@given(sockets, anything, flag)
def _(s, data, block):
    attempt(f"{s!r}.send({short(data)}, block={short(block)})", lambda: s.send(data, block=block))
    attempt(f"{s!r}.send_parts({short(data)})", lambda: s.send_parts(data, block=block))
    attempt(f"{s!r}.send_msg({short(data)})", lambda: s.send_msg(data, block=block))
    attempt(f"{s!r}.send_many({short(data)})", lambda: s.send_many(data, block=block))


@fuzz_test("recv")
@given(sockets, anything, flag)
def _(s, buf, block):
    attempt(f"{s!r}.recv(block={short(block)})", lambda: s.recv(block=block))
    attempt(f"{s!r}.recv_msg(block={short(block)})", lambda: s.recv_msg(block=block))
    attempt(f"{s!r}.recv_into({short(buf)})", lambda: s.recv_into(buf, block=block))
    attempt(f"{s!r}.recv_many({short(buf)})", lambda: s.recv_many(buf))
    # any timeout but one that would really wait
    try:
        waits = float(block) > 0.001
    except Exception:
        waits = False
    attempt(f"{s!r}.recv_many(1, timeout={short(block)})",
            lambda: s.recv_many(1, timeout=0 if waits else block))


@fuzz_test("endpoints")
@given(sockets, anything)
def _(s, x):
    attempt(f"{s!r}.bind({short(x)})", lambda: s.bind(x))
    attempt(f"{s!r}.connect({short(x)})", lambda: s.connect(x))
    attempt(f"{s!r}.shutdown({short(x)})", lambda: s.shutdown(x))
    attempt(f"{s!r}.subscribe({short(x)})", lambda: s.subscribe(x))
    attempt(f"{s!r}.unsubscribe({short(x)})", lambda: s.unsubscribe(x))
    attempt(f"{s!r}.statistic({short(x)})", lambda: s.statistic(x))


READ_ONLY = {"sndfd", "rcvfd", "protocol", "domain", "fd", "closed"}


def raises_attribute_error(call):
    def check():
        try:
            call()
        except AttributeError:
            return
        raise AssertionError("no AttributeError")
    return check


@fuzz_test("options")
@given(sockets, st.sampled_from(PROPERTIES), anything)
def _(s, name, value):
    assign = lambda: setattr(s, name, value)
    # a read-only property refuses any value, before looking at it
    attempt(f"{s!r}.{name} = {short(value)}",
            raises_attribute_error(assign) if name in READ_ONLY else assign)
    attempt(f"{s!r}.{name}", lambda: getattr(s, name))
    # no property can be deleted
    attempt(f"del {s!r}.{name}", raises_attribute_error(lambda: delattr(s, name)))


@fuzz_test("sockopt")
@given(sockets, anything, anything, anything)
def _(s, level, option, value):
    attempt(f"{s!r}.setsockopt({short(level)}, {short(option)}, {short(value)})",
            lambda: s.setsockopt(level, option, value))
    attempt(f"{s!r}.getsockopt({short(level)}, {short(option)}, {short(value)})",
            lambda: s.getsockopt(level, option, value))
    attempt(f"{s!r}.getsockopt(SOL_SOCKET, {short(option)}, {short(value)})",
            lambda: s.getsockopt(nn.SOL_SOCKET, option, value))


@fuzz_test("functions")
@given(anything, anything, device_args, device_args)
def _(items, timeout, d1, d2):
    attempt(f"poll({short(items)}, {short(timeout)})",
            lambda: nn.poll([(always_ready, nn.POLLOUT), *items], timeout)
            if isinstance(items, list) else nn.poll(items, 0))
    attempt(f"poll([(always_ready, {short(items)})], 0)",
            lambda: nn.poll([(always_ready, items)], 0))
    attempt(f"device({short(d1)}, {short(d2)})", lambda: nn.device(d1, d2))
    attempt(f"strerror({short(timeout)})", lambda: nn.strerror(timeout))
    attempt(f"Protocol.parse({short(items)})", lambda: nn.Protocol.parse(items))
    attempt(f"Domain.parse({short(items)})", lambda: nn.Domain.parse(items))
    attempt(f"Statistic.parse({short(items)})", lambda: nn.Statistic.parse(items))


@fuzz_test("message")
@given(anything, anything, pick(MESSAGES))
def _(x, y, m):
    def make():
        if isinstance(x, int) and not isinstance(x, bool) and x > 1 << 24:
            return  # a real allocation of that size: not a type question
        nn.Message(x)

    attempt(f"Message({short(x)})", make)
    attempt(f"{m!r}.header = {short(x)}", lambda: setattr(m, "header", x))
    attempt(f"{m!r} == {short(x)}", lambda: (m == x, m != x, x == m))
    attempt(f"{m!r} < {short(x)}", lambda: m < x)
    attempt(f"{m!r}.resize({short(y)})",
            lambda: m.resize(y) if not (isinstance(y, int) and y > 1 << 24) else None)
    attempt(f"bytes/len/repr/memoryview {m!r}", lambda: (bytes(m), len(m), repr(m),
                                                         memoryview(m).tobytes()))
    attempt(f"{m!r}.header", lambda: m.header)


for name, test in TESTS.items():
    if group in (name, "all"):
        test()
print("done", flush=True)
"""

GROUPS = ["Socket", "send", "recv", "endpoints", "options", "sockopt", "functions", "message"]


@pytest.mark.parametrize(("rounds", "timeout"), quick_and_soak((150, 50), (3000, 590), timeout=600))
@pytest.mark.parametrize("group", GROUPS)
def test_wrong_types_and_values_never_crash(group: str, rounds: int, timeout: float) -> None:
    proc = run_python(FUZZ, group, rounds, timeout=timeout)
    lines = proc.stdout.splitlines()
    last = lines[-1] if lines else "(nothing)"
    assert proc.returncode == 0, (
        f"{group}: the child died ({proc.returncode}) at: {last}\n{proc.stderr[-4000:]}"
    )
    assert last == "done", last
