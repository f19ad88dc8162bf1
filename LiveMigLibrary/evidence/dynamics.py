"""The memory copy in a migration record: progress samples, pre-copy passes, downtime.

On the embedded fake, `attach_dynamics` copies the fake's model of the live migration
(`control.migration_dynamics`) into the record: `samples["progress"]` are the statistics
Nova's monitor saved (what `GET /servers/{id}/migrations/{id}` showed, every save, with
their cloud time), and `extra["dynamics"]` the outcome, passes, downtime and the timeline
of the copy (passes, max-downtime steps, pause, post-copy, switchover). On a real cloud
the progress samples are those the progress keywords polled, and a downtime probe adds
`extra["downtime_probe"]`. `dynamics_html` renders both for the log block.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .record import iso, parse_time

MiB = 1024 * 1024
PASS_COLOURS = ("#6baed6", "#3182bd")
TIMELINE_ROWS = 40  # shown in the log; the record keeps the model's (bounded) timeline


def attach_dynamics(ctx, record, migration) -> None:
    """Fills ``record`` from the fake's model (nothing on a real cloud or without a model)."""
    fake = getattr(ctx, "fake", None)
    if fake is None or migration is None or record.operation != "live-migration":
        return
    control = fake.control
    try:
        dynamics = control.migration_dynamics(migration.id)
    except ValueError:  # never ran (refused, queued) or ran under a hang/error fault
        return
    epoch = parse_time(control.clock().get("epoch"))
    if epoch is None:
        return

    def when(seconds: float | None) -> str | None:
        return None if seconds is None else iso(epoch + dt.timedelta(seconds=float(seconds)))

    start = dynamics["started_at"]
    record.samples["progress"] = [
        {
            "cloud_time": when(s["at"]),
            "offset_seconds": round(s["at"] - start, 6),
            **{k: v for k, v in s.items() if k != "at"},
        }
        for s in dynamics["samples"]
    ]
    record.extra["dynamics"] = {
        "source": "the embedded fake's guest memory and link model",
        "outcome": dynamics["outcome"],
        "converged": dynamics["converged"],
        "iterations": dynamics["iterations"],
        "downtime_ms": dynamics["downtime_ms"],
        "max_downtime_ms": dynamics["max_downtime_ms"],
        "bandwidth_mib": dynamics["bandwidth_mib"],
        "bandwidth_source": dynamics["bandwidth_source"],
        "dirty_rate_mib": dynamics["dirty_rate_mib"],
        "working_set_mib": dynamics["working_set_mib"],
        "throttle_percent": dynamics["throttle_percent"],
        "data_gb": dynamics["data_gb"],
        "completion_timeout_seconds": dynamics["completion_timeout"],
        "timeout_action": dynamics["timeout_action"],
        "post_copy_permitted": dynamics["post_copy_permitted"],
        "auto_converge": dynamics["auto_converge"],
        "copy_started": when(start),
        "copy_ended": when(dynamics["ended_at"]),
        "timed_out": when(dynamics["timed_out_at"]),
        "paused": when(dynamics["paused_at"]),
        "switchover": when(dynamics["switchover_at"]),
        "post_copy": when(dynamics["postcopy_at"]),
        "timeline": [
            {
                "cloud_time": when(entry["at"]),
                "offset_seconds": round(entry["at"] - start, 6),
                "event": entry["event"],
            }
            for entry in dynamics["timeline"]
        ],
        "passes_not_in_timeline": dynamics["passes_not_in_timeline"],
    }


# -- HTML -------------------------------------------------------------------------------------


def _e(value: object) -> str:
    import html

    return html.escape("" if value is None else str(value), quote=True)


def _offset(record: dict, key: str) -> float | None:
    dynamics = record["extra"]["dynamics"]
    start, at = parse_time(dynamics.get("copy_started")), parse_time(dynamics.get(key))
    return None if start is None or at is None else (at - start).total_seconds()


