"""Async: ``arecv``/``asend``/``arecv_msg`` on every protocol in one event loop, many tasks on
one socket, cancellation that loses nothing, timeouts (the loop's and the socket's own), close
waking waiters, ``async with`` / ``async for``, a loop that stays responsive, the SURVEYOR
quirk.

Every test runs under each event loop (the ``run`` fixture): asyncio, uvloop, trio, and anyio
on either of its backends. The test bodies use anyio's primitives (task groups, cancel
scopes, ``fail_after``), which run under plain asyncio and plain trio too, so one body serves
every loop; ``Task`` below gives them the task handles asyncio has and anyio has not. Each run
sits inside an overall deadline, so a hang fails the test instead of reaching pytest-timeout.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import random
import threading
import time
import tracemalloc
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import anyio
import pytest
from support import (
    CONNECT_DEADLINE,
    NNG,
    SockFactory,
    best_of,
    connected,
    make_address,
    run_python,
    run_reporting,
    star,
    wait_connected,
    wait_reachable,
)

import nanomsg_rs as nn

T = TypeVar("T")
Runner = Callable[..., Any]

# Slack for a loaded 2-core machine.
PROMPT = 1.0  # seconds within which a wake-up (close, message) must take effect

LOOPS = ["asyncio", "uvloop", "trio", "anyio-asyncio", "anyio-trio"]


@pytest.fixture(params=LOOPS)
def run(request: pytest.FixtureRequest) -> Runner:
    """``run(coro_fn, *args, timeout=20)``: runs ``coro_fn(*args)`` in a fresh event loop of
    the parameter's kind and fails if it takes longer than ``timeout``."""
    kind: str = request.param

    def runner(coro_fn: Callable[..., Awaitable[T]], *args: Any, timeout: float = 20) -> T:
        async def guarded() -> T:
            with anyio.fail_after(timeout):
                return await coro_fn(*args)

        if kind == "asyncio":
            return asyncio.run(guarded())
        if kind == "uvloop":
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as r:
                return r.run(guarded())
        if kind == "trio":
            import trio

            return trio.run(guarded)
        return anyio.run(guarded, backend=kind.removeprefix("anyio-"))

    return runner


class Cancelled(Exception):
    """What ``Task.result`` raises for a task that was cancelled before it finished."""


class Task(Generic[T]):
    """A task with a handle, as asyncio has: ``done()``, ``cancel()``, ``await
    task.result()``; it runs in a task group of the caller's (``Task.start(tg, fn, *args)``)
    inside a cancel scope of its own."""

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.finished = anyio.Event()
        self.value: T | None = None
        self.error: BaseException | None = None
        self.cancelled = False

    @classmethod
    def start(cls, tg: anyio.abc.TaskGroup, fn: Callable[..., Awaitable[T]], *args: Any) -> Task[T]:
        task: Task[T] = cls()
        tg.start_soon(task._run, fn, *args)
        return task

    async def _run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> None:
        with self.scope:
            try:
                self.value = await fn(*args)
            except Exception as exc:
                self.error = exc
        self.cancelled = self.scope.cancelled_caught
        self.finished.set()

    def done(self) -> bool:
        return self.finished.is_set()

    def cancel(self) -> None:
        self.scope.cancel()

    async def result(self, timeout: float | None = None) -> T:
        """The task's value, or its exception (``Cancelled`` if it was cancelled first)."""
        with anyio.fail_after(timeout):
            await self.finished.wait()
        if self.cancelled:
            raise Cancelled
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]

    async def outcome(self, timeout: float | None = None) -> T | BaseException:
        """The value or the exception, as ``asyncio.gather(return_exceptions=True)``."""
        try:
            return await self.result(timeout)
        except Exception as exc:
            return exc


