"""Many cloud calls in flight inside one keyword, within Robot Framework's threading rules.

Robot Framework writes to its log only from the main thread; what other threads log is
dropped silently. So worker threads here only make blocking cloud calls and return what
they found, together with the log lines they produced (through `log`); the main thread
then logs those lines in the order of the inputs and raises one combined failure.

Parts of the library that log while a request is in flight (`ReadRetries` logs retries)
log through `log`, which writes at once on the main thread and collects on a worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from robot.api import logger

from . import deadline
from .errors import InvalidArgument

T = TypeVar("T")
R = TypeVar("R")

MAX_CONCURRENCY = 100

_local = threading.local()


def on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def log(message: str, level: str = "INFO") -> None:
    """Logs on the main thread; on a worker thread keeps the line for the main thread."""
    lines = getattr(_local, "lines", None)
    if lines is not None:
        lines.append((level, message))
    elif on_main_thread():
        logger.write(message, level)
    # a thread outside `run_all` has nobody to hand its lines to: Robot would drop them too


@dataclass
class Outcome(Generic[T, R]):
    """What one call of a batch did: its input, its result or error, and its log lines."""

    item: T
    value: R | None = None
    error: BaseException | None = None
    lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def _collecting(function: Callable[[T], R], item: T, until: float | None) -> Outcome[T, R]:
    _local.lines = []
    outcome: Outcome[T, R] = Outcome(item)
    try:
        with deadline.until(until):
            outcome.value = function(item)
    except Exception as error:  # handed to the main thread, which decides what fails
        outcome.error = error
    finally:
        outcome.lines = _local.lines
        _local.lines = None
    return outcome


def check_concurrency(concurrency: object, argument: str = "concurrency") -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise InvalidArgument(argument, concurrency, f"a whole number from 1 to {MAX_CONCURRENCY}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidArgument(argument, concurrency, f"a whole number from 1 to {MAX_CONCURRENCY}")
    return concurrency


class Workers:
    """A pool of threads for blocking cloud calls, at most ``concurrency`` in flight.

    Leaving the ``with`` block waits for every call already started (each has the
    client's timeout, cut down to the submitter's deadline) and drops those not started,
    also when the main thread was interrupted (a Robot timeout or a stopped run): nothing
    the calls create can escape the resource tracker's cleanup.
    """

    def __init__(self, concurrency: int, name: str = "livemig"):
        self.concurrency = check_concurrency(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=name)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, function: Callable[[T], R], item: T):
        """Starts ``function(item)``; the future's result is an `Outcome`.

        The call keeps the deadline of the submitting thread (`deadline.until`): a worker
        stuck in a call gives up when the wait that started it runs out, not only after
        the client's ``api_timeout``.
        """
        return self._pool.submit(_collecting, function, item, deadline.current())

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[Outcome[T, R]]:
        """Runs ``function`` over ``items`` and returns the outcomes in input order."""
        futures = [self.submit(function, item) for item in items]
        return [future.result() for future in futures]


def run_all(
    function: Callable[[T], R], items: Sequence[T], concurrency: int
) -> list[Outcome[T, R]]:
    """Runs ``function`` over ``items``, ``concurrency`` at a time; outcomes in input order."""
    with Workers(min(concurrency, max(len(items), 1))) as workers:
        return workers.map(function, items)


def log_outcomes(outcomes: Iterable[Outcome[Any, Any]]) -> None:
    """Writes the lines the workers collected, on the main thread, in input order."""
    for outcome in outcomes:
        for level, message in outcome.lines:
            logger.write(message, level)
