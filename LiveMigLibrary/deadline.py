"""How long one HTTP call to the cloud may take: nothing the library does waits forever.

Every request of a connection gets connect and read timeouts (`CallTimeouts`): the
``api_timeout`` import argument (or ``api_timeout`` of the cloud in ``clouds.yaml``), cut
down to what is left of the enclosing deadline, so a wait's timeout bounds the whole wait,
its stuck calls included (`within`). Once a call went unanswered (timed out, could not
connect, or was interrupted by Robot's stop), the cloud is presumed unresponsive: the
next calls get a short probe timeout until one is answered again. A clean-up pass
(`CallTimeouts.cleanup_pass`) asks a silent cloud once: after one unanswered call the rest
of the pass fails at once, and so does a pass that starts soon after one that found the
cloud silent. So a stopped run (Ctrl-C, pabot's SIGTERM with its 5 s grace) ends promptly,
having tried its clean-up.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

DEFAULT_API_TIMEOUT = 60.0  # seconds; openstacksdk has none at all
MAX_CONNECT_TIMEOUT = 10.0  # a TCP connect that takes longer will not succeed
PROBE_TIMEOUT = 2.0  # per call while the cloud is presumed unresponsive
SILENT_FOR = 30.0  # a clean-up pass this soon after one found the cloud silent does not ask
MIN_TIMEOUT = 0.05
WAIT_LEFT = "what was left of the wait's timeout"
WAIT_GRACE = 1.0  # the last observation of a wait may take this long past its timeout

_local = threading.local()


def within(seconds: float | None) -> contextlib.AbstractContextManager[None]:
    """Every cloud call of this thread inside the block ends by ``seconds`` from now.

    Nested blocks keep the earliest deadline. ``None`` adds no deadline.
    """
    return until(None if seconds is None else time.monotonic() + max(seconds, 0.0))


@contextlib.contextmanager
def until(moment: float | None) -> Iterator[None]:
    """Every cloud call of this thread inside the block ends by ``moment`` (monotonic time).

    A worker thread runs its call `until` the deadline of the thread that handed it over
    (`current`), so a wait's timeout bounds its calls made on other threads too.
    """
    previous = current()
    if moment is not None:
        _local.deadline = moment if previous is None else min(previous, moment)
    try:
        yield
    finally:
        _local.deadline = previous


def current() -> float | None:
    """This thread's deadline (monotonic time), None without one."""
    return getattr(_local, "deadline", None)


def remaining() -> float | None:
    """Seconds left before this thread's deadline, None without one."""
    deadline = current()
    return None if deadline is None else deadline - time.monotonic()


class CallTimeouts:
    """Connect and read timeouts of each request of one cloud connection."""

    def __init__(self, api_timeout: float | None = None):
        self.explicit = api_timeout is not None  # the import argument beats clouds.yaml
        self.api_timeout = float(api_timeout) if api_timeout is not None else DEFAULT_API_TIMEOUT
        self.unanswered: str | None = None  # the last call that got no answer, if any
        self.silent_at: float | None = None  # when a clean-up pass last found no answer
        self._pass = threading.local()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def cleanup_pass(self) -> Iterator[None]:
        """A clean-up pass of this thread: a silent cloud is asked once, not once a step."""
        recent = self.silent_at is not None and time.monotonic() - self.silent_at < SILENT_FOR
        self._pass.active, self._pass.silent = True, recent
        try:
            yield
        finally:
            if self._pass.silent:
                self.silent_at = time.monotonic()
            self._pass.active = self._pass.silent = False

    def skip_reason(self) -> str | None:
        """Why the next request is not sent at all (a clean-up pass that met silence)."""
        if getattr(self._pass, "active", False) and self._pass.silent:
            return f"not asked: {self.unanswered or 'the cloud did not answer'} in this clean-up"
        return None

    def adopt(self, cloud_value) -> None:
        """``api_timeout`` of the cloud in ``clouds.yaml``, unless the import argument set one."""
        if self.explicit or cloud_value in (None, ""):
            return
        try:
            value = float(cloud_value)
        except (TypeError, ValueError):
            return
        if value > 0:
            self.api_timeout = value

    def for_request(self) -> tuple[tuple[float, float], str]:
        """((connect, read) timeouts, why that long) for the next request of this thread."""
        read, why = self.api_timeout, f"the api_timeout of {self.api_timeout:g} seconds"
        if self.unanswered is not None and PROBE_TIMEOUT < read:
            read, why = PROBE_TIMEOUT, f"a short probe, as {self.unanswered}"
        left = remaining()
        if left is not None and left < read:
            read, why = max(left, MIN_TIMEOUT), WAIT_LEFT
        return (min(read, MAX_CONNECT_TIMEOUT), read), why

    def answered(self) -> None:
        if self.unanswered is not None or self.silent_at is not None:
            with self._lock:
                self.unanswered = self.silent_at = None

    def not_answered(self, call: str) -> None:
        with self._lock:
            self.unanswered = f"{call} got no answer before"
        if getattr(self._pass, "active", False):
            self._pass.silent = True
