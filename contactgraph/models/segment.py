"""Segments: saved contact filters a workspace names once and targets again (lists, boards, campaigns)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from beanie import PydanticObjectId
from pydantic import Field

from .base import utcnow
from .library import LibraryEntry

SEGMENTS_MAX = 500  # per workspace: the segments query counts each one's contacts


class Segment(LibraryEntry):
    """A named ``ContactFilter``, stored as the ``contacts`` query reads it (``contact_query``).

    Its filter never names another segment, so using one costs one look-up.
    """

    filter: dict[str, Any] = Field(default_factory=dict)
    agent_id: PydanticObjectId | None = None  # who saved it last
    updated_at: datetime = Field(default_factory=utcnow)

    kind: ClassVar[str] = "segment"

    class Settings:
        name = "segments"
        indexes = [LibraryEntry.unique_name_index()]
