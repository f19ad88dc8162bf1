"""Live-migration dynamics: progress, convergence, downtime; the guest and link of the fake."""

from __future__ import annotations

import math
from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

from ..enums import MigrationOutcome, ProbeMethod
from ..errors import CheckFailed, InvalidArgument, NotConfigured, UnexpectedState
from ..models import Server
from ..waiting import Waiter, seconds
from .base import KeywordGroup

COUNTERS = (
    "memory_total",
    "memory_processed",
    "memory_remaining",
    "disk_total",
    "disk_processed",
    "disk_remaining",
)


def _number(argument: str, value, *, allow_none: bool = False, positive: bool = False):
    if value is None and allow_none:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(argument, value, "a number") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise InvalidArgument(argument, value, "a finite number")
    if number < 0 or (positive and number == 0):
        raise InvalidArgument(argument, value, "more than 0" if positive else "0 or more")
    return number


def _in_test() -> bool:
    try:
        return BuiltIn().get_variable_value("${TEST NAME}") is not None
    except RobotNotRunningError:
        return False


def progress_percent(sample: dict) -> int | None:
    """Nova's progress: ``100 - round(memory_remaining * 100 / memory_total)``."""
    total = sample.get("memory_total")
    if not total:
        return None
    return 100 - round((sample.get("memory_remaining") or 0) * 100 / total)


def _describe(sample: dict | None) -> str:
    if sample is None:
        return "no migration in progress"
    mib = 1024 * 1024
    text = (
        f"{sample['status']}, memory {sample.get('progress_percent')}% "
        f"(processed {(sample.get('memory_processed') or 0) / mib:.0f} MiB, remaining "
        f"{(sample.get('memory_remaining') or 0) / mib:.0f} of "
        f"{(sample.get('memory_total') or 0) / mib:.0f} MiB)"
    )
    if sample.get("disk_total"):
        text += (
            f", disk {(sample.get('disk_processed') or 0) / mib:.0f} of "
            f"{sample['disk_total'] / mib:.0f} MiB"
        )
    return text


