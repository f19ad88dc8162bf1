#!/usr/bin/env python3
"""What the guest memory model and Nova's monitor loop cost the embedded fake.

Prints one ``name: value`` line per figure (targets in brackets are checked by eye,
never by a timed assertion):

    idle_migration_events          clock events one idle m1.tiny live migration fires
                                   (accepted to completed, default durations)
    idle_migration_ms              median wall ms the fake spends on those events
                                   (in-process, manual clock, no HTTP)   [< 5]
    busy_timeout_migration_ms      wall ms of a busy m1.small guest run into Nova's
                                   default completion timeout (1600 s virtual: 3,200
                                   monitor polls and the pre-copy passes)  [< 200]
    model_pass_us                  wall microseconds per pre-copy pass of the model
                                   alone (MigrationJob.advance)          [< 20]
    dynamics_suite_s               wall time of suites/live_migration_dynamics.robot
                                   (7 tests), process start to exit

    python benchmarks/migration_dynamics.py [--only NAME]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from LiveMigLibrary.fake.cloud import IMAGE_ID, Cloud  # noqa: E402
from LiveMigLibrary.fake.context import RequestContext  # noqa: E402
from LiveMigLibrary.fake.guest import MiB, MigrationJob, Workload  # noqa: E402


def _admin_ctx(cloud: Cloud) -> RequestContext:
    return RequestContext.admin()


def _server(cloud: Cloud, ctx, flavor: str) -> str:
    with cloud.lock:
        instances, _ = cloud.compute_api.create(
            ctx,
            name="bench",
            flavor=cloud.store.flavors[flavor],
            image_id=IMAGE_ID,
            min_count=1,
            max_count=1,
            availability_zone=None,
            metadata={},
            key_name=None,
            description=None,
        )
    cloud.clock.settle()
    return instances[0].uuid


def _migrate(cloud: Cloud, ctx, uuid: str) -> tuple[int, float]:
    inst = cloud.store.instances[uuid]
    start_seq = next(cloud.clock._seq)  # events scheduled so far (an itertools.count)
    start = time.perf_counter()
    with cloud.lock:
        cloud.compute_api.live_migrate(ctx, inst, None, "auto", False, True)
    cloud.clock.settle(100_000)
    wall = time.perf_counter() - start
    return next(cloud.clock._seq) - start_seq - 1, wall


def idle_migration() -> tuple[int, float]:
    cloud = Cloud(computes=2)
    ctx = _admin_ctx(cloud)
    walls, events = [], 0
    uuid = _server(cloud, ctx, "1")
    for _ in range(20):  # back and forth between the two hosts
        events, wall = _migrate(cloud, ctx, uuid)
        walls.append(wall)
    return events, statistics.median(walls) * 1000


def busy_timeout_migration() -> float:
    cloud = Cloud(computes=2)
    cloud.libvirt.update(live_migration_bandwidth=100)
    ctx = _admin_ctx(cloud)
    uuid = _server(cloud, ctx, "2")
    cloud.computes.driver.set_workload(uuid, Workload(200, 1024))
    _, wall = _migrate(cloud, ctx, uuid)
    assert cloud.store.migrations[max(cloud.store.migrations)].status == "cancelled"
    return wall * 1000


def model_pass() -> float:
    job = MigrationJob(
        now=0.0,
        memory_total=2048 * MiB,
        disk_total=0,
        bandwidth=100 * MiB,
        workload=Workload(200, 1024),
    )
    job.set_max_downtime(0.0, 50)
    n = 20_000
    start = time.perf_counter()
    for _ in range(n):
        job.advance(job.pass_end())
    return (time.perf_counter() - start) / n * 1e6


def dynamics_suite() -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "robot",
                "--outputdir",
                out,
                "--console",
                "none",
                str(ROOT / "suites" / "live_migration_dynamics.robot"),
            ],
            check=True,
        )
        return time.perf_counter() - start


FIGURES = {
    "idle_migration": lambda: idle_migration(),
    "busy_timeout_migration_ms": busy_timeout_migration,
    "model_pass_us": model_pass,
    "dynamics_suite_s": dynamics_suite,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(FIGURES))
    args = parser.parse_args()
    for name, measure in FIGURES.items():
        if args.only and name != args.only:
            continue
        value = measure()
        if name == "idle_migration":
            events, ms = value
            print(f"idle_migration_events: {events}")
            print(f"idle_migration_ms: {ms:.2f}")
        else:
            print(f"{name}: {value:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
