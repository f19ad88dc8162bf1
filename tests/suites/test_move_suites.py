"""The cold-migration, resize and evacuation suites fail, saying why, on a Nova that has
one of the move-operation bugs the fake emulates."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

COLD = "cold_migration_and_resize.robot"
EVACUATION = "evacuation.robot"


def test_finish_resize_failure_reverting_allocations_fails_with_the_allocations(run_suites):
    test = "Failed Finish Resize Leaves The Server Where It Is With Its Allocation"
    run = run_suites(COLD, bugs=("1825537",), test=[test])
    assert run.status(test) == "FAIL"
    assert "Allocations of consumer" in run.message(test)
    assert "expected only on host" in run.message(test)


def test_evacuation_left_accepted_fails_the_wait_for_error(run_suites):
    test = "Evacuation With No Valid Host Errors Out And Keeps The Server"
    run = run_suites(EVACUATION, bugs=("1713783",), test=[test])
    assert run.status(test) == "FAIL"
    assert "accepted" in run.message(test)


def test_cold_migration_pinning_the_request_spec_fails_the_later_live_migration(run_suites):
    test = "Live Migrate After A Cold Migration To A Named Host"
    run = run_suites(COLD, bugs=("1797580",), test=[test])
    assert run.status(test) == "FAIL"
    assert "No valid host" in run.message(test)


def test_move_suites_pass_on_a_fixed_nova(run_suites):
    run = run_suites(COLD, EVACUATION, "negative_moves.robot")
    failed = {name: msg for name, (status, msg) in run.tests.items() if status != "PASS"}
    assert failed == {}
    assert len(run.tests) >= 15
