"""A refused or failed move is explained with facts read from the cloud (issue 12, item 5).

Each test sets up one cause in the embedded fake cloud through the keywords a user has,
and checks that the failure names it, labelled as read from the cloud; a healthy
destination adds nothing that is not true.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from LiveMigLibrary import LiveMigLibrary
from LiveMigLibrary.diagnosis import LABEL, explain_move
from LiveMigLibrary.errors import CheckFailed, CloudError, UnexpectedState


@pytest.fixture
def lib():
    library = LiveMigLibrary(computes=3)
    yield library
    library.close()


@pytest.fixture
def server(lib):
    created = lib.create_server(name="why")
    lib.wait_until_servers_are_active(created)
    return created


def refusal(lib, server, host=None) -> str:
    with pytest.raises(CloudError) as error:
        lib.live_migrate_server(server, host=host)
    message = str(error.value)
    assert message.startswith(f"Could not live-migrate server {server.name} ({server.id})")
    assert "No valid host was found." in message  # the cloud's own words come first
    return message


def others(lib, server) -> list[str]:
    source = lib.get_server_host(server)
    return [h for h in lib.get_compute_hosts() if h != source]


def test_disabled_destination_is_named_with_its_reason(lib, server):
    target = others(lib, server)[0]
    lib.disable_compute_service(target, reason="maintenance")
    message = refusal(lib, server, target)
    assert f"{LABEL} {target}'s nova-compute is disabled ('maintenance')." in message
    assert "refused the request" in message  # and what to do


def test_forced_down_destination_says_down_since(lib, server):
    target = others(lib, server)[0]
    lib.force_compute_service_down(target)
    message = refusal(lib, server, target)
    assert f"{target}'s nova-compute is forced down and down since 20" in message


def test_same_host_is_named(lib, server):
    source = lib.get_server_host(server)
    message = refusal(lib, server, source)
    assert f"{LABEL} {source} is already the server's host." in message


def test_scheduler_pick_lists_why_each_other_host_cannot_take_it(lib, server):
    first, second = others(lib, server)
    lib.disable_compute_service(first, reason="maintenance")
    lib.stop_compute_service_process(second)
    lib.advance_fake_cloud_clock(
        timedelta(minutes=5)
    )  # long enough for the service to be reported down
    message = refusal(lib, server)
    assert f"{first}'s nova-compute is disabled ('maintenance')" in message
    assert f"{second}'s nova-compute is down since 20" in message


def test_short_placement_capacity_against_the_flavor(lib, server):
    # 768 MB less Nova's default reserved_host_memory_mb (512)
    lib.add_fake_compute_host("tiny", vcpus=1, memory_mb=768, disk_gb=1)
    message = refusal(lib, server, "tiny")
    assert f"{LABEL} tiny has 256 MEMORY_MB free (flavor m1.tiny needs 512) in Placement." in (
        message
    )


def test_a_host_smaller_than_its_reserved_memory_has_no_inventory(lib, server):
    lib.add_fake_compute_host("bare", vcpus=1, memory_mb=256, disk_gb=1)
    message = refusal(lib, server, "bare")
    assert (
        f"{LABEL} bare has no VCPU inventory (flavor m1.tiny needs 1), no MEMORY_MB inventory "
        "(flavor m1.tiny needs 512), no DISK_GB inventory (flavor m1.tiny needs 1) in Placement."
    ) in message


def test_a_flavor_over_max_unit_is_named_even_with_capacity_free(lib, server):
    lib.add_fake_compute_host("narrow", vcpus=1, memory_mb=16384, disk_gb=100)
    new_flavor = {"name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80}
    facts = explain_move(lib._ctx.admin, server.id, "narrow", action="resize", flavor=new_flavor)
    assert facts == (
        f"{LABEL} narrow has at most 1 VCPU per server (flavor m1.large needs 4) in Placement."
    )


def test_failed_migration_names_the_failed_event_and_its_details(lib, server):
    target = others(lib, server)[0]
    lib.inject_fake_cloud_fault("pre_live_migration", "error")
    lib.live_migrate_server(server, host=target)
    with pytest.raises(UnexpectedState) as error:
        lib.wait_until_migration_of_server_is(server, "completed")
    message = str(error.value)
    assert "ended error" in message
    assert (
        f"{LABEL} instance action event compute_pre_live_migration on {target} failed: " in message
    )


def test_busy_server_is_described_when_the_refusal_is_not_the_expected_one(lib, server):
    target = others(lib, server)[0]
    lib.set_fake_cloud_durations(running=600)
    lib.live_migrate_server(server, host=target)
    lib.wait_until_migration_of_server_is(server, "running")
    with pytest.raises(CheckFailed) as error:
        lib.live_migration_of_server_should_be_refused(server, "NoValidHost", host=target)
    message = str(error.value)
    assert "was refused with HTTP 409" in message
    assert f"{LABEL} the server is MIGRATING (task_state migrating)" in message


def test_healthy_destination_adds_no_explanation(lib, server):
    target = others(lib, server)[0]
    assert explain_move(lib._ctx.admin, server.id, target) == ""


class BrokenClient:
    """Every read fails: the explanation is left out, the failure itself is not hidden."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise CloudError("read", 503, "Service Unavailable")

        return fail


