"""The library and its suites against real Nova and Placement (the harness), not the fake.

Skipped when the conformance venv is absent; ``.ci/run`` creates it and sets
``LIVEMIG_REQUIRE_NOVA=1``, so in CI a missing venv fails instead.
"""

from __future__ import annotations

import io
import time

import openstack
import pytest
import robot
from robot.api import ExecutionResult

from .launcher import ADMIN_CLOUD, MEMBER_CLOUD, ROOT

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


def _wait(what, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_flagship_live_migration_on_real_nova(real_nova, monkeypatch):
    """Bug 1718455's scenario end to end through openstacksdk on real Nova."""
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(real_nova.clouds_yaml))
    conn = openstack.connect(cloud=ADMIN_CLOUD)
    body = {
        "server": {
            "name": "flagship",
            "imageRef": conn.image.find_image("cirros-0.6.2-x86_64-disk").id,
            "flavorRef": conn.compute.find_flavor("m1.tiny").id,
            "networks": "none",
            "min_count": 2,
            "max_count": 2,
            "return_reservation_id": True,
        }
    }
    reply = conn.compute.post("/servers", json=body, microversion="2.74")
    assert reply.status_code == 202, reply.text
    rid = reply.json()["reservation_id"]

    def created():
        return list(conn.compute.servers(details=True, reservation_id=rid))

    try:
        servers = _wait(
            "two ACTIVE servers",
            lambda: (
                len(found := created()) == 2 and all(s.status == "ACTIVE" for s in found) and found
            ),
        )
        server = servers[0]
        source = server.compute_host
        target = next(
            h.host for h in conn.compute.services(binary="nova-compute") if h.host != source
        )
        conn.compute.live_migrate_server(server, host=target, block_migration="auto")
        migration = _wait(
            "a completed migration",
            lambda: next(
                (
                    m
                    for m in conn.compute.migrations(instance_uuid=server.id)
                    if m.status in ("completed", "error", "failed")
                ),
                None,
            ),
        )
        assert (migration.status, migration.migration_type) == ("completed", "live-migration")
        assert (migration.source_compute, migration.dest_compute) == (source, target)
        assert conn.compute.get_server(server.id).compute_host == target
        providers = {rp.name: rp.id for rp in conn.placement.resource_providers()}
        allocs = conn.placement.get(f"/allocations/{server.id}", microversion="1.28").json()
        assert list(allocs["allocations"]) == [providers[target]]
        moved = conn.placement.get(f"/allocations/{migration.id}", microversion="1.28")
        assert moved.json()["allocations"] == {}
    finally:
        for s in created():
            conn.compute.delete_server(s, ignore_missing=True)


def test_suites_pass_on_real_nova(real_nova, tmp_path, monkeypatch):
    """Every suite minus ``fake-only`` passes unchanged on real Nova; nothing is skipped.

    The evacuation suite stops and restarts computes through the library's
    ``compute_process_command``, here the harness's ``compute_control.py``."""
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(real_nova.clouds_yaml))
    monkeypatch.delenv("OS_CLOUD", raising=False)
    console = io.StringIO()
    started = time.monotonic()
    robot.run(
        str(ROOT / "suites"),
        exclude=["fake-only"],
        variable=[
            f"CLOUD:{ADMIN_CLOUD}",
            f"MEMBER_CLOUD:{MEMBER_CLOUD}",
            # the evacuation suite kills computes as on a real cloud: through the harness
            f"COMPUTE_PROCESS_COMMAND:{real_nova.compute_process_command}",
        ],
        outputdir=str(tmp_path),
        log="NONE",
        report="NONE",
        stdout=console,
        stderr=console,
    )
    elapsed = time.monotonic() - started
    result = ExecutionResult(str(tmp_path / "output.xml"))
    tests = {t.longname: (t.status, t.message) for t in result.suite.all_tests}
    not_passed = {name: v for name, v in tests.items() if v[0] != "PASS"}
    print(f"suites on real Nova: {len(tests)} tests in {elapsed:.0f} s")
    assert tests, console.getvalue()
    assert not not_passed, f"{not_passed}\n{console.getvalue()}\n{real_nova.log_tail()}"
