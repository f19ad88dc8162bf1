"""Evacuation, as nova/compute/api.py evacuate, nova/conductor/manager.py
rebuild_instance, nova/compute/manager.py rebuild_instance and
_destroy_evacuated_instances, and nova/api/openstack/compute/evacuate.py do it."""

from __future__ import annotations

from .helpers import nova_error
from .lm import TINY, compute_services, other, update_service


def evacuation_of(admin, sid) -> dict:
    migs = [m for m in admin.migrations(instance_uuid=sid) if m["migration_type"] == "evacuation"]
    assert migs, f"no evacuation record for {sid}"
    return max(migs, key=lambda m: m["id"])


def held(admin, consumer) -> dict:
    return {k: v["resources"] for k, v in admin.allocations(consumer).items()}


def kill(ctl, host):
    ctl.set_host_alive(host, False)
    ctl.advance(61)  # service_down_time


def test_refused_while_the_source_compute_is_up(admin, active_server):
    sid, src = active_server
    msg = nova_error(admin.action(sid, {"evacuate": {}}), 400)
    assert msg == f"Compute service of {src} is still in use."
    assert admin.migrations(instance_uuid=sid) == []
    assert admin.server(sid)["OS-EXT-STS:task_state"] is None


def test_admin_only(member, ctl):
    sid = member.boot("mine")
    ctl.settle()
    msg = nova_error(member.action(sid, {"evacuate": {}}), 403)
    assert msg == "Policy doesn't allow os_compute_api:os-evacuate to be performed."


def test_evacuation_rebuilds_on_another_host_and_the_source_cleans_up(admin, ctl, active_server):
    sid, src = active_server
    dst = other(src)
    kill(ctl, src)
    resp = admin.action(sid, {"evacuate": {}}, mv="2.94")  # 2.95+ leaves it stopped
    assert resp.status_code == 200, resp.text
    assert resp.content in (b"", b"null")
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-STS:task_state"]) == ("REBUILD", "rebuilding")
    assert evacuation_of(admin, sid)["status"] == "accepted"
    ctl.settle()
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", dst)
    mig = evacuation_of(admin, sid)
    assert (mig["status"], mig["source_compute"], mig["dest_compute"]) == ("done", src, dst)
    # until the source compute cleans up, the server's consumer holds both hosts
    assert held(admin, sid) == {admin.rp_uuid(src): TINY, admin.rp_uuid(dst): TINY}
    ctl.set_host_alive(src, True)
    assert evacuation_of(admin, sid)["status"] == "completed"
    assert held(admin, sid) == {admin.rp_uuid(dst): TINY}
    history = [h["status"] for h in ctl.migration_history(mig["id"])]
    assert history == ["accepted", "pre-migrating", "done", "completed"]


def test_forced_down_service_counts_as_down(admin, ctl, active_server):
    sid, src = active_server
    ctl.set_host_alive(src, False)
    update_service(admin, src, forced_down=True)
    assert admin.action(sid, {"evacuate": {}}, mv="2.94").status_code == 200
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


def test_no_valid_host_errors_the_migration_and_leaves_the_server_on_the_source(
    admin, ctl, active_server
):
    sid, src = active_server
    kill(ctl, src)
    update_service(admin, other(src), status="disabled")
    assert admin.action(sid, {"evacuate": {}}, mv="2.94").status_code == 200
    ctl.settle()
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("ERROR", src)
    assert evacuation_of(admin, sid)["status"] == "error"
    assert held(admin, sid) == {admin.rp_uuid(src): TINY}
    ctl.set_host_alive(src, True)  # nothing to clean up: the migration is not 'accepted'
    assert held(admin, sid) == {admin.rp_uuid(src): TINY}


def test_failed_rebuild_on_the_destination(admin, ctl, active_server):
    sid, src = active_server
    kill(ctl, src)
    ctl.add_fault("rebuild", "error", host=other(src))
    admin.action(sid, {"evacuate": {}})
    ctl.settle()
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("ERROR", src)
    assert evacuation_of(admin, sid)["status"] == "failed"
    assert held(admin, sid) == {admin.rp_uuid(src): TINY}


