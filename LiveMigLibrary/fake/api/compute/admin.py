"""Hosts and bookkeeping: os-services, os-hypervisors, availability zones, quotas,
limits, flavors and instance actions."""

from __future__ import annotations

from werkzeug.routing import Rule

from ...config import DEFAULT_QUOTAS
from ...exception import (
    BadRequest,
    Conflict,
    HypervisorNotFound,
    InstanceActionNotFound,
    NotFound,
    PolicyNotAuthorized,
    ServiceNotFound,
)
from ...placement.model import STATUS_DISABLED
from ..wsgi import ApiRequest, Reply
from . import views
from .common import (
    MAX_INT,
    MAX_LIMIT,
    boolean,
    check_query,
    collection_links,
    invalid,
    is_id,
    no_extra_properties,
    parse_time,
    query_limit,
    require_admin,
)


def rules(p: str, svc) -> list[Rule]:
    return [
        Rule(p + "/os-services", endpoint=services, methods=["GET"]),
        Rule(p + "/os-services/<service_id>", endpoint=update_service, methods=["PUT"]),
        Rule(p + "/os-services/<service_id>", endpoint=delete_service, methods=["DELETE"]),
        Rule(p + "/os-hypervisors", endpoint=hypervisors, methods=["GET"]),
        Rule(p + "/os-hypervisors/detail", endpoint=hypervisors_detail, methods=["GET"]),
        Rule(p + "/os-hypervisors/statistics", endpoint=hypervisor_statistics, methods=["GET"]),
        Rule(p + "/os-hypervisors/<hypervisor_id>", endpoint=hypervisor, methods=["GET"]),
        Rule(
            p + "/os-hypervisors/<hypervisor_id>/uptime",
            endpoint=hypervisor_uptime,
            methods=["GET"],
        ),
        Rule(p + "/os-hypervisors/<pattern>/search", endpoint=hypervisor_search, methods=["GET"]),
        Rule(p + "/os-hypervisors/<pattern>/servers", endpoint=hypervisor_servers, methods=["GET"]),
        Rule(p + "/os-availability-zone", endpoint=availability_zones, methods=["GET"]),
        Rule(
            p + "/os-availability-zone/detail", endpoint=availability_zones_detail, methods=["GET"]
        ),
        Rule(p + "/os-quota-sets/<project_id>", endpoint=quota_show, methods=["GET"]),
        Rule(p + "/os-quota-sets/<project_id>/defaults", endpoint=quota_defaults, methods=["GET"]),
        Rule(p + "/os-quota-sets/<project_id>/detail", endpoint=quota_detail, methods=["GET"]),
        Rule(p + "/os-quota-sets/<project_id>", endpoint=quota_update, methods=["PUT"]),
        Rule(p + "/os-quota-sets/<project_id>", endpoint=quota_delete, methods=["DELETE"]),
        Rule(p + "/limits", endpoint=limits, methods=["GET"]),
        Rule(p + "/flavors", endpoint=flavors, methods=["GET"]),
        Rule(p + "/flavors/detail", endpoint=flavors_detail, methods=["GET"]),
        Rule(p + "/flavors/<flavor_id>", endpoint=flavor, methods=["GET"]),
        Rule(
            p + "/flavors/<flavor_id>/os-extra_specs", endpoint=flavor_extra_specs, methods=["GET"]
        ),
        Rule(
            p + "/servers/<server_id>/os-instance-actions",
            endpoint=instance_actions,
            methods=["GET"],
        ),
        Rule(
            p + "/servers/<server_id>/os-instance-actions/<request_id>",
            endpoint=instance_action,
            methods=["GET"],
        ),
    ]


# -- os-services -----------------------------------------------------------------------


def services(req: ApiRequest) -> Reply:
    require_admin(req, "os_compute_api:os-services:list")
    host, binary = req.args.get("host"), req.args.get("binary")
    with req.cloud.lock:
        out = [
            views.service(req, s)
            for s in req.cloud.store.services.values()
            if (host is None or s.host == host) and (binary is None or s.binary == binary)
        ]
    return Reply(200, {"services": out})