async def gather(*fns: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Runs the coroutine functions concurrently; their results in order."""
    results: list[Any] = [None] * len(fns)

    async def one(i: int) -> None:
        results[i] = await fns[i]()

    async with anyio.create_task_group() as tg:
        for i in range(len(fns)):
            tg.start_soon(one, i)
    return results


async def wait_surveyed(surveyor: nn.Socket, respondents: Sequence[nn.Socket]) -> None:
    """Waits until surveys reach every respondent: on libnanomsg the connections are
    counted first, then (on either backend) probe surveys must arrive everywhere
    (support.wait_reachable). In a thread, so the loop goes on meanwhile."""
    await anyio.to_thread.run_sync(wait_connected, surveyor, len(respondents), CONNECT_DEADLINE)
    await anyio.to_thread.run_sync(lambda: wait_reachable(surveyor, respondents, broadcast=True))


async def wait_until(predicate: Callable[[], bool], timeout: float = CONNECT_DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition never came true"
        await anyio.sleep(0.005)


def later(delay: float, call: Callable[[], Any]) -> threading.Thread:
    """Runs ``call`` in another thread after ``delay`` seconds."""
    t = threading.Thread(target=lambda: (time.sleep(delay), call()), daemon=True)
    t.start()
    return t


def test_every_loop_kind_is_what_it_says(run: Runner, request: pytest.FixtureRequest) -> None:
    """The fixture really runs each library (sniffio's answer), and our detection agrees."""
    import sniffio

    from nanomsg_rs import _async

    async def main() -> tuple[str, bool]:
        return sniffio.current_async_library(), _async._running_trio()

    library, on_trio = run(main)
    expected = "trio" if request.node.callspec.params["run"].endswith("trio") else "asyncio"
    assert library == expected
    assert on_trio == (expected == "trio")


# --------------------------------------------------------------------------------------------
# Every protocol, both ends in one loop
# --------------------------------------------------------------------------------------------


async def req_rep(rep: nn.Socket, req: nn.Socket, n: int = 200) -> None:
    async def server() -> None:
        for _ in range(n):
            request = await rep.arecv()
            assert await rep.asend(b"reply to " + request) == 9 + len(request)

    async with anyio.create_task_group() as tg:
        tg.start_soon(server)
        for i in range(n):
            assert await req.asend(b"request %d" % i) == len(b"request %d" % i)
            assert await req.arecv() == b"reply to request %d" % i


async def pub_sub(pub: nn.Socket, sub_a: nn.Socket, sub_all: nn.Socket) -> None:
    sub_a.subscribe(b"a")
    sub_all.subscribe(b"")
    # The slow-joiner problem: publish a marker until both subscribers have one.
    seen = [False, False]

    async def first_marker(k: int, s: nn.Socket) -> None:
        while True:
            msg = await s.arecv()
            if msg == b"a-sync":
                seen[k] = True
                return

    async with anyio.create_task_group() as tg:
        for k, s in enumerate((sub_a, sub_all)):
            tg.start_soon(first_marker, k, s)
        while not all(seen):
            await pub.asend(b"a-sync")
            await anyio.sleep(0.01)

    outs: tuple[list[bytes], list[bytes]] = ([], [])

    async def collect(out: list[bytes], s: nn.Socket, n: int) -> list[bytes]:
        while len(out) < n:
            msg = await s.arecv()
            if msg != b"a-sync":
                out.append(msg)
        return out

    async with anyio.create_task_group() as tg:
        tg.start_soon(collect, outs[0], sub_a, 50)
        tg.start_soon(collect, outs[1], sub_all, 100)
        await anyio.sleep(0)
        for i in range(50):
            await pub.asend(b"a:%d" % i)
            if NNG:
                # nng's queues hold a few messages, and PUB drops what a subscriber's queue
                # cannot take (nanomsg's hold 128 KiB): each message is let in before the next.
                await wait_until(lambda i=i: len(outs[0]) > i and len(outs[1]) > 2 * i)
            await pub.asend(b"b:%d" % i)
            if NNG:
                await wait_until(lambda i=i: len(outs[1]) > 2 * i + 1)
    assert outs[0] == [b"a:%d" % i for i in range(50)]
    assert outs[1] == [m for i in range(50) for m in (b"a:%d" % i, b"b:%d" % i)]


async def push_pull(push: nn.Socket, pull: nn.Socket, n: int = 1000) -> None:
    received: list[bytes] = []

    async def receive_all() -> None:
        for _ in range(n):
            received.append(await pull.arecv())

    async with anyio.create_task_group() as tg:
        tg.start_soon(receive_all)
        for i in range(n):
            await push.asend(b"item %d" % i)
    assert received == [b"item %d" % i for i in range(n)]


async def surveyor_respondent(surveyor: nn.Socket, respondents: list[nn.Socket]) -> None:
    surveyor.surveyor_deadline = 500
    await wait_surveyed(surveyor, respondents)

    async def answer(k: int, r: nn.Socket) -> None:
        for _ in range(2):
            question = await r.arecv()
            await r.asend(b"%s from %d" % (question, k))

    async with anyio.create_task_group() as tg:
        for k, r in enumerate(respondents):
            tg.start_soon(answer, k, r)
        for round_ in range(2):
            question = b"survey %d" % round_
            await surveyor.asend(question)
            sent = anyio.current_time()
            answers = {await surveyor.arecv() for _ in respondents}
            assert answers == {b"%s from %d" % (question, k) for k in range(len(respondents))}
            with pytest.raises(nn.Timeout):
                await surveyor.arecv()  # the deadline ends the survey
            assert anyio.current_time() - sent >= 0.4


def test_req_rep(run: Runner, sock: SockFactory, transport: str) -> None:
    rep, req = connected(sock, "rep", "req", transport, ms=None)
    run(req_rep, rep, req)


def test_pub_sub(run: Runner, sock: SockFactory) -> None:
    pub, (sub_a, sub_all) = star(sock, "pub", "sub", 2, "tcp", ms=None)
    run(pub_sub, pub, sub_a, sub_all)


def test_push_pull(run: Runner, sock: SockFactory, transport: str) -> None:
    pull, push = connected(sock, "pull", "push", transport, ms=None)
    run(push_pull, push, pull)


def test_surveyor_respondent(run: Runner, sock: SockFactory) -> None:
    surveyor, respondents = star(sock, "surveyor", "respondent", 3, "tcp", ms=None)
    run(surveyor_respondent, surveyor, respondents)


def test_all_protocols_at_once(run: Runner, sock: SockFactory) -> None:
    rep, req = connected(sock, "rep", "req", "tcp", ms=None)
    pull, push = connected(sock, "pull", "push", "ipc", ms=None)
    pub, (sub_a, sub_all) = star(sock, "pub", "sub", 2, "tcp", ms=None)
    surveyor, respondents = star(sock, "surveyor", "respondent", 3, "inproc", ms=None)

    async def main() -> None:
        await gather(
            lambda: req_rep(rep, req),
            lambda: push_pull(push, pull),
            lambda: pub_sub(pub, sub_a, sub_all),
            lambda: surveyor_respondent(surveyor, respondents),
        )

    run(main)


def test_arecv_msg_and_asend_types(run: Runner, sock: SockFactory) -> None:
    a, b = connected(sock, "pair", "pair", ms=None)
    xrep, req = sock("rep", "sp-raw"), sock("req")
    address = make_address("inproc")
    xrep.bind(address)
    req.connect(address)

    async def main() -> None:
        assert await a.asend("str as UTF-8 \u2603") == len("str as UTF-8 \u2603".encode())
        assert await b.arecv() == "str as UTF-8 \u2603".encode()
        assert await a.asend(bytearray(b"bytearray")) == 9
        m = await b.arecv_msg()
        assert isinstance(m, nn.Message)
        assert m == b"bytearray"
        assert m.header is None
        assert await a.asend(memoryview(b"xxviewxx")[2:6]) == 4
        assert await b.arecv() == b"view"
        with pytest.raises(TypeError):
            await a.asend(12345)  # type: ignore[arg-type]
        # arecv_msg on a raw REP carries the backtrace; send the message back zero-copy.
        await req.asend(b"question")
        q = await xrep.arecv_msg()
        assert q == b"question"
        assert q.header is not None and len(q.header) == 8
        with memoryview(q) as mv:
            mv[:1] = b"Q"
        xrep.send_msg(q)
        assert await req.arecv() == b"Question"

    run(main)


def test_asend_waits_for_a_peer_and_for_room(run: Runner, sock: SockFactory) -> None:
    address = make_address("tcp")
    push = sock("push")
    push.connect(address)
    pull = sock("pull")

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            sending = Task.start(tg, push.asend, b"first")
            await anyio.sleep(0.1)
            assert not sending.done()  # no peer yet: the task waits, the loop runs
            pull.bind(address)
            assert await sending.result(5) == 5
            assert await pull.arecv() == b"first"
            # A slow reader: the sender fills the buffers and waits for room, many times over.
            payload = b"x" * 64 * 1024
            n = 200

            async def slow_reader() -> int:
                total = 0
                for _ in range(n):
                    total += len(await pull.arecv())
                    await anyio.sleep(0)
                return total

            reader = Task.start(tg, slow_reader)
            for _ in range(n):
                await push.asend(payload)
            assert await reader.result() == n * len(payload)

    run(main)


# --------------------------------------------------------------------------------------------
# Many tasks on one socket
# --------------------------------------------------------------------------------------------


def test_10000_messages_across_100_tasks(run: Runner, sock: SockFactory) -> None:
    address = make_address("tcp")
    pull = sock("pull")
    pull.bind(address)
    pushes = [sock("push"), sock("push")]
    for p in pushes:
        p.connect(address)
    n, receivers, senders = 10_000, 100, 4
    got: dict[int, list[bytes]] = {k: [] for k in range(receivers)}

    async def main() -> None:
        count = 0
        done = anyio.Event()

        async def receiver(k: int) -> None:
            nonlocal count
            async for msg in pull:
                got[k].append(msg)
                count += 1
                if count >= n:
                    done.set()
                await anyio.sleep(0)

        async def sender(j: int) -> None:
            push = pushes[j % len(pushes)]
            for i in range(j, n, senders):
                await push.asend(b"%d" % i)

        async with anyio.create_task_group() as tg:
            for k in range(receivers):
                tg.start_soon(receiver, k)
            await gather(*(lambda j=j: sender(j) for j in range(senders)))
            with anyio.fail_after(15):
                await done.wait()
            await anyio.sleep(0.2)  # a duplicate would arrive now
            pull.close()  # every receiver's `async for` ends; the task group then closes

    run(main, timeout=60)
    everything = [m for msgs in got.values() for m in msgs]
    assert len(everything) == n, f"{len(everything)} messages received, {n} sent"
    assert sorted(int(m) for m in everything) == list(range(n))
    assert sum(1 for msgs in got.values() if msgs) > 1, "one task took every message"


def test_many_waiters_each_get_a_different_message(run: Runner, sock: SockFactory) -> None:
    pull, push = connected(sock, "pull", "push", "ipc", ms=None)
    n = 50

    async def main() -> None:
        threads_before = threading.active_count()
        async with anyio.create_task_group() as tg:
            tasks = [Task.start(tg, pull.arecv) for _ in range(n)]
            await anyio.sleep(0.1)
            assert not any(t.done() for t in tasks)
            # Waiting costs no thread per call.
            assert threading.active_count() <= threads_before
            for i in range(n):
                await push.asend(b"message %d" % i)
            results = [await t.result(10) for t in tasks]
        assert sorted(results) == sorted(b"message %d" % i for i in range(n))
        with pytest.raises(nn.Again):
            pull.recv(block=False)

    run(main)


# --------------------------------------------------------------------------------------------
# Cancellation loses nothing
# --------------------------------------------------------------------------------------------


def test_cancelling_arecv_loses_no_message(run: Runner, sock: SockFactory) -> None:
    """A thread sends 0..N-1 at an uneven pace; the loop receives them with arecv tasks that
    it cancels at every kind of moment (before they start, while they wait, right after a
    wake-up). Every number arrives exactly once, in order."""
    pull, push = connected(sock, "pull", "push", "tcp", ms=None)
    pull.rcvtimeo = 10_000  # so the socket-timeout timer is in play too
    push.sndtimeo = 10_000
    n = 1500
    sender_errors: list[BaseException] = []

    def send_all() -> None:
        rng = random.Random(7)
        try:
            for i in range(n):
                push.send(b"%d" % i)
                if rng.random() < 0.3:
                    time.sleep(rng.uniform(0, 0.002))
        except BaseException as e:
            sender_errors.append(e)

    async def main() -> tuple[list[bytes], int]:
        rng = random.Random(11)
        received: list[bytes] = []
        cancelled = 0
        sender = threading.Thread(target=send_all, daemon=True)
        sender.start()
        async with anyio.create_task_group() as tg:
            while len(received) < n:
                task = Task.start(tg, pull.arecv)
                mode = rng.randrange(5)
                if mode == 1:
                    await anyio.sleep(0)
                elif mode == 2:
                    for _ in range(rng.randrange(1, 6)):
                        await anyio.sleep(0)
                elif mode == 3:
                    with anyio.move_on_after(rng.uniform(0, 0.003)):
                        await task.finished.wait()
                elif mode == 4:
                    received.append(await task.result(10))
                    continue
                task.cancel()
                try:
                    received.append(await task.result())
                except Cancelled:
                    cancelled += 1
        sender.join(10)
        return received, cancelled

    received, cancelled = run(main, timeout=40)
    assert not sender_errors, sender_errors
    assert cancelled > n // 10
    assert [int(m) for m in received] == list(range(n))
    with pytest.raises(nn.Again):
        pull.recv(block=False)


def test_cancellation_storm(run: Runner, sock: SockFactory) -> None:
    """50 tasks wait on one socket and are cancelled and restarted at random while 2,000
    messages arrive from another thread: every message is received exactly once."""
    pull, push = connected(sock, "pull", "push", "ipc", ms=None)
    push.sndtimeo = 10_000
    n, waiters = 2000, 50

    def send_all() -> None:
        for i in range(n):
            push.send(b"%d" % i)
            if i % 10 == 0:
                time.sleep(0.001)  # 200 pauses: the loop cancels tasks in between

    async def main() -> tuple[list[bytes], int]:
        rng = random.Random(3)
        received: list[bytes] = []
        cancelled = 0
        sender = threading.Thread(target=send_all, daemon=True)

        def collect(task: Task[bytes]) -> None:
            nonlocal cancelled
            if task.cancelled:
                cancelled += 1
            elif task.error is not None:
                raise task.error
            else:
                received.append(task.value)  # type: ignore[arg-type]

        async with anyio.create_task_group() as tg:
            tasks = [Task.start(tg, pull.arecv) for _ in range(waiters)]
            sender.start()
            while len(received) < n:
                await anyio.sleep(rng.uniform(0, 0.001))
                for k in rng.sample(range(waiters), 10):
                    tasks[k].cancel()
                await anyio.sleep(0)
                for k, task in enumerate(tasks):
                    if task.done():
                        collect(task)
                        tasks[k] = Task.start(tg, pull.arecv)
            for task in tasks:
                task.cancel()
        for task in tasks:  # the last ones: cancelled, or done just before
            collect(task)
        sender.join(10)
        return received, cancelled

    received, cancelled = run(main, timeout=60)
    assert cancelled > 100
    assert sorted(int(m) for m in received) == list(range(n))
    with pytest.raises(nn.Again):
        pull.recv(block=False)


def test_cancel_right_after_the_wakeup_passes_it_on(run: Runner, sock: SockFactory) -> None:
    """Two tasks wait; one message comes; the first task is cancelled after 0..9 loop
    iterations (before, at and after its wake-up). The message goes to exactly one of the
    two, and the other is not left hanging."""
    pull, push = connected(sock, "pull", "push", ms=None)

    async def main() -> None:
        for k in range(10):
            async with anyio.create_task_group() as tg:
                first = Task.start(tg, pull.arecv)
                second = Task.start(tg, pull.arecv)
                await anyio.sleep(0.02)
                assert not first.done() and not second.done()
                push.send(b"m%d" % k)
                for _ in range(k):
                    await anyio.sleep(0)
                first.cancel()
                try:
                    got_first = await first.result()
                except Cancelled:
                    assert await second.result(PROMPT * 2) == b"m%d" % k, k
                else:
                    assert got_first == b"m%d" % k
                    assert not second.done()
                    push.send(b"extra%d" % k)
                    assert await second.result(PROMPT * 2) == b"extra%d" % k
            with pytest.raises(nn.Again):
                pull.recv(block=False)

    run(main)


def test_cancelled_asend_and_socket_still_works(run: Runner, sock: SockFactory) -> None:
    address = make_address("inproc")
    push = sock("push")
    push.connect(address)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            task = Task.start(tg, push.asend, b"never")
            await anyio.sleep(0.05)
            task.cancel()
            with pytest.raises(Cancelled):
                await task.result()
        pull = sock("pull")
        pull.bind(address)
        await push.asend(b"after")
        with anyio.fail_after(5):
            assert await pull.arecv() == b"after"
        with pytest.raises(nn.Again):
            pull.recv(block=False)  # the cancelled send sent nothing

    run(main)


# --------------------------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------------------------


def test_loop_timeout(run: Runner, sock: SockFactory) -> None:
    """The loop's own timeout (``fail_after``; asyncio.timeout under asyncio) cancels the
    wait, and nothing is left waiting on the socket."""
    pull, push = connected(sock, "pull", "push", ms=None)

    async def main() -> None:
        start = anyio.current_time()
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.2):
                await pull.arecv()
        elapsed = anyio.current_time() - start
        assert 0.15 <= elapsed < 0.2 + PROMPT
        # Nothing was left waiting on the socket: the next message goes to the next call.
        push.send(b"after the timeout")
        with anyio.fail_after(5):
            assert await pull.arecv() == b"after the timeout"

    run(main)


def test_repeated_short_loop_timeouts(run: Runner, sock: SockFactory) -> None:
    pull, push = connected(sock, "pull", "push", ms=None)

    async def main() -> None:
        for _ in range(5):
            start = anyio.current_time()
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.05):
                    await pull.arecv()
            assert anyio.current_time() - start >= 0.04
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.05):
                await pull.arecv_msg()
        push.send(b"one")
        push.send(b"two")
        with anyio.fail_after(5):
            assert await pull.arecv() == b"one"
            assert await pull.arecv_msg() == b"two"

    run(main)


