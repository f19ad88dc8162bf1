"""Run the acceptance suites in-process against the embedded fake, optionally with bugs."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
import robot
from robot.api import ExecutionResult

import LiveMigLibrary.fake as fake_package

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "suites"


@dataclass
class RobotRun:
    rc: int
    tests: dict[str, tuple[str, str]]  # test name -> (status, message)
    console: str

    def status(self, name: str) -> str:
        return self.tests[name][0]

    def message(self, name: str) -> str:
        return self.tests[name][1]

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for status, _ in self.tests.values():
            result[status] = result.get(status, 0) + 1
        return result


@pytest.fixture
def run_suites(tmp_path, monkeypatch):
    """Runs suites (paths relative to ``suites/``) with the fake emulating ``bugs``."""

    def run(*suites: str, bugs: tuple[str, ...] = (), **options) -> RobotRun:
        if bugs:
            original = fake_package.FakeCloud

            class BuggyFakeCloud(original):
                def __init__(self, *args, **kwargs):
                    kwargs["emulate_bugs"] = tuple(bugs)
                    super().__init__(*args, **kwargs)

            monkeypatch.setattr(fake_package, "FakeCloud", BuggyFakeCloud)
        monkeypatch.delenv("OS_CLOUD", raising=False)
        paths = [str(SUITES / s) for s in suites] or [str(SUITES)]
        console = io.StringIO()
        rc = robot.run(
            *paths,
            outputdir=str(tmp_path),
            log="NONE",
            report="NONE",
            stdout=console,
            stderr=console,
            **options,
        )
        result = ExecutionResult(str(tmp_path / "output.xml"))
        tests = {t.name: (t.status, t.message) for t in result.suite.all_tests}
        return RobotRun(rc, tests, console.getvalue())

    return run
