"""nova-scheduler: filter hosts, weigh the rest, claim in placement.

Like Nova's ``SchedulerManager._schedule``: for each instance of the request
the hosts that pass every filter are weighed, the best one is claimed in
placement for that instance, and the next instance sees what is left. If not
every instance of the request got a host, every claim is undone and the
request fails with NoValidHost (``_ensure_sufficient_hosts``): Nova's
multi-create is all-or-nothing with respect to capacity.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import TYPE_CHECKING

from .exception import NoValidHost
from .objects import ComputeNode, RequestSpec
from .store import Store

if TYPE_CHECKING:
    from .bugs import Bugs
    from .computes import ComputeHosts

Filter = Callable[[ComputeNode, RequestSpec], bool]


class Scheduler:
    def __init__(self, store: Store, hosts: ComputeHosts, bugs: Bugs):
        self.store = store
        self.hosts = hosts
        self.bugs = bugs
        # Nova's default enabled_filters that matter for this model, in order.
        # (Disabled services and a requested destination are placement
        # pre-filters: the COMPUTE_STATUS_DISABLED trait and in_tree.)
        self.filters: list[tuple[str, Filter]] = [
            ("AvailabilityZoneFilter", self._availability_zone_filter),
            ("ComputeFilter", self._compute_filter),
            ("IgnoreHostsFilter", self._ignore_hosts_filter),
            ("RetryFilter", self._retry_filter),
        ]

    # -- placement: allocation candidates ---------------------------------------

    def allocation_candidates(self, spec: RequestSpec) -> list[ComputeNode]:
        """Providers with room for one instance, not disabled, in the requested tree."""
        placement = self.store.placement
        resources = spec.flavor.resources()
        if spec.requested_destination:
            node = self.store.nodes.get(spec.requested_destination)
            nodes = [node] if node else []
        else:
            nodes = self.store.nodes.values()
        out = []
        for node in nodes:
            service = self.store.compute_service(node.host)
            if service is None or service.status != "enabled":
                continue  # required=!COMPUTE_STATUS_DISABLED
            rp = placement.providers.get(node.uuid)
            if rp is not None and all(rp.free(rc) >= n for rc, n in resources.items() if n):
                out.append(node)
        return out

    # -- filters ------------------------------------------------------------

    def _compute_filter(self, node: ComputeNode, spec: RequestSpec) -> bool:
        service = self.store.compute_service(node.host)
        return service is not None and service.status == "enabled" and self.hosts.is_up(node.host)

    def _availability_zone_filter(self, node: ComputeNode, spec: RequestSpec) -> bool:
        return not spec.availability_zone or node.zone == spec.availability_zone

    def _ignore_hosts_filter(self, node: ComputeNode, spec: RequestSpec) -> bool:
        return not spec.ignore_hosts or node.host not in spec.ignore_hosts

    def _retry_filter(self, node: ComputeNode, spec: RequestSpec) -> bool:
        """Hosts a move of this request already failed on are not tried again."""
        return not spec.retry or node.host not in spec.retry

    def filtered_hosts(self, candidates: list[ComputeNode], spec: RequestSpec) -> list[ComputeNode]:
        return [n for n in candidates if all(f(n, spec) for _, f in self.filters)]

    # -- weighers -----------------------------------------------------------

    def _ram_weight(self, node: ComputeNode) -> int:
        """RAMWeigher with a positive multiplier: the most free RAM wins (spread). It
        weighs the host state's ``free_ram_mb`` (physical memory less the reserved and the
        used, whatever ``ram_allocation_ratio``), not placement's capacity."""
        return self.hosts.free_ram_mb(node)

    # -- select_destinations ------------------------------------------------

    def select_destinations(
        self,
        spec: RequestSpec,
        instance_uuids: list[str],
        project_id: str,
        user_id: str,
        keep_existing: bool = False,
    ) -> list[ComputeNode]:
        """Pick and claim one host per instance, all or nothing.

        ``keep_existing``: the instance keeps what it holds and the claim is added to
        it (an evacuation: ``_move_operation_alloc_request`` merges source and
        destination under the instance's consumer).
        """
        placement = self.store.placement
        resources = {rc: n for rc, n in spec.flavor.resources().items() if n}
        # Weighed once, then kept ordered in a heap as claims consume RAM: one
        # request's instances share a flavor, so a host that cannot fit one
        # instance now cannot fit one later in the same request either.
        candidates = self.allocation_candidates(spec)
        if not candidates:
            # "Got no allocation candidates from the Placement API"
            raise NoValidHost(reason="")
        heap = [(-self._ram_weight(n), n.id, n) for n in self.filtered_hosts(candidates, spec)]
        heapq.heapify(heap)
        claimed: list[tuple[str, ComputeNode]] = []
        for instance_uuid in instance_uuids:
            chosen = None
            while heap:
                _, _, node = heapq.heappop(heap)
                allocation = {node.uuid: resources}
                if placement.fits(allocation, replacing=None if keep_existing else instance_uuid):
                    if keep_existing:
                        allocation = {**placement.get(instance_uuid), **allocation}
                    placement.put(instance_uuid, allocation, project_id, user_id)
                    chosen = node
                    heapq.heappush(heap, (-self._ram_weight(node), node.id, node))
                    break
            if chosen is None:
                break
            claimed.append((instance_uuid, chosen))
        self._ensure_sufficient_hosts(spec, claimed)
        return [node for _, node in claimed]

    def _ensure_sufficient_hosts(
        self, spec: RequestSpec, claimed: list[tuple[str, ComputeNode]]
    ) -> None:
        required = spec.num_instances
        if len(claimed) == required:
            return
        for instance_uuid, _ in claimed:
            self.store.placement.delete(instance_uuid)
        raise NoValidHost(reason="There are not enough hosts available.")
