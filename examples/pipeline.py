"""PUSH/PULL: a ventilator hands tasks out to several workers, a sink collects the results.

PUSH sends each message to exactly one of its connected PULL peers, taking turns among them
(round robin), and waits while it has none; no task is lost or done twice. The workers here are
threads (each would usually be a process or a machine), connected over ipc.
Run: ``python examples/pipeline.py``.
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter

import nanomsg_rs as nn

WORKERS = 3
TASKS = 12


def work(name: str, tasks: nn.Socket, results: nn.Socket) -> None:
    """Squares each task number and pushes ``name:task:square`` to the sink, until ``tasks``
    is closed (from the main thread, which wakes the waiting ``recv`` with ``nn.Closed``)."""
    try:
        while True:
            n = int(tasks.recv())
            results.send(f"{name}:{n}:{n * n}")
    except nn.Closed:
        pass


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        nn.Socket("push") as ventilator,
        nn.Socket("pull") as sink,
    ):
        task_address, result_address = f"ipc://{tmp}/tasks.ipc", f"ipc://{tmp}/results.ipc"
        ventilator.bind(task_address)
        sink.bind(result_address)
        ventilator.sndtimeo = sink.rcvtimeo = 5000  # ms

        sockets: list[nn.Socket] = []
        threads: list[threading.Thread] = []
        for i in range(WORKERS):
            tasks, results = nn.Socket("pull"), nn.Socket("push")
            tasks.connect(task_address)
            results.connect(result_address)
            sockets += [tasks, results]
            threads.append(threading.Thread(target=work, args=(f"worker{i}", tasks, results)))
            threads[-1].start()

        try:
            for n in range(TASKS):
                ventilator.send(str(n))
            done = [sink.recv().decode().split(":") for _ in range(TASKS)]
        finally:
            for s in sockets:
                s.close()  # ends the workers' loops
            for t in threads:
                t.join()

        total = sum(int(square) for _, _, square in done)
        for name, count in sorted(Counter(name for name, _, _ in done).items()):
            print(f"{name} did {count} tasks")
        assert sorted(int(n) for _, n, _ in done) == list(range(TASKS))
        print(f"pipeline: {TASKS} tasks done by {WORKERS} workers, sum of squares {total}")


if __name__ == "__main__":
    main()
