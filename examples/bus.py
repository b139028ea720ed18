"""BUS: every node hears what any node it is connected to sends; a mesh needs no broker.

Each node binds its own address and connects to the nodes before it, so all are connected to
all. A message reaches the peers connected at the moment it is sent (never back to the sender,
and not on through a peer), and connections come up in the background: so, as a node
announcing itself on a bus would, each node repeats its greeting until it has heard every other.
Run: ``python examples/bus.py``.
"""

from __future__ import annotations

import contextlib
import tempfile
import time

import nanomsg_rs as nn

NODES = 4


def drain(node: nn.Socket) -> list[bytes]:
    """Every message waiting on ``node``, without waiting for more."""
    messages = []
    while True:
        try:
            messages.append(node.recv(block=False))
        except nn.Again:  # nothing (more) waiting
            return messages


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        nodes = [stack.enter_context(nn.Socket("bus")) for _ in range(NODES)]
        for i, node in enumerate(nodes):
            node.bind(f"ipc://{tmp}/node{i}.ipc")
            for j in range(i):
                node.connect(f"ipc://{tmp}/node{j}.ipc")

        heard: list[set[int]] = [set() for _ in nodes]
        deadline = time.monotonic() + 5
        while any(len(h) < NODES - 1 for h in heard):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the mesh did not come up: {heard}")
            for i, node in enumerate(nodes):
                node.send(f"hello from node {i}")
            time.sleep(0.01)
            for i, node in enumerate(nodes):
                heard[i].update(int(msg.rsplit(b" ", 1)[1]) for msg in drain(node))

        for i, h in enumerate(heard):
            assert i not in h  # a node never hears itself
            print(f"node {i} heard nodes {sorted(h)}")
        print(f"bus: all {NODES} nodes heard each other")


if __name__ == "__main__":
    main()
