"""The WSGI application: routing, auth, microversions, and error bodies per service.

Each service module (identity, compute, placement, image, control) gives a
list of werkzeug ``Rule`` objects whose endpoints are handler functions
``handler(req: ApiRequest, **url_args) -> Reply``. Handlers stay thin: parse,
check policy, call the backend under its lock, render a view.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..context import RequestContext
from ..exception import BadRequest, FakeCloudError, NotAcceptable

COMPUTE_MIN, COMPUTE_MAX = (2, 1), (2, 104)
PLACEMENT_MIN, PLACEMENT_MAX = (1, 0), (1, 39)

NOVA_FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)


def fmt_version(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


def parse_version(
    text: str, service: str, lo: tuple[int, int], hi: tuple[int, int]
) -> tuple[int, int]:
    text = text.strip()
    if text == "latest":
        return hi
    m = re.fullmatch(r"([1-9]\d*)\.([1-9]\d*|0)", text)  # nova's APIVersionRequest
    if not m:
        raise BadRequest(
            f"API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum."
        )
    v = (int(m.group(1)), int(m.group(2)))
    if not lo <= v <= hi:
        raise NotAcceptable(
            f"Version {text} is not supported by the API. Minimum is "
            f"{fmt_version(lo)} and maximum is {fmt_version(hi)}."
        )
    return v


class ApiRequest:
    """One request as the handlers see it."""

    def __init__(self, cloud, request: Request, service: str, base_url: str):
        self.cloud = cloud
        self.request = request
        self.service = service
        self.base_url = base_url  # e.g. http://127.0.0.1:PORT
        self.ctx: RequestContext | None = None
        self.token = None
        self.version: tuple[int, int] = (0, 0)
        self.request_id = "req-" + str(uuid.uuid4())
        self._json = None

    @property
    def args(self):
        return self.request.args

    @property
    def method(self) -> str:
        return self.request.method

    def json(self, required: bool = True) -> dict:
        if self._json is None:
            raw = self.request.get_data(cache=True)
            if not raw:
                if required:
                    raise BadRequest(
                        "The server could not comply with the request since it "
                        "is either malformed or otherwise incorrect."
                    )
                self._json = {}
                return self._json
            try:
                self._json = json.loads(raw)
            except ValueError:
                raise BadRequest("Malformed request body") from None
            if not isinstance(self._json, dict):
                raise BadRequest("Malformed request body")
        return self._json

    def mv(self, major_minor: str) -> bool:
        """Whether the request's microversion is at least ``major_minor``."""
        a, b = major_minor.split(".")
        return self.version >= (int(a), int(b))

    def url(self, path: str) -> str:
        return self.base_url + path


class Service:
    """One OpenStack service mounted under a path prefix."""

    name: str = ""
    prefix: str = ""
    needs_token: bool = True

    def rules(self) -> list[Rule]:
        raise NotImplementedError

    def negotiate(self, req: ApiRequest) -> dict:
        return {}

    def error_body(self, req: ApiRequest, code: int, message: str) -> object:
        return {"error": {"code": code, "title": TITLES.get(code, "Error"), "message": message}}

    def unrouted(self, req: ApiRequest, wrong_method: bool) -> Reply | None:
        """The answer to a path (or method) no route matches; None: the usual error."""
        return None


class Application:
    """Dispatches to the services by path prefix; one instance per fake cloud."""

    def __init__(self, cloud, services: list[Service]):
        self.cloud = cloud
        self.services = services
        rules = []
        for svc in services:
            for rule in svc.rules():
                rules.append(rule)
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)
        self.base_url = ""

    def service_for(self, path: str) -> Service | None:
        for svc in self.services:
            if path == svc.prefix or path.startswith(svc.prefix + "/"):
                return svc
        return None

    def __call__(self, environ, start_response):
        request = Request(environ)
        svc = self.service_for(request.path)
        req = ApiRequest(
            self.cloud,
            request,
            svc.name if svc else "",
            self.base_url or request.host_url.rstrip("/"),
        )
        reply = self.dispatch(req, svc)
        headers = {"Content-Type": "application/json", "X-Openstack-Request-Id": req.request_id}
        if svc is not None and svc.name == "compute":
            headers["X-Compute-Request-Id"] = req.request_id
        headers.update(reply.headers)
        body = b""
        if isinstance(reply.body, bytes):  # already rendered, Content-Type in its headers
            body = reply.body
        elif reply.body is not None and reply.status not in (204, 304):
            body = json.dumps(reply.body).encode()
        elif reply.status in (202, 204):
            headers.pop("Content-Type", None) if reply.status == 204 else None
        headers["Content-Length"] = str(len(body))
        response = Response(body, status=reply.status, headers=headers)
        return response(environ, start_response)

    def dispatch(self, req: ApiRequest, svc: Service | None) -> Reply:
        extra: dict = {}
        try:
            adapter = self.url_map.bind_to_environ(req.request.environ)
            try:
                handler, url_args = adapter.match()
            except (NotFound, MethodNotAllowed) as exc:
                if svc is not None and (
                    reply := svc.unrouted(req, isinstance(exc, MethodNotAllowed))
                ):
                    return reply
                if svc is None:
                    return Reply(
                        404,
                        {
                            "error": {
                                "code": 404,
                                "title": "Not Found",
                                "message": "The resource could not be found.",
                            }
                        },
                    )
                raise
            if svc is not None and svc.needs_token and not getattr(handler, "public", False):
                token = req.cloud.identity.validate(req.request.headers.get("X-Auth-Token"))
                req.token = token
                req.ctx = RequestContext(
                    user_id=token.user.id,
                    project_id=token.project.id,
                    is_admin=token.is_admin,
                    roles=list(token.user.roles),
                    request_id=req.request_id,
                )
            if svc is not None:
                extra = svc.negotiate(req)
            if svc is not None and svc.name != "control" and req.cloud.faults.rules:
                with req.cloud.lock:
                    rule = req.cloud.faults.match("api", path=req.request.path, method=req.method)
                if rule is not None:
                    return self._error(
                        req,
                        svc,
                        rule.status,
                        rule.message or TITLES.get(rule.status, "Injected fault"),
                        extra,
                    )
            reply = handler(req, **url_args)
            reply.headers = {**extra, **reply.headers}
            return reply
        except FakeCloudError as exc:
            # an exception may carry headers of its own (a 406 keeps the version headers)
            headers = {**extra, **getattr(exc, "headers", {})}
            return self._error(req, svc, exc.code, str(exc), headers)
        except MethodNotAllowed:
            return self._error(
                req, svc, 405, "The method is not allowed for the requested URL.", extra
            )
        except NotFound:
            return self._error(req, svc, 404, "The resource could not be found.", extra)
        except HTTPException as exc:
            return self._error(req, svc, exc.code or 500, exc.description or "", extra)

    def _error(self, req, svc, code, message, extra) -> Reply:
        headers = dict(extra)
        if code == 401:
            headers["WWW-Authenticate"] = f'Keystone uri="{req.base_url}/identity"'
        if code == 401 or svc is None:  # keystonemiddleware answers before the service
            body = {"error": {"code": code, "title": TITLES.get(code, "Error"), "message": message}}
        else:
            body = svc.error_body(req, code, message)
        return Reply(code, body, headers)


def public(fn):
    """Mark a handler as reachable without a token (version documents, auth)."""
    fn.public = True
    return fn
