"""The parity corpus: request sequences every cloud must answer as Nova does.

Each scenario is a function of a ``parity.Session``: ``s.call(label, ...)`` sends a call
whose normalised answer is recorded (from real Nova) or compared (against the fake);
the other helpers set up state without recording. Labels are unique within a scenario.
Covered: every endpoint the library and the suites use (servers, multi-create,
os-migrateLive, migrations, instance actions, services, hypervisors, placement
providers and allocations), their negative cases, and the calls of issue 9, item 4.
Identity and image are left out: the harness's keystone and glance are stand-ins.
"""

from __future__ import annotations

import uuid

LIVE = "os-migrateLive"
# Where Nova's fake virt driver (which the harness runs) answers unlike a libvirt compute
# and the fake models libvirt: deliberate differences, masked in the comparison.
DEST_HOST = {
    "dest_host": "Nova's fake virt driver leaves a live migration's dest_host null; on "
    "libvirt it is the destination's address, which the fake reports"
}
UPTIME = {
    "uptime": "Nova's fake virt driver reports no uptime; libvirt computes do, and so does the fake"
}


def versions_and_errors(s):
    """Version documents, microversion negotiation and the shapes of unknown URLs."""
    s.call("compute version document", "GET", "", mv="2.1")
    s.call(
        "unsupported microversion is 406 with version headers",
        "GET",
        "/servers",
        mv="3.0",
        keep_headers=("OpenStack-API-Version", "X-OpenStack-Nova-API-Version", "Vary"),
    )
    s.call("malformed microversion is 400", "GET", "/servers", mv="2.x")
    s.call(
        "latest echoes the maximum",
        "GET",
        "/servers",
        mv="latest",
        keep_headers=("OpenStack-API-Version", "Vary"),
    )
    s.call("unknown URL is 404 without a JSON body", "GET", "/no-such-thing", mv="2.1")
    s.call("DELETE /servers is 404", "DELETE", "/servers", mv="2.1")
    s.call("unknown server is 404", "GET", f"/servers/{uuid.uuid4()}", mv="2.1")
    s.call("placement root", "GET", "/", service="placement")
    s.call(
        "placement unsupported microversion",
        "GET",
        "/resource_providers",
        service="placement",
        mv="1.99",
    )
    s.call("flavor m1.tiny", "GET", "/flavors/1", mv="2.61")


def servers(s):
    """Server create, show, list, update, tags, lock and their shapes."""
    (one,) = s.create_servers(1, "shape")
    for mv in ("2.1", "2.47", "2.74", "2.96", "2.100"):
        s.call(f"show at {mv}", "GET", f"/servers/{one}", mv=mv)
    s.call("show as member of another project", "GET", f"/servers/{one}", mv="2.74", who="member")
    s.call("list", "GET", "/servers", mv="2.74")
    s.call("detail list", "GET", "/servers/detail", mv="2.74")
    s.call(
        "update name",
        "PUT",
        f"/servers/{one}",
        mv="2.74",
        body={"server": {"name": "shape-renamed"}},
    )
    s.call("put a tag", "PUT", f"/servers/{one}/tags/blue", mv="2.26")
    s.call("get a tag", "GET", f"/servers/{one}/tags/blue", mv="2.26")
    s.call("tag list", "GET", f"/servers/{one}/tags", mv="2.26")
    s.call("show has tags", "GET", f"/servers/{one}", mv="2.26")
    s.call(
        "lock with locked_reason at 2.72 (ignored)",
        "POST",
        f"/servers/{one}/action",
        mv="2.72",
        body={"lock": {"locked_reason": "maintenance"}},
    )
    s.call("unlock", "POST", f"/servers/{one}/action", mv="2.73", body={"unlock": None})
    s.call(
        "lock with locked_reason at 2.73",
        "POST",
        f"/servers/{one}/action",
        mv="2.73",
        body={"lock": {"locked_reason": "maintenance"}},
    )
    s.call("show locked", "GET", f"/servers/{one}", mv="2.73")
    s.call("list locked=true", "GET", "/servers/detail?locked=true", mv="2.73")
    s.call("bad locked value", "GET", "/servers/detail?locked=maybe", mv="2.73")
    s.call(
        "live migration of a locked server",
        "POST",
        f"/servers/{one}/action",
        mv="2.30",
        body={LIVE: {"host": None, "block_migration": "auto"}},
    )
    s.wait_server(one)  # an admin ignores the lock: the migration runs, wait for its end
    s.call("unlock again", "POST", f"/servers/{one}/action", mv="2.73", body={"unlock": None})
    s.call("actions list has lock and unlock", "GET", f"/servers/{one}/os-instance-actions")
    host = s.host_of(one)
    s.alias(host, "host")
    s.call("list by node", "GET", f"/servers/detail?node={host}", mv="2.74")
    s.call("bad sort_key", "GET", "/servers/detail?sort_key=bogus", mv="2.74")
    s.call("stop", "POST", f"/servers/{one}/action", mv="2.74", body={"os-stop": None})
    s.wait_server(one, "SHUTOFF")
    s.call(
        "live migration of a stopped server",
        "POST",
        f"/servers/{one}/action",
        mv="2.30",
        body={LIVE: {"host": None, "block_migration": "auto"}},
    )
    s.call("delete", "DELETE", f"/servers/{one}", mv="2.74")
    s.wait(
        "server deleted",
        lambda: s.get(f"/servers/{one}", mv="2.74").status == 404,
    )
    s.call("deleted server is 404", "GET", f"/servers/{one}", mv="2.74")
    s.wait(
        "the deleted server listed as deleted",
        lambda: s.get("/servers/detail?deleted=true&name=shape", mv="2.74").body.get("servers"),
    )
    s.call("admin lists deleted", "GET", "/servers/detail?deleted=true&name=shape", mv="2.74")


