"""The WSGI application: routing, auth, microversions, and error bodies per service.

Each service module (identity, compute, placement, image, control) gives a
list of werkzeug ``Rule`` objects whose endpoints are handler functions
``handler(req: ApiRequest, **url_args) -> Reply``. Handlers stay thin: parse,
check policy, call the backend under its lock, render a view.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from dataclasses import dataclass, field

from werkzeug.exceptions import (
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..context import RequestContext
from ..exception import BadRequest, FakeCloudError, NotAcceptable

LOG = logging.getLogger("LiveMigLibrary.fake.api")

COMPUTE_MIN, COMPUTE_MAX = (2, 1), (2, 104)
MAX_VERSION_DIGITS = 9  # no real microversion has more; longer numbers are out of range
MAX_JSON_DEPTH = 100  # deeper bodies are refused before anything walks them
MAX_BODY_BYTES = 114688  # nova's [oslo_middleware] max_request_body_size (112 KiB)
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
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    503: "Service Unavailable",
}
# what each service says when something unexpected broke (nova's FaultWrapper, keystone's
# UnexpectedError, placement's FaultWrapper)
UNEXPECTED = {
    "compute": "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ "
    "and attach the Nova API log if possible.\n<class '{name}'>",
    "identity": "An unexpected error prevented the server from fulfilling your request.",
    "placement": "An unexpected error occurred: {name}",
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
    m = re.fullmatch(r"([1-9]\d*)\.([1-9]\d*|0)", text, re.ASCII)  # nova's APIVersionRequest
    shown = text if len(text) <= 40 else text[:37] + "..."
    if not m:
        raise BadRequest(
            f"API Version String {shown} is of invalid format. Must be of format MajorNum.MinorNum."
        )
    if max(len(m.group(1)), len(m.group(2))) > MAX_VERSION_DIGITS:
        v = (hi[0] + 1, 0)  # far beyond the maximum; int() of 5000 digits would raise
    else:
        v = (int(m.group(1)), int(m.group(2)))
    if not lo <= v <= hi:
        raise NotAcceptable(
            f"Version {shown} is not supported by the API. Minimum is "
            f"{fmt_version(lo)} and maximum is {fmt_version(hi)}."
        )
    return v


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise ValueError(f"{text[:20]} is not a finite number")
    return value


def _depth(text: str) -> int:
    """How deep brackets nest in a JSON text (strings skipped), without recursing."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_json(raw: bytes | str):
    """A request body as JSON, or a 400: invalid UTF-8 or JSON, NaN/Infinity, numbers
    too long to convert, or nesting deeper than ``MAX_JSON_DEPTH``."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if _depth(text) > MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise BadRequest("Malformed request body") from None


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
            raw = self.body()
            if not raw:
                if required:
                    raise BadRequest(
                        "The server could not comply with the request since it "
                        "is either malformed or otherwise incorrect."
                    )
                self._json = {}
                return self._json
            self._json = parse_json(raw)
            if not isinstance(self._json, dict):
                raise BadRequest("Malformed request body")
        return self._json

    def body(self) -> bytes:
        """The raw body; a body that cannot be read (e.g. broken chunking) is a 400."""
        length = self.request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            raise RequestEntityTooLarge("Request is too large.")
        try:
            raw = self.request.get_data(cache=True)
        except (OSError, ValueError) as exc:
            raise BadRequest(f"Malformed request body: {exc}") from None
        if len(raw) > MAX_BODY_BYTES:  # chunked: no Content-Length to check first
            raise RequestEntityTooLarge("Request is too large.")
        return raw

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

    def check(self, req: ApiRequest) -> None:
        """Refuse a request before its handler runs (after the token check)."""

    def error_body(self, req: ApiRequest, code: int, message: str) -> object:
        return {"error": {"code": code, "title": TITLES.get(code, "Error"), "message": message}}

    def unrouted(self, req: ApiRequest, wrong_method: bool) -> Reply | None:
        """The answer to a path (or method) no route matches; None: the usual error."""
        return None


class _MatchOnlyRule(Rule):
    """A rule whose URL builder is compiled on first use, not when the map is built.

    The fake only matches URLs and never builds one; werkzeug compiles two builder
    functions per rule (through `ast`) up front, which was most of a fake cloud's start.
    """

    def _compile_builder(self, append_unknown: bool = True):
        compiled = []

        def build(rule, *args, **kwargs):
            if not compiled:
                compiled.append(Rule._compile_builder(rule, append_unknown))
            return compiled[0](rule, *args, **kwargs)

        return build


class Application:
    """Dispatches to the services by path prefix; one instance per fake cloud."""

    def __init__(self, cloud, services: list[Service]):
        self.cloud = cloud
        self.services = services
        rules = []
        for svc in services:
            for rule in svc.rules():
                if type(rule) is Rule:
                    rule.__class__ = _MatchOnlyRule
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
        try:
            body = self._encode(reply)
        except (ValueError, TypeError, RecursionError) as exc:  # e.g. NaN in a record
            reply = self._unexpected(req, svc, exc, {})
            body = self._encode(reply)
        headers = {"Content-Type": "application/json", "X-Openstack-Request-Id": req.request_id}
        if svc is not None and svc.name == "compute":
            headers["X-Compute-Request-Id"] = req.request_id
        headers.update(reply.headers)
        if not body and reply.status == 204:
            headers.pop("Content-Type", None)
        headers["Content-Length"] = str(len(body))
        response = Response(body, status=reply.status, headers=headers)
        return response(environ, start_response)

    @staticmethod
    def _encode(reply: Reply) -> bytes:
        if isinstance(reply.body, bytes):  # already rendered, Content-Type in its headers
            return reply.body
        if reply.body is not None and reply.status not in (204, 304):
            return json.dumps(reply.body, allow_nan=False).encode()
        return b""

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
                svc.check(req)
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
        except RecursionError:
            return self._error(req, svc, 400, "Malformed request body", extra)
        except Exception as exc:  # noqa: BLE001 - the service's own 500, never an HTML page
            return self._unexpected(req, svc, exc, extra)

    def _unexpected(self, req, svc, exc: BaseException, extra) -> Reply:
        """Nova's FaultWrapper: log the traceback, answer the service's JSON 500."""
        LOG.error(
            "%s %s (%s) failed unexpectedly",
            req.method,
            req.request.path,
            req.request_id,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        name = type(exc).__name__
        text = UNEXPECTED.get(req.service, UNEXPECTED["identity"]).replace("{name}", name)
        return self._error(req, svc, 500, text, extra)

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
