"""Shared base of the keyword classes."""

from __future__ import annotations

from ..context import LibraryContext
from ..errors import InvalidArgument
from ..models import ComputeService


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
        known = ", ".join(s.host for s in services) or "none"
        raise InvalidArgument(argument, host, f"a compute host of this cloud: {known}")
