"""Where each nanosecond of a small-message call goes, layer by layer: instructions per call
under valgrind's callgrind, for ``send`` (64 B), ``recv``, ``recv_into`` and ``recv_msg`` on
PAIR over inproc, and for the same operations in C (``c/nnlayers.c``), the floor.

``python benchmarks/profile_layers.py`` (``make profile-layers``) runs, per receive operation,
a loop of ``send(payload)`` then that receive, twice under callgrind (``--small`` and
``--large`` iterations), and divides the difference by the extra iterations: start-up and
imports cancel out. Each method's cost is the inclusive cost of its PyO3 wrapper
(``__pymethod_send__`` ...), split into layers by callee and, for the code that LTO inlined
into it, by the source file each instruction comes from (DWARF line tables):

- **dispatch**: PyO3's trampoline around every call (GIL count, panic guard), per call;
- **parse**: PyO3's argument parsing (``extract_arguments_fastcall``), the payload's
  extraction (``send``), the buffer export (``recv_into``);
- **guard**: the socket guard (``Socket::acquire`` and ``Guard``'s drop: its atomics, the fork
  check);
- **libnanomsg**: ``nn_send``/``nn_recv``/``nn_recvmsg`` with ``NN_DONTWAIT``, inclusive:
  the C library's own cost;
- **try**: our code around that call (``blocking_call``, ``io.rs``, ``finish_send``/``recv``,
  errors);
- **result**: the object returned (``PyBytes_FromStringAndSize``, the int, the ``Message``);
- **free**: ``nn_freemsg`` (``recv``), the ``Message``'s deallocation (``recv_msg``);
- **glue**: what is left inside the wrapper: the receiver check, ``Result`` plumbing, refcounts.

"interpreter" is the rest of an iteration: the bytecode loop, the ``CALL`` instructions and
the decref of the results. The line-table split needs a build with debug line tables, which
does not change the code::

    CARGO_PROFILE_RELEASE_DEBUG=line-tables-only maturin develop --release

Without them the inlined layers all count as "glue" (a note says so). Needs valgrind and gcc.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

import bench_procs
from bench_callgrind import Profile, per_iteration, profiling_folder
from bench_procs import C_HARDENED_LIB, C_LIB

BENCH_DIR = Path(__file__).resolve().parent
C_SOURCE = BENCH_DIR / "c" / "nnlayers.c"

OPS = ("recv", "recv_into", "recv_msg")
LAYERS = ("dispatch", "parse", "guard", "libnanomsg", "try", "result", "free", "glue")

# The measured loops. ``send`` runs in every one; its row comes from the ``recv`` loop.
DRIVER = """
import sys
from itertools import repeat
import nanomsg_rs as nn

def main(op, count):
    a, b = nn.Socket(nn.PAIR), nn.Socket(nn.PAIR)
    b.bind("inproc://layers")
    a.connect("inproc://layers")
    payload = b"x" * 64
    buf = bytearray(64)
    send = a.send
    if op == "recv":
        recv = b.recv
        for _ in repeat(None, count):
            send(payload)
            recv()
    elif op == "recv_into":
        recv_into = b.recv_into
        for _ in repeat(None, count):
            send(payload)
            recv_into(buf)
    elif op == "recv_msg":
        recv_msg = b.recv_msg
        for _ in repeat(None, count):
            send(payload)
            recv_msg()
    elif op == "recv_noblock":
        recv = b.recv
        for _ in repeat(None, count):
            send(payload)
            recv(block=False)
    a.close()
    b.close()

