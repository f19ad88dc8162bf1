"""Reserving compute hosts for the current test, so parallel tests never share them."""

from __future__ import annotations

from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword

from ..enums import HostState
from ..errors import InvalidArgument, LiveMigError
from .base import KeywordGroup


class HostPoolKeywords(KeywordGroup):
    @keyword(tags=["hosts", "parallel"])
    def reserve_compute_hosts(
        self,
        count: int = 1,
        state: HostState = HostState.USABLE,
        timeout: timedelta | None = None,
    ) -> list[str]:
        """Reserves `count` compute hosts for the current test and returns them.

        Tests that change a host (disable, force down, fill, drain, stop its compute)
        must own it, or they break the tests running beside them. Reserved hosts are
        released when the test ends (passed, failed or stopped); reserved in a suite
        setup, when the suite ends. Until then no other test gets them: not from this
        keyword, not from [Get Compute Hosts] with `state=usable` or
        [Get Other Compute Host], and the keywords that change a host ([Disable Compute
        Service], [Force Compute Service Down], [Live Migrate All Servers Off Host]...)
        refuse a host another test holds. A host this test disabled is enabled again
        before it is released.

        Under pabot against a shared cloud the hosts are PabotLib locks, so separate
        processes never hold the same host; otherwise a pool in this process serves (the
        embedded fake cloud is one per process anyway).

        Args:
            count: How many hosts (at least 1).
            state: `usable` (default): enabled, up, not forced down; `any`: every host.
            timeout: How long to wait for other tests to release enough hosts. Default:
                the library's `timeout`. `0`: do not wait.

        Returns:
            The host names, in name order.

        Example:

        ```robotframework
        *** Test Cases ***
        Maintenance On My Own Hosts
            ${maintained}    ${spare} =    Reserve Compute Hosts    2
            Disable Compute Service    ${maintained}    reason=kernel update
        ```
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidArgument("count", count, "a whole number of at least 1")
        ctx = self._ctx
        wait = 0.0 if timeout is not None and timeout.total_seconds() == 0 else None
        wait = ctx.timeout(timeout) if wait is None else wait
        owner = self._host_owner()

        def candidates() -> list[str]:
            services = ctx.admin.compute_services()
            if state is HostState.USABLE:
                services = [s for s in services if s.usable]
            return [s.host for s in services]

        hosts = ctx.hosts.reserve(owner, count, candidates, wait)
        logger.info(
            f"Reserved compute host(s) {', '.join(hosts)} for {owner.split('|', 1)[-1]} "
            f"(pool: {ctx.hosts.kind})."
        )
        return hosts

    @keyword(tags=["hosts", "parallel"])
    def get_reserved_compute_hosts(self) -> list[str]:
        """Returns the compute hosts the current test has reserved, and those its suite has.

        Returns:
            The host names, in the order they were reserved.

        Example:

        ```robotframework
        *** Test Cases ***
        Mine
            Reserve Compute Hosts    2
            @{mine} =    Get Reserved Compute Hosts
            Length Should Be    ${mine}    2
        ```
        """
        return self._ctx.hosts.usable_by(self._host_owner())

    @keyword(tags=["hosts", "parallel"])
    def release_compute_hosts(self) -> None:
        """Releases the current test's (or suite's) hosts now, instead of when it ends.

        A host this test changed (disabled, forced down) gets its state back first.

        Example:

        ```robotframework
        *** Test Cases ***
        Done Early
            Reserve Compute Hosts    1
            Release Compute Hosts
        ```
        """
        self._release_hosts(self._host_owner())

    def _release_hosts(self, owner: str) -> list[str]:
        """Restores what this library changed on the owner's hosts, then releases them."""
        ctx = self._ctx
        hosts = list(ctx.hosts.owners.get(owner, []))
        if not hosts:
            return []
        problems = []
        if ctx.connected:
            # a host whose compute this test stopped gets it back first: a released host
            # must be whole for the next test, and Nova lifts a forced-down flag only after
            # the restarted compute cleaned up its evacuations
            for host in [h for h in ctx.tracker.stopped_computes if h in hosts]:
                try:
                    self._restart_stopped_compute(host)
                except Exception as error:  # noqa: BLE001 - noted; releasing goes on
                    problems.append(f"Starting the nova-compute process of {host} failed: {error}")
            problems += self._restore_services(hosts)
        released = ctx.hosts.release(owner)
        logger.info(f"Released compute host(s) {', '.join(released)}.")
        for problem in problems:
            logger.warn(problem)
        return released

    def _restore_services(self, hosts: list[str]) -> list[str]:
        tracker = self._ctx.tracker
        changed = [h for h in hosts if h in tracker.services]
        if not changed:
            return []
        problems = []
        current = {s.host: s for s in self._ctx.admin.compute_services()}
        for host in changed:
            service = current.get(host)
            try:
                if service is not None:
                    changes = tracker.changes_to_restore(service)
                    if changes:
                        self._ctx.admin.update_service(service, **changes)
                        logger.info(f"Restored the compute service of {host}: {changes}.")
                del tracker.services[host]
            except LiveMigError as error:
                problems.append(f"Restoring the compute service of {host} failed: {error}")
        return problems
