"""The control API steers the whole cloud: admin token, JSON only, no browsers, checked
values; and reset returns the cloud to its start state."""

from __future__ import annotations

import pytest
import requests


def control(cloud, method, path, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["X-Auth-Token"] = token
    return requests.request(
        method, cloud.endpoint + "/control" + path, headers=headers, timeout=30, **kwargs
    )


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/reset", None),
        ("GET", "/clock", None),
        ("POST", "/clock/advance", {"seconds": 1}),
        ("PUT", "/durations", {"build": 1}),
        ("POST", "/faults", {"point": "build", "kind": "error"}),
        ("PUT", "/hosts/compute1/alive", {"alive": False}),
    ],
)
def test_control_needs_the_admins_token(cloud, member, ctl, method, path, body):
    before = ctl.durations(), ctl.hosts(), ctl.faults(), ctl.now()
    resp = control(cloud, method, path, json=body)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == 401
    resp = control(cloud, method, path, member.token, json=body)
    assert resp.status_code == 403 and "admin" in resp.json()["error"]["message"]
    assert (ctl.durations(), ctl.hosts(), ctl.faults(), ctl.now()) == before


def test_control_with_the_admins_token_works(cloud, admin, ctl):
    resp = control(cloud, "POST", "/clock/advance", admin.token, json={"seconds": 2})
    assert resp.status_code == 200 and resp.json()["now"] == 2.0
    assert ctl.now() == 2.0


def test_control_refuses_browser_requests(cloud, admin, ctl):
    resp = control(
        cloud,
        "POST",
        "/clock/advance",
        admin.token,
        json={"seconds": 2},
        headers={"Origin": "http://evil.example"},
    )
    assert resp.status_code == 403 and "Origin" in resp.json()["error"]["message"]
    assert ctl.now() == 0.0


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", None])
def test_control_refuses_non_json_bodies(cloud, admin, ctl, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    resp = control(cloud, "PUT", "/durations", admin.token, data=b'{"build": 9}', headers=headers)
    assert resp.status_code == 415, resp.text
    assert ctl.durations()["build"] == 3.0


@pytest.mark.parametrize("raw", [b'{"build": Infinity}', b'{"build": NaN}', b'{"build": 1e999}'])
def test_durations_refuse_non_finite_numbers(cloud, admin, ctl, raw):
    headers = {"Content-Type": "application/json"}
    resp = control(cloud, "PUT", "/durations", admin.token, data=raw, headers=headers)
    assert resp.status_code == 400
    assert ctl.durations()["build"] == 3.0
    assert control(cloud, "GET", "/durations", admin.token).status_code == 200


@pytest.mark.parametrize("value", [1e30, "five", "", True, -1, None, [1], {"s": 1}])
def test_durations_take_finite_non_negative_numbers_only(cloud, admin, ctl, value):
    resp = control(cloud, "PUT", "/durations", admin.token, json={"build": value})
    assert resp.status_code == 400, resp.text
    assert "build" in resp.json()["error"]["message"]
    assert ctl.durations()["build"] == 3.0
    with pytest.raises(ValueError, match="build"):
        ctl.set_durations(build=value)


def test_seconds_in_text_are_read_as_oslo_config_reads_a_float(cloud, admin, ctl):
    """Every number of the fake follows one set of rules (fake/numeric.py): numeric text is
    taken, as oslo.config's FloatOpt takes it from nova.conf, here as in the options."""
    resp = control(cloud, "PUT", "/durations", admin.token, json={"build": " 5 "})
    assert resp.status_code == 200 and resp.json()["durations"]["build"] == 5.0
    resp = control(cloud, "POST", "/clock/advance", admin.token, json={"seconds": "+2.5"})
    assert resp.status_code == 200 and resp.json()["now"] == 2.5


def test_durations_are_all_or_nothing(cloud, admin, ctl):
    resp = control(cloud, "PUT", "/durations", admin.token, json={"running": 9, "build": -1})
    assert resp.status_code == 400
    assert ctl.durations()["running"] == 5.0


@pytest.mark.parametrize("seconds", [1e30, -1, "five", "", True, None])
def test_advance_and_settle_take_sane_seconds(cloud, admin, ctl, seconds):
    resp = control(cloud, "POST", "/clock/advance", admin.token, json={"seconds": seconds})
    assert resp.status_code == 400, resp.text
    resp = control(cloud, "POST", "/clock/settle", admin.token, json={"max_seconds": seconds})
    assert resp.status_code == 400, resp.text
    assert ctl.now() == 0.0
    assert control(cloud, "GET", "/clock", admin.token).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": "h", "zone": 5},
        {"name": "h", "vcpus": 2**40},
        {"name": "h", "memory_mb": "1024"},
        {"name": ["h"]},
    ],
)
def test_add_host_checks_values(cloud, admin, ctl, body):
    resp = control(cloud, "POST", "/hosts", admin.token, json=body)
    assert resp.status_code == 400, resp.text
    assert [h["name"] for h in ctl.hosts()] == ["compute1", "compute2"]


