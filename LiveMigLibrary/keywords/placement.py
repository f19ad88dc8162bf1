"""Placement allocations and usages, reported per compute host."""

from __future__ import annotations

from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword

from ..errors import CheckFailed, InvalidArgument, WaitTimeout
from ..models import Migration, Server
from ..waiting import bounded, describe_seconds, observing, seconds
from .base import KeywordGroup


class PlacementKeywords(KeywordGroup):
    def _consumer_id(self, consumer: Server | Migration | str) -> str:
        if isinstance(consumer, Server):
            return consumer.id
        if isinstance(consumer, Migration):
            if not consumer.uuid:
                raise InvalidArgument(
                    "consumer", str(consumer), "a migration with a uuid (compute API 2.59+)"
                )
            return consumer.uuid
        text = str(consumer).strip()
        if not text:
            raise InvalidArgument("consumer", consumer, "a server, a migration or a uuid")
        return text

    @keyword(tags=["placement"])
    def get_allocations_of_consumer(
        self, consumer: Server | Migration | str
    ) -> dict[str, dict[str, int]]:
        """Returns what a Placement consumer holds, per compute host.

        During a live migration the server (consumer = server uuid) holds the destination
        and the migration (consumer = migration uuid) holds the source.

        Args:
            consumer: A server, a migration (from [Get Migration Of Server]) or a uuid.

        Returns:
            Dictionary host -> {resource class: amount}; empty when it holds nothing.

        Example:

        ```robotframework
        *** Test Cases ***
        Where Are Resources
            &{allocations} =    Get Allocations Of Consumer    ${server}
            Dictionary Should Contain Key    ${allocations}    ${source}
        ```
        """
        consumer_id = self._consumer_id(consumer)
        allocations = self._ctx.admin.allocations(consumer_id)
        if allocations:
            hosts = self._ctx.host_of_providers(needed=allocations)
            allocations = {hosts.get(rp, rp): res for rp, res in allocations.items()}
        # a read during a move is evidence of what Placement held meanwhile
        self._ctx.evidence.note_allocations(consumer_id, allocations)
        return allocations or {}

    @keyword(tags=["placement", "assertions"])
    def allocations_of_consumer_should_be_on_host(
        self,
        consumer: Server | Migration | str,
        host: str,
        within: timedelta = timedelta(0),
    ) -> None:
        """Fails unless the consumer holds resources on `host` and nowhere else.

        Args:
            consumer: A server, a migration or a consumer uuid.
            host: The only compute host expected to carry its allocation.
            within: How long the cloud may take to get there (Nova updates Placement just
                after it marks a migration finished). Default: check once, now.

        Example:

        ```robotframework
        *** Test Cases ***
        Allocation Moved
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            Allocations Of Consumer Should Be On Host    ${server}    ${target}    within=10s
        ```
        """

        seen: dict = {}

        def check() -> None:
            allocations = self.get_allocations_of_consumer(consumer)
            seen["allocations"] = allocations
            if set(allocations) != {host} or not allocations[host]:
                raise CheckFailed(
                    f"Allocations of consumer {_label(consumer)} are {_describe(allocations)}, "
                    f"expected only on host {host}."
                )

        self._eventually(check, within)
        logger.info(
            f"Allocations of consumer {_label(consumer)} are {_describe(seen['allocations'])}: "
            f"only on host {host}, as expected."
        )

    @keyword(tags=["placement", "assertions"])
    def consumer_should_hold_no_allocations(
        self, consumer: Server | Migration | str, within: timedelta = timedelta(0)
    ) -> None:
        """Fails if the consumer holds anything in Placement (e.g. a finished migration).

        Args:
            consumer: A server, a migration or a consumer uuid.
            within: How long the cloud may take to release it. Default: check once, now.

        Example:

        ```robotframework
        *** Test Cases ***
        Nothing Leaked
            Live Migrate Server    ${server}    host=${target}
            ${migration} =    Wait Until Migration Of Server Is    ${server}    completed
            Consumer Should Hold No Allocations    ${migration}    within=10s
        ```
        """

        def check() -> None:
            allocations = self.get_allocations_of_consumer(consumer)
            if allocations:
                raise CheckFailed(
                    f"Consumer {_label(consumer)} holds {_describe(allocations)}, expected nothing."
                )

        self._eventually(check, within)
        logger.info(f"Consumer {_label(consumer)} holds nothing in Placement, as expected.")

    def _eventually(self, check, within: timedelta) -> None:
        """Runs ``check`` until it passes or ``within`` has passed; then its failure stands."""
        clock = self._ctx.clock
        limit = seconds(within)
        if limit < 0:
            raise InvalidArgument("within", within, "zero or more, e.g. 10s")
        deadline = clock.now() + limit
        interval = self._ctx.poll_interval(None)
        check = observing(
            check,
            lambda error: WaitTimeout(
                f"The check did not pass within {describe_seconds(limit)}, and the cloud "
                f"stopped answering: {error}"
            ),
        )
        with bounded(clock, limit or None):  # within=0: one check, bounded as any call
            while True:
                try:
                    check()
                    return
                except CheckFailed:
                    now = clock.now()
                    if now >= deadline:
                        raise
                    clock.sleep(min(interval, deadline - now))

    @keyword(tags=["placement"])
    def get_host_usage(self, host: str) -> dict[str, int]:
        """Returns the Placement usage of the compute host's resource provider.

        Args:
            host: Compute host name.

        Returns:
            Dictionary resource class -> amount used, e.g. `{'VCPU': 2, 'MEMORY_MB': 1024}`.

        Example:

        ```robotframework
        *** Test Cases ***
        Usage
            &{usage} =    Get Host Usage    compute1
            Should Be Equal As Integers    ${usage}[VCPU]    1
        ```
        """
        self._service_of(host)
        hosts = self._ctx.host_of_providers(host=host)
        providers = [rp for rp, h in hosts.items() if h == host]
        if not providers:
            raise CheckFailed(f"Host {host} has no resource provider in Placement.")
        total: dict[str, int] = {}
        for rp in providers:
            for rc, amount in self._ctx.admin.usages(rp).items():
                total[rc] = total.get(rc, 0) + int(amount)
        return total

    @keyword(tags=["placement", "assertions"])
    def host_usage_should_be(self, host: str, **expected: int) -> None:
        """Fails unless the host's Placement usage has the expected amounts.

        Only the resource classes given are checked; a class absent from the usage counts as 0.

        Args:
            host: Compute host name.
            **expected: Resource class = amount, e.g. `VCPU=1    MEMORY_MB=512`.

        Example:

        ```robotframework
        *** Test Cases ***
        Host Is Empty
            Host Usage Should Be    ${target}    VCPU=0    MEMORY_MB=0    DISK_GB=0
        ```
        """
        if not expected:
            raise InvalidArgument("expected", "", "at least one RESOURCE_CLASS=amount")
        wanted = {}
        for rc, amount in expected.items():
            try:
                wanted[rc] = int(amount)
            except (TypeError, ValueError):
                raise InvalidArgument(rc, amount, "a whole number") from None
        usage = self.get_host_usage(host)
        observed = {rc: int(usage.get(rc, 0)) for rc in wanted}
        if observed != wanted:
            raise CheckFailed(f"Usage of host {host} is {observed}, expected {wanted}.")
        logger.info(f"Usage of host {host} is {observed}, as expected.")


def _describe(allocations: dict) -> str:
    if not allocations:
        return "empty"
    return "; ".join(f"{host}: {resources}" for host, resources in sorted(allocations.items()))


def _label(consumer) -> str:
    if isinstance(consumer, Migration):
        return f"migration {consumer.uuid}"
    return str(consumer)
