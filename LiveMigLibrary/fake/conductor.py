"""nova-conductor: orchestrates builds and live migrations.

``schedule_and_build_instances`` asks the scheduler for every instance of a
request at once and hands each to its compute, or puts all of them in ERROR.
``live_migrate_instance`` is ``LiveMigrationTask``
(``nova/conductor/tasks/live_migrate.py``): it creates the migration record,
moves the source allocation to the migration consumer, finds and checks a
destination (scheduler, or the forced host), then casts to the source compute.
Any failure reverts the allocation, marks the migration ``error`` and leaves
the server as it was.
"""

from __future__ import annotations

import dataclasses

from .computes import ComputeHosts
from .context import RequestContext
from .exception import (
    ComputeHostNotFound,
    ComputeServiceUnavailable,
    FakeCloudError,
    InstanceNotFound,
    MigrationError,
    MigrationPreCheckError,
    NoValidHost,
    UnableToMigrateToSelf,
)
from .instance_actions import InstanceActions
from .objects import ERROR, Instance, Migration
from .scheduler import Scheduler
from .store import Store, new_uuid

CONDUCTOR_HOST = "controller"  # where nova-conductor runs; its events name it


class RemoteError(FakeCloudError):
    """An RPC call to a compute failed (oslo.messaging's RemoteError / MessagingTimeout)."""

    code = 500


# The exceptions nova's conductor ``_live_migrate`` expects from a live-migration task:
# they leave the instance as it was. Anything else puts it in ERROR.
EXPECTED_LIVE_MIGRATE_ERRORS = (
    NoValidHost,
    ComputeServiceUnavailable,
    UnableToMigrateToSelf,
    MigrationPreCheckError,
    ComputeHostNotFound,
)


class ConductorTasks:
    """What every nova-conductor manager works with, handed over one way: the store (and
    its clock), the scheduler, the computes it casts to, instance actions, fault rules
    and emulated bugs. ``Conductor`` (builds, live migration) and ``MoveConductor``
    (cold moves, evacuation) differ only in their tasks and in which computes' manager
    they cast to."""

    def __init__(
        self,
        store: Store,
        scheduler: Scheduler,
        computes,
        actions: InstanceActions,
        faults,
        bugs,
    ):
        self.store = store
        self.clock = store.clock
        self.scheduler = scheduler
        self.computes = computes
        self.actions = actions
        self.faults = faults
        self.bugs = bugs


