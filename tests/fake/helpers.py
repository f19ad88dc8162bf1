"""Raw-HTTP helpers for driving the fake cloud the way a Nova client does.

Everything here talks to the fake over real HTTP (requests); nothing reads the
fake's internals. Expectations in the tests come from Nova/Placement/Keystone
behaviour, not from the fake's code.
"""

from __future__ import annotations

from collections.abc import Callable

import requests

LATEST = "2.104"
PLACEMENT_MV = "1.39"


class Api:
    """A Keystone-authenticated raw REST client for one user of the fake."""

    def __init__(self, cloud, admin: bool = True):
        self.cloud = cloud
        self.admin = admin
        cfg = cloud.cloud_config(admin=admin)
        self.auth = cfg["auth"]
        self.session = requests.Session()
        self.token, self.token_body = self._authenticate()
        self.catalog = {
            svc["type"]: next(
                ep["url"].rstrip("/") for ep in svc["endpoints"] if ep["interface"] == "public"
            )
            for svc in self.token_body["token"]["catalog"]
        }

    def _authenticate(self):
        resp = token_request(
            self.auth["auth_url"],
            self.auth["username"],
            self.auth["password"],
            self.auth["project_name"],
            session=self.session,
        )
        assert resp.status_code == 201, resp.text
        return resp.headers["X-Subject-Token"], resp.json()

    @property
    def project_id(self) -> str:
        return self.token_body["token"]["project"]["id"]

    @property
    def user_id(self) -> str:
        return self.token_body["token"]["user"]["id"]

    # -- generic -----------------------------------------------------------
    def request(self, method, url, headers=None, token=True, **kw) -> requests.Response:
        hdrs = {"Accept": "application/json"}
        if token:
            hdrs["X-Auth-Token"] = self.token
        hdrs.update(headers or {})
        return self.session.request(method, url, headers=hdrs, timeout=30, **kw)

    def compute(self, method, path, mv: str | None = LATEST, headers=None, **kw):
        hdrs = dict(headers or {})
        if mv is not None:
            hdrs["OpenStack-API-Version"] = f"compute {mv}"
        return self.request(method, self.catalog["compute"] + path, headers=hdrs, **kw)

    def placement(self, method, path, mv: str | None = PLACEMENT_MV, headers=None, **kw):
        hdrs = dict(headers or {})
        if mv is not None:
            hdrs["OpenStack-API-Version"] = f"placement {mv}"
        return self.request(method, self.catalog["placement"] + path, headers=hdrs, **kw)

    def image(self, method, path, **kw):
        base = self.catalog["image"]
        if not base.rstrip("/").endswith("/v2"):
            base = base + "/v2"
        return self.request(method, base + path, **kw)

    # -- compute conveniences ------------------------------------------------
    def flavor_id(self, name: str) -> str:
        resp = self.compute("GET", "/flavors")
        assert resp.status_code == 200, resp.text
        for flv in resp.json()["flavors"]:
            if flv["name"] == name:
                return flv["id"]
        raise AssertionError(f"flavor {name} not found")

    def image_id(self) -> str:
        resp = self.image("GET", "/images")
        assert resp.status_code == 200, resp.text
        return resp.json()["images"][0]["id"]

    def server_body(self, name, flavor="m1.tiny", **extra) -> dict:
        body = {
            "name": name,
            "imageRef": self.image_id(),
            "flavorRef": self.flavor_id(flavor),
            "networks": "none",
        }
        body.update(extra)
        return {"server": body}

    def create_server(self, name, flavor="m1.tiny", mv=LATEST, **extra) -> requests.Response:
        return self.compute("POST", "/servers", mv=mv, json=self.server_body(name, flavor, **extra))

    def boot(self, name, flavor="m1.tiny", **extra) -> str:
        resp = self.create_server(name, flavor, **extra)
        assert resp.status_code == 202, resp.text
        return resp.json()["server"]["id"]

    def server(self, sid, mv=LATEST) -> dict:
        resp = self.compute("GET", f"/servers/{sid}", mv=mv)
        assert resp.status_code == 200, resp.text
        return resp.json()["server"]

    def servers_detail(self, mv=LATEST, **params) -> list[dict]:
        resp = self.compute("GET", "/servers/detail", mv=mv, params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()["servers"]

    def action(self, sid, body, mv=LATEST) -> requests.Response:
        return self.compute("POST", f"/servers/{sid}/action", mv=mv, json=body)

    def live_migrate(
        self, sid, host=None, mv="2.30", block_migration="auto", force=None, **extra
    ) -> requests.Response:
        body = {"host": host, "block_migration": block_migration}
        if force is not None:
            body["force"] = force
        body.update(extra)
        return self.action(sid, {"os-migrateLive": body}, mv=mv)

    def migrations(self, mv="2.80", **params) -> list[dict]:
        resp = self.compute("GET", "/os-migrations", mv=mv, params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()["migrations"]

    def migration_of(self, sid) -> dict:
        """The newest live-migration record of a server (admin os-migrations)."""
        migs = [
            m for m in self.migrations(instance_uuid=sid) if m["migration_type"] == "live-migration"
        ]
        assert migs, f"no live-migration record for {sid}"
        return max(migs, key=lambda m: m["id"])

    # -- placement conveniences ------------------------------------------------
    def providers(self) -> dict[str, dict]:
        resp = self.placement("GET", "/resource_providers")
        assert resp.status_code == 200, resp.text
        return {rp["name"]: rp for rp in resp.json()["resource_providers"]}

    def rp_uuid(self, host) -> str:
        return self.providers()[host]["uuid"]

    def allocations(self, consumer) -> dict:
        resp = self.placement("GET", f"/allocations/{consumer}", mv="1.28")
        assert resp.status_code == 200, resp.text
        return resp.json()["allocations"]

    def usages(self, rp_uuid) -> dict:
        resp = self.placement("GET", f"/resource_providers/{rp_uuid}/usages")
        assert resp.status_code == 200, resp.text
        return resp.json()["usages"]

    def inventories(self, rp_uuid) -> dict:
        resp = self.placement("GET", f"/resource_providers/{rp_uuid}/inventories")
        assert resp.status_code == 200, resp.text
        return resp.json()["inventories"]


def token_request(auth_url, username, password, project, session=None, domain="Default"):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": username, "domain": {"name": domain}, "password": password}
                },
            },
            "scope": {"project": {"name": project, "domain": {"name": domain}}},
        }
    }
    sess = session or requests
    return sess.post(auth_url.rstrip("/") + "/v3/auth/tokens", json=body, timeout=30)