def _legacy_service_body(req: ApiRequest) -> dict:
    """``schemas/services.py`` ``update`` (2.0-2.10) / ``update_v211`` (2.11-2.52).

    The schema is checked before anything else, so a body with ``forced_down`` at
    2.10 is a 400 whatever the action in the path.
    """
    body = req.json()
    for key in ("host", "binary", "disabled_reason"):
        value = body.get(key)
        if key in body and (not isinstance(value, str) or not 1 <= len(value) <= 255):
            raise invalid(key, value, f"{value!r} is not of type 'string'")
    if "forced_down" in body and req.mv("2.11"):
        boolean("forced_down", body["forced_down"])
    for key in ("host", "binary"):
        if key not in body:
            raise BadRequest(f"'{key}' is a required property")
    allowed = {"host", "binary", "disabled_reason"} | ({"forced_down"} if req.mv("2.11") else set())
    no_extra_properties(body, allowed)
    return body


def _legacy_service_update(req: ApiRequest, action: str, body: dict) -> Reply:
    host, binary = body["host"], body["binary"]
    if action == "disable-log-reason" and "disabled_reason" not in body:
        raise BadRequest("Missing disabled reason field")
    if action == "force-down" and "forced_down" not in body:
        raise BadRequest("Missing forced_down field")
    if binary != "nova-compute":
        raise BadRequest(
            f"Updating a {binary} service is not supported. Only nova-compute "
            "services can be updated."
        )
    store = req.cloud.store
    with req.cloud.lock:
        svc = next(
            (s for s in store.services.values() if s.host == host and s.binary == binary), None
        )
        if svc is None:
            raise NotFound(f"Could not find binary {binary} on host {host}.")
        result = {"host": host, "binary": binary}
        if action == "enable":
            svc.status, svc.disabled_reason = "enabled", None
        elif action in ("disable", "disable-log-reason"):
            svc.status = "disabled"
            svc.disabled_reason = body.get("disabled_reason") if action != "disable" else None
            if svc.disabled_reason:
                result["disabled_reason"] = svc.disabled_reason
        elif action == "force-down":
            forced_down = boolean("forced_down", body.get("forced_down"))
            if not forced_down:
                req.cloud.move_api.check_force_up(svc.host)
            svc.forced_down = forced_down
            result["forced_down"] = svc.forced_down
            return Reply(200, {"service": result})
        _sync_disabled_trait(req, svc)
        result["status"] = svc.status
    return Reply(200, {"service": result})


def update_service(req: ApiRequest, service_id: str) -> Reply:
    if not req.mv("2.53"):
        body = _legacy_service_body(req)
        require_admin(req, "os_compute_api:os-services:update")
        actions = {"enable", "disable", "disable-log-reason"}
        if req.mv("2.11"):
            actions.add("force-down")
        if service_id not in actions:
            raise NotFound("Unknown action")
        return _legacy_service_update(req, service_id, body)
    body = req.json()
    status = body.get("status")
    if "status" in body and status not in ("enabled", "disabled"):
        raise invalid("status", status, f"{status!r} is not one of ['enabled', 'disabled']")
    if "disabled_reason" in body:
        reason = body["disabled_reason"]
        if not isinstance(reason, str) or not 1 <= len(reason) <= 255:
            raise invalid("disabled_reason", reason, f"{reason!r} is not of type 'string'")
    if "forced_down" in body:
        boolean("forced_down", body["forced_down"])
    no_extra_properties(body, {"status", "disabled_reason", "forced_down"})
    if not _is_uuid(service_id):
        raise BadRequest(f"Invalid uuid {service_id}")
    require_admin(req, "os_compute_api:os-services:update")
    with req.cloud.lock:
        svc = req.cloud.store.service_by_uuid.get(service_id)
        if svc is None:
            raise ServiceNotFound(service_id=service_id)
        if svc.binary != "nova-compute":
            raise BadRequest(
                f"Updating a {svc.binary} service is not supported. Only nova-compute "
                "services can be updated."
            )
        if status == "enabled" and body.get("disabled_reason"):
            raise BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
        if status is None and "forced_down" not in body:
            raise BadRequest(
                "No updates were requested. Fields 'status' or 'forced_down' should be specified."
            )
        if "forced_down" in body and not boolean("forced_down", body["forced_down"]):
            req.cloud.move_api.check_force_up(svc.host)  # before anything is saved
        if status == "enabled":
            svc.status, svc.disabled_reason = "enabled", None
        elif status == "disabled":
            svc.status, svc.disabled_reason = "disabled", body.get("disabled_reason")
        if "forced_down" in body:
            svc.forced_down = boolean("forced_down", body["forced_down"])
        _sync_disabled_trait(req, svc)
        svc.updated_at = req.cloud.clock.now()
        return Reply(200, {"service": views.service(req, svc)})


