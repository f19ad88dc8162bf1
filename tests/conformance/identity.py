"""The real-Nova harness's front door: a minimal Keystone v3 and a little Glance.

Nova and Placement run with their own WSGI apps; what a deployment puts in front of them
(keystone, keystonemiddleware's ``auth_token``, glance) is replaced here by the least that
openstacksdk, the ``openstack`` CLI and raw REST clients need: version discovery, password
and token auth with a catalog, token validation on every request, and image list/show.
This module has no Nova import, so it is plain WSGI over the standard library.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

TOKEN_LIFETIME = dt.timedelta(hours=1)
DEFAULT_DOMAIN = {"id": "default", "name": "Default"}
MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
# Headers keystonemiddleware's auth_token sets for the service behind it; a client's own
# copies are removed first, as auth_token does.
IDENTITY_HEADERS = (
    "HTTP_X_USER_ID",
    "HTTP_X_USER_NAME",
    "HTTP_X_USER_DOMAIN_ID",
    "HTTP_X_USER_DOMAIN_NAME",
    "HTTP_X_PROJECT_ID",
    "HTTP_X_PROJECT_NAME",
    "HTTP_X_PROJECT_DOMAIN_ID",
    "HTTP_X_PROJECT_DOMAIN_NAME",
    "HTTP_X_ROLES",
    "HTTP_X_TENANT_ID",
    "HTTP_X_TENANT_NAME",
    "HTTP_X_IDENTITY_STATUS",
    "HTTP_X_SERVICE_CATALOG",
    "HTTP_X_AUTH_USER",
    "HTTP_X_AUTH_PROJECT_ID",
)


def _id(name: str) -> str:
    return hashlib.md5(name.encode()).hexdigest()  # noqa: S324 - stable ids, not security


def _iso(d: dt.datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


@dataclass
class User:
    id: str
    name: str
    password: str
    project_id: str
    project_name: str
    roles: list[str] = field(default_factory=list)


class Keystone:
    """Users (``admin`` in project ``admin``, ``demo`` in ``demo``), tokens, catalog."""

    def __init__(self, admin_password: str | None = None, member_password: str | None = None):
        self.users = {
            "admin": User(
                _id("user-admin"),
                "admin",
                admin_password or secrets.token_urlsafe(16),
                _id("project-admin"),
                "admin",
                ["admin", "member", "reader"],
            ),
            "demo": User(
                _id("user-demo"),
                "demo",
                member_password or secrets.token_urlsafe(16),
                _id("project-demo"),
                "demo",
                ["member", "reader"],
            ),
        }
        self._tokens: dict[str, tuple[User, dt.datetime, dt.datetime]] = {}
        self._lock = threading.Lock()

    def issue(self, user: User) -> tuple[str, dt.datetime, dt.datetime]:
        now = dt.datetime.now(dt.UTC)
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (user, now, now + TOKEN_LIFETIME)
        return token, now, now + TOKEN_LIFETIME

    def validate(self, token: str | None) -> tuple[User, dt.datetime, dt.datetime] | None:
        with self._lock:
            entry = self._tokens.get(token or "")
        if entry is None or entry[2] <= dt.datetime.now(dt.UTC):
            return None
        return entry

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def authenticate(self, body: dict) -> User | None:
        auth = body.get("auth") if isinstance(body, dict) else None
        identity = (auth or {}).get("identity") or {}
        methods = identity.get("methods") or []
        if "token" in methods:
            entry = self.validate((identity.get("token") or {}).get("id"))
            return entry[0] if entry else None
        if "password" in methods:
            user = (identity.get("password") or {}).get("user") or {}
            found = next(
                (
                    u
                    for u in self.users.values()
                    if user.get("name") == u.name or user.get("id") == u.id
                ),
                None,
            )
            if found is None or not secrets.compare_digest(
                str(user.get("password", "")), found.password
            ):
                return None
            project = ((auth.get("scope") or {}).get("project")) or {}
            wanted = project.get("id") or project.get("name")
            if wanted and wanted not in (found.project_id, found.project_name):
                return None
            return found
        return None


def json_reply(start_response, status: int, body, headers=()) -> list[bytes]:
    reasons = {200: "OK", 201: "Created", 204: "No Content", 300: "Multiple Choices"}
    reasons |= {401: "Unauthorized", 404: "Not Found", 400: "Bad Request"}
    data = b"" if body is None else json.dumps(body).encode()
    hdrs = [("Content-Length", str(len(data)))]
    if body is not None:
        hdrs.append(("Content-Type", "application/json"))
    start_response(f"{status} {reasons.get(status, 'Error')}", hdrs + list(headers))
    return [data]


def _unauthorized(start_response) -> list[bytes]:
    message = "The request you have made requires authentication."
    return json_reply(
        start_response,
        401,
        {"error": {"code": 401, "title": "Unauthorized", "message": message}},
        [("WWW-Authenticate", 'Keystone uri="/identity"')],
    )


class IdentityApp:
    """Keystone v3 over WSGI, mounted at ``/identity``."""

    def __init__(self, keystone: Keystone, base_url):
        self.keystone = keystone
        self.base_url = base_url  # callable: the server's own http://127.0.0.1:PORT

    def catalog(self) -> list[dict]:
        base = self.base_url()

        def svc(kind, name, path):
            sid = _id("service-" + kind)
            return {
                "type": kind,
                "name": name,
                "id": sid,
                "endpoints": [
                    {
                        "id": _id(f"{sid}-{iface}"),
                        "interface": iface,
                        "region": "RegionOne",
                        "region_id": "RegionOne",
                        "url": base + path,
                    }
                    for iface in ("public", "internal", "admin")
                ],
            }

        return [
            svc("identity", "keystone", "/identity"),
            svc("compute", "nova", "/compute/v2.1"),
            svc("placement", "placement", "/placement"),
            svc("image", "glance", "/image"),
        ]

    def _version(self) -> dict:
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": "2024-04-01T00:00:00Z",
            "links": [{"rel": "self", "href": self.base_url() + "/identity/v3/"}],
            "media-types": MEDIA_TYPES,
        }

    def _token_body(self, user: User, issued, expires, catalog: bool) -> dict:
        body = {
            "methods": ["password"],
            "user": {
                "id": user.id,
                "name": user.name,
                "domain": DEFAULT_DOMAIN,
                "password_expires_at": None,
            },
            "audit_ids": [secrets.token_urlsafe(16)],
            "expires_at": _iso(expires),
            "issued_at": _iso(issued),
            "project": {"id": user.project_id, "name": user.project_name, "domain": DEFAULT_DOMAIN},
            "is_domain": False,
            "roles": [{"id": _id("role-" + r), "name": r} for r in user.roles],
        }
        if catalog:
            body["catalog"] = self.catalog()
        return {"token": body}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "").rstrip("/")
        method = environ["REQUEST_METHOD"]
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if path == "" and method == "GET":
            location = [("Location", self.base_url() + "/identity/v3/")]
            return json_reply(
                start_response, 300, {"versions": {"values": [self._version()]}}, location
            )
        if path == "/v3" and method == "GET":
            return json_reply(start_response, 200, {"version": self._version()})
        if path == "/v3/auth/tokens" and method == "POST":
            try:
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
            except ValueError:
                body = {}
            user = self.keystone.authenticate(body)
            if user is None:
                return _unauthorized(start_response)
            token, issued, expires = self.keystone.issue(user)
            reply = self._token_body(user, issued, expires, "nocatalog" not in query)
            return json_reply(start_response, 201, reply, [("X-Subject-Token", token)])
        caller = self.keystone.validate(environ.get("HTTP_X_AUTH_TOKEN"))
        if caller is None:
            return _unauthorized(start_response)
        if path == "/v3/auth/tokens":
            subject = environ.get("HTTP_X_SUBJECT_TOKEN")
            entry = self.keystone.validate(subject)
            if entry is None:
                msg = f"Could not find token: {subject}."
                err = {"error": {"code": 404, "title": "Not Found", "message": msg}}
                return json_reply(start_response, 404, err)
            if method == "DELETE":
                self.keystone.revoke(subject)
                return json_reply(start_response, 204, None)
            body = self._token_body(*entry, "nocatalog" not in query)
            return json_reply(start_response, 200, body, [("X-Subject-Token", subject)])
        if path == "/v3/auth/catalog":
            return json_reply(start_response, 200, {"catalog": self.catalog(), "links": {}})
        if path in ("/v3/auth/projects", f"/v3/users/{caller[0].id}/projects"):
            project = {
                "id": caller[0].project_id,
                "name": caller[0].project_name,
                "domain_id": "default",
                "enabled": True,
                "is_domain": False,
                "parent_id": "default",
            }
            return json_reply(start_response, 200, {"projects": [project], "links": {}})
        err = {"error": {"code": 404, "title": "Not Found", "message": "Not found."}}
        return json_reply(start_response, 404, err)


class AuthTokenMiddleware:
    """What keystonemiddleware's ``auth_token`` does for a service: 401 without a valid
    token, else the ``X-User-Id``/``X-Project-Id``/``X-Roles`` headers the service's
    context middleware reads.

    Nova: it replaces ``authtoken`` inside Nova's own paste pipeline, so Nova's real
    ``NovaKeystoneContext`` builds the request context. ``placement_noauth``: it wraps
    Placement's noauth2 pipeline, which wants the token as ``user:project`` (its
    NoAuthMiddleware) and reads roles from ``X-Roles``; ``/`` stays public there.
    """

    def __init__(self, app, keystone: Keystone, placement_noauth: bool = False):
        self.app = app
        self.keystone = keystone
        self.placement_noauth = placement_noauth

    def __call__(self, environ, start_response):
        if self.placement_noauth and environ.get("PATH_INFO", "") in ("", "/"):
            return self.app(environ, start_response)  # placement's version document is public
        entry = self.keystone.validate(environ.get("HTTP_X_AUTH_TOKEN"))
        if entry is None:
            return _unauthorized(start_response)
        user = entry[0]
        for name in IDENTITY_HEADERS:
            environ.pop(name, None)
        environ.update(
            HTTP_X_IDENTITY_STATUS="Confirmed",
            HTTP_X_USER_ID=user.id,
            HTTP_X_USER_NAME=user.name,
            HTTP_X_USER_DOMAIN_ID="default",
            HTTP_X_USER_DOMAIN_NAME="Default",
            HTTP_X_PROJECT_ID=user.project_id,
            HTTP_X_PROJECT_NAME=user.project_name,
            HTTP_X_PROJECT_DOMAIN_ID="default",
            HTTP_X_PROJECT_DOMAIN_NAME="Default",
            HTTP_X_ROLES=",".join(user.roles),
        )
        if self.placement_noauth:
            environ["HTTP_X_AUTH_TOKEN"] = f"{user.id}:{user.project_id}"
        return self.app(environ, start_response)


class ImageApp:
    """A little of Glance v2 over the images of Nova's GlanceFixture: discovery, list, show."""

    def __init__(self, images, base_url):
        self.images = images  # callable: {id: image dict} as GlanceFixture keeps them
        self.base_url = base_url

    def _view(self, img: dict) -> dict:
        def when(value):
            return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

        return {
            "id": img["id"],
            "name": img.get("name"),
            "status": img.get("status", "active"),
            "visibility": img.get("visibility", "public"),
            "protected": bool(img.get("protected")),
            "tags": list(img.get("tags") or []),
            "disk_format": img.get("disk_format"),
            "container_format": img.get("container_format"),
            "size": img.get("size"),
            "virtual_size": None,
            "checksum": None,
            "min_disk": img.get("min_disk", 0),
            "min_ram": img.get("min_ram", 0),
            "owner": None,
            "os_hidden": False,
            "created_at": when(img.get("created_at")),
            "updated_at": when(img.get("updated_at")),
            "self": f"/v2/images/{img['id']}",
            "file": f"/v2/images/{img['id']}/file",
            "schema": "/v2/schemas/image",
        }

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "").rstrip("/")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if path in ("", "/versions"):
            versions = [
                {
                    "id": v,
                    "status": "CURRENT" if v == "v2.16" else "SUPPORTED",
                    "links": [{"rel": "self", "href": self.base_url() + "/image/v2/"}],
                }
                for v in ("v2.16", "v2.0")
            ]
            return json_reply(start_response, 300 if path == "" else 200, {"versions": versions})
        images = [i for i in self.images().values() if not i.get("deleted")]
        if path == "/v2/images":
            if "name" in query:
                images = [i for i in images if i.get("name") == query["name"][0]]
            if "status" in query:
                images = [i for i in images if i.get("status") == query["status"][0]]
            body = {
                "images": [self._view(i) for i in images],
                "first": "/v2/images",
                "schema": "/v2/schemas/images",
            }
            return json_reply(start_response, 200, body)
        if path.startswith("/v2/images/"):
            wanted = path.rsplit("/", 1)[1]
            for image in images:
                if image["id"] == wanted:
                    return json_reply(start_response, 200, self._view(image))
            text = f"No image found with ID {wanted}"
            return json_reply(start_response, 404, {"code": 404, "message": text})
        return json_reply(start_response, 404, {"code": 404, "message": "Not found"})


class PathDispatcher:
    """One loopback port, services by path prefix (as devstack's uwsgi mounts them)."""

    def __init__(self, mounts: dict[str, object]):
        self.mounts = sorted(mounts.items(), key=lambda kv: -len(kv[0]))

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for prefix, app in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix) :]
                return app(environ, start_response)
        return json_reply(start_response, 404, None)
