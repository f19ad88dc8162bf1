"""nova-compute's side of cold migration, resize and evacuation.

The methods of ``nova/compute/manager.py`` that run on the computes, each an
event on the clock and each recording the instance-action event Nova's
``wrap_instance_event`` records:

- destination ``prep_resize`` (claim, or reschedule to an alternate host),
- source ``resize_instance`` (power off, copy the disk; the server's host
  becomes the destination),
- destination ``finish_resize`` (new flavor, ``VERIFY_RESIZE``),
- source ``confirm_resize`` (the migration consumer's source allocation goes),
- destination ``revert_resize`` then source ``finish_revert_resize`` (back
  on the source with the old flavor and its allocation),
- destination ``rebuild_instance`` for an evacuation, and the source's
  ``_destroy_evacuated_instances`` when its compute restarts,
- ``_poll_unconfirmed_resizes`` (``resize_confirm_window``).

Work that falls due on a dead compute waits for its restart (the host's
parked work, as for the other compute tasks).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .config import PERIODIC_INTERVAL, Durations, NovaOptions
from .context import RequestContext
from .exception import FakeCloudError, MigrationError, ResizeError, UnableToMigrateToSelf
from .instance_actions import InstanceActions
from .objects import (
    ACTIVE,
    ERROR,
    RESIZED,
    RUNNING,
    SHUTDOWN,
    STOPPED,
    Flavor,
    Instance,
    Migration,
)
from .store import Store

if TYPE_CHECKING:
    from .computes import ComputeHosts
    from .conductor_migrate import MoveConductor


def cold_move_action(mig: Migration) -> str:
    """The instance action a cold move's events belong to."""
    return "resize" if mig.migration_type == "resize" else "migrate"


def swap_flavor(store: Store, inst: Instance, flavor: Flavor) -> None:
    """The instance takes ``flavor``; its project's quota usage follows."""
    used = store.quota_usage.setdefault(inst.project_id, {"instances": 0, "cores": 0, "ram": 0})
    used["cores"] += flavor.vcpus - inst.flavor.vcpus
    used["ram"] += flavor.ram - inst.flavor.ram
    inst.flavor = flavor


