"""The workloads: what each one measures (its variants: set-up, message size, receive mode,
batch, metric, target), and how hard a run measures (:class:`Config`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bench_libs import NNG_LIB
from bench_procs import C_HARDENED_LIB, C_LIB, C_NNG_LIB, C_ZMQ_LIB

KiB = 1024
MiB = 1024 * KiB

Workload = Literal["pingpong", "throughput", "latency", "fanout", "async", "tls"]
#: ``async`` runs in run.py's own process, not in worker processes: see :mod:`bench_async`;
#: ``tls`` too, with a peer process of its own per sample: see :mod:`bench_tls`.
WORKLOADS: tuple[Workload, ...] = ("pingpong", "throughput", "latency", "fanout", "async", "tls")
#: The throughput rows: one per size, each with ``recv``, ``recv_into`` and ``recv_msg``.
SIZES = (16, 64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB)
QUICK_SIZES = (64, 64 * KiB, MiB)
#: The fan-out curves: PUB -> N SUB for these N (at most 256: the C program's limit).
FANOUT_SUBS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
QUICK_FANOUT_SUBS = (1, 8, 64)
MAX_FANOUT_SUBS = 256
#: Messages the publisher sends before every SUB drains them (PUB drops what does not fit).
FANOUT_BURST = 8
#: The library whose ratios the targets judge.
SUBJECT = "nanomsg_rs"
#: Libraries with a C floor of their own besides C on libnanomsg: a second ratio, to it.
FLOORS = {NNG_LIB: C_NNG_LIB}
#: Who runs the ``recv_into`` and zero-copy ``recv_msg`` variants: nanomsg_rs on either
#: backend, and the floors (each with the same operation in C: see ``c/nnbench.c`` and, on
#: libzmq, ``c/zmqbench.c``).
RECV_MODE_LIBS = (C_LIB, C_HARDENED_LIB, C_NNG_LIB, C_ZMQ_LIB, SUBJECT, NNG_LIB)
#: Who runs the batch rows (nanomsg_rs's ``send_many``/``recv_many``): nanomsg_rs on either
#: backend, next to the C floors on libnanomsg and nng, which send and receive one message per
#: call as always (C on libzmq would only repeat its 64 B row).
BATCH_LIBS = (C_LIB, C_HARDENED_LIB, C_NNG_LIB, SUBJECT, NNG_LIB)
#: The batch rows' message size, and their batches: messages per ``send_many``, and the most
#: per ``recv_many``. They come with the row of that size (``--sizes``).
BATCH_MESSAGE_SIZE = 64
BATCH_SIZES = (64, 256)
QUICK_BATCH_SIZES = (64,)

#: A receive mode, as the workers' ``run`` command spells it.
Mode = Literal["recv", "into", "msg"]
MODES: tuple[Mode, ...] = ("recv", "into", "msg")
#: The nanomsg_rs call each mode measures.
MODE_CALLS: dict[Mode, str] = {"recv": "recv", "into": "recv_into", "msg": "recv_msg"}


@dataclass(frozen=True)
class Target:
    """A team target: the subject's ratio to C (for ``async``, to a rival library) must be
    ``op`` ``value``."""

    op: Literal[">=", "<=", ">"]
    value: float

    def met(self, ratio: float) -> bool:
        """Whether ``ratio`` meets the target."""
        if self.op == ">":
            return ratio > self.value
        return ratio >= self.value if self.op == ">=" else ratio <= self.value


#: The team's targets (issue 16), each nanomsg_rs's ratio to C on libnanomsg within one run,
#: by rate and by CPU time per message alike.
PINGPONG_TARGET = Target(">=", 0.9)
THROUGHPUT_TARGET = Target(">=", 0.9)
LATENCY_TARGET = Target("<=", 1.05)
#: nanomsg_rs under asyncio ahead of zmq.asyncio and of pynng under asyncio: its ratio to each
#: (round trips a second; the rival's CPU time per round trip over its own) above 1.
ASYNC_TARGET = Target(">", 1.0)


@dataclass(frozen=True)
class Setup:
    """How a variant's processes are wired; variants with equal set-ups share processes."""

    kind: Literal["pingpong", "pipeline", "reqrep", "fanout"]  # pipeline: PUSH -> PULL
    transport: Literal["inproc", "ipc", "tcp"]
    nsubs: int = 0


@dataclass(frozen=True)
class Variant:
    """One measured configuration of a workload (one row group of the table)."""

    workload: Workload
    name: str
    title: str
    setup: Setup
    size: int
    mode: Mode = "recv"
    # > 0: nanomsg_rs sends with send_many and receives with recv_many, `batch` at a time
    batch: int = 0
    metric: Literal["rate", "latency"] = "rate"  # messages/s (higher is better), or µs
    unit: str = "msg/s"
    only_libs: tuple[str, ...] | None = None
    target: Target | None = None
    x: float | None = None  # position on the workload's plot axis (size, or N subscribers)


