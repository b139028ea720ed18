"""nncat's main loops, as nanocat runs them on its one socket: the socket made and set up
from the command line, then send, receive, or both, by socket type."""

from __future__ import annotations

import os
import sys
import time
from typing import NoReturn

from .._errors import Again, BadState, NanomsgError, Timeout
from .._native import SOCKET_NAME, SOL_SOCKET
from .._socket import Socket
from .._tls import TLS_SCHEMES, TLSConfig
from .formats import emit, format_message, stderr
from .parser import Exit, Options, c_int, millis, wrap32

__all__ = ["run"]


def _fatal(what: str, error: OSError) -> NoReturn:
    """nanocat's ``nn_assert_errno``: ``what: strerror`` on stderr, status 3."""
    stderr(f"{what}: {error.strerror}\n")
    raise Exit(3)


def _set_tls(o: Options, sock: Socket) -> None:
    """The socket's TLSConfig, from --tls-cert, --tls-key and --tls-cacert (as nngcat's
    --cert, --key, --cacert): a server's for TLS addresses bound, a client's for TLS
    addresses connected to (checking the server, against --tls-cacert if given, else the
    system's CAs). A key defaults to the certificate's file (a PEM with both)."""

    def tls(addresses: list[str]) -> bool:
        return any(a.partition("://")[0] in TLS_SCHEMES for a in addresses)

    binds, connects = tls(o.bind), tls(o.connect)
    if not binds and not connects:
        return
    if binds and connects:
        stderr("TLS: a socket binds or connects TLS addresses, not both\n")
        raise Exit(1)
    key = o.tls_key or o.tls_cert
    try:
        if binds:
            config = TLSConfig("server", cert_file=o.tls_cert, key_file=key, ca_file=o.tls_cacert)
        else:
            config = TLSConfig("client", cert_file=o.tls_cert, key_file=key, ca_file=o.tls_cacert)
    except FileNotFoundError as e:
        stderr(f"Error opening file ``{e.filename}'': No such file or directory\n")
        raise Exit(2) from None
    except ValueError as e:
        stderr(f"TLS: {e} (--tls-cert, --tls-key, --tls-cacert)\n")
        raise Exit(1) from None
    try:
        sock.tls = config
    except NanomsgError as e:
        _fatal("Can't set TLS options", e)


# -- running -----------------------------------------------------------------------------------


class _Runner:
    """nanocat's main loops on one socket."""

    def __init__(self, options: Options, sock: Socket) -> None:
        self.o = options
        self.sock = sock
        self.data = options.data if options.data is not None else b""

    def show(self, message: bytes) -> None:
        if self.o.echo != "no":
            emit(sys.stdout, format_message(self.o.echo, message))

    def send(self) -> None:
        try:
            self.sock.send(self.data)
        except Again:
            stderr("Message not sent (EAGAIN)\n")
        except NanomsgError as e:
            _fatal("Can't send", e)

    def set_recv_timeout(self, millis: int) -> None:
        try:
            self.sock.rcvtimeo = millis
        except NanomsgError as e:
            _fatal("Can't set recv timeout", e)

    def send_loop(self) -> None:
        """PUB, PUSH: send once, or every interval."""
        interval = millis(self.o.interval)
        while True:
            start = _now_ms()
            self.send()
            if interval < 0:
                return
            _sleep_ms(start + interval - _now_ms())

    def recv_loop(self) -> None:
        """Print every message until a receive times out (or REQ/SURVEYOR have no more)."""
        while True:
            try:
                message = self.sock.recv()
            except Again:
                continue
            except (Timeout, BadState):
                return
            except NanomsgError as e:
                _fatal("Can't recv", e)
            self.show(message)

    def rw_loop(self) -> None:
        """REQ, SURVEYOR, and BUS/PAIR with data: send, then print answers until the next
        send (or until answers stop, without an interval)."""
        interval = millis(self.o.interval)
        recv_timeout = millis(self.o.recv_timeout)
        while True:
            start = _now_ms()
            self.send()
            if self.o.interval < 0:
                self.recv_loop()
                return
            while True:
                left = start + interval - _now_ms()
                if left <= 0:
                    break
                if 0 <= recv_timeout < left:
                    left = recv_timeout
                self.set_recv_timeout(wrap32(left))
                try:
                    message = self.sock.recv()
                except Again:
                    continue
                except (Timeout, BadState):
                    _sleep_ms(start + interval - _now_ms())
                    continue
                except NanomsgError as e:
                    _fatal("Can't recv", e)
                self.show(message)

    def resp_loop(self) -> None:
        """REP, RESPONDENT with data: answer every request with the data."""
        while True:
            try:
                message = self.sock.recv()
            except Again:
                continue
            except NanomsgError as e:
                _fatal("Can't recv", e)
            self.show(message)
            self.send()


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def _sleep_ms(millis: int) -> None:
    if millis > 0:
        time.sleep(millis / 1000)


def _setup(o: Options) -> Socket:
    try:
        sock = Socket(o.socket_type)
    except NanomsgError as e:
        _fatal("Can't create socket", e)
    try:
        if o.send_timeout >= 0:
            try:
                sock.sndtimeo = millis(o.send_timeout)
            except NanomsgError as e:
                _fatal("Can't set send timeout", e)
        if o.recv_timeout >= 0:
            # nanocat truncates to whole seconds here: (int) seconds * 1000.
            try:
                sock.rcvtimeo = wrap32(c_int(o.recv_timeout) * 1000)
            except NanomsgError as e:
                _fatal("Can't set recv timeout", e)
        if o.socket_name is not None:
            try:
                sock.setsockopt(SOL_SOCKET, SOCKET_NAME, os.fsencode(o.socket_name))
            except NanomsgError as e:
                _fatal("Can't set socket name", e)
        _set_tls(o, sock)
        if o.socket_type == "sub":
            for prefix in o.subscriptions or [""]:
                try:
                    sock.subscribe(os.fsencode(prefix))
                except NanomsgError as e:
                    _fatal("Can't subscribe", e)
        for what, addresses, method in (
            ("Can't bind", o.bind, sock.bind),
            ("Can't connect", o.connect, sock.connect),
        ):
            for address in addresses:
                try:
                    method(address)
                except NanomsgError as e:
                    _fatal(what, e)
                except UnicodeEncodeError:
                    # Not from a command line (argv keeps bytes that are not UTF-8 as
                    # surrogates, which bind and connect take back): a str given to main()
                    # with a surrogate that stands for no byte.
                    stderr(f"{what}: Address is not valid UTF-8\n")
                    raise Exit(3) from None
    except BaseException:
        sock.close()
        raise
    return sock


def run(o: Options) -> None:
    with _setup(o) as sock:
        delay = millis(o.delay)
        if delay < 0:  # nanocat's nn_sleep asserts on nanosleep's EINVAL and aborts
            stderr("Invalid argument [22] (./tools/../src/utils/sleep.c:47)\n")
            raise Exit(134)
        _sleep_ms(delay)
        run = _Runner(o, sock)
        kind = o.socket_type
        if kind in ("pub", "push"):
            run.send_loop()
        elif kind in ("sub", "pull"):
            run.recv_loop()
        elif kind in ("bus", "pair"):
            if o.data is not None:
                run.rw_loop()
            else:
                run.recv_loop()
        elif kind in ("surveyor", "req"):
            run.rw_loop()
        elif o.data is not None:  # rep, respondent: answer with the data
            run.resp_loop()
        else:  # rep, respondent without data: print the requests, never answer
            run.recv_loop()
