"""Creating, waiting for, checking and deleting servers."""

from __future__ import annotations

import re
from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword

from ..errors import CheckFailed, CloudError, InvalidArgument, UnexpectedState
from ..models import Server, ServerState
from ..waiting import Waiter
from .base import KeywordGroup


def _natural(text: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


class ServerKeywords(KeywordGroup):
    @keyword(tags=["servers"])
    def create_servers(
        self,
        count: int = 1,
        name: str = "server",
        image: str | None = None,
        flavor: str | None = None,
    ) -> list[Server]:
        """Creates `count` servers in one multi-create request and returns them all.

        Args:
            count: How many servers; Nova's `min_count` and `max_count` are both set to it,
                so the request either creates all of them or fails.
            name: Name of the servers after the run-unique prefix; Nova adds `-1`, `-2`...
                when `count` is more than one.
            image: Image name or id. Default: the library's `image` import argument
                (`cirros-0.6.2-x86_64-disk` on the embedded fake cloud).
            flavor: Flavor name or id. Default: the library's `flavor` import argument
                (`m1.tiny` on the embedded fake cloud).

        Returns:
            The servers of the request (found by its reservation id), in name order. Each
            has `id`, `name` and `reservation_id`.

        The servers are usually still building: use [Wait Until Servers Are Active]. They are
        deleted when the suite ends, or by [Delete Created Resources].

        Example:

        ```robotframework
        *** Test Cases ***
        Two Servers In One Request
            @{servers} =    Create Servers    count=2    name=web
            Wait Until Servers Are Active    @{servers}
        ```
        """
        if not isinstance(count, int) or count < 1:
            raise InvalidArgument("count", count, "a whole number of at least 1")
        if not name or not str(name).strip():
            raise InvalidArgument("name", name, "a non-empty server name")
        ctx = self._ctx
        client = ctx.client
        image_ref = self._resolve_image(image if image else ctx.default_image())
        flavor_ref = self._resolve_flavor(flavor if flavor else ctx.default_flavor())
        networks = self._networks()
        full_name = f"{ctx.run_prefix}-{name}"
        reservation = client.create_servers(full_name, image_ref, flavor_ref, count, networks)
        servers = self._servers_of_reservation(reservation, count)
        logger.info(
            f"Created {count} server(s) in reservation {reservation}: "
            + ", ".join(str(s) for s in servers)
        )
        return servers

    def _servers_of_reservation(self, reservation: str, count: int) -> list[Server]:
        """The servers of a multi-create, tracked for cleanup as soon as they are listed."""
        ctx = self._ctx

        def observe() -> list[Server]:
            states = ctx.admin.servers_of_reservation(reservation)
            servers = [Server(s.id, s.name, reservation) for s in states]
            ctx.tracker.add_servers(servers)
            return sorted(servers, key=lambda s: _natural(s.name))

        def check(servers: list[Server]) -> None:
            if len(servers) > count:
                raise UnexpectedState(
                    f"Reservation {reservation} holds {len(servers)} servers, expected {count}."
                )

        return Waiter(
            ctx.clock,
            f"Reservation {reservation}",
            f"{count} server(s) listed",
            ctx.timeout(None),
            ctx.poll_interval(None),
        ).wait(
            observe,
            lambda servers: len(servers) == count,
            lambda servers: f"{len(servers)} server(s) listed",
            check,
        )

    @keyword(tags=["servers"])
    def create_server(
        self, name: str = "server", image: str | None = None, flavor: str | None = None
    ) -> Server:
        """Creates one server and returns it; see [Create Servers].

        Args:
            name: Name after the run-unique prefix.
            image: Image name or id (library default when omitted).
            flavor: Flavor name or id (library default when omitted).

        Returns:
            The server, with `id`, `name` and `reservation_id`.

        Example:

        ```robotframework
        *** Test Cases ***
        One Server
            ${server} =    Create Server    name=db
            Wait Until Servers Are Active    ${server}
        ```
        """
        return self.create_servers(1, name, image, flavor)[0]

    @keyword(tags=["servers", "wait"])
    def wait_until_servers_are_active(
        self,
        *servers: Server | str,
        timeout: timedelta | None = None,
        poll_interval: timedelta | None = None,
    ) -> None:
        """Waits until every server is `ACTIVE` with no task in progress.

        Fails at once, with the server's fault, when a server goes to `ERROR` or disappears.

        Args:
            *servers: Servers returned by [Create Servers], or names or ids.
            timeout: How long to wait in total (Robot time string). Default: the library's
                `timeout`.
            poll_interval: Time between polls. Default: the library's `poll_interval`.

        Example:

        ```robotframework
        *** Test Cases ***
        Servers Come Up
            @{servers} =    Create Servers    count=2
            Wait Until Servers Are Active    @{servers}    timeout=2 min    poll_interval=1s
        ```
        """
        self._wait_for_status(servers, "ACTIVE", timeout, poll_interval)

    @keyword(tags=["servers", "wait"])
    def wait_until_server_status_is(
        self,
        server: Server | str,
        status: str,
        timeout: timedelta | None = None,
        poll_interval: timedelta | None = None,
    ) -> None:
        """Waits until the server has `status` (e.g. `SHUTOFF`) and no task in progress.

        Fails at once when the server goes to `ERROR` (unless `status` is `ERROR`) or
        disappears.

        Args:
            server: The server.
            status: Nova server status such as `ACTIVE`, `SHUTOFF`, `PAUSED`, `ERROR`.
            timeout: Default: the library's `timeout`.
            poll_interval: Default: the library's `poll_interval`.

        Example:

        ```robotframework
        *** Test Cases ***
        Stopped Server
            ${server} =    Create Server
            Wait Until Servers Are Active    ${server}
            Stop Server    ${server}
            Wait Until Server Status Is    ${server}    SHUTOFF
        ```
        """
        if not status or not str(status).strip():
            raise InvalidArgument("status", status, "a server status such as ACTIVE or SHUTOFF")
        self._wait_for_status([server], str(status).strip().upper(), timeout, poll_interval)

    def _wait_for_status(self, servers, status: str, timeout, poll_interval) -> None:
        if not servers:
            raise InvalidArgument("servers", "", "at least one server")
        ctx = self._ctx
        wait_timeout = ctx.timeout(timeout)
        interval = ctx.poll_interval(poll_interval)
        ids = [ctx.server_id(s) for s in servers]
        labels = dict(zip(ids, (str(s) for s in servers), strict=True))
        client = ctx.admin

        def observe() -> dict[str, ServerState | None]:
            return {sid: client.server_state(sid) for sid in ids}

        def describe(states) -> str:
            if len(states) == 1:
                (state,) = states.values()
                return state.describe() if state else "gone"
            return ", ".join(
                f"{labels[sid]} {st.describe() if st else 'gone'}" for sid, st in states.items()
            )

        def check(states) -> None:
            for sid, st in states.items():
                if st is None:
                    raise UnexpectedState(
                        f"Server {labels[sid]} disappeared while waiting for {status}."
                    )
                if st.status == "ERROR" and status != "ERROR":
                    fault = st.fault or "no fault recorded"
                    raise UnexpectedState(
                        f"Server {labels[sid]} went to ERROR while waiting for {status}: {fault}"
                    )

        def done(states) -> bool:
            return all(st.status == status and not st.task_state for st in states.values())

        subject = "Server " + ", ".join(labels.values()) if len(ids) == 1 else "Servers"
        Waiter(ctx.clock, subject, f"all {status}", wait_timeout, interval).wait(
            observe, done, describe, check
        )

    @keyword(tags=["servers"])
    def delete_servers(
        self,
        *servers: Server | str,
        timeout: timedelta | None = None,
        poll_interval: timedelta | None = None,
    ) -> None:
        """Deletes the servers and waits until they are gone.

        Args:
            *servers: Servers to delete.
            timeout: Default: the library's `timeout`.
            poll_interval: Default: the library's `poll_interval`.

        Example:

        ```robotframework
        *** Test Cases ***
        Short Lived Server
            ${server} =    Create Server
            Delete Servers    ${server}
        ```
        """
        ctx = self._ctx
        ids = [ctx.server_id(s) for s in servers]
        for sid in ids:
            ctx.admin.delete_server(sid)
        self._wait_until_gone(ids, timeout, poll_interval)
        for sid in ids:
            ctx.tracker.forget_server(sid)

    def _wait_until_gone(self, ids, timeout=None, poll_interval=None) -> None:
        ctx = self._ctx
        client = ctx.admin

        def observe():
            return [sid for sid in ids if client.server_state(sid) is not None]

        Waiter(
            ctx.clock,
            "Deleted servers",
            "all gone",
            ctx.timeout(timeout),
            ctx.poll_interval(poll_interval),
        ).wait(observe, lambda left: not left, lambda left: f"{len(left)} still present")

    @keyword(tags=["servers", "assertions", "cleanup"])
    def no_server_of_this_run_should_exist(self) -> None:
        """Fails if any server named with this run's prefix ([Get Run Prefix]) exists.

        Use it after [Delete Created Resources] to prove that nothing this run created was
        left behind, in whatever state (also `ERROR` servers without a host).

        Example:

        ```robotframework
        *** Test Cases ***
        Nothing Left
            Delete Created Resources
            No Server Of This Run Should Exist
        ```
        """
        names = self._ctx.admin.server_names(self._ctx.run_prefix + "-")
        if names:
            raise CheckFailed(
                f"Servers of run {self._ctx.run_prefix} still exist: {', '.join(names)}; "
                "expected none."
            )

    @keyword(tags=["servers"])
    def stop_server(self, server: Server | str) -> None:
        """Stops (powers off) the server; it becomes `SHUTOFF`.

        Args:
            server: The server.

        Example:

        ```robotframework
        *** Test Cases ***
        Stop
            Stop Server    ${server}
            Wait Until Server Status Is    ${server}    SHUTOFF
        ```
        """
        self._ctx.client.stop_server(self._ctx.server_id(server))

    @keyword(tags=["servers", "hosts"])
    def get_server_host(self, server: Server | str) -> str:
        """Returns the compute host the server is on (`OS-EXT-SRV-ATTR:host`, admin only).

        Args:
            server: The server.

        Returns:
            The host name.

        Example:

        ```robotframework
        *** Test Cases ***
        Where Is It
            ${host} =    Get Server Host    ${server}
            Should Not Be Empty    ${host}
        ```
        """
        state = self._state(server)
        if not state.host:
            raise CheckFailed(
                f"Server {server} has no host (status {state.status}); the host is admin-only "
                "and set once the server is scheduled."
            )
        return state.host

    @keyword(tags=["servers", "assertions"])
    def server_should_be_on_host(self, server: Server | str, host: str) -> None:
        """Fails unless the server is on `host`.

        Args:
            server: The server.
            host: Expected compute host.

        Example:

        ```robotframework
        *** Test Cases ***
        Moved
            Live Migrate Server    ${server}    host=${target}
            Wait Until Migration Of Server Is    ${server}    completed
            Server Should Be On Host    ${server}    ${target}
        ```
        """
        state = self._state(server)
        if state.host != host:
            raise CheckFailed(f"Server {server} is on host {state.host}, expected {host}.")
        logger.info(f"Server {server} is on host {state.host}, as expected.")

    @keyword(tags=["servers", "assertions"])
    def server_status_should_be(
        self, server: Server | str, status: str, task_state: str | None = "none"
    ) -> None:
        """Fails unless the server has `status` and, by default, no task in progress.

        Args:
            server: The server.
            status: Expected status, e.g. `ACTIVE` (case-insensitive).
            task_state: Expected `OS-EXT-STS:task_state`; `none` (default) means no task,
                `any` skips the check.

        Example:

        ```robotframework
        *** Test Cases ***
        Still Running
            Server Status Should Be    ${server}    ACTIVE
        ```
        """
        state = self._state(server)
        expected = str(status).strip().upper()
        wanted_task = (task_state or "none").strip().lower()
        task_ok = wanted_task == "any" or (state.task_state or "none").lower() == wanted_task
        if state.status != expected or not task_ok:
            want = expected if wanted_task == "any" else f"{expected} (task_state {wanted_task})"
            raise CheckFailed(f"Server {server} is {state.describe()}, expected {want}.")
        logger.info(f"Server {server} is {state.describe()}, as expected.")

    def _state(self, server: Server | str) -> ServerState:
        sid = self._ctx.server_id(server)
        state = self._ctx.admin.server_state(sid)
        if state is None:
            raise CheckFailed(f"Server {server} does not exist.")
        return state

    def _resolve_image(self, image: str) -> str:
        ctx = self._ctx
        found = ctx.client.find_image_id(image)
        if found is None:
            raise InvalidArgument("image", image, *_choices(ctx.client.image_names, "image"))
        return found

    def _resolve_flavor(self, flavor: str) -> str:
        ctx = self._ctx
        found = ctx.client.find_flavor_id(flavor)
        if found is None:
            raise InvalidArgument("flavor", flavor, *_choices(ctx.client.flavor_names, "flavor"))
        return found

    def _networks(self):
        network = self._ctx.settings.network
        if network.lower() in ("none", "auto"):
            return network.lower()
        found = self._ctx.client.find_network_id(network)
        if found is None:
            raise InvalidArgument("network", network, "none, auto or an existing network")
        return [{"uuid": found}]


def _choices(list_names, kind: str) -> tuple[str, list[str]]:
    """What is allowed, and the names a misspelling may be close to."""
    try:
        names = list_names()
    except CloudError:
        return f"the name or id of an existing {kind}", []
    return f"an existing {kind}: " + (", ".join(names) if names else "none exist"), names
