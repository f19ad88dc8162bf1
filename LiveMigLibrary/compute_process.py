"""Stopping and starting a real cloud's nova-compute processes with a configured command.

Nova's API cannot stop a compute (forcing its service down is only a flag), but evacuation
is about a compute that died, and only a restarted compute cleans up after it
(``init_host`` -> ``_destroy_evacuated_instances``). How a deployment stops and starts its
computes is its own: ``systemctl`` over ssh, a container runtime, a fencing agent, a test
harness. The library's ``compute_process_command`` import argument holds that command as a
template with ``{action}`` (``stop`` or ``start``) and ``{host}``, e.g.::

    ssh -o BatchMode=yes {host} sudo systemctl {action} devstack@n-cpu

It is split like a POSIX shell line (``shlex``) into an argument list when the library is
imported, and each run fills the placeholders into those arguments and executes them
directly, not through a shell, so a host name can never become shell syntax. (A command
that needs a shell says so itself: ``sh -c '...'``.) A run has a timeout, after which the
command's whole process group is killed; its exit status, duration and output go to the
log. Given as a ``Secret``, neither the command line nor its output is logged.
"""

from __future__ import annotations

import os
import shlex
import signal
import string
import subprocess
import time
from dataclasses import dataclass

from .errors import InvalidArgument, LiveMigError, NotConfigured

ARGUMENT = "compute_process_command"
ACTIONS = ("stop", "start")
PLACEHOLDERS = ("action", "host")
OUTPUT_LOGGED = 4000  # characters of stdout/stderr kept in the log (the end of each)


class ComputeProcessCommandFailed(LiveMigError):
    """The configured command exited with an error or did not finish in time."""


def not_configured(keyword: str, cloud: str | None) -> NotConfigured:
    return NotConfigured(
        f"'{keyword}' needs a way to stop and start nova-compute on cloud '{cloud}': import "
        f"LiveMigLibrary with {ARGUMENT}=<command with {{action}} and {{host}}>, e.g. "
        f"{ARGUMENT}=ssh {{host}} sudo systemctl {{action}} devstack@n-cpu "
        "(the embedded fake cloud needs none)."
    )


@dataclass(frozen=True)
class ComputeProcessCommand:
    """A parsed ``compute_process_command`` template."""

    argv: tuple[str, ...]
    secret: bool = False

    @classmethod
    def parse(cls, template: str, secret: bool = False) -> ComputeProcessCommand:
        """Splits and checks the template; raises `InvalidArgument` naming what is wrong."""
        shown = "<secret>" if secret else template
        allowed = (
            "a command line with {action} (stop or start) and {host}, e.g. "
            "ssh {host} sudo systemctl {action} devstack@n-cpu"
        )
        try:
            argv = tuple(shlex.split(template))
        except ValueError as error:  # an unclosed quote
            raise InvalidArgument(ARGUMENT, shown, f"{allowed} ({error})") from None
        if not argv:
            raise InvalidArgument(ARGUMENT, shown, allowed)
        found: set[str] = set()
        for part in argv:
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(part) if f is not None]
            except ValueError as error:  # a lone { or }
                raise InvalidArgument(
                    ARGUMENT, shown, f"{allowed}; write a literal brace as {{{{ or }}}} ({error})"
                ) from None
            unknown = [f for f in fields if f not in PLACEHOLDERS]
            if unknown:
                raise InvalidArgument(
                    ARGUMENT,
                    shown,
                    f"{allowed}; {{{unknown[0]}}} is not a placeholder (only {{action}} and "
                    "{host} are)",
                )
            found.update(fields)
        missing = [p for p in PLACEHOLDERS if p not in found]
        if missing:
            raise InvalidArgument(ARGUMENT, shown, f"{allowed}; {{{missing[0]}}} is missing")
        return cls(argv, secret)

    def render(self, action: str, host: str) -> list[str]:
        if action not in ACTIONS:
            raise InvalidArgument("action", action, " or ".join(ACTIONS))
        return [part.format(action=action, host=host) for part in self.argv]

    def describe(self, action: str, host: str) -> str:
        if self.secret:
            return f"the {ARGUMENT} (a Secret, not shown) with action {action} for host {host}"
        return shlex.join(self.render(action, host))

    def run(self, action: str, host: str, timeout: float) -> RunResult:
        """Runs the command for ``action`` on ``host``; fails on a non-zero exit or timeout."""
        argv = self.render(action, host)
        started = time.monotonic()
        try:
            proc = subprocess.Popen(  # noqa: S603 - argv from the user's own template, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,  # its own process group: a timeout kills all of it
            )
        except OSError as error:
            raise ComputeProcessCommandFailed(
                f"Could not {action} nova-compute on {host}: running "
                f"{self.describe(action, host)} failed: {error.strerror or error}. Check the "
                f"{ARGUMENT} import argument (the program must exist on this machine)."
            ) from None
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            stdout, stderr = proc.communicate()
            result = RunResult(argv, None, stdout, stderr, time.monotonic() - started)
            raise ComputeProcessCommandFailed(
                f"Could not {action} nova-compute on {host}: {self.describe(action, host)} "
                f"did not finish within {timeout:g} seconds and was killed."
                + result.output_text(self.secret)
            ) from None
        except BaseException:  # a Robot timeout or a stopped run: leave nothing running
            _kill_group(proc)
            proc.communicate()
            raise
        result = RunResult(argv, proc.returncode, stdout, stderr, time.monotonic() - started)
        if proc.returncode != 0:
            raise ComputeProcessCommandFailed(
                f"Could not {action} nova-compute on {host}: {self.describe(action, host)} "
                f"exited with status {proc.returncode}." + result.output_text(self.secret)
            )
        return result


@dataclass(frozen=True)
class RunResult:
    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float

    def output_text(self, secret: bool) -> str:
        if secret:
            return " Its output is not shown: the command is a Secret."
        parts = []
        for name, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            text = (text or "").strip()
            if text:
                cut = "..." if len(text) > OUTPUT_LOGGED else ""
                parts.append(f"\n{name}:\n{cut}{text[-OUTPUT_LOGGED:]}")
        return "".join(parts) if parts else " It printed nothing."


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