def create_with_host(s):
    """Create with ``host`` / ``hypervisor_hostname`` (2.74)."""
    hosts = s.compute_hosts()
    s.alias(hosts[-1], "chosen")

    def body(**extra):
        server = {"name": "pinned", "imageRef": IMAGE, "flavorRef": "1", "networks": "none"}
        return {"server": dict(server, **extra)}

    s.call("unknown host is 400", "POST", "/servers", mv="2.74", body=body(host="nohost"))
    s.call(
        "unknown hypervisor_hostname is 400",
        "POST",
        "/servers",
        mv="2.74",
        body=body(hypervisor_hostname="nohost"),
    )
    s.call(
        "member may not choose a host",
        "POST",
        "/servers",
        mv="2.74",
        who="member",
        body=body(host=hosts[-1]),
    )
    s.call("host below 2.74 is 400", "POST", "/servers", mv="2.73", body=body(host=hosts[-1]))
    reply = s.call(
        "admin's host is honoured", "POST", "/servers", mv="2.74", body=body(host=hosts[-1])
    )
    if reply.status == 202:
        sid = reply.body["server"]["id"]
        s.created.append(sid)
        s.alias(sid, "pinned")
        s.wait_server(sid)
        s.call("pinned server's host", "GET", f"/servers/{sid}", mv="2.74")


