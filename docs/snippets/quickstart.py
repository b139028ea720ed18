"""The README's quick start: a REP server and a REQ client."""

import nanomsg_rs as nn

with nn.Socket("rep") as server, nn.Socket("req") as client:
    endpoint = server.bind("inproc://quickstart")  # or "tcp://127.0.0.1:5555", "ipc:///tmp/x"
    assert endpoint.address == "inproc://quickstart"
    client.connect("inproc://quickstart")
    client.send(b"ping")  # bytes, bytearray, memoryview, any buffer; str as UTF-8
    assert server.recv() == b"ping"
    server.send(b"pong")
    assert client.recv() == b"pong"

    client.rcvtimeo = 500  # options are properties (ms, bytes)
    try:
        client.recv()
    except nn.BadState:  # REQ: no request in flight
        pass
    if nn.BACKEND == "nanomsg":  # the nng backend keeps no statistics
        assert client.statistic("messages-sent") == 1  # or nn.Statistic.MESSAGES_SENT
    print("quickstart: ok")
