"""Exceptions raised by LiveMigLibrary.

All of them set ``ROBOT_SUPPRESS_NAME`` so Robot Framework shows only the message, which is
written as a sentence: subject, what was observed, what was expected.
"""

from __future__ import annotations


class LiveMigError(Exception):
    """Base class of every failure raised by the library."""

    ROBOT_SUPPRESS_NAME = True


class InvalidArgument(LiveMigError, ValueError):
    """A keyword or import argument is wrong; raised before any cloud call."""

    def __init__(self, argument: str, value: object, allowed: str):
        self.argument = argument
        self.value = value
        self.allowed = allowed
        super().__init__(f"Argument '{argument}' got {value!r}; allowed: {allowed}.")


class NotConfigured(LiveMigError):
    """The library was not set up for what a keyword needs (e.g. no member cloud)."""


class CloudError(LiveMigError):
    """The cloud answered a call with an error the keyword did not expect."""

    def __init__(self, action: str, status: int | None, message: str, call: str | None = None):
        self.action = action
        self.status = status
        self.cloud_message = message
        self.call = call
        code = f"HTTP {status}" if status else "an error"
        where = f" ({call})" if call else ""
        super().__init__(f"Cloud refused to {action}{where}: {code}: {message}")


class WaitTimeout(LiveMigError):
    """A wait did not reach its goal in time."""


class UnexpectedState(LiveMigError):
    """A wait stopped early because the subject reached a state that cannot lead to the goal."""


class CheckFailed(LiveMigError, AssertionError):
    """An assertion keyword found something else than expected."""


class FakeCloudRequired(LiveMigError):
    """A fake-cloud control keyword was used against a real cloud."""
