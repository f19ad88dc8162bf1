"""os-services, os-hypervisors, os-availability-zone and their effect on scheduling.

Sources: nova/api/openstack/compute/{services,hypervisors,availability_zone}.py,
doc/api_samples/os-services/v2.53, doc/api_samples/os-hypervisors/v2.53 and v2.88.
"""

from __future__ import annotations

import uuid

from .helpers import nova_error
from .lm import compute_services, update_service

SERVICE_KEYS = {
    "id",
    "binary",
    "disabled_reason",
    "host",
    "state",
    "status",
    "updated_at",
    "forced_down",
    "zone",
}


def _is_uuid(value):
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


# -- os-services ---------------------------------------------------------------------------
def test_services_list_2_53(admin):
    resp = admin.compute("GET", "/os-services", mv="2.53")
    assert resp.status_code == 200
    services = resp.json()["services"]
    computes = {s["host"]: s for s in services if s["binary"] == "nova-compute"}
    assert set(computes) == {"compute1", "compute2"}
    for s in computes.values():
        assert set(s) == SERVICE_KEYS
        assert _is_uuid(s["id"])
        assert (s["status"], s["state"], s["forced_down"], s["zone"]) == (
            "enabled",
            "up",
            False,
            "nova",
        )
        assert s["disabled_reason"] is None


def test_services_ids_are_integers_before_2_53(admin):
    services = admin.compute("GET", "/os-services", mv="2.52").json()["services"]
    assert services and all(isinstance(s["id"], int) for s in services)
    assert all("forced_down" in s for s in services)  # 2.11+


def test_services_filters(admin):
    resp = admin.compute(
        "GET", "/os-services", mv="2.53", params={"host": "compute1", "binary": "nova-compute"}
    )
    (svc,) = resp.json()["services"]
    assert svc["host"] == "compute1" and svc["binary"] == "nova-compute"


def test_disable_enable_2_53(admin):
    svc = update_service(admin, "compute1", status="disabled", disabled_reason="maintenance")
    assert set(svc) == SERVICE_KEYS
    assert (svc["status"], svc["disabled_reason"], svc["state"]) == (
        "disabled",
        "maintenance",
        "up",
    )
    assert compute_services(admin)["compute1"]["status"] == "disabled"
    svc = update_service(admin, "compute1", status="enabled")
    assert (svc["status"], svc["disabled_reason"]) == ("enabled", None)


def test_forced_down_2_53(admin):
    svc = update_service(admin, "compute2", forced_down=True)
    assert (svc["forced_down"], svc["state"], svc["status"]) == (True, "down", "enabled")
    svc = update_service(admin, "compute2", forced_down=False)
    assert (svc["forced_down"], svc["state"]) == (False, "up")


def test_enable_with_reason_is_400(admin):
    sid = compute_services(admin)["compute1"]["id"]
    resp = admin.compute(
        "PUT", f"/os-services/{sid}", mv="2.53", json={"status": "enabled", "disabled_reason": "x"}
    )
    assert nova_error(resp, 400) == "Specifying 'disabled_reason' with status 'enabled' is invalid."


def test_empty_update_is_400(admin):
    sid = compute_services(admin)["compute1"]["id"]
    resp = admin.compute("PUT", f"/os-services/{sid}", mv="2.53", json={})
    assert nova_error(resp, 400) == (
        "No updates were requested. Fields 'status' or 'forced_down' should be specified."
    )


def test_update_unknown_or_invalid_service(admin):
    missing = str(uuid.uuid4())
    resp = admin.compute("PUT", f"/os-services/{missing}", mv="2.53", json={"status": "disabled"})
    assert nova_error(resp, 404) == f"Service {missing} could not be found."
    resp = admin.compute("PUT", "/os-services/not-a-uuid", mv="2.53", json={"status": "disabled"})
    assert nova_error(resp, 400) == "Invalid uuid not-a-uuid"