def _sync_disabled_trait(req: ApiRequest, svc) -> None:
    """The compute's ``_sync_compute_service_disabled_trait``: disabled <-> trait."""
    node = req.cloud.store.nodes.get(svc.host)
    if node is not None and svc.binary == "nova-compute":
        req.cloud.store.placement.set_trait(node.uuid, STATUS_DISABLED, svc.status == "disabled")


def delete_service(req: ApiRequest, service_id: str) -> Reply:
    """``DELETE /os-services/{id}`` (admin): refused while the host has work on it."""
    require_admin(req, "os_compute_api:os-services:delete")
    store = req.cloud.store
    if req.mv("2.53") and not _is_uuid(service_id):
        raise BadRequest(f"Invalid uuid {service_id}")
    if not req.mv("2.53") and not is_id(service_id.removeprefix("-")):
        raise BadRequest("Invalid input received: id must be an integer")
    with req.cloud.lock:
        svc = (
            store.service_by_uuid.get(service_id)
            if req.mv("2.53")
            else store.services.get(int(service_id))
        )
        if svc is None:
            raise NotFound(f"Service {service_id} not found.")
        if svc.binary == "nova-compute":
            if store.by_host.get(svc.host):
                raise Conflict(
                    "Unable to delete compute service that is hosting instances. Migrate "
                    "or delete the instances first."
                )
            over = ("completed", "error", "failed", "cancelled", "confirmed", "reverted", "done")
            if any(
                svc.host in (m.source_compute, m.dest_compute) and m.status not in over
                for m in store.migrations.values()
            ):
                raise Conflict(
                    "Unable to delete compute service that has in-progress migrations. "
                    "Complete the migrations or delete the instances first."
                )
            req.cloud.computes.remove_host(svc.host)  # the node, its provider, the service
        else:
            store.services.pop(svc.id, None)
            store.service_by_uuid.pop(svc.uuid, None)
    return Reply(204)


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


# -- os-hypervisors ----------------------------------------------------------------------


def _hypervisor_page(req: ApiRequest, nodes: list) -> list:
    """``HostAPI.compute_node_get_all`` with a marker (node uuid or id) and a limit."""
    limit = query_limit(req)
    marker = req.args.get("marker")
    if marker is not None:
        store = req.cloud.store
        node = store.node_by_uuid.get(marker) or (
            store.node_by_id.get(int(marker)) if is_id(marker) else None
        )
        if node is None:
            raise BadRequest(f"marker [{marker}] not found")
        nodes = [n for n in nodes if n.id > node.id]
    if limit is not None:
        nodes = nodes[: min(limit, MAX_LIMIT)]
    return nodes


