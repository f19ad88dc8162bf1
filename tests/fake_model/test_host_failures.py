"""Compute processes dying and coming back, and fault rules, as Nova would live through them."""

from __future__ import annotations

from LiveMigLibrary.fake import IMAGE_ID

from .helpers import MV, boot, live_migrate, migrations, other, show, usage


def service_state(conn, host):
    services = conn.compute.get("/os-services?binary=nova-compute", microversion=MV).json()[
        "services"
    ]
    return next(s["state"] for s in services if s["host"] == host)


def test_a_dead_compute_is_reported_down_only_after_service_down_time(cloud, conn):
    ctl = cloud.control
    ctl.set_host_alive("compute1", False)
    ctl.advance(59)
    assert service_state(conn, "compute1") == "up"
    ctl.advance(2)
    assert service_state(conn, "compute1") == "down"
    ctl.set_host_alive("compute1", True)
    assert service_state(conn, "compute1") == "up"


def test_source_dying_mid_migration_is_errored_out_on_restart(cloud, conn):
    ctl = cloud.control
    ctl.set_durations(running=600)
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    assert live_migrate(conn, server, other(source)).status_code == 202
    ctl.advance(3)
    assert migrations(conn, server)[0]["status"] == "running"
    ctl.set_host_alive(source, False)
    ctl.advance(1000)  # nobody notices: the record stays running, the server MIGRATING
    assert migrations(conn, server)[0]["status"] == "running"
    assert show(conn, server)["status"] == "MIGRATING"
    ctl.set_host_alive(source, True)  # init_host cleans up
    assert migrations(conn, server)[0]["status"] == "error"
    after = show(conn, server)
    assert (after["status"], after["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", source)
    assert (usage(ctl, source), usage(ctl, other(source))) == (512, 0)


def test_destination_dying_fails_the_running_migration_after_keepalive(cloud, conn):
    ctl = cloud.control
    ctl.set_durations(running=600)
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    assert live_migrate(conn, server, other(source)).status_code == 202
    ctl.advance(3)
    ctl.set_host_alive(other(source), False)
    ctl.advance(20)
    assert migrations(conn, server)[0]["status"] == "running"
    ctl.advance(10)
    assert migrations(conn, server)[0]["status"] == "failed"
    after = show(conn, server)
    assert (after["status"], after["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", source)
    assert (usage(ctl, source), usage(ctl, other(source))) == (512, 0)


def test_destination_dying_also_fails_a_hanging_migration(cloud, conn):
    ctl = cloud.control
    ctl.add_fault("live_migration", "hang")
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    assert live_migrate(conn, server, other(source)).status_code == 202
    ctl.advance(1000)
    assert migrations(conn, server)[0]["status"] == "running"
    ctl.set_host_alive(other(source), False)
    ctl.advance(30)
    assert migrations(conn, server)[0]["status"] == "failed"


def test_a_build_on_a_dead_compute_errors_out_when_it_restarts(cloud, conn):
    ctl = cloud.control
    ctl.set_host_alive("compute1", False)
    ctl.set_host_alive("compute2", False)
    resp = conn.compute.post(
        "/servers",
        json={"server": {"name": "vm", "flavorRef": "1", "imageRef": IMAGE_ID, "networks": "none"}},
        microversion=MV,
    )
    ctl.advance(30)  # still "up" for the scheduler, but nobody spawns
    sid = resp.json()["server"]["id"]
    server = conn.compute.get(f"/servers/{sid}", microversion=MV).json()["server"]
    assert server["status"] == "BUILD"
    ctl.set_host_alive(server["OS-EXT-SRV-ATTR:host"], True)
    server = conn.compute.get(f"/servers/{sid}", microversion=MV).json()["server"]
    assert server["status"] == "ERROR"
    assert "interrupted" in server["fault"]["message"]


def test_nth_build_of_a_multi_create_fails_and_frees_its_allocation(cloud, conn):
    ctl = cloud.control
    ctl.add_fault("build", "error", skip=1, count=1)
    resp = conn.compute.post(
        "/servers",
        json={
            "server": {
                "name": "mc",
                "flavorRef": "1",
                "imageRef": IMAGE_ID,
                "networks": "none",
                "min_count": 3,
                "max_count": 3,
                "return_reservation_id": True,
            }
        },
        microversion=MV,
    )
    ctl.settle()
    servers = conn.compute.get(
        f"/servers/detail?reservation_id={resp.json()['reservation_id']}", microversion=MV
    ).json()["servers"]
    by_name = {s["name"]: s for s in servers}
    assert [by_name[f"mc-{i}"]["status"] for i in (1, 2, 3)] == ["ACTIVE", "ERROR", "ACTIVE"]
    assert by_name["mc-2"]["OS-EXT-SRV-ATTR:host"] is None
    assert (
        conn.placement.get(f"/allocations/{by_name['mc-2']['id']}", microversion="1.28").json()[
            "allocations"
        ]
        == {}
    )
    (fired,) = ctl.fired_faults()
    assert (fired["point"], fired["server"]) == ("build", "mc-2")


def test_an_api_fault_answers_the_nth_matching_request_only(cloud, conn):
    ctl = cloud.control
    ctl.add_fault(
        "api", "status", status=503, path="/compute/v2.1/flavors*", method="GET", skip=1, count=1
    )
    assert conn.compute.get("/flavors", microversion=MV).status_code == 200
    failed = conn.compute.get("/flavors", microversion=MV, raise_exc=False)
    assert failed.status_code == 503
    assert failed.json() == {"serviceUnavailable": {"code": 503, "message": "Service Unavailable"}}
    assert conn.compute.get("/flavors", microversion=MV).status_code == 200
    (fired,) = ctl.fired_faults()
    assert (fired["method"], fired["status"]) == ("GET", 503)


def test_destination_down_fault_kills_the_destination_as_the_copy_starts(cloud, conn):
    ctl = cloud.control
    (server,) = boot(conn, ctl)
    source = server["OS-EXT-SRV-ATTR:host"]
    ctl.add_fault("live_migration", "destination_down", server="vm")
    assert live_migrate(conn, server, other(source)).status_code == 202
    ctl.advance(2)  # prechecks, queue, preparing: now running, and the destination died
    alive = {h["name"]: h["alive"] for h in ctl.hosts()}
    assert alive == {source: True, other(source): False}
    ctl.settle()
    assert migrations(conn, server)[0]["status"] == "failed"
    assert show(conn, server)["OS-EXT-SRV-ATTR:host"] == source


def test_host_down_fault_kills_the_compute_that_spawns(cloud, conn):
    ctl = cloud.control
    ctl.add_fault("build", "host_down", count=1)
    resp = conn.compute.post(
        "/servers",
        json={"server": {"name": "vm", "flavorRef": "1", "imageRef": IMAGE_ID, "networks": "none"}},
        microversion=MV,
    )
    ctl.settle()
    sid = resp.json()["server"]["id"]
    server = conn.compute.get(f"/servers/{sid}", microversion=MV).json()["server"]
    assert server["status"] == "BUILD"  # nobody finishes the spawn
    dead = [h["name"] for h in ctl.hosts() if not h["alive"]]
    assert dead == [server["OS-EXT-SRV-ATTR:host"]]
