"""Start the real-Nova harness from the test venv: a subprocess in the conformance venv.

Nova and tempest cannot share a venv (Nova pins eventlet-era libraries), so the tests that
need real Nova run ``python -m tests.conformance.harness`` with the interpreter of
``.venv-nova`` (or ``$LIVEMIG_NOVA_PYTHON``) and talk to it over loopback HTTP, exactly as
they would to a cloud. No Nova import here.
"""

from __future__ import annotations

import os
import queue
import shlex
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADMIN_CLOUD, MEMBER_CLOUD = "livemig-nova", "livemig-nova-member"
START_TIMEOUT = 300.0  # seconds; about 20 on an idle machine
# Set by .ci/run: CI must run against real Nova, so a missing venv is a failure there.
REQUIRE_ENV = "LIVEMIG_REQUIRE_NOVA"


def nova_python() -> Path:
    return Path(os.environ.get("LIVEMIG_NOVA_PYTHON") or ROOT / ".venv-nova" / "bin" / "python")


def nova_available() -> bool:
    return nova_python().exists()


def nova_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0", "false", "no")


def missing_reason() -> str:
    return (
        f"real Nova needs the conformance venv ({nova_python()} is missing): "
        "python3 -m venv .venv-nova && .venv-nova/bin/pip install -e '.[conformance]'"
    )


class RealNova:
    """One harness process: ``start()`` waits until it serves, ``stop()`` ends it."""

    def __init__(self, workdir: Path, computes: int = 3):
        self.workdir = Path(workdir)
        self.computes = computes
        self.clouds_yaml = self.workdir / "clouds.yaml"
        self.log_file = self.workdir / "nova.log"
        self.control_file = self.workdir / "control.json"
        self.endpoint = ""
        self._proc: subprocess.Popen | None = None
        self._console: list[str] = []

    def start(self) -> RealNova:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(nova_python()),
            "-m",
            "tests.conformance.harness",
            f"--computes={self.computes}",
            f"--clouds-yaml={self.clouds_yaml}",
            f"--log-file={self.log_file}",
            f"--control-file={self.control_file}",
        ]
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump():
            for line in self._proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=START_TIMEOUT)
                if line is None:
                    raise RuntimeError(
                        "the real-Nova harness exited before it was ready:\n"
                        + "".join(self._console[-40:])
                    )
                self._console.append(line)
                if line.startswith("endpoint: "):
                    self.endpoint = line.split(" ", 1)[1].strip()
                if line.strip() == "ready":
                    return self
        except queue.Empty:
            self.stop()
            raise RuntimeError(
                f"the real-Nova harness was not ready within {START_TIMEOUT:.0f} s:\n"
                + "".join(self._console[-40:])
            ) from None
        except BaseException:
            self.stop()
            raise

    @property
    def compute_process_command(self) -> str:
        """The library's ``compute_process_command`` for this harness: its computes are
        stopped and restarted by ``compute_control.py`` (run by this test venv's Python)."""
        client = ROOT / "tests" / "conformance" / "compute_control.py"
        argv = [sys.executable, str(client), "--control-file", str(self.control_file)]
        return shlex.join(argv) + " {action} {host}"

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "".join(self.log_file.read_text().splitlines(True)[-lines:])
        except OSError:
            return ""
