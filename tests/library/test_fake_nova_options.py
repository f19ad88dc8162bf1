"""The embedded fake's nova.conf from the library: the import argument and a host's own.

Nova's defaults hold unless a suite sets them (reserved_host_memory_mb=512, VCPU ratio
4.0): what Placement shows is what a real deployment with the same nova.conf shows.
"""

from __future__ import annotations

import pytest

from LiveMigLibrary import LiveMigLibrary
from LiveMigLibrary.errors import InvalidArgument


def _inventory(lib, host):
    client = lib._ctx.admin
    uuid = next(u for u, name in client.resource_provider_names().items() if name == host)
    return client.inventories(uuid)


def test_nova_defaults_and_the_import_argument():
    lib = LiveMigLibrary(computes=1)
    try:
        inv = _inventory(lib, "compute1")
        assert (inv["MEMORY_MB"]["reserved"], inv["VCPU"]["allocation_ratio"]) == (512, 4.0)
    finally:
        lib.close()
    lib = LiveMigLibrary(
        computes=1,
        fake_nova_options={"reserved_host_memory_mb": "0", "cpu_allocation_ratio": "16"},
    )
    try:
        inv = _inventory(lib, "compute1")
        assert (inv["MEMORY_MB"]["reserved"], inv["VCPU"]["allocation_ratio"]) == (0, 16.0)
        # a host of its own nova.conf, over the cloud's
        lib.add_fake_compute_host("bare", vcpus=2, memory_mb=1024, reserved_host_memory_mb="256")
        inv = _inventory(lib, "bare")
        assert (inv["MEMORY_MB"]["reserved"], inv["VCPU"]["allocation_ratio"]) == (256, 16.0)
        with pytest.raises(
            InvalidArgument, match="reserved_host_cpus must be a whole number of at least 0"
        ):
            lib.add_fake_compute_host("odd", reserved_host_cpus="half")
    finally:
        lib.close()


def test_bad_import_arguments_fail_before_anything_starts():
    with pytest.raises(InvalidArgument) as error:
        LiveMigLibrary(fake_nova_options={"reserved_host_memory_mb": "-1"})
    assert "'fake_nova_options'" in str(error.value)
    assert "reserved_host_memory_mb must be a whole number of at least 0, got '-1'" in str(
        error.value
    )
    with pytest.raises(InvalidArgument, match="empty when a real cloud is used"):
        LiveMigLibrary(cloud="devstack", fake_nova_options={"reserved_host_memory_mb": "0"})
