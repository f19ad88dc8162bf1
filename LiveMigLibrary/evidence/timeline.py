"""Building a migration's timeline: exact from the fake's history, estimated on a real cloud.

Two clocks are involved and always labelled:

- **cloud time**: the cloud's own clock. On the embedded fake this is its virtual clock
  (the fake's epoch plus virtual seconds, the same clock its API timestamps use); on a real
  cloud Nova's database timestamps.
- **wall time**: this machine's clock. On the fake it is found from `ClockMap`, which
  remembers the pairs (virtual, wall) the library saw around every advance of the fake's
  clock; on a real cloud it is only known for times the library saw itself (polls).
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from .record import TimelinePoint, parse_time

# Which instance action event marks the start of which live-migration status in Nova
# (nova/compute/manager.py): `live_migration` sets `queued` and starts the
# `compute_live_migration` event; `_do_live_migration` sets `preparing` just before
# `pre_live_migration` (event `compute_pre_live_migration` on the destination) and
# `running` once it returned.
EVENT_MARKS = (
    ("queued", "compute_live_migration", "start"),
    ("preparing", "compute_pre_live_migration", "start"),
    ("running", "compute_pre_live_migration", "finish"),
)

STATUS_ORDER = {
    status: index
    for index, status in enumerate(
        ("accepted", "queued", "preparing", "running", "post-migrating", "completed")
    )
}


class ClockMap:
    """Pairs (virtual seconds, wall datetime) seen by the library, to map one onto the other.

    Between two readings the wall time is interpolated; outside the readings it is unknown.
    Thread-safe: readings may be noted from worker threads.
    """

    def __init__(self, limit: int = 20000):
        self._virtual: list[float] = []
        self._wall: list[float] = []
        self._limit = limit
        self._lock = threading.Lock()

    def note(self, virtual: float, wall: float | None = None) -> None:
        import time

        wall = time.time() if wall is None else wall
        with self._lock:
            if self._virtual and virtual < self._virtual[-1]:  # the fake was reset
                self._virtual.clear()
                self._wall.clear()
            self._virtual.append(float(virtual))
            self._wall.append(wall)
            if len(self._virtual) > self._limit:
                del self._virtual[: self._limit // 2]
                del self._wall[: self._limit // 2]

    def wall_of(self, virtual: float) -> dt.datetime | None:
        with self._lock:
            if not self._virtual or virtual > self._virtual[-1] or virtual < self._virtual[0]:
                return None
            right = bisect.bisect_left(self._virtual, virtual)
            if self._virtual[right] == virtual:
                # Several readings at this instant (no time passed between them): the
                # earliest wall time the library saw it.
                wall = self._wall[right]
            else:
                v0, v1 = self._virtual[right - 1], self._virtual[right]
                w0, w1 = self._wall[right - 1], self._wall[right]
                wall = w0 + (w1 - w0) * (virtual - v0) / (v1 - v0)
        return dt.datetime.fromtimestamp(wall, dt.UTC)


@dataclass
class Observation:
    """One status as the library first saw it while polling (real clouds)."""

    status: str
    wall: dt.datetime
    updated_at: dt.datetime | None
    previous_wall: dt.datetime | None  # the poll before, which did not show it yet


def fake_timeline(
    history: Iterable[dict],
    epoch: dt.datetime,
    clock_map: ClockMap | None,
    not_before: dt.datetime | None = None,
) -> list[TimelinePoint]:
    """Every status the fake recorded, with its exact virtual time.

    The wall time is approximate: while virtual time stands still (between two advances
    of a manual clock) every instant maps onto the same virtual time; ``not_before`` (when
    the move was requested) keeps the first statuses from being placed before the request.
    """
    points = []
    for entry in history:
        at = float(entry["at"])
        wall = clock_map.wall_of(at) if clock_map else None
        if wall is not None and not_before is not None and wall < not_before:
            wall = not_before
        points.append(
            TimelinePoint(
                status=str(entry["status"]),
                cloud_time=epoch + dt.timedelta(seconds=at),
                source="fake-history",
                wall_time=wall,
                resolution_seconds=0.0,
                virtual_seconds=at,
                reason=entry.get("reason"),
            )
        )
    return points


def fake_epoch(created_at: str | None, history: list[dict]) -> dt.datetime | None:
    """The fake's epoch: its API's `created_at` is the epoch plus the virtual time of the
    first history entry (the record is created `accepted`)."""
    created = parse_time(created_at)
    if created is None or not history:
        return None
    return created - dt.timedelta(seconds=float(history[0]["at"]))


def cloud_timeline(
    created_at: str | None,
    observations: list[Observation],
    events: list[dict],
    poll_resolution: float | None,
) -> list[TimelinePoint]:
    """A real cloud's timeline: created_at, statuses seen while polling (with the record's
    updated_at), and the statuses polling missed from the instance action events."""
    points: list[TimelinePoint] = []
    created = parse_time(created_at)
    seen = set()
    if created is not None:
        points.append(TimelinePoint("accepted", created, "migration.created_at", None, 1.0))
        seen.add("accepted")
    for obs in observations:
        if obs.status in seen:
            continue
        seen.add(obs.status)
        if obs.updated_at is not None:
            # updated_at is the last save; the status was set at or before it, after the
            # previous poll.
            window = None
            if obs.previous_wall is not None:
                window = max(1.0, (obs.wall - obs.previous_wall).total_seconds())
            points.append(
                TimelinePoint(
                    obs.status,
                    obs.updated_at,
                    "migration.updated_at",
                    obs.wall,
                    window if window is not None else poll_resolution,
                )
            )
        else:
            points.append(TimelinePoint(obs.status, obs.wall, "poll", obs.wall, poll_resolution))
    by_name = {e.get("event"): e for e in events}
    for status, event_name, which in EVENT_MARKS:
        if status in seen:
            continue
        event = by_name.get(event_name)
        when = parse_time(event.get(which)) if event else None
        if when is None:
            continue
        seen.add(status)
        points.append(
            TimelinePoint(status, when, f"instance-action-event:{event_name}.{which}", None, 1.0)
        )
    points.sort(key=lambda p: (p.cloud_time, STATUS_ORDER.get(p.status, 99)))
    return points
