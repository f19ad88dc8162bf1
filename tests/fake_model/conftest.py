"""One fake cloud (manual clock) per module, reset before each test, driven with openstacksdk."""

from __future__ import annotations

import pytest

from LiveMigLibrary.fake import FakeCloud


@pytest.fixture(scope="module")
def cloud():
    c = FakeCloud(computes=2).start()
    yield c
    c.stop()


@pytest.fixture
def conn(cloud):
    cloud.control.reset()
    cloud.control.emulate_bugs([])
    c = cloud.connect()
    yield c
    c.close()
