"""Polling with a timeout, a poll interval, and one log line per state change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from robot.api import logger

from . import deadline
from .clock import Clock, RealClock
from .errors import CloudNotAnswering, UnexpectedState, WaitTimeout

T = TypeVar("T")


def seconds(value: timedelta | float | int) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def describe_seconds(value: float) -> str:
    return f"{value:g} seconds" if value != 1 else "1 second"


def call_budget(clock: Clock, timeout: float) -> float | None:
    """Wall seconds the calls of a wait may take in all: its timeout (plus a moment for the
    last look) on the wall clock; no limit of their own on the fake's virtual clock."""
    return timeout + deadline.WAIT_GRACE if isinstance(clock, RealClock) else None


def bounded(clock: Clock, timeout: float | None):
    """The calls of this thread inside the block (and of the workers it starts) end within
    ``timeout`` wall seconds (plus a moment): `call_budget` for a polling loop that is not
    a `Waiter`."""
    return deadline.within(None if timeout is None else call_budget(clock, timeout))


def unanswered(error: BaseException, timed_out: Callable[[CloudNotAnswering], Exception]):
    """Raises a call that got no answer as the failure of the wait that made it: cut short by
    the wait's own timeout, as ``timed_out(error)``; otherwise as it is. Other errors pass."""
    if isinstance(error, CloudNotAnswering):
        if error.wait_ran_out:
            raise timed_out(error) from error
        raise error


def observing(observe: Callable, timed_out: Callable[[CloudNotAnswering], Exception]):
    """``observe`` whose call cut short by the wait's own timeout fails as the wait's timeout."""

    def run():
        try:
            return observe()
        except CloudNotAnswering as error:
            unanswered(error, timed_out)

    return run


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
        with deadline.within(call_budget(self.clock, self.timeout)):
            return self._wait(observe, done, describe, check)

    def _wait(self, observe, done, describe, check) -> T | None:
        start = self.clock.now()
        deadline = start + self.timeout
        last_text: str | None = None
        observe = observing(
            observe,
            lambda error: WaitTimeout(
                f"{self.subject} is {last_text or 'not seen yet'}, expected {self.goal} "
                f"within {describe_seconds(self.timeout)}, and the cloud stopped answering: "
                f"{error}"
            ),
        )
        while True:
            observed = observe()
            text = describe(observed)
            if text != last_text:
                elapsed = self.clock.now() - start
                clock = getattr(self.clock, "label", "")  # which clock: virtual or wall
                logger.info(f"{self.subject}: {text} after {elapsed:.1f}s {clock}".rstrip())
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


K = TypeVar("K")


@dataclass
class ManyWaiter(Generic[K, T]):
    """One wait over many subjects: one observation of all of them per step.

    ``observe`` returns every subject's observation at once (one list call, not one call
    per subject), so against the embedded fake cloud the virtual clock advances once per
    step. Each subject's change is logged on its own line (``label(subject): text after
    N.Ns``) and kept in ``history`` (elapsed seconds, text) for timelines. ``failure``
    returns why a subject can no longer reach the goal (or None); the wait goes on until
    every subject is done or failed, then raises one failure naming every failed subject.
    """

    clock: Clock
    goal: str
    timeout: float
    interval: float
    label: Callable[[K], str]
    history: dict = None  # subject -> [(elapsed, text)]

    def wait(
        self,
        subjects: list[K],
        observe: Callable[[], dict[K, T | None]],
        done: Callable[[K, T | None], bool],
        describe: Callable[[K, T | None], str],
        failure: Callable[[K, T | None], str | None] | None = None,
    ) -> dict[K, T | None]:
        with deadline.within(call_budget(self.clock, self.timeout)):
            return self._wait(subjects, observe, done, describe, failure)

    def _wait(self, subjects, observe, done, describe, failure) -> dict[K, T | None]:
        self.history = {subject: [] for subject in subjects}
        start = self.clock.now()
        deadline = start + self.timeout
        last: dict[K, str] = {}
        observe = observing(
            observe,
            lambda error: WaitTimeout(
                f"{len(subjects)} did not reach {self.goal} within "
                f"{describe_seconds(self.timeout)}, and the cloud stopped answering: {error}"
            ),
        )
        while True:
            observed = observe()
            elapsed = self.clock.now() - start
            failed: dict[K, str] = {}
            pending: list[K] = []
            for subject in subjects:
                value = observed.get(subject)
                text = describe(subject, value)
                if last.get(subject) != text:
                    logger.info(f"{self.label(subject)}: {text} after {elapsed:.1f}s")
                    self.history[subject].append((elapsed, text))
                    last[subject] = text
                problem = failure(subject, value) if failure is not None else None
                if problem:
                    failed[subject] = problem
                elif not done(subject, value):
                    pending.append(subject)
            if not pending:
                if failed:
                    raise UnexpectedState(
                        f"{len(failed)} of {len(subjects)} did not reach {self.goal}: "
                        + "; ".join(failed.values())
                    )
                return observed
            now = self.clock.now()
            if now >= deadline:
                waiting = ", ".join(f"{self.label(s)} {last[s]}" for s in pending)
                raise WaitTimeout(
                    f"{len(pending)} of {len(subjects)} did not reach {self.goal} within "
                    f"{describe_seconds(self.timeout)}: {waiting}."
                    + (" Failed: " + "; ".join(failed.values()) if failed else "")
                )
            self.clock.sleep(min(self.interval, max(deadline - now, 0.0)) or self.interval)
