"""REQ/REP: a client asks, a server answers, one request at a time.

A REP server receives a request and must send the reply before it can receive the next; a REQ
client must receive the reply before it can send again (calling them out of turn raises
``nn.BadState``). REQ resends an unanswered request after ``req_resend_ivl`` ms, so a request
survives a server restart. This one runs over TCP on a free local port.
Run: ``python examples/reqrep.py``.
"""

from __future__ import annotations

import socket
import threading

import nanomsg_rs as nn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(server: nn.Socket) -> None:
    """Answers each request ``a+b`` with the sum, until the socket is closed."""
    try:
        while True:
            a, b = server.recv().split(b"+")
            server.send(str(int(a) + int(b)))
    except nn.Closed:
        pass


def main() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    with nn.Socket("rep") as server, nn.Socket("req") as client:
        endpoint = server.bind(address)
        print("server listening on", endpoint.address)
        thread = threading.Thread(target=serve, args=(server,))
        thread.start()
        try:
            client.connect(address)
            client.sndtimeo = client.rcvtimeo = 5000  # ms
            for question in ("1+2", "20+22", "1000+337"):
                client.send(question)
                print(f"{question} = {client.recv().decode()}")
            try:
                client.recv()  # no request in flight
            except nn.BadState:
                print("recv before send: nn.BadState, as REQ requires")
        finally:
            server.close()  # wakes serve() with nn.Closed
            thread.join()
        print("reqrep: 3 answers")


if __name__ == "__main__":
    main()
