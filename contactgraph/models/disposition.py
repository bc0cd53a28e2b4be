"""Dispositions: the outcome codes of a list (group), set on an interaction when it closes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId, SortDirection
from pydantic import Field
from pymongo import ASCENDING, IndexModel, UpdateMany

from .base import Session, WorkspaceDocument, utcnow
from .library import Group

POSITION_MAX = 100_000  # as for statuses and custom fields


class Disposition(WorkspaceDocument):
    group_id: PydanticObjectId
    name: str
    name_key: str
    color: str | None = None
    position: int = 0
    deleted_at: datetime | None = None
    # The list's name as it was when the list was deleted: old interactions still show it.
    group_name: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "dispositions"
        indexes = [
            IndexModel([("workspace_id", ASCENDING), ("group_id", ASCENDING), ("position", ASCENDING)]),
            IndexModel([("workspace_id", ASCENDING), ("group_id", ASCENDING), ("name_key", ASCENDING)]),
        ]

    @property
    def live(self) -> bool:
        return self.deleted_at is None

    @classmethod
    def order(cls) -> list[tuple[str, SortDirection]]:
        return [("position", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)]

    @classmethod
    async def named(
        cls,
        workspace_id: PydanticObjectId,
        group_id: PydanticObjectId,
        name_key: str,
        except_id: PydanticObjectId | None = None,
    ) -> Disposition | None:
        """The live disposition of the list with this name, if any."""
        query: dict[str, Any] = {
            "workspace_id": workspace_id,
            "group_id": group_id,
            "name_key": name_key,
            "deleted_at": None,
        }
        if except_id is not None:
            query["_id"] = {"$ne": except_id}
        return await cls.find_one(query)

    @classmethod
    async def next_position(cls, group: Group) -> int:
        last = (
            await cls.find({"workspace_id": group.workspace_id, "group_id": group.id})
            .sort([("position", SortDirection.DESCENDING)])
            .limit(1)
            .to_list()
        )
        return last[0].position + 1 if last else 0

    @classmethod
    async def retire(cls, groups: Sequence[Group], session: Session = None) -> None:
        """The dispositions of lists being deleted: soft-deleted, each keeping its list's name."""
        if not groups:
            return
        workspace_id = groups[0].workspace_id
        live = {"workspace_id": workspace_id, "group_id": {"$in": [g.id for g in groups]}, "deleted_at": None}
        writes = [UpdateMany(live, {"$set": {"deleted_at": utcnow()}})]
        writes += [
            UpdateMany({"workspace_id": workspace_id, "group_id": g.id}, {"$set": {"group_name": g.name}})
            for g in groups
        ]
        await cls.get_pymongo_collection().bulk_write(writes, session=session)
