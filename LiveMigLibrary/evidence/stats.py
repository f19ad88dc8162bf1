"""Per-phase statistics of migration records, as Rally reports atomic actions."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def percentile(values: Sequence[float], percent: float) -> float | None:
    """Linear interpolation between closest ranks (Rally's and numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * percent / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Iterable[float]) -> dict[str, float | int | None]:
    data = [float(v) for v in values]
    if not data:
        return {"count": 0, "min": None, "median": None, "p90": None, "p95": None,
                "max": None, "mean": None}  # fmt: skip
    return {
        "count": len(data),
        "min": min(data),
        "median": percentile(data, 50),
        "p90": percentile(data, 90),
        "p95": percentile(data, 95),
        "max": max(data),
        "mean": sum(data) / len(data),
    }


def phase_statistics(records: Iterable[dict]) -> dict[str, dict]:
    """Phase (status) -> summary of its durations over the records that went through it,
    plus `total` (first to last status of finished records)."""
    phases: dict[str, list[float]] = {}
    totals: list[float] = []
    order: list[str] = []
    for record in records:
        for phase, seconds in (record.get("phase_seconds") or {}).items():
            if phase not in phases:
                phases[phase] = []
                order.append(phase)
            phases[phase].append(seconds)
        if record.get("total_seconds") is not None:
            totals.append(record["total_seconds"])
    result = {phase: summary(phases[phase]) for phase in order}
    result["total"] = summary(totals)
    return result


def outcome_counts(records: Iterable[dict]) -> dict[str, int]:
    """Final (or last seen) status -> number of records."""
    counts: dict[str, int] = {}
    for record in records:
        status = record.get("status") or "not started"
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items()))