class Conductor(ConductorTasks):
    computes: ComputeHosts

    # -- builds -------------------------------------------------------------

    def schedule_and_build_instances(self, instances: list[Instance]) -> None:
        live = [i for i in instances if i.uuid in self.store.instances and not i.deleted]
        if not live:
            return
        spec = self.store.request_specs[live[0].uuid]
        build_spec = dataclasses.replace(spec, num_instances=len(live))
        # A 2.74 host is for this build only: Nova never persists a RequestSpec's
        # requested_destination (RequestSpec._get_update_primitives), so later moves of
        # the server are scheduled freely.
        for inst in live:
            self.store.request_specs[inst.uuid].requested_destination = None
        try:
            nodes = self.scheduler.select_destinations(
                build_spec, [i.uuid for i in live], spec.project_id, spec.user_id
            )
        except NoValidHost as exc:
            now = self.clock.now()
            for inst in live:
                inst.pending = None
                inst.update(vm_state=ERROR, task_state=None)
                inst.fault = {"code": 500, "message": str(exc), "created": now}
                inst.updated_at = now
                action = self.actions.latest(inst.uuid, "create")
                self.actions.event(
                    action, "conductor_schedule_and_build_instances", CONDUCTOR_HOST, exc
                )
            return
        for inst, node in zip(live, nodes, strict=True):
            inst.pending = None
            self.store.set_host(inst, node.host)
            inst.availability_zone = node.zone
            action = self.actions.latest(inst.uuid, "create")
            self.actions.event(action, "conductor_schedule_and_build_instances", CONDUCTOR_HOST)
            self.computes.build_and_run_instance(inst, node, action)

    # -- live migration -----------------------------------------------------

    def live_migrate_instance(
        self,
        ctx: RequestContext,
        inst: Instance,
        host: str | None,
        force: bool,
        block_migration: bool | str,
        sync: bool,
    ) -> None:
        """Run LiveMigrationTask; errors propagate only when ``sync`` (below 2.34)."""
        store = self.store
        now = self.clock.now()
        action = self.actions.latest(inst.uuid, "live-migration")
        if inst.deleted:  # deleted while the cast was in flight: InstanceNotFound
            self.actions.event(
                action,
                "conductor_live_migrate_instance",
                CONDUCTOR_HOST,
                InstanceNotFound(instance_id=inst.uuid),
            )
            return
        mig = Migration(
            id=store.next_id("migration"),
            uuid=new_uuid(),
            instance_uuid=inst.uuid,
            source_compute=inst.host,
            # source_node and dest_node are written once the destination passed its
            # checks (LiveMigrationTask._execute); a refused migration keeps them null
            source_node=None,
            # 2.80: who started the migration, not who owns the server
            project_id=ctx.project_id,
            user_id=ctx.user_id,
            created_at=now,
            updated_at=now,
            dest_compute=host if force else None,
            dest_node=None,
            old_instance_type_id=int(inst.flavor.id) if inst.flavor.id.isdigit() else 0,
            vm_state_before=inst.vm_state,
            block_migration=block_migration is True,
        )
        mig.new_instance_type_id = mig.old_instance_type_id
        mig.history.append(("accepted", now))
        store.add_migration(mig)
        # below 2.34 the API calls conductor's migrate_server (an RPC call), from
        # 2.34 on it casts live_migrate_instance: each records its own event
        ev = self.actions.event_start(
            action,
            "conductor_migrate_server" if sync else "conductor_live_migrate_instance",
            CONDUCTOR_HOST,
        )
        held = False
        try:
            self._check_host_is_up(inst.host)
            # replace_allocation_with_migration
            store.placement.move(inst.uuid, mig.uuid, inst.project_id, inst.user_id)
            held = True
            rule = self.faults.match(
                "conductor",
                migration=mig,
                instance=inst,
                host=host or inst.host,
                kinds=("no_valid_host",),
            )
            if rule is not None:
                raise rule.exception(host or inst.host)
            if host and force:
                dest = self._check_forced_destination(inst, host)
            else:
                dest = self._find_destination(inst, host)
            self._call_livem_checks_on_host(action, inst, dest)
        except FakeCloudError as exc:
            if held:  # revert_allocation_for_migration
                # A destination claim still held here is one the checks failed to drop
                # (bug 1712411); fixed Nova has removed every claim by now.
                kept = store.placement.get(inst.uuid) if self.bugs.active("1712411") else {}
                source = store.placement.get(mig.uuid)
                store.placement.delete(mig.uuid)
                store.placement.put(inst.uuid, {**kept, **source}, inst.project_id, inst.user_id)
            mig.status = "error"
            mig.updated_at = self.clock.now()
            mig.history.append(("error", mig.updated_at))
            # conductor's _live_migrate: errors outside its list of expected pre-check
            # failures put the instance in ERROR and surface as MigrationError (500)
            unexpected = not isinstance(exc, EXPECTED_LIVE_MIGRATE_ERRORS)
            vm_state = ERROR if unexpected else inst.vm_state
            inst.update(vm_state=vm_state, task_state=None, updated_at=mig.updated_at)
            self.actions.event_finish(action, ev, exc)
            if sync and unexpected:
                raise MigrationError(reason=str(exc)) from exc
            if sync:
                raise
            return
        dest_node = store.nodes[dest]
        mig.source_node = inst.node
        mig.dest_compute = mig.dest_node = dest
        mig.dest_host = dest_node.host_ip
        self.actions.event_finish(action, ev)
        self.clock.schedule(
            self.computes.durations.queue,
            self.computes.live_migration,
            mig,
            name="live_migration_cast",
        )

    def _check_host_is_up(self, host: str) -> None:
        if not self.computes.is_up(host):
            raise ComputeServiceUnavailable(host=host)

    def _check_forced_destination(self, inst: Instance, host: str) -> str:
        if host not in self.store.nodes:
            raise ComputeHostNotFound(host=host)
        if host == inst.host:
            raise UnableToMigrateToSelf(instance_id=inst.uuid, host=host)
        self._check_host_is_up(host)
        placement = self.store.placement
        rp = placement.providers[self.store.nodes[host].uuid]
        mem = inst.flavor.resources()["MEMORY_MB"]
        avail = rp.free("MEMORY_MB")
        if avail < mem:
            raise MigrationPreCheckError(
                reason=f"Unable to migrate {inst.uuid} to {host}: Lack of memory"
                f"(host:{avail} <= instance:{mem})"
            )
        allocation = {rp.uuid: {rc: n for rc, n in inst.flavor.resources().items() if n}}
        if not placement.fits(allocation, replacing=inst.uuid):
            raise MigrationPreCheckError(
                reason=f"Unable to move instance {inst.uuid} to host {host}. There is not "
                "enough capacity on the host for the instance."
            )
        placement.put(inst.uuid, allocation, inst.project_id, inst.user_id)
        return host

    def _find_destination(self, inst: Instance, host_hint: str | None) -> str:
        spec = self.store.request_specs[inst.uuid]
        move_spec = dataclasses.replace(
            spec,
            ignore_hosts=[inst.host],
            # the stored spec's destination: empty unless a move persisted one (bug 1797580)
            requested_destination=host_hint or spec.requested_destination,
            # The fix of bug 1718455: a move schedules exactly one instance.
            num_instances=spec.num_instances if self.bugs.active("1718455") else 1,
        )
        nodes = self.scheduler.select_destinations(
            move_spec, [inst.uuid], inst.project_id, inst.user_id
        )
        return nodes[0].host

    def _call_livem_checks_on_host(self, action, inst: Instance, dest: str) -> None:
        """check_can_live_migrate_destination (dest) -> check_can_live_migrate_source (source)."""
        dest_ev = self.actions.event_start(
            action, "compute_check_can_live_migrate_destination", dest
        )
        service = self.store.compute_service(dest)
        error = None
        unreachable = self.faults.match(
            "conductor", instance=inst, host=dest, kinds=("unreachable",)
        )
        if service is None or not service.alive or unreachable is not None:
            error = MigrationPreCheckError(
                reason=(
                    unreachable.message
                    if unreachable and unreachable.message
                    else f"Timeout while checking if we can live migrate to host: {dest}"
                )
            )
        else:
            src_ev = self.actions.event_start(
                action, "compute_check_can_live_migrate_source", inst.host
            )
            rule = self.faults.match(
                "conductor", instance=inst, host=inst.host, kinds=("source_check_error",)
            )
            if rule is not None:
                message = rule.message or (
                    f"Timed out waiting for a reply from "
                    f"{inst.host} (check_can_live_migrate_source)"
                )
                # the fix of bug 2044235 turned the RPC error into a pre-check error
                error = (
                    RemoteError(message)
                    if self.bugs.active("2044235")
                    else MigrationPreCheckError(reason=message)
                )
            self.actions.event_finish(action, src_ev, error)
        self.actions.event_finish(action, dest_ev, error)
        if error is not None:
            if not self.bugs.active("1712411"):
                self.store.placement.delete(inst.uuid)  # the destination claim
            raise error
