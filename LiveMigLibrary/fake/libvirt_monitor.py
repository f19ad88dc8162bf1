"""Nova's libvirt driver running a live migration: ``_live_migration_monitor`` on the fake's clock.

``driver.live_migration`` starts QEMU's job (:class:`~.guest.MigrationJob`) and
then Nova's monitor polls it every 0.5 s, exactly as
``nova/virt/libvirt/driver.py`` and ``nova/virt/libvirt/migration.py`` do:

* ``run_tasks``: a queued ``force-complete`` switches to post-copy when
  ``live_migration_permit_post_copy`` is set (the migration becomes
  ``running (post-copy)``), else pauses the guest (resumed if the move is rolled
  back: ``run_recover_tasks``);
* ``should_trigger_timeout_action``: after ``live_migration_completion_timeout``
  seconds per GiB of data (``_live_migration_data_gb``: RAM and each disk, at
  least 2 GiB each), ``live_migration_timeout_action`` (``abort``: the job is
  cancelled and rolled back ``cancelled``; ``force_complete``: as above), never
  in post-copy;
* ``update_downtime``: the max downtime climbs ``downtime_steps(data_gb)``;
* ``save_stats``: every ``live_migration_monitor_interval`` seconds the job's
  statistics are saved on the migration record (what
  ``GET /servers/{id}/migrations/{id}`` shows) and on the instance's progress.

When the job completes, ``_post_live_migration`` runs at once (Nova notices
within its 0.5 s poll). Auto-converge is on when permitted and post-copy is not
(``_handle_live_migration_auto_converge``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .guest import GiB, MiB, MigrationJob, Network, Workload

POLL_INTERVAL = 0.5  # _live_migration_monitor's sleep_time
RECORDS_KEPT = 2000  # finished migrations whose dynamics stay readable (oldest dropped)


def data_gb(memory_mb: int, disk_sizes_gb: list[float]) -> float:
    """``_live_migration_data_gb``: RAM and every copied disk in GiB, each at least 2."""
    ram_gb = memory_mb * MiB / GiB
    total = max(ram_gb, 2)
    for size in disk_sizes_gb:
        total += max(size, 2)
    return total


def downtime_steps(data: float, downtime: int, steps: int, delay: int) -> list[tuple[int, int]]:
    """``nova.virt.libvirt.migration.downtime_steps``: (elapsed s, max downtime ms) pairs."""
    delay = int(delay * data)
    base = downtime / steps
    offset = (downtime - base) / steps
    return [(int(delay * i), int(base + offset * i)) for i in range(steps + 1)]


def step_for(elapsed: float, steps: list[tuple[int, int]]) -> tuple[int, int] | None:
    """``update_downtime``'s choice: the last step whose time ``elapsed`` is past."""
    current = None
    for step in steps:
        if elapsed > step[0]:
            current = step
    return current


@dataclass
class Monitor:
    """One migration's job and Nova's monitor state (``curdowntime``, ``n``, tasks)."""

    migration_id: int
    job: MigrationJob
    start: float
    data_gb: float
    steps: list
    completion_timeout: int
    timeout_action: str
    post_copy: bool
    auto_converge: bool
    stats_every: int  # polls between two save_stats
    bandwidth_source: str
    curdowntime: int | None = None
    n: int = 0
    tasks: deque = field(default_factory=deque)
    on_failure: deque = field(default_factory=deque)
    timed_out_at: float | None = None
    samples: list = field(default_factory=list)  # saved stats: what the API showed
    poll: object | None = None

    def as_dict(self, now: float, status: str) -> dict:
        job = self.job
        downtime = job.downtime()
        live = job.stats(now)
        outcome = None
        if job.finished or status in ("completed", "cancelled", "failed", "error"):
            if status == "completed":
                outcome = (
                    "post-copy"
                    if job.postcopy_at is not None
                    else "paused"
                    if job.paused_at is not None
                    else "converged"
                )
            else:
                outcome = status
        return {
            "migration_id": self.migration_id,
            "status": status,
            "phase": job.phase,
            "outcome": outcome,
            "converged": job.switchover_at is not None,
            "iterations": job.iteration,
            "downtime_ms": None if downtime is None else round(downtime * 1000, 3),
            "max_downtime_ms": job.max_downtime_ms,
            "bandwidth_mib": job.bandwidth / MiB,
            "bandwidth_source": self.bandwidth_source,
            "dirty_rate_mib": job.rate / MiB,
            "working_set_mib": job.working_set / MiB,
            "throttle_percent": job.throttle,
            "data_gb": self.data_gb,
            "downtime_steps": [list(s) for s in self.steps],
            "completion_timeout": self.completion_timeout,
            "timeout_action": self.timeout_action,
            "timed_out_at": self.timed_out_at,
            "post_copy_permitted": self.post_copy,
            "auto_converge": self.auto_converge,
            "started_at": self.start,
            "ended_at": job.end,
            "paused_at": job.paused_at,
            "switchover_at": job.switchover_at,
            "postcopy_at": job.postcopy_at,
            "now": live,
            "samples": list(self.samples),
            "timeline": [{"at": t, "event": text} for t, text in job.timeline],
            "passes_not_in_timeline": job.passes_not_logged,
        }


