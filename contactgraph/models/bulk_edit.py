"""A bulk edit: one patch for many contacts, what it changes in each, and what the list rules say of it.

``BulkPatch`` holds the validated changes in their stored form, so a large edit's job
document (``ImportJob.edit``) keeps them as they were checked. ``changes_for`` is what
the patch makes of one contact; ``ListRules.problems`` asks ``models.lists`` of it (list
fields, required fields of the lists it joins, ``requireGroup``), as every other path does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field

from .contact import Contact, ContactType
from .custom_values import StoredValue
from .errors import DomainError, ErrorCode
from .library import CustomField
from .lists import GroupRule, applies, lacking, named, required_fields


class CustomChange(BaseModel):
    field_id: PydanticObjectId
    value: StoredValue  # None clears it


class BulkPatch(BaseModel):
    """The changes every selected contact gets; fields left None are not changed."""

    status_id: PydanticObjectId | None = None
    source_id: PydanticObjectId | None = None
    type: ContactType | None = None
    assign: bool = False  # whether ``assigned_agent_id`` is set (None: unassigned)
    assigned_agent_id: PydanticObjectId | None = None
    opted_out: bool | None = None
    add_group_ids: list[PydanticObjectId] = Field(default_factory=list)
    remove_group_ids: list[PydanticObjectId] = Field(default_factory=list)
    custom_values: list[CustomChange] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        plain = (self.status_id, self.source_id, self.type, self.opted_out)
        lists = (self.add_group_ids, self.remove_group_ids, self.custom_values)
        return all(v is None for v in plain) and not self.assign and not any(lists)

    def group_ids_for(self, contact: Contact) -> list[PydanticObjectId]:
        kept = [g for g in contact.group_ids if g not in self.remove_group_ids]
        return kept + [g for g in self.add_group_ids if g not in kept]

    def changes_for(self, contact: Contact) -> dict[str, Any]:
        """The contact's changes as stored; ``derive`` (in the writer) drops what it holds already."""
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("status_id", self.status_id),
                ("source_id", self.source_id),
                ("type", self.type),
                ("opted_out", self.opted_out),
            )
            if value is not None
        }
        if self.assign:
            changes["assigned_agent_id"] = self.assigned_agent_id
        if self.add_group_ids or self.remove_group_ids:
            changes["group_ids"] = self.group_ids_for(contact)
        if self.custom_values:
            given = {c.field_id: c.value for c in self.custom_values}
            changes["custom_values"] = Contact.merge_values(contact.custom_values, given)
        return changes


class BulkEdit(BaseModel):
    """A large bulk edit as its job keeps it: the contacts checked, in order, and the patch."""

    contact_ids: list[PydanticObjectId]
    patch: BulkPatch


Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ListRules:
    """What ``models.lists`` needs to judge a patch on each contact, read once per edit (or job)."""

    patch: BulkPatch
    fields: dict[PydanticObjectId, CustomField]  # the custom fields the patch gives values for
    required: list[CustomField]
    group_rule: GroupRule

    @classmethod
    async def load(cls, workspace_id: PydanticObjectId, patch: BulkPatch) -> ListRules:
        ids = [c.field_id for c in patch.custom_values]
        found = (
            await CustomField.find({"workspace_id": workspace_id, "_id": {"$in": ids}}).to_list()
            if ids
            else []
        )
        fields = {f.id: f for f in found if f.id is not None}
        return cls(patch, fields, await required_fields(workspace_id), await GroupRule.load(workspace_id))

    def problems(self, contact: Contact) -> list[tuple[ErrorCode, Path, str]]:
        """Why the patch may not change this contact: each problem's code, input path and cause."""
        found: list[tuple[ErrorCode, Path, str]] = []
        groups = self.patch.group_ids_for(contact)
        if self.group_rule.required and not groups and groups != contact.group_ids:
            found.append((ErrorCode.REQUIRED, ("patch", "remove_group_ids"), _NO_GROUP))
        for i, change in enumerate(self.patch.custom_values):
            field = self.fields.get(change.field_id)
            if field is not None and not applies(field, groups):
                cause = f"Custom field {field.key!r} belongs to a list (group) the contact is not in"
                found.append((ErrorCode.INVALID, ("patch", "custom_fields", i, "key"), cause))
        values = {v.field_id: v.value for v in contact.custom_values}
        values.update({c.field_id: c.value for c in self.patch.custom_values})
        for field in lacking(self.required, groups, values, contact):
            cause = f"Custom field {field.key!r} is required by a list the contact would join, and is empty"
            found.append((ErrorCode.REQUIRED, ("patch", "add_group_ids"), cause))
        return found

    def allows(self, contact: Contact) -> bool:
        return not self.problems(contact)


_NO_GROUP = (
    "This workspace requires every contact to be in a group, and the edit would leave the contact in none"
)


def refusals(rules: ListRules, contacts: Iterable[Contact]) -> list[DomainError]:
    """One error per problem the list rules find, naming the contacts it concerns (a few, then a count)."""
    by_problem: dict[tuple[ErrorCode, Path, str], list[Contact]] = {}
    for contact in contacts:
        for problem in rules.problems(contact):
            by_problem.setdefault(problem, []).append(contact)
    return [
        DomainError(code, f"{cause}: {named(found)}.", path)
        for (code, path, cause), found in by_problem.items()
    ]
