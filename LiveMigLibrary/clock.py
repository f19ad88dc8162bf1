"""The seams to the embedded fake cloud: its clock, and the faults it reports as fired.

Against a real cloud waits sleep. Against the embedded fake cloud the library owns the
fake's clock, so a wait advances virtual time instead of sleeping: the same polling code,
no real delay. The fake also records every fault rule that fires; `FiredFaultLog` logs
each firing once, when the library next hears from the fake (after every HTTP answer and
after every advance of its clock). These are the only places where the library knows about
the fake's internals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from robot.api import logger


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall-clock time; ``sleep`` really sleeps."""

    label = "(wall clock)"

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeCloudClock:
    """Virtual time of an embedded fake cloud with a manual clock; ``sleep`` advances it."""

    label = "(virtual clock)"

    def __init__(self, control, after_advance: Callable[[], None] | None = None, readings=None):
        self._control = control
        self._after_advance = after_advance
        # noted (virtual, wall) pairs around each advance, so the evidence can tell the
        # wall time of a virtual instant (`evidence.timeline.ClockMap`)
        self._readings = readings

    def now(self) -> float:
        return float(self._control.now())

    def sleep(self, seconds: float) -> None:
        if self._readings is not None:
            self._readings.note(self._control.now(), time.time())
        after = self._control.advance(seconds)
        if self._readings is not None:
            self._readings.note(float(after), time.time())
        if self._after_advance is not None:
            self._after_advance()


class FiredFaultLog:
    """Logs, at INFO, each fault rule firing the fake has recorded since the last report.

    The fired record names the rule, point, kind, server, host or request (method, path
    and the status answered) and the virtual time.
    """

    def __init__(self, control, log: Callable[[str], None] | None = None):
        self._control = control
        self._seen = 0
        self._log = log or logger.info
        self._lock = threading.Lock()  # each firing is logged once, whoever asks

    def report(self) -> None:
        with self._lock:
            fired = self._control.fired_faults()
            if len(fired) < self._seen:  # the fake's record was cleared (reset, clear_faults)
                self._seen = 0
            for entry in fired[self._seen :]:
                self._log(describe_fired_fault(entry))
            self._seen = len(fired)


def describe_fired_fault(entry: dict) -> str:
    """E.g. `Fault 3 fired: live_migration/hang for server web-1 on host compute1 at t=12.0s`."""
    text = f"Fault {entry.get('rule')} fired: {entry.get('point')}/{entry.get('kind')}"
    if entry.get("status"):
        text += f" {entry['status']}"
    if entry.get("server"):
        text += f" for server {entry['server']}"
    if entry.get("path"):
        method = entry.get("method")
        text += f" for {method.upper() + ' ' if method else ''}{entry['path']}"
    if entry.get("host"):
        text += f" on host {entry['host']}"
    if entry.get("at") is not None:
        text += f" at t={float(entry['at']):.1f}s"
    return text
