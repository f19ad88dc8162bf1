"""A network downtime probe, as tempest's `net_downtime` meter: is the server reachable?

A background thread checks the server's address every `interval` seconds, by TCP connect
to a port or by one ICMP echo (the system's `ping`), from the host running the tests, and
keeps the result of each check. The downtime is the longest run of failed checks: from the
first failed check to the next successful one. The thread never logs (Robot Framework's
log is not thread-safe); the keyword that stops it reports.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

from .enums import ProbeMethod


def check(method: ProbeMethod, address: str, port: int, timeout: float) -> bool:
    """One reachability check; True when the server answered within ``timeout``."""
    if method is ProbeMethod.TCP:
        try:
            with socket.create_connection((address, port), timeout=timeout):
                return True
        except OSError:
            return False
    ping = shutil.which("ping")
    if ping is None:
        raise RuntimeError("ICMP probing needs the 'ping' command; use method=tcp instead")
    wait = str(max(1, round(timeout)))
    result = subprocess.run(
        [ping, "-n", "-c", "1", "-W", wait, address],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=timeout + 5,
        check=False,
    )
    return result.returncode == 0


@dataclass
class ProbeResult:
    address: str
    method: str
    port: int | None
    interval: float
    checks: int = 0
    failures: int = 0
    longest_gap: float = 0.0  # seconds
    gaps: list = field(default_factory=list)  # [(start offset, seconds)]
    started: float = 0.0
    stopped: float | None = None

    def as_dict(self) -> dict:
        return {
            "address": self.address,
            "method": self.method,
            "port": self.port,
            "interval_seconds": self.interval,
            "checks": self.checks,
            "failed_checks": self.failures,
            "downtime_seconds": round(self.longest_gap, 3),
            "gaps": [{"after_seconds": round(a, 3), "seconds": round(s, 3)} for a, s in self.gaps],
            "duration_seconds": (
                None if self.stopped is None else round(self.stopped - self.started, 3)
            ),
        }


class DowntimeProbe:
    """Checks one address until stopped; see the module documentation."""

    def __init__(
        self,
        address: str,
        method: ProbeMethod = ProbeMethod.TCP,
        port: int = 22,
        interval: float = 0.2,
        timeout: float = 1.0,
    ):
        self.method = method
        self.address = address
        self.port = port
        self.interval = interval
        self.timeout = timeout
        self.result = ProbeResult(
            address, method.value, port if method is ProbeMethod.TCP else None, interval
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._down_since: float | None = None

    def reachable(self) -> bool:
        return check(self.method, self.address, self.port, self.timeout)

    def start(self) -> None:
        self.result.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="downtime-probe", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            ok = self.reachable()
            now = time.monotonic()
            with self._lock:
                self.result.checks += 1
                if not ok:
                    self.result.failures += 1
                    if self._down_since is None:
                        self._down_since = began
                elif self._down_since is not None:
                    self._close_gap(now)
            self._stop.wait(max(0.0, self.interval - (now - began)))

    def _close_gap(self, now: float) -> None:
        gap = now - self._down_since
        self.result.gaps.append((self._down_since - self.result.started, gap))
        self.result.longest_gap = max(self.result.longest_gap, gap)
        self._down_since = None

    def stop(self) -> ProbeResult:
        """Stops the thread; a run of failures still open counts up to now."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 10)
        with self._lock:
            now = time.monotonic()
            if self._down_since is not None:
                self._close_gap(now)
            self.result.stopped = now
            return self.result
