"""Placement over HTTP: providers, inventories, usages, allocations (1.0 - 1.39)."""

from __future__ import annotations

from werkzeug.routing import Rule

from ..exception import BadRequest, Conflict, Forbidden, NotAcceptable, NotFound
from ..placement import Inventory
from . import placement_schemas, placement_traits
from .wsgi import (
    PLACEMENT_MAX,
    PLACEMENT_MIN,
    TITLES,
    ApiRequest,
    Reply,
    Service,
    fmt_version,
    parse_version,
    public,
)

# webob's explanation of each status, which starts placement's error detail
WEBOB_EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    409: "There was a conflict when trying to complete your request.",
}
LINK_RELS = (("1.1", "aggregates"), ("1.6", "traits"), ("1.11", "allocations"))


def require_admin(req: ApiRequest, rule: str) -> None:
    """Placement's default policy: admin only, in placement's own words."""
    if not req.ctx.is_admin:
        raise Forbidden(f"Policy does not allow {rule} to be performed.")


def _allocations_from_list(allocs: list) -> dict:
    """Before 1.12 the body lists ``{"resource_provider": {"uuid"}, "resources"}`` entries
    (schema-checked already); placement turns them into the dict form."""
    return {e["resource_provider"]["uuid"]: {"resources": e["resources"]} for e in allocs}


MAX_INT = 0x7FFFFFFF  # placement's db.MAX_INT
INVENTORY_INTS = (("total", 1, None), ("reserved", 0, 0), ("min_unit", 1, 1))
INVENTORY_INTS += (("max_unit", 1, None), ("step_size", 1, 1))


