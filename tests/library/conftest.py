"""Fixtures for the library's unit tests: a library whose cloud client is a recording stub."""

from __future__ import annotations

import io
import os

import pytest
import robot
from robot.api import ExecutionResult

from LiveMigLibrary import LiveMigLibrary
from LiveMigLibrary.models import ComputeService, Migration, ServerState


class StubClient:
    """Stands in for `CloudClient`; records calls; unknown calls fail the test."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.services = [
            ComputeService("s1", "compute1", "enabled", "up", False),
            ComputeService("s2", "compute2", "enabled", "up", False),
        ]
        self.states: dict[str, ServerState] = {}
        self.migration_records: dict[str, list[Migration]] = {}
        self.flavors = {"m1.tiny": "f1"}
        self.images = {"cirros": "i1"}

    def _record(self, *call):
        self.calls.append(call)

    def compute_services(self):
        self._record("compute_services")
        return list(self.services)

    def update_service(self, service, **changes):
        self._record("update_service", service.host, changes)
        for index, current in enumerate(self.services):
            if current.host == service.host:
                values = dict(current.__dict__)
                if "status" in changes:
                    values["status"] = changes["status"]
                if "forced_down" in changes:
                    values["forced_down"] = changes["forced_down"]
                if "disabled_reason" in changes:
                    values["disabled_reason"] = changes["disabled_reason"]
                self.services[index] = ComputeService(**values)

    def find_flavor_id(self, name):
        self._record("find_flavor_id", name)
        return self.flavors.get(name)

    def flavor_names(self):
        return sorted(self.flavors)

    def find_image_id(self, name):
        self._record("find_image_id", name)
        return self.images.get(name)

    def image_names(self):
        return sorted(self.images)

    def server_state(self, server_id):
        self._record("server_state", server_id)
        return self.states.get(server_id)

    def delete_server(self, server_id):
        self._record("delete_server", server_id)
        self.states.pop(server_id, None)

    def migrations(self, server_id):
        self._record("migrations", server_id)
        return list(self.migration_records.get(server_id, []))

    def live_migrate(self, server_id, host, block_migration):
        self._record("live_migrate", server_id, host, block_migration)

    # what the migration records (LiveMigLibrary/evidence) read

    def live_migrate_microversion(self):
        return "2.30"

    def server_action(self, server_id, action, not_after=None):
        return None

    def allocations(self, consumer):
        return {}

    def close(self):
        pass


SERVER_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(autouse=True)
def unit_test_clouds(tmp_path_factory, monkeypatch):
    """A clouds.yaml defining the real-cloud names the unit tests import the library with.

    The library checks a cloud name against clouds.yaml at import; these clouds are never
    contacted (their client is a stub).
    """
    path = tmp_path_factory.mktemp("clouds") / "clouds.yaml"
    path.write_text(
        "clouds:\n"
        + "".join(
            f"  {name}:\n    auth: {{auth_url: 'http://127.0.0.1:9/identity'}}\n"
            for name in ("unit-test-cloud", "some-real-cloud")
        )
    )
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    monkeypatch.delenv("OS_CLOUD", raising=False)
    return path


@pytest.fixture
def stub():
    return StubClient()


@pytest.fixture
def lib(stub):
    library = LiveMigLibrary(cloud="unit-test-cloud")
    library._ctx._admin = stub
    yield library
    library._ctx._admin = None


def active(server_id=SERVER_ID, host="compute1", status="ACTIVE", task=None, fault=None):
    return ServerState(server_id, "srv", status, task, "active", host, fault)


def run_robot(source, outputdir, env: dict | None = None):
    """Runs Robot in this process on ``source`` (a suite file or folder), with ``env`` set
    and no OS_CLOUD for the run only: (return code, the result read back, the console)."""
    console = io.StringIO()
    old = dict(os.environ)
    os.environ.pop("OS_CLOUD", None)
    os.environ.update(env or {})
    try:
        rc = robot.run(
            str(source), outputdir=str(outputdir), log="NONE", report="NONE",
            stdout=console, stderr=console,
        )  # fmt: skip
    finally:
        os.environ.clear()
        os.environ.update(old)
    return rc, ExecutionResult(str(outputdir / "output.xml")), console.getvalue()
