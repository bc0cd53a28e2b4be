"""The customer journey: each conversation or touch point with a contact, open or closed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from .base import WorkspaceDocument, utcnow
from .errors import DomainError, ErrorCode

_CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
SUMMARY_MAX = 2_000


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


def default_window(now: datetime) -> tuple[datetime, datetime]:
    """The timeline's span when none is given: from the first day of the month three months
    before ``now``'s up to the end of ``now``'s month (the end is exclusive).

    On 11 June: from 1 March 00:00 UTC to 1 July 00:00 UTC.
    """
    month = now.year * 12 + now.month - 1
    return _month_start(month - 3), _month_start(month + 1)


def _month_start(month: int) -> datetime:
    return datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)