def test_legacy_disable_and_force_down(admin):
    resp = admin.compute(
        "PUT",
        "/os-services/disable",
        mv="2.52",
        json={"host": "compute1", "binary": "nova-compute"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["service"] == {
        "host": "compute1",
        "binary": "nova-compute",
        "status": "disabled",
    }
    resp = admin.compute(
        "PUT",
        "/os-services/force-down",
        mv="2.52",
        json={"host": "compute1", "binary": "nova-compute", "forced_down": True},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["service"] == {
        "host": "compute1",
        "binary": "nova-compute",
        "forced_down": True,
    }
    svc = compute_services(admin)["compute1"]
    assert (svc["status"], svc["state"]) == ("disabled", "down")


def test_services_forbidden_for_member(member):
    resp = member.compute("GET", "/os-services", mv="2.53")
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-services:list to be performed."
    )


def test_disabled_service_excluded_from_scheduling(admin, ctl):
    update_service(admin, "compute1", status="disabled", disabled_reason="x")
    ids = [admin.boot(f"vm{i}") for i in range(4)]
    ctl.settle()
    assert {admin.server(s)["OS-EXT-SRV-ATTR:host"] for s in ids} == {"compute2"}


def test_forced_down_service_excluded_from_scheduling(admin, ctl):
    update_service(admin, "compute2", forced_down=True)
    ids = [admin.boot(f"vm{i}") for i in range(3)]
    ctl.settle()
    assert {admin.server(s)["OS-EXT-SRV-ATTR:host"] for s in ids} == {"compute1"}


def test_all_disabled_means_no_valid_host(admin, ctl):
    for h in ("compute1", "compute2"):
        update_service(admin, h, status="disabled")
    sid = admin.boot("nowhere")
    ctl.settle()
    srv = admin.server(sid)
    assert srv["status"] == "ERROR"
    assert srv["fault"]["message"].startswith("No valid host was found.")


# -- os-hypervisors --------------------------------------------------------------------------
def test_hypervisors_list_2_53(admin):
    resp = admin.compute("GET", "/os-hypervisors", mv="2.53")
    assert resp.status_code == 200
    hvs = resp.json()["hypervisors"]
    assert len(hvs) == 2
    for h in hvs:
        assert set(h) == {"hypervisor_hostname", "id", "state", "status"}
        assert _is_uuid(h["id"])
        assert (h["state"], h["status"]) == ("up", "enabled")


def test_hypervisors_detail_2_88_has_no_resource_stats(admin):
    resp = admin.compute("GET", "/os-hypervisors/detail", mv="2.88")
    hvs = resp.json()["hypervisors"]
    assert len(hvs) == 2
    for h in hvs:
        assert set(h) == {
            "host_ip",
            "hypervisor_hostname",
            "hypervisor_type",
            "hypervisor_version",
            "id",
            "service",
            "state",
            "status",
            "uptime",
        }
        assert h["service"]["host"] in ("compute1", "compute2")
        assert set(h["service"]) == {"disabled_reason", "host", "id"}


def test_hypervisors_detail_2_87_has_stats(admin, ctl):
    sid = admin.boot("vm")
    ctl.settle()
    host = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
    hvs = admin.compute("GET", "/os-hypervisors/detail", mv="2.87").json()["hypervisors"]
    by_host = {h["service"]["host"]: h for h in hvs}
    h = by_host[host]
    assert (h["vcpus"], h["memory_mb"], h["local_gb"]) == (16, 32768, 500)
    assert h["running_vms"] == 1
    assert h["vcpus_used"] == 1


def test_hypervisor_status_follows_service(admin):
    update_service(admin, "compute1", status="disabled", disabled_reason="m")
    update_service(admin, "compute2", forced_down=True)
    hvs = admin.compute("GET", "/os-hypervisors/detail", mv="2.88").json()["hypervisors"]
    by_host = {h["service"]["host"]: h for h in hvs}
    assert by_host["compute1"]["status"] == "disabled"
    assert by_host["compute1"]["service"]["disabled_reason"] == "m"
    assert by_host["compute2"]["state"] == "down"


def test_hypervisor_show_with_servers(admin, ctl):
    sid = admin.boot("vm")
    ctl.settle()
    host = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
    hvs = admin.compute("GET", "/os-hypervisors/detail", mv="2.88").json()["hypervisors"]
    hid = next(h["id"] for h in hvs if h["service"]["host"] == host)
    resp = admin.compute(
        "GET", f"/os-hypervisors/{hid}", mv="2.88", params={"with_servers": "true"}
    )
    assert resp.status_code == 200
    hv = resp.json()["hypervisor"]
    assert [s["uuid"] for s in hv["servers"]] == [sid]
    missing = str(uuid.uuid4())
    resp = admin.compute("GET", f"/os-hypervisors/{missing}", mv="2.88")
    assert nova_error(resp, 404) == f"Hypervisor with ID '{missing}' could not be found."


def test_hypervisors_forbidden_for_member(member):
    resp = member.compute("GET", "/os-hypervisors", mv="2.53")
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-hypervisors:list to be performed."
    )
    resp = member.compute("GET", "/os-hypervisors/detail", mv="2.53")
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-hypervisors:list-detail to be performed."
    )


