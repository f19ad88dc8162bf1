"""Server actions that decide movability, locks, and os-instance-actions.

Sources: nova/compute/api.py (check_instance_lock: admins bypass the lock;
check_instance_state; live_migrate allows vm_state ACTIVE/PAUSED),
nova/api/openstack/compute/{pause_server,suspend_server,servers,lock_server,
instance_actions}.py, nova/policies/lock_server.py.
"""

from __future__ import annotations

import pytest

from .helpers import nova_error
from .lm import other, wait_server_idle


def _act(api, ctl, sid, action, body=None):
    resp = api.action(sid, {action: body})
    assert resp.status_code == 202, (action, resp.status_code, resp.text)
    ctl.settle()
    return api.server(sid)


def test_pause_unpause(admin, ctl, active_server):
    sid, _ = active_server
    srv = _act(admin, ctl, sid, "pause")
    assert (srv["status"], srv["OS-EXT-STS:vm_state"], srv["OS-EXT-STS:power_state"]) == (
        "PAUSED",
        "paused",
        3,
    )
    resp = admin.action(sid, {"pause": None})
    assert nova_error(resp, 409) == (
        f"Cannot 'pause' instance {sid} while it is in vm_state paused"
    )
    srv = _act(admin, ctl, sid, "unpause")
    assert (srv["status"], srv["OS-EXT-STS:vm_state"]) == ("ACTIVE", "active")


def test_suspend_resume(admin, ctl, active_server):
    sid, _ = active_server
    srv = _act(admin, ctl, sid, "suspend")
    assert (srv["status"], srv["OS-EXT-STS:vm_state"]) == ("SUSPENDED", "suspended")
    srv = _act(admin, ctl, sid, "resume")
    assert (srv["status"], srv["OS-EXT-STS:vm_state"]) == ("ACTIVE", "active")


def test_stop_start(admin, ctl, active_server):
    sid, _ = active_server
    srv = _act(admin, ctl, sid, "os-stop")
    assert (srv["status"], srv["OS-EXT-STS:vm_state"], srv["OS-EXT-STS:power_state"]) == (
        "SHUTOFF",
        "stopped",
        4,
    )
    resp = admin.action(sid, {"os-stop": None})
    assert nova_error(resp, 409) == (
        f"Cannot 'stop' instance {sid} while it is in vm_state stopped"
    )
    srv = _act(admin, ctl, sid, "os-start")
    assert (srv["status"], srv["OS-EXT-STS:power_state"]) == ("ACTIVE", 1)


def test_paused_server_live_migrates_and_stays_paused(admin, ctl, active_server):
    sid, src = active_server
    _act(admin, ctl, sid, "pause")
    resp = admin.live_migrate(sid, mv="2.80")
    assert resp.status_code == 202, resp.text
    srv = admin.server(sid)
    assert srv["status"] == "MIGRATING"
    assert srv["OS-EXT-STS:vm_state"] == "paused"
    ctl.settle()
    srv = wait_server_idle(admin, ctl, sid)
    assert srv["status"] == "PAUSED"
    assert srv["OS-EXT-STS:vm_state"] == "paused"
    assert srv["OS-EXT-SRV-ATTR:host"] == other(src)
    assert admin.migration_of(sid)["status"] == "completed"


@pytest.mark.parametrize("action,vm_state", [("suspend", "suspended"), ("os-stop", "stopped")])
def test_unmovable_states_are_409(admin, ctl, active_server, action, vm_state):
    sid, src = active_server
    _act(admin, ctl, sid, action)
    for mv in ("2.30", "2.80"):
        resp = admin.live_migrate(sid, mv=mv)
        assert nova_error(resp, 409) == (
            f"Cannot 'os-migrateLive' instance {sid} while it is in vm_state {vm_state}"
        )
    ctl.settle()
    assert admin.migrations(instance_uuid=sid) == []
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == src


def test_building_server_cannot_live_migrate(admin):
    sid = admin.boot("building")
    resp = admin.live_migrate(sid, mv="2.80")
    msg = nova_error(resp, 409)
    assert msg.startswith(f"Cannot 'os-migrateLive' instance {sid} while it is in ")


def test_admin_can_live_migrate_a_locked_server(admin, ctl, active_server):
    # check_instance_lock: `if instance.locked and not context.is_admin`
    sid, src = active_server
    assert admin.action(sid, {"lock": {"locked_reason": "hands off"}}).status_code == 202
    srv = admin.server(sid, mv="2.73")
    assert srv["locked"] is True and srv["locked_reason"] == "hands off"
    resp = admin.live_migrate(sid, mv="2.80")
    assert resp.status_code == 202, resp.text
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == other(src)


