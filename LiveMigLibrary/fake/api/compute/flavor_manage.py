"""``POST /flavors`` and ``DELETE /flavors/{id}`` (admin), as ``flavor_manage.py``.

Servers keep a copy of their flavor, so deleting one never changes a server
(tempest's resize-revert test deletes the flavor a server was built with).
"""

from __future__ import annotations

import uuid

from werkzeug.routing import Rule

from ...exception import Conflict, NotFound
from ...objects import Flavor
from ..wsgi import ApiRequest, Reply
from . import views
from .common import boolean, invalid, no_extra_properties, require_admin

KEYS = {
    "name",
    "id",
    "ram",
    "vcpus",
    "disk",
    "swap",
    "OS-FLV-EXT-DATA:ephemeral",
    "rxtx_factor",
    "os-flavor-access:is_public",
    "description",
}


def rules(p: str, svc) -> list[Rule]:
    return [
        Rule(p + "/flavors", endpoint=create, methods=["POST"]),
        Rule(p + "/flavors/<flavor_id>", endpoint=delete, methods=["DELETE"]),
    ]


def _int(field: str, value, minimum: int) -> int:
    if isinstance(value, bool):
        raise invalid(field, value, f"{value!r} is not of type 'integer', 'string'")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise invalid(field, value, f"{value!r} is not of type 'integer', 'string'") from None
    if n < minimum:
        raise invalid(field, value, f"{value} is less than the minimum of {minimum}")
    return n


def create(req: ApiRequest) -> Reply:
    body = req.json().get("flavor")
    if not isinstance(body, dict):
        raise invalid("flavor", body, "'flavor' is a required property")
    allowed = set(KEYS) if req.mv("2.55") else KEYS - {"description"}
    no_extra_properties(body, allowed, "flavor")
    for key in ("name", "ram", "vcpus", "disk"):
        if key not in body:
            raise invalid("flavor", body, f"'{key}' is a required property")
    name = body["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise invalid("name", name, f"{name!r} is not a valid flavor name")
    flavor_id = body.get("id")
    if flavor_id is None or flavor_id == "auto" or flavor_id == "":
        flavor_id = str(uuid.uuid4())
    flavor_id = str(flavor_id)
    ram = _int("ram", body["ram"], 1)
    vcpus = _int("vcpus", body["vcpus"], 1)
    disk = _int("disk", body["disk"], 0)
    swap = _int("swap", body.get("swap", 0) or 0, 0)
    ephemeral = _int("OS-FLV-EXT-DATA:ephemeral", body.get("OS-FLV-EXT-DATA:ephemeral", 0), 0)
    public = boolean("os-flavor-access:is_public", body.get("os-flavor-access:is_public", True))
    require_admin(req, "os_compute_api:os-flavor-manage:create")
    store = req.cloud.store
    with req.cloud.lock:
        if flavor_id in store.flavors:
            raise Conflict(f"Flavor with ID {flavor_id} already exists.")
        if any(f.name == name for f in store.flavors.values()):
            raise Conflict(f"Flavor with name {name} already exists.")
        flavor = Flavor(
            flavor_id,
            name,
            vcpus,
            ram,
            disk,
            ephemeral=ephemeral,
            swap=swap,
            rxtx_factor=float(body.get("rxtx_factor", 1.0)),
            is_public=public,
            description=body.get("description"),
        )
        store.flavors[flavor_id] = flavor
    return Reply(200, {"flavor": views.flavor(req, flavor)})


def delete(req: ApiRequest, flavor_id: str) -> Reply:
    require_admin(req, "os_compute_api:os-flavor-manage:delete")
    with req.cloud.lock:
        if req.cloud.store.flavors.pop(flavor_id, None) is None:
            raise NotFound(f"Flavor {flavor_id} could not be found.")
    return Reply(202)
