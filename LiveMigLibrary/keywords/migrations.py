"""Live migration: start, follow, control, refuse, check."""

from __future__ import annotations

import re
from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword

from ..diagnosis import explain_move, where_to_look
from ..enums import BlockMigration, MigrationStatus, Refusal
from ..errors import CheckFailed, CloudError, LiveMigError, UnexpectedState
from ..evidence.recorder import ACTION_OF_OPERATION
from ..models import Migration, Server
from ..waiting import Waiter
from .base import KeywordGroup


class MigrationKeywords(KeywordGroup):
    # -- starting -----------------------------------------------------------------------------

    @keyword(tags=["migrations"])
    def live_migrate_server(
        self,
        server: Server | str,
        host: str | None = None,
        block_migration: BlockMigration | bool | str = BlockMigration.AUTO,
    ) -> None:
        """Asks Nova to live-migrate the server to `host`, or to a host the scheduler picks.

        The request goes through openstacksdk, which sends `os-migrateLive` at compute API
        microversion 2.30: the scheduler still checks a named host (no `force`), and
        pre-check failures (no valid host, ...) come back at once as errors. Use
        [Live Migration Of Server Should Be Refused] when a refusal is expected, and
        [Wait Until Migration Of Server Is] to follow the migration.

        Args:
            server: The server.
            host: Destination compute host; omitted: the scheduler picks one.
            block_migration: `auto` (default), `true` or `false`.

        Example:

        ```robotframework
        *** Test Cases ***
        Move It
            Live Migrate Server    ${server}    host=compute2    block_migration=auto
            Wait Until Migration Of Server Is    ${server}    completed
        ```
        """
        mode = BlockMigration.parse(block_migration)
        ctx = self._ctx
        if host is not None and str(host).strip() == "":
            host = None
        sid = ctx.server_id(server)
        if host is not None:
            self._service_of(host)
        self._remember_baseline(sid)
        target = host or "a scheduler-picked host"
        logger.info(f"Live-migrating server {server} to {target} (block_migration {mode.value}).")
        record = ctx.evidence.start(
            sid,
            "live-migration",
            server_name=server.name if isinstance(server, Server) else None,
            request={
                "via": "sdk",
                "microversion": ctx.client.live_migrate_microversion(),
                "host": host,
                "block_migration": mode.value,
            },
        )
        try:
            ctx.client.live_migrate(sid, host, mode.api_value)
        except CloudError as error:
            # A refusal may still have left a migration record (conductor pre-checks below
            # 2.34 run inside the request): record it; otherwise there was no migration.
            migration = self._latest(sid)
            ctx.evidence.refused([(record, migration, error.cloud_message)])
            error.with_explanation(
                explain_move(
                    ctx.admin, sid, host, migration=migration, already_said=error.cloud_message
                )
            ).naming_server(sid, self._server_name(server, sid))
            raise

    @keyword(tags=["migrations"])
    def watch_for_new_migration_of_server(
        self,
        server: Server | str,
        via: str = "unknown",
        microversion: str | None = None,
        host: str | None = None,
        block_migration: str | None = None,
    ) -> None:
        """Makes the migration keywords ignore the server's existing migration records.

        [Live Migrate Server] does this itself. Call it before starting a migration some
        other way (e.g. a raw REST call with RequestsLibrary), so [Wait Until Migration Of
        Server Is] cannot mistake an older record for the new one. It also opens the
        migration's evidence record (allocations before the request); the optional
        arguments say how the migration is about to be requested, for the log and
        `migrations.json`.

        Args:
            server: The server.
            via: How the request is sent, e.g. `REST` (default `unknown`).
            microversion: Compute API microversion of the request.
            host: Destination host named in the request; omitted: the scheduler picks.
            block_migration: `block_migration` of the request.

        Example:

        ```robotframework
        *** Test Cases ***
        Raw REST Migration
            Create Cloud REST Session    compute
            Watch For New Migration Of Server    ${server}    via=REST    microversion=2.34
            VAR    &{body}    os-migrateLive=${{{"host": None, "block_migration": "auto"}}}
            VAR    &{headers}    OpenStack-API-Version=compute 2.34
            POST On Session    compute    /servers/${server.id}/action    json=${body}
            ...    headers=${headers}
            Wait Until Migration Of Server Is    ${server}    completed
        ```
        """
        sid = self._ctx.server_id(server)
        self._remember_baseline(sid)
        request = {"via": str(via).strip() or "unknown"}
        if microversion:
            request["microversion"] = str(microversion).strip()
        if via != "unknown" or host:
            request["host"] = host or None
        if block_migration is not None:
            request["block_migration"] = str(block_migration)
        self._ctx.evidence.start(
            sid,
            "live-migration",
            server_name=server.name if isinstance(server, Server) else None,
            request=request,
        )

    def _remember_baseline(self, server_id: str) -> None:
        existing = self._ctx.admin.migrations(server_id)
        self._ctx.migration_baseline[server_id] = {m.id for m in existing}

    def _latest(self, server_id: str) -> Migration | None:
        records = self._ctx.admin.migrations(server_id)
        baseline = self._ctx.migration_baseline.get(server_id, set())
        new = [m for m in records if m.id not in baseline]
        return new[-1] if new else None

    # -- following ----------------------------------------------------------------------------

    @keyword(tags=["migrations"])
    def get_migration_of_server(self, server: Server | str) -> Migration:
        """Returns the server's latest migration record (`GET /os-migrations`).

        Only records created since the last [Live Migrate Server] or
        [Watch For New Migration Of Server] for this server count.

        Args:
            server: The server.

        Returns:
            The migration, with `id`, `uuid`, `status`, `type`, `source`, `destination`.

        Example:

        ```robotframework
        *** Test Cases ***
        Record
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            ${migration} =    Get Migration Of Server    ${server}
            Should Be Equal    ${migration.destination}    ${target}
        ```
        """
        sid = self._ctx.server_id(server)
        migration = self._latest(sid)
        if migration is None:
            older = len(self._ctx.migration_baseline.get(sid, ()))
            if older:
                raise CheckFailed(
                    f"Server {server} has no migration record newer than the {older} it had "
                    "when its last move was requested (Live Migrate Server, or Watch For New "
                    "Migration Of Server before a move requested otherwise): Nova has not "
                    "recorded that move, e.g. because it refused it."
                )
            raise CheckFailed(
                f"Server {server} has no migration record: it has not been moved, or Nova "
                "refused the move before recording it."
            )
        return migration

    def _explain_failed_migration(self, server_id: str, migration: Migration) -> str:
        """Facts read from the cloud about a migration that ended `error`/`failed`, or,
        when the cloud's API holds none, where its cause is logged."""
        # the instance action of this kind of move holds its events
        kind = migration.migration_type or "live-migration"
        action = ACTION_OF_OPERATION.get(kind, kind)
        return explain_move(
            self._ctx.admin, server_id, action=action, migration=migration
        ) or where_to_look(migration, self._fake_failure_reason(migration))

    def _fake_failure_reason(self, migration: Migration) -> str | None:
        """What the embedded fake's compute logged as the cause of a failed migration."""
        ctx = self._ctx
        if not ctx.uses_fake or ctx.fake is None:
            return None
        try:
            history = ctx.fake.control.migration_history(migration.id)
        except Exception as error:  # the reason is a help, never a second failure
            logger.debug(f"Could not read the fake's history of migration {migration.id}: {error}")
            return None
        return history[-1].get("reason") if history else None

    @keyword(tags=["migrations", "wait"])
    def wait_until_migration_of_server_is(
        self,
        server: Server | str,
        status: MigrationStatus | str,
        timeout: timedelta | None = None,
        poll_interval: timedelta | None = None,
    ) -> Migration:
        """Waits until the server's latest migration record has `status`.

        Polls `GET /os-migrations?instance_uuid=...` and tolerates the short window before
        Nova's conductor creates the record. Fails at once when the record reaches a final
        status (`completed`, `error`, `failed`, `cancelled`) other than `status`: waiting for
        `completed` fails as soon as the migration ends `error`, while waiting for
        `cancelled` after [Abort Migration Of Server] is fine. A migration that ended `error`
        or `failed` is explained with facts read from the cloud (see Failures in the
        introduction).

        Args:
            server: The server.
            status: One of `accepted`, `queued`, `preparing`, `running`, `post-migrating`,
                `completed`, `error`, `failed`, `cancelled`; for cold migrations, resizes
                and evacuations also `pre-migrating`, `migrating`, `finished`,
                `confirming`, `confirmed`, `reverting`, `reverted`, `done`.
            timeout: Default: the library's `migration_timeout`.
            poll_interval: Default: the library's `poll_interval`.

        Returns:
            The migration record once it has the status.

        Example:

        ```robotframework
        *** Test Cases ***
        Completed
            Live Migrate Server    ${server}    host=${target}
            ${migration} =    Wait Until Migration Of Server Is    ${server}    completed
            ...    timeout=10 min    poll_interval=5s
        ```
        """
        wanted = MigrationStatus.parse(status)
        ctx = self._ctx
        wait_timeout = ctx.migration_timeout(timeout)
        interval = ctx.poll_interval(poll_interval)
        sid = ctx.server_id(server)

        def describe(migration: Migration | None) -> str:
            if migration is None:
                return "not recorded yet"
            return f"migration {migration.id} {migration.status}"

        def check(migration: Migration | None) -> None:
            if migration is None or migration.status == wanted.value:
                return
            try:
                current = MigrationStatus(migration.status)
            except ValueError:
                return
            if current.is_final:
                why = ""
                if current in (MigrationStatus.ERROR, MigrationStatus.FAILED):
                    why = " " + self._explain_failed_migration(sid, migration)
                asked = (getattr(record, "request", None) or {}).get("host")
                raise UnexpectedState(
                    f"Migration {migration.id} of server {server} ended {current.value} "
                    f"({migration.route(asked)}), expected {wanted.value}." + why.rstrip()
                )

        # the record of the server's move, whatever it is (cold moves and evacuations too)
        current = ctx.evidence.current(sid)
        latest = self._latest(sid) if current is None else None
        operation = (
            current.operation
            if current is not None
            else (latest.migration_type if latest is not None else None) or "live-migration"
        )
        record = ctx.evidence.for_wait(
            sid, operation, server.name if isinstance(server, Server) else None
        )

        def observe() -> Migration | None:
            migration = self._latest(sid)
            ctx.evidence.observe(record, migration)
            return migration

        try:
            result = Waiter(
                ctx.clock, f"Migration of server {server}", wanted.value, wait_timeout, interval
            ).wait(observe, lambda m: m is not None and m.status == wanted.value, describe, check)
        except LiveMigError:  # ended in another final status, timed out or the cloud failed
            ctx.evidence.conclude([record])
            raise
        ctx.evidence.conclude([record])
        return result

    @keyword(tags=["migrations", "assertions"])
    def migration_of_server_should_have(
        self,
        server: Server | str,
        type: str | None = None,  # noqa: A002 - reads as `type=live-migration` in Robot data
        source: str | None = None,
        destination: str | None = None,
        status: MigrationStatus | str | None = None,
    ) -> None:
        """Fails unless the server's latest migration record has the given fields.

        Only the fields given are checked; every mismatch is reported at once.

        Args:
            server: The server.
            type: Expected `migration_type`, e.g. `live-migration`.
            source: Expected `source_compute`.
            destination: Expected `dest_compute`.
            status: Expected status, e.g. `completed`.

        Example:

        ```robotframework
        *** Test Cases ***
        Record Is Right
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            Migration Of Server Should Have    ${server}    type=live-migration
            ...    source=${source}    destination=${target}    status=completed
        ```
        """
        wanted_status = MigrationStatus.parse(status).value if status is not None else None
        migration = self.get_migration_of_server(server)
        checks = [
            ("type", migration.migration_type, type),
            ("source", migration.source, source),
            ("destination", migration.destination, destination),
            ("status", migration.status, wanted_status),
        ]
        problems = [
            f"{name} {observed}, expected {expected}"
            for name, observed, expected in checks
            if expected is not None and observed != expected
        ]
        if problems:
            raise CheckFailed(
                f"Migration {migration.id} of server {server} has " + "; ".join(problems) + "."
            )
        checked = [f"{name} {observed}" for name, observed, expected in checks if expected]
        logger.info(
            f"Migration {migration.id} of server {server} has "
            + (", ".join(checked) if checked else f"status {migration.status}")
            + ", as expected."
        )

    @keyword(tags=["migrations", "assertions"])
    def server_should_have_no_migration_in_progress(self, server: Server | str) -> None:
        """Fails if the server has a migration in progress (`GET /servers/{id}/migrations`).

        After a failed, aborted or completed move nothing may be left `queued`,
        `preparing`, `running` or `post-migrating`.

        Args:
            server: The server.

        Example:

        ```robotframework
        *** Test Cases ***
        Nothing Left Running
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            Server Should Have No Migration In Progress    ${server}
        ```
        """
        sid = self._ctx.server_id(server)
        migrations = self._ctx.admin.in_progress_migrations(sid)
        if migrations:
            listed = ", ".join(f"{m.id} {m.status}" for m in migrations)
            raise CheckFailed(
                f"Server {server} has migrations in progress: {listed}; expected none."
            )

    # -- control ------------------------------------------------------------------------------

    def _in_progress(self, server: Server | str) -> tuple[str, Migration]:
        sid = self._ctx.server_id(server)
        migrations = self._ctx.client.in_progress_migrations(sid)
        if not migrations:
            raise CheckFailed(f"Server {server} has no migration in progress.")
        return sid, migrations[-1]

    @keyword(tags=["migrations"])
    def abort_migration_of_server(self, server: Server | str) -> None:
        """Aborts the server's in-progress live migration.

        Nova accepts this for a `running` migration, and from compute API 2.65 also for
        `queued` or `preparing` ones. The migration ends `cancelled` and the server stays on
        its source host.

        Args:
            server: The server.

        Example:

        ```robotframework
        *** Test Cases ***
        Abort
            [Tags]    fake-only
            Set Fake Cloud Durations    running=600    # long enough to abort
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    running
            Abort Migration Of Server    ${server}
            Wait Until Migration Of Server Is    ${server}    cancelled
        ```
        """
        sid, migration = self._in_progress(server)
        logger.info(f"Aborting {migration}.")
        try:
            self._ctx.client.abort_migration(sid, migration.id)
        except CloudError as error:
            raise error.naming_server(sid, self._server_name(server, sid)) from None

    @keyword(tags=["migrations"])
    def force_complete_migration_of_server(self, server: Server | str) -> None:
        """Forces the server's `running` live migration to complete (pauses the guest).

        Args:
            server: The server.

        Example:

        ```robotframework
        *** Test Cases ***
        Force Complete
            [Tags]    fake-only
            Set Fake Cloud Durations    running=600    # a migration that would take long
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    running
            Force Complete Migration Of Server    ${server}
            Wait Until Migration Of Server Is    ${server}    completed
        ```
        """
        sid, migration = self._in_progress(server)
        logger.info(f"Force-completing {migration}.")
        try:
            self._ctx.client.force_complete_migration(sid, migration.id)
        except CloudError as error:
            raise error.naming_server(sid, self._server_name(server, sid)) from None

    # -- refusal ------------------------------------------------------------------------------

    @keyword(tags=["migrations", "assertions"])
    def live_migration_of_server_should_be_refused(
        self,
        server: Server | str,
        reason: Refusal | str,
        host: str | None = None,
        block_migration: BlockMigration | bool | str = BlockMigration.AUTO,
    ) -> str:
        """Asks for a live migration and fails unless the cloud refuses it for `reason`.

        The host is passed to Nova as given (an unknown host is a valid test input here).

        Args:
            server: The server.
            reason: Expected refusal: `NoValidHost`, `HostNotFound` (alias `bad host`),
                `BadRequest`, `Forbidden`, `NotFound` or `Conflict`.
            host: Destination host; omitted: the scheduler picks one.
            block_migration: `auto` (default), `true` or `false`.

        Returns:
            The cloud's error message.

        Example:

        ```robotframework
        *** Test Cases ***
        Unknown Host
            ${message} =    Live Migration Of Server Should Be Refused    ${server}
            ...    HostNotFound    host=no-such-host
            Should Contain    ${message}    no-such-host
        ```
        """
        expected = Refusal.parse(reason)
        mode = BlockMigration.parse(block_migration)
        ctx = self._ctx
        sid = ctx.server_id(server)
        if host is not None and str(host).strip() == "":
            host = None
        target = f"to host {host}" if host else "to a scheduler-picked host"
        previous = ctx.migration_baseline.get(sid)
        self._remember_baseline(sid)
        record = ctx.evidence.start(
            sid,
            "live-migration",
            server_name=server.name if isinstance(server, Server) else None,
            request={
                "via": "sdk",
                "microversion": ctx.client.live_migrate_microversion(),
                "host": host,
                "block_migration": mode.value,
                "expected": f"refusal ({expected.value})",
            },
        )
        try:
            ctx.client.live_migrate(sid, host, mode.api_value)
        except CloudError as error:
            attempt = self._latest(sid)
            # Nova's conductor may have recorded the refused attempt (`error`): evidence
            ctx.evidence.refused([(record, attempt, error.cloud_message)])
            if previous is not None and attempt is None:
                # No record of the refused attempt: "the migration of the server" stays the
                # one before it (e.g. the migration that made the server busy).
                ctx.migration_baseline[sid] = previous
            message = error.cloud_message
            pattern = expected.message_pattern
            if error.status != expected.http_status or (
                pattern and not re.search(pattern, message)
            ):
                why = explain_move(ctx.admin, sid, host, already_said=message)
                raise CheckFailed(
                    f"Live migration of server {server} {target} was refused with HTTP "
                    f"{error.status}: {message}; expected {expected.value} "
                    f"(HTTP {expected.http_status})." + (f" {why}" if why else "")
                ) from None
            logger.info(f"Refused as expected ({expected.value}): {message}")
            return message
        raise CheckFailed(
            f"Live migration of server {server} {target} was accepted, expected it refused "
            f"with {expected.value} (HTTP {expected.http_status})."
        )