def _hypervisor_list(req: ApiRequest, detail: bool) -> Reply:
    require_admin(
        req,
        "os_compute_api:os-hypervisors:list-detail"
        if detail
        else "os_compute_api:os-hypervisors:list",
    )
    paging = req.mv("2.33")
    if req.mv("2.53"):
        check_query(req, {"limit", "marker", "hypervisor_hostname_pattern", "with_servers"})
    pattern = req.args.get("hypervisor_hostname_pattern") if req.mv("2.53") else None
    with_servers = req.mv("2.53") and boolean("with_servers", req.args.get("with_servers", "false"))
    if pattern is not None and paging and ("limit" in req.args or req.args.get("marker")):
        # HTTPBadRequest(_('Paging over hypervisors ...')) sets webob's detail; Nova's
        # fault shows the explanation
        raise BadRequest(
            "The server could not comply with the request since it is either malformed "
            "or otherwise incorrect."
        )
    with req.cloud.lock:
        nodes = sorted(req.cloud.store.nodes.values(), key=lambda n: n.id)
        if pattern is not None:
            nodes = [n for n in nodes if pattern in n.host]
            if not nodes:
                raise HypervisorNotFound(hypervisor=pattern)
        elif paging:
            nodes = _hypervisor_page(req, nodes)
        views_ = [views.hypervisor(req, n, detail, with_servers) for n in nodes]
        body: dict = {"hypervisors": views_}
        if paging and pattern is None:
            collection = "os-hypervisors/detail" if detail else "os-hypervisors"
            if links := collection_links(req, views_, collection, lambda v: v["id"]):
                body["hypervisors_links"] = links
        return Reply(200, body)


def hypervisors(req: ApiRequest) -> Reply:
    return _hypervisor_list(req, False)


def hypervisors_detail(req: ApiRequest) -> Reply:
    return _hypervisor_list(req, True)


def _gone_from_2_88(req: ApiRequest) -> None:
    if req.mv("2.88"):
        raise NotFound("The resource could not be found.")


def hypervisor_statistics(req: ApiRequest) -> Reply:
    """2.1-2.87: totals of the hypervisors' (pre-2.88) detail statistics."""
    _gone_from_2_88(req)
    require_admin(req, "os_compute_api:os-hypervisors:statistics")
    keys = (
        "vcpus",
        "memory_mb",
        "local_gb",
        "vcpus_used",
        "memory_mb_used",
        "local_gb_used",
        "free_ram_mb",
        "free_disk_gb",
        "current_workload",
        "running_vms",
        "disk_available_least",
    )
    with req.cloud.lock:
        nodes = list(req.cloud.store.nodes.values())
        stats = {"count": len(nodes), **dict.fromkeys(keys, 0)}
        for node in nodes:
            view = views.hypervisor(req, node, True)
            for key in keys:
                stats[key] += view[key]
    return Reply(200, {"hypervisor_statistics": stats})


def hypervisor_uptime(req: ApiRequest, hypervisor_id: str) -> Reply:
    """2.1-2.87 (from 2.88 the detail view carries ``uptime``)."""
    _gone_from_2_88(req)
    require_admin(req, "os_compute_api:os-hypervisors:uptime")
    with req.cloud.lock:
        node = _find_hypervisor(req, hypervisor_id)
        view = views.hypervisor(req, node, False)
        view["uptime"] = views.hypervisor_uptime(req)
    return Reply(200, {"hypervisor": view})


def _find_hypervisor(req: ApiRequest, hypervisor_id: str):
    store = req.cloud.store
    if req.mv("2.53"):
        if not _is_uuid(hypervisor_id):  # _validate_id
            raise BadRequest(f"Invalid uuid {hypervisor_id}")
        node = store.node_by_uuid.get(hypervisor_id)
    else:
        node = store.node_by_id.get(int(hypervisor_id)) if is_id(hypervisor_id) else None
    if node is None:
        raise NotFound(f"Hypervisor with ID '{hypervisor_id}' could not be found.")
    return node