def test_socket_rcvtimeo_and_sndtimeo(run: Runner, sock: SockFactory) -> None:
    pull = sock("pull")
    pull.bind(make_address("inproc"))
    push = sock("push")  # no peer
    pull.rcvtimeo = 200
    push.sndtimeo = 200

    async def main() -> None:
        for call in (pull.arecv, pull.arecv_msg, lambda: push.asend(b"nowhere")):
            start = anyio.current_time()
            with pytest.raises(nn.Timeout) as info:
                await call()
            elapsed = anyio.current_time() - start
            assert isinstance(info.value, TimeoutError)
            assert 0.15 <= elapsed < 0.2 + PROMPT, elapsed
        # rcvtimeo 0: fail at once when nothing is there.
        pull.rcvtimeo = 0
        start = anyio.current_time()
        with pytest.raises(nn.Timeout):  # a timeout, if 0 ms; Again is for block=False
            await pull.arecv()
        assert anyio.current_time() - start < PROMPT

    run(main)


def test_rcvtimeo_is_a_deadline_across_wakeups(run: Runner, sock: SockFactory) -> None:
    """Two tasks wait with a 400 ms rcvtimeo; a message at 200 ms wakes one of them; the other
    still gives up at about 400 ms, not 400 ms after the wake-up."""
    pull, push = connected(sock, "pull", "push", ms=None)
    pull.rcvtimeo = 400

    async def main() -> None:
        start = anyio.current_time()
        async with anyio.create_task_group() as tg:
            tasks = [Task.start(tg, pull.arecv) for _ in range(2)]
            await anyio.sleep(0.2)
            push.send(b"one")
            results = [await t.outcome() for t in tasks]
        elapsed = anyio.current_time() - start
        assert b"one" in results
        assert sum(isinstance(r, nn.Timeout) for r in results) == 1, results
        assert 0.35 <= elapsed < 0.4 + PROMPT, elapsed

    run(main)


