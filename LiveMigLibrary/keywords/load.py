"""Load runs: create -> live-migrate -> delete iterations, many at a time; statistics and SLA."""

from __future__ import annotations

import concurrent.futures
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from html import escape

from robot.api import logger
from robot.api.deco import keyword
from robot.utils import DotDict, timestr_to_secs

from ..clock import RealClock
from ..concurrency import check_concurrency, log_outcomes
from ..enums import BlockMigration, MigrationStatus
from ..errors import CheckFailed, InvalidArgument, WaitTimeout
from ..evidence.record import parse_time
from ..evidence.stats import summary
from ..models import Server
from ..waiting import bounded, observing
from .batch import BatchKeywords, MigrationFeed, conclude_evidence

# the timeout of each phase: the iteration's state (or request) -> (phase, library setting)
PHASE_OF = {
    "create": ("create", "timeout"),
    "building": ("create", "timeout"),
    "migrate": ("live_migration", "migration_timeout"),
    "migrating": ("live_migration", "migration_timeout"),
    "delete": ("delete", "timeout"),
    "deleting": ("delete", "timeout"),
}

PHASES = ("create", "live_migration", "delete", "iteration")
STATISTICS = ("count", "min", "median", "p90", "p95", "max")
MAX_ITERATIONS = 10000


@dataclass
class Iteration:
    """One create -> ACTIVE -> live-migrate -> completed -> delete, as a state machine."""

    number: int
    name: str
    state: str = "creating"  # creating, building, migrating, deleting, done
    server_id: str | None = None
    entered: float = 0.0  # clock time the current phase's request was sent
    started: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)
    failed_phase: str | None = None
    error: str | None = None
    move: str = ""
    record: object | None = None
    requesting: bool = False  # a request of this iteration is in flight

    def fail(self, phase: str, error: str) -> None:
        if self.failed_phase is None:
            self.failed_phase, self.error = phase, error


