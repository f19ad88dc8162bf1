"""``/servers``: create (incl. multi-create), show, list, update, delete, and actions."""

from __future__ import annotations

import re
import secrets

from werkzeug.routing import Rule

from ...exception import BadRequest, ComputeHostNotFound, Forbidden, PolicyNotAuthorized
from ..wsgi import ApiRequest, Reply
from . import moves, server_tags, views
from .common import (
    action_body,
    boolean,
    check_query,
    invalid,
    no_extra_properties,
    paginate,
    parse_time,
    positive_int,
    query_invalid,
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
}
# keys the create schema gains at a microversion (create_v219 ... create_v290)
CREATE_KEYS_SINCE = {
    "description": "2.19",
    "tags": "2.52",
    "trusted_image_certificates": "2.63",
    "host": "2.74",
    "hypervisor_hostname": "2.74",
    "hostname": "2.90",
}
# nova/api/openstack/compute/schemas/servers.py VALID_SORT_KEYS
SERVER_LIST_IGNORE_SORT_KEY = [
    "architecture", "cell_name", "cleaned", "default_ephemeral_device",
    "default_swap_device", "deleted", "deleted_at", "disable_terminate",
    "ephemeral_gb", "ephemeral_key_uuid", "id", "key_data", "launched_on",
    "locked", "memory_mb", "os_type", "reservation_id", "root_gb",
    "shutdown_terminate", "user_data", "vcpus", "vm_mode",
]  # fmt: skip
VALID_SORT_KEYS = [
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone",
    "config_drive", "created_at", "display_description", "display_name", "host",
    "hostname", "image_ref", "instance_type_id", "kernel_id", "key_name",
    "launch_index", "launched_at", "locked_by", "node", "power_state", "progress",
    "project_id", "ramdisk_id", "root_device_name", "task_state", "terminated_at",
    "updated_at", "user_id", "uuid", "vm_state",
] + SERVER_LIST_IGNORE_SORT_KEY  # fmt: skip
# GET /servers query parameters (schemas/servers.py index_query ... index_query_v275)
JOINED_TABLE_QUERY_PARAMS = {
    "block_device_mapping", "services", "metadata", "system_metadata", "info_cache",
    "security_groups", "pci_devices",
}  # fmt: skip
SERVER_QUERY_KEYS = {
    "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image",
    "kernel_id", "ramdisk_id", "hostname", "key_name", "power_state", "vm_state",
    "task_state", "host", "node", "flavor", "reservation_id", "launched_at",
    "terminated_at", "availability_zone", "name", "display_name", "description",
    "display_description", "locked_by", "uuid", "root_device_name", "config_drive",
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "progress", "sort_key",
    "sort_dir", "all_tenants", "soft_deleted", "deleted", "status", "changes-since",
    "ip", "ip6", "created_at", "limit", "marker", "tags", "tags-any", "not-tags",
    "not-tags-any", "changes-before", "locked",
} | JOINED_TABLE_QUERY_PARAMS  # fmt: skip
# sort key -> the instance attribute it orders by (keys the model has no field for
# order as equal)
SORT_ATTRS = {
    "availability_zone": "availability_zone",
    "created_at": "created_at",
    "display_description": "description",
    "display_name": "name",
    "host": "host",
    "hostname": "hostname",
    "image_ref": "image_id",
    "key_name": "key_name",
    "launch_index": "launch_index",
    "launched_at": "launched_at",
    "locked": "locked",
    "locked_by": "locked_by",
    "node": "node",
    "power_state": "power_state",
    "project_id": "project_id",
    "task_state": "task_state",
    "updated_at": "updated_at",
    "user_id": "user_id",
    "uuid": "uuid",
    "vm_state": "vm_state",
}
# create's fields the fake reads, with the types nova's schema gives them
STRING_FIELDS = (
    ("imageRef", str, "'string'"),
    ("flavorRef", str | int, "'string', 'integer'"),
    ("adminPass", str, "'string'"),
    ("key_name", str, "'string'"),
    ("description", str, "'string', 'null'"),
    ("hostname", str, "'string'"),
)
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
    "RESIZE",
    "VERIFY_RESIZE",
    "REVERT_RESIZE",
    "REBUILD",
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
    allowed = CREATE_KEYS | {k for k, since in CREATE_KEYS_SINCE.items() if req.mv(since)}
    if req.mv("2.57"):
        allowed.discard("personality")
    no_extra_properties(server, allowed, "server")
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
    for key, types, kinds in STRING_FIELDS:
        value = server.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
            raise invalid(key, value, f"{value!r} is not of type {kinds}")
    if isinstance(networks := server.get("networks"), list):
        for net in networks:
            if not isinstance(net, dict):
                raise invalid("networks", net, f"{net!r} is not of type 'object'")
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
    tags = server_tags.validate_tags(server["tags"]) if "tags" in server else []
    requested_host = server.get("host")
    requested_node = server.get("hypervisor_hostname")
    for key, value in (("host", requested_host), ("hypervisor_hostname", requested_node)):
        if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 255):
            raise invalid(key, value, f"{value!r} is not a 'hostname'")
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
        if requested_host or requested_node:
            # _process_requested_host_or_hypervisor_hostname, then _validate_host_or_node
            require_admin(req, "compute:servers:create:requested_destination")
            for value in (requested_host, requested_node):
                if value and value not in req.cloud.store.nodes:
                    raise ComputeHostNotFound(host=value)
            if requested_host and requested_node and requested_host != requested_node:
                raise ComputeHostNotFound(host=requested_host)
        az = server.get("availability_zone")
        if az is not None and not isinstance(az, str):
            raise invalid("availability_zone", az, f"{az!r} is not of type 'string'")
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
            tags=tags,
            requested_destination=requested_host or requested_node,
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
                # _add_security_grps(create_request=True): the request's groups
                "security_groups": server.get("security_groups", [{"name": "default"}]),
                "adminPass": server.get("adminPass") or secrets.token_urlsafe(9),
            }
        },
        {"Location": req.url(f"/compute/v2.1/servers/{first.uuid}")},
    )


