"""Overlap counting ends a row at a final migration status, MigrationStatus's own."""

from __future__ import annotations

import pytest

from LiveMigLibrary import overlap
from LiveMigLibrary.enums import MigrationStatus


@pytest.mark.parametrize("status", [s for s in MigrationStatus if s.is_final])
def test_a_final_status_ends_the_row_where_it_was_seen(status):
    row = overlap.Row("vm", "compute1 -> compute2", [(0.0, "running"), (5.0, status.value)], 9.0)
    assert overlap._segments(row)[-1] == (5.0, 5.0, status.value)


def test_a_status_still_moving_lasts_until_the_wait_ended():
    row = overlap.Row("vm", "", [(0.0, "queued"), (2.0, "running")], 9.0)
    assert overlap._segments(row) == [(0.0, 2.0, "queued"), (2.0, 9.0, "running")]
    assert overlap.max_overlap([row, row], {"running"}) == (2, 2.0)
