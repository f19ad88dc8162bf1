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
    traits: set[str] = field(default_factory=set)

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

# os-resource-classes' standard classes: placement knows them all, inventory or not
STANDARD_RESOURCE_CLASSES = (
    "VCPU", "MEMORY_MB", "DISK_GB", "PCI_DEVICE", "SRIOV_NET_VF", "NUMA_SOCKET",
    "NUMA_CORE", "NUMA_THREAD", "NUMA_MEMORY_MB", "IPV4_ADDRESS", "VGPU",
    "VGPU_DISPLAY_HEAD", "NET_BW_EGR_KILOBIT_PER_SEC", "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU", "MEM_ENCRYPTION_CONTEXT", "FPGA", "PGPU",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC", "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
)  # fmt: skip

# The capability traits of the compute driver (``ComputeDriver.capabilities_as_traits``:
# nova/virt/driver.py CAPABILITY_TRAITS_MAP over the driver's ``capabilities``). These are
# Nova's fake virt driver's (nova/virt/fake.py), the driver real Nova runs under our
# conformance harness: a libvirt compute's set depends on its host (CPU flags, image
# backend, QEMU version), so the fake does not invent one (docs/fake-cloud.md).
DRIVER_CAPABILITY_TRAITS = (
    "COMPUTE_ACCELERATORS", "COMPUTE_ADDRESS_SPACE_EMULATED",
    "COMPUTE_ADDRESS_SPACE_PASSTHROUGH", "COMPUTE_DEVICE_TAGGING",
    "COMPUTE_IMAGE_TYPE_RAW", "COMPUTE_MEM_BACKING_FILE", "COMPUTE_NET_ATTACH_INTERFACE",
    "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG", "COMPUTE_REMOTE_MANAGED_PORTS",
    "COMPUTE_SECURITY_STATELESS_FIRMWARE", "COMPUTE_STORAGE_VIRTIO_FS",
    "COMPUTE_TRUSTED_CERTS", "COMPUTE_VOLUME_ATTACH_WITH_TAG", "COMPUTE_VOLUME_EXTEND",
    "COMPUTE_VOLUME_MULTI_ATTACH",
)  # fmt: skip
REMOTE_MANAGED_PORTS = "COMPUTE_REMOTE_MANAGED_PORTS"


def compute_node_traits(remote_managed_device_pools: bool = False) -> tuple[str, ...]:
    """What nova-compute's resource tracker sets on its node provider
    (``ResourceTracker._get_traits``, nova/compute/resource_tracker.py): the driver's
    capability traits, except COMPUTE_REMOTE_MANAGED_PORTS unless the host has
    remote-managed PCI device pools (``_should_expose_remote_managed_ports_trait``; the
    fake's hosts have no PCI devices), plus COMPUTE_NODE and OWNER_NOVA always."""
    traits = [
        t
        for t in DRIVER_CAPABILITY_TRAITS
        if t != REMOTE_MANAGED_PORTS or remote_managed_device_pools
    ]
    return tuple(sorted([*traits, "COMPUTE_NODE", "OWNER_NOVA"]))


COMPUTE_NODE_TRAITS = compute_node_traits()
# Set on a node provider while its nova-compute service is disabled (the scheduler's
# placement pre-filter asks for required=!COMPUTE_STATUS_DISABLED).
STATUS_DISABLED = "COMPUTE_STATUS_DISABLED"
# os-traits' standard traits the model uses; placement knows these without a PUT.
STANDARD_TRAITS = frozenset(
    DRIVER_CAPABILITY_TRAITS
    + COMPUTE_NODE_TRAITS
    + (
        STATUS_DISABLED,
        "COMPUTE_IMAGE_TYPE_QCOW2", "COMPUTE_IMAGE_TYPE_ISO", "COMPUTE_IMAGE_TYPE_VHD",
        "COMPUTE_SAME_HOST_COLD_MIGRATE", "COMPUTE_RESCUE_BFV",
        "COMPUTE_SECURITY_UEFI_SECURE_BOOT", "COMPUTE_EPHEMERAL_ENCRYPTION",
        "HW_CPU_X86_AVX", "HW_CPU_X86_AVX2", "HW_CPU_X86_SSE42", "HW_CPU_X86_VMX",
        "HW_CPU_HYPERTHREADING", "HW_ARCH_X86_64", "STORAGE_DISK_SSD",
        "MISC_SHARES_VIA_AGGREGATE",
    )
)  # fmt: skip


