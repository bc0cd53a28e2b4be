"""The customer journey: each conversation or touch point with a contact, open or closed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from .base import WorkspaceDocument, utcnow
from .errors import DomainError, DomainErrors, ErrorCode

_CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
SUMMARY_MAX = 2_000
DETAILS_MAX_KEYS = 50
DETAILS_KEY_MAX = 64
# A key is stored as a field name: no control character (NUL is not storable), no dot, no leading $.
_DETAILS_KEY = re.compile(r"[^\x00-\x1f\x7f$.][^\x00-\x1f\x7f.]{0,63}")
DETAILS_TEXT_MAX = 1_000


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Interaction(WorkspaceDocument):
    contact_id: PydanticObjectId
    channel: str
    direction: Direction
    summary: str | None = None
    open: bool = False
    occurred_at: datetime
    closed_at: datetime | None = None
    agent_id: PydanticObjectId | None = None
    disposition_id: PydanticObjectId | None = None
    details: dict[str, Any] | None = None  # scalar values only (``clean_details``)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "interactions"
        indexes = [
            IndexModel(
                [
                    ("workspace_id", ASCENDING),
                    ("contact_id", ASCENDING),
                    ("occurred_at", DESCENDING),
                    ("_id", DESCENDING),
                ]
            ),
            IndexModel([("workspace_id", ASCENDING), ("contact_id", ASCENDING), ("open", ASCENDING)]),
        ]

    @classmethod
    async def open_for(
        cls, workspace_id: PydanticObjectId, contact_ids: Sequence[PydanticObjectId]
    ) -> set[PydanticObjectId]:
        """Which of these contacts have an open interaction, in one query."""
        if not contact_ids:
            return set()
        found = await cls.get_pymongo_collection().distinct(
            "contact_id",
            {"workspace_id": workspace_id, "contact_id": {"$in": list(contact_ids)}, "open": True},
        )
        return {PydanticObjectId(oid) for oid in found}


def clean_channel(value: str) -> str:
    """A channel as stored: a short lower-case token such as ``whatsapp`` or ``voice``."""
    text = value.strip().lower()
    if not _CHANNEL.match(text):
        raise DomainError(
            ErrorCode.INVALID,
            "A channel is a short lower-case word (letters, digits, - and _, at most 32), e.g. whatsapp.",
        )
    return text


def clean_direction(value: str) -> Direction:
    try:
        return Direction(value.strip().lower())
    except ValueError:
        raise DomainError(ErrorCode.INVALID, 'A direction is "inbound" or "outbound".') from None


def clean_details(value: object) -> dict[str, Any] | None:
    """An interaction's details as stored: an object of at most 50 keys (``_DETAILS_KEY``) whose
    values are strings (at most 1,000 characters), numbers or booleans; ``{}`` is none.

    Each problem is reported at the object, naming its key in the message: a field path
    holds argument names, and a key is not one.
    """
    if not isinstance(value, dict):
        raise DomainError(ErrorCode.INVALID, 'details is an object, e.g. {"queue": "sales", "seconds": 42}.')
    if len(value) > DETAILS_MAX_KEYS:
        raise DomainError(ErrorCode.INVALID, f"details holds at most {DETAILS_MAX_KEYS} keys.")
    problems = []
    for key, item in value.items():
        if not _DETAILS_KEY.fullmatch(key):
            message = (
                f"A key of details has 1 to {DETAILS_KEY_MAX} characters, no control character nor dot,"
                " and does not start with $."
            )
            problems.append(DomainError(ErrorCode.INVALID, message))
        elif not isinstance(item, str | int | float | bool):
            message = f"details.{key} is a string, a number or a boolean, not a list, an object or null."
            problems.append(DomainError(ErrorCode.INVALID, message))
        elif isinstance(item, str) and len(item) > DETAILS_TEXT_MAX:
            message = f"details.{key} has more than {DETAILS_TEXT_MAX} characters."
            problems.append(DomainError(ErrorCode.INVALID, message))
        elif isinstance(item, int) and not -(2**63) <= item < 2**63:  # what a database stores
            problems.append(DomainError(ErrorCode.INVALID, f"details.{key} is too large a number."))
    if problems:
        raise DomainErrors(problems)
    return dict(value) or None


def default_window(now: datetime) -> tuple[datetime, datetime]:
    """The timeline's span when none is given: from the first day of the month three months
    before ``now``'s up to the end of ``now``'s month (the end is exclusive).

    On 11 June: from 1 March 00:00 UTC to 1 July 00:00 UTC.
    """
    month = now.year * 12 + now.month - 1
    return _month_start(month - 3), _month_start(month + 1)


def _month_start(month: int) -> datetime:
    return datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)
