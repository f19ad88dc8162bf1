"""Wrong arguments fail before the cloud is asked, naming argument, value and choices."""

from datetime import timedelta

import pytest

from LiveMigLibrary import LiveMigLibrary
from LiveMigLibrary.errors import InvalidArgument

from .conftest import SERVER_ID


def test_count_zero_fails_before_any_cloud_call(lib, stub):
    with pytest.raises(InvalidArgument) as error:
        lib.create_servers(count=0)
    assert "Argument 'count' got 0" in str(error.value)
    assert "at least 1" in str(error.value)
    assert stub.calls == []


def test_block_migration_maybe_fails_before_any_cloud_call(lib, stub):
    with pytest.raises(InvalidArgument, match="'block_migration' got 'maybe'"):
        lib.live_migrate_server(SERVER_ID, host="compute2", block_migration="maybe")
    assert stub.calls == []


def test_unknown_flavor_lists_the_flavors_and_creates_nothing(lib, stub):
    with pytest.raises(InvalidArgument) as error:
        lib.create_servers(count=2, image="cirros", flavor="m1.huge")
    assert "Argument 'flavor' got 'm1.huge'" in str(error.value)
    assert "m1.tiny" in str(error.value)
    assert not any(call[0] == "create_servers" for call in stub.calls)


def test_unknown_image_lists_the_images(lib):
    with pytest.raises(InvalidArgument, match="'image' got 'ubuntu'.*cirros"):
        lib.create_servers(count=1, image="ubuntu", flavor="m1.tiny")


def test_unknown_host_names_the_known_hosts_and_does_not_migrate(lib, stub):
    with pytest.raises(InvalidArgument) as error:
        lib.live_migrate_server(SERVER_ID, host="compute9")
    assert "Argument 'host' got 'compute9'" in str(error.value)
    assert "compute1, compute2" in str(error.value)
    assert not any(call[0] == "live_migrate" for call in stub.calls)


def test_unknown_host_for_service_keywords(lib):
    with pytest.raises(InvalidArgument, match="'host' got 'nope'"):
        lib.disable_compute_service("nope")


def test_unknown_migration_status(lib, stub):
    with pytest.raises(InvalidArgument, match="'status' got 'finishd'"):
        lib.wait_until_migration_of_server_is(SERVER_ID, "finishd")
    assert stub.calls == []


def test_unknown_refusal_reason(lib, stub):
    with pytest.raises(InvalidArgument, match="'reason' got 'because'"):
        lib.live_migration_of_server_should_be_refused(SERVER_ID, "because")
    assert stub.calls == []


def test_zero_poll_interval_is_refused(lib):
    with pytest.raises(InvalidArgument, match="poll_interval"):
        lib.wait_until_servers_are_active(SERVER_ID, poll_interval=timedelta(0))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"computes": 0}, "computes"),
        ({"poll_interval": timedelta(0)}, "poll_interval"),
        ({"timeout": timedelta(seconds=-1)}, "timeout"),
        ({"fake_speed": 0.0}, "fake_speed"),
    ],
)
def test_bad_import_arguments(kwargs, argument):
    with pytest.raises(InvalidArgument, match=f"Argument '{argument}'"):
        LiveMigLibrary(**kwargs)


def test_import_arguments_are_keyword_only():
    with pytest.raises(InvalidArgument, match="only named import arguments.*`cloud=some-cloud`"):
        LiveMigLibrary("some-cloud")


def test_nothing_is_started_or_contacted_at_import():
    library = LiveMigLibrary()
    assert library._ctx.fake is None
    assert not library._ctx.connected
