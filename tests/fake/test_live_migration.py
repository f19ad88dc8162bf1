"""os-migrateLive: microversions, pre-checks, record lifecycle, allocations.

Sources: nova/api/openstack/compute/migrate_server.py, schemas/migrate_server.py,
nova/compute/api.py (live_migrate), nova/conductor/tasks/live_migrate.py,
nova/conductor/tasks/migrate.py (replace_allocation_with_migration), tempest
api/compute/admin/test_live_migration.py.
"""

from __future__ import annotations

import pytest

from .helpers import alloc_resources_by_rp, nova_error
from .lm import (
    FINAL,
    TINY,
    boot_on,
    compute_services,
    other,
    run_until_status,
    update_service,
    wait_server_idle,
    watch_statuses,
)


# -- happy paths ---------------------------------------------------------------------
def test_sdk_live_migrate_changes_host(conn, admin, ctl, active_server):
    sid, src = active_server
    server = conn.compute.get_server(sid)
    conn.compute.live_migrate_server(server, host=None, block_migration="auto")
    ctl.settle()
    srv = admin.server(sid)
    assert srv["status"] == "ACTIVE"
    assert srv["OS-EXT-STS:task_state"] is None
    assert srv["OS-EXT-SRV-ATTR:host"] == other(src)
    mig = admin.migration_of(sid)
    assert mig["status"] == "completed"
    assert mig["source_compute"] == src and mig["dest_compute"] == other(src)


def test_record_sequence_and_server_state_while_moving(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, mv="2.80")
    assert resp.status_code == 202, resp.text
    assert resp.content in (b"", b"null")
    srv = admin.server(sid)
    assert srv["status"] == "MIGRATING"
    assert srv["OS-EXT-STS:task_state"] == "migrating"
    assert srv["OS-EXT-STS:vm_state"] == "active"
    seen = watch_statuses(admin, ctl, sid, step=0.1)
    order = ["accepted", "queued", "preparing", "running", "completed"]
    assert all(s in order for s in seen), seen
    assert seen == sorted(seen, key=order.index), seen
    assert "preparing" in seen and "running" in seen, seen
    assert seen[-1] == "completed"
    srv = wait_server_idle(admin, ctl, sid)
    assert srv["status"] == "ACTIVE"
    assert srv["OS-EXT-SRV-ATTR:host"] == other(src)


def test_migration_record_fields(admin, ctl, active_server):
    sid, src = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    mig = admin.migration_of(sid)
    assert mig["migration_type"] == "live-migration"
    assert mig["instance_uuid"] == sid
    assert mig["source_compute"] == src
    assert mig["dest_compute"] == other(src)
    assert mig["source_node"] and mig["dest_node"]
    assert mig["old_instance_type_id"] == mig["new_instance_type_id"]
    assert mig["user_id"] == admin.user_id
    assert mig["project_id"] == admin.project_id
    assert len(mig["uuid"]) == 36
    assert isinstance(mig["id"], int)
    assert mig["created_at"] and mig["updated_at"]


def test_server_state_during_each_phase(admin, ctl, active_server):
    sid, _ = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    mig = run_until_status(admin, ctl, sid, "running", step=0.1)
    assert mig["status"] == "running"
    srv = admin.server(sid)
    assert srv["status"] == "MIGRATING"
    assert srv["OS-EXT-STS:task_state"] == "migrating"


def test_allocations_during_and_after_move(admin, ctl, active_server):
    sid, src = active_server
    dst = other(src)
    rps = admin.providers()
    src_rp, dst_rp = rps[src]["uuid"], rps[dst]["uuid"]
    assert alloc_resources_by_rp(admin.allocations(sid)) == {src_rp: TINY}
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    mig = run_until_status(admin, ctl, sid, "running", step=0.1)
    # source held by the migration consumer, destination claimed for the server
    assert alloc_resources_by_rp(admin.allocations(mig["uuid"])) == {src_rp: TINY}
    assert alloc_resources_by_rp(admin.allocations(sid)) == {dst_rp: TINY}
    assert admin.usages(src_rp)["VCPU"] == 1 and admin.usages(dst_rp)["VCPU"] == 1
    ctl.settle()
    assert admin.allocations(mig["uuid"]) == {}
    assert alloc_resources_by_rp(admin.allocations(sid)) == {dst_rp: TINY}
    assert admin.usages(src_rp)["VCPU"] == 0
    assert admin.usages(dst_rp) == TINY


