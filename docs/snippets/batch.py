"""Batches: send_many and recv_many, many messages per call."""

import tempfile

import nanomsg_rs as nn

# ipc: its connections queue many messages on either backend (nng's inproc holds two).
with (
    tempfile.TemporaryDirectory() as folder,
    nn.Socket("push") as push,
    nn.Socket("pull") as pull,
):
    pull.bind(f"ipc://{folder}/batch.ipc")
    push.connect(f"ipc://{folder}/batch.ipc")
    pull.rcvtimeo = 2000  # ms

    # Every message is taken first, then they go in order: one GIL release for them all.
    assert push.send_many([b"one", "two", bytearray(b"three")]) == 3

    # The first message is waited for (up to rcvtimeo), the rest taken as queued, up to max.
    got = []
    while len(got) < 3:
        got += pull.recv_many(64)
    assert got == [b"one", b"two", b"three"]

    # timeout (seconds) instead of rcvtimeo: [] when nothing came; 0 takes what is there.
    assert pull.recv_many(64, timeout=0) == []

    # An error midway says how many went: here nothing can go without waiting.
    with nn.Socket("push") as lonely:
        try:
            lonely.send_many([b"a", b"b"], block=False)
        except nn.Again as e:
            assert e.sent == 0
    print("batch: ok")
