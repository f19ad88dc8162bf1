"""Retries of idempotent reads in the client seam, and no retry of anything else.

The keyword-level tests run against the embedded fake cloud (in-process, manual clock) with
an `api` fault rule, so the 503 is a real HTTP answer that openstacksdk and keystoneauth see.
"""

from __future__ import annotations

import pytest
import requests
from keystoneauth1 import exceptions as ks_exc

from LiveMigLibrary import LiveMigLibrary, concurrency
from LiveMigLibrary.client import CloudClient, ReadRetries
from LiveMigLibrary.errors import CloudError
from LiveMigLibrary.fake import FakeCloud

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


@pytest.fixture
def infos(monkeypatch):
    """Messages logged at INFO by the library (robot.api.logger, through `concurrency.log`)."""
    messages: list[str] = []

    def write(msg, level="INFO", *args, **kwargs):
        if level == "INFO":
            messages.append(msg)

    monkeypatch.setattr(concurrency.logger, "write", write)
    return messages


def retry_lines(messages: list[str]) -> list[str]:
    return [m for m in messages if "; retry " in m]


# -- ReadRetries on its own ----------------------------------------------------------------


def response(status: int, url: str = "http://cloud/compute/v2.1/servers/x") -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer.url = url
    return answer


class Sender:
    """Stands in for keystoneauth's Session.request: answers from a script, records calls."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[tuple[str, str, dict]] = []

    def __call__(self, url, method, **kwargs):
        self.calls.append((url, method, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def retries(sleeps: list[float], **kwargs) -> ReadRetries:
    return ReadRetries(sleep=sleeps.append, **kwargs)


def test_get_answered_503_once_is_retried_after_a_short_backoff(infos):
    sleeps: list[float] = []
    send = Sender(response(503), response(200))
    answer = retries(sleeps).send(send, "/servers/x", "GET")
    assert answer.status_code == 200
    assert len(send.calls) == 2
    assert sleeps == [0.5]
    assert retry_lines(infos) == [
        "GET /compute/v2.1/servers/x answered 503; retry 1 of 3 in 0.5s (idempotent read)."
    ]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_every_server_side_status_is_retried_for_a_get(status, infos):
    send = Sender(response(status), response(200))
    assert retries([]).send(send, "/servers/x", "GET").status_code == 200
    assert f"answered {status}" in retry_lines(infos)[0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501])
def test_client_errors_and_501_are_not_retried(status, infos):
    send = Sender(response(status))
    assert retries([]).send(send, "/servers/x", "GET").status_code == status
    assert len(send.calls) == 1
    assert retry_lines(infos) == []


def test_a_get_that_keeps_failing_gives_up_after_three_retries(infos):
    sleeps: list[float] = []
    send = Sender(*[response(503)] * 4)
    assert retries(sleeps).send(send, "/servers/x", "GET").status_code == 503
    assert len(send.calls) == 4
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(retry_lines(infos)) == 3
    assert "still answered 503 after 3 retries" in infos[-1]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_non_idempotent_calls_are_never_retried(method, infos):
    sleeps: list[float] = []
    send = Sender(response(503))
    assert retries(sleeps).send(send, "/servers/x/action", method).status_code == 503
    assert len(send.calls) == 1
    assert sleeps == []
    assert retry_lines(infos) == []


def test_a_connection_error_is_retried_for_a_get_but_not_for_a_post(infos):
    send = Sender(ks_exc.ConnectFailure("refused"), response(200))
    assert retries([]).send(send, "http://cloud/compute/v2.1/servers", "GET").status_code == 200
    assert "GET /compute/v2.1/servers failed to connect" in retry_lines(infos)[0]
    post = Sender(ks_exc.ConnectFailure("refused"))
    with pytest.raises(ks_exc.ConnectFailure):
        retries([]).send(post, "http://cloud/compute/v2.1/servers", "POST")
    assert len(post.calls) == 1


def test_raised_http_errors_of_a_get_are_retried_too(infos):
    error = ks_exc.ServiceUnavailable(http_status=503, url="http://cloud/identity/v3")
    send = Sender(error, response(200))
    assert retries([]).send(send, "http://cloud/identity/v3", "GET", raise_exc=True)
    assert "GET /identity/v3 answered 503" in retry_lines(infos)[0]


def test_keystoneauth_and_sdk_retries_are_turned_off_per_request():
    send = Sender(response(200))
    retries([]).send(send, "/servers", "GET", connect_retries=5, status_code_retries=5)
    _, _, kwargs = send.calls[0]
    assert kwargs["connect_retries"] == 0
    assert kwargs["status_code_retries"] == 0


def test_after_request_runs_after_every_answer():
    seen: list[int] = []
    hook = ReadRetries(sleep=lambda s: None, after_request=lambda: seen.append(1))
    hook.send(Sender(response(503), response(200)), "/servers", "GET")
    assert len(seen) == 2


# -- against the embedded fake cloud --------------------------------------------------------


@pytest.fixture
def fake_lib():
    library = LiveMigLibrary(computes=2)
    yield library
    library.close()


def test_sdk_retry_settings_do_not_double_the_retries(infos):
    with FakeCloud(computes=1) as cloud:
        config = {**cloud.cloud_config(True), "status_code_retries": 5, "connect_retries": 5}
        client = CloudClient.from_config(config, ReadRetries(sleep=cloud.control.advance))
        client.compute_services()  # authenticated and discovered before the fault
        rule = cloud.control.add_fault(
            "api", "status", status=503, method="GET", path="*/os-services", count=2
        )
        assert [s.host for s in client.compute_services()] == ["compute1"]
        fired = [f for f in cloud.control.fired_faults() if f["rule"] == rule["id"]]
        assert len(fired) == 2
        assert len(retry_lines(infos)) == 2
        client.close()


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_the_nth_get_failing_once_is_retried_and_the_keyword_succeeds(fake_lib, infos, nth):
    server = fake_lib.create_server(name="flaky")
    control = fake_lib._ctx.fake.control
    rule = control.add_fault(
        "api",
        "status",
        status=503,
        method="GET",
        path=f"*/servers/{server.id}",
        skip=nth - 1,
        count=1,
    )
    fake_lib.wait_until_servers_are_active(server)
    fired = [f for f in control.fired_faults() if f["rule"] == rule["id"]]
    assert len(fired) == 1
    assert retry_lines(infos) == [
        f"GET /compute/v2.1/servers/{server.id} answered 503; retry 1 of 3 in 0.5s "
        "(idempotent read)."
    ]
    assert any(m.startswith(f"Fault {rule['id']} fired: api/status") for m in infos)


def test_a_post_failing_with_503_is_not_retried(fake_lib, infos):
    server = fake_lib.create_server(name="flaky-post")
    fake_lib.wait_until_servers_are_active(server)
    control = fake_lib._ctx.fake.control
    rule = control.add_fault(
        "api", "status", status=503, method="POST", path=f"*/servers/{server.id}/action"
    )
    with pytest.raises(CloudError) as error:
        fake_lib.live_migrate_server(server, host="compute2")
    message = str(error.value)
    assert message.startswith(f"Could not live-migrate server {server} to compute2")
    assert f"(POST /compute/v2.1/servers/{server.id}/action)" in message
    assert "the cloud answered HTTP 503: Service Unavailable." in message
    assert "try again later" in message  # what to do
    assert "refused" not in message
    assert len([f for f in control.fired_faults() if f["rule"] == rule["id"]]) == 1
    assert retry_lines(infos) == []
    assert fake_lib._ctx.admin.server_state(server.id).host == "compute1"
