"""Code written for nanomsg-python (PyPI ``nanomsg``), run on nanomsg_rs by changing one
import.

Everything below ``import`` is nanomsg-python 1.0 code: sockets as context managers,
endpoints, option properties, ``poll`` with its timeout in seconds, ``NanoMsgAPIError``.
Run: ``python examples/compat_nanomsg.py``.
"""

from __future__ import annotations

import tempfile

from nanomsg_rs.compat import nanomsg  # instead of: import nanomsg
from nanomsg_rs.compat.nanomsg import REP, REQ, NanoMsgAPIError, Socket


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Socket(REP) as server, Socket(REQ) as client:
        address = f"ipc://{tmp}/calc.ipc"
        endpoint = server.bind(address)
        client.connect(address)
        server.recv_timeout = client.recv_timeout = 5000  # ms
        print("server bound to", endpoint.address)

        for a, b in [(20, 22), (1, 2)]:
            client.send(f"{a}+{b}")
            readable, _ = nanomsg.poll([server], [], 5.0)  # seconds
            assert readable == [server]
            x, y = server.recv().decode().split("+")
            server.send(str(int(x) + int(y)))
            print(f"{a}+{b} =", client.recv().decode())

        try:
            server.recv(flags=nanomsg.DONTWAIT)
        except NanoMsgAPIError as e:
            print("nothing waiting:", e.errno == nanomsg.EAGAIN, e.msg)
        print("compat_nanomsg: done")


if __name__ == "__main__":
    main()