# --------------------------------------------------------------------------------------------
# Closing wakes waiters; async with; async for
# --------------------------------------------------------------------------------------------


@pytest.mark.backend("nanomsg", reason="nng has no worker_poll: NotSupported")
def test_a_wait_of_an_event_loop_asks_the_worker_to_poll(run: Runner, sock: SockFactory) -> None:
    """The first wait of an event loop on a socket sets its ``worker_poll`` (the library's
    worker thread polls before it sleeps while the socket is open); a call that did not
    have to wait, a socket no loop waited on, and a socket whose ``worker_poll`` was set
    through its property before are left as they are."""
    pull, push = connected(sock, "pull", "push", ms=None)
    kept, kept_push = connected(sock, "pull", "push", ms=None)
    kept.worker_poll = False

    async def body() -> None:
        push.send(b"there")  # inproc: queued by the send itself
        assert await pull.arecv() == b"there"
        assert not pull.worker_poll  # taken without waiting
        async with anyio.create_task_group() as tg:
            tg.start_soon(pull.arecv)
            tg.start_soon(kept.arecv)
            await anyio.sleep(0.05)  # both wait
            push.send(b"late")
            kept_push.send(b"late")
        assert pull.worker_poll
        assert not kept.worker_poll
        assert not push.worker_poll and not kept_push.worker_poll

    run(body)


