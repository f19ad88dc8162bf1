"""The guest memory / link model and Nova's libvirt monitor loop, against hand-computed cases.

Formulas from nova/virt/libvirt/migration.py (downtime_steps, update_downtime,
should_trigger_timeout_action, run_tasks, save_stats) and driver.py
(_live_migration_monitor, _live_migration_data_gb); pre-copy as QEMU does it:
each pass sends what the previous one left dirty, the job converges when what is
dirty fits in bandwidth * max downtime.
"""

from __future__ import annotations

import pytest

from LiveMigLibrary.fake.guest import MiB, MigrationJob, Workload
from LiveMigLibrary.fake.libvirt_monitor import data_gb, downtime_steps, step_for

from .helpers import advance_until

# -- the driver's formulas -----------------------------------------------------------------


def test_downtime_steps_match_novas_docstring_example():
    # migration.downtime_steps docstring: 10 steps, 30 s delay, 3 GB, 400 ms
    steps = downtime_steps(3, downtime=400, steps=10, delay=30)
    assert steps == [
        (0, 40),
        (90, 76),
        (180, 112),
        (270, 148),
        (360, 184),
        (450, 220),
        (540, 256),
        (630, 292),
        (720, 328),
        (810, 364),
        (900, 400),
    ]


def test_downtime_steps_with_novas_defaults_for_a_small_guest():
    # 500 ms, 10 steps, 75 s/GiB; 2 GiB: delay int(150), base 50, offset 45
    steps = downtime_steps(2, downtime=500, steps=10, delay=75)
    assert steps[:3] == [(0, 50), (150, 95), (300, 140)] and steps[-1] == (1500, 500)


def test_update_downtime_takes_the_last_step_strictly_passed():
    steps = [(0, 50), (150, 95), (300, 140)]
    assert step_for(0, steps) is None  # elapsed > 0 is required, as in update_downtime
    assert step_for(0.5, steps) == (0, 50)
    assert step_for(150, steps) == (0, 50)
    assert step_for(150.5, steps) == (150, 95)
    assert step_for(10_000, steps) == (300, 140)


@pytest.mark.parametrize(
    ("ram_mb", "disks", "expected"),
    [
        (512, [], 2),  # RAM below 2 GiB counts 2
        (8192, [], 8),
        (512, [1.0], 4),  # block migration: each disk at least 2 GiB too
        (8192, [80.0], 88),
    ],
)
def test_live_migration_data_gb(ram_mb, disks, expected):
    assert data_gb(ram_mb, disks) == expected


# -- QEMU's pre-copy ---------------------------------------------------------------------------


def _job(dirty=0.0, wss=None, bandwidth=100, ram=2048, auto_converge=False):
    return MigrationJob(
        now=0.0,
        memory_total=ram * MiB,
        disk_total=0,
        bandwidth=bandwidth * MiB,
        workload=Workload(dirty, wss),
        auto_converge=auto_converge,
    )


def _run(job, max_downtime_ms=50, limit=1000):
    """Advance the job pass by pass; return (end time, passes)."""
    job.set_max_downtime(0.0, max_downtime_ms)
    for _ in range(limit):
        if job.advance(job.pass_end()) == "completed":
            return job.end, job.iteration
    raise AssertionError("did not complete")


def test_idle_guest_converges_after_one_pass_with_no_downtime():
    job = _job()
    end, passes = _run(job)
    assert (end, passes) == (pytest.approx(20.48), 1)  # 2048 MiB at 100 MiB/s
    assert job.downtime() == 0.0


def test_busy_guest_converges_geometrically():
    # 40 MiB/s on 100 MiB/s: every pass is 0.4 of the previous one (2048, 819.2, 327.68,
    # 131.072, 52.4288, 20.97152, 8.388608 MiB); after pass 7 only 3.3554432 MiB are
    # dirty, under 5 MiB = 100 MiB/s * 50 ms: the switchover sends it in 33.55 ms.
    job = _job(dirty=40, wss=1024)
    end, passes = _run(job)
    assert passes == 7
    assert job.final_bytes == pytest.approx(3.3554432 * MiB)
    assert job.downtime() == pytest.approx(0.033554432)
    copy = 20.48 * (1 - 0.4**7) / (1 - 0.4)
    assert end == pytest.approx(copy + 0.033554432)


