"""Placement's data model, kept consistent by construction.

Usages are counters updated on every allocation change, so reading them costs
nothing and the invariant "usage == sum of allocations" holds by design (the
tests check it anyway). A claim that would take any resource class of a
provider over its capacity is refused as a whole, as placement does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..exception import AllocationConflict, ResourceProviderNotFound


@dataclass(slots=True)
class Inventory:
    total: int
    reserved: int = 0
    min_unit: int = 1
    max_unit: int | None = None
    step_size: int = 1
    allocation_ratio: float = 1.0

    @property
    def capacity(self) -> int:
        return int((self.total - self.reserved) * self.allocation_ratio)

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "reserved": self.reserved,
            "min_unit": self.min_unit,
            "max_unit": self.max_unit if self.max_unit is not None else self.total,
            "step_size": self.step_size,
            "allocation_ratio": self.allocation_ratio,
        }


@dataclass(slots=True)
class ResourceProvider:
    uuid: str
    name: str
    generation: int = 0
    inventories: dict[str, Inventory] = field(default_factory=dict)
    usages: dict[str, int] = field(default_factory=dict)
    consumers: set[str] = field(default_factory=set)
    root_provider_uuid: str | None = None

    def free(self, rc: str) -> int:
        inv = self.inventories.get(rc)
        return 0 if inv is None else inv.capacity - self.usages.get(rc, 0)


@dataclass(slots=True)
class Consumer:
    uuid: str
    project_id: str
    user_id: str
    generation: int = 0
    # None: written below 1.38 (as Nova does); shown as placement's alias "unknown"
    consumer_type: str | None = None


# {rp_uuid: {rc: amount}}
Allocation = dict[str, dict[str, int]]


class Placement:
    """All providers and allocations. Callers hold the store lock."""

    def __init__(self):
        self.providers: dict[str, ResourceProvider] = {}
        self.by_name: dict[str, str] = {}
        self.allocations: dict[str, Allocation] = {}
        self.consumers: dict[str, Consumer] = {}

    # -- providers ------------------------------------------------------------

    def create_provider(self, uuid: str, name: str, inventories: dict[str, Inventory]) -> None:
        self.providers[uuid] = ResourceProvider(
            uuid=uuid,
            name=name,
            generation=1,
            inventories=dict(inventories),
            root_provider_uuid=uuid,
        )
        self.by_name[name] = uuid

    def delete_provider(self, uuid: str) -> None:
        rp = self.provider(uuid)
        if rp.consumers:
            from ..exception import Conflict

            raise Conflict(
                f"Unable to delete resource provider {uuid}: Resource provider has allocations."
            )
        del self.providers[uuid]
        self.by_name.pop(rp.name, None)

    def provider(self, uuid: str) -> ResourceProvider:
        try:
            return self.providers[uuid]
        except KeyError:
            raise ResourceProviderNotFound(uuid=uuid) from None

    def provider_by_name(self, name: str) -> ResourceProvider | None:
        uuid = self.by_name.get(name)
        return self.providers.get(uuid) if uuid else None

    # -- allocations ----------------------------------------------------------

    def get(self, consumer: str) -> Allocation:
        """The consumer's allocations; ``{}`` for an unknown consumer (never an error)."""
        return self.allocations.get(consumer, {})

    def fits(self, allocation: Allocation, replacing: str | None = None) -> bool:
        """Whether ``allocation`` fits, counting ``replacing``'s current one as freed."""
        try:
            self._check_capacity(allocation, replacing)
        except AllocationConflict:
            return False
        return True

    def _check_capacity(self, allocation: Allocation, replacing: str | None) -> None:
        old = self.allocations.get(replacing, {}) if replacing else {}
        for rp_uuid, resources in allocation.items():
            rp = self.provider(rp_uuid)
            for rc, amount in resources.items():
                inv = rp.inventories.get(rc)
                if inv is None:
                    raise AllocationConflict(
                        reason=f"Inventory for '{rc}' on resource provider '{rp_uuid}' invalid."
                    )
                freed = old.get(rp_uuid, {}).get(rc, 0)
                if rp.usages.get(rc, 0) - freed + amount > inv.capacity:
                    raise AllocationConflict(
                        reason=f"Unable to allocate inventory for consumer. Unable to "
                        f"allocate {amount} {rc} on resource provider {rp_uuid}. "
                        f"The requested amount would exceed the capacity."
                    )

    def put(
        self,
        consumer: str,
        allocation: Allocation,
        project_id: str,
        user_id: str,
        consumer_type: str | None = None,
    ) -> None:
        """Replace ``consumer``'s allocations (an empty one deletes them)."""
        allocation = {rp: dict(res) for rp, res in allocation.items() if res}
        self._check_capacity(allocation, consumer)
        self._remove(consumer)
        if not allocation:
            self.consumers.pop(consumer, None)
            return
        for rp_uuid, resources in allocation.items():
            rp = self.providers[rp_uuid]
            for rc, amount in resources.items():
                rp.usages[rc] = rp.usages.get(rc, 0) + amount
            rp.consumers.add(consumer)
            rp.generation += 1
        self.allocations[consumer] = allocation
        c = self.consumers.get(consumer)
        if c is None:
            self.consumers[consumer] = Consumer(consumer, project_id, user_id, 1, consumer_type)
        else:
            c.generation += 1

    def delete(self, consumer: str) -> bool:
        existed = consumer in self.allocations
        self._remove(consumer)
        self.consumers.pop(consumer, None)
        return existed

    def move(
        self,
        source: str,
        target: str,
        project_id: str,
        user_id: str,
        consumer_type: str | None = None,
    ) -> Allocation:
        """Give ``source``'s allocations to ``target`` (as Nova's move_allocations)."""
        allocation = self.allocations.get(source, {})
        self.delete(source)
        if allocation:
            self.put(target, allocation, project_id, user_id, consumer_type)
        return allocation

    def _remove(self, consumer: str) -> None:
        old = self.allocations.pop(consumer, None)
        if not old:
            return
        for rp_uuid, resources in old.items():
            rp = self.providers.get(rp_uuid)
            if rp is None:
                continue
            for rc, amount in resources.items():
                rp.usages[rc] = rp.usages.get(rc, 0) - amount
            rp.consumers.discard(consumer)
            rp.generation += 1

    def usages_by_consumer_type(self, project_id: str, wanted: str | None) -> dict[str, dict]:
        """1.38+: usages per consumer type (``all``: one group; ``unknown``: untyped)."""
        groups: dict[str, dict[str, int]] = {}
        for consumer, alloc in self.allocations.items():
            c = self.consumers.get(consumer)
            if c is None or c.project_id != project_id:
                continue
            ctype = c.consumer_type or "unknown"
            if wanted not in (None, "all") and ctype != wanted:
                continue
            group = groups.setdefault("all" if wanted == "all" else ctype, {"consumer_count": 0})
            group["consumer_count"] += 1
            for resources in alloc.values():
                for rc, amount in resources.items():
                    group[rc] = group.get(rc, 0) + amount
        return groups

    def usages_for_project(self, project_id: str) -> dict[str, int]:
        totals: dict[str, int] = {}
        for consumer, alloc in self.allocations.items():
            c = self.consumers.get(consumer)
            if c is None or c.project_id != project_id:
                continue
            for resources in alloc.values():
                for rc, amount in resources.items():
                    totals[rc] = totals.get(rc, 0) + amount
        return totals
