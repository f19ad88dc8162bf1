"""Cold migration, resize, confirmResize and revertResize, as Nova does them.

Expectations come from nova/compute/api.py (resize, confirm_resize,
revert_resize), nova/conductor/tasks/migrate.py, nova/compute/manager.py
(prep_resize, resize_instance, finish_resize, confirm_resize, revert_resize,
finish_revert_resize) and nova/api/openstack/compute/{migrate_server,servers}.py.
"""

from __future__ import annotations

import pytest

from .helpers import advance_until, nova_error
from .lm import TINY, other, update_service

SMALL = {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}


def cold_migration_of(admin, sid) -> dict:
    migs = [
        m
        for m in admin.migrations(instance_uuid=sid)
        if m["migration_type"] in ("migration", "resize")
    ]
    assert migs, f"no cold migration record for {sid}"
    return max(migs, key=lambda m: m["id"])


def watch(admin, ctl, sid, until_status: str):
    """Advance in small steps; every distinct (status, task_state) of the server and
    every status of its cold migration, until the server shows ``until_status``."""
    server_seen, mig_seen = [], []

    def pred():
        srv = admin.server(sid)
        st = (srv["status"], srv["OS-EXT-STS:task_state"])
        if not server_seen or server_seen[-1] != st:
            server_seen.append(st)
        migs = [
            m
            for m in admin.migrations(instance_uuid=sid)
            if m["migration_type"] in ("migration", "resize")
        ]
        if migs:
            ms = max(migs, key=lambda m: m["id"])["status"]
            if not mig_seen or mig_seen[-1] != ms:
                mig_seen.append(ms)
        return srv["status"] == until_status and srv["OS-EXT-STS:task_state"] is None

    advance_until(ctl, pred, step=0.1, limit=120)
    return server_seen, mig_seen


def test_cold_migration_goes_through_novas_states_to_verify_resize(admin, ctl, active_server):
    sid, src = active_server
    resp = admin.action(sid, {"migrate": None})
    assert resp.status_code == 202, resp.text
    servers, migs = watch(admin, ctl, sid, "VERIFY_RESIZE")
    assert [t for _, t in servers] == [
        "resize_prep",
        "resize_migrating",
        "resize_migrated",
        "resize_finish",
        None,
    ]
    assert {s for s, _ in servers[:-1]} == {"RESIZE"}
    assert migs == ["pre-migrating", "migrating", "post-migrating", "finished"]
    srv = admin.server(sid)
    assert srv["OS-EXT-STS:vm_state"] == "resized"
    assert srv["OS-EXT-SRV-ATTR:host"] == other(src)
    mig = cold_migration_of(admin, sid)
    assert mig["migration_type"] == "migration"
    assert (mig["source_compute"], mig["dest_compute"]) == (src, other(src))
    assert mig["old_instance_type_id"] == mig["new_instance_type_id"]


def test_allocations_during_and_after_confirm(admin, ctl, active_server):
    sid, src = active_server
    dst = other(src)
    admin.action(sid, {"migrate": None})
    watch(admin, ctl, sid, "VERIFY_RESIZE")
    mig = cold_migration_of(admin, sid)
    # the migration consumer holds the source, the server the destination
    assert {k: v["resources"] for k, v in admin.allocations(mig["uuid"]).items()} == {
        admin.rp_uuid(src): TINY
    }
    assert {k: v["resources"] for k, v in admin.allocations(sid).items()} == {
        admin.rp_uuid(dst): TINY
    }
    resp = admin.action(sid, {"confirmResize": None})
    assert resp.status_code == 204, resp.text
    assert cold_migration_of(admin, sid)["status"] == "confirming"
    watch(admin, ctl, sid, "ACTIVE")
    assert cold_migration_of(admin, sid)["status"] == "confirmed"
    assert admin.allocations(mig["uuid"]) == {}
    assert {k: v["resources"] for k, v in admin.allocations(sid).items()} == {
        admin.rp_uuid(dst): TINY
    }
    assert admin.usages(admin.rp_uuid(src)) == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}


