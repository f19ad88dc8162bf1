"""A long-running fake stays bounded: deleted servers are kept (with their instance actions
and migration records) up to `keep_deleted`, as Nova keeps soft-deleted rows until they are
archived; revoked and expired tokens are forgotten."""

from __future__ import annotations

import datetime as dt

import pytest

from LiveMigLibrary.fake import FakeCloud

from .test_settling import Rest, create


def churn(cloud: FakeCloud, api: Rest, n: int) -> list[str]:
    ids = []
    for i in range(n):
        create(api, f"churn{i}")
        cloud.control.settle()
        sid = next(s["id"] for s in api.servers() if s["name"] == f"churn{i}")
        move = {"os-migrateLive": {"host": None, "block_migration": "auto"}}
        assert api.call("POST", f"/servers/{sid}/action", move)[0] == 202
        cloud.control.settle()
        assert api.call("DELETE", f"/servers/{sid}")[0] == 204
        cloud.control.settle()
        ids.append(sid)
    return ids


def test_only_the_newest_deleted_servers_are_kept_with_their_records():
    cloud = FakeCloud(computes=2, keep_deleted=3)
    api = Rest(cloud)
    ids = churn(cloud, api, 5)
    store = cloud.backend.store
    assert list(store.deleted) == ids[2:]
    for sid in ids[:2]:  # purged: as if archived and purged by nova-manage
        assert sid not in store.actions and sid not in store.migrations_by_instance
        assert api.call("GET", f"/servers/{sid}")[0] == 404
    assert {m.instance_uuid for m in store.migrations.values()} == set(ids[2:])
    for sid in ids[2:]:  # still readable, as Nova's soft-deleted rows are
        status, body = api.call("GET", f"/servers/{sid}/os-instance-actions", mv="2.21")
        assert status == 200 and {a["action"] for a in body["instanceActions"]} >= {"create"}
    assert len(store.migrations) == len(store.migration_by_uuid) == 3


def test_keep_deleted_is_checked_and_survives_reset():
    with pytest.raises(ValueError, match="keep_deleted"):
        FakeCloud(keep_deleted=-1)
    cloud = FakeCloud(keep_deleted=0)
    cloud.control.reset()
    api = Rest(cloud)
    churn(cloud, api, 1)
    assert cloud.backend.store.deleted == {}


def test_revoking_a_token_forgets_expired_ones_too():
    cloud = FakeCloud()
    ident = cloud.backend.identity
    password = ident.users["demo"].password
    old = ident.authenticate("demo", None, password, None)
    old.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    other = ident.authenticate("demo", None, password, None)
    ident.revoke(other.id)
    assert old.id not in ident.tokens and other.id not in ident.tokens