def test_failed_reads_give_no_explanation_instead_of_an_error():
    assert explain_move(BrokenClient(), "abc", "compute2") == ""


def test_a_resize_checks_the_new_flavor_against_the_destination(lib, server):
    lib.add_fake_compute_host("small", vcpus=4, memory_mb=1024, disk_gb=10)
    new_flavor = {"name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40}
    facts = explain_move(lib._ctx.admin, server.id, "small", action="resize", flavor=new_flavor)
    assert facts == (
        f"{LABEL} small has 512 MEMORY_MB free (flavor m1.medium needs 4096), 10 DISK_GB free "
        "(flavor m1.medium needs 40) in Placement."
    )


def test_a_failed_cold_migration_is_explained_from_its_own_instance_action():
    library = LiveMigLibrary(computes=2)  # no alternate host to reschedule to
    try:
        server = library.create_server(name="cold")
        library.wait_until_servers_are_active(server)
        library.inject_fake_cloud_fault("prep_resize", "error", server=server.name)
        library.cold_migrate_server(server)
        with pytest.raises(UnexpectedState) as error:
            library.wait_until_migration_of_server_is(server, "finished")
        message = str(error.value)
        assert "ended error (compute1 -> no destination chosen), expected finished." in message
        assert f"{LABEL} instance action event compute_prep_resize on compute2 failed" in message
    finally:
        library.close()


def test_a_failed_migration_without_a_reason_in_the_api_says_where_to_look(lib, server):
    target = others(lib, server)[0]
    lib.inject_fake_cloud_fault("live_migration", "error", server=server.name)
    lib.live_migrate_server(server, host=target)
    with pytest.raises(UnexpectedState) as error:
        lib.wait_until_migration_of_server_is(server, "completed")
    message = str(error.value)
    assert LABEL not in message  # nothing failed that the API shows
    source = lib.get_server_host(server)
    assert message.endswith(
        "The cloud's API gives no reason (no failed instance action event, no server fault): "
        f"look for server {server.id} in the nova-compute logs on {source} and {target} and "
        "in nova-conductor's log (the embedded fake's says: Live Migration failure: operation "
        "failed: job aborted)."
    )


def test_an_event_repeating_the_servers_fault_is_not_said_twice(lib, server):
    lib.inject_fake_cloud_fault("resize_instance", "error", server=server.name)
    lib.resize_server(server, "m1.small")
    with pytest.raises(UnexpectedState) as error:
        lib.wait_until_migration_of_server_is(server, "finished")
    message = str(error.value)
    assert "the server's fault says 'Resize error:" in message
    assert message.count("migrate_disk_and_power_off failed") == 1, message