def test_resize_up_then_revert_brings_the_old_flavor_and_allocation_back(admin, ctl, active_server):
    sid, src = active_server
    small = admin.flavor_id("m1.small")
    resp = admin.action(sid, {"resize": {"flavorRef": small}})
    assert resp.status_code == 202, resp.text
    watch(admin, ctl, sid, "VERIFY_RESIZE")
    mig = cold_migration_of(admin, sid)
    assert mig["migration_type"] == "resize"
    assert mig["new_instance_type_id"] != mig["old_instance_type_id"]
    srv = admin.server(sid)
    assert srv["flavor"]["original_name"] == "m1.small"
    assert {k: v["resources"] for k, v in admin.allocations(sid).items()} == {
        admin.rp_uuid(other(src)): SMALL
    }
    resp = admin.action(sid, {"revertResize": None})
    assert resp.status_code == 202, resp.text
    assert admin.server(sid)["status"] == "REVERT_RESIZE"
    _, migs = watch(admin, ctl, sid, "ACTIVE")
    assert migs[-2:] == ["reverting", "reverted"]
    srv = admin.server(sid)
    assert srv["OS-EXT-SRV-ATTR:host"] == src
    assert srv["flavor"]["original_name"] == "m1.tiny"
    assert admin.allocations(mig["uuid"]) == {}
    assert {k: v["resources"] for k, v in admin.allocations(sid).items()} == {
        admin.rp_uuid(src): TINY
    }
    assert admin.usages(admin.rp_uuid(other(src))) == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}


def test_instance_actions_and_events_as_nova_records_them(admin, ctl, active_server):
    sid, _ = active_server
    admin.action(sid, {"resize": {"flavorRef": admin.flavor_id("m1.small")}})
    watch(admin, ctl, sid, "VERIFY_RESIZE")
    admin.action(sid, {"confirmResize": None})
    watch(admin, ctl, sid, "ACTIVE")
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in actions][:2] == ["confirmResize", "resize"]
    events = {}
    for a in actions[:2]:
        body = admin.compute("GET", f"/servers/{sid}/os-instance-actions/{a['request_id']}").json()
        events[a["action"]] = [(e["event"], e["result"]) for e in body["instanceAction"]["events"]]
    assert events["resize"] == [
        ("compute_finish_resize", "Success"),
        ("compute_resize_instance", "Success"),
        ("compute_prep_resize", "Success"),
        ("conductor_migrate_server", "Success"),
    ]
    assert events["confirmResize"] == [("compute_confirm_resize", "Success")]


def test_a_shutoff_server_stays_shutoff(admin, ctl, active_server):
    sid, _ = active_server
    admin.action(sid, {"os-stop": None})
    ctl.settle()
    admin.action(sid, {"migrate": None})
    watch(admin, ctl, sid, "VERIFY_RESIZE")
    assert admin.server(sid)["OS-EXT-STS:power_state"] == 4
    admin.action(sid, {"revertResize": None})
    watch(admin, ctl, sid, "SHUTOFF")
    assert admin.server(sid)["OS-EXT-STS:vm_state"] == "stopped"


def test_cold_migrate_to_a_named_host_from_2_56(cloud, admin, ctl):
    cloud.control.add_host("compute3")
    sid = admin.boot("vm")
    ctl.settle()
    src = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
    target = "compute3"
    # before 2.56 the body is not looked at: the scheduler picks (the emptiest, first host)
    assert admin.action(sid, {"migrate": {"host": "compute3"}}, mv="2.55").status_code == 202
    watch(admin, ctl, sid, "VERIFY_RESIZE")
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)
    admin.action(sid, {"revertResize": None})
    watch(admin, ctl, sid, "ACTIVE")
    assert admin.action(sid, {"migrate": {"host": target}}, mv="2.56").status_code == 202
    watch(admin, ctl, sid, "VERIFY_RESIZE")
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == target


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ({"migrate": {"host": "nowhere"}}, 400, "Compute host nowhere could not be found."),
        ({"resize": {"flavorRef": "1"}}, 400, "When resizing, instances must change flavor!"),
        ({"resize": {"flavorRef": "999"}}, 400, "Unable to locate requested flavor."),
        ({"resize": {}}, 400, "'flavorRef' is a required property"),
        ({"confirmResize": None}, 409, "while it is in vm_state active"),
        ({"revertResize": None}, 409, "while it is in vm_state active"),
    ],
)
def test_refusals_before_anything_changes(admin, ctl, active_server, body, code, text):
    sid, _ = active_server
    assert text in nova_error(admin.action(sid, body), code)
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
    assert [m for m in admin.migrations(instance_uuid=sid)] == []