def test_working_set_bounds_what_a_pass_leaves_dirty():
    job = _job(dirty=200, wss=1024)
    job.set_max_downtime(0.0, 50)
    assert job.advance(job.pass_end()) == "memory"
    assert job.pass_size == 1024 * MiB  # 200 MiB/s * 20.48 s = 4096, capped at 1024
    assert job.advance(job.pass_end()) == "memory"
    assert job.pass_size == 1024 * MiB  # never converges


def test_progress_within_a_pass_and_at_the_sync():
    job = _job(dirty=40, wss=1024)
    s = job.stats(10.0)
    assert (s["memory_total"], s["memory_processed"], s["memory_remaining"]) == (
        2048 * MiB,
        1000 * MiB,
        1048 * MiB,
    )
    job.advance(job.pass_end())
    s = job.stats(job.pass_start)
    # at the sync: all 2048 MiB processed, 819.2 MiB dirty again
    assert s["memory_processed"] == 2048 * MiB
    assert s["memory_remaining"] == round(819.2 * MiB)


def test_auto_converge_throttles_20_then_30_percent():
    # 150 MiB/s on 100 MiB/s, whole memory writable: each 20.48 s pass leaves 2048 MiB
    # dirty (> 50 % of what it sent). QEMU throttles on every second such sync.
    job = _job(dirty=150, auto_converge=True)
    job.set_max_downtime(0.0, 50)
    throttles = []
    for _ in range(4):
        job.advance(job.pass_end())
        throttles.append(job.throttle)
    assert throttles == [0, 20, 20, 30]
    assert job.dirty_rate() == pytest.approx(105 * MiB)


def test_without_auto_converge_nothing_is_throttled():
    job = _job(dirty=150)
    for _ in range(6):
        job.advance(job.pass_end())
    assert job.throttle == 0


def test_pausing_stops_the_dirtying():
    job = _job(dirty=200, wss=1024)
    job.set_max_downtime(0.0, 50)
    job.advance(job.pass_end())  # pass 2 starts at 20.48 with 1024 MiB
    job.pause(25.0)  # 4.52 s of dirtying at 200 MiB/s = 904 MiB
    assert job.advance(job.pass_end()) == "memory"
    assert job.pass_size == pytest.approx(904 * MiB)
    assert job.advance(job.pass_end()) == "switchover"  # nothing dirtied since the pause
    assert job.advance(job.pass_end()) == "completed"
    assert job.downtime() == pytest.approx(30.72 + 9.04 - 25.0)


def test_post_copy_pulls_what_is_left():
    job = _job(dirty=200, wss=1024)
    job.set_max_downtime(0.0, 50)
    job.advance(job.pass_end())  # pass 2: 20.48 .. 30.72
    assert job.start_postcopy(25.0)
    # unsent of pass 2: 1024 - 452 = 572 MiB, plus 904 MiB dirtied: 1476 MiB
    assert job.final_bytes == pytest.approx(1476 * MiB)
    assert job.pass_end() == pytest.approx(25.0 + 14.76)
    assert job.advance(job.pass_end()) == "completed"
    assert job.downtime() == 0.0


# -- in the fake cloud -------------------------------------------------------------------------


@pytest.fixture
def small_server(admin, ctl):
    sid = admin.boot("dyn", flavor="m1.small")  # 2048 MiB
    ctl.settle()
    return sid, admin.server(sid)["OS-EXT-SRV-ATTR:host"]


def _status(admin, sid):
    migs = admin.migrations(instance_uuid=sid)
    return max(migs, key=lambda m: m["id"])["status"] if migs else None


def _start(admin, ctl, sid, **workload):
    if workload:
        ctl.set_workload(sid, **workload)
    resp = admin.live_migrate(sid, mv="2.80")
    assert resp.status_code == 202, resp.text
    advance_until(ctl, lambda: _status(admin, sid) == "running", step=0.1)
    return admin.migration_of(sid)


def _dynamics(ctl, mig):
    return ctl.migration_dynamics(mig["id"])


def test_idle_guest_keeps_the_running_duration(admin, ctl, small_server):
    sid, _ = small_server
    mig = _start(admin, ctl, sid)
    started = ctl.now()
    advance_until(ctl, lambda: admin.migration_of(sid)["status"] == "completed", step=0.5)
    d = _dynamics(ctl, mig)
    assert d["ended_at"] - d["started_at"] == pytest.approx(ctl.durations()["running"])
    assert d["outcome"] == "converged" and d["iterations"] == 1 and d["downtime_ms"] == 0
    assert ctl.now() - started <= ctl.durations()["running"] + 0.5


