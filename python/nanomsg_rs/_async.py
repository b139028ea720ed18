"""Async support: ``await sock.arecv()``, ``await sock.asend(data)``, ``await sock.arecv_msg()``
under asyncio (and uvloop), trio, and anyio on either of its backends.

Built on each socket's ``rcvfd``/``sndfd``: no thread per call and no busy polling. A call
first tries without waiting; otherwise it waits until the fd is readable and retries the
non-blocking call itself, so a task cancelled at any point never takes a message with it.
``close()`` wakes the socket's waiters with :class:`Closed`; ``nn.term()`` wakes those of
every socket with :class:`Terminated`, before ``nn_term`` closes the fds.

Which library runs the task is asked of sniffio, and only when trio is loaded (trio depends on
sniffio; anyio on trio reports "trio", anyio on asyncio "asyncio"): neither trio nor anyio is
imported here.

- asyncio: the loop's ``add_reader`` and a queue of futures per (loop, fd); one fd event
  wakes one waiter.
- trio: ``trio.lowlevel.wait_readable``, which allows one waiter per fd: the tasks waiting on
  one socket's fd take turns through a fair ``trio.Lock``. ``close()`` calls
  ``notify_closing`` on the fds (from any thread, through the run's token), and the waiters
  raise :class:`Closed`.

In a child forked from the process, the waiters are the parent's (their event loops'
selectors and wake-up fds are shared with it): the child forgets them, so that its close,
drop or exit never reaches the parent's loops.
"""

from __future__ import annotations

import asyncio
import errno
import math
import os
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from . import _native
from ._errors import Closed, NanomsgError, Terminated, Timeout
from ._native import Socket  # nanomsg_rs.Socket's native base: all that is used here
from ._options import SET_BY_USER, SPECS

__all__ = ["notify_closed", "notify_terminated", "retry_until_done"]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

RECV = _native.RCVFD
SEND = _native.SNDFD


