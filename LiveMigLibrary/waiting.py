"""Polling with a timeout, a poll interval, and one log line per state change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from robot.api import logger

from .clock import Clock
from .errors import WaitTimeout

T = TypeVar("T")


def seconds(value: timedelta | float | int) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def describe_seconds(value: float) -> str:
    return f"{value:g} seconds" if value != 1 else "1 second"


@dataclass
class Waiter(Generic[T]):
    """Poll ``observe`` until ``done`` says so.

    ``observe`` returns the current observation (or None when the subject does not exist yet),
    ``describe`` turns it into the short text logged when it changes, ``check`` may raise to stop
    early (fail fast) and ``done`` ends the wait successfully.

    Robot Framework's own test and keyword timeouts interrupt the wait: nothing here catches
    them.
    """

    clock: Clock
    subject: str
    goal: str
    timeout: float
    interval: float

    def wait(
        self,
        observe: Callable[[], T | None],
        done: Callable[[T | None], bool],
        describe: Callable[[T | None], str],
        check: Callable[[T | None], None] | None = None,
    ) -> T | None:
        start = self.clock.now()
        deadline = start + self.timeout
        last_text: str | None = None
        while True:
            observed = observe()
            text = describe(observed)
            if text != last_text:
                elapsed = self.clock.now() - start
                logger.info(f"{self.subject}: {text} after {elapsed:.1f}s")
                last_text = text
            if check is not None:
                check(observed)
            if done(observed):
                return observed
            now = self.clock.now()
            if now >= deadline:
                raise WaitTimeout(
                    f"{self.subject} is {text}, expected {self.goal} "
                    f"within {describe_seconds(self.timeout)}."
                )
            self.clock.sleep(min(self.interval, max(deadline - now, 0.0)) or self.interval)
