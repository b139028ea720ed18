"""The Chicken Scheme nanomsg egg's sample, in Python.

A REP server answers each request with the request, a space and a counter (0, 1, 2, ...); the
client is nanocat's classic one-liner, asking once a second:

    nncat --req -l PORT -D "bottles of beer:" -A --interval 1

Run ``python examples/demo.py`` (or ``--nanocat`` to use nanomsg's own nanocat as the client).
"""

from __future__ import annotations

import argparse
import shlex
import socket
import subprocess
import sys
import threading

import nanomsg_rs as nn


def serve(server: nn.Socket) -> None:
    """Answers every request with ``request + b" " + counter`` until the socket is closed."""
    n = 0
    try:
        while True:
            request = server.recv()
            server.send(request + b" %d" % n)
            n += 1
    except nn.Closed:
        pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> int:
    """Runs the server and the client for a few requests, printing what the client prints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nanocat", action="store_true", help="use nanocat as the client")
    parser.add_argument("-n", "--requests", type=int, default=5, help="how many (default 5)")
    args = parser.parse_args()

    port = free_port()
    client_args = ["--req", "-l", str(port), "-D", "bottles of beer:", "-A", "--interval", "1"]
    tool = ["nanocat"] if args.nanocat else [sys.executable, "-m", "nanomsg_rs"]
    print("$", shlex.join(["nanocat" if args.nanocat else "nncat", *client_args]), flush=True)

    with nn.Socket("rep") as server:
        server.bind(f"tcp://127.0.0.1:{port}")
        threading.Thread(target=serve, args=(server,), daemon=True).start()
        lines = 0
        with subprocess.Popen([*tool, *client_args], stdout=subprocess.PIPE) as client:
            assert client.stdout is not None
            try:
                while lines < args.requests and (line := client.stdout.readline()):
                    print(line.decode(), end="", flush=True)
                    lines += 1
            finally:
                client.terminate()
    return 0 if lines == args.requests else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