class _Waiters:
    """Futures of one event loop waiting on one of a socket's fds, woken first-come first.

    The fd stays watched from one wait to the next: a loop's ``add_reader`` and
    ``remove_reader`` cost more than the rest of a wait together (some 50,000 instructions
    a pair on asyncio's own loop), and a socket in use waits again at once. The watch goes
    when the fd signals with nobody waiting, and when the socket closes, is detached or is
    dropped. (It went at the end of the loop iteration in which the last wait ended as well:
    a ``call_soon`` for every wait, and the extra loop iteration it made, about 40,000
    instructions of an async round trip of 230,000.)

    Level-triggered readiness comes one iteration late: the loop polls before the task it
    woke has taken the message, and wakes the task's next wait for nothing. That wait tries
    again and waits on (costing far less than unwatching and watching again); the woken
    ones are counted so that the watch does not go meanwhile."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self.loop = loop
        self.fd = fd
        self.queue: deque[asyncio.Future[None]] = deque()
        self.reading = False
        # Woken, and not yet back (discard): their tasks are about to wait again, or not.
        self.woken: set[asyncio.Future[None]] = set()

    def wait(self) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = self.loop.create_future()
        self.queue.append(fut)
        if not self.reading:
            self.loop.add_reader(self.fd, self.wake_one)
            self.reading = True
        return fut

    def wake_one(self) -> None:
        """The fd is ready: wake the first waiter still waiting; stop reading if none is."""
        while self.queue:
            fut = self.queue.popleft()
            if not fut.done():
                fut.set_result(None)
                self.woken.add(fut)
                return
        if not self.woken:
            self.stop()

    def discard(self, fut: asyncio.Future[None]) -> None:
        """Forgets a wait that ended. The watch stays, for the next wait (see the class)."""
        if fut in self.queue:  # not woken: timed out, cancelled
            self.queue.remove(fut)
        self.woken.discard(fut)
        if self.loop.is_closed():
            # A wait of a loop closed meanwhile, ended when its coroutine is collected: the
            # loop's selector, and the watch with it, are gone.
            self.reading = False

    def stop(self) -> None:
        if self.reading:
            self.reading = False
            self.loop.remove_reader(self.fd)

    def fail_all(self, exc: BaseException) -> None:
        self.stop()
        self.woken.clear()
        while self.queue:
            fut = self.queue.popleft()
            if not fut.done():
                fut.set_exception(exc)


# Every socket's waiters, by (event loop, RECV or SEND); an entry goes with its socket.
_Table = dict[tuple[asyncio.AbstractEventLoop, int], _Waiters]
_TABLES: weakref.WeakKeyDictionary[Socket, _Table] = weakref.WeakKeyDictionary()


def _ask_worker_poll(sock: Socket) -> None:
    """The first wait of an event loop on ``sock``: asks the library's worker thread to poll
    before it sleeps while the socket is open (``Socket.worker_poll``). An event loop's
    traffic is round trips between the loop's thread and the worker: the worker's wake-ups
    are most of a round trip's time where idle CPUs halt (virtual machines; see patch 0085
    and the performance docs). Left alone where the socket's ``worker_poll`` was set through
    its property, and on a library without the option (the system libnanomsg, nng)."""
    if not _native.HARDENED or "worker_poll" in SET_BY_USER.get(sock, ()):
        return
    try:
        sock._set_option(SPECS["worker_poll"], True)
    except NanomsgError:  # closed meanwhile: the wait says so
        pass


def _socket_table(
    tables: weakref.WeakKeyDictionary[Socket, dict[K, V]], sock: Socket
) -> dict[K, V]:
    """``sock``'s waiters in ``tables`` (asyncio's or trio's), made at its first wait, which
    asks the worker to poll (``_ask_worker_poll``)."""
    table = tables.get(sock)
    if table is None:
        _ask_worker_poll(sock)
        table = tables.setdefault(sock, {})
    return table


def _waiters(sock: Socket, loop: asyncio.AbstractEventLoop, which: int) -> _Waiters:
    table = _socket_table(_TABLES, sock)
    waiters = table.get((loop, which))
    if waiters is None:
        fd = sock.getsockopt(_native.SOL_SOCKET, which)
        waiters = table[(loop, which)] = _Waiters(loop, fd)
    return waiters


def _timeout_ms(sock: Socket, which: int) -> int:
    """The socket's ``rcvtimeo`` (``which`` is ``RECV``) or ``sndtimeo``, in ms (-1: none)."""
    option = _native.RCVTIMEO if which == RECV else _native.SNDTIMEO
    return sock.getsockopt(_native.SOL_SOCKET, option)


def _closed_error(sock: Socket, call: str) -> Closed:
    return cast(Closed, sock._error(errno.EBADF, call))


def _timeout_error(sock: Socket, call: str) -> Timeout:
    return cast(Timeout, sock._error(errno.ETIMEDOUT, call))


def _terminated_error(sock: Socket, call: str) -> Terminated:
    return cast(Terminated, sock._error(_native.ETERM, call))


# Set by term() before it wakes the waiters, and never reset: a wait that registers after
# term() took its list of waiters sees it (the check comes after the registration).
_TERMINATED = False


def _running_trio() -> bool:
    """Whether the current task runs under trio (directly, or as anyio's backend)."""
    if "trio" not in sys.modules:
        return False
    import sniffio

    try:
        return bool(sniffio.current_async_library() == "trio")
    except sniffio.AsyncLibraryNotFoundError:
        return False


