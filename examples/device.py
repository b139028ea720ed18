"""A device: a broker between REQ clients and REP servers, made of two raw sockets.

``nn.device(front, back)`` forwards in both directions between two ``sp-raw`` sockets until one
of them is closed (it then raises ``nn.Closed``) or ``nn.term()`` is called. Raw sockets keep
each request's routing header, so every reply finds its way back to the client that asked.
Clients connect to the front, servers to the back; neither knows the device is there.
Run: ``python examples/device.py``.
"""

from __future__ import annotations

import tempfile
import threading

import nanomsg_rs as nn

CLIENTS = 3


def run_device(front: nn.Socket, back: nn.Socket) -> None:
    """The device's thread: forwards until a socket is closed."""
    try:
        nn.device(front, back)  # blocks with the GIL released
    except nn.Closed:
        print("device stopped: socket closed")


def serve(server: nn.Socket) -> None:
    """A REP server behind the device: answers each request, until the socket is closed."""
    try:
        while True:
            server.send(b"answer to " + server.recv())
    except nn.Closed:
        pass


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        front_address, back_address = f"ipc://{tmp}/front.ipc", f"ipc://{tmp}/back.ipc"
        front = nn.Socket("rep", "sp-raw")  # faces the clients: they send requests to it
        back = nn.Socket("req", "sp-raw")  # faces the servers: it sends the requests on
        front.bind(front_address)
        back.bind(back_address)
        device = threading.Thread(target=run_device, args=(front, back))
        device.start()

        server = nn.Socket("rep")
        server.connect(back_address)
        server_thread = threading.Thread(target=serve, args=(server,))
        server_thread.start()

        clients = [nn.Socket("req") for _ in range(CLIENTS)]
        try:
            for c in clients:
                c.connect(front_address)
                c.sndtimeo = c.rcvtimeo = 5000  # ms
            for i, c in enumerate(clients):  # every request in flight at once ...
                c.send(f"request from client {i}")
            for i, c in enumerate(clients):  # ... and each reply comes back to its client
                print(f"client {i} got {c.recv()!r}")
        finally:
            for s in (*clients, server, front, back):
                s.close()
            server_thread.join()
            device.join()
        print(f"device: {CLIENTS} clients answered through the device")


if __name__ == "__main__":
    main()
