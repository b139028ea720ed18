"""``python -m nanomsg_rs``: runs ``nncat``, nanocat in Python (see :mod:`nanomsg_rs.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