def live_migration(s):
    """The flagship: live-migrate one server of a multi-create; records, actions, allocations."""
    first, second = s.create_servers(2, "flagship")
    source, target = s.host_of(first), s.host_of(second)
    if target == source:  # the flagship moves it to its sibling's host, as the README does
        target = next(h for h in s.compute_hosts() if h != source)
    s.alias(source, "source")
    s.alias(target, "target")
    src_rp, dst_rp = s.provider(source), s.provider(target)
    s.alias(src_rp, "source_rp")
    s.alias(dst_rp, "target_rp")
    s.call("allocations before", "GET", f"/allocations/{first}", service="placement", mv="1.28")
    s.call(
        "live migrate to the named host",
        "POST",
        f"/servers/{first}/action",
        mv="2.30",
        body={LIVE: {"host": target, "block_migration": "auto"}},
    )
    migration = s.wait_migration(first, "completed")
    s.alias(migration["uuid"], "migration")
    s.wait_server(first)
    for mv in ("2.1", "2.23", "2.59", "2.80"):
        s.call(
            f"os-migrations at {mv}",
            "GET",
            f"/os-migrations?instance_uuid={first}",
            mv=mv,
            deliberate=DEST_HOST,
        )
    s.call(
        "os-migrations migration_type at 2.1",
        "GET",
        "/os-migrations?migration_type=evacuation",
        mv="2.1",
    )
    s.call(
        "os-migrations migration_type at 2.23",
        "GET",
        f"/os-migrations?migration_type=live-migration&instance_uuid={first}",
        mv="2.23",
        deliberate=DEST_HOST,
    )
    s.call("os-migrations bad user_id at 2.59", "GET", "/os-migrations?user_id=x", mv="2.59")
    s.call("os-migrations unknown param at 2.80", "GET", "/os-migrations?bogus=1", mv="2.80")
    s.call("os-migrations as member", "GET", "/os-migrations", mv="2.80", who="member")
    s.call("server migrations after completion", "GET", f"/servers/{first}/migrations", mv="2.80")
    s.call(
        "finished server migration is 404",
        "GET",
        f"/servers/{first}/migrations/{migration['id']}",
        mv="2.80",
    )
    s.call("server on the target", "GET", f"/servers/{first}", mv="2.80")
    s.call("allocations after", "GET", f"/allocations/{first}", service="placement", mv="1.28")
    s.call(
        "migration consumer holds nothing",
        "GET",
        f"/allocations/{migration['uuid']}",
        service="placement",
        mv="1.28",
    )
    s.call("source usages", "GET", f"/resource_providers/{src_rp}/usages", service="placement")
    s.call("target usages", "GET", f"/resource_providers/{dst_rp}/usages", service="placement")
    actions = s.call("instance actions", "GET", f"/servers/{first}/os-instance-actions", mv="2.58")
    live = [a for a in actions.body["instanceActions"] if a["action"] == "live-migration"]
    if live:
        rid = live[0]["request_id"]
        s.call(
            "live-migration action with events",
            "GET",
            f"/servers/{first}/os-instance-actions/{rid}",
            mv="2.58",
        )
        s.call(
            "actions limit=1",
            "GET",
            f"/servers/{first}/os-instance-actions?limit=1",
            mv="2.58",
        )
        s.call(
            "actions limit=0",
            "GET",
            f"/servers/{first}/os-instance-actions?limit=0",
            mv="2.58",
        )
        s.call(
            "actions after a marker",
            "GET",
            f"/servers/{first}/os-instance-actions?marker={rid}",
            mv="2.58",
        )
    s.call(
        "actions unknown marker",
        "GET",
        f"/servers/{first}/os-instance-actions?marker=req-{uuid.uuid4()}",
        mv="2.58",
    )
    s.call(
        "actions changes-since the future",
        "GET",
        f"/servers/{first}/os-instance-actions?changes-since=2999-01-01T00:00:00Z",
        mv="2.58",
    )
    s.call(
        "actions changes-before the past",
        "GET",
        f"/servers/{first}/os-instance-actions?changes-before=2000-01-01T00:00:00Z",
        mv="2.66",
    )
    s.call(
        "abort on a server that is not migrating",
        "DELETE",
        f"/servers/{first}/migrations/{migration['id']}",
        mv="2.24",
    )
    s.call(
        "force-complete on a server that is not migrating",
        "POST",
        f"/servers/{first}/migrations/{migration['id']}/action",
        mv="2.22",
        body={"force_complete": None},
    )
    s.call("second server untouched", "GET", f"/servers/{second}", mv="2.80")


