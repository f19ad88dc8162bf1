"""No state that can never settle: whatever clients do, once the clock has run until nothing
is pending, no server is left in a task state, no migration in a non-final status, and every
provider's usage is the sum of its allocations."""

from __future__ import annotations

import json
import random

import pytest
from werkzeug.test import Client

from LiveMigLibrary.fake import IMAGE_ID, FakeCloud
from LiveMigLibrary.fake.server import build_app

FINAL = {"completed", "error", "failed", "cancelled", "confirmed", "reverted"}


class Rest:
    """Raw REST through the fake's WSGI application (no sockets: fast and deterministic)."""

    def __init__(self, cloud: FakeCloud, admin: bool = True):
        ident = cloud.backend.identity
        user = ident.users["admin" if admin else "demo"]
        self.token = ident.authenticate(user.name, None, user.password, None).id
        self.client = Client(build_app(cloud.backend, cloud.control))

    def call(self, method, path, body=None, mv="2.80", service="compute"):
        headers = {"X-Auth-Token": self.token}
        if service == "compute":
            path = "/compute/v2.1" + path
            headers["OpenStack-API-Version"] = f"compute {mv}"
        else:
            path = "/placement" + path
            headers["OpenStack-API-Version"] = "placement 1.28"
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        resp = self.client.open(path, method=method, headers=headers, data=data)
        assert resp.status_code < 500, (method, path, body, resp.get_data(as_text=True))
        text = resp.get_data(as_text=True)
        return resp.status_code, (json.loads(text) if text else None)

    def servers(self):
        return self.call("GET", "/servers/detail?all_tenants=1")[1]["servers"]


def create(api, name, count=1, flavor="1"):
    body = {
        "server": {
            "name": name,
            "imageRef": IMAGE_ID,
            "flavorRef": flavor,
            "networks": "none",
            "min_count": count,
            "max_count": count,
        }
    }
    return api.call("POST", "/servers", body)


def assert_settled(cloud: FakeCloud, api: Rest) -> None:
    ctl = cloud.control
    for _ in range(50):  # until idle: a fired event may schedule the next one
        ctl.settle(max_seconds=24 * 3600)
        if ctl.clock()["pending_events"] == 0:
            break
    assert ctl.clock()["pending_events"] == 0
    servers = api.servers()
    stuck = [(s["name"], s["status"], s["OS-EXT-STS:task_state"]) for s in servers]
    assert [s for s in stuck if s[2] is not None or s[1] == "BUILD"] == []
    _, body = api.call("GET", "/os-migrations")
    open_migrations = [(m["id"], m["status"]) for m in body["migrations"]]
    assert [m for m in open_migrations if m[1] not in FINAL] == []
    live = {s["id"] for s in servers if s["status"] != "ERROR"}
    _, providers = api.call("GET", "/resource_providers", service="placement")
    for rp in providers["resource_providers"]:
        _, allocs = api.call(
            "GET", f"/resource_providers/{rp['uuid']}/allocations", None, service="placement"
        )
        _, usages = api.call(
            "GET", f"/resource_providers/{rp['uuid']}/usages", None, service="placement"
        )
        summed: dict[str, int] = {}
        for consumer, alloc in allocs["allocations"].items():
            assert consumer in live, f"allocation of {consumer} on {rp['name']}: no live server"
            for rc, n in alloc["resources"].items():
                summed[rc] = summed.get(rc, 0) + n
        assert {rc: n for rc, n in usages["usages"].items() if n} == summed, rp["name"]


def test_deleting_one_server_of_a_multi_create_while_scheduling():
    cloud = FakeCloud(computes=2)
    api = Rest(cloud)
    status, _ = create(api, "pair", count=2)
    assert status == 202
    first = next(s for s in api.servers() if s["name"] == "pair-1")
    assert api.call("DELETE", f"/servers/{first['id']}")[0] == 204
    cloud.control.settle()
    cloud.control.advance(600)
    servers = api.servers()
    assert [(s["name"], s["status"]) for s in servers] == [("pair-2", "ACTIVE")]
    assert_settled(cloud, api)


