"""HTML renderings of migration records: the log block and the `migrations.html` page.

Both read the records' dictionaries (`MigrationRecord.as_dict()`, the `migrations.json`
entries), so a merged pabot run renders exactly like a single process. No JavaScript,
nothing fetched from the network, every value escaped; charts are inline SVG drawn to
scale (one segment per phase).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable

from .record import FAILED_STATUSES, FINAL_STATUSES, parse_time
from .stats import outcome_counts, phase_statistics

COLOURS = {
    "accepted": "#b0b7c3",
    "queued": "#f2c14e",
    "pre-migrating": "#9ecae1",
    "preparing": "#9ecae1",
    "running": "#3182bd",
    "migrating": "#3182bd",
    "post-migrating": "#31a354",
    "post-migrated": "#31a354",
    "finished": "#74c476",
    "confirming": "#74c476",
    "reverting": "#fd8d3c",
    "completed": "#2ca02c",
    "confirmed": "#2ca02c",
    "done": "#2ca02c",
    "reverted": "#fd8d3c",
    "error": "#d62728",
    "failed": "#d62728",
    "cancelled": "#ff7f0e",
}
OTHER = "#969696"

CLOCK_NOTE_FAKE = (
    "Cloud time is the embedded fake cloud's virtual clock (the clock of its API "
    "timestamps), read from its own record of every status change, so no phase is missed. "
    "Wall time is this machine's clock at the same instant, interpolated from the library's "
    "readings around each advance of the virtual clock; the log's own timestamps are wall time."
)
CLOCK_NOTE_REAL = (
    "Cloud time is Nova's clock: the migration record's created_at, its updated_at when the "
    "library first saw a status, and instance action event times for statuses polling "
    "missed. 'Source' and '±' say where each time came from and how far off it may be. "
    "Wall time (this machine) is shown for statuses the library saw while polling."
)


def e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f} s"
    if value >= 10:
        return f"{value:.1f} s"
    return f"{value:.2f} s".replace(".00 s", " s")


def _clock(text: str | None, with_date: bool = False) -> str:
    when = parse_time(text)
    if when is None:
        return "–"
    fmt = "%Y-%m-%d %H:%M:%S.%f" if with_date else "%H:%M:%S.%f"
    return when.strftime(fmt)[:-3]


def colour(status: str | None) -> str:
    return COLOURS.get(status or "", OTHER)


def _bounds(records: Iterable[dict]) -> tuple[dt.datetime | None, dt.datetime | None]:
    times = [parse_time(p["cloud_time"]) for r in records for p in r.get("timeline") or []]
    times = [t for t in times if t is not None]
    if not times:
        return None, None
    return min(times), max(times)


def _nice_step(span: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        if span / step <= 8:
            return step
    return 7200


def timeline_svg(
    rows: list[dict],
    dimmed: Iterable[str] = (),
    width: int = 880,
    relative: bool = False,
    scale_seconds: float | None = None,
    labels: bool = True,
) -> str:
    """One bar per record on one time axis (cloud time); `dimmed` record ids drawn faded.

    With ``relative`` every bar starts at 0 (the run summary); ``scale_seconds`` then fixes
    the axis so that bars of several charts compare.
    """
    dimmed = set(dimmed)
    label_w, pad, row_h = (250 if labels else 4), 12, 24
    plot_w = width - label_w - pad - 80  # room on the right for the final status
    if relative:
        start = None
        span = scale_seconds or max([_record_span(r) for r in rows] + [1.0])
    else:
        start, end = _bounds(rows)
        span = max(((end - start).total_seconds() if start and end else 0.0), 0.001)
    height = row_h * len(rows) + (30 if labels else 2)
    limit_x = label_w + plot_w  # a bar longer than the scale is cut here
    scale = plot_w / span
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" style="font:11px sans-serif">'
    ]
    # axis with ticks (seconds of cloud time from the first status shown)
    step = _nice_step(span)
    axis_y = row_h * len(rows) + 4
    parts.append(
        f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" stroke="#555"/>'
    )
    tick = 0.0 if labels else span + 1.0  # the summary's bars share one scale, no axis
    if not labels:
        parts.pop()  # no axis line either
    while tick <= span + 1e-9:
        x = label_w + tick * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#555"/>'
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{axis_y}" stroke="#eee"/>'
            f'<text x="{x:.1f}" y="{axis_y + 15}" text-anchor="middle" fill="#333">'
            f"{tick:g} s</text>"
        )
        tick += step
    for index, record in enumerate(rows):
        y = index * row_h + 3
        faded = record.get("record_id") in dimmed
        opacity = ' opacity="0.35"' if faded else ""
        if labels:
            parts.append(
                f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" fill="#222"{opacity}>'
                f"{e(_row_label(record))}</text>"
            )
        points = record.get("timeline") or []
        first = parse_time(points[0]["cloud_time"]) if points else None
        origin = first if relative else start
        for current, following in zip(points, points[1:], strict=False):
            t0 = parse_time(current["cloud_time"])
            t1 = parse_time(following["cloud_time"])
            x0 = label_w + (t0 - origin).total_seconds() * scale
            if x0 >= limit_x:
                continue
            w = min(max((t1 - t0).total_seconds() * scale, 1.0), limit_x - x0)
            seconds = (t1 - t0).total_seconds()
            parts.append(
                f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="16" '
                f'fill="{colour(current["status"])}"{opacity}>'
                f"<title>{e(current['status'])}: {e(_seconds(seconds))}</title></rect>"
            )
            text = f"{current['status']} {_seconds(seconds)}"
            if w > 7 * len(text):
                fill = "#fff" if current["status"] in ("running", "migrating") else "#000"
                parts.append(
                    f'<text x="{x0 + 3:.1f}" y="{y + 12}" fill="{fill}"{opacity}>{e(text)}</text>'
                )
        if points:
            last = points[-1]
            t_last = parse_time(last["cloud_time"])
            x = label_w + (t_last - origin).total_seconds() * scale
            cut = x > limit_x
            x = min(x, limit_x)
            status = last["status"]
            ended = status in FINAL_STATUSES
            parts.append(
                f'<rect x="{x - 2:.1f}" y="{y - 1}" width="4" height="18" '
                f'fill="{colour(status)}"{opacity}>'
                f"<title>{e(status)}{'' if ended else ' (still in it)'}</title></rect>"
            )
            parts.append(
                f'<text x="{x + 5:.1f}" y="{y + 12}" fill="#222"{opacity}>'
                f"{'⟫ ' if cut else ''}{e(status)}{'' if ended else ' …'}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _scale(spans: list[float]) -> float:
    """Full width of the summary's bars: the longest migration, unless a few outliers
    are more than three times the 90th percentile (then that, and they are cut)."""
    from .stats import percentile

    spans = [s for s in spans if s > 0]
    if not spans:
        return 1.0
    p90 = percentile(spans, 90) or 0.0
    longest = max(spans)
    return max(1.0, p90 if longest > 3 * p90 else longest)


def _record_span(record: dict) -> float:
    points = record.get("timeline") or []
    if len(points) < 2:
        return 0.0
    return (
        parse_time(points[-1]["cloud_time"]) - parse_time(points[0]["cloud_time"])
    ).total_seconds()


def _row_label(record: dict) -> str:
    name = record.get("server_name") or record.get("server_id") or "?"
    if len(name) > 26:
        name = "…" + name[-25:]
    mid = record.get("migration_id")
    return f"{name} #{mid}" if mid is not None else name


def _legend(rows: list[dict]) -> str:
    seen: list[str] = []
    for record in rows:
        for point in record.get("timeline") or []:
            if point["status"] not in seen:
                seen.append(point["status"])
    items = "".join(
        f'<span style="display:inline-block;margin-right:10px">'
        f'<span style="display:inline-block;width:10px;height:10px;background:{colour(s)};'
        f'margin-right:3px"></span>{e(s)}</span>'
        for s in seen
    )
    return f'<div style="font-size:11px;margin:2px 0 6px 0">{items}</div>'


TABLE = 'style="border-collapse:collapse;margin:4px 0 8px 0;font-size:12px"'
TH = 'style="border:1px solid #ccc;padding:2px 6px;background:#f0f0f0;text-align:left"'
TD = 'style="border:1px solid #ccc;padding:2px 6px;vertical-align:top"'
TDR = 'style="border:1px solid #ccc;padding:2px 6px;text-align:right"'


def _table(headers: list[str], rows: list[list[str]], right: Iterable[int] = ()) -> str:
    right = set(right)
    head = "".join(f"<th {TH}>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td {TDR if i in right else TD}>{cell}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table {TABLE}><tr>{head}</tr>{body}</table>"


def route(record: dict) -> str:
    """``source → destination``; a move whose record got no destination says so, and
    names the host the request asked for (Nova leaves `dest_compute` empty when the
    scheduler or the conductor refused it)."""
    destination = record.get("destination")
    if not destination:
        asked = (record.get("request") or {}).get("host")
        destination = f"none chosen ({asked} was asked for)" if asked else "none chosen"
    return f"{record.get('source') or '?'} → {destination}"


def headline(record: dict) -> str:
    what = record.get("type") or record.get("operation") or "migration"
    mid = record.get("migration_id")
    name = record.get("server_name") or record.get("server_id")
    status = record.get("status") or "not recorded yet"
    total = record.get("total_seconds")
    took = f" in {_seconds(total)} cloud time" if total is not None else ""
    number = f" {mid}" if mid is not None else ""
    return f"{what.capitalize()}{number} of server {name}: {route(record)}, {status}{took}"


def _request_text(record: dict) -> str:
    req = record.get("request") or {}
    via = req.get("via") or "unknown"
    parts = [
        "requested by the library through openstacksdk"
        if via == "sdk"
        else "requested outside the library (how is unknown)"
        if via == "unknown"
        else f"requested via {via}"
    ]
    if req.get("microversion"):
        parts.append(f"compute microversion {req['microversion']}")
    if "host" in req:
        parts.append(
            f"host {req['host']} named" if req.get("host") else "destination left to the scheduler"
        )
    if req.get("block_migration") is not None:
        parts.append(f"block_migration {req['block_migration']}")
    if req.get("expected"):
        parts.append(f"the test expected a {req['expected']}")
    return ", ".join(parts)


def _timeline_table(record: dict, fake_clock: bool) -> str:
    rows = []
    phases = record.get("timeline") or []
    for index, point in enumerate(phases):
        lasted = None
        if index + 1 < len(phases):
            t0 = parse_time(point["cloud_time"])
            t1 = parse_time(phases[index + 1]["cloud_time"])
            lasted = (t1 - t0).total_seconds()
        status = point["status"]
        swatch = (
            f'<span style="display:inline-block;width:9px;height:9px;margin-right:4px;'
            f'background:{colour(status)}"></span>'
        )
        resolution = point.get("resolution_seconds")
        rows.append(
            [
                swatch + e(status),
                f'<span title="{e(point["cloud_time"])}">{e(_clock(point["cloud_time"]))}</span>',
                f'<span title="{e(point.get("wall_time"))}">{e(_clock(point.get("wall_time")))}'
                "</span>",
                e(f"+{point.get('offset_seconds', 0):.3f} s"),
                e(
                    _seconds(lasted)
                    if lasted is not None
                    else ("ended" if status in FINAL_STATUSES else "still in it")
                ),  # fmt: skip
                e(point.get("source")) + (f" (±{resolution:g} s)" if resolution else ""),
            ]
        )
    cloud = "Cloud time (fake, virtual)" if fake_clock else "Cloud time (Nova)"
    return _table(
        ["Status", cloud, "Wall time (this machine)", "Since start", "Lasted", "Source"],
        rows,
        right=(3, 4),
    )


def _resources(resources: dict | None) -> str:
    if resources is None:
        return "could not be read"
    if not resources:
        return "nothing"
    return "; ".join(
        f"{host}: " + ", ".join(f"{rc} {amount}" for rc, amount in sorted(res.items()))
        for host, res in sorted(resources.items())
    )


def _allocations_table(record: dict) -> str:
    allocations = record.get("allocations") or {}
    rows = []
    labels = (("start", "before the request"), ("end", "after the end"))
    for key, label in labels[:1]:
        rows += _allocation_rows(allocations.get(key), label, record)
    for sample in allocations.get("during") or []:
        rows += _allocation_rows(sample, f"during ({sample.get('status')})", record)
    for key, label in labels[1:]:
        rows += _allocation_rows(allocations.get(key), label, record)
    if not rows:
        return ""
    return _table(["When", "Read at", "Consumer", "Allocations (host: resources)"], rows)


def _allocation_rows(snapshot: dict | None, label: str, record: dict) -> list[list[str]]:
    if not snapshot:
        return []
    rows = []
    for kind in ("server", "migration"):
        if kind in snapshot:
            consumer = record.get("server_id") if kind == "server" else record.get("migration_uuid")
            rows.append(
                [
                    e(label),
                    e(
                        _clock(snapshot.get("cloud_time"))
                        if snapshot.get("cloud_time")
                        else _clock(snapshot.get("wall_time")) + " (wall)"
                    ),
                    e(f"{kind} {consumer}"),
                    e(_resources(snapshot[kind])),
                ]
            )
    return rows


def _events_table(record: dict) -> str:
    events = record.get("events") or []
    if not events:
        return ""
    rows = [
        [
            e(ev.get("event")),
            e(ev.get("host")),
            e(_clock(ev.get("start"))),
            e(_clock(ev.get("finish"))),
            e(ev.get("result")),
        ]
        for ev in events
    ]
    table = _table(["Instance action event", "Host", "Start", "Finish", "Result"], rows)
    return (
        f'<details><summary style="cursor:pointer">{len(events)} instance action events'
        f"</summary>{table}</details>"
    )


def record_details(record: dict, fake_clock: bool) -> str:
    from .dynamics import dynamics_html

    parts = [
        f'<div style="margin:2px 0 4px 0">{e(_request_text(record))}. '
        f"Server {e(record.get('server_id'))}"
        + (
            f", migration uuid {e(record.get('migration_uuid'))}"
            if record.get("migration_uuid")
            else ""
        )
        + (
            f", nodes {e(record.get('source_node'))} → {e(record.get('destination_node'))}"
            if record.get("source_node")
            else ""
        )
        + ".</div>"
    ]
    if record.get("status") in FAILED_STATUSES or record.get("reason"):
        reason = record.get("reason") or "no reason recorded by the cloud"
        fault = record.get("server_fault")
        parts.append(
            f'<div style="color:#b00;margin:2px 0">Ended {e(record.get("status"))}: '
            f"{e(reason)}" + (f" (server fault: {e(fault)})" if fault else "") + "</div>"
        )
    diagnosis = (record.get("extra") or {}).get("diagnosis")
    if diagnosis:
        parts.append(f'<div style="color:#600;margin:2px 0">{e(diagnosis)}</div>')
    parts.append(_timeline_table(record, fake_clock))
    parts.append(dynamics_html(record))  # the memory copy: passes, downtime, progress
    parts.append(_allocations_table(record))
    parts.append(_events_table(record))
    for problem in (record.get("extra") or {}).get("evidence_errors") or []:
        parts.append(f'<div style="color:#b00">Evidence incomplete: {e(problem)}</div>')
    return "".join(parts)


def migration_block(
    records: list[dict], context: list[dict] = (), *, fake_clock: bool = True
) -> str:
    """The log block for the migrations a wait was about (`records`), drawn on one time
    axis with the other migrations of the test that overlapped them (`context`, dimmed)."""
    rows = list(records) + list(context)
    parts = ['<div class="livemig-migrations" style="font-family:sans-serif;margin:4px 0">']
    if len(records) == 1:
        parts.append(f'<div style="font-weight:bold">{e(headline(records[0]))}</div>')
    else:
        statuses = outcome_counts(records)
        parts.append(
            f'<div style="font-weight:bold">{len(records)} migrations: '
            + e(", ".join(f"{n} {s}" for s, n in statuses.items()))
            + "</div>"
        )
    if context:
        parts.append(
            '<div style="font-size:11px;color:#555">Faded: other migrations of this test '
            "at the same time.</div>"
        )
    parts.append(timeline_svg(rows, dimmed=[r.get("record_id") for r in context]))
    parts.append(_legend(rows))
    if len(records) == 1:
        parts.append(record_details(records[0], fake_clock))
    else:
        for record in records:
            parts.append(
                f'<details><summary style="cursor:pointer">{e(headline(record))}</summary>'
                f"{record_details(record, fake_clock)}</details>"
            )
    note = CLOCK_NOTE_FAKE if fake_clock else CLOCK_NOTE_REAL
    parts.append(f'<div style="font-size:11px;color:#555">{e(note)}</div>')
    parts.append("</div>")
    return "".join(parts)


# -- migrations.html ---------------------------------------------------------------------


def _stats_table(stats: dict[str, dict]) -> str:
    rows = []
    for phase, s in stats.items():
        if not s["count"]:
            continue
        rows.append(
            [e(phase)]
            + [e(s["count"])]
            + [e(_seconds(s[k])) for k in ("min", "median", "p90", "p95", "max", "mean")]
        )
    return _table(
        ["Phase", "Count", "Min", "Median", "90%ile", "95%ile", "Max", "Avg"],
        rows,
        right=range(1, 8),
    )


def summary_page(document: dict) -> str:
    """The whole run: metadata, outcomes, per-phase statistics and a row per migration."""
    records = document.get("migrations") or []
    stats = phase_statistics(
        r
        for r in records
        if r.get("status") not in FAILED_STATUSES and not (r.get("request") or {}).get("expected")
    )
    outcomes = outcome_counts(records)
    expected = [r for r in records if (r.get("request") or {}).get("expected")]
    counted = [r for r in records if r not in expected]
    failures = sum(1 for r in counted if r.get("status") in ("error", "failed"))
    scale = _scale([_record_span(r) for r in records])
    longest = max([_record_span(r) for r in records] + [0.0])
    meta_rows = []
    for run in document.get("runs") or []:
        for key, value in (run.get("metadata") or {}).items():
            meta_rows.append([e(run.get("label", "")), e(key), e(value)])
    rows = []
    for index, record in enumerate(records, 1):
        status = record.get("status") or "not recorded"
        rows.append(
            [
                e(index),
                e((record.get("suite") or "").rsplit(".", 1)[-1])
                + "<br><b>"
                + e(record.get("test"))
                + "</b>",
                e(record.get("server_name") or record.get("server_id")),
                e(f"{record.get('type')} {record.get('migration_id')}"),
                e(route(record)),
                f'<span style="color:{colour(status)};font-weight:bold">{e(status)}</span>'
                + (
                    f" ({e((record.get('request') or {})['expected'])} expected)"
                    if (record.get("request") or {}).get("expected")
                    else ""
                )
                + (f"<br>{e(record.get('reason'))}" if record.get("reason") else ""),
                e(_seconds(record.get("total_seconds"))).replace(" ", "&nbsp;"),
                timeline_svg([record], width=380, relative=True, scale_seconds=scale, labels=False),
            ]
        )
    body = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        "<title>Migrations of this run</title>",
        "<style>body{font-family:sans-serif;margin:16px;color:#222}h1{font-size:20px}"
        "h2{font-size:16px;margin-top:20px}</style></head><body>",
        f"<h1>Migrations of this run: {len(records)}</h1>",
        f"<p>Generated {e(document.get('generated_at'))} by {e(document.get('generator'))} "
        f"from {len(document.get('runs') or [])} process(es); data in "
        '<a href="migrations.json">migrations.json</a> (format version '
        f"{e(document.get('format_version'))}). Durations are cloud time.</p>",
        *(
            ["<h2>What was tested</h2>", _table(["Process", "Metadata", "Value"], meta_rows)]
            if meta_rows
            else []
        ),
        "<h2>Outcomes</h2>",
        _table(["Status", "Migrations"], [[e(s), e(n)] for s, n in outcomes.items()], [1]),
        f"<p>Failure rate: {e(f'{100.0 * failures / len(counted):.1f}' if counted else '0')} "
        f"% ({failures} of {len(counted)} ended error or failed; an abort's cancelled is not "
        f"a failure). {len(expected)} more were asked for by negative tests expecting a "
        "refusal and are not counted.</p>",
        "<h2>Phase durations (cloud time) of migrations that did not fail or get cancelled</h2>",
        _stats_table(stats),
        "<h2>Every migration</h2>",
        f"<p>The bars share one scale: their full width is {e(_seconds(scale))}"
        + (
            f"; longer migrations (up to {e(_seconds(longest))}) are cut at that width "
            "and marked ⟫.</p>"
            if longest > scale
            else ".</p>"
        ),
        _legend(records),
        _table(
            ["#", "Suite / test", "Server", "Migration", "Route", "Status", "Total", "Phases"],
            rows,
            right=(0, 6),
        ),
    ]
    body.append(
        f'<p style="font-size:11px;color:#555">{e(CLOCK_NOTE_FAKE)} {e(CLOCK_NOTE_REAL)}</p>'
    )
    body.append("</body></html>")
    return "\n".join(body)
