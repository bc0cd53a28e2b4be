"""Checks the library, admin and isolation tests share: rejected payloads and what the database holds."""

from __future__ import annotations

import re
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from contactgraph.documents import DOCUMENTS
from contactgraph.ids import decode_any, encode_id


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every stored document of every collection, in id order: compare two to show nothing was written."""
    state: dict[str, list[dict[str, Any]]] = {}
    for model in DOCUMENTS:
        cursor = model.get_pymongo_collection().find({}).sort("_id", 1)
        state[model.get_collection_name()] = [doc async for doc in cursor]
    return state


def payload_of(data: dict[str, Any]) -> dict[str, Any]:
    """The payload of a response's single mutation."""
    assert len(data) == 1, data
    return next(iter(data.values()))  # type: ignore[no-any-return]


def errors_of(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(error["code"], error["field"]) for error in payload["userErrors"]]


def assert_rejected(data: dict[str, Any], code: str, field: list[str] | None) -> dict[str, Any]:
    """The mutation answered exactly this one user error, and its object is empty."""
    payload = payload_of(data)
    assert errors_of(payload) == [(code, field)], payload["userErrors"]
    assert all(error["message"] for error in payload["userErrors"])
    assert all(value in (None, [], 0) for key, value in payload.items() if key != "userErrors"), payload
    return payload


def top_level_code(body: dict[str, Any]) -> str:
    """The ``extensions.code`` of a response's only top-level error."""
    assert len(body.get("errors") or []) == 1, body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def oid(global_id: str) -> PydanticObjectId:
    """The database id behind an API id."""
    decoded = decode_any(global_id)
    assert decoded is not None, global_id
    return PydanticObjectId(decoded[1])


def phantom(global_id: str) -> str:
    """An id of the same kind as ``global_id`` that names no record anywhere."""
    decoded = decode_any(global_id)
    assert decoded is not None, global_id
    return encode_id(decoded[0], ObjectId())


def operation_id(value: object) -> str | None:
    """A readable pytest id for a parameter that is a GraphQL document: its first field's name."""
    if isinstance(value, str) and (match := re.search(r"\{\s*(\w+)", value)):
        return match.group(1)
    return None
