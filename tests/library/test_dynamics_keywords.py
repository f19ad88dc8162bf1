"""Progress, convergence and downtime keywords: argument checks, the probe, the checks."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest

from LiveMigLibrary.enums import ProbeMethod
from LiveMigLibrary.errors import CheckFailed, FakeCloudRequired, InvalidArgument, NotConfigured
from LiveMigLibrary.keywords.dynamics import progress_percent
from LiveMigLibrary.probe import DowntimeProbe

from .conftest import SERVER_ID

# -- argument checks before any cloud call ---------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"dirty_rate": -5}, "dirty_rate"),
        ({"dirty_rate": "fast"}, "dirty_rate"),
        ({"dirty_rate": float("nan")}, "dirty_rate"),
        ({"dirty_rate": 10, "working_set": float("inf")}, "working_set"),
    ],
)
def test_set_guest_workload_checks_numbers_first(lib, stub, kwargs, argument):
    with pytest.raises(InvalidArgument, match=f"Argument '{argument}'"):
        lib.set_guest_workload(SERVER_ID, **kwargs)
    assert stub.calls == []


@pytest.mark.parametrize(
    ("options", "argument", "allowed"),
    [
        ({"live_migration_downtime": 50}, "live_migration_downtime", "at least 100"),
        ({"live_migration_timeout_action": "pause"}, "live_migration_timeout_action", "abort"),
        ({"live_migration_permit_post_copy": "maybe"}, "live_migration_permit_post_copy", "true"),
        ({"live_migration_speed": 5}, "live_migration_speed", "options are"),
    ],
)
def test_set_fake_libvirt_options_checks_values_first(lib, stub, options, argument, allowed):
    with pytest.raises(InvalidArgument) as error:
        lib.set_fake_libvirt_options(**options)
    assert f"Argument '{argument}'" in str(error.value) and allowed in str(error.value)
    assert stub.calls == []


def test_fake_only_keywords_refuse_a_real_cloud(lib):
    with pytest.raises(FakeCloudRequired, match="Set Guest Workload"):
        lib.set_guest_workload(SERVER_ID, dirty_rate=10)
    with pytest.raises(FakeCloudRequired, match="Set Fake Libvirt Options"):
        lib.set_fake_libvirt_options(live_migration_downtime=200)


def test_link_bandwidth_needs_both_hosts_or_none(lib, stub):
    with pytest.raises(InvalidArgument, match="'destination'.*both source and destination"):
        lib.set_fake_link_bandwidth(100, source="compute1")
    with pytest.raises(InvalidArgument, match="'bandwidth' got 0.*more than 0"):
        lib.set_fake_link_bandwidth(0)
    assert stub.calls == []


def test_progress_percent_is_novas_formula():
    assert progress_percent({"memory_total": 200, "memory_remaining": 50}) == 75
    assert progress_percent({"memory_total": 0, "memory_remaining": 0}) is None


def test_monotonic_check_passes_and_fails_with_the_samples_named(lib):
    grow = [
        {"at": 0, "memory_total": 10, "memory_processed": 0, "disk_processed": 0},
        {"at": 5, "memory_total": 10, "memory_processed": 7, "disk_processed": 0},
        {"at": 10, "memory_total": 10, "memory_processed": 12, "disk_processed": 0},
    ]
    lib.migration_progress_should_grow_monotonically(grow)
    shrink = [*grow, {"at": 15, "memory_total": 10, "memory_processed": 11}]
    with pytest.raises(CheckFailed, match="memory_processed fell from 12 to 11 bytes"):
        lib.migration_progress_should_grow_monotonically(shrink)
    with pytest.raises(CheckFailed, match="Only 1 progress sample"):
        lib.migration_progress_should_grow_monotonically(grow[:1])
    flat = [grow[0], grow[0]]
    with pytest.raises(CheckFailed, match="stayed at 0 bytes"):
        lib.migration_progress_should_grow_monotonically(flat)


def test_downtime_on_a_real_cloud_needs_a_probe(lib):
    with pytest.raises(NotConfigured, match="Start Downtime Probe"):
        lib.migration_downtime_should_be_less_than(SERVER_ID, timedelta(seconds=5))
    with pytest.raises(InvalidArgument, match="'limit'"):
        lib.migration_downtime_should_be_less_than(SERVER_ID, timedelta(0))


# -- the downtime probe ------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_probe_refuses_an_unreachable_address_before_the_move(lib):
    port = _closed_port()
    with pytest.raises(NotConfigured, match=f"127.0.0.1 port {port} .TCP. does not answer"):
        lib.start_downtime_probe(SERVER_ID, address="127.0.0.1", port=port)
    with pytest.raises(InvalidArgument, match="'port' got 0"):
        lib.start_downtime_probe(SERVER_ID, address="127.0.0.1", port=0)


class _Listener:
    """A TCP port that can stop answering for a while (the server's switchover)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
                conn.close()
            except OSError:
                continue

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_probe_measures_the_longest_gap():
    listener = _Listener()
    probe = DowntimeProbe("127.0.0.1", ProbeMethod.TCP, listener.port, interval=0.05, timeout=0.2)
    assert probe.reachable()
    probe.start()
    time.sleep(0.3)
    port = listener.port
    listener.close()  # the server stops answering ...
    time.sleep(0.6)
    again = socket.socket()  # ... and answers again on the same port
    again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    again.bind(("127.0.0.1", port))
    again.listen(64)
    time.sleep(0.3)
    result = probe.stop()
    again.close()
    assert result.failures >= 2 and len(result.gaps) == 1
    assert 0.5 <= result.longest_gap <= 1.2
    assert result.as_dict()["downtime_seconds"] == round(result.longest_gap, 3)


def test_post_copy_status_can_be_waited_for():
    from LiveMigLibrary.enums import MigrationStatus

    status = MigrationStatus.parse("running (post-copy)")
    assert status is MigrationStatus.RUNNING_POST_COPY and not status.is_final
