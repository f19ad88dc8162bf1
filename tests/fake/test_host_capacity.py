"""What a compute reports to placement, and everything that follows from it.

Nova's defaults (nova/conf/compute.py) reserve 512 MB of memory on every host and give
VCPU an initial allocation ratio of 4.0; the driver's ``update_provider_tree`` puts them
in the node provider's inventory (``ComputeDriver._get_allocation_ratios``), the
resource tracker counts the reserved memory as used on the compute node record, and the
RAM weigher ranks hosts by that record's ``free_ram_mb``.
"""

from __future__ import annotations

import uuid

import pytest

from LiveMigLibrary.fake import FakeCloud
from LiveMigLibrary.fake.cli import main as cli_main
from LiveMigLibrary.fake.cli import parser

from .helpers import placement_error


def _inventory(cloud, host):
    rp = cloud.backend.store.placement.provider_by_name(host)
    return {
        rc: (inv.total, inv.reserved, inv.allocation_ratio) for rc, inv in rp.inventories.items()
    }


def test_nova_defaults_size_every_compute(admin):
    inv = admin.inventories(admin.rp_uuid("compute1"))
    assert (inv["VCPU"]["total"], inv["VCPU"]["reserved"], inv["VCPU"]["allocation_ratio"]) == (
        16,
        0,
        4.0,
    )
    assert (inv["MEMORY_MB"]["reserved"], inv["MEMORY_MB"]["allocation_ratio"]) == (512, 1.0)
    assert (inv["DISK_GB"]["reserved"], inv["DISK_GB"]["allocation_ratio"]) == (0, 1.0)
    assert inv["VCPU"]["max_unit"] == 16  # one server never gets more than the host has


def test_nova_options_of_the_cloud_and_of_one_host():
    cloud = FakeCloud(
        computes=1,
        nova_options={
            "reserved_host_memory_mb": 1024,
            "reserved_host_disk_mb": 1500,  # rounded up to whole GB, as Nova does
            "reserved_host_cpus": 2,
            "cpu_allocation_ratio": 16.0,
            "initial_ram_allocation_ratio": 1.5,
        },
    )
    assert _inventory(cloud, "compute1") == {
        "VCPU": (16, 2, 16.0),
        "MEMORY_MB": (32768, 1024, 1.5),
        "DISK_GB": (500, 2, 1.0),
    }
    host = cloud.control.add_host(
        "own", vcpus=4, memory_mb=4096, disk_gb=40, nova_options={"reserved_host_memory_mb": 0}
    )
    assert host["nova_options"] == {"reserved_host_memory_mb": 0}
    assert host["capacity"] == {"VCPU": 2 * 16, "MEMORY_MB": 4096 * 1.5, "DISK_GB": 38}


def test_an_explicit_ratio_wins_an_operators_ratio_survives_an_initial_one(admin, ctl, cloud):
    rp = admin.rp_uuid("compute1")
    inv = admin.inventories(rp)["VCPU"]
    gen = admin.placement("GET", f"/resource_providers/{rp}").json()["generation"]
    body = {"resource_provider_generation": gen, **inv, "allocation_ratio": 2.0}
    assert admin.placement("PUT", f"/resource_providers/{rp}/inventories/VCPU", json=body).ok
    # the computes restart with another initial ratio: placement's value stays
    ctl.set_nova_options(initial_cpu_allocation_ratio=8.0)
    assert _inventory(cloud, "compute1")["VCPU"] == (16, 0, 2.0)
    assert _inventory(cloud, "compute2")["VCPU"] == (16, 0, 4.0)
    # cpu_allocation_ratio overrides everything, placement's value included
    ctl.set_nova_options(cpu_allocation_ratio=3.0, reserved_host_memory_mb=0)
    assert _inventory(cloud, "compute1")["VCPU"] == (16, 0, 3.0)
    assert _inventory(cloud, "compute2")["MEMORY_MB"] == (32768, 0, 1.0)
    ctl.reset()  # back to the options the cloud started with
    assert _inventory(cloud, "compute1")["VCPU"] == (16, 0, 4.0)
    assert ctl.nova_options()["reserved_host_memory_mb"] == 512


def test_a_host_smaller_than_its_reserved_memory_gets_no_inventory(admin, ctl):
    """Placement refuses reserved > total for the whole inventory PUT Nova sends."""
    host = ctl.add_host("tiny", vcpus=1, memory_mb=256, disk_gb=1)
    assert host["capacity"] == {} and host["usage"] == {}
    rp = admin.rp_uuid("tiny")
    body = admin.placement(
        "GET", "/allocation_candidates", mv="1.39", params={"resources": "DISK_GB:1"}
    )
    assert rp not in {next(iter(r["allocations"])) for r in body.json()["allocation_requests"]}
    # its hypervisor still shows what the driver sees, reserved memory counted as used
    hvs = admin.compute("GET", "/os-hypervisors/detail", mv="2.87").json()["hypervisors"]
    tiny = next(h for h in hvs if h["service"]["host"] == "tiny")
    assert (tiny["memory_mb"], tiny["memory_mb_used"], tiny["free_ram_mb"]) == (256, 512, -256)
    # with reserved memory it can hold, the compute reports its inventory
    ctl.set_nova_options(reserved_host_memory_mb=128)
    assert ctl.hosts()[-1]["capacity"] == {"VCPU": 4, "MEMORY_MB": 128, "DISK_GB": 1}


