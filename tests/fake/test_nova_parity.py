"""Differences from real Nova found by issue 9's sweep, each pinned by a test.

Expectations come from Nova's source (paths in each docstring) and from what real
Nova 34 answered, not from the fake's code.
"""

from __future__ import annotations

import pytest

from .helpers import LATEST, nova_error
from .lm import other, run_until_status, update_service

# -- servers: security_groups ------------------------------------------------------------


def test_no_security_groups_without_ports(admin, ctl):
    """views/servers.py _add_security_grps: groups come from the server's ports."""
    sid = admin.boot("no-net", networks="none")
    ctl.settle()
    assert "security_groups" not in admin.server(sid)
    listed = {s["id"]: s for s in admin.servers_detail()}
    assert "security_groups" not in listed[sid]
    resp = admin.compute("PUT", f"/servers/{sid}", mv="2.75", json={"server": {"name": "x"}})
    assert resp.status_code == 200, resp.text
    assert "security_groups" not in resp.json()["server"]


def test_security_groups_with_a_port_and_in_the_create_answer(admin, ctl):
    resp = admin.create_server("with-net", networks="auto")
    assert resp.status_code == 202, resp.text
    # create_request=True: the request's groups, or default
    assert resp.json()["server"]["security_groups"] == [{"name": "default"}]
    sid = resp.json()["server"]["id"]
    ctl.settle()
    assert admin.server(sid)["security_groups"] == [{"name": "default"}]


# -- server tags (2.26) ------------------------------------------------------------------


@pytest.fixture
def tagged(admin, ctl):
    sid = admin.boot("tagged")
    ctl.settle()
    return sid


def test_put_tag_is_201_then_listed_shown_and_in_the_server(admin, tagged):
    resp = admin.compute("PUT", f"/servers/{tagged}/tags/blue", mv="2.26")
    assert resp.status_code == 201, resp.text
    assert resp.headers["Location"].endswith(f"/servers/{tagged}/tags/blue")
    assert admin.compute("PUT", f"/servers/{tagged}/tags/blue", mv="2.26").status_code == 204
    assert admin.compute("GET", f"/servers/{tagged}/tags/blue", mv="2.26").status_code == 204
    assert admin.compute("GET", f"/servers/{tagged}/tags", mv="2.26").json() == {"tags": ["blue"]}
    assert admin.server(tagged, mv="2.26")["tags"] == ["blue"]
    resp = admin.compute("GET", f"/servers/{tagged}/tags/red", mv="2.26")
    assert nova_error(resp, 404) == f"Server {tagged} has no tag 'red'"


def test_tags_replace_delete_and_limits(admin, tagged):
    resp = admin.compute("PUT", f"/servers/{tagged}/tags", mv="2.26", json={"tags": ["b", "a"]})
    assert resp.status_code == 200, resp.text
    assert sorted(resp.json()["tags"]) == ["a", "b"]
    assert admin.compute("DELETE", f"/servers/{tagged}/tags/a", mv="2.26").status_code == 204
    resp = admin.compute("DELETE", f"/servers/{tagged}/tags/a", mv="2.26")
    assert nova_error(resp, 404) == f"Instance {tagged} has no tag 'a'"
    assert admin.compute("DELETE", f"/servers/{tagged}/tags", mv="2.26").status_code == 204
    assert admin.server(tagged)["tags"] == []
    many = {"tags": [f"t{i}" for i in range(51)]}
    nova_error(admin.compute("PUT", f"/servers/{tagged}/tags", mv="2.26", json=many), 400)
    bad = admin.compute("PUT", f"/servers/{tagged}/tags/a%2Cb", mv="2.26")
    assert nova_error(bad, 400).startswith("Tag 'a,b' is invalid.")
    full = {"tags": [f"t{i}" for i in range(50)]}
    assert admin.compute("PUT", f"/servers/{tagged}/tags", mv="2.26", json=full).ok
    resp = admin.compute("PUT", f"/servers/{tagged}/tags/one-more", mv="2.26")
    assert nova_error(resp, 400) == "The number of tags exceeded the per-server limit 50"


def test_tags_gone_below_2_26_and_policy_for_other_projects(admin, member, tagged):
    nova_error(admin.compute("GET", f"/servers/{tagged}/tags", mv="2.25"), 404)
    resp = member.compute("GET", f"/servers/{tagged}/tags", mv="2.26")
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-server-tags:index to be performed."
    )