class LoadKeywords(BatchKeywords):
    @keyword(tags=["migrations", "load"])
    def run_live_migration_load(
        self,
        iterations: int = 10,
        concurrency: int = 2,
        name: str = "load",
        image: str | None = None,
        flavor: str | None = None,
        delete: bool = True,
        block_migration: BlockMigration | bool | str = BlockMigration.AUTO,
        poll_interval: timedelta | None = None,
    ) -> DotDict:
        """Runs `iterations` times create -> ACTIVE -> live-migrate -> `completed` -> delete.

        Rally's `NovaServers.boot_and_live_migrate_server` as a keyword: `concurrency`
        iterations run at once, a new one starts when one ends. Each iteration creates
        one server (its own request), waits until it is ACTIVE, live-migrates it to a host
        the scheduler picks, waits until the migration is `completed` and deletes it (and
        waits until it is gone). A failed phase fails the iteration, with the cloud's
        reason, and its server is still deleted. Every create and migration is timed
        from the cloud's own records (a server's `created` to its `launched_at`, a
        migration's `created_at` to the `updated_at` of its `completed` record; a delete
        from its request to the poll that no longer finds the server), and every
        migration is recorded as migration evidence.

        The run is one loop on the main thread: each poll is one server listing and one
        migration listing for all iterations, so the embedded fake's clock moves once per
        step; the requests go out from `concurrency` worker threads.

        Args:
            iterations: How many iterations (1 to 10000).
            concurrency: Iterations in progress at once (1 to 100). Mind the project's
                quota: each iteration holds one server (the fake's default quota is 10).
            name: Server names are `<run prefix>-<name>-<iteration>`.
            image: Image name or id. Default: the library's `image`.
            flavor: Flavor name or id. Default: the library's `flavor`.
            delete: Delete each server at the end of its iteration (default); `False`
                keeps them until the suite ends.
            block_migration: `auto` (default), `true` or `false`.
            poll_interval: Default: the library's `poll_interval`. Each phase may take the
                library's `timeout` (create, delete) or `migration_timeout`.

        Returns:
            A dictionary: `iterations`, `concurrency`, `passed`, `failures`,
            `failure_rate` (0.0 to 1.0), `seconds` (the whole run), `errors` (one text per
            failed iteration) and `phases`: for `create`, `live_migration`, `delete` and
            `iteration`, the `count`, `min`, `median`, `p90`, `p95`, `max` (and `mean`)
            seconds of the iterations that passed that phase. Check it with
            [Load Run Should Meet SLA].

        Example:

        ```robotframework
        *** Test Cases ***
        Boot And Live Migrate Under Load
            ${run} =    Run Live Migration Load    iterations=20    concurrency=4
            Load Run Should Meet SLA    ${run}    max_failure_rate=0
            ...    live_migration_p95=60    create_max=120
        ```
        """
        if isinstance(iterations, bool) or not isinstance(iterations, int):
            raise InvalidArgument("iterations", iterations, f"a whole number 1-{MAX_ITERATIONS}")
        if not 1 <= iterations <= MAX_ITERATIONS:
            raise InvalidArgument("iterations", iterations, f"a whole number 1-{MAX_ITERATIONS}")
        concurrency = check_concurrency(concurrency)
        if not name or not str(name).strip():
            raise InvalidArgument("name", name, "a non-empty server name")
        mode = BlockMigration.parse(block_migration)
        ctx = self._ctx
        interval = ctx.poll_interval(poll_interval)
        image_ref = self._resolve_image(image if image else ctx.default_image())
        flavor_ref = self._resolve_flavor(flavor if flavor else ctx.default_flavor())
        networks = self._networks()
        base = f"{ctx.run_prefix}-{str(name).strip()}"
        logger.info(
            f"Load run: {iterations} iterations of create -> ACTIVE -> live-migrate -> "
            f"completed{' -> delete' if delete else ''}, {concurrency} at a time."
        )
        runner = _LoadRun(
            self, base, image_ref, flavor_ref, networks, mode, delete, concurrency, interval
        )
        with self._workers(concurrency, iterations) as workers:
            runner.workers = workers
            try:
                runner.run(iterations)
            finally:
                conclude_evidence(ctx, [it.record for it in runner.finished if it.record])
        result = runner.result(iterations)
        _log_result(result)
        return result

    @keyword(tags=["load", "assertions"])
    def load_run_should_meet_sla(
        self, run: dict, max_failure_rate: str | None = None, **limits: str
    ) -> None:
        """Fails unless the load run meets every criterion given, naming each one missed.

        Criteria as data, as Rally's SLA: the failure rate of the iterations (a failed
        create or delete counts, not only a failed migration) and any statistic of any
        phase. [Migrations Should Meet SLA] checks the run's migration records (exact
        timelines, per-status phases) beside it.

        Args:
            run: What [Run Live Migration Load] returned.
            max_failure_rate: Highest failure rate allowed, in percent (`0` or `0%`: no
                failed iteration).
            **limits: `<phase>_<statistic>=<time>`: the highest value allowed, e.g.
                `live_migration_p95=30s`, `create_max=1 min`, `iteration_median=20`.
                Phases: `create`, `live_migration`, `delete`, `iteration`; statistics:
                `min`, `median`, `p90`, `p95`, `max`, `mean`.

        Example:

        ```robotframework
        *** Test Cases ***
        SLA
            ${run} =    Run Live Migration Load    iterations=10    concurrency=2
            Load Run Should Meet SLA    ${run}    max_failure_rate=5%    live_migration_p95=30s
        ```
        """
        if not isinstance(run, dict) or "phases" not in run or "failure_rate" not in run:
            raise InvalidArgument(
                "run", type(run).__name__, "what Run Live Migration Load returned"
            )
        criteria = []
        if max_failure_rate is not None:
            limit = _number("max_failure_rate", max_failure_rate, "%")
            rate = float(run["failure_rate"]) * 100
            criteria.append(
                (f"failure rate {rate:g}% <= {limit:g}%", rate <= limit, run.get("errors") or [])
            )
        for key, value in limits.items():
            phase, _, statistic = key.rpartition("_")
            if phase not in PHASES or statistic not in (*STATISTICS[1:], "mean"):
                raise InvalidArgument(
                    key,
                    value,
                    "a limit named <phase>_<statistic>, phases "
                    + ", ".join(PHASES)
                    + "; statistics min, median, p90, p95, max, mean",
                )
            limit = _number(key, value)
            observed = run["phases"][phase].get(statistic)
            if observed is None:
                criteria.append((f"{phase} {statistic}: no {phase} was measured", False, []))
                continue
            criteria.append(
                (f"{phase} {statistic} {observed:.1f}s <= {limit:g}s", observed <= limit, [])
            )
        if not criteria:
            raise InvalidArgument("criteria", "", "max_failure_rate and/or <phase>_<statistic>")
        for text, success, _ in criteria:
            logger.info(f"SLA {'met' if success else 'MISSED'}: {text}")
        missed = [(text, offenders) for text, success, offenders in criteria if not success]
        if missed:
            details = "; ".join(
                text + (f" (failed: {'; '.join(offenders[:5])})" if offenders else "")
                for text, offenders in missed
            )
            raise CheckFailed(
                f"Load run missed {len(missed)} of {len(criteria)} SLA criteria: {details}."
            )


