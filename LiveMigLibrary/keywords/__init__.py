"""Keyword classes of LiveMigLibrary, one per area."""

from .batch import BatchKeywords
from .connection import ConnectionKeywords
from .drain import DrainKeywords
from .dynamics import MigrationDynamicsKeywords
from .evidence import EvidenceKeywords
from .fake_cloud import FakeCloudKeywords
from .hostpool import HostPoolKeywords
from .hosts import HostKeywords
from .load import LoadKeywords
from .migrations import MigrationKeywords
from .moves import MoveKeywords
from .placement import PlacementKeywords
from .processes import ComputeProcessKeywords
from .servers import ServerKeywords

__all__ = [
    "BatchKeywords",
    "ComputeProcessKeywords",
    "ConnectionKeywords",
    "DrainKeywords",
    "EvidenceKeywords",
    "FakeCloudKeywords",
    "HostKeywords",
    "HostPoolKeywords",
    "LoadKeywords",
    "MigrationDynamicsKeywords",
    "MigrationKeywords",
    "MoveKeywords",
    "PlacementKeywords",
    "ServerKeywords",
]