class MigrationDynamicsKeywords(KeywordGroup):
    # -- progress (any cloud) -------------------------------------------------------------------

    def _progress_sample(self, server_id: str) -> dict | None:
        client = self._ctx.admin
        migrations = client.in_progress_migrations(server_id)
        if not migrations:
            return None
        migration = migrations[-1]
        shown = client.server_migration(server_id, migration.id)
        if shown is None:
            return None
        sample = {"at": round(self._ctx.clock.now(), 3), "migration_id": migration.id}
        sample["status"] = shown.get("status")
        for name in COUNTERS:
            sample[name] = shown.get(name + "_bytes")
        sample["progress_percent"] = progress_percent(sample)
        record = self._ctx.evidence.current(server_id)
        if record is not None:
            record.add_sample("progress", dict(sample))
        return sample

    @keyword(tags=["migrations", "progress"])
    def get_migration_progress(self, server: Server | str) -> dict:
        """Returns the memory and disk counters of the server's in-progress live migration.

        Reads `GET /servers/{id}/migrations/{migration_id}` (compute API 2.23), which shows
        what Nova's libvirt driver last saved: it saves the hypervisor's job statistics
        every `live_migration_monitor_interval` seconds (5 by default), so the counters move
        in steps. `memory_processed` includes pages sent again after the guest dirtied them
        and can exceed `memory_total`; `progress_percent` is Nova's
        `100 - memory_remaining * 100 / memory_total`.

        Args:
            server: The server.

        Returns:
            Dictionary with `status`, `migration_id`, `memory_total`, `memory_processed`,
            `memory_remaining`, `disk_total`, `disk_processed`, `disk_remaining` (bytes, or
            `None` before Nova first saved them), `progress_percent` and `at` (the
            library's clock).

        Example:

        ```robotframework
        *** Test Cases ***
        Copy Started
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    running
            ${progress} =    Get Migration Progress    ${server}
            Should Be True    ${progress}[memory_total] > 0
        ```
        """
        sid = self._ctx.server_id(server)
        sample = self._progress_sample(sid)
        if sample is None:
            raise CheckFailed(f"Server {server} has no live migration in progress.")
        logger.info(f"Migration of server {server}: {_describe(sample)}.")
        return sample

    @keyword(tags=["migrations", "progress", "wait"])
    def wait_until_migration_progress_reaches(
        self,
        server: Server | str,
        percent: int,
        timeout: timedelta | None = None,
        poll_interval: timedelta | None = None,
    ) -> dict:
        """Waits until Nova's progress of the server's live migration is `percent` or more.

        Progress is `100 - memory_remaining * 100 / memory_total` as Nova computes it; a
        busy guest's progress falls back at each new pre-copy pass, so a high `percent` may
        never be reached. Fails at once when the migration ends other than `completed`
        (a completed one has reached 100 %).

        Args:
            server: The server.
            percent: 0 to 100.
            timeout: Default: the library's `migration_timeout`.
            poll_interval: Default: the library's `poll_interval`.

        Returns:
            The progress sample that reached it (see [Get Migration Progress]); after
            completion `status` is `completed` and `progress_percent` 100.

        Example:

        ```robotframework
        *** Test Cases ***
        Copy Under Way
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    running
            Wait Until Migration Progress Reaches    ${server}    50    timeout=5 min
        ```
        """
        if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
            raise InvalidArgument("percent", percent, "a whole number from 0 to 100")
        ctx = self._ctx
        sid = ctx.server_id(server)
        finished: dict = {}

        def observe() -> dict | None:
            sample = self._progress_sample(sid)
            if sample is None:
                latest = self._latest_live_migration(sid)
                if latest is not None and latest.status in (
                    "completed",
                    "error",
                    "failed",
                    "cancelled",
                ):
                    finished.update(status=latest.status, migration_id=latest.id)
                    return {"status": latest.status, "migration_id": latest.id}
            return sample

        def check(sample: dict | None) -> None:
            if sample and sample["status"] in ("error", "failed", "cancelled"):
                raise UnexpectedState(
                    f"Migration {sample['migration_id']} of server {server} ended "
                    f"{sample['status']} before its progress reached {percent}%."
                )

        def done(sample: dict | None) -> bool:
            if not sample:
                return False
            if sample["status"] == "completed":
                return True
            return (sample.get("progress_percent") or 0) >= percent

        result = Waiter(
            ctx.clock,
            f"Migration of server {server}",
            f"progress {percent}%",
            ctx.migration_timeout(timeout),
            ctx.poll_interval(poll_interval),
        ).wait(
            observe,
            done,
            lambda s: (
                f"migration {s['migration_id']} {s['status']}"
                if s and "memory_total" not in s
                else _describe(s)
            ),
            check,
        )
        if result.get("status") == "completed":
            result = {**result, "progress_percent": 100}
        return result

    @keyword(tags=["migrations", "progress", "wait"])
    def follow_migration_progress(
        self,
        server: Server | str,
        timeout: timedelta | None = None,
        poll_interval: timedelta | None = None,
    ) -> list:
        """Samples the server's live-migration progress until it is no longer in progress.

        Logs one line per change of the counters; every sample also goes into the
        migration's record (`samples.progress` of `migrations.json`). Fails when the
        migration is still in progress after `timeout`.

        Args:
            server: The server.
            timeout: Default: the library's `migration_timeout`.
            poll_interval: Default: the library's `poll_interval`.

        Returns:
            The list of samples (see [Get Migration Progress]), oldest first.

        Example:

        ```robotframework
        *** Test Cases ***
        Progress Grows
            [Tags]    fake-only
            Set Fake Libvirt Options    live_migration_bandwidth=50    # 512 MiB in 10 s
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    running
            @{samples} =    Follow Migration Progress    ${server}
            Migration Progress Should Grow Monotonically    ${samples}
        ```
        """
        ctx = self._ctx
        sid = ctx.server_id(server)
        samples: list[dict] = []

        def observe() -> dict | None:
            sample = self._progress_sample(sid)
            if sample is not None:
                samples.append(sample)
            return sample

        Waiter(
            ctx.clock,
            f"Migration of server {server}",
            "no longer in progress",
            ctx.migration_timeout(timeout),
            ctx.poll_interval(poll_interval),
        ).wait(observe, lambda s: s is None, _describe)
        logger.info(f"{len(samples)} progress sample(s) of the migration of server {server}.")
        return samples

    @keyword(tags=["migrations", "progress", "assertions"])
    def migration_progress_should_grow_monotonically(self, samples: list) -> None:
        """Fails unless memory and disk `processed` never decrease between samples.

        What was copied can only grow, even while a busy guest makes `memory_remaining`
        jump up again at each new pass. Needs at least two samples with counters.

        Args:
            samples: From [Follow Migration Progress] (or [Get Migration Progress] calls).

        Example:

        ```robotframework
        *** Test Cases ***
        Monotonic
            [Tags]    fake-only
            Set Fake Libvirt Options    live_migration_bandwidth=50
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    running
            @{samples} =    Follow Migration Progress    ${server}
            Migration Progress Should Grow Monotonically    ${samples}
        ```
        """
        if not isinstance(samples, list | tuple):
            raise InvalidArgument("samples", samples, "a list of progress samples")
        counted = [s for s in samples if isinstance(s, dict) and s.get("memory_total")]
        if len(counted) < 2:
            raise CheckFailed(
                f"Only {len(counted)} progress sample(s) with memory counters; at least 2 "
                f"are needed to see growth (poll more often or migrate a bigger guest)."
            )
        for name in ("memory_processed", "disk_processed"):
            values = [s.get(name) or 0 for s in counted]
            for index, (before, after) in enumerate(zip(values, values[1:], strict=False)):
                if after < before:
                    raise CheckFailed(
                        f"{name} fell from {before} to {after} bytes between samples "
                        f"{index + 1} and {index + 2} (at {counted[index]['at']}s and "
                        f"{counted[index + 1]['at']}s); expected it never to decrease."
                    )
        first, last = counted[0], counted[-1]
        if last["memory_processed"] <= first["memory_processed"]:
            raise CheckFailed(
                f"memory_processed stayed at {first['memory_processed']} bytes over "
                f"{len(counted)} samples; expected it to grow."
            )
        logger.info(
            f"memory_processed grew from {first['memory_processed']} to "
            f"{last['memory_processed']} bytes over {len(counted)} samples, never falling."
        )

    # -- the fake's guest, link and [libvirt] options -------------------------------------------

    @keyword(tags=["fake-cloud", "dynamics"])
    def set_guest_workload(
        self, server: Server | str, dirty_rate: float, working_set: float | None = None
    ) -> None:
        """Makes the server's guest dirty memory as a busy application does (embedded fake).

        The fake's live migration copies the guest's memory in pre-copy passes at the
        link's bandwidth while the guest dirties `dirty_rate` MiB/s, never more than its
        `working_set`; it converges once what is dirty fits in the max downtime. `0` is
        idle (the default). Takes effect at once, also during a migration; reset to idle
        when the suite's resources are cleaned up.

        Args:
            server: The server.
            dirty_rate: MiB of memory written per second (0 or more).
            working_set: MiB the guest keeps writing; `None`: all of its memory.

        Example:

        ```robotframework
        *** Test Cases ***
        Busy Database
            [Tags]    fake-only
            Set Guest Workload    ${server}    dirty_rate=200    working_set=1024
        ```
        """
        rate = _number("dirty_rate", dirty_rate)
        wss = _number("working_set", working_set, allow_none=True)
        control = self._ctx.fake_control("Set Guest Workload")
        sid = self._ctx.server_id(server)
        control.set_workload(sid, dirty_rate_mib=rate, working_set_mib=wss)
        if sid not in self._ctx.tracker.fake_workloads:
            self._ctx.tracker.fake_workloads.append(sid)
        logger.info(
            f"Guest of server {server} dirties {rate:g} MiB/s"
            + (f" of a {wss:g} MiB working set." if wss is not None else " of all its memory.")
        )

    @keyword(tags=["fake-cloud", "dynamics"])
    def set_fake_libvirt_options(self, **options) -> None:
        """Sets `[libvirt]` live-migration options of the fake's nova-compute services.

        The options are Nova's, with Nova's defaults and lower bounds:
        `live_migration_bandwidth` (MiB/s, 0: the link), `live_migration_downtime` (ms,
        500, at least 100), `live_migration_downtime_steps` (10, at least 3),
        `live_migration_downtime_delay` (s per GiB, 75, at least 3),
        `live_migration_completion_timeout` (s per GiB, 800, 0: none),
        `live_migration_timeout_action` (`abort` or `force_complete`),
        `live_migration_permit_post_copy`, `live_migration_permit_auto_converge`
        (`False`), `live_migration_monitor_interval` (s, 5). A migration reads them as its
        copy starts. Set in a test, they are restored when the test ends; set in a suite
        setup, when the suite ends.

        Args:
            **options: Option name = value.

        Example:

        ```robotframework
        *** Test Cases ***
        Short Timeout
            [Tags]    fake-only
            Set Fake Libvirt Options    live_migration_completion_timeout=30
            ...    live_migration_timeout_action=force_complete
        ```
        """
        from ..fake.config import LibvirtOptions  # the fake's own rules, no cloud call

        if not options:
            raise InvalidArgument("options", options, "one or more option=value pairs")
        try:
            LibvirtOptions().update(**options)
        except ValueError as error:
            name = next(
                (n for n in options if str(error).startswith(n) or repr(n) in str(error)),
                "options",
            )
            raise InvalidArgument(name, options.get(name, options), str(error)) from None
        control = self._ctx.fake_control("Set Fake Libvirt Options")
        tracker = self._ctx.tracker
        current = control.libvirt_options()
        if _in_test():
            if tracker.fake_libvirt_test is None:
                tracker.fake_libvirt_test = current
        elif tracker.fake_libvirt is None:
            tracker.fake_libvirt = current
        now = control.set_libvirt_options(**options)
        logger.info(
            "Fake [libvirt] options: " + ", ".join(f"{name}={now[name]}" for name in options)
        )

    @keyword(tags=["fake-cloud", "dynamics"])
    def get_fake_libvirt_options(self) -> dict:
        """Returns the `[libvirt]` live-migration options of the fake's computes.

        Returns:
            Dictionary option -> value.

        Example:

        ```robotframework
        *** Test Cases ***
        Defaults
            [Tags]    fake-only
            &{options} =    Get Fake Libvirt Options
            Should Be Equal As Integers    ${options}[live_migration_downtime]    500
        ```
        """
        return dict(self._ctx.fake_control("Get Fake Libvirt Options").libvirt_options())

    @keyword(tags=["fake-cloud", "dynamics"])
    def set_fake_link_bandwidth(
        self,
        bandwidth: float | None,
        source: str | None = None,
        destination: str | None = None,
    ) -> None:
        """Sets the bandwidth (MiB/s) of the fake's link from `source` to `destination`.

        Without hosts it sets every link's default. `None` removes the setting. Nova's
        `live_migration_bandwidth` caps it. With neither set, a link is as fast as the
        `running` phase duration implies (an idle guest crosses in `running` seconds).
        Restored when the suite's resources are cleaned up.

        Args:
            bandwidth: MiB/s, more than 0; `None` to remove.
            source: Source compute host (with `destination`).
            destination: Destination compute host (with `source`).

        Example:

        ```robotframework
        *** Test Cases ***
        Slow Link
            [Tags]    fake-only
            Set Fake Link Bandwidth    100    source=compute1    destination=compute2
        ```
        """
        value = _number("bandwidth", bandwidth, allow_none=True, positive=True)
        if (source is None) != (destination is None):
            raise InvalidArgument(
                "destination" if destination is None else "source",
                None,
                "both source and destination, or neither (every link)",
            )
        control = self._ctx.fake_control("Set Fake Link Bandwidth")
        if source is not None:
            for name, host in (("source", source), ("destination", destination)):
                self._service_of(host, name)
        if self._ctx.tracker.fake_links is None:
            self._ctx.tracker.fake_links = control.links()
        control.set_link_bandwidth(value, source=source, destination=destination)
        where = f"{source} -> {destination}" if source else "every link"
        logger.info(f"Fake link bandwidth of {where}: {value if value else 'unset'} MiB/s.")

    # -- the fake's model of a migration ----------------------------------------------------------

    def _latest_live_migration(self, server_id: str):
        records = [
            m
            for m in self._ctx.admin.migrations(server_id)
            if (m.migration_type or "live-migration") == "live-migration"
        ]
        baseline = self._ctx.migration_baseline.get(server_id, set())
        new = [m for m in records if m.id not in baseline]
        return new[-1] if new else (records[-1] if records else None)

    @keyword(tags=["fake-cloud", "dynamics"])
    def get_migration_dynamics(self, server: Server | str) -> dict:
        """Returns the fake's model of the server's latest live migration.

        Args:
            server: The server.

        Returns:
            Dictionary with `outcome` (see [Migration Of Server Should Have Ended By]),
            `converged`, `iterations` (pre-copy passes), `downtime_ms`, `max_downtime_ms`,
            `bandwidth_mib`, `dirty_rate_mib`, `throttle_percent`, `data_gb`,
            `completion_timeout`, `timed_out_at`, `downtime_steps`, `samples` (the stats
            Nova saved) and `timeline` (passes, downtime steps, pause, post-copy,
            switchover), times in the fake's virtual seconds.

        Example:

        ```robotframework
        *** Test Cases ***
        Passes
            [Tags]    fake-only
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            &{dynamics} =    Get Migration Dynamics    ${server}
            Log    ${dynamics}[iterations] passes
        ```
        """
        control = self._ctx.fake_control("Get Migration Dynamics")
        sid = self._ctx.server_id(server)
        migration = self._latest_live_migration(sid)
        if migration is None:
            raise CheckFailed(f"Server {server} has no live-migration record.")
        try:
            return control.migration_dynamics(migration.id)
        except ValueError as error:
            raise CheckFailed(f"Migration {migration.id} of server {server}: {error}.") from None

    def _finished_dynamics(self, server, keyword_name: str) -> dict:
        self._ctx.fake_control(keyword_name)
        dynamics = self.get_migration_dynamics(server)
        if dynamics["outcome"] is None:
            raise CheckFailed(
                f"Migration {dynamics['migration_id']} of server {server} is still "
                f"{dynamics['status']} (pre-copy pass {dynamics['iterations']}); wait until "
                f"it ends first."
            )
        return dynamics

    @keyword(tags=["fake-cloud", "dynamics", "assertions"])
    def migration_of_server_should_have_ended_by(
        self,
        server: Server | str,
        outcome: MigrationOutcome | str,
        max_iterations: int | None = None,
    ) -> dict:
        """Fails unless the fake's model says the migration's copy ended by `outcome`.

        Args:
            server: The server.
            outcome: `converged` (pre-copy converged by itself), `paused` (force-complete
                paused the guest), `post-copy`, `cancelled` (aborted, also by the
                completion timeout), `failed` or `error`.
            max_iterations: Also fail when more pre-copy passes than this ran.

        Returns:
            The model's view (see [Get Migration Dynamics]).

        Example:

        ```robotframework
        *** Test Cases ***
        Forced Into Post-Copy
            [Tags]    fake-only
            Set Fake Libvirt Options    live_migration_bandwidth=100
            ...    live_migration_permit_post_copy=True
            Set Guest Workload    ${server}    dirty_rate=500
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    running
            Force Complete Migration Of Server    ${server}
            Wait Until Migration Of Server Is    ${server}    completed
            Migration Of Server Should Have Ended By    ${server}    post-copy
        ```
        """
        wanted = MigrationOutcome.parse(outcome)
        if max_iterations is not None and (
            not isinstance(max_iterations, int) or max_iterations < 1
        ):
            raise InvalidArgument("max_iterations", max_iterations, "a whole number of 1 or more")
        dynamics = self._finished_dynamics(server, "Migration Of Server Should Have Ended By")
        timed_out = (
            f", after the completion timeout ({dynamics['completion_timeout']} s)"
            if dynamics["timed_out_at"] is not None
            else ""
        )
        said = (
            f"Migration {dynamics['migration_id']} of server {server} ended "
            f"{dynamics['outcome']} after {dynamics['iterations']} pre-copy pass(es)"
            f"{timed_out}, downtime {dynamics['downtime_ms']} ms"
        )
        if dynamics["outcome"] != wanted.value:
            raise CheckFailed(f"{said}; expected {wanted.value}.")
        if max_iterations is not None and dynamics["iterations"] > max_iterations:
            raise CheckFailed(f"{said}; expected at most {max_iterations} pass(es).")
        logger.info(said + ".")
        return dynamics

    @keyword(tags=["fake-cloud", "dynamics", "assertions"])
    def migration_of_server_should_have_converged(
        self, server: Server | str, max_iterations: int | None = None
    ) -> dict:
        """Fails unless pre-copy converged by itself (no pause, no post-copy, no abort).

        Args:
            server: The server.
            max_iterations: Also fail when more pre-copy passes than this ran.

        Returns:
            The model's view (see [Get Migration Dynamics]).

        Example:

        ```robotframework
        *** Test Cases ***
        Idle Guest
            [Tags]    fake-only
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            Migration Of Server Should Have Converged    ${server}    max_iterations=2
        ```
        """
        return self.migration_of_server_should_have_ended_by(
            server, MigrationOutcome.CONVERGED, max_iterations
        )

    # -- downtime ---------------------------------------------------------------------------------

    @keyword(tags=["migrations", "dynamics", "assertions"])
    def migration_downtime_should_be_less_than(
        self, server: Server | str, limit: timedelta
    ) -> float:
        """Fails unless the server's last live migration paused it for less than `limit`.

        On the embedded fake the downtime is the model's: the switchover pause of a
        converged pre-copy, or from the force-complete pause to the end. On a real cloud it
        is the longest gap the server's downtime probe saw ([Start Downtime Probe], which
        must run during the move; this keyword stops it).

        Args:
            server: The server.
            limit: A Robot time, e.g. `500ms` or `5s` (tempest's `allowed_network_downtime`
                is 5 s).

        Returns:
            The downtime in seconds.

        Example:

        ```robotframework
        *** Test Cases ***
        Short Pause
            [Tags]    fake-only
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            Migration Downtime Should Be Less Than    ${server}    500ms
        ```
        """
        allowed = seconds(limit)
        if allowed <= 0:
            raise InvalidArgument("limit", limit, "a time greater than zero, e.g. 500ms")
        sid = self._ctx.server_id(server)
        if self._ctx.uses_fake:
            dynamics = self._finished_dynamics(server, "Migration Downtime Should Be Less Than")
            downtime = dynamics["downtime_ms"] / 1000
            how = f"the fake's model ({dynamics['outcome']})"
        else:
            probe = self._ctx.tracker.downtime_probes.get(sid)
            result = self._probe_results().get(sid) if probe is None else None
            if probe is not None:
                result = self._stop_probe(sid, server)
            if result is None:
                raise NotConfigured(
                    f"No downtime was measured for server {server}: start a probe with "
                    f"Start Downtime Probe before the migration."
                )
            downtime = result["downtime_seconds"]
            how = f"the {result['method']} probe of {result['address']}"
        text = f"Downtime of server {server}: {downtime * 1000:.1f} ms by {how}"
        if downtime >= allowed:
            raise CheckFailed(f"{text}; expected less than {allowed * 1000:g} ms.")
        logger.info(text + f", less than {allowed * 1000:g} ms.")
        return downtime

    @keyword(tags=["migrations", "dynamics"])
    def start_downtime_probe(
        self,
        server: Server | str,
        address: str | None = None,
        method: ProbeMethod = ProbeMethod.TCP,
        port: int = 22,
        interval: timedelta = timedelta(milliseconds=200),
    ) -> None:
        """Starts checking, from this host, that the server answers on the network.

        As tempest's `net_downtime` meter does during a move: a background thread connects
        to `port` (TCP) or pings (ICMP, the system's `ping`) every `interval`; the
        downtime is the longest run of failed checks. Off unless started. Fails at once
        when the address does not answer before the move starts. Stop it with
        [Stop Downtime Probe] or [Migration Downtime Should Be Less Than]; it is stopped
        when the suite's resources are cleaned up.

        Args:
            server: The server.
            address: IP address to check; default: the server's floating, else fixed one.
            method: `tcp` (default) or `icmp`.
            port: TCP port (default 22).
            interval: Time between checks (default 200 ms, as tempest's ping).

        Example:

        ```robotframework
        *** Test Cases ***
        Measured Downtime
            # any TCP service of the server; on the fake, its API port stands in
            ${url} =    Get Cloud Endpoint    compute
            ${port} =    Evaluate    urllib.parse.urlparse($url).port    modules=urllib.parse
            Start Downtime Probe    ${server}    address=127.0.0.1    port=${port}
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            ${downtime} =    Stop Downtime Probe    ${server}
            Should Be True    ${downtime} < 5
        ```
        """
        from ..probe import DowntimeProbe

        method = ProbeMethod(method) if not isinstance(method, ProbeMethod) else method
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise InvalidArgument("port", port, "a TCP port, 1-65535")
        step = seconds(interval)
        if step <= 0:
            raise InvalidArgument("interval", interval, "a time greater than zero, e.g. 200ms")
        sid = self._ctx.server_id(server)
        if sid in self._ctx.tracker.downtime_probes:
            raise InvalidArgument("server", server, "a server without a running probe")
        if address is None:
            addresses = self._ctx.admin.server_addresses(sid)
            if not addresses:
                raise NotConfigured(
                    f"Server {server} has no IP address to probe (created with networks "
                    f"'none'?); give address=... or create it on a network."
                )
            address = addresses[0]
        probe = DowntimeProbe(address, method, port, step)
        if not probe.reachable():
            target = f"{address} port {port} (TCP)" if method is ProbeMethod.TCP else address
            raise NotConfigured(
                f"Downtime probe: {target} does not answer from this host before the move, "
                f"so no downtime could be measured; check security groups, the route to the "
                f"server's network, or choose another address, port or method."
            )
        probe.start()
        self._ctx.tracker.downtime_probes[sid] = probe
        logger.info(f"Downtime probe of server {server} started: {method.value} to {address}.")

    def _probe_results(self) -> dict:
        """Server id -> the result of its last stopped probe."""
        return self.__dict__.setdefault("_downtime_probe_results", {})

    def _stop_probe(self, sid: str, server) -> dict:
        probe = self._ctx.tracker.downtime_probes.pop(sid)
        result = probe.stop().as_dict()
        self._probe_results()[sid] = result
        record = self._ctx.evidence.current(sid)
        if record is not None:
            record.extra["downtime_probe"] = result
        logger.info(
            f"Downtime probe of server {server}: {result['checks']} checks, "
            f"{result['failed_checks']} failed, longest gap {result['downtime_seconds']} s."
        )
        return result

    @keyword(tags=["migrations", "dynamics"])
    def stop_downtime_probe(self, server: Server | str) -> float:
        """Stops the server's downtime probe and returns the longest gap in seconds.

        Args:
            server: The server.

        Returns:
            The downtime (longest run of failed checks) in seconds.

        Example:

        ```robotframework
        *** Test Cases ***
        Measured
            ${url} =    Get Cloud Endpoint    compute
            ${port} =    Evaluate    urllib.parse.urlparse($url).port    modules=urllib.parse
            Start Downtime Probe    ${server}    address=127.0.0.1    port=${port}
            ${downtime} =    Stop Downtime Probe    ${server}
            Should Be Equal As Numbers    ${downtime}    0
        ```
        """
        sid = self._ctx.server_id(server)
        if sid not in self._ctx.tracker.downtime_probes:
            raise InvalidArgument("server", server, "a server with a running downtime probe")
        return self._stop_probe(sid, server)["downtime_seconds"]


