"""Placement's traits, provider traits and aggregates, and allocation candidates.

As ``placement/handlers/trait.py``, ``aggregate.py`` and ``allocation_candidate.py``:
candidates are computed from the model's inventories, usages and traits
(``Placement.allocation_candidates``), never canned.
"""

from __future__ import annotations

import re

from werkzeug.routing import Rule

from ..exception import BadRequest, Conflict, NotFound
from .wsgi import ApiRequest, Reply

CONCURRENT_UPDATE = "placement.concurrent_update"
CUSTOM_TRAIT = re.compile(r"CUSTOM_[A-Z0-9_]+")
# query parameters of GET /allocation_candidates, by the microversion adding them
CANDIDATE_PARAMS = (
    ("1.10", {"resources"}),
    ("1.16", {"limit"}),
    ("1.17", {"required"}),
    ("1.21", {"member_of"}),
    ("1.31", {"in_tree"}),
    ("1.35", {"root_required"}),
)


def rules(p: str, svc) -> list[Rule]:
    def bind(fn):
        def endpoint(req, **kw):
            return fn(svc, req, **kw)

        endpoint.__name__ = fn.__name__
        return endpoint

    rp = p + "/resource_providers/<uuid>"
    return [
        Rule(p + "/traits", endpoint=bind(list_traits), methods=["GET"]),
        Rule(p + "/traits/<name>", endpoint=bind(get_trait), methods=["GET"]),
        Rule(p + "/traits/<name>", endpoint=bind(put_trait), methods=["PUT"]),
        Rule(rp + "/traits", endpoint=bind(provider_traits), methods=["GET"]),
        Rule(rp + "/traits", endpoint=bind(put_provider_traits), methods=["PUT"]),
        Rule(rp + "/aggregates", endpoint=bind(provider_aggregates), methods=["GET"]),
        Rule(p + "/allocation_candidates", endpoint=bind(allocation_candidates), methods=["GET"]),
    ]


def _need(req: ApiRequest, version: str) -> None:
    """``microversion.version_handler``: below it the route does not exist."""
    if not req.mv(version):
        raise NotFound("The resource could not be found.")


def _query(req: ApiRequest, allowed: set[str]) -> None:
    extra = [k for k in dict.fromkeys(req.args) if k not in allowed]
    if extra:
        quoted = ", ".join(repr(k) for k in extra)
        verb = "were" if len(extra) > 1 else "was"
        raise BadRequest(
            "Invalid query string parameters: Additional properties are not allowed "
            f"({quoted} {verb} unexpected)"
        )


# -- traits ----------------------------------------------------------------------------


def list_traits(svc, req: ApiRequest) -> Reply:
    _need(req, "1.6")
    svc._admin(req)
    _query(req, {"name", "associated"})
    pl = req.cloud.store.placement
    with req.cloud.lock:
        names = pl.known_traits()
        used = set().union(*(rp.traits for rp in pl.providers.values()))
    if (name := req.args.get("name")) is not None:
        if name.startswith("startswith:"):
            names = {n for n in names if n.startswith(name[len("startswith:") :])}
        elif name.startswith("in:"):
            names &= set(name[3:].split(","))
        else:
            raise BadRequest(
                "Badly formatted name parameter. Expected name query string parameter in "
                f'form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "{name}"'
            )
    if (associated := req.args.get("associated")) is not None:
        if associated.lower() not in ("true", "false"):
            raise BadRequest('The query parameter "associated" only accepts "true" or "false"')
        names = names & used if associated.lower() == "true" else names - used
    return Reply(200, {"traits": sorted(names)})


def get_trait(svc, req: ApiRequest, name: str) -> Reply:
    _need(req, "1.6")
    svc._admin(req)
    if name not in req.cloud.store.placement.known_traits():
        raise NotFound(f"No such trait(s): {name}.")
    return Reply(204)


