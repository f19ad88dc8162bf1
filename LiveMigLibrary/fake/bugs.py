"""Emulated historical Nova bugs, switched on per cloud.

Each is a flag read at the place in the model where Nova had the bug; the
behaviour that follows comes from the model's state, not from a canned answer.
"""

from __future__ import annotations

KNOWN_BUGS = {
    "1718455": "After a multi-create the stored request spec keeps num_instances > 1 and "
    "the scheduler checks a live migration's host count against it: "
    "NoValidHost. (nova/tests/functional/regressions/test_bug_1718455.py)",
    "1848343": "Deleting a server during its live migration leaks the migration "
    "consumer's allocation on the source host. "
    "(nova/tests/functional/regressions/test_bug_1848343.py)",
    "1712045": "A successful live migration leaves the source allocation behind: the "
    "migration consumer keeps holding the source host, whose usage stays "
    "doubled. (fixed by nova commit 72728ed01f)",
    "1715182": "Rolling back a live migration (pre_live_migration failure, driver failure, "
    "abort) leaves the destination allocation: the server holds both hosts. "
    "(fixed by nova commit f90c61cd88)",
    "1712411": "When check_can_live_migrate_destination fails after the scheduler claimed "
    "the destination, the claim is not removed: the server holds both hosts. "
    "(fixed by nova commit 94b904abba)",
    "2044235": "An error in check_can_live_migrate_source is treated as unexpected by the "
    "conductor: the server goes to ERROR instead of staying ACTIVE. "
    "(nova/tests/functional/regressions/test_bug_2044235.py)",
    "1949808": "Aborting a queued live migration marks it cancelled but leaves the server "
    "MIGRATING and the migration consumer's allocation in place (with 1960412). "
    "(fixed by nova commit 219520d9ce)",
    "completed-on-source": "The migration record reaches 'completed' while the server "
    "stays on the source host (a false positive for any test "
    "that checks the record alone).",
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
            raise ValueError(
                f"unknown emulated bug(s) {', '.join(unknown)}; known: {', '.join(KNOWN_BUGS)}"
            )
        self.enabled = set(enabled)

    def active(self, bug: str) -> bool:
        return bug in self.enabled
