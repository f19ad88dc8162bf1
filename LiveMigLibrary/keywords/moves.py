"""Cold migration, resize (confirm or revert) and evacuation: start, follow, refuse, check.

They report through the same migration records as live migration: start a move here,
then follow it with [Wait Until Migration Of Server Is] and prove it with [Migration Of
Server Should Have], [Server Should Be On Host] and the Placement keywords.
"""

from __future__ import annotations

import re
from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword

from ..diagnosis import explain_move
from ..enums import MoveOperation, Refusal
from ..errors import CheckFailed, CloudError, InvalidArgument
from ..evidence.recorder import ACTION_OF_OPERATION
from ..models import Migration, Server
from .base import KeywordGroup


class MoveKeywords(KeywordGroup):
    # -- helpers ------------------------------------------------------------------------------

    def _start_move(
        self,
        server: Server | str,
        operation: str,
        request: dict,
        send,
        flavor: dict | None = None,
    ) -> None:
        """Opens the move's migration record, sends the request, explains a refusal."""
        ctx = self._ctx
        sid = ctx.server_id(server)
        self._remember_baseline(sid)
        record = ctx.evidence.start(
            sid,
            operation,
            server_name=server.name if isinstance(server, Server) else None,
            request={"via": "rest", **request},
        )
        try:
            send(sid)
        except CloudError as error:
            migration = self._latest(sid)
            ctx.evidence.refused([(record, migration, error.cloud_message)])
            error.with_explanation(
                explain_move(
                    ctx.admin,
                    sid,
                    request.get("host"),
                    action=ACTION_OF_OPERATION.get(operation, operation),
                    migration=migration,
                    already_said=error.cloud_message,
                    flavor=flavor,
                )
            ).naming_server(sid, self._server_name(server, sid))
            raise

    @staticmethod
    def _host_or_none(host: str | None) -> str | None:
        return None if host is None or str(host).strip() == "" else str(host)

    # -- starting -----------------------------------------------------------------------------

    @keyword(tags=["moves"])
    def cold_migrate_server(self, server: Server | str, host: str | None = None) -> None:
        """Asks Nova to cold-migrate the server (`migrate`) to `host` or a host the scheduler
        picks.

        Admin-only under Nova's default policy. A named host needs compute API 2.56 and is
        still checked by the scheduler. The server goes through `RESIZE` to
        `VERIFY_RESIZE`; the migration record (type `migration`) through `pre-migrating`,
        `migrating`, `post-migrating` to `finished`. Then [Confirm Resize Of Server] or
        [Revert Resize Of Server] (or Nova's `resize_confirm_window`) ends it.

        Args:
            server: The server (ACTIVE or SHUTOFF).
            host: Destination compute host; omitted: the scheduler picks one.

        Example:

        ```robotframework
        *** Test Cases ***
        Cold Migrate
            Cold Migrate Server    ${server}
            Wait Until Migration Of Server Is    ${server}    finished
            Confirm Resize Of Server    ${server}
            Wait Until Migration Of Server Is    ${server}    confirmed
        ```
        """
        host = self._host_or_none(host)
        if host is not None:
            self._service_of(host)
        target = host or "a scheduler-picked host"
        logger.info(f"Cold-migrating server {server} to {target}.")
        self._start_move(
            server,
            "migration",
            {"action": "migrate", "microversion": "2.56" if host else "2.1", "host": host},
            lambda sid: self._ctx.client.cold_migrate(sid, host),
        )

    @keyword(tags=["moves"])
    def resize_server(self, server: Server | str, flavor: str) -> None:
        """Asks Nova to resize the server to `flavor` (a cold move to a host with room for it).

        The owner of the server may resize it. The server goes through `RESIZE` to
        `VERIFY_RESIZE` with the new flavor; the migration record (type `resize`) through
        `pre-migrating`, `migrating`, `post-migrating` to `finished`; during the move the
        migration consumer holds the old flavor on the source and the server the new one
        on the destination. Then [Confirm Resize Of Server] or [Revert Resize Of Server].

        Args:
            server: The server (ACTIVE or SHUTOFF).
            flavor: Name or id of the new flavor.

        Example:

        ```robotframework
        *** Test Cases ***
        Resize Up
            Resize Server    ${server}    m1.small
            Wait Until Resize Of Server Can Be Confirmed    ${server}
            Server Flavor Should Be    ${server}    m1.small
        ```
        """
        if flavor is None or not str(flavor).strip():
            raise InvalidArgument("flavor", flavor, "the name or id of a flavor")
        flavor_id = self._resolve_flavor(str(flavor))
        logger.info(f"Resizing server {server} to flavor {flavor} ({flavor_id}).")

        def send(sid: str) -> None:
            try:
                self._ctx.client.resize(sid, flavor_id)
            except CloudError as error:
                if str(flavor) != flavor_id:  # the user named it, the request has its id
                    error.naming(f"to flavor {flavor_id}", f"to flavor {flavor} ({flavor_id})")
                raise

        self._start_move(
            server,
            "resize",
            {"action": "resize", "microversion": "2.1", "flavor": str(flavor)},
            send,
            flavor=self._ctx.client.flavor_details(flavor_id),
        )

    @keyword(tags=["moves"])
    def confirm_resize_of_server(self, server: Server | str) -> None:
        """Confirms the server's finished cold migration or resize (`confirmResize`).

        Nova answers 204 and marks the migration `confirming`; the source compute then
        removes the guest and the migration consumer's allocation (`confirmed`) and the
        server becomes ACTIVE (or SHUTOFF if it was) on the destination.

        Args:
            server: A server in `VERIFY_RESIZE`.

        Example:

        ```robotframework
        *** Test Cases ***
        Confirm
            Cold Migrate Server    ${server}
            Wait Until Resize Of Server Can Be Confirmed    ${server}
            Confirm Resize Of Server    ${server}
            Wait Until Migration Of Server Is    ${server}    confirmed
        ```
        """
        sid = self._ctx.server_id(server)
        logger.info(f"Confirming the resize of server {server}.")
        self._ctx.client.confirm_resize(sid)

    @keyword(tags=["moves"])
    def revert_resize_of_server(self, server: Server | str) -> None:
        """Reverts the server's finished cold migration or resize (`revertResize`).

        The destination removes its guest (`reverting` -> `reverted`), then the source
        starts the server again with its old flavor and gets its allocation back.

        Args:
            server: A server in `VERIFY_RESIZE`.

        Example:

        ```robotframework
        *** Test Cases ***
        Revert
            Resize Server    ${server}    m1.small
            Wait Until Resize Of Server Can Be Confirmed    ${server}
            Revert Resize Of Server    ${server}
            Wait Until Migration Of Server Is    ${server}    reverted
            Wait Until Server Status Is    ${server}    ACTIVE
        ```
        """
        sid = self._ctx.server_id(server)
        logger.info(f"Reverting the resize of server {server}.")
        self._ctx.client.revert_resize(sid)

    @keyword(tags=["moves"])
    def evacuate_server(
        self, server: Server | str, host: str | None = None, leave_stopped: bool = False
    ) -> None:
        """Asks Nova to rebuild the server of a dead compute host elsewhere (`evacuate`).

        Admin-only; Nova refuses while the server's compute service is up. Sent at compute
        API 2.29 without `force`, so the scheduler checks a named host; with
        `leave_stopped` at 2.95, where the evacuated server stays stopped. The migration
        record (type `evacuation`) goes `accepted` -> `pre-migrating` -> `done`, and
        `completed` once the old host's compute is back and has removed its guest; until
        then the server's allocation covers both hosts.

        Args:
            server: A server on a host whose compute service is down.
            host: Destination compute host; omitted: the scheduler picks one.
            leave_stopped: Leave the evacuated server SHUTOFF (compute API 2.95).

        Example:

        ```robotframework
        *** Test Cases ***
        Recover
            Force Compute Service Down    ${source}
            Evacuate Server    ${server}
            Wait Until Migration Of Server Is    ${server}    done
        ```
        """
        host = self._host_or_none(host)
        if host is not None:
            self._service_of(host)
        if not isinstance(leave_stopped, bool):
            raise InvalidArgument("leave_stopped", leave_stopped, "True or False")
        target = host or "a scheduler-picked host"
        logger.info(f"Evacuating server {server} to {target}.")
        self._start_move(
            server,
            "evacuation",
            {
                "action": "evacuate",
                "microversion": "2.95" if leave_stopped else "2.29",
                "host": host,
            },
            lambda sid: self._ctx.client.evacuate(sid, host, leave_stopped),
        )

    @keyword(tags=["moves"])
    def evacuate_servers_of_host(self, host: str, target: str | None = None) -> list[Server]:
        """Evacuates every server Nova places on `host` (whose compute service is down).

        What an operator does after a compute host died: one `evacuate` per server, in
        the order they were created. Stops at the first refusal.

        Args:
            host: The dead compute host.
            target: Destination host for all of them; omitted: the scheduler picks.

        Returns:
            The servers it evacuated.

        Example:

        ```robotframework
        *** Test Cases ***
        Recover A Host
            Stop Compute Service Process    ${source}
            Force Compute Service Down    ${source}
            @{moved} =    Evacuate Servers Of Host    ${source}
            FOR    ${server}    IN    @{moved}
                Wait Until Migration Of Server Is    ${server}    done
            END
        ```
        """
        self._service_of(host)
        ctx = self._ctx
        servers = []
        for sid in ctx.admin.server_ids_on_host(host):
            state = ctx.admin.server_state(sid)
            if state is None:
                continue
            server = Server(sid, state.name)
            self.evacuate_server(server, target)
            servers.append(server)
        logger.info(
            f"Evacuated {len(servers)} server(s) from {host}: "
            + (", ".join(str(s) for s in servers) or "none")
            + "."
        )
        return servers

    # -- following ----------------------------------------------------------------------------

    @keyword(tags=["moves", "wait"])
    def wait_until_resize_of_server_can_be_confirmed(
        self,
        server: Server | str,
        timeout: timedelta | None = None,
        poll_interval: timedelta | None = None,
    ) -> Migration:
        """Waits until the server's cold migration or resize is `finished` and the server
        is in `VERIFY_RESIZE`.

        Fails at once when the migration ends in `error` (the log explains what the cloud
        shows) or the server goes to `ERROR`.

        Args:
            server: The server.
            timeout: Default: the library's `migration_timeout`.
            poll_interval: Default: the library's `poll_interval`.

        Returns:
            The migration record.

        Example:

        ```robotframework
        *** Test Cases ***
        Ready
            Cold Migrate Server    ${server}
            ${migration} =    Wait Until Resize Of Server Can Be Confirmed    ${server}
        ```
        """
        migration = self.wait_until_migration_of_server_is(
            server, "finished", timeout=timeout, poll_interval=poll_interval
        )
        self.wait_until_server_status_is(
            server, "VERIFY_RESIZE", timeout=timeout, poll_interval=poll_interval
        )
        return migration

    # -- checks --------------------------------------------------------------------------------

    @keyword(tags=["moves", "assertions"])
    def server_flavor_should_be(self, server: Server | str, flavor: str) -> None:
        """Fails unless the server has the flavor `flavor` (its name) now.

        Args:
            server: The server.
            flavor: Expected flavor name.

        Example:

        ```robotframework
        *** Test Cases ***
        Resized
            Resize Server    ${server}    m1.small
            Wait Until Resize Of Server Can Be Confirmed    ${server}
            Server Flavor Should Be    ${server}    m1.small
        ```
        """
        sid = self._ctx.server_id(server)
        observed = self._ctx.admin.server_flavor_name(sid)
        if observed != flavor:
            raise CheckFailed(f"Server {server} has flavor {observed}, expected {flavor}.")
        logger.info(f"Server {server} has flavor {flavor}, as expected.")

    @keyword(tags=["moves", "assertions"])
    def move_of_server_should_be_refused(
        self,
        server: Server | str,
        operation: MoveOperation | str,
        reason: Refusal | str,
        host: str | None = None,
        flavor: str | None = None,
    ) -> str:
        """Asks for a cold migration, resize, confirm, revert or evacuation and fails unless
        the cloud refuses it for `reason`.

        Host and flavor are passed to Nova as given (an unknown host or the server's own
        flavor are valid test inputs here).

        Args:
            server: The server.
            operation: `cold-migration`, `resize`, `confirm-resize`, `revert-resize` or
                `evacuation`.
            reason: Expected refusal: `NoValidHost`, `HostNotFound`, `BadRequest`,
                `Forbidden`, `NotFound` or `Conflict`.
            host: Destination host (cold migration, evacuation).
            flavor: Flavor name or id (resize; required there).

        Returns:
            The cloud's error message.

        Example:

        ```robotframework
        *** Test Cases ***
        Same Flavor
            ${message} =    Move Of Server Should Be Refused    ${server}    resize
            ...    BadRequest    flavor=m1.tiny
            Should Contain    ${message}    must change flavor
        ```
        """
        move = MoveOperation.parse(operation)
        expected = Refusal.parse(reason)
        host = self._host_or_none(host)
        ctx = self._ctx
        client = ctx.client
        if move is MoveOperation.RESIZE:
            if flavor is None or not str(flavor).strip():
                raise InvalidArgument("flavor", flavor, "a flavor name or id for a resize")
            found = client.find_flavor_id(str(flavor))
            flavor_ref = found or str(flavor)
        sends = {
            MoveOperation.COLD_MIGRATION: lambda sid: client.cold_migrate(sid, host),
            MoveOperation.RESIZE: lambda sid: client.resize(sid, flavor_ref),
            MoveOperation.CONFIRM_RESIZE: client.confirm_resize,
            MoveOperation.REVERT_RESIZE: client.revert_resize,
            MoveOperation.EVACUATION: lambda sid: client.evacuate(sid, host, False),
        }
        sid = ctx.server_id(server)
        previous = ctx.migration_baseline.get(sid)
        starts_new = move not in (MoveOperation.CONFIRM_RESIZE, MoveOperation.REVERT_RESIZE)
        if starts_new:
            self._remember_baseline(sid)
        what = f"{move.value} of server {server}" + (f" to host {host}" if host else "")
        try:
            sends[move](sid)
        except CloudError as error:
            if starts_new and previous is not None and self._latest(sid) is None:
                ctx.migration_baseline[sid] = previous  # the earlier move stays "the" one
            message = error.cloud_message
            pattern = expected.message_pattern
            if error.status != expected.http_status or (
                pattern and not re.search(pattern, message)
            ):
                raise CheckFailed(
                    f"The {what} was refused with HTTP {error.status}: {message}; expected "
                    f"{expected.value} (HTTP {expected.http_status})."
                ) from None
            logger.info(f"Refused as expected ({expected.value}): {message}")
            return message
        raise CheckFailed(
            f"The {what} was accepted, expected it refused with {expected.value} "
            f"(HTTP {expected.http_status})."
        )
