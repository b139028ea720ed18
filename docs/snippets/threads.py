"""A receive waiting in one thread is woken by close() from another, with nn.Closed."""

import threading
import time

import nanomsg_rs as nn

outcome: list[str] = []


def wait_for_message(sock: nn.Socket) -> None:
    try:
        sock.recv()  # waits with the GIL released
    except nn.Closed:
        outcome.append("closed")


sock = nn.Socket("pull")
sock.bind("inproc://nobody-sends")
thread = threading.Thread(target=wait_for_message, args=(sock,))
thread.start()

time.sleep(0.05)  # the main thread runs meanwhile: the waiting thread holds no GIL
sock.close()
thread.join(timeout=2)
assert not thread.is_alive() and outcome == ["closed"]
print("threads: the waiting recv raised nn.Closed")
