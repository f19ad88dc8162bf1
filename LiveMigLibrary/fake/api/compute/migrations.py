"""``/os-migrations`` and ``/servers/{id}/migrations`` (list, show, abort, force-complete)."""

from __future__ import annotations

from werkzeug.routing import Rule

from ...exception import BadRequest, MigrationNotFoundForInstance, NotFound
from ...objects import IN_PROGRESS_MIGRATION
from ..wsgi import ApiRequest, Reply
from . import views
from .common import action_body, check_query, invalid, is_id, paginate, parse_time, require_admin


def rules(p: str, svc) -> list[Rule]:
    return [
        Rule(p + "/os-migrations", endpoint=os_migrations, methods=["GET"]),
        Rule(p + "/servers/<server_id>/migrations", endpoint=server_migrations, methods=["GET"]),
        Rule(
            p + "/servers/<server_id>/migrations/<migration_id>",
            endpoint=server_migration,
            methods=["GET"],
        ),
        Rule(
            p + "/servers/<server_id>/migrations/<migration_id>", endpoint=abort, methods=["DELETE"]
        ),
        Rule(
            p + "/servers/<server_id>/migrations/<migration_id>/action",
            endpoint=force_complete,
            methods=["POST"],
        ),
    ]


def _need(req: ApiRequest, version: str) -> None:
    if not req.mv(version):
        raise NotFound("The resource could not be found.")


def os_migrations(req: ApiRequest) -> Reply:
    require_admin(req, "os_compute_api:os-migrations:index")
    args = req.args
    if req.mv("2.59"):  # index_query_v259 and later: additionalProperties False
        allowed = {"hidden", "host", "instance_uuid", "source_compute", "status"}
        allowed |= {"migration_type", "limit", "marker", "changes-since"}
        if req.mv("2.66"):
            allowed.add("changes-before")
        if req.mv("2.80"):
            allowed |= {"user_id", "project_id"}
        check_query(req, allowed)
    store = req.cloud.store
    since = before = None
    if req.mv("2.59") and args.get("changes-since"):
        since = parse_time(req, "changes-since", args["changes-since"])
    if req.mv("2.66") and args.get("changes-before"):
        before = parse_time(req, "changes-before", args["changes-before"])
    if since is not None and before is not None and since > before:
        raise BadRequest("The value of changes-since must be less than or equal to changes-before.")
    # the filters, read once (a poll of a drain lists every migration of the cloud)
    status, mtype = args.get("status"), args.get("migration_type")
    source, host = args.get("source_compute"), args.get("host")
    user = project = None
    if req.mv("2.80"):
        user, project = args.get("user_id"), args.get("project_id")
    with req.cloud.lock:
        if (iu := args.get("instance_uuid")) is not None:
            migs = store.migrations_of(iu)
        else:
            migs = list(store.migrations.values())
        out = []
        for m in migs:
            if m.deleted:
                continue
            if since is not None and m.updated_at < since:
                continue
            if before is not None and m.updated_at > before:
                continue
            if status and m.status != status:
                continue
            if mtype and m.migration_type != mtype:
                continue
            if source and m.source_compute != source:
                continue
            if host and host not in (m.source_compute, m.dest_compute):
                continue
            if user and m.user_id != user:
                continue
            if project and m.project_id != project:
                continue
            out.append(m)
        out.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        if req.mv("2.59"):
            body = paginate(req, out, "migrations", "Marker {marker} could not be found.")
        else:
            body = {"migrations": out}
        body["migrations"] = [views.migration(req, m) for m in body["migrations"]]
        return Reply(200, body)


def _mid(migration_id: str) -> int:
    if not is_id(migration_id):
        raise BadRequest(f"Invalid migration id {migration_id[:40]}")
    return int(migration_id)


def server_migrations(req: ApiRequest, server_id: str) -> Reply:
    _need(req, "2.23")
    require_admin(req, "os_compute_api:servers:migrations:index")
    with req.cloud.lock:
        inst = req.cloud.compute_api.get(req.ctx, server_id)
        migs = [
            m
            for m in req.cloud.store.migrations_of(inst.uuid)
            if m.migration_type == "live-migration"
            and m.status in IN_PROGRESS_MIGRATION
            and not m.deleted
        ]
        return Reply(
            200, {"migrations": [views.migration(req, m, server_scoped=True) for m in migs]}
        )


def server_migration(req: ApiRequest, server_id: str, migration_id: str) -> Reply:
    _need(req, "2.23")
    require_admin(req, "os_compute_api:servers:migrations:show")
    with req.cloud.lock:
        inst = req.cloud.compute_api.get(req.ctx, server_id)
        mid = _mid(migration_id)
        m = req.cloud.store.migrations.get(mid)
        if m is None or m.instance_uuid != inst.uuid:
            raise NotFound(f"In-progress live migration {mid} is not found for server {inst.uuid}.")
        if m.migration_type != "live-migration":
            raise NotFound(f"Migration {mid} for server {inst.uuid} is not live-migration.")
        if m.status not in IN_PROGRESS_MIGRATION:
            raise NotFound(f"Live migration {mid} for server {inst.uuid} is not in progress.")
        return Reply(200, {"migration": views.migration(req, m, server_scoped=True)})


def abort(req: ApiRequest, server_id: str, migration_id: str) -> Reply:
    _need(req, "2.24")
    require_admin(req, "os_compute_api:servers:migrations:delete")
    with req.cloud.lock:
        api = req.cloud.compute_api
        inst = api.get(req.ctx, server_id)
        api.live_migrate_abort(req.ctx, inst, _mid(migration_id), allow_queued=req.mv("2.65"))
    return Reply(202)


def force_complete(req: ApiRequest, server_id: str, migration_id: str) -> Reply:
    _need(req, "2.22")
    body = req.json()
    if list(body) != ["force_complete"]:
        raise invalid("force_complete", body, "'force_complete' is a required property")
    action_body(req, "force_complete")
    require_admin(req, "os_compute_api:servers:migrations:force_complete")
    with req.cloud.lock:
        api = req.cloud.compute_api
        inst = api.get(req.ctx, server_id)
        try:
            api.live_migrate_force_complete(req.ctx, inst, _mid(migration_id))
        except MigrationNotFoundForInstance as exc:  # nova maps it to 400 here, 404 in abort
            raise BadRequest(str(exc)) from None
    return Reply(202)
