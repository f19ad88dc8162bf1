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

    @keyword(tags=["fake-cloud"])
    def inject_fake_cloud_fault(
        self,
        point: str,
        kind: str,
        server: str | None = None,
        host: str | None = None,
        count: int | None = 1,
        message: str | None = None,
    ) -> int:
        """Makes the embedded fake cloud fail where a real cloud can fail.

        Points and kinds (see the fake's `faults.py`): `build` (`error`, `slow`),
        `conductor` (`no_valid_host`, `unreachable`), `pre_live_migration` (`error`),
        `live_migration` (`error`, `hang`, `slow`). The rule is removed when the suite ends.

        Args:
            point: Where the fault fires.
            kind: What happens there.
            server: Glob on the server name the fault applies to (default: any server).
            host: Host the operation runs on (default: any).
            count: How many times it fires; `None` for every time.
            message: Error message the fake reports.

        Returns:
            The id of the fault rule.

        Example:

        ```robotframework
        *** Test Cases ***
        Migration Fails While Running
            [Tags]    fake-only
            Inject Fake Cloud Fault    live_migration    error    server=${server.name}
        ```
        """
        if not point or not kind:
            raise InvalidArgument("point/kind", f"{point}/{kind}", "a fault point and kind")
        control = self._ctx.fake_control("Inject Fake Cloud Fault")
        match = {"server": server, "host": host, "count": count, "message": message}
        match = {key: value for key, value in match.items() if value is not None}
        try:
            rule = control.add_fault(point, kind, **match)
        except ValueError as error:
            raise InvalidArgument("point/kind", f"{point}/{kind}", str(error)) from None
        self._ctx.tracker.fake_faults.append(rule["id"])
        return rule["id"]

    @keyword(tags=["fake-cloud"])
    def emulate_nova_bugs(self, *bugs: str) -> None:
        """Makes the embedded fake cloud behave like a Nova with these historical bugs.

        Used to prove that a scenario catches the bug. The previous set is restored when the
        suite ends.

        Args:
            *bugs: Bug ids known to the fake, e.g. `1718455`, `completed-on-source`.

        Example:

        ```robotframework
        *** Test Cases ***
        Catch Bug 1718455
            [Tags]    fake-only
            Emulate Nova Bugs    1718455
        ```
        """
        control = self._ctx.fake_control("Emulate Nova Bugs")
        known = control.known_bugs()
        unknown = [bug for bug in bugs if bug not in known]
        if unknown:
            raise InvalidArgument("bugs", ", ".join(unknown), "one of " + ", ".join(known))
        if self._ctx.tracker.fake_bugs is None:
            self._ctx.tracker.fake_bugs = control.emulated_bugs()
        control.emulate_bugs(list(bugs))
