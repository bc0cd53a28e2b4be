"""The contact record, its indexes, and the rules that belong to one contact."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from .base import WorkspaceDocument, utcnow
from .custom_values import StoredValue


class ContactType(StrEnum):
    LEAD = "LEAD"
    CUSTOMER = "CUSTOMER"
    GUEST = "GUEST"


class CustomValue(BaseModel):
    """One custom-field value (the attribute pattern: indexed on field and value)."""

    field_id: PydanticObjectId
    value: StoredValue


class SearchKeys(BaseModel):
    """Case-folded names for prefix search and case-insensitive sorting."""

    first: str
    last: str
    full: str

    @classmethod
    def of(cls, firstname: str, lastname: str) -> SearchKeys:
        return cls(
            first=firstname.casefold(),
            last=lastname.casefold(),
            full=f"{firstname} {lastname}".casefold(),
        )


# The longest value each free-text field of a contact takes.
TEXT_LIMITS = {
    "company": 191,
    "description": 10_000,
    "country": 100,
    "city": 191,
    "state": 191,
    "zip": 32,
    "address": 500,
}


def _index(*keys: tuple[str, int], **options: Any) -> IndexModel:
    return IndexModel([("workspace_id", ASCENDING), *keys], **options)


class Contact(WorkspaceDocument):
    firstname: str
    lastname: str
    phone: str
    other_phones: list[str] = Field(default_factory=list)
    email: str | None = None
    type: ContactType = ContactType.LEAD
    status_id: PydanticObjectId
    source_id: PydanticObjectId
    group_ids: list[PydanticObjectId] = Field(default_factory=list)
    assigned_agent_id: PydanticObjectId | None = None
    company: str | None = None
    website: str | None = None
    description: str | None = None
    country: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    address: str | None = None
    custom_values: list[CustomValue] = Field(default_factory=list)
    opted_out: bool = False
    opted_out_at: datetime | None = None
    status_changed_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    merged_ids: list[PydanticObjectId] = Field(default_factory=list)
    keys: SearchKeys

    class Settings:
        name = "contacts"
        indexes = [
            _index(("phone", ASCENDING), unique=True),
            _index(("other_phones", ASCENDING)),
            _index(
                ("email", ASCENDING),
                unique=True,
                partialFilterExpression={"email": {"$type": "string"}},
            ),
            _index(("status_id", ASCENDING), ("status_changed_at", DESCENDING), ("_id", DESCENDING)),
            _index(("source_id", ASCENDING)),
            _index(("group_ids", ASCENDING)),
            _index(("assigned_agent_id", ASCENDING)),
            _index(("custom_values.field_id", ASCENDING), ("custom_values.value", ASCENDING)),
            _index(("created_at", ASCENDING), ("_id", ASCENDING)),
            _index(("updated_at", ASCENDING), ("_id", ASCENDING)),
            _index(("status_changed_at", ASCENDING), ("_id", ASCENDING)),
            _index(("keys.first", ASCENDING), ("_id", ASCENDING)),
            _index(("keys.last", ASCENDING), ("_id", ASCENDING)),
            _index(("keys.full", ASCENDING)),
            _index(("merged_ids", ASCENDING)),
        ]

    def value_of(self, field_id: PydanticObjectId) -> StoredValue:
        for item in self.custom_values:
            if item.field_id == field_id:
                return item.value
        return None

    @staticmethod
    def merge_values(
        current: list[CustomValue], changes: dict[PydanticObjectId, StoredValue]
    ) -> list[CustomValue]:
        """``current`` with ``changes`` applied: a value replaces, None removes."""
        merged = {item.field_id: item.value for item in current}
        merged.update(changes)
        return [CustomValue(field_id=k, value=v) for k, v in merged.items() if v is not None]
