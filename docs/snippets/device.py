"""Raw sockets: nn.device between REQ clients and REP servers, and a device in Python."""

import threading

import nanomsg_rs as nn


def run_device(front: nn.Socket, back: nn.Socket) -> None:
    try:
        nn.device(front, back)  # forwards both ways, GIL released
    except nn.Closed:  # one of the sockets was closed: the device stops
        pass


def serve(server: nn.Socket) -> None:
    try:
        while True:
            server.send(b"answer to " + server.recv())
    except nn.Closed:
        pass


front = nn.Socket("rep", "sp-raw")  # faces the clients
back = nn.Socket("req", "sp-raw")  # faces the servers
front.bind("inproc://front")
back.bind("inproc://back")
server = nn.Socket("rep")
server.connect("inproc://back")
client = nn.Socket("req")
client.connect("inproc://front")
client.rcvtimeo = 2000  # ms

threads = [
    threading.Thread(target=run_device, args=(front, back)),
    threading.Thread(target=serve, args=(server,)),
]
for t in threads:
    t.start()
client.send(b"question")
assert client.recv() == b"answer to question"
for s in (client, server, front, back):
    s.close()  # ends the device and the server
for t in threads:
    t.join()

# A raw REP sees each request's SP header (the route back) and answers with it.
with nn.Socket("rep", "sp-raw") as raw_rep, nn.Socket("req") as req:
    raw_rep.bind("inproc://raw")
    req.connect("inproc://raw")
    raw_rep.rcvtimeo = req.rcvtimeo = 2000
    req.send(b"ping")
    request = raw_rep.recv_msg()
    assert request == b"ping" and request.header  # the header: routing backtrace
    reply = nn.Message(b"pong")
    reply.header = request.header  # route the reply back to its REQ
    raw_rep.send_msg(reply)
    assert req.recv() == b"pong"
print("device: ok")