def test_tags_of_unknown_and_deleted_servers(admin, ctl, tagged):
    unknown = "00000000-0000-4000-8000-000000000000"
    resp = admin.compute("GET", f"/servers/{unknown}/tags", mv="2.26")
    assert nova_error(resp, 404) == f"Instance {unknown} has no mapping to a cell."
    assert admin.compute("DELETE", f"/servers/{tagged}").status_code == 204
    ctl.settle()
    resp = admin.compute("GET", f"/servers/{tagged}/tags", mv="2.26")
    assert nova_error(resp, 404) == f"Instance {tagged} could not be found."


def test_tags_need_a_settled_server(admin):
    sid = admin.boot("building")  # still BUILD: vm_state building
    resp = admin.compute("PUT", f"/servers/{sid}/tags/x", mv="2.26")
    assert nova_error(resp, 409) == (
        f"Cannot 'update tag' instance {sid} while it is in vm_state building"
    )


def test_create_with_tags_and_list_filters(admin, ctl):
    ids = {
        name: admin.boot(name, mv="2.52", tags=tags)
        for name, tags in (("t-ab", ["a", "b"]), ("t-a", ["a"]), ("t-none", []))
    }
    ctl.settle()

    def names(**params):
        return {s["name"] for s in admin.servers_detail(mv="2.26", **params)}

    assert names(tags="a,b") == {"t-ab"}
    assert names(**{"tags-any": "a,b"}) == {"t-ab", "t-a"}
    assert names(**{"not-tags": "a,b"}) == {"t-a", "t-none"}
    assert names(**{"not-tags-any": "b"}) == {"t-a", "t-none"}
    assert admin.server(ids["t-ab"])["tags"] == ["a", "b"]
    resp = admin.create_server("old", mv="2.51", tags=["a"])
    assert "'tags' was unexpected" in nova_error(resp, 400)


# -- GET /servers/detail filters -------------------------------------------------------


def test_detail_node_and_locked_filters(admin, ctl):
    a = admin.boot("f-a")
    b = admin.boot("f-b")
    ctl.settle()
    host_a = admin.server(a)["OS-EXT-SRV-ATTR:hypervisor_hostname"]
    on_a = {s["id"] for s in admin.servers_detail(node=host_a)}
    assert a in on_a and (b in on_a) == (admin.server(b)["OS-EXT-SRV-ATTR:host"] == host_a)
    assert admin.action(a, {"lock": None}).status_code == 202
    assert [s["id"] for s in admin.servers_detail(mv="2.73", locked="true")] == [a]
    assert [s["id"] for s in admin.servers_detail(mv="2.73", locked="false")] == [b]
    resp = admin.compute("GET", "/servers/detail", mv="2.73", params={"locked": "maybe"})
    assert nova_error(resp, 400) == (
        "Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', "
        "'no', 'off', 'on', 't', 'true', 'y', 'yes'"
    )


def test_detail_bad_sort_key_is_400_and_sort_honoured(admin, ctl):
    resp = admin.compute("GET", "/servers/detail", params={"sort_key": "bogus"})
    assert nova_error(resp, 400).startswith(
        "Invalid input for query parameters sort_key. Value: bogus. 'bogus' is not one of"
    )
    for name in ("s-b", "s-a", "s-c"):
        admin.boot(name)
    ctl.settle()
    listed = admin.servers_detail(sort_key="display_name", sort_dir="asc")
    assert [s["name"] for s in listed] == ["s-a", "s-b", "s-c"]
    # a sort key Nova accepts but ignores until 2.75, refuses from 2.75
    assert len(admin.servers_detail(mv="2.74", sort_key="vcpus")) == 3
    nova_error(admin.compute("GET", "/servers/detail", params={"sort_key": "vcpus"}), 400)


def test_detail_unknown_parameters_from_2_75_and_joined_tables(admin, member):
    resp = admin.compute("GET", "/servers/detail", params={"colour": "blue"})
    assert (
        nova_error(resp, 400) == "Additional properties are not allowed ('colour' was unexpected)"
    )
    assert admin.compute("GET", "/servers/detail", mv="2.74", params={"colour": "b"}).ok
    resp = admin.compute("GET", "/servers/detail", mv="2.74", params={"metadata": "x"})
    assert nova_error(resp, 400) == "Invalid filter field: metadata."
    assert member.compute("GET", "/servers/detail", mv="2.74", params={"metadata": "x"}).ok