def test_locked_server_blocks_member_actions(member, ctl):
    sid = member.boot("mine")
    ctl.settle()
    assert member.action(sid, {"lock": None}).status_code == 202
    assert member.server(sid)["locked"] is True
    resp = member.action(sid, {"pause": None})
    assert nova_error(resp, 409) == f"Instance {sid} is locked"
    resp = member.compute("DELETE", f"/servers/{sid}")
    assert nova_error(resp, 409) == f"Instance {sid} is locked"
    assert member.action(sid, {"unlock": None}).status_code == 202
    assert member.action(sid, {"pause": None}).status_code == 202


def test_member_cannot_unlock_admin_lock(admin, member, ctl):
    sid = member.boot("mine")
    ctl.settle()
    assert admin.action(sid, {"lock": None}).status_code == 202
    resp = member.action(sid, {"unlock": None})
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed."
    )
    assert admin.action(sid, {"unlock": None}).status_code == 202
    assert member.server(sid)["locked"] is False


# -- os-instance-actions -------------------------------------------------------------------
def _actions(api, sid, mv="2.84"):
    resp = api.compute("GET", f"/servers/{sid}/os-instance-actions", mv=mv)
    assert resp.status_code == 200, resp.text
    return resp.json()["instanceActions"]


def _action_detail(api, sid, request_id, mv="2.84"):
    resp = api.compute("GET", f"/servers/{sid}/os-instance-actions/{request_id}", mv=mv)
    assert resp.status_code == 200, resp.text
    return resp.json()["instanceAction"]


def test_create_action_recorded(admin, active_server):
    sid, _ = active_server
    (act,) = _actions(admin, sid)
    assert act["action"] == "create"
    assert act["instance_uuid"] == sid
    assert act["request_id"].startswith("req-")
    assert act["user_id"] == admin.user_id and act["project_id"] == admin.project_id
    for key in ("start_time", "updated_at", "message"):
        assert key in act


def test_actions_newest_first(admin, ctl, active_server):
    sid, _ = active_server
    _act(admin, ctl, sid, "pause")
    ctl.advance(1)
    _act(admin, ctl, sid, "unpause")
    assert [a["action"] for a in _actions(admin, sid)] == ["unpause", "pause", "create"]


def test_live_migration_events_async(admin, ctl, active_server):
    sid, _ = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    lm = [a for a in _actions(admin, sid) if a["action"] == "live-migration"]
    assert len(lm) == 1
    detail = _action_detail(admin, sid, lm[0]["request_id"])
    events = {e["event"]: e for e in detail["events"]}
    for name in (
        "conductor_live_migrate_instance",
        "compute_check_can_live_migrate_destination",
        "compute_pre_live_migration",
        "compute_live_migration",
    ):
        assert name in events, (name, sorted(events))
        assert events[name]["result"] == "Success"
        assert events[name]["start_time"] and events[name]["finish_time"]
    # 2.62: host and hostId for admins
    assert events["compute_pre_live_migration"]["host"]
    assert "hostId" in events["compute_pre_live_migration"]


def test_live_migration_events_sync_path(conn, admin, ctl, active_server):
    # below 2.34 the API calls conductor migrate_server (nova/conductor/api.py),
    # whose instance event is conductor_migrate_server
    sid, _ = active_server
    conn.compute.live_migrate_server(conn.compute.get_server(sid), host=None)
    ctl.settle()
    lm = [a for a in _actions(admin, sid) if a["action"] == "live-migration"]
    events = {e["event"] for e in _action_detail(admin, sid, lm[0]["request_id"])["events"]}
    assert "conductor_migrate_server" in events, sorted(events)


def test_member_sees_events_without_traceback_from_2_51(member, ctl):
    sid = member.boot("mine")
    ctl.settle()
    (act,) = _actions(member, sid)
    old = _action_detail(member, sid, act["request_id"], mv="2.50")
    assert "events" not in old
    new = _action_detail(member, sid, act["request_id"], mv="2.51")
    assert isinstance(new["events"], list)
    for e in new["events"]:
        assert "traceback" not in e


def test_unknown_action_404(admin, active_server):
    sid, _ = active_server
    resp = admin.compute("GET", f"/servers/{sid}/os-instance-actions/req-nope")
    assert nova_error(resp, 404) == "Action req-nope not found"


def test_actions_of_deleted_server_from_2_21(admin, ctl, active_server):
    # instance_actions.py _get_instance: read_deleted='yes' from 2.21
    sid, _ = active_server
    assert admin.compute("DELETE", f"/servers/{sid}").status_code == 204
    ctl.settle()
    assert [a["action"] for a in _actions(admin, sid, mv="2.21")] == ["delete", "create"]
    resp = admin.compute("GET", f"/servers/{sid}/os-instance-actions", mv="2.20")
    assert nova_error(resp, 404) == f"Instance {sid} could not be found."
