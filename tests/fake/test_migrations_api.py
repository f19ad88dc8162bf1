"""os-migrations, /servers/{id}/migrations, abort and force-complete.

Sources: nova/api/openstack/compute/migrations.py, server_migrations.py,
nova/compute/api.py (live_migrate_abort, live_migrate_force_complete),
doc/api_samples/os-migrations/*, doc/api_samples/server-migrations/*.
"""

from __future__ import annotations

import pytest

from .helpers import alloc_resources_by_rp, nova_error
from .lm import TINY, boot_on, other, run_until_status

SERVER_MIG_223 = {
    "created_at",
    "dest_compute",
    "dest_host",
    "dest_node",
    "disk_processed_bytes",
    "disk_remaining_bytes",
    "disk_total_bytes",
    "id",
    "memory_processed_bytes",
    "memory_remaining_bytes",
    "memory_total_bytes",
    "server_uuid",
    "source_compute",
    "source_node",
    "status",
    "updated_at",
}
OS_MIG_21 = {
    "created_at",
    "dest_compute",
    "dest_host",
    "dest_node",
    "id",
    "instance_uuid",
    "new_instance_type_id",
    "old_instance_type_id",
    "source_compute",
    "source_node",
    "status",
    "updated_at",
}


def _finished(admin, ctl, sid):
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    mig = admin.migration_of(sid)
    assert mig["status"] == "completed"
    return mig


def _running(admin, ctl, sid):
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    return run_until_status(admin, ctl, sid, "running", step=0.1)


# -- os-migrations ------------------------------------------------------------------------
def test_os_migrations_shape_2_1(admin, ctl, active_server):
    sid, _ = active_server
    _finished(admin, ctl, sid)
    migs = admin.migrations(mv="2.1")
    assert len(migs) == 1
    assert set(migs[0]) == OS_MIG_21


def test_os_migrations_shape_2_23_links_only_in_progress(admin, ctl, active_server):
    sid, _ = active_server
    mig = _running(admin, ctl, sid)
    (m,) = admin.migrations(mv="2.23")
    assert set(m) == OS_MIG_21 | {"migration_type", "links"}
    assert m["migration_type"] == "live-migration"
    self_link = next(lk["href"] for lk in m["links"] if lk["rel"] == "self")
    assert self_link.endswith(f"/servers/{sid}/migrations/{mig['id']}")
    ctl.settle()
    (m,) = admin.migrations(mv="2.23")
    assert set(m) == OS_MIG_21 | {"migration_type"}


def test_os_migrations_shape_2_59_and_2_80(admin, ctl, active_server):
    sid, _ = active_server
    _finished(admin, ctl, sid)
    (m59,) = admin.migrations(mv="2.59")
    assert set(m59) == OS_MIG_21 | {"migration_type", "uuid"}
    (m80,) = admin.migrations(mv="2.80")
    assert set(m80) == OS_MIG_21 | {"migration_type", "uuid", "user_id", "project_id"}


def test_os_migrations_filters(admin, ctl):
    a, b = boot_on(admin, ctl, "compute1", n=2)
    (c,) = boot_on(admin, ctl, "compute2", n=1, prefix="c")
    for sid in (a, c):
        _finished(admin, ctl, sid)
    assert admin.live_migrate(b, host="compute1", mv="2.30").status_code == 400  # error record
    assert {m["instance_uuid"] for m in admin.migrations(instance_uuid=a)} == {a}
    assert {m["instance_uuid"] for m in admin.migrations(status="completed")} == {a, c}
    assert {m["instance_uuid"] for m in admin.migrations(status="error")} == {b}
    assert {m["instance_uuid"] for m in admin.migrations(source_compute="compute2")} == {c}
    # host matches source or destination (b's failed record has no destination:
    # a non-forced host is only a scheduler hint, nova/compute/api.py live_migrate)
    assert {m["instance_uuid"] for m in admin.migrations(host="compute2")} == {a, c}
    assert {m["instance_uuid"] for m in admin.migrations(host="compute1")} == {a, b, c}
    assert admin.migrations(migration_type="resize") == []
    assert len(admin.migrations(migration_type="live-migration")) == 3
    assert {m["instance_uuid"] for m in admin.migrations(user_id=admin.user_id)} == {a, b, c}
    assert admin.migrations(project_id="no-such-project") == []


