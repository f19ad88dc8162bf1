"""The fake cloud's clock and its event queue.

Everything that takes time in the fake (a build, a migration phase, a service
heartbeat timing out) is an event scheduled on this clock. Three modes:

* ``manual``: virtual time that only moves when :meth:`Clock.advance` is
  called; the library advances it instead of sleeping, so suites never wait.
* ``scaled``: virtual time runs ``speed`` times faster than real time and a
  runner thread fires events as they fall due.
* ``real``: ``scaled`` with ``speed=1``.

Events run under the store lock, one at a time, in due order; events due at
the same instant run in the order they were scheduled.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from enum import StrEnum


class ClockMode(StrEnum):
    MANUAL = "manual"
    SCALED = "scaled"
    REAL = "real"


class Event:
    __slots__ = ("due", "seq", "fn", "args", "cancelled", "name")

    def __init__(self, due: float, seq: int, fn: Callable, args: tuple, name: str):
        self.due = due
        self.seq = seq
        self.fn = fn
        self.args = args
        self.cancelled = False
        self.name = name

    def __lt__(self, other: Event) -> bool:
        return (self.due, self.seq) < (other.due, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """Virtual time in seconds since the cloud started, plus an event heap."""

    def __init__(
        self, lock: threading.RLock, mode: ClockMode | str = ClockMode.MANUAL, speed: float = 10.0
    ):
        try:
            self.mode = ClockMode(mode)
        except ValueError:
            raise ValueError(
                f"clock must be one of {', '.join(m.value for m in ClockMode)}, got {mode!r}"
            ) from None
        if self.mode is ClockMode.REAL:
            speed = 1.0
        if speed <= 0:
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        self.speed = float(speed)
        self._lock = lock
        self._heap: list[Event] = []
        self._seq = itertools.count()
        self._virtual = 0.0
        self._real_anchor = time.monotonic()
        self._virtual_anchor = 0.0
        self._epoch = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self._wakeup = threading.Condition(threading.Lock())
        self._runner: threading.Thread | None = None
        self._stopping = False

    # -- time ---------------------------------------------------------------

    def now(self) -> float:
        if self.mode is ClockMode.MANUAL:
            return self._virtual
        return self._virtual_anchor + (time.monotonic() - self._real_anchor) * self.speed

    def utcnow(self) -> dt.datetime:
        """Wall-clock datetime of the current virtual instant."""
        return self.to_datetime(self.now())

    def to_datetime(self, t: float) -> dt.datetime:
        return self._epoch + dt.timedelta(seconds=t)

    def to_seconds(self, when: dt.datetime) -> float:
        return (when - self._epoch).total_seconds()

    # -- events -------------------------------------------------------------

    def schedule(self, delay: float, fn: Callable, *args, name: str = "") -> Event:
        """Run ``fn(*args)`` ``delay`` virtual seconds from now (under the store lock)."""
        event = Event(
            self.now() + max(0.0, delay),
            next(self._seq),
            fn,
            args,
            name or getattr(fn, "__name__", "event"),
        )
        heapq.heappush(self._heap, event)
        if self._runner is not None:
            with self._wakeup:
                self._wakeup.notify()
        return event

    def pending(self) -> int:
        return sum(1 for e in self._heap if not e.cancelled)

    def next_due(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due if self._heap else None

    def _pop_due(self, until: float) -> Event | None:
        while self._heap:
            head = self._heap[0]
            if head.cancelled:
                heapq.heappop(self._heap)
                continue
            if head.due <= until:
                return heapq.heappop(self._heap)
            return None
        return None

    # -- manual mode --------------------------------------------------------

    def advance(self, seconds: float) -> float:
        """Move virtual time forward, firing every event that falls due on the way."""
        if self.mode is not ClockMode.MANUAL:
            raise ValueError(
                f"the clock is in {self.mode.value} mode; only a manual clock can be advanced"
            )
        if seconds < 0:
            raise ValueError(f"seconds must be zero or more, got {seconds!r}")
        with self._lock:
            target = self._virtual + seconds
            while (event := self._pop_due(target)) is not None:
                self._virtual = max(self._virtual, event.due)
                event.fn(*event.args)
            self._virtual = target
            return self._virtual

    def settle(self, max_seconds: float = 3600.0) -> float:
        """Advance until no event is pending (or ``max_seconds`` have passed)."""
        with self._lock:
            limit = self._virtual + max_seconds
            while (due := self.next_due()) is not None and due <= limit:
                self.advance(due - self._virtual)
            return self._virtual

    # -- scaled / real mode -------------------------------------------------

    def start(self) -> None:
        if self.mode is ClockMode.MANUAL or self._runner is not None:
            return
        self._stopping = False
        self._runner = threading.Thread(target=self._run, name="fake-cloud-clock", daemon=True)
        self._runner.start()

    def stop(self) -> None:
        self._stopping = True
        if self._runner is not None:
            with self._wakeup:
                self._wakeup.notify()
            self._runner.join(timeout=5)
            self._runner = None

    def _run(self) -> None:
        while not self._stopping:
            with self._lock:
                while (event := self._pop_due(self.now())) is not None:
                    event.fn(*event.args)
                due = self.next_due()
            wait = 0.5 if due is None else max(0.0, (due - self.now()) / self.speed)
            with self._wakeup:
                if not self._stopping:
                    self._wakeup.wait(timeout=min(wait, 0.5))

    def reset(self) -> None:
        with self._lock:
            self._heap.clear()
            if self.mode is ClockMode.MANUAL:
                self._virtual = 0.0
            else:
                self._virtual_anchor = 0.0
                self._real_anchor = time.monotonic()
