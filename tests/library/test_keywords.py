"""Keyword behaviour against a stub client: assertions, waits, cleanup, secrets."""

import pytest
import requests

from LiveMigLibrary.errors import CheckFailed, UnexpectedState
from LiveMigLibrary.keywords.connection import _MaskedToken, _TokenAuth
from LiveMigLibrary.models import Migration, Server

from .conftest import SERVER_ID, active


def test_server_should_be_on_host_reports_subject_observed_expected(lib, stub):
    stub.states[SERVER_ID] = active(host="compute1")
    server = Server(SERVER_ID, "web-1")
    lib.server_should_be_on_host(server, "compute1")
    with pytest.raises(CheckFailed) as error:
        lib.server_should_be_on_host(server, "compute2")
    assert str(error.value) == (
        f"Server web-1 ({SERVER_ID}) is on host compute1, expected compute2."
    )


def test_server_status_should_be_checks_task_state(lib, stub):
    stub.states[SERVER_ID] = active(status="MIGRATING", task="migrating")
    with pytest.raises(CheckFailed, match="is MIGRATING \\(task_state migrating\\)"):
        lib.server_status_should_be(SERVER_ID, "MIGRATING")
    lib.server_status_should_be(SERVER_ID, "migrating", task_state="any")


def test_wait_for_active_fails_fast_with_the_fault(lib, stub):
    stub.states[SERVER_ID] = active(status="ERROR", fault="No valid host was found.")
    with pytest.raises(UnexpectedState, match="ERROR.*No valid host was found"):
        lib.wait_until_servers_are_active(SERVER_ID)


def _migration(mid, status, source="compute1", dest="compute2"):
    return Migration(mid, f"uuid-{mid}", SERVER_ID, status, "live-migration", source, dest)


def test_migration_wait_ignores_records_from_before_the_migration(lib, stub, monkeypatch):
    stub.states[SERVER_ID] = active()
    stub.migration_records[SERVER_ID] = [_migration(1, "completed")]
    lib.live_migrate_server(SERVER_ID, host="compute2")
    stub.migration_records[SERVER_ID].append(_migration(2, "running"))
    with pytest.raises(UnexpectedState, match="ended cancelled"):
        stub.migration_records[SERVER_ID][-1] = _migration(2, "cancelled")
        lib.wait_until_migration_of_server_is(SERVER_ID, "completed")


def test_migration_wait_tolerates_a_missing_record_then_times_out(lib, stub):
    stub.states[SERVER_ID] = active()
    lib.watch_for_new_migration_of_server(SERVER_ID)
    with pytest.raises(Exception, match="not recorded yet, expected completed"):
        lib.wait_until_migration_of_server_is(SERVER_ID, "completed", timeout=0.001)


def test_migration_should_have_lists_every_mismatch(lib, stub):
    stub.migration_records[SERVER_ID] = [_migration(7, "completed", "compute1", "compute1")]
    with pytest.raises(CheckFailed) as error:
        lib.migration_of_server_should_have(
            SERVER_ID,
            type="live-migration",
            source="compute1",
            destination="compute2",
            status="completed",
        )
    assert str(error.value) == (
        f"Migration 7 of server {SERVER_ID} has destination compute1, expected compute2."
    )


def test_cleanup_deletes_only_tracked_servers_and_restores_services(lib, stub):
    mine = Server("a" * 32, "livemig-x-1")
    stub.states[mine.id] = active(server_id=mine.id)
    stub.states["not-mine"] = active(server_id="not-mine")
    lib._ctx.tracker.add_servers([mine])
    lib.disable_compute_service("compute2", reason="test")
    lib.force_compute_service_down("compute1")
    lib.delete_created_resources()
    assert ("delete_server", mine.id) in stub.calls
    assert not any(c == ("delete_server", "not-mine") for c in stub.calls)
    assert {s.host: (s.status, s.forced_down) for s in stub.services} == {
        "compute1": ("enabled", False),
        "compute2": ("enabled", False),
    }
    assert lib._ctx.tracker.is_empty()


def test_token_never_appears_in_logged_request_headers():
    class Client:
        def token(self):
            return "gAAAAA-very-secret"

    request = requests.Request("GET", "http://127.0.0.1/").prepare()
    _TokenAuth(lambda: Client())(request)
    assert request.headers["X-Auth-Token"] == "gAAAAA-very-secret"
    assert "very-secret" not in str(request.headers)
    assert "very-secret" not in repr(_MaskedToken("very-secret"))


def test_get_cloud_token_returns_a_secret(lib, stub):
    stub.token = lambda: "tok-123"
    secret = lib.get_cloud_token()
    assert secret.value == "tok-123"
    assert "tok-123" not in str(secret)


def test_allocation_check_waits_within_the_given_time_then_reports(lib, stub, monkeypatch):
    from datetime import timedelta

    answers = iter([{"rp-src": {"VCPU": 1}}, {"rp-src": {"VCPU": 1}}, {}])
    stub.allocations = lambda consumer: next(answers)
    stub.resource_provider_names = lambda: {"rp-src": "compute1"}
    stub.hypervisor_names_by_host = lambda: {"compute1": ["compute1"]}
    slept = []
    monkeypatch.setattr(lib._ctx.clock, "sleep", slept.append)
    lib.consumer_should_hold_no_allocations("m-uuid", within=timedelta(seconds=10))
    assert len(slept) == 2

    stub.allocations = lambda consumer: {"rp-src": {"VCPU": 1}}
    with pytest.raises(CheckFailed, match="holds compute1: {'VCPU': 1}, expected nothing"):
        lib.consumer_should_hold_no_allocations("m-uuid")


def test_refusal_without_record_keeps_the_running_migration_as_the_migration(lib, stub):
    from LiveMigLibrary.errors import CloudError

    stub.states[SERVER_ID] = active()
    lib.live_migrate_server(SERVER_ID, host="compute2")
    stub.migration_records[SERVER_ID] = [_migration(5, "running")]

    def refuse(*args):
        raise CloudError("live-migrate", 409, "Cannot 'os-migrateLive' ... task_state migrating")

    stub.live_migrate = refuse
    lib.live_migration_of_server_should_be_refused(SERVER_ID, "Conflict")
    assert lib.get_migration_of_server(SERVER_ID).id == 5


def test_refusal_with_other_status_shows_the_clouds_message(lib, stub):
    from LiveMigLibrary.errors import CloudError

    stub.states[SERVER_ID] = active()

    def refuse(*args):
        raise CloudError("live-migrate", 400, "Compute host nope could not be found.")

    stub.live_migrate = refuse
    with pytest.raises(CheckFailed) as error:
        lib.live_migration_of_server_should_be_refused(SERVER_ID, "Conflict", host="nope")
    assert "Compute host nope could not be found." in str(error.value)
    assert "expected Conflict (HTTP 409)" in str(error.value)


def test_accepted_migration_fails_the_refusal_check(lib, stub):
    stub.states[SERVER_ID] = active()
    with pytest.raises(CheckFailed, match="was accepted, expected it refused with NoValidHost"):
        lib.live_migration_of_server_should_be_refused(SERVER_ID, "NoValidHost", host="compute2")