def hypervisor(req: ApiRequest, hypervisor_id: str) -> Reply:
    require_admin(req, "os_compute_api:os-hypervisors:show")
    with req.cloud.lock:
        node = _find_hypervisor(req, hypervisor_id)
        with_servers = req.mv("2.53") and boolean(
            "with_servers", req.args.get("with_servers", "false")
        )
        return Reply(200, {"hypervisor": views.hypervisor(req, node, True, with_servers)})


def _legacy_matching(req: ApiRequest, pattern: str, rule: str, with_servers: bool) -> Reply:
    """``/os-hypervisors/{pattern}/search`` and ``/servers``: gone from 2.53."""
    if req.mv("2.53"):
        raise NotFound("The resource could not be found.")
    require_admin(req, rule)
    with req.cloud.lock:
        nodes = [n for n in req.cloud.store.nodes.values() if pattern in n.host]
        if not nodes:
            raise HypervisorNotFound(hypervisor=pattern)
        return Reply(
            200, {"hypervisors": [views.hypervisor(req, n, False, with_servers) for n in nodes]}
        )


def hypervisor_search(req: ApiRequest, pattern: str) -> Reply:
    return _legacy_matching(req, pattern, "os_compute_api:os-hypervisors:search", False)


def hypervisor_servers(req: ApiRequest, pattern: str) -> Reply:
    return _legacy_matching(req, pattern, "os_compute_api:os-hypervisors:servers", True)


# -- availability zones -------------------------------------------------------------------


def availability_zones(req: ApiRequest) -> Reply:
    with req.cloud.lock:
        zones = sorted({n.zone for n in req.cloud.store.nodes.values()})
    return Reply(
        200,
        {
            "availabilityZoneInfo": [
                {"zoneName": z, "zoneState": {"available": True}, "hosts": None} for z in zones
            ]
        },
    )


def availability_zones_detail(req: ApiRequest) -> Reply:
    require_admin(req, "os_compute_api:os-availability-zone:detail")
    store = req.cloud.store
    with req.cloud.lock:
        zones: dict[str, dict] = {}
        internal: dict = {}
        for s in store.services.values():
            up = req.cloud.computes.is_up(s.host) if s.binary == "nova-compute" else True
            entry = {
                s.binary: {
                    "active": s.status == "enabled",
                    "available": up,
                    "updated_at": views.iso_us(req, req.cloud.clock.now()),
                }
            }
            target = zones.setdefault(s.zone, {}) if s.binary == "nova-compute" else internal
            target.setdefault(s.host, {}).update(entry)
    info = [
        {"zoneName": z, "zoneState": {"available": True}, "hosts": hosts}
        for z, hosts in sorted(zones.items())
    ]
    info.insert(0, {"zoneName": "internal", "zoneState": {"available": True}, "hosts": internal})
    return Reply(200, {"availabilityZoneInfo": info})


# -- quotas and limits -------------------------------------------------------------------

QUOTA_KEYS_2_57 = (
    "instances",
    "cores",
    "ram",
    "metadata_items",
    "key_pairs",
    "server_groups",
    "server_group_members",
)
QUOTA_KEYS_LEGACY = QUOTA_KEYS_2_57 + (
    "injected_files",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
)


# network quotas were proxied to neutron and dropped from the API in 2.36
QUOTA_KEYS_NETWORK = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")


def _quota_keys(req: ApiRequest):
    if req.mv("2.57"):
        return QUOTA_KEYS_2_57
    return QUOTA_KEYS_LEGACY + (() if req.mv("2.36") else QUOTA_KEYS_NETWORK)


def _quota_target(req: ApiRequest, project_id: str) -> None:
    if not req.ctx.is_admin and project_id != req.ctx.project_id:
        raise PolicyNotAuthorized(action="os_compute_api:os-quota-sets:show")


def quota_show(req: ApiRequest, project_id: str) -> Reply:
    _quota_target(req, project_id)
    with req.cloud.lock:
        limits_ = req.cloud.compute_api.quota_limits(project_id)
    return Reply(
        200, {"quota_set": {"id": project_id, **{k: limits_[k] for k in _quota_keys(req)}}}
    )


