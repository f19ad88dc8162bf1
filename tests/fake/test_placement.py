"""Placement: providers, inventories, usages, allocations, microversions.

Sources: openstack/placement placement/handlers/{allocation,resource_provider,usage}.py,
placement/microversion.py (1.39 max), placement/policies (admin only by default).
"""

from __future__ import annotations

import uuid

import pytest

from .helpers import alloc_resources_by_rp, placement_error

INV_KEYS = {"total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio"}


def test_root_version_document(admin):
    resp = admin.placement("GET", "/", mv=None, token=False)
    assert resp.status_code == 200
    (v,) = resp.json()["versions"]
    assert v["id"] == "v1.0"
    assert v["min_version"] == "1.0" and v["max_version"] == "1.39"
    assert v["status"] == "CURRENT"


@pytest.mark.parametrize("requested,echoed", [(None, "1.0"), ("1.28", "1.28"), ("latest", "1.39")])
def test_microversion_header_echoed(admin, requested, echoed):
    resp = admin.placement("GET", "/resource_providers", mv=requested)
    assert resp.status_code == 200
    assert resp.headers["OpenStack-API-Version"] == f"placement {echoed}"
    assert "openstack-api-version" in resp.headers.get("Vary", "").lower()


def test_microversion_out_of_range_406(admin):
    resp = admin.placement("GET", "/resource_providers", mv="1.99")
    placement_error(resp, 406)


def test_microversion_malformed_400(admin):
    resp = admin.placement("GET", "/resource_providers", mv="one.two")
    placement_error(resp, 400)


def test_one_provider_per_compute_host(admin):
    rps = admin.providers()
    assert set(rps) == {"compute1", "compute2"}
    for rp in rps.values():
        uuid.UUID(rp["uuid"])
        assert rp["root_provider_uuid"] == rp["uuid"]
        assert rp["parent_provider_uuid"] is None
        assert isinstance(rp["generation"], int)
        assert any(lk["rel"] == "self" for lk in rp["links"])


def test_provider_uuid_matches_hypervisor_id(admin):
    hvs = admin.compute("GET", "/os-hypervisors/detail", mv="2.88").json()["hypervisors"]
    rps = admin.providers()
    for h in hvs:
        assert rps[h["hypervisor_hostname"]]["uuid"] == h["id"]


def test_inventories(admin):
    for rp in admin.providers().values():
        resp = admin.placement("GET", f"/resource_providers/{rp['uuid']}/inventories")
        body = resp.json()
        assert body["resource_provider_generation"] == rp["generation"]
        inv = body["inventories"]
        assert set(inv) >= {"VCPU", "MEMORY_MB", "DISK_GB"}
        for rc in ("VCPU", "MEMORY_MB", "DISK_GB"):
            assert set(inv[rc]) == INV_KEYS
            assert inv[rc]["min_unit"] >= 1 and inv[rc]["step_size"] >= 1
            assert inv[rc]["max_unit"] <= inv[rc]["total"]
        assert inv["VCPU"]["total"] == 16
        assert inv["MEMORY_MB"]["total"] == 32768
        assert inv["DISK_GB"]["total"] == 500


def test_usages_follow_servers(admin, ctl):
    assert all(
        all(v == 0 for v in admin.usages(rp["uuid"]).values()) for rp in admin.providers().values()
    )
    sid = admin.boot("vm", flavor="m1.small")
    ctl.settle()
    host = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
    rp = admin.rp_uuid(host)
    assert admin.usages(rp) == {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}
    resp = admin.placement("GET", "/usages", mv="1.9", params={"project_id": admin.project_id})
    assert resp.json()["usages"] == {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}


