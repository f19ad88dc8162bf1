"""How many moves overlapped: the states a multi-subject wait saw, on one time axis.

Rows are what a wait saw: each subject's states with the elapsed seconds (since the wait
started) when each was first observed. The drawing of the migrations on one time axis is
the evidence layer's (`evidence.recorder.conclude`); this module only counts overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass

from .enums import FINAL_MIGRATION_STATUSES

# a row whose last state is final ends there; the statuses are MigrationStatus's
FINAL = frozenset(status.value for status in FINAL_MIGRATION_STATUSES)


@dataclass
class Row:
    label: str
    detail: str  # e.g. "compute1 -> compute3"
    points: list[tuple[float, str]]  # (elapsed seconds, state), in time order
    end: float  # elapsed seconds when the wait ended (bar end of a non-final last state)


def _segments(row: Row) -> list[tuple[float, float, str]]:
    segments = []
    for index, (start, state) in enumerate(row.points):
        if index + 1 < len(row.points):
            stop = row.points[index + 1][0]
        else:
            stop = start if state in FINAL else row.end
        segments.append((start, stop, state))
    return segments


def max_overlap(rows: list[Row], busy: set[str]) -> tuple[int, float]:
    """Most rows in a ``busy`` state at the same time, and the first time it happened."""
    events = []
    for row in rows:
        for start, stop, state in _segments(row):
            if state in busy and stop > start:
                events.append((start, 1))
                events.append((stop, -1))
    best, when, current = 0, 0.0, 0
    for time, change in sorted(events, key=lambda e: (e[0], e[1])):
        current += change
        if current > best:
            best, when = current, time
    return best, when