def test_os_migrations_sorted_newest_first_and_paged(admin, ctl):
    a, b = boot_on(admin, ctl, "compute1", n=2)
    _finished(admin, ctl, a)
    ctl.advance(5)
    _finished(admin, ctl, b)
    migs = admin.migrations(mv="2.59")
    assert [m["instance_uuid"] for m in migs] == [b, a]
    page = admin.compute("GET", "/os-migrations", mv="2.59", params={"limit": 1}).json()
    assert [m["instance_uuid"] for m in page["migrations"]] == [b]
    assert any(lk["rel"] == "next" for lk in page["migrations_links"])
    nxt = admin.compute(
        "GET", "/os-migrations", mv="2.59", params={"marker": migs[0]["uuid"]}
    ).json()
    assert [m["instance_uuid"] for m in nxt["migrations"]] == [a]


def test_os_migrations_bad_marker_400(admin):
    resp = admin.compute(
        "GET",
        "/os-migrations",
        mv="2.59",
        params={"marker": "00000000-0000-0000-0000-000000000000"},
    )
    # nova.exception.MarkerNotFound
    assert (
        nova_error(resp, 400) == "Marker 00000000-0000-0000-0000-000000000000 could not be found."
    )


def test_os_migrations_forbidden_for_member(member):
    resp = member.compute("GET", "/os-migrations", mv="2.80")
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-migrations:index to be performed."
    )


# -- /servers/{id}/migrations ----------------------------------------------------------------
def test_server_migrations_in_progress_only(admin, ctl, active_server):
    sid, src = active_server
    mig = _running(admin, ctl, sid)
    resp = admin.compute("GET", f"/servers/{sid}/migrations", mv="2.23")
    assert resp.status_code == 200
    (m,) = resp.json()["migrations"]
    assert set(m) == SERVER_MIG_223
    assert m["id"] == mig["id"] and m["server_uuid"] == sid and m["status"] == "running"
    assert m["source_compute"] == src and m["dest_compute"] == other(src)
    one = admin.compute("GET", f"/servers/{sid}/migrations/{mig['id']}", mv="2.23")
    assert one.status_code == 200
    assert set(one.json()["migration"]) == SERVER_MIG_223
    ctl.settle()
    resp = admin.compute("GET", f"/servers/{sid}/migrations", mv="2.23")
    assert resp.json()["migrations"] == []
    one = admin.compute("GET", f"/servers/{sid}/migrations/{mig['id']}", mv="2.23")
    assert nova_error(one, 404) == (
        f"Live migration {mig['id']} for server {sid} is not in progress."
    )


def test_server_migrations_shapes_2_59_2_80(admin, ctl, active_server):
    sid, _ = active_server
    mig = _running(admin, ctl, sid)
    (m59,) = admin.compute("GET", f"/servers/{sid}/migrations", mv="2.59").json()["migrations"]
    assert set(m59) == SERVER_MIG_223 | {"uuid"}
    assert m59["uuid"] == mig["uuid"]
    (m80,) = admin.compute("GET", f"/servers/{sid}/migrations", mv="2.80").json()["migrations"]
    assert set(m80) == SERVER_MIG_223 | {"uuid", "user_id", "project_id"}


def test_server_migration_unknown_id_404(admin, ctl, active_server):
    sid, _ = active_server
    _running(admin, ctl, sid)
    resp = admin.compute("GET", f"/servers/{sid}/migrations/99999", mv="2.23")
    assert nova_error(resp, 404) == (
        f"In-progress live migration 99999 is not found for server {sid}."
    )


def test_server_migrations_requires_2_23(admin, active_server):
    sid, _ = active_server
    nova_error(admin.compute("GET", f"/servers/{sid}/migrations", mv="2.22"), 404)


# -- abort ---------------------------------------------------------------------------------
def test_abort_running_rolls_back(admin, ctl, active_server):
    sid, src = active_server
    mig = _running(admin, ctl, sid)
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/{mig['id']}", mv="2.24")
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.migration_of(sid)["status"] == "cancelled"
    srv = admin.server(sid)
    assert srv["status"] == "ACTIVE" and srv["OS-EXT-STS:task_state"] is None
    assert srv["OS-EXT-SRV-ATTR:host"] == src
    src_rp = admin.providers()[src]["uuid"]
    assert alloc_resources_by_rp(admin.allocations(sid)) == {src_rp: TINY}
    assert admin.allocations(mig["uuid"]) == {}
    dst_rp = admin.providers()[other(src)]["uuid"]
    assert admin.usages(dst_rp).get("VCPU", 0) == 0
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()
    assert "live_migration_cancel" in [a["action"] for a in actions["instanceActions"]]