main(sys.argv[1], int(sys.argv[2]))
"""

# --- layers --------------------------------------------------------------------------------

LIBNANOMSG = {"nn_send", "nn_recv", "nn_sendmsg", "nn_recvmsg"}
RESULT_CALLS = ("PyBytes_FromStringAndSize", "PyLong_From", "PyType_GenericAlloc", "tp_alloc")


def file_layer(file: str) -> str:
    """The layer of an instruction inlined into a wrapper, by its source file."""
    if file.endswith(("/nn/socket/mod.rs", "/nn/process.rs", "/core/src/sync/atomic.rs")):
        return "guard"
    if file.endswith(("/py/blocking.rs", "/nn/socket/io.rs", "/nn/socket/wait.rs", "/error.rs")):
        return "try"
    if "/nn/backend/" in file:
        return "try"
    if file.endswith(("/impl_/extract_argument.rs", "/py/data.rs", "/buffer.rs")):
        return "parse"
    if file.endswith(("/types/bytes.rs", "/conversions/std/num.rs", "/py/message.rs")):
        return "result"
    if file.endswith(("/nn/message.rs",)):
        return "free"
    return "glue"


def call_layer(callee: str) -> str:
    if callee in LIBNANOMSG:
        return "libnanomsg"
    if callee == "nn_freemsg":
        return "free"
    if (
        callee.startswith(RESULT_CALLS)
        or "PyClassInitializer" in callee
        or "into_new_object" in callee
    ):
        return "result"
    if "extract_argument" in callee or "Payload::extract" in callee or "PyUntypedBuffer" in callee:
        return "parse"
    if "FromPyObject for bool" in callee:  # block=...
        return "parse"
    if "into_pyobject" in callee:  # the int returned
        return "result"
    if callee.startswith(("PyBytes_AsString", "PyBytes_Size", "PyObject_GetBuffer", "PyBuffer_")):
        return "parse"
    if callee in ("free", "malloc"):  # PyO3 boxes an exported Py_buffer (recv_into)
        return "parse"
    if "finish_send" in callee or "finish_recv" in callee or "blocking" in callee:
        return "try"
    if "acquire" in callee or ("Guard" in callee and "drop" in callee):
        return "guard"
    return "glue"


def wrapper(method: str) -> str:
    return f"_native::py::socket::PySocket::__pymethod_{method}__"


def layers(p: Profile, method: str) -> dict[str, float]:
    """Instructions per call of ``method``, by layer."""
    fn = wrapper(method)
    out = dict.fromkeys(LAYERS, 0.0)
    calls = 0.0
    for file, cost in p.own_by_file(fn).items():
        out[file_layer(file)] += cost
    for callee, (_, cost) in p.callees(fn).items():
        out[call_layer(callee)] += cost
    for (_, callee), (n, _) in p.edges.items():
        if callee == fn:
            calls += n
    if calls:
        out = {k: v / calls for k, v in out.items()}
    out["dispatch"] = trampoline_per_call(p)
    return out


TRAMPOLINES = (
    "pyo3::impl_::trampoline::fastcall_cfunction_with_keywords",
    "pyo3::impl_::trampoline::trampoline",
)


def trampoline_per_call(p: Profile) -> float:
    """PyO3's trampoline per call: its own cost and its callees but the wrappers."""
    cost = 0.0
    for t in TRAMPOLINES:
        cost += sum(p.own_by_file(t).values())
    calls = 0.0
    for callee, (n, c) in p.callees(TRAMPOLINES[1]).items():
        if "__pymethod_" in callee:
            calls += n
        else:
            cost += c
    return cost / calls if calls else 0.0


def dealloc_per_iteration(p: Profile) -> float:
    """What the interpreter spends freeing objects of ours (a ``Message``), per iteration."""
    return sum(
        c
        for (a, b), (_, c) in p.edges.items()
        if a == "pyo3::impl_::trampoline::trampoline_unraisable"
    ) + sum(p.own_by_file("pyo3::impl_::trampoline::trampoline_unraisable").values())


def has_line_tables(p: Profile) -> bool:
    return any(file.endswith("/py/socket.rs") for (_, file) in p.own)


# --- the C floor -------------------------------------------------------------------------------


def build_c(folder: Path) -> tuple[Path | None, str]:
    """``c/nnlayers.c`` on the hardened libnanomsg the wheel links, else on the system's:
    (binary, which library) or (None, why not)."""
    why = ""
    for floor, lib in ((C_HARDENED_LIB, "hardened libnanomsg (nanomsg/link-flags)"),
                       (C_LIB, "system libnanomsg")):  # fmt: skip
        binary, why = bench_procs.build_c(folder, floor, source=C_SOURCE, debug=True)
        if binary is not None:
            return binary, lib
    return None, why


def c_layers(p: Profile) -> dict[str, float]:
    calls = p.callees("main")
    out = {
        "nn_send": 0.0,
        "nn_recv": 0.0,
        "copy (malloc+memcpy)": 0.0,
        "nn_freemsg": 0.0,
        "free": 0.0,
    }
    for callee, (_, c) in calls.items():
        if callee.startswith("copy_out"):
            out["copy (malloc+memcpy)"] += c
        elif callee in out:
            out[callee] += c
    out["loop"] = sum(p.own_by_file("main").values())
    return out


# --- report ------------------------------------------------------------------------------------