def test_same_host_refusal_and_policy(admin, member, ctl, active_server, cloud):
    sid, src = active_server
    msg = nova_error(admin.action(sid, {"migrate": {"host": src}}), 400)
    assert msg == "Cannot migrate to the host where the server exists."
    mine = member.boot("mine")
    ctl.settle()
    msg = nova_error(member.action(mine, {"migrate": None}), 403)
    assert msg == "Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed."
    # the owner may resize
    resp = member.action(mine, {"resize": {"flavorRef": member.flavor_id("m1.small")}})
    assert resp.status_code == 202, resp.text


def test_resize_to_the_same_host_only_when_allowed(cloud, admin, ctl):
    """One compute: a resize has nowhere to go unless allow_resize_to_same_host."""
    cloud.control.remove_host("compute2")
    sid = admin.boot("vm")
    ctl.settle()
    admin.action(sid, {"resize": {"flavorRef": admin.flavor_id("m1.small")}})
    ctl.settle()
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", "compute1")
    assert cold_migration_of(admin, sid)["status"] == "error"
    cloud.control.set_nova_options(allow_resize_to_same_host=True)
    try:
        admin.action(sid, {"resize": {"flavorRef": admin.flavor_id("m1.small")}})
        watch(admin, ctl, sid, "VERIFY_RESIZE")
        mig = cold_migration_of(admin, sid)
        rp = admin.rp_uuid("compute1")
        # both the old (migration) and the new (server) flavor count on the one host
        assert admin.usages(rp) == {"VCPU": 2, "MEMORY_MB": 2560, "DISK_GB": 21}
        admin.action(sid, {"confirmResize": None})
        ctl.settle()
        assert admin.allocations(mig["uuid"]) == {}
        assert admin.usages(rp) == {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}
        # cold migration never stays: libvirt cannot migrate to its own host
        admin.action(sid, {"migrate": None})
        ctl.settle()
        assert cold_migration_of(admin, sid)["status"] == "error"
    finally:
        cloud.control.set_nova_options(allow_resize_to_same_host=False)


def test_quota_is_checked_for_the_increase(admin, ctl, active_server):
    sid, _ = active_server
    resp = admin.compute(
        "PUT", f"/os-quota-sets/{admin.project_id}", json={"quota_set": {"cores": 1}}
    )
    assert resp.status_code == 200, resp.text
    msg = nova_error(
        admin.action(sid, {"resize": {"flavorRef": admin.flavor_id("m1.medium")}}), 403
    )
    assert msg.startswith("Quota exceeded for cores")


