"""Nova-shaped error bodies (nova/api/openstack/wsgi.py Fault)."""

from __future__ import annotations

from .helpers import nova_error


def test_malformed_json_body_400(admin):
    resp = admin.compute(
        "POST", "/servers", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert nova_error(resp, 400) == "Malformed request body"


def test_schema_violation_400(admin):
    resp = admin.compute("POST", "/servers", json={"srv": {}})
    msg = nova_error(resp, 400)
    assert msg.startswith("Invalid input for field/attribute")


def test_unknown_action_400(admin, active_server):
    sid, _ = active_server
    resp = admin.action(sid, {"notAnAction": None})
    assert resp.status_code == 400
    assert list(resp.json()) == ["badRequest"]


def test_conflict_body_shape(admin, active_server):
    sid, _ = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/1", mv="2.24")
    assert resp.status_code in (202, 400, 404)
    resp = admin.action(
        sid, {"os-migrateLive": {"host": None, "block_migration": "auto"}}, mv="2.80"
    )
    nova_error(resp, 409, "conflictingRequest")


def test_forbidden_body_shape(member):
    nova_error(member.compute("GET", "/os-hypervisors"), 403, "forbidden")


def test_not_found_body_shape(admin):
    nova_error(admin.compute("GET", "/flavors/nope"), 404, "itemNotFound")


def test_json_content_type(admin):
    resp = admin.compute("GET", "/servers/00000000-0000-0000-0000-000000000000")
    assert resp.headers["Content-Type"].startswith("application/json")


def test_networks_required_from_2_37(admin):
    body = admin.server_body("x")
    del body["server"]["networks"]
    resp = admin.compute("POST", "/servers", mv="2.37", json=body)
    msg = nova_error(resp, 400)
    assert "'networks' is a required property" in msg


def test_request_id_headers(admin):
    resp = admin.compute("GET", "/flavors")
    rid = resp.headers["x-openstack-request-id"]
    assert rid.startswith("req-")
    assert resp.headers["x-compute-request-id"] == rid
    presp = admin.placement("GET", "/resource_providers")
    assert presp.headers["x-openstack-request-id"].startswith("req-")