def _number(argument: str, value: object, unit: str = "") -> float:
    """A percentage (`5`, `5%`) or a time (`30`, `30s`, `1 min`), at least 0."""
    text = str(value).strip()
    try:
        if unit == "%":
            number = float(text.removesuffix("%"))
        else:
            number = timestr_to_secs(text)
    except (TypeError, ValueError):
        allowed = "a percentage such as 5 or 5%" if unit == "%" else "a time such as 30s or 2 min"
        raise InvalidArgument(argument, value, allowed) from None
    if number < 0:
        raise InvalidArgument(argument, value, "at least 0")
    return number


class _LoadRun:
    """The main-thread state machine of one load run."""

    def __init__(
        self, keywords, base, image, flavor, networks, mode, delete, concurrency, interval
    ):
        self.kw = keywords
        self.ctx = keywords._ctx
        self.base = base
        self.image, self.flavor, self.networks = image, flavor, networks
        self.mode = mode
        self.delete = delete
        self.concurrency = concurrency
        self.interval = interval
        self.workers = None
        self.active: list[Iteration] = []
        self.finished: list[Iteration] = []
        self.inflight: dict = {}  # future -> (iteration, kind)
        self.feed: MigrationFeed | None = None
        self.microversion = self.ctx.client.live_migrate_microversion()
        self.virtual = not isinstance(self.ctx.clock, RealClock)
        self.started = 0.0

    # -- requests (worker threads) -------------------------------------------------------

    def _create(self, it: Iteration) -> str:
        server_id = self.ctx.client.create_server(it.name, self.image, self.flavor, self.networks)
        self.ctx.tracker.add_servers([Server(server_id, it.name)])
        return server_id

    def _migrate(self, it: Iteration) -> None:
        self.ctx.client.live_migrate(it.server_id, None, self.mode.api_value)

    def _delete(self, it: Iteration) -> None:
        self.ctx.admin.delete_server(it.server_id)

    def _send(self, it: Iteration, kind: str) -> None:
        it.entered = self.ctx.clock.now()
        it.requesting = True
        function = {"create": self._create, "migrate": self._migrate, "delete": self._delete}[kind]
        with bounded(self.ctx.clock, self._limit(kind)):  # the request, on its worker too
            self.inflight[self.workers.submit(function, it)] = (it, kind)

    def _limit(self, state: str) -> float:
        """Seconds the phase of this state (or request) may take: the library's setting."""
        return getattr(self.ctx, PHASE_OF[state][1])(None)

    def _observe(self) -> bool:
        """`_poll`, its calls bounded by what is left of the longest phase timeout running."""
        now = self.ctx.clock.now()
        left = [
            it.entered + self._limit(it.state) - now
            for it in self.active
            if not it.requesting and it.state in PHASE_OF
        ]
        poll = observing(
            self._poll,
            lambda error: WaitTimeout(
                f"Load run {self.base} stopped: within the timeout of the phases in progress "
                f"({len(left)} iterations), the cloud stopped answering: {error}"
            ),
        )
        with bounded(self.ctx.clock, max(max(left), 0.0) if left else None):
            return poll()

    # -- the loop (main thread) ----------------------------------------------------------

    def run(self, iterations: int) -> None:
        clock = self.ctx.clock
        self.started = clock.now()
        waiting = deque(range(1, iterations + 1))
        while waiting or self.active:
            while waiting and len(self.active) < self.concurrency:
                number = waiting.popleft()
                it = Iteration(number, f"{self.base}-{number}", started=clock.now())
                self.active.append(it)
                self._send(it, "create")
            progressed = self._answers()
            progressed |= self._observe()
            progressed |= self._timeouts()
            if progressed:
                continue
            if self.inflight and not self.virtual:
                concurrent.futures.wait(
                    list(self.inflight), self.interval, concurrent.futures.FIRST_COMPLETED
                )
            else:
                clock.sleep(self.interval)

    def _answers(self) -> bool:
        """Handles the answered requests; on the fake's clock waits for all in flight first."""
        if not self.inflight:
            return False
        if self.virtual:  # requests do not need the virtual clock: no time passes meanwhile
            concurrent.futures.wait(list(self.inflight))
        answered = [f for f in self.inflight if f.done()]
        for future in answered:
            it, kind = self.inflight.pop(future)
            it.requesting = False
            outcome = future.result()
            log_outcomes([outcome])
            if kind == "create":
                if outcome.ok:
                    it.server_id, it.state = outcome.value, "building"
                else:
                    it.fail("create", str(outcome.error))
                    self._finish(it)
            elif kind == "migrate":
                if outcome.ok:
                    it.state = "migrating"
                else:
                    self.ctx.evidence.forget(it.record)
                    it.record = None
                    it.fail("live_migration", str(outcome.error))
                    self._after(it)
            elif outcome.ok:
                it.state = "deleting"
            else:
                it.fail("delete", str(outcome.error))
                self._finish(it)
        return bool(answered)

    def _poll(self) -> bool:
        ctx = self.ctx
        now = ctx.clock.now()
        changed = False
        watching = [it for it in self.active if not it.requesting]
        if any(it.state in ("building", "deleting") for it in watching):
            states = {
                s.id: s for s in ctx.admin.list_servers(name="^" + re.escape(self.base + "-"))
            }
            if self.feed is None:
                created = [s.created for s in states.values() if s.created]
                if created:
                    self.feed = MigrationFeed(ctx.admin, since=min(created))
            for it in watching:
                state = states.get(it.server_id)
                if it.state == "building":
                    if state is None:
                        it.fail("create", "the server disappeared while building")
                        self._finish(it)
                    elif state.status == "ERROR":
                        it.fail("create", f"server went to ERROR: {state.fault or 'no fault'}")
                        self._after(it)
                    elif state.status == "ACTIVE" and not state.task_state:
                        it.seconds["create"] = _between(
                            state.created, state.launched_at, now - it.entered
                        )
                        self._start_migration(it)
                    else:
                        continue
                    changed = True
                elif it.state == "deleting" and (state is None or state.status == "DELETED"):
                    it.seconds["delete"] = now - it.entered
                    ctx.tracker.forget_server(it.server_id)
                    self._finish(it)
                    changed = True
        migrating = [it for it in watching if it.state == "migrating"]
        if migrating and self.feed is not None:
            self.feed.poll()
            latest = self.feed.latest({it.server_id for it in migrating})
            for it in migrating:
                migration = latest.get(it.server_id)
                if migration is None:
                    continue
                ctx.evidence.observe(it.record, migration)
                it.move = f"{migration.source} -> {migration.destination}"
                try:
                    status = MigrationStatus.parse(migration.status)
                except InvalidArgument:
                    continue
                if status is MigrationStatus.COMPLETED:
                    it.seconds["live_migration"] = _between(
                        migration.created_at, migration.updated_at, now - it.entered
                    )
                    self._after(it)
                    changed = True
                elif status.is_final:
                    it.fail(
                        "live_migration",
                        f"migration {migration.id} ended {status.value} ({it.move})",
                    )
                    self._after(it)
                    changed = True
        return changed

    def _timeouts(self) -> bool:
        ctx = self.ctx
        now = ctx.clock.now()
        changed = False
        limits = {
            state: (PHASE_OF[state][0], self._limit(state))
            for state in ("building", "migrating", "deleting")
        }
        for it in list(self.active):
            if it.requesting or it.state not in limits:
                continue
            phase, limit = limits[it.state]
            if now - it.entered > limit:
                it.fail(phase, f"{phase} did not end within {limit:g} seconds")
                if it.state == "deleting":
                    self._finish(it)
                else:
                    self._after(it)
                changed = True
        return changed

    def _start_migration(self, it: Iteration) -> None:
        it.record = self.ctx.evidence.start(
            it.server_id,
            "live-migration",
            server_name=it.name,
            request={
                "via": "sdk",
                "microversion": self.microversion,
                "host": None,
                "block_migration": self.mode.value,
                "load_iteration": it.number,
                "concurrency": self.concurrency,
            },
            allocations=False,
        )
        self.ctx.migration_baseline[it.server_id] = set()
        self._send(it, "migrate")

    def _after(self, it: Iteration) -> None:
        """The iteration's work is over (or failed): delete its server, or finish."""
        if self.delete and it.server_id:
            self._send(it, "delete")
        else:
            self._finish(it)

    def _finish(self, it: Iteration) -> None:
        it.state = "done"
        if it.failed_phase is None:
            it.seconds["iteration"] = self.ctx.clock.now() - it.started
        self.active.remove(it)
        self.finished.append(it)
        if it.failed_phase:
            logger.info(
                f"Iteration {it.number} ({it.name}) FAILED in {it.failed_phase}: {it.error}"
            )
        else:
            timings = ", ".join(f"{p} {s:.1f}s" for p, s in it.seconds.items() if p != "iteration")
            logger.info(f"Iteration {it.number} ({it.name}): {timings}; moved {it.move}.")

    def result(self, iterations: int) -> DotDict:
        done = sorted(self.finished, key=lambda it: it.number)
        failed = [it for it in done if it.failed_phase]
        phases = {
            phase: summary(it.seconds[phase] for it in done if phase in it.seconds)
            for phase in PHASES
        }
        return DotDict(
            iterations=iterations,
            concurrency=self.concurrency,
            passed=len(done) - len(failed),
            failures=len(failed),
            failure_rate=len(failed) / iterations,
            seconds=self.ctx.clock.now() - self.started,
            errors=[f"iteration {it.number}: {it.failed_phase}: {it.error}" for it in failed],
            phases=DotDict((p, DotDict(s)) for p, s in phases.items()),
        )