def test_admin_lists_deleted_servers(admin, member, ctl):
    keep = admin.boot("keep")
    gone = admin.boot("gone")
    ctl.settle()
    assert admin.compute("PUT", f"/servers/{gone}/tags/blue", mv="2.26").status_code == 201
    assert admin.compute("DELETE", f"/servers/{gone}").status_code == 204
    ctl.settle()
    deleted = admin.servers_detail(deleted="true")
    assert [s["id"] for s in deleted] == [gone]
    # _delete_instance: NOSTATE, terminated_at; the tags were destroyed with it
    assert deleted[0]["status"] == "DELETED"
    assert deleted[0]["OS-EXT-STS:power_state"] == 0
    assert deleted[0]["OS-SRV-USG:terminated_at"] is not None
    assert deleted[0]["tags"] == []
    assert keep in {s["id"] for s in admin.servers_detail()}
    # a member's "deleted" is stripped: the usual list
    assert member.servers_detail(deleted="true") == []


# -- create with host / hypervisor_hostname (2.74) ----------------------------------------


def test_create_on_a_requested_host(admin, member, ctl):
    hosts = [
        h["hypervisor_hostname"]
        for h in admin.compute("GET", "/os-hypervisors").json()["hypervisors"]
    ]
    target = hosts[-1]
    for i in range(2):
        admin.boot(f"pinned{i}", mv="2.74", host=target)
    sid = admin.boot("by-node", mv="2.74", hypervisor_hostname=target)
    ctl.settle()
    placed = {s["OS-EXT-SRV-ATTR:host"] for s in admin.servers_detail()}
    assert placed == {target}, placed
    assert admin.server(sid)["status"] == "ACTIVE"
    resp = admin.create_server("nowhere", mv="2.74", host="no-such-host")
    assert nova_error(resp, 400) == "Compute host no-such-host could not be found."
    resp = member.create_server("mine", mv="2.74", host=target)
    assert nova_error(resp, 403) == (
        "Policy doesn't allow compute:servers:create:requested_destination to be performed."
    )
    resp = admin.create_server("old", mv="2.73", host=target)
    assert "'host' was unexpected" in nova_error(resp, 400)


# -- lock / unlock -----------------------------------------------------------------------


def test_lock_reason_ignored_before_2_73_and_api_events(admin, ctl, active_server):
    sid, _ = active_server
    resp = admin.action(sid, {"lock": {"locked_reason": "maint"}}, mv="2.72")
    assert resp.status_code == 202, resp.text
    assert admin.server(sid, mv="2.73")["locked_reason"] is None
    assert admin.action(sid, {"unlock": None}).status_code == 202
    actions = admin.compute("GET", f"/servers/{sid}/os-instance-actions").json()["instanceActions"]
    by_name = {a["action"]: a["request_id"] for a in actions}
    for name in ("lock", "unlock"):
        detail = admin.compute("GET", f"/servers/{sid}/os-instance-actions/{by_name[name]}")
        events = detail.json()["instanceAction"]["events"]
        assert [(e["event"], e["result"]) for e in events] == [(f"api_{name}", "Success")]


def test_owner_relocking_records_nothing(member, ctl):
    sid = member.boot("mine")
    ctl.settle()
    assert member.action(sid, {"lock": None}).status_code == 202
    assert member.action(sid, {"lock": None}).status_code == 202
    actions = member.compute("GET", f"/servers/{sid}/os-instance-actions").json()
    assert [a["action"] for a in actions["instanceActions"]].count("lock") == 1


# -- os-migrations -----------------------------------------------------------------------


def test_refused_migration_has_no_nodes(admin, ctl, active_server):
    """LiveMigrationTask._execute writes source_node/dest_node only after the checks."""
    sid, src = active_server
    update_service(admin, other(src), status="disabled", disabled_reason="full")
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    mig = admin.migration_of(sid)
    assert mig["status"] == "error"
    assert (mig["source_compute"], mig["source_node"], mig["dest_node"]) == (src, None, None)
    update_service(admin, other(src), status="enabled")
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    mig = admin.migration_of(sid)
    assert (mig["status"], mig["source_node"], mig["dest_node"]) == ("completed", src, other(src))


def test_os_migrations_migration_type_at_2_1_and_unknown_params(admin, ctl, active_server):
    sid, _ = active_server
    assert admin.live_migrate(sid).status_code == 202
    ctl.settle()
    assert admin.migrations(mv="2.1", migration_type="live-migration")
    assert admin.migrations(mv="2.1", migration_type="migration") == []
    resp = admin.compute("GET", "/os-migrations", mv="2.59", params={"user_id": "x"})
    assert (
        nova_error(resp, 400) == "Additional properties are not allowed ('user_id' was unexpected)"
    )
    assert admin.migrations(mv="2.80", user_id="x") == []
    resp = admin.compute("GET", "/os-migrations", mv="2.59", params={"limit": "-1"})
    assert nova_error(resp, 400) == (
        "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"
    )


