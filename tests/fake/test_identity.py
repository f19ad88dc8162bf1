"""Keystone v3 as keystoneauth/openstacksdk use it."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import requests

from .helpers import token_request


def _port(url):
    return urlparse(url).port


def test_endpoint_is_bound_on_loopback_with_a_real_port(cloud):
    parsed = urlparse(cloud.endpoint)
    assert parsed.hostname == "127.0.0.1"
    assert parsed.port and parsed.port > 0
    assert cloud.auth_url == cloud.endpoint + "/identity"


def test_version_discovery_hrefs_carry_the_bound_port(cloud):
    resp = requests.get(cloud.auth_url, headers={"Accept": "application/json"}, timeout=10)
    assert resp.status_code in (200, 300)
    values = resp.json()["versions"]["values"]
    v3 = [v for v in values if v["id"].startswith("v3")]
    assert v3, values
    assert v3[0]["status"] == "stable"
    hrefs = [link["href"] for link in v3[0]["links"] if link["rel"] == "self"]
    assert hrefs, v3[0]
    parsed = urlparse(hrefs[0])
    assert parsed.port == _port(cloud.endpoint)
    assert parsed.hostname == "127.0.0.1"
    assert parsed.path.rstrip("/").endswith("/identity/v3")


def test_v3_version_document(cloud):
    resp = requests.get(cloud.auth_url + "/v3", timeout=10)
    assert resp.status_code == 200
    version = resp.json()["version"]
    assert version["id"].startswith("v3.")
    assert version["status"] == "stable"
    self_href = next(lk["href"] for lk in version["links"] if lk["rel"] == "self")
    assert _port(self_href) == _port(cloud.endpoint)


def test_password_auth_returns_201_and_subject_token(cloud):
    auth = cloud.cloud_config(admin=True)["auth"]
    resp = token_request(cloud.auth_url, auth["username"], auth["password"], auth["project_name"])
    assert resp.status_code == 201, resp.text
    assert resp.headers.get("X-Subject-Token")
    token = resp.json()["token"]
    for key in ("methods", "expires_at", "issued_at", "user", "project", "roles", "catalog"):
        assert key in token, key
    assert token["methods"] == ["password"]
    assert token["user"]["name"] == auth["username"]
    assert token["project"]["name"] == auth["project_name"]
    assert token["user"]["id"] and token["project"]["id"]


def test_catalog_has_compute_placement_image_identity_public_endpoints(cloud):
    auth = cloud.cloud_config(admin=True)["auth"]
    resp = token_request(cloud.auth_url, auth["username"], auth["password"], auth["project_name"])
    catalog = resp.json()["token"]["catalog"]
    types = {svc["type"] for svc in catalog}
    assert {"compute", "placement", "image", "identity"} <= types
    for svc in catalog:
        public = [ep for ep in svc["endpoints"] if ep["interface"] == "public"]
        assert public, svc
        for ep in public:
            assert ep["region"] == "RegionOne"
            assert ep["region_id"] == "RegionOne"
            assert _port(ep["url"]) == _port(cloud.endpoint), ep


def test_roles_admin_vs_member(cloud):
    a = cloud.cloud_config(admin=True)["auth"]
    m = cloud.cloud_config(admin=False)["auth"]
    assert a["username"] == "admin" and a["project_name"] == "admin"
    assert m["username"] == "demo" and m["project_name"] == "demo"
    ra = token_request(cloud.auth_url, a["username"], a["password"], a["project_name"]).json()
    rm = token_request(cloud.auth_url, m["username"], m["password"], m["project_name"]).json()
    admin_roles = {r["name"] for r in ra["token"]["roles"]}
    member_roles = {r["name"] for r in rm["token"]["roles"]}
    assert "admin" in admin_roles
    assert "admin" not in member_roles
    assert "member" in member_roles


def test_bad_password_is_401_with_keystone_error_body(cloud):
    auth = cloud.cloud_config(admin=True)["auth"]
    resp = token_request(cloud.auth_url, auth["username"], "wrong-password", auth["project_name"])
    assert resp.status_code == 401
    assert "X-Subject-Token" not in resp.headers
    err = resp.json()["error"]
    assert err["code"] == 401
    assert err["title"] == "Unauthorized"
    assert err["message"]


def test_unknown_user_is_401(cloud):
    resp = token_request(cloud.auth_url, "nobody", "x", "admin")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 401


def test_missing_token_is_401(admin):
    resp = admin.compute("GET", "/servers", token=False)
    assert resp.status_code == 401
    err = resp.json()["error"]
    assert err["code"] == 401 and err["title"] == "Unauthorized"
    assert "requires authentication" in err["message"]
    assert resp.headers.get("WWW-Authenticate", "").startswith("Keystone uri=")


def test_unknown_token_is_401_everywhere(admin):
    bad = {"X-Auth-Token": "gAAAAA-not-a-real-token"}
    for resp in (
        admin.request("GET", admin.catalog["compute"] + "/servers", token=False, headers=bad),
        admin.request(
            "GET", admin.catalog["placement"] + "/resource_providers", token=False, headers=bad
        ),
        admin.image("GET", "/images", token=False, headers=bad),
    ):
        assert resp.status_code == 401, (resp.url, resp.status_code, resp.text)


def test_openstacksdk_connects_and_lists(conn):
    flavors = {f.name for f in conn.compute.flavors()}
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large"} <= flavors
    assert conn.current_project_id


def test_openstacksdk_member_connects(member_conn):
    assert list(member_conn.compute.servers()) == []


def test_validate_token(cloud):
    auth = cloud.cloud_config(admin=True)["auth"]
    resp = token_request(cloud.auth_url, auth["username"], auth["password"], auth["project_name"])
    tok = resp.headers["X-Subject-Token"]
    check = requests.get(
        cloud.auth_url + "/v3/auth/tokens",
        headers={"X-Auth-Token": tok, "X-Subject-Token": tok},
        timeout=10,
    )
    assert check.status_code == 200
    assert check.headers["X-Subject-Token"] == tok
    assert check.json()["token"]["user"]["name"] == auth["username"]
    bad = requests.get(
        cloud.auth_url + "/v3/auth/tokens",
        headers={"X-Auth-Token": tok, "X-Subject-Token": "bogus"},
        timeout=10,
    )
    assert bad.status_code == 404


def test_auth_with_domain_and_project_ids(cloud):
    auth = cloud.cloud_config(admin=True)["auth"]
    first = token_request(cloud.auth_url, auth["username"], auth["password"], auth["project_name"])
    project_id = first.json()["token"]["project"]["id"]
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": auth["username"],
                        "domain": {"id": "default"},
                        "password": auth["password"],
                    }
                },
            },
            "scope": {"project": {"id": project_id}},
        }
    }
    resp = requests.post(cloud.auth_url + "/v3/auth/tokens", json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    assert resp.json()["token"]["project"]["id"] == project_id


def test_token_timestamps_are_keystone_format(cloud):
    auth = cloud.cloud_config(admin=True)["auth"]
    token = token_request(
        cloud.auth_url, auth["username"], auth["password"], auth["project_name"]
    ).json()["token"]
    for key in ("expires_at", "issued_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", token[key]), token[key]
    assert token["expires_at"] > token["issued_at"]