def test_named_host_without_force(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=other(src), mv="2.30", force=False)
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


def test_forced_host_at_2_30(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=other(src), mv="2.30", force=True)
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)
    assert admin.migration_of(sid)["status"] == "completed"


def test_forced_host_bypasses_disabled_service(admin, ctl, active_server):
    # force=True skips the scheduler; only "is the service up" is checked
    sid, src = active_server
    update_service(admin, other(src), status="disabled", disabled_reason="maint")
    resp = admin.live_migrate(sid, host=other(src), mv="2.30", force=True)
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


def test_multi_created_server_live_migrates_bug_1718455(admin, ctl):
    resp = admin.create_server("pair", min_count=2, max_count=2, return_reservation_id=True)
    rid = resp.json()["reservation_id"]
    ctl.settle()
    servers = admin.servers_detail(reservation_id=rid)
    sid, src = servers[0]["id"], servers[0]["OS-EXT-SRV-ATTR:host"]
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    assert admin.migration_of(sid)["status"] == "completed"
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


# -- request validation per microversion ------------------------------------------------
def test_2_25_auto_accepted(admin, ctl, active_server):
    sid, src = active_server
    assert admin.live_migrate(sid, mv="2.25", block_migration="auto").status_code == 202
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


def test_2_25_disk_over_commit_rejected(admin, active_server):
    sid, _ = active_server
    resp = admin.live_migrate(sid, mv="2.25", disk_over_commit=False)
    msg = nova_error(resp, 400)
    assert "Additional properties are not allowed" in msg and "disk_over_commit" in msg
    assert admin.server(sid)["OS-EXT-STS:task_state"] is None


def test_before_2_25_auto_rejected_and_disk_over_commit_required(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, mv="2.24", block_migration="auto", disk_over_commit=False)
    nova_error(resp, 400)
    resp = admin.live_migrate(sid, mv="2.24", block_migration=False)
    msg = nova_error(resp, 400)
    assert "disk_over_commit" in msg and "is a required property" in msg
    resp = admin.live_migrate(sid, mv="2.24", block_migration=False, disk_over_commit=False)
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


def test_force_unknown_before_2_30(admin, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=other(src), mv="2.29", force=True)
    msg = nova_error(resp, 400)
    assert "'force' was unexpected" in msg


def test_force_without_host_is_400(admin, active_server):
    sid, _ = active_server
    resp = admin.live_migrate(sid, mv="2.30", force=True)
    assert nova_error(resp, 400) == "Can't force to a non-provided destination"


@pytest.mark.parametrize("force", [True, False])
def test_force_removed_at_2_68(admin, active_server, force):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=other(src), mv="2.68", force=force)
    msg = nova_error(resp, 400)
    assert "'force' was unexpected" in msg
    assert admin.server(sid)["OS-EXT-STS:task_state"] is None


def test_invalid_block_migration_value(admin, active_server):
    sid, _ = active_server
    nova_error(admin.live_migrate(sid, mv="2.30", block_migration="sometimes"), 400)


# -- API checks -----------------------------------------------------------------------
@pytest.mark.parametrize("mv", ["2.30", "2.80"])
def test_unknown_host_is_400_at_any_version(admin, ctl, active_server, mv):
    sid, src = active_server
    resp = admin.live_migrate(sid, host="nope", mv=mv)
    assert nova_error(resp, 400) == "Compute host nope could not be found."
    srv = admin.server(sid)
    assert srv["OS-EXT-STS:task_state"] is None and srv["status"] == "ACTIVE"
    ctl.settle()
    assert admin.migrations(instance_uuid=sid) == []
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == src


def test_unknown_server_404(admin):
    sid = "00000000-0000-0000-0000-000000000000"
    resp = admin.live_migrate(sid, mv="2.80")
    assert nova_error(resp, 404) == f"Instance {sid} could not be found."


def test_second_live_migrate_while_migrating_is_409(admin, active_server):
    sid, _ = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    resp = admin.live_migrate(sid, mv="2.80")
    assert nova_error(resp, 409) == (
        f"Cannot 'os-migrateLive' instance {sid} while it is in task_state migrating"
    )


