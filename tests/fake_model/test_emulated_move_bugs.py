"""The emulated Nova bugs of cold migration, resize and evacuation: each changes what
the APIs show only while it is on (scenarios of Nova's regression tests)."""

from __future__ import annotations

import pytest

from .helpers import MV, allocations, boot, live_migrate, migrations, other, show


def action(conn, server, body, mv=MV):
    return conn.compute.post(f"/servers/{server['id']}/action", json=body, microversion=mv)


def force_down(conn, host):
    services = conn.compute.get("/os-services?binary=nova-compute", microversion="2.53").json()[
        "services"
    ]
    sid = next(s["id"] for s in services if s["host"] == host)
    resp = conn.compute.put(f"/os-services/{sid}", json={"forced_down": True}, microversion="2.53")
    assert resp.status_code == 200, resp.text


def held_hosts(ctl, conn, consumer) -> set[str]:
    names = {h["uuid"]: h["name"] for h in providers(conn)}
    return {names[rp] for rp in allocations(conn, consumer)}


def providers(conn):
    return conn.placement.get("/resource_providers", microversion="1.28").json()[
        "resource_providers"
    ]


@pytest.mark.parametrize("bug", [False, True])
def test_1797580_cold_migrate_to_a_host_then_live_migrate(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1797580"] if bug else [])
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    assert action(conn, server, {"migrate": {"host": other(source)}}, mv="2.56").status_code == 202
    ctl.settle()
    assert action(conn, server, {"confirmResize": None}).status_code == 204
    ctl.settle()
    assert show(conn, server)["OS-EXT-SRV-ATTR:host"] == other(source)
    resp = live_migrate(conn, server, mv="2.30")
    if bug:  # pinned to the host it is on: no valid host
        assert resp.status_code == 400
        assert "No valid host was found" in resp.json()["badRequest"]["message"]
        assert show(conn, server)["OS-EXT-SRV-ATTR:host"] == other(source)
    else:
        assert resp.status_code == 202
        ctl.settle()
        assert show(conn, server)["OS-EXT-SRV-ATTR:host"] == source


@pytest.mark.parametrize("bug", [False, True])
def test_1669054_resize_then_evacuate(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1669054"] if bug else [])
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    assert action(conn, server, {"resize": {"flavorRef": "2"}}).status_code == 202
    ctl.settle()
    assert action(conn, server, {"confirmResize": None}).status_code == 204
    ctl.settle()
    target = show(conn, server)["OS-EXT-SRV-ATTR:host"]
    assert target == other(source)
    ctl.set_host_alive(target, False)
    force_down(conn, target)
    assert action(conn, server, {"evacuate": {}}, mv="2.94").status_code == 200
    ctl.settle()
    srv = show(conn, server)
    mig = [m for m in migrations(conn, server) if m["migration_type"] == "evacuation"][0]
    if bug:  # the source of the resize is ignored too: nowhere to go
        assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"], mig["status"]) == (
            "ERROR",
            target,
            "error",
        )
    else:
        assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"], mig["status"]) == (
            "ACTIVE",
            source,
            "done",
        )


