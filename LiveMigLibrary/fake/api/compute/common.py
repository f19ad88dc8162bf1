"""Helpers shared by the compute handlers: policy, schema errors, lookups."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from ...exception import BadRequest, PolicyNotAuthorized
from ..wsgi import ApiRequest


def require_admin(req: ApiRequest, rule: str) -> None:
    """Nova's default policy for admin-only APIs (``PROJECT_ADMIN``/``ADMIN``)."""
    if not req.ctx.is_admin:
        raise PolicyNotAuthorized(action=rule)


def invalid(field: str, value, reason: str) -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def _additional(extra: list[str]) -> str:
    """jsonschema's words for ``additionalProperties: False``."""
    quoted = ", ".join(repr(k) for k in extra)
    verb = "were" if len(extra) > 1 else "was"
    return f"Additional properties are not allowed ({quoted} {verb} unexpected)"


def no_extra_properties(body: dict, allowed: set[str], path: str | None = None) -> None:
    """``additionalProperties: False`` on ``body``, found at ``path`` of the request body.

    Nova's validator names the property holding the bad object ("Invalid input for
    field/attribute os-migrateLive. ..."); for the body itself (``path`` None) the
    message is jsonschema's alone.
    """
    extra = [k for k in body if k not in allowed]
    if extra:
        if path is None:
            raise BadRequest(_additional(extra))
        raise invalid(path, body, _additional(extra))


def query_invalid(name: str, value, reason: str) -> BadRequest:
    """A query parameter failing its schema, in the words of Nova's validator."""
    return BadRequest(f"Invalid input for query parameters {name}. Value: {value}. {reason}")


def check_query(req: ApiRequest, allowed: set[str]) -> None:
    """A query schema with ``additionalProperties: False``."""
    extra = [k for k in dict.fromkeys(req.args) if k not in allowed]
    if extra:
        raise BadRequest(_additional(extra))


def query_limit(req: ApiRequest) -> int | None:
    """``limit`` as ``parameter_types.non_negative_integer``; None when absent."""
    limit = req.args.get("limit")
    if limit is None:
        return None
    if not re.fullmatch(r"[0-9]+", limit):
        raise query_invalid("limit", limit, f"{limit!r} does not match '^[0-9]*$'")
    return int(limit) if len(limit) <= 18 else 10**18  # any page size beyond is max_limit


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


MAX_INT = 0x7FFFFFFF  # nova.db.constants.MAX_INT: the schemas' limit of whole numbers


def is_id(text: str) -> bool:
    """Whether a URL's id is a number int() takes (ASCII digits, not '²', nor 5000 of them)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def positive_int(field: str, value) -> int:
    if isinstance(value, bool):
        raise invalid(field, value, f"{value!r} is not of type 'integer', 'string'")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and is_id(value.strip()):
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
    """An ISO 8601 time of the query string (``changes-since``...) as clock seconds."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise query_invalid(name, text, f"{text!r} is not a 'date-time'") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return req.cloud.clock.to_seconds(when)


MAX_LIMIT = 1000  # CONF.api.max_limit


def collection_links(req: ApiRequest, page: list, collection: str, last_id) -> list[dict]:
    """Nova's ``_get_collection_links``: a ``next`` link when the page is full.

    A page is full when it holds ``min(limit, max_limit)`` items; Nova does not look
    whether more follow. The link repeats the request's query with the marker set.
    """
    try:
        max_items = min(int(req.args.get("limit", MAX_LIMIT)), MAX_LIMIT)
    except ValueError:
        return []
    if not max_items or max_items != len(page):
        return []
    params = dict(sorted(req.args.items(multi=True)))
    params["marker"] = last_id(page[-1])
    href = req.url(f"/compute/v2.1/{collection}") + "?" + urlencode(params)
    return [{"rel": "next", "href": href}]


def paginate(
    req: ApiRequest, items: list, collection: str, marker_missing: str, link_path: str = ""
) -> dict:
    """Nova's limit/marker paging over records sorted newest first.

    Returns the response body: ``{collection: page}`` (records still to be rendered) and,
    when the page is full, ``{collection}_links`` with the ``next`` href (to
    ``link_path``, by default the collection). ``marker_missing`` words the 400 for an
    unknown marker (``{marker}`` is replaced).
    """
    limit = query_limit(req)
    if marker := req.args.get("marker"):
        idx = next((i for i, item in enumerate(items) if item.uuid == marker), None)
        if idx is None:
            raise BadRequest(marker_missing.format(marker=marker))
        items = items[idx + 1 :]
    page = items[: min(limit, MAX_LIMIT)] if limit is not None else items[:MAX_LIMIT]
    body: dict = {collection: page}
    links = collection_links(req, page, link_path or collection, lambda item: item.uuid)
    if links:
        body[f"{collection}_links"] = links
    return body