@dataclass
class Config:
    """How hard to measure."""

    repeats: dict[Workload, int]
    sample_time: float
    sizes: tuple[int, ...]
    fanout_subs: tuple[int, ...]
    seed: int
    batches: tuple[int, ...] = BATCH_SIZES
    #: count system calls per message of the throughput and fan-out rows (bench_syscalls)
    syscalls: bool = False
    #: a --quick run (shorter counted runs)
    quick: bool = False
    #: --pin: each process of a two-process set-up (pipeline, reqrep) on a CPU of its own
    pin: bool = False


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"16,1KiB,1MiB"`` -> ``(16, 1024, 1048576)``: sizes in bytes, with an optional
    ``B``, ``KiB`` (or ``K``) or ``MiB`` (or ``M``) suffix; ValueError for anything else."""
    units = {"": 1, "b": 1, "k": KiB, "kib": KiB, "m": MiB, "mib": MiB}
    sizes = []
    for item in text.split(","):
        word = item.strip().lower().replace(" ", "")
        digits = word.rstrip("bikm")
        unit = word[len(digits) :]
        if not digits.isdigit() or unit not in units or int(digits) * units[unit] < 1:
            raise ValueError(f"not a message size: {item.strip()!r} (e.g. 16, 4KiB, 1MiB)")
        sizes.append(int(digits) * units[unit])
    return tuple(sorted(set(sizes)))


def parse_counts(text: str) -> tuple[int, ...]:
    """``"1,8,64"`` -> ``(1, 8, 64)``: fan-out subscriber counts, 1 to
    :data:`MAX_FANOUT_SUBS`; ValueError for anything else."""
    counts = []
    for item in text.split(","):
        word = item.strip()
        if not word.isdigit() or not 1 <= int(word) <= MAX_FANOUT_SUBS:
            raise ValueError(f"not a subscriber count from 1 to {MAX_FANOUT_SUBS}: {word!r}")
        counts.append(int(word))
    return tuple(sorted(set(counts)))


def size_label(size: int) -> str:
    """``65536`` -> ``"64 KiB"``."""
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    if size >= KiB and size % KiB == 0:
        return f"{size // KiB} KiB"
    return f"{size} B"


def variants_for(workload: Workload, cfg: Config) -> list[Variant]:
    """The variants of ``workload``."""
    ipc_pipe = Setup("pipeline", "ipc")
    if workload == "pingpong":
        return [
            Variant(
                "pingpong",
                "pingpong 64 B",
                "pingpong: PAIR over inproc, one thread, send then recv of 64 B",
                Setup("pingpong", "inproc"),
                64,
                target=PINGPONG_TARGET,
            )
        ]
    if workload == "throughput":
        rows = []
        for size in cfg.sizes:
            rows += [throughput_variant(size, mode, ipc_pipe) for mode in MODES]
            if size == BATCH_MESSAGE_SIZE:
                rows += [batch_variant(n, ipc_pipe) for n in cfg.batches]
                rows.append(tcp_variant(size))
        return rows
    if workload == "latency":
        return [
            Variant(
                "latency",
                "latency 64 B",
                "latency: REQ/REP round trip over tcp loopback, two processes, 64 B",
                Setup("reqrep", "tcp"),
                64,
                metric="latency",
                unit="µs",
                target=LATENCY_TARGET,
            )
        ]
    if workload == "fanout":
        return [
            Variant(
                "fanout",
                f"fanout N={n}",
                f"fan-out: PUB -> {n} SUB over ipc, one process and thread, 64 B in bursts of "
                f"{FANOUT_BURST} (messages delivered to all SUBs a second)",
                Setup("fanout", "ipc", n),
                64,
                unit="msg/s delivered",
                x=n,
            )
            for n in cfg.fanout_subs
        ]
    raise ValueError(workload)


def throughput_variant(size: int, mode: Mode, setup: Setup) -> Variant:
    """The throughput row of ``size`` received with ``mode``: every library with ``recv``,
    nanomsg_rs and the C floors (:data:`RECV_MODE_LIBS`) with ``recv_into`` and
    ``recv_msg``; each with the throughput target."""
    call = MODE_CALLS[mode]
    label = size_label(size)
    return Variant(
        "throughput",
        f"throughput {label}" + ("" if mode == "recv" else f" {call}"),
        f"throughput: PUSH -> PULL over ipc, two processes, {label}, {call}"
        + ("" if mode == "recv" else " (C: the same operation on libnanomsg)"),
        setup,
        size,
        mode=mode,
        only_libs=None if mode == "recv" else RECV_MODE_LIBS,
        target=THROUGHPUT_TARGET,
        x=size,
    )


def batch_variant(batch: int, setup: Setup) -> Variant:
    """The throughput row of :data:`BATCH_MESSAGE_SIZE` in batches of ``batch``: nanomsg_rs
    (:data:`BATCH_LIBS`) sends with ``send_many`` and receives with ``recv_many``, the C floors
    one message per call as always. A row of its own, off the size axis, with no target."""
    label = size_label(BATCH_MESSAGE_SIZE)
    return Variant(
        "throughput",
        f"throughput {label} batch {batch}",
        f"throughput: PUSH -> PULL over ipc, two processes, {label}, nanomsg_rs send_many/"
        f"recv_many in batches of {batch} (C: nn_send and nn_recv, one message per call)",
        setup,
        BATCH_MESSAGE_SIZE,
        batch=batch,
        only_libs=BATCH_LIBS,
    )


def tcp_variant(size: int) -> Variant:
    """The throughput row of ``size`` over tcp loopback (issue 25's 64 B over tcp), received
    with ``recv`` by every library; a row of its own, off the size axis, with the throughput
    target."""
    label = size_label(size)
    return Variant(
        "throughput",
        f"throughput {label} tcp",
        f"throughput: PUSH -> PULL over tcp loopback, two processes, {label}, recv",
        Setup("pipeline", "tcp"),
        size,
        target=THROUGHPUT_TARGET,
    )
