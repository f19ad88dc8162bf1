"""Shared base of the keyword classes."""

from __future__ import annotations

from ..context import LibraryContext
from ..errors import CheckFailed, InvalidArgument
from ..hostpool import robot_variable
from ..models import ComputeService, Server


class KeywordGroup:
    """Keyword classes are mixed into `LiveMigLibrary`; they share its `LibraryContext`."""

    _ctx: LibraryContext

    def _service_of(self, host: str, argument: str = "host") -> ComputeService:
        """The nova-compute service of ``host``; fails naming the known hosts otherwise."""
        if not host or not str(host).strip():
            raise InvalidArgument(argument, host, "the name of a compute host")
        services = self._ctx.admin.compute_services()
        for service in services:
            if service.host == host:
                return service
        hosts = [s.host for s in services]
        known = ", ".join(hosts) or "none"
        raise InvalidArgument(argument, host, f"a compute host of this cloud: {known}", hosts)

    def _server_name(self, server, server_id: str) -> str | None:
        """The server's name, for messages, when it is known without asking the cloud."""
        if isinstance(server, Server):
            return server.name
        created = self._ctx.tracker.servers.get(server_id)
        return created.name if created is not None else None

    def _host_owner(self) -> str:
        """The test (or, in a suite setup, the suite) that keywords act for now."""
        suite = robot_variable("SUITE NAME") or "(no suite)"
        test = robot_variable("TEST NAME")
        return self._ctx.host_owner(suite, test)

    def _hosts_reserved_by_others(self, hosts) -> set[str]:
        return self._ctx.hosts.reserved_by_others(self._host_owner(), hosts)

    def _check_host_is_ours(self, host: str, action: str) -> None:
        """Fails when another test holds ``host``: only its holder may change it."""
        if self._hosts_reserved_by_others([host]):
            raise CheckFailed(
                f"Compute host {host} is reserved by another test, so this test may not "
                f"{action} it; reserve hosts with Reserve Compute Hosts and change only those."
            )