def put_trait(svc, req: ApiRequest, name: str) -> Reply:
    _need(req, "1.6")
    svc._admin(req)
    if len(name) > 255 or not CUSTOM_TRAIT.fullmatch(name):
        raise BadRequest(
            "The trait is invalid. A valid trait must be no longer than 255 characters, "
            'start with the prefix "CUSTOM_" and use following characters: "A"-"Z", '
            '"0"-"9" and "_"'
        )
    pl = req.cloud.store.placement
    with req.cloud.lock:
        created = name not in pl.custom_traits
        pl.custom_traits.add(name)
    return Reply(201 if created else 204, None, {"Location": f"/placement/traits/{name}"})


def provider_traits(svc, req: ApiRequest, uuid: str) -> Reply:
    _need(req, "1.6")
    svc._admin(req)
    with req.cloud.lock:
        rp = req.cloud.store.placement.providers.get(uuid)
        if rp is None:
            raise NotFound(
                f"No resource provider with uuid {uuid} found: No resource provider with "
                f"uuid {uuid} found"
            )
        return Reply(
            200, {"traits": sorted(rp.traits), "resource_provider_generation": rp.generation}
        )


def put_provider_traits(svc, req: ApiRequest, uuid: str) -> Reply:
    _need(req, "1.6")
    svc._admin(req)
    body = req.json()
    for key in ("traits", "resource_provider_generation"):
        if key not in body:
            raise BadRequest(f"JSON does not validate: '{key}' is a required property")
    traits = body["traits"]
    if not isinstance(traits, list) or not all(isinstance(t, str) for t in traits):
        raise BadRequest(f"JSON does not validate: {traits!r} is not of type 'array'")
    pl = req.cloud.store.placement
    with req.cloud.lock:
        rp = svc._rp(req, uuid)
        if rp.generation != body["resource_provider_generation"]:
            req.error_code = CONCURRENT_UPDATE
            raise Conflict(
                "Resource provider's generation already changed. Please update the "
                "generation and try again."
            )
        unknown = set(traits) - pl.known_traits()
        if unknown:
            raise BadRequest(f"No such trait {', '.join(sorted(unknown))}")
        pl.set_traits(uuid, traits)
        return Reply(
            200, {"traits": sorted(rp.traits), "resource_provider_generation": rp.generation}
        )


def provider_aggregates(svc, req: ApiRequest, uuid: str) -> Reply:
    """The model has no aggregates: every provider is in none."""
    _need(req, "1.1")
    svc._admin(req)
    with req.cloud.lock:
        rp = svc._rp(req, uuid)
        body: dict = {"aggregates": []}
        if req.mv("1.19"):
            body["resource_provider_generation"] = rp.generation
        return Reply(200, body)


# -- allocation candidates -----------------------------------------------------------------


def _resources(text: str) -> dict[str, int]:
    """``util.normalize_resources_qs_param``."""
    if text.strip() == "":
        raise BadRequest(
            "Badly formed resources parameter. Expected resources query string parameter "
            "in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string."
        )
    out = {}
    for part in text.split(","):
        try:
            rc, amount = part.split(":")
        except ValueError:
            raise BadRequest(
                "Badly formed resources parameter. Expected resources query string "
                f"parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: {part}."
            ) from None
        try:
            n = int(amount)
        except ValueError:
            raise BadRequest(
                f"Requested resource {rc} expected positive integer amount. Got: {amount}."
            ) from None
        if n < 1:
            raise BadRequest(f"Requested resource {rc} requires amount >= 1. Got: {n}.")
        out[rc] = n
    return out