TRUE_STRINGS = ("1", "t", "true", "on", "y", "yes")
FALSE_STRINGS = ("0", "f", "false", "off", "n", "no")


def _strict_bool(value: str) -> bool:
    """oslo's ``bool_from_string(strict=True)`` as ``common.is_locked`` uses it."""
    low = value.strip().lower()
    if low in TRUE_STRINGS:
        return True
    if low in FALSE_STRINGS:
        return False
    acceptable = ", ".join(f"'{v}'" for v in sorted(TRUE_STRINGS + FALSE_STRINGS))
    # InvalidInput(str(err)): the message is the ValueError's, with no prefix
    raise BadRequest(f"Unrecognized value '{value}', acceptable values are: {acceptable}")


def _sort_params(req: ApiRequest) -> list[tuple[str, bool]]:
    """``sort_key``/``sort_dir`` pairs, validated and stripped as ``_get_servers`` does.

    Returns ``(attribute, descending)`` pairs; Nova's default is ``created_at desc``.
    """
    keys = req.args.getlist("sort_key")
    dirs = req.args.getlist("sort_dir")
    valid = list(VALID_SORT_KEYS)
    ignored = list(SERVER_LIST_IGNORE_SORT_KEY)
    if req.mv("2.73"):
        # VALID_SORT_KEYS_V273: "locked" first, then list(set(...)) (an order Nova's own
        # processes do not agree on; sorted here), then the still-ignored keys
        ignored.remove("locked")
        valid = ["locked", *sorted(set(valid) - set(SERVER_LIST_IGNORE_SORT_KEY)), *ignored]
    if req.mv("2.75"):
        valid = [k for k in valid if k not in ignored]
    for key in keys:
        if key not in valid:
            raise query_invalid("sort_key", key, f"{key!r} is not one of {valid}")
    pairs = []
    for index, key in enumerate(keys):
        direction = dirs[index] if index < len(dirs) else "desc"
        if key in ignored:  # accepted but dropped, with its direction
            continue
        if key in ("host", "node") and not req.ctx.is_admin:
            raise Forbidden(f"Only administrators can sort servers by {key}")
        pairs.append((SORT_ATTRS.get(key, ""), direction != "asc"))
    return pairs or [("created_at", True)]


def _sort(instances: list, pairs: list[tuple[str, bool]]) -> list:
    """SQL order: NULLs first ascending; ties broken by id, newest first."""
    out = sorted(instances, key=lambda i: i.id, reverse=True)
    for attr, descending in reversed(pairs):
        if not attr:
            continue

        def key(inst, attr=attr):
            value = getattr(inst, attr)
            return (value is not None, value if value is not None else 0)

        out.sort(key=key, reverse=descending)
    return out