# -- cleanup (listener and Delete Created Resources) -------------------------------------------


def restore_test_libvirt_options(ctx) -> None:
    """At the end of a test: the [libvirt] options it set go back to what they were."""
    tracker = ctx.tracker
    if tracker.fake_libvirt_test is None or ctx.fake is None:
        return
    try:
        ctx.fake.control.set_libvirt_options(**tracker.fake_libvirt_test)
    except Exception as error:  # never change the test's outcome
        logger.warn(f"Restoring the fake's [libvirt] options failed: {error}")
    tracker.fake_libvirt_test = None


def cleanup_dynamics(ctx) -> list[str]:
    """Stops downtime probes; on the fake, guests back to idle, links and options restored."""
    tracker = ctx.tracker
    problems: list[str] = []
    for sid, probe in list(tracker.downtime_probes.items()):
        probe.stop()
        del tracker.downtime_probes[sid]
    if ctx.fake is None:
        return problems
    control = ctx.fake.control
    for sid in list(tracker.fake_workloads):
        try:
            control.set_workload(sid)
        except ValueError:
            pass  # the server is gone, and its workload with it
        tracker.fake_workloads.remove(sid)
    restore_test_libvirt_options(ctx)
    if tracker.fake_libvirt is not None:
        control.set_libvirt_options(**tracker.fake_libvirt)
        tracker.fake_libvirt = None
    if tracker.fake_links is not None:
        links = tracker.fake_links
        current = control.links()
        for link in current["links"]:
            control.set_link_bandwidth(None, link["source"], link["destination"])
        for link in links["links"]:
            control.set_link_bandwidth(link["bandwidth_mib"], link["source"], link["destination"])
        control.set_link_bandwidth(links["default_mib"])
        tracker.fake_links = None
    return problems
