"""Keyword classes of LiveMigLibrary, one per area."""

from .connection import ConnectionKeywords
from .fake_cloud import FakeCloudKeywords
from .hosts import HostKeywords
from .migrations import MigrationKeywords
from .placement import PlacementKeywords
from .servers import ServerKeywords

__all__ = [
    "ConnectionKeywords",
    "FakeCloudKeywords",
    "HostKeywords",
    "MigrationKeywords",
    "PlacementKeywords",
    "ServerKeywords",
]
