"""Flavors, server create/show/list/delete (nova/api/openstack/compute/servers.py)."""

from __future__ import annotations

import re

from .helpers import nova_error

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
ADMIN_ONLY = (
    "OS-EXT-SRV-ATTR:host",
    "OS-EXT-SRV-ATTR:hypervisor_hostname",
    "OS-EXT-SRV-ATTR:instance_name",
    "OS-EXT-SRV-ATTR:reservation_id",
    "OS-EXT-SRV-ATTR:launch_index",
)


# -- flavors -------------------------------------------------------------------
def test_flavors_initial_set(admin):
    resp = admin.compute("GET", "/flavors/detail")
    assert resp.status_code == 200
    flavors = {f["name"]: f for f in resp.json()["flavors"]}
    expected = {
        "m1.tiny": (1, 512, 1),
        "m1.small": (1, 2048, 20),
        "m1.medium": (2, 4096, 40),
        "m1.large": (4, 8192, 80),
    }
    for name, (vcpus, ram, disk) in expected.items():
        f = flavors[name]
        assert (f["vcpus"], f["ram"], f["disk"]) == (vcpus, ram, disk), f
        assert any(link["rel"] == "self" for link in f["links"])


def test_flavor_show_and_404(admin):
    fid = admin.flavor_id("m1.small")
    resp = admin.compute("GET", f"/flavors/{fid}")
    assert resp.status_code == 200
    assert resp.json()["flavor"]["name"] == "m1.small"
    resp = admin.compute("GET", "/flavors/does-not-exist")
    assert nova_error(resp, 404) == "Flavor does-not-exist could not be found."


def test_flavor_list_is_id_name_links_only(admin):
    resp = admin.compute("GET", "/flavors", mv="2.54")
    for f in resp.json()["flavors"]:
        assert set(f) == {"id", "name", "links"}, f


# -- create / show ---------------------------------------------------------------
def test_create_returns_202_with_minimal_server(admin):
    resp = admin.create_server("vm1")
    assert resp.status_code == 202, resp.text
    srv = resp.json()["server"]
    assert re.fullmatch(r"[0-9a-f-]{36}", srv["id"])
    assert srv["adminPass"]
    assert any(link["rel"] == "self" for link in srv["links"])
    assert srv["OS-DCF:diskConfig"] in ("AUTO", "MANUAL")
    assert "status" not in srv  # the create response is not the full view
    loc = resp.headers.get("Location", "")
    assert loc.endswith(f"/servers/{srv['id']}")


def test_build_then_active(admin, ctl):
    sid = admin.boot("vm1")
    srv = admin.server(sid)
    assert srv["status"] == "BUILD"
    assert srv["OS-EXT-STS:vm_state"] == "building"
    assert srv["OS-EXT-STS:task_state"] in (
        "scheduling",
        "block_device_mapping",
        "networking",
        "spawning",
    )
    ctl.settle()
    srv = admin.server(sid)
    assert srv["status"] == "ACTIVE"
    assert srv["OS-EXT-STS:vm_state"] == "active"
    assert srv["OS-EXT-STS:task_state"] is None
    assert srv["OS-EXT-STS:power_state"] == 1
    assert srv["OS-EXT-AZ:availability_zone"] == "nova"
    assert srv["OS-EXT-SRV-ATTR:host"] in ("compute1", "compute2")
    assert srv["OS-EXT-SRV-ATTR:hypervisor_hostname"]
    assert re.fullmatch(r"instance-[0-9a-f]{8}", srv["OS-EXT-SRV-ATTR:instance_name"])
    assert srv["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-")
    assert srv["OS-SRV-USG:launched_at"]
    assert srv["hostId"]
    assert srv["tenant_id"] == admin.project_id
    assert srv["user_id"] == admin.user_id
    assert srv["flavor"]["original_name"] == "m1.tiny"
    assert srv["flavor"]["vcpus"] == 1 and srv["flavor"]["ram"] == 512
    assert srv["locked"] is False