def test_busy_guest_converges_with_the_hand_computed_downtime(admin, ctl, small_server):
    sid, src = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=100)
    mig = _start(admin, ctl, sid, dirty_rate_mib=40, working_set_mib=1024)
    ctl.settle()
    d = _dynamics(ctl, mig)
    assert d["outcome"] == "converged" and d["iterations"] == 7
    assert d["downtime_ms"] == pytest.approx(33.554, abs=0.001)
    assert d["bandwidth_mib"] == 100 and d["bandwidth_source"] == "live_migration_bandwidth"
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] != src


def test_progress_over_rest_while_running(admin, ctl, small_server):
    sid, _ = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=100)
    mig = _start(admin, ctl, sid, dirty_rate_mib=200, working_set_mib=1024)
    seen = []
    for _ in range(8):  # save_stats every 5 s (live_migration_monitor_interval)
        body = admin.compute("GET", f"/servers/{sid}/migrations/{mig['id']}", mv="2.23").json()
        m = body["migration"]
        seen.append((m["memory_processed_bytes"], m["memory_remaining_bytes"]))
        assert m["memory_total_bytes"] == 2048 * MiB
        ctl.advance(5)
    processed = [p for p, _ in seen]
    assert processed == sorted(processed) and processed[-1] > 2048 * MiB  # re-sent pages
    assert seen[0] == (0, 2048 * MiB)


def test_completion_timeout_aborts_and_rolls_back(admin, ctl, small_server):
    sid, src = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=100, live_migration_completion_timeout=30)
    mig = _start(admin, ctl, sid, dirty_rate_mib=200, working_set_mib=1024)
    ctl.settle()
    d = _dynamics(ctl, mig)
    # 30 s/GiB * 2 GiB = 60 s; the poll at 60.5 s aborts, the rollback follows 0.5 s later
    assert d["completion_timeout"] == 60
    assert d["timed_out_at"] - d["started_at"] == pytest.approx(60.5)
    assert admin.migration_of(sid)["status"] == "cancelled"
    server = admin.server(sid)
    assert (server["status"], server["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", src)
    rp = admin.rp_uuid(src)
    assert list(admin.allocations(sid)) == [rp]
    assert admin.allocations(mig["uuid"]) == {}


def test_completion_timeout_force_complete_pauses(admin, ctl, small_server):
    sid, src = small_server
    ctl.set_libvirt_options(
        live_migration_bandwidth=100,
        live_migration_completion_timeout=30,
        live_migration_timeout_action="force_complete",
    )
    mig = _start(admin, ctl, sid, dirty_rate_mib=200, working_set_mib=1024)
    ctl.settle()
    d = _dynamics(ctl, mig)
    # timeout at 60.5, paused at the next poll (61.0) in pass 5 (51.2..61.44), one more
    # 1024 MiB pass (10.24 s), converged with nothing dirty at 71.68
    assert d["outcome"] == "paused"
    assert d["paused_at"] - d["started_at"] == pytest.approx(61.0)
    assert d["ended_at"] - d["started_at"] == pytest.approx(71.68)
    assert d["downtime_ms"] == pytest.approx(10680)
    assert admin.migration_of(sid)["status"] == "completed"
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] != src


def test_completion_timeout_force_complete_switches_to_post_copy(admin, ctl, small_server):
    sid, src = small_server
    ctl.set_libvirt_options(
        live_migration_bandwidth=100,
        live_migration_completion_timeout=30,
        live_migration_timeout_action="force_complete",
        live_migration_permit_post_copy=True,
    )
    mig = _start(admin, ctl, sid, dirty_rate_mib=200, working_set_mib=1024)
    advance_until(ctl, lambda: admin.migration_of(sid)["status"] != "running", step=0.5)
    assert admin.migration_of(sid)["status"] == "running (post-copy)"
    # no longer "in progress" for the server-migrations API, as in Nova
    resp = admin.compute("GET", f"/servers/{sid}/migrations/{mig['id']}", mv="2.23")
    assert resp.status_code == 404
    # and neither abort nor force-complete apply any more
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/{mig['id']}", mv="2.24")
    assert resp.status_code == 400, resp.text
    ctl.settle()
    d = _dynamics(ctl, mig)
    # switched at 61.0 in pass 5: 44 MiB unsent + 1024 MiB dirty, pulled in 10.68 s
    assert d["outcome"] == "post-copy" and d["downtime_ms"] == 0
    assert d["postcopy_at"] - d["started_at"] == pytest.approx(61.0)
    assert d["ended_at"] - d["started_at"] == pytest.approx(71.68)
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] != src


