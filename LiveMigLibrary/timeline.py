"""Many migrations on one time axis: a text summary and an HTML block for Robot's log.

Rows are what a multi-subject wait saw: each subject's states with the elapsed seconds
(since the wait started) when each was first observed. The HTML is one escaped table
with an inline SVG bar per row, so a reviewer sees at a glance which moves overlapped
and where each one queued. This small module is the seam for the report issue's
timelines: the batch keywords call only `render_html` and `max_overlap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

# colours by state; anything else is grey
COLOURS = {
    "accepted": "#9e9e9e",
    "queued": "#f4b400",
    "preparing": "#4285f4",
    "running": "#0b8043",
    "post-migrating": "#7cb342",
    "completed": "#1b5e20",
    "error": "#d50000",
    "failed": "#d50000",
    "cancelled": "#6d4c41",
    "BUILD": "#9e9e9e",
    "ACTIVE": "#1b5e20",
    "ERROR": "#d50000",
}
FINAL = {"completed", "error", "failed", "cancelled"}
WIDTH = 520


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


def render_html(title: str, rows: list[Row]) -> str:
    span = max([row.end for row in rows] + [p[0] for row in rows for p in row.points] + [1e-9])
    scale = WIDTH / span
    body = []
    for row in rows:
        bars = []
        for start, stop, state in _segments(row):
            x = start * scale
            width = max((stop - start) * scale, 2.0)
            colour = COLOURS.get(state, "#bdbdbd")
            bars.append(
                f'<rect x="{x:.1f}" y="2" width="{width:.1f}" height="14" fill="{colour}">'
                f"<title>{escape(state)} from {start:.1f}s to {stop:.1f}s</title></rect>"
            )
        svg = (
            f'<svg width="{WIDTH + 4}" height="18" xmlns="http://www.w3.org/2000/svg">'
            + "".join(bars)
            + "</svg>"
        )
        states = ", ".join(f"{escape(state)} {t:.1f}s" for t, state in row.points)
        body.append(
            f"<tr><td>{escape(row.label)}</td><td>{escape(row.detail)}</td>"
            f"<td>{svg}</td><td>{states}</td></tr>"
        )
    legend = " ".join(
        f'<span style="background:{colour};color:white;padding:0 4px">{escape(state)}</span>'
        for state, colour in COLOURS.items()
        if any(state == p[1] for row in rows for p in row.points)
    )
    return (
        f"<b>{escape(title)}</b> (time axis 0 to {span:.1f}s) {legend}"
        '<table border="1" style="border-collapse:collapse">'
        "<tr><th>subject</th><th>move</th><th>timeline</th><th>states first seen at</th></tr>"
        + "".join(body)
        + "</table>"
    )
