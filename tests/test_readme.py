"""The README's Robot Framework example runs as written against the embedded fake."""

from __future__ import annotations

import io
import re
from pathlib import Path

import robot
from robot.api import ExecutionResult

ROOT = Path(__file__).resolve().parents[1]


def test_readme_example_passes(tmp_path, monkeypatch):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```robotframework\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 2, "README should show the library import and a test"
    suite = tmp_path / "readme.robot"
    suite.write_text("\n".join(blocks))
    console = io.StringIO()
    rc = robot.run(
        str(suite),
        outputdir=str(tmp_path),
        log="NONE",
        report="NONE",
        stdout=console,
        stderr=console,
    )
    result = ExecutionResult(str(tmp_path / "output.xml"))
    tests = list(result.suite.all_tests)
    assert tests and all(t.status == "PASS" for t in tests), console.getvalue()
    assert rc == 0
