"""Timeouts on every call, waits bounded with their calls, clean-up that goes on past
errors, keystoneauth errors as the library's own, and a close that never fails."""

from __future__ import annotations

import time

import pytest
from keystoneauth1 import exceptions as ks_exc

from LiveMigLibrary import deadline
from LiveMigLibrary.client import (
    CloudClient,
    CloudDidNotAnswer,
    CloudUnreachable,
    ReadRetries,
    cloud_call,
)
from LiveMigLibrary.clock import RealClock
from LiveMigLibrary.deadline import CallTimeouts
from LiveMigLibrary.errors import CloudError, CloudNotAnswering, LiveMigError, WaitTimeout
from LiveMigLibrary.models import Server
from LiveMigLibrary.waiting import Waiter

from .conftest import active


class Response:
    status_code = 200
    url = "http://cloud/compute/v2.1/servers"


def recording_send(seen: list, outcome=None):
    def send(url, method, *args, **kwargs):
        seen.append(kwargs)
        if isinstance(outcome, BaseException):
            raise outcome
        return Response()

    return send


def test_every_request_gets_connect_and_read_timeouts():
    seen: list = []
    retries = ReadRetries(timeouts=CallTimeouts(25))
    retries.send(recording_send(seen), "http://cloud/compute/v2.1/servers", "GET")
    assert seen[0]["timeout"] == (10.0, 25.0)  # connect at most 10 s, read api_timeout


def test_a_deadline_cuts_the_read_timeout_down():
    seen: list = []
    retries = ReadRetries(timeouts=CallTimeouts(60))
    with deadline.within(4):
        retries.send(recording_send(seen), "http://cloud/x", "GET")
    connect, read = seen[0]["timeout"]
    assert 3.5 < read <= 4 and connect == read


def test_a_timed_out_call_names_the_call_and_the_next_one_only_probes():
    retries = ReadRetries(timeouts=CallTimeouts(60))
    timeout = ks_exc.ConnectTimeout("Request to http://cloud/x timed out")
    with pytest.raises(CloudDidNotAnswer) as caught:
        retries.send(recording_send([], timeout), "http://cloud/compute/v2.1/servers/abc", "GET")
    assert caught.value.call == "GET /compute/v2.1/servers/abc"
    assert caught.value.seconds == 60.0
    seen: list = []
    retries.send(recording_send(seen), "http://cloud/y", "GET")  # answered: trusted again
    assert seen[0]["timeout"][1] == deadline.PROBE_TIMEOUT
    seen.clear()
    retries.send(recording_send(seen), "http://cloud/y", "GET")
    assert seen[0]["timeout"][1] == 60.0


def test_timeouts_are_not_retried_even_for_reads():
    calls: list = []
    retries = ReadRetries(timeouts=CallTimeouts(5), sleep=lambda s: None)
    with pytest.raises(CloudDidNotAnswer):
        retries.send(recording_send(calls, ks_exc.ConnectTimeout("t")), "http://c/x", "GET")
    assert len(calls) == 1


def test_a_cleanup_pass_asks_a_silent_cloud_once():
    timeouts = CallTimeouts(60)
    retries = ReadRetries(timeouts=timeouts, sleep=lambda s: None)
    calls: list = []
    with timeouts.cleanup_pass():
        with pytest.raises(CloudDidNotAnswer):
            retries.send(recording_send(calls, ks_exc.ConnectTimeout("t")), "http://c/a", "DELETE")
        with pytest.raises(CloudDidNotAnswer, match="not asked"):
            retries.send(recording_send(calls), "http://c/b", "DELETE")
    with timeouts.cleanup_pass():  # right after: not asked again
        with pytest.raises(CloudDidNotAnswer, match="not asked"):
            retries.send(recording_send(calls), "http://c/c", "PUT")
    assert len(calls) == 1
    retries.send(recording_send(calls), "http://c/d", "GET")  # outside a pass: probed
    assert len(calls) == 2


def test_interrupted_call_makes_the_next_call_a_probe():
    timeouts = CallTimeouts(60)
    retries = ReadRetries(timeouts=timeouts)
    with pytest.raises(KeyboardInterrupt):
        retries.send(recording_send([], KeyboardInterrupt()), "http://c/x", "GET")
    assert timeouts.for_request()[0][1] == deadline.PROBE_TIMEOUT


@pytest.mark.parametrize(
    "error, expected",
    [
        (CloudDidNotAnswer("GET /x", 3, "the api_timeout of 3 seconds"), "did not answer within 3"),
        (CloudUnreachable("GET /x", "connection refused"), "could not connect to the cloud"),
        (ks_exc.ConnectFailure("Unable to establish connection"), "Unable to establish"),
        (ks_exc.DiscoveryFailure("Could not find versioned identity endpoints"), "versioned"),
    ],
)
def test_keystoneauth_errors_become_the_librarys_own(error, expected):
    with pytest.raises(CloudError) as caught, cloud_call("get server x"):
        raise error
    assert expected in str(caught.value)
    assert str(caught.value).startswith("Could not get server x")
    if isinstance(error, CloudDidNotAnswer | CloudUnreachable):
        assert isinstance(caught.value, CloudNotAnswering)
        assert "(GET /x)" in str(caught.value)


