"""Fixtures: one FakeCloud (manual clock) per session, reset before each test."""

from __future__ import annotations

import pytest

from .helpers import Api

try:
    from LiveMigLibrary.fake import FakeCloud
except ImportError:  # the fake is being written concurrently
    FakeCloud = None


def start_fake_cloud(**kwargs):
    if FakeCloud is None:
        pytest.skip("LiveMigLibrary.fake.FakeCloud is not available yet")
    return FakeCloud(**kwargs).start()


@pytest.fixture(scope="session")
def cloud():
    c = start_fake_cloud(computes=2, clock="manual")
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
