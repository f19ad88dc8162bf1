"""nova-conductor's cold moves: ``MigrationTask`` and the evacuation half of ``rebuild_instance``.

``migrate_server`` is ``nova/conductor/tasks/migrate.py``: it creates the
migration record (``pre-migrating``, type ``migration`` or ``resize``), moves
the server's source allocation to the migration's consumer
(``replace_allocation_with_migration``), asks the scheduler for a destination
that fits the new flavor (claimed for the server's consumer), keeps the other
hosts that passed as alternates, persists the request spec, and casts
``prep_resize`` to the destination. No valid host: the allocation goes back,
the migration is ``error``, the server as it was.

``rebuild_instance`` (``nova/conductor/manager.py``, evacuate) schedules the
destination (or claims the forced one) adding it to what the server holds,
and casts ``rebuild_instance`` to it. No valid host: migration ``error``,
server ``ERROR`` on its source.
"""

from __future__ import annotations

import dataclasses

from .computes_resize import ResizeComputes, cold_move_action
from .conductor import CONDUCTOR_HOST, ConductorTasks
from .exception import ComputeHostNotFound, FakeCloudError, InstanceNotFound, NoValidHost
from .objects import ERROR, Flavor, Instance, Migration
from .store import new_uuid

MAX_ATTEMPTS = 3  # [scheduler] max_attempts: the chosen host and two alternates


