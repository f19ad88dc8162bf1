"""The compute API (Nova) over HTTP: versions, microversions, Nova-shaped errors."""

from __future__ import annotations

import json

from werkzeug.routing import Rule

from ...exception import NotAcceptable
from ..wsgi import (
    COMPUTE_MAX,
    COMPUTE_MIN,
    NOVA_FAULT_NAMES,
    ApiRequest,
    Reply,
    Service,
    fmt_version,
    parse_version,
    public,
)
from . import admin, flavor_manage, migrations, server_tags, servers

VERSION_HEADERS = ("OpenStack-API-Version", "X-OpenStack-Nova-API-Version")


class ComputeService(Service):
    name = "compute"
    prefix = "/compute"

    def rules(self):
        p = self.prefix + "/v2.1"
        return [
            Rule(self.prefix, endpoint=self.versions, methods=["GET"]),
            Rule(p, endpoint=self.version, methods=["GET"]),
            *servers.rules(p, self),
            *server_tags.rules(p, self),
            *migrations.rules(p, self),
            *admin.rules(p, self),
            *flavor_manage.rules(p, self),
        ]

    def negotiate(self, req: ApiRequest) -> dict:
        headers = req.request.headers
        text = None
        value = headers.get("OpenStack-API-Version")
        if value:
            for part in value.split(","):
                bits = part.strip().split()
                if len(bits) == 2 and bits[0].lower() == "compute":
                    text = bits[1]
        if text is None:
            text = headers.get("X-OpenStack-Nova-API-Version")
        req.version = COMPUTE_MIN
        if text is not None:
            try:
                req.version = parse_version(text, "compute", COMPUTE_MIN, COMPUTE_MAX)
            except NotAcceptable as exc:
                # Nova's Fault echoes the (unsupported) version it parsed, and Vary
                exc.headers = self._version_headers(text.strip())
                raise
        return self._version_headers(fmt_version(req.version))

    @staticmethod
    def _version_headers(v: str) -> dict:
        return {
            "OpenStack-API-Version": f"compute {v}",
            "X-OpenStack-Nova-API-Version": v,
            "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
        }

    def unrouted(self, req: ApiRequest, wrong_method: bool) -> Reply:
        """Nova's Router: no route for the path and method is webob's bare 404.

        routes matches the method too, so a wrong method is a 404 as well (never a
        405); the body is webob's, negotiated on Accept, never a Nova fault.
        """
        offers = ("text/html", "application/json")
        accept = req.request.headers.get("Accept", "").strip()
        match = "text/html"
        if accept:
            match = req.request.accept_mimetypes.best_match(offers) or "text/plain"
        explanation = "The resource could not be found."
        if match == "text/html":
            body = (
                "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n"
                f"  <h1>404 Not Found</h1>\n  {explanation}<br /><br />\n\n\n\n"
                " </body>\n</html>"
            )
        elif match == "application/json":
            body = json.dumps(
                {
                    "message": f"{explanation}<br /><br />\n\n\n",
                    "code": "404 Not Found",
                    "title": "Not Found",
                }
            )
        else:
            body = f"404 Not Found\n\n{explanation}\n\n\n"
        return Reply(404, body.encode(), {"Content-Type": f"{match}; charset=UTF-8"})

    def error_body(self, req: ApiRequest, code: int, message: str) -> dict:
        return {NOVA_FAULT_NAMES.get(code, "computeFault"): {"code": code, "message": message}}

    def _version(self, req: ApiRequest) -> dict:
        return {
            "id": "v2.1",
            "status": "CURRENT",
            "version": fmt_version(COMPUTE_MAX),
            "min_version": fmt_version(COMPUTE_MIN),
            "updated": "2013-07-23T11:33:21Z",
            "links": [
                {"rel": "self", "href": req.url("/compute/v2.1/")},
                {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
            ],
            "media-types": [
                {
                    "base": "application/json",
                    "type": "application/vnd.openstack.compute+json;version=2.1",
                }
            ],
        }

    @public
    def versions(self, req: ApiRequest) -> Reply:
        legacy = {
            "id": "v2.0",
            "status": "SUPPORTED",
            "version": "",
            "min_version": "",
            "updated": "2011-01-21T11:33:21Z",
            "links": [{"rel": "self", "href": req.url("/compute/v2/")}],
        }
        current = self._version(req)
        current = {k: current[k] for k in ("id", "status", "version", "min_version", "updated")} | {
            "links": [{"rel": "self", "href": req.url("/compute/v2.1/")}]
        }
        return Reply(200, {"versions": [legacy, current]})

    @public
    def version(self, req: ApiRequest) -> Reply:
        return Reply(200, {"version": self._version(req)})
