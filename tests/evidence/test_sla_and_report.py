"""SLA keyword verdicts, suite metadata and tags in the report, the summary page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from robot.api import ExecutionResult
from robot.api import TestSuite as RobotSuite

from .test_records import ROOT, run_robot

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

SLA_SUITE = """\
*** Settings ***
Library    LiveMigLibrary

*** Keywords ***
Migrate One Server
    [Arguments]    ${name}
    ${server} =    Create Server    name=${name}
    Wait Until Servers Are Active    ${server}
    ${target} =    Get Other Compute Host    ${server}
    Live Migrate Server    ${server}    host=${target}
    Wait Until Migration Of Server Is    ${server}    completed

*** Test Cases ***
Fast Migration Meets The SLA
    Set Fake Cloud Durations    running=5
    Migrate One Server    fast
    Migrations Should Meet SLA    max_seconds=60s    running=30s    p95_seconds=60s
    ...    max_failure_rate=0%

Slow Migration Breaks The SLA
    Set Fake Cloud Durations    running=120
    Migrate One Server    slow
    Migrations Should Meet SLA    max_seconds=60s    running=30s    preparing=5s

Suite Percentile Names Only The Slow One
    Migrations Should Meet SLA    scope=suite    p95_seconds=60s    max_failure_rate=0%

Misspelled Criterion Is Refused
    Migrations Should Meet SLA    max_second=60s
"""


def test_sla_keyword_fails_on_a_slow_migration_and_passes_on_a_fast_one(tmp_path, monkeypatch):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    rc, out, console = run_robot(tmp_path, SLA_SUITE)
    result = ExecutionResult(str(out / "output.xml"))
    tests = {t.name: t for t in result.suite.all_tests}
    assert tests["Fast Migration Meets The SLA"].status == "PASS", console
    slow = tests["Slow Migration Breaks The SLA"]
    assert slow.status == "FAIL"
    records = json.loads((out / "migrations.json").read_text())["migrations"]
    fast_record, slow_record = records
    name = slow_record["server_name"]
    assert name in slow.message and fast_record["server_name"] not in slow.message
    assert "max_seconds" in slow.message and "took 121.1 s" in slow.message
    assert "was running for 120 s" in slow.message
    assert "preparing" not in slow.message.split("break the SLA:")[1].split("max_phase")[0]
    percentile = tests["Suite Percentile Names Only The Slow One"]
    assert percentile.status == "FAIL"
    assert "p95_seconds" in percentile.message and name in percentile.message
    assert fast_record["server_name"] not in percentile.message
    assert "failure_rate" not in percentile.message  # 0 of 2 failed
    misspelled = tests["Misspelled Criterion Is Refused"]
    assert misspelled.status == "FAIL" and "max_second" in misspelled.message
    assert "max_seconds" in misspelled.message


def test_report_says_what_was_tested_and_links_the_migrations(tmp_path, monkeypatch):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    rc, out, console = run_robot(
        tmp_path, "", str(ROOT / "suites" / "concurrent_create_live_migration.robot")
    )
    assert rc == 0, console
    suite = ExecutionResult(str(out / "output.xml")).suite
    meta = dict(suite.metadata)
    assert meta["Cloud"].startswith("embedded fake cloud")
    assert meta["Auth URL host"].startswith("127.0.0.1:")
    assert meta["Nova max microversion"].startswith("2.")
    assert meta["Placement max microversion"].startswith("1.")
    assert meta["Compute hosts"].startswith("3 ")
    assert meta["Fake clock"] == "manual"
    assert meta["Emulated Nova bugs"].startswith("none")
    assert "migrations.html" in meta["Migrations"]
    assert not any(word in str(meta).lower() for word in ("password", "token", "secret"))
    page = (out / "migrations.html").read_text()
    assert "<script" not in page and "Phase durations" in page
    for record in json.loads((out / "migrations.json").read_text())["migrations"]:
        assert record["server_name"] in page


AREAS = {
    "live-migration",
    "abort",
    "force-complete",
    "negative",
    "host-maintenance",
    "faults",
    "build",
    "api-retries",
    "cold-migration",  # the other move operations' suites (issue 10)
    "resize",
    "evacuation",
}


def test_every_suite_test_carries_an_area_tag():
    suite = RobotSuite.from_file_system(str(ROOT / "suites"))
    untagged = [t.name for t in suite.all_tests if not AREAS & set(t.tags)]
    assert untagged == []
    bugs = {tag for t in suite.all_tests for tag in t.tags if tag.startswith("bug-")}
    assert "bug-1718455" in bugs


def test_summary_page_renders_from_json_alone(tmp_path):
    from LiveMigLibrary.evidence.html import summary_page

    document = {
        "format_version": 1,
        "runs": [],
        "migrations": [
            {
                "record_id": "x-1",
                "server_name": "<b>bold</b>",
                "status": "completed",
                "timeline": [
                    {"status": "accepted", "cloud_time": "2026-01-01T00:00:00Z"},
                    {"status": "completed", "cloud_time": "2026-01-01T00:00:03Z"},
                ],
                "phase_seconds": {"accepted": 3.0},
                "total_seconds": 3.0,
            }
        ],
    }
    page = summary_page(document)
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    Path(tmp_path / "p.html").write_text(page)


def test_summary_bars_cut_an_outlier_instead_of_squashing_every_other_bar():
    from LiveMigLibrary.evidence.html import summary_page

    def record(n: int, seconds: int) -> dict:
        return {
            "record_id": f"x-{n}",
            "status": "completed",
            "timeline": [
                {"status": "running", "cloud_time": "2026-01-01T00:00:00Z"},
                {
                    "status": "completed",
                    "cloud_time": f"2026-01-01T{seconds // 3600:02d}:"
                    f"{seconds // 60 % 60:02d}:{seconds % 60:02d}Z",
                },  # fmt: skip
            ],
            "phase_seconds": {"running": float(seconds)},
            "total_seconds": float(seconds),
        }

    page = summary_page({"migrations": [record(n, 6) for n in range(10)] + [record(99, 3600)]})
    assert "full width is 6 s; longer migrations (up to 3600 s) are cut" in page
    assert page.count("⟫ completed") == 1


def test_a_move_without_a_destination_names_the_host_it_asked_for():
    """Nova leaves `dest_compute` empty when the scheduler or conductor refused the
    move: the headline and the summary's route say so, with the host the request named."""
    from LiveMigLibrary.evidence.html import headline, route, summary_page

    refused = {
        "record_id": "x-1",
        "type": "live-migration",
        "migration_id": 2,
        "server_name": "web-1",
        "source": "compute1",
        "destination": None,
        "status": "error",
        "request": {"via": "REST", "host": "compute2"},
    }
    scheduled = {**refused, "record_id": "x-2", "request": {"via": "sdk", "host": None}}
    moved = {**refused, "record_id": "x-3", "destination": "compute3", "status": "completed"}
    assert route(refused) == "compute1 → none chosen (compute2 was asked for)"
    assert route(scheduled) == "compute1 → none chosen"
    assert route(moved) == "compute1 → compute3"
    assert headline(refused) == (
        "Live-migration 2 of server web-1: compute1 → none chosen (compute2 was asked for), error"
    )
    page = summary_page({"migrations": [refused, scheduled, moved]})
    assert "compute1 → none chosen (compute2 was asked for)" in page
    assert "compute1 → compute3" in page
