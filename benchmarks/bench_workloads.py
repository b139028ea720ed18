"""The workloads: what each one measures (its variants: set-up, message size, receive mode,
metric, target), and how hard a run measures (:class:`Config`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bench_libs import NNG_LIB
from bench_procs import C_HARDENED_LIB, C_LIB, C_NNG_LIB

KiB = 1024
MiB = 1024 * KiB

Workload = Literal["pingpong", "throughput", "latency", "sweep", "fanout"]
WORKLOADS: tuple[Workload, ...] = ("pingpong", "throughput", "latency", "sweep", "fanout")
SWEEP_SIZES = (16, 64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB)
QUICK_SWEEP_SIZES = (16, KiB, 64 * KiB, MiB)
FANOUT_SUBS = (1, 4, 16, 64)
#: Messages the publisher sends before every SUB drains them (PUB drops what does not fit).
FANOUT_BURST = 8
#: The library whose ratios the targets judge.
SUBJECT = "nanomsg_rs"
#: Libraries with a C floor of their own besides C on libnanomsg: a second ratio, to it.
FLOORS = {NNG_LIB: C_NNG_LIB}
#: Who runs the zero-copy ``recv_msg`` variants: nanomsg_rs on either backend, and the floors.
RECV_MSG_LIBS = (C_LIB, C_HARDENED_LIB, C_NNG_LIB, SUBJECT, NNG_LIB)
#: Who runs the batch variants (``send_many``/``recv_many``): the same; the C floors send and
#: receive one message per call as always.
BATCH_LIBS = RECV_MSG_LIBS
#: Messages per ``send_many`` and most per ``recv_many`` in the batch variants.
BATCH_SIZES = (64, 256)


@dataclass(frozen=True)
class Target:
    """A team target: the subject's ratio to C must be ``op`` ``value``."""

    op: Literal[">=", "<="]
    value: float

    def met(self, ratio: float) -> bool:
        """Whether ``ratio`` meets the target."""
        return ratio >= self.value if self.op == ">=" else ratio <= self.value


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
    # msg: nanomsg_rs's zero-copy recv_msg; many: its send_many/recv_many, `batch` at a time
    mode: Literal["recv", "msg", "many"] = "recv"
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
    sweep_sizes: tuple[int, ...]
    fanout_subs: tuple[int, ...]
    seed: int


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
                target=Target(">=", 0.8),
            )
        ]
    if workload == "throughput":
        title = "throughput: PUSH -> PULL over ipc, two processes"
        return [
            Variant(
                "throughput",
                "throughput 64 B",
                f"{title}, 64 B, recv",
                ipc_pipe,
                64,
                target=Target(">=", 0.9),
            ),
            *(
                Variant(
                    "throughput",
                    f"throughput 64 B batch {n}",
                    f"{title}, 64 B, nanomsg_rs send_many/recv_many in batches of {n}; "
                    "C sends and receives one by one as always",
                    ipc_pipe,
                    64,
                    mode="many",
                    batch=n,
                    only_libs=BATCH_LIBS,
                )
                for n in BATCH_SIZES
            ),
            Variant(
                "throughput", "throughput 64 KiB", f"{title}, 64 KiB, recv", ipc_pipe, 64 * KiB
            ),
            Variant(
                "throughput",
                "throughput 64 KiB recv_msg",
                f"{title}, 64 KiB, nanomsg_rs recv_msg (zero-copy); C copies as always",
                ipc_pipe,
                64 * KiB,
                mode="msg",
                only_libs=RECV_MSG_LIBS,
                target=Target(">=", 0.9),
            ),
            Variant(
                "throughput", "throughput 1 MiB", f"{title}, 1 MiB, recv", ipc_pipe, 1024 * KiB
            ),
            Variant(
                "throughput",
                "throughput 1 MiB recv_msg",
                f"{title}, 1 MiB, nanomsg_rs recv_msg (zero-copy); C copies as always",
                ipc_pipe,
                1024 * KiB,
                mode="msg",
                only_libs=RECV_MSG_LIBS,
            ),
        ]
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
                target=Target("<=", 1.1),
            )
        ]
    if workload == "sweep":
        return [
            Variant(
                "sweep",
                f"sweep {size_label(size)}",
                f"size sweep: PUSH -> PULL over ipc, two processes, {size_label(size)}",
                ipc_pipe,
                size,
                x=size,
            )
            for size in cfg.sweep_sizes
        ]
    if workload == "fanout":
        return [
            Variant(
                "fanout",
                f"fanout N={n}",
                f"fan-out: PUB -> {n} SUB over ipc, one thread, 64 B in bursts of "
                f"{FANOUT_BURST} (published msg/s)",
                Setup("fanout", "ipc", n),
                64,
                x=n,
            )
            for n in cfg.fanout_subs
        ]
    raise ValueError(workload)
