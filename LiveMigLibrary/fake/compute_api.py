"""``nova.compute.api.API``: the checks and state changes made inside an API request.

HTTP handlers (``fake/api/compute``) parse and validate the request, enforce
policy, and call one method here; this module checks instance state the way
Nova's ``check_instance_state``/``check_instance_lock`` decorators do, records
the instance action, and hands work to the conductor or a compute through the
clock.
"""

from __future__ import annotations

import secrets

from .computes import ComputeHosts
from .conductor import Conductor
from .config import DEFAULT_QUOTAS, Durations
from .context import RequestContext
from .exception import (
    ComputeHostNotFound,
    FlavorNotFound,
    ImageNotFound,
    InstanceInvalidState,
    InstanceIsLocked,
    InstanceNotFound,
    InstanceNotReady,
    InvalidMigrationState,
    MigrationNotFoundForInstance,
    TooManyInstances,
)
from .instance_actions import InstanceActions
from .objects import (
    ACTIVE,
    DELETED,
    ERROR,
    FINISHED_MIGRATION,
    MOVE_FINISHED,
    NOSTATE,
    PAUSED,
    PAUSED_POWER,
    RUNNING,
    SHUTDOWN,
    STOPPED,
    SUSPENDED,
    SUSPENDED_POWER,
    Flavor,
    Instance,
    Migration,
    RequestSpec,
)
from .store import Store, new_uuid

# action name -> (allowed vm_states, task_state while running, vm_state, power_state, event)
SIMPLE_ACTIONS = {
    "pause": ((ACTIVE,), "pausing", PAUSED, PAUSED_POWER, "compute_pause_instance"),
    "unpause": ((PAUSED,), "unpausing", ACTIVE, RUNNING, "compute_unpause_instance"),
    "suspend": ((ACTIVE,), "suspending", SUSPENDED, SUSPENDED_POWER, "compute_suspend_instance"),
    "resume": ((SUSPENDED,), "resuming", ACTIVE, RUNNING, "compute_resume_instance"),
    "stop": ((ACTIVE, ERROR), "powering-off", STOPPED, SHUTDOWN, "compute_stop_instance"),
    "start": ((STOPPED,), "powering-on", ACTIVE, RUNNING, "compute_start_instance"),
}
LIVE_MIGRATABLE = (ACTIVE, PAUSED)
API_HOST = "controller"  # CONF.host of nova-api: its events (api_lock, api_unlock) name it


