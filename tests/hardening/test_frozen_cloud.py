"""The library never hangs: a cloud frozen with SIGSTOP, or killed, fails the test in time
with a message naming the call; Robot's stop (SIGINT, SIGTERM as pabot's --processtimeout
sends it, --exitonfailure) ends the run promptly, and the teardown still tries its clean-up.

The cloud is a standalone `livemig-fake-cloud` process reached through clouds.yaml, as a
real cloud would be; Robot runs in its own process, as from the command line.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from robot.api import ExecutionResult


@pytest.fixture
def standalone(tmp_path, request):
    """A `livemig-fake-cloud` process; yields (process, env with OS_CLIENT_CONFIG_FILE).

    Parametrized indirectly, the parameter is a tuple of further command-line options."""
    clouds_yaml = tmp_path / "clouds.yaml"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "LiveMigLibrary.fake.cli",
            "--clock",
            "scaled",
            "--speed",
            "50",
            "--clouds-yaml",
            str(clouds_yaml),
            *getattr(request, "param", ()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith("clouds_yaml:"):
                break
        else:
            pytest.fail("livemig-fake-cloud did not start")
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds_yaml))
        env.pop("OS_CLOUD", None)
        yield proc, env
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def write_suite(tmp_path: Path, body: str, library_args: str) -> Path:
    suite = tmp_path / "frozen.robot"
    suite.write_text(
        "*** Settings ***\n"
        f"Library    LiveMigLibrary    cloud=livemig-fake    {library_args}\n"
        "...    image=cirros-0.6.2-x86_64-disk    flavor=m1.tiny    poll_interval=0.2s\n"
        "Library    OperatingSystem\n"
        "Test Teardown    Delete Created Resources\n\n" + textwrap.dedent(body)
    )
    return suite


def robot(tmp_path: Path, suite: Path, env: dict, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "robot",
            "--outputdir",
            str(tmp_path / "out"),
            "--log",
            "NONE",
            "--report",
            "NONE",
            *options,
            str(suite),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def results(tmp_path: Path) -> dict:
    result = ExecutionResult(str(tmp_path / "out" / "output.xml"))
    return {
        t.name: (t.status, t.message, t.elapsed_time.total_seconds(), t)
        for t in result.suite.all_tests
    }


def teardown_message(test) -> str:
    return test.teardown.message if test.has_teardown else ""


FREEZE = "Evaluate    os.kill(${FAKE_PID}, signal.${SIGNAL})    modules=os,signal"


def test_frozen_cloud_fails_the_wait_within_its_timeout(standalone, tmp_path):
    proc, env = standalone
    suite = write_suite(
        tmp_path,
        f"""\
        *** Test Cases ***
        Frozen During A Wait
            ${{server}} =    Create Server
            {FREEZE}
            Wait Until Servers Are Active    ${{server}}    timeout=4s

        Never Runs After The Failure
            Log    exit on failure must skip this
        """,
        "api_timeout=30s",
    )
    started = time.monotonic()
    run = robot(
        tmp_path,
        suite,
        env,
        "--exitonfailure",
        "--variable",
        f"FAKE_PID:{proc.pid}",
        "--variable",
        "SIGNAL:SIGSTOP",
    )
    console = run.communicate(timeout=120)[0]
    wall = time.monotonic() - started
    tests = results(tmp_path)
    status, message, elapsed, test = tests["Frozen During A Wait"]
    print(f"frozen cloud: test failed after {elapsed:.1f}s, run ended after {wall:.1f}s")
    assert status == "FAIL", console
    assert "expected all ACTIVE within 4 seconds" in message, message
    assert "the cloud stopped answering" in message and "did not answer within" in message
    assert re.search(r"GET /servers/[0-9a-f-]{36} of the compute API", message), message
    # the wait's 4 s bound the stuck call too (not the 30 s api_timeout); the teardown asked
    # the silent cloud once (2 s) and reported what it could not delete
    assert elapsed < 4 + 1 + 2 + 3, elapsed
    assert "Cleanup was incomplete" in teardown_message(test)
    assert "Deleting livemig-" in teardown_message(test)
    assert "did not answer within" in teardown_message(test) or "not asked" in teardown_message(
        test
    )
    assert tests["Never Runs After The Failure"][0] in ("FAIL", "SKIP")
    assert wall < 60, console


def test_frozen_cloud_fails_a_single_call_within_api_timeout(standalone, tmp_path):
    proc, env = standalone
    suite = write_suite(
        tmp_path,
        f"""\
        *** Test Cases ***
        Frozen Before A Call
            ${{server}} =    Create Server
            {FREEZE}
            Get Server Host    ${{server}}
        """,
        "api_timeout=3s",
    )
    run = robot(tmp_path, suite, env, "--variable", f"FAKE_PID:{proc.pid}", "-v", "SIGNAL:SIGSTOP")
    console = run.communicate(timeout=120)[0]
    status, message, elapsed, _ = results(tmp_path)["Frozen Before A Call"]
    assert status == "FAIL", console
    assert "the cloud did not answer within 3 seconds (the api_timeout of 3 seconds)" in message
    assert re.search(r"\(GET /servers/[0-9a-f-]{36} of the compute API\)", message), message
    assert elapsed < 3 + 2 + 4, elapsed


def test_killed_cloud_fails_with_could_not_connect(standalone, tmp_path):
    proc, env = standalone
    suite = write_suite(
        tmp_path,
        f"""\
        *** Test Cases ***
        Killed During A Wait
            ${{server}} =    Create Server
            {FREEZE}
            Wait Until Servers Are Active    ${{server}}    timeout=30s
        """,
        "api_timeout=10s",
    )
    run = robot(tmp_path, suite, env, "--variable", f"FAKE_PID:{proc.pid}", "-v", "SIGNAL:SIGKILL")
    console = run.communicate(timeout=120)[0]
    status, message, elapsed, test = results(tmp_path)["Killed During A Wait"]
    print(f"killed cloud: test failed after {elapsed:.1f}s")
    assert status == "FAIL", console
    assert "could not connect to the cloud (connection refused)" in message, message
    assert re.search(r"GET /servers/[0-9a-f-]{36} of the compute API", message), message
    assert elapsed < 20, elapsed
    assert "Cleanup was incomplete" in teardown_message(test)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_stopping_robot_on_a_frozen_cloud_ends_promptly_and_tries_the_cleanup(
    standalone, tmp_path, stop
):
    proc, env = standalone
    marker = tmp_path / "waiting"
    suite = write_suite(
        tmp_path,
        f"""\
        *** Test Cases ***
        Stopped While Waiting
            ${{server}} =    Create Server
            {FREEZE}
            Create File    {marker}
            Wait Until Servers Are Active    ${{server}}    timeout=10 min
        """,
        "api_timeout=120s",
    )
    run = robot(tmp_path, suite, env, "--variable", f"FAKE_PID:{proc.pid}", "-v", "SIGNAL:SIGSTOP")
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), run.communicate(timeout=10)[0]
    time.sleep(1.5)  # well inside the stuck GET now
    asked = time.monotonic()
    run.send_signal(stop)
    console = run.communicate(timeout=120)[0]
    took = time.monotonic() - asked
    print(f"{signal.Signals(stop).name} on a frozen cloud: robot ended {took:.1f}s later")
    assert took < 5, console  # pabot's --processtimeout kills 5 s after its SIGTERM
    status, message, _, test = results(tmp_path)["Stopped While Waiting"]
    assert status == "FAIL" and "Execution terminated by signal" in message, message
    assert "Cleanup was incomplete" in teardown_message(test), teardown_message(test)
    assert "Traceback" not in console, console


def keyword_named(test, name: str):
    return next(item for item in test.body if getattr(item, "name", "") == name)


@pytest.mark.parametrize("standalone", [("--duration", "running=3000")], indirect=True)
def test_frozen_cloud_fails_a_drain_within_its_move_timeout(standalone, tmp_path):
    """The drain's polling loop bounds each call by what is left of its moves' timeout (not
    the 30 s api_timeout), and fails saying the cloud stopped answering, naming the call."""
    proc, env = standalone
    suite = write_suite(
        tmp_path,
        """\
        *** Test Cases ***
        Frozen During A Drain
            ${server} =    Create Server
            Wait Until Servers Are Active    ${server}
            ${host} =    Get Server Host    ${server}
            Evaluate    threading.Timer(2, os.kill, (${FAKE_PID}, signal.SIGSTOP)).start()
            ...    modules=os,signal,threading
            Live Migrate All Servers Off Host    ${host}
        """,
        "api_timeout=30s    migration_timeout=6s",
    )
    run = robot(tmp_path, suite, env, "--variable", f"FAKE_PID:{proc.pid}")
    console = run.communicate(timeout=120)[0]
    status, message, _, test = results(tmp_path)["Frozen During A Drain"]
    drain = keyword_named(test, "Live Migrate All Servers Off Host")
    took = drain.elapsed_time.total_seconds()
    print(f"frozen cloud: the drain failed after {took:.1f}s")
    assert status == "FAIL", console
    assert "did not end within 6 seconds each" in message, message
    assert "the cloud stopped answering" in message and "did not answer within" in message
    assert "of the compute API" in message, message  # names the call
    # frozen 2 s into the drain, whose move may take 6 s: not the 30 s api_timeout
    assert took < 2 + 6 + 1 + 3, took