def test_force_complete_by_the_api_pauses_a_busy_guest(admin, ctl, small_server):
    sid, src = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=100)
    mig = _start(admin, ctl, sid, dirty_rate_mib=200, working_set_mib=1024)
    ctl.advance(25)
    resp = admin.compute(
        "POST",
        f"/servers/{sid}/migrations/{mig['id']}/action",
        mv="2.22",
        json={"force_complete": None},
    )
    assert resp.status_code == 202, resp.text
    ctl.settle()
    d = _dynamics(ctl, mig)
    assert d["outcome"] == "paused" and admin.migration_of(sid)["status"] == "completed"
    server = admin.server(sid)
    assert (server["status"], server["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", "compute2")


def test_auto_converge_lets_a_moderately_busy_guest_finish(admin, ctl, small_server):
    sid, _ = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=100, live_migration_completion_timeout=300)
    mig = _start(admin, ctl, sid, dirty_rate_mib=150)
    ctl.settle()
    assert _dynamics(ctl, mig)["outcome"] == "cancelled"  # 600 s timeout without it
    ctl.set_libvirt_options(live_migration_permit_auto_converge=True)
    mig = _start(admin, ctl, sid, dirty_rate_mib=150)
    ctl.settle()
    d = _dynamics(ctl, mig)
    assert d["outcome"] == "converged" and d["throttle_percent"] >= 20
    assert admin.migration_of(sid)["status"] == "completed"


def test_post_copy_permitted_disables_auto_converge(admin, ctl, small_server):
    sid, _ = small_server
    ctl.set_libvirt_options(
        live_migration_permit_auto_converge=True, live_migration_permit_post_copy=True
    )
    mig = _start(admin, ctl, sid)
    d = _dynamics(ctl, mig)
    assert d["auto_converge"] is False and d["post_copy_permitted"] is True


def test_paused_guest_converges_after_one_pass(admin, ctl, small_server):
    sid, src = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=100)
    ctl.set_workload(sid, dirty_rate_mib=500)
    assert admin.action(sid, {"pause": None}).status_code == 202
    ctl.settle()
    mig = _start(admin, ctl, sid)
    ctl.settle()
    d = _dynamics(ctl, mig)
    assert d["iterations"] == 1 and d["outcome"] == "converged"
    assert admin.server(sid)["status"] == "PAUSED"


def test_block_migration_copies_the_disks_first(admin, ctl, small_server):
    sid, _ = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=1024)
    resp = admin.live_migrate(sid, mv="2.80", block_migration=True)
    assert resp.status_code == 202, resp.text
    advance_until(ctl, lambda: _status(admin, sid) == "running", step=0.1)
    mig = admin.migration_of(sid)
    ctl.advance(10)  # 20 GiB root disk at 1 GiB/s: half way
    m = admin.compute("GET", f"/servers/{sid}/migrations/{mig['id']}", mv="2.23").json()
    m = m["migration"]
    assert m["disk_total_bytes"] == 20 * 1024 * MiB
    assert 0 < m["disk_processed_bytes"] < m["disk_total_bytes"]
    assert m["memory_processed_bytes"] == 0
    d = _dynamics(ctl, mig)
    assert d["data_gb"] == 22 and d["completion_timeout"] == 800 * 22
    ctl.settle()
    assert admin.migration_of(sid)["status"] == "completed"


def test_abort_of_a_busy_migration_is_cancelled(admin, ctl, small_server):
    sid, src = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=100)
    mig = _start(admin, ctl, sid, dirty_rate_mib=200, working_set_mib=1024)
    ctl.advance(30)
    resp = admin.compute("DELETE", f"/servers/{sid}/migrations/{mig['id']}", mv="2.24")
    assert resp.status_code == 202
    ctl.settle()
    assert admin.migration_of(sid)["status"] == "cancelled"
    assert _dynamics(ctl, mig)["outcome"] == "cancelled"
    assert admin.server(sid)["OS-EXT-SRV-ATTR:host"] == src


