"""Reads a valgrind memcheck XML report and says whose errors they are.

    python tools/memcheck_report.py report.xml

Prints every unsuppressed error with its innermost frames. Exit status: 0 none; 1 at least
one error has a frame in our extension (the ``_native`` shared object); 2 errors only
elsewhere. Leak records are ignored (tests/test_leaks.py measures leaks).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass

OURS = "_native"


@dataclass
class Error:
    kind: str
    what: str
    frames: list[tuple[str, str, str]]  # (function, object, file:line)

    @property
    def ours(self) -> bool:
        return any(OURS in obj.rsplit("/", 1)[-1] for _, obj, _ in self.frames)


def parse(path: str) -> list[Error]:
    root = ET.parse(path).getroot()
    errors = []
    for e in root.iter("error"):
        kind = e.findtext("kind") or "?"
        if kind.startswith("Leak_"):
            continue
        what = e.findtext("what") or e.findtext("xwhat/text") or ""
        frames = []
        stack = e.find("stack")
        for f in stack.iter("frame") if stack is not None else []:
            where = ""
            if f.findtext("file"):
                where = f"{f.findtext('file')}:{f.findtext('line')}"
            frames.append((f.findtext("fn") or "???", f.findtext("obj") or "?", where))
        errors.append(Error(kind, what, frames))
    return errors


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 3
    try:
        errors = parse(argv[1])
    except (ET.ParseError, FileNotFoundError) as e:
        print(f"memcheck_report: cannot read {argv[1]}: {e}", file=sys.stderr)
        return 3
    for err in errors:
        tag = "OURS" if err.ours else "elsewhere"
        print(f"[{tag}] {err.kind}: {err.what}")
        for fn, obj, where in err.frames[:12]:
            print(f"    {fn}  ({obj.rsplit('/', 1)[-1]}{' ' + where if where else ''})")
    ours = sum(e.ours for e in errors)
    print(f"memcheck_report: {len(errors)} error(s), {ours} in our extension")
    if ours:
        return 1
    return 2 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
