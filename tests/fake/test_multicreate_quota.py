"""Multi-create, reservation ids, quotas and the all-or-nothing scheduler.

Nova semantics:
- quota (nova/compute/utils.py check_num_instances_quota): creates the maximum the
  quota allows if that is >= min_count, else 403 TooManyInstances;
- scheduler (nova/scheduler/manager.py _ensure_sufficient_hosts): all-or-nothing for
  num_instances; when not every instance fits, all of them are buried in ERROR with
  fault "No valid host was found. There are not enough hosts available."
"""

from __future__ import annotations

import pytest

from .conftest import start_fake_cloud
from .helpers import Api, nova_error


def _reservation(api, name, flavor="m1.tiny", **counts):
    resp = api.create_server(name, flavor, return_reservation_id=True, **counts)
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert set(body) == {"reservation_id"}, body
    return body["reservation_id"]


# -- multi-create on the roomy default cloud -----------------------------------------
def test_return_reservation_id_body_and_filter(admin, ctl):
    rid = _reservation(admin, "multi", min_count=2, max_count=2)
    assert rid.startswith("r-")
    ctl.settle()
    servers = admin.servers_detail(reservation_id=rid)
    assert sorted(s["name"] for s in servers) == ["multi-1", "multi-2"]
    assert all(s["status"] == "ACTIVE" for s in servers)
    assert {s["OS-EXT-SRV-ATTR:reservation_id"] for s in servers} == {rid}
    assert sorted(s["OS-EXT-SRV-ATTR:launch_index"] for s in servers) == [0, 1]


def test_multi_create_without_reservation_flag_returns_first_server(admin, ctl):
    resp = admin.create_server("many", min_count=3, max_count=3)
    assert resp.status_code == 202, resp.text
    first = resp.json()["server"]["id"]
    ctl.settle()
    srv = admin.server(first)
    rid = srv["OS-EXT-SRV-ATTR:reservation_id"]
    members = admin.servers_detail(reservation_id=rid)
    assert len(members) == 3
    assert first in {s["id"] for s in members}
    assert srv["name"] == "many-1"


def test_reservation_filter_excludes_other_requests(admin, ctl):
    r1 = _reservation(admin, "a", min_count=2, max_count=2)
    r2 = _reservation(admin, "b", min_count=1, max_count=1)
    ctl.settle()
    assert {s["name"] for s in admin.servers_detail(reservation_id=r1)} == {"a-1", "a-2"}
    assert [s["name"] for s in admin.servers_detail(reservation_id=r2)] == ["b"]
    assert admin.servers_detail(reservation_id="r-00000000") == []


def test_openstacksdk_multi_create(conn, cloud):
    image = next(conn.image.images())
    flavor = conn.compute.find_flavor("m1.tiny")
    conn.compute.create_server(
        name="sdkmulti",
        image_id=image.id,
        flavor_id=flavor.id,
        networks="none",
        min_count=2,
        max_count=2,
    )
    cloud.control.settle()
    names = sorted(s.name for s in conn.compute.servers(name="^sdkmulti"))
    assert names == ["sdkmulti-1", "sdkmulti-2"]


# -- quotas --------------------------------------------------------------------------
def test_default_quota_set(admin):
    resp = admin.compute("GET", f"/os-quota-sets/{admin.project_id}")
    assert resp.status_code == 200, resp.text
    qs = resp.json()["quota_set"]
    assert (qs["instances"], qs["cores"], qs["ram"]) == (10, 20, 51200)


