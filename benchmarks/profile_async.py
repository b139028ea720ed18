"""Instructions per async REQ/REP round trip under callgrind, for nanomsg_rs under asyncio.

``python benchmarks/profile_async.py`` runs one event loop with a REP task answering a REQ
task over inproc (64 B), twice under callgrind (``SMALL`` and ``LARGE`` round trips), and
prints the difference divided by the extra round trips: start-up and imports cancel out.
Instruction counts do not depend on the machine's load, unlike the timings of ``run.py``'s
``async`` workload. Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

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


def instructions(python: str, script: Path, rounds: int, out: Path) -> int:
    """Total instructions of one run under callgrind."""
    proc = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            python,
            str(script),
            str(rounds),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{proc.stderr}")
    return int(found.group(1))


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
        small = instructions(args.python, script, SMALL, Path(tmp) / "small.out")
        large = instructions(args.python, script, LARGE, Path(tmp) / "large.out")
    per = (large - small) / (LARGE - SMALL)
    print(f"nanomsg_rs, asyncio, REQ/REP over inproc, 64 B: {per:,.0f} instructions per round trip")


if __name__ == "__main__":
    main()