def test_close_from_the_loop_wakes_waiters(run: Runner, sock: SockFactory) -> None:
    pull = sock("pull")
    pull.bind(make_address("inproc"))
    push = sock("push")  # no peer: asend waits

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            receivers = [Task.start(tg, pull.arecv) for _ in range(5)]
            receivers.append(Task.start(tg, pull.arecv_msg))
            sender = Task.start(tg, push.asend, b"stuck")
            await anyio.sleep(0.05)
            assert not any(t.done() for t in [*receivers, sender])
            start = anyio.current_time()
            pull.close()
            push.close()
            results = [await t.outcome(PROMPT * 2) for t in [*receivers, sender]]
        assert anyio.current_time() - start < PROMPT
        assert all(isinstance(r, nn.Closed) for r in results), results
        # On a closed socket the calls fail at once.
        with anyio.fail_after(PROMPT):
            with pytest.raises(nn.Closed):
                await pull.arecv()
            with pytest.raises(nn.Closed):
                await push.asend(b"x")

    run(main)


def test_close_from_another_thread_wakes_waiters(run: Runner, sock: SockFactory) -> None:
    pull = sock("pull")
    pull.bind(make_address("ipc"))
    push = sock("push")  # no peer

    async def main() -> None:
        closed_at: list[float] = []

        def close_both() -> None:
            closed_at.append(time.monotonic())
            pull.close()
            push.close()

        async with anyio.create_task_group() as tg:
            receivers = [Task.start(tg, pull.arecv) for _ in range(5)]
            sender = Task.start(tg, push.asend, b"stuck")
            await anyio.sleep(0.05)
            closer = later(0.2, close_both)
            results = [await t.outcome(5) for t in [*receivers, sender]]
        assert closed_at and time.monotonic() - closed_at[0] < PROMPT
        assert all(isinstance(r, nn.Closed) for r in results), results
        closer.join(5)

    run(main)


