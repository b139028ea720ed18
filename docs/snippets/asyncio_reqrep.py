"""asyncio: a server task answers with ``async for``, clients ``await asend``/``arecv``."""

import asyncio

import nanomsg_rs as nn


async def serve(server: nn.Socket) -> int:
    answered = 0
    async for request in server:  # ends when the socket is closed
        await server.asend(request.upper())
        answered += 1
    return answered


async def ask(question: bytes) -> bytes:
    async with nn.Socket("req") as client:  # closed at the end of the block
        client.connect("inproc://upper")
        client.rcvtimeo = 2000  # ms; then nn.Timeout
        await client.asend(question)
        return await client.arecv()


async def main() -> None:
    server = nn.Socket("rep")
    server.bind("inproc://upper")
    task = asyncio.create_task(serve(server))

    answers = await asyncio.gather(ask(b"one"), ask(b"two"), ask(b"three"))
    assert answers == [b"ONE", b"TWO", b"THREE"]

    # A cancelled receive takes no message with it.
    async with nn.Socket("pull") as pull, nn.Socket("push") as push:
        pull.bind("inproc://jobs")
        push.connect("inproc://jobs")
        try:
            async with asyncio.timeout(0.05):
                await pull.arecv()  # nothing sent yet: cancelled by the timeout
        except TimeoutError:
            pass
        await push.asend(b"job")
        msg = await pull.arecv_msg()  # a zero-copy nn.Message
        assert bytes(msg) == b"job"

    server.close()  # wakes the server's async for, which ends
    assert await task == 3
    print("asyncio: ok")


asyncio.run(main())