# -- control API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"live_migration_downtime": 99},
            "live_migration_downtime must be a whole number of at least 100, got 99",
        ),
        (
            {"live_migration_downtime_steps": 2},
            "live_migration_downtime_steps must be a whole number of at least 3",
        ),
        (
            {"live_migration_bandwidth": -1},
            "live_migration_bandwidth must be a whole number of at least 0, got -1",
        ),
        (
            {"live_migration_bandwidth": 1.5},
            "live_migration_bandwidth must be a whole number of at least 0, got 1.5",
        ),
        ({"live_migration_timeout_action": "pause"}, "must be one of abort, force_complete"),
        ({"live_migration_permit_post_copy": "yes"}, "must be true or false"),
        ({"live_migration_speed": 1}, "unknown [libvirt] option 'live_migration_speed'"),
    ],
)
def test_libvirt_options_are_validated(cloud, admin, options, message):
    import requests

    resp = requests.put(
        cloud.endpoint + "/control/libvirt",
        json=options,
        headers={"X-Auth-Token": admin.token},  # the control API takes the admin's token
        timeout=10,
    )
    assert resp.status_code == 400 and message in resp.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"dirty_rate_mib": -1}, "dirty_rate_mib must be a finite number of at least 0, got -1"),
        (
            {"dirty_rate_mib": "fast"},
            "dirty_rate_mib must be a finite number of at least 0, got 'fast'",
        ),
        (
            {"dirty_rate_mib": 1, "working_set_mib": "inf"},
            "working_set_mib must be a finite number of at least 0, or empty for none, got 'inf'",
        ),
        ({"rate": 1}, "unknown workload field(s) rate"),
    ],
)
def test_workloads_are_validated(cloud, admin, ctl, small_server, body, message):
    import requests

    sid, _ = small_server
    url = f"{cloud.endpoint}/control/servers/{sid}/workload"
    token = {"X-Auth-Token": admin.token}
    resp = requests.put(url, json=body, headers=token, timeout=10)
    assert resp.status_code == 400 and message in resp.json()["error"]["message"]
    resp = requests.put(
        f"{cloud.endpoint}/control/servers/nope/workload", json={}, headers=token, timeout=10
    )
    assert resp.status_code == 404


def test_links_are_validated_and_used(cloud, admin, ctl, small_server):
    sid, src = small_server
    with pytest.raises(
        ValueError,
        match="bandwidth_mib must be a finite number greater than 0, or empty for none, got 0",
    ):
        ctl.set_link_bandwidth(0)
    with pytest.raises(ValueError, match="destination must be a compute host"):
        ctl.set_link_bandwidth(10, source="compute1", destination="nowhere")
    ctl.set_link_bandwidth(50, source=src, destination="compute2" if src == "compute1" else "x")
    mig = _start(admin, ctl, sid)
    d = _dynamics(ctl, mig)
    assert d["bandwidth_mib"] == 50 and d["bandwidth_source"] == "link"
    ctl.reset()
    assert ctl.links() == {"default_mib": None, "links": []}


def test_reset_restores_the_options_the_cloud_started_with(ctl):
    ctl.set_libvirt_options(live_migration_downtime=1000)
    ctl.reset()
    assert ctl.libvirt_options()["live_migration_downtime"] == 500


def test_unknown_migration_dynamics_is_404(cloud, admin):
    import requests

    resp = requests.get(
        cloud.endpoint + "/control/migrations/999/dynamics",
        headers={"X-Auth-Token": admin.token},
        timeout=10,
    )
    assert resp.status_code == 404
    assert "no migration with id or uuid '999'" in resp.json()["error"]["message"]


def test_server_progress_follows_save_stats_and_resets(admin, ctl, small_server):
    # views.servers: MIGRATING shows instance.progress, which save_stats sets to
    # 100 - remaining %; post_live_migration_at_destination and the rollback reset it to 0
    sid, _ = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=100)
    _start(admin, ctl, sid)
    assert admin.server(sid)["progress"] == 0  # saved at the copy's start: nothing sent
    ctl.advance(7)  # the last save, at 5 s: 500 of 2048 MiB sent, 76 % remaining
    server = admin.server(sid)
    assert (server["status"], server["progress"]) == ("MIGRATING", 24)
    ctl.settle()
    assert admin.server(sid)["progress"] == 0


def test_timeout_abort_reason_is_in_the_fakes_history(admin, ctl, small_server):
    sid, _ = small_server
    ctl.set_libvirt_options(live_migration_bandwidth=100, live_migration_completion_timeout=30)
    mig = _start(admin, ctl, sid, dirty_rate_mib=200, working_set_mib=1024)
    ctl.settle()
    last = ctl.migration_history(mig["id"])[-1]
    assert last["status"] == "cancelled"
    assert last["reason"].startswith("Live migration not completed after 60 sec")
