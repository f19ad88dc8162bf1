"""Small value objects that keywords return to Robot Framework.

They log as one short line (``name (id)``) instead of an SDK resource dump, and Robot data can
read their fields as ``${server.id}``, ``${server.name}``, ``${migration.status}``...
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Server:
    """A server created or looked up by the library."""

    id: str
    name: str
    reservation_id: str | None = None

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


@dataclass(frozen=True)
class ServerState:
    """One observation of a server."""

    id: str
    name: str
    status: str
    task_state: str | None
    vm_state: str | None
    host: str | None
    fault: str | None = None
    locked: bool | None = None  # None: the cloud did not say
    created: str | None = None  # the cloud's time, e.g. for `changes-since`
    launched_at: str | None = None  # when the build finished (cloud time)

    def describe(self) -> str:
        task = self.task_state or "none"
        where = f" on {self.host}" if self.host else ""
        return f"{self.status} (task_state {task}){where}"


@dataclass(frozen=True)
class Migration:
    """A Nova migration record (``os-migrations``)."""

    id: int | str
    uuid: str | None
    server_id: str
    status: str
    migration_type: str | None
    source: str | None
    destination: str | None
    created_at: str | None = None
    updated_at: str | None = None
    source_node: str | None = None
    destination_node: str | None = None

    @property
    def type(self) -> str | None:
        return self.migration_type

    def route(self, asked: str | None = None) -> str:
        """``source -> destination``; a record Nova gave no destination (the scheduler or
        conductor refused) says so, naming the host the request ``asked`` for."""
        destination = self.destination
        if not destination:
            destination = "no destination chosen" + (f", {asked} was asked for" if asked else "")
        return f"{self.source} -> {destination}"

    def __str__(self) -> str:
        return (
            f"migration {self.id} of server {self.server_id}: {self.migration_type} "
            f"{self.source} -> {self.destination}, {self.status}"
        )


@dataclass(frozen=True)
class ComputeService:
    """A nova-compute service (one per compute host)."""

    id: str
    host: str
    status: str
    state: str
    forced_down: bool
    disabled_reason: str | None = None

    @property
    def usable(self) -> bool:
        return self.status == "enabled" and self.state == "up" and not self.forced_down
