"""Stopping and starting a real cloud's nova-compute through `compute_process_command`."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time

import pytest
from robot.api import SkipExecution
from robot.api.types import Secret

from LiveMigLibrary import LiveMigLibrary
from LiveMigLibrary import compute_process as cp
from LiveMigLibrary.compute_process import ComputeProcessCommand, ComputeProcessCommandFailed
from LiveMigLibrary.errors import CheckFailed, InvalidArgument, NotConfigured

# A stand-in for `ssh {host} sudo systemctl {action} nova-compute`: records its argv.
RECORDER = "import json, sys; open(sys.argv[1], 'a').write(json.dumps(sys.argv[2:]) + '\\n')"


def recorder_template(tmp_path) -> tuple[str, object]:
    record = tmp_path / "calls.jsonl"
    argv = [sys.executable, "-c", RECORDER, str(record)]
    return shlex.join(argv) + " --do {action} --on={host}", record


def calls(record) -> list[list[str]]:
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines()]


@pytest.fixture
def logged(monkeypatch):
    messages: list[str] = []
    monkeypatch.setattr(
        "LiveMigLibrary.keywords.processes.logger.info", lambda m, *a, **k: messages.append(m)
    )
    return messages


@pytest.mark.parametrize(
    "template, why",
    [
        ("", "a command line with {action}"),
        ("systemctl {action} nova-compute", "{host} is missing"),
        ("ssh {host} sudo systemctl restart nova-compute", "{action} is missing"),
        ("ssh {host} systemctl {action} {service}", "{service} is not a placeholder"),
        ("ssh {host} 'systemctl {action}", "No closing quotation"),
        ("ssh {host} systemctl {action} {", "literal brace"),
    ],
)
def test_a_bad_template_fails_at_import_naming_the_argument(template, why):
    with pytest.raises(InvalidArgument, match="compute_process_command") as error:
        ComputeProcessCommand.parse(template or " ")
    assert why in str(error.value)


def test_the_import_argument_is_checked_and_refused_for_the_embedded_fake():
    with pytest.raises(InvalidArgument, match=r"compute_process_command.*\{host\} is missing"):
        LiveMigLibrary(cloud="unit-test-cloud", compute_process_command="systemctl {action} x")
    with pytest.raises(InvalidArgument, match="embedded fake cloud"):
        LiveMigLibrary(compute_process_command="ssh {host} systemctl {action} n-cpu")
    LiveMigLibrary(compute_process_command="")  # empty: not configured, also for the fake


def test_the_template_becomes_an_argument_list_a_host_never_becomes_shell_syntax():
    command = ComputeProcessCommand.parse("ssh -o 'BatchMode yes' {host} systemctl {action} n-cpu")
    assert command.render("stop", "a;rm -rf /") == [
        "ssh",
        "-o",
        "BatchMode yes",
        "a;rm -rf /",
        "systemctl",
        "stop",
        "n-cpu",
    ]
    with pytest.raises(InvalidArgument, match="'action'"):
        command.render("restart", "compute1")


def test_without_the_argument_the_keywords_say_what_to_configure_and_tests_skip(lib, stub):
    with pytest.raises(NotConfigured, match="compute_process_command=") as error:
        lib.stop_compute_service_process("compute1")
    assert "Stop Compute Service Process" in str(error.value)
    assert "{action}" in str(error.value) and "{host}" in str(error.value)
    with pytest.raises(SkipExecution, match="compute_process_command import argument"):
        lib.require_compute_process_control()
    assert lib._ctx.tracker.stopped_computes == []


def test_stop_and_start_run_the_command_and_log_it(tmp_path, stub, logged):
    template, record = recorder_template(tmp_path)
    library = LiveMigLibrary(cloud="unit-test-cloud", compute_process_command=template)
    library._ctx._admin = stub
    library.require_compute_process_control()  # configured: no skip
    library.stop_compute_service_process("compute1")
    assert library._ctx.tracker.stopped_computes == ["compute1"]
    library.start_compute_service_process("compute1")
    assert library._ctx.tracker.stopped_computes == []
    assert calls(record) == [["--do", "stop", "--on=compute1"], ["--do", "start", "--on=compute1"]]
    text = "\n".join(logged)
    assert "--do stop --on=compute1" in text and "exited with status 0" in text
    with pytest.raises(Exception, match="a compute host of this cloud: compute1, compute2"):
        library.stop_compute_service_process("compute9")  # checked before anything runs
    assert len(calls(record)) == 2


def test_a_host_another_test_reserved_is_not_stopped(tmp_path, stub, monkeypatch):
    template, record = recorder_template(tmp_path)
    library = LiveMigLibrary(cloud="unit-test-cloud", compute_process_command=template)
    library._ctx._admin = stub
    monkeypatch.setattr(library, "_hosts_reserved_by_others", lambda hosts: set(hosts))
    with pytest.raises(CheckFailed, match="reserved by another test"):
        library.stop_compute_service_process("compute1")
    assert calls(record) == []


def test_a_failing_command_fails_with_its_status_and_output(stub):
    script = "import sys; print('ssh: connect to host', sys.argv[2], 'refused', file=sys.stderr)"
    template = shlex.join([sys.executable, "-c", script + "; sys.exit(255)"]) + " {action} {host}"
    library = LiveMigLibrary(cloud="unit-test-cloud", compute_process_command=template)
    library._ctx._admin = stub
    with pytest.raises(ComputeProcessCommandFailed) as error:
        library.stop_compute_service_process("compute2")
    message = str(error.value)
    assert "Could not stop nova-compute on compute2" in message
    assert "exited with status 255" in message
    assert "ssh: connect to host compute2 refused" in message
    assert library._ctx.tracker.stopped_computes == []


def test_a_command_that_hangs_is_killed_with_its_children_at_the_timeout(tmp_path):
    pidfile = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pidfile)!r}, 'w').write(str(child.pid)); time.sleep(60)"
    )
    command = ComputeProcessCommand.parse(
        shlex.join([sys.executable, "-c", script]) + " {action} {host}"
    )
    with pytest.raises(ComputeProcessCommandFailed, match="did not finish within 1 seconds"):
        command.run("stop", "compute1", timeout=1)
    child = int(pidfile.read_text())
    for _ in range(50):  # the whole process group was killed, the grandchild too
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the command's child {child} still runs")


def test_a_missing_program_fails_naming_the_argument():
    command = ComputeProcessCommand.parse("/nonexistent/ssh-xyz {host} {action}")
    with pytest.raises(ComputeProcessCommandFailed, match="compute_process_command import arg"):
        command.run("start", "compute1", timeout=5)


def test_a_secret_command_and_its_output_stay_out_of_the_log(tmp_path, stub, logged):
    script = "import sys; print('token=s3cr3t'); sys.exit(int(sys.argv[1] == 'start'))"
    template = shlex.join([sys.executable, "-c", script]) + " {action} {host} --password=hunter2"
    library = LiveMigLibrary(cloud="unit-test-cloud", compute_process_command=Secret(template))
    library._ctx._admin = stub
    library.stop_compute_service_process("compute1")
    with pytest.raises(ComputeProcessCommandFailed) as error:
        library.start_compute_service_process("compute1")
    shown = "\n".join(logged) + str(error.value)
    assert "hunter2" not in shown and "s3cr3t" not in shown
    assert "a Secret, not shown" in shown
    with pytest.raises(InvalidArgument) as error:
        LiveMigLibrary(cloud="unit-test-cloud", compute_process_command=Secret("x --pw=hunter2"))
    assert "hunter2" not in str(error.value)


def test_cleanup_and_host_release_start_the_computes_a_test_stopped(tmp_path, stub):
    template, record = recorder_template(tmp_path)
    library = LiveMigLibrary(cloud="unit-test-cloud", compute_process_command=template)
    library._ctx._admin = stub
    library.stop_compute_service_process("compute1")
    library.stop_compute_service_process("compute2")
    owner = library._ctx.host_owner("Suite", "Test")
    library._ctx.hosts.owners[owner] = ["compute2"]
    library._release_hosts(owner)  # the test's reserved host gets its compute back first
    assert calls(record)[-1] == ["--do", "start", "--on=compute2"]
    assert library._ctx.tracker.stopped_computes == ["compute1"]
    assert library._cleanup() == []  # the suite's clean-up starts the rest
    assert calls(record)[-1] == ["--do", "start", "--on=compute1"]
    assert library._ctx.tracker.stopped_computes == []


def test_output_in_the_log_is_cut_to_its_end():
    result = cp.RunResult(["x"], 0, "a" * 10 + "b" * cp.OUTPUT_LOGGED, "", 0.1)
    text = result.output_text(secret=False)
    assert text.endswith("b" * 10) and "stdout:\n..." in text and "a" not in text