def test_abort_below_2_24_is_404(admin, ctl, active_server):
    sid, _ = active_server
    mig = _running(admin, ctl, sid)
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/{mig['id']}", mv="2.23")
    nova_error(resp, 404)


def _queued_second(admin, ctl):
    s1, s2 = boot_on(admin, ctl, "compute1", n=2)
    assert admin.live_migrate(s1, mv="2.80").status_code == 202
    assert admin.live_migrate(s2, mv="2.80").status_code == 202
    run_until_status(admin, ctl, s1, "running", step=0.1)
    m2 = admin.migration_of(s2)
    assert m2["status"] == "queued"
    return s1, s2, m2


def test_abort_queued_before_2_65_is_400(admin, ctl):
    _, s2, m2 = _queued_second(admin, ctl)
    resp = admin.compute("DELETE", f"/servers/{s2}/migrations/{m2['id']}", mv="2.64")
    assert nova_error(resp, 400) == (
        f"Migration {m2['id']} state of instance {s2} is queued. "
        "Cannot abort live migration while the migration is in this state."
    )


def test_abort_queued_from_2_65(admin, ctl):
    s1, s2, m2 = _queued_second(admin, ctl)
    resp = admin.compute("DELETE", f"/servers/{s2}/migrations/{m2['id']}", mv="2.65")
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.migration_of(s2)["status"] == "cancelled"
    assert admin.server(s2)["OS-EXT-SRV-ATTR:host"] == "compute1"
    assert admin.server(s2)["OS-EXT-STS:task_state"] is None
    rp1 = admin.providers()["compute1"]["uuid"]
    assert alloc_resources_by_rp(admin.allocations(s2)) == {rp1: TINY}
    assert admin.allocations(m2["uuid"]) == {}
    assert admin.migration_of(s1)["status"] == "completed"


def test_abort_preparing_before_2_65_is_400(admin, ctl, active_server):
    sid, _ = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    mig = run_until_status(admin, ctl, sid, "preparing", step=0.05)
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/{mig['id']}", mv="2.24")
    assert "is preparing. Cannot abort live migration" in nova_error(resp, 400)


def test_abort_when_server_not_migrating_is_409(admin, ctl, active_server):
    sid, _ = active_server
    mig = _finished(admin, ctl, sid)
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/{mig['id']}", mv="2.65")
    # raise_http_conflict_for_instance_invalid_state: no state (None) -> "invalid state"
    assert nova_error(resp, 409) == (
        f"Instance {sid} is in an invalid state for 'abort live migration'"
    )


def test_abort_unknown_migration_404(admin, ctl, active_server):
    sid, _ = active_server
    _running(admin, ctl, sid)
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/99999", mv="2.24")
    assert nova_error(resp, 404) == f"Migration 99999 not found for instance {sid}"


# -- force complete ---------------------------------------------------------------------------
def _force_complete(admin, sid, mid, mv="2.22"):
    return admin.compute(
        "POST", f"/servers/{sid}/migrations/{mid}/action", mv=mv, json={"force_complete": None}
    )


def test_force_complete_running(admin, ctl, active_server):
    sid, src = active_server
    mig = _running(admin, ctl, sid)
    resp = _force_complete(admin, sid, mig["id"])
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.migration_of(sid)["status"] == "completed"
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()
    assert "live_migration_force_complete" in [a["action"] for a in actions["instanceActions"]]


def test_force_complete_queued_is_400(admin, ctl):
    _, s2, m2 = _queued_second(admin, ctl)
    resp = _force_complete(admin, s2, m2["id"])
    assert nova_error(resp, 400) == (
        f"Migration {m2['id']} state of instance {s2} is queued. "
        "Cannot force complete while the migration is in this state."
    )


def test_force_complete_when_not_migrating_is_409(admin, ctl, active_server):
    sid, _ = active_server
    mig = _finished(admin, ctl, sid)
    resp = _force_complete(admin, sid, mig["id"])
    assert nova_error(resp, 409) == f"Instance {sid} is in an invalid state for 'force_complete'"


def test_force_complete_below_2_22_is_404(admin, ctl, active_server):
    sid, _ = active_server
    mig = _running(admin, ctl, sid)
    nova_error(_force_complete(admin, sid, mig["id"], mv="2.21"), 404)


