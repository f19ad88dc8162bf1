"""Draining a host: who moves, who is refused and why, queueing, failures, cleanup."""

from __future__ import annotations

import pytest

from LiveMigLibrary.errors import BatchFailed, InvalidArgument

from .conftest import texts


def servers_on_compute1(lib, count, name="d"):
    others = [h for h in lib.get_compute_hosts() if h != "compute1"]
    for host in others:
        lib.disable_compute_service(host, reason="keep new servers on compute1")
    servers = lib.create_servers(count, name=name)
    lib.wait_until_servers_are_active(*servers)
    for host in others:
        lib.enable_compute_service(host)
    return servers


def by_name(results):
    return {row["server"]: row for row in results}


def test_drain_moves_the_movable_and_refuses_the_rest_with_reasons(lib, infos):
    servers = servers_on_compute1(lib, 6)
    lib.stop_server(servers[0])
    lib.wait_until_server_status_is(servers[0], "SHUTOFF")
    lib._ctx.admin.conn.compute.lock_server(servers[1].id)
    lib._ctx.admin.conn.compute.suspend_server(servers[5].id)
    lib.wait_until_server_status_is(servers[5], "SUSPENDED")
    servers.insert(2, servers.pop())  # the refused ones first
    results = by_name(lib.live_migrate_all_servers_off_host("compute1", concurrency=2))
    assert results[servers[2].name]["result"] == "refused"
    assert results[servers[2].name]["reason"].startswith("SUSPENDED: Nova live-migrates only")
    del servers[2]
    assert results[servers[0].name]["result"] == "refused"
    assert results[servers[0].name]["reason"].startswith("SHUTOFF: Nova live-migrates only")
    assert results[servers[1].name]["result"] == "refused"
    assert results[servers[1].name]["reason"].startswith("locked")
    for server in servers[2:]:
        row = results[server.name]
        assert row["result"] == "moved", row
        assert row["destination"] in ("compute2", "compute3")
        lib.server_should_be_on_host(server, row["destination"])
        lib.allocations_of_consumer_should_be_on_host(server, row["destination"])
    # concurrency 2 from one source with max_concurrent_live_migrations=1: one queues
    assert any("queued" in results[s.name]["states"] for s in servers[2:])
    lines = texts(infos)
    assert "Drained compute1: 3 moved, 3 refused." in lines
    assert any(line.startswith("<b>Drain of compute1</b>") for line in lines)
    on_host = {s.name for s in lib.get_servers_on_host("compute1")}
    assert on_host == {name for name, row in results.items() if row["result"] == "refused"}


def test_locked_servers_move_when_asked(lib):
    servers = servers_on_compute1(lib, 1, "locked")
    lib._ctx.admin.conn.compute.lock_server(servers[0].id)
    (row,) = lib.live_migrate_all_servers_off_host("compute1", move_locked=True)
    assert row["result"] == "moved"


def test_concurrency_bounds_the_moves_in_progress(make_lib, infos):
    lib = make_lib(computes=3)
    servers = servers_on_compute1(lib, 6, "bound")
    lib.live_migrate_all_servers_off_host("compute1", concurrency=2)
    # never more than 2 migrations accepted but not finished
    in_progress: set[str] = set()
    peak = 0
    for line in texts(infos):
        if line.startswith("Migration of server "):
            name = line.split(":")[0].removeprefix("Migration of server ")
            status = line.split(": ")[1].split(" ")[0]
            if status in ("completed", "error", "failed", "cancelled"):
                in_progress.discard(name)
            else:
                in_progress.add(name)
            peak = max(peak, len(in_progress))
    assert peak == 2
    assert len(servers) == 6


def test_a_failed_move_is_reported_with_its_reason_and_fails_the_keyword(lib):
    servers = servers_on_compute1(lib, 3, "f")
    lib.inject_fake_cloud_fault("live_migration", "error", server=servers[1].name)
    with pytest.raises(BatchFailed) as error:
        lib.live_migrate_all_servers_off_host("compute1", concurrency=3)
    assert str(error.value) == (
        f"1 of 3 moves off compute1 failed: {servers[1].name}: migration ended failed."
    )
    results = by_name(
        lib.live_migrate_all_servers_off_host("compute1", fail_on_failed=False)
    )  # what is left: the server whose move failed, now moved
    assert [row["result"] for row in results.values()] == ["moved"]


def test_disable_first_is_undone_by_cleanup(lib):
    servers_on_compute1(lib, 1, "dis")
    lib.live_migrate_all_servers_off_host("compute1", disable=True, reason="patching")
    lib.compute_service_should_be("compute1", status="disabled")
    service = next(s for s in lib._ctx.admin.compute_services() if s.host == "compute1")
    assert service.disabled_reason == "patching"
    lib.delete_created_resources()
    lib.compute_service_should_be("compute1", status="enabled")


def test_an_empty_host_drains_to_nothing(lib, infos):
    assert lib.live_migrate_all_servers_off_host("compute3") == []
    assert "Drained compute3: empty." in texts(infos)


def test_drain_arguments_are_checked_first(lib):
    with pytest.raises(InvalidArgument, match="'target' got 'compute1'; allowed: a compute host"):
        lib.live_migrate_all_servers_off_host("compute1", target="compute1")
    with pytest.raises(InvalidArgument, match="'concurrency'"):
        lib.live_migrate_all_servers_off_host("compute1", concurrency=1000)
    assert not lib._ctx.connected
    with pytest.raises(InvalidArgument, match="'host' got 'nowhere'"):
        lib.live_migrate_all_servers_off_host("nowhere")
