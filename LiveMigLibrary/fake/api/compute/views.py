"""JSON views of compute records, gated on the request's microversion.

Shapes follow Nova's ``doc/api_samples`` (``servers/v2.100``,
``os-migrations/v2.80``, ``server-migrations/v2.80``, ``os-services/v2.69``,
``os-hypervisors/v2.88``, ``os-instance-actions/v2.84``).
"""

from __future__ import annotations

import json

from ...objects import (
    ACTIVE,
    BUILDING,
    DELETED,
    ERROR,
    PAUSED,
    RESIZED,
    STOPPED,
    SUSPENDED,
    ComputeNode,
    Flavor,
    Instance,
    Migration,
    Service,
    host_id,
)
from ..wsgi import ApiRequest

# nova/api/openstack/common.py _STATE_MAP (the parts reachable in this model)
_COLD_MOVE = {
    "resize_prep": "RESIZE",
    "resize_migrating": "RESIZE",
    "resize_migrated": "RESIZE",
    "resize_finish": "RESIZE",
}
_REBUILD = {
    "rebuilding": "REBUILD",
    "rebuild_block_device_mapping": "REBUILD",
    "rebuild_spawning": "REBUILD",
}
_STATE_MAP = {
    ACTIVE: {
        "default": "ACTIVE",
        "migrating": "MIGRATING",
        "rebooting": "REBOOT",
        **_COLD_MOVE,
        **_REBUILD,
    },
    BUILDING: {"default": "BUILD"},
    STOPPED: {"default": "SHUTOFF", **_COLD_MOVE, **_REBUILD},
    PAUSED: {"default": "PAUSED", "migrating": "MIGRATING"},
    SUSPENDED: {"default": "SUSPENDED"},
    RESIZED: {"default": "VERIFY_RESIZE", "resize_reverting": "REVERT_RESIZE"},
    ERROR: {"default": "ERROR", **_REBUILD},
    DELETED: {"default": "DELETED"},
}


_PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")


def status_from_state(vm_state: str, task_state: str | None) -> str:
    states = _STATE_MAP.get(vm_state, {"default": "UNKNOWN"})
    return states.get(task_state or "default", states["default"])