def test_show_unknown_server_404(admin):
    resp = admin.compute("GET", f"/servers/{ZERO_UUID}")
    assert nova_error(resp, 404) == f"Instance {ZERO_UUID} could not be found."


def test_create_with_unknown_flavor_400(admin):
    body = admin.server_body("x")
    body["server"]["flavorRef"] = "999999"
    resp = admin.compute("POST", "/servers", json=body)
    msg = nova_error(resp, 400)
    assert "Flavor 999999 could not be found." in msg


def test_create_min_count_greater_than_max_400(admin):
    resp = admin.create_server("x", min_count=3, max_count=2)
    assert nova_error(resp, 400) == "min_count must be <= max_count"


def test_member_cannot_see_admin_server(admin, member, ctl):
    sid = admin.boot("vm1")
    ctl.settle()
    resp = member.compute("GET", f"/servers/{sid}")
    assert nova_error(resp, 404) == f"Instance {sid} could not be found."


# -- admin-only fields ----------------------------------------------------------------
def test_admin_only_fields_hidden_from_member(member, ctl):
    sid = member.boot("mine")
    ctl.settle()
    srv = member.server(sid)
    assert srv["status"] == "ACTIVE"
    for key in ADMIN_ONLY:
        assert key not in srv, key
    assert "host_status" not in srv
    # 2.90: the hostname is shown to everybody
    assert srv["OS-EXT-SRV-ATTR:hostname"] == "mine"
    old = member.server(sid, mv="2.89")
    assert not [k for k in old if k.startswith("OS-EXT-SRV-ATTR:")], old


def test_admin_sees_host_fields_on_member_server(admin, member, ctl):
    sid = member.boot("mine")
    ctl.settle()
    srv = admin.server(sid)
    for key in ADMIN_ONLY:
        assert key in srv, key
    assert srv["host_status"] == "UP"


def test_reservation_id_only_from_2_3(admin, ctl):
    sid = admin.boot("vm1")
    ctl.settle()
    assert "OS-EXT-SRV-ATTR:reservation_id" not in admin.server(sid, mv="2.2")
    assert "OS-EXT-SRV-ATTR:host" in admin.server(sid, mv="2.2")
    assert "OS-EXT-SRV-ATTR:reservation_id" in admin.server(sid, mv="2.3")


# -- list / filters ----------------------------------------------------------------
def test_list_is_id_name_links(admin, ctl):
    admin.boot("vm1")
    ctl.settle()
    resp = admin.compute("GET", "/servers")
    servers = resp.json()["servers"]
    assert len(servers) == 1
    assert set(servers[0]) == {"id", "name", "links"}


def test_list_filter_by_name_is_regex(admin, ctl):
    admin.boot("web-1")
    admin.boot("web-2")
    admin.boot("db-1")
    ctl.settle()
    names = sorted(s["name"] for s in admin.servers_detail(name="^web"))
    assert names == ["web-1", "web-2"]
    assert [s["name"] for s in admin.servers_detail(name="db-1")] == ["db-1"]


def test_list_filter_by_host_admin(admin, ctl):
    ids = [admin.boot(f"vm{i}") for i in range(4)]
    ctl.settle()
    by_host = {}
    for sid in ids:
        by_host.setdefault(admin.server(sid)["OS-EXT-SRV-ATTR:host"], set()).add(sid)
    for host, expected in by_host.items():
        got = {s["id"] for s in admin.servers_detail(host=host)}
        assert got == expected
    assert admin.servers_detail(host="no-such-host") == []


def test_host_filter_ignored_for_member(member, ctl):
    sid = member.boot("mine")
    ctl.settle()
    got = {s["id"] for s in member.servers_detail(host="no-such-host")}
    assert got == {sid}


