"""Issue 25's targets, judged on a run's records: every row against pyzmq, against C on
upstream libnanomsg (the system's 1.1.5: the ``C`` rows), and in system calls per message.

Issue 25 ("small messages at ZeroMQ's rate") is done when one ``make bench`` meets, by rate
and by CPU time alike:

* pingpong >= 1.0 of pyzmq;
* throughput over ipc of 16 B, 64 B, 256 B, 1 KiB and 4 KiB >= 1.0 of pyzmq, with each of
  ``recv``, ``recv_into`` and ``recv_msg``; 64 B over tcp >= 1.0 of pyzmq;
* fan-out to 16, 128 and 256 SUBs >= 1.0 of pyzmq;
* every row >= 0.9 of C on upstream libnanomsg; latency <= 1.05 of it; async >= 1.5 of
  zmq.asyncio;
* <= 0.1 system calls per message for 64 B throughput.

pyzmq runs ``recv`` only, its default (a copy into a new bytes object), so the ``recv_into``
and ``recv_msg`` rows are read against pyzmq's ``recv`` row of the same size, measured in
the same rounds (the per-round ratios pair the same rounds). The batch rows
(``send_many``/``recv_many``) carry no target, as in the team's targets.

:func:`judge` adds ``record["goals"]`` to every record, from the results alone, so an older
results file gets them too (``run.py --report``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bench_stats import quartiles
from bench_workloads import KiB, Target

PYZMQ = "pyzmq"
C_UPSTREAM = "C"
#: The throughput sizes (over ipc) and fan-out widths with a target against pyzmq.
PYZMQ_SIZES = (16, 64, 256, KiB, 4 * KiB)
PYZMQ_SUBS = (16, 128, 256)
#: The message size whose throughput rows must make few system calls.
SYSCALL_SIZE = 64


@dataclass(frozen=True)
class Goal:
    """One of issue 25's targets: the subject's ratio to ``against`` (its median over theirs;
    for latency, the other way round), or its system calls per message, ``op`` ``value``."""

    kind: Literal["ratio", "syscalls"]
    against: str
    target: Target

    @property
    def label(self) -> str:
        """``">= 1.0x pyzmq"``, ``"<= 1.05x C"``, ``"<= 0.1 syscalls/msg"``."""
        op, value = self.target.op, self.target.value
        shown = f"{value:.1f}" if round(value * 10) == value * 10 else f"{value:.2f}"
        if self.kind == "syscalls":
            return f"{op} {shown} syscalls/msg"
        return f"{op} {shown}x {self.against}"


VS_PYZMQ = Goal("ratio", PYZMQ, Target(">=", 1.0))
VS_C = Goal("ratio", C_UPSTREAM, Target(">=", 0.9))
LATENCY_VS_C = Goal("ratio", C_UPSTREAM, Target("<=", 1.05))
ASYNC_VS_ZMQ = Goal("ratio", "zmq.asyncio", Target(">=", 1.5))
FEW_SYSCALLS = Goal("syscalls", "", Target("<=", 0.1))


def goals_for(record: dict[str, Any]) -> list[Goal]:
    """Issue 25's targets for one record (none for the batch rows and the async table)."""
    workload = record["workload"]
    if workload == "pingpong":
        return [VS_PYZMQ, VS_C]
    if workload == "latency":
        return [LATENCY_VS_C]
    if workload == "async":
        return [ASYNC_VS_ZMQ] if (record.get("against") or "").startswith("zmq.asyncio") else []
    if workload == "fanout":
        return ([VS_PYZMQ] if record.get("x") in PYZMQ_SUBS else []) + [VS_C]
    if workload == "throughput" and not record.get("batch"):
        tcp = record.get("x") is None
        goals = [VS_PYZMQ] if tcp or record.get("x") in PYZMQ_SIZES else []
        goals.append(VS_C)
        if record.get("size") == SYSCALL_SIZE:
            goals.append(FEW_SYSCALLS)
        return goals
    return []


