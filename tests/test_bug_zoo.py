"""CI runs the bug zoo: a suite change that stops catching an emulated Nova bug fails here."""

from __future__ import annotations

from pathlib import Path

from LiveMigLibrary import bugzoo
from LiveMigLibrary.fake.bugs import KNOWN_BUGS

ROOT = Path(__file__).resolve().parents[1]


def test_every_emulated_bug_is_caught_and_a_fixed_nova_passes(tmp_path, capsys):
    rc = bugzoo.main(["--suites", str(ROOT / "suites"), "--outputdir", str(tmp_path)])
    printed = capsys.readouterr().out
    report = (tmp_path / "bug-zoo.md").read_text()
    assert rc == 0, printed + "\n" + report
    rows = {
        line.split("|")[1].strip(): line
        for line in printed.splitlines()
        if line.startswith("| ") and not line.startswith("| bug")
    }
    assert set(rows) == {"none", *KNOWN_BUGS}
    assert "| 0 of " in rows["none"]
    for bug in KNOWN_BUGS:
        assert rows[bug].rstrip().endswith("| yes |"), rows[bug]


def test_a_bug_no_suite_catches_makes_the_zoo_fail(tmp_path):
    # A suite that checks nothing cannot catch 1712045 (the source allocation leak).
    suite = tmp_path / "suites"
    suite.mkdir()
    (suite / "blind.robot").write_text(
        "*** Settings ***\n"
        "Resource    " + str(ROOT / "resources" / "livemig.resource") + "\n\n"
        "*** Test Cases ***\n"
        "Create And Forget\n"
        "    Create Active Servers    1    name=blind\n"
        "    [Teardown]    Delete Created Resources\n"
    )
    rc = bugzoo.main(
        ["--suites", str(suite), "--outputdir", str(tmp_path / "out"), "--bug", "1712045"]
    )
    assert rc == 1
    assert "| 1712045 | 1 | 0 of 1 | NO |" in (tmp_path / "out" / "bug-zoo.md").read_text()
