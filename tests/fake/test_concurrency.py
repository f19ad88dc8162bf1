"""Many clients at once: allocations stay consistent with usages."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .helpers import Api, alloc_resources_by_rp
from .lm import FINAL

FLAVORS = {
    "m1.tiny": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1},
    "m1.small": {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20},
}


def _check_consistency(admin):
    rps = admin.providers()
    by_uuid = {rp["uuid"]: name for name, rp in rps.items()}
    # 1) per provider: the allocations listed on it sum to its usages
    for name, rp in rps.items():
        body = admin.placement("GET", f"/resource_providers/{rp['uuid']}/allocations").json()
        summed = {}
        for alloc in body["allocations"].values():
            for rc, n in alloc["resources"].items():
                summed[rc] = summed.get(rc, 0) + n
        usages = {rc: n for rc, n in admin.usages(rp["uuid"]).items() if n}
        assert summed == usages, (name, summed, usages)
        inv = admin.inventories(rp["uuid"])
        for rc, n in usages.items():
            assert n <= (inv[rc]["total"] - inv[rc]["reserved"]) * inv[rc]["allocation_ratio"]
    # 2) each server outside a move: exactly one allocation set, on its host
    servers = admin.servers_detail(all_tenants="1")
    consumers = set()
    for s in servers:
        allocs = admin.allocations(s["id"])
        if s["status"] == "ERROR":
            assert allocs == {}, s
            continue
        assert s["OS-EXT-STS:task_state"] is None, s
        flavor = FLAVORS[s["flavor"]["original_name"]]
        assert alloc_resources_by_rp(allocs) == {rps[s["OS-EXT-SRV-ATTR:host"]]["uuid"]: flavor}
        consumers.add(s["id"])
    # 3) no migration consumer keeps anything once every move is over
    for m in admin.migrations():
        assert m["status"] in FINAL, m
        assert admin.allocations(m["uuid"]) == {}, m
    # 4) no allocation belongs to an unknown consumer
    for rp_uuid in by_uuid:
        body = admin.placement("GET", f"/resource_providers/{rp_uuid}/allocations").json()
        assert set(body["allocations"]) <= consumers


def test_eight_threads_create_and_migrate(cloud, admin, ctl):
    n = 8
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def create(i):
        api = Api(cloud, admin=True)
        barrier.wait()
        return api.boot(f"par{i}", flavor="m1.small" if i % 2 else "m1.tiny")

    with ThreadPoolExecutor(n) as pool:
        ids = list(pool.map(create, range(n)))
    ctl.settle()
    assert all(admin.server(s)["status"] == "ACTIVE" for s in ids)
    _check_consistency(admin)

    stop = threading.Event()
    ticker_token = admin.token  # the control API takes the admin's token

    def ticker():
        # advance the virtual clock over HTTP while the clients hammer the API
        while not stop.is_set():
            resp = requests.post(
                cloud.endpoint + "/control/clock/advance",
                json={"seconds": 0.5},
                headers={"X-Auth-Token": ticker_token},
                timeout=30,
            )
            if resp.status_code != 200:
                errors.append(AssertionError(f"control API answered {resp.text}"))
                return

    def migrate_and_create(i):
        try:
            api = Api(cloud, admin=True)
            other_project = Api(cloud, admin=False)  # admin's quota holds 10 instances
            barrier.wait()
            resp = api.live_migrate(ids[i], mv="2.80")
            assert resp.status_code == 202, resp.text
            other_project.boot(f"late{i}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=ticker, daemon=True)
    t.start()
    try:
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(migrate_and_create, range(n)))
    finally:
        stop.set()
        t.join(timeout=30)
    assert not errors, errors
    ctl.settle()
    for sid in ids:
        assert admin.migration_of(sid)["status"] == "completed"
    assert len(admin.servers_detail(all_tenants="1")) == 2 * n
    _check_consistency(admin)


def test_concurrent_migrations_of_one_server_only_one_wins(cloud, admin, ctl, active_server):
    sid, _ = active_server
    n = 8
    barrier = threading.Barrier(n)

    def go(_):
        api = Api(cloud, admin=True)
        barrier.wait()
        return api.live_migrate(sid, mv="2.80").status_code

    with ThreadPoolExecutor(n) as pool:
        codes = sorted(pool.map(go, range(n)))
    assert codes == [202] + [409] * (n - 1)
    ctl.settle()
    assert len(admin.migrations(instance_uuid=sid)) == 1
    _check_consistency(admin)


@pytest.fixture(scope="module")
def tight_cloud():
    from .conftest import start_fake_cloud

    c = start_fake_cloud(
        computes=2, clock="manual", host_vcpus=4, host_memory_mb=4096, host_disk_gb=40
    )
    try:
        yield c
    finally:
        c.stop()


def test_racing_boots_never_oversubscribe(tight_cloud):
    tight_cloud.control.reset()
    admin = Api(tight_cloud, admin=True)
    n = 8
    barrier = threading.Barrier(n)

    def boot(i):
        api = Api(tight_cloud, admin=(i % 2 == 0))
        barrier.wait()
        return api.boot(f"race{i}", flavor="m1.small")

    with ThreadPoolExecutor(n) as pool:
        ids = list(pool.map(boot, range(n)))
    tight_cloud.control.settle()
    statuses = [admin.server(s)["status"] for s in ids]
    assert set(statuses) <= {"ACTIVE", "ERROR"}
    assert "ERROR" in statuses and "ACTIVE" in statuses
    _check_consistency(admin)
    # racing live migrations onto a full cloud must not oversubscribe either
    active = [s for s, st in zip(ids, statuses, strict=True) if st == "ACTIVE"]
    barrier2 = threading.Barrier(len(active))

    def move(sid):
        api = Api(tight_cloud, admin=True)
        barrier2.wait()
        return api.live_migrate(sid, mv="2.80").status_code

    with ThreadPoolExecutor(len(active)) as pool:
        assert set(pool.map(move, active)) == {202}
    tight_cloud.control.settle()
    _check_consistency(admin)
