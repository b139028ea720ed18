"""Instructions under valgrind's callgrind, the one runner the profile scripts share
(``profile_layers.py``, ``profile_calls.py``, ``profile_async.py``): a program is run twice,
with a small and a large number of iterations, and the difference is divided by the extra
iterations, so that start-up and imports cancel out. Instruction counts do not depend on the
machine's load, unlike the timings of ``run.py``; they do not see time spent waiting in the
kernel. Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["Profile", "available", "callgrind", "per_iteration", "profiling_folder"]


def available() -> str | None:
    """None where valgrind can run; otherwise what to do."""
    return None if shutil.which("valgrind") else "valgrind not found: apt-get install valgrind"


@contextlib.contextmanager
def profiling_folder(
    prefix: str, build_c: Callable[[Path], tuple[Path | None, str]]
) -> Iterator[tuple[Path, Path, str]]:
    """A temporary folder for the profiles, with the C floor ``build_c`` compiled into it:
    (folder, program, what ``build_c`` said). Ends the script with the reason where valgrind
    or the C program is missing."""
    if (missing := available()) is not None:
        raise SystemExit(missing)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        folder = Path(tmp)
        binary, said = build_c(folder)
        if binary is None:
            raise SystemExit(said)
        yield folder, binary, said


_KIND = {"fl": "fl", "fi": "fl", "fe": "fl", "cfi": "fl", "cfl": "fl", "fn": "fn", "cfn": "fn"}
_KIND.update({"ob": "ob", "cob": "ob"})
_COMPRESSED = re.compile(r"\((\d+)\)(?: (.*))?$")


class Profile:
    """One callgrind output file: self cost per (function, source file) and inclusive cost
    per call edge (caller, callee), with call counts."""

    def __init__(self, path: Path) -> None:
        self.own: dict[tuple[str, str], int] = defaultdict(int)
        self.edges: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.total = 0
        names: dict[str, dict[str, str]] = {"fl": {}, "fn": {}, "ob": {}}

        def name(key: str, value: str) -> str:
            m = _COMPRESSED.match(value)
            if not m:
                return value
            table = names[_KIND[key]]
            if m.group(2) is not None:
                table[m.group(1)] = m.group(2)
            return table[m.group(1)]

        fn = file = callee = ""
        in_call = False
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                head = line[:1]
                if head.isdigit() or head in "+-*":
                    parts = line.split()
                    if len(parts) < 2:
                        continue
                    cost = int(parts[1])
                    if in_call:
                        self.edges[(fn, callee)][1] += cost
                        in_call = False
                    else:
                        self.own[(fn, file)] += cost
                    continue
                if line.startswith("summary:"):
                    self.total = int(line.split()[1])
                    continue
                key, _, value = line.rstrip("\n").partition("=")
                if key == "fn":
                    fn = base(name(key, value))
                elif key in ("fl", "fi", "fe"):
                    file = name(key, value)
                elif key == "cfn":
                    callee = base(name(key, value))
                elif key in ("cfi", "cfl", "ob", "cob"):
                    name(key, value)
                elif key == "calls":
                    self.edges[(fn, callee)][0] += int(value.split()[0])
                    in_call = True

    def minus(self, other: Profile, scale: float) -> Profile:
        """(self - other) / scale, field by field."""
        out = Profile.__new__(Profile)
        out.own = defaultdict(int)
        out.edges = defaultdict(lambda: [0, 0])
        for k in set(self.own) | set(other.own):
            out.own[k] = (self.own.get(k, 0) - other.own.get(k, 0)) / scale  # type: ignore[assignment]
        for k in set(self.edges) | set(other.edges):
            a, b = self.edges.get(k, [0, 0]), other.edges.get(k, [0, 0])
            out.edges[k] = [(a[0] - b[0]) / scale, (a[1] - b[1]) / scale]  # type: ignore[list-item]
        out.total = (self.total - other.total) / scale  # type: ignore[assignment]
        return out

    def own_by_file(self, fn: str) -> dict[str, float]:
        return {file: c for (f, file), c in self.own.items() if f == fn and c}

    def callees(self, fn: str) -> dict[str, tuple[float, float]]:
        return {b: (n, c) for (a, b), (n, c) in self.edges.items() if a == fn and (n or c)}

    def inclusive(self, fn: str) -> float:
        return sum(self.own_by_file(fn).values()) + sum(c for _, c in self.callees(fn).values())

    def own_by_function(self) -> dict[str, float]:
        """Self cost per function, over all its source files."""
        out: dict[str, float] = defaultdict(float)
        for (fn, _), cost in self.own.items():
            out[fn] += cost
        return dict(out)


def base(symbol: str) -> str:
    """A function's name without callgrind's recursion suffix (``f'2``)."""
    return re.sub(r"'\d+$", "", symbol)


def callgrind(argv: list[str], out: Path, stdin: str | None = None) -> Profile:
    """Runs ``argv`` under callgrind (``stdin`` as its input), its output into ``out``."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict layouts in every run
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return Profile(out)


def per_iteration(
    run: Callable[[int], tuple[list[str], str | None]], small: int, large: int, folder: Path
) -> Profile:
    """The cost of one iteration: ``run(n)`` gives the command line and input of a run of
    ``n`` iterations, run with ``small`` then ``large``; their difference over the extra
    iterations."""
    (argv_a, input_a), (argv_b, input_b) = run(small), run(large)
    a = callgrind(argv_a, folder / "small.out", input_a)
    b = callgrind(argv_b, folder / "large.out", input_b)
    return b.minus(a, large - small)