def test_limits_report_quota_and_usage(admin, ctl):
    admin.boot("vm1", flavor="m1.small")
    ctl.settle()
    resp = admin.compute("GET", "/limits")
    assert resp.status_code == 200
    absolute = resp.json()["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 10
    assert absolute["maxTotalCores"] == 20
    assert absolute["maxTotalRAMSize"] == 51200
    assert absolute["totalInstancesUsed"] == 1
    assert absolute["totalCoresUsed"] == 1
    assert absolute["totalRAMUsed"] == 2048


def test_over_instances_quota_is_403(admin, ctl):
    resp = admin.create_server("q", min_count=11, max_count=11)
    msg = nova_error(resp, 403)
    assert msg == "Quota exceeded for instances: Requested 11, but already used 0 of 10 instances"
    ctl.settle()
    assert admin.servers_detail() == []


def test_min_count_over_quota_is_403(admin):
    resp = admin.create_server("q", min_count=11, max_count=12)
    msg = nova_error(resp, 403)
    assert msg.startswith("Quota exceeded for instances: Requested 11-12")
    assert "of 10 instances" in msg


def test_max_count_over_quota_creates_what_quota_allows(admin, ctl):
    rid = _reservation(admin, "q", min_count=2, max_count=12)
    ctl.settle()
    servers = admin.servers_detail(reservation_id=rid)
    assert len(servers) == 10
    assert all(s["status"] == "ACTIVE" for s in servers)


def test_quota_counts_existing_servers(admin, ctl):
    for i in range(8):
        admin.boot(f"pre{i}")
    ctl.settle()
    resp = admin.create_server("more", min_count=3, max_count=3)
    msg = nova_error(resp, 403)
    assert msg == "Quota exceeded for instances: Requested 3, but already used 8 of 10 instances"
    rid = _reservation(admin, "more", min_count=1, max_count=3)
    ctl.settle()
    assert len(admin.servers_detail(reservation_id=rid)) == 2


def test_over_cores_quota_is_403(admin):
    resp = admin.create_server("big", flavor="m1.large", min_count=6, max_count=6)
    msg = nova_error(resp, 403)
    assert msg == "Quota exceeded for cores: Requested 24, but already used 0 of 20 cores"


def test_quota_is_per_project(admin, member, ctl):
    for i in range(10):
        admin.boot(f"a{i}")
    resp = member.create_server("m")
    assert resp.status_code == 202, resp.text
    nova_error(admin.create_server("a11"), 403)


# -- scheduler capacity: a deliberately small cloud -----------------------------------
@pytest.fixture(scope="module")
def small_cloud():
    c = start_fake_cloud(
        computes=2, clock="manual", host_vcpus=4, host_memory_mb=4096, host_disk_gb=40
    )
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def small(small_cloud):
    small_cloud.control.reset()
    return Api(small_cloud, admin=True)


def _capacity(api, need):
    """How many servers of `need` fit, computed from placement inventories/usages."""
    total = 0
    for rp in api.providers().values():
        inv = api.inventories(rp["uuid"])
        used = api.usages(rp["uuid"])
        fits = []
        for rc, amount in need.items():
            i = inv[rc]
            cap = int((i["total"] - i["reserved"]) * i["allocation_ratio"]) - used.get(rc, 0)
            fits.append(cap // amount if amount <= i["max_unit"] else 0)
        total += max(0, min(fits))
    return total


SMALL = {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}  # m1.small


def _assert_all_error_no_valid_host(api, servers):
    for s in servers:
        assert s["status"] == "ERROR", s
        assert s["OS-EXT-STS:vm_state"] == "error"
        assert s["OS-EXT-STS:task_state"] is None
        assert s["OS-EXT-SRV-ATTR:host"] is None
        assert s["fault"]["code"] == 500
        assert s["fault"]["message"].startswith("No valid host was found."), s["fault"]
        assert api.allocations(s["id"]) == {}


def _total_usage(api):
    out = {}
    for rp in api.providers().values():
        for rc, n in api.usages(rp["uuid"]).items():
            out[rc] = out.get(rc, 0) + n
    return out


def test_small_cloud_capacity_is_meaningful(small):
    cap = _capacity(small, SMALL)
    assert 2 <= cap < 10, f"capacity {cap} makes the capacity tests meaningless"


def test_multi_create_that_fits(small, small_cloud):
    cap = _capacity(small, SMALL)
    rid = _reservation(small, "fit", flavor="m1.small", min_count=1, max_count=cap)
    small_cloud.control.settle()
    servers = small.servers_detail(reservation_id=rid)
    assert len(servers) == cap
    assert all(s["status"] == "ACTIVE" for s in servers)
    usage = _total_usage(small)
    assert usage.get("MEMORY_MB") == cap * 2048
    assert usage.get("VCPU") == cap
    assert _capacity(small, SMALL) == 0


def test_multi_create_partly_fits_is_all_or_nothing(small, small_cloud):
    cap = _capacity(small, SMALL)
    rid = _reservation(small, "part", flavor="m1.small", min_count=1, max_count=cap + 1)
    small_cloud.control.settle()
    servers = small.servers_detail(reservation_id=rid)
    assert len(servers) == cap + 1
    _assert_all_error_no_valid_host(small, servers)
    for s in servers:
        assert s["fault"]["message"] == (
            "No valid host was found. There are not enough hosts available."
        )
    assert all(v == 0 for v in _total_usage(small).values())


def test_multi_create_min_count_does_not_fit(small, small_cloud):
    cap = _capacity(small, SMALL)
    rid = _reservation(small, "none", flavor="m1.small", min_count=cap + 1, max_count=cap + 1)
    small_cloud.control.settle()
    servers = small.servers_detail(reservation_id=rid)
    assert len(servers) == cap + 1
    _assert_all_error_no_valid_host(small, servers)


def test_failed_multi_create_leaks_no_capacity(small, small_cloud):
    cap = _capacity(small, SMALL)
    _reservation(small, "part", flavor="m1.small", min_count=1, max_count=cap + 1)
    small_cloud.control.settle()
    rid = _reservation(small, "after", flavor="m1.small", min_count=cap, max_count=cap)
    small_cloud.control.settle()
    servers = small.servers_detail(reservation_id=rid)
    assert [s["status"] for s in servers] == ["ACTIVE"] * cap


def test_single_server_too_big_for_any_host(small, small_cloud):
    resp = small.create_server("huge", flavor="m1.large")  # 8192 MB > any host
    assert resp.status_code == 202, resp.text
    small_cloud.control.settle()
    srv = small.server(resp.json()["server"]["id"])
    _assert_all_error_no_valid_host(small, [srv])
    # no allocation candidates at all: NoValidHost(reason="") (nova/scheduler/manager.py)
    assert srv["fault"]["message"].rstrip() == "No valid host was found."


def test_quota_set_detail_in_use(admin, ctl):
    admin.boot("a", flavor="m1.medium")
    ctl.settle()
    resp = admin.compute("GET", f"/os-quota-sets/{admin.project_id}/detail")
    assert resp.status_code == 200, resp.text
    qs = resp.json()["quota_set"]
    assert qs["instances"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert qs["cores"] == {"limit": 20, "in_use": 2, "reserved": 0}
    assert qs["ram"] == {"limit": 51200, "in_use": 4096, "reserved": 0}


def test_error_servers_count_against_quota(small, small_cloud):
    cap = _capacity(small, SMALL)
    _reservation(small, "part", flavor="m1.small", min_count=1, max_count=cap + 1)
    small_cloud.control.settle()
    absolute = small.compute("GET", "/limits").json()["limits"]["absolute"]
    assert absolute["totalInstancesUsed"] == cap + 1
    assert absolute["totalCoresUsed"] == cap + 1
