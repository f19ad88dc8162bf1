"""Migration records: exact timelines on the fake, agreement with the cloud's own records,
and one HTML block in the log for every wait on a migration."""

from __future__ import annotations

import datetime as dt
import io
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import robot

from LiveMigLibrary.evidence.record import parse_time
from LiveMigLibrary.fake import FakeCloud

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

ROOT = Path(__file__).resolve().parents[2]
ANY_FLAVOR = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}  # m1.tiny


def run_robot(tmp_path: Path, text: str, *paths: str, **options) -> tuple[int, Path, str]:
    out = tmp_path / "out"
    suites = list(paths)
    if text:
        suite = tmp_path / "evidence_check.robot"
        suite.write_text(textwrap.dedent(text))
        suites.append(str(suite))
    console = io.StringIO()
    rc = robot.run(
        *suites,
        outputdir=str(out),
        log="NONE",
        report="NONE",
        stdout=console,
        stderr=console,
        **options,
    )
    return rc, out, console.getvalue()


def migrations(out: Path) -> list[dict]:
    document = json.loads((out / "migrations.json").read_text())
    assert document["format_version"] == 1
    return document["migrations"]


KNOWN_DURATIONS = """\
*** Settings ***
Library    LiveMigLibrary    poll_interval=30s

*** Test Cases ***
Known Phase Durations
    [Tags]    fake-only
    Set Fake Cloud Durations    queue=0.25    preparing=2.5    running=7
    ${server} =    Create Server    name=timed
    Wait Until Servers Are Active    ${server}
    ${target} =    Get Other Compute Host    ${server}
    Live Migrate Server    ${server}    host=${target}
    Wait Until Migration Of Server Is    ${server}    completed
"""


def test_known_phase_durations_give_exactly_that_timeline(tmp_path, monkeypatch):
    # A 30 s poll interval would miss every phase; the record must still have them all,
    # from the fake's own history, with exactly the durations set.
    monkeypatch.delenv("OS_CLOUD", raising=False)
    rc, out, console = run_robot(tmp_path, KNOWN_DURATIONS)
    assert rc == 0, console
    [record] = migrations(out)
    assert [p["status"] for p in record["timeline"]] == [
        "accepted",
        "queued",
        "preparing",
        "running",
        "completed",
    ]
    assert record["phase_seconds"] == {
        "accepted": 0.25,
        "queued": 0.0,
        "preparing": 2.5,
        "running": 7.0,
    }
    assert record["total_seconds"] == 9.75
    assert {p["source"] for p in record["timeline"]} == {"fake-history"}
    assert record["test"] == "Known Phase Durations"
    assert record["test_status"] == "PASS"
    assert record["request"]["via"] == "sdk" and record["request"]["host"] == record["destination"]
    assert record["allocations"]["start"]["server"] == {
        record["source"]: {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
    }
    assert record["allocations"]["end"]["server"] == {
        record["destination"]: {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
    }
    assert record["allocations"]["end"]["migration"] == {}
    walls = [parse_time(p["wall_time"]) for p in record["timeline"]]
    assert None not in walls and walls == sorted(walls)
    events = {e["event"] for e in record["events"]}
    assert "compute_pre_live_migration" in events


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    fake = FakeCloud(computes=2, clock="scaled", speed=20.0).start()
    clouds_yaml = fake.write_clouds_yaml(tmp_path / "clouds.yaml")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds_yaml))
    monkeypatch.delenv("OS_CLOUD", raising=False)
    yield fake
    fake.stop()


AS_A_REAL_CLOUD = """\
*** Settings ***
Library    OperatingSystem
Library    RequestsLibrary
Library    LiveMigLibrary    cloud=livemig-fake    poll_interval=0.05s    timeout=60s
...    image=cirros-0.6.2-x86_64-disk    flavor=m1.tiny

*** Test Cases ***
Two Moves
    ${server} =    Create Server    name=moved
    Wait Until Servers Are Active    ${server}
    ${target} =    Get Other Compute Host    ${server}
    Live Migrate Server    ${server}    host=${target}
    Wait Until Migration Of Server Is    ${server}    completed
    Live Migrate Server    ${server}
    Wait Until Migration Of Server Is    ${server}    completed
    # the cloud's own records, before the suite's cleanup deletes the server with them
    Create Cloud REST Session    nova
    VAR    &{headers}    OpenStack-API-Version=compute 2.80
    ${response} =    GET On Session    nova    /os-migrations
    ...    params=instance_uuid=${server.id}    headers=${headers}
    Create File    ${OUTPUT_DIR}/cloud-migrations.json    ${response.text}
"""