def test_hypervisor_statistics_count_the_reserved_resources(admin, ctl):
    ctl.set_nova_options(reserved_host_cpus=1, reserved_host_disk_mb=2048)
    sid = admin.boot("vm")
    ctl.settle()
    host = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
    hvs = admin.compute("GET", "/os-hypervisors/detail", mv="2.87").json()["hypervisors"]
    h = next(h for h in hvs if h["service"]["host"] == host)
    # resource_tracker._update_usage: reserved first, then m1.tiny (1 VCPU, 512 MB, 1 GB)
    assert (h["vcpus"], h["vcpus_used"]) == (16, 2)
    assert (h["memory_mb_used"], h["free_ram_mb"]) == (1024, 32768 - 1024)
    assert (h["local_gb_used"], h["free_disk_gb"]) == (3, 497)
    stats = admin.compute("GET", "/os-hypervisors/statistics", mv="2.87").json()
    assert stats["hypervisor_statistics"]["memory_mb_used"] == 512 * 2 + 512


def test_multi_create_fills_hosts_to_placement_capacity():
    """Memory, not VCPUs, bounds a 4-VCPU host at ratio 4.0: (4096 - 512) / 512 = 7
    m1.tiny servers; a multi-create of 8 gets NoValidHost for all, one of 7 fits."""
    from .helpers import Api

    cloud = FakeCloud(computes=1, host_vcpus=4, host_memory_mb=4096, host_disk_gb=40).start()
    try:
        api = Api(cloud)
        for count in (8, 7):
            body = api.server_body(f"fill{count}", min_count=count, max_count=count)
            assert api.compute("POST", "/servers", json=body).status_code == 202
            cloud.control.settle()
            servers = api.servers_detail()
            if count == 8:
                assert [s["status"] for s in servers] == ["ERROR"] * 8
                for s in servers:  # errored servers count against the instances quota
                    api.compute("DELETE", f"/servers/{s['id']}")
                cloud.control.settle()
        assert [s["status"] for s in servers] == ["ACTIVE"] * 7
        assert cloud.control.hosts()[0]["usage"] == {"VCPU": 7, "MEMORY_MB": 3584, "DISK_GB": 7}
    finally:
        cloud.stop()


def test_the_ram_weigher_ranks_by_physical_free_ram_not_overcommitted_capacity():
    """compute2 has more placement capacity (ram_allocation_ratio 3.0) but less free
    physical RAM than compute1: Nova's RAMWeigher weighs free_ram_mb, so compute1 wins."""
    cloud = FakeCloud(computes=0).start()
    try:
        ctl = cloud.control
        ctl.add_host("compute1", memory_mb=8192)
        ctl.add_host("compute2", memory_mb=4096, nova_options={"ram_allocation_ratio": 3.0})
        from .helpers import Api

        api = Api(cloud)
        sid = api.boot("weighed")
        ctl.settle()
        assert api.server(sid)["OS-EXT-SRV-ATTR:host"] == "compute1"
    finally:
        cloud.stop()


def test_allocations_respect_max_unit_and_capacity(admin):
    rp = admin.rp_uuid("compute1")

    def put(resources):
        body = {
            "allocations": {rp: {"resources": resources}},
            "project_id": admin.project_id,
            "user_id": admin.user_id,
            "consumer_generation": None,
        }
        return admin.placement("PUT", f"/allocations/{uuid.uuid4()}", mv="1.28", json=body)

    err = placement_error(put({"MEMORY_MB": 32768}), 409)
    assert "would violate inventory constraints" not in err["detail"]
    assert "would exceed the capacity" in err["detail"]  # 32768 - 512 reserved
    assert put({"MEMORY_MB": 32256}).status_code == 204


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"reserved_host_memory_mb": -1},
            "reserved_host_memory_mb must be a whole number of at least 0, got -1",
        ),
        (
            {"reserved_host_cpus": 1.5},
            "reserved_host_cpus must be a whole number of at least 0, got 1.5",
        ),
        (
            {"cpu_allocation_ratio": "lots"},
            "cpu_allocation_ratio must be a finite number of at least 0, or empty for none",
        ),
        (
            {"initial_cpu_allocation_ratio": None},
            "initial_cpu_allocation_ratio must be a finite number of at least 0, got None",
        ),
        ({"reserved_host_mem": 1}, "unknown option 'reserved_host_mem'; options are:"),
    ],
)
def test_bad_options_name_the_option_and_what_it_takes(options, message):
    with pytest.raises(ValueError) as error:
        FakeCloud(computes=1, nova_options=options)
    assert message in str(error.value)
    with pytest.raises(ValueError) as error:
        FakeCloud(computes=0).control.add_host("h", nova_options=options)
    assert message.split(";")[0].replace("options are:", "") in str(error.value)


def test_cli_takes_nova_options(capsys):
    args = parser().parse_args(["--nova-option", "reserved_host_memory_mb=0"])
    assert args.nova_option == [("reserved_host_memory_mb", "0")]
    assert cli_main(["--nova-option", "cpu_allocation_ratio=nope"]) == 2
    assert (
        "cpu_allocation_ratio must be a finite number of at least 0, or empty for none, got 'nope'"
        in capsys.readouterr().err
    )
