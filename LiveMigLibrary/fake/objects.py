"""The model: plain records the services of the fake cloud read and change.

Names follow Nova's objects (Instance, RequestSpec, Migration, ComputeNode,
Service, InstanceAction) so a Nova engineer finds the fields where expected.
Only the store holds them; everything else looks them up by id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# vm_states / task_states / power_state, as in nova/compute/{vm,task}_states.py
ACTIVE, BUILDING, PAUSED, SUSPENDED, STOPPED, ERROR, DELETED = (
    "active",
    "building",
    "paused",
    "suspended",
    "stopped",
    "error",
    "deleted",
)
RESIZED = "resized"  # a cold move waiting for confirmResize / revertResize
NOSTATE, RUNNING, PAUSED_POWER, SHUTDOWN, SUSPENDED_POWER = 0, 1, 3, 4, 7

# Migration statuses that count as "in progress" for GET /servers/{id}/migrations
IN_PROGRESS_MIGRATION = ("queued", "preparing", "running", "post-migrating")
# Statuses after which a migration is over
FINISHED_MIGRATION = ("completed", "error", "failed", "cancelled")
# ... and the ends of cold moves and evacuations ("done" waits for the source's clean-up)
MOVE_FINISHED = ("confirmed", "reverted", "done")


_TRACKED = frozenset(("vm_state", "task_state", "host", "clock"))


def host_id(project_id: str, host: str | None) -> str:
    """Nova's ``hostId``: sha224(project_id + host), empty without a host."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


@dataclass(slots=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    rxtx_factor: float = 1.0
    is_public: bool = True
    description: str | None = None
    extra_specs: dict = field(default_factory=dict)

    def resources(self) -> dict[str, int]:
        return {
            "VCPU": self.vcpus,
            "MEMORY_MB": self.ram + self.swap,
            "DISK_GB": self.disk + self.ephemeral,
        }


@dataclass(slots=True)
class Image:
    id: str
    name: str
    created_at: str
    size: int = 21430272
    disk_format: str = "qcow2"
    container_format: str = "bare"
    min_disk: int = 0
    min_ram: int = 0
    visibility: str = "public"
    status: str = "active"
    checksum: str = "c8fc807773e5354afe61636071771906"


@dataclass(slots=True)
class Service:
    id: int
    uuid: str
    binary: str
    host: str
    zone: str
    status: str = "enabled"  # enabled / disabled
    disabled_reason: str | None = None
    forced_down: bool = False
    alive: bool = True  # heartbeating; see ComputeHosts.is_up
    last_seen: float = 0.0
    updated_at: float = 0.0
    created_at: float = 0.0


@dataclass(slots=True)
class ComputeNode:
    """One nova-compute host: its service, hypervisor and placement provider."""

    host: str
    id: int
    uuid: str  # also the resource provider uuid, as in Nova
    service_id: int
    host_ip: str
    zone: str = "nova"
    hypervisor_type: str = "QEMU"
    hypervisor_version: int = 8002000
    max_concurrent_live_migrations: int = 1
    # what the driver reports of the hypervisor (update_provider_tree's totals)
    vcpus: int = 16
    memory_mb: int = 32768
    local_gb: int = 500
    # this host's own nova.conf capacity options, over the cloud's (config.CAPACITY_OPTIONS)
    nova_options: dict = field(default_factory=dict)
    # live migrations of this source host: running ones and those waiting
    active_migrations: set = field(default_factory=set)
    migration_queue: list = field(default_factory=list)


@dataclass(slots=True)
class RequestSpec:
    instance_uuid: str
    flavor: Flavor
    image_id: str
    project_id: str
    user_id: str
    num_instances: int = 1
    availability_zone: str | None = None
    ignore_hosts: list | None = None
    requested_destination: str | None = None
    retry: list | None = None  # hosts a move already failed on (RetryFilter)


@dataclass(slots=True)
class Instance:
    uuid: str
    id: int
    name: str
    project_id: str
    user_id: str
    flavor: Flavor
    image_id: str
    reservation_id: str
    launch_index: int
    created_at: float
    updated_at: float
    vm_state: str = BUILDING
    task_state: str | None = "scheduling"
    power_state: int = NOSTATE
    host: str | None = None
    node: str | None = None
    availability_zone: str | None = None
    launched_at: float | None = None
    terminated_at: float | None = None
    locked: bool = False
    locked_by: str | None = None
    locked_reason: str | None = None
    key_name: str | None = None
    description: str | None = None
    metadata: dict = field(default_factory=dict)
    fault: dict | None = None
    # a resize in progress: the flavor it came from and the one it goes to
    old_flavor: Flavor | None = None
    new_flavor: Flavor | None = None
    addresses: dict = field(default_factory=dict)
    config_drive: str = ""
    deleted: bool = False
    hostname: str = ""
    tags: list = field(default_factory=list)  # server tags (2.26), kept sorted
    # percent of a live migration's memory copied (save_stats), 0 otherwise
    progress: int = 0
    # the in-flight build or move event, so a delete can cancel it
    pending: object | None = None
    # every change of vm_state, task_state or host: [(t, vm_state, task_state, host)]
    history: list = field(default_factory=list)
    clock: object | None = None  # the cloud's clock, to timestamp the history

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if name in _TRACKED:
            self._record()

    def update(self, **fields) -> None:
        """Change several fields as one saved state (Nova's ``instance.save()``)."""
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        self._record()

    def _record(self) -> None:
        try:
            clock = self.clock
        except AttributeError:  # still in __init__
            return
        if clock is not None:
            entry = (clock.now(), self.vm_state, self.task_state, self.host)
            if not self.history or self.history[-1][1:] != entry[1:]:
                self.history.append(entry)

    @property
    def instance_name(self) -> str:
        return f"instance-{self.id:08x}"

    def host_id(self) -> str:
        return host_id(self.project_id, self.host)


@dataclass(slots=True)
class Migration:
    id: int
    uuid: str
    instance_uuid: str
    source_compute: str
    source_node: str
    project_id: str
    user_id: str
    created_at: float
    updated_at: float
    migration_type: str = "live-migration"
    status: str = "accepted"
    dest_compute: str | None = None
    dest_node: str | None = None
    dest_host: str | None = None
    old_instance_type_id: int = 0
    new_instance_type_id: int = 0
    block_migration: bool = False
    history: list = field(default_factory=list)  # [(status, t)]
    memory_total: int | None = None
    memory_processed: int | None = None
    memory_remaining: int | None = None
    disk_total: int | None = None
    disk_processed: int | None = None
    disk_remaining: int | None = None
    # runtime bits of the move (not in the API)
    event: object | None = None
    vm_state_before: str = ACTIVE
    deleted: bool = False  # soft-deleted with its instance: gone from the API
    failure: str | None = None  # why the hypervisor failed it (only in the logs of Nova)


@dataclass(slots=True)
class InstanceActionEvent:
    event: str
    start_time: float
    host: str | None = None
    finish_time: float | None = None
    result: str | None = None
    traceback: str | None = None
    details: str | None = None


@dataclass(slots=True)
class InstanceAction:
    action: str
    instance_uuid: str
    request_id: str
    user_id: str
    project_id: str
    start_time: float
    updated_at: float
    message: str | None = None
    finish_time: float | None = None
    events: list = field(default_factory=list)
