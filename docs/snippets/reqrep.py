"""REQ/REP: request, reply, one at a time, with the server in a thread."""

import threading

import nanomsg_rs as nn


def serve(server: nn.Socket) -> None:
    """Answers each request "a+b" with the sum, until the socket is closed."""
    try:
        while True:
            a, b = server.recv().split(b"+")
            server.send(str(int(a) + int(b)))
    except nn.Closed:  # close() from the main thread wakes recv()
        pass


with nn.Socket("rep") as server, nn.Socket("req") as client:
    server.bind("inproc://adder")
    thread = threading.Thread(target=serve, args=(server,))
    thread.start()

    client.connect("inproc://adder")
    client.sndtimeo = client.rcvtimeo = 2000  # ms
    client.send("20+22")
    assert client.recv() == b"42"

    try:
        client.recv()  # REQ: no request in flight
    except nn.BadState:
        print("recv before send: nn.BadState")
    else:
        raise AssertionError("REQ received without a request")

    server.close()
    thread.join()
    print("reqrep: ok")
