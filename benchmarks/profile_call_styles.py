"""What a receive costs as users write it: instructions a message of a PULL process under
valgrind's callgrind, for ``sock.recv()`` written plainly in the loop and for the method bound
once (``recv = sock.recv``, as the benchmarks' workers do), nanomsg_rs beside pyzmq.

``python benchmarks/profile_call_styles.py [--size 256]`` runs each PULL (ipc, a PUSH of the
same library in a child process, not profiled) twice under callgrind, with ``SMALL`` and
``LARGE`` messages, and prints the difference over the extra messages: every thread of the
receiving process, start-up and imports cancelled out (see ``bench_callgrind.py``). A class
that defines ``__getattr__`` pays for it on every method call written plainly: the gap
between the two styles. Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench_callgrind import available, per_iteration

SMALL, LARGE = 20_000, 60_000

PULL = """
import os, subprocess, sys
lib, style, size, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
addr = f"ipc://{sys.argv[5]}"
if lib == "nanomsg_rs":
    import nanomsg_rs as nn
    s = nn.Socket("pull")
    push = "import nanomsg_rs as nn\\ns = nn.Socket('push')"
    end = "s.close()"
else:
    import zmq
    s = zmq.Context().socket(zmq.PULL)
    push = "import zmq\\nc = zmq.Context()\\ns = c.socket(zmq.PUSH)"
    end = "s.close(linger=-1); c.term()"
s.bind(addr)
code = f"{push}\\ns.connect({addr!r})\\nfor _ in range({n}): s.send(b'x' * {size})\\n{end}"
child = subprocess.Popen([sys.executable, "-c", code])


def plain():
    for _ in range(n):
        s.recv()


def bound():
    recv = s.recv
    for _ in range(n):
        recv()


{"plain": plain, "bound": bound}[style]()
child.wait()
"""


def run_of(
    lib: str, style: str, size: int, folder: Path
) -> Callable[[int], tuple[list[str], None]]:
    """The runs of one PULL: ``n`` messages."""
    script = folder / "pull.py"
    script.write_text(PULL)
    sock = folder / f"{lib}-{style}.ipc"
    return lambda n: ([sys.executable, str(script), lib, style, str(size), str(n), str(sock)], None)


def main(argv: list[str]) -> int:
    """Profiles both styles for each library; prints instructions a message."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="message size in bytes")
    parser.add_argument("--libs", default="nanomsg_rs,pyzmq", help="comma-separated")
    args = parser.parse_args(argv)
    why = available()
    if why:
        print(why)
        return 1
    with tempfile.TemporaryDirectory(prefix="nncalls-") as tmp:
        folder = Path(tmp)
        print(f"instructions a message of the PULL process, {args.size} B over ipc:")
        for lib in args.libs.split(","):
            row = []
            for style in ("plain", "bound"):
                profile = per_iteration(run_of(lib, style, args.size, folder), SMALL, LARGE, folder)
                row.append(f"{style} {profile.total:7,.0f}")
            print(f"  {lib:<12} " + "   ".join(row))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main(sys.argv[1:]))
