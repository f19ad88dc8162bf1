"""Server actions ``migrate``, ``resize``, ``confirmResize``, ``revertResize``, ``evacuate``.

Schemas per microversion and default policy as ``nova/api/openstack/compute/``
``migrate_server.py``, ``servers.py`` and ``evacuate.py``; the checks on the
server itself are ``compute_api_moves``'s.
"""

from __future__ import annotations

import secrets

from ...exception import BadRequest, NotFound
from ..wsgi import ApiRequest, Reply
from .common import action_body, boolean, invalid, no_extra_properties, require_admin


def _moves(req: ApiRequest):
    return req.cloud.move_api


def _hostname(field: str, host):
    if host is not None and (not isinstance(host, str) or not host or len(host) > 255):
        raise invalid(field, host, f"{host!r} is not a valid hostname")
    return host


def migrate(req: ApiRequest, inst, name: str) -> Reply:
    """Cold migration: admin-only; a target host from 2.56 (``:host`` rule, also admin)."""
    body = req.json()[name]
    host = None
    if req.mv("2.56") and body is not None:
        if not isinstance(body, dict):
            raise invalid(name, body, f"{body!r} is not of type 'object', 'null'")
        no_extra_properties(body, {"host"}, name)
        host = _hostname("host", body.get("host"))
    require_admin(req, "os_compute_api:os-migrate-server:migrate")
    if host:
        require_admin(req, "os_compute_api:os-migrate-server:migrate:host")
    _moves(req).resize(req.ctx, inst, None, host)
    return Reply(202)


def resize(req: ApiRequest, inst, name: str) -> Reply:
    """Resize: the owner may (``os_compute_api:servers:resize``, member or admin)."""
    body = req.json()[name]
    if not isinstance(body, dict):
        raise invalid(name, body, f"{body!r} is not of type 'object'")
    no_extra_properties(body, {"flavorRef", "OS-DCF:diskConfig"}, name)
    if "flavorRef" not in body:
        raise invalid(name, body, "'flavorRef' is a required property")
    ref = body["flavorRef"]
    if isinstance(ref, bool) or not isinstance(ref, str | int) or ref == "":
        raise invalid("flavorRef", ref, f"{ref!r} is not of type 'string', 'integer'")
    disk_config = body.get("OS-DCF:diskConfig")
    if disk_config is not None and disk_config not in ("AUTO", "MANUAL"):
        raise invalid(
            "OS-DCF:diskConfig", disk_config, f"{disk_config!r} is not one of ['AUTO', 'MANUAL']"
        )
    _moves(req).resize(req.ctx, inst, str(ref), None)
    return Reply(202)


def confirm_resize(req: ApiRequest, inst, name: str) -> Reply:
    _moves(req).confirm_resize(req.ctx, inst)
    return Reply(204)


def revert_resize(req: ApiRequest, inst, name: str) -> Reply:
    _moves(req).revert_resize(req.ctx, inst)
    return Reply(202)


def evacuate(req: ApiRequest, inst, name: str) -> Reply:
    """Evacuate (admin): ``onSharedStorage`` before 2.14, ``force`` 2.29-2.67,
    the server left stopped from 2.95."""
    body = action_body(req, name)
    allowed = {"host", "adminPass"}
    if not req.mv("2.14"):
        allowed.add("onSharedStorage")
    if req.mv("2.29") and not req.mv("2.68"):
        allowed.add("force")
    no_extra_properties(body, allowed, name)
    if not req.mv("2.14") and "onSharedStorage" not in body:
        raise invalid(name, body, "'onSharedStorage' is a required property")
    if "onSharedStorage" in body:
        boolean("onSharedStorage", body["onSharedStorage"])
    host = _hostname("host", body.get("host"))
    password = body.get("adminPass")
    if password is not None and not isinstance(password, str):
        raise invalid("adminPass", password, f"{password!r} is not of type 'string'")
    require_admin(req, "os_compute_api:os-evacuate")
    force = False
    if "force" in body:
        force = boolean("force", body["force"])
        if force and not host:
            raise BadRequest("Can't force to a non-provided destination")
    if not req.mv("2.29"):
        force = bool(host)  # before 2.29 a named host bypassed the scheduler
    if host is not None:
        if host not in req.cloud.store.nodes:
            raise NotFound(f"Compute host {host} not found.")
        if host == inst.host:
            raise BadRequest("The target host can't be the same one.")
    _moves(req).evacuate(req.ctx, inst, host, force, stopped=req.mv("2.95"))
    if not req.mv("2.14"):  # [api] enable_instance_password
        return Reply(200, {"adminPass": password or secrets.token_urlsafe(9)})
    return Reply(200)


ACTIONS = {
    "migrate": migrate,
    "resize": resize,
    "confirmResize": confirm_resize,
    "revertResize": revert_resize,
    "evacuate": evacuate,
}