class ComputeAPI:
    def __init__(
        self,
        store: Store,
        conductor: Conductor,
        computes: ComputeHosts,
        actions: InstanceActions,
        durations: Durations,
        faults,
        bugs,
    ):
        self.store = store
        self.clock = store.clock
        self.conductor = conductor
        self.computes = computes
        self.actions = actions
        self.durations = durations
        self.faults = faults
        self.bugs = bugs

    # -- lookups --------------------------------------------------------------

    def get(self, ctx: RequestContext, instance_id: str, read_deleted: bool = False) -> Instance:
        inst = self.store.instances.get(instance_id)
        if inst is None and read_deleted:
            inst = self.store.deleted.get(instance_id)
        if (
            inst is None
            or (inst.deleted and not read_deleted)
            or (not ctx.is_admin and inst.project_id != ctx.project_id)
        ):
            raise InstanceNotFound(instance_id=instance_id)
        return inst

    def flavor(self, flavor_ref: str) -> Flavor:
        ref = str(flavor_ref).rstrip("/").rsplit("/", 1)[-1]
        flavor = self.store.flavors.get(ref)
        if flavor is None:
            raise FlavorNotFound(flavor_id=ref)
        return flavor

    def image(self, image_ref: str) -> str:
        ref = str(image_ref).rstrip("/").rsplit("/", 1)[-1]
        if ref not in self.store.images:
            raise ImageNotFound(image_id=ref)
        return ref

    # -- quotas ---------------------------------------------------------------

    def quota_limits(self, project_id: str) -> dict[str, int]:
        limits = dict(DEFAULT_QUOTAS)
        limits.update(self.store.quotas.get(project_id, {}))
        return limits

    def quota_usage(self, project_id: str) -> dict[str, int]:
        return dict(self.store.quota_usage.get(project_id, {"instances": 0, "cores": 0, "ram": 0}))

    def _check_num_instances_quota(
        self, project_id: str, flavor: Flavor, min_count: int, max_count: int
    ) -> int:
        """As nova's ``_check_num_instances_quota``: the most of max_count that fits."""
        limits = self.quota_limits(project_id)
        used = self.quota_usage(project_id)
        per = {"instances": 1, "cores": flavor.vcpus, "ram": flavor.ram}
        allowed = max_count
        for res, n in per.items():
            limit = limits[res]
            if limit < 0 or n == 0:
                continue
            allowed = min(allowed, max(0, (limit - used[res]) // n))
        if allowed >= min_count:
            return allowed
        overs = sorted(
            res
            for res, n in per.items()
            if limits[res] >= 0 and used[res] + n * min_count > limits[res]
        )
        first = overs[0] if overs else "instances"
        requested = (
            str(per[first] * min_count)
            if min_count == max_count
            else f"{per[first] * min_count}-{per[first] * max_count}"
        )
        raise TooManyInstances(
            overs=", ".join(overs) or first, req=requested, used=used[first], allowed=limits[first]
        )

    # -- create / delete ------------------------------------------------------

    def create(
        self,
        ctx: RequestContext,
        *,
        name: str,
        flavor: Flavor,
        image_id: str,
        min_count: int,
        max_count: int,
        availability_zone: str | None,
        metadata: dict,
        key_name: str | None,
        description: str | None,
        hostname: str | None = None,
        networks=None,
        tags: list[str] | None = None,
        requested_destination: str | None = None,
    ) -> tuple[list[Instance], str]:
        store = self.store
        count = self._check_num_instances_quota(ctx.project_id, flavor, min_count, max_count)
        reservation_id = "r-" + secrets.token_hex(4)[:8]
        now = self.clock.now()
        instances = []
        for index in range(count):
            display = name if count == 1 else f"{name}-{index + 1}"
            inst = Instance(
                uuid=new_uuid(),
                id=store.next_id("instance"),
                name=display,
                project_id=ctx.project_id,
                user_id=ctx.user_id,
                flavor=flavor,
                image_id=image_id,
                reservation_id=reservation_id,
                launch_index=index,
                clock=self.clock,
                created_at=now,
                updated_at=now,
                availability_zone=availability_zone,
                metadata=dict(metadata),
                key_name=key_name,
                description=description,
                hostname=(hostname or display).lower().replace("_", "-")[:63],
                tags=list(tags or []),
            )
            if networks not in (None, "none"):
                inst.addresses = {
                    "private": [
                        {
                            "version": 4,
                            "addr": f"10.0.{(inst.id >> 8) & 255}.{inst.id & 255}",
                            "OS-EXT-IPS:type": "fixed",
                            "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:"
                            + ":".join(f"{(inst.id >> shift) & 255:02x}" for shift in (16, 8, 0)),
                        }
                    ]
                }
            store.add_instance(inst)
            store.request_specs[inst.uuid] = RequestSpec(
                instance_uuid=inst.uuid,
                flavor=flavor,
                image_id=image_id,
                project_id=ctx.project_id,
                user_id=ctx.user_id,
                num_instances=count,
                availability_zone=availability_zone,
                # 2.74 host/hypervisor_hostname: a Destination the scheduler must honour
                requested_destination=requested_destination,
            )
            self.actions.start(ctx, inst.uuid, "create")
            instances.append(inst)
        event = self.clock.schedule(
            self.durations.schedule,
            self.conductor.schedule_and_build_instances,
            instances,
            name="schedule_and_build_instances",
        )
        for inst in instances:
            inst.pending = event
        return instances, reservation_id

    def delete(self, ctx: RequestContext, inst: Instance) -> None:
        if inst.locked and not ctx.is_admin:
            raise InstanceIsLocked(instance_uuid=inst.uuid)
        self.actions.start(ctx, inst.uuid, "delete")
        if inst.host is None:  # _delete_while_booting / local delete
            self._destroy(inst)
            return
        inst.task_state = "deleting"
        inst.updated_at = self.clock.now()
        self.clock.schedule(self.durations.delete, self._terminated, inst, name="terminate")

    def _terminated(self, inst: Instance) -> None:
        if not inst.deleted:
            self._destroy(inst)

    def _destroy(self, inst: Instance) -> None:
        """The instance is gone: its allocations, and those of its moves in progress."""
        if inst.pending is not None:
            # a multi-create's servers share one scheduling event: cancel it only when no
            # other server of the request still waits for it (the others would stay BUILD)
            event, inst.pending = inst.pending, None
            sharing = self.store.by_reservation.get(inst.reservation_id, [])
            if not any(
                self.store.instances[u].pending is event
                for u in sharing
                if u != inst.uuid and u in self.store.instances
            ):
                event.cancel()
        placement = self.store.placement
        placement.delete(inst.uuid)
        for mig in self.store.migrations_of(inst.uuid):
            # instance_destroy soft-deletes the instance's migration records
            mig.deleted = True
            if mig.status in FINISHED_MIGRATION + MOVE_FINISHED:
                continue
            if mig.event is not None:
                mig.event.cancel()
                mig.event = None
            if not self.bugs.active("1848343"):
                placement.delete(mig.uuid)
            if mig.status == "finished":  # _confirm_resize_on_deleting
                mig.status = "confirmed"
                mig.updated_at = self.clock.now()
                mig.history.append(("confirmed", mig.updated_at))
                continue
            mig.status = "error"
            mig.updated_at = self.clock.now()
            mig.history.append(("error", mig.updated_at))
            self.computes.release_slot(mig)
        inst.deleted = True
        # _delete_instance: power_state NOSTATE, terminated_at set; the tags go with it
        inst.terminated_at = self.clock.now()
        inst.tags = []
        inst.update(
            vm_state=DELETED, task_state=None, power_state=NOSTATE, updated_at=self.clock.now()
        )
        self.store.remove_instance(inst)

    # -- state checks -----------------------------------------------------------

    @staticmethod
    def check_state(
        inst: Instance, action: str, vm_states: tuple | None, task_states: tuple = (None,)
    ) -> None:
        """Nova's ``check_instance_state``: ``vm_states=None`` accepts any vm_state."""
        if vm_states is not None and inst.vm_state not in vm_states:
            raise InstanceInvalidState(
                action=action, instance_uuid=inst.uuid, attr="vm_state", state=inst.vm_state
            )
        if inst.task_state not in task_states:
            raise InstanceInvalidState(
                action=action, instance_uuid=inst.uuid, attr="task_state", state=inst.task_state
            )

    @staticmethod
    def check_lock(ctx: RequestContext, inst: Instance) -> None:
        if inst.locked and not ctx.is_admin:
            raise InstanceIsLocked(instance_uuid=inst.uuid)

    # -- simple actions -----------------------------------------------------

    def simple_action(self, ctx: RequestContext, inst: Instance, name: str, api_name: str) -> None:
        allowed, task_state, vm_state, power_state, event = SIMPLE_ACTIONS[name]
        self.check_lock(ctx, inst)
        self.check_state(inst, api_name, allowed)
        if inst.host is None:  # @check_instance_host: no compute would ever carry it out
            raise InstanceNotReady(instance_id=inst.uuid)
        action = self.actions.start(ctx, inst.uuid, name)
        self.computes.run_action(inst, task_state, vm_state, power_state, action, event)

    def reset_state(self, ctx: RequestContext, inst: Instance, state: str) -> None:
        """Nova's reset_state: vm_state forced, task_state cleared, nothing else."""
        self.actions.start(ctx, inst.uuid, "resetState")
        inst.update(
            vm_state=ACTIVE if state == "active" else ERROR,
            task_state=None,
            updated_at=self.clock.now(),
        )

    def lock(self, ctx: RequestContext, inst: Instance, reason: str | None) -> None:
        """Nova's ``API.lock``: an owner re-locking changes nothing and records nothing."""
        is_owner = inst.project_id == ctx.project_id
        if inst.locked and is_owner:
            return
        action = self.actions.start(ctx, inst.uuid, "lock")
        ev = self.actions.event_start(action, "api_lock", API_HOST)  # @wrap_instance_event
        inst.locked, inst.locked_by = True, "owner" if is_owner else "admin"
        if reason:
            inst.locked_reason = reason
        self.actions.event_finish(action, ev)

    def unlock(self, ctx: RequestContext, inst: Instance) -> None:
        action = self.actions.start(ctx, inst.uuid, "unlock")
        ev = self.actions.event_start(action, "api_unlock", API_HOST)
        inst.locked, inst.locked_by, inst.locked_reason = False, None, None
        self.actions.event_finish(action, ev)

    # -- live migration ---------------------------------------------------------

    def live_migrate(
        self,
        ctx: RequestContext,
        inst: Instance,
        host: str | None,
        block_migration: bool | str,
        force: bool,
        sync: bool,
    ) -> None:
        self.check_lock(ctx, inst)
        self.check_state(inst, "os-migrateLive", LIVE_MIGRATABLE)
        if host and host not in self.store.nodes:  # validated before task_state changes
            raise ComputeHostNotFound(host=host)
        inst.task_state = "migrating"
        inst.updated_at = self.clock.now()
        self.actions.start(ctx, inst.uuid, "live-migration")
        if sync:
            self.conductor.live_migrate_instance(ctx, inst, host, force, block_migration, True)
        else:
            self.clock.schedule(
                self.durations.precheck,
                self.conductor.live_migrate_instance,
                ctx,
                inst,
                host,
                force,
                block_migration,
                False,
                name="live_migrate_instance",
            )

    def _migration_for(self, inst: Instance, migration_id: int) -> Migration:
        mig = self.store.migrations.get(migration_id)
        if mig is None or mig.instance_uuid != inst.uuid:
            raise MigrationNotFoundForInstance(migration_id=migration_id, instance_id=inst.uuid)
        return mig

    def live_migrate_abort(
        self, ctx: RequestContext, inst: Instance, migration_id: int, allow_queued: bool
    ) -> None:
        self.check_lock(ctx, inst)
        self.check_state(inst, "abort live migration", None, ("migrating",))
        mig = self._migration_for(inst, migration_id)
        allowed = ("running", "queued", "preparing") if allow_queued else ("running",)
        if mig.status not in allowed or mig.migration_type != "live-migration":
            raise InvalidMigrationState(
                migration_id=migration_id,
                instance_uuid=inst.uuid,
                state=mig.status,
                method="abort live migration",
            )
        self.actions.start(ctx, inst.uuid, "live_migration_cancel")
        self.computes.live_migration_abort(mig)

    def live_migrate_force_complete(
        self, ctx: RequestContext, inst: Instance, migration_id: int
    ) -> None:
        self.check_lock(ctx, inst)
        self.check_state(inst, "force_complete", (ACTIVE,), ("migrating",))
        mig = self._migration_for(inst, migration_id)
        if mig.status != "running" or mig.migration_type != "live-migration":
            raise InvalidMigrationState(
                migration_id=migration_id,
                instance_uuid=inst.uuid,
                state=mig.status,
                method="force complete",
            )
        self.actions.start(ctx, inst.uuid, "live_migration_force_complete")
        self.computes.live_migration_force_complete(mig)