def quota_defaults(req: ApiRequest, project_id: str) -> Reply:
    return Reply(
        200, {"quota_set": {"id": project_id, **{k: DEFAULT_QUOTAS[k] for k in _quota_keys(req)}}}
    )


def quota_detail(req: ApiRequest, project_id: str) -> Reply:
    _quota_target(req, project_id)
    with req.cloud.lock:
        limits_ = req.cloud.compute_api.quota_limits(project_id)
        used = req.cloud.compute_api.quota_usage(project_id)
    return Reply(
        200,
        {
            "quota_set": {
                "id": project_id,
                **{
                    k: {"limit": limits_[k], "in_use": used.get(k, 0), "reserved": 0}
                    for k in _quota_keys(req)
                },
            }
        },
    )


def quota_update(req: ApiRequest, project_id: str) -> Reply:
    require_admin(req, "os_compute_api:os-quota-sets:update")
    body = req.json().get("quota_set")
    if not isinstance(body, dict):
        raise invalid("quota_set", body, "'quota_set' is a required property")
    no_extra_properties(body, set(_quota_keys(req)) | {"force"}, "quota_set")
    updates = {}
    for key, value in body.items():
        if key == "force":
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise invalid(key, value, f"{value!r} is not of type 'integer', 'string'")
        try:
            n = int(value)
        except ValueError:
            raise invalid(key, value, f"{value!r} does not match '^-?[0-9]+$'") from None
        if n < -1:
            raise invalid(key, value, f"{n} is less than the minimum of -1")
        if n > MAX_INT:
            raise invalid(key, value, f"{n} is greater than the maximum of {MAX_INT}")
        updates[key] = n
    with req.cloud.lock:
        req.cloud.store.quotas.setdefault(project_id, {}).update(updates)
        limits_ = req.cloud.compute_api.quota_limits(project_id)
    return Reply(200, {"quota_set": {k: limits_[k] for k in _quota_keys(req)}})


def quota_delete(req: ApiRequest, project_id: str) -> Reply:
    require_admin(req, "os_compute_api:os-quota-sets:delete")
    with req.cloud.lock:
        req.cloud.store.quotas.pop(project_id, None)
    return Reply(202)


def limits(req: ApiRequest) -> Reply:
    project = req.ctx.project_id
    if req.ctx.is_admin and req.args.get("tenant_id"):
        project = req.args["tenant_id"]
    with req.cloud.lock:
        lim = req.cloud.compute_api.quota_limits(project)
        used = req.cloud.compute_api.quota_usage(project)
    absolute = {
        "maxTotalInstances": lim["instances"],
        "maxTotalCores": lim["cores"],
        "maxTotalRAMSize": lim["ram"],
        "maxServerMeta": lim["metadata_items"],
        "maxTotalKeypairs": lim["key_pairs"],
        "maxServerGroups": lim["server_groups"],
        "maxServerGroupMembers": lim["server_group_members"],
        "totalInstancesUsed": used["instances"],
        "totalCoresUsed": used["cores"],
        "totalRAMUsed": used["ram"],
        "totalServerGroupsUsed": 0,
    }
    if not req.mv("2.36"):
        absolute.update(
            {
                "maxTotalFloatingIps": lim["floating_ips"],
                "maxSecurityGroups": lim["security_groups"],
                "maxSecurityGroupRules": lim["security_group_rules"],
                "totalFloatingIpsUsed": 0,
                "totalSecurityGroupsUsed": 0,
            }
        )
    if not req.mv("2.39"):
        absolute["maxImageMeta"] = lim["metadata_items"]
    if not req.mv("2.57"):
        absolute.update(
            {
                "maxPersonality": lim["injected_files"],
                "maxPersonalitySize": lim["injected_file_content_bytes"],
            }
        )
    return Reply(200, {"limits": {"rate": [], "absolute": absolute}})


