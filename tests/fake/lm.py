"""Live-migration helpers shared by the live-migration test modules."""

from __future__ import annotations

from .helpers import advance_until

FINAL = {"completed", "error", "failed", "cancelled", "done"}
IN_PROGRESS = {"queued", "preparing", "running", "post-migrating"}
TINY = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}


def other(host):
    return "compute2" if host == "compute1" else "compute1"


def compute_services(api) -> dict[str, dict]:
    resp = api.compute("GET", "/os-services", mv="2.53", params={"binary": "nova-compute"})
    assert resp.status_code == 200, resp.text
    return {s["host"]: s for s in resp.json()["services"]}


def update_service(api, host, **body):
    sid = compute_services(api)[host]["id"]
    resp = api.compute("PUT", f"/os-services/{sid}", mv="2.53", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["service"]


def boot_on(admin, ctl, host, n=1, api=None, flavor="m1.tiny", prefix="pinned"):
    """Boot n servers that land on `host` by disabling every other compute service."""
    api = api or admin
    others = [h for h in compute_services(admin) if h != host]
    for h in others:
        update_service(admin, h, status="disabled", disabled_reason="pin")
    try:
        ids = [api.boot(f"{prefix}{i}", flavor=flavor) for i in range(n)]
        ctl.settle()
    finally:
        for h in others:
            update_service(admin, h, status="enabled")
    for sid in ids:
        srv = admin.server(sid)
        assert srv["status"] == "ACTIVE", srv
        assert srv["OS-EXT-SRV-ATTR:host"] == host, srv
    return ids


def status_of(admin, sid) -> str | None:
    """Status of the newest live-migration record; None while the (asynchronous)
    conductor has not created it yet."""
    migs = [
        m for m in admin.migrations(instance_uuid=sid) if m["migration_type"] == "live-migration"
    ]
    return max(migs, key=lambda m: m["id"])["status"] if migs else None


def run_until_status(admin, ctl, sid, wanted, step=0.25, limit=900):
    wanted = {wanted} if isinstance(wanted, str) else set(wanted)
    advance_until(ctl, lambda: status_of(admin, sid) in wanted, step=step, limit=limit)
    return admin.migration_of(sid)


def watch_statuses(admin, ctl, sid, step=0.25, limit=900) -> list[str]:
    """Advance the clock in small steps and record every distinct migration status."""
    seen: list[str] = []

    def pred():
        st = status_of(admin, sid)
        if st is not None and (not seen or seen[-1] != st):
            seen.append(st)
        return st in FINAL

    advance_until(ctl, pred, step=step, limit=limit)
    return seen


def wait_server_idle(admin, ctl, sid, limit=900):
    advance_until(
        ctl,
        lambda: admin.server(sid)["OS-EXT-STS:task_state"] is None,
        step=0.5,
        limit=limit,
    )
    return admin.server(sid)
