"""The clock seam used by every wait.

Against a real cloud waits sleep. Against the embedded fake cloud the library owns the
fake's clock, so a wait advances virtual time instead of sleeping: the same polling code,
no real delay. This is the only place where the library knows about the fake.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall-clock time; ``sleep`` really sleeps."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeCloudClock:
    """Virtual time of an embedded fake cloud with a manual clock; ``sleep`` advances it."""

    def __init__(self, control):
        self._control = control

    def now(self) -> float:
        return float(self._control.now())

    def sleep(self, seconds: float) -> None:
        self._control.advance(seconds)