# -- instance actions (2.58+) --------------------------------------------------------------


def _actions(admin, sid, mv="2.58", **params):
    return admin.compute("GET", f"/servers/{sid}/os-instance-actions", mv=mv, params=params)


def test_instance_actions_paging_and_filters(admin, ctl, active_server):
    sid, _ = active_server
    ctl.advance(10)
    for body in ({"lock": None}, {"unlock": None}):
        assert admin.action(sid, body).status_code == 202
        ctl.advance(10)
    every = _actions(admin, sid).json()["instanceActions"]
    assert [a["action"] for a in every] == ["unlock", "lock", "create"]
    page = _actions(admin, sid, limit=2).json()
    assert [a["action"] for a in page["instanceActions"]] == ["unlock", "lock"]
    nxt = page["links"][0]
    assert nxt["rel"] == "next" and f"marker={every[1]['request_id']}" in nxt["href"]
    rest = _actions(admin, sid, marker=every[1]["request_id"]).json()["instanceActions"]
    assert [a["action"] for a in rest] == ["create"]
    assert _actions(admin, sid, limit=0).json()["instanceActions"] == []
    since = every[1]["updated_at"]
    recent = _actions(admin, sid, **{"changes-since": since}).json()["instanceActions"]
    assert [a["action"] for a in recent] == ["unlock", "lock"]
    before = _actions(admin, sid, mv="2.66", **{"changes-before": since}).json()
    assert [a["action"] for a in before["instanceActions"]] == ["lock", "create"]
    assert nova_error(_actions(admin, sid, marker="req-nope"), 400) == (
        "Marker None could not be found."
    )
    # before 2.58 the parameters mean nothing
    assert len(_actions(admin, sid, mv="2.57", limit=1).json()["instanceActions"]) == 3


# -- hypervisors paging ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/os-hypervisors", "/os-hypervisors/detail"])
@pytest.mark.parametrize("mv", ["2.33", "2.53"])  # integer ids, then uuids
def test_hypervisors_paging(admin, path, mv):
    id_key = "id"
    every = admin.compute("GET", path, mv=mv).json()["hypervisors"]
    assert len(every) == 2
    page = admin.compute("GET", path, mv=mv, params={"limit": 1}).json()
    assert [h[id_key] for h in page["hypervisors"]] == [every[0][id_key]]
    link = page["hypervisors_links"][0]
    assert link["rel"] == "next" and f"marker={every[0][id_key]}" in link["href"]
    assert path in link["href"]
    rest = admin.compute("GET", path, mv=mv, params={"marker": every[0][id_key]}).json()
    assert [h[id_key] for h in rest["hypervisors"]] == [every[1][id_key]]
    nova_error(admin.compute("GET", path, mv=mv, params={"marker": "999999"}), 400)
    nova_error(admin.compute("GET", path, mv=mv, params={"limit": "x"}), 400)


def test_hypervisors_paging_with_a_pattern_and_show_by_bad_uuid(admin):
    resp = admin.compute(
        "GET", "/os-hypervisors", mv="2.53", params={"hypervisor_hostname_pattern": "c", "limit": 1}
    )
    # the text went to webob's detail: Nova's fault shows the explanation
    assert nova_error(resp, 400) == (
        "The server could not comply with the request since it is either malformed or "
        "otherwise incorrect."
    )
    assert nova_error(admin.compute("GET", "/os-hypervisors/1", mv="2.53"), 400) == (
        "Invalid uuid 1"
    )
    # below 2.33 there is no paging
    plain = admin.compute("GET", "/os-hypervisors", mv="2.32", params={"limit": 1}).json()
    assert len(plain["hypervisors"]) == 2 and "hypervisors_links" not in plain


# -- services ---------------------------------------------------------------------------


def test_service_force_down_at_2_10_checks_the_body_first(admin):
    body = {"host": "compute1", "binary": "nova-compute", "forced_down": True}
    resp = admin.compute("PUT", "/os-services/force-down", mv="2.10", json=body)
    assert nova_error(resp, 400) == (
        "Additional properties are not allowed ('forced_down' was unexpected)"
    )
    resp = admin.compute(
        "PUT", "/os-services/force-down", mv="2.10", json={"host": "compute1", "binary": "b"}
    )
    assert nova_error(resp, 404) == "Unknown action"
    assert admin.compute("PUT", "/os-services/force-down", mv="2.11", json=body).ok


