"""PUB/SUB: a publisher broadcasts, each subscriber keeps the topics it subscribed to.

A SUB socket receives only messages that start with one of its subscribed prefixes (the empty
prefix subscribes to everything; with no subscription it receives nothing). Subscribers that
are not connected yet miss what is published meanwhile, so the publisher here sends a reading
every few milliseconds, as a real feed would, until the subscribers have seen enough.
Run: ``python examples/pubsub.py``.
"""

from __future__ import annotations

import itertools
import tempfile
import threading

import nanomsg_rs as nn

READINGS = [b"weather.paris 12C", b"news.sports 3-1", b"weather.oslo -3C", b"news.tech ABI 5"]


def publish(pub: nn.Socket, stop: threading.Event) -> None:
    """Publishes the readings round and round, one every 10 ms, until ``stop`` is set."""
    for reading in itertools.cycle(READINGS):
        if stop.wait(0.01):
            return
        pub.send(reading)  # never waits: a PUB socket drops what a slow subscriber can't take


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        nn.Socket("pub") as pub,
        nn.Socket("sub") as weather,
        nn.Socket("sub") as everything,
    ):
        address = f"ipc://{tmp}/pubsub.ipc"
        pub.bind(address)
        weather.subscribe(b"weather.")  # a topic is a prefix; str works too
        everything.subscribe()  # the empty prefix: every message
        for sub in (weather, everything):
            sub.connect(address)
            sub.rcvtimeo = 5000  # ms

        stop = threading.Event()
        publisher = threading.Thread(target=publish, args=(pub, stop))
        publisher.start()
        try:
            forecasts = [weather.recv() for _ in range(4)]
            feed = [everything.recv() for _ in range(4)]
        finally:
            stop.set()
            publisher.join()

        for msg in forecasts:
            print("weather subscriber got", msg)
        assert all(msg.startswith(b"weather.") for msg in forecasts)
        print("everything subscriber got", feed)
        print(f"pubsub: {len(forecasts)} weather messages, no news among them")


if __name__ == "__main__":
    main()