def test_a_wait_whose_call_runs_out_fails_as_the_wait_timing_out():
    def observe():  # the stuck call, cut down to what was left of the wait
        raise CloudNotAnswering("get server x", "GET /servers/x", "0.5", deadline.WAIT_LEFT)

    waiter = Waiter(RealClock(), "Server x", "ACTIVE", 0.5, 0.1)
    with pytest.raises(WaitTimeout) as caught:
        waiter.wait(observe, lambda s: False, lambda s: "BUILD")
    text = str(caught.value)
    assert "expected ACTIVE within 0.5 seconds, and the cloud stopped answering" in text
    assert "GET /servers/x" in text


def test_a_wait_bounds_the_calls_it_makes():
    seen: list = []
    retries = ReadRetries(timeouts=CallTimeouts(60))

    def observe():
        retries.send(recording_send(seen), "http://c/x", "GET")
        return "BUILD"

    with pytest.raises(WaitTimeout):
        Waiter(RealClock(), "Server x", "ACTIVE", 0.3, 0.1).wait(
            observe, lambda s: False, lambda s: s
        )
    assert all(kw["timeout"][1] <= 0.3 + deadline.WAIT_GRACE for kw in seen)


def test_api_timeout_comes_from_clouds_yaml_unless_the_import_argument_sets_it():
    import openstack

    config = {  # openstack.connect contacts nothing until the first call
        "auth": {
            "auth_url": "http://127.0.0.1:9/identity",
            "username": "admin",
            "password": "x",
            "project_name": "admin",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": "RegionOne",
    }
    conn = openstack.connect(**config, api_timeout=7)
    assert CloudClient(conn, ReadRetries(timeouts=CallTimeouts())).retries.timeouts.api_timeout == 7
    conn = openstack.connect(**config, api_timeout=7)
    client = CloudClient(conn, ReadRetries(timeouts=CallTimeouts(12)))
    assert client.retries.timeouts.api_timeout == 12
    conn = openstack.connect(**config)
    client = CloudClient(conn, ReadRetries(timeouts=CallTimeouts()))
    assert client.retries.timeouts.api_timeout == deadline.DEFAULT_API_TIMEOUT


def test_api_timeout_import_argument_is_checked():
    from LiveMigLibrary import LiveMigLibrary

    with pytest.raises(LiveMigError, match="api_timeout"):
        LiveMigLibrary(api_timeout=__import__("datetime").timedelta(0))


def test_cleanup_tries_every_step_and_reports_every_failure(lib, stub):
    first, second = Server("a" * 32, "livemig-x-1"), Server("b" * 32, "livemig-x-2")
    for server in (first, second):
        stub.states[server.id] = active(server_id=server.id)
    lib._ctx.tracker.add_servers([first, second])
    lib.disable_compute_service("compute1", reason="test")
    lib.disable_compute_service("compute2", reason="test")
    delete, update = stub.delete_server, stub.update_service

    def failing_delete(server_id):
        if server_id == first.id:
            raise CloudError("delete server " + server_id, 500, "boom")
        delete(server_id)

    def failing_update(service, **changes):
        if service.host == "compute1":
            raise CloudError("update compute1", 503, "down for maintenance")
        update(service, **changes)

    stub.delete_server, stub.update_service = failing_delete, failing_update
    with pytest.raises(LiveMigError) as caught:
        lib.delete_created_resources()
    text = str(caught.value)
    assert "2 step(s) failed" in text and "boom" in text and "down for maintenance" in text
    assert ("delete_server", second.id) in stub.calls  # tried after the first failed
    assert {s.host: s.status for s in stub.services}["compute2"] == "enabled"
    tracker = lib._ctx.tracker
    assert set(tracker.servers) == {first.id} and set(tracker.services) == {"compute1"}


def test_close_never_raises(lib, stub, capfd):
    lib._ctx.tracker.add_servers([Server("c" * 32, "livemig-x-3")])

    def broken(*_):
        raise RuntimeError("socket closed")

    stub.delete_server = broken
    lib._ctx.close = broken
    started = time.monotonic()
    lib.close()  # no exception, no traceback
    assert time.monotonic() - started < 5
    err = capfd.readouterr().err
    assert "could not close the cloud connection when closing: socket closed" in err


def test_an_error_before_sending_does_not_make_the_cloud_suspect():
    timeouts = CallTimeouts(60)
    retries = ReadRetries(timeouts=timeouts)
    with pytest.raises(ks_exc.EndpointNotFound):
        retries.send(recording_send([], ks_exc.EndpointNotFound("no network")), "x", "GET")
    assert timeouts.for_request()[0][1] == 60.0


def test_a_worker_keeps_the_deadline_of_the_thread_that_started_it():
    from LiveMigLibrary.concurrency import Workers

    with Workers(1) as workers, deadline.within(4):
        left = workers.map(lambda _: deadline.remaining(), [0])[0].value
    assert left is not None and 3.5 < left <= 4
    with Workers(1) as workers:  # without a deadline: only the api_timeout of each call
        assert workers.map(lambda _: deadline.remaining(), [0])[0].value is None
