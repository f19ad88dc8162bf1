"""Exceptions raised by LiveMigLibrary.

All of them set ``ROBOT_SUPPRESS_NAME`` so Robot Framework shows only the message, which is
written as a sentence: subject, what was observed, what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable


class LiveMigError(Exception):
    """Base class of every failure raised by the library."""

    ROBOT_SUPPRESS_NAME = True


class InvalidArgument(LiveMigError, ValueError):
    """A keyword or import argument is wrong; raised before any cloud call."""

    def __init__(self, argument: str, value: object, allowed: str, choices: Iterable[str] = ()):
        self.argument = argument
        self.value = value
        self.allowed = allowed
        self.closest = closest(value, choices)
        guess = f" Did you mean '{self.closest}'?" if self.closest else ""
        super().__init__(f"Argument '{argument}' got {value!r}; allowed: {allowed}.{guess}")


def closest(value: object, choices: Iterable[str]) -> str | None:
    """The choice `value` most likely misspells (case ignored), or None: none is close, or
    several are as close (`compute9` is no more `compute3` than `compute1`)."""
    choices = [str(c) for c in choices]
    if not choices or value is None:
        return None
    import difflib  # only when a wrong value has to be explained

    by_lower = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(str(value).lower(), list(by_lower), n=2, cutoff=0.75)
    if not found:
        return None
    ratios = [difflib.SequenceMatcher(None, str(value).lower(), f).ratio() for f in found]
    if len(ratios) > 1 and ratios[0] == ratios[1]:
        return None
    return by_lower[found[0]]


class NotConfigured(LiveMigError):
    """The library was not set up for what a keyword needs (e.g. no member cloud)."""


class CloudError(LiveMigError):
    """The cloud answered a call with an error the keyword did not expect.

    The message says what failed, the cloud's answer in its own words, and what to do:
    ``Could not live-migrate server X to compute2 (POST /compute/v2.1/servers/X/action):
    the cloud answered HTTP 409: Cannot 'os-migrateLive' instance X while it is in
    task_state migrating. The server is busy: ...``. ``explanation`` (facts gathered from
    the cloud afterwards, see `diagnosis.py`) may be appended with `with_explanation`.
    """

    def __init__(
        self,
        action: str,
        status: int | None,
        message: str,
        call: str | None = None,
        hint: str | None = None,
    ):
        self.action = action
        self.status = status
        self.cloud_message = message
        self.call = call
        self.hint = hint if hint is not None else hint_for(status, action, message)
        self.explanation = ""
        super().__init__(self._text())

    def _text(self, hint: bool = True) -> str:
        where = f" ({self.call})" if self.call else ""
        answer = f"the cloud answered HTTP {self.status}" if self.status else "the client reported"
        message = (self.cloud_message or "").strip() or "-"
        if not message.endswith((".", "!", "?", "-")):
            message += "."
        parts = [f"Could not {self.action}{where}: {answer}: {message}"]
        if self.explanation:
            parts.append(self.explanation)
        if self.hint and hint:
            parts.append(self.hint)
        return " ".join(parts)

    def without_hint(self) -> str:
        """The message without what to do, for a list of failures that says it once."""
        return self._text(hint=False)

    def naming_server(self, server_id: str, name: str | None) -> CloudError:
        """Names the server `name (id)` where the failed action gives only its id."""
        if name:
            self.naming(f"server {server_id}", f"server {name} ({server_id})")
        return self

    def naming(self, said: str, as_the_user_knows_it: str) -> CloudError:
        """Says what the failed action names by id as the user named it (once)."""
        if said in self.action:
            self.action = self.action.replace(said, as_the_user_knows_it, 1)
            self.args = (self._text(),)
        return self

    def with_explanation(self, explanation: str) -> CloudError:
        """Adds facts read from the cloud that explain the failure (see `diagnosis.py`)."""
        self.explanation = explanation
        self.args = (self._text(),)
        return self


# What to do about an answer, by HTTP status (the cloud's message says what was wrong).
HINTS = {
    400: "The cloud refused the request: fix what its message points to.",
    401: "Check the credentials of this cloud in clouds.yaml (or the `password` import argument).",
    403: "The user lacks the permission: use a cloud entry of an admin user (`cloud=`, or "
    "Use Admin User after Use Member User).",
    404: "It does not exist (any more) in this cloud, or the current user cannot see it (a "
    "member user does not see other projects' servers): check the name or id, and which "
    "user makes the call (Use Admin User, Use Member User).",
    409: "The server is busy or in a state that does not allow this (see its status and "
    "task_state): let a running task end first (Wait Until Servers Are Active), or bring the "
    "server into a state the request allows.",
    500: "The cloud failed internally: look for the request in its logs (e.g. nova-api).",
    502: "A proxy in front of the cloud failed: try again later or ask the cloud's operators.",
    503: "The service is unavailable: try again later or ask the cloud's operators.",
    504: "A proxy in front of the cloud timed out: try again later or ask the cloud's operators.",
}

# The keyword that expects a refusal of a move, by the start of the failed action's text.
EXPECT_REFUSAL = (
    ("live-migrate ", "Live Migration Of Server Should Be Refused"),
    ("cold-migrate ", "Move Of Server Should Be Refused"),
    ("resize ", "Move Of Server Should Be Refused"),
    ("evacuate ", "Move Of Server Should Be Refused"),
    ("confirm ", "Move Of Server Should Be Refused"),
    ("revert ", "Move Of Server Should Be Refused"),
)


QUOTA_HINT = (
    "The project's quota is used up: delete servers it no longer needs (Delete Created "
    "Resources deletes this run's), or ask for a bigger quota (openstack quota set)."
)


# Nova refuses these for a migration in another status (400 or 409)
MIGRATION_STATE_HINT = (
    "Nova force-completes a live migration only while it is `running`, and aborts it only "
    "while it is `queued`, `preparing` or `running` (compute API 2.65+; `running` before): "
    "wait for that status first (Wait Until Migration Of Server Is)."
)


def hint_for(status: int | None, action: str, message: str = "") -> str:
    """What to do about `status`; for a refused move, also the keyword expecting it."""
    if status == 403 and "quota exceeded" in (message or "").lower():  # Nova's OverQuota
        return QUOTA_HINT
    if status in (400, 409) and action.startswith(("abort migration", "force-complete migration")):
        return MIGRATION_STATE_HINT
    hint = HINTS.get(status or 0, "")
    if status in (400, 403, 409):
        expect = next((kw for start, kw in EXPECT_REFUSAL if action.startswith(start)), None)
        if expect:
            hint += f" When the refusal is what the test wants, expect it with {expect}."
    return hint


class CloudNotAnswering(CloudError):
    """A call got no answer: it timed out or could not connect (a stopped, overloaded or
    unreachable cloud)."""

    def __init__(self, action: str, call: str, seconds: str | None, why: str):
        self.seconds = seconds
        self.why = why
        super().__init__(action, None, why, call, hint="")

    @property
    def wait_ran_out(self) -> bool:
        """Whether the call was cut short by the timeout of the wait making it."""
        from .deadline import WAIT_LEFT

        return self.why == WAIT_LEFT

    def _text(self) -> str:
        if self.seconds is None:
            answer = f"could not connect to the cloud ({self.why})"
            advice = "Is it running and reachable at the auth_url of clouds.yaml?"
        elif self.seconds == "0":  # never sent
            why = "no time was left of the wait's timeout" if self.wait_ran_out else self.why
            answer = f"the cloud was not asked: {why}"
            advice = "Is it running? A stopped, hung or unreachable cloud answers nothing."
        else:
            answer = f"the cloud did not answer within {self.seconds} seconds ({self.why})"
            advice = (
                "Is it running? A stopped, hung or unreachable cloud answers nothing; if it "
                "is only slow, raise the api_timeout import argument."
            )
        return f"Could not {self.action} ({self.call}): {answer}. {advice}"


class WaitTimeout(LiveMigError):
    """A wait did not reach its goal in time."""


class UnexpectedState(LiveMigError):
    """A wait stopped early because the subject reached a state that cannot lead to the goal."""


class CheckFailed(LiveMigError, AssertionError):
    """An assertion keyword found something else than expected."""


class FakeCloudRequired(LiveMigError):
    """A fake-cloud control keyword was used against a real cloud."""


class UnknownImportArgument(InvalidArgument):
    """The library was imported with an argument name it does not have (e.g. a typo)."""

    def __init__(self, argument: str, value: object, valid: list[str], closest: str | None):
        super().__init__(argument, value, ", ".join(valid))
        guess = f" Did you mean '{closest}'?" if closest else ""
        self.args = (
            f"LiveMigLibrary has no import argument '{argument}' (got {argument}={value}).{guess} "
            f"Its import arguments are: {', '.join(valid)}.",
        )


class UnknownCloud(InvalidArgument):
    """A cloud name is not defined in the clouds.yaml openstacksdk reads."""

    def __init__(self, argument: str, value: str, message: str):
        super().__init__(argument, value, "a cloud defined in clouds.yaml")
        self.args = (message,)


class LibraryImportFailed(LiveMigError):
    """Raised by every keyword of a library instance whose import arguments were wrong."""


class AmbiguousName(InvalidArgument):
    """Several resources of the cloud have the name given; only an id says which one."""

    def __init__(self, argument: str, value: str, kind: str, ids: list[str]):
        super().__init__(argument, value, f"the id of one of the {kind}s named {value!r}")
        self.ids = ids
        listed = ", ".join(ids) if ids else "ids not listed"
        self.args = (
            f"Argument '{argument}' got {value!r}, but {len(ids) or 'several'} {kind}s have "
            f"that name: {listed}. Pass one of these ids as `{argument}` instead of the name.",
        )


class BatchFailed(LiveMigError):
    """Some calls of a batch keyword failed; the message names each with its reason."""

    def __init__(self, what: str, failures: list[str], total: int, advice: str = ""):
        self.failures = failures
        listed = "; ".join(f.rstrip(".") for f in failures)
        advice = f" {advice}" if advice else ""
        super().__init__(f"{len(failures)} of {total} {what} failed: {listed}.{advice}")
