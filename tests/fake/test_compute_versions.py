"""Compute version discovery and microversion negotiation (nova/api/openstack/wsgi.py)."""

from __future__ import annotations

import pytest

from .helpers import nova_error


def test_version_document(admin):
    resp = admin.compute("GET", "", mv=None)
    assert resp.status_code == 200, resp.text
    version = resp.json()["version"]
    assert version["id"] == "v2.1"
    assert version["status"] == "CURRENT"
    assert version["version"] == "2.104"
    assert version["min_version"] == "2.1"
    assert any(link["rel"] == "self" for link in version["links"])


def test_versions_root_lists_v21(admin):
    root = admin.catalog["compute"].rsplit("/v2.1", 1)[0] + "/"
    resp = admin.request("GET", root, token=False)
    assert resp.status_code in (200, 300), resp.text
    versions = resp.json()["versions"]
    v21 = [v for v in versions if v["id"] == "v2.1"]
    assert v21 and v21[0]["version"] == "2.104" and v21[0]["min_version"] == "2.1"


@pytest.mark.parametrize("requested,echoed", [("2.1", "2.1"), ("2.53", "2.53"), ("2.104", "2.104")])
def test_new_header_is_echoed_with_vary(admin, requested, echoed):
    resp = admin.compute("GET", "/flavors", mv=requested)
    assert resp.status_code == 200
    assert resp.headers["OpenStack-API-Version"] == f"compute {echoed}"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == echoed
    vary = resp.headers.get("Vary", "")
    assert "OpenStack-API-Version" in vary
    assert "X-OpenStack-Nova-API-Version" in vary


def test_latest_means_2_104(admin):
    resp = admin.compute("GET", "/flavors", mv="latest")
    assert resp.status_code == 200
    assert resp.headers["OpenStack-API-Version"] == "compute 2.104"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.104"


def test_no_header_means_2_1(admin):
    resp = admin.compute("GET", "/flavors", mv=None)
    assert resp.status_code == 200
    assert resp.headers["OpenStack-API-Version"] == "compute 2.1"


def test_legacy_header_only(admin):
    resp = admin.compute(
        "GET", "/flavors", mv=None, headers={"X-OpenStack-Nova-API-Version": "2.60"}
    )
    assert resp.status_code == 200
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.60"
    assert resp.headers["OpenStack-API-Version"] == "compute 2.60"


@pytest.mark.parametrize("bad", ["2.105", "2.999", "3.0", "1.1"])
def test_out_of_range_is_406(admin, bad):
    resp = admin.compute("GET", "/flavors", mv=bad)
    msg = nova_error(resp, 406, "computeFault")
    assert msg == (
        f"Version {bad} is not supported by the API. Minimum is 2.1 and maximum is 2.104."
    )


@pytest.mark.parametrize("bad", ["2", "abc", "2.x", "2.1.1"])
def test_malformed_is_400(admin, bad):
    resp = admin.compute("GET", "/flavors", mv=bad)
    msg = nova_error(resp, 400)
    assert msg == (
        f"API Version String {bad} is of invalid format. Must be of format MajorNum.MinorNum."
    )


def test_error_responses_also_echo_version(admin):
    resp = admin.compute("GET", "/servers/00000000-0000-0000-0000-000000000000", mv="2.80")
    nova_error(resp, 404)
    assert resp.headers["OpenStack-API-Version"] == "compute 2.80"


def test_openstacksdk_negotiates_microversion(conn):
    # keystoneauth reads the version document and picks the highest common version
    server_mv = conn.compute.get_endpoint_data().max_microversion
    assert str(server_mv[0]) == "2" and int(server_mv[1]) == 104


def test_header_for_another_service_is_ignored(admin):
    resp = admin.compute(
        "GET", "/flavors", mv=None, headers={"OpenStack-API-Version": "placement 1.10"}
    )
    assert resp.status_code == 200
    assert resp.headers["OpenStack-API-Version"] == "compute 2.1"


def test_placement_ignores_compute_header(admin):
    resp = admin.placement(
        "GET", "/resource_providers", mv=None, headers={"OpenStack-API-Version": "compute 2.80"}
    )
    assert resp.status_code == 200
    assert resp.headers["OpenStack-API-Version"] == "placement 1.0"
