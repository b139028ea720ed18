"""PUSH/PULL: PUSH hands each message to one of its PULL peers; none is lost or doubled."""

import nanomsg_rs as nn

with nn.Socket("push") as ventilator, nn.Socket("pull") as a, nn.Socket("pull") as b:
    ventilator.bind("inproc://tasks")
    for worker in (a, b):
        worker.connect("inproc://tasks")
    ventilator.sndtimeo = 2000  # ms

    for n in range(6):
        ventilator.send(str(n))

    done: dict[str, list[int]] = {"a": [], "b": []}
    while len(done["a"]) + len(done["b"]) < 6:
        ready = nn.poll([(a, nn.POLLIN), (b, nn.POLLIN)], 2000)  # ms
        assert any(ready), "a task went missing"
        for name, worker, events in zip("ab", (a, b), ready, strict=True):
            if events & nn.POLLIN:
                done[name].append(int(worker.recv()))

    assert sorted(done["a"] + done["b"]) == list(range(6))
    print("pipeline: a did", done["a"], "b did", done["b"])