def test_service_put_by_uuid_at_2_52_checks_the_body_first(admin):
    from .lm import compute_services

    uuid = compute_services(admin)["compute1"]["id"]
    resp = admin.compute("PUT", f"/os-services/{uuid}", mv="2.52", json={"status": "disabled"})
    assert nova_error(resp, 400) == "'host' is a required property"


def test_service_delete_is_admin_only_and_refused_while_hosting(admin, member, ctl):
    from .lm import compute_services

    services = compute_services(admin)
    resp = member.compute("DELETE", f"/os-services/{services['compute1']['id']}", mv="2.53")
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-services:delete to be performed."
    )
    sid = admin.boot("resident")
    ctl.settle()
    host = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
    resp = admin.compute("DELETE", f"/os-services/{services[host]['id']}", mv="2.53")
    assert nova_error(resp, 409).startswith("Unable to delete compute service that is hosting")
    empty = other(host)
    resp = admin.compute("DELETE", f"/os-services/{services[empty]['id']}", mv="2.53")
    assert resp.status_code == 204, resp.text
    assert empty not in compute_services(admin)
    assert empty not in admin.providers()


# -- 406 / unknown URL / DELETE /servers -----------------------------------------------------


def test_406_keeps_the_version_headers(admin):
    resp = admin.compute("GET", "/servers", mv="2.999")
    nova_error(resp, 406, "computeFault")
    assert resp.headers["OpenStack-API-Version"] == "compute 2.999"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.999"
    assert "OpenStack-API-Version" in resp.headers["Vary"]


def test_unrouted_json_is_webobs(admin):
    resp = admin.compute("DELETE", "/servers")  # Accept: application/json
    assert resp.status_code == 404
    assert resp.json() == {
        "code": "404 Not Found",
        "message": "The resource could not be found.<br /><br />\n\n\n",
        "title": "Not Found",
    }


def test_image_properties_from_2_98(admin, active_server):
    sid, _ = active_server
    assert "properties" not in admin.server(sid, mv="2.97")["image"]
    assert admin.server(sid, mv="2.98")["image"]["properties"] == {}


@pytest.mark.parametrize(
    "method,path", [("GET", "/no-such-thing"), ("DELETE", "/servers"), ("PATCH", "/flavors")]
)
def test_unrouted_is_a_bare_404(admin, method, path):
    resp = admin.compute(method, path, headers={"Accept": "*/*"})
    assert resp.status_code == 404
    assert not resp.headers["Content-Type"].startswith("application/json")
    assert "itemNotFound" not in resp.text


# -- message texts -----------------------------------------------------------------------


def test_schema_error_names_the_action(admin, active_server):
    sid, _ = active_server
    resp = admin.live_migrate(sid, mv=LATEST, extra_key=1)
    assert nova_error(resp, 400).startswith(
        "Invalid input for field/attribute os-migrateLive. Value: "
    )


def test_abort_and_force_complete_of_an_idle_server_say_invalid_state(admin, ctl, active_server):
    sid, _ = active_server
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    mig = run_until_status(admin, ctl, sid, "running", step=0.05)
    ctl.settle()
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/{mig['id']}", mv="2.24")
    assert nova_error(resp, 409) == (
        f"Instance {sid} is in an invalid state for 'abort live migration'"
    )
    resp = admin.compute(
        "POST",
        f"/servers/{sid}/migrations/{mig['id']}/action",
        mv="2.22",
        json={"force_complete": None},
    )
    assert nova_error(resp, 409) == f"Instance {sid} is in an invalid state for 'force_complete'"


def test_bad_query_parameters_say_query_parameters(admin):
    resp = admin.compute("GET", "/servers/detail", params={"changes-since": "yesterday"})
    assert nova_error(resp, 400).startswith("Invalid input for query parameters changes-since.")
    resp = admin.compute("GET", "/servers", params={"limit": "many"})
    assert nova_error(resp, 400).startswith("Invalid input for query parameters limit.")


def test_update_service_uses_fixture(admin):
    """update_service (lm.py) still works against the 2.53 PUT after the reordering."""
    svc = update_service(admin, "compute1", status="disabled", disabled_reason="why")
    assert svc["status"] == "disabled" and svc["disabled_reason"] == "why"
