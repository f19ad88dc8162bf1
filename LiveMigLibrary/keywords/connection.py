"""The cloud connection: credentials, raw REST access, users, and cleanup."""

from __future__ import annotations

import requests
from robot.api import SkipExecution, logger
from robot.api.deco import keyword
from robot.api.types import Secret
from robot.libraries.BuiltIn import BuiltIn

from ..errors import InvalidArgument, LiveMigError, NotConfigured
from ..importing import import_failed
from .base import KeywordGroup
from .dynamics import cleanup_dynamics


class _MaskedToken(str):
    """A token header value whose repr hides it, so request logs never show it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<secret>'"


class _TokenAuth(requests.auth.AuthBase):
    """Adds the current cloud token (refreshed by keystoneauth when needed) to each request."""

    def __init__(self, client_getter):
        self._client = client_getter

    def __call__(self, request):
        request.headers["X-Auth-Token"] = _MaskedToken(self._client().token())
        return request

    def __repr__(self) -> str:
        return "<cloud token auth>"


class ConnectionKeywords(KeywordGroup):
    @keyword(tags=["connection"])
    def get_cloud_token(self) -> Secret:
        """Returns the token of the current user as a `Secret`; it is never logged.

        Returns:
            The Keystone token, `Secret` (the value is in its `value` attribute).

        Example:

        ```robotframework
        *** Test Cases ***
        Token
            ${token} =    Get Cloud Token
        ```
        """
        return Secret(self._ctx.client.token())

    @keyword(tags=["connection"])
    def get_cloud_endpoint(self, service_type: str = "compute") -> str:
        """Returns the public endpoint URL of a service from the catalog of the current cloud.

        Args:
            service_type: `compute`, `placement`, `image` or `identity`.

        Returns:
            The URL, without a trailing slash.

        Example:

        ```robotframework
        *** Test Cases ***
        Compute URL
            ${url} =    Get Cloud Endpoint    compute
        ```
        """
        if not service_type or not str(service_type).strip():
            raise InvalidArgument("service_type", service_type, "e.g. compute or placement")
        return self._ctx.client.endpoint(service_type.strip())

    @keyword("Create Cloud REST Session", tags=["connection"])
    def create_cloud_rest_session(self, alias: str, service_type: str = "compute") -> str:
        """Creates a RequestsLibrary session to a service of the current cloud.

        The session sends the current token in `X-Auth-Token` on every request; the token
        is masked in RequestsLibrary's request log. Use it for calls openstacksdk cannot
        make, e.g. `os-migrateLive` at compute microversion 2.34+ where pre-check failures
        become asynchronous. RequestsLibrary must be imported in the suite.

        Args:
            alias: Session alias for RequestsLibrary keywords.
            service_type: Catalog service type, `compute` by default.

        Returns:
            The session's base URL.

        Example:

        ```robotframework
        *** Settings ***
        Library    RequestsLibrary

        *** Test Cases ***
        Migrate Through REST
            Create Cloud REST Session    nova
            Watch For New Migration Of Server    ${server}
            &{headers} =    Create Dictionary    OpenStack-API-Version=compute 2.34
            &{body} =    Evaluate    {"os-migrateLive": {"host": None, "block_migration": "auto"}}
            POST On Session    nova    /servers/${server.id}/action    json=${body}
            ...    headers=${headers}    expected_status=202
            Wait Until Migration Of Server Is    ${server}    completed
        ```
        """
        if not alias or not str(alias).strip():
            raise InvalidArgument("alias", alias, "a non-empty session alias")
        url = self.get_cloud_endpoint(service_type)
        client = self._ctx.client
        requests_library = BuiltIn().get_library_instance("RequestsLibrary")
        requests_library.create_custom_session(
            alias, url, auth=_TokenAuth(lambda: client), verify=True
        )
        return url

    @keyword(tags=["connection"])
    def use_member_user(self) -> None:
        """Makes the following keywords act as the member (non-admin) user.

        On the embedded fake cloud this is the `demo` user; on a real cloud it is the
        `member_cloud` import argument; without it the test is skipped, with the reason.
        Host lookups, assertions and cleanup always use the admin user. Undo with
        [Use Admin User].

        Example:

        ```robotframework
        *** Test Cases ***
        Members Cannot Live Migrate
            Use Member User
            ${server} =    Create Server
        ```
        """
        try:
            self._ctx.use_member(True)
        except NotConfigured as error:
            raise SkipExecution(str(error)) from None

    @keyword(tags=["connection"])
    def use_admin_user(self) -> None:
        """Makes the following keywords act as the admin user again (the default).

        Example:

        ```robotframework
        *** Test Cases ***
        Back To Admin
            Use Admin User
        ```
        """
        self._ctx.use_member(False)

    @keyword(tags=["connection"])
    def get_run_prefix(self) -> str:
        """Returns the run-unique prefix of every name this library instance gives.

        Returns:
            E.g. `livemig-1a2b3c4d`.

        Example:

        ```robotframework
        *** Test Cases ***
        Prefix
            ${prefix} =    Get Run Prefix
            Should Start With    ${server.name}    ${prefix}
        ```
        """
        return self._ctx.run_prefix

    @keyword(tags=["connection", "cleanup"])
    def delete_created_resources(self) -> None:
        """Deletes every server this library created and undoes its host changes.

        Compute services get back the status and forced-down flag they had before this
        library first changed them. In the embedded fake cloud, injected fault rules are
        removed and stopped compute processes started first (so neither holds up the
        deletes), then hosts added are removed, durations and emulated bugs restored.
        Nothing the library did not create is touched. The same cleanup runs automatically
        when the suite ends, also after failures; call this in a test teardown to isolate
        tests from each other.

        Every step is tried even when an earlier one failed; the keyword then fails once,
        listing every step that failed. A cloud that stopped answering fails each call
        after a short probe (3 seconds) instead of the whole `api_timeout`, so a stopped
        run (Ctrl-C, `--exitonfailure`, pabot's `--processtimeout`) still ends promptly.

        Example:

        ```robotframework
        *** Settings ***
        Test Teardown    Delete Created Resources

        *** Test Cases ***
        Each Test Cleans Up After Itself
            Create Server    name=temporary
        ```
        """
        problems = self._cleanup()
        if problems:
            listed = " ".join(f"({n}) {problem}" for n, problem in enumerate(problems, 1))
            raise LiveMigError(f"Cleanup was incomplete, {len(problems)} step(s) failed: {listed}")

    def _cleanup(self) -> list[str]:
        """Tries every clean-up step, also after one failed; returns what went wrong.

        Each step (a fault rule, a compute process, a server, a compute service, a host,
        the durations, the emulated bugs) is tried on its own; a failure is noted and the
        next step tried. A cloud that stopped answering makes each call fail quickly (see
        `deadline.CallTimeouts`), so a stopped run still ends promptly.
        """
        if import_failed(self):
            return []  # nothing was created: the import arguments were wrong
        ctx = self._ctx
        tracker = ctx.tracker
        ctx.use_member(False)
        problems: list[str] = []
        if not ctx.connected or tracker.is_empty():
            return problems

        def attempt(what: str, step) -> bool:
            try:
                step()
                return True
            except Exception as error:  # noqa: BLE001 - noted; the other steps still run
                problems.append(f"{what} failed: {error}")
                return False

        client = ctx.admin
        with ctx.quiet_pass():
            self._cleanup_steps(ctx, client, attempt)
            attempt(
                "Restoring the live-migration dynamics",
                lambda: problems.extend(cleanup_dynamics(ctx)),
            )
        for problem in problems:
            logger.warn(problem)
        return problems

    def _cleanup_steps(self, ctx, client, attempt) -> None:
        tracker = ctx.tracker
        if ctx.fake is not None:
            # First what would hold up the rest: an injected fault could fail the deletes
            # (e.g. an `api` rule), and a stopped compute would never carry them out.
            control = ctx.fake.control
            known_faults: set[int] = set()

            def find_dead_computes():
                known_faults.update(rule["id"] for rule in control.faults())
                if tracker.fake_faults:
                    # a fault this run injected may have killed a compute (`host_down`,
                    # `source_down`, `destination_down`): the embedded fake is this run's own
                    for host in control.hosts():
                        if not host["alive"] and host["name"] not in tracker.stopped_computes:
                            tracker.stopped_computes.append(host["name"])

            attempt("Looking at the fake cloud's faults and hosts", find_dead_computes)
            for rule_id in list(tracker.fake_faults):
                if rule_id in known_faults and attempt(
                    f"Removing fault rule {rule_id}", lambda r=rule_id: control.remove_fault(r)
                ):
                    logger.info(f"Removed fault rule {rule_id}.")
                tracker.fake_faults.remove(rule_id)
        # the computes this run stopped (on a real cloud with compute_process_command): their
        # start-up clean-up must run before their servers can be deleted
        for host in list(tracker.stopped_computes):
            attempt(
                f"Starting the nova-compute process of {host}",
                lambda h=host: self._restart_stopped_compute(h),
            )
        servers = list(tracker.servers.values())
        deleted = [
            server
            for server in servers
            if attempt(f"Deleting {server}", lambda s=server: client.delete_server(s.id))
        ]
        if deleted:

            def wait_until_gone():
                self._wait_until_gone([s.id for s in deleted])
                for server in deleted:
                    tracker.forget_server(server.id)

            attempt(f"Waiting until {len(deleted)} deleted server(s) are gone", wait_until_gone)
        services: list = []
        if tracker.services:
            attempt(
                "Listing the compute services", lambda: services.extend(client.compute_services())
            )
        current_services = {s.host: s for s in services}
        for host in list(tracker.services):
            current = current_services.get(host)
            if current is None:
                if services:  # the host is gone: nothing left to restore
                    del tracker.services[host]
                continue

            def restore(current=current, host=host):
                changes = tracker.changes_to_restore(current)
                if changes:
                    client.update_service(current, **changes)
                del tracker.services[host]

            attempt(f"Restoring the compute service of {host}", restore)
        if ctx.fake is not None:
            control = ctx.fake.control
            for host in list(tracker.fake_hosts):
                if attempt(f"Removing host {host}", lambda h=host: control.remove_host(h)):
                    tracker.fake_hosts.remove(host)
            if tracker.fake_durations is not None and attempt(
                "Restoring the fake cloud's durations",
                lambda: control.set_durations(**tracker.fake_durations),
            ):
                tracker.fake_durations = None
            if tracker.fake_bugs is not None and attempt(
                "Restoring the fake cloud's emulated bugs",
                lambda: control.emulate_bugs(tracker.fake_bugs),
            ):
                tracker.fake_bugs = None
