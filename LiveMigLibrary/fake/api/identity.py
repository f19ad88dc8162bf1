"""Keystone v3 over HTTP: version discovery, password auth, token validation."""

from __future__ import annotations

from werkzeug.routing import Rule

from ..exception import BadRequest, Forbidden, NotFound, Unauthorized
from ..identity import DEFAULT_DOMAIN, Token
from .wsgi import ApiRequest, Reply, Service, public

MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
UPDATED = "2024-04-01T00:00:00Z"


# keystone/auth/schema.py, as far as the fake reads the body: path -> JSON type
_OBJECT, _STRING, _ARRAY = "object", "string", "array"
AUTH_SCHEMA = {
    "auth": _OBJECT,
    "auth/identity": _OBJECT,
    "auth/identity/methods": _ARRAY,
    "auth/identity/password": _OBJECT,
    "auth/identity/password/user": _OBJECT,
    "auth/identity/password/user/id": _STRING,
    "auth/identity/password/user/name": _STRING,
    "auth/identity/password/user/password": _STRING,
    "auth/identity/password/user/domain": _OBJECT,
    "auth/identity/password/user/domain/id": _STRING,
    "auth/identity/password/user/domain/name": _STRING,
    "auth/identity/token": _OBJECT,
    "auth/identity/token/id": _STRING,
    "auth/scope": _OBJECT,
    "auth/scope/project": _OBJECT,
    "auth/scope/project/id": _STRING,
    "auth/scope/project/name": _STRING,
    "auth/scope/project/domain": _OBJECT,
    "auth/scope/project/domain/id": _STRING,
    "auth/scope/project/domain/name": _STRING,
}
_PY_TYPES = {_OBJECT: dict, _STRING: str, _ARRAY: list}


def _schema_error(path: str, value, expected: str) -> BadRequest:
    field = path.removeprefix("auth/") if path != "auth" else "auth"
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return BadRequest(f"Invalid input for field '{field}': {shown} is not of type '{expected}'")


def validate_auth_body(body: dict) -> dict:
    """Keystone's JSON-schema check of ``POST /v3/auth/tokens``: a 400 naming the field."""
    for path, expected in AUTH_SCHEMA.items():
        node, present = body, True
        for part in path.split("/"):
            if not isinstance(node, dict) or part not in node:
                present = False
                break
            node = node[part]
        if present and not isinstance(node, _PY_TYPES[expected]):
            raise _schema_error(path, node, expected)
    auth = body.get("auth")
    if not isinstance(auth, dict):
        raise BadRequest("Invalid input for field 'identity': 'auth' is a required property")
    identity = auth.get("identity")
    if not isinstance(identity, dict):
        raise BadRequest("Invalid input for field 'auth': 'identity' is a required property")
    methods = identity.get("methods")
    if methods is None:
        raise BadRequest("Invalid input for field 'identity': 'methods' is a required property")
    for method in methods:
        if not isinstance(method, str):
            raise _schema_error("auth/identity/methods", method, _STRING)
    token = identity.get("token")
    if "token" in methods and (token is None or "id" not in token):
        raise BadRequest("Invalid input for field 'identity/token': 'id' is a required property")
    return auth


def _forbidden(rule: str) -> str:
    return f"You are not authorized to perform the requested action: {rule}."


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
        auth = validate_auth_body(req.json())
        identity = auth["identity"]
        methods = identity["methods"]
        scope = auth.get("scope") or {}
        project = scope.get("project") or {}
        if "token" in methods:
            # keystone's token method: same user, same expiry, the scope asked for
            token = req.cloud.identity.rescope(
                identity["token"]["id"], project.get("id") or project.get("name")
            )
        elif "password" in methods:
            user = (identity.get("password") or {}).get("user") or {}
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

    def _subject(self, req: ApiRequest, rule: str):
        """The X-Subject-Token; keystone's policy: its own user (token_subject) or an admin."""
        subject = req.request.headers.get("X-Subject-Token")
        try:
            token = req.cloud.identity.validate(subject)
        except Unauthorized:
            token = None
        if token is None or (token.user.id != req.token.user.id and not req.token.is_admin):
            if not req.token.is_admin:  # never tell a member whether someone's token exists
                raise Forbidden(_forbidden(rule))
            shown = subject if subject and len(subject) <= 80 else (subject or "")[:77] + "..."
            raise NotFound(f"Could not find token: {shown}.")
        return token

    def validate_token(self, req: ApiRequest) -> Reply:
        token = self._subject(req, "identity:validate_token")
        return Reply(
            200,
            self.token_body(req, token, "nocatalog" not in req.args),
            {"X-Subject-Token": token.id},
        )

    def revoke_token(self, req: ApiRequest) -> Reply:
        token = self._subject(req, "identity:revoke_token")
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
            raise Forbidden(_forbidden("identity:list_user_projects"))
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
        if not req.token.is_admin:  # keystone's identity:list_projects is admin (or reader) only
            raise Forbidden(_forbidden("identity:list_projects"))
        projects = list(req.cloud.identity.projects.values())
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
