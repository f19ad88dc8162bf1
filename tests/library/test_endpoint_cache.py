"""The client looks each service's endpoint up once per token (client.EndpointCache)
instead of letting keystoneauth search and deep-copy the service catalog on every
request: the requests on the wire, their microversions and keystoneauth's own refusals
must stay exactly what they were."""

from __future__ import annotations

import pytest
from keystoneauth1 import exceptions as ks_exc

from LiveMigLibrary.client import CloudClient
from LiveMigLibrary.fake import FakeCloud


@pytest.fixture(scope="module")
def cloud():
    fake = FakeCloud(computes=2).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def client(cloud):
    c = CloudClient(cloud.connect())
    try:
        yield c
    finally:
        c.close()


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


@pytest.fixture
def wire(cloud, monkeypatch):
    """(method, full path, microversion header) of every request the fake gets."""
    server = cloud._http.server
    app = server.app
    seen: list[tuple] = []

    def recording(environ, start_response):
        seen.append(
            (
                environ["REQUEST_METHOD"],
                environ["PATH_INFO"],
                environ.get("HTTP_OPENSTACK_API_VERSION"),
            )
        )
        return app(environ, start_response)

    monkeypatch.setattr(server, "app", recording)
    return seen


def test_each_endpoint_is_looked_up_once_and_requests_still_reach_it(client, lookups, wire):
    services = client.compute_services()
    for _ in range(3):
        assert client.server_json("no-such-server") is None
        assert client.allocations("no-such-consumer") == {}
    assert [s.host for s in services] == ["compute1", "compute2"]
    assert lookups.count("compute") == 1
    assert lookups.count("placement") == 1
    served = [(m, p) for m, p, _ in wire if not p.endswith(("/v2.1", "/placement"))]
    assert served[:3] == [
        ("GET", "/compute/v2.1/os-services"),
        ("GET", "/compute/v2.1/servers/no-such-server"),
        ("GET", "/placement/allocations/no-such-consumer"),
    ]
    versions = {p.split("/")[1]: v for _, p, v in wire if v}
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
    assert wire[-2:] == [
        ("GET", "/compute/v2.1/os-services", None),
        ("GET", "/compute/v2.1/os-services", None),
    ]


def test_a_service_without_an_endpoint_is_refused_by_keystoneauth_as_before(client):
    with pytest.raises(ks_exc.EndpointNotFound):
        client.conn.session.get("/volumes", endpoint_filter={"service_type": "block-storage"})