def nova_error(resp: requests.Response, code: int, name: str | None = None) -> str:
    """Assert a Nova-shaped error body and return its message."""
    assert resp.status_code == code, f"expected {code}, got {resp.status_code}: {resp.text}"
    names = {
        400: "badRequest",
        401: "unauthorized",
        403: "forbidden",
        404: "itemNotFound",
        405: "badMethod",
        409: "conflictingRequest",
        413: "overLimit",
        429: "overLimit",
    }
    name = name or names.get(code, "computeFault")
    body = resp.json()
    assert list(body) == [name], f"error body {body!r} is not {{{name!r}: ...}}"
    assert body[name]["code"] == code, body
    assert isinstance(body[name]["message"], str) and body[name]["message"], body
    return body[name]["message"]


def placement_error(resp: requests.Response, code: int) -> dict:
    assert resp.status_code == code, f"expected {code}, got {resp.status_code}: {resp.text}"
    body = resp.json()
    assert "errors" in body and body["errors"], body
    err = body["errors"][0]
    assert err["status"] == code, err
    for key in ("title", "detail", "request_id"):
        assert key in err, err
    return err


def advance_until(ctl, predicate: Callable[[], bool], step=0.25, limit=3600.0) -> float:
    """Advance the virtual clock in small steps until predicate() holds."""
    waited = 0.0
    if predicate():
        return waited
    while waited < limit:
        ctl.advance(step)
        waited += step
        if predicate():
            return waited
    raise AssertionError(f"condition not reached after {limit} virtual seconds")


def alloc_resources_by_rp(allocs: dict) -> dict[str, dict]:
    return {rp: a["resources"] for rp, a in allocs.items()}
