"""Code written for nnpy, run on nanomsg_rs by changing one import.

Everything below ``import`` is nnpy 1.4.2 code as its users write it: ``Socket(domain,
protocol)``, ``setsockopt`` with str values, a ``PollSet``, ``RCVFD`` handed to ``select``,
``NNError`` with ``.error_no``. Run: ``python examples/compat_nnpy.py``.
"""

from __future__ import annotations

import select
import tempfile

import nanomsg_rs.compat.nnpy as nnpy  # instead of: import nnpy


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        address = f"ipc://{tmp}/news.ipc"
        pub = nnpy.Socket(nnpy.AF_SP, nnpy.PUB)
        pub.bind(address)
        sub = nnpy.Socket(nnpy.AF_SP, nnpy.SUB)
        sub.connect(address)
        sub.setsockopt(nnpy.SUB, nnpy.SUB_SUBSCRIBE, "news")
        sub.setsockopt(nnpy.SOL_SOCKET, nnpy.RCVTIMEO, 5000)

        # The connection comes up in the background: say hello until one arrives, then
        # stop listening to hellos (any still on their way are filtered out).
        sub.setsockopt(nnpy.SUB, nnpy.SUB_SUBSCRIBE, b"hello")
        poller = nnpy.PollSet((sub, nnpy.POLLIN))
        while poller.poll(50) != [nnpy.POLLIN]:
            pub.send("hello")
        sub.setsockopt(nnpy.SUB, nnpy.SUB_UNSUBSCRIBE, b"hello")

        for text in ["weather: rain", "news: nnpy code runs unchanged", "sport: 1-0"]:
            pub.send(text)
        fd = sub.getsockopt(nnpy.SOL_SOCKET, nnpy.RCVFD)  # an OS descriptor
        ready, _, _ = select.select([fd], [], [], 5)
        print("select says readable:", ready == [fd])
        print("subscriber got", sub.recv())

        try:
            sub.recv(nnpy.DONTWAIT)
        except nnpy.NNError as e:
            print("nothing more:", e.error_no == nnpy.EAGAIN, e)
        pub.close()
        sub.close()
        print("compat_nnpy: done")


if __name__ == "__main__":
    main()
