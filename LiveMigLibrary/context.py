"""State shared by all keyword classes of one library instance."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from robot.api import logger
from robot.api.types import Secret

from .client import UUID_RE, CloudClient, ReadRetries
from .clock import Clock, FakeCloudClock, FiredFaultLog, RealClock
from .concurrency import on_main_thread
from .deadline import CallTimeouts
from .enums import FakeClockMode
from .errors import (
    AmbiguousName,
    FakeCloudRequired,
    InvalidArgument,
    LiveMigError,
    NotConfigured,
)
from .evidence import EvidenceRecorder
from .hostpool import HostPool
from .models import Server
from .startup import importing_code
from .tracker import ResourceTracker
from .waiting import seconds

FAKE_DEFAULT_IMAGE = "cirros-0.6.2-x86_64-disk"
FAKE_DEFAULT_FLAVOR = "m1.tiny"


@dataclass
class Settings:
    cloud: str | None
    member_cloud: str | None
    password: Secret | None
    timeout: timedelta
    migration_timeout: timedelta
    poll_interval: timedelta
    computes: int
    fake_clock: FakeClockMode
    fake_speed: float
    fake_bugs: tuple[str, ...]
    image: str | None
    flavor: str | None
    network: str
    name_prefix: str
    api_timeout: timedelta | None = None  # None: clouds.yaml's api_timeout, else 60 s
    fake_nova_options: dict | None = None  # the embedded fake's nova.conf ([DEFAULT])
    # how to stop/start a real cloud's nova-compute (compute_process.ComputeProcessCommand)
    compute_process_command: object | None = None


def _import_cloud_code(fake: bool) -> None:
    """Imports openstacksdk, and the embedded fake's code when it is wanted (only then),
    before the first connection creates anything (see `startup.importing_code`)."""
    with importing_code("openstacksdk"):
        import openstack  # noqa: F401
    if fake:
        with importing_code("fake"):
            import LiveMigLibrary.fake  # noqa: F401


class LibraryContext:
    """Settings, the lazily opened cloud connection, the clock and the resource tracker."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.run_prefix = f"{settings.name_prefix}-{uuid.uuid4().hex[:8]}"
        self.tracker = ResourceTracker()
        self.fake = None
        self.clock: Clock = RealClock()
        self.fired_faults: FiredFaultLog | None = None
        self._admin: CloudClient | None = None
        self._connect_error: LiveMigError | None = None  # a real cloud failed to connect
        self._member: CloudClient | None = None
        self._use_member = False
        # batch keywords call the cloud from worker threads: connections open once
        self._connect_lock = threading.RLock()
        self.migration_baseline: dict[str, object] = {}
        self._provider_hosts: dict[str, str] | None = None  # see host_of_providers
        # compute hosts reserved by this instance's tests (hostpool.py)
        self.hosts = HostPool(self._cloud_key, lambda: not self.uses_fake)
        # records of the migrations this instance drives (see LiveMigLibrary/evidence)
        self.evidence = EvidenceRecorder(self)

    # -- connection ---------------------------------------------------------------------------

    @property
    def uses_fake(self) -> bool:
        return not self.settings.cloud

    @property
    def connected(self) -> bool:
        return self._admin is not None

    @property
    def admin(self) -> CloudClient:
        if self._admin is None:
            with self._connect_lock:
                if self._admin is None:
                    if self._connect_error is not None:
                        raise LiveMigError(
                            f"Connecting to cloud '{self.settings.cloud}' failed before in this "
                            f"suite, so it is not tried again: {self._connect_error}"
                        )
                    try:
                        self._admin = self._open_admin()
                    except LiveMigError as error:
                        if self.settings.cloud:  # the same clouds.yaml entry fails again
                            self._connect_error = error
                        raise
        return self._admin

    @property
    def client(self) -> CloudClient:
        """The client of the active user (admin unless switched to the member user)."""
        admin = self.admin
        if self._use_member:
            if self._member is None:
                with self._connect_lock:
                    if self._member is None:
                        self._member = self._open_member()
            return self._member
        return admin

    def use_member(self, member: bool) -> None:
        if member and not self.uses_fake and not self.settings.member_cloud:
            raise NotConfigured(
                "No member (non-admin) user is configured: import the library with "
                "member_cloud=<clouds.yaml entry of a member user>."
            )
        self._use_member = member

    def _retries(self) -> ReadRetries:
        """Read retries whose backoff goes through the library's clock (virtual on the fake)."""
        return ReadRetries(
            sleep=lambda seconds: self.clock.sleep(seconds),
            after_request=self.report_fired_faults,
            timeouts=CallTimeouts(
                None if self.settings.api_timeout is None else seconds(self.settings.api_timeout)
            ),
        )

    def report_fired_faults(self) -> None:
        """Logs the fake cloud's fault firings not logged yet (nothing on a real cloud).

        Only the main thread reports: a firing seen during a batch keyword's worker request
        is logged after the next request or clock step of the main thread.
        """
        if self.fired_faults is not None and on_main_thread():
            self.fired_faults.report()

    def _open_admin(self) -> CloudClient:
        settings = self.settings
        _import_cloud_code(fake=not settings.cloud)
        if settings.cloud:
            logger.info(f"Connecting to cloud '{settings.cloud}' from clouds.yaml.")
            password = settings.password.value if settings.password else None
            client = CloudClient.from_cloud_name(settings.cloud, password, self._retries())
            client.authenticate(settings.cloud)  # fail here, once, when it cannot connect
            return client
        from .fake import FakeCloud

        self.fake = FakeCloud(
            computes=settings.computes,
            clock=settings.fake_clock.value,
            speed=settings.fake_speed,
            emulate_bugs=settings.fake_bugs,
            nova_options=settings.fake_nova_options or None,
        ).start()
        logger.info(
            f"Started the embedded fake cloud at {self.fake.endpoint} with "
            f"{settings.computes} compute hosts ({settings.fake_clock.value} clock"
            + (
                f", emulating Nova bugs {', '.join(settings.fake_bugs)}"
                if settings.fake_bugs
                else ""
            )
            + ")."
        )
        self.fired_faults = FiredFaultLog(self.fake.control)
        if settings.fake_clock is FakeClockMode.MANUAL:
            self.clock = FakeCloudClock(
                self.fake.control, self.report_fired_faults, self.evidence.clock_map
            )
        return CloudClient(self.fake.connect(admin=True), self._retries())

    def _open_member(self) -> CloudClient:
        if self.fake is not None:
            return CloudClient(self.fake.connect(admin=False), self._retries())
        return CloudClient.from_cloud_name(self.settings.member_cloud, retries=self._retries())

    def host_of_providers(
        self, needed: Iterable[str] = (), host: str | None = None
    ) -> dict[str, str]:
        """Resource provider uuid -> compute host (via the hypervisors' node names).

        Read once per connection and kept: a compute node's provider keeps its uuid and
        name for the node's life, and each read costs two listings. Read again when a
        provider of ``needed`` is not known yet or no provider maps to ``host`` (a host
        added since).
        """
        mapping = self._provider_hosts
        if (
            mapping is None
            or any(rp not in mapping for rp in needed)
            or (host is not None and host not in mapping.values())
        ):
            admin = self.admin
            providers = admin.resource_provider_names()
            node_host = {
                node: name
                for name, nodes in admin.hypervisor_names_by_host().items()
                for node in nodes
            }
            mapping = {rp: node_host.get(node, node) for rp, node in providers.items()}
            self._provider_hosts = mapping
        return mapping

    def _cloud_key(self) -> str:
        """Names the cloud in host reservations: the same for every process using it."""
        admin = self.admin
        if self.fake is not None:
            return f"fake:{self.fake.endpoint}"
        config = getattr(getattr(admin, "conn", None), "config", None)
        auth = getattr(config, "auth", None) or {}
        return f"cloud:{auth.get('auth_url') or self.settings.cloud}"

    def host_owner(self, suite: str, test: str | None) -> str:
        """Who holds host reservations made now: the test, or the suite outside tests."""
        return f"{self.run_prefix}|" + (f"test {suite}.{test}" if test else f"suite {suite}")

    def quiet_pass(self):
        """Calls that may give up at once when the cloud has just been found silent (see
        `deadline.CallTimeouts.cleanup_pass`): clean-up and suite metadata."""
        timeouts = getattr(getattr(self._admin, "retries", None), "timeouts", None)
        return contextlib.nullcontext() if timeouts is None else timeouts.cleanup_pass()

    def fake_control(self, keyword: str):
        if not self.uses_fake:
            raise FakeCloudRequired(
                f"'{keyword}' needs the embedded fake cloud but the library is connected to "
                f"cloud '{self.settings.cloud}'; tag the test 'fake-only'."
            )
        self.admin  # noqa: B018 - starts the fake
        return self.fake.control

    def close(self) -> None:
        for client in (self._member, self._admin):
            if client is not None:
                client.close()
        self._member = self._admin = None
        self._use_member = False
        self._provider_hosts = None
        if self.fake is not None:
            fake, self.fake = self.fake, None
            fake.stop()
            self.clock = RealClock()
            self.fired_faults = None

    # -- defaults and lookups -----------------------------------------------------------------

    def timeout(self, value: timedelta | None) -> float:
        return seconds(value if value is not None else self.settings.timeout)

    def migration_timeout(self, value: timedelta | None) -> float:
        return seconds(value if value is not None else self.settings.migration_timeout)

    def poll_interval(self, value: timedelta | None) -> float:
        interval = seconds(value if value is not None else self.settings.poll_interval)
        if interval <= 0:
            raise InvalidArgument("poll_interval", value, "a time greater than zero, e.g. 2s")
        return interval

    def default_image(self) -> str:
        if self.settings.image:
            return self.settings.image
        if self.uses_fake:
            return FAKE_DEFAULT_IMAGE
        raise InvalidArgument(
            "image", None, "an image name or id (no library default on a real cloud)"
        )

    def default_flavor(self) -> str:
        if self.settings.flavor:
            return self.settings.flavor
        if self.uses_fake:
            return FAKE_DEFAULT_FLAVOR
        raise InvalidArgument(
            "flavor", None, "a flavor name or id (no library default on a real cloud)"
        )

    def server_id(self, server: Server | str) -> str:
        if isinstance(server, Server):
            return server.id
        text = str(server).strip()
        if not text:
            raise InvalidArgument(
                "server", server, "a server returned by Create Servers, a name or an id"
            )
        if UUID_RE.match(text):
            return text
        # This run's own server first: `web` is this run's `livemig-1a2b3c4d-web`, also when
        # a server of someone else on a shared cloud is called plain `web`.
        names = (f"{self.run_prefix}-{text}", text)
        own = sorted(c.id for c in self.tracker.servers.values() if c.name in names)
        if len(own) > 1:  # e.g. Create Server    name=web    twice
            raise AmbiguousName("server", text, "server", own)
        if own:
            return own[0]
        found = self.admin.find_server_id(text)
        if found is None:
            mine = sorted(s.name for s in self.tracker.servers.values())
            allowed = "an existing server's name or id, or a server returned by Create Servers"
            if mine:
                allowed += "; this run created " + ", ".join(mine) + " (names may be given "
                allowed += f"without the run prefix '{self.run_prefix}-')"
            short = [n.removeprefix(f"{self.run_prefix}-") for n in mine]
            raise InvalidArgument("server", server, allowed, short)
        return found

    def server_label(self, server: Server | str) -> str:
        if isinstance(server, Server):
            return f"Server {server.name}"
        return f"Server {server}"


def env_cloud() -> str | None:
    return os.environ.get("OS_CLOUD") or None
