"""Zero copy: nn.Message, recv_msg, send_msg, recv_into, send_parts."""

import nanomsg_rs as nn

with nn.Socket("pair") as a, nn.Socket("pair") as b:
    a.bind("inproc://zc")
    b.connect("inproc://zc")
    a.rcvtimeo = b.rcvtimeo = 2000  # ms

    # A message made in nanomsg's buffer, filled in place, sent without a copy.
    msg = nn.Message(5)  # five zero bytes
    with memoryview(msg) as view:
        view[:] = b"hello"
    b.send_msg(msg)
    assert len(msg) == 0  # handed over to nanomsg: the object is empty now

    # Received without a copy; memoryview(m) reads (and writes) nanomsg's buffer.
    received = a.recv_msg()
    assert received == b"hello" and len(received) == 5
    with memoryview(received) as view:
        view[0:1] = b"J"
    a.send_msg(received)  # sent back as is: no copy either way
    assert b.recv() == b"Jello"

    # Into a buffer of your own: the return value is the message's full size.
    b.send_parts([b"head:", b"body"])  # gathered into one message
    buf = bytearray(64)
    n = a.recv_into(buf)
    assert buf[:n] == b"head:body"
    print("zero-copy: ok")
