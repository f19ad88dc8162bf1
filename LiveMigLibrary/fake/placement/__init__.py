"""Placement: resource providers, inventories, allocations and usages."""

from .model import Allocation, Consumer, Inventory, Placement, ResourceProvider

__all__ = ["Allocation", "Consumer", "Inventory", "Placement", "ResourceProvider"]
