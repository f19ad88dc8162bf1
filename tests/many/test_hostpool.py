"""Host pools: reservations are exclusive, honoured everywhere and released at test end,
in one process and across pabot processes sharing one standalone fake cloud."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
import robot
from robot.api import ExecutionResult

from LiveMigLibrary.enums import HostState
from LiveMigLibrary.errors import CheckFailed
from LiveMigLibrary.hostpool import HostPool, covers

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ["h1", "h2", "h3"]


def pool(key="cloud:x"):
    return HostPool(lambda: key, lambda: False)


def test_reservations_are_exclusive_until_released():
    first, second = pool(), pool()
    assert first.reserve("p1|test S.A", 2, lambda: HOSTS, 0) == ["h1", "h2"]
    with pytest.raises(CheckFailed) as error:
        second.reserve("p2|test S.B", 2, lambda: HOSTS, 0)
    assert "other tests hold h1, h2" in str(error.value)
    assert second.reserve("p2|test S.B", 1, lambda: HOSTS, 0) == ["h3"]
    with pytest.raises(CheckFailed, match="the cloud has 3 that fit"):
        second.reserve("p2|test S.B", 4, lambda: HOSTS, 60)
    assert second.reserved_by_others("p2|test S.B", HOSTS) == {"h1", "h2"}
    assert first.release("p1|test S.A") == ["h1", "h2"]
    assert second.reserved_by_others("p2|test S.B", HOSTS) == set()
    assert first.reserved_by_others("p1|test S.C", HOSTS) == {"h3"}
    second.release_all()


def test_a_suites_hosts_are_its_tests_hosts():
    assert covers("p|suite Top.Sub", "p|test Top.Sub.My Test")
    assert not covers("p|suite Top.Sub", "p|test Top.Other.My Test")
    assert not covers("p|suite Top.Sub", "q|test Top.Sub.My Test")
    suite = pool("cloud:y")
    suite.reserve("p|suite Top", 1, lambda: HOSTS, 0)
    assert suite.reserved_by_others("p|test Top.T", HOSTS) == set()
    assert suite.usable_by("p|test Top.T") == ["h1"]
    suite.release_all()


def test_host_changes_are_refused_on_another_tests_host(lib):
    lib._ctx.hosts.reserved_by_others = lambda owner, hosts: set(hosts) & {"compute2"}
    with pytest.raises(CheckFailed, match="compute2 is reserved by another test.*disable"):
        lib.disable_compute_service("compute2")
    with pytest.raises(CheckFailed, match="may not drain it"):
        lib.live_migrate_all_servers_off_host("compute2")
    assert "compute2" not in lib.get_compute_hosts(state=HostState.USABLE)
    assert "compute2" in lib.get_compute_hosts()
    lib.disable_compute_service("compute1")
    lib.delete_created_resources()


SUITE = """
*** Settings ***
Library    LiveMigLibrary    computes=3
Suite Setup    Reserve Compute Hosts    1

*** Test Cases ***
Suite Hosts Are The Tests Hosts
    @{mine} =    Get Reserved Compute Hosts
    Should Be Equal    ${mine}    ${{['compute1']}}
    Disable Compute Service    compute1

A Failing Test Holds Two Hosts
    @{hosts} =    Reserve Compute Hosts    2
    Should Be Equal    ${hosts}    ${{['compute2', 'compute3']}}
    @{usable} =    Get Compute Hosts    state=usable
    Should Be Equal    ${usable}    ${{['compute2', 'compute3']}}
    Disable Compute Service    compute2
    Fail    on purpose

A Stopped Test Holds Two Hosts
    [Timeout]    1s
    Reserve Compute Hosts    2
    Sleep    3s

The Next Test Gets Them Back, Enabled
    @{hosts} =    Reserve Compute Hosts    2    timeout=0
    Should Be Equal    ${hosts}    ${{['compute2', 'compute3']}}
    Compute Service Should Be    compute2    status=enabled
