"""The README's Robot Framework example runs as written against the embedded fake."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
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


def _section_sh(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(f"## {title}") :]
    return re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)


def _with_this_venv(commands: str) -> str:
    """The README's `.venv/bin/...` are this interpreter's scripts (CI may use another venv)."""
    bindir = Path(sys.executable).parent
    return commands.replace("$PWD/.venv/bin", str(bindir)).replace(".venv/bin/", f"{bindir}/")


def test_readme_standalone_fake_cloud_commands_work(tmp_path):
    """No activated venv, clouds.yaml outside the repository, the CLI moves the server."""
    script = _with_this_venv(_section_sh("The fake cloud on its own"))
    assert "mktemp -d" in script and "./clouds.yaml" not in script
    env = {k: v for k, v in os.environ.items() if k not in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE")}
    env["PATH"] = "/usr/bin:/bin"  # nothing of the virtual environment on PATH
    done = subprocess.run(
        ["bash", "-ec", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "completed" in done.stdout  # the migration list shows the live migration
    assert "live-migration" in done.stdout
    assert not (ROOT / "clouds.yaml").exists()


def test_readme_pabot_command_runs_the_tests(tmp_path):
    command = _section_sh("In parallel (pabot)").strip()
    assert "--pabotlibport 0" in command
    command = _with_this_venv(command).replace("--outputdir results suites", "")
    env = {k: v for k, v in os.environ.items() if k != "OS_CLOUD"}
    env["PATH"] = "/usr/bin:/bin"  # the command itself must put the venv's bin on PATH
    suite = ROOT / "suites" / "concurrent_create_live_migration.robot"
    done = subprocess.run(
        ["bash", "-ec", f"{command} --outputdir {tmp_path} {suite}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = ExecutionResult(str(tmp_path / "output.xml"))
    tests = list(result.suite.all_tests)
    assert len(tests) == 2 and all(t.status == "PASS" for t in tests)
