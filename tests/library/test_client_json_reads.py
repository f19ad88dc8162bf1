"""The client reads servers, services, hypervisors, providers, instance actions, images
and flavors straight from the JSON (at the microversion openstacksdk's resource would
negotiate) instead of building openstacksdk's resource objects, which cost more than the
request. What it reads must be what openstacksdk's resources say, field for field."""

from __future__ import annotations

import pytest

from LiveMigLibrary import LiveMigLibrary
from LiveMigLibrary.fake import IMAGE_ID, IMAGE_NAME

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


@pytest.fixture(scope="module")
def lib():
    library = LiveMigLibrary(computes=3)
    try:
        yield library
    finally:
        library.close()


@pytest.fixture(scope="module")
def moved(lib):
    """Two servers of one multi-create, the first live-migrated; compute3 disabled with a
    reason and compute2 forced down afterwards."""
    first, second = lib.create_servers(count=2, name="json")
    lib.wait_until_servers_are_active(first, second)
    target = next(h for h in lib.get_compute_hosts() if h != lib.get_server_host(first))
    lib.live_migrate_server(first, target)
    lib.wait_until_migration_of_server_is(first, "completed")
    lib.disable_compute_service("compute3", reason="json reads")
    lib.force_compute_service_down("compute2")
    return first, second


def test_compute_services_are_what_openstacksdk_lists(lib, moved):
    client = lib._ctx.admin
    sdk = sorted(client.conn.compute.services(binary="nova-compute"), key=lambda s: s.host)
    assert [
        (s.id, s.host, s.status, s.state, s.forced_down, s.disabled_reason)
        for s in client.compute_services()
    ] == [
        (str(s.id), s.host, s.status, s.state, bool(s.is_forced_down), s.disabled_reason)
        for s in sdk
    ]
    assert [s.status for s in sdk] == ["enabled", "enabled", "disabled"]
    assert sdk[1].is_forced_down and sdk[2].disabled_reason == "json reads"
    assert client.sdk_microversion("service.Service") == "2.69"  # uuid ids, as the SDK's


def test_servers_of_a_reservation_are_what_openstacksdk_lists(lib, moved):
    client = lib._ctx.admin
    first = moved[0]
    reservation = client.conn.compute.get_server(first.id).reservation_id
    sdk = client.conn.compute.servers(details=True, reservation_id=reservation, all_projects=True)
    expected = sorted(
        (s.id, s.name, s.status, s.task_state, s.vm_state, s.compute_host, s.created_at)
        for s in sdk
    )
    assert len(expected) == 2
    assert (
        sorted(
            (s.id, s.name, s.status, s.task_state, s.vm_state, s.host, s.created)
            for s in client.servers_of_reservation(reservation)
        )
        == expected
    )
    for host in ("compute1", "compute2", "compute3"):
        on_host = client.conn.compute.servers(all_projects=True, compute_host=host)
        oldest_first = sorted(on_host, key=lambda s: (s.created_at or "", s.id))
        assert client.server_ids_on_host(host) == [s.id for s in oldest_first]
    assert sum(len(client.server_ids_on_host(h)) for h in ("compute1", "compute2", "compute3")) == 2


def test_hypervisors_and_providers_are_what_openstacksdk_lists(lib, moved):
    client = lib._ctx.admin
    by_host: dict[str, list[str]] = {}
    for h in client.conn.compute.hypervisors(details=True):
        by_host.setdefault(h.service_details["host"], []).append(h.name)
    assert client.hypervisor_names_by_host() == by_host
    assert client.resource_provider_names() == {
        rp.id: rp.name for rp in client.conn.placement.resource_providers()
    }
    assert sorted(by_host) == ["compute1", "compute2", "compute3"]


def test_the_latest_instance_action_is_what_openstacksdk_reads(lib, moved):
    client = lib._ctx.admin
    first = moved[0]
    read = client.server_action(first.id, "live-migration")
    sdk_list = [a for a in client.conn.compute.server_actions(first.id)]
    latest = next(a for a in sdk_list if a.action == "live-migration")
    detail = client.conn.compute.get_server_action(latest.request_id, first.id)
    assert (read["action"], read["request_id"], read["start"], read["message"]) == (
        detail.action,
        detail.request_id,
        detail.start_time,
        detail.message,
    )
    sdk_events = sorted(
        (e["event"], e["host"], e["start_time"], e["finish_time"], e["result"])
        for e in detail.events
    )
    assert (
        sorted(
            (e["event"], e["host"], e["start"], e["finish"], e["result"]) for e in read["events"]
        )
        == sdk_events
    )
    assert {"compute_live_migration", "compute_pre_live_migration"} <= {e[0] for e in sdk_events}
    assert client.server_action(first.id, "resize") is None
    assert client.server_action(first.id, "live-migration", not_after="2000-01-01") is None


def test_images_and_flavors_are_found_as_openstacksdk_finds_them(lib, moved):
    client = lib._ctx.admin
    assert client.find_image_id(IMAGE_NAME) == client.conn.image.find_image(IMAGE_NAME).id
    assert client.find_image_id(IMAGE_ID) == IMAGE_ID
    assert client.find_image_id("no-such-image") is None
    assert client.find_image_id("0b5e7d4c-1111-4222-8333-944455556666") is None  # a uuid
    flavor = client.conn.compute.find_flavor("m1.tiny")
    assert client.find_flavor_id("m1.tiny") == flavor.id
    assert client.find_flavor_id(flavor.id) == flavor.id
    assert client.find_flavor_id("no-such-flavor") is None


def test_the_next_page_is_found_in_nova_links_and_in_glance_next():
    from LiveMigLibrary.client import _next_marker

    nova = [{"rel": "self", "href": "x"}, {"rel": "next", "href": "/servers?marker=m1&limit=2"}]
    assert _next_marker(nova) == "m1"
    assert _next_marker("/v2/images?marker=m2&name=cirros") == "m2"  # Glance's `next`
    assert _next_marker(None) is None and _next_marker([]) is None
