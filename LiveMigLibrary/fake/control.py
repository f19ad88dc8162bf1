"""The control API (moto style): reset, clock, hosts, durations, faults, emulated bugs.

Reachable in-process (``FakeCloud.control``) and over HTTP under ``/control``.
It steers the model the way an operator or a failing data centre would; it
never writes API answers.
"""

from __future__ import annotations

from .bugs import KNOWN_BUGS
from .cloud import Cloud
from .config import CAPACITY_OPTIONS, seconds_value
from .exception import ControlObjectNotFound
from .guest import Workload
from .numeric import number


class Control:
    def __init__(self, cloud: Cloud):
        self._cloud = cloud

    # -- state ----------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start state: the initial hosts, flavors and image, no servers,
        migrations, fault rules or workloads, time 0, and the durations, nova.conf and
        [libvirt] options, links and emulated bugs the cloud was created with. Users and
        passwords stay, and so do their tokens."""
        self._cloud.reset()

    # -- clock ----------------------------------------------------------------

    def clock(self) -> dict:
        c = self._cloud.clock
        with self._cloud.lock:
            return {
                "mode": c.mode.value,
                "now": c.now(),
                "epoch": c.to_datetime(0).isoformat(),
                "speed": c.speed,
                "pending_events": c.pending(),
            }

    def now(self) -> float:
        return self._cloud.clock.now()

    def advance(self, seconds: float) -> float:
        return self._cloud.clock.advance(seconds_value("seconds", seconds))

    def settle(self, max_seconds: float = 3600.0) -> float:
        return self._cloud.clock.settle(seconds_value("max_seconds", max_seconds))

    # -- hosts ----------------------------------------------------------------

    def hosts(self) -> list[dict]:
        cloud = self._cloud
        with cloud.lock:
            out = []
            for node in cloud.store.nodes.values():
                svc = cloud.store.services[node.service_id]
                rp = cloud.store.placement.providers[node.uuid]
                out.append(
                    {
                        "name": node.host,
                        "zone": node.zone,
                        "status": svc.status,
                        "forced_down": svc.forced_down,
                        "alive": svc.alive,
                        "up": cloud.computes.is_up(node.host),
                        "max_concurrent_live_migrations": node.max_concurrent_live_migrations,
                        "nova_options": dict(node.nova_options),
                        "capacity": {rc: inv.capacity for rc, inv in rp.inventories.items()},
                        "usage": {rc: rp.usages.get(rc, 0) for rc in rp.inventories},
                        "servers": len(cloud.store.by_host.get(node.host, {})),
                    }
                )
            return out

    def add_host(
        self,
        name: str,
        vcpus: int = 16,
        memory_mb: int = 32768,
        disk_gb: int = 500,
        zone: str = "nova",
        max_concurrent_live_migrations: int = 1,
        nova_options: dict | None = None,
    ) -> dict:
        """A new compute host; ``nova_options``: capacity options of its own nova.conf
        (e.g. ``{"reserved_host_memory_mb": 0}``), over the cloud's."""
        if nova_options is not None and not isinstance(nova_options, dict):
            raise ValueError(f"nova_options must be an object of options, got {nova_options!r}")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ValueError(f"name must be a non-empty host name, got {name!r}")
        if not isinstance(zone, str) or not zone.strip() or len(zone) > 255:
            raise ValueError(f"zone must be a non-empty availability zone name, got {zone!r}")
        for arg, value in (
            ("vcpus", vcpus),
            ("memory_mb", memory_mb),
            ("disk_gb", disk_gb),
            ("max_concurrent_live_migrations", max_concurrent_live_migrations),
        ):  # placement's inventories take up to 2**31 - 1
            if isinstance(value, int) and not isinstance(value, bool) and value > 0x7FFFFFFF:
                raise ValueError(f"{arg} must be at most 2147483647, got {value!r}")
        with self._cloud.lock:
            self._cloud.computes.add_host(
                name,
                vcpus=vcpus,
                memory_mb=memory_mb,
                disk_gb=disk_gb,
                zone=zone,
                max_concurrent_live_migrations=max_concurrent_live_migrations,
                nova_options=nova_options,
            )
        return next(h for h in self.hosts() if h["name"] == name)

    def remove_host(self, name: str) -> None:
        with self._cloud.lock:
            try:
                self._cloud.computes.remove_host(name)
            except KeyError:
                raise ControlObjectNotFound(
                    f"no compute host named {name!r}; hosts are: "
                    f"{', '.join(self._cloud.store.nodes) or 'none'}"
                ) from None

    def set_host_alive(self, name: str, alive: bool) -> None:
        """Stop (``False``) or restart (``True``) the nova-compute process of a host."""
        with self._cloud.lock:
            try:
                self._cloud.computes.set_alive(name, bool(alive))
            except KeyError:
                raise ControlObjectNotFound(f"no compute host named {name!r}") from None

    # -- history ----------------------------------------------------------------

    def _instance(self, server_id: str):
        inst = self._cloud.store.instances.get(server_id)
        if inst is None:
            raise ControlObjectNotFound(f"no server with id {server_id!r}")
        return inst

    def _migration(self, migration_id: int | str):
        """A migration by uuid, or by id (ASCII digits only: int() would take others)."""
        store = self._cloud.store
        mig = store.migration_by_uuid.get(str(migration_id))
        if mig is None and str(migration_id).isascii() and str(migration_id).isdigit():
            mig = store.migrations.get(int(migration_id))
        if mig is None:
            raise ControlObjectNotFound(f"no migration with id or uuid {migration_id!r}")
        return mig

    def server_history(self, server_id: str) -> list[dict]:
        """Every change of a server's vm_state, task_state and host, with its virtual time."""
        from .api.compute.views import status_from_state

        with self._cloud.lock:
            inst = self._instance(server_id)
            return [
                {
                    "at": t,
                    "vm_state": vm,
                    "task_state": task,
                    "status": status_from_state(vm, task),
                    "host": host,
                }
                for t, vm, task, host in inst.history
            ]

    def migration_history(self, migration_id: int | str) -> list[dict]:
        """Every status of a migration (by id or uuid), with its virtual time."""
        with self._cloud.lock:
            mig = self._migration(migration_id)
            history = [{"at": t, "status": status} for status, t in mig.history]
            if mig.failure and history:
                history[-1]["reason"] = mig.failure
            return history

    # -- durations --------------------------------------------------------------

    def durations(self) -> dict:
        return self._cloud.durations.as_dict()

    def set_durations(self, **phases: float) -> dict:
        with self._cloud.lock:
            self._cloud.durations.update(**phases)
        return self.durations()

    # -- nova.conf options -------------------------------------------------------------

    def nova_options(self) -> dict:
        """``allow_resize_to_same_host``, ``resize_confirm_window`` and the computes'
        capacity options (``reserved_host_memory_mb``, ``cpu_allocation_ratio``, ...)."""
        return self._cloud.options.as_dict()

    def set_nova_options(self, **options) -> dict:
        """Change nova.conf options. Capacity options take effect on every compute at once
        (as if each restarted with the new nova.conf: its resource tracker reports the new
        inventory to placement), except where a host has its own value."""
        with self._cloud.lock:
            self._cloud.options.update(**options)
            if set(options) & set(CAPACITY_OPTIONS):
                self._cloud.computes.report_inventories()
        return self.nova_options()

    # -- live-migration dynamics (guest memory, links, [libvirt] options) --------

    def libvirt_options(self) -> dict:
        with self._cloud.lock:
            return self._cloud.libvirt.as_dict()

    def set_libvirt_options(self, **options) -> dict:
        """Nova's ``[libvirt]`` live-migration options; a migration reads them as it starts."""
        with self._cloud.lock:
            self._cloud.libvirt.update(**options)
        return self.libvirt_options()

    def workload(self, server_id: str) -> dict:
        with self._cloud.lock:
            inst = self._instance(server_id)
            return self._cloud.computes.driver.workload(inst.uuid).as_dict()

    def set_workload(
        self, server_id: str, dirty_rate_mib: float = 0.0, working_set_mib: float | None = None
    ) -> dict:
        """How fast the server's guest dirties memory (MiB/s) and its writable working set (MiB)."""
        workload = Workload.checked(dirty_rate_mib, working_set_mib)
        with self._cloud.lock:
            inst = self._instance(server_id)
            self._cloud.computes.driver.set_workload(inst.uuid, workload)
        return self.workload(server_id)

    def links(self) -> dict:
        with self._cloud.lock:
            return self._cloud.network.as_dict()

    def set_link_bandwidth(
        self,
        bandwidth_mib: float | None,
        source: str | None = None,
        destination: str | None = None,
    ) -> dict:
        """Bandwidth (MiB/s) of the link source -> destination, or of every link without both.

        ``None`` removes the setting (a pair falls back to the default; the default
        to the link sized by the ``running`` duration)."""
        bandwidth = number("bandwidth_mib", bandwidth_mib, above=0, none=True)
        if (source is None) != (destination is None):
            raise ValueError("source and destination must be given together (or neither)")
        with self._cloud.lock:
            network = self._cloud.network
            if source is None:
                network.default_mib = bandwidth
                return self.links()
            for name, host in (("source", source), ("destination", destination)):
                if host not in self._cloud.store.nodes:
                    raise ValueError(
                        f"{name} must be a compute host of the fake "
                        f"({', '.join(self._cloud.store.nodes)}), got {host!r}"
                    )
            if bandwidth is None:
                network.pairs.pop((source, destination), None)
            else:
                network.pairs[(source, destination)] = bandwidth
        return self.links()

    def migration_dynamics(self, migration_id: int | str) -> dict:
        """The model's view of a live migration: passes, downtime, samples, timeline."""
        with self._cloud.lock:
            mig = self._migration(migration_id)
            found = self._cloud.computes.driver.dynamics(mig)
            if found is None:
                raise ControlObjectNotFound(
                    f"migration {migration_id} has no modelled memory copy (it never ran, "
                    f"ran under a hang or error fault, or is too old)"
                )
            return found

    # -- faults ------------------------------------------------------------------

    def add_fault(self, point: str, kind: str, **match) -> dict:
        with self._cloud.lock:
            return self._cloud.faults.add(point, kind, **match).as_dict()

    def remove_fault(self, rule_id: int) -> None:
        with self._cloud.lock:
            try:
                self._cloud.faults.remove(rule_id)
            except KeyError:
                raise ControlObjectNotFound(f"no fault rule with id {rule_id!r}") from None

    def faults(self) -> list[dict]:
        with self._cloud.lock:
            return [r.as_dict() for r in self._cloud.faults.rules.values()]

    def fired_faults(self) -> list[dict]:
        with self._cloud.lock:
            return list(self._cloud.faults.fired)

    def clear_faults(self) -> None:
        with self._cloud.lock:
            self._cloud.faults.clear()

    # -- emulated bugs -----------------------------------------------------------------

    def emulated_bugs(self) -> list[str]:
        return sorted(self._cloud.bugs.enabled)

    def emulate_bugs(self, bugs) -> list[str]:
        with self._cloud.lock:
            self._cloud.bugs.set(bugs)
        return self.emulated_bugs()

    @staticmethod
    def known_bugs() -> dict[str, str]:
        return dict(KNOWN_BUGS)