def test_force_complete_unknown_migration_400(admin, ctl, active_server):
    sid, _ = active_server
    _running(admin, ctl, sid)
    resp = _force_complete(admin, sid, 99999)
    assert nova_error(resp, 400) == f"Migration 99999 not found for instance {sid}"


@pytest.mark.parametrize("path_suffix", ["", "/1"])
def test_server_migrations_member_forbidden(member, ctl, path_suffix):
    sid = member.boot("mine")
    ctl.settle()
    resp = member.compute("GET", f"/servers/{sid}/migrations{path_suffix}", mv="2.80")
    rule = "index" if not path_suffix else "show"
    assert nova_error(resp, 403) == (
        f"Policy doesn't allow os_compute_api:servers:migrations:{rule} to be performed."
    )


def test_os_migrations_changes_since_2_59(admin, ctl):
    a, b = boot_on(admin, ctl, "compute1", n=2)
    _finished(admin, ctl, a)
    ctl.advance(120)
    cut = admin.migration_of(a)["updated_at"]
    ctl.advance(60)
    _finished(admin, ctl, b)
    resp = admin.compute("GET", "/os-migrations", mv="2.59", params={"changes-since": cut})
    assert resp.status_code == 200, resp.text
    got = {m["instance_uuid"] for m in resp.json()["migrations"]}
    assert b in got
    later = admin.migration_of(b)["updated_at"]
    resp = admin.compute("GET", "/os-migrations", mv="2.66", params={"changes-before": cut})
    assert {m["instance_uuid"] for m in resp.json()["migrations"]} == {a}
    resp = admin.compute(
        "GET",
        "/os-migrations",
        mv="2.66",
        params={"changes-since": later, "changes-before": cut},
    )
    assert nova_error(resp, 400) == (
        "The value of changes-since must be less than or equal to changes-before."
    )


def test_new_migration_after_abort(admin, ctl, active_server):
    sid, src = active_server
    mig = _running(admin, ctl, sid)
    assert (
        admin.compute("DELETE", f"/servers/{sid}/migrations/{mig['id']}", mv="2.24").status_code
        == 202
    )
    ctl.settle()
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    migs = sorted(admin.migrations(instance_uuid=sid), key=lambda m: m["id"])
    assert [m["status"] for m in migs] == ["cancelled", "completed"]
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


def test_abort_preparing_from_2_65_cancels_after_pre_live_migration(admin, ctl, active_server):
    # nova/compute/manager.py _do_live_migration: the waiting entry is gone, so the
    # migration is rolled back with status 'cancelled' once pre_live_migration returns
    sid, src = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    mig = run_until_status(admin, ctl, sid, "preparing", step=0.05)
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/{mig['id']}", mv="2.65")
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.migration_of(sid)["status"] == "cancelled"
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
    assert srv["OS-EXT-SRV-ATTR:host"] == src
    src_rp = admin.providers()[src]["uuid"]
    assert alloc_resources_by_rp(admin.allocations(sid)) == {src_rp: TINY}
    assert admin.allocations(mig["uuid"]) == {}


def test_force_complete_preparing_is_400(admin, ctl, active_server):
    sid, _ = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    mig = run_until_status(admin, ctl, sid, "preparing", step=0.05)
    resp = _force_complete(admin, sid, mig["id"])
    assert nova_error(resp, 400) == (
        f"Migration {mig['id']} state of instance {sid} is preparing. "
        "Cannot force complete while the migration is in this state."
    )


def _events_of(admin, sid, action_name):
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()
    (act,) = [a for a in actions["instanceActions"] if a["action"] == action_name]
    detail = admin.compute("GET", f"/servers/{sid}/os-instance-actions/{act['request_id']}")
    return {e["event"]: e for e in detail.json()["instanceAction"]["events"]}


def test_abort_and_force_complete_events(admin, ctl):
    (a,) = boot_on(admin, ctl, "compute1", n=1, prefix="a")
    (b,) = boot_on(admin, ctl, "compute2", n=1, prefix="b")
    ma, mb = _running(admin, ctl, a), _running(admin, ctl, b)
    assert (
        admin.compute("DELETE", f"/servers/{a}/migrations/{ma['id']}", mv="2.24").status_code == 202
    )
    assert _force_complete(admin, b, mb["id"]).status_code == 202
    ctl.settle()
    ev = _events_of(admin, a, "live_migration_cancel")
    assert ev["compute_live_migration_abort"]["result"] == "Success"
    ev = _events_of(admin, b, "live_migration_force_complete")
    assert ev["compute_live_migration_force_complete"]["result"] == "Success"
