"""Stopping and starting nova-compute processes: the embedded fake's, or a real cloud's
through the `compute_process_command` import argument (see `compute_process.py`)."""

from __future__ import annotations

from datetime import timedelta

from robot.api import SkipExecution, logger
from robot.api.deco import keyword

from ..compute_process import ARGUMENT, not_configured
from ..errors import InvalidArgument
from ..waiting import seconds
from .base import KeywordGroup


class ComputeProcessKeywords(KeywordGroup):
    def _process_timeout(self, timeout: timedelta | None) -> float:
        value = self._ctx.timeout(timeout)
        if value <= 0:
            raise InvalidArgument("timeout", timeout, "a time greater than zero, e.g. 2 min")
        return value

    def _fake_host(self, host: str, keyword_name: str):
        if not host or not str(host).strip():
            raise InvalidArgument("host", host, "the name of a compute host")
        control = self._ctx.fake_control(keyword_name)
        hosts = {h["name"]: h for h in control.hosts()}
        if host not in hosts:
            raise InvalidArgument("host", host, "a host of the fake cloud: " + ", ".join(hosts))
        return control, hosts[host]

    def _process_command(self, keyword_name: str):
        """The configured command; fails saying what to configure before the cloud is asked."""
        command = self._ctx.settings.compute_process_command
        if command is None:
            raise not_configured(keyword_name, self._ctx.settings.cloud)
        return command

    def _run_process_command(self, keyword_name: str, action: str, host: str, timeout: float):
        """Runs `compute_process_command` for a host of the real cloud, logging the run."""
        command = self._process_command(keyword_name)
        self._service_of(host)  # a compute host of this cloud, before anything runs
        logger.info(f"Running {command.describe(action, host)} (timeout {timeout:g} s).")
        result = command.run(action, host, timeout)
        logger.info(
            f"It exited with status 0 after {result.seconds:.1f} s."
            + ("" if command.secret else result.output_text(False))
        )

    @keyword(tags=["hosts", "compute-process"])
    def require_compute_process_control(self) -> None:
        """Skips the current test unless this library can stop and start nova-compute.

        The embedded fake cloud always can. A real cloud can when the library was imported
        with `compute_process_command` (see [Stop Compute Service Process]); without it
        the test is skipped, not failed, with a message that names the import argument:
        the scenario cannot be told on such a cloud, as with too few hosts.

        Example:

        ```robotframework
        *** Test Cases ***
        Evacuate After The Compute Dies
            Require Compute Process Control
            ${source}    ${spare} =    Reserve Compute Hosts    2
            Stop Compute Service Process    ${source}
        ```
        """
        if self._ctx.uses_fake or self._ctx.settings.compute_process_command is not None:
            return
        raise SkipExecution(
            f"Stopping and starting nova-compute on cloud '{self._ctx.settings.cloud}' needs "
            f"the {ARGUMENT} import argument (a command with {{action}} and {{host}}), which "
            "is not set."
        )

    @keyword(tags=["hosts", "compute-process"])
    def stop_compute_service_process(self, host: str, timeout: timedelta | None = None) -> None:
        """Stops the `nova-compute` process of `host`, as when the host dies.

        Unlike [Force Compute Service Down] (an operator's flag in Nova's API), this is the
        process dying: the host stops heartbeating and its service shows `down` only after
        Nova's `service_down_time` (60 s); until then Nova still sends it work. The process
        is started again when the host's reservation ends ([Reserve Compute Hosts]) or the
        suite ends, which runs nova-compute's start-up clean-up. A host another test
        reserved is refused.

        - **Embedded fake cloud**: the fake kills the process. Work that falls due on the
          host (a build finishing, a migration it runs as source moving on) waits; a
          migration to it as destination fails.
        - **Real cloud**: runs the library's `compute_process_command` with `{action}` =
          `stop`, e.g. `ssh {host} sudo systemctl {action} devstack@n-cpu`. Without that
          import argument it fails saying so ([Require Compute Process Control] skips a
          test instead). The command runs without a shell, in its own process group,
          killed after `timeout`; a non-zero exit fails the keyword. The command line, exit
          status and output are logged (neither command nor output when the argument is a
          `Secret`).

        Args:
            host: Compute host name.
            timeout: How long the command may run (real cloud). Default: the library's
                `timeout`.

        Example:

        ```robotframework
        *** Test Cases ***
        Source Dies
            Stop Compute Service Process    ${source}
            Advance Fake Cloud Clock    2 min
            Compute Service Should Be    ${source}    state=down
        ```
        """
        if self._ctx.uses_fake:
            control, info = self._fake_host(host, "Stop Compute Service Process")
            self._check_host_is_ours(host, "stop the compute of")
            if not info["alive"]:
                logger.info(f"The nova-compute process of {host} is already stopped.")
                return
            control.set_host_alive(host, False)
        else:
            self._process_command("Stop Compute Service Process")
            limit = self._process_timeout(timeout)
            self._check_host_is_ours(host, "stop the compute of")
            self._run_process_command("Stop Compute Service Process", "stop", host, limit)
        if host not in self._ctx.tracker.stopped_computes:
            self._ctx.tracker.stopped_computes.append(host)
        logger.info(f"Stopped the nova-compute process of {host}.")

    @keyword(tags=["hosts", "compute-process"])
    def start_compute_service_process(self, host: str, timeout: timedelta | None = None) -> None:
        """Starts the `nova-compute` process of `host` again.

        As Nova's `init_host` does at start-up: evacuations from the host that are
        `done` become `completed` and the host's share of the evacuated servers'
        allocations goes; builds the restart interrupted go to `ERROR`; live migrations
        the host was running as source end `error` and are rolled back to it. A forced-down
        service stays down until [Force Compute Service Up].

        - **Embedded fake cloud**: the start-up clean-up is done when the keyword returns
          and the service is `up` at once (unless forced down).
        - **Real cloud**: runs `compute_process_command` with `{action}` = `start` (see
          [Stop Compute Service Process]). Whether the clean-up is done when the command
          returns depends on the command; wait for its results (e.g. [Wait Until Migration
          Of Server Is] `completed`). Run it also for a process you believe running: the
          command must accept that (as `systemctl start` does).

        Args:
            host: Compute host name.
            timeout: How long the command may run (real cloud). Default: the library's
                `timeout`.

        Example:

        ```robotframework
        *** Test Cases ***
        Source Comes Back
            Stop Compute Service Process    ${source}
            Start Compute Service Process    ${source}
            Compute Service Should Be    ${source}    state=up
        ```
        """
        if self._ctx.uses_fake:
            control, info = self._fake_host(host, "Start Compute Service Process")
            if info["alive"]:
                logger.info(f"The nova-compute process of {host} is already running.")
            else:
                control.set_host_alive(host, True)
                logger.info(f"Started the nova-compute process of {host}.")
        else:
            limit = self._process_timeout(timeout)
            self._run_process_command("Start Compute Service Process", "start", host, limit)
            logger.info(f"Started the nova-compute process of {host}.")
        if host in self._ctx.tracker.stopped_computes:
            self._ctx.tracker.stopped_computes.remove(host)
        self._ctx.report_fired_faults()

    def _restart_stopped_compute(self, host: str) -> None:
        """Starts a compute this library stopped, for the clean-up (fake or real cloud)."""
        ctx = self._ctx
        if ctx.fake is not None:
            ctx.fake.control.set_host_alive(host, True)
        else:
            self._run_process_command("clean-up", "start", host, seconds(ctx.settings.timeout))
        logger.info(f"Started the nova-compute process of {host} again.")
        if host in ctx.tracker.stopped_computes:
            ctx.tracker.stopped_computes.remove(host)
