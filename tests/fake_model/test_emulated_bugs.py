"""Each emulated Nova bug changes what the APIs show, and only while it is on.

Every test runs the same scenario twice through openstacksdk and raw REST: on a
fixed cloud (Nova's behaviour after the fix) and on one emulating the bug, and
asserts the difference the bug report describes.
"""

from __future__ import annotations

import pytest

from .helpers import MV, allocations, boot, live_migrate, migrations, other, show


@pytest.mark.parametrize("bug", [False, True])
def test_1718455_moving_one_of_a_multi_create(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1718455"] if bug else [])
    first, _ = boot(conn, ctl, count=2)
    resp = live_migrate(conn, first, mv="2.30")
    if bug:
        assert resp.status_code == 400
        assert "No valid host was found" in resp.json()["badRequest"]["message"]
        assert show(conn, first)["OS-EXT-SRV-ATTR:host"] == first["OS-EXT-SRV-ATTR:host"]
    else:
        assert resp.status_code == 202
        ctl.settle()
        assert show(conn, first)["OS-EXT-SRV-ATTR:host"] == other(first["OS-EXT-SRV-ATTR:host"])


@pytest.mark.parametrize("bug", [False, True])
def test_1848343_delete_during_live_migration(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1848343"] if bug else [])
    (server,) = boot(conn, ctl)
    assert live_migrate(conn, server).status_code == 202
    ctl.advance(2)  # running
    mig = migrations(conn, server)[0]
    assert mig["status"] in ("preparing", "running")
    conn.compute.delete(f"/servers/{server['id']}", microversion=MV)
    ctl.settle()
    assert allocations(conn, server["id"]) == {}
    assert bool(allocations(conn, mig["uuid"])) is bug


@pytest.mark.parametrize("bug", [False, True])
def test_1712045_source_released_after_success(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1712045"] if bug else [])
    (server,) = boot(conn, ctl)
    assert live_migrate(conn, server).status_code == 202
    ctl.settle()
    mig = migrations(conn, server)[0]
    assert mig["status"] == "completed"
    source_usage = next(
        h["usage"]["MEMORY_MB"] for h in ctl.hosts() if h["name"] == server["OS-EXT-SRV-ATTR:host"]
    )
    assert source_usage == (512 if bug else 0)
    assert bool(allocations(conn, mig["uuid"])) is bug


@pytest.mark.parametrize("bug", [False, True])
def test_1715182_rollback_keeps_destination(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1715182"] if bug else [])
    (server,) = boot(conn, ctl)
    ctl.add_fault("pre_live_migration", "error")
    assert live_migrate(conn, server).status_code == 202
    ctl.settle()
    assert migrations(conn, server)[0]["status"] == "error"
    assert show(conn, server)["OS-EXT-SRV-ATTR:host"] == server["OS-EXT-SRV-ATTR:host"]
    assert len(allocations(conn, server["id"])) == (2 if bug else 1)


@pytest.mark.parametrize("bug", [False, True])
def test_1712411_failed_destination_check_keeps_claim(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1712411"] if bug else [])
    (server,) = boot(conn, ctl)
    ctl.add_fault("conductor", "unreachable")
    resp = live_migrate(conn, server, mv="2.30")
    assert resp.status_code == 400
    assert "Timeout while checking" in resp.json()["badRequest"]["message"]
    assert migrations(conn, server)[0]["status"] == "error"
    assert len(allocations(conn, server["id"])) == (2 if bug else 1)


@pytest.mark.parametrize("bug", [False, True])
def test_2044235_source_check_error(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["2044235"] if bug else [])
    (server,) = boot(conn, ctl)
    ctl.add_fault("conductor", "source_check_error")
    assert live_migrate(conn, server).status_code == 202  # 2.80: asynchronous
    ctl.settle()
    assert migrations(conn, server)[0]["status"] == "error"
    after = show(conn, server)
    assert after["status"] == ("ERROR" if bug else "ACTIVE")
    assert after["OS-EXT-SRV-ATTR:host"] == server["OS-EXT-SRV-ATTR:host"]
    assert len(allocations(conn, server["id"])) == 1


def _two_migrations_from_one_host(conn, ctl):
    a, b = boot(conn, ctl, count=2)
    # both on one host: move b next to a first
    if a["OS-EXT-SRV-ATTR:host"] != b["OS-EXT-SRV-ATTR:host"]:
        assert live_migrate(conn, b, host=a["OS-EXT-SRV-ATTR:host"]).status_code == 202
        ctl.settle()
    assert live_migrate(conn, a).status_code == 202
    assert live_migrate(conn, b).status_code == 202
    ctl.advance(1.5)
    states = {s["id"]: migrations(conn, s)[0] for s in (a, b)}
    assert sorted(m["status"] for m in states.values()) == ["preparing", "queued"]
    return a, b, states


@pytest.mark.parametrize("bug", [False, True])
def test_1949808_abort_queued(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1949808"] if bug else [])
    a, b, states = _two_migrations_from_one_host(conn, ctl)
    queued = next(s for s in (a, b) if states[s["id"]]["status"] == "queued")
    mig = states[queued["id"]]
    resp = conn.compute.delete(
        f"/servers/{queued['id']}/migrations/{mig['id']}", microversion="2.65"
    )
    assert resp.status_code == 202
    ctl.settle()
    assert migrations(conn, queued)[0]["status"] == "cancelled"
    assert show(conn, queued)["status"] == ("MIGRATING" if bug else "ACTIVE")
    assert bool(allocations(conn, mig["uuid"])) is bug


@pytest.mark.parametrize("bug", [False, True])
def test_queued_stuck_after_abort(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["queued-stuck-after-abort"] if bug else [])
    a, b, states = _two_migrations_from_one_host(conn, ctl)
    ctl.advance(1)  # the first one is running now
    running = next(s for s in (a, b) if states[s["id"]]["status"] != "queued")
    queued = next(s for s in (a, b) if s is not running)
    mig = migrations(conn, running)[0]
    assert mig["status"] == "running"
    conn.compute.delete(f"/servers/{running['id']}/migrations/{mig['id']}", microversion=MV)
    ctl.settle()
    assert migrations(conn, running)[0]["status"] == "cancelled"
    assert migrations(conn, queued)[0]["status"] == ("queued" if bug else "completed")


@pytest.mark.parametrize("bug", [False, True])
def test_completed_on_source(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["completed-on-source"] if bug else [])
    (server,) = boot(conn, ctl)
    assert live_migrate(conn, server).status_code == 202
    ctl.settle()
    assert migrations(conn, server)[0]["status"] == "completed"
    host = show(conn, server)["OS-EXT-SRV-ATTR:host"]
    assert (host == server["OS-EXT-SRV-ATTR:host"]) is bug


def test_unknown_bug_is_refused_with_the_known_ones(cloud):
    with pytest.raises(ValueError, match="unknown emulated bug.*known: 1718455"):
        cloud.control.emulate_bugs(["42"])
