"""The one model store of a fake cloud, behind one lock.

HTTP handlers call the services (compute API, conductor, ...), the services
change records here, and the clock fires their follow-up events; all of it
under ``store.lock``. Indexes keep every lookup by id, host, reservation or
project a dictionary access, so a request costs what its answer holds.
"""

from __future__ import annotations

import itertools
import threading
import uuid as uuidlib

from .clock import Clock
from .objects import ComputeNode, Flavor, Image, Instance, InstanceAction, Migration, Service
from .placement import Placement


def new_uuid() -> str:
    return str(uuidlib.uuid4())


KEEP_DELETED = 1000  # deleted servers kept readable (with their actions and migrations)


class Store:
    def __init__(self, clock: Clock, lock: threading.RLock, keep_deleted: int = KEEP_DELETED):
        if isinstance(keep_deleted, bool) or not isinstance(keep_deleted, int) or keep_deleted < 0:
            raise ValueError(
                f"keep_deleted must be a whole number of servers (0 or more), got {keep_deleted!r}"
            )
        self.lock = lock
        self.clock = clock
        self.keep_deleted = keep_deleted
        self.reset()

    def reset(self) -> None:
        self.placement = Placement()
        self.flavors: dict[str, Flavor] = {}
        self.images: dict[str, Image] = {}
        self.services: dict[int, Service] = {}
        self.service_by_uuid: dict[str, Service] = {}
        self.nodes: dict[str, ComputeNode] = {}  # by host name
        self.node_by_uuid: dict[str, ComputeNode] = {}
        self.node_by_id: dict[int, ComputeNode] = {}
        self.instances: dict[str, Instance] = {}
        self.deleted: dict[str, Instance] = {}  # soft-deleted, as Nova keeps them
        self.by_reservation: dict[str, list[str]] = {}
        self.by_host: dict[str, dict[str, None]] = {}
        self.by_project: dict[str, dict[str, None]] = {}
        self.request_specs: dict = {}
        self.migrations: dict[int, Migration] = {}
        self.migration_by_uuid: dict[str, Migration] = {}
        self.migrations_by_instance: dict[str, list[int]] = {}
        # by source host (a migration's source_compute never changes): what a host's
        # compute must clean up when it comes back, what keeps it from being forced up
        self.migrations_from: dict[str, dict[int, None]] = {}
        self.actions: dict[str, list[InstanceAction]] = {}
        self.quotas: dict[str, dict[str, int]] = {}
        # what each project's live instances count against quota, kept as they change
        self.quota_usage: dict[str, dict[str, int]] = {}
        self._ids = {
            name: itertools.count(1) for name in ("instance", "migration", "service", "node")
        }

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # -- instances ----------------------------------------------------------

    def add_instance(self, inst: Instance) -> None:
        self.instances[inst.uuid] = inst
        self.by_reservation.setdefault(inst.reservation_id, []).append(inst.uuid)
        self.by_project.setdefault(inst.project_id, {})[inst.uuid] = None
        self._count(inst, +1)
        if inst.host:
            self.by_host.setdefault(inst.host, {})[inst.uuid] = None

    def set_host(self, inst: Instance, host: str | None, **fields) -> None:
        """Move the instance to ``host`` (index kept), saving ``fields`` with it."""
        if inst.host:
            self.by_host.get(inst.host, {}).pop(inst.uuid, None)
        inst.update(host=host, node=host, **fields)
        if host:
            self.by_host.setdefault(host, {})[inst.uuid] = None

    def remove_instance(self, inst: Instance) -> None:
        """Soft delete: gone from every index, kept in ``deleted`` (read_deleted=yes)."""
        if self.instances.pop(inst.uuid, None) is not None:
            self._count(inst, -1)
        self.deleted[inst.uuid] = inst
        self._archive()
        ids = self.by_reservation.get(inst.reservation_id)
        if ids and inst.uuid in ids:
            ids.remove(inst.uuid)
            if not ids:
                del self.by_reservation[inst.reservation_id]
        self.by_project.get(inst.project_id, {}).pop(inst.uuid, None)
        if inst.host:
            self.by_host.get(inst.host, {}).pop(inst.uuid, None)
        self.request_specs.pop(inst.uuid, None)

    def _archive(self) -> None:
        """Nova's ``archive_deleted_rows`` and ``purge``, done as servers are deleted: only
        the newest ``keep_deleted`` deleted servers stay readable, and with the oldest go
        its instance actions and migration records, so a long-running cloud stays bounded."""
        while len(self.deleted) > self.keep_deleted:
            uuid = next(iter(self.deleted))
            del self.deleted[uuid]
            self.actions.pop(uuid, None)
            for mig_id in self.migrations_by_instance.pop(uuid, []):
                mig = self.migrations.pop(mig_id, None)
                if mig is not None:
                    self.migration_by_uuid.pop(mig.uuid, None)
                    self.migrations_from.get(mig.source_compute, {}).pop(mig.id, None)

    def _count(self, inst: Instance, sign: int) -> None:
        used = self.quota_usage.setdefault(inst.project_id, {"instances": 0, "cores": 0, "ram": 0})
        used["instances"] += sign
        used["cores"] += sign * inst.flavor.vcpus
        used["ram"] += sign * inst.flavor.ram

    # -- migrations ---------------------------------------------------------

    def add_migration(self, mig: Migration) -> None:
        self.migrations[mig.id] = mig
        self.migration_by_uuid[mig.uuid] = mig
        self.migrations_by_instance.setdefault(mig.instance_uuid, []).append(mig.id)
        self.migrations_from.setdefault(mig.source_compute, {})[mig.id] = None

    def migrations_of(self, instance_uuid: str) -> list[Migration]:
        return [self.migrations[i] for i in self.migrations_by_instance.get(instance_uuid, [])]

    def migrations_from_host(self, host: str) -> list[Migration]:
        """The migrations whose source is ``host``, oldest first."""
        return [self.migrations[i] for i in self.migrations_from.get(host, ())]

    # -- hosts --------------------------------------------------------------

    def add_node(self, node: ComputeNode, service: Service) -> None:
        self.services[service.id] = service
        self.service_by_uuid[service.uuid] = service
        self.nodes[node.host] = node
        self.node_by_uuid[node.uuid] = node
        self.node_by_id[node.id] = node

    def remove_node(self, host: str) -> None:
        node = self.nodes.pop(host)
        self.node_by_uuid.pop(node.uuid, None)
        self.node_by_id.pop(node.id, None)
        service = self.services.pop(node.service_id, None)
        if service is not None:
            self.service_by_uuid.pop(service.uuid, None)

    def compute_service(self, host: str) -> Service | None:
        node = self.nodes.get(host)
        return self.services.get(node.service_id) if node else None
