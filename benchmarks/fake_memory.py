#!/usr/bin/env python3
"""Memory of a long-running fake cloud under create/live-migrate/delete churn.

Prints ``name: value`` lines (the target is checked by eye, never by a timed assertion):

    rss_after_warmup_mb             resident memory of the fake once warm
    rss_growth_mb_per_1000_cycles   growth per 1,000 further cycles     [< 2]
    cycles_per_s                    churn cycles per second

One cycle: create a server, let it build, live-migrate it, let the migration complete,
delete it, let the delete finish (manual clock, settled after each step). The warm-up runs
past what the fake keeps of finished work (1,000 deleted servers with their actions and
migrations, ``--keep-deleted``; the dynamics of the last 2,000 migrations), so what is
measured is the steady state in which the oldest records are purged as new ones come.

By default the fake runs in this process and the cycles go straight to its WSGI
application (fast, and the process's RSS is the fake's plus a constant); ``--standalone``
drives a ``livemig-fake-cloud`` process over HTTP instead (slower, the same records).

    python benchmarks/fake_memory.py [--warmup 2500] [--cycles 2500] [--standalone]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

IMAGE = "cirros-0.6.2-x86_64-disk"


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Churn:
    """The cycle over HTTP, from a bare requests session with the token of ``conn``."""

    def __init__(self, conn):
        self.http = requests.Session()
        self.http.headers["X-Auth-Token"] = conn.auth_token
        self.compute = conn.compute.get_endpoint().rstrip("/")
        fake = urlsplit(self.compute)
        self.control = f"{fake.scheme}://{fake.netloc}/control"
        self.image = conn.image.find_image(IMAGE, ignore_missing=False).id

    def _settle(self) -> None:
        self.http.post(f"{self.control}/clock/settle", json={}, timeout=30).raise_for_status()

    def cycle(self, n: int) -> None:
        headers = {"OpenStack-API-Version": "compute 2.80"}
        body = {
            "server": {
                "name": f"churn-{n}",
                "imageRef": self.image,
                "flavorRef": "1",
                "networks": "none",
            }
        }
        resp = self.http.post(f"{self.compute}/servers", json=body, headers=headers, timeout=30)
        resp.raise_for_status()
        server = resp.json()["server"]["id"]
        self._settle()
        move = {"os-migrateLive": {"host": None, "block_migration": "auto"}}
        url = f"{self.compute}/servers/{server}/action"
        self.http.post(url, json=move, headers=headers, timeout=30).raise_for_status()
        self._settle()
        url = f"{self.compute}/servers/{server}"
        self.http.delete(url, headers=headers, timeout=30).raise_for_status()
        self._settle()


class InProcessChurn:
    """The same cycle against a fake in this process, through its WSGI application."""

    def __init__(self, keep_deleted: int):
        from werkzeug.test import Client

        from LiveMigLibrary.fake import IMAGE_ID, FakeCloud
        from LiveMigLibrary.fake.server import build_app

        self.cloud = FakeCloud(computes=3, keep_deleted=keep_deleted)
        backend = self.cloud.backend
        admin = backend.identity.users["admin"]
        token = backend.identity.authenticate("admin", None, admin.password, None).id
        self.client = Client(build_app(backend, self.cloud.control))
        self.headers = {
            "X-Auth-Token": token,
            "OpenStack-API-Version": "compute 2.80",
            "Content-Type": "application/json",
        }
        self.image = IMAGE_ID

    def _call(self, method: str, path: str, body=None) -> dict | None:
        data = json.dumps(body) if body is not None else None
        resp = self.client.open(
            "/compute/v2.1" + path, method=method, headers=self.headers, data=data
        )
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.get_data()!r}")
        self.cloud.control.settle()
        return resp.json if resp.data else None

    def cycle(self, n: int) -> None:
        body = {
            "server": {
                "name": f"churn-{n}",
                "imageRef": self.image,
                "flavorRef": "1",
                "networks": "none",
            }
        }
        server = self._call("POST", "/servers", body)["server"]["id"]
        move = {"os-migrateLive": {"host": None, "block_migration": "auto"}}
        self._call("POST", f"/servers/{server}/action", move)
        self._call("DELETE", f"/servers/{server}")


def measure(churn, warmup: int, cycles: int, pid: int | str) -> tuple[float, float, float]:
    for n in range(warmup):
        churn.cycle(n)
    before = rss_mb(pid)
    started = time.monotonic()
    for n in range(warmup, warmup + cycles):
        churn.cycle(n)
    return before, rss_mb(pid), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=2500)
    parser.add_argument("--cycles", type=int, default=2500)
    parser.add_argument("--keep-deleted", type=int, default=1000)
    parser.add_argument("--standalone", action="store_true", help="a fake process over HTTP")
    args = parser.parse_args()
    if not args.standalone:
        churn = InProcessChurn(args.keep_deleted)
        before, after, took = measure(churn, args.warmup, args.cycles, "self")
        report(before, after, took, args.cycles)
        return 0
    from fake_cloud import fake_cloud  # started as the other benchmarks start theirs

    keep = ("--keep-deleted", str(args.keep_deleted))
    with fake_cloud(3, *keep, clock="manual") as (proc, conn):
        before, after, took = measure(Churn(conn), args.warmup, args.cycles, proc.pid)
    report(before, after, took, args.cycles)
    return 0


def report(before: float, after: float, took: float, cycles: int) -> None:
    print(f"rss_after_warmup_mb: {before:.1f}")
    print(f"rss_growth_mb_per_1000_cycles: {(after - before) * 1000 / cycles:.2f}")
    print(f"cycles_per_s: {cycles / took:.0f}")


if __name__ == "__main__":
    sys.exit(main())
