"""Replay of the parity snapshots recorded from real Nova against the embedded fake.

Every call of ``corpus.py`` is sent to a fresh fake (three computes, scaled clock) and its
normalised answer compared with Nova's, recorded in ``snapshots/`` by
``python -m tests.conformance.parity record``. A call that differs fails the test unless
its snapshot entry says why it differs on purpose: ``deliberate`` differences are masked
key by key (the rest of the answer must still match). A ``to-fix`` note (what ``record``
writes for a new difference) no longer excuses anything: the fake must answer as Nova
does. No Nova install is needed.

Notes on what is Nova and what is the harness (placement scenario):

- Inventories are what nova-compute reports with Nova's config defaults
  (nova/conf/compute.py: reserved_host_memory_mb=512, reserved_host_disk_mb=0,
  reserved_host_cpus=0, initial_cpu_allocation_ratio=4.0, initial_ram/disk 1.0, through
  ComputeDriver._get_allocation_ratios). libvirt's update_provider_tree reports them the
  same way as the fake virt driver does, so the fake answers exactly as recorded.
- A compute provider's traits are set by the resource tracker
  (nova/compute/resource_tracker.py ``_get_traits``): COMPUTE_NODE and OWNER_NOVA always;
  COMPUTE_REMOTE_MANAGED_PORTS only when the host has remote-managed PCI device pools
  (``_should_expose_remote_managed_ports_trait``), whatever the driver supports. Those
  are Nova behaviour, on libvirt too, and the fake follows them. The remaining traits are
  the driver's capabilities (nova/virt/driver.py CAPABILITY_TRAITS_MAP): the fake
  reports those of Nova's fake virt driver (nova/virt/fake.py ``capabilities``), the one
  this harness runs, because a libvirt compute's set depends on its host (CPU flags,
  image backend, QEMU version); so no trait is masked here.
"""

from __future__ import annotations

import json

import pytest

from .corpus import SCENARIOS
from .parity import SNAPSHOTS, Session, compare, fake_targets, load_snapshot, run_scenario

RECORDED = sorted(p.stem for p in SNAPSHOTS.glob("*.json"))


def test_every_scenario_is_recorded_from_nova():
    assert sorted(SCENARIOS) == RECORDED


@pytest.mark.parametrize("name", RECORDED)
def test_fake_answers_as_nova(name):
    doc = load_snapshot(name)
    cloud, target = fake_targets()
    try:
        fake_entries = run_scenario(target, SCENARIOS[name], strict=False)
    finally:
        cloud.stop()
    rows = compare(doc["calls"], fake_entries)
    differ = [r for r in rows if not r["same"]]
    assert not differ, "the fake answers unlike Nova:\n" + "\n".join(_explain(r) for r in differ)
    stale = [r["entry"]["label"] for r in rows if _note(r) == "to-fix"]
    assert not stale, f"now as Nova answers; re-record to drop their to-fix notes: {stale}"


def _note(row) -> str | None:
    return (row["entry"].get("difference") or {}).get("kind")


def _explain(row) -> str:
    entry = row["entry"]
    reason = (entry.get("difference") or {}).get("reason")
    return (
        f"- {entry['label']}: {entry['request']}\n"
        + (f"    noted: {reason}\n" if reason else "")
        + f"    nova: {json.dumps(entry['nova'], sort_keys=True)[:600]}\n"
        f"    fake: {json.dumps(row['fake'], sort_keys=True)[:600]}"
    )


def test_digest_normalises_ids_times_hosts_and_keeps_states():
    s = Session(target=None)
    s.alias("3f1c2b9e-0000-4000-8000-000000000001", "server1")
    body = {
        "server": {
            "id": "3f1c2b9e-0000-4000-8000-000000000001",
            "status": "ACTIVE",
            "OS-EXT-SRV-ATTR:host": "compute2",
            "updated": "2026-01-01T00:00:00Z",
            "scheduler_hints": {},
        },
        "fault": {"message": "Instance 3f1c2b9e-0000-4000-8000-000000000001 at compute3"},
    }
    assert s.digest(body) == {
        "server": {
            "id": "<str>",
            "status": "ACTIVE",
            "OS-EXT-SRV-ATTR:host": "<host>",
            "updated": "<str>",
            "scheduler_hints": {},
        },
        "fault": {"message": "Instance {server1} at <host>"},
    }
    s.alias("scheduler", "controller")
    assert s.normalise("scheduler_hints nova-scheduler on scheduler") == (
        "scheduler_hints nova-scheduler on {controller}"
    )
    assert s.normalise("/servers/1/migrations/17 Migration 17 at 2026-12-02 01:00:00") == (
        "/servers/1/migrations/<id> Migration <id> at <time>"
    )
    assert s.normalise("'x' is not one of ['b', 'a']") == "'x' is not one of ['a', 'b']"


def test_deliberate_keys_are_masked_and_nothing_else():
    nova = {"status": 200, "body": {"m": [{"dest_host": "<null>", "status": "completed"}]}}
    entry = {"label": "x", "request": "GET /x", "nova": nova, "deliberate": {"dest_host": "why"}}
    same = {"status": 200, "body": {"m": [{"dest_host": "<str>", "status": "completed"}]}}
    other = {"status": 200, "body": {"m": [{"dest_host": "<str>", "status": "error"}]}}
    (row,) = compare([entry], [{"label": "x", "request": "GET /x", "nova": same}])
    assert row["same"] and row["deliberate"]
    (row,) = compare([entry], [{"label": "x", "request": "GET /x", "nova": other}])
    assert not row["same"]
    (row,) = compare([entry], [{"label": "x", "request": "GET /y", "nova": same}])
    assert not row["same"]
