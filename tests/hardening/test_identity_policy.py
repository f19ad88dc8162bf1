"""Keystone's policy on /v3/auth/tokens and /v3/projects, checked with a member's token."""

from __future__ import annotations

import datetime as dt

import pytest
import requests


def tokens(api, subject, method="GET"):
    return api.request(
        method, api.auth["auth_url"] + "/v3/auth/tokens", headers={"X-Subject-Token": subject}
    )


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE"])
def test_member_cannot_validate_or_revoke_the_admins_token(admin, member, method):
    resp = tokens(member, admin.token, method)
    assert resp.status_code == 403, resp.text
    if method != "HEAD":
        msg = resp.json()["error"]["message"]
        assert msg.startswith("You are not authorized to perform the requested action: identity:")
    assert tokens(admin, admin.token).status_code == 200  # still valid


def test_member_can_validate_and_revoke_its_own_token(member):
    other = member.__class__(member.cloud, admin=False)
    assert tokens(member, other.token).status_code == 200  # same user: token_subject
    assert tokens(member, member.token).status_code == 200
    assert tokens(member, other.token, "DELETE").status_code == 204
    assert tokens(member, other.token).status_code in (403, 404)


def test_admin_can_validate_and_revoke_a_members_token(admin, member):
    body = tokens(admin, member.token).json()
    assert body["token"]["user"]["name"] == "demo"
    assert tokens(admin, member.token, "DELETE").status_code == 204
    assert tokens(admin, member.token).status_code == 404
    resp = member.compute("GET", "/servers")
    assert resp.status_code == 401  # revoked means revoked


def test_member_cannot_list_projects_but_can_list_its_own(member):
    base = member.auth["auth_url"] + "/v3"
    resp = member.request("GET", base + "/projects")
    assert resp.status_code == 403, resp.text
    assert "identity:list_projects" in resp.json()["error"]["message"]
    own = member.request("GET", base + "/auth/projects").json()["projects"]
    assert [p["name"] for p in own] == ["demo"]
    resp = member.request("GET", f"{base}/users/{member.user_id}/projects")
    assert resp.status_code == 200


def test_member_cannot_list_another_users_projects(admin, member):
    base = member.auth["auth_url"] + "/v3"
    resp = member.request("GET", f"{base}/users/{admin.user_id}/projects")
    assert resp.status_code == 403, resp.text


def test_admin_lists_every_project(admin):
    resp = admin.request("GET", admin.auth["auth_url"] + "/v3/projects")
    assert {p["name"] for p in resp.json()["projects"]} == {"admin", "demo"}


def _token_auth(api, token, scope=None):
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": token}}}}
    if scope is not None:
        body["auth"]["scope"] = scope
    return requests.post(api.auth["auth_url"] + "/v3/auth/tokens", json=body, timeout=30)


def test_token_reauthentication_keeps_the_original_expiry(admin):
    original = admin.token_body["token"]["expires_at"]
    resp = _token_auth(admin, admin.token, {"project": {"name": "admin"}})
    assert resp.status_code == 201, resp.text
    token = resp.json()["token"]
    assert token["expires_at"] == original
    assert dt.datetime.fromisoformat(token["issued_at"].replace("Z", "+00:00")) >= (
        dt.datetime.fromisoformat(admin.token_body["token"]["issued_at"].replace("Z", "+00:00"))
    )
    assert "token" in token["methods"] and "password" in token["methods"]


def test_token_reauthentication_honours_the_requested_scope(admin, member):
    resp = _token_auth(member, member.token, {"project": {"id": member.project_id}})
    assert resp.status_code == 201
    assert resp.json()["token"]["project"]["id"] == member.project_id
    # a project the user has no role on: refused, as keystone does
    resp = _token_auth(member, member.token, {"project": {"id": admin.project_id}})
    assert resp.status_code == 401
