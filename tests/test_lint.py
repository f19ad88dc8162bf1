"""Lint as tests, so the one test command also keeps the code base clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed; install the test extras: pip install -e '.[test]'")
    return found


def test_python_passes_ruff():
    result = subprocess.run(
        [_tool("ruff"), "check", "LiveMigLibrary", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_is_ruff_formatted():
    result = subprocess.run(
        [_tool("ruff"), "format", "--check", "LiveMigLibrary", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_robot_files_pass_robocop():
    targets = [p for p in ("suites", "resources") if any((ROOT / p).glob("*.r*"))]
    if not targets:
        pytest.fail("no .robot or .resource files found under suites/ or resources/")
    result = subprocess.run(
        [_tool("robocop"), "check", *targets], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
