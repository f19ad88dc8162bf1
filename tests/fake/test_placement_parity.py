"""Placement differences from real Placement 16 found by issue 9's sweep.

Expectations come from placement's handlers (allocation.py, allocation_candidate.py,
trait.py, resource_provider.py) and util.json_error_formatter.
"""

from __future__ import annotations

import uuid

import pytest

from .helpers import placement_error


def _put(admin, consumer, body, mv="1.28"):
    return admin.placement("PUT", f"/allocations/{consumer}", mv=mv, json=body)


def _body(admin, rp, resources=None, **extra):
    body = {
        "allocations": {rp: {"resources": resources or {"VCPU": 1}}},
        "project_id": admin.project_id,
        "user_id": admin.user_id,
    }
    body.update(extra)
    return body


def test_consumer_generation_conflict_is_concurrent_update(admin):
    rp = admin.rp_uuid("compute1")
    consumer = str(uuid.uuid4())
    assert _put(admin, consumer, _body(admin, rp, consumer_generation=None)).status_code == 204
    err = placement_error(_put(admin, consumer, _body(admin, rp, consumer_generation=7)), 409)
    assert err["code"] == "placement.concurrent_update"
    assert "consumer generation conflict - expected 1 but got 7" in err["detail"]
    err = placement_error(
        _put(admin, str(uuid.uuid4()), _body(admin, rp, consumer_generation=3)), 409
    )
    assert "expected null but got 3" in err["detail"]
    # an existing consumer and a null generation: placement prints Python's None
    err = placement_error(_put(admin, consumer, _body(admin, rp, consumer_generation=None)), 409)
    assert err["detail"].endswith("consumer generation conflict - expected 1 but got None  ")


def test_inventory_generation_conflict_is_concurrent_update(admin):
    rp = admin.rp_uuid("compute1")
    body = {"resource_provider_generation": 99999, "total": 8}
    resp = admin.placement("PUT", f"/resource_providers/{rp}/inventories/VCPU", json=body)
    assert placement_error(resp, 409)["code"] == "placement.concurrent_update"


def test_missing_consumer_generation_from_1_28_is_400(admin):
    rp = admin.rp_uuid("compute1")
    err = placement_error(_put(admin, str(uuid.uuid4()), _body(admin, rp)), 400)
    assert "'consumer_generation' is a required property" in err["detail"]
    # placement's extract_json: jsonschema's whole error, newlines flattened by webob
    assert "Failed validating 'required' in schema:" in err["detail"]
    flat = " ".join(err["detail"].split())
    assert "'required': ['allocations', 'project_id', 'user_id', 'consumer_generation']" in flat
    assert "On instance:" in err["detail"] and "\n" not in err["detail"].split("\n\n", 1)[1]
    assert _put(admin, str(uuid.uuid4()), _body(admin, rp), mv="1.27").status_code == 204


def test_unknown_resource_class_is_400(admin):
    rp = admin.rp_uuid("compute1")
    consumer = str(uuid.uuid4())
    body = _body(admin, rp, {"BOGUS_THING": 1}, consumer_generation=None)
    err = placement_error(_put(admin, consumer, body), 400)
    assert (
        f"Unable to allocate inventory for consumer {consumer}: No such resource class "
        in (err["detail"])
    )
    # a known class the provider has no inventory of is a conflict
    body = _body(admin, rp, {"PCPU": 1}, consumer_generation=None)
    placement_error(_put(admin, str(uuid.uuid4()), body), 409)


def test_list_shaped_body_before_1_12(admin):
    rp = admin.rp_uuid("compute1")
    consumer = str(uuid.uuid4())
    body = {"allocations": [{"resource_provider": {"uuid": rp}, "resources": {"VCPU": 2}}]}
    assert _put(admin, consumer, body, mv="1.0").status_code == 204
    assert admin.allocations(consumer) == {rp: {"resources": {"VCPU": 2}, "generation": 2}}
    assert admin.usages(rp)["VCPU"] == 2


def test_error_code_only_from_1_23_and_detail_starts_with_webob_text(admin):
    missing = str(uuid.uuid4())
    old = placement_error(admin.placement("GET", f"/resource_providers/{missing}", mv="1.22"), 404)
    assert "code" not in old
    assert old["detail"].startswith("The resource could not be found.\n\n ")
    new = placement_error(admin.placement("GET", f"/resource_providers/{missing}", mv="1.23"), 404)
    assert new["code"] == "placement.undefined_code"


@pytest.mark.parametrize(
    "mv,rels",
    [
        ("1.0", ["self", "inventories", "usages"]),
        ("1.6", ["self", "inventories", "usages", "aggregates", "traits"]),
        ("1.14", ["self", "inventories", "usages", "aggregates", "traits", "allocations"]),
    ],
)
def test_provider_links(admin, mv, rels):
    rp = admin.placement("GET", "/resource_providers", mv=mv).json()["resource_providers"][0]
    assert [lk["rel"] for lk in rp["links"]] == rels
    for link in rp["links"]:
        path = link["href"].removeprefix("/placement")
        assert admin.placement("GET", path, mv=mv).status_code == 200, link


