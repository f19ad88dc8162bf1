"""The control API over HTTP, under ``/control``.

It steers the whole cloud, so it takes what an operator would: the admin's token
(``X-Auth-Token``), JSON bodies only, and no request a web page sent (a browser adds
``Origin``): a page open in the tester's browser cannot reach it across origins.
"""

from __future__ import annotations

from werkzeug.routing import Rule

from ..exception import BadRequest, ControlObjectNotFound, FakeCloudError, Forbidden
from .wsgi import ApiRequest, Reply, Service


class UnsupportedMediaType(FakeCloudError):
    code = 415
    msg_fmt = "%(reason)s"


class ControlService(Service):
    name = "control"
    prefix = "/control"
    needs_token = True

    def check(self, req: ApiRequest) -> None:
        if not req.ctx.is_admin:
            raise Forbidden("The control API needs the admin's token.")
        origin = req.request.headers.get("Origin")
        if origin is not None:
            raise Forbidden(
                f"The control API refuses requests sent by a web page (Origin: {origin[:80]})."
            )
        if req.body():
            mimetype = req.request.mimetype
            if mimetype != "application/json":
                raise UnsupportedMediaType(
                    f"The control API takes JSON bodies (Content-Type: application/json), "
                    f"got {mimetype or 'no Content-Type'!r}."
                )

    def __init__(self, control):
        self.control = control

    def rules(self):
        p = self.prefix
        return [
            Rule(p + "/reset", endpoint=self.reset, methods=["POST"]),
            Rule(p + "/clock", endpoint=self.clock, methods=["GET"]),
            Rule(p + "/clock/advance", endpoint=self.advance, methods=["POST"]),
            Rule(p + "/clock/settle", endpoint=self.settle, methods=["POST"]),
            Rule(p + "/hosts", endpoint=self.hosts, methods=["GET"]),
            Rule(p + "/hosts", endpoint=self.add_host, methods=["POST"]),
            Rule(p + "/hosts/<name>", endpoint=self.remove_host, methods=["DELETE"]),
            Rule(p + "/hosts/<name>/alive", endpoint=self.set_alive, methods=["PUT"]),
            Rule(p + "/durations", endpoint=self.durations, methods=["GET"]),
            Rule(p + "/durations", endpoint=self.set_durations, methods=["PUT"]),
            Rule(p + "/options", endpoint=self.options, methods=["GET"]),
            Rule(p + "/options", endpoint=self.set_options, methods=["PUT"]),
            Rule(p + "/faults", endpoint=self.faults, methods=["GET"]),
            Rule(p + "/faults", endpoint=self.add_fault, methods=["POST"]),
            Rule(p + "/faults", endpoint=self.clear_faults, methods=["DELETE"]),
            Rule(p + "/faults/fired", endpoint=self.fired, methods=["GET"]),
            Rule(p + "/faults/<int:rule_id>", endpoint=self.remove_fault, methods=["DELETE"]),
            Rule(p + "/servers/<server_id>/history", endpoint=self.server_history, methods=["GET"]),
            Rule(
                p + "/migrations/<migration_id>/history",
                endpoint=self.migration_history,
                methods=["GET"],
            ),
            Rule(p + "/libvirt", endpoint=self.libvirt, methods=["GET"]),
            Rule(p + "/libvirt", endpoint=self.set_libvirt, methods=["PUT"]),
            Rule(p + "/servers/<server_id>/workload", endpoint=self.workload, methods=["GET"]),
            Rule(p + "/servers/<server_id>/workload", endpoint=self.set_workload, methods=["PUT"]),
            Rule(p + "/links", endpoint=self.links, methods=["GET"]),
            Rule(p + "/links", endpoint=self.set_link, methods=["PUT"]),
            Rule(
                p + "/migrations/<migration_id>/dynamics",
                endpoint=self.migration_dynamics,
                methods=["GET"],
            ),
            Rule(p + "/bugs", endpoint=self.bugs, methods=["GET"]),
            Rule(p + "/bugs", endpoint=self.set_bugs, methods=["PUT"]),
        ]

    def error_body(self, req, code, message):
        return {"error": {"code": code, "message": message}}

    def _call(self, fn, *args, **kwargs):
        """The control's answer; what it refuses is 404 if it names something the fake
        does not have (ControlObjectNotFound), 400 otherwise."""
        try:
            return fn(*args, **kwargs)
        except ControlObjectNotFound:
            raise
        except (ValueError, TypeError) as exc:
            raise BadRequest(str(exc)) from None

    def reset(self, req: ApiRequest) -> Reply:
        self.control.reset()
        return Reply(200, self.control.clock())

    def clock(self, req: ApiRequest) -> Reply:
        return Reply(200, self.control.clock())

    def advance(self, req: ApiRequest) -> Reply:
        self._call(self.control.advance, req.json().get("seconds"))
        return Reply(200, self.control.clock())

    def settle(self, req: ApiRequest) -> Reply:
        body = req.json(required=False)
        self._call(self.control.settle, body.get("max_seconds", 3600))
        return Reply(200, self.control.clock())

    def hosts(self, req: ApiRequest) -> Reply:
        return Reply(200, {"hosts": self.control.hosts()})

    def add_host(self, req: ApiRequest) -> Reply:
        return Reply(201, {"host": self._call(self.control.add_host, **req.json())})

    def remove_host(self, req: ApiRequest, name: str) -> Reply:
        self._call(self.control.remove_host, name)
        return Reply(204)

    def set_alive(self, req: ApiRequest, name: str) -> Reply:
        alive = req.json().get("alive")
        if not isinstance(alive, bool):
            raise BadRequest(f"alive must be true or false, got {alive!r}")
        self._call(self.control.set_host_alive, name, alive)
        return Reply(200, {"hosts": self.control.hosts()})

    def durations(self, req: ApiRequest) -> Reply:
        return Reply(200, {"durations": self.control.durations()})

    def set_durations(self, req: ApiRequest) -> Reply:
        return Reply(200, {"durations": self._call(self.control.set_durations, **req.json())})

    def options(self, req: ApiRequest) -> Reply:
        return Reply(200, {"options": self.control.nova_options()})

    def set_options(self, req: ApiRequest) -> Reply:
        return Reply(200, {"options": self._call(self.control.set_nova_options, **req.json())})

    def faults(self, req: ApiRequest) -> Reply:
        return Reply(200, {"faults": self.control.faults()})

    def add_fault(self, req: ApiRequest) -> Reply:
        body = dict(req.json())
        point, kind = body.pop("point", None), body.pop("kind", None)
        return Reply(201, {"fault": self._call(self.control.add_fault, point, kind, **body)})

    def clear_faults(self, req: ApiRequest) -> Reply:
        self.control.clear_faults()
        return Reply(204)

    def fired(self, req: ApiRequest) -> Reply:
        return Reply(200, {"fired": self.control.fired_faults()})

    def remove_fault(self, req: ApiRequest, rule_id: int) -> Reply:
        self._call(self.control.remove_fault, rule_id)
        return Reply(204)

    def server_history(self, req: ApiRequest, server_id: str) -> Reply:
        return Reply(200, {"history": self._call(self.control.server_history, server_id)})

    def migration_history(self, req: ApiRequest, migration_id: str) -> Reply:
        history = self._call(self.control.migration_history, migration_id)
        return Reply(200, {"history": history})

    def libvirt(self, req: ApiRequest) -> Reply:
        return Reply(200, {"libvirt": self.control.libvirt_options()})

    def set_libvirt(self, req: ApiRequest) -> Reply:
        return Reply(200, {"libvirt": self._call(self.control.set_libvirt_options, **req.json())})

    def workload(self, req: ApiRequest, server_id: str) -> Reply:
        return Reply(200, {"workload": self._call(self.control.workload, server_id)})

    def set_workload(self, req: ApiRequest, server_id: str) -> Reply:
        body = dict(req.json())
        unknown = sorted(set(body) - {"dirty_rate_mib", "working_set_mib"})
        if unknown:
            raise BadRequest(
                f"unknown workload field(s) {', '.join(unknown)}; fields are: "
                "dirty_rate_mib, working_set_mib"
            )
        return Reply(200, {"workload": self._call(self.control.set_workload, server_id, **body)})

    def links(self, req: ApiRequest) -> Reply:
        return Reply(200, self.control.links())

    def set_link(self, req: ApiRequest) -> Reply:
        body = dict(req.json())
        unknown = sorted(set(body) - {"bandwidth_mib", "source", "destination"})
        if unknown or "bandwidth_mib" not in body:
            raise BadRequest(
                "expected bandwidth_mib (MiB/s, or null) and optionally source and destination"
                + (f"; unknown field(s) {', '.join(unknown)}" if unknown else "")
            )
        return Reply(200, self._call(self.control.set_link_bandwidth, **body))

    def migration_dynamics(self, req: ApiRequest, migration_id: str) -> Reply:
        dynamics = self._call(self.control.migration_dynamics, migration_id)
        return Reply(200, {"dynamics": dynamics})

    def bugs(self, req: ApiRequest) -> Reply:
        return Reply(
            200, {"emulated": self.control.emulated_bugs(), "known": self.control.known_bugs()}
        )

    def set_bugs(self, req: ApiRequest) -> Reply:
        bugs = req.json().get("emulated", [])
        return Reply(
            200,
            {
                "emulated": self._call(self.control.emulate_bugs, bugs),
                "known": self.control.known_bugs(),
            },
        )
