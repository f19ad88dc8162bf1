#!/usr/bin/env python3
"""Benchmarks of the batch keywords (issue 8) against the embedded fake on its manual clock.

Prints one ``name: value`` line per figure (targets in brackets are checked by eye or by
CI dashboards, never by a timed assertion):

    drain_host_100_servers_s   Live Migrate All Servers Off Host: 100 servers on one of 10
                               hosts, concurrency 10, until every move is `completed`
                                                                   [< 3]
    load_200_migrations_c10_s  Run Live Migration Load: 200 iterations (create, ACTIVE,
                               live-migrate, completed, delete) at concurrency 10 over
                               20 hosts                            [< 5]
    fake_rss_after_load_mb     resident memory of the process (library + embedded fake)
                               after that load
    *_cpu_s                    CPU seconds this process spent on each of those (library
                               and embedded fake together): the figure that does not
                               depend on how busy the machine is

The library runs in this process, as under `robot`, driven from Python; its log lines are
counted, not printed.

    python benchmarks/many_moves.py [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import time

from LiveMigLibrary import LiveMigLibrary, concurrency

MV = "2.37"


def quiet() -> list[str]:
    lines: list[str] = []
    concurrency.logger.write = lambda msg, *args, **kwargs: lines.append(msg)
    return lines


def unlimited_quota(lib: LiveMigLibrary) -> None:
    conn = lib._ctx.admin.conn
    conn.compute.put(
        f"/os-quota-sets/{conn.current_project_id}",
        json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}},
        microversion=MV,
    ).raise_for_status()


def drain_host_100_servers() -> tuple[float, float]:
    os.environ.pop("OS_CLOUD", None)
    lib = LiveMigLibrary(computes=9)
    try:
        control = lib._ctx.fake_control("benchmark")
        control.add_host("crowded", vcpus=128, memory_mb=131072, disk_gb=1000)
        unlimited_quota(lib)
        others = [h for h in lib.get_compute_hosts() if h != "crowded"]
        for host in others:
            lib.disable_compute_service(host, reason="fill crowded")
        servers = lib.create_servers(100, name="drain")
        lib.wait_until_servers_are_active(*servers)
        for host in others:
            lib.enable_compute_service(host)
        start, cpu = time.perf_counter(), time.process_time()
        results = lib.live_migrate_all_servers_off_host("crowded", concurrency=10)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        moved = sum(row["result"] == "moved" for row in results)
        if moved != 100:
            raise SystemExit(f"drain moved {moved} of 100 servers")
        return took, cpu
    finally:
        lib.close()


def load_200_migrations() -> tuple[float, float, float]:
    import psutil

    os.environ.pop("OS_CLOUD", None)
    lib = LiveMigLibrary(computes=20)
    try:
        unlimited_quota(lib)
        start, cpu = time.perf_counter(), time.process_time()
        run = lib.run_live_migration_load(iterations=200, concurrency=10)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        if run["failures"]:
            raise SystemExit(f"load run failed {run['failures']} iterations: {run['errors']}")
        rss = psutil.Process().memory_info().rss / 2**20
        return took, cpu, rss
    finally:
        lib.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["drain", "load"])
    args = parser.parse_args()
    quiet()
    if args.only in (None, "drain"):
        took, cpu = drain_host_100_servers()
        print(f"drain_host_100_servers_s: {took:.2f}", flush=True)
        print(f"drain_host_100_servers_cpu_s: {cpu:.2f}", flush=True)
    if args.only in (None, "load"):
        took, cpu, rss = load_200_migrations()
        print(f"load_200_migrations_c10_s: {took:.2f}", flush=True)
        print(f"load_200_migrations_c10_cpu_s: {cpu:.2f}", flush=True)
        print(f"fake_rss_after_load_mb: {rss:.0f}", flush=True)


if __name__ == "__main__":
    main()
