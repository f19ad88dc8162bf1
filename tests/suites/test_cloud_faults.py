"""The fault suite's log shows what happened: each fired fault and each retried read."""

from __future__ import annotations

import pytest
from robot.api import ExecutionResult, ResultVisitor

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

SUITE = "cloud_faults.robot"


class Messages(ResultVisitor):
    def __init__(self):
        self.by_test: dict[str, list[str]] = {}
        self._test = None

    def start_test(self, test):
        self._test = self.by_test.setdefault(test.name, [])

    def visit_message(self, message):
        if self._test is not None and message.level == "INFO":
            self._test.append(message.message)


def messages(tmp_path) -> dict[str, list[str]]:
    visitor = Messages()
    ExecutionResult(str(tmp_path / "output.xml")).visit(visitor)
    return visitor.by_test


def test_a_read_answered_503_is_retried_and_the_log_shows_fault_and_retry(run_suites, tmp_path):
    test = "Read Answered 503 Once Is Retried"
    run = run_suites(SUITE, test=[test])
    assert run.status(test) == "PASS"
    logged = messages(tmp_path)[test]
    fired = [m for m in logged if " fired: api/status 503 for GET /compute/v2.1/servers/" in m]
    retried = [m for m in logged if "answered 503; retry 1 of 3 in 0.5s" in m]
    assert len(fired) == 1 and fired[0].startswith("Fault ")
    assert len(retried) == 1 and retried[0].startswith("GET /compute/v2.1/servers/")


def test_a_hanging_migration_shows_the_fault_with_server_host_and_time(run_suites, tmp_path):
    test = "Hanging Migration Is Rolled Back When Aborted"
    run = run_suites(SUITE, test=[test])
    assert run.status(test) == "PASS"
    fired = [m for m in messages(tmp_path)[test] if " fired: live_migration/hang" in m]
    assert len(fired) == 1
    assert "-hang-abort on host compute1 at t=" in fired[0]


def test_a_post_answered_503_is_logged_once_and_never_retried(run_suites, tmp_path):
    test = "Live Migration Request Answered 503 Is Not Retried"
    run = run_suites(SUITE, test=[test])
    assert run.status(test) == "PASS"
    logged = messages(tmp_path)[test]
    assert len([m for m in logged if " fired: api/status 503 for POST " in m]) == 1
    assert not [m for m in logged if "; retry " in m]
