"""Control of the embedded fake cloud (tests using these carry the tag `fake-only`)."""

from __future__ import annotations

from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword

from ..errors import CheckFailed, InvalidArgument
from ..waiting import seconds
from .base import KeywordGroup

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _describe_rule(rule: dict) -> str:
    text = f"{rule['point']}/{rule['kind']}"
    details = [
        f"{key}={rule[key]}"
        for key in ("server", "host", "path", "method", "message")
        if rule.get(key)
    ]
    if rule["point"] == "api":
        details.insert(0, f"status={rule.get('status')}")
    if rule["kind"] == "slow":
        details.append(f"+{rule.get('seconds'):g}s")
    if rule.get("skip"):
        details.append(f"after {rule['skip']} passing")
    details.append("every time" if rule.get("count") is None else f"{rule['count']} time(s)")
    return text + " (" + ", ".join(details) + ")"


class FakeCloudKeywords(KeywordGroup):
    @keyword(tags=["fake-cloud"])
    def set_fake_cloud_durations(self, **phases: float) -> None:
        """Sets how long (virtual seconds) phases take in the embedded fake cloud.

        The phases, with their defaults in seconds (`docs/fake-cloud.md`, "Time", says
        what each covers): `schedule` 0.5, `build` 3, `action` 0.5 (stop, start, pause,
        ...), `delete` 1; live migration: `precheck` 0.5 (conductor pre-checks, 2.34+),
        `queue` 0.1, `preparing` 1 (`pre_live_migration` on the destination), `running` 5
        (an idle guest's copy; a busy guest's follows its workload, see [Set Guest
        Workload]), `abort` 0.5, `force_complete` 0.5; cold moves: `prep_resize` 0.5,
        `resize_instance` 2, `finish_resize` 1, `confirm_resize` 0.5, `revert_resize` 0.5,
        `finish_revert_resize` 1; evacuation: `rebuild` 3. [Get Fake Cloud Durations]
        returns the current ones. Restored when the suite ends. Fails against a real cloud.

        Args:
            **phases: Phase name = seconds, e.g. `running=600`.

        Example:

        ```robotframework
        *** Test Cases ***
        Slow Migration
            [Tags]    fake-only
            Set Fake Cloud Durations    running=600    precheck=2
        ```
        """
        control = self._ctx.fake_control("Set Fake Cloud Durations")
        current = dict(control.durations())
        unknown = sorted(set(phases) - set(current))
        if unknown:
            raise InvalidArgument(
                "phases",
                ", ".join(unknown),
                "phases of the fake: " + ", ".join(sorted(current)),
                current if len(unknown) == 1 else (),
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
        self,
        name: str,
        vcpus: int = 16,
        memory_mb: int = 32768,
        disk_gb: int = 500,
        **nova_options: str,
    ) -> str:
        """Adds a compute host to the embedded fake cloud; removed when the suite ends.

        Its nova-compute reports the host to Placement as Nova's does: `memory_mb` less
        `reserved_host_memory_mb` (512 by default) times `ram_allocation_ratio`, `vcpus`
        times the VCPU allocation ratio (4.0 by default), and so on. A host smaller than
        what its `nova.conf` reserves gets no inventory at all (Placement refuses it), so
        nothing is ever scheduled there.

        Args:
            name: Host name.
            vcpus: Physical CPUs of the hypervisor (VCPU inventory total).
            memory_mb: Physical memory (MEMORY_MB inventory total).
            disk_gb: Local disk (DISK_GB inventory total).
            **nova_options: This host's own `nova.conf` capacity options, over the cloud's:
                `reserved_host_memory_mb`, `reserved_host_disk_mb`, `reserved_host_cpus`,
                `cpu_allocation_ratio`, `ram_allocation_ratio`, `disk_allocation_ratio`,
                `initial_cpu_allocation_ratio`, `initial_ram_allocation_ratio`,
                `initial_disk_allocation_ratio`.

        Returns:
            The host name.

        Example:

        ```robotframework
        *** Test Cases ***
        Tiny Host
            [Tags]    fake-only
            ${host} =    Add Fake Compute Host    tiny    vcpus=1    memory_mb=1024    disk_gb=1
            ${bare} =    Add Fake Compute Host    bare    vcpus=1    memory_mb=512    disk_gb=1
            ...    reserved_host_memory_mb=0    cpu_allocation_ratio=1.0
        ```
        """
        if not name or not str(name).strip():
            raise InvalidArgument("name", name, "a non-empty host name")
        for argument, value in (("vcpus", vcpus), ("memory_mb", memory_mb), ("disk_gb", disk_gb)):
            if value < 0:
                raise InvalidArgument(argument, value, "zero or more")
        from ..fake.config import capacity_options

        try:
            options = capacity_options(nova_options)
        except ValueError as error:
            raise InvalidArgument("nova_options", nova_options, str(error)) from None
        control = self._ctx.fake_control("Add Fake Compute Host")
        control.add_host(
            name, vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb, nova_options=options
        )
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
        self._ctx.report_fired_faults()

    @keyword(tags=["fake-cloud"])
    def inject_fake_cloud_fault(
        self,
        point: str,
        kind: str,
        server: str | None = None,
        host: str | None = None,
        count: int | None = 1,
        skip: int = 0,
        delay: timedelta | None = None,
        status: int | None = None,
        path: str | None = None,
        method: str | None = None,
        message: str | None = None,
    ) -> int:
        """Makes the embedded fake cloud fail where a real cloud can fail.

        - `build`: `error` (the compute fails the spawn: server `ERROR` with a fault),
          `slow` (the build takes `delay` longer), `host_down` (the compute's process
          dies as it starts spawning).
        - `conductor`: `no_valid_host`, `unreachable`, `source_check_error` (a
          live-migration pre-check fails: the migration is refused).
        - `pre_live_migration`: `error` (the destination fails preparing: `error`).
        - `live_migration`: `error` (the copy fails: `failed`), `hang` (runs until aborted
          or force-completed), `slow` (the copy takes `delay` longer), `source_down` /
          `destination_down` (that compute's process dies as the copy starts; computes
          killed by faults are started again when the suite ends).
        - `api`: `status` (an OpenStack API request is answered with HTTP `status`).
        - Cold migration and resize: `prep_resize` / `finish_resize`: `error` on the
          destination; `resize_instance`: `error` on the source (its disk copy fails:
          migration `error`, server `ERROR` still on the source with its allocation
          there). Evacuation: `rebuild`: `error` on the destination.

        Every firing is logged at INFO when the library next hears from the fake, e.g.
        `Fault 3 fired: live_migration/hang for server livemig-1a2b3c4d-web on host
        compute1 at t=12.0s`. The rule is removed when the suite ends, or by
        [Remove Fake Cloud Fault].

        Args:
            point: Where the fault fires (see the table).
            kind: What happens there (see the table).
            server: Glob on the server name (default: any server). Not for `api`.
            host: Host the operation runs on: the build's host, the migration's source for
                `live_migration` and `resize_instance`, its destination for
                `pre_live_migration`, `conductor`, `prep_resize`, `finish_resize` and
                `rebuild` (default: any). Not for `api`.
            count: How many times it fires before it is dropped; `None` for every time.
            skip: How many matching operations pass before it fires, e.g. `skip=2    count=1`
                makes only the third build fail.
            delay: For `slow` only (and required there): how much longer the phase takes,
                as a Robot time string.
            status: For `api` only: the HTTP status answered (default 500).
            path: For `api` only: glob on the request path, e.g. `*/servers/${server.id}`
                (default: any path).
            method: For `api` only: `GET`, `HEAD`, `POST`, `PUT`, `PATCH` or `DELETE`
                (default: any).
            message: Error message the fake reports.

        Returns:
            The id of the fault rule.

        Example:

        ```robotframework
        *** Test Cases ***
        Migration Fails While Running
            [Tags]    fake-only
            ${rule} =    Inject Fake Cloud Fault    live_migration    error    server=${server.name}
            Inject Fake Cloud Fault    build    error    skip=1    count=1
            Inject Fake Cloud Fault    api    status    status=503    method=GET
            ...    path=*/servers/${server.id}
        ```
        """
        from ..fake.faults import POINTS  # the fake's own table, no cloud call

        if point not in POINTS:
            raise InvalidArgument("point", point, "one of " + ", ".join(POINTS))
        if kind not in POINTS[point]:
            raise InvalidArgument(
                "kind", kind, f"a kind of point {point}: " + ", ".join(POINTS[point])
            )
        if count is not None and (not isinstance(count, int) or count < 1):
            raise InvalidArgument("count", count, "a whole number of at least 1, or None")
        if not isinstance(skip, int) or skip < 0:
            raise InvalidArgument("skip", skip, "a whole number of at least 0")
        extra: dict = {}
        if kind == "slow":
            if delay is None or seconds(delay) <= 0:
                raise InvalidArgument("delay", delay, f"a time greater than zero for {point}/slow")
            extra["seconds"] = seconds(delay)
        elif delay is not None:
            raise InvalidArgument("delay", delay, "nothing: only kind slow takes a delay")
        if point == "api":
            for name, value in (("server", server), ("host", host)):
                if value is not None:
                    raise InvalidArgument(name, value, "nothing for point api: use path/method")
            if status is not None:
                if not isinstance(status, int) or not 400 <= status <= 599:
                    raise InvalidArgument("status", status, "an HTTP error status, 400-599")
                extra["status"] = status
            if method is not None:
                if str(method).upper() not in HTTP_METHODS:
                    raise InvalidArgument("method", method, "one of " + ", ".join(HTTP_METHODS))
                extra["method"] = str(method).upper()
            if path is not None:
                extra["path"] = path
        else:
            for name, value in (("status", status), ("path", path), ("method", method)):
                if value is not None:
                    raise InvalidArgument(name, value, "nothing: only point api takes it")
        control = self._ctx.fake_control("Inject Fake Cloud Fault")
        match = {"server": server, "host": host, "count": count, "message": message}
        match = {key: value for key, value in match.items() if value is not None}
        if skip:
            match["skip"] = skip
        try:
            rule = control.add_fault(point, kind, **match, **extra)
        except ValueError as error:
            raise InvalidArgument("point/kind", f"{point}/{kind}", str(error)) from None
        self._ctx.tracker.fake_faults.append(rule["id"])
        logger.info(f"Injected fault rule {rule['id']}: {_describe_rule(rule)}.")
        return rule["id"]

    @keyword(tags=["fake-cloud"])
    def remove_fake_cloud_fault(self, rule: int) -> None:
        """Removes a fault rule injected by [Inject Fake Cloud Fault]: it fires no more.

        A rule that already fired its `count` times is gone by itself; removing it again
        passes.

        Args:
            rule: The id [Inject Fake Cloud Fault] returned.

        Example:

        ```robotframework
        *** Test Cases ***
        Hang Only Once
            [Tags]    fake-only
            ${rule} =    Inject Fake Cloud Fault    live_migration    hang    count=None
            Remove Fake Cloud Fault    ${rule}
        ```
        """
        tracker = self._ctx.tracker
        if rule not in tracker.fake_faults:
            injected = ", ".join(str(r) for r in tracker.fake_faults) or "none injected"
            raise InvalidArgument("rule", rule, f"a rule this library injected: {injected}")
        control = self._ctx.fake_control("Remove Fake Cloud Fault")
        self._ctx.report_fired_faults()
        if rule in {r["id"] for r in control.faults()}:
            control.remove_fault(rule)
            logger.info(f"Removed fault rule {rule}.")
        else:
            logger.info(f"Fault rule {rule} had already fired its count and is gone.")
        tracker.fake_faults.remove(rule)

    @keyword(tags=["fake-cloud", "assertions"])
    def fake_cloud_fault_should_have_fired(self, rule: int, times: int | None = None) -> None:
        """Fails unless the fault rule fired (exactly `times` times when given).

        Proves that a test exercised the failure it injected, rather than passing because
        the fault never matched.

        Args:
            rule: The id [Inject Fake Cloud Fault] returned.
            times: Exact number of firings expected; `None` (default): at least once.

        Example:

        ```robotframework
        *** Test Cases ***
        The Hang Happened
            [Tags]    fake-only
            ${rule} =    Inject Fake Cloud Fault    live_migration    hang
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    running
            Advance Fake Cloud Clock    1 min
            Fake Cloud Fault Should Have Fired    ${rule}    times=1
        ```
        """
        if times is not None and (not isinstance(times, int) or times < 0):
            raise InvalidArgument("times", times, "a whole number of at least 0, or None")
        control = self._ctx.fake_control("Fake Cloud Fault Should Have Fired")
        self._ctx.report_fired_faults()
        fired = [entry for entry in control.fired_faults() if entry.get("rule") == rule]
        if (times is None and not fired) or (times is not None and len(fired) != times):
            wanted = "at least once" if times is None else f"{times} time(s)"
            raise CheckFailed(f"Fault rule {rule} fired {len(fired)} time(s), expected {wanted}.")

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
