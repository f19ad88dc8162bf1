"""Control of the embedded fake cloud (tests using these carry the tag `fake-only`)."""

from __future__ import annotations

from datetime import timedelta

from robot.api.deco import keyword

from ..errors import InvalidArgument
from ..waiting import seconds
from .base import KeywordGroup


class FakeCloudKeywords(KeywordGroup):
    @keyword(tags=["fake-cloud"])
    def set_fake_cloud_durations(self, **phases: float) -> None:
        """Sets how long (virtual seconds) phases take in the embedded fake cloud.

        The phases are those of the fake's `durations()` (e.g. `build`, and the migration
        phases). Restored when the suite ends. Fails against a real cloud.

        Args:
            **phases: Phase name = seconds.

        Example:

        ```robotframework
        *** Test Cases ***
        Slow Migration
            [Tags]    fake-only
            Set Fake Cloud Durations    live_migration=600
        ```
        """
        control = self._ctx.fake_control("Set Fake Cloud Durations")
        current = dict(control.durations())
        unknown = sorted(set(phases) - set(current))
        if unknown:
            raise InvalidArgument(
                "phases", ", ".join(unknown), "phases of the fake: " + ", ".join(sorted(current))
            )
        values = {}
        for name, value in phases.items():
            try:
                values[name] = float(value)
            except (TypeError, ValueError):
                raise InvalidArgument(name, value, "a number of seconds") from None
            if values[name] < 0:
                raise InvalidArgument(name, value, "zero or more seconds")
        if self._ctx.tracker.fake_durations is None:
            self._ctx.tracker.fake_durations = current
        control.set_durations(**values)

    @keyword(tags=["fake-cloud"])
    def get_fake_cloud_durations(self) -> dict:
        """Returns the phase durations of the embedded fake cloud.

        Returns:
            Dictionary phase -> virtual seconds.

        Example:

        ```robotframework
        *** Test Cases ***
        Phases
            [Tags]    fake-only
            &{durations} =    Get Fake Cloud Durations
        ```
        """
        return dict(self._ctx.fake_control("Get Fake Cloud Durations").durations())

    @keyword(tags=["fake-cloud"])
    def add_fake_compute_host(
        self, name: str, vcpus: int = 16, memory_mb: int = 32768, disk_gb: int = 500
    ) -> str:
        """Adds a compute host to the embedded fake cloud; removed when the suite ends.

        Args:
            name: Host name.
            vcpus: VCPU inventory.
            memory_mb: MEMORY_MB inventory.
            disk_gb: DISK_GB inventory.

        Returns:
            The host name.

        Example:

        ```robotframework
        *** Test Cases ***
        Tiny Host
            [Tags]    fake-only
            ${host} =    Add Fake Compute Host    tiny    vcpus=1    memory_mb=512    disk_gb=1
        ```
        """
        if not name or not str(name).strip():
            raise InvalidArgument("name", name, "a non-empty host name")
        for argument, value in (("vcpus", vcpus), ("memory_mb", memory_mb), ("disk_gb", disk_gb)):
            if value < 0:
                raise InvalidArgument(argument, value, "zero or more")
        control = self._ctx.fake_control("Add Fake Compute Host")
        control.add_host(name, vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb)
        self._ctx.tracker.fake_hosts.append(name)
        return name

    @keyword(tags=["fake-cloud"])
    def advance_fake_cloud_clock(self, time: timedelta) -> None:
        """Lets virtual time pass in the embedded fake cloud (manual clock).

        Args:
            time: How much, as a Robot time string.

        Example:

        ```robotframework
        *** Test Cases ***
        Later
            [Tags]    fake-only
            Advance Fake Cloud Clock    30s
        ```
        """
        amount = seconds(time)
        if amount < 0:
            raise InvalidArgument("time", time, "zero or more")
        self._ctx.fake_control("Advance Fake Cloud Clock").advance(amount)