def test_schema_per_microversion_and_target_host_checks(admin, ctl, active_server):
    sid, src = active_server
    kill(ctl, src)
    assert "'onSharedStorage' is a required property" in nova_error(
        admin.action(sid, {"evacuate": {}}, mv="2.13"), 400
    )
    assert "Additional properties" in nova_error(
        admin.action(sid, {"evacuate": {"force": True, "host": other(src)}}, mv="2.68"), 400
    )
    assert nova_error(admin.action(sid, {"evacuate": {"host": "nowhere"}}), 404) == (
        "Compute host nowhere not found."
    )
    assert nova_error(admin.action(sid, {"evacuate": {"host": src}}), 400) == (
        "The target host can't be the same one."
    )
    resp = admin.action(sid, {"evacuate": {"onSharedStorage": False}}, mv="2.13")
    assert resp.status_code == 200, resp.text
    assert set(resp.json()) == {"adminPass"}


def test_stopped_server_and_2_95_stay_stopped(admin, ctl, active_server):
    sid, src = active_server
    kill(ctl, src)
    assert admin.action(sid, {"evacuate": {}}, mv="2.95").status_code == 200
    ctl.settle()
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("SHUTOFF", other(src))
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()["instanceActions"]
    assert actions[0]["action"] == "evacuate"
    body = admin.compute("GET", f"/servers/{sid}/os-instance-actions/{actions[0]['request_id']}")
    events = [(e["event"], e["result"]) for e in body.json()["instanceAction"]["events"]]
    assert events == [
        ("compute_rebuild_instance", "Success"),
        ("conductor_rebuild_instance", "Success"),
    ]


def test_force_up_is_refused_only_for_the_source_of_a_live_done_evacuation(
    admin, ctl, active_server
):
    """services.py's update (the fix of bug 1922053) looks up the migrations with
    source_compute=<host>, status done, type evacuation, not deleted: only the source of
    such a record is refused; its destination, a record not done (accepted, completed)
    and one soft-deleted with its server are not."""
    sid, src = active_server
    dst = other(src)
    refused = "Unable to force up host {} as `done` evacuation migration records remain"

    def force_up(host):
        return admin.compute(
            "PUT",
            f"/os-services/{compute_services(admin)[host]['id']}",
            mv="2.53",
            json={"forced_down": False},
        )

    kill(ctl, src)
    update_service(admin, src, forced_down=True)
    assert admin.action(sid, {"evacuate": {}}, mv="2.94").status_code == 200
    assert evacuation_of(admin, sid)["status"] == "accepted"
    assert force_up(src).status_code == 200  # accepted, not done yet
    update_service(admin, src, forced_down=True)
    ctl.settle()
    assert evacuation_of(admin, sid)["status"] == "done"
    assert nova_error(force_up(src), 400).startswith(refused.format(src))
    assert compute_services(admin)[src]["forced_down"] is True  # nothing saved
    update_service(admin, dst, forced_down=True)
    assert force_up(dst).status_code == 200  # the destination of the record is not held
    assert admin.compute("DELETE", f"/servers/{sid}").status_code == 204
    ctl.settle()
    assert force_up(src).status_code == 200  # the record went with its server


def test_force_up_after_the_source_compute_completed_its_evacuations(admin, ctl, active_server):
    sid, src = active_server
    kill(ctl, src)
    update_service(admin, src, forced_down=True)
    assert admin.action(sid, {"evacuate": {}}, mv="2.94").status_code == 200
    ctl.settle()
    ctl.set_host_alive(src, True)  # init_host: _destroy_evacuated_instances
    assert evacuation_of(admin, sid)["status"] == "completed"
    assert update_service(admin, src, forced_down=False)["forced_down"] is False


def test_an_archived_evacuation_no_longer_holds_its_source():
    """The per-host index forgets a record purged with its deleted server (keep_deleted)."""
    from LiveMigLibrary.fake import FakeCloud

    from .helpers import Api

    cloud = FakeCloud(computes=2, clock="manual", keep_deleted=0).start()
    try:
        admin, ctl = Api(cloud), cloud.control
        sid = admin.boot("evacuee")
        ctl.settle()
        src = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
        kill(ctl, src)
        update_service(admin, src, forced_down=True)
        assert admin.action(sid, {"evacuate": {}}, mv="2.94").status_code == 200
        ctl.settle()
        store = cloud.backend.store
        assert [m.status for m in store.migrations_from_host(src)] == ["done"]
        assert admin.compute("DELETE", f"/servers/{sid}").status_code == 204
        ctl.settle()
        assert store.migrations == {} and store.migrations_from_host(src) == []
        assert update_service(admin, src, forced_down=False)["forced_down"] is False
    finally:
        cloud.stop()