def _between(start: str | None, end: str | None, polled: float) -> float:
    """Seconds between two timestamps of the cloud's own records, or else as polled."""
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None or last < first:
        return polled
    return (last - first).total_seconds()


def _log_result(result: DotDict) -> None:
    logger.info(
        f"Load run: {result.iterations} iterations at concurrency {result.concurrency}: "
        f"{result.passed} passed, {result.failures} failed (failure rate "
        f"{result.failure_rate * 100:.1f}%), {result.seconds:.1f}s."
    )
    head = "<th>phase</th>" + "".join(f"<th>{s}</th>" for s in STATISTICS)
    rows = []
    for phase, stats in result.phases.items():
        cells = []
        for statistic in STATISTICS:
            value = stats.get(statistic)
            if value is None:
                cells.append("<td>-</td>")
            elif statistic == "count":
                cells.append(f"<td>{value}</td>")
            else:
                cells.append(f"<td>{value:.1f}s</td>")
        rows.append(f"<tr><td>{escape(phase)}</td>{''.join(cells)}</tr>")
    logger.info(
        f"<b>Load run</b>: {result.passed} of {result.iterations} iterations passed"
        '<table border="1" style="border-collapse:collapse">'
        f"<tr>{head}</tr>{''.join(rows)}</table>",
        html=True,
    )
