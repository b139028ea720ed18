"""trio: tasks in a nursery share one socket; closing it ends their ``async for``."""

import trio

import nanomsg_rs as nn


async def main() -> None:
    got: list[bytes] = []
    with nn.Socket("pull") as pull, nn.Socket("push") as push:
        pull.bind("inproc://work")
        push.connect("inproc://work")

        async def worker() -> None:
            async for job in pull:  # ends when the socket is closed
                got.append(job)

        async with trio.open_nursery() as nursery:
            for _ in range(4):  # four tasks wait on one socket: they take turns
                nursery.start_soon(worker)
            for i in range(100):
                await push.asend(b"job %d" % i)
            with trio.fail_after(5):
                while len(got) < 100:
                    await trio.sleep(0.01)
            pull.close()  # every worker's loop ends, and the nursery with them

        # rcvtimeo is a deadline for the whole call, as everywhere
        with nn.Socket("pull") as idle:
            idle.bind("inproc://idle")
            idle.rcvtimeo = 50
            try:
                await idle.arecv()
            except nn.Timeout:
                pass
    assert sorted(got) == sorted(b"job %d" % i for i in range(100))
    print("trio: 100 jobs over 4 tasks")


trio.run(main)
