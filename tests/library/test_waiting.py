import pytest

from LiveMigLibrary import waiting
from LiveMigLibrary.clock import FakeCloudClock
from LiveMigLibrary.errors import UnexpectedState, WaitTimeout
from LiveMigLibrary.waiting import Waiter


class ManualClock:
    def __init__(self):
        self.time = 0.0
        self.sleeps = []

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.time += seconds


@pytest.fixture
def logged(monkeypatch):
    lines = []
    monkeypatch.setattr(waiting.logger, "info", lines.append)
    return lines


def test_logs_one_line_per_state_change_not_per_poll(logged):
    states = iter(["BUILD", "BUILD", "BUILD", "ACTIVE"])
    clock = ManualClock()
    result = Waiter(clock, "Server a", "ACTIVE", 60, 2).wait(
        lambda: next(states), lambda s: s == "ACTIVE", str
    )
    assert result == "ACTIVE"
    assert len(logged) == 2
    assert "BUILD" in logged[0] and "ACTIVE" in logged[1]
    assert clock.sleeps == [2, 2, 2]


def test_times_out_with_subject_observed_and_goal(logged):
    clock = ManualClock()
    with pytest.raises(WaitTimeout) as error:
        Waiter(clock, "Server a", "ACTIVE", 5, 2).wait(lambda: "BUILD", lambda s: False, str)
    assert str(error.value) == "Server a is BUILD, expected ACTIVE within 5 seconds."
    assert sum(clock.sleeps) == pytest.approx(5)


def test_check_fails_fast(logged):
    clock = ManualClock()

    def check(state):
        if state == "ERROR":
            raise UnexpectedState("went to ERROR")

    with pytest.raises(UnexpectedState):
        Waiter(clock, "s", "ACTIVE", 600, 2).wait(lambda: "ERROR", lambda s: False, str, check)
    assert clock.sleeps == []


def test_fake_cloud_clock_advances_instead_of_sleeping():
    class Control:
        def __init__(self):
            self.t = 10.0

        def now(self):
            return self.t

        def advance(self, seconds):
            self.t += seconds
            return self.t

    control = Control()
    clock = FakeCloudClock(control)
    clock.sleep(3)
    assert clock.now() == 13.0
