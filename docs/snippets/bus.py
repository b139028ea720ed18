"""BUS: every node hears what the nodes it is connected to send, never itself."""

import contextlib

import nanomsg_rs as nn

with contextlib.ExitStack() as stack:
    nodes = [stack.enter_context(nn.Socket("bus")) for _ in range(3)]
    for i, node in enumerate(nodes):
        node.bind(f"inproc://node{i}")
        for j in range(i):  # connect to every node before it: a full mesh
            node.connect(f"inproc://node{j}")
        node.rcvtimeo = 2000  # ms

    nodes[0].send(b"hello from node 0")
    assert nodes[1].recv() == b"hello from node 0"
    assert nodes[2].recv() == b"hello from node 0"
    try:
        nodes[0].recv(block=False)  # a node never hears itself
    except nn.Again:
        print("bus: ok")
    else:
        raise AssertionError("node 0 heard itself")
