"""Batch keywords against the embedded fake: concurrent calls, one wait, combined failures."""

from __future__ import annotations

import threading

import pytest

from LiveMigLibrary.errors import BatchFailed, InvalidArgument, UnexpectedState, WaitTimeout
from LiveMigLibrary.keywords.batch import max_in_flight
from LiveMigLibrary.models import Server
from LiveMigLibrary.tracker import ResourceTracker

from .conftest import texts


def active_servers(lib, count, name="s"):
    servers = lib.create_servers(count, name=name)
    lib.wait_until_servers_are_active(*servers)
    return servers


def test_gathering_servers_of_a_multi_create_on_one_host(lib, infos):
    servers = active_servers(lib, 4, "gather")
    target = lib.get_server_host(servers[0])
    movers = lib.get_servers_not_on_host(target, *servers)
    assert movers and servers[0] not in movers
    assert lib.get_servers_on_host(target, *servers) == [s for s in servers if s not in movers]
    lib.live_migrate_servers(*movers, host=target, concurrency=3)
    migrations = lib.wait_until_migrations_of_servers_are(movers, "completed")
    assert [m.server_id for m in migrations] == [s.id for s in movers]
    assert all(m.destination == target and m.status == "completed" for m in migrations)
    lib.servers_should_be_on_host(target, *servers)
    everyone = lib.get_servers_on_host(target)
    assert {s.id for s in servers} <= {s.id for s in everyone}
    lines = texts(infos)
    # one line per state change of each migration, and the time axis at the end
    for server in movers:
        assert any(f"Migration of server {server.name}: completed" in line for line in lines)
    assert any("in progress at once" in line for line in lines)
    # the evidence layer draws every migration of the wait on one time axis, in one block
    blocks = [line for line in lines if line.startswith('<div class="livemig-migrations"')]
    assert len(blocks) == 1
    assert f"{len(movers)} migrations: {len(movers)} completed" in blocks[0]
    assert all(server.name in blocks[0] for server in movers)


def test_a_move_queued_behind_another_from_the_same_source_is_logged_queued(make_lib, infos):
    lib = make_lib(computes=2)
    lib.disable_compute_service("compute2", reason="keep both on compute1")
    servers = active_servers(lib, 2, "q")
    lib.enable_compute_service("compute2")
    lib.live_migrate_servers(*servers, host="compute2")
    lib.wait_until_migrations_of_servers_are(servers, "completed")
    assert any(": queued (migration" in line for line in texts(infos))
    assert any("up to 2 in progress at once" in line for line in texts(infos))


def test_servers_should_be_on_host_names_every_offender(lib):
    servers = active_servers(lib, 3, "spread")
    hosts = {s.name: lib.get_server_host(s) for s in servers}
    assert len(set(hosts.values())) == 3
    with pytest.raises(Exception) as error:
        lib.servers_should_be_on_host("compute1", *servers)
    message = str(error.value)
    assert message.startswith("2 of 3 servers are not on host compute1: ")
    for name, host in hosts.items():
        if host != "compute1":
            assert f"{name} is on host {host}" in message


def test_concurrent_creates_are_separate_requests_in_flight_together(lib, infos):
    servers = lib.create_servers_concurrently(4, name="rush")
    assert [s.name for s in servers] == [f"{lib.get_run_prefix()}-rush-{i}" for i in (1, 2, 3, 4)]
    assert all(s.reservation_id is None for s in servers)
    lib.wait_until_servers_are_active(*servers)
    summary = next(line for line in texts(infos) if line.startswith("Sent 4 create requests"))
    assert "up to 4 at a time" in summary
    # each request made its own reservation: no shared multi-create
    reservations = {lib._ctx.admin.conn.compute.get_server(s.id).reservation_id for s in servers}
    assert len(reservations) == 4


def test_refused_creates_fail_once_naming_each_and_the_rest_are_cleaned_up(lib):
    # the fake enforces Nova's default quota of 10 instances: 2 of 12 requests are refused
    with pytest.raises(BatchFailed) as error:
        lib.create_servers_concurrently(12, name="quota", concurrency=6)
    message = str(error.value)
    assert message.startswith("2 of 12 create requests failed: ")
    assert message.count("HTTP 403") == 2 and "Quota exceeded" in message
    # what to do about a quota, once, not "the user lacks the permission"
    assert message.count("The project's quota is used up") == 1, message
    assert "lacks the permission" not in message
    assert len(lib._ctx.tracker.servers) == 10
    lib.delete_created_resources()
    lib.no_server_of_this_run_should_exist()


def test_refused_moves_are_reported_together_and_the_others_go_on(lib):
    servers = active_servers(lib, 3, "mixed")
    lib.stop_server(servers[1])
    lib.wait_until_server_status_is(servers[1], "SHUTOFF")
    with pytest.raises(BatchFailed) as error:
        lib.live_migrate_servers(*servers, concurrency=3)
    message = str(error.value)
    assert message.startswith("1 of 3 live migration requests failed: ")
    assert servers[1].name in message and "HTTP 409" in message
    moved = [servers[0], servers[2]]
    lib.wait_until_migrations_of_servers_are(moved, "completed")


