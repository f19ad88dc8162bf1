"""Fixtures of the hardening tests: their own fake cloud (manual clock), reset per test."""

from __future__ import annotations

import pytest
from fake.helpers import Api

from LiveMigLibrary.fake import FakeCloud


@pytest.fixture(scope="module")
def cloud():
    c = FakeCloud(computes=2, clock="manual").start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(autouse=True)
def _reset(request):
    if "cloud" in request.fixturenames:
        request.getfixturevalue("cloud").control.reset()
    yield


@pytest.fixture
def ctl(cloud):
    return cloud.control


@pytest.fixture
def admin(cloud):
    return Api(cloud, admin=True)


@pytest.fixture
def member(cloud):
    return Api(cloud, admin=False)
