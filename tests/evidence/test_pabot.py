"""Under pabot every process records its own migrations and the run's summary has all."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from robot.api import ExecutionResult

from LiveMigLibrary.evidence.cli import main as evidence_cli

from .test_records import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


def test_pabot_run_summary_holds_every_migration_of_every_process(tmp_path):
    out = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if k != "OS_CLOUD"}
    # pabot starts `robot` from PATH: the one of this interpreter
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pabot.pabot",
            "--pabotlibport",
            "0",
            "--processes",
            "2",
            "--outputdir",
            str(out),
            "--log",
            "NONE",
            "--report",
            "NONE",
            str(ROOT / "suites" / "concurrent_create_live_migration.robot"),
            str(ROOT / "suites" / "migration_control.robot"),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    per_process = sorted(out.glob("pabot_results/*/migrations.json"))
    assert len(per_process) == 2  # one suite per process, each wrote its own
    own = [json.loads(p.read_text()) for p in per_process]
    own_ids = {r["record_id"] for doc in own for r in doc["migrations"]}
    assert all(doc["migrations"] for doc in own)
    merged = json.loads((out / "migrations.json").read_text())
    assert {r["record_id"] for r in merged["migrations"]} == own_ids
    assert len(merged["runs"]) == 2
    # every test of the merged output.xml that waited on a migration has its records
    result = ExecutionResult(str(out / "output.xml"))
    tests = {t.name for t in result.suite.all_tests}
    assert {r["test"] for r in merged["migrations"]} == tests
    assert (out / "migrations.html").read_text().count("<tr>") > len(own_ids)
    # the documented merge command gives the same set
    assert evidence_cli(["merge", str(out), "--output", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "migrations.json").read_text())
    assert {r["record_id"] for r in again["migrations"]} == own_ids