def reference(
    record: dict[str, Any], lib: str, records: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """``lib``'s result to read ``record`` against: its own, or for a throughput row that
    ``lib`` does not run (pyzmq's ``recv_into``, ``recv_msg``), its ``recv`` row of the same
    size and set-up."""
    own = record["results"].get(lib)
    if own is not None or record["workload"] != "throughput":
        return own
    for other in records:
        if (
            other["workload"] == "throughput"
            and other.get("mode", "recv") == "recv"
            and not other.get("batch")
            and other.get("x") == record.get("x")
            and other.get("size") == record.get("size")
            and other.get("x") is not None
        ):
            found: dict[str, Any] | None = other["results"].get(lib)
            return found
    return None


def ratio_to(
    record: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, Any]:
    """Our result against theirs, read as the record's ratios are (a ratio above 1 is better
    for rates; for latency, below 1): the ratio of the medians, the quartiles of the
    per-round ratios, and the ratio by CPU time per message."""
    latency = record.get("metric") == "latency"
    rounds = [
        x / y
        for x, y in zip(ours.get("samples") or [], theirs.get("samples") or [], strict=False)
        if x is not None and y
    ]
    mine, other = ours.get("median"), theirs.get("median")
    cpu_mine, cpu_other = ours.get("cpu_us"), theirs.get("cpu_us")
    cpu = None
    if cpu_mine and cpu_other:
        cpu = cpu_mine / cpu_other if latency else cpu_other / cpu_mine
    return {
        "ratio": mine / other if mine is not None and other else None,
        "round_ratio_iqr": quartiles(rounds),
        "cpu_ratio": cpu,
    }


def judge_one(
    record: dict[str, Any], goal: Goal, subject: str, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """The verdict of one goal on one record: what was measured and whether it holds by rate
    (``met``, with ``firm`` when three rounds in four agree) and by CPU time (``cpu_met``);
    None where it could not be measured."""
    out: dict[str, Any] = {
        "label": goal.label,
        "kind": goal.kind,
        "against": goal.against,
        "op": goal.target.op,
        "value": goal.target.value,
        "measured": None,
        "round_ratio_iqr": None,
        "cpu_ratio": None,
        "met": None,
        "firm": None,
        "cpu_met": None,
    }
    ours = record["results"].get(subject)
    if ours is None:
        return out
    if goal.kind == "syscalls":
        counted = (ours.get("syscalls") or {}).get("per_message")
        if counted is not None:
            out["measured"] = counted
            out["met"] = goal.target.met(counted)
            out["firm"] = True
        return out
    if record["workload"] == "async":  # the record is already ours against the rival
        found = {k: ours.get(k) for k in ("ratio", "round_ratio_iqr", "cpu_ratio")}
    else:
        theirs = reference(record, goal.against, records)
        if theirs is None:
            return out
        found = ratio_to(record, ours, theirs)
    ratio, iqr, cpu = found["ratio"], found["round_ratio_iqr"], found["cpu_ratio"]
    if ratio is None:
        return out
    out["measured"], out["round_ratio_iqr"], out["cpu_ratio"] = ratio, iqr, cpu
    out["met"] = goal.target.met(ratio)
    out["firm"] = iqr is not None and all(goal.target.met(q) == out["met"] for q in iqr)
    out["cpu_met"] = None if cpu is None else goal.target.met(cpu)
    return out


def judge(records: list[dict[str, Any]], subject: str = "nanomsg_rs") -> list[dict[str, Any]]:
    """Sets ``record["goals"]`` on every record (see :func:`goals_for`); returns the
    records."""
    for record in records:
        record["goals"] = [judge_one(record, g, subject, records) for g in goals_for(record)]
    return records


def verdict(goal: dict[str, Any]) -> str:
    """``met``, ``MISSED``, ``MISSED by CPU`` (the rate holds, the CPU time does not),
    ``(marginal)`` when the middle half of the per-round ratios straddles the target,
    ``not measured``."""
    if goal.get("met") is None:
        return "not measured"
    text = "met" if goal["met"] else "MISSED"
    if goal["met"] and goal.get("cpu_met") is False:
        text = "MISSED by CPU"
    if goal.get("firm") is False:
        text += " (marginal)"
    return text


def fully_met(goal: dict[str, Any]) -> bool:
    """Met by rate and, where measured, by CPU time."""
    return bool(goal.get("met")) and goal.get("cpu_met") is not False


def measured_text(goal: dict[str, Any]) -> str:
    """``"0.45 (0.41-0.50), CPU 0.52"`` or, for system calls, ``"1.95"``; ``"n/a"``."""
    value = goal.get("measured")
    if value is None:
        return "n/a"
    if goal["kind"] == "syscalls":
        return f"{value:.3g}"
    iqr = goal.get("round_ratio_iqr")
    rounds = f" ({iqr[0]:.2f}-{iqr[1]:.2f})" if iqr else ""
    cpu = "" if goal.get("cpu_ratio") is None else f", CPU {goal['cpu_ratio']:.2f}"
    return f"{value:.2f}{rounds}{cpu}"


def tally(records: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(met, judged, not measured) over every goal of every record."""
    goals = [g for r in records for g in r.get("goals") or []]
    measured = [g for g in goals if g.get("met") is not None]
    return sum(1 for g in measured if fully_met(g)), len(measured), len(goals) - len(measured)


def record_line(record: dict[str, Any]) -> str:
    """The line under a record's table: each goal with what was measured and its verdict,
    or ``""`` without goals."""
    goals = record.get("goals") or []
    if not goals:
        return ""
    parts = [f"{g['label']}: {measured_text(g)} {verdict(g)}" for g in goals]
    return "  issue 25: " + "; ".join(parts)


def summary(records: list[dict[str, Any]], subject: str) -> list[str]:
    """Every goal of the run, a line each, then how many are met."""
    rows = [(r, g) for r in records for g in r.get("goals") or []]
    if not rows:
        return []
    lines = [
        f"Issue 25's targets ({subject}'s median over the other's; in brackets the middle half",
        "of the per-round ratios; CPU: by CPU time per message; recv_into and recv_msg are read",
        "against pyzmq's recv; C: the system's libnanomsg 1.1.5):",
    ]
    for record, goal in rows:
        lines.append(
            f"  {record['name']:<30} {goal['label']:<22} {measured_text(goal):<28} "
            f"{verdict(goal)}".rstrip()
        )
    met, judged, missing = tally(records)
    tail = f", {missing} not measured" if missing else ""
    lines.append(f"  {met} of {judged} met by rate and by CPU time{tail}")
    lines.append("")
    return lines


def against_pyzmq(
    records: list[dict[str, Any]], subject: str = "nanomsg_rs"
) -> list[dict[str, Any]]:
    """The plain comparison with pyzmq: a row for every record that pyzmq is measured in or
    read against (pingpong, throughput and its ``recv_into``/``recv_msg`` rows, latency,
    fan-out, async against zmq.asyncio), each with both medians, our speed over pyzmq's
    (above 1: we are faster; for latency pyzmq's time over ours), that speed by CPU time, and
    the middle half of the per-round speeds."""
    rows = []
    for record in records:
        ours = record["results"].get(subject)
        if ours is None or record.get("batch"):
            continue
        if record["workload"] == "async":
            if not (record.get("against") or "").startswith("zmq.asyncio"):
                continue
            theirs = next((r for lib, r in record["results"].items() if lib != subject), None)
            found = {k: ours.get(k) for k in ("ratio", "round_ratio_iqr", "cpu_ratio")}
        else:
            theirs = reference(record, PYZMQ, records)
            found = None if theirs is None else ratio_to(record, ours, theirs)
        if theirs is None or found is None or found["ratio"] is None:
            continue
        latency = record.get("metric") == "latency"
        speed, iqr = found["ratio"], found["round_ratio_iqr"]
        if latency:  # as a speed: pyzmq's time over ours
            speed = 1 / speed if speed else None
            iqr = None if iqr is None else [1 / iqr[1], 1 / iqr[0]]
        cpu = found["cpu_ratio"]
        if latency and cpu:
            cpu = 1 / cpu
        rows.append(
            {
                "record": record,
                "ours": ours,
                "theirs": theirs,
                "speed": speed,
                "round_speed_iqr": iqr,
                "cpu_speed": cpu,
                "judged": any(
                    g["against"] in (PYZMQ, "zmq.asyncio") for g in record.get("goals") or []
                ),
            }
        )
    return rows
