"""``/servers``: create (incl. multi-create), show, list, update, delete, and actions."""

from __future__ import annotations

import re
import secrets

from werkzeug.routing import Rule

from ...exception import BadRequest, PolicyNotAuthorized
from ..wsgi import ApiRequest, Reply
from . import views
from .common import (
    action_body,
    boolean,
    invalid,
    no_extra_properties,
    paginate,
    parse_time,
    positive_int,
    require_admin,
)

CREATE_KEYS = {
    "name",
    "imageRef",
    "flavorRef",
    "adminPass",
    "metadata",
    "networks",
    "OS-DCF:diskConfig",
    "accessIPv4",
    "accessIPv6",
    "personality",
    "availability_zone",
    "block_device_mapping",
    "block_device_mapping_v2",
    "config_drive",
    "key_name",
    "min_count",
    "max_count",
    "return_reservation_id",
    "security_groups",
    "user_data",
    "description",
    "tags",
    "trusted_image_certificates",
    "host",
    "hypervisor_hostname",
    "hostname",
}
STATUSES = {
    "ACTIVE",
    "BUILD",
    "ERROR",
    "MIGRATING",
    "PAUSED",
    "SHUTOFF",
    "SUSPENDED",
    "DELETED",
    "REBOOT",
    "UNKNOWN",
}
SIMPLE = {
    "pause": "pause",
    "unpause": "unpause",
    "suspend": "suspend",
    "resume": "resume",
    "os-stop": "stop",
    "os-start": "start",
}
SIMPLE_POLICY = {
    "pause": "os-pause-server:pause",
    "unpause": "os-pause-server:unpause",
    "suspend": "os-suspend-server:suspend",
    "resume": "os-suspend-server:resume",
    "stop": "servers:stop",
    "start": "servers:start",
}


def rules(p: str, svc) -> list[Rule]:
    return [
        Rule(p + "/servers", endpoint=create, methods=["POST"]),
        Rule(p + "/servers", endpoint=index, methods=["GET"]),
        Rule(p + "/servers/detail", endpoint=detail, methods=["GET"]),
        Rule(p + "/servers/<server_id>", endpoint=show, methods=["GET"]),
        Rule(p + "/servers/<server_id>", endpoint=update, methods=["PUT"]),
        Rule(p + "/servers/<server_id>", endpoint=delete, methods=["DELETE"]),
        Rule(p + "/servers/<server_id>/action", endpoint=action, methods=["POST"]),
    ]


def _api(req):
    return req.cloud.compute_api


def create(req: ApiRequest) -> Reply:
    body = req.json()
    server = body.get("server")
    if not isinstance(server, dict):
        raise invalid("server", server, "'server' is a required property")
    no_extra_properties(server, CREATE_KEYS)
    name = server.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise invalid(
            "name",
            name,
            "'name' is a required property"
            if name is None
            else f"{name!r} does not match a valid server name",
        )
    for key in ("flavorRef",):
        if key not in server:
            raise invalid("server", server, f"'{key}' is a required property")
    if req.mv("2.37") and "networks" not in server:
        raise invalid("server", server, "'networks' is a required property")
    networks = server.get("networks")
    if networks is not None and not (isinstance(networks, list) or networks in ("auto", "none")):
        raise invalid(
            "networks", networks, f"{networks!r} is not valid under any of the given schemas"
        )
    if networks in ("auto", "none") and not req.mv("2.37"):
        raise invalid("networks", networks, f"{networks!r} is not of type 'array'")
    min_count = positive_int("min_count", server.get("min_count", 1))
    max_count = positive_int("max_count", server.get("max_count", min_count))
    if min_count > max_count:
        raise BadRequest("min_count must be <= max_count")
    return_rid = boolean("return_reservation_id", server.get("return_reservation_id", False))
    api = _api(req)
    with req.cloud.lock:
        flavor = api.flavor(server["flavorRef"])  # FlavorNotFound: 400
        image_ref = server.get("imageRef")
        if not image_ref:
            raise BadRequest("Can not find requested image")
        try:
            image_id = api.image(image_ref)
        except Exception:
            raise BadRequest("Can not find requested image") from None
        az = server.get("availability_zone")
        if az is not None:
            zones = {n.zone for n in req.cloud.store.nodes.values()}
            if az not in zones:
                raise BadRequest("The requested availability zone is not available")
        metadata = server.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise invalid("metadata", metadata, f"{metadata!r} is not of type 'object'")
        instances, reservation_id = api.create(
            req.ctx,
            name=name,
            flavor=flavor,
            image_id=image_id,
            min_count=min_count,
            max_count=max_count,
            availability_zone=az,
            metadata=metadata,
            key_name=server.get("key_name"),
            description=server.get("description"),
            hostname=server.get("hostname"),
            networks=networks,
        )
        first = instances[0]
    if return_rid:
        return Reply(202, {"reservation_id": reservation_id})
    return Reply(
        202,
        {
            "server": {
                "id": first.uuid,
                "links": views.links(req, "servers", first.uuid),
                "OS-DCF:diskConfig": "MANUAL",
                "security_groups": [{"name": "default"}],
                "adminPass": server.get("adminPass") or secrets.token_urlsafe(9),
            }
        },
        {"Location": req.url(f"/compute/v2.1/servers/{first.uuid}")},
    )


