"""What this library instance created or changed, so it can be undone and nothing else is."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .models import ComputeService, Server


@dataclass
class ResourceTracker:
    """Servers created, compute services changed, and what was changed in the fake cloud.

    Cleanup only ever touches what is recorded here: servers by id, services back to the
    state they had before this library first changed them; in the fake cloud the hosts
    added, the durations set, the fault rules injected, the compute processes stopped and
    the emulated bugs.
    """

    servers: dict[str, Server] = field(default_factory=dict)
    services: dict[str, ComputeService] = field(default_factory=dict)
    fake_hosts: list[str] = field(default_factory=list)
    fake_durations: dict | None = None
    fake_faults: list[int] = field(default_factory=list)
    stopped_computes: list[str] = field(default_factory=list)
    fake_bugs: list[str] | None = None
    # batch keywords record servers from worker threads, as soon as each create returns
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    # live-migration dynamics: [libvirt] options and links before this library changed them
    # (test: set during the running test, restored when it ends), guests given a workload,
    # and the downtime probes still running
    fake_libvirt: dict | None = None
    fake_libvirt_test: dict | None = None
    fake_links: dict | None = None
    fake_workloads: list[str] = field(default_factory=list)
    downtime_probes: dict = field(default_factory=dict)

    def add_servers(self, servers: list[Server]) -> None:
        with self._lock:
            for server in servers:
                self.servers[server.id] = server

    def forget_server(self, server_id: str) -> None:
        with self._lock:
            self.servers.pop(server_id, None)

    def remember_service(self, service: ComputeService) -> None:
        """Keep the state before the first change only."""
        with self._lock:
            self.services.setdefault(service.host, service)

    def changes_to_restore(self, current: ComputeService) -> dict:
        """The `update_service` changes that put `current` back to its remembered state
        (status with its disabled reason, forced_down); empty when nothing differs."""
        original = self.services[current.host]
        changes = {}
        if current.status != original.status:
            changes["status"] = original.status
            if original.status == "disabled":
                changes["disabled_reason"] = original.disabled_reason
        if current.forced_down != original.forced_down:
            changes["forced_down"] = original.forced_down
        return changes

    def is_empty(self) -> bool:
        return not (
            self.servers
            or self.services
            or self.fake_hosts
            or self.fake_faults
            or self.stopped_computes
            or self.fake_durations is not None
            or self.fake_bugs is not None
            or self.fake_libvirt is not None
            or self.fake_libvirt_test is not None
            or self.fake_links is not None
            or self.fake_workloads
            or self.downtime_probes
        )
