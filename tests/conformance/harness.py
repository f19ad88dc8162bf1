"""Real Nova and Placement in one process, over loopback HTTP, for conformance checks.

Nova's own functional-test fixtures start the API, conductor, scheduler and N computes on
Nova's fake virt driver, with real Placement, the way Nova's functional tests do
(``nova/tests/functional/integrated_helpers.py``, ``regressions/test_bug_1718455.py``).
What a deployment puts in front of them (keystone, ``auth_token``, glance) is the minimal
stand-in of ``tests/conformance/identity.py``. Everything is served on one loopback port
(``/identity``, ``/compute/v2.1``, ``/placement``, ``/image``) and a ``clouds.yaml`` with
``livemig-nova`` (admin) and ``livemig-nova-member`` (member of its own project) is written,
so openstacksdk, the ``openstack`` CLI, the library and its suites use it like a cloud.

Needs the ``conformance`` extra, in a venv of its own (Nova's dependencies pin
eventlet-era libraries that must not meet tempest's)::

    python3 -m venv .venv-nova && .venv-nova/bin/pip install -e '.[conformance]'
    .venv-nova/bin/python -m tests.conformance.harness --computes 3 --clouds-yaml ./clouds.yaml

It prints ``endpoint: ...`` and ``clouds_yaml: ...`` and serves until interrupted.

A test can stop and restart a compute the way Nova's functional tests do
(``compute.stop()``, ``restart_compute_service(..., keep_hypervisor_state=True)``: a new
``ComputeManager`` whose ``init_host`` cleans up, on the old fake driver that still knows
its guests), through ``POST /control/computes/<host>/<stop|start>`` on the same port. The
request must carry the token of ``--control-file`` (written 0600, as the clouds.yaml);
``tests/conformance/compute_control.py`` is the command-line client the library's
``compute_process_command`` runs.
"""

from __future__ import annotations

import nova.tests.functional  # noqa: F401 - eventlet monkey patching, before any other import

# isort: split

import argparse
import copy
import json
import logging
import os
import secrets
import signal
import sys
import tempfile
from pathlib import Path

import eventlet
import eventlet.wsgi
import fixtures
from nova import test
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional import fixtures as func_fixtures
from nova.tests.functional import integrated_helpers
from nova.tests.unit import fake_network
from placement import deploy as placement_deploy

from .identity import (
    AuthTokenMiddleware,
    IdentityApp,
    ImageApp,
    Keystone,
    PathDispatcher,
    json_reply,
)

# The embedded fake's image and host size, so one suite runs unchanged on both clouds.
IMAGE_ID = "6ea41bd8-5a8a-4a9b-8b3c-0c33b1e0c7a1"
IMAGE_NAME = "cirros-0.6.2-x86_64-disk"
HOST_VCPUS, HOST_MEMORY_MB, HOST_DISK_GB = 16, 32768, 500
ADMIN_CLOUD, MEMBER_CLOUD = "livemig-nova", "livemig-nova-member"
CONTROLLER_HOST = "controller"