def _filtered(req: ApiRequest) -> list:
    store = req.cloud.store
    args = req.args
    all_tenants = "all_tenants" in args and args.get("all_tenants", "").lower() not in (
        "0",
        "false",
        "off",
        "no",
    )
    if all_tenants:
        rule = (
            "servers:detail:get_all_tenants"
            if req.request.path.endswith("/detail")
            else "servers:index:get_all_tenants"
        )
        if not req.ctx.is_admin:
            raise PolicyNotAuthorized(action="os_compute_api:" + rule)
    if all_tenants:
        project = args.get("project_id") or args.get("tenant_id")  # None: every project
    else:
        # "As explained in lp:#1185290, if `all_tenants` is not passed we must ignore
        # the `tenant_id` search option": the caller's project only.
        project = req.ctx.project_id
    rid = args.get("reservation_id")
    if rid is not None:
        ids = store.by_reservation.get(rid, [])
    elif req.ctx.is_admin and (host := args.get("host")) is not None:
        ids = store.by_host.get(host, {})
    elif project is not None:
        ids = store.by_project.get(project, {})
    else:
        ids = store.instances
    name = args.get("name")
    try:
        name_re = re.compile(name) if name else None
    except re.error:
        raise BadRequest(f"Invalid regular expression in name filter: {name}") from None
    status = args.get("status")
    if status is not None and status.upper() not in STATUSES:
        if req.mv("2.38"):
            raise BadRequest(f"Invalid status value: {status}")
        return []  # before 2.38 an unknown status simply matches nothing
    host = args.get("host") if req.ctx.is_admin else None
    since = _time_filter(req, "changes-since", "2.1")
    before = _time_filter(req, "changes-before", "2.66")
    if since is not None and before is not None and since > before:
        raise BadRequest("The value of changes-since must be less than or equal to changes-before.")
    candidates = [store.instances.get(uuid) for uuid in ids]
    if since is not None or before is not None:
        # "changes-since ... includes deleted servers" (read_deleted=yes)
        candidates += list(store.deleted.values())
    out = []
    for inst in candidates:
        if inst is None:
            continue
        if since is not None and inst.updated_at < since:
            continue
        if before is not None and inst.updated_at > before:
            continue
        if rid is not None and inst.reservation_id != rid:
            continue
        if project is not None and inst.project_id != project:
            continue
        if host is not None and inst.host != host:
            continue
        if name_re is not None and not name_re.search(inst.name):
            continue
        if (
            status is not None
            and views.status_from_state(inst.vm_state, inst.task_state) != status.upper()
        ):
            continue
        if (flavor := args.get("flavor")) and inst.flavor.id != flavor:
            continue
        if (image := args.get("image")) and inst.image_id != image:
            continue
        out.append(inst)
    out.sort(key=lambda i: (i.created_at, i.id), reverse=True)
    return out


def _time_filter(req: ApiRequest, name: str, since_version: str) -> float | None:
    text = req.args.get(name)
    if text is None or not req.mv(since_version):
        return None
    return parse_time(req, name, text)


def _list(req: ApiRequest, view) -> Reply:
    with req.cloud.lock:
        body = paginate(req, _filtered(req), "servers", "marker [{marker}] not found")
        body["servers"] = [view(req, inst) for inst in body["servers"]]
    return Reply(200, body)


def index(req: ApiRequest) -> Reply:
    return _list(req, views.server_brief)


def detail(req: ApiRequest) -> Reply:
    return _list(req, views.server)


def show(req: ApiRequest, server_id: str) -> Reply:
    with req.cloud.lock:
        inst = _api(req).get(req.ctx, server_id)
        return Reply(200, {"server": views.server(req, inst, single=True)})


