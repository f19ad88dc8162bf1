"""A LiveMigLibrary on its own embedded fake cloud, driven from Python (no Robot run)."""

from __future__ import annotations

import pytest

from LiveMigLibrary import LiveMigLibrary, concurrency

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


@pytest.fixture
def infos(monkeypatch):
    """Every line the library writes to Robot's log, with the thread that wrote it."""
    import threading

    lines: list[tuple[str, str, str]] = []

    def write(msg, level="INFO", html=False, *args, **kwargs):
        lines.append((threading.current_thread().name, level, msg))

    monkeypatch.setattr(concurrency.logger, "write", write)
    return lines


@pytest.fixture
def make_lib(monkeypatch):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    made = []

    def make(**kwargs) -> LiveMigLibrary:
        lib = LiveMigLibrary(**kwargs)
        made.append(lib)
        return lib

    yield make
    for lib in made:
        lib.close()


@pytest.fixture
def lib(make_lib) -> LiveMigLibrary:
    return make_lib(computes=3)


def texts(infos) -> list[str]:
    return [message for _, _, message in infos]