async def fresh_sockets_work(sock: SockFactory, within: float) -> None:
    """A new PULL and PUSH over inproc (they may get the fd numbers of sockets just closed):
    a task awaiting the PULL gets what the PUSH sends, within ``within`` s; both closed."""
    fresh_pull, fresh_push = sock("pull"), sock("push")
    address = make_address("inproc")
    fresh_pull.bind(address)
    fresh_push.connect(address)
    async with anyio.create_task_group() as tg:
        receiving = Task.start(tg, fresh_pull.arecv)
        await anyio.sleep(0.01)
        await fresh_push.asend(b"fresh")
        assert await receiving.result(within) == b"fresh"
    fresh_pull.close()
    fresh_push.close()


def test_detach_wakes_waiters(run: Runner, sock: SockFactory) -> None:
    """``detach()`` closes the object (the nanomsg socket lives on): its waiters raise
    :class:`nn.Closed` at once, as on ``close()``, rather than wait on a socket they no
    longer own; the raw socket, closed later, leaves no watch behind for the fds a new
    socket gets."""
    pull = sock("pull")
    pull.bind(make_address("inproc"))

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            receivers = [Task.start(tg, pull.arecv) for _ in range(3)]
            await anyio.sleep(0.05)
            start = anyio.current_time()
            raw = pull.detach()
            results = [await t.outcome(PROMPT * 2) for t in receivers]
        assert anyio.current_time() - start < PROMPT
        assert all(isinstance(r, nn.Closed) for r in results), results
        nn.Socket.adopt(raw).close()  # its fds close; a new socket may get their numbers
        await fresh_sockets_work(sock, PROMPT * 2)

    run(main)


def test_watch_kept_between_waits_does_not_spin(sock: SockFactory) -> None:
    """The loop keeps watching a socket's fd after its last wait ended (for the next one): a
    message that then arrives with nobody waiting ends the watch at its first signal, so
    the loop sleeps rather than wake for the unread message again and again."""
    pull, push = connected(sock, "pull", "push")

    async def main() -> float:
        waiter = asyncio.ensure_future(pull.arecv())
        await asyncio.sleep(0.01)
        push.send(b"taken")
        assert await asyncio.wait_for(waiter, PROMPT * 2) == b"taken"
        push.send(b"left unread")  # nobody waits: the fd stays readable
        cpu = time.process_time()
        await asyncio.sleep(0.5)
        return time.process_time() - cpu

    used = asyncio.run(main())
    assert used < 0.25, f"the loop used {used:.2f} s of CPU in 0.5 s of sleep"
    assert pull.recv(block=False) == b"left unread"


def test_close_from_another_thread_then_new_sockets(run: Runner, sock: SockFactory) -> None:
    """A socket closed from another thread while the loop watches its fd; new sockets made
    right afterwards (which may get the same fd numbers) work in the same loop."""

    async def main() -> None:
        for _ in range(20):
            pull = sock("pull")
            address = make_address("inproc")
            pull.bind(address)
            async with anyio.create_task_group() as tg:
                waiter = Task.start(tg, pull.arecv)
                await anyio.sleep(0.01)
                closer = later(0, pull.close)
                with pytest.raises(nn.Closed):
                    await waiter.result(5)
            closer.join(5)
            await fresh_sockets_work(sock, 5)

    run(main, timeout=30)


# nn.term() is for good: each case runs in a fresh interpreter, with the loop of the
# parameter. Three waits (arecv, arecv_msg, and an asend with no peer) are pending when term()
# runs, from a task of the loop or from another thread; then a new wait fails at once.
TERM_BODY = """
import threading, time
import anyio
kind, where = sys.argv[1], sys.argv[2]
pull = nn.Socket("pull")
pull.bind("inproc://term")
push = nn.Socket("push")  # no peer: asend waits

async def main():
    outcomes = {}

    async def wait(name, fn, *args):
        try:
            await fn(*args)
            outcomes[name] = "returned"
        except Exception as e:
            outcomes[name] = type(e).__name__

    terms = []
    try:
        with anyio.fail_after(10):  # a wait left pending fails the run, and says which
            async with anyio.create_task_group() as tg:
                tg.start_soon(wait, "arecv", pull.arecv)
                tg.start_soon(wait, "arecv_msg", pull.arecv_msg)
                tg.start_soon(wait, "asend", push.asend, b"stuck")
                await anyio.sleep(0.2)
                assert not outcomes, outcomes
                start = time.monotonic()
                if where == "loop":
                    nn.term()
                else:
                    terms.append(threading.Thread(target=nn.term))
                    terms[0].start()
    except TimeoutError:
        return {"pending": sorted({"arecv", "arecv_msg", "asend"} - set(outcomes))}
    seconds = time.monotonic() - start
    for t in terms:
        t.join(5)
    await wait("arecv after", pull.arecv)
    await wait("asend after", push.asend, b"x")
    return {"outcomes": outcomes, "seconds": seconds}

if kind == "uvloop":
    import asyncio, uvloop
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(main())
elif kind == "asyncio":
    import asyncio
    result = asyncio.run(main())
elif kind == "trio":
    import trio
    result = trio.run(main)
else:
    result = anyio.run(main, backend=kind.removeprefix("anyio-"))
report(**result)
"""


@pytest.mark.parametrize("where", ["loop", "thread"])
@pytest.mark.parametrize("kind", LOOPS)
def test_term_ends_every_async_wait(kind: str, where: str) -> None:
    """``nn.term()`` closes every socket inside libnanomsg, fds and all: a loop watching one
    of them heard nothing, and the waits stayed pending for ever (under asyncio, uvloop and
    trio alike, term() called in the loop or from another thread). Each ends with
    ``Terminated`` at once, as blocking calls in threads do."""
    result = run_reporting(TERM_BODY, kind, where, timeout=60)
    assert "pending" not in result, f"still pending after term(): {result['pending']}"
    assert result["outcomes"] == {
        "arecv": "Terminated",
        "arecv_msg": "Terminated",
        "asend": "Terminated",
        "arecv after": "Terminated",
        "asend after": "Terminated",
    }
    assert result["seconds"] < PROMPT


