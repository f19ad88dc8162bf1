"""SLA criteria as data, in the spirit of Rally's `rally/task/sla.py`.

Each criterion reads migration record dictionaries and returns a `Result`
(`criterion`, `success`, `detail`, `offenders`); keywords turn failed results into one
failure naming every offending migration with its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .stats import percentile

# error/failed count as failures; cancelled is an abort somebody asked for
FAILURES = frozenset({"error", "failed"})


@dataclass
class Result:
    criterion: str
    success: bool
    detail: str
    offenders: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "criterion": self.criterion,
            "success": self.success,
            "detail": self.detail,
            "offenders": list(self.offenders),
        }


def describe(record: dict) -> str:
    what = record.get("type") or record.get("operation") or "migration"
    name = record.get("server_name") or record.get("server_id")
    return (
        f"{what} {record.get('migration_id')} of server {name} "
        f"({record.get('source')} -> {record.get('destination')}, {record.get('status')}"
        + (f", test '{record['test']}'" if record.get("test") else "")
        + ")"
    )


def duration(record: dict) -> float | None:
    """First to last status (cloud time); for a migration still going, so far."""
    if record.get("total_seconds") is not None:
        return float(record["total_seconds"])
    timeline = record.get("timeline") or []
    if len(timeline) < 2:
        return None
    return float(timeline[-1].get("offset_seconds") or 0.0)


def max_seconds(records: list[dict], limit: float) -> Result:
    offenders = [
        f"{describe(r)} took {seconds:g} s"
        for r in records
        if (seconds := duration(r)) is not None and seconds > limit
    ]
    return Result(
        "max_seconds",
        not offenders,
        f"every migration at most {limit:g} s from first to last status",
        offenders,
    )


def max_phase_seconds(records: list[dict], phase: str, limit: float) -> Result:
    offenders = [
        f"{describe(r)} was {phase} for {seconds:g} s"
        for r in records
        if (seconds := (r.get("phase_seconds") or {}).get(phase)) is not None and seconds > limit
    ]
    return Result(
        f"max_phase_seconds[{phase}]",
        not offenders,
        f"every migration {phase} at most {limit:g} s",
        offenders,
    )


def p95_seconds(records: list[dict], limit: float) -> Result:
    totals = [(r, s) for r in records if (s := r.get("total_seconds")) is not None]
    value = percentile([s for _, s in totals], 95)
    if value is None or value <= limit:
        shown = "no finished migration" if value is None else f"{value:g} s"
        return Result("p95_seconds", True, f"95th percentile {shown}, limit {limit:g} s")
    offenders = [f"{describe(r)} took {s:g} s" for r, s in totals if s > limit]
    return Result(
        "p95_seconds",
        False,
        f"95th percentile of {len(totals)} migrations is {value:g} s, limit {limit:g} s",
        offenders,
    )


def expected_to_fail(record: dict) -> bool:
    """A migration a negative test asked for expecting Nova to refuse it."""
    return bool((record.get("request") or {}).get("expected"))


def failure_rate(records: list[dict], max_percent: float) -> Result:
    """Share of migrations ending `error`/`failed`; those a test expected refused do not
    count (they are neither successes nor failures of the cloud)."""
    records = [r for r in records if not expected_to_fail(r)]
    if not records:
        return Result("failure_rate", True, "no migrations")
    failed = [r for r in records if r.get("status") in FAILURES]
    rate = 100.0 * len(failed) / len(records)
    return Result(
        "failure_rate",
        rate <= max_percent,
        f"{len(failed)} of {len(records)} migrations failed ({rate:.1f} %), "
        f"limit {max_percent:g} %",
        [describe(r) + (f": {r['reason']}" if r.get("reason") else "") for r in failed]
        if rate > max_percent
        else [],
    )
