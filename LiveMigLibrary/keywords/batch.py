"""Many servers at once: which are on a host, concurrent creates, concurrent moves, one wait."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword

from .. import overlap
from ..concurrency import Outcome, Workers, check_concurrency, log_outcomes
from ..diagnosis import explain_move
from ..enums import BlockMigration, MigrationStatus
from ..errors import BatchFailed, CheckFailed, CloudError, InvalidArgument
from ..models import Migration, Server
from ..waiting import ManyWaiter
from .base import KeywordGroup

# migration statuses in which a live migration holds a slot of its source compute or waits
IN_PROGRESS = {"accepted", "queued", "preparing", "running", "post-migrating"}
PER_SERVER_POLL_LIMIT = 4  # up to this many servers a wait lists each one's records
EXPLAINED_REFUSALS = 5  # refused requests of a batch explained with facts read afterwards
# Concluding a migration record reads its timeline, events and allocations (about ten
# calls); a wait over more moves concludes the failed ones and the first few only (the
# evidence layer gives the others their timelines when the test ends).
FULL_EVIDENCE_LIMIT = 20
EVIDENCE_SAMPLE = 5


class MigrationFeed:
    """The latest migration record of each server, from one `os-migrations` listing a poll.

    The first poll lists the records changed since ``since`` (a time of the cloud, e.g.
    the servers' `created`); each later one only those changed since the newest
    `updated_at` seen so far (Nova's `changes-since` includes that instant), so a poll
    costs what changed, not every record of the run.
    """

    def __init__(self, admin, *, source: str | None = None, since: str | None = None):
        self._admin = admin
        self._source = source
        self.cursor = since
        self.records: dict = {}  # migration id -> latest Migration

    def poll(self) -> dict:
        found = self._admin.list_migrations(
            source=self._source, migration_type=None, changes_since=self.cursor
        )
        for record in found:
            self.records[record.id] = record
        stamps = [r.updated_at or r.created_at for r in found if r.updated_at or r.created_at]
        if stamps:
            newest = max(stamps)
            if self.cursor is None or newest > self.cursor:
                self.cursor = newest
        return self.records

    def latest(self, server_ids, ignore: dict | None = None) -> dict:
        """Server id -> its newest record (by id) not in ``ignore[server id]``."""
        latest: dict = {}
        for record in sorted(self.records.values(), key=lambda m: _order(m.id)):
            if record.server_id in server_ids:
                if ignore and record.id in ignore.get(record.server_id, ()):
                    continue
                latest[record.server_id] = record
        return latest


def _order(migration_id):
    text = str(migration_id)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def conclude_evidence(ctx, records: list) -> None:
    """Concludes the migration records of a wait (see `FULL_EVIDENCE_LIMIT`)."""
    if not records:
        return
    if len(records) <= FULL_EVIDENCE_LIMIT:
        ctx.evidence.conclude(records)
        return
    failed = [r for r in records if r.status in ("error", "failed", "cancelled")]
    chosen = records[:EVIDENCE_SAMPLE] + [r for r in failed if r not in records[:EVIDENCE_SAMPLE]]
    logger.info(
        f"Full evidence (timeline, events, allocations) of {len(chosen)} of {len(records)} "
        f"migrations: the first {EVIDENCE_SAMPLE} and every failed one; all are in "
        "migrations.json."
    )
    ctx.evidence.conclude(chosen)


@dataclass(frozen=True)
class Subject:
    """A server a batch keyword works on: its id and the name it is logged with."""

    id: str
    label: str
    server: Server


def max_in_flight(intervals: list[tuple[float, float]]) -> int:
    """Most requests whose (sent, answered) wall-clock intervals overlap."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    best = current = 0
    for _, change in events:
        current += change
        best = max(best, current)
    return best


class BatchKeywords(KeywordGroup):
    # -- which servers are where ----------------------------------------------------------------

    def _subjects(self, servers, argument: str = "servers") -> list[Subject]:
        if not servers:
            raise InvalidArgument(argument, "", "at least one server")
        ctx = self._ctx
        subjects = []
        for server in servers:
            sid = ctx.server_id(server)
            if isinstance(server, Server):
                subjects.append(Subject(sid, server.name, server))
            else:
                subjects.append(Subject(sid, str(server), Server(sid, str(server))))
        seen = set()
        for subject in subjects:
            if subject.id in seen:
                raise InvalidArgument(argument, subject.label, "each server once")
            seen.add(subject.id)
        return subjects

    def _ids_on_host(self, host: str) -> dict[str, str]:
        """Server id -> name of every server (any project) on ``host``."""
        self._service_of(host)
        return {s.id: s.name for s in self._ctx.admin.list_servers(host=host)}

    @keyword(tags=["servers", "hosts"])
    def get_servers_on_host(self, host: str, *servers: Server | str) -> list[Server]:
        """Returns the servers that are on compute host `host`, from one server listing.

        Args:
            host: Compute host name.
            *servers: Servers to choose from (as returned by [Create Servers], or names or
                ids). None given: every server on the host, of any project.

        Returns:
            The servers on the host: those of `servers` in their order, or all of the host's
            in name order.

        Example:

        ```robotframework
        *** Test Cases ***
        Who Is On The First Host
            @{servers} =    Create Servers    count=4
            Wait Until Servers Are Active    @{servers}
            @{there} =    Get Servers On Host    compute1    @{servers}
            @{everyone} =    Get Servers On Host    compute1
        ```
        """
        on_host = self._ids_on_host(host)
        if not servers:
            found = [Server(sid, name) for sid, name in on_host.items()]
            return sorted(found, key=lambda s: (s.name, s.id))
        return [s.server for s in self._subjects(servers) if s.id in on_host]

    @keyword(tags=["servers", "hosts"])
    def get_servers_not_on_host(self, host: str, *servers: Server | str) -> list[Server]:
        """Returns those of `servers` that are not on compute host `host`.

        Typical use: the servers of a multi-create that must move to one host.

        Args:
            host: Compute host name.
            *servers: The servers to choose from (at least one).

        Returns:
            The servers not on the host, in the order given.

        Example:

        ```robotframework
        *** Test Cases ***
        Gather On One Host
            @{servers} =    Create Servers    count=4
            Wait Until Servers Are Active    @{servers}
            ${target} =    Get Server Host    ${servers}[0]
            @{movers} =    Get Servers Not On Host    ${target}    @{servers}
            Live Migrate Servers    @{movers}    host=${target}
        ```
        """
        subjects = self._subjects(servers)
        on_host = self._ids_on_host(host)
        return [s.server for s in subjects if s.id not in on_host]

    @keyword(tags=["servers", "hosts", "assertions"])
    def servers_should_be_on_host(self, host: str, *servers: Server | str) -> None:
        """Fails unless every one of `servers` is on compute host `host`, naming each that is not.

        Args:
            host: Expected compute host.
            *servers: The servers (at least one).

        Example:

        ```robotframework
        *** Test Cases ***
        All Gathered
            @{servers} =    Create Servers    count=2    name=gather
            Wait Until Servers Are Active    @{servers}
            Live Migrate Servers    @{servers}    host=${source}
            Wait Until Migrations Of Servers Are    ${servers}    completed
            Servers Should Be On Host    ${source}    ${server}    @{servers}
        ```
        """
        subjects = self._subjects(servers)
        on_host = self._ids_on_host(host)
        offenders = []
        for subject in subjects:
            if subject.id not in on_host:
                state = self._ctx.admin.server_state(subject.id)
                where = f"on host {state.host}" if state and state.host else "on no host"
                if state is None:
                    where = "gone"
                offenders.append(f"{subject.label} is {where}")
        if offenders:
            raise CheckFailed(
                f"{len(offenders)} of {len(subjects)} servers are not on host {host}: "
                + ", ".join(offenders)
                + "."
            )
        logger.info(f"All {len(subjects)} servers are on host {host}.")

    # -- many at once ---------------------------------------------------------------------------

    def _workers(self, concurrency: int, count: int) -> Workers:
        size = max(1, min(concurrency, count))
        self._ctx.client.allow_concurrency(size)
        self._ctx.admin.allow_concurrency(size)
        return Workers(size)

    @keyword(tags=["servers"])
    def create_servers_concurrently(
        self,
        count: int = 2,
        name: str = "server",
        image: str | None = None,
        flavor: str | None = None,
        concurrency: int | None = None,
        host: str | None = None,
    ) -> list[Server]:
        """Sends `count` separate create requests at once, as that many users would.

        Unlike [Create Servers] (one multi-create request for all), each server has its own
        request, its own scheduling and no reservation shared with the others. The log
        shows how many requests were in flight at the same time. Each server is recorded
        for cleanup as soon as its request returns, so nothing escapes when a request
        fails or the test is stopped.

        Args:
            count: How many servers (1 to 100).
            name: Name after the run-unique prefix; `-1`, `-2`... are added, as Nova does.
            image: Image name or id. Default: the library's `image`.
            flavor: Flavor name or id. Default: the library's `flavor`.
            concurrency: Most requests in flight at once. Default: all of them.
            host: Ask for this compute host (compute API 2.74, admin; the scheduler still
                checks it), e.g. one of [Reserve Compute Hosts]. Default: the scheduler
                picks.

        Returns:
            The servers in name order (`id`, `name`); usually still building.

        Fails after every request has been answered, naming each request the cloud refused
        with its reason (e.g. quota); the servers that were created are still cleaned up.

        Example:

        ```robotframework
        *** Test Cases ***
        Five Users Boot At Once
            @{servers} =    Create Servers Concurrently    5    name=rush
            Wait Until Servers Are Active    @{servers}
        ```
        """
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
            raise InvalidArgument("count", count, "a whole number from 1 to 100")
        if not name or not str(name).strip():
            raise InvalidArgument("name", name, "a non-empty server name")
        concurrency = check_concurrency(count if concurrency is None else concurrency)
        ctx = self._ctx
        client = ctx.client
        host = str(host).strip() if host is not None and str(host).strip() else None
        if host is not None:
            self._service_of(host)
        image_ref = self._resolve_image(image if image else ctx.default_image())
        flavor_ref = self._resolve_flavor(flavor if flavor else ctx.default_flavor())
        networks = self._networks()
        base = f"{ctx.run_prefix}-{name}"
        names = [f"{base}-{index}" for index in range(1, count + 1)]

        def create(server_name: str):
            sent = time.monotonic()
            server_id = client.create_server(server_name, image_ref, flavor_ref, networks, host)
            server = Server(server_id, server_name)
            ctx.tracker.add_servers([server])
            return server, (sent, time.monotonic())

        started = time.monotonic()
        with self._workers(concurrency, count) as workers:
            outcomes = workers.map(create, names)
        took = time.monotonic() - started
        log_outcomes(outcomes)
        created = [o.value[0] for o in outcomes if o.ok]
        overlap = max_in_flight([o.value[1] for o in outcomes if o.ok])
        logger.info(
            f"Sent {count} create requests, up to {concurrency} at a time; {overlap} were in "
            f"flight at once at most; all answered within {took:.2f}s (wall clock). Created: "
            + (", ".join(str(s) for s in created) or "none")
        )
        self._raise_failures("create requests", outcomes, lambda o: o.item)
        return created

    def _raise_failures(self, what: str, outcomes: list[Outcome], label) -> None:
        failed = [o for o in outcomes if not o.ok]
        if not failed:
            return
        # what to do is said once, not once per server
        hints = [o.error.hint for o in failed if isinstance(o.error, CloudError) and o.error.hint]
        failures = [
            f"{label(o)}: "
            + (o.error.without_hint() if isinstance(o.error, CloudError) else str(o.error))
            for o in failed
        ]
        raise BatchFailed(what, failures, len(outcomes), " ".join(dict.fromkeys(hints)))

    @keyword(tags=["migrations"])
    def live_migrate_servers(
        self,
        *servers: Server | str,
        host: str | dict | None = None,
        concurrency: int = 10,
        block_migration: BlockMigration | bool | str = BlockMigration.AUTO,
    ) -> None:
        """Asks Nova to live-migrate many servers, `concurrency` requests in flight at once.

        Each request is what [Live Migrate Server] sends (`os-migrateLive` at microversion
        2.30, so the scheduler checks a named host and pre-check failures are answered at
        once). Follow the moves with [Wait Until Migrations Of Servers Are].

        Args:
            *servers: The servers (at least one).
            host: Destination of every server; or a dictionary server name or id ->
                destination; omitted: the scheduler picks each destination.
            concurrency: Most requests in flight at once (1 to 100). Nova itself runs at
                most `max_concurrent_live_migrations` per source compute and queues the rest.
            block_migration: `auto` (default), `true` or `false`.

        Fails after every request has been answered, naming each refused server with the
        cloud's reason; the accepted moves go on.

        Example:

        ```robotframework
        *** Test Cases ***
        Move Three At Once
            @{servers} =    Create Servers    count=3    name=batch
            Wait Until Servers Are Active    @{servers}
            Live Migrate Servers    @{servers}    concurrency=3
            Wait Until Migrations Of Servers Are    ${servers}    completed
        ```
        """
        mode = BlockMigration.parse(block_migration)
        concurrency = check_concurrency(concurrency)
        subjects = self._subjects(servers)
        targets = self._targets(subjects, host)
        ctx = self._ctx
        admin, client = ctx.admin, ctx.client

        def existing(subject: Subject) -> set:
            return {m.id for m in admin.list_migrations(server_id=subject.id, migration_type=None)}

        def migrate(subject: Subject):
            sent = time.monotonic()
            client.live_migrate(subject.id, targets[subject.id], mode.api_value)
            return sent, time.monotonic()

        where = host if isinstance(host, str) and host else None
        logger.info(
            f"Live-migrating {len(subjects)} servers to "
            + (where or ("the given hosts" if isinstance(host, dict) else "scheduler-picked hosts"))
            + f", up to {concurrency} requests at a time (block_migration {mode.value})."
        )
        with self._workers(concurrency, len(subjects)) as workers:
            # as Live Migrate Server does: records from before the move are not "the" migration
            listed = workers.map(existing, subjects)
            log_outcomes(listed)
            self._raise_failures("listings of existing migrations", listed, lambda o: o.item.label)
            for outcome in listed:
                ctx.migration_baseline[outcome.item.id] = outcome.value
            records = self._start_records(subjects, targets, mode, concurrency)
            started = time.monotonic()
            outcomes = workers.map(migrate, subjects)
            took = time.monotonic() - started
        log_outcomes(outcomes)
        for outcome in outcomes:
            target = targets[outcome.item.id] or "a scheduler-picked host"
            verdict = "accepted" if outcome.ok else "refused"
            logger.info(f"Live migration of server {outcome.item.label} to {target} {verdict}.")
        overlap = max_in_flight([o.value for o in outcomes if o.ok])
        logger.info(
            f"{sum(o.ok for o in outcomes)} of {len(outcomes)} live migrations accepted; "
            f"{overlap} requests were in flight at once at most; all answered within "
            f"{took:.2f}s (wall clock)."
        )
        refused = [o.item for o in outcomes if not o.ok]
        if refused:
            self._record_refusals(refused, records, outcomes)
            self._explain_refusals(outcomes, targets)
        self._raise_failures("live migration requests", outcomes, lambda o: o.item.label)

    def _explain_refusals(self, outcomes, targets) -> None:
        """Adds to the first refusals what an operator would look up (as Live Migrate
        Server does); a big batch's refusals usually share their cause."""
        refusals = [o for o in outcomes if not o.ok and isinstance(o.error, CloudError)]
        for outcome in refusals[:EXPLAINED_REFUSALS]:
            sid = outcome.item.id
            outcome.error.with_explanation(
                explain_move(
                    self._ctx.admin,
                    sid,
                    targets[sid],
                    migration=self._latest(sid),
                    already_said=outcome.error.cloud_message,
                )
            )

    def _start_records(self, subjects, targets, mode, concurrency) -> dict:
        """Opens the evidence record of each move (before any request is sent)."""
        ctx = self._ctx
        microversion = ctx.client.live_migrate_microversion()
        # the allocations before each move are read for small batches; for big ones (a
        # drain, a load run) the records keep the end allocations only
        allocations = len(subjects) <= PER_SERVER_POLL_LIMIT
        return {
            s.id: ctx.evidence.start(
                s.id,
                "live-migration",
                server_name=s.label,
                request={
                    "via": "sdk",
                    "microversion": microversion,
                    "host": targets[s.id],
                    "block_migration": mode.value,
                    "batch": len(subjects),
                    "concurrency": concurrency,
                },
                allocations=allocations,
            )
            for s in subjects
        }

    def _record_refusals(self, refused, records, outcomes) -> None:
        """A refused request may still have left a record (pre-checks run in the request)."""
        errors = {o.item.id: o.error for o in outcomes if not o.ok}
        self._ctx.evidence.refused(
            [
                (
                    records[subject.id],
                    self._latest(subject.id),
                    getattr(errors[subject.id], "cloud_message", str(errors[subject.id])),
                )
                for subject in refused
            ]
        )

    def _targets(self, subjects: list[Subject], host) -> dict[str, str | None]:
        if host is None or (isinstance(host, str) and not host.strip()):
            return {s.id: None for s in subjects}
        if isinstance(host, str):
            self._service_of(host.strip())
            return {s.id: host.strip() for s in subjects}
        if not isinstance(host, dict):
            raise InvalidArgument("host", host, "a host name, or a dictionary server -> host")
        known = {s.host for s in self._ctx.admin.compute_services()}
        targets: dict[str, str | None] = {s.id: None for s in subjects}
        labels = {s.label: s.id for s in subjects} | {s.id: s.id for s in subjects}
        for key, value in host.items():
            name = key.name if isinstance(key, Server) else str(key)
            sid = labels.get(name)
            if sid is None:
                raise InvalidArgument("host", key, "keys that are the servers' names or ids")
            if value is not None and str(value).strip() and str(value) not in known:
                allowed = "a compute host of this cloud: " + ", ".join(sorted(known))
                raise InvalidArgument(f"host[{name}]", value, allowed)
            targets[sid] = str(value).strip() or None if value is not None else None
        return targets

    # -- one wait over many -----------------------------------------------------------------

    @keyword(tags=["migrations", "wait"])
    def wait_until_migrations_of_servers_are(
        self,
        servers: list[Server | str] | Server | str,
        status: MigrationStatus | str,
        timeout: timedelta | None = None,
        poll_interval: timedelta | None = None,
    ) -> list[Migration]:
        """Waits until the latest migration record of every server has `status`.

        One wait over all of them: each poll is one listing of migration records, not one
        call per server; each state change of each migration is logged on its own line,
        and at the end all migrations are drawn on one time axis (which moves overlapped,
        which queued behind Nova's `max_concurrent_live_migrations`), with the most moves
        in progress at once. As for one server, only records created since [Live Migrate
        Servers] (or [Watch For New Migration Of Server]) count.

        Args:
            servers: A list of servers (or one server).
            status: The status every migration must reach, e.g. `completed`.
            timeout: Default: the library's `migration_timeout`.
            poll_interval: Default: the library's `poll_interval`.

        Returns:
            The migration records, in the order of `servers`.

        Fails when the time is up, or once every migration has ended, naming each
        migration that ended in another final status (`error`, `failed`, `cancelled`).

        Example:

        ```robotframework
        *** Test Cases ***
        Both Moves Complete
            ${first}    ${second} =    Create Servers    count=2    name=pair
            Wait Until Servers Are Active    ${first}    ${second}
            Live Migrate Servers    ${first}    ${second}
            @{migrations} =    Wait Until Migrations Of Servers Are
            ...    ${{[$first, $second]}}    completed    timeout=15 min
        ```
        """
        wanted = MigrationStatus.parse(status)
        ctx = self._ctx
        wait_timeout = ctx.migration_timeout(timeout)
        interval = ctx.poll_interval(poll_interval)
        if isinstance(servers, (Server, str)):
            servers = [servers]
        subjects = self._subjects(list(servers or []))
        found = self._wait_for_migrations(subjects, wanted, wait_timeout, interval)
        return [found[s.id] for s in subjects]

    def _wait_for_migrations(
        self,
        subjects: list[Subject],
        wanted: MigrationStatus,
        wait_timeout: float,
        interval: float,
        source: str | None = None,
        title: str | None = None,
    ) -> dict[str, Migration]:
        """The wait of [Wait Until Migrations Of Servers Are]; ``source``: all leave one host."""
        ctx = self._ctx
        admin = ctx.admin
        by_id = {s.id: s for s in subjects}
        baseline = {s.id: ctx.migration_baseline.get(s.id, set()) for s in subjects}
        evidence = {s.id: ctx.evidence.for_wait(s.id, "live-migration", s.label) for s in subjects}
        since = None
        if source is None and len(subjects) > PER_SERVER_POLL_LIMIT:
            created = [st.created for s in subjects if (st := admin.server_state(s.id))]
            since = min((c for c in created if c), default=None)
        feed = MigrationFeed(admin, source=source, since=since)

        def observe() -> dict[str, Migration | None]:
            if source is not None or len(subjects) > PER_SERVER_POLL_LIMIT:
                feed.poll()
            else:
                for s in subjects:
                    for m in admin.list_migrations(server_id=s.id, migration_type=None):
                        feed.records[m.id] = m
            latest = feed.latest(by_id, baseline)
            for sid, migration in latest.items():
                ctx.evidence.observe(evidence[sid], migration)
            return latest

        def describe(sid: str, migration: Migration | None) -> str:
            if migration is None:
                return "not recorded yet"
            return f"{migration.status} (migration {migration.id}, {migration.route()})"

        explained: dict[str, str] = {}  # read once per failed server, for the first few

        def failure(sid: str, migration: Migration | None) -> str | None:
            if migration is None or migration.status == wanted.value:
                return None
            try:
                current = MigrationStatus(migration.status)
            except ValueError:
                return None
            if not current.is_final:
                return None
            failed = current in (MigrationStatus.ERROR, MigrationStatus.FAILED)
            if failed and sid not in explained and len(explained) < EXPLAINED_REFUSALS:
                explained[sid] = self._explain_failed_migration(sid, migration)
            why = f": {explained[sid].rstrip('.')}" if explained.get(sid) else ""
            return (
                f"migration {migration.id} of server {by_id[sid].label} ended {current.value} "
                f"({migration.route()})" + why
            )

        waiter = ManyWaiter(
            ctx.clock,
            f"migration status {wanted.value}",
            wait_timeout,
            interval,
            lambda sid: f"Migration of server {by_id[sid].label}",
        )
        started = ctx.clock.now()
        try:
            found = waiter.wait(
                [s.id for s in subjects],
                observe,
                lambda sid, m: m is not None and m.status == wanted.value,
                describe,
                failure,
            )
        finally:
            self._log_overlap(
                title or f"{len(subjects)} migrations", subjects, waiter, ctx.clock.now() - started
            )
            # one HTML block: every migration of the wait on one time axis
            conclude_evidence(ctx, list(evidence.values()))
        return found

    def _log_overlap(self, title: str, subjects, waiter: ManyWaiter, end: float) -> None:
        history = waiter.history or {}
        rows = []
        for subject in subjects:
            points = []
            detail = ""
            for elapsed, text in history.get(subject.id, []):
                if text == "not recorded yet":
                    continue
                state, _, rest = text.partition(" ")
                points.append((elapsed, state))
                detail = rest.strip("()").split(", ", 1)[-1]
            rows.append(overlap.Row(subject.label, detail, points, end))
        if not any(row.points for row in rows):
            return
        moving, at = overlap.max_overlap(rows, IN_PROGRESS)
        running, run_at = overlap.max_overlap(rows, {"running"})
        logger.info(
            f"{title}: up to {moving} in progress at once (first at {at:.1f}s), up to "
            f"{running} running at once (first at {run_at:.1f}s)."
        )
