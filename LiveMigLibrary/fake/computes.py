"""nova-compute on every host: builds, live-migration state machines, service liveness.

One :class:`ComputeNode` record per host holds that host's state; this module
is the manager that moves it, the way ``nova/compute/manager.py`` does:
``build_and_run_instance``, ``live_migration`` (queue behind
``max_concurrent_live_migrations``), ``_do_live_migration`` (preparing ->
running), ``_post_live_migration`` and ``_rollback_live_migration``, abort and
force-complete. Each phase is an event on the clock.
"""

from __future__ import annotations

import ipaddress

from .config import SERVICE_DOWN_TIME, Durations, LibvirtOptions, NovaOptions, capacity_options
from .exception import MigrationError
from .guest import Network
from .instance_actions import InstanceActions
from .libvirt_monitor import LibvirtDriver
from .objects import (
    ACTIVE,
    ERROR,
    RUNNING,
    ComputeNode,
    Instance,
    Migration,
    Service,
)
from .placement import Inventory
from .placement.model import COMPUTE_NODE_TRAITS
from .store import Store, new_uuid

# libvirt's keepalive: a peer silent for interval * count seconds is dead (5 s * 5)
KEEPALIVE_TIMEOUT = 25.0


class ComputeHosts:
    def __init__(
        self,
        store: Store,
        durations: Durations,
        actions: InstanceActions,
        faults,
        bugs,
        libvirt: LibvirtOptions | None = None,
        network: Network | None = None,
        options: NovaOptions | None = None,
    ):
        self.store = store
        self.options = options or NovaOptions()  # the computes' nova.conf (capacity)
        self.clock = store.clock
        self.durations = durations
        self.actions = actions
        self.faults = faults
        self.bugs = bugs
        self.parked: dict[str, list] = {}  # host -> work waiting for its compute to restart
        # more of init_host, from the other move operations (evacuated guests' clean-up)
        self.init_host_hooks: list = []
        # the memory copy and Nova's monitor loop (libvirt_monitor.py)
        self.driver = LibvirtDriver(self, libvirt or LibvirtOptions(), network or Network())

    # -- hosts and services ---------------------------------------------------

    def add_host(
        self,
        name: str,
        vcpus: int = 16,
        memory_mb: int = 32768,
        disk_gb: int = 500,
        zone: str = "nova",
        max_concurrent_live_migrations: int = 1,
        nova_options: dict | None = None,
    ) -> ComputeNode:
        """A new nova-compute; ``nova_options``: capacity options of its own nova.conf
        (``config.CAPACITY_OPTIONS``), over the cloud's."""
        store = self.store
        if name in store.nodes:
            raise ValueError(f"a compute host named {name!r} already exists")
        for arg, value in (
            ("vcpus", vcpus),
            ("memory_mb", memory_mb),
            ("disk_gb", disk_gb),
            ("max_concurrent_live_migrations", max_concurrent_live_migrations),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{arg} must be a positive whole number, got {value!r}")
        own = capacity_options(nova_options or {})
        now = self.clock.now()
        service = Service(
            id=store.next_id("service"),
            uuid=new_uuid(),
            binary="nova-compute",
            host=name,
            zone=zone,
            last_seen=now,
            updated_at=now,
            created_at=now,
        )
        node_id = store.next_id("node")
        node = ComputeNode(
            host=name,
            id=node_id,
            uuid=new_uuid(),
            service_id=service.id,
            host_ip=str(ipaddress.IPv4Address("192.0.2.0") + node_id % 65000),
            zone=zone,
            max_concurrent_live_migrations=max_concurrent_live_migrations,
            vcpus=vcpus,
            memory_mb=memory_mb,
            local_gb=disk_gb,
            nova_options=own,
        )
        store.add_node(node, service)
        store.placement.create_provider(node.uuid, name, {}, COMPUTE_NODE_TRAITS)
        self.report_inventory(node, bump=False)  # one provider generation, as before
        return node

    # -- what the resource tracker reports ----------------------------------------

    def conf(self, node: ComputeNode) -> dict:
        """The host's capacity options: its own nova.conf's, else the cloud's."""
        return {**self.options.capacity(), **node.nova_options}

    def inventory(self, node: ComputeNode) -> dict[str, Inventory]:
        """The driver's ``update_provider_tree`` inventory (libvirt's and Nova's fake
        driver's alike): physical totals, ``reserved_host_*`` reserved (disk in GB,
        rounded up), and ``ComputeDriver._get_allocation_ratios``: ``*_allocation_ratio``
        when set (non-zero), else the ratio placement already has (an operator may have
        changed it there), else ``initial_*_allocation_ratio``."""
        conf = self.conf(node)
        current = self.store.placement.providers[node.uuid].inventories
        out = {}
        for rc, res, total, reserved in (
            ("VCPU", "cpu", node.vcpus, conf["reserved_host_cpus"]),
            ("MEMORY_MB", "ram", node.memory_mb, conf["reserved_host_memory_mb"]),
            ("DISK_GB", "disk", node.local_gb, -(-conf["reserved_host_disk_mb"] // 1024)),
        ):
            ratio = conf[f"{res}_allocation_ratio"]
            if not ratio:
                ratio = (
                    current[rc].allocation_ratio
                    if rc in current
                    else conf[f"initial_{res}_allocation_ratio"]
                )
            out[rc] = Inventory(total, reserved, max_unit=total, allocation_ratio=float(ratio))
        return out

    def report_inventory(self, node: ComputeNode, bump: bool = True) -> None:
        """The resource tracker's inventory update for ``node``'s provider.

        Placement refuses an inventory whose ``reserved`` exceeds its ``total``
        (InvalidInventoryCapacityReservedCanBeTotal) and Nova sends every class in one
        ``PUT /resource_providers/{uuid}/inventories``, so a host smaller than what its
        nova.conf reserves keeps the inventory it had (none, when new): placement offers
        it for nothing, as on a real cloud where nova-compute logs the refusal.
        """
        rp = self.store.placement.providers[node.uuid]
        wanted = self.inventory(node)
        if any(inv.reserved > inv.total for inv in wanted.values()):
            return
        if wanted != rp.inventories:
            rp.inventories = wanted
            rp.generation += bump

    def report_inventories(self) -> None:
        """Every compute's update, e.g. after their nova.conf changed (and a restart)."""
        for node in self.store.nodes.values():
            self.report_inventory(node)

    def node_usage(self, node: ComputeNode) -> dict[str, int]:
        """The compute node record's usage as the resource tracker keeps it
        (``_update_usage``): the ``reserved_host_*`` options plus what the instances and moves
        on it hold, whatever the allocation ratios (reserved disk MB floor to GB)."""
        use = self.store.placement.providers[node.uuid].usages
        conf = self.conf(node)
        memory_used = conf["reserved_host_memory_mb"] + use.get("MEMORY_MB", 0)
        disk_used = conf["reserved_host_disk_mb"] // 1024 + use.get("DISK_GB", 0)
        return {
            "vcpus_used": conf["reserved_host_cpus"] + use.get("VCPU", 0),
            "memory_mb_used": memory_used,
            "local_gb_used": disk_used,
            "free_ram_mb": node.memory_mb - memory_used,
            "free_disk_gb": node.local_gb - disk_used,
        }

    def free_ram_mb(self, node: ComputeNode) -> int:
        """The compute node's ``free_ram_mb`` (see `node_usage`): the RAM weigher ranks hosts
        by it."""
        return self.node_usage(node)["free_ram_mb"]

    def remove_host(self, name: str) -> None:
        store = self.store
        node = store.nodes.get(name)
        if node is None:
            raise KeyError(name)
        if store.by_host.get(name):
            raise ValueError(f"compute host {name!r} still has servers; delete or move them first")
        store.placement.delete_provider(node.uuid)
        store.remove_node(name)

    def is_up(self, host: str) -> bool:
        """servicegroup is_up: not forced down, and heard from within service_down_time."""
        service = self.store.compute_service(host)
        if service is None or service.forced_down:
            return False
        if service.alive:
            return True
        return self.clock.now() - service.last_seen <= SERVICE_DOWN_TIME

    def set_alive(self, host: str, alive: bool) -> None:
        """Start or stop the host's heartbeat (a compute process dying or coming back)."""
        service = self.store.compute_service(host)
        if service is None:
            raise KeyError(host)
        was_alive = service.alive
        if was_alive and not alive:
            service.last_seen = self.clock.now()
            self._destination_lost(host)
        service.alive = alive
        if alive:
            service.last_seen = self.clock.now()
            if not was_alive:
                self._init_host(host)
            self._start_queued(self.store.nodes[host])

    def _destination_lost(self, host: str) -> None:
        """The hypervisor's migration jobs towards a dead host fail once its keepalive
        gives up (libvirt's job monitor -> ``_rollback_live_migration``, ``failed``)."""
        for mig in list(self.store.migrations.values()):
            if mig.dest_compute != host or mig.status != "running":
                continue
            if mig.event is not None:
                mig.event.cancel()
            self.driver.abort(mig)  # the job stalls with its peer gone
            mig.event = self.clock.schedule(
                KEEPALIVE_TIMEOUT,
                self._driver_failed,
                mig,
                f"Live Migration failure: operation failed: lost connection to destination "
                f"host {host}",
                name="destination_lost",
            )

    def _alive(self, host: str | None) -> bool:
        service = self.store.compute_service(host) if host else None
        return service is not None and service.alive

    def _park(self, host: str, kind: str, item) -> None:
        """Work that fell due while the host's compute was dead waits for its restart."""
        self.parked.setdefault(host, []).append((kind, item))

    def _init_host(self, host: str) -> None:
        """nova-compute restarting: what it was doing when it died is cleaned up.

        As ``ComputeManager.init_host``: builds interrupted by the restart go to
        ERROR; live migrations this host was running as source are errored out
        and rolled back to the source.
        """
        for kind, item in self.parked.pop(host, []):
            if kind == "build":
                inst = item
                if inst.deleted:
                    continue
                now = self.clock.now()
                inst.pending = None
                self.store.placement.delete(inst.uuid)
                inst.update(vm_state=ERROR, task_state=None)
                inst.fault = {
                    "code": 500,
                    "created": now,
                    "message": "Instance spawn was interrupted by a restart of nova-compute.",
                }
                inst.updated_at = now
            elif kind == "migration":
                if not self._finished(item):
                    self._rollback_live_migration(item, "error")
            elif kind == "call":
                fn, args = item
                fn(*args)
        for hook in self.init_host_hooks:
            hook(host)

    # -- builds ---------------------------------------------------------------

    def build_and_run_instance(self, inst: Instance, node: ComputeNode, action) -> None:
        inst.task_state = "spawning"
        inst.updated_at = self.clock.now()
        ev = self.actions.event_start(action, "compute_build_and_run_instance", node.host)
        delay = self.durations.build
        rule = self.faults.match("build", instance=inst, host=node.host)
        if rule is not None and rule.kind == "slow":
            delay += rule.seconds
        if rule is not None and rule.kind == "host_down":
            self.set_alive(node.host, False)
        inst.pending = self.clock.schedule(
            delay, self._spawned, inst, node, action, ev, rule, name="build"
        )

    def _spawned(self, inst: Instance, node: ComputeNode, action, ev, rule) -> None:
        if not self._alive(node.host):
            self.actions.event_finish(action, ev, "nova-compute stopped while spawning")
            self._park(node.host, "build", inst)
            return
        inst.pending = None
        now = self.clock.now()
        if rule is not None and rule.kind == "error":
            # BuildAbortException: allocation deleted, host and node nulled out
            self.store.placement.delete(inst.uuid)
            self.store.set_host(inst, None, vm_state=ERROR, task_state=None, power_state=0)
            inst.fault = {
                "code": 500,
                "created": now,
                "message": rule.message
                or f"Build of instance {inst.uuid} aborted: Failure prepping block device.",
            }
            self.actions.event_finish(action, ev, rule.message or "BuildAbortException")
        else:
            inst.update(vm_state=ACTIVE, task_state=None, power_state=RUNNING)
            inst.launched_at = now
            self.actions.event_finish(action, ev)
        inst.updated_at = now

    # -- live migration: the source compute -----------------------------------

    def _action(self, mig: Migration):
        """The ``live-migration`` instance action the events of this move belong to."""
        return self.actions.latest(mig.instance_uuid, "live-migration")

    def live_migration(self, mig: Migration) -> None:
        """``ComputeManager.live_migration``: queue behind the host's migration slots.

        Its ``compute_live_migration`` event ends as soon as the job is queued, as in
        Nova (the executor does the rest).
        """
        if self._finished(mig):
            return
        self._set_status(mig, "queued")
        self.actions.event(self._action(mig), "compute_live_migration", mig.source_compute)
        node = self.store.nodes[mig.source_compute]
        node.migration_queue.append(mig.id)
        self._start_queued(node)

    def _start_queued(self, node: ComputeNode) -> None:
        if not self.is_up(node.host) or not self.store.compute_service(node.host).alive:
            return  # a dead compute runs nothing
        while (
            node.migration_queue
            and len(node.active_migrations) < node.max_concurrent_live_migrations
        ):
            mig = self.store.migrations[node.migration_queue.pop(0)]
            if self._finished(mig):
                continue
            node.active_migrations.add(mig.id)
            self._do_live_migration(mig)

    def _do_live_migration(self, mig: Migration) -> None:
        self._set_status(mig, "preparing")
        mig.event = self.clock.schedule(
            self.durations.preparing, self._pre_live_migration_done, mig, name="pre_live_migration"
        )

    def _pre_live_migration_done(self, mig: Migration) -> None:
        if not self._alive(mig.source_compute):
            self._park(mig.source_compute, "migration", mig)
            return
        action = self._action(mig)
        pre = self.actions.event_start(action, "compute_pre_live_migration", mig.dest_compute)
        error = None
        if not self._alive(mig.dest_compute):
            error = MigrationError(
                reason=f"Timed out waiting for a reply from {mig.dest_compute} (pre_live_migration)"
            )
        rule = self.faults.match("pre_live_migration", migration=mig, host=mig.dest_compute)
        if rule is not None:
            error = MigrationError(reason=rule.message or "pre_live_migration failed")
        self.actions.event_finish(action, pre, error)
        if error is not None:
            self._rollback_live_migration(mig, "error")
            return
        self._set_status(mig, "running")
        rule = self.faults.match("live_migration", migration=mig, host=mig.source_compute)
        kind = rule.kind if rule is not None else None
        if kind in ("hang", "error"):
            mig.memory_total = mig.memory_remaining = self._instance(mig).flavor.ram * 1024 * 1024
            mig.memory_processed = 0
        if kind == "hang":
            mig.event = None  # waits for abort or force-complete, like FakeLiveMigrateDriver
            return
        if kind == "error":
            mig.event = self.clock.schedule(
                self.durations.running / 2,
                self._driver_failed,
                mig,
                rule.message,
                name="live_migration_failed",
            )
            return
        # driver.live_migration: QEMU's job and Nova's monitor (a slow fault stalls the start)
        self.driver.live_migration(
            mig, self._instance(mig), delay=rule.seconds if kind == "slow" else 0.0
        )
        if kind in ("source_down", "destination_down"):
            host = mig.source_compute if kind == "source_down" else mig.dest_compute
            self.set_alive(host, False)  # the compute process dies as the copy starts

    def _driver_failed(self, mig: Migration, message: str | None) -> None:
        """The hypervisor's job failed: ``_rollback_live_migration`` with ``failed``."""
        mig.event = None
        mig.failure = message or "Live Migration failure: operation failed: job aborted"
        self._rollback_live_migration(mig, "failed")

    def _post_live_migration(self, mig: Migration) -> None:
        """Migration done: the instance is on the destination, the source is released."""
        mig.event = None
        if not self._alive(mig.source_compute):
            self._park(mig.source_compute, "migration", mig)
            return
        if not self._alive(mig.dest_compute):
            # the hypervisor lost the destination mid-copy: the job fails on the source
            self._driver_failed(
                mig, f"Live Migration failure: unable to connect to {mig.dest_compute}"
            )
            return
        inst = self._instance(mig)
        action = self._action(mig)
        post = self.actions.event_start(
            action, "compute_post_live_migration_at_destination", mig.dest_compute
        )
        if self.bugs.active("completed-on-source"):
            inst.update(task_state=None, progress=0, updated_at=self.clock.now())
        else:
            # post_live_migration_at_destination: host, node, AZ and task_state in one save
            self.store.set_host(
                inst,
                mig.dest_compute,
                task_state=None,
                progress=0,
                availability_zone=self.store.nodes[mig.dest_compute].zone,
                updated_at=self.clock.now(),
            )
        if mig.id not in self.driver.monitors:  # no modelled copy (a hang fault)
            mig.memory_processed, mig.memory_remaining = mig.memory_total, 0
        if not self.bugs.active("1712045"):
            self.store.placement.delete(mig.uuid)
        self.actions.event_finish(action, post)
        self._set_status(mig, "completed")
        self.release_slot(mig)

    def _rollback_live_migration(self, mig: Migration, status: str) -> None:
        """Back to the source: destination claim dropped, source allocation to the server."""
        mig.event = None
        inst = self.store.instances.get(mig.instance_uuid)
        prepared = any(state == "preparing" for state, _ in mig.history)
        if inst is not None and prepared and self._alive(mig.dest_compute):
            self.actions.event(
                self._action(mig),
                "compute_rollback_live_migration_at_destination",
                mig.dest_compute,
            )
        placement = self.store.placement
        if inst is not None:
            held = placement.get(mig.uuid)
            if held:
                if self.bugs.active("1715182"):  # destination claim kept beside the source
                    held = {**placement.get(inst.uuid), **held}
                placement.delete(mig.uuid)
                placement.put(inst.uuid, held, inst.project_id, inst.user_id)
            else:
                placement.delete(inst.uuid)
            inst.update(task_state=None, vm_state=mig.vm_state_before, progress=0)
            inst.updated_at = self.clock.now()
        else:
            placement.delete(mig.uuid)
        self._set_status(mig, status)
        self.release_slot(mig)

    def release_slot(self, mig: Migration) -> None:
        node = self.store.nodes.get(mig.source_compute)
        if node is None:
            return
        node.active_migrations.discard(mig.id)
        if mig.id in node.migration_queue:
            node.migration_queue.remove(mig.id)
        if self.bugs.active("queued-stuck-after-abort") and mig.status == "cancelled":
            return
        self._start_queued(node)

    # -- abort / force complete ------------------------------------------------

    def live_migration_abort(self, mig: Migration) -> None:
        action = self.actions.latest(mig.instance_uuid, "live_migration_cancel")
        ev = self.actions.event_start(action, "compute_live_migration_abort", mig.source_compute)
        if mig.status == "queued":
            if self.bugs.active("1949808"):  # cancelled, but nothing cleaned up
                self._set_status(mig, "cancelled")
                self.release_slot(mig)
            else:
                self._rollback_live_migration(mig, "cancelled")
        else:
            if mig.event is not None:
                mig.event.cancel()
            self.driver.abort(mig)
            mig.event = self.clock.schedule(
                self.durations.abort,
                self._rollback_live_migration,
                mig,
                "cancelled",
                name="live_migration_abort",
            )
        self.actions.event_finish(action, ev)

    def live_migration_force_complete(self, mig: Migration) -> None:
        action = self.actions.latest(mig.instance_uuid, "live_migration_force_complete")
        self.actions.event(action, "compute_live_migration_force_complete", mig.source_compute)
        if self.driver.force_complete(mig):  # post-copy or pause at the monitor's next poll
            return
        if mig.event is not None:
            mig.event.cancel()
        mig.event = self.clock.schedule(
            self.durations.force_complete, self._post_live_migration, mig, name="force_complete"
        )

    # -- helpers -------------------------------------------------------------

    def _instance(self, mig: Migration) -> Instance:
        return self.store.instances[mig.instance_uuid]

    @staticmethod
    def _finished(mig: Migration) -> bool:
        return mig.status in ("completed", "error", "failed", "cancelled")

    def _set_status(self, mig: Migration, status: str) -> None:
        now = self.clock.now()
        mig.status = status
        mig.updated_at = now
        mig.history.append((status, now))

    # -- simple server actions -------------------------------------------------

    def run_action(
        self,
        inst: Instance,
        task_state: str,
        vm_state: str,
        power_state: int,
        action,
        event_name: str,
    ) -> None:
        """pause/unpause/suspend/resume/stop/start: task_state now, result after a moment."""
        inst.task_state = task_state
        inst.updated_at = self.clock.now()
        ev = self.actions.event_start(action, event_name, inst.host)

        def done():
            inst.pending = None
            inst.update(vm_state=vm_state, task_state=None, power_state=power_state)
            inst.updated_at = self.clock.now()
            self.actions.event_finish(action, ev)

        def due():
            if not self._alive(inst.host):
                self._park(inst.host, "call", (done, ()))
                return
            done()

        inst.pending = self.clock.schedule(self.durations.action, due, name=event_name)
