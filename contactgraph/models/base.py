"""What every document shares: its workspace, and how time is taken."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from beanie import Document, PydanticObjectId

Session = Any  # a PyMongo AsyncClientSession inside a transaction, or None where there is none


def utcnow() -> datetime:
    """Now, in UTC, at the millisecond precision MongoDB stores."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_utc(moment: datetime) -> datetime:
    """A stored datetime as an aware UTC one (drivers may hand back naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """ISO-8601 in UTC with its offset, as every DateTime leaves the API."""
    return as_utc(moment).isoformat(timespec="milliseconds")


class WorkspaceDocument(Document):
    """A record that belongs to one workspace; every query filters on it first."""

    workspace_id: PydanticObjectId
