import pytest

from LiveMigLibrary.enums import BlockMigration, MigrationStatus, Refusal
from LiveMigLibrary.errors import InvalidArgument


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("auto", "auto"),
        ("AUTO", "auto"),
        ("true", True),
        (True, True),
        ("False", False),
        (False, False),
        (BlockMigration.TRUE, True),
    ],
)
def test_block_migration_maps_to_api_values(given, expected):
    assert BlockMigration.parse(given).api_value == expected


def test_block_migration_rejects_other_values_naming_argument_value_and_choices():
    with pytest.raises(InvalidArgument) as error:
        BlockMigration.parse("maybe")
    assert str(error.value) == (
        "Argument 'block_migration' got 'maybe'; allowed: auto, true or false."
    )


def test_migration_status_accepts_values_and_names():
    assert MigrationStatus.parse("post-migrating") is MigrationStatus.POST_MIGRATING
    assert MigrationStatus.parse("Post Migrating") is MigrationStatus.POST_MIGRATING
    assert MigrationStatus.parse("COMPLETED") is MigrationStatus.COMPLETED


def test_migration_status_rejects_unknown_status():
    with pytest.raises(InvalidArgument, match="'complete'.*completed"):
        MigrationStatus.parse("complete")


def test_migration_status_knows_the_cold_move_and_evacuation_statuses():
    assert MigrationStatus.parse("done") is MigrationStatus.DONE  # evacuation rebuilt
    assert not MigrationStatus.DONE.is_final  # `completed` follows the source's clean-up
    assert not MigrationStatus.FINISHED.is_final  # waits for confirm or revert
    assert MigrationStatus.CONFIRMED.is_final and MigrationStatus.REVERTED.is_final


def test_only_terminal_statuses_are_final_and_only_bad_ones_are_failures():
    assert MigrationStatus.COMPLETED.is_final and not MigrationStatus.COMPLETED.is_failure
    assert MigrationStatus.CANCELLED.is_failure
    assert not MigrationStatus.QUEUED.is_final


@pytest.mark.parametrize(
    ("given", "member", "status"),
    [
        ("NoValidHost", Refusal.NO_VALID_HOST, 400),
        ("no valid host", Refusal.NO_VALID_HOST, 400),
        ("bad host", Refusal.HOST_NOT_FOUND, 400),
        ("conflict", Refusal.CONFLICT, 409),
        ("Forbidden", Refusal.FORBIDDEN, 403),
    ],
)
def test_refusals_parse_with_their_http_status(given, member, status):
    assert Refusal.parse(given) is member
    assert member.http_status == status


def test_refusal_rejects_unknown_reason():
    with pytest.raises(InvalidArgument, match="Argument 'reason' got 'teapot'"):
        Refusal.parse("teapot")