class ResizeComputes:
    def __init__(
        self,
        store: Store,
        durations: Durations,
        options: NovaOptions,
        actions: InstanceActions,
        faults,
        bugs,
        computes: ComputeHosts,
    ):
        self.store = store
        self.clock = store.clock
        self.durations = durations
        self.options = options
        self.actions = actions
        self.faults = faults
        self.bugs = bugs
        self.computes = computes
        self.conductor: MoveConductor | None = None  # wired by the cloud (reschedules)
        self.move_api = None  # wired by the cloud (automatic confirmation)

    # -- helpers ----------------------------------------------------------------

    def _set_status(self, mig: Migration, status: str) -> None:
        now = self.clock.now()
        mig.status = status
        mig.updated_at = now
        mig.history.append((status, now))

    def _instance(self, mig: Migration) -> Instance | None:
        inst = self.store.instances.get(mig.instance_uuid)
        return None if inst is None or inst.deleted else inst

    def _on(self, host: str, fn, *args) -> bool:
        """Run on ``host``'s compute now, or park it until that compute restarts."""
        if self.computes._alive(host):
            return True
        self.computes._park(host, "call", (fn, args))
        return False

    def cast(self, delay: float, mig: Migration, fn, *args, name: str) -> None:
        mig.event = self.clock.schedule(delay, fn, mig, *args, name=name)

    def _fault(self, inst: Instance, message: str) -> None:
        inst.fault = {"code": 500, "message": message, "created": self.clock.now()}

    # -- prep_resize (destination) ------------------------------------------------

    def prep_resize(self, mig: Migration, flavor: Flavor, dest: str, alternates: list) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None or mig.status != "pre-migrating":
            return
        if not self._on(dest, self.prep_resize, mig, flavor, dest, alternates):
            return
        action = self.actions.latest(inst.uuid, cold_move_action(mig))
        ev = self.actions.event_start(action, "compute_prep_resize", dest)
        error: FakeCloudError | None = None
        if dest == inst.host and not self.options.allow_resize_to_same_host:
            error = UnableToMigrateToSelf(instance_id=inst.uuid, host=dest)
        rule = self.faults.match("prep_resize", instance=inst, host=dest)
        if rule is not None:
            error = MigrationError(reason=rule.message or f"prep_resize failed on {dest}")
        if error is not None:
            self.actions.event_finish(action, ev, error)
            # _revert_allocation: the destination claim goes, the source returns to the server
            placement = self.store.placement
            placement.delete(inst.uuid)
            placement.move(mig.uuid, inst.uuid, inst.project_id, inst.user_id)
            self._fault(inst, str(error))
            if alternates:  # _reschedule_resize_or_reraise: the next alternate host
                self.conductor.reschedule(mig, flavor, dest, alternates)
                return
            self._set_status(mig, "error")
            inst.update(task_state=None, updated_at=self.clock.now())
            return
        # the resource tracker's move claim records the destination on the migration
        node = self.store.nodes[dest]
        mig.dest_compute = mig.dest_node = dest
        mig.dest_host = node.host_ip
        inst.new_flavor = flavor
        self.actions.event_finish(action, ev)
        self.cast(self.durations.queue, mig, self.resize_instance, name="resize_instance")

    # -- resize_instance (source) -------------------------------------------------

    def resize_instance(self, mig: Migration) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None or mig.status != "pre-migrating":
            return
        if not self._on(mig.source_compute, self.resize_instance, mig):
            return
        action = self.actions.latest(inst.uuid, cold_move_action(mig))
        ev = self.actions.event_start(action, "compute_resize_instance", mig.source_compute)
        self._set_status(mig, "migrating")
        inst.update(task_state="resize_migrating", updated_at=self.clock.now())
        self.cast(
            self.durations.resize_instance,
            mig,
            self._disk_copied,
            action,
            ev,
            name="migrate_disk_and_power_off",
        )

    def _disk_copied(self, mig: Migration, action, ev) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None:
            return
        if not self._on(mig.source_compute, self._disk_copied, mig, action, ev):
            return
        rule = self.faults.match("resize_instance", instance=inst, host=mig.source_compute)
        if rule is not None:
            self._resize_instance_failed(mig, inst, action, ev, rule)
            return
        self._set_status(mig, "post-migrating")
        # the instance points at the destination from here on (nova _resize_instance)
        self.store.set_host(
            inst,
            mig.dest_compute,
            task_state="resize_migrated",
            power_state=SHUTDOWN,
            updated_at=self.clock.now(),
        )
        self.actions.event_finish(action, ev)
        self.cast(self.durations.queue, mig, self.finish_resize, name="finish_resize_cast")

    def _resize_instance_failed(self, mig: Migration, inst: Instance, action, ev, rule) -> None:
        """``migrate_disk_and_power_off`` raised on the source (nova ``resize_instance``).

        ``errors_out_migration_ctxt`` makes the migration ``error``,
        ``_error_out_instance_on_exception`` the server ``ERROR`` (``reverts_task_state``
        clears its task, ``wrap_instance_fault`` records the fault) and
        ``_revert_allocation`` moves the source allocation the migration held back to the
        server, replacing its destination claim. The server never left the source.
        """
        error = ResizeError(
            reason=rule.message or f"migrate_disk_and_power_off failed on {mig.source_compute}"
        )
        placement = self.store.placement
        placement.delete(inst.uuid)
        placement.move(mig.uuid, inst.uuid, inst.project_id, inst.user_id)
        self._set_status(mig, "error")
        inst.update(vm_state=ERROR, task_state=None, updated_at=self.clock.now())
        self._fault(inst, str(error))
        self.actions.event_finish(action, ev, error)

    # -- finish_resize (destination) ----------------------------------------------

    def finish_resize(self, mig: Migration) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None or mig.status != "post-migrating":
            return
        if not self._on(mig.dest_compute, self.finish_resize, mig):
            return
        action = self.actions.latest(inst.uuid, cold_move_action(mig))
        ev = self.actions.event_start(action, "compute_finish_resize", mig.dest_compute)
        inst.old_flavor = inst.flavor
        if inst.new_flavor is not None and inst.new_flavor.id != inst.flavor.id:
            swap_flavor(self.store, inst, inst.new_flavor)
        inst.update(task_state="resize_finish", updated_at=self.clock.now())
        self.cast(
            self.durations.finish_resize, mig, self._finished, action, ev, name="finish_resize"
        )

    def _finished(self, mig: Migration, action, ev) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None:
            return
        if not self._on(mig.dest_compute, self._finished, mig, action, ev):
            return
        now = self.clock.now()
        rule = self.faults.match("finish_resize", instance=inst, host=mig.dest_compute)
        if rule is not None:
            error = MigrationError(
                reason=rule.message or f"finish_resize failed on {mig.dest_compute}"
            )
            placement = self.store.placement
            if self.bugs.active("1825537"):
                # _revert_allocation: the source allocation back to the server, replacing
                # the destination claim, although the server now lives on the destination
                placement.delete(inst.uuid)
                placement.move(mig.uuid, inst.uuid, inst.project_id, inst.user_id)
            else:
                # the server stays on the destination (a hard reboot recovers it there):
                # only the source allocation the migration held goes
                placement.delete(mig.uuid)
            self._set_status(mig, "error")
            inst.update(vm_state=ERROR, task_state=None, updated_at=now)
            self._fault(inst, str(error))
            self.actions.event_finish(action, ev, error)
            return
        self._set_status(mig, "finished")
        stopped = mig.vm_state_before == STOPPED
        inst.update(
            vm_state=RESIZED,
            task_state=None,
            power_state=SHUTDOWN if stopped else RUNNING,
            availability_zone=self.store.nodes[mig.dest_compute].zone,
            updated_at=now,
        )
        inst.launched_at = now
        self.actions.event_finish(action, ev)
        if self.options.resize_confirm_window > 0:
            self._poll_when_due(mig)

    def _poll_when_due(self, mig: Migration) -> None:
        """Wait for the destination's first ``_poll_unconfirmed_resizes`` run that finds
        the migration: a periodic task (every ``PERIODIC_INTERVAL``) that confirms
        ``finished`` migrations last updated ``resize_confirm_window`` or more ago."""
        due = mig.updated_at + self.options.resize_confirm_window
        tick = math.ceil(due / PERIODIC_INTERVAL - 1e-9) * PERIODIC_INTERVAL
        delay = max(tick - self.clock.now(), 0.0)
        self.cast(delay, mig, self._poll_unconfirmed_resize, name="poll_unconfirmed_resizes")

    def _poll_unconfirmed_resize(self, mig: Migration) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None or mig.status != "finished":
            return
        if not self._on(mig.dest_compute, self._poll_unconfirmed_resize, mig):
            return
        window = self.options.resize_confirm_window
        if window <= 0:  # switched off meanwhile: the periodic task returns at once
            return
        if self.clock.now() < mig.updated_at + window:  # the window grew meanwhile
            self._poll_when_due(mig)
            return
        if inst.vm_state != RESIZED or inst.task_state is not None:
            return
        ctx = RequestContext(user_id="nova", project_id="service", is_admin=True, roles=["admin"])
        self.move_api.confirm_resize(ctx, inst)

    # -- confirm_resize (source) -------------------------------------------------

    def confirm_resize(self, mig: Migration, action) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None or mig.status != "confirming":
            return
        if not self._on(mig.source_compute, self.confirm_resize, mig, action):
            return
        self.actions.event(action, "compute_confirm_resize", mig.source_compute)
        self._set_status(mig, "confirmed")
        # _delete_allocation_after_move: the migration consumer's source allocation
        self.store.placement.delete(mig.uuid)
        stopped = inst.power_state == SHUTDOWN
        inst.old_flavor = inst.new_flavor = None
        inst.update(vm_state=STOPPED if stopped else ACTIVE, task_state=None)
        inst.updated_at = self.clock.now()

    # -- revert_resize (destination) then finish_revert_resize (source) ------------

    def revert_resize(self, mig: Migration, action) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None or mig.status != "reverting":
            return
        if not self._on(mig.dest_compute, self.revert_resize, mig, action):
            return
        self.actions.event(action, "compute_revert_resize", mig.dest_compute)
        self._set_status(mig, "reverted")
        self.cast(
            self.durations.finish_revert_resize,
            mig,
            self.finish_revert_resize,
            action,
            name="finish_revert_resize",
        )

    def finish_revert_resize(self, mig: Migration, action) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None:
            return
        if not self._on(mig.source_compute, self.finish_revert_resize, mig, action):
            return
        self.actions.event(action, "compute_finish_revert_resize", mig.source_compute)
        if inst.old_flavor is not None and inst.old_flavor.id != inst.flavor.id:
            swap_flavor(self.store, inst, inst.old_flavor)
        # _revert_allocation: the source allocation back to the server, the destination gone
        placement = self.store.placement
        placement.delete(inst.uuid)
        placement.move(mig.uuid, inst.uuid, inst.project_id, inst.user_id)
        inst.old_flavor = inst.new_flavor = None
        stopped = mig.vm_state_before == STOPPED
        self.store.set_host(
            inst,
            mig.source_compute,
            vm_state=STOPPED if stopped else ACTIVE,
            task_state=None,
            power_state=SHUTDOWN if stopped else RUNNING,
            availability_zone=self.store.nodes[mig.source_compute].zone,
            updated_at=self.clock.now(),
        )

    # -- evacuation: rebuild_instance on the destination ----------------------------

    def rebuild_instance(self, mig: Migration, dest: str, stopped: bool) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None:
            return
        if not self._on(dest, self.rebuild_instance, mig, dest, stopped):
            return
        action = self.actions.latest(inst.uuid, "evacuate")
        ev = self.actions.event_start(action, "compute_rebuild_instance", dest)
        # rebuild_claim -> _claim_existing_migration
        node = self.store.nodes[dest]
        mig.dest_compute = mig.dest_node = dest
        mig.dest_host = node.host_ip
        self._set_status(mig, "pre-migrating")
        rule = self.faults.match("rebuild", instance=inst, host=dest)
        if rule is not None:
            error = MigrationError(reason=rule.message or f"Rebuild failed on {dest}")
            self._set_status(mig, "failed")
            self.remove_provider(inst, dest)  # delete_allocation_for_evacuated_instance
            inst.update(vm_state=ERROR, task_state=None, updated_at=self.clock.now())
            self._fault(inst, str(error))
            self.actions.event_finish(action, ev, error)
            return
        inst.update(task_state="rebuild_block_device_mapping", updated_at=self.clock.now())
        inst.update(task_state="rebuild_spawning")
        self.cast(
            self.durations.rebuild, mig, self._rebuilt, dest, stopped, action, ev, name="rebuild"
        )

    def _rebuilt(self, mig: Migration, dest: str, stopped: bool, action, ev) -> None:
        mig.event = None
        inst = self._instance(mig)
        if inst is None:
            return
        if not self._on(dest, self._rebuilt, mig, dest, stopped, action, ev):
            return
        now = self.clock.now()
        # rt.finish_evacuation: host and node, then the migration is done
        self.store.set_host(
            inst,
            dest,
            vm_state=STOPPED if stopped else ACTIVE,
            task_state=None,
            power_state=SHUTDOWN if stopped else RUNNING,
            availability_zone=self.store.nodes[dest].zone,
            updated_at=now,
        )
        inst.launched_at = now
        self._set_status(mig, "done")
        self.actions.event_finish(action, ev)

    def remove_provider(self, inst: Instance, host: str) -> None:
        """remove_provider_tree_from_instance_allocation: drop ``host`` from the server's."""
        placement = self.store.placement
        node = self.store.nodes.get(host)
        held = dict(placement.get(inst.uuid))
        if node is None or node.uuid not in held:
            return
        del held[node.uuid]
        placement.put(inst.uuid, held, inst.project_id, inst.user_id)

    def destroy_evacuated_instances(self, host: str) -> None:
        """``init_host``: the source compute is back; guests evacuated from it go.

        Every evacuation from this host still ``accepted``, ``pre-migrating`` or
        ``done`` is taken as evacuated: the guest is destroyed, the server's
        allocation on this host removed and the migration ``completed``.
        """
        for mig in self.store.migrations_from_host(host):
            if (
                mig.migration_type != "evacuation"
                or mig.deleted
                or mig.status not in ("accepted", "pre-migrating", "done")
            ):
                continue
            inst = self._instance(mig)
            if inst is not None:
                self.remove_provider(inst, host)
            self._set_status(mig, "completed")