def fmt(v: float) -> str:
    return f"{v:,.0f}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=5_000, help="iterations of the 1st run")
    parser.add_argument("--large", type=int, default=15_000, help="iterations of the 2nd run")
    parser.add_argument("--noblock", action="store_true", help="also recv(block=False)")
    parser.add_argument("--calls", action="store_true", help="list each wrapper's callees")
    args = parser.parse_args(argv)
    ops = [*OPS, "recv_noblock"] if args.noblock else list(OPS)
    py: dict[str, Profile] = {}
    c: dict[str, Profile] = {}
    with profiling_folder("nnlayers-", build_c) as (folder, binary, lib):
        driver = folder / "driver.py"
        driver.write_text(DRIVER)
        for op in ops:
            py[op] = per_iteration(
                lambda n: ([sys.executable, str(driver), op, str(n)], None),  # noqa: B023
                args.small,
                args.large,
                folder,
            )
            if op in OPS:
                c[op] = per_iteration(
                    lambda n: ([str(binary), op, str(n)], None),  # noqa: B023
                    args.small,
                    args.large,
                    folder,
                )

    import nanomsg_rs

    print(f"nanomsg_rs from {Path(nanomsg_rs.__file__).parent}; C floor on {lib}")
    print(f"instructions per call, callgrind, ({args.large:,} - {args.small:,}) iterations\n")
    if not has_line_tables(py["recv"]):
        print(
            "note: no debug line tables in the extension: guard, try and parts of parse "
            "and result count as glue (see the docstring)\n"
        )
    columns = [("send", "recv", "send")] + [(op, op, op.replace("_noblock", "")) for op in ops]
    header = [
        "layer",
        *(
            f"`{name}`" if name != "recv_noblock" else "`recv(block=False)`"
            for name, _, _ in columns
        ),
    ]
    table = {name: layers(py[run], method) for name, run, method in columns}
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for layer in LAYERS:
        print(f"| {layer} | " + " | ".join(fmt(table[n][layer]) for n, _, _ in columns) + " |")
    print(
        "| **call, total** | "
        + " | ".join(f"**{fmt(sum(table[n].values()))}**" for n, _, _ in columns)
        + " |"
    )
    ours = {n: sum(v for k, v in table[n].items() if k != "libnanomsg") for n, _, _ in columns}
    print(
        "| binding's own (total - libnanomsg) | "
        + " | ".join(fmt(ours[n]) for n, _, _ in columns)
        + " |"
    )

    print("\nper iteration (send + receive), Python against C:\n")
    print("| | " + " | ".join(f"`{op}` loop" for op in ops) + " |")
    print("|---|" + "---|" * len(ops))
    rows: dict[str, list[str]] = defaultdict(list)
    for op in ops:
        p = py[op]
        send_call = sum(table["send"].values()) if op == "recv" else sum(layers(p, "send").values())
        op_call = sum(layers(p, op.replace("_noblock", "")).values())
        dealloc = dealloc_per_iteration(p)
        rows["send call"].append(fmt(send_call))
        rows["receive call"].append(fmt(op_call))
        rows["Message dealloc (interpreter)"].append(fmt(dealloc))
        rows["interpreter (loop, CALLs, decrefs)"].append(
            fmt(p.total - send_call - op_call - dealloc)
        )
        rows["**Python total**"].append(f"**{fmt(p.total)}**")
    for op in ops:
        q = c.get(op)
        if q is None:
            for key in (
                "C nn_send",
                "C nn_recv",
                "C copy (malloc+memcpy)",
                "C nn_freemsg",
                "C free",
                "C loop",
                "**C total**",
                "**Python / C**",
            ):
                rows[key].append("")
            continue
        cl = c_layers(q)
        for key, v in cl.items():
            rows[f"C {key}"].append(fmt(v))
        rows["**C total**"].append(f"**{fmt(q.total)}**")
        rows["**Python / C**"].append(f"**{py[op].total / q.total:.2f}x**")
    for key, vals in rows.items():
        print(f"| {key} | " + " | ".join(vals) + " |")

    if args.calls:
        for name, run, method in columns:
            fn = wrapper(method)
            print(f"\n{name}: {fn}")
            for file, cost in sorted(py[run].own_by_file(fn).items(), key=lambda kv: -kv[1]):
                print(f"  {cost:8.1f}  self  {file}  [{file_layer(file)}]")
            for callee, (_, cost) in sorted(py[run].callees(fn).items(), key=lambda kv: -kv[1][1]):
                print(f"  {cost:8.1f}  call  {callee}  [{call_layer(callee)}]")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main(sys.argv[1:]))
