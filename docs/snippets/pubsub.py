"""PUB/SUB: each subscriber receives the messages that start with a prefix it subscribed to."""

import nanomsg_rs as nn

with nn.Socket("pub") as pub, nn.Socket("sub") as weather, nn.Socket("sub") as everything:
    pub.bind("inproc://feed")
    weather.subscribe(b"weather.")  # a prefix; str works too
    everything.subscribe()  # the empty prefix: every message
    for sub in (weather, everything):
        sub.connect("inproc://feed")
        sub.rcvtimeo = 2000  # ms

    # libnanomsg connects inproc at once; over tcp or ipc (and on the nng backend, inproc
    # too) a subscriber misses what is published before its connection is up.
    for msg in (b"weather.oslo -3C", b"news.tech ABI 5", b"weather.paris 12C"):
        pub.send(msg)  # never waits: PUB drops what a subscriber cannot take

    assert weather.recv() == b"weather.oslo -3C"
    assert weather.recv() == b"weather.paris 12C"  # the news was filtered out
    assert [everything.recv() for _ in range(3)][1] == b"news.tech ABI 5"

    weather.unsubscribe(b"weather.")
    pub.send(b"weather.rome 20C")
    assert everything.recv() == b"weather.rome 20C"
    try:
        weather.recv(block=False)  # no subscription left: nothing arrives
    except nn.Again:
        print("pubsub: ok")
    else:
        raise AssertionError("an unsubscribed message arrived")
