"""Guest memory, the migration link, and QEMU's pre-copy migration job.

What makes a live migration slow, or never finish, is not the API: it is a guest
that writes its memory faster than the link copies it. This module models that,
on the fake's clock:

* :class:`Workload`: how fast a guest dirties memory (MiB/s) and how much of it
  it keeps writing (its writable working set, MiB). Idle (0 MiB/s) by default.
* :class:`Network`: the bandwidth of the link between two hosts (MiB/s), per
  host pair or one default.
* :class:`MigrationJob`: QEMU's migration job on the source. Block migration
  first copies the disks (libvirt's NBD mirror); then pre-copy: pass 1 sends all
  of the guest's memory at the bandwidth while the guest dirties pages (never
  more than its working set); every following pass sends what the previous one
  left dirty. At the end of each pass (QEMU's bitmap sync) the job converges
  when what is dirty can be sent within the current max downtime
  (``dirty <= bandwidth * max_downtime``): the guest stops, the rest is sent,
  and that pause is the downtime. Auto-converge throttles the guest's vCPUs
  (20 %, then +10 % up to 99 %, QEMU's defaults) when it dirtied more than half
  of what a period sent, twice. ``pause`` stops the guest's writes (Nova's
  force-complete without post-copy); ``start_postcopy`` switches the guest to the
  destination and pulls what is left at the bandwidth.

The model counts guest RAM only (no device state), so an idle guest converges
after one pass with a downtime of 0 ms. Figures are bytes and seconds; the API
shows them as whole bytes, as libvirt's job statistics do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .numeric import number

MiB = 1024 * 1024
GiB = 1024 * MiB

# QEMU's defaults (migration/options.c)
QEMU_DEFAULT_MAX_DOWNTIME_MS = 300
THROTTLE_INITIAL = 20  # cpu-throttle-initial, percent
THROTTLE_INCREMENT = 10  # cpu-throttle-increment
THROTTLE_MAX = 99  # max-cpu-throttle
THROTTLE_TRIGGER = 50  # throttle-trigger-threshold: dirtied > 50 % of what was sent
THROTTLE_PERIOD = 1.0  # QEMU looks at the dirty rate at syncs at least 1 s apart

TIMELINE_LIMIT = 400  # entries kept per job; later passes are only counted


@dataclass(slots=True)
class Workload:
    """What a guest does to its memory while it runs."""

    dirty_rate_mib: float = 0.0  # MiB/s written
    working_set_mib: float | None = None  # MiB it keeps writing; None: all its memory

    @classmethod
    def checked(cls, dirty_rate_mib=0.0, working_set_mib=None) -> Workload:
        return cls(
            number("dirty_rate_mib", dirty_rate_mib, minimum=0),
            number("working_set_mib", working_set_mib, minimum=0, none=True),
        )

    @property
    def idle(self) -> bool:
        return self.dirty_rate_mib == 0

    def as_dict(self) -> dict:
        return {"dirty_rate_mib": self.dirty_rate_mib, "working_set_mib": self.working_set_mib}


@dataclass(slots=True)
class Network:
    """Link bandwidth (MiB/s) between compute hosts: per (source, destination), or a default.

    Nothing set (the default) means the link is as fast as the ``running`` phase
    duration implies: an idle guest's data crosses it in ``running`` seconds.
    """

    default_mib: float | None = None
    pairs: dict = field(default_factory=dict)  # (source, destination) -> MiB/s

    def bandwidth_mib(self, source: str, destination: str) -> float | None:
        return self.pairs.get((source, destination), self.default_mib)

    def as_dict(self) -> dict:
        return {
            "default_mib": self.default_mib,
            "links": [
                {"source": s, "destination": d, "bandwidth_mib": b}
                for (s, d), b in sorted(self.pairs.items())
            ],
        }


class MigrationJob:
    """QEMU's migration job of one guest: disk mirror, pre-copy passes, switchover."""

    def __init__(
        self,
        *,
        now: float,
        memory_total: int,
        disk_total: int,
        bandwidth: float,
        workload: Workload,
        guest_paused: bool = False,
        auto_converge: bool = False,
    ):
        self.memory_total = int(memory_total)
        self.disk_total = int(disk_total)
        self.bandwidth = float(bandwidth)  # bytes/s
        self._take_workload(workload)
        self.guest_paused = guest_paused  # PAUSED before the move, or paused by force-complete
        self.auto_converge = auto_converge
        self.throttle = 0  # percent of vCPU time taken away by auto-converge
        self._high_count = 0
        self._period_start = now
        self._period_sent = 0.0
        self._period_dirty = 0.0
        self.max_downtime_ms = QEMU_DEFAULT_MAX_DOWNTIME_MS
        self.start = now
        self.phase = "disk" if self.disk_total else "memory"
        self.iteration = 0
        self.pass_start = now
        self.pass_size = float(self.disk_total)
        self.sent_before = 0.0  # memory bytes of finished passes
        self._dirty = 0.0  # dirtied in this pass up to _dirty_since
        self._dirty_since = now
        self.paused_at: float | None = None  # the guest stopped running (force-complete)
        self.switchover_at: float | None = None  # pre-copy converged, guest stopped
        self.postcopy_at: float | None = None
        self.final_bytes = 0.0  # sent after the switchover or post-copy switch
        self.end: float | None = None
        self.timeline: list[tuple[float, str]] = []
        self.passes_not_logged = 0
        if self.phase == "memory":
            self._start_memory(now)
        else:
            self.note(now, f"disk mirror: {self.disk_total} bytes to copy")

    # -- the guest ----------------------------------------------------------------------

    def _take_workload(self, workload: Workload) -> None:
        self.rate = workload.dirty_rate_mib * MiB  # bytes/s while running unthrottled
        wss = workload.working_set_mib
        self.working_set = float(
            self.memory_total if wss is None else min(wss * MiB, self.memory_total)
        )

    def set_workload(self, now: float, workload: Workload) -> None:
        """The guest dirties memory differently from ``now`` on (what it dirtied so far stays)."""
        self._fold(now)
        self._take_workload(workload)
        self.note(now, f"guest workload now {workload.dirty_rate_mib:g} MiB/s")

    def dirty_rate(self) -> float:
        """Bytes/s the guest dirties now (0 while paused, less while throttled)."""
        if self.guest_paused or self.phase not in ("disk", "memory"):
            return 0.0
        return self.rate * (100 - self.throttle) / 100

    def dirtied(self, now: float) -> float:
        """Bytes dirtied in this pass so far, bounded by the working set."""
        return min(self.working_set, self._dirty + self.dirty_rate() * (now - self._dirty_since))

    def _fold(self, now: float) -> None:
        self._dirty = self.dirtied(now)
        self._dirty_since = now

    # -- progress -----------------------------------------------------------------------

    def _sent_in_pass(self, now: float) -> float:
        return min(self.pass_size, self.bandwidth * max(0.0, now - self.pass_start))

    def pass_end(self) -> float:
        """When the current pass (or the disk copy, or the final copy) ends."""
        return self.pass_start + self.pass_size / self.bandwidth

    def stats(self, now: float) -> dict[str, int]:
        """libvirt's job statistics at ``now`` (``virDomainGetJobStats``)."""
        if self.phase == "disk":
            done = self._sent_in_pass(now)
            return self._stats(0.0, self.memory_total, done, self.disk_total - done)
        disk_done = self.disk_total
        if self.phase == "memory":
            sent = self._sent_in_pass(now)
            return self._stats(self.sent_before + sent, self.pass_size - sent, disk_done, 0.0)
        if self.phase in ("switchover", "postcopy"):
            sent = self._sent_in_pass(now)
            return self._stats(self.sent_before + sent, self.pass_size - sent, disk_done, 0.0)
        return self._stats(self.sent_before, 0.0, disk_done, 0.0)

    def _stats(self, processed, remaining, disk_processed, disk_remaining) -> dict[str, int]:
        return {
            "memory_total": self.memory_total,
            "memory_processed": int(processed),
            "memory_remaining": int(round(remaining)),
            "disk_total": self.disk_total,
            "disk_processed": int(disk_processed),
            "disk_remaining": int(round(disk_remaining)),
        }

    # -- what happens at the end of a pass ----------------------------------------------

    def note(self, now: float, text: str) -> None:
        if len(self.timeline) < TIMELINE_LIMIT:
            self.timeline.append((now, text))

    def _start_memory(self, now: float) -> None:
        self.phase = "memory"
        self.iteration = 1
        self.pass_start = now
        self.pass_size = float(self.memory_total)
        self._dirty, self._dirty_since = 0.0, now
        self.note(now, f"pre-copy pass 1: {self.memory_total} bytes to send")

    def advance(self, now: float) -> str:
        """The current pass ended at ``now``: what QEMU does next.

        Returns ``"memory"`` (another pass), ``"switchover"`` (converged; the final
        copy runs with the guest stopped) or ``"completed"``.
        """
        if self.phase == "disk":
            self.note(now, "disk mirror in sync")
            self._start_memory(now)
            return "memory"
        if self.phase in ("switchover", "postcopy"):
            self.sent_before += self.pass_size
            self.end = now
            self.phase = "completed"
            self.note(now, "migration job completed")
            return "completed"
        # a pre-copy pass ended: QEMU syncs the dirty bitmap
        dirty = self.dirtied(now)
        self.sent_before += self.pass_size
        self._throttle_check(now, self.pass_size, dirty)
        threshold = self.bandwidth * self.max_downtime_ms / 1000
        if dirty <= threshold:
            self.phase = "switchover"
            self.switchover_at = now
            self.final_bytes = dirty
            self.pass_start, self.pass_size = now, dirty
            self.note(
                now,
                f"converged after pass {self.iteration}: {int(dirty)} bytes dirty <= "
                f"{int(threshold)} sendable in {self.max_downtime_ms} ms; guest paused for "
                f"the switchover",
            )
            return "switchover"
        self.iteration += 1
        self.pass_start, self.pass_size = now, dirty
        self._dirty, self._dirty_since = 0.0, now
        if len(self.timeline) < TIMELINE_LIMIT:
            self.note(
                now,
                f"pre-copy pass {self.iteration}: {int(dirty)} bytes dirty > {int(threshold)} "
                f"sendable in {self.max_downtime_ms} ms",
            )
        else:
            self.passes_not_logged += 1
        return "memory"

    def _throttle_check(self, now: float, sent: float, dirty: float) -> None:
        """QEMU's migration_trigger_throttle at a bitmap sync."""
        self._period_sent += sent
        self._period_dirty += dirty
        if now - self._period_start < THROTTLE_PERIOD:
            return
        high = self._period_dirty > self._period_sent * THROTTLE_TRIGGER / 100
        self._period_start, self._period_sent, self._period_dirty = now, 0.0, 0.0
        if not (self.auto_converge and high):
            return
        self._high_count += 1
        if self._high_count < 2:
            return
        self._high_count = 0
        old = self.throttle
        self.throttle = (
            THROTTLE_INITIAL if old == 0 else min(old + THROTTLE_INCREMENT, THROTTLE_MAX)
        )
        if self.throttle != old:
            self.note(now, f"auto-converge: guest vCPUs throttled {self.throttle} %")

    # -- what Nova's monitor asks of the job --------------------------------------------

    def set_max_downtime(self, now: float, ms: int) -> None:
        self.max_downtime_ms = ms

    def pause(self, now: float) -> None:
        """``virDomainSuspend``: the guest stops; it dirties nothing more."""
        if self.guest_paused:
            return
        self._fold(now)
        self.guest_paused = True
        self.paused_at = now
        self.note(now, "guest paused")

    def start_postcopy(self, now: float) -> bool:
        """``virDomainMigrateStartPostCopy``: False when QEMU is not copying memory."""
        if self.phase != "memory":
            return False
        unsent = self.pass_size - self._sent_in_pass(now)
        left = min(float(self.memory_total), unsent + self.dirtied(now))
        self.sent_before += self._sent_in_pass(now)
        self.phase = "postcopy"
        self.postcopy_at = now
        self.final_bytes = left
        self.pass_start, self.pass_size = now, left
        self.note(now, f"post-copy: guest runs on the destination; {int(left)} bytes to pull")
        return True

    def cancel(self, now: float) -> None:
        if self.phase in ("completed", "cancelled"):
            return
        self.sent_before += self._sent_in_pass(now) if self.phase != "disk" else 0.0
        self.phase = "cancelled"
        self.end = now
        self.note(now, "migration job cancelled")

    @property
    def finished(self) -> bool:
        return self.phase in ("completed", "cancelled")

    def downtime(self) -> float | None:
        """Seconds the guest did not run because of the move, once it is over.

        Converged pre-copy: the switchover. Paused by force-complete: from the pause
        to the end. Post-copy: 0 (the model has no device state; the guest runs on
        the destination while pages are pulled). None while the job runs.
        """
        if self.end is None:
            return None
        if self.phase == "cancelled":
            return 0.0 if self.paused_at is None else self.end - self.paused_at
        if self.postcopy_at is not None:
            if self.paused_at is not None:
                return self.postcopy_at - self.paused_at
            return 0.0
        if self.paused_at is not None:
            return self.end - self.paused_at
        return self.end - (self.switchover_at if self.switchover_at is not None else self.end)
