"""A loopback TCP proxy for fault injection: it forwards connections from its own port to a
target, and on command cuts, stalls, slices or resets them.

    with contextlib.closing(TcpProxy(target_port)) as proxy:
        peer.connect(f"tcp://127.0.0.1:{proxy.port}")
        proxy.cut()        # closes every link (FIN to both ends)
        proxy.reset()      # aborts every link (RST to both ends)
        proxy.stall()      # stops forwarding, links stay open; proxy.resume() goes on
        proxy.slice(True)  # forwards every byte in a write of its own
        proxy.refuse(True) # new connections are closed at once

Threads, one per direction of every link; every wait has a short timeout so that commands
take effect within a few milliseconds.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time

_TICK = 0.01


class _Link:
    """One proxied connection: the accepted client socket and the socket to the target."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.closed = threading.Event()
        self.lock = threading.Lock()

    def close(self, *, abort: bool = False) -> None:
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
            for s in (self.client, self.server):
                with contextlib.suppress(OSError):
                    if abort:
                        # SO_LINGER 0: close sends RST instead of FIN.
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    else:
                        s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target_port``."""

    def __init__(self, target_port: int, port: int = 0) -> None:
        self.target_port = target_port
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(64)
        self._listener.settimeout(_TICK * 5)
        self.port: int = self._listener.getsockname()[1]
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._running = threading.Event()  # cleared while stalled
        self._running.set()
        self._slice = False
        self._refuse = False
        #: How many connections were accepted and forwarded, and bytes forwarded each way.
        self.accepted = 0
        self.bytes_up = 0
        self.bytes_down = 0
        #: How many writes forwarded data (one per byte while slicing).
        self.writes = 0
        # Each write and its bytes are counted together, so that ``counts()`` never sees
        # one without the other (a peer can have the last byte before its write is counted).
        self._count_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._start(self._accept_loop)

    # -- commands ---------------------------------------------------------------------------
    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def links(self) -> int:
        """The number of links open now."""
        with self._lock:
            self._links = [link for link in self._links if not link.closed.is_set()]
            return len(self._links)

    def cut(self) -> int:
        """Closes every open link (both ends see an orderly close); returns how many."""
        return self._close_all(abort=False)

    def reset(self) -> int:
        """Aborts every open link (both ends see a connection reset); returns how many."""
        return self._close_all(abort=True)

    def stall(self) -> None:
        """Stops forwarding in both directions; the links stay open and data waits."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def counts(self) -> tuple[int, int, int]:
        """``(writes, bytes_up, bytes_down)``, all as of the same moment."""
        with self._count_lock:
            return self.writes, self.bytes_up, self.bytes_down

    def _count(self, n: int, up: bool) -> None:
        with self._count_lock:
            self.writes += 1
            if up:
                self.bytes_up += n
            else:
                self.bytes_down += n

    def slice(self, on: bool = True) -> None:
        """Forward every byte in a write of its own (and a segment of its own: TCP_NODELAY)."""
        self._slice = on

    def refuse(self, on: bool = True) -> None:
        """Close new connections at once instead of forwarding them."""
        self._refuse = on

    def wait_links(self, n: int = 1, timeout: float = 10.0) -> bool:
        """Waits until at least ``n`` links are open."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.links() >= n:
                return True
            time.sleep(_TICK)
        return False

    def close(self) -> None:
        self._stopped.set()
        self._running.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._close_all(abort=False)
        for t in self._threads:
            t.join(5)

    # -- internals --------------------------------------------------------------------------
    def _start(self, target: object, *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        t.start()
        self._threads.append(t)

    def _close_all(self, *, abort: bool) -> int:
        with self._lock:
            links, self._links = self._links, []
        n = 0
        for link in links:
            if not link.closed.is_set():
                n += 1
            link.close(abort=abort)
        return n

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._refuse:
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()  # the target is down: the client sees the refusal as a close
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.settimeout(None)
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
                self.accepted += 1
            self._start(self._pump, link, client, server, True)
            self._start(self._pump, link, server, client, False)

    def _pump(self, link: _Link, src: socket.socket, dst: socket.socket, up: bool) -> None:
        try:
            while not link.closed.is_set() and not self._stopped.is_set():
                if not self._running.wait(_TICK):
                    continue
                ready, _, _ = select.select([src], [], [], _TICK)
                if not ready or not self._running.is_set():
                    continue
                data = src.recv(65536)
                if not data:
                    break
                if self._slice:
                    for i in range(len(data)):
                        dst.sendall(data[i : i + 1])
                        self._count(1, up)
                else:
                    dst.sendall(data)
                    self._count(len(data), up)
        except (OSError, ValueError):
            pass
        link.close()
