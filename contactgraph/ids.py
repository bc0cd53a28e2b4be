"""Opaque global ids: ``base64url("Type:objectid")``.

Clients treat ids as opaque strings; the type prefix lets ``node(id:)`` resolve any
of them and makes an id of the wrong kind behave like one that does not exist.
"""

from __future__ import annotations

import base64
import binascii

from bson import ObjectId
from bson.errors import InvalidId


def encode_id(kind: str, oid: ObjectId | None) -> str:
    if oid is None:
        raise ValueError(f"an unsaved {kind} has no id yet")
    return base64.urlsafe_b64encode(f"{kind}:{oid}".encode()).decode().rstrip("=")


def decode_any(global_id: str) -> tuple[str, ObjectId] | None:
    """The kind and object id behind a global id, or None when it is not one of ours."""
    if not isinstance(global_id, str) or len(global_id) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        kind, _, hex_id = raw.partition(":")
        return kind, ObjectId(hex_id)
    except (binascii.Error, UnicodeDecodeError, InvalidId, TypeError, ValueError):
        return None


def decode_id(global_id: str, kind: str) -> ObjectId | None:
    """The object id of a global id of this kind, or None (unknown, malformed, other kind)."""
    decoded = decode_any(global_id)
    if decoded is None or decoded[0] != kind:
        return None
    return decoded[1]
