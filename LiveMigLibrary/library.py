"""The LiveMigLibrary class: import arguments, keyword classes, listener."""

from __future__ import annotations

from datetime import timedelta

from robot.api import logger
from robot.api.deco import library
from robot.api.types import Secret

from .context import LibraryContext, Settings, env_cloud
from .enums import FakeClockMode
from .errors import InvalidArgument
from .importing import (
    check_cloud_names,
    fail_suite_setup,
    import_failed,
    reject_unknown_arguments,
    report_import_errors,
)
from .keywords import (
    BatchKeywords,
    ComputeProcessKeywords,
    ConnectionKeywords,
    DrainKeywords,
    EvidenceKeywords,
    FakeCloudKeywords,
    HostKeywords,
    HostPoolKeywords,
    LoadKeywords,
    MigrationDynamicsKeywords,
    MigrationKeywords,
    MoveKeywords,
    PlacementKeywords,
    ServerKeywords,
)
from .keywords.dynamics import restore_test_libvirt_options

__version__ = "0.1.0"


@library(scope="SUITE", version=__version__, doc_format="MARKDOWN", auto_keywords=False)
class LiveMigLibrary(
    ConnectionKeywords,
    ServerKeywords,
    MigrationKeywords,
    MigrationDynamicsKeywords,
    MoveKeywords,
    HostKeywords,
    ComputeProcessKeywords,
    PlacementKeywords,
    FakeCloudKeywords,
    DrainKeywords,
    LoadKeywords,
    BatchKeywords,
    HostPoolKeywords,
    EvidenceKeywords,
):
    """Keywords for acceptance-testing OpenStack live migration.

    LiveMigLibrary creates servers, live-migrates them, follows the migration records,
    controls migrations (abort, force-complete) and checks the outcome the way Nova's own
    functional tests do: the migration record, the server's host and status, and the
    Placement allocations of the server and of the migration.

    ## Which cloud

    - `Library    LiveMigLibrary` starts an **embedded fake cloud** (Keystone, Nova,
      Placement, a little Glance over real HTTP on 127.0.0.1) with two compute hosts and
      connects to it as admin. Waits advance its virtual clock instead of sleeping.
    - `Library    LiveMigLibrary    cloud=NAME` (or the `OS_CLOUD` environment variable)
      connects to a real cloud from `clouds.yaml` and never starts a fake.

    The connection is opened by the first keyword that needs it. Every call goes through
    openstacksdk; no keyword has a separate code path for the fake.

    ## Names and cleanup

    Every server name starts with a run-unique prefix ([Get Run Prefix]), so parallel runs
    (pabot) never collide. Everything the library creates or changes is recorded and undone
    when the suite ends, also after failures, and by [Delete Created Resources]. Nothing else
    is touched.

    ## Waiting

    Wait keywords take `timeout` and `poll_interval` (Robot time strings such as `2 min` or
    `5s`); the defaults come from the import arguments. They log one line per change of
    state, not one per poll, fail fast when the goal can no longer be reached (server in
    `ERROR`, migration `error`/`failed`/`cancelled`), and Robot's test timeouts interrupt
    them.

    ## Failures

    Wrong arguments fail before the cloud is asked, naming the argument, the value and what
    is allowed. Assertions fail with a sentence: subject, observed, expected.

    A wrong import argument (a misspelled name, a value out of range, a cloud that no
    `clouds.yaml` defines) fails the importing suite's setup once, with the valid names
    and the closest one, or the `clouds.yaml` read and the clouds it defines. A server may
    be named without this run's prefix (`web` for `livemig-1a2b3c4d-web`). A name that
    several images, flavors or servers share fails listing their ids. A misspelled
    choice (a status, flavor, image, host, server of this run) is answered with the
    closest one when one is clearly closest (`complete`: "Did you mean 'completed'?").

    A call the cloud refuses fails with what was asked, the cloud's answer in its own
    words, and what to do (for a refused move: the keyword that expects the refusal).
    When a move (live migration, cold migration, resize, evacuation) is refused or ends
    `error`/`failed`, the message adds what an operator would look up next, labelled
    "Read from the cloud afterwards": the destination's nova-compute service (disabled
    and why, forced down, down since), its free Placement capacity against the flavor, a
    destination that is the source, the server's state and fault, and the failed
    instance action events with details. When the cloud's API holds no reason (a failed
    live-migration copy is only in Nova's logs), the message says so and which services'
    logs to search.

    ## Flaky clouds

    A read (GET) that the cloud answers with 500, 502, 503 or 504, or that cannot connect,
    is retried up to 3 times after 0.5, 1 and 2 seconds (virtual seconds on the embedded
    fake), each retry logged at INFO with the status. Nothing else is retried: a POST, PUT
    or DELETE may have taken effect although it failed, so the keyword fails with the call,
    the status and the cloud's message. openstacksdk's own `connect_retries` and
    `status_code_retries` are turned off so retries never multiply.

    ## Faults (embedded fake cloud)

    [Inject Fake Cloud Fault] makes the fake fail where a data centre does (builds,
    conductor pre-checks, the destination's preparation, the copy, API answers), and
    [Stop Compute Service Process] kills a host's nova-compute (on a real cloud it runs the
    `compute_process_command` import argument, see below). Each firing of a fault is
    logged at INFO as it happens, e.g. `Fault 3 fired: live_migration/hang for server
    livemig-1a2b3c4d-web on host compute1 at t=12.0s`. Fault rules and stopped processes
    are undone when the suite ends. Tests using them carry the tag `fake-only`.

    ## Compute processes (evacuation on a real cloud)

    Evacuation needs a dead compute, and only its restart cleans up (Nova's `init_host`).
    On a real cloud [Stop Compute Service Process] and [Start Compute Service Process]
    run the deployment's own command, the import argument `compute_process_command`:
    a command line with `{action}` (`stop`/`start`) and `{host}`, split into arguments
    (no shell), run with a timeout, its exit status and output logged (not when given as
    a `Secret`). Tests that need it call [Require Compute Process Control], which skips
    them when it is not set, and reserve the hosts they kill ([Reserve Compute Hosts]).

    ```robotframework
    *** Settings ***
    Library    LiveMigLibrary    cloud=devstack-admin
    ...    compute_process_command=ssh {host} sudo systemctl {action} devstack@n-cpu
    ```

    ## Examples

    Every keyword's example runs in the library's tests against the embedded fake cloud
    with 3 compute hosts, in a test that has created `${server}` (ACTIVE), with `${source}`
    its host and `${target}` another usable host; Collections and RequestsLibrary are
    imported. A whole suite:

    ```robotframework
    *** Settings ***
    Library    LiveMigLibrary

    *** Test Cases ***
    Live Migrate One Of Two Servers
        @{servers} =    Create Servers    count=2
        Wait Until Servers Are Active    @{servers}
        ${source} =    Get Server Host    ${servers}[0]
        ${target} =    Get Other Compute Host    ${servers}[0]
        Live Migrate Server    ${servers}[0]    host=${target}
        Wait Until Migration Of Server Is    ${servers}[0]    completed
        Server Should Be On Host    ${servers}[0]    ${target}
        Allocations Of Consumer Should Be On Host    ${servers}[0]    ${target}
    ```
    """

    ROBOT_LISTENER_API_VERSION = 3

    @report_import_errors
    def __init__(
        self,
        *positional: str,
        cloud: str | None = None,
        member_cloud: str | None = None,
        password: Secret | None = None,
        timeout: timedelta = timedelta(minutes=5),
        migration_timeout: timedelta = timedelta(minutes=10),
        poll_interval: timedelta = timedelta(seconds=2),
        computes: int = 2,
        fake_clock: FakeClockMode = FakeClockMode.MANUAL,
        fake_speed: float = 10.0,
        fake_bugs: str = "",
        fake_nova_options: dict[str, str] | None = None,
        image: str | None = None,
        flavor: str | None = None,
        network: str = "none",
        name_prefix: str = "livemig",
        api_timeout: timedelta | None = None,
        compute_process_command: Secret | str | None = None,
        **unknown: str,
    ):
        """Configures the library; nothing is contacted until a keyword needs the cloud.

        Args:
            cloud: `clouds.yaml` entry of a real cloud (admin user). Empty: the `OS_CLOUD`
                environment variable, and when that is unset too, the embedded fake cloud.
            member_cloud: `clouds.yaml` entry of a member (non-admin) user of the same cloud,
                for [Use Member User]. Not needed with the fake.
            password: Password overriding the one of `cloud` in `clouds.yaml`, as a `Secret`.
            timeout: Default timeout of server waits.
            migration_timeout: Default timeout of migration waits.
            poll_interval: Default time between polls.
            computes: Number of compute hosts of the embedded fake cloud.
            fake_clock: Clock of the embedded fake: `manual` (default), `scaled` or `real`.
            fake_speed: Virtual seconds per real second with the `scaled` fake clock.
            fake_bugs: Historical Nova bugs the embedded fake cloud should emulate,
                comma-separated (e.g. `1718455,1848343`); empty for a fixed Nova. Used to
                prove that suites catch them (`livemig-bug-zoo`).
            fake_nova_options: `[DEFAULT]` options of the embedded fake's `nova.conf`, as
                a dictionary, e.g. `{'reserved_host_memory_mb': 0, 'cpu_allocation_ratio':
                16.0}`. Empty: Nova's defaults, as a real deployment has them (512 MB of
                memory reserved per host, VCPU allocation ratio 4.0, ...). Options:
                `reserved_host_memory_mb`, `reserved_host_disk_mb`, `reserved_host_cpus`,
                `cpu_allocation_ratio`, `ram_allocation_ratio`, `disk_allocation_ratio`,
                `initial_cpu_allocation_ratio`, `initial_ram_allocation_ratio`,
                `initial_disk_allocation_ratio`, `allow_resize_to_same_host`,
                `resize_confirm_window`.
            image: Default image name or id (fake default: `cirros-0.6.2-x86_64-disk`).
            flavor: Default flavor name or id (fake default: `m1.tiny`).
            network: Networks of created servers: `none` (default), `auto`, or a network
                name or id.
            name_prefix: Start of the run-unique name prefix.
            api_timeout: How long one HTTP call to the cloud may take to connect and to
                answer. Empty: the cloud's `api_timeout` in `clouds.yaml`, else 60 seconds.
                A wait's `timeout` also bounds the calls it makes, so a cloud that stops
                answering fails the wait in time with `the cloud did not answer`, naming
                the call.
            compute_process_command: How to stop and start a real cloud's nova-compute on
                one host, for [Stop Compute Service Process] and [Start Compute Service
                Process] (evacuation after a compute dies): a command line with `{action}`
                (`stop` or `start`) and `{host}`, e.g. `ssh {host} sudo systemctl {action}
                devstack@n-cpu`. Run without a shell, with a timeout; give it as a `Secret`
                to keep the command and its output out of the log. Empty: tests that need
                it skip ([Require Compute Process Control]). Not for the embedded fake,
                which stops its computes itself.
            positional: Not accepted: every import argument is named (`name=value`).
            unknown: Not accepted: a name that is not one of the above fails the importing
                suite's setup, naming the closest valid argument (`computs` -> `computes`).

        Example:

        ```robotframework
        *** Settings ***
        Library    LiveMigLibrary    cloud=devstack-admin    member_cloud=devstack
        ...    image=cirros    flavor=m1.nano    migration_timeout=15 min
        ```
        """
        reject_unknown_arguments(LiveMigLibrary.__init__, positional, unknown)
        cloud = (cloud or "").strip() or env_cloud()
        if not isinstance(computes, int) or computes < 1:
            raise InvalidArgument("computes", computes, "a whole number of at least 1")
        if fake_speed <= 0:
            raise InvalidArgument("fake_speed", fake_speed, "a number greater than 0")
        for name, value in (
            ("timeout", timeout),
            ("migration_timeout", migration_timeout),
            ("poll_interval", poll_interval),
            ("api_timeout", timedelta(seconds=1) if api_timeout is None else api_timeout),
        ):
            if value.total_seconds() <= 0:
                raise InvalidArgument(name, value, "a time greater than zero, e.g. 30s")
        bugs = tuple(b for b in (fake_bugs or "").replace(",", " ").split() if b)
        if bugs:
            from .fake.bugs import KNOWN_BUGS

            unknown = [b for b in bugs if b not in KNOWN_BUGS]
            if unknown:
                raise InvalidArgument(
                    "fake_bugs",
                    ", ".join(unknown),
                    "bugs the fake emulates: " + ", ".join(KNOWN_BUGS),
                )
            if cloud:
                raise InvalidArgument(
                    "fake_bugs", fake_bugs, "empty when a real cloud is used (cloud=" + cloud + ")"
                )
        nova_options = dict(fake_nova_options or {})
        if nova_options:
            if cloud:
                raise InvalidArgument(
                    "fake_nova_options",
                    fake_nova_options,
                    "empty when a real cloud is used (cloud=" + cloud + ")",
                )
            from .fake.config import NovaOptions

            try:
                NovaOptions().update(**nova_options)
            except ValueError as error:
                raise InvalidArgument("fake_nova_options", fake_nova_options, str(error)) from None
        if not name_prefix or not name_prefix.strip():
            raise InvalidArgument("name_prefix", name_prefix, "a non-empty text")
        if not network or not network.strip():
            raise InvalidArgument("network", network, "none, auto or a network name or id")
        process_command = _compute_process_command(compute_process_command, cloud)
        check_cloud_names(cloud=cloud, member_cloud=(member_cloud or "").strip())
        settings = Settings(
            cloud=cloud,
            member_cloud=(member_cloud or "").strip() or None,
            password=password,
            timeout=timeout,
            migration_timeout=migration_timeout,
            poll_interval=poll_interval,
            computes=computes,
            fake_clock=fake_clock,
            fake_speed=fake_speed,
            fake_bugs=bugs,
            fake_nova_options=nova_options,
            image=(image or "").strip() or None,
            flavor=(flavor or "").strip() or None,
            network=network.strip(),
            name_prefix=name_prefix.strip(),
            api_timeout=api_timeout,
            compute_process_command=process_command,
        )
        self._ctx = LibraryContext(settings)
        self.ROBOT_LIBRARY_LISTENER = self

    # -- listener: evidence and cleanup (not keywords: auto_keywords is off) -----------------

    def start_test(self, data, result) -> None:
        if import_failed(self):
            return
        self._ctx.evidence.test_started(result.parent.full_name, result.name)
        run = self._ctx.evidence.run
        if run.output_dir is None:
            run.output_dir, run.pabot_index = _output_location()

    def end_test(self, data, result) -> None:
        if import_failed(self):
            return
        restore_test_libvirt_options(self._ctx)
        try:
            self._ctx.evidence.test_ended(result.status)
        except Exception as error:  # evidence must never change a test's outcome
            logger.warn(f"LiveMigLibrary could not complete the migration records: {error}")
        self._release_hosts_of(self._ctx.host_owner(result.parent.full_name, result.name))

    def _release_hosts_of(self, owner: str) -> None:
        try:
            self._release_hosts(owner)
        except Exception as error:  # releasing must never change a test's outcome
            logger.warn(f"LiveMigLibrary could not release the reserved hosts: {error}")

    def start_suite(self, data, result) -> None:
        fail_suite_setup(self, data, result)  # wrong import arguments: the suite fails once

    def end_suite(self, data, result) -> None:
        if import_failed(self):
            return
        try:
            with self._ctx.quiet_pass():  # a silent cloud is asked once, not once a fact
                self._set_metadata(result)
        except Exception as error:  # metadata must never hide the suite's own result
            logger.warn(f"LiveMigLibrary could not set the suite metadata: {error}")
        self._release_hosts_of(self._ctx.host_owner(result.full_name, None))
        try:
            problems = self._cleanup()
        except Exception as error:  # cleanup must never hide the suite's own result
            logger.warn(f"LiveMigLibrary cleanup failed: {error}")
            return
        if problems:
            logger.warn("LiveMigLibrary cleanup was incomplete.")

    def _set_metadata(self, result) -> None:
        """What was tested, on the top suite (report.html's summary), and on this suite where
        it differs from the top suite's."""
        from .evidence.metadata import MIGRATIONS_LINK, cloud_metadata

        meta = cloud_metadata(self._ctx)
        run = self._ctx.evidence.run
        run.metadata.update(meta)
        top = result
        while top.parent is not None:
            top = top.parent
        for name, value in meta.items():
            top.metadata.setdefault(name, value)
            if top.metadata[name] != value:  # this suite tested something else: say so here
                result.metadata[name] = value
        top.metadata.setdefault("Migrations", MIGRATIONS_LINK)

    def close(self) -> None:
        """The library goes away: clean up, close, write the evidence; never a traceback
        (Robot has closed its log by now, so problems go to the console's stderr)."""
        if import_failed(self):
            return
        for step, what in (
            (self._cleanup, "clean up"),
            (self._ctx.hosts.release_all, "release the host reservations"),
            (self._ctx.close, "close the cloud connection"),
            (self._write_evidence, "write the migration records"),
        ):
            try:
                step()
            except Exception as error:  # noqa: BLE001 - closing must not fail the run
                _console_warning(f"LiveMigLibrary could not {what} when closing: {error}")

    def _write_evidence(self) -> None:
        run = self._ctx.evidence.run
        if run.output_dir is None:
            run.output_dir, run.pabot_index = _output_location()
        try:
            run.write()
        except Exception as error:
            logger.warn(f"LiveMigLibrary could not write {run.output_dir}/migrations.json: {error}")


