"""Helpers shared by the compute handlers: policy, schema errors, lookups."""

from __future__ import annotations

import datetime as dt

from ...exception import BadRequest, PolicyNotAuthorized
from ..wsgi import ApiRequest


def require_admin(req: ApiRequest, rule: str) -> None:
    """Nova's default policy for admin-only APIs (``PROJECT_ADMIN``/``ADMIN``)."""
    if not req.ctx.is_admin:
        raise PolicyNotAuthorized(action=rule)


def invalid(field: str, value, reason: str) -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def no_extra_properties(body: dict, allowed: set[str]) -> None:
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        quoted = ", ".join(repr(k) for k in extra)
        verb = "were" if len(extra) > 1 else "was"
        raise BadRequest(
            f"Invalid input for field/attribute {next(iter(body))}. Value: "
            f"{body}. Additional properties are not allowed ({quoted} {verb} "
            "unexpected)"
        )


def boolean(field: str, value, allow_auto: bool = False):
    """parameter_types.boolean: true/false and their usual spellings."""
    if allow_auto and value == "auto":
        return "auto"
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.lower()
        if low in ("true", "1", "on", "yes", "y", "t"):
            return True
        if low in ("false", "0", "off", "no", "n", "f"):
            return False
    allowed = (
        "[True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', "
        "False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'"
        + (", 'auto']" if allow_auto else "]")
    )
    raise invalid(field, value, f"{value!r} is not one of {allowed}")


def positive_int(field: str, value) -> int:
    if isinstance(value, bool):
        raise invalid(field, value, f"{value!r} is not of type 'integer', 'string'")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value)
    else:
        raise invalid(field, value, f"{value!r} does not match '^[0-9]*$'")
    if n < 1:
        raise invalid(field, value, f"{value} is less than the minimum of 1")
    return n


def action_body(req: ApiRequest, name: str) -> dict:
    body = req.json()[name]
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid(name, body, f"{body!r} is not of type 'object'")
    return body


def parse_time(req: ApiRequest, name: str, text: str) -> float:

    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, text, f"{text!r} is not a 'date-time'") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return req.cloud.clock.to_seconds(when)


def paginate(req: ApiRequest, items: list, collection: str, marker_missing: str) -> dict:
    """Nova's limit/marker paging over records sorted newest first.

    Returns the response body: ``{collection: page}`` (records still to be rendered) and,
    when more records follow, ``{collection}_links`` with the ``next`` href.
    ``marker_missing`` words the 400 for an unknown marker (``{marker}`` is replaced).
    """
    if marker := req.args.get("marker"):
        idx = next((i for i, item in enumerate(items) if item.uuid == marker), None)
        if idx is None:
            raise BadRequest(marker_missing.format(marker=marker))
        items = items[idx + 1 :]
    body: dict = {collection: items}
    limit = req.args.get("limit")
    if limit is None:
        return body
    if not limit.isdigit():
        raise invalid("limit", limit, f"{limit!r} does not match '^[0-9]*$'")
    body[collection] = items[: int(limit)]
    if len(items) > int(limit) and body[collection]:
        last = body[collection][-1].uuid
        body[f"{collection}_links"] = [
            {"rel": "next", "href": req.url(f"{req.request.path}?limit={limit}&marker={last}")}
        ]
    return body
