"""REQ/REP in asyncio: ``await sock.arecv()`` and ``await sock.asend(data)``.

The awaitables wait on the socket's descriptor in the running event loop: no thread per call,
and the loop stays free for other tasks meanwhile. ``async for request in sock`` receives until
the socket is closed; ``rcvtimeo``/``sndtimeo`` apply (then ``nn.Timeout``), and cancelling a
task never loses a message. Here one server task answers several concurrent client tasks.
Run: ``python examples/asyncio_reqrep.py``.
"""

from __future__ import annotations

import asyncio
import tempfile

import nanomsg_rs as nn

CLIENTS = 4


async def serve(server: nn.Socket) -> int:
    """Answers each request with its text reversed until the socket is closed; returns how
    many it answered."""
    answered = 0
    async for request in server:  # ends when the socket is closed
        await server.asend(request[::-1])
        answered += 1
    return answered


async def ask(address: str, question: str) -> str:
    """A client: connects, asks ``question`` and returns the answer."""
    with nn.Socket("req") as client:
        client.connect(address)
        client.rcvtimeo = 5000  # ms; then nn.Timeout
        await client.asend(question)
        return (await client.arecv()).decode()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        address = f"ipc://{tmp}/asyncio.ipc"
        with nn.Socket("rep") as server:
            server.bind(address)
            server_task = asyncio.create_task(serve(server))
            questions = [f"question {i}" for i in range(CLIENTS)]
            answers = await asyncio.gather(*(ask(address, q) for q in questions))
            for q, a in zip(questions, answers, strict=True):
                print(f"{q!r} -> {a!r}")
            server.close()  # ends the server's async for
            answered = await server_task
        print(f"asyncio_reqrep: the server answered {answered} requests")


if __name__ == "__main__":
    asyncio.run(main())
