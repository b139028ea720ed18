"""Instructions per async REQ/REP round trip under callgrind, for nanomsg_rs under asyncio.

``python benchmarks/profile_async.py`` runs one event loop with a REP task answering a REQ
task over inproc (64 B), twice under callgrind (``SMALL`` and ``LARGE`` round trips), and
prints the difference divided by the extra round trips (see ``bench_callgrind.py``).
Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench_callgrind import per_iteration

SMALL, LARGE = 500, 1500

WORKER = """
import asyncio, sys
import nanomsg_rs as nn

N = int(sys.argv[1])


async def main():
    with nn.Socket("rep") as rep, nn.Socket("req") as req:
        rep.bind("inproc://profile-async")
        req.connect("inproc://profile-async")

        async def server():
            for _ in range(N):
                await rep.asend(await rep.arecv())

        task = asyncio.ensure_future(server())
        for _ in range(N):
            await req.asend(b"x" * 64)
            await req.arecv()
        await task


asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--python",
        default=os.path.realpath(sys.executable),
        help="the interpreter to run (the real binary, not a shim; default: this one)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "async_round_trips.py"
        script.write_text(WORKER)
        run = per_iteration(
            lambda n: ([args.python, str(script), str(n)], None), SMALL, LARGE, Path(tmp)
        )
    per = run.total
    print(f"nanomsg_rs, asyncio, REQ/REP over inproc, 64 B: {per:,.0f} instructions per round trip")


if __name__ == "__main__":
    main()
