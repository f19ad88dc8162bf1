"""The client seam sends the hot requests of batches, drains and load runs (live-migrate,
delete) itself, without building openstacksdk's `Server` resource, and looks each
service's endpoint up once per token (`client.EndpointCache`) instead of letting
keystoneauth search and deep-copy the service catalog on every request: the requests on
the wire must stay exactly those openstacksdk sends, and its errors (keystoneauth's own
refusals included) the same."""

from __future__ import annotations

import io
import json

import pytest
from keystoneauth1 import exceptions as ks_exc

from LiveMigLibrary.client import CloudClient, cloud_call
from LiveMigLibrary.errors import CloudError
from LiveMigLibrary.fake import IMAGE_ID, FakeCloud

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


@pytest.fixture(scope="module")
def cloud():
    fake = FakeCloud(computes=3).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def client(cloud):
    cloud.control.reset()
    c = CloudClient(cloud.connect())
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def wire(cloud, monkeypatch):
    """(method, path, microversion headers, JSON body) of every request the fake gets."""
    server = cloud._http.server
    app = server.app
    seen: list[tuple] = []

    def recording(environ, start_response):
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        seen.append(
            (
                environ["REQUEST_METHOD"],
                environ["PATH_INFO"],
                environ.get("HTTP_OPENSTACK_API_VERSION"),
                environ.get("HTTP_X_OPENSTACK_NOVA_API_VERSION"),
                json.loads(raw) if raw else None,
            )
        )
        return app(environ, start_response)

    monkeypatch.setattr(server, "app", recording)
    return seen


def active_server(cloud, client) -> str:
    sid = client.create_server("wire", IMAGE_ID, "1", "none")
    cloud.control.settle()
    return sid


def last_compute_request(wire, method: str) -> tuple:
    return [r for r in wire if r[0] == method and r[1].startswith("/compute/")][-1]


@pytest.mark.parametrize(
    "host, block_migration", [(None, "auto"), ("other", False), ("other", True)]
)
def test_live_migrate_sends_what_openstacksdk_sends(cloud, client, wire, host, block_migration):
    assert client.live_migrate_microversion() == "2.30"
    first, second = active_server(cloud, client), active_server(cloud, client)
    target = None
    if host:
        sources = {client.server_state(first).host, client.server_state(second).host}
        target = next(h for h in ("compute1", "compute2", "compute3") if h not in sources)
    client.live_migrate(first, target, block_migration)
    ours = last_compute_request(wire, "POST")
    client.conn.compute.live_migrate_server(
        second, host=target, force=False, block_migration=block_migration
    )
    sdks = last_compute_request(wire, "POST")
    assert ours[1] == f"/compute/v2.1/servers/{first}/action"
    assert ours[1:] == (sdks[1].replace(second, first), *sdks[2:])
    assert ours[4] == {"os-migrateLive": {"host": target, "block_migration": block_migration}}


def test_live_migrate_refused_fails_as_through_openstacksdk(cloud, client):
    sid = active_server(cloud, client)
    host = client.server_state(sid).host
    with pytest.raises(CloudError) as ours:
        client.live_migrate(sid, host, "auto")  # to its own host: Nova refuses
    with pytest.raises(CloudError) as sdks:
        with cloud_call(f"live-migrate server {sid} to {host}"):
            client.conn.compute.live_migrate_server(
                sid, host=host, force=False, block_migration="auto"
            )
    assert str(ours.value) == str(sdks.value)
    assert ours.value.status == 400


def test_delete_sends_what_openstacksdk_sends_and_a_missing_server_is_no_error(cloud, client, wire):
    first, second = active_server(cloud, client), active_server(cloud, client)
    client.delete_server(first)
    ours = last_compute_request(wire, "DELETE")
    client.conn.compute.delete_server(second, ignore_missing=True)
    sdks = last_compute_request(wire, "DELETE")
    assert ours == (sdks[0], sdks[1].replace(second, first), *sdks[2:])
    cloud.control.settle()
    assert client.server_state(first) is None
    client.delete_server(first)  # gone: nothing to do, as ignore_missing=True
    assert last_compute_request(wire, "DELETE")[1] == f"/compute/v2.1/servers/{first}"


def test_delete_refused_is_a_cloud_error_naming_the_server(cloud, client):
    sid = active_server(cloud, client)
    cloud.control.add_fault(
        "api",
        "status",
        path=f"/compute/v2.1/servers/{sid}",
        method="DELETE",
        status=409,
        message="Cannot delete now",
    )
    with pytest.raises(CloudError) as failure:
        client.delete_server(sid)
    assert failure.value.status == 409
    assert f"delete server {sid}" in str(failure.value) and "Cannot delete now" in str(
        failure.value
    )


@pytest.fixture
def lookups(client, monkeypatch):
    """The service types whose endpoint keystoneauth was asked for, in order (once
    openstacksdk has made its proxies, which ask for their endpoint when made)."""
    client.conn.compute, client.conn.placement  # noqa: B018
    session = client.conn.session
    asked: list[str] = []
    original = session.get_endpoint

    def get_endpoint(auth=None, **kwargs):
        asked.append(kwargs.get("service_type"))
        return original(auth, **kwargs)

    monkeypatch.setattr(session, "get_endpoint", get_endpoint)
    return asked


def test_each_endpoint_is_looked_up_once_and_requests_still_reach_it(client, lookups, wire):
    services = client.compute_services()
    for _ in range(3):
        assert client.server_json("no-such-server") is None
        assert client.allocations("no-such-consumer") == {}
    assert [s.host for s in services] == ["compute1", "compute2", "compute3"]
    assert lookups.count("compute") == 1
    assert lookups.count("placement") == 1
    served = [r[:2] for r in wire if not r[1].endswith(("/v2.1", "/placement"))]
    assert served[:3] == [
        ("GET", "/compute/v2.1/os-services"),
        ("GET", "/compute/v2.1/servers/no-such-server"),
        ("GET", "/placement/allocations/no-such-consumer"),
    ]
    versions = {r[1].split("/")[1]: r[2] for r in wire if r[2]}
    assert versions["compute"].startswith("compute 2.")  # microversions still sent
    assert versions["placement"] == "placement 1.28"


def test_a_new_token_looks_the_endpoints_up_again(client, lookups):
    client.compute_services()
    client.compute_services()
    assert lookups.count("compute") == 1
    client.conn.session.auth.invalidate()  # as when the token expired
    client.compute_services()
    client.compute_services()
    assert lookups.count("compute") == 2


def test_an_absolute_url_or_an_override_is_sent_as_given(client, lookups, wire, cloud):
    client.compute_services()
    asked = len(lookups)
    url = f"{cloud.endpoint}/compute/v2.1/os-services"
    assert client.conn.compute.get(url).status_code == 200
    override = f"{cloud.endpoint}/compute/v2.1"
    assert client.conn.compute.get("/os-services", endpoint_override=override).ok
    assert len(lookups) == asked
    assert [r[:3] for r in wire[-2:]] == [
        ("GET", "/compute/v2.1/os-services", None),
        ("GET", "/compute/v2.1/os-services", None),
    ]


def test_a_service_without_an_endpoint_is_refused_by_keystoneauth_as_before(client):
    with pytest.raises(ks_exc.EndpointNotFound):
        client.conn.session.get("/volumes", endpoint_filter={"service_type": "block-storage"})
