"""Merging two contacts: the rule that makes one of two, and the journal that lets a merge resume."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from .base import WorkspaceDocument, utcnow
from .contact import Contact, Flag, derive, flagged
from .social import united_profiles


class MergeSide(StrEnum):
    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"


# The fields a choice may name (as the API spells them), and what they are stored as. An
# empty primary takes them from the secondary (status, source and type are never empty).
CHOOSABLE = {f.api: f.attribute for f in flagged(Flag.MERGE)}
CUSTOM_PREFIX = "customFields."


class Choices(BaseModel):
    """Per-field overrides of the merge rule: stored fields, and custom fields by id."""

    fields: dict[str, MergeSide] = Field(default_factory=dict)
    custom: dict[str, MergeSide] = Field(default_factory=dict)  # str(field id): BSON keys are strings


def merged_changes(primary: Contact, secondary: Contact, choices: Choices) -> dict[str, Any]:
    """The changes (as stored, with what they imply) that merge ``secondary`` into ``primary``.

    The primary's values win and its empty fields are filled from the secondary;
    ``choices`` take a field from one side whatever it holds. Groups, custom values and
    social profiles are united (the primary's value, or profile of a network, wins), the
    secondary's numbers join the other phones, and the contact is opted out if either was.
    """
    result: dict[str, Any] = {}
    for name in CHOOSABLE.values():
        if _empty(getattr(primary, name)) and not _empty(getattr(secondary, name)):
            result[name] = getattr(secondary, name)
    result["social_profiles"] = united_profiles(primary.social_profiles, secondary.social_profiles)
    for name, side in choices.fields.items():
        result[name] = getattr(secondary if side is MergeSide.SECONDARY else primary, name)
    result["group_ids"] = list(dict.fromkeys([*primary.group_ids, *secondary.group_ids]))
    result["custom_values"] = _united_values(primary, secondary, choices)
    result["other_phones"] = [
        n
        for n in dict.fromkeys([*primary.other_phones, secondary.phone, *secondary.other_phones])
        if n != primary.phone
    ]
    if secondary.opted_out and not primary.opted_out:
        result["opted_out"] = True
        result["opted_out_at"] = secondary.opted_out_at
    result["merged_ids"] = list(dict.fromkeys([*primary.merged_ids, secondary.id, *secondary.merged_ids]))
    return derive(primary, result)


def _united_values(primary: Contact, secondary: Contact, choices: Choices) -> list[Any]:
    values = {item.field_id: item.value for item in primary.custom_values}
    for item in secondary.custom_values:
        values.setdefault(item.field_id, item.value)
    for field_id, side in choices.custom.items():
        oid = PydanticObjectId(field_id)
        values[oid] = (secondary if side is MergeSide.SECONDARY else primary).value_of(oid)
    return Contact.merge_values([], values)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


class MergeRecord(WorkspaceDocument):
    """The journal of one merge, written before its first change and kept after its last.

    It holds both contacts as they were, so a merge interrupted half-way is completed
    by running it again, and the merge event records them whenever it is written.
    """

    primary_id: PydanticObjectId
    secondary_id: PydanticObjectId
    agent_id: PydanticObjectId | None = None
    choices: Choices = Field(default_factory=Choices)
    primary_before: dict[str, Any]
    secondary_before: dict[str, Any]
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None

    class Settings:
        name = "merges"
        indexes = [
            IndexModel([("workspace_id", ASCENDING), ("secondary_id", ASCENDING)], unique=True),
            IndexModel([("workspace_id", ASCENDING), ("primary_id", ASCENDING)]),
        ]

    @property
    def secondary(self) -> Contact:
        """The secondary as it was when the merge began."""
        return Contact.model_validate(self.secondary_before)
