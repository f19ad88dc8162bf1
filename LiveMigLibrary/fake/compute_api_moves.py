"""``nova.compute.api.API`` for the cold moves: resize/migrate, confirm, revert, evacuate.

The checks Nova makes inside the API request, in Nova's order, then the
state change, the instance action and the cast to the conductor or a
compute (an event on the clock).
"""

from __future__ import annotations

from .compute_api import ComputeAPI
from .computes import ComputeHosts
from .computes_resize import ResizeComputes
from .conductor_migrate import MoveConductor
from .config import Durations, NovaOptions
from .context import RequestContext
from .exception import BadRequest, ComputeHostNotFound, ServiceUnavailable, TooManyInstances
from .instance_actions import InstanceActions
from .objects import ACTIVE, ERROR, RESIZED, STOPPED, Flavor, Instance, Migration
from .store import Store, new_uuid

COLD_MOVABLE = (ACTIVE, STOPPED)
EVACUABLE = (ACTIVE, STOPPED, ERROR)


class CannotResizeToSameFlavor(BadRequest):
    msg_fmt = "When resizing, instances must change flavor!"


class CannotResizeDisk(BadRequest):
    msg_fmt = "Server disk was unable to be resized because: %(reason)s"


class CannotMigrateToSameHost(BadRequest):
    msg_fmt = "Cannot migrate to the host where the server exists."


class ComputeServiceInUse(BadRequest):
    msg_fmt = "Compute service of %(host)s is still in use."


class ForceUpWithDoneEvacuations(BadRequest):
    msg_fmt = (
        "Unable to force up host %(host)s as `done` evacuation migration records remain "
        "associated with the host. Ensure the compute service has been restarted, allowing "
        "these records to move to `completed` before retrying this request."
    )


class MigrationNotFoundByStatus(BadRequest):
    msg_fmt = "Instance has not been resized."


