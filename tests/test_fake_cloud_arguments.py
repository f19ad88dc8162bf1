"""Misusing the fake cloud fails at once, naming the argument, the value and what is allowed."""

from __future__ import annotations

import pytest

from LiveMigLibrary.fake import FakeCloud
from LiveMigLibrary.fake.cli import main


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"clock": "bogus"}, "clock must be one of manual, scaled, real, got 'bogus'"),
        ({"clock": "scaled", "speed": 0}, "speed must be a positive number, got 0"),
        ({"computes": -1}, "computes must be a whole number of hosts (0 or more), got -1"),
        ({"port": 70000}, "port must be 0 (any free port) or 1-65535, got 70000"),
        ({"durations": {"buld": 1}}, "unknown phase 'buld'; phases are: abort, action, build"),
        (
            {"durations": {"build": -1}},
            "duration of 'build' must be a finite number of seconds from 0 to 31536000, got -1",
        ),
        ({"emulate_bugs": ["42"]}, "unknown emulated bug(s) 42; known: 1718455"),
    ],
)
def test_bad_constructor_argument(kwargs, message):
    with pytest.raises(ValueError) as error:
        FakeCloud(**kwargs)
    assert message in str(error.value)


def test_control_api_refuses_bad_hosts_and_faults():
    cloud = FakeCloud(computes=1)
    with pytest.raises(ValueError, match="vcpus must be a positive whole number, got 0"):
        cloud.control.add_host("h", vcpus=0)
    with pytest.raises(ValueError, match="a compute host named 'compute1' already exists"):
        cloud.control.add_host("compute1")
    with pytest.raises(ValueError, match="no compute host named 'nope'; hosts are: compute1"):
        cloud.control.remove_host("nope")
    with pytest.raises(ValueError, match="fault point 'build' has no kind 'hang'; kinds are"):
        cloud.control.add_fault("build", "hang")
    with pytest.raises(ValueError, match="only a manual clock can be advanced"):
        FakeCloud(clock="scaled").control.advance(1)


def test_cli_reports_a_bad_option_and_exits_2(capsys):
    assert main(["--computes", "-3"]) == 2
    assert "computes must be a whole number of hosts (0 or more), got -3" in capsys.readouterr().err