def test_compute_providers_carry_compute_traits(admin):
    rp = admin.rp_uuid("compute1")
    body = admin.placement("GET", f"/resource_providers/{rp}/traits", mv="1.6").json()
    # the resource tracker's: COMPUTE_NODE and OWNER_NOVA always, the driver's capability
    # traits, COMPUTE_REMOTE_MANAGED_PORTS only with remote-managed PCI devices (none here)
    assert {"COMPUTE_NODE", "OWNER_NOVA", "COMPUTE_VOLUME_EXTEND"} <= set(body["traits"])
    assert "COMPUTE_REMOTE_MANAGED_PORTS" not in body["traits"]
    assert all(t.startswith("COMPUTE_") for t in set(body["traits"]) - {"OWNER_NOVA"})
    listed = admin.placement("GET", "/traits", mv="1.6", params={"associated": "true"}).json()
    assert set(body["traits"]) <= set(listed["traits"])
    assert admin.placement("GET", "/traits", mv="1.5").status_code == 404
    assert admin.placement("PUT", "/traits/CUSTOM_GOLD", mv="1.6").status_code == 201
    assert admin.placement("PUT", "/traits/CUSTOM_GOLD", mv="1.6").status_code == 204
    assert admin.placement("GET", "/traits/CUSTOM_GOLD", mv="1.6").status_code == 204
    placement_error(admin.placement("PUT", "/traits/GOLD", mv="1.6"), 400)


def _candidates(admin, mv="1.39", **params):
    return admin.placement("GET", "/allocation_candidates", mv=mv, params=params)


def test_allocation_candidates_follow_capacity_usage_and_traits(admin, ctl):
    rp1, rp2 = admin.rp_uuid("compute1"), admin.rp_uuid("compute2")
    body = _candidates(admin, resources="VCPU:1,MEMORY_MB:512").json()
    assert {next(iter(r["allocations"])) for r in body["allocation_requests"]} == {rp1, rp2}
    summary = body["provider_summaries"][rp1]
    # Nova's defaults: 16 VCPUs at initial_cpu_allocation_ratio 4.0, 512 MB reserved
    assert summary["resources"]["VCPU"] == {"capacity": 64, "used": 0}
    assert summary["resources"]["MEMORY_MB"] == {"capacity": 32768 - 512, "used": 0}
    assert "COMPUTE_NODE" in summary["traits"]
    # usage counts: fill compute1's VCPUs with direct allocations (max_unit 16 each)
    err = placement_error(
        _put(admin, str(uuid.uuid4()), _body(admin, rp1, {"VCPU": 17}, consumer_generation=None)),
        409,
    )
    assert "The requested amount would violate inventory constraints." in err["detail"]
    for _ in range(4):
        full = _body(admin, rp1, {"VCPU": 16}, consumer_generation=None)
        assert _put(admin, str(uuid.uuid4()), full).status_code == 204
    over = _body(admin, rp1, {"VCPU": 1}, consumer_generation=None)
    err = placement_error(_put(admin, str(uuid.uuid4()), over), 409)
    assert err["detail"].endswith(
        f"Unable to allocate inventory: Unable to create allocation for 'VCPU' on resource "
        f"provider '{rp1}'. The requested amount would exceed the capacity.  "
    )
    body = _candidates(admin, resources="VCPU:1").json()
    assert [next(iter(r["allocations"])) for r in body["allocation_requests"]] == [rp2]
    # traits: a disabled compute carries COMPUTE_STATUS_DISABLED
    from .lm import update_service

    update_service(admin, "compute2", status="disabled", disabled_reason="maint")
    body = _candidates(admin, resources="MEMORY_MB:1", required="!COMPUTE_STATUS_DISABLED").json()
    assert [next(iter(r["allocations"])) for r in body["allocation_requests"]] == [rp1]
    body = _candidates(admin, resources="MEMORY_MB:1", required="COMPUTE_STATUS_DISABLED").json()
    assert [next(iter(r["allocations"])) for r in body["allocation_requests"]] == [rp2]
    assert _candidates(admin, resources="MEMORY_MB:1", limit="1").json()["allocation_requests"]


def test_allocation_candidates_errors_and_versions(admin):
    assert _candidates(admin, mv="1.9", resources="VCPU:1").status_code == 404
    old = _candidates(admin, mv="1.10", resources="VCPU:1").json()
    assert isinstance(old["allocation_requests"][0]["allocations"], list)
    err = placement_error(_candidates(admin), 400)
    assert "'resources' is a required property" in err["detail"]
    err = placement_error(_candidates(admin, resources="NOPE:1"), 400)
    assert (
        "Invalid resource class in resources parameter: No such resource class NOPE."
        in (err["detail"])
    )
    err = placement_error(_candidates(admin, resources="VCPU:1", required="CUSTOM_NOPE"), 400)
    assert "No such trait(s): CUSTOM_NOPE." in err["detail"]
    placement_error(_candidates(admin, resources="VCPU:x"), 400)
    placement_error(_candidates(admin, mv="1.16", resources="VCPU:1", required="X"), 400)


def test_unacceptable_microversion_is_microversion_parse_s_406(admin):
    resp = admin.placement("GET", "/resource_providers", mv="1.99")
    err = placement_error(resp, 406)
    assert err["detail"] == (
        "The resource could not be generated that was acceptable to your browser (content "
        "of type application/json. \n\n Invalid microversion: Unacceptable version header: 1.99"
    )
    assert (err["min_version"], err["max_version"]) == ("1.0", "1.39")
    assert "code" not in err