def test_resize_confirm_window_confirms_at_the_next_periodic_run(cloud, admin, ctl, active_server):
    """Nova confirms in the destination's _poll_unconfirmed_resizes, a periodic task run
    every 60 s (oslo.service's default interval), once the migration has been `finished`
    for resize_confirm_window seconds: at the first run after the window, not at its end."""
    sid, _ = active_server
    cloud.control.set_nova_options(resize_confirm_window=30)
    try:
        admin.action(sid, {"migrate": None})
        watch(admin, ctl, sid, "VERIFY_RESIZE")
        finished = ctl.now()  # the record went `finished` within the last 0.1 s
        tick = (int((finished + 30) // 60) + 1) * 60.0  # first run after the window
        assert tick - (finished + 30) > 0.5, "the window ends right at a run: pick another"
        ctl.advance(finished + 30.5 - ctl.now())  # the window has passed ...
        assert admin.server(sid)["status"] == "VERIFY_RESIZE"  # ... but no run since
        ctl.advance(tick - 0.2 - ctl.now())
        assert admin.server(sid)["status"] == "VERIFY_RESIZE"
        ctl.advance(0.4)  # the periodic task runs
        ctl.settle()
        assert admin.server(sid)["status"] == "ACTIVE"
        mig = cold_migration_of(admin, sid)
        assert mig["status"] == "confirmed"
        history = [s["status"] for s in ctl.migration_history(mig["id"])]
        assert history[-2:] == ["confirming", "confirmed"]
    finally:
        cloud.control.set_nova_options(resize_confirm_window=0)


def test_resize_confirm_window_switched_off_before_the_run_confirms_nothing(
    cloud, admin, ctl, active_server
):
    sid, _ = active_server
    cloud.control.set_nova_options(resize_confirm_window=30)
    try:
        admin.action(sid, {"migrate": None})
        watch(admin, ctl, sid, "VERIFY_RESIZE")
        cloud.control.set_nova_options(resize_confirm_window=0)
        ctl.advance(300)
        assert admin.server(sid)["status"] == "VERIFY_RESIZE"
        assert cold_migration_of(admin, sid)["status"] == "finished"
    finally:
        cloud.control.set_nova_options(resize_confirm_window=0)


def test_prep_resize_failure_with_no_alternate_errors_the_migration(admin, ctl, active_server):
    sid, src = active_server
    ctl.add_fault("prep_resize", "error", host=other(src))
    admin.action(sid, {"migrate": None})
    ctl.settle()
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", src)
    mig = cold_migration_of(admin, sid)
    assert mig["status"] == "error"
    assert admin.allocations(mig["uuid"]) == {}
    assert {k: v["resources"] for k, v in admin.allocations(sid).items()} == {
        admin.rp_uuid(src): TINY
    }


def test_prep_resize_failure_reschedules_to_an_alternate(cloud, admin, ctl, active_server):
    sid, src = active_server
    cloud.control.add_host("compute3")
    first = other(src)  # most free RAM ties go to the host created first
    ctl.add_fault("prep_resize", "error", host=first)
    admin.action(sid, {"migrate": None})
    watch(admin, ctl, sid, "VERIFY_RESIZE")
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == "compute3"
    assert {k: v["resources"] for k, v in admin.allocations(sid).items()} == {
        admin.rp_uuid("compute3"): TINY
    }


def test_finish_resize_failure_leaves_the_server_in_error_on_the_destination(
    admin, ctl, active_server
):
    sid, src = active_server
    ctl.add_fault("finish_resize", "error", host=other(src))
    admin.action(sid, {"migrate": None})
    ctl.settle()
    srv = admin.server(sid)
    assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("ERROR", other(src))
    mig = cold_migration_of(admin, sid)
    assert mig["status"] == "error"
    assert admin.allocations(mig["uuid"]) == {}
    assert {k: v["resources"] for k, v in admin.allocations(sid).items()} == {
        admin.rp_uuid(other(src)): TINY
    }


def test_resize_instance_failure_errors_the_server_on_its_source_with_its_allocation(
    admin, ctl, active_server
):
    """nova resize_instance: errors_out_migration_ctxt (migration `error`),
    _error_out_instance_on_exception (ERROR), reverts_task_state, wrap_instance_fault and
    _revert_allocation (the source allocation back to the server, the destination claim
    gone). The disk copy failed on the source, so the server never left it."""
    sid, src = active_server
    ctl.add_fault("resize_instance", "error", host=other(src))  # not the source: no match
    rule = ctl.add_fault("resize_instance", "error", host=src, message="disk copy failed")
    admin.action(sid, {"resize": {"flavorRef": admin.flavor_id("m1.small")}})
    _, migs = watch(admin, ctl, sid, "ERROR")
    assert migs == ["pre-migrating", "migrating", "error"]
    srv = admin.server(sid)
    assert (srv["OS-EXT-SRV-ATTR:host"], srv["OS-EXT-STS:task_state"]) == (src, None)
    assert srv["fault"]["message"] == "Resize error: disk copy failed"
    assert srv["flavor"]["original_name"] == "m1.tiny"
    mig = cold_migration_of(admin, sid)
    assert mig["dest_compute"] == other(src)
    assert admin.allocations(mig["uuid"]) == {}
    assert {k: v["resources"] for k, v in admin.allocations(sid).items()} == {
        admin.rp_uuid(src): TINY
    }
    assert admin.usages(admin.rp_uuid(other(src))) == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    assert [f["rule"] for f in ctl.fired_faults()] == [rule["id"]]
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()
    resize = next(a for a in actions["instanceActions"] if a["action"] == "resize")
    body = admin.compute("GET", f"/servers/{sid}/os-instance-actions/{resize['request_id']}")
    events = {e["event"]: e["result"] for e in body.json()["instanceAction"]["events"]}
    assert events["compute_resize_instance"] == "Error"
    assert "compute_finish_resize" not in events


def test_deleting_a_server_in_verify_resize_frees_both_hosts(admin, ctl, active_server):
    sid, src = active_server
    admin.action(sid, {"migrate": None})
    watch(admin, ctl, sid, "VERIFY_RESIZE")
    mig = cold_migration_of(admin, sid)
    assert admin.compute("DELETE", f"/servers/{sid}").status_code == 204
    ctl.settle()
    for host in (src, other(src)):
        assert admin.usages(admin.rp_uuid(host)) == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    assert admin.allocations(mig["uuid"]) == {}


def test_flavor_create_and_delete_by_admin(admin, member):
    resp = admin.compute(
        "POST",
        "/flavors",
        json={"flavor": {"name": "swap1", "ram": 1024, "vcpus": 1, "disk": 1, "swap": 1}},
    )
    assert resp.status_code == 200, resp.text
    flavor = resp.json()["flavor"]
    assert flavor["swap"] == 1
    assert nova_error(member.compute("DELETE", f"/flavors/{flavor['id']}"), 403)
    assert admin.compute("DELETE", f"/flavors/{flavor['id']}").status_code == 202
    assert admin.compute("GET", f"/flavors/{flavor['id']}").status_code == 404


def test_a_create_on_a_named_host_does_not_pin_the_later_moves(admin, ctl):
    """2.74's `host` is for the build only: Nova never persists a RequestSpec's
    requested_destination, so a later cold migration is scheduled freely (the fake once
    kept it and sent the move back to the same host, which failed it)."""
    sid = admin.boot("pinned-at-create", host="compute1")
    advance_until(ctl, lambda: admin.server(sid)["status"] == "ACTIVE")
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == "compute1"
    assert admin.action(sid, {"migrate": None}).status_code == 202
    watch(admin, ctl, sid, "VERIFY_RESIZE")
    mig = cold_migration_of(admin, sid)
    assert (mig["status"], mig["dest_compute"]) == ("finished", "compute2")


@pytest.mark.parametrize("body", [{"migrate": None}, {"resize": {"flavorRef": "2"}}])
def test_a_cold_move_from_a_down_source_is_refused_but_a_disabled_one_is_not(
    admin, ctl, active_server, body
):
    """check_instance_host(check_is_up=True) on API.resize (test_bug_1938326): a forced
    down source is 409 without naming the host; a disabled but up one may be left."""
    sid, src = active_server
    update_service(admin, src, forced_down=True)
    try:
        msg = nova_error(admin.action(sid, body), 409, "conflictingRequest")
        assert msg == "Service is unavailable at this time."
        srv = admin.server(sid)
        assert (srv["status"], srv["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
        assert admin.migrations(instance_uuid=sid) == []
    finally:
        update_service(admin, src, forced_down=False)
    update_service(admin, src, status="disabled", disabled_reason="maintenance")
    try:
        assert admin.action(sid, body).status_code == 202
        watch(admin, ctl, sid, "VERIFY_RESIZE")
        assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)
    finally:
        update_service(admin, src, status="enabled")


def test_a_same_host_resize_claims_both_flavors_and_fails_when_they_do_not_fit(cloud, admin, ctl):
    """Nova's test_bug_1790204, which Nova 34 still has (its FIXME): a same-host resize
    claims the new flavor on the provider where the migration holds the old one, so a
    resize that would fit alone finds no valid host when both do not fit. The fake must
    do the same (it is Nova's behaviour, not an emulated bug)."""
    for host in ("compute1", "compute2"):
        cloud.control.remove_host(host)
    cloud.control.add_host("small", vcpus=2, memory_mb=8192, disk_gb=40)
    flavors = []
    for name, vcpus in (("v1d30", 1), ("v2d30", 2)):
        body = {"flavor": {"name": name, "ram": 2048, "vcpus": vcpus, "disk": 30}}
        resp = admin.compute("POST", "/flavors", json=body)
        assert resp.status_code == 200, resp.text
        flavors.append(resp.json()["flavor"]["id"])
    cloud.control.set_nova_options(allow_resize_to_same_host=True)
    try:
        sid = admin.boot("doubled", flavor="v1d30")
        advance_until(ctl, lambda: admin.server(sid)["status"] == "ACTIVE")
        assert admin.action(sid, {"resize": {"flavorRef": flavors[1]}}).status_code == 202
        ctl.settle()
        srv = admin.server(sid)
        assert (srv["status"], srv["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", "small")
        assert cold_migration_of(admin, sid)["status"] == "error"
        actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()
        resize = next(a for a in actions["instanceActions"] if a["action"] == "resize")
        body = admin.compute("GET", f"/servers/{sid}/os-instance-actions/{resize['request_id']}")
        events = body.json()["instanceAction"]["events"]
        assert [(e["event"], e["result"]) for e in events] == [
            ("conductor_migrate_server", "Error")
        ]
        assert {k: v["resources"] for k, v in admin.allocations(sid).items()} == {
            admin.rp_uuid("small"): {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 30}
        }
    finally:
        cloud.control.set_nova_options(allow_resize_to_same_host=False)