def test_member_forbidden(member, admin, ctl):
    sid = member.boot("mine")
    ctl.settle()
    resp = member.live_migrate(sid, mv="2.80")
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-migrate-server:migrate_live to be performed."
    )
    resp = member.live_migrate(sid, host="compute1", mv="2.80")
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-migrate-server:migrate_live:host to be performed."
    )
    assert admin.migrations(instance_uuid=sid) == []


# -- pre-check failures: synchronous below 2.34 ------------------------------------------
def _assert_back_on_source(admin, sid, src):
    srv = admin.server(sid)
    assert srv["status"] == "ACTIVE", srv
    assert srv["OS-EXT-STS:task_state"] is None
    assert srv["OS-EXT-SRV-ATTR:host"] == src
    # faults are only shown for ERROR/DELETED servers (nova/api/openstack/compute/views/servers.py)
    assert "fault" not in srv
    rp = admin.providers()[src]["uuid"]
    assert alloc_resources_by_rp(admin.allocations(sid)) == {rp: TINY}
    for m in admin.migrations(instance_uuid=sid):
        assert m["status"] == "error", m
        assert admin.allocations(m["uuid"]) == {}


def test_sync_no_valid_host_when_only_host_is_source(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=src, mv="2.30")
    msg = nova_error(resp, 400)
    assert msg.startswith("No valid host was found."), msg
    ctl.settle()
    _assert_back_on_source(admin, sid, src)


def test_sync_forced_to_self(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=src, mv="2.30", force=True)
    assert nova_error(resp, 400) == (f"Unable to migrate instance ({sid}) to current host ({src}).")
    ctl.settle()
    _assert_back_on_source(admin, sid, src)


def test_sync_destination_disabled(admin, ctl, active_server):
    sid, src = active_server
    update_service(admin, other(src), status="disabled", disabled_reason="maint")
    resp = admin.live_migrate(sid, host=other(src), mv="2.30")
    assert nova_error(resp, 400).startswith("No valid host was found.")
    resp = admin.live_migrate(sid, host=None, mv="2.30")
    assert nova_error(resp, 400).startswith("No valid host was found.")
    ctl.settle()
    _assert_back_on_source(admin, sid, src)


def test_sync_forced_destination_down(admin, ctl, active_server):
    sid, src = active_server
    update_service(admin, other(src), forced_down=True)
    resp = admin.live_migrate(sid, host=other(src), mv="2.30", force=True)
    assert nova_error(resp, 400) == f"Compute service of {other(src)} is unavailable at this time."
    ctl.settle()
    _assert_back_on_source(admin, sid, src)


def test_sync_destination_without_capacity(admin, ctl, active_server):
    sid, src = active_server
    ctl.add_host("compute-small", vcpus=1, memory_mb=256, disk_gb=1)
    assert "compute-small" in compute_services(admin)
    resp = admin.live_migrate(sid, host="compute-small", mv="2.30")
    assert nova_error(resp, 400).startswith("No valid host was found.")
    ctl.settle()
    _assert_back_on_source(admin, sid, src)


# -- pre-check failures: asynchronous from 2.34 --------------------------------------------
def test_async_precheck_failure_is_202_and_migration_error(admin, ctl, active_server):
    sid, src = active_server
    update_service(admin, other(src), status="disabled", disabled_reason="maint")
    resp = admin.live_migrate(sid, host=other(src), mv="2.34")
    assert resp.status_code == 202, resp.text
    ctl.settle()
    _assert_back_on_source(admin, sid, src)
    migs = admin.migrations(instance_uuid=sid)
    assert [m["status"] for m in migs] == ["error"]
    # the failure shows in the instance action
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()
    lm = [a for a in actions["instanceActions"] if a["action"] == "live-migration"]
    assert len(lm) == 1
    detail = admin.compute("GET", f"/servers/{sid}/os-instance-actions/{lm[0]['request_id']}")
    events = {e["event"]: e for e in detail.json()["instanceAction"]["events"]}
    assert events["conductor_live_migrate_instance"]["result"] == "Error"


def test_async_no_valid_host_at_latest(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=src, mv="2.104")
    assert resp.status_code == 202, resp.text
    ctl.settle()
    _assert_back_on_source(admin, sid, src)
    assert [m["status"] for m in admin.migrations(instance_uuid=sid)] == ["error"]


