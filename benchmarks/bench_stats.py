"""Statistics of the samples: medians, spreads, ratios to a floor with per-round quartiles,
CPU per message, and the verdict against a target; one JSON record per variant."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from bench_procs import C_LIB
from bench_workloads import FLOORS, SUBJECT, Target, Variant


@dataclass
class Series:
    """One library's samples of one variant: one entry per round (``None`` once it failed)."""

    count: int
    values: list[float | None] = field(default_factory=list)
    cpu_us: list[float | None] = field(default_factory=list)

    def pad(self, rounds: int) -> None:
        """Fills the rounds a failed library missed with ``None``."""
        for seq in (self.values, self.cpu_us):
            seq.extend([None] * (rounds - len(seq)))


def summarise(v: Variant, series: dict[tuple[str, str], Series]) -> dict[str, Any]:
    """The JSON record of one variant: per library its samples (one per round, ``None`` where
    it failed), median, min, max, ratio of medians to C, the per-round ratios, and the
    measuring process's CPU µs per message (median); for a library with a floor of its own
    (:data:`FLOORS`) the same ratios to that floor under ``floor``, with the subject's target
    read against it. ``target_met`` judges the subject's ratio of rates, ``cpu_target_met``
    its ratio by CPU time per message: a target must hold by both."""
    results: dict[str, Any] = {}
    c_series = series.get((v.name, C_LIB))
    for (name, lib), one in series.items():
        if name != v.name:
            continue
        present = [x for x in one.values if x is not None]
        if not present:
            continue
        results[lib] = {
            "samples": one.values,
            "count": one.count,
            "median": statistics.median(present),
            "min": min(present),
            "max": max(present),
            **ratios_to(v, one, c_series),
            "cpu_us_samples": one.cpu_us,
            "cpu_us": median_of(one.cpu_us),
        }
        floor = series.get((v.name, FLOORS.get(lib, "")))
        if floor is not None and median_of(floor.values):
            against = ratios_to(v, one, floor)
            met, firm = verdict(v.target, against["ratio"], against["round_ratio_iqr"])
            results[lib]["floor"] = {
                "lib": FLOORS[lib],
                **against,
                "target_met": met,
                "target_firm": firm,
            }
    subject = results.get(SUBJECT)
    met, firm, cpu_met = (None, None, None)
    if subject is not None:
        met, firm = verdict(v.target, subject["ratio"], subject["round_ratio_iqr"])
        cpu_met, _ = verdict(v.target, subject["cpu_ratio"], None)
    return {
        "workload": v.workload,
        "name": v.name,
        "title": v.title,
        "metric": v.metric,
        "unit": v.unit,
        "size": v.size,
        "mode": v.mode,
        "batch": v.batch,
        "only_libs": None if v.only_libs is None else list(v.only_libs),
        "x": v.x,
        "target": None if v.target is None else {"op": v.target.op, "value": v.target.value},
        "target_met": met,
        "target_firm": firm,
        "cpu_target_met": cpu_met,
        "results": results,
    }


def ratios_to(v: Variant, one: Series, floor: Series | None) -> dict[str, Any]:
    """``one`` against a floor's series: the ratio of the medians, the per-round ratios with
    their quartiles, and the ratio of CPU time per message (all None or empty without a
    floor)."""
    floor_values = floor.values if floor else []
    floor_median = median_of(floor_values)
    rounds = [
        x / c
        for x, c in zip(one.values, floor_values, strict=False)
        if x is not None and c is not None and c > 0
    ]
    med = median_of(one.values)
    return {
        "ratio": med / floor_median if med is not None and floor_median else None,
        "round_ratios": rounds,
        "round_ratio_iqr": quartiles(rounds),
        "cpu_ratio": cpu_ratio(
            v, median_of(one.cpu_us), median_of(floor.cpu_us) if floor else None
        ),
    }


def verdict(
    target: Target | None, ratio: float | None, iqr: list[float] | None
) -> tuple[bool | None, bool | None]:
    """Whether ``ratio`` meets ``target``, and whether that is firm: at least three rounds in
    four (the per-round quartiles ``iqr``) agree with the verdict (False without ``iqr``).
    (None, None) without a target or a ratio."""
    if target is None or ratio is None:
        return None, None
    met = target.met(ratio)
    return met, iqr is not None and all(target.met(q) == met for q in iqr)


def cpu_ratio(v: Variant, cpu: float | None, c_cpu: float | None) -> float | None:
    """The CPU cost per message against C's, read the same way as the variant's ratio: for
    rates C's CPU over the library's (higher is better), for latency the library's over C's
    (lower is better)."""
    if not cpu or not c_cpu:
        return None
    return cpu / c_cpu if v.metric == "latency" else c_cpu / cpu


def quartiles(values: list[float]) -> list[float] | None:
    """The first and third quartiles of ``values`` (None when empty)."""
    if not values:
        return None
    if len(values) == 1:
        return [values[0], values[0]]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return [q1, q3]


def median_of(values: list[float | None]) -> float | None:
    """The median of the values that are present."""
    present = [x for x in values if x is not None]
    return statistics.median(present) if present else None