# -- flavors ------------------------------------------------------------------------------


def _flavors(req: ApiRequest, detail: bool) -> Reply:
    with req.cloud.lock:
        items = sorted(req.cloud.store.flavors.values(), key=lambda f: f.id)
    return Reply(200, {"flavors": [views.flavor(req, f, detail) for f in items]})


def flavors(req: ApiRequest) -> Reply:
    return _flavors(req, False)


def flavors_detail(req: ApiRequest) -> Reply:
    return _flavors(req, True)


def flavor(req: ApiRequest, flavor_id: str) -> Reply:
    f = req.cloud.store.flavors.get(flavor_id)
    if f is None:
        raise NotFound(f"Flavor {flavor_id} could not be found.")
    return Reply(200, {"flavor": views.flavor(req, f)})


def flavor_extra_specs(req: ApiRequest, flavor_id: str) -> Reply:
    f = req.cloud.store.flavors.get(flavor_id)
    if f is None:
        raise NotFound(f"Flavor {flavor_id} could not be found.")
    return Reply(200, {"extra_specs": dict(f.extra_specs)})


# -- instance actions ---------------------------------------------------------------------


def instance_actions(req: ApiRequest, server_id: str) -> Reply:
    """From 2.58: ``changes-since``, ``changes-before`` (2.66), ``limit`` and ``marker``."""
    since = before = limit = marker = None
    if req.mv("2.58"):
        allowed = {"limit", "marker", "changes-since"} | (
            {"changes-before"} if req.mv("2.66") else set()
        )
        check_query(req, allowed)
        if (text := req.args.get("changes-since")) is not None:
            since = parse_time(req, "changes-since", text)
        if (text := req.args.get("changes-before")) is not None:
            before = parse_time(req, "changes-before", text)
        if since is not None and before is not None and before < since:
            raise BadRequest(
                "The value of changes-since must be less than or equal to changes-before."
            )
        limit = query_limit(req)
        marker = req.args.get("marker")
    with req.cloud.lock:
        inst = req.cloud.compute_api.get(req.ctx, server_id, read_deleted=req.mv("2.21"))
        # newest first: order_by(desc("created_at"), desc("id"))
        records = list(reversed(req.cloud.store.actions.get(inst.uuid, [])))
        if limit == 0:
            records = []
        records = [
            a
            for a in records
            if (since is None or a.updated_at >= since)
            and (before is None or a.updated_at <= before)
        ]
        if marker is not None:
            idx = next((i for i, a in enumerate(records) if a.request_id == marker), None)
            if idx is None:
                # nova's actions_get formats the marker after replacing it by the lookup
                raise BadRequest("Marker None could not be found.")
            records = records[idx + 1 :]
        records = records[: min(limit if limit is not None else MAX_LIMIT, MAX_LIMIT)]
        body = {"instanceActions": [views.instance_action(req, a, False) for a in records]}
        if req.mv("2.58") and (
            links := collection_links(
                req,
                records,
                f"servers/{server_id}/os-instance-actions",
                lambda a: a.request_id,
            )
        ):
            body["links"] = links
        return Reply(200, body)


def instance_action(req: ApiRequest, server_id: str, request_id: str) -> Reply:
    with req.cloud.lock:
        inst = req.cloud.compute_api.get(req.ctx, server_id, read_deleted=req.mv("2.21"))
        record = next(
            (a for a in req.cloud.store.actions.get(inst.uuid, []) if a.request_id == request_id),
            None,
        )
        if record is None:
            raise InstanceActionNotFound(request_id=request_id, instance_uuid=inst.uuid)
        # events: admin always; the owner from 2.51 (without traceback)
        return Reply(
            200,
            {
                "instanceAction": views.instance_action(
                    req, record, req.ctx.is_admin or req.mv("2.51")
                )
            },
        )