def update(req: ApiRequest, server_id: str) -> Reply:
    body = req.json().get("server")
    if not isinstance(body, dict):
        raise invalid("server", body, "'server' is a required property")
    no_extra_properties(
        body, {"name", "description", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig", "hostname"}
    )
    with req.cloud.lock:
        inst = _api(req).get(req.ctx, server_id)
        if "name" in body:
            inst.name = body["name"]
        if "description" in body and req.mv("2.19"):
            inst.description = body["description"]
        inst.updated_at = req.cloud.clock.now()
        return Reply(200, {"server": views.server_after_update(req, inst)})


def delete(req: ApiRequest, server_id: str) -> Reply:
    with req.cloud.lock:
        api = _api(req)
        api.delete(req.ctx, api.get(req.ctx, server_id))
    return Reply(204)


# -- actions -------------------------------------------------------------------------


def action(req: ApiRequest, server_id: str) -> Reply:
    body = req.json()
    if len(body) != 1:
        raise BadRequest(
            "There is no such action: " + ", ".join(body) if body else "Malformed request body"
        )
    name = next(iter(body))
    handler = ACTIONS.get(name)
    if handler is None:
        raise BadRequest(f"There is no such action: {name}")
    with req.cloud.lock:
        inst = _api(req).get(req.ctx, server_id)
        return handler(req, inst, name)


def _simple(req: ApiRequest, inst, name: str) -> Reply:
    action_name = SIMPLE[name]
    _api(req).simple_action(req.ctx, inst, action_name, action_name)
    return Reply(202)


def _lock(req: ApiRequest, inst, name: str) -> Reply:
    body = action_body(req, name)
    reason = None
    if req.mv("2.73") and body:
        no_extra_properties(body, {"locked_reason"})
        reason = body.get("locked_reason")
    elif body:
        raise invalid("lock", body, "Additional properties are not allowed")
    _api(req).lock(req.ctx, inst, reason)
    return Reply(202)


def _unlock(req: ApiRequest, inst, name: str) -> Reply:
    if inst.locked and inst.locked_by == "admin" and not req.ctx.is_admin:
        raise PolicyNotAuthorized(action="os_compute_api:os-lock-server:unlock:unlock_override")
    _api(req).unlock(req.ctx, inst)
    return Reply(202)


def _migrate_live(req: ApiRequest, inst, name: str) -> Reply:
    """os-migrateLive, schema per microversion as nova/api/openstack/compute/migrate_server.py."""
    body = req.json()[name]
    if not isinstance(body, dict):
        raise invalid(name, body, f"{body!r} is not of type 'object'")
    # nova >= 32: naming a host is its own, admin-only, rule
    require_admin(
        req, "os_compute_api:os-migrate-server:migrate_live" + (":host" if body.get("host") else "")
    )
    allowed = {"block_migration", "host"}
    required = ["block_migration", "host"]
    if not req.mv("2.25"):
        allowed.add("disk_over_commit")
        required.append("disk_over_commit")
    if req.mv("2.30") and not req.mv("2.68"):
        allowed.add("force")
    no_extra_properties(body, allowed)
    for key in required:
        if key not in body:
            raise invalid(name, body, f"'{key}' is a required property")
    block = boolean("block_migration", body["block_migration"], allow_auto=req.mv("2.25"))
    if "disk_over_commit" in body:
        boolean("disk_over_commit", body["disk_over_commit"])
    host = body["host"]
    if host is not None and (not isinstance(host, str) or not host or len(host) > 255):
        raise invalid("host", host, f"{host!r} is not a valid hostname")
    force = boolean("force", body["force"]) if "force" in body else False
    if force and not host:
        raise BadRequest("Can't force to a non-provided destination")
    if not req.mv("2.30"):
        force = bool(host)  # before 2.30 a named host bypassed the scheduler
    _api(req).live_migrate(req.ctx, inst, host, block, force, sync=not req.mv("2.34"))
    return Reply(202)


def _reset_state(req: ApiRequest, inst, name: str) -> Reply:
    """os-resetState (admin): the operator's way out of a stuck state."""
    body = action_body(req, name)
    no_extra_properties(body, {"state"})
    state = body.get("state")
    if state not in ("active", "error"):
        raise invalid("state", state, f"{state!r} is not one of ['active', 'error']")
    require_admin(req, "os_compute_api:os-admin-actions:reset_state")
    _api(req).reset_state(req.ctx, inst, state)
    return Reply(202)


def _inject_network_info(req: ApiRequest, inst, name: str) -> Reply:
    require_admin(req, "os_compute_api:os-admin-actions:inject_network_info")
    return Reply(202)


ACTIONS = {
    "pause": _simple,
    "unpause": _simple,
    "suspend": _simple,
    "resume": _simple,
    "os-stop": _simple,
    "os-start": _simple,
    "lock": _lock,
    "unlock": _unlock,
    "os-migrateLive": _migrate_live,
    "os-resetState": _reset_state,
    "injectNetworkInfo": _inject_network_info,
}