def test_deleting_every_server_of_a_multi_create_while_scheduling():
    cloud = FakeCloud(computes=2)
    api = Rest(cloud)
    create(api, "trio", count=3)
    for s in api.servers():
        api.call("DELETE", f"/servers/{s['id']}")
    assert_settled(cloud, api)
    assert api.servers() == []


HOSTS = ["compute1", "compute2", "compute3"]


def random_operation(rng: random.Random, cloud: FakeCloud, api: Rest) -> None:
    ctl = cloud.control
    servers = api.servers()
    server = rng.choice(servers) if servers else None
    roll = rng.random()
    if roll < 0.18 or server is None:
        create(
            api,
            f"s{rng.randrange(10**6)}",
            count=rng.choice([1, 1, 2, 3]),
            flavor=rng.choice(["1", "2", "3"]),
        )
    elif roll < 0.28:
        api.call("DELETE", f"/servers/{server['id']}")
    elif roll < 0.5:
        host = rng.choice([None, *HOSTS])
        body = {"os-migrateLive": {"host": host, "block_migration": "auto"}}
        api.call("POST", f"/servers/{server['id']}/action", body, mv=rng.choice(["2.30", "2.80"]))
    elif roll < 0.6:
        _, migs = api.call("GET", f"/servers/{server['id']}/migrations")
        for mig in (migs or {}).get("migrations", []):
            if rng.random() < 0.5:
                api.call("DELETE", f"/servers/{server['id']}/migrations/{mig['id']}")
            else:
                api.call(
                    "POST",
                    f"/servers/{server['id']}/migrations/{mig['id']}/action",
                    {"force_complete": None},
                )
    elif roll < 0.72:
        action = rng.choice(
            ["pause", "unpause", "suspend", "resume", "os-stop", "os-start", "lock", "unlock"]
        )
        api.call("POST", f"/servers/{server['id']}/action", {action: None})
    elif roll < 0.8:
        ctl.set_host_alive(rng.choice(HOSTS), rng.random() < 0.6)
    elif roll < 0.88:
        point, kind = rng.choice(
            [
                ("build", "error"),
                ("build", "slow"),
                ("build", "host_down"),
                ("conductor", "no_valid_host"),
                ("conductor", "unreachable"),
                ("conductor", "source_check_error"),
                ("pre_live_migration", "error"),
                ("live_migration", "error"),
                ("live_migration", "slow"),
                ("live_migration", "source_down"),
                ("live_migration", "destination_down"),
            ]
        )
        extra = {"seconds": rng.choice([1, 30])} if kind == "slow" else {}
        ctl.add_fault(point, kind, count=rng.choice([1, 2]), **extra)
    else:
        service = rng.choice(HOSTS)
        _, body = api.call("GET", "/os-services?binary=nova-compute&host=" + service, mv="2.53")
        for svc in body["services"]:
            change = rng.choice(
                [
                    {"status": "disabled", "disabled_reason": "x"},
                    {"status": "enabled"},
                    {"forced_down": True},
                    {"forced_down": False},
                ]
            )
            api.call("PUT", f"/os-services/{svc['id']}", change, mv="2.53")
    ctl.advance(rng.choice([0, 0, 0.1, 0.5, 1, 3, 10]))


@pytest.mark.parametrize("seed", range(6))
def test_random_concurrent_operations_always_settle(seed):
    rng = random.Random(seed)
    cloud = FakeCloud(computes=3)
    api = Rest(cloud)
    for _ in range(120):
        random_operation(rng, cloud, api)
    # the operator brings the data centre back: computes restarted, enabled, not forced down
    for host in HOSTS:
        cloud.control.set_host_alive(host, True)
    cloud.control.clear_faults()
    _, body = api.call("GET", "/os-services?binary=nova-compute", mv="2.53")
    for svc in body["services"]:
        api.call("PUT", f"/os-services/{svc['id']}", {"forced_down": False}, mv="2.53")
    assert_settled(cloud, api)
