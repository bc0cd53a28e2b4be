"""The library a workspace defines for its contacts: statuses, sources, groups, custom fields."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from beanie import PydanticObjectId, SortDirection
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from .base import WorkspaceDocument, utcnow


def name_key(name: str) -> str:
    """The form in which library names are compared: case- and space-insensitive."""
    return " ".join(name.split()).casefold()


class LibraryEntry(WorkspaceDocument):
    """A named entry, unique per workspace whatever its case."""

    name: str
    name_key: str
    created_at: datetime = Field(default_factory=utcnow)

    kind: ClassVar[str] = "entry"

    @classmethod
    def unique_name_index(cls) -> IndexModel:
        return IndexModel([("workspace_id", ASCENDING), ("name_key", ASCENDING)], unique=True)

    @classmethod
    async def in_workspace(cls, workspace_id: PydanticObjectId) -> list[Self]:
        return await cls.find({"workspace_id": workspace_id}).sort(cls.order()).to_list()

    @classmethod
    def order(cls) -> list[tuple[str, SortDirection]]:
        return [("name_key", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)]

    @classmethod
    async def get_in(cls, workspace_id: PydanticObjectId, oid: PydanticObjectId | None) -> Self | None:
        if oid is None:
            return None
        return await cls.find_one({"_id": oid, "workspace_id": workspace_id})


class Status(LibraryEntry):
    color: str
    position: int

    kind: ClassVar[str] = "status"

    class Settings:
        name = "statuses"
        indexes = [
            LibraryEntry.unique_name_index(),
            IndexModel([("workspace_id", ASCENDING), ("position", ASCENDING)]),
        ]

    @classmethod
    def order(cls) -> list[tuple[str, SortDirection]]:
        return [("position", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)]


class Source(LibraryEntry):
    kind: ClassVar[str] = "source"

    class Settings:
        name = "sources"
        indexes = [LibraryEntry.unique_name_index()]


class Group(LibraryEntry):
    description: str | None = None

    kind: ClassVar[str] = "group"

    class Settings:
        name = "groups"
        indexes = [LibraryEntry.unique_name_index()]


class CustomFieldType(StrEnum):
    TEXT = "TEXT"
    TEXTAREA = "TEXTAREA"
    NUMBER = "NUMBER"
    DATE = "DATE"
    DATETIME = "DATETIME"
    DROPDOWN = "DROPDOWN"
    CHECKBOX = "CHECKBOX"
    URL = "URL"


FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FIELD_ORDER = [("position", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)]


class CustomField(WorkspaceDocument):
    key: str
    label: str
    type: CustomFieldType
    options: list[str] = Field(default_factory=list)
    required: bool = False
    position: int = 0
    deleted_at: datetime | None = None
    group_id: PydanticObjectId | None = None  # None: a global field; else the list it belongs to
    click_to_action: bool = False
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "custom_fields"
        indexes = [
            IndexModel([("workspace_id", ASCENDING), ("key", ASCENDING)], unique=True),
            IndexModel([("workspace_id", ASCENDING), ("position", ASCENDING)]),
            IndexModel([("workspace_id", ASCENDING), ("group_id", ASCENDING), ("position", ASCENDING)]),
        ]

    @property
    def live(self) -> bool:
        return self.deleted_at is None

    @classmethod
    async def in_workspace(
        cls, workspace_id: PydanticObjectId, *, include_deleted: bool = False
    ) -> list[CustomField]:
        query: dict[str, Any] = {"workspace_id": workspace_id}
        if not include_deleted:
            query["deleted_at"] = None
        return await cls.find(query).sort(FIELD_ORDER).to_list()

    @classmethod
    async def listed(
        cls,
        workspace_id: PydanticObjectId,
        group_id: PydanticObjectId | None,
        *,
        include_deleted: bool = False,
        only_deleted: bool = False,
    ) -> list[CustomField]:
        """The global fields (``group_id`` None) or one list's, live, deleted, or both."""
        query: dict[str, Any] = {"workspace_id": workspace_id, "group_id": group_id}
        if only_deleted:
            query["deleted_at"] = {"$ne": None}
        elif not include_deleted:
            query["deleted_at"] = None
        return await cls.find(query).sort(FIELD_ORDER).to_list()

    @classmethod
    async def by_keys(cls, workspace_id: PydanticObjectId, keys: list[str]) -> dict[str, CustomField]:
        """The live fields with these keys, by key."""
        found = await cls.find(
            {"workspace_id": workspace_id, "key": {"$in": keys}, "deleted_at": None}
        ).to_list()
        return {field.key: field for field in found}