def test_list_default_scoped_to_project_and_all_tenants(admin, member, ctl):
    a = admin.boot("admin-vm")
    m = member.boot("member-vm")
    ctl.settle()
    assert {s["id"] for s in admin.servers_detail()} == {a}
    assert {s["id"] for s in member.servers_detail()} == {m}
    assert {s["id"] for s in admin.servers_detail(all_tenants="1")} == {a, m}
    assert {
        s["id"] for s in admin.servers_detail(all_tenants="1", tenant_id=member.project_id)
    } == {m}


def test_all_tenants_forbidden_for_member(member):
    resp = member.compute("GET", "/servers/detail", params={"all_tenants": "1"})
    msg = nova_error(resp, 403)
    assert msg == (
        "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed."
    )


def test_list_sorted_newest_first(admin, ctl):
    first = admin.boot("first")
    ctl.advance(1)
    second = admin.boot("second")
    ctl.settle()
    assert [s["id"] for s in admin.servers_detail()] == [second, first]


# -- delete ----------------------------------------------------------------------
def test_delete_returns_204_and_server_disappears(admin, ctl):
    sid = admin.boot("vm1")
    ctl.settle()
    resp = admin.compute("DELETE", f"/servers/{sid}")
    assert resp.status_code == 204
    assert resp.content == b""
    ctl.settle()
    nova_error(admin.compute("GET", f"/servers/{sid}"), 404)
    assert admin.allocations(sid) == {}
    assert admin.servers_detail() == []


def test_delete_unknown_404(admin):
    resp = admin.compute("DELETE", f"/servers/{ZERO_UUID}")
    assert nova_error(resp, 404) == f"Instance {ZERO_UUID} could not be found."


def test_openstacksdk_create_wait_delete(conn, cloud):
    ctl = cloud.control
    image = next(conn.image.images())
    flavor = conn.compute.find_flavor("m1.tiny")
    srv = conn.compute.create_server(
        name="sdk-vm", image_id=image.id, flavor_id=flavor.id, networks="none"
    )
    ctl.settle()
    srv = conn.compute.get_server(srv.id)
    assert srv.status == "ACTIVE"
    assert srv.compute_host in ("compute1", "compute2")
    assert srv.flavor.name == "m1.tiny" or srv.flavor.original_name == "m1.tiny"
    conn.compute.delete_server(srv.id)
    ctl.settle()
    assert conn.compute.find_server(srv.id) is None


def test_list_paging_with_limit_and_marker(admin, ctl):
    ids = [admin.boot(f"p{i}") for i in range(3)]
    ctl.settle()
    resp = admin.compute("GET", "/servers/detail", params={"limit": 2})
    body = resp.json()
    assert len(body["servers"]) == 2
    nxt = [lk for lk in body["servers_links"] if lk["rel"] == "next"]
    assert nxt and f"marker={body['servers'][-1]['id']}" in nxt[0]["href"]
    rest = admin.servers_detail(marker=body["servers"][-1]["id"])
    assert {s["id"] for s in body["servers"]} | {s["id"] for s in rest} == set(ids)
    resp = admin.compute("GET", "/servers/detail", params={"marker": ZERO_UUID})
    assert nova_error(resp, 400) == f"marker [{ZERO_UUID}] not found"


def test_changes_since_returns_recently_deleted(admin, ctl):
    # servers.py _get_servers: with changes-since, deleted instances are not filtered out
    keep = admin.boot("keep")
    gone = admin.boot("gone")
    ctl.settle()
    since = admin.server(keep)["created"]
    assert admin.compute("DELETE", f"/servers/{gone}").status_code == 204
    ctl.settle()
    assert [s["id"] for s in admin.servers_detail()] == [keep]
    by_id = {s["id"]: s for s in admin.servers_detail(**{"changes-since": since})}
    assert set(by_id) == {keep, gone}
    assert by_id[gone]["status"] == "DELETED"
    assert by_id[keep]["status"] == "ACTIVE"