def _passes_svg(record: dict, width: int = 880) -> str:
    """The copy on its own axis: one segment per pre-copy pass, then the switchover
    (guest paused) or the post-copy phase; the force-complete pause is marked."""
    dynamics = record["extra"]["dynamics"]
    end = _offset(record, "copy_ended")
    marks = [
        (t["offset_seconds"], t["event"])
        for t in dynamics["timeline"]
        if t["event"].startswith(("pre-copy pass", "converged", "post-copy:", "disk mirror"))
    ]
    if end is None:
        end = max([m[0] for m in marks] + [0.0])
    span = max(end, 0.001)
    label_w, plot_w, height = 110, width - 110 - 70, 46
    scale = plot_w / span
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" style="font:11px sans-serif">',
        f'<text x="{label_w - 6}" y="15" text-anchor="end" fill="#222">memory copy</text>',
    ]
    bounds = [m for m in marks] + [(end, "end")]
    number = 0
    for (t0, what), (t1, _) in zip(bounds, bounds[1:], strict=False):
        x0, w = label_w + t0 * scale, max((t1 - t0) * scale, 1.0)
        if what.startswith("pre-copy pass"):
            number += 1
            fill, name = PASS_COLOURS[number % 2], f"pass {number}"
        elif what.startswith("converged"):
            fill, name = "#d62728", "switchover (guest paused)"
        elif what.startswith("post-copy"):
            fill, name = "#9467bd", "post-copy (guest on the destination)"
        else:
            fill, name = "#bcbddc", "disk mirror"
        parts.append(
            f'<rect x="{x0:.1f}" y="4" width="{w:.1f}" height="16" fill="{fill}">'
            f"<title>{_e(name)}: {t1 - t0:.3f} s</title></rect>"
        )
        if w > 7 * len(name):
            parts.append(f'<text x="{x0 + 3:.1f}" y="16" fill="#fff">{_e(name)}</text>')
    paused = _offset(record, "paused")
    if paused is not None:
        x = label_w + paused * scale
        parts.append(
            f'<rect x="{x:.1f}" y="22" width="{max((end - paused) * scale, 1.0):.1f}" '
            f'height="5" fill="#d62728"><title>guest paused by force-complete</title></rect>'
        )
    for key, name in (("timed_out", "completion timeout"),):
        at = _offset(record, key)
        if at is not None:
            x = label_w + at * scale
            parts.append(
                f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="30" stroke="#000" '
                f'stroke-dasharray="3,2"><title>{name}</title></line>'
            )
    parts.append(
        f'<text x="{label_w}" y="42" fill="#333">0 s</text>'
        f'<text x="{label_w + plot_w}" y="42" text-anchor="end" fill="#333">'
        f"{span:.3f} s after the copy started</text></svg>"
    )
    return "".join(parts)


def _summary(dynamics: dict[str, Any]) -> str:
    outcome = dynamics["outcome"] or "still copying"
    text = (
        f"Memory copy (fake model): {outcome} after {dynamics['iterations']} pre-copy "
        f"pass(es) at {dynamics['bandwidth_mib']:g} MiB/s ({dynamics['bandwidth_source']}); "
        f"guest dirtying {dynamics['dirty_rate_mib']:g} MiB/s of "
        f"{dynamics['working_set_mib']:g} MiB"
    )
    if dynamics["throttle_percent"]:
        text += f", throttled {dynamics['throttle_percent']} % by auto-converge"
    if dynamics["downtime_ms"] is not None:
        text += f"; downtime {dynamics['downtime_ms']:g} ms"
    text += (
        f" (max downtime reached {dynamics['max_downtime_ms']} ms; completion timeout "
        f"{dynamics['completion_timeout_seconds']} s for {dynamics['data_gb']:g} GiB, "
        f"action {dynamics['timeout_action']}"
    )
    return text + (", timed out)." if dynamics["timed_out"] else ").")


def dynamics_html(record: dict) -> str:
    """The log's section on the copy: summary, passes chart, progress and model timeline."""
    from .html import _table

    parts: list[str] = []
    extra = record.get("extra") or {}
    dynamics = extra.get("dynamics")
    if dynamics:
        parts.append(f'<div style="margin:4px 0 2px 0">{_e(_summary(dynamics))}</div>')
        parts.append(_passes_svg(record))
        rows = [
            [_e(f"+{t['offset_seconds']:.3f} s"), _e(t["event"])]
            for t in dynamics["timeline"][:TIMELINE_ROWS]
        ]
        hidden = len(dynamics["timeline"]) - TIMELINE_ROWS + dynamics["passes_not_in_timeline"]
        if hidden > 0:
            rows.append(["", _e(f"... {hidden} more (see migrations.json)")])
        parts.append(
            '<details><summary style="cursor:pointer">Copy timeline (model)</summary>'
            + _table(["Since the copy started", "Event"], rows, right=(0,))
            + "</details>"
        )
    samples = (record.get("samples") or {}).get("progress") or []
    if samples:
        rows = [
            [
                _e(f"+{s['offset_seconds']:.1f} s" if "offset_seconds" in s else s.get("at")),
                _e(s.get("status") or ""),
                _e(_mib(s.get("memory_processed"))),
                _e(_mib(s.get("memory_remaining"))),
                _e(_mib(s.get("memory_total"))),
                _e(_mib(s.get("disk_processed")) if s.get("disk_total") else "–"),
            ]
            for s in samples
        ]
        parts.append(
            '<details><summary style="cursor:pointer">Progress as Nova saved it '
            f"({len(samples)} samples)</summary>"
            + _table(
                ["When", "Status", "Processed MiB", "Remaining MiB", "Total MiB", "Disk MiB"],
                rows,
                right=(0, 2, 3, 4, 5),
            )
            + "</details>"
        )
    probe = extra.get("downtime_probe")
    if probe:
        parts.append(
            f'<div style="margin:2px 0">Downtime probe ({_e(probe["method"])} to '
            f"{_e(probe['address'])}{':' + _e(probe['port']) if probe.get('port') else ''}): "
            f"longest gap {_e(probe['downtime_seconds'])} s, {_e(probe['failed_checks'])} of "
            f"{_e(probe['checks'])} checks failed.</div>"
        )
    return "".join(parts)


def _mib(value) -> str:
    if value is None:
        return "–"
    return f"{value / MiB:.1f}"
