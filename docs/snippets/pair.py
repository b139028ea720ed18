"""PAIR: one connection, both ways."""

import nanomsg_rs as nn

with nn.Socket("pair") as left, nn.Socket("pair") as right:
    left.bind("inproc://pair")
    right.connect("inproc://pair")
    for s in (left, right):
        s.sndtimeo = s.rcvtimeo = 2000  # ms: fail instead of hanging

    left.send(b"ping")
    assert right.recv() == b"ping"
    right.send("pong")  # a str is sent as UTF-8
    assert left.recv() == b"pong"
    print("pair: ok")