def test_reset_returns_durations_bugs_hosts_and_clock_to_the_start(cloud, admin, ctl):
    start = ctl.durations(), ctl.emulated_bugs(), ctl.hosts()
    ctl.set_durations(build=99, running=1)
    ctl.emulate_bugs(["1718455"])
    ctl.add_host("extra")
    ctl.add_fault("build", "error")
    ctl.advance(10)
    resp = control(cloud, "POST", "/reset", admin.token)
    assert resp.status_code == 200 and resp.json()["now"] == 0.0
    assert (ctl.durations(), ctl.emulated_bugs(), ctl.hosts()) == start
    assert ctl.faults() == [] and ctl.fired_faults() == []


def test_reset_restores_constructor_durations_and_bugs():
    from LiveMigLibrary.fake import FakeCloud

    cloud = FakeCloud(durations={"build": 7}, emulate_bugs=["1848343"])
    cloud.control.set_durations(build=1)
    cloud.control.emulate_bugs([])
    cloud.control.reset()
    assert cloud.control.durations()["build"] == 7.0
    assert cloud.control.emulated_bugs() == ["1848343"]


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("DELETE", "/hosts/nowhere", None),
        ("PUT", "/hosts/nowhere/alive", {"alive": False}),
        ("DELETE", "/faults/999", None),
        ("GET", "/servers/nope/history", None),
        ("GET", "/servers/nope/workload", None),
        ("PUT", "/servers/nope/workload", {"dirty_rate_mib": 1}),
        ("GET", "/migrations/999/history", None),
        ("GET", "/migrations/999/dynamics", None),
    ],
)
def test_what_the_fake_does_not_have_is_404(cloud, admin, ctl, method, path, body):
    resp = control(cloud, method, path, admin.token, json=body)
    assert resp.status_code == 404, resp.text
    assert resp.json()["error"]["message"].startswith("no ")


def test_a_refusal_that_quotes_no_server_or_no_compute_host_is_400(cloud, admin, ctl):
    """404 follows from the lookup failing (its own exception type), not from words in the
    message: a bad value or a busy host whose text holds "no server" or "no compute host"
    is still a 400 about a server and a host the fake has."""
    ctl.add_host("no compute host", memory_mb=131072)  # the RAM weigher's first pick
    sid = admin.boot("vm-on-no-compute-host")
    ctl.settle()
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == "no compute host"
    path = f"/servers/{sid}/workload"
    resp = control(cloud, "PUT", path, admin.token, json={"dirty_rate_mib": "no server"})
    assert resp.status_code == 400, resp.text
    assert "dirty_rate_mib must be a finite number" in resp.json()["error"]["message"]
    resp = control(cloud, "DELETE", "/hosts/no compute host", admin.token)
    assert resp.status_code == 400, resp.text
    assert "still has servers" in resp.json()["error"]["message"]


def test_reset_restores_every_kind_of_start_state():
    """Everything the cloud was created with, and everything a test can change, comes back:
    clock, hosts and their capacity, durations, nova.conf and [libvirt] options, links
    (the default and per pair), emulated bugs, fault rules, servers, migrations, quotas."""
    from fake.helpers import Api

    from LiveMigLibrary.fake import FakeCloud

    cloud = FakeCloud(
        computes=2,
        clock="manual",
        host_prefix="node",
        host_vcpus=8,
        host_memory_mb=16384,
        durations={"build": 7},
        emulate_bugs=["1848343"],
        nova_options={"reserved_host_memory_mb": 0, "resize_confirm_window": 30},
        libvirt={"live_migration_downtime": 1000, "live_migration_permit_post_copy": True},
        link_bandwidth_mib=100,
    ).start()
    try:
        admin, ctl = Api(cloud), cloud.control

        def state() -> dict:
            quota = admin.compute("GET", f"/os-quota-sets/{admin.project_id}")
            return {
                "clock": ctl.clock(),
                "hosts": ctl.hosts(),
                "durations": ctl.durations(),
                "nova_options": ctl.nova_options(),
                "libvirt": ctl.libvirt_options(),
                "links": ctl.links(),
                "bugs": ctl.emulated_bugs(),
                "faults": (ctl.faults(), ctl.fired_faults()),
                "servers": admin.servers_detail(),
                "migrations": admin.migrations(),
                "quota": quota.json()["quota_set"],
            }

        start = state()
        ctl.set_durations(build=1)
        ctl.set_nova_options(reserved_host_memory_mb=1024, allow_resize_to_same_host=True)
        ctl.set_libvirt_options(live_migration_downtime=500, live_migration_bandwidth=10)
        ctl.set_link_bandwidth(5)
        ctl.set_link_bandwidth(7, source="node1", destination="node2")
        ctl.emulate_bugs(["1718455"])
        ctl.add_host("extra", vcpus=4)
        body = {"quota_set": {"instances": 3}}
        resp = admin.compute("PUT", f"/os-quota-sets/{admin.project_id}", json=body)
        assert resp.status_code == 200, resp.text
        sid = admin.boot("moved")
        ctl.settle()
        assert admin.live_migrate(sid).status_code == 202
        ctl.settle()
        ctl.set_workload(sid, dirty_rate_mib=50)
        ctl.add_fault("build", "error")
        admin.boot("failed")
        ctl.advance(60)
        changed = state()
        assert [key for key in start if changed[key] == start[key]] == []  # all changed
        ctl.reset()
        assert state() == start
    finally:
        cloud.stop()