class MoveAPI:
    def __init__(
        self,
        store: Store,
        compute_api: ComputeAPI,
        conductor: MoveConductor,
        computes: ComputeHosts,
        resize_computes: ResizeComputes,
        actions: InstanceActions,
        durations: Durations,
        options: NovaOptions,
    ):
        self.store = store
        self.clock = store.clock
        self.compute_api = compute_api
        self.conductor = conductor
        self.computes = computes
        self.resize_computes = resize_computes
        self.actions = actions
        self.durations = durations
        self.options = options
        self.bugs = conductor.bugs

    # -- resize / cold migrate ----------------------------------------------------

    def resize(
        self,
        ctx: RequestContext,
        inst: Instance,
        flavor_ref: str | None = None,
        host: str | None = None,
    ) -> None:
        """``API.resize``: a cold migration without ``flavor_ref``, a resize with it."""
        api_name = "resize" if flavor_ref is not None else "migrate"
        ComputeAPI.check_lock(ctx, inst)
        ComputeAPI.check_state(inst, api_name, COLD_MOVABLE)
        self._check_source_is_up(inst)
        if host is not None:  # _validate_host_for_cold_migrate
            if host == inst.host:
                raise CannotMigrateToSameHost()
            if host not in self.store.nodes:
                raise ComputeHostNotFound(host=host)
        current = inst.flavor
        if flavor_ref is None:
            new = current
        else:
            new = self.store.flavors.get(str(flavor_ref).rstrip("/").rsplit("/", 1)[-1])
            if new is None:
                raise BadRequest("Unable to locate requested flavor.")
            if new.disk == 0 and current.disk != 0:
                raise CannotResizeDisk(reason="Resize to zero disk flavor is not allowed.")
        same_flavor = new.id == current.id
        if same_flavor and flavor_ref is not None:
            raise CannotResizeToSameFlavor()
        if not same_flavor:
            self._check_quota_for_upsize(inst, current, new)
        inst.update(task_state="resize_prep", updated_at=self.clock.now())
        # libvirt cannot migrate to its own host: only a resize may stay
        same_host = self.options.allow_resize_to_same_host and not same_flavor
        ignore_hosts = [] if same_host else [inst.host]
        self.actions.start(ctx, inst.uuid, "migrate" if flavor_ref is None else "resize")
        self.clock.schedule(
            self.durations.schedule,
            self.conductor.migrate_server,
            ctx,
            inst,
            new,
            host,
            ignore_hosts,
            name="migrate_server",
        )

    def _check_source_is_up(self, inst: Instance) -> None:
        """``check_instance_host(check_is_up=True)``: the source compute takes part in a
        cold move, so Nova refuses one from a host whose service is down (forced down, or
        silent for service_down_time) with 409, not naming the host. A disabled host that
        is up may be moved from (maintenance)."""
        if self.computes.is_up(inst.host):
            return
        service = self.store.compute_service(inst.host)
        if self.bugs.active("1938326") and service is not None and service.status == "disabled":
            return  # the bug: a disabled and down source was let through
        raise ServiceUnavailable()

    def _check_quota_for_upsize(self, inst: Instance, old: Flavor, new: Flavor) -> None:
        deltas = {"cores": new.vcpus - old.vcpus, "ram": new.ram - old.ram}
        limits = self.compute_api.quota_limits(inst.project_id)
        used = self.compute_api.quota_usage(inst.project_id)
        overs = sorted(
            res
            for res, delta in deltas.items()
            if delta > 0 and limits[res] >= 0 and used[res] + delta > limits[res]
        )
        if overs:
            first = overs[0]
            raise TooManyInstances(
                overs=", ".join(overs), req=deltas[first], used=used[first], allowed=limits[first]
            )

    def _finished_migration(self, inst: Instance) -> Migration:
        for mig in reversed(self.store.migrations_of(inst.uuid)):
            if mig.status == "finished" and not mig.deleted:
                return mig
        raise MigrationNotFoundByStatus()

    def confirm_resize(self, ctx: RequestContext, inst: Instance) -> None:
        ComputeAPI.check_state(inst, "confirmResize", (RESIZED,))
        mig = self._finished_migration(inst)
        self.resize_computes._set_status(mig, "confirming")
        action = self.actions.start(ctx, inst.uuid, "confirmResize")
        self.resize_computes.cast(
            self.durations.confirm_resize,
            mig,
            self.resize_computes.confirm_resize,
            action,
            name="confirm_resize",
        )

    def revert_resize(self, ctx: RequestContext, inst: Instance) -> None:
        ComputeAPI.check_lock(ctx, inst)
        ComputeAPI.check_state(inst, "revertResize", (RESIZED,))
        mig = self._finished_migration(inst)
        if inst.old_flavor is not None and inst.old_flavor.id != inst.flavor.id:
            self._check_quota_for_upsize(inst, inst.flavor, inst.old_flavor)
        inst.update(task_state="resize_reverting", updated_at=self.clock.now())
        self.resize_computes._set_status(mig, "reverting")
        spec = self.store.request_specs.get(inst.uuid)
        if spec is not None and inst.old_flavor is not None:
            spec.flavor = inst.old_flavor
        action = self.actions.start(ctx, inst.uuid, "revertResize")
        self.resize_computes.cast(
            self.durations.revert_resize,
            mig,
            self.resize_computes.revert_resize,
            action,
            name="revert_resize",
        )

    def check_force_up(self, host: str) -> None:
        """``PUT /os-services``: no ``forced_down: false`` while evacuations from the host
        are ``done``: its compute has not restarted and cleaned them up yet (the fix of
        bug 1922053; before it the flag was lifted and the stale guests could start)."""
        if self.bugs.active("1922053"):
            return
        for mig in self.store.migrations_from_host(host):
            if mig.migration_type == "evacuation" and mig.status == "done" and not mig.deleted:
                raise ForceUpWithDoneEvacuations(host=host)

    # -- evacuate ---------------------------------------------------------------------

    def evacuate(
        self,
        ctx: RequestContext,
        inst: Instance,
        host: str | None,
        force: bool,
        stopped: bool,
    ) -> Migration:
        """``API.evacuate``: the source compute must be down; the rest is the conductor's."""
        ComputeAPI.check_state(inst, "evacuate", EVACUABLE)
        if inst.host is None or self.computes.is_up(inst.host):
            raise ComputeServiceInUse(host=inst.host)
        now = self.clock.now()
        inst.update(task_state="rebuilding", updated_at=now)
        self.actions.start(ctx, inst.uuid, "evacuate")
        # a tombstone the source compute finds and cleans up when it comes back
        mig = Migration(
            id=self.store.next_id("migration"),
            uuid=new_uuid(),
            instance_uuid=inst.uuid,
            source_compute=inst.host,
            source_node=inst.node,
            project_id=ctx.project_id,
            user_id=ctx.user_id,
            created_at=now,
            updated_at=now,
            migration_type="evacuation",
            status="accepted",
            dest_compute=host,
            vm_state_before=inst.vm_state,
        )
        mig.old_instance_type_id = mig.new_instance_type_id = (
            int(inst.flavor.id) if inst.flavor.id.isdigit() else 0
        )
        mig.history.append(("accepted", now))
        self.store.add_migration(mig)
        requested = None
        if host and not force:  # a named host without force still goes through the scheduler
            requested, host = host, None
        stopped = stopped or inst.vm_state == STOPPED
        self.clock.schedule(
            self.durations.schedule,
            self.conductor.rebuild_instance,
            inst,
            mig,
            host,
            requested,
            stopped,
            name="rebuild_instance",
        )
        return mig