def _inventory_fields(body: dict) -> dict:
    """An inventory as placement's schema takes it: whole numbers in range, a ratio > 0."""
    if "total" not in body:
        raise BadRequest("JSON does not validate: 'total' is a required property")
    fields = {}
    for name, low, default in INVENTORY_INTS:
        value = body.get(name, default if default is not None else body["total"])
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"JSON does not validate: {_shown(value)} is not of type 'integer'")
        if not low <= value <= MAX_INT:
            limit = (
                f"less than the minimum of {low}"
                if value < low
                else (f"greater than the maximum of {MAX_INT}")
            )
            raise BadRequest(f"JSON does not validate: {value} is {limit}")
        fields[name] = value
    ratio = body.get("allocation_ratio", 1.0)
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 3.4e38:
        raise BadRequest(f"JSON does not validate: {_shown(ratio)} is not a valid allocation_ratio")
    fields["allocation_ratio"] = float(ratio)
    return fields


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class PlacementService(Service):
    name = "placement"
    prefix = "/placement"

    def rules(self):
        p = self.prefix
        return [
            Rule(p, endpoint=self.root, methods=["GET"]),
            Rule(p + "/resource_providers", endpoint=self.providers, methods=["GET"]),
            Rule(p + "/resource_providers/<uuid>", endpoint=self.provider, methods=["GET"]),
            Rule(
                p + "/resource_providers/<uuid>/inventories",
                endpoint=self.inventories,
                methods=["GET"],
            ),
            Rule(
                p + "/resource_providers/<uuid>/inventories/<rc>",
                endpoint=self.inventory,
                methods=["GET"],
            ),
            Rule(
                p + "/resource_providers/<uuid>/inventories/<rc>",
                endpoint=self.update_inventory,
                methods=["PUT"],
            ),
            Rule(p + "/resource_providers/<uuid>/usages", endpoint=self.usages, methods=["GET"]),
            Rule(
                p + "/resource_providers/<uuid>/allocations",
                endpoint=self.provider_allocations,
                methods=["GET"],
            ),
            Rule(p + "/allocations/<consumer>", endpoint=self.allocations, methods=["GET"]),
            Rule(p + "/allocations/<consumer>", endpoint=self.put_allocations, methods=["PUT"]),
            Rule(
                p + "/allocations/<consumer>", endpoint=self.delete_allocations, methods=["DELETE"]
            ),
            Rule(p + "/usages", endpoint=self.project_usages, methods=["GET"]),
            Rule(p + "/resource_classes", endpoint=self.resource_classes, methods=["GET"]),
            *placement_traits.rules(p, self),
        ]

    def negotiate(self, req: ApiRequest) -> dict:
        value = req.request.headers.get("OpenStack-API-Version") or ""
        text = None
        for part in value.split(","):
            bits = part.strip().split()
            if len(bits) == 2 and bits[0].lower() == "placement":
                text = bits[1]
        req.version = PLACEMENT_MIN
        if text is not None:
            try:
                req.version = parse_version(text, "placement", PLACEMENT_MIN, PLACEMENT_MAX)
            except NotAcceptable:
                # microversion_parse's middleware answers before any version is set: its
                # own words, the supported range, and no error code
                req.version = (0, 0)
                req.unacceptable_version = True
                raise NotAcceptable(
                    f"Invalid microversion: Unacceptable version header: {text.strip()}"
                ) from None
        return {
            "OpenStack-API-Version": f"placement {fmt_version(req.version)}",
            "Vary": "openstack-api-version",
        }

    def error_body(self, req: ApiRequest, code: int, message: str) -> dict:
        """``util.json_error_formatter`` over webob's body: the status's explanation,
        then the message; ``code`` only from 1.23 (``ERROR_CODE_MICROVERSION``)."""
        explanation = WEBOB_EXPLANATIONS.get(code)
        # webob's plain-text body strips tags, which turns the message's newlines into spaces
        flat = message.replace("\n", " ")
        detail = f"{explanation}\n\n {flat}  " if explanation else message
        if getattr(req, "unacceptable_version", False):
            accept = req.request.headers.get("Accept", "")
            detail = (
                "The resource could not be generated that was acceptable to your browser "
                f"(content of type {accept}. \n\n {message}"
            )
        error = {
            "status": code,
            "title": TITLES.get(code, "Error"),
            "detail": detail,
            "request_id": req.request_id,
        }
        if getattr(req, "unacceptable_version", False):
            error["max_version"] = fmt_version(PLACEMENT_MAX)
            error["min_version"] = fmt_version(PLACEMENT_MIN)
        if req.mv("1.23"):
            error["code"] = getattr(req, "error_code", None) or "placement.undefined_code"
        return {"errors": [error]}

    def _admin(self, req: ApiRequest) -> None:
        require_admin(req, "placement:resource_providers:list")

    @public
    def root(self, req: ApiRequest) -> Reply:
        return Reply(
            200,
            {
                "versions": [
                    {
                        "id": "v1.0",
                        "max_version": fmt_version(PLACEMENT_MAX),
                        "min_version": fmt_version(PLACEMENT_MIN),
                        "status": "CURRENT",
                        "links": [{"rel": "self", "href": ""}],
                    }
                ]
            },
        )

    def _provider_view(self, req: ApiRequest, rp) -> dict:
        base = f"/placement/resource_providers/{rp.uuid}"
        rels = ["inventories", "usages"]  # handlers/resource_provider.py _serialize_links
        rels += [rel for since, rel in LINK_RELS if req.mv(since)]
        v = {
            "uuid": rp.uuid,
            "name": rp.name,
            "generation": rp.generation,
            "links": [{"rel": "self", "href": base}]
            + [{"rel": rel, "href": f"{base}/{rel}"} for rel in rels],
        }
        if req.mv("1.14"):
            v["parent_provider_uuid"] = None
            v["root_provider_uuid"] = rp.root_provider_uuid
        return v

    def providers(self, req: ApiRequest) -> Reply:
        self._admin(req)
        pl = req.cloud.store.placement
        name, uuid = req.args.get("name"), req.args.get("uuid")
        with req.cloud.lock:
            if name is not None:
                rp = pl.provider_by_name(name)
                rps = [rp] if rp else []
            elif uuid is not None:
                rps = [pl.providers[uuid]] if uuid in pl.providers else []
            else:
                rps = list(pl.providers.values())
            return Reply(200, {"resource_providers": [self._provider_view(req, rp) for rp in rps]})

    def _rp(self, req: ApiRequest, uuid: str):
        rp = req.cloud.store.placement.providers.get(uuid)
        if rp is None:
            raise NotFound(f"No resource provider with uuid {uuid} found")
        return rp

    def provider(self, req: ApiRequest, uuid: str) -> Reply:
        self._admin(req)
        with req.cloud.lock:
            return Reply(200, self._provider_view(req, self._rp(req, uuid)))

    def inventories(self, req: ApiRequest, uuid: str) -> Reply:
        self._admin(req)
        with req.cloud.lock:
            rp = self._rp(req, uuid)
            return Reply(
                200,
                {
                    "resource_provider_generation": rp.generation,
                    "inventories": {rc: inv.as_dict() for rc, inv in rp.inventories.items()},
                },
            )

    def inventory(self, req: ApiRequest, uuid: str, rc: str) -> Reply:
        self._admin(req)
        with req.cloud.lock:
            rp = self._rp(req, uuid)
            if rc not in rp.inventories:
                raise NotFound(f"No inventory of class {rc} for {uuid}")
            return Reply(
                200, {"resource_provider_generation": rp.generation, **rp.inventories[rc].as_dict()}
            )

    def update_inventory(self, req: ApiRequest, uuid: str, rc: str) -> Reply:
        require_admin(req, "placement:resource_providers:inventories:update")
        body = req.json()
        with req.cloud.lock:
            rp = self._rp(req, uuid)
            if body.get("resource_provider_generation") != rp.generation:
                req.error_code = placement_traits.CONCURRENT_UPDATE
                raise Conflict("resource provider generation conflict")
            inv = Inventory(**_inventory_fields(body))
            if inv.capacity < rp.usages.get(rc, 0):
                raise Conflict(
                    f"Unable to update inventory for resource provider {uuid}: "
                    f"Invalid inventory for '{rc}' on resource provider "
                    f"'{uuid}'. The reserved value is greater than or equal to "
                    "total."
                )
            rp.inventories[rc] = inv
            rp.generation += 1
            return Reply(200, {"resource_provider_generation": rp.generation, **inv.as_dict()})

    def usages(self, req: ApiRequest, uuid: str) -> Reply:
        self._admin(req)
        with req.cloud.lock:
            rp = self._rp(req, uuid)
            return Reply(
                200,
                {
                    "resource_provider_generation": rp.generation,
                    "usages": {rc: rp.usages.get(rc, 0) for rc in rp.inventories},
                },
            )

    def provider_allocations(self, req: ApiRequest, uuid: str) -> Reply:
        self._admin(req)
        pl = req.cloud.store.placement
        with req.cloud.lock:
            rp = self._rp(req, uuid)
            return Reply(
                200,
                {
                    "resource_provider_generation": rp.generation,
                    "allocations": {
                        c: {"resources": dict(pl.allocations[c][uuid])} for c in rp.consumers
                    },
                },
            )

    def allocations(self, req: ApiRequest, consumer: str) -> Reply:
        require_admin(req, "placement:allocations:list")
        pl = req.cloud.store.placement
        with req.cloud.lock:
            alloc = pl.get(consumer)
            body = {
                "allocations": {
                    rp: (
                        {"resources": dict(res)}
                        if req.mv("1.12")
                        else {"resources": dict(res), "generation": pl.providers[rp].generation}
                    )
                    for rp, res in alloc.items()
                }
            }
            if req.mv("1.12"):
                for rp in body["allocations"]:
                    body["allocations"][rp]["generation"] = pl.providers[rp].generation
            c = pl.consumers.get(consumer)
            if req.mv("1.12") and c is not None:
                body["project_id"] = c.project_id
                body["user_id"] = c.user_id
            if req.mv("1.28") and c is not None:
                body["consumer_generation"] = c.generation
            if req.mv("1.38") and c is not None:
                body["consumer_type"] = c.consumer_type or "unknown"
            return Reply(200, body)

    def put_allocations(self, req: ApiRequest, consumer: str) -> Reply:
        require_admin(req, "placement:allocations:update")
        body = req.json()
        placement_schemas.validate(body, placement_schemas.put_allocations_schema(req))
        allocs = body["allocations"]
        if not req.mv("1.12"):  # ALLOCATION_SCHEMA: a list of provider entries
            allocs = _allocations_from_list(allocs)
        allocation = {rp: dict(entry["resources"]) for rp, entry in allocs.items()}
        pl = req.cloud.store.placement
        with req.cloud.lock:
            if req.mv("1.28"):  # ensure_consumer comes first
                current = pl.consumers.get(consumer)
                expected = body.get("consumer_generation")
                if (current.generation if current else None) != expected:
                    req.error_code = placement_traits.CONCURRENT_UPDATE
                    raise Conflict(
                        "consumer generation conflict - expected "
                        f"{current.generation if current else 'null'} but got "
                        f"{expected}"  # placement formats the value as Python does
                    )
            for rp in allocation:
                if rp not in pl.providers:
                    raise BadRequest(
                        f"Allocation for resource provider '{rp}' that does not exist."
                    )
            for resources in allocation.values():
                for rc in resources:
                    if not pl.known_resource_class(rc):
                        raise BadRequest(
                            f"Unable to allocate inventory for consumer {consumer}: "
                            f"No such resource class {rc}."
                        )
            pl.put(
                consumer,
                allocation,
                body.get("project_id", ""),
                body.get("user_id", ""),
                body.get("consumer_type") if req.mv("1.38") else None,
            )
        return Reply(204)

    def delete_allocations(self, req: ApiRequest, consumer: str) -> Reply:
        require_admin(req, "placement:allocations:delete")
        with req.cloud.lock:
            if not req.cloud.store.placement.delete(consumer):
                raise NotFound(f"No allocations for consumer '{consumer}'")
        return Reply(204)

    def project_usages(self, req: ApiRequest) -> Reply:
        require_admin(req, "placement:usages")
        project = req.args.get("project_id")
        if not project:
            raise BadRequest("Invalid query string parameters: 'project_id' is a required property")
        wanted = req.args.get("consumer_type") if req.mv("1.38") else None
        with req.cloud.lock:
            pl = req.cloud.store.placement
            if not req.mv("1.38"):
                return Reply(200, {"usages": pl.usages_for_project(project)})
            return Reply(200, {"usages": pl.usages_by_consumer_type(project, wanted)})

    def resource_classes(self, req: ApiRequest) -> Reply:
        return Reply(
            200,
            {
                "resource_classes": [
                    {
                        "name": rc,
                        "links": [{"rel": "self", "href": f"/placement/resource_classes/{rc}"}],
                    }
                    for rc in ("VCPU", "MEMORY_MB", "DISK_GB")
                ]
            },
        )
