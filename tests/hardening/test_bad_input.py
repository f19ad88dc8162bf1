"""Every bad request gets the service's JSON error (Nova, Keystone, Placement), never a 500
or an HTML page: the inputs that used to crash the fake, one by one, over real HTTP."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from fake.helpers import nova_error, placement_error

BIG = "9" * 5000


def keystone_error(resp, code: int) -> str:
    assert resp.status_code == code, f"expected {code}, got {resp.status_code}: {resp.text}"
    assert resp.headers["Content-Type"].startswith("application/json")
    err = resp.json()["error"]
    assert err["code"] == code and err["title"] and err["message"], err
    return err["message"]


def auth_body(user="admin", password="x", **over):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"name": "Default"}, "password": password}
                },
            },
            "scope": {"project": {"name": user, "domain": {"name": "Default"}}},
        }
    }
    for path, value in over.items():
        node = body["auth"]
        *parents, last = path.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    return body


def post_token(cloud, body, raw: bytes | None = None):
    import requests

    url = cloud.auth_url + "/v3/auth/tokens"
    if raw is not None:
        headers = {"Content-Type": "application/json"}
        return requests.post(url, data=raw, headers=headers, timeout=30)
    return requests.post(url, json=body, timeout=30)


@pytest.mark.parametrize(
    "over, field",
    [
        ({"identity": "password"}, "identity"),
        ({"identity__methods": "password"}, "identity/methods"),
        ({"identity__methods": [1]}, "identity/methods"),
        ({"identity__password": -5}, "identity/password"),
        ({"identity__password__user": "admin"}, "identity/password/user"),
        ({"identity__password__user__password": 12345}, "identity/password/user/password"),
        ({"identity__password__user__password": ["x"]}, "identity/password/user/password"),
        ({"identity__password__user__name": {"a": 1}}, "identity/password/user/name"),
        ({"scope": "project"}, "scope"),
        ({"scope__project": "admin"}, "scope/project"),
    ],
)
def test_identity_wrong_types_are_400_naming_the_field(cloud, over, field):
    msg = keystone_error(post_token(cloud, auth_body(**over)), 400)
    assert f"Invalid input for field '{field}'" in msg


@pytest.mark.parametrize(
    "identity",
    [
        {"methods": ["token"], "token": "abc"},
        {"methods": ["token"], "token": {"id": 5}},
        {"methods": ["token"], "token": {}},
    ],
)
def test_identity_token_method_wrong_types_are_400(cloud, identity):
    keystone_error(post_token(cloud, {"auth": {"identity": identity}}), 400)


@pytest.mark.parametrize("password", ["pässwörd", "密码", "😀", "\udcff"[:0] + "ü" * 200])
def test_non_ascii_password_is_a_plain_401(cloud, password):
    msg = keystone_error(post_token(cloud, auth_body(password=password)), 401)
    assert "requires authentication" in msg


def test_non_ascii_password_of_the_right_user_authenticates(cloud):
    user = cloud.backend.identity.users["demo"]
    old, user.password = user.password, "pässwörd-密码"
    try:
        assert post_token(cloud, auth_body("demo", "pässwörd-密码")).status_code == 201
    finally:
        user.password = old


@pytest.mark.parametrize("zone", [["nova"], {"name": "nova"}, 5, True])
def test_availability_zone_of_wrong_type_is_nova_400(admin, zone):
    resp = admin.create_server("az", availability_zone=zone)
    msg = nova_error(resp, 400)
    assert "availability_zone" in msg and "is not of type 'string'" in msg


@pytest.mark.parametrize(
    "amount, detail",
    [
        (-5, "less than the minimum of 1"),
        (0, "less than the minimum of 1"),
        (1.5, "is not of type 'integer'"),
        ("1", "is not of type 'integer'"),
        (True, "is not of type 'integer'"),
        (None, "is not of type 'integer'"),
    ],
)
def test_placement_refuses_bad_allocation_amounts(admin, amount, detail):
    rp = admin.rp_uuid("compute1")
    before = admin.usages(rp)
    body = {
        "allocations": {rp: {"resources": {"VCPU": amount, "MEMORY_MB": 512}}},
        "project_id": admin.project_id,
        "user_id": admin.user_id,
        "consumer_generation": None,
        "consumer_type": "INSTANCE",
    }
    resp = admin.placement("PUT", "/allocations/8d7a0e4e-0000-4000-8000-000000000001", json=body)
    assert detail in placement_error(resp, 400)["detail"]
    assert admin.usages(rp) == before  # nothing changed, never a negative usage


@pytest.mark.parametrize("entry", ["x", 5, ["resources"], None])
def test_placement_refuses_non_object_allocation_entry(admin, entry):
    rp = admin.rp_uuid("compute1")
    body = {
        "allocations": {rp: entry},
        "project_id": admin.project_id,
        "user_id": admin.user_id,
        "consumer_generation": None,
    }
    resp = admin.placement("PUT", "/allocations/8d7a0e4e-0000-4000-8000-000000000002", json=body)
    placement_error(resp, 400)


def test_json_nested_1000_deep_is_400(admin):
    deep = b'{"server": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    resp = admin.compute(
        "POST", "/servers", data=deep, headers={"Content-Type": "application/json"}
    )
    assert nova_error(resp, 400) == "Malformed request body"


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1e999}'])
def test_non_finite_numbers_are_malformed(admin, raw):
    resp = admin.compute("POST", "/servers", data=raw, headers={"Content-Type": "application/json"})
    assert nova_error(resp, 400) == "Malformed request body"


def test_huge_compute_microversion_is_406(admin):
    resp = admin.compute("GET", "/servers", mv="2." + BIG)
    msg = nova_error(resp, 406, "computeFault")
    assert "is not supported by the API" in msg and len(msg) < 300


def test_huge_placement_microversion_is_406(admin):
    resp = admin.placement("GET", "/resource_providers", mv="1." + BIG)
    # microversion_parse's words (issue 9: as real placement answers)
    assert "Unacceptable version header" in placement_error(resp, 406)["detail"]


def test_unicode_digits_in_ids_and_limits_are_400_or_404(admin):
    nova_error(admin.compute("GET", "/servers/detail?limit=%C2%B2"), 400)
    nova_error(admin.compute("GET", "/os-hypervisors/%C2%B2", mv="2.1"), 404)
    nova_error(admin.compute("GET", "/os-hypervisors/" + BIG, mv="2.1"), 404)


def _raw_http(cloud, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks):
                head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                length = [
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if length and len(body) >= length[0]:
                    break
        return b"".join(chunks)


def test_malformed_chunked_body_is_json_400(cloud, admin):
    request = (
        b"POST /compute/v2.1/servers HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"X-Auth-Token: " + admin.token.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
        b"zz-not-hex\r\n{}\r\n0\r\n\r\n"
    )
    answer = _raw_http(cloud, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert json.loads(body)["badRequest"]["message"].startswith("Malformed request body")


def test_broken_request_line_gets_json_not_html(cloud):
    answer = _raw_http(cloud, b"GET /compute HTTP/x.y\r\n\r\n")
    # http.server answers an unparsable request line HTTP/0.9-style: a body, no headers
    body = answer.partition(b"\r\n\r\n")[2] if answer.startswith(b"HTTP/") else answer
    assert b"<html" not in answer.lower() and b"<!doctype" not in answer.lower(), answer
    assert json.loads(body)["error"]["code"] == 400


def test_oversized_body_is_413(admin):
    body = {"server": {"name": "x" * 200_000}}
    resp = admin.compute("POST", "/servers", json=body)
    assert resp.status_code == 413 and resp.json()["overLimit"]["code"] == 413


class _Broken(dict):
    def values(self):
        raise RuntimeError("the database went away")


@pytest.mark.parametrize(
    "call, shape",
    [
        (lambda a: a.compute("GET", "/flavors"), "compute"),
        (lambda a: a.placement("GET", "/resource_providers"), "placement"),
    ],
)
def test_unexpected_exception_is_the_service_json_500_and_logged(
    cloud, admin, caplog, monkeypatch, call, shape
):
    if shape == "compute":
        monkeypatch.setattr(cloud.backend.store, "flavors", _Broken(cloud.backend.store.flavors))
    else:
        pl = cloud.backend.store.placement
        monkeypatch.setattr(pl, "providers", _Broken(pl.providers))
    with caplog.at_level(logging.ERROR, logger="LiveMigLibrary.fake.api"):
        resp = call(admin)
    assert resp.status_code == 500
    assert resp.headers["Content-Type"] == "application/json"
    rid = resp.headers["X-Openstack-Request-Id"]
    if shape == "compute":
        assert "Unexpected API Error" in nova_error(resp, 500, "computeFault")
    else:
        assert placement_error(resp, 500)["request_id"] == rid
    logged = [r for r in caplog.records if rid in r.getMessage()]
    assert logged and logged[0].exc_info and "database went away" in caplog.text


@pytest.mark.parametrize(
    "field, value",
    [
        ("total", 10**20),
        ("total", True),
        ("total", "16"),
        ("reserved", -1),
        ("step_size", 1.5),
        ("allocation_ratio", 0),
        ("allocation_ratio", "1.0"),
    ],
)
def test_placement_inventory_values_are_checked(admin, field, value):
    rp = admin.rp_uuid("compute1")
    gen = admin.placement("GET", f"/resource_providers/{rp}").json()["generation"]
    body = {"resource_provider_generation": gen, "total": 16, field: value}
    resp = admin.placement("PUT", f"/resource_providers/{rp}/inventories/VCPU", json=body)
    assert "JSON does not validate" in placement_error(resp, 400)["detail"]
    assert admin.inventories(rp)["VCPU"]["total"] == 16


@pytest.mark.parametrize("path", ["/os-services/" + BIG, "/os-services/%C2%B2"])
def test_unicode_or_huge_service_ids_are_400(admin, path):
    nova_error(admin.compute("DELETE", path, mv="2.1"), 400)


def test_huge_limit_is_the_maximum_page(admin):
    resp = admin.compute("GET", "/os-migrations?limit=" + BIG)
    assert resp.status_code == 200 and resp.json()["migrations"] == []