# A task's arecv left pending when its event loop is closed; the coroutine is collected
# later (at gc.collect(), or at interpreter exit).
CLOSED_LOOP_BODY = """
import asyncio, gc, sys
import nanomsg_rs as nn
kind, when = sys.argv[1], sys.argv[2]
if kind == "uvloop":
    import uvloop
    loop = uvloop.new_event_loop()
else:
    loop = asyncio.new_event_loop()
pull = nn.Socket("pull")
pull.bind("inproc://closed-loop")
task = loop.create_task(pull.arecv())
loop.run_until_complete(asyncio.sleep(0.05))
loop.close()
if when == "collected":
    del task
    gc.collect()
    pull.close()  # lets the wait go (the socket's table of waiters held it)
    gc.collect()
    print("ok")
else:  # at exit, with the socket still open
    print("ok")
"""


@pytest.mark.parametrize("when", ["collected", "exit"])
@pytest.mark.parametrize("kind", ["asyncio", "uvloop"])
def test_a_wait_left_on_a_closed_loop_goes_quietly(kind: str, when: str) -> None:
    """The wait's cleanup asked the closed loop to call it back (``call_soon``), which raised
    at collection: 'Exception ignored in: <coroutine object Socket.arecv ...>
    RuntimeError: Event loop is closed'. Only asyncio's own note about a task destroyed while
    pending may remain (it is the program's, for any pending task)."""
    proc = run_python(CLOSED_LOOP_BODY, kind, when)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    assert "Exception ignored" not in proc.stderr, proc.stderr
    assert "Event loop is closed" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_async_with_closes(run: Runner) -> None:
    async def main() -> None:
        async with nn.Socket("pair") as s:
            assert isinstance(s, nn.Socket)
            assert not s.closed
            s.bind(make_address("inproc"))
        assert s.closed
        async with anyio.create_task_group() as tg:
            with pytest.raises(RuntimeError, match="boom"):
                async with nn.Socket("pull") as t:
                    t.bind(make_address("inproc"))
                    waiter = Task.start(tg, t.arecv)
                    await anyio.sleep(0.02)
                    raise RuntimeError("boom")
            assert t.closed
            with pytest.raises(nn.Closed):
                await waiter.result(PROMPT)

    run(main)


def test_async_for_ends_when_the_socket_closes(run: Runner, sock: SockFactory) -> None:
    pull, push = connected(sock, "pull", "push", "ipc", ms=None)

    async def main() -> None:
        got: list[bytes] = []

        async def consume() -> None:
            async for msg in pull:
                assert isinstance(msg, bytes)
                got.append(msg)

        async with anyio.create_task_group() as tg:
            task = Task.start(tg, consume)
            for i in range(20):
                await push.asend(b"msg %d" % i)
            await wait_until(lambda: len(got) == 20)
            assert not task.done()  # still waiting for more
            pull.close()
            await task.result(PROMPT * 2)
        assert got == [b"msg %d" % i for i in range(20)]

    run(main)


def test_async_for_ends_when_closed_from_another_thread(run: Runner, sock: SockFactory) -> None:
    pull, push = connected(sock, "pull", "push", ms=None)

    async def main() -> None:
        got: list[bytes] = []
        push.send(b"before")
        closer = later(0.2, pull.close)
        async for msg in pull:
            got.append(msg)
        assert got == [b"before"]
        closer.join(5)

    run(main)


# --------------------------------------------------------------------------------------------
# The loop stays responsive
# --------------------------------------------------------------------------------------------


def test_loop_stays_responsive_while_waiting(run: Runner, sock: SockFactory) -> None:
    pull, push = connected(sock, "pull", "push", "tcp", ms=None)

    async def main() -> dict[str, Any]:
        """The ticks of a 10 ms ticker during each wait, and the longest gap of the first."""
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(anyio.current_time())
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            await anyio.sleep(0.02)
            # 1: an arecv that waits 0.5 s for nothing (rcvtimeo).
            pull.rcvtimeo = 500
            start = anyio.current_time()
            with pytest.raises(nn.Timeout):
                await pull.arecv()
            end = anyio.current_time()
            during = [t for t in ticks if start <= t <= end]
            assert end - start >= 0.45
            assert len(during) >= 2, f"{len(during)} ticks in {end - start:.2f} s"
            gaps = [b - a for a, b in itertools.pairwise(during)]
            # 2: an arecv that waits 0.5 s for a message from another thread.
            pull.rcvtimeo = -1
            sender = later(0.5, lambda: push.send(b"late"))
            start = anyio.current_time()
            assert await pull.arecv() == b"late"
            end = anyio.current_time()
            during_message = [t for t in ticks if start <= t <= end]
            assert end - start >= 0.4
            sender.join(5)
            tg.cancel_scope.cancel()
        return {"ticks": len(during), "max_gap": max(gaps), "ticks_message": len(during_message)}

    # A loop blocked by the call would tick not at all during the 0.5 s; a loaded machine
    # may tick less often in one attempt (support.best_of), not in every one.
    best_of(
        lambda: run(main),
        lambda r: r["ticks"] >= 20 and r["max_gap"] < 0.25 and r["ticks_message"] >= 20,
        "the loop ticked every 10 ms during both waits",
    )


