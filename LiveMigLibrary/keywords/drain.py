"""Draining a compute host: live-migrate every server that can move, report those that cannot."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from robot.api import logger
from robot.api.deco import keyword

from ..concurrency import check_concurrency, log_outcomes
from ..enums import BlockMigration, MigrationStatus
from ..errors import BatchFailed, InvalidArgument, WaitTimeout
from ..models import Migration, Server, ServerState
from ..waiting import bounded, describe_seconds, observing, unanswered
from .batch import BatchKeywords, MigrationFeed, Subject, conclude_evidence

MOVABLE_STATUSES = ("ACTIVE", "PAUSED")  # nova/compute/api.py live_migrate: check_instance_state


def refusal_reason(state: ServerState, move_locked: bool) -> str | None:
    """Why Nova would not (or the drain should not) live-migrate the server, or None."""
    if state.status not in MOVABLE_STATUSES:
        return f"{state.status}: Nova live-migrates only ACTIVE or PAUSED servers" + (
            " (cold-migrate a stopped server instead)" if state.status == "SHUTOFF" else ""
        )
    if state.task_state:
        return f"busy: task_state {state.task_state}"
    if state.locked and not move_locked:
        return "locked: its owner locked it (move_locked=True moves it anyway)"
    return None


def _refused(row: dict, error: BaseException) -> None:
    message = getattr(error, "cloud_message", None) or str(error)
    row.update(result="refused", reason=f"the cloud refused: {message}")
    logger.info(f"Live migration of server {row['server']} refused: {message}")


class DrainKeywords(BatchKeywords):
    @keyword(tags=["migrations", "hosts"])
    def live_migrate_all_servers_off_host(
        self,
        host: str,
        target: str | None = None,
        concurrency: int = 5,
        disable: bool = False,
        reason: str = "drained by LiveMigLibrary",
        move_locked: bool = False,
        block_migration: BlockMigration | bool | str = BlockMigration.AUTO,
        fail_on_failed: bool = True,
        poll_interval: timedelta | None = None,
    ) -> list[dict]:
        """Drains `host` for maintenance: live-migrates every server on it that can move.

        What `nova host-evacuate-live` does, with the outcome of every server: servers
        that cannot be live-migrated (`SHUTOFF`, `SUSPENDED`, a task in progress, locked)
        are refused up front with the reason; the others are moved with at most
        `concurrency` migrations in progress at once (a new one starts when one ends).
        Nova itself runs at most `max_concurrent_live_migrations` per source compute and
        `queued`s the rest; each state change of each migration is logged, and the moves
        end on one time axis in the log. A per-server table closes the log.

        Args:
            host: The compute host to empty (servers of every project on it).
            target: Destination of every move; omitted: the scheduler picks each one.
            concurrency: Most migrations in progress at once (1 to 100).
            disable: Disable the host's compute service first, so that nothing new lands
                on it; it is enabled again when the suite ends (or by
                [Delete Created Resources]).
            reason: The `disabled_reason` given with `disable`.
            move_locked: Also move locked servers (an admin may); by default they are
                refused, as their owner asked for them to be left alone.
            block_migration: `auto` (default), `true` or `false`.
            fail_on_failed: Fail at the end when an accepted move ended in `error`,
                `failed` or `cancelled` or did not end in time (default). Refused servers
                never fail the keyword: check the returned results.
            poll_interval: Default: the library's `poll_interval`. Each move may take the
                library's `migration_timeout`.

        Returns:
            One dictionary per server on the host, in name order: `server` (name), `id`,
            `result` (`moved`, `refused` or `failed`), `source`, `destination`,
            `migration` (id), `states` (the migration's states as seen) and `reason`.

        Example:

        ```robotframework
        *** Test Cases ***
        Empty A Host For Its Reboot
            @{results} =    Live Migrate All Servers Off Host    compute1
            ...    concurrency=3    disable=${True}    reason=kernel update
            FOR    ${row}    IN    @{results}
                Should Be Equal    ${row}[result]    moved    msg=${row}[server]: ${row}[reason]
            END
        ```
        """
        mode = BlockMigration.parse(block_migration)
        concurrency = check_concurrency(concurrency)
        if not host or not str(host).strip():
            raise InvalidArgument("host", host, "the name of a compute host")
        host = str(host).strip()
        target = str(target).strip() if target is not None and str(target).strip() else None
        if target == host:
            raise InvalidArgument("target", target, f"a compute host other than {host}")
        ctx = self._ctx
        interval = ctx.poll_interval(poll_interval)
        per_move_timeout = ctx.migration_timeout(None)
        self._service_of(host)
        self._check_host_is_ours(host, "drain")
        if target is not None:
            self._service_of(target, "target")
        if disable:
            self.disable_compute_service(host, reason)
        states = sorted(ctx.admin.list_servers(host=host), key=lambda s: (s.name, s.id))
        rows: dict[str, dict] = {}
        movable: list[Subject] = []
        for state in states:
            rows[state.id] = {
                "server": state.name,
                "id": state.id,
                "result": "",
                "source": host,
                "destination": "",
                "migration": "",
                "states": "",
                "reason": "",
            }
            why = refusal_reason(state, move_locked)
            if why:
                rows[state.id].update(result="refused", reason=why)
            else:
                movable.append(Subject(state.id, state.name, Server(state.id, state.name)))
        logger.info(
            f"Draining {host}: {len(states)} servers, {len(movable)} to move to "
            f"{target or 'scheduler-picked hosts'} with up to {concurrency} migrations in "
            f"progress at once, {len(states) - len(movable)} refused up front."
        )
        try:
            if movable:
                since = min((s.created for s in states if s.created), default=None)
                self._drain(
                    host,
                    target,
                    mode,
                    concurrency,
                    movable,
                    rows,
                    since,
                    interval,
                    per_move_timeout,
                )
        finally:  # also when the cloud stopped answering: what was seen so far
            results = [rows[s.id] for s in states]
            self._log_drain_table(host, results)
        failed = [r for r in results if r["result"] == "failed"]
        if failed and fail_on_failed:
            raise BatchFailed(
                f"moves off {host}", [f"{r['server']}: {r['reason']}" for r in failed], len(movable)
            )
        return results

    def _drain(
        self, host, target, mode, concurrency, movable, rows, since, interval, per_move_timeout
    ) -> None:
        """Keeps up to ``concurrency`` moves in progress; one migration listing per step."""
        ctx = self._ctx
        admin, client = ctx.admin, ctx.client
        pending = list(movable)
        moving: dict[str, float] = {}  # server id -> clock time its request was answered
        seen: dict[str, list[str]] = {s.id: [] for s in movable}
        labels = {s.id: s.label for s in movable}
        evidence = {}
        microversion = client.live_migrate_microversion()
        # records of earlier moves off this host are not the drain's
        feed = MigrationFeed(admin, source=host, since=since)
        known_before = set(feed.poll())
        start = ctx.clock.now()

        def request(subject: Subject):
            client.live_migrate(subject.id, target, mode.api_value)

        def timed_out(error):
            return WaitTimeout(
                f"Moves off {host} did not end within {describe_seconds(per_move_timeout)} "
                f"each, and the cloud stopped answering: {error}"
            )

        # each call is bounded by what is left of the timeout of the moves it serves
        poll = observing(feed.poll, timed_out)

        with self._workers(concurrency, len(movable)) as workers:
            while pending or moving:
                free = concurrency - len(moving)
                batch, pending = pending[:free], pending[free:]
                if batch:
                    for subject in batch:
                        ctx.migration_baseline[subject.id] = known_before
                        evidence[subject.id] = ctx.evidence.start(
                            subject.id,
                            "live-migration",
                            server_name=subject.label,
                            request={
                                "via": "sdk",
                                "microversion": microversion,
                                "host": target,
                                "block_migration": mode.value,
                                "drain": host,
                                "concurrency": concurrency,
                            },
                            allocations=False,
                        )
                    with bounded(ctx.clock, per_move_timeout):
                        outcomes = workers.map(request, batch)
                    log_outcomes(outcomes)
                    for outcome in outcomes:
                        unanswered(outcome.error, timed_out)
                        sid = outcome.item.id
                        if outcome.ok:
                            moving[sid] = ctx.clock.now()
                        else:
                            message = getattr(outcome.error, "cloud_message", str(outcome.error))
                            rows[sid].update(
                                result="refused", reason=f"the cloud refused: {message}"
                            )
                            ctx.evidence.forget(evidence.pop(sid))
                            logger.info(
                                f"Live migration of server {labels[sid]} refused: {message}"
                            )
                if not moving:
                    continue
                left = max(moving.values()) + per_move_timeout - ctx.clock.now()
                with bounded(ctx.clock, max(left, 0.0)):
                    poll()
                latest: dict[str, Migration] = feed.latest(
                    moving, {sid: known_before for sid in moving}
                )
                now = ctx.clock.now()
                for sid in list(moving):
                    migration = latest.get(sid)
                    if migration is None:
                        if now - moving[sid] > per_move_timeout:
                            rows[sid].update(result="failed", reason="no migration record")
                            del moving[sid]
                        continue
                    ctx.evidence.observe(evidence[sid], migration)
                    if not seen[sid] or seen[sid][-1] != migration.status:
                        seen[sid].append(migration.status)
                        logger.info(
                            f"Migration of server {labels[sid]}: {migration.status} (migration "
                            f"{migration.id}, {migration.source} -> {migration.destination}) "
                            f"after {now - start:.1f}s"
                        )
                    rows[sid].update(
                        migration=migration.id,
                        destination=migration.destination or "",
                        states=" > ".join(seen[sid]),
                    )
                    status = MigrationStatus.parse(migration.status)
                    if status is MigrationStatus.COMPLETED:
                        rows[sid].update(result="moved")
                        del moving[sid]
                    elif status.is_final:
                        rows[sid].update(result="failed", reason=f"migration ended {status.value}")
                        del moving[sid]
                    elif now - moving[sid] > per_move_timeout:
                        rows[sid].update(
                            result="failed",
                            reason=f"still {status.value} after {per_move_timeout:g}s",
                        )
                        del moving[sid]
                if moving and (not pending or len(moving) >= concurrency):
                    ctx.clock.sleep(interval)
        conclude_evidence(ctx, list(evidence.values()))

    def _log_drain_table(self, host: str, results: list[dict]) -> None:
        counts: dict[str, int] = {}
        for row in results:
            counts[row["result"]] = counts.get(row["result"], 0) + 1
        summary = ", ".join(f"{n} {result}" for result, n in sorted(counts.items())) or "empty"
        logger.info(f"Drained {host}: {summary}.")
        if not results:
            return
        columns = ("server", "result", "destination", "migration", "states", "reason")
        head = "".join(f"<th>{c}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(str(row[c]))}</td>" for c in columns) + "</tr>"
            for row in results
        )
        logger.info(
            f"<b>Drain of {escape(host)}</b>: {escape(summary)}"
            f'<table border="1" style="border-collapse:collapse"><tr>{head}</tr>{body}</table>',
            html=True,
        )