def iso_z(req: ApiRequest, t: float | None) -> str | None:
    """Servers' timestamps: ``2026-11-25T22:05:07Z``."""
    if t is None:
        return None
    return req.cloud.clock.to_datetime(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_us(req: ApiRequest, t: float | None) -> str | None:
    """Migrations', services' and actions' timestamps: ``2026-11-25T22:05:07.000000``."""
    if t is None:
        return None
    return req.cloud.clock.to_datetime(t).strftime("%Y-%m-%dT%H:%M:%S.%f")


def links(req: ApiRequest, kind: str, id_: str, project: str | None = None) -> list[dict]:
    base = req.url("/compute/v2.1")
    bookmark = req.url("/compute")
    return [
        {"rel": "self", "href": f"{base}/{kind}/{id_}"},
        {"rel": "bookmark", "href": f"{bookmark}/{kind}/{id_}"},
    ]


# -- flavors --------------------------------------------------------------------


def flavor(req: ApiRequest, f: Flavor, detail: bool = True) -> dict:
    v = {"id": f.id, "name": f.name, "links": links(req, "flavors", f.id)}
    if req.mv("2.55"):
        v["description"] = f.description
    if not detail:
        return v
    v.update(
        {
            "ram": f.ram,
            "vcpus": f.vcpus,
            "disk": f.disk,
            "OS-FLV-EXT-DATA:ephemeral": f.ephemeral,
            "OS-FLV-DISABLED:disabled": False,
            "swap": f.swap if req.mv("2.75") else (f.swap or ""),
            "rxtx_factor": f.rxtx_factor,
            "os-flavor-access:is_public": f.is_public,
        }
    )
    if req.mv("2.61"):
        v["extra_specs"] = dict(f.extra_specs)
    return v


def embedded_flavor(req: ApiRequest, f: Flavor) -> dict:
    if req.mv("2.47"):
        v = {
            "vcpus": f.vcpus,
            "ram": f.ram,
            "disk": f.disk,
            "ephemeral": f.ephemeral,
            "swap": f.swap,
            "original_name": f.name,
        }
        if req.ctx.is_admin or True:  # extra_specs shown by default policy to all
            v["extra_specs"] = dict(f.extra_specs)
        return v
    return {"id": f.id, "links": [{"rel": "bookmark", "href": req.url(f"/compute/flavors/{f.id}")}]}


# -- servers ----------------------------------------------------------------------


def host_status(req: ApiRequest, inst: Instance) -> str:
    if not inst.host:
        return ""
    service = req.cloud.store.compute_service(inst.host)
    if service is None:
        return "UNKNOWN"
    if not req.cloud.computes.is_up(inst.host):
        return "DOWN"
    if service.status == "disabled":
        return "MAINTENANCE"
    return "UP"


def server_brief(req: ApiRequest, inst: Instance) -> dict:
    return {"id": inst.uuid, "name": inst.name, "links": links(req, "servers", inst.uuid)}


# Fields PUT /servers/{id} leaves out before 2.75 (``show(..., show_extended_attr=False, ...)``)
_UPDATE_OMITS = (
    "OS-EXT-AZ:",
    "OS-EXT-SRV-ATTR:",
    "OS-EXT-STS:",
    "OS-SRV-USG:",
    "config_drive",
    "key_name",
    "os-extended-volumes:",
    "security_groups",
    "host_status",
)


def server_after_update(req: ApiRequest, inst: Instance) -> dict:
    """PUT /servers/{id}: a reduced view until 2.75, the full one from 2.75."""
    v = server(req, inst, single=True)
    if req.mv("2.75"):
        return v
    return {k: val for k, val in v.items() if not k.startswith(_UPDATE_OMITS)}


def server(req: ApiRequest, inst: Instance, single: bool = False) -> dict:
    """The detailed view; ``single`` for show/update (fields a list never carries)."""
    admin = req.ctx.is_admin
    v = {
        "id": inst.uuid,
        "name": inst.name,
        "status": status_from_state(inst.vm_state, inst.task_state),
        "tenant_id": inst.project_id,
        "user_id": inst.user_id,
        "metadata": dict(inst.metadata),
        "hostId": inst.host_id(),
        "image": {
            "id": inst.image_id,
            "links": [{"rel": "bookmark", "href": req.url(f"/compute/images/{inst.image_id}")}],
        },
        "flavor": embedded_flavor(req, inst.flavor),
        "created": iso_z(req, inst.created_at),
        "updated": iso_z(req, inst.updated_at),
        "addresses": inst.addresses,
        "accessIPv4": "",
        "accessIPv6": "",
        "links": links(req, "servers", inst.uuid),
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": inst.availability_zone or "",
        "config_drive": inst.config_drive,
        "key_name": inst.key_name,
        "OS-SRV-USG:launched_at": iso_us(req, inst.launched_at),
        "OS-SRV-USG:terminated_at": iso_us(req, inst.terminated_at),
        "OS-EXT-STS:task_state": inst.task_state,
        "OS-EXT-STS:vm_state": inst.vm_state,
        "OS-EXT-STS:power_state": inst.power_state,
        "os-extended-volumes:volumes_attached": [],
    }
    if inst.addresses:
        # _add_security_grps: the groups of the server's ports; no port (networks
        # "none"), no key
        v["security_groups"] = [{"name": "default"}]
    if v["status"] in _PROGRESS_STATUSES:
        v["progress"] = inst.progress
    if admin:
        v["OS-EXT-SRV-ATTR:host"] = inst.host
        v["OS-EXT-SRV-ATTR:hypervisor_hostname"] = inst.node
        v["OS-EXT-SRV-ATTR:instance_name"] = inst.instance_name
        if req.mv("2.3"):
            v.update(
                {
                    "OS-EXT-SRV-ATTR:reservation_id": inst.reservation_id,
                    "OS-EXT-SRV-ATTR:launch_index": inst.launch_index,
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                    "OS-EXT-SRV-ATTR:user_data": None,
                }
            )
    if req.mv("2.3") and (admin or req.mv("2.90")):
        v["OS-EXT-SRV-ATTR:hostname"] = inst.hostname
    if req.mv("2.9"):
        v["locked"] = inst.locked
    if req.mv("2.16") and admin:
        v["host_status"] = host_status(req, inst)
    if req.mv("2.19"):
        v["description"] = inst.description
    if req.mv("2.26"):
        v["tags"] = list(inst.tags)
    if req.mv("2.63"):
        v["trusted_image_certificates"] = None
    if req.mv("2.71"):
        if single:  # 2.71: only GET/PUT /servers/{id} and rebuild
            v["server_groups"] = []
    if req.mv("2.73"):
        v["locked_reason"] = inst.locked_reason
    if req.mv("2.96"):
        v["pinned_availability_zone"] = None
    if req.mv("2.98"):
        # the image_* properties Nova keeps in system_metadata; the fake's images have
        # none beyond what the image record shows (Nova's fixture image shows {})
        v["image"]["properties"] = {}
    if req.mv("2.100"):
        v["scheduler_hints"] = {}
    if inst.fault and inst.vm_state in (ERROR, DELETED):
        fault = {
            "code": inst.fault["code"],
            "created": iso_z(req, inst.fault["created"]),
            "message": inst.fault["message"],
        }
        if admin:
            fault["details"] = inst.fault.get("details", "")
        v["fault"] = fault
    return v


# -- migrations ---------------------------------------------------------------------


def migration(req: ApiRequest, m: Migration, server_scoped: bool = False) -> dict:
    v = {
        "id": m.id,
        "created_at": iso_us(req, m.created_at),
        "updated_at": iso_us(req, m.updated_at),
        "dest_compute": m.dest_compute,
        "dest_host": m.dest_host,
        "dest_node": m.dest_node,
        "source_compute": m.source_compute,
        "source_node": m.source_node,
        "status": m.status,
    }
    if server_scoped:
        v["server_uuid"] = m.instance_uuid
        for name in (
            "memory_total",
            "memory_processed",
            "memory_remaining",
            "disk_total",
            "disk_processed",
            "disk_remaining",
        ):
            v[name + "_bytes"] = getattr(m, name)
    else:
        v["instance_uuid"] = m.instance_uuid
        v["old_instance_type_id"] = m.old_instance_type_id
        v["new_instance_type_id"] = m.new_instance_type_id
        if req.mv("2.23"):
            v["migration_type"] = m.migration_type
            if m.migration_type == "live-migration" and m.status in (
                "queued",
                "preparing",
                "running",
                "post-migrating",
            ):
                v["links"] = [
                    {
                        "rel": "self",
                        "href": req.url(
                            f"/compute/v2.1/servers/{m.instance_uuid}/migrations/{m.id}"
                        ),
                    },
                    {
                        "rel": "bookmark",
                        "href": req.url(f"/compute/servers/{m.instance_uuid}/migrations/{m.id}"),
                    },
                ]
    if req.mv("2.59"):
        v["uuid"] = m.uuid
    if req.mv("2.80"):
        v["user_id"] = m.user_id
        v["project_id"] = m.project_id
    return v


# -- services, hypervisors -----------------------------------------------------------


def service(req: ApiRequest, s: Service) -> dict:
    is_up = req.cloud.computes.is_up(s.host) if s.binary == "nova-compute" else True
    v = {
        "id": s.uuid if req.mv("2.53") else s.id,
        "binary": s.binary,
        "disabled_reason": s.disabled_reason,
        "host": s.host,
        "state": "up" if is_up else "down",
        "status": s.status,
        "updated_at": iso_us(req, s.last_seen if not s.alive else req.cloud.clock.now()),
        "zone": s.zone,
    }
    if req.mv("2.11"):
        v["forced_down"] = s.forced_down
    return v


def hypervisor_uptime(req: ApiRequest) -> str:
    """What ``uptime`` printed on the host; its clock is the cloud's (virtual) one."""
    now = req.cloud.clock.utcnow()
    up = int(req.cloud.clock.now())
    return (
        f" {now:%H:%M:%S} up {up // 86400} days, {up % 86400 // 3600:2d}:"
        f"{up % 3600 // 60:02d},  1 user,  load average: 0.00, 0.00, 0.00"
    )


CPU_INFO = {
    "arch": "x86_64",
    "model": "Nehalem",
    "vendor": "Intel",
    "features": ["pge", "clflush"],
    "topology": {"cores": 1, "threads": 1, "sockets": 4},
}


def hypervisor(req: ApiRequest, node: ComputeNode, detail: bool, servers: bool = False) -> dict:
    store = req.cloud.store
    s = store.services[node.service_id]
    is_up = req.cloud.computes.is_up(node.host)
    v = {
        "id": node.uuid if req.mv("2.53") else node.id,
        "hypervisor_hostname": node.host,
        "state": "up" if is_up else "down",
        "status": s.status,
    }
    if detail:
        v.update(
            {
                "host_ip": node.host_ip,
                "hypervisor_type": node.hypervisor_type,
                "hypervisor_version": node.hypervisor_version,
                "service": {
                    "host": node.host,
                    "id": s.uuid if req.mv("2.53") else s.id,
                    "disabled_reason": s.disabled_reason,
                },
            }
        )
        if not req.mv("2.88"):
            # the compute node record as the resource tracker keeps it: driver totals and
            # the usage the RAM weigher also reads
            use = store.placement.providers[node.uuid].usages
            v.update(
                {
                    "vcpus": node.vcpus,
                    "memory_mb": node.memory_mb,
                    "local_gb": node.local_gb,
                    **req.cloud.computes.node_usage(node),
                    "current_workload": 0,
                    "running_vms": len(store.by_host.get(node.host, {})),
                    "disk_available_least": node.local_gb - use.get("DISK_GB", 0),
                    # a JSON string until 2.28, an object from 2.28 on
                    "cpu_info": CPU_INFO if req.mv("2.28") else json.dumps(CPU_INFO),
                }
            )
        else:
            v["uptime"] = hypervisor_uptime(req)
    if servers:
        hosted = store.by_host.get(node.host, {})
        if hosted:
            v["servers"] = [{"uuid": u, "name": store.instances[u].instance_name} for u in hosted]
    return v


# -- instance actions --------------------------------------------------------------


def instance_action(req: ApiRequest, a, with_events: bool) -> dict:
    v = {
        "action": a.action,
        "instance_uuid": a.instance_uuid,
        "message": a.message,
        "project_id": a.project_id,
        "request_id": a.request_id,
        "start_time": iso_us(req, a.start_time),
        "user_id": a.user_id,
    }
    if req.mv("2.58"):
        v["updated_at"] = iso_us(req, a.updated_at)
    if with_events:
        events = []
        for e in reversed(a.events):  # newest first: order_by(desc("created_at"), desc("id"))
            ev = {
                "event": e.event,
                "start_time": iso_us(req, e.start_time),
                "finish_time": iso_us(req, e.finish_time),
                "result": e.result,
            }
            if req.ctx.is_admin:
                ev["traceback"] = e.traceback
            if req.mv("2.62"):
                if req.ctx.is_admin:
                    ev["host"] = e.host
                ev["hostId"] = host_id(a.project_id, e.host)
            if req.mv("2.84") and req.ctx.is_admin:
                ev["details"] = e.details
            events.append(ev)
        v["events"] = events
    return v
