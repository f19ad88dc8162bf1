"""GET /servers/{id} key sets per microversion and role, from nova's api samples
(doc/api_samples/servers/{,v2.9,v2.47,v2.96,v2.100}/server-get-resp.json)."""

from __future__ import annotations

import pytest

BASE_21 = {
    "OS-DCF:diskConfig",
    "OS-EXT-AZ:availability_zone",
    "OS-EXT-SRV-ATTR:host",
    "OS-EXT-SRV-ATTR:hypervisor_hostname",
    "OS-EXT-SRV-ATTR:instance_name",
    "OS-EXT-STS:power_state",
    "OS-EXT-STS:task_state",
    "OS-EXT-STS:vm_state",
    "OS-SRV-USG:launched_at",
    "OS-SRV-USG:terminated_at",
    "accessIPv4",
    "accessIPv6",
    "addresses",
    "config_drive",
    "created",
    "flavor",
    "hostId",
    "id",
    "image",
    "key_name",
    "links",
    "metadata",
    "name",
    "os-extended-volumes:volumes_attached",
    "progress",
    "security_groups",
    "status",
    "tenant_id",
    "updated",
    "user_id",
}
ADMIN_23 = {
    "OS-EXT-SRV-ATTR:hostname",
    "OS-EXT-SRV-ATTR:kernel_id",
    "OS-EXT-SRV-ATTR:launch_index",
    "OS-EXT-SRV-ATTR:ramdisk_id",
    "OS-EXT-SRV-ATTR:reservation_id",
    "OS-EXT-SRV-ATTR:root_device_name",
    "OS-EXT-SRV-ATTR:user_data",
}
ADMIN_29 = BASE_21 | ADMIN_23 | {"locked"}
ADMIN_247 = ADMIN_29 | {"description", "host_status", "tags"}
MEMBER_296 = (
    BASE_21
    - {
        "OS-EXT-SRV-ATTR:host",
        "OS-EXT-SRV-ATTR:hypervisor_hostname",
        "OS-EXT-SRV-ATTR:instance_name",
    }
) | {
    "OS-EXT-SRV-ATTR:hostname",
    "description",
    "locked",
    "locked_reason",
    "pinned_availability_zone",
    "server_groups",
    "tags",
    "trusted_image_certificates",
}
MEMBER_2100 = MEMBER_296 | {"scheduler_hints"}


# The api samples' servers have a port ("networks": "auto"): security_groups comes
# from the port's groups.
@pytest.fixture
def admin_srv(admin, ctl):
    sid = admin.boot("shape", networks="auto")
    ctl.settle()
    return sid


@pytest.fixture
def member_srv(member, ctl):
    sid = member.boot("shape", networks="auto")
    ctl.settle()
    return sid


@pytest.mark.parametrize("mv,expected", [("2.1", BASE_21), ("2.9", ADMIN_29), ("2.47", ADMIN_247)])
def test_admin_server_keys(admin, admin_srv, mv, expected):
    srv = admin.server(admin_srv, mv=mv)
    assert set(srv) == expected, set(srv) ^ expected


@pytest.mark.parametrize("mv,expected", [("2.96", MEMBER_296), ("2.100", MEMBER_2100)])
def test_member_server_keys(member, member_srv, mv, expected):
    srv = member.server(member_srv, mv=mv)
    assert set(srv) == expected, set(srv) ^ expected


def test_flavor_embedded_from_2_47(admin, admin_srv):
    old = admin.server(admin_srv, mv="2.46")["flavor"]
    assert set(old) == {"id", "links"}
    new = admin.server(admin_srv, mv="2.47")["flavor"]
    assert {"vcpus", "ram", "disk", "ephemeral", "swap", "original_name", "extra_specs"} == set(new)
    assert new["original_name"] == "m1.tiny"


def test_admin_sees_admin_fields_at_latest(admin, admin_srv):
    srv = admin.server(admin_srv, mv="2.104")
    assert ADMIN_23 <= set(srv)
    assert {"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname", "host_status"} <= set(
        srv
    )


def test_detail_and_show_agree(admin, admin_srv):
    (listed,) = admin.servers_detail(mv="2.80")
    shown = admin.server(admin_srv, mv="2.80")
    listed.pop("updated", None)
    shown.pop("updated", None)
    # 2.71 added server_groups to GET /servers/{id} (and PUT, rebuild) only:
    # views/servers.py show(show_server_groups=...) is False for the detail list.
    assert shown.pop("server_groups") == []
    assert "server_groups" not in listed
    assert listed == shown


def test_host_id_is_sha224_of_project_and_host(admin, admin_srv):
    import hashlib

    srv = admin.server(admin_srv)
    expected = hashlib.sha224((admin.project_id + srv["OS-EXT-SRV-ATTR:host"]).encode()).hexdigest()
    assert srv["hostId"] == expected


def test_error_server_has_empty_host_id_and_fault(admin, ctl):
    from .lm import update_service

    for h in ("compute1", "compute2"):
        update_service(admin, h, status="disabled")
    sid = admin.boot("err")
    ctl.settle()
    srv = admin.server(sid)
    assert srv["status"] == "ERROR"
    assert srv["hostId"] == ""
    assert set(srv["fault"]) >= {"code", "created", "message"}


def test_progress_only_for_progress_statuses(admin, ctl, admin_srv):
    # views/servers.py _progress_statuses: ACTIVE, BUILD, REBUILD, RESIZE, VERIFY_RESIZE, MIGRATING
    assert admin.server(admin_srv)["progress"] == 0
    assert admin.action(admin_srv, {"pause": None}).status_code == 202
    ctl.settle()
    srv = admin.server(admin_srv)
    assert srv["status"] == "PAUSED"
    assert "progress" not in srv
    assert "fault" not in srv


def test_addresses_empty_without_networks(admin, ctl):
    sid = admin.boot("no-net", networks="none")
    ctl.settle()
    assert admin.server(sid)["addresses"] == {}


def test_host_status_tracks_service(admin, admin_srv):
    # nova/compute/api.py get_instance_host_status
    from .lm import update_service

    host = admin.server(admin_srv)["OS-EXT-SRV-ATTR:host"]
    assert admin.server(admin_srv, mv="2.16")["host_status"] == "UP"
    update_service(admin, host, status="disabled", disabled_reason="m")
    assert admin.server(admin_srv, mv="2.16")["host_status"] == "MAINTENANCE"
    update_service(admin, host, forced_down=True)
    assert admin.server(admin_srv, mv="2.16")["host_status"] == "DOWN"
    assert "host_status" not in admin.server(admin_srv, mv="2.15")


def test_host_status_empty_for_server_without_host(admin, ctl):
    from .lm import update_service

    for h in ("compute1", "compute2"):
        update_service(admin, h, status="disabled")
    sid = admin.boot("err")
    ctl.settle()
    assert admin.server(sid, mv="2.16")["host_status"] == ""
