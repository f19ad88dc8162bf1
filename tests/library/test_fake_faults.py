"""Fault keywords of the embedded fake cloud: misuse, firing log, tracking and cleanup."""

from __future__ import annotations

import re

import pytest

from LiveMigLibrary import LiveMigLibrary
from LiveMigLibrary import clock as clock_module
from LiveMigLibrary.clock import describe_fired_fault
from LiveMigLibrary.errors import CheckFailed, FakeCloudRequired, InvalidArgument, NotConfigured

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


def test_a_fired_fault_reads_as_a_sentence():
    entry = {
        "rule": 3,
        "point": "live_migration",
        "kind": "hang",
        "server": "web-1",
        "host": "compute1",
        "path": None,
        "at": 12.0,
    }
    assert describe_fired_fault(entry) == (
        "Fault 3 fired: live_migration/hang for server web-1 on host compute1 at t=12.0s"
    )
    api = {
        "rule": 4,
        "point": "api",
        "kind": "status",
        "path": "/compute/v2.1/servers/x",
        "method": "GET",
        "status": 503,
    }
    assert describe_fired_fault(api) == (
        "Fault 4 fired: api/status 503 for GET /compute/v2.1/servers/x"
    )


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"point": "network", "kind": "error"}, "point"),
        ({"point": "build", "kind": "hang"}, "kind"),
        ({"point": "build", "kind": "error", "count": 0}, "count"),
        ({"point": "build", "kind": "error", "skip": -1}, "skip"),
        ({"point": "build", "kind": "slow"}, "delay"),
        ({"point": "build", "kind": "error", "delay": 5}, "delay"),
        ({"point": "build", "kind": "error", "status": 503}, "status"),
        ({"point": "live_migration", "kind": "hang", "path": "*"}, "path"),
        ({"point": "api", "kind": "status", "status": 200}, "status"),
        ({"point": "api", "kind": "status", "method": "FETCH"}, "method"),
        ({"point": "api", "kind": "status", "server": "web-*"}, "server"),
    ],
)
def test_fault_misuse_fails_before_the_fake_is_started(kwargs, argument):
    library = LiveMigLibrary()
    with pytest.raises(InvalidArgument, match=f"Argument '{argument}'"):
        library.inject_fake_cloud_fault(**kwargs)
    assert library._ctx.fake is None


def test_fault_and_process_keywords_need_the_fake():
    library = LiveMigLibrary(cloud="some-real-cloud")
    with pytest.raises(
        NotConfigured, match="Stop Compute Service Process.*compute_process_command"
    ):
        library.stop_compute_service_process("compute1")
    with pytest.raises(FakeCloudRequired, match="Inject Fake Cloud Fault"):
        library.inject_fake_cloud_fault("build", "error")


@pytest.fixture
def fake_lib():
    library = LiveMigLibrary(computes=2)
    yield library
    library.close()


@pytest.fixture
def infos(monkeypatch):
    messages: list[str] = []
    monkeypatch.setattr(clock_module.logger, "info", lambda msg, *a, **k: messages.append(msg))
    return messages


def test_injected_faults_are_logged_when_fired_and_removed_at_cleanup(fake_lib, infos):
    rule = fake_lib.inject_fake_cloud_fault("build", "error", skip=1, count=1)
    kept = fake_lib.inject_fake_cloud_fault("live_migration", "hang", count=None)
    servers = fake_lib.create_servers(2, name="faulty")
    with pytest.raises(Exception, match=re.escape(f"Server {servers[1]} went to ERROR")):
        fake_lib.wait_until_servers_are_active(*servers)
    fired = [m for m in infos if m.startswith(f"Fault {rule} fired: build/error")]
    assert len(fired) == 1
    assert f"for server {servers[1].name}" in fired[0]
    fake_lib.fake_cloud_fault_should_have_fired(rule, times=1)
    with pytest.raises(CheckFailed, match=f"Fault rule {kept} fired 0 time"):
        fake_lib.fake_cloud_fault_should_have_fired(kept)
    fake_lib.delete_created_resources()
    control = fake_lib._ctx.fake.control
    assert control.faults() == []
    assert fake_lib._ctx.tracker.is_empty()


def test_remove_fake_cloud_fault(fake_lib):
    rule = fake_lib.inject_fake_cloud_fault("live_migration", "hang", count=None)
    with pytest.raises(InvalidArgument, match=f"Argument 'rule' got 99.*{rule}"):
        fake_lib.remove_fake_cloud_fault(99)
    fake_lib.remove_fake_cloud_fault(rule)
    assert fake_lib._ctx.fake.control.faults() == []
    assert fake_lib._ctx.tracker.fake_faults == []


def test_stopped_compute_processes_are_started_again_at_cleanup(fake_lib):
    with pytest.raises(InvalidArgument, match="'host' got 'compute9'.*compute1, compute2"):
        fake_lib.stop_compute_service_process("compute9")
    fake_lib.stop_compute_service_process("compute2")
    fake_lib.advance_fake_cloud_clock(120)
    fake_lib.compute_service_should_be("compute2", state="down")
    fake_lib.delete_created_resources()
    fake_lib.compute_service_should_be("compute2", state="up")
    assert fake_lib._ctx.tracker.stopped_computes == []


def test_start_compute_service_process_untracks_the_host(fake_lib):
    fake_lib.stop_compute_service_process("compute1")
    fake_lib.start_compute_service_process("compute1")
    assert fake_lib._ctx.tracker.stopped_computes == []
    fake_lib.compute_service_should_be("compute1", state="up")