# --------------------------------------------------------------------------------------------
# The SURVEYOR quirk
# --------------------------------------------------------------------------------------------


def test_surveyor_quirk(run: Runner, sock: SockFactory) -> None:
    surveyor, respondent = connected(sock, "surveyor", "respondent", ms=None)
    surveyor.surveyor_deadline = 300

    async def main() -> None:
        # No survey in flight: the rcvfd says ready, and recv fails with EFSM at once.
        start = anyio.current_time()
        with anyio.fail_after(PROMPT * 2):
            with pytest.raises(nn.BadState):
                await surveyor.arecv()
        assert anyio.current_time() - start < PROMPT
        await wait_surveyed(surveyor, [respondent])
        await surveyor.asend(b"survey")
        sent = anyio.current_time()
        assert await respondent.arecv() == b"survey"
        await respondent.asend(b"answer")
        assert await surveyor.arecv() == b"answer"
        with anyio.fail_after(5):
            with pytest.raises(nn.Timeout):
                await surveyor.arecv()  # the survey's deadline ends the wait
        waited = anyio.current_time() - sent
        assert 0.25 <= waited < 0.3 + PROMPT, waited
        # The survey is over: back to EFSM.
        with anyio.fail_after(PROMPT * 2):
            with pytest.raises(nn.BadState):
                await surveyor.arecv()

    run(main)


# --------------------------------------------------------------------------------------------
# Nothing is left behind
# --------------------------------------------------------------------------------------------


def test_dropped_socket_leaves_no_stale_watch(run: Runner) -> None:
    """Sockets that are dropped without close() (they close when garbage-collected) after
    their waits timed out: a new socket, which may get the same fd numbers, still wakes its
    waiters in the same loop."""

    async def main() -> None:
        for i in range(4):
            pull, push = connected(nn.Socket, "pull", "push", ms=None)
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.02):
                    await pull.arecv()
            async with anyio.create_task_group() as tg:
                waiter = Task.start(tg, pull.arecv)
                await anyio.sleep(0.01)
                push.send(b"m%d" % i)
                assert await waiter.result(PROMPT * 2) == b"m%d" % i, f"socket {i}"
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.02):
                    await pull.arecv()
            del pull, push, waiter
            gc.collect()

    run(main)


def test_socket_dropped_right_after_a_message_leaves_no_stale_watch(run: Runner) -> None:
    """The loop keeps watching a socket's fd from one wait to the next: a socket dropped
    (not closed) right after a wait ended, with the next socket made and awaited in the same
    loop iteration (it gets the same fd numbers), must not inherit a stale watch."""

    async def main() -> None:
        for i in range(20):
            pull, push = connected(nn.Socket, "pull", "push", ms=None)
            sender = threading.Timer(0.02, push.send, (b"m%d" % i,))
            sender.start()
            with anyio.fail_after(PROMPT * 2):
                got = await pull.arecv()  # it waits
            assert got == b"m%d" % i, f"socket {i}"
            sender.join()
            del pull, push, sender  # no await until the next socket waits
            gc.collect()

    with warnings.catch_warnings():
        # Ignored, not recorded: a recorded warning keeps its source, the socket, alive.
        warnings.simplefilter("ignore", ResourceWarning)
        run(main)


def traced_growth(run: Runner, body: Callable[[], Awaitable[None]]) -> int:
    """Python memory still allocated after ``body`` ran (after a warm-up run)."""

    async def main() -> int:
        await body()  # warm-up
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            await body()
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()

    growth: int = run(main, timeout=40)
    return growth


def test_timed_out_waits_do_not_pile_up(run: Runner, sock: SockFactory) -> None:
    """2,000 arecv calls that end with the socket's rcvtimeo in a quiet period keep nothing
    alive (a service polling with a timeout runs like this for hours)."""
    pull = sock("pull")
    pull.bind(make_address("inproc"))
    pull.rcvtimeo = 0

    async def body() -> None:
        for _ in range(2000):
            with pytest.raises(nn.Timeout):
                await pull.arecv()

    growth = traced_growth(run, body)
    assert growth < 512 * 1024, f"{growth / 1024:.0f} KiB kept by 2,000 timed-out arecv calls"


def test_cancelled_waits_do_not_pile_up(run: Runner, sock: SockFactory) -> None:
    """2,000 arecv calls cancelled by the loop's timeout in a quiet period keep nothing
    alive."""
    pull = sock("pull")
    pull.bind(make_address("inproc"))

    async def body() -> None:
        for _ in range(2000):
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.00001):
                    await pull.arecv()

    growth = traced_growth(run, body)
    assert growth < 128 * 1024, f"{growth / 1024:.0f} KiB kept by 2,000 cancelled arecv calls"


# --------------------------------------------------------------------------------------------
# One socket, several loops in turn
# --------------------------------------------------------------------------------------------


def test_socket_used_by_successive_loops(run: Runner, sock: SockFactory) -> None:
    pull, push = connected(sock, "pull", "push", ms=None)

    async def round_trip(k: int) -> None:
        async with anyio.create_task_group() as tg:
            waiter = Task.start(tg, pull.arecv)
            await anyio.sleep(0.01)
            await push.asend(b"loop %d" % k)
            assert await waiter.result(5) == b"loop %d" % k
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.02):
                await pull.arecv()  # leaves a cancelled waiter behind

    for k in range(3):
        run(round_trip, k)
    for k in range(3, 5):
        anyio.run(round_trip, k)
    pull.rcvtimeo = 5000
    push.send(b"sync")
    assert pull.recv() == b"sync"