class LibvirtDriver:
    """The live-migration part of Nova's libvirt driver for every fake compute."""

    def __init__(self, computes, options, network: Network):
        self.computes = computes
        self.options = options
        self.network = network
        self.workloads: dict[str, Workload] = {}  # instance uuid -> workload
        self.monitors: dict[int, Monitor] = {}  # migration id -> monitor (oldest first)

    @property
    def clock(self):
        return self.computes.clock

    def reset(self) -> None:
        self.workloads.clear()
        self.monitors.clear()

    # -- workloads ------------------------------------------------------------------------

    def workload(self, instance_uuid: str) -> Workload:
        return self.workloads.get(instance_uuid) or Workload()

    def set_workload(self, instance_uuid: str, workload: Workload) -> None:
        """Also changes what the guest of a running migration dirties from now on."""
        if workload.idle and workload.working_set_mib is None:
            self.workloads.pop(instance_uuid, None)
        else:
            self.workloads[instance_uuid] = workload
        for mon in self.monitors.values():
            mig = self.computes.store.migrations.get(mon.migration_id)
            if mig is not None and mig.instance_uuid == instance_uuid and not mon.job.finished:
                mon.job.set_workload(self.clock.now(), workload)

    # -- driver.live_migration ------------------------------------------------------------

    def _disks_gb(self, inst, block_migration: bool) -> list[float]:
        """``_live_migration_copy_disk_paths``: the local disks a block migration copies."""
        if not block_migration:
            return []
        flavor = inst.flavor
        return [float(size) for size in (flavor.disk, flavor.ephemeral) if size] + (
            [flavor.swap / 1024] if flavor.swap else []
        )

    def _bandwidth(self, mig, data_bytes: int) -> tuple[float, str]:
        link = self.network.bandwidth_mib(mig.source_compute, mig.dest_compute)
        cap = self.options.live_migration_bandwidth
        if link is None and not cap:
            running = self.computes.durations.running
            if running <= 0:
                return 1e18, "instant (running phase 0 s)"
            return data_bytes / running, f"sized so the data crosses in running={running:g}s"
        if link is None:
            return cap * MiB, "live_migration_bandwidth"
        if cap and cap < link:
            return cap * MiB, "live_migration_bandwidth (below the link)"
        return link * MiB, "link"

    def live_migration(self, mig, inst, delay: float = 0.0) -> None:
        """Start the copy ``delay`` seconds from now (a ``slow`` fault stalls its start)."""
        if delay > 0:
            mig.event = self.clock.schedule(
                delay, self._start, mig, inst, name="live_migration_operation"
            )
        else:
            self._start(mig, inst)

    def _start(self, mig, inst) -> None:
        opts = self.options
        now = self.clock.now()
        disks = self._disks_gb(inst, mig.block_migration)
        data = data_gb(inst.flavor.ram, disks)
        memory_total = inst.flavor.ram * MiB
        disk_total = int(sum(disks) * GiB)
        bandwidth, source = self._bandwidth(mig, memory_total + disk_total)
        post_copy = bool(opts.live_migration_permit_post_copy)
        auto_converge = bool(opts.live_migration_permit_auto_converge) and not post_copy
        job = MigrationJob(
            now=now,
            memory_total=memory_total,
            disk_total=disk_total,
            bandwidth=bandwidth,
            workload=self.workload(inst.uuid),
            guest_paused=mig.vm_state_before == "paused",
            auto_converge=auto_converge,
        )
        mon = Monitor(
            migration_id=mig.id,
            job=job,
            start=now,
            data_gb=data,
            steps=downtime_steps(
                data,
                opts.live_migration_downtime,
                opts.live_migration_downtime_steps,
                opts.live_migration_downtime_delay,
            ),
            completion_timeout=int(opts.live_migration_completion_timeout * data),
            timeout_action=opts.live_migration_timeout_action,
            post_copy=post_copy,
            auto_converge=auto_converge,
            stats_every=max(1, int(opts.live_migration_monitor_interval / POLL_INTERVAL)),
            bandwidth_source=source,
        )
        self.monitors[mig.id] = mon
        while len(self.monitors) > RECORDS_KEPT:
            self.monitors.pop(next(iter(self.monitors)))
        self._schedule_job(mig, mon)
        self._poll(mig, mon)

    # -- QEMU's side: the end of each pass ------------------------------------------------

    def _schedule_job(self, mig, mon: Monitor) -> None:
        job = mon.job
        if mig.event is not None:
            mig.event.cancel()
        mig.event = self.clock.schedule(
            max(0.0, job.pass_end() - self.clock.now()), self._pass_ended, mig, mon, name="qemu"
        )

    def _pass_ended(self, mig, mon: Monitor) -> None:
        mig.event = None
        if self.computes._finished(mig) or mon.job.finished:
            return
        if mon.job.advance(self.clock.now()) == "completed":
            self._completed(mig, mon)
        else:
            self._schedule_job(mig, mon)

    def _completed(self, mig, mon: Monitor) -> None:
        """VIR_DOMAIN_JOB_COMPLETED: ``post_method`` (``_post_live_migration``)."""
        self._save_stats(mig, mon)
        self._stop_polling(mon)
        self.computes._post_live_migration(mig)

    # -- Nova's side: _live_migration_monitor ---------------------------------------------

    def _stop_polling(self, mon: Monitor) -> None:
        if mon.poll is not None:
            mon.poll.cancel()
            mon.poll = None

    def _poll(self, mig, mon: Monitor) -> None:
        mon.poll = None
        if self.computes._finished(mig) or mig.deleted or mon.job.finished:
            return
        if not self.computes._alive(mig.source_compute):
            return  # the monitor thread died with nova-compute
        now = self.clock.now()
        job = mon.job
        self._run_tasks(mig, mon, now)
        elapsed = now - mon.start
        if self._should_trigger_timeout_action(mon, elapsed, mig.status):
            if mon.timed_out_at is None:
                mon.timed_out_at = now
                job.note(now, f"live migration not completed after {mon.completion_timeout} sec")
            if mon.timeout_action == "force_complete":
                mon.tasks.append("force-complete")  # driver.live_migration_force_complete
            else:
                self._abort_job(mig, mon, "completion timeout: job aborted")
                return
        step = step_for(elapsed, mon.steps)
        if step is not None and step[1] != mon.curdowntime:
            mon.curdowntime = step[1]
            job.set_max_downtime(now, step[1])
            job.note(now, f"max downtime {step[1]} ms after {step[0]} s")
        if mon.n % mon.stats_every == 0:
            self._save_stats(mig, mon)
        mon.n += 1
        mon.poll = self.clock.schedule(POLL_INTERVAL, self._poll, mig, mon, name="lm_monitor")

    @staticmethod
    def _should_trigger_timeout_action(mon: Monitor, elapsed: float, status: str) -> bool:
        if not mon.completion_timeout:
            return False
        if status == "running (post-copy)":
            return False
        return elapsed > mon.completion_timeout

    def _run_tasks(self, mig, mon: Monitor, now: float) -> None:
        """``nova.virt.libvirt.migration.run_tasks``."""
        # the force-complete of the timeout action runs at the next poll, as in Nova
        while mon.tasks:
            task = mon.tasks.popleft()
            if task != "force-complete":
                continue
            if mig.status == "running (post-copy)":
                mon.job.note(now, "force-complete: already in post-copy")
            elif mon.post_copy:
                if mig.vm_state_before == "paused" or not mon.job.start_postcopy(now):
                    mon.job.note(now, "failed to switch to post-copy (QEMU is not copying memory)")
                    continue
                # trigger_postcopy_switch: the guest now runs on the destination
                self.computes._set_status(mig, "running (post-copy)")
                self._schedule_job(mig, mon)
            else:
                mon.job.pause(now)
                mon.on_failure.append("unpause")

    def _save_stats(self, mig, mon: Monitor) -> None:
        """``save_stats``: the job's statistics onto the migration (and the progress)."""
        now = self.clock.now()
        stats = mon.job.stats(now)
        for name, value in stats.items():
            setattr(mig, name, value)
        inst = self.computes.store.instances.get(mig.instance_uuid)
        if inst is not None and stats["memory_total"]:  # instance.progress = 100 - remaining
            inst.progress = 100 - round(stats["memory_remaining"] * 100 / stats["memory_total"])
        mon.samples.append({"at": now, **stats})

    # -- what the compute manager asks ----------------------------------------------------

    def running_job(self, mig) -> Monitor | None:
        mon = self.monitors.get(mig.id)
        if mon is None or mon.job.finished:
            return None
        return mon

    def force_complete(self, mig) -> bool:
        """``live_migration_force_complete``: queue the task for the monitor's next poll.

        False when this migration has no monitored job (e.g. a ``hang`` fault)."""
        mon = self.running_job(mig)
        if mon is None:
            return False
        mon.tasks.append("force-complete")
        return True

    def abort(self, mig) -> None:
        """``live_migration_abort`` (``virDomainAbortJob``): the job stops copying."""
        mon = self.running_job(mig)
        if mon is not None:
            mon.job.cancel(self.clock.now())
            self._stop_polling(mon)

    def _abort_job(self, mig, mon: Monitor, reason: str) -> None:
        """The timeout action ``abort``: the job is cancelled, then rolled back."""
        # what nova-compute logs (the API shows only `cancelled`); the fake's history keeps it
        mig.failure = (
            f"Live migration not completed after {mon.completion_timeout} sec; "
            f"live_migration_timeout_action=abort cancelled the job"
        )
        mon.job.cancel(self.clock.now())
        mon.job.note(self.clock.now(), reason)
        if mig.event is not None:
            mig.event.cancel()
        mig.event = self.clock.schedule(
            self.computes.durations.abort,
            self.computes._rollback_live_migration,
            mig,
            "cancelled",
            name="live_migration_timeout_abort",
        )

    def dynamics(self, mig) -> dict | None:
        mon = self.monitors.get(mig.id)
        if mon is None:
            return None
        return mon.as_dict(self.clock.now(), mig.status)
