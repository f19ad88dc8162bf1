"""Fixtures: one FakeCloud (manual clock) per session, reset before each test."""

from __future__ import annotations

import pytest

from .helpers import Api

fake = pytest.importorskip("LiveMigLibrary.fake", reason="the fake cloud is not available yet")


@pytest.fixture(scope="session")
def cloud():
    c = fake.FakeCloud(computes=2, clock="manual").start()
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


@pytest.fixture
def conn(cloud):
    c = cloud.connect(admin=True)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def member_conn(cloud):
    c = cloud.connect(admin=False)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def active_server(admin, ctl):
    """An ACTIVE m1.tiny server owned by admin; returns (id, host)."""
    sid = admin.boot("vm-a")
    ctl.settle()
    srv = admin.server(sid)
    assert srv["status"] == "ACTIVE", srv
    return sid, srv["OS-EXT-SRV-ATTR:host"]