def test_total_usages_grouped_by_consumer_type_from_1_38(admin, ctl):
    # placement/handlers/usage.py get_total_usages; nova's consumers have no type,
    # so they are reported under "unknown" (gabbits/consumer-types-1.38.yaml)
    admin.boot("vm", flavor="m1.small")
    ctl.settle()
    resp = admin.placement("GET", "/usages", mv="1.38", params={"project_id": admin.project_id})
    assert resp.status_code == 200
    assert resp.json()["usages"] == {
        "unknown": {"consumer_count": 1, "VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}
    }
    resp = admin.placement(
        "GET", "/usages", mv="1.38", params={"project_id": admin.project_id, "consumer_type": "all"}
    )
    assert resp.json()["usages"] == {
        "all": {"consumer_count": 1, "VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}
    }


def test_allocations_for_consumer(admin, ctl):
    sid = admin.boot("vm", flavor="m1.small")
    ctl.settle()
    host = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
    rp = admin.rp_uuid(host)
    resp = admin.placement("GET", f"/allocations/{sid}", mv="1.28")
    body = resp.json()
    assert alloc_resources_by_rp(body["allocations"]) == {
        rp: {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20}
    }
    assert isinstance(body["allocations"][rp]["generation"], int)
    assert body["project_id"] == admin.project_id
    assert body["user_id"] == admin.user_id
    assert isinstance(body["consumer_generation"], int)
    old = admin.placement("GET", f"/allocations/{sid}", mv="1.11").json()
    assert "project_id" not in old and "consumer_generation" not in old
    # nova writes allocations at <= 1.36 and never sends consumer_type, so placement
    # reports its NULL_CONSUMER_TYPE_ALIAS (placement/objects/consumer_type.py)
    assert admin.placement("GET", f"/allocations/{sid}", mv="1.38").json()["consumer_type"] == (
        "unknown"
    )


def test_allocations_unknown_consumer_is_empty_not_404(admin):
    resp = admin.placement("GET", f"/allocations/{uuid.uuid4()}", mv="1.28")
    assert resp.status_code == 200
    assert resp.json() == {"allocations": {}}


def test_allocations_by_provider(admin, ctl):
    sid = admin.boot("vm")
    ctl.settle()
    rp = admin.rp_uuid(admin.server(sid)["OS-EXT-SRV-ATTR:host"])
    body = admin.placement("GET", f"/resource_providers/{rp}/allocations").json()
    assert body["allocations"] == {sid: {"resources": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}}}
    assert isinstance(body["resource_provider_generation"], int)


def test_unknown_provider_404(admin):
    missing = str(uuid.uuid4())
    err = placement_error(admin.placement("GET", f"/resource_providers/{missing}"), 404)
    assert err["title"] == "Not Found"
    placement_error(admin.placement("GET", f"/resource_providers/{missing}/allocations"), 404)


def test_provider_filter_by_name(admin):
    resp = admin.placement("GET", "/resource_providers", params={"name": "compute1"})
    assert [rp["name"] for rp in resp.json()["resource_providers"]] == ["compute1"]


def test_placement_forbidden_for_member(member):
    err = placement_error(member.placement("GET", "/resource_providers"), 403)
    assert (
        "Policy does not allow placement:resource_providers:list to be performed."
        in (err["detail"])
    )


def test_placement_requires_token(admin):
    resp = admin.placement("GET", "/resource_providers", token=False)
    assert resp.status_code == 401


def test_usage_never_exceeds_capacity(admin, member, ctl):
    # two projects ask for 10 x 8 GiB: more RAM than the two 32 GiB hosts have
    for i in range(5):
        assert admin.create_server(f"big{i}", flavor="m1.large").status_code == 202
        assert member.create_server(f"big{i}", flavor="m1.large").status_code == 202
    ctl.settle()
    servers = admin.servers_detail(all_tenants="1")
    assert len(servers) == 10
    assert {s["status"] for s in servers} == {"ACTIVE", "ERROR"}
    for rp in admin.providers().values():
        inv = admin.inventories(rp["uuid"])
        for rc, used in admin.usages(rp["uuid"]).items():
            cap = (inv[rc]["total"] - inv[rc]["reserved"]) * inv[rc]["allocation_ratio"]
            assert used <= cap, (rp["name"], rc, used, cap)
