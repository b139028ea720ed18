"""``nncat``: nanocat, the command-line tool that ships with nanomsg, in Python (``parser``:
the command line; ``formats``: the output; ``loop``: the socket and its loops).

nncat takes the same options as nanocat 1.1.5 (the long ones may be abbreviated, short ones
grouped as in ``-vA``), prints the same bytes for the same messages in every format, fails with
the same messages and exit statuses, and talks to nanocat over every transport. Run
``nncat --help`` for the list of options, or read nanocat's manual.

Exit statuses, as nanocat's: 0 when done (a one-shot send is sent, or a receive timed out),
1 for a bad command line, 2 when ``--file`` cannot be read, 3 when nanomsg refuses something
(``Can't bind: Address already in use``). Ctrl-C ends nncat with status 130, a closed stdout
(``nncat ... | head -1``) quietly with 141, as nanocat's SIGPIPE does. Messages name the program
as nanocat's name it: ``nncat``, or the name nncat was started as; started as ``nn_pull`` (a
link), it acts as if given ``--pull``, as nanocat does.

Where nanocat crashes or hangs, nncat does the sensible thing instead: an empty ``--file``
sends an empty message (nanocat fails an assertion) and a ``--file`` that is a directory is
an error (nanocat loops forever). A negative ``--delay`` fails as in nanocat (status 134 and
the same last line), without a core dump.
"""

from __future__ import annotations

import os
import sys

from .formats import FORMATS, format_message
from .loop import run
from .parser import Exit, Options, parse, parse_args

__all__ = ["FORMATS", "Options", "format_message", "main", "parse_args"]


def _program_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not name or name in ("__main__.py", "-c", "-m"):
        return "nncat"
    return name


def main(argv: list[str] | None = None) -> int:
    """Runs nncat with ``argv`` (the arguments after the program name; default
    ``sys.argv[1:]``) and returns the exit status: 0 done, 1 bad command line, 2 unreadable
    ``--file``, 3 a nanomsg error, 130 interrupted (Ctrl-C)."""
    prog = _program_name() if argv is None else "nncat"
    args = sys.argv[1:] if argv is None else argv
    try:
        options = parse(args, prog, prog if argv is None else None)
        run(options)
    except Exit as e:
        return e.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # stdout was closed (``nncat ... | head -1``): end quietly, as nanocat does on SIGPIPE,
        # and keep Python from complaining when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
        return 141
    return 0