def test_async_without_capacity(admin, ctl, active_server):
    sid, src = active_server
    ctl.add_host("compute-small", vcpus=1, memory_mb=256, disk_gb=1)
    resp = admin.live_migrate(sid, host="compute-small", mv="2.80")
    assert resp.status_code == 202, resp.text
    ctl.settle()
    _assert_back_on_source(admin, sid, src)
    small_rp = admin.providers()["compute-small"]["uuid"]
    assert admin.usages(small_rp).get("MEMORY_MB", 0) == 0


# -- concurrency limit per source host ----------------------------------------------------
def test_max_concurrent_live_migrations_queues_second(admin, ctl):
    s1, s2 = boot_on(admin, ctl, "compute1", n=2)
    assert admin.live_migrate(s1, mv="2.80").status_code == 202
    assert admin.live_migrate(s2, mv="2.80").status_code == 202
    first = run_until_status(admin, ctl, s1, "running", step=0.1)
    assert first["status"] == "running"
    assert admin.migration_of(s2)["status"] == "queued"
    assert admin.server(s2)["status"] == "MIGRATING"
    # never both active at once
    for _ in range(4000):
        if admin.migration_of(s1)["status"] in FINAL:
            break
        active = [admin.migration_of(s)["status"] for s in (s1, s2)]
        assert not all(st in ("preparing", "running") for st in active), active
        ctl.advance(0.25)
    ctl.settle()
    for s in (s1, s2):
        assert admin.migration_of(s)["status"] == "completed"
        assert admin.server(s)["OS-EXT-SRV-ATTR:host"] == "compute2"


def test_migrations_from_different_sources_run_in_parallel(admin, ctl):
    (a,) = boot_on(admin, ctl, "compute1", n=1, prefix="a")
    (b,) = boot_on(admin, ctl, "compute2", n=1, prefix="b")
    assert admin.live_migrate(a, mv="2.80").status_code == 202
    assert admin.live_migrate(b, mv="2.80").status_code == 202
    run_until_status(admin, ctl, a, "running", step=0.1)
    assert admin.migration_of(b)["status"] in ("preparing", "running")
    ctl.settle()
    assert admin.server(a)["OS-EXT-SRV-ATTR:host"] == "compute2"
    assert admin.server(b)["OS-EXT-SRV-ATTR:host"] == "compute1"


# -- deleting a server mid-move (nova bug 1848343) ------------------------------------------
def test_delete_during_migration_leaks_nothing(admin, ctl, active_server):
    sid, src = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    mig = run_until_status(admin, ctl, sid, "running", step=0.1)
    assert admin.compute("DELETE", f"/servers/{sid}").status_code == 204
    ctl.settle()
    assert admin.allocations(sid) == {}
    assert admin.allocations(mig["uuid"]) == {}
    for rp in admin.providers().values():
        assert all(v == 0 for v in admin.usages(rp["uuid"]).values()), rp["name"]


# -- status filter and force-complete on a paused server ----------------------------------
def test_status_filter_migrating(admin, ctl, active_server):
    sid, _ = active_server
    other_sid = admin.boot("idle")
    ctl.settle()
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    run_until_status(admin, ctl, sid, "running", step=0.1)
    assert [s["id"] for s in admin.servers_detail(status="MIGRATING")] == [sid]
    assert [s["id"] for s in admin.servers_detail(status="ACTIVE")] == [other_sid]
    ctl.settle()
    assert admin.servers_detail(status="MIGRATING") == []


def test_force_complete_paused_server_is_409(admin, ctl, active_server):
    # live_migrate_force_complete: check_instance_state(vm_state=[ACTIVE], task_state=[MIGRATING])
    sid, _ = active_server
    assert admin.action(sid, {"pause": None}).status_code == 202
    ctl.settle()
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    mig = run_until_status(admin, ctl, sid, "running", step=0.1)
    resp = admin.compute(
        "POST",
        f"/servers/{sid}/migrations/{mig['id']}/action",
        mv="2.22",
        json={"force_complete": None},
    )
    assert nova_error(resp, 409) == (
        f"Cannot 'force_complete' instance {sid} while it is in vm_state paused"
    )
    ctl.settle()
    assert admin.server(sid)["status"] == "PAUSED"