@dataclass(slots=True)
class Candidate:
    """One allocation request of ``GET /allocation_candidates`` (a single provider)."""

    provider: ResourceProvider
    resources: dict[str, int]


class Placement:
    """All providers and allocations. Callers hold the store lock."""

    def __init__(self):
        self.providers: dict[str, ResourceProvider] = {}
        self.by_name: dict[str, str] = {}
        self.allocations: dict[str, Allocation] = {}
        self.consumers: dict[str, Consumer] = {}
        self.custom_traits: set[str] = set()  # CUSTOM_* traits created with PUT /traits

    # -- catalogues -----------------------------------------------------------

    def known_traits(self) -> set[str]:
        return set(STANDARD_TRAITS) | self.custom_traits

    @staticmethod
    def known_resource_class(rc: str) -> bool:
        return rc in STANDARD_RESOURCE_CLASSES

    def set_traits(self, uuid: str, traits) -> None:
        """Replace a provider's traits (bumps its generation, as placement does)."""
        rp = self.provider(uuid)
        rp.traits = set(traits)
        rp.generation += 1

    def set_trait(self, uuid: str, trait: str, present: bool) -> None:
        """Add or remove one trait (Nova's ``_sync_compute_service_disabled_trait``)."""
        rp = self.providers.get(uuid)
        if rp is not None and (trait in rp.traits) != present:
            self.set_traits(uuid, rp.traits ^ {trait})

    # -- allocation candidates --------------------------------------------------

    def allocation_candidates(
        self,
        resources: dict[str, int],
        required: set[str] = frozenset(),
        forbidden: set[str] = frozenset(),
        any_of: list[set[str]] = (),
        in_tree: str | None = None,
    ) -> list[Candidate]:
        """Providers that can take ``resources`` now and carry the wanted traits.

        Each resource class must fit the provider's capacity left after its usages,
        within min_unit/max_unit and a multiple of step_size (placement's
        ``_get_providers_with_resource``); traits filter the rest.
        """
        out = []
        for rp in self.providers.values():
            if in_tree is not None and rp.root_provider_uuid != in_tree:
                continue
            if not required <= rp.traits or forbidden & rp.traits:
                continue
            if any(not group & rp.traits for group in any_of):
                continue
            fits = True
            for rc, amount in resources.items():
                inv = rp.inventories.get(rc)
                max_unit = inv.max_unit if inv and inv.max_unit is not None else None
                if (
                    inv is None
                    or amount < inv.min_unit
                    or (max_unit is not None and amount > max_unit)
                    or amount % inv.step_size
                    or rp.usages.get(rc, 0) + amount > inv.capacity
                ):
                    fits = False
                    break
            if fits:
                out.append(Candidate(rp, dict(resources)))
        return out

    # -- providers ------------------------------------------------------------

    def create_provider(
        self, uuid: str, name: str, inventories: dict[str, Inventory], traits=()
    ) -> None:
        self.providers[uuid] = ResourceProvider(
            uuid=uuid,
            name=name,
            generation=1,
            inventories=dict(inventories),
            root_provider_uuid=uuid,
            traits=set(traits),
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
        """Placement's ``_check_capacity_exceeded``: each amount within the inventory's
        min_unit, max_unit and step_size, and the provider's usage after the change within
        its capacity, unless the change leaves it no more over capacity than it was (an
        inventory shrunk under existing allocations)."""
        old = self.allocations.get(replacing, {}) if replacing else {}
        for rp_uuid, resources in allocation.items():
            rp = self.provider(rp_uuid)
            for rc, amount in resources.items():
                inv = rp.inventories.get(rc)
                where = f"'{rc}' on resource provider '{rp_uuid}'"
                if inv is None:
                    raise AllocationConflict(reason=f"Inventory for {where} invalid.")
                max_unit = inv.max_unit if inv.max_unit is not None else inv.total
                if amount < inv.min_unit or amount > max_unit or amount % inv.step_size:
                    raise AllocationConflict(
                        reason=f"Unable to create allocation for {where}. The requested "
                        "amount would violate inventory constraints."
                    )
                used = rp.usages.get(rc, 0)
                after = used - old.get(rp_uuid, {}).get(rc, 0) + amount
                if after > inv.capacity and after > used:
                    raise AllocationConflict(
                        reason=f"Unable to create allocation for {where}. The requested "
                        "amount would exceed the capacity."
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
