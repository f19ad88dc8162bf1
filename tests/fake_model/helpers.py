"""Small REST steps on an openstacksdk connection, at one explicit microversion."""

from __future__ import annotations

from LiveMigLibrary.fake import IMAGE_ID

MV = "2.80"


def boot(conn, ctl, count=1, name="vm"):
    """Create ``count`` servers in one request, let them build, return them by name."""
    resp = conn.compute.post(
        "/servers",
        json={
            "server": {
                "name": name,
                "flavorRef": "1",
                "imageRef": IMAGE_ID,
                "networks": "none",
                "min_count": count,
                "max_count": count,
                "return_reservation_id": True,
            }
        },
        microversion=MV,
    )
    assert resp.status_code == 202, resp.text
    ctl.settle()
    servers = conn.compute.get(
        f"/servers/detail?reservation_id={resp.json()['reservation_id']}", microversion=MV
    ).json()["servers"]
    assert [s["status"] for s in servers] == ["ACTIVE"] * count
    return sorted(servers, key=lambda s: s["name"])


def live_migrate(conn, server, host=None, mv=MV):
    return conn.compute.post(
        f"/servers/{server['id']}/action",
        json={"os-migrateLive": {"host": host, "block_migration": "auto"}},
        microversion=mv,
    )


def show(conn, server):
    return conn.compute.get(f"/servers/{server['id']}", microversion=MV).json()["server"]


def migrations(conn, server):
    return conn.compute.get(f"/os-migrations?instance_uuid={server['id']}", microversion=MV).json()[
        "migrations"
    ]


def allocations(conn, consumer):
    return conn.placement.get(f"/allocations/{consumer}", microversion="1.28").json()["allocations"]


def usage(ctl, host):
    return next(h["usage"]["MEMORY_MB"] for h in ctl.hosts() if h["name"] == host)


def other(host):
    return "compute2" if host == "compute1" else "compute1"
