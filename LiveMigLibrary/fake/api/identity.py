"""Keystone v3 over HTTP: version discovery, password auth, token validation."""

from __future__ import annotations

from werkzeug.routing import Rule

from ..exception import BadRequest, NotFound, Unauthorized
from ..identity import DEFAULT_DOMAIN, Token
from .wsgi import ApiRequest, Reply, Service, public

MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
UPDATED = "2024-04-01T00:00:00Z"


def _iso(d) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "000Z"


class IdentityService(Service):
    name = "identity"
    prefix = "/identity"

    def rules(self):
        p = self.prefix
        return [
            Rule(p, endpoint=self.versions, methods=["GET"]),
            Rule(p + "/v3", endpoint=self.version, methods=["GET"]),
            Rule(p + "/v3/auth/tokens", endpoint=self.issue_token, methods=["POST"]),
            Rule(p + "/v3/auth/tokens", endpoint=self.validate_token, methods=["GET", "HEAD"]),
            Rule(p + "/v3/auth/tokens", endpoint=self.revoke_token, methods=["DELETE"]),
            Rule(p + "/v3/auth/projects", endpoint=self.auth_projects, methods=["GET"]),
            Rule(p + "/v3/auth/catalog", endpoint=self.auth_catalog, methods=["GET"]),
            Rule(p + "/v3/users/<user_id>/projects", endpoint=self.user_projects, methods=["GET"]),
            Rule(p + "/v3/projects", endpoint=self.projects, methods=["GET"]),
            Rule(p + "/v3/projects/<project_id>", endpoint=self.project, methods=["GET"]),
        ]

    def _version_doc(self, req: ApiRequest) -> dict:
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": UPDATED,
            "links": [{"rel": "self", "href": req.url(self.prefix + "/v3/")}],
            "media-types": MEDIA_TYPES,
        }

    @public
    def versions(self, req: ApiRequest) -> Reply:
        return Reply(
            300,
            {"versions": {"values": [self._version_doc(req)]}},
            {"Location": req.url(self.prefix + "/v3/")},
        )

    @public
    def version(self, req: ApiRequest) -> Reply:
        return Reply(200, {"version": self._version_doc(req)})

    def catalog(self, req: ApiRequest) -> list[dict]:
        def svc(kind, name, path, sid):
            return {
                "type": kind,
                "name": name,
                "id": sid,
                "endpoints": [
                    {
                        "id": sid + "-public",
                        "interface": iface,
                        "region": "RegionOne",
                        "region_id": "RegionOne",
                        "url": req.url(path),
                    }
                    for iface in ("public", "internal", "admin")
                ],
            }

        return [
            svc("identity", "keystone", "/identity", "5e0bbd1b1b2d4e59b38a28a45c3f2e5b"),
            svc("compute", "nova", "/compute/v2.1", "a1f35e3c0d2b4f0c9e7b6d5a4c3b2a19"),
            svc("placement", "placement", "/placement", "b2e46f4d1e3c5a1d0f8c7e6b5d4c3b2a"),
            svc("image", "glance", "/image", "c3f57a5e2f4d6b2e1a9d8f7c6e5d4c3b"),
        ]

    def token_body(self, req: ApiRequest, token: Token, with_catalog: bool = True) -> dict:
        body = {
            "methods": token.methods,
            "user": {
                "id": token.user.id,
                "name": token.user.name,
                "domain": DEFAULT_DOMAIN,
                "password_expires_at": None,
            },
            "audit_ids": [token.id[:22]],
            "expires_at": _iso(token.expires_at),
            "issued_at": _iso(token.issued_at),
            "project": {
                "id": token.project.id,
                "name": token.project.name,
                "domain": DEFAULT_DOMAIN,
            },
            "is_domain": False,
            "roles": [{"id": "role-" + r, "name": r} for r in token.user.roles],
        }
        if with_catalog:
            body["catalog"] = self.catalog(req)
        return {"token": body}

    @public
    def issue_token(self, req: ApiRequest) -> Reply:
        auth = req.json().get("auth")
        if not isinstance(auth, dict):
            raise BadRequest("Invalid input for field 'identity': 'auth' is a required property")
        identity = auth.get("identity") or {}
        methods = identity.get("methods") or []
        if "token" in methods:
            old = req.cloud.identity.validate((identity.get("token") or {}).get("id"))
            token = req.cloud.identity.authenticate(old.user.name, None, old.user.password, None)
        elif "password" in methods:
            user = (identity.get("password") or {}).get("user") or {}
            scope = auth.get("scope") or {}
            project = scope.get("project") or {}
            token = req.cloud.identity.authenticate(
                user.get("name"),
                user.get("id"),
                user.get("password"),
                project.get("id") or project.get("name"),
            )
        else:
            raise Unauthorized("The request you have made requires authentication.")
        nocatalog = "nocatalog" in req.args
        return Reply(201, self.token_body(req, token, not nocatalog), {"X-Subject-Token": token.id})

    def _subject(self, req: ApiRequest):
        subject = req.request.headers.get("X-Subject-Token")
        try:
            return req.cloud.identity.validate(subject)
        except Unauthorized:
            raise NotFound(f"Could not find token: {subject}.") from None

    def validate_token(self, req: ApiRequest) -> Reply:
        token = self._subject(req)
        return Reply(
            200,
            self.token_body(req, token, "nocatalog" not in req.args),
            {"X-Subject-Token": token.id},
        )

    def revoke_token(self, req: ApiRequest) -> Reply:
        token = self._subject(req)
        req.cloud.identity.revoke(token.id)
        return Reply(204)

    def _project(self, req, p) -> dict:
        return {
            "id": p.id,
            "name": p.name,
            "domain_id": "default",
            "enabled": True,
            "description": "",
            "is_domain": False,
            "parent_id": "default",
            "tags": [],
            "options": {},
            "links": {"self": req.url(f"{self.prefix}/v3/projects/{p.id}")},
        }

    def auth_projects(self, req: ApiRequest) -> Reply:
        return Reply(
            200,
            {
                "projects": [self._project(req, req.token.project)],
                "links": {
                    "self": req.url(self.prefix + "/v3/auth/projects"),
                    "previous": None,
                    "next": None,
                },
            },
        )

    def auth_catalog(self, req: ApiRequest) -> Reply:
        return Reply(
            200,
            {
                "catalog": self.catalog(req),
                "links": {
                    "self": req.url(self.prefix + "/v3/auth/catalog"),
                    "previous": None,
                    "next": None,
                },
            },
        )

    def user_projects(self, req: ApiRequest, user_id: str) -> Reply:
        if user_id != req.token.user.id and not req.token.is_admin:
            raise Unauthorized("The request you have made requires authentication.")
        user = next((u for u in req.cloud.identity.users.values() if u.id == user_id), None)
        if user is None:
            raise NotFound(f"Could not find user: {user_id}.")
        return Reply(
            200,
            {
                "projects": [self._project(req, user.project)],
                "links": {"self": req.url(req.request.path), "previous": None, "next": None},
            },
        )

    def projects(self, req: ApiRequest) -> Reply:
        ident = req.cloud.identity
        projects = list(ident.projects.values()) if req.token.is_admin else [req.token.project]
        name = req.args.get("name")
        if name:
            projects = [p for p in projects if p.name == name]
        return Reply(
            200,
            {
                "projects": [self._project(req, p) for p in projects],
                "links": {"self": req.url(req.request.path), "previous": None, "next": None},
            },
        )

    def project(self, req: ApiRequest, project_id: str) -> Reply:
        p = req.cloud.identity.project_by(project_id)
        if p is None or (not req.token.is_admin and p.id != req.token.project.id):
            raise NotFound(f"Could not find project: {project_id}.")
        return Reply(200, {"project": self._project(req, p)})
