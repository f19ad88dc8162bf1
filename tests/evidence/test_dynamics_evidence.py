"""The migration record carries the memory copy: Nova's saved progress, passes, downtime."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from .test_records import migrations, run_robot

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

BUSY_GUEST = """\
*** Settings ***
Library    LiveMigLibrary

*** Test Cases ***
Busy Guest Converges
    [Tags]    fake-only
    Set Fake Libvirt Options    live_migration_bandwidth=100
    ${server} =    Create Server    name=busy    flavor=m1.small
    Wait Until Servers Are Active    ${server}
    Set Guest Workload    ${server}    dirty_rate=40    working_set=1024
    ${target} =    Get Other Compute Host    ${server}
    Live Migrate Server    ${server}    host=${target}
    Wait Until Migration Of Server Is    ${server}    completed
    [Teardown]    Delete Created Resources
"""


def test_record_has_progress_samples_passes_and_downtime(tmp_path):
    rc, out, console = run_robot(tmp_path, BUSY_GUEST)
    assert rc == 0, console
    (record,) = migrations(out)
    dynamics = record["extra"]["dynamics"]
    # 2 GiB at 100 MiB/s with 40 MiB/s dirtied: 7 passes, 3.36 MiB left = 33.554 ms
    assert (dynamics["outcome"], dynamics["iterations"]) == ("converged", 7)
    assert dynamics["downtime_ms"] == pytest.approx(33.554, abs=0.001)
    passes = [t for t in dynamics["timeline"] if t["event"].startswith("pre-copy pass")]
    assert [t["event"].split(":")[0] for t in passes] == [f"pre-copy pass {n}" for n in range(1, 8)]
    assert passes[1]["offset_seconds"] == pytest.approx(20.48)
    switch = [t for t in dynamics["timeline"] if t["event"].startswith("converged")]
    assert switch and switch[0]["cloud_time"] == dynamics["switchover"]
    samples = record["samples"]["progress"]
    # save_stats every 5 s from the copy's start, as Nova's monitor does
    assert [s["offset_seconds"] for s in samples[:3]] == [0.0, 5.0, 10.0]
    assert samples[0]["memory_processed"] == 0
    assert samples[1]["memory_processed"] == 500 * 1024 * 1024
    processed = [s["memory_processed"] for s in samples]
    assert processed == sorted(processed)
    # the log block shows the passes and the switchover
    log = ET.parse(out / "output.xml").getroot()
    html = " ".join(m.text or "" for m in log.iter("msg") if m.get("html") == "true")
    assert "Memory copy (fake model): converged after 7 pre-copy pass(es)" in html
    assert "switchover (guest paused)" in html and "pass 7" in html
