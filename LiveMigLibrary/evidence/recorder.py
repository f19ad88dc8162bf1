"""`ctx.evidence`: the API through which keyword areas record the migrations they drive.

A keyword that starts a move calls `start()` just before sending the request; a keyword
that follows one calls `observe()` with every migration record it reads (cheap, safe from
worker threads) and, on the main thread, `conclude()` when its wait ends, which reads the
exact timeline, the instance action events and the allocations and logs one HTML block.

```python
record = ctx.evidence.start(server_id, "resize", server_name=name,
                            request={"via": "sdk", "flavor": "m1.small"})
...                                          # send the request, poll
ctx.evidence.observe(record, migration)      # every poll (any thread)
ctx.evidence.conclude([record])              # main thread, when the wait ends
record.add_sample("memory", {"cloud_time": ..., "remaining_mb": 12})   # issue 13
record.extra["downtime"] = {...}
```

Records live in a per-run store (`RunEvidence`) shared by every library instance of the
process; the library's listener writes `migrations.json` and `migrations.html` from it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from typing import TYPE_CHECKING, Any

from robot.api import logger

from .dynamics import attach_dynamics
from .html import migration_block
from .record import MigrationRecord, iso, parse_time
from .store import RunEvidence, current_run
from .timeline import ClockMap, Observation, cloud_timeline, fake_epoch, fake_timeline

if TYPE_CHECKING:
    from ..context import LibraryContext
    from ..models import Migration

# The instance action Nova records for each move (nova/compute/instance_actions.py).
ACTION_OF_OPERATION = {
    "live-migration": "live-migration",
    "migration": "migrate",
    "resize": "resize",
    "evacuation": "evacuate",
}


class EvidenceRecorder:
    """The migration records of one library instance; see the module documentation."""

    def __init__(self, ctx: LibraryContext):
        self._ctx = ctx
        self.clock_map = ClockMap()
        self.records: list[MigrationRecord] = []
        self._open: dict[str, MigrationRecord] = {}  # server id -> its current move
        self._observations: dict[str, list[Observation]] = {}
        self._last: dict[str, Migration] = {}
        self._last_poll: dict[str, dt.datetime] = {}
        self._replaced: dict[str, MigrationRecord | None] = {}
        self._diagnosed: set[str] = set()
        self._seq = itertools.count(1)
        self._lock = threading.RLock()
        self.current_suite: str | None = None
        self.current_test: str | None = None
        self._run: RunEvidence | None = None

    # -- run store --------------------------------------------------------------------------

    @property
    def run(self) -> RunEvidence:
        if self._run is None:
            self._run = current_run()
        return self._run

    # -- recording ----------------------------------------------------------------------------

    def start(
        self,
        server_id: str,
        operation: str,
        *,
        server_name: str | None = None,
        request: dict[str, Any] | None = None,
        allocations: bool = True,
    ) -> MigrationRecord:
        """Opens the record of a move of the server that is about to be requested.

        Reads the server's Placement allocations ("before") unless ``allocations`` is
        false. Call it on the main thread before the request, or pass
        ``allocations=False`` from a worker thread and fill them in yourself.
        """
        ctx = self._ctx
        with self._lock:
            record = MigrationRecord(
                record_id=f"{ctx.run_prefix}-{next(self._seq)}",
                operation=operation,
                server_id=server_id,
                server_name=server_name,
                suite=self.current_suite,
                test=self.current_test,
                request=dict(request or {}),
                cloud="fake" if ctx.uses_fake else "real",
                clock="fake-virtual" if ctx.uses_fake else "cloud",
                requested_wall=dt.datetime.now(dt.UTC),
            )
            self._replaced[record.record_id] = self._open.get(server_id)
            self._open[server_id] = record
            self.records.append(record)
            self._observations[record.record_id] = []
        self._note_clock()
        if allocations:
            record.allocations["start"] = {
                **self._read_times(),
                "server": self._allocations(server_id, record),
            }
        self.run.add(record)
        return record

    def current(self, server_id: str) -> MigrationRecord | None:
        """The record of the server's latest move, or None."""
        with self._lock:
            return self._open.get(server_id)

    def for_wait(
        self, server_id: str, operation: str, server_name: str | None = None
    ) -> MigrationRecord:
        """The record a wait on the server's move reports to; opened (as requested some
        way the library did not see) when the move was not started by the library."""
        record = self.current(server_id)
        if record is None or record.operation != operation:
            record = self.start(
                server_id, operation, server_name=server_name, request={"via": "unknown"}
            )
            record.requested_wall = None  # requested before the library heard of it
        elif server_name and not record.server_name:
            record.server_name = server_name
        return record

    def forget(self, record: MigrationRecord) -> None:
        """Drops a record whose request never created a migration (refused at once)."""
        with self._lock:
            if self._open.get(record.server_id) is record:
                # the server's move before it (e.g. the one that made it busy) is current again
                previous = self._replaced.get(record.record_id)
                if previous is not None:
                    self._open[record.server_id] = previous
                else:
                    del self._open[record.server_id]
            if record in self.records:
                self.records.remove(record)
        self.run.remove(record)

    def refused(self, refusals: list[tuple[MigrationRecord, Migration | None, str]]) -> None:
        """Settles the records of requests the cloud refused, each with the server's latest
        migration and the cloud's message: a request that left no migration record is
        forgotten; one that did (pre-checks inside the request record the attempt as
        `error`) ends with that record and the cloud's message as its reason."""
        concluded = []
        for record, migration, reason in refusals:
            if migration is None:
                self.forget(record)
            else:
                self.observe(record, migration)
                record.reason = record.reason or reason
                concluded.append(record)
        if concluded:
            self.conclude(concluded)

    def observe(self, record: MigrationRecord, migration: Migration | None) -> None:
        """Takes one polled migration record (any thread)."""
        if migration is None:
            return
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            self._attach(record, migration)
            observations = self._observations.setdefault(record.record_id, [])
            if not observations or observations[-1].status != migration.status:
                observations.append(
                    Observation(
                        migration.status,
                        now,
                        parse_time(migration.updated_at),
                        self._last_poll.get(record.record_id),
                    )
                )
            self._last_poll[record.record_id] = now
        self._note_clock()

    def _attach(self, record: MigrationRecord, migration: Migration) -> None:
        record.migration_id = migration.id
        record.migration_uuid = migration.uuid or record.migration_uuid
        record.migration_type = migration.migration_type or record.migration_type
        record.source = migration.source or record.source
        record.destination = migration.destination or record.destination
        record.source_node = migration.source_node or record.source_node
        record.destination_node = migration.destination_node or record.destination_node
        record.status = migration.status
        self._last[record.record_id] = migration

    def note_allocations(self, consumer_id: str, allocations: dict[str, dict]) -> None:
        """Adds allocations a test read while a move was in progress to its record."""
        with self._lock:
            records = [
                r
                for r in self._open.values()
                if not r.finished and consumer_id in (r.server_id, r.migration_uuid)
            ]
        for record in records:
            kind = "server" if consumer_id == record.server_id else "migration"
            record.allocations["during"].append(
                {**self._read_times(), "status": record.status, kind: allocations}
            )

    # -- reading the cloud's own records ---------------------------------------------------

    def refresh(self, record: MigrationRecord) -> None:
        """Rebuilds the timeline, events and end allocations from the cloud's records.

        Never fails: what could not be read is listed in `extra["evidence_errors"]`.
        """
        ctx = self._ctx
        migration = self._last.get(record.record_id)
        if migration is None:
            return
        try:
            self._refresh_timeline(record, migration)
        except Exception as error:  # evidence must never break the test it describes
            self._problem(record, "timeline", error)
        try:
            attach_dynamics(ctx, record, migration)  # the fake's model of the memory copy
        except Exception as error:
            self._problem(record, "memory copy model", error)
        try:
            action = ctx.admin.server_action(
                record.server_id,
                ACTION_OF_OPERATION.get(record.operation, record.operation),
                not_after=migration.created_at,
            )
            if action is not None:
                record.events = action["events"]
                record.request.setdefault("request_id", action["request_id"])
                if not ctx.uses_fake:
                    self._refresh_timeline(record, migration)  # events add missed statuses
        except Exception as error:
            self._problem(record, "instance action events", error)
        if record.finished:
            self._conclude_state(record)

    def refresh_timeline(self, record: MigrationRecord) -> None:
        """Rebuilds only the timeline: no cloud call on a real cloud (the polls seen), one
        in-process call on the embedded fake. For records not worth a full `refresh`."""
        migration = self._last.get(record.record_id)
        if migration is None:
            return
        try:
            self._refresh_timeline(record, migration)
        except Exception as error:
            self._problem(record, "timeline", error)

    def _refresh_timeline(self, record: MigrationRecord, migration: Migration) -> None:
        ctx = self._ctx
        if ctx.uses_fake and ctx.fake is not None:
            history = ctx.fake.control.migration_history(migration.id)
            epoch = fake_epoch(migration.created_at, history)
            if epoch is not None:
                record.timeline = fake_timeline(
                    history, epoch, self.clock_map, record.requested_wall
                )
                record.status = history[-1]["status"]
                if history[-1].get("reason"):
                    record.reason = history[-1]["reason"]
                return
        with self._lock:
            observations = list(self._observations.get(record.record_id, []))
        record.timeline = cloud_timeline(
            migration.created_at,
            observations,
            record.events,
            ctx.poll_interval(None),
        )

    def _conclude_state(self, record: MigrationRecord) -> None:
        ctx = self._ctx
        if record.allocations.get("end") is None:
            end: dict[str, Any] = self._read_times()
            end["server"] = self._allocations(record.server_id, record)
            if record.migration_uuid:
                end["migration"] = self._allocations(record.migration_uuid, record)
            record.allocations["end"] = end
        try:
            state = ctx.admin.server_state(record.server_id)
        except Exception as error:
            self._problem(record, "server", error)
            state = None
        if state is not None:
            record.server_name = record.server_name or state.name
            if record.failed and state.fault:
                record.server_fault = state.fault
        if record.status in ("error", "failed") and record.record_id not in self._diagnosed:
            from ..diagnosis import explain_move  # the facts an operator would look up next

            self._diagnosed.add(record.record_id)
            try:
                diagnosis = explain_move(
                    ctx.admin,
                    record.server_id,
                    record.destination,
                    action=ACTION_OF_OPERATION.get(record.operation, record.operation),
                    migration=self._last.get(record.record_id),
                    already_said=record.reason or "",
                )
                if diagnosis:
                    record.extra["diagnosis"] = diagnosis
            except Exception as error:
                self._problem(record, "facts explaining the failure", error)
        if record.failed and not record.reason:
            failed = [e for e in record.events if (e.get("result") or "").lower() == "error"]
            if failed:
                record.reason = "; ".join(
                    f"event {e['event']} failed on host {e.get('host') or 'unknown'}"
                    for e in failed
                )
            elif record.server_fault:
                record.reason = record.server_fault

    def _allocations(self, consumer: str, record: MigrationRecord) -> dict | None:
        admin = self._ctx.admin
        try:
            allocations = admin.allocations(consumer)
            if not allocations:
                return {}
            host_of = self._ctx.host_of_providers(needed=allocations)
            return {host_of.get(rp, rp): res for rp, res in sorted(allocations.items())}
        except Exception as error:
            self._problem(record, f"allocations of {consumer}", error)
            return None

    def _problem(self, record: MigrationRecord, what: str, error: Exception) -> None:
        message = f"could not read the {what}: {error}"
        record.extra.setdefault("evidence_errors", []).append(message)
        if threading.current_thread() is threading.main_thread():
            logger.debug(f"Evidence of {record.label()}: {message}")

    def _note_clock(self) -> None:
        fake = self._ctx.fake
        if fake is not None:
            try:
                self.clock_map.note(fake.control.now(), time.time())
            except Exception:  # a stopped fake: nothing to map
                pass

    def _read_times(self) -> dict[str, str | None]:
        """When a snapshot was read: cloud time (known on the fake) and wall time."""
        return {"cloud_time": self._cloud_now(), "wall_time": iso(dt.datetime.now(dt.UTC))}

    def _cloud_now(self) -> str | None:
        fake = self._ctx.fake
        if fake is None:
            return None
        try:
            clock = fake.control.clock()
        except Exception:
            return None
        epoch = clock.get("epoch")
        if epoch:
            return iso(parse_time(epoch) + dt.timedelta(seconds=float(clock["now"])))
        return None

    # -- logging (main thread only) -------------------------------------------------------

    def conclude(self, records: list[MigrationRecord], *, failed: bool = False) -> None:
        """Refreshes the records and logs one HTML block showing them on one time axis.

        Other moves of the same test that overlap them in time are drawn too (dimmed), so
        queueing behind another migration is visible. Main thread only.
        """
        for record in records:
            self.refresh(record)
            record.waits += 1
        shown = {r.record_id for r in records}
        context = [
            r
            for r in self.records
            if r.record_id not in shown
            and r.test == (records[0].test if records else None)
            and _overlaps(r, records)
        ]
        logger.info(
            migration_block(
                [r.as_dict() for r in records],
                [r.as_dict() for r in context],
                fake_clock=self._ctx.uses_fake,
            ),
            html=True,
        )

    # -- listener ----------------------------------------------------------------------------

    def test_started(self, suite: str, test: str) -> None:
        self.current_suite, self.current_test = suite, test

    def test_ended(self, status: str) -> None:
        """Brings the test's unfinished records up to date (quietly) and closes them."""
        test = self.current_test
        with self._lock:
            mine = [r for r in self.records if r.test == test and r.test_status is None]
        for record in mine:
            if not record.finished and self._ctx.connected:
                self._poll_once(record)
                self.refresh(record)
            elif not record.timeline:  # finished but never concluded (a sampled batch)
                self.refresh_timeline(record)
            record.test_status = status
        with self._lock:
            for server_id, record in list(self._open.items()):
                if record.test == test:
                    del self._open[server_id]
        self.current_test = None

    def _poll_once(self, record: MigrationRecord) -> None:
        try:
            records = self._ctx.admin.migrations(record.server_id)
        except Exception as error:
            self._problem(record, "migration record", error)
            return
        for migration in records:
            if migration.id == record.migration_id:
                self.observe(record, migration)


def _overlaps(record: MigrationRecord, others: list[MigrationRecord]) -> bool:
    start, end = record.start_time, record.end_time
    if start is None:
        return False
    for other in others:
        o_start, o_end = other.start_time, other.end_time
        if o_start is None:
            continue
        if start <= (o_end or o_start) and o_start <= (end or start):
            return True
    return False
