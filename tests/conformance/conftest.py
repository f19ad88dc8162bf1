"""Fixtures of the conformance tests: real Nova (when its venv exists) and the fake."""

from __future__ import annotations

import pytest

from .launcher import RealNova, missing_reason, nova_available, nova_required


@pytest.fixture(scope="session")
def real_nova(tmp_path_factory):
    """The real-Nova harness with three computes, started once for the session."""
    if not nova_available():
        if nova_required():
            pytest.fail(missing_reason())
        pytest.skip(missing_reason())
    nova = RealNova(tmp_path_factory.mktemp("real-nova"), computes=3).start()
    yield nova
    nova.stop()