def _traits(req: ApiRequest, values: list[str]) -> tuple[set, set, list[set]]:
    """``required`` values: all-of names, ``!`` forbidden (1.22), ``in:`` any-of (1.39)."""
    required: set[str] = set()
    forbidden: set[str] = set()
    any_of: list[set[str]] = []
    for value in values:
        if req.mv("1.39") and value.startswith("in:"):
            group = set(value[3:].split(","))
            if "" in group:
                raise BadRequest(
                    "Invalid query string parameters: Expected 'required' parameter value "
                    f"of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: {value}"
                )
            any_of.append(group)
            continue
        for name in value.split(","):
            if not name or (name.startswith("!") and not req.mv("1.22")):
                raise BadRequest(
                    "Invalid query string parameters: Expected 'required' parameter value "
                    f"of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: {value}"
                )
            if name.startswith("!"):
                forbidden.add(name[1:])
            else:
                required.add(name)
    return required, forbidden, any_of


def allocation_candidates(svc, req: ApiRequest) -> Reply:
    _need(req, "1.10")
    svc._admin(req)
    allowed = set().union(*(names for since, names in CANDIDATE_PARAMS if req.mv(since)))
    _query(req, allowed)
    if "resources" not in req.args:
        raise BadRequest("Invalid query string parameters: 'resources' is a required property")
    resources = _resources(req.args["resources"])
    required, forbidden, any_of = _traits(req, req.args.getlist("required"))
    root_required, root_forbidden, _ = _traits(req, req.args.getlist("root_required"))
    limit = None
    if "limit" in req.args:
        text = req.args["limit"]
        if not re.fullmatch(r"[1-9][0-9]*", text):
            raise BadRequest(
                f"Invalid query string parameters: '{text}' does not match '^[1-9][0-9]*$'"
            )
        limit = int(text)
    pl = req.cloud.store.placement
    with req.cloud.lock:
        unknown_rc = [rc for rc in resources if not pl.known_resource_class(rc)]
        if unknown_rc:
            raise BadRequest(
                "Invalid resource class in resources parameter: No such resource class "
                f"{unknown_rc[0]}."
            )
        wanted = required | forbidden | set().union(*any_of) | root_required | root_forbidden
        unknown = sorted(wanted - pl.known_traits())
        if unknown:
            raise BadRequest(f"No such trait(s): {', '.join(unknown)}.")
        in_tree = req.args.get("in_tree")
        if in_tree is not None and in_tree not in pl.providers:
            raise BadRequest(
                f"Invalid query string parameters: No resource provider with uuid {in_tree} found"
            )
        # a root provider's traits are its own: single providers here
        cands = pl.allocation_candidates(
            resources,
            required | root_required,
            forbidden | root_forbidden,
            any_of,
            in_tree,
        )
        if req.args.getlist("member_of"):
            cands = []  # the model's providers belong to no aggregate
        if limit is not None:
            cands = cands[:limit]
        return Reply(200, _render(req, cands, resources))


def _render(req: ApiRequest, cands, resources: dict[str, int]) -> dict:
    requests = []
    for c in cands:
        if req.mv("1.12"):
            entry: dict = {"allocations": {c.provider.uuid: {"resources": dict(c.resources)}}}
            if req.mv("1.34"):
                entry["mappings"] = {"": [c.provider.uuid]}
        else:
            entry = {
                "allocations": [
                    {"resource_provider": {"uuid": c.provider.uuid}, "resources": dict(c.resources)}
                ]
            }
        requests.append(entry)
    summaries = {}
    for c in cands:
        rp = c.provider
        shown = rp.inventories if req.mv("1.27") else {rc: rp.inventories[rc] for rc in resources}
        summary: dict = {
            "resources": {
                rc: {"capacity": inv.capacity, "used": rp.usages.get(rc, 0)}
                for rc, inv in shown.items()
            }
        }
        if req.mv("1.17"):
            summary["traits"] = sorted(rp.traits)
        if req.mv("1.29"):
            summary["parent_provider_uuid"] = None
            summary["root_provider_uuid"] = rp.root_provider_uuid
        summaries[rp.uuid] = summary
    return {"allocation_requests": requests, "provider_summaries": summaries}