def _filtered(req: ApiRequest) -> list:
    store = req.cloud.store
    args = req.args
    admin = req.ctx.is_admin
    if req.mv("2.75"):  # index_query_v275: additionalProperties False ("^_" still passes)
        check_query(req, SERVER_QUERY_KEYS | {k for k in args if k.startswith("_")})
    for key in args if admin else ():  # a member's unknown options are stripped first
        if key in JOINED_TABLE_QUERY_PARAMS or key.startswith("_"):
            raise BadRequest(f"Invalid filter field: {key}.")
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
        if not admin:
            raise PolicyNotAuthorized(action="os_compute_api:" + rule)
    if all_tenants:
        project = args.get("project_id") or args.get("tenant_id")  # None: every project
    else:
        # "As explained in lp:#1185290, if `all_tenants` is not passed we must ignore
        # the `tenant_id` search option": the caller's project only.
        project = req.ctx.project_id
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
    # filters only an admin may use (allow_all_filters); for others they are stripped
    host = args.get("host") if admin else None
    node = args.get("node") if admin else None
    try:
        node_re = re.compile(node) if node else None
    except re.error:
        raise query_invalid("node", node, f"{node!r} is not a 'regex'") from None
    # the instances table's "deleted" column: an admin may ask for deleted servers
    deleted = (
        args.get("deleted", "").strip().lower() in TRUE_STRINGS
        if admin and "deleted" in args
        else None
    )
    # locked: 2.73 for everyone; an admin's filter passed through before that too
    locked = (
        _strict_bool(args["locked"]) if "locked" in args and (admin or req.mv("2.73")) else None
    )
    sort_pairs = _sort_params(req)
    tag_filters = req.mv("2.26") and any(
        k in args for k in ("tags", "tags-any", "not-tags", "not-tags-any")
    )
    since = _time_filter(req, "changes-since", "2.1")
    before = _time_filter(req, "changes-before", "2.66")
    if since is not None and before is not None and since > before:
        raise BadRequest("The value of changes-since must be less than or equal to changes-before.")
    rid = args.get("reservation_id")
    if deleted:
        ids = list(store.deleted)
    elif rid is not None:
        ids = store.by_reservation.get(rid, [])
    elif host is not None:
        ids = store.by_host.get(host, {})
    elif project is not None:
        ids = store.by_project.get(project, {})
    else:
        ids = store.instances
    candidates = [store.deleted.get(u) if deleted else store.instances.get(u) for u in ids]
    if deleted is None and (since is not None or before is not None):
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
        if node_re is not None and not (inst.node and node_re.search(inst.node)):
            continue
        if locked is not None and inst.locked != locked:
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
        if tag_filters and not server_tags.matches(inst, args):
            continue
        out.append(inst)
    return _sort(out, sort_pairs)


def _time_filter(req: ApiRequest, name: str, since_version: str) -> float | None:
    text = req.args.get(name)
    if text is None or not req.mv(since_version):
        return None
    return parse_time(req, name, text)


def _list(req: ApiRequest, view) -> Reply:
    with req.cloud.lock:
        body = paginate(
            req,
            _filtered(req),
            "servers",
            "marker [{marker}] not found",
            "servers/detail" if req.request.path.endswith("/detail") else "servers",
        )
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
        body,
        {"name", "description", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig", "hostname"},
        "server",
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
    """lock_server.py: before 2.73 the schema takes any value and Nova ignores it."""
    reason = None
    if req.mv("2.73"):
        body = req.json()[name]
        if body is not None:
            if not isinstance(body, dict):
                raise invalid(name, body, f"{body!r} is not of type 'object', 'null'")
            no_extra_properties(body, {"locked_reason"}, name)
            reason = body.get("locked_reason")
            if reason is not None and (not isinstance(reason, str) or not 1 <= len(reason) <= 255):
                raise invalid("locked_reason", reason, f"{reason!r} is not a valid reason")
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
    no_extra_properties(body, allowed, name)
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
    no_extra_properties(body, {"state"}, name)
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
    **moves.ACTIONS,  # cold migration, resize, confirm/revert, evacuation
}
