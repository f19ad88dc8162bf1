"""Load runs: the state machine, failures, statistics and the SLA check."""

from __future__ import annotations

import pytest

from LiveMigLibrary.errors import CheckFailed, InvalidArgument

from .conftest import texts


def test_a_load_run_times_every_phase_and_leaves_nothing(lib, infos):
    run = lib.run_live_migration_load(iterations=6, concurrency=3)
    assert (run.iterations, run.passed, run.failures, run.failure_rate) == (6, 6, 0, 0.0)
    for phase in ("create", "live_migration", "delete", "iteration"):
        stats = run.phases[phase]
        assert stats["count"] == 6
        assert 0 < stats["min"] <= stats["median"] <= stats["p90"] <= stats["p95"] <= stats["max"]
    # timed from the cloud's own records: the fake's default migration takes 6.1 s (queue
    # 0.1, preparing 1, running 5) unless it queued; a build 3.5 s (`created` has whole
    # seconds); deletes are timed by the 2 s polls
    assert run.phases.live_migration["min"] == pytest.approx(6.1)
    assert 2.5 <= run.phases.create["max"] <= 4.5
    lines = texts(infos)
    assert sum(line.startswith("Iteration ") for line in lines) == 6
    assert any(line.startswith("<b>Load run</b>: 6 of 6 iterations passed") for line in lines)
    assert not lib._ctx.tracker.servers
    lib.no_server_of_this_run_should_exist()
    records = [r for r in lib._ctx.evidence.records if r.request.get("load_iteration")]
    assert len(records) == 6 and all(r.status == "completed" for r in records)


def test_concurrency_bounds_the_iterations_in_progress(lib):
    run = lib.run_live_migration_load(iterations=6, concurrency=2)
    # three waves of two: the run takes about three iterations' time, not one or six
    one = run.phases.iteration["max"]
    assert 2.5 * one <= run.seconds <= 3.5 * one


def test_failed_iterations_count_with_their_reason_and_are_cleaned_up(lib):
    lib.inject_fake_cloud_fault("live_migration", "error", server="*-load-2")
    lib.inject_fake_cloud_fault("build", "error", server="*-load-4")
    run = lib.run_live_migration_load(iterations=5, concurrency=5)
    assert (run.passed, run.failures, run.failure_rate) == (3, 2, 0.4)
    assert run.errors[0].startswith("iteration 2: live_migration: migration ")
    assert "ended failed" in run.errors[0]
    assert run.errors[1].startswith("iteration 4: create: server went to ERROR")
    assert run.phases.live_migration["count"] == 3
    lib.no_server_of_this_run_should_exist()
    with pytest.raises(CheckFailed) as error:
        lib.load_run_should_meet_sla(run, max_failure_rate=10, live_migration_p95=100)
    message = str(error.value)
    assert message.startswith("Load run missed 1 of 2 SLA criteria: failure rate 40% <= 10%")
    assert "iteration 2: live_migration" in message


def test_quota_refusals_fail_iterations_instead_of_the_run(lib):
    run = lib.run_live_migration_load(iterations=12, concurrency=12, delete=False)
    assert run.failures == 2
    assert all("create: " in e and "Quota exceeded" in e for e in run.errors)


def test_sla_passes_and_fails_on_statistics(lib, infos):
    run = lib.run_live_migration_load(iterations=3, concurrency=3)
    lib.load_run_should_meet_sla(run, max_failure_rate=0, live_migration_p95=60, create_max=30)
    assert "SLA met: failure rate 0% <= 0%" in texts(infos)
    with pytest.raises(CheckFailed, match="live_migration median 6.1s <= 1s"):
        lib.load_run_should_meet_sla(run, live_migration_median=1)
    with pytest.raises(InvalidArgument, match="'migration_p95'"):
        lib.load_run_should_meet_sla(run, migration_p95=1)
    with pytest.raises(InvalidArgument, match="'run'"):
        lib.load_run_should_meet_sla({"x": 1}, max_failure_rate=0)


def test_load_arguments_are_checked_first(lib):
    with pytest.raises(InvalidArgument, match="'iterations' got 0"):
        lib.run_live_migration_load(iterations=0)
    with pytest.raises(InvalidArgument, match="'concurrency' got 0"):
        lib.run_live_migration_load(concurrency=0)
    assert not lib._ctx.connected