# -- nova bug 1718455 emulation ------------------------------------------------------------
@pytest.fixture(scope="module")
def buggy_cloud():
    from .conftest import start_fake_cloud

    c = start_fake_cloud(computes=3, clock="manual", emulate_bugs=("1718455",))
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def buggy(buggy_cloud):
    buggy_cloud.control.reset()
    from .helpers import Api

    return Api(buggy_cloud, admin=True)


def _pair(api, ctl):
    resp = api.create_server("pair", min_count=2, max_count=2, return_reservation_id=True)
    assert resp.status_code == 202, resp.text
    ctl.settle()
    servers = api.servers_detail(reservation_id=resp.json()["reservation_id"])
    assert [s["status"] for s in servers] == ["ACTIVE", "ACTIVE"]
    return servers[0]["id"], servers[0]["OS-EXT-SRV-ATTR:host"]


def test_bug_1718455_sync_no_valid_host(buggy, buggy_cloud):
    ctl = buggy_cloud.control
    sid, src = _pair(buggy, ctl)
    resp = buggy.live_migrate(sid, mv="2.30")
    assert nova_error(resp, 400) == (
        "No valid host was found. There are not enough hosts available."
    )
    ctl.settle()
    srv = buggy.server(sid)
    assert (srv["status"], srv["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
    assert srv["OS-EXT-SRV-ATTR:host"] == src
    assert [m["status"] for m in buggy.migrations(instance_uuid=sid)] == ["error"]


def test_bug_1718455_async_migration_error(buggy, buggy_cloud):
    ctl = buggy_cloud.control
    sid, src = _pair(buggy, ctl)
    assert buggy.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    assert [m["status"] for m in buggy.migrations(instance_uuid=sid)] == ["error"]
    assert buggy.server(sid)["OS-EXT-SRV-ATTR:host"] == src
    rp = buggy.providers()[src]["uuid"]
    assert alloc_resources_by_rp(buggy.allocations(sid)) == {rp: TINY}


def test_bug_1718455_single_server_unaffected(buggy, buggy_cloud):
    ctl = buggy_cloud.control
    sid = buggy.boot("single")
    ctl.settle()
    src = buggy.server(sid)["OS-EXT-SRV-ATTR:host"]
    assert buggy.live_migrate(sid, mv="2.30").status_code == 202
    ctl.settle()
    assert buggy.server(sid)["OS-EXT-SRV-ATTR:host"] != src
    assert buggy.migration_of(sid)["status"] == "completed"


# -- more in-flight semantics ------------------------------------------------------------------
def test_host_field_and_host_filter_stay_on_source_while_moving(admin, ctl, active_server):
    # instance.host changes only in post_live_migration_at_destination
    sid, src = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    run_until_status(admin, ctl, sid, "running", step=0.1)
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == src
    assert [s["id"] for s in admin.servers_detail(host=src)] == [sid]
    assert admin.servers_detail(host=other(src)) == []
    ctl.settle()
    assert [s["id"] for s in admin.servers_detail(host=other(src))] == [sid]


def test_queued_migration_already_holds_both_allocations(admin, ctl):
    # the conductor swaps the source allocation to the migration consumer and the
    # scheduler claims the destination before the compute queues the migration
    s1, s2 = boot_on(admin, ctl, "compute1", n=2)
    rps = admin.providers()
    assert admin.live_migrate(s1, mv="2.80").status_code == 202
    assert admin.live_migrate(s2, mv="2.80").status_code == 202
    run_until_status(admin, ctl, s1, "running", step=0.1)
    m2 = admin.migration_of(s2)
    assert m2["status"] == "queued"
    assert alloc_resources_by_rp(admin.allocations(m2["uuid"])) == {rps["compute1"]["uuid"]: TINY}
    assert alloc_resources_by_rp(admin.allocations(s2)) == {rps["compute2"]["uuid"]: TINY}
    assert admin.usages(rps["compute1"]["uuid"])["VCPU"] == 2
    assert admin.usages(rps["compute2"]["uuid"])["VCPU"] == 2


def test_delete_during_queued_migration_leaks_nothing(admin, ctl):
    s1, s2 = boot_on(admin, ctl, "compute1", n=2)
    assert admin.live_migrate(s1, mv="2.80").status_code == 202
    assert admin.live_migrate(s2, mv="2.80").status_code == 202
    run_until_status(admin, ctl, s1, "running", step=0.1)
    m2 = admin.migration_of(s2)
    assert m2["status"] == "queued"
    assert admin.compute("DELETE", f"/servers/{s2}").status_code == 204
    ctl.settle()
    assert admin.allocations(s2) == {}
    assert admin.allocations(m2["uuid"]) == {}
    rps = admin.providers()
    assert admin.usages(rps["compute1"]["uuid"]).get("VCPU", 0) == 0
    assert admin.usages(rps["compute2"]["uuid"])["VCPU"] == 1
    assert admin.server(s1)["OS-EXT-SRV-ATTR:host"] == "compute2"


def test_admin_migrating_member_server_owns_the_record(admin, member, ctl):
    # Migration.user_id/project_id come from the request context (nova/objects/migration.py)
    sid = member.boot("mine")
    ctl.settle()
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    mig = admin.migration_of(sid)
    assert mig["status"] == "completed"
    assert (mig["user_id"], mig["project_id"]) == (admin.user_id, admin.project_id)
    assert admin.migrations(project_id=member.project_id) == []
    assert admin.server(sid)["status"] == "ACTIVE"


def test_hypervisor_hostname_follows_host(admin, ctl, active_server):
    sid, src = active_server
    before = admin.server(sid)["OS-EXT-SRV-ATTR:hypervisor_hostname"]
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    after = admin.server(sid)
    assert after["OS-EXT-SRV-ATTR:host"] == other(src)
    assert after["OS-EXT-SRV-ATTR:hypervisor_hostname"] != before
    mig = admin.migration_of(sid)
    assert mig["dest_node"] == after["OS-EXT-SRV-ATTR:hypervisor_hostname"]
    assert mig["source_node"] == before


def test_action_request_id_matches_response_header(admin, ctl, active_server):
    sid, _ = active_server
    resp = admin.live_migrate(sid, mv="2.80")
    assert resp.status_code == 202
    req_id = resp.headers["x-openstack-request-id"]
    assert req_id.startswith("req-")
    ctl.settle()
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()
    lm = [a for a in actions["instanceActions"] if a["action"] == "live-migration"]
    assert [a["request_id"] for a in lm] == [req_id]


def test_server_pinned_to_az_stays_in_it(admin, ctl):
    # an AZ requested at boot is kept in the RequestSpec; moves are scheduled inside it
    ctl.add_host("compute3", zone="az2")
    ctl.add_host("compute4", zone="az2")
    sid = admin.boot("zoned", availability_zone="az2")
    ctl.settle()
    src = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
    assert src in ("compute3", "compute4")
    resp = admin.live_migrate(sid, host="compute1", mv="2.30")
    assert nova_error(resp, 400).startswith("No valid host was found.")
    assert admin.live_migrate(sid, mv="2.30").status_code == 202
    ctl.settle()
    srv = admin.server(sid)
    assert srv["OS-EXT-SRV-ATTR:host"] == ({"compute3", "compute4"} - {src}).pop()
    assert srv["OS-EXT-AZ:availability_zone"] == "az2"


def test_error_server_cannot_live_migrate(admin, ctl):
    for h in ("compute1", "compute2"):
        update_service(admin, h, status="disabled")
    sid = admin.boot("broken")
    ctl.settle()
    for h in ("compute1", "compute2"):
        update_service(admin, h, status="enabled")
    assert admin.server(sid)["status"] == "ERROR"
    resp = admin.live_migrate(sid, mv="2.80")
    assert nova_error(resp, 409) == (
        f"Cannot 'os-migrateLive' instance {sid} while it is in vm_state error"
    )


# -- conductor pre-checks (nova/conductor/tasks/live_migrate.py _execute) -------------------
def test_source_host_down_sync_400(admin, ctl, active_server):
    sid, src = active_server
    update_service(admin, src, forced_down=True)
    resp = admin.live_migrate(sid, mv="2.30")
    assert nova_error(resp, 400) == f"Compute service of {src} is unavailable at this time."
    ctl.settle()
    _assert_back_on_source(admin, sid, src)


def test_source_host_down_async_error(admin, ctl, active_server):
    sid, src = active_server
    update_service(admin, src, forced_down=True)
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    _assert_back_on_source(admin, sid, src)
    assert [m["status"] for m in admin.migrations(instance_uuid=sid)] == ["error"]


def test_forced_to_host_without_memory_sync_400(admin, ctl, active_server):
    sid, src = active_server
    ctl.add_host("compute-small", vcpus=1, memory_mb=256, disk_gb=1)
    resp = admin.live_migrate(sid, host="compute-small", mv="2.30", force=True)
    msg = nova_error(resp, 400)
    assert msg.startswith(
        f"Migration pre-check error: Unable to migrate {sid} to compute-small: Lack of memory"
    ), msg
    ctl.settle()
    _assert_back_on_source(admin, sid, src)


def test_forced_to_self_async_at_2_67(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=src, mv="2.67", force=True)
    assert resp.status_code == 202, resp.text
    ctl.settle()
    _assert_back_on_source(admin, sid, src)
    assert [m["status"] for m in admin.migrations(instance_uuid=sid)] == ["error"]


def test_unpinned_server_takes_destination_az(admin, ctl):
    (sid,) = boot_on(admin, ctl, "compute1", n=1)
    ctl.add_host("compute3", zone="az2")
    assert admin.server(sid)["OS-EXT-AZ:availability_zone"] == "nova"
    assert admin.live_migrate(sid, host="compute3", mv="2.80").status_code == 202
    ctl.settle()
    srv = admin.server(sid)
    assert srv["OS-EXT-SRV-ATTR:host"] == "compute3"
    assert srv["OS-EXT-AZ:availability_zone"] == "az2"


@pytest.mark.parametrize("block", [True, False, "True", "false"])
def test_block_migration_booleans_accepted(admin, ctl, active_server, block):
    sid, src = active_server
    assert admin.live_migrate(sid, mv="2.25", block_migration=block).status_code == 202
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


@pytest.mark.parametrize(
    "action,name", [("pause", "pause"), ("os-stop", "stop"), ("suspend", "suspend")]
)
def test_state_changes_rejected_while_migrating(admin, ctl, active_server, action, name):
    sid, _ = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    run_until_status(admin, ctl, sid, "running", step=0.1)
    resp = admin.action(sid, {action: None})
    assert nova_error(resp, 409) == (
        f"Cannot '{name}' instance {sid} while it is in task_state migrating"
    )
    ctl.settle()
    assert admin.server(sid)["status"] == "ACTIVE"


def test_sync_precheck_failure_recorded_in_instance_action(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=src, mv="2.30")
    nova_error(resp, 400)
    ctl.settle()
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()
    lm = [a for a in actions["instanceActions"] if a["action"] == "live-migration"]
    assert len(lm) == 1
    detail = admin.compute(
        "GET", f"/servers/{sid}/os-instance-actions/{lm[0]['request_id']}"
    ).json()["instanceAction"]
    events = {e["event"]: e for e in detail["events"]}
    assert events["conductor_migrate_server"]["result"] == "Error"


def test_unknown_host_records_no_action(admin, ctl, active_server):
    # ComputeHostNotFound is raised before _record_action_start
    sid, _ = active_server
    nova_error(admin.live_migrate(sid, host="nope", mv="2.80"), 400)
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()
    assert [a["action"] for a in actions["instanceActions"]] == ["create"]


# -- below 2.30 a named host is forced (compute/api.py: only `force is False` makes it a hint) ---
def test_tempest_style_2_1_named_host(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(
        sid, host=other(src), mv="2.1", block_migration=False, disk_over_commit=False
    )
    assert resp.status_code == 202, resp.text
    ctl.settle()
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", other(src))


def test_named_host_below_2_30_bypasses_scheduler(admin, ctl, active_server):
    sid, src = active_server
    update_service(admin, other(src), status="disabled", disabled_reason="maint")
    resp = admin.live_migrate(sid, host=other(src), mv="2.29")
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


def test_named_source_below_2_30_is_unable_to_migrate_to_self(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.live_migrate(sid, host=src, mv="2.29")
    assert nova_error(resp, 400) == (f"Unable to migrate instance ({sid}) to current host ({src}).")