@pytest.mark.parametrize("bug", [False, True])
def test_1713783_evacuate_no_valid_host(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1713783"] if bug else [])
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    ctl.remove_host(other(source))
    ctl.set_host_alive(source, False)
    force_down(conn, source)
    assert action(conn, server, {"evacuate": {}}).status_code == 200
    ctl.settle()
    assert show(conn, server)["status"] == "ERROR"
    mig = migrations(conn, server)[0]
    assert mig["status"] == ("accepted" if bug else "error")
    ctl.set_host_alive(source, True)  # init_host: _destroy_evacuated_instances
    mig = migrations(conn, server)[0]
    assert show(conn, server)["OS-EXT-SRV-ATTR:host"] == source
    if bug:  # taken for evacuated: its guest and its allocation are gone
        assert mig["status"] == "completed"
        assert allocations(conn, server["id"]) == {}
    else:
        assert mig["status"] == "error"
        assert held_hosts(ctl, conn, server["id"]) == {source}


@pytest.mark.parametrize("bug", [False, True])
def test_1718512_resize_reschedule_then_live_migrate_to_the_failed_host(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1718512"] if bug else [])
    ctl.add_host("compute3")
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    failing = other(source)  # the scheduler's first pick (most free RAM, created first)
    ctl.add_fault("prep_resize", "error", host=failing, count=1)
    assert action(conn, server, {"resize": {"flavorRef": "2"}}).status_code == 202
    ctl.settle()
    assert show(conn, server)["status"] == "VERIFY_RESIZE"
    assert show(conn, server)["OS-EXT-SRV-ATTR:host"] == "compute3"
    assert action(conn, server, {"confirmResize": None}).status_code == 204
    ctl.settle()
    resp = live_migrate(conn, server, host=failing, mv="2.30")
    if bug:  # RetryFilter: the host is in the persisted retry
        assert resp.status_code == 400
        assert "No valid host was found" in resp.json()["badRequest"]["message"]
    else:
        assert resp.status_code == 202
        ctl.settle()
        assert show(conn, server)["OS-EXT-SRV-ATTR:host"] == failing


@pytest.mark.parametrize("bug", [False, True])
def test_1825537_finish_resize_failure_allocations(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1825537"] if bug else [])
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    ctl.add_fault("finish_resize", "error")
    assert action(conn, server, {"resize": {"flavorRef": "2"}}).status_code == 202
    ctl.settle()
    srv = show(conn, server)
    assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("ERROR", other(source))
    mig = migrations(conn, server)[0]
    assert mig["status"] == "error"
    assert allocations(conn, mig["uuid"]) == {}
    # fixed: the server's allocation is where the server is; the bug put it on the source
    assert held_hosts(ctl, conn, server["id"]) == ({source} if bug else {other(source)})


@pytest.mark.parametrize("bug", [False, True])
def test_1922053_force_up_with_done_evacuations(cloud, conn, bug):
    ctl = cloud.control
    ctl.emulate_bugs(["1922053"] if bug else [])
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    ctl.set_host_alive(source, False)
    force_down(conn, source)
    assert action(conn, server, {"evacuate": {}}).status_code == 200
    ctl.settle()
    assert migrations(conn, server)[0]["status"] == "done"
    services = conn.compute.get("/os-services?binary=nova-compute", microversion="2.53").json()
    sid = next(s["id"] for s in services["services"] if s["host"] == source)
    resp = conn.compute.put(f"/os-services/{sid}", json={"forced_down": False}, microversion="2.53")
    if bug:
        assert resp.status_code == 200
    else:
        assert resp.status_code == 400
        assert "`done` evacuation migration records remain" in resp.json()["badRequest"]["message"]
        ctl.set_host_alive(source, True)  # the restart completes the evacuation
        assert migrations(conn, server)[0]["status"] == "completed"
        resp = conn.compute.put(
            f"/os-services/{sid}", json={"forced_down": False}, microversion="2.53"
        )
        assert resp.status_code == 200, resp.text


def disable(conn, host):
    services = conn.compute.get("/os-services?binary=nova-compute", microversion="2.53").json()[
        "services"
    ]
    sid = next(s["id"] for s in services if s["host"] == host)
    body = {"status": "disabled", "disabled_reason": "maintenance"}
    resp = conn.compute.put(f"/os-services/{sid}", json=body, microversion="2.53")
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("bug", [False, True])
def test_1938326_migrate_from_a_disabled_and_down_host(cloud, conn, bug):
    """test_bug_1938326: from a down source 409 (disabled or not); the bug let a disabled
    and down one through, and the move then waited on the dead source compute."""
    ctl = cloud.control
    ctl.emulate_bugs(["1938326"] if bug else [])
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    ctl.set_host_alive(source, False)  # the compute process dies ...
    ctl.advance(61)  # ... and its service is down after service_down_time
    resp = action(conn, server, {"migrate": None})
    assert resp.status_code == 409  # down but enabled: refused, bug or not
    assert resp.json()["conflictingRequest"]["message"] == "Service is unavailable at this time."
    disable(conn, source)
    resp = action(conn, server, {"migrate": None})
    if bug:
        assert resp.status_code == 202
        ctl.advance(120)
        shown = show(conn, server)
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("RESIZE", source)
        assert [m["status"] for m in migrations(conn, server)] == ["pre-migrating"]
    else:
        assert resp.status_code == 409
        assert show(conn, server)["status"] == "ACTIVE"
        assert migrations(conn, server) == []
    ctl.set_host_alive(source, True)