def test_migrations_json_agrees_with_the_clouds_own_records(cloud, tmp_path):
    rc, out, console = run_robot(tmp_path, AS_A_REAL_CLOUD)
    assert rc == 0, console
    records = migrations(out)
    assert len(records) == 2
    listed = json.loads((out / "cloud-migrations.json").read_text())["migrations"]
    cloud_migrations = {m["id"]: m for m in listed}
    assert len(cloud_migrations) == 2
    for record in records:
        assert record["cloud"] == "real" and record["clock"] == "cloud"
        truth = cloud_migrations[record["migration_id"]]
        assert record["migration_uuid"] == truth["uuid"]
        assert record["server_id"] == truth["instance_uuid"]
        assert (record["source"], record["destination"]) == (
            truth["source_compute"],
            truth["dest_compute"],
        )
        assert (record["source_node"], record["destination_node"]) == (
            truth["source_node"],
            truth["dest_node"],
        )
        assert record["status"] == truth["status"] == "completed"
        assert record["type"] == truth["migration_type"]
        timeline = record["timeline"]
        # first status at created_at, the final one at the record's last update
        assert parse_time(timeline[0]["cloud_time"]) == parse_time(truth["created_at"])
        assert timeline[0]["source"] == "migration.created_at"
        assert parse_time(timeline[-1]["cloud_time"]) == parse_time(truth["updated_at"])
        # every time lies within the fake's exact history (within its stated resolution)
        history = {h["status"]: h["at"] for h in cloud.control.migration_history(truth["id"])}
        epoch = parse_time(truth["created_at"]) - dt.timedelta(seconds=history["accepted"])
        for point in timeline:
            exact = epoch + dt.timedelta(seconds=history[point["status"]])
            error = abs((parse_time(point["cloud_time"]) - exact).total_seconds())
            assert error <= (point["resolution_seconds"] or 0) + 1.0, point
    # the second move went where the scheduler chose and says so
    assert records[1]["request"]["host"] is None
    assert records[1]["source"] == records[0]["destination"]


def test_every_wait_on_a_migration_logs_one_html_block(tmp_path, monkeypatch):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    rc, out, console = run_robot(
        tmp_path,
        "",
        str(ROOT / "suites" / "migration_control.robot"),
        str(ROOT / "suites" / "concurrent_create_live_migration.robot"),
    )
    assert rc == 0, console
    waits = 0
    for kw in ET.parse(out / "output.xml").iter("kw"):
        if kw.get("name") != "Wait Until Migration Of Server Is":
            continue
        waits += 1
        blocks = [
            m
            for m in kw.findall("msg")
            if m.get("html") == "true" and "livemig-migrations" in (m.text or "")
        ]
        assert len(blocks) == 1, ET.tostring(kw)[:500]
        assert "<script" not in blocks[0].text and "http://" not in blocks[0].text.replace(
            'xmlns="http://www.w3.org/2000/svg"', ""
        )
    assert waits >= 8
    records = migrations(out)
    assert {r["status"] for r in records} >= {"completed", "cancelled"}
    assert all(r["test_status"] == "PASS" for r in records)
    rest = [r for r in records if r["test"].endswith("Through REST")]
    assert [r["request"]["via"] for r in rest] == ["REST"]
    assert rest[0]["request"]["microversion"] == "2.34"
    assert rest[0]["allocations"]["start"]["server"] == {rest[0]["source"]: ANY_FLAVOR}


BATCH = """\
*** Settings ***
Library    LiveMigLibrary    computes=3

*** Test Cases ***
Three Moves In One Wait
    @{servers} =    Create Servers    count=3    name=batch
    Wait Until Servers Are Active    @{servers}
    Live Migrate Servers    @{servers}
    Wait Until Migrations Of Servers Are    ${servers}    completed
"""


def test_records_a_batch_wait_left_without_full_evidence_still_get_their_timeline(
    tmp_path, monkeypatch
):
    # Batch waits conclude (log) only a sample of big batches; the others must still
    # carry their exact timeline in migrations.json.
    from LiveMigLibrary.keywords import batch

    monkeypatch.setattr(batch, "FULL_EVIDENCE_LIMIT", 1)
    monkeypatch.setattr(batch, "EVIDENCE_SAMPLE", 1)
    monkeypatch.delenv("OS_CLOUD", raising=False)
    rc, out, console = run_robot(tmp_path, BATCH)
    assert rc == 0, console
    records = migrations(out)
    assert len(records) == 3
    for record in records:
        assert [p["status"] for p in record["timeline"]][0] == "accepted"
        assert record["timeline"][-1]["status"] == "completed"
        assert record["phase_seconds"]["running"] == 5.0
    assert sum(1 for r in records if r["events"]) == 1  # only the sample was concluded
