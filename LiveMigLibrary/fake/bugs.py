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
    "1797580": "A cold migration to a named host (2.56) persists that host as the request "
    "spec's requested_destination: a later live migration without a host can only go "
    "where the server already is, and fails with NoValidHost. "
    "(nova/tests/functional/regressions/test_bug_1797580.py)",
    "1669054": "A resize persists the request spec's ignore_hosts (the source host): a later "
    "evacuation ignores that host too, and with two computes finds no valid host. "
    "(nova/tests/functional/regressions/test_bug_1669054.py)",
    "1713783": "An evacuation that finds no valid host leaves its migration 'accepted' "
    "instead of 'error'; when the source compute restarts it takes the server for "
    "evacuated and deletes its guest and allocation. "
    "(nova/tests/functional/regressions/test_bug_1713783.py)",
    "1718512": "A resize rescheduled away from a host whose prep_resize failed persists "
    "that host in the request spec's retry: a later move to that host is refused "
    "(RetryFilter). (nova/tests/functional/regressions/test_bug_1718512.py)",
    "1825537": "A finish_resize failure reverts the allocations to the source host while "
    "the server already lives on the destination: the destination's usage loses the "
    "server. (nova/tests/functional/regressions/test_bug_1825537.py)",
    "1922053": "Lifting a compute service's forced_down flag is accepted while evacuations "
    "from its host are still 'done' (its compute never restarted and cleaned up). "
    "(nova/tests/functional/regressions/test_bug_1922053.py)",
    "1938326": "A cold migration or resize from a host whose compute service is disabled "
    "and down is accepted (fixed Nova: 409 'Service is unavailable at this time.' for any "
    "down source); the move then waits for a source compute that never answers. "
    "(nova/tests/functional/regressions/test_bug_1938326.py)",
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
