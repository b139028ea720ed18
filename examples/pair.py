"""PAIR: two sockets, one on each end of a single two-way connection.

One socket binds, the other connects (here over ipc, in a temporary directory), and then either
side may send at any time. Run: ``python examples/pair.py``.
"""

from __future__ import annotations

import tempfile

import nanomsg_rs as nn


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        nn.Socket("pair") as left,
        nn.Socket("pair") as right,
    ):
        address = f"ipc://{tmp}/pair.ipc"
        left.bind(address)
        right.connect(address)  # the connection comes up in the background
        for s in (left, right):
            s.sndtimeo = s.rcvtimeo = 5000  # ms: never hang if something goes wrong

        left.send(b"ping")  # waits until the connection is up
        print("right got", right.recv())
        right.send("pong")  # str is sent as UTF-8
        print("left got", left.recv())
        print("pair: done")


if __name__ == "__main__":
    main()
