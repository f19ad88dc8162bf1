"""The migration record: one per migration the library starts or waits for.

One results model, several renderings (the log block, `migrations.json`, `migrations.html`,
the SLA checks): everything reads `MigrationRecord.as_dict()`, whose layout is documented
in `docs/evidence.md` and versioned by `FORMAT_VERSION`. New information goes into new
keys (or into `samples` / `extra`), never into a changed meaning of an existing key; a
change that breaks readers bumps the version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1

# Final statuses of a Nova migration record, whatever the move (live, cold, resize,
# evacuation). `confirmed`/`reverted`/`done`/`finished` end cold moves and evacuations.
FINAL_STATUSES = frozenset(
    {"completed", "error", "failed", "cancelled", "confirmed", "reverted", "done"}
)
FAILED_STATUSES = frozenset({"error", "failed", "cancelled"})

# Where a timeline time came from, with what it means; shown in the log and documented.
SOURCES = {
    "fake-history": "the fake cloud's own record of every status change (exact)",
    "migration.created_at": "the migration record's created_at",
    "migration.updated_at": "the migration record's updated_at when the status was first seen",
    "instance-action-event": "the start or finish time of an instance action event",
    "poll": "the library saw the status while polling (cloud time unknown: wall time)",
}


def iso(when: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds and `Z`, or None."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> dt.datetime | None:
    """A Nova timestamp (naive UTC, with or without microseconds or `Z`) as aware UTC."""
    if not text:
        return None
    value = str(text).strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


@dataclass
class TimelinePoint:
    """A status of the migration and when the cloud entered it.

    `cloud_time` is the cloud's clock (the fake's virtual clock on the embedded fake);
    `wall_time` is this machine's clock at the same instant where it is known.
    `resolution_seconds` says how far off the time may be (0: exact).
    """

    status: str
    cloud_time: dt.datetime
    source: str
    wall_time: dt.datetime | None = None
    resolution_seconds: float | None = 0.0
    virtual_seconds: float | None = None  # the fake's clock reading, fake only
    reason: str | None = None

    def as_dict(self, start: dt.datetime | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "cloud_time": iso(self.cloud_time),
            "wall_time": iso(self.wall_time),
            "offset_seconds": (
                round((self.cloud_time - start).total_seconds(), 6) if start else 0.0
            ),
            "source": self.source,
            "resolution_seconds": self.resolution_seconds,
        }
        if self.virtual_seconds is not None:
            data["virtual_seconds"] = self.virtual_seconds
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass
class MigrationRecord:
    """Everything the library learnt about one migration (any move type).

    Keyword areas fill it through `EvidenceRecorder` (`ctx.evidence`); renderers read
    `as_dict()`. `samples` (time series such as memory progress or downtime, one list per
    name) and `extra` (anything else, namespaced by the area that adds it) are open for
    other keyword areas.
    """

    record_id: str
    operation: str  # what was asked: live-migration, migration (cold), resize, evacuation
    server_id: str
    server_name: str | None = None
    suite: str | None = None
    test: str | None = None
    migration_id: int | str | None = None
    migration_uuid: str | None = None
    migration_type: str | None = None  # as Nova records it (migration_type)
    source: str | None = None
    source_node: str | None = None
    destination: str | None = None
    destination_node: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    status: str | None = None
    reason: str | None = None
    server_fault: str | None = None
    timeline: list[TimelinePoint] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    allocations: dict[str, Any] = field(
        default_factory=lambda: {"start": None, "during": [], "end": None}
    )
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    cloud: str = "fake"  # "fake" or "real"
    clock: str = "cloud"  # what cloud_time is: "fake-virtual" or "cloud"
    requested_wall: dt.datetime | None = None
    waits: int = 0  # how many waits logged this record
    test_status: str | None = None

    # -- derived ----------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def start_time(self) -> dt.datetime | None:
        return self.timeline[0].cloud_time if self.timeline else None

    @property
    def end_time(self) -> dt.datetime | None:
        return self.timeline[-1].cloud_time if self.timeline else None

    def phase_seconds(self) -> dict[str, float]:
        """Status -> seconds spent in it (cloud clock); the last status only once it ended.

        A status entered twice counts the sum of both stays.
        """
        phases: dict[str, float] = {}
        points = self.timeline
        for current, following in zip(points, points[1:], strict=False):
            seconds = (following.cloud_time - current.cloud_time).total_seconds()
            phases[current.status] = round(phases.get(current.status, 0.0) + seconds, 6)
        return phases

    def total_seconds(self) -> float | None:
        """First to last status (cloud clock); None while the migration has not ended."""
        if not self.finished or not self.timeline:
            return None
        return round(
            (self.timeline[-1].cloud_time - self.timeline[0].cloud_time).total_seconds(), 6
        )

    def add_sample(self, name: str, value: dict[str, Any]) -> None:
        """Appends one sample (e.g. `{"cloud_time": ..., "memory_remaining": ...}`)."""
        self.samples.setdefault(name, []).append(value)

    def label(self) -> str:
        what = self.migration_type or self.operation
        number = f" {self.migration_id}" if self.migration_id is not None else ""
        return f"{what}{number} of server {self.server_name or self.server_id}"

    def as_dict(self) -> dict[str, Any]:
        start = self.start_time
        return {
            "format_version": FORMAT_VERSION,
            "record_id": self.record_id,
            "suite": self.suite,
            "test": self.test,
            "test_status": self.test_status,
            "server_id": self.server_id,
            "server_name": self.server_name,
            "migration_id": self.migration_id,
            "migration_uuid": self.migration_uuid,
            "operation": self.operation,
            "type": self.migration_type or self.operation,
            "source": self.source,
            "source_node": self.source_node,
            "destination": self.destination,
            "destination_node": self.destination_node,
            "request": dict(self.request),
            "status": self.status,
            "finished": self.finished,
            "reason": self.reason,
            "server_fault": self.server_fault,
            "cloud": self.cloud,
            "clock": self.clock,
            "requested_wall_time": iso(self.requested_wall),
            "timeline": [p.as_dict(start) for p in self.timeline],
            "phase_seconds": self.phase_seconds(),
            "total_seconds": self.total_seconds(),
            "events": [dict(e) for e in self.events],
            "allocations": self.allocations,
            "samples": self.samples,
            "extra": self.extra,
        }