class _NovaServices(test.TestCase, integrated_helpers.InstanceHelperMixin):
    """Nova's functional-test base, driven by hand: ``setUp()`` starts, cleanups stop."""

    compute_count = 3
    keystone: Keystone
    log_file: Path

    def runTest(self):  # noqa: N802 - testtools needs a test method to construct the case
        raise NotImplementedError

    def setUp(self):
        super().setUp()
        # Nova's StandardLogging keeps INFO lines in memory for a test's failure report;
        # a long-running harness sends them to a file instead.
        self.log_stream = open(self.log_file, "a", buffering=1)  # noqa: SIM115
        self.addCleanup(self.log_stream.close)
        logging.getLogger().handlers[0].setStream(self.log_stream)
        # Production answers: a response that fails Nova's own schema is logged, not a 500.
        self.flags(response_validation="warn", group="api")
        self.flags(compute_driver="fake.MediumFakeDriver")
        # A deployment runs the periodic tasks Nova's tests switch off; without the
        # resource tracker's update a compute node's free RAM goes stale after moves and
        # the RAM weigher stacks new servers instead of spreading them.
        self.flags(periodic_enable=True, update_resources_interval=2)
        # pip puts Nova's data files under the venv's prefix, not next to the package.
        self.flags(api_paste_config=str(Path(sys.prefix, "etc/nova/api-paste.ini")), group="wsgi")
        for attr, value in (
            ("vcpus", HOST_VCPUS),
            ("memory_mb", HOST_MEMORY_MB),
            ("local_gb", HOST_DISK_GB),
        ):
            self.useFixture(fixtures.MonkeyPatch(f"nova.virt.fake.MediumFakeDriver.{attr}", value))
        self.useFixture(nova_fixtures.RealPolicyFixture())
        self.useFixture(nova_fixtures.NeutronFixture(self))
        self.glance = self.useFixture(nova_fixtures.GlanceFixture(self))
        image = copy.deepcopy(nova_fixtures.GlanceFixture.image1)
        image.update(id=IMAGE_ID, name=IMAGE_NAME, properties={}, tags=[])
        self.glance.images.clear()  # only the one image the embedded fake has too
        self.glance.images[IMAGE_ID] = image
        self.placement_fixture = self.useFixture(func_fixtures.PlacementFixture())
        # keystonemiddleware's auth_token in Nova's paste pipeline becomes our token check;
        # Nova's real NovaKeystoneContext then builds the context from its headers.
        keystone = self.keystone
        self.useFixture(
            fixtures.MonkeyPatch(
                "keystonemiddleware.auth_token.filter_factory",
                lambda global_conf, **local: lambda app: AuthTokenMiddleware(app, keystone),
            )
        )
        self.api_fixture = self.useFixture(
            nova_fixtures.OSAPIFixture(api_version="v2.1", stub_keystone=False)
        )
        # One controller host for both, as the embedded fake (and devstack) has it.
        self.stopped_computes: set[str] = set()
        self.start_service("conductor", host=CONTROLLER_HOST)
        self.start_service("scheduler", host=CONTROLLER_HOST)
        for i in range(1, self.compute_count + 1):
            self._start_compute(f"compute{i}")
        fake_network.set_stub_network_methods(self)

    def stop_compute(self, host: str) -> str:
        """The host's nova-compute dies: no heartbeat, no RPC served, guests left as they are."""
        if host in self.stopped_computes:
            return "already stopped"
        self.computes[host].stop()
        self.stopped_computes.add(host)
        return "stopped"

    def start_compute(self, host: str) -> str:
        """A new nova-compute on the host, on the hypervisor state the old one left: its
        ``init_host`` runs the start-up clean-up (evacuated guests, interrupted work)."""
        if host not in self.stopped_computes:
            return "already running"
        self.computes[host] = self.restart_compute_service(
            self.computes[host], keep_hypervisor_state=True
        )
        self.stopped_computes.discard(host)
        return "started"

    def nova_app(self):
        return self.api_fixture.app()

    def placement_app(self):
        return placement_deploy.loadapp(self.placement_fixture.conf_fixture.conf)

    def stop(self) -> None:
        while self._cleanups:
            fn, args, kwargs = self._cleanups.pop()
            try:
                fn(*args, **kwargs)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass


class NovaHarness:
    """Real Nova + Placement behind a minimal keystone, on ``127.0.0.1:port``."""

    def __init__(self, *, computes: int = 3, port: int = 0, log_file: str | None = None):
        if not isinstance(computes, int) or computes < 1:
            raise ValueError(
                f"computes must be a whole number of hosts (1 or more), got {computes!r}"
            )
        self.computes = computes
        self.log_file = Path(log_file or tempfile.mkdtemp(prefix="livemig-nova-") + "/nova.log")
        self.keystone = Keystone()
        self.control_token = secrets.token_urlsafe(24)
        self._port = port
        self._services: _NovaServices | None = None
        self._server = None
        self._socket = None

    @property
    def endpoint(self) -> str:
        if self._socket is None:
            raise RuntimeError("the harness is not started; call start() first")
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def start(self) -> NovaHarness:
        self._socket = eventlet.listen(("127.0.0.1", self._port))
        services = _NovaServices()
        services.compute_count = self.computes
        services.keystone = self.keystone
        services.log_file = self.log_file
        services.setUp()
        self._services = services
        base = lambda: self.endpoint  # noqa: E731
        app = PathDispatcher(
            {
                "/identity": IdentityApp(self.keystone, base),
                "/compute": services.nova_app(),
                "/placement": AuthTokenMiddleware(
                    services.placement_app(), self.keystone, placement_noauth=True
                ),
                "/image": AuthTokenMiddleware(
                    ImageApp(lambda: services.glance.images, base), self.keystone
                ),
                "/control": ComputeControlApp(services, self.control_token),
            }
        )
        self._server = eventlet.spawn(
            eventlet.wsgi.server,
            self._socket,
            app,
            log=_NullLog(),
            log_output=False,
            socket_timeout=60,
        )
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.kill()
            self._server = None
        if self._services is not None:
            self._services.stop()
            self._services = None

    def cloud_config(self, admin: bool = True) -> dict:
        user = self.keystone.users["admin" if admin else "demo"]
        return {
            "auth": {
                "auth_url": self.endpoint + "/identity",
                "username": user.name,
                "password": user.password,
                "project_name": user.project_name,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": "RegionOne",
            "identity_api_version": 3,
            "interface": "public",
        }

    def write_clouds_yaml(self, path: str | os.PathLike) -> Path:
        """``clouds.yaml`` with ``livemig-nova`` (admin) and ``livemig-nova-member``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        clouds = {
            "clouds": {
                ADMIN_CLOUD: self.cloud_config(True),
                MEMBER_CLOUD: self.cloud_config(False),
            }
        }
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".clouds-", suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(clouds, indent=2) + "\n")  # JSON is YAML
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        return path

    def write_control_file(self, path: str | os.PathLike) -> Path:
        """Where and how ``compute_control.py`` reaches the control endpoint (0600: a token)."""
        return _write_private_json(
            Path(path), {"endpoint": self.endpoint + "/control", "token": self.control_token}
        )


def _write_private_json(path: Path, content: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".control-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(content, indent=2) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


class ComputeControlApp:
    """``POST /computes/<host>/<stop|start>`` with ``X-Control-Token``: what a deployment's
    ``systemctl stop|start nova-compute`` is to a real host. Answers when it is done (a
    start returns after ``init_host``)."""

    ACTIONS = ("stop", "start")

    def __init__(self, services: _NovaServices, token: str):
        self.services = services
        self.token = token

    def __call__(self, environ, start_response):
        given = environ.get("HTTP_X_CONTROL_TOKEN", "")
        if not secrets.compare_digest(given, self.token):
            return json_reply(start_response, 401, {"error": "a valid X-Control-Token is needed"})
        parts = environ.get("PATH_INFO", "").strip("/").split("/")
        if len(parts) != 3 or parts[0] != "computes" or parts[2] not in self.ACTIONS:
            return json_reply(
                start_response, 404, {"error": "POST /control/computes/<host>/<stop|start>"}
            )
        if environ.get("REQUEST_METHOD") != "POST":
            return json_reply(start_response, 405, {"error": "only POST"})
        host, action = parts[1], parts[2]
        if host not in self.services.computes:
            known = ", ".join(sorted(self.services.computes))
            return json_reply(
                start_response, 404, {"error": f"no compute host {host!r}; hosts: {known}"}
            )
        try:
            if action == "stop":
                result = self.services.stop_compute(host)
            else:
                result = self.services.start_compute(host)
        except Exception as error:  # noqa: BLE001 - the caller sees why, the harness lives on
            logging.getLogger(__name__).exception("control: %s %s failed", action, host)
            return json_reply(start_response, 500, {"error": f"{action} {host} failed: {error}"})
        logging.getLogger(__name__).info("control: %s %s: %s", action, host, result)
        return json_reply(start_response, 200, {"host": host, "action": action, "result": result})


class _NullLog:
    def write(self, *_):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.conformance.harness",
        description="Real Nova and Placement (Nova's functional fixtures, fake virt driver) "
        "behind a minimal keystone on 127.0.0.1, until interrupted.",
    )
    parser.add_argument("--computes", type=int, default=3, help="compute hosts (default 3)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--clouds-yaml", help="write a clouds.yaml for the harness here")
    parser.add_argument("--log-file", help="Nova's and Placement's log (default: a temp file)")
    parser.add_argument(
        "--control-file",
        help="write the compute control endpoint and its token here (for compute_control.py)",
    )
    args = parser.parse_args(argv)
    harness = NovaHarness(computes=args.computes, port=args.port, log_file=args.log_file)
    harness.start()
    print(f"endpoint: {harness.endpoint}", flush=True)
    print(f"log_file: {harness.log_file}", flush=True)
    if args.clouds_yaml:
        path = harness.write_clouds_yaml(args.clouds_yaml)
        print(f"clouds_yaml: {path} (clouds: {ADMIN_CLOUD}, {MEMBER_CLOUD})", flush=True)
    if args.control_file:
        path = harness.write_control_file(args.control_file)
        print(f"control_file: {path}", flush=True)
    print("ready", flush=True)
    stopping = eventlet.event.Event()

    def _stop(*_):
        if not stopping.ready():
            stopping.send(True)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopping.ready():
        eventlet.sleep(0.2)
    harness.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