def live_migration_refusals(s):
    """Live migrations Nova refuses, synchronously (2.30) and asynchronously (2.34+)."""
    (one,) = s.create_servers(1, "refused")
    source = s.host_of(one)
    others = [h for h in s.compute_hosts() if h != source]
    s.alias(source, "source")
    s.alias(others[0], "other")
    s.alias(others[1], "third")
    url = f"/servers/{one}/action"
    s.call("unknown host at 2.30", "POST", url, mv="2.30", body={LIVE: _lm("nohost")})
    s.call("same host at 2.30", "POST", url, mv="2.30", body={LIVE: _lm(source)})
    s.call(
        "extra key names os-migrateLive",
        "POST",
        url,
        mv="2.30",
        body={LIVE: dict(_lm(None), bogus=1)},
    )
    s.call(
        "force removed at 2.68",
        "POST",
        url,
        mv="2.68",
        body={LIVE: dict(_lm(None), force=False)},
    )
    s.call(
        "block_migration auto below 2.25",
        "POST",
        url,
        mv="2.24",
        body={LIVE: {"host": None, "block_migration": "auto", "disk_over_commit": False}},
    )
    s.call("member is forbidden", "POST", url, mv="2.30", who="member", body={LIVE: _lm(None)})
    s.set_service(others[0], status="disabled", disabled_reason="parity")
    s.call("disabled host at 2.30", "POST", url, mv="2.30", body={LIVE: _lm(others[0])})
    s.call("disabled host at 2.34 is accepted", "POST", url, mv="2.34", body={LIVE: _lm(others[0])})
    s.wait_migration(one, "error")
    s.wait_server(one)
    s.call(
        "async failure leaves an error record",
        "GET",
        f"/os-migrations?instance_uuid={one}",
        mv="2.80",
        deliberate=DEST_HOST,
    )
    s.call("server back to ACTIVE on the source", "GET", f"/servers/{one}", mv="2.80")
    s.set_service(others[1], forced_down=True)
    s.call("forced-down host at 2.30", "POST", url, mv="2.30", body={LIVE: _lm(others[1])})


def _lm(host):
    return {"host": host, "block_migration": "auto"}


def services_and_hypervisors(s):
    """os-services and os-hypervisors as the library and the suites use them."""
    hosts = s.compute_hosts()
    for i, h in enumerate(hosts, 1):
        s.alias(h, f"host{i}")
    s.call("services at 2.1", "GET", "/os-services", mv="2.1")
    s.call("services at 2.53", "GET", "/os-services", mv="2.53")
    s.call("compute services of one host", "GET", f"/os-services?host={hosts[0]}", mv="2.53")
    s.call("services as member", "GET", "/os-services", mv="2.53", who="member")
    s.set_service(hosts[0], "disable with a reason", status="disabled", disabled_reason="parity")
    s.set_service(hosts[0], "enable again", status="enabled")
    s.set_service(hosts[0], "force down", forced_down=True)
    s.set_service(hosts[0], "force up", forced_down=False)
    sid = s.service_id(hosts[0])
    s.call("PUT bad body at 2.53", "PUT", f"/os-services/{sid}", mv="2.53", body={"bogus": 1})
    s.call("PUT by uuid at 2.52", "PUT", f"/os-services/{sid}", mv="2.52", body={"bogus": 1})
    s.call(
        "force-down at 2.10 checks the body first",
        "PUT",
        "/os-services/force-down",
        mv="2.10",
        body={"bogus": 1},
    )
    s.call(
        "force-down at 2.11",
        "PUT",
        "/os-services/force-down",
        mv="2.11",
        body={"host": hosts[0], "binary": "nova-compute", "forced_down": False},
    )
    s.call("member DELETE service", "DELETE", f"/os-services/{sid}", mv="2.53", who="member")
    s.call("hypervisors at 2.1", "GET", "/os-hypervisors", mv="2.1")
    s.call("hypervisors detail at 2.53", "GET", "/os-hypervisors/detail", mv="2.53")
    s.call(
        "hypervisors detail at 2.88",
        "GET",
        "/os-hypervisors/detail",
        mv="2.88",
        deliberate=UPTIME,
    )
    for mv in ("2.33", "2.53"):
        s.call(f"hypervisors limit=1 at {mv}", "GET", "/os-hypervisors?limit=1", mv=mv)
        s.call(
            f"hypervisors detail limit=2 at {mv}", "GET", "/os-hypervisors/detail?limit=2", mv=mv
        )
        s.call(f"hypervisors bad marker at {mv}", "GET", "/os-hypervisors?marker=999999", mv=mv)
        s.call(f"hypervisors bad limit at {mv}", "GET", "/os-hypervisors?limit=-1", mv=mv)
    s.call(
        "hypervisors pattern with limit at 2.53",
        "GET",
        "/os-hypervisors?hypervisor_hostname_pattern=compute&limit=1",
        mv="2.53",
    )
    s.call("hypervisor non-uuid id at 2.53", "GET", "/os-hypervisors/1", mv="2.53")
    hyp = s.get("/os-hypervisors?hypervisor_hostname_pattern=" + hosts[0], mv="2.53")
    hid = hyp.body["hypervisors"][0]["id"]
    s.call("hypervisor show at 2.88", "GET", f"/os-hypervisors/{hid}", mv="2.88", deliberate=UPTIME)
    s.call("hypervisors as member", "GET", "/os-hypervisors", mv="2.53", who="member")
    s.call("availability zones", "GET", "/os-availability-zone/detail", mv="2.1")


