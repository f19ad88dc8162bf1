"""openstacksdk end to end: the calls a library built on the SDK makes."""

from __future__ import annotations

import pytest
from openstack import exceptions as sdk_exc

from .lm import other, run_until_status


@pytest.fixture
def sdk_server(conn, ctl):
    image = next(conn.image.images())
    flavor = conn.compute.find_flavor("m1.tiny")
    srv = conn.compute.create_server(
        name="sdk", image_id=image.id, flavor_id=flavor.id, networks="none"
    )
    ctl.settle()
    return conn.compute.get_server(srv.id)


def test_sdk_server_fields(sdk_server):
    assert sdk_server.status == "ACTIVE"
    assert sdk_server.compute_host in ("compute1", "compute2")
    assert sdk_server.hypervisor_hostname
    assert sdk_server.vm_state == "active"
    assert sdk_server.task_state is None
    assert sdk_server.power_state == 1
    assert sdk_server.availability_zone == "nova"
    assert sdk_server.reservation_id.startswith("r-")


def test_sdk_migrations_and_server_migrations(conn, admin, ctl, sdk_server):
    src = sdk_server.compute_host
    conn.compute.live_migrate_server(sdk_server, host=other(src), block_migration="auto")
    mig = run_until_status(admin, ctl, sdk_server.id, "running", step=0.1)
    in_progress = list(conn.compute.server_migrations(sdk_server))
    assert [m.id for m in in_progress] == [mig["id"]]
    one = conn.compute.get_server_migration(mig["id"], sdk_server)
    assert one.status == "running" and one.server_id == sdk_server.id
    ctl.settle()
    migs = list(conn.compute.migrations(instance_uuid=sdk_server.id))
    assert len(migs) == 1
    assert migs[0].status == "completed"
    assert migs[0].migration_type == "live-migration"
    assert migs[0].source_compute == src and migs[0].dest_compute == other(src)
    assert list(conn.compute.server_migrations(sdk_server)) == []
    assert conn.compute.get_server(sdk_server.id).compute_host == other(src)


def test_sdk_sync_precheck_failure_raises_bad_request(conn, admin, ctl, sdk_server):
    src = sdk_server.compute_host
    with pytest.raises(sdk_exc.BadRequestException) as err:
        conn.compute.live_migrate_server(sdk_server, host=src, block_migration="auto")
    assert "No valid host was found" in str(err.value)
    with pytest.raises(sdk_exc.BadRequestException) as err:
        conn.compute.live_migrate_server(sdk_server, host="nope", block_migration="auto")
    assert "Compute host nope could not be found." in str(err.value)
    ctl.settle()
    assert conn.compute.get_server(sdk_server.id).compute_host == src


def test_sdk_abort(conn, admin, ctl, sdk_server):
    src = sdk_server.compute_host
    conn.compute.live_migrate_server(sdk_server, host=None, block_migration="auto")
    mig = run_until_status(admin, ctl, sdk_server.id, "running", step=0.1)
    conn.compute.abort_server_migration(mig["id"], sdk_server)
    ctl.settle()
    assert admin.migration_of(sdk_server.id)["status"] == "cancelled"
    assert conn.compute.get_server(sdk_server.id).compute_host == src


def test_sdk_force_complete(conn, admin, ctl, sdk_server):
    src = sdk_server.compute_host
    conn.compute.live_migrate_server(sdk_server, host=None, block_migration="auto")
    mig = run_until_status(admin, ctl, sdk_server.id, "running", step=0.1)
    conn.compute.force_complete_server_migration(mig["id"], sdk_server)
    ctl.settle()
    assert admin.migration_of(sdk_server.id)["status"] == "completed"
    assert conn.compute.get_server(sdk_server.id).compute_host == other(src)


def test_sdk_server_actions(conn, ctl, sdk_server):
    conn.compute.pause_server(sdk_server)
    ctl.settle()
    assert conn.compute.get_server(sdk_server.id).status == "PAUSED"
    actions = list(conn.compute.server_actions(sdk_server))
    assert [a.action for a in actions] == ["pause", "create"]
    detail = conn.compute.get_server_action(actions[0].request_id, sdk_server)
    assert detail.events and all(e.result == "Success" for e in detail.events)


def test_sdk_services_and_hypervisors(conn):
    computes = [s for s in conn.compute.services() if s.binary == "nova-compute"]
    assert sorted(s.host for s in computes) == ["compute1", "compute2"]
    svc = next(s for s in computes if s.host == "compute1")
    svc = conn.compute.disable_service(svc, disabled_reason="maint")
    assert svc.status == "disabled" and svc.disabled_reason == "maint"
    svc = conn.compute.enable_service(svc)
    assert svc.status == "enabled"
    svc = conn.compute.update_service_forced_down(svc, forced=True)
    assert svc.is_forced_down is True
    hvs = list(conn.compute.hypervisors(details=True))
    assert len(hvs) == 2
    assert {h.state for h in hvs} == {"up", "down"}


def test_sdk_placement(conn):
    rps = {rp.name: rp for rp in conn.placement.resource_providers()}
    assert set(rps) == {"compute1", "compute2"}
    inv = {
        i.resource_class: i for i in conn.placement.resource_provider_inventories(rps["compute1"])
    }
    assert inv["VCPU"].total == 16 and inv["MEMORY_MB"].total == 32768


def test_sdk_limits_and_quota(conn):
    limits = conn.compute.get_limits()
    assert limits.absolute.instances == 10
    assert limits.absolute.total_cores == 20
    assert limits.absolute.total_ram == 51200


def test_sdk_member_forbidden(member_conn, ctl):
    with pytest.raises(sdk_exc.ForbiddenException):
        list(member_conn.compute.services())
    with pytest.raises(sdk_exc.ForbiddenException):
        list(member_conn.compute.migrations())
    with pytest.raises(sdk_exc.ForbiddenException):
        list(member_conn.compute.hypervisors())


def test_sdk_not_found(conn):
    with pytest.raises(sdk_exc.NotFoundException) as err:
        conn.compute.get_server("00000000-0000-0000-0000-000000000000")
    assert "could not be found" in str(err.value)
