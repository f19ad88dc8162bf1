"""One fake cloud's backend: the store and every service wired around it.

The transports (``fake/api``: HTTP) and the control API only talk to this.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from .bugs import Bugs
from .clock import Clock, ClockMode
from .compute_api import ComputeAPI
from .compute_api_moves import MoveAPI
from .computes import ComputeHosts
from .computes_resize import ResizeComputes
from .conductor import CONDUCTOR_HOST, Conductor
from .conductor_migrate import MoveConductor
from .config import Durations, LibvirtOptions, NovaOptions
from .faults import Faults
from .guest import Network
from .identity import Identity
from .instance_actions import InstanceActions
from .numeric import number
from .objects import Flavor, Image
from .scheduler import Scheduler
from .store import KEEP_DELETED, Store

FLAVORS = (  # id, name, vcpus, ram, disk
    ("1", "m1.tiny", 1, 512, 1),
    ("2", "m1.small", 1, 2048, 20),
    ("3", "m1.medium", 2, 4096, 40),
    ("4", "m1.large", 4, 8192, 80),
)
IMAGE_ID = "6ea41bd8-5a8a-4a9b-8b3c-0c33b1e0c7a1"
IMAGE_NAME = "cirros-0.6.2-x86_64-disk"


@dataclass(frozen=True)
class StartState:
    """What a cloud was created with: the one record ``Cloud.reset()`` goes back to."""

    hosts: dict  # the computes seed() adds: count, vcpus, memory_mb, disk_gb, prefix
    durations: dict
    nova_options: dict
    libvirt: dict
    link_bandwidth_mib: float | None  # every link's; no per-pair bandwidth at the start
    emulated_bugs: tuple[str, ...]


class Cloud:
    def __init__(
        self,
        *,
        computes: int = 2,
        clock: str | ClockMode = ClockMode.MANUAL,
        speed: float = 10.0,
        durations: dict | None = None,
        emulate_bugs=(),
        host_vcpus: int = 16,
        host_memory_mb: int = 32768,
        host_disk_gb: int = 500,
        host_prefix: str = "compute",
        admin_password: str | None = None,
        member_password: str | None = None,
        nova_options: dict | None = None,
        libvirt: dict | None = None,
        link_bandwidth_mib: float | None = None,
        keep_deleted: int = KEEP_DELETED,
    ):
        if not isinstance(computes, int) or isinstance(computes, bool) or computes < 0:
            raise ValueError(
                f"computes must be a whole number of hosts (0 or more), got {computes!r}"
            )
        self.lock = threading.RLock()
        self.clock = Clock(self.lock, clock, speed)
        self.store = Store(self.clock, self.lock, keep_deleted)
        self.identity = Identity(admin_password, member_password)
        self.durations = Durations()
        if durations:
            self.durations.update(**durations)
        self.libvirt = LibvirtOptions()
        if libvirt:
            self.libvirt.update(**libvirt)
        self.network = Network(number("link_bandwidth_mib", link_bandwidth_mib, above=0, none=True))
        self.bugs = Bugs(emulate_bugs)
        self.faults = Faults(self.clock, self.store)
        self.actions = InstanceActions(self.store)
        # nova.conf: move options and every compute's capacity options
        self.options = NovaOptions()
        if nova_options:
            self.options.update(**nova_options)
        self.computes = ComputeHosts(
            self.store,
            self.durations,
            self.actions,
            self.faults,
            self.bugs,
            libvirt=self.libvirt,
            network=self.network,
            options=self.options,
        )
        self.scheduler = Scheduler(self.store, self.computes, self.bugs)
        self.conductor = Conductor(
            self.store, self.scheduler, self.computes, self.actions, self.faults, self.bugs
        )
        self.compute_api = ComputeAPI(
            self.store,
            self.conductor,
            self.computes,
            self.actions,
            self.durations,
            self.faults,
            self.bugs,
        )
        # cold migration, resize and evacuation (their own modules, same model)
        self.resize_computes = ResizeComputes(
            self.store,
            self.durations,
            self.options,
            self.actions,
            self.faults,
            self.bugs,
            self.computes,
        )
        self.computes.init_host_hooks.append(self.resize_computes.destroy_evacuated_instances)
        self.move_conductor = MoveConductor(
            self.store,
            self.scheduler,
            self.resize_computes,
            self.actions,
            self.faults,
            self.bugs,
        )
        self.resize_computes.conductor = self.move_conductor
        self.move_api = MoveAPI(
            self.store,
            self.compute_api,
            self.move_conductor,
            self.computes,
            self.resize_computes,
            self.actions,
            self.durations,
            self.options,
        )
        self.resize_computes.move_api = self.move_api
        self.start_state = StartState(
            hosts=dict(
                count=computes,
                vcpus=host_vcpus,
                memory_mb=host_memory_mb,
                disk_gb=host_disk_gb,
                prefix=host_prefix,
            ),
            durations=self.durations.as_dict(),
            nova_options=self.options.as_dict(),
            libvirt=self.libvirt.as_dict(),
            link_bandwidth_mib=self.network.default_mib,
            emulated_bugs=tuple(sorted(self.bugs.enabled)),
        )
        self.seed()

    def seed(self) -> None:
        """The initial state: flavors, one image, the compute hosts."""
        with self.lock:
            self.store.reset()
            self.faults.clear()
            self.computes.parked.clear()
            self.computes.driver.reset()
            for fid, name, vcpus, ram, disk in FLAVORS:
                self.store.flavors[fid] = Flavor(fid, name, vcpus, ram, disk)
            created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.store.images[IMAGE_ID] = Image(IMAGE_ID, IMAGE_NAME, created)
            self._add_control_services()
            h = self.start_state.hosts
            for i in range(1, h["count"] + 1):
                self.computes.add_host(
                    f"{h['prefix']}{i}",
                    vcpus=h["vcpus"],
                    memory_mb=h["memory_mb"],
                    disk_gb=h["disk_gb"],
                )

    def _add_control_services(self) -> None:
        """nova-conductor and nova-scheduler on a controller, listed by os-services."""
        from .objects import Service
        from .store import new_uuid

        now = self.clock.now()
        for binary in ("nova-scheduler", "nova-conductor"):
            svc = Service(
                id=self.store.next_id("service"),
                uuid=new_uuid(),
                binary=binary,
                host=CONDUCTOR_HOST,
                zone="internal",
                last_seen=now,
                updated_at=now,
                created_at=now,
            )
            self.store.services[svc.id] = svc
            self.store.service_by_uuid[svc.uuid] = svc

    def reset(self) -> None:
        """Back to ``start_state``: time 0, the initial hosts, flavors and image, and the
        durations, nova.conf and [libvirt] options, links and emulated bugs the cloud was
        created with; no servers, migrations, fault rules or workloads (users stay)."""
        with self.lock:
            start = self.start_state
            self.clock.reset()
            self.durations.update(**start.durations)
            self.options.update(**start.nova_options)
            self.libvirt.update(**start.libvirt)
            self.network.default_mib = start.link_bandwidth_mib
            self.network.pairs.clear()
            self.bugs.set(list(start.emulated_bugs))
            self.seed()