def placement(s):
    """Placement as the library reads it, and the allocation writes Nova's report client does."""
    hosts = s.compute_hosts()
    rp = s.provider(hosts[0])
    s.alias(hosts[0], "host1")
    s.alias(rp, "rp1")
    s.call("providers at 1.14", "GET", "/resource_providers", service="placement", mv="1.14")
    s.call("provider at 1.0", "GET", f"/resource_providers/{rp}", service="placement", mv="1.0")
    s.call("provider at 1.14", "GET", f"/resource_providers/{rp}", service="placement", mv="1.14")
    s.call("inventories", "GET", f"/resource_providers/{rp}/inventories", service="placement")
    s.call("usages", "GET", f"/resource_providers/{rp}/usages", service="placement", mv="1.9")
    s.call(
        "traits of a provider",
        "GET",
        f"/resource_providers/{rp}/traits",
        service="placement",
        mv="1.6",
    )
    s.call("traits", "GET", "/traits?name=startswith:COMPUTE_STATUS", service="placement", mv="1.6")
    s.call(
        "allocation candidates",
        "GET",
        "/allocation_candidates?resources=VCPU:1,MEMORY_MB:512,DISK_GB:1",
        service="placement",
        mv="1.10",
    )
    missing = str(uuid.uuid4())
    s.call(
        "unknown provider at 1.22",
        "GET",
        f"/resource_providers/{missing}",
        service="placement",
        mv="1.22",
    )
    s.call(
        "unknown provider at 1.23",
        "GET",
        f"/resource_providers/{missing}",
        service="placement",
        mv="1.23",
    )
    s.call(
        "allocations of nobody", "GET", f"/allocations/{missing}", service="placement", mv="1.28"
    )
    s.call(
        "providers as member",
        "GET",
        "/resource_providers",
        service="placement",
        mv="1.14",
        who="member",
    )
    consumer = str(uuid.uuid4())
    project, user = str(uuid.uuid4()).replace("-", ""), str(uuid.uuid4()).replace("-", "")
    res = {"VCPU": 1, "MEMORY_MB": 128, "DISK_GB": 1}

    def put(label, mv, body):
        return s.call(
            label, "PUT", f"/allocations/{consumer}", service="placement", mv=mv, body=body
        )

    def body(gen="omit", resources=res):
        b = {"allocations": {rp: {"resources": resources}}, "project_id": project, "user_id": user}
        if gen != "omit":
            b["consumer_generation"] = gen
        return b

    put("missing consumer_generation at 1.28", "1.28", body())
    put("unknown resource class", "1.28", body(None, {"BOGUS_CLASS": 1}))
    put("new consumer", "1.28", body(None))
    put("stale consumer generation", "1.28", body(None))
    put("wrong consumer generation", "1.28", body(7))
    s.call(
        "the consumer's allocations",
        "GET",
        f"/allocations/{consumer}",
        service="placement",
        mv="1.28",
    )
    s.call("delete them", "DELETE", f"/allocations/{consumer}", service="placement", mv="1.28")
    s.call(
        "list-shaped body at 1.0",
        "PUT",
        f"/allocations/{consumer}",
        service="placement",
        mv="1.0",
        body={"allocations": [{"resource_provider": {"uuid": rp}, "resources": res}]},
    )
    s.call("delete again", "DELETE", f"/allocations/{consumer}", service="placement", mv="1.28")


IMAGE = "6ea41bd8-5a8a-4a9b-8b3c-0c33b1e0c7a1"

SCENARIOS = {
    fn.__name__: fn
    for fn in (
        versions_and_errors,
        servers,
        create_with_host,
        live_migration,
        live_migration_refusals,
        services_and_hypervisors,
        placement,
    )
}
