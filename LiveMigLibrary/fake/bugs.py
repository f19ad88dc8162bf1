"""Emulated historical Nova bugs, switched on per cloud.

Each is a flag read at the place in the model where Nova had the bug; the
behaviour that follows comes from the model's state, not from a canned answer.
"""

from __future__ import annotations

KNOWN_BUGS = {
    "1718455": "After a multi-create the stored request spec keeps num_instances > 1 and "
               "the scheduler checks a live migration's host count against it: "
               "NoValidHost.",
    "1848343": "Deleting a server during its live migration leaks the migration "
               "consumer's allocation on the source host.",
    "migration-allocation-leak": "The migration consumer's allocation on the source is not "
                                 "released after a successful live migration.",
    "completed-on-source": "The migration record reaches 'completed' while the server "
                           "stays on the source host.",
    "queued-stuck-after-abort": "A queued live migration never leaves 'queued' when "
                                "another one on the same host is aborted.",
}


class Bugs:
    def __init__(self, enabled=()):
        self.enabled: set[str] = set()
        self.set(enabled)

    def set(self, enabled) -> None:
        if isinstance(enabled, str):
            enabled = [b for b in enabled.replace(",", " ").split() if b]
        enabled = [str(b) for b in enabled]
        unknown = [b for b in enabled if b not in KNOWN_BUGS]
        if unknown:
            raise ValueError(f"unknown emulated bug(s) {', '.join(unknown)}; known: "
                             f"{', '.join(KNOWN_BUGS)}")
        self.enabled = set(enabled)

    def active(self, bug: str) -> bool:
        return bug in self.enabled
