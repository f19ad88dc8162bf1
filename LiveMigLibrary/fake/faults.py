"""Fault rules: failures the fake injects where real clouds fail.

A rule names a *point* (where it can fire), a *kind* (what happens), and what
it matches (server name glob, host, how many times). Services ask
``faults.match(point, ...)`` at each point; a matching rule fires, is counted
and logged, and is dropped once its count is used up.

Points and kinds (see docs/fake-cloud.md for what each does to the model):

- ``build``: ``error``, ``slow``, ``host_down`` (the compute dies as it spawns)
- ``conductor``: ``no_valid_host``, ``unreachable`` (the destination check times out),
  ``source_check_error`` (check_can_live_migrate_source fails)
- ``pre_live_migration``: ``error``
- ``live_migration``: ``error``, ``hang``, ``slow``, ``source_down``,
  ``destination_down`` (that compute dies as the copy starts)
- ``api``: ``status`` (any OpenStack HTTP request; ``path`` glob, ``method``)
- ``prep_resize``, ``finish_resize``, ``rebuild`` (evacuation): ``error`` on the destination
- ``resize_instance``: ``error`` on the source (its disk copy and power-off fail)
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import dataclass, field

from .exception import MigrationPreCheckError, NoValidHost

POINTS = {
    "build": ("error", "slow", "host_down"),
    "conductor": ("no_valid_host", "unreachable", "source_check_error"),
    "pre_live_migration": ("error",),
    "live_migration": ("error", "hang", "slow", "source_down", "destination_down"),
    "api": ("status",),
    # cold migration / resize / evacuation: the compute step fails
    "prep_resize": ("error",),  # on the destination (host: destination)
    "resize_instance": ("error",),  # on the source (host: source)
    "finish_resize": ("error",),  # on the destination (host: destination)
    "rebuild": ("error",),  # evacuation, on the destination (host: destination)
}


@dataclass(slots=True)
class FaultRule:
    id: int
    point: str
    kind: str
    server: str | None = None  # glob on the server name
    host: str | None = None  # host the operation runs on / comes from
    count: int | None = None  # fire this many times, then drop (None: forever)
    seconds: float = 0.0  # extra time for "slow"
    message: str | None = None
    status: int = 500  # for point "api"
    path: str | None = None  # for point "api": glob on the request path
    method: str | None = None  # for point "api"
    skip: int = 0  # let this many matching operations pass first
    fired: int = 0
    log: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "id",
                "point",
                "kind",
                "server",
                "host",
                "count",
                "seconds",
                "message",
                "status",
                "path",
                "method",
                "skip",
                "fired",
            )
        }

    def exception(self, host: str):
        if self.kind == "unreachable":
            return MigrationPreCheckError(
                reason=self.message
                or f"Timeout while checking if we can live migrate to host: {host}"
            )
        return NoValidHost(reason=self.message or "There are not enough hosts available.")


class Faults:
    def __init__(self, clock=None, store=None):
        self.rules: dict[int, FaultRule] = {}
        self._ids = itertools.count(1)
        self.clock = clock
        self.store = store  # to name the server of a migration
        self.fired: list[dict] = []

    def add(self, point: str, kind: str, **match) -> FaultRule:
        if point not in POINTS:
            raise ValueError(
                f"unknown fault point {point!r}; points are: {', '.join(sorted(POINTS))}"
            )
        if kind not in POINTS[point]:
            raise ValueError(
                f"fault point {point!r} has no kind {kind!r}; kinds are: {', '.join(POINTS[point])}"
            )
        count = match.get("count")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError(f"count must be a positive whole number or None, got {count!r}")
        rule = FaultRule(id=next(self._ids), point=point, kind=kind, **match)
        self.rules[rule.id] = rule
        return rule

    def remove(self, rule_id: int) -> None:
        if self.rules.pop(int(rule_id), None) is None:
            raise KeyError(rule_id)

    def clear(self) -> None:
        self.rules.clear()
        self.fired.clear()

    def match(
        self,
        point: str,
        *,
        instance=None,
        migration=None,
        host: str | None = None,
        path: str | None = None,
        method: str | None = None,
        kinds: tuple[str, ...] | None = None,
    ) -> FaultRule | None:
        if not self.rules:
            return None
        name = instance.name if instance is not None else None
        if name is None and migration is not None and self.store is not None:
            inst = self.store.instances.get(migration.instance_uuid)
            name = inst.name if inst is not None else None
        for rule in list(self.rules.values()):
            if rule.point != point or (kinds is not None and rule.kind not in kinds):
                continue
            if rule.server and not (name and fnmatch.fnmatchcase(name, rule.server)):
                continue
            if rule.host and rule.host != host:
                continue
            if rule.path and not (path and fnmatch.fnmatchcase(path, rule.path)):
                continue
            if rule.method and (method or "").upper() != rule.method.upper():
                continue
            if rule.skip > 0:
                rule.skip -= 1
                continue
            rule.fired += 1
            entry = {
                "rule": rule.id,
                "point": point,
                "kind": rule.kind,
                "server": name,
                "host": host,
                "path": path,
                "method": method,
                "status": rule.status if point == "api" else None,
                "at": self.clock.now() if self.clock else None,
            }
            self.fired.append(entry)
            if rule.count is not None and rule.fired >= rule.count:
                del self.rules[rule.id]
            return rule
        return None