class MoveConductor(ConductorTasks):
    computes: ResizeComputes

    def _set_status(self, mig: Migration, status: str) -> None:
        self.computes._set_status(mig, status)

    # -- cold migration / resize: MigrationTask -----------------------------------------

    def migrate_server(
        self, ctx, inst: Instance, flavor: Flavor, host: str | None, ignore_hosts: list
    ) -> None:
        store = self.store
        now = self.clock.now()
        same_flavor = flavor.id == inst.flavor.id
        action = self.actions.latest(inst.uuid, "migrate" if same_flavor else "resize")
        ev = self.actions.event_start(action, "conductor_migrate_server", CONDUCTOR_HOST)
        if inst.deleted:
            self.actions.event_finish(action, ev, InstanceNotFound(instance_id=inst.uuid))
            return

        def type_id(f: Flavor) -> int:
            return int(f.id) if f.id.isdigit() else 0

        mig = Migration(
            id=store.next_id("migration"),
            uuid=new_uuid(),
            instance_uuid=inst.uuid,
            source_compute=inst.host,
            source_node=inst.node,
            project_id=ctx.project_id,
            user_id=ctx.user_id,
            created_at=now,
            updated_at=now,
            migration_type="migration" if same_flavor else "resize",
            status="pre-migrating",
            old_instance_type_id=type_id(inst.flavor),
            new_instance_type_id=type_id(flavor),
            vm_state_before=inst.vm_state,
        )
        mig.history.append(("pre-migrating", now))
        store.add_migration(mig)
        placement = store.placement
        placement.move(inst.uuid, mig.uuid, inst.project_id, inst.user_id)
        spec = store.request_specs[inst.uuid]
        move_spec = dataclasses.replace(
            spec,
            flavor=flavor,
            ignore_hosts=list(ignore_hosts),
            requested_destination=host or spec.requested_destination,
            num_instances=spec.num_instances if self.bugs.active("1718455") else 1,
        )
        try:
            dest = self.scheduler.select_destinations(
                move_spec, [inst.uuid], inst.project_id, inst.user_id
            )[0]
        except NoValidHost as exc:
            # MigrationTask.rollback + conductor _cold_migrate's NoValidHost handling
            placement.delete(inst.uuid)
            placement.move(mig.uuid, inst.uuid, inst.project_id, inst.user_id)
            self._set_status(mig, "error")
            kind = "cold migrate" if same_flavor else "resize"
            error = NoValidHost(reason=f"No valid host found for {kind}")
            inst.update(task_state=None, updated_at=self.clock.now())
            inst.fault = {"code": 400, "message": str(exc), "created": self.clock.now()}
            self.actions.event_finish(action, ev, error)
            return
        # the other hosts that passed, best first, are the alternates for a reschedule
        others = [
            n.host
            for n in sorted(
                self.scheduler.filtered_hosts(
                    self.scheduler.allocation_candidates(move_spec), move_spec
                ),
                key=lambda n: (-self.scheduler._ram_weight(n), n.id),
            )
            if n.host != dest.host
        ][: MAX_ATTEMPTS - 1]
        self._persist_spec(spec, move_spec, host, [])
        self.actions.event_finish(action, ev)
        self.computes.cast(
            self.durations_queue(),
            mig,
            self.computes.prep_resize,
            flavor,
            dest.host,
            others,
            name="prep_resize",
        )

    def durations_queue(self) -> float:
        return self.computes.durations.prep_resize

    def _persist_spec(self, spec, move_spec, host: str | None, failed: list) -> None:
        """Conductor saves the request spec to keep the new flavor, and nothing else.

        Before the fixes of bugs 1669054, 1797580 and 1718512 the save also kept the
        move's ignore_hosts, requested destination and retry hosts.
        """
        spec.flavor = move_spec.flavor
        if self.bugs.active("1669054"):
            spec.ignore_hosts = list(move_spec.ignore_hosts or [])
        if self.bugs.active("1797580") and host:
            spec.requested_destination = host
        if self.bugs.active("1718512") and failed:
            spec.retry = sorted(set(spec.retry or []) | set(failed))

    def reschedule(self, mig: Migration, flavor: Flavor, failed: str, alternates: list) -> None:
        """A prep_resize failed: the conductor tries the next alternate host."""
        inst = self.store.instances.get(mig.instance_uuid)
        if inst is None:
            return
        action = self.actions.latest(inst.uuid, cold_move_action(mig))
        ev = self.actions.event_start(action, "conductor_migrate_server", CONDUCTOR_HOST)
        placement = self.store.placement
        placement.move(inst.uuid, mig.uuid, inst.project_id, inst.user_id)
        resources = {rc: n for rc, n in flavor.resources().items() if n}
        remaining = list(alternates)
        while remaining:
            host = remaining.pop(0)
            node = self.store.nodes.get(host)
            if node is None:
                continue
            allocation = {node.uuid: resources}
            if placement.fits(allocation, replacing=inst.uuid):
                placement.put(inst.uuid, allocation, inst.project_id, inst.user_id)
                spec = self.store.request_specs.get(inst.uuid)
                if spec is not None:
                    failed_hosts = [failed]
                    self._persist_spec(
                        spec, dataclasses.replace(spec, flavor=flavor), None, failed_hosts
                    )
                self.actions.event_finish(action, ev)
                self.computes.cast(
                    self.durations_queue(),
                    mig,
                    self.computes.prep_resize,
                    flavor,
                    host,
                    remaining,
                    name="prep_resize",
                )
                return
        error = NoValidHost(reason="Exhausted all hosts available for retrying build failures.")
        placement.move(mig.uuid, inst.uuid, inst.project_id, inst.user_id)
        self._set_status(mig, "error")
        inst.update(task_state=None, updated_at=self.clock.now())
        self.actions.event_finish(action, ev, error)

    # -- evacuation: rebuild_instance -----------------------------------------------------

    def rebuild_instance(
        self,
        inst: Instance,
        mig: Migration,
        host: str | None,
        requested: str | None,
        stopped: bool,
    ) -> None:
        action = self.actions.latest(inst.uuid, "evacuate")
        ev = self.actions.event_start(action, "conductor_rebuild_instance", CONDUCTOR_HOST)
        if inst.deleted:
            self.actions.event_finish(action, ev, InstanceNotFound(instance_id=inst.uuid))
            return
        store = self.store
        try:
            if host:  # forced: claim_resources_on_destination, no scheduler
                dest = self._claim_forced(inst, host)
            else:
                spec = store.request_specs[inst.uuid]
                move_spec = dataclasses.replace(
                    spec,
                    # the source is never a candidate; before the fix of bug 1669054 the
                    # persisted ignore_hosts of an earlier resize came along
                    ignore_hosts=list(spec.ignore_hosts or []) + [inst.host],
                    requested_destination=requested,
                    num_instances=1,
                )
                dest = self.scheduler.select_destinations(
                    move_spec, [inst.uuid], inst.project_id, inst.user_id, keep_existing=True
                )[0].host
        except FakeCloudError as exc:
            if not self.bugs.active("1713783"):  # the fix: the migration is errored
                self._set_status(mig, "error")
            now = self.clock.now()
            inst.update(vm_state=ERROR, task_state=None, updated_at=now)
            inst.fault = {"code": 400, "message": str(exc), "created": now}
            self.actions.event_finish(action, ev, exc)
            return
        self.actions.event_finish(action, ev)
        self.computes.cast(
            self.computes.durations.queue,
            mig,
            self.computes.rebuild_instance,
            dest,
            stopped,
            name="rebuild_instance",
        )

    def _claim_forced(self, inst: Instance, host: str) -> str:
        node = self.store.nodes.get(host)
        if node is None:
            raise ComputeHostNotFound(host=host)
        placement = self.store.placement
        allocation = {node.uuid: {rc: n for rc, n in inst.flavor.resources().items() if n}}
        if not placement.fits(allocation):
            raise NoValidHost(
                reason=f"Unable to move instance {inst.uuid} to host {host}. There is not "
                "enough capacity on the host for the instance."
            )
        placement.put(
            inst.uuid, {**placement.get(inst.uuid), **allocation}, inst.project_id, inst.user_id
        )
        return host
