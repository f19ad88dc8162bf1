"""Placement's request schemas for ``PUT /allocations/{consumer}``, checked as placement does.

Transcribed from openstack-placement 16 ``placement/schemas/allocation.py`` (key order
kept: placement's 400 prints the schema) and checked with jsonschema, as
``placement.util.extract_json`` does, so a bad body gets placement's own words:
``JSON does not validate: <jsonschema's error>``, schema and instance included.
"""

from __future__ import annotations

import copy
import functools
import uuid

from ..exception import BadRequest

UUID_PATTERN = "^[0-9a-fA-F-]{36}$"  # placement/schemas/common.py
RC_PATTERN = "^[A-Z0-9_]+$"
CONSUMER_TYPE_PATTERN = RC_PATTERN
GROUP_PAT_1_33 = r"[a-zA-Z0-9_-]{1,64}"

_RESOURCES = {
    "type": "object",
    "minProperties": 1,
    "patternProperties": {RC_PATTERN: {"type": "integer", "minimum": 1}},
    "additionalProperties": False,
}

ALLOCATION_SCHEMA = {
    "type": "object",
    "properties": {
        "allocations": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "resource_provider": {
                        "type": "object",
                        "properties": {"uuid": {"type": "string", "format": "uuid"}},
                        "additionalProperties": False,
                        "required": ["uuid"],
                    },
                    "resources": copy.deepcopy(_RESOURCES),
                },
                "required": ["resource_provider", "resources"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["allocations"],
    "additionalProperties": False,
}

ALLOCATION_SCHEMA_V1_8 = copy.deepcopy(ALLOCATION_SCHEMA)
ALLOCATION_SCHEMA_V1_8["properties"]["project_id"] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
}
ALLOCATION_SCHEMA_V1_8["properties"]["user_id"] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
}
ALLOCATION_SCHEMA_V1_8["required"].extend(["project_id", "user_id"])

ALLOCATION_SCHEMA_V1_12 = {
    "type": "object",
    "properties": {
        "allocations": {
            "type": "object",
            "minProperties": 1,
            "patternProperties": {
                UUID_PATTERN: {
                    "type": "object",
                    "properties": {
                        "generation": {"type": "integer"},
                        "resources": copy.deepcopy(_RESOURCES),
                    },
                    "required": ["resources"],
                    "additionalProperties": False,
                }
            },
            "additionalProperties": False,
        },
        "project_id": {"type": "string", "minLength": 1, "maxLength": 255},
        "user_id": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "additionalProperties": False,
    "required": ["allocations", "project_id", "user_id"],
}

DELETABLE_ALLOCATIONS = copy.deepcopy(ALLOCATION_SCHEMA_V1_12)
DELETABLE_ALLOCATIONS["properties"]["allocations"]["minProperties"] = 0

ALLOCATION_SCHEMA_V1_28 = copy.deepcopy(DELETABLE_ALLOCATIONS)
ALLOCATION_SCHEMA_V1_28["properties"]["consumer_generation"] = {
    "type": ["integer", "null"],
    "additionalProperties": False,
}
ALLOCATION_SCHEMA_V1_28["required"].append("consumer_generation")

ALLOCATION_SCHEMA_V1_34 = copy.deepcopy(ALLOCATION_SCHEMA_V1_28)
ALLOCATION_SCHEMA_V1_34["properties"]["mappings"] = {
    "type": "object",
    "minProperties": 1,
    "patternProperties": {
        GROUP_PAT_1_33: {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "format": "uuid"},
        }
    },
}

ALLOCATION_SCHEMA_V1_38 = copy.deepcopy(ALLOCATION_SCHEMA_V1_34)
ALLOCATION_SCHEMA_V1_38["properties"]["consumer_type"] = {
    "type": "string",
    "pattern": CONSUMER_TYPE_PATTERN,
    "minLength": 1,
    "maxLength": 255,
}
ALLOCATION_SCHEMA_V1_38["required"].append("consumer_type")

# (microversion it starts at, schema): handlers/allocation.py set_allocations_for_consumer
PUT_ALLOCATIONS = (
    ("1.38", ALLOCATION_SCHEMA_V1_38),
    ("1.34", ALLOCATION_SCHEMA_V1_34),
    ("1.28", ALLOCATION_SCHEMA_V1_28),
    ("1.12", ALLOCATION_SCHEMA_V1_12),
    ("1.8", ALLOCATION_SCHEMA_V1_8),
    ("1.0", ALLOCATION_SCHEMA),
)


def _is_uuid_like(value) -> bool:
    """oslo.utils ``uuidutils.is_uuid_like``: any form ``uuid.UUID`` reads back the same."""
    try:
        return str(uuid.UUID(value)).replace("-", "") == str(value).replace("-", "").lower()
    except (TypeError, ValueError, AttributeError):
        return False


@functools.cache
def _format_checker():
    import jsonschema  # only when a body is checked: start-up does not pay for it

    checker = jsonschema.FormatChecker()
    checker.checks("uuid")(_is_uuid_like)  # placement.util._FORMAT_CHECKER
    return checker


def put_allocations_schema(req) -> dict:
    return next(schema for since, schema in PUT_ALLOCATIONS if req.mv(since))


def validate(data, schema: dict) -> None:
    """``placement.util.extract_json``'s check: the first error, in jsonschema's words."""
    import jsonschema

    try:
        jsonschema.validate(data, schema, format_checker=_format_checker())
    except jsonschema.ValidationError as exc:
        raise BadRequest(f"JSON does not validate: {exc}") from None