def test_the_wait_waits_for_all_then_names_every_failed_migration(lib):
    servers = active_servers(lib, 3, "fail")
    for server in servers[:2]:
        lib.inject_fake_cloud_fault("live_migration", "error", server=server.name)
    lib.live_migrate_servers(*servers)
    with pytest.raises(UnexpectedState) as error:
        lib.wait_until_migrations_of_servers_are(servers, "completed")
    message = str(error.value)
    assert message.startswith("2 of 3 did not reach migration status completed: ")
    assert message.count("ended failed") == 2
    # each is explained as Wait Until Migration Of Server Is explains one
    assert message.count("The cloud's API gives no reason") == 2, message
    assert servers[2].name not in message
    lib.server_should_have_no_migration_in_progress(servers[2])


def test_the_wait_times_out_naming_what_each_pending_migration_is(lib):
    servers = active_servers(lib, 2, "hang")
    lib.inject_fake_cloud_fault("live_migration", "hang", server=servers[0].name)
    lib.live_migrate_servers(*servers)
    with pytest.raises(WaitTimeout) as error:
        lib.wait_until_migrations_of_servers_are(servers, "completed", timeout=30)
    message = str(error.value)
    assert "1 of 2 did not reach migration status completed within 30 seconds" in message
    assert f"Migration of server {servers[0].name} running" in message


def test_many_servers_are_polled_with_one_listing_per_step(make_lib):
    lib = make_lib(computes=4)
    servers = active_servers(lib, 8, "many")
    lib.live_migrate_servers(*servers, concurrency=8)
    calls = []
    admin = lib._ctx.admin
    original = admin.list_migrations

    def counting(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    admin.list_migrations = counting
    lib.wait_until_migrations_of_servers_are(servers, "completed", poll_interval=1)
    assert calls and all(c.get("server_id") is None for c in calls)
    assert all(c.get("changes_since") for c in calls)


def test_retries_in_worker_threads_reach_the_log_from_the_main_thread(lib, infos):
    servers = active_servers(lib, 2, "retry")
    # the first listing of a server's migrations (in a worker) is answered 503 once
    lib.inject_fake_cloud_fault("api", "status", status=503, path="*/os-migrations", count=1)
    lib.live_migrate_servers(*servers)
    retries = [(thread, msg) for thread, _, msg in infos if "retry 1 of 3" in msg]
    assert len(retries) == 1
    assert retries[0][0] == threading.main_thread().name
    lib.wait_until_migrations_of_servers_are(servers, "completed")


def test_arguments_are_checked_before_the_cloud_is_asked(lib):
    with pytest.raises(InvalidArgument, match="'concurrency' got 0; allowed: a whole number"):
        lib.live_migrate_servers("x", concurrency=0)
    with pytest.raises(InvalidArgument, match="'count' got 101"):
        lib.create_servers_concurrently(101)
    with pytest.raises(InvalidArgument, match="'servers'"):
        lib.live_migrate_servers()
    assert not lib._ctx.connected
    servers = active_servers(lib, 1, "arg")
    with pytest.raises(InvalidArgument, match="'host' got 'nowhere'; allowed: a compute host"):
        lib.live_migrate_servers(*servers, host="nowhere")
    with pytest.raises(InvalidArgument, match="'host' got 'other'; allowed: keys that are"):
        lib.live_migrate_servers(*servers, host={"other": "compute1"})
    with pytest.raises(InvalidArgument, match="'host\\[.*-arg\\]' got 'nowhere'"):
        lib.live_migrate_servers(*servers, host={servers[0].name: "nowhere"})
    with pytest.raises(InvalidArgument, match="each server once"):
        lib.live_migrate_servers(servers[0], servers[0].id)


def test_tracker_keeps_every_server_added_from_many_threads():
    tracker = ResourceTracker()

    def add(start):
        for i in range(start, start + 500):
            tracker.add_servers([Server(f"id-{i}", f"n-{i}")])

    threads = [threading.Thread(target=add, args=(n * 500,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tracker.servers) == 4000


def test_max_in_flight_counts_overlapping_requests():
    assert max_in_flight([(0, 2), (1, 3), (2.5, 4)]) == 2
    assert max_in_flight([(0, 1), (1, 2)]) == 1
    assert max_in_flight([]) == 0


def test_leaving_a_batch_waits_for_requests_in_flight_and_drops_the_rest():
    """A Robot timeout or a stopped run interrupts the main thread: every request already
    sent still returns (and records what it created) before the keyword gives up."""
    import time

    from LiveMigLibrary.concurrency import Workers

    created: list[int] = []

    def slow_create(number: int) -> int:
        time.sleep(0.2)
        created.append(number)
        return number

    with pytest.raises(KeyboardInterrupt):
        with Workers(2) as workers:
            for number in range(6):
                workers.submit(slow_create, number)
            raise KeyboardInterrupt  # what Robot raises in the main thread on a timeout
    assert sorted(created) == [0, 1]


def test_refused_moves_are_explained_and_what_to_do_is_said_once(lib):
    servers = active_servers(lib, 2, "why")
    sources = {lib.get_server_host(s) for s in servers}
    target = next(h for h in lib.get_compute_hosts() if h not in sources)
    lib.disable_compute_service(target, reason="maintenance")
    with pytest.raises(BatchFailed) as error:
        lib.live_migrate_servers(*servers, host=target)
    message = str(error.value)
    assert message.startswith("2 of 2 live migration requests failed: ")
    assert message.count(f"{target}'s nova-compute is disabled ('maintenance')") == 2, message
    assert message.count("fix what its message points to") == 1, message
    assert ".;" not in message and message.endswith("Live Migration Of Server Should Be Refused.")
