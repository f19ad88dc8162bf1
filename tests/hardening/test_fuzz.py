"""A bounded fuzz over every route of the fake: no answer may be a 5xx or a non-JSON error.

Seeded (the same requests every run), bounded in count and in time. A failure lists each
finding with what was mutated and the full request, to replay it.
"""

from __future__ import annotations

import json

import pytest

from LiveMigLibrary.fake import IMAGE_ID, FakeCloud

from .fuzz import Fuzzer

REQUESTS_PER_SEED = 3000
SECONDS_PER_SEED = 45.0


def _seed_state(cloud: FakeCloud, fuzzer: Fuzzer) -> None:
    """Servers, a migration in flight and one finished, so valid ids reach deep code."""
    headers = {
        "X-Auth-Token": fuzzer.admin_token,
        "OpenStack-API-Version": "compute 2.80",
        "Content-Type": "application/json",
    }
    body = {
        "server": {
            "name": "seed",
            "imageRef": IMAGE_ID,
            "flavorRef": "1",
            "networks": "none",
            "min_count": 3,
            "max_count": 3,
        }
    }
    resp = fuzzer.client.post("/compute/v2.1/servers", headers=headers, data=json.dumps(body))
    assert resp.status_code == 202, resp.get_data(as_text=True)
    cloud.control.settle()
    first, second = list(cloud.backend.store.instances)[:2]
    live = json.dumps({"os-migrateLive": {"host": None, "block_migration": "auto"}})
    for sid in (first, second):
        path = f"/compute/v2.1/servers/{sid}/action"
        assert fuzzer.client.post(path, headers=headers, data=live).status_code == 202
        cloud.control.advance(2 if sid == second else 60)


@pytest.mark.parametrize("seed", [11, 12])
def test_fuzz_every_route_without_a_5xx(seed):
    cloud = FakeCloud(computes=3)
    fuzzer = Fuzzer(cloud, seed=seed)
    _seed_state(cloud, fuzzer)
    result = fuzzer.run(REQUESTS_PER_SEED, SECONDS_PER_SEED)
    every_route = {(m, rule.rule) for rule, methods in fuzzer.rules for m in methods}
    print(
        f"fuzz seed {seed}: {result.sent} requests in {result.seconds:.1f}s over "
        f"{len(result.routes)}/{len(every_route)} routes; statuses "
        f"{dict(sorted(result.statuses.items()))}; findings {len(result.findings)}"
    )
    assert result.sent >= min(REQUESTS_PER_SEED, 500), "the fuzzer hardly ran"
    assert not result.findings, "\n".join(f.describe() for f in result.findings[:20])
    # every route was reached at least once, with every method it has
    assert result.routes == every_route or result.sent < REQUESTS_PER_SEED
