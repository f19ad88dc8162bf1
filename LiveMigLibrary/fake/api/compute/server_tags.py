"""``/servers/{id}/tags`` (2.26+), as ``nova/api/openstack/compute/server_tags.py``.

Tags live on the instance record (``Instance.tags``); the server views show them
from 2.26 and the list filters ``tags``, ``tags-any``, ``not-tags``, ``not-tags-any``
read them.
"""

from __future__ import annotations

import json
import re

from werkzeug.routing import Rule

from ...exception import BadRequest, Conflict, NotFound, PolicyNotAuthorized
from ...objects import ACTIVE, PAUSED, STOPPED, SUSPENDED
from ..wsgi import ApiRequest, Reply
from .common import invalid

MAX_TAG_COUNT = 50  # nova.objects.instance.MAX_TAG_COUNT
MAX_TAG_LENGTH = 60  # nova.objects.tag.MAX_TAG_LENGTH
TAGGABLE = (ACTIVE, PAUSED, SUSPENDED, STOPPED)
POLICY = "os_compute_api:os-server-tags:%s"


def rules(p: str, svc) -> list[Rule]:
    base = p + "/servers/<server_id>/tags"
    return [
        Rule(base, endpoint=index, methods=["GET"]),
        Rule(base, endpoint=update_all, methods=["PUT"]),
        Rule(base, endpoint=delete_all, methods=["DELETE"]),
        Rule(base + "/<tag>", endpoint=show, methods=["GET"]),
        Rule(base + "/<tag>", endpoint=update, methods=["PUT"]),
        Rule(base + "/<tag>", endpoint=delete, methods=["DELETE"]),
    ]


def tag_error(tag) -> str | None:
    """``parameter_types.tag``: jsonschema's message, or None when the tag is valid."""
    if not isinstance(tag, str):
        return f"{tag!r} is not of type 'string'"
    if len(tag) > MAX_TAG_LENGTH:
        return f"{tag!r} is too long"
    if not tag:
        return f"{tag!r} should be non-empty"
    if not re.fullmatch(r"[^,/]*", tag):
        return f"{tag!r} does not match '^[^,/]*$'"
    return None


def validate_tags(tags) -> list[str]:
    """The ``tags`` array of a body (create 2.52+, PUT .../tags): unique, sorted."""
    if not isinstance(tags, list):
        raise invalid("tags", tags, f"{tags!r} is not of type 'array'")
    if len(tags) > MAX_TAG_COUNT:
        raise invalid("tags", tags, f"{tags!r} is too long")
    for index, tag in enumerate(tags):
        if (error := tag_error(tag)) is not None:
            # Nova's validator names the last element of the path: the item's index
            raise invalid(str(index), tag, error)
    return sorted(set(tags))


def _instance(req: ApiRequest, server_id: str, action: str):
    """The instance mapping lookup, then the policy on the owner's project."""
    if not req.mv("2.26"):
        raise NotFound("The resource could not be found.")
    store = req.cloud.store
    inst = store.instances.get(server_id) or store.deleted.get(server_id)
    if inst is None:
        raise NotFound(f"Instance {server_id} has no mapping to a cell.")
    if not req.ctx.is_admin and inst.project_id != req.ctx.project_id:
        raise PolicyNotAuthorized(action=POLICY % action)
    if inst.deleted:  # the mapping outlives the instance; the tag lookup does not
        raise NotFound(f"Instance {server_id} could not be found.")
    return inst


def _check_state(inst, action: str) -> None:
    if inst.vm_state not in TAGGABLE:
        raise Conflict(
            f"Cannot '{action}' instance {inst.uuid} while it is in vm_state {inst.vm_state}"
        )


def _touch(req: ApiRequest, inst) -> None:
    inst.updated_at = req.cloud.clock.now()


def index(req: ApiRequest, server_id: str) -> Reply:
    with req.cloud.lock:
        inst = _instance(req, server_id, "index")
        return Reply(200, {"tags": list(inst.tags)})


def show(req: ApiRequest, server_id: str, tag: str) -> Reply:
    with req.cloud.lock:
        inst = _instance(req, server_id, "show")
        if tag not in inst.tags:
            raise NotFound(f"Server {server_id} has no tag '{tag}'")
    return Reply(204)


def update(req: ApiRequest, server_id: str, tag: str) -> Reply:
    raw = req.request.get_data(cache=True)
    if raw.strip():
        try:
            body = json.loads(raw)
        except ValueError:
            raise BadRequest("Malformed request body") from None
        if body is not None:  # schema: {"type": "null"}
            raise BadRequest(f"{body!r} is not of type 'null'")
    with req.cloud.lock:
        inst = _instance(req, server_id, "update")
        _check_state(inst, "update tag")
        if (error := tag_error(tag)) is not None:
            raise BadRequest(
                f"Tag '{tag}' is invalid. It must be a non empty string without characters "
                f"'/' and ','. Validation error message: {error}"
            )
        if len(inst.tags) >= MAX_TAG_COUNT:
            raise BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAG_COUNT}")
        if tag in inst.tags:
            return Reply(204)
        inst.tags = sorted([*inst.tags, tag])
        _touch(req, inst)
    return Reply(201, None, {"Location": req.url(f"/compute/v2.1/servers/{server_id}/tags/{tag}")})


def update_all(req: ApiRequest, server_id: str) -> Reply:
    body = req.json()
    extra = [k for k in body if k != "tags"]
    if extra:
        quoted = ", ".join(repr(k) for k in extra)
        verb = "were" if len(extra) > 1 else "was"
        raise BadRequest(f"Additional properties are not allowed ({quoted} {verb} unexpected)")
    if "tags" not in body:
        raise BadRequest("'tags' is a required property")
    tags = validate_tags(body["tags"])
    with req.cloud.lock:
        inst = _instance(req, server_id, "update_all")
        _check_state(inst, "update tags")
        inst.tags = tags
        _touch(req, inst)
        return Reply(200, {"tags": list(inst.tags)})


def delete(req: ApiRequest, server_id: str, tag: str) -> Reply:
    with req.cloud.lock:
        inst = _instance(req, server_id, "delete")
        _check_state(inst, "delete tag")
        if tag not in inst.tags:
            raise NotFound(f"Instance {server_id} has no tag '{tag}'")
        inst.tags = [t for t in inst.tags if t != tag]
        _touch(req, inst)
    return Reply(204)


def delete_all(req: ApiRequest, server_id: str) -> Reply:
    with req.cloud.lock:
        inst = _instance(req, server_id, "delete_all")
        _check_state(inst, "delete tags")
        inst.tags = []
        _touch(req, inst)
    return Reply(204)


def matches(inst, args) -> bool:
    """The list filters of 2.26: ``tags`` (all), ``tags-any``, ``not-tags``, ``not-tags-any``."""
    have = set(inst.tags)

    def wanted(name):
        value = args.get(name)
        return None if value is None else set(value.split(","))

    if (all_of := wanted("tags")) is not None and not all_of <= have:
        return False
    if (any_of := wanted("tags-any")) is not None and not any_of & have:
        return False
    if (not_all := wanted("not-tags")) is not None and not_all <= have:
        return False
    return not ((not_any := wanted("not-tags-any")) is not None and not_any & have)