# -- hosts added through the control API -------------------------------------------------------
def test_added_host_appears_everywhere(admin, ctl):
    ctl.add_host("compute3", vcpus=8, memory_mb=8192, disk_gb=100, zone="az2")
    assert "compute3" in compute_services(admin)
    assert compute_services(admin)["compute3"]["zone"] == "az2"
    assert "compute3" in admin.providers()
    inv = admin.inventories(admin.rp_uuid("compute3"))
    assert inv["VCPU"]["total"] == 8 and inv["MEMORY_MB"]["total"] == 8192
    assert inv["DISK_GB"]["total"] == 100
    hvs = admin.compute("GET", "/os-hypervisors", mv="2.53").json()["hypervisors"]
    assert len(hvs) == 3
    ctl.remove_host("compute3")
    assert "compute3" not in compute_services(admin)
    assert "compute3" not in admin.providers()


# -- availability zones ------------------------------------------------------------------------
def test_availability_zone_list(admin, member):
    for api in (admin, member):
        resp = api.compute("GET", "/os-availability-zone")
        assert resp.status_code == 200
        zones = {z["zoneName"]: z for z in resp.json()["availabilityZoneInfo"]}
        assert zones["nova"]["zoneState"] == {"available": True}
        assert zones["nova"]["hosts"] is None


def test_availability_zone_detail(admin, member):
    resp = admin.compute("GET", "/os-availability-zone/detail")
    assert resp.status_code == 200
    zones = {z["zoneName"]: z for z in resp.json()["availabilityZoneInfo"]}
    hosts = zones["nova"]["hosts"]
    assert {"compute1", "compute2"} <= set(hosts)
    svc = hosts["compute1"]["nova-compute"]
    assert svc["available"] is True and svc["active"] is True
    resp = member.compute("GET", "/os-availability-zone/detail")
    assert nova_error(resp, 403) == (
        "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed."
    )


def test_boot_into_availability_zone(admin, ctl):
    ctl.add_host("compute3", zone="az2")
    sid = admin.boot("zoned", availability_zone="az2")
    ctl.settle()
    srv = admin.server(sid)
    assert srv["OS-EXT-SRV-ATTR:host"] == "compute3"
    assert srv["OS-EXT-AZ:availability_zone"] == "az2"
    zones = admin.compute("GET", "/os-availability-zone").json()["availabilityZoneInfo"]
    assert "az2" in {z["zoneName"] for z in zones}


def test_boot_into_unknown_zone_400(admin):
    resp = admin.create_server("x", availability_zone="nowhere")
    assert nova_error(resp, 400) == "The requested availability zone is not available"


def test_hypervisor_running_vms_follow_live_migration(admin, ctl):
    sid = admin.boot("vm")
    ctl.settle()
    src = admin.server(sid)["OS-EXT-SRV-ATTR:host"]
    assert admin.live_migrate(sid, mv="2.80").status_code == 202
    ctl.settle()
    hvs = admin.compute("GET", "/os-hypervisors/detail", mv="2.87").json()["hypervisors"]
    by_host = {h["service"]["host"]: h for h in hvs}
    dst = "compute2" if src == "compute1" else "compute1"
    assert by_host[src]["running_vms"] == 0 and by_host[src]["vcpus_used"] == 0
    assert by_host[dst]["running_vms"] == 1 and by_host[dst]["vcpus_used"] == 1