async def retry_until_done(sock: Socket, which: int, op: Callable[[], T | None], call: str) -> T:
    """Runs ``op``, one try that returns None where it would have to wait (the native
    ``_arecv_try`` ...: no exception on the hot path), until it returns something, waiting on
    the socket's ``which`` fd (``RECV``/``SEND``) in the running event loop, within the
    socket's own ``rcvtimeo``/``sndtimeo``. ``call`` names the call in errors raised here."""
    if _running_trio():
        return await _trio_retry_until_done(sock, which, op, call)
    result = op()
    if result is not None:
        return result
    loop = asyncio.get_running_loop()
    timeout_ms = _timeout_ms(sock, which)
    deadline = None if timeout_ms < 0 else loop.time() + timeout_ms / 1000
    waiters = _waiters(sock, loop, which)
    while True:
        fut = waiters.wait()
        if _TERMINATED:  # term() ran, in another thread, after it woke the waiters
            fut.set_exception(_terminated_error(sock, call))
        timers = []
        if deadline is not None:
            timers.append(loop.call_at(deadline, _expire, fut, sock, call))
        retry = sock._retry_after(which == RECV)
        if retry is not None:  # the fd will not signal then (see Socket._retry_after)
            timers.append(loop.call_later(retry, _nudge, fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                # Woken, then cancelled before retrying: pass the wake-up on.
                loop.call_soon(waiters.wake_one)
            raise
        finally:
            for timer in timers:
                timer.cancel()
            waiters.discard(fut)
        if sock.closed:
            raise _closed_error(sock, call)
        result = op()
        if result is not None:
            return result


def _nudge(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _expire(fut: asyncio.Future[None], sock: Socket, call: str) -> None:
    if not fut.done():
        fut.set_exception(_timeout_error(sock, call))


def notify_closed(sock: Socket) -> None:
    """Wakes every waiter of ``sock`` with :class:`Closed` (from any thread), before the
    socket and its fds close."""
    _trio_notify_closed(sock)
    _fail_asyncio_waiters(sock, _TABLES.pop(sock, {}), _closed_error)


def notify_terminated() -> None:
    """Wakes every waiter of every socket with :class:`Terminated` (from any thread), before
    ``nn_term`` closes the sockets and their fds."""
    global _TERMINATED
    with _TRIO_LOCK:  # ordered against a trio task's registration (see _TRIO_LOCK)
        _TERMINATED = True
        trio_tables = list(_TRIO_TABLES.values())
        _TRIO_TABLES.clear()
    _close_trio_waiters(
        [waiters for table in trio_tables for waiters in table.values()], _terminated_error
    )
    tables = list(_TABLES.items())
    _TABLES.clear()
    for sock, table in tables:
        _fail_asyncio_waiters(sock, table, _terminated_error)


def _fail_asyncio_waiters(
    sock: Socket, table: _Table, error: Callable[[Socket, str], BaseException]
) -> None:
    """Fails the waiters of ``table`` (taken out of ``_TABLES``) with ``error``, each in its
    own loop's thread."""
    for (loop, which), waiters in list(table.items()):
        exc = error(sock, "arecv" if which == RECV else "asend")
        if loop.is_closed():
            continue
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop or not loop.is_running():
            # Now, before the fds close (a loop that is not running cannot race with it).
            waiters.fail_all(exc)
        else:
            loop.call_soon_threadsafe(waiters.fail_all, exc)


# -- trio ------------------------------------------------------------------------------------


class _TrioWaiters:
    """The tasks of one trio run waiting on one of a socket's fds: one waits on the fd at a
    time (trio allows one), the others queue on a fair lock."""

    def __init__(self, fd: int, token: Any) -> None:
        import trio

        self.fd = fd
        self.token = token
        self.lock = trio.Lock()
        # The error of the waits once the socket closes or term() runs: set in the run's own
        # thread, with notify_closing; a task checks it, in the same thread and without a
        # checkpoint, right before it waits on the fd.
        self.ending: Callable[[Socket, str], BaseException] | None = None

    def close(self, ending: Callable[[Socket, str], BaseException] = _closed_error) -> None:
        """In the run's thread: no task waits on the fd from now on; those that did, and
        those that would, raise ``ending(sock, call)``."""
        import trio

        self.ending = ending
        trio.lowlevel.notify_closing(self.fd)


# Every socket's trio waiters, by (trio run token, RECV or SEND), and the sockets that are
# closing; _TRIO_LOCK orders a task's registration against a close in another thread (either
# the close sees the waiters, or the task sees the close).
_TrioTable = dict[tuple[Any, int], _TrioWaiters]
_TRIO_TABLES: weakref.WeakKeyDictionary[Socket, _TrioTable] = weakref.WeakKeyDictionary()
_TRIO_CLOSING: weakref.WeakSet[Socket] = weakref.WeakSet()
_TRIO_LOCK = threading.Lock()


async def _trio_retry_until_done(
    sock: Socket, which: int, op: Callable[[], T | None], call: str
) -> T:
    import trio

    await trio.lowlevel.checkpoint_if_cancelled()
    result = op()
    if result is not None:
        # A checkpoint that cannot be cancelled: the message is taken, and it is returned.
        await trio.lowlevel.cancel_shielded_checkpoint()
        return result
    timeout_ms = _timeout_ms(sock, which)
    deadline = math.inf if timeout_ms < 0 else trio.current_time() + timeout_ms / 1000
    token = trio.lowlevel.current_trio_token()
    with _TRIO_LOCK:
        if sock in _TRIO_CLOSING:
            raise _closed_error(sock, call)
        if _TERMINATED:
            raise _terminated_error(sock, call)
        table = _socket_table(_TRIO_TABLES, sock)
        waiters = table.get((token, which))
        if waiters is None:
            fd = sock.getsockopt(_native.SOL_SOCKET, which)
            waiters = table[(token, which)] = _TrioWaiters(fd, token)
    with trio.move_on_at(deadline):
        async with waiters.lock:
            while True:
                if waiters.ending is not None:
                    raise waiters.ending(sock, call)
                if sock.closed:
                    raise _closed_error(sock, call)
                result = op()
                if result is not None:
                    return result
                retry = sock._retry_after(which == RECV)  # see Socket._retry_after
                try:
                    with trio.move_on_after(math.inf if retry is None else retry):
                        await trio.lowlevel.wait_readable(waiters.fd)
                except trio.ClosedResourceError:
                    raise (waiters.ending or _closed_error)(sock, call) from None
    raise _timeout_error(sock, call)


def _trio_notify_closed(sock: Socket) -> None:
    with _TRIO_LOCK:
        _TRIO_CLOSING.add(sock)
        table = _TRIO_TABLES.pop(sock, {})
    _close_trio_waiters(table.values(), _closed_error)


def _close_trio_waiters(
    all_waiters: Iterable[_TrioWaiters], ending: Callable[[Socket, str], BaseException]
) -> None:
    """Closes each of ``all_waiters`` (taken out of ``_TRIO_TABLES``) in its run's thread,
    waiting until that is done: the fds close next."""
    all_waiters = list(all_waiters)
    if not all_waiters:
        return
    import trio

    try:
        current = trio.lowlevel.current_trio_token()
    except RuntimeError:
        current = None
    for waiters in all_waiters:
        if waiters.token is current:
            waiters.close(ending)
            continue
        try:  # another thread's trio run: there, and wait until done (the fd closes next)
            trio.from_thread.run_sync(waiters.close, ending, trio_token=waiters.token)
        except trio.RunFinishedError:
            pass


def _forget_the_parents_waiters() -> None:
    """In a child just forked: every waiter is the parent's, waiting in the parent's event
    loops, whose selectors and wake-up fds the child shares. Waking them from the child (at
    its close, drop or exit of a socket) would reach into the parent's loops, or wait for
    ever for a trio run whose thread the child does not have."""
    global _TRIO_LOCK
    _TABLES.clear()
    _TRIO_TABLES.clear()
    _TRIO_CLOSING.clear()
    # Held by another thread at the fork, it would stay locked in the child.
    _TRIO_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_the_parents_waiters)
