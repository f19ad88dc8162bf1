"""``livemig-bug-zoo``: prove the acceptance suites catch the Nova bugs the fake emulates.

Runs the default acceptance suites once against a fixed fake Nova and once per
emulated bug (``fake_bugs`` import argument, set through the ``FAKE_BUGS``
suite variable), prints a table, writes it to ``<outputdir>/bug-zoo.md``, and
exits 0 only when the run without bugs passes and every bug fails at least
one test.

    livemig-bug-zoo                      # every known bug, suites/ -> results/
    livemig-bug-zoo --bug 1718455 --jobs 1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from robot.api import ExecutionResult

from .fake.bugs import KNOWN_BUGS

NO_BUG = "none"


@dataclass
class ZooRun:
    bug: str
    suites: int = 0
    tests: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    @property
    def detected(self) -> bool:
        return bool(self.failed) and not self.error

    @property
    def ok(self) -> bool:
        """A bug run is ok when detected; the run without bugs when all passed."""
        if self.error or self.tests == 0:
            return False
        return not self.failed if self.bug == NO_BUG else self.detected


def run_suites(bug: str, suites: Path, outputdir: Path) -> ZooRun:
    out = outputdir / "bug-zoo" / bug
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "robot",
        "--outputdir",
        str(out),
        "--log",
        "NONE",
        "--report",
        "NONE",
        "--console",
        "none",
        "--variable",
        f"FAKE_BUGS:{'' if bug == NO_BUG else bug}",
        str(suites),
    ]
    env = {k: v for k, v in os.environ.items() if k != "OS_CLOUD"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    run = ZooRun(bug, seconds=time.perf_counter() - start)
    output = out / "output.xml"
    if not output.exists():
        run.error = (proc.stderr or proc.stdout or f"robot exited {proc.returncode}").strip()
        return run
    result = ExecutionResult(str(output))
    run.suites = _count_suites(result.suite)
    tests = list(result.suite.all_tests)
    run.tests = sum(1 for t in tests if t.status != "SKIP")
    run.failed = [t.longname for t in tests if t.status == "FAIL"]
    return run


def _count_suites(suite) -> int:
    return (1 if suite.tests else 0) + sum(_count_suites(s) for s in suite.suites)


def table(runs: list[ZooRun]) -> str:
    lines = [
        "| bug | suites run | tests failed | detected |",
        "|---|---|---|---|",
    ]
    for r in runs:
        if r.bug == NO_BUG:
            verdict = "n/a (must pass)" if not r.failed and not r.error else "NO: baseline fails"
        else:
            verdict = "yes" if r.detected else "NO"
        failed = "error" if r.error else f"{len(r.failed)} of {r.tests}"
        lines.append(f"| {r.bug} | {r.suites} | {failed} | {verdict} |")
    return "\n".join(lines)


def report(runs: list[ZooRun]) -> str:
    parts = [
        "# Bug zoo",
        "",
        "The default acceptance suites against the embedded fake "
        "cloud, once without bugs and once per emulated Nova bug.",
        "",
        table(runs),
        "",
    ]
    for r in runs:
        if r.bug == NO_BUG and not r.failed and not r.error:
            continue
        title = KNOWN_BUGS.get(r.bug, "no emulated bug")
        parts += [f"## {r.bug}", "", title, ""]
        if r.error:
            parts += ["Robot did not run:", "", "```", r.error[-2000:], "```", ""]
        parts += [f"- {name}" for name in r.failed] or ["- (no test failed)"]
        parts.append("")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="livemig-bug-zoo", description=__doc__.splitlines()[0])
    p.add_argument(
        "--suites",
        type=Path,
        default=Path("suites"),
        help="acceptance suites to run (default: ./suites)",
    )
    p.add_argument(
        "--outputdir",
        type=Path,
        default=Path("results"),
        help="where bug-zoo.md and the runs' output.xml go (default: ./results)",
    )
    p.add_argument(
        "--bug",
        action="append",
        choices=sorted(KNOWN_BUGS),
        dest="bugs",
        help="only this bug (repeatable); default: every known bug",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="robot runs at once (default: CPU count)",
    )
    args = p.parse_args(argv)
    if not args.suites.exists():
        p.error(f"--suites: {args.suites} does not exist")
    if args.jobs < 1:
        p.error(f"--jobs must be 1 or more, got {args.jobs}")
    bugs = [NO_BUG, *(args.bugs or KNOWN_BUGS)]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(lambda b: run_suites(b, args.suites, args.outputdir), bugs))
    text = table(runs)
    print(text)
    args.outputdir.mkdir(parents=True, exist_ok=True)
    (args.outputdir / "bug-zoo.md").write_text(report(runs))
    print(f"\nwritten: {args.outputdir / 'bug-zoo.md'}")
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