def _compute_process_command(value, cloud: str | None):
    """The parsed `compute_process_command`, None when empty; fails naming what is wrong."""
    from .compute_process import ARGUMENT, ComputeProcessCommand

    secret = isinstance(value, Secret)
    text = (value.value if secret else value or "").strip()
    if not text:
        return None
    if not cloud:
        raise InvalidArgument(
            ARGUMENT,
            "<secret>" if secret else text,
            "empty with the embedded fake cloud, which stops and starts its computes itself "
            "(the command is for a real cloud: cloud=...)",
        )
    return ComputeProcessCommand.parse(text, secret=secret)


def _output_location():
    """(`${OUTPUT_DIR}`, pabot's process index or None) of the running Robot Framework."""
    from pathlib import Path

    from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

    try:
        variables = BuiltIn()
        output_dir = variables.get_variable_value("${OUTPUT_DIR}")
        index = variables.get_variable_value("${PABOTQUEUEINDEX}")
    except RobotNotRunningError:
        return None, None
    return (Path(output_dir) if output_dir else None), (str(index) if index is not None else None)


def _console_warning(message: str) -> None:
    import sys

    stream = sys.__stderr__
    if stream is not None:
        try:
            stream.write(f"[ WARN ] {message}\n")
        except (OSError, ValueError):  # stderr closed: nowhere left to say it
            pass
