"""Fixtures of the hardening tests: their own fake cloud (manual clock), reset per test.

`_reset`, `ctl`, `admin` and `member` are the fake API tests' own fixtures, bound here to
this module-scoped cloud.
"""

from __future__ import annotations

import pytest
from fake.conftest import _reset, admin, ctl, member  # noqa: F401 (fixtures)

from LiveMigLibrary.fake import FakeCloud


@pytest.fixture(scope="module")
def cloud():
    c = FakeCloud(computes=2, clock="manual").start()
    try:
        yield c
    finally:
        c.stop()
