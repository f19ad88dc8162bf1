"""Compute hosts and their nova-compute services."""

from __future__ import annotations

from robot.api import logger
from robot.api.deco import keyword

from ..enums import HostState
from ..errors import CheckFailed
from ..models import Server
from .base import KeywordGroup


class HostKeywords(KeywordGroup):
    @keyword(tags=["hosts"])
    def get_compute_hosts(self, state: HostState = HostState.ANY) -> list[str]:
        """Returns the names of the compute hosts (hosts of `nova-compute` services), sorted.

        Args:
            state: `any` (default) for all hosts, `usable` for hosts whose service is
                enabled, up and not forced down, and that no other test has reserved
                ([Reserve Compute Hosts]).

        Returns:
            List of host names.

        Example:

        ```robotframework
        *** Test Cases ***
        At Least Two Hosts
            @{hosts} =    Get Compute Hosts    state=usable
            Should Be True    len($hosts) >= 2
        ```
        """
        services = self._ctx.admin.compute_services()
        if state is HostState.USABLE:
            services = [s for s in services if s.usable]
            taken = self._hosts_reserved_by_others([s.host for s in services])
            services = [s for s in services if s.host not in taken]
        return [s.host for s in services]

    @keyword(tags=["hosts"])
    def get_other_compute_host(self, server: Server | str, *exclude: str) -> str:
        """Returns a usable compute host other than the one `server` is on.

        Hosts another test reserved ([Reserve Compute Hosts]) are never returned.

        Args:
            server: The server whose host is excluded.
            *exclude: More hosts not to return.

        Returns:
            The first such host in name order.

        Example:

        ```robotframework
        *** Test Cases ***
        Pick A Destination
            ${target} =    Get Other Compute Host    ${server}
            Live Migrate Server    ${server}    host=${target}
        ```
        """
        ctx = self._ctx
        sid = ctx.server_id(server)
        state = ctx.admin.server_state(sid)
        if state is None:
            raise CheckFailed(f"Server {server} does not exist.")
        skip = {state.host, *exclude}
        services = ctx.admin.compute_services()
        usable = [s.host for s in services if s.usable and s.host not in skip]
        taken = self._hosts_reserved_by_others(usable)
        for host in usable:
            if host not in taken:
                return host
        skip |= taken
        summary = ", ".join(f"{s.host} ({s.status}, {s.state})" for s in services)
        raise CheckFailed(
            f"No usable compute host other than {', '.join(sorted(h for h in skip if h))} "
            f"was found (hosts other tests reserved are not used); hosts: {summary}."
        )

    @keyword(tags=["hosts"])
    def disable_compute_service(self, host: str, reason: str = "disabled by a test") -> None:
        """Disables the `nova-compute` service of `host`: the scheduler stops choosing it.

        The service is enabled again when the suite ends (or by [Delete Created Resources])
        if this library disabled it.

        Args:
            host: Compute host name.
            reason: `disabled_reason` recorded by Nova.

        Example:

        ```robotframework
        *** Test Cases ***
        Maintenance
            Disable Compute Service    compute1    reason=maintenance
        ```
        """
        service = self._service_of(host)
        self._check_host_is_ours(host, "disable")
        self._ctx.tracker.remember_service(service)
        self._ctx.admin.update_service(service, status="disabled", disabled_reason=reason)
        logger.info(f"Disabled the compute service of {host}: {reason}")

    @keyword(tags=["hosts"])
    def enable_compute_service(self, host: str) -> None:
        """Enables the `nova-compute` service of `host`.

        Args:
            host: Compute host name.

        Example:

        ```robotframework
        *** Test Cases ***
        Back In Service
            Enable Compute Service    compute1
        ```
        """
        service = self._service_of(host)
        self._check_host_is_ours(host, "enable")
        self._ctx.tracker.remember_service(service)
        self._ctx.admin.update_service(service, status="enabled")

    @keyword(tags=["hosts"])
    def force_compute_service_down(self, host: str) -> None:
        """Marks the `nova-compute` service of `host` as forced down (fenced).

        Restored when the suite ends if this library changed it.

        Args:
            host: Compute host name.

        Example:

        ```robotframework
        *** Test Cases ***
        Fenced Host
            Force Compute Service Down    compute2
        ```
        """
        service = self._service_of(host)
        self._check_host_is_ours(host, "force down")
        self._ctx.tracker.remember_service(service)
        self._ctx.admin.update_service(service, forced_down=True)

    @keyword(tags=["hosts"])
    def force_compute_service_up(self, host: str) -> None:
        """Clears the forced-down flag of the `nova-compute` service of `host`.

        Args:
            host: Compute host name.

        Example:

        ```robotframework
        *** Test Cases ***
        Unfenced Host
            Force Compute Service Up    compute2
        ```
        """
        service = self._service_of(host)
        self._check_host_is_ours(host, "force up")
        self._ctx.tracker.remember_service(service)
        self._ctx.admin.update_service(service, forced_down=False)

    @keyword(tags=["hosts", "assertions"])
    def compute_service_should_be(
        self, host: str, status: str | None = None, state: str | None = None
    ) -> None:
        """Fails unless the `nova-compute` service of `host` has the given status and state.

        Args:
            host: Compute host name.
            status: `enabled` or `disabled` (not checked when omitted).
            state: `up` or `down` (not checked when omitted).

        Example:

        ```robotframework
        *** Test Cases ***
        Disabled
            Disable Compute Service    ${target}    reason=maintenance
            Compute Service Should Be    ${target}    status=disabled    state=up
        ```
        """
        service = self._service_of(host)
        problems = []
        if status is not None and service.status != status.lower():
            problems.append(f"status {service.status}, expected {status.lower()}")
        if state is not None and service.state != state.lower():
            problems.append(f"state {service.state}, expected {state.lower()}")
        if problems:
            raise CheckFailed(f"Compute service of {host} has " + "; ".join(problems) + ".")