"""


def test_reservations_end_with_the_test_also_failed_or_stopped(tmp_path, monkeypatch):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    suite = tmp_path / "pool.robot"
    suite.write_text(textwrap.dedent(SUITE))
    rc = robot.run(str(suite), outputdir=str(tmp_path), log="NONE", report="NONE", stdout=None)
    result = ExecutionResult(str(tmp_path / "output.xml"))
    status = {t.name: (t.status, t.message) for t in result.suite.all_tests}
    assert status["Suite Hosts Are The Tests Hosts"][0] == "PASS", status
    assert status["A Failing Test Holds Two Hosts"] == ("FAIL", "on purpose")
    assert "timeout" in status["A Stopped Test Holds Two Hosts"][1].lower()
    assert status["The Next Test Gets Them Back, Enabled"][0] == "PASS", status
    assert rc == 2


def _holds(result) -> list[tuple[str, set[str], datetime, datetime]]:
    """(test, hosts, reserved at, released at) of every reservation in the run."""
    holds = []
    for test in result.suite.all_tests:
        reserved = released = None
        hosts: set[str] = set()
        for message in _messages(test):
            if found := re.match(r"Reserved compute host\(s\) (.+) for ", message.message):
                hosts = set(found.group(1).split(", "))
                reserved = message.timestamp
        released = test.end_time
        if hosts:
            holds.append((test.name, hosts, reserved, released))
    return holds


def _messages(item):
    for child in getattr(item, "body", []):
        if getattr(child, "type", "") == "MESSAGE":
            yield child
        else:
            yield from _messages(child)
    for part in ("setup", "teardown"):
        fixture = getattr(item, part, None)
        if fixture:
            yield from _messages(fixture)


@pytest.mark.parametrize("computes", [3, 4])
def test_host_maintenance_suites_under_pabot_share_a_cloud_without_colliding(tmp_path, computes):
    """Two maintenance suites, each reserving two hosts, run in two pabot processes against
    one standalone fake. With four hosts they hold disjoint pairs; with three, one waits
    until the other releases. Either way both pass and no host is held twice at once."""
    env = {k: v for k, v in os.environ.items() if k != "OS_CLOUD"}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    clouds = tmp_path / "clouds.yaml"
    fake = subprocess.Popen(
        [sys.executable, "-m", "LiveMigLibrary.fake.cli", "--computes", str(computes),
         "--clock", "scaled", "--speed", "50", "--clouds-yaml", str(clouds)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        for line in fake.stdout:
            if line.startswith("clouds_yaml:"):
                break
        env["OS_CLIENT_CONFIG_FILE"] = str(clouds)
        out = tmp_path / "results"
        done = subprocess.run(
            [sys.executable, "-m", "pabot.pabot", "--pabotlibport", "0", "--processes", "2",
             "--outputdir", str(out), "--log", "NONE", "--report", "NONE",
             "--variable", "CLOUD:livemig-fake",
             str(ROOT / "suites" / "reserved_host_drain.robot"),
             str(ROOT / "suites" / "reserved_host_fencing.robot")],
            capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
        )  # fmt: skip
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = ExecutionResult(str(out / "output.xml"))
    assert {t.status for t in result.suite.all_tests} == {"PASS"}
    messages = [m.message for t in result.suite.all_tests for m in _messages(t)]
    assert sum("pool: PabotLib locks shared by the pabot processes" in m for m in messages) == 2
    holds = _holds(result)
    assert len(holds) == 2
    (_, first, start1, end1), (_, second, start2, end2) = holds
    overlapping = start1 < end2 and start2 < end1
    if overlapping:
        assert not first & second, holds
    if computes == 3:  # two pairs of three hosts cannot be held at once
        assert not overlapping, holds


def test_without_a_pabotlib_server_nothing_counts_as_reserved_elsewhere(monkeypatch):
    """`pabot --no-pabotlib` still sets ${PABOTLIBURI}: host lookups must go on (with a
    warning), and only reserving needs the server."""
    from LiveMigLibrary import hostpool

    monkeypatch.setattr(
        hostpool, "robot_variable", {"PABOTLIBURI": "127.0.0.1:9", "CALLER_ID": "c"}.get
    )
    shared = HostPool(lambda: "cloud:z", lambda: True)
    assert shared.reserved_by_others("p|test S.A", HOSTS) == set()
    assert shared.pabot is None
