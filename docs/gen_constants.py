"""Writes docs/reference/constants.rst: every name of ``nanomsg_rs.constants`` in tables by
kind, with its value and unit on the installed build.

Run ``python docs/gen_constants.py`` after a constant is added (tests/test_docs.py fails
until every public name is in the reference).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nanomsg_rs as nn
from nanomsg_rs import constants

OUT = Path(__file__).with_name("reference") / "constants.rst"

#: (title, what the names are for, test of a name)
GROUPS: list[tuple[str, str, object]] = [
    (
        "Domains",
        "The ``domain`` of :class:`~nanomsg_rs.Socket` (see :class:`~nanomsg_rs.Domain`).",
        lambda n: n.startswith("AF_"),
    ),
    (
        "Protocols",
        "The ``protocol`` of :class:`~nanomsg_rs.Socket` (see "
        ":class:`~nanomsg_rs.Protocol`); ``PROTO_*`` are the protocol families.",
        lambda n: n in {p.name for p in nn.Protocol} or n.startswith("PROTO_"),
    ),
    (
        "Transports",
        "Option levels of the transports (``getsockopt``/``setsockopt``).",
        lambda n: n in {"INPROC", "IPC", "TCP", "WS"},
    ),
    (
        "Socket options",
        "Options at level ``SOL_SOCKET``; most are also :class:`~nanomsg_rs.Socket` properties.",
        lambda n: n == "SOL_SOCKET" or n in _socket_options(),
    ),
    (
        "Protocol and transport options",
        "At the level of their protocol (``SUB``, ``REQ``, "
        "``SURVEYOR``) or transport (``TCP``, ``WS``, ``IPC``).",
        lambda n: n.startswith(("SUB_", "REQ_", "SURVEYOR_", "TCP_", "WS_", "IPC_")),
    ),
    (
        "Flags and poll events",
        "``DONTWAIT`` is ``block=False``; ``POLLIN``/``POLLOUT`` are "
        "the events of :func:`~nanomsg_rs.poll`.",
        lambda n: n in {"DONTWAIT", "POLLIN", "POLLOUT"},
    ),
    (
        "Statistics",
        "For :meth:`Socket.statistic <nanomsg_rs.Socket.statistic>` (see "
        ":class:`~nanomsg_rs.Statistic`).",
        lambda n: n.startswith("STAT_"),
    ),
    (
        "Error codes",
        "The ``errno`` of :class:`~nanomsg_rs.NanomsgError` (see :doc:`../errors`).",
        lambda n: n.startswith("E") and n.isupper() and not n.startswith("EV"),
    ),
    (
        "Symbol information",
        "The fields of :func:`~nanomsg_rs.symbols`: namespaces, types, units.",
        lambda n: n.startswith(("NS_", "TYPE_", "UNIT_")),
    ),
    ("Versions and limits", "", lambda n: True),
]


def _socket_options() -> set[str]:
    return {s.name.removeprefix("NN_") for s in nn.symbols()
            if s.namespace == nn.NS_SOCKET_OPTION}  # fmt: skip


def main() -> int:
    units = {s.value: s.name.removeprefix("NN_UNIT_").lower() for s in nn.symbols()
             if s.namespace == nn.NS_OPTION_UNIT}  # fmt: skip
    options = (nn.NS_SOCKET_OPTION, nn.NS_TRANSPORT_OPTION)
    unit_of = {s.name.removeprefix("NN_"): units.get(s.unit, "") for s in nn.symbols()
               if s.namespace in options}  # fmt: skip
    left = list(constants.__all__)
    out = [
        ".. This file is written by docs/gen_constants.py: run it, do not edit.",
        "",
        ".. currentmodule:: nanomsg_rs",
        "",
        "Constants",
        "=========",
        "",
        "``nanomsg_rs.constants`` holds every nanomsg constant under its C name without the",
        "``NN_`` prefix, and ``nanomsg_rs`` re-exports them all: ``nn.LINGER`` is ``NN_LINGER``.",
        "The values are those of the linked library; below, those of the default build",
        f"(``{nn.LIBRARY_VERSION}``). The unit of an option is the one libnanomsg's symbol",
        "table gives (:func:`symbols`).",
        "",
    ]
    for title, text, test in GROUPS:
        names = [n for n in left if test(n)]  # type: ignore[operator]
        left = [n for n in left if n not in names]
        out += [title, "-" * len(title), ""]
        if text:
            out += [text, ""]
        with_unit = any(n in unit_of for n in names)
        out += [".. list-table::", "   :header-rows: 1", "", "   * - name", "     - value"]
        out += ["     - unit"] if with_unit else []
        for n in names:
            out += [f"   * - ``{n}``", f"     - {getattr(constants, n)}"]
            out += [f"     - {unit_of.get(n, '')}"] if with_unit else []
        out.append("")
    OUT.write_text("\n".join(out))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
