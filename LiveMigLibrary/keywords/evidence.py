"""The migration records as data, and SLA checks over them."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

from robot.api import logger
from robot.api.deco import keyword

from ..errors import CheckFailed, InvalidArgument
from ..evidence import sla
from ..waiting import seconds
from .base import KeywordGroup

PHASES = (
    "accepted",
    "queued",
    "preparing",
    "running",
    "post-migrating",
    "pre-migrating",
    "migrating",
    "post-migrated",
    "finished",
    "confirming",
    "reverting",
)


class EvidenceScope(Enum):
    """Which migration records a keyword looks at.

    - `TEST`: those started or waited for in the current test.
    - `SUITE`: those of the current suite (and its child suites) in this process.
    - `RUN`: every record of this Robot Framework process (under pabot: of this process).
    """

    TEST = "test"
    SUITE = "suite"
    RUN = "run"


class EvidenceKeywords(KeywordGroup):
    def _records(self, scope: EvidenceScope) -> list[dict]:
        recorder = self._ctx.evidence
        records = recorder.run.dicts()
        if scope is EvidenceScope.TEST:
            return [
                r
                for r in records
                if r["test"] == recorder.current_test and r["suite"] == recorder.current_suite
            ]
        if scope is EvidenceScope.SUITE:
            suite = recorder.current_suite or ""
            return [
                r
                for r in records
                if r["suite"] == suite or (r["suite"] or "").startswith(suite + ".")
            ]
        return records

    @keyword(tags=["evidence"])
    def get_migration_records(self, scope: EvidenceScope = EvidenceScope.TEST) -> list[dict]:
        """Returns the migration records of the test, suite or run as dictionaries.

        The layout is that of the entries of `migrations.json` (see `docs/evidence.md`):
        `server_name`, `migration_id`, `source`, `destination`, `status`, `timeline`,
        `phase_seconds`, `total_seconds`, `allocations`, `events`...

        Args:
            scope: `test` (default), `suite` or `run`.

        Returns:
            A list of dictionaries, oldest first.

        Example:

        ```robotframework
        *** Test Cases ***
        Running Phase Took Five Seconds
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            @{records} =    Get Migration Records
            Should Be Equal As Numbers    ${records}[0][phase_seconds][running]    5
        ```
        """
        return self._records(scope)

    @keyword(tags=["evidence", "assertions"])
    def migrations_should_meet_sla(
        self,
        scope: EvidenceScope = EvidenceScope.TEST,
        max_seconds: timedelta | None = None,
        p95_seconds: timedelta | None = None,
        max_failure_rate: str | None = None,
        msg: str | None = None,
        **max_phase_seconds: timedelta,
    ) -> None:
        """Fails when the migrations of the test, suite or run break a service level.

        Criteria, as Rally's SLA: `max_seconds` (each migration, first to last status, cloud
        time; a migration still going counts the time so far), `p95_seconds` (95th
        percentile of finished migrations), `max_failure_rate` (share ending `error` or
        `failed`; an abort's `cancelled` is not a failure), and a maximum per phase given
        as `phase=time` (e.g. `running=30s`). The failure names every offending
        migration with its numbers; each criterion checked is logged with its result.

        Args:
            scope: `test` (default), `suite` or `run`.
            max_seconds: Longest allowed migration.
            p95_seconds: Highest allowed 95th percentile of migration durations.
            max_failure_rate: Highest allowed failure rate, e.g. `0%` or `10%`.
            msg: Message replacing the generated one on failure.
            **max_phase_seconds: Phase (status) = longest allowed stay, e.g.
                `running=30s    preparing=5s`.

        Example:

        ```robotframework
        *** Test Cases ***
        Migrations Are Fast Enough
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            Migrations Should Meet SLA    max_seconds=60s    running=45s
            ...    max_failure_rate=0%
        ```
        """
        checks: list = []
        if max_seconds is not None:
            limit = _limit("max_seconds", max_seconds)
            checks.append(lambda rs, v=limit: sla.max_seconds(rs, v))
        if p95_seconds is not None:
            p95 = _limit("p95_seconds", p95_seconds)
            checks.append(lambda rs, v=p95: sla.p95_seconds(rs, v))
        if max_failure_rate is not None:
            rate = _percent(max_failure_rate)
            checks.append(lambda rs, v=rate: sla.failure_rate(rs, v))
        for phase, limit in max_phase_seconds.items():
            name = phase.replace("_", "-")
            if name not in PHASES:
                raise InvalidArgument(
                    phase,
                    limit,
                    "max_seconds, p95_seconds, max_failure_rate, msg or a phase: "
                    + ", ".join(PHASES),
                )
            value = _limit(phase, limit)
            checks.append(lambda rs, p=name, v=value: sla.max_phase_seconds(rs, p, v))
        if not checks:
            raise InvalidArgument(
                "criteria",
                "",
                "at least one of max_seconds, p95_seconds, max_failure_rate or phase=time",
            )
        records = self._records(scope)
        results = [check(records) for check in checks]
        logger.info(
            f"SLA over {len(records)} migration(s) of the {scope.value}: "
            + "; ".join(
                f"{r.criterion} {'ok' if r.success else 'FAILED'} ({r.detail})" for r in results
            )
        )
        failed = [r for r in results if not r.success]
        if failed:
            if msg:
                raise CheckFailed(msg)
            raise CheckFailed(
                f"Migrations of the {scope.value} break the SLA: "
                + " ".join(
                    f"{r.criterion} ({r.detail}): " + "; ".join(r.offenders) + "." for r in failed
                )
            )


def _limit(name: str, value) -> float:
    try:
        limit = seconds(value)
    except (TypeError, ValueError):
        raise InvalidArgument(name, value, "a time such as 30s or 2 min") from None
    if limit < 0:
        raise InvalidArgument(name, value, "zero or more, e.g. 30s")
    return limit


def _percent(value) -> float:
    text = str(value).strip().rstrip("%").strip()
    try:
        percent = float(text)
    except ValueError:
        raise InvalidArgument("max_failure_rate", value, "a percentage such as 0% or 10%") from None
    if not 0 <= percent <= 100:
        raise InvalidArgument("max_failure_rate", value, "a percentage from 0% to 100%")
    return percent
