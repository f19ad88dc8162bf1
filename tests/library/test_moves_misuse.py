"""The move keywords refuse wrong arguments before the cloud is asked."""

import pytest

from LiveMigLibrary.enums import MoveOperation
from LiveMigLibrary.errors import InvalidArgument

from .conftest import SERVER_ID


def test_unknown_flavor_for_resize_lists_the_flavors(lib, stub):
    with pytest.raises(InvalidArgument) as error:
        lib.resize_server(SERVER_ID, "m1.huge")
    assert "Argument 'flavor' got 'm1.huge'" in str(error.value)
    assert "m1.tiny" in str(error.value)
    assert not any(call[0] == "resize" for call in stub.calls)


def test_empty_flavor_for_resize(lib, stub):
    with pytest.raises(InvalidArgument, match="'flavor' got ''"):
        lib.resize_server(SERVER_ID, "")
    assert stub.calls == []


@pytest.mark.parametrize("keyword", ["cold_migrate_server", "evacuate_server"])
def test_unknown_host_names_the_known_hosts(lib, stub, keyword):
    with pytest.raises(InvalidArgument) as error:
        getattr(lib, keyword)(SERVER_ID, host="compute9")
    assert "Argument 'host' got 'compute9'" in str(error.value)
    assert "compute1, compute2" in str(error.value)
    assert not any(call[0] in ("cold_migrate", "evacuate") for call in stub.calls)


def test_leave_stopped_must_be_a_boolean(lib, stub):
    with pytest.raises(InvalidArgument, match="'leave_stopped' got 'maybe'"):
        lib.evacuate_server(SERVER_ID, leave_stopped="maybe")


def test_unknown_move_operation_lists_the_operations(lib, stub):
    with pytest.raises(InvalidArgument) as error:
        lib.move_of_server_should_be_refused(SERVER_ID, "shelve", "BadRequest")
    assert "Argument 'operation' got 'shelve'" in str(error.value)
    assert "cold-migration, resize, confirm-resize, revert-resize, evacuation" in str(error.value)
    assert stub.calls == []


def test_a_refused_resize_needs_a_flavor(lib, stub):
    with pytest.raises(InvalidArgument, match="'flavor' got None"):
        lib.move_of_server_should_be_refused(SERVER_ID, "resize", "BadRequest")


@pytest.mark.parametrize(
    ("text", "member"),
    [
        ("migrate", MoveOperation.COLD_MIGRATION),
        ("Cold Migration", MoveOperation.COLD_MIGRATION),
        ("confirm", MoveOperation.CONFIRM_RESIZE),
        ("revertResize", MoveOperation.REVERT_RESIZE),
        ("evacuate", MoveOperation.EVACUATION),
        ("RESIZE", MoveOperation.RESIZE),
    ],
)
def test_move_operation_names(text, member):
    assert MoveOperation.parse(text) is member
